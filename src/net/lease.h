/*
 * dnsmasq's lease file, read back so that the L2 guard can hold a domain
 * that took a dynamic address to it. The file is written by dnsmasq from
 * what DHCP clients, that is guests, sent: every line is checked, and a
 * line that is not a well-formed IPv4 lease is skipped.
 *
 * A line: EXPIRY MAC IP HOSTNAME CLIENT-ID ("*" for none), e.g.
 *   1763812345 00:16:3e:12:34:56 192.168.42.101 web 01:00:16:3e:12:34:56
 * DHCPv6 leases (after a "duid" line) are skipped, and so is a line
 * without its newline: dnsmasq rewrites the file in place, and a reader may
 * see the last line half written.
 */
#ifndef CORRAL_NET_LEASE_H
#define CORRAL_NET_LEASE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct lease {
	uint8_t mac[6];
	struct in_addr ip;
};

/* The leases in `text`; *out is malloc'd (NULL when n is 0). 0 or -ENOMEM. */
int lease_parse(const char *text, size_t len, struct lease **out, size_t *n);

#endif
