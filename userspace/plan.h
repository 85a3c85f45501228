/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Plans of device-mapper changes: what "cowsnap create", "reactivate"
 * and "remove" do, as a list of steps that --dry-run prints and that
 * cs_plan_run() (plan-run.c) carries out, undoing what was done when a
 * step fails.
 *
 * Pure: building a plan and its undo list reads and writes nothing, so
 * the host tests check every step and every table.  Errors are -errno
 * with a one-line message in @err (CS_ERRLEN bytes).
 */
#ifndef CS_PLAN_H
#define CS_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "status-parse.h"
#include "table.h"

/* Longest device-mapper name, with its NUL (DM_NAME_LEN). */
#define CS_NAME_MAX	128
#define CS_MAX_STEPS	16
#define CS_MAX_TABLES	4

enum cs_step_kind {
	CS_STEP_CREATE,		/* a new device, no table */
	CS_STEP_LOAD,		/* a table into the inactive slot */
	CS_STEP_SUSPEND,	/* flush, freeze, suspend */
	CS_STEP_RESUME,		/* the inactive table goes live */
	CS_STEP_CLEAR,		/* drop the inactive table */
	CS_STEP_REMOVE,
};

struct cs_step {
	enum cs_step_kind kind;
	char name[CS_NAME_MAX];
	int table;		/* CS_STEP_LOAD: index in plan->tables */
	bool read_only;		/* CS_STEP_LOAD */
	bool created;		/* the device is one this plan creates */
	bool hidden;		/* kept from udev's disk rules (-real) */
};

struct cs_plan {
	unsigned int nr;
	struct cs_step step[CS_MAX_STEPS];
	unsigned int nr_tables;
	char tables[CS_MAX_TABLES][CS_LINE_MAX];	/* one line a target */
	/* the table each device taken over had, to restore it on undo */
	int old_table[CS_MAX_STEPS];
	char live[CS_NAME_MAX];		/* the live view, once done */
	char snap[CS_NAME_MAX];		/* the snapshot view ("": none) */
	char real[CS_NAME_MAX];		/* the hidden origin ("": none) */
	bool takeover;			/* the live view took the origin's name */
};

/* What "cowsnap create" or "cowsnap reactivate" is asked for. */
struct cs_create_req {
	const char *origin;		/* as the user named it */
	const char *store;
	const char *name;		/* NULL: the default */
	const char *snap_name;		/* NULL: <name>-snap */
	enum cs_mode mode;
	uint32_t chunk_sectors;
	struct cs_features f;
	uint64_t origin_sectors;
	bool live_only;			/* reactivating an ended store */
	/* the origin when it is a device-mapper device, else NULL */
	const char *origin_dm;
	const char *origin_table;	/* its table, "dmsetup table" lines */
};

/*
 * cs_create_plan() - the steps that give @q->origin a snapshot.
 *
 * A device-mapper origin X keeps its name and users: X's table moves to
 * a new device <name>-real, the snapshot view <name>-snap is created
 * with its table loaded, then X is suspended (flushed), gets the live
 * view's table (origin /dev/mapper/<name>-real) and is resumed, and the
 * snapshot view is resumed last.  <name> defaults to X's name.
 *
 * Any other origin gets a new live view <name> (required) and the
 * snapshot view; its users must move to /dev/mapper/<name>.
 *
 * The snapshot view of a row store is loaded read-only.  Returns 0 or
 * -EINVAL (a name that is missing, too long or holds a '/').
 */
int cs_create_plan(const struct cs_create_req *q, struct cs_plan *p,
		   char *err);

/*
 * cs_remove_plan() - replace the live view @live (table @live_table, one
 * cowsnap target whose origin is @origin) by a plain mapping of the
 * origin, then remove the snapshot view @snap ("" or NULL: none).  When
 * the origin is /dev/mapper/<live>-real, its table (@real_table) moves
 * back into @live and <live>-real is removed too; otherwise the live
 * view becomes "linear <origin> 0".
 */
int cs_remove_plan(const char *live, uint64_t sectors, const char *origin,
		   const char *snap, const char *real_table,
		   struct cs_plan *p, char *err);

/* cs_real_name() - "<name>-real" into @buf (CS_NAME_MAX): 0 or -EINVAL. */
int cs_real_name(const char *name, char *buf, char *err);

/*
 * cs_plan_undo() - the steps that undo the first @done steps of @p, in
 * order, into @undo (which shares @p's tables): a created device is
 * removed; a device taken over gets its old table back (or its inactive
 * table cleared, or is resumed, as far as it got).
 */
void cs_plan_undo(const struct cs_plan *p, unsigned int done,
		  struct cs_plan *undo);

/* cs_print_plan() - the steps, one a line, then each table indented. */
void cs_print_plan(FILE *f, const struct cs_plan *p);
void cs_print_step(FILE *f, const struct cs_plan *p, const struct cs_step *s);

/*
 * cs_create_check_store() - the store policy of create:
 *   blank                           used as it is;
 *   a cowsnap store that has ended  reformatted (feature reformat);
 *   any other cowsnap store, a damaged one, a known signature
 *                                   refused (-EEXIST) unless @force,
 *                                   then reformatted;
 *   with --transient, any store that is not blank is refused (-EEXIST):
 *   the module does not format a transient store.
 * Sets f->reformat when needed.
 */
int cs_create_check_store(const char *store, const struct cs_store_probe *sp,
			  bool force, struct cs_features *f, char *err);

#endif /* CS_PLAN_H */
