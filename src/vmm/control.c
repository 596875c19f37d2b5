#include "vmm/control.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- The protocol: one request line, one reply ------------------------- */

/* A command's work; it adds its fields to `reply` and returns 0 or -errno. */
typedef int (*command_fn)(const struct control_ops *ops, void *ctx, json_t *reply);

struct command {
	const char *name;
	command_fn run;
};

/* `src` made safe to quote in a reply: printable ASCII only (the rest
 * becomes '?'), at most `size` - 1 bytes. */
static void printable(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

static int set_state(json_t *reply, bool paused)
{
	if (json_object_set_new(reply, "state", json_string(paused ? "paused" : "running")))
		return -ENOMEM;
	return 0;
}

static json_t *cpu_times(const struct control_status *st, uint64_t *total)
{
	json_t *times = json_array();

	*total = 0;
	for (unsigned i = 0; times && i < st->vcpus && i < CONTROL_MAX_VCPUS; i++) {
		*total += st->vcpu_cpu_time_ns[i];
		json_array_append_new(times, json_integer((json_int_t)st->vcpu_cpu_time_ns[i]));
	}
	return times;
}

static int run_status(const struct control_ops *ops, void *ctx, json_t *reply)
{
	struct control_status st = { 0 };
	json_t *times, *fields;
	uint64_t total;
	int err = ops->status(ctx, &st);

	if (err)
		return err;
	times = cpu_times(&st, &total);
	/* "o" hands `times` over, on failure too (and fails if it is NULL). */
	fields = json_pack("{s:s, s:i, s:I, s:I, s:I, s:o, s:b}",
			   "state", st.paused ? "paused" : "running",
			   "vcpus", (int)st.vcpus,
			   "memory_mib", (json_int_t)st.memory_mib,
			   "uptime_ms", (json_int_t)st.uptime_ms,
			   "cpu_time_ns", (json_int_t)total,
			   "vcpu_cpu_time_ns", times,
			   "shutting_down", st.shutting_down);
	err = fields && !json_object_update(reply, fields) ? 0 : -ENOMEM;
	json_decref(fields);
	return err;
}

static int run_pause(const struct control_ops *ops, void *ctx, json_t *reply)
{
	int err = ops->pause(ctx);

	return err ? err : set_state(reply, true);
}

static int run_resume(const struct control_ops *ops, void *ctx, json_t *reply)
{
	int err = ops->resume(ctx);

	return err ? err : set_state(reply, false);
}

static int run_shutdown(const struct control_ops *ops, void *ctx, json_t *reply)
{
	(void)reply;
	return ops->shutdown(ctx);
}

static int run_stop(const struct control_ops *ops, void *ctx, json_t *reply)
{
	(void)reply;
	return ops->stop(ctx);
}

static const struct command commands[] = {
	{ "status", run_status },
	{ "pause", run_pause },
	{ "resume", run_resume },
	{ "shutdown", run_shutdown },
	{ "stop", run_stop },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Runs `request`'s command, which adds its fields to `reply`; on failure
 * returns -1 with the reason in `message`. */
static int dispatch(const struct control_ops *ops, void *ctx, json_t *request,
		    json_t *reply, char *message, size_t size)
{
	const char *name = json_string_value(json_object_get(request, "cmd"));
	const struct command *cmd;
	char quoted[48];
	int err;

	if (!json_is_object(request)) {
		snprintf(message, size, "a request is a JSON object: {\"cmd\": \"...\"}");
		return -1;
	}
	if (!name) {
		snprintf(message, size, "missing \"cmd\" (a string)");
		return -1;
	}
	cmd = find_command(name);
	if (!cmd) {
		printable(quoted, sizeof(quoted), name);
		snprintf(message, size, "unknown command '%s' (status, pause, resume, shutdown, "
			 "stop)", quoted);
		return -1;
	}
	err = cmd->run(ops, ctx, reply);
	if (err < 0) {
		snprintf(message, size, "%s: %s", cmd->name, strerror(-err));
		return -1;
	}
	return 0;
}

/* {"ok": ..., "id": ...}: a request's "id", if it has one, is echoed, so a
 * client can match replies to requests. */
static json_t *reply_head(bool ok, json_t *request)
{
	json_t *reply = json_pack("{s:b}", "ok", ok);
	json_t *id = json_object_get(request, "id");

	if (reply && id)
		json_object_set(reply, "id", id);
	return reply;
}

static json_t *error_reply(json_t *request, const char *message)
{
	json_t *reply = reply_head(false, request);
	char safe[256];

	printable(safe, sizeof(safe), message);
	if (reply)
		json_object_set_new(reply, "error", json_string(safe));
	return reply;
}

char *control_handle_request(const struct control_ops *ops, void *ctx,
			     const char *line, size_t len)
{
	json_error_t jerr;
	json_t *request = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	json_t *reply = reply_head(true, request);
	char message[256], *text;

	if (!request) {
		snprintf(message, sizeof(message), "malformed JSON: %s (column %d)", jerr.text,
			 jerr.column);
		json_decref(reply);
		reply = error_reply(NULL, message);
	} else if (reply && dispatch(ops, ctx, request, reply, message, sizeof(message)) < 0) {
		json_decref(reply);
		reply = error_reply(request, message);
	}
	text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	json_decref(reply);
	json_decref(request);
	return text;
}

/* ---- A client's streams: lines in, replies out -------------------------- */

int control_conn_queue(struct control_conn *conn, const char *reply)
{
	size_t len = strlen(reply);

	if (conn->out_off) {
		memmove(conn->out, conn->out + conn->out_off, conn->out_len - conn->out_off);
		conn->out_len -= conn->out_off;
		conn->out_off = 0;
	}
	if (len + 1 > sizeof(conn->out) - conn->out_len)
		return -ENOBUFS;
	memcpy(conn->out + conn->out_len, reply, len);
	conn->out[conn->out_len + len] = '\n';
	conn->out_len += len + 1;
	return 0;
}

static int queue_error(struct control_conn *conn, const char *message)
{
	json_t *reply = json_pack("{s:b, s:s}", "ok", 0, "error", message);
	char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	int err = text ? control_conn_queue(conn, text) : -ENOMEM;

	free(text);
	json_decref(reply);
	return err;
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* A complete line: handle it and queue the reply. */
static int take_line(struct control_conn *conn, const struct control_ops *ops, void *ctx)
{
	size_t len = conn->in_len;
	char *reply;
	int err;

	conn->in_len = 0;
	if (len && conn->in[len - 1] == '\r')
		len--;
	if (blank(conn->in, len))
		return 0;
	reply = control_handle_request(ops, ctx, conn->in, len);
	err = reply ? control_conn_queue(conn, reply) : -ENOMEM;
	free(reply);
	return err;
}

/* Appends `len` bytes of one line; a line that outgrows the buffer is
 * answered at once and its rest skipped. */
static int append(struct control_conn *conn, const char *data, size_t len)
{
	char message[64];

	if (conn->overlong)
		return 0;
	if (len <= sizeof(conn->in) - conn->in_len) {
		memcpy(conn->in + conn->in_len, data, len);
		conn->in_len += len;
		return 0;
	}
	conn->overlong = true;
	conn->in_len = 0;
	snprintf(message, sizeof(message), "request too long (at most %d bytes)",
		 CONTROL_LINE_MAX);
	return queue_error(conn, message);
}

int control_conn_feed(struct control_conn *conn, const struct control_ops *ops, void *ctx,
		      const char *data, size_t len)
{
	int err = 0;

	while (len && !err) {
		const char *nl = memchr(data, '\n', len);
		size_t part = nl ? (size_t)(nl - data) : len;

		err = append(conn, data, part);
		if (!err && nl) {
			if (!conn->overlong)
				err = take_line(conn, ops, ctx);
			conn->overlong = false;
			conn->in_len = 0;
			part++;
		}
		data += part;
		len -= part;
	}
	return err;
}

/* ---- The socket --------------------------------------------------------- */

int control_check_path(const char *path)
{
	struct sockaddr_un addr;

	if (!*path) {
		log_error("--control needs a socket path");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("--control path is too long (at most %zu bytes): %s",
			  sizeof(addr.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	return 0;
}

static struct sockaddr_un socket_address(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	/* control_check_path() checked the length. */
	strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
	return addr;
}

/* A socket at `path` nobody listens on is stale: remove it. The probe is a
 * connection, which a live VMM would take as its new client. */
static int remove_stale_socket(const char *path)
{
	struct sockaddr_un addr = socket_address(path);
	struct stat st;
	int fd, refused;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : log_errno(path);
	if (!S_ISSOCK(st.st_mode)) {
		log_error("--control %s: the path exists and is not a socket; not replacing it",
			  path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno("socket");
	/* Only a refusal says nobody listens; EAGAIN is a full backlog. */
	refused = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? errno : 0;
	close(fd);
	if (refused == 0 || refused == EAGAIN) {
		log_error("--control %s: another process is listening on it (a VMM running?)",
			  path);
		return -EADDRINUSE;
	}
	if (refused != ECONNREFUSED && refused != ENOENT) {
		log_error("--control %s: cannot tell whether the socket is in use: %s", path,
			  strerror(refused));
		return -refused;
	}
	log_info("--control %s: removing a stale socket", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(path);
	return 0;
}

/* Binds the listening socket to `path`, mode 0600, and remembers which
 * file it made. Nobody can connect before listen(): no window in which the
 * socket has a wider mode. */
static int bind_private(struct control *c, const char *path)
{
	struct sockaddr_un addr = socket_address(path);
	struct stat st;

	if (bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return log_errno(path);
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0) {
		int err = log_errno(path);

		unlink(path);
		return err;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->path = strdup(path);
	return c->path ? 0 : -ENOMEM;
}

int control_open(struct control *c, const char *path)
{
	int err;

	*c = (struct control){ .listen_fd = -1, .client_fd = -1 };
	err = remove_stale_socket(path);
	if (err)
		return err;
	c->conn = calloc(1, sizeof(*c->conn));
	if (!c->conn)
		return -ENOMEM;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return log_errno("socket");
	err = bind_private(c, path);
	if (!err && listen(c->listen_fd, 4) < 0)
		err = log_errno(path);
	if (!err)
		log_debug("control socket on %s", path);
	return err;
}

static void drop_client(struct control *c)
{
	if (c->client_fd < 0)
		return;
	event_loop_remove(c->loop, c->client_fd);
	close(c->client_fd);
	c->client_fd = -1;
}

/* Sends what the client has not been sent; waits for room if it must. */
static void flush_client(struct control *c)
{
	struct control_conn *conn = c->conn;

	while (conn->out_off < conn->out_len) {
		ssize_t n = write(c->client_fd, conn->out + conn->out_off,
				  conn->out_len - conn->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_debug("control: client write: %s", strerror(errno));
			drop_client(c);
			return;
		}
		conn->out_off += n;
	}
	if (conn->out_off == conn->out_len)
		conn->out_off = conn->out_len = 0;
	event_loop_modify(c->loop, c->client_fd, conn->out_len ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Reads one buffer's worth (so a client sending without end cannot starve
 * the loop), handles the lines in it and sends the replies. */
static void read_client(struct control *c)
{
	char buf[CONTROL_LINE_MAX];
	ssize_t n = read(c->client_fd, buf, sizeof(buf));
	int err;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone: replies it did not wait for are dropped with it. */
		drop_client(c);
		return;
	}
	err = control_conn_feed(c->conn, c->ops, c->ctx, buf, n);
	if (err) {
		if (err == -ENOBUFS)
			log_warn("control: the client does not read its replies; disconnected");
		else
			log_error("control: %s; client disconnected", strerror(-err));
		drop_client(c);
		return;
	}
	/* A command (stop) may end the VMM; the reply goes out now regardless. */
	flush_client(c);
}

static void on_client(void *ctx, uint32_t events)
{
	struct control *c = ctx;

	if (events & EPOLLOUT)
		flush_client(c);
	if (c->client_fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_client(c);
}

static void on_connect(void *ctx, uint32_t events)
{
	struct control *c = ctx;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (fd < 0)
		return;
	if (c->client_fd >= 0)
		log_info("control: a new client replaces the connected one");
	drop_client(c);
	*c->conn = (struct control_conn){ 0 };
	if (event_loop_add(c->loop, fd, EPOLLIN, on_client, c) < 0) {
		log_error("control: cannot watch the new client");
		close(fd);
		return;
	}
	c->client_fd = fd;
}

int control_attach(struct control *c, struct event_loop *loop,
		   const struct control_ops *ops, void *ctx)
{
	int err;

	c->loop = loop;
	c->ops = ops;
	c->ctx = ctx;
	err = event_loop_add(loop, c->listen_fd, EPOLLIN, on_connect, c);
	if (err)
		log_error("control socket: %s", strerror(-err));
	return err;
}

/* Removes the socket file if it is still the one we made. */
static void remove_socket(const struct control *c)
{
	struct stat st;

	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
}

void control_close(struct control *c)
{
	if (c->client_fd >= 0)
		close(c->client_fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->path)
		remove_socket(c);
	free(c->path);
	free(c->conn);
	*c = (struct control){ .listen_fd = -1, .client_fd = -1 };
}
