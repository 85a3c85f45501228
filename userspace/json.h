/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal JSON writer: objects and arrays indented by two spaces, one
 * member per line, strings escaped.  It writes to a stdio stream and
 * leaves error checking to the stream's owner (ferror()).
 */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cs_json {
	FILE *f;
	unsigned int depth;
	bool need_comma;	/* the current container has a member */
};

/*
 * Every function takes the member's @key; pass NULL for an element of
 * an array (and for the outermost object).
 */
void cs_json_init(struct cs_json *j, FILE *f);
void cs_json_open_object(struct cs_json *j, const char *key);
void cs_json_close_object(struct cs_json *j);
void cs_json_open_array(struct cs_json *j, const char *key);
void cs_json_close_array(struct cs_json *j);
/* cs_json_string() writes null for a NULL @val. */
void cs_json_string(struct cs_json *j, const char *key, const char *val);
void cs_json_u64(struct cs_json *j, const char *key, uint64_t val);
void cs_json_bool(struct cs_json *j, const char *key, bool val);
void cs_json_null(struct cs_json *j, const char *key);
/* cs_json_number() writes @literal, which must be a JSON number. */
void cs_json_number(struct cs_json *j, const char *key, const char *literal);

#endif /* CS_JSON_H */
