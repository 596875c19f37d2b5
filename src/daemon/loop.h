/*
 * corrald's main loop: epoll on one thread, where each watched descriptor
 * carries its own callback (struct watch lives in the object that owns the
 * descriptor, so there is no table to outgrow as domains come and go).
 */
#ifndef CORRAL_DAEMON_LOOP_H
#define CORRAL_DAEMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

struct watch {
	int fd;
	watch_fn fn;
};

#define LOOP_BATCH 16	/* events taken from epoll per round */

struct loop {
	int epoll_fd;
	bool done;
	struct epoll_event batch[LOOP_BATCH];	/* the round loop_once() is running */
	int batch_len;
};

int loop_init(struct loop *l);
void loop_fini(struct loop *l);
int loop_add(struct loop *l, struct watch *w, uint32_t events);
/* Changes the events w is watched for (EPOLLOUT on and off, ...). */
int loop_mod(struct loop *l, struct watch *w, uint32_t events);
/* Stops watching w. Its callback is not called again, not even for an event
 * of the round under way, so its owner may free it at once, also from
 * another watch's callback. */
void loop_del(struct loop *l, struct watch *w);

/* Waits up to timeout_ms (-1: no limit) and runs the callbacks of what is
 * ready; 0 or -errno. */
int loop_once(struct loop *l, int timeout_ms);

#endif
