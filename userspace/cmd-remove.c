// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap remove: release a snapshot's store.  The live view keeps its
 * name and users but maps the origin directly again (the table the
 * origin had, when create took a device-mapper device over; else
 * "linear <origin> 0"), and the snapshot view is removed.
 *
 * Refused unless the snapshot has ended (fold, or a CoW rollback, ends
 * it); --force removes it anyway and says what is lost.  Never while a
 * merge runs: the origin is half merged.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cmd.h"
#include "dm.h"
#include "plan-run.h"
#include "snapshot.h"
#include "util.h"

static void usage(void)
{
	printf("Usage:\n"
	       " cowsnap remove [options] NAME\n"
	       "\n"
	       "Remove the snapshot of which NAME is a view: the live view goes\n"
	       "on as a plain mapping of the origin, with the same name and\n"
	       "users, and the snapshot view is removed.  The snapshot must\n"
	       "have ended (see cowsnap fold and cowsnap rollback).\n"
	       "\n"
	       "Options:\n"
	       " -f, --force    remove a snapshot that has not ended, losing\n"
	       "                what only the store holds\n"
	       "     --dry-run  print the steps and tables; change nothing\n"
	       " -h, --help     display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

enum { OPT_DRY_RUN = 0x100 };

/* Returns 0, 1 when --help was handled, or -EINVAL. */
static int parse_args(int argc, char **argv, const char **name, bool *force,
		      bool *dry_run, char *err)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, ":fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*force = true;
			break;
		case OPT_DRY_RUN:
			*dry_run = true;
			break;
		case 'h':
			usage();
			return 1;
		default:
			return cs_option_error(c, argv, err);
		}
	}
	return cs_one_operand(argc, argv, "no device name given", name, err);
}

/* What removing a snapshot that has not ended loses, on stderr. */
static int check_ended(const struct cs_views *v, bool force, char *err)
{
	const struct cs_status *st = &v->st;

	if (st->state == CS_STATE_ENDED)
		return 0;
	if (st->state == CS_STATE_MERGING)
		return cs_error(err, -EPERM,
				"cannot remove %s: a %s is running; wait for it (cowsnap %s --wait)",
				v->live, st->op_name, st->op_name);
	if (!force)
		return cs_error(err, -EEXIST,
				"the snapshot of %s has not ended (state %s): 'cowsnap fold %s' ends it keeping the live data; use --force to drop it",
				v->live, st->state_name, v->live);
	if (st->mode == CS_MODE_COW)
		fprintf(stderr, "cowsnap: warning: the snapshot view %s and its %" PRIu64 " chunks in the store are dropped; the live data is kept\n",
			*v->snap ? v->snap : "(none)", st->used_chunks);
	else
		fprintf(stderr, "cowsnap: warning: every write to %s since the snapshot (%" PRIu64 " chunks in the store) is lost: %s goes back to the snapshot's data\n",
			v->live, st->used_chunks, v->live);
	return 0;
}

/*
 * The origin's own table when it is <live>-real (create took a
 * device-mapper device over), into @table; "" otherwise.
 */
static int real_table(const struct cs_views *v, char *table, char *err)
{
	char real[CS_NAME_MAX], path[CS_NAME_MAX + 16], devno[32];
	struct cs_dm_targets t;
	struct cs_dm_info info;
	int r;

	table[0] = '\0';
	if (cs_real_name(v->live, real, err))
		return 0;
	if (cs_dm_info(real, &info, err)) {
		err[0] = '\0';
		return 0;
	}
	snprintf(path, sizeof(path), "/dev/mapper/%s", real);
	snprintf(devno, sizeof(devno), "%u:%u", info.major, info.minor);
	if (strcmp(v->table.origin, path) && strcmp(v->table.origin, devno))
		return 0;
	r = cs_dm_targets(real, true, &t, err);
	if (r)
		return r;
	if (cs_dm_format_targets(&t, table, CS_LINE_MAX))
		r = cs_error(err, -ENAMETOOLONG, "the table of %s is too long",
			     real);
	cs_dm_free_targets(&t);
	return r;
}

int cmd_remove(int argc, char **argv, char *err)
{
	static char table[CS_LINE_MAX];
	static struct cs_views v;
	static struct cs_plan plan;
	bool force = false, dry_run = false;
	const char *name = NULL;
	unsigned int done;
	int r;

	r = parse_args(argc, argv, &name, &force, &dry_run, err);
	if (r)
		return r > 0 ? 0 : r;
	r = cs_find_views(name, &v, err);
	if (!r && !*v.live)
		r = cs_error(err, -EMEDIUMTYPE,
			     "%s is a snapshot view without a live view: remove it with dmsetup remove",
			     name);
	if (!r)
		r = check_ended(&v, force, err);
	if (!r)
		r = real_table(&v, table, err);
	if (!r)
		r = cs_remove_plan(v.live, v.length, v.table.origin, v.snap,
				   *table ? table : NULL, &plan, err);
	if (r)
		return r;
	if (dry_run)
		return cs_plan_carry_out(&plan, true, err);
	r = cs_plan_run(&plan, true, stdout, &done, err);
	if (r)
		return r;
	printf("%s now maps %s directly%s; the store %s is no longer used\n",
	       v.live, *table ? plan.real : v.table.origin,
	       *table ? " (its own table is back)" : "", v.table.store);
	return 0;
}
