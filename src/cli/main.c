/* corral: the xl-like command line. */
#include "cli/client.h"
#include "cli/commands.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *args, *summary;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "create", "[-n|-c] FILE [KEY=VALUE...]", "create a domain from an xl.cfg file",
	  cmd_create },
	{ "list", "[-l] [NAME...]", "list the domains", cmd_list },
	{ "shutdown", "[-w] [-F [-t SECS]] NAME", "shut a domain down (ACPI power button)",
	  cmd_shutdown },
	{ "reboot", "[-w] NAME", "reboot a domain (ACPI power button, then on_reboot)",
	  cmd_reboot },
	{ "destroy", "NAME", "stop a domain at once", cmd_destroy },
	{ "console", "[-f] NAME", "attach to a domain's serial console", cmd_console },
	{ "pause", "NAME", "pause a domain", cmd_pause },
	{ "unpause", "NAME", "let a paused domain run again", cmd_unpause },
	{ "uptime", "[NAME...]", "how long the domains have run", cmd_uptime },
	{ "vcpu-list", "[NAME...]", "the domains' vCPUs", cmd_vcpu_list },
	{ "domid", "NAME", "a domain's ID", cmd_domid },
	{ "domname", "ID", "a domain's name", cmd_domname },
	{ "info", "", "the host", cmd_info },
	{ "network", "create|list|show|destroy", "managed networks: bridges, DHCP/DNS, L2 guard",
	  cmd_network },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: corral [--socket PATH] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-9s %-27s %s\n", commands[i].name, commands[i].args,
			commands[i].summary);
	fprintf(out, "\noptions:\n"
		"  --socket PATH  corrald's socket (default: $CORRAL_SOCKET, else %s)\n"
		"  -h, --help     this text\n"
		"\n'corral COMMAND --help' describes a command.\n", CLIENT_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	int i = 1, status;

	log_init("corral", LOG_LEVEL_WARN);
	/* Options before the command are corral's own. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(arg, "--socket") && i + 1 < argc && *argv[i + 1]) {
			client_set_socket(argv[++i]);
		} else if (!strncmp(arg, "--socket=", 9) && arg[9]) {
			client_set_socket(arg + 9);
		} else {
			if (!strncmp(arg, "--socket", 8))
				fprintf(stderr, "corral: --socket needs a PATH\n");
			else
				fprintf(stderr, "corral: unknown option '%s'\n", arg);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
		if (!strcmp(argv[i], commands[c].name)) {
			status = commands[c].run(argc - i, argv + i);
			client_cleanup();
			return status;
		}
	}
	fprintf(stderr, "corral: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
