#include "common/keyval.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Copies up to the next unescaped `stop` (or ',' or the end) into out. */
static int take(const char **pos, char stop, char *out, size_t max, size_t *len)
{
	const char *p = *pos;

	*len = 0;
	while (*p && *p != stop) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;	/* ",," is a literal comma */
		}
		if (*len + 1 >= max)
			return -ENAMETOOLONG;
		out[(*len)++] = *p++;
	}
	out[*len] = '\0';
	*pos = p;
	return 0;
}

int keyval_next(const char **pos, struct keyval *kv, const char *what)
{
	const char *p = *pos;
	size_t len;

	if (!*p)
		return 0;
	memset(kv, 0, sizeof(*kv));
	if (take(&p, '=', kv->key, sizeof(kv->key), &len) < 0) {
		log_error("%s: key too long in '%s'", what, *pos);
		return -ENAMETOOLONG;
	}
	if (len == 0) {
		log_error("%s: empty item in '%s'", what, *pos);
		return -EINVAL;
	}
	if (*p == '=') {
		p++;
		kv->has_value = true;
		if (take(&p, '\0', kv->value, sizeof(kv->value), &len) < 0) {
			log_error("%s: value of %s is too long", what, kv->key);
			return -ENAMETOOLONG;
		}
	}
	if (*p == ',')
		p++;
	*pos = p;
	return 1;
}

int keyval_uint(const struct keyval *kv, const char *what, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = kv->has_value ? strtoul(kv->value, &end, 10) : 0;
	if (!kv->has_value || !kv->value[0] || *end || errno || v > max ||
	    kv->value[0] == '-') {
		log_error("%s: %s must be a number from 0 to %u, not '%s'", what, kv->key, max,
			  kv->has_value ? kv->value : "");
		return -EINVAL;
	}
	*out = v;
	return 0;
}
