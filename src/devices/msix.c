/*
 * MSI-X, as the PCI Local Bus Specification 3.0 section 6.8.2 describes it:
 * a 12-byte capability, a table of 16-byte entries (message address low and
 * high, message data, vector control) and a pending-bit array, both in a
 * memory BAR. Software must access the table and PBA with aligned dwords or
 * qwords (6.8.2: "otherwise, the result is undefined"); other accesses read
 * all ones and are dropped.
 *
 * A vector may fire only when its entry is unmasked, the function is not
 * masked and MSI-X is enabled. The host holds its MSI source masked
 * otherwise, so that writes to the eventfd from outside the VMM (vhost) are
 * held back too, and the eventfd's counter is the pending bit; `masked` is
 * the state last set on the host, under m->lock.
 */
#include "devices/msix.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Capability layout (6.8.2.1 - 6.8.2.5). */
#define MSIX_CAP_LEN		12
#define MSIX_CAP_CONTROL	2
#define MSIX_CAP_TABLE		4
#define MSIX_CAP_PBA		8
#define MSIX_CONTROL_SIZE_MASK	0x07ff	/* table size minus one */
#define MSIX_CONTROL_MASKALL	0x4000
#define MSIX_CONTROL_ENABLE	0x8000

/* Table entry dwords (6.8.2.6 - 6.8.2.9). */
enum { MSIX_ADDR_LO, MSIX_ADDR_HI, MSIX_DATA, MSIX_CTRL };
#define MSIX_CTRL_MASKED	0x1	/* the other bits are reserved, read 0 */

/* Recomputes whether vector `vec` may fire and tells the host if that
 * changed; the host delivers what it held back. If the host fails, the vector
 * keeps the state the host still has, and the next table or control write
 * tries again. Called with m->lock held. */
static void msix_update_mask(struct msix *m, struct msix_vector *vec)
{
	bool masked = (vec->ctrl & MSIX_CTRL_MASKED) || m->function_masked ||
		      !atomic_load(&m->enabled);
	int err;

	if (masked == vec->masked)
		return;
	err = m->host->msi_mask(m->host->ctx, vec->handle, masked);
	if (err) {
		log_warn("msix: cannot %s handle %d: %s", masked ? "mask" : "unmask", vec->handle,
			 strerror(-err));
		return;
	}
	vec->masked = masked;
}

static bool msix_aligned_access(uint32_t offset, unsigned size, uint32_t len)
{
	return (size == 4 || size == 8) && offset % size == 0 && range_within(offset, size, len);
}

static uint32_t *msix_entry_dword(struct msix *m, uint32_t offset)
{
	struct msix_vector *vec = &m->vec[offset / MSIX_ENTRY_SIZE];
	uint32_t *dw[] = { &vec->addr_lo, &vec->addr_hi, &vec->data, &vec->ctrl };

	return dw[offset % MSIX_ENTRY_SIZE / 4];
}

void msix_table_read(struct msix *m, uint32_t offset, uint8_t *data, unsigned size)
{
	memset(data, 0xff, size);
	if (!msix_aligned_access(offset, size, msix_table_size(m->nvectors)))
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < size; i += 4)
		io_data_put(data + i, 4, *msix_entry_dword(m, offset + i));
	pthread_mutex_unlock(&m->lock);
}

/* Points the vector's MSI source at the message the guest wrote. The spec
 * leaves changing an unmasked entry undefined; we route it anyway. */
static void msix_route(struct msix *m, struct msix_vector *vec)
{
	uint64_t addr = (uint64_t)vec->addr_hi << 32 | vec->addr_lo;
	int err;

	if (!m->host->msi_route)
		return;
	err = m->host->msi_route(m->host->ctx, vec->handle, addr, vec->data);
	if (err)
		log_warn("msix: cannot route handle %d to 0x%llx/0x%x: %s", vec->handle,
			 (unsigned long long)addr, vec->data, strerror(-err));
}

/* A qword write covers two dwords of one entry; the entry is routed once,
 * after both, so the host never sees half a message. */
void msix_table_write(struct msix *m, uint32_t offset, const uint8_t *data, unsigned size)
{
	struct msix_vector *vec;
	uint32_t old_lo, old_hi, old_data;

	if (!msix_aligned_access(offset, size, msix_table_size(m->nvectors)))
		return;
	vec = &m->vec[offset / MSIX_ENTRY_SIZE];
	pthread_mutex_lock(&m->lock);
	old_lo = vec->addr_lo;
	old_hi = vec->addr_hi;
	old_data = vec->data;
	for (unsigned i = 0; i < size; i += 4)
		*msix_entry_dword(m, offset + i) = io_data_get(data + i, 4);
	vec->ctrl &= MSIX_CTRL_MASKED;
	if (vec->addr_lo != old_lo || vec->addr_hi != old_hi || vec->data != old_data)
		msix_route(m, vec);
	msix_update_mask(m, vec);
	pthread_mutex_unlock(&m->lock);
}

/* A masked vector is pending when its eventfd holds a write; looking does
 * not take it. */
static bool msix_pending(const struct msix_vector *vec)
{
	struct pollfd pfd = { .fd = vec->fd, .events = POLLIN };

	return vec->masked && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

void msix_pba_read(struct msix *m, uint32_t offset, uint8_t *data, unsigned size)
{
	memset(data, 0xff, size);
	if (!msix_aligned_access(offset, size, msix_pba_size(m->nvectors)))
		return;
	memset(data, 0, size);
	pthread_mutex_lock(&m->lock);
	for (unsigned byte = 0; byte < size; byte++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			unsigned v = (offset + byte) * 8 + bit;

			if (v < m->nvectors && msix_pending(&m->vec[v]))
				data[byte] |= 1u << bit;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_config_written(struct msix *m, unsigned offset, unsigned size)
{
	unsigned control = m->cap + MSIX_CAP_CONTROL;
	uint16_t v;

	if (offset >= control + 2 || offset + size <= control)
		return;
	v = m->pci->config[control] | m->pci->config[control + 1] << 8;
	pthread_mutex_lock(&m->lock);
	atomic_store(&m->enabled, v & MSIX_CONTROL_ENABLE);
	m->function_masked = v & MSIX_CONTROL_MASKALL;
	for (unsigned i = 0; i < m->nvectors; i++)
		msix_update_mask(m, &m->vec[i]);
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	return atomic_load(&m->enabled);
}

/*
 * Lock-free, so device threads never wait on a vCPU writing the table: the
 * mask is the host's business. A notify racing with a mask may still deliver
 * one message, as a message already on its way would on hardware; one racing
 * with an unmask is either held and delivered by the unmask or delivered by
 * itself.
 */
void msix_notify(struct msix *m, unsigned v)
{
	uint64_t one = 1;

	if (v >= m->nvectors)
		return;
	if (write(m->vec[v].fd, &one, sizeof(one)) != sizeof(one))
		log_debug("msix: cannot signal handle %d", m->vec[v].handle);
}

int msix_vector_fd(struct msix *m, unsigned v)
{
	return v < m->nvectors ? m->vec[v].fd : -1;
}

static int msix_check_layout(const struct pci_device *pci, unsigned bar, unsigned nvectors,
			     uint32_t table_offset, uint32_t pba_offset)
{
	uint32_t table_size = msix_table_size(nvectors);
	uint32_t pba_size = msix_pba_size(nvectors);
	uint32_t bar_size;

	if (bar >= PCI_NUM_BARS || !nvectors || nvectors > MSIX_MAX_VECTORS)
		return -EINVAL;
	bar_size = pci->bar_size[bar];
	/* The low 3 bits of the offset dwords hold the BAR indicator. */
	if (table_offset % 8 || pba_offset % 8)
		return -EINVAL;
	if (!range_within(table_offset, table_size, bar_size) ||
	    !range_within(pba_offset, pba_size, bar_size))
		return -EINVAL;
	if (table_offset < pba_offset + pba_size && pba_offset < table_offset + table_size)
		return -EINVAL;
	return 0;
}

static int msix_alloc_vectors(struct msix *m)
{
	m->vec = calloc(m->nvectors, sizeof(*m->vec));
	if (!m->vec)
		return -ENOMEM;
	for (unsigned i = 0; i < m->nvectors; i++) {
		struct msix_vector *vec = &m->vec[i];
		int handle = m->host->msi_alloc(m->host->ctx, &vec->fd);

		if (handle < 0) {
			log_error("msix: cannot allocate MSI source %u of %u: %s", i,
				  m->nvectors, strerror(-handle));
			return handle;
		}
		vec->handle = handle;
		vec->ctrl = MSIX_CTRL_MASKED;
		vec->masked = true;	/* as the host's sources start */
	}
	return 0;
}

static int msix_add_capability(struct msix *m, unsigned bar, uint32_t table_offset,
			       uint32_t pba_offset)
{
	uint8_t cap[MSIX_CAP_LEN] = { PCI_CAP_ID_MSIX };
	int offset;

	io_data_put(&cap[MSIX_CAP_CONTROL], 2, (m->nvectors - 1) & MSIX_CONTROL_SIZE_MASK);
	io_data_put(&cap[MSIX_CAP_TABLE], 4, table_offset | bar);
	io_data_put(&cap[MSIX_CAP_PBA], 4, pba_offset | bar);
	offset = pci_device_add_capability(m->pci, cap, sizeof(cap));
	if (offset < 0)
		return offset;
	m->cap = offset;
	/* Only enable and function mask are the guest's to change. */
	io_data_put(&m->pci->wmask[offset + MSIX_CAP_CONTROL], 2,
		    MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL);
	return 0;
}

/* On failure the MSI sources already allocated stay with the host, which
 * owns them and frees them with the machine. */
int msix_init(struct msix *m, struct pci_device *pci, unsigned bar, unsigned nvectors,
	      uint32_t table_offset, uint32_t pba_offset, const struct device_host *host)
{
	int err;

	memset(m, 0, sizeof(*m));
	if (!host->msi_alloc || !host->msi_mask) {
		log_error("msix: %s: the host has no MSI sources", pci->name);
		return -EINVAL;
	}
	err = msix_check_layout(pci, bar, nvectors, table_offset, pba_offset);
	if (err) {
		log_error("msix: %s: bad layout for %u vectors in BAR%u", pci->name, nvectors, bar);
		return err;
	}
	err = -pthread_mutex_init(&m->lock, NULL);
	if (err)
		return err;
	/* From here msix_fini() undoes what was done. */
	m->host = host;
	m->pci = pci;
	m->nvectors = nvectors;
	atomic_init(&m->enabled, false);
	err = msix_alloc_vectors(m);
	if (!err)
		err = msix_add_capability(m, bar, table_offset, pba_offset);
	if (err) {
		msix_fini(m);
		return err;
	}
	return 0;
}

void msix_fini(struct msix *m)
{
	if (!m->nvectors)
		return;
	free(m->vec);
	m->vec = NULL;
	m->nvectors = 0;
	pthread_mutex_destroy(&m->lock);
}
