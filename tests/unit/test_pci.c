/*
 * Unit tests of the PCI bus, driven through the config ports and memory
 * accesses as a guest would, with a fake device that records the calls the
 * bus makes to it.
 */
#include "test.h"
#include "common/log.h"
#include "devices/pci.h"

#include <errno.h>
#include <string.h>

#define WINDOW_BASE 0xc0001000ull	/* not 64 KiB aligned, to see alignment */
#define WINDOW_SIZE 0x00100000ull

#define TEST_VENDOR 0x1af4
#define TEST_DEVICE 0x1042
#define TEST_CLASS  0x010000		/* mass storage, SCSI */

#define CONFIG_ENABLE 0x80000000u

struct bar_move {
	unsigned bar;
	uint64_t addr;
};

struct fake_dev {
	struct pci_device pci;
	struct bar_move moves[16];
	unsigned nmoves;
	unsigned last_bar, last_offset, last_size, accesses;
	uint8_t last_written[8];
	unsigned config_reads, config_writes;
	unsigned last_config_offset, last_config_size;
};

static void fake_bar_read(void *dev, unsigned bar, uint32_t offset, uint8_t *data, unsigned size)
{
	struct fake_dev *f = dev;

	f->accesses++;
	f->last_bar = bar;
	f->last_offset = offset;
	f->last_size = size;
	for (unsigned i = 0; i < size; i++)
		data[i] = offset + i;
}

static void fake_bar_write(void *dev, unsigned bar, uint32_t offset, const uint8_t *data,
			   unsigned size)
{
	struct fake_dev *f = dev;

	f->accesses++;
	f->last_bar = bar;
	f->last_offset = offset;
	f->last_size = size;
	memcpy(f->last_written, data, size);
}

static void fake_bar_moved(void *dev, unsigned bar, uint64_t addr)
{
	struct fake_dev *f = dev;

	if (f->nmoves < 16)
		f->moves[f->nmoves] = (struct bar_move){ bar, addr };
	f->nmoves++;
}

#define LIVE_BYTE 0x44	/* a config byte the fake keeps up to date on reads */

/* Refreshes LIVE_BYTE with a count of reads, as a device exposing live state
 * in a capability would. */
static void fake_config_read(void *dev, unsigned offset, unsigned size)
{
	struct fake_dev *f = dev;

	f->config_reads++;
	f->last_config_offset = offset;
	f->last_config_size = size;
	if (offset <= LIVE_BYTE && LIVE_BYTE < offset + size)
		f->pci.config[LIVE_BYTE] = f->config_reads;
}

static void fake_config_write(void *dev, unsigned offset, unsigned size)
{
	struct fake_dev *f = dev;

	f->config_writes++;
	f->last_config_offset = offset;
	f->last_config_size = size;
}

static const struct pci_device_ops fake_ops = {
	.bar_read = fake_bar_read,
	.bar_write = fake_bar_write,
	.bar_moved = fake_bar_moved,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
};

static struct pci_bus bus;
static struct fake_dev fdev;

/* A bus with one fake device in slot 1: BAR0 4 KiB, BAR2 64 KiB. */
static void setup(void)
{
	memset(&fdev, 0, sizeof(fdev));
	CHECK_EQ(pci_bus_init(&bus, WINDOW_BASE, WINDOW_SIZE), 0);
	pci_device_init(&fdev.pci, "fake", TEST_VENDOR, TEST_DEVICE, TEST_CLASS, 0x1af4, 0x0002,
			&fake_ops, &fdev);
	CHECK_EQ(pci_device_add_bar(&fdev.pci, 0, 0x1000), 0);
	CHECK_EQ(pci_device_add_bar(&fdev.pci, 2, 0x10000), 0);
	CHECK_EQ(pci_bus_add(&bus, &fdev.pci), 0);
	CHECK_EQ(fdev.pci.slot, 1);
}

static uint32_t port_read(uint16_t offset, unsigned size)
{
	uint8_t data[4];

	pci_config_io_ops.read(&bus, offset, data, size);
	return io_data_get(data, size);
}

static void port_write(uint16_t offset, unsigned size, uint32_t v)
{
	uint8_t data[4];

	io_data_put(data, size, v);
	pci_config_io_ops.write(&bus, offset, data, size);
}

static uint32_t config_address(unsigned busno, unsigned slot, unsigned fn, unsigned reg)
{
	return CONFIG_ENABLE | busno << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* A config read of `size` bytes at `reg` of bus 0, function 0, as Linux's
 * pci_conf1_read does it: the dword address, then the byte lanes. */
static uint32_t cfg_read(unsigned slot, unsigned reg, unsigned size)
{
	port_write(0, 4, config_address(0, slot, 0, reg));
	return port_read(4 + (reg & 3), size);
}

static void cfg_write(unsigned slot, unsigned reg, unsigned size, uint32_t v)
{
	port_write(0, 4, config_address(0, slot, 0, reg));
	port_write(4 + (reg & 3), size, v);
}

static uint32_t bar_reg(unsigned bar)
{
	return cfg_read(1, PCI_BAR0 + 4 * bar, 4);
}

static void config_address_round_trips_dword_accesses(void)
{
	setup();
	port_write(0, 4, 0x80001234);
	CHECK_EQ(port_read(0, 4), 0x80001234);
	port_write(0, 4, 0);
	CHECK_EQ(port_read(0, 4), 0);
	pci_bus_fini(&bus);
}

static void config_address_reserved_and_low_bits_read_zero(void)
{
	setup();
	port_write(0, 4, 0xff00ff07);
	CHECK_EQ(port_read(0, 4), 0x8000ff04);
	pci_bus_fini(&bus);
}

/* Linux's pci_check_type1() writes a byte to 0xcfb before testing the
 * address register with a dword: the byte must not land in it. */
static void narrow_accesses_do_not_reach_the_address_register(void)
{
	setup();
	port_write(0, 4, 0x80000800);
	port_write(3, 1, 0x01);
	port_write(2, 2, 0xabcd);
	port_write(0, 1, 0x55);
	CHECK_EQ(port_read(0, 4), 0x80000800);
	CHECK_EQ(port_read(0, 1), 0xff);
	CHECK_EQ(port_read(2, 2), 0xffff);
	CHECK_EQ(port_read(3, 1), 0xff);
	pci_bus_fini(&bus);
}

static void empty_slots_read_all_ones(void)
{
	setup();
	CHECK_EQ(cfg_read(2, PCI_VENDOR_ID, 4), 0xffffffff);
	CHECK_EQ(cfg_read(31, PCI_VENDOR_ID, 4), 0xffffffff);
	CHECK_EQ(cfg_read(31, PCI_HEADER_TYPE, 1), 0xff);
	pci_bus_fini(&bus);
}

static void other_functions_and_buses_read_all_ones_and_ignore_writes(void)
{
	setup();
	port_write(0, 4, config_address(0, 1, 1, PCI_VENDOR_ID));
	CHECK_EQ(port_read(4, 4), 0xffffffff);
	port_write(0, 4, config_address(1, 1, 0, PCI_VENDOR_ID));
	CHECK_EQ(port_read(4, 4), 0xffffffff);
	port_write(0, 4, config_address(1, 0, 0, PCI_VENDOR_ID));
	CHECK_EQ(port_read(4, 4), 0xffffffff);
	port_write(0, 4, config_address(0, 1, 7, PCI_INTERRUPT_LINE));
	port_write(4, 1, 0x0b);
	port_write(0, 4, config_address(1, 1, 0, PCI_INTERRUPT_LINE));
	port_write(4, 1, 0x0c);
	CHECK_EQ(cfg_read(1, PCI_INTERRUPT_LINE, 1), 0);
	pci_bus_fini(&bus);
}

static void data_port_needs_the_enable_bit(void)
{
	setup();
	port_write(0, 4, config_address(0, 1, 0, PCI_VENDOR_ID) & ~CONFIG_ENABLE);
	CHECK_EQ(port_read(4, 4), 0xffffffff);
	port_write(0, 4, config_address(0, 1, 0, PCI_INTERRUPT_LINE) & ~CONFIG_ENABLE);
	port_write(4, 1, 0x0b);
	CHECK_EQ(cfg_read(1, PCI_INTERRUPT_LINE, 1), 0);
	pci_bus_fini(&bus);
}

static void host_bridge_sits_in_slot_0(void)
{
	setup();
	CHECK_EQ(cfg_read(0, PCI_VENDOR_ID, 2), 0x1b36);
	CHECK_EQ(cfg_read(0, PCI_DEVICE_ID, 2), 0x0008);
	CHECK_EQ(cfg_read(0, PCI_CLASS_REVISION, 4), 0x06000000);
	CHECK_EQ(cfg_read(0, PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(cfg_read(0, PCI_BAR0, 4), 0);
	CHECK_EQ(cfg_read(0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	pci_bus_fini(&bus);
}

static void device_reports_its_ids_and_class(void)
{
	setup();
	CHECK_EQ(cfg_read(1, PCI_VENDOR_ID, 4), TEST_DEVICE << 16 | TEST_VENDOR);
	CHECK_EQ(cfg_read(1, PCI_CLASS_REVISION, 4), TEST_CLASS << 8);
	CHECK_EQ(cfg_read(1, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(cfg_read(1, PCI_SUBSYSTEM_ID, 2), 0x0002);
	CHECK_EQ(cfg_read(1, PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(cfg_read(1, PCI_COMMAND, 2), 0);
	CHECK_EQ(cfg_read(1, PCI_INTERRUPT_PIN, 1), 0);
	pci_bus_fini(&bus);
}

static void byte_and_word_lanes_reach_the_right_bytes(void)
{
	setup();
	CHECK_EQ(cfg_read(1, 0x00, 1), TEST_VENDOR & 0xff);
	CHECK_EQ(cfg_read(1, 0x01, 1), TEST_VENDOR >> 8);	/* 0xcfd */
	CHECK_EQ(cfg_read(1, 0x02, 2), TEST_DEVICE);		/* 0xcfe */
	CHECK_EQ(cfg_read(1, 0x03, 1), TEST_DEVICE >> 8);	/* 0xcff */
	CHECK_EQ(cfg_read(1, 0x01, 2), (TEST_DEVICE & 0xff) << 8 | TEST_VENDOR >> 8);
	CHECK_EQ(cfg_read(1, 0x0b, 1), TEST_CLASS >> 16);
	cfg_write(1, PCI_INTERRUPT_LINE, 1, 0x0a);
	CHECK_EQ(cfg_read(1, PCI_INTERRUPT_LINE, 4), 0x0a);
	cfg_write(1, PCI_COMMAND + 1, 1, PCI_COMMAND_INTX_DISABLE >> 8);	/* 0xcfd */
	CHECK_EQ(cfg_read(1, PCI_COMMAND, 2), PCI_COMMAND_INTX_DISABLE);
	pci_bus_fini(&bus);
}

/* The ioport bus trims accesses to the 8 ports, but a 4-byte access at
 * 0xcfd would still run past the data dword; so would one at 0xcfa across
 * both registers. */
static void accesses_crossing_a_register_are_dropped(void)
{
	setup();
	port_write(0, 4, config_address(0, 1, 0, PCI_INTERRUPT_LINE));
	CHECK_EQ(port_read(5, 4), 0xffffffff);
	CHECK_EQ(port_read(7, 2), 0xffff);
	CHECK_EQ(port_read(2, 4), 0xffffffff);
	port_write(7, 2, 0xffff);
	port_write(4, 0, 0xff);
	port_write(2, 4, 0x0b0b0b0b);
	CHECK_EQ(port_read(0, 4), config_address(0, 1, 0, PCI_INTERRUPT_LINE));
	CHECK_EQ(port_read(4, 4), 0);
	pci_bus_fini(&bus);
}

static void read_only_header_fields_ignore_writes(void)
{
	setup();
	cfg_write(1, PCI_VENDOR_ID, 4, 0x12345678);
	cfg_write(1, PCI_CLASS_REVISION, 4, 0xffffffff);
	cfg_write(1, 0x0c, 4, 0xffffffff);	/* cache line, latency, header type, BIST */
	cfg_write(1, PCI_SUBSYSTEM_VENDOR_ID, 4, 0);
	cfg_write(1, 0x30, 4, 0xffffffff);	/* expansion ROM */
	cfg_write(1, PCI_CAPABILITY_LIST, 1, 0x40);
	cfg_write(1, PCI_INTERRUPT_PIN, 1, 4);
	cfg_write(1, PCI_STATUS, 2, 0xffff);
	CHECK_EQ(cfg_read(1, PCI_VENDOR_ID, 4), TEST_DEVICE << 16 | TEST_VENDOR);
	CHECK_EQ(cfg_read(1, PCI_CLASS_REVISION, 4), TEST_CLASS << 8);
	CHECK_EQ(cfg_read(1, 0x0c, 4), 0);
	CHECK_EQ(cfg_read(1, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x0002 << 16 | 0x1af4);
	CHECK_EQ(cfg_read(1, 0x30, 4), 0);
	CHECK_EQ(cfg_read(1, PCI_CAPABILITY_LIST, 1), 0);
	CHECK_EQ(cfg_read(1, PCI_INTERRUPT_PIN, 1), 0);
	CHECK_EQ(cfg_read(1, PCI_STATUS, 2), 0);
	pci_bus_fini(&bus);
}

static void command_register_keeps_only_its_writable_bits(void)
{
	setup();
	cfg_write(1, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(cfg_read(1, PCI_COMMAND, 2),
		 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	cfg_write(1, PCI_COMMAND, 2, 0);
	CHECK_EQ(cfg_read(1, PCI_COMMAND, 2), 0);
	pci_bus_fini(&bus);
}

static void set_intx_fills_line_and_pin(void)
{
	setup();
	pci_device_set_intx(&fdev.pci, 11);
	CHECK_EQ(cfg_read(1, PCI_INTERRUPT_LINE, 2), 0x010b);
	pci_bus_fini(&bus);
}

static void bars_are_assigned_naturally_aligned_in_ascending_order(void)
{
	static struct fake_dev second;

	setup();
	memset(&second, 0, sizeof(second));
	pci_device_init(&second.pci, "second", TEST_VENDOR, TEST_DEVICE, TEST_CLASS, 0, 0,
			&fake_ops, &second);
	CHECK_EQ(pci_device_add_bar(&second.pci, 1, 0x4000), 0);
	CHECK_EQ(pci_bus_add(&bus, &second.pci), 0);
	CHECK_EQ(second.pci.slot, 2);
	CHECK_EQ(bar_reg(0), 0xc0001000);
	CHECK_EQ(bar_reg(1), 0);
	CHECK_EQ(bar_reg(2), 0xc0010000);
	CHECK_EQ(cfg_read(2, PCI_BAR0 + 4, 4), 0xc0020000);
	/* Decoding stays off until the guest turns it on. */
	CHECK_EQ(fdev.pci.bar_addr[0], 0);
	CHECK_EQ(fdev.nmoves, 0);
	pci_bus_fini(&bus);
}

/* Spec 6.2.5.1: write all ones, read back the size as the low zero bits. */
static void bar_sizing_reads_the_size_mask_and_restores(void)
{
	setup();
	cfg_write(1, PCI_BAR0 + 8, 4, 0xffffffff);
	CHECK_EQ(bar_reg(2), 0xffff0000);
	cfg_write(1, PCI_BAR0, 4, 0xffffffff);
	CHECK_EQ(bar_reg(0), 0xfffff000);
	cfg_write(1, PCI_BAR0 + 8, 4, 0xc0010000);
	cfg_write(1, PCI_BAR0, 4, 0xc0001000);
	CHECK_EQ(bar_reg(2), 0xc0010000);
	CHECK_EQ(bar_reg(0), 0xc0001000);
	CHECK_EQ(fdev.nmoves, 0);	/* decoding was off throughout */
	pci_bus_fini(&bus);
}

static void bar_low_bits_are_hardwired(void)
{
	setup();
	cfg_write(1, PCI_BAR0 + 8, 4, 0xd000ffff);
	CHECK_EQ(bar_reg(2), 0xd0000000);
	cfg_write(1, PCI_BAR0 + 8, 1, 0x0f);
	CHECK_EQ(bar_reg(2), 0xd0000000);
	pci_bus_fini(&bus);
}

static void unused_bars_read_zero_and_ignore_writes(void)
{
	setup();
	for (unsigned bar = 0; bar < PCI_NUM_BARS; bar++) {
		if (bar == 0 || bar == 2)
			continue;
		cfg_write(1, PCI_BAR0 + 4 * bar, 4, 0xffffffff);
		CHECK_EQ(bar_reg(bar), 0);
	}
	pci_bus_fini(&bus);
}

static void enabling_memory_decode_reports_each_bar(void)
{
	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(fdev.nmoves, 2);
	CHECK_EQ(fdev.moves[0].bar, 0);
	CHECK_EQ(fdev.moves[0].addr, 0xc0001000);
	CHECK_EQ(fdev.moves[1].bar, 2);
	CHECK_EQ(fdev.moves[1].addr, 0xc0010000);
	CHECK_EQ(fdev.pci.bar_addr[0], 0xc0001000);
	CHECK_EQ(fdev.pci.bar_addr[2], 0xc0010000);
	pci_bus_fini(&bus);
}

static void disabling_memory_decode_reports_address_zero(void)
{
	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	fdev.nmoves = 0;
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	CHECK_EQ(fdev.nmoves, 2);
	CHECK_EQ(fdev.moves[0].bar, 0);
	CHECK_EQ(fdev.moves[0].addr, 0);
	CHECK_EQ(fdev.moves[1].bar, 2);
	CHECK_EQ(fdev.moves[1].addr, 0);
	CHECK_EQ(fdev.pci.bar_addr[2], 0);
	pci_bus_fini(&bus);
}

static void command_writes_that_keep_decode_report_nothing(void)
{
	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	CHECK_EQ(fdev.nmoves, 0);
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	fdev.nmoves = 0;
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_write(1, PCI_COMMAND + 1, 1, PCI_COMMAND_INTX_DISABLE >> 8);
	CHECK_EQ(fdev.nmoves, 0);
	pci_bus_fini(&bus);
}

static void moving_a_decoding_bar_reports_the_new_address(void)
{
	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	fdev.nmoves = 0;
	cfg_write(1, PCI_BAR0 + 8, 4, 0xd0000000);
	CHECK_EQ(fdev.nmoves, 1);
	CHECK_EQ(fdev.moves[0].bar, 2);
	CHECK_EQ(fdev.moves[0].addr, 0xd0000000);
	cfg_write(1, PCI_BAR0 + 8, 4, 0xd0000000);	/* same place: no news */
	CHECK_EQ(fdev.nmoves, 1);
	pci_bus_fini(&bus);
}

static void moving_a_bar_with_decode_off_reports_on_enable(void)
{
	setup();
	cfg_write(1, PCI_BAR0, 4, 0xd0004000);
	CHECK_EQ(fdev.nmoves, 0);
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(fdev.nmoves, 2);
	CHECK_EQ(fdev.moves[0].bar, 0);
	CHECK_EQ(fdev.moves[0].addr, 0xd0004000);
	pci_bus_fini(&bus);
}

/* Sizing with decode on (Linux avoids it, a guest may not) moves the BAR
 * to the mask address and back. */
static void sizing_while_decoding_moves_the_bar_to_the_mask(void)
{
	uint8_t data[4];

	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	fdev.nmoves = 0;
	cfg_write(1, PCI_BAR0 + 8, 4, 0xffffffff);
	CHECK_EQ(fdev.nmoves, 1);
	CHECK_EQ(fdev.moves[0].addr, 0xffff0000);
	CHECK(pci_bus_mmio(&bus, 0xfffffffc, false, data, 4));
	CHECK_EQ(fdev.last_offset, 0xfffc);
	cfg_write(1, PCI_BAR0 + 8, 4, 0xc0010000);
	CHECK_EQ(fdev.nmoves, 2);
	CHECK_EQ(fdev.moves[1].addr, 0xc0010000);
	pci_bus_fini(&bus);
}

static void mmio_reaches_the_bar_at_its_offset(void)
{
	uint8_t data[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(pci_bus_mmio(&bus, 0xc0010000 + 0x1234, true, data, 8));
	CHECK_EQ(fdev.last_bar, 2);
	CHECK_EQ(fdev.last_offset, 0x1234);
	CHECK_EQ(fdev.last_size, 8);
	CHECK(memcmp(fdev.last_written, data, 8) == 0);
	CHECK(pci_bus_mmio(&bus, 0xc0001000 + 0x10, false, data, 2));
	CHECK_EQ(fdev.last_bar, 0);
	CHECK_EQ(fdev.last_offset, 0x10);
	CHECK_EQ(data[0], 0x10);
	CHECK_EQ(data[1], 0x11);
	pci_bus_fini(&bus);
}

static void mmio_must_lie_wholly_inside_a_bar(void)
{
	uint8_t data[4];

	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(pci_bus_mmio(&bus, 0xc0001ffc, false, data, 4));
	CHECK(!pci_bus_mmio(&bus, 0xc0001ffe, false, data, 4));
	CHECK(!pci_bus_mmio(&bus, 0xc0002000, false, data, 4));
	CHECK(!pci_bus_mmio(&bus, 0xc0000ffe, true, data, 4));
	CHECK(!pci_bus_mmio(&bus, 0xc001fffd, false, data, 4));
	CHECK_EQ(fdev.accesses, 1);
	pci_bus_fini(&bus);
}

static void mmio_is_unclaimed_while_decode_is_off(void)
{
	uint8_t data[4];

	setup();
	CHECK(!pci_bus_mmio(&bus, 0xc0001000, false, data, 4));
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(pci_bus_mmio(&bus, 0xc0001000, false, data, 4));
	cfg_write(1, PCI_COMMAND, 2, 0);
	CHECK(!pci_bus_mmio(&bus, 0xc0001000, true, data, 4));
	CHECK_EQ(fdev.accesses, 1);
	pci_bus_fini(&bus);
}

static void mmio_follows_a_moved_bar(void)
{
	uint8_t data[4];

	setup();
	cfg_write(1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	cfg_write(1, PCI_BAR0, 4, 0xd0000000);
	CHECK(!pci_bus_mmio(&bus, 0xc0001000, false, data, 4));
	CHECK(pci_bus_mmio(&bus, 0xd0000ff0, false, data, 4));
	CHECK_EQ(fdev.last_bar, 0);
	CHECK_EQ(fdev.last_offset, 0xff0);
	pci_bus_fini(&bus);
}

static void capabilities_are_linked_from_the_capability_pointer(void)
{
	uint8_t vendor5[5] = { PCI_CAP_ID_VNDR, 0xee, 5, 0xaa, 0xbb };
	uint8_t vendor8[8] = { PCI_CAP_ID_VNDR, 0xee, 8, 1, 2, 3, 4, 5 };

	setup();
	CHECK_EQ(cfg_read(1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	CHECK_EQ(pci_device_add_capability(&fdev.pci, vendor5, sizeof(vendor5)), 0x40);
	CHECK_EQ(pci_device_add_capability(&fdev.pci, vendor8, sizeof(vendor8)), 0x48);
	CHECK_EQ(cfg_read(1, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	CHECK_EQ(cfg_read(1, PCI_CAPABILITY_LIST, 1), 0x40);
	CHECK_EQ(cfg_read(1, 0x40, 4), 0xaa050000 | 0x48 << 8 | PCI_CAP_ID_VNDR);
	CHECK_EQ(fdev.pci.config[0x44], 0xbb);
	CHECK_EQ(fdev.pci.config[0x48], PCI_CAP_ID_VNDR);
	CHECK_EQ(fdev.pci.config[0x49], 0);
	CHECK_EQ(fdev.pci.config[0x4f], 5);
	pci_bus_fini(&bus);
}

static void capabilities_must_fit_in_config_space(void)
{
	uint8_t big[256] = { PCI_CAP_ID_VNDR };
	struct pci_device d;

	pci_device_init(&d, "d", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_capability(&d, big, 1), -EINVAL);
	CHECK_EQ(pci_device_add_capability(&d, big, 0xc1), -ENOSPC);
	CHECK_EQ(d.config[PCI_CAPABILITY_LIST], 0);
	CHECK_EQ(pci_device_add_capability(&d, big, 0xbe), 0x40);	/* ends at 0xfe */
	CHECK_EQ(pci_device_add_capability(&d, big, 2), -ENOSPC);
	CHECK_EQ(d.config[0x41], 0);
	pci_device_init(&d, "d", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_capability(&d, big, 0xc0), 0x40);	/* exactly to the end */
}

static void capability_bytes_are_read_only_unless_opened(void)
{
	uint8_t vendor[8] = { PCI_CAP_ID_VNDR, 0, 8, 0x12 };
	int off;

	setup();
	off = pci_device_add_capability(&fdev.pci, vendor, sizeof(vendor));
	CHECK_EQ(off, 0x40);
	cfg_write(1, off, 4, 0xffffffff);
	CHECK_EQ(fdev.pci.config[off + 1], 0);
	CHECK_EQ(fdev.pci.config[off + 3], 0x12);
	fdev.pci.wmask[off + 4] = 0x0f;
	cfg_write(1, off + 4, 1, 0xff);
	CHECK_EQ(fdev.pci.config[off + 4], 0x0f);
	CHECK_EQ(fdev.pci.config[off + 5], 0);
	pci_bus_fini(&bus);
}

static void config_callbacks_see_capability_accesses_only(void)
{
	uint8_t vendor[8] = { PCI_CAP_ID_VNDR, 0, 8 };

	setup();
	pci_device_add_capability(&fdev.pci, vendor, sizeof(vendor));
	cfg_read(1, PCI_VENDOR_ID, 4);
	cfg_write(1, PCI_COMMAND, 2, 0);
	CHECK_EQ(fdev.config_reads, 0);
	CHECK_EQ(fdev.config_writes, 0);
	/* The refresh lands before the bus copies the bytes out. */
	CHECK_EQ(cfg_read(1, LIVE_BYTE, 1), 1);
	CHECK_EQ(cfg_read(1, LIVE_BYTE, 4), 2);
	CHECK_EQ(fdev.last_config_offset, LIVE_BYTE);
	CHECK_EQ(fdev.last_config_size, 4);
	cfg_write(1, 0x46, 2, 0xffff);
	CHECK_EQ(fdev.config_writes, 1);
	CHECK_EQ(fdev.last_config_offset, 0x46);
	CHECK_EQ(fdev.last_config_size, 2);
	pci_bus_fini(&bus);
}

static void bus_fills_slots_then_reports_enospc(void)
{
	static struct pci_device many[PCI_MAX_DEVICES];

	setup();
	for (unsigned i = 2; i < PCI_MAX_DEVICES; i++) {
		pci_device_init(&many[i], "many", 1, 2, 3, 0, 0, NULL, NULL);
		CHECK_EQ(pci_bus_add(&bus, &many[i]), 0);
		CHECK_EQ(many[i].slot, i);
	}
	pci_device_init(&many[0], "extra", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_bus_add(&bus, &many[0]), -ENOSPC);
	CHECK_EQ(cfg_read(31, PCI_VENDOR_ID, 2), 1);
	pci_bus_fini(&bus);
}

static void bus_refuses_a_device_whose_bars_do_not_fit(void)
{
	struct pci_device big, small;

	setup();
	pci_device_init(&big, "big", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_bar(&big, 0, 0x1000), 0);
	CHECK_EQ(pci_device_add_bar(&big, 1, 0x100000), 0);
	CHECK_EQ(pci_bus_add(&bus, &big), -ENOSPC);
	CHECK_EQ(cfg_read(2, PCI_VENDOR_ID, 4), 0xffffffff);
	/* Nothing of the window was used up by the failed attempt. */
	pci_device_init(&small, "small", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_bar(&small, 0, 0x1000), 0);
	CHECK_EQ(pci_bus_add(&bus, &small), 0);
	CHECK_EQ(small.slot, 2);
	CHECK_EQ(cfg_read(2, PCI_BAR0, 4), 0xc0020000);
	pci_bus_fini(&bus);
}

static void bus_init_checks_the_window(void)
{
	struct pci_bus b;

	CHECK_EQ(pci_bus_init(&b, 0, 0x1000), -EINVAL);
	CHECK_EQ(pci_bus_init(&b, 0xc0000000, 0), -EINVAL);
	CHECK_EQ(pci_bus_init(&b, 0xf0000000, 0x20000000), -EINVAL);
	CHECK_EQ(pci_bus_init(&b, 0xf0000000, 0x10000000), 0);
	pci_bus_fini(&b);
}

static void add_bar_checks_size_and_index(void)
{
	struct pci_device d;

	pci_device_init(&d, "d", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_bar(&d, 0, 0x800), -EINVAL);
	CHECK_EQ(pci_device_add_bar(&d, 0, 0x3000), -EINVAL);
	CHECK_EQ(pci_device_add_bar(&d, PCI_NUM_BARS, 0x1000), -EINVAL);
	CHECK_EQ(pci_device_add_bar(&d, 5, 0x80000000), 0);
	CHECK_EQ(pci_device_add_bar(&d, 5, 0x1000), -EINVAL);
	CHECK_EQ(d.bar_size[5], 0x80000000);
}

int main(void)
{
	log_init("test_pci", LOG_LEVEL_SILENT);
	RUN(config_address_round_trips_dword_accesses);
	RUN(config_address_reserved_and_low_bits_read_zero);
	RUN(narrow_accesses_do_not_reach_the_address_register);
	RUN(empty_slots_read_all_ones);
	RUN(other_functions_and_buses_read_all_ones_and_ignore_writes);
	RUN(data_port_needs_the_enable_bit);
	RUN(host_bridge_sits_in_slot_0);
	RUN(device_reports_its_ids_and_class);
	RUN(byte_and_word_lanes_reach_the_right_bytes);
	RUN(accesses_crossing_a_register_are_dropped);
	RUN(read_only_header_fields_ignore_writes);
	RUN(command_register_keeps_only_its_writable_bits);
	RUN(set_intx_fills_line_and_pin);
	RUN(bars_are_assigned_naturally_aligned_in_ascending_order);
	RUN(bar_sizing_reads_the_size_mask_and_restores);
	RUN(bar_low_bits_are_hardwired);
	RUN(unused_bars_read_zero_and_ignore_writes);
	RUN(enabling_memory_decode_reports_each_bar);
	RUN(disabling_memory_decode_reports_address_zero);
	RUN(command_writes_that_keep_decode_report_nothing);
	RUN(moving_a_decoding_bar_reports_the_new_address);
	RUN(moving_a_bar_with_decode_off_reports_on_enable);
	RUN(sizing_while_decoding_moves_the_bar_to_the_mask);
	RUN(mmio_reaches_the_bar_at_its_offset);
	RUN(mmio_must_lie_wholly_inside_a_bar);
	RUN(mmio_is_unclaimed_while_decode_is_off);
	RUN(mmio_follows_a_moved_bar);
	RUN(capabilities_are_linked_from_the_capability_pointer);
	RUN(capabilities_must_fit_in_config_space);
	RUN(capability_bytes_are_read_only_unless_opened);
	RUN(config_callbacks_see_capability_accesses_only);
	RUN(bus_fills_slots_then_reports_enospc);
	RUN(bus_refuses_a_device_whose_bars_do_not_fit);
	RUN(bus_init_checks_the_window);
	RUN(add_bar_checks_size_and_index);
	return test_done();
}
