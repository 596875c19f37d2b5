#include "vmm/ioport.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>

int ioport_register(struct ioport_bus *bus, const char *name, uint16_t base, uint16_t len,
		    const struct io_ops *ops, void *dev)
{
	unsigned index = bus->nhandlers;

	if (len == 0 || (unsigned)base + len > 65536 || index >= IOPORT_MAX_HANDLERS)
		return -EINVAL;
	for (unsigned port = base; port < (unsigned)base + len; port++) {
		if (bus->slot[port]) {
			log_error("%s: port 0x%x already belongs to %s", name, port,
				  bus->handler[bus->slot[port] - 1].name);
			return -EBUSY;
		}
	}
	bus->handler[index] = (struct ioport_handler){
		.name = name, .base = base, .len = len, .ops = ops, .dev = dev };
	bus->nhandlers++;
	memset(&bus->slot[base], index + 1, len);
	return 0;
}

bool ioport_dispatch(struct ioport_bus *bus, uint16_t port, bool write,
		     uint8_t *data, unsigned size)
{
	const struct ioport_handler *h;
	uint16_t offset;

	if (!bus->slot[port]) {
		if (!write)
			memset(data, 0xff, size);
		return false;
	}
	h = &bus->handler[bus->slot[port] - 1];
	offset = port - h->base;
	/* An access that runs past the device's range is cut to what it owns. */
	if (offset + size > h->len) {
		if (!write)
			memset(data, 0xff, size);
		size = h->len - offset;
	}
	if (write)
		h->ops->write(h->dev, offset, data, size);
	else
		h->ops->read(h->dev, offset, data, size);
	return true;
}
