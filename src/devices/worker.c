#include "devices/worker.h"
#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int worker_start(struct worker *w, const char *name, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->stop_fd < 0)
		return log_errno("eventfd");
	/* Signals belong to the main thread's signalfd and to vCPU kicks. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&w->thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		log_error("%s: cannot start a thread: %s", name, strerror(err));
		close(w->stop_fd);
		w->stop_fd = -1;
		return -err;
	}
	pthread_setname_np(w->thread, name);
	w->running = true;
	return 0;
}

void worker_stop(struct worker *w)
{
	uint64_t one = 1;

	if (!w->running)
		return;
	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		log_errno("worker stop");
	pthread_join(w->thread, NULL);
	close(w->stop_fd);
	w->stop_fd = -1;
	w->running = false;
}

bool worker_wait(struct worker *w, int fd, bool clear)
{
	struct pollfd p[2] = { { .fd = w->stop_fd, .events = POLLIN },
			       { .fd = fd, .events = POLLIN } };
	uint64_t count;

	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return false;
	if (p[0].revents)
		return false;
	if (clear && read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return false;
	return true;
}

bool worker_stopping(const struct worker *w)
{
	struct pollfd p = { .fd = w->stop_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}
