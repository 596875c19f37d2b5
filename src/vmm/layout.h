/*
 * Where things sit in guest-physical memory (x86, Linux 64-bit boot).
 *
 * One place for the fixed addresses the loader, the ACPI builder and the CPU
 * setup agree on. Everything below 1 MiB is ours to place as the Linux boot
 * protocol allows; the kernel itself goes at 1 MiB and decompresses itself
 * at or above its preferred address (16 MiB for Debian's kernels).
 */
#ifndef CORRAL_VMM_LAYOUT_H
#define CORRAL_VMM_LAYOUT_H

#include "common/guest_memory.h"

#define LAYOUT_GDT          0x00000500ull   /* boot GDT: null, null, code, data, TSS */
#define LAYOUT_IDT          0x00000520ull   /* empty IDT: interrupts stay off until the kernel sets its own */
#define LAYOUT_ZERO_PAGE    0x00007000ull   /* struct boot_params */
#define LAYOUT_BOOT_STACK   0x00008ff0ull
#define LAYOUT_PML4         0x00009000ull   /* identity map of the low 4 GiB, 2 MiB pages */
#define LAYOUT_PDPT         0x0000a000ull
#define LAYOUT_PD           0x0000b000ull   /* four page directories, 0xb000-0xefff */
#define LAYOUT_CMDLINE      0x00020000ull
#define LAYOUT_CMDLINE_MAX  0x00010000ull
#define LAYOUT_EBDA         0x0009fc00ull   /* conventional memory ends here */
#define LAYOUT_ACPI         0x000e0000ull   /* ACPI tables; the RSDP first, where a BIOS-area scan finds it */
#define LAYOUT_ACPI_SIZE    0x00020000ull
#define LAYOUT_HIGH_MEMORY  0x00100000ull   /* 1 MiB: the protected-mode kernel is loaded here */

#define LAYOUT_PCI_HOLE     GUEST_MEMORY_HOLE  /* 3 GiB: MMIO below 4 GiB (PCI, IOAPIC, LAPIC) */
#define LAYOUT_4G           GUEST_MEMORY_HIGH

#define LAYOUT_PCI_MMIO     0xc0000000u     /* the host bridge's window for BARs... */
#define LAYOUT_PCI_MMIO_SIZE 0x3c000000u    /* ...960 MiB, up to 0xfc000000 */
#define LAYOUT_IOAPIC       0xfec00000u
#define LAYOUT_LAPIC        0xfee00000u
#define LAYOUT_TSS          0xfffbd000ull   /* three pages KVM needs for VMX real-mode emulation */
#define LAYOUT_IDENTITY_MAP 0xfffbc000ull   /* one page, likewise, below the TSS */

#endif
