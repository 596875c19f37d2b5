/*
 * Split virtqueues (virtio 1.x, section 2.7) from the device's side.
 *
 * The driver in the guest owns the three rings and everything they point at,
 * and may rewrite any of it at any moment, so this module treats all of it as
 * hostile: every index is read once into a local and checked, every
 * descriptor is copied before it is looked at, every buffer is turned into a
 * host pointer only through guest_ptr(), and a chain may not loop, nest
 * indirect tables, mix writable buffers before readable ones, or grow longer
 * than the queue (or the caller's iovec array). A queue that breaks one of
 * these rules is marked broken: it hands out nothing more, and the device
 * sets DEVICE_NEEDS_RESET. Nothing here locks; one thread serves one queue.
 * Indirect descriptors (VIRTIO_F_INDIRECT_DESC) and event-index notification
 * suppression (VIRTIO_F_EVENT_IDX) are supported.
 */
#ifndef CORRAL_DEVICES_VIRTQUEUE_H
#define CORRAL_DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/guest_memory.h"

#define VIRTQ_MAX_SIZE 1024

/* Ring layouts (little-endian; x86 is, so they are read in place). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* [size], then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];	/* [size], then avail_event */
};

struct virtqueue {
	const struct guest_memory *mem;
	uint16_t size;			/* a power of two, 1..VIRTQ_MAX_SIZE */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	struct virtq_desc *desc;	/* host pointers into guest RAM, checked at enable */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;		/* next avail ring entry to take */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx when the driver was last notified */
	bool signalled_used_valid;
	bool broken;
};

/*
 * One descriptor chain as the device sees it: `nout` device-readable buffers
 * then `nin` device-writable ones, in iov[0 .. nout + nin). `head` goes back
 * to the driver in virtqueue_push(). The caller supplies iov and max_iov.
 */
struct virtq_chain {
	uint16_t head;
	unsigned nout, nin;
	uint32_t out_len, in_len;	/* total bytes of each kind */
	struct iovec *iov;
	unsigned max_iov;
};

/*
 * Starts using the rings the driver placed at desc/avail/used (guest-physical)
 * with `size` entries. -EINVAL if size is not a power of two in range, an
 * address is misaligned (16/2/4 bytes) or a ring is not wholly in guest RAM.
 */
int virtqueue_enable(struct virtqueue *vq, const struct guest_memory *mem, uint16_t size,
		     uint64_t desc, uint64_t avail, uint64_t used, bool event_idx);

/*
 * Takes the next available chain into *chain. Returns 1 if one was taken, 0 if
 * the ring is empty or the queue was never enabled, or -EIO if the driver
 * broke the rules (the queue is then broken and every later call returns
 * -EIO).
 */
int virtqueue_pop(struct virtqueue *vq, struct virtq_chain *chain);

/* True once virtqueue_enable() succeeded: the driver turned the queue on
 * (a driver may leave queues off, virtio 1.x 4.1.4.3.2). A zeroed struct
 * is a queue that is off; every call on it is a harmless no-op. */
bool virtqueue_enabled(const struct virtqueue *vq);

/* True if a chain is available (without taking it). */
bool virtqueue_has_work(struct virtqueue *vq);

/* Returns chain `head` to the driver with `len` bytes written into its
 * device-writable buffers. Makes the entry visible to the driver at once. */
void virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/*
 * After one or more pushes: whether the driver wants an interrupt now
 * (honours VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX). Call it
 * once per batch, and send the interrupt if it says so.
 */
bool virtqueue_should_notify(struct virtqueue *vq);

/*
 * Driver-to-device notification suppression around a serving loop: disable
 * while draining the ring; before sleeping, enable and check again. Returns
 * true if chains became available meanwhile (then drain again rather than
 * sleep).
 */
void virtqueue_disable_notify(struct virtqueue *vq);
bool virtqueue_enable_notify(struct virtqueue *vq);

/* Copies between a chain's buffers and flat memory, for headers and small
 * replies. `skip` bytes of the readable (or writable) part are passed over.
 * Return the number of bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *chain, size_t skip, void *buf, size_t len);
size_t virtq_chain_write(const struct virtq_chain *chain, size_t skip, const void *buf,
			 size_t len);

#endif
