/*
 * The contract between a device model and the machine that hosts it.
 *
 * A device model never talks to KVM directly. The VMM hands it what it needs:
 * port I/O reaches it through an io_ops table registered on the VMM's port bus
 * (called from vCPU threads, possibly several at once, so every device guards
 * its state with its own lock), it raises interrupts through an irq_line, and
 * a character device exchanges bytes with the outside through a char_backend.
 * This keeps device models testable natively: a unit test supplies a fake
 * irq_line and backend and drives the io_ops by hand.
 */
#ifndef CORRAL_DEVICES_DEVICE_H
#define CORRAL_DEVICES_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Port I/O handlers. `offset` is relative to the base the device was
 * registered at; `size` is 1, 2 or 4. A read must fill all `size` bytes of
 * `data` (little-endian), even for registers the device does not implement.
 */
struct io_ops {
	void (*read)(void *dev, uint16_t offset, uint8_t *data, unsigned size);
	void (*write)(void *dev, uint16_t offset, const uint8_t *data, unsigned size);
};

/* An interrupt input of the machine (a GSI of the in-kernel IOAPIC/PIC). */
struct irq_line {
	void (*set)(void *machine, unsigned gsi, bool high);
	void *machine;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *line, bool high)
{
	if (line->set)
		line->set(line->machine, line->gsi, high);
}

/*
 * The outside end of a character device (a console). `write` takes bytes the
 * guest sent; it must not block for long. `rx_ready` is called by the device
 * when it has room again after refusing input, so the backend can resume
 * feeding it. Either may be NULL.
 */
struct char_backend {
	void (*write)(void *ctx, const uint8_t *buf, size_t len);
	void (*rx_ready)(void *ctx);
	void *ctx;
};

struct guest_memory;

/*
 * What the VMM offers devices that do DMA and interrupt through KVM's fast
 * paths: guest memory (reached only through guest_ptr()), MSI sources that a
 * device thread raises by writing to an eventfd (KVM irqfd) and the host
 * masks (so writers outside the VMM are held back too), and doorbells
 * that turn a guest write to an MMIO address into an eventfd signal without
 * bothering the VMM (KVM ioeventfd). Unit tests supply plain eventfds.
 */
struct device_host {
	const struct guest_memory *mem;
	/* Allocates an MSI source: returns a handle >= 0 and stores in *fd an
	 * eventfd, owned by the host, whose every write raises the message last
	 * routed to the handle while the source is unmasked. Sources start
	 * masked. Negative errno on failure. */
	int (*msi_alloc)(void *ctx, int *fd);
	/* Points MSI source `handle` at message (addr, data). */
	int (*msi_route)(void *ctx, int handle, uint64_t addr, uint32_t data);
	/* Masks or unmasks MSI source `handle`. While it is masked, writes to
	 * its eventfd accumulate in the eventfd's counter and raise nothing; on
	 * unmask, if anything was written meanwhile, the message is raised
	 * once, and from then on every write raises it. Setting the state the
	 * source already has does nothing. */
	int (*msi_mask)(void *ctx, int handle, bool masked);
	/* Makes any write at guest-physical `addr` (`len` bytes wide) signal
	 * `fd` instead of reaching the device (assign), or stops that. */
	int (*doorbell)(void *ctx, uint64_t addr, unsigned len, int fd, bool assign);
	void *ctx;
};

/* Helpers for the little-endian data buffers of io_ops. */
static inline uint32_t io_data_get(const uint8_t *data, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)data[i] << (8 * i);
	return v;
}

static inline void io_data_put(uint8_t *data, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		data[i] = v >> (8 * i);
}

#endif
