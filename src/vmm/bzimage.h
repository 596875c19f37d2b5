/*
 * Linux x86 bzImage loading, per the kernel's boot protocol
 * (Documentation/arch/x86/boot.rst), through the 64-bit entry point.
 *
 * Three steps, split so everything that can be wrong with the user's input is
 * found before a VM exists: bzimage_parse() validates the file's setup header,
 * bzimage_plan() places kernel, initrd and command line in a guest memory
 * layout (or says why they do not fit), and bzimage_load() copies them into
 * mapped guest memory and writes the zero page (boot_params) with the e820
 * map. The CPU state for the 64-bit entry is set up by the vCPU code from
 * the plan's entry point and zero page address.
 */
#ifndef CORRAL_VMM_BZIMAGE_H
#define CORRAL_VMM_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/guest_memory.h"

/* The setup header, at offset 0x1f1 of the file and of boot_params. */
struct setup_header {
	uint8_t  setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t  type_of_loader;
	uint8_t  loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t  ext_loader_ver;
	uint8_t  ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t  relocatable_kernel;
	uint8_t  min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup header layout");

#define SETUP_HEADER_OFFSET 0x1f1
#define BOOT_PROTOCOL_MIN   0x020c  /* 2.12: xloadflags tells us about the 64-bit entry */

struct bzimage {
	struct setup_header hdr;
	const uint8_t *setup;       /* the real-mode part, (setup_sects + 1) sectors */
	size_t setup_len;
	const uint8_t *kernel;      /* the protected-mode part, loaded at 1 MiB */
	size_t kernel_len;
};

struct boot_plan {
	uint64_t kernel_addr;
	uint64_t entry;             /* 64-bit entry point: kernel_addr + 0x200 */
	uint64_t zero_page;
	uint64_t cmdline_addr;
	size_t cmdline_len;         /* without the NUL */
	uint64_t initrd_addr;       /* 0 when there is no initrd */
	uint64_t initrd_len;
};

/* Validates `buf` as a bzImage we can boot; `name` is used in messages. */
int bzimage_parse(const uint8_t *buf, size_t len, const char *name, struct bzimage *img);

/* Places everything in `mem`'s layout; fails with a message if it cannot. */
int bzimage_plan(const struct bzimage *img, const struct guest_memory *mem,
		 uint64_t initrd_len, size_t cmdline_len, struct boot_plan *plan);

/* Copies kernel, initrd and command line into mapped guest memory and writes
 * the zero page; `rsdp` is the ACPI RSDP's address for boot_params. */
int bzimage_load(const struct bzimage *img, const struct boot_plan *plan,
		 const struct guest_memory *mem, const uint8_t *initrd,
		 const char *cmdline, uint64_t rsdp);

#endif
