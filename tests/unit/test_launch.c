/* The corral-vmm command line corrald builds for a domain, and its taps (daemon/launch.h). */
#include "test.h"
#include "daemon/launch.h"
#include "net/link.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>

static struct domain_config dc;
static struct diag d;

static int build(const char *text)
{
	const struct domain_config_options opt = { .check_files = false };
	struct xlcfg cfg;
	int err;

	xlcfg_init(&cfg);
	diag_init(&d);
	err = xlcfg_parse(&cfg, text, strlen(text), "t.cfg", &d);
	if (!err)
		err = domain_config_from_xlcfg(&dc, &cfg, &opt, &d);
	xlcfg_free(&cfg);
	diag_free(&d);
	return err;
}

/* The argument after `option`, or NULL. */
static const char *arg_after(const struct vmm_argv *a, const char *option, int nth)
{
	for (size_t i = 0; i + 1 < a->argc; i++)
		if (!strcmp(a->argv[i], option) && nth-- == 0)
			return a->argv[i + 1];
	return NULL;
}

static bool has_flag(const struct vmm_argv *a, const char *flag)
{
	for (size_t i = 1; i < a->argc; i++)
		if (!strcmp(a->argv[i], flag))
			return true;
	return false;
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void the_domain_becomes_vmm_options(void)
{
	struct vmm_argv a;

	CHECK_EQ(build("name='web'\nkernel='/k'\nramdisk='/i'\nmemory=512\nvcpus=2\n"
		       "root='/dev/vda1'\nextra='quiet'\n"), 0);
	CHECK_EQ(vmm_argv_build(&a, "/usr/bin/corral-vmm", &dc, "/run/corral/domains/web", false), 0);
	CHECK(same(a.argv[0], "/usr/bin/corral-vmm"));
	CHECK(a.argv[a.argc] == NULL);
	CHECK(same(arg_after(&a, "--kernel", 0), "/k"));
	CHECK(same(arg_after(&a, "--initrd", 0), "/i"));
	CHECK(same(arg_after(&a, "--cmdline", 0), "root=/dev/vda1 quiet"));
	CHECK(same(arg_after(&a, "--memory", 0), "512M"));
	CHECK(same(arg_after(&a, "--vcpus", 0), "2"));
	CHECK(same(arg_after(&a, "--console", 0), "unix:/run/corral/domains/web/console.sock"));
	CHECK(same(arg_after(&a, "--control", 0), "/run/corral/domains/web/control.sock"));
	CHECK(same(arg_after(&a, "--exit-file", 0), "/run/corral/domains/web/exit"));
	CHECK(!has_flag(&a, "--paused"));
	vmm_argv_free(&a);
	domain_config_free(&dc);
}

static void disks_keep_order_access_and_serial(void)
{
	struct vmm_argv a;

	CHECK_EQ(build("name='web'\nkernel='/k'\n"
		       "disk=['vdev=xvda,access=w,target=/srv/a,b.img', 'vdev=xvdb,access=ro,serial=pkg0,target=/srv/p.img']\n"), 0);
	CHECK_EQ(vmm_argv_build(&a, "vmm", &dc, "/r", false), 0);
	CHECK(same(arg_after(&a, "--disk", 0), "path=/srv/a,,b.img"));
	CHECK(same(arg_after(&a, "--disk", 1), "path=/srv/p.img,ro,serial=pkg0"));
	CHECK(arg_after(&a, "--disk", 2) == NULL);
	vmm_argv_free(&a);
	domain_config_free(&dc);
}

static const char two_vifs[] = "name='web'\nkernel='/k'\n"
	"vif=['mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:02,bridge=br1,vifname=web-lan']\n";

static void vifs_are_taps_passed_as_descriptors(void)
{
	struct vmm_argv a;

	CHECK_EQ(build(two_vifs), 0);
	CHECK_EQ(vmm_argv_build(&a, "vmm", &dc, "/r", false), 0);
	CHECK(same(arg_after(&a, "--net", 0), "fd=3,mac=00:16:3e:00:00:01"));
	CHECK(same(arg_after(&a, "--net", 1), "fd=4,mac=00:16:3e:00:00:02"));
	vmm_argv_free(&a);
	domain_config_free(&dc);
}

static void taps_have_xen_names(void)
{
	char name[IFNAMSIZ];

	CHECK_EQ(build(two_vifs), 0);
	vif_tap_name(&dc.vifs[0], 12, 0, name, sizeof(name));
	CHECK(!strcmp(name, "vif12.0"));
	vif_tap_name(&dc.vifs[1], 12, 1, name, sizeof(name));
	CHECK(!strcmp(name, "web-lan"));
	domain_config_free(&dc);
}

static bool is_port_of(const char *ifname, const char *bridge)
{
	struct link_info port, br;

	return link_get(ifname, &port) == 0 && link_get(bridge, &br) == 0 &&
	       port.master == br.index && port.up && !strcmp(port.kind, "tun");
}

/* In a network namespace of the test's own: real taps on real bridges. */
static void taps_are_opened_on_their_bridges(void)
{
	int fds[VMM_TAPS_MAX];
	char why[256];
	struct link_info info;

	CHECK_EQ(build(two_vifs), 0);
	CHECK_EQ(link_bridge_add("xenbr0"), 0);
	CHECK_EQ(vif_taps_open(&dc, 12, fds, why, sizeof(why)), -ENODEV);
	CHECK(!strcmp(why, "vif 1: bridge br1 does not exist"));
	CHECK_EQ(link_get("vif12.0", &info), -ENODEV);	/* the first one was closed again */
	CHECK_EQ(link_bridge_add("br1"), 0);
	CHECK_EQ(vif_taps_open(&dc, 12, fds, why, sizeof(why)), 0);
	CHECK(is_port_of("vif12.0", "xenbr0"));
	CHECK(is_port_of("web-lan", "br1"));
	vif_taps_close(fds, dc.nvifs);
	CHECK_EQ(link_get("vif12.0", &info), -ENODEV);	/* taps end with their descriptor */
	CHECK_EQ(link_get("web-lan", &info), -ENODEV);
	link_delete("br1");
	link_delete("xenbr0");
	domain_config_free(&dc);
}

static void create_paused_starts_the_vmm_paused(void)
{
	struct vmm_argv a;

	CHECK_EQ(build("name='web'\nkernel='/k'\n"), 0);
	CHECK_EQ(vmm_argv_build(&a, "vmm", &dc, "/r", true), 0);
	CHECK(has_flag(&a, "--paused"));
	vmm_argv_free(&a);
	domain_config_free(&dc);
}

static void cpus_become_an_affinity_the_host_allows(void)
{
	cpu_set_t set, allowed;

	CHECK_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	CHECK_EQ(vmm_affinity("0-1023", &set), 0);
	CHECK(CPU_EQUAL(&set, &allowed));
	CHECK_EQ(vmm_affinity("0", &set), CPU_ISSET(0, &allowed) ? 0 : -EINVAL);
	CHECK_EQ(CPU_COUNT(&set), CPU_ISSET(0, &allowed) ? 1 : 0);
	/* No host has this one; and nothing is no set. */
	CHECK_EQ(vmm_affinity("1023", &set), -EINVAL);
	CHECK_EQ(vmm_affinity("", &set), -EINVAL);
	CHECK_EQ(vmm_affinity("3-1", &set), -EINVAL);
	CHECK_EQ(vmm_affinity("0-4096", &set), -EINVAL);
}

int main(void)
{
	RUN(the_domain_becomes_vmm_options);
	RUN(disks_keep_order_access_and_serial);
	RUN(vifs_are_taps_passed_as_descriptors);
	RUN(taps_have_xen_names);
	if (unshare(CLONE_NEWNET) == 0)
		RUN(taps_are_opened_on_their_bridges);
	else
		printf("# not root: no network namespace for the taps test\n");
	RUN(create_paused_starts_the_vmm_paused);
	RUN(cpus_become_an_affinity_the_host_allows);
	return test_done();
}
