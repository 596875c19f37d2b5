#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *log_program = "corral";
static enum log_level log_max_level = LOG_LEVEL_INFO;

void log_init(const char *program, enum log_level max_level)
{
	const char *slash = strrchr(program, '/');

	log_program = slash ? slash + 1 : program;
	log_max_level = max_level;
}

void log_set_level(enum log_level max_level)
{
	log_max_level = max_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LEVEL_ERROR] = "error: ",
		[LOG_LEVEL_WARN] = "warning: ",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	char line[1024];
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per message so lines from several threads do not interleave. */
	fprintf(stderr, "%s: %s%s\n", log_program, prefix[level], line);
}

int log_errno(const char *what)
{
	int err = errno;

	log_msg(LOG_LEVEL_ERROR, "%s: %s", what, strerror(err));
	return -err;
}
