// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the commands print, as text and as JSON (see output.h).
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "util.h"

void cs_print_table_text(FILE *f, const struct cs_table_plan *plan)
{
	unsigned int i;

	for (i = 0; i < plan->nr_lines; i++)
		fprintf(f, "%s\n", plan->lines[i].line);
}

void cs_print_table_json(FILE *f, const struct cs_table_plan *plan)
{
	struct cs_json j;
	unsigned int i;

	cs_json_init(&j, f);
	cs_json_open_object(&j, NULL);
	cs_json_string(&j, "origin", plan->origin);
	cs_json_u64(&j, "origin_sectors", plan->origin_sectors);
	cs_json_string(&j, "store", plan->store);
	cs_json_u64(&j, "store_sectors", plan->store_sectors);
	cs_json_u64(&j, "store_chunks", plan->store_chunks);
	cs_json_string(&j, "mode", cs_mode_name(plan->mode));
	cs_json_u64(&j, "chunk_sectors", plan->chunk_sectors);
	cs_json_bool(&j, "transient", plan->f.transient);
	cs_json_bool(&j, "reformat", plan->f.reformat);
	if (plan->f.low_water)
		cs_json_u64(&j, "low_water", plan->f.low_water);
	else
		cs_json_null(&j, "low_water");
	cs_json_bool(&j, "origin_ro", plan->f.origin_ro);
	cs_json_string(&j, "if_full", cs_full_policy_name(plan->f.full));
	if (plan->f.full == CS_FULL_QUEUE)
		cs_json_u64(&j, "queue_seconds", plan->f.queue_seconds);
	else
		cs_json_null(&j, "queue_seconds");
	cs_json_open_array(&j, "tables");
	for (i = 0; i < plan->nr_lines; i++) {
		cs_json_open_object(&j, NULL);
		cs_json_string(&j, "view", cs_view_name(plan->lines[i].view));
		cs_json_string(&j, "table", plan->lines[i].line);
		cs_json_close_object(&j);
	}
	cs_json_close_array(&j);
	cs_json_close_object(&j);
}

/* Bytes in @chunks chunks of @chunk_sectors; false on overflow. */
static bool chunk_bytes(uint64_t chunks, uint32_t chunk_sectors,
			uint64_t *bytes)
{
	return cs_mul_u64(chunks, (uint64_t)chunk_sectors << CS_SECTOR_SHIFT,
			  bytes);
}

enum {
	COL_NAME, COL_MODE, COL_VIEW, COL_STATE, COL_CHUNK, COL_USED,
	COL_TOTAL, COL_USE, COL_REASON, COL_OP, NR_COLS
};

static const char *const col_names[NR_COLS] = {
	"NAME", "MODE", "VIEW", "STATE", "CHUNK", "USED", "TOTAL", "USE%",
	"REASON", "OPERATION",
};

#define CELL_MAX	160

/* "<count> (<size>)", the size "?" when it does not fit in 64 bits. */
static void count_cell(uint64_t chunks, uint32_t chunk_sectors, char *buf)
{
	char human[32] = "?";
	uint64_t bytes;

	if (chunk_bytes(chunks, chunk_sectors, &bytes))
		cs_human_size(bytes, human, sizeof(human));
	snprintf(buf, CELL_MAX, "%" PRIu64 " (%s)", chunks, human);
}

/* "-", "<op>", or "<op> <merged>/<total> (<percent>)". */
static void op_cell(const struct cs_status *st, char *buf)
{
	char pct[32];

	if (!st->op_name[0]) {
		snprintf(buf, CELL_MAX, "-");
		return;
	}
	if (!st->has_progress) {
		snprintf(buf, CELL_MAX, "%s", st->op_name);
		return;
	}
	cs_percent(st->merged, st->to_merge, pct, sizeof(pct));
	snprintf(buf, CELL_MAX, "%s %" PRIu64 "/%" PRIu64 " (%s)", st->op_name,
		 st->merged, st->to_merge, pct);
}

static void row_cells(const struct cs_status_row *r,
		      char cells[NR_COLS][CELL_MAX])
{
	const struct cs_status *st = &r->st;

	snprintf(cells[COL_NAME], CELL_MAX, "%s", r->name);
	snprintf(cells[COL_MODE], CELL_MAX, "%s", cs_mode_name(st->mode));
	snprintf(cells[COL_VIEW], CELL_MAX, "%s", cs_view_name(st->view));
	snprintf(cells[COL_STATE], CELL_MAX, "%s", st->state_name);
	cs_human_size((uint64_t)r->chunk_sectors << CS_SECTOR_SHIFT,
		      cells[COL_CHUNK], CELL_MAX);
	count_cell(st->used_chunks, r->chunk_sectors, cells[COL_USED]);
	count_cell(st->total_chunks, r->chunk_sectors, cells[COL_TOTAL]);
	cs_percent(st->used_chunks, st->total_chunks, cells[COL_USE],
		   CELL_MAX);
	snprintf(cells[COL_REASON], CELL_MAX, "%s",
		 st->reason[0] ? st->reason : "-");
	op_cell(st, cells[COL_OP]);
}

/* One line: columns left-aligned, USE% right-aligned, no trailing blank. */
static void print_cells(FILE *f, const char *const *cells,
			const int *width)
{
	int c;

	for (c = 0; c < NR_COLS; c++) {
		const char *sep = c ? " " : "";

		if (c == COL_USE)
			fprintf(f, "%s%*s", sep, width[c], cells[c]);
		else if (c == NR_COLS - 1)
			fprintf(f, "%s%s", sep, cells[c]);
		else
			fprintf(f, "%s%-*s", sep, width[c], cells[c]);
	}
	fputc('\n', f);
}

void cs_print_status_text(FILE *f, const struct cs_status_row *rows,
			  size_t nr)
{
	char cells[NR_COLS][CELL_MAX];
	const char *ptrs[NR_COLS];
	int width[NR_COLS];
	size_t i;
	int c;

	if (!nr)
		return;
	for (c = 0; c < NR_COLS; c++)
		width[c] = strlen(col_names[c]);
	for (i = 0; i < nr; i++) {
		row_cells(&rows[i], cells);
		for (c = 0; c < NR_COLS; c++)
			if ((int)strlen(cells[c]) > width[c])
				width[c] = strlen(cells[c]);
	}
	print_cells(f, col_names, width);
	for (i = 0; i < nr; i++) {
		row_cells(&rows[i], cells);
		for (c = 0; c < NR_COLS; c++)
			ptrs[c] = cells[c];
		print_cells(f, ptrs, width);
	}
}

static void json_bytes(struct cs_json *j, const char *key, uint64_t chunks,
		       uint32_t chunk_sectors)
{
	uint64_t bytes;

	if (chunk_bytes(chunks, chunk_sectors, &bytes))
		cs_json_u64(j, key, bytes);
	else
		cs_json_null(j, key);
}

/* @key: "12.5", as a JSON number, or null when @whole is zero. */
static void json_percent(struct cs_json *j, const char *key, uint64_t part,
			 uint64_t whole)
{
	char pct[32];
	uint64_t pm;

	if (!cs_permille(part, whole, &pm)) {
		cs_json_null(j, key);
		return;
	}
	snprintf(pct, sizeof(pct), "%" PRIu64 ".%" PRIu64, pm / 10, pm % 10);
	cs_json_number(j, key, pct);
}

static void json_operation(struct cs_json *j, const struct cs_status *st)
{
	cs_json_string(j, "operation", st->op_name[0] ? st->op_name : NULL);
	if (!st->has_progress) {
		cs_json_null(j, "merged");
		cs_json_null(j, "to_merge");
		cs_json_null(j, "merge_percent");
		return;
	}
	cs_json_u64(j, "merged", st->merged);
	cs_json_u64(j, "to_merge", st->to_merge);
	json_percent(j, "merge_percent", st->merged, st->to_merge);
}

static void json_row(struct cs_json *j, const struct cs_status_row *r)
{
	const struct cs_status *st = &r->st;

	cs_json_open_object(j, NULL);
	cs_json_string(j, "name", r->name);
	cs_json_u64(j, "start", r->start);
	cs_json_u64(j, "length", r->length);
	cs_json_string(j, "mode", cs_mode_name(st->mode));
	cs_json_string(j, "view", cs_view_name(st->view));
	cs_json_string(j, "state", st->state_name);
	cs_json_u64(j, "chunk_sectors", r->chunk_sectors);
	cs_json_u64(j, "used_chunks", st->used_chunks);
	cs_json_u64(j, "total_chunks", st->total_chunks);
	json_bytes(j, "used_bytes", st->used_chunks, r->chunk_sectors);
	json_bytes(j, "total_bytes", st->total_chunks, r->chunk_sectors);
	json_percent(j, "use_percent", st->used_chunks, st->total_chunks);
	cs_json_u64(j, "metadata_blocks", st->metadata_blocks);
	cs_json_string(j, "invalid_reason", st->reason[0] ? st->reason : NULL);
	json_operation(j, st);
	cs_json_close_object(j);
}

void cs_print_status_json(FILE *f, const struct cs_status_row *rows,
			  size_t nr)
{
	struct cs_json j;
	size_t i;

	cs_json_init(&j, f);
	cs_json_open_object(&j, NULL);
	cs_json_open_array(&j, "devices");
	for (i = 0; i < nr; i++)
		json_row(&j, &rows[i]);
	cs_json_close_array(&j);
	cs_json_close_object(&j);
}
