#include "devices/pvpanic.h"
#include "common/log.h"

#include <stdlib.h>

/* Event bits, as in QEMU's docs/specs/pvpanic.txt and Linux's pvpanic.h. */
#define PVPANIC_PANICKED     (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)

struct pvpanic {
	void (*panicked)(void *ctx);
	void *ctx;
};

struct pvpanic *pvpanic_create(void (*panicked)(void *ctx), void *ctx)
{
	struct pvpanic *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->panicked = panicked;
	p->ctx = ctx;
	return p;
}

void pvpanic_destroy(struct pvpanic *p)
{
	free(p);
}

static void pvpanic_read(void *dev, uint16_t offset, uint8_t *data, unsigned size)
{
	(void)dev;
	(void)offset;
	io_data_put(data, size, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
}

static void pvpanic_write(void *dev, uint16_t offset, const uint8_t *data, unsigned size)
{
	struct pvpanic *p = dev;
	uint32_t events = io_data_get(data, size);

	(void)offset;
	/* CRASH_LOADED means a kdump kernel takes over: the guest goes on. */
	if (events & PVPANIC_CRASH_LOADED)
		log_info("guest panicked; its crash kernel is taking over");
	else if (events & PVPANIC_PANICKED)
		p->panicked(p->ctx);
}

const struct io_ops pvpanic_io_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};
