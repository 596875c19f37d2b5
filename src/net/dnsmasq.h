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
 *   dnsmasq.log    dnsmasq's stdout and stderr: its log (log-dhcp), and why
 *                  it would not start
 * dhcp-hosts and hosts are re-read on SIGHUP, so members come and go
 * without a restart and without losing a lease; dnsmasq reads CNAMEs only
 * when it starts, so dnsmasq_update() restarts it when they change (the
 * leases survive that too: they are in the lease file).
 *
 * dnsmasq drops to user "nobody" once its sockets are open and re-reads
 * dhcp-hosts and hosts as that user: the directory's parents must be
 * searchable by others (the directory and files are made 0755 and 0644).
 * Names go into the files only if they are DNS labels (letters, digits,
 * '-'); a member whose host name is not one still gets its reserved address,
 * but no name. Only members get DHCP answers (each has a dhcp-hosts line),
 * and the names DHCP clients send are ignored: DNS holds corral's names only.
 * Names in dns_domain and addresses in the subnet are answered locally and
 * never forwarded; other names go to the host's resolvers (/etc/resolv.conf).
 *
 * The calls that wait (start, update when it restarts, stop) wait for
 * dnsmasq for at most a few seconds.
 */
#ifndef CORRAL_NET_DNSMASQ_H
#define CORRAL_NET_DNSMASQ_H

#include "net/netdef.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dnsmasq {
	char dir[256];		/* the network's directory */
	char exe[256];		/* the dnsmasq program, for restarts */
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
 * Writes the files (atomically) to `dir` (an absolute path of letters,
 * digits and "/._-"; made if needed, but not its parents) and starts
 * dnsmasq on them, or adopts the one a previous corrald started there if it
 * still runs (and then updates it as dnsmasq_update() does). Waits until
 * dnsmasq serves (it has written its pid file) or gave up, 2 s at most.
 * `dnsmasq_path` NULL means "dnsmasq" on PATH. The bridge must exist.
 * 0 or -errno, logged: -ENODEV without the bridge; -EIO if dnsmasq exited,
 * with its own complaint in the message ("failed to create listening
 * socket for 192.168.42.18: Address already in use"); -ETIMEDOUT. After a
 * failure dm is not running, its files are kept for a look at dnsmasq.log,
 * and dnsmasq_update() tries again or dnsmasq_stop() cleans up.
 */
int dnsmasq_start(struct dnsmasq *dm, const char *dir, const char *dnsmasq_path,
		  const struct net_def *def, const struct net_member *m, size_t n);

/*
 * Rewrites the files for new members and has dnsmasq read them: SIGHUP
 * (it re-reads them a moment later), or a restart if dnsmasq.conf changed
 * (the CNAMEs, or the definition), or a start if it is not running (after
 * dnsmasq_reap(), or a failed start). 0 or -errno, as dnsmasq_start().
 */
int dnsmasq_update(struct dnsmasq *dm, const struct net_def *def, const struct net_member *m,
		   size_t n);

/* After dm->pidfd became readable: reaps it; true if it had exited (then
 * logged with the end of dnsmasq.log, and dm is not running). */
bool dnsmasq_reap(struct dnsmasq *dm);

/* Stops dnsmasq (SIGTERM, then SIGKILL after a second) if it runs and
 * removes `dir` with the files in it. For a dm that dnsmasq_start() set up,
 * whether or not it succeeded. */
void dnsmasq_stop(struct dnsmasq *dm);

#endif
