/*
 * A 16550A UART, the PC serial port the guest's console runs on.
 *
 * The VMM creates one per port, registers serial8250_io_ops for its 8 I/O
 * ports (COM1 is 0x3f8-0x3ff on IRQ 4) and connects a char_backend: bytes
 * the guest transmits go straight to backend.write, and the VMM's event loop
 * feeds input with serial8250_receive(). The model is what Linux's 8250
 * driver probes and drives: it identifies as a 16550A, has the THRE
 * interrupt semantics the driver's startup tests check, supports loopback
 * mode, and presents its receive FIFO as SERIAL8250_RX_BUFFER_SIZE bytes deep
 * so that pasted input is not lost. Transmission takes no time: the
 * transmitter is always empty.
 *
 * Locking: register accesses (vCPU threads) and serial8250_receive() (event
 * loop) may run concurrently. irq->set and backend.write are called with the
 * device lock held and must not call back into this device; backend.rx_ready
 * is called without it and may call serial8250_receive() directly.
 */
#ifndef CORRAL_DEVICES_SERIAL8250_H
#define CORRAL_DEVICES_SERIAL8250_H

#include "devices/device.h"

#define SERIAL8250_NR_PORTS 8
#define SERIAL8250_RX_BUFFER_SIZE 4096

struct serial8250;

/* Copies *irq and *backend (either may be NULL: no interrupt, no backend).
 * Returns NULL with errno set on failure. */
struct serial8250 *serial8250_create(const struct irq_line *irq,
				     const struct char_backend *backend);
void serial8250_destroy(struct serial8250 *uart);

/* Queues input for the guest. Takes as many bytes as the receive buffer has
 * room for (none in loopback mode, where the receiver is disconnected) and
 * returns that count. If it took fewer than len, backend.rx_ready is called
 * once the guest has drained the buffer; feed the rest then. */
size_t serial8250_receive(struct serial8250 *uart, const uint8_t *buf, size_t len);

extern const struct io_ops serial8250_io_ops;

#endif
