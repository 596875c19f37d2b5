/*
 * A small encoder for AML, the byte code in an ACPI definition block (the
 * DSDT), written straight into a caller-supplied fixed-size buffer. acpi.c
 * calls it to build the DSDT, and uses the same buffer type to lay out the
 * other tables around it. Objects whose PkgLength is only known once their
 * contents are written (Scope, Device, Package, Buffer) are opened with a
 * *_begin() call that returns a mark and closed with the matching end call,
 * which inserts the PkgLength at the mark; they nest freely. Errors are
 * sticky: the first one (-ENOSPC when the buffer is full, -EINVAL for a bad
 * name or id) is kept in `err` and turns every later call into a no-op, so a
 * caller checks once at the end. Nothing is ever written past `size`.
 * Section numbers below are from the ACPI 6.4 specification.
 */
#ifndef CORRAL_VMM_AML_H
#define CORRAL_VMM_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data;
	size_t size;	/* capacity of data */
	size_t len;	/* bytes written so far */
	int err;	/* 0, or the first error; later calls then do nothing */
};

void aml_init(struct aml_buf *b, uint8_t *data, size_t size);

/* Raw bytes, for table layouts around the AML. */
void aml_put(struct aml_buf *b, const void *bytes, size_t n);
size_t aml_reserve(struct aml_buf *b, size_t n);	/* n zero bytes; returns their offset */
void aml_align(struct aml_buf *b, size_t align);	/* zero-pads len to a power of two */
void aml_patch(struct aml_buf *b, size_t off, const void *bytes, size_t n);

/* The byte that makes n bytes plus itself sum to zero modulo 256: the
 * checksum of ACPI tables (§5.2.6) and of the resource End Tag (§6.4.2.9). */
uint8_t aml_checksum(const void *bytes, size_t n);

/*
 * PkgLength (§20.2.4): encodes `value`, which counts the encoding's own
 * bytes, into out[]. Returns the number of bytes used (1 to 4), or 0 if the
 * value does not fit in 28 bits.
 */
size_t aml_pkglength_encode(uint32_t value, uint8_t out[4]);

/*
 * A NameString (§20.2.2): an optional root prefix '\' or parent prefixes
 * '^', then NameSegs separated by dots, e.g. "\\_SB_.COM1" or "_HID". A
 * segment shorter than four characters is padded with '_' ("RTC" is RTC_).
 */
void aml_name_string(struct aml_buf *b, const char *path);

/* Data objects (§20.2.3). An integer takes the shortest of ZeroOp, OneOp
 * and the Byte/Word/DWord/QWord prefixes. A string is ASCII 0x01-0x7f. */
void aml_integer(struct aml_buf *b, uint64_t value);
void aml_string(struct aml_buf *b, const char *s);

/*
 * A compressed EISA id, as the ASL EISAID() macro makes it: three letters
 * and four hex digits, "PNP0501" -> 0x0105D041. aml_eisaid() writes it as a
 * DWordConst (disassemblers recognise only that form as an EisaId).
 */
int aml_eisaid_value(const char *id, uint32_t *value);
void aml_eisaid(struct aml_buf *b, const char *id);

/* Name(name, object): writes NameOp and the name; the caller writes the
 * object next. */
void aml_name(struct aml_buf *b, const char *name);

/* Objects with a PkgLength (§20.2.5). Each *_begin returns a mark that the
 * matching end call takes. A package's elements are written in between;
 * nelems must match what is written. */
size_t aml_scope_begin(struct aml_buf *b, const char *path);
size_t aml_device_begin(struct aml_buf *b, const char *name);
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems);
void aml_end(struct aml_buf *b, size_t mark);

/*
 * ResourceTemplate(): a Buffer of resource descriptors (§6.4), ended by an
 * End Tag with its checksum. Write descriptors between begin and end.
 */
size_t aml_resources_begin(struct aml_buf *b);
void aml_resources_end(struct aml_buf *b, size_t mark);

/* IO(Decode16, base, base, 1, len): a fixed range of I/O ports (§6.4.2.5). */
void aml_res_io(struct aml_buf *b, uint16_t base, uint8_t len);
/* IRQNoFlags(){irq}: an ISA interrupt, edge-triggered, active high,
 * exclusive (§6.4.2.1). irq is 0 to 15. */
void aml_res_irq(struct aml_buf *b, uint8_t irq);

/*
 * Address space descriptors for a host bridge's windows (§6.4.3.5), all
 * fixed-range resource producers: WordBusNumber(), WordIO() over the
 * entire ISA and non-ISA range, and DWordMemory() read-write,
 * non-cacheable. Each covers [min, max].
 */
void aml_res_word_bus(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml_buf *b, uint32_t min, uint32_t max);

#endif
