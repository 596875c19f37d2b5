/* The xl.cfg(5) lexer and parser (config/xlcfg.h). */
#include "test.h"
#include "config/xlcfg.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct xlcfg cfg;
static struct diag d;

static void reset(void)
{
	xlcfg_free(&cfg);
	diag_free(&d);
}

static int parse_as(const char *text, const char *source)
{
	return xlcfg_parse(&cfg, text, strlen(text), source, &d);
}

/* A fresh parse of `text` named "t.cfg". */
static int parse(const char *text)
{
	reset();
	return parse_as(text, "t.cfg");
}

/* Whether message i exists, starts with `where` and contains `words`. */
static bool msg(size_t i, const char *where, const char *words)
{
	return i < d.nmsgs && !strncmp(d.msgs[i].text, where, strlen(where)) &&
	       strstr(d.msgs[i].text, words);
}

/* Whether the input gave exactly one message, an error, so placed and worded. */
static bool one_error(const char *where, const char *words)
{
	if (d.nmsgs != 1 || d.errors != 1)
		printf("# %zu messages, first: %s\n", d.nmsgs, d.nmsgs ? d.msgs[0].text : "-");
	return d.nmsgs == 1 && d.errors == 1 && msg(0, where, words);
}

static const struct xlcfg_value *val(const char *key)
{
	const struct xlcfg_setting *s = xlcfg_get(&cfg, key);

	return s ? s->value : NULL;
}

static bool is_string(const struct xlcfg_value *v, const char *text)
{
	return v && v->type == XLCFG_STRING && !strcmp(v->text, text);
}

static bool is_number(const struct xlcfg_value *v, long long n)
{
	return v && v->type == XLCFG_NUMBER && v->number == n;
}

static bool is_list(const struct xlcfg_value *v, size_t n)
{
	return v && v->type == XLCFG_LIST && v->nitems == n;
}

static const char *seed(const char *name)
{
	static char path[4096];
	const char *dir = getenv("CORRAL_SEEDS");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
	return path;
}

static void plain_xm_file_parses_with_one_warning(void)
{
	const struct xlcfg_value *v;
	const char *path = seed("jabberwock-plain.cfg");
	char where[4200];

	reset();
	CHECK_EQ(xlcfg_parse_file(&cfg, path, &d), 0);
	CHECK_EQ(d.errors, 0);
	CHECK_EQ(d.warnings, 1);
	snprintf(where, sizeof(where), "%s:3:8: warning:", path);
	CHECK(msg(0, where, "'jabberwock'") && msg(0, where, "quote"));
	CHECK_EQ(cfg.nsettings, 8);
	CHECK(is_string(val("kernel"), "/xen/netbsd-3/netbsd-XENU"));
	CHECK(is_number(val("memory"), 128));
	CHECK(is_string(val("name"), "jabberwock"));
	CHECK(is_number(val("cpu"), -1));
	CHECK(val("cpu") && !strcmp(val("cpu")->text, "-1"));
	CHECK(is_number(val("nics"), 1));
	v = val("vif");
	CHECK(is_list(v, 1) && is_string(v->items[0], "mac=ee:14:04:d0:ec:af, bridge=bridge0"));
	v = val("disk");
	CHECK(is_list(v, 3));
	if (is_list(v, 3)) {
		CHECK(is_string(v->items[0], "file:/xen/jabberwock/crypt.img,wd2d,w"));
		CHECK(is_string(v->items[1], "file:/xen/jabberwock/pkg.img,wd1d,r"));
		CHECK(is_string(v->items[2], "file:/xen/netbsd-3/root.img,wd0d,r"));
		CHECK_EQ(v->items[2]->pos.line, 9);
		CHECK_EQ(v->items[2]->pos.col, 10);
	}
	CHECK(is_string(val("root"), "/dev/wd0d"));
	CHECK(!strcmp(cfg.settings[0].key, "kernel") && !strcmp(cfg.settings[7].key, "root"));
	CHECK(cfg.nsources == 1 && !strcmp(cfg.sources[0], path));
	CHECK(cfg.settings[7].source == cfg.sources[0]);
	CHECK(val("disk") && val("disk")->source == cfg.sources[0]);
}

static void python_xm_file_is_one_error_at_the_python(void)
{
	const char *path = seed("jabberwock.cfg");
	char where[4200];

	reset();
	CHECK_EQ(xlcfg_parse_file(&cfg, path, &d), -EINVAL);
	snprintf(where, sizeof(where), "%s:9:7: error:", path);
	CHECK(one_error(where, "this is Python (os.popen(...))"));
	CHECK(msg(0, where, "xl.cfg does not"));
	CHECK_EQ(cfg.nsettings, 0);
}

static void unreadable_file_is_one_error(void)
{
	reset();
	CHECK_EQ(xlcfg_parse_file(&cfg, "/nonexistent/x.cfg", &d), -EINVAL);
	CHECK(one_error("/nonexistent/x.cfg: error: cannot read:", strerror(ENOENT)));
}

static void oversized_file_is_refused(void)
{
	char path[] = "/tmp/test_xlcfg.XXXXXX";
	static char big[(1 << 20) + 1];
	int fd = mkstemp(path);

	reset();
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	memset(big, '\n', sizeof(big));
	CHECK_EQ(write(fd, big, sizeof(big)), sizeof(big));
	close(fd);
	CHECK_EQ(xlcfg_parse_file(&cfg, path, &d), -EINVAL);
	CHECK(d.errors == 1 && msg(0, path, "too large"));
	/* One byte less is a file of blank lines. */
	CHECK_EQ(truncate(path, sizeof(big) - 1), 0);
	CHECK_EQ(xlcfg_parse_file(&cfg, path, &d), 0);
	unlink(path);
}

static void settings_keep_key_position_and_source(void)
{
	const struct xlcfg_setting *s;

	CHECK_EQ(parse("\n  memory = 512\n"), 0);
	s = xlcfg_get(&cfg, "memory");
	CHECK(s && !strcmp(s->key, "memory") && s->pos.line == 2 && s->pos.col == 3);
	CHECK(s && s->source == cfg.sources[0] && !strcmp(s->source, "t.cfg"));
	CHECK(s && s->value->pos.line == 2 && s->value->pos.col == 12);
	CHECK(s && !strcmp(s->value->text, "512"));
	CHECK(xlcfg_get(&cfg, "memor") == NULL && xlcfg_get(&cfg, "memory2") == NULL);
}

static void keys_may_hold_digits_dots_and_underscores(void)
{
	CHECK_EQ(parse("_x = 1\ndevice_model.args2 = 2\n"), 0);
	CHECK(is_number(val("_x"), 1));
	CHECK(is_number(val("device_model.args2"), 2));
}

static void upper_case_key_is_an_error(void)
{
	CHECK_EQ(parse("memory = 1\n  Memory = 2\nvcpus = 2\n"), -EINVAL);
	CHECK(one_error("t.cfg:2:3: error:", "lower case"));
	CHECK(msg(0, "t.cfg", "'Memory'"));
	CHECK(is_number(val("memory"), 1) && is_number(val("vcpus"), 2));
}

static void statement_must_start_with_a_key(void)
{
	CHECK_EQ(parse("= 1\n'a' = 1\n9 = 1\n"), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:1:1: error:", "expected a key, found '='"));
	CHECK(msg(1, "t.cfg:2:1: error:", "found the string 'a'"));
	CHECK(msg(2, "t.cfg:3:1: error:", "expected a key"));
	CHECK_EQ(cfg.nsettings, 0);
}

static void missing_equals_is_an_error(void)
{
	CHECK_EQ(parse("memory 128\nvcpus\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:8: error:", "expected '=' or '+='"));
	CHECK(msg(1, "t.cfg:2:6: error:", "end of the line"));
}

static void missing_value_is_an_error(void)
{
	CHECK_EQ(parse("memory =\nvcpus = ;name = 'x'\nroot ="), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:1:9: error:", "expected a value"));
	CHECK(msg(1, "t.cfg:2:9: error:", "found ';'"));
	CHECK(msg(2, "t.cfg:3:7: error:", "end of the file"));
	CHECK(is_string(val("name"), "x"));
	CHECK_EQ(cfg.nsettings, 1);
}

static void junk_after_value_is_an_error(void)
{
	CHECK_EQ(parse("memory = 128 256\nvcpus = 'a''b'\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:14: error:", "expected the end of the line or ';'"));
	CHECK(msg(1, "t.cfg:2:12: error:", "found the string 'b'"));
	CHECK_EQ(cfg.nsettings, 0);
}

static void comments_are_ignored(void)
{
	CHECK_EQ(parse("# a comment\nmemory = 128 # MiB\n   # indented\nvif = [ # nics\n 'a', # one\n]\n"),
		 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(is_number(val("memory"), 128));
	CHECK(is_list(val("vif"), 1));
	CHECK_EQ(cfg.nsettings, 2);
}

static void semicolons_separate_statements(void)
{
	CHECK_EQ(parse(";;a = 1; b = 'x';;c = []; \n;\n"), 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(is_number(val("a"), 1) && is_string(val("b"), "x") && is_list(val("c"), 0));
}

static void end_of_file_ends_a_statement(void)
{
	CHECK_EQ(parse("a = 1\nb = 'x'"), 0);
	CHECK(is_number(val("a"), 1) && is_string(val("b"), "x"));
}

static void empty_input_is_no_settings(void)
{
	CHECK_EQ(parse(""), 0);
	CHECK_EQ(parse("\n\n  \t\n# only a comment"), 0);
	CHECK_EQ(cfg.nsettings, 0);
	CHECK_EQ(d.nmsgs, 0);
	reset();
	CHECK_EQ(xlcfg_parse(&cfg, NULL, 0, "empty", &d), 0);
}

static void crlf_line_ends_are_accepted(void)
{
	CHECK_EQ(parse("a = 1\r\nb = [ 'x',\r\n 'y' ]\r\n# c\r\n\r\nc = 'z'\r\n"), 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(is_number(val("a"), 1) && is_list(val("b"), 2) && is_string(val("c"), "z"));
	CHECK_EQ(parse("a = 1\r\nb = 09\r\n"), -EINVAL);
	CHECK(one_error("t.cfg:2:5: error:", "'09'"));
}

static void lone_carriage_return_is_an_error(void)
{
	CHECK_EQ(parse("a = 1\rb = 2\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:6: error:", "unexpected character '\\x0d'"));
}

static void strings_take_either_quote(void)
{
	CHECK_EQ(parse("a = 'say \"hi\"'\nb = \"it's\"\nc = ''\n"), 0);
	CHECK(is_string(val("a"), "say \"hi\""));
	CHECK(is_string(val("b"), "it's"));
	CHECK(is_string(val("c"), ""));
}

static void simple_escapes_are_decoded(void)
{
	CHECK_EQ(parse("a = '\\\\ \\\" \\' \\a\\b\\f\\n\\r\\t\\v'\n"), 0);
	CHECK(is_string(val("a"), "\\ \" ' \a\b\f\n\r\t\v"));
	CHECK_EQ(parse("a = \"\\\"quoted\\\"\"\n"), 0);
	CHECK(is_string(val("a"), "\"quoted\""));
}

static void octal_escapes_are_octal(void)
{
	CHECK_EQ(parse("a = '\\101\\60\\7|\\0101|\\377|\\12'\n"), 0);
	/* \0101 is \010 and then '1': three digits at most. */
	CHECK(is_string(val("a"), "A0\a|\b1|\377|\n"));
}

static void octal_escape_above_0377_is_an_error(void)
{
	CHECK_EQ(parse("a = 'ok \\400'\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:9: error:", "'\\400'"));
	CHECK(msg(0, "t.cfg", "above \\377"));
	CHECK_EQ(cfg.nsettings, 0);
}

static void hex_escapes_take_two_digits(void)
{
	CHECK_EQ(parse("a = '\\x41\\x4a\\x4f4\\xfF'\n"), 0);
	CHECK(is_string(val("a"), "AJO4\xff"));
}

static void short_hex_escape_is_an_error(void)
{
	CHECK_EQ(parse("a = '\\x4'\nb = '..\\xg1'\nc = '\\x'\n"), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:1:6: error:", "two hex digits"));
	CHECK(msg(1, "t.cfg:2:8: error:", "two hex digits"));
	CHECK(msg(2, "t.cfg:3:6: error:", "two hex digits"));
}

static void escape_making_a_nul_is_an_error(void)
{
	CHECK_EQ(parse("a = '\\0'\nb = 'x\\x00'\nc = '\\000'\n"), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:1:6: error:", "NUL"));
	CHECK(msg(1, "t.cfg:2:7: error:", "'\\x00' would put a NUL"));
	CHECK(msg(2, "t.cfg:3:6: error:", "'\\000'"));
	CHECK_EQ(cfg.nsettings, 0);
}

static void unknown_escape_is_named(void)
{
	CHECK_EQ(parse("a = 'C:\\dir'\nb = '\\\xc3'\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:8: error:", "unknown escape '\\d'"));
	CHECK(msg(1, "t.cfg:2:6: error:", "'\\xc3'"));
}

static void unterminated_string_is_an_error_at_its_quote(void)
{
	CHECK_EQ(parse("a = 'abc\nb = 1\nc = \"x\\\"\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:5: error:", "unterminated string"));
	CHECK(msg(1, "t.cfg:3:5: error:", "unterminated string"));
	CHECK(is_number(val("b"), 1));
	CHECK_EQ(cfg.nsettings, 1);
}

static void string_broken_across_lines_is_one_error(void)
{
	CHECK_EQ(parse("cmd = '/usr/bin/x bind\n\t\t/a/b.img'\nb = 1\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:7: error:", "unterminated string"));
	CHECK(is_number(val("b"), 1));
	/* A closed string on the next line is not a continuation. */
	CHECK_EQ(parse("disk = [ 'a,\n 'b' ]\nc = 2\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:10: error:", "unterminated string"));
	CHECK(is_number(val("c"), 2));
}

static void numbers_in_all_bases(void)
{
	CHECK_EQ(parse("a = 10\nb = 0x1F\nc = 0755\nd = 0\ne = -1\nf = -0x10\ng = -017\n"
		       "h = 9223372036854775807\ni = -9223372036854775808\nj = 0X7fffffffffffffff\n"),
		 0);
	CHECK(is_number(val("a"), 10));
	CHECK(is_number(val("b"), 31));
	CHECK(is_number(val("c"), 0755));
	CHECK(is_number(val("d"), 0));
	CHECK(is_number(val("e"), -1));
	CHECK(is_number(val("f"), -16));
	CHECK(is_number(val("g"), -15));
	CHECK(is_number(val("h"), LLONG_MAX));
	CHECK(is_number(val("i"), LLONG_MIN));
	CHECK(is_number(val("j"), LLONG_MAX));
	CHECK(val("b") && !strcmp(val("b")->text, "0x1F"));
	CHECK(val("c") && !strcmp(val("c")->text, "0755"));
}

static void bad_numbers_are_errors(void)
{
	static const struct {
		const char *text, *words;
	} bad[] = {
		{ "a = 09\n", "octal" },
		{ "a = 0x\n", "hex digits" },
		{ "a = 0xg\n", "not a number" },
		{ "a = 12abc\n", "'12abc'" },
		{ "a = 1.5\n", "'1.5'" },
		{ "a = 1_000\n", "'1_000'" },
		{ "a = 9223372036854775808\n", "out of range" },
		{ "a = -9223372036854775809\n", "out of range" },
		{ "a = 0x10000000000000000\n", "out of range" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(parse(bad[i].text), -EINVAL);
		CHECK(one_error("t.cfg:1:5: error: bad number", bad[i].words));
		CHECK_EQ(cfg.nsettings, 0);
	}
}

static void lists_hold_any_values(void)
{
	const struct xlcfg_value *v;

	CHECK_EQ(parse("l = [ 'a', 2, [ 'b', [] ], \"c\" ]\n"), 0);
	v = val("l");
	CHECK(is_list(v, 4));
	if (!is_list(v, 4))
		return;
	CHECK(is_string(v->items[0], "a"));
	CHECK(is_number(v->items[1], 2));
	CHECK(is_list(v->items[2], 2));
	CHECK(is_string(v->items[2]->items[0], "b"));
	CHECK(is_list(v->items[2]->items[1], 0));
	CHECK(is_string(v->items[3], "c"));
	CHECK_EQ(v->pos.col, 5);
	CHECK_EQ(v->items[2]->pos.col, 15);
	CHECK_EQ(v->items[3]->pos.col, 28);
}

static void empty_list_and_trailing_comma(void)
{
	CHECK_EQ(parse("a = []\nb = [ ]\nc = [ 'x', ]\nd = [\n 'x',\n 'y',\n]\n"), 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(is_list(val("a"), 0) && is_list(val("b"), 0));
	CHECK(is_list(val("c"), 1) && is_list(val("d"), 2));
}

static void lists_span_lines(void)
{
	const struct xlcfg_value *v;

	CHECK_EQ(parse("disk = [\n\n  'a'\n  ,\n  'b'\n\n]\nx = 1\n"), 0);
	v = val("disk");
	CHECK(is_list(v, 2));
	CHECK(v && v->nitems == 2 && v->items[1]->pos.line == 5 && v->items[1]->pos.col == 3);
	CHECK(is_number(val("x"), 1));
}

static void two_commas_in_a_row_are_an_error(void)
{
	CHECK_EQ(parse("a = [ 'x',, 'y' ]\nb = [ , 'y' ]\nc = 1\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:11: error:", "empty list item"));
	CHECK(msg(1, "t.cfg:2:7: error:", "empty list item"));
	CHECK(is_number(val("c"), 1));
	CHECK_EQ(cfg.nsettings, 1);
}

static void missing_comma_is_an_error(void)
{
	CHECK_EQ(parse("a = [ 'x' 'y' ]\nb = [ 1\n 2 ]\nc = 1\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:11: error:", "expected ',' or ']'"));
	CHECK(msg(1, "t.cfg:3:2: error:", "expected ',' or ']'"));
	CHECK(is_number(val("c"), 1));
}

static void error_inside_a_list_skips_the_list(void)
{
	CHECK_EQ(parse("a = [ 'x',\n  09,\n  [ 'y' ],\n  'z' ]\nb = 1\n"), -EINVAL);
	CHECK(one_error("t.cfg:2:3: error:", "bad number"));
	CHECK(val("a") == NULL && is_number(val("b"), 1));
}

static void unclosed_list_ends_at_next_setting(void)
{
	CHECK_EQ(parse("disk = [ 'a',\n   'b'\nmemory = 128\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:8: error:", "never closed"));
	CHECK(val("disk") == NULL && is_number(val("memory"), 128));
	CHECK_EQ(parse("disk = [ [ 'a',\nmemory += 128\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:10: error:", "never closed"));
	CHECK(is_number(val("memory"), 128));
}

static void unclosed_list_at_end_of_file(void)
{
	CHECK_EQ(parse("a = 1\ndisk = [ 'a',\n 'b'"), -EINVAL);
	CHECK(one_error("t.cfg:2:8: error:", "never closed"));
	CHECK(is_number(val("a"), 1) && val("disk") == NULL);
}

static void stray_bracket_is_an_error(void)
{
	CHECK_EQ(parse("a = 1 ]\nb = ]\nc = 2\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:1:7: error:", "found ']'"));
	CHECK(msg(1, "t.cfg:2:5: error:", "expected a value"));
	CHECK(is_number(val("c"), 2));
}

static char *nested(int depth)
{
	char *text = malloc(2 * depth + 16);
	char *p = text;

	p += sprintf(p, "a = ");
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	strcpy(p + 2 * depth, "\nb=1\n");
	return text;
}

static void lists_nest_sixteen_deep(void)
{
	const struct xlcfg_value *v;
	char *text = nested(16);
	int depth = 0;

	CHECK_EQ(parse(text), 0);
	for (v = val("a"); v && v->type == XLCFG_LIST; v = v->nitems ? v->items[0] : NULL)
		depth++;
	CHECK_EQ(depth, 16);
	free(text);
}

static void lists_nested_deeper_are_an_error(void)
{
	char *text = nested(100000);

	CHECK_EQ(parse(text), -EINVAL);
	/* The 17th '[' is at column 4 + 17. */
	CHECK(one_error("t.cfg:1:21: error:", "nested more than 16 deep"));
	CHECK(val("a") == NULL && is_number(val("b"), 1));
	free(text);
}

static void big_list_is_parsed(void)
{
	size_t n = 10000, len = 0;
	char *text = malloc(n * 16 + 32);
	const struct xlcfg_value *v;

	len += sprintf(text, "big = [");
	for (size_t i = 0; i < n; i++)
		len += sprintf(text + len, "'%zu',%s", i, i % 8 ? " " : "\n");
	strcpy(text + len, "]\n");
	CHECK_EQ(parse(text), 0);
	v = val("big");
	CHECK(is_list(v, n));
	CHECK(v && v->nitems == n && is_string(v->items[n - 1], "9999"));
	free(text);
}

static void many_keys_are_parsed(void)
{
	size_t n = 20000, len = 0;
	char *text = malloc(n * 24);
	char key[32];

	for (size_t i = 0; i < n; i++)
		len += sprintf(text + len, "k%zu = %zu\n", i, i);
	/* Assign each again: the last wins and the order stays. */
	for (size_t i = 0; i < n; i += 7)
		len += sprintf(text + len, "k%zu = 'again'\n", i);
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(cfg.nsettings, n);
	snprintf(key, sizeof(key), "k%zu", n - 2);
	CHECK(is_number(val(key), n - 2));
	CHECK(is_string(val("k7"), "again") && is_number(val("k8"), 8));
	CHECK(!strcmp(cfg.settings[7].key, "k7"));
	free(text);
}

static void bare_word_is_a_string_with_a_warning(void)
{
	CHECK_EQ(parse("name = Web_1.x\nb = web ; c = 1"), 0);
	CHECK_EQ(d.errors, 0);
	CHECK_EQ(d.warnings, 2);
	CHECK(msg(0, "t.cfg:1:8: warning:", "'Web_1.x'") && msg(0, "t.cfg", "quote"));
	CHECK(msg(1, "t.cfg:2:5: warning:", "'web'"));
	CHECK(is_string(val("name"), "Web_1.x") && is_string(val("b"), "web"));
	CHECK(val("name") && val("name")->pos.col == 8);
}

static void bare_word_inside_a_value_is_an_error(void)
{
	CHECK_EQ(parse("vif = [ bridge ]\nname = web server\nc = 1\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK_EQ(d.warnings, 0);
	CHECK(msg(0, "t.cfg:1:9: error:", "quote strings"));
	CHECK(msg(1, "t.cfg:2:8: error:", "'web'"));
	CHECK(is_number(val("c"), 1));
}

static void unexpected_character_is_named(void)
{
	CHECK_EQ(parse("a = $\nb = 1 \x01\nc = @x\n"), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:1:5: error:", "unexpected character '$'"));
	CHECK(msg(1, "t.cfg:2:7: error:", "unexpected character '\\x01'"));
	CHECK(msg(2, "t.cfg:3:5: error:", "'@'"));
}

static void nul_byte_is_an_error(void)
{
	static const char text[] = "a = 1\nb = 'x\0y'\n\0\nc = 2 # x\0y 'z\nd = 3\n";

	reset();
	CHECK_EQ(xlcfg_parse(&cfg, text, sizeof(text) - 1, "t.cfg", &d), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:2:7: error:", "NUL byte"));
	CHECK(msg(1, "t.cfg:3:1: error:", "NUL byte"));
	CHECK(msg(2, "t.cfg:4:10: error:", "NUL byte"));
	CHECK(is_number(val("a"), 1) && is_number(val("d"), 3));
	CHECK_EQ(cfg.nsettings, 2);
}

static void errors_do_not_cascade(void)
{
	CHECK_EQ(parse("a = 1\nb = = 2 3 ]]\nc = [ 1,, [ 2 3 ] ] 4\nd = 'x\ne = 5\n"), -EINVAL);
	CHECK_EQ(d.errors, 3);
	CHECK(msg(0, "t.cfg:2:5: error:", ""));
	CHECK(msg(1, "t.cfg:3:9: error:", ""));
	CHECK(msg(2, "t.cfg:4:5: error:", "unterminated"));
	CHECK(is_number(val("a"), 1) && is_number(val("e"), 5));
	CHECK_EQ(cfg.nsettings, 2);
}

static void failed_assignment_keeps_the_old_value(void)
{
	CHECK_EQ(parse("a = 1\na = 09\n"), -EINVAL);
	CHECK(is_number(val("a"), 1));
	CHECK_EQ(xlcfg_get(&cfg, "a")->pos.line, 1);
}

static void last_assignment_wins_in_first_order(void)
{
	const struct xlcfg_setting *s;

	CHECK_EQ(parse("a = 1\nb = 2\na = 'three'\n"), 0);
	CHECK_EQ(cfg.nsettings, 2);
	CHECK(!strcmp(cfg.settings[0].key, "a") && !strcmp(cfg.settings[1].key, "b"));
	s = xlcfg_get(&cfg, "a");
	CHECK(s && is_string(s->value, "three") && s->pos.line == 3 && s->value->pos.line == 3);
}

static void plus_equals_joins_strings(void)
{
	const struct xlcfg_setting *s;

	CHECK_EQ(parse("extra = 'console=hvc0'\nextra += ' quiet'\nextra += \"\"\n"), 0);
	s = xlcfg_get(&cfg, "extra");
	CHECK(s && is_string(s->value, "console=hvc0 quiet"));
	/* The value starts where its first part does; the key is the latest. */
	CHECK(s && s->value->pos.line == 1 && s->pos.line == 3);
}

static void plus_equals_appends_lists(void)
{
	const struct xlcfg_value *v;

	CHECK_EQ(parse("disk = [ 'a' ]\ndisk += [ 'b', [ 'c' ] ]\ndisk += []\n"), 0);
	v = val("disk");
	CHECK(is_list(v, 3));
	if (!is_list(v, 3))
		return;
	CHECK(is_string(v->items[0], "a") && is_string(v->items[1], "b"));
	CHECK(is_list(v->items[2], 1));
	CHECK_EQ(v->items[1]->pos.line, 2);
	CHECK_EQ(parse("e = []\ne += []\ne += [ 1 ]\n"), 0);
	CHECK(is_list(val("e"), 1));
}

static void plus_equals_on_unset_key_assigns(void)
{
	CHECK_EQ(parse("a += 'x'\nb += 5\nc += [ 1 ]\n"), 0);
	CHECK(is_string(val("a"), "x") && is_number(val("b"), 5) && is_list(val("c"), 1));
}

static void plus_equals_with_a_number_is_an_error(void)
{
	CHECK_EQ(parse("memory = 128\nmemory += 64\nname = 'x'\nname += 1\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:2:11: error:", "'+='") && msg(0, "t.cfg", "memory is a number"));
	CHECK(msg(1, "t.cfg:4:9: error:", "this is a number"));
	CHECK(is_number(val("memory"), 128) && is_string(val("name"), "x"));
	CHECK_EQ(xlcfg_get(&cfg, "memory")->pos.line, 1);
}

static void plus_equals_mixing_string_and_list_is_an_error(void)
{
	CHECK_EQ(parse("a = 'x'\na += [ 'y' ]\nb = []\nb += 'y'\n"), -EINVAL);
	CHECK_EQ(d.errors, 2);
	CHECK(msg(0, "t.cfg:2:6: error:", "a is a string and this is a list"));
	CHECK(msg(1, "t.cfg:4:6: error:", "b is a list and this is a string"));
	CHECK(is_string(val("a"), "x") && is_list(val("b"), 0));
}

static void command_line_overrides_file(void)
{
	const struct xlcfg_setting *s;

	CHECK_EQ(parse("name = 'web'\nmemory = 512\nvif = [ 'bridge=br0' ]\n"), 0);
	CHECK_EQ(parse_as("memory=1024", "<command line>"), 0);
	CHECK_EQ(parse_as("vif=['mac=00:16:3e:00:00:01']", "<command line>"), 0);
	CHECK_EQ(cfg.nsources, 2);
	CHECK(!strcmp(cfg.sources[0], "t.cfg") && !strcmp(cfg.sources[1], "<command line>"));
	CHECK_EQ(cfg.nsettings, 3);
	CHECK(!strcmp(cfg.settings[1].key, "memory") && !strcmp(cfg.settings[2].key, "vif"));
	s = xlcfg_get(&cfg, "memory");
	CHECK(s && is_number(s->value, 1024) && s->source == cfg.sources[1]);
	CHECK(s && s->pos.line == 1 && s->pos.col == 1 && s->value->source == cfg.sources[1]);
	s = xlcfg_get(&cfg, "vif");
	CHECK(s && is_list(s->value, 1) && is_string(s->value->items[0], "mac=00:16:3e:00:00:01"));
	s = xlcfg_get(&cfg, "name");
	CHECK(s && s->source == cfg.sources[0]);
}

static void plus_equals_extends_across_calls(void)
{
	const struct xlcfg_value *v;

	CHECK_EQ(parse("vif = [ 'bridge=br0' ]\n"), 0);
	CHECK_EQ(parse_as("vif += [ 'bridge=br1' ]", "<command line>"), 0);
	v = val("vif");
	CHECK(is_list(v, 2));
	if (!is_list(v, 2))
		return;
	CHECK(v->items[0]->source == cfg.sources[0] && v->items[1]->source == cfg.sources[1]);
	CHECK_EQ(v->items[1]->pos.col, 10);
	CHECK_EQ(xlcfg_get(&cfg, "vif")->source, cfg.sources[1]);
}

static void errors_name_their_own_source(void)
{
	CHECK_EQ(parse("a = 1\n"), 0);
	CHECK_EQ(parse_as("a += 2", "<command line>"), -EINVAL);
	CHECK(one_error("<command line>:1:6: error:", "'+='"));
	/* Only errors from this call count. */
	CHECK_EQ(parse_as("b = 2", "<command line>"), 0);
}

static void sources_are_owned_copies(void)
{
	char name[] = "first.cfg";

	reset();
	CHECK_EQ(parse_as("a = 1\n", name), 0);
	strcpy(name, "xxxxx.cfg");
	CHECK_EQ(parse_as("b = 1\n", "first.cfg"), 0);
	CHECK_EQ(cfg.nsources, 1);
	CHECK(!strcmp(xlcfg_get(&cfg, "a")->source, "first.cfg"));
	CHECK(xlcfg_get(&cfg, "a")->source == xlcfg_get(&cfg, "b")->source);
	CHECK_EQ(parse_as("c = 1\n", NULL), 0);
	CHECK(cfg.nsources == 2 && !strcmp(cfg.sources[1], "<input>"));
}

static void python_call_is_recognised(void)
{
	CHECK_EQ(parse("a = 1\nvnd = out.readline().rstrip()\n"), -EINVAL);
	CHECK(one_error("t.cfg:2:7: error: this is Python (out.readline(...))", "plain ones"));
	CHECK_EQ(cfg.nsettings, 0);
	CHECK_EQ(parse("out.close()\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:1: error:", "(out.close(...))"));
	CHECK_EQ(parse("a = (1, 2)\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:5: error:", "Python (parentheses)"));
}

static void python_plus_between_values_is_recognised(void)
{
	CHECK_EQ(parse("disk = [ 'cgd:' + vnd + ':/x' ]\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:17: error:", "Python ('+' between values)"));
	CHECK_EQ(parse("a = 'x' +\n'y'\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:9: error:", "'+'"));
}

static void python_formatting_and_arithmetic_are_recognised(void)
{
	CHECK_EQ(parse("name = 'vm%d' % 3\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:15: error:", "Python ('%' formatting)"));
	CHECK_EQ(parse("memory = 256 * 4\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:14: error:", "'*' arithmetic"));
}

static void python_statements_are_recognised(void)
{
	static const struct {
		const char *text, *where, *words;
	} py[] = {
		{ "import os\n", "t.cfg:1:1: error:", "'import' statement" },
		{ "a = 1\nfrom os import popen\n", "t.cfg:2:1: error:", "'from' statement" },
		{ "def f(x):\n  return x\n", "t.cfg:1:1: error:", "'def' statement" },
		{ "a = 1; if a:\n  b = 2\n", "t.cfg:1:8: error:", "'if' statement" },
		{ "else:\n", "t.cfg:1:1: error:", "'else' statement" },
		{ "a = 1\n  pass", "t.cfg:2:3: error:", "'pass' statement" },
		{ "for x in y:\n", "t.cfg:1:1: error:", "'for' statement" },
	};

	for (size_t i = 0; i < sizeof(py) / sizeof(py[0]); i++) {
		CHECK_EQ(parse(py[i].text), -EINVAL);
		CHECK(one_error(py[i].where, py[i].words));
		CHECK(msg(0, py[i].where, "this is Python"));
	}
}

static void python_keywords_are_fine_as_keys(void)
{
	CHECK_EQ(parse("print = 1\nfrom += 'x'\nimport = [ 'if', 'def' ]\n"), 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(is_number(val("print"), 1) && is_string(val("from"), "x"));
}

static void python_dictionaries_indexing_and_triple_quotes_are_recognised(void)
{
	CHECK_EQ(parse("a = {'x': 1}\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:5: error:", "dictionary"));
	CHECK_EQ(parse("a = b[0]\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:5: error:", "indexing, b[...]"));
	CHECK_EQ(parse("a = '''x\ny'''\n"), -EINVAL);
	CHECK(one_error("t.cfg:1:5: error:", "triple-quoted"));
}

static void python_hides_the_errors_it_causes(void)
{
	/* Errors before the Python (an unterminated string, a bad number) too. */
	CHECK_EQ(parse("a = 'x\nb = 09\nMem = 1\nc = os.getenv('X') + 1\n"), -EINVAL);
	CHECK(one_error("t.cfg:4:5: error:", "os.getenv(...)"));
	CHECK_EQ(d.warnings, 0);
	CHECK_EQ(cfg.nsettings, 0);
}

static void python_in_strings_and_comments_is_not_python(void)
{
	CHECK_EQ(parse("extra = 'f(x) + \"%s\" * {}'\n# out = os.popen(cmd)\nb = [ 1 ]\n"), 0);
	CHECK_EQ(d.nmsgs, 0);
	CHECK(is_string(val("extra"), "f(x) + \"%s\" * {}"));
}

int main(void)
{
	RUN(plain_xm_file_parses_with_one_warning);
	RUN(python_xm_file_is_one_error_at_the_python);
	RUN(unreadable_file_is_one_error);
	RUN(oversized_file_is_refused);
	RUN(settings_keep_key_position_and_source);
	RUN(keys_may_hold_digits_dots_and_underscores);
	RUN(upper_case_key_is_an_error);
	RUN(statement_must_start_with_a_key);
	RUN(missing_equals_is_an_error);
	RUN(missing_value_is_an_error);
	RUN(junk_after_value_is_an_error);
	RUN(comments_are_ignored);
	RUN(semicolons_separate_statements);
	RUN(end_of_file_ends_a_statement);
	RUN(empty_input_is_no_settings);
	RUN(crlf_line_ends_are_accepted);
	RUN(lone_carriage_return_is_an_error);
	RUN(strings_take_either_quote);
	RUN(simple_escapes_are_decoded);
	RUN(octal_escapes_are_octal);
	RUN(octal_escape_above_0377_is_an_error);
	RUN(hex_escapes_take_two_digits);
	RUN(short_hex_escape_is_an_error);
	RUN(escape_making_a_nul_is_an_error);
	RUN(unknown_escape_is_named);
	RUN(unterminated_string_is_an_error_at_its_quote);
	RUN(string_broken_across_lines_is_one_error);
	RUN(numbers_in_all_bases);
	RUN(bad_numbers_are_errors);
	RUN(lists_hold_any_values);
	RUN(empty_list_and_trailing_comma);
	RUN(lists_span_lines);
	RUN(two_commas_in_a_row_are_an_error);
	RUN(missing_comma_is_an_error);
	RUN(error_inside_a_list_skips_the_list);
	RUN(unclosed_list_ends_at_next_setting);
	RUN(unclosed_list_at_end_of_file);
	RUN(stray_bracket_is_an_error);
	RUN(lists_nest_sixteen_deep);
	RUN(lists_nested_deeper_are_an_error);
	RUN(big_list_is_parsed);
	RUN(many_keys_are_parsed);
	RUN(bare_word_is_a_string_with_a_warning);
	RUN(bare_word_inside_a_value_is_an_error);
	RUN(unexpected_character_is_named);
	RUN(nul_byte_is_an_error);
	RUN(errors_do_not_cascade);
	RUN(failed_assignment_keeps_the_old_value);
	RUN(last_assignment_wins_in_first_order);
	RUN(plus_equals_joins_strings);
	RUN(plus_equals_appends_lists);
	RUN(plus_equals_on_unset_key_assigns);
	RUN(plus_equals_with_a_number_is_an_error);
	RUN(plus_equals_mixing_string_and_list_is_an_error);
	RUN(command_line_overrides_file);
	RUN(plus_equals_extends_across_calls);
	RUN(errors_name_their_own_source);
	RUN(sources_are_owned_copies);
	RUN(python_call_is_recognised);
	RUN(python_plus_between_values_is_recognised);
	RUN(python_formatting_and_arithmetic_are_recognised);
	RUN(python_statements_are_recognised);
	RUN(python_keywords_are_fine_as_keys);
	RUN(python_dictionaries_indexing_and_triple_quotes_are_recognised);
	RUN(python_hides_the_errors_it_causes);
	RUN(python_in_strings_and_comments_is_not_python);
	reset();
	return test_done();
}
