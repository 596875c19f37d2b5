#include "vmm/console.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return log_errno("fcntl");
	return 0;
}

static int open_stdio(struct console *c)
{
	struct termios raw;

	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &c->saved_termios) < 0)
		return 0;
	/* Raw input: every key, Ctrl-C included, goes to the guest. Output
	 * processing stays on, so our own messages on stderr still start at
	 * column 0; the guest's "\r\n" is unharmed by it. */
	raw = c->saved_termios;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return log_errno("tcsetattr");
	c->tty = true;
	return 0;
}

static int open_pty(struct console *c)
{
	struct termios raw;
	const char *name;
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return log_errno("posix_openpt");
	c->in_fd = c->out_fd = fd;
	if (grantpt(fd) < 0 || unlockpt(fd) < 0 || !(name = ptsname(fd)))
		return log_errno("cannot set up the console pty");
	c->path = strdup(name);
	/* Holding the far end open keeps the pty alive between clients. */
	c->pty_peer_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->pty_peer_fd < 0)
		return log_errno(name);
	if (tcgetattr(c->pty_peer_fd, &raw) == 0) {
		cfmakeraw(&raw);
		tcsetattr(c->pty_peer_fd, TCSANOW, &raw);
	}
	log_info("console on %s", name);
	return set_nonblocking(fd);
}

static int open_unix(struct console *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	/* console_parse() checked the length. */
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno("socket");
	c->listen_fd = fd;
	if (ring_init(&c->backlog, CONSOLE_BACKLOG) < 0) {
		log_error("console: out of memory");
		return -ENOMEM;
	}
	/* A socket left behind by an earlier run is stale; anything else is not ours. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
		return log_errno(path);
	c->path = strdup(path);
	return 0;
}

int console_parse(const char *text, struct console_spec *spec)
{
	struct sockaddr_un addr;

	*spec = (struct console_spec){ 0 };
	if (!strcmp(text, "stdio"))
		spec->kind = CONSOLE_STDIO;
	else if (!strcmp(text, "pty"))
		spec->kind = CONSOLE_PTY;
	else if (!strcmp(text, "none"))
		spec->kind = CONSOLE_NONE;
	else if (!strncmp(text, "unix:", 5) && text[5]) {
		spec->kind = CONSOLE_UNIX;
		spec->path = text + 5;
		if (strlen(spec->path) >= sizeof(addr.sun_path)) {
			log_error("console socket path is too long (at most %zu bytes): %s",
				  sizeof(addr.sun_path) - 1, spec->path);
			return -ENAMETOOLONG;
		}
	} else {
		log_error("invalid --console '%s': expected stdio, pty, unix:PATH or none", text);
		return -EINVAL;
	}
	return 0;
}

int console_open(struct console *c, const struct console_spec *spec)
{
	int wake;

	*c = (struct console){ .kind = spec->kind, .in_fd = -1, .out_fd = -1, .listen_fd = -1,
			       .pty_peer_fd = -1, .wake_fd = -1 };
	pthread_mutex_init(&c->out_lock, NULL);
	wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake < 0)
		return log_errno("eventfd");
	c->wake_fd = wake;
	switch (spec->kind) {
	case CONSOLE_STDIO: return open_stdio(c);
	case CONSOLE_PTY: return open_pty(c);
	case CONSOLE_UNIX: return open_unix(c, spec->path);
	case CONSOLE_NONE: return 0;
	}
	return -EINVAL;
}

/* Gives the main thread work (on_wake); from any thread. */
static void wake(struct console *c)
{
	uint64_t one = 1;

	if (write(c->wake_fd, &one, sizeof(one)) < 0)
		log_debug("console wake: %s", strerror(errno));
}

/*
 * Output of a unix console, out_lock held: straight to the client while
 * the backlog is empty, else behind what the backlog holds. Whatever the
 * client's socket does not take at once (or all of it, with no client) goes
 * into the backlog; when it stops being empty under a client, the main
 * thread is woken to drain it as the socket has room. Never blocks.
 */
static void write_unix(struct console *c, const uint8_t *buf, size_t len)
{
	bool was_empty = c->backlog.len == 0;

	if (c->out_fd >= 0 && was_empty) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	if (!len)
		return;
	ring_push(&c->backlog, buf, len);
	if (was_empty && c->out_fd >= 0)
		wake(c);
}

static void console_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct console *c = ctx;

	pthread_mutex_lock(&c->out_lock);
	if (c->kind == CONSOLE_UNIX)
		write_unix(c, buf, len);
	else if (c->kind == CONSOLE_STDIO && c->out_fd >= 0)
		write_full(c->out_fd, buf, len);	/* a file or pipe: block */
	else if (c->out_fd >= 0 && write(c->out_fd, buf, len) < 0 && errno != EAGAIN)
		log_debug("console write: %s", strerror(errno));	/* a pty: drop */
	pthread_mutex_unlock(&c->out_lock);
}

/* Called from a vCPU thread when the UART has room for input again. */
static void console_rx_ready(void *ctx)
{
	wake(ctx);
}

struct char_backend console_backend(struct console *c)
{
	return (struct char_backend){ .write = console_write, .rx_ready = console_rx_ready,
				      .ctx = c };
}

/* Hands buffered input to the UART, as much as it takes. */
static void deliver_pending(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t n = c->deliver(c->deliver_ctx, c->pending + c->pending_off,
				      c->pending_len - c->pending_off);

		if (n == 0)
			break;
		c->pending_off += n;
	}
}

/* Writes the backlog to the client as far as its socket takes it. */
static void drain_backlog(struct console *c)
{
	ssize_t n = 0;

	pthread_mutex_lock(&c->out_lock);
	if (c->out_fd >= 0)
		n = ring_write(&c->backlog, c->out_fd);
	pthread_mutex_unlock(&c->out_lock);
	if (n < 0)
		log_debug("console write: %s", strerror((int)-n));
}

/*
 * What the loop watches on the input descriptor: input, unless the UART is
 * full (reading pauses until it drains); and while the backlog holds
 * anything, room to write it. Under out_lock, so that a writer that makes
 * the backlog non-empty afterwards wakes the main thread to come here again.
 */
static void rearm(struct console *c)
{
	uint32_t events = c->pending_off < c->pending_len ? 0 : EPOLLIN;

	if (c->in_fd < 0)
		return;
	pthread_mutex_lock(&c->out_lock);
	if (c->backlog.len)
		events |= EPOLLOUT;
	event_loop_modify(c->loop, c->in_fd, events);
	pthread_mutex_unlock(&c->out_lock);
}

/* On a terminal, Ctrl-] goes to the escape hook and is not sent on. */
static void take_escapes(struct console *c)
{
	size_t out = 0;

	for (size_t i = 0; i < c->pending_len; i++) {
		if (c->tty && c->pending[i] == CONSOLE_ESCAPE && c->escape)
			c->escape(c->escape_ctx);
		else
			c->pending[out++] = c->pending[i];
	}
	c->pending_len = out;
}

static void drop_client(struct console *c)
{
	event_loop_remove(c->loop, c->in_fd);
	pthread_mutex_lock(&c->out_lock);
	close(c->in_fd);
	c->in_fd = c->out_fd = -1;
	pthread_mutex_unlock(&c->out_lock);
}

static void read_input(struct console *c)
{
	ssize_t n = read(c->in_fd, c->pending, sizeof(c->pending));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* End of input: a socket client left; stdin or a pty closed. */
		if (c->kind == CONSOLE_UNIX)
			drop_client(c);
		else
			event_loop_remove(c->loop, c->in_fd);
		return;
	}
	c->pending_off = 0;
	c->pending_len = n;
	take_escapes(c);
	deliver_pending(c);
	rearm(c);
}

static void on_client(void *ctx, uint32_t events)
{
	struct console *c = ctx;

	if (events & EPOLLOUT) {
		drain_backlog(c);
		rearm(c);
	}
	if (events & ~(uint32_t)EPOLLOUT)
		read_input(c);
}

static void on_wake(void *ctx, uint32_t events)
{
	struct console *c = ctx;
	uint64_t count;

	(void)events;
	if (read(c->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("console wake: %s", strerror(errno));
	deliver_pending(c);
	drain_backlog(c);
	rearm(c);
}

/* Whether the client has hung up though its end was not read yet: a
 * corrald killed and started again at once reconnects before that. */
static bool client_hung_up(const struct console *c)
{
	struct pollfd p = { .fd = c->in_fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void on_connect(void *ctx, uint32_t events)
{
	struct console *c = ctx;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	static const char busy[] = "corral-vmm: console busy: another client is attached\r\n";

	(void)events;
	if (fd < 0)
		return;
	if (c->in_fd >= 0 && client_hung_up(c))
		drop_client(c);
	if (c->in_fd >= 0) {
		if (write(fd, busy, sizeof(busy) - 1) < 0)
			log_debug("console busy notice: %s", strerror(errno));
		close(fd);
		return;
	}
	pthread_mutex_lock(&c->out_lock);
	c->in_fd = c->out_fd = fd;
	pthread_mutex_unlock(&c->out_lock);
	c->pending_off = c->pending_len = 0;
	if (event_loop_add(c->loop, fd, EPOLLIN, on_client, c) < 0) {
		log_error("console: cannot watch a new client");
		drop_client(c);
		return;
	}
	/* What the guest printed while nobody listened comes first. */
	drain_backlog(c);
	rearm(c);
}

int console_attach(struct console *c, struct event_loop *loop,
		   console_deliver_fn deliver, void (*escape)(void *ctx), void *ctx)
{
	int err;

	c->loop = loop;
	c->deliver = deliver;
	c->deliver_ctx = ctx;
	c->escape = escape;
	c->escape_ctx = ctx;
	err = event_loop_add(loop, c->wake_fd, EPOLLIN, on_wake, c);
	if (!err && c->listen_fd >= 0)
		err = event_loop_add(loop, c->listen_fd, EPOLLIN, on_connect, c);
	if (!err && c->in_fd >= 0) {
		err = event_loop_add(loop, c->in_fd, EPOLLIN, on_client, c);
		/* stdin from a file or /dev/null cannot be polled: no input then. */
		if (err == -EPERM && c->kind == CONSOLE_STDIO) {
			c->in_fd = -1;
			err = 0;
		}
	}
	if (err)
		log_error("console: %s", strerror(-err));
	return err;
}

void console_close(struct console *c)
{
	if (c->tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_termios);
	if (c->kind == CONSOLE_UNIX && c->in_fd >= 0)
		close(c->in_fd);
	if (c->kind == CONSOLE_PTY && c->in_fd >= 0)
		close(c->in_fd);
	if (c->pty_peer_fd >= 0)
		close(c->pty_peer_fd);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (c->path)
			unlink(c->path);
	}
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	ring_free(&c->backlog);
	free(c->path);
	pthread_mutex_destroy(&c->out_lock);
	c->in_fd = c->out_fd = c->listen_fd = c->pty_peer_fd = c->wake_fd = -1;
	c->path = NULL;
}
