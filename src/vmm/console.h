/*
 * Where the guest's serial console goes: the terminal, a pty, a Unix socket
 * or nowhere.
 *
 * The console is the outside end of the UART (a char_backend). Output is
 * written as the guest produces it, from the vCPU thread that wrote the UART;
 * it never blocks on a pty or socket nobody reads. A pty drops what nobody
 * takes, as a serial line with nobody listening. A Unix socket console keeps
 * it in a backlog (the last CONSOLE_BACKLOG bytes) that the next client gets
 * first, so corrald's console hub misses nothing while it (re)connects; a
 * client that reads slowly is fed from the backlog by the main thread as its
 * socket has room. Input is read on the main thread and
 * handed to the UART; when the UART is full, reading pauses until it drains,
 * so pasted text is not lost. On a terminal, Ctrl-] is the escape key: it
 * calls the owner's escape hook (the VMM uses it for the power button).
 */
#ifndef CORRAL_VMM_CONSOLE_H
#define CORRAL_VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "common/ring.h"
#include "devices/device.h"
#include "vmm/event_loop.h"

#define CONSOLE_ESCAPE 0x1d   /* Ctrl-] */
#define CONSOLE_BACKLOG (64 * 1024)   /* unix: output held for the next client */

enum console_kind { CONSOLE_STDIO, CONSOLE_PTY, CONSOLE_UNIX, CONSOLE_NONE };

/* A parsed --console argument. */
struct console_spec {
	enum console_kind kind;
	const char *path;           /* CONSOLE_UNIX: the socket's path */
};

typedef size_t (*console_deliver_fn)(void *ctx, const uint8_t *buf, size_t len);

struct console {
	enum console_kind kind;
	int in_fd;                  /* -1 when there is nothing to read */
	int out_fd;                 /* -1 when output is discarded */
	int listen_fd;              /* CONSOLE_UNIX */
	int pty_peer_fd;            /* CONSOLE_PTY: the pty's far end, held open */
	int wake_fd;                /* eventfd: work for the main thread (the UART
	                               has room again, output waits in the backlog) */
	char *path;                 /* pty or socket path */
	bool tty;                   /* stdin is a terminal we put in raw mode */
	struct termios saved_termios;
	pthread_mutex_t out_lock;   /* out_fd and backlog change under a writer */
	struct ring backlog;        /* CONSOLE_UNIX: output no client has taken yet */

	uint8_t pending[4096];      /* input read but not yet taken by the UART */
	size_t pending_off, pending_len;

	struct event_loop *loop;
	console_deliver_fn deliver;
	void *deliver_ctx;
	void (*escape)(void *ctx);
	void *escape_ctx;
};

/* Parses "stdio", "pty", "unix:PATH" or "none"; -EINVAL (with a message)
 * for anything else. Checks the syntax only, so it can run before any
 * resource is taken. */
int console_parse(const char *text, struct console_spec *spec);

/* Opens the console `spec` describes. */
int console_open(struct console *c, const struct console_spec *spec);

/* Starts reading input on `loop`, handing it to `deliver`. */
int console_attach(struct console *c, struct event_loop *loop,
		   console_deliver_fn deliver, void (*escape)(void *ctx), void *ctx);

/* The char_backend a UART writes to. */
struct char_backend console_backend(struct console *c);

/* Restores the terminal, closes descriptors, removes the socket. */
void console_close(struct console *c);

#endif
