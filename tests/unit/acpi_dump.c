/*
 * acpi_dump NCPUS DIR: builds corral's ACPI tables for NCPUS vCPUs and
 * writes each one to DIR/<signature>.dat (rsdp, xsdt, facp, facs, dsdt,
 * apic), the form `iasl -d` disassembles. It finds the tables the way a
 * guest does, from the RSDP through the XSDT and the FADT, so a broken
 * pointer shows up as a missing file. test_acpi_iasl.sh runs it.
 */
#include "common/log.h"
#include "common/util.h"
#include "vmm/acpi.h"
#include "vmm/machine.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE_GPA	0xe0000
#define REGION_SIZE	(128 * 1024)

/* Offsets into the tables (ACPI 6.4 §5.2.5.3, §5.2.6, §5.2.8, §5.2.9). */
#define RSDP_LENGTH		36
#define RSDP_XSDT_ADDRESS	24
#define HEADER_LENGTH		4
#define HEADER_SIZE		36
#define FADT_X_FIRMWARE_CTRL	132
#define FADT_X_DSDT		140

struct blob {
	const uint8_t *data;
	size_t len;
	uint64_t base;
};

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The table at gpa, if it and its length field lie inside the blob. */
static const uint8_t *table_at(const struct blob *blob, uint64_t gpa, size_t *len)
{
	uint64_t off = gpa - blob->base;

	if (gpa < blob->base || !range_within(off, HEADER_LENGTH + 4, blob->len))
		return NULL;
	*len = get_le(blob->data + off + HEADER_LENGTH, 4);
	if (!range_within(off, *len, blob->len))
		return NULL;
	return blob->data + off;
}

static int write_table(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, data, len) < 0)
		err = -errno;
	if (fd >= 0 && close(fd) < 0 && !err)
		err = -errno;
	if (err)
		log_error("%s: %s", path, strerror(-err));
	return err;
}

/* Writes the table at gpa as DIR/<its signature, lower case>.dat. */
static int dump_table(const char *dir, const struct blob *blob, uint64_t gpa,
		      const uint8_t **table)
{
	char name[5] = { 0 };
	size_t len, i;

	*table = table_at(blob, gpa, &len);
	if (!*table || len < 8) {
		log_error("no table at %#llx", (unsigned long long)gpa);
		return -EINVAL;
	}
	for (i = 0; i < 4; i++)
		name[i] = tolower((*table)[i]);
	return write_table(dir, name, *table, len);
}

static int dump_fadt_targets(const char *dir, const struct blob *blob, const uint8_t *fadt)
{
	const uint8_t *table;
	int err;

	err = dump_table(dir, blob, get_le(fadt + FADT_X_FIRMWARE_CTRL, 8), &table);
	if (err)
		return err;
	return dump_table(dir, blob, get_le(fadt + FADT_X_DSDT, 8), &table);
}

static int dump_all(const char *dir, const struct blob *blob, uint64_t rsdp_gpa)
{
	const uint8_t *rsdp = blob->data + (rsdp_gpa - blob->base);
	const uint8_t *xsdt, *table;
	size_t xsdt_len, i;
	int err;

	err = write_table(dir, "rsdp", rsdp, RSDP_LENGTH);
	if (!err)
		err = dump_table(dir, blob, get_le(rsdp + RSDP_XSDT_ADDRESS, 8), &xsdt);
	if (err)
		return err;
	xsdt_len = get_le(xsdt + HEADER_LENGTH, 4);
	for (i = HEADER_SIZE; !err && i + 8 <= xsdt_len; i += 8) {
		err = dump_table(dir, blob, get_le(xsdt + i, 8), &table);
		if (!err && !memcmp(table, "FACP", 4))
			err = dump_fadt_targets(dir, blob, table);
	}
	return err;
}

int main(int argc, char **argv)
{
	static uint8_t region[REGION_SIZE];
	struct acpi_config cfg;
	struct blob blob = { .data = region, .base = BASE_GPA };
	uint64_t rsdp_gpa;
	char *end;
	int len;

	log_init(argv[0], LOG_LEVEL_INFO);
	if (argc != 3) {
		fprintf(stderr, "usage: %s NCPUS DIR\n", argv[0]);
		return 2;
	}
	machine_acpi_config(strtoul(argv[1], &end, 10), &cfg);
	if (*end || end == argv[1]) {
		log_error("%s: not a number of vCPUs", argv[1]);
		return 2;
	}
	len = acpi_build(&cfg, region, sizeof(region), BASE_GPA, &rsdp_gpa);
	if (len < 0)
		return 1;
	blob.len = len;
	return dump_all(argv[2], &blob, rsdp_gpa) ? 1 : 0;
}
