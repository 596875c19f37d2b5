/* Guest memory layout, guest_ptr() bounds, and the e820 map. */
#include "test.h"
#include "vmm/e820.h"
#include "common/guest_memory.h"
#include "vmm/layout.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

static uint64_t e820_ram(const struct e820_entry *e, int n)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		if (e[i].type == E820_RAM)
			total += e[i].size;
	return total;
}

static void small_guest_has_one_region(void)
{
	struct guest_memory mem;

	CHECK_EQ(guest_memory_layout(&mem, MiB(256)), 0);
	CHECK_EQ(mem.nregions, 1);
	CHECK_EQ(mem.region[0].gpa, 0);
	CHECK_EQ(mem.region[0].size, MiB(256));
}

static void large_guest_skips_pci_hole(void)
{
	struct guest_memory mem;

	CHECK_EQ(guest_memory_layout(&mem, MiB(3584)), 0);
	CHECK_EQ(mem.nregions, 2);
	CHECK_EQ(guest_memory_low_end(&mem), LAYOUT_PCI_HOLE);
	CHECK_EQ(mem.region[1].gpa, LAYOUT_4G);
	CHECK_EQ(mem.region[1].size, MiB(512));
}

static void exactly_3g_needs_no_high_region(void)
{
	struct guest_memory mem;

	CHECK_EQ(guest_memory_layout(&mem, GiB(3)), 0);
	CHECK_EQ(mem.nregions, 1);
}

static void rejects_out_of_range_sizes(void)
{
	struct guest_memory mem;

	CHECK_EQ(guest_memory_layout(&mem, MiB(1)), -EINVAL);
	CHECK_EQ(guest_memory_layout(&mem, GiB(1) * 2048), -EINVAL);
	CHECK_EQ(guest_memory_layout(&mem, MiB(256) + 1), -EINVAL);
}

static void guest_ptr_checks_bounds(void)
{
	struct guest_memory mem;

	guest_memory_layout(&mem, MiB(3584));
	mem.region[0].host = (uint8_t *)0x10000000;   /* never dereferenced */
	mem.region[1].host = (uint8_t *)0x80000000;
	CHECK(guest_ptr(&mem, 0, 16) == (void *)0x10000000);
	CHECK(guest_ptr(&mem, LAYOUT_PCI_HOLE - 16, 16) != NULL);
	CHECK(guest_ptr(&mem, LAYOUT_PCI_HOLE - 16, 17) == NULL);
	CHECK(guest_ptr(&mem, LAYOUT_PCI_HOLE, 1) == NULL);
	CHECK(guest_ptr(&mem, LAYOUT_4G, 1) == (void *)0x80000000);
	CHECK(guest_ptr(&mem, LAYOUT_4G + MiB(512), 1) == NULL);
	CHECK(guest_ptr(&mem, UINT64_MAX - 1, 4) == NULL);
	CHECK(guest_ptr(&mem, 16, UINT64_MAX) == NULL);
}

static void e820_for_256m(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	struct guest_memory mem;
	int n;

	guest_memory_layout(&mem, MiB(256));
	n = e820_build(&mem, e, E820_MAX_ENTRIES);
	CHECK_EQ(n, 4);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].type, E820_RAM);
	CHECK_EQ(e[3].addr, MiB(1));
	CHECK_EQ(e[3].addr + e[3].size, MiB(256));
	CHECK_EQ(e820_ram(e, n), MiB(256) - (MiB(1) - LAYOUT_EBDA));
}

static void e820_for_3_5g_has_ram_above_4g(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	struct guest_memory mem;
	int n;

	guest_memory_layout(&mem, MiB(3584));
	n = e820_build(&mem, e, E820_MAX_ENTRIES);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[3].addr + e[3].size, LAYOUT_PCI_HOLE);
	CHECK_EQ(e[4].addr, LAYOUT_4G);
	CHECK_EQ(e[4].size, MiB(512));
	CHECK_EQ(e820_ram(e, n), MiB(3584) - (MiB(1) - LAYOUT_EBDA));
}

static void e820_is_sorted_and_disjoint(void)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	struct guest_memory mem;
	int n;

	guest_memory_layout(&mem, GiB(8));
	n = e820_build(&mem, e, E820_MAX_ENTRIES);
	CHECK(n > 1);
	for (int i = 1; i < n; i++)
		CHECK(e[i - 1].addr + e[i - 1].size <= e[i].addr);
}

static void e820_reports_lack_of_space(void)
{
	struct e820_entry e[2];
	struct guest_memory mem;

	guest_memory_layout(&mem, MiB(256));
	CHECK_EQ(e820_build(&mem, e, 2), -ENOSPC);
}

static void parse_size_accepts_suffixes_and_fractions(void)
{
	uint64_t v;

	CHECK_EQ(parse_size("512M", &v), 0);
	CHECK_EQ(v, MiB(512));
	CHECK_EQ(parse_size("3.5G", &v), 0);
	CHECK_EQ(v, MiB(3584));
	CHECK_EQ(parse_size("2GiB", &v), 0);
	CHECK_EQ(v, GiB(2));
	CHECK_EQ(parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(parse_size("1t", &v), 0);
	CHECK_EQ(v, GiB(1024));
}

static void parse_size_rejects_garbage(void)
{
	uint64_t v;

	CHECK_EQ(parse_size("", &v), -EINVAL);
	CHECK_EQ(parse_size("M", &v), -EINVAL);
	CHECK_EQ(parse_size("12Q", &v), -EINVAL);
	CHECK_EQ(parse_size("1.G", &v), -EINVAL);
	CHECK_EQ(parse_size("-5M", &v), -EINVAL);
	CHECK_EQ(parse_size("99999999999999999999", &v), -EINVAL);
	CHECK_EQ(parse_size("20000000T", &v), -EINVAL);
	CHECK_EQ(parse_size("1.1234567G", &v), -EINVAL);
}

/* KVM maps guest pages huge only where host and guest addresses agree modulo
 * 2 MiB, so each region's host mapping must start 2 MiB-aligned, however the
 * address space around it happens to be laid out. (Kernels from 6.7 align
 * large anonymous mappings themselves; Debian 12's 6.1 does not.) */
static void mapped_regions_are_2m_aligned(void)
{
	for (int i = 0; i < 4; i++) {
		/* A 4 KiB mapping shifts where the next one lands. */
		void *nudge = mmap(NULL, KiB(4), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct guest_memory mem;

		CHECK(nudge != MAP_FAILED);
		CHECK_EQ(guest_memory_layout(&mem, MiB(3074)), 0);
		CHECK_EQ(guest_memory_map(&mem), 0);
		for (unsigned r = 0; r < mem.nregions; r++) {
			uint8_t *host = mem.region[r].host;
			uint64_t size = mem.region[r].size;

			CHECK_EQ((uintptr_t)host % MiB(2), 0);
			host[0] = 1;
			host[size - 1] = 1;
		}
		guest_memory_unmap(&mem);
		munmap(nudge, KiB(4));
	}
}

int main(void)
{
	log_init("test_layout", LOG_LEVEL_ERROR);
	RUN(small_guest_has_one_region);
	RUN(large_guest_skips_pci_hole);
	RUN(exactly_3g_needs_no_high_region);
	RUN(rejects_out_of_range_sizes);
	RUN(guest_ptr_checks_bounds);
	RUN(mapped_regions_are_2m_aligned);
	RUN(e820_for_256m);
	RUN(e820_for_3_5g_has_ram_above_4g);
	RUN(e820_is_sorted_and_disjoint);
	RUN(e820_reports_lack_of_space);
	RUN(parse_size_accepts_suffixes_and_fractions);
	RUN(parse_size_rejects_garbage);
	return test_done();
}
