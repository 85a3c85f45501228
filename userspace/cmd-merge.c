// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap rollback, cowsnap fold: send the message to a view, after
 * checking that the snapshot's state allows it (so that a refusal says
 * why), and with --wait follow a background merge to its end.
 *
 *   rollback  live view := snapshot view.  ROW: instant, the snapshot
 *             goes on, fresh.  CoW: a background merge of the store into
 *             the origin, then the snapshot has ended.
 *   fold      end the snapshot, keeping the live data.  CoW: instant.
 *             ROW: a background copy into the origin, then ended.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "dm.h"
#include "snapshot.h"
#include "util.h"

static void usage(bool fold)
{
	printf("Usage:\n"
	       " cowsnap %s [options] NAME\n"
	       "\n", fold ? "fold" : "rollback");
	if (fold)
		printf("End the snapshot of which NAME is a view, keeping the live\n"
		       "data.  Copy-on-write: instant.  Redirect-on-write: the\n"
		       "store's chunks are copied into the origin in the\n"
		       "background; the snapshot view fails all I/O from the start.\n");
	else
		printf("Make the live view equal to the snapshot view of which NAME\n"
		       "is a view.  Redirect-on-write: instant, and the snapshot goes\n"
		       "on.  Copy-on-write: the store is merged into the origin in\n"
		       "the background, the snapshot view fails all I/O from the\n"
		       "start, and the snapshot has ended when it is done.\n");
	printf("\n"
	       "Options:\n"
	       " -w, --wait  wait until the operation is done, printing progress\n"
	       " -h, --help  display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

static void usage_rollback(void)
{
	usage(false);
}

static void usage_fold(void)
{
	usage(true);
}

/* Returns 0, 1 when --help was handled, or -EINVAL. */
static int parse_args(int argc, char **argv, bool fold, const char **name,
		      bool *wait, char *err)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, ":wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			*wait = true;
			break;
		case 'h':
			(fold ? usage_fold : usage_rollback)();
			return 1;
		default:
			return cs_option_error(c, argv, err);
		}
	}
	return cs_one_operand(argc, argv, "no device name given", name, err);
}

/* Whether the state allows @op: 0, or -EPERM saying why not. */
static int check_state(const char *name, const struct cs_views *v,
		       const char *op, bool fold, char *err)
{
	const struct cs_status *st = &v->st;

	switch (st->state) {
	case CS_STATE_ENDED:
		return cs_error(err, -EPERM,
				"cannot %s %s: the snapshot has ended%s%s; remove it with 'cowsnap remove'",
				op, name, st->op_name[0] ? " by a " : "",
				st->op_name);
	case CS_STATE_MERGING:
		return cs_error(err, -EPERM,
				"cannot %s %s: a %s is running (%" PRIu64 "/%" PRIu64 " exceptions merged)",
				op, name, st->op_name[0] ? st->op_name : "merge",
				st->merged, st->to_merge);
	case CS_STATE_INVALID:
		if (fold && st->mode == CS_MODE_COW)
			return 0;	/* it just ends the snapshot */
		return cs_error(err, -EPERM,
				"cannot %s %s: the snapshot is invalid (%s)%s",
				op, name, st->reason[0] ? st->reason : "-",
				fold ? "" : "; only fold can end it");
	case CS_STATE_DEGRADED:
		return cs_error(err, -EPERM,
				"cannot %s %s: the store has failed (degraded, %s)",
				op, name, st->reason[0] ? st->reason : "-");
	default:
		break;
	}
	if (fold && st->mode == CS_MODE_ROW && v->table.f.origin_ro)
		return cs_error(err, -EPERM,
				"cannot fold %s: the origin is opened read-only (origin_ro)",
				name);
	return 0;
}

/* The kernel refused the message: say why, as far as we can tell. */
static int refused(const char *name, const char *op, const struct cs_views *v,
		   int e, char *err)
{
	switch (e) {
	case EBUSY:
		return cs_error(err, -EPERM, "cannot %s %s: a merge is running",
				op, name);
	case EROFS:
		return cs_error(err, -EPERM,
				"cannot %s %s: the origin is read-only", op,
				name);
	case EIO:
		return cs_error(err, -EPERM, "cannot %s %s: the store failed",
				op, name);
	case EINVAL:
		if (!*v->live)
			return cs_error(err, -EPERM,
					"cannot %s %s: no live view is loaded",
					op, name);
		return cs_error(err, -EPROTO,
				"the module refused '%s' on %s although the snapshot is valid: is dm-cowsnap older than 0.2 (Unknown message)?",
				op, name);
	}
	return -EPROTO;		/* the message of cs_dm_message() stands */
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Follow the merge until the state is no longer merging. */
static int wait_merge(const char *name, const char *op, struct cs_views *v,
		      char *err)
{
	uint64_t last = (uint64_t)-1;
	char pct[32];
	int r;

	for (;;) {
		r = cs_find_views(name, v, err);
		if (r)
			return r;
		if (v->st.state != CS_STATE_MERGING)
			return 0;
		if (v->st.has_progress && v->st.merged != last) {
			cs_percent(v->st.merged, v->st.to_merge, pct,
				   sizeof(pct));
			printf("%s: %" PRIu64 "/%" PRIu64 " exceptions merged (%s)\n",
			       op, v->st.merged, v->st.to_merge, pct);
			fflush(stdout);
			last = v->st.merged;
		}
		sleep_ms(200);
	}
}

static void report(const char *name, const char *op, const struct cs_views *v)
{
	const struct cs_status *st = &v->st;

	if (st->state == CS_STATE_MERGING) {
		printf("%s of %s started in the background (%" PRIu64 " exceptions); follow it with 'cowsnap status %s'\n",
		       op, name, st->to_merge, name);
		return;
	}
	printf("%s of %s done: state %s\n", op, name, st->state_name);
	if (st->state == CS_STATE_ENDED)
		printf("the snapshot has ended: the live view maps the origin; 'cowsnap remove %s' releases the store\n",
		       *v->live ? v->live : name);
}

static int merge_command(int argc, char **argv, bool fold, char *err)
{
	const char *op = fold ? "fold" : "rollback";
	const char *name = NULL;
	struct cs_views v;
	bool wait = false, was_invalid;
	int r, e;

	r = parse_args(argc, argv, fold, &name, &wait, err);
	if (r)
		return r > 0 ? 0 : r;
	r = cs_find_views(name, &v, err);
	if (!r)
		r = check_state(name, &v, op, fold, err);
	if (r)
		return r;
	was_invalid = v.st.state == CS_STATE_INVALID;
	r = cs_dm_message(name, op, &e, err);
	if (r == -EPROTO && e)
		return refused(name, op, &v, e, err);
	if (!r)
		r = wait ? wait_merge(name, op, &v, err) :
			   cs_find_views(name, &v, err);
	if (!r)
		report(name, op, &v);
	if (!r && v.st.state == CS_STATE_INVALID && !was_invalid)
		r = cs_error(err, -EPROTO, "%s of %s failed: the snapshot is invalid (%s)",
			     op, name, v.st.reason[0] ? v.st.reason : "-");
	return r;
}

int cmd_rollback(int argc, char **argv, char *err)
{
	return merge_command(argc, argv, false, err);
}

int cmd_fold(int argc, char **argv, char *err)
{
	return merge_command(argc, argv, true, err);
}
