/*
 * The xl.cfg(5) file format: a lexer and parser for Xen's domain
 * configuration syntax, written from xl.cfg(5) and the grammar of Xen's
 * libxlu. A file is a sequence of statements `key = value` or `key += value`,
 * each ended by a newline or ';'. Keys are lower-case identifiers; a value is
 * a string (single or double quotes, on one line, with C-like escapes), a
 * number (decimal, 0x hex or leading-0 octal) or a list in brackets, whose
 * items are values again (lists nest, may span lines and may end with a
 * comma). '#' starts a comment. The last assignment of a key wins; `+=`
 * joins a string to a string or a list to a list, and is an error on a
 * number.
 *
 * Where libxlu is lenient or silent we are strict and say what is wrong:
 * every problem is reported through struct diag as file:line:col. An
 * xm-era file that embeds Python (function calls, '+' between strings,
 * imports) is recognised and refused with a message saying so, at the line
 * where the Python is. A bare word used as a value (`name = web`, which
 * old xm files contain and Python would have rejected) is taken as a string
 * with a warning.
 *
 * This module knows nothing about what keys mean; domain_config.h does.
 */
#ifndef CORRAL_CONFIG_XLCFG_H
#define CORRAL_CONFIG_XLCFG_H

#include "config/diag.h"

#include <stddef.h>

enum xlcfg_type {
	XLCFG_STRING,
	XLCFG_NUMBER,
	XLCFG_LIST,
};

struct xlcfg_value {
	enum xlcfg_type type;
	struct src_pos pos;		/* where the value starts */
	const char *source;		/* the file (or "<command line>") it came from */
	char *text;			/* STRING: decoded; NUMBER: as written */
	long long number;		/* NUMBER only */
	struct xlcfg_value **items;	/* LIST only */
	size_t nitems;
};

struct xlcfg_setting {
	char *key;
	struct src_pos pos;		/* of the key, in its latest assignment */
	const char *source;
	struct xlcfg_value *value;
};

struct xlcfg {
	struct xlcfg_setting *settings;	/* in order of first assignment */
	size_t nsettings;
	char **sources;			/* owned copies of the source names */
	size_t nsources;
};

void xlcfg_init(struct xlcfg *cfg);
void xlcfg_free(struct xlcfg *cfg);

/*
 * Parses `len` bytes of `text` (need not be NUL-terminated; a NUL byte in it
 * is an error) named `source` in messages, and merges its statements into
 * `cfg`: a later assignment replaces an earlier one (from this text or an
 * earlier call), `+=` extends it. Command-line overrides are parsed by a
 * second call on the same cfg. Returns 0, or -EINVAL when d->errors grew
 * (cfg then holds whatever statements parsed cleanly), -ENOMEM.
 */
int xlcfg_parse(struct xlcfg *cfg, const char *text, size_t len, const char *source,
		struct diag *d);

/* Reads and parses a file; a file that cannot be read is one error. */
int xlcfg_parse_file(struct xlcfg *cfg, const char *path, struct diag *d);

/* The setting for `key`, or NULL. */
const struct xlcfg_setting *xlcfg_get(const struct xlcfg *cfg, const char *key);

#endif
