/*
 * Unit tests for the ACPI table builder (src/vmm/acpi.c) and its AML encoder
 * (src/vmm/aml.c). The tables are read back the way a guest reads them, at
 * the byte offsets the ACPI 6.4 specification gives, not through the
 * builder's own structs. Table tests run for 1, 4, 64 and 255 vCPUs.
 */
#include "test.h"
#include "common/util.h"
#include "vmm/acpi.h"
#include "vmm/machine.h"
#include "vmm/aml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* Returns from the test function: what follows depends on cond. */
#define REQUIRE(cond)							\
	do {								\
		CHECK(cond);						\
		if (!(cond))						\
			return;						\
	} while (0)

#define BASE_GPA	0xe0000
#define REGION_SIZE	(128 * 1024)
#define CANARY		0xa5

/* Byte offsets from the specification. */
#define HDR_LENGTH		4	/* §5.2.6 table header */
#define HDR_REVISION		8
#define HDR_OEM_ID		10
#define HDR_SIZE		36
#define RSDP_CHECKSUM_V1_LEN	20	/* §5.2.5.3 */
#define RSDP_OEM_ID		9
#define RSDP_REVISION		15
#define RSDP_RSDT		16
#define RSDP_LENGTH		20
#define RSDP_XSDT		24
#define RSDP_SIZE		36
#define FADT_FIRMWARE_CTRL	36	/* §5.2.9 */
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_SMI_CMD		48
#define FADT_PM1A_EVT_BLK	56
#define FADT_PM1B_EVT_BLK	60
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM1B_CNT_BLK	68
#define FADT_PM2_CNT_BLK	72
#define FADT_PM_TMR_BLK		76
#define FADT_GPE0_BLK		80
#define FADT_GPE1_BLK		84
#define FADT_PM1_EVT_LEN	88
#define FADT_PM1_CNT_LEN	89
#define FADT_PM_TMR_LEN		91
#define FADT_GPE0_BLK_LEN	92
#define FADT_GPE1_BLK_LEN	93
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_MINOR_VERSION	131
#define FADT_X_FIRMWARE_CTRL	132
#define FADT_X_DSDT		140
#define FADT_X_PM1A_EVT_BLK	148
#define FADT_X_PM1A_CNT_BLK	172
#define FADT_X_PM_TMR_BLK	208
#define FADT_X_GPE0_BLK		220
#define FADT_SIZE		276
#define FACS_LENGTH		4	/* §5.2.10 */
#define FACS_VERSION		32
#define MADT_LAPIC_ADDR		36	/* §5.2.12 */
#define MADT_FLAGS		40
#define MADT_ENTRIES		44

/* FADT fixed feature flags and IA-PC boot flags (§5.2.9, §5.2.9.3). */
#define F_WBINVD		(1u << 0)
#define F_PROC_C1		(1u << 2)
#define F_PWR_BUTTON		(1u << 4)
#define F_SLP_BUTTON		(1u << 5)
#define F_TMR_VAL_EXT		(1u << 8)
#define F_RESET_REG_SUP		(1u << 10)
#define F_HW_REDUCED_ACPI	(1u << 20)
#define BOOT_8042		(1u << 1)
#define BOOT_VGA_NOT_PRESENT	(1u << 2)
#define BOOT_MSI_NOT_SUPPORTED	(1u << 3)

/* The machine's own configuration; `ncpus` is set per test. */
static struct acpi_config pc_config_for(unsigned ncpus)
{
	struct acpi_config cfg;

	machine_acpi_config(ncpus, &cfg);
	return cfg;
}

/* The blob under test, with canary bytes after it. */
struct blob {
	uint8_t mem[REGION_SIZE];
	size_t len;
	uint64_t rsdp_gpa;
	unsigned ncpus;		/* what it was built for */
};

static struct blob blob;

static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint8_t byte_sum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return sum;
}

static bool build(unsigned ncpus)
{
	struct acpi_config cfg = pc_config_for(ncpus);
	int len;

	blob.ncpus = ncpus;
	memset(blob.mem, CANARY, sizeof(blob.mem));
	len = acpi_build(&cfg, blob.mem, sizeof(blob.mem), BASE_GPA, &blob.rsdp_gpa);
	blob.len = len > 0 ? (size_t)len : 0;
	return len > 0;
}

/* The table that gpa points at: inside the blob, with that signature. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	uint64_t off = gpa - BASE_GPA;
	const uint8_t *t;

	if (gpa < BASE_GPA || off + HDR_SIZE > blob.len)
		return NULL;
	t = blob.mem + off;
	if (memcmp(t, sig, 4) || off + le(t + HDR_LENGTH, 4) > blob.len)
		return NULL;
	return t;
}

static const uint8_t *rsdp(void)
{
	return blob.mem + (blob.rsdp_gpa - BASE_GPA);
}

static const uint8_t *xsdt(void)
{
	return table_at(le(rsdp() + RSDP_XSDT, 8), "XSDT");
}

/* The XSDT entry with this signature. */
static const uint8_t *xsdt_table(const char *sig)
{
	const uint8_t *x = xsdt();
	size_t off;

	if (!x)
		return NULL;
	for (off = HDR_SIZE; off + 8 <= le(x + HDR_LENGTH, 4); off += 8) {
		const uint8_t *t = table_at(le(x + off, 8), sig);

		if (t)
			return t;
	}
	return NULL;
}

static const uint8_t *fadt(void)
{
	return xsdt_table("FACP");
}

static const uint8_t *madt(void)
{
	return xsdt_table("APIC");
}

static const uint8_t *dsdt(void)
{
	const uint8_t *f = fadt();

	return f ? table_at(le(f + FADT_X_DSDT, 8), "DSDT") : NULL;
}

static const uint8_t *facs(void)
{
	const uint8_t *f = fadt();

	return f ? table_at(le(f + FADT_X_FIRMWARE_CTRL, 8), "FACS") : NULL;
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

/* ---- tables, run for several vCPU counts ---- */

static void check_rsdp_first_and_aligned(void)
{
	CHECK(blob.rsdp_gpa == BASE_GPA);
	CHECK(blob.rsdp_gpa % 16 == 0);
	CHECK(!memcmp(blob.mem, "RSD PTR ", 8));
}

static void check_rsdp_checksums_and_fields(void)
{
	CHECK(byte_sum(rsdp(), RSDP_CHECKSUM_V1_LEN) == 0);
	CHECK(byte_sum(rsdp(), RSDP_SIZE) == 0);
	CHECK(rsdp()[RSDP_REVISION] == 2);
	CHECK(le(rsdp() + RSDP_LENGTH, 4) == RSDP_SIZE);
	CHECK(le(rsdp() + RSDP_RSDT, 4) == 0);
	CHECK(!memcmp(rsdp() + RSDP_OEM_ID, "CORRAL", 6));
	CHECK(xsdt() != NULL);
}

static void check_xsdt_points_at_fadt_and_madt(void)
{
	const uint8_t *x;

	x = xsdt();
	REQUIRE(x);
	CHECK(le(x + HDR_LENGTH, 4) == HDR_SIZE + 2 * 8);
	CHECK(table_at(le(x + HDR_SIZE, 8), "FACP") != NULL);
	CHECK(table_at(le(x + HDR_SIZE + 8, 8), "APIC") != NULL);
}

static void check_header(const uint8_t *t, uint8_t revision)
{
	REQUIRE(t);
	CHECK(byte_sum(t, le(t + HDR_LENGTH, 4)) == 0);
	CHECK(t[HDR_REVISION] == revision);
	CHECK(!memcmp(t + HDR_OEM_ID, "CORRAL", 6));
}

static void check_tables_sum_to_zero(void)
{
	check_header(xsdt(), 1);
	check_header(fadt(), 6);
	check_header(madt(), 5);
	check_header(dsdt(), 2);
}

static void check_tables_do_not_overlap(void)
{
	const uint8_t *t[5];
	size_t i, j;

	t[0] = xsdt();
	t[1] = fadt();
	t[2] = madt();
	t[3] = dsdt();
	t[4] = facs();
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		REQUIRE(t[i]);
		CHECK(t[i] >= blob.mem + RSDP_SIZE);
		for (j = 0; j < i; j++)
			CHECK(t[i] + le(t[i] + HDR_LENGTH, 4) <= t[j] ||
			      t[j] + le(t[j] + HDR_LENGTH, 4) <= t[i]);
	}
}

static void check_bytes_past_length_untouched(void)
{
	size_t i;

	for (i = blob.len; i < sizeof(blob.mem); i++)
		if (blob.mem[i] != CANARY)
			break;
	CHECK(i == sizeof(blob.mem));
}

static void check_facs_aligned_64_bytes(void)
{
	const uint8_t *f;

	f = facs();
	REQUIRE(f);
	CHECK((BASE_GPA + (uint64_t)(f - blob.mem)) % 64 == 0);
	CHECK(le(f + FACS_LENGTH, 4) == 64);
	CHECK(f[FACS_VERSION] == 2);
}

static void check_fadt_ports_and_sci(void)
{
	const uint8_t *f;

	f = fadt();
	REQUIRE(f);
	CHECK(le(f + HDR_LENGTH, 4) == FADT_SIZE);
	CHECK(f[FADT_MINOR_VERSION] == 3);
	CHECK(le(f + FADT_SCI_INT, 2) == 9);
	CHECK(le(f + FADT_SMI_CMD, 4) == 0);
	CHECK(le(f + FADT_PM1A_EVT_BLK, 4) == 0x600);
	CHECK(le(f + FADT_PM1A_CNT_BLK, 4) == 0x604);
	CHECK(le(f + FADT_PM_TMR_BLK, 4) == 0x608);
	CHECK(f[FADT_PM1_EVT_LEN] == 4);
	CHECK(f[FADT_PM1_CNT_LEN] == 2);
	CHECK(f[FADT_PM_TMR_LEN] == 4);
	CHECK(le(f + FADT_PM1B_EVT_BLK, 4) == 0 && le(f + FADT_PM1B_CNT_BLK, 4) == 0);
	CHECK(le(f + FADT_PM2_CNT_BLK, 4) == 0);
	CHECK(le(f + FADT_GPE0_BLK, 4) == 0 && f[FADT_GPE0_BLK_LEN] == 0);
	CHECK(le(f + FADT_GPE1_BLK, 4) == 0 && f[FADT_GPE1_BLK_LEN] == 0);
}

/* A System I/O generic address (§5.2.3.2) at that port, that many bits. */
static bool is_io_gas(const uint8_t *gas, uint16_t port, uint8_t bits)
{
	return gas[0] == 1 && gas[1] == bits && gas[2] == 0 && le(gas + 4, 8) == port;
}

static void check_fadt_x_blocks_match_legacy(void)
{
	const uint8_t *f;

	f = fadt();
	REQUIRE(f);
	CHECK(is_io_gas(f + FADT_X_PM1A_EVT_BLK, 0x600, 32));
	CHECK(is_io_gas(f + FADT_X_PM1A_CNT_BLK, 0x604, 16));
	CHECK(is_io_gas(f + FADT_X_PM_TMR_BLK, 0x608, 32));
	CHECK(le(f + FADT_X_GPE0_BLK + 4, 8) == 0);
}

static void check_fadt_flags(void)
{
	uint32_t flags;
	uint16_t boot;

	REQUIRE(fadt());
	flags = le(fadt() + FADT_FLAGS, 4);
	boot = le(fadt() + FADT_IAPC_BOOT_ARCH, 2);
	CHECK(flags & F_WBINVD);
	CHECK(flags & F_PROC_C1);
	CHECK(!(flags & F_PWR_BUTTON));
	CHECK(flags & F_SLP_BUTTON);
	CHECK(!(flags & F_TMR_VAL_EXT));
	CHECK(!(flags & F_RESET_REG_SUP));
	CHECK(!(flags & F_HW_REDUCED_ACPI));
	CHECK(le(fadt() + FADT_RESET_REG + 4, 8) == 0);
	CHECK(!(boot & BOOT_8042));
	CHECK(boot & BOOT_VGA_NOT_PRESENT);
	CHECK(!(boot & BOOT_MSI_NOT_SUPPORTED));
}

static void check_fadt_points_at_dsdt_and_facs(void)
{
	REQUIRE(fadt());
	CHECK(dsdt() != NULL);
	CHECK(facs() != NULL);
	/* The X_ fields are set, so the 32-bit ones must be ignored; keep them 0. */
	CHECK(le(fadt() + FADT_FIRMWARE_CTRL, 4) == 0);
	CHECK(le(fadt() + FADT_DSDT, 4) == 0);
}

struct madt_counts {
	unsigned lapics, ioapics, overrides, nmis, other;
	bool lengths_ok;
};

/* Walks the MADT's entries; checks the ones it knows on the way. */
static struct madt_counts walk_madt(const uint8_t *m)
{
	struct madt_counts c = { .lengths_ok = true };
	size_t len = le(m + HDR_LENGTH, 4), off;

	for (off = MADT_ENTRIES; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;

		if (off + 2 > len || e[1] < 2 || off + e[1] > len) {
			c.lengths_ok = false;
			break;
		}
		switch (e[0]) {
		case 0:	/* Processor Local APIC, in order of APIC id */
			CHECK(e[1] == 8 && e[2] == c.lapics && e[3] == c.lapics);
			CHECK(le(e + 4, 4) == 1);	/* enabled */
			c.lapics++;
			break;
		case 1:	/* I/O APIC */
			CHECK(e[1] == 12 && e[2] == 0);
			CHECK(le(e + 4, 4) == 0xfec00000 && le(e + 8, 4) == 0);
			c.ioapics++;
			break;
		case 2:	/* Interrupt Source Override: IRQ0 -> 2, SCI level high */
			CHECK(e[1] == 10 && e[2] == 0);
			CHECK(c.overrides != 0 || (e[3] == 0 && le(e + 4, 4) == 2 && le(e + 8, 2) == 0x5));
			CHECK(c.overrides != 1 || (e[3] == 9 && le(e + 4, 4) == 9 && le(e + 8, 2) == 0xd));
			c.overrides++;
			break;
		case 4:	/* Local APIC NMI: all processors, LINT1 */
			CHECK(e[1] == 6 && e[2] == 0xff && e[5] == 1);
			c.nmis++;
			break;
		default:
			c.other++;
		}
	}
	return c;
}

static void check_madt_entries(void)
{
	struct madt_counts c;

	REQUIRE(madt());
	CHECK(le(madt() + MADT_LAPIC_ADDR, 4) == 0xfee00000);
	CHECK(le(madt() + MADT_FLAGS, 4) == 1);	/* PCAT_COMPAT */
	c = walk_madt(madt());
	CHECK(c.lengths_ok);
	CHECK_EQ(c.lapics, blob.ncpus);
	CHECK_EQ(c.ioapics, 1);
	CHECK_EQ(c.overrides, 2);
	CHECK_EQ(c.nmis, 1);
	CHECK_EQ(c.other, 0);
}

static void check_dsdt_has_s5(void)
{
	/* Name(\_S5_, Package(4) { 5, 5, 0, 0 }) */
	static const uint8_t s5[] = {
		0x08, '\\', '_', 'S', '5', '_',
		0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
	};

	REQUIRE(dsdt());
	CHECK(contains(dsdt(), le(dsdt() + HDR_LENGTH, 4), s5, sizeof(s5)));
}

static void check_dsdt_has_devices(void)
{
	static const uint8_t com1_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t rtc_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0b, 0x00 };
	static const uint8_t pvpanic_hid[] = "\x08_HID\x0dQEMU0001";	/* with its NUL */
	static const uint8_t pvpanic_io[] = { 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01 };
	static const uint8_t sta[] = { 0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f };
	const uint8_t *d;
	size_t len;

	d = dsdt();
	REQUIRE(d);
	len = le(d + HDR_LENGTH, 4);
	CHECK(contains(d, len, com1_hid, sizeof(com1_hid)));
	CHECK(contains(d, len, rtc_hid, sizeof(rtc_hid)));
	CHECK(contains(d, len, pvpanic_hid, sizeof(pvpanic_hid)));
	CHECK(contains(d, len, pvpanic_io, sizeof(pvpanic_io)));
	CHECK(contains(d, len, sta, sizeof(sta)));
}

/* ---- the AML encoder ---- */

/* Decodes a PkgLength; returns its size in bytes. */
static size_t decode_pkglength(const uint8_t *p, uint32_t *value)
{
	size_t follow = p[0] >> 6, i;

	if (!follow) {
		*value = p[0] & 0x3f;
		return 1;
	}
	*value = p[0] & 0x0f;
	for (i = 0; i < follow; i++)
		*value |= (uint32_t)p[1 + i] << (4 + 8 * i);
	return follow + 1;
}

static bool pkglength_is(uint32_t value, const uint8_t *expect, size_t n)
{
	uint8_t out[4];

	return aml_pkglength_encode(value, out) == n && !memcmp(out, expect, n);
}

static void pkglength_encodings_at_byte_boundaries(void)
{
	uint8_t out[4];

	CHECK(pkglength_is(0, (const uint8_t[]){ 0x00 }, 1));
	CHECK(pkglength_is(63, (const uint8_t[]){ 0x3f }, 1));
	CHECK(pkglength_is(64, (const uint8_t[]){ 0x40, 0x04 }, 2));
	CHECK(pkglength_is(4095, (const uint8_t[]){ 0x4f, 0xff }, 2));
	CHECK(pkglength_is(4096, (const uint8_t[]){ 0x80, 0x00, 0x01 }, 3));
	CHECK(pkglength_is(0xfffff, (const uint8_t[]){ 0x8f, 0xff, 0xff }, 3));
	CHECK(pkglength_is(0x100000, (const uint8_t[]){ 0xc0, 0x00, 0x00, 0x01 }, 4));
	CHECK(pkglength_is(0xfffffff, (const uint8_t[]){ 0xcf, 0xff, 0xff, 0xff }, 4));
	CHECK(aml_pkglength_encode(0x10000000, out) == 0);
}

/* A Package holding n bytes of contents: its PkgLength counts itself. */
static bool package_length_consistent(uint8_t *buf, size_t size, size_t n)
{
	struct aml_buf b;
	uint32_t value;
	size_t mark, used;

	aml_init(&b, buf, size);
	mark = aml_package_begin(&b, 0);
	aml_reserve(&b, n - 1);		/* NumElements is the first byte */
	aml_end(&b, mark);
	if (b.err || buf[0] != 0x12)
		return false;
	used = decode_pkglength(buf + 1, &value);
	return value == b.len - 1 && buf[1 + used] == 0 && b.len == 1 + used + n;
}

static void objects_pick_the_shortest_pkglength(void)
{
	static const size_t around[] = { 0x3f, 0xfff, 0xfffff };
	static uint8_t buf[0x100100];
	size_t i, n;
	bool ok = true;

	for (i = 0; i < ARRAY_SIZE(around); i++)
		for (n = around[i] - 5; n <= around[i] + 5; n++)
			ok = ok && package_length_consistent(buf, sizeof(buf), n);
	CHECK(ok);
	/* 62 bytes and a 1-byte PkgLength make 63, the most it holds; 63 do not. */
	CHECK(package_length_consistent(buf, sizeof(buf), 62) && (buf[1] >> 6) == 0);
	CHECK(package_length_consistent(buf, sizeof(buf), 63) && (buf[1] >> 6) == 1);
}

static bool encodes_as(void (*emit)(struct aml_buf *, const void *), const void *arg,
		       const uint8_t *expect, size_t n)
{
	uint8_t buf[64];
	struct aml_buf b;

	aml_init(&b, buf, sizeof(buf));
	emit(&b, arg);
	return !b.err && b.len == n && !memcmp(buf, expect, n);
}

static void emit_integer(struct aml_buf *b, const void *arg)
{
	aml_integer(b, *(const uint64_t *)arg);
}

#define INTEGER_IS(v, ...)						\
	encodes_as(emit_integer, &(uint64_t){ v },			\
		   (const uint8_t[]){ __VA_ARGS__ },			\
		   sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void integers_take_the_shortest_prefix(void)
{
	CHECK(INTEGER_IS(0, 0x00));
	CHECK(INTEGER_IS(1, 0x01));
	CHECK(INTEGER_IS(2, 0x0a, 0x02));
	CHECK(INTEGER_IS(0xff, 0x0a, 0xff));
	CHECK(INTEGER_IS(0x100, 0x0b, 0x00, 0x01));
	CHECK(INTEGER_IS(0xffff, 0x0b, 0xff, 0xff));
	CHECK(INTEGER_IS(0x10000, 0x0c, 0x00, 0x00, 0x01, 0x00));
	CHECK(INTEGER_IS(0xffffffff, 0x0c, 0xff, 0xff, 0xff, 0xff));
	CHECK(INTEGER_IS(0x100000000, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0));
}

static void emit_name(struct aml_buf *b, const void *arg)
{
	aml_name_string(b, arg);
}

#define NAME_IS(s, bytes) encodes_as(emit_name, s, (const uint8_t *)(bytes), sizeof(bytes) - 1)

static void name_strings_encode_prefixes_and_segments(void)
{
	CHECK(NAME_IS("_HID", "_HID"));
	CHECK(NAME_IS("RTC", "RTC_"));
	CHECK(NAME_IS("\\_SB_", "\\_SB_"));
	CHECK(NAME_IS("\\_SB_.PCI0", "\\\x2e_SB_PCI0"));
	CHECK(NAME_IS("\\_SB_.PCI0.ISA", "\\\x2f\x03_SB_PCI0ISA_"));
	CHECK(NAME_IS("^^COM1", "^^COM1"));
	CHECK(NAME_IS("\\", "\\\x00"));
}

static int name_error(const char *name)
{
	uint8_t buf[64];
	struct aml_buf b;

	aml_init(&b, buf, sizeof(buf));
	aml_name_string(&b, name);
	return b.err;
}

static void bad_names_are_rejected(void)
{
	CHECK(name_error("1ABC") == -EINVAL);	/* a digit cannot lead */
	CHECK(name_error("ABCDE") == -EINVAL);
	CHECK(name_error("abc") == -EINVAL);
	CHECK(name_error("A..B") == -EINVAL);
	CHECK(name_error("\\^A") == -EINVAL);
}

static void eisaid_compresses_pnp_ids(void)
{
	uint32_t v;

	CHECK(aml_eisaid_value("PNP0501", &v) == 0 && v == 0x0105d041);
	CHECK(aml_eisaid_value("PNP0B00", &v) == 0 && v == 0x000bd041);
	CHECK(aml_eisaid_value("PNP0A08", &v) == 0 && v == 0x080ad041);
	CHECK(aml_eisaid_value("pnp0501", &v) == -EINVAL);
	CHECK(aml_eisaid_value("PNP050", &v) == -EINVAL);
	CHECK(aml_eisaid_value("PNP05G1", &v) == -EINVAL);
}

static void resource_template_ends_with_its_checksum(void)
{
	static const uint8_t expect[] = {
		0x11, 0x10, 0x0a, 0x0d,				/* Buffer, PkgLength, size 13 */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,	/* IO 0x3f8, 8 ports */
		0x22, 0x10, 0x00,				/* IRQNoFlags {4} */
		0x79,						/* End Tag, checksum follows */
	};
	uint8_t buf[64];
	struct aml_buf b;
	size_t mark;

	aml_init(&b, buf, sizeof(buf));
	mark = aml_resources_begin(&b);
	aml_res_io(&b, 0x3f8, 8);
	aml_res_irq(&b, 4);
	aml_resources_end(&b, mark);
	REQUIRE(!b.err && b.len == sizeof(expect) + 1);
	CHECK(!memcmp(buf, expect, sizeof(expect)));
	CHECK(byte_sum(buf + 4, 13) == 0);
}

static void nested_objects_get_their_lengths(void)
{
	/* Scope(\_SB_) { Device(COM1) { Name(_UID, One) } } */
	static const uint8_t expect[] = {
		0x10, 0x13, '\\', '_', 'S', 'B', '_',
		0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1',
		0x08, '_', 'U', 'I', 'D', 0x01,
	};
	uint8_t buf[64];
	struct aml_buf b;
	size_t scope, dev;

	aml_init(&b, buf, sizeof(buf));
	scope = aml_scope_begin(&b, "\\_SB_");
	dev = aml_device_begin(&b, "COM1");
	aml_name(&b, "_UID");
	aml_integer(&b, 1);
	aml_end(&b, dev);
	aml_end(&b, scope);
	CHECK(!b.err && b.len == sizeof(expect) && !memcmp(buf, expect, sizeof(expect)));
}

static void full_buffer_error_is_sticky(void)
{
	uint8_t buf[16];
	struct aml_buf b;

	memset(buf, CANARY, sizeof(buf));
	aml_init(&b, buf, 8);
	aml_string(&b, "QEMU0001");	/* 10 bytes */
	CHECK(b.err == -ENOSPC);
	aml_integer(&b, 1);
	CHECK(b.err == -ENOSPC && b.len <= 8);
	CHECK(buf[8] == CANARY && buf[15] == CANARY);
}

/* ---- acpi_build() errors ---- */

static int build_with(const struct acpi_config *cfg, size_t size, uint64_t base)
{
	uint64_t rsdp_gpa;

	return acpi_build(cfg, blob.mem, size, base, &rsdp_gpa);
}

static void build_rejects_0_and_256_cpus(void)
{
	struct acpi_config cfg = pc_config_for(1);

	cfg.ncpus = 0;
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA) == -EINVAL);
	cfg.ncpus = 256;
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA) == -EINVAL);
	cfg.ncpus = 255;
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA) > 0);
}

static void build_rejects_bad_base_irq_and_ports(void)
{
	struct acpi_config cfg = pc_config_for(1);

	cfg.ncpus = 1;
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA + 16) == -EINVAL);
	cfg.sci_irq = 16;
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA) == -EINVAL);
	cfg.sci_irq = 2;
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA) == -EINVAL);
	cfg = pc_config_for(1);
	cfg.ncpus = 1;
	cfg.pm_tmr_port = 0xfffe;	/* four ports do not fit */
	CHECK(build_with(&cfg, sizeof(blob.mem), BASE_GPA) == -EINVAL);
}

/* A buffer one byte short fails without writing past its end. */
static void build_fails_cleanly_on_a_small_buffer(void)
{
	struct acpi_config cfg = pc_config_for(1);
	size_t sizes[] = { 0, 1, 36, 200, 0, 0 };
	size_t i, j;
	int need;

	cfg.ncpus = 64;
	need = build_with(&cfg, sizeof(blob.mem), BASE_GPA);
	REQUIRE(need > 0);
	sizes[4] = need / 2;
	sizes[5] = need - 1;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(blob.mem, CANARY, sizeof(blob.mem));
		CHECK(build_with(&cfg, sizes[i], BASE_GPA) == -ENOSPC);
		for (j = sizes[i]; j < sizeof(blob.mem); j++)
			if (blob.mem[j] != CANARY)
				break;
		CHECK(j == sizeof(blob.mem));
	}
	CHECK(build_with(&cfg, need, BASE_GPA) == need);
}

static const unsigned cpu_counts[] = { 1, 4, 64, 255 };

/* Runs check() on the tables built for each vCPU count; a failure says which. */
static void for_each_cpu_count(void (*check)(void))
{
	int failed_before = test_current_failed;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cpu_counts); i++) {
		test_current_failed = 0;
		CHECK(build(cpu_counts[i]));
		if (!test_current_failed)
			check();
		if (test_current_failed)
			printf("# with %u vCPUs\n", cpu_counts[i]);
		failed_before |= test_current_failed;
	}
	test_current_failed = failed_before;
}

#define TABLE_TEST(name, check)						\
	static void name(void)						\
	{								\
		for_each_cpu_count(check);				\
	}

TABLE_TEST(rsdp_is_first_and_16_byte_aligned, check_rsdp_first_and_aligned)
TABLE_TEST(rsdp_checksums_and_fields_are_right, check_rsdp_checksums_and_fields)
TABLE_TEST(xsdt_points_at_fadt_and_madt, check_xsdt_points_at_fadt_and_madt)
TABLE_TEST(tables_sum_to_zero_with_their_revisions, check_tables_sum_to_zero)
TABLE_TEST(tables_do_not_overlap, check_tables_do_not_overlap)
TABLE_TEST(bytes_past_the_length_are_untouched, check_bytes_past_length_untouched)
TABLE_TEST(facs_is_64_bytes_and_64_byte_aligned, check_facs_aligned_64_bytes)
TABLE_TEST(fadt_gives_pm_ports_and_sci, check_fadt_ports_and_sci)
TABLE_TEST(fadt_x_blocks_match_legacy_fields, check_fadt_x_blocks_match_legacy)
TABLE_TEST(fadt_flags_describe_the_machine, check_fadt_flags)
TABLE_TEST(fadt_points_at_dsdt_and_facs, check_fadt_points_at_dsdt_and_facs)
TABLE_TEST(madt_has_a_lapic_per_cpu_ioapic_overrides_nmi, check_madt_entries)
TABLE_TEST(dsdt_has_s5_package, check_dsdt_has_s5)
TABLE_TEST(dsdt_has_com1_rtc_pvpanic, check_dsdt_has_devices)

int main(void)
{
	RUN(rsdp_is_first_and_16_byte_aligned);
	RUN(rsdp_checksums_and_fields_are_right);
	RUN(xsdt_points_at_fadt_and_madt);
	RUN(tables_sum_to_zero_with_their_revisions);
	RUN(tables_do_not_overlap);
	RUN(bytes_past_the_length_are_untouched);
	RUN(facs_is_64_bytes_and_64_byte_aligned);
	RUN(fadt_gives_pm_ports_and_sci);
	RUN(fadt_x_blocks_match_legacy_fields);
	RUN(fadt_flags_describe_the_machine);
	RUN(fadt_points_at_dsdt_and_facs);
	RUN(madt_has_a_lapic_per_cpu_ioapic_overrides_nmi);
	RUN(dsdt_has_s5_package);
	RUN(dsdt_has_com1_rtc_pvpanic);
	RUN(pkglength_encodings_at_byte_boundaries);
	RUN(objects_pick_the_shortest_pkglength);
	RUN(integers_take_the_shortest_prefix);
	RUN(name_strings_encode_prefixes_and_segments);
	RUN(bad_names_are_rejected);
	RUN(eisaid_compresses_pnp_ids);
	RUN(resource_template_ends_with_its_checksum);
	RUN(nested_objects_get_their_lengths);
	RUN(full_buffer_error_is_sticky);
	RUN(build_rejects_0_and_256_cpus);
	RUN(build_rejects_bad_base_irq_and_ports);
	RUN(build_fails_cleanly_on_a_small_buffer);
	return test_done();
}
