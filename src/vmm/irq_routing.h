/*
 * How KVM's GSIs reach the in-kernel interrupt controllers, and the MSI
 * sources of PCI devices.
 *
 * KVM's default table sends GSI n to IOAPIC pin n. A PC, and our MADT,
 * instead wire the PIT's ISA IRQ 0 to IOAPIC pin 2 (the interrupt source
 * override every PC firmware declares), so we install the PC table: ISA IRQs
 * 0-15 on the two 8259 PICs (2 is the cascade), and GSI 0-23 on the IOAPIC
 * with GSI 0 landing on pin 2. Each MSI source then gets a GSI of its own
 * above those, an MSI route, and an eventfd bound to it with KVM_IRQFD, so
 * a device thread (or vhost in the kernel) interrupts the guest with one
 * write() and no VMM exit. KVM only takes the table whole, so every change
 * rebuilds and commits it; a mutex serialises the vCPU threads that program
 * MSI-X tables.
 *
 * Masking happens in KVM too, whoever writes the eventfd: a masked source's
 * irqfd is unbound (KVM_IRQFD_FLAG_DEASSIGN), so writes pile up in the
 * eventfd's counter. Unmasking drains the counter, binds the irqfd again and,
 * if anything was held, writes 1 so that KVM raises the message once. Sources
 * start masked.
 */
#ifndef CORRAL_VMM_IRQ_ROUTING_H
#define CORRAL_VMM_IRQ_ROUTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQ_ROUTING_IOAPIC_PINS 24
#define IRQ_ROUTING_MAX_MSI     512

struct irq_msi {
	uint64_t addr;
	uint32_t data;
	int fd;			/* the irqfd's eventfd */
	bool bound;		/* the irqfd is assigned: unmasked */
};

struct irq_routing {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned nmsi;
	struct irq_msi msi[IRQ_ROUTING_MAX_MSI];	/* GSI = IRQ_ROUTING_IOAPIC_PINS + index */
};

/* Installs the PC table on the VM. */
int irq_routing_init(struct irq_routing *r, int vm_fd);
void irq_routing_fini(struct irq_routing *r);

/* A new MSI source, masked: returns its handle (>= 0) and its eventfd in *fd. */
int irq_routing_add_msi(struct irq_routing *r, int *fd);

/* Points MSI source `handle` at (addr, data) and commits the table. */
int irq_routing_set_msi(struct irq_routing *r, int handle, uint64_t addr, uint32_t data);

/* Masks or unmasks MSI source `handle`; setting the state it has does nothing. */
int irq_routing_mask_msi(struct irq_routing *r, int handle, bool masked);

#endif
