/*
 * virtio-blk: option parsing, and the device driven end to end as a guest
 * would (virtio_driver.h over the fake host) against a temporary image in
 * /tmp, with real io_uring I/O.
 */
#include "test.h"
#include "fake_host.h"
#include "virtio_driver.h"
#include "common/log.h"
#include "devices/virtio_blk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* From the virtio 1.x specification, section 5.2. */
#define F_SEG_MAX      2
#define F_RO           5
#define F_BLK_SIZE     6
#define F_FLUSH        9
#define F_MQ           12
#define F_DISCARD      13
#define F_WRITE_ZEROES 14
#define T_IN           0
#define T_OUT          1
#define T_FLUSH        4
#define T_GET_ID       8
#define T_GET_LIFETIME 10
#define T_DISCARD      11
#define T_WRITE_ZEROES 13
#define S_OK     0
#define S_IOERR  1
#define S_UNSUPP 2
#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_NUM_QUEUES 34
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_MAX_WRITE_ZEROES_SEG 52
#define CFG_WRITE_ZEROES_MAY_UNMAP 56
#define CFG_LEN 60

#define GUEST_MEM  (64u << 20)
#define HEAP_START (1u << 20)
#define DISK_SIZE  (1u << 20)
#define ALL_BUT_EVENT_IDX (~0ull & ~(1ull << VDRV_F_EVENT_IDX))

#define BIT(n) (1ull << (n))

/* ---- Parsing ---- */

static void parse_accepts_a_bare_path_with_defaults(void)
{
	struct virtio_blk_options o;

	CHECK_EQ(virtio_blk_parse("path=/srv/disk.img", &o), 0);
	CHECK(!strcmp(o.path, "/srv/disk.img"));
	CHECK(!o.readonly);
	CHECK(!o.cached);
	CHECK_EQ(o.queues, 1);
	CHECK_EQ(o.serial[0], 0);
}

static void parse_accepts_every_option(void)
{
	struct virtio_blk_options o;

	CHECK_EQ(virtio_blk_parse("path=/a,,b,ro,serial=web0,queues=4,cache=writeback", &o), 0);
	CHECK(!strcmp(o.path, "/a,b"));
	CHECK(o.readonly);
	CHECK(o.cached);
	CHECK(!strcmp(o.serial, "web0"));
	CHECK_EQ(o.queues, 4);
	CHECK_EQ(virtio_blk_parse("cache=none,queues=16,path=/x", &o), 0);
	CHECK(!o.cached);
	CHECK_EQ(o.queues, 16);
}

static void parse_accepts_a_serial_of_20_characters(void)
{
	struct virtio_blk_options o;

	CHECK_EQ(virtio_blk_parse("path=/x,serial=ABCDEFGHIJ 123456789", &o), 0);
	CHECK(!strcmp(o.serial, "ABCDEFGHIJ 123456789"));
}

static void parse_rejects_bad_specs(void)
{
	static const char *const bad[] = {
		"",					/* no path */
		"ro",
		"path=",
		"path",
		",path=/x",				/* empty item */
		"path=/x,bogus=1",			/* unknown key */
		"path=/x,path=/y",			/* twice */
		"path=/x,ro=1",				/* flag with a value */
		"path=/x,serial",
		"path=/x,serial=",
		"path=/x,serial=ABCDEFGHIJ1234567890X",	/* 21 bytes */
		"path=/x,serial=a\tb",			/* not printable */
		"path=/x,serial=caf\xc3\xa9",		/* not ASCII */
		"path=/x,queues=0",
		"path=/x,queues=17",
		"path=/x,queues=two",
		"path=/x,queues=-1",
		"path=/x,queues=",
		"path=/x,cache=directsync",
		"path=/x,cache",
	};
	struct virtio_blk_options o;

	log_set_level(LOG_LEVEL_SILENT);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		if (virtio_blk_parse(bad[i], &o) != -EINVAL) {
			printf("# accepted '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	log_set_level(LOG_LEVEL_WARN);
}

/* ---- A guest driving a disk ---- */

struct env {
	struct fake_host fh;
	struct virtio_blk *blk;
	struct vdrv d;
	char path[64];
	int fd;		/* the test's own view of the image */
};

static int make_image(char *path, size_t size)
{
	int fd;

	strcpy(path, "/tmp/corral-test-blk-XXXXXX");
	fd = mkstemp(path);
	if (fd >= 0 && ftruncate(fd, size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static struct virtio_blk *create_disk(struct env *e, const char *opts)
{
	struct virtio_blk_options o;
	char spec[256];

	snprintf(spec, sizeof(spec), "path=%s%s%s", e->path, opts[0] ? "," : "", opts);
	if (virtio_blk_parse(spec, &o) < 0)
		return NULL;
	return virtio_blk_create(&o, &e->fh.host);
}

/* Brings a guest up to DRIVER_OK with `nq` queues set up. */
static bool driver_up(struct env *e, uint64_t want, unsigned nq)
{
	if (vdrv_negotiate(&e->d, want) < 0)
		return false;
	for (unsigned i = 0; i < nq; i++) {
		if (vdrv_queue_setup(&e->d, i, 0) < 0)
			return false;
	}
	vdrv_driver_ok(&e->d);
	return vdrv_status(&e->d) == (VDRV_S_ACKNOWLEDGE | VDRV_S_DRIVER | VDRV_S_FEATURES_OK |
				      VDRV_S_DRIVER_OK);
}

static bool env_open(struct env *e, const char *opts, size_t size, uint64_t want, unsigned nq)
{
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	if (fake_host_init(&e->fh, GUEST_MEM) < 0)
		return false;
	e->fd = make_image(e->path, size);
	if (e->fd < 0)
		return false;
	e->blk = create_disk(e, opts);
	if (!e->blk || vdrv_init(&e->d, &e->fh, virtio_blk_pci(e->blk), HEAP_START) < 0)
		return false;
	return driver_up(e, want, nq);
}

static void env_close(struct env *e)
{
	virtio_blk_destroy(e->blk);
	if (e->fd >= 0)
		close(e->fd);
	unlink(e->path);
	fake_host_fini(&e->fh);
}

static uint64_t guest_alloc(struct env *e, uint64_t len, uint64_t align)
{
	return vdrv_alloc(&e->d, len, align);
}

static void *gp(struct env *e, uint64_t gpa, uint64_t len)
{
	return vdrv_ptr(&e->d, gpa, len);
}

/* A request header in guest memory. */
static uint64_t header(struct env *e, uint32_t type, uint64_t sector)
{
	uint64_t gpa = guest_alloc(e, 16, 16);
	uint8_t *h = gp(e, gpa, 16);

	io_data_put(h, 4, type);
	io_data_put(h + 8, 4, sector);
	io_data_put(h + 12, 4, sector >> 32);
	return gpa;
}

/*
 * Posts header, data (device-readable for OUT-like requests, writable for
 * IN-like) and a status byte; returns the status byte's gpa.
 */
static uint64_t post(struct env *e, unsigned qi, uint32_t type, uint64_t sector, uint64_t data,
		     uint32_t len, bool dev_writes)
{
	uint64_t status = guest_alloc(e, 1, 1);
	struct vdrv_buf b[3];
	unsigned n = 0;

	*(uint8_t *)gp(e, status, 1) = 0xee;
	b[n++] = (struct vdrv_buf){ header(e, type, sector), 16, false };
	if (len)
		b[n++] = (struct vdrv_buf){ data, len, dev_writes };
	b[n++] = (struct vdrv_buf){ status, 1, true };
	CHECK(vdrv_post(&e->d, qi, b, n) >= 0);
	return status;
}

/* Posts, kicks and waits for one request; returns its status or -1. */
static int run(struct env *e, unsigned qi, uint32_t type, uint64_t sector, uint64_t data,
	       uint32_t len, bool dev_writes, uint32_t *used_len)
{
	uint64_t status = post(e, qi, type, sector, data, len, dev_writes);
	struct virtq_used_elem u;

	vdrv_kick(&e->d, qi);
	if (!vdrv_wait_used(&e->d, qi, &u, VDRV_TIMEOUT_MS))
		return -1;
	if (used_len)
		*used_len = u.len;
	return *(uint8_t *)gp(e, status, 1);
}

static int disk_write(struct env *e, uint64_t sector, const void *buf, uint32_t len)
{
	uint64_t data = guest_alloc(e, len, 4096);

	memcpy(gp(e, data, len), buf, len);
	return run(e, 0, T_OUT, sector, data, len, false, NULL);
}

static int disk_read(struct env *e, uint64_t sector, void *buf, uint32_t len)
{
	uint64_t data = guest_alloc(e, len, 4096);
	int s = run(e, 0, T_IN, sector, data, len, true, NULL);

	memcpy(buf, gp(e, data, len), len);
	return s;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 9));
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != v)
			return false;
	}
	return true;
}

static uint32_t config32(struct env *e, uint32_t off)
{
	uint8_t b[4];

	vdrv_device_config(&e->d, off, b, 4);
	return io_data_get(b, 4);
}

static uint64_t capacity(struct env *e)
{
	return config32(e, CFG_CAPACITY) | (uint64_t)config32(e, CFG_CAPACITY + 4) << 32;
}

static void config_describes_the_disk(void)
{
	struct env e;
	uint8_t cfg[CFG_LEN];

	CHECK(env_open(&e, "", DISK_SIZE + 100, ALL_BUT_EVENT_IDX, 1));
	CHECK_EQ(capacity(&e), DISK_SIZE / 512);	/* rounded down */
	CHECK_EQ(config32(&e, CFG_SEG_MAX), 254);
	CHECK_EQ(config32(&e, CFG_BLK_SIZE), 512);
	CHECK_EQ(config32(&e, CFG_MAX_DISCARD_SEG), 16);
	CHECK_EQ(config32(&e, CFG_MAX_WRITE_ZEROES_SEG), 16);
	CHECK(config32(&e, CFG_MAX_DISCARD_SECTORS) > 0);
	vdrv_device_config(&e.d, 0, cfg, sizeof(cfg));
	CHECK_EQ(cfg[CFG_WRITE_ZEROES_MAY_UNMAP], 1);
	CHECK_EQ(io_data_get(cfg + CFG_NUM_QUEUES, 2), 1);
	CHECK_EQ(e.d.device_len, CFG_LEN);
	CHECK(e.d.features & BIT(F_SEG_MAX));
	CHECK(e.d.features & BIT(F_BLK_SIZE));
	CHECK(e.d.features & BIT(F_FLUSH));
	CHECK(e.d.features & BIT(F_DISCARD));
	CHECK(e.d.features & BIT(F_WRITE_ZEROES));
	CHECK(!(e.d.features & BIT(F_RO)));
	CHECK(!(e.d.features & BIT(F_MQ)));
	env_close(&e);
}

static void write_then_read_round_trips_through_the_file(void)
{
	struct env e;
	uint8_t out[8 * 512], in[sizeof(out)], file[sizeof(out)];
	uint64_t data;
	uint32_t used = 0;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	fill(out, sizeof(out), 1);
	data = guest_alloc(&e, sizeof(out), 4096);
	memcpy(gp(&e, data, sizeof(out)), out, sizeof(out));
	CHECK_EQ(run(&e, 0, T_OUT, 5, data, sizeof(out), false, &used), S_OK);
	CHECK_EQ(used, 1);		/* the status byte */
	CHECK_EQ(pread(e.fd, file, sizeof(file), 5 * 512), sizeof(file));
	CHECK(!memcmp(file, out, sizeof(out)));

	data = guest_alloc(&e, sizeof(in), 4096);
	CHECK_EQ(run(&e, 0, T_IN, 5, data, sizeof(in), true, &used), S_OK);
	CHECK_EQ(used, sizeof(in) + 1);	/* data and status */
	memcpy(in, gp(&e, data, sizeof(in)), sizeof(in));
	CHECK(!memcmp(in, out, sizeof(out)));
	CHECK(vdrv_take_irqs(&e.d, 0, VDRV_TIMEOUT_MS) > 0);
	env_close(&e);
}

static void writeback_cache_round_trips_too(void)
{
	struct env e;
	uint8_t out[4096], in[4096];

	CHECK(env_open(&e, "cache=writeback", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	fill(out, sizeof(out), 2);
	CHECK_EQ(disk_write(&e, 100, out, sizeof(out)), S_OK);
	CHECK_EQ(disk_read(&e, 100, in, sizeof(in)), S_OK);
	CHECK(!memcmp(in, out, sizeof(out)));
	env_close(&e);
}

/* Any framing is allowed: header and data in one buffer, data and status in
 * another, data split over several. */
static void requests_may_share_and_split_buffers(void)
{
	struct env e;
	uint8_t out[2048], file[2048];
	uint64_t buf, st;
	struct virtq_used_elem u;
	uint8_t *p;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	fill(out, sizeof(out), 3);
	/* OUT: [header + first 1024 data bytes] [1024 data bytes] [status] */
	buf = guest_alloc(&e, 16 + 2048, 16);
	p = gp(&e, buf, 16 + 2048);
	io_data_put(p, 4, T_OUT);
	io_data_put(p + 8, 4, 40);
	memcpy(p + 16, out, 2048);
	st = guest_alloc(&e, 1, 1);
	{
		struct vdrv_buf b[] = { { buf, 16 + 1024, false }, { buf + 16 + 1024, 1024, false },
					{ st, 1, true } };

		CHECK(vdrv_post(&e.d, 0, b, 3) >= 0);
	}
	vdrv_kick(&e.d, 0);
	CHECK(vdrv_wait_used(&e.d, 0, &u, VDRV_TIMEOUT_MS));
	CHECK_EQ(*(uint8_t *)gp(&e, st, 1), S_OK);
	CHECK_EQ(pread(e.fd, file, sizeof(file), 40 * 512), sizeof(file));
	CHECK(!memcmp(file, out, sizeof(out)));

	/* IN: [header] [512 data] [1536 data + status] */
	buf = guest_alloc(&e, 2048 + 1, 4096);
	{
		struct vdrv_buf b[] = { { header(&e, T_IN, 40), 16, false }, { buf, 512, true },
					{ buf + 512, 1536 + 1, true } };

		CHECK(vdrv_post(&e.d, 0, b, 3) >= 0);
	}
	vdrv_kick(&e.d, 0);
	CHECK(vdrv_wait_used(&e.d, 0, &u, VDRV_TIMEOUT_MS));
	p = gp(&e, buf, 2049);
	CHECK_EQ(p[2048], S_OK);
	CHECK_EQ(u.len, 2049);
	CHECK(!memcmp(p, out, sizeof(out)));
	env_close(&e);
}

static void requests_outside_the_disk_fail_with_ioerr(void)
{
	struct env e;
	uint64_t cap = DISK_SIZE / 512, data;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	data = guest_alloc(&e, 1024, 4096);
	CHECK_EQ(run(&e, 0, T_IN, cap - 1, data, 512, true, NULL), S_OK);
	CHECK_EQ(run(&e, 0, T_IN, cap, data, 512, true, NULL), S_IOERR);
	CHECK_EQ(run(&e, 0, T_IN, cap - 1, data, 1024, true, NULL), S_IOERR);
	CHECK_EQ(run(&e, 0, T_OUT, cap - 1, data, 1024, false, NULL), S_IOERR);
	CHECK_EQ(run(&e, 0, T_IN, UINT64_MAX, data, 512, true, NULL), S_IOERR);
	CHECK_EQ(run(&e, 0, T_IN, UINT64_MAX >> 9, data, 512, true, NULL), S_IOERR);
	/* Not whole sectors. */
	CHECK_EQ(run(&e, 0, T_IN, 0, data, 100, true, NULL), S_IOERR);
	CHECK_EQ(run(&e, 0, T_OUT, 0, data, 513, false, NULL), S_IOERR);
	env_close(&e);
}

static void get_id_returns_the_serial(void)
{
	struct env e;
	uint64_t data;
	uint32_t used = 0;
	char id[20];

	CHECK(env_open(&e, "serial=corral-disk-1", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	data = guest_alloc(&e, 20, 1);
	memset(gp(&e, data, 20), 'x', 20);
	CHECK_EQ(run(&e, 0, T_GET_ID, 0, data, 20, true, &used), S_OK);
	CHECK_EQ(used, 21);
	memcpy(id, gp(&e, data, 20), 20);
	CHECK(!memcmp(id, "corral-disk-1\0\0\0\0\0\0\0", 20));
	env_close(&e);

	/* 20 characters: no NUL. */
	CHECK(env_open(&e, "serial=ABCDEFGHIJKLMNOPQRST", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	data = guest_alloc(&e, 20, 1);
	CHECK_EQ(run(&e, 0, T_GET_ID, 0, data, 20, true, NULL), S_OK);
	CHECK(!memcmp(gp(&e, data, 20), "ABCDEFGHIJKLMNOPQRST", 20));
	env_close(&e);
}

static void flush_succeeds(void)
{
	struct env e;
	uint8_t out[512];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	fill(out, sizeof(out), 4);
	CHECK_EQ(disk_write(&e, 0, out, sizeof(out)), S_OK);
	CHECK_EQ(run(&e, 0, T_FLUSH, 0, 0, 0, false, NULL), S_OK);
	env_close(&e);
}

static void unknown_request_types_are_unsupported(void)
{
	struct env e;
	uint64_t data;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	data = guest_alloc(&e, 512, 512);
	CHECK_EQ(run(&e, 0, 99, 0, data, 512, true, NULL), S_UNSUPP);
	CHECK_EQ(run(&e, 0, T_GET_LIFETIME, 0, data, 8, true, NULL), S_UNSUPP);
	CHECK_EQ(run(&e, 0, 0x80000000u, 0, 0, 0, false, NULL), S_UNSUPP);
	env_close(&e);
}

/* One discard/write-zeroes request with the given segments. */
static int dwz(struct env *e, uint32_t type, const uint64_t (*seg)[3], unsigned nseg)
{
	uint64_t data = guest_alloc(e, 16 * nseg, 16);
	uint8_t *p = gp(e, data, 16 * nseg);

	for (unsigned i = 0; i < nseg; i++) {
		io_data_put(p + 16 * i, 4, seg[i][0]);
		io_data_put(p + 16 * i + 4, 4, seg[i][0] >> 32);
		io_data_put(p + 16 * i + 8, 4, seg[i][1]);
		io_data_put(p + 16 * i + 12, 4, seg[i][2]);
	}
	return run(e, 0, type, 0, data, 16 * nseg, false, NULL);
}

static void write_whole_disk(struct env *e, uint8_t v)
{
	uint8_t *buf = malloc(DISK_SIZE);

	memset(buf, v, DISK_SIZE);
	CHECK_EQ(pwrite(e->fd, buf, DISK_SIZE, 0), DISK_SIZE);
	CHECK_EQ(fsync(e->fd), 0);
	free(buf);
}

static void discard_punches_a_hole(void)
{
	static const uint64_t seg[][3] = { { 512, 256, 0 }, { 1024, 128, 0 } };
	struct env e;
	uint8_t got[128 * 1024];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	write_whole_disk(&e, 0xab);
	CHECK(lseek(e.fd, 0, SEEK_HOLE) >= DISK_SIZE);
	CHECK_EQ(dwz(&e, T_DISCARD, seg, 2), S_OK);
	CHECK_EQ(lseek(e.fd, 256 * 1024, SEEK_HOLE), 256 * 1024);
	CHECK_EQ(lseek(e.fd, 256 * 1024, SEEK_DATA), 384 * 1024);
	CHECK_EQ(lseek(e.fd, 384 * 1024, SEEK_HOLE), 512 * 1024);
	CHECK_EQ(pread(e.fd, got, sizeof(got), 256 * 1024), sizeof(got));
	CHECK(all_bytes(got, sizeof(got), 0));
	/* Untouched around it. */
	CHECK_EQ(pread(e.fd, got, 512, 256 * 1024 - 512), 512);
	CHECK(all_bytes(got, 512, 0xab));
	env_close(&e);
}

static void write_zeroes_reads_back_zeroes(void)
{
	static const uint64_t keep[][3] = { { 8, 8, 0 } };
	static const uint64_t unmap[][3] = { { 256, 512, 1 } };
	struct env e;
	uint8_t got[512 * 512];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	write_whole_disk(&e, 0xcd);
	CHECK_EQ(dwz(&e, T_WRITE_ZEROES, keep, 1), S_OK);
	CHECK_EQ(disk_read(&e, 0, got, 32 * 512), S_OK);
	CHECK(all_bytes(got, 8 * 512, 0xcd));
	CHECK(all_bytes(got + 8 * 512, 8 * 512, 0));
	CHECK(all_bytes(got + 16 * 512, 16 * 512, 0xcd));
	CHECK_EQ(dwz(&e, T_WRITE_ZEROES, unmap, 1), S_OK);
	CHECK_EQ(disk_read(&e, 256, got, sizeof(got)), S_OK);
	CHECK(all_bytes(got, sizeof(got), 0));
	/* With unmap allowed, the range was deallocated. */
	CHECK_EQ(lseek(e.fd, 128 * 1024, SEEK_HOLE), 128 * 1024);
	env_close(&e);
}

static void bad_discard_and_write_zeroes_requests_are_refused(void)
{
	static const uint64_t unmap[][3] = { { 0, 8, 1 } };
	static const uint64_t unknown_flag[][3] = { { 0, 8, 2 } };
	static const uint64_t outside[][3] = { { DISK_SIZE / 512 - 4, 8, 0 } };
	uint64_t many[17][3] = { { 0 } };
	struct env e;
	uint64_t data;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	CHECK_EQ(dwz(&e, T_DISCARD, unmap, 1), S_UNSUPP);
	CHECK_EQ(dwz(&e, T_DISCARD, unknown_flag, 1), S_UNSUPP);
	CHECK_EQ(dwz(&e, T_WRITE_ZEROES, unknown_flag, 1), S_UNSUPP);
	CHECK_EQ(dwz(&e, T_DISCARD, outside, 1), S_IOERR);
	CHECK_EQ(dwz(&e, T_WRITE_ZEROES, outside, 1), S_IOERR);
	CHECK_EQ(dwz(&e, T_DISCARD, (const uint64_t (*)[3])many, 17), S_UNSUPP);
	data = guest_alloc(&e, 24, 8);
	CHECK_EQ(run(&e, 0, T_DISCARD, 0, data, 24, false, NULL), S_IOERR);	/* 1.5 segments */
	CHECK_EQ(run(&e, 0, T_DISCARD, 0, 0, 0, false, NULL), S_IOERR);		/* none */
	env_close(&e);
}

static void discard_is_unsupported_unless_negotiated(void)
{
	static const uint64_t seg[][3] = { { 0, 8, 0 } };
	struct env e;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX & ~BIT(F_DISCARD) &
		       ~BIT(F_WRITE_ZEROES), 1));
	CHECK_EQ(dwz(&e, T_DISCARD, seg, 1), S_UNSUPP);
	CHECK_EQ(dwz(&e, T_WRITE_ZEROES, seg, 1), S_UNSUPP);
	env_close(&e);
}

static void readonly_disk_offers_ro_and_refuses_writes(void)
{
	static const uint64_t seg[][3] = { { 0, 8, 0 } };
	struct env e;
	uint8_t buf[1024], file[1024];

	CHECK(env_open(&e, "ro", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	write_whole_disk(&e, 0x11);
	CHECK(e.d.features & BIT(F_RO));
	CHECK(!(e.d.features & BIT(F_DISCARD)));
	CHECK(!(e.d.features & BIT(F_WRITE_ZEROES)));
	fill(buf, sizeof(buf), 5);
	CHECK_EQ(disk_write(&e, 0, buf, sizeof(buf)), S_IOERR);
	CHECK_EQ(dwz(&e, T_DISCARD, seg, 1), S_IOERR);
	CHECK_EQ(dwz(&e, T_WRITE_ZEROES, seg, 1), S_IOERR);
	CHECK_EQ(pread(e.fd, file, sizeof(file), 0), sizeof(file));
	CHECK(all_bytes(file, sizeof(file), 0x11));
	CHECK_EQ(disk_read(&e, 0, buf, sizeof(buf)), S_OK);
	CHECK(all_bytes(buf, sizeof(buf), 0x11));
	CHECK_EQ(run(&e, 0, T_FLUSH, 0, 0, 0, false, NULL), S_OK);
	env_close(&e);
}

static void malformed_chains_do_not_stop_the_queue(void)
{
	struct env e;
	struct virtq_used_elem u;
	uint64_t st, hdr;
	uint8_t buf[512];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	log_set_level(LOG_LEVEL_SILENT);
	/* No writable byte for a status: returned with nothing written. */
	{
		struct vdrv_buf b[] = { { header(&e, T_IN, 0), 16, false } };

		CHECK(vdrv_post(&e.d, 0, b, 1) >= 0);
		vdrv_kick(&e.d, 0);
		CHECK(vdrv_wait_used(&e.d, 0, &u, VDRV_TIMEOUT_MS));
		CHECK_EQ(u.len, 0);
	}
	/* No header at all, or a short one: IOERR in the status byte. */
	st = guest_alloc(&e, 1, 1);
	{
		struct vdrv_buf b[] = { { st, 1, true } };

		*(uint8_t *)gp(&e, st, 1) = 0xee;
		CHECK(vdrv_post(&e.d, 0, b, 1) >= 0);
		vdrv_kick(&e.d, 0);
		CHECK(vdrv_wait_used(&e.d, 0, &u, VDRV_TIMEOUT_MS));
		CHECK_EQ(u.len, 1);
		CHECK_EQ(*(uint8_t *)gp(&e, st, 1), S_IOERR);
	}
	hdr = header(&e, T_IN, 0);
	{
		struct vdrv_buf b[] = { { hdr, 8, false }, { st, 1, true } };

		*(uint8_t *)gp(&e, st, 1) = 0xee;
		CHECK(vdrv_post(&e.d, 0, b, 2) >= 0);
		vdrv_kick(&e.d, 0);
		CHECK(vdrv_wait_used(&e.d, 0, &u, VDRV_TIMEOUT_MS));
		CHECK_EQ(*(uint8_t *)gp(&e, st, 1), S_IOERR);
	}
	log_set_level(LOG_LEVEL_WARN);
	CHECK(!(vdrv_status(&e.d) & VDRV_S_NEEDS_RESET));
	CHECK_EQ(disk_read(&e, 0, buf, sizeof(buf)), S_OK);
	env_close(&e);
}

static void a_broken_ring_needs_reset_and_recovers(void)
{
	struct env e;
	struct vdrv_queue *q;
	uint8_t buf[512];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	log_set_level(LOG_LEVEL_SILENT);
	/* A descriptor that chains to itself. */
	q = &e.d.q[0];
	q->desc[0] = (struct virtq_desc){ .addr = HEAP_START, .len = 16,
					  .flags = VIRTQ_DESC_F_NEXT, .next = 0 };
	q->avail->ring[q->avail->idx & (q->size - 1)] = 0;
	__atomic_store_n(&q->avail->idx, q->avail->idx + 1, __ATOMIC_RELEASE);
	vdrv_kick(&e.d, 0);
	for (int i = 0; i < 500 && !(vdrv_status(&e.d) & VDRV_S_NEEDS_RESET); i++)
		usleep(10000);
	log_set_level(LOG_LEVEL_WARN);
	CHECK(vdrv_status(&e.d) & VDRV_S_NEEDS_RESET);
	/* The driver resets and starts over. */
	CHECK(driver_up(&e, ALL_BUT_EVENT_IDX, 1));
	CHECK_EQ(disk_read(&e, 0, buf, sizeof(buf)), S_OK);
	env_close(&e);
}

static void reset_and_restart_serves_again(void)
{
	struct env e;
	uint8_t out[512], in[512];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	fill(out, sizeof(out), 6);
	CHECK_EQ(disk_write(&e, 3, out, sizeof(out)), S_OK);
	for (int i = 0; i < 3; i++) {
		CHECK(driver_up(&e, ALL_BUT_EVENT_IDX, 1));
		memset(in, 0, sizeof(in));
		CHECK_EQ(disk_read(&e, 3, in, sizeof(in)), S_OK);
		CHECK(!memcmp(in, out, sizeof(out)));
	}
	env_close(&e);
}

/* O_DIRECT refuses a misaligned buffer; the device bounces it instead. */
static void misaligned_guest_buffers_still_work(void)
{
	struct env e;
	uint8_t out[4096], file[4096];
	uint64_t data;

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	fill(out, sizeof(out), 7);
	data = guest_alloc(&e, sizeof(out) + 1, 4096) + 1;
	memcpy(gp(&e, data, sizeof(out)), out, sizeof(out));
	CHECK_EQ(run(&e, 0, T_OUT, 64, data, sizeof(out), false, NULL), S_OK);
	CHECK_EQ(pread(e.fd, file, sizeof(file), 64 * 512), sizeof(file));
	CHECK(!memcmp(file, out, sizeof(out)));
	memset(gp(&e, data, sizeof(out)), 0, sizeof(out));
	CHECK_EQ(run(&e, 0, T_IN, 64, data, sizeof(out), true, NULL), S_OK);
	CHECK(!memcmp(gp(&e, data, sizeof(out)), out, sizeof(out)));
	env_close(&e);
}

static void reading_past_a_shrunk_image_reads_zeroes(void)
{
	struct env e;
	uint8_t buf[1024];

	CHECK(env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	write_whole_disk(&e, 0x77);
	CHECK_EQ(ftruncate(e.fd, DISK_SIZE / 2), 0);
	/* Straddling the new end: the first half is data, the rest zeroes. */
	CHECK_EQ(disk_read(&e, DISK_SIZE / 1024 - 1, buf, sizeof(buf)), S_OK);
	CHECK(all_bytes(buf, 512, 0x77));
	CHECK(all_bytes(buf + 512, 512, 0));
	env_close(&e);
}

static void many_requests_in_flight_all_complete(void)
{
	enum { N = 64, LEN = 8192 };
	struct env e;
	uint64_t data[N], st[N];
	uint8_t buf[LEN], file[LEN];
	unsigned done = 0;

	CHECK(env_open(&e, "", DISK_SIZE, ~0ull, 1));	/* with EVENT_IDX */
	CHECK(e.d.features & BIT(VDRV_F_EVENT_IDX));
	for (unsigned i = 0; i < N; i++) {
		data[i] = guest_alloc(&e, LEN, 4096);
		fill(gp(&e, data[i], LEN), LEN, 100 + i);
		st[i] = post(&e, 0, T_OUT, (uint64_t)i * (LEN / 512), data[i], LEN, false);
	}
	vdrv_kick(&e.d, 0);
	for (struct virtq_used_elem u; done < N && vdrv_wait_used(&e.d, 0, &u, VDRV_TIMEOUT_MS);)
		done++;
	CHECK_EQ(done, N);
	for (unsigned i = 0; i < N; i++) {
		CHECK_EQ(*(uint8_t *)gp(&e, st[i], 1), S_OK);
		fill(buf, LEN, 100 + i);
		CHECK_EQ(pread(e.fd, file, LEN, (off_t)i * LEN), LEN);
		CHECK(!memcmp(file, buf, LEN));
	}
	/* Still interrupting after the batch (used_event kept up to date). */
	vdrv_take_irqs(&e.d, 0, 0);
	CHECK_EQ(disk_read(&e, 0, buf, 512), S_OK);
	CHECK(vdrv_take_irqs(&e.d, 0, VDRV_TIMEOUT_MS) > 0);
	env_close(&e);
}

/* After a reset returns, nothing writes into guest memory any more. */
static void reset_waits_for_io_in_flight(void)
{
	enum { N = 16, LEN = 1 << 20 };
	struct env e;
	uint64_t data[N];

	CHECK(env_open(&e, "", 4 * LEN, ALL_BUT_EVENT_IDX, 1));
	write_whole_disk(&e, 0x42);
	for (unsigned i = 0; i < N; i++) {
		data[i] = guest_alloc(&e, LEN, 4096);
		post(&e, 0, T_IN, (uint64_t)(i % 4) * (LEN / 512), data[i], LEN, true);
	}
	vdrv_kick(&e.d, 0);
	vdrv_reset(&e.d);
	for (unsigned i = 0; i < N; i++)
		memset(gp(&e, data[i], LEN), 0x5a, LEN);
	usleep(50000);
	for (unsigned i = 0; i < N; i++)
		CHECK(all_bytes(gp(&e, data[i], LEN), LEN, 0x5a));
	env_close(&e);
}

static void second_queue_serves_with_its_own_vector(void)
{
	struct env e;
	uint8_t cfg[2];
	uint64_t data;

	CHECK(env_open(&e, "queues=2", DISK_SIZE, ALL_BUT_EVENT_IDX, 2));
	CHECK(e.d.features & BIT(F_MQ));
	vdrv_device_config(&e.d, CFG_NUM_QUEUES, cfg, 2);
	CHECK_EQ(io_data_get(cfg, 2), 2);
	data = guest_alloc(&e, 4096, 4096);
	CHECK_EQ(run(&e, 1, T_IN, 0, data, 4096, true, NULL), S_OK);
	CHECK(vdrv_take_irqs(&e.d, 1, VDRV_TIMEOUT_MS) > 0);
	CHECK_EQ(vdrv_take_irqs(&e.d, 0, 0), 0);
	CHECK_EQ(run(&e, 0, T_IN, 0, data, 4096, true, NULL), S_OK);
	env_close(&e);
}

/* Linux sets up only as many queues as it has CPUs for. */
static void queues_the_driver_leaves_off_are_ignored(void)
{
	struct env e;
	uint8_t buf[512];

	CHECK(env_open(&e, "queues=4", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	CHECK_EQ(disk_read(&e, 0, buf, sizeof(buf)), S_OK);
	CHECK(!(vdrv_status(&e.d) & VDRV_S_NEEDS_RESET));
	env_close(&e);
}

static void two_disks_are_independent(void)
{
	struct env a, b;
	uint8_t out[512], in[512];

	CHECK(env_open(&a, "serial=a", DISK_SIZE, ALL_BUT_EVENT_IDX, 1));
	CHECK(env_open(&b, "serial=b", DISK_SIZE / 2, ALL_BUT_EVENT_IDX, 1));
	CHECK_EQ(capacity(&a), DISK_SIZE / 512);
	CHECK_EQ(capacity(&b), DISK_SIZE / 1024);
	fill(out, sizeof(out), 8);
	CHECK_EQ(disk_write(&a, 1, out, sizeof(out)), S_OK);
	CHECK_EQ(disk_read(&b, 1, in, sizeof(in)), S_OK);
	CHECK(all_bytes(in, sizeof(in), 0));
	CHECK_EQ(disk_read(&a, 1, in, sizeof(in)), S_OK);
	CHECK(!memcmp(in, out, sizeof(out)));
	env_close(&b);
	env_close(&a);
}

/* Makes io_uring_setup() fail with ENOSYS in this process, as on a kernel
 * without io_uring. */
static bool deny_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* Without io_uring, start() fails, so DRIVER_OK ends in NEEDS_RESET. */
static void without_io_uring_the_device_needs_reset(void)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct env e;
		bool ok;

		log_set_level(LOG_LEVEL_SILENT);
		ok = deny_io_uring() && !env_open(&e, "", DISK_SIZE, ALL_BUT_EVENT_IDX, 1) &&
		     (vdrv_status(&e.d) & VDRV_S_NEEDS_RESET);
		env_close(&e);
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void create_fails_cleanly_for_what_is_not_a_disk(void)
{
	static const char *const paths[] = { "/nonexistent/disk.img", "/tmp", "/dev/null" };
	struct fake_host fh;
	unsigned before = open_fds();

	CHECK_EQ(fake_host_init(&fh, 0), 0);
	log_set_level(LOG_LEVEL_SILENT);
	for (unsigned i = 0; i < ARRAY_SIZE(paths); i++) {
		struct virtio_blk_options o = { .queues = 1 };

		snprintf(o.path, sizeof(o.path), "%s", paths[i]);
		CHECK(virtio_blk_create(&o, &fh.host) == NULL);
	}
	log_set_level(LOG_LEVEL_WARN);
	CHECK_EQ(open_fds(), before);
	fake_host_fini(&fh);
}

int main(void)
{
	log_init("test_virtio_blk", LOG_LEVEL_WARN);
	RUN(parse_accepts_a_bare_path_with_defaults);
	RUN(parse_accepts_every_option);
	RUN(parse_accepts_a_serial_of_20_characters);
	RUN(parse_rejects_bad_specs);
	RUN(create_fails_cleanly_for_what_is_not_a_disk);
	RUN(config_describes_the_disk);
	RUN(write_then_read_round_trips_through_the_file);
	RUN(writeback_cache_round_trips_too);
	RUN(requests_may_share_and_split_buffers);
	RUN(requests_outside_the_disk_fail_with_ioerr);
	RUN(get_id_returns_the_serial);
	RUN(flush_succeeds);
	RUN(unknown_request_types_are_unsupported);
	RUN(discard_punches_a_hole);
	RUN(write_zeroes_reads_back_zeroes);
	RUN(bad_discard_and_write_zeroes_requests_are_refused);
	RUN(discard_is_unsupported_unless_negotiated);
	RUN(readonly_disk_offers_ro_and_refuses_writes);
	RUN(malformed_chains_do_not_stop_the_queue);
	RUN(a_broken_ring_needs_reset_and_recovers);
	RUN(reset_and_restart_serves_again);
	RUN(misaligned_guest_buffers_still_work);
	RUN(reading_past_a_shrunk_image_reads_zeroes);
	RUN(many_requests_in_flight_all_complete);
	RUN(reset_waits_for_io_in_flight);
	RUN(second_queue_serves_with_its_own_vector);
	RUN(queues_the_driver_leaves_off_are_ignored);
	RUN(two_disks_are_independent);
	RUN(without_io_uring_the_device_needs_reset);
	return test_done();
}
