/*
 * virtio-net (virtio 1.x, section 5.1) on a Linux tap device.
 *
 * The tap is opened with IFF_VNET_HDR, so the virtio-net header travels with
 * every frame and checksum and segmentation offloads (CSUM, GUEST_CSUM,
 * HOST/GUEST_TSO4/6, ECN, UFO off) pass straight through to the host
 * kernel; receive buffers are mergeable (VIRTIO_NET_F_MRG_RXBUF). The device
 * has one receive and one transmit queue, each served by its own thread, the
 * configured MAC, and link status (up while the tap is attached). The tap
 * may be handed in as an open descriptor (how corrald passes it) or opened
 * by name, created if missing, brought up and attached to a bridge. Where
 * the host has vhost-net, the kernel moves the frames instead of those
 * threads (vhost_net.h): vhost=auto, the default, uses it when it can,
 * vhost=on insists on it, vhost=off never uses it.
 */
#ifndef CORRAL_DEVICES_VIRTIO_NET_H
#define CORRAL_DEVICES_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "devices/device.h"
#include "devices/pci.h"

enum net_vhost { NET_VHOST_AUTO, NET_VHOST_ON, NET_VHOST_OFF };

struct virtio_net_options {
	char tap[IFNAMSIZ];		/* tap name, or "" when fd is given */
	int fd;				/* an open tap (IFF_VNET_HDR), or -1 */
	char bridge[IFNAMSIZ];		/* attach the tap to it, or "" */
	uint8_t mac[6];			/* defaults to a random 00:16:3e:xx:xx:xx */
	enum net_vhost vhost;
};

/* Parses "tap=NAME|fd=N[,mac=XX:XX:XX:XX:XX:XX][,bridge=BR][,vhost=on|off|auto]"; logs "--net: ..."
 * and returns -EINVAL for anything wrong (a multicast MAC included). */
int virtio_net_parse(const char *spec, struct virtio_net_options *opt);

struct virtio_net;

struct virtio_net *virtio_net_create(const struct virtio_net_options *opt,
				     const struct device_host *host);
void virtio_net_destroy(struct virtio_net *net);
struct pci_device *virtio_net_pci(struct virtio_net *net);

#endif
