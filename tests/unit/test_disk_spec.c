/* xl-disk-configuration(5) disk specs (config/disk_spec.h). */
#include "test.h"
#include "common/util.h"
#include "config/disk_spec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static struct disk_spec ds;
static char err[256];

/* Parses into ds (freeing what it held); err is cleared first. */
static int parse(const char *spec)
{
	disk_spec_free(&ds);
	err[0] = '\0';
	return disk_spec_parse(spec, &ds, err, sizeof(err));
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same(const struct disk_spec *a, const struct disk_spec *b)
{
	return str_eq(a->target, b->target) && str_eq(a->format, b->format) &&
	       str_eq(a->vdev, b->vdev) && a->readonly == b->readonly && a->cdrom == b->cdrom &&
	       str_eq(a->backendtype, b->backendtype) && str_eq(a->script, b->script) &&
	       str_eq(a->serial, b->serial);
}

/* Every spec parses, to the same struct as the first. */
static void check_equivalent(const char *const *specs, size_t n)
{
	struct disk_spec first, other;

	CHECK_EQ(disk_spec_parse(specs[0], &first, err, sizeof(err)), 0);
	for (size_t i = 1; i < n; i++) {
		int rc = disk_spec_parse(specs[i], &other, err, sizeof(err));

		if (rc || !same(&first, &other))
			printf("# '%s' differs from '%s' (%d: %s)\n", specs[i], specs[0], rc, err);
		CHECK(rc == 0 && same(&first, &other));
		disk_spec_free(&other);
	}
	disk_spec_free(&first);
}

/* The error is -EINVAL with a message mentioning `what`. */
static void check_refused(const char *spec, const char *what)
{
	int rc = parse(spec);

	if (rc != -EINVAL || !strstr(err, what))
		printf("# '%s': %d '%s', expected an error about '%s'\n", spec, rc, err, what);
	CHECK_EQ(rc, -EINVAL);
	CHECK(strstr(err, what) != NULL);
	CHECK(strchr(err, '\n') == NULL);
}

static void synopsis_disk_forms_are_equivalent(void)
{
	static const char *const specs[] = {
		"/dev/vg/guest-volume,,hda",
		"/dev/vg/guest-volume,raw,hda,rw",
		"format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
		"raw:/dev/vg/guest-volume,hda,w",
	};

	check_equivalent(specs, ARRAY_SIZE(specs));
	CHECK_EQ(parse(specs[0]), 0);
	CHECK(str_eq(ds.target, "/dev/vg/guest-volume"));
	CHECK(str_eq(ds.format, "raw"));
	CHECK(str_eq(ds.vdev, "hda"));
	CHECK(!ds.readonly && !ds.cdrom);
	CHECK(!ds.backendtype && !ds.script && !ds.serial);
}

static void synopsis_cdrom_forms_are_equivalent(void)
{
	static const char *const specs[] = {
		"/root/image.iso,,hdc,cdrom",
		"/root/image.iso,,hdc,,cdrom",
		"/root/image.iso,raw,hdc,devtype=cdrom",
		"format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
		"raw:/root/image.iso,hdc:cdrom,ro",
	};

	check_equivalent(specs, ARRAY_SIZE(specs));
	CHECK_EQ(parse(specs[0]), 0);
	CHECK(str_eq(ds.target, "/root/image.iso"));
	CHECK(str_eq(ds.format, "raw"));
	CHECK(str_eq(ds.vdev, "hdc"));
	CHECK(ds.readonly && ds.cdrom);
}

static void positionals_fill_target_format_vdev_access(void)
{
	CHECK_EQ(parse("/srv/web.qcow2,qcow2,xvdb,ro"), 0);
	CHECK(str_eq(ds.target, "/srv/web.qcow2"));
	CHECK(str_eq(ds.format, "qcow2"));
	CHECK(str_eq(ds.vdev, "xvdb"));
	CHECK(ds.readonly);
}

static void positionals_skip_parameters_given_by_name(void)
{
	CHECK_EQ(parse("format=vhd,/srv/a.vhd,xvdc,r"), 0);
	CHECK(str_eq(ds.target, "/srv/a.vhd"));
	CHECK(str_eq(ds.format, "vhd"));
	CHECK(str_eq(ds.vdev, "xvdc"));
	CHECK(ds.readonly);
}

static void named_parameters_in_any_order(void)
{
	CHECK_EQ(parse("serial=web0,backendtype=qdisk,access=ro,vdev=sdb,format=qed,"
		       "script=block-iscsi,target=iqn.2001-05.com.example:web"), 0);
	CHECK(str_eq(ds.target, "iqn.2001-05.com.example:web"));
	CHECK(str_eq(ds.format, "qed"));
	CHECK(str_eq(ds.vdev, "sdb"));
	CHECK(ds.readonly && !ds.cdrom);
	CHECK(str_eq(ds.backendtype, "qdisk"));
	CHECK(str_eq(ds.script, "block-iscsi"));
	CHECK(str_eq(ds.serial, "web0"));
}

static void whitespace_around_items_is_ignored(void)
{
	CHECK_EQ(parse("  /srv/a.img ,\tqcow , xvda ,  w  "), 0);
	CHECK(str_eq(ds.target, "/srv/a.img"));
	CHECK(str_eq(ds.format, "qcow"));
	CHECK(str_eq(ds.vdev, "xvda"));
	CHECK(!ds.readonly);
}

static void empty_values_mean_the_default(void)
{
	CHECK_EQ(parse("/dev/vg/x,,hda,"), 0);
	CHECK(str_eq(ds.format, "raw"));
	CHECK(!ds.readonly);
	CHECK_EQ(parse("format=,access=,vdev=xvda,serial=,target=/x"), 0);
	CHECK(str_eq(ds.format, "raw"));
	CHECK(!ds.readonly);
	CHECK(ds.serial == NULL);
}

static void every_format_is_taken(void)
{
	static const char *const formats[] = { "raw", "qcow", "qcow2", "vhd", "qed", "empty" };
	char spec[64];

	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		snprintf(spec, sizeof(spec), "/x,%s,xvda", formats[i]);
		CHECK_EQ(parse(spec), 0);
		CHECK(str_eq(ds.format, formats[i]));
	}
}

static void every_backendtype_is_taken(void)
{
	CHECK_EQ(parse("/dev/sdb,,xvda,backendtype=phy"), 0);
	CHECK(str_eq(ds.backendtype, "phy"));
	CHECK_EQ(parse("/x,,xvda,backendtype=qdisk"), 0);
	CHECK(str_eq(ds.backendtype, "qdisk"));
	CHECK_EQ(parse("/x,,xvda,backendtype=tap"), 0);
	CHECK(str_eq(ds.backendtype, "tap"));
}

static void access_flags_work_anywhere(void)
{
	CHECK_EQ(parse("ro,vdev=xvda,target=/x"), 0);
	CHECK(ds.readonly);
	CHECK_EQ(parse("vdev=xvda,r,target=/x"), 0);
	CHECK(ds.readonly);
	CHECK_EQ(parse("vdev=xvda,rw,target=/x"), 0);
	CHECK(!ds.readonly);
}

static void target_takes_the_rest_of_the_spec(void)
{
	CHECK_EQ(parse("vdev=xvda, target=/srv/a,b,format=qcow2.img"), 0);
	CHECK(str_eq(ds.target, "/srv/a,b,format=qcow2.img"));
	CHECK(str_eq(ds.format, "raw"));
}

static void target_keeps_trailing_whitespace(void)
{
	/* xl-disk-configuration(5): it "consumes the whole rest of the DISKSPEC
	 * including trailing whitespaces". */
	CHECK_EQ(parse("vdev=xvda,target=/srv/a b "), 0);
	CHECK(str_eq(ds.target, "/srv/a b "));
}

static void target_may_follow_an_empty_positional_target(void)
{
	CHECK_EQ(parse(",,xvda,w,target=/srv/a.img"), 0);
	CHECK(str_eq(ds.target, "/srv/a.img"));
	CHECK(str_eq(ds.vdev, "xvda"));
}

static void named_target_keeps_its_prefix(void)
{
	CHECK_EQ(parse("vdev=xvda,target=phy:/dev/vg/web"), 0);
	CHECK(str_eq(ds.target, "phy:/dev/vg/web"));
	CHECK(ds.script == NULL);
}

static void ignored_prefixes_are_stripped(void)
{
	static const char *const specs[] = {
		"phy:/dev/vg/web,xvda,w",	   "file:/dev/vg/web,xvda,w",
		"tap:/dev/vg/web,xvda,w",	   "tap2:/dev/vg/web,xvda,w",
		"tapdisk:/dev/vg/web,xvda,w",	   "aio:/dev/vg/web,xvda,w",
		"ioemu:/dev/vg/web,xvda,w",	   "tap:aio:/dev/vg/web,xvda,w",
		"tap2:aio:/dev/vg/web,xvda,w",	   "tap:tapdisk:aio:/dev/vg/web,xvda,w",
	};

	for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
		CHECK_EQ(parse(specs[i]), 0);
		CHECK(str_eq(ds.target, "/dev/vg/web"));
		CHECK(str_eq(ds.format, "raw"));
		CHECK(str_eq(ds.vdev, "xvda"));
		CHECK(!ds.readonly);
		CHECK(!ds.backendtype && !ds.script);
	}
}

static void format_prefixes_set_the_format(void)
{
	static const struct {
		const char *spec, *format;
	} cases[] = {
		{ "raw:/srv/a,xvda,w", "raw" },		{ "qcow:/srv/a,xvda,w", "qcow" },
		{ "qcow2:/srv/a,xvda,w", "qcow2" },	{ "vhd:/srv/a,xvda,w", "vhd" },
		{ "tap:qcow2:/srv/a,xvda,w", "qcow2" },	{ "tap:aio:vhd:/srv/a,xvda,w", "vhd" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_EQ(parse(cases[i].spec), 0);
		CHECK(str_eq(ds.target, "/srv/a"));
		CHECK(str_eq(ds.format, cases[i].format));
		CHECK(str_eq(ds.vdev, "xvda"));
	}
}

static void script_prefixes_name_a_block_script(void)
{
	static const struct {
		const char *spec, *script, *target;
	} cases[] = {
		{ "iscsi:iqn.2001-05.com.example:web,xvda,w", "block-iscsi",
		  "iqn.2001-05.com.example:web" },
		{ "nbd:host:1234,xvda,w", "block-nbd", "host:1234" },
		{ "enbd:host:1234,xvda,w", "block-enbd", "host:1234" },
		{ "drbd:web,xvda,w", "block-drbd", "web" },
		{ "phy:drbd:web,xvda,w", "block-drbd", "web" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		CHECK_EQ(parse(cases[i].spec), 0);
		CHECK(str_eq(ds.script, cases[i].script));
		CHECK(str_eq(ds.target, cases[i].target));
		CHECK(str_eq(ds.vdev, "xvda"));
	}
}

static void unknown_prefix_names_a_block_script(void)
{
	/* The seed's NetBSD cgd(4) disk: block-cgd gets "VND:PARAMSFILE". */
	CHECK_EQ(parse("cgd:/dev/vnd0a:/xen/cgd/jabberwock,wd2d,w"), 0);
	CHECK(str_eq(ds.script, "block-cgd"));
	CHECK(str_eq(ds.target, "/dev/vnd0a:/xen/cgd/jabberwock"));
	CHECK(str_eq(ds.format, "raw"));
	CHECK(str_eq(ds.vdev, "wd2d"));
	CHECK(!ds.readonly && !ds.cdrom);
}

static void seed_file_disk(void)
{
	CHECK_EQ(parse("file:/xen/jabberwock/pkg.img,wd1d,r"), 0);
	CHECK(str_eq(ds.target, "/xen/jabberwock/pkg.img"));
	CHECK(str_eq(ds.format, "raw"));
	CHECK(str_eq(ds.vdev, "wd1d"));
	CHECK(ds.readonly && !ds.cdrom);
	CHECK(!ds.script && !ds.backendtype);
}

static void word_colon_word_is_not_a_prefix(void)
{
	CHECK_EQ(parse("host:1234,,xvda"), 0);
	CHECK(str_eq(ds.target, "host:1234"));
	CHECK(ds.script == NULL);
}

static void prefix_means_the_old_syntax_without_format(void)
{
	/* Without a prefix the second positional is the format. */
	check_refused("/srv/a,xvda,w", "format");
	CHECK_EQ(parse("phy:/srv/a,xvda,w"), 0);
	CHECK(str_eq(ds.vdev, "xvda"));
}

static void vdev_suffix_sets_the_devtype(void)
{
	CHECK_EQ(parse("/x,,hdc:cdrom"), 0);
	CHECK(str_eq(ds.vdev, "hdc"));
	CHECK(ds.cdrom && ds.readonly);
	CHECK_EQ(parse("/x,,hda:disk"), 0);
	CHECK(str_eq(ds.vdev, "hda"));
	CHECK(!ds.cdrom && !ds.readonly);
	check_refused("/x,,hdc:floppy", "floppy");
}

static void empty_cdrom_old_syntax(void)
{
	CHECK_EQ(parse(",hdc:cdrom,r"), 0);
	CHECK(ds.target == NULL);
	CHECK(str_eq(ds.vdev, "hdc"));
	CHECK(ds.cdrom && ds.readonly);
	CHECK(str_eq(ds.format, "raw"));
}

static void empty_cdrom_new_syntax(void)
{
	CHECK_EQ(parse("vdev=hdc, devtype=cdrom, target="), 0);
	CHECK(ds.target == NULL);
	CHECK(ds.cdrom && ds.readonly);
	CHECK_EQ(parse(",,hdc,,cdrom"), 0);
	CHECK(ds.target == NULL && ds.cdrom);
}

static void cdrom_may_be_writable(void)
{
	CHECK_EQ(parse("/x,,hdc,w,cdrom"), 0);
	CHECK(ds.cdrom && !ds.readonly);
}

static void a_disk_needs_a_target(void)
{
	check_refused(",,xvda", "no target");
	check_refused("phy:,xvda,w", "no target");
	check_refused("vdev=xvda,target=", "no target");
}

static void a_disk_needs_a_vdev(void)
{
	check_refused("/srv/a.img", "no vdev");
	check_refused("/srv/a.img,raw,,rw", "no vdev");
	check_refused("", "no vdev");
}

static void vdev_must_be_a_device_name(void)
{
	check_refused("/x,,XVDA", "vdev 'XVDA'");
	check_refused("/x,,51712", "vdev '51712'");
	check_refused("/x,,1xvda", "vdev '1xvda'");
	check_refused("/x,,xvd-a", "vdev 'xvd-a'");
	check_refused("/x,,hdc:", "vdev 'hdc:'");
	check_refused("vdev=:cdrom,target=/x", "vdev ':cdrom'");
	CHECK_EQ(parse("/x,,sda1"), 0);
	CHECK_EQ(parse("/x,,wd0d"), 0);
}

static void a_parameter_may_be_given_once(void)
{
	check_refused("/x,raw,xvda,format=qcow2", "format given twice");
	check_refused("vdev=xvda,vdev=xvdb,target=/x", "vdev given twice");
	check_refused("/x,,xvda,ro,rw", "access given twice");
	check_refused("/x,,xvda,access=ro,w", "access given twice");
	check_refused("/x,,hdc:cdrom,cdrom", "devtype given twice");
	check_refused("/x,,xvda,cdrom,devtype=disk", "devtype given twice");
	check_refused("qcow2:/x,xvda,format=raw", "format given twice");
	check_refused("drbd:web,xvda,script=block-x", "script given twice");
	check_refused("/x,,xvda,serial=a,serial=b", "serial given twice");
	check_refused("/x,,xvda,backendtype=phy,backendtype=phy", "backendtype given twice");
	check_refused("/x,,xvda,target=/y", "target given twice");
}

static void access_must_be_known(void)
{
	check_refused("/x,,xvda,rwx", "access 'rwx'");
	check_refused("/x,,xvda,access=readonly", "access 'readonly'");
}

static void format_must_be_known(void)
{
	check_refused("/x,vmdk,xvda", "format 'vmdk'");
	check_refused("format=QCOW2,vdev=xvda,target=/x", "format 'QCOW2'");
}

static void devtype_and_backendtype_must_be_known(void)
{
	check_refused("/x,,xvda,devtype=floppy", "devtype 'floppy'");
	check_refused("/x,,xvda,backendtype=standalone", "backendtype 'standalone'");
}

static void unknown_parameters_are_refused(void)
{
	check_refused("/x,,xvda,cache=none", "unknown parameter 'cache'");
	check_refused("/x=y,,xvda", "unknown parameter '/x'");
}

static void too_many_positionals_are_refused(void)
{
	check_refused("/x,raw,xvda,rw,extra", "too many positional parameters at 'extra'");
	check_refused("phy:/x,xvda,rw,extra", "too many positional parameters");
}

static void an_error_leaves_the_spec_empty(void)
{
	CHECK_EQ(parse("/x,,xvda,serial=web0,script=s,backendtype=phy,bogus=1"), -EINVAL);
	CHECK(!ds.target && !ds.format && !ds.vdev && !ds.backendtype && !ds.script &&
	      !ds.serial);
	CHECK(!ds.readonly && !ds.cdrom);
}

static void free_reinitialises(void)
{
	CHECK_EQ(parse("/x,,xvda,serial=web0"), 0);
	disk_spec_free(&ds);
	CHECK(!ds.target && !ds.format && !ds.vdev && !ds.serial);
	disk_spec_free(&ds);
}

static void error_text_fits_the_buffer(void)
{
	char small[8];
	struct disk_spec s;

	CHECK_EQ(disk_spec_parse("/x,vmdk,xvda", &s, small, sizeof(small)), -EINVAL);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_EQ(disk_spec_parse("/x,vmdk,xvda", &s, NULL, 0), -EINVAL);
	disk_spec_free(&s);
}

int main(void)
{
	RUN(synopsis_disk_forms_are_equivalent);
	RUN(synopsis_cdrom_forms_are_equivalent);
	RUN(positionals_fill_target_format_vdev_access);
	RUN(positionals_skip_parameters_given_by_name);
	RUN(named_parameters_in_any_order);
	RUN(whitespace_around_items_is_ignored);
	RUN(empty_values_mean_the_default);
	RUN(every_format_is_taken);
	RUN(every_backendtype_is_taken);
	RUN(access_flags_work_anywhere);
	RUN(target_takes_the_rest_of_the_spec);
	RUN(target_keeps_trailing_whitespace);
	RUN(target_may_follow_an_empty_positional_target);
	RUN(named_target_keeps_its_prefix);
	RUN(ignored_prefixes_are_stripped);
	RUN(format_prefixes_set_the_format);
	RUN(script_prefixes_name_a_block_script);
	RUN(unknown_prefix_names_a_block_script);
	RUN(seed_file_disk);
	RUN(word_colon_word_is_not_a_prefix);
	RUN(prefix_means_the_old_syntax_without_format);
	RUN(vdev_suffix_sets_the_devtype);
	RUN(empty_cdrom_old_syntax);
	RUN(empty_cdrom_new_syntax);
	RUN(cdrom_may_be_writable);
	RUN(a_disk_needs_a_target);
	RUN(a_disk_needs_a_vdev);
	RUN(vdev_must_be_a_device_name);
	RUN(a_parameter_may_be_given_once);
	RUN(access_must_be_known);
	RUN(format_must_be_known);
	RUN(devtype_and_backendtype_must_be_known);
	RUN(unknown_parameters_are_refused);
	RUN(too_many_positionals_are_refused);
	RUN(an_error_leaves_the_spec_empty);
	RUN(free_reinitialises);
	RUN(error_text_fits_the_buffer);
	disk_spec_free(&ds);
	return test_done();
}
