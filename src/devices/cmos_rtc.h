/*
 * The PC's MC146818 real-time clock and its 128 bytes of CMOS memory.
 *
 * The VMM creates one and registers cmos_rtc_io_ops for ports 0x70-0x71
 * (index, then data). Guests read wall-clock time from it at boot, and
 * firmware reads the memory size from its NVRAM bytes. The time registers
 * follow a clock (the host's CLOCK_REALTIME, in UTC, unless
 * cmos_rtc_set_clock() gives another); a guest that sets the time keeps
 * running from what it set, as an offset from that clock. The chip's
 * interrupts (periodic, alarm, update-ended on IRQ 8) are not generated yet;
 * register C reports the update-ended flag for guests that poll it.
 *
 * Locking: every register access takes the device's lock.
 */
#ifndef CORRAL_DEVICES_CMOS_RTC_H
#define CORRAL_DEVICES_CMOS_RTC_H

#include "devices/device.h"

#define CMOS_RTC_PORT_BASE 0x70
#define CMOS_RTC_NR_PORTS 2

/* The register holding the century (BCD or binary, as the time is), for
 * the ACPI FADT's CENTURY field. */
#define CMOS_RTC_CENTURY_REG 0x32

struct cmos_rtc;

/* Fills the memory-size bytes from the RAM below and above 4 GiB.
 * Returns NULL with errno set on failure. */
struct cmos_rtc *cmos_rtc_create(uint64_t ram_below_4g, uint64_t ram_above_4g);
void cmos_rtc_destroy(struct cmos_rtc *rtc);

/* Replaces the clock the time registers follow: now_ns(ctx) returns
 * nanoseconds since 1970-01-01 00:00 in the time zone the guest expects
 * (UTC, or local time for guests that keep the RTC in local time). Call it
 * before the guest runs. */
void cmos_rtc_set_clock(struct cmos_rtc *rtc, int64_t (*now_ns)(void *ctx), void *ctx);

extern const struct io_ops cmos_rtc_io_ops;

#endif
