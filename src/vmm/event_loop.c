#include "vmm/event_loop.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int event_loop_init(struct event_loop *loop)
{
	*loop = (struct event_loop){ .epoll_fd = epoll_create1(EPOLL_CLOEXEC) };
	if (loop->epoll_fd < 0)
		return log_errno("epoll_create1");
	for (unsigned i = 0; i < EVENT_LOOP_MAX_SOURCES; i++)
		loop->source[i].fd = -1;
	return 0;
}

void event_loop_fini(struct event_loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *ctx)
{
	for (unsigned i = 0; i < EVENT_LOOP_MAX_SOURCES; i++) {
		struct event_source *s = &loop->source[i];
		struct epoll_event ev = { .events = events, .data.ptr = s };

		if (s->fd >= 0)
			continue;
		if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		*s = (struct event_source){ .fd = fd, .fn = fn, .ctx = ctx };
		return 0;
	}
	return -ENOSPC;
}

static struct event_source *find_source(struct event_loop *loop, int fd)
{
	for (unsigned i = 0; i < EVENT_LOOP_MAX_SOURCES; i++)
		if (loop->source[i].fd == fd)
			return &loop->source[i];
	return NULL;
}

int event_loop_modify(struct event_loop *loop, int fd, uint32_t events)
{
	struct event_source *s = find_source(loop, fd);
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (!s)
		return -ENOENT;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return log_errno("epoll_ctl");
	return 0;
}

void event_loop_remove(struct event_loop *loop, int fd)
{
	struct event_source *s = find_source(loop, fd);

	if (!s)
		return;
	epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	s->fd = -1;
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event events[EVENT_LOOP_MAX_SOURCES];

	while (!loop->done) {
		int n = epoll_wait(loop->epoll_fd, events, ARRAY_SIZE(events), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return log_errno("epoll_wait");
		for (int i = 0; i < n && !loop->done; i++) {
			struct event_source *s = events[i].data.ptr;

			/* A callback earlier in this batch may have removed it. */
			if (s->fd >= 0)
				s->fn(s->ctx, events[i].events);
		}
	}
	return 0;
}

void event_loop_quit(struct event_loop *loop)
{
	loop->done = true;
}
