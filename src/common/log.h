/*
 * Logging for corral's programs and libraries.
 *
 * Library code reports a failure where it has the context (which file, which
 * value was wrong) through log_error() and returns a negative errno; only a
 * program's main() decides to exit. Messages go to stderr prefixed with the
 * program name set by log_init(), so a supervisor's logs say who spoke.
 */
#ifndef CORRAL_COMMON_LOG_H
#define CORRAL_COMMON_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_SILENT = -1, LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_init(const char *program, enum log_level max_level);
void log_set_level(enum log_level max_level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Logs "what: strerror(errno)" and returns -errno, preserving errno's value. */
int log_errno(const char *what);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
