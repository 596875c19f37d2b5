/*
 * The control socket: how a supervisor (corrald) drives a running VMM.
 *
 * corral-vmm --control PATH listens on a Unix stream socket. One client at
 * a time is served, and a new connection replaces the old one (a supervisor
 * that restarts reconnects without waiting for anything). The protocol is
 * one JSON object per line each way: a request {"cmd": "status" | "pause" |
 * "resume" | "shutdown" | "stop"} gets exactly one reply, {"ok": true, ...}
 * or {"ok": false, "error": "..."}, in order (docs/corral-vmm.md, "Control
 * socket").
 *
 * Three layers, each testable without KVM (tests/unit/test_control.c):
 * control_handle_request() turns one request line into one reply through a
 * table of operations (struct control_ops; the VM's are in vm_control.c);
 * struct control_conn frames a byte stream into lines and queues the
 * replies, with a cap on both, so a client that sends garbage or never
 * reads costs bounded memory and is dropped; struct control is the socket
 * itself on the main thread's event loop, non-blocking throughout.
 */
#ifndef CORRAL_VMM_CONTROL_H
#define CORRAL_VMM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmm/event_loop.h"

#define CONTROL_LINE_MAX 4096          /* longest request, newline excluded */
#define CONTROL_OUT_MAX (64 * 1024)    /* unread replies before the client is dropped */
#define CONTROL_MAX_VCPUS 64

/* What "status" reports. */
struct control_status {
	bool paused;
	bool shutting_down;            /* the power button was pressed */
	unsigned vcpus;
	uint64_t memory_mib;
	uint64_t uptime_ms;            /* since the VMM started */
	uint64_t vcpu_cpu_time_ns[CONTROL_MAX_VCPUS];  /* CPU time of each vCPU thread */
};

/* The commands. Each returns 0 or a negative errno, which becomes the
 * error reply; `ctx` is what control_attach() was given. pause returns
 * only once the guest is stopped; pause and resume are idempotent. */
struct control_ops {
	int (*status)(void *ctx, struct control_status *st);
	int (*pause)(void *ctx);
	int (*resume)(void *ctx);
	int (*shutdown)(void *ctx);    /* as the first SIGTERM: the power button */
	int (*stop)(void *ctx);        /* a hard stop, exit status 5 */
};

/* One request line (without its newline) in, one reply out: a JSON object
 * as a NUL-terminated string without newline, to free(); NULL only when
 * out of memory. Never fails on bad input: that gets an error reply. */
char *control_handle_request(const struct control_ops *ops, void *ctx,
			     const char *line, size_t len);

/* One client's byte streams: requests in, replies out. */
struct control_conn {
	char in[CONTROL_LINE_MAX];
	size_t in_len;
	bool overlong;                 /* discarding the rest of a too-long line */
	char out[CONTROL_OUT_MAX];
	size_t out_off, out_len;       /* unsent replies: out[out_off, out_len) */
};

/* Takes `len` bytes from the client: each complete line is handled and its
 * reply queued in conn->out. A line longer than CONTROL_LINE_MAX gets an
 * error reply and is skipped; empty lines are ignored. Returns -ENOBUFS
 * when the replies no longer fit (the client does not read: drop it). */
int control_conn_feed(struct control_conn *conn, const struct control_ops *ops, void *ctx,
		      const char *data, size_t len);

/* Queues one reply line (a newline is added). -ENOBUFS if it does not fit. */
int control_conn_queue(struct control_conn *conn, const char *reply);

/* The listening socket and its current client. */
struct control {
	int listen_fd;
	int client_fd;                 /* -1: no client */
	char *path;
	dev_t dev;                     /* the socket file we made, so that */
	ino_t ino;                     /* we remove only ours at exit */
	struct control_conn *conn;     /* the client's buffers */
	struct event_loop *loop;
	const struct control_ops *ops;
	void *ctx;
};

/* Checks a --control PATH before anything is opened: -ENAMETOOLONG (with a
 * message) if it cannot be a socket address, -EINVAL if empty. */
int control_check_path(const char *path);

/* Creates the socket at `path`, mode 0600. A socket file nobody listens on
 * (left by a VMM that was killed) is replaced; anything else at `path` (a
 * live socket, a file, a directory) is refused with a message. */
int control_open(struct control *c, const char *path);

/* Starts accepting clients on `loop`; requests go to `ops` with `ctx`. */
int control_attach(struct control *c, struct event_loop *loop,
		   const struct control_ops *ops, void *ctx);

/* Drops the client, closes the socket and removes its file. */
void control_close(struct control *c);

#endif
