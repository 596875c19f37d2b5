/*
 * The corral command line: one function per subcommand (`corral create`,
 * ...), each taking the arguments after its name and returning the exit
 * status (0 success, 1 the operation failed, 2 bad usage), so that scripts
 * can rely on it. main.c holds the table that maps names to them and prints
 * the usage text from it. The commands talk to corrald through client.h.
 */
#ifndef CORRAL_CLI_COMMANDS_H
#define CORRAL_CLI_COMMANDS_H

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
};

int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_destroy(int argc, char **argv);

#endif
