// SPDX-License-Identifier: GPL-2.0-only
/*
 * A minimal JSON writer (see json.h).
 */
#include <inttypes.h>

#include "json.h"

void cs_json_init(struct cs_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->need_comma = false;
}

static void write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Start a member or element: separator, new line, indent, key. */
static void member(struct cs_json *j, const char *key)
{
	if (j->need_comma)
		fputc(',', j->f);
	if (j->depth)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	if (key) {
		write_string(j->f, key);
		fputs(": ", j->f);
	}
	j->need_comma = true;
}

static void open_container(struct cs_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	j->depth++;
	j->need_comma = false;
}

static void close_container(struct cs_json *j, char c)
{
	j->depth--;
	if (j->need_comma)	/* not empty: the bracket on its own line */
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	fputc(c, j->f);
	j->need_comma = true;
	if (!j->depth)
		fputc('\n', j->f);
}

void cs_json_open_object(struct cs_json *j, const char *key)
{
	open_container(j, key, '{');
}

void cs_json_close_object(struct cs_json *j)
{
	close_container(j, '}');
}

void cs_json_open_array(struct cs_json *j, const char *key)
{
	open_container(j, key, '[');
}

void cs_json_close_array(struct cs_json *j)
{
	close_container(j, ']');
}

void cs_json_string(struct cs_json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		write_string(j->f, val);
	else
		fputs("null", j->f);
}

void cs_json_u64(struct cs_json *j, const char *key, uint64_t val)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, val);
}

void cs_json_bool(struct cs_json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->f);
}

void cs_json_null(struct cs_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void cs_json_number(struct cs_json *j, const char *key, const char *literal)
{
	member(j, key);
	fputs(literal, j->f);
}
