/*
 * What the kernel says about a running VMM and about the host, read from
 * /proc: the CPU time and age of a VMM process (xl list's Time(s), xl
 * uptime), each vCPU thread's CPU time, state, last CPU and affinity (xl
 * vcpu-list: corral-vmm names its vCPU threads "vcpuN"), and the host's
 * CPUs and memory (xl info). Nothing here asks the VMM, so none of it can
 * hang on a VMM that does not answer.
 */
#ifndef CORRAL_DAEMON_PROCINFO_H
#define CORRAL_DAEMON_PROCINFO_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* CPU time process `pid` has used, in seconds; 0 if it cannot be read. */
double proc_cpu_seconds(pid_t pid);

/* Seconds since process `pid` started; 0 if it cannot be read. */
double proc_age_seconds(pid_t pid);

/*
 * The vCPU threads of VMM `pid` as a JSON array in vCPU order:
 * {"vcpu": N, "cpu": last host CPU, "state": "running" | "blocked" |
 * "paused", "time": seconds, "affinity": "0-3,6"}. `paused` reports every
 * vCPU as paused. NULL when out of memory; [] if nothing can be read.
 */
json_t *proc_vcpus_json(pid_t pid, bool paused);

/* The host: {"host", "release", "version", "machine", "nr_cpus",
 * "total_memory", "free_memory"} (memory in MiB; free is MemAvailable). */
json_t *proc_host_json(void);

#endif
