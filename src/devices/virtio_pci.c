#include "devices/virtio_pci.h"
#include "devices/msix.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define VIRTIO_PCI_VENDOR        0x1af4
#define VIRTIO_PCI_DEVICE_BASE   0x1040	/* modern device id = base + virtio type */
#define VIRTIO_PCI_SUBSYS        0x1100
#define VIRTIO_PCI_REVISION      1	/* non-transitional */

/* Capability types (section 4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR    3
#define CAP_DEVICE 4
#define CAP_PCI    5

/* Where the structures sit in BAR 0. */
#define BAR_INDEX       0
#define BAR_COMMON      0x0000
#define BAR_COMMON_LEN  0x38
#define BAR_ISR         0x1000
#define BAR_DEVICE      0x2000
#define BAR_NOTIFY      0x3000
#define NOTIFY_MULTIPLIER 4
#define BAR_MSIX_TABLE  0x4000
#define BAR_MSIX_PBA    0x5000
#define BAR_SIZE        0x8000

/* Device status bits (section 2.1). */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 0x40
#define STATUS_FAILED      0x80

#define NO_VECTOR 0xffff

/* Common configuration fields (struct virtio_pci_common_cfg). */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX_CONFIG = 0x10, CC_NUM_QUEUES = 0x12, CC_STATUS = 0x14,
	CC_CFG_GENERATION = 0x15, CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18,
	CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c, CC_Q_NOTIFY_OFF = 0x1e,
	CC_Q_DESC = 0x20, CC_Q_AVAIL = 0x28, CC_Q_USED = 0x30,
};

struct vp_queue {
	uint16_t size;
	_Atomic uint16_t vector;
	bool enabled;
	uint64_t desc, avail, used;
	struct virtqueue vq;
	int kick_fd;
	uint64_t doorbell;	/* where its ioeventfd is assigned, 0 if nowhere */
};

struct virtio_pci {
	struct pci_device pci;
	struct msix msix;
	struct virtio_device_info info;
	const struct virtio_device_ops *ops;
	void *dev;
	const struct device_host *host;
	uint64_t offered;
	unsigned pci_cfg_cap;		/* offset of the VIRTIO_PCI_CAP_PCI_CFG window */

	pthread_mutex_t lock;		/* common config; never taken by device threads */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	_Atomic uint16_t config_vector;
	_Atomic uint8_t status;
	_Atomic uint8_t config_generation;
	_Atomic uint8_t isr;
	uint16_t queue_select;
	bool started;
	struct vp_queue queue[];
};

static struct vp_queue *selected_queue(struct virtio_pci *vp)
{
	return vp->queue_select < vp->info.nqueues ? &vp->queue[vp->queue_select] : NULL;
}

/* The common configuration as the guest would read it now. */
static void common_render(struct virtio_pci *vp, uint8_t img[BAR_COMMON_LEN])
{
	struct vp_queue *q = selected_queue(vp);
	uint32_t df = vp->device_feature_select < 2 ?
		      vp->offered >> (32 * vp->device_feature_select) : 0;
	uint32_t gf = vp->driver_feature_select < 2 ?
		      vp->driver_features >> (32 * vp->driver_feature_select) : 0;

	memset(img, 0, BAR_COMMON_LEN);
	io_data_put(img + CC_DFSELECT, 4, vp->device_feature_select);
	io_data_put(img + CC_DF, 4, df);
	io_data_put(img + CC_GFSELECT, 4, vp->driver_feature_select);
	io_data_put(img + CC_GF, 4, gf);
	io_data_put(img + CC_MSIX_CONFIG, 2, vp->config_vector);
	io_data_put(img + CC_NUM_QUEUES, 2, vp->info.nqueues);
	img[CC_STATUS] = vp->status;
	img[CC_CFG_GENERATION] = vp->config_generation;
	io_data_put(img + CC_Q_SELECT, 2, vp->queue_select);
	if (!q)
		return;		/* a queue that does not exist reads as size 0 */
	io_data_put(img + CC_Q_SIZE, 2, q->size);
	io_data_put(img + CC_Q_MSIX, 2, q->vector);
	io_data_put(img + CC_Q_ENABLE, 2, q->enabled);
	io_data_put(img + CC_Q_NOTIFY_OFF, 2, vp->queue_select);
	io_data_put(img + CC_Q_DESC, 4, q->desc);
	io_data_put(img + CC_Q_DESC + 4, 4, q->desc >> 32);
	io_data_put(img + CC_Q_AVAIL, 4, q->avail);
	io_data_put(img + CC_Q_AVAIL + 4, 4, q->avail >> 32);
	io_data_put(img + CC_Q_USED, 4, q->used);
	io_data_put(img + CC_Q_USED + 4, 4, q->used >> 32);
}

static uint16_t valid_vector(struct virtio_pci *vp, uint16_t v)
{
	/* A vector the device cannot use reads back as NO_VECTOR (4.1.5.1.2). */
	return v < vp->msix.nvectors ? v : NO_VECTOR;
}

static void reset_state(struct virtio_pci *vp)
{
	if (vp->started)
		vp->ops->stop(vp->dev);
	vp->started = false;
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->driver_features = 0;
	vp->config_vector = NO_VECTOR;
	vp->queue_select = 0;
	vp->isr = 0;
	for (unsigned i = 0; i < vp->info.nqueues; i++) {
		struct vp_queue *q = &vp->queue[i];

		q->size = vp->info.queue_size;
		q->vector = NO_VECTOR;
		q->enabled = false;
		q->desc = q->avail = q->used = 0;
		memset(&q->vq, 0, sizeof(q->vq));
	}
	vp->status = 0;
}

static void fail_device(struct virtio_pci *vp, const char *why)
{
	log_warn("%s: %s; the device needs a reset", vp->info.name, why);
	virtio_pci_needs_reset(vp);
}

static bool features_acceptable(struct virtio_pci *vp)
{
	uint64_t extra = vp->driver_features & ~vp->offered;

	if (extra) {
		log_warn("%s: the driver asked for features 0x%llx we did not offer",
			 vp->info.name, (unsigned long long)extra);
		return false;
	}
	if (!(vp->driver_features & (1ull << VIRTIO_F_VERSION_1))) {
		log_warn("%s: the driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are "
			 "not supported)", vp->info.name);
		return false;
	}
	return true;
}

static int enable_queues(struct virtio_pci *vp)
{
	bool event_idx = vp->driver_features & (1ull << VIRTIO_F_EVENT_IDX);

	for (unsigned i = 0; i < vp->info.nqueues; i++) {
		struct vp_queue *q = &vp->queue[i];

		if (!q->enabled)
			continue;
		/* A driver may shrink a queue, never grow it. */
		if (q->size > vp->info.queue_size ||
		    virtqueue_enable(&q->vq, vp->host->mem, q->size, q->desc, q->avail, q->used,
				     event_idx) < 0) {
			log_warn("%s: queue %u has bad rings (size %u, desc 0x%llx, avail 0x%llx, "
				 "used 0x%llx)", vp->info.name, i, q->size,
				 (unsigned long long)q->desc, (unsigned long long)q->avail,
				 (unsigned long long)q->used);
			return -EINVAL;
		}
	}
	return 0;
}

static void driver_ok(struct virtio_pci *vp)
{
	if (!(vp->status & STATUS_FEATURES_OK)) {
		fail_device(vp, "the driver set DRIVER_OK without FEATURES_OK");
		return;
	}
	if (enable_queues(vp) < 0) {
		fail_device(vp, "the driver set DRIVER_OK with unusable queues");
		return;
	}
	if (vp->ops->start(vp->dev, vp->driver_features) < 0) {
		fail_device(vp, "the device could not start");
		return;
	}
	vp->started = true;
}

static void write_status(struct virtio_pci *vp, uint8_t status)
{
	uint8_t old = vp->status;

	if (status == 0) {
		reset_state(vp);
		return;
	}
	if ((status & STATUS_FEATURES_OK) && !(old & STATUS_FEATURES_OK) &&
	    !features_acceptable(vp))
		status &= ~STATUS_FEATURES_OK;	/* the driver reads it back and gives up */
	/* Only the device sets NEEDS_RESET, possibly from its thread meanwhile. */
	status &= ~STATUS_NEEDS_RESET;
	while (!atomic_compare_exchange_weak(&vp->status, &old,
					     status | (old & STATUS_NEEDS_RESET)))
		;
	if ((status & STATUS_DRIVER_OK) && !(old & STATUS_DRIVER_OK) && !vp->started &&
	    !(old & STATUS_NEEDS_RESET))
		driver_ok(vp);
}

/* Queue registers may change only while the device is not live (4.1.4.3.2). */
static bool queue_writable(struct virtio_pci *vp)
{
	return !(vp->status & STATUS_DRIVER_OK);
}

static void set_half(uint64_t *field, unsigned half, uint32_t v)
{
	unsigned shift = 32 * half;

	*field = (*field & ~(0xffffffffull << shift)) | ((uint64_t)v << shift);
}

static bool covers(unsigned off, unsigned size, unsigned field, unsigned width)
{
	return off < field + width && field < off + size;
}

/* Applies the writable fields of `img` that the access [off, off + size) touched. */
static void common_apply(struct virtio_pci *vp, const uint8_t *img, unsigned off, unsigned size)
{
	struct vp_queue *q = selected_queue(vp);

	if (covers(off, size, CC_DFSELECT, 4))
		vp->device_feature_select = io_data_get(img + CC_DFSELECT, 4);
	if (covers(off, size, CC_GFSELECT, 4))
		vp->driver_feature_select = io_data_get(img + CC_GFSELECT, 4);
	if (covers(off, size, CC_GF, 4) && vp->driver_feature_select < 2 &&
	    !(vp->status & STATUS_FEATURES_OK))
		set_half(&vp->driver_features, vp->driver_feature_select,
			 io_data_get(img + CC_GF, 4));
	if (covers(off, size, CC_MSIX_CONFIG, 2))
		vp->config_vector = valid_vector(vp, io_data_get(img + CC_MSIX_CONFIG, 2));
	if (covers(off, size, CC_Q_SELECT, 2))
		vp->queue_select = io_data_get(img + CC_Q_SELECT, 2);
	if (q && covers(off, size, CC_Q_MSIX, 2))
		q->vector = valid_vector(vp, io_data_get(img + CC_Q_MSIX, 2));
	if (q && queue_writable(vp)) {
		if (covers(off, size, CC_Q_SIZE, 2))
			q->size = io_data_get(img + CC_Q_SIZE, 2);
		if (covers(off, size, CC_Q_ENABLE, 2))
			q->enabled = io_data_get(img + CC_Q_ENABLE, 2) == 1;
		for (unsigned half = 0; half < 2; half++) {
			if (covers(off, size, CC_Q_DESC + 4 * half, 4))
				set_half(&q->desc, half, io_data_get(img + CC_Q_DESC + 4 * half, 4));
			if (covers(off, size, CC_Q_AVAIL + 4 * half, 4))
				set_half(&q->avail, half, io_data_get(img + CC_Q_AVAIL + 4 * half, 4));
			if (covers(off, size, CC_Q_USED + 4 * half, 4))
				set_half(&q->used, half, io_data_get(img + CC_Q_USED + 4 * half, 4));
		}
	}
	if (covers(off, size, CC_STATUS, 1))
		write_status(vp, img[CC_STATUS]);
}

static void common_access(struct virtio_pci *vp, uint32_t off, uint8_t *data, unsigned size,
			  bool write)
{
	uint8_t img[BAR_COMMON_LEN];

	if (!range_within(off, size, BAR_COMMON_LEN)) {
		if (!write)
			memset(data, 0, size);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	common_render(vp, img);
	if (write) {
		memcpy(img + off, data, size);
		common_apply(vp, img, off, size);
	} else {
		memcpy(data, img + off, size);
	}
	pthread_mutex_unlock(&vp->lock);
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("virtio-pci: cannot signal a queue: %s", strerror(errno));
}

/* A notify write that did not go through the ioeventfd (none assigned yet,
 * or reached through the PCI configuration window). */
static void notify_write(struct virtio_pci *vp, uint32_t off)
{
	unsigned q = off / NOTIFY_MULTIPLIER;

	if (q < vp->info.nqueues)
		kick(vp->queue[q].kick_fd);
}

static void bar_access(struct virtio_pci *vp, uint32_t off, uint8_t *data, unsigned size,
		       bool write)
{
	if (off < BAR_ISR) {
		common_access(vp, off - BAR_COMMON, data, size, write);
	} else if (off < BAR_DEVICE) {
		if (!write) {
			/* Reading the ISR clears it (and would lower INTx). */
			memset(data, 0, size);
			if (off == BAR_ISR)
				data[0] = atomic_exchange(&vp->isr, 0);
		}
	} else if (off < BAR_NOTIFY) {
		off -= BAR_DEVICE;
		if (!range_within(off, size, vp->info.config_len)) {
			if (!write)
				memset(data, 0, size);
		} else if (write) {
			vp->ops->config_write(vp->dev, off, data, size);
		} else {
			vp->ops->config_read(vp->dev, off, data, size);
		}
	} else if (off < BAR_MSIX_TABLE) {
		if (write)
			notify_write(vp, off - BAR_NOTIFY);
		else
			memset(data, 0, size);
	} else if (off < BAR_MSIX_PBA) {
		if (write)
			msix_table_write(&vp->msix, off - BAR_MSIX_TABLE, data, size);
		else
			msix_table_read(&vp->msix, off - BAR_MSIX_TABLE, data, size);
	} else if (!write) {
		msix_pba_read(&vp->msix, off - BAR_MSIX_PBA, data, size);
	}
}

static void vp_bar_read(void *opaque, unsigned bar, uint32_t off, uint8_t *data, unsigned size)
{
	(void)bar;
	bar_access(opaque, off, data, size, false);
}

static void vp_bar_write(void *opaque, unsigned bar, uint32_t off, const uint8_t *data,
			 unsigned size)
{
	uint8_t copy[8];

	(void)bar;
	memcpy(copy, data, MIN(size, sizeof(copy)));
	bar_access(opaque, off, copy, MIN(size, sizeof(copy)), true);
}

/* Moves each queue's ioeventfd to where the notify area now decodes. */
static void vp_bar_moved(void *opaque, unsigned bar, uint64_t addr)
{
	struct virtio_pci *vp = opaque;

	(void)bar;
	for (unsigned i = 0; i < vp->info.nqueues; i++) {
		struct vp_queue *q = &vp->queue[i];
		uint64_t doorbell = addr ? addr + BAR_NOTIFY + i * NOTIFY_MULTIPLIER : 0;

		if (q->doorbell)
			vp->host->doorbell(vp->host->ctx, q->doorbell, 0, q->kick_fd, false);
		q->doorbell = 0;
		if (doorbell && vp->host->doorbell(vp->host->ctx, doorbell, 0, q->kick_fd,
						    true) == 0)
			q->doorbell = doorbell;
	}
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): a window through config space into the
 * BAR, for drivers that cannot map it. cap+4 holds bar, cap+8 offset, cap+12
 * length, cap+16 the data.
 */
static void window_access(struct virtio_pci *vp, bool write)
{
	uint8_t *cap = vp->pci.config + vp->pci_cfg_cap;
	uint32_t off = io_data_get(cap + 8, 4);
	uint32_t len = io_data_get(cap + 12, 4);

	if (cap[4] != BAR_INDEX || (len != 1 && len != 2 && len != 4) ||
	    !range_within(off, len, BAR_SIZE))
		return;
	bar_access(vp, off, cap + 16, len, write);
}

static bool touches_window_data(struct virtio_pci *vp, unsigned off, unsigned size)
{
	return vp->pci_cfg_cap && covers(off, size, vp->pci_cfg_cap + 16, 4);
}

static void vp_config_read(void *opaque, unsigned off, unsigned size)
{
	struct virtio_pci *vp = opaque;

	if (touches_window_data(vp, off, size))
		window_access(vp, false);
}

static void vp_config_write(void *opaque, unsigned off, unsigned size)
{
	struct virtio_pci *vp = opaque;

	msix_config_written(&vp->msix, off, size);
	if (touches_window_data(vp, off, size))
		window_access(vp, true);
}

static const struct pci_device_ops virtio_pci_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.bar_moved = vp_bar_moved,
	.config_read = vp_config_read,
	.config_write = vp_config_write,
};

/* Appends a struct virtio_pci_cap (plus `extra` bytes); returns its offset. */
static int add_virtio_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
			  const uint8_t *extra, unsigned extra_len)
{
	uint8_t cap[24] = { PCI_CAP_ID_VNDR, 0, 16 + extra_len, type, BAR_INDEX };

	io_data_put(cap + 8, 4, off);
	io_data_put(cap + 12, 4, len);
	if (extra_len)
		memcpy(cap + 16, extra, extra_len);
	return pci_device_add_capability(&vp->pci, cap, 16 + extra_len);
}

static int add_capabilities(struct virtio_pci *vp)
{
	uint8_t multiplier[4], window[4] = { 0 };
	int err = 0, window_cap;

	io_data_put(multiplier, 4, NOTIFY_MULTIPLIER);
	err |= add_virtio_cap(vp, CAP_COMMON, BAR_COMMON, BAR_COMMON_LEN, NULL, 0) < 0;
	err |= add_virtio_cap(vp, CAP_ISR, BAR_ISR, 1, NULL, 0) < 0;
	if (vp->info.config_len)
		err |= add_virtio_cap(vp, CAP_DEVICE, BAR_DEVICE, vp->info.config_len, NULL, 0) < 0;
	err |= add_virtio_cap(vp, CAP_NOTIFY, BAR_NOTIFY, vp->info.nqueues * NOTIFY_MULTIPLIER,
			      multiplier, 4) < 0;
	window_cap = add_virtio_cap(vp, CAP_PCI, 0, 0, window, 4);
	if (err || window_cap < 0)
		return -ENOSPC;
	/* The driver picks bar, offset, length and data of the window. */
	vp->pci_cfg_cap = window_cap;
	vp->pci.wmask[window_cap + 4] = 0xff;
	memset(vp->pci.wmask + window_cap + 8, 0xff, 12);
	return 0;
}

static bool info_valid(const struct virtio_device_info *info)
{
	return info->nqueues >= 1 && info->nqueues <= VIRTIO_PCI_MAX_QUEUES &&
	       info->queue_size && info->queue_size <= VIRTQ_MAX_SIZE &&
	       !(info->queue_size & (info->queue_size - 1)) &&
	       info->config_len <= VIRTIO_PCI_CONFIG_MAX;
}

static int setup(struct virtio_pci *vp)
{
	pci_device_init(&vp->pci, vp->info.name, VIRTIO_PCI_VENDOR,
			VIRTIO_PCI_DEVICE_BASE + vp->info.type, vp->info.pci_class,
			VIRTIO_PCI_VENDOR, VIRTIO_PCI_SUBSYS, &virtio_pci_ops, vp);
	vp->pci.config[PCI_CLASS_REVISION] = VIRTIO_PCI_REVISION;
	if (pci_device_add_bar(&vp->pci, BAR_INDEX, BAR_SIZE) < 0 || add_capabilities(vp) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < vp->info.nqueues; i++) {
		vp->queue[i].kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (vp->queue[i].kick_fd < 0)
			return -errno;
	}
	/* One vector per queue plus one for configuration changes. */
	return msix_init(&vp->msix, &vp->pci, BAR_INDEX, vp->info.nqueues + 1,
			 BAR_MSIX_TABLE, BAR_MSIX_PBA, vp->host);
}

struct virtio_pci *virtio_pci_create(const struct virtio_device_info *info,
				     const struct virtio_device_ops *ops, void *dev,
				     const struct device_host *host)
{
	struct virtio_pci *vp;
	int err;

	if (!info_valid(info)) {
		log_error("%s: bad device description", info->name);
		return NULL;
	}
	vp = calloc(1, sizeof(*vp) + info->nqueues * sizeof(vp->queue[0]));
	if (!vp)
		return NULL;
	vp->info = *info;
	vp->ops = ops;
	vp->dev = dev;
	vp->host = host;
	vp->offered = info->features | 1ull << VIRTIO_F_VERSION_1 |
		      1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_INDIRECT_DESC;
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned i = 0; i < info->nqueues; i++)
		vp->queue[i].kick_fd = -1;
	reset_state(vp);
	err = setup(vp);
	if (err < 0) {
		log_error("%s: cannot set up the PCI function: %s", info->name, strerror(-err));
		virtio_pci_destroy(vp);
		return NULL;
	}
	return vp;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	pthread_mutex_lock(&vp->lock);
	reset_state(vp);
	pthread_mutex_unlock(&vp->lock);
	vp_bar_moved(vp, BAR_INDEX, 0);
	msix_fini(&vp->msix);
	for (unsigned i = 0; i < vp->info.nqueues; i++)
		if (vp->queue[i].kick_fd >= 0)
			close(vp->queue[i].kick_fd);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

struct pci_device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->pci;
}

struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q)
{
	return q < vp->info.nqueues ? &vp->queue[q].vq : NULL;
}

int virtio_pci_kick_fd(struct virtio_pci *vp, unsigned q)
{
	return q < vp->info.nqueues ? vp->queue[q].kick_fd : -1;
}

int virtio_pci_call_fd(struct virtio_pci *vp, unsigned q)
{
	return q < vp->info.nqueues ? msix_vector_fd(&vp->msix, vp->queue[q].vector) : -1;
}

#define SERVE_MAX_IOV 16

bool virtio_pci_serve_queue(struct virtio_pci *vp, unsigned q, virtio_chain_fn handle,
			    void *ctx)
{
	struct virtqueue *vq = virtio_pci_queue(vp, q);
	struct iovec iov[SERVE_MAX_IOV];
	struct virtq_chain chain = { .iov = iov, .max_iov = SERVE_MAX_IOV };
	bool used = false;
	int got;

	do {
		virtqueue_disable_notify(vq);
		while ((got = virtqueue_pop(vq, &chain)) > 0) {
			virtqueue_push(vq, chain.head, handle(ctx, &chain));
			used = true;
		}
	} while (got == 0 && virtqueue_enable_notify(vq));
	if (used && virtqueue_should_notify(vq))
		virtio_pci_notify_queue(vp, q);
	if (got < 0)
		virtio_pci_needs_reset(vp);
	return got == 0;
}

static void raise_vector(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	atomic_fetch_or(&vp->isr, isr_bit);
	/* Without MSI-X the guest would need INTx, which these devices do not
	 * wire up: Linux's virtio_pci always gets MSI-X from us. */
	if (vector != NO_VECTOR && msix_enabled(&vp->msix))
		msix_notify(&vp->msix, vector);
}

void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned q)
{
	if (q < vp->info.nqueues)
		raise_vector(vp, vp->queue[q].vector, 1);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	atomic_fetch_add(&vp->config_generation, 1);
	raise_vector(vp, vp->config_vector, 2);
}

void virtio_pci_needs_reset(struct virtio_pci *vp)
{
	atomic_fetch_or(&vp->status, STATUS_NEEDS_RESET);
	virtio_pci_config_changed(vp);
}
