/*
 * Starting a domain's corral-vmm: the command line built from its
 * domain_config (kernel, memory, vCPUs, disks, NICs, the console and control
 * sockets in the domain's run directory), and the process itself, in a
 * session of its own so that it outlives corrald: killing the daemon never
 * takes a guest down. corrald opens the NICs' taps, named as Xen names them
 * (vif<ID>.<N>), attaches them to their bridges and hands them to the VMM
 * as descriptors; the taps end with the VMM.
 */
#ifndef CORRAL_DAEMON_LAUNCH_H
#define CORRAL_DAEMON_LAUNCH_H

#include "config/domain_config.h"

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vmm_argv {
	char **argv;		/* NULL-terminated */
	size_t argc;
	bool failed;		/* an allocation failed; later pushes do nothing */
};

/* A domain has at most this many vifs; vif N's tap is descriptor VMM_TAP_FD0 + N in the VMM. */
#define VMM_TAPS_MAX 32
#define VMM_TAP_FD0 3

/*
 * The VMM's arguments for domain `dc`, its taps as vif_taps_open() gives
 * them to vmm_spawn(), its files in `dir`
 * (console.sock, control.sock, and `exit`, where the VMM leaves its exit
 * status), started paused if `paused`. vifs without a MAC must have been
 * given one already. 0 or -ENOMEM.
 */
int vmm_argv_build(struct vmm_argv *a, const char *vmm_path, const struct domain_config *dc,
		   const char *dir, bool paused);
void vmm_argv_free(struct vmm_argv *a);

/* The tap name of vif `index` of domain `id`: its vifname, or "vif<id>.<index>". */
void vif_tap_name(const struct vif_spec *vs, unsigned id, size_t index, char *buf, size_t len);

/*
 * Opens the taps of dc's vifs for domain `id`, each a port of its bridge
 * and up: fds[i] for vif i (dc->nvifs <= VMM_TAPS_MAX). 0, or -errno with
 * the reason in `err`; then none is left open.
 */
int vif_taps_open(const struct domain_config *dc, unsigned id, int *fds, char *err,
		  size_t errlen);
void vif_taps_close(int *fds, size_t n);

/*
 * The host CPUs a domain's cpus= names ("0-3,6", as domain_config keeps
 * it) as a set, narrowed to those this process may run on. -EINVAL if that
 * leaves none (or the list is malformed).
 */
int vmm_affinity(const char *cpus, cpu_set_t *set);

/*
 * Starts the VMM with stdin and stdout on /dev/null, stderr appended to
 * `log_path`, taps[0..ntaps) as descriptors VMM_TAP_FD0 onwards and nothing
 * else open, its threads (the vCPUs among them) bound to `affinity` (NULL:
 * wherever corrald may run). Returns 0 with *pid and *pidfd set, or -errno
 * (logged).
 */
int vmm_spawn(const struct vmm_argv *a, const char *log_path, const cpu_set_t *affinity,
	      const int *taps, size_t ntaps, pid_t *pid, int *pidfd);

#endif
