/*
 * virtio-rng (virtio 1.x, section 5.4): entropy from the host's getrandom()
 * for the guest's hwrng. One queue; the guest's buffers are filled on a
 * thread of the device's own, never on a vCPU.
 */
#ifndef CORRAL_DEVICES_VIRTIO_RNG_H
#define CORRAL_DEVICES_VIRTIO_RNG_H

#include "devices/device.h"
#include "devices/pci.h"

struct virtio_rng;

struct virtio_rng *virtio_rng_create(const struct device_host *host);
void virtio_rng_destroy(struct virtio_rng *rng);
struct pci_device *virtio_rng_pci(struct virtio_rng *rng);

#endif
