// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap table: print the dmsetup table line of each requested view of
 * an origin/store pair, after checking what can be checked from
 * userspace: the option values, the sizes, that origin and store are two
 * devices, and that the store holds nothing the table would overwrite.
 *
 * The checks and the line itself are in table.c (pure); this file reads
 * the command line, opens the devices and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "dev.h"
#include "output.h"
#include "table.h"
#include "util.h"

static void usage(void)
{
	printf("Usage:\n"
	       " cowsnap table --origin DEV --store DEV [options]\n"
	       "\n"
	       "Print the device-mapper table of a cowsnap snapshot, for\n"
	       "'dmsetup create NAME --table \"...\"'.  With --view both, two\n"
	       "lines: the live view's table, then the snapshot view's.\n"
	       "\n"
	       "Options:\n"
	       " -o, --origin DEV        the device to snapshot\n"
	       " -s, --store DEV         the device that keeps the exceptions\n"
	       " -m, --mode cow|row      copy-on-write (default) or redirect-on-write\n"
	       " -c, --chunk SECTORS     chunk size: a power of two from 8 (default)\n"
	       "                         to 2048 sectors of 512 bytes\n"
	       "     --view live|snap|both\n"
	       "                         the view(s) to print (default: live)\n"
	       "     --transient         keep the exceptions in memory only\n"
	       "     --reformat          format the store even if it is not blank\n"
	       "     --low-water CHUNKS  raise an event when fewer chunks are free\n"
	       "     --origin-ro         row: open the origin read-only (no fold)\n"
	       "     --error-if-full     row: fail writes when the store is full\n"
	       "                         (the default)\n"
	       "     --queue-if-full SECS\n"
	       "                         row: let such writes wait up to SECS\n"
	       "                         seconds for the store to grow\n"
	       " -f, --force             accept a store that holds a signature or a\n"
	       "                         cowsnap snapshot the table would overwrite\n"
	       " -J, --json              print a JSON object\n"
	       " -h, --help              display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

enum {
	OPT_VIEW = 0x100,
	OPT_TRANSIENT,
	OPT_REFORMAT,
	OPT_LOW_WATER,
	OPT_ORIGIN_RO,
	OPT_ERROR_IF_FULL,
	OPT_QUEUE_IF_FULL,
};

static const struct option longopts[] = {
	{ "origin", required_argument, NULL, 'o' },
	{ "store", required_argument, NULL, 's' },
	{ "mode", required_argument, NULL, 'm' },
	{ "chunk", required_argument, NULL, 'c' },
	{ "view", required_argument, NULL, OPT_VIEW },
	{ "transient", no_argument, NULL, OPT_TRANSIENT },
	{ "reformat", no_argument, NULL, OPT_REFORMAT },
	{ "low-water", required_argument, NULL, OPT_LOW_WATER },
	{ "origin-ro", no_argument, NULL, OPT_ORIGIN_RO },
	{ "error-if-full", no_argument, NULL, OPT_ERROR_IF_FULL },
	{ "queue-if-full", required_argument, NULL, OPT_QUEUE_IF_FULL },
	{ "force", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'J' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option into @o: 0, 1 for --help, or -EINVAL. */
static int table_option(int c, char **argv, struct cs_table_opts *o,
			char *err)
{
	switch (c) {
	case 'o':
		o->origin = optarg;
		return 0;
	case 's':
		o->store = optarg;
		return 0;
	case 'm':
		return cs_parse_mode(optarg, &o->mode, err);
	case 'c':
		return cs_parse_chunk(optarg, &o->chunk_sectors, err);
	case OPT_VIEW:
		return cs_parse_view(optarg, &o->views, err);
	case OPT_TRANSIENT:
		o->f.transient = true;
		return 0;
	case OPT_REFORMAT:
		o->f.reformat = true;
		return 0;
	case OPT_LOW_WATER:
		return cs_parse_low_water(optarg, &o->f.low_water, err);
	case OPT_ORIGIN_RO:
		o->f.origin_ro = true;
		return 0;
	case OPT_ERROR_IF_FULL:
		o->f.full = CS_FULL_ERROR;
		return 0;
	case OPT_QUEUE_IF_FULL:
		o->f.full = CS_FULL_QUEUE;
		return cs_parse_queue_seconds(optarg, &o->f.queue_seconds, err);
	case 'f':
		o->force = true;
		return 0;
	case 'J':
		o->json = true;
		return 0;
	case 'h':
		usage();
		return 1;
	}
	return cs_option_error(c, argv, err);
}

/* Returns 0, 1 when --help was handled, or -EINVAL. */
static int parse_args(int argc, char **argv, struct cs_table_opts *o,
		      char *err)
{
	int c, r;

	cs_table_opts_init(o);
	while ((c = getopt_long(argc, argv, ":o:s:m:c:fJh", longopts,
				NULL)) != -1) {
		r = table_option(c, argv, o, err);
		if (r)
			return r;
	}
	if (optind < argc)
		return cs_extra_argument(argv[optind], err);
	return cs_table_check_opts(o, err);
}

/* Open both devices, check them and build the lines. */
static int plan_table(const struct cs_table_opts *o, struct cs_dev *origin,
		      struct cs_dev *store, struct cs_table_plan *plan,
		      char *err)
{
	struct cs_store_probe sp;
	int r;

	r = cs_dev_open(origin, o->origin, "origin", err);
	if (r)
		return r;
	r = cs_dev_open(store, o->store, "store", err);
	if (r)
		return r;
	if (cs_same_device(&origin->st, &store->st))
		return cs_error(err, -EBUSY,
				"origin %s and store %s are the same device",
				o->origin, o->store);
	r = cs_table_plan_build(o, origin->sectors, store->sectors, plan,
				err);
	if (r)
		return r;
	r = cs_dev_probe_store(store, &sp, err);
	if (r)
		return r;
	return cs_table_check_store(o, origin->sectors, &sp, err);
}

int cmd_table(int argc, char **argv, char *err)
{
	static struct cs_table_plan plan;	/* large: two table lines */
	struct cs_dev origin = { 0 }, store = { 0 };
	struct cs_table_opts o;
	int r;

	r = parse_args(argc, argv, &o, err);
	if (r)
		return r > 0 ? 0 : r;
	r = plan_table(&o, &origin, &store, &plan, err);
	cs_dev_close(&store);
	cs_dev_close(&origin);
	if (r)
		return r;
	if (o.json)
		cs_print_table_json(stdout, &plan);
	else
		cs_print_table_text(stdout, &plan);
	return 0;
}
