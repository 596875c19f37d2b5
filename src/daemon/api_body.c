/* The API's JSON bodies and replies (api_body.h). */
#include "daemon/api_body.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON helpers -------------------------------------------------------- */

/* A JSON string of `s`; bytes that are not UTF-8 (JSON carries only text)
 * become '?'. NULL only without memory. */
json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	size_t n = strlen(s), i = 0, o = 0;
	char *copy;

	if (j)
		return j;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	while (i < n) {
		size_t len = utf8_sequence_len((const unsigned char *)s + i, n - i);

		if (!len) {
			copy[o++] = '?';
			i++;
			continue;
		}
		memcpy(copy + o, s + i, len);
		o += len;
		i += len;
	}
	copy[o] = '\0';
	j = json_string(copy);
	free(copy);
	return j;
}

/* Every message of d as a JSON array of strings. */
json_t *diag_json(const struct diag *d)
{
	json_t *a = json_array();

	for (size_t i = 0; a && d && i < d->nmsgs; i++)
		json_array_append_new(a, json_text(d->msgs[i].text));
	return a;
}

/* ---- Replies ------------------------------------------------------------- */

void reply_json(struct api_reply *rp, unsigned status, json_t *body)
{
	rp->status = status;
	rp->body = body;
}

/* {"error": fmt..., "messages": [...]} (messages only when d is not NULL). */
void reply_error(struct api_reply *rp, unsigned status, const struct diag *d,
			const char *fmt, ...)
{
	char text[512];
	va_list ap;
	json_t *body;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	body = json_object();
	if (body) {
		json_object_set_new(body, "error", json_text(text));
		if (d)
			json_object_set_new(body, "messages", diag_json(d));
	}
	reply_json(rp, status, body);
}

/* ---- Bodies -------------------------------------------------------------- */

/* The body as a JSON object; an empty body is {} if `optional`. NULL with
 * the 400 in rp otherwise. */
json_t *body_object(const char *body, size_t len, bool optional, struct api_reply *rp)
{
	json_error_t err;
	json_t *j;

	if (!len) {
		if (optional)
			return json_object();
		reply_error(rp, 400, NULL, "request body: missing (expected a JSON object)");
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!j) {
		reply_error(rp, 400, NULL, "request body: line %d column %d: %s", err.line,
			    err.column, err.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(rp, 400, NULL, "request body: expected a JSON object");
		return NULL;
	}
	return j;
}

/* Whether every field of obj is one of `names` (NULL-terminated); a 400
 * naming the first other one otherwise. */
bool only_fields(json_t *obj, const char *const *names, struct api_reply *rp)
{
	const char *key;
	json_t *value;

	json_object_foreach(obj, key, value) {
		size_t i = 0;

		while (names[i] && strcmp(names[i], key))
			i++;
		if (!names[i]) {
			reply_error(rp, 400, NULL, "request body: unknown field '%.64s'", key);
			return false;
		}
	}
	return true;
}

/* A string field that is used as a C string: present, a string, no NUL. */
const char *c_string(json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* GET of something the registry describes; NULL from it is out of memory. */
void reply_described(json_t *j, struct api_reply *rp)
{
	if (j)
		reply_json(rp, 200, j);
	else
		reply_error(rp, 500, NULL, "out of memory");
}

