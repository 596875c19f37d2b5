/* corrald: the daemon that owns corral's domains. */
#include "daemon/api.h"
#include "daemon/loop.h"
#include "daemon/networks.h"
#include "daemon/registry.h"
#include "daemon/store.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct options {
	const char *socket_path;
	const char *admin_group;
	const char *dnsmasq_path;
	struct registry_options reg;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: corrald [--socket PATH] [--state-dir DIR] [--run-dir DIR] [--log-dir DIR]\n"
		"               [--vmm PATH] [--dnsmasq PATH] [--console-log-max SIZE]\n"
		"               [--admin-group GROUP] [--verbose]\n"
		"\n"
		"Owns corral's domains: starts one corral-vmm per domain and serves the API\n"
		"(docs/API.md) on a Unix socket, and its managed networks (bridges, dnsmasq,\n"
		"the L2 guard). Stopping corrald leaves the domains and networks running; the\n"
		"next corrald re-adopts them.\n"
		"  --socket PATH       default /run/corral/corral.sock\n"
		"  --state-dir DIR     domain definitions (default /var/lib/corral)\n"
		"  --run-dir DIR       runtime state and VMM sockets (default /run/corral)\n"
		"  --log-dir DIR       each domain's VMM log, NAME.log, and console log,\n"
		"                      console/NAME.log (default /var/log/corral)\n"
		"  --console-log-max SIZE  a console log's cap before it is rotated to\n"
		"                      NAME.log.1, e.g. 512K or 4M (default 1M)\n"
		"  --vmm PATH          the corral-vmm binary (default: next to corrald)\n"
		"  --dnsmasq PATH      the dnsmasq binary (default: dnsmasq on PATH)\n"
		"  --admin-group NAME  members may use the API besides root (default: root only)\n");
}

/* corral-vmm installed or built next to corrald, unless --vmm says otherwise. */
static const char *default_vmm(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n < 0)
		return "corral-vmm";
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash + 1, "corral-vmm");
	if (access(path, X_OK) == 0)
		return path;
	/* In the build tree corrald is in src/daemon, corral-vmm in src/vmm. */
	strcpy(slash, "/../vmm/corral-vmm");
	return path;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "run-dir", required_argument, NULL, 'R' },
		{ "log-dir", required_argument, NULL, 'L' },
		{ "vmm", required_argument, NULL, 'V' },
		{ "dnsmasq", required_argument, NULL, 'D' },
		{ "console-log-max", required_argument, NULL, 'c' },
		{ "admin-group", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t size;
	int c;

	*o = (struct options){ .reg = { .state_dir = "/var/lib/corral", .run_dir = "/run/corral",
					     .log_dir = "/var/log/corral" } };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket_path = optarg; break;
		case 'S': o->reg.state_dir = optarg; break;
		case 'R': o->reg.run_dir = optarg; break;
		case 'L': o->reg.log_dir = optarg; break;
		case 'V': o->reg.vmm_path = optarg; break;
		case 'D': o->dnsmasq_path = optarg; break;
		case 'c':
			if (parse_size(optarg, &size) < 0 || size < 4096 || size > GiB(1)) {
				fprintf(stderr, "corrald: --console-log-max: expected a size from 4K "
					"to 1G, not '%s'\n", optarg);
				return -EINVAL;
			}
			o->reg.console_log_max = (size_t)size;
			break;
		case 'g': o->admin_group = optarg; break;
		case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->reg.vmm_path)
		o->reg.vmm_path = default_vmm();
	return 0;
}

/* Binds the API socket, refusing to take it from a corrald that still
 * answers there; a stale socket file is replaced. */
static int listen_api(const char *path, gid_t gid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_errno("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		log_error("another corrald is serving %s", path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(path, gid == (gid_t)-1 ? 0600 : 0660) < 0 ||
	    (gid != (gid_t)-1 && chown(path, 0, gid) < 0) || listen(fd, 64) < 0) {
		int err = log_errno(path);

		close(fd);
		return err;
	}
	return fd;
}

/* Each watch is the first member of its struct, so a callback finds its own. */
struct signal_watch {
	struct watch w;
	bool stop;
};

struct api_watch {
	struct watch w;
	struct api *api;
};

static void on_signal(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(w->fd, &si, sizeof(si)) == sizeof(si))
		log_info("SIG%s: stopping; the domains keep running", sigabbrev_np(si.ssi_signo));
	((struct signal_watch *)w)->stop = true;
}

static void on_api(struct watch *w, uint32_t events)
{
	(void)events;
	api_run(((struct api_watch *)w)->api);
}

static int serve(struct options *o, gid_t gid)
{
	struct signal_watch sig = { .w = { .fn = on_signal } };
	struct api_watch api = { .w = { .fn = on_api } };
	struct registry *reg = NULL;
	struct networks *nets = NULL;
	struct loop loop;
	sigset_t set;
	int listen_fd, err;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig.w.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	err = sig.w.fd < 0 ? log_errno("signalfd") : loop_init(&loop);
	if (err)
		return err;
	err = loop_add(&loop, &sig.w, EPOLLIN);
	/* The socket first: a second corrald must be refused before it
	 * touches any domain, network or file. */
	listen_fd = err ? err : listen_api(o->socket_path, gid);
	err = listen_fd < 0 ? listen_fd : 0;
	if (!err)
		err = networks_open(&nets, &(struct networks_options){
			.state_dir = o->reg.state_dir, .run_dir = o->reg.run_dir,
			.dnsmasq_path = o->dnsmasq_path }, &loop);
	o->reg.networks = nets;
	if (!err)
		err = registry_open(&reg, &o->reg, &loop);
	if (err && listen_fd >= 0)
		close(listen_fd);
	else if (!err)
		err = api_start(&api.api, listen_fd, reg, gid);
	if (!err) {
		api.w.fd = api_fd(api.api);
		err = loop_add(&loop, &api.w, EPOLLIN);
	}
	if (!err)
		log_info("serving %s (state %s, run %s, vmm %s)", o->socket_path, o->reg.state_dir,
			 o->reg.run_dir, o->reg.vmm_path);
	while (!err && !sig.stop) {
		err = loop_once(&loop, api_timeout_ms(api.api));
		api_run(api.api);
		registry_reap(reg);
	}
	/* The registry first: its console hubs hand their users' connections
	 * back to the API, which closes them. */
	if (reg)
		registry_close(reg);
	if (api.api)
		api_stop(api.api);
	if (nets)
		networks_close(nets);
	loop_fini(&loop);
	close(sig.w.fd);
	return err;
}

int main(int argc, char **argv)
{
	struct options o;
	gid_t gid = (gid_t)-1;
	char default_socket[PATH_MAX];
	int err;

	log_init("corrald", LOG_LEVEL_INFO);
	if (parse_options(argc, argv, &o) < 0)
		return 2;
	if (!o.socket_path) {
		snprintf(default_socket, sizeof(default_socket), "%s/corral.sock", o.reg.run_dir);
		o.socket_path = default_socket;
	}
	if (o.admin_group) {
		struct group *g = getgrnam(o.admin_group);

		if (!g) {
			log_error("no group named %s", o.admin_group);
			return 1;
		}
		gid = g->gr_gid;
	}
	err = store_mkdirs(o.reg.run_dir);
	if (!err)
		err = store_mkdirs(o.reg.state_dir);
	if (!err)
		err = serve(&o, gid);
	return err ? 1 : 0;
}
