/*
 * Reading the values of a parsed xl.cfg-syntax file (xlcfg.h) with
 * messages at the value's place: the checks every file that uses the
 * syntax makes, domain files (domain_config.h) and network definitions
 * (net/netdef.h) alike. Each reports through diag as file:line:col and
 * returns -EINVAL (or -ENOMEM); 0 if the value is good.
 */
#ifndef CORRAL_CONFIG_XLCFG_VALUE_H
#define CORRAL_CONFIG_XLCFG_VALUE_H

#include "config/xlcfg.h"

/* Reports an error at v's place; returns -EINVAL. */
__attribute__((format(printf, 3, 4)))
int xlcfg_value_error(struct diag *d, const struct xlcfg_value *v, const char *fmt, ...);

/* That v is of type t ("memory must be a number, not a string ..."). */
int xlcfg_want_type(struct diag *d, const char *key, const struct xlcfg_value *v,
		    enum xlcfg_type t);

/* A number from min to max (`unit` follows max in the message, e.g. " MiB"). */
int xlcfg_take_number(struct diag *d, const char *key, const struct xlcfg_value *v,
		      long long min, long long max, const char *unit, long long *out);

/*
 * Calls fn(ctx, item) for each item of a list of strings; a lone string is
 * a one-item list, as xl allows for disk and vif. Every bad item is
 * reported, not just the first; returns the last error.
 */
int xlcfg_for_each_string(struct diag *d, const char *key, const struct xlcfg_value *v,
			  int (*fn)(void *ctx, const struct xlcfg_value *item), void *ctx);

#endif
