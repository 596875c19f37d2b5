/*
 * The virtio 1.x PCI transport (modern only, virtio spec section 4.1) shared
 * by every virtio device model.
 *
 * A device model (virtio_blk.c, virtio_net.c, ...) describes itself with a
 * virtio_device_info and a few callbacks; this module turns that into a PCI
 * function with one memory BAR holding the common, ISR, notify and
 * device-specific configuration structures plus the MSI-X table. It runs
 * feature negotiation (refusing any feature bit it did not offer), keeps the
 * queue registers, and when the driver sets DRIVER_OK enables the
 * virtqueues and calls the model's start(); on reset it calls stop() and
 * waits for it. Queue notifications arrive on one eventfd per queue (a KVM
 * ioeventfd on the queue's notify address), which the model's threads wait
 * on; the model signals used buffers with virtio_pci_notify_queue(), which
 * raises the queue's MSI-X vector, or INTx when MSI-X is off.
 */
#ifndef CORRAL_DEVICES_VIRTIO_PCI_H
#define CORRAL_DEVICES_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/virtqueue.h"

#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

/* Transport feature bits (the transport offers these itself). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_PCI_MAX_QUEUES 64
#define VIRTIO_PCI_CONFIG_MAX 256	/* device-specific config bytes */

struct virtio_device_ops {
	/* Device-specific config space (the model keeps it; reads must fill
	 * `size` bytes, little-endian). Called from vCPU threads, only for
	 * accesses inside config_len (so NULL is fine when that is 0). */
	void (*config_read)(void *dev, uint32_t offset, uint8_t *data, unsigned size);
	void (*config_write)(void *dev, uint32_t offset, const uint8_t *data, unsigned size);
	/* DRIVER_OK: the queues are enabled with `features` negotiated; start
	 * serving them. A negative return sets DEVICE_NEEDS_RESET. */
	int (*start)(void *dev, uint64_t features);
	/* Reset (or teardown): stop touching queues and guest memory, and
	 * return only when no thread of the model still does. */
	void (*stop)(void *dev);
};

struct virtio_device_info {
	const char *name;		/* for messages: "virtio-blk" */
	uint16_t type;			/* VIRTIO_ID_* */
	uint32_t pci_class;		/* 24-bit class code */
	uint64_t features;		/* device-specific feature bits offered */
	unsigned nqueues;		/* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_size;		/* maximum entries per queue, a power of two */
	uint32_t config_len;		/* bytes of device config, <= VIRTIO_PCI_CONFIG_MAX */
};

struct virtio_pci;

/* Creates the transport for a model; add virtio_pci_device() to the bus. */
struct virtio_pci *virtio_pci_create(const struct virtio_device_info *info,
				     const struct virtio_device_ops *ops, void *dev,
				     const struct device_host *host);
void virtio_pci_destroy(struct virtio_pci *vp);
struct pci_device *virtio_pci_device(struct virtio_pci *vp);

/* Queue q's rings (valid from start() until stop() returns) and the eventfd
 * the driver's notifications for it arrive on (valid for the transport's
 * life; read it to clear it). */
struct virtqueue *virtio_pci_queue(struct virtio_pci *vp, unsigned q);
int virtio_pci_kick_fd(struct virtio_pci *vp, unsigned q);

/* The eventfd whose every write interrupts the driver for queue q (its
 * MSI-X vector's, held back while masked), or -1 if the queue has no
 * vector; for handing the queue to the kernel (vhost) in start(). */
int virtio_pci_call_fd(struct virtio_pci *vp, unsigned q);

/*
 * Serves queue q synchronously, for devices whose requests complete at once
 * (rng, console output): hands each available chain to `handle`, which
 * returns how many bytes it wrote into the chain, returns the chain to the
 * driver, and interrupts it once at the end if it asked. Re-enables
 * notifications before returning. False if the driver broke the queue (the
 * device then needs a reset).
 */
typedef uint32_t (*virtio_chain_fn)(void *ctx, const struct virtq_chain *chain);
bool virtio_pci_serve_queue(struct virtio_pci *vp, unsigned q, virtio_chain_fn handle,
			    void *ctx);

/* Tells the driver queue q has used buffers. Any thread. */
void virtio_pci_notify_queue(struct virtio_pci *vp, unsigned q);
/* Tells the driver the device config changed (e.g. link status). */
void virtio_pci_config_changed(struct virtio_pci *vp);
/* The driver broke the rules (a broken virtqueue): set DEVICE_NEEDS_RESET
 * and tell it; the device stays stopped until the driver resets it. */
void virtio_pci_needs_reset(struct virtio_pci *vp);

#endif
