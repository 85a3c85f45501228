/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-cowsnap: the exception store on its volume.
 *
 * The store owns the on-disk side: the superblock, the exception blocks
 * (written in ping-pong pairs, see cowsnap-format.h), the allocator of
 * data chunks, and commits.  It never touches a bio of a view.
 *
 * Locking: the allocator of data chunks has its own lock, so that
 * cowsnap_store_alloc() and cowsnap_store_free_chunks() may be called
 * from any context (map() included) and never block.  Every other
 * function that changes the store is called under the state's pass_lock
 * only (the worker, or map() doing a pass for a first write), or from
 * the constructor / destructor, when no pass runs: they are serialised
 * by that lock, and may block.  The counters read by
 * cowsnap_store_usage() are read with READ_ONCE().
 */
#ifndef COWSNAP_STORE_H
#define COWSNAP_STORE_H

#include <linux/types.h>
#include <linux/blkdev.h>

#include "cowsnap-format.h"

struct cowsnap_store;

struct cowsnap_store_params {
	struct block_device *bdev;
	const char *name;		/* for log messages */
	u32 mode;			/* enum cowsnap_disk_mode */
	u32 chunk_sectors;
	u64 origin_sectors;
	bool transient;			/* no metadata I/O at all */
	bool reformat;			/* format even a non-blank store */
	const char *origin_id;		/* recorded when formatting */
};

/* Called for each exception found on disk while opening. */
typedef int (*cowsnap_store_load_fn)(void *ctx, u64 origin_chunk,
				     u64 store_chunk);

/*
 * cowsnap_store_capacity() - data chunks a store on @bdev can hold with
 * chunks of @chunk_sectors (0: too small to be a store).  No I/O.
 */
u64 cowsnap_store_capacity(struct block_device *bdev, u32 chunk_sectors);

/*
 * cowsnap_store_open() - open the store: format a blank one (or any one
 * with @p->reformat), or read the superblock and every committed
 * exception of an existing one, calling @load for each.
 * Returns 0, or a negative error with a static message in *@error (the
 * details, with what was expected and found, go to the kernel log).
 */
int cowsnap_store_open(const struct cowsnap_store_params *p,
		       cowsnap_store_load_fn load, void *ctx,
		       struct cowsnap_store **out, char **error);

/*
 * cowsnap_store_close() - write the superblock's counters (unless the
 * store failed or is transient) and free everything.
 */
void cowsnap_store_close(struct cowsnap_store *st);

/* Whether the superblock says the snapshot is invalid, and why. */
bool cowsnap_store_invalid(struct cowsnap_store *st, u32 *reason);

/*
 * cowsnap_store_alloc() - take the next free data chunk.
 * Returns 0 and the chunk in *@chunk, or -ENOSPC.  Any context.
 */
int cowsnap_store_alloc(struct cowsnap_store *st, u64 *chunk);

/*
 * cowsnap_store_alloc_run() - take up to @n free data chunks in a row on
 * the store device.  Returns how many (0: none is free), the first in
 * *@chunk.  Any context.
 */
u32 cowsnap_store_alloc_run(struct cowsnap_store *st, u32 n, u64 *chunk);

/* Free data chunks left.  Any context. */
u64 cowsnap_store_free_chunks(struct cowsnap_store *st);

/*
 * cowsnap_store_add_run() - append the exceptions of @len chunks, in a
 * row from @origin_chunk on the origin and from @store_chunk on the
 * store, to the next commit.  A store with INCOMPAT_RUNS keeps them in
 * as few entries as it can, growing the last entry when the run carries
 * it on; others, one entry per chunk.  Returns 0, or the error of a
 * full tail block's write (the store then accepts no more commits).
 */
int cowsnap_store_add_run(struct cowsnap_store *st, u64 origin_chunk,
			  u64 store_chunk, u32 len);

/* cowsnap_store_add() - cowsnap_store_add_run() of one chunk. */
int cowsnap_store_add(struct cowsnap_store *st, u64 origin_chunk,
		      u64 store_chunk);

/*
 * cowsnap_store_commit() - make every exception added so far durable:
 * one REQ_PREFLUSH | REQ_FUA write per exception block touched (the
 * flush makes the copied data durable before the metadata that points
 * at it).  Returns 0 or the I/O error; after an error the store accepts
 * no more commits.
 */
int cowsnap_store_commit(struct cowsnap_store *st);

/*
 * cowsnap_store_invalidate() - record in the superblock that the
 * snapshot is invalid for @reason (best effort: the store may be what
 * failed).
 */
void cowsnap_store_invalidate(struct cowsnap_store *st, u32 reason);

/*
 * cowsnap_store_resize() - take a store device that grew into account.
 * Returns the number of chunks gained (0 if none).
 */
u64 cowsnap_store_resize(struct cowsnap_store *st);

/*
 * cowsnap_store_phase() - the superblock's state (enum
 * cowsnap_disk_state), and its operation and merge cursor and total.
 */
u32 cowsnap_store_phase(struct cowsnap_store *st, u32 *op, u64 *cursor,
			u64 *total);

/*
 * cowsnap_store_drop() - drop every exception at once (a new epoch makes
 * every exception block on disk stale) and free every data chunk.
 * One superblock write.  Returns 0 or the I/O error.
 */
int cowsnap_store_drop(struct cowsnap_store *st);

/*
 * cowsnap_store_begin_merge() - commit, then record that the store's
 * exceptions are being copied into the origin for @op, from the first.
 */
int cowsnap_store_begin_merge(struct cowsnap_store *st, u32 op);

/*
 * cowsnap_store_merge_advance() - record that the first @cursor
 * exceptions (in commit order) are in the origin.  The caller has made
 * the origin's copies durable first.
 */
int cowsnap_store_merge_advance(struct cowsnap_store *st, u64 cursor);

/* cowsnap_store_end() - record that the snapshot ended by @op. */
int cowsnap_store_end(struct cowsnap_store *st, u32 op);

/*
 * cowsnap_store_read_log() - read exceptions, a chunk each, from
 * position @pos (in commit order, counting chunks, as the merge cursor
 * does) to the end of the exception block holding it, at most @max.
 * Returns how many (0 at the end of the log), or a negative error.
 * Reading on from where the last call stopped reads one block; reading
 * from an earlier position walks the log from its start.  Persistent
 * stores only.
 */
int cowsnap_store_read_log(struct cowsnap_store *st, u64 pos,
			   u64 *origin_chunks, u64 *store_chunks, u32 max);

struct cowsnap_store_usage {
	u64 used_chunks;	/* superblock, metadata and data chunks in use */
	u64 total_chunks;
	u64 metadata_blocks;	/* superblock and exception-block copies */
	u64 exceptions;		/* committed */
};

void cowsnap_store_usage(struct cowsnap_store *st,
			 struct cowsnap_store_usage *u);

#endif /* COWSNAP_STORE_H */
