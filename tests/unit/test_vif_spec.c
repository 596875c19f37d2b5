/* xl-network-configuration(5) vif specs and MAC addresses (config/vif_spec.h). */
#include "test.h"
#include "common/util.h"
#include "config/vif_spec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static struct vif_spec vs;
static char err[256];

/* Parses into vs (freeing what it held); err is cleared first. */
static int parse(const char *spec)
{
	vif_spec_free(&vs);
	err[0] = '\0';
	return vif_spec_parse(spec, &vs, err, sizeof(err));
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool mac_is(const uint8_t *mac, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t e,
		   uint8_t f)
{
	const uint8_t want[6] = { a, b, c, d, e, f };

	return !memcmp(mac, want, sizeof(want));
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

/* rate= gives `bytes` per second every `us` microseconds. */
static void check_rate(const char *rate, uint64_t bytes, uint32_t us)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "rate=%s", rate);
	CHECK_EQ(parse(spec), 0);
	if (vs.rate_bytes_per_sec != bytes || vs.rate_interval_us != us)
		printf("# %s: %llu B/s every %u us\n", rate,
		       (unsigned long long)vs.rate_bytes_per_sec, (unsigned)vs.rate_interval_us);
	CHECK_EQ(vs.rate_bytes_per_sec, bytes);
	CHECK_EQ(vs.rate_interval_us, us);
}

static void man_page_examples(void)
{
	CHECK_EQ(parse("mac=00:16:3E:74:3d:76,model=rtl8139,bridge=xenbr0"), 0);
	CHECK(vs.has_mac && mac_is(vs.mac, 0x00, 0x16, 0x3e, 0x74, 0x3d, 0x76));
	CHECK(str_eq(vs.model, "rtl8139"));
	CHECK(str_eq(vs.bridge, "xenbr0"));
	CHECK_EQ(parse("mac=00:16:3E:74:34:32"), 0);
	CHECK(mac_is(vs.mac, 0x00, 0x16, 0x3e, 0x74, 0x34, 0x32));
	CHECK(vs.bridge == NULL);
	CHECK_EQ(parse("mac=00:16:3e:5f:48:e4,bridge=xenbr1"), 0);
	CHECK(mac_is(vs.mac, 0x00, 0x16, 0x3e, 0x5f, 0x48, 0xe4));
	CHECK(str_eq(vs.bridge, "xenbr1"));
}

static void empty_spec_is_all_defaults(void)
{
	CHECK_EQ(parse(""), 0);
	CHECK(!vs.has_mac);
	CHECK(!vs.bridge && !vs.ip && !vs.vifname && !vs.model && !vs.script && !vs.type);
	CHECK_EQ(vs.rate_bytes_per_sec, 0);
	CHECK_EQ(vs.rate_interval_us, 50000);
	CHECK_EQ(vs.nignored, 0);
	CHECK_EQ(parse("  "), 0);
	CHECK(!vs.has_mac && !vs.bridge);
}

static void seed_vif(void)
{
	CHECK_EQ(parse("mac=ee:14:04:d0:ec:af, bridge=bridge0"), 0);
	CHECK(vs.has_mac && mac_is(vs.mac, 0xee, 0x14, 0x04, 0xd0, 0xec, 0xaf));
	CHECK(str_eq(vs.bridge, "bridge0"));
}

static void every_key_is_kept(void)
{
	CHECK_EQ(parse("ip=192.0.2.10 192.0.2.11,vifname=web0,model=e1000,"
		       "script=vif-route,type=ioemu,bridge=br0"), 0);
	CHECK(str_eq(vs.ip, "192.0.2.10 192.0.2.11"));
	CHECK(str_eq(vs.vifname, "web0"));
	CHECK(str_eq(vs.model, "e1000"));
	CHECK(str_eq(vs.script, "vif-route"));
	CHECK(str_eq(vs.type, "ioemu"));
	CHECK(str_eq(vs.bridge, "br0"));
	CHECK_EQ(vs.nignored, 0);
}

static void whitespace_around_items_is_ignored(void)
{
	CHECK_EQ(parse(" bridge=br0 ,\tmodel=virtio-net  "), 0);
	CHECK(str_eq(vs.bridge, "br0"));
	CHECK(str_eq(vs.model, "virtio-net"));
}

static void empty_items_are_skipped(void)
{
	CHECK_EQ(parse("bridge=br0,,model=e1000,"), 0);
	CHECK(str_eq(vs.bridge, "br0"));
	CHECK(str_eq(vs.model, "e1000"));
}

static void type_is_ioemu_or_vif(void)
{
	CHECK_EQ(parse("type=vif"), 0);
	CHECK(str_eq(vs.type, "vif"));
	check_refused("type=netfront", "type 'netfront'");
}

static void mac_forms(void)
{
	uint8_t mac[6];

	CHECK_EQ(mac_parse("00:16:3e:0a:bc:ff", mac), 0);
	CHECK(mac_is(mac, 0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xff));
	CHECK_EQ(mac_parse("00-16-3E-0A-BC-FF", mac), 0);
	CHECK(mac_is(mac, 0x00, 0x16, 0x3e, 0x0a, 0xbc, 0xff));
	CHECK_EQ(mac_parse("aA:Bb:cC:dD:eE:fF", mac), 0);
	CHECK(mac_is(mac, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff));
	CHECK_EQ(mac_parse("01:00:5e:00:00:01", mac), 0);	/* syntax only */
}

static void malformed_macs_are_refused(void)
{
	static const char *const bad[] = {
		"",
		"0:16:3e:1:2:3",		/* short octets */
		"00:16:3e:01:02",		/* five octets */
		"00:16:3e:01:02:03:04",		/* seven */
		"00:16:3e:01:02:03:",		/* trailing separator */
		"00:16:3e-01-02-03",		/* mixed separators */
		"00-16:3e:01:02:03",
		"00:16:3g:01:02:03",		/* not hex */
		"00.16.3e.01.02.03",
		"00:16:3e:01:02: 3",
		"0016.3e01.0203",
		"00163e010203",
		" 00:16:3e:01:02:03",
		"00:16:3e:01:02:03 ",
		"000:16:3e:01:02:0",
	};
	uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (mac_parse(bad[i], mac) != -EINVAL)
			printf("# '%s' was taken\n", bad[i]);
		CHECK_EQ(mac_parse(bad[i], mac), -EINVAL);
	}
	CHECK(mac_is(mac, 1, 2, 3, 4, 5, 6));	/* left alone */
	check_refused("mac=00:16:3e:01:02", "mac '00:16:3e:01:02'");
}

static void multicast_mac_is_refused(void)
{
	check_refused("mac=01:00:5e:00:00:01", "multicast MAC 01:00:5e:00:00:01");
	check_refused("mac=ff:ff:ff:ff:ff:ff", "multicast MAC");
	/* The locally administered bit alone is fine. */
	CHECK_EQ(parse("mac=02:00:00:00:00:01"), 0);
}

static void zero_mac_is_refused(void)
{
	check_refused("mac=00:00:00:00:00:00", "all-zero MAC");
	check_refused("mac=00-00-00-00-00-00", "all-zero MAC");
}

static void rate_man_page_examples(void)
{
	check_rate("10Mb/s", 1250000, 50000);
	check_rate("250KB/s", 250000, 50000);
	/* "20,000 bytes in every 20 millisecond period" */
	check_rate("1MB/s@20ms", 1000000, 20000);
	CHECK_EQ(vs.rate_bytes_per_sec * vs.rate_interval_us / 1000000, 20000);
}

static void rate_byte_units(void)
{
	check_rate("100/s", 100, 50000);
	check_rate("100B/s", 100, 50000);
	check_rate("3KB/s", 3000, 50000);
	check_rate("3kB/s", 3000, 50000);
	check_rate("3MB/s", 3000000, 50000);
	check_rate("3GB/s", 3000000000, 50000);
}

static void rate_bit_units(void)
{
	check_rate("800b/s", 100, 50000);
	check_rate("12b/s", 1, 50000);		/* rounded down to whole bytes */
	check_rate("8Kb/s", 1000, 50000);
	check_rate("8Mb/s", 1000000, 50000);
	check_rate("8Gb/s", 1000000000, 50000);
}

static void rate_intervals(void)
{
	check_rate("1MB/s@2s", 1000000, 2000000);
	check_rate("1MB/s@20ms", 1000000, 20000);
	check_rate("1MB/s@500us", 1000000, 500);
	check_rate("1MB/s@4294s", 1000000, 4294000000u);
}

static void rate_overflow_is_refused(void)
{
	/* Not in 64 bits at all, or not once scaled. */
	check_refused("rate=18446744073709551616B/s", "overflows");
	check_refused("rate=18446744073709551615GB/s", "overflows");
	/* bytes per interval must be computable: bytes * 50000 */
	check_refused("rate=18446744073709551615B/s", "overflows");
	/* Over 2^32 microseconds. */
	check_refused("rate=1B/s@4295s", "overflows");
	check_refused("rate=1B/s@99999999999999999999us", "overflows");
}

static void rate_under_a_byte_is_refused(void)
{
	check_refused("rate=0B/s", "under a byte");
	check_refused("rate=7b/s", "under a byte");
}

static void rate_zero_interval_is_refused(void)
{
	check_refused("rate=1MB/s@0ms", "zero interval");
}

static void rate_garbage_is_refused(void)
{
	static const char *const bad[] = {
		"rate=10MB",	    "rate=10MB/sec",   "rate=10MB/s@",	  "rate=10MB/s@20",
		"rate=10MB/s@20m",  "rate=10XB/s",     "rate=10mb/s",	  "rate=-1B/s",
		"rate=+1B/s",	    "rate=/s",	       "rate=1.5MB/s",	  "rate=1MB/s@20ms@1s",
		"rate=1MB/s20ms",   "rate=0x10B/s",    "rate=1MB/s@-2ms", "rate=1 MB/s",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		check_refused(bad[i], "is not RATE/s");
}

static void unknown_keys_are_refused(void)
{
	check_refused("bridge=br0,colour=red", "unknown key 'colour'");
	check_refused("forwarddev=eth1", "unknown key 'forwarddev'");
	check_refused("MAC=00:16:3e:01:02:03", "unknown key 'MAC'");
}

static void ignored_keys_are_listed(void)
{
	CHECK_EQ(parse("backend=netdom, bridge=br0, gatewaydev=eth0, mtu=9000, devid=3,"
		       "accel=x, netdev=eth1"), 0);
	CHECK_EQ(vs.nignored, 6);
	CHECK(str_eq(vs.ignored[0], "backend"));
	CHECK(str_eq(vs.ignored[1], "gatewaydev"));
	CHECK(str_eq(vs.ignored[2], "mtu"));
	CHECK(str_eq(vs.ignored[3], "devid"));
	CHECK(str_eq(vs.ignored[4], "accel"));
	CHECK(str_eq(vs.ignored[5], "netdev"));
	CHECK(str_eq(vs.bridge, "br0"));
}

static void a_key_may_be_given_once(void)
{
	check_refused("mac=00:16:3e:01:02:03,mac=00:16:3e:01:02:04", "mac given twice");
	check_refused("bridge=a, bridge=b", "bridge given twice");
	check_refused("mtu=1500,mtu=9000", "mtu given twice");
}

static void empty_values_are_refused(void)
{
	check_refused("bridge=", "bridge has an empty value");
	check_refused("mac=", "mac has an empty value");
	check_refused("devid=", "devid has an empty value");
}

static void items_must_be_key_value(void)
{
	check_refused("bridge=br0,xenbr0", "'xenbr0' is not key=value");
}

static void an_error_leaves_the_spec_empty(void)
{
	CHECK_EQ(parse("mac=00:16:3e:01:02:03,bridge=br0,model=e1000,ip=1.2.3.4,vifname=v,"
		       "script=s,type=vif,rate=1MB/s@1ms,mtu=1,bogus=1"), -EINVAL);
	CHECK(!vs.has_mac && mac_is(vs.mac, 0, 0, 0, 0, 0, 0));
	CHECK(!vs.bridge && !vs.ip && !vs.vifname && !vs.model && !vs.script && !vs.type);
	CHECK_EQ(vs.rate_bytes_per_sec, 0);
	CHECK_EQ(vs.rate_interval_us, 50000);
	CHECK_EQ(vs.nignored, 0);
}

static void free_reinitialises(void)
{
	CHECK_EQ(parse("bridge=br0,rate=1MB/s@1ms"), 0);
	vif_spec_free(&vs);
	CHECK(vs.bridge == NULL);
	CHECK_EQ(vs.rate_bytes_per_sec, 0);
	CHECK_EQ(vs.rate_interval_us, 50000);
	vif_spec_free(&vs);
}

int main(void)
{
	RUN(man_page_examples);
	RUN(empty_spec_is_all_defaults);
	RUN(seed_vif);
	RUN(every_key_is_kept);
	RUN(whitespace_around_items_is_ignored);
	RUN(empty_items_are_skipped);
	RUN(type_is_ioemu_or_vif);
	RUN(mac_forms);
	RUN(malformed_macs_are_refused);
	RUN(multicast_mac_is_refused);
	RUN(zero_mac_is_refused);
	RUN(rate_man_page_examples);
	RUN(rate_byte_units);
	RUN(rate_bit_units);
	RUN(rate_intervals);
	RUN(rate_overflow_is_refused);
	RUN(rate_under_a_byte_is_refused);
	RUN(rate_zero_interval_is_refused);
	RUN(rate_garbage_is_refused);
	RUN(unknown_keys_are_refused);
	RUN(ignored_keys_are_listed);
	RUN(a_key_may_be_given_once);
	RUN(empty_values_are_refused);
	RUN(items_must_be_key_value);
	RUN(an_error_leaves_the_spec_empty);
	RUN(free_reinitialises);
	vif_spec_free(&vs);
	return test_done();
}
