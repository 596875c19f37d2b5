/*
 * The PC the guest sees: which devices sit at which ports and interrupts,
 * and the ACPI tables that describe them.
 *
 * machine_create() instantiates the legacy devices (UART, i8042, CMOS RTC,
 * ACPI PM block, pvpanic) and the PCI host bridge, registers them on the
 * VM's port bus, wires their interrupts and events to the VM, adds the
 * virtio-pci devices the options ask for (disks, NICs, rng, hvc console),
 * and writes the ACPI tables into guest memory. Adding a device is a line
 * here plus its own file in src/devices/.
 */
#ifndef CORRAL_VMM_MACHINE_H
#define CORRAL_VMM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"

struct vm;
struct acpi_config;

#define MACHINE_SERIAL_PORT  0x3f8
#define MACHINE_SERIAL_IRQ   4
#define MACHINE_I8042_PORT   0x60
#define MACHINE_RTC_PORT     0x70
#define MACHINE_SCI_IRQ      9
#define MACHINE_PVPANIC_PORT 0x505
#define MACHINE_ACPI_PM_PORT 0x600

#define MACHINE_MAX_DISKS 16
#define MACHINE_MAX_NICS  8

/* The virtio devices a VM gets (from the command line). */
struct machine_devices {
	unsigned ndisks;
	struct virtio_blk_options disk[MACHINE_MAX_DISKS];
	unsigned nnics;
	struct virtio_net_options nic[MACHINE_MAX_NICS];
	bool rng;
};

struct machine {
	struct serial8250 *serial;
	struct i8042 *i8042;
	struct cmos_rtc *rtc;
	struct acpi_pm *pm;
	struct pvpanic *pvpanic;
	struct pci_bus pci;
	struct device_host host;	/* what virtio devices get from the VM */
	struct virtio_blk *disk[MACHINE_MAX_DISKS];
	struct virtio_net *nic[MACHINE_MAX_NICS];
	struct virtio_rng *rng;
	struct virtio_console *hvc;
	uint64_t rsdp;            /* guest-physical address of the ACPI RSDP */
};

int machine_create(struct vm *vm);

/* The ACPI description of this machine with `ncpus` vCPUs (tests use it too). */
void machine_acpi_config(unsigned ncpus, struct acpi_config *cfg);
void machine_destroy(struct machine *m);

/* Hands console input to the UART, or to hvc0; returns how many bytes it took. */
size_t machine_console_input(void *vm, const uint8_t *buf, size_t len);
size_t machine_hvc_input(void *vm, const uint8_t *buf, size_t len);

/* A guest memory access no in-kernel device claimed (a vCPU's MMIO exit). */
void machine_mmio(struct vm *vm, uint64_t addr, bool write, uint8_t *data, unsigned size);

/* Presses the ACPI power button. */
void machine_power_button(struct vm *vm);

#endif
