/*
 * corrald's API: HTTP/1.1 with JSON bodies on a Unix socket (libmicrohttpd),
 * documented in docs/API.md. It runs on the daemon's one thread: main.c
 * polls api_fd() with everything else and calls api_run() when it is
 * readable or api_timeout_ms() has passed. Every request is checked before
 * it reaches the registry: the peer's credentials (root or the admin
 * group), the route, the method and the JSON body.
 */
#ifndef CORRAL_DAEMON_API_H
#define CORRAL_DAEMON_API_H

#include "daemon/registry.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct api;

/*
 * Serves on `listen_fd`, a bound and listening Unix stream socket (the API
 * takes it over: api_stop() closes it, and so does a failed api_start()). Peers other than root and members of `admin_gid` are
 * refused (403); admin_gid (gid_t)-1 means root only. Returns 0 or -errno
 * (logged).
 */
int api_start(struct api **out, int listen_fd, struct registry *r, gid_t admin_gid);
int api_fd(const struct api *a);
void api_run(struct api *a);
/* Milliseconds until api_run() must be called even without activity; -1: none. */
int api_timeout_ms(const struct api *a);
/* Stops serving. Close the console hubs first (registry_close()): a console
 * connection still attached to one is closed under it. */
void api_stop(struct api *a);

/*
 * Below: what api_start() is made of, for api_registry.c and the unit test.
 *
 * The API reaches the registry only through this table, so that a test can
 * run every route against fakes. api_start() (api_registry.c, linked only
 * into programs that call it) fills it with the functions of registry.h;
 * the members have exactly their signatures.
 */
struct api_registry_ops {
	int (*create)(struct registry *r, const char *text, size_t len, const char *source,
		      const char *const *overrides, size_t noverrides, bool dry_run,
		      bool paused, struct diag *d, json_t **json);
	struct domain *(*find)(struct registry *r, const char *name);
	json_t *(*list)(struct registry *r);
	json_t *(*domain_json)(const struct domain *dom);
	json_t *(*vcpus)(const struct domain *dom);
	json_t *(*host)(struct registry *r);
	int (*shutdown)(struct registry *r, struct domain *dom, bool force, unsigned timeout_s);
	int (*reboot)(struct registry *r, struct domain *dom);
	int (*destroy)(struct registry *r, struct domain *dom);
	int (*pause)(struct registry *r, struct domain *dom);
	int (*unpause)(struct registry *r, struct domain *dom);
	/* fd -1: only whether the domain has a console (0 or REGISTRY_ESTATE). */
	int (*console_attach)(struct registry *r, struct domain *dom, int fd, const char *extra,
			      size_t extra_len, bool force, void (*done)(void *ctx), void *ctx);
	/* The managed networks (daemon/networks.h), reached through the registry. */
	int (*net_create)(struct registry *r, const char *text, size_t len, const char *source,
			  struct diag *d, json_t **json);
	int (*net_destroy)(struct registry *r, const char *name, struct diag *d);
	json_t *(*net_list)(struct registry *r);
	json_t *(*net_show)(struct registry *r, const char *name);
};

/* api_start() with the registry reached through `ops` (which must outlive the API). */
int api_start_ops(struct api **out, int listen_fd, const struct api_registry_ops *ops,
		  struct registry *r, gid_t admin_gid);

/* Request bodies larger than this are refused (413): room for a domain file
 * of XLCFG_FILE_MAX (1 MiB) with its JSON escapes. */
#define API_BODY_MAX (4 * 1024 * 1024)
/* The force timeout of a shutdown whose request names none, in seconds. */
#define API_SHUTDOWN_TIMEOUT_DEFAULT 60
#define API_SHUTDOWN_TIMEOUT_MAX 86400

/* The protocol a console request upgrades to (docs/API.md). */
#define API_CONSOLE_PROTOCOL "corral-console"

struct api_request {
	const char *method;
	const char *url;	/* the path, without the query string */
	const char *body;	/* the whole body; NULL, 0 when there is none */
	size_t len;
	const char *upgrade;	/* Upgrade's protocol if Connection lists "upgrade"; else NULL */
	const char *force;	/* the query's force=VALUE; NULL when it has none */
};

struct api_reply {
	unsigned status;	/* HTTP status */
	json_t *body;		/* the JSON to send (the caller owns it); NULL for 101 */
	const char *allow;	/* for 405: the Allow header's value; else NULL */
	/* 101: switch to API_CONSOLE_PROTOCOL, then hand the connection to
	 * ops->console_attach() for domain `console` (looked up again: it may
	 * have gone meanwhile), read-write over anybody else if `force`. */
	char console[DOMAIN_NAME_MAX + 1];
	bool force;
};

/*
 * Routes one request from an admitted peer, its body complete: checks the
 * route, the method, the headers and the body, calls the registry and
 * fills `reply`. No I/O besides the registry calls.
 */
void api_handle(const struct api_registry_ops *ops, struct registry *r,
		const struct api_request *request, struct api_reply *reply);

/* Whether a peer may use the API: root, or admin_gid among its primary and
 * supplementary groups (admin_gid (gid_t)-1: root only). */
bool api_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
		      gid_t admin_gid);

#endif
