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
 * a device thread interrupts the guest with one write() and no VMM exit.
 * KVM only takes the table whole, so every change rebuilds and commits it;
 * a mutex serialises the vCPU threads that program MSI-X tables.
 */
#ifndef CORRAL_VMM_IRQ_ROUTING_H
#define CORRAL_VMM_IRQ_ROUTING_H

#include <pthread.h>
#include <stdint.h>

#define IRQ_ROUTING_IOAPIC_PINS 24
#define IRQ_ROUTING_MAX_MSI     512

struct irq_msi {
	uint64_t addr;
	uint32_t data;
	int fd;			/* the irqfd */
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

/* A new MSI source: returns its handle (>= 0) and its eventfd in *fd. */
int irq_routing_add_msi(struct irq_routing *r, int *fd);

/* Points MSI source `handle` at (addr, data) and commits the table. */
int irq_routing_set_msi(struct irq_routing *r, int handle, uint64_t addr, uint32_t data);

#endif
