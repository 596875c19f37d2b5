/*
 * The PC the guest sees: which devices sit at which ports and interrupts,
 * and the ACPI tables that describe them.
 *
 * machine_create() instantiates the legacy devices (UART, i8042, CMOS RTC,
 * ACPI PM block, pvpanic), registers them on the VM's port bus, wires their
 * interrupts and events to the VM, and writes the ACPI tables into guest
 * memory. Adding a device is a line here plus its own file in src/devices/.
 */
#ifndef CORRAL_VMM_MACHINE_H
#define CORRAL_VMM_MACHINE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct acpi_config;

#define MACHINE_SERIAL_PORT  0x3f8
#define MACHINE_SERIAL_IRQ   4
#define MACHINE_I8042_PORT   0x60
#define MACHINE_RTC_PORT     0x70
#define MACHINE_SCI_IRQ      9
#define MACHINE_PVPANIC_PORT 0x505
#define MACHINE_ACPI_PM_PORT 0x600

struct machine {
	struct serial8250 *serial;
	struct i8042 *i8042;
	struct cmos_rtc *rtc;
	struct acpi_pm *pm;
	struct pvpanic *pvpanic;
	uint64_t rsdp;            /* guest-physical address of the ACPI RSDP */
};

int machine_create(struct vm *vm);

/* The ACPI description of this machine with `ncpus` vCPUs (tests use it too). */
void machine_acpi_config(unsigned ncpus, struct acpi_config *cfg);
void machine_destroy(struct machine *m);

/* Hands console input to the UART; returns how many bytes it took. */
size_t machine_console_input(void *vm, const uint8_t *buf, size_t len);

/* Presses the ACPI power button. */
void machine_power_button(struct vm *vm);

#endif
