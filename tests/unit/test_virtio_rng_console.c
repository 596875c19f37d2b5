/*
 * virtio-rng and virtio-console driven end to end as a guest would: the test
 * driver (virtio_driver.h) over the fake host posts buffers, kicks and waits
 * for the queue's MSI-X vector while the devices serve their queues on their
 * own threads. The console's outside end is a char_backend that records the
 * bytes it is given and counts rx_ready() calls.
 */
#include "test.h"
#include "fake_host.h"
#include "virtio_driver.h"
#include "common/log.h"
#include "devices/virtio_console.h"
#include "devices/virtio_pci.h"
#include "devices/virtio_rng.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define BIT(n) (1ull << (n))

#define GUEST_MEM  (4u << 20)
#define HEAP_START (1u << 20)
#define ALL_BUT_EVENT_IDX (~0ull & ~BIT(VDRV_F_EVENT_IDX))

#define CC_CONFIG_GENERATION 0x15	/* struct virtio_pci_common_cfg */
#define S_UP (VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_FEATURES_OK | VDRV_S_DRIVER_OK)

#define RNG_QUEUE  0
#define CON_RX     0	/* receiveq: to the guest */
#define CON_TX     1	/* transmitq: from the guest */

/* Waits up to VDRV_TIMEOUT_MS for the device to set status `bit`. */
static bool wait_status(struct vdrv *d, uint8_t bit)
{
	int64_t deadline = vdrv_now_ms() + VDRV_TIMEOUT_MS;

	while (!(vdrv_status(d) & bit) && vdrv_now_ms() < deadline)
		usleep(1000);
	return vdrv_status(d) & bit;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != v)
			return false;
	}
	return true;
}

static uint8_t generation(struct vdrv *d)
{
	return vdrv_common_read(d, CC_CONFIG_GENERATION, 1);
}

/* Puts a hand-made chain starting at descriptor `head` on queue qi. */
static void publish_raw(struct vdrv *d, unsigned qi, uint16_t head)
{
	struct vdrv_queue *q = &d->q[qi];

	q->avail->ring[q->avail->idx & (q->size - 1)] = head;
	__atomic_store_n(&q->avail->idx, q->avail->idx + 1, __ATOMIC_RELEASE);
}

/* Two descriptors that chain to each other. */
static void post_loop(struct vdrv *d, unsigned qi, uint64_t buf, bool writable)
{
	struct vdrv_queue *q = &d->q[qi];
	uint16_t flags = VIRTQ_DESC_F_NEXT | (writable ? VIRTQ_DESC_F_WRITE : 0);

	q->desc[0] = (struct virtq_desc){ .addr = buf, .len = 8, .flags = flags, .next = 1 };
	q->desc[1] = (struct virtq_desc){ .addr = buf + 8, .len = 8, .flags = flags, .next = 0 };
	publish_raw(d, qi, 0);
}

/* ---- virtio-rng ---- */

struct rng_env {
	struct fake_host fh;
	struct virtio_rng *rng;
	struct vdrv d;
};

static bool rng_driver_up(struct rng_env *e, uint64_t want)
{
	if (vdrv_negotiate(&e->d, want) < 0 || vdrv_queue_setup(&e->d, RNG_QUEUE, 0) < 0)
		return false;
	vdrv_driver_ok(&e->d);
	return vdrv_status(&e->d) == S_UP;
}

static bool rng_open(struct rng_env *e, uint64_t want)
{
	memset(e, 0, sizeof(*e));
	if (fake_host_init(&e->fh, GUEST_MEM) < 0)
		return false;
	e->rng = virtio_rng_create(&e->fh.host);
	if (!e->rng || vdrv_init(&e->d, &e->fh, virtio_rng_pci(e->rng), HEAP_START) < 0)
		return false;
	return !want || rng_driver_up(e, want);
}

static void rng_close(struct rng_env *e)
{
	virtio_rng_destroy(e->rng);
	fake_host_fini(&e->fh);
}

/* Posts `n` buffers, kicks and waits; returns the used length, or -1. */
static int64_t rng_request(struct rng_env *e, const struct vdrv_buf *b, unsigned n)
{
	struct virtq_used_elem u;
	int head = vdrv_post(&e->d, RNG_QUEUE, b, n);

	if (head < 0)
		return -1;
	vdrv_kick(&e->d, RNG_QUEUE);
	if (!vdrv_wait_used(&e->d, RNG_QUEUE, &u, VDRV_TIMEOUT_MS) || u.id != (uint32_t)head)
		return -1;
	return u.len;
}

static void rng_is_a_virtio_entropy_device(void)
{
	struct rng_env e;
	const uint8_t *c;

	CHECK(rng_open(&e, 0));
	c = virtio_rng_pci(e.rng)->config;
	CHECK_EQ(io_data_get(c + PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(io_data_get(c + PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG);
	CHECK_EQ(c[PCI_CLASS_REVISION], 1);
	CHECK_EQ(vdrv_common_read(&e.d, VDRV_CC_NUM_QUEUES, 2), 1);
	CHECK_EQ(e.d.device, UINT32_MAX);		/* no device config */
	rng_close(&e);
}

static void rng_fills_every_writable_buffer_of_a_chain(void)
{
	struct rng_env e;
	uint64_t a, b;
	uint8_t first[128];

	CHECK(rng_open(&e, ALL_BUT_EVENT_IDX));
	a = vdrv_alloc(&e.d, 128, 16);
	b = vdrv_alloc(&e.d, 128, 16);
	{
		struct vdrv_buf chain[] = { { a, 100, true }, { a + 100, 28, true } };

		CHECK_EQ(rng_request(&e, chain, 2), 128);
		CHECK(!all_bytes(vdrv_ptr(&e.d, a, 100), 100, 0));
		CHECK(!all_bytes(vdrv_ptr(&e.d, a + 100, 28), 28, 0));
		memcpy(first, vdrv_ptr(&e.d, a, 128), 128);
	}
	{
		struct vdrv_buf chain[] = { { b, 64, true }, { b + 64, 64, true } };

		CHECK_EQ(rng_request(&e, chain, 2), 128);
		CHECK(memcmp(first, vdrv_ptr(&e.d, b, 128), 128) != 0);
	}
	/* The buffer is used again: it gets fresh bytes. */
	{
		struct vdrv_buf chain[] = { { a, 128, true } };

		CHECK_EQ(rng_request(&e, chain, 1), 128);
		CHECK(memcmp(first, vdrv_ptr(&e.d, a, 128), 128) != 0);
	}
	CHECK(vdrv_take_irqs(&e.d, RNG_QUEUE, VDRV_TIMEOUT_MS) >= 1);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	rng_close(&e);
}

static void rng_writes_nothing_into_readable_buffers(void)
{
	struct rng_env e;
	uint64_t a;

	CHECK(rng_open(&e, ALL_BUT_EVENT_IDX));
	a = vdrv_alloc(&e.d, 64, 16);
	memset(vdrv_ptr(&e.d, a, 64), 0xee, 64);
	{
		struct vdrv_buf chain[] = { { a, 32, false } };

		CHECK_EQ(rng_request(&e, chain, 1), 0);
		CHECK(all_bytes(vdrv_ptr(&e.d, a, 32), 32, 0xee));
	}
	/* Readable then writable: only the writable part is filled. */
	{
		struct vdrv_buf chain[] = { { a, 32, false }, { a + 32, 32, true } };

		CHECK_EQ(rng_request(&e, chain, 2), 32);
		CHECK(all_bytes(vdrv_ptr(&e.d, a, 32), 32, 0xee));
	}
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	rng_close(&e);
}

static void rng_serves_with_event_idx_too(void)
{
	struct rng_env e;
	uint64_t a;

	CHECK(rng_open(&e, ~0ull));
	CHECK(e.d.features & BIT(VDRV_F_EVENT_IDX));
	a = vdrv_alloc(&e.d, 64, 16);
	for (int i = 0; i < 3 * 64; i++) {
		struct vdrv_buf chain[] = { { a, 64, true } };

		CHECK_EQ(rng_request(&e, chain, 1), 64);
	}
	rng_close(&e);
}

/* Reset stops the device's thread, which has by then looked at the queue at
 * least once; a queue left off must not have made it need a reset. */
static void rng_with_its_queue_left_off_stays_healthy(void)
{
	struct rng_env e;
	uint8_t gen;

	CHECK(rng_open(&e, 0));
	CHECK_EQ(vdrv_negotiate(&e.d, ~0ull), 0);
	gen = generation(&e.d);
	vdrv_driver_ok(&e.d);
	vdrv_reset(&e.d);
	CHECK_EQ(generation(&e.d), gen);
	CHECK(rng_driver_up(&e, ~0ull));
	{
		struct vdrv_buf chain[] = { { vdrv_alloc(&e.d, 16, 16), 16, true } };

		CHECK_EQ(rng_request(&e, chain, 1), 16);
	}
	rng_close(&e);
}

static void rng_reset_and_restart_serves_again(void)
{
	struct rng_env e;
	uint64_t a;

	CHECK(rng_open(&e, 0));
	a = vdrv_alloc(&e.d, 32, 16);
	for (int i = 0; i < 3; i++) {
		struct vdrv_buf chain[] = { { a, 32, true } };

		CHECK(rng_driver_up(&e, i % 2 ? ~0ull : ALL_BUT_EVENT_IDX));
		CHECK_EQ(rng_request(&e, chain, 1), 32);
	}
	rng_close(&e);
}

static void rng_broken_ring_needs_reset_and_recovers(void)
{
	struct rng_env e;
	uint64_t a;

	CHECK(rng_open(&e, ALL_BUT_EVENT_IDX));
	a = vdrv_alloc(&e.d, 16, 16);
	log_set_level(LOG_LEVEL_SILENT);
	post_loop(&e.d, RNG_QUEUE, a, true);
	vdrv_kick(&e.d, RNG_QUEUE);
	CHECK(wait_status(&e.d, VDRV_S_NEEDS_RESET));
	log_set_level(LOG_LEVEL_WARN);
	CHECK(!vdrv_used_pending(&e.d, RNG_QUEUE));
	CHECK(rng_driver_up(&e, ALL_BUT_EVENT_IDX));
	{
		struct vdrv_buf chain[] = { { a, 16, true } };

		CHECK_EQ(rng_request(&e, chain, 1), 16);
	}
	rng_close(&e);
}

/* ---- virtio-console ---- */

struct sink {
	pthread_mutex_t lock;
	uint8_t buf[4096];
	size_t len;
	_Atomic int rx_ready;
};

static void sink_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;

	pthread_mutex_lock(&s->lock);
	if (len <= sizeof(s->buf) - s->len) {
		memcpy(s->buf + s->len, buf, len);
		s->len += len;
	}
	pthread_mutex_unlock(&s->lock);
}

static void sink_rx_ready(void *ctx)
{
	struct sink *s = ctx;

	s->rx_ready++;
}

/* Whether the backend got exactly `text`. */
static bool sink_holds(struct sink *s, const char *text)
{
	bool same;

	pthread_mutex_lock(&s->lock);
	same = s->len == strlen(text) && !memcmp(s->buf, text, s->len);
	if (!same)
		printf("# backend holds '%.*s'\n", (int)s->len, (const char *)s->buf);
	pthread_mutex_unlock(&s->lock);
	return same;
}

/* Waits up to VDRV_TIMEOUT_MS for rx_ready() calls beyond `seen`. */
static bool wait_rx_ready(struct sink *s, int seen)
{
	int64_t deadline = vdrv_now_ms() + VDRV_TIMEOUT_MS;

	while (s->rx_ready <= seen && vdrv_now_ms() < deadline)
		usleep(1000);
	return s->rx_ready > seen;
}

struct con_env {
	struct fake_host fh;
	struct sink s;
	struct virtio_console *con;
	struct vdrv d;
};

static bool con_driver_up(struct con_env *e, uint64_t want)
{
	if (vdrv_negotiate(&e->d, want) < 0 || vdrv_queue_setup(&e->d, CON_RX, 0) < 0 ||
	    vdrv_queue_setup(&e->d, CON_TX, 0) < 0)
		return false;
	vdrv_driver_ok(&e->d);
	return vdrv_status(&e->d) == S_UP;
}

static bool con_open(struct con_env *e, uint64_t want)
{
	struct char_backend backend;

	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->s.lock, NULL);
	backend = (struct char_backend){ .write = sink_write, .rx_ready = sink_rx_ready,
					 .ctx = &e->s };
	if (fake_host_init(&e->fh, GUEST_MEM) < 0)
		return false;
	e->con = virtio_console_create(&e->fh.host, &backend);
	if (!e->con || vdrv_init(&e->d, &e->fh, virtio_console_pci(e->con), HEAP_START) < 0)
		return false;
	return !want || con_driver_up(e, want);
}

static void con_close(struct con_env *e)
{
	virtio_console_destroy(e->con);
	fake_host_fini(&e->fh);
	pthread_mutex_destroy(&e->s.lock);
}

/* Guest memory holding `text` (without its NUL). */
static uint64_t guest_text(struct con_env *e, const char *text)
{
	uint64_t gpa = vdrv_alloc(&e->d, strlen(text), 1);

	memcpy(vdrv_ptr(&e->d, gpa, strlen(text)), text, strlen(text));
	return gpa;
}

/* Posts a transmit chain of one readable buffer per string. */
static int con_post_tx(struct con_env *e, const char *const *parts, unsigned n)
{
	struct vdrv_buf b[4];

	for (unsigned i = 0; i < n && i < 4; i++)
		b[i] = (struct vdrv_buf){ guest_text(e, parts[i]), strlen(parts[i]), false };
	return vdrv_post(&e->d, CON_TX, b, n);
}

/* Sends `text` in one chain and waits for it to come back used. */
static bool con_send(struct con_env *e, const char *text)
{
	struct virtq_used_elem u;

	if (con_post_tx(e, &text, 1) < 0)
		return false;
	vdrv_kick(&e->d, CON_TX);
	return vdrv_wait_used(&e->d, CON_TX, &u, VDRV_TIMEOUT_MS) && u.len == 0;
}

static void console_is_a_virtio_console_device(void)
{
	struct con_env e;
	const uint8_t *c;

	CHECK(con_open(&e, 0));
	c = virtio_console_pci(e.con)->config;
	CHECK_EQ(io_data_get(c + PCI_VENDOR_ID, 2), 0x1af4);
	CHECK_EQ(io_data_get(c + PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	CHECK_EQ(c[PCI_CLASS_REVISION], 1);
	CHECK_EQ(vdrv_common_read(&e.d, VDRV_CC_NUM_QUEUES, 2), 2);
	CHECK_EQ(e.d.device, UINT32_MAX);		/* one port: no config */
	con_close(&e);
}

static void console_transmits_chains_to_the_backend_in_order(void)
{
	static const char *const first[] = { "hello" };
	static const char *const second[] = { ", ", "wor", "ld" };
	static const char *const third[] = { "!\n" };
	struct con_env e;
	struct virtq_used_elem u;
	int heads[3];

	CHECK(con_open(&e, ALL_BUT_EVENT_IDX));
	heads[0] = con_post_tx(&e, first, 1);
	heads[1] = con_post_tx(&e, second, 3);
	heads[2] = con_post_tx(&e, third, 1);
	vdrv_kick(&e.d, CON_TX);
	for (int i = 0; i < 3; i++) {
		CHECK(heads[i] >= 0);
		CHECK(vdrv_wait_used(&e.d, CON_TX, &u, VDRV_TIMEOUT_MS));
		CHECK_EQ(u.id, heads[i]);
		CHECK_EQ(u.len, 0);		/* the device wrote nothing */
	}
	CHECK(sink_holds(&e.s, "hello, world!\n"));
	CHECK(con_send(&e, " again"));
	CHECK(sink_holds(&e.s, "hello, world!\n again"));
	CHECK(vdrv_take_irqs(&e.d, CON_TX, VDRV_TIMEOUT_MS) >= 1);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	con_close(&e);
}

static void console_transmits_with_event_idx_too(void)
{
	struct con_env e;
	char expect[64 * 3 + 1] = "";

	CHECK(con_open(&e, ~0ull));
	CHECK(e.d.features & BIT(VDRV_F_EVENT_IDX));
	for (int i = 0; i < 64; i++) {
		CHECK(con_send(&e, "ab\n"));
		strcat(expect, "ab\n");
	}
	CHECK(sink_holds(&e.s, expect));
	con_close(&e);
}

static void console_receive_takes_nothing_until_buffers_are_posted(void)
{
	struct con_env e;

	CHECK(con_open(&e, 0));
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"x", 1), 0);
	CHECK_EQ(vdrv_negotiate(&e.d, ALL_BUT_EVENT_IDX), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, CON_RX, 0), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, CON_TX, 0), 0);
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"x", 1), 0);	/* no DRIVER_OK */
	vdrv_driver_ok(&e.d);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"x", 1), 0);	/* no buffers */
	CHECK(!vdrv_used_pending(&e.d, CON_RX));
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	con_close(&e);
}

static void console_receive_fills_posted_buffers_and_takes_only_what_fits(void)
{
	struct con_env e;
	struct virtq_used_elem u;
	uint64_t a, b;
	int head_a, head_b;

	CHECK(con_open(&e, ALL_BUT_EVENT_IDX));
	a = vdrv_alloc(&e.d, 8, 1);
	b = vdrv_alloc(&e.d, 8, 1);
	memset(vdrv_ptr(&e.d, a, 8), '.', 8);
	memset(vdrv_ptr(&e.d, b, 8), '.', 8);
	{
		struct vdrv_buf one[] = { { a, 8, true } };
		struct vdrv_buf two[] = { { b, 3, true }, { b + 3, 5, true } };

		head_a = vdrv_post(&e.d, CON_RX, one, 1);
		head_b = vdrv_post(&e.d, CON_RX, two, 2);
		CHECK(head_a >= 0 && head_b >= 0);
	}
	/* Input shorter than the buffer: one buffer, used len as taken. */
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"abcde", 5), 5);
	CHECK(vdrv_wait_used(&e.d, CON_RX, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.id, head_a);
	CHECK_EQ(u.len, 5);
	CHECK(!memcmp(vdrv_ptr(&e.d, a, 8), "abcde...", 8));
	/* Longer than what is left: the next chain fills, across its buffers. */
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"0123456789ABCDEF", 16), 8);
	CHECK(vdrv_wait_used(&e.d, CON_RX, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.id, head_b);
	CHECK_EQ(u.len, 8);
	CHECK(!memcmp(vdrv_ptr(&e.d, b, 8), "01234567", 8));
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"89", 2), 0);
	CHECK(!vdrv_used_pending(&e.d, CON_RX));
	CHECK(vdrv_take_irqs(&e.d, CON_RX, VDRV_TIMEOUT_MS) >= 1);
	/* Several chains for one input. */
	{
		struct vdrv_buf one[] = { { a, 2, true } };
		struct vdrv_buf two[] = { { b, 2, true } };

		CHECK(vdrv_post(&e.d, CON_RX, one, 1) >= 0);
		CHECK(vdrv_post(&e.d, CON_RX, two, 1) >= 0);
	}
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"wxyz", 4), 4);
	CHECK(vdrv_wait_used(&e.d, CON_RX, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.len, 2);
	CHECK(vdrv_wait_used(&e.d, CON_RX, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.len, 2);
	CHECK(!memcmp(vdrv_ptr(&e.d, a, 2), "wx", 2));
	CHECK(!memcmp(vdrv_ptr(&e.d, b, 2), "yz", 2));
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	con_close(&e);
}

static void console_calls_rx_ready_at_start_and_when_buffers_arrive(void)
{
	struct con_env e;
	struct virtq_used_elem u;
	uint64_t a;
	int seen;

	CHECK(con_open(&e, 0));
	CHECK_EQ(e.s.rx_ready, 0);
	CHECK(con_driver_up(&e, ~0ull));
	CHECK(e.s.rx_ready >= 1);		/* input may have waited for the start */
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"hi", 2), 0);
	seen = e.s.rx_ready;
	a = vdrv_alloc(&e.d, 16, 1);
	{
		struct vdrv_buf one[] = { { a, 16, true } };

		CHECK(vdrv_post(&e.d, CON_RX, one, 1) >= 0);
	}
	vdrv_kick(&e.d, CON_RX);
	CHECK(wait_rx_ready(&e.s, seen));
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"hi", 2), 2);
	CHECK(vdrv_wait_used(&e.d, CON_RX, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(u.len, 2);
	con_close(&e);
}

/* queue_enable lets a driver leave a queue off (4.1.4.3.2). */
static void console_with_a_queue_left_off_stays_healthy(void)
{
	struct con_env e;
	uint8_t gen;

	CHECK(con_open(&e, 0));
	/* Receive only. */
	CHECK_EQ(vdrv_negotiate(&e.d, ALL_BUT_EVENT_IDX), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, CON_RX, 0), 0);
	gen = generation(&e.d);
	vdrv_driver_ok(&e.d);
	vdrv_reset(&e.d);	/* the transmit thread has looked at its queue */
	CHECK_EQ(generation(&e.d), gen);
	/* Transmit only: input finds no receive queue and is refused. */
	CHECK_EQ(vdrv_negotiate(&e.d, ALL_BUT_EVENT_IDX), 0);
	CHECK_EQ(vdrv_queue_setup(&e.d, CON_TX, 0), 0);
	vdrv_driver_ok(&e.d);
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"x", 1), 0);
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK(con_send(&e, "out"));
	CHECK(sink_holds(&e.s, "out"));
	CHECK_EQ(vdrv_status(&e.d), S_UP);
	CHECK_EQ(generation(&e.d), gen);
	con_close(&e);
}

static void console_looping_tx_chain_needs_reset(void)
{
	struct con_env e;

	CHECK(con_open(&e, ALL_BUT_EVENT_IDX));
	log_set_level(LOG_LEVEL_SILENT);
	post_loop(&e.d, CON_TX, guest_text(&e, "0123456789abcdef"), false);
	vdrv_kick(&e.d, CON_TX);
	CHECK(wait_status(&e.d, VDRV_S_NEEDS_RESET));
	log_set_level(LOG_LEVEL_WARN);
	CHECK(sink_holds(&e.s, ""));
	CHECK(!vdrv_used_pending(&e.d, CON_TX));
	/* Input is refused meanwhile; after a reset all works again. */
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"x", 1), 0);
	CHECK(con_driver_up(&e, ALL_BUT_EVENT_IDX));
	CHECK(con_send(&e, "ok"));
	CHECK(sink_holds(&e.s, "ok"));
	con_close(&e);
}

static void console_looping_rx_chain_needs_reset(void)
{
	struct con_env e;
	uint64_t a;

	CHECK(con_open(&e, ALL_BUT_EVENT_IDX));
	a = vdrv_alloc(&e.d, 16, 1);
	post_loop(&e.d, CON_RX, a, true);
	log_set_level(LOG_LEVEL_SILENT);
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"abc", 3), 0);
	log_set_level(LOG_LEVEL_WARN);
	CHECK(vdrv_status(&e.d) & VDRV_S_NEEDS_RESET);
	CHECK(!vdrv_used_pending(&e.d, CON_RX));
	con_close(&e);
}

static void console_reset_stops_it_and_it_starts_again(void)
{
	struct con_env e;
	struct virtq_used_elem u;
	int started;

	CHECK(con_open(&e, ALL_BUT_EVENT_IDX));
	CHECK(con_send(&e, "one "));
	started = e.s.rx_ready;
	vdrv_reset(&e.d);
	CHECK_EQ(vdrv_status(&e.d), 0);
	/* Stopped: nothing reaches the guest's old buffers. */
	CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"x", 1), 0);
	for (int i = 0; i < 2; i++) {
		uint64_t a;

		CHECK(con_driver_up(&e, i ? ~0ull : ALL_BUT_EVENT_IDX));
		CHECK(e.s.rx_ready > started);
		started = e.s.rx_ready;
		CHECK(con_send(&e, i ? "three" : "two "));
		a = vdrv_alloc(&e.d, 4, 1);
		{
			struct vdrv_buf one[] = { { a, 4, true } };

			CHECK(vdrv_post(&e.d, CON_RX, one, 1) >= 0);
		}
		CHECK_EQ(virtio_console_receive(e.con, (const uint8_t *)"in", 2), 2);
		CHECK(vdrv_wait_used(&e.d, CON_RX, &u, VDRV_TIMEOUT_MS));
		CHECK_EQ(u.len, 2);
		CHECK(!memcmp(vdrv_ptr(&e.d, a, 2), "in", 2));
	}
	CHECK(sink_holds(&e.s, "one two three"));
	con_close(&e);
}

int main(void)
{
	log_init("test_virtio_rng_console", LOG_LEVEL_WARN);
	RUN(rng_is_a_virtio_entropy_device);
	RUN(rng_fills_every_writable_buffer_of_a_chain);
	RUN(rng_writes_nothing_into_readable_buffers);
	RUN(rng_serves_with_event_idx_too);
	RUN(rng_with_its_queue_left_off_stays_healthy);
	RUN(rng_reset_and_restart_serves_again);
	RUN(rng_broken_ring_needs_reset_and_recovers);
	RUN(console_is_a_virtio_console_device);
	RUN(console_transmits_chains_to_the_backend_in_order);
	RUN(console_transmits_with_event_idx_too);
	RUN(console_receive_takes_nothing_until_buffers_are_posted);
	RUN(console_receive_fills_posted_buffers_and_takes_only_what_fits);
	RUN(console_calls_rx_ready_at_start_and_when_buffers_arrive);
	RUN(console_with_a_queue_left_off_stays_healthy);
	RUN(console_looping_tx_chain_needs_reset);
	RUN(console_looping_rx_chain_needs_reset);
	RUN(console_reset_stops_it_and_it_starts_again);
	return test_done();
}
