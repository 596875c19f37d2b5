/*
 * Unit tests of the 8042 keyboard controller, driven through its two ports
 * as Linux's i8042 driver and reboot code drive them, with a reset callback
 * that counts calls.
 */
#include "test.h"
#include "devices/i8042.h"

#define STATUS_OBF 0x01
#define STATUS_IBF 0x02
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08

static unsigned resets;

static void count_reset(void *ctx)
{
	unsigned *count = ctx;

	(*count)++;
}

static struct i8042 *new_kbc(void)
{
	resets = 0;
	return i8042_create(count_reset, &resets);
}

static uint8_t status(struct i8042 *kbc)
{
	uint8_t v;

	i8042_command_io_ops.read(kbc, 0, &v, 1);
	return v;
}

static void command(struct i8042 *kbc, uint8_t cmd)
{
	i8042_command_io_ops.write(kbc, 0, &cmd, 1);
}

static uint8_t read_data(struct i8042 *kbc)
{
	uint8_t v;

	i8042_data_io_ops.read(kbc, 0, &v, 1);
	return v;
}

static void write_data(struct i8042 *kbc, uint8_t v)
{
	i8042_data_io_ops.write(kbc, 0, &v, 1);
}

static void self_test_replies_0x55(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xaa);
	CHECK(status(kbc) & STATUS_OBF);
	CHECK_EQ(read_data(kbc), 0x55);
	i8042_destroy(kbc);
}

static void interface_tests_reply_0x00(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xab);
	CHECK_EQ(read_data(kbc), 0x00);
	command(kbc, 0xa9);
	CHECK(status(kbc) & STATUS_OBF);
	CHECK_EQ(read_data(kbc), 0x00);
	i8042_destroy(kbc);
}

static void command_byte_round_trips(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0x60);
	write_data(kbc, 0x47);
	command(kbc, 0x20);
	CHECK_EQ(read_data(kbc), 0x47);
	command(kbc, 0x60);
	write_data(kbc, 0x00);
	command(kbc, 0x20);
	CHECK_EQ(read_data(kbc), 0x00);
	i8042_destroy(kbc);
}

static void data_byte_without_a_command_leaves_the_command_byte(void)
{
	struct i8042 *kbc = new_kbc();
	uint8_t before;

	command(kbc, 0x20);
	before = read_data(kbc);
	write_data(kbc, 0xf2);
	command(kbc, 0x20);
	CHECK_EQ(read_data(kbc), before);
	CHECK_EQ(resets, 0);
	i8042_destroy(kbc);
}

/* Linux's i8042_check_aux() bit assignment test. */
static void aux_disable_and_enable_show_in_the_command_byte(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xa8);
	command(kbc, 0x20);
	CHECK(!(read_data(kbc) & 0x20));
	command(kbc, 0xa7);
	command(kbc, 0x20);
	CHECK(read_data(kbc) & 0x20);
	command(kbc, 0xa8);
	command(kbc, 0x20);
	CHECK(!(read_data(kbc) & 0x20));
	i8042_destroy(kbc);
}

static void keyboard_disable_and_enable_show_in_the_command_byte(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xad);
	command(kbc, 0x20);
	CHECK(read_data(kbc) & 0x10);
	command(kbc, 0xae);
	command(kbc, 0x20);
	CHECK(!(read_data(kbc) & 0x10));
	i8042_destroy(kbc);
}

static void pulse_reset_command_resets_once(void)
{
	struct i8042 *kbc = new_kbc();

	CHECK(!(status(kbc) & STATUS_IBF));
	command(kbc, 0xfe);
	CHECK_EQ(resets, 1);
	i8042_destroy(kbc);
}

static void output_port_write_with_bit_0_clear_resets_once(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xd1);
	CHECK_EQ(resets, 0);
	write_data(kbc, 0xfe);
	CHECK_EQ(resets, 1);
	write_data(kbc, 0xfe);
	CHECK_EQ(resets, 1);
	i8042_destroy(kbc);
}

/* Linux's i8042_platform_init() enables A20 this way. */
static void output_port_write_with_bit_0_set_does_not_reset(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xd1);
	write_data(kbc, 0xdf);
	CHECK_EQ(resets, 0);
	i8042_destroy(kbc);
}

/* ...and then sends 0xff as a null command. */
static void null_command_0xff_does_not_reset(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xff);
	CHECK_EQ(resets, 0);
	i8042_destroy(kbc);
}

static void status_obf_is_set_while_data_is_pending(void)
{
	struct i8042 *kbc = new_kbc();

	CHECK(!(status(kbc) & STATUS_OBF));
	command(kbc, 0x20);
	CHECK(status(kbc) & STATUS_OBF);
	read_data(kbc);
	CHECK(!(status(kbc) & STATUS_OBF));
	i8042_destroy(kbc);
}

static void status_never_reports_the_input_buffer_full(void)
{
	struct i8042 *kbc = new_kbc();

	CHECK(!(status(kbc) & STATUS_IBF));
	command(kbc, 0x60);
	CHECK(!(status(kbc) & STATUS_IBF));
	write_data(kbc, 0x45);
	CHECK(!(status(kbc) & STATUS_IBF));
	i8042_destroy(kbc);
}

static void status_system_flag_follows_the_command_byte(void)
{
	struct i8042 *kbc = new_kbc();

	CHECK(status(kbc) & STATUS_SYS);
	command(kbc, 0x60);
	write_data(kbc, 0x00);
	CHECK(!(status(kbc) & STATUS_SYS));
	command(kbc, 0xaa);
	CHECK(status(kbc) & STATUS_SYS);
	i8042_destroy(kbc);
}

static void status_tells_which_port_was_written_last(void)
{
	struct i8042 *kbc = new_kbc();

	command(kbc, 0xae);
	CHECK(status(kbc) & STATUS_CMD);
	write_data(kbc, 0x00);
	CHECK(!(status(kbc) & STATUS_CMD));
	i8042_destroy(kbc);
}

static void status_reports_the_keyboard_unlocked(void)
{
	struct i8042 *kbc = new_kbc();

	CHECK(status(kbc) & 0x10);
	i8042_destroy(kbc);
}

static void wide_reads_fill_the_other_lanes_with_ff(void)
{
	struct i8042 *kbc = new_kbc();
	uint8_t data[4];

	command(kbc, 0xaa);
	i8042_data_io_ops.read(kbc, 0, data, 4);
	CHECK(data[0] == 0x55 && data[1] == 0xff && data[2] == 0xff && data[3] == 0xff);
	i8042_destroy(kbc);
}

static void create_refuses_a_null_reset_callback(void)
{
	CHECK(i8042_create(NULL, NULL) == NULL);
}

int main(void)
{
	RUN(self_test_replies_0x55);
	RUN(interface_tests_reply_0x00);
	RUN(command_byte_round_trips);
	RUN(data_byte_without_a_command_leaves_the_command_byte);
	RUN(aux_disable_and_enable_show_in_the_command_byte);
	RUN(keyboard_disable_and_enable_show_in_the_command_byte);
	RUN(pulse_reset_command_resets_once);
	RUN(output_port_write_with_bit_0_clear_resets_once);
	RUN(output_port_write_with_bit_0_set_does_not_reset);
	RUN(null_command_0xff_does_not_reset);
	RUN(status_obf_is_set_while_data_is_pending);
	RUN(status_never_reports_the_input_buffer_full);
	RUN(status_system_flag_follows_the_command_byte);
	RUN(status_tells_which_port_was_written_last);
	RUN(status_reports_the_keyboard_unlocked);
	RUN(wide_reads_fill_the_other_lanes_with_ff);
	RUN(create_refuses_a_null_reset_callback);
	return test_done();
}
