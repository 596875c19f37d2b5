/* The bzImage loader: header validation, placement, and the zero page. */
#include "test.h"
#include "vmm/bzimage.h"
#include "vmm/e820.h"
#include "vmm/layout.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>

#define SETUP_SECTS 4
#define KERNEL_PART (64 * 1024)
#define IMAGE_LEN ((SETUP_SECTS + 1) * 512 + KERNEL_PART)

static uint8_t image[IMAGE_LEN];

/* A minimal but well-formed bzImage header, like Debian's 6.1 kernels. */
static struct setup_header *make_image(void)
{
	struct setup_header h = {
		.setup_sects = SETUP_SECTS,
		.syssize = KERNEL_PART / 16,
		.boot_flag = 0xaa55,
		.header = 0x53726448,
		.version = 0x020f,
		.loadflags = 0x01,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000,
		.relocatable_kernel = 1,
		.xloadflags = 0x7f,
		.cmdline_size = 2047,
		.payload_offset = 0x100,
		.payload_length = 0x1000,
		.pref_address = 0x1000000,
		.init_size = 0x3000000,
	};

	memset(image, 0, sizeof(image));
	for (size_t i = (SETUP_SECTS + 1) * 512; i < IMAGE_LEN; i++)
		image[i] = (uint8_t)i;
	memcpy(image + SETUP_HEADER_OFFSET, &h, sizeof(h));
	return (struct setup_header *)(image + SETUP_HEADER_OFFSET);
}

static int parse(size_t len)
{
	struct bzimage img;

	return bzimage_parse(image, len, "test", &img);
}

static void accepts_well_formed_image(void)
{
	struct bzimage img;

	make_image();
	CHECK_EQ(bzimage_parse(image, IMAGE_LEN, "test", &img), 0);
	CHECK_EQ(img.setup_len, (SETUP_SECTS + 1) * 512);
	CHECK_EQ(img.kernel_len, KERNEL_PART);
	CHECK(img.kernel == image + img.setup_len);
}

static void rejects_tiny_file(void)
{
	make_image();
	CHECK_EQ(parse(100), -EINVAL);
}

static void rejects_missing_magic(void)
{
	make_image()->header = 0x12345678;
	CHECK_EQ(parse(IMAGE_LEN), -EINVAL);
	make_image()->boot_flag = 0;
	CHECK_EQ(parse(IMAGE_LEN), -EINVAL);
}

static void rejects_old_protocol(void)
{
	make_image()->version = 0x020b;
	CHECK_EQ(parse(IMAGE_LEN), -EINVAL);
}

static void rejects_kernel_without_64bit_entry(void)
{
	make_image()->xloadflags = 0;
	CHECK_EQ(parse(IMAGE_LEN), -EINVAL);
}

static void rejects_truncated_kernel(void)
{
	make_image();
	CHECK_EQ(parse(IMAGE_LEN - 16), -EINVAL);
	CHECK_EQ(parse(4096), -EINVAL);
	CHECK_EQ(parse(SETUP_HEADER_OFFSET + 20), -EINVAL);
}

static void rejects_payload_beyond_file(void)
{
	make_image()->payload_length = KERNEL_PART;
	CHECK_EQ(parse(IMAGE_LEN), -EINVAL);
}

static void zero_setup_sects_means_four(void)
{
	struct bzimage img;

	make_image()->setup_sects = 0;
	CHECK_EQ(bzimage_parse(image, IMAGE_LEN, "test", &img), 0);
	CHECK_EQ(img.setup_len, 5 * 512);
}

/* Plans a boot of the image as make_image() (and the caller) left it. */
static void plan_with(uint64_t mem_size, uint64_t initrd_len, size_t cmdline_len,
		      struct boot_plan *plan, int *err)
{
	struct guest_memory mem;
	struct bzimage img;

	bzimage_parse(image, IMAGE_LEN, "test", &img);
	guest_memory_layout(&mem, mem_size);
	*err = bzimage_plan(&img, &mem, initrd_len, cmdline_len, plan);
}

static void rejects_command_line_longer_than_kernel_accepts(void)
{
	struct boot_plan plan;
	int err;

	make_image();
	plan_with(MiB(256), 0, 2047, &plan, &err);
	CHECK_EQ(err, 0);
	plan_with(MiB(256), 0, 2048, &plan, &err);
	CHECK_EQ(err, -E2BIG);
}

static void rejects_memory_too_small_for_kernel(void)
{
	struct boot_plan plan;
	int err;

	/* 16 MiB preferred address + 56 MiB init_size do not fit in 64 MiB. */
	make_image()->init_size = 0x3800000;
	plan_with(MiB(64), 0, 0, &plan, &err);
	CHECK_EQ(err, -ENOSPC);
}

static void places_initrd_at_top_of_low_memory(void)
{
	struct boot_plan plan;
	int err;

	make_image();
	plan_with(MiB(256), MiB(10) + 123, 10, &plan, &err);
	CHECK_EQ(err, 0);
	CHECK_EQ(plan.initrd_addr % 4096, 0);
	CHECK(plan.initrd_addr + plan.initrd_len <= MiB(256));
	CHECK(plan.initrd_addr + plan.initrd_len > MiB(256) - 4096);
	CHECK(plan.initrd_addr >= 0x1000000 + 0x3000000);
	CHECK_EQ(plan.entry, 0x100200);
}

static void keeps_initrd_below_initrd_addr_max(void)
{
	struct boot_plan plan;
	int err;

	make_image();
	plan_with(MiB(3584), MiB(20), 0, &plan, &err);
	CHECK_EQ(err, 0);
	CHECK(plan.initrd_addr + plan.initrd_len <= 0x80000000ull);
}

static void rejects_initrd_that_does_not_fit(void)
{
	struct boot_plan plan;
	int err;

	make_image();
	plan_with(MiB(256), MiB(200), 0, &plan, &err);
	CHECK_EQ(err, -ENOSPC);
	plan_with(MiB(256), MiB(300), 0, &plan, &err);
	CHECK_EQ(err, -ENOSPC);
}

static void load_writes_kernel_initrd_cmdline_and_zero_page(void)
{
	static const char cmdline[] = "console=ttyS0 quiet";
	static const uint8_t initrd[8192] = { 0x11, 0x22 };
	const uint64_t rsdp = 0xe0000;
	struct guest_memory mem;
	struct boot_plan plan;
	struct bzimage img;
	struct setup_header hdr;
	uint8_t *zp;

	make_image();
	CHECK_EQ(bzimage_parse(image, IMAGE_LEN, "test", &img), 0);
	CHECK_EQ(guest_memory_layout(&mem, MiB(128)), 0);
	CHECK_EQ(guest_memory_map(&mem), 0);
	CHECK_EQ(bzimage_plan(&img, &mem, sizeof(initrd), strlen(cmdline), &plan), 0);
	CHECK_EQ(bzimage_load(&img, &plan, &mem, initrd, cmdline, rsdp), 0);

	CHECK(!memcmp(guest_ptr(&mem, LAYOUT_HIGH_MEMORY, KERNEL_PART), img.kernel, KERNEL_PART));
	CHECK(!strcmp(guest_ptr(&mem, plan.cmdline_addr, sizeof(cmdline)), cmdline));
	CHECK(!memcmp(guest_ptr(&mem, plan.initrd_addr, sizeof(initrd)), initrd, sizeof(initrd)));

	zp = guest_ptr(&mem, plan.zero_page, 4096);
	memcpy(&hdr, zp + SETUP_HEADER_OFFSET, sizeof(hdr));
	CHECK_EQ(hdr.cmd_line_ptr, plan.cmdline_addr);
	CHECK_EQ(hdr.ramdisk_image, plan.initrd_addr);
	CHECK_EQ(hdr.ramdisk_size, sizeof(initrd));
	CHECK_EQ(hdr.type_of_loader, 0xff);
	CHECK_EQ(hdr.header, 0x53726448);
	CHECK_EQ(*(uint64_t *)(zp + 0x070), rsdp);
	CHECK_EQ(zp[0x1e8], 4);
	guest_memory_unmap(&mem);
}

int main(void)
{
	log_init("test_bzimage", LOG_LEVEL_ERROR);
	RUN(accepts_well_formed_image);
	RUN(rejects_tiny_file);
	RUN(rejects_missing_magic);
	RUN(rejects_old_protocol);
	RUN(rejects_kernel_without_64bit_entry);
	RUN(rejects_truncated_kernel);
	RUN(rejects_payload_beyond_file);
	RUN(zero_setup_sects_means_four);
	RUN(rejects_command_line_longer_than_kernel_accepts);
	RUN(rejects_memory_too_small_for_kernel);
	RUN(places_initrd_at_top_of_low_memory);
	RUN(keeps_initrd_below_initrd_addr_max);
	RUN(rejects_initrd_that_does_not_fit);
	RUN(load_writes_kernel_initrd_cmdline_and_zero_page);
	return test_done();
}
