/*
 * Split virtqueues against hand-built rings in a fake guest memory: 1 MiB of
 * RAM at 0 and a high region at 4 GiB (8 GiB reserved, of which the first
 * 64 KiB are usable) whose size lets chains reach the 4 GiB length limit
 * without backing it. The tests play the driver: they write descriptors and
 * avail entries directly, then check what the device side makes of them.
 */
#include "test.h"
#include "devices/virtqueue.h"
#include "common/guest_memory.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#define LOW_SIZE	MiB(1)
#define HIGH_GPA	GiB(4)
#define HIGH_SIZE	GiB(8)
#define HIGH_RW		KiB(64)

#define QSIZE	8
#define DESC	0x1000ull
#define AVAIL	0x2000ull
#define USED	0x3000ull
#define TABLE	0x4000ull	/* indirect tables */
#define DATA	0x10000ull	/* buffers */

#define NEXT	VIRTQ_DESC_F_NEXT
#define WRITE	VIRTQ_DESC_F_WRITE
#define INDIRECT VIRTQ_DESC_F_INDIRECT

static struct guest_memory mem;
static struct virtqueue vq;
static struct iovec iov[16];
static struct virtq_chain chain;

static void *host(uint64_t gpa)
{
	return guest_ptr(&mem, gpa, 1);
}

static struct virtq_avail *avail(void)
{
	return host(AVAIL);
}

static struct virtq_used *used(void)
{
	return host(USED);
}

static uint16_t *used_event(void)
{
	return &avail()->ring[vq.size];
}

static uint16_t *avail_event(void)
{
	return (uint16_t *)&used()->ring[vq.size];
}

/* Zeroed RAM, and a queue of `size` entries at DESC, AVAIL and USED. */
static void setup(uint16_t size, bool event_idx)
{
	memset(mem.region[0].host, 0, LOW_SIZE);
	memset(mem.region[1].host, 0, HIGH_RW);
	CHECK_EQ(virtqueue_enable(&vq, &mem, size, DESC, AVAIL, USED, event_idx), 0);
	chain = (struct virtq_chain){ .iov = iov, .max_iov = ARRAY_SIZE(iov) };
}

/* Writes entry i of the descriptor table (or indirect table) at `table`. */
static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(host(table + 16ull * i), &d, sizeof(d));
}

/* Makes the chain at `head` available, as the driver does. */
static void offer(uint16_t head)
{
	struct virtq_avail *a = avail();

	a->ring[a->idx % vq.size] = head;
	a->idx++;
}

/* Pushes `n` chains through the queue (head 0, one byte each). */
static void push_n(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		virtqueue_push(&vq, 0, 1);
}

/*
 * The next pop finds the driver broke the rules: -EIO, and from then on the
 * queue is dead even for a well-formed chain, and gives nothing back.
 */
static void check_pop_breaks(void)
{
	uint16_t last_avail = vq.last_avail;
	uint16_t used_idx = used()->idx;

	CHECK_EQ(virtqueue_pop(&vq, &chain), -EIO);
	CHECK(vq.broken);
	CHECK(!virtqueue_has_work(&vq));
	put_desc(DESC, vq.size - 1, DATA, 16, 0, 0);
	offer(vq.size - 1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), -EIO);
	CHECK_EQ(vq.last_avail, last_avail);
	virtqueue_push(&vq, 0, 1);
	CHECK_EQ(used()->idx, used_idx);
	CHECK(!virtqueue_should_notify(&vq));
	CHECK(!virtqueue_enable_notify(&vq));
}

/* enable() */

static void enable_accepts_every_power_of_two_size(void)
{
	memset(mem.region[0].host, 0, LOW_SIZE);
	for (unsigned size = 1; size <= VIRTQ_MAX_SIZE; size *= 2) {
		CHECK_EQ(virtqueue_enable(&vq, &mem, size, 0x20000, 0x28000, 0x30000, false), 0);
		CHECK_EQ(vq.size, size);
		CHECK(!vq.broken);
	}
}

static void enable_rejects_bad_sizes(void)
{
	static const uint16_t bad[] = { 0, 3, 6, 1000, 2 * VIRTQ_MAX_SIZE, 0xffff };

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(virtqueue_enable(&vq, &mem, bad[i], DESC, AVAIL, USED, false), -EINVAL);
		CHECK(vq.broken);
	}
}

static void enable_rejects_misaligned_rings(void)
{
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC + 8, AVAIL, USED, false), -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, AVAIL + 1, USED, false), -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, AVAIL, USED + 2, false), -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC + 16, AVAIL + 2, USED + 4, false), 0);
}

/* Sizes for QSIZE 8: desc 128 bytes, avail 4 + 16 + 2, used 4 + 64 + 2. */
static void enable_rejects_rings_past_end_of_ram(void)
{
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, LOW_SIZE - 64, AVAIL, USED, false), -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, LOW_SIZE - 128, AVAIL, USED, false), 0);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, LOW_SIZE - 22, USED, false), 0);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, AVAIL, LOW_SIZE - 72, false), 0);
}

/* The ring proper fits; only used_event / avail_event would cross the end. */
static void enable_counts_the_event_idx_fields(void)
{
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, LOW_SIZE - 20, USED, false), -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, AVAIL, LOW_SIZE - 68, false), -EINVAL);
}

static void enable_rejects_rings_outside_ram(void)
{
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, 0x80000000, AVAIL, USED, false), -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, HIGH_GPA + HIGH_SIZE, USED, false),
		 -EINVAL);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, AVAIL, UINT64_MAX - 3, false), -EINVAL);
}

static void enable_accepts_rings_in_high_region(void)
{
	memset(mem.region[1].host, 0, HIGH_RW);
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, HIGH_GPA, HIGH_GPA + 0x1000,
				  HIGH_GPA + 0x2000, true), 0);
	CHECK(vq.desc == host(HIGH_GPA));
	CHECK(vq.used == host(HIGH_GPA + 0x2000));
}

static void failed_enable_leaves_queue_dead(void)
{
	CHECK_EQ(virtqueue_enable(&vq, &mem, 3, DESC, AVAIL, USED, false), -EINVAL);
	CHECK(!virtqueue_enabled(&vq));
	CHECK_EQ(virtqueue_pop(&vq, &chain), -EIO);
	CHECK(!virtqueue_has_work(&vq));
	CHECK(!virtqueue_should_notify(&vq));
	CHECK(!virtqueue_enable_notify(&vq));
	virtqueue_push(&vq, 0, 0);
	virtqueue_disable_notify(&vq);
}

/* A driver may leave a queue off: the zeroed queue is empty, not broken. */
static void a_queue_never_enabled_is_empty(void)
{
	struct virtqueue off = { 0 };

	CHECK(!virtqueue_enabled(&off));
	CHECK_EQ(virtqueue_pop(&off, &chain), 0);
	CHECK(!virtqueue_has_work(&off));
	CHECK(!virtqueue_should_notify(&off));
	CHECK(!virtqueue_enable_notify(&off));
	virtqueue_push(&off, 0, 0);
	virtqueue_disable_notify(&off);
	CHECK(!off.broken);
	CHECK_EQ(virtqueue_enable(&off, &mem, 8, DESC, AVAIL, USED, false), 0);
	CHECK(virtqueue_enabled(&off));
}

static void enable_resets_indices(void)
{
	setup(QSIZE, true);
	put_desc(DESC, 0, DATA, 4, 0, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	virtqueue_push(&vq, 0, 0);
	CHECK(virtqueue_should_notify(&vq));
	vq.broken = true;
	CHECK_EQ(virtqueue_enable(&vq, &mem, QSIZE, DESC, AVAIL, USED, true), 0);
	CHECK_EQ(vq.last_avail, 0);
	CHECK_EQ(vq.used_idx, 0);
	CHECK(!vq.signalled_used_valid);
	CHECK(!vq.broken);
}

/* pop(): well-formed chains */

static void empty_ring_pops_nothing(void)
{
	setup(QSIZE, false);
	CHECK(!virtqueue_has_work(&vq));
	CHECK_EQ(virtqueue_pop(&vq, &chain), 0);
	CHECK(!vq.broken);
	CHECK_EQ(vq.last_avail, 0);
}

static void pops_readable_then_writable_buffers(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 16, NEXT, 3);
	put_desc(DESC, 3, DATA + 0x100, 32, NEXT, 5);
	put_desc(DESC, 5, DATA + 0x200, 64, WRITE | NEXT, 1);
	put_desc(DESC, 1, DATA + 0x300, 1, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 0);
	CHECK_EQ(chain.nout, 2);
	CHECK_EQ(chain.nin, 2);
	CHECK_EQ(chain.out_len, 48);
	CHECK_EQ(chain.in_len, 65);
	CHECK(iov[0].iov_base == host(DATA) && iov[0].iov_len == 16);
	CHECK(iov[1].iov_base == host(DATA + 0x100) && iov[1].iov_len == 32);
	CHECK(iov[2].iov_base == host(DATA + 0x200) && iov[2].iov_len == 64);
	CHECK(iov[3].iov_base == host(DATA + 0x300) && iov[3].iov_len == 1);
	CHECK_EQ(vq.last_avail, 1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 0);
}

static void pops_chains_in_avail_order(void)
{
	setup(QSIZE, false);
	for (unsigned i = 0; i < 3; i++)
		put_desc(DESC, i, DATA + i * 0x100, 8, 0, 0);
	offer(2);
	offer(0);
	offer(1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 2);
	CHECK(iov[0].iov_base == host(DATA + 0x200));
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 0);
}

static void has_work_does_not_consume(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 4, DATA, 8, 0, 0);
	offer(4);
	CHECK(virtqueue_has_work(&vq));
	CHECK(virtqueue_has_work(&vq));
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 4);
	CHECK(!virtqueue_has_work(&vq));
}

static void full_ring_pops_every_entry(void)
{
	setup(QSIZE, false);
	for (unsigned i = 0; i < QSIZE; i++) {
		put_desc(DESC, i, DATA, 8, 0, 0);
		offer(i);
	}
	for (unsigned i = 0; i < QSIZE; i++) {
		CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
		CHECK_EQ(chain.head, i);
	}
	CHECK_EQ(virtqueue_pop(&vq, &chain), 0);
	CHECK(!vq.broken);
}

/* The free-running 16-bit avail idx wraps from 0xffff to 0. */
static void avail_index_wraps(void)
{
	setup(QSIZE, false);
	vq.last_avail = 0xfffe;
	avail()->idx = 0xfffe;
	for (unsigned i = 0; i < 3; i++) {
		put_desc(DESC, i, DATA, 8, 0, 0);
		offer(i);
	}
	CHECK_EQ(avail()->idx, 1);
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
		CHECK_EQ(chain.head, i);
	}
	CHECK_EQ(vq.last_avail, 1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 0);
}

/* An empty buffer transfers nothing; it needs no iovec or valid address. */
static void empty_descriptor_gives_no_iovec(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, 0x80000000, 0, NEXT, 1);
	put_desc(DESC, 1, DATA, 8, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout, 0);
	CHECK_EQ(chain.nin, 1);
	CHECK(iov[0].iov_base == host(DATA));
}

static void buffer_ending_at_end_of_region_is_accepted(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, LOW_SIZE - 16, 16, NEXT, 1);
	put_desc(DESC, 1, HIGH_GPA + HIGH_SIZE - 16, 16, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK(iov[0].iov_base == host(LOW_SIZE - 16));
	CHECK(iov[1].iov_base == (uint8_t *)mem.region[1].host + HIGH_SIZE - 16);
}

static void pops_indirect_table(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 5, TABLE, 3 * 16, INDIRECT, 0);
	put_desc(TABLE, 0, DATA, 10, NEXT, 2);
	put_desc(TABLE, 2, DATA + 0x100, 20, WRITE | NEXT, 1);
	put_desc(TABLE, 1, DATA + 0x200, 30, WRITE, 0);
	offer(5);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 5);
	CHECK_EQ(chain.nout, 1);
	CHECK_EQ(chain.nin, 2);
	CHECK_EQ(chain.out_len, 10);
	CHECK_EQ(chain.in_len, 50);
	CHECK(iov[0].iov_base == host(DATA));
	CHECK(iov[1].iov_base == host(DATA + 0x100));
	CHECK(iov[2].iov_base == host(DATA + 0x200) && iov[2].iov_len == 30);
}

/* Nothing requires an indirect table to be aligned (UBSan watches this). */
static void pops_unaligned_indirect_table(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE + 3, 2 * 16, INDIRECT, 0);
	put_desc(TABLE + 3, 0, DATA, 4, NEXT, 1);
	put_desc(TABLE + 3, 1, DATA + 8, 4, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout, 1);
	CHECK_EQ(chain.nin, 1);
}

/* "zero or more normal chained descriptors followed by a single
 * descriptor with flags&VIRTQ_DESC_F_INDIRECT" */
static void pops_direct_descriptors_then_indirect(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 4, NEXT, 1);
	put_desc(DESC, 1, TABLE, 16, INDIRECT, 0);
	put_desc(TABLE, 0, DATA + 0x100, 8, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout, 1);
	CHECK_EQ(chain.nin, 1);
	CHECK(iov[1].iov_base == host(DATA + 0x100));
}

/* "The device MUST ignore the write-only flag ... in the descriptor that
 * refers to an indirect table": a readable buffer may follow it. */
static void write_flag_of_indirect_descriptor_is_ignored(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 2 * 16, INDIRECT | WRITE, 0);
	put_desc(TABLE, 0, DATA, 4, NEXT, 1);
	put_desc(TABLE, 1, DATA + 8, 4, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout, 1);
	CHECK_EQ(chain.nin, 1);
}

static void indirect_table_of_max_length_is_accepted(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, VIRTQ_MAX_SIZE * 16, INDIRECT, 0);
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
		put_desc(DATA, i, 0, 0, i + 1 < VIRTQ_MAX_SIZE ? NEXT : 0, i + 1);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout + chain.nin, 0);
}

static void chain_filling_max_iov_is_accepted(void)
{
	setup(QSIZE, false);
	chain.max_iov = 2;
	put_desc(DESC, 0, DATA, 4, NEXT, 1);
	put_desc(DESC, 1, DATA + 8, 4, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout + chain.nin, 2);
}

/* Lengths may add up to exactly 2^32 - 1 (the high region is big enough). */
static void chain_of_4g_minus_1_is_accepted(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, HIGH_GPA, 0x80000000, NEXT, 1);
	put_desc(DESC, 1, HIGH_GPA + 0x80000000, 0x7fffffff, 0, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(chain.out_len, UINT32_MAX);
}

/* With EVENT_IDX, pop leaves avail_event to enable_notify(). */
static void pop_does_not_write_avail_event(void)
{
	setup(QSIZE, true);
	*avail_event() = 0x1234;
	put_desc(DESC, 0, DATA, 4, 0, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(*avail_event(), 0x1234);
}

/* pop(): rule breakers */

static void descriptor_loop_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, NEXT, 1);
	put_desc(DESC, 1, DATA, 8, NEXT, 0);
	offer(0);
	check_pop_breaks();
}

/* Empty buffers use no iovecs, so only the length limit stops this one. */
static void empty_self_loop_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 2, DATA, 0, NEXT, 2);
	offer(2);
	check_pop_breaks();
}

static void next_out_of_range_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, NEXT, QSIZE);
	offer(0);
	check_pop_breaks();
}

static void head_out_of_range_breaks_queue(void)
{
	setup(QSIZE, false);
	offer(QSIZE);
	check_pop_breaks();
}

static void avail_idx_beyond_queue_size_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, 0, 0);
	avail()->idx = QSIZE + 1;
	check_pop_breaks();
}

static void avail_idx_going_back_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, 0, 0);
	offer(0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	avail()->idx = 1;
	check_pop_breaks();
}

static void buffer_outside_ram_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, 0x80000000, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void buffer_straddling_end_of_low_ram_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, LOW_SIZE - 8, 16, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void buffer_straddling_end_of_high_ram_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, NEXT, 1);
	put_desc(DESC, 1, HIGH_GPA + HIGH_SIZE - 8, 16, WRITE, 0);
	offer(0);
	check_pop_breaks();
}

static void buffer_wrapping_address_space_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, UINT64_MAX - 3, 16, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void readable_after_writable_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, WRITE | NEXT, 1);
	put_desc(DESC, 1, DATA + 8, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

/* The order rule is about descriptors, whatever their length. */
static void readable_after_empty_writable_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 0, WRITE | NEXT, 1);
	put_desc(DESC, 1, DATA + 8, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void readable_in_table_after_direct_writable_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 8, WRITE | NEXT, 1);
	put_desc(DESC, 1, TABLE, 16, INDIRECT, 0);
	put_desc(TABLE, 0, DATA + 8, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void nested_indirect_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 16, INDIRECT, 0);
	put_desc(TABLE, 0, TABLE + 0x100, 16, INDIRECT, 0);
	put_desc(TABLE + 0x100, 0, DATA, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void indirect_with_next_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 16, INDIRECT | NEXT, 1);
	put_desc(DESC, 1, DATA + 8, 8, WRITE, 0);
	put_desc(TABLE, 0, DATA, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void indirect_len_not_multiple_of_16_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 24, INDIRECT, 0);
	put_desc(TABLE, 0, DATA, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void empty_indirect_table_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 0, INDIRECT, 0);
	offer(0);
	check_pop_breaks();
}

static void indirect_table_outside_ram_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, LOW_SIZE - 16, 32, INDIRECT, 0);
	put_desc(LOW_SIZE - 16, 0, DATA, 8, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void indirect_next_past_table_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 2 * 16, INDIRECT, 0);
	put_desc(TABLE, 0, DATA, 8, NEXT, 2);
	put_desc(TABLE, 2, DATA, 8, 0, 0);	/* exists in RAM, but not in the table */
	offer(0);
	check_pop_breaks();
}

static void indirect_loop_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 2 * 16, INDIRECT, 0);
	put_desc(TABLE, 0, DATA, 0, NEXT, 1);
	put_desc(TABLE, 1, DATA, 0, NEXT, 0);
	offer(0);
	check_pop_breaks();
}

/* One direct buffer plus a full table of VIRTQ_MAX_SIZE is one too many. */
static void chain_longer_than_max_size_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, DATA, 0, NEXT, 1);
	put_desc(DESC, 1, DATA, VIRTQ_MAX_SIZE * 16, INDIRECT, 0);
	for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++)
		put_desc(DATA, i, 0, 0, i + 1 < VIRTQ_MAX_SIZE ? NEXT : 0, i + 1);
	offer(0);
	check_pop_breaks();
}

static void too_many_buffers_for_max_iov_breaks_queue(void)
{
	setup(QSIZE, false);
	chain.max_iov = 2;
	put_desc(DESC, 0, DATA, 4, NEXT, 1);
	put_desc(DESC, 1, DATA + 8, 4, WRITE | NEXT, 2);
	put_desc(DESC, 2, DATA + 16, 4, WRITE, 0);
	offer(0);
	check_pop_breaks();
}

static void readable_total_of_4g_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, HIGH_GPA, 0x80000000, NEXT, 1);
	put_desc(DESC, 1, HIGH_GPA + 0x80000000, 0x80000000, 0, 0);
	offer(0);
	check_pop_breaks();
}

static void writable_total_of_4g_breaks_queue(void)
{
	setup(QSIZE, false);
	put_desc(DESC, 0, TABLE, 3 * 16, INDIRECT, 0);
	put_desc(TABLE, 0, HIGH_GPA, 0xffffffff, WRITE | NEXT, 1);
	put_desc(TABLE, 1, DATA, 1, WRITE, 0);
	offer(0);
	check_pop_breaks();
}

/* push() */

static void push_fills_used_ring(void)
{
	setup(QSIZE, false);
	virtqueue_push(&vq, 3, 42);
	CHECK_EQ(used()->idx, 1);
	CHECK_EQ(used()->ring[0].id, 3);
	CHECK_EQ(used()->ring[0].len, 42);
	for (unsigned i = 1; i <= QSIZE; i++)
		virtqueue_push(&vq, i % QSIZE, i);
	CHECK_EQ(used()->idx, QSIZE + 1);
	CHECK_EQ(used()->ring[0].id, 0);	/* the ninth push reused slot 0 */
	CHECK_EQ(used()->ring[0].len, QSIZE);
	CHECK_EQ(used()->ring[7].id, 7);
}

/* On a queue of 4, idx 0xffff is slot 3 and the next is slot 0. */
static void used_index_wraps(void)
{
	setup(4, false);
	vq.used_idx = 0xffff;
	virtqueue_push(&vq, 1, 5);
	CHECK_EQ(used()->idx, 0);
	CHECK_EQ(used()->ring[3].id, 1);
	CHECK_EQ(used()->ring[3].len, 5);
	virtqueue_push(&vq, 2, 6);
	CHECK_EQ(used()->idx, 1);
	CHECK_EQ(used()->ring[0].id, 2);
}

/* chain_read() / chain_write() */

/* Readable "abc" + "defgh", then a writable buffer holding "XXXX". */
static void setup_copy_chain(void)
{
	setup(QSIZE, false);
	memcpy(host(DATA), "abc", 3);
	memcpy(host(DATA + 0x100), "defgh", 5);
	memcpy(host(DATA + 0x200), "XXXX", 4);
	put_desc(DESC, 0, DATA, 3, NEXT, 1);
	put_desc(DESC, 1, DATA + 0x100, 5, NEXT, 2);
	put_desc(DESC, 2, DATA + 0x200, 4, WRITE | NEXT, 3);
	put_desc(DESC, 3, DATA + 0x300, 3, WRITE, 0);
	offer(0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
}

static void chain_read_crosses_buffers(void)
{
	char buf[16] = { 0 };

	setup_copy_chain();
	CHECK_EQ(virtq_chain_read(&chain, 0, buf, 8), 8);
	CHECK(!memcmp(buf, "abcdefgh", 8));
	CHECK_EQ(virtq_chain_read(&chain, 2, buf, 4), 4);
	CHECK(!memcmp(buf, "cdef", 4));
}

static void chain_read_stops_at_end_of_readable_part(void)
{
	char buf[16] = { 0 };

	setup_copy_chain();
	CHECK_EQ(virtq_chain_read(&chain, 0, buf, sizeof(buf)), 8);
	CHECK(!memcmp(buf, "abcdefgh\0", 9));
	CHECK_EQ(virtq_chain_read(&chain, 6, buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "gh", 2));
	CHECK_EQ(virtq_chain_read(&chain, 8, buf, 1), 0);
	CHECK_EQ(virtq_chain_read(&chain, 100, buf, 1), 0);
}

static void chain_write_fills_only_writable_part(void)
{
	setup_copy_chain();
	CHECK_EQ(virtq_chain_write(&chain, 1, "wxyz12", 6), 6);
	CHECK(!memcmp(host(DATA + 0x200), "Xwxy", 4));
	CHECK(!memcmp(host(DATA + 0x300), "z12", 3));
	CHECK(!memcmp(host(DATA), "abc", 3));
	CHECK(!memcmp(host(DATA + 0x100), "defgh", 5));
	CHECK_EQ(virtq_chain_write(&chain, 5, "pq", 2), 2);
	CHECK(!memcmp(host(DATA + 0x300), "zpq", 3));
	CHECK_EQ(virtq_chain_write(&chain, 6, "rs", 2), 1);
	CHECK(!memcmp(host(DATA + 0x300), "zpr", 3));
	CHECK_EQ(virtq_chain_write(&chain, 7, "t", 1), 0);
}

/* should_notify() */

static void notifies_unless_no_interrupt(void)
{
	setup(QSIZE, false);
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	push_n(1);
	CHECK(!virtqueue_should_notify(&vq));
	avail()->flags = 0;
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
}

static void event_idx_first_notification_is_sent(void)
{
	setup(QSIZE, true);
	*used_event() = 100;
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	push_n(1);
	CHECK(!virtqueue_should_notify(&vq));
}

/* used_event = 2: "until idx in the used ring will reach used_event + 1". */
static void event_idx_notifies_when_used_event_is_reached(void)
{
	setup(QSIZE, true);
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	*used_event() = 2;
	push_n(1);
	CHECK(!virtqueue_should_notify(&vq));	/* idx 2 */
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));	/* idx 3 */
	push_n(1);
	CHECK(!virtqueue_should_notify(&vq));	/* idx 4 */
}

static void event_idx_batch_passing_used_event_notifies(void)
{
	setup(QSIZE, true);
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	*used_event() = 3;
	push_n(5);
	CHECK(virtqueue_should_notify(&vq));
}

static void event_idx_repeated_call_without_push_is_quiet(void)
{
	setup(QSIZE, true);
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	*used_event() = 1;
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	CHECK(!virtqueue_should_notify(&vq));
	CHECK(!virtqueue_should_notify(&vq));
}

static void event_idx_works_across_wraparound(void)
{
	setup(QSIZE, true);
	vq.used_idx = 0xfffd;
	vq.signalled_used = 0xfffd;
	vq.signalled_used_valid = true;
	*used_event() = 0xffff;
	push_n(3);	/* entries 0xfffd, 0xfffe, 0xffff; idx becomes 0 */
	CHECK_EQ(used()->idx, 0);
	CHECK(virtqueue_should_notify(&vq));
	*used_event() = 3;
	push_n(3);	/* entries 0, 1, 2 */
	CHECK(!virtqueue_should_notify(&vq));
	push_n(1);	/* entry 3 */
	CHECK(virtqueue_should_notify(&vq));
}

/* "The device MUST ignore the lower bit of flags" with EVENT_IDX. */
static void event_idx_ignores_no_interrupt_flag(void)
{
	setup(QSIZE, true);
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
	*used_event() = 1;
	push_n(1);
	CHECK(virtqueue_should_notify(&vq));
}

/* disable_notify() / enable_notify() */

static void disable_notify_sets_no_notify(void)
{
	setup(QSIZE, false);
	virtqueue_disable_notify(&vq);
	CHECK_EQ(used()->flags, VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!virtqueue_enable_notify(&vq));
	CHECK_EQ(used()->flags, 0);
}

/* A chain offered while notifications were off must not be slept on. */
static void enable_notify_reports_chains_that_raced_in(void)
{
	setup(QSIZE, false);
	virtqueue_disable_notify(&vq);
	put_desc(DESC, 0, DATA, 4, 0, 0);
	offer(0);
	CHECK(virtqueue_enable_notify(&vq));
	CHECK_EQ(used()->flags, 0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK(!virtqueue_enable_notify(&vq));
}

static void event_idx_enable_notify_publishes_avail_event(void)
{
	setup(QSIZE, true);
	put_desc(DESC, 0, DATA, 4, 0, 0);
	offer(0);
	offer(0);
	*avail_event() = 0xdead;
	CHECK(virtqueue_enable_notify(&vq));
	CHECK_EQ(*avail_event(), 0);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK_EQ(virtqueue_pop(&vq, &chain), 1);
	CHECK(!virtqueue_enable_notify(&vq));
	CHECK_EQ(*avail_event(), 2);
	CHECK_EQ(used()->flags, 0);
}

/* With EVENT_IDX "the device MUST set flags to 0"; avail_event stays stale. */
static void event_idx_disable_notify_leaves_rings_alone(void)
{
	setup(QSIZE, true);
	*avail_event() = 5;
	virtqueue_disable_notify(&vq);
	CHECK_EQ(used()->flags, 0);
	CHECK_EQ(*avail_event(), 5);
}

/* Both regions at fixed guest addresses; the high one is mostly reserved. */
static int map_memory(void)
{
	uint8_t *high;

	mem.nregions = 2;
	mem.region[0] = (struct guest_region){ .gpa = 0, .size = LOW_SIZE,
					       .host = aligned_alloc(4096, LOW_SIZE) };
	high = mmap(NULL, HIGH_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		    0);
	if (!mem.region[0].host || high == MAP_FAILED)
		return -1;
	if (mprotect(high, HIGH_RW, PROT_READ | PROT_WRITE))
		return -1;
	mem.region[1] = (struct guest_region){ .gpa = HIGH_GPA, .size = HIGH_SIZE, .host = high };
	mem.total = LOW_SIZE + HIGH_SIZE;
	return 0;
}

int main(void)
{
	log_init("test_virtqueue", LOG_LEVEL_ERROR);
	if (map_memory()) {
		printf("Bail out! cannot allocate the fake guest memory\n");
		return 1;
	}
	RUN(enable_accepts_every_power_of_two_size);
	RUN(enable_rejects_bad_sizes);
	RUN(a_queue_never_enabled_is_empty);
	RUN(enable_rejects_misaligned_rings);
	RUN(enable_rejects_rings_past_end_of_ram);
	RUN(enable_counts_the_event_idx_fields);
	RUN(enable_rejects_rings_outside_ram);
	RUN(enable_accepts_rings_in_high_region);
	RUN(failed_enable_leaves_queue_dead);
	RUN(enable_resets_indices);

	RUN(empty_ring_pops_nothing);
	RUN(pops_readable_then_writable_buffers);
	RUN(pops_chains_in_avail_order);
	RUN(has_work_does_not_consume);
	RUN(full_ring_pops_every_entry);
	RUN(avail_index_wraps);
	RUN(empty_descriptor_gives_no_iovec);
	RUN(buffer_ending_at_end_of_region_is_accepted);
	RUN(pops_indirect_table);
	RUN(pops_unaligned_indirect_table);
	RUN(pops_direct_descriptors_then_indirect);
	RUN(write_flag_of_indirect_descriptor_is_ignored);
	RUN(indirect_table_of_max_length_is_accepted);
	RUN(chain_filling_max_iov_is_accepted);
	RUN(chain_of_4g_minus_1_is_accepted);
	RUN(pop_does_not_write_avail_event);

	RUN(descriptor_loop_breaks_queue);
	RUN(empty_self_loop_breaks_queue);
	RUN(next_out_of_range_breaks_queue);
	RUN(head_out_of_range_breaks_queue);
	RUN(avail_idx_beyond_queue_size_breaks_queue);
	RUN(avail_idx_going_back_breaks_queue);
	RUN(buffer_outside_ram_breaks_queue);
	RUN(buffer_straddling_end_of_low_ram_breaks_queue);
	RUN(buffer_straddling_end_of_high_ram_breaks_queue);
	RUN(buffer_wrapping_address_space_breaks_queue);
	RUN(readable_after_writable_breaks_queue);
	RUN(readable_after_empty_writable_breaks_queue);
	RUN(readable_in_table_after_direct_writable_breaks_queue);
	RUN(nested_indirect_breaks_queue);
	RUN(indirect_with_next_breaks_queue);
	RUN(indirect_len_not_multiple_of_16_breaks_queue);
	RUN(empty_indirect_table_breaks_queue);
	RUN(indirect_table_outside_ram_breaks_queue);
	RUN(indirect_next_past_table_breaks_queue);
	RUN(indirect_loop_breaks_queue);
	RUN(chain_longer_than_max_size_breaks_queue);
	RUN(too_many_buffers_for_max_iov_breaks_queue);
	RUN(readable_total_of_4g_breaks_queue);
	RUN(writable_total_of_4g_breaks_queue);

	RUN(push_fills_used_ring);
	RUN(used_index_wraps);

	RUN(chain_read_crosses_buffers);
	RUN(chain_read_stops_at_end_of_readable_part);
	RUN(chain_write_fills_only_writable_part);

	RUN(notifies_unless_no_interrupt);
	RUN(event_idx_first_notification_is_sent);
	RUN(event_idx_notifies_when_used_event_is_reached);
	RUN(event_idx_batch_passing_used_event_notifies);
	RUN(event_idx_repeated_call_without_push_is_quiet);
	RUN(event_idx_works_across_wraparound);
	RUN(event_idx_ignores_no_interrupt_flag);

	RUN(disable_notify_sets_no_notify);
	RUN(enable_notify_reports_chains_that_raced_in);
	RUN(event_idx_enable_notify_publishes_avail_event);
	RUN(event_idx_disable_notify_leaves_rings_alone);

	free(mem.region[0].host);
	munmap(mem.region[1].host, HIGH_SIZE);
	return test_done();
}
