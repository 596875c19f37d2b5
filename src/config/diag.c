#include "config/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->nmsgs; i++)
		free(d->msgs[i].text);
	free(d->msgs);
	diag_init(d);
}

__attribute__((format(printf, 5, 0)))
static void add(struct diag *d, int is_error, const char *source, struct src_pos pos,
		const char *fmt, va_list ap)
{
	char where[64] = "";
	char *body = NULL, *text = NULL;
	struct diag_msg *msgs;

	if (is_error)
		d->errors++;
	else
		d->warnings++;
	if (pos.line && pos.col)
		snprintf(where, sizeof(where), ":%u:%u", pos.line, pos.col);
	else if (pos.line)
		snprintf(where, sizeof(where), ":%u", pos.line);
	msgs = realloc(d->msgs, (d->nmsgs + 1) * sizeof(*msgs));
	if (!msgs)
		return;	/* counted, if not kept: the caller still sees the failure */
	d->msgs = msgs;
	if (vasprintf(&body, fmt, ap) < 0)
		return;
	/* A message about the whole domain, not a place in a file, has no prefix. */
	if (asprintf(&text, "%s%s%s%s: %s", source ? source : "", where, source ? ": " : "",
		     is_error ? "error" : "warning", body) < 0)
		text = NULL;
	free(body);
	if (text)
		d->msgs[d->nmsgs++] = (struct diag_msg){ .text = text, .is_error = is_error };
}

void diag_error(struct diag *d, const char *source, struct src_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, 1, source, pos, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *d, const char *source, struct src_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, 0, source, pos, fmt, ap);
	va_end(ap);
}

void diag_print(const struct diag *d, FILE *out)
{
	for (size_t i = 0; i < d->nmsgs; i++)
		fprintf(out, "%s\n", d->msgs[i].text);
}
