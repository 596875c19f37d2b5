#include "common/guest_memory.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int guest_memory_layout(struct guest_memory *mem, uint64_t size)
{
	memset(mem, 0, sizeof(*mem));
	if (size < GUEST_MEMORY_MIN || size > GUEST_MEMORY_MAX || size % KiB(4))
		return -EINVAL;
	mem->total = size;
	mem->region[0] = (struct guest_region){ .gpa = 0, .size = MIN(size, GUEST_MEMORY_HOLE) };
	mem->nregions = 1;
	if (size > GUEST_MEMORY_HOLE) {
		mem->region[1] = (struct guest_region){
			.gpa = GUEST_MEMORY_HIGH, .size = size - GUEST_MEMORY_HOLE };
		mem->nregions = 2;
	}
	return 0;
}

uint64_t guest_memory_low_end(const struct guest_memory *mem)
{
	return mem->region[0].size;
}

/*
 * Anonymous memory at a 2 MiB-aligned address. KVM maps guest memory with
 * huge pages only where a guest-physical 2 MiB page lands on a host 2 MiB
 * page, and guest regions start 2 MiB-aligned; an unaligned mapping would
 * give every guest access a 4 KiB translation (QEMU aligns its RAM the same
 * way).
 */
static void *map_aligned(uint64_t size)
{
	const uint64_t align = MiB(2);
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return p;
	uint64_t head = -(uintptr_t)p & (align - 1);

	if (head)
		munmap(p, head);
	munmap(p + head + size, align - head);
	return p + head;
}

int guest_memory_map(struct guest_memory *mem)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		struct guest_region *r = &mem->region[i];
		void *p = map_aligned(r->size);

		if (p == MAP_FAILED) {
			int err = -errno;

			log_error("cannot map %llu MiB of guest memory: %s",
				  (unsigned long long)(r->size >> 20), strerror(errno));
			guest_memory_unmap(mem);
			return err;
		}
		/* Huge pages make guest page walks cheaper; the kernel may ignore this. */
		madvise(p, r->size, MADV_HUGEPAGE);
		r->host = p;
	}
	return 0;
}

void guest_memory_unmap(struct guest_memory *mem)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		if (mem->region[i].host)
			munmap(mem->region[i].host, mem->region[i].size);
		mem->region[i].host = NULL;
	}
}

void *guest_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->region[i];

		if (gpa >= r->gpa && range_within(gpa - r->gpa, len, r->size))
			return r->host ? r->host + (gpa - r->gpa) : NULL;
	}
	return NULL;
}
