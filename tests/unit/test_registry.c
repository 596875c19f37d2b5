/* corrald's registry without a VMM (daemon/registry.h): checking a domain,
 * refusing one, and leaving nothing behind when a start fails. The
 * lifecycle with a real corral-vmm is tested in the testbed. */
#include "test.h"
#include "daemon/loop.h"
#include "daemon/registry.h"
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/corral-registry-XXXXXX";
static char state_dir[PATH_MAX], run_dir[PATH_MAX], kernel[PATH_MAX], text[PATH_MAX + 64];
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
	return registry_create(r, cfg, strlen(cfg), "web.cfg", NULL, 0, dry_run, &d, json);
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

int main(void)
{
	log_init("test_registry", LOG_LEVEL_SILENT);
	diag_init(&d);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/run", dir);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	fclose(fopen(kernel, "w"));
	snprintf(text, sizeof(text), "name = 'web'\nkernel = '%s'\nvif = ['bridge=br0']\n", kernel);
	mkdir(state_dir, 0700);
	mkdir(run_dir, 0700);
	CHECK_EQ(loop_init(&loop), 0);
	RUN(dry_run_checks_and_describes_without_a_trace);
	RUN(a_failed_start_leaves_nothing);
	RUN(bad_configurations_are_refused_with_their_messages);
	RUN(find_and_list_know_nothing_of_strangers);
	loop_fini(&loop);
	diag_free(&d);
	unlink(kernel);
	strcat(state_dir, "/domains");
	strcat(run_dir, "/domains");
	rmdir(state_dir);
	rmdir(run_dir);
	*strrchr(state_dir, '/') = '\0';
	*strrchr(run_dir, '/') = '\0';
	rmdir(state_dir);
	rmdir(run_dir);
	rmdir(dir);
	return test_done();
}
