/*
 * The L2 guard: nftables rules (libnftables) that keep a managed network's
 * DHCP, DNS and discovery traffic inside and its domains honest. They live
 * in two tables that hold every managed network's rules and nothing else:
 * "netdev corral" for what comes in by a port and leaves by an uplink (a
 * base chain on the ingress of each domain's tap and of each uplink, and
 * on each uplink's egress) and "bridge corral" for isolation. guard_apply()
 * replaces both as a whole in one transaction, so a half-applied rule set
 * is never seen. corrald calls it whenever a network, a member's tap or a
 * member's address changes, with every managed network at once.
 *
 * For each network:
 *  - its uplink port: DHCP (UDP 67/68, DHCPv6 546/547) neither leaves nor
 *    enters; DNS answered by the host (source port 53 from its address)
 *    never leaves; the keep_inside discovery protocols do not leave (their
 *    queries nor their answers: destination or source port);
 *  - each domain port (a member with an ifname): frames must carry the
 *    member's MAC; IPv4 and ARP must carry its address once it has one
 *    (DHCP from 0.0.0.0 and ARP probes are let through); no VLAN tags; no
 *    DHCP server answers unless the network allows domains to serve DHCP;
 *  - isolated networks: nothing passes from one domain port to another.
 * The cost per frame does not grow with the number of domains: a frame
 * meets only the chains of the devices it comes in and goes out by (the
 * kernel keeps each device's hooks apart); with isolation, a bridged frame
 * also meets one forward rule per isolated network.
 *
 * Every drop is counted in a named counter, which survives a replacement of
 * the tables (its values are carried into the new ones). A counter is in
 * the table whose rules feed it: isolation in bridge corral, the others in
 * netdev corral. Names are paths
 * under the network's name, with '/' between the parts because no interface
 * name can hold one, so a name always splits one way:
 *   NET/isolation
 *   NET/uplink/{dhcp_in,dhcp_out,dns_out,discovery_out}
 *   NET/port/IFNAME/{vlan,mac,arp,ip,dhcp_server}
 * The rules that feed them are in chains NET/port/IFNAME and NET/uplink/in
 * (netdev, at their device's ingress), NET/uplink/out (netdev, at the
 * uplink's egress) and forward (bridge). Every counter of a network and of
 * each of its ports
 * exists, at 0 if its rule does not apply (say "ip" before the member has
 * an address), so that `corral network show` always has the same shape.
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
	char name[64];			/* the longest is 48: see the names above */
	uint64_t packets, bytes;
};

/*
 * The text (for `nft -f`) that replaces both tables with the rules for
 * networks nets[0..n), or with nothing if n is 0, each named counter
 * starting from its value in prev[0..nprev) (in any order) if it is there.
 * Sets *text (the caller frees it) and returns 0; -EINVAL (logged) if a
 * network, uplink or tap name is not one net_ifname_ok() accepts, since it
 * becomes part of rule and counter names (nothing is left unguarded
 * instead: the caller keeps the rules it had); -ENOMEM. A pure function of
 * its arguments, for tests: it names every tap and uplink it is given,
 * whether the interface exists or not (nft refuses an ingress chain on a
 * device that does not exist; guard_apply() leaves those out).
 */
int guard_ruleset(const struct guard_net *nets, size_t n, const struct guard_counter *prev,
		  size_t nprev, char **text);

/*
 * Replaces both tables with the rules for nets[0..n), counters carried
 * over; with n 0, removes them (absent tables are fine). A member whose tap
 * does not exist right now is left out, as one that is not running is, and
 * so is an uplink that does not exist: they take no frames. 0, -EINVAL or -ENOMEM as
 * guard_ruleset(), or -EIO if nft refused the rules (its message, which
 * says why, is logged); on failure the tables are as they were.
 */
int guard_apply(const struct guard_net *nets, size_t n);

/*
 * The drop counters of network `name` as JSON, for `corral network show`:
 * { "isolation": {"packets": P, "bytes": B},
 *   "uplink": { "dhcp_in": {...}, "dhcp_out": ..., "dns_out": ..., "discovery_out": ... },
 *   "ports": { "vif3.0": { "vlan": {...}, "mac": {...}, "arp": {...}, "ip": {...},
 *              "dhcp_server": {...} } } }
 * "uplink" only if the network has one; "ports" always (empty when no
 * member runs). NULL if the tables or the network are not there, or on an
 * error (logged).
 */
json_t *guard_counters_json(const char *name);

#endif
