// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for dm-cowsnap's pure logic: table parsing and printing,
 * chunk arithmetic, and the on-disk format.
 *
 * Built as dm-cowsnap-kunit.ko against a kernel with KUnit (the debug
 * kernel) and loaded in the test VM.  The code under test is compiled
 * in from its own source files, so the module under test need not
 * export anything.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/slab.h>

#include "cowsnap-args.c"
#include "cowsnap-format.c"
#include "cowsnap-index.c"

/* ---- dm_cowsnap_args ---- */

#define MAX_WORDS 16

struct args_case {
	const char *line;
	const char *error;	/* NULL: must parse */
};

/* Split @line (modified in place) into @argv; returns argc. */
static unsigned int split(char *line, char **argv)
{
	unsigned int argc = 0;
	char *word;

	while ((word = strsep(&line, " ")) && argc < MAX_WORDS)
		if (*word)
			argv[argc++] = word;
	return argc;
}

static int parse_line(struct kunit *test, const char *line,
		      struct cowsnap_params *p, char **error)
{
	char *copy = kunit_kstrdup(test, line, GFP_KERNEL);
	char **argv = kunit_kcalloc(test, MAX_WORDS, sizeof(*argv), GFP_KERNEL);
	struct dm_arg_set as;

	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_ASSERT_NOT_NULL(test, argv);
	as.argc = split(copy, argv);
	as.argv = argv;
	*error = NULL;
	return cowsnap_parse_params(&as, p, error);
}

static const struct args_case bad_lines[] = {
	{ "", "Not enough arguments" },
	{ "/dev/a /dev/b cow 8", "Not enough arguments" },
	{ "/dev/a /dev/b cow! 8 live", "Invalid mode" },
	{ "/dev/a /dev/b COWW 8 live", "Invalid mode" },
	{ "/dev/a /dev/b cow 4 live", "Invalid chunk size: expected" },
	{ "/dev/a /dev/b cow 4096 live", "Invalid chunk size: expected" },
	{ "/dev/a /dev/b cow 24 live", "Invalid chunk size: expected" },
	{ "/dev/a /dev/b cow 0 live", "Invalid chunk size: expected" },
	{ "/dev/a /dev/b cow 8k live", "Invalid chunk size: not" },
	{ "/dev/a /dev/b cow -8 live", "Invalid chunk size: not" },
	{ "/dev/a /dev/b row 8 both", "Invalid view" },
	{ "/dev/a /dev/b row 8 snap x", "Invalid number of feature" },
	{ "/dev/a /dev/b row 8 snap 9 a b c d e f g h i", "Invalid number of feature" },
	{ "/dev/a /dev/b cow 8 live 1 origin_ro", "Features origin_ro, error_if_full" },
	{ "/dev/a /dev/b cow 8 live 2 queue_if_full 5", "Features origin_ro, error_if_full" },
	{ "/dev/a /dev/b row 8 live 3 error_if_full queue_if_full 5",
	  "Features error_if_full and queue_if_full" },
	{ "/dev/a /dev/b row 8 live 1 queue_if_full", "Feature queue_if_full needs" },
	{ "/dev/a /dev/b row 8 live 2 queue_if_full 0", "Invalid queue_if_full" },
	{ "/dev/a /dev/b row 8 live 2 queue_if_full 3601", "Invalid queue_if_full" },
	{ "/dev/a /dev/b row 8 live 2 queue_if_full 1s", "Invalid queue_if_full" },
	{ "/dev/a /dev/b row 8 snap 2 transient", "Invalid number of feature" },
	{ "/dev/a /dev/b row 8 snap 1 bogus", "Unknown feature" },
	{ "/dev/a /dev/b row 8 snap 2 transient transient", "Feature argument given twice" },
	{ "/dev/a /dev/b row 8 snap 1 low_water", "Feature low_water needs" },
	{ "/dev/a /dev/b row 8 snap 2 low_water 0", "Invalid low_water" },
	{ "/dev/a /dev/b row 8 snap 2 low_water ten", "Invalid low_water" },
	{ "/dev/a /dev/b row 8 snap 2 transient reformat", "Features transient and reformat" },
	{ "/dev/a /dev/b row 8 snap 1 transient extra", "Too many arguments" },
	{ "/dev/a /dev/b row 8 snap 0 extra", "Too many arguments" },
};

static void args_bad_lines(struct kunit *test)
{
	struct cowsnap_params p;
	char *error;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_lines); i++) {
		int r = parse_line(test, bad_lines[i].line, &p, &error);

		KUNIT_EXPECT_EQ_MSG(test, r, -EINVAL, "line '%s'",
				    bad_lines[i].line);
		KUNIT_ASSERT_NOT_NULL_MSG(test, error, "line '%s'",
					  bad_lines[i].line);
		KUNIT_EXPECT_TRUE_MSG(test,
				      !strncmp(error, bad_lines[i].error,
					       strlen(bad_lines[i].error)),
				      "line '%s': error '%s', expected '%s'",
				      bad_lines[i].line, error,
				      bad_lines[i].error);
	}
}

static void args_minimal(struct kunit *test)
{
	struct cowsnap_params p;
	char *error;

	KUNIT_ASSERT_EQ(test, parse_line(test, "/dev/o /dev/s row 2048 snap",
					 &p, &error), 0);
	KUNIT_EXPECT_STREQ(test, p.origin_path, "/dev/o");
	KUNIT_EXPECT_STREQ(test, p.store_path, "/dev/s");
	KUNIT_EXPECT_EQ(test, p.mode, COWSNAP_MODE_ROW);
	KUNIT_EXPECT_EQ(test, p.view, COWSNAP_VIEW_SNAP);
	KUNIT_EXPECT_EQ(test, p.chunk_sectors, 2048U);
	KUNIT_EXPECT_EQ(test, p.chunk_shift, 11U);
	KUNIT_EXPECT_EQ(test, p.features, 0U);
}

static void args_features(struct kunit *test)
{
	struct cowsnap_params p;
	char *error;
	const char *line = "/dev/o /dev/s cow 8 live 3 low_water 100 TRANSIENT";

	KUNIT_ASSERT_EQ(test, parse_line(test, line, &p, &error), 0);
	KUNIT_EXPECT_EQ(test, p.features,
			COWSNAP_F_LOW_WATER | COWSNAP_F_TRANSIENT);
	KUNIT_EXPECT_EQ(test, p.low_water_chunks, 100ULL);
	KUNIT_ASSERT_EQ(test, parse_line(test, "/dev/o /dev/s cow 8 live 0",
					 &p, &error), 0);
	KUNIT_EXPECT_EQ(test, p.features, 0U);
}

static const char * const round_trip_lines[] = {
	"1:2 3:4 cow 8 live",
	"1:2 3:4 row 2048 snap",
	"1:2 3:4 cow 128 snap 1 transient",
	"1:2 3:4 row 16 live 1 reformat",
	"1:2 3:4 cow 64 live 2 low_water 1000",
	"1:2 3:4 cow 64 live 3 reformat low_water 18446744073709551615",
	"1:2 3:4 row 8 live 1 origin_ro",
	"1:2 3:4 row 8 live 1 error_if_full",
	"1:2 3:4 row 8 live 6 transient origin_ro queue_if_full 3600 low_water 5",
};

static void args_round_trip(struct kunit *test)
{
	char *buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct cowsnap_params p;
	char *error;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(round_trip_lines); i++) {
		KUNIT_ASSERT_EQ(test, parse_line(test, round_trip_lines[i],
						 &p, &error), 0);
		cowsnap_emit_table(&p, "1:2", "3:4", buf, 256);
		KUNIT_EXPECT_STREQ(test, buf, round_trip_lines[i]);
	}
}

static void args_emit_truncates(struct kunit *test)
{
	struct cowsnap_params p;
	char buf[12];
	char *error;

	KUNIT_ASSERT_EQ(test, parse_line(test, "1:2 3:4 cow 8 live 1 transient",
					 &p, &error), 0);
	KUNIT_EXPECT_EQ(test, cowsnap_emit_table(&p, "1:2", "3:4", buf,
						 sizeof(buf)), 11);
	KUNIT_EXPECT_STREQ(test, buf, "1:2 3:4 cow");
}

static struct kunit_case args_cases[] = {
	KUNIT_CASE(args_bad_lines),
	KUNIT_CASE(args_minimal),
	KUNIT_CASE(args_features),
	KUNIT_CASE(args_round_trip),
	KUNIT_CASE(args_emit_truncates),
	{}
};

static struct kunit_suite args_suite = {
	.name = "dm_cowsnap_args",
	.test_cases = args_cases,
};

/* ---- dm_cowsnap_chunk ---- */

static void chunk_conversions(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, cowsnap_sector_to_chunk(0, 3), 0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_sector_to_chunk(7, 3), 0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_sector_to_chunk(8, 3), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_sector_to_chunk(4095, 11), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_chunk_to_sector(5, 3), (sector_t)40);
	KUNIT_EXPECT_EQ(test, cowsnap_chunk_to_sector(1ULL << 40, 11),
			(sector_t)1 << 51);
	KUNIT_EXPECT_EQ(test, cowsnap_sector_in_chunk(13, 3), (sector_t)5);
	KUNIT_EXPECT_EQ(test, cowsnap_sector_in_chunk(2048, 11), (sector_t)0);
}

static void chunk_counts(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, cowsnap_nr_chunks(0, 3), 0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_nr_chunks(1, 3), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_nr_chunks(8, 3), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_nr_chunks(9, 3), 2ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_nr_chunks(2048 * 3 + 1, 11), 4ULL);
}

static void chunk_every_shift(struct kunit *test)
{
	u32 shift;

	for (shift = 3; shift <= 11; shift++) {
		sector_t s = ((sector_t)977 << shift) + 3;

		KUNIT_EXPECT_EQ(test, cowsnap_sector_to_chunk(s, shift), 977ULL);
		KUNIT_EXPECT_EQ(test, cowsnap_chunk_to_sector(977, shift) +
				cowsnap_sector_in_chunk(s, shift), s);
	}
}

static struct kunit_case chunk_cases[] = {
	KUNIT_CASE(chunk_conversions),
	KUNIT_CASE(chunk_counts),
	KUNIT_CASE(chunk_every_shift),
	{}
};

static struct kunit_suite chunk_suite = {
	.name = "dm_cowsnap_chunk",
	.test_cases = chunk_cases,
};

/* ---- dm_cowsnap_format ---- */

static void sample_sb(struct cowsnap_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->generation = 7;
	sb->version = COWSNAP_FORMAT_VERSION;
	memcpy(sb->uuid, "0123456789abcdef", 16);
	sb->mode = COWSNAP_DISK_MODE_ROW;
	sb->state = COWSNAP_DISK_STATE_VALID;
	sb->chunk_sectors = 64;
	sb->origin_sectors = 1 << 20;
	sb->store_sectors = 1 << 19;
	sb->snapshot_id = 1;
	sb->nr_snapshots = 1;
	sb->nr_exceptions = 12345;
	sb->metadata_blocks = 49;
}

static void *block_alloc(struct kunit *test)
{
	void *b = kunit_kzalloc(test, COWSNAP_BLOCK_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	return b;
}

static void format_sb_round_trip(struct kunit *test)
{
	void *b = block_alloc(test);
	struct cowsnap_sb in, out;
	char err[COWSNAP_ERRLEN];
	int r;

	sample_sb(&in);
	cowsnap_sb_encode(b, &in);
	KUNIT_ASSERT_EQ(test, cowsnap_sb_decode(b, &out, err), 0);
	KUNIT_EXPECT_MEMEQ(test, &in, &out, sizeof(in));
	r = cowsnap_sb_check_geometry(&out, COWSNAP_DISK_MODE_ROW, 64, 1 << 20,
				      err);
	KUNIT_EXPECT_EQ(test, r, 0);
}

static void format_sb_blank_and_foreign(struct kunit *test)
{
	u8 *b = block_alloc(test);
	struct cowsnap_sb sb;
	char err[COWSNAP_ERRLEN];

	KUNIT_EXPECT_EQ(test, cowsnap_sb_decode(b, &sb, err), -ENODATA);
	memcpy(b + 1080, "\x53\xef", 2);	/* an ext4 magic, say */
	KUNIT_EXPECT_EQ(test, cowsnap_sb_decode(b, &sb, err), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err, "bad magic"));
}

/* Corrupt one field, re-seal, and expect @want from decode. */
struct sb_corruption {
	const char *name;
	size_t offset;
	u32 value;
	bool reseal;
	int want;
	const char *msg;
};

static const struct sb_corruption sb_corruptions[] = {
	{ "csum", 0, 0xdeadbeef, false, -EILSEQ, "checksum mismatch" },
	{ "type", 4, COWSNAP_BT_EXCEPTIONS, true, -EINVAL, "bad block type" },
	{ "blocknr", 16, 3, true, -EBADMSG, "misplaced block" },
	{ "version", 32, 99, true, -EOPNOTSUPP, "unsupported format version" },
	{ "version0", 32, 0, true, -EOPNOTSUPP, "unsupported format version" },
	{ "incompat", 44, COWSNAP_FEATURE_INCOMPAT_MULTI_SNAP, true,
	  -EOPNOTSUPP, "unsupported incompat" },
	{ "mode", 64, 3, true, -EBADMSG, "superblock mode" },
	{ "state", 68, 9, true, -EBADMSG, "superblock state" },
	{ "reason", 72, 42, true, -EBADMSG, "superblock invalid reason" },
	{ "chunk", 76, 12, true, -EBADMSG, "superblock chunk size" },
	{ "chunk4096", 76, 4096, true, -EBADMSG, "superblock chunk size" },
	{ "snapid", 96, 2, true, -EBADMSG, "superblock snapshot id" },
	{ "payload", 200, 1, false, -EILSEQ, "checksum mismatch" },
	{ "tail", 4092, 1, false, -EILSEQ, "checksum mismatch" },
};

static void format_sb_corruptions(struct kunit *test)
{
	u8 *b = block_alloc(test);
	struct cowsnap_sb in, out;
	char err[COWSNAP_ERRLEN];
	size_t i;

	sample_sb(&in);
	for (i = 0; i < ARRAY_SIZE(sb_corruptions); i++) {
		const struct sb_corruption *c = &sb_corruptions[i];
		__le32 v = cpu_to_le32(c->value);
		int r;

		cowsnap_sb_encode(b, &in);
		memcpy(b + c->offset, &v, sizeof(v));
		if (c->reseal)
			header_seal(b, COWSNAP_SB_CSUM_SEED);
		r = cowsnap_sb_decode(b, &out, err);
		KUNIT_EXPECT_EQ_MSG(test, r, c->want, "corruption %s", c->name);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(err, c->msg),
					  "corruption %s: '%s'", c->name, err);
	}
}

static void format_sb_geometry(struct kunit *test)
{
	const u32 row = COWSNAP_DISK_MODE_ROW;
	struct cowsnap_sb sb;
	char err[COWSNAP_ERRLEN];
	int r;

	sample_sb(&sb);
	r = cowsnap_sb_check_geometry(&sb, COWSNAP_DISK_MODE_COW, 64, 1 << 20,
				      err);
	KUNIT_EXPECT_EQ(test, r, -EINVAL);
	KUNIT_EXPECT_STREQ(test, err,
			   "store mode mismatch: table says cow, store holds row");
	r = cowsnap_sb_check_geometry(&sb, row, 8, 1 << 20, err);
	KUNIT_EXPECT_EQ(test, r, -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err, "chunk size mismatch"));
	r = cowsnap_sb_check_geometry(&sb, row, 64, 1 << 21, err);
	KUNIT_EXPECT_EQ(test, r, -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err, "origin size mismatch"));
}

static void format_seeds_differ(struct kunit *test)
{
	u8 *b = block_alloc(test);
	struct cowsnap_disk_exception e = {
		.origin_chunk = cpu_to_le64(1), .store_chunk = cpu_to_le64(2),
	};
	struct cowsnap_sb *sb = kunit_kzalloc(test, sizeof(*sb), GFP_KERNEL);
	char err[COWSNAP_ERRLEN];

	KUNIT_ASSERT_NOT_NULL(test, sb);
	cowsnap_eb_encode(b, COWSNAP_SB_BLOCKNR, 1, 5, 1, &e, 1);
	((struct cowsnap_disk_header *)b)->block_type =
		cpu_to_le32(COWSNAP_BT_SUPER);
	KUNIT_EXPECT_NE(test, cowsnap_block_csum(b, COWSNAP_SB_CSUM_SEED),
			cowsnap_block_csum(b, COWSNAP_EB_CSUM_SEED));
	/* Type forged to look like a superblock: the seed still rejects it. */
	header_seal(b, COWSNAP_EB_CSUM_SEED);
	KUNIT_EXPECT_EQ(test, cowsnap_sb_decode(b, sb, err), -EILSEQ);
}

static void format_eb_round_trip(struct kunit *test)
{
	struct cowsnap_disk_exception *e;
	struct cowsnap_disk_eb *d;
	u8 *b = block_alloc(test);
	char err[COWSNAP_ERRLEN];
	u32 i, n = COWSNAP_EB_MAX_ENTRIES;

	KUNIT_EXPECT_EQ(test, n, 253U);
	e = kunit_kcalloc(test, n, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	for (i = 0; i < n; i++) {
		e[i].origin_chunk = cpu_to_le64(i * 3);
		e[i].store_chunk = cpu_to_le64(i + 10);
	}
	KUNIT_EXPECT_EQ(test, cowsnap_eb_decode(b, 42, 77, err), -ENODATA);
	cowsnap_eb_encode(b, 42, 9, 77, 1, e, n);
	KUNIT_ASSERT_EQ(test, cowsnap_eb_decode(b, 42, 77, err), (int)n);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_decode(b, 42, 78, err), -ESTALE);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err, "earlier store"));
	d = (struct cowsnap_disk_eb *)b;
	KUNIT_EXPECT_MEMEQ(test, d->entries, e, n * sizeof(*e));
	KUNIT_EXPECT_EQ(test, cowsnap_eb_decode(b, 43, 77, err), -EBADMSG);
	d->nr_entries = cpu_to_le32(n + 1);
	header_seal(b, COWSNAP_EB_CSUM_SEED);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_decode(b, 42, 77, err), -EBADMSG);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err, "at most 253 fit"));
	b[100] ^= 1;
	KUNIT_EXPECT_EQ(test, cowsnap_eb_decode(b, 42, 77, err), -EILSEQ);
}

/*
 * An exception block is sealed in place from the running checksum of
 * its entries (appended one at a time to the block sealed before, as
 * the store does, with the powers the store computes once): the
 * checksum must be the one over the whole block, whatever the count,
 * and the block the one cowsnap_eb_encode() makes (crc32c's shift).
 */
static void format_eb_running_csum(struct kunit *test)
{
	struct cowsnap_disk_exception *e;
	u8 *b = block_alloc(test), *c = block_alloc(test);
	struct cowsnap_disk_eb *d = (struct cowsnap_disk_eb *)b;
	struct cowsnap_eb_powers *pw;
	char err[COWSNAP_ERRLEN];
	u32 i, nr, csum = 0;
	bool all = true;

	e = kunit_kcalloc(test, COWSNAP_EB_MAX_ENTRIES, sizeof(*e), GFP_KERNEL);
	pw = kunit_kzalloc(test, sizeof(*pw), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_NOT_NULL(test, pw);
	cowsnap_eb_powers_init(pw);
	for (i = 0; i < COWSNAP_EB_MAX_ENTRIES; i++) {
		e[i].origin_chunk = cpu_to_le64(0x0123456789abULL * (i + 1));
		e[i].store_chunk = cpu_to_le64(~0ULL - i);
	}
	for (nr = 0; nr <= COWSNAP_EB_MAX_ENTRIES; nr++) {
		if (nr) {
			d->entries[nr - 1] = e[nr - 1];
			csum = cowsnap_eb_entries_csum(csum, &e[nr - 1], 1);
		}
		cowsnap_eb_seal(b, 7 + nr, 1000 + nr, 0xfeedULL, 1, nr, csum,
				pw);
		cowsnap_eb_encode(c, 7 + nr, 1000 + nr, 0xfeedULL, 1, e, nr);
		all &= le32_to_cpu(((struct cowsnap_disk_header *)b)->csum) ==
		       cowsnap_block_csum(b, COWSNAP_EB_CSUM_SEED);
		all &= !memcmp(b, c, COWSNAP_BLOCK_SIZE);
	}
	KUNIT_EXPECT_TRUE(test, all);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_decode(b, 7 + COWSNAP_EB_MAX_ENTRIES,
						0xfeedULL, err),
			(int)COWSNAP_EB_MAX_ENTRIES);
}

/*
 * Run entries: the length rides in the top byte with INCOMPAT_RUNS; a
 * single chunk is encoded as in a store without it; without the flag a
 * set top byte is part of the (then out of range) origin chunk.
 */
static void format_entry_runs(struct kunit *test)
{
	const u32 runs = COWSNAP_FEATURE_INCOMPAT_RUNS;
	struct cowsnap_disk_exception e;
	u64 o, c;

	cowsnap_entry_encode(&e, 12345, 678, 1);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(e.origin_chunk), 12345ULL);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(e.store_chunk), 678ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_entry_decode(&e, 0, &o, &c), 1U);
	KUNIT_EXPECT_EQ(test, o, 12345ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_entry_decode(&e, runs, &o, &c), 1U);
	KUNIT_EXPECT_EQ(test, o, 12345ULL);
	KUNIT_EXPECT_EQ(test, c, 678ULL);

	cowsnap_entry_encode(&e, COWSNAP_CHUNK_MASK, 9, COWSNAP_RUN_MAX);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(e.origin_chunk), ~0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_entry_decode(&e, runs, &o, &c), 256U);
	KUNIT_EXPECT_EQ(test, o, COWSNAP_CHUNK_MASK);
	KUNIT_EXPECT_EQ(test, c, 9ULL);

	cowsnap_entry_encode(&e, 7, 3, 2);
	KUNIT_EXPECT_EQ(test, le64_to_cpu(e.origin_chunk), 7ULL | 1ULL << 56);
	KUNIT_EXPECT_EQ(test, cowsnap_entry_decode(&e, runs, &o, &c), 2U);
	KUNIT_EXPECT_EQ(test, o, 7ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_entry_decode(&e, 0, &o, &c), 1U);
	KUNIT_EXPECT_EQ(test, o, 7ULL | 1ULL << 56);
}

/* A store with INCOMPAT_RUNS decodes; one with an unknown flag does not. */
static void format_sb_runs_flag(struct kunit *test)
{
	struct cowsnap_sb *sb = kunit_kzalloc(test, sizeof(*sb), GFP_KERNEL);
	struct cowsnap_sb *got = kunit_kzalloc(test, sizeof(*got), GFP_KERNEL);
	u8 *b = block_alloc(test);
	char err[COWSNAP_ERRLEN];

	KUNIT_ASSERT_NOT_NULL(test, sb);
	KUNIT_ASSERT_NOT_NULL(test, got);
	sample_sb(sb);
	sb->incompat_flags = COWSNAP_FEATURE_INCOMPAT_RUNS;
	cowsnap_sb_encode(b, sb);
	KUNIT_EXPECT_EQ(test, cowsnap_sb_decode(b, got, err), 0);
	KUNIT_EXPECT_EQ(test, got->incompat_flags,
			(u32)COWSNAP_FEATURE_INCOMPAT_RUNS);
	sb->incompat_flags |= COWSNAP_FEATURE_INCOMPAT_MULTI_SNAP;
	cowsnap_sb_encode(b, sb);
	KUNIT_EXPECT_EQ(test, cowsnap_sb_decode(b, got, err), -EOPNOTSUPP);
	KUNIT_EXPECT_STREQ(test, err, "unsupported incompat features: 0x1");
}

static struct kunit_case format_cases[] = {
	KUNIT_CASE(format_sb_round_trip),
	KUNIT_CASE(format_sb_blank_and_foreign),
	KUNIT_CASE(format_sb_corruptions),
	KUNIT_CASE(format_sb_geometry),
	KUNIT_CASE(format_seeds_differ),
	KUNIT_CASE(format_eb_round_trip),
	KUNIT_CASE(format_eb_running_csum),
	KUNIT_CASE(format_entry_runs),
	KUNIT_CASE(format_sb_runs_flag),
	{}
};

static struct kunit_suite format_suite = {
	.name = "dm_cowsnap_format",
	.test_cases = format_cases,
};

/* ---- dm_cowsnap_layout ---- */

static void layout_small_chunks(struct kunit *test)
{
	struct cowsnap_layout l;

	cowsnap_layout_init(&l, 8);	/* 4 KiB: two metadata chunks */
	KUNIT_EXPECT_EQ(test, l.meta_chunks, 2U);
	KUNIT_EXPECT_EQ(test, l.pairs, 1U);
	KUNIT_EXPECT_EQ(test, l.data_chunks, 253ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_area_start(&l, 0), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_area_start(&l, 1), 256ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_blocknr(&l, 0, 0), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_blocknr(&l, 0, 1), 2ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_blocknr(&l, 1, 1), 257ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_chunk(&l, 0), 3ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_chunk(&l, 252), 255ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_chunk(&l, 253), 258ULL);
}

static void layout_large_chunks(struct kunit *test)
{
	struct cowsnap_layout l;

	cowsnap_layout_init(&l, 2048);	/* 1 MiB: 128 pairs in one chunk */
	KUNIT_EXPECT_EQ(test, l.meta_chunks, 1U);
	KUNIT_EXPECT_EQ(test, l.pairs, 128U);
	KUNIT_EXPECT_EQ(test, l.data_chunks, 128ULL * 253);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_blocknr(&l, 0, 0), 256ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_blocknr(&l, 127, 1), 256ULL + 255);
	KUNIT_EXPECT_EQ(test, cowsnap_eb_blocknr(&l, 128, 0),
			(1ULL + 1 + 128 * 253) * 256);
	KUNIT_EXPECT_EQ(test, cowsnap_data_chunk(&l, 0), 2ULL);
}

static void layout_inverse(struct kunit *test)
{
	static const u32 sizes[] = { 8, 16, 64, 2048 };
	struct cowsnap_layout l;
	u64 i, c;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		cowsnap_layout_init(&l, sizes[k]);
		for (i = 0; i < 3 * l.data_chunks; i += 97) {
			c = cowsnap_data_chunk(&l, i);
			KUNIT_EXPECT_EQ(test, cowsnap_data_index(&l, c), i);
		}
		KUNIT_EXPECT_EQ(test, cowsnap_data_index(&l, 0), (u64)-1);
		for (c = 1; c <= l.meta_chunks; c++)
			KUNIT_EXPECT_EQ(test, cowsnap_data_index(&l, c), (u64)-1);
	}
}

/* A run of data chunks ends where the area's data chunks end. */
static void layout_data_run(struct kunit *test)
{
	struct cowsnap_layout l;

	cowsnap_layout_init(&l, 8);	/* data chunks 3..255, 258..510 */
	KUNIT_EXPECT_TRUE(test, cowsnap_data_run(&l, 3, 1));
	KUNIT_EXPECT_TRUE(test, cowsnap_data_run(&l, 3, 253));
	KUNIT_EXPECT_FALSE(test, cowsnap_data_run(&l, 3, 254));
	KUNIT_EXPECT_TRUE(test, cowsnap_data_run(&l, 255, 1));
	KUNIT_EXPECT_FALSE(test, cowsnap_data_run(&l, 255, 2));
	KUNIT_EXPECT_FALSE(test, cowsnap_data_run(&l, 2, 1));
	KUNIT_EXPECT_FALSE(test, cowsnap_data_run(&l, 0, 1));
	KUNIT_EXPECT_TRUE(test, cowsnap_data_run(&l, 258, 253));
	cowsnap_layout_init(&l, 2048);	/* one metadata chunk, 128 * 253 data */
	KUNIT_EXPECT_TRUE(test, cowsnap_data_run(&l, 2, 256));
	KUNIT_EXPECT_TRUE(test, cowsnap_data_run(&l, 1 + 128 * 253 - 255, 256));
	KUNIT_EXPECT_FALSE(test, cowsnap_data_run(&l, 1 + 128 * 253 - 254, 256));
}

static void layout_capacity(struct kunit *test)
{
	struct cowsnap_layout l;

	cowsnap_layout_init(&l, 8);
	KUNIT_EXPECT_EQ(test, cowsnap_data_capacity(&l, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_capacity(&l, 3), 0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_capacity(&l, 4), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_capacity(&l, 256), 253ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_capacity(&l, 258), 253ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_data_capacity(&l, 259), 254ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_chunks_used(&l, 0), 1ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_chunks_used(&l, 1), 4ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_chunks_used(&l, 253), 256ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_chunks_used(&l, 254), 259ULL);
}

static struct kunit_case layout_cases[] = {
	KUNIT_CASE(layout_small_chunks),
	KUNIT_CASE(layout_large_chunks),
	KUNIT_CASE(layout_inverse),
	KUNIT_CASE(layout_data_run),
	KUNIT_CASE(layout_capacity),
	{}
};

static struct kunit_suite layout_suite = {
	.name = "dm_cowsnap_layout",
	.test_cases = layout_cases,
};

/* ---- dm_cowsnap_index ---- */

static int index_suite_init(struct kunit_suite *suite)
{
	return cowsnap_index_module_init();
}

static void index_suite_exit(struct kunit_suite *suite)
{
	cowsnap_index_module_exit();
}

static void index_insert_lookup(struct kunit *test)
{
	struct cowsnap_index ix;
	u64 store;

	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 1000), 0);
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup(&ix, 5, &store));
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, 5, 77), 0);
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup(&ix, 5, &store));
	KUNIT_EXPECT_EQ(test, store, 77ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, 5, 78), -EEXIST);
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup(&ix, 5, &store));
	KUNIT_EXPECT_EQ(test, store, 77ULL);
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup(&ix, 6, &store));
	KUNIT_EXPECT_EQ(test, ix.count, 1ULL);
	cowsnap_index_destroy(&ix);
}

static void index_draining(struct kunit *test)
{
	struct cowsnap_index ix;
	u64 store = 0;

	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 1000), 0);
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert_draining(&ix, 9, 42), 0);
	/* Found by a plain lookup, with the store chunk unmarked... */
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup(&ix, 9, &store));
	KUNIT_EXPECT_EQ(test, store, 42ULL);
	/* ...but not settled yet. */
	store = 0;
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup_settled(&ix, 9, &store));
	KUNIT_EXPECT_EQ(test, store, 0ULL);
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, 9, 43), -EEXIST);
	cowsnap_index_settle(&ix, 9);
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup_settled(&ix, 9, &store));
	KUNIT_EXPECT_EQ(test, store, 42ULL);
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup(&ix, 9, &store));
	KUNIT_EXPECT_EQ(test, store, 42ULL);
	/* Missing chunks are neither; settling one does nothing. */
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup_settled(&ix, 10, &store));
	cowsnap_index_settle(&ix, 10);
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup(&ix, 10, &store));
	/* A plain insert is settled at once. */
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, 11, 7), 0);
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup_settled(&ix, 11, &store));
	KUNIT_EXPECT_EQ(test, store, 7ULL);
	cowsnap_index_destroy(&ix);
}

static void index_many(struct kunit *test)
{
	struct cowsnap_index ix;
	u64 i, store;
	bool all = true;

	/* A small table: long chains must still find everything. */
	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 0), 0);
	KUNIT_EXPECT_EQ(test, ix.bits, 6U);
	for (i = 0; i < 20000; i++)
		KUNIT_ASSERT_EQ(test, cowsnap_index_insert(&ix, i * 3, i), 0);
	for (i = 0; i < 20000; i++)
		all &= cowsnap_index_lookup(&ix, i * 3, &store) && store == i;
	KUNIT_EXPECT_TRUE(test, all);
	for (i = 0; i < 20000; i++)
		all &= !cowsnap_index_lookup(&ix, i * 3 + 1, &store);
	KUNIT_EXPECT_TRUE(test, all);
	KUNIT_EXPECT_EQ(test, ix.count, 20000ULL);
	cowsnap_index_destroy(&ix);
}

/*
 * Entries allocated beforehand are inserted with interrupts off (as
 * from a bio's completion); a duplicate's entry is freed (kmemleak).
 */
static void index_insert_entry(struct kunit *test)
{
	struct cowsnap_exception *e1, *e2;
	struct cowsnap_index ix;
	unsigned long flags;
	u64 store = 0;
	int r1, r2;

	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 1000), 0);
	e1 = cowsnap_index_entry_alloc(GFP_NOWAIT);
	e2 = cowsnap_index_entry_alloc(GFP_NOWAIT);
	KUNIT_ASSERT_NOT_NULL(test, e1);
	KUNIT_ASSERT_NOT_NULL(test, e2);
	local_irq_save(flags);
	r1 = cowsnap_index_insert_entry(&ix, e1, 12, 34);
	r2 = cowsnap_index_insert_entry(&ix, e2, 12, 35);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, r1, 0);
	KUNIT_EXPECT_EQ(test, r2, -EEXIST);
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup_settled(&ix, 12, &store));
	KUNIT_EXPECT_EQ(test, store, 34ULL);
	KUNIT_EXPECT_EQ(test, ix.count, 1ULL);
	KUNIT_EXPECT_PTR_EQ(test, cowsnap_index_remove(&ix, 12), e1);
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup(&ix, 12, &store));
	cowsnap_index_free(e1);
	cowsnap_index_destroy(&ix);
}

/* Insert a run of @len chunks under the lock, as a row write's end does. */
static int insert_run(struct cowsnap_index *ix, u64 origin_chunk,
		      u64 store_chunk, u32 len)
{
	struct cowsnap_exception *e = cowsnap_index_entry_alloc(GFP_KERNEL);
	unsigned long flags;
	int r;

	if (!e)
		return -ENOMEM;
	flags = cowsnap_index_lock(ix);
	r = __cowsnap_index_insert_run(ix, e, origin_chunk, store_chunk, len);
	cowsnap_index_unlock(ix, flags);
	return r;
}

/* Whether chunks [@from, @to) map to @store on (or, if !@store, not at all). */
static bool maps_run(struct cowsnap_index *ix, u64 from, u64 to, u64 store)
{
	u64 c, got;
	bool ok = true;

	for (c = from; c < to; c++) {
		if (store)
			ok &= cowsnap_index_lookup(ix, c, &got) &&
			      got == store + (c - from) &&
			      cowsnap_index_lookup_settled(ix, c, &got) &&
			      got == store + (c - from);
		else
			ok &= !cowsnap_index_lookup(ix, c, &got);
	}
	return ok;
}

/*
 * Runs: every chunk of a run is found, none beside it; a run, a chunk
 * or another run over any of its chunks is refused (the entry freed);
 * singles and runs of one group live together; split keeps every
 * mapping; clear drops runs too (kmemleak).
 */
static void index_runs(struct kunit *test)
{
	const u64 g = COWSNAP_INDEX_GROUP, a = 2 * g, b = 3 * g;
	struct cowsnap_exception *e;
	struct cowsnap_index ix;
	u64 store;

	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 1 << 16), 0);
	KUNIT_EXPECT_EQ(test, ix.run_bits, 16U - COWSNAP_INDEX_GROUP_SHIFT);
	/* a whole group from a; ten chunks inside the next one */
	KUNIT_EXPECT_EQ(test, insert_run(&ix, a, 1000, g), 0);
	KUNIT_EXPECT_EQ(test, insert_run(&ix, b + 8, 5000, 10), 0);
	KUNIT_EXPECT_EQ(test, ix.runs, 2ULL);
	KUNIT_EXPECT_EQ(test, ix.count, g + 10);
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, a, a + g, 1000));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 8, b + 18, 5000));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, a - 8, a, 0));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b, b + 8, 0));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 18, b + g + 4, 0));
	/* the same group, apart: a single chunk and another run */
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, b + 18, 7), 0);
	KUNIT_EXPECT_EQ(test, insert_run(&ix, b + 19, 8, 2), 0);
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 18, b + 19, 7));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 19, b + 21, 8));
	/* overlaps: refused, nothing changes; a run never leaves its group */
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, b + 13, 9), -EEXIST);
	KUNIT_EXPECT_EQ(test, insert_run(&ix, b + 3, 9, 6), -EEXIST);
	KUNIT_EXPECT_EQ(test, insert_run(&ix, b + 17, 9, 1), -EEXIST);
	KUNIT_EXPECT_EQ(test, insert_run(&ix, b + 18, 9, 3), -EEXIST);
	KUNIT_EXPECT_EQ(test, ix.count, g + 13);
	KUNIT_EXPECT_EQ(test, ix.singles, 1ULL);
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 8, b + 18, 5000));
	KUNIT_EXPECT_TRUE(test, cowsnap_index_lookup(&ix, b + 20, &store));
	KUNIT_EXPECT_EQ(test, store, 9ULL);
	/* unmapped stretches: ended by a run or a single entry */
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, 0, g), (u32)g);
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, b, 8), 8U);
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, b, 30), 8U);
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, a + 22, 3), 0U);
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, b + 21, 43), 43U);
	KUNIT_EXPECT_EQ(test, cowsnap_index_insert(&ix, b + 38, 11), 0);
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, b + 21, 43), 17U);
	KUNIT_EXPECT_EQ(test, cowsnap_index_unmapped(&ix, b + 18, 5), 0U);
	KUNIT_EXPECT_EQ(test, ix.singles, 2ULL);
	/* split: the same mappings, single entries only */
	cowsnap_index_split_runs(&ix);
	KUNIT_EXPECT_EQ(test, ix.runs, 0ULL);
	KUNIT_EXPECT_EQ(test, ix.count, g + 14);
	KUNIT_EXPECT_EQ(test, ix.singles, g + 14);
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, a, a + g, 1000));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 8, b + 18, 5000));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 19, b + 21, 8));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b, b + 8, 0));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 21, b + 38, 0));
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, b + 39, b + 100, 0));
	e = cowsnap_index_remove(&ix, a + 22);
	KUNIT_EXPECT_NOT_NULL(test, e);
	KUNIT_EXPECT_FALSE(test, cowsnap_index_lookup(&ix, a + 22, &store));
	synchronize_rcu();
	cowsnap_index_free(e);
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, a + 23, a + g, 1023));
	/* clear with runs in the table */
	KUNIT_EXPECT_EQ(test, insert_run(&ix, g, 3000, g), 0);
	cowsnap_index_clear(&ix);
	KUNIT_EXPECT_EQ(test, ix.runs, 0ULL);
	KUNIT_EXPECT_TRUE(test, maps_run(&ix, 0, b + 100, 0));
	cowsnap_index_destroy(&ix);
}

/* Collect after a split: every chunk of every run, once. */
static void index_runs_collect(struct kunit *test)
{
	u64 origin[16], store[16], seen = 0;
	struct cowsnap_exception *removed[16];
	struct cowsnap_index ix;
	u32 pos = 0, n, i;
	bool ok = true;

	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 0), 0);
	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_EQ(test, insert_run(&ix, i * 64 + 3, i * 100, 40), 0);
	cowsnap_index_split_runs(&ix);
	while ((n = cowsnap_index_collect(&ix, &pos, origin, store, 16))) {
		for (i = 0; i < n; i++) {
			u64 run = origin[i] / 64, at = origin[i] % 64;

			ok &= at >= 3 && at < 43 &&
			      store[i] == run * 100 + at - 3;
			removed[i] = cowsnap_index_remove(&ix, origin[i]);
			ok &= !!removed[i];
		}
		synchronize_rcu();
		for (i = 0; i < n; i++)
			cowsnap_index_free(removed[i]);
		seen += n;
	}
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_EQ(test, seen, 320ULL);
	KUNIT_EXPECT_EQ(test, ix.count, 0ULL);
	cowsnap_index_destroy(&ix);
}

static void index_sizing(struct kunit *test)
{
	struct cowsnap_index ix;

	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 0), 0);
	KUNIT_EXPECT_EQ(test, ix.bits, 6U);
	KUNIT_EXPECT_EQ(test, ix.run_bits, 4U);
	cowsnap_index_destroy(&ix);
	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 1 << 16), 0);
	KUNIT_EXPECT_EQ(test, ix.bits, 16U);
	KUNIT_EXPECT_EQ(test, ix.run_bits, 16U - COWSNAP_INDEX_GROUP_SHIFT);
	cowsnap_index_destroy(&ix);
	KUNIT_ASSERT_EQ(test, cowsnap_index_init(&ix, 1ULL << 40), 0);
	KUNIT_EXPECT_EQ(test, ix.bits, 22U);
	KUNIT_EXPECT_EQ(test, ix.run_bits, 22U - COWSNAP_INDEX_GROUP_SHIFT);
	cowsnap_index_destroy(&ix);
	cowsnap_index_destroy(&ix);	/* twice is harmless */
}

static struct kunit_case index_cases[] = {
	KUNIT_CASE(index_insert_lookup),
	KUNIT_CASE(index_draining),
	KUNIT_CASE(index_many),
	KUNIT_CASE(index_insert_entry),
	KUNIT_CASE(index_runs),
	KUNIT_CASE(index_runs_collect),
	KUNIT_CASE(index_sizing),
	{}
};

static struct kunit_suite index_suite = {
	.name = "dm_cowsnap_index",
	.suite_init = index_suite_init,
	.suite_exit = index_suite_exit,
	.test_cases = index_cases,
};

kunit_test_suites(&args_suite, &chunk_suite, &format_suite, &layout_suite,
		  &index_suite);

MODULE_DESCRIPTION("KUnit tests for dm-cowsnap");
MODULE_LICENSE("GPL");
