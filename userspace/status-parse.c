// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status line of a cowsnap target, parsed (grammar in
 * status-parse.h).  Pure: no I/O, no allocation.
 */
#include <errno.h>
#include <string.h>

#include "status-parse.h"
#include "util.h"

static const char *const state_names[] = {
	[CS_STATE_PASSTHROUGH] = "passthrough",
	[CS_STATE_VALID] = "valid",
	[CS_STATE_INVALID] = "invalid",
	[CS_STATE_MERGING] = "merging",
	[CS_STATE_ENDED] = "ended",
	[CS_STATE_DEGRADED] = "degraded",
	[CS_STATE_FULL] = "full",
};

static const char *const op_names[] = {
	[CS_OP_ROLLBACK] = "rollback",
	[CS_OP_FOLD] = "fold",
};

const char *cs_state_name(enum cs_state state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : NULL;
}

/* A state or reason word: 1..CS_WORD_MAX printable ASCII characters. */
static int copy_word(const struct cs_token *t, char *buf)
{
	size_t i;

	if (!t->len || t->len > CS_WORD_MAX)
		return -EPROTO;
	for (i = 0; i < t->len; i++)
		if (t->p[i] < '!' || t->p[i] > '~')
			return -EPROTO;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	return 0;
}

static int parse_mode_view(const char **s, struct cs_status *st)
{
	struct cs_token t;

	if (!cs_next_token(s, &t))
		return -EPROTO;
	if (cs_token_is(&t, "cow"))
		st->mode = CS_MODE_COW;
	else if (cs_token_is(&t, "row"))
		st->mode = CS_MODE_ROW;
	else
		return -EPROTO;
	if (!cs_next_token(s, &t))
		return -EPROTO;
	if (cs_token_is(&t, "live"))
		st->view = CS_VIEW_LIVE;
	else if (cs_token_is(&t, "snap"))
		st->view = CS_VIEW_SNAP;
	else
		return -EPROTO;
	return 0;
}

static int parse_state(const char **s, struct cs_status *st)
{
	struct cs_token t;
	size_t i;

	if (!cs_next_token(s, &t) || copy_word(&t, st->state_name))
		return -EPROTO;
	st->state = CS_STATE_OTHER;
	for (i = 0; i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(st->state_name, state_names[i]))
			st->state = i;
	return 0;
}

/* "-" or a word; "-" leaves @buf empty. */
static int parse_word_or_dash(const char **s, char *buf)
{
	struct cs_token t;

	if (!cs_next_token(s, &t))
		return -EPROTO;
	if (cs_token_is(&t, "-")) {
		buf[0] = '\0';
		return 0;
	}
	return copy_word(&t, buf);
}

/* "<merged>/<total>" with merged <= total, or "-". */
static int parse_progress(const struct cs_token *t, struct cs_status *st)
{
	const char *slash = memchr(t->p, '/', t->len);
	struct cs_token a, b;

	if (cs_token_is(t, "-"))
		return 0;
	if (!slash)
		return -EPROTO;
	a.p = t->p;
	a.len = slash - t->p;
	b.p = slash + 1;
	b.len = t->len - a.len - 1;
	if (cs_token_u64(&a, &st->merged) || cs_token_u64(&b, &st->to_merge) ||
	    st->merged > st->to_merge)
		return -EPROTO;
	st->has_progress = true;
	return 0;
}

/* Words 8 and 9, absent from the status of modules before 0.2. */
static int parse_operation(const char **s, struct cs_status *st)
{
	const char *peek = *s;
	struct cs_token t;
	size_t i;

	if (!cs_next_token(&peek, &t))
		return 0;
	st->has_operation = true;
	if (parse_word_or_dash(s, st->op_name) || !cs_next_token(s, &t))
		return -EPROTO;
	st->op = st->op_name[0] ? CS_OP_OTHER : CS_OP_NONE;
	for (i = 1; i < ARRAY_SIZE(op_names); i++)
		if (!strcmp(st->op_name, op_names[i]))
			st->op = i;
	return parse_progress(&t, st);
}

static int parse_counts(const char **s, struct cs_status *st)
{
	uint64_t *counts[] = {
		&st->used_chunks, &st->total_chunks, &st->metadata_blocks,
	};
	struct cs_token t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(counts); i++)
		if (!cs_next_token(s, &t) || cs_token_u64(&t, counts[i]))
			return -EPROTO;
	return st->used_chunks > st->total_chunks ? -EPROTO : 0;
}

int cs_status_parse(const char *line, struct cs_status *st)
{
	const char *s = line;
	struct cs_token t;
	int r;

	memset(st, 0, sizeof(*st));
	r = parse_mode_view(&s, st);
	if (!r)
		r = parse_state(&s, st);
	if (!r)
		r = parse_counts(&s, st);
	if (!r)
		r = parse_word_or_dash(&s, st->reason);
	if (!r)
		r = parse_operation(&s, st);
	if (r) {
		memset(st, 0, sizeof(*st));
		return r;
	}
	while (cs_next_token(&s, &t))
		st->extra_words++;
	return 0;
}
