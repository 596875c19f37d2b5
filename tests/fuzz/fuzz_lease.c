/*
 * libFuzzer target for dnsmasq's lease file as corrald reads it back: the
 * file holds what DHCP clients, that is guests, sent. Any bytes must parse
 * into leases or be skipped, without reading outside the input (which is
 * not NUL-terminated) or leaking. What comes out must be stable: the leases
 * written back as canonical lines parse into the very same leases.
 */
#include "net/lease.h"
#include "config/vif_spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "0 MAC IP * *\n" at most */
#define LINE_MAX_LEN (2 + MAC_TEXT_LEN + INET_ADDRSTRLEN + 5)

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* The leases as dnsmasq would write them. */
static char *canonical(const struct lease *l, size_t n, size_t *len)
{
	char *text = malloc(n * LINE_MAX_LEN + 1), *p = text;

	check(text != NULL);
	for (size_t i = 0; i < n; i++) {
		char mac[MAC_TEXT_LEN], ip[INET_ADDRSTRLEN];

		mac_format(l[i].mac, mac);
		inet_ntop(AF_INET, &l[i].ip, ip, sizeof(ip));
		p += sprintf(p, "0 %s %s * *\n", mac, ip);
	}
	*len = (size_t)(p - text);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease *l, *again;
	size_t n, nagain, len;
	char *text;
	int r = lease_parse((const char *)data, size, &l, &n);

	check(r == 0 || r == -ENOMEM);
	if (r < 0)
		return 0;
	check((l == NULL) == (n == 0));
	/* A lease line is at least "0 " MAC " " IP " * *\n". */
	check(n <= size / (2 + 17 + 1 + 7 + 5));
	text = canonical(l, n, &len);
	r = lease_parse(text, len, &again, &nagain);
	check(r == 0 || r == -ENOMEM);
	if (r == 0) {
		check(nagain == n);
		check(n == 0 || !memcmp(again, l, n * sizeof(*l)));
		free(again);
	}
	free(text);
	free(l);
	return 0;
}
