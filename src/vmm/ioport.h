/*
 * The I/O port bus: which device answers which x86 port.
 *
 * Devices register port ranges with their io_ops at machine setup; vCPU
 * threads then dispatch every port exit here. Lookup is a flat table indexed
 * by port number (as in OpenBSD's vmd): O(1) and obvious, which matters
 * because port exits are the hottest exits while a kernel boots. The table is
 * written only before the vCPUs start, so dispatch needs no lock; each device
 * serialises its own state.
 */
#ifndef CORRAL_VMM_IOPORT_H
#define CORRAL_VMM_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define IOPORT_MAX_HANDLERS 32

struct ioport_handler {
	const char *name;
	uint16_t base;
	uint16_t len;
	const struct io_ops *ops;
	void *dev;
};

struct ioport_bus {
	uint8_t slot[65536];          /* 0 = nobody, else index + 1 into handler[] */
	unsigned nhandlers;
	struct ioport_handler handler[IOPORT_MAX_HANDLERS];
};

/* Claims [base, base + len) for a device; -EBUSY if any port is taken. */
int ioport_register(struct ioport_bus *bus, const char *name, uint16_t base, uint16_t len,
		    const struct io_ops *ops, void *dev);

/* Performs one access of `size` bytes; returns false if no device owns the
 * port (reads then see all ones, as on a PC with nothing decoding the port). */
bool ioport_dispatch(struct ioport_bus *bus, uint16_t port, bool write,
		     uint8_t *data, unsigned size);

#endif
