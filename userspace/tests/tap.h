/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A few TAP helpers for the host unit tests: "ok N - desc" or
 * "not ok N - desc" with the values on "#" lines, and the plan "1..N"
 * printed by tap_done(), whose result is the exit code.
 */
#ifndef CS_TAP_H
#define CS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned int tap_nr, tap_failed;

__attribute__((format(printf, 2, 3)))
static bool ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_nr++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

#define is_str(got, exp, ...)						\
	do {								\
		const char *g_ = (got), *e_ = (exp);			\
		if (!ok(g_ && !strcmp(g_, e_), __VA_ARGS__))		\
			printf("#   got:      '%s'\n#   expected: '%s'\n", \
			       g_ ? g_ : "(null)", e_);			\
	} while (0)

#define is_int(got, exp, ...)						\
	do {								\
		long long g_ = (got), e_ = (exp);			\
		if (!ok(g_ == e_, __VA_ARGS__))				\
			printf("#   got:      %lld\n#   expected: %lld\n", \
			       g_, e_);					\
	} while (0)

static int tap_done(void)
{
	printf("1..%u\n", tap_nr);
	if (tap_failed)
		printf("# %u of %u tests failed\n", tap_failed, tap_nr);
	return tap_failed ? 1 : 0;
}

#endif /* CS_TAP_H */
