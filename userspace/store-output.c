// SPDX-License-Identifier: GPL-2.0-only
/*
 * What "cowsnap check" and "cowsnap dump" print (see output.h): one list
 * of fields, made once, printed as text or as JSON.
 */
#include <errno.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "store-scan.h"
#include "util.h"

#define MAX_FIELDS	32
#define VALUE_MAX	96

struct field {
	const char *key;
	bool is_num;
	bool is_null;
	uint64_t num;
	char text[VALUE_MAX];
};

struct fields {
	struct field f[MAX_FIELDS];
	unsigned int nr;
};

static struct field *add(struct fields *fs, const char *key)
{
	struct field *f = &fs->f[fs->nr++];

	memset(f, 0, sizeof(*f));
	f->key = key;
	return f;
}

static void add_num(struct fields *fs, const char *key, uint64_t v)
{
	struct field *f = add(fs, key);

	f->is_num = true;
	f->num = v;
}

/* A text value; "-" (or "") is null in JSON. */
static void add_text(struct fields *fs, const char *key, const char *v)
{
	struct field *f = add(fs, key);

	snprintf(f->text, sizeof(f->text), "%s", v);
	f->is_null = !*v || !strcmp(v, "-");
}

static void sb_fields(struct fields *fs, const struct cs_store_scan *s,
		      bool dump)
{
	const struct cowsnap_sb *sb = &s->sb;
	char uuid[40];

	cs_uuid_text(sb->uuid, uuid);
	add_text(fs, "uuid", uuid);
	add_text(fs, "mode", cowsnap_disk_mode_name(sb->mode));
	add_text(fs, "state", cowsnap_disk_state_name(sb->state));
	add_text(fs, "invalid_reason", cowsnap_reason_name(sb->invalid_reason));
	add_text(fs, "operation", cowsnap_op_name(sb->operation));
	add_num(fs, "chunk_sectors", sb->chunk_sectors);
	add_num(fs, "origin_sectors", sb->origin_sectors);
	add_text(fs, "origin_id", sb->origin_id);
	if (!dump)
		return;
	add_num(fs, "version", sb->version);
	add_num(fs, "generation", sb->generation);
	add_num(fs, "compat_flags", sb->compat_flags);
	add_num(fs, "compat_ro_flags", sb->compat_ro_flags);
	add_num(fs, "incompat_flags", sb->incompat_flags);
	add_num(fs, "store_sectors", sb->store_sectors);
	add_num(fs, "snapshot_id", sb->snapshot_id);
	add_num(fs, "nr_snapshots", sb->nr_snapshots);
	add_num(fs, "nr_exceptions", sb->nr_exceptions);
	add_num(fs, "metadata_blocks", sb->metadata_blocks);
	add_num(fs, "epoch", sb->epoch);
	add_num(fs, "merge_cursor", sb->merge_cursor);
	add_num(fs, "merge_total", sb->merge_total);
}

static void make_fields(struct fields *fs, const char *path,
			const struct cs_store_scan *s, bool dump)
{
	fs->nr = 0;
	add_text(fs, "store", path);
	if (!s->sb_result && s->problem != -EIO)
		sb_fields(fs, s, dump);
	if (!s->sb_result) {
		add_num(fs, "store_chunks", s->store_chunks);
		add_num(fs, "data_chunks", s->data_capacity);
		add_num(fs, "data_chunks_used", s->data_used);
		add_num(fs, "exception_blocks", s->blocks);
		add_num(fs, "exceptions", s->nr_ex);
		if (dump)
			add_num(fs, "exception_entries", s->entries);
		add_num(fs, "torn_copies", s->newer_copy_damaged);
		add_num(fs, "stale_copies", s->stale_copies);
	}
	add_text(fs, "problem", s->problem ? s->why : "-");
}

void cs_print_store_text(FILE *f, const char *path,
			 const struct cs_store_scan *s, bool dump)
{
	struct fields fs;
	unsigned int i;
	size_t e;

	make_fields(&fs, path, s, dump);
	for (i = 0; i < fs.nr; i++) {
		if (fs.f[i].is_num)
			fprintf(f, "%-17s %" PRIu64 "\n", fs.f[i].key,
				fs.f[i].num);
		else
			fprintf(f, "%-17s %s\n", fs.f[i].key,
				*fs.f[i].text ? fs.f[i].text : "-");
	}
	if (!dump)
		return;
	fprintf(f, "exception_list    (origin chunk -> store chunk)\n");
	for (e = 0; e < s->nr_ex; e++)
		fprintf(f, "  %" PRIu64 " -> %" PRIu64 "\n",
			s->ex[e].origin_chunk, s->ex[e].store_chunk);
}

void cs_print_store_json(FILE *f, const char *path,
			 const struct cs_store_scan *s, bool dump)
{
	struct fields fs;
	struct cs_json j;
	unsigned int i;
	size_t e;

	make_fields(&fs, path, s, dump);
	cs_json_init(&j, f);
	cs_json_open_object(&j, NULL);
	for (i = 0; i < fs.nr; i++) {
		if (fs.f[i].is_num)
			cs_json_u64(&j, fs.f[i].key, fs.f[i].num);
		else if (fs.f[i].is_null)
			cs_json_null(&j, fs.f[i].key);
		else
			cs_json_string(&j, fs.f[i].key, fs.f[i].text);
	}
	cs_json_bool(&j, "clean", !s->problem);
	if (dump) {
		cs_json_open_array(&j, "exception_list");
		for (e = 0; e < s->nr_ex; e++) {
			cs_json_open_object(&j, NULL);
			cs_json_u64(&j, "origin_chunk", s->ex[e].origin_chunk);
			cs_json_u64(&j, "store_chunk", s->ex[e].store_chunk);
			cs_json_close_object(&j);
		}
		cs_json_close_array(&j);
	}
	cs_json_close_object(&j);
}
