/* corral's HTTP client for corrald's Unix socket (client.h). */
#include "cli/client.h"
#include "cli/commands.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENT_REPLY_MAX (64 * 1024 * 1024)	/* a reply larger than this is refused */
#define DOMAIN_NAME_LEN_MAX 64

static const char *socket_opt;
static CURL *curl;
static bool curl_ready;

void client_set_socket(const char *path)
{
	socket_opt = path;
}

const char *client_socket(void)
{
	const char *env = getenv("CORRAL_SOCKET");

	if (socket_opt)
		return socket_opt;
	return env && *env ? env : CLIENT_DEFAULT_SOCKET;
}

struct buffer {
	char *data;
	size_t len;
	bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buffer *b = userdata;
	size_t n = size * nmemb;
	char *data;

	if (n > CLIENT_REPLY_MAX - b->len) {
		b->too_large = true;
		return 0;	/* ends the transfer */
	}
	data = realloc(b->data, b->len + n + 1);
	if (!data)
		return 0;
	memcpy(data + b->len, ptr, n);
	b->data = data;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Why connecting failed, with a hint for the usual causes. */
static void print_connect_error(const char *cmd, const char *sock, long os_errno,
				const char *detail)
{
	const char *hint = "";

	if (os_errno == ENOENT || os_errno == ECONNREFUSED)
		hint = " (is corrald running?)";
	else if (os_errno == EACCES || os_errno == EPERM)
		hint = " (corrald serves root and its admin group)";
	fprintf(stderr, "corral %s: cannot reach corrald at %s: %s%s\n", cmd, sock,
		os_errno ? strerror((int)os_errno) : detail, hint);
}

int client_connect(const char *cmd)
{
	const char *sock = client_socket();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(sock) >= sizeof(addr.sun_path)) {
		print_connect_error(cmd, sock, ENAMETOOLONG, NULL);
		return -1;
	}
	strcpy(addr.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	err = errno;
	if (fd >= 0)
		close(fd);
	print_connect_error(cmd, sock, err, NULL);
	return -1;
}

static CURL *handle(const char *cmd)
{
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
			fprintf(stderr, "corral %s: cannot initialize libcurl\n", cmd);
			return NULL;
		}
		curl_ready = true;
	}
	if (curl) {
		curl_easy_reset(curl);
		return curl;
	}
	curl = curl_easy_init();
	if (!curl)
		fprintf(stderr, "corral %s: cannot initialize libcurl\n", cmd);
	return curl;
}

int client_request(const char *cmd, const char *method, const char *path, const json_t *body,
		   struct client_reply *reply)
{
	const char *sock = client_socket();
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct buffer b = { 0 };
	char *text = NULL, url[512];
	json_error_t jerr;
	CURLcode rc;
	CURL *c;
	int ret = -1;

	reply->status = 0;
	reply->body = NULL;
	c = handle(cmd);
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CLIENT_TIMEOUT_S);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (!strcmp(method, "DELETE"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "POST")) {
		if (body) {
			text = json_dumps(body, JSON_COMPACT);
			if (!text) {
				fprintf(stderr, "corral %s: out of memory\n", cmd);
				goto out;
			}
		}
		headers = curl_slist_append(headers, "Content-Type: application/json");
		/* Without "Expect: 100-continue" the body follows at once. */
		headers = curl_slist_append(headers, "Expect:");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(text ? strlen(text) : 0));
	}
	if (!headers) {
		fprintf(stderr, "corral %s: out of memory\n", cmd);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	rc = curl_easy_perform(c);
	if (rc == CURLE_COULDNT_CONNECT) {
		long os_errno = 0;

		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		print_connect_error(cmd, sock, os_errno, *errbuf ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "corral %s: corrald at %s: %s\n", cmd, sock,
			b.too_large ? "reply too large" : *errbuf ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
	if (b.len) {
		reply->body = json_loadb(b.data, b.len, 0, &jerr);
		if (!reply->body) {
			fprintf(stderr, "corral %s: corrald's reply (HTTP %ld) is not JSON: %s\n", cmd,
				reply->status, jerr.text);
			goto out;
		}
	}
	ret = 0;
out:
	curl_slist_free_all(headers);
	free(text);
	free(b.data);
	return ret;
}

void client_reply_free(struct client_reply *reply)
{
	json_decref(reply->body);
	reply->body = NULL;
}

size_t client_print_messages(const struct client_reply *reply, size_t *errors)
{
	json_t *msgs = json_object_get(reply->body, "messages"), *m;
	size_t i, n = 0;

	if (errors)
		*errors = 0;
	json_array_foreach(msgs, i, m) {
		const char *text = json_string_value(m);

		if (!text)
			continue;
		fprintf(stderr, "%s\n", text);
		n++;
		/* corrald's messages are config/diag.h's: "where: error: what". */
		if (errors && strstr(text, ": error: "))
			(*errors)++;
	}
	return n;
}

int client_fail(const char *cmd, const struct client_reply *reply)
{
	const char *error = json_string_value(json_object_get(reply->body, "error"));
	size_t errors;

	client_print_messages(reply, &errors);
	if (!errors) {
		if (error)
			fprintf(stderr, "corral %s: %s\n", cmd, error);
		else
			fprintf(stderr, "corral %s: corrald answered HTTP %ld\n", cmd,
				reply->status);
	}
	return EXIT_FAILED;
}

bool client_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > DOMAIN_NAME_LEN_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

void client_domain_path(char *buf, size_t size, const char *name, const char *action)
{
	snprintf(buf, size, "/v1/domains/%s%s%s", name, action ? "/" : "", action ? action : "");
}

void client_cleanup(void)
{
	if (curl)
		curl_easy_cleanup(curl);
	curl = NULL;
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = false;
}
