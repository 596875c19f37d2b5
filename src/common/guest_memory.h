/*
 * Guest RAM: its layout and its mapping into the VMM.
 *
 * A guest of `size` bytes gets RAM from 0 up to the PCI hole at 3 GiB and the
 * rest from 4 GiB up. guest_memory_layout() computes that split (a pure
 * function the loader and the e820 builder use before any KVM call);
 * guest_memory_map() backs it with anonymous memory. guest_ptr() is the only
 * way the VMM turns a guest-physical address into a pointer: it checks the
 * whole range lies inside one RAM region, so data supplied by the guest can
 * never make the VMM read or write outside guest memory. It lives in common/
 * because device models reach guest memory (virtqueues) through it too.
 */
#ifndef CORRAL_COMMON_GUEST_MEMORY_H
#define CORRAL_COMMON_GUEST_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEMORY_MIN (64ull << 20)
#define GUEST_MEMORY_MAX (1ull << 40)
#define GUEST_MEMORY_MAX_REGIONS 2
#define GUEST_MEMORY_HOLE  0xc0000000ull   /* 3 GiB: RAM stops here for MMIO... */
#define GUEST_MEMORY_HIGH  0x100000000ull  /* ...and resumes at 4 GiB */

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;  /* NULL until mapped */
};

struct guest_memory {
	uint64_t total;
	unsigned nregions;
	struct guest_region region[GUEST_MEMORY_MAX_REGIONS];
};

/* Fills `mem` with the regions for `size` bytes of RAM; -EINVAL if size is
 * out of range or not a multiple of 4 KiB. Maps nothing. */
int guest_memory_layout(struct guest_memory *mem, uint64_t size);

/* RAM below 4 GiB (the first region's end). */
uint64_t guest_memory_low_end(const struct guest_memory *mem);

int guest_memory_map(struct guest_memory *mem);
void guest_memory_unmap(struct guest_memory *mem);

/* Host pointer to [gpa, gpa + len) if all of it is RAM in one region, else NULL. */
void *guest_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

#endif
