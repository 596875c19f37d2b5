#include "vmm/acpi.h"
#include "devices/acpi_pm.h"

#include "common/log.h"
#include "common/util.h"
#include "vmm/aml.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/*
 * Table layouts as packed structs, written in host byte order: ACPI is
 * little-endian, and so is every host KVM/x86 runs on.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ACPI tables are little-endian");

#define ACPI_OEM_ID		"CORRAL"	/* six characters, no NUL */
#define ACPI_OEM_TABLE_ID	"CORRALVM"	/* eight */
#define ACPI_CREATOR_ID		"CRRL"		/* four */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_REVISION	1

/* Table revisions of ACPI 6.3. */
#define RSDP_REVISION		2
#define XSDT_REVISION		1
#define FADT_REVISION		6
#define FADT_MINOR_REVISION	3
#define FACS_VERSION		2
#define DSDT_REVISION		2	/* 2 and up: AML integers are 64 bits */
#define MADT_REVISION		5

#define TABLE_ALIGN		16
#define FACS_ALIGN		64	/* §5.2.10: "64-byte aligned" */

/* Register block lengths in bytes, as the VMM's PM1 device implements them. */
#define PM1_EVT_LEN		4	/* PM1_STS + PM1_EN, two bytes each */
#define PM1_CNT_LEN		2
#define PM_TMR_LEN		4
#define SERIAL_PORTS		8
#define RTC_PORTS		2	/* index and data */
#define PCI_CONFIG_PORTS	8	/* address 0xcf8-0xcfb, data 0xcfc-0xcff */
#define PVPANIC_PORTS		1

/* §7.4.2: the SLP_TYP value that the VMM's PM1_CNT treats as soft-off. */

struct acpi_rsdp {			/* §5.2.5.3 */
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* over the first 20 bytes (ACPI 1.0) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;		/* 0: no RSDT, the XSDT serves */
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;	/* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
#define RSDP_V1_LENGTH 20

struct acpi_header {			/* §5.2.6 */
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_header) == 36, "table header layout");

struct acpi_xsdt {			/* §5.2.8 */
	struct acpi_header header;
	uint64_t entry[2];		/* FADT, MADT */
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_xsdt) == 52, "XSDT layout");

struct acpi_gas {			/* §5.2.3.2 Generic Address Structure */
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS layout");

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_WORD		2
#define GAS_ACCESS_DWORD	3

struct acpi_fadt {			/* §5.2.9 */
	struct acpi_header header;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_vendor_id[8];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");

/*
 * FADT fixed feature flags (§5.2.9). Set:
 * - WBINVD: the vCPUs execute WBINVD correctly (KVM handles it), which
 *   ACPI 2.0 and later require of every platform.
 * - PROC_C1: C1 (HLT) works on all processors; KVM halts the vCPU thread.
 * - SLP_BUTTON: there is no sleep button, neither fixed nor control-method.
 * - FIX_RTC: the PM1 block has no RTC_STS/RTC_EN; the VMM cannot wake the
 *   guest from an RTC alarm, which arrives only as ISA IRQ 8.
 * Deliberately clear:
 * - PWR_BUTTON: clear means the power button is the fixed-feature one,
 *   PWRBTN_STS/PWRBTN_EN in PM1; the VMM presses it on SIGTERM.
 * - TMR_VAL_EXT: clear means the PM timer counts 24 bits.
 * - RESET_REG_SUP: no RESET_REG; the kernel resets through port 0x64.
 * - HW_REDUCED_ACPI: this is a full fixed-hardware platform (PM1, SCI).
 */
#define FADT_WBINVD		(1u << 0)
#define FADT_PROC_C1		(1u << 2)
#define FADT_SLP_BUTTON		(1u << 5)
#define FADT_FIX_RTC		(1u << 6)

/*
 * IA-PC boot architecture flags (§5.2.9.3). Set:
 * - LEGACY_DEVICES: the DSDT describes ISA devices (COM1, RTC).
 * - VGA_NOT_PRESENT: there is no VGA; Linux then leaves VGA ports alone.
 * Deliberately clear:
 * - 8042: keeps Linux's i8042 driver from probing for a keyboard; the
 *   kernel still resets through port 0x64 without it.
 * - MSI_NOT_SUPPORTED: virtio-pci devices use MSI-X.
 * - CMOS_RTC_NOT_PRESENT: the RTC is there.
 */
#define BOOT_LEGACY_DEVICES	(1u << 0)
#define BOOT_VGA_NOT_PRESENT	(1u << 2)

/* §5.2.9: a latency above 100 (C2) or 1000 (C3) us means "not supported". */
#define FADT_C2_UNSUPPORTED	101
#define FADT_C3_UNSUPPORTED	1001

struct acpi_facs {			/* §5.2.10 */
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS layout");

struct acpi_madt {			/* §5.2.12 */
	struct acpi_header header;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

#define MADT_PCAT_COMPAT	(1u << 0)	/* KVM also emulates the dual 8259 */

enum madt_type {
	MADT_LAPIC = 0,
	MADT_IOAPIC = 1,
	MADT_INTERRUPT_OVERRIDE = 2,
	MADT_LAPIC_NMI = 4,
};

struct madt_lapic {			/* §5.2.12.2 */
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic) == 8, "Processor Local APIC layout");

#define MADT_LAPIC_ENABLED	(1u << 0)

struct madt_ioapic {			/* §5.2.12.3 */
	uint8_t type;
	uint8_t length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_ioapic) == 12, "I/O APIC layout");

struct madt_override {			/* §5.2.12.5 */
	uint8_t type;
	uint8_t length;
	uint8_t bus;			/* 0: ISA */
	uint8_t source;			/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;			/* MPS INTI flags */
} __attribute__((packed));
_Static_assert(sizeof(struct madt_override) == 10, "Interrupt Source Override layout");

struct madt_lapic_nmi {			/* §5.2.12.7 */
	uint8_t type;
	uint8_t length;
	uint8_t processor_uid;
	uint16_t flags;			/* MPS INTI flags */
	uint8_t lint;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "Local APIC NMI layout");

/* MPS INTI flags (§5.2.12.5): polarity in bits 1:0, trigger mode in bits
 * 3:2; 01 means active high and edge respectively, 11 active low and level. */
#define MPS_EDGE_HIGH		0x0005
#define MPS_LEVEL_HIGH		0x000d

#define MADT_ALL_PROCESSORS	0xff
#define ISA_IRQ_PIT		0
#define IOAPIC_PIN_PIT		2	/* KVM wires its PIT to IOAPIC pin 2 */

static bool isa_irq_valid(uint8_t irq)
{
	/* IRQ 0 is the PIT, and IRQ 2 the cascade, where the PIT's GSI is. */
	return irq < 16 && irq != ISA_IRQ_PIT && irq != IOAPIC_PIN_PIT;
}

static int check_irqs(const struct acpi_config *cfg)
{
	const struct { const char *what; uint8_t irq; } irqs[] = {
		{ "SCI", cfg->sci_irq },
		{ "COM1", cfg->serial_irq },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(irqs); i++) {
		if (!isa_irq_valid(irqs[i].irq)) {
			log_error("acpi: %s on IRQ %u; an ISA IRQ is 1 or 3 to 15",
				  irqs[i].what, irqs[i].irq);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_ports(const struct acpi_config *cfg)
{
	const struct { const char *what; uint16_t port; unsigned len; } ports[] = {
		{ "PM1 event block", cfg->pm1a_evt_port, PM1_EVT_LEN },
		{ "PM1 control block", cfg->pm1a_cnt_port, PM1_CNT_LEN },
		{ "PM timer", cfg->pm_tmr_port, PM_TMR_LEN },
		{ "pvpanic", cfg->pvpanic_port, PVPANIC_PORTS },
		{ "COM1", cfg->serial_port, SERIAL_PORTS },
		{ "RTC", cfg->rtc_port, RTC_PORTS },
		{ "PCI configuration", cfg->pci_config_port, PCI_CONFIG_PORTS },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		if (!ports[i].port || ports[i].port > 0x10000 - ports[i].len) {
			log_error("acpi: %s at I/O port %#x: not a valid %u-port range",
				  ports[i].what, ports[i].port, ports[i].len);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_config(const struct acpi_config *cfg, uint64_t base_gpa)
{
	int err;

	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS) {
		log_error("acpi: %u vCPUs; the MADT describes 1 to %u",
			  cfg->ncpus, ACPI_MAX_CPUS);
		return -EINVAL;
	}
	if (base_gpa % FACS_ALIGN) {
		log_error("acpi: tables at %#llx, which is not %u-byte aligned",
			  (unsigned long long)base_gpa, FACS_ALIGN);
		return -EINVAL;
	}
	if (!cfg->pci_mmio_size || cfg->pci_mmio_base > UINT32_MAX - (cfg->pci_mmio_size - 1)) {
		log_error("acpi: PCI memory window at %#x, %#x bytes: not below 4 GiB",
			  cfg->pci_mmio_base, cfg->pci_mmio_size);
		return -EINVAL;
	}
	err = check_irqs(cfg);
	return err ? err : check_ports(cfg);
}

/* A table starts aligned; its header is filled in by table_end(). */
static size_t table_begin(struct aml_buf *b, size_t align)
{
	aml_align(b, align);
	return b->len;
}

/* Fills in the header of the table from `start` to the end of the buffer,
 * checksum last (§5.2.6: all bytes of the table sum to zero). */
static void table_end(struct aml_buf *b, size_t start, const char *signature,
		      uint8_t revision)
{
	struct acpi_header h = {
		.length = b->len - start,
		.revision = revision,
		.oem_revision = ACPI_OEM_REVISION,
		.creator_revision = ACPI_CREATOR_REVISION,
	};

	memcpy(h.signature, signature, sizeof(h.signature));
	memcpy(h.oem_id, ACPI_OEM_ID, sizeof(h.oem_id));
	memcpy(h.oem_table_id, ACPI_OEM_TABLE_ID, sizeof(h.oem_table_id));
	memcpy(h.creator_id, ACPI_CREATOR_ID, sizeof(h.creator_id));
	aml_patch(b, start, &h, sizeof(h));
	if (b->err)
		return;
	b->data[start + offsetof(struct acpi_header, checksum)] =
		aml_checksum(b->data + start, h.length);
}

static size_t put_facs(struct aml_buf *b)
{
	struct acpi_facs facs = {
		.length = sizeof(facs),
		.version = FACS_VERSION,
	};
	size_t start = table_begin(b, FACS_ALIGN);

	/* The FACS has no table header and no checksum. */
	memcpy(facs.signature, "FACS", sizeof(facs.signature));
	aml_put(b, &facs, sizeof(facs));
	return start;
}

#define NO_IRQ (-1)

/* Name(_CRS, ResourceTemplate() { IO(...) [IRQNoFlags() {irq}] }) */
static void put_crs(struct aml_buf *b, uint16_t port, uint8_t nports, int irq)
{
	size_t res;

	aml_name(b, "_CRS");
	res = aml_resources_begin(b);
	aml_res_io(b, port, nports);
	if (irq != NO_IRQ)
		aml_res_irq(b, irq);
	aml_resources_end(b, res);
}

/* COM1, which Linux's 8250_pnp driver claims through ACPI PnP. */
static void put_serial(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "COM1");

	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0501");	/* 16550A-compatible UART */
	aml_name(b, "_UID");
	aml_integer(b, 1);
	put_crs(b, cfg->serial_port, SERIAL_PORTS, cfg->serial_irq);
	aml_end(b, dev);
}

/* The CMOS RTC, which Linux's rtc_cmos driver claims through ACPI PnP. */
static void put_rtc(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "RTC_");

	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0B00");	/* AT-compatible RTC */
	/* No IRQ: the RTC raises no interrupts, and with an IRQ resource Linux
	 * would offer alarms and update interrupts that never come. */
	put_crs(b, cfg->rtc_port, RTC_PORTS, NO_IRQ);
	aml_end(b, dev);
}

/* pvpanic: Linux's pvpanic-mmio driver binds to QEMU0001 and takes an I/O
 * port resource as well as a memory one. */
static void put_pvpanic(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "PEVT");

	aml_name(b, "_HID");
	aml_string(b, "QEMU0001");
	put_crs(b, cfg->pvpanic_port, PVPANIC_PORTS, NO_IRQ);
	aml_name(b, "_STA");
	aml_integer(b, 0x0f);	/* present, enabled, shown, functioning */
	aml_end(b, dev);
}

/*
 * The PCI host bridge (PNP0A03) of bus 0. Its _CRS lists the windows it
 * forwards: Linux assigns and keeps BARs only inside them. It consumes the
 * configuration ports itself and forwards all other I/O ports.
 */
static void put_pci_host(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev = aml_device_begin(b, "PCI0");
	size_t res;

	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0A03");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_name(b, "_BBN");
	aml_integer(b, 0);
	aml_name(b, "_CRS");
	res = aml_resources_begin(b);
	aml_res_word_bus(b, 0, 0xff);
	aml_res_io(b, cfg->pci_config_port, PCI_CONFIG_PORTS);
	aml_res_word_io(b, 0, cfg->pci_config_port - 1);
	aml_res_word_io(b, cfg->pci_config_port + PCI_CONFIG_PORTS, 0xffff);
	aml_res_dword_memory(b, cfg->pci_mmio_base, cfg->pci_mmio_base + cfg->pci_mmio_size - 1);
	aml_resources_end(b, res);
	aml_end(b, dev);
}

/* Name(\_S5_, Package() { SLP_TYPa, SLP_TYPb, reserved, reserved }) (§7.4.2) */
static void put_soft_off(struct aml_buf *b)
{
	size_t pkg;

	aml_name(b, "\\_S5_");
	pkg = aml_package_begin(b, 4);
	aml_integer(b, ACPI_SLP_TYP_S5);
	aml_integer(b, ACPI_SLP_TYP_S5);	/* there is no PM1b block; ignored */
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_end(b, pkg);
}

/* The DSDT (§5.2.11.1): a table header, then AML. */
static size_t put_dsdt(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t start = table_begin(b, TABLE_ALIGN);
	size_t sb;

	aml_reserve(b, sizeof(struct acpi_header));
	put_soft_off(b);
	sb = aml_scope_begin(b, "\\_SB_");
	put_serial(b, cfg);
	put_rtc(b, cfg);
	put_pvpanic(b, cfg);
	put_pci_host(b, cfg);
	aml_end(b, sb);
	table_end(b, start, "DSDT", DSDT_REVISION);
	return start;
}

static void put_override(struct aml_buf *b, uint8_t isa_irq, uint32_t gsi, uint16_t flags)
{
	struct madt_override o = {
		.type = MADT_INTERRUPT_OVERRIDE,
		.length = sizeof(o),
		.source = isa_irq,
		.gsi = gsi,
		.flags = flags,
	};

	aml_put(b, &o, sizeof(o));
}

static void put_lapics(struct aml_buf *b, unsigned ncpus)
{
	unsigned i;

	for (i = 0; i < ncpus; i++) {
		struct madt_lapic lapic = {
			.type = MADT_LAPIC,
			.length = sizeof(lapic),
			.processor_uid = i,
			.apic_id = i,
			.flags = MADT_LAPIC_ENABLED,
		};

		aml_put(b, &lapic, sizeof(lapic));
	}
}

static size_t put_madt(struct aml_buf *b, const struct acpi_config *cfg)
{
	struct acpi_madt madt = {
		.lapic_addr = cfg->lapic_addr,
		.flags = MADT_PCAT_COMPAT,
	};
	struct madt_ioapic ioapic = {
		.type = MADT_IOAPIC,
		.length = sizeof(ioapic),
		.address = cfg->ioapic_addr,
	};
	struct madt_lapic_nmi nmi = {
		.type = MADT_LAPIC_NMI,
		.length = sizeof(nmi),
		.processor_uid = MADT_ALL_PROCESSORS,
		.flags = MPS_EDGE_HIGH,
		.lint = 1,
	};
	size_t start = table_begin(b, TABLE_ALIGN);

	aml_put(b, &madt, sizeof(madt));
	put_lapics(b, cfg->ncpus);
	aml_put(b, &ioapic, sizeof(ioapic));
	put_override(b, ISA_IRQ_PIT, IOAPIC_PIN_PIT, MPS_EDGE_HIGH);
	/* Without this, OSPM would take the SCI as level, active low (§5.2.9). */
	put_override(b, cfg->sci_irq, cfg->sci_irq, MPS_LEVEL_HIGH);
	aml_put(b, &nmi, sizeof(nmi));
	table_end(b, start, "APIC", MADT_REVISION);
	return start;
}

static struct acpi_gas io_register(uint16_t port, uint8_t len, uint8_t access_size)
{
	return (struct acpi_gas){
		.space_id = GAS_SYSTEM_IO,
		.bit_width = len * 8,
		.access_size = access_size,
		.address = port,
	};
}

/*
 * The FADT (§5.2.9). SMI_CMD is 0: the platform is always in ACPI mode
 * (SCI_EN reads 1), so OSPM never tries to switch. The PM1a blocks and the
 * timer are given both as legacy port fields and as X_ generic addresses,
 * which must agree; the 32-bit FIRMWARE_CTRL and DSDT stay 0 since the X_
 * fields are set. No PM1b, PM2 or GPE blocks.
 */
static size_t put_fadt(struct aml_buf *b, const struct acpi_config *cfg,
		       uint64_t facs_gpa, uint64_t dsdt_gpa)
{
	struct acpi_fadt fadt = {
		.sci_int = cfg->sci_irq,
		.pm1a_evt_blk = cfg->pm1a_evt_port,
		.pm1a_cnt_blk = cfg->pm1a_cnt_port,
		.pm_tmr_blk = cfg->pm_tmr_port,
		.pm1_evt_len = PM1_EVT_LEN,
		.pm1_cnt_len = PM1_CNT_LEN,
		.pm_tmr_len = PM_TMR_LEN,
		.p_lvl2_lat = FADT_C2_UNSUPPORTED,
		.p_lvl3_lat = FADT_C3_UNSUPPORTED,
		.century = cfg->rtc_century_reg,
		.iapc_boot_arch = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT,
		.flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC,
		.minor_version = FADT_MINOR_REVISION,
		.x_firmware_ctrl = facs_gpa,
		.x_dsdt = dsdt_gpa,
		/* PM1_STS and PM1_EN are 16-bit registers, PM_TMR 32-bit. */
		.x_pm1a_evt_blk = io_register(cfg->pm1a_evt_port, PM1_EVT_LEN, GAS_ACCESS_WORD),
		.x_pm1a_cnt_blk = io_register(cfg->pm1a_cnt_port, PM1_CNT_LEN, GAS_ACCESS_WORD),
		.x_pm_tmr_blk = io_register(cfg->pm_tmr_port, PM_TMR_LEN, GAS_ACCESS_DWORD),
		.hypervisor_vendor_id = "CORRAL",
	};
	size_t start = table_begin(b, TABLE_ALIGN);

	aml_put(b, &fadt, sizeof(fadt));
	table_end(b, start, "FACP", FADT_REVISION);
	return start;
}

static size_t put_xsdt(struct aml_buf *b, uint64_t fadt_gpa, uint64_t madt_gpa)
{
	struct acpi_xsdt xsdt = { .entry = { fadt_gpa, madt_gpa } };
	size_t start = table_begin(b, TABLE_ALIGN);

	aml_put(b, &xsdt, sizeof(xsdt));
	table_end(b, start, "XSDT", XSDT_REVISION);
	return start;
}

static void patch_rsdp(struct aml_buf *b, size_t off, uint64_t xsdt_gpa)
{
	struct acpi_rsdp rsdp = {
		.revision = RSDP_REVISION,
		.length = sizeof(rsdp),
		.xsdt_address = xsdt_gpa,
	};

	memcpy(rsdp.signature, "RSD PTR ", sizeof(rsdp.signature));
	memcpy(rsdp.oem_id, ACPI_OEM_ID, sizeof(rsdp.oem_id));
	rsdp.checksum = aml_checksum(&rsdp, RSDP_V1_LENGTH);
	rsdp.extended_checksum = aml_checksum(&rsdp, sizeof(rsdp));
	aml_patch(b, off, &rsdp, sizeof(rsdp));
}

static void log_build_error(int err, size_t size)
{
	if (err == -ENOSPC)
		log_error("acpi: the tables do not fit in %zu bytes", size);
	else
		log_error("acpi: cannot encode the tables: %s", strerror(-err));
}

/*
 * Each table is written after the tables it points to, so every address is
 * known when it is needed; only the RSDP, which must come first, is
 * reserved up front and filled in last.
 */
int acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t size,
	       uint64_t base_gpa, uint64_t *rsdp_gpa)
{
	size_t rsdp, facs, dsdt, madt, fadt, xsdt;
	struct aml_buf b;
	int err;

	err = check_config(cfg, base_gpa);
	if (err)
		return err;
	aml_init(&b, buf, size);
	rsdp = aml_reserve(&b, sizeof(struct acpi_rsdp));
	facs = put_facs(&b);
	dsdt = put_dsdt(&b, cfg);
	madt = put_madt(&b, cfg);
	fadt = put_fadt(&b, cfg, base_gpa + facs, base_gpa + dsdt);
	xsdt = put_xsdt(&b, base_gpa + fadt, base_gpa + madt);
	patch_rsdp(&b, rsdp, base_gpa + xsdt);
	if (b.err) {
		log_build_error(b.err, size);
		return b.err;
	}
	*rsdp_gpa = base_gpa + rsdp;
	return (int)b.len;
}
