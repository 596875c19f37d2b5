#include "vmm/aml.h"

#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Opcodes and prefixes (§20.2). */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		0x5c
#define AML_PARENT_PREFIX	0x5e
#define AML_NULL_NAME		0x00

/* Small resource descriptor tags: item name << 3 | data length (§6.4.2). */
#define RES_IRQ_TAG		(0x04 << 3 | 2)
#define RES_IO_TAG		(0x08 << 3 | 7)
#define RES_END_TAG		(0x0f << 3 | 1)
#define RES_IO_DECODE16		0x01

#define AML_INTEGER_MAX_BYTES	9	/* QWordPrefix and eight bytes */

static void fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* A mark is an offset returned by a *_begin call; anything else is a bug. */
static bool mark_valid(struct aml_buf *b, size_t mark)
{
	if (mark <= b->len)
		return true;
	fail(b, -EINVAL);
	return false;
}

void aml_init(struct aml_buf *b, uint8_t *data, size_t size)
{
	b->data = data;
	b->size = size;
	b->len = 0;
	b->err = 0;
}

/* Extends the buffer by n bytes; returns them, or NULL once full. */
static uint8_t *grow(struct aml_buf *b, size_t n)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (n > b->size - b->len) {
		fail(b, -ENOSPC);
		return NULL;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

void aml_put(struct aml_buf *b, const void *bytes, size_t n)
{
	uint8_t *p = grow(b, n);

	if (p)
		memcpy(p, bytes, n);
}

static void put_byte(struct aml_buf *b, uint8_t byte)
{
	aml_put(b, &byte, 1);
}

size_t aml_reserve(struct aml_buf *b, size_t n)
{
	size_t off = b->len;
	uint8_t *p = grow(b, n);

	if (p)
		memset(p, 0, n);
	return off;
}

void aml_align(struct aml_buf *b, size_t align)
{
	aml_reserve(b, align_up(b->len, align) - b->len);
}

void aml_patch(struct aml_buf *b, size_t off, const void *bytes, size_t n)
{
	if (b->err)
		return;
	if (!range_within(off, n, b->len)) {
		fail(b, -EINVAL);
		return;
	}
	memcpy(b->data + off, bytes, n);
}

/* Inserts n bytes at offset pos, moving what follows up. */
static void insert(struct aml_buf *b, size_t pos, const uint8_t *bytes, size_t n)
{
	size_t tail = b->len - pos;

	if (b->err || !mark_valid(b, pos) || !grow(b, n))
		return;
	memmove(b->data + pos + n, b->data + pos, tail);
	memcpy(b->data + pos, bytes, n);
}

uint8_t aml_checksum(const void *bytes, size_t n)
{
	const uint8_t *p = bytes;
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

/*
 * §20.2.4: bits 7-6 of the lead byte count the bytes that follow. With none,
 * bits 5-0 hold the value (0-63); otherwise bits 3-0 hold its low nibble and
 * each following byte the next eight bits, so at most 28 bits in all.
 */
size_t aml_pkglength_encode(uint32_t value, uint8_t out[4])
{
	size_t follow, i;

	if (value <= 0x3f) {
		out[0] = value;
		return 1;
	}
	if (value > 0x0fffffff)
		return 0;
	follow = value <= 0xfff ? 1 : value <= 0xfffff ? 2 : 3;
	out[0] = follow << 6 | (value & 0x0f);
	for (i = 0; i < follow; i++)
		out[1 + i] = value >> (4 + 8 * i);
	return follow + 1;
}

/* The PkgLength of `contents` bytes counts its own encoding as well: use
 * the shortest encoding whose size agrees with the value it encodes. */
static size_t pkglength_of_contents(size_t contents, uint8_t out[4])
{
	size_t n;

	if (contents > 0x0fffffff - 4)
		return 0;
	for (n = 1; n <= 4; n++)
		if (aml_pkglength_encode(contents + n, out) == n)
			return n;
	return 0;
}

void aml_end(struct aml_buf *b, size_t mark)
{
	uint8_t pkglength[4];
	size_t n;

	if (b->err || !mark_valid(b, mark))
		return;
	n = pkglength_of_contents(b->len - mark, pkglength);
	if (!n) {
		fail(b, -ENOSPC);
		return;
	}
	insert(b, mark, pkglength, n);
}

static bool name_char_valid(char c, bool lead)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (!lead && c >= '0' && c <= '9');
}

/* One NameSeg (§20.2.2) from the n characters at s, padded with '_'. */
static int name_seg(const char *s, size_t n, uint8_t seg[4])
{
	size_t i;

	if (n == 0 || n > 4)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		char c = i < n ? s[i] : '_';

		if (!name_char_valid(c, i == 0))
			return -EINVAL;
		seg[i] = c;
	}
	return 0;
}

static size_t count_segments(const char *p)
{
	size_t n = *p ? 1 : 0;

	for (; *p; p++)
		n += *p == '.';
	return n;
}

/* NamePath: NullName, one NameSeg, DualNamePrefix + 2, or
 * MultiNamePrefix + SegCount + that many (at most 255). */
static void name_path(struct aml_buf *b, const char *p)
{
	size_t nsegs = count_segments(p);
	uint8_t seg[4];

	if (nsegs > 255) {
		fail(b, -EINVAL);
		return;
	}
	if (nsegs == 0) {
		put_byte(b, AML_NULL_NAME);
	} else if (nsegs == 2) {
		put_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		put_byte(b, AML_MULTI_NAME_PREFIX);
		put_byte(b, nsegs);
	}
	while (nsegs--) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (name_seg(p, n, seg) < 0) {
			fail(b, -EINVAL);
			return;
		}
		aml_put(b, seg, sizeof(seg));
		p += n + 1;
	}
}

void aml_name_string(struct aml_buf *b, const char *path)
{
	if (*path == '\\') {
		put_byte(b, AML_ROOT_CHAR);
		path++;
	} else {
		for (; *path == '^'; path++)
			put_byte(b, AML_PARENT_PREFIX);
	}
	name_path(b, path);
}

/* A constant: prefix, then `width` bytes little-endian. */
static size_t encode_const(uint8_t prefix, uint64_t value, size_t width, uint8_t *out)
{
	size_t i;

	out[0] = prefix;
	for (i = 0; i < width; i++)
		out[1 + i] = value >> (8 * i);
	return 1 + width;
}

static size_t encode_integer(uint64_t value, uint8_t out[AML_INTEGER_MAX_BYTES])
{
	if (value <= 1) {
		out[0] = value ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (value <= UINT8_MAX)
		return encode_const(AML_BYTE_PREFIX, value, 1, out);
	if (value <= UINT16_MAX)
		return encode_const(AML_WORD_PREFIX, value, 2, out);
	if (value <= UINT32_MAX)
		return encode_const(AML_DWORD_PREFIX, value, 4, out);
	return encode_const(AML_QWORD_PREFIX, value, 8, out);
}

void aml_integer(struct aml_buf *b, uint64_t value)
{
	uint8_t enc[AML_INTEGER_MAX_BYTES];

	aml_put(b, enc, encode_integer(value, enc));
}

void aml_string(struct aml_buf *b, const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			fail(b, -EINVAL);
			return;
		}
	}
	put_byte(b, AML_STRING_PREFIX);
	aml_put(b, s, p - s + 1);	/* with its NUL */
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The EISA id packs each letter into five bits ('A' = 1) and the product
 * number into four nibbles, most significant first: PNP0501 is the bytes
 * 41 d0 05 01 in that order, which AML stores as the integer 0x0105d041.
 */
int aml_eisaid_value(const char *id, uint32_t *value)
{
	uint32_t packed = 0;
	int i, digit;

	if (strlen(id) != 7)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		packed = packed << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (i = 3; i < 7; i++) {
		digit = hex_digit(id[i]);
		if (digit < 0)
			return -EINVAL;
		packed = packed << 4 | (uint32_t)digit;
	}
	*value = __builtin_bswap32(packed);	/* bit 31 stays zero */
	return 0;
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint8_t enc[AML_INTEGER_MAX_BYTES];
	uint32_t value;

	if (aml_eisaid_value(id, &value) < 0) {
		fail(b, -EINVAL);
		return;
	}
	aml_put(b, enc, encode_const(AML_DWORD_PREFIX, value, 4, enc));
}

void aml_name(struct aml_buf *b, const char *name)
{
	put_byte(b, AML_NAME_OP);
	aml_name_string(b, name);
}

/* DefScope := ScopeOp PkgLength NameString TermList */
size_t aml_scope_begin(struct aml_buf *b, const char *path)
{
	size_t mark;

	put_byte(b, AML_SCOPE_OP);
	mark = b->len;
	aml_name_string(b, path);
	return mark;
}

/* DefDevice := DeviceOp PkgLength NameString TermList */
size_t aml_device_begin(struct aml_buf *b, const char *name)
{
	static const uint8_t op[] = { AML_EXT_OP_PREFIX, AML_DEVICE_OP };
	size_t mark;

	aml_put(b, op, sizeof(op));
	mark = b->len;
	aml_name_string(b, name);
	return mark;
}

/* DefPackage := PackageOp PkgLength NumElements PackageElementList */
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems)
{
	size_t mark;

	put_byte(b, AML_PACKAGE_OP);
	mark = b->len;
	put_byte(b, nelems);
	return mark;
}

/* DefBuffer := BufferOp PkgLength BufferSize ByteList; both lengths are
 * inserted by aml_resources_end() once the descriptors are written. */
size_t aml_resources_begin(struct aml_buf *b)
{
	put_byte(b, AML_BUFFER_OP);
	return b->len;
}

void aml_resources_end(struct aml_buf *b, size_t mark)
{
	static const uint8_t end_tag[] = { RES_END_TAG, 0 };
	uint8_t size[AML_INTEGER_MAX_BYTES];
	size_t n;

	if (b->err || !mark_valid(b, mark))
		return;
	aml_put(b, end_tag, sizeof(end_tag));
	if (b->err)
		return;
	/* §6.4.2.9: the template's bytes, End Tag included, sum to zero. */
	b->data[b->len - 1] = aml_checksum(b->data + mark, b->len - mark);
	n = encode_integer(b->len - mark, size);
	insert(b, mark, size, n);
	aml_end(b, mark);
}

void aml_res_io(struct aml_buf *b, uint16_t base, uint8_t len)
{
	const uint8_t desc[] = {
		RES_IO_TAG, RES_IO_DECODE16,
		base & 0xff, base >> 8,		/* _MIN */
		base & 0xff, base >> 8,		/* _MAX: the same, a fixed range */
		1,				/* _ALN */
		len,				/* _LEN */
	};

	aml_put(b, desc, sizeof(desc));
}

void aml_res_irq(struct aml_buf *b, uint8_t irq)
{
	uint8_t desc[3];

	if (irq > 15) {
		fail(b, -EINVAL);
		return;
	}
	desc[0] = RES_IRQ_TAG;
	desc[1] = (1u << irq) & 0xff;	/* _INT: a mask of IRQs 0-15 */
	desc[2] = (1u << irq) >> 8;
	aml_put(b, desc, sizeof(desc));
}

#define RES_DWORD_TAG     0x87
#define RES_WORD_TAG      0x88
#define SPACE_MEMORY      0
#define SPACE_IO          1
#define SPACE_BUS         2
#define FLAGS_FIXED_RANGE 0x0c	/* _MIF and _MAF set, producer, positive decode */
#define IO_ENTIRE_RANGE   0x03
#define MEM_READ_WRITE    0x01	/* non-cacheable */

static void put_le(uint8_t *out, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = v >> (8 * i);
}

/* An address space descriptor whose fields are `width` bytes each:
 * granularity, min, max, translation offset, length. */
static void put_address_space(struct aml_buf *b, uint8_t tag, unsigned width, uint8_t space,
			      uint8_t type_flags, uint64_t min, uint64_t max)
{
	uint8_t desc[3 + 3 + 5 * 4];
	unsigned len = 3 + 5 * width;

	desc[0] = tag;
	put_le(desc + 1, len, 2);
	desc[3] = space;
	desc[4] = FLAGS_FIXED_RANGE;
	desc[5] = type_flags;
	put_le(desc + 6, 0, width);
	put_le(desc + 6 + width, min, width);
	put_le(desc + 6 + 2 * width, max, width);
	put_le(desc + 6 + 3 * width, 0, width);
	put_le(desc + 6 + 4 * width, max - min + 1, width);
	aml_put(b, desc, 3 + len);
}

void aml_res_word_bus(struct aml_buf *b, uint16_t min, uint16_t max)
{
	put_address_space(b, RES_WORD_TAG, 2, SPACE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml_buf *b, uint16_t min, uint16_t max)
{
	put_address_space(b, RES_WORD_TAG, 2, SPACE_IO, IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_memory(struct aml_buf *b, uint32_t min, uint32_t max)
{
	put_address_space(b, RES_DWORD_TAG, 4, SPACE_MEMORY, MEM_READ_WRITE, min, max);
}
