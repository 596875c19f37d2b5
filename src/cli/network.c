/* corral network create|list|show|destroy: corrald's managed networks. */
#include "cli/client.h"
#include "cli/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: corral network create FILE\n"
	"       corral network list\n"
	"       corral network show [--json] NAME\n"
	"       corral network destroy NAME\n"
	"\n"
	"Managed networks (docs/networks.md): a bridge with the host's address on it,\n"
	"DHCP and DNS for its domains (dnsmasq) and an L2 guard (nftables) that keeps\n"
	"DHCP, DNS and discovery traffic inside and domains to their own MAC and address.\n"
	"A domain joins one with vif = ['bridge=NAME, ip=ADDRESS'].\n"
	"\n"
	"  create FILE   make the network FILE defines; its errors are printed as\n"
	"                FILE:LINE:COL: error: ...\n"
	"  list          the networks, a line each\n"
	"  show NAME     a network: its settings, its domains and their addresses,\n"
	"                the leases, and what the guard dropped (--json: as corrald\n"
	"                sends it)\n"
	"  destroy NAME  remove the network: bridge, dnsmasq and rules (refused while\n"
	"                domains are on it)\n"
	"  -h, --help    this text\n";

static const char *text_or_dash(json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s : "-";
}

static const char *field(json_t *obj, const char *key)
{
	return text_or_dash(json_object_get(obj, key));
}

static int create(const char *path)
{
	struct client_reply reply;
	size_t len, errors = 0;
	char *text = read_config_file("network", path, &len);
	json_t *body;
	int status;

	if (!text)
		return EXIT_FAILED;
	if (!text_is_utf8(text, len, path) || !text_is_utf8(path, strlen(path), NULL)) {
		free(text);
		return EXIT_FAILED;
	}
	body = json_pack("{s:s%, s:s}", "config", text, len, "source", path);
	free(text);
	status = body ? client_request("network", "POST", "/v1/networks", body, &reply) : -1;
	json_decref(body);
	if (status < 0)
		return EXIT_FAILED;
	if (reply.status == 201) {
		client_print_messages(&reply, &errors);
		status = EXIT_OK;
	} else {
		status = client_fail("network", &reply);
	}
	client_reply_free(&reply);
	return status;
}

static int list(void)
{
	struct client_reply reply;
	size_t i;
	json_t *net;

	if (client_request("network", "GET", "/v1/networks", NULL, &reply) < 0)
		return EXIT_FAILED;
	if (reply.status != 200 || !json_is_array(reply.body)) {
		int status = client_fail("network", &reply);

		client_reply_free(&reply);
		return status;
	}
	printf("%-15s %-18s %-31s %-20s %-15s %s\n", "Name", "Address", "DHCP range",
	       "DNS domain", "Uplink", "Domains");
	json_array_foreach(reply.body, i, net)
		printf("%-15s %-18s %-31s %-20s %-15s %lld\n", field(net, "name"),
		       field(net, "address"), field(net, "dhcp_range"), field(net, "dns_domain"),
		       field(net, "uplink"),
		       (long long)json_integer_value(json_object_get(net, "domains")));
	client_reply_free(&reply);
	return EXIT_OK;
}

static void show_settings(json_t *net)
{
	static const char *const keys[] = { "name", "address", "dhcp_range", "gateway",
					    "dns_domain", "uplink" };
	json_t *kept = json_object_get(net, "keep_inside"), *v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("%-13s: %s\n", keys[i], field(net, keys[i]));
	printf("%-13s: %s\n", "isolated",
	       json_is_true(json_object_get(net, "isolated")) ? "yes" : "no");
	printf("%-13s: %s\n", "dhcp_servers",
	       json_is_true(json_object_get(net, "dhcp_servers")) ? "allowed" : "dropped");
	printf("%-13s:", "keep_inside");
	json_array_foreach(kept, i, v)
		printf(" %s", json_string_value(v));
	printf("%s\n", json_array_size(kept) ? "" : " -");
	printf("%-13s: pid %lld\n", "dnsmasq",
	       (long long)json_integer_value(json_object_get(net, "dnsmasq_pid")));
}

static void show_members(json_t *members)
{
	json_t *m, *alias;
	size_t i, a;

	printf("\n%-20s %-15s %-17s %-25s %s\n", "Domain", "Vif", "MAC", "IP", "DNS aliases");
	json_array_foreach(members, i, m) {
		char ip[48];

		snprintf(ip, sizeof(ip), "%s%s", field(m, "ip"),
			 json_is_true(json_object_get(m, "reserved")) ? " (reserved)" :
			 json_is_string(json_object_get(m, "ip")) ? " (leased)" : "");
		printf("%-20s %-15s %-17s %-25s", field(m, "domain"), field(m, "vif"),
		       field(m, "mac"), ip);
		json_array_foreach(json_object_get(m, "dns_aliases"), a, alias)
			printf(" %s", json_string_value(alias));
		printf("\n");
	}
}

/* The guard's counters: every object holding "packets" is one row, named
 * by the keys that lead to it ("uplink dhcp_in", "vif3.0 mac"). */
static void show_drops(json_t *obj, const char *prefix)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char name[128];

		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? " " : "", key);
		if (json_object_get(v, "packets"))
			printf("%-40s %12lld %14lld\n", name,
			       (long long)json_integer_value(json_object_get(v, "packets")),
			       (long long)json_integer_value(json_object_get(v, "bytes")));
		else if (json_is_object(v))
			show_drops(v, name);
	}
}

static int show(const char *name, bool as_json)
{
	struct client_reply reply;
	char path[64];

	snprintf(path, sizeof(path), "/v1/networks/%s", name);
	if (client_request("network", "GET", path, NULL, &reply) < 0)
		return EXIT_FAILED;
	if (reply.status != 200 || !json_is_object(reply.body)) {
		int status = client_fail("network", &reply);

		client_reply_free(&reply);
		return status;
	}
	if (as_json) {
		json_dumpf(reply.body, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		show_settings(reply.body);
		show_members(json_object_get(reply.body, "members"));
		printf("\n%-40s %12s %14s\n", "Dropped", "Packets", "Bytes");
		show_drops(json_object_get(reply.body, "drops"), "");
	}
	client_reply_free(&reply);
	return EXIT_OK;
}

static int destroy(const char *name)
{
	struct client_reply reply;
	char path[64];
	int status;

	snprintf(path, sizeof(path), "/v1/networks/%s", name);
	if (client_request("network", "DELETE", path, NULL, &reply) < 0)
		return EXIT_FAILED;
	status = reply.status == 200 ? EXIT_OK : client_fail("network", &reply);
	client_reply_free(&reply);
	return status;
}

/* A network's name goes into a URL as it is: an interface name. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 15)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		      "-_.") == len;
}

int cmd_network(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool as_json = false;
	const char *sub;
	int c;

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		if (c != 'j' || strcmp(sub, "show")) {
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
		as_json = true;
	}
	if (!strcmp(sub, "list") && optind == argc)
		return list();
	if (!strcmp(sub, "create") && optind + 1 == argc)
		return create(argv[optind]);
	if ((!strcmp(sub, "show") || !strcmp(sub, "destroy")) && optind + 1 == argc) {
		if (!name_ok(argv[optind])) {
			fprintf(stderr, "corral network: '%s' is not a network's name\n",
				argv[optind]);
			return EXIT_USAGE;
		}
		return !strcmp(sub, "show") ? show(argv[optind], as_json) : destroy(argv[optind]);
	}
	fputs(usage, stderr);
	return EXIT_USAGE;
}
