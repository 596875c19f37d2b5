#include "config/spec_error.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int spec_fail(struct spec_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->buf, e->len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int spec_nomem(struct spec_error *e)
{
	snprintf(e->buf, e->len, "out of memory");
	return -ENOMEM;
}

int spec_keep(struct spec_error *e, char **field, const char *value)
{
	*field = strdup(value);
	return *field ? 0 : spec_nomem(e);
}

char *spec_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}
