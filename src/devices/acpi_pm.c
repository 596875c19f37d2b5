#include "devices/acpi_pm.h"
#include "common/util.h"

#include <pthread.h>
#include <stdlib.h>

/* ACPI 6.4, 4.8.3.1: PM1 status and enable bits. */
#define PM1_PWRBTN       (1u << 8)
/* 4.8.3.2.1: PM1 control. */
#define PM1_CNT_SCI_EN   (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK  (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN   (1u << 13)
/* 4.8.3.3: the PM timer runs at 3.579545 MHz; we implement 24 bits. */
#define PM_TIMER_HZ      3579545ull
#define PM_TIMER_MASK    0xffffffu

struct acpi_pm {
	pthread_mutex_t lock;
	uint16_t status;
	uint16_t enable;
	uint16_t control;
	bool sci_high;
	uint64_t start_ns;
	struct irq_line sci;
	void (*poweroff)(void *ctx);
	void *ctx;
};

struct acpi_pm *acpi_pm_create(const struct irq_line *sci,
			       void (*poweroff)(void *ctx), void *ctx)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = *sci;
	pm->poweroff = poweroff;
	pm->ctx = ctx;
	pm->start_ns = monotonic_ns();
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

/* The SCI is level-triggered: high while an enabled event is pending. */
static void update_sci(struct acpi_pm *pm)
{
	bool high = pm->status & pm->enable & PM1_PWRBTN;

	if (high != pm->sci_high) {
		pm->sci_high = high;
		irq_line_set(&pm->sci, high);
	}
}

void acpi_pm_press_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->status |= PM1_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint32_t pm_timer_now(const struct acpi_pm *pm)
{
	uint64_t ns = monotonic_ns() - pm->start_ns;
	uint64_t ticks = ns / 1000000000u * PM_TIMER_HZ +
			 ns % 1000000000u * PM_TIMER_HZ / 1000000000u;

	return ticks & PM_TIMER_MASK;
}

/* The registers as one little-endian byte array, so any access size works. */
static uint8_t read_byte(const struct acpi_pm *pm, unsigned offset, uint32_t timer)
{
	switch (offset) {
	case 0: case 1: return pm->status >> (8 * offset);
	case 2: case 3: return pm->enable >> (8 * (offset - 2));
	case 4: case 5: return (pm->control | PM1_CNT_SCI_EN) >> (8 * (offset - 4));
	case 8: case 9: case 10: case 11: return timer >> (8 * (offset - 8));
	default: return 0xff;
	}
}

static void acpi_pm_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	uint32_t timer = pm_timer_now(pm);

	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size; i++)
		data[i] = read_byte(pm, offset + i, timer);
	pthread_mutex_unlock(&pm->lock);
}

static void set_byte(uint16_t *reg, unsigned which, uint8_t value)
{
	*reg = (*reg & ~(0xffu << (8 * which))) | (uint16_t)value << (8 * which);
}

/* Returns true if the write put the machine into S5. */
static bool write_byte(struct acpi_pm *pm, unsigned offset, uint8_t value)
{
	switch (offset) {
	case 0: case 1:
		/* Status bits are cleared by writing 1 (4.8.3.1.1). */
		pm->status &= ~((uint16_t)value << (8 * offset));
		return false;
	case 2: case 3:
		set_byte(&pm->enable, offset - 2, value);
		return false;
	case 4: case 5:
		set_byte(&pm->control, offset - 4, value);
		if (!(pm->control & PM1_CNT_SLP_EN))
			return false;
		pm->control &= ~PM1_CNT_SLP_EN;   /* SLP_EN is write-only, reads as 0 */
		return ((pm->control & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT) ==
		       ACPI_SLP_TYP_S5;
	default:
		return false;   /* the timer is read-only */
	}
}

static void acpi_pm_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	struct acpi_pm *pm = dev;
	bool off = false;

	pthread_mutex_lock(&pm->lock);
	/* SLP_TYP and SLP_EN share PM1_CNT's high byte, so they arrive together. */
	for (unsigned i = 0; i < size; i++)
		off |= write_byte(pm, offset + i, data[i]);
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (off && pm->poweroff)
		pm->poweroff(pm->ctx);
}

const struct io_ops acpi_pm_io_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};
