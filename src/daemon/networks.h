/*
 * corrald's managed networks: each one a bridge with the host's address on
 * it, an optional uplink port, a supervised dnsmasq for its DHCP and DNS,
 * and its part of the L2 guard (net/guard.h). Definitions are kept under
 * the state directory (networks/NAME.cfg), dnsmasq's files under the run
 * directory (net/NAME/). A network outlives corrald: bridge, dnsmasq and
 * rules stay when it stops, and a new corrald takes them over.
 *
 * A domain is on a network while it runs: its vifs whose bridge= names the
 * network are members (net/netdef.h), with static leases for those with an
 * ip=, DNS names from the domain's name and dns_aliases, and guard rules on
 * their taps. The registry says who the members are (networks_source); it
 * calls networks_sync() whenever a domain starts or stops, and the networks
 * call it back. A member without ip= is held by the guard to the address it
 * leased, which corrald reads from dnsmasq's lease file as it changes.
 *
 * Errors are -errno: -ENOENT (no such network), -EEXIST, -EINVAL (bad
 * definition; messages in the diag), -EBUSY (domains are on it).
 */
#ifndef CORRAL_DAEMON_NETWORKS_H
#define CORRAL_DAEMON_NETWORKS_H

#include "config/diag.h"
#include "config/domain_config.h"
#include "net/netdef.h"

#include <jansson.h>
#include <stddef.h>

struct networks;
struct loop;

struct networks_options {
	const char *state_dir;		/* definitions in STATE/networks/ */
	const char *run_dir;		/* dnsmasq's files in RUN/net/NAME/ */
	const char *dnsmasq_path;	/* NULL: dnsmasq on PATH */
};

/*
 * Who is on network `name`: the running domains' vifs on it, appended to
 * *out (a malloc'd array the networks free; the strings stay the source's
 * and must live until the next networks_sync()). 0 or -ENOMEM.
 */
struct networks_source {
	int (*members)(void *ctx, const char *name, struct net_member **out, size_t *n);
	void *ctx;
};

/* Loads the definitions a previous corrald kept and brings each bridge up
 * (or takes over what is still up); dnsmasq and the rules follow at the
 * first networks_sync(), when the members are known. 0 or -errno (logged). */
int networks_open(struct networks **out, const struct networks_options *opt,
		  struct loop *loop);
/* Leaves bridges, dnsmasq and rules as they are; frees the memory. */
void networks_close(struct networks *nets);

/* Where members come from; then networks_sync(). */
void networks_set_source(struct networks *nets, const struct networks_source *src);
/* Asks the source again and brings dnsmasq and the guard up to date. */
void networks_sync(struct networks *nets);

/* The managed network named `name` (its bridge's name), or NULL. */
const struct net_def *networks_find(const struct networks *nets, const char *name);

/*
 * Whether domain `dc` may join the networks its vifs name: on a managed
 * network each vif's ip= (if any) is one address of the subnet that no
 * running member holds, and the domain's name and dns_aliases are DNS
 * labels no other member uses. 0 or -EINVAL with messages in d.
 */
int networks_admit(struct networks *nets, const struct domain_config *dc, struct diag *d);

/* corral network create|destroy|list|show. */
int networks_create(struct networks *nets, const char *text, size_t len, const char *source,
		    struct diag *d, json_t **json);
int networks_destroy(struct networks *nets, const char *name, struct diag *d);
json_t *networks_list(struct networks *nets);
/* The network with its members, leases and the guard's drop counters; NULL if none. */
json_t *networks_show(struct networks *nets, const char *name);

#endif
