/* tap.h - a minimal TAP producer for the C unit tests of common/ */
#ifndef LKIT_TAP_H
#define LKIT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static void __attribute__((format(printf, 4, 5)))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_fail++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
}

#define is_int(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	ok(g_ == w_, __VA_ARGS__); \
	if (g_ != w_) \
		printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

#define is_mem(got, glen, want, wlen, ...) do { \
	size_t gl_ = (glen), wl_ = (wlen); \
	int same_ = gl_ == wl_ && memcmp((got), (want), gl_) == 0; \
	ok(same_, __VA_ARGS__); \
	if (!same_) \
		printf("#   got  [%.*s]\n#   want [%.*s]\n", (int)gl_, \
		    (const char *)(got), (int)wl_, (const char *)(want)); \
} while (0)

#define is_str(got, want, ...) is_mem((got), strlen(got), (want), \
	strlen(want), __VA_ARGS__)

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}

#endif
