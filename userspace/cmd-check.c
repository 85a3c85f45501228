// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap check, cowsnap dump: read a store offline, through the pure
 * reader of store-scan.c.
 *
 * check prints a summary and fails (-EUCLEAN: exit code 6) with the
 * first problem; dump prints every superblock field and every exception
 * and fails the same way when the store is not clean, after printing
 * what it could read.
 */
#include <errno.h>
#include <stdio.h>

#include "cmd.h"
#include "dev.h"
#include "output.h"
#include "store-scan.h"
#include "util.h"

static void usage_options(void)
{
	printf("\n"
	       "Options:\n"
	       " -J, --json  print a JSON object\n"
	       " -h, --help  display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

static void usage_check(void)
{
	printf("Usage:\n"
	       " cowsnap check [options] STORE\n"
	       "\n"
	       "Check the cowsnap store STORE offline: the superblock, every\n"
	       "exception block (the copy the module would use), checksums,\n"
	       "the store's nonce, every exception within bounds, no chunk\n"
	       "used twice.  Exit code 6 names the first problem found.\n"
	       "Read-only; do not run it on a store in use.\n");
	usage_options();
}

static void usage_dump(void)
{
	printf("Usage:\n"
	       " cowsnap dump [options] STORE\n"
	       "\n"
	       "Print the superblock of the cowsnap store STORE and every\n"
	       "exception it holds (origin chunk -> store chunk), in\n"
	       "commit order.  Read-only; do not run it on a store in use.\n");
	usage_options();
}

static int read_dev(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return cs_dev_read(ctx, offset, buf, len);
}

static int check_or_dump(int argc, char **argv, bool dump, char *err)
{
	struct cs_store_scan s;
	struct cs_store_reader rd;
	struct cs_dev d;
	const char *path = NULL;
	bool json = false;
	int r;

	r = cs_parse_json_args(argc, argv, dump ? usage_dump : usage_check,
			       &json, &path, true, "no store given", err);
	if (r)
		return r > 0 ? 0 : r;
	r = cs_dev_open(&d, path, "store", err);
	if (r)
		return r;
	rd.read = read_dev;
	rd.ctx = &d;
	rd.size = d.sectors << CS_SECTOR_SHIFT;
	r = cs_store_scan(&rd, &s);
	if (json)
		cs_print_store_json(stdout, path, &s, dump);
	else
		cs_print_store_text(stdout, path, &s, dump);
	if (r)
		cs_error(err, r, "store %s: %s", path, s.why);
	cs_store_scan_free(&s);
	cs_dev_close(&d);
	return r;
}

int cmd_check(int argc, char **argv, char *err)
{
	return check_or_dump(argc, argv, false, err);
}

int cmd_dump(int argc, char **argv, char *err)
{
	return check_or_dump(argc, argv, true, err);
}
