/*
 * A minimal test harness for corral's native unit tests.
 *
 * Each test is a void function run through RUN(); CHECK() records a failure
 * with its location and goes on. Output is TAP ("ok N - name"), which meson
 * reads with protocol: 'tap', and the program's status is non-zero if any
 * check failed.
 */
#ifndef CORRAL_TESTS_TEST_H
#define CORRAL_TESTS_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_current_failed;
static int test_count;
static int test_failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			test_current_failed = 1;                                 \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		unsigned long long check_a_ = (unsigned long long)(a);           \
		unsigned long long check_b_ = (unsigned long long)(b);           \
		if (check_a_ != check_b_) {                                      \
			printf("# %s:%d: %s == %s failed: 0x%llx != 0x%llx\n", __FILE__, \
			       __LINE__, #a, #b, check_a_, check_b_);            \
			test_current_failed = 1;                                 \
		}                                                                \
	} while (0)

#define RUN(fn) test_run(#fn, fn)

static inline void test_run(const char *name, void (*fn)(void))
{
	test_current_failed = 0;
	fn();
	test_count++;
	if (test_current_failed)
		test_failures++;
	printf("%s %d - %s\n", test_current_failed ? "not ok" : "ok", test_count, name);
	fflush(stdout);
}

/* Runs a shell command built from a format (ip(8) and such, to set up or
 * look at what the code under test made); true if it exited 0. */
__attribute__((format(printf, 1, 2)))
static inline bool test_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0;
}

static inline int test_done(void)
{
	printf("1..%d\n", test_count);
	return test_failures ? 1 : 0;
}

#endif
