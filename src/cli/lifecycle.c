/* corral shutdown, reboot, destroy, pause and unpause: a domain's power. */
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

static const char reboot_usage[] =
	"usage: corral reboot [-w] NAME\n"
	"\n"
	"Reboots domain NAME (a name or an ID): presses its ACPI power button, and\n"
	"when the guest has powered off, applies on_reboot (restart by default) as if\n"
	"it had rebooted itself. Returns at once unless -w.\n"
	"\n"
	"  -w, --wait  wait until the domain has gone down (and is up again, for\n"
	"              on_reboot=\"restart\")\n"
	"  -h, --help  this text\n";

static const char destroy_usage[] =
	"usage: corral destroy NAME\n"
	"\n"
	"Stops domain NAME (a name or an ID) at once, as pulling its power cord, and\n"
	"forgets it.\n"
	"\n"
	"  -h, --help  this text\n";

static const char pause_usage[] =
	"usage: corral pause NAME\n"
	"\n"
	"Pauses domain NAME (a name or an ID): its vCPUs stop and its clocks stand\n"
	"still until corral unpause. Its memory stays allocated.\n"
	"\n"
	"  -h, --help  this text\n";

static const char unpause_usage[] =
	"usage: corral unpause NAME\n"
	"\n"
	"Lets paused domain NAME (a name or an ID) run again.\n"
	"\n"
	"  -h, --help  this text\n";

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int get_domain(const char *cmd, const char *name, json_t **dom)
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
static int wait_shutdown(const char *cmd, const char *name, json_t *before)
{
	json_int_t pid = int_field(before, "pid"), id = int_field(before, "id");

	for (;;) {
		json_t *dom;
		const char *state;
		int rc = get_domain(cmd, name, &dom);

		if (rc)
			return rc > 0 ? EXIT_OK : EXIT_FAILED;
		state = json_string_value(json_object_get(dom, "state"));
		if (state && !strcmp(state, "crashed")) {
			fprintf(stderr, "corral %s: domain '%s' crashed\n", cmd, name);
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

/* A power-button command (shutdown, reboot) and its options. */
struct power_request {
	const char *cmd;		/* "shutdown" or "reboot", also the API action */
	const char *usage;
	bool wait, force;
	long timeout;
};

static int parse_power_options(struct power_request *p, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* Only shutdown has -F and -t. */
	const char *shortopts = strcmp(p->cmd, "shutdown") ? "+wh" : "+wFt:h";
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			p->wait = true;
			break;
		case 'F':
			p->force = true;
			break;
		case 't':
			p->timeout = strtol(optarg, &end, 10);
			if (*end || end == optarg || p->timeout < 1 ||
			    p->timeout > SHUTDOWN_TIMEOUT_MAX) {
				fprintf(stderr, "corral shutdown: -t takes seconds, 1 to %d\n",
					SHUTDOWN_TIMEOUT_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(p->usage, stdout);
			return -1;
		default:
			fputs(p->usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (p->timeout && !p->force)) {
		fputs(p->usage, stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int power_button(struct power_request *p, int argc, char **argv)
{
	struct client_reply reply;
	json_t *req, *before = NULL;
	const char *arg, *name;
	char path[128];
	int rc = parse_power_options(p, argc, argv);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	arg = argv[optind];
	if (!client_name_ok(arg)) {
		fprintf(stderr, "corral %s: no domain '%s'\n", p->cmd, arg);
		return EXIT_FAILED;
	}
	name = arg;
	if (p->wait) {
		/* Follow the domain by name: an ID goes when the domain stops. */
		rc = get_domain(p->cmd, arg, &before);
		if (rc) {
			if (rc > 0)
				fprintf(stderr, "corral %s: no domain '%s'\n", p->cmd, arg);
			return EXIT_FAILED;
		}
		name = json_string_value(json_object_get(before, "name"));
		if (!name || !client_name_ok(name))
			name = arg;
	}

	req = !p->force ? NULL :
	      p->timeout ? json_pack("{s:b, s:I}", "force", 1, "timeout", (json_int_t)p->timeout) :
	      json_pack("{s:b}", "force", 1);
	client_domain_path(path, sizeof(path), name, p->cmd);
	rc = !p->force || req ? client_request(p->cmd, "POST", path, req, &reply) : -1;
	json_decref(req);
	if (rc < 0) {
		json_decref(before);
		return EXIT_FAILED;
	}
	rc = reply.status == 202 ? EXIT_OK : client_fail(p->cmd, &reply);
	client_reply_free(&reply);
	if (rc == EXIT_OK && p->wait)
		rc = wait_shutdown(p->cmd, name, before);
	json_decref(before);
	return rc;
}

int cmd_shutdown(int argc, char **argv)
{
	struct power_request p = { .cmd = "shutdown", .usage = shutdown_usage };

	return power_button(&p, argc, argv);
}

int cmd_reboot(int argc, char **argv)
{
	struct power_request p = { .cmd = "reboot", .usage = reboot_usage };

	return power_button(&p, argc, argv);
}

/* `corral ACTION NAME`: POST /v1/domains/NAME/ACTION with no body. */
static int domain_action(const char *action, const char *usage, int argc, char **argv)
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
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!client_name_ok(argv[optind])) {
		fprintf(stderr, "corral %s: no domain '%s'\n", action, argv[optind]);
		return EXIT_FAILED;
	}
	client_domain_path(path, sizeof(path), argv[optind], action);
	if (client_request(action, "POST", path, NULL, &reply) < 0)
		return EXIT_FAILED;
	rc = reply.status == 200 ? EXIT_OK : client_fail(action, &reply);
	client_reply_free(&reply);
	return rc;
}

int cmd_destroy(int argc, char **argv)
{
	return domain_action("destroy", destroy_usage, argc, argv);
}

int cmd_pause(int argc, char **argv)
{
	return domain_action("pause", pause_usage, argc, argv);
}

int cmd_unpause(int argc, char **argv)
{
	return domain_action("unpause", unpause_usage, argc, argv);
}
