/* corral: the xl-like command line. */
#include "cli/commands.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *args, *summary;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "create", "[-n] FILE [KEY=VALUE...]", "create a domain from an xl.cfg file", cmd_create },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: corral COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %-26s %s\n", commands[i].name, commands[i].args,
			commands[i].summary);
	fprintf(out, "\n'corral COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	log_init("corral", LOG_LEVEL_WARN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "corral: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
