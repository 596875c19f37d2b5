/*
 * virtio-blk; see virtio_blk.h. Quotes are from the virtio 1.x specification,
 * section 5.2 "Block Device".
 *
 * Threads. Every queue the driver enabled gets a worker thread and an
 * io_uring of its own; queues share only the disk's descriptors and a few
 * atomic flags. The thread sleeps in one place, io_uring_submit_and_wait(),
 * and everything it reacts to arrives there as a completion: a poll on the
 * queue's doorbell eventfd, a poll on the worker's stop_fd, and the reads,
 * writes, fsyncs and fallocates it submitted.
 *
 * Guest memory. Reads and writes go straight between the file and the
 * guest's buffers (the iovecs virtqueue_pop() produced). A request's slot,
 * which owns those iovecs, is only returned once its last completion has
 * arrived, and stop() waits until every slot is back, so no I/O touches
 * guest memory after stop() returns.
 *
 * O_DIRECT (cache=none) wants buffer addresses, lengths and file offsets
 * aligned to the host's logical block size, and says EINVAL otherwise. A
 * refused request is retried through an aligned bounce buffer (the guest's
 * buffer was misaligned), and if that is refused too (the offset or length
 * was: 512-byte requests on a 4 KiB-sector host disk), through a second
 * descriptor opened without O_DIRECT. Either way the guest gets its data.
 */
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "devices/worker.h"
#include "common/keyval.h"
#include "common/log.h"
#include "common/util.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_DWZ_F_UNMAP 1u	/* flags of a discard/write-zeroes segment */

/* struct virtio_blk_config (5.2.4), up to and including unused1[3]. */
enum {
	CFG_CAPACITY = 0,		/* le64, 512-byte sectors */
	CFG_SIZE_MAX = 8,		/* le32 (F_SIZE_MAX, not offered) */
	CFG_SEG_MAX = 12,		/* le32 */
	CFG_GEOMETRY = 16,		/* le16 cylinders, u8 heads, u8 sectors (not offered) */
	CFG_BLK_SIZE = 20,		/* le32 */
	CFG_TOPOLOGY = 24,		/* 8 bytes (F_TOPOLOGY, not offered) */
	CFG_WRITEBACK = 32,		/* u8 */
	CFG_UNUSED0 = 33,
	CFG_NUM_QUEUES = 34,		/* le16 */
	CFG_MAX_DISCARD_SECTORS = 36,	/* le32 */
	CFG_MAX_DISCARD_SEG = 40,	/* le32 */
	CFG_DISCARD_SECTOR_ALIGNMENT = 44, /* le32 */
	CFG_MAX_WRITE_ZEROES_SECTORS = 48, /* le32 */
	CFG_MAX_WRITE_ZEROES_SEG = 52,	/* le32 */
	CFG_WRITE_ZEROES_MAY_UNMAP = 56, /* u8, then unused1[3] */
	CFG_LEN = 60,
};

#define SECTOR_SHIFT     9
#define SECTOR_SIZE      (1u << SECTOR_SHIFT)
#define REQ_HEADER_LEN   16		/* le32 type, le32 reserved, le64 sector */
#define DWZ_SEG_LEN      16		/* le64 sector, le32 num_sectors, le32 flags */

#define BLK_QUEUE_SIZE   256
#define BLK_SEG_MAX      (BLK_QUEUE_SIZE - 2)
/* A request within seg_max: header, seg_max data buffers, status. */
#define BLK_MAX_IOV      (BLK_SEG_MAX + 2)
/* Segments per discard or write-zeroes request, and sectors per segment. */
#define BLK_DWZ_MAX_SEG     16
#define BLK_DWZ_MAX_SECTORS (1u << 23)	/* 4 GiB */
/* The bounce buffer is at most this big; longer transfers go in pieces. */
#define BOUNCE_MAX       (1u << 20)
#define BOUNCE_ALIGN     4096
/* Room for a request per slot plus the two polls, with plenty to spare. */
#define RING_ENTRIES     (2 * BLK_QUEUE_SIZE)
#define MAX_LOGGED_ERRORS 8

/* user_data of the two polls; requests use their slot's address. */
#define TAG_KICK 1
#define TAG_STOP 2

/* What a request's outstanding SQE is. */
enum req_op { OP_RW, OP_FSYNC, OP_FALLOCATE };

struct dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* One request from pop to push. Only the queue's thread touches it. */
struct blk_req {
	struct virtq_chain chain;	/* iov points into the queue's iovec pool */
	uint8_t *status;		/* the last byte of the writable part */
	uint32_t type;
	enum req_op op;

	/* IN, OUT, and write-zeroes done by writing. */
	bool write;
	bool zeroes;			/* write zeroes from the bounce buffer */
	bool bounce_on;			/* transfer through the bounce buffer */
	bool cached;			/* use fd_cached (O_DIRECT refused it) */
	struct iovec *cur;		/* guest data not transferred yet... */
	unsigned ncur;
	uint64_t offset;		/* ...its place in the file... */
	uint64_t left;			/* ...and length */
	uint8_t *bounce;
	size_t bounce_size;

	/* DISCARD and WRITE_ZEROES. */
	struct dwz_seg seg[BLK_DWZ_MAX_SEG];
	unsigned nseg, seg_next;
	int falloc_mode;

	struct blk_req *next_free;
};

struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	struct worker worker;
	struct io_uring ring;
	bool ring_ready;
	struct virtqueue *vq;
	int kick_fd;
	struct blk_req *slots;		/* BLK_QUEUE_SIZE of them */
	struct iovec *iovs;		/* BLK_MAX_IOV per slot */
	struct blk_req *free;
	unsigned busy;			/* slots not on the free list */
	bool stopping;			/* stop_fd fired: finish what is in flight */
	bool broken;			/* the driver broke the queue: serve nothing */
	bool throttled;			/* chains left in the ring for want of a slot */
	bool pushed;			/* used entries since the last notify check */
};

struct virtio_blk {
	struct virtio_blk_options opt;
	struct virtio_pci *vp;
	int fd;				/* O_DIRECT unless cached */
	int fd_cached;			/* without O_DIRECT; == fd when !direct */
	bool direct;
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t blk_size;
	uint64_t offered;
	uint64_t features;		/* negotiated, set by start() */
	uint8_t config[CFG_LEN];

	/* What the host turned out not to support, learned by any queue. */
	_Atomic bool no_zero_range, no_punch_hole;
	_Atomic bool said_bounce, said_cached, said_no_discard;
	_Atomic unsigned errors_logged;

	struct blk_queue queue[VIRTIO_BLK_MAX_QUEUES];
};

/* ---- Options ---- */

static bool serial_valid(const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > VIRTIO_BLK_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		/* "The device ID string is a NUL-padded ASCII string" */
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return true;
}

static int opt_path(const struct keyval *kv, struct virtio_blk_options *opt)
{
	if (!kv->value[0] || strlen(kv->value) >= sizeof(opt->path)) {
		log_error("--disk: path must be 1 to %zu bytes", sizeof(opt->path) - 1);
		return -EINVAL;
	}
	strcpy(opt->path, kv->value);
	return 0;
}

static int opt_ro(const struct keyval *kv, struct virtio_blk_options *opt)
{
	(void)kv;
	opt->readonly = true;
	return 0;
}

static int opt_serial(const struct keyval *kv, struct virtio_blk_options *opt)
{
	if (!serial_valid(kv->value)) {
		log_error("--disk: serial must be 1 to %d printable ASCII characters, not '%s'",
			  VIRTIO_BLK_SERIAL_MAX, kv->value);
		return -EINVAL;
	}
	strcpy(opt->serial, kv->value);
	return 0;
}

static int opt_queues(const struct keyval *kv, struct virtio_blk_options *opt)
{
	if (keyval_uint(kv, "--disk", VIRTIO_BLK_MAX_QUEUES, &opt->queues) < 0)
		return -EINVAL;
	if (!opt->queues) {
		log_error("--disk: queues must be from 1 to %d", VIRTIO_BLK_MAX_QUEUES);
		return -EINVAL;
	}
	return 0;
}

static int opt_cache(const struct keyval *kv, struct virtio_blk_options *opt)
{
	if (!strcmp(kv->value, "none")) {
		opt->cached = false;
	} else if (!strcmp(kv->value, "writeback")) {
		opt->cached = true;
	} else {
		log_error("--disk: cache must be none or writeback, not '%s'", kv->value);
		return -EINVAL;
	}
	return 0;
}

static const struct disk_key {
	const char *name;
	bool flag;		/* "ro", not "ro=..." */
	int (*apply)(const struct keyval *kv, struct virtio_blk_options *opt);
} disk_keys[] = {
	{ "path", false, opt_path },
	{ "ro", true, opt_ro },
	{ "serial", false, opt_serial },
	{ "queues", false, opt_queues },
	{ "cache", false, opt_cache },
};

/* Applies one item; `seen` (a bit per key) catches keys given twice. */
static int parse_item(const struct keyval *kv, struct virtio_blk_options *opt, unsigned *seen)
{
	const struct disk_key *k = NULL;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(disk_keys) && !k; i++) {
		if (!strcmp(kv->key, disk_keys[i].name))
			k = &disk_keys[i];
	}
	if (!k) {
		log_error("--disk: unknown option '%s' (expected path, ro, serial, queues, cache)",
			  kv->key);
		return -EINVAL;
	}
	if (*seen & (1u << i)) {
		log_error("--disk: %s given twice", k->name);
		return -EINVAL;
	}
	*seen |= 1u << i;
	if (k->flag && kv->has_value) {
		log_error("--disk: %s takes no value", k->name);
		return -EINVAL;
	}
	if (!k->flag && !kv->has_value) {
		log_error("--disk: %s needs a value (%s=...)", k->name, k->name);
		return -EINVAL;
	}
	return k->apply(kv, opt);
}

int virtio_blk_parse(const char *spec, struct virtio_blk_options *opt)
{
	struct keyval kv;
	const char *pos = spec;
	unsigned seen = 0;
	int got, err = 0;

	memset(opt, 0, sizeof(*opt));
	opt->queues = 1;
	while (!err && (got = keyval_next(&pos, &kv, "--disk")) != 0)
		err = got < 0 ? -EINVAL : parse_item(&kv, opt, &seen);
	if (!err && !opt->path[0]) {
		log_error("--disk: path=FILE is required");
		err = -EINVAL;
	}
	return err;
}

/* ---- Logging from the queue threads ---- */

/* Once per disk, so a guest cannot fill the host's logs. */
static void say_once(struct virtio_blk *blk, _Atomic bool *said, const char *what)
{
	if (!atomic_exchange(said, true))
		log_info("disk %s: %s", blk->opt.path, what);
}

static void io_error(struct virtio_blk *blk, const char *op, uint64_t offset, int err)
{
	unsigned n = atomic_fetch_add(&blk->errors_logged, 1);

	if (n < MAX_LOGGED_ERRORS)
		log_warn("disk %s: %s at byte %llu failed: %s%s", blk->opt.path, op,
			 (unsigned long long)offset, strerror(err),
			 n + 1 == MAX_LOGGED_ERRORS ? " (further errors are not logged)" : "");
}

/* ---- iovec helpers ---- */

/* Drops the first n bytes of iov[0..*cnt) in place. */
static void iov_advance(struct iovec **iov, unsigned *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt && n) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* Copies len bytes between buf and the start of iov: into iov if to_iov. */
static void iov_copy(struct iovec *iov, unsigned cnt, uint8_t *buf, size_t len, bool to_iov)
{
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t k = MIN(len, iov[i].iov_len);

		if (to_iov)
			memcpy(iov[i].iov_base, buf, k);
		else
			memcpy(buf, iov[i].iov_base, k);
		buf += k;
		len -= k;
	}
}

static void iov_zero(struct iovec *iov, unsigned cnt, size_t len)
{
	for (unsigned i = 0; i < cnt && len; i++) {
		size_t k = MIN(len, iov[i].iov_len);

		memset(iov[i].iov_base, 0, k);
		len -= k;
	}
}

/* ---- Request slots ---- */

static struct blk_req *slot_get(struct blk_queue *q)
{
	struct blk_req *req = q->free;

	if (req) {
		q->free = req->next_free;
		q->busy++;
	}
	return req;
}

static void slot_put(struct blk_queue *q, struct blk_req *req)
{
	free(req->bounce);
	req->bounce = NULL;
	req->next_free = q->free;
	q->free = req;
	q->busy--;
}

static void slots_reset(struct blk_queue *q)
{
	q->free = NULL;
	q->busy = 0;
	for (unsigned i = BLK_QUEUE_SIZE; i-- > 0;) {
		struct blk_req *req = &q->slots[i];

		req->chain = (struct virtq_chain){ .iov = q->iovs + (size_t)i * BLK_MAX_IOV,
						   .max_iov = BLK_MAX_IOV };
		req->bounce = NULL;
		req->next_free = q->free;
		q->free = req;
	}
}

/* ---- Completing requests ---- */

/*
 * The status byte is the last byte the driver gave us to write, so the used
 * length covers the whole writable part (data, if any, then status), as
 * Linux and QEMU count it.
 */
static void req_finish(struct blk_queue *q, struct blk_req *req, uint8_t status)
{
	*req->status = status;
	virtqueue_push(q->vq, req->chain.head, req->chain.in_len);
	q->pushed = true;
	slot_put(q, req);
}

static struct io_uring_sqe *get_sqe(struct blk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	/* The SQ is twice the slots, so this is only a safety net. */
	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	return sqe;
}

static bool sector_range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t count)
{
	/* "A driver MUST NOT submit a request which would cause a read or
	 * write beyond capacity." Checked without overflowing. */
	return sector <= blk->capacity && count <= blk->capacity - sector;
}

/* ---- IN, OUT ---- */

static void rw_submit(struct blk_queue *q, struct blk_req *req);
static void dwz_next(struct blk_queue *q, struct blk_req *req);

static int bounce_alloc(struct blk_req *req)
{
	void *p;

	req->bounce_size = MIN(align_up(req->left, BOUNCE_ALIGN), BOUNCE_MAX);
	if (posix_memalign(&p, BOUNCE_ALIGN, req->bounce_size))
		return -ENOMEM;
	req->bounce = p;
	if (req->zeroes)
		memset(p, 0, req->bounce_size);
	return 0;
}

static void rw_submit(struct blk_queue *q, struct blk_req *req)
{
	struct virtio_blk *blk = q->blk;
	int fd = req->cached ? blk->fd_cached : blk->fd;
	struct io_uring_sqe *sqe;
	unsigned chunk = 0;

	if (req->bounce_on) {
		if (!req->bounce && bounce_alloc(req) < 0) {
			io_error(blk, "allocating a bounce buffer", req->offset, ENOMEM);
			req_finish(q, req, VIRTIO_BLK_S_IOERR);
			return;
		}
		chunk = MIN(req->left, req->bounce_size);
		if (req->write && !req->zeroes)
			iov_copy(req->cur, req->ncur, req->bounce, chunk, false);
	}
	sqe = get_sqe(q);
	if (!sqe) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (req->bounce_on && req->write)
		io_uring_prep_write(sqe, fd, req->bounce, chunk, req->offset);
	else if (req->bounce_on)
		io_uring_prep_read(sqe, fd, req->bounce, chunk, req->offset);
	else if (req->write)
		io_uring_prep_writev(sqe, fd, req->cur, req->ncur, req->offset);
	else
		io_uring_prep_readv(sqe, fd, req->cur, req->ncur, req->offset);
	io_uring_sqe_set_data(sqe, req);
	req->op = OP_RW;
}

/* O_DIRECT said EINVAL: the next way to try, or false if none is left. */
static bool rw_fallback(struct virtio_blk *blk, struct blk_req *req)
{
	if (!blk->direct || req->cached)
		return false;
	if (!req->bounce_on) {
		say_once(blk, &blk->said_bounce,
			 "O_DIRECT refused a request; retrying through an aligned bounce buffer");
		req->bounce_on = true;
		return true;
	}
	say_once(blk, &blk->said_cached,
		 "O_DIRECT refused an aligned transfer; retrying through the page cache");
	req->cached = true;
	req->bounce_on = req->zeroes;	/* zeroes always come from the buffer */
	return true;
}

static void rw_done(struct blk_queue *q, struct blk_req *req)
{
	if (!req->zeroes) {
		req_finish(q, req, VIRTIO_BLK_S_OK);
		return;
	}
	/* A write-zeroes segment written out: on to the next one. */
	req->zeroes = false;
	req->seg_next++;
	dwz_next(q, req);
}

static void rw_complete(struct blk_queue *q, struct blk_req *req, int res)
{
	struct virtio_blk *blk = q->blk;
	size_t n;

	if (res == -EAGAIN || res == -EINTR || (res == -EINVAL && rw_fallback(blk, req))) {
		rw_submit(q, req);
		return;
	}
	if (res < 0 || (res == 0 && req->write)) {
		io_error(blk, req->write ? "write" : "read", req->offset, res ? -res : ENOSPC);
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (res == 0) {
		/* End of file inside the capacity: the image shrank since we
		 * sized it. Read what a hole would read rather than loop. */
		iov_zero(req->cur, req->ncur, req->left);
		req->left = 0;
		rw_done(q, req);
		return;
	}
	n = res;
	if (req->bounce_on && !req->write)
		iov_copy(req->cur, req->ncur, req->bounce, n, true);
	if (!req->zeroes)
		iov_advance(&req->cur, &req->ncur, n);
	req->offset += n;
	req->left -= n;
	/* A short transfer is not the end: "never report success for a
	 * partial transfer", so go on from where it stopped. */
	if (req->left)
		rw_submit(q, req);
	else
		rw_done(q, req);
}

static void rw_start(struct blk_queue *q, struct blk_req *req, uint64_t sector)
{
	struct virtio_blk *blk = q->blk;
	struct virtq_chain *c = &req->chain;
	uint64_t len;

	req->write = req->type == VIRTIO_BLK_T_OUT;
	/* "A device MUST set the status byte to VIRTIO_BLK_S_IOERR for a
	 * write request if the VIRTIO_BLK_F_RO feature if offered, and MUST
	 * NOT write any data." */
	if (req->write && blk->opt.readonly) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	/* Data follows the header (OUT) or precedes the status byte (IN). */
	len = req->write ? c->out_len - REQ_HEADER_LEN : c->in_len - 1u;
	if (len % SECTOR_SIZE || !sector_range_ok(blk, sector, len >> SECTOR_SHIFT)) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (!len) {
		req_finish(q, req, VIRTIO_BLK_S_OK);
		return;
	}
	if (req->write) {
		req->cur = c->iov;
		req->ncur = c->nout;
		iov_advance(&req->cur, &req->ncur, REQ_HEADER_LEN);
	} else {
		req->cur = c->iov + c->nout;
		req->ncur = c->nin;
		/* The status byte is not data; status already points at it. */
		if (--req->cur[req->ncur - 1].iov_len == 0)
			req->ncur--;
	}
	req->zeroes = req->bounce_on = req->cached = false;
	req->offset = sector << SECTOR_SHIFT;
	req->left = len;
	rw_submit(q, req);
}

/* ---- FLUSH ---- */

static void flush_start(struct blk_queue *q, struct blk_req *req)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	/* fdatasync works on the file, so it covers writes made through
	 * either descriptor. */
	io_uring_prep_fsync(sqe, q->blk->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, req);
	req->op = OP_FSYNC;
}

static void flush_complete(struct blk_queue *q, struct blk_req *req, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		flush_start(q, req);
		return;
	}
	if (res < 0)
		io_error(q->blk, "flush", 0, -res);
	req_finish(q, req, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

/* ---- DISCARD, WRITE_ZEROES ---- */

/* Reads and checks every segment before acting on any. Returns a status
 * to fail the request with, or VIRTIO_BLK_S_OK to go ahead. */
static uint8_t dwz_load(struct virtio_blk *blk, struct blk_req *req)
{
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	uint32_t len = req->chain.out_len - REQ_HEADER_LEN;
	uint8_t raw[DWZ_SEG_LEN];

	/* "The length of data MUST be a multiple of the size of struct
	 * virtio_blk_discard_write_zeroes" */
	if (!len || len % DWZ_SEG_LEN)
		return VIRTIO_BLK_S_IOERR;
	if (len / DWZ_SEG_LEN > BLK_DWZ_MAX_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	req->nseg = len / DWZ_SEG_LEN;
	for (unsigned i = 0; i < req->nseg; i++) {
		struct dwz_seg *s = &req->seg[i];

		virtq_chain_read(&req->chain, REQ_HEADER_LEN + i * DWZ_SEG_LEN, raw, sizeof(raw));
		memcpy(&s->sector, raw, 8);
		memcpy(&s->num_sectors, raw + 8, 4);
		memcpy(&s->flags, raw + 12, 4);
		s->sector = le64toh(s->sector);
		s->num_sectors = le32toh(s->num_sectors);
		s->flags = le32toh(s->flags);
		/* "The device MUST set the status byte to VIRTIO_BLK_S_UNSUPP
		 * for discard, secure erase and write zeroes commands if any
		 * unknown flag is set. Furthermore, the device MUST set the
		 * status byte to VIRTIO_BLK_S_UNSUPP for discard commands if
		 * the unmap flag is set." */
		if ((s->flags & ~VIRTIO_BLK_DWZ_F_UNMAP) || (discard && s->flags))
			return VIRTIO_BLK_S_UNSUPP;
		if (s->num_sectors > BLK_DWZ_MAX_SECTORS ||
		    !sector_range_ok(blk, s->sector, s->num_sectors))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static void dwz_start(struct blk_queue *q, struct blk_req *req)
{
	struct virtio_blk *blk = q->blk;
	unsigned feature = req->type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD
							     : VIRTIO_BLK_F_WRITE_ZEROES;
	uint8_t status;

	/* Writes, as far as a read-only disk is concerned. */
	if (blk->opt.readonly) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (!(blk->features & (1ull << feature))) {
		req_finish(q, req, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	status = dwz_load(blk, req);
	if (status != VIRTIO_BLK_S_OK) {
		req_finish(q, req, status);
		return;
	}
	req->seg_next = 0;
	dwz_next(q, req);
}

/* Writes zeroes over the current segment the slow way. */
static void dwz_write_zeroes(struct blk_queue *q, struct blk_req *req)
{
	const struct dwz_seg *s = &req->seg[req->seg_next];

	req->write = true;
	req->zeroes = true;
	req->bounce_on = true;
	req->cached = false;
	req->offset = s->sector << SECTOR_SHIFT;
	req->left = (uint64_t)s->num_sectors << SECTOR_SHIFT;
	rw_submit(q, req);
}

static void falloc_submit(struct blk_queue *q, struct blk_req *req)
{
	const struct dwz_seg *s = &req->seg[req->seg_next];
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	io_uring_prep_fallocate(sqe, q->blk->fd, req->falloc_mode,
				(off_t)(s->sector << SECTOR_SHIFT),
				(off_t)s->num_sectors << SECTOR_SHIFT);
	io_uring_sqe_set_data(sqe, req);
	req->op = OP_FALLOCATE;
}

/*
 * Starts the next non-empty segment, or completes the request. Both punching
 * a hole and zeroing a range work on regular files and on block devices (for
 * which the kernel turns them into discard or write-zeroes commands); a
 * punched hole reads back as zeroes, so it also serves WRITE_ZEROES when the
 * driver allows unmapping or the host cannot zero a range in place.
 */
static void dwz_next(struct blk_queue *q, struct blk_req *req)
{
	struct virtio_blk *blk = q->blk;
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;
	bool unmap, zero_range, punch;

	while (req->seg_next < req->nseg && !req->seg[req->seg_next].num_sectors)
		req->seg_next++;
	/* "For discard commands, the device MAY deallocate the specified
	 * range": doing nothing is allowed where holes cannot be punched. */
	if (req->seg_next == req->nseg || (discard && atomic_load(&blk->no_punch_hole))) {
		req_finish(q, req, VIRTIO_BLK_S_OK);
		return;
	}
	unmap = discard || (req->seg[req->seg_next].flags & VIRTIO_BLK_DWZ_F_UNMAP);
	zero_range = !atomic_load(&blk->no_zero_range);
	punch = !atomic_load(&blk->no_punch_hole);
	if (punch && (unmap || !zero_range))
		req->falloc_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	else if (zero_range)
		req->falloc_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	else
		req->falloc_mode = 0;	/* neither: write zeroes */
	if (req->falloc_mode)
		falloc_submit(q, req);
	else
		dwz_write_zeroes(q, req);
}

static void falloc_complete(struct blk_queue *q, struct blk_req *req, int res)
{
	struct virtio_blk *blk = q->blk;

	if (res == 0) {
		req->seg_next++;
		dwz_next(q, req);
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		falloc_submit(q, req);
		return;
	}
	if (res == -EOPNOTSUPP) {
		/* Remember, and take the next way (dwz_next picks it). */
		if (req->falloc_mode & FALLOC_FL_ZERO_RANGE) {
			atomic_store(&blk->no_zero_range, true);
		} else {
			atomic_store(&blk->no_punch_hole, true);
			if (req->type == VIRTIO_BLK_T_DISCARD)
				say_once(blk, &blk->said_no_discard,
					 "the host cannot punch holes; discards are ignored");
		}
		dwz_next(q, req);
		return;
	}
	io_error(blk, req->type == VIRTIO_BLK_T_DISCARD ? "discard" : "write zeroes",
		 req->seg[req->seg_next].sector << SECTOR_SHIFT, -res);
	req_finish(q, req, VIRTIO_BLK_S_IOERR);
}

/* ---- Dispatch ---- */

static void get_id(struct blk_queue *q, struct blk_req *req)
{
	char id[VIRTIO_BLK_SERIAL_MAX] = { 0 };
	size_t room = req->chain.in_len - 1u;

	/* "a NUL-padded ASCII string up to 20 bytes long. If the string is
	 * 20 bytes long then there is no NUL terminator." */
	memcpy(id, q->blk->opt.serial, strnlen(q->blk->opt.serial, sizeof(id)));
	virtq_chain_write(&req->chain, 0, id, MIN(room, sizeof(id)));
	req_finish(q, req, VIRTIO_BLK_S_OK);
}

static void request_start(struct blk_queue *q, struct blk_req *req)
{
	struct virtq_chain *c = &req->chain;
	const struct iovec *last;
	uint8_t hdr[REQ_HEADER_LEN];
	uint64_t sector;

	if (!c->in_len) {
		/* Nowhere to put a status: give the chain back untouched. */
		virtqueue_push(q->vq, c->head, 0);
		q->pushed = true;
		slot_put(q, req);
		return;
	}
	/* Writable buffers are never empty (virtqueue_pop drops those). */
	last = &c->iov[c->nout + c->nin - 1];
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (virtq_chain_read(c, 0, hdr, sizeof(hdr)) < sizeof(hdr)) {
		req_finish(q, req, VIRTIO_BLK_S_IOERR);
		return;
	}
	memcpy(&req->type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	req->type = le32toh(req->type);
	sector = le64toh(sector);
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		rw_start(q, req, sector);
		break;
	case VIRTIO_BLK_T_FLUSH:
		flush_start(q, req);
		break;
	case VIRTIO_BLK_T_GET_ID:
		get_id(q, req);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		dwz_start(q, req);
		break;
	default:
		req_finish(q, req, VIRTIO_BLK_S_UNSUPP);
		break;
	}
}

/* Takes every available chain there is a slot for. */
static void queue_drain(struct blk_queue *q)
{
	struct blk_req *req;
	int got = 0;

	if (q->stopping || q->broken)
		return;
	q->throttled = false;
	do {
		virtqueue_disable_notify(q->vq);
		for (;;) {
			req = slot_get(q);
			if (!req) {
				/* Only a driver reusing descriptors still in
				 * flight gets here; resume when slots free up
				 * (notifications stay off meanwhile). */
				q->throttled = true;
				return;
			}
			got = virtqueue_pop(q->vq, &req->chain);
			if (got <= 0) {
				slot_put(q, req);
				break;
			}
			request_start(q, req);
		}
	} while (got == 0 && virtqueue_enable_notify(q->vq));
	if (got < 0) {
		/* Requests in flight still complete; nothing new is taken. */
		q->broken = true;
		virtio_pci_needs_reset(q->blk->vp);
	}
}

static bool arm_poll(struct blk_queue *q, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, tag);
	return true;
}

static void on_kick(struct blk_queue *q, int res)
{
	uint64_t count;

	if (res < 0) {
		log_warn("disk %s: queue %u: polling the doorbell failed: %s", q->blk->opt.path,
			 q->index, strerror(-res));
		return;
	}
	if (read(q->kick_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_warn("disk %s: queue %u: reading the doorbell: %s", q->blk->opt.path,
			 q->index, strerror(errno));
	if (q->stopping || q->broken)
		return;
	/* Poll is one-shot: re-arm first, so a kick from now on is seen. */
	if (!arm_poll(q, q->kick_fd, TAG_KICK))
		log_warn("disk %s: queue %u: cannot re-arm the doorbell", q->blk->opt.path,
			 q->index);
	queue_drain(q);
}

static void on_cqe(struct blk_queue *q, uint64_t tag, int res)
{
	struct blk_req *req;

	if (tag == TAG_KICK) {
		on_kick(q, res);
		return;
	}
	if (tag == TAG_STOP) {
		q->stopping = true;
		return;
	}
	req = (struct blk_req *)(uintptr_t)tag;
	switch (req->op) {
	case OP_RW:
		rw_complete(q, req, res);
		break;
	case OP_FSYNC:
		flush_complete(q, req, res);
		break;
	case OP_FALLOCATE:
		falloc_complete(q, req, res);
		break;
	}
}

/* Submits what is queued, sleeps until at least one completion, and
 * handles every completion there is. */
static void queue_wait(struct blk_queue *q)
{
	struct io_uring_cqe *cqe;
	int err = io_uring_submit_and_wait(&q->ring, 1);

	if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY) {
		struct timespec pause = { .tv_nsec = 1000000 };

		/* Cannot happen with a ring we set up; but completions may
		 * still be owed, so do not leave: pause and try again. */
		log_error("disk %s: queue %u: io_uring_enter: %s", q->blk->opt.path, q->index,
			  strerror(-err));
		nanosleep(&pause, NULL);
	}
	while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&q->ring, cqe);
		on_cqe(q, tag, res);
	}
}

static void queue_notify(struct blk_queue *q)
{
	if (!q->pushed || q->stopping)
		return;
	q->pushed = false;
	if (virtqueue_should_notify(q->vq))
		virtio_pci_notify_queue(q->blk->vp, q->index);
}

static void *queue_thread(void *arg)
{
	struct blk_queue *q = arg;

	/* A fresh ring has room for both. */
	arm_poll(q, q->kick_fd, TAG_KICK);
	arm_poll(q, q->worker.stop_fd, TAG_STOP);
	/* The driver may have queued requests before the first kick. */
	queue_drain(q);
	/* After stop, keep reaping until every request in flight is back:
	 * the kernel may be writing into guest memory for them. */
	while (!q->stopping || q->busy) {
		queue_notify(q);
		queue_wait(q);
		if (q->throttled && q->free)
			queue_drain(q);
	}
	return NULL;
}

/* ---- Transport callbacks ---- */

static int ring_setup(struct blk_queue *q)
{
	static const int ops[] = { IORING_OP_POLL_ADD, IORING_OP_READV, IORING_OP_WRITEV,
				   IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC,
				   IORING_OP_FALLOCATE };
	struct io_uring_probe *probe;
	int err = io_uring_queue_init(RING_ENTRIES, &q->ring, 0);

	if (err < 0) {
		log_error("disk %s: cannot set up io_uring: %s%s", q->blk->opt.path, strerror(-err),
			  err == -ENOSYS ? " (a kernel without io_uring, or a seccomp filter)" :
			  err == -EPERM ? " (see /proc/sys/kernel/io_uring_disabled)" : "");
		return err;
	}
	probe = io_uring_get_probe_ring(&q->ring);
	for (unsigned i = 0; i < ARRAY_SIZE(ops) && !err; i++) {
		if (!probe || !io_uring_opcode_supported(probe, ops[i]))
			err = -EOPNOTSUPP;
	}
	if (probe)
		io_uring_free_probe(probe);
	if (err) {
		log_error("disk %s: this kernel's io_uring lacks operations we need (Linux 5.6 "
			  "or later has them)", q->blk->opt.path);
		io_uring_queue_exit(&q->ring);
		return err;
	}
	q->ring_ready = true;
	return 0;
}

static void blk_stop(void *dev)
{
	struct virtio_blk *blk = dev;

	for (unsigned i = 0; i < blk->opt.queues; i++) {
		struct blk_queue *q = &blk->queue[i];

		worker_stop(&q->worker);
		if (q->ring_ready)
			io_uring_queue_exit(&q->ring);
		q->ring_ready = false;
	}
}

static int queue_start(struct blk_queue *q)
{
	int err = ring_setup(q);

	if (err < 0)
		return err;
	slots_reset(q);
	q->kick_fd = virtio_pci_kick_fd(q->blk->vp, q->index);
	q->stopping = q->broken = q->throttled = q->pushed = false;
	return worker_start(&q->worker, "virtio-blk", queue_thread, q);
}

static int blk_start(void *dev, uint64_t features)
{
	struct virtio_blk *blk = dev;

	blk->features = features & blk->offered;
	for (unsigned i = 0; i < blk->opt.queues; i++) {
		struct blk_queue *q = &blk->queue[i];
		int err;

		q->vq = virtio_pci_queue(blk->vp, i);
		/* A queue the driver did not enable has no rings (Linux
		 * enables only as many as it has CPUs for). */
		if (!q->vq || !virtqueue_enabled(q->vq))
			continue;
		err = queue_start(q);
		if (err < 0) {
			blk_stop(blk);
			return err;
		}
	}
	return 0;
}

static void blk_config_read(void *dev, uint32_t offset, uint8_t *data, unsigned size)
{
	struct virtio_blk *blk = dev;

	if (range_within(offset, size, CFG_LEN))
		memcpy(data, blk->config + offset, size);
	else
		memset(data, 0, size);
}

/* Every field is read-only without VIRTIO_BLK_F_CONFIG_WCE. */
static void blk_config_write(void *dev, uint32_t offset, const uint8_t *data, unsigned size)
{
	(void)dev;
	(void)offset;
	(void)data;
	(void)size;
}

static const struct virtio_device_ops blk_ops = {
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.start = blk_start,
	.stop = blk_stop,
};

/* ---- Creation ---- */

static uint64_t offered_features(const struct virtio_blk_options *opt)
{
	uint64_t f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;

	if (opt->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (opt->queues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	return f;
}

static void config_build(struct virtio_blk *blk)
{
	uint8_t *c = blk->config;

	memset(c, 0, CFG_LEN);	/* "MUST initialize padding bytes unused0 and unused1 to 0" */
	io_data_put(c + CFG_CAPACITY, 4, blk->capacity);
	io_data_put(c + CFG_CAPACITY + 4, 4, blk->capacity >> 32);
	io_data_put(c + CFG_SEG_MAX, 4, BLK_SEG_MAX);
	io_data_put(c + CFG_BLK_SIZE, 4, blk->blk_size);
	/* Only read with CONFIG_WCE; with FLUSH the driver assumes a writeback
	 * cache, which is what we have (page cache or the disk's own). */
	c[CFG_WRITEBACK] = 1;
	io_data_put(c + CFG_NUM_QUEUES, 2, blk->opt.queues);
	io_data_put(c + CFG_MAX_DISCARD_SECTORS, 4, BLK_DWZ_MAX_SECTORS);
	io_data_put(c + CFG_MAX_DISCARD_SEG, 4, BLK_DWZ_MAX_SEG);
	io_data_put(c + CFG_DISCARD_SECTOR_ALIGNMENT, 4, blk->blk_size >> SECTOR_SHIFT);
	io_data_put(c + CFG_MAX_WRITE_ZEROES_SECTORS, 4, BLK_DWZ_MAX_SECTORS);
	io_data_put(c + CFG_MAX_WRITE_ZEROES_SEG, 4, BLK_DWZ_MAX_SEG);
	c[CFG_WRITE_ZEROES_MAY_UNMAP] = 1;
}

/* Logs "disk PATH: [what]strerror(errno)" and returns -errno. */
static int disk_error(const char *path, const char *what)
{
	int err = errno;

	log_error("disk %s: %s%s", path, what ? what : "", strerror(err));
	return -err;
}

/* Size and logical block size of an open image or block device. */
static int disk_size(struct virtio_blk *blk, uint64_t *bytes)
{
	const char *path = blk->opt.path;
	struct stat st;
	int lbs = SECTOR_SIZE;

	if (fstat(blk->fd, &st) < 0)
		return disk_error(path, NULL);
	if (S_ISREG(st.st_mode)) {
		*bytes = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(blk->fd, BLKGETSIZE64, bytes) < 0 || ioctl(blk->fd, BLKSSZGET, &lbs) < 0)
			return disk_error(path, "cannot get the device's size: ");
	} else {
		log_error("disk %s: not a regular file or a block device", path);
		return -EINVAL;
	}
	blk->blk_size = SECTOR_SIZE;
	if (lbs >= (int)SECTOR_SIZE && lbs <= 4096 && !(lbs & (lbs - 1)))
		blk->blk_size = lbs;
	else
		log_warn("disk %s: odd logical block size %d; telling the guest 512", path, lbs);
	return 0;
}

/*
 * The page-cache descriptor that requests O_DIRECT refuses fall back to. It
 * must be the same file: the path could have been replaced meanwhile.
 */
static int open_cached(struct virtio_blk *blk, int flags)
{
	struct stat a, b;

	blk->fd_cached = open(blk->opt.path, flags);
	if (blk->fd_cached < 0 || fstat(blk->fd, &a) < 0 || fstat(blk->fd_cached, &b) < 0)
		return disk_error(blk->opt.path, NULL);
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		log_error("disk %s: the file changed while it was being opened", blk->opt.path);
		return -EBUSY;
	}
	return 0;
}

static int disk_open(struct virtio_blk *blk)
{
	const char *path = blk->opt.path;
	int flags = (blk->opt.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	uint64_t bytes;
	int err;

	blk->direct = !blk->opt.cached;
	blk->fd = open(path, flags | (blk->direct ? O_DIRECT : 0));
	if (blk->fd < 0 && errno == EINVAL && blk->direct) {
		log_info("disk %s: the file system does not support O_DIRECT; using the page cache",
			 path);
		blk->direct = false;
		blk->fd = open(path, flags);
	}
	if (blk->fd < 0)
		return disk_error(path, NULL);
	err = disk_size(blk, &bytes);
	if (!err && blk->direct)
		err = open_cached(blk, flags);
	if (err)
		return err;
	if (!blk->direct)
		blk->fd_cached = blk->fd;
	blk->capacity = bytes >> SECTOR_SHIFT;
	if (bytes % SECTOR_SIZE)
		log_warn("disk %s: its size (%llu bytes) is not a multiple of %u; the guest sees "
			 "only the first %llu bytes", path, (unsigned long long)bytes, SECTOR_SIZE,
			 (unsigned long long)(blk->capacity << SECTOR_SHIFT));
	return 0;
}

static int queues_alloc(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < blk->opt.queues; i++) {
		struct blk_queue *q = &blk->queue[i];

		q->blk = blk;
		q->index = i;
		q->worker.stop_fd = -1;
		q->slots = calloc(BLK_QUEUE_SIZE, sizeof(*q->slots));
		/* 1 MiB of address space; pages are touched only as used. */
		q->iovs = calloc((size_t)BLK_QUEUE_SIZE * BLK_MAX_IOV, sizeof(*q->iovs));
		if (!q->slots || !q->iovs)
			return -ENOMEM;
	}
	return 0;
}

static void blk_free(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < VIRTIO_BLK_MAX_QUEUES; i++) {
		free(blk->queue[i].slots);
		free(blk->queue[i].iovs);
	}
	if (blk->fd_cached >= 0 && blk->fd_cached != blk->fd)
		close(blk->fd_cached);
	if (blk->fd >= 0)
		close(blk->fd);
	free(blk);
}

static bool options_valid(const struct virtio_blk_options *opt)
{
	if (!opt->path[0] || !memchr(opt->path, '\0', sizeof(opt->path))) {
		log_error("disk: no path");
		return false;
	}
	if (opt->queues < 1 || opt->queues > VIRTIO_BLK_MAX_QUEUES) {
		log_error("disk %s: %u queues; 1 to %d are possible", opt->path, opt->queues,
			  VIRTIO_BLK_MAX_QUEUES);
		return false;
	}
	if (!memchr(opt->serial, '\0', sizeof(opt->serial))) {
		log_error("disk %s: serial too long", opt->path);
		return false;
	}
	return true;
}

struct virtio_blk *virtio_blk_create(const struct virtio_blk_options *opt,
				     const struct device_host *host)
{
	struct virtio_device_info info = {
		.name = "virtio-blk",
		.type = VIRTIO_ID_BLOCK,
		.pci_class = 0x010000,	/* mass storage (SCSI), as QEMU's */
		.queue_size = BLK_QUEUE_SIZE,
		.config_len = CFG_LEN,
	};
	struct virtio_blk *blk;

	if (!options_valid(opt))
		return NULL;
	blk = calloc(1, sizeof(*blk));
	if (!blk) {
		log_error("disk %s: out of memory", opt->path);
		return NULL;
	}
	blk->opt = *opt;
	blk->fd = blk->fd_cached = -1;
	if (disk_open(blk) < 0)
		goto fail;
	if (queues_alloc(blk) < 0) {
		log_error("disk %s: out of memory", opt->path);
		goto fail;
	}
	config_build(blk);
	blk->offered = offered_features(opt);
	info.features = blk->offered;
	info.nqueues = opt->queues;
	blk->vp = virtio_pci_create(&info, &blk_ops, blk, host);
	if (!blk->vp)
		goto fail;
	return blk;
fail:
	blk_free(blk);
	return NULL;
}

void virtio_blk_destroy(struct virtio_blk *blk)
{
	if (!blk)
		return;
	virtio_pci_destroy(blk->vp);	/* stops the queues first */
	blk_free(blk);
}

struct pci_device *virtio_blk_pci(struct virtio_blk *blk)
{
	return virtio_pci_device(blk->vp);
}
