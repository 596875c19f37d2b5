/*
 * The corral command line: one function per subcommand (`corral create`,
 * ...), each taking the arguments after its name and returning the exit
 * status (0 success, 1 the operation failed, 2 bad usage), so that scripts
 * can rely on it. main.c holds the table that maps names to them and prints
 * the usage text from it. The commands talk to corrald through client.h.
 */
#ifndef CORRAL_CLI_COMMANDS_H
#define CORRAL_CLI_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
};

int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_vcpu_list(int argc, char **argv);
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_network(int argc, char **argv);

/* Shared by the commands. */

/* The domains named in names (all of them if none) as a JSON array in *out
 * (NULL only if nothing could be fetched); an exit status, failures
 * reported as "corral CMD: ...". */
int fetch_domains(const char *cmd, char **names, int nnames, json_t **out);
/* GET /v1/domains/NAME: 0 with the domain in *dom, 1 if there is no such
 * domain, -1 on another failure (reported). */
int get_domain(const char *cmd, const char *name, json_t **dom);
/* Domain and network files are at most this large, as corrald's parser
 * takes them (XLCFG_FILE_MAX). */
#define CONFIG_FILE_MAX (1024 * 1024)
/* Reads a whole configuration file; NULL after a message "PATH: error:
 * ...", as the parser words its own. The text need not end in NUL. */
char *read_config_file(const char *cmd, const char *path, size_t *len);
/* JSON carries text only: whether `text` is UTF-8; if not and `source` is
 * not NULL, reports the first bad byte as "source:line:col: error: ...". */
bool text_is_utf8(const char *text, size_t len, const char *source);

/* Domain NAME's console on this terminal until it closes or the user
 * detaches (console.c; create -c uses it too); an exit status. */
int attach_console(const char *name, bool force);

#endif
