#include "config/xlcfg_value.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int xlcfg_value_error(struct diag *d, const struct xlcfg_value *v, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(d, v->source, v->pos, "%s", msg);
	return -EINVAL;
}

static const char *type_name(enum xlcfg_type t)
{
	return t == XLCFG_STRING ? "a string" : t == XLCFG_NUMBER ? "a number" : "a list";
}

int xlcfg_want_type(struct diag *d, const char *key, const struct xlcfg_value *v,
		    enum xlcfg_type t)
{
	if (v->type == t)
		return 0;
	if (t == XLCFG_NUMBER && v->type == XLCFG_STRING)
		return xlcfg_value_error(d, v, "%s must be a number, not a string (write it "
					 "without quotes)", key);
	return xlcfg_value_error(d, v, "%s must be %s, not %s", key, type_name(t),
				 type_name(v->type));
}

int xlcfg_take_number(struct diag *d, const char *key, const struct xlcfg_value *v,
		      long long min, long long max, const char *unit, long long *out)
{
	int err = xlcfg_want_type(d, key, v, XLCFG_NUMBER);

	if (err)
		return err;
	if (v->number < min || v->number > max)
		return xlcfg_value_error(d, v, "%s = %lld is out of range (%lld to %lld%s)", key,
					 v->number, min, max, unit);
	*out = v->number;
	return 0;
}

int xlcfg_for_each_string(struct diag *d, const char *key, const struct xlcfg_value *v,
			  int (*fn)(void *ctx, const struct xlcfg_value *item), void *ctx)
{
	int status = 0;

	if (v->type == XLCFG_STRING)
		return fn(ctx, v);
	if (v->type != XLCFG_LIST)
		return xlcfg_want_type(d, key, v, XLCFG_LIST);
	for (size_t i = 0; i < v->nitems; i++) {
		int err = xlcfg_want_type(d, key, v->items[i], XLCFG_STRING);

		if (!err)
			err = fn(ctx, v->items[i]);
		if (err == -ENOMEM)
			return err;
		if (err)
			status = err;
	}
	return status;
}
