#include "daemon/procinfo.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define VCPUS_MAX 256

/* The fields of /proc/PID/stat (proc(5)) that we use. */
struct task_stat {
	char state;			/* field 3: R running, S sleeping, ... */
	unsigned long long utime;	/* field 14, clock ticks */
	unsigned long long stime;	/* field 15 */
	unsigned long long starttime;	/* field 22, ticks after boot */
	int processor;			/* field 39: the CPU it last ran on */
};

static int read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

static int read_stat(const char *path, struct task_stat *ts)
{
	char buf[1024], *p, *save = NULL, *tok;
	int field = 3;

	if (read_text(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	/* The command name in field 2 may hold spaces and parentheses: the
	 * fields proper start after its last ')'. */
	p = strrchr(buf, ')');
	if (!p || !p[1])
		return -EINVAL;
	for (tok = strtok_r(p + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		switch (field) {
		case 3: ts->state = tok[0]; break;
		case 14: ts->utime = strtoull(tok, NULL, 10); break;
		case 15: ts->stime = strtoull(tok, NULL, 10); break;
		case 22: ts->starttime = strtoull(tok, NULL, 10); break;
		case 39: ts->processor = atoi(tok); break;
		}
	}
	return field > 39 ? 0 : -EINVAL;
}

static double ticks_to_seconds(unsigned long long ticks)
{
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

static int read_pid_stat(pid_t pid, struct task_stat *ts)
{
	char path[64];

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return read_stat(path, ts);
}

double proc_cpu_seconds(pid_t pid)
{
	struct task_stat ts;

	return read_pid_stat(pid, &ts) ? 0 : ticks_to_seconds(ts.utime + ts.stime);
}

double proc_age_seconds(pid_t pid)
{
	struct task_stat ts;
	char buf[128];
	double up;

	if (read_pid_stat(pid, &ts) || read_text("/proc/uptime", buf, sizeof(buf)) ||
	    sscanf(buf, "%lf", &up) != 1)
		return 0;
	up -= ticks_to_seconds(ts.starttime);
	return up > 0 ? up : 0;
}

/* "0-3,6": the CPUs in `set`, as ranges. */
static void format_cpus(const cpu_set_t *set, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int cpu = 0; cpu < CPU_SETSIZE && len < size; cpu++) {
		int last = cpu;

		if (!CPU_ISSET(cpu, set))
			continue;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		len += (size_t)snprintf(buf + len, size - len, last > cpu ? "%s%d-%d" : "%s%d",
					len ? "," : "", cpu, last);
		cpu = last;
	}
}

static json_t *vcpu_json(pid_t pid, pid_t tid, unsigned index, bool paused)
{
	char path[96], affinity[256] = "?";
	struct task_stat ts;
	cpu_set_t set;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_stat(path, &ts) < 0)
		return NULL;
	if (sched_getaffinity(tid, sizeof(set), &set) == 0)
		format_cpus(&set, affinity, sizeof(affinity));
	return json_pack("{s:i, s:i, s:s, s:f, s:s}", "vcpu", (int)index, "cpu", ts.processor,
			 "state", paused ? "paused" : ts.state == 'R' ? "running" : "blocked",
			 "time", ticks_to_seconds(ts.utime + ts.stime), "affinity", affinity);
}

json_t *proc_vcpus_json(pid_t pid, bool paused)
{
	json_t *by_index[VCPUS_MAX] = { 0 }, *list = json_array();
	char path[64], comm[32];
	struct dirent *e;
	DIR *d;

	if (!list || pid <= 0)
		return list;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char comm_path[sizeof(path) + sizeof(e->d_name) + 8];
		unsigned index;
		char tail;

		if (e->d_name[0] == '.')
			continue;
		snprintf(comm_path, sizeof(comm_path), "%s/%s/comm", path, e->d_name);
		if (read_text(comm_path, comm, sizeof(comm)) < 0 ||
		    sscanf(comm, "vcpu%u%c", &index, &tail) != 2 || tail != '\n' ||
		    index >= VCPUS_MAX || by_index[index])
			continue;
		by_index[index] = vcpu_json(pid, (pid_t)atoi(e->d_name), index, paused);
	}
	if (d)
		closedir(d);
	for (unsigned i = 0; i < VCPUS_MAX; i++)
		if (by_index[i])
			json_array_append_new(list, by_index[i]);
	return list;
}

/* A /proc/meminfo value in MiB (0 if absent). */
static json_int_t meminfo_mib(const char *meminfo, const char *key)
{
	const char *p = strstr(meminfo, key);
	unsigned long long kib;

	if (!p || sscanf(p + strlen(key), ": %llu kB", &kib) != 1)
		return 0;
	return (json_int_t)(kib >> 10);
}

json_t *proc_host_json(void)
{
	struct utsname u;
	char meminfo[4096];

	if (uname(&u) < 0)
		return NULL;
	if (read_text("/proc/meminfo", meminfo, sizeof(meminfo)) < 0)
		meminfo[0] = '\0';
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "host", u.nodename,
			 "release", u.release, "version", u.version, "machine", u.machine,
			 "nr_cpus", (int)sysconf(_SC_NPROCESSORS_ONLN),
			 "total_memory", meminfo_mib(meminfo, "MemTotal"),
			 "free_memory", meminfo_mib(meminfo, "MemAvailable"));
}
