#include "common/ring.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

int ring_init(struct ring *r, size_t cap)
{
	*r = (struct ring){ .buf = malloc(cap), .cap = cap };
	return r->buf ? 0 : -ENOMEM;
}

void ring_free(struct ring *r)
{
	free(r->buf);
	*r = (struct ring){ 0 };
}

static void drop(struct ring *r, size_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (!r->len)
		r->head = 0;
}

size_t ring_push(struct ring *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t dropped = 0, tail, first;

	if (len > r->cap) {
		dropped = len - r->cap;
		p += dropped;
		len = r->cap;
	}
	if (len > ring_room(r)) {
		dropped += len - ring_room(r);
		drop(r, len - ring_room(r));
	}
	tail = (r->head + r->len) % r->cap;
	first = MIN(len, r->cap - tail);
	memcpy(r->buf + tail, p, first);
	memcpy(r->buf, p + first, len - first);
	r->len += len;
	return dropped;
}

/* The held bytes as at most two pieces, oldest first; how many. */
static int pieces(const struct ring *r, struct iovec iov[2])
{
	size_t first = MIN(r->len, r->cap - r->head);

	iov[0] = (struct iovec){ r->buf + r->head, first };
	iov[1] = (struct iovec){ r->buf, r->len - first };
	return r->len == first ? 1 : 2;
}

size_t ring_append(struct ring *dst, const struct ring *src)
{
	struct iovec iov[2];
	int n = src->len ? pieces(src, iov) : 0;
	size_t dropped = 0;

	for (int i = 0; i < n; i++)
		dropped += ring_push(dst, iov[i].iov_base, iov[i].iov_len);
	return dropped;
}

ssize_t ring_write(struct ring *r, int fd)
{
	size_t total = 0;

	while (r->len) {
		struct iovec iov[2];
		ssize_t n = writev(fd, iov, pieces(r, iov));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? (ssize_t)total : -errno;
		drop(r, (size_t)n);
		total += (size_t)n;
	}
	return (ssize_t)total;
}
