/*
 * Network interfaces over rtnetlink (libmnl): bridges made and removed,
 * ports attached to and detached from them, links brought up, addresses
 * given, and what a link is. This is how corral changes the host's
 * network; it never runs ip(8). Every function opens its own netlink
 * socket, so callers need no handle. Links are named by name (1 to
 * IFNAMSIZ - 1 bytes; another is -EINVAL). Errors are -errno; a message
 * (with the kernel's extended acknowledgement when it sends one) is logged,
 * except for the answers a caller asks about, as link_get()'s -ENODEV.
 */
#ifndef CORRAL_NET_LINK_H
#define CORRAL_NET_LINK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct link_info {
	unsigned index;
	char kind[16];		/* IFLA_INFO_KIND: "bridge", "tun", "veth"; "" if none */
	unsigned master;	/* the bridge (or bond) it is a port of; 0 if none */
	bool up;		/* IFF_UP */
	uint8_t mac[6];
};

/* What `name` is: 0, -ENODEV if there is no such link (not logged: that
 * is an answer), or -errno. */
int link_get(const char *name, struct link_info *info);

/* Creates bridge `name` (down, no STP, forward delay 0): -EEXIST if a link
 * of that name exists. */
int link_bridge_add(const char *name);

/* Removes link `name` (a bridge's ports are released by the kernel). */
int link_delete(const char *name);

/* Brings `name` up or down. */
int link_set_up(const char *name, bool up);

/* Makes `name` a port of bridge `master`, or of none if master is NULL.
 * Attaching to the bridge it is already a port of succeeds. A port of
 * another bridge is moved, as the kernel does: a caller that must not take
 * another bridge's port checks link_get()'s master first. A master that
 * cannot have ports (not a bridge or bond) is an error. */
int link_set_master(const char *name, const char *master);

/* Adds ADDRESS/prefix to `name` (scope global, broadcast set); an address
 * it already has succeeds. */
int link_addr_add(const char *name, struct in_addr addr, unsigned prefix);

#endif
