#include "vmm/irq_routing.h"
#include "common/log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#define ISA_IRQS 16
#define PIC_CASCADE_IRQ 2
#define PIT_IRQ 0
#define PIT_IOAPIC_PIN 2

static void add_route(struct kvm_irq_routing *table, unsigned gsi, unsigned chip, unsigned pin)
{
	table->entries[table->nr++] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

int irq_routing_init_pc(int vm_fd)
{
	unsigned max = ISA_IRQS + IRQ_ROUTING_IOAPIC_PINS;
	struct kvm_irq_routing *table;
	int err = 0;

	table = calloc(1, sizeof(*table) + max * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
		if (irq == PIC_CASCADE_IRQ)
			continue;
		add_route(table, irq, irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			  irq % 8);
	}
	for (unsigned gsi = 0; gsi < IRQ_ROUTING_IOAPIC_PINS; gsi++)
		add_route(table, gsi, KVM_IRQCHIP_IOAPIC, gsi == PIT_IRQ ? PIT_IOAPIC_PIN : gsi);
	if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		err = log_errno("KVM_SET_GSI_ROUTING");
	free(table);
	return err;
}
