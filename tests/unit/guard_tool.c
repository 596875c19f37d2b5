/*
 * The L2 guard from the command line, for test_guard_traffic.sh: one
 * network described by arguments, applied with guard_apply(); the tables
 * removed; or a network's counters printed as guard_counters_json() has
 * them. Run it inside the network namespace whose rules it should change.
 *
 *   guard_tool apply NAME ADDRESS/PREFIX [uplink=IF] [isolated] [dhcp_servers]
 *                    [keep=mdns,llmnr,ssdp,netbios] [IF,MAC[,IP]]...
 *   guard_tool remove
 *   guard_tool counters NAME
 */
#include "common/log.h"
#include "net/guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MEMBERS 64

static int usage(void)
{
	fputs("usage: guard_tool apply NAME ADDRESS/PREFIX [uplink=IF] [isolated] [dhcp_servers]\n"
	      "                        [keep=mdns,llmnr,ssdp,netbios] [IF,MAC[,IP]]...\n"
	      "       guard_tool remove\n"
	      "       guard_tool counters NAME\n", stderr);
	return 2;
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	int end = 0;

	return sscanf(text, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2],
		      &mac[3], &mac[4], &mac[5], &end) == 6 && text[end] == '\0';
}

/* IF,MAC[,IP], taken apart in place. */
static int parse_member(char *arg, struct net_member *m)
{
	char *mac = strchr(arg, ',');
	char *ip = mac ? strchr(mac + 1, ',') : NULL;

	if (!mac)
		return 0;
	*mac++ = '\0';
	if (ip)
		*ip++ = '\0';
	m->ifname = arg;
	m->has_ip = ip != NULL;
	return parse_mac(mac, m->mac) && (!ip || inet_pton(AF_INET, ip, &m->ip) == 1);
}

static int parse_keep(char *list, unsigned *bits)
{
	static const char *const names[] = { "mdns", "llmnr", "ssdp", "netbios" };
	char *save = NULL;

	for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < 4 && strcmp(name, names[i]) != 0)
			i++;
		if (i == 4)
			return 0;
		*bits |= 1u << i;	/* enum net_discovery's order */
	}
	return 1;
}

static int parse_address(char *text, struct net_def *def)
{
	char *slash = strchr(text, '/');

	if (!slash)
		return 0;
	*slash = '\0';
	def->prefix = (unsigned)atoi(slash + 1);
	return inet_pton(AF_INET, text, &def->address) == 1;
}

/* One of the optional arguments of apply. */
static int parse_option(char *arg, struct net_def *def, struct net_member *m, size_t *n)
{
	if (strncmp(arg, "uplink=", 7) == 0)
		return snprintf(def->uplink, sizeof(def->uplink), "%s", arg + 7) < IFNAMSIZ;
	if (strcmp(arg, "isolated") == 0)
		return def->isolated = true;
	if (strcmp(arg, "dhcp_servers") == 0)
		return def->dhcp_servers = true;
	if (strncmp(arg, "keep=", 5) == 0)
		return parse_keep(arg + 5, &def->keep_inside);
	return *n < MAX_MEMBERS && parse_member(arg, &m[(*n)++]);
}

static int apply(int argc, char **argv)
{
	static struct net_member members[MAX_MEMBERS];
	struct net_def def = { 0 };
	struct guard_net net = { .def = &def, .members = members };

	if (argc < 2 || snprintf(def.name, sizeof(def.name), "%s", argv[0]) >= IFNAMSIZ ||
	    !parse_address(argv[1], &def))
		return usage();
	for (int i = 2; i < argc; i++)
		if (!parse_option(argv[i], &def, members, &net.nmembers)) {
			fprintf(stderr, "guard_tool: cannot read '%s'\n", argv[i]);
			return 2;
		}
	return guard_apply(&net, 1) == 0 ? 0 : 1;
}

static int counters(const char *name)
{
	json_t *all = guard_counters_json(name);
	char *text = all ? json_dumps(all, JSON_SORT_KEYS) : NULL;

	if (text)
		puts(text);
	free(text);
	json_decref(all);
	return text ? 0 : 1;
}

int main(int argc, char **argv)
{
	log_init(argv[0], LOG_LEVEL_INFO);
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return apply(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "remove") == 0)
		return guard_apply(NULL, 0) == 0 ? 0 : 1;
	if (argc == 3 && strcmp(argv[1], "counters") == 0)
		return counters(argv[2]);
	return usage();
}
