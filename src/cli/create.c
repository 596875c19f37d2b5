/* corral create: read a domain file and its overrides, check them, and
 * (with -n) print the domain that would be created. */
#include "cli/commands.h"
#include "config/domain_config.h"
#include "config/xlcfg.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char create_usage[] =
	"usage: corral create [-n] FILE [KEY=VALUE...]\n"
	"\n"
	"Creates a domain from FILE, an xl.cfg(5) domain file. Each KEY=VALUE is one\n"
	"more statement in the same syntax, read after the file, so it replaces the\n"
	"file's value (memory=1024) or extends it (vif+=['bridge=br1']).\n"
	"\n"
	"  -n, --dry-run  check everything and print the domain as JSON; start nothing\n"
	"  -h, --help     this text\n";

/* Reads the file and the overrides into cfg, then builds the domain;
 * every message goes to stderr. */
static int load(struct domain_config *dc, const char *path, int noverrides, char **overrides)
{
	const struct domain_config_options opt = { .check_files = true };
	struct xlcfg cfg;
	struct diag d;
	int err;

	xlcfg_init(&cfg);
	diag_init(&d);
	err = xlcfg_parse_file(&cfg, path, &d);
	for (int i = 0; i < noverrides; i++) {
		char source[32];

		snprintf(source, sizeof(source), "argument %d", i + 1);
		if (xlcfg_parse(&cfg, overrides[i], strlen(overrides[i]), source, &d) < 0)
			err = -1;
	}
	if (!err)
		err = domain_config_from_xlcfg(dc, &cfg, &opt, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	xlcfg_free(&cfg);
	return err;
}

int cmd_create(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct domain_config dc;
	bool dry_run = false;
	int c;

	while ((c = getopt_long(argc, argv, "+nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'h':
			fputs(create_usage, stdout);
			return EXIT_OK;
		default:
			fputs(create_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(create_usage, stderr);
		return EXIT_USAGE;
	}
	if (load(&dc, argv[optind], argc - optind - 1, argv + optind + 1) < 0)
		return EXIT_FAILED;
	if (!dry_run) {
		fprintf(stderr, "corral create: starting domains needs corrald, which is not "
			"written yet; -n checks the file\n");
		domain_config_free(&dc);
		return EXIT_FAILED;
	}
	json_t *json = domain_config_to_json(&dc);

	domain_config_free(&dc);
	if (!json || json_dumpf(json, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
		json_decref(json);
		fprintf(stderr, "corral create: out of memory\n");
		return EXIT_FAILED;
	}
	json_decref(json);
	putchar('\n');
	return EXIT_OK;
}
