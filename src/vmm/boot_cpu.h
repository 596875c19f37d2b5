/*
 * The CPU state Linux's 64-bit boot protocol asks for.
 *
 * boot.rst, "64-bit Boot Protocol": long mode with paging on, an identity
 * mapping covering the kernel, zero page and command line, a GDT with
 * __BOOT_CS (0x10) as flat 64-bit code and __BOOT_DS (0x18) as flat data,
 * interrupts off, RSI holding the zero page's address. boot_cpu_write_tables()
 * puts the GDT and page tables into guest memory once; boot_cpu_set_regs()
 * loads the bootstrap processor's registers. Application processors need
 * nothing: they wait for the kernel's INIT/SIPI in KVM's local APIC.
 */
#ifndef CORRAL_VMM_BOOT_CPU_H
#define CORRAL_VMM_BOOT_CPU_H

#include <stdint.h>

#include "common/guest_memory.h"

int boot_cpu_write_tables(const struct guest_memory *mem);
int boot_cpu_set_regs(int vcpu_fd, uint64_t entry, uint64_t zero_page);

/* LINT0 as ExtINT and LINT1 as NMI: the virtual-wire mode a PC BIOS leaves
 * the BSP's local APIC in. */
int boot_cpu_set_lapic(int vcpu_fd);

#endif
