#include "vmm/machine.h"
#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/vm.h"
#include "devices/acpi_pm.h"
#include "devices/cmos_rtc.h"
#include "devices/i8042.h"
#include "devices/pvpanic.h"
#include "devices/serial8250.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "vmm/irq_routing.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

static struct irq_line vm_irq(struct vm *vm, unsigned gsi)
{
	return (struct irq_line){ .set = vm_set_irq, .machine = vm, .gsi = gsi };
}

static void on_poweroff(void *vm)
{
	vm_request_stop(vm, VM_STOP_POWEROFF, "the guest powered off");
}

static void on_reset(void *vm)
{
	vm_request_stop(vm, VM_STOP_REBOOT, "the guest asked for a reboot");
}

static void on_panic(void *vm)
{
	vm_request_stop(vm, VM_STOP_CRASH, "the guest panicked (pvpanic)");
}

static int create_devices(struct vm *vm, struct machine *m)
{
	struct irq_line serial_irq = vm_irq(vm, MACHINE_SERIAL_IRQ);
	struct irq_line sci = vm_irq(vm, MACHINE_SCI_IRQ);
	struct char_backend console = { 0 };
	uint64_t above_4g = vm->mem.nregions > 1 ? vm->mem.region[1].size : 0;

	if (vm->console)
		console = console_backend(vm->console);
	m->serial = serial8250_create(&serial_irq, &console);
	m->i8042 = i8042_create(on_reset, vm);
	m->rtc = cmos_rtc_create(guest_memory_low_end(&vm->mem), above_4g);
	m->pm = acpi_pm_create(&sci, on_poweroff, vm);
	m->pvpanic = pvpanic_create(on_panic, vm);
	if (!m->serial || !m->i8042 || !m->rtc || !m->pm || !m->pvpanic)
		return -ENOMEM;
	return 0;
}

static int register_devices(struct vm *vm, struct machine *m)
{
	struct ioport_bus *io = &vm->io;
	int err = 0;

	err |= ioport_register(io, "serial", MACHINE_SERIAL_PORT, 8, &serial8250_io_ops,
			       m->serial);
	err |= ioport_register(io, "i8042 data", MACHINE_I8042_PORT, 1, &i8042_data_io_ops,
			       m->i8042);
	err |= ioport_register(io, "i8042 command", MACHINE_I8042_PORT + 4, 1,
			       &i8042_command_io_ops, m->i8042);
	err |= ioport_register(io, "rtc", MACHINE_RTC_PORT, 2, &cmos_rtc_io_ops, m->rtc);
	err |= ioport_register(io, "acpi-pm", MACHINE_ACPI_PM_PORT, ACPI_PM_PORT_LEN,
			       &acpi_pm_io_ops, m->pm);
	err |= ioport_register(io, "pvpanic", MACHINE_PVPANIC_PORT, PVPANIC_PORT_LEN,
			       &pvpanic_io_ops, m->pvpanic);
	return err ? -EBUSY : 0;
}

static int host_msi_alloc(void *vm, int *fd)
{
	return irq_routing_add_msi(&((struct vm *)vm)->irq, fd);
}

static int host_msi_route(void *vm, int handle, uint64_t addr, uint32_t data)
{
	return irq_routing_set_msi(&((struct vm *)vm)->irq, handle, addr, data);
}

static int host_msi_mask(void *vm, int handle, bool masked)
{
	return irq_routing_mask_msi(&((struct vm *)vm)->irq, handle, masked);
}

static int create_pci(struct vm *vm, struct machine *m)
{
	int err = pci_bus_init(&m->pci, LAYOUT_PCI_MMIO, LAYOUT_PCI_MMIO_SIZE);

	m->host = (struct device_host){
		.mem = &vm->mem,
		.msi_alloc = host_msi_alloc,
		.msi_route = host_msi_route,
		.msi_mask = host_msi_mask,
		.doorbell = vm_set_doorbell,
		.ctx = vm,
	};
	if (!err)
		err = ioport_register(&vm->io, "pci-config", PCI_CONFIG_PORT, PCI_CONFIG_PORT_LEN,
				      &pci_config_io_ops, &m->pci);
	return err;
}

static int plug(struct machine *m, struct pci_device *d)
{
	int err = pci_bus_add(&m->pci, d);

	if (err < 0)
		log_error("%s: no room on the PCI bus", d->name);
	return err;
}

static int create_virtio(struct vm *vm, struct machine *m)
{
	const struct machine_devices *want = vm->devices;
	struct char_backend hvc;
	int err = 0;

	for (unsigned i = 0; !err && want && i < want->ndisks; i++) {
		m->disk[i] = virtio_blk_create(&want->disk[i], &m->host);
		err = m->disk[i] ? plug(m, virtio_blk_pci(m->disk[i])) : -EIO;
	}
	for (unsigned i = 0; !err && want && i < want->nnics; i++) {
		m->nic[i] = virtio_net_create(&want->nic[i], &m->host);
		err = m->nic[i] ? plug(m, virtio_net_pci(m->nic[i])) : -EIO;
	}
	if (!err && want && want->rng) {
		m->rng = virtio_rng_create(&m->host);
		err = m->rng ? plug(m, virtio_rng_pci(m->rng)) : -EIO;
	}
	if (!err && vm->hvc_console) {
		hvc = console_backend(vm->hvc_console);
		m->hvc = virtio_console_create(&m->host, &hvc);
		err = m->hvc ? plug(m, virtio_console_pci(m->hvc)) : -EIO;
	}
	return err;
}

void machine_acpi_config(unsigned ncpus, struct acpi_config *cfg)
{
	*cfg = (struct acpi_config){
		.ncpus = ncpus,
		.lapic_addr = LAYOUT_LAPIC,
		.ioapic_addr = LAYOUT_IOAPIC,
		.pm1a_evt_port = MACHINE_ACPI_PM_PORT + ACPI_PM1_EVT_OFFSET,
		.pm1a_cnt_port = MACHINE_ACPI_PM_PORT + ACPI_PM1_CNT_OFFSET,
		.pm_tmr_port = MACHINE_ACPI_PM_PORT + ACPI_PM_TMR_OFFSET,
		.sci_irq = MACHINE_SCI_IRQ,
		.pvpanic_port = MACHINE_PVPANIC_PORT,
		.serial_port = MACHINE_SERIAL_PORT,
		.serial_irq = MACHINE_SERIAL_IRQ,
		.rtc_port = MACHINE_RTC_PORT,
		.rtc_century_reg = CMOS_RTC_CENTURY_REG,
		.pci_config_port = PCI_CONFIG_PORT,
		.pci_mmio_base = LAYOUT_PCI_MMIO,
		.pci_mmio_size = LAYOUT_PCI_MMIO_SIZE,
	};
}

static int write_acpi_tables(struct vm *vm, struct machine *m)
{
	uint8_t *area = guest_ptr(&vm->mem, LAYOUT_ACPI, LAYOUT_ACPI_SIZE);
	struct acpi_config cfg;
	int len;

	if (!area)
		return -EFAULT;
	machine_acpi_config(vm->nvcpus, &cfg);
	len = acpi_build(&cfg, area, LAYOUT_ACPI_SIZE, LAYOUT_ACPI, &m->rsdp);
	if (len < 0) {
		log_error("cannot build the ACPI tables: %s", strerror(-len));
		return len;
	}
	return 0;
}

int machine_create(struct vm *vm)
{
	struct machine *m = &vm->machine;
	int err = create_devices(vm, m);

	if (!err)
		err = register_devices(vm, m);
	if (!err)
		err = create_pci(vm, m);
	if (!err)
		err = create_virtio(vm, m);
	if (!err)
		err = write_acpi_tables(vm, m);
	return err;
}

void machine_destroy(struct machine *m)
{
	/* Devices first: their threads stop before the bus and memory go. */
	for (unsigned i = 0; i < MACHINE_MAX_DISKS; i++)
		virtio_blk_destroy(m->disk[i]);
	for (unsigned i = 0; i < MACHINE_MAX_NICS; i++)
		virtio_net_destroy(m->nic[i]);
	virtio_rng_destroy(m->rng);
	virtio_console_destroy(m->hvc);
	if (m->pci.mmio_size)
		pci_bus_fini(&m->pci);
	serial8250_destroy(m->serial);
	i8042_destroy(m->i8042);
	cmos_rtc_destroy(m->rtc);
	acpi_pm_destroy(m->pm);
	pvpanic_destroy(m->pvpanic);
	*m = (struct machine){ 0 };
}

size_t machine_console_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vm *vm = opaque;

	return serial8250_receive(vm->machine.serial, buf, len);
}

void machine_power_button(struct vm *vm)
{
	acpi_pm_press_power_button(vm->machine.pm);
}

size_t machine_hvc_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vm *vm = opaque;

	return virtio_console_receive(vm->machine.hvc, buf, len);
}

void machine_mmio(struct vm *vm, uint64_t addr, bool write, uint8_t *data, unsigned size)
{
	if (pci_bus_mmio(&vm->machine.pci, addr, write, data, size))
		return;
	/* Nothing decodes it: reads see all ones, writes vanish, as on a PC. */
	if (!write)
		memset(data, 0xff, size);
	log_debug("unclaimed MMIO %s at 0x%llx", write ? "write" : "read",
		  (unsigned long long)addr);
}
