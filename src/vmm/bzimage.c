#include "vmm/bzimage.h"
#include "vmm/e820.h"
#include "vmm/layout.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

#define BOOT_FLAG_MAGIC   0xaa55
#define HDRS_MAGIC        0x53726448u     /* "HdrS" */
#define LOADFLAG_LOADED_HIGH   0x01
#define LOADFLAG_CAN_USE_HEAP  0x80
#define XLF_KERNEL_64     0x0001
#define ENTRY_64_OFFSET   0x200           /* boot.rst: "64-bit entry ... at 0x200" */
#define TYPE_OF_LOADER_UNKNOWN 0xff
#define VID_MODE_NORMAL   0xffff

/* Offsets in struct boot_params (arch/x86/include/uapi/asm/bootparam.h). */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_E820_ENTRIES   0x1e8
#define ZP_E820_TABLE     0x2d0
#define ZERO_PAGE_SIZE    0x1000

static int bzimage_check_magic(const uint8_t *buf, size_t len, const char *name)
{
	uint16_t boot_flag;
	uint32_t header;

	if (len < offsetof(struct setup_header, version) + SETUP_HEADER_OFFSET) {
		log_error("%s: not a bzImage: only %zu bytes, too short for a kernel", name, len);
		return -EINVAL;
	}
	memcpy(&boot_flag, buf + SETUP_HEADER_OFFSET + offsetof(struct setup_header, boot_flag),
	       sizeof(boot_flag));
	memcpy(&header, buf + SETUP_HEADER_OFFSET + offsetof(struct setup_header, header),
	       sizeof(header));
	if (boot_flag != BOOT_FLAG_MAGIC || header != HDRS_MAGIC) {
		log_error("%s: not a bzImage (no Linux boot sector signature and \"HdrS\" header)",
			  name);
		return -EINVAL;
	}
	if (len < SETUP_HEADER_OFFSET + sizeof(struct setup_header)) {
		log_error("%s: truncated bzImage: the setup header is cut off", name);
		return -EINVAL;
	}
	return 0;
}

static int bzimage_check_header(const struct setup_header *h, const char *name)
{
	if (h->version < BOOT_PROTOCOL_MIN) {
		log_error("%s: boot protocol %u.%02u is too old: 2.12 or later is needed",
			  name, h->version >> 8, h->version & 0xff);
		return -EINVAL;
	}
	if (!(h->xloadflags & XLF_KERNEL_64)) {
		log_error("%s: this bzImage has no 64-bit entry point (a 32-bit kernel?)", name);
		return -EINVAL;
	}
	if (!(h->loadflags & LOADFLAG_LOADED_HIGH)) {
		log_error("%s: an old zImage that loads below 1 MiB is not supported", name);
		return -EINVAL;
	}
	if (h->init_size == 0) {
		log_error("%s: invalid bzImage header: init_size is 0", name);
		return -EINVAL;
	}
	return 0;
}

int bzimage_parse(const uint8_t *buf, size_t len, const char *name, struct bzimage *img)
{
	unsigned setup_sects;
	uint64_t promised;
	int err;

	memset(img, 0, sizeof(*img));
	err = bzimage_check_magic(buf, len, name);
	if (err)
		return err;
	memcpy(&img->hdr, buf + SETUP_HEADER_OFFSET, sizeof(img->hdr));
	err = bzimage_check_header(&img->hdr, name);
	if (err)
		return err;

	/* boot.rst: "If this field is 0, the real value is 4." */
	setup_sects = img->hdr.setup_sects ? img->hdr.setup_sects : 4;
	img->setup = buf;
	img->setup_len = (setup_sects + 1) * 512;
	if (len <= img->setup_len) {
		log_error("%s: truncated bzImage: %zu bytes, the setup code alone needs %zu",
			  name, len, img->setup_len);
		return -EINVAL;
	}
	img->kernel = buf + img->setup_len;
	img->kernel_len = len - img->setup_len;

	/* syssize counts 16-byte paragraphs of the protected-mode kernel. */
	promised = (uint64_t)img->hdr.syssize * 16;
	if (img->kernel_len < promised) {
		log_error("%s: truncated bzImage: the header promises %llu bytes of kernel, "
			  "the file has %zu", name, (unsigned long long)promised, img->kernel_len);
		return -EINVAL;
	}
	if (!range_within(img->hdr.payload_offset, img->hdr.payload_length, img->kernel_len)) {
		log_error("%s: truncated or corrupt bzImage: the compressed kernel runs past "
			  "the end of the file", name);
		return -EINVAL;
	}
	return 0;
}

/* Where the kernel will decompress and run: from its load address up to its
 * preferred address plus init_size (boot.rst: init_size is "the amount of
 * contiguous memory the kernel needs starting from the kernel runtime start
 * address"). The initrd must stay clear of it. */
static uint64_t kernel_footprint_end(const struct bzimage *img, uint64_t kernel_addr)
{
	uint64_t loaded_end = kernel_addr + img->kernel_len;
	uint64_t runtime = MAX(kernel_addr, img->hdr.pref_address);

	return MAX(loaded_end, runtime + img->hdr.init_size);
}

static int plan_initrd(const struct bzimage *img, const struct guest_memory *mem,
		       uint64_t kernel_end, uint64_t len, struct boot_plan *plan)
{
	uint64_t limit = MIN((uint64_t)img->hdr.initrd_addr_max + 1, guest_memory_low_end(mem));
	uint64_t lowest = align_up(kernel_end, KiB(4));

	if (limit < lowest || limit - lowest < len) {
		log_error("initrd of %llu MiB does not fit in guest memory: with this kernel there "
			  "are %llu MiB free for it below %llu MiB; give the guest more memory",
			  (unsigned long long)(len >> 20),
			  (unsigned long long)(limit > lowest ? (limit - lowest) >> 20 : 0),
			  (unsigned long long)(limit >> 20));
		return -ENOSPC;
	}
	/* As high as possible, as boot.rst recommends, page aligned. */
	plan->initrd_addr = align_down(limit - len, KiB(4));
	plan->initrd_len = len;
	return 0;
}

int bzimage_plan(const struct bzimage *img, const struct guest_memory *mem,
		 uint64_t initrd_len, size_t cmdline_len, struct boot_plan *plan)
{
	uint64_t kernel_end;

	memset(plan, 0, sizeof(*plan));
	if (cmdline_len > img->hdr.cmdline_size || cmdline_len >= LAYOUT_CMDLINE_MAX) {
		log_error("kernel command line is %zu bytes; this kernel accepts at most %u",
			  cmdline_len, img->hdr.cmdline_size);
		return -E2BIG;
	}
	plan->kernel_addr = LAYOUT_HIGH_MEMORY;
	plan->entry = plan->kernel_addr + ENTRY_64_OFFSET;
	plan->zero_page = LAYOUT_ZERO_PAGE;
	plan->cmdline_addr = LAYOUT_CMDLINE;
	plan->cmdline_len = cmdline_len;

	kernel_end = kernel_footprint_end(img, plan->kernel_addr);
	if (kernel_end > guest_memory_low_end(mem)) {
		log_error("guest memory too small for this kernel: it needs at least %llu MiB "
			  "to decompress and run", (unsigned long long)(kernel_end >> 20) + 1);
		return -ENOSPC;
	}
	if (initrd_len)
		return plan_initrd(img, mem, kernel_end, initrd_len, plan);
	return 0;
}

static int write_zero_page(const struct bzimage *img, const struct boot_plan *plan,
			   const struct guest_memory *mem, uint64_t rsdp)
{
	uint8_t *zp = guest_ptr(mem, plan->zero_page, ZERO_PAGE_SIZE);
	struct e820_entry e820[E820_MAX_ENTRIES];
	struct setup_header hdr = img->hdr;
	int n;

	if (!zp)
		return -EFAULT;
	n = e820_build(mem, e820, ARRAY_SIZE(e820));
	if (n < 0)
		return n;

	hdr.vid_mode = VID_MODE_NORMAL;
	hdr.type_of_loader = TYPE_OF_LOADER_UNKNOWN;
	hdr.loadflags |= LOADFLAG_CAN_USE_HEAP;
	hdr.heap_end_ptr = 0xfe00;
	hdr.cmd_line_ptr = plan->cmdline_addr;
	hdr.ramdisk_image = plan->initrd_addr;
	hdr.ramdisk_size = plan->initrd_len;

	memset(zp, 0, ZERO_PAGE_SIZE);
	memcpy(zp + SETUP_HEADER_OFFSET, &hdr, sizeof(hdr));
	memcpy(zp + ZP_ACPI_RSDP_ADDR, &rsdp, sizeof(rsdp));
	zp[ZP_E820_ENTRIES] = n;
	memcpy(zp + ZP_E820_TABLE, e820, n * sizeof(e820[0]));
	return 0;
}

static int copy_to_guest(const struct guest_memory *mem, uint64_t gpa,
			 const void *src, uint64_t len, const char *what)
{
	void *dst = guest_ptr(mem, gpa, len);

	if (!dst) {
		log_error("%s does not fit in guest memory at 0x%llx", what,
			  (unsigned long long)gpa);
		return -EFAULT;
	}
	memcpy(dst, src, len);
	return 0;
}

int bzimage_load(const struct bzimage *img, const struct boot_plan *plan,
		 const struct guest_memory *mem, const uint8_t *initrd,
		 const char *cmdline, uint64_t rsdp)
{
	int err;

	err = copy_to_guest(mem, plan->kernel_addr, img->kernel, img->kernel_len, "kernel");
	if (!err)
		err = copy_to_guest(mem, plan->cmdline_addr, cmdline, plan->cmdline_len + 1,
				    "command line");
	if (!err && plan->initrd_len)
		err = copy_to_guest(mem, plan->initrd_addr, initrd, plan->initrd_len, "initrd");
	if (!err)
		err = write_zero_page(img, plan, mem, rsdp);
	return err;
}
