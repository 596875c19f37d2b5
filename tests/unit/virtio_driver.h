/*
 * A virtio 1.x PCI driver for native tests of device models: the guest's
 * side of virtio_pci.c, as small as a test needs.
 *
 * It talks to the device only as a guest would: it finds the virtio
 * capabilities and MSI-X in config space, reads and writes BAR 0 through the
 * pci_device's bar_read/bar_write at the offsets those capabilities give,
 * writes config space as the bus would (through wmask, then config_write),
 * lays out split rings in the fake host's guest memory, notifies a queue by
 * writing its notify address, and waits for the queue's MSI-X vector on the
 * fake host's eventfd for it. No PCI bus is needed. It spells out the
 * spec's register layout itself rather than sharing virtio_pci.c's: a
 * second, independent reading of the spec is what catches a wrong offset.
 *
 * Usage:
 *	struct fake_host fh;   fake_host_init(&fh, 16 << 20);
 *	dev = virtio_xxx_create(..., &fh.host);
 *	struct vdrv d;
 *	vdrv_init(&d, &fh, virtio_xxx_pci(dev), 1 << 20);  // heap from 1 MiB up
 *	vdrv_negotiate(&d, ~0ull & ~(1ull << VIRTIO_F_EVENT_IDX));
 *	vdrv_queue_setup(&d, 0, 0);                          // 0: the device's size
 *	vdrv_driver_ok(&d);
 *	uint64_t buf = vdrv_alloc(&d, 512, 512);
 *	struct vdrv_buf chain[] = { { hdr, 16, false }, { buf, 512, true } };
 *	vdrv_post(&d, 0, chain, 2);  vdrv_kick(&d, 0);
 *	struct virtq_used_elem e;  vdrv_wait_used(&d, 0, &e, VDRV_TIMEOUT_MS);
 *
 * Queue q uses MSI-X vector q; vector `nqueues` is left for config changes.
 * Everything is static inline so a test may use any part of it. Not thread
 * safe: one test thread drives it.
 */
#ifndef CORRAL_TESTS_VIRTIO_DRIVER_H
#define CORRAL_TESTS_VIRTIO_DRIVER_H

#include "fake_host.h"
#include "common/util.h"
#include "devices/pci.h"
#include "devices/virtqueue.h"

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define VDRV_MAX_QUEUES  16
#define VDRV_MAX_VECTORS (VDRV_MAX_QUEUES + 1)
#define VDRV_TIMEOUT_MS  5000

/* Device status (virtio 1.x section 2.1). */
#define VDRV_S_ACKNOWLEDGE 1
#define VDRV_S_DRIVER      2
#define VDRV_S_DRIVER_OK   4
#define VDRV_S_FEATURES_OK 8
#define VDRV_S_NEEDS_RESET 0x40
#define VDRV_S_FAILED      0x80

#define VDRV_F_EVENT_IDX 29
#define VDRV_F_VERSION_1 32

/* struct virtio_pci_common_cfg (4.1.4.3). */
enum {
	VDRV_CC_DFSELECT = 0x00, VDRV_CC_DF = 0x04, VDRV_CC_GFSELECT = 0x08, VDRV_CC_GF = 0x0c,
	VDRV_CC_MSIX_CONFIG = 0x10, VDRV_CC_NUM_QUEUES = 0x12, VDRV_CC_STATUS = 0x14,
	VDRV_CC_Q_SELECT = 0x16, VDRV_CC_Q_SIZE = 0x18, VDRV_CC_Q_MSIX = 0x1a,
	VDRV_CC_Q_ENABLE = 0x1c, VDRV_CC_Q_NOTIFY_OFF = 0x1e, VDRV_CC_Q_DESC = 0x20,
	VDRV_CC_Q_AVAIL = 0x28, VDRV_CC_Q_USED = 0x30,
};

struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;		/* device-writable */
};

struct vdrv_queue {
	bool ready;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t free_head, nfree;	/* free descriptors, linked through next */
	uint16_t last_used;
	uint32_t notify;		/* BAR offset of its notify address */
	uint64_t irqs;			/* interrupts seen for its vector */
};

struct vdrv {
	struct fake_host *fh;
	struct pci_device *pci;
	/* BAR 0 offsets of the virtio structures, from the capabilities. */
	uint32_t common, isr, device, device_len, notify_base, notify_mult;
	unsigned msix_cap;
	uint32_t msix_table;
	unsigned nvectors;
	int vec_handle[VDRV_MAX_VECTORS];	/* the fake host's MSI source per vector */
	uint64_t heap, heap_end;		/* bump allocator in guest memory */
	uint64_t features;			/* negotiated */
	struct vdrv_queue q[VDRV_MAX_QUEUES];
};

/* ---- Register access ---- */

static inline uint64_t vdrv_bar_read(struct vdrv *d, uint32_t off, unsigned size)
{
	uint8_t data[8] = { 0 };
	uint64_t v = 0;

	d->pci->ops->bar_read(d->pci->dev, 0, off, data, size);
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void vdrv_bar_write(struct vdrv *d, uint32_t off, uint64_t v, unsigned size)
{
	uint8_t data[8];

	for (unsigned i = 0; i < size; i++)
		data[i] = v >> (8 * i);
	d->pci->ops->bar_write(d->pci->dev, 0, off, data, size);
}

static inline uint64_t vdrv_common_read(struct vdrv *d, uint32_t field, unsigned size)
{
	return vdrv_bar_read(d, d->common + field, size);
}

static inline void vdrv_common_write(struct vdrv *d, uint32_t field, uint64_t v, unsigned size)
{
	vdrv_bar_write(d, d->common + field, v, size);
}

/* A config-space write as the bus makes it: through wmask, then told. */
static inline void vdrv_config_write(struct vdrv *d, unsigned off, uint32_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		uint8_t mask = d->pci->wmask[off + i];

		d->pci->config[off + i] = (d->pci->config[off + i] & ~mask) |
					  ((uint8_t)(v >> (8 * i)) & mask);
	}
	if (off >= PCI_CAP_START && d->pci->ops->config_write)
		d->pci->ops->config_write(d->pci->dev, off, size);
}

static inline uint32_t vdrv_config_get(struct vdrv *d, unsigned off, unsigned size)
{
	if (off >= PCI_CAP_START && d->pci->ops->config_read)
		d->pci->ops->config_read(d->pci->dev, off, size);
	return io_data_get(d->pci->config + off, size);
}

/* Device-specific configuration, byte by byte. */
static inline void vdrv_device_config(struct vdrv *d, uint32_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = vdrv_bar_read(d, d->device + off + i, 1);
}

static inline uint8_t vdrv_status(struct vdrv *d)
{
	return vdrv_common_read(d, VDRV_CC_STATUS, 1);
}

static inline void vdrv_set_status(struct vdrv *d, uint8_t s)
{
	vdrv_common_write(d, VDRV_CC_STATUS, s, 1);
}

/* ---- Guest memory ---- */

static inline uint64_t vdrv_alloc(struct vdrv *d, uint64_t len, uint64_t align)
{
	uint64_t gpa = align_up(d->heap, align ? align : 1);

	if (gpa > d->heap_end || len > d->heap_end - gpa)
		return 0;
	d->heap = gpa + len;
	memset(fake_host_gpa(d->fh, gpa, len), 0, len);
	return gpa;
}

static inline void *vdrv_ptr(struct vdrv *d, uint64_t gpa, uint64_t len)
{
	return fake_host_gpa(d->fh, gpa, len);
}

/* ---- Discovery ---- */

static inline void vdrv_parse_vendor_cap(struct vdrv *d, unsigned cap)
{
	const uint8_t *c = d->pci->config + cap;
	uint32_t off = io_data_get(c + 8, 4), len = io_data_get(c + 12, 4);

	if (c[4] != 0)
		return;		/* only BAR 0 is used by our transport */
	switch (c[3]) {
	case 1:
		d->common = off;
		break;
	case 2:
		d->notify_base = off;
		d->notify_mult = io_data_get(c + 16, 4);
		break;
	case 3:
		d->isr = off;
		break;
	case 4:
		d->device = off;
		d->device_len = len;
		break;
	}
}

/* Enables MSI-X with vector v sending data 0x40 + v, and finds the MSI
 * source behind each vector by the message it was routed. */
static inline int vdrv_setup_msix(struct vdrv *d)
{
	uint32_t table = vdrv_config_get(d, d->msix_cap + 4, 4);

	d->nvectors = (vdrv_config_get(d, d->msix_cap + 2, 2) & 0x7ff) + 1;
	if ((table & 7) != 0 || d->nvectors > VDRV_MAX_VECTORS)
		return -1;
	d->msix_table = table & ~7u;
	vdrv_config_write(d, d->msix_cap + 2, 0x8000, 2);	/* MSI-X enable */
	for (unsigned v = 0; v < d->nvectors; v++) {
		uint32_t e = d->msix_table + 16 * v;

		vdrv_bar_write(d, e + 0, 0xfee00000, 4);
		vdrv_bar_write(d, e + 4, 0, 4);
		vdrv_bar_write(d, e + 8, 0x40 + v, 4);
		vdrv_bar_write(d, e + 12, 0, 4);			/* unmask */
		d->vec_handle[v] = -1;
		for (unsigned h = 0; h < d->fh->nmsi; h++) {
			if (d->fh->msi[h].routes && d->fh->msi[h].data == 0x40 + v)
				d->vec_handle[v] = h;
		}
		if (d->vec_handle[v] < 0)
			return -1;
	}
	return 0;
}

/*
 * Finds the device's structures and MSI-X and enables MSI-X. Rings and
 * buffers are allocated from guest memory at [heap, end of guest memory).
 * Returns 0, or -1 if something the driver needs is missing.
 */
static inline int vdrv_init(struct vdrv *d, struct fake_host *fh, struct pci_device *pci,
			    uint64_t heap)
{
	unsigned cap, hops = 0;

	memset(d, 0, sizeof(*d));
	d->fh = fh;
	d->pci = pci;
	d->heap = heap;
	d->heap_end = fh->mem.region[0].size;
	d->common = d->isr = d->device = d->notify_base = UINT32_MAX;
	if (!(pci->config[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return -1;
	for (cap = pci->config[PCI_CAPABILITY_LIST]; cap && hops < 48; hops++) {
		if (cap < PCI_CAP_START || cap > PCI_CONFIG_SIZE - 4)
			return -1;
		if (pci->config[cap] == PCI_CAP_ID_VNDR)
			vdrv_parse_vendor_cap(d, cap);
		else if (pci->config[cap] == PCI_CAP_ID_MSIX)
			d->msix_cap = cap;
		cap = pci->config[cap + 1];
	}
	if (d->common == UINT32_MAX || d->isr == UINT32_MAX || d->notify_base == UINT32_MAX ||
	    !d->msix_cap)
		return -1;
	return vdrv_setup_msix(d);
}

/* ---- Initialization (virtio 1.x section 3.1.1) ---- */

static inline uint64_t vdrv_device_features(struct vdrv *d)
{
	uint64_t f;

	vdrv_common_write(d, VDRV_CC_DFSELECT, 0, 4);
	f = vdrv_common_read(d, VDRV_CC_DF, 4);
	vdrv_common_write(d, VDRV_CC_DFSELECT, 1, 4);
	return f | vdrv_common_read(d, VDRV_CC_DF, 4) << 32;
}

/* Resets the device and waits until it reads back 0 (stop() has run). */
static inline void vdrv_reset(struct vdrv *d)
{
	vdrv_set_status(d, 0);
	while (vdrv_status(d) != 0)
		;
	for (unsigned i = 0; i < VDRV_MAX_QUEUES; i++)
		d->q[i].ready = false;
}

/*
 * Reset, ACKNOWLEDGE, DRIVER, then accepts the offered features that are in
 * `want` and sets FEATURES_OK. Returns 0 if the device kept FEATURES_OK.
 */
static inline int vdrv_negotiate(struct vdrv *d, uint64_t want)
{
	vdrv_reset(d);
	vdrv_set_status(d, VDRV_S_ACKNOWLEDGE);
	vdrv_set_status(d, VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER);
	d->features = vdrv_device_features(d) & want;
	vdrv_common_write(d, VDRV_CC_GFSELECT, 0, 4);
	vdrv_common_write(d, VDRV_CC_GF, (uint32_t)d->features, 4);
	vdrv_common_write(d, VDRV_CC_GFSELECT, 1, 4);
	vdrv_common_write(d, VDRV_CC_GF, d->features >> 32, 4);
	vdrv_set_status(d, VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_FEATURES_OK);
	return vdrv_status(d) & VDRV_S_FEATURES_OK ? 0 : -1;
}

/* Lays out queue `qi` with `size` entries (0: the device's maximum), points
 * it at MSI-X vector qi and enables it. Returns 0 or -1. */
static inline int vdrv_queue_setup(struct vdrv *d, unsigned qi, uint16_t size)
{
	struct vdrv_queue *q = &d->q[qi];
	uint16_t max;

	if (qi >= VDRV_MAX_QUEUES || qi >= d->nvectors)
		return -1;
	vdrv_common_write(d, VDRV_CC_Q_SELECT, qi, 2);
	max = vdrv_common_read(d, VDRV_CC_Q_SIZE, 2);
	if (!size)
		size = max;
	if (!size || size > max)
		return -1;
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc_gpa = vdrv_alloc(d, 16ull * size, 16);
	q->avail_gpa = vdrv_alloc(d, 6 + 2ull * size, 2);
	q->used_gpa = vdrv_alloc(d, 6 + 8ull * size, 4);
	if (!q->desc_gpa || !q->avail_gpa || !q->used_gpa)
		return -1;
	q->desc = vdrv_ptr(d, q->desc_gpa, 16ull * size);
	q->avail = vdrv_ptr(d, q->avail_gpa, 6 + 2ull * size);
	q->used = vdrv_ptr(d, q->used_gpa, 6 + 8ull * size);
	for (uint16_t i = 0; i < size; i++)
		q->desc[i].next = i + 1;
	q->nfree = size;
	vdrv_common_write(d, VDRV_CC_Q_SIZE, size, 2);
	vdrv_common_write(d, VDRV_CC_Q_MSIX, qi, 2);
	if (vdrv_common_read(d, VDRV_CC_Q_MSIX, 2) != qi)
		return -1;
	/* 64-bit fields as two dword writes, as Linux's vp_iowrite64_twopart. */
	vdrv_common_write(d, VDRV_CC_Q_DESC, (uint32_t)q->desc_gpa, 4);
	vdrv_common_write(d, VDRV_CC_Q_DESC + 4, q->desc_gpa >> 32, 4);
	vdrv_common_write(d, VDRV_CC_Q_AVAIL, (uint32_t)q->avail_gpa, 4);
	vdrv_common_write(d, VDRV_CC_Q_AVAIL + 4, q->avail_gpa >> 32, 4);
	vdrv_common_write(d, VDRV_CC_Q_USED, (uint32_t)q->used_gpa, 4);
	vdrv_common_write(d, VDRV_CC_Q_USED + 4, q->used_gpa >> 32, 4);
	q->notify = d->notify_base +
		    d->notify_mult * vdrv_common_read(d, VDRV_CC_Q_NOTIFY_OFF, 2);
	vdrv_common_write(d, VDRV_CC_Q_ENABLE, 1, 2);
	q->ready = true;
	return 0;
}

static inline void vdrv_driver_ok(struct vdrv *d)
{
	vdrv_set_status(d, vdrv_status(d) | VDRV_S_DRIVER_OK);
}

/* ---- Requests ---- */

/* Makes a chain of bufs[0..n) available on queue qi (no notify). Returns
 * its head, or -1 if there are not enough free descriptors. */
static inline int vdrv_post(struct vdrv *d, unsigned qi, const struct vdrv_buf *bufs,
			    unsigned n)
{
	struct vdrv_queue *q = &d->q[qi];
	uint16_t head = q->free_head, i = head;

	if (!n || n > q->nfree)
		return -1;
	for (unsigned k = 0; k < n; k++) {
		struct virtq_desc *desc = &q->desc[i];

		desc->addr = bufs[k].gpa;
		desc->len = bufs[k].len;
		desc->flags = (bufs[k].writable ? VIRTQ_DESC_F_WRITE : 0) |
			      (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		if (k + 1 < n)
			i = desc->next;
	}
	q->free_head = q->desc[i].next;
	q->nfree -= n;
	q->avail->ring[q->avail->idx & (q->size - 1)] = head;
	/* Ring entry and descriptors before the index (2.7.13). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&q->avail->idx, q->avail->idx + 1, __ATOMIC_RELAXED);
	return head;
}

/* Notifies queue qi through its notify address, as a guest would. */
static inline void vdrv_kick(struct vdrv *d, unsigned qi)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vdrv_bar_write(d, d->q[qi].notify, qi, 2);
}

static inline void vdrv_free_chain(struct vdrv_queue *q, uint16_t head)
{
	uint16_t i = head, n = 1;

	while (q->desc[i].flags & VIRTQ_DESC_F_NEXT) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->nfree += n;
}

static inline int64_t vdrv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Takes the next used element of queue qi into *e, waiting up to
 * timeout_ms for the queue's interrupt if there is none yet, and frees the
 * chain's descriptors. False on timeout.
 */
static inline bool vdrv_wait_used(struct vdrv *d, unsigned qi, struct virtq_used_elem *e,
				  int timeout_ms)
{
	struct vdrv_queue *q = &d->q[qi];
	int64_t deadline = vdrv_now_ms() + timeout_ms;
	struct pollfd p = { .fd = d->fh->msi[d->vec_handle[qi]].fd, .events = POLLIN };

	for (;;) {
		uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
		int64_t left;

		if (idx != q->last_used) {
			*e = q->used->ring[q->last_used & (q->size - 1)];
			q->last_used++;
			/* With EVENT_IDX, ask for an interrupt at the next one. */
			q->avail->ring[q->size] = q->last_used;
			if (e->id < q->size)
				vdrv_free_chain(q, e->id);
			return true;
		}
		left = deadline - vdrv_now_ms();
		if (left <= 0)
			return false;
		if (poll(&p, 1, (int)left) > 0)
			q->irqs += fake_host_msi_fired(d->fh, d->vec_handle[qi]);
	}
}

/*
 * Interrupts of queue qi's vector since the last call: those vdrv_wait_used()
 * saw plus any pending now, waiting up to timeout_ms if there are none (the
 * device pushes, then interrupts, so one may arrive just after its entry).
 */
static inline uint64_t vdrv_take_irqs(struct vdrv *d, unsigned qi, int timeout_ms)
{
	struct pollfd p = { .fd = d->fh->msi[d->vec_handle[qi]].fd, .events = POLLIN };
	uint64_t n;

	if (!d->q[qi].irqs && timeout_ms > 0)
		poll(&p, 1, timeout_ms);
	n = d->q[qi].irqs + fake_host_msi_fired(d->fh, d->vec_handle[qi]);
	d->q[qi].irqs = 0;
	return n;
}

/* Whether the queue has a used element the driver has not taken. */
static inline bool vdrv_used_pending(struct vdrv *d, unsigned qi)
{
	return __atomic_load_n(&d->q[qi].used->idx, __ATOMIC_ACQUIRE) != d->q[qi].last_used;
}

#endif
