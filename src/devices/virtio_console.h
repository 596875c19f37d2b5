/*
 * virtio-console (virtio 1.x, section 5.3): one port, the guest's hvc0, as a
 * second console next to the UART. Bytes the guest writes go to a
 * char_backend; bytes from outside are offered with virtio_console_receive(),
 * which takes only what fits in the receive buffers the guest has posted and
 * calls the backend's rx_ready() once there is room again (the same flow
 * control as the UART's).
 */
#ifndef CORRAL_DEVICES_VIRTIO_CONSOLE_H
#define CORRAL_DEVICES_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/pci.h"

struct virtio_console;

struct virtio_console *virtio_console_create(const struct device_host *host,
					     const struct char_backend *backend);
void virtio_console_destroy(struct virtio_console *con);
struct pci_device *virtio_console_pci(struct virtio_console *con);

/* Input for the guest; returns how many bytes it took. Any thread. */
size_t virtio_console_receive(struct virtio_console *con, const uint8_t *buf, size_t len);

#endif
