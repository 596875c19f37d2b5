#include "daemon/launch.h"
#include "common/log.h"
#include "net/link.h"
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Appends one argument; after a failed allocation, nothing (see ->failed). */
__attribute__((format(printf, 2, 3)))
static void push(struct vmm_argv *a, const char *fmt, ...)
{
	char **grown = a->failed ? NULL : realloc(a->argv, (a->argc + 2) * sizeof(*grown));
	va_list ap;
	int n;

	if (!grown) {
		a->failed = true;
		return;
	}
	a->argv = grown;
	va_start(ap, fmt);
	n = vasprintf(&grown[a->argc], fmt, ap);
	va_end(ap);
	if (n < 0) {
		grown[a->argc] = NULL;
		a->failed = true;
		return;
	}
	grown[++a->argc] = NULL;
}

void vif_tap_name(const struct vif_spec *vs, unsigned id, size_t index, char *buf, size_t len)
{
	if (vs->vifname)
		snprintf(buf, len, "%s", vs->vifname);
	else
		snprintf(buf, len, "vif%u.%zu", id, index);
}

/* corral-vmm's option lists read ",," as a comma inside a value. */
static char *double_commas(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	for (; out && *s; s++) {
		if (*s == ',')
			*o++ = ',';
		*o++ = *s;
	}
	if (out)
		*o = '\0';
	return out;
}

static void push_disk(struct vmm_argv *a, const struct disk_spec *ds)
{
	char *path = double_commas(ds->target);

	if (!path) {
		a->failed = true;
		return;
	}
	push(a, "--disk");
	push(a, "path=%s%s%s%s", path, ds->readonly || ds->cdrom ? ",ro" : "",
	     ds->serial ? ",serial=" : "", ds->serial ? ds->serial : "");
	free(path);
}

static void push_vif(struct vmm_argv *a, const struct vif_spec *vs, size_t index)
{
	char mac[MAC_TEXT_LEN];

	mac_format(vs->mac, mac);
	push(a, "--net");
	push(a, "fd=%zu,mac=%s", VMM_TAP_FD0 + index, mac);
}

void vif_taps_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int vif_tap_open(const struct vif_spec *vs, unsigned id, size_t index, char *err,
			size_t errlen)
{
	char name[IFNAMSIZ + 8], ifname[IFNAMSIZ];
	int fd, rc;

	vif_tap_name(vs, id, index, name, sizeof(name));
	fd = tap_open(name, ifname, err, errlen);
	if (fd < 0)
		return fd;
	rc = link_set_master(ifname, vs->bridge);
	if (rc == -ENODEV)
		snprintf(err, errlen, "vif %zu: bridge %s does not exist", index, vs->bridge);
	else if (rc)
		snprintf(err, errlen, "vif %zu: cannot attach tap %s to bridge %s: %s", index,
			 ifname, vs->bridge, strerror(-rc));
	if (!rc && (rc = link_set_up(ifname, true)) < 0)
		snprintf(err, errlen, "vif %zu: cannot bring tap %s up: %s", index, ifname,
			 strerror(-rc));
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

int vif_taps_open(const struct domain_config *dc, unsigned id, int *fds, char *err,
		  size_t errlen)
{
	if (dc->nvifs > VMM_TAPS_MAX) {
		snprintf(err, errlen, "more than %d vifs", VMM_TAPS_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < dc->nvifs; i++)
		fds[i] = -1;
	for (size_t i = 0; i < dc->nvifs; i++) {
		fds[i] = vif_tap_open(&dc->vifs[i], id, i, err, errlen);
		if (fds[i] < 0) {
			int rc = fds[i];

			vif_taps_close(fds, i);
			fds[i] = -1;
			return rc;
		}
	}
	return 0;
}

int vmm_argv_build(struct vmm_argv *a, const char *vmm_path, const struct domain_config *dc,
		   const char *dir, bool paused)
{
	*a = (struct vmm_argv){ 0 };
	push(a, "%s", vmm_path);
	push(a, "--kernel");
	push(a, "%s", dc->kernel);
	if (dc->ramdisk) {
		push(a, "--initrd");
		push(a, "%s", dc->ramdisk);
	}
	push(a, "--cmdline");
	push(a, "%s", dc->cmdline);
	push(a, "--memory");
	push(a, "%lluM", (unsigned long long)dc->memory_mib);
	push(a, "--vcpus");
	push(a, "%u", dc->vcpus);
	push(a, "--console");
	push(a, "unix:%s/console.sock", dir);
	push(a, "--control");
	push(a, "%s/control.sock", dir);
	push(a, "--exit-file");
	push(a, "%s/exit", dir);
	if (paused)
		push(a, "--paused");
	push(a, "--rng");
	/* corrald forces a shutdown itself, when asked to (shutdown -F). */
	push(a, "--shutdown-timeout");
	push(a, "86400");
	for (size_t i = 0; i < dc->ndisks; i++)
		push_disk(a, &dc->disks[i]);
	for (size_t i = 0; i < dc->nvifs; i++)
		push_vif(a, &dc->vifs[i], i);
	if (!a->failed)
		return 0;
	vmm_argv_free(a);
	return -ENOMEM;
}

void vmm_argv_free(struct vmm_argv *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	*a = (struct vmm_argv){ 0 };
}

int vmm_affinity(const char *cpus, cpu_set_t *set)
{
	cpu_set_t allowed;
	const char *p = cpus;

	CPU_ZERO(set);
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			return -EINVAL;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (hi < lo || hi >= CPU_SETSIZE || (*end && *end != ','))
			return -EINVAL;
		for (unsigned long cpu = lo; cpu <= hi; cpu++)
			CPU_SET(cpu, set);
		p = *end ? end + 1 : end;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		CPU_AND(set, set, &allowed);
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

/* In the child: taps[i] becomes descriptor VMM_TAP_FD0 + i. Each is first
 * copied above all the targets, so that placing one never closes another. */
static int place_taps(const int *taps, size_t ntaps)
{
	int high[VMM_TAPS_MAX];

	for (size_t i = 0; i < ntaps; i++)
		if ((high[i] = fcntl(taps[i], F_DUPFD, VMM_TAP_FD0 + VMM_TAPS_MAX)) < 0)
			return -1;
	for (size_t i = 0; i < ntaps; i++)
		if (dup2(high[i], VMM_TAP_FD0 + (int)i) < 0)
			return -1;
	return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child(const struct vmm_argv *a, int null_fd, int log_fd, const int *taps,
		       size_t ntaps)
{
	sigset_t none;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(log_fd, 2) < 0 ||
	    place_taps(taps, ntaps) < 0)
		_exit(127);
	syscall(SYS_close_range, VMM_TAP_FD0 + (unsigned)ntaps, ~0u, 0);
	execv(a->argv[0], a->argv);
	_exit(127);
}

int vmm_spawn(const struct vmm_argv *a, const char *log_path, const cpu_set_t *affinity,
	      const int *taps, size_t ntaps, pid_t *pid, int *pidfd)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int err = 0;

	/* exec fails in the child, where nobody would hear of it. */
	if (access(a->argv[0], X_OK) < 0) {
		err = log_errno(a->argv[0]);
		goto out;
	}
	if (null_fd < 0 || log_fd < 0) {
		err = log_errno(null_fd < 0 ? "/dev/null" : log_path);
		goto out;
	}
	*pid = fork();
	if (*pid < 0) {
		err = log_errno("fork");
		goto out;
	}
	if (*pid == 0)
		exec_child(a, null_fd, log_fd, taps, ntaps);
	/* Bound by the parent, so that it holds once corrald says the domain runs. */
	if (affinity && sched_setaffinity(*pid, sizeof(*affinity), affinity) < 0)
		err = log_errno("sched_setaffinity");
	*pidfd = err ? -1 : (int)syscall(SYS_pidfd_open, *pid, 0);
	if (!err && *pidfd < 0)
		err = log_errno("pidfd_open");
	if (err) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
out:
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	return err;
}
