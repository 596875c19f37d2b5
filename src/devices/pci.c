/*
 * PCI bus 0 and configuration mechanism #1. Register layouts follow the PCI
 * Local Bus Specification 3.0 (section 3.2.2.3.2 for the config ports,
 * section 6 for the type-0 header); what Linux's arch/x86/pci/direct.c and
 * drivers/pci/probe.c do with them is noted where it matters.
 *
 * Config space is kept as the bytes the guest reads plus a mask of the bits
 * it may change, so most of the header needs no code: a write stores
 * (old & ~wmask) | (new & wmask), byte by byte. BAR sizing falls out of the
 * same rule, since a BAR's writable bits are exactly its address bits.
 */
#include "devices/pci.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

/* CONFIG_ADDRESS (port 0xcf8): enable, bus, device, function, register.
 * Bits 30:24 are reserved and bits 1:0 read as 0 (spec 3.2.2.3.2). */
#define CONFIG_ENABLE		0x80000000u
#define CONFIG_ADDRESS_MASK	0x80fffffcu
#define CONFIG_BUS(a)		(((a) >> 16) & 0xff)
#define CONFIG_SLOT(a)		(((a) >> 11) & 0x1f)
#define CONFIG_FUNCTION(a)	(((a) >> 8) & 0x7)
#define CONFIG_REGISTER(a)	((a) & 0xfc)

#define CONFIG_DATA		4	/* port 0xcfc, relative to 0xcf8 */

#define PCI_BAR_END		(PCI_BAR0 + 4 * PCI_NUM_BARS)
#define PCI_BAR_TYPE_MASK	0xfu	/* space, type and prefetchable bits */

/* The host bridge, as QEMU's generic one identifies itself. */
#define HOST_BRIDGE_VENDOR	0x1b36	/* Red Hat */
#define HOST_BRIDGE_DEVICE	0x0008
#define HOST_BRIDGE_CLASS	0x060000
#define HOST_BRIDGE_SUBSYS_VENDOR 0x1af4
#define HOST_BRIDGE_SUBSYS_ID	0x1100

/* A BAR whose decode address changed during one config write; at most one
 * per BAR of the device written to. */
struct pci_bar_move {
	struct pci_device *d;
	unsigned bar;
	uint64_t addr;
};

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

static uint32_t get_le32(const uint8_t *p)
{
	return io_data_get(p, 4);
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id,
		     const struct pci_device_ops *ops, void *dev)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->ops = ops;
	d->dev = dev;
	put_le16(&d->config[PCI_VENDOR_ID], vendor);
	put_le16(&d->config[PCI_DEVICE_ID], device);
	/* Revision 0 in the low byte, then prog-if, subclass, class. */
	put_le32(&d->config[PCI_CLASS_REVISION], (class_code & 0xffffff) << 8);
	put_le16(&d->config[PCI_SUBSYSTEM_VENDOR_ID], subsys_vendor);
	put_le16(&d->config[PCI_SUBSYSTEM_ID], subsys_id);
	put_le16(&d->wmask[PCI_COMMAND],
		 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

int pci_device_add_bar(struct pci_device *d, unsigned bar, uint32_t size)
{
	if (bar >= PCI_NUM_BARS || d->bar_size[bar] || size < KiB(4) || (size & (size - 1)))
		return -EINVAL;
	d->bar_size[bar] = size;
	/* Bits below the size are hardwired: a 32-bit, non-prefetchable
	 * memory BAR has type bits 0, and its low address bits read 0, which
	 * is how software learns the size (spec 6.2.5.1). */
	put_le32(&d->wmask[PCI_BAR0 + 4 * bar], ~(size - 1));
	return 0;
}

int pci_device_add_capability(struct pci_device *d, const void *cap, unsigned len)
{
	unsigned offset = d->last_cap ? align_up(d->cap_end, 4) : PCI_CAP_START;

	if (len < 2)
		return -EINVAL;
	if (!range_within(offset, len, PCI_CONFIG_SIZE))
		return -ENOSPC;
	memcpy(&d->config[offset], cap, len);
	d->config[offset + 1] = 0;
	if (d->last_cap)
		d->config[d->last_cap + 1] = offset;
	else
		d->config[PCI_CAPABILITY_LIST] = offset;
	d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->last_cap = offset;
	d->cap_end = offset + len;
	return offset;
}

void pci_device_set_intx(struct pci_device *d, uint8_t irq)
{
	d->config[PCI_INTERRUPT_LINE] = irq;
	d->config[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
}

int pci_bus_init(struct pci_bus *bus, uint64_t mmio_base, uint64_t mmio_size)
{
	int err;

	/* BARs are 32 bits wide, and address 0 means "not decoding". */
	if (!mmio_base || !mmio_size || !range_within(mmio_base, mmio_size, GiB(4)))
		return -EINVAL;
	memset(bus, 0, sizeof(*bus));
	err = pthread_mutex_init(&bus->lock, NULL);
	if (err)
		return -err;
	bus->mmio_base = mmio_base;
	bus->mmio_size = mmio_size;
	bus->mmio_next = mmio_base;
	pci_device_init(&bus->host_bridge, "host-bridge", HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
			HOST_BRIDGE_CLASS, HOST_BRIDGE_SUBSYS_VENDOR, HOST_BRIDGE_SUBSYS_ID,
			NULL, NULL);
	bus->host_bridge.slot = 0;
	bus->dev[0] = &bus->host_bridge;
	return 0;
}

void pci_bus_fini(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

/* Places d's BARs in ascending order from the bus's next free address, each
 * naturally aligned; nothing changes unless all of them fit. */
static int pci_assign_bars(struct pci_bus *bus, struct pci_device *d)
{
	uint64_t end = bus->mmio_base + bus->mmio_size;
	uint64_t next = bus->mmio_next;
	uint64_t addr[PCI_NUM_BARS] = { 0 };

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		if (!d->bar_size[i])
			continue;
		addr[i] = align_up(next, d->bar_size[i]);
		if (addr[i] > end || d->bar_size[i] > end - addr[i])
			return -ENOSPC;
		next = addr[i] + d->bar_size[i];
	}
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		if (d->bar_size[i])
			put_le32(&d->config[PCI_BAR0 + 4 * i], addr[i]);
	}
	bus->mmio_next = next;
	return 0;
}

int pci_bus_add(struct pci_bus *bus, struct pci_device *d)
{
	int err = -ENOSPC;

	pthread_mutex_lock(&bus->lock);
	for (unsigned slot = 1; slot < PCI_MAX_DEVICES; slot++) {
		if (bus->dev[slot])
			continue;
		err = pci_assign_bars(bus, d);
		if (err)
			break;
		d->slot = slot;
		bus->dev[slot] = d;
		break;
	}
	pthread_mutex_unlock(&bus->lock);
	if (err)
		log_error("pci: no room on the bus for %s", d->name);
	return err;
}

/* The function CONFIG_ADDRESS selects, or NULL: only bus 0, function 0 of
 * occupied slots answer; the rest read all ones, as absent devices do. */
static struct pci_device *pci_config_target(struct pci_bus *bus)
{
	uint32_t a = bus->config_address;

	if (!(a & CONFIG_ENABLE) || CONFIG_BUS(a) || CONFIG_FUNCTION(a))
		return NULL;
	return bus->dev[CONFIG_SLOT(a)];
}

/* Where BAR `bar` decodes now: its address while memory decoding is on. */
static uint64_t pci_bar_decode_addr(const struct pci_device *d, unsigned bar)
{
	if (!d->bar_size[bar] || !(d->config[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return 0;
	return get_le32(&d->config[PCI_BAR0 + 4 * bar]) & ~PCI_BAR_TYPE_MASK;
}

/* Brings bar_addr[] up to date after a header write and lists the BARs
 * whose decode address changed; returns how many. */
static unsigned pci_update_decode(struct pci_device *d, struct pci_bar_move *moves)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t addr = pci_bar_decode_addr(d, i);

		if (addr == d->bar_addr[i])
			continue;
		d->bar_addr[i] = addr;
		moves[n++] = (struct pci_bar_move){ .d = d, .bar = i, .addr = addr };
	}
	return n;
}

static void pci_config_read(struct pci_device *d, unsigned reg, uint8_t *data, unsigned size)
{
	if (reg >= PCI_CAP_START && d->ops && d->ops->config_read)
		d->ops->config_read(d->dev, reg, size);
	memcpy(data, &d->config[reg], size);
}

/* Stores the guest's bytes through wmask; returns the BAR moves it caused. */
static unsigned pci_config_write(struct pci_device *d, unsigned reg, const uint8_t *data,
				 unsigned size, struct pci_bar_move *moves)
{
	for (unsigned i = 0; i < size; i++) {
		uint8_t mask = d->wmask[reg + i];

		d->config[reg + i] = (d->config[reg + i] & ~mask) | (data[i] & mask);
	}
	if (reg >= PCI_CAP_START) {
		if (d->ops && d->ops->config_write)
			d->ops->config_write(d->dev, reg, size);
		return 0;
	}
	if (reg < PCI_COMMAND + 2 && reg + size > PCI_COMMAND)
		return pci_update_decode(d, moves);
	if (reg < PCI_BAR_END && reg + size > PCI_BAR0)
		return pci_update_decode(d, moves);
	return 0;
}

/*
 * Tells devices where their BARs decode now. This runs after the bus lock
 * is dropped, since a device may reprogram KVM (doorbells) here. Two vCPUs
 * racing on config space could see their calls reordered, but mechanism #1
 * is a two-step protocol that guests already serialize with a lock, and the
 * vCPU that made a change makes these calls before its port write returns.
 */
static void pci_report_moves(const struct pci_bar_move *moves, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct pci_bar_move *m = &moves[i];

		log_debug("pci: %s BAR%u decodes at 0x%llx", m->d->name, m->bar,
			  (unsigned long long)m->addr);
		if (m->d->ops && m->d->ops->bar_moved)
			m->d->ops->bar_moved(m->d->dev, m->bar, m->addr);
	}
}

/* The data window must stay inside one dword: bytes of the next register
 * are not reachable through 0xcfc-0xcff (spec 3.2.2.3.2). */
static bool pci_data_access_ok(uint16_t offset, unsigned size)
{
	return offset >= CONFIG_DATA && size >= 1 && (offset - CONFIG_DATA) + size <= 4;
}

static void pci_config_io_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	struct pci_bus *bus = dev;
	struct pci_device *d;

	memset(data, 0xff, size);
	pthread_mutex_lock(&bus->lock);
	/* Only a dword access at 0xcf8 reaches CONFIG_ADDRESS: Linux's conf1
	 * probe writes a byte to 0xcfb and expects the register unchanged. */
	if (offset == 0 && size == 4) {
		io_data_put(data, 4, bus->config_address);
	} else if (pci_data_access_ok(offset, size)) {
		d = pci_config_target(bus);
		if (d)
			pci_config_read(d, CONFIG_REGISTER(bus->config_address) +
					offset - CONFIG_DATA, data, size);
	}
	pthread_mutex_unlock(&bus->lock);
}

static void pci_config_io_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	struct pci_bus *bus = dev;
	struct pci_bar_move moves[PCI_NUM_BARS];
	struct pci_device *d;
	unsigned nmoves = 0;

	pthread_mutex_lock(&bus->lock);
	if (offset == 0 && size == 4) {
		bus->config_address = io_data_get(data, 4) & CONFIG_ADDRESS_MASK;
	} else if (pci_data_access_ok(offset, size)) {
		d = pci_config_target(bus);
		if (d)
			nmoves = pci_config_write(d, CONFIG_REGISTER(bus->config_address) +
						  offset - CONFIG_DATA, data, size, moves);
	}
	pthread_mutex_unlock(&bus->lock);
	pci_report_moves(moves, nmoves);
}

const struct io_ops pci_config_io_ops = {
	.read = pci_config_io_read,
	.write = pci_config_io_write,
};

/* The device and BAR whose decode range holds all of [addr, addr + size). */
static struct pci_device *pci_find_bar(struct pci_bus *bus, uint64_t addr, unsigned size,
				       unsigned *bar)
{
	for (unsigned slot = 0; slot < PCI_MAX_DEVICES; slot++) {
		struct pci_device *d = bus->dev[slot];

		if (!d)
			continue;
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			uint64_t base = d->bar_addr[i];

			if (base && addr >= base && range_within(addr - base, size, d->bar_size[i])) {
				*bar = i;
				return d;
			}
		}
	}
	return NULL;
}

bool pci_bus_mmio(struct pci_bus *bus, uint64_t addr, bool write, uint8_t *data, unsigned size)
{
	const struct pci_device_ops *ops = NULL;
	struct pci_device *d;
	uint32_t offset = 0;
	unsigned bar = 0;
	void *dev = NULL;

	if (!size)
		return false;
	pthread_mutex_lock(&bus->lock);
	d = pci_find_bar(bus, addr, size, &bar);
	if (d) {
		ops = d->ops;
		dev = d->dev;
		offset = addr - d->bar_addr[bar];
	}
	pthread_mutex_unlock(&bus->lock);
	if (!d)
		return false;
	/* The device locks its own state: the bus lock is not held here, so a
	 * slow handler does not stall config cycles on other vCPUs. */
	if (write) {
		if (ops && ops->bar_write)
			ops->bar_write(dev, bar, offset, data, size);
	} else {
		memset(data, 0xff, size);
		if (ops && ops->bar_read)
			ops->bar_read(dev, bar, offset, data, size);
	}
	return true;
}
