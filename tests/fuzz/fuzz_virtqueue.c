/*
 * libFuzzer target for split virtqueues: the input is a guest's memory with
 * rings somewhere in it, which a hostile driver filled. Popping chains,
 * copying through them and pushing them back must never reach outside guest
 * memory, and every chain handed out must hold what the device relies on
 * (the checks below trap if not).
 *
 * Input: an 8-byte header, then the content of 64 KiB of RAM at 0, then of
 * 4 KiB at 4 GiB (both zero-padded). Header bytes:
 *   0     queue size: 1 << (b % 11), or b & 0x7f as is if bit 7 is set
 *   1..6  desc, avail and used ring addresses (le16, so possibly misaligned)
 *   7     bit 0: EVENT_IDX; bits 1..7: chain iovec capacity (0 means the maximum)
 * When the ring runs dry the driver "adds" chains by bumping avail->idx by
 * the RAM's first byte, to reach wraparound and the jump checks.
 */
#include "devices/virtqueue.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE	8
#define LOW_SIZE	KiB(64)
#define HIGH_GPA	GiB(4)
#define HIGH_SIZE	KiB(4)
#define MAX_ROUNDS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Fills `len` bytes of fresh heap memory from the input, zero-padded. ASan
 * guards its ends, so the exact size matters. */
static uint8_t *region_from(const uint8_t **data, size_t *size, size_t len)
{
	uint8_t *p = calloc(1, len);
	size_t n = MIN(*size, len);

	if (!p)
		abort();
	memcpy(p, *data, n);
	*data += n;
	*size -= n;
	return p;
}

static bool within(const struct guest_region *r, const struct iovec *v)
{
	uintptr_t base = (uintptr_t)v->iov_base, start = (uintptr_t)r->host;

	return base >= start && base - start <= r->size && v->iov_len <= r->size - (base - start);
}

/* What virtqueue_pop() promises about a chain it hands out. */
static void check_chain(const struct guest_memory *mem, const struct virtqueue *vq,
			const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	if (c->head >= vq->size || c->nout + c->nin > c->max_iov)
		__builtin_trap();
	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		const struct iovec *v = &c->iov[i];

		if (!v->iov_len || !(within(&mem->region[0], v) || within(&mem->region[1], v)))
			__builtin_trap();
		if (i < c->nout)
			out += v->iov_len;
		else
			in += v->iov_len;
	}
	if (out != c->out_len || in != c->in_len)
		__builtin_trap();
}

/* Does with one chain what a device would: read a header, write a reply. */
static void serve(struct virtqueue *vq, const struct virtq_chain *c, uint8_t seed)
{
	uint8_t buf[512];
	size_t n;

	n = virtq_chain_read(c, seed, buf, sizeof(buf));
	if (n > sizeof(buf) || n > c->out_len)
		__builtin_trap();
	memset(buf, seed, sizeof(buf));
	n = virtq_chain_write(c, seed / 2, buf, sizeof(buf));
	if (n > c->in_len)
		__builtin_trap();
	virtqueue_push(vq, c->head, (uint32_t)n);
}

static void run(struct guest_memory *mem, const uint8_t *hdr)
{
	static struct iovec iov[VIRTQ_MAX_SIZE];
	uint16_t qsize = hdr[0] & 0x80 ? hdr[0] & 0x7f : 1u << (hdr[0] % 11);
	unsigned max_iov = hdr[7] >> 1 ? hdr[7] >> 1 : VIRTQ_MAX_SIZE;
	struct virtq_chain chain = { .iov = iov, .max_iov = max_iov };
	struct virtqueue vq;
	uint8_t step = mem->region[0].host[0];

	if (virtqueue_enable(&vq, mem, qsize, le16(hdr + 1), le16(hdr + 3), le16(hdr + 5),
			     hdr[7] & 1) < 0) {
		if (virtqueue_pop(&vq, &chain) != -EIO || virtqueue_has_work(&vq))
			__builtin_trap();
		return;
	}
	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		bool work = virtqueue_has_work(&vq);
		int r = virtqueue_pop(&vq, &chain);

		if (work != (r != 0))
			__builtin_trap();
		if (r < 0) {
			if (virtqueue_has_work(&vq) || virtqueue_pop(&vq, &chain) != -EIO)
				__builtin_trap();
			return;
		}
		if (r == 0) {
			/* Drained: re-arm as a device would, then let the driver add. */
			virtqueue_enable_notify(&vq);
			vq.avail->idx += step;
			virtqueue_disable_notify(&vq);
			continue;
		}
		check_chain(mem, &vq, &chain);
		serve(&vq, &chain, (uint8_t)(round * 37 + step));
		virtqueue_should_notify(&vq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_memory mem = { .nregions = 2 };
	uint8_t hdr[HEADER_SIZE] = { 0 };

	log_init("fuzz_virtqueue", LOG_LEVEL_SILENT);
	memcpy(hdr, data, MIN(size, sizeof(hdr)));
	data += MIN(size, sizeof(hdr));
	size -= MIN(size, sizeof(hdr));
	mem.region[0] = (struct guest_region){ .gpa = 0, .size = LOW_SIZE,
					       .host = region_from(&data, &size, LOW_SIZE) };
	mem.region[1] = (struct guest_region){ .gpa = HIGH_GPA, .size = HIGH_SIZE,
					       .host = region_from(&data, &size, HIGH_SIZE) };
	mem.total = LOW_SIZE + HIGH_SIZE;
	run(&mem, hdr);
	free(mem.region[0].host);
	free(mem.region[1].host);
	return 0;
}
