/* Console parsing and the unix-socket console with its backlog, natively
 * (no KVM needed). */
#include "test.h"
#include "vmm/console.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct sink {
	struct event_loop *loop;
	struct console *console;
	char got[64];
	size_t len;
	size_t refuse;          /* calls to refuse before accepting */
	unsigned calls;
};

static size_t deliver(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;

	s->calls++;
	if (s->refuse) {
		struct char_backend b = console_backend(s->console);

		/* Full now; room again later, as the UART says once drained. */
		s->refuse--;
		b.rx_ready(b.ctx);
		return 0;
	}
	len = len < sizeof(s->got) - s->len ? len : sizeof(s->got) - s->len;
	memcpy(s->got + s->len, buf, len);
	s->len += len;
	event_loop_quit(s->loop);
	return len;
}

static void no_escape(void *ctx)
{
	(void)ctx;
}

static void parse_accepts_each_kind(void)
{
	struct console_spec spec;

	CHECK_EQ(console_parse("stdio", &spec), 0);
	CHECK_EQ(spec.kind, CONSOLE_STDIO);
	CHECK_EQ(console_parse("pty", &spec), 0);
	CHECK_EQ(spec.kind, CONSOLE_PTY);
	CHECK_EQ(console_parse("none", &spec), 0);
	CHECK_EQ(spec.kind, CONSOLE_NONE);
	CHECK_EQ(console_parse("unix:/run/x.sock", &spec), 0);
	CHECK_EQ(spec.kind, CONSOLE_UNIX);
	CHECK(!strcmp(spec.path, "/run/x.sock"));
}

static void parse_rejects_the_rest(void)
{
	struct console_spec spec;
	char long_path[200] = "unix:";

	memset(long_path + 5, 'p', sizeof(long_path) - 6);
	CHECK_EQ(console_parse("serial", &spec), -EINVAL);
	CHECK_EQ(console_parse("unix:", &spec), -EINVAL);
	CHECK_EQ(console_parse("", &spec), -EINVAL);
	CHECK_EQ(console_parse(long_path, &spec), -ENAMETOOLONG);
}

/* A unix console in a fresh directory, attached to `loop`, and a client. */
static int open_unix_console(struct console *c, struct event_loop *loop, struct sink *s,
			     char *dir, int *client)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct console_spec spec;

	if (!mkdtemp(dir))
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/console.sock", dir);
	spec = (struct console_spec){ .kind = CONSOLE_UNIX, .path = addr.sun_path };
	if (event_loop_init(loop) < 0 || console_open(c, &spec) < 0 ||
	    console_attach(c, loop, deliver, no_escape, s) < 0)
		return -1;
	s->loop = loop;
	s->console = c;
	*client = socket(AF_UNIX, SOCK_STREAM, 0);
	return connect(*client, (struct sockaddr *)&addr, sizeof(addr));
}

static void close_unix_console(struct console *c, struct event_loop *loop, char *dir,
			       int client)
{
	char path[128];

	close(client);
	snprintf(path, sizeof(path), "%s/console.sock", dir);
	console_close(c);
	event_loop_fini(loop);
	CHECK(access(path, F_OK) != 0);   /* the socket file is removed */
	rmdir(dir);
}

static void unix_client_input_reaches_the_device(void)
{
	char dir[] = "/tmp/corral-console-XXXXXX";
	struct event_loop loop;
	struct sink s = { 0 };
	struct console c;
	int client = -1;

	CHECK_EQ(open_unix_console(&c, &loop, &s, dir, &client), 0);
	CHECK_EQ(write(client, "ls\n", 3), 3);
	CHECK_EQ(event_loop_run(&loop), 0);
	CHECK_EQ(s.len, 3);
	CHECK(!memcmp(s.got, "ls\n", 3));
	close_unix_console(&c, &loop, dir, client);
}

static void guest_output_reaches_the_unix_client(void)
{
	char dir[] = "/tmp/corral-console-XXXXXX";
	struct event_loop loop;
	struct sink s = { 0 };
	struct console c;
	struct char_backend out;
	char buf[16] = { 0 };
	int client = -1;

	CHECK_EQ(open_unix_console(&c, &loop, &s, dir, &client), 0);
	/* Input first, so the loop has accepted the client when it stops. */
	CHECK_EQ(write(client, "x", 1), 1);
	CHECK_EQ(event_loop_run(&loop), 0);
	out = console_backend(&c);
	out.write(out.ctx, (const uint8_t *)"login: ", 7);
	CHECK_EQ(read(client, buf, sizeof(buf)), 7);
	CHECK(!strcmp(buf, "login: "));
	close_unix_console(&c, &loop, dir, client);
}

static void refused_input_waits_until_the_device_has_room(void)
{
	char dir[] = "/tmp/corral-console-XXXXXX";
	struct event_loop loop;
	struct sink s = { .refuse = 1 };
	struct console c;
	int client = -1;

	CHECK_EQ(open_unix_console(&c, &loop, &s, dir, &client), 0);
	CHECK_EQ(write(client, "abc", 3), 3);
	/* The device refuses once; the bytes are kept, not lost, and handed over
	 * when it says it has room. */
	CHECK_EQ(event_loop_run(&loop), 0);
	CHECK_EQ(s.len, 3);
	CHECK(!memcmp(s.got, "abc", 3));
	CHECK(s.calls >= 2);
	close_unix_console(&c, &loop, dir, client);
}

/* Runs the loop until the sink takes the client's next key. */
static void run_once_more(struct event_loop *loop, struct sink *s, int client)
{
	s->len = 0;
	loop->done = false;
	CHECK_EQ(write(client, "x", 1), 1);
	CHECK_EQ(event_loop_run(loop), 0);
}

static void output_waits_for_the_next_client(void)
{
	char dir[] = "/tmp/corral-console-XXXXXX";
	struct event_loop loop;
	struct sink s = { 0 };
	struct console c;
	struct char_backend out;
	char buf[32] = { 0 };
	int client = -1;

	/* The client has connected but is not accepted yet: nobody listens. */
	CHECK_EQ(open_unix_console(&c, &loop, &s, dir, &client), 0);
	out = console_backend(&c);
	out.write(out.ctx, (const uint8_t *)"early ", 6);
	out.write(out.ctx, (const uint8_t *)"boot", 4);
	run_once_more(&loop, &s, client);
	out.write(out.ctx, (const uint8_t *)" late", 5);
	CHECK_EQ(read(client, buf, sizeof(buf)), 15);
	CHECK(!strcmp(buf, "early boot late"));
	close_unix_console(&c, &loop, dir, client);
}

static void a_slow_client_gets_the_backlog_in_order(void)
{
	static uint8_t text[48 * 1024], got[sizeof(text)];
	char dir[] = "/tmp/corral-console-XXXXXX";
	struct event_loop loop;
	struct sink s = { 0 };
	struct console c;
	struct char_backend out;
	int client = -1, sndbuf = 4096;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 7 % 251);
	CHECK_EQ(open_unix_console(&c, &loop, &s, dir, &client), 0);
	run_once_more(&loop, &s, client);
	CHECK(c.out_fd >= 0);
	setsockopt(c.out_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	out = console_backend(&c);
	for (size_t off = 0; off < sizeof(text); off += 1024)
		out.write(out.ctx, text + off, 1024);
	/* The socket took a little; the rest waits, and goes as it has room. */
	CHECK(c.backlog.len > 0);
	for (int round = 0; n < sizeof(got) && round < 10000; round++) {
		ssize_t m = recv(client, got + n, sizeof(got) - n, MSG_DONTWAIT);

		if (m > 0)
			n += (size_t)m;
		run_once_more(&loop, &s, client);
	}
	CHECK_EQ(n, sizeof(text));
	CHECK(!memcmp(got, text, sizeof(text)));
	CHECK_EQ(c.backlog.len, 0);
	close_unix_console(&c, &loop, dir, client);
}

static void the_backlog_keeps_the_newest_output(void)
{
	static uint8_t text[CONSOLE_BACKLOG + 1000], got[CONSOLE_BACKLOG + 1];
	char dir[] = "/tmp/corral-console-XXXXXX";
	struct event_loop loop;
	struct sink s = { 0 };
	struct console c;
	struct char_backend out;
	int client = -1;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 7 % 251);
	CHECK_EQ(open_unix_console(&c, &loop, &s, dir, &client), 0);
	out = console_backend(&c);
	out.write(out.ctx, text, sizeof(text));
	run_once_more(&loop, &s, client);
	for (int round = 0; round < 100; round++) {
		ssize_t m = recv(client, got + n, sizeof(got) - n, MSG_DONTWAIT);

		if (m > 0)
			n += (size_t)m;
		else if (n == CONSOLE_BACKLOG)
			break;
		else
			run_once_more(&loop, &s, client);
	}
	CHECK_EQ(n, CONSOLE_BACKLOG);
	CHECK(!memcmp(got, text + 1000, CONSOLE_BACKLOG));
	close_unix_console(&c, &loop, dir, client);
}

int main(void)
{
	log_init("test_console", LOG_LEVEL_SILENT);
	RUN(parse_accepts_each_kind);
	RUN(parse_rejects_the_rest);
	RUN(unix_client_input_reaches_the_device);
	RUN(guest_output_reaches_the_unix_client);
	RUN(refused_input_waits_until_the_device_has_room);
	RUN(output_waits_for_the_next_client);
	RUN(a_slow_client_gets_the_backlog_in_order);
	RUN(the_backlog_keeps_the_newest_output);
	return test_done();
}
