/*
 * dnsmasq's lease file read back (net/lease.h): well-formed IPv4 leases
 * come out, anything else a guest could have put there is skipped.
 */
#include "net/lease.h"

#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LINE_WEB "1763812345 00:16:3e:12:34:56 192.168.42.101 web 01:00:16:3e:12:34:56\n"
#define LINE_DB  "1763812399 00:16:3e:ab:cd:ef 192.168.42.102 * *\n"

static struct lease *leases;
static size_t nleases;

/* Parses exactly strlen(text) bytes, from a copy without a NUL after them,
 * so that ASan sees any read past the end. */
static int parse(const char *text)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, text, len);
	free(leases);
	r = lease_parse(copy, len, &leases, &nleases);
	free(copy);
	return r;
}

static size_t count(const char *text)
{
	CHECK_EQ(parse(text), 0);
	return nleases;
}

static bool lease_is(size_t i, const char *mac_text, const char *ip_text)
{
	uint8_t mac[6];
	unsigned v[6];
	struct in_addr ip;

	if (i >= nleases || sscanf(mac_text, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3],
				   &v[4], &v[5]) != 6)
		return false;
	for (int k = 0; k < 6; k++)
		mac[k] = (uint8_t)v[k];
	inet_pton(AF_INET, ip_text, &ip);
	return !memcmp(leases[i].mac, mac, 6) && leases[i].ip.s_addr == ip.s_addr;
}

static void good_lines_are_read(void)
{
	CHECK_EQ(count(LINE_WEB LINE_DB), 2);
	CHECK(lease_is(0, "00:16:3e:12:34:56", "192.168.42.101"));
	CHECK(lease_is(1, "00:16:3e:ab:cd:ef", "192.168.42.102"));
}

static void infinite_lease_is_read(void)
{
	CHECK_EQ(count("0 00:16:3e:12:34:56 192.168.42.101 web *\n"), 1);
}

static void upper_case_mac_is_read(void)
{
	CHECK_EQ(count("1 00:16:3E:AB:CD:EF 10.0.0.1 * *\n"), 1);
	CHECK(lease_is(0, "00:16:3e:ab:cd:ef", "10.0.0.1"));
}

static void empty_text_has_no_leases(void)
{
	free(leases);
	CHECK_EQ(lease_parse(NULL, 0, &leases, &nleases), 0);
	CHECK_EQ(nleases, 0);
	CHECK(leases == NULL);
	CHECK_EQ(count("\n\n\n"), 0);
	CHECK(leases == NULL);
}

static void bad_macs_are_skipped(void)
{
	CHECK_EQ(count("1 00:16:3e:12:34 10.0.0.1 * *\n"), 0);		/* five octets */
	CHECK_EQ(count("1 00:16:3e:12:34:5g 10.0.0.1 * *\n"), 0);		/* not hex */
	CHECK_EQ(count("1 00:16:3e:12:34:567 10.0.0.1 * *\n"), 0);		/* too long */
	CHECK_EQ(count("1 00163e123456 10.0.0.1 * *\n"), 0);
	CHECK_EQ(count("1 06-00:16:3e:12:34 10.0.0.1 * *\n"), 0);		/* other hwtype */
	CHECK_EQ(count("1 00:16:3e:12:34:56:78 10.0.0.1 * *\n"), 0);	/* InfiniBand-like */
	CHECK_EQ(count("1 00:16.3e:12:34:56 10.0.0.1 * *\n"), 0);
}

static void bad_ips_are_skipped(void)
{
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.256 * *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0 * *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1.5 * *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 fe80::1 * *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 010.000.000.001 * *\n"), 0);	/* leading zeros */
	CHECK_EQ(count("1 00:16:3e:12:34:56 0x0a.0.0.1 * *\n"), 0);
}

static void bad_field_counts_are_skipped(void)
{
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1 *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1 * * extra\n"), 0);
	CHECK_EQ(count("1  00:16:3e:12:34:56 10.0.0.1 * *\n"), 0);		/* empty field */
	CHECK_EQ(count(" 1 00:16:3e:12:34:56 10.0.0.1 * *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1 * * \n"), 0);
	CHECK_EQ(count("1\t00:16:3e:12:34:56\t10.0.0.1\t*\t*\n"), 0);
}

static void bad_other_fields_are_skipped(void)
{
	CHECK_EQ(count("-1 00:16:3e:12:34:56 10.0.0.1 * *\n"), 0);
	CHECK_EQ(count("12345678901234567890123 00:16:3e:12:34:56 10.0.0.1 * *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1 we\x01" "b *\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1 * 01:zz\n"), 0);
	CHECK_EQ(count("1 00:16:3e:12:34:56 10.0.0.1 * *\r\n"), 0);
}

static void bad_lines_do_not_hide_good_ones(void)
{
	CHECK_EQ(count("garbage\n" LINE_WEB "1 00:16:3e:12:34:56 10.0.0.999 * *\n" LINE_DB), 2);
	CHECK(lease_is(0, "00:16:3e:12:34:56", "192.168.42.101"));
	CHECK(lease_is(1, "00:16:3e:ab:cd:ef", "192.168.42.102"));
}

static void duid_section_is_skipped(void)
{
	CHECK_EQ(count(LINE_WEB
		       "duid 00:01:00:01:2c:5e:3a:1b:00:16:3e:00:00:01\n"
		       "1763812345 1234 fd00::5 web 00:01:00:01:aa:bb\n"
		       LINE_DB), 1);
	CHECK(lease_is(0, "00:16:3e:12:34:56", "192.168.42.101"));
}

static void nul_bytes_are_bad_bytes(void)
{
	static const char text[] = "1 00:16:3e:12:34:56 10.0.0.1 w\0b *\n" LINE_DB;
	size_t len = sizeof(text) - 1;
	char *copy = malloc(len);

	memcpy(copy, text, len);
	free(leases);
	CHECK_EQ(lease_parse(copy, len, &leases, &nleases), 0);
	CHECK_EQ(nleases, 1);
	CHECK(lease_is(0, "00:16:3e:ab:cd:ef", "192.168.42.102"));
	free(copy);
}

/* dnsmasq rewrites the file in place: a last line may be half written. */
static void line_without_newline_is_skipped(void)
{
	CHECK_EQ(count(LINE_WEB "1763812399 00:16:3e:ab:cd:ef 192.168.42.102 * *"), 1);
	CHECK_EQ(count("1763812399 00:16:3e:ab:cd:ef 192.168.4"), 0);
	CHECK_EQ(count("1"), 0);
}

static void many_leases_are_read(void)
{
	char *text = malloc(1000 * 64 + 1), *p = text;

	for (unsigned i = 0; i < 1000; i++)
		p += sprintf(p, "1 00:16:3e:00:%02x:%02x 10.0.%u.%u * *\n", i >> 8, i & 0xff,
			     i >> 8, i & 0xff);
	CHECK_EQ(count(text), 1000);
	CHECK(lease_is(999, "00:16:3e:00:03:e7", "10.0.3.231"));
	free(text);
}

int main(void)
{
	RUN(good_lines_are_read);
	RUN(infinite_lease_is_read);
	RUN(upper_case_mac_is_read);
	RUN(empty_text_has_no_leases);
	RUN(bad_macs_are_skipped);
	RUN(bad_ips_are_skipped);
	RUN(bad_field_counts_are_skipped);
	RUN(bad_other_fields_are_skipped);
	RUN(bad_lines_do_not_hide_good_ones);
	RUN(duid_section_is_skipped);
	RUN(nul_bytes_are_bad_bytes);
	RUN(line_without_newline_is_skipped);
	RUN(many_leases_are_read);
	free(leases);
	return test_done();
}
