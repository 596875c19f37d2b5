/* corral create: send a domain file and its overrides to corrald, which
 * checks them and starts the domain (or, with -n, only checks them). */
#include "cli/client.h"
#include "cli/commands.h"

#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char create_usage[] =
	"usage: corral create [-n | [-c] [-p]] FILE [KEY=VALUE...]\n"
	"\n"
	"Creates and starts a domain from FILE, an xl.cfg(5) domain file. Each\n"
	"KEY=VALUE is one more statement in the same syntax, read after the file, so\n"
	"it replaces the file's value (memory=1024) or extends it (vif+=['bridge=br1']).\n"
	"corrald checks everything; its errors and warnings are printed on stderr as\n"
	"FILE:LINE:COL: error: ... Nothing else is printed on success.\n"
	"\n"
	"  -n, --dry-run  check everything and print the domain as JSON; start nothing\n"
	"  -c, --console  attach to the domain's console once it runs (corral console)\n"
	"  -p, --paused   leave the domain paused before its first instruction\n"
	"                 (corral unpause starts it)\n"
	"  -h, --help     this text\n";

/* The request: {"config", "source", "overrides", "dry_run", "paused"};
 * NULL (with a message) if some text cannot go into JSON. */
static json_t *request(const char *path, const char *text, size_t len, int noverrides,
		       char **overrides, bool dry_run, bool paused)
{
	json_t *ov = json_array();
	bool ok;

	if (!text_is_utf8(path, strlen(path), NULL)) {
		fprintf(stderr, "corral create: the file name is not UTF-8 text; rename the file\n");
		json_decref(ov);
		return NULL;
	}
	ok = text_is_utf8(text, len, path);

	for (int i = 0; ok && i < noverrides; i++) {
		char source[32];

		snprintf(source, sizeof(source), "argument %d", i + 1);
		ok = text_is_utf8(overrides[i], strlen(overrides[i]), source) &&
		     !json_array_append_new(ov, json_string(overrides[i]));
	}
	if (!ok) {
		json_decref(ov);
		return NULL;
	}
	return json_pack("{s:s%, s:s, s:o, s:b, s:b}", "config", text, len, "source", path,
			 "overrides", ov, "dry_run", dry_run, "paused", paused);
}

/* create -c: the console of the domain corrald just started. */
static int attach_created(const struct client_reply *reply)
{
	const char *name = json_string_value(json_object_get(json_object_get(reply->body, "domain"),
							     "name"));

	if (!name) {
		fprintf(stderr, "corral create: corrald's reply has no domain\n");
		return EXIT_FAILED;
	}
	return attach_console(name, false);
}

int cmd_create(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "console", no_argument, NULL, 'c' },
		{ "paused", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct client_reply reply;
	bool dry_run = false, console = false, paused = false;
	const char *path;
	json_t *req;
	char *text;
	size_t len;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+ncph", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'c':
			console = true;
			break;
		case 'p':
			paused = true;
			break;
		case 'h':
			fputs(create_usage, stdout);
			return EXIT_OK;
		default:
			fputs(create_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || (dry_run && (console || paused))) {
		fputs(create_usage, stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];
	text = read_config_file("create", path, &len);
	if (!text)
		return EXIT_FAILED;
	req = request(path, text, len, argc - optind - 1, argv + optind + 1, dry_run, paused);
	free(text);
	if (!req)
		return EXIT_FAILED;
	rc = client_request("create", "POST", "/v1/domains", req, &reply);
	json_decref(req);
	if (rc < 0)
		return EXIT_FAILED;
	if (reply.status != 200 && reply.status != 201) {
		rc = client_fail("create", &reply);
		client_reply_free(&reply);
		return rc;
	}
	client_print_messages(&reply, NULL);
	rc = EXIT_OK;
	if (console)
		rc = attach_created(&reply);
	if (dry_run) {
		json_t *dom = json_object_get(reply.body, "domain");

		if (!dom || json_dumpf(dom, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0) {
			fprintf(stderr, "corral create: corrald's reply has no domain\n");
			rc = EXIT_FAILED;
		} else {
			putchar('\n');
		}
	}
	client_reply_free(&reply);
	return rc;
}
