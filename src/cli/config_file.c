/* Configuration files as corral sends them to corrald (commands.h). */
#include "cli/commands.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The offset of the first byte of `text` that is not UTF-8, or len. */
static size_t utf8_end(const char *text, size_t len)
{
	size_t i = 0, n;

	while (i < len && (n = utf8_sequence_len((const unsigned char *)text + i, len - i)))
		i += n;
	return i;
}

bool text_is_utf8(const char *text, size_t len, const char *source)
{
	size_t bad = utf8_end(text, len);
	unsigned line = 1, col = 1;

	if (bad == len)
		return true;
	if (!source)
		return false;
	for (size_t i = 0; i < bad; i++) {
		if (text[i] == '\n')
			line++, col = 1;
		else
			col++;	/* a column per byte, as the parser counts */
	}
	fprintf(stderr, "%s:%u:%u: error: byte 0x%02x is not UTF-8 text\n", source, line, col,
		(unsigned char)text[bad]);
	return false;
}

char *read_config_file(const char *cmd, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
		return NULL;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		fprintf(stderr, "corral %s: out of memory\n", cmd);
		fclose(f);
		return NULL;
	}
	n = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
		free(text);
		text = NULL;
	} else if (n > CONFIG_FILE_MAX) {
		fprintf(stderr, "%s: error: too large: a configuration file is at most %d MiB\n",
			path, CONFIG_FILE_MAX >> 20);
		free(text);
		text = NULL;
	}
	fclose(f);
	*len = n;
	return text;
}

