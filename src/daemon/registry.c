#include "daemon/registry.h"
#include "daemon/console.h"
#include "daemon/launch.h"
#include "daemon/loop.h"
#include "daemon/networks.h"
#include "daemon/procinfo.h"
#include "daemon/store.h"
#include "daemon/vmm_control.h"
#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define DEFINITION_MAX MiB(1)
#define QUICK_RUN_MS 10000	/* a guest that stops sooner than this... */
#define QUICK_RESTARTS_MAX 5	/* ...this often in a row is not restarted again */
#define DOMAIN_ID_MAX 32767	/* as Xen's DOMID_FIRST_RESERVED - 1 */

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* How a VMM ended, from its exit status (docs/corral-vmm.md). */
enum vmm_end { VMM_POWEROFF, VMM_REBOOT, VMM_CRASH, VMM_STOPPED };

struct domain {
	struct registry *r;
	struct domain *next;
	char name[DOMAIN_NAME_MAX + 16];	/* room for a rename-restart suffix */
	unsigned id;				/* 0 while not running */
	struct domain_config dc;
	char *definition;			/* the xl.cfg text kept in state_dir */
	enum domain_state state;
	pid_t pid;
	struct watch exit_watch;		/* the VMM's pidfd */
	struct watch force_watch;		/* timerfd of shutdown -F; fd -1 if none */
	bool own_child;				/* waitid() can tell how it ended */
	bool destroying;
	bool forced;				/* shutdown -F ran out of time: a poweroff */
	bool reboot_requested;			/* corral reboot: a poweroff is a reboot */
	struct console_hub *console;		/* NULL while nobody needs it */
	char taps[VMM_TAPS_MAX][IFNAMSIZ];	/* while running: vif i's tap */
	int64_t started_ms;
	unsigned quick_restarts;
	bool gone;				/* freed by registry_reap() */
};

struct registry {
	struct registry_options opt;
	struct loop *loop;
	struct domain *domains;
	unsigned last_id;			/* the ID handed out last */
	struct domain *starting;		/* its taps are open, its VMM not yet */
};

static const char *const state_names[] = {
	[DOMAIN_RUNNING] = "running",
	[DOMAIN_PAUSED] = "paused",
	[DOMAIN_SHUTTING_DOWN] = "shutting-down",
	[DOMAIN_SHUTOFF] = "shutoff",
	[DOMAIN_CRASHED] = "crashed",
};

const char *domain_state_name(enum domain_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static void definition_path(const struct registry *r, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/domains/%s.cfg", r->opt.state_dir, name);
}

static void run_path(const struct registry *r, const char *name, const char *file, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/domains/%s%s%s", r->opt.run_dir, name, file ? "/" : "", file ? file : "");
}

static bool is_running(const struct domain *dom)
{
	return dom->state == DOMAIN_RUNNING || dom->state == DOMAIN_PAUSED ||
	       dom->state == DOMAIN_SHUTTING_DOWN;
}

/* ---- Runtime state ----------------------------------------------------- */

static int save_state(struct domain *dom)
{
	char path[PATH_MAX], *text;
	json_t *j = json_pack("{s:s, s:i, s:i, s:s, s:b}", "name", dom->name, "id", (int)dom->id,
			      "pid", (int)dom->pid, "state", domain_state_name(dom->state),
			      "reboot", dom->reboot_requested);
	int err;

	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	run_path(dom->r, dom->name, "state.json", path, sizeof(path));
	err = store_write(path, text, strlen(text));
	free(text);
	return err;
}

/* ---- Identity: UUID and MACs --------------------------------------------- */

static int make_uuid(uint8_t uuid[16])
{
	if (getrandom(uuid, 16, 0) != 16)
		return log_errno("getrandom");
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);	/* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	return 0;
}

/* A vif without mac= gets one in Xen's range 00:16:3e, derived from the
 * domain's UUID and the vif's index, so it stays the same across restarts
 * of the domain and of corrald. */
static void derive_mac(const uint8_t uuid[16], size_t index, uint8_t mac[6])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < 16; i++)
		h = (h ^ uuid[i]) * 16777619u;
	h = (h ^ (uint32_t)index) * 16777619u;
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)((h >> 16) & 0x7f);	/* Xen keeps the top bit clear */
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

static const struct domain *mac_owner(const struct registry *r, const uint8_t mac[6])
{
	for (const struct domain *dom = r->domains; dom; dom = dom->next)
		for (size_t i = 0; i < dom->dc.nvifs; i++)
			if (!memcmp(dom->dc.vifs[i].mac, mac, 6))
				return dom;
	return NULL;
}

static int assign_macs(const struct registry *r, struct domain_config *dc, struct diag *d)
{
	for (size_t i = 0; i < dc->nvifs; i++) {
		struct vif_spec *vs = &dc->vifs[i];
		const struct domain *owner;

		if (!vs->has_mac) {
			derive_mac(dc->uuid, i, vs->mac);
			vs->has_mac = true;
		}
		owner = mac_owner(r, vs->mac);
		if (owner) {
			char mac[MAC_TEXT_LEN];

			mac_format(vs->mac, mac);
			diag_error(d, NULL, (struct src_pos){ 0 }, "vif %zu: MAC %s is domain %s's",
				   i, mac, owner->name);
			return REGISTRY_EINVAL;
		}
	}
	return 0;
}

/* ---- Definitions ------------------------------------------------------- */

/* Parses a definition (or a new domain's text and overrides) into dc. */
static int parse_domain(const char *text, size_t len, const char *source,
			const char *const *overrides, size_t noverrides, bool check_files,
			struct diag *d, struct domain_config *dc)
{
	const struct domain_config_options opt = { .check_files = check_files };
	struct xlcfg cfg;
	int err;

	xlcfg_init(&cfg);
	err = xlcfg_parse(&cfg, text, len, source, d);
	for (size_t i = 0; i < noverrides; i++) {
		char where[32];

		snprintf(where, sizeof(where), "argument %zu", i + 1);
		if (xlcfg_parse(&cfg, overrides[i], strlen(overrides[i]), where, d) < 0)
			err = -EINVAL;
	}
	if (!err)
		err = domain_config_from_xlcfg(dc, &cfg, &opt, d);
	xlcfg_free(&cfg);
	return err == -ENOMEM ? err : err ? REGISTRY_EINVAL : 0;
}

/* The text kept for a new domain: what the user gave, then the overrides,
 * then the UUID corrald made if there was none. */
static char *definition_text(const char *text, size_t len, const char *const *overrides,
			     size_t noverrides, const struct domain_config *dc, bool made_uuid)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	const uint8_t *u = dc->uuid;

	if (!f)
		return NULL;
	fwrite(text, 1, len, f);
	fputs("\n# corrald: overrides given to corral create, and the identity it made\n", f);
	for (size_t i = 0; i < noverrides; i++)
		fprintf(f, "%s\n", overrides[i]);
	if (made_uuid)
		fprintf(f, "uuid = \"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x\"\n", u[0], u[1], u[2], u[3], u[4], u[5], u[6],
			u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- Domains in memory ---------------------------------------------------- */

static struct domain *domain_new(struct registry *r)
{
	struct domain *dom = calloc(1, sizeof(*dom));

	if (!dom)
		return NULL;
	dom->r = r;
	dom->exit_watch.fd = -1;
	dom->force_watch.fd = -1;
	return dom;
}

static void domain_free(struct domain *dom)
{
	if (dom->console)
		console_hub_close(dom->console);
	if (dom->exit_watch.fd >= 0)
		close(dom->exit_watch.fd);
	if (dom->force_watch.fd >= 0)
		close(dom->force_watch.fd);
	domain_config_free(&dom->dc);
	free(dom->definition);
	free(dom);
}

static void link_domain(struct registry *r, struct domain *dom)
{
	dom->next = r->domains;
	r->domains = dom;
}

/* ---- Starting and ending VMMs ------------------------------------------- */

/* IDs go up, as Xen's do, so that a restarted domain gets a new one and an
 * ID seen a moment ago does not name another domain now; past the top they
 * start again from 1, skipping those in use. */
static unsigned next_id(struct registry *r)
{
	for (;;) {
		unsigned id = r->last_id = r->last_id >= DOMAIN_ID_MAX ? 1 : r->last_id + 1;
		const struct domain *dom = r->domains;

		while (dom && dom->id != id)
			dom = dom->next;
		if (!dom)
			return id;
	}
}

static void on_vmm_exit(struct watch *w, uint32_t events);

/* Attaches the domain's console hub (made on first use) to its VMM. A
 * console that fails costs the domain its console, not its life. */
static void connect_console(struct domain *dom)
{
	struct registry *r = dom->r;
	char dir[PATH_MAX], log_path[PATH_MAX + DOMAIN_NAME_MAX + 24], sock[PATH_MAX];
	int err = 0;

	snprintf(dir, sizeof(dir), "%s/console", r->opt.log_dir);
	snprintf(log_path, sizeof(log_path), "%s/%s.log", dir, dom->name);
	if (!dom->console) {
		err = store_mkdirs(dir);
		if (!err)
			err = console_hub_open(&dom->console, r->loop, dom->name, log_path,
					       r->opt.console_log_max ? r->opt.console_log_max :
					       CONSOLE_LOG_MAX_DEFAULT);
	}
	run_path(r, dom->name, "console.sock", sock, sizeof(sock));
	if (!err)
		err = console_hub_connect(dom->console, sock);
	if (err)
		log_error("domain %s: no console: %s", dom->name, strerror(-err));
}

/* ---- Networks: who is on them ------------------------------------------ */

static void name_taps(struct domain *dom)
{
	for (size_t i = 0; i < dom->dc.nvifs && i < VMM_TAPS_MAX; i++)
		vif_tap_name(&dom->dc.vifs[i], dom->id, i, dom->taps[i], IFNAMSIZ);
}

static int add_member(struct net_member **out, size_t *n, const struct domain *dom, size_t vif)
{
	const struct vif_spec *vs = &dom->dc.vifs[vif];
	struct net_member *grown = realloc(*out, (*n + 1) * sizeof(*grown));
	struct net_member *m;

	if (!grown)
		return -ENOMEM;
	*out = grown;
	m = &grown[(*n)++];
	*m = (struct net_member){ .hostname = dom->dc.name, .ifname = dom->taps[vif],
				  .aliases = (const char *const *)dom->dc.dns_aliases,
				  .naliases = dom->dc.ndns_aliases };
	memcpy(m->mac, vs->mac, 6);
	m->ip_reserved = m->has_ip = vs->ip && inet_pton(AF_INET, vs->ip, &m->ip) == 1;
	return 0;
}

/* networks_source: a domain is on a network while it runs. */
static int add_members(struct net_member **out, size_t *n, const struct domain *dom,
		       const char *name)
{
	for (size_t i = 0; i < dom->dc.nvifs; i++)
		if (!strcmp(dom->dc.vifs[i].bridge, name) && add_member(out, n, dom, i) < 0)
			return -ENOMEM;
	return 0;
}

/* networks_source: a domain is on a network while it runs, and while it
 * starts: the guard holds its taps before its guest can send a frame. */
static int network_members(void *ctx, const char *name, struct net_member **out, size_t *n)
{
	struct registry *r = ctx;

	for (const struct domain *dom = r->domains; dom; dom = dom->next)
		if (!dom->gone && dom != r->starting && is_running(dom) &&
		    add_members(out, n, dom, name) < 0)
			return -ENOMEM;
	return r->starting ? add_members(out, n, r->starting, name) : 0;
}

static void sync_networks(struct registry *r)
{
	if (r->opt.networks)
		networks_sync(r->opt.networks);
}

static int start_vmm(struct domain *dom, bool paused)
{
	struct registry *r = dom->r;
	char dir[PATH_MAX], log_path[PATH_MAX], exit_path[PATH_MAX];
	struct vmm_argv argv;
	cpu_set_t cpus;
	int err, pidfd, taps[VMM_TAPS_MAX];
	char why[256];

	/* admissible() checked cpus=; the host's CPUs may have changed since. */
	if (dom->dc.cpus && vmm_affinity(dom->dc.cpus, &cpus) < 0) {
		log_error("domain %s: none of its cpus (%s) is available", dom->name, dom->dc.cpus);
		return -EINVAL;
	}
	run_path(r, dom->name, NULL, dir, sizeof(dir));
	run_path(r, dom->name, "exit", exit_path, sizeof(exit_path));
	snprintf(log_path, sizeof(log_path), "%s/%s.log", r->opt.log_dir, dom->name);
	err = store_mkdirs(dir);
	if (!err)
		err = store_mkdirs(r->opt.log_dir);
	if (err)
		return err;
	/* The last VMM's status must not pass for the next one's. */
	unlink(exit_path);
	dom->id = next_id(r);
	err = vif_taps_open(&dom->dc, dom->id, taps, why, sizeof(why));
	if (err) {
		log_error("domain %s: %s", dom->name, why);
		dom->id = 0;
		return err;
	}
	name_taps(dom);
	r->starting = dom;
	sync_networks(r);
	r->starting = NULL;
	err = vmm_argv_build(&argv, r->opt.vmm_path, &dom->dc, dir, paused);
	if (!err)
		err = vmm_spawn(&argv, log_path, dom->dc.cpus ? &cpus : NULL, taps, dom->dc.nvifs,
				&dom->pid, &pidfd);
	vmm_argv_free(&argv);
	/* The taps are the VMM's now: they end when it does. */
	vif_taps_close(taps, dom->dc.nvifs);
	if (err) {
		dom->id = 0;
		sync_networks(r);
		return err;
	}
	dom->exit_watch = (struct watch){ .fd = pidfd, .fn = on_vmm_exit };
	err = loop_add(r->loop, &dom->exit_watch, EPOLLIN);
	if (err) {
		kill(dom->pid, SIGKILL);
		close(pidfd);
		dom->id = 0;
		sync_networks(r);
		return err;
	}
	dom->own_child = true;
	dom->forced = dom->reboot_requested = false;
	dom->state = paused ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	dom->started_ms = monotonic_ms();
	log_info("domain %s (id %u): started corral-vmm, pid %d%s", dom->name, dom->id,
		 (int)dom->pid, paused ? ", paused" : "");
	connect_console(dom);
	return save_state(dom);
}

static void stop_force_timer(struct domain *dom)
{
	if (dom->force_watch.fd < 0)
		return;
	loop_del(dom->r->loop, &dom->force_watch);
	close(dom->force_watch.fd);
	dom->force_watch.fd = -1;
}

/* Removes every trace of the domain; its memory goes at registry_reap(). */
static void forget(struct domain *dom)
{
	char path[PATH_MAX];

	stop_force_timer(dom);
	if (dom->console) {
		console_hub_close(dom->console);
		dom->console = NULL;
	}
	definition_path(dom->r, dom->name, path, sizeof(path));
	unlink(path);
	run_path(dom->r, dom->name, NULL, path, sizeof(path));
	store_remove_dir(path);
	dom->gone = true;
	log_info("domain %s: destroyed", dom->name);
}

/* corral-vmm's exit statuses (docs/corral-vmm.md); errors count as crashes. */
static enum vmm_end end_of_status(int status)
{
	switch (status) {
	case 0: return VMM_POWEROFF;
	case 2: return VMM_REBOOT;
	case 5: return VMM_STOPPED;
	default: return VMM_CRASH;
	}
}

/* A VMM that is not our child left its exit status in its run directory
 * (--exit-file); one that left none was killed. */
static enum vmm_end end_from_exit_file(const struct domain *dom)
{
	char path[PATH_MAX];
	int status;
	FILE *f;

	run_path(dom->r, dom->name, "exit", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return VMM_CRASH;
	if (fscanf(f, "%d", &status) != 1)
		status = -1;
	fclose(f);
	return end_of_status(status);
}

static enum vmm_end how_it_ended(struct domain *dom)
{
	siginfo_t si = { 0 };
	enum vmm_end end;

	if (!dom->own_child)
		end = end_from_exit_file(dom);
	else if (waitid((idtype_t)P_PIDFD, (id_t)dom->exit_watch.fd, &si, WEXITED) < 0)
		end = VMM_CRASH;
	else
		end = si.si_code == CLD_EXITED ? end_of_status(si.si_status) : VMM_CRASH;
	/* corrald stopped it on behalf of shutdown -F. */
	if (dom->forced)
		return VMM_POWEROFF;
	/* corral reboot pressed the power button: the guest's poweroff is the
	 * reboot asked for (as libvirt does for guests without an agent). */
	if (end == VMM_POWEROFF && dom->reboot_requested)
		return VMM_REBOOT;
	return end;
}

static void restart(struct domain *dom)
{
	dom->quick_restarts = monotonic_ms() - dom->started_ms < QUICK_RUN_MS ? dom->quick_restarts + 1 : 0;
	if (dom->quick_restarts > QUICK_RESTARTS_MAX) {
		log_error("domain %s stopped %u times within %d s of starting; not restarting it",
			  dom->name, dom->quick_restarts, QUICK_RUN_MS / 1000);
	} else if (start_vmm(dom, false) == 0) {
		return;
	}
	dom->state = DOMAIN_CRASHED;
	save_state(dom);
}

static void preserve(struct domain *dom, enum vmm_end end)
{
	dom->state = end == VMM_CRASH ? DOMAIN_CRASHED : DOMAIN_SHUTOFF;
	save_state(dom);
	log_info("domain %s: %s, preserved", dom->name, domain_state_name(dom->state));
}

/*
 * rename-restart: the domain that ended is kept, shut off or crashed, as
 * NAME--incarnation-N (xl's name for it), while the domain restarts under
 * its own name. Keeping the copy is best effort: the restart happens anyway.
 */
static void keep_renamed_copy(struct domain *dom, enum vmm_end end)
{
	struct registry *r = dom->r;
	struct domain *copy = domain_new(r);
	char path[PATH_MAX];
	struct diag d;
	int err = copy ? 0 : -ENOMEM;

	diag_init(&d);
	for (unsigned n = 1; !err; n++) {
		if ((size_t)snprintf(copy->name, sizeof(copy->name), "%s--incarnation-%u",
				     dom->name, n) > DOMAIN_NAME_MAX)
			err = -ENAMETOOLONG;
		else if (!registry_find(r, copy->name))
			break;
	}
	if (!err)
		err = parse_domain(dom->definition, strlen(dom->definition), dom->name, NULL, 0,
				   false, &d, &copy->dc);
	if (!err)
		err = (copy->definition = strdup(dom->definition)) ? 0 : -ENOMEM;
	if (!err) {
		copy->state = end == VMM_CRASH ? DOMAIN_CRASHED : DOMAIN_SHUTOFF;
		definition_path(r, copy->name, path, sizeof(path));
		err = store_write(path, copy->definition, strlen(copy->definition));
	}
	if (!err) {
		run_path(r, copy->name, NULL, path, sizeof(path));
		err = store_mkdirs(path);
	}
	if (!err)
		err = save_state(copy);
	diag_free(&d);
	if (err) {
		log_error("domain %s: cannot keep the ended domain as a renamed copy: %s",
			  dom->name, strerror(-err));
		if (copy && err != -ENAMETOOLONG) {
			definition_path(r, copy->name, path, sizeof(path));
			unlink(path);
			run_path(r, copy->name, NULL, path, sizeof(path));
			store_remove_dir(path);
		}
		if (copy)
			domain_free(copy);
		return;
	}
	link_domain(r, copy);
	log_info("domain %s: the ended domain is kept as %s", dom->name, copy->name);
}

/* Applies on_poweroff, on_reboot or on_crash. */
static void vmm_ended(struct domain *dom, enum vmm_end end)
{
	enum domain_action action = end == VMM_POWEROFF ? dom->dc.on_poweroff :
				    end == VMM_REBOOT ? dom->dc.on_reboot : dom->dc.on_crash;

	stop_force_timer(dom);
	if (dom->console)
		console_hub_disconnect(dom->console);
	dom->pid = 0;
	dom->id = 0;
	if (dom->destroying || end == VMM_STOPPED) {
		forget(dom);
		return;
	}
	log_info("domain %s: %s; applying %s", dom->name,
		 end == VMM_POWEROFF ? "powered off" : end == VMM_REBOOT ? "rebooted" : "crashed",
		 domain_action_name(action));
	switch (action) {
	case DOMAIN_ACTION_DESTROY:
		forget(dom);
		break;
	case DOMAIN_ACTION_RENAME_RESTART:
		keep_renamed_copy(dom, end);
		restart(dom);
		break;
	case DOMAIN_ACTION_RESTART:
		restart(dom);
		break;
	case DOMAIN_ACTION_PRESERVE:
		preserve(dom, end);
		break;
	}
}

static void on_vmm_exit(struct watch *w, uint32_t events)
{
	struct domain *dom = container_of(w, struct domain, exit_watch);
	enum vmm_end end = how_it_ended(dom);

	(void)events;
	loop_del(dom->r->loop, w);
	close(w->fd);
	w->fd = -1;
	vmm_ended(dom, end);
	sync_networks(dom->r);
}

/* ---- Creating ------------------------------------------------------------ */

struct domain *registry_find(struct registry *r, const char *name)
{
	char *end;
	unsigned long id = strtoul(name, &end, 10);
	bool by_id = *name && !*end;

	for (struct domain *dom = r->domains; dom; dom = dom->next)
		if (!dom->gone && (by_id ? dom->id == id && id : !strcmp(dom->name, name)))
			return dom;
	return NULL;
}

/* Checks what corrald cannot do yet or cannot share, before any file is
 * written. */
static int admissible(struct registry *r, struct domain_config *dc, bool *made_uuid,
		      struct diag *d)
{
	cpu_set_t cpus;
	int err;

	if (registry_find(r, dc->name)) {
		diag_error(d, NULL, (struct src_pos){ 0 }, "a domain named %s exists", dc->name);
		return REGISTRY_EEXIST;
	}
	if (!dc->kernel) {
		diag_error(d, NULL, (struct src_pos){ 0 },
			   "%s: booting through a bootloader is not supported yet; give kernel=",
			   dc->name);
		return REGISTRY_EINVAL;
	}
	if (dc->cpus && vmm_affinity(dc->cpus, &cpus) < 0) {
		diag_error(d, NULL, (struct src_pos){ 0 },
			   "%s: cpus: none of %s is a CPU this host lets corrald use", dc->name,
			   dc->cpus);
		return REGISTRY_EINVAL;
	}
	if (r->opt.networks && networks_admit(r->opt.networks, dc, d) < 0)
		return REGISTRY_EINVAL;
	*made_uuid = !dc->has_uuid;
	if (*made_uuid) {
		err = make_uuid(dc->uuid);
		if (err)
			return err;
		dc->has_uuid = true;
	}
	return assign_macs(r, dc, d);
}

static int persist_and_start(struct registry *r, struct domain *dom, bool paused)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int err;

	snprintf(dir, sizeof(dir), "%s/domains", r->opt.state_dir);
	definition_path(r, dom->name, path, sizeof(path));
	err = store_mkdirs(dir);
	if (!err)
		err = store_write(path, dom->definition, strlen(dom->definition));
	if (!err)
		err = start_vmm(dom, paused);
	if (err) {
		/* Leave nothing behind: the domain never existed. */
		unlink(path);
		run_path(r, dom->name, NULL, dir, sizeof(dir));
		store_remove_dir(dir);
	}
	return err;
}

int registry_create(struct registry *r, const char *text, size_t len, const char *source,
		    const char *const *overrides, size_t noverrides, bool dry_run, bool paused,
		    struct diag *d, json_t **json)
{
	struct domain *dom = domain_new(r);
	bool made_uuid = false;
	int err = dom ? 0 : -ENOMEM;

	if (!err)
		err = parse_domain(text, len, source, overrides, noverrides, true, d,
				   &dom->dc);
	if (!err)
		err = admissible(r, &dom->dc, &made_uuid, d);
	if (!err)
		snprintf(dom->name, sizeof(dom->name), "%s", dom->dc.name);
	if (!err && !dry_run) {
		dom->definition = definition_text(text, len, overrides, noverrides, &dom->dc,
						  made_uuid);
		err = dom->definition ? persist_and_start(r, dom, paused) : -ENOMEM;
		if (err && err != REGISTRY_EINVAL)
			diag_error(d, NULL, (struct src_pos){ 0 }, "%s: cannot start: %s",
				   dom->name, strerror(-err));
	}
	if (!err && json)
		*json = dry_run ? domain_config_to_json(&dom->dc) : domain_json(dom);
	if (!err && !dry_run) {
		link_domain(r, dom);
		return 0;
	}
	if (dom)
		domain_free(dom);
	return err;
}

/* ---- Stopping ------------------------------------------------------------ */

static void on_force_timeout(struct watch *w, uint32_t events)
{
	struct domain *dom = container_of(w, struct domain, force_watch);

	(void)events;
	stop_force_timer(dom);
	if (dom->pid > 0) {
		log_info("domain %s did not power off in time; stopping it", dom->name);
		dom->forced = true;
		kill(dom->pid, SIGKILL);
	}
}

static int arm_force_timer(struct domain *dom, unsigned timeout_s)
{
	struct itimerspec when = { .it_value.tv_sec = timeout_s ? timeout_s : 1 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return log_errno("timerfd_create");
	if (timerfd_settime(fd, 0, &when, NULL) < 0) {
		close(fd);
		return log_errno("timerfd_settime");
	}
	stop_force_timer(dom);
	dom->force_watch = (struct watch){ .fd = fd, .fn = on_force_timeout };
	return loop_add(dom->r->loop, &dom->force_watch, EPOLLIN);
}

/* corral-vmm presses the ACPI power button on SIGTERM (resuming a paused
 * guest first). */
static int press_power_button(struct domain *dom)
{
	if (!is_running(dom))
		return REGISTRY_ESTATE;
	if (dom->state != DOMAIN_SHUTTING_DOWN && kill(dom->pid, SIGTERM) < 0)
		return log_errno("kill");
	dom->state = DOMAIN_SHUTTING_DOWN;
	return 0;
}

int domain_shutdown(struct registry *r, struct domain *dom, bool force, unsigned timeout_s)
{
	int err = press_power_button(dom);

	(void)r;
	if (err)
		return err;
	save_state(dom);
	return force ? arm_force_timer(dom, timeout_s) : 0;
}

int domain_reboot(struct registry *r, struct domain *dom)
{
	int err = press_power_button(dom);

	(void)r;
	if (err)
		return err;
	dom->reboot_requested = true;
	save_state(dom);
	return 0;
}

static int control(struct domain *dom, const char *cmd)
{
	char path[PATH_MAX];

	run_path(dom->r, dom->name, "control.sock", path, sizeof(path));
	return vmm_control(path, cmd, NULL);
}

/* pause (or unpause): from running to paused (or back) through the VMM. */
static int set_paused(struct domain *dom, bool pause)
{
	enum domain_state from = pause ? DOMAIN_RUNNING : DOMAIN_PAUSED;
	enum domain_state to = pause ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	int err;

	if (dom->state == to)
		return 0;
	if (dom->state != from)
		return REGISTRY_ESTATE;
	err = control(dom, pause ? "pause" : "resume");
	if (err)
		return err;
	dom->state = to;
	save_state(dom);
	log_info("domain %s: %s", dom->name, pause ? "paused" : "unpaused");
	return 0;
}

int domain_pause(struct registry *r, struct domain *dom)
{
	(void)r;
	return set_paused(dom, true);
}

int domain_unpause(struct registry *r, struct domain *dom)
{
	(void)r;
	return set_paused(dom, false);
}

int domain_console_attach(struct registry *r, struct domain *dom, int fd, const char *extra,
			  size_t extra_len, bool force, void (*done)(void *ctx), void *ctx)
{
	(void)r;
	if (!dom->console)
		return REGISTRY_ESTATE;
	return console_hub_attach(dom->console, fd, extra, extra_len, force, done, ctx);
}

int domain_destroy(struct registry *r, struct domain *dom)
{
	(void)r;
	if (!is_running(dom)) {
		forget(dom);
		return 0;
	}
	/* The exit is noticed through the pidfd, which forgets the domain. */
	dom->destroying = true;
	return kill(dom->pid, SIGKILL) < 0 ? log_errno("kill") : 0;
}

/* ---- Reporting ----------------------------------------------------------- */

json_t *domain_json(const struct domain *dom)
{
	return json_pack("{s:s, s:i, s:s, s:I, s:i, s:i, s:f, s:f, s:o}", "name", dom->name,
			 "id", (int)dom->id, "state", domain_state_name(dom->state),
			 "memory", (json_int_t)dom->dc.memory_mib, "vcpus", (int)dom->dc.vcpus,
			 "pid", (int)dom->pid, "time", proc_cpu_seconds(dom->pid),
			 "uptime", proc_age_seconds(dom->pid),
			 "config", domain_config_to_json(&dom->dc));
}

json_t *domain_vcpus_json(const struct domain *dom)
{
	return proc_vcpus_json(dom->pid, dom->state == DOMAIN_PAUSED);
}

json_t *registry_host_json(struct registry *r)
{
	json_t *host = proc_host_json();
	json_int_t domains = 0, running = 0, memory = 0;

	for (const struct domain *dom = r->domains; dom; dom = dom->next) {
		if (dom->gone)
			continue;
		domains++;
		if (is_running(dom)) {
			running++;
			memory += (json_int_t)dom->dc.memory_mib;
		}
	}
	if (host && json_object_update_new(host, json_pack("{s:s, s:I, s:I, s:I}",
							  "corral_version", CORRAL_VERSION,
							  "domains", domains, "running", running,
							  "domain_memory", memory)) < 0) {
		json_decref(host);
		return NULL;
	}
	return host;
}

static int by_id(const void *a, const void *b)
{
	const struct domain *x = *(const struct domain *const *)a;
	const struct domain *y = *(const struct domain *const *)b;
	unsigned kx = x->id ? x->id : UINT_MAX, ky = y->id ? y->id : UINT_MAX;

	return kx < ky ? -1 : kx > ky ? 1 : strcmp(x->name, y->name);
}

json_t *registry_list(struct registry *r)
{
	size_t n = 0, i = 0;
	const struct domain **all;
	json_t *list = json_array();

	for (struct domain *dom = r->domains; dom; dom = dom->next)
		n += !dom->gone;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all || !list) {
		free(all);
		json_decref(list);
		return NULL;
	}
	for (struct domain *dom = r->domains; dom; dom = dom->next)
		if (!dom->gone)
			all[i++] = dom;
	qsort(all, n, sizeof(*all), by_id);
	for (i = 0; i < n; i++)
		json_array_append_new(list, domain_json(all[i]));
	free(all);
	return list;
}

/* ---- Re-adoption ----------------------------------------------------------- */

/* True if `pid` runs the VMM binary (not a recycled pid). */
static bool runs_vmm(const struct registry *r, pid_t pid)
{
	char link[64], exe[PATH_MAX], want[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n < 0 || !realpath(r->opt.vmm_path, want))
		return false;
	exe[n] = '\0';
	return !strcmp(exe, want);
}

static int state_from_name(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(state_names[i], name))
			return (int)i;
	return -1;
}

/* Reads one domain's definition and runtime state; takes its VMM back if
 * it still runs. */
static int adopt(struct registry *r, const char *name)
{
	char path[PATH_MAX], *text = NULL;
	struct domain *dom = domain_new(r);
	struct diag d;
	json_t *state = NULL;
	const char *state_name = "";
	size_t len;
	int pid = 0, id = 0, reboot = 0, err;

	diag_init(&d);
	if (strlen(name) > DOMAIN_NAME_MAX) {
		log_error("%s/domains/%s: not a domain's name; leaving it alone", r->opt.run_dir, name);
		free(dom);
		return -EINVAL;
	}
	definition_path(r, name, path, sizeof(path));
	err = dom ? store_read(path, DEFINITION_MAX, &text, &len) : -ENOMEM;
	if (!err)
		err = parse_domain(text, len, path, NULL, 0, false, &d, &dom->dc);
	run_path(r, name, "state.json", path, sizeof(path));
	if (!err)
		state = json_load_file(path, 0, NULL);
	if (!err && (!state || json_unpack(state, "{s:i, s:i, s:s, s?b}", "id", &id, "pid", &pid,
					   "state", &state_name, "reboot", &reboot) < 0 ||
		     state_from_name(state_name) < 0))
		err = -EINVAL;
	if (err) {
		diag_print(&d, stderr);
		log_error("domain %s: cannot load its state (%s); leaving it alone", name,
			  strerror(-err));
		diag_free(&d);
		json_decref(state);
		free(text);
		if (dom)
			domain_free(dom);
		return err;
	}
	snprintf(dom->name, sizeof(dom->name), "%s", name);
	dom->definition = text;
	dom->state = (enum domain_state)state_from_name(state_name);
	dom->reboot_requested = reboot;
	json_decref(state);
	diag_free(&d);
	link_domain(r, dom);
	if (!is_running(dom))
		return 0;
	dom->id = (unsigned)id;
	dom->pid = pid;
	dom->started_ms = monotonic_ms();
	name_taps(dom);
	dom->exit_watch = (struct watch){ .fd = -1, .fn = on_vmm_exit };
	if (pid > 0 && runs_vmm(r, pid))
		dom->exit_watch.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (dom->exit_watch.fd < 0 || loop_add(r->loop, &dom->exit_watch, EPOLLIN) < 0) {
		log_warn("domain %s: its VMM (pid %d) ended while corrald was away", name, pid);
		vmm_ended(dom, how_it_ended(dom));
		return 0;
	}
	if (dom->id > r->last_id)
		r->last_id = dom->id;
	log_info("domain %s (id %u): re-adopted corral-vmm pid %d", name, dom->id, pid);
	connect_console(dom);
	return 0;
}

int registry_open(struct registry **out, const struct registry_options *opt, struct loop *loop)
{
	struct registry *r = calloc(1, sizeof(*r));
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (!r)
		return -ENOMEM;
	r->opt = *opt;
	r->loop = loop;
	snprintf(dir, sizeof(dir), "%s/domains", opt->run_dir);
	d = opendir(dir);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			adopt(r, e->d_name);
	if (d)
		closedir(d);
	if (opt->networks) {
		networks_set_source(opt->networks, &(struct networks_source){
			.members = network_members, .ctx = r });
		networks_sync(opt->networks);
	}
	*out = r;
	return 0;
}

void registry_reap(struct registry *r)
{
	struct domain **p = &r->domains;

	while (*p) {
		struct domain *dom = *p;

		if (dom->gone) {
			*p = dom->next;
			domain_free(dom);
		} else {
			p = &dom->next;
		}
	}
}

void registry_close(struct registry *r)
{
	while (r->domains) {
		struct domain *dom = r->domains;

		r->domains = dom->next;
		domain_free(dom);
	}
	free(r);
}

struct networks *registry_networks(struct registry *r)
{
	return r->opt.networks;
}
