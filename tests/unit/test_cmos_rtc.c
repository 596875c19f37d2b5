/*
 * Unit tests of the CMOS RTC, driven through ports 0x70/0x71 as a guest
 * would, with a clock the test sets.
 */
#include "test.h"
#include "devices/cmos_rtc.h"

#include "common/util.h"

#include <time.h>

#define NS_PER_SEC 1000000000LL

enum { SECONDS = 0x00, MINUTES = 0x02, HOURS = 0x04, DAY_OF_WEEK = 0x06,
       DAY_OF_MONTH = 0x07, MONTH = 0x08, YEAR = 0x09, REG_A = 0x0a,
       REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d, CENTURY = 0x32 };

static int64_t clock_ns;

static int64_t fake_now(void *ctx)
{
	(void)ctx;
	return clock_ns;
}

/* UTC, at `ns` nanoseconds into the second. */
static int64_t utc(int year, int mon, int mday, int hour, int min, int sec, int64_t ns)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = mday,
			 .tm_hour = hour, .tm_min = min, .tm_sec = sec };

	return (int64_t)timegm(&tm) * NS_PER_SEC + ns;
}

static struct cmos_rtc *new_rtc(uint64_t below_4g, uint64_t above_4g)
{
	struct cmos_rtc *rtc = cmos_rtc_create(below_4g, above_4g);

	/* Thursday 2024-02-29 13:45:07.5 UTC */
	clock_ns = utc(2024, 2, 29, 13, 45, 7, NS_PER_SEC / 2);
	if (rtc)
		cmos_rtc_set_clock(rtc, fake_now, NULL);
	return rtc;
}

static uint8_t cmos_read(struct cmos_rtc *rtc, uint8_t reg)
{
	uint8_t v;

	cmos_rtc_io_ops.write(rtc, 0, &reg, 1);
	cmos_rtc_io_ops.read(rtc, 1, &v, 1);
	return v;
}

static void cmos_write(struct cmos_rtc *rtc, uint8_t reg, uint8_t v)
{
	cmos_rtc_io_ops.write(rtc, 0, &reg, 1);
	cmos_rtc_io_ops.write(rtc, 1, &v, 1);
}

static void reads_bcd_24_hour_time_by_default(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	CHECK_EQ(cmos_read(rtc, REG_B), 0x02);
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x07);
	CHECK_EQ(cmos_read(rtc, MINUTES), 0x45);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x13);
	CHECK_EQ(cmos_read(rtc, DAY_OF_WEEK), 5);
	CHECK_EQ(cmos_read(rtc, DAY_OF_MONTH), 0x29);
	CHECK_EQ(cmos_read(rtc, MONTH), 0x02);
	CHECK_EQ(cmos_read(rtc, YEAR), 0x24);
	CHECK_EQ(cmos_read(rtc, CENTURY), 0x20);
	cmos_rtc_destroy(rtc);
}

static void reads_binary_time_when_dm_is_set(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x06);
	CHECK_EQ(cmos_read(rtc, SECONDS), 7);
	CHECK_EQ(cmos_read(rtc, MINUTES), 45);
	CHECK_EQ(cmos_read(rtc, HOURS), 13);
	CHECK_EQ(cmos_read(rtc, DAY_OF_MONTH), 29);
	CHECK_EQ(cmos_read(rtc, YEAR), 24);
	CHECK_EQ(cmos_read(rtc, CENTURY), 20);
	cmos_rtc_destroy(rtc);
}

static void reads_12_hour_time_with_the_pm_bit(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x00);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x81);
	clock_ns = utc(2024, 2, 29, 0, 30, 0, 0);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x12);
	clock_ns = utc(2024, 2, 29, 12, 30, 0, 0);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x92);
	cmos_write(rtc, REG_B, 0x04);
	clock_ns = utc(2024, 2, 29, 23, 30, 0, 0);
	CHECK(cmos_read(rtc, HOURS) == (0x80 | 11));
	cmos_rtc_destroy(rtc);
}

static void time_follows_the_clock(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	clock_ns += 61 * NS_PER_SEC;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x08);
	CHECK_EQ(cmos_read(rtc, MINUTES), 0x46);
	cmos_rtc_destroy(rtc);
}

/* As Linux's mc146818_set_time() does it: SET, every field, then release. */
static void guest_set_time_keeps_running_from_what_was_set(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x82);
	cmos_write(rtc, YEAR, 0x99);
	cmos_write(rtc, MONTH, 0x12);
	cmos_write(rtc, DAY_OF_MONTH, 0x31);
	cmos_write(rtc, HOURS, 0x23);
	cmos_write(rtc, MINUTES, 0x59);
	cmos_write(rtc, SECONDS, 0x58);
	cmos_write(rtc, CENTURY, 0x19);
	cmos_write(rtc, REG_B, 0x02);
	clock_ns += 3 * NS_PER_SEC;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x01);
	CHECK_EQ(cmos_read(rtc, MINUTES), 0x00);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x00);
	CHECK_EQ(cmos_read(rtc, DAY_OF_MONTH), 0x01);
	CHECK_EQ(cmos_read(rtc, MONTH), 0x01);
	CHECK_EQ(cmos_read(rtc, YEAR), 0x00);
	CHECK_EQ(cmos_read(rtc, CENTURY), 0x20);
	CHECK_EQ(cmos_read(rtc, DAY_OF_WEEK), 7);
	cmos_rtc_destroy(rtc);
}

static void set_time_starts_its_second_when_set_is_released(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x82);
	cmos_write(rtc, SECONDS, 0x30);
	cmos_write(rtc, REG_B, 0x02);
	clock_ns += NS_PER_SEC - 1;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x30);
	clock_ns += 1;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x31);
	cmos_rtc_destroy(rtc);
}

static void set_bit_freezes_the_time_registers(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x82);
	clock_ns += 10 * NS_PER_SEC;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x07);
	cmos_write(rtc, REG_B, 0x02);
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x07);
	clock_ns += NS_PER_SEC;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x08);
	cmos_rtc_destroy(rtc);
}

static void fields_written_under_set_are_not_normalised_until_release(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x82);
	cmos_write(rtc, DAY_OF_MONTH, 0x31);
	CHECK_EQ(cmos_read(rtc, DAY_OF_MONTH), 0x31);
	cmos_write(rtc, MONTH, 0x03);
	cmos_write(rtc, REG_B, 0x02);
	CHECK_EQ(cmos_read(rtc, DAY_OF_MONTH), 0x31);
	CHECK_EQ(cmos_read(rtc, MONTH), 0x03);
	cmos_rtc_destroy(rtc);
}

static void guest_write_while_running_changes_one_field(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, MINUTES, 0x30);
	CHECK_EQ(cmos_read(rtc, MINUTES), 0x30);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x13);
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x07);
	clock_ns += NS_PER_SEC;
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x08);
	cmos_rtc_destroy(rtc);
}

static void guest_writes_are_decoded_in_binary_12_hour_mode(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x84);
	cmos_write(rtc, HOURS, 0x80 | 7);
	cmos_write(rtc, MINUTES, 5);
	cmos_write(rtc, REG_B, 0x04);
	cmos_write(rtc, REG_B, 0x02);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x19);
	CHECK_EQ(cmos_read(rtc, MINUTES), 0x05);
	cmos_write(rtc, REG_B, 0x00);
	cmos_write(rtc, HOURS, 0x12);
	cmos_write(rtc, REG_B, 0x02);
	CHECK_EQ(cmos_read(rtc, HOURS), 0x00);
	cmos_rtc_destroy(rtc);
}

static void century_register_sets_the_century(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, CENTURY, 0x21);
	CHECK_EQ(cmos_read(rtc, CENTURY), 0x21);
	CHECK_EQ(cmos_read(rtc, YEAR), 0x24);
	CHECK_EQ(cmos_read(rtc, MONTH), 0x02);
	cmos_rtc_destroy(rtc);
}

static void repeated_out_of_range_writes_cannot_run_the_year_away(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	for (int i = 0; i < 1000; i++)
		cmos_write(rtc, MONTH, 0x99);
	cmos_write(rtc, REG_B, 0x06);
	CHECK_EQ(cmos_read(rtc, CENTURY), 99);
	cmos_write(rtc, REG_B, 0x02);
	cmos_write(rtc, REG_B, 0x82);
	cmos_write(rtc, CENTURY, 0x05);
	cmos_write(rtc, REG_B, 0x02);
	CHECK_EQ(cmos_read(rtc, CENTURY), 0x05);
	cmos_rtc_destroy(rtc);
}

static void uip_is_set_only_just_before_a_second_boundary(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	clock_ns = utc(2024, 2, 29, 13, 45, 7, 0);
	CHECK(!(cmos_read(rtc, REG_A) & 0x80));
	clock_ns += NS_PER_SEC / 2;
	CHECK(!(cmos_read(rtc, REG_A) & 0x80));
	clock_ns = utc(2024, 2, 29, 13, 45, 7, 999000000);
	CHECK(!(cmos_read(rtc, REG_A) & 0x80));
	clock_ns = utc(2024, 2, 29, 13, 45, 7, 999900000);
	CHECK(cmos_read(rtc, REG_A) & 0x80);
	clock_ns = utc(2024, 2, 29, 13, 45, 8, 0);
	CHECK(!(cmos_read(rtc, REG_A) & 0x80));
	cmos_rtc_destroy(rtc);
}

/* Linux's mc146818_avoid_UIP() polls every 100 us while UIP is set and gives
 * up after 10 ms. From any point in a second, UIP must clear within a few
 * polls. */
static void uip_is_not_stuck(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);
	int64_t second = utc(2024, 2, 29, 13, 45, 7, 0);
	unsigned worst = 0;

	for (int64_t at = 0; at < NS_PER_SEC; at += 37000) {
		unsigned polls = 0;

		clock_ns = second + at;
		while (cmos_read(rtc, REG_A) & 0x80 && polls < 100) {
			clock_ns += 100000;
			polls++;
		}
		worst = MAX(worst, polls);
	}
	CHECK(worst > 0 && worst <= 3);
	cmos_rtc_destroy(rtc);
}

static void uip_stays_clear_while_set_is_held(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, REG_B, 0x82);
	clock_ns = utc(2024, 2, 29, 13, 45, 7, 999900000);
	CHECK(!(cmos_read(rtc, REG_A) & 0x80));
	cmos_rtc_destroy(rtc);
}

static void register_a_keeps_its_bits_but_uip_is_read_only(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	CHECK_EQ(cmos_read(rtc, REG_A), 0x26);
	cmos_write(rtc, REG_A, 0xa3);
	CHECK_EQ(cmos_read(rtc, REG_A), 0x23);
	cmos_rtc_destroy(rtc);
}

static void register_c_reports_an_update_once_then_reads_clear(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	CHECK_EQ(cmos_read(rtc, REG_C), 0x00);
	clock_ns += NS_PER_SEC;
	CHECK_EQ(cmos_read(rtc, REG_C), 0x10);
	CHECK_EQ(cmos_read(rtc, REG_C), 0x00);
	cmos_rtc_destroy(rtc);
}

static void register_d_reports_valid_ram_and_time(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	CHECK_EQ(cmos_read(rtc, REG_D), 0x80);
	cmos_write(rtc, REG_D, 0x00);
	CHECK_EQ(cmos_read(rtc, REG_D), 0x80);
	cmos_rtc_destroy(rtc);
}

static void nvram_bytes_hold_what_is_written(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	for (unsigned reg = 0x0e; reg < 0x80; reg++)
		if (reg != CENTURY)
			cmos_write(rtc, reg, reg ^ 0xa5);
	for (unsigned reg = 0x0e; reg < 0x80; reg++)
		CHECK(reg == CENTURY || cmos_read(rtc, reg) == (reg ^ 0xa5));
	cmos_rtc_destroy(rtc);
}

static void alarm_registers_are_plain_bytes(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, 0x01, 0x11);
	cmos_write(rtc, 0x03, 0x22);
	cmos_write(rtc, 0x05, 0x33);
	CHECK_EQ(cmos_read(rtc, 0x01), 0x11);
	CHECK_EQ(cmos_read(rtc, 0x03), 0x22);
	CHECK_EQ(cmos_read(rtc, 0x05), 0x33);
	CHECK_EQ(cmos_read(rtc, SECONDS), 0x07);
	cmos_rtc_destroy(rtc);
}

static void index_bit_7_is_the_nmi_mask_and_ignored(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	cmos_write(rtc, 0x80 | 0x40, 0x5a);
	CHECK_EQ(cmos_read(rtc, 0x40), 0x5a);
	CHECK(cmos_read(rtc, 0x80 | 0x40) == 0x5a);
	cmos_rtc_destroy(rtc);
}

static void index_port_reads_as_ff(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);
	uint8_t v;

	cmos_rtc_io_ops.write(rtc, 0, (const uint8_t[]){ 0x10 }, 1);
	cmos_rtc_io_ops.read(rtc, 0, &v, 1);
	CHECK_EQ(v, 0xff);
	cmos_rtc_destroy(rtc);
}

static void wide_access_reaches_index_then_data(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);
	uint8_t data[4];

	cmos_rtc_io_ops.write(rtc, 0, (const uint8_t[]){ 0x40, 0x77 }, 2);
	CHECK_EQ(cmos_read(rtc, 0x40), 0x77);
	cmos_rtc_io_ops.read(rtc, 0, data, 4);
	CHECK(data[0] == 0xff && data[1] == 0x77 && data[2] == 0xff && data[3] == 0xff);
	cmos_rtc_destroy(rtc);
}

static void memory_size_bytes_for_256_mib(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(256), 0);

	CHECK_EQ(cmos_read(rtc, 0x34), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x35), 0x0f);
	CHECK_EQ(cmos_read(rtc, 0x5b), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x5c), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x5d), 0x00);
	cmos_rtc_destroy(rtc);
}

static void memory_size_bytes_for_3_gib_low_and_512_mib_high(void)
{
	struct cmos_rtc *rtc = new_rtc(GiB(3), MiB(512));

	CHECK_EQ(cmos_read(rtc, 0x34), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x35), 0xbf);
	CHECK_EQ(cmos_read(rtc, 0x5b), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x5c), 0x20);
	CHECK_EQ(cmos_read(rtc, 0x5d), 0x00);
	cmos_rtc_destroy(rtc);
}

static void memory_size_bytes_are_zero_below_16_mib(void)
{
	struct cmos_rtc *rtc = new_rtc(MiB(8), 0);

	CHECK_EQ(cmos_read(rtc, 0x34), 0x00);
	CHECK_EQ(cmos_read(rtc, 0x35), 0x00);
	cmos_rtc_destroy(rtc);
}

int main(void)
{
	RUN(reads_bcd_24_hour_time_by_default);
	RUN(reads_binary_time_when_dm_is_set);
	RUN(reads_12_hour_time_with_the_pm_bit);
	RUN(time_follows_the_clock);
	RUN(guest_set_time_keeps_running_from_what_was_set);
	RUN(set_time_starts_its_second_when_set_is_released);
	RUN(set_bit_freezes_the_time_registers);
	RUN(fields_written_under_set_are_not_normalised_until_release);
	RUN(guest_write_while_running_changes_one_field);
	RUN(guest_writes_are_decoded_in_binary_12_hour_mode);
	RUN(century_register_sets_the_century);
	RUN(repeated_out_of_range_writes_cannot_run_the_year_away);
	RUN(uip_is_set_only_just_before_a_second_boundary);
	RUN(uip_is_not_stuck);
	RUN(uip_stays_clear_while_set_is_held);
	RUN(register_a_keeps_its_bits_but_uip_is_read_only);
	RUN(register_c_reports_an_update_once_then_reads_clear);
	RUN(register_d_reports_valid_ram_and_time);
	RUN(nvram_bytes_hold_what_is_written);
	RUN(alarm_registers_are_plain_bytes);
	RUN(index_bit_7_is_the_nmi_mask_and_ignored);
	RUN(index_port_reads_as_ff);
	RUN(wide_access_reaches_index_then_data);
	RUN(memory_size_bytes_for_256_mib);
	RUN(memory_size_bytes_for_3_gib_low_and_512_mib_high);
	RUN(memory_size_bytes_are_zero_below_16_mib);
	return test_done();
}
