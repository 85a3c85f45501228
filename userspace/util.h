/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small pure helpers of the cowsnap tool: error messages, strict number
 * parsing, human-readable sizes.  No I/O.
 */
#ifndef CS_UTIL_H
#define CS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Size of every error-message buffer ("char *err") in the tool: room for
 * two paths and the words around them.
 */
#define CS_ERRLEN	(2 * 4096 + 512)

/*
 * cs_error() - write a one-line message (without "cowsnap: ") into @err
 * (CS_ERRLEN bytes) and return @e, a negative errno, for
 * "return cs_error(err, -EINVAL, ...);".
 */
int cs_error(char *err, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * cs_parse_u64() - parse a plain decimal number: digits only, no sign,
 * no blanks, no suffix, no overflow.  Returns 0 or -EINVAL.
 */
int cs_parse_u64(const char *s, uint64_t *v);

/*
 * cs_human_size() - @bytes as "512B", "4KiB", "3.9MiB", ...: IEC units,
 * at most one decimal, the decimal dropped when it is zero, rounded
 * down so that a value never looks larger than it is.
 */
void cs_human_size(uint64_t bytes, char *buf, size_t len);

/*
 * cs_percent() - @part / @whole as "12.3%", rounded down (so "100.0%"
 * means exactly full), or "-" when @whole is zero.
 */
void cs_percent(uint64_t part, uint64_t whole, char *buf, size_t len);

/*
 * cs_permille() - @part / @whole in tenths of a percent, rounded down;
 * false when @whole is zero.
 */
bool cs_permille(uint64_t part, uint64_t whole, uint64_t *permille);

/*
 * cs_mul_u64() - @a * @b; false (and *@r untouched) on overflow.
 */
bool cs_mul_u64(uint64_t a, uint64_t b, uint64_t *r);

/* A word of a table or status line: not NUL-terminated. */
struct cs_token {
	const char *p;
	size_t len;
};

/*
 * cs_next_token() - the next word of *@s, words being separated by
 * blanks (space, tab, newline); advances *@s.  False at the end.
 */
bool cs_next_token(const char **s, struct cs_token *t);

/* Whether @t is exactly @word (cs_token_is_ci: ignoring case). */
bool cs_token_is(const struct cs_token *t, const char *word);
bool cs_token_is_ci(const struct cs_token *t, const char *word);

/* cs_token_u64() - cs_parse_u64() on a word.  Returns 0 or -EINVAL. */
int cs_token_u64(const struct cs_token *t, uint64_t *v);

#endif /* CS_UTIL_H */
