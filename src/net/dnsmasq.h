/*
 * DHCP and DNS for a managed network: one dnsmasq per network, configured
 * by corral and supervised by corrald. Everything dnsmasq reads lives in
 * the network's own directory (under /run/corral/net/NAME); the system's
 * /etc/dnsmasq.conf is never read. dnsmasq answers only on the bridge.
 *
 * The files:
 *   dnsmasq.conf   the network: DHCP range, domain, the members' CNAMEs
 *   dhcp-hosts     a static lease per member with a reserved address, and
 *                  a host name per member without one (--dhcp-hostsfile)
 *   hosts          forward and reverse records of reserved members (--addn-hosts)
 *   leases         dnsmasq's lease file
 *   dnsmasq.pid
 * dhcp-hosts and hosts are re-read on SIGHUP, so members come and go
 * without a restart and without losing a lease; dnsmasq reads CNAMEs only
 * when it starts, so dnsmasq_update() restarts it when they change (the
 * leases survive that too: they are in the lease file).
 */
#ifndef CORRAL_NET_DNSMASQ_H
#define CORRAL_NET_DNSMASQ_H

#include "net/netdef.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dnsmasq {
	char dir[256];		/* the network's directory */
	pid_t pid;		/* 0 when not running */
	int pidfd;		/* readable when dnsmasq exits; -1 when not running */
};

/*
 * The text of each file for `def` and its members, for writing and for
 * tests (the caller frees them). NULL on ENOMEM.
 */
char *dnsmasq_config_text(const struct net_def *def, const struct net_member *m, size_t n,
			  const char *dir);
char *dnsmasq_dhcp_hosts_text(const struct net_def *def, const struct net_member *m, size_t n);
char *dnsmasq_hosts_text(const struct net_def *def, const struct net_member *m, size_t n);

/*
 * Writes the files (atomically) to `dir`, made if needed, and starts
 * dnsmasq on them, or adopts the one a previous corrald started there if it
 * still runs. `dnsmasq_path` NULL means "dnsmasq" on PATH. 0 or -errno
 * (logged; dnsmasq's own complaint is in the message).
 */
int dnsmasq_start(struct dnsmasq *dm, const char *dir, const char *dnsmasq_path,
		  const struct net_def *def, const struct net_member *m, size_t n);

/* Rewrites the files for new members: SIGHUP, or a restart if the CNAMEs changed. */
int dnsmasq_update(struct dnsmasq *dm, const struct net_def *def, const struct net_member *m,
		   size_t n);

/* After dm->pidfd became readable: reaps it; true if it had exited. */
bool dnsmasq_reap(struct dnsmasq *dm);

/* Stops dnsmasq (SIGTERM, then SIGKILL after a second) and removes `dir`. */
void dnsmasq_stop(struct dnsmasq *dm);

#endif
