// SPDX-License-Identifier: GPL-2.0-only
/*
 * cowsnap status: the state of one cowsnap device, or of all of them.
 *
 * For each device: its status (DM_DEVICE_STATUS), parsed by
 * cs_status_parse(), and its table (DM_DEVICE_TABLE), for the chunk
 * size.  One row per cowsnap target; devices without one are skipped
 * when listing all devices, and an error when named.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "dm.h"
#include "output.h"
#include "status-parse.h"
#include "table.h"
#include "util.h"

static void usage(void)
{
	printf("Usage:\n"
	       " cowsnap status [options] [NAME]\n"
	       "\n"
	       "Show the state of the cowsnap device NAME, or of every cowsnap\n"
	       "device: mode, view, state, store use and why a snapshot is\n"
	       "invalid.\n"
	       "\n"
	       "Options:\n"
	       " -J, --json  print a JSON object\n"
	       " -h, --help  display this help\n"
	       "\n"
	       "For more details see cowsnap(8).\n");
}

struct rows {
	struct cs_status_row *row;
	size_t nr;
};

/* The chunk size from the table target that starts at @start. */
static int table_chunk(const char *name, const struct cs_dm_targets *table,
		       uint64_t start, uint32_t *chunk_sectors, char *err)
{
	struct cs_table_params p;
	size_t i;

	for (i = 0; i < table->nr; i++) {
		const struct cs_dm_target *t = &table->t[i];

		if (t->start != start || strcmp(t->type, CS_TARGET_NAME))
			continue;
		if (cs_table_parse(t->params, &p))
			return cs_error(err, -EPROTO,
					"cannot parse the table of %s: '%s'",
					name, t->params);
		*chunk_sectors = p.chunk_sectors;
		return 0;
	}
	return cs_error(err, -EPROTO,
			"the table of %s changed while it was read", name);
}

static int add_row(struct rows *rows, const char *name,
		   const struct cs_dm_target *t, const struct cs_dm_targets *table,
		   char *err)
{
	struct cs_status_row *row;
	int r;

	row = realloc(rows->row, (rows->nr + 1) * sizeof(*row));
	if (!row)
		return cs_error(err, -ENOMEM, "out of memory");
	rows->row = row;
	row += rows->nr;
	memset(row, 0, sizeof(*row));
	row->name = name;
	row->start = t->start;
	row->length = t->length;
	if (cs_status_parse(t->params, &row->st))
		return cs_error(err, -EPROTO,
				"cannot parse the status of %s: '%s'", name,
				t->params);
	r = table_chunk(name, table, t->start, &row->chunk_sectors, err);
	if (r)
		return r;
	rows->nr++;
	return 0;
}

/*
 * Add a row per cowsnap target of device @name.  Returns -EMEDIUMTYPE
 * when it has none, -ESRCH when it does not exist.
 */
static int add_device(struct rows *rows, const char *name, char *err)
{
	struct cs_dm_targets status, table = { 0 };
	size_t i, before = rows->nr;
	int r;

	r = cs_dm_targets(name, false, &status, err);
	if (r)
		return r;
	for (i = 0; !r && i < status.nr; i++) {
		if (strcmp(status.t[i].type, CS_TARGET_NAME))
			continue;
		if (!table.t)
			r = cs_dm_targets(name, true, &table, err);
		if (!r)
			r = add_row(rows, name, &status.t[i], &table, err);
	}
	cs_dm_free_targets(&table);
	cs_dm_free_targets(&status);
	if (!r && rows->nr == before)
		r = cs_error(err, -EMEDIUMTYPE, "%s is not a cowsnap device",
			     name);
	return r;
}

/* Every device with a cowsnap target; others, and vanished ones, skipped. */
static int add_all_devices(struct rows *rows, char **names, size_t nr,
			   char *err)
{
	size_t i;
	int r;

	for (i = 0; i < nr; i++) {
		r = add_device(rows, names[i], err);
		if (r && r != -EMEDIUMTYPE && r != -ESRCH)
			return r;
	}
	err[0] = '\0';
	return 0;
}

int cmd_status(int argc, char **argv, char *err)
{
	struct rows rows = { 0 };
	const char *name = NULL;
	char **names = NULL;
	size_t nr_names = 0;
	bool json = false;
	int r;

	r = cs_parse_json_args(argc, argv, usage, &json, &name, false, NULL,
			       err);
	if (r)
		return r > 0 ? 0 : r;
	if (name) {
		r = add_device(&rows, name, err);
	} else {
		r = cs_dm_names(&names, &nr_names, err);
		if (!r)
			r = add_all_devices(&rows, names, nr_names, err);
	}
	if (!r && json)
		cs_print_status_json(stdout, rows.row, rows.nr);
	else if (!r)
		cs_print_status_text(stdout, rows.row, rows.nr);
	free(rows.row);
	cs_dm_free_names(names, nr_names);
	return r;
}
