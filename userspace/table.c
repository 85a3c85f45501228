// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dm-cowsnap table line in userspace: option values, checks, the
 * line itself and the parser of the table the kernel reports.
 *
 * Pure: no I/O, no allocation.  The grammar is the one the target's
 * constructor parses (dm-cowsnap/cowsnap-args.c); the features are
 * printed in the order the target prints them back, so a line printed
 * here is what "dmsetup table" shows once the device exists, apart from
 * the device names.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "util.h"

const char *cs_mode_name(enum cs_mode mode)
{
	return mode == CS_MODE_ROW ? "row" : "cow";
}

const char *cs_view_name(enum cs_view view)
{
	return view == CS_VIEW_SNAP ? "snap" : "live";
}

const char *cs_full_policy_name(enum cs_full_policy full)
{
	switch (full) {
	case CS_FULL_ERROR:
		return "error";
	case CS_FULL_QUEUE:
		return "queue";
	default:
		return "default";
	}
}

int cs_parse_mode(const char *s, enum cs_mode *mode, char *err)
{
	if (!strcmp(s, "cow"))
		*mode = CS_MODE_COW;
	else if (!strcmp(s, "row"))
		*mode = CS_MODE_ROW;
	else
		return cs_error(err, -EINVAL,
				"invalid mode '%s': expected cow or row", s);
	return 0;
}

int cs_parse_view(const char *s, unsigned int *views, char *err)
{
	if (!strcmp(s, "live"))
		*views = CS_VIEWS_LIVE;
	else if (!strcmp(s, "snap"))
		*views = CS_VIEWS_SNAP;
	else if (!strcmp(s, "both"))
		*views = CS_VIEWS_BOTH;
	else
		return cs_error(err, -EINVAL,
				"invalid view '%s': expected live, snap or both",
				s);
	return 0;
}

bool cs_chunk_valid(uint64_t chunk_sectors)
{
	return chunk_sectors >= CS_MIN_CHUNK_SECTORS &&
	       chunk_sectors <= CS_MAX_CHUNK_SECTORS &&
	       !(chunk_sectors & (chunk_sectors - 1));
}

int cs_parse_chunk(const char *s, uint32_t *chunk_sectors, char *err)
{
	uint64_t v;

	if (cs_parse_u64(s, &v) || !cs_chunk_valid(v))
		return cs_error(err, -EINVAL,
				"invalid chunk size '%s': expected a power of two from %u to %u sectors",
				s, CS_MIN_CHUNK_SECTORS, CS_MAX_CHUNK_SECTORS);
	*chunk_sectors = v;
	return 0;
}

int cs_parse_low_water(const char *s, uint64_t *chunks, char *err)
{
	uint64_t v;

	if (cs_parse_u64(s, &v) || !v)
		return cs_error(err, -EINVAL,
				"invalid low water mark '%s': expected a number of chunks of at least 1",
				s);
	*chunks = v;
	return 0;
}

int cs_parse_queue_seconds(const char *s, uint32_t *seconds, char *err)
{
	uint64_t v;

	if (cs_parse_u64(s, &v) || !v || v > CS_MAX_QUEUE_SECONDS)
		return cs_error(err, -EINVAL,
				"invalid queue time '%s': expected 1 to %u seconds",
				s, CS_MAX_QUEUE_SECONDS);
	*seconds = v;
	return 0;
}

void cs_table_opts_init(struct cs_table_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = CS_MODE_COW;
	o->chunk_sectors = CS_MIN_CHUNK_SECTORS;
	o->views = CS_VIEWS_LIVE;
}

static bool has_blank(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

static int check_path(const char *path, const char *role, char *err)
{
	if (!path)
		return cs_error(err, -EINVAL, "--%s is required", role);
	if (!*path)
		return cs_error(err, -EINVAL, "the %s path is empty", role);
	if (has_blank(path))
		return cs_error(err, -EINVAL,
				"the %s path contains white space, which a table line cannot hold",
				role);
	if (strlen(path) >= 4096)
		return cs_error(err, -EINVAL, "the %s path is too long", role);
	return 0;
}

int cs_table_check_opts(const struct cs_table_opts *o, char *err)
{
	int r;

	r = check_path(o->origin, "origin", err);
	if (!r)
		r = check_path(o->store, "store", err);
	if (r)
		return r;
	return cs_features_check(o->mode, &o->f, err);
}

int cs_features_check(enum cs_mode mode, const struct cs_features *f,
		      char *err)
{
	if (f->transient && f->reformat)
		return cs_error(err, -EINVAL,
				"--transient and --reformat exclude each other");
	if (mode == CS_MODE_ROW)
		return 0;
	if (f->origin_ro)
		return cs_error(err, -EINVAL, "--origin-ro needs mode row");
	if (f->full != CS_FULL_DEFAULT)
		return cs_error(err, -EINVAL, "--%s needs mode row",
				f->full == CS_FULL_QUEUE ? "queue-if-full" :
							   "error-if-full");
	return 0;
}

bool cs_same_device(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
		return a->st_rdev == b->st_rdev;
	if (S_ISBLK(a->st_mode) || S_ISBLK(b->st_mode))
		return false;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Words after "<#feature_args>", in the target's canonical order. */
static unsigned int feature_words(const struct cs_features *f)
{
	return !!f->transient + !!f->reformat + !!f->origin_ro +
	       (f->full == CS_FULL_ERROR) + 2 * (f->full == CS_FULL_QUEUE) +
	       2 * !!f->low_water;
}

/* Append to @buf (which holds @n bytes of @len); returns the new length. */
__attribute__((format(printf, 4, 5)))
static size_t append(char *buf, size_t len, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (n >= len)
		return n;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return n;
}

int cs_table_line(char *buf, size_t len, uint64_t sectors, const char *origin,
		  const char *store, enum cs_mode mode, uint32_t chunk_sectors,
		  enum cs_view view, const struct cs_features *f)
{
	unsigned int words = feature_words(f);
	size_t n;

	n = append(buf, len, 0, "0 %" PRIu64 " %s %s %s %s %" PRIu32 " %s",
		   sectors, CS_TARGET_NAME, origin, store, cs_mode_name(mode),
		   chunk_sectors, cs_view_name(view));
	if (words)
		n = append(buf, len, n, " %u", words);
	if (f->transient)
		n = append(buf, len, n, " transient");
	if (f->reformat)
		n = append(buf, len, n, " reformat");
	if (f->origin_ro)
		n = append(buf, len, n, " origin_ro");
	if (f->full == CS_FULL_ERROR)
		n = append(buf, len, n, " error_if_full");
	if (f->full == CS_FULL_QUEUE)
		n = append(buf, len, n, " queue_if_full %" PRIu32,
			   f->queue_seconds);
	if (f->low_water)
		n = append(buf, len, n, " low_water %" PRIu64, f->low_water);
	return n < len ? (int)n : -ENAMETOOLONG;
}

int cs_check_sizes(const char *origin, uint64_t origin_sectors,
		   const char *store, uint64_t store_sectors,
		   uint32_t chunk_sectors, char *err)
{
	uint64_t chunks = store_sectors / chunk_sectors;

	if (!origin_sectors)
		return cs_error(err, -ENOSPC,
				"origin %s is empty: a table needs at least one sector",
				origin);
	if (chunks < CS_MIN_STORE_CHUNKS)
		return cs_error(err, -ENOSPC,
				"store %s is too small: %" PRIu64 " sectors hold %" PRIu64 " chunks of %" PRIu32 " sectors, at least %u are needed",
				store, store_sectors, chunks, chunk_sectors,
				CS_MIN_STORE_CHUNKS);
	return 0;
}

int cs_table_plan_build(const struct cs_table_opts *o,
			uint64_t origin_sectors, uint64_t store_sectors,
			struct cs_table_plan *plan, char *err)
{
	enum cs_view v;
	int r;

	r = cs_check_sizes(o->origin, origin_sectors, o->store, store_sectors,
			   o->chunk_sectors, err);
	if (r)
		return r;
	memset(plan, 0, sizeof(*plan));
	plan->origin = o->origin;
	plan->store = o->store;
	plan->origin_sectors = origin_sectors;
	plan->store_sectors = store_sectors;
	plan->store_chunks = store_sectors / o->chunk_sectors;
	plan->mode = o->mode;
	plan->chunk_sectors = o->chunk_sectors;
	plan->f = o->f;
	for (v = CS_VIEW_LIVE; v <= CS_VIEW_SNAP; v++) {
		struct cs_table_line *l = &plan->lines[plan->nr_lines];

		if (!(o->views & (1U << v)))
			continue;
		l->view = v;
		if (cs_table_line(l->line, sizeof(l->line), origin_sectors,
				  o->origin, o->store, o->mode,
				  o->chunk_sectors, v, &o->f) < 0)
			return cs_error(err, -ENAMETOOLONG,
					"the table line would be longer than %d bytes",
					CS_LINE_MAX - 1);
		plan->nr_lines++;
	}
	return 0;
}

bool cs_store_classify(int decode_result, const char *why,
		       struct cs_store_probe *sp)
{
	switch (decode_result) {
	case 0:
		sp->kind = CS_STORE_COWSNAP;
		return true;
	case -ENODATA:		/* all zero */
	case -EINVAL:		/* not cowsnap's magic or block type */
		sp->kind = CS_STORE_BLANK;
		return false;
	default:		/* cowsnap's, but damaged or too new */
		sp->kind = CS_STORE_BAD_COWSNAP;
		snprintf(sp->why, sizeof(sp->why), "%s", why);
		return true;
	}
}

static uint32_t disk_mode(enum cs_mode mode)
{
	return mode == CS_MODE_ROW ? COWSNAP_DISK_MODE_ROW :
				     COWSNAP_DISK_MODE_COW;
}

static int check_cowsnap_store(const struct cs_table_opts *o,
			       uint64_t origin_sectors,
			       const struct cs_store_probe *sp, char *err)
{
	char why[COWSNAP_ERRLEN];

	if (o->f.reformat || o->f.transient) {
		if (o->force)
			return 0;
		return cs_error(err, -EEXIST,
				"store %s holds a cowsnap snapshot that --%s would overwrite; use --force to overwrite it",
				o->store,
				o->f.reformat ? "reformat" : "transient");
	}
	if (cowsnap_sb_check_geometry(&sp->sb, disk_mode(o->mode),
				      o->chunk_sectors, origin_sectors, why))
		return cs_error(err, -ERANGE,
				"store %s holds a cowsnap snapshot made for another table: %s",
				o->store, why);
	return 0;
}

int cs_table_check_store(const struct cs_table_opts *o,
			 uint64_t origin_sectors,
			 const struct cs_store_probe *sp, char *err)
{
	switch (sp->kind) {
	case CS_STORE_BLANK:
		return 0;
	case CS_STORE_COWSNAP:
		return check_cowsnap_store(o, origin_sectors, sp, err);
	default:
		break;
	}
	if (o->force)
		return 0;
	if (sp->kind == CS_STORE_FOREIGN)
		return cs_error(err, -EEXIST,
				"store %s holds a %s %s; use --force to overwrite it",
				o->store, sp->type,
				sp->partition_table ? "partition table" :
						      "signature");
	if (sp->kind == CS_STORE_AMBIGUOUS)
		return cs_error(err, -EEXIST,
				"store %s holds several signatures; use --force to overwrite them",
				o->store);
	return cs_error(err, -EEXIST,
			"store %s holds a cowsnap superblock that does not validate (%s); use --force to overwrite it",
			o->store, sp->why);
}

/* Kernel table parsing: any departure from the grammar is -EPROTO. */

/* The number after low_water or queue_if_full: 1 or more. */
static int feature_number(const char **s, unsigned int *left, uint64_t *v)
{
	struct cs_token t;

	if (!*left || !cs_next_token(s, &t) || cs_token_u64(&t, v) || !*v)
		return -EPROTO;
	(*left)--;
	return 0;
}

static int parse_feature(const char **s, unsigned int *left,
			 struct cs_features *f)
{
	struct cs_token t;
	uint64_t v;

	if (!cs_next_token(s, &t))
		return -EPROTO;
	(*left)--;
	if (cs_token_is_ci(&t, "transient") && !f->transient) {
		f->transient = true;
	} else if (cs_token_is_ci(&t, "reformat") && !f->reformat) {
		f->reformat = true;
	} else if (cs_token_is_ci(&t, "origin_ro") && !f->origin_ro) {
		f->origin_ro = true;
	} else if (cs_token_is_ci(&t, "error_if_full") && !f->full) {
		f->full = CS_FULL_ERROR;
	} else if (cs_token_is_ci(&t, "queue_if_full") && !f->full) {
		if (feature_number(s, left, &v) || v > CS_MAX_QUEUE_SECONDS)
			return -EPROTO;
		f->full = CS_FULL_QUEUE;
		f->queue_seconds = v;
	} else if (cs_token_is_ci(&t, "low_water") && !f->low_water) {
		return feature_number(s, left, &f->low_water);
	} else {
		return -EPROTO;
	}
	return 0;
}

static int parse_features(const char **s, struct cs_table_params *p)
{
	struct cs_token t;
	uint64_t n;
	unsigned int left;

	if (!cs_next_token(s, &t))
		return 0;			/* no feature group */
	if (cs_token_u64(&t, &n) || n > 8)
		return -EPROTO;
	left = n;
	while (left)
		if (parse_feature(s, &left, &p->f))
			return -EPROTO;
	if (cs_features_check(p->mode, &p->f, NULL))
		return -EPROTO;
	return cs_next_token(s, &t) ? -EPROTO : 0;
}

/* A device word of the table, kept with its NUL. */
static int copy_device(const struct cs_token *t, char *buf, size_t len)
{
	if (t->len >= len)
		return -EPROTO;
	memcpy(buf, t->p, t->len);
	buf[t->len] = '\0';
	return 0;
}

int cs_table_parse(const char *params, struct cs_table_params *p)
{
	const char *s = params;
	struct cs_token t;
	uint64_t chunk;

	memset(p, 0, sizeof(*p));
	if (!cs_next_token(&s, &t) ||
	    copy_device(&t, p->origin, sizeof(p->origin)))
		return -EPROTO;
	if (!cs_next_token(&s, &t) ||
	    copy_device(&t, p->store, sizeof(p->store)))
		return -EPROTO;
	if (!cs_next_token(&s, &t))
		return -EPROTO;
	if (cs_token_is(&t, "cow"))
		p->mode = CS_MODE_COW;
	else if (cs_token_is(&t, "row"))
		p->mode = CS_MODE_ROW;
	else
		return -EPROTO;
	if (!cs_next_token(&s, &t) || cs_token_u64(&t, &chunk) ||
	    !cs_chunk_valid(chunk))
		return -EPROTO;
	p->chunk_sectors = chunk;
	if (!cs_next_token(&s, &t))
		return -EPROTO;
	if (cs_token_is(&t, "live"))
		p->view = CS_VIEW_LIVE;
	else if (cs_token_is(&t, "snap"))
		p->view = CS_VIEW_SNAP;
	else
		return -EPROTO;
	return parse_features(&s, p);
}
