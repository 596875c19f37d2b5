#include "daemon/networks.h"
#include "daemon/loop.h"
#include "daemon/store.h"
#include "net/dnsmasq.h"
#include "net/guard.h"
#include "net/lease.h"
#include "net/link.h"
#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFINITION_MAX KiB(64)
#define LEASES_MAX MiB(4)
#define DNSMASQ_QUICK_MS 10000	/* a dnsmasq that ends sooner than this... */
#define DNSMASQ_QUICK_MAX 5	/* ...this often in a row is not started again */

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct network {
	struct networks *nets;
	struct network *next;
	struct net_def def;
	struct dnsmasq dm;
	struct watch dm_watch;		/* dm.pidfd; fd -1 while dnsmasq does not run */
	int64_t dm_started_ms;
	unsigned dm_quick_exits;
	int lease_wd;			/* inotify watch of the network's directory; -1 if none */
	struct lease *leases;
	size_t nleases;
	struct net_member *members;	/* from the source, at the last sync */
	size_t nmembers;
};

struct networks {
	struct networks_options opt;
	struct loop *loop;
	struct networks_source src;
	struct network *list;
	struct watch inotify;		/* the lease files */
	bool rules_maybe_there;		/* false once a rule set of no network was applied */
};

static void definition_path(const struct networks *nets, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/networks/%s.cfg", nets->opt.state_dir, name);
}

static void run_dir(const struct networks *nets, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/net/%s", nets->opt.run_dir, name);
}

static struct network *find(const struct networks *nets, const char *name)
{
	for (struct network *net = nets->list; net; net = net->next)
		if (!strcmp(net->def.name, name))
			return net;
	return NULL;
}

const struct net_def *networks_find(const struct networks *nets, const char *name)
{
	const struct network *net = find(nets, name);

	return net ? &net->def : NULL;
}

/* ---- Members and the guard ------------------------------------------- */

static const struct lease *lease_of(const struct network *net, const uint8_t mac[6])
{
	for (size_t i = 0; i < net->nleases; i++)
		if (!memcmp(net->leases[i].mac, mac, 6))
			return &net->leases[i];
	return NULL;
}

/* Asks the source who is on `net`; a member without ip= gets the address it leased. */
static void refresh_members(struct network *net)
{
	struct networks *nets = net->nets;

	free(net->members);
	net->members = NULL;
	net->nmembers = 0;
	if (!nets->src.members ||
	    nets->src.members(nets->src.ctx, net->def.name, &net->members, &net->nmembers) < 0) {
		log_error("network %s: cannot list its members", net->def.name);
		return;
	}
	for (size_t i = 0; i < net->nmembers; i++) {
		struct net_member *m = &net->members[i];
		const struct lease *l = m->has_ip ? NULL : lease_of(net, m->mac);

		if (l) {
			m->has_ip = true;
			m->ip = l->ip;
		}
	}
}

static void apply_guard(struct networks *nets)
{
	struct guard_net *all = NULL;
	size_t n = 0;

	for (struct network *net = nets->list; net; net = net->next)
		n++;
	/* Without networks there is nothing to guard: once the table is gone
	 * (a previous corrald may have left one), nft is not asked again. */
	if (!n && !nets->rules_maybe_there)
		return;
	nets->rules_maybe_there = n > 0;
	if (n && !(all = calloc(n, sizeof(*all)))) {
		log_error("the L2 guard: out of memory; its rules are as they were");
		return;
	}
	n = 0;
	for (struct network *net = nets->list; net; net = net->next)
		all[n++] = (struct guard_net){ .def = &net->def, .members = net->members,
					       .nmembers = net->nmembers };
	if (guard_apply(all, n) < 0)
		log_error("the L2 guard: the rules could not be replaced; the old ones stay");
	free(all);
}

/* ---- Leases ------------------------------------------------------------ */

static bool same_leases(const struct lease *a, size_t na, const struct lease *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

/* Re-reads the lease file; true if it changed. */
static bool reload_leases(struct network *net)
{
	char path[PATH_MAX], *text = NULL;
	struct lease *leases = NULL;
	size_t len = 0, n = 0;

	run_dir(net->nets, net->def.name, path, sizeof(path));
	strncat(path, "/leases", sizeof(path) - strlen(path) - 1);
	/* No file yet: no leases. */
	if (store_read(path, LEASES_MAX, &text, &len) < 0)
		len = 0;
	if (lease_parse(text ? text : "", len, &leases, &n) < 0) {
		free(text);
		return false;
	}
	free(text);
	if (same_leases(leases, n, net->leases, net->nleases)) {
		free(leases);
		return false;
	}
	free(net->leases);
	net->leases = leases;
	net->nleases = n;
	return true;
}

static void on_lease_change(struct watch *w, uint32_t events)
{
	struct networks *nets = container_of(w, struct networks, inotify);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t len;

	(void)events;
	while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			for (struct network *net = nets->list; net; net = net->next)
				if (net->lease_wd == e->wd && e->len && !strcmp(e->name, "leases") &&
				    reload_leases(net))
					changed = true;
			p += sizeof(*e) + e->len;
		}
	}
	if (!changed)
		return;
	for (struct network *net = nets->list; net; net = net->next)
		refresh_members(net);
	apply_guard(nets);
}

static void watch_leases(struct network *net)
{
	char dir[PATH_MAX];

	run_dir(net->nets, net->def.name, dir, sizeof(dir));
	net->lease_wd = inotify_add_watch(net->nets->inotify.fd, dir,
					  IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
	if (net->lease_wd < 0)
		log_error("network %s: cannot watch %s: %s; addresses leased from now on are not "
			  "enforced", net->def.name, dir, strerror(errno));
	reload_leases(net);
}

/* ---- dnsmasq ------------------------------------------------------------ */

static void on_dnsmasq_exit(struct watch *w, uint32_t events);

/*
 * The library may replace dnsmasq (and its pidfd) in any call, so the loop
 * lets go of the pidfd before each call and takes the current one after:
 * a descriptor number it watched is never closed under it.
 */
static void unwatch_dnsmasq(struct network *net)
{
	if (net->dm_watch.fd >= 0)
		loop_del(net->nets->loop, &net->dm_watch);
	net->dm_watch.fd = -1;
}

static int watch_dnsmasq(struct network *net, pid_t before)
{
	int err;

	if (net->dm.pidfd < 0)
		return 0;
	if (net->dm.pid != before)
		net->dm_started_ms = monotonic_ms();
	net->dm_watch = (struct watch){ .fd = net->dm.pidfd, .fn = on_dnsmasq_exit };
	err = loop_add(net->nets->loop, &net->dm_watch, EPOLLIN);
	if (err)
		net->dm_watch.fd = -1;
	return err;
}

static int start_dnsmasq(struct network *net)
{
	char dir[PATH_MAX];
	int err;

	run_dir(net->nets, net->def.name, dir, sizeof(dir));
	unwatch_dnsmasq(net);
	err = dnsmasq_start(&net->dm, dir, net->nets->opt.dnsmasq_path, &net->def, net->members,
			    net->nmembers);
	if (!err)
		err = watch_dnsmasq(net, 0);
	return err;
}

static void update_dnsmasq(struct network *net)
{
	pid_t before = net->dm.pid;

	unwatch_dnsmasq(net);
	dnsmasq_update(&net->dm, &net->def, net->members, net->nmembers);
	watch_dnsmasq(net, before);
}

static void stop_dnsmasq(struct network *net)
{
	unwatch_dnsmasq(net);
	dnsmasq_stop(&net->dm);
}

static void on_dnsmasq_exit(struct watch *w, uint32_t events)
{
	struct network *net = container_of(w, struct network, dm_watch);

	(void)events;
	unwatch_dnsmasq(net);
	if (!dnsmasq_reap(&net->dm))
		return;
	net->dm_quick_exits = monotonic_ms() - net->dm_started_ms < DNSMASQ_QUICK_MS ?
			      net->dm_quick_exits + 1 : 0;
	if (net->dm_quick_exits > DNSMASQ_QUICK_MAX) {
		log_error("network %s: dnsmasq ended %u times in a row within %d s; not starting "
			  "it again (see %s/net/%s/dnsmasq.log)", net->def.name,
			  net->dm_quick_exits, DNSMASQ_QUICK_MS / 1000, net->nets->opt.run_dir,
			  net->def.name);
		return;
	}
	log_warn("network %s: dnsmasq ended; starting it again", net->def.name);
	refresh_members(net);
	update_dnsmasq(net);
}

void networks_sync(struct networks *nets)
{
	for (struct network *net = nets->list; net; net = net->next) {
		refresh_members(net);
		if (!net->dm.dir[0]) {
			/* A network loaded at start: its dnsmasq is taken over
			 * (or started) once the members are known, so that it
			 * is not restarted for a configuration without them. */
			start_dnsmasq(net);
			watch_leases(net);
		} else if (net->dm_quick_exits <= DNSMASQ_QUICK_MAX) {
			update_dnsmasq(net);
		}
	}
	apply_guard(nets);
}

void networks_set_source(struct networks *nets, const struct networks_source *src)
{
	nets->src = *src;
}

/* ---- Bridges and uplinks -------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(struct diag *d, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d)
		diag_error(d, NULL, (struct src_pos){ 0 }, "%s", msg);
	else
		log_error("%s", msg);
	return err;
}

/* The uplink exists, is no bridge, and is a port of nothing but `bridge`. */
static int check_uplink(const struct net_def *def, struct diag *d)
{
	struct link_info up, br;
	int err = link_get(def->uplink, &up);

	if (err == -ENODEV)
		return fail(d, -EINVAL, "%s: uplink %s: no such interface", def->name, def->uplink);
	if (err)
		return fail(d, err, "%s: uplink %s: %s", def->name, def->uplink, strerror(-err));
	if (!strcmp(up.kind, "bridge"))
		return fail(d, -EINVAL, "%s: uplink %s is a bridge; give the NIC", def->name,
			    def->uplink);
	if (up.master && (link_get(def->name, &br) < 0 || br.index != up.master))
		return fail(d, -EINVAL, "%s: uplink %s is already a port of another bridge or "
			    "bond", def->name, def->uplink);
	return 0;
}

/* Makes the bridge (or takes the one a previous corrald made), gives it the
 * host's address, attaches the uplink and brings both up. */
static int bring_up(const struct net_def *def, struct diag *d)
{
	struct link_info br;
	int err = link_get(def->name, &br);

	if (err == -ENODEV)
		err = link_bridge_add(def->name);
	else if (!err && strcmp(br.kind, "bridge"))
		return fail(d, -EEXIST, "%s: an interface of that name exists and is not a bridge",
			    def->name);
	if (!err)
		err = link_addr_add(def->name, def->address, def->prefix);
	if (!err && def->uplink[0])
		err = check_uplink(def, d);
	if (!err && def->uplink[0])
		err = link_set_master(def->uplink, def->name);
	if (!err && def->uplink[0])
		err = link_set_up(def->uplink, true);
	if (!err)
		err = link_set_up(def->name, true);
	if (err && err != -EINVAL)
		fail(d, err, "%s: cannot set up the bridge: %s", def->name, strerror(-err));
	return err;
}

static void tear_down(const struct net_def *def)
{
	if (def->uplink[0])
		link_set_master(def->uplink, NULL);
	link_delete(def->name);
}

/* ---- Networks as a whole ----------------------------------------------------- */

static void network_free(struct network *net)
{
	if (net->lease_wd >= 0)
		inotify_rm_watch(net->nets->inotify.fd, net->lease_wd);
	unwatch_dnsmasq(net);
	if (net->dm.pidfd >= 0)
		close(net->dm.pidfd);
	free(net->members);
	free(net->leases);
	free(net);
}

static struct network *network_new(struct networks *nets)
{
	struct network *net = calloc(1, sizeof(*net));

	if (!net)
		return NULL;
	net->nets = nets;
	net->dm_watch.fd = -1;
	net->dm.pidfd = -1;
	net->lease_wd = -1;
	return net;
}

static void link_network(struct networks *nets, struct network *net)
{
	struct network **p = &nets->list;

	while (*p && strcmp((*p)->def.name, net->def.name) < 0)
		p = &(*p)->next;
	net->next = *p;
	*p = net;
}

/* Brings up one network a previous corrald kept; its dnsmasq waits for
 * the first networks_sync(). */
static void load(struct networks *nets, const char *file)
{
	char path[PATH_MAX], *text = NULL;
	struct network *net = network_new(nets);
	struct diag d;
	size_t len;
	int err;

	diag_init(&d);
	snprintf(path, sizeof(path), "%s/networks/%s", nets->opt.state_dir, file);
	err = net ? store_read(path, DEFINITION_MAX, &text, &len) : -ENOMEM;
	if (!err)
		err = net_def_parse(text, len, path, &d, &net->def);
	if (!err)
		err = bring_up(&net->def, NULL);
	diag_print(&d, stderr);
	diag_free(&d);
	free(text);
	if (err) {
		log_error("%s: the network is not up (%s)", path, strerror(-err));
		if (net)
			network_free(net);
		return;
	}
	link_network(nets, net);
	log_info("network %s: up", net->def.name);
}

/*
 * RUN_DIR/net, where each dnsmasq's directory goes. dnsmasq reads its files
 * there once it is no longer root, so the run directory must let others
 * through (o+x, not o+r: they cannot list it, and each domain's directory
 * in it stays 0700).
 */
static int make_net_dir(const char *run_dir)
{
	char dir[PATH_MAX];
	struct stat st;

	if (stat(run_dir, &st) < 0)
		return log_errno(run_dir);
	if (!(st.st_mode & S_IXOTH) && chmod(run_dir, (st.st_mode & 07777) | 0111) < 0)
		return log_errno(run_dir);
	snprintf(dir, sizeof(dir), "%s/net", run_dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_errno(dir);
	return 0;
}

int networks_open(struct networks **out, const struct networks_options *opt, struct loop *loop)
{
	struct networks *nets = calloc(1, sizeof(*nets));
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int err;

	if (!nets)
		return -ENOMEM;
	nets->opt = *opt;
	nets->loop = loop;
	nets->rules_maybe_there = true;
	nets->inotify = (struct watch){ .fn = on_lease_change };
	nets->inotify.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (nets->inotify.fd < 0 || (err = loop_add(loop, &nets->inotify, EPOLLIN)) < 0) {
		err = nets->inotify.fd < 0 ? log_errno("inotify_init1") : err;
		if (nets->inotify.fd >= 0)
			close(nets->inotify.fd);
		free(nets);
		return err;
	}
	err = make_net_dir(opt->run_dir);
	if (err) {
		networks_close(nets);
		return err;
	}
	snprintf(dir, sizeof(dir), "%s/networks", opt->state_dir);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len > 4 && !strcmp(e->d_name + len - 4, ".cfg"))
			load(nets, e->d_name);
	}
	if (d)
		closedir(d);
	*out = nets;
	return 0;
}

void networks_close(struct networks *nets)
{
	while (nets->list) {
		struct network *net = nets->list;

		nets->list = net->next;
		network_free(net);
	}
	loop_del(nets->loop, &nets->inotify);
	close(nets->inotify.fd);
	free(nets);
}

/* What a new network must not share with the host or the other networks. */
static int check_new(struct networks *nets, const struct net_def *def, struct diag *d)
{
	struct link_info info;

	if (find(nets, def->name))
		return fail(d, -EEXIST, "network %s exists", def->name);
	if (link_get(def->name, &info) == 0)
		return fail(d, -EEXIST, "%s: an interface of that name exists; corral makes a "
			    "network's bridge itself", def->name);
	for (struct network *net = nets->list; net; net = net->next) {
		if (net_def_overlap(def, &net->def))
			return fail(d, -EINVAL, "%s: its subnet overlaps network %s's", def->name,
				    net->def.name);
		if (def->uplink[0] && !strcmp(def->uplink, net->def.uplink))
			return fail(d, -EINVAL, "%s: uplink %s is network %s's", def->name,
				    def->uplink, net->def.name);
	}
	return def->uplink[0] ? check_uplink(def, d) : 0;
}

int networks_create(struct networks *nets, const char *text, size_t len, const char *source,
		    struct diag *d, json_t **json)
{
	struct network *net = network_new(nets);
	char path[PATH_MAX], dir[PATH_MAX];
	bool written = false, up = false;
	int err = net ? 0 : -ENOMEM;

	if (!err)
		err = net_def_parse(text, len, source, d, &net->def);
	if (!err)
		err = check_new(nets, &net->def, d);
	snprintf(dir, sizeof(dir), "%s/networks", nets->opt.state_dir);
	if (!err)
		err = store_mkdirs(dir);
	if (!err) {
		definition_path(nets, net->def.name, path, sizeof(path));
		written = !(err = store_write(path, text, len));
	}
	if (!err)
		up = !(err = bring_up(&net->def, d));
	if (!err && (err = start_dnsmasq(net)) < 0)
		fail(d, err, "%s: dnsmasq did not start (%s); see %s/net/%s/dnsmasq.log",
		     net->def.name, strerror(-err), nets->opt.run_dir, net->def.name);
	if (err) {
		/* Leave nothing behind: the network never existed. */
		if (up)
			tear_down(&net->def);
		if (written)
			unlink(path);
		if (net)
			network_free(net);
		return err;
	}
	watch_leases(net);
	link_network(nets, net);
	apply_guard(nets);
	log_info("network %s: created", net->def.name);
	if (json)
		*json = networks_show(nets, net->def.name);
	return 0;
}

int networks_destroy(struct networks *nets, const char *name, struct diag *d)
{
	struct network *net = find(nets, name), **p;
	char path[PATH_MAX], who[256] = "";

	if (!net)
		return fail(d, -ENOENT, "no network %s", name);
	refresh_members(net);
	/* A domain's vifs are next to each other among the members. */
	for (size_t i = 0; i < net->nmembers; i++)
		if (!i || strcmp(net->members[i - 1].hostname, net->members[i].hostname))
			snprintf(who + strlen(who), sizeof(who) - strlen(who), "%s%s",
				 who[0] ? ", " : "", net->members[i].hostname);
	if (net->nmembers)
		return fail(d, -EBUSY, "network %s is in use by %s; shut those domains down "
			    "first", name, who);
	stop_dnsmasq(net);
	tear_down(&net->def);
	for (p = &nets->list; *p != net; p = &(*p)->next)
		;
	*p = net->next;
	apply_guard(nets);
	definition_path(nets, name, path, sizeof(path));
	unlink(path);
	log_info("network %s: destroyed", name);
	network_free(net);
	return 0;
}

/* ---- Domains joining ------------------------------------------------------- */

/* Whether `name` is a DNS name of a member of `net` (its name or an alias). */
static const char *name_owner(const struct network *net, const char *name)
{
	for (size_t i = 0; i < net->nmembers; i++) {
		const struct net_member *m = &net->members[i];

		if (!strcasecmp(m->hostname, name))
			return m->hostname;
		for (size_t a = 0; a < m->naliases; a++)
			if (!strcasecmp(m->aliases[a], name))
				return m->hostname;
	}
	return NULL;
}

static int admit_names(struct network *net, const struct domain_config *dc, struct diag *d)
{
	const char *owner;

	if (!dns_label_valid(dc->name))
		return fail(d, -EINVAL, "%s: network %s gives its domains DNS names, and '%s' is "
			    "not one (letters, digits and '-')", dc->name, net->def.name, dc->name);
	if ((owner = name_owner(net, dc->name)))
		return fail(d, -EINVAL, "%s: the name %s is domain %s's on network %s", dc->name,
			    dc->name, owner, net->def.name);
	for (size_t a = 0; a < dc->ndns_aliases; a++)
		if ((owner = name_owner(net, dc->dns_aliases[a])))
			return fail(d, -EINVAL, "%s: dns_aliases: %s is domain %s's on network %s",
				    dc->name, dc->dns_aliases[a], owner, net->def.name);
	return 0;
}

static int admit_address(struct network *net, const struct domain_config *dc, size_t index,
			 struct diag *d)
{
	const char *text = dc->vifs[index].ip;
	struct in_addr ip;

	if (inet_pton(AF_INET, text, &ip) != 1)
		return fail(d, -EINVAL, "%s: vif %zu: ip '%s' must be one IPv4 address on network "
			    "%s", dc->name, index, text, net->def.name);
	if (!net_def_host_address(&net->def, ip))
		return fail(d, -EINVAL, "%s: vif %zu: ip %s is not a domain's address on network "
			    "%s (subnet of %s/%u)", dc->name, index, text, net->def.name,
			    inet_ntoa(net->def.address), net->def.prefix);
	for (size_t i = 0; i < net->nmembers; i++)
		if (net->members[i].has_ip && net->members[i].ip.s_addr == ip.s_addr)
			return fail(d, -EINVAL, "%s: vif %zu: ip %s is domain %s's", dc->name,
				    index, text, net->members[i].hostname);
	for (size_t i = 0; i < index; i++)
		if (dc->vifs[i].ip && !strcmp(dc->vifs[i].ip, text))
			return fail(d, -EINVAL, "%s: vif %zu: ip %s is vif %zu's too", dc->name,
				    index, text, i);
	return 0;
}

int networks_admit(struct networks *nets, const struct domain_config *dc, struct diag *d)
{
	int status = 0;

	for (struct network *net = nets->list; net; net = net->next) {
		bool on = false;

		refresh_members(net);
		for (size_t i = 0; i < dc->nvifs; i++) {
			if (strcmp(dc->vifs[i].bridge, net->def.name))
				continue;
			on = true;
			if (dc->vifs[i].ip && admit_address(net, dc, i, d) < 0)
				status = -EINVAL;
		}
		if (on && admit_names(net, dc, d) < 0)
			status = -EINVAL;
	}
	return status;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *address_json(struct in_addr a)
{
	char text[INET_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET, &a, text, sizeof(text)));
}

static json_t *member_json(const struct net_member *m)
{
	json_t *aliases = json_array();
	char mac[MAC_TEXT_LEN];

	mac_format(m->mac, mac);
	for (size_t i = 0; i < m->naliases; i++)
		json_array_append_new(aliases, json_string(m->aliases[i]));
	return json_pack("{s:s, s:o, s:s, s:o, s:b, s:o}", "domain", m->hostname,
			 "vif", m->ifname ? json_string(m->ifname) : json_null(), "mac", mac,
			 "ip", m->has_ip ? address_json(m->ip) : json_null(),
			 "reserved", m->ip_reserved, "dns_aliases", aliases);
}

static json_t *network_json(const struct network *net)
{
	json_t *j = net_def_json(&net->def);

	json_object_set_new(j, "dnsmasq_pid", json_integer(net->dm.pid));
	json_object_set_new(j, "domains", json_integer((json_int_t)net->nmembers));
	return j;
}

json_t *networks_list(struct networks *nets)
{
	json_t *list = json_array();

	for (struct network *net = nets->list; net; net = net->next) {
		refresh_members(net);
		json_array_append_new(list, network_json(net));
	}
	return list;
}

json_t *networks_show(struct networks *nets, const char *name)
{
	struct network *net = find(nets, name);
	json_t *j, *members = json_array(), *leases = json_array(), *counters;

	if (!net)
		return NULL;
	refresh_members(net);
	j = network_json(net);
	for (size_t i = 0; i < net->nmembers; i++)
		json_array_append_new(members, member_json(&net->members[i]));
	for (size_t i = 0; i < net->nleases; i++) {
		char mac[MAC_TEXT_LEN];

		mac_format(net->leases[i].mac, mac);
		json_array_append_new(leases, json_pack("{s:s, s:o}", "mac", mac, "ip",
							address_json(net->leases[i].ip)));
	}
	counters = guard_counters_json(name);
	json_object_set_new(j, "members", members);
	json_object_set_new(j, "leases", leases);
	json_object_set_new(j, "drops", counters ? counters : json_null());
	return j;
}
