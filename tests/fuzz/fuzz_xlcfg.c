/*
 * libFuzzer target for the xl.cfg parser: any bytes must parse into
 * settings or be refused with messages, without reading or writing out of
 * bounds or leaking. The input is parsed twice into the same cfg, the second
 * time from its middle on, as command-line overrides are merged into a file.
 */
#include "config/xlcfg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void parse(struct xlcfg *cfg, const uint8_t *data, size_t size, const char *source,
		  struct diag *d)
{
	unsigned errors = d->errors;
	int r = xlcfg_parse(cfg, (const char *)data, size, source, d);

	check(r == 0 || r == -EINVAL || r == -ENOMEM);
	check((r == -EINVAL) == (d->errors > errors) || r == -ENOMEM);
}

static void check_value(const struct xlcfg_value *v)
{
	check(v && v->source && v->pos.line && v->pos.col);
	if (v->type == XLCFG_LIST) {
		for (size_t i = 0; i < v->nitems; i++)
			check_value(v->items[i]);
	} else {
		check(v->text != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlcfg cfg;
	struct diag d;

	xlcfg_init(&cfg);
	diag_init(&d);
	parse(&cfg, data, size, "fuzz.cfg", &d);
	parse(&cfg, data + size / 2, size - size / 2, "<command line>", &d);
	for (size_t i = 0; i < cfg.nsettings; i++) {
		check(xlcfg_get(&cfg, cfg.settings[i].key) == &cfg.settings[i]);
		check_value(cfg.settings[i].value);
	}
	xlcfg_free(&cfg);
	diag_free(&d);
	return 0;
}
