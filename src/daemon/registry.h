/*
 * corrald's domains: the registry that owns every domain, its state and its
 * corral-vmm process. The API layer (api.c) calls these functions on the
 * daemon's single thread; they start and stop VMMs, apply on_poweroff,
 * on_reboot and on_crash when a VMM exits, and keep each domain's
 * definition under the state directory and its runtime state under the run
 * directory (both written atomically), so that a restarted corrald finds
 * and re-adopts every running VMM.
 *
 * Names are unique; IDs are small integers handed out to running domains
 * (0 is the host, as Domain-0 in Xen).
 */
#ifndef CORRAL_DAEMON_REGISTRY_H
#define CORRAL_DAEMON_REGISTRY_H

#include "config/diag.h"
#include "config/domain_config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum domain_state {
	DOMAIN_RUNNING,
	DOMAIN_PAUSED,
	DOMAIN_SHUTTING_DOWN,
	DOMAIN_SHUTOFF,
	DOMAIN_CRASHED,
};

struct registry;
struct domain;
struct loop;
struct networks;

struct registry_options {
	const char *state_dir;		/* /var/lib/corral */
	const char *run_dir;		/* /run/corral */
	const char *log_dir;		/* /var/log/corral: each VMM's stderr, NAME.log */
	const char *vmm_path;		/* the corral-vmm binary */
	size_t console_log_max;		/* cap of LOG_DIR/console/NAME.log; 0: default */
	struct networks *networks;	/* the managed networks; NULL: none (tests) */
};

/*
 * Loads the domains a previous corrald left (their definitions and runtime
 * state) and re-adopts every VMM still running; VMM exits are then noticed
 * through `loop`. 0 or -errno (logged).
 */
int registry_open(struct registry **out, const struct registry_options *opt, struct loop *loop);
/* Forgets everything in memory; the VMMs keep running. */
void registry_close(struct registry *r);
/* Frees domains that went away during the last loop round; call after each. */
void registry_reap(struct registry *r);

/* Errors the API turns into HTTP statuses. */
#define REGISTRY_ENOENT	(-2)	/* no such domain */
#define REGISTRY_EEXIST	(-17)	/* a domain of that name exists */
#define REGISTRY_EINVAL	(-22)	/* bad configuration (messages in the diag) */
#define REGISTRY_ESTATE	(-16)	/* not possible in the domain's state (EBUSY) */

/*
 * Creates and starts a domain from xl.cfg text (`source` names it in
 * messages) and overrides, each one more statement; with `paused`, its
 * vCPUs wait for domain_unpause(). With dry_run, checks only. On success
 * *json (if not NULL) gets the domain as JSON (the caller owns it). Errors:
 * REGISTRY_EINVAL with messages in d, REGISTRY_EEXIST, or another -errno
 * with a message in d.
 */
int registry_create(struct registry *r, const char *text, size_t len, const char *source,
		    const char *const *overrides, size_t noverrides, bool dry_run, bool paused,
		    struct diag *d, json_t **json);

/* The domain named `name`, or whose ID is `name` in decimal; NULL if none. */
struct domain *registry_find(struct registry *r, const char *name);

/* Every domain as a JSON array, in ID order (shut-off ones last). */
json_t *registry_list(struct registry *r);
json_t *domain_json(const struct domain *dom);

/* The ACPI power button; with force, a hard stop if the guest has not gone
 * after `timeout_s` seconds. */
int domain_shutdown(struct registry *r, struct domain *dom, bool force, unsigned timeout_s);
/* Stops the VMM at once; the domain is forgotten. */
int domain_destroy(struct registry *r, struct domain *dom);
/* The ACPI power button; when the guest powers off, on_reboot applies (a
 * guest cannot be asked to reboot otherwise without an agent in it). */
int domain_reboot(struct registry *r, struct domain *dom);
/* Stops or restarts the guest's vCPUs (the VMM's control socket); the
 * guest's clocks stand still in between. Idempotent. */
int domain_pause(struct registry *r, struct domain *dom);
int domain_unpause(struct registry *r, struct domain *dom);
/* Hands a user's console connection to the domain's console hub
 * (console.h, console_hub_attach); REGISTRY_ESTATE if it has none. With
 * fd -1, only says which (0 or REGISTRY_ESTATE): the API asks before it
 * answers 101. */
int domain_console_attach(struct registry *r, struct domain *dom, int fd, const char *extra,
			  size_t extra_len, bool force, void (*done)(void *ctx), void *ctx);

/* xl vcpu-list and xl info: see procinfo.h. */
json_t *domain_vcpus_json(const struct domain *dom);
json_t *registry_host_json(struct registry *r);

const char *domain_state_name(enum domain_state s);

/* The managed networks the registry was opened with (corrald always has them). */
struct networks *registry_networks(struct registry *r);

#endif
