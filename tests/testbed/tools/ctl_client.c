/*
 * ctl_client SOCKET REQUEST...: talks to corral-vmm's control socket
 * (--control) for the testbed, where neither socat nor a netcat with Unix
 * sockets exists. Sends each REQUEST as one line, as is (so scenarios can
 * send malformed ones too), waits for its reply line and prints it.
 * Exit status: 0 if every request got a reply (whatever it said), 1 if
 * not (no socket, connection closed, no reply within 60 s).
 *
 * ctl_client --flood SOCKET BYTES: sends up to BYTES of requests without
 * ever reading a reply, as a client that is stuck would; prints how much
 * went out and whether the VMM hung up on it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 60000

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "ctl_client: %s: cannot make a socket\n", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "ctl_client: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads one reply line into stdout. */
static int read_reply(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	for (;;) {
		ssize_t n;

		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "ctl_client: no reply within %d s\n", REPLY_TIMEOUT_MS / 1000);
			return -1;
		}
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "ctl_client: the VMM closed the connection\n");
			return -1;
		}
		putchar(c);
		if (c == '\n')
			return fflush(stdout) == 0 ? 0 : -1;
	}
}

static int requests(const char *path, char **req, int n)
{
	int fd = connect_to(path);

	if (fd < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		if (send_all(fd, req[i], strlen(req[i])) < 0 || send_all(fd, "\n", 1) < 0) {
			fprintf(stderr, "ctl_client: send: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		if (read_reply(fd) < 0) {
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}

static int flood(const char *path, long total)
{
	static const char line[] = "{\"cmd\":\"status\"}\n";
	char buf[4096];
	size_t len = 0;
	long sent = 0;
	int fd = connect_to(path);

	if (fd < 0)
		return 1;
	while (len + sizeof(line) - 1 <= sizeof(buf)) {
		memcpy(buf + len, line, sizeof(line) - 1);
		len += sizeof(line) - 1;
	}
	/* Blocking sends: once the VMM stops reading, they wait; once it hangs
	 * up, they fail. Both end the flood (SO_SNDTIMEO bounds the wait). */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ .tv_sec = 10 },
		   sizeof(struct timeval));
	while (sent < total) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += n;
	}
	printf("flood: sent %ld bytes, %s\n", sent,
	       sent < total && (errno == EPIPE || errno == ECONNRESET) ?
	       "the VMM hung up" : "the VMM did not hang up");
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--flood"))
		return flood(argv[2], atol(argv[3]));
	if (argc < 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: ctl_client SOCKET REQUEST...\n"
				"       ctl_client --flood SOCKET BYTES\n");
		return 2;
	}
	return requests(argv[1], argv + 2, argc - 2);
}
