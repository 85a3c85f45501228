/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-cowsnap on-disk format, version 1.
 *
 * Declared once, here, and shared by the module and the userspace tool.
 * Everything on disk is little-endian and lives in 4 KiB metadata blocks
 * that start with struct cowsnap_disk_header: a crc32c (seeded per block
 * type, so a block of one type never validates as another), the block
 * type, a magic, the block's own location and a generation number.
 * Documentation/dm-cowsnap-format.rst describes every field and the
 * versioning rules.
 *
 * The functions declared below are pure: no I/O, no locks, no
 * allocation.  They may be called from any context.
 */
#ifndef COWSNAP_FORMAT_H
#define COWSNAP_FORMAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/build_bug.h>
#include <linux/bits.h>
#else
#include "kshim.h"
#endif

#define COWSNAP_BLOCK_SIZE		4096
#define COWSNAP_BLOCK_SHIFT		12
#define COWSNAP_BLOCK_SECTORS		8

/* "cowsnap\0" read as a little-endian 64-bit number */
#define COWSNAP_MAGIC			0x0070616e73776f63ULL

/* Format versions this code reads and writes. */
#define COWSNAP_FORMAT_VERSION_MIN	1
#define COWSNAP_FORMAT_VERSION_MAX	1
#define COWSNAP_FORMAT_VERSION		1

/* Location of the superblock, in metadata blocks. */
#define COWSNAP_SB_BLOCKNR		0

enum cowsnap_block_type {
	COWSNAP_BT_SUPER = 1,
	COWSNAP_BT_EXCEPTIONS = 2,
};

/* crc32c seeds, one per block type. */
#define COWSNAP_SB_CSUM_SEED		0x2b1a9c4dU
#define COWSNAP_EB_CSUM_SEED		0x71c3e5f2U

/*
 * Feature flags.  An unknown compat flag is ignored, an unknown compat_ro
 * flag makes the store read-only, an unknown incompat flag makes it
 * unusable.  Bit 0 of incompat is reserved for several snapshots of one
 * origin sharing one store.
 *
 * INCOMPAT_RUNS: an exception entry may stand for a run of up to
 * COWSNAP_RUN_MAX chunks, in a row on the origin and on the store; its
 * length less one is kept in the top byte of origin_chunk
 * (COWSNAP_RUN_SHIFT).  A store without it has one chunk per entry and a
 * zero top byte.  Every store the module formats has it.
 */
#define COWSNAP_FEATURE_INCOMPAT_MULTI_SNAP	BIT(0)
#define COWSNAP_FEATURE_INCOMPAT_RUNS		BIT(1)
#define COWSNAP_FEATURE_COMPAT_SUPP		0U
#define COWSNAP_FEATURE_COMPAT_RO_SUPP		0U
#define COWSNAP_FEATURE_INCOMPAT_SUPP		COWSNAP_FEATURE_INCOMPAT_RUNS

#define COWSNAP_RUN_SHIFT	56
#define COWSNAP_RUN_MAX		256U
#define COWSNAP_CHUNK_MASK	((1ULL << COWSNAP_RUN_SHIFT) - 1)

enum cowsnap_disk_mode {
	COWSNAP_DISK_MODE_COW = 1,
	COWSNAP_DISK_MODE_ROW = 2,
};

enum cowsnap_disk_state {
	COWSNAP_DISK_STATE_VALID = 1,
	COWSNAP_DISK_STATE_INVALID = 2,
	/* copying the store's chunks into the origin (operation says why) */
	COWSNAP_DISK_STATE_MERGING = 3,
	/* the snapshot is over: the origin alone holds the live view */
	COWSNAP_DISK_STATE_ENDED = 4,
};

/* The operation a MERGING store is carrying out, or that ENDED it. */
enum cowsnap_disk_operation {
	COWSNAP_DISK_OP_NONE = 0,
	COWSNAP_DISK_OP_ROLLBACK = 1,	/* live view := snapshot view */
	COWSNAP_DISK_OP_FOLD = 2,	/* snapshot ends, live data kept */
};

#define COWSNAP_ORIGIN_ID_LEN	64

enum cowsnap_invalid_reason {
	COWSNAP_REASON_NONE = 0,
	COWSNAP_REASON_STORE_FULL = 1,
	COWSNAP_REASON_STORE_IO_ERROR = 2,
	COWSNAP_REASON_METADATA_CORRUPT = 3,
};

/* Common header of every metadata block (32 bytes). */
struct cowsnap_disk_header {
	__le32 csum;		/* crc32c of bytes 4..4095, per-type seed */
	__le32 block_type;	/* enum cowsnap_block_type */
	__le64 magic;		/* COWSNAP_MAGIC */
	__le64 blocknr;		/* this block's own location */
	__le64 generation;	/* commit generation that wrote it */
} __packed;

/* The superblock, block 0 of the store (the rest of the block is zero). */
struct cowsnap_disk_sb {
	struct cowsnap_disk_header hdr;
	__le32 version;			/* format version */
	__le32 compat_flags;
	__le32 compat_ro_flags;
	__le32 incompat_flags;
	__u8 uuid[16];			/* identity of this store */
	__le32 mode;			/* enum cowsnap_disk_mode */
	__le32 state;			/* enum cowsnap_disk_state */
	__le32 invalid_reason;		/* enum cowsnap_invalid_reason */
	__le32 chunk_sectors;		/* power of two, 8..2048 */
	__le64 origin_sectors;		/* size of the origin it was made for */
	__le64 store_sectors;		/* store size last committed */
	__le32 snapshot_id;		/* 1 until multi-snapshot stores */
	__le32 nr_snapshots;		/* 1 until multi-snapshot stores */
	__le64 nr_exceptions;		/* exceptions committed */
	__le64 metadata_blocks;		/* metadata blocks in use */
	__le32 operation;		/* enum cowsnap_disk_operation */
	__le32 epoch;			/* bumped when every exception is dropped */
	__le64 merge_cursor;		/* exceptions merged, in commit order */
	__le64 merge_total;		/* exceptions to merge */
	char origin_id[COWSNAP_ORIGIN_ID_LEN];	/* NUL-padded, opaque */
	__u8 reserved[304];		/* zero */
} __packed;

/*
 * One exception entry: a chunk of the origin and where the store keeps
 * it, or (INCOMPAT_RUNS) a run of chunks from there: see
 * cowsnap_entry_decode().
 */
struct cowsnap_disk_exception {
	__le64 origin_chunk;	/* run length - 1 in bits 56..63 (runs) */
	__le64 store_chunk;
} __packed;

/*
 * An exception block: a header and up to COWSNAP_EB_MAX_ENTRIES entries,
 * in commit order.  store_nonce is the first 8 bytes of the superblock's
 * uuid (little-endian) plus its epoch: a block left over from an earlier
 * store on the same device, or from before the exceptions were dropped,
 * does not carry it and is ignored.
 */
struct cowsnap_disk_eb {
	struct cowsnap_disk_header hdr;
	__le32 snapshot_id;
	__le32 nr_entries;
	__le64 store_nonce;
	struct cowsnap_disk_exception entries[];
} __packed;

#define COWSNAP_EB_MAX_ENTRIES \
	((COWSNAP_BLOCK_SIZE - sizeof(struct cowsnap_disk_eb)) / \
	 sizeof(struct cowsnap_disk_exception))

static_assert(sizeof(struct cowsnap_disk_header) == 32);
static_assert(sizeof(struct cowsnap_disk_sb) == 512);
static_assert(sizeof(struct cowsnap_disk_exception) == 16);
static_assert(sizeof(struct cowsnap_disk_eb) == 48);

/* The superblock in CPU byte order. */
struct cowsnap_sb {
	u64 generation;
	u32 version;
	u32 compat_flags;
	u32 compat_ro_flags;
	u32 incompat_flags;
	u8 uuid[16];
	u32 mode;
	u32 state;
	u32 invalid_reason;
	u32 chunk_sectors;
	u64 origin_sectors;
	u64 store_sectors;
	u32 snapshot_id;
	u32 nr_snapshots;
	u64 nr_exceptions;
	u64 metadata_blocks;
	u32 operation;
	u32 epoch;
	u64 merge_cursor;
	u64 merge_total;
	char origin_id[COWSNAP_ORIGIN_ID_LEN];
};

/* Longest message the validators write, with its NUL. */
#define COWSNAP_ERRLEN	128

/*
 * cowsnap_block_csum() - checksum of a metadata block for its type's seed.
 */
u32 cowsnap_block_csum(const void *block, u32 seed);

/*
 * cowsnap_sb_encode() - fill @block (COWSNAP_BLOCK_SIZE bytes) with @sb,
 * zero padding and a checksum.
 */
void cowsnap_sb_encode(void *block, const struct cowsnap_sb *sb);

/*
 * cowsnap_sb_decode() - validate and decode a superblock read from block
 * COWSNAP_SB_BLOCKNR.
 *
 * Returns 0 and fills @sb, or a negative error with a message in @err
 * (COWSNAP_ERRLEN bytes) saying what was expected and what was found:
 *   -ENODATA	the block is all zero (a blank store)
 *   -EINVAL	not a cowsnap store (foreign magic or block type)
 *   -EILSEQ	checksum mismatch
 *   -EBADMSG	a field is out of range, or the block is not where it says
 *   -EOPNOTSUPP	format version or incompat feature not supported
 */
int cowsnap_sb_decode(const void *block, struct cowsnap_sb *sb, char *err);

/*
 * cowsnap_sb_check_geometry() - compare a decoded superblock with a
 * table's mode, chunk size and origin size.  Returns 0 or -EINVAL with
 * a message in @err.
 */
int cowsnap_sb_check_geometry(const struct cowsnap_sb *sb, u32 mode,
			      u32 chunk_sectors, u64 origin_sectors,
			      char *err);

/* The nonce exception blocks carry: uuid bytes 0..7 plus the epoch. */
u64 cowsnap_sb_nonce(const struct cowsnap_sb *sb);

/*
 * cowsnap_eb_encode() - fill @block with an exception block holding
 * @nr entries (at most COWSNAP_EB_MAX_ENTRIES) from @e.
 */
void cowsnap_eb_encode(void *block, u64 blocknr, u64 generation, u64 nonce,
		       u32 snapshot_id, const struct cowsnap_disk_exception *e,
		       u32 nr);

/*
 * cowsnap_eb_entries_csum() - the crc32c of @nr exception entries,
 * appended to a running checksum @csum (0 for no entry yet).  A writer
 * that keeps it for its block's entries seals the block with
 * cowsnap_eb_seal() without reading every entry again.
 */
u32 cowsnap_eb_entries_csum(u32 csum, const struct cowsnap_disk_exception *e,
			    u32 nr);

/*
 * struct cowsnap_eb_powers - what sealing an exception block multiplies
 * its checksums by (x^(8 n) modulo crc32c's polynomial for n bytes of
 * zeros): over the bytes after the header, and over the zeros after
 * each count of entries.  crc32c's shift finds such a power by repeated
 * squaring, about fifteen products each time; with these a seal takes
 * two.  Computed once (cowsnap_eb_powers_init()) by a writer that seals
 * often.
 */
struct cowsnap_eb_powers {
	u32 after_head;
	u32 zeros[COWSNAP_EB_MAX_ENTRIES + 1];
};

void cowsnap_eb_powers_init(struct cowsnap_eb_powers *pw);

/*
 * cowsnap_eb_seal() - make @block, whose @nr entries are in place and
 * whose bytes after them are zero, the exception block written at
 * @blocknr, given cowsnap_eb_entries_csum(0, entries, @nr): only its
 * header is written (and read), not the entries and zeros.  So a writer
 * keeps its block's image and appends entries to it in place.  @pw may
 * be NULL (crc32c's shift then finds the powers).
 */
void cowsnap_eb_seal(void *block, u64 blocknr, u64 generation, u64 nonce,
		     u32 snapshot_id, u32 nr, u32 entries_csum,
		     const struct cowsnap_eb_powers *pw);

/*
 * cowsnap_eb_decode() - validate the exception block read from @blocknr
 * for the store whose nonce is @nonce.  Returns the number of entries,
 * or a negative error with a message in @err:
 *   -ENODATA	all zero (never written)
 *   -ESTALE	a valid block of an earlier store (another nonce)
 *   others	as for cowsnap_sb_decode()
 * The entries stay in @block, little-endian.
 */
int cowsnap_eb_decode(const void *block, u64 blocknr, u64 nonce, char *err);

/* One copy of an exception-block pair, as decoded. */
struct cowsnap_eb_copy {
	int r;			/* entries, or cowsnap_eb_decode()'s error */
	u64 generation;		/* from its header */
	char err[COWSNAP_ERRLEN];
};

/*
 * cowsnap_eb_pick() - the copy holding the latest version of an
 * exception block: 0 or 1; -ENODATA when neither copy was ever written
 * (or only torn, by a first write that crashed); -EILSEQ when both are
 * damaged (checksum or field errors).
 */
int cowsnap_eb_pick(const struct cowsnap_eb_copy c[2]);

/* Whether a decode error means a damaged block (not blank, not stale). */
bool cowsnap_eb_damaged(int r);

/*
 * cowsnap_entry_encode() - an entry for the @len chunks (1..COWSNAP_RUN_MAX)
 * from @origin_chunk (below 2^COWSNAP_RUN_SHIFT), kept from @store_chunk.
 * A run longer than one chunk needs INCOMPAT_RUNS.
 */
void cowsnap_entry_encode(struct cowsnap_disk_exception *e, u64 origin_chunk,
			  u64 store_chunk, u32 len);

/*
 * cowsnap_entry_decode() - the first origin and store chunks of entry @e
 * of a store with @incompat_flags, and how many chunks it stands for.
 * Without INCOMPAT_RUNS every entry is one chunk and its origin chunk all
 * 64 bits (a set top byte is out of any origin's bounds).
 */
u32 cowsnap_entry_decode(const struct cowsnap_disk_exception *e,
			 u32 incompat_flags, u64 *origin_chunk,
			 u64 *store_chunk);

/* Names of on-disk values ("unknown" when out of range). */
const char *cowsnap_disk_mode_name(u32 mode);
const char *cowsnap_disk_state_name(u32 state);
const char *cowsnap_op_name(u32 op);		/* "-" for none */
const char *cowsnap_reason_name(u32 reason);	/* "-" for none */

/*
 * Store layout.  Chunk 0 holds the superblock (metadata block 0) and
 * nothing else.  The rest of the store is a sequence of areas; an area is
 * meta_chunks metadata chunks holding `pairs` exception-block pairs,
 * followed by pairs * COWSNAP_EB_MAX_ENTRIES data chunks.  Exception
 * block j (counting from 0 over the whole store) is pair j % pairs of
 * area j / pairs; its two copies are consecutive metadata blocks, and
 * each commit writes the copy that does not hold the latest version, so
 * a torn write never loses a committed entry.  Data chunk i (counting
 * data chunks only) is chunk i % data_chunks of area i / data_chunks.
 */
struct cowsnap_layout {
	u32 chunk_sectors;
	u32 meta_chunks;	/* metadata chunks per area */
	u32 pairs;		/* exception-block pairs per area */
	u64 data_chunks;	/* data chunks per area */
};

void cowsnap_layout_init(struct cowsnap_layout *l, u32 chunk_sectors);

/* First chunk of area @area. */
u64 cowsnap_area_start(const struct cowsnap_layout *l, u64 area);

/* Metadata block of copy @copy (0 or 1) of exception block @eb. */
u64 cowsnap_eb_blocknr(const struct cowsnap_layout *l, u64 eb, u32 copy);

/* Store chunk of data chunk @index. */
u64 cowsnap_data_chunk(const struct cowsnap_layout *l, u64 index);

/*
 * Data index of store chunk @chunk, or -1 (as u64) when @chunk is the
 * superblock chunk or a metadata chunk.
 */
u64 cowsnap_data_index(const struct cowsnap_layout *l, u64 chunk);

/*
 * Whether the @len store chunks from @chunk are data chunks in a row
 * (one area's, with no metadata chunk among them).
 */
bool cowsnap_data_run(const struct cowsnap_layout *l, u64 chunk, u32 len);

/*
 * cowsnap_entry_check() - whether the run of @len chunks from
 * @origin_chunk on an origin of @origin_chunks chunks, kept from
 * @store_chunk, lies inside the origin and on data chunks in a row.
 * Returns 0, or -EBADMSG with a message in @err (COWSNAP_ERRLEN bytes).
 * The store device's size is not checked here.
 */
int cowsnap_entry_check(const struct cowsnap_layout *l, u64 origin_chunks,
			u64 origin_chunk, u64 store_chunk, u32 len, char *err);

/* Data chunks that fit in a store of @store_chunks chunks. */
u64 cowsnap_data_capacity(const struct cowsnap_layout *l, u64 store_chunks);

/* Store chunks used when @data data chunks are allocated (with metadata). */
u64 cowsnap_chunks_used(const struct cowsnap_layout *l, u64 data);

#endif /* COWSNAP_FORMAT_H */
