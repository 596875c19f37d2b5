/*
 * ACPI tables for the guest: the only way a Debian kernel (built without
 * MP-table support) learns about its vCPUs, the IOAPIC, the PM1 power button
 * and soft-off, and the ISA devices. The VMM calls acpi_build() once while
 * setting up guest memory, copies the returned bytes to base_gpa (0xE0000,
 * a region its e820 map reserves) and passes the RSDP's address in
 * boot_params.acpi_rsdp_addr. The RSDP comes first in the blob, 16-byte
 * aligned, so the kernel's legacy scan of 0xE0000-0xFFFFF finds it too; then
 * FACS, DSDT, MADT, FADT and XSDT. The tables follow ACPI 6.3 (the newest
 * revision iasl 20200925 knows); section numbers in comments are from ACPI
 * 6.4, whose chapter 5 numbering is the same.
 */
#ifndef CORRAL_VMM_ACPI_H
#define CORRAL_VMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 255	/* xAPIC ids 0-254; 255 is the broadcast id */

struct acpi_config {
	unsigned ncpus;			/* 1..ACPI_MAX_CPUS: LAPIC ids and processor UIDs 0..ncpus-1 */
	uint32_t lapic_addr;		/* 0xfee00000 */
	uint32_t ioapic_addr;		/* 0xfec00000: IOAPIC id 0, GSI base 0, 24 pins (KVM's) */
	uint16_t pm1a_evt_port;		/* 0x600: PM1_STS (2 bytes) + PM1_EN (2 bytes) */
	uint16_t pm1a_cnt_port;		/* 0x604: PM1_CNT, 2 bytes */
	uint16_t pm_tmr_port;		/* 0x608: PM_TMR, 4 bytes, 24-bit counter */
	uint8_t sci_irq;		/* 9: ISA IRQ of the SCI, level-triggered */
	uint16_t pvpanic_port;		/* 0x505: QEMU0001, one port */
	uint16_t serial_port;		/* 0x3f8: COM1 (PNP0501), eight ports */
	uint8_t serial_irq;		/* 4 */
	uint16_t rtc_port;		/* 0x70: CMOS RTC (PNP0B00), two ports */
	uint8_t rtc_century_reg;	/* 0x32: the CMOS byte holding the century, for FADT CENTURY */
	uint16_t pci_config_port;	/* 0xcf8: configuration mechanism #1, eight ports */
	uint32_t pci_mmio_base;		/* the host bridge's memory window for BARs */
	uint32_t pci_mmio_size;
};

/*
 * Builds RSDP, XSDT, FADT, FACS, DSDT and MADT into buf (size bytes) as
 * they will sit at guest-physical address base_gpa, which must be 64-byte
 * aligned (the FACS must be). Returns the number of bytes used (> 0) and
 * stores the RSDP's guest-physical address in *rsdp_gpa (it is base_gpa);
 * or returns -EINVAL for a bad configuration or -ENOSPC if buf is too small,
 * after logging why. Nothing is written past the returned length, nor, on
 * failure, past size.
 */
int acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t size,
	       uint64_t base_gpa, uint64_t *rsdp_gpa);

#endif
