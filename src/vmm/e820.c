#include "vmm/e820.h"
#include "vmm/layout.h"

#include <errno.h>

static int e820_add(struct e820_entry *table, unsigned max, unsigned *n,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (*n >= max)
		return -ENOSPC;
	table[(*n)++] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	return 0;
}

int e820_build(const struct guest_memory *mem, struct e820_entry *table, unsigned max)
{
	uint64_t low_end = guest_memory_low_end(mem);
	unsigned n = 0;
	int err = 0;

	err |= e820_add(table, max, &n, 0, LAYOUT_EBDA, E820_RAM);
	/* The EBDA, VGA window and BIOS area stay reserved, as on a PC: kernels
	 * expect nothing usable there, and the ACPI tables live at 0xe0000. */
	err |= e820_add(table, max, &n, LAYOUT_EBDA, 0xa0000 - LAYOUT_EBDA, E820_RESERVED);
	err |= e820_add(table, max, &n, LAYOUT_ACPI, LAYOUT_HIGH_MEMORY - LAYOUT_ACPI,
			E820_RESERVED);
	err |= e820_add(table, max, &n, LAYOUT_HIGH_MEMORY, low_end - LAYOUT_HIGH_MEMORY,
			E820_RAM);
	for (unsigned i = 1; i < mem->nregions; i++)
		err |= e820_add(table, max, &n, mem->region[i].gpa, mem->region[i].size,
				E820_RAM);
	return err ? -ENOSPC : (int)n;
}
