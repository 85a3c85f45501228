// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap reactivate: bring a persistent snapshot back after its devices
 * were removed (a reboot): read the store's superblock, find the origin
 * it names (origin_id: a path, or "major:minor"; --origin overrides),
 * check that the origin is the one the store was made for, and load
 * both views with the store's mode and chunk size, as create does but
 * without reformatting anything.  An ended store gets the live view
 * only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dev.h"
#include "plan.h"
#include "snapshot.h"
#include "util.h"

static void usage(void)
{
	printf("Usage:\n"
	       " cowsnap reactivate [options] STORE\n"
	       "\n"
	       "Load the views of the snapshot kept on STORE again, after its\n"
	       "devices were removed: the origin is the device the store names\n"
	       "(see cowsnap dump, origin_id) and must have the size the store\n"
	       "was made for.  Mode and chunk size come from the store.  A\n"
	       "device-mapper origin keeps its name, as with cowsnap create.\n"
	       "\n"
	       "Options:\n"
	       " -o, --origin DEV         the origin, instead of the one the store names\n"
	       " -n, --name NAME          the live view (default: the origin's\n"
	       "                          device-mapper name; required otherwise)\n"
	       " -S, --snapshot-name SNAP the snapshot view (default: NAME-snap)\n"
	       "     --dry-run            print the steps and tables; change nothing\n"
	       " -h, --help               display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

struct reactivate_opts {
	const char *store;
	const char *origin;
	struct cs_create_req q;
	bool dry_run;
};

enum { OPT_DRY_RUN = 0x100 };

/* Returns 0, 1 when --help was handled, or -EINVAL. */
static int parse_args(int argc, char **argv, struct reactivate_opts *o,
		      char *err)
{
	static const struct option longopts[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "snapshot-name", required_argument, NULL, 'S' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, ":o:n:S:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'o':
			o->origin = optarg;
			break;
		case 'n':
			o->q.name = optarg;
			break;
		case 'S':
			o->q.snap_name = optarg;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case 'h':
			usage();
			return 1;
		default:
			return cs_option_error(c, argv, err);
		}
	}
	return cs_one_operand(argc, argv, "no store given", &o->store, err);
}

/* The store's superblock; anything but a valid one is refused. */
static int read_sb(struct cs_dev *store, struct cowsnap_sb *sb, char *err)
{
	struct cs_store_probe sp;
	int r;

	r = cs_dev_probe_store(store, &sp, err);
	if (r)
		return r;
	if (sp.kind == CS_STORE_COWSNAP) {
		*sb = sp.sb;
		return 0;
	}
	if (sp.kind == CS_STORE_BAD_COWSNAP)
		return cs_error(err, -EUCLEAN,
				"store %s: the superblock does not validate (%s); see cowsnap check",
				store->path, sp.why);
	return cs_error(err, -EUCLEAN, "store %s holds no cowsnap snapshot",
			store->path);
}

/*
 * The path of the origin the store names: origin_id as it is, or, for
 * "major:minor", the node udev or devtmpfs made (/sys/dev/block/M:m).
 */
static int origin_path(const struct cowsnap_sb *sb, const char *store,
		       char *path, size_t len, char *err)
{
	char uevent[96], line[256];
	unsigned int maj, min;
	char c;
	FILE *f;

	if (!sb->origin_id[0])
		return cs_error(err, -ENOENT,
				"store %s does not name its origin (an older module made it): give --origin",
				store);
	if (sscanf(sb->origin_id, "%u:%u%c", &maj, &min, &c) != 2) {
		snprintf(path, len, "%s", sb->origin_id);
		return 0;
	}
	snprintf(uevent, sizeof(uevent), "/sys/dev/block/%u:%u/uevent", maj,
		 min);
	f = fopen(uevent, "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "DEVNAME=", 8)) {
			snprintf(path, len, "/dev/%s", line + 8);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	return cs_error(err, -ENOENT,
			"store %s names origin %s, which does not exist now: give --origin",
			store, sb->origin_id);
}

/* Open the origin; a missing one, the hidden origin above all, gets a hint. */
static int open_origin(struct cs_dev *d, const char *path, bool named,
		       char *err)
{
	static const char real[] = "-real";
	size_t n = strlen(path);
	int r;

	r = cs_dev_open(d, path, "origin", err);
	if ((r != -ENOENT && r != -ENXIO) || named)
		return r;	/* ENXIO: a node left behind by a removed device */
	if (!strncmp(path, "/dev/mapper/", 12) && n > sizeof(real) &&
	    !strcmp(path + n - strlen(real), real))
		return cs_error(err, -ENOENT,
				"the store's origin %s was the hidden origin of a device-mapper device; give that device with --origin /dev/mapper/%.*s",
				path, (int)(n - 12 - strlen(real)), path + 12);
	return cs_error(err, -ENOENT,
			"the store's origin %s does not exist: give --origin", path);
}

/* The origin is the one the store was made for, as far as can be told. */
static int check_origin(const struct cs_dev *origin, const struct cs_dev *store,
			const struct cowsnap_sb *sb, char *err)
{
	if (cs_same_device(&origin->st, &store->st))
		return cs_error(err, -EBUSY,
				"origin %s and store %s are the same device",
				origin->path, store->path);
	if (origin->sectors != sb->origin_sectors)
		return cs_error(err, -ERANGE,
				"origin %s has %" PRIu64 " sectors, but store %s was made for an origin of %" PRIu64 ": not its origin",
				origin->path, origin->sectors, store->path,
				sb->origin_sectors);
	return 0;
}

static int prepare(struct reactivate_opts *o, struct cs_origin_dm *odm,
		   char *path, char *err)
{
	struct cs_dev origin = { 0 }, store = { 0 };
	struct cowsnap_sb sb;
	int r;

	r = cs_dev_open(&store, o->store, "store", err);
	if (!r)
		r = read_sb(&store, &sb, err);
	if (!r && !o->origin)
		r = origin_path(&sb, o->store, path, CS_LINE_MAX, err);
	else if (!r)
		snprintf(path, CS_LINE_MAX, "%s", o->origin);
	if (!r)
		r = open_origin(&origin, path, o->origin, err);
	if (!r)
		r = check_origin(&origin, &store, &sb, err);
	if (!r)
		r = cs_origin_dm(&origin, odm, err);
	cs_dev_close(&origin);
	cs_dev_close(&store);
	if (r)
		return r;
	o->q.origin = path;
	o->q.store = o->store;
	o->q.mode = sb.mode == COWSNAP_DISK_MODE_ROW ? CS_MODE_ROW : CS_MODE_COW;
	o->q.chunk_sectors = sb.chunk_sectors;
	o->q.origin_sectors = sb.origin_sectors;
	o->q.live_only = sb.state == COWSNAP_DISK_STATE_ENDED;
	if (odm->is_dm) {
		o->q.origin_dm = odm->name;
		o->q.origin_table = odm->table;
	}
	return 0;
}

int cmd_reactivate(int argc, char **argv, char *err)
{
	static char path[CS_LINE_MAX];
	static struct cs_origin_dm odm;
	static struct cs_plan plan;
	struct reactivate_opts o = { 0 };
	int r;

	r = parse_args(argc, argv, &o, err);
	if (r)
		return r > 0 ? 0 : r;
	r = prepare(&o, &odm, path, err);
	if (!r)
		r = cs_create_plan(&o.q, &plan, err);
	if (!r)
		r = cs_plan_names_free(&plan, err);
	if (!r && o.q.live_only)
		printf("the snapshot on %s has ended: loading the live view only\n",
		       o.store);
	if (!r)
		r = cs_plan_carry_out(&plan, o.dry_run, err);
	if (!r && !o.dry_run)
		cs_print_views(&plan, path, o.q.mode == CS_MODE_ROW);
	return r;
}
