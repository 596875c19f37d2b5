/*
 * The PC's 8042 keyboard controller, without a keyboard or mouse attached.
 *
 * Guests use it to reset the machine: Linux's reboot fallback pulses the
 * reset line with command 0xfe, and older code writes the output port with
 * its reset bit clear. It also answers the probe of a driver such as Linux's
 * i8042 (self-test, interface tests, the command byte), so the driver finds
 * a working controller with nothing plugged in. Resets are reported through
 * the callback given at creation, which the VMM turns into a reboot.
 *
 * The controller owns two ports that are not adjacent: register
 * i8042_data_io_ops as a 1-port range at I8042_DATA_PORT and
 * i8042_command_io_ops as a 1-port range at I8042_COMMAND_PORT, with the
 * same device pointer.
 *
 * Locking: every register access takes the device's lock; the reset
 * callback runs without it, on the vCPU thread that asked for the reset,
 * once for each request (a guest may ask again before the VMM stops it).
 */
#ifndef CORRAL_DEVICES_I8042_H
#define CORRAL_DEVICES_I8042_H

#include "devices/device.h"

#define I8042_DATA_PORT    0x60
#define I8042_COMMAND_PORT 0x64	/* status register when read */

struct i8042;

/* reset must not be NULL. Returns NULL with errno set on failure. */
struct i8042 *i8042_create(void (*reset)(void *ctx), void *ctx);
void i8042_destroy(struct i8042 *kbc);

extern const struct io_ops i8042_data_io_ops;
extern const struct io_ops i8042_command_io_ops;

#endif
