/* The byte ring (common/ring.h) that holds console output for clients that
 * are not there or not keeping up: what it keeps, what it drops, and how it
 * drains into a descriptor that takes only part. */
#include "test.h"
#include "common/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

/* Everything the ring holds, drained through a pipe, NUL-terminated. */
static const char *contents(struct ring *r)
{
	static char out[256];
	size_t len = r->len;
	ssize_t n;
	int p[2];

	if (pipe(p) < 0)
		return "";
	CHECK_EQ(ring_write(r, p[1]), len);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void keeps_what_fits_in_order(void)
{
	struct ring r;

	CHECK_EQ(ring_init(&r, 8), 0);
	CHECK_EQ(ring_push(&r, "abc", 3), 0);
	CHECK_EQ(ring_push(&r, "de", 2), 0);
	CHECK_EQ(r.len, 5);
	CHECK_EQ(ring_room(&r), 3);
	CHECK(!strcmp(contents(&r), "abcde"));
	CHECK_EQ(r.len, 0);
	ring_free(&r);
}

static void drops_the_oldest_when_full(void)
{
	struct ring r;

	CHECK_EQ(ring_init(&r, 8), 0);
	ring_push(&r, "abcdef", 6);
	CHECK_EQ(ring_push(&r, "ghij", 4), 2);
	CHECK_EQ(r.len, 8);
	CHECK(!strcmp(contents(&r), "cdefghij"));
	/* More than it holds at once: the last 8 bytes. */
	CHECK_EQ(ring_push(&r, "0123456789", 10), 2);
	CHECK(!strcmp(contents(&r), "23456789"));
	ring_free(&r);
}

static void wraps_around_its_end(void)
{
	struct ring r, copy;

	CHECK_EQ(ring_init(&r, 8), 0);
	CHECK_EQ(ring_init(&copy, 8), 0);
	ring_push(&r, "abcdef", 6);
	ring_push(&r, "ghij", 4);	/* "ab" go; "ij" land at the start of the buffer */
	CHECK_EQ(r.head, 2);
	CHECK_EQ(ring_append(&copy, &r), 0);
	CHECK(!strcmp(contents(&r), "cdefghij"));
	CHECK(!strcmp(contents(&copy), "cdefghij"));
	ring_free(&r);
	ring_free(&copy);
}

static void ring_clear_empties_it(void)
{
	struct ring r;

	CHECK_EQ(ring_init(&r, 4), 0);
	ring_push(&r, "abc", 3);
	ring_clear(&r);
	CHECK_EQ(r.len, 0);
	CHECK_EQ(ring_room(&r), 4);
	CHECK(!strcmp(contents(&r), ""));
	ring_free(&r);
}

static void write_takes_what_the_descriptor_takes(void)
{
	static char big[256 * 1024], out[256 * 1024];
	struct ring r;
	size_t got = 0;
	ssize_t n;
	int p[2];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13 % 251);
	CHECK_EQ(ring_init(&r, sizeof(big)), 0);
	CHECK_EQ(pipe2(p, O_NONBLOCK), 0);
	ring_push(&r, big, sizeof(big));
	/* A pipe holds less than 256 KiB: part goes, the rest waits. */
	n = ring_write(&r, p[1]);
	CHECK(n > 0 && (size_t)n < sizeof(big));
	CHECK_EQ(r.len, sizeof(big) - (size_t)n);
	CHECK_EQ(ring_write(&r, p[1]), 0);	/* would block: nothing, no error */
	while (r.len || got < sizeof(big)) {
		ssize_t m = read(p[0], out + got, sizeof(out) - got);

		if (m <= 0)
			break;
		got += (size_t)m;
		CHECK(ring_write(&r, p[1]) >= 0);
	}
	CHECK_EQ(got, sizeof(big));
	CHECK(!memcmp(out, big, sizeof(big)));
	close(p[0]);
	close(p[1]);
	ring_free(&r);
}

static void write_errors_keep_the_bytes(void)
{
	struct ring r;
	int p[2];

	CHECK_EQ(ring_init(&r, 8), 0);
	CHECK_EQ(pipe(p), 0);
	close(p[0]);
	ring_push(&r, "abc", 3);
	CHECK_EQ(ring_write(&r, p[1]), -EPIPE);
	CHECK_EQ(r.len, 3);
	close(p[1]);
	CHECK(!strcmp(contents(&r), "abc"));
	ring_free(&r);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(keeps_what_fits_in_order);
	RUN(drops_the_oldest_when_full);
	RUN(wraps_around_its_end);
	RUN(ring_clear_empties_it);
	RUN(write_takes_what_the_descriptor_takes);
	RUN(write_errors_keep_the_bytes);
	return test_done();
}
