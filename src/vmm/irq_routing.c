#include "vmm/irq_routing.h"
#include "common/log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define ISA_IRQS 16
#define PIC_CASCADE_IRQ 2
#define PIT_IRQ 0
#define PIT_IOAPIC_PIN 2

static void add_irqchip(struct kvm_irq_routing *table, unsigned gsi, unsigned chip, unsigned pin)
{
	table->entries[table->nr++] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

static void add_msi(struct kvm_irq_routing *table, unsigned gsi, const struct irq_msi *msi)
{
	table->entries[table->nr++] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)msi->addr, .address_hi = msi->addr >> 32,
			   .data = msi->data },
	};
}

/* Builds the whole table and hands it to KVM. Called with the lock held. */
static int commit(struct irq_routing *r)
{
	unsigned max = ISA_IRQS + IRQ_ROUTING_IOAPIC_PINS + r->nmsi;
	struct kvm_irq_routing *table;
	int err = 0;

	table = calloc(1, sizeof(*table) + max * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
		if (irq == PIC_CASCADE_IRQ)
			continue;
		add_irqchip(table, irq, irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			    irq % 8);
	}
	for (unsigned gsi = 0; gsi < IRQ_ROUTING_IOAPIC_PINS; gsi++)
		add_irqchip(table, gsi, KVM_IRQCHIP_IOAPIC, gsi == PIT_IRQ ? PIT_IOAPIC_PIN : gsi);
	for (unsigned i = 0; i < r->nmsi; i++)
		add_msi(table, IRQ_ROUTING_IOAPIC_PINS + i, &r->msi[i]);
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		err = log_errno("KVM_SET_GSI_ROUTING");
	free(table);
	return err;
}

int irq_routing_init(struct irq_routing *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	pthread_mutex_init(&r->lock, NULL);
	return commit(r);
}

void irq_routing_fini(struct irq_routing *r)
{
	for (unsigned i = 0; i < r->nmsi; i++)
		close(r->msi[i].fd);
	r->nmsi = 0;
	pthread_mutex_destroy(&r->lock);
}

int irq_routing_add_msi(struct irq_routing *r, int *fd)
{
	struct irq_msi *msi;
	int err, handle;

	pthread_mutex_lock(&r->lock);
	if (r->nmsi == IRQ_ROUTING_MAX_MSI) {
		pthread_mutex_unlock(&r->lock);
		log_error("out of MSI sources (%d)", IRQ_ROUTING_MAX_MSI);
		return -ENOSPC;
	}
	handle = r->nmsi;
	msi = &r->msi[handle];
	*msi = (struct irq_msi){ .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
	err = msi->fd < 0 ? log_errno("eventfd") : 0;
	if (!err) {
		/* The irqfd binds on the first unmask, to a route that exists. */
		r->nmsi++;
		err = commit(r);
		if (err) {
			r->nmsi--;
			close(msi->fd);
		}
	}
	pthread_mutex_unlock(&r->lock);
	*fd = err ? -1 : msi->fd;
	return err ? err : handle;
}

static int irqfd(struct irq_routing *r, int handle, uint32_t flags)
{
	struct kvm_irqfd irqfd = {
		.fd = r->msi[handle].fd,
		.gsi = IRQ_ROUTING_IOAPIC_PINS + handle,
		.flags = flags,
	};

	if (ioctl(r->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return log_errno(flags ? "KVM_IRQFD deassign" : "KVM_IRQFD");
	return 0;
}

/*
 * KVM injects on every write to a bound eventfd (and drains its counter), and
 * once at binding if the eventfd is already readable, but leaves the counter
 * as it is then. So take what was held first, and hand it back as a single
 * write: after binding, that raises the message once; if binding failed, it
 * keeps the source pending. A write racing in between stays in the counter
 * and KVM raises it at binding.
 */
static int unmask_msi(struct irq_routing *r, int handle)
{
	struct irq_msi *msi = &r->msi[handle];
	uint64_t count = 0, one = 1;
	int err;

	if (read(msi->fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return log_errno("MSI eventfd read");
	err = irqfd(r, handle, 0);
	msi->bound = !err;
	if (count && write(msi->fd, &one, sizeof(one)) != sizeof(one) && !err)
		err = log_errno("MSI eventfd write");
	return err;
}

/* KVM has finished with the irqfd when the deassign returns: later writes
 * stay in the counter. */
static int mask_msi(struct irq_routing *r, int handle)
{
	int err = irqfd(r, handle, KVM_IRQFD_FLAG_DEASSIGN);

	r->msi[handle].bound = err != 0;
	return err;
}

int irq_routing_mask_msi(struct irq_routing *r, int handle, bool masked)
{
	int err = 0;

	pthread_mutex_lock(&r->lock);
	if (handle < 0 || (unsigned)handle >= r->nmsi)
		err = -EINVAL;
	else if (r->msi[handle].bound == masked)
		err = masked ? mask_msi(r, handle) : unmask_msi(r, handle);
	pthread_mutex_unlock(&r->lock);
	return err;
}

int irq_routing_set_msi(struct irq_routing *r, int handle, uint64_t addr, uint32_t data)
{
	int err = 0;

	pthread_mutex_lock(&r->lock);
	if (handle < 0 || (unsigned)handle >= r->nmsi) {
		err = -EINVAL;
	} else if (r->msi[handle].addr != addr || r->msi[handle].data != data) {
		r->msi[handle].addr = addr;
		r->msi[handle].data = data;
		err = commit(r);
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}
