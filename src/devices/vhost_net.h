/*
 * The kernel's virtio-net data path (vhost-net) as a backend for virtio_net.c.
 *
 * With vhost the kernel moves frames between the guest's virtqueues and the
 * tap by itself: a kernel thread waits on each queue's doorbell (the eventfd
 * KVM signals for the queue's notify address), walks the rings in guest
 * memory, copies frames to and from the tap, and raises the queue's MSI-X
 * vector by writing its eventfd, which KVM injects (irqfd). No frame and no
 * notification passes through the VMM. The VMM's part is to hand over the
 * guest memory map, the negotiated features, the ring addresses and the fds
 * when the driver sets DRIVER_OK, and to take the tap back on reset. Masking
 * still holds, because the host holds back a masked vector's eventfd
 * whoever writes it (see msix.h). The kernel validates the rings itself.
 */
#ifndef CORRAL_DEVICES_VHOST_NET_H
#define CORRAL_DEVICES_VHOST_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "common/guest_memory.h"
#include "devices/virtqueue.h"

#define VHOST_NET_QUEUES 2	/* receiveq1, transmitq1 */

struct vhost_net {
	int fd;			/* /dev/vhost-net, owned by this process; -1 if unused */
	bool attached[VHOST_NET_QUEUES];	/* rings the tap is attached to */
};

/* One virtqueue as vhost gets it: its rings (enabled; NULL if the driver
 * left the queue off), its doorbell and its interrupt eventfd (-1: none). */
struct vhost_net_queue {
	const struct virtqueue *vq;
	int kick_fd;
	int call_fd;
};

/*
 * Opens /dev/vhost-net, makes this process its owner and checks that it
 * handles every transport feature virtio-net offers with it. Returns 0, or
 * a negative errno after logging why not when `quiet` is false (with it,
 * the caller falls back to its own data path and says so itself).
 */
int vhost_net_open(struct vhost_net *v, bool quiet);
void vhost_net_close(struct vhost_net *v);

/*
 * Hands the queues and the tap (set up with 12-byte vnet headers and its
 * offloads already) to the kernel, with the features the driver
 * negotiated. Returns 0, or a negative errno with nothing left running.
 */
int vhost_net_start(struct vhost_net *v, const struct guest_memory *mem, uint64_t features,
		    const struct vhost_net_queue queue[VHOST_NET_QUEUES], int tap);

/* Takes the tap and the queues back; when it returns the kernel no longer
 * touches the rings. Does nothing if not started. */
void vhost_net_stop(struct vhost_net *v);

#endif
