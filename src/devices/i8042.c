/*
 * 8042 keyboard controller. Commands and bits follow the IBM PC/AT
 * Technical Reference ("Keyboard Controller") as PS/2 systems extended it,
 * and what Linux's drivers/input/serio/i8042.c and arch/x86/kernel/reboot.c
 * send.
 */
#include "devices/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_OBF	0x01	/* output buffer full: a byte waits on port 0x60 */
#define STATUS_SYS	0x04	/* system flag */
#define STATUS_CMD	0x08	/* the last byte written went to port 0x64 */
#define STATUS_UNLOCKED	0x10	/* keyboard not inhibited by the keylock */

#define CTR_SYS		0x04	/* the system flag, mirrored in the status */
#define CTR_KBD_DISABLE	0x10
#define CTR_AUX_DISABLE	0x20
/* Keyboard and its interrupt enabled with scancode translation, AUX port
 * disabled, system flag set: the state firmware leaves after POST. */
#define CTR_DEFAULT	0x65

enum {
	CMD_READ_CTR = 0x20,
	CMD_WRITE_CTR = 0x60,
	CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8,
	CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad,
	CMD_KBD_ENABLE = 0xae,
	CMD_WRITE_OUTPUT_PORT = 0xd1,
	CMD_PULSE_OUTPUT_PORT = 0xf0,	/* 0xf0-0xff */
};

#define SELF_TEST_PASSED	0x55
#define INTERFACE_TEST_PASSED	0x00

/* Output port bit 0 drives the CPU reset line, active low. */
#define OUTPUT_PORT_NOT_RESET	0x01

struct i8042 {
	pthread_mutex_t lock;
	void (*reset)(void *ctx);
	void *reset_ctx;

	uint8_t ctr;		/* the command byte */
	uint8_t output;		/* the output buffer */
	bool output_full;
	bool last_write_was_command;
	uint8_t pending;	/* a command waiting for its data byte, or 0 */
};

static void i8042_put_output(struct i8042 *kbc, uint8_t v)
{
	kbc->output = v;
	kbc->output_full = true;
}

/* The input buffer is never reported full: the controller takes each byte
 * at once, so the kernel's kb_wait() never waits. */
static uint8_t i8042_read_status(const struct i8042 *kbc)
{
	return (kbc->output_full ? STATUS_OBF : 0) |
	       (kbc->ctr & CTR_SYS ? STATUS_SYS : 0) |
	       (kbc->last_write_was_command ? STATUS_CMD : 0) |
	       STATUS_UNLOCKED;
}

/* Reading the data port empties the output buffer; reading it empty
 * returns the last byte again, as the hardware latch does. */
static uint8_t i8042_read_data(struct i8042 *kbc)
{
	kbc->output_full = false;
	return kbc->output;
}

/* Runs a command written to port 0x64; returns true if it resets. */
static bool i8042_run_command(struct i8042 *kbc, uint8_t cmd)
{
	kbc->pending = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_put_output(kbc, kbc->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT_PORT:
		kbc->pending = cmd;
		break;
	case CMD_AUX_DISABLE:
		kbc->ctr |= CTR_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		kbc->ctr &= ~CTR_AUX_DISABLE;
		break;
	case CMD_KBD_DISABLE:
		kbc->ctr |= CTR_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		kbc->ctr &= ~CTR_KBD_DISABLE;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		i8042_put_output(kbc, INTERFACE_TEST_PASSED);
		break;
	case CMD_SELF_TEST:
		/* A passed self-test sets the system flag. */
		kbc->ctr |= CTR_SYS;
		i8042_put_output(kbc, SELF_TEST_PASSED);
		break;
	default:
		/* 0xf0-0xff pulse the output port lines whose bits are clear
		 * in the command's low nibble: 0xfe pulses reset, and 0xff,
		 * which Linux sends as a null command, pulses nothing. */
		return cmd >= CMD_PULSE_OUTPUT_PORT && !(cmd & OUTPUT_PORT_NOT_RESET);
	}
	return false;
}

/* Takes a byte written to port 0x60: the data of a pending command, or
 * else a byte for the keyboard, which is not there. Returns true if it
 * resets. */
static bool i8042_write_data(struct i8042 *kbc, uint8_t v)
{
	uint8_t cmd = kbc->pending;

	kbc->pending = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		kbc->ctr = v;
		return false;
	case CMD_WRITE_OUTPUT_PORT:
		/* Linux writes 0xdf here to enable A20: no reset. */
		return !(v & OUTPUT_PORT_NOT_RESET);
	}
	return false;
}

/* Each port is 8 bits wide: a wider read gets 0xff in the lanes beyond it
 * (the neighbouring ports are not this device's), a wider write uses the
 * low byte. */
static void i8042_read(struct i8042 *kbc, bool command_port, uint8_t *data, unsigned size)
{
	pthread_mutex_lock(&kbc->lock);
	memset(data, 0xff, size);
	data[0] = command_port ? i8042_read_status(kbc) : i8042_read_data(kbc);
	pthread_mutex_unlock(&kbc->lock);
}

static void i8042_write(struct i8042 *kbc, bool command_port, const uint8_t *data)
{
	bool reset;

	pthread_mutex_lock(&kbc->lock);
	kbc->last_write_was_command = command_port;
	reset = command_port ? i8042_run_command(kbc, data[0]) : i8042_write_data(kbc, data[0]);
	pthread_mutex_unlock(&kbc->lock);
	if (reset)
		kbc->reset(kbc->reset_ctx);
}

static void i8042_data_io_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	(void)offset;
	i8042_read(dev, false, data, size);
}

static void i8042_data_io_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	(void)offset;
	(void)size;
	i8042_write(dev, false, data);
}

static void i8042_command_io_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	(void)offset;
	i8042_read(dev, true, data, size);
}

static void i8042_command_io_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	(void)offset;
	(void)size;
	i8042_write(dev, true, data);
}

const struct io_ops i8042_data_io_ops = {
	.read = i8042_data_io_read,
	.write = i8042_data_io_write,
};

const struct io_ops i8042_command_io_ops = {
	.read = i8042_command_io_read,
	.write = i8042_command_io_write,
};

struct i8042 *i8042_create(void (*reset)(void *ctx), void *ctx)
{
	struct i8042 *kbc;
	int err;

	if (!reset) {
		errno = EINVAL;
		return NULL;
	}
	kbc = calloc(1, sizeof(*kbc));
	if (!kbc)
		return NULL;
	err = pthread_mutex_init(&kbc->lock, NULL);
	if (err) {
		free(kbc);
		errno = err;
		return NULL;
	}
	kbc->reset = reset;
	kbc->reset_ctx = ctx;
	kbc->ctr = CTR_DEFAULT;
	return kbc;
}

void i8042_destroy(struct i8042 *kbc)
{
	if (!kbc)
		return;
	pthread_mutex_destroy(&kbc->lock);
	free(kbc);
}
