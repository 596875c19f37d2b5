/*
 * key=value lists, as command-line options for devices take them:
 * "path=/srv/web.img,ro,serial=web0". Items are separated by commas; an item
 * without '=' is a flag (value NULL). A comma inside a value is written ",,"
 * (as QEMU does), so any path can be given. keyval_next() walks the list one
 * item at a time into caller buffers and never writes past them.
 */
#ifndef CORRAL_COMMON_KEYVAL_H
#define CORRAL_COMMON_KEYVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYVAL_KEY_MAX   32
#define KEYVAL_VALUE_MAX 4096

struct keyval {
	char key[KEYVAL_KEY_MAX];
	char value[KEYVAL_VALUE_MAX];
	bool has_value;			/* false for a flag such as "ro" */
};

/*
 * Reads the next item from *pos and advances it. Returns 1 for an item, 0 at
 * the end of the list, -EINVAL for an empty key or -ENAMETOOLONG for a key
 * or value longer than the buffers (after logging which, with `what`, e.g.
 * "--disk").
 */
int keyval_next(const char **pos, struct keyval *kv, const char *what);

/* Parses an unsigned decimal value no larger than max; -EINVAL (logged) if not. */
int keyval_uint(const struct keyval *kv, const char *what, unsigned max, unsigned *out);

#endif
