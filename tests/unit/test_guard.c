/*
 * The L2 guard: the rules it writes, and what nftables makes of them in a
 * network namespace of the test's own (the host's ruleset is never seen).
 * Traffic through the rules is test_guard_traffic.sh's part.
 */
#include "test.h"
#include "common/log.h"
#include "net/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static const uint8_t mac3[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t mac4[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x04 };

static struct net_def def;
static struct net_member members[3];
static struct guard_net net = { .def = &def, .members = members, .nmembers = 3 };

/* corral0 192.168.42.1/24 with uplink eth1; vif3.0 (with an address),
 * vif4.0 (without one yet) and a member that is not running. */
static void reset(void)
{
	memset(&def, 0, sizeof(def));
	strcpy(def.name, "corral0");
	inet_pton(AF_INET, "192.168.42.1", &def.address);
	def.prefix = 24;
	strcpy(def.uplink, "eth1");
	memset(members, 0, sizeof(members));
	members[0] = (struct net_member){ .hostname = "web", .ifname = "vif3.0", .has_ip = true };
	memcpy(members[0].mac, mac3, 6);
	inet_pton(AF_INET, "192.168.42.103", &members[0].ip);
	members[1] = (struct net_member){ .hostname = "db", .ifname = "vif4.0" };
	memcpy(members[1].mac, mac4, 6);
	members[2] = (struct net_member){ .hostname = "off", .ifname = NULL };
}

static char *text;

/* The rules for `net` (with prev), kept in `text` for has(). */
static int ruleset(const struct guard_counter *prev, size_t nprev)
{
	free(text);
	return guard_ruleset(&net, 1, prev, nprev, &text);
}

static int has(const char *piece)
{
	if (text && strstr(text, piece))
		return 1;
	printf("# no \"%s\" in:\n", piece);
	for (const char *line = text; line && *line; line = strchr(line, '\n') + 1)
		printf("#   %.*s\n", (int)strcspn(line, "\n"), line);
	return 0;
}

static int lacks(const char *piece)
{
	if (!text || !strstr(text, piece))
		return 1;
	printf("# unexpected \"%s\"\n", piece);
	return 0;
}

/* ---- The text ------------------------------------------------------- */

#define REMOVE_BOTH "table bridge corral\ntable netdev corral\n" \
		    "delete table bridge corral\ndelete table netdev corral\n"

static void ruleset_replaces_both_tables_in_one_text(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(text && !strncmp(text, REMOVE_BOTH "table bridge corral {\n",
			       strlen(REMOVE_BOTH "table bridge corral {\n")));
	CHECK(has("}\ntable netdev corral {\n"));
}

static void ruleset_for_no_network_only_removes_the_tables(void)
{
	free(text);
	CHECK_EQ(guard_ruleset(NULL, 0, NULL, 0, &text), 0);
	CHECK(text && !strcmp(text, REMOVE_BOTH));
}

/* No lookup of the port per frame: the kernel runs a device's own hooks. */
static void ruleset_hooks_each_port_at_its_ingress(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("\tchain corral0/port/vif4.0 {\n"
		  "\t\ttype filter hook ingress device \"vif4.0\" priority -500; policy accept;\n"));
	CHECK(has("\tchain corral0/uplink/in {\n"
		  "\t\ttype filter hook ingress device \"eth1\" priority -500; policy accept;\n"));
	CHECK(lacks("prerouting") && lacks("iifname vmap"));
}

/* What leaves by the uplink is seen at its egress: no bridge hook, so
 * frames between domains pay for no uplink rule. */
static void ruleset_checks_frames_leaving_by_the_uplink_at_its_egress(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("\tchain corral0/uplink/out {\n"
		  "\t\ttype filter hook egress device \"eth1\" priority -500; policy accept;\n"));
	CHECK(lacks("postrouting") && lacks("oifname vmap"));
}

/* A counter is an object of the table whose rules name it. */
static void ruleset_puts_each_counter_in_the_table_of_its_rules(void)
{
	const char *netdev;

	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	netdev = text ? strstr(text, "table netdev corral {") : NULL;
	CHECK(netdev != NULL);
	if (!netdev)
		return;
	CHECK(strstr(text, "counter corral0/isolation {") < netdev);
	CHECK(strstr(text, "counter corral0/uplink/dhcp_out {") > netdev);
	CHECK(strstr(text, "counter corral0/uplink/discovery_out {") > netdev);
	CHECK(strstr(text, "chain corral0/uplink/out {") > netdev);
	CHECK(strstr(text, "counter corral0/uplink/dhcp_in {") > netdev);
	CHECK(strstr(text, "counter corral0/port/vif3.0/vlan {") > netdev);
	CHECK(strstr(text, "chain corral0/port/vif3.0 {") > netdev);
}

static void ruleset_holds_a_port_to_its_mac_and_address(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("\t\ttype filter hook ingress device \"vif3.0\" priority -500; policy accept;\n"
		  "\t\tether saddr != 52:54:00:00:00:03 counter name corral0/port/vif3.0/mac drop\n"
		  "\t\tether type ip goto corral0/port/vif3.0/ip\n"
		  "\t\tether type arp goto corral0/port/vif3.0/arp\n"
		  "\t\tether type ip6 goto corral0/port/vif3.0/ip6\n"
		  "\t\tether type 8021q counter name corral0/port/vif3.0/vlan drop\n"
		  "\t\tether type 8021ad counter name corral0/port/vif3.0/vlan drop\n"
		  "\t}\n"
		  "\tchain corral0/port/vif3.0/ip {\n"
		  "\t\tip saddr 0.0.0.0 udp sport 68 udp dport 67 return\n"
		  "\t\tip saddr != 192.168.42.103 counter name corral0/port/vif3.0/ip drop\n"
		  "\t\tudp sport 67 counter name corral0/port/vif3.0/dhcp_server drop\n"
		  "\t}\n"
		  "\tchain corral0/port/vif3.0/arp {\n"
		  "\t\tarp saddr ether != 52:54:00:00:00:03 counter name corral0/port/vif3.0/arp drop\n"
		  "\t\tarp saddr ip != 0.0.0.0 arp saddr ip != 192.168.42.103 "
		  "counter name corral0/port/vif3.0/arp drop\n"
		  "\t}\n"
		  "\tchain corral0/port/vif3.0/ip6 {\n"
		  "\t\tudp sport 547 counter name corral0/port/vif3.0/dhcp_server drop\n"
		  "\t}\n"));
}

static void ruleset_checks_no_address_before_the_member_has_one(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("\tchain corral0/port/vif4.0/ip {\n"
		  "\t\tudp sport 67 counter name corral0/port/vif4.0/dhcp_server drop\n"
		  "\t}\n"
		  "\tchain corral0/port/vif4.0/arp {\n"
		  "\t\tarp saddr ether != 52:54:00:00:00:04 counter name corral0/port/vif4.0/arp drop\n"
		  "\t}\n"));
	/* ...but its counter is there, for when it has one. */
	CHECK(has("\tcounter corral0/port/vif4.0/ip { packets 0 bytes 0 }\n"));
}

static void ruleset_lets_domains_serve_dhcp_when_the_network_allows(void)
{
	reset();
	def.dhcp_servers = true;
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(lacks("dhcp_server drop"));
}

static void ruleset_skips_members_that_are_not_running(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(lacks("(null)"));
	net.nmembers = 1;
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(lacks("vif4.0"));
	net.nmembers = 3;
}

/* A hook costs every frame something even when empty. */
static void ruleset_hooks_nothing_with_nothing_to_guard(void)
{
	reset();
	def.uplink[0] = '\0';
	def.isolated = true;
	members[0].ifname = members[1].ifname = NULL;
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(lacks("hook"));
	CHECK(has("\tcounter corral0/isolation { packets 0 bytes 0 }\n"));
}

static void ruleset_keeps_dhcp_and_host_dns_off_the_uplink(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("\t\ttype filter hook ingress device \"eth1\" priority -500; policy accept;\n"
		  "\t\tudp dport { 67, 68, 546, 547 } counter name corral0/uplink/dhcp_in drop\n"
		  "\t}\n"));
	CHECK(has("\tchain corral0/uplink/out {\n"
		  "\t\ttype filter hook egress device \"eth1\" priority -500; policy accept;\n"
		  "\t\tudp dport { 67, 68, 546, 547 } counter name corral0/uplink/dhcp_out drop\n"
		  "\t\tip saddr 192.168.42.1 meta l4proto { tcp, udp } th sport 53 "
		  "counter name corral0/uplink/dns_out drop\n"
		  "\t}\n"));
}

static void ruleset_keeps_the_named_discovery_protocols_inside(void)
{
	reset();
	def.keep_inside = NET_DISCOVERY_MDNS | NET_DISCOVERY_NETBIOS;
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("\t\tmeta l4proto . th dport { udp . 5353, udp . 137, udp . 138, tcp . 139 } "
		  "counter name corral0/uplink/discovery_out drop\n"
		  "\t\tmeta l4proto . th sport { udp . 5353, udp . 137, udp . 138, tcp . 139 } "
		  "counter name corral0/uplink/discovery_out drop\n"));
	CHECK(lacks("5355") && lacks("1900"));
}

static void ruleset_without_uplink_has_no_uplink_rules(void)
{
	reset();
	def.uplink[0] = '\0';
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(lacks("uplink") && lacks("hook postrouting"));
}

static void ruleset_isolates_only_isolated_networks(void)
{
	reset();
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(lacks("hook forward"));
	def.isolated = true;
	CHECK_EQ(ruleset(NULL, 0), 0);
	CHECK(has("type filter hook forward priority filter; policy accept;\n"
		  "\t\tiifname { \"vif3.0\", \"vif4.0\" } oifname { \"vif3.0\", \"vif4.0\" } "
		  "counter name corral0/isolation drop\n"));
}

static void ruleset_starts_counters_from_their_previous_values(void)
{
	const struct guard_counter prev[] = {
		{ "corral0/uplink/dhcp_in", 2, 684 },
		{ "corral0/port/vif3.0/mac", 7, 700 },
		{ "corral0/port/gone/mac", 9, 900 },
	};

	reset();
	CHECK_EQ(ruleset(prev, 3), 0);
	CHECK(has("\tcounter corral0/port/vif3.0/mac { packets 7 bytes 700 }\n"));
	CHECK(has("\tcounter corral0/uplink/dhcp_in { packets 2 bytes 684 }\n"));
	CHECK(has("\tcounter corral0/port/vif3.0/ip { packets 0 bytes 0 }\n"));
	CHECK(lacks("gone"));
}

static void ruleset_refuses_names_nft_could_misread(void)
{
	static const char *const bad[] = { "vif 3", "3vif", "vif\"3", "a/b", "", "vif;drop" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		reset();
		members[1].ifname = bad[i];
		CHECK_EQ(ruleset(NULL, 0), -EINVAL);
		CHECK(text == NULL);
	}
	reset();
	strcpy(def.uplink, "eth 1");
	CHECK_EQ(ruleset(NULL, 0), -EINVAL);
	reset();
	strcpy(def.name, "cor/ral");
	CHECK_EQ(ruleset(NULL, 0), -EINVAL);
}

/* nft would merge two chains of one name into one that drops both
 * members' frames, and take a map entry twice without a word. */
static void ruleset_refuses_an_interface_in_two_places(void)
{
	struct net_def def2 = { .name = "corral1", .prefix = 24 };
	struct guard_net nets[2] = { { &def, members, 2 }, { &def2, NULL, 0 } };

	reset();
	members[1].ifname = "vif3.0";
	CHECK_EQ(ruleset(NULL, 0), -EINVAL);
	reset();
	members[1].ifname = "eth1";
	CHECK_EQ(ruleset(NULL, 0), -EINVAL);
	reset();
	members[1].ifname = "corral0";
	CHECK_EQ(ruleset(NULL, 0), -EINVAL);
	reset();
	strcpy(def2.uplink, "eth1");
	CHECK_EQ(guard_ruleset(nets, 2, NULL, 0, &text), -EINVAL);
	strcpy(def2.uplink, "eth2");
	strcpy(def2.name, "corral0");
	CHECK_EQ(guard_ruleset(nets, 2, NULL, 0, &text), -EINVAL);
	strcpy(def2.name, "corral1");
	CHECK_EQ(guard_ruleset(nets, 2, NULL, 0, &text), 0);
}

/* ---- In nftables -------------------------------------------------- */

/* Whether nft accepts `cmd` (quietly). */
static int nft_ok(const char *cmd)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int ok;

	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	ok = nft_run_cmd_from_buffer(nft, cmd) == 0;
	nft_ctx_free(nft);
	return ok;
}

/* Whether table `family` corral has chain `name`. */
static int has_chain(const char *family, const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "list chain %s corral %s", family, name);
	return nft_ok(cmd);
}

static int bridge_has_chain(const char *name)
{
	return has_chain("bridge", name);
}

static int netdev_has_chain(const char *name)
{
	return has_chain("netdev", name);
}

/* .packets of corral0's counter at [a][b][c] (a NULL ends the path), or -1. */
static long long packets(const char *a, const char *b, const char *c)
{
	json_t *all = guard_counters_json("corral0");
	json_t *at = json_object_get(all, a);
	long long value;

	if (b)
		at = json_object_get(at, b);
	if (c)
		at = json_object_get(at, c);
	at = json_object_get(at, "packets");
	value = at ? json_integer_value(at) : -1;
	json_decref(all);
	return value;
}

/* One frame from port `dev`'s far end, with source MAC `src` (raw, so
 * nothing but the guard judges it). */
static int send_frame(const char *dev, const uint8_t src[6])
{
	uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(dev),
				  .sll_halen = 6 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	ssize_t sent;

	memcpy(frame + 6, src, 6);
	frame[12] = 0x88;	/* EtherType 0x88b5: local experimental */
	frame[13] = 0xb5;
	memset(to.sll_addr, 0xff, 6);
	if (fd < 0)
		return 0;
	sent = sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
	return sent == (ssize_t)sizeof(frame);
}

static int sh(const char *cmd)
{
	int status = system(cmd);

	if (status != 0)
		printf("# failed (%d): %s\n", status, cmd);
	return status == 0;
}

static void apply_makes_both_tables(void)
{
	reset();
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK(!bridge_has_chain("prerouting"));
	CHECK(!bridge_has_chain("postrouting"));
	CHECK(!bridge_has_chain("forward"));
	CHECK(netdev_has_chain("corral0/uplink/out"));
	CHECK(netdev_has_chain("corral0/port/vif3.0"));
	CHECK(netdev_has_chain("corral0/port/vif4.0"));
	CHECK(netdev_has_chain("corral0/uplink/in"));
	CHECK(!netdev_has_chain("corral0/port/vif5.0"));
}

/* nft would refuse an ingress chain on a device that is not there, and
 * with it every network's rules; a port without its tap takes no frames. */
static void apply_leaves_out_a_member_whose_tap_is_not_there(void)
{
	json_t *all;

	reset();
	members[1].ifname = "vif5.0";
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK(netdev_has_chain("corral0/port/vif3.0"));
	CHECK(!netdev_has_chain("corral0/port/vif5.0"));
	all = guard_counters_json("corral0");
	CHECK_EQ(json_object_size(json_object_get(all, "ports")), 1);
	CHECK(json_object_get(json_object_get(all, "ports"), "vif3.0") != NULL);
	json_decref(all);
}

static void apply_leaves_out_an_uplink_that_is_not_there(void)
{
	json_t *all;

	reset();
	strcpy(def.uplink, "eth9");
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK(!netdev_has_chain("corral0/uplink/in"));
	CHECK(!netdev_has_chain("corral0/uplink/out"));
	CHECK(netdev_has_chain("corral0/port/vif4.0"));
	all = guard_counters_json("corral0");
	CHECK(json_object_get(all, "uplink") == NULL);
	json_decref(all);
}

static void counters_report_every_counter_of_the_network(void)
{
	json_t *all;

	reset();
	CHECK_EQ(guard_apply(&net, 1), 0);
	all = guard_counters_json("corral0");
	CHECK(all != NULL);
	CHECK_EQ(json_object_size(all), 3);
	CHECK_EQ(json_object_size(json_object_get(all, "uplink")), 4);
	CHECK_EQ(json_object_size(json_object_get(all, "ports")), 2);
	CHECK_EQ(json_object_size(json_object_get(json_object_get(all, "ports"), "vif4.0")), 5);
	CHECK_EQ(packets("uplink", "dns_out", NULL), 0);
	CHECK_EQ(packets("ports", "vif3.0", "dhcp_server"), 0);
	json_decref(all);
	CHECK(guard_counters_json("corral9") == NULL);
	CHECK(guard_counters_json("corral") == NULL);
}

/* A frame with another source MAC is dropped and counted, and the count
 * outlives a replacement of the table. */
static void counters_count_drops_and_outlive_a_replacement(void)
{
	static const uint8_t spoofed[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x99 };

	reset();
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK(send_frame("dom3", spoofed) && send_frame("dom3", spoofed));
	CHECK(send_frame("dom3", mac3));
	CHECK_EQ(packets("ports", "vif3.0", "mac"), 2);
	def.isolated = true;
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK_EQ(packets("ports", "vif3.0", "mac"), 2);
	CHECK(send_frame("dom3", spoofed));
	CHECK_EQ(packets("ports", "vif3.0", "mac"), 3);
}

static void apply_refuses_a_bad_name_and_keeps_the_old_rules(void)
{
	reset();
	CHECK_EQ(guard_apply(&net, 1), 0);
	members[1].ifname = "vif 4";
	CHECK_EQ(guard_apply(&net, 1), -EINVAL);
	CHECK(netdev_has_chain("corral0/port/vif4.0"));
	members[1].ifname = "vif3.0";
	CHECK_EQ(guard_apply(&net, 1), -EINVAL);
	CHECK(netdev_has_chain("corral0/port/vif4.0"));
}

/* Another program's table of our name, held with `flags owner` (only its
 * creator may change it): nft refuses the replacement as a whole. */
static void apply_that_nft_refuses_changes_nothing(void)
{
	FILE *owner = popen("nft -i >/dev/null", "w");

	CHECK(owner != NULL);
	if (!owner)
		return;
	CHECK_EQ(guard_apply(NULL, 0), 0);
	fputs("add table bridge corral { flags owner; }\nadd chain bridge corral theirs\n", owner);
	fflush(owner);
	for (int i = 0; i < 100 && !bridge_has_chain("theirs"); i++)
		usleep(20000);
	reset();
	CHECK_EQ(guard_apply(&net, 1), -EIO);
	CHECK(bridge_has_chain("theirs"));
	CHECK(!netdev_has_chain("corral0/port/vif3.0"));
	pclose(owner);
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK(!bridge_has_chain("theirs"));
}

static void apply_of_no_network_removes_both_tables(void)
{
	reset();
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK(nft_ok("list table bridge corral") && nft_ok("list table netdev corral"));
	CHECK_EQ(guard_apply(NULL, 0), 0);
	CHECK(!nft_ok("list table bridge corral") && !nft_ok("list table netdev corral"));
	CHECK(guard_counters_json("corral0") == NULL);
	CHECK_EQ(guard_apply(NULL, 0), 0);
}

/* Other tables, and tables of our name in other families, are not ours:
 * neither read nor removed. */
static void apply_leaves_other_tables_alone(void)
{
	CHECK(sh("nft 'table bridge other { counter corral0/isolation { packets 5 bytes 5; }; }'"));
	CHECK(sh("nft 'table inet corral { counter corral0/uplink/dhcp_in "
		 "{ packets 5 bytes 5; }; }'"));
	reset();
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK_EQ(guard_apply(&net, 1), 0);
	CHECK_EQ(packets("isolation", NULL, NULL), 0);
	CHECK_EQ(packets("uplink", "dhcp_in", NULL), 0);
	CHECK_EQ(guard_apply(NULL, 0), 0);
	CHECK(nft_ok("list table bridge other") && nft_ok("list table inet corral"));
	CHECK(sh("nft delete table bridge other && nft delete table inet corral"));
}

/* A namespace of our own: its nftables ruleset and links are its own. */
static int enter_private_netns(void)
{
	FILE *f;

	if (unshare(CLONE_NEWNET) == 0) {
		/* No IPv6 chatter (router solicitations) from the test's links. */
		f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w");
		if (f) {
			fputs("1", f);
			fclose(f);
		}
		return 1;
	}
	printf("# skipping the nftables tests: unshare: %s\n", strerror(errno));
	return 0;
}

/* reset()'s network as links: an ingress chain needs its device. Bridge
 * corral0 with ports vif3.0 (its far end dom3 has vif3.0's MAC), vif4.0
 * and uplink eth1, all veths (a kernel need not have dummy links). */
static void links_of_the_network_are_made(void)
{
	CHECK(sh("ip link add corral0 type bridge && ip link set corral0 up && "
		  "ip link add vif3.0 type veth peer name dom3 && "
		  "ip link set dom3 address 52:54:00:00:00:03 && "
		  "ip link add vif4.0 type veth peer name dom4 && "
		  "ip link add eth1 type veth peer name lan && "
		  "for l in vif3.0 vif4.0 eth1; do ip link set $l master corral0 up || exit 1; done && "
		  "ip link set dom3 up && ip link set dom4 up && ip link set lan up"));
}

int main(void)
{
	log_init("test_guard", LOG_LEVEL_SILENT);
	RUN(ruleset_replaces_both_tables_in_one_text);
	RUN(ruleset_for_no_network_only_removes_the_tables);
	RUN(ruleset_hooks_each_port_at_its_ingress);
	RUN(ruleset_checks_frames_leaving_by_the_uplink_at_its_egress);
	RUN(ruleset_puts_each_counter_in_the_table_of_its_rules);
	RUN(ruleset_holds_a_port_to_its_mac_and_address);
	RUN(ruleset_checks_no_address_before_the_member_has_one);
	RUN(ruleset_lets_domains_serve_dhcp_when_the_network_allows);
	RUN(ruleset_skips_members_that_are_not_running);
	RUN(ruleset_hooks_nothing_with_nothing_to_guard);
	RUN(ruleset_keeps_dhcp_and_host_dns_off_the_uplink);
	RUN(ruleset_keeps_the_named_discovery_protocols_inside);
	RUN(ruleset_without_uplink_has_no_uplink_rules);
	RUN(ruleset_isolates_only_isolated_networks);
	RUN(ruleset_starts_counters_from_their_previous_values);
	RUN(ruleset_refuses_names_nft_could_misread);
	RUN(ruleset_refuses_an_interface_in_two_places);
	free(text);

	if (!enter_private_netns())
		return test_done();
	RUN(links_of_the_network_are_made);
	RUN(apply_makes_both_tables);
	RUN(apply_leaves_out_a_member_whose_tap_is_not_there);
	RUN(apply_leaves_out_an_uplink_that_is_not_there);
	RUN(counters_report_every_counter_of_the_network);
	RUN(counters_count_drops_and_outlive_a_replacement);
	RUN(apply_refuses_a_bad_name_and_keeps_the_old_rules);
	RUN(apply_that_nft_refuses_changes_nothing);
	RUN(apply_of_no_network_removes_both_tables);
	RUN(apply_leaves_other_tables_alone);
	return test_done();
}
