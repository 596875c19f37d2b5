/*
 * The BIOS e820 memory map the kernel reads from boot_params.
 *
 * Built from the guest memory layout alone (no KVM), so the loader and its
 * unit tests share it: usable RAM below the EBDA, the legacy BIOS area with
 * our ACPI tables reserved, RAM from 1 MiB to the PCI hole, and RAM above
 * 4 GiB for large guests.
 */
#ifndef CORRAL_VMM_E820_H
#define CORRAL_VMM_E820_H

#include <stdint.h>

#include "common/guest_memory.h"

#define E820_RAM      1
#define E820_RESERVED 2

/* Linux's boot_params holds at most 128 entries (E820_MAX_ENTRIES_ZEROPAGE). */
#define E820_MAX_ENTRIES 128

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

_Static_assert(sizeof(struct e820_entry) == 20, "e820 entry is 20 bytes");

/* Writes the map into `table` (capacity `max`); returns the number of
 * entries, sorted and non-overlapping, or -ENOSPC. */
int e820_build(const struct guest_memory *mem, struct e820_entry *table, unsigned max);

#endif
