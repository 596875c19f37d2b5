/*
 * libFuzzer target for the bzImage loader: any file given as --kernel must
 * be rejected with a message or planned into guest memory without reading
 * or writing out of bounds.
 */
#include "vmm/bzimage.h"
#include "common/log.h"
#include "common/util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { MiB(64), MiB(256), MiB(3584) };
	struct guest_memory mem;
	struct boot_plan plan;
	struct bzimage img;

	log_init("fuzz_bzimage", LOG_LEVEL_SILENT);
	if (bzimage_parse(data, size, "fuzz", &img) < 0)
		return 0;
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		guest_memory_layout(&mem, sizes[i]);
		/* Take initrd and command line sizes from the input too. */
		bzimage_plan(&img, &mem, size > 8 ? data[size - 1] * MiB(1) : 0,
			     size > 8 ? data[size - 2] * 16u : 0, &plan);
	}
	return 0;
}
