#include "daemon/vmm_control.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 8192	/* a status of 64 vCPUs fits several times over */

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix socket connects at once or fails at once. */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Reads up to the first newline within the deadline; NUL-terminates. */
static int read_line(int fd, char *buf, size_t size, int64_t deadline)
{
	size_t len = 0;

	while (!memchr(buf, '\n', len)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!p.revents)
			continue;
		if (len == size - 1)
			return -EMSGSIZE;
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

static int parse_reply(const char *path, const char *cmd, const char *line, json_t **reply)
{
	json_t *j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		log_error("%s: %s: the VMM's reply is not a JSON object", path, cmd);
		return -EPROTO;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *why = json_string_value(json_object_get(j, "error"));

		log_error("%s: %s: %s", path, cmd, why ? why : "refused");
		json_decref(j);
		return -EREMOTEIO;
	}
	if (reply)
		*reply = j;
	else
		json_decref(j);
	return 0;
}

int vmm_control(const char *path, const char *cmd, json_t **reply)
{
	char request[64], line[REPLY_MAX];
	int64_t deadline = monotonic_ms() + VMM_CONTROL_TIMEOUT_MS;
	int n = snprintf(request, sizeof(request), "{\"cmd\": \"%s\"}\n", cmd);
	int fd = connect_to(path), err;

	if (fd < 0) {
		log_error("%s: %s", path, strerror(-fd));
		return fd;
	}
	err = write_full(fd, request, (size_t)n) < 0 ? -errno : 0;
	if (!err)
		err = read_line(fd, line, sizeof(line), deadline);
	close(fd);
	if (err) {
		log_error("%s: %s: %s", path, cmd, strerror(-err));
		return err;
	}
	return parse_reply(path, cmd, line, reply);
}
