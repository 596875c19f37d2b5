/* corral list: the domains, in xl's columns or as JSON. */
#include "cli/client.h"
#include "cli/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char list_usage[] =
	"usage: corral list [-l] [NAME...]\n"
	"\n"
	"Lists the domains (or those named; a NAME may also be a domain ID), one a\n"
	"line: Name, ID ('-' when not running), Mem (MiB), VCPUs, State (running,\n"
	"paused, shutting-down, shutoff, crashed) and Time(s), the CPU time used.\n"
	"\n"
	"  -l, --long  print the domains as a JSON array instead\n"
	"  -h, --help  this text\n";

#define ROW "%-40s %5s %5s %5s %-13s %8s\n"

static const char *str_or(json_t *v, const char *fallback)
{
	const char *s = json_string_value(v);

	return s ? s : fallback;
}

/* An integer field as text ("-" if absent, null, or 0 where 0 means none). */
static const char *int_text(json_t *v, bool zero_is_none, char *buf, size_t size)
{
	if (!json_is_integer(v) || (zero_is_none && !json_integer_value(v)))
		return "-";
	snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	return buf;
}

static void print_row(json_t *dom)
{
	char id[24], mem[24], vcpus[24], secs[32] = "-";
	json_t *cpu_time = json_object_get(dom, "time");

	if (json_is_number(cpu_time))
		snprintf(secs, sizeof(secs), "%.1f", json_number_value(cpu_time));
	/* A domain that is not running has no ID: corrald says 0 (or null). */
	printf(ROW, str_or(json_object_get(dom, "name"), "?"),
	       int_text(json_object_get(dom, "id"), true, id, sizeof(id)),
	       int_text(json_object_get(dom, "memory"), false, mem, sizeof(mem)),
	       int_text(json_object_get(dom, "vcpus"), false, vcpus, sizeof(vcpus)),
	       str_or(json_object_get(dom, "state"), "?"), secs);
}

int fetch_domains(const char *cmd, char **names, int nnames, json_t **out)
{
	struct client_reply reply;
	int status = EXIT_OK;
	json_t *all;

	*out = NULL;
	if (!nnames) {
		if (client_request(cmd, "GET", "/v1/domains", NULL, &reply) < 0)
			return EXIT_FAILED;
		if (reply.status != 200 || !json_is_array(reply.body)) {
			status = reply.status == 200 ? EXIT_FAILED : client_fail(cmd, &reply);
			if (reply.status == 200)
				fprintf(stderr, "corral %s: corrald's reply is not a list\n", cmd);
			client_reply_free(&reply);
			return status;
		}
		*out = reply.body;
		return EXIT_OK;
	}
	all = json_array();
	if (!all) {
		fprintf(stderr, "corral %s: out of memory\n", cmd);
		return EXIT_FAILED;
	}
	for (int i = 0; i < nnames; i++) {
		char path[128];

		if (!client_name_ok(names[i])) {
			fprintf(stderr, "corral %s: no domain '%s'\n", cmd, names[i]);
			status = EXIT_FAILED;
			continue;
		}
		client_domain_path(path, sizeof(path), names[i], NULL);
		if (client_request(cmd, "GET", path, NULL, &reply) < 0) {
			json_decref(all);
			return EXIT_FAILED;
		}
		if (reply.status == 200 && json_is_object(reply.body))
			json_array_append(all, reply.body);
		else
			status = client_fail(cmd, &reply);
		client_reply_free(&reply);
	}
	*out = all;
	return status;
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	json_t *doms, *dom;
	size_t i;
	int c, status;

	while ((c = getopt_long(argc, argv, "+lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			json = true;
			break;
		case 'h':
			fputs(list_usage, stdout);
			return EXIT_OK;
		default:
			fputs(list_usage, stderr);
			return EXIT_USAGE;
		}
	}
	status = fetch_domains("list", argv + optind, argc - optind, &doms);
	if (!doms)
		return status;
	if (json) {
		if (json_dumpf(doms, stdout, JSON_INDENT(2)) < 0)
			status = EXIT_FAILED;
		else
			putchar('\n');
	} else {
		printf(ROW, "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
		json_array_foreach(doms, i, dom)
			print_row(dom);
	}
	json_decref(doms);
	if (fflush(stdout) == EOF) {
		perror("corral list: stdout");
		status = EXIT_FAILED;
	}
	return status;
}
