#include "net/netdef.h"
#include "common/util.h"
#include "config/xlcfg_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* State while one definition is read. */
struct reader {
	struct net_def *def;
	struct diag *d;
	const char *source;
	/* Checked against each other once every key is read. */
	const struct xlcfg_value *address_at, *range_at, *gateway_at;
};

static uint32_t host_order(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static uint32_t netmask(unsigned prefix)
{
	return prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
}

static bool in_subnet(const struct net_def *def, struct in_addr ip)
{
	uint32_t mask = netmask(def->prefix);

	return (host_order(ip) & mask) == (host_order(def->address) & mask);
}

/* Neither the subnet's own address nor its broadcast address. */
static bool host_part_ok(const struct net_def *def, struct in_addr ip)
{
	uint32_t host = host_order(ip) & ~netmask(def->prefix);

	return host != 0 && host != ~netmask(def->prefix);
}

bool net_def_host_address(const struct net_def *def, struct in_addr ip)
{
	return in_subnet(def, ip) && host_part_ok(def, ip) && ip.s_addr != def->address.s_addr;
}

bool net_def_overlap(const struct net_def *a, const struct net_def *b)
{
	uint32_t mask = netmask(a->prefix < b->prefix ? a->prefix : b->prefix);

	return (host_order(a->address) & mask) == (host_order(b->address) & mask);
}

bool net_ifname_ok(const char *name)
{
	size_t len = strlen(name);

	if (len < 1 || len >= IFNAMSIZ || !isalpha((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return false;
	return true;
}

static int want_string(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	return xlcfg_want_type(r->d, key, v, XLCFG_STRING);
}

static int take_ipv4(struct reader *r, const char *key, const struct xlcfg_value *v,
		     const char *text, struct in_addr *out)
{
	if (inet_pton(AF_INET, text, out) != 1)
		return xlcfg_value_error(r->d, v, "%s: '%s' is not an IPv4 address", key, text);
	return 0;
}

static int take_ifname(struct reader *r, const char *key, const struct xlcfg_value *v,
		       char out[IFNAMSIZ])
{
	int err = want_string(r, key, v);

	if (err)
		return err;
	if (!net_ifname_ok(v->text))
		return xlcfg_value_error(r->d, v, "%s '%s' is not an interface name corral accepts "
					 "(1 to 15 letters, digits, '-', '_' or '.', starting "
					 "with a letter)", key, v->text);
	memcpy(out, v->text, strlen(v->text) + 1);
	return 0;
}

static int take_flag(struct reader *r, const char *key, const struct xlcfg_value *v, bool *out)
{
	long long n;
	int err = xlcfg_take_number(r->d, key, v, 0, 1, "", &n);

	if (!err)
		*out = n;
	return err;
}

/* ---- One function per key -------------------------------------------- */

static int key_name(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	return take_ifname(r, key, v, r->def->name);
}

static int key_uplink(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	return take_ifname(r, key, v, r->def->uplink);
}

/* The address before `sep` in v's text ("192.168.42.18" of
 * "192.168.42.18/24"); *rest is what follows sep, NULL if there is no sep
 * (and then nothing is reported: the caller says what the value must be). */
static int ipv4_before(struct reader *r, const char *key, const struct xlcfg_value *v, char sep,
		       struct in_addr *out, const char **rest)
{
	char ip[INET_ADDRSTRLEN + 1];
	const char *at = strchr(v->text, sep);

	*rest = NULL;
	if (!at || (size_t)(at - v->text) >= sizeof(ip))
		return 0;
	memcpy(ip, v->text, (size_t)(at - v->text));
	ip[at - v->text] = '\0';
	*rest = at + 1;
	return take_ipv4(r, key, v, ip, out);
}

/* address = "192.168.42.18/24" */
static int key_address(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	const char *prefix_text;
	unsigned prefix;
	int err = want_string(r, key, v);

	if (!err)
		err = ipv4_before(r, key, v, '/', &r->def->address, &prefix_text);
	if (err)
		return err;
	if (!prefix_text)
		return xlcfg_value_error(r->d, v, "address '%s' must be ADDRESS/PREFIX, e.g. "
					 "\"192.168.42.18/24\"", v->text);
	if (parse_uint(prefix_text, 30, &prefix) || prefix < 8)
		return xlcfg_value_error(r->d, v, "address '%s': the prefix must be 8 to 30",
					 v->text);
	r->def->prefix = prefix;
	r->address_at = v;
	return 0;
}

/* dhcp_range = "192.168.42.100-192.168.42.199" */
static int key_dhcp_range(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	const char *last;
	int err = want_string(r, key, v);

	if (!err)
		err = ipv4_before(r, key, v, '-', &r->def->range_first, &last);
	if (err)
		return err;
	if (!last)
		return xlcfg_value_error(r->d, v, "dhcp_range '%s' must be FIRST-LAST, e.g. "
					 "\"192.168.42.100-192.168.42.199\"", v->text);
	err = take_ipv4(r, key, v, last, &r->def->range_last);
	if (err)
		return err;
	if (host_order(r->def->range_first) > host_order(r->def->range_last))
		return xlcfg_value_error(r->d, v, "dhcp_range '%s' ends before it starts", v->text);
	r->def->has_range = true;
	r->range_at = v;
	return 0;
}

static int key_gateway(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	int err = want_string(r, key, v);

	if (!err)
		err = take_ipv4(r, key, v, v->text, &r->def->gateway);
	if (err)
		return err;
	r->def->has_gateway = true;
	r->gateway_at = v;
	return 0;
}

/* dns_domain = "example.com": labels joined by dots. */
static int key_dns_domain(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	int err = want_string(r, key, v);

	if (err)
		return err;
	if (!dns_name_valid(v->text))
		return xlcfg_value_error(r->d, v, "dns_domain '%s' is not a domain name (labels "
					 "of letters, digits and '-', joined by '.', at most "
					 "%d characters)", v->text, NET_DNS_DOMAIN_MAX);
	memcpy(r->def->dns_domain, v->text, strlen(v->text) + 1);
	return 0;
}

static int key_isolated(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	return take_flag(r, key, v, &r->def->isolated);
}

static int key_dhcp_servers(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	return take_flag(r, key, v, &r->def->dhcp_servers);
}

static const struct {
	const char *name;
	unsigned bit;
} discovery_names[] = {
	{ "mdns", NET_DISCOVERY_MDNS },
	{ "llmnr", NET_DISCOVERY_LLMNR },
	{ "ssdp", NET_DISCOVERY_SSDP },
	{ "netbios", NET_DISCOVERY_NETBIOS },
};

static int add_kept_inside(void *ctx, const struct xlcfg_value *v)
{
	struct reader *r = ctx;

	for (size_t i = 0; i < ARRAY_SIZE(discovery_names); i++) {
		if (!strcmp(v->text, discovery_names[i].name)) {
			r->def->keep_inside |= discovery_names[i].bit;
			return 0;
		}
	}
	return xlcfg_value_error(r->d, v, "keep_inside: unknown protocol '%s' (known: mdns, "
				 "llmnr, ssdp, netbios)", v->text);
}

static int key_keep_inside(struct reader *r, const char *key, const struct xlcfg_value *v)
{
	return xlcfg_for_each_string(r->d, key, v, add_kept_inside, r);
}

static const struct {
	const char *key;
	int (*apply)(struct reader *r, const char *key, const struct xlcfg_value *v);
} keys[] = {
	{ "name", key_name },
	{ "address", key_address },
	{ "dhcp_range", key_dhcp_range },
	{ "gateway", key_gateway },
	{ "dns_domain", key_dns_domain },
	{ "uplink", key_uplink },
	{ "isolated", key_isolated },
	{ "dhcp_servers", key_dhcp_servers },
	{ "keep_inside", key_keep_inside },
};

/* An unknown key is an error, not a warning as in domain files: a misspelt
 * `isolated` would otherwise leave a network open without a word. */
static int apply(struct reader *r, const struct xlcfg_setting *s)
{
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (!strcmp(s->key, keys[k].key))
			return keys[k].apply(r, s->key, s->value);
	diag_error(r->d, s->source, s->pos, "unknown key '%s'", s->key);
	return -EINVAL;
}

/* ---- After all keys: what needs more than one ------------------------- */

static void check_range(struct reader *r)
{
	const struct net_def *def = r->def;
	const struct xlcfg_value *v = r->range_at;
	uint32_t host = host_order(def->address);

	if (!net_def_host_address(def, def->range_first) ||
	    !net_def_host_address(def, def->range_last))
		xlcfg_value_error(r->d, v, "dhcp_range '%s' is not inside the subnet of address",
				  v->text);
	else if (host >= host_order(def->range_first) && host <= host_order(def->range_last))
		xlcfg_value_error(r->d, v, "dhcp_range '%s' holds the host's own address", v->text);
}

static void finish(struct reader *r)
{
	struct net_def *def = r->def;

	if (!def->name[0])
		diag_error(r->d, r->source, (struct src_pos){ 0 }, "no name = \"...\" given");
	if (!def->prefix)
		diag_error(r->d, r->source, (struct src_pos){ 0 },
			   "no address = \"ADDRESS/PREFIX\" given (the host's address on the "
			   "bridge)");
	if (!def->prefix)
		return;
	if (!host_part_ok(def, def->address))
		xlcfg_value_error(r->d, r->address_at, "address '%s' is the subnet's own or its "
				  "broadcast address", r->address_at->text);
	if (r->range_at)
		check_range(r);
	if (r->gateway_at && !in_subnet(def, def->gateway))
		xlcfg_value_error(r->d, r->gateway_at, "gateway '%s' is not inside the subnet of "
				  "address", r->gateway_at->text);
	if (def->uplink[0] && !strcmp(def->uplink, def->name))
		diag_error(r->d, r->source, (struct src_pos){ 0 },
			   "uplink '%s' is the bridge itself", def->uplink);
}

int net_def_parse(const char *text, size_t len, const char *source, struct diag *d,
		  struct net_def *out)
{
	struct reader r = { .def = out, .d = d, .source = source };
	unsigned errors_before = d->errors;
	struct xlcfg cfg;
	int err;

	memset(out, 0, sizeof(*out));
	xlcfg_init(&cfg);
	/* After a syntax error, the statements that parsed are still checked. */
	err = xlcfg_parse(&cfg, text, len, source, d);
	for (size_t i = 0; err != -ENOMEM && i < cfg.nsettings; i++)
		if (apply(&r, &cfg.settings[i]) == -ENOMEM)
			err = -ENOMEM;
	if (err != -ENOMEM && d->errors == errors_before)
		finish(&r);
	xlcfg_free(&cfg);
	if (err == -ENOMEM)
		return err;
	return d->errors == errors_before ? 0 : -EINVAL;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *address_or_null(bool has, struct in_addr a)
{
	char text[INET_ADDRSTRLEN];

	return has ? json_string(inet_ntop(AF_INET, &a, text, sizeof(text))) : json_null();
}

static json_t *string_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

json_t *net_def_json(const struct net_def *def)
{
	char address[INET_ADDRSTRLEN + 4], first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
	char range[2 * INET_ADDRSTRLEN + 1];
	json_t *kept = json_array();

	inet_ntop(AF_INET, &def->address, address, INET_ADDRSTRLEN);
	snprintf(address + strlen(address), 4, "/%u", def->prefix);
	inet_ntop(AF_INET, &def->range_first, first, sizeof(first));
	inet_ntop(AF_INET, &def->range_last, last, sizeof(last));
	snprintf(range, sizeof(range), "%s-%s", first, last);
	for (size_t i = 0; i < ARRAY_SIZE(discovery_names); i++)
		if (def->keep_inside & discovery_names[i].bit)
			json_array_append_new(kept, json_string(discovery_names[i].name));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:o}", "name", def->name,
			 "address", address,
			 "dhcp_range", def->has_range ? json_string(range) : json_null(),
			 "gateway", address_or_null(def->has_gateway, def->gateway),
			 "dns_domain", string_or_null(def->dns_domain),
			 "uplink", string_or_null(def->uplink), "isolated", def->isolated,
			 "dhcp_servers", def->dhcp_servers, "keep_inside", kept);
}
