/* SPDX-License-Identifier: GPL-2.0-only
 *
 * The offline reader of a cowsnap store, for "cowsnap check" and
 * "cowsnap dump", and the fuzz target: the superblock, then every
 * exception block in the order the module's recovery reads them
 * (dm-cowsnap/cowsnap-store.c, recover()), with the same choice of the
 * copy that holds the latest version of each pair, and every check the
 * module makes on the way, plus two it does not need: no store chunk
 * used twice, and each store chunk inside the store.
 *
 * Pure: the store is read through a callback, so the same code runs on
 * a device, an image file and a fuzzer's buffer.  It allocates the list
 * of exceptions and nothing else.
 */
#ifndef CS_STORE_SCAN_H
#define CS_STORE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cowsnap-format.h"

/*
 * Read @len bytes at byte @offset of the store into @buf; the scan never
 * asks for bytes at or beyond @size (it reads those as zero itself).
 * Returns 0 or -errno.
 */
typedef int (*cs_store_read_fn)(void *ctx, uint64_t offset, void *buf,
				size_t len);

struct cs_store_reader {
	cs_store_read_fn read;
	void *ctx;
	uint64_t size;			/* bytes */
};

struct cs_exception {
	uint64_t origin_chunk;
	uint64_t store_chunk;
};

/* Longest problem description, with its NUL. */
#define CS_PROBLEM_LEN	256

struct cs_store_scan {
	/* the superblock */
	int sb_result;			/* cowsnap_sb_decode()'s */
	struct cowsnap_sb sb;		/* valid when sb_result == 0 */
	uint64_t store_chunks;		/* whole chunks on the store now */
	uint64_t origin_chunks;		/* chunks of the origin it names */
	uint64_t data_capacity;		/* data chunks that fit */
	uint64_t nonce;

	/* the exception blocks */
	uint64_t blocks;		/* exception blocks holding entries */
	uint64_t tail_eb;		/* the block being filled */
	uint64_t newer_copy_damaged;	/* pairs whose other copy was torn */
	uint64_t stale_copies;		/* copies of an earlier store or epoch */
	uint64_t entries;		/* entries read: a chunk, or a run */
	struct cs_exception *ex;	/* every exception, in commit order */
	size_t nr_ex;
	size_t cap_ex;			/* room in @ex */
	uint64_t data_used;		/* highest data index used, plus one */

	/*
	 * The first problem: 0, -EUCLEAN (the store is not a clean cowsnap
	 * store: @why says why), -EIO (a read failed) or -ENOMEM.  The scan
	 * stops at it; what was read before it is kept.
	 */
	int problem;
	char why[CS_PROBLEM_LEN];
};

/*
 * cs_store_scan() - read and check the store behind @rd into @s.
 * Returns s->problem.  cs_store_scan_free() must be called either way.
 */
int cs_store_scan(const struct cs_store_reader *rd, struct cs_store_scan *s);
void cs_store_scan_free(struct cs_store_scan *s);

/* Names of superblock values: cowsnap_disk_mode_name() and its kin in
 * cowsnap-format.h. */

/* @uuid as 8-4-4-4-12 hexadecimal digits into @buf (37 bytes). */
void cs_uuid_text(const uint8_t uuid[16], char *buf);

#endif /* CS_STORE_SCAN_H */
