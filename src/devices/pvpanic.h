/*
 * pvpanic: the guest's way to say it panicked.
 *
 * One I/O port (QEMU's ISA pvpanic interface, ACPI id QEMU0001, which
 * Linux's pvpanic driver binds to). Reading it returns the events we support;
 * a guest that panics writes PANICKED, and the VMM treats that as a crash
 * instead of waiting for the guest to reboot or hang.
 */
#ifndef CORRAL_DEVICES_PVPANIC_H
#define CORRAL_DEVICES_PVPANIC_H

#include "devices/device.h"

#define PVPANIC_PORT_LEN 1

struct pvpanic;

/* `panicked` is called from the vCPU thread that reports the panic. */
struct pvpanic *pvpanic_create(void (*panicked)(void *ctx), void *ctx);
void pvpanic_destroy(struct pvpanic *p);

extern const struct io_ops pvpanic_io_ops;

#endif
