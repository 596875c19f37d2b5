/* Console parsing and the unix-socket console, natively (no KVM needed). */
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

int main(void)
{
	log_init("test_console", LOG_LEVEL_SILENT);
	RUN(parse_accepts_each_kind);
	RUN(parse_rejects_the_rest);
	RUN(unix_client_input_reaches_the_device);
	RUN(guest_output_reaches_the_unix_client);
	RUN(refused_input_waits_until_the_device_has_room);
	return test_done();
}
