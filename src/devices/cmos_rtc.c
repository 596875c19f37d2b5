/*
 * MC146818 RTC and CMOS NVRAM. Register and bit names follow the Motorola
 * MC146818A datasheet; the memory-size bytes follow the layout SeaBIOS reads
 * (and QEMU writes).
 */
#include "devices/cmos_rtc.h"

#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define CMOS_SIZE	128
#define INDEX_MASK	0x7f	/* bit 7 of the index port masks NMIs */

enum {
	RTC_SECONDS = 0x00,
	RTC_MINUTES = 0x02,
	RTC_HOURS = 0x04,
	RTC_DAY_OF_WEEK = 0x06,
	RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c,
	RTC_REG_D = 0x0d,
	CMOS_MEM_ABOVE_16M = 0x34,	/* 2 bytes, 64 KiB units, below 4 GiB */
	CMOS_MEM_ABOVE_4G = 0x5b,	/* 3 bytes, 64 KiB units */
};

#define REG_A_UIP	0x80	/* update in progress */
/* 32.768 kHz time base, 1024 Hz periodic rate: the power-on value software
 * expects (Linux's rtc-cmos writes it back at probe). */
#define REG_A_DEFAULT	0x26

#define REG_B_SET	0x80	/* updates stop so the time can be set */
#define REG_B_DM_BINARY	0x04	/* data mode: binary, else BCD */
#define REG_B_24H	0x02	/* 24-hour mode, else 12-hour */
/* 24-hour BCD, as PC firmware leaves it; Linux's rtc-cmos rejects 12-hour. */
#define REG_B_DEFAULT	REG_B_24H

#define REG_C_UF	0x10	/* update-ended flag */
#define REG_D_VRT	0x80	/* valid RAM and time: the battery is good */

#define HOUR_PM		0x80	/* in 12-hour mode */

#define NS_PER_SEC	1000000000LL
/* UIP rises this long before each update (datasheet, tBUC) so a reader who
 * saw it clear can finish reading the time. Updates are instantaneous here,
 * so this is the only time UIP is set. */
#define UIP_LEAD_NS	244000LL

/* A guest can set years 0000 to 9999, four BCD digits with the century. */
#define FIRST_SETTABLE_S	(-62167219200LL)	/* 0000-01-01 00:00:00 UTC */
#define END_SETTABLE_S		253402300800LL		/* 10000-01-01 00:00:00 UTC */

struct cmos_rtc {
	pthread_mutex_t lock;
	int64_t (*now_ns)(void *ctx);
	void *clock_ctx;

	uint8_t index;
	uint8_t cmos[CMOS_SIZE];	/* bytes without clock semantics, and A, B */
	int64_t offset_s;	/* guest seconds minus clock seconds */
	int64_t phase_ns;	/* where in the clock's second the guest's begins */
	struct tm frozen;	/* the time while register B's SET bit is held */
	int64_t last_update_s;	/* the guest second register C last saw */
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static bool rtc_frozen(const struct cmos_rtc *rtc)
{
	return rtc->cmos[RTC_REG_B] & REG_B_SET;
}

/* The clock in nanoseconds, shifted so that the guest's seconds begin at
 * multiples of NS_PER_SEC. */
static int64_t rtc_phased_ns(const struct cmos_rtc *rtc)
{
	return rtc->now_ns(rtc->clock_ctx) - rtc->phase_ns;
}

static int64_t rtc_guest_second(const struct cmos_rtc *rtc)
{
	return floor_div(rtc_phased_ns(rtc), NS_PER_SEC) + rtc->offset_s;
}

static int64_t rtc_guest_subsecond_ns(const struct cmos_rtc *rtc)
{
	int64_t ns = rtc_phased_ns(rtc);

	return ns - floor_div(ns, NS_PER_SEC) * NS_PER_SEC;
}

/* The calendar time the registers show: frozen while SET is held. */
static void rtc_calendar(const struct cmos_rtc *rtc, struct tm *tm)
{
	time_t t;

	if (rtc_frozen(rtc)) {
		*tm = rtc->frozen;
		return;
	}
	/* The clock ends before 2263 and guests set years below 10000:
	 * well inside what gmtime_r() converts. */
	t = rtc_guest_second(rtc);
	gmtime_r(&t, tm);
}

/* Restarts the clock at the beginning of second *tm, now. A time outside
 * the years the registers can show is refused and the clock runs on: guest
 * writes of out-of-range fields would otherwise push the year further with
 * every normalisation. */
static void rtc_start_clock(struct cmos_rtc *rtc, struct tm *tm)
{
	int64_t clock_ns = rtc->now_ns(rtc->clock_ctx);
	int64_t clock_s = floor_div(clock_ns, NS_PER_SEC);
	int64_t guest_s = timegm(tm);

	if (guest_s < FIRST_SETTABLE_S || guest_s >= END_SETTABLE_S)
		return;
	rtc->offset_s = guest_s - clock_s;
	rtc->phase_ns = clock_ns - clock_s * NS_PER_SEC;
	rtc->last_update_s = guest_s;
}

static uint8_t rtc_encode(const struct cmos_rtc *rtc, unsigned v)
{
	if (rtc->cmos[RTC_REG_B] & REG_B_DM_BINARY)
		return v;
	return (v / 10 % 10) << 4 | v % 10;
}

static int rtc_decode(const struct cmos_rtc *rtc, uint8_t v)
{
	if (rtc->cmos[RTC_REG_B] & REG_B_DM_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

/* In 12-hour mode hours run 12, 1, ..., 11 with bit 7 set after noon
 * (datasheet, table 3). */
static uint8_t rtc_encode_hour(const struct cmos_rtc *rtc, int hour)
{
	if (rtc->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_encode(rtc, hour);
	return rtc_encode(rtc, (hour + 11) % 12 + 1) | (hour >= 12 ? HOUR_PM : 0);
}

static int rtc_decode_hour(const struct cmos_rtc *rtc, uint8_t v)
{
	if (rtc->cmos[RTC_REG_B] & REG_B_24H)
		return rtc_decode(rtc, v);
	return rtc_decode(rtc, v & ~HOUR_PM) % 12 + (v & HOUR_PM ? 12 : 0);
}

/* The registers that show the clock. Between them, 0x01, 0x03 and 0x05 hold
 * the alarm time, kept as plain bytes since alarms are not generated. */
static bool rtc_is_time_reg(uint8_t reg)
{
	switch (reg) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case CMOS_RTC_CENTURY_REG:
		return true;
	}
	return false;
}

static uint8_t rtc_time_field(const struct cmos_rtc *rtc, uint8_t reg, const struct tm *tm)
{
	int year = tm->tm_year + 1900;

	switch (reg) {
	case RTC_SECONDS:
		return rtc_encode(rtc, tm->tm_sec);
	case RTC_MINUTES:
		return rtc_encode(rtc, tm->tm_min);
	case RTC_HOURS:
		return rtc_encode_hour(rtc, tm->tm_hour);
	case RTC_DAY_OF_WEEK:
		return rtc_encode(rtc, tm->tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_encode(rtc, tm->tm_mday);
	case RTC_MONTH:
		return rtc_encode(rtc, tm->tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(rtc, year % 100);
	default:
		return rtc_encode(rtc, year / 100);
	}
}

/* The day of week a guest writes is shown back while SET is held, but the
 * running clock derives it from the date. */
static void rtc_set_time_field(const struct cmos_rtc *rtc, uint8_t reg, uint8_t v,
			       struct tm *tm)
{
	int year = tm->tm_year + 1900;

	switch (reg) {
	case RTC_SECONDS:
		tm->tm_sec = rtc_decode(rtc, v);
		break;
	case RTC_MINUTES:
		tm->tm_min = rtc_decode(rtc, v);
		break;
	case RTC_HOURS:
		tm->tm_hour = rtc_decode_hour(rtc, v);
		break;
	case RTC_DAY_OF_WEEK:
		tm->tm_wday = rtc_decode(rtc, v) - 1;
		break;
	case RTC_DAY_OF_MONTH:
		tm->tm_mday = rtc_decode(rtc, v);
		break;
	case RTC_MONTH:
		tm->tm_mon = rtc_decode(rtc, v) - 1;
		break;
	case RTC_YEAR:
		tm->tm_year = year / 100 * 100 + rtc_decode(rtc, v) - 1900;
		break;
	default:
		tm->tm_year = rtc_decode(rtc, v) * 100 + year % 100 - 1900;
		break;
	}
}

/* Fields written while SET is held wait in the frozen copy, so a date that
 * is invalid halfway through being set is never normalised; a field written
 * while the clock runs takes effect at once. */
static void rtc_write_time(struct cmos_rtc *rtc, uint8_t reg, uint8_t v)
{
	struct tm tm;

	rtc_calendar(rtc, &tm);
	rtc_set_time_field(rtc, reg, v, &tm);
	if (rtc_frozen(rtc))
		rtc->frozen = tm;
	else
		rtc_start_clock(rtc, &tm);
}

static void rtc_write_reg_b(struct cmos_rtc *rtc, uint8_t v)
{
	bool was_set = rtc_frozen(rtc);

	if ((v & REG_B_SET) && !was_set)
		rtc_calendar(rtc, &rtc->frozen);
	rtc->cmos[RTC_REG_B] = v;
	if (!(v & REG_B_SET) && was_set)
		rtc_start_clock(rtc, &rtc->frozen);
}

static bool rtc_update_in_progress(const struct cmos_rtc *rtc)
{
	return !rtc_frozen(rtc) && rtc_guest_subsecond_ns(rtc) >= NS_PER_SEC - UIP_LEAD_NS;
}

/* UF is set by every update cycle since register C was last read; no
 * updates happen while SET is held. Reading C clears it. IRQF stays clear:
 * no interrupts are generated. */
static uint8_t rtc_read_reg_c(struct cmos_rtc *rtc)
{
	int64_t now_s;
	bool updated;

	if (rtc_frozen(rtc))
		return 0;
	now_s = rtc_guest_second(rtc);
	updated = now_s != rtc->last_update_s;
	rtc->last_update_s = now_s;
	return updated ? REG_C_UF : 0;
}

static uint8_t rtc_read_reg(struct cmos_rtc *rtc, uint8_t reg)
{
	struct tm tm;

	if (rtc_is_time_reg(reg)) {
		rtc_calendar(rtc, &tm);
		return rtc_time_field(rtc, reg, &tm);
	}
	switch (reg) {
	case RTC_REG_A:
		return rtc->cmos[RTC_REG_A] | (rtc_update_in_progress(rtc) ? REG_A_UIP : 0);
	case RTC_REG_C:
		return rtc_read_reg_c(rtc);
	case RTC_REG_D:
		return REG_D_VRT;
	default:
		return rtc->cmos[reg];
	}
}

static void rtc_write_reg(struct cmos_rtc *rtc, uint8_t reg, uint8_t v)
{
	if (rtc_is_time_reg(reg)) {
		rtc_write_time(rtc, reg, v);
		return;
	}
	switch (reg) {
	case RTC_REG_A:
		rtc->cmos[RTC_REG_A] = v & ~REG_A_UIP;
		break;
	case RTC_REG_B:
		rtc_write_reg_b(rtc, v);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;
	default:
		rtc->cmos[reg] = v;
		break;
	}
}

/* Port 0 selects a register, port 1 accesses it. The index port reads as
 * 0xff (it is write-only on the PC), as does anything past port 1 that a
 * wide access reaches. */
static uint8_t rtc_read_port(struct cmos_rtc *rtc, unsigned port)
{
	return port == 1 ? rtc_read_reg(rtc, rtc->index) : 0xff;
}

static void rtc_write_port(struct cmos_rtc *rtc, unsigned port, uint8_t v)
{
	if (port == 0)
		rtc->index = v & INDEX_MASK;
	else if (port == 1)
		rtc_write_reg(rtc, rtc->index, v);
}

/* A wider access reaches the following ports, one per byte lane, as the ISA
 * bus splits it for an 8-bit device. */
static void rtc_io_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	struct cmos_rtc *rtc = dev;

	pthread_mutex_lock(&rtc->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = rtc_read_port(rtc, offset + i);
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_io_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	struct cmos_rtc *rtc = dev;

	pthread_mutex_lock(&rtc->lock);
	for (unsigned i = 0; i < size; i++)
		rtc_write_port(rtc, offset + i, data[i]);
	pthread_mutex_unlock(&rtc->lock);
}

const struct io_ops cmos_rtc_io_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

static void rtc_store_memory_size(struct cmos_rtc *rtc, uint64_t below_4g, uint64_t above_4g)
{
	uint64_t mid = below_4g > MiB(16) ? (below_4g - MiB(16)) >> 16 : 0;
	uint64_t high = above_4g >> 16;

	mid = MIN(mid, 0xffff);
	high = MIN(high, 0xffffff);
	rtc->cmos[CMOS_MEM_ABOVE_16M] = mid;
	rtc->cmos[CMOS_MEM_ABOVE_16M + 1] = mid >> 8;
	rtc->cmos[CMOS_MEM_ABOVE_4G] = high;
	rtc->cmos[CMOS_MEM_ABOVE_4G + 1] = high >> 8;
	rtc->cmos[CMOS_MEM_ABOVE_4G + 2] = high >> 16;
}

static int64_t rtc_host_clock(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

void cmos_rtc_set_clock(struct cmos_rtc *rtc, int64_t (*now_ns)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&rtc->lock);
	rtc->now_ns = now_ns;
	rtc->clock_ctx = ctx;
	rtc->last_update_s = rtc_guest_second(rtc);
	pthread_mutex_unlock(&rtc->lock);
}

struct cmos_rtc *cmos_rtc_create(uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	struct cmos_rtc *rtc = calloc(1, sizeof(*rtc));
	int err;

	if (!rtc)
		return NULL;
	err = pthread_mutex_init(&rtc->lock, NULL);
	if (err) {
		free(rtc);
		errno = err;
		return NULL;
	}
	rtc->cmos[RTC_REG_A] = REG_A_DEFAULT;
	rtc->cmos[RTC_REG_B] = REG_B_DEFAULT;
	rtc_store_memory_size(rtc, ram_below_4g, ram_above_4g);
	cmos_rtc_set_clock(rtc, rtc_host_clock, NULL);
	return rtc;
}

void cmos_rtc_destroy(struct cmos_rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}
