/*
 * guard_apply: the L2 guard (src/net/guard.h) for one made-up network of N
 * running domains, for bench/net_guard.sh. Run it inside a network
 * namespace of its own: it replaces that namespace's tables bridge and
 * netdev corral.
 *
 *   guard_apply time N ROUNDS   per round: remove the tables, apply (first),
 *                               apply again (counters carried over); prints
 *                               `BENCH-GUARD-APPLY n=N round=R first_ms=X again_ms=Y`
 *   guard_apply keep N          applies once and leaves the rules in place
 *   guard_apply remove          removes the tables
 *
 * The network is corral0, 10.42.0.1/16, uplink eth1, every discovery
 * protocol kept inside; domain k (from 1) has tap vifK.0, MAC
 * 52:54:00:42:HI:LO and address 10.42.0.0 + 256 + k, so domains 1 and 2
 * are 10.42.1.1 and 10.42.1.2 (the benchmark's namespaces use those).
 * guard_apply() leaves out the taps and the uplink that do not exist (an
 * ingress chain needs its device): bench/net_guard.sh makes them all.
 */
#include "common/log.h"
#include "common/util.h"
#include "net/guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOMAINS 4096

static struct net_def def;
static struct net_member members[MAX_DOMAINS];
static char ifnames[MAX_DOMAINS][IFNAMSIZ];

static void make_network(unsigned n)
{
	strcpy(def.name, "corral0");
	strcpy(def.uplink, "eth1");
	def.address.s_addr = htonl(0x0a2a0001);
	def.prefix = 16;
	def.keep_inside = NET_DISCOVERY_MDNS | NET_DISCOVERY_LLMNR | NET_DISCOVERY_SSDP |
			  NET_DISCOVERY_NETBIOS;
	for (unsigned k = 1; k <= n; k++) {
		struct net_member *m = &members[k - 1];

		snprintf(ifnames[k - 1], IFNAMSIZ, "vif%u.0", k);
		m->ifname = ifnames[k - 1];
		memcpy(m->mac, (uint8_t[6]){ 0x52, 0x54, 0x00, 0x42, k >> 8, k & 0xff }, 6);
		m->has_ip = true;
		m->ip.s_addr = htonl(0x0a2a0000 + 256 + k);
	}
}

/* Milliseconds that one guard_apply() took, or -1 if it failed. */
static double timed_apply(const struct guard_net *net)
{
	uint64_t start = monotonic_ns();

	if (guard_apply(net, 1) < 0)
		return -1;
	return (double)(monotonic_ns() - start) / 1e6;
}

static int time_rounds(const struct guard_net *net, unsigned rounds)
{
	for (unsigned r = 1; r <= rounds; r++) {
		double first, again;

		if (guard_apply(NULL, 0) < 0)
			return 1;
		first = timed_apply(net);
		again = timed_apply(net);
		if (first < 0 || again < 0)
			return 1;
		printf("BENCH-GUARD-APPLY n=%zu round=%u first_ms=%.2f again_ms=%.2f\n",
		       net->nmembers, r, first, again);
	}
	return 0;
}

static int number(const char *text, unsigned max, unsigned *out)
{
	if (parse_uint(text, max, out) == 0 && *out > 0)
		return 1;
	fprintf(stderr, "guard_apply: '%s' is not a number from 1 to %u\n", text, max);
	return 0;
}

int main(int argc, char **argv)
{
	struct guard_net net = { .def = &def, .members = members };
	unsigned n, rounds;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (argc == 2 && strcmp(argv[1], "remove") == 0)
		return guard_apply(NULL, 0) < 0;
	if (argc == 3 && strcmp(argv[1], "keep") == 0 && number(argv[2], MAX_DOMAINS, &n)) {
		make_network(n);
		net.nmembers = n;
		return guard_apply(&net, 1) < 0;
	}
	if (argc == 4 && strcmp(argv[1], "time") == 0 && number(argv[2], MAX_DOMAINS, &n) &&
	    number(argv[3], 1000, &rounds)) {
		make_network(n);
		net.nmembers = n;
		return time_rounds(&net, rounds);
	}
	fputs("usage: guard_apply time N ROUNDS | keep N | remove\n", stderr);
	return 2;
}
