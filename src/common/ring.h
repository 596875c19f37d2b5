/*
 * A byte ring of fixed capacity, for streams that must never block their
 * producer: corral-vmm's console backlog (what the guest printed while no
 * client was there), and in corrald a console's scrollback and the queues
 * to and from its users. ring_push() keeps the newest bytes when they do not
 * fit (the oldest are dropped); a caller that must not lose any checks
 * ring_room() first. ring_write() drains a ring into a non-blocking
 * descriptor, oldest bytes first, as far as the descriptor takes them.
 * No locking: the owner serializes access.
 */
#ifndef CORRAL_COMMON_RING_H
#define CORRAL_COMMON_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ring {
	uint8_t *buf;
	size_t cap;	/* bytes buf holds */
	size_t head;	/* offset of the oldest byte */
	size_t len;	/* bytes held */
};

/* An empty ring of `cap` bytes (cap > 0); 0 or -ENOMEM. */
int ring_init(struct ring *r, size_t cap);
void ring_free(struct ring *r);

static inline size_t ring_room(const struct ring *r)
{
	return r->cap - r->len;
}

static inline void ring_clear(struct ring *r)
{
	r->head = r->len = 0;
}

/* Appends `len` bytes, dropping the oldest held bytes (and, when len is
 * more than the capacity, the first bytes of data) to make room. Returns
 * how many bytes were dropped. */
size_t ring_push(struct ring *r, const void *data, size_t len);

/* Appends everything `src` holds to `dst`, by ring_push()'s rules. */
size_t ring_append(struct ring *dst, const struct ring *src);

/*
 * Writes what the ring holds to `fd`, oldest first, until it is empty or
 * fd would block, and drops what was written. Returns the bytes written
 * (0 when fd would block at once) or -errno on another error, with the
 * unwritten bytes kept.
 */
ssize_t ring_write(struct ring *r, int fd);

#endif
