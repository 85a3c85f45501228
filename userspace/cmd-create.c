// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap create: give a device a snapshot, even while it is in use.
 *
 * The checks of "cowsnap table" (sizes, origin and store distinct), the
 * store policy of cs_create_check_store(), then the plan of plan.c: for
 * a device-mapper origin the live view takes over the device in place
 * (the LVM way), for any other a new live view is created next to it.
 * A failed step undoes the steps before it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "dev.h"
#include "plan.h"
#include "snapshot.h"
#include "util.h"

static void usage(void)
{
	printf("Usage:\n"
	       " cowsnap create [options] ORIGIN STORE\n"
	       "\n"
	       "Take a snapshot of ORIGIN, keeping its exceptions on STORE.\n"
	       "A device-mapper ORIGIN keeps its name: the device its users\n"
	       "hold open becomes the live view, with no write lost.  Any\n"
	       "other ORIGIN gets a new live view NAME, which its users must\n"
	       "use from then on.  The snapshot view is NAME-snap.\n"
	       "\n"
	       "Options:\n"
	       " -n, --name NAME          the live view (default: the origin's\n"
	       "                          device-mapper name; required otherwise)\n"
	       " -S, --snapshot-name SNAP the snapshot view (default: NAME-snap)\n"
	       " -m, --mode cow|row       copy-on-write (default) or redirect-on-write\n"
	       " -c, --chunk SECTORS      chunk size: a power of two from 8 (default)\n"
	       "                          to 2048 sectors of 512 bytes\n"
	       "     --transient          keep the exceptions in memory only\n"
	       "     --low-water CHUNKS   raise an event when fewer chunks are free\n"
	       "     --queue-if-full SECS row: let writes wait up to SECS seconds\n"
	       "                          for a full store to grow\n"
	       " -f, --force              overwrite a store that holds a signature\n"
	       "                          or a cowsnap snapshot that has not ended\n"
	       "     --dry-run            print the steps and tables; change nothing\n"
	       " -h, --help               display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

struct create_opts {
	struct cs_create_req q;
	bool force;
	bool dry_run;
};

enum {
	OPT_TRANSIENT = 0x100,
	OPT_LOW_WATER,
	OPT_QUEUE_IF_FULL,
	OPT_DRY_RUN,
};

/* One option into @o: 0, 1 for --help, or -EINVAL. */
static int create_option(int c, char **argv, struct create_opts *o, char *err)
{
	switch (c) {
	case 'n':
		o->q.name = optarg;
		return 0;
	case 'S':
		o->q.snap_name = optarg;
		return 0;
	case 'm':
		return cs_parse_mode(optarg, &o->q.mode, err);
	case 'c':
		return cs_parse_chunk(optarg, &o->q.chunk_sectors, err);
	case OPT_TRANSIENT:
		o->q.f.transient = true;
		return 0;
	case OPT_LOW_WATER:
		return cs_parse_low_water(optarg, &o->q.f.low_water, err);
	case OPT_QUEUE_IF_FULL:
		o->q.f.full = CS_FULL_QUEUE;
		return cs_parse_queue_seconds(optarg, &o->q.f.queue_seconds,
					      err);
	case 'f':
		o->force = true;
		return 0;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case 'h':
		usage();
		return 1;
	}
	return cs_option_error(c, argv, err);
}

/* Returns 0, 1 when --help was handled, or -EINVAL. */
static int parse_args(int argc, char **argv, struct create_opts *o, char *err)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "snapshot-name", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "transient", no_argument, NULL, OPT_TRANSIENT },
		{ "low-water", required_argument, NULL, OPT_LOW_WATER },
		{ "queue-if-full", required_argument, NULL, OPT_QUEUE_IF_FULL },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cs_table_opts t;
	int c, r;

	cs_table_opts_init(&t);
	o->q.mode = t.mode;
	o->q.chunk_sectors = t.chunk_sectors;
	while ((c = getopt_long(argc, argv, ":n:S:m:c:fh", longopts,
				NULL)) != -1) {
		r = create_option(c, argv, o, err);
		if (r)
			return r;
	}
	if (argc - optind < 2)
		return cs_error(err, -EINVAL, "%s",
				optind < argc ? "no store given" :
						"no origin and store given");
	o->q.origin = argv[optind++];
	o->q.store = argv[optind++];
	if (optind < argc)
		return cs_extra_argument(argv[optind], err);
	t.origin = o->q.origin;
	t.store = o->q.store;
	t.mode = o->q.mode;
	t.f = o->q.f;
	return cs_table_check_opts(&t, err);
}

/* Devices, sizes and store: everything checked before the plan. */
static int check_devices(struct create_opts *o, struct cs_dev *origin,
			 struct cs_dev *store, char *err)
{
	struct cs_store_probe sp;
	int r;

	r = cs_dev_open(origin, o->q.origin, "origin", err);
	if (!r)
		r = cs_dev_open(store, o->q.store, "store", err);
	if (r)
		return r;
	if (cs_same_device(&origin->st, &store->st))
		return cs_error(err, -EBUSY,
				"origin %s and store %s are the same device",
				o->q.origin, o->q.store);
	r = cs_check_sizes(o->q.origin, origin->sectors, o->q.store,
			   store->sectors, o->q.chunk_sectors, err);
	if (!r)
		r = cs_dev_probe_store(store, &sp, err);
	if (!r)
		r = cs_create_check_store(o->q.store, &sp, o->force, &o->q.f,
					  err);
	o->q.origin_sectors = origin->sectors;
	return r;
}

int cmd_create(int argc, char **argv, char *err)
{
	static struct cs_origin_dm odm;
	static struct cs_plan plan;
	struct cs_dev origin = { 0 }, store = { 0 };
	struct create_opts o = { 0 };
	int r;

	r = parse_args(argc, argv, &o, err);
	if (r)
		return r > 0 ? 0 : r;
	r = check_devices(&o, &origin, &store, err);
	if (!r)
		r = cs_origin_dm(&origin, &odm, err);
	cs_dev_close(&store);
	cs_dev_close(&origin);
	if (r)
		return r;
	if (odm.is_dm) {
		o.q.origin_dm = odm.name;
		o.q.origin_table = odm.table;
	}
	r = cs_create_plan(&o.q, &plan, err);
	if (!r)
		r = cs_plan_names_free(&plan, err);
	if (!r)
		r = cs_plan_carry_out(&plan, o.dry_run, err);
	if (!r && !o.dry_run)
		cs_print_views(&plan, o.q.origin, o.q.mode == CS_MODE_ROW);
	return r;
}
