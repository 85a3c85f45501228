// SPDX-License-Identifier: GPL-2.0-only
/*
 * What "cowsnap create" and "cowsnap reactivate" share (see snapshot.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "dm.h"
#include "plan-run.h"
#include "snapshot.h"
#include "util.h"

int cs_origin_dm(const struct cs_dev *d, struct cs_origin_dm *o, char *err)
{
	struct cs_dm_targets t;
	size_t i;
	int r;

	memset(o, 0, sizeof(*o));
	if (!S_ISBLK(d->st.st_mode) ||
	    !cs_dm_is_dm_major(major(d->st.st_rdev)))
		return 0;
	r = cs_dm_name_of(major(d->st.st_rdev), minor(d->st.st_rdev), o->name,
			  sizeof(o->name), err);
	if (r)
		return r;
	r = cs_dm_targets(o->name, true, &t, err);
	if (r)
		return r;
	for (i = 0; !r && i < t.nr; i++)
		if (!strcmp(t.t[i].type, CS_TARGET_NAME))
			r = cs_error(err, -EBUSY,
				     "origin %s is the cowsnap device %s: a snapshot view cannot be the origin of another snapshot",
				     d->path, o->name);
	if (!r && !t.nr)
		r = cs_error(err, -EBUSY, "origin %s (%s) has no table",
			     d->path, o->name);
	if (!r && cs_dm_format_targets(&t, o->table, sizeof(o->table)))
		r = cs_error(err, -ENAMETOOLONG,
			     "the table of origin %s is too long", o->name);
	cs_dm_free_targets(&t);
	o->is_dm = !r;
	return r;
}

static int name_free(const char *name, char *err)
{
	struct cs_dm_info info;
	int r;

	if (!*name)
		return 0;
	r = cs_dm_info(name, &info, err);
	if (r == -ESRCH) {
		err[0] = '\0';
		return 0;
	}
	if (r)
		return r;
	return cs_error(err, -EBUSY,
			"a device-mapper device named '%s' exists already",
			name);
}

int cs_plan_names_free(const struct cs_plan *p, char *err)
{
	int r = 0;

	if (!p->takeover)
		r = name_free(p->live, err);
	if (!r)
		r = name_free(p->snap, err);
	if (!r)
		r = name_free(p->real, err);
	return r;
}

int cs_plan_carry_out(const struct cs_plan *p, bool dry_run, char *err)
{
	unsigned int done;

	if (dry_run) {
		printf("dry run: nothing is changed; the steps would be:\n");
		cs_print_plan(stdout, p);
		return 0;
	}
	return cs_plan_run(p, true, stdout, &done, err);
}

void cs_print_views(const struct cs_plan *p, const char *origin, bool row)
{
	printf("live view:     /dev/mapper/%s%s\n", p->live,
	       p->takeover ? " (the origin's own device, in place)" : "");
	if (*p->snap)
		printf("snapshot view: /dev/mapper/%s%s\n", p->snap,
		       row ? " (read-only)" : "");
	if (*p->real)
		printf("origin table:  /dev/mapper/%s (do not use it)\n",
		       p->real);
	if (!p->takeover)
		printf("note: use /dev/mapper/%s instead of %s from now on: writes made to %s directly are not seen by the snapshot and corrupt it\n",
		       p->live, origin, origin);
}

/* The one cowsnap target of @name: its table or status parameters. */
static int cowsnap_target(const char *name, bool table, char *params,
			  size_t len, uint64_t *length, char *err)
{
	struct cs_dm_targets t;
	int r;

	r = cs_dm_targets(name, table, &t, err);
	if (r)
		return r;
	if (t.nr != 1 || strcmp(t.t[0].type, CS_TARGET_NAME))
		r = cs_error(err, -EMEDIUMTYPE,
			     "%s is not a cowsnap device", name);
	else if (strlen(t.t[0].params) >= len)
		r = cs_error(err, -EPROTO, "the table of %s is too long", name);
	if (!r) {
		snprintf(params, len, "%s", t.t[0].params);
		*length = t.t[0].length;
	}
	cs_dm_free_targets(&t);
	return r;
}

static int read_view(const char *name, struct cs_table_params *p,
		     uint64_t *length, char *err)
{
	static char params[CS_LINE_MAX];
	int r;

	r = cowsnap_target(name, true, params, sizeof(params), length, err);
	if (!r && cs_table_parse(params, p))
		r = cs_error(err, -EPROTO, "cannot parse the table of %s: '%s'",
			     name, params);
	return r;
}

/* Every other cowsnap device with the same store is a view of it. */
static int match_views(struct cs_views *v, char **names, size_t nr)
{
	static struct cs_table_params p;
	char err[CS_ERRLEN];
	uint64_t length;
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!strcmp(names[i], *v->live ? v->live : v->snap))
			continue;
		if (read_view(names[i], &p, &length, err))
			continue;	/* not cowsnap, or gone */
		if (strcmp(p.store, v->table.store))
			continue;
		snprintf(p.view == CS_VIEW_LIVE ? v->live : v->snap,
			 CS_NAME_MAX, "%s", names[i]);
	}
	return 0;
}

int cs_find_views(const char *name, struct cs_views *v, char *err)
{
	static char params[CS_LINE_MAX];
	char **names;
	size_t nr;
	int r;

	memset(v, 0, sizeof(*v));
	r = read_view(name, &v->table, &v->length, err);
	if (r)
		return r;
	snprintf(v->table.view == CS_VIEW_LIVE ? v->live : v->snap,
		 CS_NAME_MAX, "%s", name);
	r = cowsnap_target(name, false, params, sizeof(params), &v->length,
			   err);
	if (!r && cs_status_parse(params, &v->st))
		r = cs_error(err, -EPROTO,
			     "cannot parse the status of %s: '%s'", name,
			     params);
	if (!r)
		r = cs_dm_names(&names, &nr, err);
	if (r)
		return r;
	r = match_views(v, names, nr);
	cs_dm_free_names(names, nr);
	return r;
}
