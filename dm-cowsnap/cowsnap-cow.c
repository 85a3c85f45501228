// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: copy-on-write mode.
 *
 * Live view: reads and writes go to the origin.  The first write to a
 * run of chunks since the snapshot is parked whole; the worker copies
 * the chunks' old data into the store (one copy per run of chunks in a
 * row on both devices, cowsnap-copy.c),
 * commits the exceptions (grouped with every other copy that finished
 * meanwhile), waits for snapshot reads of those chunks still in flight
 * to the origin, and only then lets the write through.  Writes to a
 * chunk whose copy is in flight wait for that one copy.  A first write
 * whose submitter waits for each (queue depth 1) finds the worker idle,
 * and map() does the worker's work for it itself (cowsnap_write_now()).
 *
 * Snapshot view: chunks with an exception are read from and written to
 * the store; the others are read from the origin (tracked, so that a
 * live write waits for the read).  A write to a chunk without an
 * exception creates one first (copy, commit), so the origin is never
 * written through the snapshot view and a later live write finds the
 * exception and leaves the snapshot's data alone.
 *
 * Discards of the live view go on to the origin only for chunks whose
 * exception has settled; the others keep the snapshot's data.
 *
 * Invalid snapshot: the live view goes straight to the origin, the
 * snapshot view fails every I/O.
 */

#include "cowsnap.h"
#include "cowsnap-store.h"

/* ---- map: never blocks, but in cowsnap_write_now() ---- */

/* Leave @bio to the worker (it holds an I/O reference, or none). */
static int park_bio(struct cowsnap_state *s, struct bio *bio)
{
	cowsnap_defer_bio(s, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * Reads go whole to the origin; so do writes to a run of chunks whose
 * exceptions have settled.  A write to a run of chunks without (settled)
 * exceptions is parked whole, for the worker to copy the run at once.
 */
static int cow_map_live(struct cowsnap_state *s, struct bio *bio)
{
	u64 unused;

	if (!bio_sectors(bio))
		return cowsnap_remap_flush(s, bio);
	if (!cowsnap_io_get(s, bio))
		return park_bio(s, bio);	/* the phase is changing */
	bio_set_dev(bio, s->origin_bdev);
	if (!op_is_write(bio_op(bio)) || !cowsnap_valid(s) ||
	    cowsnap_clip_run(s, bio, cowsnap_index_lookup_settled,
			     COWSNAP_RUN_FOUND | COWSNAP_RUN_MISSING, &unused))
		return DM_MAPIO_REMAPPED;
	if (!cowsnap_write_now(s, bio))
		cowsnap_defer_bio_whole(s, bio);
	return DM_MAPIO_SUBMITTED;
}

/*
 * A discard of the live view.  The origin chunk of a chunk without a
 * settled exception holds data the snapshot needs: the discard leaves it
 * alone (a discard is a hint; nothing is copied only to be dropped).
 * The origin chunk of a chunk whose exception has settled holds live
 * data only, and the discard goes on to it.  An invalid snapshot needs
 * nothing: every discard goes on.  Each bio covers a run of chunks alike.
 * A discard that meets a phase change is completed without I/O: it is
 * never deferred, as it cannot be trimmed outside map().
 */
static int cow_discard(struct cowsnap_state *s, struct bio *bio)
{
	u64 unused;

	if (!cowsnap_io_get(s, bio))
		return cowsnap_map_nothing(bio);	/* the phase is changing */
	bio_set_dev(bio, s->origin_bdev);
	if (!cowsnap_valid(s) ||
	    cowsnap_clip_run(s, bio, cowsnap_index_lookup_settled,
			     COWSNAP_RUN_FOUND | COWSNAP_RUN_MISSING, &unused))
		return DM_MAPIO_REMAPPED;
	return cowsnap_map_nothing(bio);
}

/*
 * A read of the snapshot view: a run of chunks whose exceptions are in
 * a row in the store is read from there as one bio (an exception never
 * goes away while the snapshot runs); any other read is trimmed to its
 * first chunk.
 */
static int cow_map_snap_read(struct cowsnap_state *s, struct bio *bio)
{
	struct cowsnap_bio *pb = cowsnap_pb(bio);
	u64 chunk = cowsnap_bio_chunk(s, bio);
	u64 store_chunk;

	if (cowsnap_clip_run(s, bio, cowsnap_index_lookup,
			     COWSNAP_RUN_FOUND | COWSNAP_RUN_CONTIGUOUS,
			     &store_chunk)) {
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
		return DM_MAPIO_REMAPPED;
	}

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

static int cow_map_snap(struct cowsnap_state *s, struct bio *bio)
{
	u64 store_chunk;

	if (!bio_sectors(bio))
		return cowsnap_remap_flush(s, bio);
	if (!cowsnap_valid(s))
		return DM_MAPIO_KILL;
	if (!cowsnap_io_get(s, bio))
		return park_bio(s, bio);
	if (!op_is_write(bio_op(bio)))
		return cow_map_snap_read(s, bio);
	cowsnap_clip_chunk(s, bio);
	if (cowsnap_index_lookup(&s->index, cowsnap_bio_chunk(s, bio), &store_chunk)) {
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
		return DM_MAPIO_REMAPPED;
	}
	return park_bio(s, bio);
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

	if (cowsnap_pb(bio)->view == COWSNAP_VIEW_LIVE) {
		dm_submit_bio_remap(bio, NULL);
		return;
	}
	if (!cowsnap_valid(s) ||
	    !cowsnap_index_lookup(&s->index, cowsnap_bio_chunk(s, bio), &store_chunk)) {
		bio_io_error(bio);
		return;
	}
	cowsnap_remap(s, bio, s->store_bdev, store_chunk);
	dm_submit_bio_remap(bio, NULL);
}

/* The most one copy moves: 1 MiB, or one chunk. */
static u32 max_run(struct cowsnap_state *s)
{
	return max_t(u32, 1, 2048 >> s->chunk_shift);
}

static struct cowsnap_pending *cow_new_pending(struct cowsnap_state *s,
					       bool may_sleep)
{
	return cowsnap_alloc_pending(s, may_sleep ? GFP_NOIO : GFP_NOWAIT);
}

/*
 * New pending exceptions for the @n chunks from @chunk on (none has one),
 * with store chunks in a row: as many as the store has in a row, in a
 * run copied at once; @bio waits for the last.  Returns false if the
 * store is full (the snapshot is now invalid).
 */
static bool new_run(struct cowsnap_state *s, u64 chunk, u32 n,
		    struct bio *bio)
{
	struct cowsnap_pending *p, *head;
	u64 store_chunk;
	u32 i;

	n = cowsnap_store_alloc_run(s->store, n, &store_chunk);
	if (!n) {
		cowsnap_invalidate(s, COWSNAP_REASON_STORE_FULL);
		return false;
	}
	cowsnap_check_space(s);
	head = cowsnap_new_chain(s, &n, cow_new_pending, true);	/* all n */
	spin_lock_irq(&s->pending_lock);
	for (i = 0, p = head; p; i++, p = p->run_next) {
		__cowsnap_hash_pending(s, p, chunk + i, store_chunk + i);
		if (!p->run_next)
			bio_list_add(&p->bios, bio);	/* waits for the last */
	}
	spin_unlock_irq(&s->pending_lock);
	list_add_tail(&head->list, &s->copy_queue);
	return true;
}

/*
 * Let @bio wait for the pending exception of @chunk, if there is one;
 * if not, how many chunks from @chunk on (up to @last, at most
 * max_run()) are neither pending nor mapped, in *@n.
 */
static bool join_pending(struct cowsnap_state *s, u64 chunk, u64 last,
			 struct bio *bio, u32 *n)
{
	struct cowsnap_pending *p;

	spin_lock_irq(&s->pending_lock);
	p = __cowsnap_find_pending(s, chunk);
	if (p) {
		bio_list_add(&p->bios, bio);
	} else {
		*n = 1;
		while (*n < max_run(s) && chunk + *n <= last &&
		       __cowsnap_unclaimed(s, chunk + *n))
			(*n)++;
	}
	spin_unlock_irq(&s->pending_lock);
	return p;
}

/*
 * A bio map() deferred (holding an I/O reference), or one whose pending
 * exception was released: it goes on once every chunk it spans has an
 * exception.  It waits for the first chunk without one: joining its
 * pending exception, or starting a run of copies from it; each release
 * brings it back here.  (Only a live-view write spans chunks.)
 */
static void handle_bio(struct cowsnap_state *s, struct bio *bio)
{
	u64 chunk = cowsnap_bio_chunk(s, bio);
	u64 last = cowsnap_sector_to_chunk(bio_end_sector(bio) - 1,
					   s->chunk_shift);
	u64 store_chunk;
	u32 n;

	while (chunk <= last &&
	       cowsnap_index_lookup(&s->index, chunk, &store_chunk))
		chunk++;
	if (!cowsnap_valid(s) || chunk > last) {
		release_bio(s, bio);
		return;
	}
	if (!join_pending(s, chunk, last, bio, &n) &&
	    !new_run(s, chunk, n, bio))
		release_bio(s, bio);	/* the store is full: now invalid */
}

static void release_pending(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	bool insert = cowsnap_valid(s) && !p->error;
	struct bio *bio;

	/*
	 * Snapshot reads that find the exception go to the store; those
	 * already on their way to the origin chunk are waited for.  Until
	 * then the exception is draining: a live write to the chunk is left
	 * to the worker, which runs this to the end first.
	 */
	if (insert) {
		/* Cannot fail: the chunk has no exception, allocation NOFAIL */
		WARN_ON_ONCE(cowsnap_index_insert_draining(&s->index,
							   p->origin_chunk,
							   p->store_chunk));
	}
	smp_mb();	/* see cow_map_snap_read() */
	cowsnap_wait_untracked(s, p->origin_chunk);
	if (insert)
		cowsnap_index_settle(&s->index, p->origin_chunk);
	cowsnap_unhash_pending(s, p);
	while ((bio = bio_list_pop(&p->bios)))
		handle_bio(s, bio);	/* on, or waiting for another chunk */
	cowsnap_free_pending(s, p);
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

/*
 * Holding a commit back.  On a RAM disk at queue depth 32 the worker
 * can outrun its submitter: a pass finds one to three first writes
 * parked, commits them (a 4 KiB block each time) and goes idle, and
 * each next first write wakes it on another CPU, which slows the
 * submitter down further (4 KiB chunks, two VMs: 10.7-22.4 exceptions
 * per commit over whole runs, up to a fifth of them carrying one).  So
 * while fewer than half the most first writes seen in flight lately are
 * in flight, the worker leaves those copied on the copied list, and
 * first writes parked meanwhile do not wake it until that half is in
 * flight, or HOLD_US have passed: one commit then carries them all
 * (29.5-30.5 per commit, almost none carrying one).  A probe of map()'s
 * is held the same way until a second first write comes.  Held writes
 * are not acknowledged yet, so a flush needs nothing; nothing is held
 * once a commit is asked for (suspend, destruction), in a phase other
 * than the mode's own, or for an invalid snapshot.  "Lately": the most
 * seen in this window of HOLD_WINDOW commits or the one before.  A
 * hold is on while hold_wake is set: it is at least 1 then.
 */
#define HOLD_US		200
#define HOLD_WINDOW	64

static bool hold_commit(struct cowsnap_state *s)
{
	unsigned int seen = max(READ_ONCE(s->fw_peak), READ_ONCE(s->fw_seen));
	unsigned int wake = s->probing ? 2 : seen / 2;
	bool armed = s->hold_wake;	/* the worker's own: read unlocked */
	bool held;

	if ((armed && READ_ONCE(s->hold_expired)) ||
	    atomic_read(&s->first_writes) >= wake || s->commit_requested ||
	    READ_ONCE(s->suspending) || s->ops != s->mode_ops ||
	    !cowsnap_valid(s))
		return false;
	spin_lock_irq(&s->lock);
	held = !list_empty(&s->copied) && bio_list_empty(&s->deferred);
	if (held)
		s->hold_wake = wake;
	spin_unlock_irq(&s->lock);
	if (held && !armed) {
		WRITE_ONCE(s->hold_expired, false);
		hrtimer_start(&s->hold_timer, ns_to_ktime(HOLD_US * NSEC_PER_USEC),
			      HRTIMER_MODE_REL);
	}
	return held;
}

/*
 * A commit comes: first writes wake the worker again, and one parked
 * after its last look at the deferred list that did not is seen to.
 * (A timer that fires late only brings an early commit.)
 */
static void end_hold(struct cowsnap_state *s)
{
	bool parked;

	s->probing = false;
	if (!s->hold_wake)	/* the worker's own: read unlocked */
		return;
	hrtimer_try_to_cancel(&s->hold_timer);
	spin_lock_irq(&s->lock);
	s->hold_wake = 0;
	parked = !bio_list_empty(&s->deferred);
	spin_unlock_irq(&s->lock);
	if (parked)
		cowsnap_wake_worker(s);
}

/* Every HOLD_WINDOW commits, the most seen in flight starts anew. */
static void count_commit(struct cowsnap_state *s)
{
	if (++s->hold_window < HOLD_WINDOW)
		return;
	s->hold_window = 0;
	WRITE_ONCE(s->fw_peak, READ_ONCE(s->fw_seen));
	WRITE_ONCE(s->fw_seen, 0);
}

static void commit_copied(struct cowsnap_state *s)
{
	struct cowsnap_pending *p, *tmp;
	LIST_HEAD(batch);

	end_hold(s);
	spin_lock_irq(&s->lock);
	list_splice_init(&s->copied, &batch);
	spin_unlock_irq(&s->lock);
	if (list_empty(&batch))
		return;
	count_commit(s);
	if (cowsnap_valid(s) && commit_batch(s, &batch))
		cowsnap_invalidate(s, COWSNAP_REASON_STORE_IO_ERROR);
	list_for_each_entry_safe(p, tmp, &batch, list)
		release_pending(s, p);
}

/* An invalid snapshot copies nothing more: let queued work go. */
static void release_queued(struct cowsnap_state *s)
{
	struct cowsnap_pending *p, *tmp, *next;

	if (cowsnap_valid(s))
		return;
	list_for_each_entry_safe(p, tmp, &s->copy_queue, list) {
		list_del(&p->list);
		for (; p; p = next) {		/* the run, in order */
			next = p->run_next;
			p->run_next = NULL;
			release_pending(s, p);
		}
	}
}

/*
 * map()'s pass for a first write (cowsnap_write_now()).  On a device
 * that ends bios in their caller, the copy ends while it is started,
 * and the commit and the write follow at once: the chain dm-snapshot
 * runs in a kworker, without the two context switches around it, which
 * at queue depth 1 are a third of a first write's time under QEMU.
 * Like the worker, this may wait: for memory (GFP_NOIO), for the
 * commit's write, and for snapshot reads still going to the chunk.
 */
static void cow_write_now(struct cowsnap_state *s, struct bio *bio)
{
	handle_bio(s, bio);
	if (cowsnap_start_copies(s))
		commit_copied(s);
}

/*
 * Rounds of copies that may share one commit: while copies end as they
 * are started (a RAM disk), bios parked meanwhile get their copies
 * started too before the commit, so one commit covers every first
 * write in flight instead of those of one pass.  (A submitter whose
 * queue is full parks nothing more, so a round ends the gathering.)
 */
#define GATHER_ROUNDS	8

/*
 * Copies start last: a released bio that spans chunks may have queued
 * a run for its next chunks (handle_bio()), and nothing else would wake
 * the worker for it.  Copies that ended while they were started are
 * committed in this pass, with those of the bios parked meanwhile (up
 * to GATHER_ROUNDS rounds), and so on.
 */
static void cow_process(struct cowsnap_state *s)
{
	int r;

	release_queued(s);
	do {
		for (r = 0; r < GATHER_ROUNDS && cowsnap_start_copies(s) &&
		     cowsnap_process_deferred(s); r++)
			;
		if (hold_commit(s))
			return;
		commit_copied(s);
	} while (cowsnap_start_copies(s));
}

/* Every exception is committed before its write goes on. */
static int cow_commit(struct cowsnap_state *s)
{
	return 0;
}

/* The state is going: nothing may still wait (no view holds I/O). */
static void cow_drain(struct cowsnap_state *s)
{
	WARN_ON_ONCE(!bio_list_empty(&s->deferred));
	WARN_ON_ONCE(!list_empty(&s->copy_queue));
	WARN_ON_ONCE(s->copies_in_flight);
}

const struct cowsnap_mode_ops cowsnap_cow_ops = {
	.map = { cow_map_live, cow_map_snap },
	.discard = cow_discard,
	.handle = handle_bio,
	.write_now = cow_write_now,
	.probe_elsewhere = true,
	.process = cow_process,
	.commit = cow_commit,
	.drain = cow_drain,
	/* no .end_io: no cow bio names a pending exception */
};
