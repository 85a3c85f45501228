// SPDX-License-Identifier: GPL-2.0-only
/*
 * Carrying out a plan (plan.h) through libdevmapper, step by step, and
 * undoing what was done when a step fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "plan.h"
#include "plan-run.h"
#include "util.h"

static int run_step(const struct cs_plan *p, const struct cs_step *s,
		    char *err)
{
	struct cs_dm_targets t;
	int r;

	switch (s->kind) {
	case CS_STEP_CREATE:
		return cs_dm_create(s->name, s->hidden, err);
	case CS_STEP_LOAD:
		r = cs_dm_parse_table(p->tables[s->table], &t);
		if (r)
			return cs_error(err, r == -ENOMEM ? r : -EPROTO,
					"cannot read the table for %s",
					s->name);
		r = cs_dm_load(s->name, &t, s->read_only, err);
		cs_dm_free_targets(&t);
		return r;
	case CS_STEP_SUSPEND:
		return cs_dm_suspend(s->name, err);
	case CS_STEP_RESUME:
		return cs_dm_resume(s->name, s->hidden, err);
	case CS_STEP_CLEAR:
		return cs_dm_clear(s->name, err);
	case CS_STEP_REMOVE:
		return cs_dm_remove(s->name, err);
	}
	return -EPROTO;
}

static unsigned int undo_count(const struct cs_plan *p, unsigned int done)
{
	static struct cs_plan u;

	cs_plan_undo(p, done, &u);
	return u.nr;
}

/* Undo the first @done steps; prints each; false if one failed. */
static bool undo(const struct cs_plan *p, unsigned int done, FILE *log)
{
	static struct cs_plan u;
	char err[CS_ERRLEN];
	bool all = true;
	unsigned int i;

	cs_plan_undo(p, done, &u);
	for (i = 0; i < u.nr; i++) {
		fprintf(log, "undo: ");
		cs_print_step(log, &u, &u.step[i]);
		err[0] = '\0';
		if (run_step(&u, &u.step[i], err)) {
			fprintf(log, "undo failed: %s\n", err);
			all = false;
		}
	}
	return all;
}

int cs_plan_run(const struct cs_plan *p, bool may_undo, FILE *log,
		unsigned int *done, char *err)
{
	char why[CS_ERRLEN];
	unsigned int i;
	int r;

	for (i = 0; i < p->nr; i++) {
		cs_print_step(log, p, &p->step[i]);
		fflush(log);
		r = run_step(p, &p->step[i], err);
		if (r)
			break;
	}
	*done = i;
	if (i == p->nr)
		return 0;
	snprintf(why, sizeof(why), "%s", err);
	if (!may_undo)
		return r;
	if (!i)
		return r;
	if (undo(p, i, log))
		return cs_error(err, r, "%s; %s", why, undo_count(p, i) ?
				"everything done before was undone" :
				"the steps before it stay done");
	return cs_error(err, r, "%s; undoing failed too: see the lines above",
			why);
}
