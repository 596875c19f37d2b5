#include "common/keyval.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

/* Copies up to `stop` or the next ',' (or the end) into out. In a value
 * (`stop` is '\0'), ",," is a literal comma; a key ends at any comma. */
static int take(const char **pos, char stop, char *out, size_t max, size_t *len)
{
	const char *p = *pos;

	*len = 0;
	while (*p && *p != stop) {
		if (*p == ',') {
			if (stop || p[1] != ',')
				break;
			p++;
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
	if (!kv->has_value || parse_uint(kv->value, max, out) < 0) {
		log_error("%s: %s must be a number from 0 to %u, not '%s'", what, kv->key, max,
			  kv->value);
		return -EINVAL;
	}
	return 0;
}
