/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the commands print, as text and as JSON, each pair made from one
 * struct.  These functions write to the stream they are given and do
 * nothing else; the caller checks the stream for errors.
 */
#ifndef CS_OUTPUT_H
#define CS_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "status-parse.h"
#include "table.h"

/* "cowsnap table": one line per view (live first), or a JSON object. */
void cs_print_table_text(FILE *f, const struct cs_table_plan *plan);
void cs_print_table_json(FILE *f, const struct cs_table_plan *plan);

/* One cowsnap target of a device-mapper device, for "cowsnap status". */
struct cs_status_row {
	const char *name;		/* the device-mapper device */
	uint64_t start;			/* the target's place in the device */
	uint64_t length;
	uint32_t chunk_sectors;		/* from the device's table */
	struct cs_status st;
};

/*
 * "cowsnap status": a table with a header line (nothing at all when
 * there is no row), or a JSON object {"devices": [...]}.
 */
void cs_print_status_text(FILE *f, const struct cs_status_row *rows,
			  size_t nr);
void cs_print_status_json(FILE *f, const struct cs_status_row *rows,
			  size_t nr);

/*
 * "cowsnap check" and "cowsnap dump": the fields of a scanned store, as
 * "key  value" lines or one JSON object.  @path names the store; @dump
 * adds every superblock field and the exceptions (origin chunk -> store
 * chunk, in commit order).  The problem, if any, is a field too.
 */
struct cs_store_scan;
void cs_print_store_text(FILE *f, const char *path,
			 const struct cs_store_scan *s, bool dump);
void cs_print_store_json(FILE *f, const char *path,
			 const struct cs_store_scan *s, bool dump);

#endif /* CS_OUTPUT_H */
