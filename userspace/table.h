/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dm-cowsnap table line, seen from userspace: option values, the
 * checks the tool makes before it prints a table, the line itself, and
 * the parser of the table the kernel reports back.
 *
 * Pure: nothing here opens, reads or prints anything, so the host tests
 * call every function directly.  Errors are -errno with a one-line
 * message in @err (CS_ERRLEN bytes):
 *   -EINVAL	a bad command line (exit code 1)
 *   -EBUSY	origin and store are the same device
 *   -ENOSPC	a device is too small
 *   -ENAMETOOLONG	a table line longer than CS_LINE_MAX
 *   -ERANGE	the store holds a cowsnap store made for another table
 *   -EEXIST	the store holds data that --force is needed to overwrite
 *   -EPROTO	a table reported by the kernel does not follow the grammar
 */
#ifndef CS_TABLE_H
#define CS_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cowsnap-format.h"

#define CS_TARGET_NAME		"cowsnap"
#define CS_MIN_CHUNK_SECTORS	8
#define CS_MAX_CHUNK_SECTORS	2048
#define CS_MIN_STORE_CHUNKS	3	/* superblock, metadata, data */
#define CS_SECTOR_SHIFT		9

/* Longest table line the tool prints, with its NUL. */
#define CS_LINE_MAX		(2 * 4096 + 128)

enum cs_mode {
	CS_MODE_COW,
	CS_MODE_ROW,
};

enum cs_view {
	CS_VIEW_LIVE,
	CS_VIEW_SNAP,
};

/* What a ROW live write does when the store is full. */
enum cs_full_policy {
	CS_FULL_DEFAULT,	/* no feature: the target's default (error) */
	CS_FULL_ERROR,		/* error_if_full */
	CS_FULL_QUEUE,		/* queue_if_full <seconds> */
};

#define CS_MAX_QUEUE_SECONDS	3600

/* Views requested with --view (live, snap or both). */
#define CS_VIEWS_LIVE	(1U << CS_VIEW_LIVE)
#define CS_VIEWS_SNAP	(1U << CS_VIEW_SNAP)
#define CS_VIEWS_BOTH	(CS_VIEWS_LIVE | CS_VIEWS_SNAP)

const char *cs_mode_name(enum cs_mode mode);
const char *cs_view_name(enum cs_view view);
/* "default", "error" or "queue". */
const char *cs_full_policy_name(enum cs_full_policy full);

/* Option values: 0 or -EINVAL with a message in @err. */
int cs_parse_mode(const char *s, enum cs_mode *mode, char *err);
int cs_parse_view(const char *s, unsigned int *views, char *err);
int cs_parse_chunk(const char *s, uint32_t *chunk_sectors, char *err);
int cs_parse_low_water(const char *s, uint64_t *chunks, char *err);
int cs_parse_queue_seconds(const char *s, uint32_t *seconds, char *err);
bool cs_chunk_valid(uint64_t chunk_sectors);

/*
 * The feature arguments of a table line, printed in the target's
 * canonical order: transient reformat origin_ro error_if_full |
 * queue_if_full <seconds> low_water <chunks>.
 */
struct cs_features {
	bool transient;
	bool reformat;
	bool origin_ro;			/* row only */
	enum cs_full_policy full;	/* row only */
	uint32_t queue_seconds;		/* CS_FULL_QUEUE: 1..3600 */
	uint64_t low_water;		/* chunks; 0: not given */
};

/* What the user asked "cowsnap table" for. */
struct cs_table_opts {
	const char *origin;
	const char *store;
	enum cs_mode mode;
	uint32_t chunk_sectors;
	unsigned int views;		/* CS_VIEWS_* */
	struct cs_features f;
	bool force;
	bool json;
};

/* The defaults: cow, 8 sectors, live view. */
void cs_table_opts_init(struct cs_table_opts *o);

/*
 * cs_table_check_opts() - the checks that need no device: both paths
 * given and usable in a table line, then cs_features_check().
 * Returns 0 or -EINVAL.
 */
int cs_table_check_opts(const struct cs_table_opts *o, char *err);

/*
 * cs_features_check() - transient and reformat not together; origin_ro
 * and a full policy only in mode row.  Returns 0 or -EINVAL.
 */
int cs_features_check(enum cs_mode mode, const struct cs_features *f,
		      char *err);

/*
 * cs_table_line() - "0 <sectors> cowsnap <origin> <store> <mode> <chunk>
 * <view> [<#features> <feature>...]" into @buf.  Returns its length or
 * -ENAMETOOLONG when it does not fit in @len bytes.
 */
int cs_table_line(char *buf, size_t len, uint64_t sectors, const char *origin,
		  const char *store, enum cs_mode mode, uint32_t chunk_sectors,
		  enum cs_view view, const struct cs_features *f);

/*
 * cs_same_device() - whether two stat results name one device: the same
 * st_rdev for two block devices, the same st_dev and st_ino otherwise.
 */
bool cs_same_device(const struct stat *a, const struct stat *b);

/*
 * cs_check_sizes() - a non-empty origin and a store of at least
 * CS_MIN_STORE_CHUNKS chunks: 0 or -ENOSPC.
 */
int cs_check_sizes(const char *origin, uint64_t origin_sectors,
		   const char *store, uint64_t store_sectors,
		   uint32_t chunk_sectors, char *err);

/* One line of output: the table of one view. */
struct cs_table_line {
	enum cs_view view;
	char line[CS_LINE_MAX];
};

/*
 * Everything "cowsnap table" prints, as text or as JSON: both outputs
 * are made from this struct only.
 */
struct cs_table_plan {
	const char *origin;
	const char *store;
	uint64_t origin_sectors;
	uint64_t store_sectors;
	uint64_t store_chunks;
	enum cs_mode mode;
	uint32_t chunk_sectors;
	struct cs_features f;
	unsigned int nr_lines;
	struct cs_table_line lines[2];	/* live first, then snap */
};

/*
 * cs_table_plan_build() - check the sizes (a non-empty origin, a store
 * of at least CS_MIN_STORE_CHUNKS chunks) and build one table line per
 * requested view.  @o must have passed cs_table_check_opts().  Returns 0,
 * -ENOSPC or -ENAMETOOLONG (a line longer than CS_LINE_MAX).
 */
int cs_table_plan_build(const struct cs_table_opts *o,
			uint64_t origin_sectors, uint64_t store_sectors,
			struct cs_table_plan *plan, char *err);

/* What the first block of the store holds. */
enum cs_store_kind {
	CS_STORE_BLANK,		/* neither cowsnap nor a known signature */
	CS_STORE_COWSNAP,	/* a valid cowsnap superblock, in @sb */
	CS_STORE_BAD_COWSNAP,	/* a cowsnap superblock that fails to validate */
	CS_STORE_FOREIGN,	/* a signature libblkid knows, in @type */
	CS_STORE_AMBIGUOUS,	/* several signatures libblkid knows */
};

struct cs_store_probe {
	enum cs_store_kind kind;
	struct cowsnap_sb sb;			/* CS_STORE_COWSNAP */
	char why[COWSNAP_ERRLEN];		/* CS_STORE_BAD_COWSNAP */
	char type[64];				/* CS_STORE_FOREIGN */
	bool partition_table;			/* @type is a PTTYPE */
};

/*
 * cs_store_classify() - turn the result of cowsnap_sb_decode() on the
 * store's first block into a probe result.  Returns false when the block
 * is not cowsnap's (blank or foreign magic) and libblkid should look.
 */
bool cs_store_classify(int decode_result, const char *why,
		       struct cs_store_probe *sp);

/*
 * cs_table_check_store() - the safety policy for what the store holds:
 *   blank                       accepted;
 *   a known signature           refused (-EEXIST) unless --force;
 *   a cowsnap store             with --reformat or --transient refused
 *                               (-EEXIST) unless --force; otherwise its
 *                               mode, chunk size and origin size must
 *                               match the table (-ERANGE, --force does
 *                               not help: the kernel would refuse it);
 *   a damaged cowsnap store     refused (-EEXIST) unless --force.
 */
int cs_table_check_store(const struct cs_table_opts *o,
			 uint64_t origin_sectors,
			 const struct cs_store_probe *sp, char *err);

/* A table reported by the kernel (DM_DEVICE_TABLE), parsed. */
struct cs_table_params {
	char origin[4096];
	char store[4096];
	enum cs_mode mode;
	enum cs_view view;
	uint32_t chunk_sectors;
	struct cs_features f;
};

/*
 * cs_table_parse() - parse the parameters of a cowsnap target, as
 * "dmsetup table" prints them after "<start> <len> cowsnap":
 *   <origin> <store> <cow|row> <chunk_sectors> <live|snap>
 *   [<#feature_args> <feature_arg>...]
 * Returns 0 or -EPROTO.
 */
int cs_table_parse(const char *params, struct cs_table_params *p);

#endif /* CS_TABLE_H */
