/*
 * corral console: a domain's serial console on this terminal, through
 * corrald (docs/API.md: GET /v1/domains/NAME/console, upgraded to a byte
 * stream). libcurl cannot hand over an upgraded connection, so this speaks
 * the little HTTP it needs on the socket itself, then relays bytes: the
 * keyboard to the socket, the socket to the screen.
 */
#include "cli/client.h"
#include "cli/commands.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define CONSOLE_ESCAPE 0x1d		/* Ctrl-]: detach */
#define REPLY_HEAD_MAX (16 * 1024)	/* corrald's reply up to the blank line */
#define REPLY_BODY_MAX (64 * 1024)	/* an error reply's JSON */

static const char console_usage[] =
	"usage: corral console [-f] NAME\n"
	"\n"
	"Attaches to the serial console of domain NAME (a name or an ID): what the\n"
	"guest printed lately, then its console as it goes. The first user to attach\n"
	"types; the others watch (read-only) unless they take it over with -f.\n"
	"On a terminal, Ctrl-] detaches. Ends, with status 0, when the console\n"
	"closes (the domain is destroyed, corrald stops) or on Ctrl-].\n"
	"\n"
	"  -f, --force  type, and make whoever typed until now watch\n"
	"  -h, --help   this text\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static bool send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads from fd into buf (size bytes, NUL-terminated) until it holds
 * `until` (NULL: until size - 1 bytes or EOF); the bytes read, or -1 with
 * errno. Gives up after CLIENT_TIMEOUT_S without a byte (ETIMEDOUT). */
static ssize_t read_until(int fd, char *buf, size_t size, size_t len, const char *until)
{
	while (len + 1 < size && !(until && memmem(buf, len, until, strlen(until)))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ready = poll(&p, 1, CLIENT_TIMEOUT_S * 1000);
		ssize_t n;

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			errno = ready ? errno : ETIMEDOUT;
			return -1;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* A reply header's value (case-insensitive name), or NULL. */
static const char *header(const char *head, const char *name)
{
	for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		size_t n = strlen(name);

		if (!strncasecmp(line + 2, name, n) && line[2 + n] == ':')
			return line + 3 + n;
	}
	return NULL;
}

/* A refused attach (not 101): prints corrald's error; EXIT_FAILED. */
static int refused(int fd, long status, const char *head, char *rest, size_t rest_len)
{
	const char *length = header(head, "Content-Length");
	size_t want = length ? strtoul(length, NULL, 10) : REPLY_BODY_MAX - 1;
	struct client_reply reply = { .status = status };
	char *body = malloc(REPLY_BODY_MAX);
	ssize_t n = -1;

	want = MIN(want, (size_t)REPLY_BODY_MAX - 1);
	if (body) {
		memcpy(body, rest, MIN(rest_len, want));
		n = read_until(fd, body, want + 1, MIN(rest_len, want), NULL);
	}
	if (n > 0)
		reply.body = json_loadb(body, (size_t)n, 0, NULL);
	free(body);
	client_fail("console", &reply);
	client_reply_free(&reply);
	return EXIT_FAILED;
}

/*
 * Sends the upgrade request for `name`'s console and reads the reply's
 * head. On 101, returns 0 with what followed the head (the console's first
 * bytes) at buf + *start, *len bytes in all; otherwise prints why and
 * returns EXIT_FAILED.
 */
static int upgrade(int fd, const char *name, bool force, char *buf, size_t size,
		   size_t *start, size_t *len)
{
	char path[128], request[256];
	char *end;
	ssize_t n;
	long status;

	client_domain_path(path, sizeof(path), name, "console");
	snprintf(request, sizeof(request),
		 "GET %s%s HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
		 "Upgrade: corral-console\r\n\r\n", path, force ? "?force=1" : "");
	if (!send_all(fd, request, strlen(request)) ||
	    (n = read_until(fd, buf, size, 0, "\r\n\r\n")) < 0) {
		fprintf(stderr, "corral console: corrald at %s: %s\n", client_socket(),
			strerror(errno));
		return EXIT_FAILED;
	}
	end = strstr(buf, "\r\n\r\n");
	if (!end || strncmp(buf, "HTTP/1.", 7) || n < 12) {
		fprintf(stderr, "corral console: corrald at %s: not an HTTP reply\n",
			client_socket());
		return EXIT_FAILED;
	}
	*end = '\0';
	*start = (size_t)(end + 4 - buf);
	*len = (size_t)n;
	status = strtol(buf + 9, NULL, 10);
	if (status != 101)
		return refused(fd, status, buf, end + 4, *len - *start);
	return 0;
}

enum relay_end { RELAY_DETACHED, RELAY_CLOSED, RELAY_SIGNAL };

/* Keys to the socket; on a terminal Ctrl-] detaches. At the end of a
 * stdin that is not a terminal, *keys goes -1 and the output goes on. */
static int relay_keys(int sock, int *keys, bool tty, enum relay_end *end)
{
	char buf[4096], *escape;
	ssize_t n = read(*keys, buf, sizeof(buf));
	size_t len;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0) {
		*keys = -1;
		return 0;
	}
	len = (size_t)n;
	escape = tty ? memchr(buf, CONSOLE_ESCAPE, len) : NULL;
	if (escape)
		len = (size_t)(escape - buf);
	if (!send_all(sock, buf, len)) {
		*end = RELAY_CLOSED;
		return 1;
	}
	*end = RELAY_DETACHED;
	return escape != NULL;
}

/* The socket to the screen until it closes (or the screen does). */
static int relay_output(int sock, enum relay_end *end)
{
	char buf[16 * 1024];
	ssize_t n = read(sock, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	*end = RELAY_CLOSED;
	return n <= 0 || write_full(STDOUT_FILENO, buf, (size_t)n) < 0;
}

static enum relay_end relay(int sock, bool tty)
{
	enum relay_end end = RELAY_CLOSED;
	int keys = STDIN_FILENO;

	while (!stop_signal) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = keys, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return RELAY_CLOSED;
		}
		if (p[0].revents && relay_output(sock, &end))
			return end;
		if (p[1].revents && relay_keys(sock, &keys, tty, &end))
			return end;
	}
	return RELAY_SIGNAL;
}

/* Relays with the terminal (if stdin is one) in raw mode, restored on the
 * way out whatever ends it. */
static int session(int sock, const char *name)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	enum relay_end end;

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty) {
		fprintf(stderr, "Connected to %s (Ctrl-] to detach)\n", name);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	end = relay(sock, tty);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fputc('\n', stderr);
	}
	if (end == RELAY_CLOSED)
		fprintf(stderr, "corral console: the console of '%s' closed (the domain is gone "
			"or corrald stopped)\n", name);
	else if (end == RELAY_SIGNAL)
		fprintf(stderr, "corral console: %s: detached\n", strsignal(stop_signal));
	return EXIT_OK;
}

int attach_console(const char *name, bool force)
{
	char buf[REPLY_HEAD_MAX + 1];
	size_t start, len;
	int fd, rc;

	if (!client_name_ok(name)) {
		fprintf(stderr, "corral console: no domain '%s'\n", name);
		return EXIT_FAILED;
	}
	fd = client_connect("console");
	if (fd < 0)
		return EXIT_FAILED;
	rc = upgrade(fd, name, force, buf, sizeof(buf), &start, &len);
	if (!rc && write_full(STDOUT_FILENO, buf + start, len - start) < 0)
		rc = EXIT_FAILED;
	if (!rc)
		rc = session(fd, name);
	close(fd);
	return rc;
}

int cmd_console(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false;
	int c;

	while ((c = getopt_long(argc, argv, "+fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(console_usage, stdout);
			return EXIT_OK;
		default:
			fputs(console_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(console_usage, stderr);
		return EXIT_USAGE;
	}
	return attach_console(argv[optind], force);
}
