/*
 * dnsmasq as corral runs it (dnsmasq.h): the network's files written
 * atomically, the process started in a session of its own and waited for
 * until it serves, adopted again by a later corrald, told of changes and
 * stopped. The files' text is dnsmasq_conf.c's.
 */
#include "net/dnsmasq.h"
#include "common/log.h"
#include "common/util.h"
#include "config/vif_spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long start waits for dnsmasq to serve, and stop for each signal to take. */
#define START_TIMEOUT_MS 2000
#define STOP_TIMEOUT_MS 1000
#define POLL_STEP_MS 10

/* How much of dnsmasq.log an error message quotes (log_msg() keeps 1 KiB). */
#define LOG_TAIL_MAX 480

/* --- Files ---------------------------------------------------------------- */

static void path_of(const struct dnsmasq *dm, const char *name, char path[PATH_MAX])
{
	snprintf(path, PATH_MAX, "%s/%s", dm->dir, name);
}

/* dir appears in dnsmasq.conf lines unquoted, like names. */
static bool dir_ok(const char *dir)
{
	if (dir[0] != '/')
		return false;
	for (const char *p = dir; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/._-", *p))
			return false;
	return true;
}

/* Made with mode 0755 whatever the umask: dnsmasq reads it once it is no
 * longer root (dnsmasq_conf.c, DNSMASQ_USER). */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_errno(dir);
	if (chmod(dir, 0755) < 0)
		return log_errno(dir);
	return 0;
}

/*
 * Replaces dir/name with `text` by renaming a complete copy over it, so that
 * dnsmasq re-reading it on SIGHUP sees the old file or the new, never half
 * of one. (The directory is on /run, gone at reboot: no fsync.)
 */
static int write_atomic(const struct dnsmasq *dm, const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, err = 0;

	path_of(dm, name, path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_errno(tmp);
	if (fchmod(fd, 0644) < 0 || write_full(fd, text, strlen(text)) < 0)
		err = log_errno(tmp);
	if (close(fd) < 0 && !err)
		err = log_errno(tmp);
	if (!err && rename(tmp, path) < 0)
		err = log_errno(path);
	if (err)
		unlink(tmp);
	return err;
}

/* Whether dir/name holds exactly `text` (false if it cannot be read). */
static bool file_holds(const struct dnsmasq *dm, const char *name, const char *text)
{
	size_t len = strlen(text);
	char path[PATH_MAX], *buf;
	ssize_t got;
	bool same;
	int fd;

	path_of(dm, name, path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	buf = malloc(len + 1);
	/* One byte more than `text`, to see a longer file. */
	got = buf ? read_full(fd, buf, len + 1) : -1;
	close(fd);
	same = got == (ssize_t)len && !memcmp(buf, text, len);
	free(buf);
	return same;
}

static int write_members(const struct dnsmasq *dm, const struct net_def *def,
			 const struct net_member *m, size_t n)
{
	char *dhcp_hosts = dnsmasq_dhcp_hosts_text(def, m, n);
	char *hosts = dnsmasq_hosts_text(def, m, n);
	int r = -ENOMEM;

	if (dhcp_hosts && hosts)
		r = write_atomic(dm, "dhcp-hosts", dhcp_hosts);
	if (!r)
		r = write_atomic(dm, "hosts", hosts);
	if (r == -ENOMEM)
		log_error("network %s: out of memory for dnsmasq's files", def->name);
	free(dhcp_hosts);
	free(hosts);
	return r;
}

/* The pid in dnsmasq.pid, or 0 if there is none (or only part of one). */
static pid_t read_pid_file(const struct dnsmasq *dm)
{
	char path[PATH_MAX], buf[24], *end;
	ssize_t got;
	long pid;
	int fd;

	path_of(dm, "dnsmasq.pid", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	got = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = '\0';
	pid = strtol(buf, &end, 10);
	/* dnsmasq writes "PID\n": without the newline it is still writing. */
	return pid > 0 && pid <= INT_MAX && end != buf && !strcmp(end, "\n") ? (pid_t)pid : 0;
}

/* Appends `line` to out as "; line" (the first without the separator). */
static void join_line(char *out, size_t outlen, const char *line, size_t len)
{
	size_t used = strlen(out);

	if (len == 0)
		return;
	snprintf(out + used, outlen - used, "%s%.*s", used ? "; " : "", (int)len, line);
}

/* Lines of `text` into out, separated by "; ", empty ones left out. */
static void join_lines(const char *text, size_t len, char *out, size_t outlen)
{
	size_t line = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		join_line(out, outlen, text + line, i - line);
		line = i + 1;
	}
}

/*
 * What dnsmasq wrote to dnsmasq.log since offset `from` (at most its last
 * LOG_TAIL_MAX bytes, whole lines), one line per "; ": why it would not
 * start, or its last words.
 */
static void log_tail(const struct dnsmasq *dm, off_t from, char *out, size_t outlen)
{
	char path[PATH_MAX], buf[LOG_TAIL_MAX];
	const char *text = buf, *nl;
	off_t size, start;
	ssize_t got = -1;
	int fd;

	out[0] = '\0';
	path_of(dm, "dnsmasq.log", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	start = MAX(from, size - (off_t)sizeof(buf));
	if (size > start)
		got = pread(fd, buf, (size_t)(size - start), start);
	close(fd);
	if (got <= 0)
		return;
	/* Started inside a line: from the next one. */
	if (start > from) {
		nl = memchr(buf, '\n', (size_t)got);
		if (!nl)
			return;
		got -= nl + 1 - buf;
		text = nl + 1;
	}
	join_lines(text, (size_t)got, out, outlen);
}

/* --- The process -------------------------------------------------------- */

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Signals through the pidfd, which cannot reach a process that reused the pid. */
static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Whether the process behind pidfd exits within `ms`. */
static bool wait_exit(int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * Whether process `pid` is our dnsmasq on this directory: its command line
 * is exactly what spawn() gives it, the program's name aside from its path.
 */
static bool runs_our_config(const struct dnsmasq *dm, pid_t pid)
{
	char path[64], cmdline[PATH_MAX + 64], expect[PATH_MAX + 32];
	ssize_t got = -1;
	size_t arg1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read_full(fd, cmdline, sizeof(cmdline) - 1);
		close(fd);
	}
	if (got <= 0)
		return false;
	cmdline[got] = '\0';
	/* argv[0] NUL argv[1] NUL, and nothing after. */
	snprintf(expect, sizeof(expect), "--conf-file=%s/dnsmasq.conf", dm->dir);
	arg1 = strlen(cmdline) + 1;
	return !strcmp(base_name(cmdline), base_name(dm->exe)) && arg1 < (size_t)got &&
	       !strcmp(cmdline + arg1, expect) && arg1 + strlen(expect) + 1 == (size_t)got;
}

/*
 * The dnsmasq a previous corrald started on this directory, if it still
 * runs: 0 with dm->pid and dm->pidfd set, or -ESRCH. The pidfd is opened
 * first; what /proc said is about its process only if it runs after.
 */
static int adopt(struct dnsmasq *dm)
{
	pid_t pid = read_pid_file(dm);
	int fd = pid ? pidfd_open(pid) : -1;

	if (fd < 0)
		return -ESRCH;
	if (!runs_our_config(dm, pid) || pidfd_signal(fd, 0) < 0 || wait_exit(fd, 0)) {
		close(fd);
		return -ESRCH;
	}
	dm->pid = pid;
	dm->pidfd = fd;
	log_info("dnsmasq %d on %s adopted", (int)pid, dm->dir);
	return 0;
}

/* Forgets the exited (or killed) process; its wait status, or -1 if it was
 * not our child (adopted) and only its pidfd told of its end. */
static int forget(struct dnsmasq *dm)
{
	int status;
	bool ours = waitpid(dm->pid, &status, WNOHANG) == dm->pid;

	close(dm->pidfd);
	dm->pid = 0;
	dm->pidfd = -1;
	return ours ? status : -1;
}

static void status_text(int status, char *out, size_t len)
{
	if (status >= 0 && WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (status >= 0 && WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "exited");
}

/* SIGTERM, and SIGKILL if dnsmasq is still there after STOP_TIMEOUT_MS. */
static void terminate(struct dnsmasq *dm)
{
	if (dm->pidfd < 0)
		return;
	if (pidfd_signal(dm->pidfd, SIGTERM) < 0 || !wait_exit(dm->pidfd, STOP_TIMEOUT_MS)) {
		pidfd_signal(dm->pidfd, SIGKILL);
		wait_exit(dm->pidfd, STOP_TIMEOUT_MS);
	}
	forget(dm);
}

/*
 * Starts dnsmasq on dnsmasq.conf in a session of its own (it outlives
 * corrald, and a signal to corrald's process group does not reach it),
 * with no environment, stdin on /dev/null and its output appended to
 * dnsmasq.log from offset *log_start on.
 */
static int spawn(struct dnsmasq *dm, off_t *log_start)
{
	char conf[PATH_MAX + 16], log_path[PATH_MAX];
	char *argv[] = { dm->exe, conf, NULL }, *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int log_fd, err;

	path_of(dm, "dnsmasq.log", log_path);
	snprintf(conf, sizeof(conf), "--conf-file=%s/dnsmasq.conf", dm->dir);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return log_errno(log_path);
	*log_start = lseek(log_fd, 0, SEEK_END);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	/* A signal corrald ignores would stay ignored across exec. */
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	err = posix_spawnp(&dm->pid, dm->exe, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(log_fd);
	if (err) {
		dm->pid = 0;
		log_error("%s: %s", dm->exe, strerror(err));
		return -err;
	}
	dm->pidfd = pidfd_open(dm->pid);
	if (dm->pidfd < 0) {
		err = log_errno("pidfd_open");
		kill(dm->pid, SIGKILL);
		waitpid(dm->pid, NULL, 0);
		dm->pid = 0;
	}
	return err;
}

/* Logs why dnsmasq is gone, in its own words, and forgets it. */
static void start_failed(struct dnsmasq *dm, const char *bridge, off_t log_start)
{
	char status[64], tail[LOG_TAIL_MAX + 64];

	status_text(forget(dm), status, sizeof(status));
	log_tail(dm, log_start, tail, sizeof(tail));
	log_error("dnsmasq for %s %s at start: %s", bridge, status, tail[0] ? tail : "(no output)");
}

/*
 * Waits until dnsmasq has written its pid file, which it does once its
 * sockets are bound and its files read, or has exited.
 */
static int wait_ready(struct dnsmasq *dm, const char *bridge, off_t log_start)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)START_TIMEOUT_MS * 1000000;

	for (;;) {
		if (wait_exit(dm->pidfd, POLL_STEP_MS)) {
			start_failed(dm, bridge, log_start);
			return -EIO;
		}
		if (read_pid_file(dm) == dm->pid)
			return 0;
		if (monotonic_ns() > deadline) {
			log_error("dnsmasq for %s: not serving after %d ms: killed", bridge,
				  START_TIMEOUT_MS);
			pidfd_signal(dm->pidfd, SIGKILL);
			wait_exit(dm->pidfd, STOP_TIMEOUT_MS);
			start_failed(dm, bridge, log_start);
			return -ETIMEDOUT;
		}
	}
}

/*
 * Starts dnsmasq for the bridge. With bind-dynamic, dnsmasq would wait for
 * a missing bridge, its DHCP socket bound to no interface (so in the way of
 * every other network's): refused here instead.
 */
static int launch(struct dnsmasq *dm, const struct net_def *def)
{
	char pid_path[PATH_MAX];
	off_t log_start = 0;
	int r;

	if (if_nametoindex(def->name) == 0) {
		log_error("network %s: bridge %s: %s: dnsmasq not started", def->name, def->name,
			  strerror(errno));
		return -ENODEV;
	}
	/* A dead dnsmasq's pid file would look like the new one's. */
	path_of(dm, "dnsmasq.pid", pid_path);
	if (unlink(pid_path) < 0 && errno != ENOENT)
		return log_errno(pid_path);
	r = spawn(dm, &log_start);
	if (!r)
		r = wait_ready(dm, def->name, log_start);
	if (!r)
		log_info("dnsmasq %d serving %s", (int)dm->pid, def->name);
	return r;
}

/* --- The interface --------------------------------------------------------- */

static int set_paths(struct dnsmasq *dm, const char *dir, const char *dnsmasq_path)
{
	const char *exe = dnsmasq_path ? dnsmasq_path : "dnsmasq";

	if (!dir_ok(dir)) {
		log_error("dnsmasq directory '%s': not an absolute path of letters, digits, '/._-'",
			  dir);
		return -EINVAL;
	}
	if (strlen(dir) >= sizeof(dm->dir) || strlen(exe) >= sizeof(dm->exe)) {
		log_error("dnsmasq directory '%s' or program '%s': too long", dir, exe);
		return -ENAMETOOLONG;
	}
	snprintf(dm->dir, sizeof(dm->dir), "%s", dir);
	snprintf(dm->exe, sizeof(dm->exe), "%s", exe);
	return 0;
}

int dnsmasq_start(struct dnsmasq *dm, const char *dir, const char *dnsmasq_path,
		  const struct net_def *def, const struct net_member *m, size_t n)
{
	int r;

	*dm = (struct dnsmasq){ .pidfd = -1 };
	r = set_paths(dm, dir, dnsmasq_path);
	if (!r)
		r = make_dir(dm->dir);
	if (r)
		return r;
	adopt(dm);
	return dnsmasq_update(dm, def, m, n);
}

int dnsmasq_update(struct dnsmasq *dm, const struct net_def *def, const struct net_member *m,
		   size_t n)
{
	char *conf = dnsmasq_config_text(def, m, n, dm->dir);
	bool same_conf;
	int r;

	if (!conf) {
		log_error("network %s: out of memory for dnsmasq.conf", def->name);
		return -ENOMEM;
	}
	same_conf = file_holds(dm, "dnsmasq.conf", conf);
	r = write_members(dm, def, m, n);
	if (!r && !same_conf)
		r = write_atomic(dm, "dnsmasq.conf", conf);
	free(conf);
	if (r)
		return r;
	if (dm->pidfd >= 0 && same_conf)
		return pidfd_signal(dm->pidfd, SIGHUP) < 0 ? log_errno("dnsmasq: SIGHUP") : 0;
	/* dnsmasq.conf is read only at start. */
	terminate(dm);
	return launch(dm, def);
}

bool dnsmasq_reap(struct dnsmasq *dm)
{
	char status[64], tail[LOG_TAIL_MAX + 64];
	pid_t pid = dm->pid;

	if (dm->pidfd < 0 || !wait_exit(dm->pidfd, 0))
		return false;
	status_text(forget(dm), status, sizeof(status));
	log_tail(dm, 0, tail, sizeof(tail));
	log_error("dnsmasq %d on %s %s; its log ends: %s", (int)pid, dm->dir, status, tail);
	return true;
}

/* dnsmasq's directory holds only files corral and dnsmasq made. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		if (errno != ENOENT)
			log_errno(dir);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0)
			log_warn("%s/%s: %s", dir, e->d_name, strerror(errno));
	closedir(d);
	if (rmdir(dir) < 0)
		log_errno(dir);
}

void dnsmasq_stop(struct dnsmasq *dm)
{
	terminate(dm);
	if (dm->dir[0])
		remove_dir(dm->dir);
}
