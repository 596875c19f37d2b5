/*
 * PCI bus 0 behind a host bridge, as a PC presents it.
 *
 * The guest reaches configuration space through mechanism #1 (an address
 * written to port 0xcf8, data through 0xcfc-0xcff); pci_config_io_ops serves
 * those ports. Every device is a single function; slot 0 is the host bridge
 * (class 0x0600, which Linux's conf1 sanity check looks for). Devices have
 * 32-bit memory BARs only. The bus assigns each BAR a naturally aligned
 * address in its MMIO window when the device is added, as firmware would; the
 * guest may size and move BARs, and a device learns through bar_moved() where
 * a BAR decodes (address 0 while memory decoding is off), so it can move its
 * doorbells. vCPU threads call pci_bus_mmio() for memory exits. The bus lock
 * guards config space and BAR addresses; it is not held while a device's BAR
 * handlers run, so devices lock their own state.
 */
#ifndef CORRAL_DEVICES_PCI_H
#define CORRAL_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define PCI_CONFIG_PORT     0xcf8
#define PCI_CONFIG_PORT_LEN 8
#define PCI_MAX_DEVICES     32
#define PCI_NUM_BARS        6
#define PCI_CONFIG_SIZE     256
#define PCI_CAP_START       0x40	/* first byte after the standard header */

/* Standard header offsets and bits this project uses. */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_COMMAND_MEMORY  0x0002
#define PCI_COMMAND_MASTER  0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_CLASS_REVISION  0x08
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_CAP_ID_MSIX     0x11
#define PCI_CAP_ID_VNDR     0x09

struct pci_device_ops {
	/* An access of `size` bytes at `offset` inside memory BAR `bar`. */
	void (*bar_read)(void *dev, unsigned bar, uint32_t offset, uint8_t *data, unsigned size);
	void (*bar_write)(void *dev, unsigned bar, uint32_t offset, const uint8_t *data,
			  unsigned size);
	/* BAR `bar` now decodes at `addr`, or nowhere if addr is 0. Optional.
	 * Called without the bus lock (it may reprogram KVM), from the vCPU
	 * thread whose config write caused it, before that write returns. */
	void (*bar_moved)(void *dev, unsigned bar, uint64_t addr);
	/* Config space at or above PCI_CAP_START: config_read may refresh
	 * config[offset .. offset + size) before the bus returns those bytes;
	 * config_write is told after the bus stored the guest's bytes (through
	 * wmask). Both optional; called with the bus lock held, so they must
	 * not call back into the bus. */
	void (*config_read)(void *dev, unsigned offset, unsigned size);
	void (*config_write)(void *dev, unsigned offset, unsigned size);
};

struct pci_device {
	uint8_t config[PCI_CONFIG_SIZE];	/* what the guest reads */
	uint8_t wmask[PCI_CONFIG_SIZE];		/* bits the guest may change */
	uint32_t bar_size[PCI_NUM_BARS];	/* 0 for an unused BAR */
	uint64_t bar_addr[PCI_NUM_BARS];	/* where it decodes now, 0 if nowhere */
	const struct pci_device_ops *ops;
	void *dev;
	const char *name;
	unsigned slot;				/* set by pci_bus_add() */
	uint8_t last_cap;			/* offset of the last capability, 0 if none */
	unsigned cap_end;			/* first byte after it, 0 if none */
};

/*
 * Sets up the header of a type-0 function: ids, 24-bit class code
 * (class << 16 | subclass << 8 | prog-if), subsystem ids, no BARs, no
 * capabilities, command register writable for memory, bus master and INTx
 * disable.
 */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id,
		     const struct pci_device_ops *ops, void *dev);

/* Declares BAR `bar` as 32-bit non-prefetchable memory of `size` bytes (a
 * power of two, at least 4 KiB). -EINVAL otherwise or if already declared. */
int pci_device_add_bar(struct pci_device *d, unsigned bar, uint32_t size);

/*
 * Appends a capability: `len` bytes starting with its id; the bus fills in
 * the next pointer (byte 1) and links it into the list. Returns its offset in
 * config space, or -ENOSPC. The bytes are read-only to the guest unless the
 * caller then opens bits in wmask.
 */
int pci_device_add_capability(struct pci_device *d, const void *cap, unsigned len);

/* Declares INTx pin A routed to `irq` (interrupt line register). */
void pci_device_set_intx(struct pci_device *d, uint8_t irq);

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t config_address;		/* last value written to 0xcf8 */
	struct pci_device *dev[PCI_MAX_DEVICES];
	struct pci_device host_bridge;
	uint64_t mmio_base, mmio_size;		/* window for BARs */
	uint64_t mmio_next;			/* next free address in it */
};

/* A bus with the host bridge in slot 0 and BARs assigned from
 * [mmio_base, mmio_base + mmio_size). */
int pci_bus_init(struct pci_bus *bus, uint64_t mmio_base, uint64_t mmio_size);
void pci_bus_fini(struct pci_bus *bus);

/* Puts `d` in the first free slot and assigns its BARs; memory decoding
 * stays off until the guest enables it. -ENOSPC if slots or window run out. */
int pci_bus_add(struct pci_bus *bus, struct pci_device *d);

/* The config ports; register at PCI_CONFIG_PORT, PCI_CONFIG_PORT_LEN ports, dev = bus. */
extern const struct io_ops pci_config_io_ops;

/* A memory access from the guest; false if no enabled BAR claims it (then
 * reads see all ones and writes vanish, as the caller arranges). */
bool pci_bus_mmio(struct pci_bus *bus, uint64_t addr, bool write, uint8_t *data, unsigned size);

#endif
