/* corral info, uptime, vcpu-list, domid and domname: what the host and the
 * domains are, in xl's layout. */
#include "cli/client.h"
#include "cli/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char info_usage[] =
	"usage: corral info\n"
	"\n"
	"Describes the host as corrald sees it, one 'key : value' a line: host name,\n"
	"kernel, CPUs, memory (MiB; free_memory is what the host could still give),\n"
	"corral's version, how many domains there are and run, and the memory the\n"
	"running ones were given.\n"
	"\n"
	"  -h, --help  this text\n";

static const char uptime_usage[] =
	"usage: corral uptime [NAME...]\n"
	"\n"
	"How long each running domain (or each one named) has run since it was last\n"
	"started (a reboot starts it again): Name, ID, Uptime as [D days, ]HH:MM:SS.\n"
	"\n"
	"  -h, --help  this text\n";

static const char vcpu_list_usage[] =
	"usage: corral vcpu-list [NAME...]\n"
	"\n"
	"The vCPUs of each running domain (or each one named): Name, ID, VCPU, the\n"
	"host CPU it last ran on, State (r-- running, -b- blocked, --p paused),\n"
	"Time(s) of CPU used, and the host CPUs it may run on.\n"
	"\n"
	"  -h, --help  this text\n";

static const char domid_usage[] =
	"usage: corral domid NAME\n"
	"\n"
	"Prints the ID of running domain NAME.\n"
	"\n"
	"  -h, --help  this text\n";

static const char domname_usage[] =
	"usage: corral domname ID\n"
	"\n"
	"Prints the name of the domain with ID.\n"
	"\n"
	"  -h, --help  this text\n";

/* Options of a command that has only --help: optind is left at the first
 * operand. EXIT_OK to go on, -1 after --help, EXIT_USAGE. */
static int only_help(const char *usage, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return -1;
		}
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static bool running(json_t *dom)
{
	return json_integer_value(json_object_get(dom, "id")) > 0;
}

static const char *name_of(json_t *dom)
{
	const char *name = json_string_value(json_object_get(dom, "name"));

	return name ? name : "?";
}

static int finish(const char *cmd, int status)
{
	if (fflush(stdout) == EOF) {
		fprintf(stderr, "corral %s: stdout: write failed\n", cmd);
		return EXIT_FAILED;
	}
	return status;
}

int cmd_info(int argc, char **argv)
{
	static const char *const keys[] = {
		"host", "release", "version", "machine", "nr_cpus", "total_memory",
		"free_memory", "corral_version", "domains", "running", "domain_memory",
	};
	struct client_reply reply;
	int rc = only_help(info_usage, argc, argv);

	if (rc || optind != argc) {
		if (!rc)
			fputs(info_usage, stderr);
		return rc < 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (client_request("info", "GET", "/v1/host", NULL, &reply) < 0)
		return EXIT_FAILED;
	if (reply.status != 200 || !json_is_object(reply.body)) {
		rc = client_fail("info", &reply);
		client_reply_free(&reply);
		return rc;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(reply.body, keys[i]);

		if (json_is_string(v))
			printf("%-22s: %s\n", keys[i], json_string_value(v));
		else if (json_is_integer(v))
			printf("%-22s: %lld\n", keys[i], (long long)json_integer_value(v));
	}
	client_reply_free(&reply);
	return finish("info", EXIT_OK);
}

static void format_uptime(double seconds, char *buf, size_t size)
{
	unsigned long s = (unsigned long)seconds, days = s / 86400;

	s %= 86400;
	if (days)
		snprintf(buf, size, "%lu day%s, %02lu:%02lu:%02lu", days, days == 1 ? "" : "s",
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%02lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

/* One uptime row. */
static int print_uptime(json_t *dom)
{
	char up[48];

	format_uptime(json_number_value(json_object_get(dom, "uptime")), up, sizeof(up));
	printf("%-40s %5lld %s\n", name_of(dom),
	       (long long)json_integer_value(json_object_get(dom, "id")), up);
	return EXIT_OK;
}

/* uptime and vcpu-list: a header, then print() for each running domain (of
 * those named, or of all). */
static int table_of_running(const char *cmd, const char *usage, const char *header,
			    int (*print)(json_t *dom), int argc, char **argv)
{
	json_t *doms, *dom;
	size_t i;
	int status = only_help(usage, argc, argv);

	if (status)
		return status < 0 ? EXIT_OK : status;
	status = fetch_domains(cmd, argv + optind, argc - optind, &doms);
	if (!doms)
		return status;
	fputs(header, stdout);
	json_array_foreach(doms, i, dom)
		if (running(dom) && print(dom) != EXIT_OK)
			status = EXIT_FAILED;
	json_decref(doms);
	return finish(cmd, status);
}

int cmd_uptime(int argc, char **argv)
{
	char header[128];

	snprintf(header, sizeof(header), "%-40s %5s %s\n", "Name", "ID", "Uptime");
	return table_of_running("uptime", uptime_usage, header, print_uptime, argc, argv);
}

/* xl's three-letter vCPU states. */
static const char *state_letters(const char *state)
{
	if (!state)
		return "---";
	return !strcmp(state, "running") ? "r--" : !strcmp(state, "paused") ? "--p" : "-b-";
}

/* Prints one domain's vCPUs; an exit status. */
static int print_vcpus(json_t *dom)
{
	const char *name = name_of(dom);
	struct client_reply reply;
	char path[128];
	json_t *v;
	size_t i;
	int rc;

	if (!client_name_ok(name))
		return EXIT_FAILED;
	client_domain_path(path, sizeof(path), name, "vcpus");
	if (client_request("vcpu-list", "GET", path, NULL, &reply) < 0)
		return EXIT_FAILED;
	if (reply.status != 200 || !json_is_array(reply.body)) {
		rc = client_fail("vcpu-list", &reply);
		client_reply_free(&reply);
		return rc;
	}
	json_array_foreach(reply.body, i, v)
		printf("%-32s %5lld %5lld %5lld   %-3s %9.1f  %s\n", name,
		       (long long)json_integer_value(json_object_get(dom, "id")),
		       (long long)json_integer_value(json_object_get(v, "vcpu")),
		       (long long)json_integer_value(json_object_get(v, "cpu")),
		       state_letters(json_string_value(json_object_get(v, "state"))),
		       json_number_value(json_object_get(v, "time")),
		       json_string_value(json_object_get(v, "affinity")) ?
		       json_string_value(json_object_get(v, "affinity")) : "?");
	client_reply_free(&reply);
	return EXIT_OK;
}

int cmd_vcpu_list(int argc, char **argv)
{
	char header[128];

	snprintf(header, sizeof(header), "%-32s %5s %5s %5s   %-3s %9s  %s\n", "Name", "ID",
		 "VCPU", "CPU", "State", "Time(s)", "Affinity");
	return table_of_running("vcpu-list", vcpu_list_usage, header, print_vcpus, argc, argv);
}

/* domid and domname: one domain looked up, one field printed. */
static int print_field(const char *cmd, const char *usage, bool want_id, int argc, char **argv)
{
	const char *arg;
	json_t *dom;
	int rc = only_help(usage, argc, argv);

	if (rc || optind != argc - 1) {
		if (!rc)
			fputs(usage, stderr);
		return rc < 0 ? EXIT_OK : EXIT_USAGE;
	}
	arg = argv[optind];
	/* domname takes an ID only; an ID also looks up a domain by its name. */
	if (!want_id && strspn(arg, "0123456789") != strlen(arg)) {
		fprintf(stderr, "corral domname: '%s' is not a domain ID\n", arg);
		return EXIT_USAGE;
	}
	rc = client_name_ok(arg) ? get_domain(cmd, arg, &dom) : 1;
	if (rc) {
		if (rc > 0)
			fprintf(stderr, "corral %s: no domain '%s'\n", cmd, arg);
		return EXIT_FAILED;
	}
	if (want_id && !running(dom)) {
		fprintf(stderr, "corral domid: domain '%s' is not running\n", arg);
		json_decref(dom);
		return EXIT_FAILED;
	}
	if (want_id)
		printf("%lld\n", (long long)json_integer_value(json_object_get(dom, "id")));
	else
		printf("%s\n", name_of(dom));
	json_decref(dom);
	return finish(cmd, EXIT_OK);
}

int cmd_domid(int argc, char **argv)
{
	return print_field("domid", domid_usage, true, argc, argv);
}

int cmd_domname(int argc, char **argv)
{
	return print_field("domname", domname_usage, false, argc, argv);
}
