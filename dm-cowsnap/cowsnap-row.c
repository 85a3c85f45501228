// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: redirect-on-write mode.
 *
 * While the snapshot exists the origin is never written.
 *
 * Live view: a chunk with an exception is read from and written to its
 * store chunk; the others are read from the origin.  A first write to a
 * chunk takes a free store chunk:
 * - a write covering whole chunks is sent there from map() itself (no
 *   worker on the way), trimmed to a run of them in one group of
 *   COWSNAP_INDEX_GROUP chunks: the run is one pending exception, then
 *   one index entry; when the write ends, its end_io indexes the run
 *   before the bio completes, and leaves it to the worker to add to the
 *   next commit (one exception per chunk on disk);
 * - a smaller write is left to the worker, which first fills the store
 *   chunk with the origin chunk (a copy, cowsnap-copy.c), indexes the
 *   exception, then sends the write.
 * So a chunk is always whole in the store: a partial write never leaves
 * the rest of its chunk wrong.  Writes to a chunk being redirected wait
 * for it (they join its pending exception, under pending_lock).  Map
 * leaves to the worker whatever needs it: no memory without waiting, a
 * full store, a partial write, FUA to a chunk already redirected.
 *
 * Durability, as for dm-thin: an exception is added to the store's next
 * commit when its data is in the store; the commit happens at the next
 * REQ_PREFLUSH or REQ_FUA bio (before it completes), when an exception
 * block fills, on suspend and on teardown.
 *
 * Snapshot view: reads the origin; it is read-only (the constructor
 * refuses a writable table).
 *
 * Full store: the write that needs a new chunk fails with -ENOSPC
 * (error_if_full, the default) or waits up to queue_if_full seconds for
 * the store to grow.  A store I/O error degrades the state: writes fail
 * with -EIO, reads go on.
 */
#include <linux/jiffies.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

/* ---- map: never blocks, but in cowsnap_write_now() ---- */

static int park_bio(struct cowsnap_state *s, struct bio *bio)
{
	cowsnap_defer_bio(s, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * A read of the live view: a run of chunks never redirected is read
 * from the origin, a run of redirected chunks whose store chunks are in
 * a row from the store, each as one bio.
 */
static int row_map_read(struct cowsnap_state *s, struct bio *bio)
{
	u64 store_chunk;

	if (cowsnap_clip_run(s, bio, cowsnap_index_lookup, COWSNAP_RUN_FOUND |
			     COWSNAP_RUN_MISSING | COWSNAP_RUN_CONTIGUOUS,
			     &store_chunk))
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
	else
		bio_set_dev(bio, s->origin_bdev);
	return DM_MAPIO_REMAPPED;
}

/* What a first write to a chunk found (row_first_write()). */
enum row_claim {
	ROW_CLAIMED,	/* new exceptions, written whole: remapped */
	ROW_FILLING,	/* a new exception, filled first: the bio waits */
	ROW_JOINED,	/* the bio waits for the chunk's pending exception */
	ROW_BUSY,	/* the first chunk is pending: the worker joins it */
	ROW_MAPPED,	/* the chunk has its exception already */
	ROW_NO_SPACE,	/* no free store chunk */
};

/*
 * The most chunks one write claims at once: a run of them is one
 * pending exception, then one index entry; it never crosses a group.
 */
#define ROW_RUN_MAX	COWSNAP_INDEX_GROUP

/*
 * A pending exception with its index entry, or NULL (only if it may
 * not sleep).
 */
static struct cowsnap_pending *row_new_pending(struct cowsnap_state *s,
					       bool may_sleep)
{
	struct cowsnap_pending *p;

	p = cowsnap_alloc_pending(s, may_sleep ? GFP_NOIO : GFP_NOWAIT);
	if (!p)
		return NULL;
	p->entry = cowsnap_index_entry_alloc(may_sleep ? GFP_NOIO | __GFP_NOFAIL :
							 GFP_NOWAIT);
	if (!p->entry) {
		cowsnap_free_pending(s, p);
		return NULL;
	}
	return p;
}

/*
 * Make @p the pending exception of the *@n chunks from @chunk on (in
 * one group), with new store chunks in a row from *@store_chunk, as far
 * as the chunks are unclaimed and the store has room in a row (how many
 * in *@n); or say why not.  A single-chunk @bio that finds its chunk
 * pending (perhaps within a run) joins it.  A pending exception is
 * unhashed only once its exception is indexed, so a chunk with neither
 * has no exception.  Any context.
 */
static enum row_claim row_claim(struct cowsnap_state *s, struct bio *bio,
				u64 chunk, struct cowsnap_pending *p, u32 *n,
				u64 *store_chunk)
{
	enum row_claim r = ROW_CLAIMED;
	struct cowsnap_pending *other;
	unsigned long flags;
	u32 k;

	spin_lock_irqsave(&s->pending_lock, flags);
	other = __cowsnap_find_pending(s, chunk);
	if (other && *n == 1) {
		bio_list_add(&other->bios, bio);
		r = ROW_JOINED;
	} else if (other) {
		r = ROW_BUSY;
	} else if (cowsnap_index_lookup(&s->index, chunk, store_chunk)) {
		r = ROW_MAPPED;
	} else {
		k = 1 + __cowsnap_unclaimed_run(s, chunk + 1, *n - 1);
		*n = cowsnap_store_alloc_run(s->store, k, store_chunk);
		if (*n)
			__cowsnap_hash_run(s, p, chunk, *store_chunk, *n);
		else
			r = ROW_NO_SPACE;
	}
	spin_unlock_irqrestore(&s->pending_lock, flags);
	return r;
}

/*
 * Whole chunks @bio covers from its first one on, at most @max: none if
 * it starts inside a chunk or ends before the chunk does (the origin's
 * last chunk may be short).
 */
static u32 whole_chunks(struct cowsnap_state *s, struct bio *bio, u32 max)
{
	sector_t start = cowsnap_chunk_to_sector(cowsnap_bio_chunk(s, bio),
						 s->chunk_shift);

	if (bio->bi_iter.bi_sector != start)
		return 0;
	if (bio_end_sector(bio) == s->origin_sectors &&
	    bio_sectors(bio) < s->chunk_sectors)
		return 1;
	return min_t(sector_t, max, bio_sectors(bio) >> s->chunk_shift);
}

/* Trim @bio to @n chunks (it starts on a chunk boundary). */
static void clip_chunks(struct cowsnap_state *s, struct bio *bio, u32 n)
{
	sector_t len = cowsnap_chunk_to_sector(n, s->chunk_shift);

	if (bio_sectors(bio) > len)
		dm_accept_partial_bio(bio, len);
}

/*
 * A first write to the @n chunks from @chunk on (in one group), with
 * the pending exception @p (used or freed).  A write covering its chunks
 * (@whole) is trimmed to the chunks claimed and pointed at the new store
 * chunks, their exceptions indexed when it ends (row_end_io()); a
 * smaller one (one chunk) waits for the store chunk to be filled from
 * the origin.  Any context but for ROW_FILLING (map never asks for it).
 */
static enum row_claim row_first_write(struct cowsnap_state *s,
				      struct bio *bio, u64 chunk,
				      struct cowsnap_pending *p, u32 n,
				      bool whole, u64 *store_chunk)
{
	enum row_claim r = row_claim(s, bio, chunk, p, &n, store_chunk);

	if (r != ROW_CLAIMED) {
		cowsnap_free_pending(s, p);
		return r;
	}
	if (whole) {
		clip_chunks(s, bio, n);
		cowsnap_pb(bio)->pending = p;
		cowsnap_remap(s, bio, s->store_bdev, *store_chunk);
		return ROW_CLAIMED;
	}
	spin_lock_irq(&s->pending_lock);
	bio_list_add(&p->bios, bio);
	spin_unlock_irq(&s->pending_lock);
	list_add_tail(&p->list, &s->copy_queue);
	return ROW_FILLING;
}

/* Map: the worker raises the low-water event. */
static void row_note_space(struct cowsnap_state *s)
{
	u64 low = READ_ONCE(s->low_water);

	if (low && !READ_ONCE(s->low_water_raised) &&
	    cowsnap_store_free_chunks(s->store) < low)
		cowsnap_wake_worker(s);
}

/*
 * A write to a run of chunks with exceptions in a row in the store, the
 * first at @store_chunk: one bio; FUA commits first (worker).
 */
static int row_map_mapped(struct cowsnap_state *s, struct bio *bio,
			  u64 store_chunk)
{
	if (bio->bi_opf & REQ_FUA)
		return park_bio(s, bio);
	cowsnap_clip_run_after(s, bio, cowsnap_index_lookup,
			       COWSNAP_RUN_FOUND | COWSNAP_RUN_CONTIGUOUS, true,
			       store_chunk);
	cowsnap_remap(s, bio, s->store_bdev, store_chunk);
	return DM_MAPIO_REMAPPED;
}

/*
 * Map, a first write covering @n chunks (at most ROW_RUN_MAX): straight
 * to new store chunks, as many in a row as can be claimed at once, up
 * to the end of the group.  Anything that needs more (memory, space, a
 * chunk being redirected) is left to the worker.
 */
static int row_map_first_write(struct cowsnap_state *s, struct bio *bio,
			       u64 chunk, u32 n)
{
	struct cowsnap_pending *p = row_new_pending(s, false);
	u64 store_chunk;

	if (!p)
		return park_bio(s, bio);
	n = min(n, cowsnap_index_group_left(chunk));
	clip_chunks(s, bio, n);
	switch (row_first_write(s, bio, chunk, p, n, true, &store_chunk)) {
	case ROW_CLAIMED:
		row_note_space(s);
		return DM_MAPIO_REMAPPED;
	case ROW_JOINED:
		return DM_MAPIO_SUBMITTED;
	default:
		return park_bio(s, bio);	/* the worker sorts it out */
	}
}

/*
 * Live view: reads as above; a write to chunks with exceptions goes to
 * their store chunks; a write covering chunks without goes to new ones;
 * any other write is trimmed to its first chunk and left to the worker.
 */
static int row_map_live(struct cowsnap_state *s, struct bio *bio)
{
	u64 store_chunk;
	u32 n;

	if (!bio_sectors(bio)) {
		if (!dm_bio_get_target_bio_nr(bio))	/* origin: unwritten */
			return cowsnap_map_nothing(bio);
		cowsnap_io_get(s, bio);
		return park_bio(s, bio);	/* commit, then flush */
	}
	if (op_is_write(bio_op(bio)) &&
	    READ_ONCE(s->health) == COWSNAP_DEGRADED)
		return DM_MAPIO_KILL;
	if (!cowsnap_io_get(s, bio))
		return park_bio(s, bio);	/* the phase is changing */
	if (!op_is_write(bio_op(bio)))
		return row_map_read(s, bio);
	if (cowsnap_index_lookup(&s->index, cowsnap_bio_chunk(s, bio),
				 &store_chunk))
		return row_map_mapped(s, bio, store_chunk);
	n = whole_chunks(s, bio, ROW_RUN_MAX);
	if (n)
		return row_map_first_write(s, bio, cowsnap_bio_chunk(s, bio), n);
	cowsnap_clip_chunk(s, bio);
	if (cowsnap_write_now(s, bio))
		return DM_MAPIO_SUBMITTED;
	return park_bio(s, bio);
}

/* Never called: a row view takes no discards (set_target_limits()). */
static int row_discard(struct cowsnap_state *s, struct bio *bio)
{
	return cowsnap_map_nothing(bio);
}

/* Every read goes whole to the origin, which never changes. */
static int row_map_snap(struct cowsnap_state *s, struct bio *bio)
{
	if (!bio_sectors(bio))		/* nothing written through it */
		return cowsnap_map_nothing(bio);
	if (op_is_write(bio_op(bio)))
		return DM_MAPIO_KILL;		/* a read-only view */
	if (!cowsnap_io_get(s, bio))
		return park_bio(s, bio);
	bio_set_dev(bio, s->origin_bdev);
	return DM_MAPIO_REMAPPED;
}

/* ---- completion of a whole-chunk first write: any context ---- */

/* Whole-chunk exceptions that may end before the worker adds them. */
#define ROW_WRITTEN_BATCH	32

/* Index the run of new exceptions @p: one entry. */
static void index_run(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	unsigned long flags = cowsnap_index_lock(&s->index);

	/* Cannot fail: the chunks have no exception, they are claimed */
	WARN_ON_ONCE(__cowsnap_index_insert_run(&s->index, p->entry,
						p->origin_chunk, p->store_chunk,
						p->len));
	p->entry = NULL;
	cowsnap_index_unlock(&s->index, flags);
}

/*
 * The data of the run of new exceptions @p is in the store: index it
 * (reads find it from now on), unhash it (later writes find the index),
 * and leave it to the worker to add to the next commit.  The worker
 * comes at once if something waits for it, or if @fua (@p holds a FUA
 * write to complete after the commit).  It is woken under the lock, as
 * in copy_done(): once the lock is released, the worker may end the FUA
 * write, and the state may go.
 */
static void row_written(struct cowsnap_state *s, struct cowsnap_pending *p,
			int error, bool fua)
{
	unsigned long flags;
	bool wake;

	if (!error)
		index_run(s, p);
	wake = cowsnap_unhash_pending(s, p) || error || fua;
	p->error = error;
	spin_lock_irqsave(&s->lock, flags);
	list_add_tail(&p->list, &s->written);
	s->written_nr += p->len;
	if (wake || s->written_nr >= ROW_WRITTEN_BATCH)
		cowsnap_wake_worker(s);
	spin_unlock_irqrestore(&s->lock, flags);
}

/*
 * A first write ended: its chunks' exceptions are written.  A FUA write
 * completes only after the commit that covers them: the worker
 * completes it again (their pending exception holds it).
 */
static int row_end_io(struct cowsnap_state *s, struct bio *bio,
		      blk_status_t *error)
{
	struct cowsnap_bio *pb = cowsnap_pb(bio);
	struct cowsnap_pending *p = pb->pending;
	int err = blk_status_to_errno(*error);
	bool fua = !err && (bio->bi_opf & REQ_FUA);

	pb->pending = NULL;
	if (fua)
		p->fua_bio = bio;
	row_written(s, p, err, fua);	/* neither @bio nor @s after it if @fua */
	return fua ? DM_ENDIO_INCOMPLETE : DM_ENDIO_DONE;
}

/* ---- worker ---- */

static void degrade(struct cowsnap_state *s)
{
	cowsnap_set_health(s, COWSNAP_DEGRADED, COWSNAP_REASON_STORE_IO_ERROR);
}

static void fail_bio(struct bio *bio, blk_status_t status)
{
	bio->bi_status = status;
	bio_endio(bio);
}

static void row_handle(struct cowsnap_state *s, struct bio *bio);

/* Bios that waited for an exception: on their way, or failed. */
static void release_waiters(struct cowsnap_state *s, struct bio_list *bios,
			    int error)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios))) {
		if (error)
			fail_bio(bio, BLK_STS_IOERR);
		else
			row_handle(s, bio);
	}
}

/* Add the exceptions of the run @p to the next commit. */
static int add_run(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	return cowsnap_store_add_run(s->store, p->origin_chunk, p->store_chunk,
				     p->len);
}

/*
 * Add the exceptions of the whole-chunk writes that ended to the next
 * commit.  Their waiters go to @waiters; the FUA writes, to be completed
 * after the commit, to @fua.
 */
static void take_written(struct cowsnap_state *s, struct bio_list *waiters,
			 struct bio_list *fua)
{
	struct cowsnap_pending *p, *tmp;
	LIST_HEAD(done);

	spin_lock_irq(&s->lock);
	list_splice_init(&s->written, &done);
	s->written_nr = 0;
	spin_unlock_irq(&s->lock);
	list_for_each_entry_safe(p, tmp, &done, list) {
		if (!p->error && add_run(s, p))
			p->error = -EIO;
		if (p->error) {
			degrade(s);
			release_waiters(s, &p->bios, p->error);
		}
		bio_list_merge(waiters, &p->bios);
		bio_list_init(&p->bios);
		if (p->fua_bio) {
			if (p->error)
				p->fua_bio->bi_status = BLK_STS_IOERR;
			bio_list_add(fua, p->fua_bio);
		}
		cowsnap_free_pending(s, p);
	}
}

/*
 * Add what ended to the store; commit if asked to or if a FUA write
 * waits for it; complete the FUA writes; send the waiters on.
 */
static int settle_written(struct cowsnap_state *s, bool commit)
{
	struct bio_list waiters = BIO_EMPTY_LIST, fua = BIO_EMPTY_LIST;
	struct bio *bio;
	int r = 0;

	take_written(s, &waiters, &fua);
	if (commit || !bio_list_empty(&fua)) {
		r = cowsnap_store_commit(s->store);
		if (r)
			degrade(s);
	}
	while ((bio = bio_list_pop(&fua))) {
		if (r)
			bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);		/* cowsnap_end_io() again */
	}
	release_waiters(s, &waiters, 0);
	return r;
}

static int row_commit(struct cowsnap_state *s)
{
	return settle_written(s, true);
}

/* Send @bio to @store_chunk, committing first if it asks for FUA. */
static void write_to_store(struct cowsnap_state *s, struct bio *bio,
			   u64 store_chunk)
{
	if ((bio->bi_opf & REQ_FUA) && row_commit(s)) {
		fail_bio(bio, BLK_STS_IOERR);
		return;
	}
	cowsnap_remap(s, bio, s->store_bdev, store_chunk);
	dm_submit_bio_remap(bio, NULL);
}

/* A filled exception's data is whole in the store: index it, add it. */
static void add_exception(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	/* Cannot fail: the chunk has no exception, it is claimed */
	WARN_ON_ONCE(cowsnap_index_insert_entry(&s->index, p->entry,
						p->origin_chunk,
						p->store_chunk));
	p->entry = NULL;
	if (cowsnap_store_add(s->store, p->origin_chunk, p->store_chunk)) {
		degrade(s);
		p->error = -EIO;
	}
}

/*
 * While the live view suspends, a write cannot wait for space: dm waits
 * for it.  A noflush suspend hands it back to dm core, to be sent again
 * after the resume (perhaps over a grown store); a flushing one fails
 * it.  This holds from presuspend to postsuspend, so writes that arrive
 * in between are not held either.
 */
static bool space_wait_impossible(struct cowsnap_state *s, struct bio *bio)
{
	int suspending = READ_ONCE(s->suspending);

	if (suspending)
		fail_bio(bio, suspending > 1 ? BLK_STS_DM_REQUEUE :
					       BLK_STS_NOSPC);
	return suspending;
}

static void queue_for_space(struct cowsnap_state *s, struct bio *bio)
{
	unsigned long wait = s->queue_seconds * HZ;

	cowsnap_set_health(s, COWSNAP_FULL, COWSNAP_REASON_STORE_FULL);
	if (!s->queue_if_full) {
		fail_bio(bio, BLK_STS_NOSPC);
		return;
	}
	if (space_wait_impossible(s, bio))
		return;
	cowsnap_pb(bio)->deadline = jiffies + wait;
	bio_list_add(&s->nospace, bio);
	if (!delayed_work_pending(&s->waker))
		queue_delayed_work(s->wq, &s->waker, wait);
}

/* Worker: a first write to @chunk (the bio is within the chunk). */
static void redirect(struct cowsnap_state *s, struct bio *bio, u64 chunk)
{
	struct cowsnap_pending *p = row_new_pending(s, true);
	bool whole = whole_chunks(s, bio, 1);
	u64 store_chunk;

	switch (row_first_write(s, bio, chunk, p, 1, whole, &store_chunk)) {
	case ROW_CLAIMED:
		cowsnap_check_space(s);
		dm_submit_bio_remap(bio, NULL);
		break;
	case ROW_FILLING:
		cowsnap_check_space(s);
		break;
	case ROW_JOINED:
	case ROW_BUSY:		/* not for a single chunk */
		break;
	case ROW_MAPPED:
		write_to_store(s, bio, store_chunk);
		break;
	case ROW_NO_SPACE:
		queue_for_space(s, bio);
		break;
	}
}

static void handle_flush(struct cowsnap_state *s, struct bio *bio)
{
	if (row_commit(s)) {
		fail_bio(bio, BLK_STS_IOERR);
		return;
	}
	bio_set_dev(bio, s->store_bdev);
	dm_submit_bio_remap(bio, NULL);
}

/* A bio row_map_live() deferred, holding an I/O reference. */
static void row_handle(struct cowsnap_state *s, struct bio *bio)
{
	u64 chunk = cowsnap_bio_chunk(s, bio);
	u64 store_chunk;

	if (!bio_sectors(bio)) {
		handle_flush(s, bio);
		return;
	}
	if (op_is_write(bio_op(bio)) &&
	    READ_ONCE(s->health) == COWSNAP_DEGRADED) {
		fail_bio(bio, BLK_STS_IOERR);
		return;
	}
	if (cowsnap_index_lookup(&s->index, chunk, &store_chunk)) {
		write_to_store(s, bio, store_chunk);
		return;
	}
	if (!op_is_write(bio_op(bio))) {	/* a snapshot-view read */
		bio_set_dev(bio, s->origin_bdev);
		dm_submit_bio_remap(bio, NULL);
		return;
	}
	redirect(s, bio, chunk);
}

/* Fills that ended: index the exception, let the writes go. */
static void process_filled(struct cowsnap_state *s)
{
	struct cowsnap_pending *p, *tmp;
	LIST_HEAD(done);

	spin_lock_irq(&s->lock);
	list_splice_init(&s->copied, &done);
	spin_unlock_irq(&s->lock);
	list_for_each_entry_safe(p, tmp, &done, list) {
		if (p->error == -EIO)
			degrade(s);
		if (!p->error)
			add_exception(s, p);
		cowsnap_unhash_pending(s, p);
		release_waiters(s, &p->bios, p->error);
		cowsnap_free_pending(s, p);
	}
}

/* Writes queued for space: retry once there is room, fail when late. */
static void process_nospace(struct cowsnap_state *s)
{
	struct bio_list bios = s->nospace;
	struct bio *bio;
	long left = 0;

	if (bio_list_empty(&bios))
		return;
	bio_list_init(&s->nospace);
	while ((bio = bio_list_pop(&bios))) {
		unsigned long deadline = cowsnap_pb(bio)->deadline;

		if (READ_ONCE(s->health) != COWSNAP_FULL) {
			row_handle(s, bio);
		} else if (space_wait_impossible(s, bio)) {
			continue;
		} else if (time_after_eq(jiffies, deadline)) {
			fail_bio(bio, BLK_STS_NOSPC);
		} else {
			bio_list_add(&s->nospace, bio);
			if (!left || (long)(deadline - jiffies) < left)
				left = deadline - jiffies;
		}
	}
	if (left)
		mod_delayed_work(s->wq, &s->waker, left);
}

/*
 * map()'s pass for a first write within one chunk (cowsnap_write_now()):
 * fill the chunk and send the write from here; a fill that does not
 * end at once wakes the worker when it does.
 */
static void row_write_now(struct cowsnap_state *s, struct bio *bio)
{
	row_handle(s, bio);
	while (cowsnap_start_copies(s))
		process_filled(s);
}

/*
 * Fills start last: a write queued for space may have queued one
 * (process_nospace()), and nothing else would wake the worker for it.
 * Fills that ended while they were started are handled in this pass.
 */
static void row_process(struct cowsnap_state *s)
{
	process_filled(s);
	settle_written(s, false);
	process_nospace(s);
	while (cowsnap_start_copies(s))
		process_filled(s);
}

static void row_drain(struct cowsnap_state *s)
{
	WARN_ON_ONCE(!bio_list_empty(&s->deferred));
	WARN_ON_ONCE(!bio_list_empty(&s->nospace));
	WARN_ON_ONCE(!list_empty(&s->copy_queue));
	WARN_ON_ONCE(!list_empty(&s->written));
	WARN_ON_ONCE(s->copies_in_flight);
}

const struct cowsnap_mode_ops cowsnap_row_ops = {
	.map = { row_map_live, row_map_snap },
	.discard = row_discard,
	.handle = row_handle,
	.write_now = row_write_now,
	.process = row_process,
	.commit = row_commit,
	.drain = row_drain,
	.end_io = row_end_io,
};
