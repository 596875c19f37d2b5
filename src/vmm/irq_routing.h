/*
 * How KVM's GSIs reach the in-kernel interrupt controllers.
 *
 * KVM's default table sends GSI n to IOAPIC pin n. A PC, and our MADT,
 * instead wire the PIT's ISA IRQ 0 to IOAPIC pin 2 (the interrupt source
 * override every PC firmware declares), so we install the PC table: ISA IRQs
 * 0-15 on the two 8259 PICs (2 is the cascade), and GSI 0-23 on the IOAPIC
 * with GSI 0 landing on pin 2. MSI routes for PCI devices will join this
 * table.
 */
#ifndef CORRAL_VMM_IRQ_ROUTING_H
#define CORRAL_VMM_IRQ_ROUTING_H

#define IRQ_ROUTING_IOAPIC_PINS 24

int irq_routing_init_pc(int vm_fd);

#endif
