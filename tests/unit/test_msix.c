/*
 * Unit tests of MSI-X: a device on a real PCI bus forwards its BAR and
 * config writes to the MSI-X module, the guest's side is driven through the
 * config ports and pci_bus_mmio(), and the host is fake_host, whose eventfds
 * show which vectors fired and which masks as KVM does: a masked source's
 * writes stay in its eventfd, and fire once when it is unmasked.
 */
#include "test.h"
#include "fake_host.h"
#include "common/log.h"
#include "devices/msix.h"
#include "devices/pci.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#define WINDOW_BASE 0xc0000000ull
#define MSIX_BAR    2
#define BAR_SIZE    0x4000
#define TABLE_OFF   0x2000
#define PBA_OFF     0x3000
#define NVEC        4

#define CONTROL_ENABLE  0x8000
#define CONTROL_MASKALL 0x4000

/* What a device using MSI-X does: forward the table and PBA ranges of its
 * BAR and config writes to the module. */
struct test_dev {
	struct pci_device pci;
	struct msix msix;
};

static void dev_bar_read(void *dev, unsigned bar, uint32_t offset, uint8_t *data, unsigned size)
{
	struct test_dev *t = dev;

	(void)bar;
	if (offset >= PBA_OFF)
		msix_pba_read(&t->msix, offset - PBA_OFF, data, size);
	else if (offset >= TABLE_OFF)
		msix_table_read(&t->msix, offset - TABLE_OFF, data, size);
	else
		memset(data, 0, size);
}

static void dev_bar_write(void *dev, unsigned bar, uint32_t offset, const uint8_t *data,
			  unsigned size)
{
	struct test_dev *t = dev;

	(void)bar;
	if (offset >= TABLE_OFF && offset < PBA_OFF)
		msix_table_write(&t->msix, offset - TABLE_OFF, data, size);
}

static void dev_config_write(void *dev, unsigned offset, unsigned size)
{
	struct test_dev *t = dev;

	msix_config_written(&t->msix, offset, size);
}

static const struct pci_device_ops dev_ops = {
	.bar_read = dev_bar_read,
	.bar_write = dev_bar_write,
	.config_write = dev_config_write,
};

static struct fake_host fh;
static struct pci_bus bus;
static struct test_dev tdev;

/* The BAR's guest-physical address once decoding is on. */
static uint64_t bar_base;

static void cfg_write(unsigned reg, unsigned size, uint32_t v)
{
	uint8_t data[4];

	io_data_put(data, 4, 0x80000000u | tdev.pci.slot << 11 | (reg & 0xfc));
	pci_config_io_ops.write(&bus, 0, data, 4);
	io_data_put(data, size, v);
	pci_config_io_ops.write(&bus, 4 + (reg & 3), data, size);
}

static uint32_t cfg_read(unsigned reg, unsigned size)
{
	uint8_t data[4];

	io_data_put(data, 4, 0x80000000u | tdev.pci.slot << 11 | (reg & 0xfc));
	pci_config_io_ops.write(&bus, 0, data, 4);
	pci_config_io_ops.read(&bus, 4 + (reg & 3), data, size);
	return io_data_get(data, size);
}

static uint64_t mmio_read(uint32_t offset, unsigned size)
{
	uint8_t data[8];
	uint64_t v = 0;

	CHECK(pci_bus_mmio(&bus, bar_base + offset, false, data, size));
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static void mmio_write(uint32_t offset, unsigned size, uint64_t v)
{
	uint8_t data[8];

	for (unsigned i = 0; i < size; i++)
		data[i] = v >> (8 * i);
	CHECK(pci_bus_mmio(&bus, bar_base + offset, true, data, size));
}

static uint32_t entry(unsigned v, unsigned dword)
{
	return TABLE_OFF + v * MSIX_ENTRY_SIZE + dword * 4;
}

static void setup_vectors(unsigned nvec, uint32_t pba_off)
{
	CHECK_EQ(fake_host_init(&fh, 0), 0);
	CHECK_EQ(pci_bus_init(&bus, WINDOW_BASE, 0x100000), 0);
	memset(&tdev, 0, sizeof(tdev));
	pci_device_init(&tdev.pci, "msix-test", 0x1af4, 0x1041, 0x020000, 0x1af4, 1, &dev_ops,
			&tdev);
	CHECK_EQ(pci_device_add_bar(&tdev.pci, MSIX_BAR, BAR_SIZE), 0);
	CHECK_EQ(msix_init(&tdev.msix, &tdev.pci, MSIX_BAR, nvec, TABLE_OFF, pba_off, &fh.host), 0);
	CHECK_EQ(pci_bus_add(&bus, &tdev.pci), 0);
	cfg_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	bar_base = tdev.pci.bar_addr[MSIX_BAR];
	CHECK(bar_base != 0);
}

static void setup(void)
{
	setup_vectors(NVEC, PBA_OFF);
}

static void teardown(void)
{
	msix_fini(&tdev.msix);
	pci_bus_fini(&bus);
	fake_host_fini(&fh);
}

static unsigned control_reg(void)
{
	return tdev.msix.cap + 2;
}

static void set_control(uint16_t bits)
{
	cfg_write(control_reg(), 2, bits);
}

static void unmask(unsigned v)
{
	mmio_write(entry(v, 3), 4, 0);
}

static void mask(unsigned v)
{
	mmio_write(entry(v, 3), 4, 1);
}

static uint64_t fired(unsigned v)
{
	return fake_host_msi_fired(&fh, tdev.msix.vec[v].handle);
}

static bool host_masked(unsigned v)
{
	return fh.msi[tdev.msix.vec[v].handle].masked;
}

/* What vhost would do with the vector's eventfd. */
static void write_vector_fd(unsigned v)
{
	uint64_t one = 1;

	CHECK_EQ(write(msix_vector_fd(&tdev.msix, v), &one, sizeof(one)), sizeof(one));
}

static void capability_describes_table_and_pba(void)
{
	unsigned cap;

	setup();
	cap = cfg_read(PCI_CAPABILITY_LIST, 1);
	CHECK_EQ(cap, tdev.msix.cap);
	CHECK(cfg_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	CHECK_EQ(cfg_read(cap, 1), PCI_CAP_ID_MSIX);
	CHECK_EQ(cfg_read(cap + 1, 1), 0);
	CHECK_EQ(cfg_read(cap + 2, 2), NVEC - 1);
	CHECK_EQ(cfg_read(cap + 4, 4), TABLE_OFF | MSIX_BAR);
	CHECK_EQ(cfg_read(cap + 8, 4), PBA_OFF | MSIX_BAR);
	teardown();
}

static void only_enable_and_function_mask_are_writable(void)
{
	unsigned cap;

	setup();
	cap = tdev.msix.cap;
	cfg_write(cap, 4, 0xffffffff);
	CHECK_EQ(cfg_read(cap, 4), (uint32_t)(CONTROL_ENABLE | CONTROL_MASKALL | (NVEC - 1)) << 16 |
		 PCI_CAP_ID_MSIX);
	cfg_write(cap + 4, 4, 0);
	cfg_write(cap + 8, 4, 0xffffffff);
	CHECK_EQ(cfg_read(cap + 4, 4), TABLE_OFF | MSIX_BAR);
	CHECK_EQ(cfg_read(cap + 8, 4), PBA_OFF | MSIX_BAR);
	teardown();
}

static void enabled_follows_the_enable_bit(void)
{
	setup();
	CHECK(!msix_enabled(&tdev.msix));
	set_control(CONTROL_ENABLE);
	CHECK(msix_enabled(&tdev.msix));
	cfg_write(control_reg() + 1, 1, 0);	/* a byte write reaches it too */
	CHECK(!msix_enabled(&tdev.msix));
	teardown();
}

static void every_vector_gets_its_own_source_and_starts_masked(void)
{
	setup();
	CHECK_EQ(fh.nmsi, NVEC);
	for (unsigned v = 0; v < NVEC; v++) {
		CHECK_EQ(tdev.msix.vec[v].handle, v);
		CHECK_EQ(msix_vector_fd(&tdev.msix, v), fh.msi[v].fd);
		CHECK_EQ(mmio_read(entry(v, 3), 4), 1);
		CHECK(host_masked(v));
	}
	CHECK_EQ(msix_vector_fd(&tdev.msix, NVEC), -1);
	CHECK_EQ(msix_vector_fd(&tdev.msix, 100000), -1);
	CHECK_EQ(fh.route_calls, 0);
	CHECK_EQ(fh.mask_calls, 0);	/* the host's sources start masked */
	teardown();
}

static void table_entries_hold_what_the_guest_wrote(void)
{
	setup();
	mmio_write(entry(2, 0), 4, 0xfee01000);
	mmio_write(entry(2, 1), 4, 0x12345678);
	mmio_write(entry(2, 2), 4, 0x4041);
	CHECK_EQ(mmio_read(entry(2, 0), 4), 0xfee01000);
	CHECK_EQ(mmio_read(entry(2, 1), 4), 0x12345678);
	CHECK_EQ(mmio_read(entry(2, 2), 4), 0x4041);
	CHECK_EQ(mmio_read(entry(1, 0), 4), 0);
	CHECK_EQ(mmio_read(entry(3, 2), 4), 0);
	teardown();
}

static void reserved_vector_control_bits_read_zero(void)
{
	setup();
	mmio_write(entry(0, 3), 4, 0xfffffffe);
	CHECK_EQ(mmio_read(entry(0, 3), 4), 0);
	mmio_write(entry(0, 3), 4, 0xffffffff);
	CHECK_EQ(mmio_read(entry(0, 3), 4), 1);
	teardown();
}

static void writing_an_entry_routes_its_source(void)
{
	setup();
	mmio_write(entry(1, 0), 4, 0xfee02000);
	CHECK_EQ(fh.msi[1].routes, 1);
	CHECK_EQ(fh.msi[1].addr, 0xfee02000);
	mmio_write(entry(1, 2), 4, 0x31);
	CHECK_EQ(fh.msi[1].routes, 2);
	CHECK_EQ(fh.msi[1].data, 0x31);
	mmio_write(entry(1, 1), 4, 0x1);
	CHECK_EQ(fh.msi[1].addr, 0x1fee02000);
	CHECK_EQ(fh.msi[0].routes, 0);
	CHECK_EQ(fh.msi[2].routes, 0);
	teardown();
}

static void rewriting_an_unchanged_entry_does_not_reroute(void)
{
	setup();
	mmio_write(entry(0, 0), 4, 0xfee00000);
	mmio_write(entry(0, 2), 4, 0x22);
	CHECK_EQ(fh.route_calls, 2);
	mmio_write(entry(0, 0), 4, 0xfee00000);
	mmio_write(entry(0, 1), 4, 0);
	mmio_write(entry(0, 2), 4, 0x22);
	unmask(0);
	mask(0);
	CHECK_EQ(fh.route_calls, 2);
	teardown();
}

static void qword_accesses_cover_two_dwords_and_route_once(void)
{
	setup();
	mmio_write(entry(3, 0), 8, 0x00000001fee03000ull);
	CHECK_EQ(fh.msi[3].routes, 1);
	CHECK_EQ(fh.msi[3].addr, 0x1fee03000ull);
	mmio_write(entry(3, 2), 8, 0x0000000000000055ull);	/* data, and unmask */
	CHECK_EQ(fh.msi[3].routes, 2);
	CHECK_EQ(fh.msi[3].data, 0x55);
	CHECK_EQ(mmio_read(entry(3, 0), 8), 0x00000001fee03000ull);
	CHECK_EQ(mmio_read(entry(3, 2), 8), 0x55);
	CHECK_EQ(mmio_read(entry(3, 3), 4), 0);
	teardown();
}

/* PCI 3.0 6.8.2: only aligned dwords and qwords are defined. */
static void odd_table_accesses_read_all_ones_and_write_nothing(void)
{
	setup();
	mmio_write(entry(0, 2), 4, 0x1234);
	CHECK_EQ(mmio_read(entry(0, 2), 2), 0xffff);
	CHECK_EQ(mmio_read(entry(0, 2), 1), 0xff);
	CHECK_EQ(mmio_read(entry(0, 1) + 2, 4), 0xffffffff);
	CHECK_EQ(mmio_read(entry(0, 1), 8), 0xffffffffffffffffull);	/* qword not aligned */
	mmio_write(entry(0, 2), 2, 0xbeef);
	mmio_write(entry(0, 2), 1, 0xef);
	mmio_write(entry(0, 1) + 2, 4, 0xffffffff);
	mmio_write(entry(0, 1), 8, 0xffffffffffffffffull);
	CHECK_EQ(mmio_read(entry(0, 2), 4), 0x1234);
	CHECK_EQ(mmio_read(entry(0, 1), 4), 0);
	CHECK_EQ(fh.route_calls, 1);
	teardown();
}

static void accesses_past_the_table_are_ignored(void)
{
	uint8_t data[8] = { 0 };

	setup();
	msix_table_write(&tdev.msix, NVEC * MSIX_ENTRY_SIZE, data, 4);
	msix_table_read(&tdev.msix, NVEC * MSIX_ENTRY_SIZE, data, 4);
	CHECK_EQ(io_data_get(data, 4), 0xffffffff);
	msix_table_read(&tdev.msix, NVEC * MSIX_ENTRY_SIZE - 4, data, 8);
	CHECK_EQ(io_data_get(data, 4), 0xffffffff);
	msix_pba_read(&tdev.msix, msix_pba_size(NVEC), data, 4);
	CHECK_EQ(io_data_get(data, 4), 0xffffffff);
	CHECK_EQ(fh.route_calls, 0);
	teardown();
}

static void unmasked_vector_fires_at_once(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	unmask(1);
	msix_notify(&tdev.msix, 1);
	CHECK_EQ(fired(1), 1);
	msix_notify(&tdev.msix, 1);
	msix_notify(&tdev.msix, 1);
	CHECK_EQ(fired(1), 2);
	CHECK_EQ(fired(0), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 8), 0);
	teardown();
}

static void masked_vector_is_pending_until_unmasked(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	msix_notify(&tdev.msix, 2);
	msix_notify(&tdev.msix, 2);
	CHECK_EQ(fired(2), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 2);
	unmask(2);
	CHECK_EQ(fired(2), 1);	/* both notifies were held: one message */
	CHECK_EQ(mmio_read(PBA_OFF, 4), 0);
	unmask(2);
	CHECK_EQ(fired(2), 0);
	teardown();
}

static void masking_again_holds_new_notifications(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	unmask(0);
	mask(0);
	msix_notify(&tdev.msix, 0);
	CHECK_EQ(fired(0), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1);
	unmask(0);
	CHECK_EQ(fired(0), 1);
	teardown();
}

static void function_mask_holds_every_vector(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	unmask(0);
	unmask(3);
	set_control(CONTROL_ENABLE | CONTROL_MASKALL);
	msix_notify(&tdev.msix, 0);
	msix_notify(&tdev.msix, 3);
	CHECK_EQ(fired(0), 0);
	CHECK_EQ(fired(3), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 0 | 1u << 3);
	/* Unmasking an entry does not beat the function mask. */
	unmask(3);
	CHECK_EQ(fired(3), 0);
	set_control(CONTROL_ENABLE);
	CHECK_EQ(fired(0), 1);
	CHECK_EQ(fired(3), 1);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 0);
	teardown();
}

static void function_mask_keeps_masked_entries_pending(void)
{
	setup();
	set_control(CONTROL_ENABLE | CONTROL_MASKALL);
	msix_notify(&tdev.msix, 1);
	set_control(CONTROL_ENABLE);
	CHECK_EQ(fired(1), 0);	/* its own entry is still masked */
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 1);
	teardown();
}

static void disabled_msix_keeps_notifications_pending(void)
{
	setup();
	unmask(1);
	msix_notify(&tdev.msix, 1);
	CHECK_EQ(fired(1), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 1);
	set_control(CONTROL_ENABLE);
	CHECK_EQ(fired(1), 1);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 0);
	set_control(0);
	msix_notify(&tdev.msix, 1);
	CHECK_EQ(fired(1), 0);
	teardown();
}

static void out_of_range_vectors_are_ignored(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	for (unsigned v = 0; v < NVEC; v++)
		unmask(v);
	msix_notify(&tdev.msix, NVEC);
	msix_notify(&tdev.msix, 100000);
	for (unsigned v = 0; v < NVEC; v++)
		CHECK_EQ(fired(v), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 8), 0);
	teardown();
}

/* The host is told when a vector's mask changes, not on every table or
 * control write. */
static void host_mask_follows_mask_changes_only(void)
{
	setup();
	set_control(CONTROL_ENABLE);		/* every entry still masked */
	mmio_write(entry(1, 0), 4, 0xfee00000);
	mask(1);
	CHECK_EQ(fh.mask_calls, 0);
	unmask(1);
	CHECK_EQ(fh.mask_calls, 1);
	CHECK(!host_masked(1));
	mmio_write(entry(1, 2), 4, 0x41);
	unmask(1);
	mmio_write(entry(1, 2), 8, 0x42);	/* data and control, still unmasked */
	CHECK_EQ(fh.mask_calls, 1);
	set_control(CONTROL_ENABLE | CONTROL_MASKALL);
	CHECK_EQ(fh.mask_calls, 2);		/* only vector 1 was unmasked */
	CHECK(host_masked(1));
	set_control(CONTROL_ENABLE | CONTROL_MASKALL);
	set_control(0);
	CHECK_EQ(fh.mask_calls, 2);
	set_control(CONTROL_ENABLE);
	CHECK_EQ(fh.mask_calls, 3);
	mask(1);
	CHECK_EQ(fh.mask_calls, 4);
	for (unsigned v = 0; v < NVEC; v++)
		CHECK(host_masked(v));
	teardown();
}

/* vhost writes the vector's eventfd without asking us; the mask holds it
 * back all the same, and the PBA shows it. */
static void writes_from_outside_are_masked_too(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	write_vector_fd(2);
	write_vector_fd(2);
	CHECK_EQ(fired(2), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 2);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 2);	/* reading the PBA takes nothing */
	unmask(2);
	CHECK_EQ(fired(2), 1);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 0);
	write_vector_fd(2);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 0);		/* unmasked: delivered, not pending */
	CHECK_EQ(fired(2), 1);
	set_control(CONTROL_ENABLE | CONTROL_MASKALL);
	write_vector_fd(2);
	CHECK_EQ(fired(2), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 2);
	set_control(CONTROL_ENABLE);
	CHECK_EQ(fired(2), 1);
	teardown();
}

/* If the host cannot unmask, the vector stays masked (and pending) as the
 * host has it, and the next write to the entry tries again. */
static void failed_unmask_keeps_the_vector_masked_until_retried(void)
{
	setup();
	set_control(CONTROL_ENABLE);
	msix_notify(&tdev.msix, 3);
	fh.fail_msi_mask = -ENOMEM;
	unmask(3);
	CHECK(host_masked(3));
	CHECK_EQ(fired(3), 0);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 1u << 3);
	fh.fail_msi_mask = 0;
	unmask(3);
	CHECK(!host_masked(3));
	CHECK_EQ(fired(3), 1);
	CHECK_EQ(mmio_read(PBA_OFF, 4), 0);
	teardown();
}

static uint32_t pba_dword(uint32_t offset, unsigned size, unsigned which)
{
	uint8_t data[8];

	msix_pba_read(&tdev.msix, offset, data, size);
	return io_data_get(data + 4 * which, size < 4 ? size : 4);
}

/* 70 vectors: the PBA is two qwords, bit n of the array for vector n. */
static void pba_reads_as_dwords_and_qwords(void)
{
	setup_vectors(70, TABLE_OFF + msix_table_size(70));
	CHECK_EQ(msix_pba_size(70), 16);
	msix_notify(&tdev.msix, 0);
	msix_notify(&tdev.msix, 33);
	msix_notify(&tdev.msix, 69);
	CHECK_EQ(pba_dword(0, 8, 0), 1);
	CHECK_EQ(pba_dword(0, 8, 1), 1u << 1);
	CHECK_EQ(pba_dword(4, 4, 0), 1u << 1);
	CHECK_EQ(pba_dword(8, 8, 0), 1u << 5);
	CHECK_EQ(pba_dword(8, 8, 1), 0);
	CHECK_EQ(pba_dword(12, 4, 0), 0);
	CHECK_EQ(pba_dword(2, 4, 0), 0xffffffff);	/* misaligned */
	CHECK_EQ(pba_dword(4, 8, 0), 0xffffffff);
	CHECK_EQ(pba_dword(8, 2, 0), 0xffff);
	teardown();
}

static void init_rejects_bad_layouts(void)
{
	struct pci_device pci;
	struct msix m;
	int before;

	CHECK_EQ(fake_host_init(&fh, 0), 0);
	pci_device_init(&pci, "bad", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_bar(&pci, 0, 0x1000), 0);
	CHECK_EQ(msix_init(&m, &pci, 1, 4, 0, 0x800, &fh.host), -EINVAL);	/* no BAR 1 */
	CHECK_EQ(msix_init(&m, &pci, 6, 4, 0, 0x800, &fh.host), -EINVAL);
	CHECK_EQ(msix_init(&m, &pci, 0, 0, 0, 0x800, &fh.host), -EINVAL);
	CHECK_EQ(msix_init(&m, &pci, 0, MSIX_MAX_VECTORS + 1, 0, 0x800, &fh.host), -EINVAL);
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 4, 0x800, &fh.host), -EINVAL);	/* misaligned */
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 0, 0x804, &fh.host), -EINVAL);
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 0, 0x38, &fh.host), -EINVAL);	/* overlap */
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 0xfc8, 0x800, &fh.host), -EINVAL);	/* past end */
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 0, 0xff8, &fh.host), 0);	/* PBA exactly at the end */
	msix_fini(&m);
	before = fh.nmsi;
	CHECK_EQ(msix_init(&m, &pci, 0, 255, 0, 0xff8, &fh.host), -EINVAL);
	CHECK_EQ(fh.nmsi, before);
	fake_host_fini(&fh);
}

static void init_fails_cleanly_when_the_host_has_no_sources(void)
{
	struct pci_device pci;
	struct msix m;

	CHECK_EQ(fake_host_init(&fh, 0), 0);
	fh.fail_msi_alloc = -EMFILE;
	pci_device_init(&pci, "nosrc", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_bar(&pci, 0, 0x1000), 0);
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 0, 0x800, &fh.host), -EMFILE);
	CHECK_EQ(pci.config[PCI_CAPABILITY_LIST], 0);
	msix_fini(&m);	/* harmless after a failed init */
	fake_host_fini(&fh);
}

/* Masking is the host's job; without it MSI-X cannot work. */
static void init_needs_a_host_that_masks(void)
{
	struct pci_device pci;
	struct msix m;

	CHECK_EQ(fake_host_init(&fh, 0), 0);
	fh.host.msi_mask = NULL;
	pci_device_init(&pci, "nomask", 1, 2, 3, 0, 0, NULL, NULL);
	CHECK_EQ(pci_device_add_bar(&pci, 0, 0x1000), 0);
	CHECK_EQ(msix_init(&m, &pci, 0, 4, 0, 0x800, &fh.host), -EINVAL);
	CHECK_EQ(fh.nmsi, 0);
	CHECK_EQ(pci.config[PCI_CAPABILITY_LIST], 0);
	msix_fini(&m);
	fake_host_fini(&fh);
}

static void *notify_once(void *arg)
{
	atomic_bool *done = arg;

	msix_notify(&tdev.msix, 1);
	atomic_store(done, true);
	return NULL;
}

/* A device thread never waits on a vCPU busy in the table: msix_notify()
 * takes no lock, whatever the mask. */
static void notify_does_not_wait_for_the_table_lock(void)
{
	atomic_bool done;
	pthread_t thread;

	setup();
	set_control(CONTROL_ENABLE);
	unmask(1);
	atomic_init(&done, false);
	pthread_mutex_lock(&tdev.msix.lock);
	CHECK_EQ(pthread_create(&thread, NULL, notify_once, &done), 0);
	for (unsigned ms = 0; ms < 5000 && !atomic_load(&done); ms++)
		usleep(1000);
	CHECK(atomic_load(&done));
	pthread_mutex_unlock(&tdev.msix.lock);
	pthread_join(thread, NULL);
	CHECK_EQ(fired(1), 1);
	teardown();
}

/*
 * A device thread notifying while a vCPU masks and unmasks: once the vector
 * ends unmasked, every notification has been delivered, or folded into a
 * message delivered on an unmask; none is left held (that would be an
 * interrupt the guest never gets), and none is made up. Each round toggles
 * the mask only while the notifier is known to be running.
 */
struct notifier {
	atomic_bool stop;
	atomic_ulong sent;
};

static void *notify_loop(void *arg)
{
	struct notifier *n = arg;

	while (!atomic_load(&n->stop)) {
		msix_notify(&tdev.msix, 0);
		atomic_fetch_add(&n->sent, 1);
	}
	return NULL;
}

static void notify_racing_with_mask_changes_is_never_lost(void)
{
	bool lost = false;

	setup();
	set_control(CONTROL_ENABLE);
	for (unsigned round = 0; round < 200 && !lost; round++) {
		struct notifier n;
		pthread_t thread;
		uint64_t got;

		atomic_init(&n.stop, false);
		atomic_init(&n.sent, 0);
		mask(0);
		CHECK_EQ(pthread_create(&thread, NULL, notify_loop, &n), 0);
		while (!atomic_load(&n.sent))
			sched_yield();
		for (unsigned i = 0; i < 50 || atomic_load(&n.sent) < 200; i++) {
			unmask(0);
			mask(0);
		}
		unmask(0);
		atomic_store(&n.stop, true);
		pthread_join(thread, NULL);
		got = fired(0);
		lost = host_masked(0) || got == 0 || mmio_read(PBA_OFF, 4) != 0;
		CHECK(got <= atomic_load(&n.sent));
	}
	CHECK(!lost);
	teardown();
}

int main(void)
{
	log_init("test_msix", LOG_LEVEL_SILENT);
	RUN(capability_describes_table_and_pba);
	RUN(only_enable_and_function_mask_are_writable);
	RUN(enabled_follows_the_enable_bit);
	RUN(every_vector_gets_its_own_source_and_starts_masked);
	RUN(table_entries_hold_what_the_guest_wrote);
	RUN(reserved_vector_control_bits_read_zero);
	RUN(writing_an_entry_routes_its_source);
	RUN(rewriting_an_unchanged_entry_does_not_reroute);
	RUN(qword_accesses_cover_two_dwords_and_route_once);
	RUN(odd_table_accesses_read_all_ones_and_write_nothing);
	RUN(accesses_past_the_table_are_ignored);
	RUN(unmasked_vector_fires_at_once);
	RUN(masked_vector_is_pending_until_unmasked);
	RUN(masking_again_holds_new_notifications);
	RUN(function_mask_holds_every_vector);
	RUN(function_mask_keeps_masked_entries_pending);
	RUN(disabled_msix_keeps_notifications_pending);
	RUN(out_of_range_vectors_are_ignored);
	RUN(host_mask_follows_mask_changes_only);
	RUN(writes_from_outside_are_masked_too);
	RUN(failed_unmask_keeps_the_vector_masked_until_retried);
	RUN(pba_reads_as_dwords_and_qwords);
	RUN(init_rejects_bad_layouts);
	RUN(init_fails_cleanly_when_the_host_has_no_sources);
	RUN(init_needs_a_host_that_masks);
	RUN(notify_does_not_wait_for_the_table_lock);
	RUN(notify_racing_with_mask_changes_is_never_lost);
	return test_done();
}
