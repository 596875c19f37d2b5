#include "devices/virtio_rng.h"
#include "devices/virtio_pci.h"
#include "devices/worker.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE 64

struct virtio_rng {
	struct virtio_pci *vp;
	struct worker worker;
};

/* Fills every writable buffer of the chain; returns the bytes written. */
static uint32_t fill(void *ctx, const struct virtq_chain *chain)
{
	uint32_t total = 0;

	(void)ctx;
	for (unsigned i = chain->nout; i < chain->nout + chain->nin; i++) {
		uint8_t *p = chain->iov[i].iov_base;
		size_t left = chain->iov[i].iov_len;

		while (left) {
			ssize_t n = getrandom(p, left, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return total;
			}
			p += n;
			left -= n;
			total += n;
		}
	}
	return total;
}

static void *serve(void *arg)
{
	struct virtio_rng *rng = arg;
	int kick = virtio_pci_kick_fd(rng->vp, 0);

	while (virtio_pci_serve_queue(rng->vp, 0, fill, NULL) &&
	       worker_wait(&rng->worker, kick, true))
		;
	return NULL;
}

static int rng_start(void *dev, uint64_t features)
{
	struct virtio_rng *rng = dev;

	(void)features;
	return worker_start(&rng->worker, "virtio-rng", serve, rng);
}

static void rng_stop(void *dev)
{
	struct virtio_rng *rng = dev;

	worker_stop(&rng->worker);
}

static const struct virtio_device_ops rng_ops = {
	.start = rng_start,
	.stop = rng_stop,
};

static const struct virtio_device_info rng_info = {
	.name = "virtio-rng",
	.type = VIRTIO_ID_RNG,
	.pci_class = 0xff0000,	/* unclassified device, as QEMU's */
	.nqueues = 1,
	.queue_size = RNG_QUEUE_SIZE,
};

struct virtio_rng *virtio_rng_create(const struct device_host *host)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));

	if (!rng)
		return NULL;
	rng->vp = virtio_pci_create(&rng_info, &rng_ops, rng, host);
	if (!rng->vp) {
		free(rng);
		return NULL;
	}
	return rng;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	if (!rng)
		return;
	virtio_pci_destroy(rng->vp);
	free(rng);
}

struct pci_device *virtio_rng_pci(struct virtio_rng *rng)
{
	return virtio_pci_device(rng->vp);
}
