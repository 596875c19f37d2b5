/*
 * A device's service thread, and how it is told to stop.
 *
 * Device models serve their queues on threads of their own, started when the
 * driver sets DRIVER_OK and stopped on reset or teardown. A worker is such a
 * thread plus an eventfd, `stop_fd`, that the thread polls next to whatever
 * it waits on (doorbells, a tap, io_uring completions): worker_stop() signals
 * it and joins, so when it returns the thread no longer touches guest memory.
 */
#ifndef CORRAL_DEVICES_WORKER_H
#define CORRAL_DEVICES_WORKER_H

#include <pthread.h>
#include <stdbool.h>

struct worker {
	pthread_t thread;
	int stop_fd;
	bool running;
};

/* Starts fn(arg) on a new thread with a fresh stop_fd; logs and returns a
 * negative errno on failure. The thread returns when stop_fd is readable. */
int worker_start(struct worker *w, const char *name, void *(*fn)(void *), void *arg);

/* Signals stop_fd and waits for the thread; does nothing if not running. */
void worker_stop(struct worker *w);

/* Waits until `fd` (or stop_fd) is readable and clears `fd` if it is an
 * eventfd-like counter (clear = true). Returns false when the worker must
 * stop. For threads that wait on one doorbell only. */
bool worker_wait(struct worker *w, int fd, bool clear);

/* Whether worker_stop() has been called, without waiting: for threads that
 * check between batches of work so a flood cannot hold up a reset. */
bool worker_stopping(const struct worker *w);

#endif
