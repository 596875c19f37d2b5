/* key=value option lists (common/keyval.h) and parse_uint (common/util.h). */
#include "test.h"
#include "common/keyval.h"
#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <string.h>

static struct keyval kv;

static void items_and_flags(void)
{
	const char *p = "path=/srv/a.img,ro,serial=web0";

	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK(strcmp(kv.key, "path") == 0 && kv.has_value && strcmp(kv.value, "/srv/a.img") == 0);
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK(strcmp(kv.key, "ro") == 0 && !kv.has_value);
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK(strcmp(kv.key, "serial") == 0 && strcmp(kv.value, "web0") == 0);
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 0);
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 0);
}

static void double_comma_is_a_comma_in_a_value(void)
{
	const char *p = "path=/a,,b,,,ro";

	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK(strcmp(kv.value, "/a,b,") == 0);
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK(strcmp(kv.key, "ro") == 0);
}

static void an_empty_value_is_a_value(void)
{
	const char *p = "serial=";

	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK(kv.has_value && kv.value[0] == '\0');
}

static void empty_items_are_refused(void)
{
	const char *p = "ro,,x";
	const char *q = "=value";

	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), -EINVAL);
	CHECK_EQ(keyval_next(&q, &kv, "--disk"), -EINVAL);
}

static void overlong_keys_and_values_are_refused(void)
{
	char text[KEYVAL_VALUE_MAX + 16];
	const char *p = text;

	memset(text, 'k', KEYVAL_KEY_MAX);
	strcpy(text + KEYVAL_KEY_MAX, "=v");
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), -ENAMETOOLONG);
	strcpy(text, "path=");
	memset(text + 5, 'v', KEYVAL_VALUE_MAX);
	text[5 + KEYVAL_VALUE_MAX] = '\0';
	p = text;
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), -ENAMETOOLONG);
	/* One shorter fits exactly. */
	text[5 + KEYVAL_VALUE_MAX - 1] = '\0';
	p = text;
	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK_EQ(strlen(kv.value), KEYVAL_VALUE_MAX - 1);
}

static void numbers(void)
{
	unsigned v = 7;
	const char *p = "queues=16,queues=17,queues=-1,queues=4x,queues,queues=";

	CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
	CHECK_EQ(keyval_uint(&kv, "--disk", 16, &v), 0);
	CHECK_EQ(v, 16);
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(keyval_next(&p, &kv, "--disk"), 1);
		CHECK_EQ(keyval_uint(&kv, "--disk", 16, &v), -EINVAL);
	}
	CHECK_EQ(v, 16);
	CHECK_EQ(parse_uint("0", 5, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(parse_uint("", 5, &v), -EINVAL);
	CHECK_EQ(parse_uint("99999999999999999999", ~0u, &v), -EINVAL);
	CHECK_EQ(parse_uint("6", 5, &v), -EINVAL);
}

int main(void)
{
	log_init("test_keyval", LOG_LEVEL_SILENT);
	RUN(items_and_flags);
	RUN(double_comma_is_a_comma_in_a_value);
	RUN(an_empty_value_is_a_value);
	RUN(empty_items_are_refused);
	RUN(overlong_keys_and_values_are_refused);
	RUN(numbers);
	return test_done();
}
