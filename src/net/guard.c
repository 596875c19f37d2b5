#include "net/guard.h"

#include "common/log.h"
#include "common/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "NET/port/IFNAME" with both at IFNAMSIZ - 1: the longest chain or counter prefix. */
#define GUARD_PREFIX_MAX (2 * IFNAMSIZ + sizeof("/port/"))

/* The counters of each port and of each uplink's way out, in the order of
 * their rules; the uplink's way in has one, dhcp_in. */
static const char *const port_counters[] = { "vlan", "mac", "arp", "ip", "dhcp_server" };
static const char *const uplink_out_counters[] = { "dhcp_out", "dns_out", "discovery_out" };

/* The ingress chains' priority: before any other table's ingress chain on
 * the same device, so that a frame we drop costs no one else anything. */
#define GUARD_DEVICE_PRIORITY "-500"

/* The ports (as `meta l4proto . th port` set elements) of each protocol
 * keep_inside can name; see enum net_discovery. */
static const struct {
	unsigned bit;
	const char *elements;
} discovery_ports[] = {
	{ NET_DISCOVERY_MDNS, "udp . 5353" },
	{ NET_DISCOVERY_LLMNR, "udp . 5355, tcp . 5355" },
	{ NET_DISCOVERY_SSDP, "udp . 1900" },
	{ NET_DISCOVERY_NETBIOS, "udp . 137, udp . 138, tcp . 139" },
};

/* The table's text being written. */
struct ruleset {
	FILE *f;				/* an open_memstream */
	const struct guard_counter *prev;	/* sorted by name */
	size_t nprev;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every interface the rules name: bridges, uplinks, taps. names has room
 * for 2 per network and 1 per member. */
static size_t collect_names(const struct guard_net *nets, size_t n, const char **names)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		names[count++] = nets[i].def->name;
		if (nets[i].def->uplink[0])
			names[count++] = nets[i].def->uplink;
		for (size_t j = 0; j < nets[i].nmembers; j++)
			if (nets[i].members[j].ifname)
				names[count++] = nets[i].members[j].ifname;
	}
	return count;
}

/* Every name must be an nft identifier (net_ifname_ok), so that it can
 * neither break the syntax nor make two counters' names meet; and every
 * interface must be in one place only, or nft would quietly merge two
 * ports' chains into one. */
static int check_names(const struct guard_net *nets, size_t n)
{
	size_t max = 0, count;
	const char **names;
	int err = 0;

	for (size_t i = 0; i < n; i++)
		max += 2 + nets[i].nmembers;
	if (max == 0)
		return 0;
	names = calloc(max, sizeof(*names));
	if (!names)
		return -ENOMEM;
	count = collect_names(nets, n, names);
	for (size_t i = 0; i < count && !err; i++)
		if (!net_ifname_ok(names[i])) {
			log_error("guard: '%s' cannot be named in nftables rules", names[i]);
			err = -EINVAL;
		}
	qsort(names, count, sizeof(*names), cmp_names);
	for (size_t i = 1; i < count && !err; i++)
		if (strcmp(names[i - 1], names[i]) == 0) {
			log_error("guard: interface %s is in two places", names[i]);
			err = -EINVAL;
		}
	free(names);
	return err;
}

static size_t running_members(const struct guard_net *gn)
{
	size_t count = 0;

	for (size_t i = 0; i < gn->nmembers; i++)
		count += gn->members[i].ifname != NULL;
	return count;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct guard_counter *)a)->name,
		      ((const struct guard_counter *)b)->name);
}

static const struct guard_counter *find_prev(const struct ruleset *rs, const char *name)
{
	struct guard_counter key;

	if (rs->nprev == 0)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, rs->prev, rs->nprev, sizeof(key), by_name);
}

static void declare_counter(struct ruleset *rs, const char *prefix, const char *kind)
{
	char name[sizeof(((struct guard_counter *)0)->name)];
	const struct guard_counter *c;

	snprintf(name, sizeof(name), "%s/%s", prefix, kind);
	c = find_prev(rs, name);
	fprintf(rs->f, "\tcounter %s { packets %" PRIu64 " bytes %" PRIu64 " }\n", name,
		c ? c->packets : 0, c ? c->bytes : 0);
}

static void declare_counters(struct ruleset *rs, const char *prefix, const char *const *kinds,
			     size_t nkinds)
{
	for (size_t i = 0; i < nkinds; i++)
		declare_counter(rs, prefix, kinds[i]);
}

/* The counters of one network's bridge rules, before the rules that name
 * them: a counter is an object of the table whose rules use it. */
static void bridge_counters(struct ruleset *rs, const struct guard_net *gn)
{
	declare_counter(rs, gn->def->name, "isolation");
}

/* The counters of one network's ingress and egress rules. */
static void netdev_counters(struct ruleset *rs, const struct guard_net *gn)
{
	const char *net = gn->def->name;
	char prefix[GUARD_PREFIX_MAX];

	if (gn->def->uplink[0]) {
		snprintf(prefix, sizeof(prefix), "%s/uplink", net);
		declare_counter(rs, prefix, "dhcp_in");
		declare_counters(rs, prefix, uplink_out_counters, ARRAY_SIZE(uplink_out_counters));
	}
	for (size_t i = 0; i < gn->nmembers; i++) {
		if (!gn->members[i].ifname)
			continue;
		snprintf(prefix, sizeof(prefix), "%s/port/%s", net, gn->members[i].ifname);
		declare_counters(rs, prefix, port_counters, ARRAY_SIZE(port_counters));
	}
}

/* A base chain on `dev`'s ingress or egress: the frames that come in (or
 * leave) by that device alone, found by the kernel's hook list for the
 * device rather than by a lookup of ours, which cost every bridged frame as
 * much as its rules. */
static void device_chain_start(FILE *f, const char *chain, const char *hook, const char *dev)
{
	fprintf(f, "\tchain %s {\n\t\ttype filter hook %s device \"%s\" priority "
		GUARD_DEVICE_PRIORITY "; policy accept;\n", chain, hook, dev);
}

/* IPv4 from a port: its address, once it has one, and no DHCP answers. */
static void port_ipv4_chain(FILE *f, const char *chain, const struct net_def *def,
			    const struct net_member *m)
{
	char ip[INET_ADDRSTRLEN];

	fprintf(f, "\tchain %s/ip {\n", chain);
	if (m->has_ip) {
		inet_ntop(AF_INET, &m->ip, ip, sizeof(ip));
		/* A DHCP client asks from 0.0.0.0 until it has a lease (RFC
		 * 2131 4.1), and may have lost the one we know of. */
		fputs("\t\tip saddr 0.0.0.0 udp sport 68 udp dport 67 return\n", f);
		fprintf(f, "\t\tip saddr != %s counter name %s/ip drop\n", ip, chain);
	}
	/* Server to client: DHCP 67 to 68. */
	if (!def->dhcp_servers)
		fprintf(f, "\t\tudp sport 67 counter name %s/dhcp_server drop\n", chain);
	fputs("\t}\n", f);
}

/* ARP from a port: it carries its own sender MAC and address, which are
 * what neighbours learn. */
static void port_arp_chain(FILE *f, const char *chain, const char *mac, const struct net_member *m)
{
	char ip[INET_ADDRSTRLEN];

	fprintf(f, "\tchain %s/arp {\n", chain);
	fprintf(f, "\t\tarp saddr ether != %s counter name %s/arp drop\n", mac, chain);
	if (m->has_ip) {
		inet_ntop(AF_INET, &m->ip, ip, sizeof(ip));
		/* 0.0.0.0: an ARP probe, which checks that an address is free
		 * before it is taken (RFC 5227 2.1.1). */
		fprintf(f, "\t\tarp saddr ip != 0.0.0.0 arp saddr ip != %s counter name %s/arp drop\n",
			ip, chain);
	}
	fputs("\t}\n", f);
}

/* IPv6 from a port: no DHCPv6 answers (server 547 to client 546). */
static void port_ipv6_chain(FILE *f, const char *chain)
{
	fprintf(f, "\tchain %s/ip6 {\n", chain);
	fprintf(f, "\t\tudp sport 547 counter name %s/dhcp_server drop\n", chain);
	fputs("\t}\n", f);
}

/*
 * Frames from a domain: what it may send. The port's chain checks the MAC,
 * then sends each frame by its type to a chain of that type's rules, so
 * that a frame meets only the few rules that can apply to it (goto: what
 * such a chain lets through is accepted, with nothing more to check). Plain rules,
 * not a verdict map: the kernel makes each anonymous set ({ a, b }) a set
 * of the table, found by a walk of all the others, which made a thousand
 * ports take seconds to apply.
 */
static void port_chain(FILE *f, const struct net_def *def, const struct net_member *m)
{
	const uint8_t *a = m->mac;
	char chain[GUARD_PREFIX_MAX], mac[18];

	snprintf(chain, sizeof(chain), "%s/port/%s", def->name, m->ifname);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
	device_chain_start(f, chain, "ingress", m->ifname);
	fprintf(f, "\t\tether saddr != %s counter name %s/mac drop\n", mac, chain);
	fprintf(f, "\t\tether type ip goto %s/ip\n", chain);
	fprintf(f, "\t\tether type arp goto %s/arp\n", chain);
	if (!def->dhcp_servers)
		fprintf(f, "\t\tether type ip6 goto %s/ip6\n", chain);
	/* A tagged frame would reach whatever VLAN the uplink's segment
	 * gives that tag, past rules written for the untagged network. */
	fprintf(f, "\t\tether type 8021q counter name %s/vlan drop\n", chain);
	fprintf(f, "\t\tether type 8021ad counter name %s/vlan drop\n", chain);
	fputs("\t}\n", f);
	port_ipv4_chain(f, chain, def, m);
	port_arp_chain(f, chain, mac, m);
	if (!def->dhcp_servers)
		port_ipv6_chain(f, chain);
}

/* Frames coming in by the uplink: the LAN's DHCP is not the network's. */
static void uplink_in_chain(FILE *f, const struct net_def *def)
{
	char chain[GUARD_PREFIX_MAX];

	snprintf(chain, sizeof(chain), "%s/uplink/in", def->name);
	device_chain_start(f, chain, "ingress", def->uplink);
	fprintf(f, "\t\tudp dport { 67, 68, 546, 547 } counter name %s/uplink/dhcp_in drop\n",
		def->name);
	fputs("\t}\n", f);
}

/* Discovery leaves neither as a query (to the protocol's port) nor as an
 * answer (from it: SSDP, LLMNR and legacy mDNS answer by unicast to the
 * asker's port). */
static void discovery_rules(FILE *f, const struct net_def *def)
{
	static const char *const directions[] = { "dport", "sport" };
	char elements[128] = "";
	const char *sep = "";

	for (size_t i = 0; i < ARRAY_SIZE(discovery_ports); i++)
		if (def->keep_inside & discovery_ports[i].bit) {
			snprintf(elements + strlen(elements), sizeof(elements) - strlen(elements),
				 "%s%s", sep, discovery_ports[i].elements);
			sep = ", ";
		}
	if (!elements[0])
		return;
	for (size_t i = 0; i < ARRAY_SIZE(directions); i++)
		fprintf(f, "\t\tmeta l4proto . th %s { %s } counter name %s/uplink/discovery_out drop\n",
			directions[i], elements, def->name);
}

/* Frames leaving by the uplink, forwarded or the host's own: its egress
 * sees both, and no other frame pays for these rules. */
static void uplink_out_chain(FILE *f, const struct net_def *def)
{
	char host[INET_ADDRSTRLEN], chain[GUARD_PREFIX_MAX];

	inet_ntop(AF_INET, &def->address, host, sizeof(host));
	snprintf(chain, sizeof(chain), "%s/uplink/out", def->name);
	device_chain_start(f, chain, "egress", def->uplink);
	fprintf(f, "\t\tudp dport { 67, 68, 546, 547 } counter name %s/uplink/dhcp_out drop\n",
		def->name);
	/* dnsmasq answers on the bridge, which the uplink's LAN shares. */
	fprintf(f, "\t\tip saddr %s meta l4proto { tcp, udp } th sport 53 "
		"counter name %s/uplink/dns_out drop\n", host, def->name);
	discovery_rules(f, def);
	fputs("\t}\n", f);
}

/* One network's device chains: its ports' and its uplink's. */
static void device_chains(FILE *f, const struct guard_net *gn)
{
	for (size_t i = 0; i < gn->nmembers; i++)
		if (gn->members[i].ifname)
			port_chain(f, gn->def, &gn->members[i]);
	if (gn->def->uplink[0]) {
		uplink_in_chain(f, gn->def);
		uplink_out_chain(f, gn->def);
	}
}

/* A hook has a cost for every frame even with no rules in it: base chains
 * are made only when they have something to do. */
static void base_chain_start(FILE *f, const char *hook)
{
	fprintf(f, "\tchain %s {\n\t\ttype filter hook %s priority filter; policy accept;\n", hook,
		hook);
}

static void port_set(FILE *f, const struct guard_net *gn)
{
	const char *sep = "{ ";

	for (size_t i = 0; i < gn->nmembers; i++) {
		if (!gn->members[i].ifname)
			continue;
		fprintf(f, "%s\"%s\"", sep, gn->members[i].ifname);
		sep = ", ";
	}
	fputs(" }", f);
}

static bool isolating(const struct guard_net *gn)
{
	return gn->def->isolated && running_members(gn) > 0;
}

/* Isolation: forwarding is within one bridge, so one rule per isolated
 * network (two set lookups) sees every domain-to-domain frame. Frames to
 * the host take the input hook and to the uplink fail the oifname match. */
static void forward_chain(FILE *f, const struct guard_net *nets, size_t n)
{
	size_t isolated = 0;

	for (size_t i = 0; i < n; i++)
		isolated += isolating(&nets[i]);
	if (!isolated)
		return;
	base_chain_start(f, "forward");
	for (size_t i = 0; i < n; i++) {
		if (!isolating(&nets[i]))
			continue;
		fputs("\t\tiifname ", f);
		port_set(f, &nets[i]);
		fputs(" oifname ", f);
		port_set(f, &nets[i]);
		fprintf(f, " counter name %s/isolation drop\n", nets[i].def->name);
	}
	fputs("\t}\n", f);
}

/* Isolation: what passes between the ports of a bridge. */
static void bridge_table(struct ruleset *rs, const struct guard_net *nets, size_t n)
{
	fputs("table bridge " GUARD_TABLE " {\n", rs->f);
	for (size_t i = 0; i < n; i++)
		bridge_counters(rs, &nets[i]);
	forward_chain(rs->f, nets, n);
	fputs("}\n", rs->f);
}

/* What comes in by the ports and the uplinks, and what leaves by the uplinks. */
static void netdev_table(struct ruleset *rs, const struct guard_net *nets, size_t n)
{
	fputs("table netdev " GUARD_TABLE " {\n", rs->f);
	for (size_t i = 0; i < n; i++)
		netdev_counters(rs, &nets[i]);
	for (size_t i = 0; i < n; i++)
		device_chains(rs->f, &nets[i]);
	fputs("}\n", rs->f);
}

/* Declaring each table first makes its deletion succeed when it is absent;
 * the whole text is one transaction, both tables or neither. */
static void write_ruleset(struct ruleset *rs, const struct guard_net *nets, size_t n)
{
	fputs("table bridge " GUARD_TABLE "\ntable netdev " GUARD_TABLE "\n"
	      "delete table bridge " GUARD_TABLE "\ndelete table netdev " GUARD_TABLE "\n", rs->f);
	if (n == 0)
		return;
	bridge_table(rs, nets, n);
	netdev_table(rs, nets, n);
}

/* prev in an order bsearch() can use. */
static struct guard_counter *sorted_copy(const struct guard_counter *prev, size_t nprev)
{
	struct guard_counter *copy = calloc(nprev, sizeof(*copy));

	if (!copy)
		return NULL;
	memcpy(copy, prev, nprev * sizeof(*copy));
	qsort(copy, nprev, sizeof(*copy), by_name);
	return copy;
}

int guard_ruleset(const struct guard_net *nets, size_t n, const struct guard_counter *prev,
		  size_t nprev, char **text)
{
	struct guard_counter *sorted = NULL;
	struct ruleset rs = { .nprev = nprev };
	size_t len;
	bool failed;
	int err;

	*text = NULL;
	err = check_names(nets, n);
	if (err)
		return err;
	if (nprev && !(sorted = sorted_copy(prev, nprev)))
		return -ENOMEM;
	rs.prev = sorted;
	rs.f = open_memstream(text, &len);
	failed = !rs.f;
	if (rs.f) {
		write_ruleset(&rs, nets, n);
		failed = ferror(rs.f);
		failed |= fclose(rs.f) != 0;
	}
	free(sorted);
	if (failed) {
		free(*text);
		*text = NULL;
		log_error("guard: out of memory writing the rules");
		return -ENOMEM;
	}
	return 0;
}

/* A libnftables context whose output and errors go to buffers. */
static struct nft_ctx *nft_open(unsigned output_flags)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft) {
		log_error("guard: cannot make an nftables context");
		return NULL;
	}
	nft_ctx_output_set_flags(nft, output_flags);
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		log_error("guard: cannot buffer nftables' output");
		nft_ctx_free(nft);
		return NULL;
	}
	return nft;
}

/* Runs `cmd`; on failure logs nft's complaint after `what`. libnftables
 * keeps no error code (errno after a failure is as often a leftover
 * EAGAIN from its last netlink read as the kernel's answer), so its
 * message is what says why, and the code is -EIO. */
static int nft_run(struct nft_ctx *nft, const char *cmd, const char *what)
{
	const char *msg, *next;
	size_t len;

	if (nft_run_cmd_from_buffer(nft, cmd) == 0)
		return 0;
	msg = nft_ctx_get_error_buffer(nft);
	msg = msg ? msg : "";
	/* The first error and the line it points at: a refused transaction
	 * repeats the same error for every command in it. */
	next = strstr(msg + (*msg != '\0'), "\nError: ");
	len = next ? (size_t)(next - msg) : strlen(msg);
	while (len && msg[len - 1] == '\n')
		len--;
	log_error("guard: %s: %.*s", what, (int)len, msg);
	return -EIO;
}

/* Whether `c`, a counter from `nft -j list counters`, is in one of our two
 * tables: a table of our name in another family is someone else's. */
static bool ours(const json_t *c)
{
	const char *family = json_string_value(json_object_get(c, "family"));
	const char *table = json_string_value(json_object_get(c, "table"));

	return family && table && strcmp(table, GUARD_TABLE) == 0 &&
	       (strcmp(family, "bridge") == 0 || strcmp(family, "netdev") == 0);
}

/* Copies `c` into *out if it is one of our tables'. */
static bool take_counter(const json_t *c, struct guard_counter *out)
{
	const char *name = json_string_value(json_object_get(c, "name"));

	if (!ours(c) || !name || strlen(name) >= sizeof(out->name))
		return false;
	strcpy(out->name, name);
	/* jansson reads integers as signed 64-bit: 2^63 bytes is far off. */
	out->packets = (uint64_t)json_integer_value(json_object_get(c, "packets"));
	out->bytes = (uint64_t)json_integer_value(json_object_get(c, "bytes"));
	return true;
}

static int parse_counters(const char *text, struct guard_counter **out, size_t *n)
{
	json_t *root = json_loads(text, 0, NULL);
	json_t *items = json_object_get(root, "nftables");
	json_t *item;
	size_t i;

	if (!json_is_array(items)) {
		log_error("guard: nft listed the counters in a form we do not know");
		json_decref(root);
		return -EPROTO;
	}
	/* Room for one more than needed, so that calloc never sees 0. */
	*out = calloc(json_array_size(items) + 1, sizeof(**out));
	if (!*out) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(items, i, item)
		*n += take_counter(json_object_get(item, "counter"), &(*out)[*n]);
	json_decref(root);
	return 0;
}

/* Every counter in our tables (none if there are no tables). */
static int read_counters(struct guard_counter **out, size_t *n)
{
	struct nft_ctx *nft = nft_open(NFT_CTX_OUTPUT_JSON);
	int err;

	*out = NULL;
	*n = 0;
	if (!nft)
		return -ENOMEM;
	/* Every family's counters, not the tables': no error if they are
	 * absent, and both tables in one listing. */
	err = nft_run(nft, "list counters", "reading the guard's counters");
	if (!err)
		err = parse_counters(nft_ctx_get_output_buffer(nft), out, n);
	nft_ctx_free(nft);
	return err;
}

static int run_ruleset(const char *text)
{
	struct nft_ctx *nft = nft_open(0);
	int err;

	if (!nft)
		return -ENOMEM;
	err = nft_run(nft, text, "replacing tables bridge and netdev " GUARD_TABLE);
	nft_ctx_free(nft);
	return err;
}

/* nets[0..n) with only the interfaces that exist now. */
struct present {
	struct guard_net *nets;
	struct net_def *defs;
	struct net_member *members;
};

static void present_free(struct present *p)
{
	free(p->nets);
	free(p->defs);
	free(p->members);
}

static bool link_exists(const char *ifname)
{
	return if_nametoindex(ifname) != 0;
}

/*
 * An ingress chain names its device, which must exist when the chain is
 * made, or nft refuses the whole transaction: one domain's tap that has
 * gone would keep every other network's rules from changing. A port
 * without its tap has nothing to guard (no tap, no frames), and an uplink
 * that is not there takes no frames either, so they are left out, as a
 * member that is not running is. A tap that goes between this look and
 * the replacement only makes that replacement fail (the old rules stay);
 * corrald applies the rules again when its domain stops.
 */
static int present_only(const struct guard_net *nets, size_t n, struct present *p)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		total += nets[i].nmembers;
	/* One more than needed, so that calloc never sees 0. */
	p->nets = calloc(n + 1, sizeof(*p->nets));
	p->defs = calloc(n + 1, sizeof(*p->defs));
	p->members = calloc(total + 1, sizeof(*p->members));
	if (!p->nets || !p->defs || !p->members) {
		present_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		p->defs[i] = *nets[i].def;
		if (p->defs[i].uplink[0] && !link_exists(p->defs[i].uplink))
			p->defs[i].uplink[0] = '\0';
		p->nets[i] = (struct guard_net){ &p->defs[i], &p->members[k], nets[i].nmembers };
		for (size_t j = 0; j < nets[i].nmembers; j++, k++) {
			p->members[k] = nets[i].members[j];
			if (p->members[k].ifname && !link_exists(p->members[k].ifname))
				p->members[k].ifname = NULL;
		}
	}
	return 0;
}

/* The rules for nets[0..n), counters carried over, in *text. */
static int ruleset_now(const struct guard_net *nets, size_t n, char **text)
{
	struct guard_counter *prev = NULL;
	struct present p = { 0 };
	size_t nprev = 0;
	int err;

	/* Names first: one nft cannot read is an error, not a missing link. */
	err = check_names(nets, n);
	if (!err)
		err = present_only(nets, n, &p);
	if (err)
		return err;
	/* What is counted between this read and the replacement is lost: a
	 * counter cannot move from one table to another. */
	if (n && read_counters(&prev, &nprev) < 0)
		log_warn("guard: the counters start again from 0");
	err = guard_ruleset(p.nets, n, prev, nprev, text);
	free(prev);
	present_free(&p);
	return err;
}

int guard_apply(const struct guard_net *nets, size_t n)
{
	char *text;
	int err = ruleset_now(nets, n, &text);

	if (err)
		return err;
	err = run_ruleset(text);
	free(text);
	return err;
}

static json_t *counter_json(const struct guard_counter *c)
{
	return json_pack("{s:I,s:I}", "packets", (json_int_t)c->packets, "bytes",
			 (json_int_t)c->bytes);
}

/* obj[key], an object, made if it is not there; NULL on ENOMEM. */
static json_t *child(json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);

	if (!c && json_object_set_new(obj, key, c = json_object()) < 0)
		return NULL;
	return c;
}

/* Puts counter c, whose name is `rest` after "NET/", in the network's
 * JSON; names this version does not know are left out. 0 or -ENOMEM. */
static int place_counter(json_t *net, const char *rest, const struct guard_counter *c)
{
	char ifname[IFNAMSIZ];
	const char *kind;

	if (strcmp(rest, "isolation") == 0)
		return json_object_set_new(net, rest, counter_json(c)) ? -ENOMEM : 0;
	if (strncmp(rest, "uplink/", 7) == 0)
		return json_object_set_new(child(net, "uplink"), rest + 7, counter_json(c)) ? -ENOMEM : 0;
	if (strncmp(rest, "port/", 5) != 0)
		return 0;
	kind = strchr(rest + 5, '/');
	if (!kind || kind - (rest + 5) >= IFNAMSIZ)
		return 0;
	snprintf(ifname, sizeof(ifname), "%.*s", (int)(kind - (rest + 5)), rest + 5);
	return json_object_set_new(child(child(net, "ports"), ifname), kind + 1, counter_json(c)) ?
		-ENOMEM : 0;
}

json_t *guard_counters_json(const char *name)
{
	struct guard_counter *c;
	size_t n, len = strlen(name);
	json_t *net = NULL;
	int err = read_counters(&c, &n);

	for (size_t i = 0; i < n && !err; i++) {
		if (strncmp(c[i].name, name, len) != 0 || c[i].name[len] != '/')
			continue;
		if (!net && !(net = json_pack("{s:{}}", "ports")))
			err = -ENOMEM;
		else
			err = place_counter(net, c[i].name + len + 1, &c[i]);
	}
	free(c);
	if (err) {
		log_error("guard: cannot report the counters of network %s", name);
		json_decref(net);
		return NULL;
	}
	return net;
}
