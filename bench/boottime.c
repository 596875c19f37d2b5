/*
 * boottime: start a VMM, time it to the guest's first output marker, and
 * measure the VMM's own resident memory.
 *
 *   boottime [--marker TEXT] [--timeout SECONDS] [--settle MS] [--guest-ram SIZE]
 *            [--wait] -- VMM [ARGS...]
 *
 * The clock starts just before exec and stops when TEXT appears in the VMM's
 * standard output (the guest's serial console). With --guest-ram, the tool
 * then waits --settle milliseconds for the guest to go idle and reads the
 * VMM's /proc/PID/smaps: resident memory in mappings at least as large as the
 * guest's RAM is the guest's; the rest is the VMM's overhead. It prints one
 * line, `boot_ms=... rss_kb=... guest_kb=... overhead_kb=...`, kills the VMM
 * (or, with --wait, lets it run until it exits by itself), and exits 0, or 1
 * if the marker never came. The same tool measures every
 * VMM, so the numbers compare. CORRAL_T0_NS is passed to the VMM (corral-vmm
 * uses it for --stats' exec-to-first-KVM_RUN time).
 */
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct options {
	const char *marker;
	unsigned timeout_s;
	unsigned settle_ms;
	uint64_t guest_ram;
	int wait_exit;
	char **argv;
};

struct rss {
	uint64_t total_kb;
	uint64_t guest_kb;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .marker = "@@ BOOTED", .timeout_s = 120, .settle_ms = 2000 };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--") && i + 1 < argc) {
			o->argv = argv + i + 1;
			return 0;
		}
		if (!strcmp(argv[i], "--wait")) {
			o->wait_exit = 1;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--marker"))
			o->marker = argv[++i];
		else if (!strcmp(argv[i], "--timeout"))
			o->timeout_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--settle"))
			o->settle_ms = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--guest-ram") && parse_size(argv[i + 1], &o->guest_ram) == 0)
			i++;
		else
			break;
	}
	fprintf(stderr, "usage: boottime [--marker TEXT] [--timeout S] [--settle MS] "
		"[--guest-ram SIZE] [--wait] -- VMM [ARGS...]\n");
	return -1;
}

static pid_t spawn(char **argv, int *out_fd, uint64_t t0)
{
	char t0_text[32];
	int pipefd[2];
	pid_t pid;

	if (pipe(pipefd) < 0)
		return -1;
	snprintf(t0_text, sizeof(t0_text), "%llu", (unsigned long long)t0);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		setenv("CORRAL_T0_NS", t0_text, 1);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	close(pipefd[1]);
	*out_fd = pipefd[0];
	return pid;
}

/* Reads the child's output until `marker`; returns 0 when seen. */
static int wait_for_marker(int fd, const char *marker, unsigned timeout_s)
{
	static char window[65536];
	size_t have = 0, mlen = strlen(marker);
	uint64_t deadline = monotonic_ns() + (uint64_t)timeout_s * 1000000000u;

	while (monotonic_ns() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, window + have, sizeof(window) - 1 - have);
		if (n <= 0)
			return -1;
		have += n;
		window[have] = '\0';
		if (memmem(window, have, marker, mlen))
			return 0;
		/* Keep only a tail long enough to hold a marker split across reads. */
		if (have > mlen) {
			memmove(window, window + have - mlen, mlen);
			have = mlen;
		}
	}
	return -1;
}

/* Keeps the VMM's output flowing so it never blocks on a full pipe; stops
 * after `ms` milliseconds or at end of output. */
static void drain(int fd, uint64_t ms)
{
	uint64_t end = monotonic_ns() + ms * 1000000u;
	char buf[4096];

	while (monotonic_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0 && read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

static int read_rss(pid_t pid, uint64_t guest_ram, struct rss *r)
{
	char path[64], line[256];
	uint64_t size_kb = 0, kb;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*r = (struct rss){ 0 };
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %llu kB", (unsigned long long *)&kb) == 1)
			size_kb = kb;
		else if (sscanf(line, "Rss: %llu kB", (unsigned long long *)&kb) == 1) {
			r->total_kb += kb;
			if (size_kb * 1024 >= guest_ram)
				r->guest_kb += kb;
		}
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct rss rss = { 0 };
	uint64_t t0, t1;
	int fd, status, found;
	pid_t pid;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	t0 = monotonic_ns();
	pid = spawn(o.argv, &fd, t0);
	if (pid < 0)
		return 2;
	found = wait_for_marker(fd, o.marker, o.timeout_s);
	t1 = monotonic_ns();
	if (found == 0 && o.guest_ram) {
		drain(fd, o.settle_ms);
		read_rss(pid, o.guest_ram, &rss);
	}
	if (found == 0 && o.wait_exit)
		drain(fd, (uint64_t)o.timeout_s * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (found < 0) {
		printf("boot_ms=timeout\n");
		return 1;
	}
	printf("boot_ms=%.1f rss_kb=%llu guest_kb=%llu overhead_kb=%llu\n", (t1 - t0) / 1e6,
	       (unsigned long long)rss.total_kb, (unsigned long long)rss.guest_kb,
	       (unsigned long long)(rss.total_kb - rss.guest_kb));
	return 0;
}
