#include "net/lease.h"
#include "config/vif_spec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* EXPIRY MAC IP HOSTNAME CLIENT-ID */
#define LEASE_FIELDS 5

/* A field of a line: not NUL-terminated, as the text is not. */
struct field {
	const char *p;
	size_t len;
};

/* Splits a line at single spaces (as dnsmasq writes it) into exactly
 * LEASE_FIELDS non-empty fields; false if it has another shape. */
static bool split(const char *line, size_t len, struct field f[LEASE_FIELDS])
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (i == start || n == LEASE_FIELDS)
			return false;	/* an empty field, or one too many */
		f[n++] = (struct field){ line + start, i - start };
		start = i + 1;
	}
	return n == LEASE_FIELDS;
}

/* The expiry: seconds since the epoch, or 0 for an infinite lease. */
static bool expiry_ok(struct field f)
{
	if (f.len > 20)
		return false;
	for (size_t i = 0; i < f.len; i++)
		if (!isdigit((unsigned char)f.p[i]))
			return false;
	return true;
}

/* dnsmasq writes other hardware types as "TYPE-xx:xx:..": not 17 characters. */
static bool mac_ok(struct field f, uint8_t mac[6])
{
	char text[MAC_TEXT_LEN];

	if (f.len != MAC_TEXT_LEN - 1)
		return false;
	memcpy(text, f.p, f.len);
	text[f.len] = '\0';
	return mac_parse(text, mac) == 0;
}

static bool ip_ok(struct field f, struct in_addr *ip)
{
	char text[INET_ADDRSTRLEN];

	if (f.len >= sizeof(text))
		return false;
	memcpy(text, f.p, f.len);
	text[f.len] = '\0';
	return inet_pton(AF_INET, text, ip) == 1;
}

/* The host name is not used: any printable ASCII, or "*" for none. */
static bool hostname_ok(struct field f)
{
	for (size_t i = 0; i < f.len; i++)
		if (f.p[i] <= ' ' || f.p[i] > '~')
			return false;
	return true;
}

/* Hex octets separated by ':', or "*" for none. */
static bool client_id_ok(struct field f)
{
	if (f.len == 1 && f.p[0] == '*')
		return true;
	for (size_t i = 0; i < f.len; i++)
		if (!isxdigit((unsigned char)f.p[i]) && f.p[i] != ':')
			return false;
	return true;
}

static bool parse_line(const char *line, size_t len, struct lease *out)
{
	struct field f[LEASE_FIELDS];

	return split(line, len, f) && expiry_ok(f[0]) && mac_ok(f[1], out->mac) &&
	       ip_ok(f[2], &out->ip) && hostname_ok(f[3]) && client_id_ok(f[4]);
}

/* "duid SERVER-DUID": what follows are DHCPv6 leases. */
static bool is_duid(const char *line, size_t len)
{
	return len >= 5 && !memcmp(line, "duid ", 5);
}

struct lease_vec {
	struct lease *v;
	size_t n, cap;
};

static int push(struct lease_vec *lv, const struct lease *l)
{
	if (lv->n == lv->cap) {
		size_t cap = lv->cap ? 2 * lv->cap : 16;
		struct lease *v = realloc(lv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		lv->v = v;
		lv->cap = cap;
	}
	lv->v[lv->n++] = *l;
	return 0;
}

int lease_parse(const char *text, size_t len, struct lease **out, size_t *n)
{
	struct lease_vec lv = { 0 };
	size_t pos = 0;

	*out = NULL;
	*n = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		struct lease l;

		if (!nl || is_duid(line, (size_t)(nl - line)))
			break;
		pos += (size_t)(nl - line) + 1;
		if (parse_line(line, (size_t)(nl - line), &l) && push(&lv, &l) < 0) {
			free(lv.v);
			return -ENOMEM;
		}
	}
	*out = lv.v;
	*n = lv.n;
	return 0;
}
