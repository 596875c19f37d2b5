/*
 * The parts of corrald's API (api.h) that every route uses: reading a JSON
 * request body strictly and building the JSON reply, errors included
 * ({"error": "...", "messages": [...]}, see docs/API.md). For api.c and
 * the files of routes beside it, not for the rest of the daemon.
 */
#ifndef CORRAL_DAEMON_API_BODY_H
#define CORRAL_DAEMON_API_BODY_H

#include "daemon/api.h"

#include <jansson.h>
#include <stdbool.h>

/* A JSON string of `s`; bytes that are not UTF-8 become '?'. NULL only without memory. */
json_t *json_text(const char *s);
/* Every message of d as a JSON array of strings. */
json_t *diag_json(const struct diag *d);

void reply_json(struct api_reply *rp, unsigned status, json_t *body);
/* {"error": fmt..., "messages": [...]} (messages only when d is not NULL). */
__attribute__((format(printf, 4, 5)))
void reply_error(struct api_reply *rp, unsigned status, const struct diag *d,
		 const char *fmt, ...);
/* 200 with j; NULL j is out of memory (500). */
void reply_described(json_t *j, struct api_reply *rp);

/* The body as a JSON object; an empty body is {} if `optional`. NULL with
 * the 400 in rp otherwise. */
json_t *body_object(const char *body, size_t len, bool optional, struct api_reply *rp);
/* Whether every field of obj is one of `names` (NULL-terminated); a 400
 * naming the first other one otherwise. */
bool only_fields(json_t *obj, const char *const *names, struct api_reply *rp);
/* A string field that is used as a C string: present, a string, no NUL. */
const char *c_string(json_t *v);

/* The routes under /v1/networks (api_networks.c): false if rq is not for one. */
bool api_networks_handle(const struct api_registry_ops *ops, struct registry *r,
			 const struct api_request *rq, struct api_reply *rp);

#endif
