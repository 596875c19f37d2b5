#include "daemon/loop.h"
#include "common/log.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int loop_init(struct loop *l)
{
	l->done = false;
	l->batch_len = 0;
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return l->epoll_fd < 0 ? log_errno("epoll_create1") : 0;
}

void loop_fini(struct loop *l)
{
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	l->epoll_fd = -1;
}

int loop_add(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? log_errno("epoll_ctl add") : 0;
}

int loop_mod(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epoll_fd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? log_errno("epoll_ctl mod") : 0;
}

void loop_del(struct loop *l, struct watch *w)
{
	epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
	for (int i = 0; i < l->batch_len; i++)
		if (l->batch[i].data.ptr == w)
			l->batch[i].data.ptr = NULL;
}

int loop_once(struct loop *l, int timeout_ms)
{
	int n = epoll_wait(l->epoll_fd, l->batch, LOOP_BATCH, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : log_errno("epoll_wait");
	l->batch_len = n;
	for (int i = 0; i < n; i++) {
		struct watch *w = l->batch[i].data.ptr;

		if (w)
			w->fn(w, l->batch[i].events);
	}
	l->batch_len = 0;
	return 0;
}
