/* Network definitions: what a good one gives and what each bad one says. */
#include "test.h"
#include "net/netdef.h"

#include <arpa/inet.h>
#include <errno.h>

static struct net_def def;
static struct diag d;

static int parse(const char *text)
{
	diag_free(&d);
	diag_init(&d);
	return net_def_parse(text, strlen(text), "net.cfg", &d, &def);
}

/* Whether some message is exactly `line`. */
static int said(const char *line)
{
	for (size_t i = 0; i < d.nmsgs; i++)
		if (!strcmp(d.msgs[i].text, line))
			return 1;
	for (size_t i = 0; i < d.nmsgs; i++)
		printf("# said: %s\n", d.msgs[i].text);
	return 0;
}

static const char *ip(struct in_addr a)
{
	static char text[2][INET_ADDRSTRLEN];
	static int which;

	which ^= 1;
	return inet_ntop(AF_INET, &a, text[which], sizeof(text[which]));
}

static void the_seed_network(void)
{
	CHECK_EQ(parse("# the seed's network\n"
		       "name = 'xenbr0'\n"
		       "address = '192.168.42.18/24'\n"
		       "dhcp_range = '192.168.42.100-192.168.42.199'\n"
		       "gateway = '192.168.42.1'\n"
		       "dns_domain = 'example.com'\n"
		       "uplink = 'peth0'\n"
		       "isolated = 1\n"
		       "keep_inside = ['mdns', 'netbios']\n"), 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(!strcmp(def.name, "xenbr0"));
	CHECK(!strcmp(ip(def.address), "192.168.42.18"));
	CHECK_EQ(def.prefix, 24);
	CHECK(def.has_range);
	CHECK(!strcmp(ip(def.range_first), "192.168.42.100"));
	CHECK(!strcmp(ip(def.range_last), "192.168.42.199"));
	CHECK(def.has_gateway && !strcmp(ip(def.gateway), "192.168.42.1"));
	CHECK(!strcmp(def.dns_domain, "example.com"));
	CHECK(!strcmp(def.uplink, "peth0"));
	CHECK(def.isolated);
	CHECK(!def.dhcp_servers);
	CHECK_EQ(def.keep_inside, NET_DISCOVERY_MDNS | NET_DISCOVERY_NETBIOS);
}

static void the_least_a_network_needs(void)
{
	CHECK_EQ(parse("name = 'corral0'\naddress = '10.0.0.1/8'\n"), 0);
	CHECK(!def.has_range && !def.has_gateway && !def.uplink[0] && !def.dns_domain[0]);
	CHECK(!def.isolated && !def.dhcp_servers && !def.keep_inside);
	CHECK_EQ(parse("address = '10.0.0.1/8'\n"), -EINVAL);
	CHECK(said("net.cfg: error: no name = \"...\" given"));
	CHECK_EQ(parse("name = 'corral0'\n"), -EINVAL);
	CHECK(said("net.cfg: error: no address = \"ADDRESS/PREFIX\" given (the host's address "
		   "on the bridge)"));
}

static void bad_values_are_placed(void)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "name = 'corral0'\naddress = '192.168.42.18'\n",
		  "net.cfg:2:11: error: address '192.168.42.18' must be ADDRESS/PREFIX, e.g. "
		  "\"192.168.42.18/24\"" },
		{ "name = 'corral0'\naddress = '192.168.42.318/24'\n",
		  "net.cfg:2:11: error: address: '192.168.42.318' is not an IPv4 address" },
		{ "name = 'corral0'\naddress = '192.168.42.18/31'\n",
		  "net.cfg:2:11: error: address '192.168.42.18/31': the prefix must be 8 to 30" },
		{ "name = 'corral0'\naddress = '192.168.42.0/24'\n",
		  "net.cfg:2:11: error: address '192.168.42.0/24' is the subnet's own or its "
		  "broadcast address" },
		{ "name = 'corral 0'\naddress = '10.1.1.1/24'\n",
		  "net.cfg:1:8: error: name 'corral 0' is not an interface name corral accepts "
		  "(1 to 15 letters, digits, '-', '_' or '.', starting with a letter)" },
		{ "name = 'averyveryverylongname'\naddress = '10.1.1.1/24'\n",
		  "net.cfg:1:8: error: name 'averyveryverylongname' is not an interface name "
		  "corral accepts (1 to 15 letters, digits, '-', '_' or '.', starting with a "
		  "letter)" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\ndhcp_range = '10.1.1.9'\n",
		  "net.cfg:3:14: error: dhcp_range '10.1.1.9' must be FIRST-LAST, e.g. "
		  "\"192.168.42.100-192.168.42.199\"" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\ndhcp_range = '10.1.1.90-10.1.1.9'\n",
		  "net.cfg:3:14: error: dhcp_range '10.1.1.90-10.1.1.9' ends before it starts" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\ndhcp_range = '10.1.2.5-10.1.2.9'\n",
		  "net.cfg:3:14: error: dhcp_range '10.1.2.5-10.1.2.9' is not inside the subnet "
		  "of address" },
		{ "name = 'corral0'\naddress = '10.1.1.5/24'\ndhcp_range = '10.1.1.2-10.1.1.9'\n",
		  "net.cfg:3:14: error: dhcp_range '10.1.1.2-10.1.1.9' holds the host's own "
		  "address" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\ngateway = '10.2.1.1'\n",
		  "net.cfg:3:11: error: gateway '10.2.1.1' is not inside the subnet of address" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\ndns_domain = 'exa_mple.com'\n",
		  "net.cfg:3:14: error: dns_domain 'exa_mple.com' is not a domain name (labels "
		  "of letters, digits and '-', joined by '.', at most 253 characters)" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\ndns_domain = 'example..com'\n",
		  "net.cfg:3:14: error: dns_domain 'example..com' is not a domain name (labels "
		  "of letters, digits and '-', joined by '.', at most 253 characters)" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\nisolated = 2\n",
		  "net.cfg:3:12: error: isolated = 2 is out of range (0 to 1)" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\nisolated = 'yes'\n",
		  "net.cfg:3:12: error: isolated must be a number, not a string (write it without "
		  "quotes)" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\nkeep_inside = ['mdns', 'bonjour']\n",
		  "net.cfg:3:24: error: keep_inside: unknown protocol 'bonjour' (known: mdns, "
		  "llmnr, ssdp, netbios)" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\nisolate = 1\n",
		  "net.cfg:3:1: error: unknown key 'isolate'" },
		{ "name = 'corral0'\naddress = '10.1.1.1/24'\nuplink = 'corral0'\n",
		  "net.cfg: error: uplink 'corral0' is the bridge itself" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(parse(cases[i].text), -EINVAL);
		CHECK(said(cases[i].message));
	}
}

static void syntax_errors_and_key_errors_together(void)
{
	CHECK_EQ(parse("name = 'corral0'\naddress = '10.1.1.1/24'\nisolated = = 1\nuplink = 3\n"),
		 -EINVAL);
	CHECK(d.errors >= 2);
	CHECK(said("net.cfg:4:10: error: uplink must be a string, not a number"));
}

static void addresses_and_overlaps(void)
{
	struct net_def other;
	struct in_addr a;

	CHECK_EQ(parse("name = 'a'\naddress = '192.168.42.18/24'\n"), 0);
	inet_pton(AF_INET, "192.168.42.19", &a);
	CHECK(net_def_host_address(&def, a));
	inet_pton(AF_INET, "192.168.42.18", &a);
	CHECK(!net_def_host_address(&def, a));	/* the host's */
	inet_pton(AF_INET, "192.168.42.255", &a);
	CHECK(!net_def_host_address(&def, a));	/* broadcast */
	inet_pton(AF_INET, "192.168.43.19", &a);
	CHECK(!net_def_host_address(&def, a));	/* elsewhere */
	other = def;
	CHECK_EQ(parse("name = 'b'\naddress = '192.168.0.1/16'\n"), 0);
	CHECK(net_def_overlap(&def, &other) && net_def_overlap(&other, &def));
	CHECK_EQ(parse("name = 'b'\naddress = '192.168.43.1/24'\n"), 0);
	CHECK(!net_def_overlap(&def, &other));
}

static void interface_names(void)
{
	CHECK(net_ifname_ok("vif3.0"));
	CHECK(net_ifname_ok("xenbr0"));
	CHECK(!net_ifname_ok(""));
	CHECK(!net_ifname_ok("0br"));
	CHECK(!net_ifname_ok("br/0"));
	CHECK(!net_ifname_ok("br\"0"));
	CHECK(!net_ifname_ok("abcdefghijklmnop"));
}

int main(void)
{
	diag_init(&d);
	RUN(the_seed_network);
	RUN(the_least_a_network_needs);
	RUN(bad_values_are_placed);
	RUN(syntax_errors_and_key_errors_together);
	RUN(addresses_and_overlaps);
	RUN(interface_names);
	diag_free(&d);
	return test_done();
}
