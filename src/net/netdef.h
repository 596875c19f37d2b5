/*
 * Managed networks: what a network definition says and who is on it. A
 * definition is a file in the syntax of domain files (xl.cfg, see
 * config/xlcfg.h), documented in docs/networks.md:
 *
 *   name = "corral0"                     # the bridge, and the network's name
 *   address = "192.168.42.18/24"         # the host's address on it: the subnet
 *   dhcp_range = "192.168.42.100-192.168.42.199"
 *   dns_domain = "example.com"
 *   uplink = "eth1"                      # a NIC made a port of the bridge
 *   isolated = 1                         # domains reach only the host and the uplink
 *   dhcp_servers = 0                     # domains may not answer DHCP
 *   keep_inside = [ "mdns", "llmnr", "ssdp", "netbios" ]
 *
 * A net_member is one domain vif on a network, as the daemon knows it; the
 * DHCP/DNS server (dnsmasq.h) and the L2 guard (guard.h) are both made from
 * a definition and its members.
 */
#ifndef CORRAL_NET_NETDEF_H
#define CORRAL_NET_NETDEF_H

#include "config/diag.h"

#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Discovery protocols that keep_inside may keep from leaving by the uplink. */
enum net_discovery {
	NET_DISCOVERY_MDNS = 1 << 0,	/* UDP 5353 */
	NET_DISCOVERY_LLMNR = 1 << 1,	/* UDP and TCP 5355 */
	NET_DISCOVERY_SSDP = 1 << 2,	/* UDP 1900 */
	NET_DISCOVERY_NETBIOS = 1 << 3,	/* UDP 137, 138, TCP 139 */
};

#define NET_DNS_DOMAIN_MAX 253	/* DNS_NAME_MAX */

struct net_def {
	char name[IFNAMSIZ];		/* also the bridge's name */
	struct in_addr address;		/* the host's address on the bridge */
	unsigned prefix;		/* the subnet's prefix length, 8 to 30 */
	bool has_range;			/* else DHCP serves reservations only */
	struct in_addr range_first, range_last;
	bool has_gateway;		/* else DHCP offers the host as router */
	struct in_addr gateway;
	char dns_domain[NET_DNS_DOMAIN_MAX + 1];	/* "" if none */
	char uplink[IFNAMSIZ];		/* "" if none */
	bool isolated;
	bool dhcp_servers;		/* domains may answer DHCP */
	unsigned keep_inside;		/* enum net_discovery bits */
};

/* A domain's vif on a managed network. */
struct net_member {
	const char *hostname;		/* the domain's name */
	const char *ifname;		/* its tap; NULL while the domain is not running */
	uint8_t mac[6];
	bool has_ip;			/* the vif's ip=, or the address it leased */
	bool ip_reserved;		/* has_ip came from ip=: a static DHCP lease */
	struct in_addr ip;
	const char *const *aliases;	/* extra DNS names (CNAMEs) of the domain */
	size_t naliases;
};

/*
 * Parses a definition (`source` names it in messages). Every problem goes
 * to `d` as file:line:col; returns 0, or -EINVAL if there was any.
 */
int net_def_parse(const char *text, size_t len, const char *source, struct diag *d,
		  struct net_def *out);

/* Whether `ip` is a usable host address in def's subnet (not the network or
 * broadcast address, and not the host's own). */
bool net_def_host_address(const struct net_def *def, struct in_addr ip);

/* Whether two definitions' subnets overlap. */
bool net_def_overlap(const struct net_def *a, const struct net_def *b);

/* The definition as JSON, keys as in the file: {"name": "corral0", "address":
 * "192.168.42.18/24", "dhcp_range": "..." or null, ...}. NULL on ENOMEM. */
json_t *net_def_json(const struct net_def *def);

/* Whether `name` may name an interface: 1 to 15 letters, digits, '-', '_'
 * or '.', starting with a letter (so that it is also an nft identifier). */
bool net_ifname_ok(const char *name);

#endif
