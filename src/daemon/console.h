/*
 * A domain's serial console as corrald keeps it (a console hub).
 *
 * corral-vmm serves the guest's serial port on a Unix socket
 * (--console unix:RUN_DIR/domains/NAME/console.sock) to one client at a
 * time. corrald is that client for as long as the domain runs: the hub
 * reads everything the guest prints into a scrollback ring and a per-domain
 * console log with a size cap, and passes it on to every user attached
 * through the API (`corral console NAME`). One attached user at a time may
 * type (read-write); the others watch (read-only; what they type is
 * dropped). A hub outlives its VMM: when the domain restarts, the same hub
 * connects to the new VMM and attached users stay attached. corrald, when
 * it restarts, makes a new hub per running domain and reconnects; what the
 * guest printed meanwhile is held by the VMM (a bounded backlog) and
 * arrives then.
 *
 * Everything runs on corrald's one thread; no call blocks.
 */
#ifndef CORRAL_DAEMON_CONSOLE_H
#define CORRAL_DAEMON_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct console_hub;

#define CONSOLE_SCROLLBACK (64 * 1024)		/* bytes replayed to a new attach */
#define CONSOLE_LOG_MAX_DEFAULT (1024 * 1024)	/* a console log's cap, in bytes */

/*
 * A hub for domain `name`, its log at `log_path` (appended to; when it
 * would pass `log_max` bytes it is renamed to LOG_PATH.1, replacing an older
 * one, and a new log begins). 0 or -errno.
 */
int console_hub_open(struct console_hub **out, struct loop *loop, const char *name,
		     const char *log_path, size_t log_max);

/*
 * Connects to the VMM's console socket at `socket_path` (after the VMM was
 * started or re-adopted), replacing any earlier connection. The VMM binds
 * the socket early but not at once: the hub retries for a few seconds
 * before it gives up (logged). 0 or -errno.
 */
int console_hub_connect(struct console_hub *h, const char *socket_path);

/* The VMM is gone: drops the connection; attached users stay. */
void console_hub_disconnect(struct console_hub *h);

/*
 * Takes over `fd`, an attached user's stream socket (after the API's HTTP
 * upgrade), with `extra`/`extra_len` bytes the user already sent. The user
 * gets the scrollback, then the console as it goes. Read-write if nobody
 * else is, or if `force` (the previous read-write user becomes read-only);
 * otherwise read-only, which the user is told in one line. When the user
 * leaves or the hub closes, `done(done_ctx)` is called instead of close(fd)
 * (the API's upgrade owns the descriptor), never before this returns.
 * 0 or -errno (fd untouched). With fd -1, attaches nothing and returns 0: the API asks that way whether
 * there is a console before it answers 101.
 */
int console_hub_attach(struct console_hub *h, int fd, const char *extra, size_t extra_len,
		       bool force, void (*done)(void *ctx), void *done_ctx);

/* Detaches every user (EOF to each), closes the log and frees the hub. */
void console_hub_close(struct console_hub *h);

#endif
