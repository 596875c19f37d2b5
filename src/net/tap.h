/*
 * Tap devices: the host side of a domain's NIC. A tap is made by opening
 * /dev/net/tun (there is no netlink way to make one); it lives as long as
 * some process holds its file descriptor unless it was made persistent by
 * someone else, so corrald opens it, attaches it to its bridge, hands the
 * descriptor to the domain's VMM and closes its own copy: when the VMM
 * ends, the tap and its bridge port go with it. The frames carry a
 * virtio-net header (IFF_VNET_HDR), as virtio-net and vhost-net want.
 */
#ifndef CORRAL_NET_TAP_H
#define CORRAL_NET_TAP_H

#include <net/if.h>

/*
 * Opens tap `name`, making it if it does not exist (a persistent tap
 * someone made is reused). Returns the descriptor (close-on-exec), with the
 * kernel's name for it in `ifname`, or -errno with a one-line reason in
 * `err` (e.g. "tap vif3.0 is in use by another process").
 */
int tap_open(const char *name, char ifname[IFNAMSIZ], char *err, size_t errlen);

#endif
