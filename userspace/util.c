// SPDX-License-Identifier: GPL-2.0-only
/*
 * Small pure helpers of the cowsnap tool.  No I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int cs_error(char *err, int e, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return e;
	va_start(ap, fmt);
	vsnprintf(err, CS_ERRLEN, fmt, ap);
	va_end(ap);
	return e;
}

int cs_parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d = (unsigned char)*s - '0';

		if (d > 9)
			return -EINVAL;
		if (n > (UINT64_MAX - d) / 10)
			return -EINVAL;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

bool cs_mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	uint64_t p;

	if (__builtin_mul_overflow(a, b, &p))
		return false;
	*r = p;
	return true;
}

void cs_human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	unsigned int u = 0;
	uint64_t tenths;

	while (u < ARRAY_SIZE(units) - 1 && bytes >> (10 * (u + 1)))
		u++;
	/* exact, rounded down: bytes * 10 / 1024^u needs 68 bits */
	tenths = (uint64_t)((unsigned __int128)bytes * 10 >> (10 * u));
	if (tenths % 10)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%s", tenths / 10,
			 tenths % 10, units[u]);
	else
		snprintf(buf, len, "%" PRIu64 "%s", tenths / 10, units[u]);
}

bool cs_permille(uint64_t part, uint64_t whole, uint64_t *permille)
{
	if (!whole)
		return false;
	*permille = (uint64_t)((unsigned __int128)part * 1000 / whole);
	return true;
}

void cs_percent(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	uint64_t pm;

	if (!cs_permille(part, whole, &pm))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%%", pm / 10,
			 pm % 10);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

bool cs_next_token(const char **s, struct cs_token *t)
{
	const char *p = *s;

	while (*p && is_blank(*p))
		p++;
	t->p = p;
	while (*p && !is_blank(*p))
		p++;
	t->len = p - t->p;
	*s = p;
	return t->len > 0;
}

bool cs_token_is(const struct cs_token *t, const char *word)
{
	return strlen(word) == t->len && !memcmp(t->p, word, t->len);
}

bool cs_token_is_ci(const struct cs_token *t, const char *word)
{
	return strlen(word) == t->len && !strncasecmp(t->p, word, t->len);
}

int cs_token_u64(const struct cs_token *t, uint64_t *v)
{
	char buf[24];

	if (t->len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	return cs_parse_u64(buf, v);
}
