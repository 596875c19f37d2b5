/*
 * Small helpers shared by every corral component: array sizes, alignment,
 * overflow-checked arithmetic, file mapping and robust read/write loops.
 * Nothing here knows about KVM or guests.
 */
#ifndef CORRAL_COMMON_UTIL_H
#define CORRAL_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

static inline uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static inline uint64_t align_down(uint64_t v, uint64_t align)
{
	return v & ~(align - 1);
}

/* True if [off, off + len) lies inside [0, size) without overflowing. */
static inline bool range_within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* A regular file mapped read-only; data is NULL for an empty file. */
struct mapped_file {
	const uint8_t *data;
	size_t len;
};

/* Maps a whole regular file, refusing files larger than max_len.
 * Returns 0 or -errno (and logs why). */
int map_file(const char *path, size_t max_len, struct mapped_file *file);
void unmap_file(struct mapped_file *file);

/* write(2)/read(2) loops that retry on EINTR and short transfers. */
ssize_t write_full(int fd, const void *buf, size_t len);
ssize_t read_full(int fd, void *buf, size_t len);

/* Parses a size such as "512M", "3.5G" or "4096" (bytes; K, M, G, T
 * suffixes are binary). Returns 0 or -EINVAL. */
int parse_size(const char *text, uint64_t *bytes);

/* A plain decimal number from 0 to max (no sign, no suffix, nothing after
 * it); -EINVAL otherwise. */
int parse_uint(const char *text, unsigned max, unsigned *out);

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t monotonic_ns(void);

/* Milliseconds on CLOCK_MONOTONIC. */
static inline int64_t monotonic_ms(void)
{
	return (int64_t)(monotonic_ns() / 1000000);
}

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes available), or 0
 * if it is not one (overlong, surrogate, beyond U+10FFFF, truncated). */
size_t utf8_sequence_len(const unsigned char *s, size_t n);

/* Whether `name` is a DNS label, as a host name must be (RFC 1123): 1 to 63
 * letters, digits and '-', not starting or ending with '-'. */
bool dns_label_valid(const char *name);

/* Whether `name` is a domain name: DNS labels joined by '.', at most
 * DNS_NAME_MAX characters ("example.com"; no trailing dot). */
#define DNS_NAME_MAX 253
bool dns_name_valid(const char *name);

#endif
