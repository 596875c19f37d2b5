/*
 * A domain's console hub (console.h): one client connection to the VMM's
 * console socket, a scrollback ring, a size-capped log and any number of
 * users, all on corrald's loop. Nothing here waits for anybody: each user
 * has a bounded queue and is dropped when it falls that far behind, input
 * for the VMM has one too and is dropped when it is full.
 */
#include "daemon/console.h"
#include "daemon/loop.h"
#include "common/log.h"
#include "common/ring.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#define CONSOLE_USER_QUEUE (256 * 1024)	/* output a user may lag behind before it is dropped */
#define CONSOLE_INPUT_QUEUE (64 * 1024)	/* keystrokes waiting for the VMM's socket */
#define CONSOLE_READ_CHUNK (16 * 1024)
#define CONSOLE_LAST_READS 32		/* at most, of what a gone VMM left in its socket */
#define CONSOLE_RETRY_NS 20000000ull	/* between attempts to connect to the VMM */
#define CONSOLE_RETRY_FOR_NS 5000000000ull	/* how long to keep trying */

static const char notice_read_only[] =
	"\r\ncorral: console is read-only: another user has it read-write "
	"(corral console -f takes it over)\r\n";
static const char notice_taken_over[] =
	"\r\ncorral: console is read-only now: another user took it over "
	"(corral console -f takes it back)\r\n";

struct user {
	struct watch w;			/* first: the callback finds its user */
	struct console_hub *h;
	struct user *next;
	struct ring out;		/* what the user's socket has not taken yet */
	uint32_t events;		/* what the loop watches w for */
	void (*done)(void *ctx);
	void *done_ctx;
};

struct console_hub {
	struct loop *loop;
	char *name;
	struct ring scrollback;
	struct user *users;
	struct user *rw;		/* the user whose keys reach the guest, if any */

	struct watch vmm;		/* the VMM's console socket; fd -1: none */
	uint32_t vmm_events;
	struct ring to_vmm;		/* the rw user's keys the socket has not taken */
	char *socket_path;		/* while connected or trying to connect */
	uint64_t give_up_ns;		/* monotonic_ns() when trying stops */
	struct watch retry;		/* timerfd between attempts */

	char *log_path;
	int log_fd;			/* -1 after a failure: no more logging */
	size_t log_size, log_max;
};

#define HUB_OF(w, member) ((struct console_hub *)((char *)(w) - offsetof(struct console_hub, member)))

/* ---- The log ------------------------------------------------------------- */

static int log_open(struct console_hub *h)
{
	struct stat st;

	h->log_fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (h->log_fd < 0)
		return log_errno(h->log_path);
	h->log_size = fstat(h->log_fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

/* LOG -> LOG.1 (replacing an older one), and a new LOG. */
static int log_rotate(struct console_hub *h)
{
	char old[PATH_MAX];

	close(h->log_fd);
	h->log_fd = -1;
	if (snprintf(old, sizeof(old), "%s.1", h->log_path) >= (int)sizeof(old)) {
		log_error("domain %s: console log path too long: %s", h->name, h->log_path);
		return -ENAMETOOLONG;
	}
	if (rename(h->log_path, old) < 0)
		return log_errno(old);
	return log_open(h);
}

/* Appends to the log, never letting it pass log_max bytes. A log that
 * fails is given up (the console goes on). */
static void log_append(struct console_hub *h, const uint8_t *buf, size_t len)
{
	while (len && h->log_fd >= 0) {
		size_t n = MIN(len, h->log_max - MIN(h->log_size, h->log_max));

		if (!n) {
			if (log_rotate(h) < 0)
				log_warn("domain %s: console log stopped", h->name);
			continue;
		}
		if (write_full(h->log_fd, buf, n) < 0) {
			log_warn("domain %s: console log stopped: %s: %s", h->name, h->log_path,
				 strerror(errno));
			close(h->log_fd);
			h->log_fd = -1;
			return;
		}
		h->log_size += n;
		buf += n;
		len -= n;
	}
}

/* ---- Users --------------------------------------------------------------- */

/* Watches w for input, and for room to write while `queue` holds anything;
 * *events is what it is watched for now. */
static void rewatch(struct loop *loop, struct watch *w, uint32_t *events,
		    const struct ring *queue)
{
	uint32_t want = EPOLLIN | (queue->len ? EPOLLOUT : 0);

	if (want != *events && loop_mod(loop, w, want) == 0)
		*events = want;
}

/* Forgets the user and hands its socket back through done(). */
static void detach(struct user *u)
{
	struct console_hub *h = u->h;
	struct user **p = &h->users;

	while (*p != u)
		p = &(*p)->next;
	*p = u->next;
	if (h->rw == u)
		h->rw = NULL;
	loop_del(h->loop, &u->w);
	ring_write(&u->out, u->w.fd);	/* what it can still take, if anything */
	ring_free(&u->out);
	u->done(u->done_ctx);
	free(u);
}

/* Writes the user's queue as far as its socket takes it; false if the
 * user is gone (detached). */
static bool user_flush(struct user *u)
{
	if (ring_write(&u->out, u->w.fd) < 0) {
		detach(u);
		return false;
	}
	rewatch(u->h->loop, &u->w, &u->events, &u->out);
	return true;
}

/* Queues output for the user; one that is CONSOLE_USER_QUEUE behind is
 * dropped rather than waited for. */
static void user_send(struct user *u, const void *buf, size_t len)
{
	if (len > ring_room(&u->out)) {
		log_warn("domain %s: console: dropped a user who does not read (%d KiB behind)",
			 u->h->name, CONSOLE_USER_QUEUE / 1024);
		detach(u);
		return;
	}
	ring_push(&u->out, buf, len);
	user_flush(u);
}

/* ---- The VMM's socket ---------------------------------------------------- */

static void vmm_flush(struct console_hub *h)
{
	ssize_t n = ring_write(&h->to_vmm, h->vmm.fd);

	if (n < 0) {
		log_info("domain %s: console: %s", h->name, strerror((int)-n));
		console_hub_disconnect(h);
		return;
	}
	rewatch(h->loop, &h->vmm, &h->vmm_events, &h->to_vmm);
}

/* Keys from the read-write user: to the VMM, or dropped when it is not
 * connected or CONSOLE_INPUT_QUEUE behind. */
static void input(struct console_hub *h, const void *buf, size_t len)
{
	if (h->vmm.fd < 0)
		return;
	if (len > ring_room(&h->to_vmm)) {
		log_debug("domain %s: console: input dropped: the VMM does not take it", h->name);
		return;
	}
	ring_push(&h->to_vmm, buf, len);
	vmm_flush(h);
}

/* What the guest printed: to the scrollback, the log and every user. */
static void output(struct console_hub *h, const uint8_t *buf, size_t len)
{
	struct user *u, *next;

	ring_push(&h->scrollback, buf, len);
	log_append(h, buf, len);
	for (u = h->users; u; u = next) {
		next = u->next;
		user_send(u, buf, len);
	}
}

/* Passes on one read of what the VMM sent: how much, 0 when nothing is
 * there now, -1 at its end. */
static ssize_t vmm_take(struct console_hub *h)
{
	uint8_t buf[CONSOLE_READ_CHUNK];
	ssize_t n = read(h->vmm.fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	output(h, buf, (size_t)n);
	return n;
}

static void on_vmm(struct watch *w, uint32_t events)
{
	struct console_hub *h = HUB_OF(w, vmm);

	if (events & EPOLLOUT)
		vmm_flush(h);
	if (h->vmm.fd >= 0 && (events & ~(uint32_t)EPOLLOUT) && vmm_take(h) < 0) {
		log_debug("domain %s: console: the VMM closed it", h->name);
		console_hub_disconnect(h);
	}
}

/* A connected socket to `path`, or -errno. */
static int dial(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	/* console_hub_connect() checked the length. */
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	err = -errno;
	close(fd);
	return err;
}

/* Connects, or tries again in CONSOLE_RETRY_NS while the VMM may still be
 * about to listen (no socket yet, or not accepting). */
static void try_connect(struct console_hub *h)
{
	struct itimerspec later = { .it_value.tv_nsec = CONSOLE_RETRY_NS };
	int fd = dial(h->socket_path), err;

	if (fd >= 0) {
		h->vmm.fd = fd;
		h->vmm_events = EPOLLIN;
		err = loop_add(h->loop, &h->vmm, EPOLLIN);
		if (!err) {
			log_debug("domain %s: console connected", h->name);
			return;
		}
		close(fd);
		h->vmm.fd = -1;
		fd = err;
	}
	if ((fd == -ENOENT || fd == -ECONNREFUSED || fd == -EAGAIN) &&
	    monotonic_ns() < h->give_up_ns && timerfd_settime(h->retry.fd, 0, &later, NULL) == 0)
		return;
	log_warn("domain %s: no console: cannot connect to %s: %s", h->name, h->socket_path,
		 strerror(-fd));
	free(h->socket_path);
	h->socket_path = NULL;
}

static void on_retry(struct watch *w, uint32_t events)
{
	struct console_hub *h = HUB_OF(w, retry);
	uint64_t expirations;

	(void)events;
	if (read(w->fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (h->socket_path && h->vmm.fd < 0)
		try_connect(h);
}

/* ---- The hub ------------------------------------------------------------- */

int console_hub_open(struct console_hub **out, struct loop *loop, const char *name,
		     const char *log_path, size_t log_max)
{
	struct console_hub *h = calloc(1, sizeof(*h));
	int err;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	*h = (struct console_hub){ .loop = loop, .vmm = { .fd = -1, .fn = on_vmm },
				   .retry = { .fd = -1, .fn = on_retry }, .log_fd = -1,
				   .log_max = log_max };
	h->name = strdup(name);
	h->log_path = strdup(log_path);
	err = !h->name || !h->log_path || ring_init(&h->scrollback, CONSOLE_SCROLLBACK) ||
	      ring_init(&h->to_vmm, CONSOLE_INPUT_QUEUE) ? -ENOMEM : 0;
	if (!err && !log_max)
		err = -EINVAL;
	if (!err)
		err = log_open(h);
	if (!err) {
		h->retry.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		err = h->retry.fd < 0 ? log_errno("timerfd_create") :
					loop_add(loop, &h->retry, EPOLLIN);
	}
	if (err) {
		if (err == -ENOMEM || err == -EINVAL)
			log_error("domain %s: console: %s", name, strerror(-err));
		console_hub_close(h);
		return err;
	}
	*out = h;
	return 0;
}

int console_hub_connect(struct console_hub *h, const char *socket_path)
{
	struct sockaddr_un addr;
	char *path;

	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		log_error("domain %s: console socket path too long: %s", h->name, socket_path);
		return -ENAMETOOLONG;
	}
	path = strdup(socket_path);
	if (!path)
		return -ENOMEM;
	console_hub_disconnect(h);
	h->socket_path = path;
	h->give_up_ns = monotonic_ns() + CONSOLE_RETRY_FOR_NS;
	try_connect(h);
	return 0;
}

void console_hub_disconnect(struct console_hub *h)
{
	static const struct itimerspec off;

	if (h->vmm.fd >= 0) {
		/* The guest's last words, written before its VMM went, count. */
		for (int i = 0; i < CONSOLE_LAST_READS; i++)
			if (vmm_take(h) <= 0)
				break;
		loop_del(h->loop, &h->vmm);
		close(h->vmm.fd);
		h->vmm.fd = -1;
	}
	if (h->retry.fd >= 0)
		timerfd_settime(h->retry.fd, 0, &off, NULL);
	free(h->socket_path);
	h->socket_path = NULL;
	ring_clear(&h->to_vmm);
}

static void on_user(struct watch *w, uint32_t events)
{
	struct user *u = (struct user *)w;
	uint8_t buf[4096];
	ssize_t n;

	if ((events & EPOLLOUT) && !user_flush(u))
		return;
	if (!(events & ~(uint32_t)EPOLLOUT))
		return;
	n = read(w->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		detach(u);
	else if (u->h->rw == u)
		input(u->h, buf, (size_t)n);
}

int console_hub_attach(struct console_hub *h, int fd, const char *extra, size_t extra_len,
		       bool force, void (*done)(void *ctx), void *done_ctx)
{
	struct user *u;
	int flags, err;

	if (fd < 0)
		return 0;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return log_errno("console: a user's socket");
	u = calloc(1, sizeof(*u));
	if (!u || ring_init(&u->out, CONSOLE_USER_QUEUE) < 0) {
		free(u);
		log_error("domain %s: console: out of memory", h->name);
		return -ENOMEM;
	}
	u->w = (struct watch){ .fd = fd, .fn = on_user };
	u->h = h;
	u->events = EPOLLIN | EPOLLOUT;
	u->done = done;
	u->done_ctx = done_ctx;
	err = loop_add(h->loop, &u->w, u->events);
	if (err) {
		ring_free(&u->out);
		free(u);
		return err;
	}
	u->next = h->users;
	h->users = u;
	ring_append(&u->out, &h->scrollback);
	if (force && h->rw) {
		struct user *was = h->rw;

		h->rw = NULL;
		user_send(was, notice_taken_over, sizeof(notice_taken_over) - 1);
	}
	if (!h->rw)
		h->rw = u;
	else
		ring_push(&u->out, notice_read_only, sizeof(notice_read_only) - 1);
	if (h->rw == u && extra_len)
		input(h, extra, extra_len);
	log_info("domain %s: console: a user attached (%s)", h->name,
		 h->rw == u ? "read-write" : "read-only");
	return 0;
}

void console_hub_close(struct console_hub *h)
{
	while (h->users)
		detach(h->users);
	console_hub_disconnect(h);
	if (h->retry.fd >= 0) {
		loop_del(h->loop, &h->retry);
		close(h->retry.fd);
	}
	if (h->log_fd >= 0)
		close(h->log_fd);
	ring_free(&h->scrollback);
	ring_free(&h->to_vmm);
	free(h->log_path);
	free(h->name);
	free(h);
}
