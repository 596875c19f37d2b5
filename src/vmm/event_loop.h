/*
 * The VMM's main-thread event loop: epoll with one callback per descriptor.
 *
 * The main thread owns everything that is not a vCPU: signals (via
 * signalfd), the console, timers and requests from vCPU threads to stop the
 * machine (via an eventfd). Callbacks run on the main thread only.
 */
#ifndef CORRAL_VMM_EVENT_LOOP_H
#define CORRAL_VMM_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*event_fn)(void *ctx, uint32_t events);

#define EVENT_LOOP_MAX_SOURCES 16

struct event_source {
	int fd;
	event_fn fn;
	void *ctx;
};

struct event_loop {
	int epoll_fd;
	bool done;
	struct event_source source[EVENT_LOOP_MAX_SOURCES];
};

int event_loop_init(struct event_loop *loop);
void event_loop_fini(struct event_loop *loop);

/* Watches `fd` for `events` (EPOLLIN, ...); `events` 0 parks it. Returns
 * -EPERM, as epoll does, for a descriptor that cannot be polled (a file). */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *ctx);
int event_loop_modify(struct event_loop *loop, int fd, uint32_t events);
void event_loop_remove(struct event_loop *loop, int fd);

/* Dispatches events until event_loop_quit() is called. */
int event_loop_run(struct event_loop *loop);
void event_loop_quit(struct event_loop *loop);

#endif
