/*
 * A struct device_host for unit tests of device models, with no KVM behind
 * it, recording what the device asked of it.
 *
 * - MSI sources are real non-blocking eventfds; msi_alloc hands out handles
 *   0, 1, 2, ... and fake_host_msi_fired() reads (and so clears) a source's
 *   counter, telling a test how many times the device raised it.
 * - msi_route stores the message per handle (fake_host.msi[handle]).
 * - msi_mask masks as KVM does for irq_routing: sources start masked, and
 *   while one is, writes pile up in its eventfd and fake_host_msi_fired()
 *   reports 0 without reading; unmasking drains the counter and writes 1
 *   back if it held anything, so the held writes fire once.
 * - doorbell keeps the set of assigned doorbells, refusing a duplicate
 *   assign or an unknown deassign as KVM does, and logs every call.
 * - guest memory is one zeroed malloc'd region at guest-physical 0, so
 *   guest_ptr() works on it; fake_host_gpa() is the test's side of it.
 *
 * Usage:
 *	struct fake_host fh;
 *	fake_host_init(&fh, 1 << 20);	// 1 MiB of guest memory, or 0 for none
 *	... device_create(&fh.host) ...
 *	CHECK_EQ(fake_host_msi_fired(&fh, handle), 1);
 *	fake_host_fini(&fh);
 *
 * Calls may come from any thread (they take fh.lock), but tests read the
 * records directly, so they should do so once the device is quiet. Set
 * fail_msi_alloc (or fail_msi_route, fail_msi_mask, fail_doorbell) to a
 * negative errno to make those calls fail. Everything is static inline so
 * that a test using only part of it compiles without unused-function
 * warnings.
 */
#ifndef CORRAL_TESTS_FAKE_HOST_H
#define CORRAL_TESTS_FAKE_HOST_H

#include "common/guest_memory.h"
#include "devices/device.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define FAKE_HOST_MAX_MSI       300	/* more than MSIX_MAX_VECTORS */
#define FAKE_HOST_MAX_DOORBELLS 128
#define FAKE_HOST_MAX_LOG       256

struct fake_msi {
	int fd;			/* eventfd, non-blocking */
	unsigned routes;	/* msi_route calls for this handle */
	uint64_t addr;		/* the last message routed to it */
	uint32_t data;
	bool masked;		/* by msi_mask; sources start masked */
};

struct fake_doorbell {
	uint64_t addr;
	unsigned len;
	int fd;
	bool assign;		/* in the log: assign or deassign */
};

struct fake_host {
	struct device_host host;	/* hand &fh.host to the device */
	struct guest_memory mem;
	pthread_mutex_t lock;

	struct fake_msi msi[FAKE_HOST_MAX_MSI];
	unsigned nmsi;
	unsigned route_calls;		/* msi_route calls, all handles */
	unsigned mask_calls;		/* msi_mask calls, all handles */

	struct fake_doorbell doorbell[FAKE_HOST_MAX_DOORBELLS];	/* assigned now */
	unsigned ndoorbells;
	struct fake_doorbell doorbell_log[FAKE_HOST_MAX_LOG];	/* every call, in order */
	unsigned ndoorbell_log;

	int fail_msi_alloc, fail_msi_route, fail_msi_mask, fail_doorbell; /* 0 or -errno */
};

static inline int fake_host_msi_alloc(void *ctx, int *fd)
{
	struct fake_host *fh = ctx;
	int handle = -1, err = 0;

	pthread_mutex_lock(&fh->lock);
	if (fh->fail_msi_alloc)
		err = fh->fail_msi_alloc;
	else if (fh->nmsi >= FAKE_HOST_MAX_MSI)
		err = -ENOSPC;
	if (!err) {
		*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (*fd < 0)
			err = -errno;
	}
	if (!err) {
		handle = fh->nmsi++;
		fh->msi[handle] = (struct fake_msi){ .fd = *fd, .masked = true };
	}
	pthread_mutex_unlock(&fh->lock);
	return err ? err : handle;
}

static inline int fake_host_msi_route(void *ctx, int handle, uint64_t addr, uint32_t data)
{
	struct fake_host *fh = ctx;
	int err = 0;

	pthread_mutex_lock(&fh->lock);
	fh->route_calls++;
	if (handle < 0 || (unsigned)handle >= fh->nmsi) {
		err = -EINVAL;
	} else if (fh->fail_msi_route) {
		err = fh->fail_msi_route;
	} else {
		fh->msi[handle].routes++;
		fh->msi[handle].addr = addr;
		fh->msi[handle].data = data;
	}
	pthread_mutex_unlock(&fh->lock);
	return err;
}

/* Unmasking: the held writes, if any, become one. Called with fh->lock held. */
static inline int fake_host_msi_unmask(struct fake_msi *msi)
{
	uint64_t count = 0, one = 1;

	if (read(msi->fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	if (count && write(msi->fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

static inline int fake_host_msi_mask(void *ctx, int handle, bool masked)
{
	struct fake_host *fh = ctx;
	struct fake_msi *msi;
	int err = 0;

	pthread_mutex_lock(&fh->lock);
	fh->mask_calls++;
	if (handle < 0 || (unsigned)handle >= fh->nmsi) {
		err = -EINVAL;
	} else if (fh->fail_msi_mask) {
		err = fh->fail_msi_mask;
	} else {
		msi = &fh->msi[handle];
		if (msi->masked && !masked)
			err = fake_host_msi_unmask(msi);
		if (!err)
			msi->masked = masked;
	}
	pthread_mutex_unlock(&fh->lock);
	return err;
}

static inline int fake_host_doorbell_find(const struct fake_host *fh, uint64_t addr)
{
	for (unsigned i = 0; i < fh->ndoorbells; i++) {
		if (fh->doorbell[i].addr == addr)
			return i;
	}
	return -1;
}

static inline int fake_host_doorbell_call(void *ctx, uint64_t addr, unsigned len, int fd,
					  bool assign)
{
	struct fake_host *fh = ctx;
	struct fake_doorbell db = { .addr = addr, .len = len, .fd = fd, .assign = assign };
	int i, err = 0;

	pthread_mutex_lock(&fh->lock);
	if (fh->ndoorbell_log < FAKE_HOST_MAX_LOG)
		fh->doorbell_log[fh->ndoorbell_log++] = db;
	i = fake_host_doorbell_find(fh, addr);
	if (fh->fail_doorbell)
		err = fh->fail_doorbell;
	else if (assign && i >= 0)
		err = -EEXIST;
	else if (assign && fh->ndoorbells >= FAKE_HOST_MAX_DOORBELLS)
		err = -ENOSPC;
	else if (assign)
		fh->doorbell[fh->ndoorbells++] = db;
	else if (i < 0 || fh->doorbell[i].fd != fd)
		err = -ENOENT;
	else
		fh->doorbell[i] = fh->doorbell[--fh->ndoorbells];
	pthread_mutex_unlock(&fh->lock);
	return err;
}

/* Sets up the host with `mem_size` bytes of zeroed guest memory at gpa 0
 * (none if 0). Returns 0 or -errno. */
static inline int fake_host_init(struct fake_host *fh, uint64_t mem_size)
{
	memset(fh, 0, sizeof(*fh));
	if (pthread_mutex_init(&fh->lock, NULL))
		return -ENOMEM;
	if (mem_size) {
		fh->mem.region[0].host = calloc(1, mem_size);
		if (!fh->mem.region[0].host) {
			pthread_mutex_destroy(&fh->lock);
			return -ENOMEM;
		}
		fh->mem.region[0].gpa = 0;
		fh->mem.region[0].size = mem_size;
		fh->mem.nregions = 1;
		fh->mem.total = mem_size;
	}
	fh->host = (struct device_host){
		.mem = &fh->mem,
		.msi_alloc = fake_host_msi_alloc,
		.msi_route = fake_host_msi_route,
		.msi_mask = fake_host_msi_mask,
		.doorbell = fake_host_doorbell_call,
		.ctx = fh,
	};
	return 0;
}

static inline void fake_host_fini(struct fake_host *fh)
{
	for (unsigned i = 0; i < fh->nmsi; i++)
		close(fh->msi[i].fd);
	free(fh->mem.region[0].host);
	pthread_mutex_destroy(&fh->lock);
	memset(fh, 0, sizeof(*fh));
}

/* How many times MSI source `handle` was raised since the last call (0 if
 * never); reading clears the count. A masked source raises nothing: its
 * writes stay held in the eventfd. Never blocks. */
static inline uint64_t fake_host_msi_fired(struct fake_host *fh, int handle)
{
	uint64_t count = 0;

	if (handle < 0 || (unsigned)handle >= fh->nmsi)
		return 0;
	pthread_mutex_lock(&fh->lock);
	if (!fh->msi[handle].masked &&
	    read(fh->msi[handle].fd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	pthread_mutex_unlock(&fh->lock);
	return count;
}

/* The eventfd a doorbell at `addr` signals, or -1 if none is assigned. */
static inline int fake_host_doorbell_fd(struct fake_host *fh, uint64_t addr)
{
	int i, fd;

	pthread_mutex_lock(&fh->lock);
	i = fake_host_doorbell_find(fh, addr);
	fd = i < 0 ? -1 : fh->doorbell[i].fd;
	pthread_mutex_unlock(&fh->lock);
	return fd;
}

/* A host pointer to guest memory at `gpa` for `len` bytes (NULL if outside
 * it), for the test to lay out rings and buffers. */
static inline void *fake_host_gpa(struct fake_host *fh, uint64_t gpa, uint64_t len)
{
	return guest_ptr(&fh->mem, gpa, len);
}

#endif
