/* corrald's registry (daemon/registry.h) natively: checking a domain,
 * refusing one, leaving nothing behind when a start fails, and what happens
 * when a VMM ends. corral-vmm cannot boot a guest on every host, so the
 * "VMM" here is a stand-in process: a shell script that exits with the
 * status corral-vmm would give (docs/corral-vmm.md), or sleep(1) for a VMM
 * that keeps running. The registry only sees a process and its exit. */
#include "test.h"
#include "daemon/loop.h"
#include "daemon/registry.h"
#include "net/link.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/corral-registry-XXXXXX";
static char state_dir[PATH_MAX / 2], run_dir[PATH_MAX / 2], kernel[PATH_MAX], text[PATH_MAX + 64];
static char stand_in[PATH_MAX];
static struct loop loop;
static struct diag d;

static struct registry *open_registry(const char *vmm)
{
	const struct registry_options opt = { .state_dir = state_dir, .run_dir = run_dir,
					      .log_dir = run_dir, .vmm_path = vmm };
	struct registry *r = NULL;

	CHECK_EQ(registry_open(&r, &opt, &loop), 0);
	return r;
}

static int create(struct registry *r, const char *cfg, bool dry_run, json_t **json)
{
	diag_free(&d);
	return registry_create(r, cfg, strlen(cfg), "web.cfg", NULL, 0, dry_run, false, &d, json);
}

static bool exists(const char *base, const char *rest)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", base, rest);
	return stat(path, &st) == 0;
}

static void dry_run_checks_and_describes_without_a_trace(void)
{
	struct registry *r = open_registry("/nonexistent/corral-vmm");
	json_t *json = NULL;

	CHECK_EQ(create(r, text, true, &json), 0);
	CHECK(json && !strcmp(json_string_value(json_object_get(json, "name")), "web"));
	CHECK(json_is_string(json_object_get(json, "uuid")));
	CHECK(json_is_string(json_object_get(json_array_get(json_object_get(json, "vif"), 0), "mac")));
	json_decref(json);
	CHECK(registry_find(r, "web") == NULL);
	CHECK(!exists(state_dir, "/domains/web.cfg"));
	registry_close(r);
}

static void a_failed_start_leaves_nothing(void)
{
	struct registry *r = open_registry("/nonexistent/corral-vmm");

	CHECK(create(r, text, false, NULL) < 0);
	CHECK(d.errors > 0);
	CHECK(registry_find(r, "web") == NULL);
	CHECK(!exists(state_dir, "/domains/web.cfg"));
	CHECK(!exists(run_dir, "/domains/web"));
	json_t *list = registry_list(r);

	CHECK_EQ(json_array_size(list), 0);
	json_decref(list);
	registry_close(r);
}

static void bad_configurations_are_refused_with_their_messages(void)
{
	struct registry *r = open_registry("/nonexistent/corral-vmm");

	CHECK_EQ(create(r, "name = 'web'\nmemory = 1\n", false, NULL), REGISTRY_EINVAL);
	CHECK(d.nmsgs >= 2 && strstr(d.msgs[0].text, "web.cfg:2:10: error"));
	CHECK_EQ(create(r, "name = 'web'\nbootloader = '/usr/bin/pygrub'\n", false, NULL),
		 REGISTRY_EINVAL);
	CHECK(d.nmsgs == 1 && strstr(d.msgs[0].text, "bootloader"));
	registry_close(r);
}

static void find_and_list_know_nothing_of_strangers(void)
{
	struct registry *r = open_registry("/nonexistent/corral-vmm");
	json_t *list = registry_list(r);

	CHECK(registry_find(r, "web") == NULL);
	CHECK(registry_find(r, "0") == NULL);
	CHECK(registry_find(r, "") == NULL);
	CHECK(json_is_array(list) && json_array_size(list) == 0);
	json_decref(list);
	registry_close(r);
}

/* Runs the loop until `name` is gone (want_state NULL) or in want_state,
 * for at most 10 s (a generous limit, not a measurement). */
static bool wait_for(struct registry *r, const char *name, const char *want_state)
{
	uint64_t deadline = monotonic_ns() + 10000000000ull;

	while (monotonic_ns() < deadline) {
		struct domain *dom = registry_find(r, name);
		json_t *j = dom ? domain_json(dom) : NULL;
		bool done = want_state ? j && !strcmp(json_string_value(json_object_get(j, "state")),
						      want_state) : !dom;

		json_decref(j);
		if (done)
			return true;
		loop_once(&loop, 100);
		registry_reap(r);
	}
	return false;
}

/* Creates "web" with `extra` statements, its stand-in VMM behaving as
 * STAND_IN_EXIT `how` says (see main()). */
static int create_behaving(struct registry *r, const char *how, const char *extra)
{
	char cfg[PATH_MAX + 256];

	setenv("STAND_IN_EXIT", how, 1);
	snprintf(cfg, sizeof(cfg), "%s%s", text, extra);
	return create(r, cfg, false, NULL);
}

/* The same with the stand-in exiting with `status` at once (or killed by
 * SIGKILL if status < 0). */
static int create_ending(struct registry *r, int status, const char *extra)
{
	char value[16];

	snprintf(value, sizeof(value), "%d", status);
	return create_behaving(r, value, extra);
}

static pid_t pid_of(struct registry *r, const char *name)
{
	struct domain *dom = registry_find(r, name);
	json_t *j = dom ? domain_json(dom) : NULL;
	pid_t pid = (pid_t)json_integer_value(json_object_get(j, "pid"));

	json_decref(j);
	return pid;
}

/* Waits until the stand-in of `name` has set up its SIGTERM trap (caught
 * or ignored, as /proc/PID/status tells): a signal before that would kill
 * the shell, which is not what the test is about. */
static bool wait_term_trapped(struct registry *r, const char *name)
{
	char path[64], line[256];
	pid_t pid = pid_of(r, name);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; pid > 0 && i < 1000; i++) {
		FILE *f = fopen(path, "re");
		unsigned long long mask, trapped = 0;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "SigCgt: %llx", &mask) == 1 ||
			    sscanf(line, "SigIgn: %llx", &mask) == 1)
				trapped |= mask;
		if (f)
			fclose(f);
		if (trapped & (1ull << (SIGTERM - 1)))
			return true;
		usleep(10000);
	}
	return false;
}

static void destroy_all(struct registry *r, const char *const *names)
{
	for (; *names; names++) {
		struct domain *dom = registry_find(r, *names);

		if (dom)
			CHECK_EQ(domain_destroy(r, dom), 0);
		CHECK(wait_for(r, *names, NULL));
	}
}

static void an_ended_guest_with_destroy_is_forgotten(void)
{
	struct registry *r = open_registry(stand_in);

	CHECK_EQ(create_ending(r, 0, ""), 0);
	CHECK(exists(state_dir, "/domains/web.cfg"));
	CHECK(wait_for(r, "web", NULL));
	CHECK(!exists(state_dir, "/domains/web.cfg"));
	CHECK(!exists(run_dir, "/domains/web"));
	CHECK(exists(run_dir, "/web.log"));
	registry_close(r);
}

static void exit_status_picks_the_action(void)
{
	static const struct {
		int status;
		const char *extra, *state;
	} cases[] = {
		{ 0, "on_poweroff = 'preserve'\n", "shutoff" },
		{ 2, "on_reboot = 'preserve'\n", "shutoff" },
		{ 3, "on_crash = 'preserve'\n", "crashed" },
		{ 1, "on_crash = 'preserve'\n", "crashed" },	/* a VMM error */
		{ -9, "on_crash = 'preserve'\n", "crashed" },	/* killed */
		{ 5, "on_poweroff = 'preserve'\non_crash = 'preserve'\n", NULL },	/* stopped */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct registry *r = open_registry(stand_in);

		CHECK_EQ(create_ending(r, cases[i].status, cases[i].extra), 0);
		CHECK(wait_for(r, "web", cases[i].state));
		struct domain *dom = registry_find(r, "web");

		if (cases[i].state && dom) {
			/* A preserved domain stays until destroyed, then goes. */
			CHECK_EQ(domain_destroy(r, dom), 0);
			registry_reap(r);
			CHECK(registry_find(r, "web") == NULL);
			CHECK(!exists(state_dir, "/domains/web.cfg"));
		}
		registry_close(r);
	}
}

static void a_guest_that_keeps_failing_is_not_restarted_forever(void)
{
	struct registry *r = open_registry(stand_in);

	CHECK_EQ(create_ending(r, 3, "on_crash = 'restart'\n"), 0);
	CHECK(wait_for(r, "web", "crashed"));
	if (registry_find(r, "web"))
		CHECK_EQ(domain_destroy(r, registry_find(r, "web")), 0);
	registry_reap(r);
	registry_close(r);
}

static void reboot_turns_the_poweroff_into_a_reboot(void)
{
	static const char *const names[] = { "web", NULL };
	struct registry *r = open_registry(stand_in);

	/* on_poweroff would forget it; on_reboot keeps it. */
	CHECK_EQ(create_behaving(r, "term", "on_reboot = 'preserve'\n"), 0);
	CHECK(wait_term_trapped(r, "web"));
	CHECK_EQ(domain_reboot(r, registry_find(r, "web")), 0);
	CHECK(wait_for(r, "web", "shutoff"));
	destroy_all(r, names);
	registry_close(r);
}

static void rename_restart_keeps_the_ended_domain_under_another_name(void)
{
	static const char *const names[] = { "web", "web--incarnation-1", NULL };
	struct registry *r = open_registry(stand_in);
	pid_t first;

	CHECK_EQ(create_behaving(r, "term", "on_reboot = 'rename-restart'\n"), 0);
	first = pid_of(r, "web");
	CHECK(wait_term_trapped(r, "web"));
	CHECK_EQ(domain_reboot(r, registry_find(r, "web")), 0);
	CHECK(wait_for(r, "web--incarnation-1", "shutoff"));
	CHECK(exists(state_dir, "/domains/web--incarnation-1.cfg"));
	CHECK(wait_for(r, "web", "running"));
	CHECK(pid_of(r, "web") != first && pid_of(r, "web") > 0);
	/* As in Xen, the restarted domain has a new ID. */
	CHECK(registry_find(r, "1") == NULL && registry_find(r, "2") == registry_find(r, "web"));
	destroy_all(r, names);
	CHECK(!exists(state_dir, "/domains/web--incarnation-1.cfg"));
	registry_close(r);
}

static void a_forced_shutdown_is_a_poweroff_not_a_crash(void)
{
	static const char *const names[] = { "web", NULL };
	struct registry *r = open_registry(stand_in);

	CHECK_EQ(create_behaving(r, "deaf", "on_poweroff = 'preserve'\non_crash = 'destroy'\n"),
		 0);
	CHECK(wait_term_trapped(r, "web"));
	CHECK_EQ(domain_shutdown(r, registry_find(r, "web"), true, 1), 0);
	CHECK(wait_for(r, "web", "shutting-down"));
	CHECK(wait_for(r, "web", "shutoff"));
	destroy_all(r, names);
	registry_close(r);
}

/* The VMM's Cpus_allowed_list, as /proc shows it ("" if unreadable). */
static void allowed_cpus(pid_t pid, char buf[64])
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Cpus_allowed_list: %63s", buf) == 1)
			break;
	if (f)
		fclose(f);
}

static void cpus_bind_the_vmm(void)
{
	static const char *const names[] = { "web", NULL };
	struct registry *r = open_registry(stand_in);
	char cpus[64];

	CHECK_EQ(create_behaving(r, "term", "cpus = '1023'\n"), REGISTRY_EINVAL);
	CHECK(d.nmsgs == 1 && strstr(d.msgs[0].text, "cpus: none of 1023"));
	CHECK_EQ(create_behaving(r, "term", "cpus = 0\n"), 0);
	allowed_cpus(pid_of(r, "web"), cpus);
	CHECK(!strcmp(cpus, "0"));
	destroy_all(r, names);
	registry_close(r);
}

static void names_and_macs_are_not_shared(void)
{
	struct registry *r = open_registry(stand_in);
	char other[sizeof(text) + 64];

	CHECK_EQ(create_ending(r, 0, "on_poweroff = 'preserve'\nvif = ['mac=00:16:3e:00:00:01']\n"), 0);
	CHECK(wait_for(r, "web", "shutoff"));
	CHECK_EQ(create_ending(r, 0, ""), REGISTRY_EEXIST);
	CHECK(d.nmsgs == 1 && strstr(d.msgs[0].text, "a domain named web exists"));
	snprintf(other, sizeof(other), "%sname = 'db'\nvif = ['mac=00:16:3e:00:00:01']\n", text);
	CHECK_EQ(create(r, other, false, NULL), REGISTRY_EINVAL);
	CHECK(d.nmsgs == 1 && strstr(d.msgs[0].text, "MAC 00:16:3e:00:00:01 is domain web's"));
	CHECK(registry_find(r, "db") == NULL);
	CHECK_EQ(domain_destroy(r, registry_find(r, "web")), 0);
	registry_reap(r);
	registry_close(r);
}

/* What a corrald that was stopped left: a definition, a state file, and a
 * VMM still running (sleep, standing in). */
static pid_t leave_running_domain(const char *vmm, const char *extra)
{
	char path[PATH_MAX], state[128];
	pid_t pid = fork();
	FILE *f;

	if (pid == 0) {
		execl(vmm, vmm, "30", (char *)NULL);
		_exit(127);
	}
	/* Until the exec, the child still runs this test's binary. */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 1000; i++) {
		char exe[PATH_MAX], want[PATH_MAX];
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		if (n > 0 && realpath(vmm, want) && (exe[n] = '\0', !strcmp(exe, want)))
			break;
		usleep(1000);
	}
	snprintf(path, sizeof(path), "%s/domains", state_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/domains/web.cfg", state_dir);
	f = fopen(path, "w");
	fputs(text, f);
	fputs(extra, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/domains/web", run_dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/domains/web/state.json", run_dir);
	snprintf(state, sizeof(state), "{\"name\":\"web\",\"id\":4,\"pid\":%d,\"state\":\"running\"}",
		 (int)pid);
	f = fopen(path, "w");
	fputs(state, f);
	fclose(f);
	return pid;
}

static void a_new_registry_adopts_running_vmms_and_notices_their_end(void)
{
	pid_t pid = leave_running_domain("/bin/sleep", "");
	struct registry *r = open_registry("/bin/sleep");
	struct domain *dom = registry_find(r, "web");

	CHECK(dom != NULL);
	CHECK(registry_find(r, "4") == dom);
	CHECK(wait_for(r, "web", "running"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Not its child, and it left no exit file: it was killed, a crash. */
	CHECK(wait_for(r, "web", NULL));
	CHECK(!exists(state_dir, "/domains/web.cfg"));
	registry_close(r);
}

static void an_adopted_vmm_tells_its_end_in_its_exit_file(void)
{
	static const char *const names[] = { "web", NULL };
	pid_t pid = leave_running_domain("/bin/sleep", "on_poweroff = 'preserve'\n");
	struct registry *r = open_registry("/bin/sleep");
	char path[PATH_MAX];
	FILE *f;

	CHECK(wait_for(r, "web", "running"));
	/* What corral-vmm --exit-file leaves for a powered-off guest. */
	snprintf(path, sizeof(path), "%s/domains/web/exit", run_dir);
	f = fopen(path, "w");
	fputs("0\n", f);
	fclose(f);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(wait_for(r, "web", "shutoff"));
	destroy_all(r, names);
	registry_close(r);
}

static void a_recycled_pid_is_not_adopted(void)
{
	/* The pid runs sleep, but the registry's VMM is another binary. */
	pid_t pid = leave_running_domain("/bin/sleep", "");
	struct registry *r = open_registry(stand_in);

	CHECK(registry_find(r, "web") == NULL);
	CHECK(!exists(state_dir, "/domains/web.cfg"));
	CHECK_EQ(kill(pid, 0), 0);	/* and it was left alone */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	registry_reap(r);
	registry_close(r);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	log_init("test_registry", LOG_LEVEL_SILENT);
	/* corrald opens the domains' taps: on bridges of a network namespace
	 * of the test's own. */
	if (unshare(CLONE_NEWNET) < 0 || link_bridge_add("br0") < 0 || link_bridge_add("xenbr0") < 0) {
		printf("Bail out! needs root, for a network namespace with bridges\n");
		return 1;
	}
	diag_init(&d);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	fclose(fopen(kernel, "w"));
	snprintf(text, sizeof(text), "name = 'web'\nkernel = '%s'\nvif = ['bridge=br0']\n", kernel);
	snprintf(stand_in, sizeof(stand_in), "%s/vmm", dir);
	FILE *f = fopen(stand_in, "w");

	/* STAND_IN_EXIT: a status to exit with at once, -9 to be killed, "term"
	 * to wait for SIGTERM (the power button) and power off, "deaf" to
	 * ignore it. Its sleeps do not get the tap (descriptor 3): a tap
	 * outliving its VMM would keep the next domain from its name. */
	fputs("#!/bin/sh\n"
	      "case $STAND_IN_EXIT in\n"
	      "term) trap 'exit 0' TERM; while :; do sleep 0.05 3>&-; done ;;\n"
	      "deaf) trap '' TERM; while :; do sleep 0.05 3>&-; done ;;\n"
	      "esac\n"
	      "[ \"$STAND_IN_EXIT\" -ge 0 ] || kill -9 $$\nexit \"$STAND_IN_EXIT\"\n", f);
	fclose(f);
	chmod(stand_in, 0700);
	mkdir(state_dir, 0700);
	mkdir(run_dir, 0700);
	CHECK_EQ(loop_init(&loop), 0);
	RUN(dry_run_checks_and_describes_without_a_trace);
	RUN(a_failed_start_leaves_nothing);
	RUN(bad_configurations_are_refused_with_their_messages);
	RUN(find_and_list_know_nothing_of_strangers);
	RUN(an_ended_guest_with_destroy_is_forgotten);
	RUN(exit_status_picks_the_action);
	RUN(a_guest_that_keeps_failing_is_not_restarted_forever);
	RUN(names_and_macs_are_not_shared);
	RUN(cpus_bind_the_vmm);
	RUN(reboot_turns_the_poweroff_into_a_reboot);
	RUN(rename_restart_keeps_the_ended_domain_under_another_name);
	RUN(a_forced_shutdown_is_a_poweroff_not_a_crash);
	RUN(a_new_registry_adopts_running_vmms_and_notices_their_end);
	RUN(an_adopted_vmm_tells_its_end_in_its_exit_file);
	RUN(a_recycled_pid_is_not_adopted);
	loop_fini(&loop);
	diag_free(&d);
	/* Everything the registry wrote is under dir: logs, console logs, ... */
	CHECK_EQ(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	return test_done();
}
