/*
 * Links over rtnetlink (net/link.h) and taps (net/tap.h), natively.
 *
 * Everything runs in a network namespace of the test's own, with sysfs
 * mounted again inside a mount namespace of its own so /sys/class/net
 * shows that namespace: every bridge, tap and veth made here vanishes with
 * the process, however it ends, and the host's network is never touched.
 * ip(8) is used only to look at results and to make what the library does
 * not (a veth pair). Without root the whole program is skipped.
 */
#include "test.h"
#include "common/log.h"
#include "net/link.h"
#include "net/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

/* Tap flags as /sys/class/net/X/tun_flags reports them. */
#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

#define BRIDGE "cbr0"
#define TAP "vif3.0"

/* /sys/class/net/NAME/FILE as a number, or -1. */
static long sys_number(const char *name, const char *file)
{
	char path[128];
	long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%li", &value) != 1)
		value = -1;
	fclose(f);
	return value;
}

static bool link_exists(const char *name)
{
	struct link_info info;

	return link_get(name, &info) == 0;
}

static unsigned master_of(const char *name)
{
	struct link_info info;

	return link_get(name, &info) == 0 ? info.master : 0;
}

static unsigned index_of(const char *name)
{
	struct link_info info;

	return link_get(name, &info) == 0 ? info.index : 0;
}

static int open_tap(void)
{
	char ifname[IFNAMSIZ], err[128];

	return tap_open(TAP, ifname, err, sizeof(err));
}

/* What the library logs while `fn` runs, in `out`. */
static void capture_log(void (*fn)(void), char *out, size_t len)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n = 0;

	out[0] = '\0';
	if (!f || saved < 0)
		return;
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	log_set_level(LOG_LEVEL_ERROR);
	fn();
	log_set_level(LOG_LEVEL_SILENT);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* A network namespace of our own, and a sysfs that shows it: 1 if we are
 * in it, 0 if this host does not let us (not root), -1 if it failed. */
static int enter_private_netns(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		if (errno == EPERM)
			return 0;
		printf("Bail out! unshare: %s\n", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    umount2("/sys", MNT_DETACH) < 0 || mount("sysfs", "/sys", "sysfs", 0, NULL) < 0) {
		printf("Bail out! cannot mount sysfs for the new namespace: %s\n", strerror(errno));
		return -1;
	}
	return 1;
}

/* Bridges. */

static void bridge_add_makes_a_bridge_without_stp_that_is_down(void)
{
	struct link_info info;
	static const uint8_t zero[6];

	CHECK_EQ(link_bridge_add(BRIDGE), 0);
	CHECK_EQ(link_get(BRIDGE, &info), 0);
	CHECK(info.index > 0);
	CHECK(!strcmp(info.kind, "bridge"));
	CHECK_EQ(info.master, 0);
	CHECK(!info.up);
	CHECK(memcmp(info.mac, zero, sizeof(zero)));
	CHECK_EQ(sys_number(BRIDGE, "bridge/stp_state"), 0);
	CHECK_EQ(sys_number(BRIDGE, "bridge/forward_delay"), 0);
}

static void bridge_add_of_an_existing_name_is_eexist(void)
{
	CHECK_EQ(link_bridge_add(BRIDGE), -EEXIST);
	CHECK_EQ(link_bridge_add("lo"), -EEXIST);
}

static void set_up_brings_a_link_up_and_down(void)
{
	struct link_info info;

	CHECK_EQ(link_set_up(BRIDGE, true), 0);
	CHECK_EQ(link_get(BRIDGE, &info), 0);
	CHECK(info.up);
	CHECK_EQ(link_set_up(BRIDGE, true), 0);	/* already up */
	CHECK_EQ(link_set_up(BRIDGE, false), 0);
	CHECK_EQ(link_get(BRIDGE, &info), 0);
	CHECK(!info.up);
	CHECK_EQ(link_set_up(BRIDGE, true), 0);
}

static void address_add_sets_broadcast_and_again_succeeds(void)
{
	struct in_addr a, b;

	inet_pton(AF_INET, "10.9.8.1", &a);
	inet_pton(AF_INET, "10.9.7.1", &b);
	CHECK_EQ(link_addr_add(BRIDGE, a, 24), 0);
	CHECK(test_sh("ip -4 -o addr show dev " BRIDGE " | "
		  "grep -q 'inet 10.9.8.1/24 brd 10.9.8.255 scope global'"));
	CHECK_EQ(link_addr_add(BRIDGE, a, 24), 0);
	CHECK_EQ(link_addr_add(BRIDGE, b, 32), 0);
	CHECK(test_sh("ip -4 -o addr show dev " BRIDGE " | grep -q 'inet 10.9.7.1/32 scope global'"));
	CHECK_EQ(link_addr_add(BRIDGE, b, 33), -EINVAL);
	CHECK_EQ(link_addr_add("nosuch0", a, 24), -ENODEV);
}

/* Taps. */

static void tap_open_makes_a_tap_with_vnet_headers(void)
{
	char ifname[IFNAMSIZ] = "", err[128];
	struct link_info info;
	int fd = tap_open(TAP, ifname, err, sizeof(err));

	CHECK(fd >= 0);
	CHECK(!strcmp(ifname, TAP));
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(sys_number(TAP, "tun_flags") & TAP_FLAGS, TAP_FLAGS);
	CHECK_EQ(link_get(TAP, &info), 0);
	CHECK(!strcmp(info.kind, "tun"));
	CHECK(!info.up);
	close(fd);
}

static void closing_the_descriptor_removes_the_tap(void)
{
	int fd = open_tap();

	CHECK(fd >= 0);
	CHECK(link_exists(TAP));
	close(fd);
	CHECK(!link_exists(TAP));
}

static void tap_in_use_is_refused_with_a_reason(void)
{
	char ifname[IFNAMSIZ], err[128] = "";
	int fd = open_tap();

	CHECK(fd >= 0);
	CHECK_EQ(tap_open(TAP, ifname, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "tap " TAP " is in use by another process"));
	close(fd);
}

static void tap_open_of_a_link_that_is_no_tap_is_refused(void)
{
	char ifname[IFNAMSIZ], err[128] = "";

	CHECK_EQ(tap_open("lo", ifname, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "lo exists and is not a single-queue tap"));
	CHECK_EQ(tap_open("a-name-too-long-for-a-link", ifname, err, sizeof(err)), -EINVAL);
	CHECK_EQ(tap_open("", ifname, err, sizeof(err)), -EINVAL);
}

/* Ports. */

static void set_master_attaches_and_again_succeeds(void)
{
	int fd = open_tap();

	CHECK(fd >= 0);
	CHECK_EQ(link_set_master(TAP, BRIDGE), 0);
	CHECK_EQ(master_of(TAP), index_of(BRIDGE));
	CHECK(index_of(BRIDGE) != 0);
	CHECK_EQ(link_set_master(TAP, BRIDGE), 0);
	CHECK_EQ(master_of(TAP), index_of(BRIDGE));
	close(fd);
}

static void set_master_null_detaches(void)
{
	int fd = open_tap();

	CHECK(fd >= 0);
	CHECK_EQ(link_set_master(TAP, BRIDGE), 0);
	CHECK_EQ(link_set_master(TAP, NULL), 0);
	CHECK_EQ(master_of(TAP), 0);
	CHECK_EQ(link_set_master(TAP, NULL), 0);	/* a port of nothing already */
	close(fd);
}

static void set_master_to_a_non_bridge_fails(void)
{
	int fd = open_tap();

	CHECK(fd >= 0);
	CHECK(test_sh("ip link add cve0 type veth peer name cve1"));
	CHECK(link_set_master(TAP, "cve0") < 0);
	CHECK(link_set_master(TAP, "lo") < 0);
	CHECK_EQ(link_set_master(TAP, "nosuch0"), -ENODEV);
	CHECK_EQ(master_of(TAP), 0);
	CHECK_EQ(link_delete("cve0"), 0);	/* and its peer with it */
	CHECK(!link_exists("cve1"));
	close(fd);
}

static void enslave_a_bridge_to_a_bridge(void)
{
	CHECK(link_bridge_add("cbr1") == 0);
	CHECK(link_set_master("cbr1", BRIDGE) < 0);
	CHECK_EQ(link_delete("cbr1"), 0);
}

static void kernel_reason_for_a_failure_is_logged(void)
{
	char log[1024];

	capture_log(enslave_a_bridge_to_a_bridge, log, sizeof(log));
	printf("# logged: %s", log);
	CHECK(strstr(log, "cannot attach cbr1 to " BRIDGE));
	/* The kernel's own words, from the extended acknowledgement. */
	CHECK(strstr(log, "(") && strstr(log, "bridge to a bridge"));
}

/* Removal, and links that are not there. */

static void delete_removes_the_bridge_and_releases_its_ports(void)
{
	int fd = open_tap();

	CHECK(fd >= 0);
	CHECK_EQ(link_set_master(TAP, BRIDGE), 0);
	CHECK_EQ(link_delete(BRIDGE), 0);
	CHECK(!link_exists(BRIDGE));
	CHECK_EQ(master_of(TAP), 0);
	CHECK(link_exists(TAP));
	close(fd);
}

static void missing_link_is_enodev(void)
{
	struct link_info info = { .index = 7 };

	CHECK_EQ(link_get("nosuch0", &info), -ENODEV);
	CHECK_EQ(info.index, 0);
	CHECK_EQ(link_delete("nosuch0"), -ENODEV);
	CHECK_EQ(link_set_up("nosuch0", true), -ENODEV);
	CHECK_EQ(link_set_master("nosuch0", NULL), -ENODEV);
}

static void bad_names_are_einval(void)
{
	struct link_info info;

	CHECK_EQ(link_get("", &info), -EINVAL);
	CHECK_EQ(link_get("sixteen-bytes-xx", &info), -EINVAL);
	CHECK_EQ(link_bridge_add("sixteen-bytes-xx"), -EINVAL);
	CHECK_EQ(link_get("fifteen-bytes-x", &info), -ENODEV);
}

int main(void)
{
	int in = enter_private_netns();

	if (in == 0) {
		printf("1..0 # SKIP not allowed to make a network namespace (not root)\n");
		return 0;
	}
	if (in < 0)
		return 1;
	log_init("test_net_link", LOG_LEVEL_SILENT);
	RUN(bridge_add_makes_a_bridge_without_stp_that_is_down);
	RUN(bridge_add_of_an_existing_name_is_eexist);
	RUN(set_up_brings_a_link_up_and_down);
	RUN(address_add_sets_broadcast_and_again_succeeds);
	RUN(tap_open_makes_a_tap_with_vnet_headers);
	RUN(closing_the_descriptor_removes_the_tap);
	RUN(tap_in_use_is_refused_with_a_reason);
	RUN(tap_open_of_a_link_that_is_no_tap_is_refused);
	RUN(set_master_attaches_and_again_succeeds);
	RUN(set_master_null_detaches);
	RUN(set_master_to_a_non_bridge_fails);
	RUN(kernel_reason_for_a_failure_is_logged);
	RUN(delete_removes_the_bridge_and_releases_its_ports);
	RUN(missing_link_is_enodev);
	RUN(bad_names_are_einval);
	return test_done();
}
