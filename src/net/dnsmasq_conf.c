/*
 * The text of dnsmasq's files for a managed network (dnsmasq.h): its
 * configuration, the reservations and the host records. Everything that
 * goes in comes from corral's own definitions and domain files, but names
 * are checked once more here, since a comma or a newline in one would be
 * an option of its own to dnsmasq.
 */
#include "net/dnsmasq.h"
#include "common/log.h"
#include "common/util.h"
#include "config/vif_spec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * dnsmasq drops to this user once its sockets are open. The compiled-in
 * default differs between builds (Debian's is nobody; others use a
 * "dnsmasq" user that only their dnsmasq package creates): said here so
 * that it does not depend on the build.
 */
#define DNSMASQ_USER "nobody"

/* Short enough that an address freed by a domain returns to the pool soon. */
#define LEASE_TIME "1h"

/* --- Names --------------------------------------------------------------- */

/*
 * Names go into dnsmasq's files unquoted, where ',', '/', '#', a space or
 * a newline would change the meaning of the line (and could add options):
 * only DNS labels are written, which is also what a host name may be.
 */
static bool name_ok(const char *s)
{
	return s && dns_label_valid(s);
}

/* The network's domain, or NULL if it has none (or one unfit to write). */
static const char *domain_of(const struct net_def *def)
{
	if (!def->dns_domain[0])
		return NULL;
	if (dns_name_valid(def->dns_domain))
		return def->dns_domain;
	log_warn("network %s: dns_domain '%s' is not a DNS name: left out", def->name,
		 def->dns_domain);
	return NULL;
}

/* NAME.DOMAIN, or NAME without a domain. */
static void put_fqdn(FILE *f, const char *name, const char *domain)
{
	fprintf(f, "%s%s%s", name, domain ? "." : "", domain ? domain : "");
}

/* --- Addresses ------------------------------------------------------------ */

struct ip_text {
	char s[INET_ADDRSTRLEN];
};

/* For printf: the temporary lives until the end of the full expression. */
static struct ip_text ip_text(struct in_addr a)
{
	struct ip_text t;

	inet_ntop(AF_INET, &a, t.s, sizeof(t.s));
	return t;
}

/* net_def_parse() allows 8 to 30; a hand-made def must not shift out of range. */
static unsigned prefix_of(const struct net_def *def)
{
	return MAX(8u, MIN(def->prefix, 32u));
}

static struct in_addr netmask_of(const struct net_def *def)
{
	return (struct in_addr){ htonl(UINT32_MAX << (32 - prefix_of(def))) };
}

static struct in_addr subnet_of(const struct net_def *def)
{
	return (struct in_addr){ def->address.s_addr & netmask_of(def).s_addr };
}

/* --- dnsmasq.conf ------------------------------------------------------- */

/* The process: who it runs as, where it says what it does. */
static void put_process(FILE *f, const char *dir)
{
	fprintf(f, "# Written by corral; replaced whenever the network changes.\n");
	/* The host's /etc/hosts is not the network's business. */
	fprintf(f, "no-hosts\n");
	/* corrald watches this very process through a pidfd. */
	fprintf(f, "keep-in-foreground\n");
	fprintf(f, "user=%s\n", DNSMASQ_USER);
	fprintf(f, "pid-file=%s/dnsmasq.pid\n", dir);
	/* stderr is dnsmasq.log, opened by corrald. */
	fprintf(f, "log-facility=-\nlog-dhcp\n");
}

/*
 * The bridge only. dnsmasq adds the loopback interface to any interface=
 * list by itself: excluded, or every network's dnsmasq would want
 * 127.0.0.1:53. bind-dynamic binds the bridge's own addresses (so there can
 * be a dnsmasq per network), follows the bridge if it is re-addressed or
 * re-created, and drops queries that arrive by another interface.
 */
static void put_interface(FILE *f, const struct net_def *def)
{
	fprintf(f, "interface=%s\nexcept-interface=lo\nbind-dynamic\n", def->name);
}

/*
 * local= for the subnet's reverse zone. in-addr.arpa delegates at octet
 * boundaries, so a prefix between two is covered by the zones of the next
 * boundary that lie in the subnet: a /20 by 16 /24 zones, a /26 by 64
 * single addresses; 128 lines at most.
 */
static void put_reverse_zones(FILE *f, const struct net_def *def)
{
	unsigned prefix = prefix_of(def), octets = (prefix + 7) / 8;
	uint32_t first = ntohl(subnet_of(def).s_addr);
	uint32_t count = 1u << (octets * 8 - prefix);

	for (uint32_t i = 0; i < count; i++) {
		uint32_t zone = first + (uint32_t)((uint64_t)i << (32 - octets * 8));

		fprintf(f, "local=/");
		for (unsigned o = octets; o > 0; o--)
			fprintf(f, "%u.", (unsigned)(zone >> (32 - 8 * o)) & 0xff);
		fprintf(f, "in-addr.arpa/\n");
	}
}

/*
 * Names in the domain and the subnet's reverse names are answered from what
 * dnsmasq knows (hosts, leases, CNAMEs) and never forwarded. Other names
 * go to the host's resolvers from /etc/resolv.conf, so that domains reach
 * the world by name; names without a dot never leave (domain-needed).
 */
static void put_dns(FILE *f, const struct net_def *def)
{
	const char *domain = domain_of(def);

	fprintf(f, "domain-needed\n");
	if (domain) {
		fprintf(f, "domain=%s,%s/%u\n", domain, ip_text(subnet_of(def)).s, prefix_of(def));
		fprintf(f, "local=/%s/\n", domain);
		fprintf(f, "expand-hosts\n");
	}
	put_reverse_zones(f, def);
}

static void put_dhcp(FILE *f, const struct net_def *def, const char *dir)
{
	struct ip_text mask = ip_text(netmask_of(def));

	if (def->has_range)
		fprintf(f, "dhcp-range=%s,%s,%s,%s\n", ip_text(def->range_first).s,
			ip_text(def->range_last).s, mask.s, LEASE_TIME);
	else	/* No pool, but the subnet, for the members' reserved addresses. */
		fprintf(f, "dhcp-range=%s,static,%s,%s\n", ip_text(subnet_of(def)).s, mask.s,
			LEASE_TIME);
	/* Without one dnsmasq offers its own address on the bridge as the router. */
	if (def->has_gateway)
		fprintf(f, "dhcp-option=option:router,%s\n", ip_text(def->gateway).s);
	fprintf(f, "dhcp-authoritative\n");
	/* Members only: each has a dhcp-hosts line, which tags it "known". */
	fprintf(f, "dhcp-ignore=tag:!known\n");
	/* The host name a guest sends never reaches DNS. */
	fprintf(f, "dhcp-ignore-names\n");
	fprintf(f, "dhcp-leasefile=%s/leases\n", dir);
	fprintf(f, "dhcp-hostsfile=%s/dhcp-hosts\n", dir);
	fprintf(f, "addn-hosts=%s/hosts\n", dir);
}

static bool is_hostname(const struct net_member *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].hostname && !strcasecmp(m[i].hostname, name))
			return true;
	return false;
}

/* Whether alias j of member i appeared before it (dnsmasq refuses a
 * duplicate CNAME and would not start). */
static bool alias_before(const struct net_member *m, size_t i, size_t j)
{
	for (size_t k = 0; k <= i; k++)
		for (size_t l = 0; l < (k == i ? j : m[k].naliases); l++)
			if (!strcasecmp(m[k].aliases[l], m[i].aliases[j]))
				return true;
	return false;
}

/* Whether alias j of member i may be written: a DNS label, not a member's
 * name, not an alias already written. */
static bool alias_usable(const struct net_def *def, const struct net_member *m, size_t n,
			 size_t i, size_t j)
{
	const char *alias = m[i].aliases[j];

	if (name_ok(alias) && !is_hostname(m, n, alias) && !alias_before(m, i, j))
		return true;
	log_warn("network %s: alias '%s' of %s left out: not a DNS label, or taken", def->name,
		 alias, m[i].hostname);
	return false;
}

static void put_cnames(FILE *f, const struct net_def *def, const struct net_member *m,
		       size_t n)
{
	const char *domain = domain_of(def);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; name_ok(m[i].hostname) && j < m[i].naliases; j++) {
			if (!alias_usable(def, m, n, i, j))
				continue;
			fprintf(f, "cname=");
			put_fqdn(f, m[i].aliases[j], domain);
			fprintf(f, ",");
			put_fqdn(f, m[i].hostname, domain);
			fprintf(f, "\n");
		}
	}
}

/* --- Text buffers ------------------------------------------------------- */

struct text {
	FILE *f;
	char *buf;
	size_t len;
};

static bool text_open(struct text *t)
{
	t->buf = NULL;
	t->f = open_memstream(&t->buf, &t->len);
	return t->f != NULL;
}

/* The text, or NULL if any write to it failed (memory). */
static char *text_close(struct text *t)
{
	bool ok = !ferror(t->f);

	if (fclose(t->f) != 0 || !ok) {
		free(t->buf);
		return NULL;
	}
	return t->buf;
}

char *dnsmasq_config_text(const struct net_def *def, const struct net_member *m, size_t n,
			  const char *dir)
{
	struct text t;

	if (!text_open(&t))
		return NULL;
	put_process(t.f, dir);
	put_interface(t.f, def);
	put_dns(t.f, def);
	put_dhcp(t.f, def, dir);
	put_cnames(t.f, def, m, n);
	return text_close(&t);
}

static bool reserved(const struct net_member *m)
{
	return m->has_ip && m->ip_reserved;
}

/* MAC,IP,NAME for a reserved address; MAC,NAME names a dynamic lease. */
char *dnsmasq_dhcp_hosts_text(const struct net_def *def, const struct net_member *m, size_t n)
{
	struct text t;

	if (!text_open(&t))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char mac[MAC_TEXT_LEN];

		mac_format(m[i].mac, mac);
		fprintf(t.f, "%s", mac);
		if (reserved(&m[i]))
			fprintf(t.f, ",%s", ip_text(m[i].ip).s);
		if (name_ok(m[i].hostname))
			fprintf(t.f, ",%s", m[i].hostname);
		else
			log_warn("network %s: host name '%s' of %s is not a DNS label: not in DNS",
				 def->name, m[i].hostname ? m[i].hostname : "", mac);
		fprintf(t.f, "\n");
	}
	return text_close(&t);
}

/* IP NAME.DOMAIN NAME: the first name is also the answer to reverse lookups. */
char *dnsmasq_hosts_text(const struct net_def *def, const struct net_member *m, size_t n)
{
	const char *domain = domain_of(def);
	struct text t;

	if (!text_open(&t))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!reserved(&m[i]) || !name_ok(m[i].hostname))
			continue;
		fprintf(t.f, "%s ", ip_text(m[i].ip).s);
		put_fqdn(t.f, m[i].hostname, domain);
		if (domain)
			fprintf(t.f, " %s", m[i].hostname);
		fprintf(t.f, "\n");
	}
	return text_close(&t);
}

