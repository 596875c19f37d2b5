/*
 * Split virtqueues from the device's side; see virtqueue.h. Quotes are from
 * the virtio 1.x specification, section "Split Virtqueues".
 *
 * Memory ordering. The driver runs on other CPUs and changes the rings while
 * we read them. Every ring field it writes is read once, with a relaxed
 * atomic load, into a local that all later checks and uses see; descriptors
 * are copied whole into a local first (desc_copy()). The orderings the
 * protocol needs are explicit fences, each next to the step it protects:
 *   pop:            load avail->idx; acquire; load ring[] and descriptors
 *   push:           store used elem; release; store used->idx
 *   should_notify:  store used->idx (push); full; load flags or used_event
 *   enable_notify:  store flags or avail_event; full; load avail->idx
 * The last two are the store-then-load pattern where both sides write their
 * index and read the other's suppression field; only a full fence keeps the
 * load from passing the store, which would let both sides go to sleep.
 */
#include "devices/virtqueue.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Ring sizes from the spec's table, which counts the event-index fields
 * (used_event, avail_event) whether or not EVENT_IDX is negotiated. */
static uint64_t desc_bytes(uint16_t size)
{
	return (uint64_t)sizeof(struct virtq_desc) * size;
}

static uint64_t avail_bytes(uint16_t size)
{
	return sizeof(struct virtq_avail) + sizeof(uint16_t) * ((uint64_t)size + 1);
}

static uint64_t used_bytes(uint16_t size)
{
	return sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * (uint64_t)size +
	       sizeof(uint16_t);
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* used_event follows avail->ring[size]; avail_event follows used->ring[size]. */
static uint16_t *used_event(const struct virtqueue *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *avail_event(const struct virtqueue *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

/*
 * Copies one descriptor out of guest memory. The driver may be rewriting it
 * as we copy; what matters is that every check and use sees this one copy,
 * so the compiler barrier forbids re-reading `src` in place of the local
 * (the double fetch that would let a checked length change under us).
 * memcpy, because nothing requires an indirect table to be aligned.
 */
static void desc_copy(struct virtq_desc *d, const void *src)
{
	memcpy(d, src, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
}

/* A queue that was never enabled (or failed to be) has no rings. */
static bool vq_usable(const struct virtqueue *vq)
{
	return vq->avail && !vq->broken;
}

/* Marks the queue broken, says why once, and returns -EIO. */
__attribute__((format(printf, 2, 3)))
static int vq_fail(struct virtqueue *vq, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warn("virtqueue: the driver broke the rules (%s); queue stopped", why);
	vq->broken = true;
	return -EIO;
}

/* Host pointer to a ring at `gpa`, or NULL if misaligned or not all RAM. */
static void *ring_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t align,
		      uint64_t len)
{
	if (gpa % align)
		return NULL;
	return guest_ptr(mem, gpa, len);
}

int virtqueue_enable(struct virtqueue *vq, const struct guest_memory *mem, uint16_t size,
		     uint64_t desc, uint64_t avail, uint64_t used, bool event_idx)
{
	/* Until this succeeds the queue has no rings and hands out nothing. */
	memset(vq, 0, sizeof(*vq));
	vq->broken = true;
	if (!size || size > VIRTQ_MAX_SIZE || (size & (size - 1))) {
		log_warn("virtqueue: size %u is not a power of two up to %u", size,
			 VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	vq->desc = ring_ptr(mem, desc, 16, desc_bytes(size));
	vq->avail = ring_ptr(mem, avail, 2, avail_bytes(size));
	vq->used = ring_ptr(mem, used, 4, used_bytes(size));
	if (!vq->desc || !vq->avail || !vq->used) {
		log_warn("virtqueue: rings at 0x%llx/0x%llx/0x%llx (size %u) are misaligned "
			 "or not in guest RAM", (unsigned long long)desc,
			 (unsigned long long)avail, (unsigned long long)used, size);
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -EINVAL;
	}
	vq->mem = mem;
	vq->size = size;
	vq->event_idx = event_idx;
	vq->broken = false;
	return 0;
}

/* A chain being gathered by virtqueue_pop(). */
struct chain_walk {
	struct virtqueue *vq;
	struct virtq_chain *chain;
	unsigned buffers;	/* buffer descriptors read, direct and indirect */
	bool writable_seen;
};

/* Appends the buffer a descriptor describes to the chain. */
static int walk_add(struct chain_walk *w, const struct virtq_desc *d)
{
	struct virtq_chain *c = w->chain;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	uint32_t *total = writable ? &c->in_len : &c->out_len;
	void *p;

	/* "The driver MUST place any device-writable descriptor elements
	 * after any device-readable descriptor elements." */
	if (!writable && w->writable_seen)
		return vq_fail(w->vq, "chain %u: readable buffer after a writable one", c->head);
	w->writable_seen |= writable;
	/* Also catches loops through empty descriptors inside indirect tables. */
	if (++w->buffers > VIRTQ_MAX_SIZE)
		return vq_fail(w->vq, "chain %u: more than %u descriptors", c->head,
			       VIRTQ_MAX_SIZE);
	if (!d->len)
		return 0;	/* nothing to transfer, so no iovec */
	if (c->nout + c->nin >= c->max_iov)
		return vq_fail(w->vq, "chain %u: more than %u buffers", c->head, c->max_iov);
	/* "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in total" */
	if (d->len > UINT32_MAX - *total)
		return vq_fail(w->vq, "chain %u: 4 GiB or more in total", c->head);
	p = guest_ptr(w->vq->mem, d->addr, d->len);
	if (!p)
		return vq_fail(w->vq, "chain %u: buffer 0x%llx+0x%x is not in guest RAM",
			       c->head, (unsigned long long)d->addr, d->len);
	c->iov[c->nout + c->nin] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	*total += d->len;
	if (writable)
		c->nin++;
	else
		c->nout++;
	return 0;
}

/*
 * Follows the chain in the indirect table `ind` refers to. Its WRITE flag
 * is ignored, as the spec requires; a chain within the table cannot be
 * longer than the table without visiting an entry twice.
 */
static int walk_indirect(struct chain_walk *w, const struct virtq_desc *ind)
{
	struct virtqueue *vq = w->vq;
	uint16_t head = w->chain->head;
	const uint8_t *table;
	struct virtq_desc d;
	uint32_t count, i = 0;
	int err;

	/* "A driver MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT" */
	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return vq_fail(vq, "chain %u: indirect descriptor with NEXT", head);
	if (!ind->len || ind->len % sizeof(d))
		return vq_fail(vq, "chain %u: indirect table of %u bytes", head, ind->len);
	table = guest_ptr(vq->mem, ind->addr, ind->len);
	if (!table)
		return vq_fail(vq, "chain %u: indirect table 0x%llx+0x%x is not in guest RAM",
			       head, (unsigned long long)ind->addr, ind->len);
	count = ind->len / sizeof(d);
	for (uint32_t n = 1;; n++) {
		if (n > count)
			return vq_fail(vq, "chain %u: indirect chain loops", head);
		desc_copy(&d, table + (size_t)i * sizeof(d));
		/* "The driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within
		 * an indirect descriptor" */
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return vq_fail(vq, "chain %u: nested indirect table", head);
		err = walk_add(w, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= count)
			return vq_fail(vq, "chain %u: indirect next %u past the table's %u",
				       head, d.next, count);
		i = d.next;
	}
}

/*
 * Follows the chain from `head` in the descriptor table. "The device MUST
 * handle the case of zero or more normal chained descriptors followed by a
 * single descriptor with flags&VIRTQ_DESC_F_INDIRECT", so an indirect
 * descriptor may end a chain anywhere. "A driver MUST NOT create a
 * descriptor chain longer than the Queue Size": a longer one is a loop.
 */
static int walk_chain(struct chain_walk *w, uint16_t head)
{
	struct virtqueue *vq = w->vq;
	struct virtq_desc d;
	uint16_t i = head;
	int err;

	for (unsigned n = 1;; n++) {
		if (n > vq->size)
			return vq_fail(vq, "chain %u: longer than the queue (a loop?)", head);
		desc_copy(&d, &vq->desc[i]);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(w, &d);
		err = walk_add(w, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return vq_fail(vq, "chain %u: next %u out of range", head, d.next);
		i = d.next;
	}
}

int virtqueue_pop(struct virtqueue *vq, struct virtq_chain *chain)
{
	struct chain_walk w = { .vq = vq, .chain = chain };
	uint16_t avail_idx, pending, head;
	int err;

	if (vq->broken)
		return -EIO;
	if (!vq->avail)
		return 0;	/* never enabled: the driver left it off, nothing to take */
	avail_idx = load16(&vq->avail->idx);
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (!pending)
		return 0;
	/* The ring holds at most `size` entries; "A driver MUST NOT decrement
	 * the available idx", which would also show up here. */
	if (pending > vq->size)
		return vq_fail(vq, "avail idx %u is %u entries past ours (%u), queue size %u",
			       avail_idx, pending, vq->last_avail, vq->size);
	/* The driver fills ring[] and the descriptors, then a barrier, then
	 * bumps idx: what idx published is only read after idx. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = load16(&vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return vq_fail(vq, "avail ring head %u out of range", head);
	chain->head = head;
	chain->nout = chain->nin = 0;
	chain->out_len = chain->in_len = 0;
	err = walk_chain(&w, head);
	if (err)
		return err;
	vq->last_avail++;
	return 1;
}

bool virtqueue_enabled(const struct virtqueue *vq)
{
	return vq->avail != NULL;
}

bool virtqueue_has_work(struct virtqueue *vq)
{
	if (!vq_usable(vq))
		return false;
	return load16(&vq->avail->idx) != vq->last_avail;
}

/* A broken queue takes nothing back either: the driver has to reset it. */
void virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e;

	if (!vq_usable(vq))
		return;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	store32(&e->id, head);
	store32(&e->len, len);
	/* "The device MUST set len prior to updating the used idx." */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	store16(&vq->used->idx, vq->used_idx);
}

/*
 * The event-index test (the spec's vring_need_event()): notify if the
 * entries pushed since the last notification, old .. new-1, include
 * used_event. Unsigned 16-bit differences make it work across wraparound.
 */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
	uint16_t old_idx = vq->signalled_used;
	bool valid = vq->signalled_used_valid;

	if (!vq_usable(vq))
		return false;
	/* Our used->idx store must be visible before we read the driver's
	 * flags/used_event; the driver orders the other way round. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	/* Nothing to compare with before the first notification: send it. */
	if (!valid)
		return true;
	return need_event(load16(used_event(vq)), vq->used_idx, old_idx);
}

/*
 * With EVENT_IDX "the device MUST set flags to 0" and suppresses with
 * avail_event instead; leaving that stale (behind avail->idx) is enough, as
 * the driver only notifies when its idx crosses it.
 */
void virtqueue_disable_notify(struct virtqueue *vq)
{
	if (!vq_usable(vq) || vq->event_idx)
		return;
	/* used->flags is ours alone, and NO_NOTIFY its only defined bit. */
	store16(&vq->used->flags, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtqueue_enable_notify(struct virtqueue *vq)
{
	if (!vq_usable(vq))
		return false;
	if (vq->event_idx)
		store16(avail_event(vq), vq->last_avail);
	else
		store16(&vq->used->flags, 0);
	/* The driver bumps avail->idx, then reads flags/avail_event; we write
	 * those, then read avail->idx. One of us must see the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail->idx) != vq->last_avail;
}

/* Finds byte `skip` of iov[0..n): returns the index of the iovec holding it
 * (n if there is none) and sets *off to its offset in that iovec. */
static unsigned iov_seek(const struct iovec *iov, unsigned n, size_t skip, size_t *off)
{
	unsigned i = 0;

	while (i < n && skip >= iov[i].iov_len)
		skip -= iov[i++].iov_len;
	*off = skip;
	return i;
}

size_t virtq_chain_read(const struct virtq_chain *chain, size_t skip, void *buf, size_t len)
{
	const struct iovec *iov = chain->iov;
	size_t off, done = 0;

	for (unsigned i = iov_seek(iov, chain->nout, skip, &off); i < chain->nout && done < len;
	     i++, off = 0) {
		size_t k = MIN(iov[i].iov_len - off, len - done);

		memcpy((uint8_t *)buf + done, (const uint8_t *)iov[i].iov_base + off, k);
		done += k;
	}
	return done;
}

size_t virtq_chain_write(const struct virtq_chain *chain, size_t skip, const void *buf,
			 size_t len)
{
	const struct iovec *iov;
	size_t off, done = 0;

	if (!chain->nin)
		return 0;	/* and chain->iov may be NULL */
	iov = chain->iov + chain->nout;
	for (unsigned i = iov_seek(iov, chain->nin, skip, &off); i < chain->nin && done < len;
	     i++, off = 0) {
		size_t k = MIN(iov[i].iov_len - off, len - done);

		memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, k);
		done += k;
	}
	return done;
}
