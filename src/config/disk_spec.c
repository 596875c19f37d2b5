/*
 * xl-disk-configuration(5) disk specs. The spec is copied once and cut up
 * in place; every string kept in struct disk_spec is an allocation of its own.
 */
#include "config/disk_spec.h"
#include "config/spec_error.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parameters; the first four are the positional ones, in their order. */
enum param {
	P_TARGET,
	P_FORMAT,
	P_VDEV,
	P_ACCESS,
	P_DEVTYPE,
	P_BACKENDTYPE,
	P_SCRIPT,
	P_SERIAL,
};

#define BIT(p) (1u << (p))

static const char *const param_names[] = {
	"target", "format", "vdev", "access", "devtype", "backendtype", "script", "serial", NULL,
};
static const char *const formats[] = { "raw", "qcow", "qcow2", "vhd", "qed", "empty", NULL };
static const char *const access_modes[] = { "r", "ro", "w", "rw", NULL };	/* read-only first */
static const char *const devtypes[] = { "disk", "cdrom", NULL };
static const char *const backendtypes[] = { "phy", "qdisk", "tap", NULL };

/*
 * What the "word:" prefixes of xend's disk specs (xl-disk-configuration(5),
 * "Deprecated Parameters, Prefixes And Syntaxes") do to a positional target.
 */
enum prefix_kind { PFX_NONE, PFX_IGNORED, PFX_FORMAT, PFX_SCRIPT };

static const struct {
	const char *word;
	enum prefix_kind kind;
} prefixes[] = {
	{ "aio", PFX_IGNORED },   { "file", PFX_IGNORED }, { "ioemu", PFX_IGNORED },
	{ "phy", PFX_IGNORED },   { "tap", PFX_IGNORED },  { "tap2", PFX_IGNORED },
	{ "tapdisk", PFX_IGNORED },
	{ "raw", PFX_FORMAT },    { "qcow", PFX_FORMAT },  { "qcow2", PFX_FORMAT },
	{ "vhd", PFX_FORMAT },
	{ "iscsi", PFX_SCRIPT },  { "nbd", PFX_SCRIPT },   { "enbd", PFX_SCRIPT },
	{ "drbd", PFX_SCRIPT },
};

struct parser {
	struct disk_spec *ds;
	unsigned filled;	/* parameters given, if only as empty (positional slots) */
	unsigned given;		/* parameters given a value, which may not be given again */
	struct spec_error err;
};

/* The index of s in a NULL-terminated list of names, or -1. */
static int find(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int choose(struct parser *ps, enum param p, const char *const *names, const char *value)
{
	int i = find(names, value);

	return i < 0 ? spec_fail(&ps->err, "unknown %s '%s'", param_names[p], value) : i;
}

static char *skip_blanks(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The length of the [a-z][a-z0-9]* word s starts with; 0 if none. */
static size_t word_len(const char *s)
{
	size_t n = 0;

	if (*s < 'a' || *s > 'z')
		return 0;
	while (word_char(s[n]))
		n++;
	return n;
}

static int set_param(struct parser *ps, enum param p, const char *value);

/*
 * A vdev is a name such as xvda, hdc, sda1 or wd0d; the numeric forms of
 * xen-vbd-interface(7) are not taken. xend's "hdc:cdrom" and "hda:disk"
 * give the devtype too.
 */
static int set_vdev(struct parser *ps, const char *value)
{
	size_t len = word_len(value);
	int rc;

	if (!len || (value[len] && (value[len] != ':' || !value[len + 1])))
		return spec_fail(&ps->err, "vdev '%s' is not a device name such as xvda or hdc", value);
	if (value[len]) {
		rc = set_param(ps, P_DEVTYPE, value + len + 1);
		if (rc)
			return rc;
	}
	ps->ds->vdev = strndup(value, len);
	return ps->ds->vdev ? 0 : spec_nomem(&ps->err);
}

static int set_param(struct parser *ps, enum param p, const char *value)
{
	struct disk_spec *ds = ps->ds;
	int i;

	if (ps->given & BIT(p))
		return spec_fail(&ps->err, "%s given twice (again as '%s')", param_names[p], value);
	ps->filled |= BIT(p);
	/* An empty value asks for the default; a later one may still set it. */
	if (!*value)
		return 0;
	ps->given |= BIT(p);
	switch (p) {
	case P_TARGET:
		return spec_keep(&ps->err, &ds->target, value);
	case P_FORMAT:
		i = choose(ps, p, formats, value);
		return i < 0 ? i : spec_keep(&ps->err, &ds->format, value);
	case P_VDEV:
		return set_vdev(ps, value);
	case P_ACCESS:
		i = choose(ps, p, access_modes, value);
		ds->readonly = i >= 0 && i < 2;
		return i < 0 ? i : 0;
	case P_DEVTYPE:
		i = choose(ps, p, devtypes, value);
		ds->cdrom = i == 1;	/* "cdrom" */
		return i < 0 ? i : 0;
	case P_BACKENDTYPE:
		i = choose(ps, p, backendtypes, value);
		return i < 0 ? i : spec_keep(&ps->err, &ds->backendtype, value);
	case P_SCRIPT:
		return spec_keep(&ps->err, &ds->script, value);
	case P_SERIAL:
		return spec_keep(&ps->err, &ds->serial, value);
	}
	return 0;
}

/* The kind of the "word:" prefix s starts with; *len gets the word's length. */
static enum prefix_kind prefix(const char *s, size_t *len)
{
	size_t n = word_len(s);

	*len = n;
	if (!n || s[n] != ':')
		return PFX_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strlen(prefixes[i].word) == n && !memcmp(s, prefixes[i].word, n))
			return prefixes[i].kind;
	/*
	 * Any other word names a block script, as xend's "cgd:" named
	 * block-cgd (xl knows only the four above and refuses the rest). A
	 * word character after the colon, as in "host:1234", makes it part
	 * of the target instead, by xl's rule for what a prefix is.
	 */
	return word_char(s[n + 1]) ? PFX_NONE : PFX_SCRIPT;
}

static int set_script_prefix(struct parser *ps, const char *word)
{
	char *script;
	int rc;

	if (asprintf(&script, "block-%s", word) < 0)
		return spec_nomem(&ps->err);
	rc = set_param(ps, P_SCRIPT, script);
	free(script);
	return rc;
}

/* Strips "phy:", "tap:aio:", "qcow2:", "drbd:"... off a positional target. */
static int strip_prefixes(struct parser *ps, char **target)
{
	enum prefix_kind kind;
	size_t len;
	int rc = 0;

	while (!rc && (kind = prefix(*target, &len)) != PFX_NONE) {
		char *word = *target;

		word[len] = '\0';
		*target += len + 1;
		/* The old syntax a prefix starts has no positional format. */
		ps->filled |= BIT(P_FORMAT);
		if (kind == PFX_FORMAT)
			rc = set_param(ps, P_FORMAT, word);
		else if (kind == PFX_SCRIPT)
			rc = set_script_prefix(ps, word);
	}
	return rc;
}

/* A parameter without a name goes to the first positional one not yet given. */
static int positional(struct parser *ps, char *item)
{
	enum param p = P_TARGET;
	int rc;

	while (p <= P_ACCESS && ps->filled & BIT(p))
		p++;
	if (p > P_ACCESS)
		return spec_fail(&ps->err, "too many positional parameters at '%s'", item);
	if (p == P_TARGET) {
		rc = strip_prefixes(ps, &item);
		return rc ? rc : set_param(ps, P_TARGET, item);
	}
	/* xend's empty CD-ROM, ",hdc:cdrom,r", has a vdev where the format goes. */
	if (p == P_FORMAT && !(ps->given & BIT(P_TARGET)) && strchr(item, ':')) {
		ps->filled |= BIT(P_FORMAT);
		p = P_VDEV;
	}
	return set_param(ps, p, item);
}

static int parse_item(struct parser *ps, char *item)
{
	char *value = strchr(item, '=');
	int p;

	if (value) {
		*value++ = '\0';
		p = find(param_names, item);
		if (p < 0)
			return spec_fail(&ps->err, "unknown parameter '%s'", item);
		return set_param(ps, p, value);
	}
	if (!strcmp(item, "cdrom"))
		return set_param(ps, P_DEVTYPE, item);
	if (find(access_modes, item) >= 0)
		return set_param(ps, P_ACCESS, item);
	return positional(ps, item);
}

static int finish(struct parser *ps)
{
	struct disk_spec *ds = ps->ds;

	if (!ds->vdev)
		return spec_fail(&ps->err, "no vdev (the guest's name for the disk, such as xvda)");
	if (!ds->target && !ds->cdrom)
		return spec_fail(&ps->err, "no target (only a CD-ROM drive may be empty)");
	if (!(ps->given & BIT(P_ACCESS)))
		ds->readonly = ds->cdrom;
	return ds->format ? 0 : spec_keep(&ps->err, &ds->format, "raw");
}

int disk_spec_parse(const char *spec, struct disk_spec *out, char *err, size_t errlen)
{
	struct parser ps = { .ds = out, .err = { err, errlen } };
	char *copy, *pos;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	copy = pos = strdup(spec);
	if (!copy)
		return spec_nomem(&ps.err);
	while (!rc && pos) {
		char *item = skip_blanks(pos);

		/* target= takes the rest of the spec, commas and all. */
		if (!strncmp(item, "target=", 7)) {
			rc = set_param(&ps, P_TARGET, item + 7);
			break;
		}
		item = spec_trim(strsep(&pos, ","));
		/* A comma at the very end closes the last item, as in xl. */
		if (pos && !*skip_blanks(pos))
			pos = NULL;
		rc = parse_item(&ps, item);
	}
	if (!rc)
		rc = finish(&ps);
	free(copy);
	if (rc)
		disk_spec_free(out);
	return rc;
}

void disk_spec_free(struct disk_spec *ds)
{
	free(ds->target);
	free(ds->format);
	free(ds->vdev);
	free(ds->backendtype);
	free(ds->script);
	free(ds->serial);
	memset(ds, 0, sizeof(*ds));
}
