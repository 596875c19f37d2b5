/*
 * corrald's console hub (daemon/console.h) natively: a listening Unix
 * socket in a temporary directory stands in for corral-vmm's console, and
 * socketpairs stand in for the users the API would attach. The test drives
 * corrald's loop itself (loop_once) and reads the other ends between rounds.
 */
#include "test.h"
#include "common/log.h"
#include "daemon/console.h"
#include "daemon/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ROUNDS 400	/* pump() rounds before giving up on something (about 2 s) */
#define MAX_ENDS 4

struct buf {
	char *data;
	size_t len;
};

/* The test's end of a user's socketpair. */
struct end {
	int fd;
	int hub_fd;		/* the hub's end: closed by done(), as the API's MHD would */
	bool done;
	bool reads;		/* pump() reads what arrives */
	struct buf got;
};

static struct loop loop;
static struct console_hub *hub;
static char dir[32], sock_path[PATH_MAX / 2], log_path[PATH_MAX / 2];
static int vmm_listen = -1, vmm = -1;	/* the stand-in VMM's socket and its connection */
static struct buf vmm_got;
static struct end ends[MAX_ENDS];
static int nends;

static void buf_add(struct buf *b, const char *data, size_t n)
{
	char *d = realloc(b->data, b->len + n + 1);

	if (!d)
		abort();
	memcpy(d + b->len, data, n);
	b->data = d;
	b->len += n;
	b->data[b->len] = '\0';
}

static bool buf_has(const struct buf *b, const char *s)
{
	return b->len && memmem(b->data, b->len, s, strlen(s));
}

static bool buf_is(const struct buf *b, const char *s)
{
	bool is = b->len == strlen(s) && !memcmp(b->data, s, b->len);

	if (!is)
		printf("# got %zu bytes: %.200s\n", b->len, b->len ? b->data : "");
	return is;
}

static void drain(int fd, struct buf *b)
{
	char chunk[65536];
	ssize_t n;

	while (fd >= 0 && (n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0)
		buf_add(b, chunk, (size_t)n);
}

/* One round of corrald's loop, then what reached the users and the VMM. */
static void pump(void)
{
	loop_once(&loop, 5);
	for (int i = 0; i < nends; i++)
		if (ends[i].reads)
			drain(ends[i].fd, &ends[i].got);
	drain(vmm, &vmm_got);
}

static bool pump_until(const struct buf *b, const char *s)
{
	for (int i = 0; i < ROUNDS && !buf_has(b, s); i++)
		pump();
	return buf_has(b, s);
}

static void pump_for(int rounds)
{
	while (rounds--)
		pump();
}

static int listen_at(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
		return -1;
	return fd;
}

/* The stand-in VMM takes the hub's connection (false if none comes). */
static bool vmm_accept(void)
{
	for (int i = 0; i < ROUNDS && vmm < 0; i++) {
		vmm = accept4(vmm_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (vmm < 0)
			pump();
	}
	free(vmm_got.data);
	vmm_got = (struct buf){ 0 };
	return vmm >= 0;
}

/* The guest prints: written as the VMM's socket takes it, never more than
 * the hub reads meanwhile. */
static void vmm_print(const char *data, size_t len)
{
	for (int stuck = 0; len && stuck < ROUNDS; stuck++) {
		ssize_t n = send(vmm, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			stuck = 0;
		} else {
			pump();
		}
	}
	CHECK_EQ(len, 0);
}

static void vmm_says(const char *text)
{
	vmm_print(text, strlen(text));
}

static void vmm_close(void)
{
	if (vmm >= 0)
		close(vmm);
	vmm = -1;
}

static void on_done(void *ctx)
{
	struct end *e = ctx;

	CHECK(!e->done);
	e->done = true;
	close(e->hub_fd);
}

static struct end *attach(bool force)
{
	struct end *e = &ends[nends++];
	int sv[2];

	*e = (struct end){ .fd = -1, .hub_fd = -1, .reads = true };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return e;
	e->fd = sv[0];
	e->hub_fd = sv[1];
	CHECK_EQ(console_hub_attach(hub, e->hub_fd, NULL, 0, force, on_done, e), 0);
	return e;
}

static void type(struct end *e, const char *keys)
{
	CHECK_EQ(write(e->fd, keys, strlen(keys)), (ssize_t)strlen(keys));
}

static bool make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/corral-hub-XXXXXX");
	if (!mkdtemp(dir) || loop_init(&loop) < 0)
		return false;
	snprintf(sock_path, sizeof(sock_path), "%s/console.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/web.log", dir);
	nends = 0;
	return true;
}

/* A hub for "web" logging at log_path (cap log_max), connected to the VMM
 * if `connect`. */
static bool open_hub(size_t log_max, bool connect)
{
	if (console_hub_open(&hub, &loop, "web", log_path, log_max) < 0)
		return false;
	if (!connect)
		return true;
	vmm_listen = listen_at(sock_path);
	return vmm_listen >= 0 && console_hub_connect(hub, sock_path) == 0 && vmm_accept();
}

static bool setup(size_t log_max, bool connect)
{
	return make_dir() && open_hub(log_max, connect);
}

static void teardown(void)
{
	char path[PATH_MAX];

	if (hub)
		console_hub_close(hub);
	hub = NULL;
	for (int i = 0; i < nends; i++) {
		CHECK(ends[i].done);	/* the hub handed every user back */
		close(ends[i].fd);
		free(ends[i].got.data);
	}
	nends = 0;
	vmm_close();
	if (vmm_listen >= 0)
		close(vmm_listen);
	vmm_listen = -1;
	free(vmm_got.data);
	vmm_got = (struct buf){ 0 };
	loop_fini(&loop);
	unlink(sock_path);
	snprintf(path, sizeof(path), "%s/console2.sock", dir);
	unlink(path);
	unlink(log_path);
	snprintf(path, sizeof(path), "%s.1", log_path);
	unlink(path);
	rmdir(dir);
}

static const char read_only[] =
	"\r\ncorral: console is read-only: another user has it read-write "
	"(corral console -f takes it over)\r\n";

static void scrollback_is_replayed_on_attach(void)
{
	struct end *a;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	vmm_says("boot 1\r\nboot 2\r\nlogin: ");
	pump_for(10);
	a = attach(false);
	CHECK(pump_until(&a->got, "login: "));
	CHECK(buf_is(&a->got, "boot 1\r\nboot 2\r\nlogin: "));
	/* Then the console as it goes. */
	vmm_says("root\r\n");
	CHECK(pump_until(&a->got, "root"));
	CHECK(buf_is(&a->got, "boot 1\r\nboot 2\r\nlogin: root\r\n"));
	teardown();
}

static void scrollback_keeps_the_last_64_kib(void)
{
	static char text[100 * 1024];
	struct end *a;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	vmm_print(text, sizeof(text));
	pump_for(20);
	a = attach(false);
	for (int i = 0; i < ROUNDS && a->got.len < CONSOLE_SCROLLBACK; i++)
		pump();
	pump_for(5);
	CHECK_EQ(a->got.len, CONSOLE_SCROLLBACK);
	CHECK(a->got.len && !memcmp(a->got.data, text + sizeof(text) - CONSOLE_SCROLLBACK,
				    CONSOLE_SCROLLBACK));
	teardown();
}

static void output_fans_out_to_every_user(void)
{
	struct end *a, *b;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	a = attach(false);
	b = attach(false);
	vmm_says("hello\r\n");
	CHECK(pump_until(&a->got, "hello\r\n"));
	CHECK(pump_until(&b->got, "hello\r\n"));
	CHECK(buf_is(&a->got, "hello\r\n"));
	/* The second is told it only watches. */
	CHECK(!strncmp(b->got.data ? b->got.data : "", read_only, strlen(read_only)));
	teardown();
}

static void only_the_read_write_user_types(void)
{
	struct end *rw, *ro;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	rw = attach(false);
	ro = attach(false);
	CHECK(pump_until(&ro->got, "read-only"));
	CHECK(!buf_has(&rw->got, "read-only"));
	type(ro, "rm -rf /\n");
	type(rw, "ls\n");
	CHECK(pump_until(&vmm_got, "ls\n"));
	pump_for(10);
	CHECK(buf_is(&vmm_got, "ls\n"));
	teardown();
}

static void force_takes_the_console_over(void)
{
	struct end *a, *b, *c;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	a = attach(false);
	b = attach(true);
	CHECK(pump_until(&a->got, "another user took it over"));
	CHECK(!buf_has(&b->got, "read-only"));
	type(a, "from a\n");
	type(b, "from b\n");
	CHECK(pump_until(&vmm_got, "from b\n"));
	pump_for(10);
	CHECK(buf_is(&vmm_got, "from b\n"));

	/* b leaves: nobody types until the next attach. */
	close(b->fd);
	b->fd = -1;
	for (int i = 0; i < ROUNDS && !b->done; i++)
		pump();
	CHECK(b->done);
	type(a, "still a\n");
	pump_for(10);
	CHECK(buf_is(&vmm_got, "from b\n"));
	c = attach(false);
	type(c, "from c\n");
	CHECK(pump_until(&vmm_got, "from c\n"));
	CHECK(!buf_has(&c->got, "read-only"));
	CHECK(!a->done);
	teardown();
}

static void input_before_the_upgrade_counts(void)
{
	struct end *e = &ends[nends];
	int sv[2];

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*e = (struct end){ .fd = sv[0], .hub_fd = sv[1], .reads = true };
	nends++;
	CHECK_EQ(console_hub_attach(hub, sv[1], "uptime\n", 7, false, on_done, e), 0);
	CHECK(pump_until(&vmm_got, "uptime\n"));
	/* The API's question "is there a console?" attaches nothing. */
	CHECK_EQ(console_hub_attach(hub, -1, NULL, 0, true, on_done, NULL), 0);
	type(e, "w\n");
	CHECK(pump_until(&vmm_got, "w\n"));
	CHECK(buf_is(&vmm_got, "uptime\nw\n"));
	teardown();
}

static bool file_is(const char *path, const char *data, size_t len)
{
	char got[512];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, got, sizeof(got));

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)len || memcmp(got, data, len))
		printf("# %s: %zd bytes, expected %zu\n", path, n, len);
	return n == (ssize_t)len && !memcmp(got, data, len);
}

static void log_is_capped_and_rotated(void)
{
	char text[251], earlier[90], old[PATH_MAX];
	struct end *a;
	int fd;

	for (int i = 0; i < 250; i++)
		text[i] = (char)('0' + i % 10);
	text[250] = '\0';
	memset(earlier, 'x', sizeof(earlier));
	CHECK(make_dir());
	/* A log from an earlier hub, 90 of its 100 bytes used. */
	fd = open(log_path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, earlier, sizeof(earlier)) == sizeof(earlier));
	close(fd);
	CHECK(open_hub(100, true));

	a = attach(false);
	vmm_says(text);
	CHECK(pump_until(&a->got, text + 240));
	pump_for(5);
	/* 90 + 250 bytes in logs of 100 each: LOG.1 holds bytes 110-209 of
	 * the output, LOG the last 40. */
	snprintf(old, sizeof(old), "%s.1", log_path);
	CHECK(file_is(old, text + 110, 100));
	CHECK(file_is(log_path, text + 210, 40));
	teardown();
}

static void a_new_vmm_keeps_the_users(void)
{
	char second[PATH_MAX];
	struct end *a;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	a = attach(false);
	vmm_says("one\r\n");
	CHECK(pump_until(&a->got, "one\r\n"));
	/* The VMM ends (the domain reboots, say). */
	vmm_close();
	pump_for(10);
	type(a, "lost\n");	/* nobody to type to: dropped */
	pump_for(10);
	CHECK(!a->done);

	snprintf(second, sizeof(second), "%s/console2.sock", dir);
	close(vmm_listen);
	vmm_listen = listen_at(second);
	CHECK(vmm_listen >= 0);
	CHECK_EQ(console_hub_connect(hub, second), 0);
	CHECK(vmm_accept());
	vmm_says("two\r\n");
	CHECK(pump_until(&a->got, "two\r\n"));
	CHECK(buf_is(&a->got, "one\r\ntwo\r\n"));
	type(a, "ls\n");
	CHECK(pump_until(&vmm_got, "ls\n"));
	CHECK(buf_is(&vmm_got, "ls\n"));
	CHECK(!a->done);
	teardown();
}

static void the_last_words_of_a_vmm_count(void)
{
	struct end *a;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	a = attach(false);
	pump_for(2);
	/* The VMM prints and exits; corrald notices the exit before the hub
	 * read the socket. */
	vmm_says("reboot: Power down\r\n");
	vmm_close();
	console_hub_disconnect(hub);
	CHECK(pump_until(&a->got, "Power down\r\n"));
	teardown();
}

static void connect_waits_for_a_late_socket(void)
{
	struct end *a;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, false));
	CHECK_EQ(console_hub_connect(hub, sock_path), 0);
	pump_for(20);	/* 100 ms and more without a socket */
	vmm_listen = listen_at(sock_path);
	CHECK(vmm_listen >= 0);
	CHECK(vmm_accept());
	a = attach(false);
	vmm_says("late\r\n");
	CHECK(pump_until(&a->got, "late\r\n"));
	teardown();
}

static void a_user_who_never_reads_is_dropped(void)
{
	static char text[2 * 1024 * 1024];
	struct end *slow, *fast;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)(i * 7 % 251);
	slow = attach(false);
	slow->reads = false;
	fast = attach(false);
	/* The hub keeps reading the VMM and feeding the other user: writing
	 * all of it here would stall if it waited for the slow one. */
	vmm_print(text, sizeof(text));
	for (int i = 0; i < ROUNDS && fast->got.len < strlen(read_only) + sizeof(text); i++)
		pump();
	CHECK(slow->done);
	CHECK(!fast->done);
	CHECK_EQ(fast->got.len, strlen(read_only) + sizeof(text));
	CHECK(fast->got.len == strlen(read_only) + sizeof(text) &&
	      !memcmp(fast->got.data + strlen(read_only), text, sizeof(text)));
	teardown();
}

static void closing_hands_every_user_back(void)
{
	struct end *a, *b;
	char c;

	CHECK(setup(CONSOLE_LOG_MAX_DEFAULT, true));
	a = attach(false);
	b = attach(false);
	pump_for(5);
	console_hub_close(hub);
	hub = NULL;
	CHECK(a->done && b->done);
	/* done() closed the hub's ends: the users see the end. */
	CHECK_EQ(read(a->fd, &c, 1), 0);
	teardown();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test_console_hub", LOG_LEVEL_SILENT);
	RUN(scrollback_is_replayed_on_attach);
	RUN(scrollback_keeps_the_last_64_kib);
	RUN(output_fans_out_to_every_user);
	RUN(only_the_read_write_user_types);
	RUN(force_takes_the_console_over);
	RUN(input_before_the_upgrade_counts);
	RUN(log_is_capped_and_rotated);
	RUN(a_new_vmm_keeps_the_users);
	RUN(the_last_words_of_a_vmm_count);
	RUN(connect_waits_for_a_late_socket);
	RUN(a_user_who_never_reads_is_dropped);
	RUN(closing_hands_every_user_back);
	return test_done();
}
