/*
 * virtio-blk (virtio 1.x, section 5.2): a raw image file or a host block
 * device as a guest disk.
 *
 * Requests are served off the vCPU threads: each queue has a thread that
 * waits, through one io_uring, on the queue's doorbell eventfd and on the
 * completions of the reads, writes, fsyncs and fallocates it submitted, so
 * many requests are in flight at once. Every sector range is checked against
 * the disk's size; a read-only disk offers VIRTIO_BLK_F_RO and fails writes,
 * discards and write-zeroes with VIRTIO_BLK_S_IOERR. FLUSH is fdatasync(),
 * so data the guest flushed survives the VMM being killed. DISCARD punches
 * holes and WRITE_ZEROES writes zeroes (punching when unmap is allowed).
 * GET_ID returns the serial.
 */
#ifndef CORRAL_DEVICES_VIRTIO_BLK_H
#define CORRAL_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>

#include "devices/device.h"
#include "devices/pci.h"

#define VIRTIO_BLK_SERIAL_MAX 20	/* VIRTIO_BLK_ID_BYTES */
#define VIRTIO_BLK_MAX_QUEUES 16

struct virtio_blk_options {
	char path[4096];		/* image file or block device */
	bool readonly;
	bool cached;			/* use the host page cache (default: O_DIRECT) */
	char serial[VIRTIO_BLK_SERIAL_MAX + 1];
	unsigned queues;		/* 1..VIRTIO_BLK_MAX_QUEUES */
};

/*
 * Parses "path=FILE[,ro][,serial=S][,queues=N][,cache=none|writeback]" into
 * *opt. Logs "--disk: ..." and returns -EINVAL for anything wrong.
 */
int virtio_blk_parse(const char *spec, struct virtio_blk_options *opt);

struct virtio_blk;

/* Opens the disk (logging why not, e.g. "disk /x: No such file") and
 * creates the device. */
struct virtio_blk *virtio_blk_create(const struct virtio_blk_options *opt,
				     const struct device_host *host);
void virtio_blk_destroy(struct virtio_blk *blk);
struct pci_device *virtio_blk_pci(struct virtio_blk *blk);

#endif
