/*
 * One entry of a domain's `vif = [...]` list, in xl-network-configuration(5)
 * syntax: comma-separated `key=value` pairs (spaces after commas allowed),
 * e.g. "mac=00:16:3e:01:02:03, bridge=br0, model=virtio-net, rate=10Mb/s".
 *
 * This is syntax and value checking only (a MAC must be six hex octets,
 * unicast and not all zeros; a rate must parse); which models or bridges
 * exist is for domain_config and the network code to decide. Keys xl knows
 * but corral has no use for (backend, gatewaydev, ...) are accepted and
 * listed in `ignored` so the caller can warn; any other key is an error.
 */
#ifndef CORRAL_CONFIG_VIF_SPEC_H
#define CORRAL_CONFIG_VIF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vif_spec {
	bool has_mac;
	uint8_t mac[6];
	char *bridge;		/* NULL unless given (Xen's default is xenbr0) */
	char *ip;		/* as given: one or more space-separated addresses */
	char *vifname;		/* the host-side interface name */
	char *model;		/* NULL unless given */
	char *script;
	char *type;		/* ioemu / vif, accepted for old files */
	/* rate=: bytes per second, credited every interval; 0 means unlimited. */
	uint64_t rate_bytes_per_sec;
	uint32_t rate_interval_us;	/* 50 ms unless given with '@' */
	const char *ignored[8];		/* static strings: the ignored keys seen */
	size_t nignored;
};

/*
 * Parses `spec` into `out` (which it initialises; free with vif_spec_free()
 * in any case). Unknown keys are an error. Returns 0, or -EINVAL with a
 * one-line reason in `err`, -ENOMEM.
 */
int vif_spec_parse(const char *spec, struct vif_spec *out, char *err, size_t errlen);
void vif_spec_free(struct vif_spec *vs);

/* Parses "aa:bb:cc:dd:ee:ff" (hex, ':' or '-' separated, two digits each);
 * -EINVAL if malformed. Syntax only: vif_spec_parse() adds the unicast check. */
int mac_parse(const char *text, uint8_t mac[6]);

/* Writes mac as "aa:bb:cc:dd:ee:ff" (MAC_TEXT_LEN bytes with the NUL). */
#define MAC_TEXT_LEN 18
void mac_format(const uint8_t mac[6], char text[MAC_TEXT_LEN]);

#endif
