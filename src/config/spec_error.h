/*
 * Small helpers shared by the parsers of one-line specs (disk_spec,
 * vif_spec): they report a failure as one line of text in a caller's buffer
 * and return -EINVAL (or -ENOMEM), keep copies of values, and trim the
 * blanks xl allows around comma-separated items.
 */
#ifndef CORRAL_CONFIG_SPEC_ERROR_H
#define CORRAL_CONFIG_SPEC_ERROR_H

#include <stddef.h>

struct spec_error {
	char *buf;
	size_t len;
};

/* Writes the message into e->buf; returns -EINVAL. */
__attribute__((format(printf, 2, 3)))
int spec_fail(struct spec_error *e, const char *fmt, ...);

/* "out of memory"; returns -ENOMEM. */
int spec_nomem(struct spec_error *e);

/* *field = strdup(value); 0 or spec_nomem(). */
int spec_keep(struct spec_error *e, char **field, const char *value);

/* Cuts leading and trailing white space off s, in place. */
char *spec_trim(char *s);

#endif
