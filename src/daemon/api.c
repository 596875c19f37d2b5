/*
 * corrald's HTTP API (api.h, docs/API.md) on libmicrohttpd, driven from the
 * daemon's loop: MHD runs without a thread of its own (MHD_USE_EPOLL), the
 * loop polls MHD's epoll descriptor and calls MHD_run().
 *
 * Two layers: api_handle() is the whole protocol (routes, methods, bodies,
 * statuses) as a function of the request, reaching the registry through a
 * table of functions; the MHD part around it admits peers, collects bodies
 * and sends what api_handle() answers.
 *
 * A console request is answered 101 (MHD_ALLOW_UPGRADE): once the reply is
 * out, MHD hands the plain socket to on_upgrade() and stops watching it (it
 * holds the connection as suspended: no reads, no idle timeout), and the
 * console hub adds it to corrald's loop itself. When the hub is done with
 * it, MHD_upgrade_action(CLOSE) resumes the connection, and the next
 * MHD_run() closes it.
 */
#include "daemon/api.h"
#include "daemon/api_body.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define API_CONNECTIONS_MAX 64
#define API_IDLE_TIMEOUT_S 30	/* an idle connection is closed after this */
#define API_SOURCE_MAX 4096	/* the longest "source" a create request may name */
#define API_DEFAULT_SOURCE "<request>"

struct api {
	struct MHD_Daemon *mhd;
	const struct api_registry_ops *ops;
	struct registry *r;
	gid_t admin_gid;
};

/* One request's state between the calls MHD makes for it. */
struct request {
	char *body;
	size_t len, cap;
	bool too_large;
	char console[DOMAIN_NAME_MAX + 1];	/* after a 101, for on_upgrade() */
	bool force;
};

/* ---- Routes -------------------------------------------------------------- */

enum route {
	ROUTE_NONE,
	ROUTE_DOMAINS,		/* /v1/domains */
	ROUTE_DOMAIN,		/* /v1/domains/NAME */
	ROUTE_HOST,		/* /v1/host */
	ROUTE_VCPUS,		/* /v1/domains/NAME/vcpus */
	ROUTE_SHUTDOWN,		/* /v1/domains/NAME/shutdown; the rest POST too */
	ROUTE_REBOOT,		/* /v1/domains/NAME/reboot */
	ROUTE_DESTROY,		/* /v1/domains/NAME/destroy */
	ROUTE_PAUSE,		/* /v1/domains/NAME/pause */
	ROUTE_UNPAUSE,		/* /v1/domains/NAME/unpause */
	ROUTE_CONSOLE,		/* /v1/domains/NAME/console: GET, upgraded */
};

/* The routes under /v1/domains/NAME/. */
static const struct {
	const char *suffix;
	enum route route;
} domain_routes[] = {
	{ "/vcpus", ROUTE_VCPUS },
	{ "/shutdown", ROUTE_SHUTDOWN },
	{ "/reboot", ROUTE_REBOOT },
	{ "/destroy", ROUTE_DESTROY },
	{ "/pause", ROUTE_PAUSE },
	{ "/unpause", ROUTE_UNPAUSE },
	{ "/console", ROUTE_CONSOLE },
};

/* The route of `url`; for the routes under a domain, *name and *name_len
 * locate the NAME part. */
static enum route route_of(const char *url, const char **name, size_t *name_len)
{
	static const char prefix[] = "/v1/domains";
	const char *end;

	if (!strcmp(url, "/v1/host"))
		return ROUTE_HOST;
	if (strncmp(url, prefix, sizeof(prefix) - 1))
		return ROUTE_NONE;
	url += sizeof(prefix) - 1;
	if (!*url)
		return ROUTE_DOMAINS;
	if (*url++ != '/')
		return ROUTE_NONE;
	end = strchr(url, '/');
	*name = url;
	*name_len = end ? (size_t)(end - url) : strlen(url);
	if (!*name_len)
		return ROUTE_NONE;
	if (!end)
		return ROUTE_DOMAIN;
	for (size_t i = 0; i < ARRAY_SIZE(domain_routes); i++)
		if (!strcmp(end, domain_routes[i].suffix))
			return domain_routes[i].route;
	return ROUTE_NONE;
}

/* The methods each route takes (HEAD goes with GET), for the Allow header. */
static const char *route_allow(enum route rt)
{
	switch (rt) {
	case ROUTE_DOMAINS:
		return "GET, HEAD, POST";
	case ROUTE_DOMAIN:
	case ROUTE_HOST:
	case ROUTE_VCPUS:
		return "GET, HEAD";
	case ROUTE_CONSOLE:
		return "GET";
	default:
		return "POST";
	}
}

static bool route_takes(enum route rt, const char *method)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool post = !strcmp(method, "POST");

	switch (rt) {
	case ROUTE_DOMAINS:
		return get || post;
	case ROUTE_DOMAIN:
	case ROUTE_HOST:
	case ROUTE_VCPUS:
		return get;
	case ROUTE_CONSOLE:
		return !strcmp(method, "GET");
	default:
		return post;
	}
}

/* Whether `name` (len bytes) can name a domain: a name (letters, digits,
 * '-', '_', '.') or an ID, at most DOMAIN_NAME_MAX bytes. */
static bool name_plausible(const char *name, size_t len)
{
	if (!len || len > DOMAIN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!domain_name_char(name[i]))
			return false;
	return true;
}

/* ---- Handlers ------------------------------------------------------------ */

static void get_domains(const struct api_registry_ops *ops, struct registry *r,
			struct api_reply *rp)
{
	json_t *list = ops->list(r);

	if (!list)
		reply_error(rp, 500, NULL, "cannot list the domains: out of memory");
	else
		reply_json(rp, 200, list);
}

static void create(const struct api_registry_ops *ops, struct registry *r, const char *body,
		   size_t len, struct api_reply *rp)
{
	static const char *const fields[] = { "config", "source", "overrides", "dry_run", "paused",
					      NULL };
	json_t *req = body_object(body, len, false, rp), *config, *source, *overrides, *dry_run;
	json_t *paused;
	const char *source_text = API_DEFAULT_SOURCE;
	const char **ov = NULL;
	size_t nov = 0;
	json_t *dom = NULL;
	struct diag d;
	int rc;

	if (!req || !only_fields(req, fields, rp))
		goto out;
	config = json_object_get(req, "config");
	source = json_object_get(req, "source");
	overrides = json_object_get(req, "overrides");
	dry_run = json_object_get(req, "dry_run");
	paused = json_object_get(req, "paused");
	if (!config) {
		reply_error(rp, 400, NULL, "config: missing (the domain file's text)");
		goto out;
	}
	if (!json_is_string(config)) {
		reply_error(rp, 400, NULL, "config: expected a string");
		goto out;
	}
	if (source) {
		source_text = c_string(source);
		if (!source_text || !*source_text || strlen(source_text) > API_SOURCE_MAX) {
			reply_error(rp, 400, NULL,
				    "source: expected a non-empty string of at most %d bytes "
				    "without NUL", API_SOURCE_MAX);
			goto out;
		}
	}
	if (overrides) {
		if (!json_is_array(overrides)) {
			reply_error(rp, 400, NULL, "overrides: expected an array of strings");
			goto out;
		}
		nov = json_array_size(overrides);
		ov = calloc(nov ? nov : 1, sizeof(*ov));
		if (!ov) {
			reply_error(rp, 500, NULL, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < nov; i++) {
			ov[i] = c_string(json_array_get(overrides, i));
			if (!ov[i]) {
				reply_error(rp, 400, NULL,
					    "overrides[%zu]: expected a string without NUL", i);
				goto out;
			}
		}
	}
	if ((dry_run && !json_is_boolean(dry_run)) || (paused && !json_is_boolean(paused))) {
		reply_error(rp, 400, NULL, "%s: expected true or false",
			    dry_run && !json_is_boolean(dry_run) ? "dry_run" : "paused");
		goto out;
	}

	diag_init(&d);
	rc = ops->create(r, json_string_value(config), json_string_length(config), source_text,
			 ov, nov, json_is_true(dry_run), json_is_true(paused), &d, &dom);
	if (!rc) {
		json_t *res = json_object();

		if (res) {
			json_object_set_new(res, "domain", dom ? dom : json_null());
			json_object_set_new(res, "messages", diag_json(&d));
		} else {
			json_decref(dom);
		}
		reply_json(rp, json_is_true(dry_run) ? 200 : 201, res);
	} else {
		json_decref(dom);
		if (rc == REGISTRY_EINVAL)
			reply_error(rp, 400, &d, "invalid domain configuration");
		else if (rc == REGISTRY_EEXIST)
			reply_error(rp, 409, &d, "a domain of that name exists");
		else
			reply_error(rp, 500, &d, "cannot create the domain: %s",
				    rc < 0 ? strerror(-rc) : "failed");
	}
	diag_free(&d);
out:
	free(ov);
	json_decref(req);
}

/* The reply for an error of a call on domain `name`. */
static void domain_error(struct api_reply *rp, int rc, const char *name, const char *what)
{
	if (rc == REGISTRY_ENOENT)
		reply_error(rp, 404, NULL, "no domain '%s'", name);
	else if (rc == REGISTRY_ESTATE)
		reply_error(rp, 409, NULL, "cannot %s domain '%s' in its current state", what,
			    name);
	else
		reply_error(rp, 500, NULL, "cannot %s domain '%s': %s", what, name,
			    rc < 0 ? strerror(-rc) : "failed");
}

static void shutdown_domain(const struct api_registry_ops *ops, struct registry *r,
			    struct domain *dom, const char *name, const char *body, size_t len,
			    struct api_reply *rp)
{
	static const char *const fields[] = { "force", "timeout", NULL };
	json_t *req = body_object(body, len, true, rp), *force, *timeout;
	unsigned timeout_s = API_SHUTDOWN_TIMEOUT_DEFAULT;
	int rc;

	if (!req) {
		if (!rp->body)
			reply_error(rp, 500, NULL, "out of memory");
		return;
	}
	if (!only_fields(req, fields, rp))
		goto out;
	force = json_object_get(req, "force");
	timeout = json_object_get(req, "timeout");
	if (force && !json_is_boolean(force)) {
		reply_error(rp, 400, NULL, "force: expected true or false");
		goto out;
	}
	if (timeout) {
		json_int_t t = json_integer_value(timeout);

		if (!json_is_integer(timeout) || t < 1 || t > API_SHUTDOWN_TIMEOUT_MAX) {
			reply_error(rp, 400, NULL, "timeout: expected an integer from 1 to %d "
				    "(seconds)", API_SHUTDOWN_TIMEOUT_MAX);
			goto out;
		}
		timeout_s = (unsigned)t;
	}
	rc = ops->shutdown(r, dom, json_is_true(force), timeout_s);
	if (rc)
		domain_error(rp, rc, name, "shut down");
	else
		reply_json(rp, 202, json_object());
out:
	json_decref(req);
}

/* destroy, reboot, pause, unpause: an empty body (or {}), a plain call. */
static void domain_action(int (*action)(struct registry *r, struct domain *dom),
			  const char *what, unsigned ok_status, struct registry *r,
			  struct domain *dom, const char *name, const char *body, size_t len,
			  struct api_reply *rp)
{
	static const char *const fields[] = { NULL };
	json_t *req = body_object(body, len, true, rp);
	int rc;

	if (!req) {
		if (!rp->body)
			reply_error(rp, 500, NULL, "out of memory");
		return;
	}
	if (only_fields(req, fields, rp)) {
		rc = action(r, dom);
		if (rc)
			domain_error(rp, rc, name, what);
		else
			reply_json(rp, ok_status, json_object());
	}
	json_decref(req);
}

/* The console: checked here, switched to a byte stream by the caller (101). */
static void console_route(const struct api_registry_ops *ops, struct registry *r,
			  struct domain *dom, const char *name, const struct api_request *rq,
			  struct api_reply *rp)
{
	bool force = false;
	int rc;

	if (!rq->upgrade || strcasecmp(rq->upgrade, API_CONSOLE_PROTOCOL)) {
		reply_error(rp, 400, NULL, "the console is a byte stream: ask for it with the "
			    "headers 'Connection: Upgrade' and 'Upgrade: %s'",
			    API_CONSOLE_PROTOCOL);
		return;
	}
	if (rq->force) {
		force = !strcmp(rq->force, "1") || !strcmp(rq->force, "true");
		if (!force && strcmp(rq->force, "0") && strcmp(rq->force, "false")) {
			reply_error(rp, 400, NULL, "force: expected 1 or 0");
			return;
		}
	}
	rc = ops->console_attach(r, dom, -1, NULL, 0, force, NULL, NULL);
	if (rc == REGISTRY_ESTATE) {
		reply_error(rp, 409, NULL, "domain '%s' has no console: it is not running", name);
		return;
	}
	if (rc) {
		domain_error(rp, rc, name, "attach to the console of");
		return;
	}
	rp->status = 101;
	snprintf(rp->console, sizeof(rp->console), "%s", name);
	rp->force = force;
}

void api_handle(const struct api_registry_ops *ops, struct registry *r,
		const struct api_request *rq, struct api_reply *rp)
{
	const char *method = rq->method, *url = rq->url, *body = rq->body;
	size_t len = rq->len;
	char name[DOMAIN_NAME_MAX + 1];
	const char *name_at = NULL;
	size_t name_len = 0;
	enum route rt = route_of(url, &name_at, &name_len);
	struct domain *dom;

	memset(rp, 0, sizeof(*rp));
	if (api_networks_handle(ops, r, rq, rp))
		return;
	if (rt == ROUTE_NONE) {
		reply_error(rp, 404, NULL, "no such resource: %.200s", url);
		return;
	}
	if (!route_takes(rt, method)) {
		rp->allow = route_allow(rt);
		reply_error(rp, 405, NULL, "method %.32s not allowed here; allowed: %s", method,
			    rp->allow);
		return;
	}
	if (rt == ROUTE_DOMAINS) {
		if (!strcmp(method, "POST"))
			create(ops, r, body, len, rp);
		else
			get_domains(ops, r, rp);
		return;
	}
	if (rt == ROUTE_HOST) {
		reply_described(ops->host(r), rp);
		return;
	}

	if (!name_plausible(name_at, name_len)) {
		reply_error(rp, 404, NULL, "no such domain");
		return;
	}
	memcpy(name, name_at, name_len);
	name[name_len] = '\0';
	dom = ops->find(r, name);
	if (!dom) {
		reply_error(rp, 404, NULL, "no domain '%s'", name);
		return;
	}
	switch (rt) {
	case ROUTE_DOMAIN:
		reply_described(ops->domain_json(dom), rp);
		break;
	case ROUTE_VCPUS:
		reply_described(ops->vcpus(dom), rp);
		break;
	case ROUTE_SHUTDOWN:
		shutdown_domain(ops, r, dom, name, body, len, rp);
		break;
	case ROUTE_REBOOT:
		domain_action(ops->reboot, "reboot", 202, r, dom, name, body, len, rp);
		break;
	case ROUTE_PAUSE:
		domain_action(ops->pause, "pause", 200, r, dom, name, body, len, rp);
		break;
	case ROUTE_UNPAUSE:
		domain_action(ops->unpause, "unpause", 200, r, dom, name, body, len, rp);
		break;
	case ROUTE_CONSOLE:
		console_route(ops, r, dom, name, rq, rp);
		break;
	default:
		domain_action(ops->destroy, "destroy", 200, r, dom, name, body, len, rp);
		break;
	}
}

/* ---- Peers --------------------------------------------------------------- */

bool api_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
		      gid_t admin_gid)
{
	if (uid == 0)
		return true;
	if (admin_gid == (gid_t)-1)
		return false;
	if (gid == admin_gid)
		return true;
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i] == admin_gid)
			return true;
	return false;
}

/*
 * Whether the peer on `fd` may use the API. The credentials are those the
 * peer had when it connected, kept by the kernel with the socket
 * (SO_PEERCRED, SO_PEERGROUPS), so a process that exits and leaves its pid
 * to another cannot lend the other its groups.
 */
static bool peer_admitted(const struct api *a, int fd)
{
	static bool warned_groups;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t some[64], *groups = some;
	socklen_t glen = sizeof(some);
	bool ok;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_errno("API: SO_PEERCRED");
		return false;
	}
	if (cred.uid == 0)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0) {
		groups = NULL;
		if (errno == ERANGE && (groups = malloc(glen)) &&
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0) {
			free(groups);
			groups = NULL;
		}
		if (!groups) {
			if (!warned_groups)
				log_warn("API: cannot read a peer's groups (SO_PEERGROUPS: %s); "
					 "only its primary group counts", strerror(errno));
			warned_groups = true;
			glen = 0;
		}
	}
	ok = api_peer_allowed(cred.uid, cred.gid, groups, glen / sizeof(gid_t), a->admin_gid);
	if (groups != some)
		free(groups);
	if (!ok)
		log_warn("API: refused a request from pid %d (uid %u): not root nor in the "
			 "admin group", (int)cred.pid, (unsigned)cred.uid);
	return ok;
}

/* ---- libmicrohttpd ------------------------------------------------------- */

static const char oom_body[] = "{\"error\": \"out of memory\"}\n";

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body,
				 const char *allow)
{
	struct MHD_Response *resp = NULL;
	char *text = body ? json_dumps(body, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
	enum MHD_Result ret;

	if (text) {
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);

		if (t) {
			t[n] = '\n';
			t[n + 1] = '\0';
			resp = MHD_create_response_from_buffer(n + 1, t, MHD_RESPMEM_MUST_FREE);
			if (!resp)
				free(t);
		} else {
			free(text);
		}
	}
	if (!resp) {
		status = 500;
		allow = NULL;
		resp = MHD_create_response_from_buffer(sizeof(oom_body) - 1, (void *)oom_body,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

__attribute__((format(printf, 3, 4)))
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt,
				  ...)
{
	struct api_reply rp = { 0 };
	char text[256];
	enum MHD_Result ret;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply_error(&rp, status, NULL, "%s", text);
	ret = send_json(c, rp.status, rp.body, NULL);
	json_decref(rp.body);
	return ret;
}

/* Appends upload data to the request's body, up to API_BODY_MAX. */
static void collect(struct request *rq, const char *data, size_t size)
{
	if (rq->too_large)
		return;
	if (size > API_BODY_MAX - rq->len) {
		rq->too_large = true;
		free(rq->body);
		rq->body = NULL;
		rq->len = rq->cap = 0;
		return;
	}
	if (rq->len + size > rq->cap) {
		size_t cap = MAX(rq->cap * 2, MAX(rq->len + size, (size_t)4096));
		char *b = realloc(rq->body, MIN(cap, (size_t)API_BODY_MAX));

		if (!b) {
			rq->too_large = true;	/* answered as 413: the daemon could not take it */
			free(rq->body);
			rq->body = NULL;
			rq->len = rq->cap = 0;
			return;
		}
		rq->body = b;
		rq->cap = MIN(cap, (size_t)API_BODY_MAX);
	}
	memcpy(rq->body + rq->len, data, size);
	rq->len += size;
}

/* Whether the comma-separated `list` holds `token` (case-insensitive; a
 * token ends at a comma, a blank or the end). */
static bool has_token(const char *list, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = list; *p; p += strcspn(p, ",")) {
		p += strspn(p, ", \t");
		if (!strncasecmp(p, token, n) && strchr(", \t", p[n]))
			return true;
	}
	return false;
}

/* The protocol the request asks to switch to, if any. */
static const char *upgrade_protocol(struct MHD_Connection *c)
{
	const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONNECTION);

	if (!conn || !has_token(conn, "upgrade"))
		return NULL;
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_UPGRADE);
}

/* The console user left (console_hub_attach()'s done): MHD closes the socket. */
static void console_done(void *urh)
{
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/*
 * After the 101 went out, MHD hands over the socket (no longer its to
 * watch: it treats the connection as suspended until console_done()), with
 * what the client sent after its request. The domain is looked up again:
 * it may have gone since the request was checked.
 */
static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
		       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct api *a = cls;
	const struct request *rq = con_cls;
	struct domain *dom = a->ops->find(a->r, rq->console);
	int rc = dom ? a->ops->console_attach(a->r, dom, sock, extra, extra_len, rq->force,
					      console_done, urh) : REGISTRY_ENOENT;
	char line[160];
	int n;

	(void)c;
	if (!rc)
		return;
	n = snprintf(line, sizeof(line), "corral: cannot attach to the console of '%s': %s\r\n",
		     rq->console, rc == REGISTRY_ENOENT ? "the domain is gone" :
		     rc == REGISTRY_ESTATE ? "it has none" : strerror(-rc));
	if (send(sock, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("API: console refusal: %s", strerror(errno));
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* 101 Switching Protocols to API_CONSOLE_PROTOCOL; on_upgrade() follows. */
static enum MHD_Result switch_to_console(struct api *a, struct MHD_Connection *c,
					 struct request *rq, const struct api_reply *rp)
{
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, a);
	enum MHD_Result ret;

	if (!resp || MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE,
					     API_CONSOLE_PROTOCOL) != MHD_YES) {
		MHD_destroy_response(resp);
		return send_error(c, 500, "out of memory");
	}
	memcpy(rq->console, rp->console, sizeof(rq->console));
	rq->force = rp->force;
	ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct api *a = cls;
	struct request *rq = *con_cls;
	struct api_reply rp;
	enum MHD_Result ret;

	(void)version;
	if (!rq) {
		/* The headers are in: refuse early what will be refused anyway,
		 * before the client sends a body. */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (!ci || !peer_admitted(a, ci->connect_fd))
			return send_error(c, 403, "permission denied: the API is for root and "
					  "the admin group");
		if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX)
			return send_error(c, 413, "request body: larger than %d bytes",
					  API_BODY_MAX);
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size) {
		collect(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return send_error(c, 413, "request body: larger than %d bytes", API_BODY_MAX);
	api_handle(a->ops, a->r, &(struct api_request){
			.method = method, .url = url, .body = rq->body, .len = rq->len,
			.upgrade = upgrade_protocol(c),
			.force = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "force") },
		   &rp);
	if (rp.status == MHD_HTTP_SWITCHING_PROTOCOLS)
		return switch_to_console(a, c, rq, &rp);
	ret = send_json(c, rp.status, rp.body, rp.allow);
	json_decref(rp.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_error("API: %s", line);
}

int api_start_ops(struct api **out, int listen_fd, const struct api_registry_ops *ops,
		  struct registry *r, gid_t admin_gid)
{
	struct api *a;
	int flags, err;

	*out = NULL;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) != MHD_YES) {
		log_error("API: this libmicrohttpd has no epoll support");
		close(listen_fd);
		return -ENOTSUP;
	}
	flags = fcntl(listen_fd, F_GETFL);
	if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		err = log_errno("API: making the listening socket non-blocking");
		close(listen_fd);
		return err;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		log_error("API: out of memory");
		close(listen_fd);
		return -ENOMEM;
	}
	a->ops = ops;
	a->r = r;
	a->admin_gid = admin_gid;
	errno = 0;
	a->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG, 0, NULL,
				  NULL, on_request, a,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_CONNECTIONS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_IDLE_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!a->mhd) {
		err = errno ? errno : EIO;
		log_error("API: cannot start the HTTP server: %s", strerror(err));
		/* Ours to close, unless libmicrohttpd already did. */
		if (fcntl(listen_fd, F_GETFD) >= 0)
			close(listen_fd);
		free(a);
		return -err;
	}
	*out = a;
	return 0;
}

int api_fd(const struct api *a)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

void api_run(struct api *a)
{
	if (MHD_run(a->mhd) != MHD_YES)
		log_error("API: MHD_run failed");
}

int api_timeout_ms(const struct api *a)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(a->mhd, &ms) != MHD_YES)
		return -1;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->mhd);	/* closes the listening socket too */
	free(a);
}
