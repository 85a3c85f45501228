/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What "cowsnap create" and "cowsnap reactivate" share: finding out
 * whether the origin is a device-mapper device (and its table), checking
 * that the names a plan creates are free, and running or printing the
 * plan.  Errors as in dm.h and dev.h.
 */
#ifndef CS_SNAPSHOT_H
#define CS_SNAPSHOT_H

#include <stdbool.h>

#include "dev.h"
#include "plan.h"
#include "status-parse.h"

struct cs_origin_dm {
	bool is_dm;
	char name[CS_NAME_MAX];
	char table[CS_LINE_MAX];	/* its table, one target a line */
};

/*
 * cs_origin_dm() - whether the open origin @d is a device-mapper device,
 * and then its name and table.  A device whose table holds a cowsnap
 * target is refused (-EBUSY): a view cannot be the origin of another
 * snapshot.
 */
int cs_origin_dm(const struct cs_dev *d, struct cs_origin_dm *o, char *err);

/* cs_plan_names_free() - the devices @p creates do not exist: 0, -EBUSY. */
int cs_plan_names_free(const struct cs_plan *p, char *err);

/*
 * cs_plan_carry_out() - print @p ("--dry-run": and change nothing), or
 * run it, printing each step; on a failure, undo what was done.
 */
int cs_plan_carry_out(const struct cs_plan *p, bool dry_run, char *err);

/*
 * cs_print_views() - after a create or reactivate: the devices made, and
 * for a new live view, that users must move to it.
 */
void cs_print_views(const struct cs_plan *p, const char *origin, bool row);

/* The two views of one snapshot, found from either. */
struct cs_views {
	char live[CS_NAME_MAX];		/* "" when there is none */
	char snap[CS_NAME_MAX];		/* "" when there is none */
	struct cs_table_params table;	/* of the view named */
	uint64_t length;		/* sectors */
	struct cs_status st;		/* of the view named */
};

/*
 * cs_find_views() - the cowsnap device @name (one cowsnap target), its
 * status, and the views that share its store.  -ESRCH, -EMEDIUMTYPE
 * (not a cowsnap device), -EPROTO.
 */
int cs_find_views(const char *name, struct cs_views *v, char *err);

#endif /* CS_SNAPSHOT_H */
