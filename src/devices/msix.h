/*
 * MSI-X for a PCI device: the capability in config space, the vector table
 * and pending-bit array inside one of the device's memory BARs, and delivery
 * through the host's MSI sources (device_host: one irqfd per vector).
 *
 * The owner forwards BAR accesses in the table or PBA range and config
 * writes that touch the capability here. Each table entry is routed to its
 * MSI source when the guest writes it. A vector is masked while its entry is,
 * the function is, or MSI-X is disabled, and the host does the masking
 * (device_host's msi_mask): writes to a masked vector's eventfd are held
 * there, whoever makes them, and raise the message once when it is unmasked,
 * as the PCI spec asks of a pending vector. So msix_notify() is one eventfd
 * write, from any thread, taking no lock.
 */
#ifndef CORRAL_DEVICES_MSIX_H
#define CORRAL_DEVICES_MSIX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/pci.h"

#define MSIX_MAX_VECTORS 256
#define MSIX_ENTRY_SIZE  16

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* the table entry as the guest wrote it */
	int handle;				/* the host's MSI source */
	int fd;					/* its eventfd */
	bool masked;				/* as last set on the host */
};

struct msix {
	const struct device_host *host;
	struct pci_device *pci;
	unsigned cap;				/* capability offset in config space */
	unsigned nvectors;
	struct msix_vector *vec;
	_Atomic bool enabled;			/* message control as last written: */
	bool function_masked;			/* copies readable without the bus lock */
	pthread_mutex_t lock;			/* the table and the mask states */
};

/*
 * Adds the capability to `pci` with `nvectors` vectors, the table at
 * `table_offset` and the PBA at `pba_offset` inside BAR `bar` (both 8-byte
 * aligned, the BAR already declared and large enough), and allocates one MSI
 * source per vector. Vectors start masked, MSI-X disabled.
 */
int msix_init(struct msix *m, struct pci_device *pci, unsigned bar, unsigned nvectors,
	      uint32_t table_offset, uint32_t pba_offset, const struct device_host *host);
void msix_fini(struct msix *m);

/* Table and PBA accesses, `offset` relative to the table or PBA start. */
void msix_table_read(struct msix *m, uint32_t offset, uint8_t *data, unsigned size);
void msix_table_write(struct msix *m, uint32_t offset, const uint8_t *data, unsigned size);
void msix_pba_read(struct msix *m, uint32_t offset, uint8_t *data, unsigned size);
static inline uint32_t msix_table_size(unsigned nvectors) { return nvectors * MSIX_ENTRY_SIZE; }
static inline uint32_t msix_pba_size(unsigned nvectors) { return (nvectors + 63) / 64 * 8; }

/* The guest wrote config bytes [offset, offset + size); call for every
 * config write (it ignores those outside the capability). Called with the
 * PCI bus lock held. */
void msix_config_written(struct msix *m, unsigned offset, unsigned size);

/* MSI-X enabled by the guest (then INTx is off). */
bool msix_enabled(struct msix *m);

/* Raises vector v; out-of-range vectors are ignored. */
void msix_notify(struct msix *m, unsigned v);

/* The eventfd whose every write raises vector v, held back while the vector
 * is masked (by the host, so writers outside the VMM such as vhost are masked
 * too); -1 for an out-of-range v. */
int msix_vector_fd(struct msix *m, unsigned v);

#endif
