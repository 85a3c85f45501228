// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host unit tests of the tool's pure code: crc32c, the on-disk format
 * shared with the module, number and size helpers, option values, table
 * building and parsing, the store safety policy, status parsing and the
 * text and JSON output.  Prints TAP; exits 1 if a test failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowsnap-format.h"
#include "json.h"
#include "output.h"
#include "plan.h"
#include "store-scan.h"
#include "dm.h"
#include "status-parse.h"
#include "table.h"
#include "util.h"
#include "tap.h"

/* ---- crc32c ---------------------------------------------------------- */

static void test_crc32c(void)
{
	unsigned char buf[32];
	unsigned int i;

	is_int(crc32c(~0U, "123456789", 9) ^ ~0U, 0xE3069283,
	       "crc32c: check value of \"123456789\"");
	memset(buf, 0, sizeof(buf));
	is_int(crc32c(~0U, buf, 32) ^ ~0U, 0x8A9136AA,
	       "crc32c: RFC 3720 vector, 32 zero bytes");
	memset(buf, 0xff, sizeof(buf));
	is_int(crc32c(~0U, buf, 32) ^ ~0U, 0x62A8AB43,
	       "crc32c: RFC 3720 vector, 32 bytes of 0xff");
	for (i = 0; i < 32; i++)
		buf[i] = i;
	is_int(crc32c(~0U, buf, 32) ^ ~0U, 0x46DD794E,
	       "crc32c: RFC 3720 vector, bytes 0..31");
	is_int(crc32c(0x12345678, buf, 0), 0x12345678,
	       "crc32c: no bytes, the seed comes back (no inversion)");
	is_int(crc32c(crc32c(7, buf, 13), buf + 13, 19), crc32c(7, buf, 32),
	       "crc32c: an update in two parts equals one update");
}

/* ---- on-disk format -------------------------------------------------- */

static void sample_sb(struct cowsnap_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->generation = 0x0102030405060708ULL;
	sb->version = COWSNAP_FORMAT_VERSION;
	sb->compat_flags = 0x10;
	sb->compat_ro_flags = 0;
	sb->incompat_flags = 0;
	memcpy(sb->uuid, "0123456789abcdef", 16);
	sb->mode = COWSNAP_DISK_MODE_ROW;
	sb->state = COWSNAP_DISK_STATE_INVALID;
	sb->invalid_reason = COWSNAP_REASON_STORE_FULL;
	sb->chunk_sectors = 64;
	sb->origin_sectors = 2097152;
	sb->store_sectors = 1048576;
	sb->snapshot_id = 1;
	sb->nr_snapshots = 1;
	sb->nr_exceptions = 12345;
	sb->metadata_blocks = 7;
}

static bool sb_equal(const struct cowsnap_sb *a, const struct cowsnap_sb *b)
{
	return a->generation == b->generation && a->version == b->version &&
	       a->compat_flags == b->compat_flags &&
	       a->compat_ro_flags == b->compat_ro_flags &&
	       a->incompat_flags == b->incompat_flags &&
	       !memcmp(a->uuid, b->uuid, 16) && a->mode == b->mode &&
	       a->state == b->state && a->invalid_reason == b->invalid_reason &&
	       a->chunk_sectors == b->chunk_sectors &&
	       a->origin_sectors == b->origin_sectors &&
	       a->store_sectors == b->store_sectors &&
	       a->snapshot_id == b->snapshot_id &&
	       a->nr_snapshots == b->nr_snapshots &&
	       a->nr_exceptions == b->nr_exceptions &&
	       a->metadata_blocks == b->metadata_blocks;
}

static uint32_t get_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_sb_round_trip(void)
{
	static unsigned char block[COWSNAP_BLOCK_SIZE];
	struct cowsnap_sb in, out;
	char err[COWSNAP_ERRLEN] = "", exp[COWSNAP_ERRLEN];
	size_t i;
	bool tail_zero = true;

	sample_sb(&in);
	cowsnap_sb_encode(block, &in);
	is_int(get_le32(block + 4), COWSNAP_BT_SUPER,
	       "format: block type at byte 4, little-endian");
	ok(!memcmp(block + 8, "cowsnap", 8), "format: magic reads \"cowsnap\"");
	for (i = sizeof(struct cowsnap_disk_sb); i < sizeof(block); i++)
		tail_zero &= !block[i];
	ok(tail_zero, "format: the rest of the superblock block is zero");
	is_int(get_le32(block), cowsnap_block_csum(block, COWSNAP_SB_CSUM_SEED),
	       "format: stored checksum is crc32c of bytes 4.. with the sb seed");
	is_int(cowsnap_sb_decode(block, &out, err), 0,
	       "format: encoded superblock decodes");
	ok(sb_equal(&in, &out), "format: every superblock field round-trips");
	is_int(cowsnap_sb_check_geometry(&out, COWSNAP_DISK_MODE_ROW, 64,
					 2097152, err), 0,
	       "format: geometry of the table it was made for matches");

	block[200] ^= 0x01;
	snprintf(exp, sizeof(exp), "checksum mismatch: expected %#x, found %#x",
		 cowsnap_block_csum(block, COWSNAP_SB_CSUM_SEED),
		 get_le32(block));
	is_int(cowsnap_sb_decode(block, &out, err), -EILSEQ,
	       "format: a flipped bit fails with -EILSEQ");
	is_str(err, exp, "format: checksum message says expected and found");
	block[200] ^= 0x01;
	block[0] ^= 0x80;
	is_int(cowsnap_sb_decode(block, &out, err), -EILSEQ,
	       "format: a corrupted checksum field fails with -EILSEQ");
	block[0] ^= 0x80;
	is_int(cowsnap_sb_decode(block, &out, err), 0,
	       "format: restored block decodes again");
}

static void test_sb_rejects(void)
{
	static unsigned char block[COWSNAP_BLOCK_SIZE];
	struct cowsnap_sb in, out;
	char err[COWSNAP_ERRLEN] = "";

	memset(block, 0, sizeof(block));
	is_int(cowsnap_sb_decode(block, &out, err), -ENODATA,
	       "format: an all-zero block is a blank store (-ENODATA)");
	is_str(err, "blank store: superblock is all zero",
	       "format: blank store message");

	sample_sb(&in);
	cowsnap_sb_encode(block, &in);
	memcpy(block + 8, "EXT4FS!!", 8);
	is_int(cowsnap_sb_decode(block, &out, err), -EINVAL,
	       "format: a foreign magic is not a cowsnap store (-EINVAL)");
	is_str(err, "bad magic: expected 0x70616e73776f63, found 0x2121534634545845",
	       "format: bad magic message");

	in.version = 2;
	cowsnap_sb_encode(block, &in);
	is_int(cowsnap_sb_decode(block, &out, err), -EOPNOTSUPP,
	       "format: a newer version is refused (-EOPNOTSUPP)");
	is_str(err, "unsupported format version: expected 1..1, found 2",
	       "format: version message");

	sample_sb(&in);
	in.chunk_sectors = 12;
	cowsnap_sb_encode(block, &in);
	is_int(cowsnap_sb_decode(block, &out, err), -EBADMSG,
	       "format: chunk size 12 is out of range (-EBADMSG)");
	is_str(err, "superblock chunk size out of range: 12",
	       "format: range message");

	sample_sb(&in);
	cowsnap_sb_encode(block, &in);
	cowsnap_sb_decode(block, &out, err);
	is_int(cowsnap_sb_check_geometry(&out, COWSNAP_DISK_MODE_ROW, 128,
					 2097152, err), -EINVAL,
	       "format: another chunk size does not match");
	is_str(err, "store chunk size mismatch: table says 128 sectors, store holds 64",
	       "format: geometry message");
}

static void test_eb(void)
{
	static unsigned char block[COWSNAP_BLOCK_SIZE];
	struct cowsnap_disk_exception e[3];
	const struct cowsnap_disk_eb *d = (const void *)block;
	char err[COWSNAP_ERRLEN] = "";
	const uint64_t nonce = 0x1122334455667788ULL;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		e[i].origin_chunk = cpu_to_le64(100 + i);
		e[i].store_chunk = cpu_to_le64(3 + i);
	}
	cowsnap_eb_encode(block, 5, 9, nonce, 1, e, 3);
	is_int(cowsnap_eb_decode(block, 5, nonce, err), 3,
	       "format: exception block decodes with its 3 entries");
	ok(!memcmp(d->entries, e, sizeof(e)),
	   "format: exception entries round-trip");
	is_int(cowsnap_eb_decode(block, 6, nonce, err), -EBADMSG,
	       "format: exception block read from the wrong place (-EBADMSG)");
	is_str(err, "misplaced block: expected location 6, found 5",
	       "format: misplaced block message");
	is_int(cowsnap_eb_decode(block, 5, nonce + 1, err), -ESTALE,
	       "format: exception block of an earlier store (-ESTALE)");
	block[300] ^= 0x10;
	is_int(cowsnap_eb_decode(block, 5, nonce, err), -EILSEQ,
	       "format: corrupted exception block (-EILSEQ)");
	is_int(cowsnap_sb_decode(block, &(struct cowsnap_sb){ 0 }, err), -EINVAL,
	       "format: an exception block is not a superblock");
}

/*
 * A block sealed in place as entries are appended, with the powers a
 * writer computes once, is the block cowsnap_eb_encode() makes with
 * crc32c's shift, and its checksum the one over the whole block, for
 * every count of entries.
 */
static void test_eb_seal_powers(void)
{
	static unsigned char sealed[COWSNAP_BLOCK_SIZE], made[COWSNAP_BLOCK_SIZE];
	static struct cowsnap_disk_exception e[COWSNAP_EB_MAX_ENTRIES];
	struct cowsnap_disk_eb *d = (void *)sealed;
	struct cowsnap_eb_powers pw;
	unsigned int nr, bad = 0;
	uint32_t csum = 0;

	cowsnap_eb_powers_init(&pw);
	for (nr = 0; nr < COWSNAP_EB_MAX_ENTRIES; nr++) {
		e[nr].origin_chunk = cpu_to_le64(0x0123456789abULL * (nr + 1));
		e[nr].store_chunk = cpu_to_le64(~0ULL - nr);
	}
	for (nr = 0; nr <= COWSNAP_EB_MAX_ENTRIES; nr++) {
		if (nr) {
			d->entries[nr - 1] = e[nr - 1];
			csum = cowsnap_eb_entries_csum(csum, &e[nr - 1], 1);
		}
		cowsnap_eb_seal(sealed, 7 + nr, 1000 + nr, 0xfeedULL, 1, nr,
				csum, &pw);
		cowsnap_eb_encode(made, 7 + nr, 1000 + nr, 0xfeedULL, 1, e, nr);
		if (memcmp(sealed, made, sizeof(made)) ||
		    le32_to_cpu(d->hdr.csum) !=
		    cowsnap_block_csum(sealed, COWSNAP_EB_CSUM_SEED))
			bad++;
	}
	is_int(bad, 0,
	       "format: blocks sealed in place with the powers are encode()'s, for every count of entries");
}

/* ---- util ------------------------------------------------------------ */

static void test_parse_u64(void)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "0x10", "1k", "18446744073709551616",
		"99999999999999999999",
	};
	uint64_t v = 0;
	size_t i;

	is_int(cs_parse_u64("0", &v), 0, "u64: 0 parses");
	ok(!cs_parse_u64("18446744073709551615", &v) && v == UINT64_MAX,
	   "u64: 2^64-1 parses");
	ok(!cs_parse_u64("007", &v) && v == 7, "u64: leading zeros are decimal");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(cs_parse_u64(bad[i], &v), -EINVAL, "u64: '%s' refused",
		       bad[i]);
}

static void test_human(void)
{
	static const struct {
		uint64_t bytes;
		const char *s;
	} t[] = {
		{ 0, "0B" }, { 512, "512B" }, { 1023, "1023B" },
		{ 1024, "1KiB" }, { 1536, "1.5KiB" }, { 1126, "1KiB" },
		{ 1127, "1.1KiB" }, { 1048575, "1023.9KiB" },
		{ 4089447, "3.9MiB" }, { 32 << 20, "32MiB" },
		{ 3ULL << 30, "3GiB" }, { 5ULL << 40, "5TiB" },
		{ 1ULL << 50, "1PiB" }, { UINT64_MAX, "15.9EiB" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		cs_human_size(t[i].bytes, buf, sizeof(buf));
		is_str(buf, t[i].s, "human size of %llu bytes",
		       (unsigned long long)t[i].bytes);
	}
}

static void test_percent(void)
{
	static const struct {
		uint64_t part, whole;
		const char *s;
	} t[] = {
		{ 0, 0, "-" }, { 0, 10, "0.0%" }, { 1, 3, "33.3%" },
		{ 2, 3, "66.6%" }, { 1, 1000, "0.1%" }, { 1, 1001, "0.0%" },
		{ 5, 5, "100.0%" }, { UINT64_MAX - 1, UINT64_MAX, "99.9%" },
		{ UINT64_MAX, UINT64_MAX, "100.0%" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		cs_percent(t[i].part, t[i].whole, buf, sizeof(buf));
		is_str(buf, t[i].s, "percent %llu/%llu",
		       (unsigned long long)t[i].part,
		       (unsigned long long)t[i].whole);
	}
}

/* ---- option values --------------------------------------------------- */

static void test_option_values(void)
{
	static const char *const bad_chunks[] = {
		"0", "4", "12", "4096", "", "8k", "-8", " 8", "1024.0",
	};
	char err[CS_ERRLEN] = "";
	enum cs_mode mode = CS_MODE_COW;
	unsigned int views = 0;
	uint32_t chunk = 0;
	uint64_t lw = 0, c;
	size_t i;
	bool all = true;

	ok(!cs_parse_mode("row", &mode, err) && mode == CS_MODE_ROW,
	   "mode: row");
	ok(!cs_parse_mode("cow", &mode, err) && mode == CS_MODE_COW,
	   "mode: cow");
	is_int(cs_parse_mode("COW", &mode, err), -EINVAL, "mode: COW refused");
	is_str(err, "invalid mode 'COW': expected cow or row", "mode: message");
	ok(!cs_parse_view("both", &views, err) && views == CS_VIEWS_BOTH,
	   "view: both");
	ok(!cs_parse_view("snap", &views, err) && views == CS_VIEWS_SNAP,
	   "view: snap");
	ok(!cs_parse_view("live", &views, err) && views == CS_VIEWS_LIVE,
	   "view: live");
	is_int(cs_parse_view("all", &views, err), -EINVAL, "view: all refused");
	is_str(err, "invalid view 'all': expected live, snap or both",
	       "view: message");
	for (c = 8; c <= 2048; c *= 2) {
		char s[8];

		snprintf(s, sizeof(s), "%llu", (unsigned long long)c);
		all &= !cs_parse_chunk(s, &chunk, err) && chunk == c;
	}
	ok(all, "chunk: every power of two from 8 to 2048 accepted");
	for (i = 0; i < ARRAY_SIZE(bad_chunks); i++)
		is_int(cs_parse_chunk(bad_chunks[i], &chunk, err), -EINVAL,
		       "chunk: '%s' refused", bad_chunks[i]);
	cs_parse_chunk("12", &chunk, err);
	is_str(err, "invalid chunk size '12': expected a power of two from 8 to 2048 sectors",
	       "chunk: message");
	ok(!cs_parse_low_water("100", &lw, err) && lw == 100, "low water: 100");
	is_int(cs_parse_low_water("0", &lw, err), -EINVAL,
	       "low water: 0 refused");
	is_str(err, "invalid low water mark '0': expected a number of chunks of at least 1",
	       "low water: message");
	is_int(cs_parse_low_water("ten", &lw, err), -EINVAL,
	       "low water: 'ten' refused");
}

static struct cs_table_opts opts(const char *origin, const char *store)
{
	struct cs_table_opts o;

	cs_table_opts_init(&o);
	o.origin = origin;
	o.store = store;
	return o;
}

static void test_check_opts(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");

	ok(o.mode == CS_MODE_COW && o.chunk_sectors == 8 &&
	   o.views == CS_VIEWS_LIVE && !o.f.low_water && !o.force,
	   "opts: defaults are cow, 8 sectors, live");
	is_int(cs_table_check_opts(&o, err), 0, "opts: both devices given");
	o = opts(NULL, "/dev/vdb");
	is_int(cs_table_check_opts(&o, err), -EINVAL, "opts: origin missing");
	is_str(err, "--origin is required", "opts: origin missing message");
	o = opts("/dev/vda", NULL);
	cs_table_check_opts(&o, err);
	is_str(err, "--store is required", "opts: store missing message");
	o = opts("", "/dev/vdb");
	cs_table_check_opts(&o, err);
	is_str(err, "the origin path is empty", "opts: empty path message");
	o = opts("/dev/vda", "/tmp/my store");
	is_int(cs_table_check_opts(&o, err), -EINVAL,
	       "opts: a path with a blank refused");
	is_str(err, "the store path contains white space, which a table line cannot hold",
	       "opts: blank path message");
	o = opts("/dev/vda", "/dev/vdb");
	o.f.transient = o.f.reformat = true;
	is_int(cs_table_check_opts(&o, err), -EINVAL,
	       "opts: transient with reformat refused");
	is_str(err, "--transient and --reformat exclude each other",
	       "opts: transient/reformat message");
}

static void test_same_device(void)
{
	struct stat a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.st_mode = b.st_mode = S_IFREG | 0644;
	a.st_dev = b.st_dev = 0x801;
	a.st_ino = b.st_ino = 42;
	ok(cs_same_device(&a, &b), "same device: one file (dev and inode)");
	b.st_ino = 43;
	ok(!cs_same_device(&a, &b), "same device: two files");
	a.st_mode = b.st_mode = S_IFBLK | 0660;
	a.st_rdev = b.st_rdev = 0x700;
	ok(cs_same_device(&a, &b),
	   "same device: two nodes of one block device (rdev)");
	b.st_rdev = 0x701;
	b.st_ino = a.st_ino;
	ok(!cs_same_device(&a, &b),
	   "same device: two block devices, even with one inode number");
	b.st_mode = S_IFREG | 0644;
	b.st_rdev = a.st_rdev;
	ok(!cs_same_device(&a, &b), "same device: a block device and a file");
}

/* ---- table lines ----------------------------------------------------- */

static struct cs_table_plan plan;

static void test_plan_lines(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");

	is_int(cs_table_plan_build(&o, 2048, 1024, &plan, err), 0,
	       "plan: defaults build");
	is_int(plan.nr_lines, 1, "plan: one line for the live view");
	is_str(plan.lines[0].line, "0 2048 cowsnap /dev/vda /dev/vdb cow 8 live",
	       "plan: default line");
	is_int(plan.store_chunks, 128, "plan: 1024 sectors are 128 chunks of 8");

	o.mode = CS_MODE_ROW;
	o.chunk_sectors = 2048;
	o.views = CS_VIEWS_BOTH;
	o.f.reformat = true;
	is_int(cs_table_plan_build(&o, 1000000, 6144, &plan, err), 0,
	       "plan: row, 2048, both, reformat builds");
	is_int(plan.nr_lines, 2, "plan: two lines for both views");
	is_str(plan.lines[0].line,
	       "0 1000000 cowsnap /dev/vda /dev/vdb row 2048 live 1 reformat",
	       "plan: live line first");
	is_str(plan.lines[1].line,
	       "0 1000000 cowsnap /dev/vda /dev/vdb row 2048 snap 1 reformat",
	       "plan: snap line second");

	o = opts("/dev/vda", "/dev/vdb");
	o.views = CS_VIEWS_SNAP;
	o.f.transient = true;
	o.f.low_water = 100;
	o.chunk_sectors = 64;
	cs_table_plan_build(&o, 4096, 4096, &plan, err);
	ok(plan.nr_lines == 1 && plan.lines[0].view == CS_VIEW_SNAP,
	   "plan: --view snap gives the snap line only");
	is_str(plan.lines[0].line,
	       "0 4096 cowsnap /dev/vda /dev/vdb cow 64 snap 3 transient low_water 100",
	       "plan: features in the target's order, counted in words");
	o.f.transient = false;
	o.f.low_water = 7;
	cs_table_plan_build(&o, 4096, 4096, &plan, err);
	is_str(plan.lines[0].line,
	       "0 4096 cowsnap /dev/vda /dev/vdb cow 64 snap 2 low_water 7",
	       "plan: low water alone is two words");
	o.f.reformat = true;
	o.f.low_water = 1;
	cs_table_plan_build(&o, 4096, 4096, &plan, err);
	is_str(plan.lines[0].line,
	       "0 4096 cowsnap /dev/vda /dev/vdb cow 64 snap 3 reformat low_water 1",
	       "plan: reformat then low water");
}

static void test_plan_sizes(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");

	is_int(cs_table_plan_build(&o, 2048, 24, &plan, err), 0,
	       "plan: a store of exactly 3 chunks is enough");
	is_int(cs_table_plan_build(&o, 2048, 23, &plan, err), -ENOSPC,
	       "plan: a store of 23 sectors is too small for 8-sector chunks");
	is_str(err, "store /dev/vdb is too small: 23 sectors hold 2 chunks of 8 sectors, at least 3 are needed",
	       "plan: store too small message");
	o.chunk_sectors = 2048;
	is_int(cs_table_plan_build(&o, 2048, 6143, &plan, err), -ENOSPC,
	       "plan: the minimum follows the chunk size");
	is_int(cs_table_plan_build(&o, 0, 6144, &plan, err), -ENOSPC,
	       "plan: an empty origin refused");
	is_str(err, "origin /dev/vda is empty: a table needs at least one sector",
	       "plan: empty origin message");
}

/* ---- store policy ---------------------------------------------------- */

static void store_probe(struct cs_store_probe *sp, enum cs_store_kind kind)
{
	memset(sp, 0, sizeof(*sp));
	sp->kind = kind;
	sp->sb.mode = COWSNAP_DISK_MODE_COW;
	sp->sb.chunk_sectors = 8;
	sp->sb.origin_sectors = 2048;
}

static void test_store_classify(void)
{
	struct cs_store_probe sp;

	ok(cs_store_classify(0, "", &sp) && sp.kind == CS_STORE_COWSNAP,
	   "classify: a valid superblock is a cowsnap store");
	ok(!cs_store_classify(-ENODATA, "blank", &sp) &&
	   sp.kind == CS_STORE_BLANK,
	   "classify: an all-zero block goes on to libblkid");
	ok(!cs_store_classify(-EINVAL, "bad magic", &sp) &&
	   sp.kind == CS_STORE_BLANK,
	   "classify: a foreign magic goes on to libblkid");
	ok(cs_store_classify(-EILSEQ, "checksum mismatch", &sp) &&
	   sp.kind == CS_STORE_BAD_COWSNAP &&
	   !strcmp(sp.why, "checksum mismatch"),
	   "classify: a bad checksum is a damaged cowsnap store");
	ok(cs_store_classify(-EOPNOTSUPP, "v2", &sp) &&
	   sp.kind == CS_STORE_BAD_COWSNAP,
	   "classify: a newer version is a cowsnap store this tool cannot use");
}

static void test_store_foreign(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");
	struct cs_store_probe sp;

	store_probe(&sp, CS_STORE_BLANK);
	is_int(cs_table_check_store(&o, 2048, &sp, err), 0,
	       "store: blank accepted");
	store_probe(&sp, CS_STORE_FOREIGN);
	strcpy(sp.type, "ext4");
	is_int(cs_table_check_store(&o, 2048, &sp, err), -EEXIST,
	       "store: ext4 refused (-EEXIST)");
	is_str(err, "store /dev/vdb holds a ext4 signature; use --force to overwrite it",
	       "store: signature message");
	sp.partition_table = true;
	strcpy(sp.type, "gpt");
	cs_table_check_store(&o, 2048, &sp, err);
	is_str(err, "store /dev/vdb holds a gpt partition table; use --force to overwrite it",
	       "store: partition table message");
	store_probe(&sp, CS_STORE_AMBIGUOUS);
	is_int(cs_table_check_store(&o, 2048, &sp, err), -EEXIST,
	       "store: several signatures refused");
	is_str(err, "store /dev/vdb holds several signatures; use --force to overwrite them",
	       "store: ambiguous message");
	o.force = true;
	is_int(cs_table_check_store(&o, 2048, &sp, err), 0,
	       "store: --force accepts several signatures");
	store_probe(&sp, CS_STORE_FOREIGN);
	is_int(cs_table_check_store(&o, 2048, &sp, err), 0,
	       "store: --force accepts a signature");
}

static void test_store_cowsnap(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");
	struct cs_store_probe sp;

	store_probe(&sp, CS_STORE_COWSNAP);
	is_int(cs_table_check_store(&o, 2048, &sp, err), 0,
	       "store: a cowsnap store of the same geometry is reused");
	o.chunk_sectors = 16;
	is_int(cs_table_check_store(&o, 2048, &sp, err), -ERANGE,
	       "store: another chunk size refused (-ERANGE)");
	is_str(err, "store /dev/vdb holds a cowsnap snapshot made for another table: store chunk size mismatch: table says 16 sectors, store holds 8",
	       "store: chunk mismatch message");
	o.force = true;
	is_int(cs_table_check_store(&o, 2048, &sp, err), -ERANGE,
	       "store: --force does not accept another geometry");
	o = opts("/dev/vda", "/dev/vdb");
	o.mode = CS_MODE_ROW;
	cs_table_check_store(&o, 2048, &sp, err);
	is_str(err, "store /dev/vdb holds a cowsnap snapshot made for another table: store mode mismatch: table says row, store holds cow",
	       "store: mode mismatch message");
	o.mode = CS_MODE_COW;
	cs_table_check_store(&o, 4096, &sp, err);
	is_str(err, "store /dev/vdb holds a cowsnap snapshot made for another table: store origin size mismatch: origin has 4096 sectors, store was made for 2048",
	       "store: origin size mismatch message");
	o.f.reformat = true;
	is_int(cs_table_check_store(&o, 2048, &sp, err), -EEXIST,
	       "store: --reformat over a cowsnap store refused");
	is_str(err, "store /dev/vdb holds a cowsnap snapshot that --reformat would overwrite; use --force to overwrite it",
	       "store: reformat message");
	o.f.reformat = false;
	o.f.transient = true;
	cs_table_check_store(&o, 2048, &sp, err);
	is_str(err, "store /dev/vdb holds a cowsnap snapshot that --transient would overwrite; use --force to overwrite it",
	       "store: transient message");
	o.force = true;
	is_int(cs_table_check_store(&o, 4096, &sp, err), 0,
	       "store: --transient --force accepted whatever the geometry");
}

static void test_store_damaged(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");
	struct cs_store_probe sp;

	store_probe(&sp, CS_STORE_BAD_COWSNAP);
	strcpy(sp.why, "checksum mismatch: expected 0x1, found 0x2");
	is_int(cs_table_check_store(&o, 2048, &sp, err), -EEXIST,
	       "store: a damaged cowsnap store refused");
	is_str(err, "store /dev/vdb holds a cowsnap superblock that does not validate (checksum mismatch: expected 0x1, found 0x2); use --force to overwrite it",
	       "store: damaged message");
	o.force = true;
	o.f.reformat = true;
	is_int(cs_table_check_store(&o, 2048, &sp, err), 0,
	       "store: --force accepts a damaged cowsnap store");
}

/* ---- kernel table parsing -------------------------------------------- */

static void test_table_parse(void)
{
	static const char *const bad[] = {
		"", "7:0", "7:0 7:1 cow 64", "7:0 7:1 xow 64 live",
		"7:0 7:1 cow 12 live", "7:0 7:1 cow 4096 live",
		"7:0 7:1 cow 64 view", "7:0 7:1 cow 64 live 2 transient",
		"7:0 7:1 cow 64 live 1 transient extra",
		"7:0 7:1 cow 64 live 2 low_water 0",
		"7:0 7:1 cow 64 live 2 transient transient",
		"7:0 7:1 cow 64 live 2 transient reformat",
		"7:0 7:1 cow 64 live 1 low_water",
		"7:0 7:1 cow 64 live 5 transient low_water 1 a b",
		"7:0 7:1 cow 64 live x", "7:0 7:1 cow 64 live 1 merge",
	};
	struct cs_table_params p;
	size_t i;

	is_int(cs_table_parse("253:0 253:1 cow 8 live", &p), 0,
	       "table parse: no features");
	ok(p.mode == CS_MODE_COW && p.chunk_sectors == 8 &&
	   p.view == CS_VIEW_LIVE && !p.f.transient && !p.f.reformat &&
	   !p.f.low_water, "table parse: fields of a plain line");
	is_int(cs_table_parse("7:0 7:1 row 2048 snap 3 transient low_water 100",
			      &p), 0, "table parse: canonical features");
	ok(p.mode == CS_MODE_ROW && p.chunk_sectors == 2048 &&
	   p.view == CS_VIEW_SNAP && p.f.transient && p.f.low_water == 100,
	   "table parse: fields with features");
	ok(!cs_table_parse("7:0 7:1 cow 64 snap 3 low_water 9 transient", &p) &&
	   p.f.transient && p.f.low_water == 9,
	   "table parse: features in any order, as the target accepts them");
	ok(!cs_table_parse("7:0 7:1 cow 64 live 1 REFORMAT", &p) && p.f.reformat,
	   "table parse: feature names ignore case, as in the target");
	is_int(cs_table_parse("7:0 7:1 cow 64 live 0", &p), 0,
	       "table parse: an empty feature group");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(cs_table_parse(bad[i], &p), -EPROTO,
		       "table parse: '%s' refused", bad[i]);
}

/* The ROW features of module 0.2, in the target's canonical order. */
static void test_table_row_features(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_params p;
	struct cs_features f = { 0 };
	char line[256];
	uint32_t secs;

	f.reformat = true;
	f.origin_ro = true;
	f.full = CS_FULL_QUEUE;
	f.queue_seconds = 30;
	f.low_water = 4;
	cs_table_line(line, sizeof(line), 100, "/dev/vda", "/dev/vdb",
		      CS_MODE_ROW, 8, CS_VIEW_LIVE, &f);
	is_str(line, "0 100 cowsnap /dev/vda /dev/vdb row 8 live 6 reformat origin_ro queue_if_full 30 low_water 4",
	       "row features: canonical order");
	is_int(cs_table_parse(line + strlen("0 100 cowsnap "), &p), 0,
	       "row features: the line parses back");
	ok(p.f.reformat && p.f.origin_ro && p.f.full == CS_FULL_QUEUE &&
	   p.f.queue_seconds == 30 && p.f.low_water == 4 &&
	   !strcmp(p.origin, "/dev/vda") && !strcmp(p.store, "/dev/vdb"),
	   "row features: every value comes back, devices too");
	memset(&f, 0, sizeof(f));
	f.full = CS_FULL_ERROR;
	cs_table_line(line, sizeof(line), 8, "a", "b", CS_MODE_ROW, 16,
		      CS_VIEW_SNAP, &f);
	is_str(line, "0 8 cowsnap a b row 16 snap 1 error_if_full",
	       "row features: error_if_full");
	is_int(cs_features_check(CS_MODE_COW, &f, err), -EINVAL,
	       "row features: error_if_full refused in cow mode");
	is_str(err, "--error-if-full needs mode row",
	       "row features: the message names the option");
	f.full = CS_FULL_DEFAULT;
	f.origin_ro = true;
	is_int(cs_features_check(CS_MODE_COW, &f, err), -EINVAL,
	       "row features: origin_ro refused in cow mode");
	is_int(cs_table_parse("a b cow 8 live 1 origin_ro", &p), -EPROTO,
	       "row features: a cow table with origin_ro does not parse");
	is_int(cs_table_parse("a b row 8 live 3 error_if_full queue_if_full 5",
			      &p), -EPROTO,
	       "row features: both full policies do not parse");
	is_int(cs_table_parse("a b row 8 live 2 queue_if_full 3601", &p),
	       -EPROTO, "row features: queue_if_full above 3600 refused");
	is_int(cs_table_parse("a b row 8 live 1 queue_if_full", &p), -EPROTO,
	       "row features: queue_if_full without seconds refused");
	ok(!cs_parse_queue_seconds("3600", &secs, err) && secs == 3600,
	   "row features: 3600 seconds accepted");
	is_int(cs_parse_queue_seconds("0", &secs, err), -EINVAL,
	       "row features: 0 seconds refused");
	is_str(err, "invalid queue time '0': expected 1 to 3600 seconds",
	       "row features: queue time message");
}

static void test_table_round_trip(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");
	struct cs_table_params p;
	const char *prefix = "0 4096 cowsnap ";

	o.mode = CS_MODE_ROW;
	o.chunk_sectors = 128;
	o.views = CS_VIEWS_SNAP;
	o.f.transient = true;
	o.f.low_water = 55;
	cs_table_plan_build(&o, 4096, 8192, &plan, err);
	ok(!strncmp(plan.lines[0].line, prefix, strlen(prefix)),
	   "round trip: line starts with start, length and target");
	is_int(cs_table_parse(plan.lines[0].line + strlen(prefix), &p), 0,
	       "round trip: a built line parses");
	ok(p.mode == o.mode && p.chunk_sectors == o.chunk_sectors &&
	   p.view == CS_VIEW_SNAP && p.f.transient && !p.f.reformat &&
	   p.f.low_water == 55, "round trip: every value comes back");
}

/* ---- status parsing -------------------------------------------------- */

static void test_status_states(void)
{
	struct cs_status st;

	is_int(cs_status_parse("cow live passthrough 0 1024 0 -", &st), 0,
	       "status: passthrough line");
	ok(st.mode == CS_MODE_COW && st.view == CS_VIEW_LIVE &&
	   st.state == CS_STATE_PASSTHROUGH &&
	   !strcmp(st.state_name, "passthrough") && st.used_chunks == 0 &&
	   st.total_chunks == 1024 && st.metadata_blocks == 0 &&
	   st.reason[0] == '\0' && st.extra_words == 0,
	   "status: passthrough fields");
	is_int(cs_status_parse("row snap valid 10 100 2 -", &st), 0,
	       "status: valid line");
	ok(st.mode == CS_MODE_ROW && st.view == CS_VIEW_SNAP &&
	   st.state == CS_STATE_VALID && st.used_chunks == 10 &&
	   st.total_chunks == 100 && st.metadata_blocks == 2,
	   "status: valid fields");
	is_int(cs_status_parse("cow snap invalid 100 100 5 store_full", &st), 0,
	       "status: invalid line");
	ok(st.state == CS_STATE_INVALID && !strcmp(st.reason, "store_full"),
	   "status: invalid state and its reason");
	is_int(cs_status_parse("cow live sleeping 1 2 3 - - -", &st), 0,
	       "status: an unknown state is not an error");
	ok(st.state == CS_STATE_OTHER && !strcmp(st.state_name, "sleeping"),
	   "status: an unknown state is kept by name");
	is_int(cs_status_parse("cow live valid 1 2 3 - - - 42 future", &st), 0,
	       "status: words appended by a later target are accepted");
	is_int(st.extra_words, 2, "status: appended words are counted");
	ok(!cs_status_parse("  cow\tlive  valid 1 2 3 -\n", &st) &&
	   st.metadata_blocks == 3, "status: any blanks between words");
	ok(!cs_status_parse("cow live valid 18446744073709551615 18446744073709551615 18446744073709551615 -",
			    &st) && st.used_chunks == UINT64_MAX &&
	   st.metadata_blocks == UINT64_MAX, "status: 64-bit counts");
	ok(!cs_status_parse("cow live valid 0 0 0 -", &st) && !st.total_chunks,
	   "status: zero total chunks");
}

/* The 9-word status of module 0.2: every state, operation and progress. */
static void test_status_nine_words(void)
{
	static const struct {
		const char *line;
		enum cs_state state;
		enum cs_op op;
		bool progress;
	} cases[] = {
		{ "cow live valid 1 10 3 - - -", CS_STATE_VALID, CS_OP_NONE, false },
		{ "cow snap invalid 10 10 3 store_full - -", CS_STATE_INVALID, CS_OP_NONE, false },
		{ "cow live merging 5 10 3 - rollback 2/5", CS_STATE_MERGING, CS_OP_ROLLBACK, true },
		{ "row snap merging 5 10 3 - fold 0/5", CS_STATE_MERGING, CS_OP_FOLD, true },
		{ "cow live ended 1 10 3 - rollback 5/5", CS_STATE_ENDED, CS_OP_ROLLBACK, true },
		{ "cow live ended 1 10 3 - fold -", CS_STATE_ENDED, CS_OP_FOLD, false },
		{ "row live degraded 4 10 3 store_io_error - -", CS_STATE_DEGRADED, CS_OP_NONE, false },
		{ "row live full 10 10 3 store_full - -", CS_STATE_FULL, CS_OP_NONE, false },
		{ "row live valid 0 10 1 - squash -", CS_STATE_VALID, CS_OP_OTHER, false },
	};
	struct cs_status st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		is_int(cs_status_parse(cases[i].line, &st), 0,
		       "status 9 words: '%s' parses", cases[i].line);
		ok(st.has_operation && st.state == cases[i].state &&
		   st.op == cases[i].op && st.has_progress == cases[i].progress &&
		   !st.extra_words,
		   "status 9 words: state %s, operation %d", st.state_name,
		   cases[i].op);
	}
	cs_status_parse("cow live merging 5 10 3 - rollback 2/5", &st);
	ok(st.merged == 2 && st.to_merge == 5 &&
	   !strcmp(st.op_name, "rollback"), "status 9 words: progress values");
	cs_status_parse("cow live valid 1 10 3 -", &st);
	ok(!st.has_operation && st.op == CS_OP_NONE && !st.op_name[0],
	   "status: 7 words of an older module: no operation");
	is_int(cs_status_parse("cow live merging 5 10 3 - rollback", &st),
	       -EPROTO, "status: an operation without progress refused");
	is_int(cs_status_parse("cow live merging 5 10 3 - fold 6/5", &st),
	       -EPROTO, "status: progress beyond its total refused");
	is_int(cs_status_parse("cow live merging 5 10 3 - fold 2", &st),
	       -EPROTO, "status: progress without a slash refused");
	is_int(cs_status_parse("cow live merging 5 10 3 - fold 2/x", &st),
	       -EPROTO, "status: progress that is not a number refused");
	is_int(cs_status_parse("cow live merging 5 10 3 - fold /", &st),
	       -EPROTO, "status: an empty progress refused");
	is_str(cs_state_name(CS_STATE_DEGRADED), "degraded",
	       "status: state names");
}

static void test_status_garbage(void)
{
	static const char *const bad[] = {
		"", "   ", "hello world", "cow live", "cow live valid",
		"cow live valid 1 2 3", "moo live valid 1 2 3 -",
		"COW live valid 1 2 3 -", "cow dead valid 1 2 3 -",
		"cow live valid x 2 3 -", "cow live valid -1 2 3 -",
		"cow live valid 1 2 +3 -", "cow live valid 1 2 0x3 -",
		"cow live valid 1 18446744073709551616 3 -",
		"cow live valid 3 2 1 -",
		"cow live abcdefghijklmnopqrstuvwxyz0123456 1 2 3 -",
		"cow live val\x01id 1 2 3 -", "cow live valid 1 2 3 r\x7f",
		"cow live valid 1 2 3 abcdefghijklmnopqrstuvwxyz0123456",
		"0 2048 cowsnap cow live valid 1 2 3 -",
	};
	struct cs_status st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(cs_status_parse(bad[i], &st), -EPROTO,
		       "status garbage %zu refused", i + 1);
	cs_status_parse("cow live valid 1 2 3", &st);
	ok(st.used_chunks == 0 && st.total_chunks == 0 && !st.state_name[0],
	   "status: nothing half-parsed is left after an error");
	ok(!cs_status_parse("cow live abcdefghijklmnopqrstuvwxyz01234 1 2 3 -",
			    &st), "status: a 31-character state is kept");
}

/* ---- output ---------------------------------------------------------- */

/* Run @fn into a memory stream and return what it wrote (malloc'ed). */
#define CAPTURE(buf, call)						\
	do {								\
		size_t len_;						\
		FILE *f = open_memstream(&(buf), &len_);		\
		call;							\
		fclose(f);						\
	} while (0)

static void test_table_output(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_table_opts o = opts("/dev/vda", "/dev/vdb");
	char *out = NULL;

	o.views = CS_VIEWS_BOTH;
	o.f.low_water = 10;
	cs_table_plan_build(&o, 2048, 1024, &plan, err);
	CAPTURE(out, cs_print_table_text(f, &plan));
	is_str(out,
	       "0 2048 cowsnap /dev/vda /dev/vdb cow 8 live 2 low_water 10\n"
	       "0 2048 cowsnap /dev/vda /dev/vdb cow 8 snap 2 low_water 10\n",
	       "output: table text, live then snap");
	free(out);
	CAPTURE(out, cs_print_table_json(f, &plan));
	is_str(out,
	       "{\n"
	       "  \"origin\": \"/dev/vda\",\n"
	       "  \"origin_sectors\": 2048,\n"
	       "  \"store\": \"/dev/vdb\",\n"
	       "  \"store_sectors\": 1024,\n"
	       "  \"store_chunks\": 128,\n"
	       "  \"mode\": \"cow\",\n"
	       "  \"chunk_sectors\": 8,\n"
	       "  \"transient\": false,\n"
	       "  \"reformat\": false,\n"
	       "  \"low_water\": 10,\n"
	       "  \"origin_ro\": false,\n"
	       "  \"if_full\": \"default\",\n"
	       "  \"queue_seconds\": null,\n"
	       "  \"tables\": [\n"
	       "    {\n"
	       "      \"view\": \"live\",\n"
	       "      \"table\": \"0 2048 cowsnap /dev/vda /dev/vdb cow 8 live 2 low_water 10\"\n"
	       "    },\n"
	       "    {\n"
	       "      \"view\": \"snap\",\n"
	       "      \"table\": \"0 2048 cowsnap /dev/vda /dev/vdb cow 8 snap 2 low_water 10\"\n"
	       "    }\n"
	       "  ]\n"
	       "}\n", "output: table JSON");
	free(out);
}

static void test_json_escape(void)
{
	struct cs_json j;
	char *out = NULL;

	CAPTURE(out, {
		cs_json_init(&j, f);
		cs_json_open_object(&j, NULL);
		cs_json_string(&j, "s", "a\"b\\c\td\ne\x01");
		cs_json_string(&j, "n", NULL);
		cs_json_open_array(&j, "empty");
		cs_json_close_array(&j);
		cs_json_close_object(&j);
	});
	is_str(out,
	       "{\n"
	       "  \"s\": \"a\\\"b\\\\c\\td\\ne\\u0001\",\n"
	       "  \"n\": null,\n"
	       "  \"empty\": []\n"
	       "}\n", "output: JSON escaping, null and an empty array");
	free(out);
}

static void status_rows(struct cs_status_row *rows)
{
	static const struct {
		const char *name, *status;
		uint32_t chunk;
	} r[] = {
		{ "cs_live", "cow live passthrough 0 1024 0 -", 64 },
		{ "cs_snap", "cow snap invalid 1024 1024 3 store_full", 64 },
		{ "r", "row live merging 7 300 2 - fold 2/3", 8 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		rows[i].name = r[i].name;
		rows[i].length = 2048;
		rows[i].chunk_sectors = r[i].chunk;
		cs_status_parse(r[i].status, &rows[i].st);
	}
}

static void test_status_output(void)
{
	struct cs_status_row rows[3];
	char *out = NULL;

	status_rows(rows);
	CAPTURE(out, cs_print_status_text(f, rows, 3));
	is_str(out,
	       "NAME    MODE VIEW STATE       CHUNK USED         TOTAL          USE% REASON     OPERATION\n"
	       "cs_live cow  live passthrough 32KiB 0 (0B)       1024 (32MiB)   0.0% -          -\n"
	       "cs_snap cow  snap invalid     32KiB 1024 (32MiB) 1024 (32MiB) 100.0% store_full -\n"
	       "r       row  live merging     4KiB  7 (28KiB)    300 (1.1MiB)   2.3% -          fold 2/3 (66.6%)\n",
	       "output: status text, aligned columns");
	free(out);
	CAPTURE(out, cs_print_status_text(f, rows, 0));
	is_str(out, "", "output: status text prints nothing without devices");
	free(out);
	CAPTURE(out, cs_print_status_json(f, rows + 1, 1));
	is_str(out,
	       "{\n"
	       "  \"devices\": [\n"
	       "    {\n"
	       "      \"name\": \"cs_snap\",\n"
	       "      \"start\": 0,\n"
	       "      \"length\": 2048,\n"
	       "      \"mode\": \"cow\",\n"
	       "      \"view\": \"snap\",\n"
	       "      \"state\": \"invalid\",\n"
	       "      \"chunk_sectors\": 64,\n"
	       "      \"used_chunks\": 1024,\n"
	       "      \"total_chunks\": 1024,\n"
	       "      \"used_bytes\": 33554432,\n"
	       "      \"total_bytes\": 33554432,\n"
	       "      \"use_percent\": 100.0,\n"
	       "      \"metadata_blocks\": 3,\n"
	       "      \"invalid_reason\": \"store_full\",\n"
	       "      \"operation\": null,\n"
	       "      \"merged\": null,\n"
	       "      \"to_merge\": null,\n"
	       "      \"merge_percent\": null\n"
	       "    }\n"
	       "  ]\n"
	       "}\n", "output: status JSON");
	free(out);
	CAPTURE(out, cs_print_status_json(f, rows, 0));
	is_str(out, "{\n  \"devices\": []\n}\n",
	       "output: status JSON without devices");
	free(out);
}

static void test_status_output_edges(void)
{
	struct cs_status_row row;
	char *out = NULL;

	memset(&row, 0, sizeof(row));
	row.name = "z";
	row.chunk_sectors = 2048;
	cs_status_parse("cow live valid 0 0 0 -", &row.st);
	CAPTURE(out, cs_print_status_json(f, &row, 1));
	ok(out && strstr(out, "\"use_percent\": null,\n") &&
	   strstr(out, "\"invalid_reason\": null,\n"),
	   "output: no percent of zero chunks, no reason: null");
	free(out);
	cs_status_parse("cow live valid 1 18446744073709551615 0 -", &row.st);
	CAPTURE(out, cs_print_status_json(f, &row, 1));
	ok(out && strstr(out, "\"total_bytes\": null,\n") &&
	   strstr(out, "\"used_bytes\": 1048576,\n"),
	   "output: a size beyond 64 bits is null, not wrapped");
	free(out);
	CAPTURE(out, cs_print_status_text(f, &row, 1));
	ok(out && strstr(out, " 18446744073709551615 (?) "),
	   "output: a size beyond 64 bits shows as '?'");
	free(out);
}


/* ---- plans ----------------------------------------------------------- */

/* The steps of @p as "kind name" lines, each table on the next lines. */
static char *plan_text(const struct cs_plan *p)
{
	char *out = NULL;

	CAPTURE(out, cs_print_plan(f, p));
	return out;
}

static void test_plan_takeover(void)
{
	static struct cs_plan p, u;
	char err[CS_ERRLEN] = "";
	struct cs_create_req q = {
		.origin = "/dev/mapper/vg-lv", .store = "/dev/vdb",
		.mode = CS_MODE_ROW, .chunk_sectors = 16,
		.origin_sectors = 4096, .origin_dm = "vg-lv",
		.origin_table = "0 2048 linear 8:0 0\n2048 2048 linear 8:16 0",
	};
	char *out;

	is_int(cs_create_plan(&q, &p, err), 0, "takeover: plan built");
	out = plan_text(&p);
	is_str(out,
	       "create   vg-lv-real\n"
	       "load     vg-lv-real\n"
	       "         0 2048 linear 8:0 0\n"
	       "         2048 2048 linear 8:16 0\n"
	       "resume   vg-lv-real\n"
	       "create   vg-lv-snap\n"
	       "suspend  vg-lv\n"
	       "load     vg-lv\n"
	       "         0 4096 cowsnap /dev/mapper/vg-lv-real /dev/vdb row 16 live\n"
	       "load     vg-lv-snap (read-only)\n"
	       "         0 4096 cowsnap /dev/mapper/vg-lv-real /dev/vdb row 16 snap\n"
	       "resume   vg-lv\n"
	       "resume   vg-lv-snap\n",
	       "takeover: the origin's table moves to -real, the device keeps its name");
	free(out);
	ok(p.takeover && !strcmp(p.live, "vg-lv") &&
	   !strcmp(p.snap, "vg-lv-snap") && !strcmp(p.real, "vg-lv-real"),
	   "takeover: the names");
	ok(p.step[0].hidden && p.step[2].hidden && !p.step[3].hidden &&
	   !p.step[7].hidden && !p.step[8].hidden,
	   "takeover: only the -real device is hidden from udev's disk rules");
	cs_plan_undo(&p, p.nr - 1, &u);
	out = plan_text(&u);
	is_str(out,
	       "suspend  vg-lv\n"
	       "load     vg-lv\n"
	       "         0 2048 linear 8:0 0\n"
	       "         2048 2048 linear 8:16 0\n"
	       "resume   vg-lv\n"
	       "remove   vg-lv-snap\n"
	       "remove   vg-lv-real\n",
	       "undo after the origin was resumed: its old table goes back");
	free(out);
	cs_plan_undo(&p, 6, &u);	/* create, load, resume, create, suspend, load */
	out = plan_text(&u);
	is_str(out, "clear    vg-lv\nresume   vg-lv\nremove   vg-lv-snap\nremove   vg-lv-real\n",
	       "undo after the live table was loaded: cleared, resumed, removed");
	free(out);
	cs_plan_undo(&p, 0, &u);
	is_int(u.nr, 0, "undo of nothing is nothing");
	q.name = "x";
	q.snap_name = "y";
	q.mode = CS_MODE_COW;
	cs_create_plan(&q, &p, err);
	ok(!strcmp(p.live, "vg-lv") && !strcmp(p.real, "x-real") &&
	   !strcmp(p.snap, "y") && !p.step[8].read_only,
	   "takeover: --name names the hidden devices, the live view keeps the origin's name; cow snapshot view writable");
	q.live_only = true;
	cs_create_plan(&q, &p, err);
	ok(!*p.snap && p.nr == 6, "takeover of an ended store: no snapshot view");
}

static void test_plan_names(void)
{
	static struct cs_plan p;
	char err[CS_ERRLEN] = "";
	char longname[200];
	struct cs_create_req q = {
		.origin = "/dev/vda", .store = "/dev/vdb",
		.chunk_sectors = 8, .origin_sectors = 100,
	};

	is_int(cs_create_plan(&q, &p, err), -EINVAL, "plan: a plain origin needs a name");
	q.name = "a/b";
	is_int(cs_create_plan(&q, &p, err), -EINVAL, "plan: a name with a slash refused");
	is_str(err, "device name 'a/b' is not a file name", "plan: slash message");
	memset(longname, 'n', sizeof(longname));
	longname[123] = '\0';
	q.name = longname;
	is_int(cs_create_plan(&q, &p, err), -EINVAL,
	       "plan: a name whose -snap would be too long refused");
	q.name = "v";
	q.f.transient = true;
	is_int(cs_create_plan(&q, &p, err), 0, "plan: a plain origin");
	is_str(p.tables[p.step[1].table], "0 100 cowsnap /dev/vda /dev/vdb cow 8 live 1 transient",
	       "plan: features in the live table");
	ok(!p.takeover && !*p.real, "plan: no takeover, no hidden origin");
}

static void test_plan_remove(void)
{
	static struct cs_plan p, u;
	char err[CS_ERRLEN] = "";
	char *out;

	is_int(cs_remove_plan("vol", 8192, "253:4", "vol-snap", NULL, &p, err),
	       0, "remove plan: linear");
	out = plan_text(&p);
	is_str(out, "suspend  vol\nload     vol\n         0 8192 linear 253:4 0\n"
	       "resume   vol\nremove   vol-snap\n", "remove plan: steps");
	free(out);
	cs_plan_undo(&p, 4, &u);
	is_int(u.nr, 0, "remove plan: once the live view is resumed, nothing to undo");
	cs_plan_undo(&p, 2, &u);
	out = plan_text(&u);
	is_str(out, "clear    vol\nresume   vol\n", "remove plan: undo before the resume");
	free(out);
	cs_remove_plan("vol", 8192, "/dev/mapper/vol-real", "", "0 8192 linear 8:0 0",
		       &p, err);
	ok(p.nr == 4 && p.step[3].kind == CS_STEP_REMOVE &&
	   !strcmp(p.step[3].name, "vol-real") &&
	   !strcmp(p.tables[p.step[1].table], "0 8192 linear 8:0 0"),
	   "remove plan: the hidden origin's table goes back, then it goes");
}

static void test_create_store_policy(void)
{
	char err[CS_ERRLEN] = "";
	struct cs_store_probe sp = { 0 };
	struct cs_features f = { 0 };

	sp.kind = CS_STORE_BLANK;
	ok(!cs_create_check_store("s", &sp, false, &f, err) && !f.reformat,
	   "create store: blank used as it is");
	sp.kind = CS_STORE_COWSNAP;
	sp.sb.state = COWSNAP_DISK_STATE_ENDED;
	ok(!cs_create_check_store("s", &sp, false, &f, err) && f.reformat,
	   "create store: an ended snapshot is reformatted without --force");
	f.reformat = false;
	sp.sb.state = COWSNAP_DISK_STATE_MERGING;
	is_int(cs_create_check_store("s", &sp, false, &f, err), -EEXIST,
	       "create store: a merging snapshot refused");
	is_str(err, "store s holds a cowsnap snapshot that has not ended (state merging); use --force to overwrite it",
	       "create store: message");
	ok(!cs_create_check_store("s", &sp, true, &f, err) && f.reformat,
	   "create store: --force reformats");
	sp.kind = CS_STORE_FOREIGN;
	snprintf(sp.type, sizeof(sp.type), "xfs");
	f.reformat = false;
	is_int(cs_create_check_store("s", &sp, false, &f, err), -EEXIST,
	       "create store: xfs refused");
	is_str(err, "store s holds a xfs signature; use --force to overwrite it",
	       "create store: xfs message");
	f.transient = true;
	is_int(cs_create_check_store("s", &sp, true, &f, err), -EEXIST,
	       "create store: --transient needs a blank store, even with --force");
}

static void test_targets(void)
{
	struct cs_dm_targets t;
	char buf[256];

	is_int(cs_dm_parse_table("0 10 linear 8:0 0\n10 5 zero\n", &t), 0,
	       "targets: two lines parse");
	ok(t.nr == 2 && t.t[1].start == 10 && t.t[1].length == 5 &&
	   !strcmp(t.t[1].type, "zero") && !strcmp(t.t[1].params, "") &&
	   !strcmp(t.t[0].params, "8:0 0"), "targets: values");
	is_int(cs_dm_format_targets(&t, buf, sizeof(buf)), 0, "targets: format");
	is_str(buf, "0 10 linear 8:0 0\n10 5 zero", "targets: round trip");
	is_int(cs_dm_format_targets(&t, buf, 10), -ENAMETOOLONG,
	       "targets: a short buffer is an error");
	cs_dm_free_targets(&t);
	is_int(cs_dm_parse_table("", &t), -EINVAL, "targets: empty refused");
	is_int(cs_dm_parse_table("0 x linear", &t), -EINVAL, "targets: a bad length refused");
	is_int(cs_dm_parse_table("0 0 linear 8:0 0", &t), -EINVAL, "targets: a zero length refused");
}

/* ---- store reader ---------------------------------------------------- */

struct mem_store {
	unsigned char *img;
	size_t len;
	int fail_at;		/* block number whose read fails, or -1 */
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct mem_store *m = ctx;
	size_t i;

	if (m->fail_at >= 0 && off <= (uint64_t)m->fail_at * 4096 &&
	    off + len > (uint64_t)m->fail_at * 4096)
		return -EIO;
	for (i = 0; i < len; i++)
		((unsigned char *)buf)[i] = off + i < m->len ? m->img[off + i] : 0;
	return 0;
}

static void test_store_scan(void)
{
	static unsigned char img[64 * 4096];
	struct mem_store m = { img, sizeof(img), -1 };
	struct cs_store_reader rd = { mem_read, &m, sizeof(img) };
	struct cowsnap_disk_exception e[2];
	struct cs_store_scan sc;
	struct cowsnap_layout l;
	struct cowsnap_sb sb;

	sample_sb(&sb);
	sb.chunk_sectors = 8;
	sb.origin_sectors = 800;
	sb.state = COWSNAP_DISK_STATE_VALID;
	sb.invalid_reason = 0;
	cowsnap_sb_encode(img, &sb);
	cowsnap_layout_init(&l, 8);
	e[0].origin_chunk = htole64(7);
	e[0].store_chunk = htole64(cowsnap_data_chunk(&l, 0));
	e[1].origin_chunk = htole64(99);
	e[1].store_chunk = htole64(cowsnap_data_chunk(&l, 1));
	cowsnap_eb_encode(img + cowsnap_eb_blocknr(&l, 0, 1) * 4096,
			  cowsnap_eb_blocknr(&l, 0, 1), 5, cowsnap_sb_nonce(&sb),
			  1, e, 2);
	is_int(cs_store_scan(&rd, &sc), 0, "store scan: a clean store");
	ok(sc.nr_ex == 2 && sc.ex[1].origin_chunk == 99 && sc.blocks == 1 &&
	   sc.data_used == 2 && sc.store_chunks == 64 && sc.origin_chunks == 100,
	   "store scan: exceptions and counts");
	cs_store_scan_free(&sc);
	m.fail_at = (int)cowsnap_eb_blocknr(&l, 0, 0);
	is_int(cs_store_scan(&rd, &sc), -EIO, "store scan: a failed read is -EIO");
	ok(strstr(sc.why, "cannot read metadata block") != NULL,
	   "store scan: and names the block");
	cs_store_scan_free(&sc);
	m.fail_at = -1;
	rd.size = 2 * 4096;	/* the first pair does not fit */
	is_int(cs_store_scan(&rd, &sc), 0,
	       "store scan: a store too short for a block has no exception");
	ok(sc.nr_ex == 0, "store scan: none read");
	cs_store_scan_free(&sc);
	rd.size = 0;
	is_int(cs_store_scan(&rd, &sc), -EUCLEAN,
	       "store scan: an empty store reads as blank");
	cs_store_scan_free(&sc);
	is_str(cowsnap_disk_state_name(9), "unknown", "store scan: unknown state name");
}

int main(void)
{
	test_crc32c();
	test_sb_round_trip();
	test_sb_rejects();
	test_eb();
	test_eb_seal_powers();
	test_parse_u64();
	test_human();
	test_percent();
	test_option_values();
	test_check_opts();
	test_same_device();
	test_plan_lines();
	test_plan_sizes();
	test_store_classify();
	test_store_foreign();
	test_store_cowsnap();
	test_store_damaged();
	test_table_parse();
	test_table_row_features();
	test_table_round_trip();
	test_status_states();
	test_status_nine_words();
	test_status_garbage();
	test_table_output();
	test_json_escape();
	test_status_output();
	test_status_output_edges();
	test_plan_takeover();
	test_plan_names();
	test_plan_remove();
	test_create_store_policy();
	test_targets();
	test_store_scan();
	return tap_done();
}
