#include "common/util.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int map_file(const char *path, size_t max_len, struct mapped_file *file)
{
	struct stat st;
	void *data;
	int fd, err;

	*file = (struct mapped_file){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error("%s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max_len) {
		log_error("%s: too large (%lld bytes, at most %zu)", path,
			  (long long)st.st_size, max_len);
		close(fd);
		return -EFBIG;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = data == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err) {
		log_error("%s: %s", path, strerror(-err));
		return err;
	}
	file->data = data;
	file->len = st.st_size;
	return 0;
}

void unmap_file(struct mapped_file *file)
{
	if (file->data)
		munmap((void *)file->data, file->len);
	*file = (struct mapped_file){ 0 };
}

ssize_t write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += n;
	}
	return done;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int size_shift(char suffix, unsigned *shift)
{
	switch (toupper((unsigned char)suffix)) {
	case 'B': *shift = 0; return 0;
	case 'K': *shift = 10; return 0;
	case 'M': *shift = 20; return 0;
	case 'G': *shift = 30; return 0;
	case 'T': *shift = 40; return 0;
	default: return -EINVAL;
	}
}

int parse_size(const char *text, uint64_t *bytes)
{
	uint64_t whole = 0, frac_num = 0, frac_den = 1;
	const char *p = text;
	unsigned shift = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			/* At most six digits, so the scaled fraction fits 64 bits. */
			if (frac_den >= 1000000)
				return -EINVAL;
			frac_num = frac_num * 10 + (*p - '0');
			frac_den *= 10;
		}
	}
	if (*p) {
		if (size_shift(*p, &shift) < 0)
			return -EINVAL;
		p++;
		/* Accept "MiB"/"MB"-style spellings as the same binary unit. */
		if (*p == 'i' || *p == 'I')
			p++;
		if (shift && (*p == 'B' || *p == 'b'))
			p++;
		if (*p)
			return -EINVAL;
	}
	if (whole > (UINT64_MAX >> shift) - 1)
		return -EINVAL;
	*bytes = (whole << shift) + (frac_num << shift) / frac_den;
	return 0;
}

uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int parse_uint(const char *text, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp, min;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool dns_label_ok(const char *s, size_t len)
{
	if (len < 1 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

bool dns_label_valid(const char *name)
{
	return dns_label_ok(name, strlen(name));
}

bool dns_name_valid(const char *name)
{
	if (strlen(name) > DNS_NAME_MAX)
		return false;
	for (const char *dot;; name = dot + 1) {
		dot = strchr(name, '.');
		if (!dns_label_ok(name, dot ? (size_t)(dot - name) : strlen(name)))
			return false;
		if (!dot)
			return true;
	}
}
