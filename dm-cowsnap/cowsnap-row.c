// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: redirect-on-write mode.
 *
 * While the snapshot exists the origin is never written.
 *
 * Live view: a chunk with an exception is read from and written to its
 * store chunk; the others are read from the origin.  The first write to
 * a chunk is left to the worker, which takes a free store chunk and
 * - for a write covering the whole chunk, sends the write there, with
 *   its completion hooked: the exception is indexed, and the bio
 *   completed, only once the data is in the store;
 * - for a smaller write, first fills the store chunk with the origin
 *   chunk (dm-kcopyd), indexes the exception, then sends the write.
 * So a chunk is always whole in the store: a partial write never leaves
 * the rest of its chunk wrong.  Writes to a chunk being redirected wait
 * for it.
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
#include <linux/dm-kcopyd.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

/* ---- map: never blocks ---- */

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

/*
 * Live view: reads as above; a write is trimmed to its first chunk,
 * written to its store chunk or redirected by the worker.
 */
static int row_map_live(struct cowsnap_state *s, struct bio *bio)
{
	u64 store_chunk;

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
	cowsnap_clip_chunk(s, bio);
	if (cowsnap_index_lookup(&s->index, cowsnap_bio_chunk(s, bio), &store_chunk)) {
		if (bio->bi_opf & REQ_FUA)
			return park_bio(s, bio);	/* commit first */
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
		return DM_MAPIO_REMAPPED;
	}
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

/* ---- worker ---- */

static void degrade(struct cowsnap_state *s)
{
	cowsnap_set_health(s, COWSNAP_DEGRADED, COWSNAP_REASON_STORE_IO_ERROR);
}

static int row_commit(struct cowsnap_state *s)
{
	int r = cowsnap_store_commit(s->store);

	if (r)
		degrade(s);
	return r;
}

static void fail_bio(struct bio *bio, blk_status_t status)
{
	bio->bi_status = status;
	bio_endio(bio);
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

static void release_waiters(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	struct bio *bio;

	while ((bio = bio_list_pop(&p->bios))) {
		if (p->error)
			fail_bio(bio, BLK_STS_IOERR);
		else
			write_to_store(s, bio, p->store_chunk);
	}
}

/* The exception's data is whole in the store: index it, add it. */
static void add_exception(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	/* Cannot fail: the chunk had no exception, allocation NOFAIL */
	WARN_ON_ONCE(cowsnap_index_insert(&s->index, p->origin_chunk,
					  p->store_chunk));
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

static bool covers_chunk(struct cowsnap_state *s, struct bio *bio, u64 chunk)
{
	sector_t start = cowsnap_chunk_to_sector(chunk, s->chunk_shift);

	return bio->bi_iter.bi_sector == start &&
	       bio_sectors(bio) == min_t(sector_t, s->chunk_sectors,
					 s->origin_sectors - start);
}

static void row_write_endio(struct bio *bio)
{
	struct cowsnap_pending *p = bio->bi_private;
	struct cowsnap_state *s = p->s;
	unsigned long flags;

	p->error = blk_status_to_errno(bio->bi_status);
	spin_lock_irqsave(&s->lock, flags);
	list_add_tail(&p->list, &s->written);
	spin_unlock_irqrestore(&s->lock, flags);
	cowsnap_wake_worker(s);
}

/* A whole-chunk write: straight to the new store chunk, hooked. */
static void write_whole_chunk(struct cowsnap_state *s,
			      struct cowsnap_pending *p, struct bio *bio)
{
	p->bio = bio;
	p->saved_end_io = bio->bi_end_io;
	p->saved_private = bio->bi_private;
	bio->bi_end_io = row_write_endio;
	bio->bi_private = p;
	cowsnap_remap(s, bio, s->store_bdev, p->store_chunk);
	dm_submit_bio_remap(bio, NULL);
}

static void redirect(struct cowsnap_state *s, struct bio *bio, u64 chunk)
{
	struct cowsnap_pending *p = cowsnap_find_pending(s, chunk);
	u64 store_chunk;

	if (p) {
		bio_list_add(&p->bios, bio);
		return;
	}
	if (cowsnap_store_alloc(s->store, &store_chunk)) {
		queue_for_space(s, bio);
		return;
	}
	cowsnap_check_space(s);
	p = cowsnap_new_pending(s, chunk, store_chunk);
	if (covers_chunk(s, bio, chunk)) {
		write_whole_chunk(s, p, bio);
	} else {
		bio_list_add(&p->bios, bio);
		list_add_tail(&p->list, &s->copy_queue);
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
		release_waiters(s, p);
		cowsnap_free_pending(s, p);
	}
}

static void finish_whole_write(struct cowsnap_state *s,
			       struct cowsnap_pending *p)
{
	struct bio *bio = p->bio;

	bio->bi_end_io = p->saved_end_io;
	bio->bi_private = p->saved_private;
	if (p->error)
		degrade(s);
	else
		add_exception(s, p);
	if (!p->error && (bio->bi_opf & REQ_FUA) && row_commit(s))
		bio->bi_status = BLK_STS_IOERR;
	release_waiters(s, p);
	cowsnap_free_pending(s, p);
	bio_endio(bio);
}

static void process_written(struct cowsnap_state *s)
{
	struct cowsnap_pending *p, *tmp;
	LIST_HEAD(done);

	spin_lock_irq(&s->lock);
	list_splice_init(&s->written, &done);
	spin_unlock_irq(&s->lock);
	list_for_each_entry_safe(p, tmp, &done, list)
		finish_whole_write(s, p);
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

static void row_process(struct cowsnap_state *s)
{
	cowsnap_start_copies(s);
	process_filled(s);
	process_written(s);
	process_nospace(s);
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
	.process = row_process,
	.commit = row_commit,
	.drain = row_drain,
};
