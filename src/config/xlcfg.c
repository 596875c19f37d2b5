#include "config/xlcfg.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XLCFG_FILE_MAX	MiB(1)
#define XLCFG_MAX_DEPTH	16	/* lists in lists; bounds the parser's recursion */
#define SHOW_MAX	40	/* at most this much of a token is quoted in a message */

/* ---- Lexer ---------------------------------------------------------- */

/*
 * The lexer never reports: it cuts the text into tokens and leaves judging
 * them to its two users, the Python scan (which must see the whole text,
 * errors or not) and the parser. Strings and numbers are only delimited
 * here; the parser decodes them.
 */
enum tok_type {
	T_EOF,
	T_NEWLINE,
	T_SEMI,
	T_EQ,
	T_PLUSEQ,
	T_COMMA,
	T_LBRACK,
	T_RBRACK,
	T_WORD,
	T_STRING,
	T_NUMBER,
	T_UNTERMINATED,	/* a string without its closing quote */
	T_OTHER,	/* any other single byte, NUL included */
};

struct token {
	enum tok_type type;
	size_t start, len;
	struct src_pos pos;
	bool line_start;	/* the first token on its line */
};

struct lexer {
	const char *text;
	size_t len, off;
	unsigned line;
	size_t line_off;	/* where the current line starts */
	bool line_start;
	bool in_comment;	/* a NUL stopped a comment, which goes on after it */
};

static void lexer_init(struct lexer *lx, const char *text, size_t len)
{
	*lx = (struct lexer){ .text = text, .len = len, .line = 1, .line_start = true };
}

static bool is_word_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_word_char(char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t line_end(const struct lexer *lx, size_t i)
{
	while (i < lx->len && lx->text[i] != '\n')
		i++;
	return i;
}

/* A NUL is an error even in a comment: it stops the comment, to be
 * returned as a token, and the comment resumes after it. */
static void skip_comment(struct lexer *lx)
{
	while (lx->off < lx->len && lx->text[lx->off] != '\n' && lx->text[lx->off])
		lx->off++;
	lx->in_comment = lx->off < lx->len && !lx->text[lx->off];
}

/* Skips blanks, a '\r' ending a line and comments. */
static void skip_blanks(struct lexer *lx)
{
	if (lx->in_comment)
		skip_comment(lx);
	while (lx->off < lx->len && !lx->in_comment) {
		char c = lx->text[lx->off];

		if (c == ' ' || c == '\t')
			lx->off++;
		else if (c == '\r' && lx->off + 1 < lx->len && lx->text[lx->off + 1] == '\n')
			lx->off++;
		else if (c == '#')
			skip_comment(lx);
		else
			return;
	}
}

/* The end of a quoted string from `i` (just past the opening quote): the
 * offset of the closing quote, or of the end of the line if there is none. */
static size_t string_end(const struct lexer *lx, size_t i, char quote)
{
	while (i < lx->len && lx->text[i] != '\n' && lx->text[i] != quote) {
		if (lx->text[i] == '\\' && i + 1 < lx->len && lx->text[i + 1] != '\n')
			i++;
		i++;
	}
	return i;
}

/* Whether the line from `i` starts a setting: `word =` or `word +=`. */
static bool starts_setting(const struct lexer *lx, size_t i)
{
	const char *t = lx->text;

	while (i < lx->len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (i >= lx->len || !is_word_start(t[i]))
		return false;
	while (i < lx->len && is_word_char(t[i]))
		i++;
	while (i < lx->len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i < lx->len && (t[i] == '=' || (t[i] == '+' && i + 1 < lx->len && t[i + 1] == '='));
}

/*
 * A string left open at the end of its line is usually one broken across two
 * lines, as in old xm files: if the next line is not a setting or a comment
 * and holds an odd number of the same quotes, the first of them is taken to
 * close the string, so that the rest of that line is not read as a cascade
 * of nonsense. Returns the offset of that quote, or 0.
 */
static size_t broken_string_end(const struct lexer *lx, size_t eol, char quote)
{
	size_t i = eol + 1, end = line_end(lx, eol + 1), first = 0, n = 0;

	if (eol >= lx->len || starts_setting(lx, i))
		return 0;
	while (i < end && (lx->text[i] == ' ' || lx->text[i] == '\t'))
		i++;
	if (i < end && lx->text[i] == '#')
		return 0;
	for (; i < end; i++) {
		if (lx->text[i] == '\\') {
			i++;
		} else if (lx->text[i] == quote) {
			if (!n++)
				first = i;
		}
	}
	return n % 2 ? first : 0;
}

static void lex_string(struct lexer *lx, struct token *t)
{
	char quote = lx->text[lx->off];
	size_t end = string_end(lx, lx->off + 1, quote), close;

	if (end < lx->len && lx->text[end] == quote) {
		t->type = T_STRING;
		lx->off = end + 1;
		return;
	}
	t->type = T_UNTERMINATED;
	lx->off = end;
	close = broken_string_end(lx, end, quote);
	if (close) {
		lx->line++;
		lx->line_off = end + 1;
		lx->off = close + 1;
	}
}

static void lex_run(struct lexer *lx, struct token *t, enum tok_type type)
{
	t->type = type;
	lx->off++;
	while (lx->off < lx->len && is_word_char(lx->text[lx->off]))
		lx->off++;
}

static void lex_one(struct lexer *lx, struct token *t, enum tok_type type, size_t len)
{
	t->type = type;
	lx->off += len;
}

static void lex(struct lexer *lx, struct token *t)
{
	const char *s;
	size_t left;

	skip_blanks(lx);
	s = lx->text + lx->off;
	left = lx->len - lx->off;
	t->start = lx->off;
	t->pos = (struct src_pos){ lx->line, (unsigned)(lx->off - lx->line_off + 1) };
	t->line_start = lx->line_start;
	lx->line_start = false;
	if (!left) {
		t->type = T_EOF;
	} else if (*s == '\n') {
		lex_one(lx, t, T_NEWLINE, 1);
		lx->line++;
		lx->line_off = lx->off;
		lx->line_start = true;
	} else if (*s == '\'' || *s == '"') {
		lex_string(lx, t);
	} else if (is_digit(*s) || (*s == '-' && left > 1 && is_digit(s[1]))) {
		/* Take in any letters too, so that "12abc" is one bad number. */
		lex_run(lx, t, T_NUMBER);
	} else if (is_word_start(*s)) {
		lex_run(lx, t, T_WORD);
	} else if (*s == '+' && left > 1 && s[1] == '=') {
		lex_one(lx, t, T_PLUSEQ, 2);
	} else {
		switch (*s) {
		case ';': lex_one(lx, t, T_SEMI, 1); break;
		case '=': lex_one(lx, t, T_EQ, 1); break;
		case ',': lex_one(lx, t, T_COMMA, 1); break;
		case '[': lex_one(lx, t, T_LBRACK, 1); break;
		case ']': lex_one(lx, t, T_RBRACK, 1); break;
		default: lex_one(lx, t, T_OTHER, 1); break;
		}
	}
	t->len = lx->off - t->start;
}

/* ---- Python detection ----------------------------------------------- */

/*
 * xm configuration files were Python programs, and some compute values
 * (os.popen, string concatenation). xl cannot run them, and the syntax
 * errors such a file causes would only confuse, so the whole text is
 * scanned for Python first and, if it has any, refused with one message.
 */
struct python_hit {
	struct src_pos pos;
	char what[SHOW_MAX + 32];
};

/* Statements that begin with these words are Python, not a setting. */
static const char *const python_keywords[] = {
	"assert", "class", "def", "del", "elif", "else", "except", "finally", "for",
	"from", "global", "if", "import", "pass", "print", "raise", "return", "try",
	"while", "with",
};

static bool is_python_keyword(const char *s, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(python_keywords); i++) {
		if (strlen(python_keywords[i]) == len && !memcmp(python_keywords[i], s, len))
			return true;
	}
	return false;
}

static bool ends_value(const struct token *t)
{
	return t->type == T_STRING || t->type == T_NUMBER || t->type == T_WORD ||
	       t->type == T_RBRACK;
}

__attribute__((format(printf, 3, 4)))
static bool hit(struct python_hit *h, const struct token *t, const char *fmt, ...)
{
	va_list ap;

	h->pos = t->pos;
	va_start(ap, fmt);
	vsnprintf(h->what, sizeof(h->what), fmt, ap);
	va_end(ap);
	return true;
}

/* Whether `t`, after `prev`, shows Python. `first` says prev began a statement. */
static bool python_at(const char *text, size_t len, const struct token *prev,
		      const struct token *t, bool first, struct python_hit *h)
{
	const char *p = text + prev->start, *s = text + t->start;
	int n = (int)MIN(prev->len, SHOW_MAX);

	if (first && prev->type == T_WORD && t->type != T_EQ && t->type != T_PLUSEQ &&
	    is_python_keyword(p, prev->len))
		return hit(h, prev, "a '%.*s' statement", n, p);
	if (t->type == T_STRING && t->len == 2 && t->start + 2 < len && s[2] == s[0])
		return hit(h, t, "a triple-quoted string");
	if (t->type == T_LBRACK && prev->type == T_WORD && !first &&
	    prev->start + prev->len == t->start)
		return hit(h, prev, "indexing, %.*s[...]", n, p);
	if (t->type != T_OTHER)
		return false;
	if (*s == '(' && prev->type == T_WORD)
		return hit(h, prev, "%.*s(...)", n, p);
	if (*s == '(')
		return hit(h, t, "parentheses");
	if (*s == '{')
		return hit(h, t, "a dictionary, {...}");
	if (!ends_value(prev))
		return false;
	if (*s == '+')
		return hit(h, t, "'+' between values");
	if (*s == '%')
		return hit(h, t, "'%%' formatting");
	if (*s == '*')
		return hit(h, t, "'*' arithmetic");
	return false;
}

static bool find_python(const char *text, size_t len, struct python_hit *h)
{
	struct token prev = { .type = T_NEWLINE }, t;
	bool prev_first = false, first = true;
	unsigned depth = 0;
	struct lexer lx;

	lexer_init(&lx, text, len);
	for (lex(&lx, &t); t.type != T_EOF; lex(&lx, &t)) {
		if (python_at(text, len, &prev, &t, prev_first, h))
			return true;
		if (t.type == T_LBRACK)
			depth++;
		else if (t.type == T_RBRACK && depth)
			depth--;
		prev = t;
		prev_first = first;
		first = !depth && (t.type == T_NEWLINE || t.type == T_SEMI);
	}
	/* The last token may be a keyword alone, "pass" at the end of the file. */
	return python_at(text, len, &prev, &t, prev_first, h);
}

/* ---- Values and settings -------------------------------------------- */

static size_t capacity(size_t n)
{
	size_t c = 1;

	while (c < n)
		c <<= 1;
	return n ? c : 0;
}

/*
 * The arrays in struct xlcfg carry no capacity: it is taken to be the next
 * power of two at or above the count, so they grow only when a count
 * crosses one. Returns the array with room for `more` (at least one) more
 * entries, or NULL.
 */
static void *reserve(void *array, size_t n, size_t more, size_t size)
{
	size_t want = capacity(n + more);

	if (want == capacity(n))
		return array;
	return reallocarray(array, want, size);
}

static void free_value(struct xlcfg_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nitems; i++)
		free_value(v->items[i]);
	free(v->items);
	free(v->text);
	free(v);
}

void xlcfg_init(struct xlcfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void xlcfg_free(struct xlcfg *cfg)
{
	for (size_t i = 0; i < cfg->nsettings; i++) {
		free(cfg->settings[i].key);
		free_value(cfg->settings[i].value);
	}
	free(cfg->settings);
	for (size_t i = 0; i < cfg->nsources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	xlcfg_init(cfg);
}

const struct xlcfg_setting *xlcfg_get(const struct xlcfg *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->nsettings; i++) {
		if (!strcmp(cfg->settings[i].key, key))
			return &cfg->settings[i];
	}
	return NULL;
}

static const char *add_source(struct xlcfg *cfg, const char *source)
{
	char **sources;

	for (size_t i = 0; i < cfg->nsources; i++) {
		if (!strcmp(cfg->sources[i], source))
			return cfg->sources[i];
	}
	sources = reserve(cfg->sources, cfg->nsources, 1, sizeof(*sources));
	if (!sources)
		return NULL;
	cfg->sources = sources;
	sources[cfg->nsources] = strdup(source);
	if (!sources[cfg->nsources])
		return NULL;
	return sources[cfg->nsources++];
}

/* ---- Parser --------------------------------------------------------- */

/*
 * Keys are found through a hash index built for each call, so that a large
 * input with many keys is not quadratic. A slot holds a settings index plus
 * one; 0 is empty.
 */
struct key_index {
	size_t *slots;
	size_t mask;
};

struct parser {
	struct xlcfg *cfg;
	struct diag *d;
	const char *source;	/* the cfg's copy */
	const char *text;
	struct lexer lx;
	struct token tok;	/* the current token */
	unsigned depth;		/* lists open at the current token */
	struct key_index index;
};

static void next(struct parser *p)
{
	lex(&p->lx, &p->tok);
}

static struct token peek(const struct parser *p)
{
	struct lexer lx = p->lx;
	struct token t;

	lex(&lx, &t);
	return t;
}

__attribute__((format(printf, 3, 4)))
static int error_at(struct parser *p, struct src_pos pos, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(p->d, p->source, pos, "%s", msg);
	return -EINVAL;
}

/* A byte as a message shows it: 'c' if printable, else '\xHH'. */
static const char *char_name(char buf[8], unsigned char c)
{
	if (c > ' ' && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "'\\x%02x'", c);
	return buf;
}

static int bad_char(struct parser *p, const struct token *t)
{
	unsigned char c = p->text[t->start];
	char name[8];

	if (!c)
		return error_at(p, t->pos, "NUL byte in the input");
	return error_at(p, t->pos, "unexpected character %s", char_name(name, c));
}

/* Reports the current token where `expected` should be. */
static int unexpected(struct parser *p, const char *expected)
{
	const struct token *t = &p->tok;
	const char *s = p->text + t->start;
	int n = (int)MIN(t->len, SHOW_MAX);

	switch (t->type) {
	case T_OTHER:
		return bad_char(p, t);
	case T_UNTERMINATED:
		return error_at(p, t->pos, "unterminated string: a string must end on the line where it starts");
	case T_EOF:
		return error_at(p, t->pos, "expected %s, found the end of the file", expected);
	case T_NEWLINE:
		return error_at(p, t->pos, "expected %s, found the end of the line", expected);
	case T_STRING:
		return error_at(p, t->pos, "expected %s, found the string %.*s", expected, n, s);
	default:
		return error_at(p, t->pos, "expected %s, found '%.*s'", expected, n, s);
	}
}

static bool at_statement_end(const struct parser *p)
{
	return p->tok.type == T_NEWLINE || p->tok.type == T_SEMI || p->tok.type == T_EOF;
}

/* A setting starting on this line, after a list that was left open. */
static bool at_new_setting(const struct parser *p)
{
	enum tok_type after;

	if (p->tok.type != T_WORD || !p->tok.line_start)
		return false;
	after = peek(p).type;
	return after == T_EQ || after == T_PLUSEQ;
}

/*
 * After an error, skips the rest of the statement: to the end of its line,
 * or past the lists open at the error and then to the end of the line. A
 * list never closed ends at the next line that starts a setting.
 */
static void recover(struct parser *p)
{
	unsigned depth = p->depth;

	p->depth = 0;
	for (;;) {
		switch (p->tok.type) {
		case T_EOF:
			return;
		case T_NEWLINE: case T_SEMI:
			if (!depth) {
				next(p);
				return;
			}
			break;
		case T_LBRACK:
			depth++;
			break;
		case T_RBRACK:
			if (depth)
				depth--;
			break;
		case T_WORD:
			if (depth && at_new_setting(p))
				return;
			break;
		default:
			break;
		}
		next(p);
	}
}

static struct xlcfg_value *new_value(struct parser *p, enum xlcfg_type type)
{
	struct xlcfg_value *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->type = type;
	v->pos = p->tok.pos;
	v->source = p->source;
	return v;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Converts a number as written; returns NULL or why it is not one. */
static const char *to_number(const char *s, size_t len, long long *out)
{
	unsigned long long v = 0, limit = LLONG_MAX;
	unsigned base = 10;
	bool neg = *s == '-';
	size_t i = neg;

	if (neg)
		limit = (unsigned long long)LLONG_MAX + 1;
	if (s[i] == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		base = 16;
		i += 2;
		if (i == len)
			return "0x needs hex digits after it";
	} else if (s[i] == '0') {
		base = 8;
	}
	for (; i < len; i++) {
		unsigned digit = digit_value(s[i]);

		if (digit >= base && base == 8 && digit < 10)
			return "a leading 0 makes it octal, which has no digits 8 and 9";
		if (digit >= base)
			return "that is not a number";
		if (v > (limit - digit) / base)
			return "that is out of range";
		v = v * base + digit;
	}
	*out = neg && v ? -(long long)(v - 1) - 1 : (long long)v;
	return NULL;
}

static int parse_number(struct parser *p, struct xlcfg_value **out)
{
	const char *s = p->text + p->tok.start, *why;
	size_t len = p->tok.len;
	struct xlcfg_value *v;
	long long n;

	why = to_number(s, len, &n);
	if (why)
		return error_at(p, p->tok.pos, "bad number '%.*s': %s", (int)MIN(len, SHOW_MAX), s, why);
	v = new_value(p, XLCFG_NUMBER);
	if (!v || !(v->text = strndup(s, len))) {
		free_value(v);
		return -ENOMEM;
	}
	v->number = n;
	next(p);
	*out = v;
	return 0;
}

static int escape_error(struct parser *p, struct src_pos pos, const char *s)
{
	unsigned char c = s[1];
	char name[8];

	if (!c)
		return error_at(p, (struct src_pos){ pos.line, pos.col + 1 }, "NUL byte in the input");
	if (c >= ' ' && c < 0x7f)
		return error_at(p, pos, "unknown escape '\\%c' in a string", c);
	return error_at(p, pos, "unknown escape in a string: '\\' followed by %s",
			char_name(name, c));
}

/*
 * Decodes the escape at s[0] (a backslash; the lexer made sure something
 * follows it) into *c, and returns its length, or -EINVAL.
 */
static int escape(struct parser *p, struct src_pos pos, const char *s, size_t left, char *c)
{
	static const char simple[] = "\\\\\"\"''a\ab\bf\fn\nr\rt\tv\v";
	unsigned v = 0;
	int n = 1;

	for (size_t i = 0; simple[i]; i += 2) {
		if (s[1] == simple[i]) {
			*c = simple[i + 1];
			return 2;
		}
	}
	if (s[1] == 'x') {
		if (left < 4 || digit_value(s[2]) > 15 || digit_value(s[3]) > 15)
			return error_at(p, pos, "'\\x' needs exactly two hex digits after it");
		v = digit_value(s[2]) * 16 + digit_value(s[3]);
		n = 3;
	} else if (s[1] >= '0' && s[1] <= '7') {
		/* Octal, as in C: up to three digits. */
		while (n <= 3 && (size_t)n < left && s[n] >= '0' && s[n] <= '7')
			v = v * 8 + (s[n++] - '0');
		n--;
		if (v > 0377)
			return error_at(p, pos, "octal escape '\\%.*s' is above \\377", n, s + 1);
	} else {
		return escape_error(p, pos, s);
	}
	if (!v)
		return error_at(p, pos, "escape '\\%.*s' would put a NUL byte in the string", n, s + 1);
	*c = (char)v;
	return n + 1;
}

static int decode_string(struct parser *p, char **out)
{
	const struct token *t = &p->tok;
	const char *s = p->text + t->start + 1;
	size_t len = t->len - 2, i = 0, o = 0;
	char *buf = malloc(len + 1);

	if (!buf)
		return -ENOMEM;
	while (i < len) {
		struct src_pos pos = { t->pos.line, t->pos.col + 1 + (unsigned)i };
		int n = 1;

		if (!s[i])
			n = error_at(p, pos, "NUL byte in the input");
		else if (s[i] == '\\')
			n = escape(p, pos, s + i, len - i, &buf[o]);
		else
			buf[o] = s[i];
		if (n < 0) {
			free(buf);
			return n;
		}
		i += n;
		o++;
	}
	buf[o] = '\0';
	*out = buf;
	return 0;
}

static int parse_string(struct parser *p, struct xlcfg_value **out)
{
	struct xlcfg_value *v;
	char *text;
	int r;

	r = decode_string(p, &text);
	if (r)
		return r;
	v = new_value(p, XLCFG_STRING);
	if (!v) {
		free(text);
		return -ENOMEM;
	}
	v->text = text;
	next(p);
	*out = v;
	return 0;
}

/* A word where a value belongs: old xm files have `name = web`, which is
 * taken as a string (with a warning) when it is the whole value. */
static int parse_bare_word(struct parser *p, unsigned depth, struct xlcfg_value **out)
{
	const char *s = p->text + p->tok.start;
	int n = (int)MIN(p->tok.len, SHOW_MAX);
	enum tok_type after = peek(p).type;
	struct xlcfg_value *v;

	if (depth || (after != T_NEWLINE && after != T_SEMI && after != T_EOF))
		return error_at(p, p->tok.pos, "expected a value, found the word '%.*s': quote strings",
				n, s);
	v = new_value(p, XLCFG_STRING);
	if (!v || !(v->text = strndup(s, p->tok.len))) {
		free_value(v);
		return -ENOMEM;
	}
	diag_warn(p->d, p->source, p->tok.pos,
		  "unquoted word '%.*s' taken as a string: quote it, \"%.*s\"", n, s, n, s);
	next(p);
	*out = v;
	return 0;
}

static int parse_value(struct parser *p, unsigned depth, struct xlcfg_value **out);

static int add_item(struct xlcfg_value *list, struct xlcfg_value *item)
{
	struct xlcfg_value **items = reserve(list->items, list->nitems, 1, sizeof(*items));

	if (!items)
		return -ENOMEM;
	list->items = items;
	items[list->nitems++] = item;
	return 0;
}

/* The items of the list at the current '['; `depth` counts it. */
static int parse_items(struct parser *p, unsigned depth, struct xlcfg_value *list)
{
	struct xlcfg_value *item;
	bool need_comma = false;
	int r;

	for (;;) {
		while (p->tok.type == T_NEWLINE)
			next(p);
		if (p->tok.type == T_RBRACK)
			return 0;
		if (p->tok.type == T_EOF || at_new_setting(p))
			return error_at(p, list->pos, "this '[' is never closed with ']'");
		if (need_comma) {
			if (p->tok.type != T_COMMA)
				return unexpected(p, "',' or ']' after a list item");
			next(p);
			need_comma = false;
			continue;
		}
		if (p->tok.type == T_COMMA)
			return error_at(p, p->tok.pos, "empty list item: a ',' with no value before it");
		r = parse_value(p, depth, &item);
		if (r)
			return r;
		r = add_item(list, item);
		if (r) {
			free_value(item);
			return r;
		}
		need_comma = true;
	}
}

static int parse_list(struct parser *p, unsigned depth, struct xlcfg_value **out)
{
	struct xlcfg_value *list;
	int r;

	if (depth > XLCFG_MAX_DEPTH)
		return error_at(p, p->tok.pos, "lists nested more than %d deep", XLCFG_MAX_DEPTH);
	list = new_value(p, XLCFG_LIST);
	if (!list)
		return -ENOMEM;
	next(p);
	p->depth++;
	r = parse_items(p, depth, list);
	if (r) {
		/* p->depth stays, for recover() to skip the open lists. */
		free_value(list);
		return r;
	}
	p->depth--;
	next(p);
	*out = list;
	return 0;
}

/* A value at list depth `depth` (0 outside any list). */
static int parse_value(struct parser *p, unsigned depth, struct xlcfg_value **out)
{
	switch (p->tok.type) {
	case T_STRING: return parse_string(p, out);
	case T_NUMBER: return parse_number(p, out);
	case T_LBRACK: return parse_list(p, depth + 1, out);
	case T_WORD: return parse_bare_word(p, depth, out);
	default: return unexpected(p, "a value (a string, a number or a list)");
	}
}

static size_t hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	while (len--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* The slot holding `key`, or the empty one where it would go. */
static size_t *index_slot(struct parser *p, const char *key, size_t len)
{
	size_t i = hash(key, len) & p->index.mask;

	for (;; i = (i + 1) & p->index.mask) {
		size_t *slot = &p->index.slots[i];
		const char *k;

		if (!*slot)
			return slot;
		k = p->cfg->settings[*slot - 1].key;
		if (!strncmp(k, key, len) && !k[len])
			return slot;
	}
}

/* Makes room for one more setting, keeping the index at most half full. */
static int index_reserve(struct parser *p)
{
	struct xlcfg *cfg = p->cfg;
	size_t size = p->index.mask + 1;

	if (p->index.slots && cfg->nsettings + 1 <= size / 2)
		return 0;
	size = capacity(2 * (cfg->nsettings + 1));
	free(p->index.slots);
	p->index.slots = calloc(size, sizeof(*p->index.slots));
	if (!p->index.slots)
		return -ENOMEM;
	p->index.mask = size - 1;
	for (size_t i = 0; i < cfg->nsettings; i++) {
		const char *k = cfg->settings[i].key;

		*index_slot(p, k, strlen(k)) = i + 1;
	}
	return 0;
}

static const char *type_name(enum xlcfg_type type)
{
	switch (type) {
	case XLCFG_STRING: return "a string";
	case XLCFG_NUMBER: return "a number";
	default: return "a list";
	}
}

/* old += v; consumes v if it succeeds. */
static int extend(struct parser *p, const char *key, struct xlcfg_value *old,
		  struct xlcfg_value *v)
{
	struct xlcfg_value **items;
	char *text;

	if (old->type != v->type || old->type == XLCFG_NUMBER)
		return error_at(p, v->pos, "'+=' joins a string to a string or a list to a list, "
				"but %s is %s and this is %s", key, type_name(old->type),
				type_name(v->type));
	if (old->type == XLCFG_STRING) {
		text = realloc(old->text, strlen(old->text) + strlen(v->text) + 1);
		if (!text)
			return -ENOMEM;
		old->text = strcat(text, v->text);
	} else if (v->nitems) {
		items = reserve(old->items, old->nitems, v->nitems, sizeof(*items));
		if (!items)
			return -ENOMEM;
		old->items = items;
		memcpy(items + old->nitems, v->items, v->nitems * sizeof(*items));
		old->nitems += v->nitems;
		v->nitems = 0;
	}
	free_value(v);
	return 0;
}

/* Merges `key = v` (or `key += v`) into the cfg, which takes v. */
static int store(struct parser *p, const struct token *key, bool append, struct xlcfg_value *v)
{
	const char *name = p->text + key->start;
	struct xlcfg *cfg = p->cfg;
	struct xlcfg_setting *s;
	size_t *slot;
	int r;

	r = index_reserve(p);
	if (r)
		goto fail;
	slot = index_slot(p, name, key->len);
	if (*slot) {
		s = &cfg->settings[*slot - 1];
		if (append) {
			r = extend(p, s->key, s->value, v);
			if (r)
				goto fail;
		} else {
			free_value(s->value);
			s->value = v;
		}
		s->pos = key->pos;
		s->source = p->source;
		return 0;
	}
	s = reserve(cfg->settings, cfg->nsettings, 1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto fail;
	}
	cfg->settings = s;
	s += cfg->nsettings;
	*s = (struct xlcfg_setting){ .key = strndup(name, key->len), .pos = key->pos,
				     .source = p->source, .value = v };
	if (!s->key) {
		r = -ENOMEM;
		goto fail;
	}
	*slot = ++cfg->nsettings;
	return 0;
fail:
	free_value(v);
	return r;
}

static bool has_upper(const char *s, size_t len)
{
	while (len--) {
		if (*s >= 'A' && *s <= 'Z')
			return true;
		s++;
	}
	return false;
}

static int parse_statement(struct parser *p)
{
	struct token key = p->tok;
	struct xlcfg_value *v;
	bool append;
	int r;

	if (key.type != T_WORD)
		return unexpected(p, "a key");
	if (has_upper(p->text + key.start, key.len))
		return error_at(p, key.pos, "keys are lower case, and '%.*s' is not",
				(int)MIN(key.len, SHOW_MAX), p->text + key.start);
	next(p);
	if (p->tok.type != T_EQ && p->tok.type != T_PLUSEQ)
		return unexpected(p, "'=' or '+=' after the key");
	append = p->tok.type == T_PLUSEQ;
	next(p);
	r = parse_value(p, 0, &v);
	if (r)
		return r;
	if (!at_statement_end(p)) {
		free_value(v);
		return unexpected(p, "the end of the line or ';' after the value");
	}
	return store(p, &key, append, v);
}

static int parse_all(struct parser *p)
{
	int r;

	next(p);
	while (p->tok.type != T_EOF) {
		if (p->tok.type == T_NEWLINE || p->tok.type == T_SEMI) {
			next(p);
			continue;
		}
		r = parse_statement(p);
		if (r == -ENOMEM)
			return r;
		if (r)
			recover(p);
	}
	return 0;
}

int xlcfg_parse(struct xlcfg *cfg, const char *text, size_t len, const char *source,
		struct diag *d)
{
	struct parser p = { .cfg = cfg, .d = d, .text = text };
	unsigned errors = d->errors;
	struct python_hit py;
	int r;

	if (!source)
		source = "<input>";
	if (!len)
		text = "";
	/* A Python file merges nothing: none of it means what it says. */
	if (find_python(text, len, &py)) {
		diag_error(d, source, py.pos, "this is Python (%s), which xm ran but xl.cfg does not: "
			   "replace the computed values with plain ones", py.what);
		return -EINVAL;
	}
	p.source = add_source(cfg, source);
	if (!p.source)
		return -ENOMEM;
	lexer_init(&p.lx, text, len);
	r = parse_all(&p);
	free(p.index.slots);
	if (r)
		return r;
	return d->errors > errors ? -EINVAL : 0;
}

/* Reads at most XLCFG_FILE_MAX bytes; -EFBIG if there are more. */
static int read_file(const char *path, char **text, size_t *len)
{
	size_t cap = XLCFG_FILE_MAX + 1;
	char *buf = malloc(cap);
	ssize_t n;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	n = read_full(fd, buf, cap);
	err = n < 0 ? -errno : 0;
	if ((size_t)n == cap)
		err = -EFBIG;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = n;
	return 0;
}

int xlcfg_parse_file(struct xlcfg *cfg, const char *path, struct diag *d)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file(path, &text, &len);
	if (r == -ENOMEM)
		return r;
	if (r == -EFBIG) {
		diag_error(d, path, (struct src_pos){ 0 },
			   "too large: a configuration file is at most %llu MiB",
			   (unsigned long long)(XLCFG_FILE_MAX >> 20));
		return -EINVAL;
	}
	if (r) {
		diag_error(d, path, (struct src_pos){ 0 }, "cannot read: %s", strerror(-r));
		return -EINVAL;
	}
	r = xlcfg_parse(cfg, text, len, path, d);
	free(text);
	return r;
}
