/*
 * The API's routes for managed networks (docs/API.md):
 *   GET    /v1/networks          every network
 *   POST   /v1/networks          {"config": TEXT, "source": NAME}: create one
 *   GET    /v1/networks/NAME     one, with its members, leases and drop counters
 *   DELETE /v1/networks/NAME     destroy it (409 while domains are on it)
 */
#include "daemon/api_body.h"
#include "net/netdef.h"

#include <errno.h>
#include <string.h>

#define NETWORKS_PREFIX "/v1/networks"

static void create(const struct api_registry_ops *ops, struct registry *r, const char *body,
		   size_t len, struct api_reply *rp)
{
	static const char *const fields[] = { "config", "source", NULL };
	json_t *req = body_object(body, len, false, rp), *config, *net = NULL;
	const char *source = "<request>";
	struct diag d;
	int rc;

	if (!req || !only_fields(req, fields, rp))
		goto out;
	config = json_object_get(req, "config");
	if (!json_is_string(config)) {
		reply_error(rp, 400, NULL, "config: expected a string (the network file's text)");
		goto out;
	}
	if (json_object_get(req, "source") &&
	    !(source = c_string(json_object_get(req, "source")))) {
		reply_error(rp, 400, NULL, "source: expected a string without NUL");
		goto out;
	}
	diag_init(&d);
	rc = ops->net_create(r, json_string_value(config), json_string_length(config), source,
			     &d, &net);
	if (!rc)
		reply_json(rp, 201, json_pack("{s:o, s:o}", "network", net ? net : json_null(),
					      "messages", diag_json(&d)));
	else if (rc == -EINVAL)
		reply_error(rp, 400, &d, "invalid network");
	else if (rc == -EEXIST)
		reply_error(rp, 409, &d, "the network or its bridge exists");
	else
		reply_error(rp, 500, &d, "cannot create the network: %s", strerror(-rc));
	diag_free(&d);
out:
	json_decref(req);
}

static void destroy(const struct api_registry_ops *ops, struct registry *r, const char *name,
		    struct api_reply *rp)
{
	struct diag d;
	int rc;

	diag_init(&d);
	rc = ops->net_destroy(r, name, &d);
	if (!rc)
		reply_json(rp, 200, json_object());
	else if (rc == -ENOENT)
		reply_error(rp, 404, NULL, "no network '%s'", name);
	else if (rc == -EBUSY)
		reply_error(rp, 409, &d, "network '%s' is in use", name);
	else
		reply_error(rp, 500, &d, "cannot destroy network '%s': %s", name, strerror(-rc));
	diag_free(&d);
}

static void method_not_allowed(struct api_reply *rp, const char *method, const char *allow)
{
	rp->allow = allow;
	reply_error(rp, 405, NULL, "method %.32s not allowed here; allowed: %s", method, allow);
}

static void one_network(const struct api_registry_ops *ops, struct registry *r,
			const char *name, const struct api_request *rq, struct api_reply *rp)
{
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
	json_t *j;

	if (!net_ifname_ok(name)) {
		reply_error(rp, 404, NULL, "no such network");
	} else if (!strcmp(rq->method, "DELETE")) {
		destroy(ops, r, name, rp);
	} else if (!get) {
		method_not_allowed(rp, rq->method, "GET, HEAD, DELETE");
	} else if ((j = ops->net_show(r, name))) {
		reply_json(rp, 200, j);
	} else {
		reply_error(rp, 404, NULL, "no network '%s'", name);
	}
}

bool api_networks_handle(const struct api_registry_ops *ops, struct registry *r,
			 const struct api_request *rq, struct api_reply *rp)
{
	const char *rest = rq->url + strlen(NETWORKS_PREFIX);

	if (strncmp(rq->url, NETWORKS_PREFIX, strlen(NETWORKS_PREFIX)) ||
	    (*rest && *rest != '/'))
		return false;
	if (*rest == '/') {
		one_network(ops, r, rest + 1, rq, rp);
	} else if (!strcmp(rq->method, "POST")) {
		create(ops, r, rq->body, rq->len, rp);
	} else if (!strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD")) {
		reply_described(ops->net_list(r), rp);
	} else {
		method_not_allowed(rp, rq->method, "GET, HEAD, POST");
	}
	return true;
}
