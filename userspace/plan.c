// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plans of device-mapper changes (see plan.h).  Pure: no I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "util.h"

static const char *const step_names[] = {
	[CS_STEP_CREATE] = "create",
	[CS_STEP_LOAD] = "load",
	[CS_STEP_SUSPEND] = "suspend",
	[CS_STEP_RESUME] = "resume",
	[CS_STEP_CLEAR] = "clear",
	[CS_STEP_REMOVE] = "remove",
};

static int check_name(const char *name, char *err)
{
	if (!name || !*name)
		return cs_error(err, -EINVAL, "a device name is empty");
	if (strlen(name) >= CS_NAME_MAX)
		return cs_error(err, -EINVAL,
				"device name '%s' is longer than %d characters",
				name, CS_NAME_MAX - 1);
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return cs_error(err, -EINVAL,
				"device name '%s' is not a file name", name);
	return 0;
}

static int suffixed(const char *name, const char *suffix, char *buf,
		    char *err)
{
	int r = check_name(name, err);

	if (r)
		return r;
	if (strlen(name) + strlen(suffix) >= CS_NAME_MAX)
		return cs_error(err, -EINVAL,
				"device name '%s%s' is longer than %d characters",
				name, suffix, CS_NAME_MAX - 1);
	strcpy(buf, name);
	strcat(buf, suffix);
	return 0;
}

int cs_real_name(const char *name, char *buf, char *err)
{
	return suffixed(name, "-real", buf, err);
}

static struct cs_step *add_step(struct cs_plan *p, enum cs_step_kind kind,
				const char *name)
{
	struct cs_step *s = &p->step[p->nr];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->table = -1;
	snprintf(s->name, sizeof(s->name), "%s", name);
	p->old_table[p->nr] = -1;
	p->nr++;
	return s;
}

/* A step on a device this plan creates. */
static struct cs_step *add_new(struct cs_plan *p, enum cs_step_kind kind,
			       const char *name)
{
	struct cs_step *s = add_step(p, kind, name);

	s->created = true;
	return s;
}

static void add_load(struct cs_plan *p, const char *name, int table, bool ro,
		     bool created)
{
	struct cs_step *s = add_step(p, CS_STEP_LOAD, name);

	s->table = table;
	s->read_only = ro;
	s->created = created;
}

/* Copy @text into a new table slot; returns its index. */
static int add_table(struct cs_plan *p, const char *text)
{
	snprintf(p->tables[p->nr_tables], CS_LINE_MAX, "%s", text);
	return p->nr_tables++;
}

static int add_view_table(struct cs_plan *p, const struct cs_create_req *q,
			  const char *origin, enum cs_view view, char *err)
{
	char *buf = p->tables[p->nr_tables];

	if (cs_table_line(buf, CS_LINE_MAX, q->origin_sectors, origin,
			  q->store, q->mode, q->chunk_sectors, view,
			  &q->f) < 0)
		return cs_error(err, -ENAMETOOLONG,
				"the table line would be longer than %d bytes",
				CS_LINE_MAX - 1);
	return p->nr_tables++;
}

static int name_views(const struct cs_create_req *q, struct cs_plan *p,
		      char *err)
{
	const char *base = q->name ? q->name : q->origin_dm;
	int r;

	if (!base)
		return cs_error(err, -EINVAL,
				"origin %s is not a device-mapper device: --name is needed for the new live view",
				q->origin);
	r = check_name(base, err);
	if (r)
		return r;
	snprintf(p->live, CS_NAME_MAX, "%s", q->origin_dm ? q->origin_dm : base);
	if (q->origin_dm) {
		r = cs_real_name(base, p->real, err);
		if (r)
			return r;
	}
	if (q->live_only)
		return 0;
	if (q->snap_name) {
		r = check_name(q->snap_name, err);
		snprintf(p->snap, CS_NAME_MAX, "%s", q->snap_name);
		return r;
	}
	return suffixed(base, "-snap", p->snap, err);
}

/* The origin is a device-mapper device: take over its name. */
static int plan_takeover(const struct cs_create_req *q, struct cs_plan *p,
			 char *err)
{
	char origin[CS_NAME_MAX + 16];
	int old, live, snap = -1;

	snprintf(origin, sizeof(origin), "/dev/mapper/%s", p->real);
	old = add_table(p, q->origin_table);
	live = add_view_table(p, q, origin, CS_VIEW_LIVE, err);
	if (live < 0)
		return live;
	if (*p->snap) {
		snap = add_view_table(p, q, origin, CS_VIEW_SNAP, err);
		if (snap < 0)
			return snap;
	}
	p->takeover = true;
	add_new(p, CS_STEP_CREATE, p->real)->hidden = true;
	add_load(p, p->real, old, false, true);
	add_new(p, CS_STEP_RESUME, p->real)->hidden = true;
	if (snap >= 0)
		add_new(p, CS_STEP_CREATE, p->snap);
	add_step(p, CS_STEP_SUSPEND, p->live);
	add_load(p, p->live, live, false, false);
	if (snap >= 0)
		add_load(p, p->snap, snap, q->mode == CS_MODE_ROW, true);
	add_step(p, CS_STEP_RESUME, p->live);
	p->old_table[p->nr - 1] = old;
	if (snap >= 0)
		add_new(p, CS_STEP_RESUME, p->snap);
	return 0;
}

/* Any other origin: a new live view next to it. */
static int plan_new_live(const struct cs_create_req *q, struct cs_plan *p,
			 char *err)
{
	int live, snap = -1;

	live = add_view_table(p, q, q->origin, CS_VIEW_LIVE, err);
	if (live < 0)
		return live;
	if (*p->snap) {
		snap = add_view_table(p, q, q->origin, CS_VIEW_SNAP, err);
		if (snap < 0)
			return snap;
	}
	add_new(p, CS_STEP_CREATE, p->live);
	add_load(p, p->live, live, false, true);
	if (snap >= 0) {
		add_new(p, CS_STEP_CREATE, p->snap);
		add_load(p, p->snap, snap, q->mode == CS_MODE_ROW, true);
	}
	add_new(p, CS_STEP_RESUME, p->live);
	if (snap >= 0)
		add_new(p, CS_STEP_RESUME, p->snap);
	return 0;
}

int cs_create_plan(const struct cs_create_req *q, struct cs_plan *p,
		   char *err)
{
	int r;

	memset(p, 0, sizeof(*p));
	r = name_views(q, p, err);
	if (r)
		return r;
	return q->origin_dm ? plan_takeover(q, p, err) :
			      plan_new_live(q, p, err);
}

int cs_remove_plan(const char *live, uint64_t sectors, const char *origin,
		   const char *snap, const char *real_table,
		   struct cs_plan *p, char *err)
{
	char line[CS_LINE_MAX];
	int table;

	memset(p, 0, sizeof(*p));
	snprintf(p->live, CS_NAME_MAX, "%s", live);
	if (real_table) {
		int r = cs_real_name(live, p->real, err);

		if (r)
			return r;
		table = add_table(p, real_table);
	} else {
		if ((size_t)snprintf(line, sizeof(line), "0 %" PRIu64 " linear %s 0",
				     sectors, origin) >= sizeof(line))
			return cs_error(err, -ENAMETOOLONG,
					"the origin path is too long");
		table = add_table(p, line);
	}
	add_step(p, CS_STEP_SUSPEND, live);
	add_load(p, live, table, false, false);
	add_step(p, CS_STEP_RESUME, live);
	if (snap && *snap) {
		snprintf(p->snap, CS_NAME_MAX, "%s", snap);
		add_step(p, CS_STEP_REMOVE, snap);
	}
	if (real_table)
		add_step(p, CS_STEP_REMOVE, p->real);
	return 0;
}

/* Whether a step after @i and before @done resumed the same device. */
static bool resumed_later(const struct cs_plan *p, unsigned int i,
			  unsigned int done)
{
	unsigned int j;

	for (j = i + 1; j < done; j++)
		if (p->step[j].kind == CS_STEP_RESUME &&
		    !strcmp(p->step[j].name, p->step[i].name))
			return true;
	return false;
}

static void undo_step(const struct cs_plan *p, unsigned int i,
		      unsigned int done, struct cs_plan *u)
{
	const struct cs_step *s = &p->step[i];

	switch (s->kind) {
	case CS_STEP_CREATE:
		add_step(u, CS_STEP_REMOVE, s->name);
		break;
	case CS_STEP_LOAD:
		if (!s->created && !resumed_later(p, i, done))
			add_step(u, CS_STEP_CLEAR, s->name);
		break;
	case CS_STEP_SUSPEND:
		if (!resumed_later(p, i, done))
			add_step(u, CS_STEP_RESUME, s->name);
		break;
	case CS_STEP_RESUME:
		if (s->created || p->old_table[i] < 0)
			break;
		add_step(u, CS_STEP_SUSPEND, s->name);
		add_load(u, s->name, p->old_table[i], false, false);
		add_step(u, CS_STEP_RESUME, s->name);
		break;
	default:
		break;		/* a removal cannot be undone */
	}
}

void cs_plan_undo(const struct cs_plan *p, unsigned int done,
		  struct cs_plan *undo)
{
	unsigned int i;

	memset(undo, 0, sizeof(*undo));
	memcpy(undo->tables, p->tables, sizeof(p->tables));
	undo->nr_tables = p->nr_tables;
	for (i = done; i-- > 0;)
		undo_step(p, i, done, undo);
}

void cs_print_step(FILE *f, const struct cs_plan *p, const struct cs_step *s)
{
	const char *t, *nl;

	fprintf(f, "%-8s %s", step_names[s->kind], s->name);
	if (s->kind == CS_STEP_LOAD && s->read_only)
		fprintf(f, " (read-only)");
	fputc('\n', f);
	if (s->kind != CS_STEP_LOAD)
		return;
	for (t = p->tables[s->table]; *t; t = nl + !!*nl) {
		nl = t + strcspn(t, "\n");
		if (nl > t)
			fprintf(f, "         %.*s\n", (int)(nl - t), t);
	}
}

void cs_print_plan(FILE *f, const struct cs_plan *p)
{
	unsigned int i;

	for (i = 0; i < p->nr; i++)
		cs_print_step(f, p, &p->step[i]);
}

int cs_create_check_store(const char *store, const struct cs_store_probe *sp,
			  bool force, struct cs_features *f, char *err)
{
	char what[64 + COWSNAP_ERRLEN];

	switch (sp->kind) {
	case CS_STORE_BLANK:
		return 0;
	case CS_STORE_COWSNAP:
		if (sp->sb.state == COWSNAP_DISK_STATE_ENDED && !f->transient) {
			f->reformat = true;
			return 0;
		}
		snprintf(what, sizeof(what),
			 "a cowsnap snapshot that has not ended (state %s)",
			 sp->sb.state == COWSNAP_DISK_STATE_ENDED ? "ended" :
			 sp->sb.state == COWSNAP_DISK_STATE_VALID ? "valid" :
			 sp->sb.state == COWSNAP_DISK_STATE_MERGING ? "merging" :
								      "invalid");
		break;
	case CS_STORE_BAD_COWSNAP:
		snprintf(what, sizeof(what),
			 "a cowsnap superblock that does not validate (%s)",
			 sp->why);
		break;
	case CS_STORE_FOREIGN:
		snprintf(what, sizeof(what), "a %s %s", sp->type,
			 sp->partition_table ? "partition table" : "signature");
		break;
	default:
		snprintf(what, sizeof(what), "several signatures");
		break;
	}
	if (f->transient)
		return cs_error(err, -EEXIST,
				"store %s holds %s: a transient store must be blank (wipe its first block)",
				store, what);
	if (!force)
		return cs_error(err, -EEXIST,
				"store %s holds %s; use --force to overwrite it",
				store, what);
	f->reformat = true;
	return 0;
}
