// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: copy-on-write mode.
 *
 * Live view: reads and writes go to the origin.  The first write to a
 * chunk since the snapshot is parked; the worker copies the chunk's old
 * data into the store (dm-kcopyd, at most COW_MAX_COPIES in flight),
 * commits the exception (grouped with every other copy that finished
 * meanwhile), waits for snapshot reads of that chunk still in flight to
 * the origin, and only then lets the write through.  Writes to a chunk
 * whose copy is in flight wait for that one copy.
 *
 * Snapshot view: chunks with an exception are read from and written to
 * the store; the others are read from the origin (tracked, so that a
 * live write waits for the read).  A write to a chunk without an
 * exception creates one first (copy, commit), so the origin is never
 * written through the snapshot view and a later live write finds the
 * exception and leaves the snapshot's data alone.
 *
 * Invalid snapshot: the live view goes straight to the origin, the
 * snapshot view fails every I/O.
 */
#include <linux/dm-kcopyd.h>
#include <linux/delay.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

#define COW_MAX_COPIES	64

static u64 bio_chunk(struct cowsnap_state *s, struct bio *bio)
{
	return cowsnap_sector_to_chunk(bio->bi_iter.bi_sector, s->chunk_shift);
}

/* ---- map: never blocks ---- */

/* Leave @bio to the worker, remembering which view it came from. */
static int park_bio(struct cowsnap_state *s, struct bio *bio, bool live)
{
	cowsnap_pb(bio)->live = live;
	cowsnap_defer_bio(s, bio);
	return DM_MAPIO_SUBMITTED;
}

static int cow_map_live(struct cowsnap_target *ct, struct bio *bio)
{
	struct cowsnap_state *s = ct->state;
	u64 store_chunk;

	bio_set_dev(bio, s->origin_bdev);
	if (!op_is_write(bio_op(bio)) || !bio_sectors(bio) ||
	    !cowsnap_valid(s) ||
	    cowsnap_index_lookup(&s->index, bio_chunk(s, bio), &store_chunk))
		return DM_MAPIO_REMAPPED;
	return park_bio(s, bio, true);
}

static int cow_map_snap_read(struct cowsnap_state *s, struct bio *bio)
{
	struct cowsnap_bio *pb = cowsnap_pb(bio);
	u64 chunk = bio_chunk(s, bio);
	u64 store_chunk;

	/*
	 * Track first, then look up; release_pending() inserts, then looks
	 * for tracked reads.  The barriers make sure one side sees the
	 * other: either this read finds the exception, or the live write
	 * waits for this read.
	 */
	cowsnap_track(s, pb, chunk);
	smp_mb();	/* order the tracking before the lookup */
	if (cowsnap_index_lookup(&s->index, chunk, &store_chunk)) {
		cowsnap_untrack(s, pb);
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
	} else {
		bio_set_dev(bio, s->origin_bdev);
	}
	return DM_MAPIO_REMAPPED;
}

static int cow_map_snap(struct cowsnap_target *ct, struct bio *bio)
{
	struct cowsnap_state *s = ct->state;
	u64 store_chunk;

	if (!cowsnap_valid(s))
		return DM_MAPIO_KILL;
	if (!bio_sectors(bio)) {		/* a flush: the store has our data */
		bio_set_dev(bio, s->store_bdev);
		return DM_MAPIO_REMAPPED;
	}
	if (!op_is_write(bio_op(bio)))
		return cow_map_snap_read(s, bio);
	if (cowsnap_index_lookup(&s->index, bio_chunk(s, bio), &store_chunk)) {
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
		return DM_MAPIO_REMAPPED;
	}
	return park_bio(s, bio, false);
}

static void cow_end_io(struct cowsnap_target *ct, struct bio *bio)
{
	struct cowsnap_bio *pb = cowsnap_pb(bio);

	if (pb->tracked)
		cowsnap_untrack(ct->state, pb);
}

/* ---- worker ---- */

/*
 * Let a bio go: to the origin (live view), to its store chunk (snapshot
 * view with an exception), or fail it (snapshot view of an invalid
 * snapshot).
 */
static void release_bio(struct cowsnap_state *s, struct bio *bio)
{
	u64 store_chunk;

	if (cowsnap_pb(bio)->live) {
		dm_submit_bio_remap(bio, NULL);
		return;
	}
	if (!cowsnap_valid(s) ||
	    !cowsnap_index_lookup(&s->index, bio_chunk(s, bio), &store_chunk)) {
		bio_io_error(bio);
		return;
	}
	cowsnap_remap(s, bio, s->store_bdev, store_chunk);
	dm_submit_bio_remap(bio, NULL);
}

static struct hlist_head *pending_head(struct cowsnap_state *s, u64 chunk)
{
	return &s->pending[hash_64(chunk, COWSNAP_PENDING_BITS)];
}

static struct cowsnap_pending *find_pending(struct cowsnap_state *s,
					    u64 chunk)
{
	struct cowsnap_pending *p;

	hlist_for_each_entry(p, pending_head(s, chunk), hash)
		if (p->origin_chunk == chunk)
			return p;
	return NULL;
}

static struct cowsnap_pending *new_pending(struct cowsnap_state *s, u64 chunk)
{
	struct cowsnap_pending *p;
	u64 store_chunk;

	if (cowsnap_store_alloc(s->store, &store_chunk)) {
		cowsnap_invalidate(s, COWSNAP_REASON_STORE_FULL);
		return NULL;
	}
	cowsnap_check_space(s);
	p = mempool_alloc(&s->pending_pool, GFP_NOIO);
	p->s = s;
	p->origin_chunk = chunk;
	p->store_chunk = store_chunk;
	p->error = 0;
	bio_list_init(&p->bios);
	hlist_add_head(&p->hash, pending_head(s, chunk));
	list_add_tail(&p->list, &s->copy_queue);
	return p;
}

static void handle_bio(struct cowsnap_state *s, struct bio *bio)
{
	u64 chunk = bio_chunk(s, bio);
	struct cowsnap_pending *p;
	u64 store_chunk;

	if (!cowsnap_valid(s) ||
	    cowsnap_index_lookup(&s->index, chunk, &store_chunk)) {
		release_bio(s, bio);
		return;
	}
	p = find_pending(s, chunk);
	if (!p)
		p = new_pending(s, chunk);
	if (p)
		bio_list_add(&p->bios, bio);
	else
		release_bio(s, bio);	/* the store is full: now invalid */
}

static void process_deferred(struct cowsnap_state *s)
{
	struct bio_list bios;
	struct bio *bio;

	spin_lock_irq(&s->lock);
	bios = s->deferred;
	bio_list_init(&s->deferred);
	spin_unlock_irq(&s->lock);
	while ((bio = bio_list_pop(&bios)))
		handle_bio(s, bio);
}

static void copy_done(int read_err, unsigned long write_err, void *context)
{
	struct cowsnap_pending *p = context;
	struct cowsnap_state *s = p->s;
	unsigned long flags;

	p->error = read_err || write_err ? -EIO : 0;
	spin_lock_irqsave(&s->lock, flags);
	list_add_tail(&p->list, &s->copied);
	s->copies_in_flight--;
	spin_unlock_irqrestore(&s->lock, flags);
	cowsnap_wake_worker(s);
}

static bool take_copy_slot(struct cowsnap_state *s)
{
	bool ok;

	spin_lock_irq(&s->lock);
	ok = s->copies_in_flight < COW_MAX_COPIES;
	if (ok)
		s->copies_in_flight++;
	spin_unlock_irq(&s->lock);
	return ok;
}

static void start_copy(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	sector_t from_sector = cowsnap_chunk_to_sector(p->origin_chunk,
						       s->chunk_shift);
	struct dm_io_region from = {
		.bdev = s->origin_bdev,
		.sector = from_sector,
		.count = min_t(sector_t, s->chunk_sectors,
			       s->origin_sectors - from_sector),
	};
	struct dm_io_region to = {
		.bdev = s->store_bdev,
		.sector = cowsnap_chunk_to_sector(p->store_chunk,
						  s->chunk_shift),
		.count = from.count,
	};

	dm_kcopyd_copy(s->kcopyd, &from, 1, &to, 0, copy_done, p);
}

static void start_copies(struct cowsnap_state *s)
{
	struct cowsnap_pending *p;

	while (!list_empty(&s->copy_queue) && take_copy_slot(s)) {
		p = list_first_entry(&s->copy_queue, struct cowsnap_pending,
				     list);
		list_del(&p->list);
		start_copy(s, p);
	}
}

/* Wait until no snapshot read of @chunk is in flight to the origin. */
static void wait_for_snapshot_reads(struct cowsnap_state *s, u64 chunk)
{
	while (cowsnap_chunk_tracked(s, chunk))
		usleep_range(100, 200);
}

static void release_pending(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	struct bio *bio;

	if (cowsnap_valid(s) && !p->error) {
		/* Cannot fail: the chunk has no exception, allocation NOFAIL */
		WARN_ON_ONCE(cowsnap_index_insert(&s->index, p->origin_chunk,
						  p->store_chunk));
	}
	smp_mb();	/* see cow_map_snap_read() */
	wait_for_snapshot_reads(s, p->origin_chunk);
	hlist_del(&p->hash);
	while ((bio = bio_list_pop(&p->bios)))
		release_bio(s, bio);
	mempool_free(p, &s->pending_pool);
}

static int commit_batch(struct cowsnap_state *s, struct list_head *batch)
{
	struct cowsnap_pending *p;
	int r;

	list_for_each_entry(p, batch, list) {
		if (p->error)
			return p->error;
		r = cowsnap_store_add(s->store, p->origin_chunk,
				      p->store_chunk);
		if (r)
			return r;
	}
	return cowsnap_store_commit(s->store);
}

static void commit_copied(struct cowsnap_state *s)
{
	struct cowsnap_pending *p, *tmp;
	LIST_HEAD(batch);

	spin_lock_irq(&s->lock);
	list_splice_init(&s->copied, &batch);
	spin_unlock_irq(&s->lock);
	if (list_empty(&batch))
		return;
	if (cowsnap_valid(s) && commit_batch(s, &batch))
		cowsnap_invalidate(s, COWSNAP_REASON_STORE_IO_ERROR);
	list_for_each_entry_safe(p, tmp, &batch, list)
		release_pending(s, p);
}

/* An invalid snapshot copies nothing more: let queued work go. */
static void release_queued(struct cowsnap_state *s)
{
	struct cowsnap_pending *p, *tmp;

	if (cowsnap_valid(s))
		return;
	list_for_each_entry_safe(p, tmp, &s->copy_queue, list) {
		list_del(&p->list);
		release_pending(s, p);
	}
}

static void cow_process(struct cowsnap_state *s)
{
	cowsnap_check_space(s);
	process_deferred(s);
	release_queued(s);
	start_copies(s);
	commit_copied(s);
}

/* The state is going: nothing may still wait (no view holds I/O). */
static void cow_drain(struct cowsnap_state *s)
{
	WARN_ON_ONCE(!bio_list_empty(&s->deferred));
	WARN_ON_ONCE(!list_empty(&s->copy_queue));
	WARN_ON_ONCE(s->copies_in_flight);
}

const struct cowsnap_mode_ops cowsnap_cow_ops = {
	.map_live = cow_map_live,
	.map_snap = cow_map_snap,
	.end_io = cow_end_io,
	.process = cow_process,
	.drain = cow_drain,
};
