/*
 * corrald's API (daemon/api.h) against a fake registry: first api_handle()
 * alone (routes, methods, bodies, statuses, what reaches the registry),
 * then over a real Unix socket through libmicrohttpd (the wire format, the
 * 413 and 403 paths, peers of other users when run as root, the console's
 * upgrade to a byte stream, served by a fake console), then the corral
 * command line ($CORRAL_BIN) end to end against it.
 */
#include "test.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- The fake registry --------------------------------------------------- */

struct domain {
	char name[DOMAIN_NAME_MAX + 1];
	unsigned id;
	const char *state;
	int pid;
	bool used;
};

#define FAKE_DOMAINS 4
#define FAKE_OVERRIDES 8

struct registry {
	struct domain doms[FAKE_DOMAINS];
	/* What the API asked. */
	unsigned creates, finds, lists, shutdowns, destroys, reboots, pauses, unpauses;
	char *text;
	size_t len;
	char source[256];
	char overrides[FAKE_OVERRIDES][64];
	size_t noverrides;
	bool dry_run, paused, force;
	unsigned timeout_s;
	/* What the fakes answer. */
	int create_rc, shutdown_rc, destroy_rc, pause_rc;
	bool create_warns, create_no_message, list_fails, bad_utf8_message;
	bool create_adds;	/* a created domain "new" is listed (and has a console) */
	/* The console: one user at a time, served by drive() (console_serve). */
	unsigned console_probes, console_attaches;
	int console_rc;		/* what an attach (not a probe) answers */
	bool console_force;
	int console_fd;		/* the attached user's socket; -1: none */
	void (*console_done)(void *ctx);
	void *console_ctx;
	char console_got[256];	/* what the user sent */
	size_t console_got_len;
	/* Networks: one, "corral0", unless destroyed. */
	unsigned net_creates, net_destroys;
	char net_text[256], net_source[256];
	int net_create_rc, net_destroy_rc;
	bool net_gone;
};

static struct registry reg;

static void reset_registry(void)
{
	free(reg.text);
	memset(&reg, 0, sizeof(reg));
	reg.doms[0] = (struct domain){ "web", 1, "running", 100, true };
	reg.doms[1] = (struct domain){ "db", 2, "paused", 101, true };
	reg.doms[2] = (struct domain){ "old", 0, "shutoff", 0, true };
	reg.console_fd = -1;
}

static json_t *fake_domain_json(const struct domain *dom)
{
	return json_pack("{s:s, s:i, s:s, s:i, s:i, s:i, s:f}", "name", dom->name, "id",
			 (int)dom->id, "state", dom->state, "memory", 512, "vcpus", 2, "pid",
			 dom->pid, "time", 12.25);
}

static int fake_create(struct registry *r, const char *text, size_t len, const char *source,
		       const char *const *overrides, size_t noverrides, bool dry_run,
		       bool paused, struct diag *d, json_t **json)
{
	r->creates++;
	free(r->text);
	r->text = malloc(len + 1);
	if (r->text) {
		memcpy(r->text, text, len);
		r->text[len] = '\0';
	}
	r->len = len;
	snprintf(r->source, sizeof(r->source), "%s", source);
	r->noverrides = noverrides;
	for (size_t i = 0; i < noverrides && i < FAKE_OVERRIDES; i++)
		snprintf(r->overrides[i], sizeof(r->overrides[i]), "%s", overrides[i]);
	r->dry_run = dry_run;
	r->paused = paused;
	if (r->create_warns)
		diag_warn(d, source, (struct src_pos){ 2, 1 }, "unknown key 'cpu_weight'");
	if (r->bad_utf8_message)
		diag_error(d, source, (struct src_pos){ 1, 1 }, "bad byte \xff here");
	if (r->create_rc) {
		if (r->create_rc == REGISTRY_EINVAL && !r->create_no_message)
			diag_error(d, source, (struct src_pos){ 1, 9 }, "memory: expected a number");
		return r->create_rc;
	}
	if (json)
		*json = json_pack("{s:s, s:i, s:s}", "name", "new", "id", dry_run ? 0 : 7, "state",
				  dry_run ? "shutoff" : "running");
	if (r->create_adds && !dry_run)
		r->doms[3] = (struct domain){ "new", 7, "running", 107, true };
	return 0;
}

static struct domain *fake_find(struct registry *r, const char *name)
{
	char *end;
	unsigned long id = strtoul(name, &end, 10);

	r->finds++;
	for (size_t i = 0; i < FAKE_DOMAINS; i++) {
		struct domain *dom = &r->doms[i];

		if (dom->used && (!strcmp(dom->name, name) ||
				  (!*end && end != name && dom->id && dom->id == id)))
			return dom;
	}
	return NULL;
}

static json_t *fake_list(struct registry *r)
{
	json_t *a;

	r->lists++;
	if (r->list_fails)
		return NULL;
	a = json_array();
	for (size_t i = 0; i < FAKE_DOMAINS; i++)
		if (r->doms[i].used)
			json_array_append_new(a, fake_domain_json(&r->doms[i]));
	return a;
}

static int fake_shutdown(struct registry *r, struct domain *dom, bool force, unsigned timeout_s)
{
	r->shutdowns++;
	r->force = force;
	r->timeout_s = timeout_s;
	if (r->shutdown_rc)
		return r->shutdown_rc;
	if (!strcmp(dom->state, "shutoff"))
		return REGISTRY_ESTATE;
	/* The guest obliges at once. */
	dom->state = "shutoff";
	dom->id = 0;
	dom->pid = 0;
	return 0;
}

static int fake_destroy(struct registry *r, struct domain *dom)
{
	r->destroys++;
	if (r->destroy_rc)
		return r->destroy_rc;
	dom->used = false;
	return 0;
}

static int fake_reboot(struct registry *r, struct domain *dom)
{
	r->reboots++;
	/* The guest comes back at once as another VMM. */
	dom->pid += 1000;
	return 0;
}

/* As the registry: pausing a paused domain is no error, a stopped one is. */
static int fake_set_paused(struct registry *r, struct domain *dom, bool paused)
{
	if (r->pause_rc)
		return r->pause_rc;
	if (!dom->id)
		return REGISTRY_ESTATE;
	dom->state = paused ? "paused" : "running";
	return 0;
}

static int fake_pause(struct registry *r, struct domain *dom)
{
	r->pauses++;
	return fake_set_paused(r, dom, true);
}

static int fake_unpause(struct registry *r, struct domain *dom)
{
	r->unpauses++;
	return fake_set_paused(r, dom, false);
}

static json_t *fake_vcpus(const struct domain *dom)
{
	return json_pack("[{s:i, s:i, s:s, s:f, s:s}, {s:i, s:i, s:s, s:f, s:s}]",
			 "vcpu", 0, "cpu", 1, "state", dom->state, "time", 1.5, "affinity", "0-3",
			 "vcpu", 1, "cpu", 0, "state", "blocked", "time", 0.25, "affinity", "2");
}

static json_t *fake_host(struct registry *r)
{
	(void)r;
	return json_pack("{s:s, s:i, s:I, s:s}", "host", "dom0", "nr_cpus", 8,
			 "total_memory", (json_int_t)24000, "corral_version", "0.1.0");
}

/* A shut-off domain has no console; a running one greets its user with
 * "login: " and answers a line (console_serve). */
static int fake_console_attach(struct registry *r, struct domain *dom, int fd, const char *extra,
			       size_t extra_len, bool force, void (*done)(void *ctx), void *ctx)
{
	static const char greeting[] = "login: ";

	if (!strcmp(dom->state, "shutoff"))
		return REGISTRY_ESTATE;
	if (fd < 0) {
		r->console_probes++;
		return 0;
	}
	if (r->console_rc)
		return r->console_rc;
	r->console_attaches++;
	r->console_force = force;
	r->console_fd = fd;
	r->console_done = done;
	r->console_ctx = ctx;
	r->console_got_len = MIN(extra_len, sizeof(r->console_got) - 1);
	memcpy(r->console_got, extra, r->console_got_len);
	r->console_got[r->console_got_len] = '\0';
	if (write(fd, greeting, sizeof(greeting) - 1) < 0)
		printf("# console greeting: %s\n", strerror(errno));
	return 0;
}

static void console_detach(void)
{
	reg.console_fd = -1;
	reg.console_done(reg.console_ctx);
}

/* The attached user sent something (or already had, before the upgrade):
 * on a whole line, "hello LINE" and the console closes; on EOF too. */
static void console_serve(void)
{
	char reply[300], *nl;
	size_t room = sizeof(reg.console_got) - 1 - reg.console_got_len;
	ssize_t n = read(reg.console_fd, reg.console_got + reg.console_got_len, room);

	if (n > 0) {
		reg.console_got_len += (size_t)n;
		reg.console_got[reg.console_got_len] = '\0';
	}
	nl = strchr(reg.console_got, '\n');
	if (nl) {
		snprintf(reply, sizeof(reply), "hello %.*s\r\n", (int)(nl - reg.console_got),
			 reg.console_got);
		if (write(reg.console_fd, reply, strlen(reply)) < 0)
			printf("# console reply: %s\n", strerror(errno));
	}
	if (nl || n == 0 || (n < 0 && errno != EAGAIN))
		console_detach();
}

static json_t *fake_net(void)
{
	return json_pack("{s:s, s:s, s:s, s:n, s:s, s:s, s:b, s:b, s:[s], s:i, s:i, s:[{s:s, s:s,"
			 " s:s, s:s, s:b, s:[s,s]}], s:[], s:{s:{s:{s:i, s:i}}, s:{s:{s:{s:i, s:i}}}}}",
			 "name", "corral0", "address", "192.168.42.18/24",
			 "dhcp_range", "192.168.42.100-192.168.42.199", "gateway",
			 "dns_domain", "example.com", "uplink", "eth1", "isolated", 1,
			 "dhcp_servers", 0, "keep_inside", "mdns", "dnsmasq_pid", 4321,
			 "domains", 1, "members", "domain", "krb5", "vif", "vif3.0", "mac",
			 "00:16:3e:00:00:19", "ip", "192.168.42.19", "reserved", 1, "dns_aliases",
			 "yum", "kdc", "leases", "drops", "uplink", "dhcp_in", "packets", 7, "bytes",
			 2400, "ports", "vif3.0", "mac", "packets", 3, "bytes", 180);
}

static int fake_net_create(struct registry *r, const char *text, size_t len,
			   const char *source, struct diag *d, json_t **json)
{
	r->net_creates++;
	snprintf(r->net_text, sizeof(r->net_text), "%.*s", (int)len, text);
	snprintf(r->net_source, sizeof(r->net_source), "%s", source);
	if (r->net_create_rc == -EINVAL)
		diag_error(d, source, (struct src_pos){ 3, 14 }, "dhcp_range: '1.2.3' is not an "
			   "IPv4 address");
	if (!r->net_create_rc)
		*json = fake_net();
	return r->net_create_rc;
}

static int fake_net_destroy(struct registry *r, const char *name, struct diag *d)
{
	r->net_destroys++;
	if (strcmp(name, "corral0") || r->net_gone)
		return -ENOENT;
	if (r->net_destroy_rc == -EBUSY)
		diag_error(d, NULL, (struct src_pos){ 0 }, "network corral0 is in use by krb5; "
			   "shut those domains down first");
	if (!r->net_destroy_rc)
		r->net_gone = true;
	return r->net_destroy_rc;
}

static json_t *fake_net_list(struct registry *r)
{
	return r->net_gone ? json_array() : json_pack("[o]", fake_net());
}

static json_t *fake_net_show(struct registry *r, const char *name)
{
	return strcmp(name, "corral0") || r->net_gone ? NULL : fake_net();
}

static const struct api_registry_ops fake_ops = {
	.create = fake_create,
	.find = fake_find,
	.list = fake_list,
	.domain_json = fake_domain_json,
	.vcpus = fake_vcpus,
	.host = fake_host,
	.shutdown = fake_shutdown,
	.reboot = fake_reboot,
	.destroy = fake_destroy,
	.pause = fake_pause,
	.unpause = fake_unpause,
	.console_attach = fake_console_attach,
	.net_create = fake_net_create,
	.net_destroy = fake_net_destroy,
	.net_list = fake_net_list,
	.net_show = fake_net_show,
};

/* ---- api_handle() ------------------------------------------------------- */

static struct api_reply rp;

/* One request; the reply in rp (the previous one freed). */
static json_t *call_request(const struct api_request *rq)
{
	json_decref(rp.body);
	api_handle(&fake_ops, &reg, rq, &rp);
	return rp.body;
}

static json_t *call(const char *method, const char *url, const char *body)
{
	return call_request(&(struct api_request){ .method = method, .url = url, .body = body,
						   .len = body ? strlen(body) : 0 });
}

/* A console request: GET with `upgrade` as the protocol asked for. */
static json_t *call_console(const char *url, const char *upgrade, const char *force)
{
	return call_request(&(struct api_request){ .method = "GET", .url = url,
						   .upgrade = upgrade, .force = force });
}

static const char *error_text(void)
{
	const char *e = json_string_value(json_object_get(rp.body, "error"));

	return e ? e : "";
}

static bool error_has(unsigned status, const char *words)
{
	if (rp.status != status || !strstr(error_text(), words))
		printf("# %u: %s\n", rp.status, error_text());
	return rp.status == status && strstr(error_text(), words);
}

/* Whether the reply's messages include one containing `words`. */
static bool message_has(const char *words)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(rp.body, "messages"), i, m)
		if (strstr(json_string_value(m) ? json_string_value(m) : "", words))
			return true;
	return false;
}

static void list_returns_every_domain(void)
{
	reset_registry();
	call("GET", "/v1/domains", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(json_is_array(rp.body) && json_array_size(rp.body) == 3);
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(rp.body, 0), "name")),
		      "web"));
	CHECK(rp.allow == NULL);
	call("HEAD", "/v1/domains", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK_EQ(reg.lists, 2);
	reg.list_fails = true;
	call("GET", "/v1/domains", NULL);
	CHECK(error_has(500, "out of memory"));
}

static void domain_by_name_or_id(void)
{
	reset_registry();
	call("GET", "/v1/domains/db", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(!strcmp(json_string_value(json_object_get(rp.body, "state")), "paused"));
	call("GET", "/v1/domains/1", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(!strcmp(json_string_value(json_object_get(rp.body, "name")), "web"));
	call("GET", "/v1/domains/nosuch", NULL);
	CHECK(error_has(404, "no domain 'nosuch'"));
}

static void implausible_names_are_not_looked_up(void)
{
	char long_name[80];

	reset_registry();
	memset(long_name, 'a', sizeof(long_name));
	memcpy(long_name, "/v1/domains/", 12);
	long_name[12 + DOMAIN_NAME_MAX + 1] = '\0';
	call("GET", long_name, NULL);
	CHECK(error_has(404, "no such domain"));
	call("GET", "/v1/domains/a b", NULL);
	CHECK(error_has(404, "no such domain"));
	call("POST", "/v1/domains/\xff/destroy", NULL);
	CHECK(error_has(404, "no such domain"));
	CHECK_EQ(reg.finds, 0);
}

static void unknown_paths_are_404(void)
{
	static const char *const urls[] = {
		"/", "/v1", "/v1/", "/v2/domains", "/v1/domainsx", "/v1/domains/",
		"/v1/domains/web/", "/v1/domains/web/frobnicate", "/v1/domains/web/destroy/x",
		"/v1/domains//destroy", "",
	};

	reset_registry();
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		call("GET", urls[i], NULL);
		CHECK(error_has(404, "no such resource"));
		call("POST", urls[i], "{}");
		CHECK_EQ(rp.status, 404);
	}
	/* Not UTF-8 in the URL: still a JSON reply. */
	call("GET", "/v1/\xff\xfe", NULL);
	CHECK(error_has(404, "/v1/??"));
	CHECK_EQ(reg.finds + reg.lists + reg.creates, 0);
}

static void wrong_method_is_405_with_allow(void)
{
	reset_registry();
	call("PUT", "/v1/domains", "{}");
	CHECK(error_has(405, "PUT"));
	CHECK(rp.allow && !strcmp(rp.allow, "GET, HEAD, POST"));
	call("DELETE", "/v1/domains/web", NULL);
	CHECK_EQ(rp.status, 405);
	CHECK(rp.allow && !strcmp(rp.allow, "GET, HEAD"));
	call("POST", "/v1/domains/web", "{}");
	CHECK_EQ(rp.status, 405);
	call("GET", "/v1/domains/web/shutdown", NULL);
	CHECK_EQ(rp.status, 405);
	CHECK(rp.allow && !strcmp(rp.allow, "POST"));
	/* The method is checked before the domain is looked for. */
	call("GET", "/v1/domains/nosuch/destroy", NULL);
	CHECK_EQ(rp.status, 405);
	CHECK_EQ(reg.finds + reg.shutdowns + reg.destroys + reg.creates, 0);
	call("GET", "/v1/domains", NULL);
	CHECK(rp.allow == NULL);
}

static void create_passes_the_request_on(void)
{
	reset_registry();
	reg.create_warns = true;
	call("POST", "/v1/domains",
	     "{\"config\": \"name = 'new'\\nmemory = 512\\n\", \"source\": \"/etc/corral/new.cfg\","
	     " \"overrides\": [\"memory=1024\", \"vcpus=2\"], \"dry_run\": false}");
	CHECK_EQ(rp.status, 201);
	CHECK_EQ(reg.creates, 1);
	CHECK(reg.text && !strcmp(reg.text, "name = 'new'\nmemory = 512\n"));
	CHECK_EQ(reg.len, strlen("name = 'new'\nmemory = 512\n"));
	CHECK(!strcmp(reg.source, "/etc/corral/new.cfg"));
	CHECK_EQ(reg.noverrides, 2);
	CHECK(!strcmp(reg.overrides[0], "memory=1024") && !strcmp(reg.overrides[1], "vcpus=2"));
	CHECK(!reg.dry_run);
	CHECK(!strcmp(json_string_value(json_object_get(json_object_get(rp.body, "domain"),
							"name")), "new"));
	CHECK(message_has("/etc/corral/new.cfg:2:1: warning: unknown key 'cpu_weight'"));
	CHECK_EQ(json_array_size(json_object_get(rp.body, "messages")), 1);
}

static void create_dry_run_is_200(void)
{
	reset_registry();
	call("POST", "/v1/domains", "{\"config\": \"name = 'new'\", \"dry_run\": true}");
	CHECK_EQ(rp.status, 200);
	CHECK(reg.dry_run);
	CHECK(json_is_object(json_object_get(rp.body, "domain")));
	CHECK(json_is_array(json_object_get(rp.body, "messages")));
	CHECK_EQ(json_array_size(json_object_get(rp.body, "messages")), 0);
}

static void create_defaults(void)
{
	reset_registry();
	call("POST", "/v1/domains", "{\"config\": \"\"}");
	CHECK_EQ(rp.status, 201);
	CHECK(!strcmp(reg.source, "<request>"));
	CHECK_EQ(reg.noverrides, 0);
	CHECK(!reg.dry_run);
	CHECK_EQ(reg.len, 0);
	call("POST", "/v1/domains", "{\"config\": \"x\", \"overrides\": []}");
	CHECK_EQ(rp.status, 201);
	CHECK_EQ(reg.noverrides, 0);
}

static void create_config_may_hold_nul_for_the_parser(void)
{
	reset_registry();
	call("POST", "/v1/domains", "{\"config\": \"a\\u0000b\"}");
	CHECK_EQ(rp.status, 201);
	CHECK_EQ(reg.len, 3);
	CHECK(reg.text && reg.text[1] == '\0' && reg.text[2] == 'b');
}

static void create_errors_map_to_statuses(void)
{
	reset_registry();
	reg.create_rc = REGISTRY_EINVAL;
	call("POST", "/v1/domains", "{\"config\": \"memory = x\", \"source\": \"web.cfg\"}");
	CHECK(error_has(400, "invalid domain configuration"));
	CHECK(message_has("web.cfg:1:9: error: memory: expected a number"));
	reg.create_rc = REGISTRY_EEXIST;
	call("POST", "/v1/domains", "{\"config\": \"name = 'web'\"}");
	CHECK(error_has(409, "exists"));
	CHECK(json_is_array(json_object_get(rp.body, "messages")));
	reg.create_rc = -EIO;
	call("POST", "/v1/domains", "{\"config\": \"name = 'web'\"}");
	CHECK(error_has(500, strerror(EIO)));
	CHECK(json_object_get(rp.body, "domain") == NULL);
}

static void create_messages_stay_json_text(void)
{
	char *text;

	reset_registry();
	reg.bad_utf8_message = true;
	reg.create_rc = REGISTRY_EINVAL;
	reg.create_no_message = true;
	call("POST", "/v1/domains", "{\"config\": \"x\", \"source\": \"w.cfg\"}");
	CHECK_EQ(rp.status, 400);
	CHECK(message_has("w.cfg:1:1: error: bad byte ? here"));
	text = json_dumps(rp.body, 0);
	CHECK(text != NULL);
	free(text);
}

static void create_body_is_checked_strictly(void)
{
	static const struct {
		const char *body, *words;
	} cases[] = {
		{ "", "request body: missing" },
		{ "not json", "request body: line 1 column" },
		{ "{\"config\": \"x\"} trailing", "request body: line 1" },
		{ "[1]", "expected a JSON object" },
		{ "\"config\"", "request body:" },
		{ "{}", "config: missing" },
		{ "{\"config\": 1}", "config: expected a string" },
		{ "{\"config\": null}", "config: expected a string" },
		{ "{\"config\": \"x\", \"source\": 1}", "source:" },
		{ "{\"config\": \"x\", \"source\": \"\"}", "source:" },
		{ "{\"config\": \"x\", \"source\": \"a\\u0000b\"}", "source:" },
		{ "{\"config\": \"x\", \"overrides\": \"memory=1\"}", "overrides: expected an array" },
		{ "{\"config\": \"x\", \"overrides\": [\"a\", 2]}", "overrides[1]: expected a string" },
		{ "{\"config\": \"x\", \"overrides\": [\"a\\u0000\"]}", "overrides[0]" },
		{ "{\"config\": \"x\", \"dry_run\": \"yes\"}", "dry_run: expected true or false" },
		{ "{\"config\": \"x\", \"dry_run\": 1}", "dry_run" },
		{ "{\"config\": \"x\", \"memory\": 1}", "unknown field 'memory'" },
		{ "{\"config\": \"x\", \"config\": \"y\"}", "duplicate" },
	};

	reset_registry();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call("POST", "/v1/domains", cases[i].body);
		if (!error_has(400, cases[i].words))
			printf("# case %zu: %s\n", i, cases[i].body);
		CHECK(error_has(400, cases[i].words));
	}
	CHECK_EQ(reg.creates, 0);
}

static void shutdown_takes_force_and_timeout(void)
{
	reset_registry();
	call("POST", "/v1/domains/web/shutdown", NULL);
	CHECK_EQ(rp.status, 202);
	CHECK(json_is_object(rp.body));
	CHECK(!reg.force);
	CHECK_EQ(reg.timeout_s, API_SHUTDOWN_TIMEOUT_DEFAULT);
	reset_registry();
	call("POST", "/v1/domains/1/shutdown", "{\"force\": true, \"timeout\": 5}");
	CHECK_EQ(rp.status, 202);
	CHECK(reg.force);
	CHECK_EQ(reg.timeout_s, 5);
	reset_registry();
	call("POST", "/v1/domains/web/shutdown", "{}");
	CHECK_EQ(rp.status, 202);
}

static void shutdown_body_is_checked(void)
{
	static const struct {
		const char *body, *words;
	} cases[] = {
		{ "{\"force\": 1}", "force: expected true or false" },
		{ "{\"timeout\": 0}", "timeout:" },
		{ "{\"timeout\": -5}", "timeout:" },
		{ "{\"timeout\": 86401}", "timeout:" },
		{ "{\"timeout\": 1.5}", "timeout:" },
		{ "{\"timeout\": \"5\"}", "timeout:" },
		{ "{\"wait\": true}", "unknown field 'wait'" },
		{ "[]", "expected a JSON object" },
		{ "{", "request body: line 1" },
	};

	reset_registry();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call("POST", "/v1/domains/web/shutdown", cases[i].body);
		CHECK(error_has(400, cases[i].words));
	}
	CHECK_EQ(reg.shutdowns, 0);
	call("POST", "/v1/domains/web/shutdown", "{\"timeout\": 86400}");
	CHECK_EQ(rp.status, 202);
}

static void shutdown_errors_map_to_statuses(void)
{
	reset_registry();
	call("POST", "/v1/domains/old/shutdown", NULL);
	CHECK(error_has(409, "cannot shut down domain 'old' in its current state"));
	call("POST", "/v1/domains/nosuch/shutdown", NULL);
	CHECK(error_has(404, "no domain 'nosuch'"));
	reg.shutdown_rc = REGISTRY_ENOENT;
	call("POST", "/v1/domains/web/shutdown", NULL);
	CHECK_EQ(rp.status, 404);
	reg.shutdown_rc = -EPERM;
	call("POST", "/v1/domains/web/shutdown", NULL);
	CHECK(error_has(500, strerror(EPERM)));
}

static void destroy_forgets_the_domain(void)
{
	reset_registry();
	call("POST", "/v1/domains/web/destroy", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(json_is_object(rp.body) && json_object_size(rp.body) == 0);
	CHECK_EQ(reg.destroys, 1);
	call("GET", "/v1/domains/web", NULL);
	CHECK_EQ(rp.status, 404);
	call("POST", "/v1/domains/web/destroy", NULL);
	CHECK(error_has(404, "no domain 'web'"));
	call("POST", "/v1/domains/db/destroy", "{}");
	CHECK_EQ(rp.status, 200);
	call("POST", "/v1/domains/old/destroy", "{\"force\": true}");
	CHECK(error_has(400, "unknown field 'force'"));
	reg.destroy_rc = REGISTRY_ESTATE;
	call("POST", "/v1/domains/old/destroy", NULL);
	CHECK_EQ(rp.status, 409);
	reg.destroy_rc = -ENOMEM;
	call("POST", "/v1/domains/old/destroy", NULL);
	CHECK(error_has(500, "cannot destroy domain 'old'"));
	CHECK_EQ(reg.destroys, 4);
}

static void pause_unpause_and_reboot(void)
{
	reset_registry();
	call("POST", "/v1/domains/web/pause", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(!strcmp(reg.doms[0].state, "paused"));
	call("POST", "/v1/domains/1/unpause", "{}");
	CHECK_EQ(rp.status, 200);
	CHECK(!strcmp(reg.doms[0].state, "running"));
	call("POST", "/v1/domains/old/pause", NULL);
	CHECK(error_has(409, "cannot pause domain 'old' in its current state"));
	reg.pause_rc = -ETIMEDOUT;
	call("POST", "/v1/domains/web/pause", NULL);
	CHECK(error_has(500, strerror(ETIMEDOUT)));
	call("POST", "/v1/domains/web/unpause", "{\"now\": true}");
	CHECK(error_has(400, "unknown field 'now'"));
	CHECK_EQ(reg.pauses, 3);
	CHECK_EQ(reg.unpauses, 1);
	call("GET", "/v1/domains/web/pause", NULL);
	CHECK_EQ(rp.status, 405);
	call("POST", "/v1/domains/web/reboot", NULL);
	CHECK_EQ(rp.status, 202);
	CHECK_EQ(reg.reboots, 1);
}

static void vcpus_and_host_are_described(void)
{
	reset_registry();
	call("GET", "/v1/domains/db/vcpus", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(json_is_array(rp.body) && json_array_size(rp.body) == 2);
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(rp.body, 0), "state")),
		      "paused"));
	call("GET", "/v1/domains/nosuch/vcpus", NULL);
	CHECK_EQ(rp.status, 404);
	call("POST", "/v1/domains/db/vcpus", NULL);
	CHECK_EQ(rp.status, 405);
	call("GET", "/v1/host", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK_EQ(json_integer_value(json_object_get(rp.body, "nr_cpus")), 8);
	call("GET", "/v1/host/x", NULL);
	CHECK_EQ(rp.status, 404);
	call("POST", "/v1/domains", "{\"config\": \"name='a'\", \"paused\": true}");
	CHECK_EQ(rp.status, 201);
	CHECK(reg.paused);
	call("POST", "/v1/domains", "{\"config\": \"name='a'\", \"paused\": 1}");
	CHECK(error_has(400, "paused: expected true or false"));
}

static void networks_are_listed_and_shown(void)
{
	reset_registry();
	call("GET", "/v1/networks", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(json_array_size(rp.body) == 1);
	call("GET", "/v1/networks/corral0", NULL);
	CHECK_EQ(rp.status, 200);
	CHECK(!strcmp(json_string_value(json_object_get(rp.body, "dns_domain")), "example.com"));
	call("GET", "/v1/networks/nosuch", NULL);
	CHECK(error_has(404, "no network 'nosuch'"));
	call("GET", "/v1/networks/a b", NULL);
	CHECK(error_has(404, "no such network"));
	call("GET", "/v1/networksX", NULL);
	CHECK_EQ(rp.status, 404);
	call("PUT", "/v1/networks", NULL);
	CHECK(error_has(405, "allowed: GET, HEAD, POST"));
	CHECK(rp.allow && !strcmp(rp.allow, "GET, HEAD, POST"));
	call("POST", "/v1/networks/corral0", "{}");
	CHECK(error_has(405, "allowed: GET, HEAD, DELETE"));
}

static void networks_are_created_and_destroyed(void)
{
	reset_registry();
	call("POST", "/v1/networks", "{\"config\": \"name = 'corral0'\", \"source\": \"n.cfg\"}");
	CHECK_EQ(rp.status, 201);
	CHECK(!strcmp(reg.net_text, "name = 'corral0'") && !strcmp(reg.net_source, "n.cfg"));
	CHECK(json_is_object(json_object_get(rp.body, "network")));
	reg.net_create_rc = -EINVAL;
	call("POST", "/v1/networks", "{\"config\": \"x\"}");
	CHECK(error_has(400, "invalid network"));
	CHECK(message_has("<request>:3:14: error: dhcp_range"));
	reg.net_create_rc = -EEXIST;
	call("POST", "/v1/networks", "{\"config\": \"x\"}");
	CHECK_EQ(rp.status, 409);
	call("POST", "/v1/networks", "{\"config\": 3}");
	CHECK(error_has(400, "config: expected a string"));
	call("POST", "/v1/networks", "{\"config\": \"x\", \"uplink\": \"eth0\"}");
	CHECK(error_has(400, "unknown field 'uplink'"));
	CHECK_EQ(reg.net_creates, 3);
	reg.net_destroy_rc = -EBUSY;
	call("DELETE", "/v1/networks/corral0", NULL);
	CHECK(error_has(409, "network 'corral0' is in use"));
	CHECK(message_has("in use by krb5"));
	reg.net_destroy_rc = 0;
	call("DELETE", "/v1/networks/corral0", NULL);
	CHECK_EQ(rp.status, 200);
	call("DELETE", "/v1/networks/corral0", NULL);
	CHECK(error_has(404, "no network 'corral0'"));
}

static void peers_root_or_admin_group(void)
{
	const gid_t groups[] = { 10, 4242, 20 };

	CHECK(api_peer_allowed(0, 0, NULL, 0, (gid_t)-1));
	CHECK(api_peer_allowed(0, 100, NULL, 0, 4242));
	CHECK(!api_peer_allowed(1000, 1000, NULL, 0, (gid_t)-1));
	CHECK(!api_peer_allowed(1000, 1000, groups, 3, (gid_t)-1));
	CHECK(api_peer_allowed(1000, 4242, NULL, 0, 4242));
	CHECK(api_peer_allowed(1000, 1000, groups, 3, 4242));
	CHECK(!api_peer_allowed(1000, 1000, groups, 1, 4242));
	CHECK(!api_peer_allowed(1000, 1000, NULL, 0, 4242));
}

static void console_needs_the_upgrade_headers(void)
{
	reset_registry();
	call("GET", "/v1/domains/web/console", NULL);
	CHECK(error_has(400, "'Upgrade: corral-console'"));
	call_console("/v1/domains/web/console", "websocket", NULL);
	CHECK(error_has(400, "'Connection: Upgrade'"));
	CHECK_EQ(reg.console_probes + reg.console_attaches, 0);
}

static void console_errors_map_to_statuses(void)
{
	reset_registry();
	call_console("/v1/domains/nosuch/console", API_CONSOLE_PROTOCOL, NULL);
	CHECK(error_has(404, "no domain 'nosuch'"));
	call("POST", "/v1/domains/web/console", NULL);
	CHECK_EQ(rp.status, 405);
	CHECK(rp.allow && !strcmp(rp.allow, "GET"));
	call("HEAD", "/v1/domains/web/console", NULL);
	CHECK_EQ(rp.status, 405);
	call_console("/v1/domains/old/console", API_CONSOLE_PROTOCOL, NULL);
	CHECK(error_has(409, "domain 'old' has no console: it is not running"));
	call_console("/v1/domains/web/console", API_CONSOLE_PROTOCOL, "yes");
	CHECK(error_has(400, "force: expected 1 or 0"));
	CHECK_EQ(reg.console_probes + reg.console_attaches, 0);
}

static void console_switches_protocols(void)
{
	reset_registry();
	call_console("/v1/domains/1/console", "Corral-Console", NULL);
	CHECK_EQ(rp.status, 101);
	CHECK(rp.body == NULL);
	CHECK(!strcmp(rp.console, "1"));
	CHECK(!rp.force);
	call_console("/v1/domains/web/console", API_CONSOLE_PROTOCOL, "1");
	CHECK_EQ(rp.status, 101);
	CHECK(!strcmp(rp.console, "web"));
	CHECK(rp.force);
	call_console("/v1/domains/web/console", API_CONSOLE_PROTOCOL, "0");
	CHECK_EQ(rp.status, 101);
	CHECK(!rp.force);
	/* Asked whether there is a console; nothing attached yet. */
	CHECK_EQ(reg.console_probes, 3);
	CHECK_EQ(reg.console_attaches, 0);
}

/* ---- Over the socket ----------------------------------------------------- */

#define ADMIN_GID 4242
#define NOBODY 65534

static char dir[64], sock_path[100];
static struct api *api;
static int listen_fd = -1;

static bool server_start(gid_t admin_gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/corral-test-api-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	chmod(dir, 0755);	/* so that the unprivileged peers reach the socket */
	snprintf(sock_path, sizeof(sock_path), "%s/corral.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	chmod(sock_path, 0666);
	listen_fd = fd;
	return api_start_ops(&api, fd, &fake_ops, &reg, admin_gid) == 0;
}

static void server_stop(void)
{
	/* As corrald does: the console's users go before the API. */
	if (reg.console_fd >= 0)
		console_detach();
	api_stop(api);
	api = NULL;
	unlink(sock_path);
	rmdir(dir);
}

struct output {
	char *data;
	size_t len;
};

struct run {
	int status;		/* the exit status, or -1 */
	struct output out, err;
};

static void output_add(struct output *o, const char *data, size_t n)
{
	char *d = realloc(o->data, o->len + n + 1);

	if (!d)
		return;
	memcpy(d + o->len, data, n);
	o->data = d;
	o->len += n;
	o->data[o->len] = '\0';
}

static void run_free(struct run *r)
{
	free(r->out.data);
	free(r->err.data);
	memset(r, 0, sizeof(*r));
}

/* Runs the server (and its fake console) until child `pid` has exited and
 * its pipes are closed, collecting what it writes; at most 30 s. */
static void drive(pid_t pid, int out_fd, int err_fd, struct run *r)
{
	int fds[2] = { out_fd, err_fd }, status;
	struct output *outs[2] = { &r->out, &r->err };
	time_t deadline = time(NULL) + 30;
	bool exited = false;

	r->status = -1;
	while (!exited || fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd p[4] = {
			{ .fd = api ? api_fd(api) : -1, .events = POLLIN },
			{ .fd = fds[0], .events = POLLIN },
			{ .fd = fds[1], .events = POLLIN },
			{ .fd = reg.console_fd, .events = POLLIN },
		};
		int timeout = api ? api_timeout_ms(api) : -1;

		if (timeout < 0 || timeout > 20)
			timeout = 20;
		poll(p, 4, timeout);
		if (reg.console_fd >= 0 && (p[3].revents || strchr(reg.console_got, '\n')))
			console_serve();
		if (api)
			api_run(api);
		for (int i = 0; i < 2; i++) {
			char buf[4096];
			ssize_t n;

			if (fds[i] < 0 || !(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i], buf, sizeof(buf));
			if (n > 0) {
				output_add(outs[i], buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
			r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (time(NULL) > deadline) {
			printf("# child %d takes too long\n", (int)pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			for (int i = 0; i < 2; i++)
				if (fds[i] >= 0)
					close(fds[i]);
			return;
		}
	}
}

struct peer {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
};

static bool send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Sends `request` over a new connection from a child process (running as
 * `peer` if not NULL), then `chunked` bytes of body in chunks if not 0, and
 * returns the whole response in r->out.
 */
static void exchange(const char *request, size_t chunked, const struct peer *peer,
		     struct run *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int pipefd[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		static char chunk[65536];
		char buf[4096];
		ssize_t n;
		int s;

		dup2(pipefd[1], 1);
		if (peer && (setgroups(peer->ngroups, peer->groups) < 0 || setgid(peer->gid) < 0 ||
			     setuid(peer->uid) < 0))
			_exit(90);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(91);
		if (send_all(s, request, strlen(request))) {
			memset(chunk, 'x', sizeof(chunk));
			while (chunked) {
				size_t len = chunked < sizeof(chunk) ? chunked : sizeof(chunk);
				char head[32];

				snprintf(head, sizeof(head), "%zx\r\n", len);
				if (!send_all(s, head, strlen(head)) || !send_all(s, chunk, len) ||
				    !send_all(s, "\r\n", 2))
					break;
				chunked -= len;
			}
			if (!chunked)
				send_all(s, "0\r\n\r\n", 5);
		}
		while ((n = read(s, buf, sizeof(buf))) > 0)
			if (write(1, buf, (size_t)n) != n)
				_exit(92);
		_exit(0);
	}
	close(pipefd[1]);
	drive(pid, pipefd[0], -1, r);
}

static bool status_is(const struct run *r, const char *code)
{
	char line[32];

	snprintf(line, sizeof(line), "HTTP/1.1 %s ", code);
	if (!r->out.data || strncmp(r->out.data, line, strlen(line)))
		printf("# response: %.80s\n", r->out.data ? r->out.data : "(none)");
	return r->out.data && !strncmp(r->out.data, line, strlen(line));
}

static bool has_header(const struct run *r, const char *header)
{
	char *end = r->out.data ? strstr(r->out.data, "\r\n\r\n") : NULL;
	char *at = r->out.data ? strcasestr(r->out.data, header) : NULL;

	return at && end && at < end;
}

static json_t *body_of(const struct run *r)
{
	char *body = r->out.data ? strstr(r->out.data, "\r\n\r\n") : NULL;

	return body ? json_loads(body + 4, 0, NULL) : NULL;
}

static const char get_domains[] =
	"GET /v1/domains HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

static void socket_serves_json(void)
{
	static const char create_body[] = "{\"config\": \"x\", \"dry_run\": true}";
	char request[512];
	struct run r;
	json_t *j;

	reset_registry();
	CHECK(server_start((gid_t)-1));
	if (!api)
		return;
	CHECK(api_fd(api) >= 0);
	exchange(get_domains, 0, NULL, &r);
	CHECK_EQ(r.status, 0);
	CHECK(status_is(&r, "200"));
	CHECK(has_header(&r, "\r\nContent-Type: application/json\r\n"));
	j = body_of(&r);
	CHECK(json_is_array(j) && json_array_size(j) == 3);
	json_decref(j);
	run_free(&r);

	exchange("PUT /v1/domains HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Content-Length: 2\r\n\r\n{}", 0, NULL, &r);
	CHECK(status_is(&r, "405"));
	CHECK(has_header(&r, "\r\nAllow: GET, HEAD, POST\r\n"));
	run_free(&r);

	snprintf(request, sizeof(request),
		 "POST /v1/domains HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(create_body), create_body);
	exchange(request, 0, NULL, &r);
	CHECK(status_is(&r, "200"));
	CHECK(reg.dry_run && reg.text && !strcmp(reg.text, "x"));
	run_free(&r);

	/* Query strings are not part of the route. */
	exchange("GET /v1/domains/web?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		 0, NULL, &r);
	CHECK(status_is(&r, "200"));
	run_free(&r);
	server_stop();
}

static void oversized_bodies_are_413(void)
{
	struct run r;
	char request[256];

	reset_registry();
	CHECK(server_start((gid_t)-1));
	if (!api)
		return;
	/* Refused on the headers, before the body is sent. */
	snprintf(request, sizeof(request),
		 "POST /v1/domains HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Content-Length: %d\r\n\r\n", API_BODY_MAX + 1);
	exchange(request, 0, NULL, &r);
	CHECK(status_is(&r, "413"));
	run_free(&r);
	/* Without a length: read, dropped, refused at the end. */
	exchange("POST /v1/domains HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n", (size_t)API_BODY_MAX + 1, NULL, &r);
	CHECK(status_is(&r, "413"));
	run_free(&r);
	CHECK_EQ(reg.creates, 0);
	server_stop();
}

static void stop_closes_the_socket(void)
{
	CHECK(server_start((gid_t)-1));
	if (!api)
		return;
	CHECK(api_timeout_ms(api) >= -1);
	server_stop();
	CHECK(fcntl(listen_fd, F_GETFD) < 0 && errno == EBADF);
}

static void other_users_need_the_admin_group(void)
{
	const gid_t admin[] = { 100, ADMIN_GID };
	const struct peer nobody = { NOBODY, NOBODY, NULL, 0 };
	const struct peer member = { NOBODY, NOBODY, admin, 2 };
	const struct peer primary = { NOBODY, ADMIN_GID, NULL, 0 };
	struct run r;
	json_t *j;

	if (geteuid() != 0) {
		printf("# skipped: needs root to connect as other users\n");
		return;
	}
	reset_registry();
	CHECK(server_start(ADMIN_GID));
	if (!api)
		return;
	exchange(get_domains, 0, &nobody, &r);
	CHECK_EQ(r.status, 0);
	CHECK(status_is(&r, "403"));
	j = body_of(&r);
	CHECK(json_string_value(json_object_get(j, "error")) &&
	      strstr(json_string_value(json_object_get(j, "error")), "permission denied"));
	json_decref(j);
	run_free(&r);
	/* Refused before the body: nothing reaches the registry. */
	exchange("POST /v1/domains/web/destroy HTTP/1.1\r\nHost: localhost\r\n"
		 "Connection: close\r\nContent-Length: 2\r\n\r\n{}", 0, &nobody, &r);
	CHECK(status_is(&r, "403"));
	CHECK_EQ(reg.destroys + reg.finds, 0);
	run_free(&r);
	exchange(get_domains, 0, &member, &r);
	CHECK(status_is(&r, "200"));
	run_free(&r);
	exchange(get_domains, 0, &primary, &r);
	CHECK(status_is(&r, "200"));
	run_free(&r);
	server_stop();

	/* Root only. */
	CHECK(server_start((gid_t)-1));
	if (!api)
		return;
	exchange(get_domains, 0, &member, &r);
	CHECK(status_is(&r, "403"));
	run_free(&r);
	exchange(get_domains, 0, NULL, &r);
	CHECK(status_is(&r, "200"));
	run_free(&r);
	server_stop();
}

static void socket_upgrades_to_the_console(void)
{
	static const char upgrade[] =
		"GET /v1/domains/web/console?force=1 HTTP/1.1\r\nHost: localhost\r\n"
		"Connection: Upgrade\r\nUpgrade: corral-console\r\n\r\n";
	char request[512];
	struct run r;
	json_t *j;

	reset_registry();
	CHECK(server_start((gid_t)-1));
	if (!api)
		return;
	/* Keys right behind the request: MHD's extra bytes, or the stream's first. */
	snprintf(request, sizeof(request), "%sroot\n", upgrade);
	exchange(request, 0, NULL, &r);
	CHECK_EQ(r.status, 0);
	CHECK(status_is(&r, "101"));
	CHECK(has_header(&r, "\r\nUpgrade: corral-console\r\n"));
	/* The stream: the console's greeting, its answer, then the end (MHD
	 * closed the socket when the console was done with it). */
	CHECK(r.out.data && strstr(r.out.data, "\r\n\r\nlogin: hello root\r\n"));
	CHECK_EQ(reg.console_attaches, 1);
	CHECK(reg.console_force);
	/* (exchange() sends a chunked body's end, "0\r\n\r\n", after it.) */
	CHECK(!strncmp(reg.console_got, "root\n", 5));
	CHECK_EQ(reg.console_fd, -1);
	run_free(&r);

	/* Refused after the 101 (the domain went meanwhile, say): one line, closed. */
	reg.console_rc = -EIO;
	exchange(upgrade, 0, NULL, &r);
	CHECK(status_is(&r, "101"));
	CHECK(r.out.data && strstr(r.out.data, "\r\n\r\ncorral: cannot attach to the console "
				   "of 'web': Input/output error\r\n"));
	run_free(&r);
	reg.console_rc = 0;

	exchange("GET /v1/domains/web/console HTTP/1.1\r\nHost: localhost\r\n"
		 "Connection: close\r\n\r\n", 0, NULL, &r);
	CHECK(status_is(&r, "400"));
	j = body_of(&r);
	CHECK(json_string_value(json_object_get(j, "error")) &&
	      strstr(json_string_value(json_object_get(j, "error")), "Upgrade"));
	json_decref(j);
	run_free(&r);
	CHECK_EQ(reg.console_attaches, 1);
	server_stop();
}

/* ---- corral, end to end -------------------------------------------------- */

static const char *corral_bin;

/* Runs `corral ARGS...` (NULL-terminated) against the server, the socket in
 * $CORRAL_SOCKET unless `env` is 0. */
static const char *corral_input;	/* corral()'s stdin (NULL: none, EOF at once) */

static void vcorral(struct run *r, int env, va_list ap)
{
	const char *argv[16] = { corral_bin };
	int in[2], out[2], err[2];
	size_t argc = 1;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	while (argc < 15 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	argv[argc] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return;
	/* Small enough for the pipe: written whole before the child runs. */
	if (corral_input && write(in[1], corral_input, strlen(corral_input)) < 0)
		printf("# corral's input: %s\n", strerror(errno));
	close(in[1]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (env)
			setenv("CORRAL_SOCKET", sock_path, 1);
		else
			unsetenv("CORRAL_SOCKET");
		execv(corral_bin, (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	drive(pid, out[0], err[0], r);
}

static void corral(struct run *r, int env, ...)
{
	va_list ap;

	va_start(ap, env);
	vcorral(r, env, ap);
	va_end(ap);
}

static bool out_has(const struct run *r, const char *words)
{
	bool ok = r->out.data && strstr(r->out.data, words);

	if (!ok)
		printf("# stdout: %s\n", r->out.data ? r->out.data : "(none)");
	return ok;
}

static bool err_has(const struct run *r, const char *words)
{
	bool ok = r->err.data && strstr(r->err.data, words);

	if (!ok)
		printf("# stderr: %s\n", r->err.data ? r->err.data : "(none)");
	return ok;
}

/* Runs corral (socket from the environment) with the NULL-terminated
 * arguments; whether it exits with `status` and prints `out` and `err`
 * (NULL: anything) on stdout and stderr. */
static bool corral_says(int status, const char *out, const char *err, ...)
{
	struct run r;
	va_list ap;
	bool ok;

	va_start(ap, err);
	vcorral(&r, true, ap);
	va_end(ap);
	ok = r.status == status && (!out || out_has(&r, out)) && (!err || err_has(&r, err));
	if (r.status != status)
		printf("# corral exited with %d, not %d\n", r.status, status);
	run_free(&r);
	return ok;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = false;
	return ok;
}

static bool have_corral(void)
{
	if (!corral_bin)
		printf("# skipped: $CORRAL_BIN is not set\n");
	return corral_bin && server_start((gid_t)-1);
}

/* corral list's columns, as xl's. */
#define ROW "%-40s %5s %5s %5s %-13s %8s\n"

static void corral_list(void)
{
	char row[128];
	struct run r;
	json_t *j;

	reset_registry();
	if (!have_corral())
		return;
	corral(&r, true, "list", NULL);
	CHECK_EQ(r.status, 0);
	snprintf(row, sizeof(row), ROW, "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
	CHECK(r.out.data && !strncmp(r.out.data, row, strlen(row)));
	snprintf(row, sizeof(row), ROW, "web", "1", "512", "2", "running", "12.2");
	CHECK(out_has(&r, row));
	snprintf(row, sizeof(row), ROW, "old", "-", "512", "2", "shutoff", "12.2");
	CHECK(out_has(&r, row));
	CHECK(!r.err.data);
	run_free(&r);

	corral(&r, true, "list", "-l", NULL);
	CHECK_EQ(r.status, 0);
	j = r.out.data ? json_loads(r.out.data, 0, NULL) : NULL;
	CHECK(json_is_array(j) && json_array_size(j) == 3);
	json_decref(j);
	run_free(&r);

	corral(&r, true, "list", "db", "nosuch", "a/b", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(out_has(&r, "\ndb "));
	CHECK(r.out.data && !strstr(r.out.data, "web"));
	CHECK(err_has(&r, "corral list: no domain 'nosuch'\n"));
	CHECK(err_has(&r, "corral list: no domain 'a/b'\n"));
	run_free(&r);
	server_stop();
}

static void corral_create(void)
{
	char cfg[160], bad[160];
	struct run r;
	json_t *j;

	reset_registry();
	if (!have_corral())
		return;
	snprintf(cfg, sizeof(cfg), "%s/web.cfg", dir);
	snprintf(bad, sizeof(bad), "%s/latin1.cfg", dir);
	CHECK(write_file(cfg, "name = 'new'\nmemory = 512\n"));
	CHECK(write_file(bad, "name = 'new'\n# \xe9t\xe9\n"));

	reg.create_warns = true;
	corral(&r, true, "create", "-n", cfg, "memory=1024", "vcpus=2", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(reg.creates, 1);
	CHECK(reg.dry_run);
	CHECK(!strcmp(reg.source, cfg));
	CHECK(reg.text && !strcmp(reg.text, "name = 'new'\nmemory = 512\n"));
	CHECK_EQ(reg.noverrides, 2);
	CHECK(!strcmp(reg.overrides[0], "memory=1024") && !strcmp(reg.overrides[1], "vcpus=2"));
	j = r.out.data ? json_loads(r.out.data, 0, NULL) : NULL;
	CHECK(json_string_value(json_object_get(j, "name")) &&
	      !strcmp(json_string_value(json_object_get(j, "name")), "new"));
	json_decref(j);
	CHECK(err_has(&r, ":2:1: warning: unknown key 'cpu_weight'\n"));
	run_free(&r);

	/* Without -n: quiet but for the warnings. */
	reg.create_warns = false;
	corral(&r, true, "create", cfg, NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!reg.dry_run);
	CHECK(!reg.paused);
	CHECK(!r.out.data && !r.err.data);
	run_free(&r);
	corral(&r, true, "create", "-p", cfg, NULL);
	CHECK_EQ(r.status, 0);
	CHECK(reg.paused);
	run_free(&r);
	corral(&r, true, "create", "-n", "-p", cfg, NULL);
	CHECK_EQ(r.status, 2);
	run_free(&r);

	/* The daemon's errors, at the user's file:line:col; no summary besides. */
	reg.create_rc = REGISTRY_EINVAL;
	corral(&r, true, "create", cfg, NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, cfg));
	CHECK(err_has(&r, ":1:9: error: memory: expected a number\n"));
	CHECK(r.err.data && !strstr(r.err.data, "corral create:"));
	CHECK(!r.out.data);
	run_free(&r);

	reg.create_rc = REGISTRY_EEXIST;
	corral(&r, true, "create", "-n", cfg, NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral create: a domain of that name exists\n"));
	run_free(&r);

	/* Checked here: what JSON cannot carry, and files that cannot be read. */
	reg.create_rc = 0;
	reg.creates = 0;
	corral(&r, true, "create", bad, NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, ":2:3: error: byte 0xe9 is not UTF-8 text\n"));
	run_free(&r);
	corral(&r, true, "create", cfg, "memory=\xff", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "argument 1:1:8: error: byte 0xff"));
	run_free(&r);
	corral(&r, true, "create", "/nonexistent/web.cfg", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "/nonexistent/web.cfg: error: cannot read: No such file or directory\n"));
	run_free(&r);
	CHECK_EQ(reg.creates, 0);

	corral(&r, true, "create", NULL);
	CHECK_EQ(r.status, 2);
	run_free(&r);
	corral(&r, true, "create", "--help", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(out_has(&r, "usage: corral create"));
	run_free(&r);
	unlink(cfg);
	unlink(bad);
	server_stop();
}

static void corral_shutdown_and_destroy(void)
{
	struct run r;

	reset_registry();
	if (!have_corral())
		return;
	corral(&r, true, "shutdown", "-w", "-F", "-t", "5", "1", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(reg.shutdowns, 1);
	CHECK(reg.force);
	CHECK_EQ(reg.timeout_s, 5);
	CHECK(!strcmp(reg.doms[0].state, "shutoff"));
	CHECK(!r.out.data && !r.err.data);
	run_free(&r);

	corral(&r, true, "shutdown", "web", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral shutdown: cannot shut down domain 'web' in its current state\n"));
	run_free(&r);

	corral(&r, true, "shutdown", "db", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!reg.force);
	CHECK_EQ(reg.timeout_s, API_SHUTDOWN_TIMEOUT_DEFAULT);
	run_free(&r);

	corral(&r, true, "destroy", "old", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!reg.doms[2].used);
	run_free(&r);
	corral(&r, true, "destroy", "old", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral destroy: no domain 'old'\n"));
	run_free(&r);
	corral(&r, true, "shutdown", "-w", "nosuch", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral shutdown: no domain 'nosuch'\n"));
	run_free(&r);
	server_stop();
}

static void corral_pause_reboot_and_lookups(void)
{
	reset_registry();
	if (!have_corral())
		return;
	CHECK(corral_says(0, NULL, NULL, "pause", "web", NULL));
	CHECK(!strcmp(reg.doms[0].state, "paused"));
	CHECK(corral_says(0, NULL, NULL, "unpause", "1", NULL));
	CHECK(!strcmp(reg.doms[0].state, "running"));
	CHECK(corral_says(1, NULL, "corral pause: cannot pause domain 'old' in its current state\n",
			  "pause", "old", NULL));
	/* -w waits until the domain runs as another VMM. */
	CHECK(corral_says(0, NULL, NULL, "reboot", "-w", "web", NULL));
	CHECK_EQ(reg.reboots, 1);
	CHECK_EQ(reg.doms[0].pid, 1100);
	CHECK(corral_says(2, NULL, "usage: corral reboot", "reboot", "-F", "web", NULL));

	CHECK(corral_says(0, "2\n", NULL, "domid", "db", NULL));
	CHECK(corral_says(1, NULL, "corral domid: domain 'old' is not running\n", "domid", "old",
			  NULL));
	CHECK(corral_says(0, "db\n", NULL, "domname", "2", NULL));
	CHECK(corral_says(2, NULL, "is not a domain ID", "domname", "db", NULL));
	CHECK(corral_says(1, NULL, "corral domname: no domain '9'\n", "domname", "9", NULL));
	server_stop();
}

static void corral_info_uptime_and_vcpu_list(void)
{
	struct run r;

	reset_registry();
	if (!have_corral())
		return;
	CHECK(corral_says(0, "host                  : dom0\n", NULL, "info", NULL));
	CHECK(corral_says(0, "nr_cpus               : 8\n", NULL, "info", NULL));
	CHECK(corral_says(0, "\nweb ", NULL, "uptime", NULL));
	CHECK(corral_says(0, "Uptime\n", NULL, "uptime", "web", NULL));
	/* Only running domains have an uptime: the header alone. */
	CHECK(corral_says(0, "Uptime\n", NULL, "uptime", "old", NULL));
	corral(&r, true, "uptime", "old", NULL);
	CHECK(r.out.data && !strstr(r.out.data, "old"));
	run_free(&r);
	CHECK(corral_says(0, "--p", NULL, "vcpu-list", "db", NULL));
	CHECK(corral_says(0, "-b-", NULL, "vcpu-list", "db", NULL));
	CHECK(corral_says(0, "0-3\n", NULL, "vcpu-list", "db", NULL));
	CHECK(corral_says(1, NULL, "corral vcpu-list: no domain 'x'\n", "vcpu-list", "x", NULL));
	server_stop();
}

static void corral_console(void)
{
	struct run r;

	reset_registry();
	if (!have_corral())
		return;
	/* stdin is not a terminal: its lines go to the guest, and corral reads
	 * on after its end until the console closes. */
	corral_input = "root\n";
	corral(&r, true, "console", "web", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(out_has(&r, "login: hello root\r\n"));
	CHECK(err_has(&r, "corral console: the console of 'web' closed"));
	CHECK(!reg.console_force);
	run_free(&r);
	corral(&r, true, "console", "-f", "1", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(reg.console_force);
	CHECK_EQ(reg.console_attaches, 2);
	run_free(&r);

	corral(&r, true, "console", "nosuch", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral console: no domain 'nosuch'\n"));
	run_free(&r);
	corral(&r, true, "console", "old", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral console: domain 'old' has no console: it is not running\n"));
	run_free(&r);
	corral(&r, true, "console", "a/b", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral console: no domain 'a/b'\n"));
	run_free(&r);
	corral(&r, true, "console", NULL);
	CHECK_EQ(r.status, 2);
	run_free(&r);
	corral(&r, true, "console", "--help", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(out_has(&r, "usage: corral console [-f] NAME"));
	run_free(&r);
	corral_input = NULL;
	CHECK_EQ(reg.console_attaches, 2);
	server_stop();
}

static void corral_create_attaches_with_c(void)
{
	char cfg[160];
	struct run r;

	reset_registry();
	if (!have_corral())
		return;
	snprintf(cfg, sizeof(cfg), "%s/new.cfg", dir);
	CHECK(write_file(cfg, "name = 'new'\n"));
	reg.create_adds = true;
	corral_input = "root\n";
	corral(&r, true, "create", "-c", cfg, NULL);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(reg.creates, 1);
	CHECK(out_has(&r, "login: hello root\r\n"));
	CHECK_EQ(reg.console_attaches, 1);
	run_free(&r);
	corral(&r, true, "create", "-c", "-n", cfg, NULL);
	CHECK_EQ(r.status, 2);
	run_free(&r);
	corral_input = NULL;
	CHECK_EQ(reg.creates, 1);
	unlink(cfg);
	server_stop();
}

static void corral_usage_errors(void)
{
	static const char *const cases[][4] = {
		{ "shutdown" }, { "shutdown", "-t", "5", "web" }, { "shutdown", "-F", "-t", "0" },
		{ "shutdown", "a", "b" }, { "destroy" }, { "destroy", "-x", "web" },
		{ "list", "-x" }, { "bogus" }, { "--socket" }, { "--bogus", "list" },
	};
	struct run r;

	reset_registry();
	if (!have_corral())
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		corral(&r, true, cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
		if (r.status != 2)
			printf("# case %zu (%s)\n", i, cases[i][0]);
		CHECK_EQ(r.status, 2);
		CHECK(r.err.data != NULL);
		run_free(&r);
	}
	corral(&r, true, NULL);
	CHECK_EQ(r.status, 2);
	run_free(&r);
	corral(&r, true, "--help", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(out_has(&r, "shutdown"));
	run_free(&r);
	CHECK_EQ(reg.lists + reg.finds + reg.shutdowns + reg.destroys + reg.creates, 0);
	server_stop();
}

static void corral_network(void)
{
	char cfg[160];

	reset_registry();
	if (!have_corral())
		return;
	CHECK(corral_says(0, "corral0         192.168.42.18/24   192.168.42.100-192.168.42.199 "
			  "  example.com          eth1            1\n", NULL, "network", "list", NULL));
	CHECK(corral_says(0, "isolated     : yes\n", NULL, "network", "show", "corral0", NULL));
	CHECK(corral_says(0, "192.168.42.19 (reserved)  yum kdc\n", NULL, "network", "show",
			  "corral0", NULL));
	CHECK(corral_says(0, "uplink dhcp_in                                      7           "
			  "2400\n", NULL, "network", "show", "corral0", NULL));
	CHECK(corral_says(0, "ports vif3.0 mac", NULL, "network", "show", "corral0", NULL));
	CHECK(corral_says(0, "\"dnsmasq_pid\": 4321", NULL, "network", "show", "--json",
			  "corral0", NULL));
	CHECK(corral_says(1, NULL, "corral network: no network 'nosuch'\n", "network", "show",
			  "nosuch", NULL));
	snprintf(cfg, sizeof(cfg), "%s/net.cfg", dir);
	CHECK(write_file(cfg, "name = 'corral0'\n"));
	CHECK(corral_says(0, NULL, NULL, "network", "create", cfg, NULL));
	CHECK(!strcmp(reg.net_text, "name = 'corral0'\n") && !strcmp(reg.net_source, cfg));
	reg.net_create_rc = -EINVAL;
	CHECK(corral_says(1, NULL, ":3:14: error: dhcp_range: '1.2.3' is not an IPv4 address\n",
			  "network", "create", cfg, NULL));
	reg.net_destroy_rc = -EBUSY;
	CHECK(corral_says(1, NULL, "in use by krb5", "network", "destroy", "corral0", NULL));
	reg.net_destroy_rc = 0;
	CHECK(corral_says(0, NULL, NULL, "network", "destroy", "corral0", NULL));
	CHECK_EQ(reg.net_destroys, 2);
	CHECK(corral_says(2, NULL, "usage: corral network", "network", NULL));
	CHECK(corral_says(2, NULL, "usage: corral network", "network", "list", "extra", NULL));
	CHECK(corral_says(2, NULL, "usage: corral network", "network", "frob", NULL));
	CHECK(corral_says(2, NULL, "'a/b' is not a network's name", "network", "show", "a/b",
			  NULL));
	CHECK(corral_says(0, "usage: corral network", NULL, "network", "--help", NULL));
	server_stop();
}

static void corral_finds_the_socket(void)
{
	char opt[160];
	struct run r;

	reset_registry();
	if (!have_corral())
		return;
	/* --socket PATH, --socket=PATH, and before either $CORRAL_SOCKET. */
	corral(&r, false, "--socket", sock_path, "list", NULL);
	CHECK_EQ(r.status, 0);
	run_free(&r);
	snprintf(opt, sizeof(opt), "--socket=%s", sock_path);
	corral(&r, false, opt, "list", NULL);
	CHECK_EQ(r.status, 0);
	run_free(&r);
	CHECK_EQ(reg.lists, 2);
	corral(&r, true, "--socket", "/nonexistent/corral.sock", "list", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral list: cannot reach corrald at /nonexistent/corral.sock: "
			  "No such file or directory (is corrald running?)\n"));
	run_free(&r);
	server_stop();
	/* Nothing listening. */
	corral(&r, true, "destroy", "web", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(err_has(&r, "corral destroy: cannot reach corrald at "));
	run_free(&r);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test_api", LOG_LEVEL_SILENT);
	corral_bin = getenv("CORRAL_BIN");
	if (corral_bin && !*corral_bin)
		corral_bin = NULL;

	RUN(list_returns_every_domain);
	RUN(domain_by_name_or_id);
	RUN(implausible_names_are_not_looked_up);
	RUN(unknown_paths_are_404);
	RUN(wrong_method_is_405_with_allow);
	RUN(create_passes_the_request_on);
	RUN(create_dry_run_is_200);
	RUN(create_defaults);
	RUN(create_config_may_hold_nul_for_the_parser);
	RUN(create_errors_map_to_statuses);
	RUN(create_messages_stay_json_text);
	RUN(create_body_is_checked_strictly);
	RUN(shutdown_takes_force_and_timeout);
	RUN(shutdown_body_is_checked);
	RUN(shutdown_errors_map_to_statuses);
	RUN(destroy_forgets_the_domain);
	RUN(pause_unpause_and_reboot);
	RUN(vcpus_and_host_are_described);
	RUN(console_needs_the_upgrade_headers);
	RUN(console_errors_map_to_statuses);
	RUN(console_switches_protocols);
	RUN(networks_are_listed_and_shown);
	RUN(networks_are_created_and_destroyed);
	RUN(peers_root_or_admin_group);
	RUN(socket_serves_json);
	RUN(oversized_bodies_are_413);
	RUN(stop_closes_the_socket);
	RUN(other_users_need_the_admin_group);
	RUN(socket_upgrades_to_the_console);
	RUN(corral_list);
	RUN(corral_create);
	RUN(corral_shutdown_and_destroy);
	RUN(corral_pause_reboot_and_lookups);
	RUN(corral_info_uptime_and_vcpu_list);
	RUN(corral_console);
	RUN(corral_create_attaches_with_c);
	RUN(corral_usage_errors);
	RUN(corral_network);
	RUN(corral_finds_the_socket);

	json_decref(rp.body);
	free(reg.text);
	return test_done();
}
