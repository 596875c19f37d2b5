/* The control socket natively (no KVM): the protocol through a fake table
 * of operations, the line framing and its limits, and the socket itself. */
#include "test.h"
#include "vmm/control.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- A fake VM: counts calls, fails when told to ------------------------ */

struct fake {
	unsigned status, pause, resume, shutdown, stop;
	bool paused;
	int fail;                  /* what every operation returns */
};

static int fake_status(void *ctx, struct control_status *st)
{
	struct fake *f = ctx;

	f->status++;
	st->paused = f->paused;
	st->vcpus = 2;
	st->memory_mib = 512;
	st->uptime_ms = 1234;
	st->vcpu_cpu_time_ns[0] = 1000;
	st->vcpu_cpu_time_ns[1] = 2500;
	return f->fail;
}

static int fake_pause(void *ctx)
{
	struct fake *f = ctx;

	f->pause++;
	f->paused = !f->fail;
	return f->fail;
}

static int fake_resume(void *ctx)
{
	struct fake *f = ctx;

	f->resume++;
	f->paused = false;
	return f->fail;
}

static int fake_shutdown(void *ctx)
{
	((struct fake *)ctx)->shutdown++;
	return ((struct fake *)ctx)->fail;
}

static int fake_stop(void *ctx)
{
	((struct fake *)ctx)->stop++;
	return ((struct fake *)ctx)->fail;
}

static const struct control_ops fake_ops = {
	.status = fake_status,
	.pause = fake_pause,
	.resume = fake_resume,
	.shutdown = fake_shutdown,
	.stop = fake_stop,
};

static unsigned calls(const struct fake *f)
{
	return f->status + f->pause + f->resume + f->shutdown + f->stop;
}

/* Sends `line` through the protocol; returns the parsed reply (or NULL if
 * it was not one line of JSON). */
static json_t *ask(struct fake *f, const char *line)
{
	char *text = control_handle_request(&fake_ops, f, line, strlen(line));
	json_t *reply = NULL;

	if (text && !strchr(text, '\n'))
		reply = json_loads(text, 0, NULL);
	free(text);
	return reply;
}

static bool is_ok(json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok"));
}

static const char *field(json_t *reply, const char *key)
{
	const char *s = json_string_value(json_object_get(reply, key));

	return s ? s : "";
}

static long long number(json_t *reply, const char *key)
{
	return json_integer_value(json_object_get(reply, key));
}

/* The reply is an error: "ok" false and an "error" starting with `prefix`. */
static bool is_error(json_t *reply, const char *prefix)
{
	return json_is_false(json_object_get(reply, "ok")) &&
	       !strncmp(field(reply, "error"), prefix, strlen(prefix));
}

/* ---- The protocol ------------------------------------------------------- */

static void status_reports_the_vm(void)
{
	struct fake f = { 0 };
	json_t *r = ask(&f, "{\"cmd\": \"status\"}");
	json_t *times = json_object_get(r, "vcpu_cpu_time_ns");

	CHECK(is_ok(r));
	CHECK(!strcmp(field(r, "state"), "running"));
	CHECK_EQ(number(r, "vcpus"), 2);
	CHECK_EQ(number(r, "memory_mib"), 512);
	CHECK_EQ(number(r, "uptime_ms"), 1234);
	CHECK_EQ(number(r, "cpu_time_ns"), 3500);
	CHECK_EQ(json_array_size(times), 2);
	CHECK_EQ(json_integer_value(json_array_get(times, 1)), 2500);
	CHECK(json_is_false(json_object_get(r, "shutting_down")));
	CHECK_EQ(f.status, 1);
	CHECK_EQ(calls(&f), 1);
	json_decref(r);
}

static void each_command_runs_its_operation(void)
{
	struct fake f = { 0 };
	json_t *r;

	r = ask(&f, "{\"cmd\":\"pause\"}");
	CHECK(is_ok(r) && !strcmp(field(r, "state"), "paused"));
	CHECK_EQ(f.pause, 1);
	json_decref(r);
	r = ask(&f, "{\"cmd\":\"status\"}");
	CHECK(!strcmp(field(r, "state"), "paused"));
	json_decref(r);
	r = ask(&f, "{\"cmd\":\"resume\"}");
	CHECK(is_ok(r) && !strcmp(field(r, "state"), "running"));
	CHECK_EQ(f.resume, 1);
	json_decref(r);
	r = ask(&f, "{\"cmd\":\"shutdown\"}");
	CHECK(is_ok(r));
	CHECK_EQ(f.shutdown, 1);
	json_decref(r);
	r = ask(&f, "{\"cmd\":\"stop\"}");
	CHECK(is_ok(r));
	CHECK_EQ(f.stop, 1);
	json_decref(r);
	CHECK_EQ(calls(&f), 5);
}

static void a_failed_operation_is_an_error_reply(void)
{
	struct fake f = { .fail = -ETIMEDOUT };
	json_t *r = ask(&f, "{\"cmd\":\"pause\"}");

	CHECK(is_error(r, "pause: "));
	CHECK(!strstr(field(r, "error"), "\n"));
	CHECK(!json_object_get(r, "state"));
	json_decref(r);
	r = ask(&f, "{\"cmd\":\"status\"}");
	CHECK(is_error(r, "status: "));
	CHECK(!json_object_get(r, "vcpus"));
	json_decref(r);
}

static void malformed_json_is_an_error_reply(void)
{
	static const char *const bad[] = {
		"", "{", "status", "{\"cmd\": \"status\"", "{\"cmd\": status}",
		"{\"cmd\": \"status\"} trailing", "{\"cmd\": \"status\"}{}", "\xff\xfe{}",
		"{\"cmd\": \"st\xc3\"}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	};
	struct fake f = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = ask(&f, bad[i]);

		CHECK(is_error(r, "malformed JSON"));
		json_decref(r);
	}
	CHECK_EQ(calls(&f), 0);
}

static void a_request_must_be_an_object_with_a_cmd(void)
{
	static const char *const bad[] = {
		"[\"status\"]", "\"status\"", "42", "null", "{}", "{\"cmd\": 1}",
		"{\"cmd\": null}", "{\"command\": \"status\"}", "{\"cmd\": [\"stop\"]}",
	};
	struct fake f = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = ask(&f, bad[i]);

		CHECK(is_error(r, "a request is a JSON object") || is_error(r, "missing \"cmd\""));
		json_decref(r);
	}
	CHECK_EQ(calls(&f), 0);
}

static void unknown_commands_are_refused(void)
{
	struct fake f = { 0 };
	json_t *r = ask(&f, "{\"cmd\": \"reboot\"}");

	CHECK(is_error(r, "unknown command 'reboot'"));
	json_decref(r);
	r = ask(&f, "{\"cmd\": \"STATUS\"}");
	CHECK(is_error(r, "unknown command"));
	json_decref(r);
	/* Control characters and non-ASCII are not echoed back raw. */
	r = ask(&f, "{\"cmd\": \"x\\u0001\\n\\u00e9y\"}");
	CHECK(is_error(r, "unknown command 'x????y'"));
	json_decref(r);
	CHECK_EQ(calls(&f), 0);
}

static void duplicate_keys_are_refused(void)
{
	struct fake f = { 0 };
	json_t *r = ask(&f, "{\"cmd\": \"status\", \"cmd\": \"stop\"}");

	CHECK(is_error(r, "malformed JSON"));
	CHECK_EQ(calls(&f), 0);
	json_decref(r);
}

static void the_request_id_is_echoed(void)
{
	struct fake f = { 0 };
	json_t *r = ask(&f, "{\"cmd\": \"status\", \"id\": 7, \"extra\": true}");

	CHECK(is_ok(r));
	CHECK_EQ(number(r, "id"), 7);
	json_decref(r);
	r = ask(&f, "{\"cmd\": \"nope\", \"id\": \"a\"}");
	CHECK(is_error(r, "unknown command"));
	CHECK(!strcmp(field(r, "id"), "a"));
	json_decref(r);
}

/* ---- Framing: a byte stream in, reply lines out ------------------------- */

static struct control_conn *new_conn(void)
{
	return calloc(1, sizeof(struct control_conn));
}

static int feed(struct control_conn *c, struct fake *f, const char *s)
{
	return control_conn_feed(c, &fake_ops, f, s, strlen(s));
}

/* The queued replies, parsed; `n` is set to how many there were. */
static json_t *replies(struct control_conn *c, size_t *n)
{
	json_t *all = json_array();
	char *line = c->out + c->out_off, *end = c->out + c->out_len;

	*n = 0;
	while (line < end) {
		char *nl = memchr(line, '\n', end - line);

		if (!nl)
			break;
		json_array_append_new(all, json_loadb(line, nl - line, 0, NULL));
		line = nl + 1;
		(*n)++;
	}
	return all;
}

static void lines_are_answered_in_order(void)
{
	struct control_conn *c = new_conn();
	struct fake f = { 0 };
	json_t *all;
	size_t n;

	CHECK_EQ(feed(c, &f, "{\"cmd\":\"pause\"}\n{\"cmd\":\"status\"}\r\n\n  \r\n{\"cmd\":"), 0);
	CHECK_EQ(feed(c, &f, "\"resume\"}"), 0);
	CHECK_EQ(f.resume, 0);          /* no newline yet */
	CHECK_EQ(feed(c, &f, "\n"), 0);
	all = replies(c, &n);
	CHECK_EQ(n, 3);
	CHECK(!strcmp(field(json_array_get(all, 0), "state"), "paused"));
	CHECK(!strcmp(field(json_array_get(all, 1), "state"), "paused"));
	CHECK(!strcmp(field(json_array_get(all, 2), "state"), "running"));
	CHECK_EQ(calls(&f), 3);
	json_decref(all);
	free(c);
}

static void an_overlong_line_gets_one_error(void)
{
	struct control_conn *c = new_conn();
	struct fake f = { 0 };
	char chunk[1000];
	json_t *all;
	size_t n;

	memset(chunk, 'x', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\0';
	/* 5 KB in pieces, then a valid request on the next line. */
	for (int i = 0; i < 5; i++)
		CHECK_EQ(feed(c, &f, chunk), 0);
	CHECK_EQ(feed(c, &f, "{\"cmd\":\"stop\"}\n{\"cmd\":\"status\"}\n"), 0);
	all = replies(c, &n);
	CHECK_EQ(n, 2);
	CHECK(is_error(json_array_get(all, 0), "request too long"));
	CHECK(is_ok(json_array_get(all, 1)));
	CHECK_EQ(f.stop, 0);            /* the "stop" ended the long line */
	CHECK_EQ(f.status, 1);
	json_decref(all);
	free(c);
}

static void a_line_of_the_maximum_length_is_taken(void)
{
	struct control_conn *c = new_conn();
	struct fake f = { 0 };
	char *line = malloc(CONTROL_LINE_MAX + 2);
	const char *req = "{\"cmd\":\"status\"}";
	size_t n;
	json_t *all;

	memset(line, ' ', CONTROL_LINE_MAX);
	memcpy(line, req, strlen(req));
	line[CONTROL_LINE_MAX] = '\n';
	line[CONTROL_LINE_MAX + 1] = '\0';
	CHECK_EQ(feed(c, &f, line), 0);
	all = replies(c, &n);
	CHECK_EQ(n, 1);
	CHECK(is_ok(json_array_get(all, 0)));
	json_decref(all);
	free(line);
	free(c);
}

static void endless_garbage_costs_one_reply(void)
{
	struct control_conn *c = new_conn();
	struct fake f = { 0 };
	char chunk[4096];
	size_t n;
	json_t *all;

	memset(chunk, 'g', sizeof(chunk));
	for (int i = 0; i < 1024; i++)          /* 4 MiB, no newline */
		CHECK_EQ(control_conn_feed(c, &fake_ops, &f, chunk, sizeof(chunk)), 0);
	all = replies(c, &n);
	CHECK_EQ(n, 1);
	CHECK(is_error(json_array_get(all, 0), "request too long"));
	CHECK_EQ(calls(&f), 0);
	json_decref(all);
	free(c);
}

static void replies_nobody_reads_are_capped(void)
{
	struct control_conn *c = new_conn();
	struct fake f = { 0 };
	int err = 0, i;

	for (i = 0; i < 100000 && !err; i++)
		err = feed(c, &f, "{\"cmd\":\"status\"}\n");
	CHECK_EQ(err, -ENOBUFS);
	CHECK(c->out_len <= CONTROL_OUT_MAX);
	CHECK(i < 1000);
	free(c);
}

/* ---- The socket --------------------------------------------------------- */

static void quit(void *ctx, uint32_t events)
{
	(void)events;
	event_loop_quit(ctx);
}

/* Runs the loop for `ms` milliseconds. */
static void spin(struct event_loop *loop, int ms)
{
	struct itimerspec t = { .it_value.tv_nsec = ms * 1000000L };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	timerfd_settime(fd, 0, &t, NULL);
	event_loop_add(loop, fd, EPOLLIN, quit, loop);
	loop->done = false;
	event_loop_run(loop);
	event_loop_remove(loop, fd);
	close(fd);
}

struct server {
	char dir[64];
	char path[108];
	struct event_loop loop;
	struct control control;
	struct fake fake;
};

static int server_start(struct server *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/corral-control-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/ctl.sock", s->dir);
	if (event_loop_init(&s->loop) < 0 || control_open(&s->control, s->path) < 0)
		return -1;
	return control_attach(&s->control, &s->loop, &fake_ops, &s->fake);
}

static void server_stop(struct server *s)
{
	control_close(&s->control);
	event_loop_fini(&s->loop);
	CHECK(access(s->path, F_OK) != 0);      /* the socket file is gone */
	rmdir(s->dir);
}

static int client(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a request, runs the loop, and reads what came back. */
static ssize_t request(struct server *s, int fd, const char *req, char *buf, size_t size)
{
	ssize_t n;

	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	spin(&s->loop, 20);
	n = recv(fd, buf, size - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static void the_socket_answers_and_is_private(void)
{
	struct server s;
	struct stat st;
	char buf[512];
	int fd;

	CHECK_EQ(server_start(&s), 0);
	CHECK_EQ(lstat(s.path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	fd = client(s.path);
	CHECK(fd >= 0);
	CHECK(request(&s, fd, "{\"cmd\":\"status\"}\n", buf, sizeof(buf)) > 0);
	CHECK(!strncmp(buf, "{\"ok\":true,\"state\":\"running\"", 28));
	CHECK(buf[strlen(buf) - 1] == '\n');
	CHECK(request(&s, fd, "nonsense\n", buf, sizeof(buf)) > 0);
	CHECK(!strncmp(buf, "{\"ok\":false,\"error\":\"malformed JSON", 35));
	CHECK_EQ(s.fake.status, 1);
	close(fd);
	server_stop(&s);
}

static void a_new_client_replaces_the_old(void)
{
	struct server s;
	char buf[512];
	int old, fresh;

	CHECK_EQ(server_start(&s), 0);
	old = client(s.path);
	CHECK(request(&s, old, "{\"cmd\":\"status\"}\n", buf, sizeof(buf)) > 0);
	fresh = client(s.path);
	CHECK(request(&s, fresh, "{\"cmd\":\"pause\"}\n", buf, sizeof(buf)) > 0);
	CHECK(!strncmp(buf, "{\"ok\":true,\"state\":\"paused\"", 27));
	CHECK_EQ(read(old, buf, sizeof(buf)), 0);       /* closed on the old one */
	close(old);
	close(fresh);
	server_stop(&s);
}

static void a_client_that_does_not_read_is_dropped(void)
{
	struct server s;
	char reqs[4096];
	size_t len = 0;
	int fd, i;

	CHECK_EQ(server_start(&s), 0);
	fd = client(s.path);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (len + 20 < sizeof(reqs))
		len += snprintf(reqs + len, sizeof(reqs) - len, "{\"cmd\":\"status\"}\n");
	for (i = 0; i < 2000 && s.control.client_fd >= 0; i++) {
		if (write(fd, reqs, len) < 0 && errno != EAGAIN)
			break;
		spin(&s.loop, 1);
	}
	CHECK_EQ(s.control.client_fd, -1);
	/* The VMM goes on serving: the next client is answered. */
	close(fd);
	fd = client(s.path);
	CHECK(request(&s, fd, "{\"cmd\":\"status\"}\n", reqs, sizeof(reqs)) > 0);
	CHECK(!strncmp(reqs, "{\"ok\":true", 10));
	close(fd);
	server_stop(&s);
}

static void a_stale_socket_is_replaced(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/corral-control-XXXXXX";
	struct control c;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/ctl.sock", dir);
	/* A socket file whose owner is gone, as after a SIGKILL. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	CHECK_EQ(control_open(&c, addr.sun_path), 0);
	control_close(&c);
	CHECK(access(addr.sun_path, F_OK) != 0);
	rmdir(dir);
}

static void a_live_socket_or_another_file_is_refused(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/corral-control-XXXXXX";
	struct stat st;
	struct control c;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/ctl.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	CHECK_EQ(listen(fd, 1), 0);
	CHECK_EQ(control_open(&c, addr.sun_path), -EADDRINUSE);
	control_close(&c);
	CHECK_EQ(lstat(addr.sun_path, &st), 0);         /* still there */
	close(fd);
	unlink(addr.sun_path);

	fd = open(addr.sun_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	CHECK_EQ(control_open(&c, addr.sun_path), -EEXIST);
	control_close(&c);
	CHECK_EQ(lstat(addr.sun_path, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	unlink(addr.sun_path);
	rmdir(dir);
}

static void paths_are_checked_before_use(void)
{
	char long_path[200];

	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	CHECK_EQ(control_check_path("/run/corral/vm.sock"), 0);
	CHECK_EQ(control_check_path(""), -EINVAL);
	CHECK_EQ(control_check_path(long_path), -ENAMETOOLONG);
}

int main(void)
{
	log_init("test_control", LOG_LEVEL_SILENT);
	RUN(status_reports_the_vm);
	RUN(each_command_runs_its_operation);
	RUN(a_failed_operation_is_an_error_reply);
	RUN(malformed_json_is_an_error_reply);
	RUN(a_request_must_be_an_object_with_a_cmd);
	RUN(unknown_commands_are_refused);
	RUN(duplicate_keys_are_refused);
	RUN(the_request_id_is_echoed);
	RUN(lines_are_answered_in_order);
	RUN(an_overlong_line_gets_one_error);
	RUN(a_line_of_the_maximum_length_is_taken);
	RUN(endless_garbage_costs_one_reply);
	RUN(replies_nobody_reads_are_capped);
	RUN(the_socket_answers_and_is_private);
	RUN(a_new_client_replaces_the_old);
	RUN(a_client_that_does_not_read_is_dropped);
	RUN(a_stale_socket_is_replaced);
	RUN(a_live_socket_or_another_file_is_refused);
	RUN(paths_are_checked_before_use);
	return test_done();
}
