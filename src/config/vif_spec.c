/*
 * xl-network-configuration(5) vif specs. The spec is copied once and cut up
 * in place; every string kept in struct vif_spec is an allocation of its own.
 */
#include "config/vif_spec.h"
#include "config/spec_error.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INTERVAL_US 50000	/* xl's: 50 ms */

enum key { K_MAC, K_BRIDGE, K_IP, K_VIFNAME, K_MODEL, K_SCRIPT, K_TYPE, K_RATE, K_IGNORED };

/*
 * The keys corral uses, then from K_IGNORED those xl knows that mean
 * nothing here: driver domains, the vif-route script's gateway (netdev is
 * its old name), Xen's device numbering, accel (which xl ignores too) and
 * mtu. xl's COLO keys are refused: a guest run without COLO is not what
 * such a file asks for.
 */
static const char *const keys[] = {
	"mac", "bridge", "ip", "vifname", "model", "script", "type", "rate",
	"accel", "backend", "devid", "gatewaydev", "mtu", "netdev", NULL,
};

_Static_assert(ARRAY_SIZE(keys) - 1 - K_IGNORED <= ARRAY_SIZE(((struct vif_spec *)0)->ignored),
	       "vif_spec.ignored holds every ignored key at once");

struct unit {
	const char *suffix;
	uint64_t mult;
	unsigned div;
};

/* Decimal multiples, as xl takes them: 1MB/s@20ms is 20,000 bytes each 20 ms. */
static const struct unit rate_units[] = {
	{ "", 1, 1 },		{ "B", 1, 1 },		{ "KB", 1000, 1 },
	{ "kB", 1000, 1 },	{ "MB", 1000000, 1 },	{ "GB", 1000000000, 1 },
	{ "b", 1, 8 },		{ "Kb", 1000, 8 },	{ "Mb", 1000000, 8 },
	{ "Gb", 1000000000, 8 }, { NULL, 0, 0 },
};

static const struct unit interval_units[] = {
	{ "s", 1000000, 1 }, { "ms", 1000, 1 }, { "us", 1, 1 }, { NULL, 0, 0 },
};

struct parser {
	struct vif_spec *vs;
	unsigned seen;		/* keys given, by index in keys[] */
	struct spec_error err;
};

static unsigned hex_value(char c)
{
	return isdigit((unsigned char)c) ? (unsigned)(c - '0')
					 : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
}

int mac_parse(const char *text, uint8_t mac[6])
{
	/* Exactly 17 characters: every index below is inside the string. */
	char sep = strlen(text) == 17 ? text[2] : '\0';
	uint8_t out[6];

	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = text + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != sep))
			return -EINVAL;
		out[i] = hex_value(p[0]) << 4 | hex_value(p[1]);
	}
	memcpy(mac, out, sizeof(out));
	return 0;
}

static int set_mac(struct parser *ps, const char *value)
{
	static const uint8_t zero[6];
	struct vif_spec *vs = ps->vs;

	if (mac_parse(value, vs->mac) < 0)
		return spec_fail(&ps->err, "mac '%s' is not six hex octets such as 00:16:3e:12:34:56", value);
	if (vs->mac[0] & 1)
		return spec_fail(&ps->err, "multicast MAC %s: the low bit of the first octet must be clear",
			    value);
	if (!memcmp(vs->mac, zero, sizeof(zero)))
		return spec_fail(&ps->err, "all-zero MAC %s", value);
	vs->has_mac = true;
	return 0;
}

/* text[0, len) as a decimal number with one of `units` after it, scaled:
 * 0, -EINVAL if malformed or -ERANGE if the bytes do not fit in 64 bits. */
static int scaled(const char *text, size_t len, const struct unit *u, uint64_t *out)
{
	char *end;
	uint64_t n;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return -ERANGE;
	for (; u->suffix; u++) {
		if ((size_t)(text + len - end) != strlen(u->suffix) ||
		    memcmp(end, u->suffix, strlen(u->suffix)))
			continue;
		if (n > UINT64_MAX / u->mult)
			return -ERANGE;
		*out = n * u->mult / u->div;
		return 0;
	}
	return -EINVAL;
}

/* rate=RATE/s or RATE/s@INTERVAL, e.g. 10Mb/s or 1MB/s@20ms. */
static int set_rate(struct parser *ps, const char *value)
{
	const char *slash = strstr(value, "/s");
	uint64_t bytes = 0, us = DEFAULT_INTERVAL_US;
	int rc;

	if (!slash || (slash[2] && slash[2] != '@'))
		return spec_fail(&ps->err, "rate '%s' is not RATE/s or RATE/s@INTERVAL", value);
	rc = scaled(value, slash - value, rate_units, &bytes);
	if (!rc && slash[2])
		rc = scaled(slash + 3, strlen(slash + 3), interval_units, &us);
	if (rc == -EINVAL)
		return spec_fail(&ps->err, "rate '%s' is not RATE/s or RATE/s@INTERVAL (such as 10Mb/s or "
			    "1MB/s@20ms)", value);
	/* As xl does, make sure bytes per interval can be worked out in 64 bits. */
	if (rc || us > UINT32_MAX || (us && bytes > UINT64_MAX / us))
		return spec_fail(&ps->err, "rate '%s' overflows", value);
	if (!bytes)
		return spec_fail(&ps->err, "rate '%s' is under a byte per second (leave rate out for no "
			    "limit)", value);
	if (!us)
		return spec_fail(&ps->err, "rate '%s' has a zero interval", value);
	ps->vs->rate_bytes_per_sec = bytes;
	ps->vs->rate_interval_us = us;
	return 0;
}

static int set_key(struct parser *ps, enum key k, const char *value)
{
	struct vif_spec *vs = ps->vs;

	switch (k) {
	case K_MAC:
		return set_mac(ps, value);
	case K_BRIDGE:
		return spec_keep(&ps->err, &vs->bridge, value);
	case K_IP:
		return spec_keep(&ps->err, &vs->ip, value);
	case K_VIFNAME:
		return spec_keep(&ps->err, &vs->vifname, value);
	case K_MODEL:
		return spec_keep(&ps->err, &vs->model, value);
	case K_SCRIPT:
		return spec_keep(&ps->err, &vs->script, value);
	case K_TYPE:
		if (strcmp(value, "ioemu") && strcmp(value, "vif"))
			return spec_fail(&ps->err, "unknown type '%s' (ioemu or vif)", value);
		return spec_keep(&ps->err, &vs->type, value);
	case K_RATE:
		return set_rate(ps, value);
	default:
		vs->ignored[vs->nignored++] = keys[k];
		return 0;
	}
}

static int parse_item(struct parser *ps, char *item)
{
	char *value = strchr(item, '=');
	int k = -1;

	if (!value)
		return spec_fail(&ps->err, "'%s' is not key=value", item);
	*value++ = '\0';
	for (int i = 0; keys[i]; i++)
		if (!strcmp(keys[i], item))
			k = i;
	if (k < 0)
		return spec_fail(&ps->err, "unknown key '%s'", item);
	if (ps->seen & 1u << k)
		return spec_fail(&ps->err, "%s given twice", item);
	ps->seen |= 1u << k;
	if (!*value)
		return spec_fail(&ps->err, "%s has an empty value", item);
	return set_key(ps, k, value);
}

static void init(struct vif_spec *vs)
{
	memset(vs, 0, sizeof(*vs));
	vs->rate_interval_us = DEFAULT_INTERVAL_US;
}

int vif_spec_parse(const char *spec, struct vif_spec *out, char *err, size_t errlen)
{
	struct parser ps = { .vs = out, .err = { err, errlen } };
	char *copy, *pos, *item;
	int rc = 0;

	init(out);
	copy = pos = strdup(spec);
	if (!copy)
		return spec_nomem(&ps.err);
	/* Empty items, and so the empty spec, stand for nothing. */
	while (!rc && (item = strsep(&pos, ","))) {
		item = spec_trim(item);
		if (*item)
			rc = parse_item(&ps, item);
	}
	free(copy);
	if (rc)
		vif_spec_free(out);
	return rc;
}

void vif_spec_free(struct vif_spec *vs)
{
	free(vs->bridge);
	free(vs->ip);
	free(vs->vifname);
	free(vs->model);
	free(vs->script);
	free(vs->type);
	init(vs);
}

void mac_format(const uint8_t mac[6], char text[MAC_TEXT_LEN])
{
	snprintf(text, MAC_TEXT_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}
