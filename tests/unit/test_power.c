/* ACPI PM1 registers (power button, S5) and pvpanic. */
#include "test.h"
#include "devices/acpi_pm.h"
#include "devices/pvpanic.h"

#include <time.h>

struct recorder {
	unsigned irq_changes;
	bool irq_level;
	unsigned poweroffs;
	unsigned panics;
};

static void record_irq(void *ctx, unsigned gsi, bool high)
{
	struct recorder *r = ctx;

	(void)gsi;
	r->irq_changes++;
	r->irq_level = high;
}

static void record_poweroff(void *ctx)
{
	((struct recorder *)ctx)->poweroffs++;
}

static void record_panic(void *ctx)
{
	((struct recorder *)ctx)->panics++;
}

static struct acpi_pm *make_pm(struct recorder *r)
{
	struct irq_line sci = { .set = record_irq, .machine = r, .gsi = 9 };

	*r = (struct recorder){ 0 };
	return acpi_pm_create(&sci, record_poweroff, r);
}

static void pm_write16(struct acpi_pm *pm, uint16_t offset, uint16_t v)
{
	uint8_t data[2];

	io_data_put(data, 2, v);
	acpi_pm_io_ops.write(pm, offset, data, 2);
}

static uint32_t pm_read(struct acpi_pm *pm, uint16_t offset, unsigned size)
{
	uint8_t data[4];

	acpi_pm_io_ops.read(pm, offset, data, size);
	return io_data_get(data, size);
}

static void power_button_sets_status_without_sci_until_enabled(void)
{
	struct recorder r;
	struct acpi_pm *pm = make_pm(&r);

	acpi_pm_press_power_button(pm);
	CHECK(pm_read(pm, ACPI_PM1_EVT_OFFSET, 2) & 0x100);
	CHECK_EQ(r.irq_changes, 0);
	pm_write16(pm, ACPI_PM1_EVT_OFFSET + 2, 0x100);   /* PWRBTN_EN */
	CHECK(r.irq_level);
	acpi_pm_destroy(pm);
}

static void clearing_status_lowers_sci(void)
{
	struct recorder r;
	struct acpi_pm *pm = make_pm(&r);

	pm_write16(pm, ACPI_PM1_EVT_OFFSET + 2, 0x100);
	acpi_pm_press_power_button(pm);
	CHECK(r.irq_level);
	pm_write16(pm, ACPI_PM1_EVT_OFFSET, 0x0001);      /* other bit: no effect */
	CHECK(r.irq_level);
	pm_write16(pm, ACPI_PM1_EVT_OFFSET, 0x0100);      /* write 1 to clear */
	CHECK(!r.irq_level);
	CHECK_EQ(pm_read(pm, ACPI_PM1_EVT_OFFSET, 2), 0);
	CHECK_EQ(r.irq_changes, 2);
	acpi_pm_destroy(pm);
}

static void sleep_type_5_powers_off(void)
{
	struct recorder r;
	struct acpi_pm *pm = make_pm(&r);

	pm_write16(pm, ACPI_PM1_CNT_OFFSET, 5 << 10);     /* SLP_TYP alone: nothing */
	CHECK_EQ(r.poweroffs, 0);
	pm_write16(pm, ACPI_PM1_CNT_OFFSET, 5 << 10 | 1 << 13);
	CHECK_EQ(r.poweroffs, 1);
	CHECK(!(pm_read(pm, ACPI_PM1_CNT_OFFSET, 2) & (1 << 13)));
	acpi_pm_destroy(pm);
}

static void other_sleep_types_do_not_power_off(void)
{
	struct recorder r;
	struct acpi_pm *pm = make_pm(&r);

	pm_write16(pm, ACPI_PM1_CNT_OFFSET, 3 << 10 | 1 << 13);
	CHECK_EQ(r.poweroffs, 0);
	acpi_pm_destroy(pm);
}

static void sci_en_always_reads_set(void)
{
	struct recorder r;
	struct acpi_pm *pm = make_pm(&r);

	pm_write16(pm, ACPI_PM1_CNT_OFFSET, 0);
	CHECK(pm_read(pm, ACPI_PM1_CNT_OFFSET, 2) & 1);
	acpi_pm_destroy(pm);
}

static void pm_timer_advances_within_24_bits(void)
{
	struct recorder r;
	struct acpi_pm *pm = make_pm(&r);
	struct timespec ms = { .tv_nsec = 2000000 };
	uint32_t a, b;

	a = pm_read(pm, ACPI_PM_TMR_OFFSET, 4);
	nanosleep(&ms, NULL);
	b = pm_read(pm, ACPI_PM_TMR_OFFSET, 4);
	CHECK(a <= 0xffffff && b <= 0xffffff);
	CHECK(((b - a) & 0xffffff) >= 7000);              /* 2 ms at 3.58 MHz */
	acpi_pm_destroy(pm);
}

static void pvpanic_reports_panic_once_written(void)
{
	struct recorder r = { 0 };
	struct pvpanic *p = pvpanic_create(record_panic, &r);
	uint8_t data = 0;

	pvpanic_io_ops.read(p, 0, &data, 1);
	CHECK_EQ(data, 3);
	data = 2;                                         /* crash kernel loaded */
	pvpanic_io_ops.write(p, 0, &data, 1);
	CHECK_EQ(r.panics, 0);
	data = 1;
	pvpanic_io_ops.write(p, 0, &data, 1);
	CHECK_EQ(r.panics, 1);
	pvpanic_destroy(p);
}

int main(void)
{
	RUN(power_button_sets_status_without_sci_until_enabled);
	RUN(clearing_status_lowers_sci);
	RUN(sleep_type_5_powers_off);
	RUN(other_sleep_types_do_not_power_off);
	RUN(sci_en_always_reads_set);
	RUN(pm_timer_advances_within_24_bits);
	RUN(pvpanic_reports_panic_once_written);
	return test_done();
}
