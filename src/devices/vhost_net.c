/*
 * vhost-net; see vhost_net.h. The ioctls are those of <linux/vhost.h>; the
 * order (features, memory table, then per ring its size, base, addresses,
 * doorbell and interrupt, then the backend) is the one the kernel expects:
 * a backend is only accepted on a ring that is fully set up.
 */
#include "devices/vhost_net.h"
#include "devices/virtio_pci.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NET_F_MRG_RXBUF 15

/* What vhost implements of what virtio-net negotiates; the offloads are
 * the tap's (set with TUNSETOFFLOAD), the MAC and status the VMM's. */
#define VHOST_HANDLED ((1ull << NET_F_MRG_RXBUF) | (1ull << VIRTIO_F_INDIRECT_DESC) |	\
		       (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_VERSION_1))

static int vhost_ioctl(struct vhost_net *v, unsigned long request, void *arg, const char *what)
{
	int err;

	if (ioctl(v->fd, request, arg) == 0)
		return 0;
	err = -errno;
	log_error("vhost-net: %s: %s", what, strerror(-err));
	return err;
}

int vhost_net_open(struct vhost_net *v, bool quiet)
{
	enum log_level level = quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR;
	uint64_t features;
	int err;

	memset(v->attached, 0, sizeof(v->attached));
	v->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		err = -errno;
		log_msg(level, "vhost-net: cannot open /dev/vhost-net: %s", strerror(-err));
		return err;
	}
	if (ioctl(v->fd, VHOST_SET_OWNER) < 0 || ioctl(v->fd, VHOST_GET_FEATURES, &features) < 0) {
		err = -errno;
		log_msg(level, "vhost-net: cannot take /dev/vhost-net: %s", strerror(-err));
	} else if ((features & VHOST_HANDLED) != VHOST_HANDLED) {
		err = -EOPNOTSUPP;
		log_msg(level, "vhost-net: the kernel's vhost-net lacks feature bits 0x%llx",
			(unsigned long long)(VHOST_HANDLED & ~features));
	} else {
		return 0;
	}
	vhost_net_close(v);
	return err;
}

void vhost_net_close(struct vhost_net *v)
{
	if (v->fd < 0)
		return;
	vhost_net_stop(v);
	close(v->fd);
	v->fd = -1;
}

/* Guest-physical to VMM-virtual, region by region, for the buffers the
 * descriptors point at. */
static int set_memory(struct vhost_net *v, const struct guest_memory *mem)
{
	struct vhost_memory *table;
	int err;

	table = calloc(1, sizeof(*table) + mem->nregions * sizeof(table->regions[0]));
	if (!table)
		return -ENOMEM;
	table->nregions = mem->nregions;
	for (unsigned i = 0; i < mem->nregions; i++) {
		table->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = mem->region[i].gpa,
			.memory_size = mem->region[i].size,
			.userspace_addr = (uintptr_t)mem->region[i].host,
		};
	}
	err = vhost_ioctl(v, VHOST_SET_MEM_TABLE, table, "setting the memory table");
	free(table);
	return err;
}

/* The rings themselves go by VMM-virtual address (virtqueue.c checked
 * them against guest memory when the queue was enabled). */
static int set_ring(struct vhost_net *v, unsigned index, const struct vhost_net_queue *q)
{
	const struct virtqueue *vq = q->vq;
	struct vhost_vring_state num = { .index = index, .num = vq->size };
	struct vhost_vring_state base = { .index = index, .num = vq->last_avail };
	struct vhost_vring_addr addr = {
		.index = index,
		.desc_user_addr = (uintptr_t)vq->desc,
		.avail_user_addr = (uintptr_t)vq->avail,
		.used_user_addr = (uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = index, .fd = q->kick_fd };
	struct vhost_vring_file call = { .index = index, .fd = q->call_fd };

	if (vhost_ioctl(v, VHOST_SET_VRING_NUM, &num, "setting a ring's size") < 0 ||
	    vhost_ioctl(v, VHOST_SET_VRING_BASE, &base, "setting a ring's start") < 0 ||
	    vhost_ioctl(v, VHOST_SET_VRING_ADDR, &addr, "setting a ring's addresses") < 0 ||
	    vhost_ioctl(v, VHOST_SET_VRING_KICK, &kick, "setting a ring's doorbell") < 0 ||
	    vhost_ioctl(v, VHOST_SET_VRING_CALL, &call, "setting a ring's interrupt") < 0)
		return -EINVAL;
	return 0;
}

/* Attaches the tap to ring `index`, or detaches it (tap -1); detaching
 * waits until the kernel's thread is done with the ring. */
static int set_backend(struct vhost_net *v, unsigned index, int tap)
{
	struct vhost_vring_file backend = { .index = index, .fd = tap };

	return vhost_ioctl(v, VHOST_NET_SET_BACKEND, &backend,
			   tap < 0 ? "detaching the tap" : "attaching the tap");
}

int vhost_net_start(struct vhost_net *v, const struct guest_memory *mem, uint64_t features,
		    const struct vhost_net_queue queue[VHOST_NET_QUEUES], int tap)
{
	uint64_t acked = features & VHOST_HANDLED;
	int err;

	err = vhost_ioctl(v, VHOST_SET_FEATURES, &acked, "setting features");
	if (!err)
		err = set_memory(v, mem);
	for (unsigned i = 0; !err && i < VHOST_NET_QUEUES; i++) {
		if (queue[i].vq)
			err = set_ring(v, i, &queue[i]);
	}
	/* A ring without a backend is never served, so after a failure
	 * detaching the rings attached so far stops everything. */
	for (unsigned i = 0; !err && i < VHOST_NET_QUEUES; i++) {
		if (queue[i].vq)
			err = set_backend(v, i, tap);
		v->attached[i] = queue[i].vq && !err;
	}
	if (err)
		vhost_net_stop(v);
	return err;
}

void vhost_net_stop(struct vhost_net *v)
{
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++) {
		if (v->attached[i])
			set_backend(v, i, -1);
		v->attached[i] = false;
	}
}
