/*
 * corral's side of corrald's API (docs/API.md): one HTTP request at a time
 * with JSON bodies on the daemon's Unix socket, through libcurl. The socket
 * is `corral --socket PATH`, else $CORRAL_SOCKET, else
 * /run/corral/corral.sock.
 */
#ifndef CORRAL_CLI_CLIENT_H
#define CORRAL_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CLIENT_DEFAULT_SOCKET "/run/corral/corral.sock"
#define CLIENT_TIMEOUT_S 120		/* a whole request, from connecting to the reply */

/* The socket given with --socket (NULL: none). */
void client_set_socket(const char *path);
/* The socket requests go to. */
const char *client_socket(void);

struct client_reply {
	long status;		/* the HTTP status */
	json_t *body;		/* the JSON body (NULL if none); the caller frees it */
};

/*
 * Sends one request: `method` "GET", "POST" or "DELETE", `path` such as "/v1/domains",
 * `body` (POST only; NULL: an empty body). Returns 0 with the reply, or -1
 * after printing why on stderr as "corral CMD: ..." (first of all "cannot
 * reach corrald at PATH: ..." when the daemon does not answer).
 */
int client_request(const char *cmd, const char *method, const char *path, const json_t *body,
		   struct client_reply *reply);
void client_reply_free(struct client_reply *reply);

/* A stream connection to corrald's socket, for what libcurl cannot do (the
 * console's upgraded stream); -1 after printing why, as client_request()
 * does. */
int client_connect(const char *cmd);

/* Prints the reply's "messages" (corrald's errors and warnings about the
 * request, "file:line:col: error: ...") on stderr, one a line; returns how
 * many, and in *errors (if not NULL) how many of them are errors. */
size_t client_print_messages(const struct client_reply *reply, size_t *errors);

/* For a reply with an error status: prints its messages, and its "error"
 * as "corral CMD: ..." unless a message already is one; returns
 * EXIT_FAILED. */
int client_fail(const char *cmd, const struct client_reply *reply);

/* Whether `name` can name a domain (a name or an ID: letters, digits, '-',
 * '_', '.', at most 64), so that it goes into a URL as it is. */
bool client_name_ok(const char *name);

/* "/v1/domains/NAME" or "/v1/domains/NAME/ACTION" (action may be NULL);
 * name must be client_name_ok(). */
void client_domain_path(char *buf, size_t size, const char *name, const char *action);

/* Frees libcurl's state at the end of the program. */
void client_cleanup(void);

#endif
