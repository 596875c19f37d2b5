/* xl.cfg keys into a domain (config/domain_config.h): defaults, types,
 * ranges, cross-key checks, and the seed's example domain file. */
#include "test.h"
#include "config/domain_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct domain_config dc;
static struct diag d;

/* Parses `text` as file "t.cfg" into dc; returns what domain_config gave
 * (or the parser's error). Messages stay in d for the test to look at. */
static int build(const char *text, bool check_files)
{
	const struct domain_config_options opt = { .check_files = check_files };
	struct xlcfg cfg;
	int err;

	diag_free(&d);
	xlcfg_init(&cfg);
	err = xlcfg_parse(&cfg, text, strlen(text), "t.cfg", &d);
	if (!err)
		err = domain_config_from_xlcfg(&dc, &cfg, &opt, &d);
	xlcfg_free(&cfg);
	return err;
}

/* True if some message contains every one of the given fragments. */
static bool said(const char *a, const char *b)
{
	for (size_t i = 0; i < d.nmsgs; i++)
		if (strstr(d.msgs[i].text, a) && (!b || strstr(d.msgs[i].text, b)))
			return true;
	return false;
}

#define MINIMAL "name = 'web'\nkernel = '/boot/vmlinuz'\n"

static void xen_defaults_apply(void)
{
	CHECK_EQ(build(MINIMAL, false), 0);
	CHECK(strcmp(dc.name, "web") == 0);
	CHECK_EQ(dc.vcpus, 1);
	CHECK_EQ(dc.maxvcpus, 1);
	CHECK_EQ(dc.memory_mib, 128);
	CHECK_EQ(dc.maxmem_mib, 128);
	CHECK_EQ(dc.on_poweroff, DOMAIN_ACTION_DESTROY);
	CHECK_EQ(dc.on_reboot, DOMAIN_ACTION_RESTART);
	CHECK_EQ(dc.on_crash, DOMAIN_ACTION_DESTROY);
	CHECK(strcmp(dc.type, "pv") == 0);
	CHECK(strcmp(dc.cmdline, "") == 0);
	CHECK(!dc.has_uuid && !dc.cpus && !dc.ramdisk && dc.ndisks == 0 && dc.nvifs == 0);
	CHECK_EQ(d.nmsgs, 0);
	domain_config_free(&dc);
}

static void cmdline_is_built_from_root_and_extra(void)
{
	CHECK_EQ(build(MINIMAL "root = '/dev/xvda1 ro'\nextra = 'console=hvc0'\n", false), 0);
	CHECK(strcmp(dc.cmdline, "root=/dev/xvda1 ro console=hvc0") == 0);
	domain_config_free(&dc);
	CHECK_EQ(build(MINIMAL "extra = 'quiet'\n", false), 0);
	CHECK(strcmp(dc.cmdline, "quiet") == 0);
	domain_config_free(&dc);
}

static void cmdline_wins_over_root_and_extra_with_a_warning(void)
{
	CHECK_EQ(build(MINIMAL "root = '/dev/xvda1'\ncmdline = 'console=ttyS0'\n", false), 0);
	CHECK(strcmp(dc.cmdline, "console=ttyS0") == 0);
	CHECK(said("t.cfg:3:8: warning", "ignored when cmdline"));
	domain_config_free(&dc);
}

static void every_key_is_read(void)
{
	CHECK_EQ(build(MINIMAL "uuid = '6f2a6d4e-3b1c-4d5e-8f90-a1b2c3d4e5f6'\n"
		       "type = 'pvh'\nmemory = 1024\nmaxmem = 2048\nvcpus = 2\nmaxvcpus = 4\n"
		       "cpus = '0-3,6'\nramdisk = '/boot/initrd.img'\n"
		       "bootloader = '/usr/bin/pygrub'\nbootloader_args = ['--entry=1', '-q']\n"
		       "disk = ['/srv/web.img,raw,xvda,rw']\nvif = ['mac=00:16:3e:00:00:01']\n"
		       "on_poweroff = 'preserve'\non_reboot = 'rename-restart'\non_crash = 'restart'\n",
		       false), 0);
	static const uint8_t uuid[16] = { 0x6f, 0x2a, 0x6d, 0x4e, 0x3b, 0x1c, 0x4d, 0x5e,
					   0x8f, 0x90, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };
	CHECK(dc.has_uuid && memcmp(dc.uuid, uuid, 16) == 0);
	CHECK(strcmp(dc.type, "pvh") == 0);
	CHECK_EQ(dc.memory_mib, 1024);
	CHECK_EQ(dc.maxmem_mib, 2048);
	CHECK_EQ(dc.vcpus, 2);
	CHECK_EQ(dc.maxvcpus, 4);
	CHECK(strcmp(dc.cpus, "0-3,6") == 0);
	CHECK(strcmp(dc.ramdisk, "/boot/initrd.img") == 0);
	CHECK(strcmp(dc.bootloader, "/usr/bin/pygrub") == 0);
	CHECK(dc.nbootloader_args == 2 && strcmp(dc.bootloader_args[1], "-q") == 0);
	CHECK(dc.ndisks == 1 && strcmp(dc.disks[0].vdev, "xvda") == 0 && !dc.disks[0].readonly);
	CHECK(dc.nvifs == 1 && dc.vifs[0].has_mac && dc.vifs[0].mac[5] == 1);
	CHECK(strcmp(dc.vifs[0].bridge, "xenbr0") == 0);
	CHECK_EQ(dc.on_poweroff, DOMAIN_ACTION_PRESERVE);
	CHECK_EQ(dc.on_reboot, DOMAIN_ACTION_RENAME_RESTART);
	CHECK_EQ(dc.on_crash, DOMAIN_ACTION_RESTART);
	CHECK_EQ(d.errors + d.warnings, 0);
	domain_config_free(&dc);
}

static void cpus_accepts_xl_forms(void)
{
	CHECK_EQ(build(MINIMAL "cpus = 'all'\n", false), 0);
	CHECK(dc.cpus == NULL);
	domain_config_free(&dc);
	CHECK_EQ(build(MINIMAL "cpus = 3\n", false), 0);
	CHECK(strcmp(dc.cpus, "3") == 0);
	domain_config_free(&dc);
	CHECK_EQ(build(MINIMAL "cpus = [2, '4-5']\n", false), 0);
	CHECK(strcmp(dc.cpus, "2,4-5") == 0);
	domain_config_free(&dc);
	CHECK_EQ(build(MINIMAL "cpus = '3-1'\n", false), -EINVAL);
	CHECK(said("t.cfg:3:8: error", "cpus"));
	CHECK_EQ(build(MINIMAL "cpus = 'x'\n", false), -EINVAL);
}

static void numbers_out_of_range_are_errors_at_the_value(void)
{
	CHECK_EQ(build(MINIMAL "memory = 32\n", false), -EINVAL);
	CHECK(said("t.cfg:3:10: error", "memory = 32 is out of range"));
	CHECK_EQ(build(MINIMAL "memory = 2000000\n", false), -EINVAL);
	CHECK_EQ(build(MINIMAL "vcpus = 0\n", false), -EINVAL);
	CHECK(said("t.cfg:3:9: error", "vcpus"));
	CHECK_EQ(build(MINIMAL "vcpus = 65\n", false), -EINVAL);
	CHECK_EQ(build(MINIMAL "vcpus = -1\n", false), -EINVAL);
}

static void wrong_types_are_errors(void)
{
	CHECK_EQ(build(MINIMAL "memory = '512'\n", false), -EINVAL);
	CHECK(said("t.cfg:3:10: error", "without quotes"));
	CHECK_EQ(build("name = 5\nkernel = '/k'\n", false), -EINVAL);
	CHECK(said("t.cfg:1:8: error", "name must be a string"));
	CHECK_EQ(build(MINIMAL "disk = 5\n", false), -EINVAL);
	CHECK(said("t.cfg:3:8: error", "disk must be a list"));
	CHECK_EQ(build(MINIMAL "disk = [['/a,xvda']]\n", false), -EINVAL);
	CHECK(said("t.cfg:3:9: error", "must be a string"));
}

static void maximums_below_the_start_values_are_errors(void)
{
	CHECK_EQ(build(MINIMAL "memory = 512\nmaxmem = 256\n", false), -EINVAL);
	CHECK(said("t.cfg:4:10: error", "maxmem (256) is less than memory (512)"));
	CHECK_EQ(build(MINIMAL "vcpus = 4\nmaxvcpus = 2\n", false), -EINVAL);
	CHECK(said("t.cfg:4:12: error", "maxvcpus"));
}

static void name_and_kernel_are_required(void)
{
	CHECK_EQ(build("kernel = '/k'\n", false), -EINVAL);
	CHECK(said("no name", NULL));
	CHECK_EQ(build("name = 'web'\n", false), -EINVAL);
	CHECK(said("neither kernel nor bootloader", NULL));
	CHECK_EQ(build("name = 'web'\nbootloader = 'pygrub'\n", false), 0);
	domain_config_free(&dc);
}

static void bad_names_are_refused(void)
{
	CHECK_EQ(build("name = 'my web'\nkernel = '/k'\n", false), -EINVAL);
	CHECK(said("t.cfg:1:8: error", "only letters"));
	CHECK_EQ(build("name = '42'\nkernel = '/k'\n", false), -EINVAL);
	CHECK(said("all digits", NULL));
	CHECK_EQ(build("name = '-web'\nkernel = '/k'\n", false), -EINVAL);
	CHECK_EQ(build("name = ''\nkernel = '/k'\n", false), -EINVAL);
	CHECK_EQ(build("name = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\n"
		       "kernel = '/k'\n", false), -EINVAL);
	CHECK(said("longer than 64", NULL));
}

static void malformed_uuids_are_refused(void)
{
	CHECK_EQ(build(MINIMAL "uuid = '6f2a6d4e3b1c4d5e8f90a1b2c3d4e5f6'\n", false), -EINVAL);
	CHECK(said("t.cfg:3:8: error", "uuid"));
	CHECK_EQ(build(MINIMAL "uuid = '6f2a6d4e-3b1c-4d5e-8f90-a1b2c3d4e5fg'\n", false), -EINVAL);
	CHECK_EQ(build(MINIMAL "uuid = '6f2a6d4e-3b1c-4d5e-8f90-a1b2c3d4e5f6a'\n", false), -EINVAL);
	CHECK_EQ(build(MINIMAL "uuid = '6f2a'\n", false), -EINVAL);
}

static void actions_outside_corral_are_refused(void)
{
	CHECK_EQ(build(MINIMAL "on_crash = 'coredump-destroy'\n", false), -EINVAL);
	CHECK(said("t.cfg:3:12: error", "not supported"));
	CHECK_EQ(build(MINIMAL "on_reboot = 'reboot'\n", false), -EINVAL);
	CHECK(said("on_reboot must be destroy, restart, preserve or rename-restart", NULL));
}

static void hvm_is_refused_with_a_reason(void)
{
	CHECK_EQ(build(MINIMAL "type = 'hvm'\n", false), -EINVAL);
	CHECK(said("t.cfg:3:8: error", "directly"));
	CHECK_EQ(build(MINIMAL "type = 'pvm'\n", false), -EINVAL);
}

static void duplicate_vdevs_are_refused(void)
{
	CHECK_EQ(build(MINIMAL "disk = ['/a.img,,xvda', '/b.img,,xvdb',\n  '/c.img,,xvda']\n",
		       false), -EINVAL);
	CHECK(said("t.cfg:4:3: error", "duplicate vdev 'xvda'"));
}

static void bad_disk_and_vif_entries_are_errors_at_their_string(void)
{
	CHECK_EQ(build(MINIMAL "disk = ['/a.img,,xvda,rw', '/b.img,,xvdb,rx']\n", false), -EINVAL);
	CHECK(said("t.cfg:3:28: error", "disk '/b.img,,xvdb,rx'"));
	CHECK_EQ(build(MINIMAL "disk = ['relative.img,,xvda']\n", false), -EINVAL);
	CHECK(said("absolute path", NULL));
	CHECK_EQ(build(MINIMAL "disk = ['/a.qcow2,qcow2,xvda']\n", false), -EINVAL);
	CHECK(said("qcow2 is not supported yet", NULL));
	CHECK_EQ(build(MINIMAL "vif = ['mac=01:16:3e:00:00:01']\n", false), -EINVAL);
	CHECK(said("t.cfg:3:8: error", "multicast"));
	CHECK_EQ(build(MINIMAL "vif = ['mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:01']\n", false),
		 -EINVAL);
	CHECK(said("the same MAC", NULL));
	CHECK_EQ(build(MINIMAL "vif = ['model=e1000']\n", false), -EINVAL);
	CHECK(said("virtio-net only", NULL));
}

static void missing_files_are_errors_when_checked(void)
{
	char dir[] = "/tmp/corral-test-XXXXXX", kernel[64], img[64], text[256];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(img, sizeof(img), "%s/web.img", dir);
	snprintf(text, sizeof(text), "name = 'web'\nkernel = '%s'\ndisk = ['%s,,xvda']\n",
		 kernel, img);
	CHECK_EQ(build(text, true), -EINVAL);
	CHECK(said("t.cfg:2:10: error", "No such file"));
	CHECK(said("t.cfg:3:9: error", "No such file"));
	fclose(fopen(kernel, "w"));
	fclose(fopen(img, "w"));
	CHECK_EQ(build(text, true), 0);
	domain_config_free(&dc);
	CHECK_EQ(build("name = 'web'\nkernel = '/tmp'\n", true), -EINVAL);
	CHECK(said("not a regular file", NULL));
	unlink(kernel);
	unlink(img);
	rmdir(dir);
}

static void unknown_keys_warn_and_xm_keys_get_a_hint(void)
{
	CHECK_EQ(build(MINIMAL "colour = 'blue'\ncpu = 1\n", false), 0);
	CHECK(said("t.cfg:3:1: warning", "unknown key 'colour'"));
	CHECK(said("t.cfg:4:1: warning", "cpus="));
	CHECK_EQ(d.errors, 0);
	domain_config_free(&dc);
}

static int build_file(const char *name)
{
	const struct domain_config_options opt = { .check_files = false };
	const char *dir = getenv("CORRAL_SEEDS") ? getenv("CORRAL_SEEDS") : "tests/data";
	char path[512];
	struct xlcfg cfg;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	diag_free(&d);
	xlcfg_init(&cfg);
	err = xlcfg_parse_file(&cfg, path, &d);
	if (!err)
		err = domain_config_from_xlcfg(&dc, &cfg, &opt, &d);
	xlcfg_free(&cfg);
	return err;
}

/* The example from "Xen and the Art of System Administration", with its
 * Python replaced by a plain disk list (tests/data/jabberwock-plain.cfg). */
static void the_seed_domain_parses_into_the_right_domain(void)
{
	CHECK_EQ(build_file("jabberwock-plain.cfg"), 0);
	CHECK(strcmp(dc.name, "jabberwock") == 0);
	CHECK(strcmp(dc.kernel, "/xen/netbsd-3/netbsd-XENU") == 0);
	CHECK_EQ(dc.memory_mib, 128);
	CHECK_EQ(dc.vcpus, 1);
	CHECK(strcmp(dc.cmdline, "root=/dev/wd0d") == 0);
	CHECK_EQ(dc.nvifs, 1);
	static const uint8_t mac[6] = { 0xee, 0x14, 0x04, 0xd0, 0xec, 0xaf };
	CHECK(dc.vifs[0].has_mac && memcmp(dc.vifs[0].mac, mac, 6) == 0);
	CHECK(strcmp(dc.vifs[0].bridge, "bridge0") == 0);
	CHECK_EQ(dc.ndisks, 3);
	if (dc.ndisks == 3) {
		CHECK(strcmp(dc.disks[0].target, "/xen/jabberwock/crypt.img") == 0);
		CHECK(strcmp(dc.disks[0].vdev, "wd2d") == 0 && !dc.disks[0].readonly);
		CHECK(strcmp(dc.disks[1].target, "/xen/jabberwock/pkg.img") == 0);
		CHECK(strcmp(dc.disks[1].vdev, "wd1d") == 0 && dc.disks[1].readonly);
		CHECK(strcmp(dc.disks[2].target, "/xen/netbsd-3/root.img") == 0);
		CHECK(strcmp(dc.disks[2].vdev, "wd0d") == 0 && dc.disks[2].readonly);
	}
	CHECK_EQ(d.errors, 0);
	CHECK(said("jabberwock-plain.cfg:3:8: warning", "jabberwock"));
	CHECK(said("jabberwock-plain.cfg:4:1: warning", "cpu"));
	CHECK(said("jabberwock-plain.cfg:5:1: warning", "nics"));
	domain_config_free(&dc);
}

static void the_seed_as_written_is_refused_as_python(void)
{
	CHECK_EQ(build_file("jabberwock.cfg"), -EINVAL);
	CHECK_EQ(d.errors, 1);
	CHECK(said("jabberwock.cfg:9:7: error", "Python"));
}

static void dns_aliases_are_dns_labels(void)
{
	CHECK_EQ(build(MINIMAL "dns_aliases = ['yum', 'ldap', 'kdc']\n", false), 0);
	CHECK_EQ(dc.ndns_aliases, 3);
	CHECK(dc.ndns_aliases == 3 && !strcmp(dc.dns_aliases[2], "kdc"));
	domain_config_free(&dc);
	CHECK_EQ(build(MINIMAL "dns_aliases = 'yum'\n", false), 0);
	CHECK_EQ(dc.ndns_aliases, 1);
	domain_config_free(&dc);
	CHECK_EQ(build(MINIMAL "dns_aliases = ['yum', 'l_dap', 'YUM']\n", false), -EINVAL);
	CHECK(said("t.cfg:3:23: error: dns_aliases: 'l_dap' is not a DNS label", NULL));
	CHECK(said("t.cfg:3:32: error: dns_aliases: 'YUM' is given twice", NULL));
	CHECK_EQ(build(MINIMAL "dns_aliases = [3]\n", false), -EINVAL);
	CHECK(said("t.cfg:3:16: error: dns_aliases must be a string, not a number", NULL));
}

static void json_carries_the_domain(void)
{
	CHECK_EQ(build(MINIMAL "vif = ['mac=00:16:3e:0a:0b:0c,bridge=br0']\n"
		       "disk = ['/srv/web.img,,xvda,ro']\n", false), 0);
	json_t *j = domain_config_to_json(&dc);
	char *text = json_dumps(j, JSON_COMPACT);

	CHECK(text && strstr(text, "\"name\":\"web\""));
	CHECK(text && strstr(text, "\"mac\":\"00:16:3e:0a:0b:0c\""));
	CHECK(text && strstr(text, "\"bridge\":\"br0\""));
	CHECK(text && strstr(text, "\"readonly\":true"));
	CHECK(text && strstr(text, "\"on_reboot\":\"restart\""));
	CHECK(text && strstr(text, "\"uuid\":null"));
	free(text);
	json_decref(j);
	domain_config_free(&dc);
}

int main(void)
{
	diag_init(&d);
	RUN(xen_defaults_apply);
	RUN(cmdline_is_built_from_root_and_extra);
	RUN(cmdline_wins_over_root_and_extra_with_a_warning);
	RUN(every_key_is_read);
	RUN(cpus_accepts_xl_forms);
	RUN(numbers_out_of_range_are_errors_at_the_value);
	RUN(wrong_types_are_errors);
	RUN(maximums_below_the_start_values_are_errors);
	RUN(name_and_kernel_are_required);
	RUN(bad_names_are_refused);
	RUN(malformed_uuids_are_refused);
	RUN(actions_outside_corral_are_refused);
	RUN(hvm_is_refused_with_a_reason);
	RUN(duplicate_vdevs_are_refused);
	RUN(bad_disk_and_vif_entries_are_errors_at_their_string);
	RUN(missing_files_are_errors_when_checked);
	RUN(unknown_keys_warn_and_xm_keys_get_a_hint);
	RUN(the_seed_domain_parses_into_the_right_domain);
	RUN(the_seed_as_written_is_refused_as_python);
	RUN(dns_aliases_are_dns_labels);
	RUN(json_carries_the_domain);
	diag_free(&d);
	return test_done();
}
