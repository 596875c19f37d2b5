/*
 * blk_instructions: drives corral's virtio-blk device natively, as a guest
 * driver would, with N 4 KiB requests, so that bench/instructions.sh can
 * count the host instructions the device's queue thread spends on each.
 *
 *   blk_instructions [--kind randread|randwrite] [--requests N] [--depth D]
 *                    [--disk-size SIZE] [--dir DIR] [--cache auto|none|writeback]
 *                    [--no-event-idx]
 *
 * Why natively: in corral-vmm the guest's queue notification is a KVM
 * ioeventfd and the device's interrupt a KVM irqfd, so a request never exits
 * to user space, and all of the VMM's user-space work for it happens on the
 * queue's thread (pop the chain, build the io_uring SQE, reap the CQE, push
 * the used entry, decide whether to interrupt). That thread cannot tell
 * whether KVM is behind its eventfds, so here tests/unit/virtio_driver.h
 * plays the guest over fake_host.h's eventfds, and the thread runs the code
 * it runs in the VMM.
 *
 * Two processes, as with a real guest: this one holds the device (the VMM's
 * side) and a forked child drives it (the guest's side), sharing guest RAM
 * (a MAP_SHARED mapping) and the eventfds. Besides being faithful, that is
 * what makes callgrind usable: valgrind runs one thread of a process at a
 * time, and valgrind 3.19 (Debian 12) keeps that turn through a waiting
 * io_uring_enter(), so a driver thread in the same process could never run
 * to notify the queue thread waiting there. The parent's main thread only
 * sets DRIVER_OK and sleeps until the child is done; the child then keeps
 * notifying the queue, spuriously, every millisecond until the parent has
 * stopped the device, so that the parent gets its turn.
 *
 * The disk is a temporary file of SIZE (default 64 MiB) in DIR (default
 * /var/tmp, as tmpfs refuses O_DIRECT), written full first so requests hit
 * allocated blocks, and unlinked as soon as the device has opened it. With
 * --cache auto (the default) the device uses O_DIRECT (cache=none) unless the
 * file system refuses it, and then the page cache (cache=writeback); the
 * output says which. Requests go to uniformly random 4 KiB-aligned offsets
 * from a fixed seed, so runs repeat. Each is a three-descriptor chain
 * (header, 4 KiB buffer, status byte). Up to D are in flight: the first D
 * are in the ring before DRIVER_OK, and each time the driver is interrupted
 * it takes every completion there is, posts as many new requests and
 * notifies once, skipping notifications the device suppressed, as Linux's
 * virtio_ring does. It accepts every feature the device offers, EVENT_IDX
 * included unless --no-event-idx.
 *
 * Prints one line, `kind=... depth=... requests=N done=N errors=0 cache=...
 * event_idx=... kicks=... interrupts=... seconds=...` (kicks: queue
 * notifications the driver sent; interrupts: those the device raised; fewer
 * of each per request means bigger batches), and exits 0 if every request
 * completed with VIRTIO_BLK_S_OK, 1 if not, 2 for bad arguments or a failed
 * setup.
 */
#include "fake_host.h"
#include "virtio_driver.h"
#include "common/log.h"
#include "common/util.h"
#include "devices/virtio_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* From the virtio 1.x specification, section 5.2.6. */
#define T_IN  0
#define T_OUT 1
#define S_OK  0

#define BLOCK        4096u
#define HEADER_LEN   16u
#define MAX_DEPTH    64		/* three descriptors each in a 256-entry queue */
#define GUEST_MEM    (16u << 20)
#define HEAP_START   (1u << 20)
#define FILL_CHUNK   (1u << 20)

struct options {
	bool write;
	uint64_t requests;
	unsigned depth;
	uint64_t disk_size;
	const char *dir;
	const char *cache;	/* "auto", "none" or "writeback" */
	bool event_idx;
};

/* One request's buffers in guest memory, reused for every request it carries. */
struct slot {
	uint64_t header, data, status;	/* guest-physical */
};

struct bench {
	struct options opt;
	struct fake_host fh;
	struct virtio_blk *blk;
	struct vdrv d;
	char path[PATH_MAX];
	bool cached;
	uint64_t nblocks;
	uint64_t rng;
	struct slot slot[MAX_DEPTH];
	int slot_of_head[VIRTQ_MAX_SIZE];
	unsigned free_slot[MAX_DEPTH], nfree;
	uint64_t posted, done, errors;
	uint64_t kicks;		/* notifications sent */
	uint16_t notified_idx;	/* avail->idx when notifying was last considered */
	_Atomic bool *device_stopped;	/* shared: the parent has stopped the device */
};

/* ---- Arguments ---- */

static void usage(void)
{
	fprintf(stderr, "usage: blk_instructions [--kind randread|randwrite] [--requests N] "
		"[--depth 1..%d] [--disk-size SIZE] [--dir DIR] [--cache auto|none|writeback] "
		"[--no-event-idx]\n", MAX_DEPTH);
}

static bool parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || n < min || n > max)
		return false;
	*v = n;
	return true;
}

static bool parse_option(struct options *o, const char *name, const char *value)
{
	uint64_t n;

	if (!strcmp(name, "--kind")) {
		o->write = !strcmp(value, "randwrite");
		return o->write || !strcmp(value, "randread");
	}
	if (!strcmp(name, "--requests"))
		return parse_count(value, 1, UINT64_MAX / 2, &o->requests);
	if (!strcmp(name, "--depth")) {
		if (!parse_count(value, 1, MAX_DEPTH, &n))
			return false;
		o->depth = n;
		return true;
	}
	if (!strcmp(name, "--disk-size"))
		return parse_size(value, &o->disk_size) == 0 && o->disk_size >= BLOCK;
	if (!strcmp(name, "--dir")) {
		o->dir = value;
		return true;
	}
	if (!strcmp(name, "--cache")) {
		o->cache = value;
		return !strcmp(value, "auto") || !strcmp(value, "none") ||
		       !strcmp(value, "writeback");
	}
	return false;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .requests = 20000, .depth = 1, .disk_size = 64u << 20,
			       .dir = "/var/tmp", .cache = "auto", .event_idx = true };
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-event-idx")) {
			o->event_idx = false;
			continue;
		}
		if (i + 1 >= argc || !parse_option(o, argv[i], argv[i + 1])) {
			usage();
			return -1;
		}
		i++;
	}
	return 0;
}

/* ---- Setup ---- */

/* Creates the image in opt.dir, written full with a pattern and synced. */
static int make_image(struct bench *b)
{
	static uint8_t chunk[FILL_CHUNK];
	int fd;

	snprintf(b->path, sizeof(b->path), "%s/corral-bench-blk-XXXXXX", b->opt.dir);
	fd = mkstemp(b->path);
	if (fd < 0) {
		fprintf(stderr, "blk_instructions: %s: %s\n", b->path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i * 7 + (i >> 12));
	for (uint64_t off = 0; off < b->opt.disk_size; off += sizeof(chunk)) {
		size_t n = MIN(sizeof(chunk), b->opt.disk_size - off);

		if (write_full(fd, chunk, n) < 0) {
			fprintf(stderr, "blk_instructions: writing %s: %s\n", b->path,
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	/* Direct reads would otherwise first wait for this data's writeback. */
	fdatasync(fd);
	close(fd);
	b->nblocks = b->opt.disk_size / BLOCK;
	return 0;
}

/* Whether the device will have to use the page cache. */
static bool choose_cached(struct bench *b)
{
	int fd;

	if (strcmp(b->opt.cache, "auto"))
		return !strcmp(b->opt.cache, "writeback");
	fd = open(b->path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	fprintf(stderr, "blk_instructions: %s refuses O_DIRECT (%s); using cache=writeback\n",
		b->opt.dir, strerror(errno));
	return true;
}

/*
 * Guest RAM the driver's process shares, page-aligned as the VMM's is.
 * (fake_host_init's calloc'd RAM is neither, and O_DIRECT would refuse every
 * buffer in it, sending each request through the device's bounce buffer.)
 */
static int guest_ram(struct fake_host *fh, uint64_t size)
{
	void *p;

	if (fake_host_init(fh, 0) < 0)
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	fh->mem.region[0] = (struct guest_region){ .gpa = 0, .size = size, .host = p };
	fh->mem.nregions = 1;
	fh->mem.total = size;
	return 0;
}

static int device_up(struct bench *b)
{
	struct virtio_blk_options o;
	char spec[PATH_MAX + 64];
	uint64_t want = ~0ull;

	b->cached = choose_cached(b);
	snprintf(spec, sizeof(spec), "path=%s,cache=%s", b->path,
		 b->cached ? "writeback" : "none");
	if (virtio_blk_parse(spec, &o) < 0 || guest_ram(&b->fh, GUEST_MEM) < 0)
		return -1;
	b->blk = virtio_blk_create(&o, &b->fh.host);
	if (!b->blk)
		return -1;
	if (!b->opt.event_idx)
		want &= ~(1ull << VDRV_F_EVENT_IDX);
	if (vdrv_init(&b->d, &b->fh, virtio_blk_pci(b->blk), HEAP_START) < 0 ||
	    vdrv_negotiate(&b->d, want) < 0 || vdrv_queue_setup(&b->d, 0, 0) < 0) {
		fprintf(stderr, "blk_instructions: the device did not come up\n");
		return -1;
	}
	if (b->d.q[0].size < 3 * b->opt.depth) {
		fprintf(stderr, "blk_instructions: the queue is too small for depth %u\n",
			b->opt.depth);
		return -1;
	}
	return 0;
}

static int slots_alloc(struct bench *b)
{
	for (unsigned i = 0; i < b->opt.depth; i++) {
		struct slot *s = &b->slot[i];

		s->data = vdrv_alloc(&b->d, BLOCK, BLOCK);
		s->header = vdrv_alloc(&b->d, HEADER_LEN, 16);
		s->status = vdrv_alloc(&b->d, 1, 1);
		if (!s->data || !s->header || !s->status)
			return -1;
		if (b->opt.write)
			memset(vdrv_ptr(&b->d, s->data, BLOCK), 0x5a + i, BLOCK);
		b->free_slot[b->nfree++] = i;
	}
	return 0;
}

/* ---- Requests ---- */

/* xorshift64*: cheap, and the same sequence every run. */
static uint64_t next_random(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dull;
}

static int post_one(struct bench *b)
{
	unsigned i = b->free_slot[--b->nfree];
	struct slot *s = &b->slot[i];
	uint64_t sector = next_random(b) % b->nblocks * (BLOCK / 512);
	uint8_t *h = vdrv_ptr(&b->d, s->header, HEADER_LEN);
	struct vdrv_buf chain[3] = {
		{ s->header, HEADER_LEN, false },
		{ s->data, BLOCK, !b->opt.write },
		{ s->status, 1, true },
	};
	int head;

	io_data_put(h, 4, b->opt.write ? T_OUT : T_IN);
	io_data_put(h + 4, 4, 0);
	io_data_put(h + 8, 4, sector);
	io_data_put(h + 12, 4, sector >> 32);
	*(uint8_t *)vdrv_ptr(&b->d, s->status, 1) = 0xff;
	head = vdrv_post(&b->d, 0, chain, 3);
	if (head < 0)
		return -1;
	b->slot_of_head[head] = i;
	b->posted++;
	return 0;
}

/*
 * Notifies the queue unless the device asked not to be: with EVENT_IDX, only
 * if avail->idx crossed avail_event since the last time we considered it
 * (vring_need_event), else unless used->flags has NO_NOTIFY (2.7.10).
 */
static void notify_if_wanted(struct bench *b)
{
	struct vdrv_queue *q = &b->d.q[0];
	uint16_t new_idx = q->avail->idx, old_idx = b->notified_idx;
	bool kick;

	b->notified_idx = new_idx;
	/* Our avail->idx store before the device's flags or avail_event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (b->d.features & (1ull << VDRV_F_EVENT_IDX)) {
		uint16_t event = __atomic_load_n((uint16_t *)&q->used->ring[q->size],
						 __ATOMIC_RELAXED);

		kick = (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
	} else {
		kick = !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
			 VIRTQ_USED_F_NO_NOTIFY);
	}
	if (kick) {
		vdrv_kick(&b->d, 0);
		b->kicks++;
	}
}

/* Posts requests while there are free slots and requests left to post. */
static int refill(struct bench *b)
{
	bool any = false;

	while (b->nfree && b->posted < b->opt.requests) {
		if (post_one(b) < 0)
			return -1;
		any = true;
	}
	if (any)
		notify_if_wanted(b);
	return 0;
}

static void complete(struct bench *b, const struct virtq_used_elem *e)
{
	uint32_t want_len = b->opt.write ? 1 : BLOCK + 1;
	unsigned i;

	if (e->id >= VIRTQ_MAX_SIZE || e->id >= b->d.q[0].size) {
		b->errors++;
		return;
	}
	i = b->slot_of_head[e->id];
	if (*(uint8_t *)vdrv_ptr(&b->d, b->slot[i].status, 1) != S_OK || e->len != want_len)
		b->errors++;
	b->free_slot[b->nfree++] = i;
	b->done++;
}

/* Waits for the interrupt, then takes every completion there is. */
static int reap(struct bench *b)
{
	struct virtq_used_elem e;

	if (!vdrv_wait_used(&b->d, 0, &e, VDRV_TIMEOUT_MS)) {
		fprintf(stderr, "blk_instructions: no completion in %d ms (%llu of %llu done)\n",
			VDRV_TIMEOUT_MS, (unsigned long long)b->done,
			(unsigned long long)b->opt.requests);
		return -1;
	}
	complete(b, &e);
	while (vdrv_used_pending(&b->d, 0) && vdrv_wait_used(&b->d, 0, &e, 0))
		complete(b, &e);
	/* used_event, which vdrv_wait_used just wrote, before the next look at
	 * used->idx: the device pushes, then reads used_event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

/*
 * The first requests, in the ring before DRIVER_OK ("population of
 * virtqueues" is part of device setup, 3.1.1): the queue thread takes them
 * when it starts, without a notification.
 */
static int prefill(struct bench *b)
{
	b->rng = 0x9e3779b97f4a7c15ull;
	while (b->nfree && b->posted < b->opt.requests) {
		if (post_one(b) < 0)
			return -1;
	}
	b->notified_idx = b->d.q[0].avail->idx;
	return 0;
}

/* ---- The guest: the driver's process ---- */

/* Tells the parent the driver is done (over `done_fd`), then notifies the
 * queue every millisecond until the parent says the device is stopped: see
 * the top of the file for why. */
static void linger(struct bench *b, int done_fd)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	char c = 0;

	if (write(done_fd, &c, 1) != 1)
		return;
	while (!atomic_load(b->device_stopped)) {
		vdrv_kick(&b->d, 0);
		nanosleep(&ms, NULL);
	}
}

static int driver_main(struct bench *b, int done_fd)
{
	uint64_t t0 = monotonic_ns(), t1;
	int err = 0;

	while (b->done < b->opt.requests && !err) {
		if (reap(b) < 0 || refill(b) < 0)
			err = -1;
	}
	t1 = monotonic_ns();
	printf("kind=%s depth=%u requests=%llu done=%llu errors=%llu cache=%s event_idx=%s "
	       "kicks=%llu interrupts=%llu seconds=%.2f\n", b->opt.write ? "randwrite" : "randread",
	       b->opt.depth, (unsigned long long)b->opt.requests, (unsigned long long)b->done,
	       (unsigned long long)b->errors, b->cached ? "writeback" : "none",
	       b->opt.event_idx ? "yes" : "no", (unsigned long long)b->kicks,
	       (unsigned long long)vdrv_take_irqs(&b->d, 0, 0), (t1 - t0) / 1e9);
	fflush(stdout);
	linger(b, done_fd);
	return err < 0 || b->errors || b->done != b->opt.requests;
}

/* ---- The VMM: this process ---- */

static void teardown(struct bench *b)
{
	if (b->blk)
		virtio_blk_destroy(b->blk);
	b->blk = NULL;
	if (b->fh.mem.region[0].host) {
		munmap(b->fh.mem.region[0].host, b->fh.mem.region[0].size);
		b->fh.mem.region[0].host = NULL;
	}
	if (b->fh.host.mem)
		fake_host_fini(&b->fh);
}

/* Starts the driver's process and the device, and serves the guest until
 * it is done. Returns the driver's exit status, or 2. */
static int serve(struct bench *b)
{
	int done[2], status;
	pid_t pid;
	char c;

	if (pipe(done) < 0)
		return 2;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(done[0]);
		_exit(driver_main(b, done[1]));
	}
	close(done[1]);
	vdrv_driver_ok(&b->d);
	if (!(vdrv_status(&b->d) & VDRV_S_DRIVER_OK))
		fprintf(stderr, "blk_instructions: the device did not start\n");
	/* The device works on its own thread meanwhile; wait for the guest. */
	if (read(done[0], &c, 1) != 1)
		fprintf(stderr, "blk_instructions: the driver died\n");
	close(done[0]);
	virtio_blk_destroy(b->blk);
	b->blk = NULL;
	atomic_store(b->device_stopped, true);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 2;
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int err;

	if (!b || parse_args(argc, argv, &b->opt) < 0)
		return 2;
	b->device_stopped = mmap(NULL, sizeof(*b->device_stopped), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b->device_stopped == MAP_FAILED || make_image(b) < 0)
		return 2;
	err = device_up(b);
	/* The device holds its descriptors now, and nothing is left behind. */
	unlink(b->path);
	if (err < 0 || slots_alloc(b) < 0 || prefill(b) < 0) {
		teardown(b);
		return 2;
	}
	err = serve(b);
	teardown(b);
	munmap(b->device_stopped, sizeof(*b->device_stopped));
	free(b);
	return err;
}
