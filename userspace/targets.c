// SPDX-License-Identifier: GPL-2.0-only
/*
 * Device-mapper tables as lists of targets (see dm.h): building, parsing
 * and printing them.  Pure: no I/O, so the host tests use it directly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "table.h"
#include "util.h"

void cs_dm_free_targets(struct cs_dm_targets *t)
{
	while (t->nr--) {
		free(t->t[t->nr].type);
		free(t->t[t->nr].params);
	}
	free(t->t);
	t->t = NULL;
	t->nr = 0;
}

int cs_dm_add_target(struct cs_dm_targets *out, uint64_t start,
		     uint64_t length, const char *type, const char *params)
{
	struct cs_dm_target *t;

	t = realloc(out->t, (out->nr + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	out->t = t;
	t += out->nr;
	t->start = start;
	t->length = length;
	t->type = strdup(type);
	t->params = strdup(params ? params : "");
	out->nr++;
	return t->type && t->params ? 0 : -ENOMEM;
}

/* One line: "<start> <length> <type> [<params>]". */
static int parse_line(const char *line, size_t len, struct cs_dm_targets *out)
{
	char buf[CS_LINE_MAX], type[64];
	uint64_t start, length;
	int n = 0;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (sscanf(buf, "%" SCNu64 " %" SCNu64 " %63s %n", &start, &length,
		   type, &n) < 3 || !n || !length)
		return -EINVAL;
	return cs_dm_add_target(out, start, length, type, buf + n);
}

int cs_dm_parse_table(const char *text, struct cs_dm_targets *out)
{
	const char *p = text;
	size_t len;
	int r = 0;

	out->nr = 0;
	out->t = NULL;
	while (!r && *p) {
		len = strcspn(p, "\n");
		if (len)
			r = parse_line(p, len, out);
		p += len + !!p[len];
	}
	if (!r && !out->nr)
		r = -EINVAL;
	if (r)
		cs_dm_free_targets(out);
	return r;
}

int cs_dm_format_targets(const struct cs_dm_targets *t, char *buf,
			 size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < t->nr && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%" PRIu64 " %" PRIu64 " %s%s%s",
			      i ? "\n" : "", t->t[i].start, t->t[i].length,
			      t->t[i].type, *t->t[i].params ? " " : "",
			      t->t[i].params);
	return n < len ? 0 : -ENAMETOOLONG;
}
