/*
 * Diagnostics for configuration input: every error and warning a parser
 * finds is kept as one line "source:line:col: error: message" ("source:
 * error: ..." when no position applies, "error: ..." when the message is
 * about no file at all), in the order found, so that a command can print
 * all of them and a test can look at each. A parser reports through
 * diag_error()/diag_warn() and goes on where it sensibly can; the caller
 * decides from diag->errors whether the input is usable.
 */
#ifndef CORRAL_CONFIG_DIAG_H
#define CORRAL_CONFIG_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* A place in a source; line and col count from 1, 0 means "none". */
struct src_pos {
	unsigned line, col;
};

struct diag_msg {
	char *text;		/* the whole line, "file:1:2: error: ..." */
	int is_error;
};

struct diag {
	struct diag_msg *msgs;
	size_t nmsgs;
	unsigned errors, warnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);

__attribute__((format(printf, 4, 5)))
void diag_error(struct diag *d, const char *source, struct src_pos pos, const char *fmt, ...);
__attribute__((format(printf, 4, 5)))
void diag_warn(struct diag *d, const char *source, struct src_pos pos, const char *fmt, ...);

/* Writes every message, one per line. */
void diag_print(const struct diag *d, FILE *out);

#endif
