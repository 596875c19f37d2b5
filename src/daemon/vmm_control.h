/*
 * corrald's side of corral-vmm's control socket (docs/corral-vmm.md,
 * "Control socket"): one request, one reply. Each request opens its own
 * connection, so nothing is left to go stale when a VMM restarts or corrald
 * does. The call waits for the reply, but never longer than a timeout: the
 * VMM answers at once (a pause takes as long as the vCPUs need to park), and
 * a VMM that does not answer costs corrald that much and no more.
 */
#ifndef CORRAL_DAEMON_VMM_CONTROL_H
#define CORRAL_DAEMON_VMM_CONTROL_H

#include <jansson.h>

#define VMM_CONTROL_TIMEOUT_MS 3000

/*
 * Sends {"cmd": cmd} to the control socket at `path` and waits for the
 * reply. 0 with *reply (if not NULL) set to the reply object (the caller
 * owns it); -ETIMEDOUT, -EPROTO for a reply that is not JSON, -EREMOTEIO
 * for {"ok": false} (the VMM's error logged), or another -errno.
 */
int vmm_control(const char *path, const char *cmd, json_t **reply);

#endif
