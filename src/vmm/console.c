#include "vmm/console.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
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
	int ready;

	*c = (struct console){ .kind = spec->kind, .in_fd = -1, .out_fd = -1, .listen_fd = -1,
			       .pty_peer_fd = -1, .ready_fd = -1 };
	pthread_mutex_init(&c->out_lock, NULL);
	ready = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ready < 0)
		return log_errno("eventfd");
	c->ready_fd = ready;
	switch (spec->kind) {
	case CONSOLE_STDIO: return open_stdio(c);
	case CONSOLE_PTY: return open_pty(c);
	case CONSOLE_UNIX: return open_unix(c, spec->path);
	case CONSOLE_NONE: return 0;
	}
	return -EINVAL;
}

static void console_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct console *c = ctx;

	pthread_mutex_lock(&c->out_lock);
	if (c->out_fd >= 0) {
		/* stdout may be a file or pipe: block. A pty or socket drops on EAGAIN. */
		if (c->kind == CONSOLE_STDIO)
			write_full(c->out_fd, buf, len);
		else if (write(c->out_fd, buf, len) < 0 && errno != EAGAIN)
			log_debug("console write: %s", strerror(errno));
	}
	pthread_mutex_unlock(&c->out_lock);
}

/* Called from a vCPU thread when the UART has room for input again. */
static void console_rx_ready(void *ctx)
{
	struct console *c = ctx;
	uint64_t one = 1;

	if (write(c->ready_fd, &one, sizeof(one)) < 0)
		log_debug("console ready: %s", strerror(errno));
}

struct char_backend console_backend(struct console *c)
{
	return (struct char_backend){ .write = console_write, .rx_ready = console_rx_ready,
				      .ctx = c };
}

/* Hands buffered input to the UART; pauses reading while it is full. */
static void flush_pending(struct console *c)
{
	while (c->pending_off < c->pending_len) {
		size_t n = c->deliver(c->deliver_ctx, c->pending + c->pending_off,
				      c->pending_len - c->pending_off);

		if (n == 0)
			break;
		c->pending_off += n;
	}
	if (c->in_fd < 0)
		return;
	event_loop_modify(c->loop, c->in_fd,
			  c->pending_off < c->pending_len ? 0 : EPOLLIN);
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

static void on_input(void *ctx, uint32_t events)
{
	struct console *c = ctx;
	ssize_t n = read(c->in_fd, c->pending, sizeof(c->pending));

	(void)events;
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
	flush_pending(c);
}

static void on_ready(void *ctx, uint32_t events)
{
	struct console *c = ctx;
	uint64_t count;

	(void)events;
	if (read(c->ready_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("console ready: %s", strerror(errno));
	flush_pending(c);
}

static void on_connect(void *ctx, uint32_t events)
{
	struct console *c = ctx;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	static const char busy[] = "corral-vmm: console busy: another client is attached\r\n";

	(void)events;
	if (fd < 0)
		return;
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
	event_loop_add(c->loop, fd, EPOLLIN, on_input, c);
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
	err = event_loop_add(loop, c->ready_fd, EPOLLIN, on_ready, c);
	if (!err && c->listen_fd >= 0)
		err = event_loop_add(loop, c->listen_fd, EPOLLIN, on_connect, c);
	if (!err && c->in_fd >= 0) {
		err = event_loop_add(loop, c->in_fd, EPOLLIN, on_input, c);
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
	if (c->ready_fd >= 0)
		close(c->ready_fd);
	free(c->path);
	pthread_mutex_destroy(&c->out_lock);
	c->in_fd = c->out_fd = c->listen_fd = c->pty_peer_fd = c->ready_fd = -1;
	c->path = NULL;
}
