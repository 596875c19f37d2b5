/* The port bus: registration, dispatch, and accesses nobody claims. */
#include "test.h"
#include "vmm/ioport.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>

struct fake_dev {
	uint16_t last_offset;
	unsigned last_size;
	uint32_t last_value;
	unsigned reads, writes;
};

static void fake_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	struct fake_dev *d = dev;

	d->reads++;
	d->last_offset = offset;
	d->last_size = size;
	io_data_put(data, size, 0xa0 + offset);
}

static void fake_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	struct fake_dev *d = dev;

	d->writes++;
	d->last_offset = offset;
	d->last_size = size;
	d->last_value = io_data_get(data, size);
}

static const struct io_ops fake_ops = { .read = fake_read, .write = fake_write };

static void dispatches_with_offset_from_base(void)
{
	struct ioport_bus *bus = calloc(1, sizeof(*bus));
	struct fake_dev d = { 0 };
	uint8_t data[4] = { 0x34, 0x12 };

	CHECK_EQ(ioport_register(bus, "fake", 0x3f8, 8, &fake_ops, &d), 0);
	CHECK(ioport_dispatch(bus, 0x3fb, true, data, 2));
	CHECK_EQ(d.last_offset, 3);
	CHECK_EQ(d.last_value, 0x1234);
	CHECK(ioport_dispatch(bus, 0x3f8, false, data, 1));
	CHECK_EQ(data[0], 0xa0);
	free(bus);
}

static void refuses_overlapping_ranges(void)
{
	struct ioport_bus *bus = calloc(1, sizeof(*bus));
	struct fake_dev d = { 0 };

	CHECK_EQ(ioport_register(bus, "a", 0x70, 2, &fake_ops, &d), 0);
	CHECK_EQ(ioport_register(bus, "b", 0x71, 2, &fake_ops, &d), -EBUSY);
	CHECK_EQ(ioport_register(bus, "c", 0xfffe, 4, &fake_ops, &d), -EINVAL);
	CHECK_EQ(ioport_register(bus, "d", 0x72, 0, &fake_ops, &d), -EINVAL);
	free(bus);
}

static void unclaimed_reads_float_high(void)
{
	struct ioport_bus *bus = calloc(1, sizeof(*bus));
	uint8_t data[4] = { 0 };

	CHECK(!ioport_dispatch(bus, 0x2f8, false, data, 4));
	CHECK_EQ(data[0] & data[1] & data[2] & data[3], 0xff);
	CHECK(!ioport_dispatch(bus, 0x2f8, true, data, 4));
	free(bus);
}

static void access_past_device_end_is_cut(void)
{
	struct ioport_bus *bus = calloc(1, sizeof(*bus));
	struct fake_dev d = { 0 };
	uint8_t data[4] = { 0 };

	CHECK_EQ(ioport_register(bus, "one", 0x505, 1, &fake_ops, &d), 0);
	CHECK(ioport_dispatch(bus, 0x505, false, data, 4));
	CHECK_EQ(d.last_size, 1);
	CHECK_EQ(data[0], 0xa0);
	CHECK_EQ(data[3], 0xff);
	free(bus);
}

int main(void)
{
	log_init("test_ioport", LOG_LEVEL_ERROR);
	RUN(dispatches_with_offset_from_base);
	RUN(refuses_overlapping_ranges);
	RUN(unclaimed_reads_float_high);
	RUN(access_past_device_end_is_cut);
	return test_done();
}
