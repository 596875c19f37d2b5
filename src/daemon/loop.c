#include "daemon/loop.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

int loop_init(struct loop *l)
{
	l->done = false;
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

void loop_del(struct loop *l, struct watch *w)
{
	epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
}

int loop_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(l->epoll_fd, ev, ARRAY_SIZE(ev), timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : log_errno("epoll_wait");
	for (int i = 0; i < n; i++) {
		struct watch *w = ev[i].data.ptr;

		w->fn(w, ev[i].events);
	}
	return 0;
}
