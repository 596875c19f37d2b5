/* corral shutdown and corral destroy: stopping a domain, politely or not. */
#include "cli/client.h"
#include "cli/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_POLL_MS 250
#define SHUTDOWN_TIMEOUT_MAX 86400	/* as corrald takes it */

static const char shutdown_usage[] =
	"usage: corral shutdown [-w] [-F [-t SECONDS]] NAME\n"
	"\n"
	"Asks domain NAME (a name or an ID) to shut down by pressing its ACPI power\n"
	"button; the guest decides how. Returns at once unless -w.\n"
	"\n"
	"  -w, --wait           wait until the domain has shut down\n"
	"  -F, --force          if the guest has not shut down after the timeout, stop\n"
	"                       it as destroy does\n"
	"  -t, --timeout SECS   the timeout of -F (default: corrald's, 60 seconds)\n"
	"  -h, --help           this text\n";

static const char destroy_usage[] =
	"usage: corral destroy NAME\n"
	"\n"
	"Stops domain NAME (a name or an ID) at once, as pulling its power cord, and\n"
	"forgets it.\n"
	"\n"
	"  -h, --help  this text\n";

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* GET /v1/domains/NAME: 0 with the domain in *dom, 1 if there is no such
 * domain, -1 on another failure (reported). */
static int get_domain(const char *cmd, const char *name, json_t **dom)
{
	struct client_reply reply;
	char path[128];

	*dom = NULL;
	client_domain_path(path, sizeof(path), name, NULL);
	if (client_request(cmd, "GET", path, NULL, &reply) < 0)
		return -1;
	if (reply.status == 404) {
		client_reply_free(&reply);
		return 1;
	}
	if (reply.status != 200 || !json_is_object(reply.body)) {
		client_fail(cmd, &reply);
		client_reply_free(&reply);
		return -1;
	}
	*dom = reply.body;
	return 0;
}

static json_int_t int_field(json_t *dom, const char *key)
{
	return json_integer_value(json_object_get(dom, key));
}

/*
 * Waits until the domain `before` described has shut down: it is gone, shut
 * off or crashed, or it runs again as another VMM (on_poweroff="restart").
 */
static int wait_shutdown(const char *name, json_t *before)
{
	json_int_t pid = int_field(before, "pid"), id = int_field(before, "id");

	for (;;) {
		json_t *dom;
		const char *state;
		int rc = get_domain("shutdown", name, &dom);

		if (rc)
			return rc > 0 ? EXIT_OK : EXIT_FAILED;
		state = json_string_value(json_object_get(dom, "state"));
		if (state && !strcmp(state, "crashed")) {
			fprintf(stderr, "corral shutdown: domain '%s' crashed\n", name);
			json_decref(dom);
			return EXIT_FAILED;
		}
		rc = (state && !strcmp(state, "shutoff")) || int_field(dom, "pid") != pid ||
		     int_field(dom, "id") != id;
		json_decref(dom);
		if (rc)
			return EXIT_OK;
		sleep_ms(WAIT_POLL_MS);
	}
}

int cmd_shutdown(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool do_wait = false, force = false;
	long timeout = 0;
	struct client_reply reply;
	json_t *req, *before = NULL;
	const char *arg, *name;
	char path[128], *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "+wFt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			do_wait = true;
			break;
		case 'F':
			force = true;
			break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end || end == optarg || timeout < 1 || timeout > SHUTDOWN_TIMEOUT_MAX) {
				fprintf(stderr, "corral shutdown: -t takes seconds, 1 to %d\n",
					SHUTDOWN_TIMEOUT_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(shutdown_usage, stdout);
			return EXIT_OK;
		default:
			fputs(shutdown_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (timeout && !force)) {
		fputs(shutdown_usage, stderr);
		return EXIT_USAGE;
	}
	arg = argv[optind];
	if (!client_name_ok(arg)) {
		fprintf(stderr, "corral shutdown: no domain '%s'\n", arg);
		return EXIT_FAILED;
	}
	name = arg;
	if (do_wait) {
		/* Follow the domain by name: an ID goes when the domain stops. */
		rc = get_domain("shutdown", arg, &before);
		if (rc) {
			if (rc > 0)
				fprintf(stderr, "corral shutdown: no domain '%s'\n", arg);
			return EXIT_FAILED;
		}
		name = json_string_value(json_object_get(before, "name"));
		if (!name || !client_name_ok(name))
			name = arg;
	}

	req = timeout ? json_pack("{s:b, s:I}", "force", force, "timeout", (json_int_t)timeout)
		      : json_pack("{s:b}", "force", force);
	client_domain_path(path, sizeof(path), name, "shutdown");
	rc = req ? client_request("shutdown", "POST", path, req, &reply) : -1;
	json_decref(req);
	if (rc < 0) {
		json_decref(before);
		return EXIT_FAILED;
	}
	rc = reply.status == 202 ? EXIT_OK : client_fail("shutdown", &reply);
	client_reply_free(&reply);
	if (rc == EXIT_OK && do_wait)
		rc = wait_shutdown(name, before);
	json_decref(before);
	return rc;
}

int cmd_destroy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct client_reply reply;
	char path[128];
	int c, rc;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(destroy_usage, stdout);
			return EXIT_OK;
		default:
			fputs(destroy_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(destroy_usage, stderr);
		return EXIT_USAGE;
	}
	if (!client_name_ok(argv[optind])) {
		fprintf(stderr, "corral destroy: no domain '%s'\n", argv[optind]);
		return EXIT_FAILED;
	}
	client_domain_path(path, sizeof(path), argv[optind], "destroy");
	if (client_request("destroy", "POST", path, NULL, &reply) < 0)
		return EXIT_FAILED;
	rc = reply.status == 200 ? EXIT_OK : client_fail("destroy", &reply);
	client_reply_free(&reply);
	return rc;
}
