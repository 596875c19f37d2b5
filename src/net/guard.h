/*
 * The L2 guard: nftables rules in the bridge family (libnftables) that keep
 * a managed network's DHCP, DNS and discovery traffic inside and its
 * domains honest. They live in one table, "bridge corral", that holds every
 * managed network's rules and nothing else; guard_apply() replaces it as a
 * whole in one transaction, so a half-applied rule set is never seen.
 *
 * For each network:
 *  - its uplink port: DHCP (UDP 67/68, DHCPv6 546/547) neither leaves nor
 *    enters; DNS answered by the host (source port 53 from its address)
 *    never leaves; the keep_inside discovery protocols do not leave;
 *  - each domain port (a member with an ifname): frames must carry the
 *    member's MAC; IPv4 and ARP must carry its address once it has one
 *    (DHCP from 0.0.0.0 and ARP probes are let through); no VLAN tags; no
 *    DHCP server answers unless the network allows domains to serve DHCP;
 *  - isolated networks: nothing passes from one domain port to another.
 * Every drop is counted in a named counter, which survives a replacement of
 * the table (its values are carried into the new one).
 */
#ifndef CORRAL_NET_GUARD_H
#define CORRAL_NET_GUARD_H

#include "net/netdef.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GUARD_TABLE "corral"

struct guard_net {
	const struct net_def *def;
	const struct net_member *members;	/* those without an ifname are skipped */
	size_t nmembers;
};

struct guard_counter {
	char name[64];
	uint64_t packets, bytes;
};

/*
 * The table's text (for `nft -f`) for networks nets[0..n), with each named
 * counter starting from its value in prev[0..nprev) if it is there. The
 * caller frees it; NULL on ENOMEM.
 */
char *guard_ruleset(const struct guard_net *nets, size_t n, const struct guard_counter *prev,
		    size_t nprev);

/*
 * Replaces the table with the rules for nets[0..n), counters carried over;
 * with n 0, removes the table. 0 or -errno (nft's message is logged).
 */
int guard_apply(const struct guard_net *nets, size_t n);

/*
 * The drop counters of network `name` as JSON, for `corral network show`:
 * { "uplink": { "dhcp_in": {"packets": P, "bytes": B}, "dhcp_out": ..., "dns_out": ...,
 *   "discovery_out": ... }, "isolation": {...}, "ports": { "vif3.0": { "mac": {...},
 *   "ip": {...}, "arp": {...}, "vlan": {...}, "dhcp_server": {...} } } }
 * NULL if the table or the network is not there.
 */
json_t *guard_counters_json(const char *name);

#endif
