// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the state shared by the two views of one origin/store pair:
 * its life cycle, the worker, events, invalidation and tracked reads.
 * What differs per mode is in cowsnap-cow.c and cowsnap-row.c, reached
 * through state->mode_ops; the phases (rollback, fold) in cowsnap-phase.c,
 * reached through state->ops.
 */
#include <linux/slab.h>
#include <linux/dm-kcopyd.h>
#include <linux/delay.h>
#include <linux/cpumask.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

#define PENDING_POOL_MIN	16
/* Bios kept for the copies through bios (cowsnap-copy.c), as dm-io's */
#define COPY_BIOS		16
/*
 * The worker is sent to another CPU from SPREAD_COPIES copies in flight,
 * if its last pass that found parked bios found SPREAD_BIOS, or for a
 * copy-on-write probe of map()'s (probe_due()).
 */
#define SPREAD_COPIES		4
#define SPREAD_BIOS		4

/*
 * Worker only: handle every bio on the deferred list; returns how many.
 * A bio holding an I/O reference belongs to the mode; the others were
 * deferred by a phase change and are mapped again under the current
 * phase, or held until the quiesce ends.
 */
unsigned int cowsnap_process_deferred(struct cowsnap_state *s)
{
	struct bio_list bios;
	struct bio *bio;
	unsigned int n;

	spin_lock_irq(&s->lock);
	bios = s->deferred;
	bio_list_init(&s->deferred);
	spin_unlock_irq(&s->lock);
	n = bio_list_size(&bios);
	while ((bio = bio_list_pop(&bios))) {
		if (cowsnap_pb(bio)->ref)
			s->mode_ops->handle(s, bio);
		else if (s->phase == COWSNAP_PHASE_QUIESCE)
			bio_list_add(&s->held, bio);
		else
			cowsnap_redispatch(s, bio);
	}
	return n;
}

/* Requests from process context (suspend, destruction). */
static void process_requests(struct cowsnap_state *s)
{
	int r;

	if (s->commit_requested) {
		s->commit_requested = false;
		r = s->mode_ops->commit(s);
		if (r)
			DMERR("%s: commit failed: %d", s->name, r);
	}
}

static void worker_fn(struct work_struct *w)
{
	struct cowsnap_state *s = container_of(w, struct cowsnap_state, worker);
	unsigned int n;

	mutex_lock(&s->pass_lock);
	cowsnap_check_space(s);
	n = cowsnap_process_deferred(s);
	if (n)
		WRITE_ONCE(s->spread, n >= SPREAD_BIOS);
	s->mode_ops->process(s);
	process_requests(s);
	cowsnap_phase_process(s);
	mutex_unlock(&s->pass_lock);
}

/* Nothing for the worker to do: no bio parked, no copy queued or going. */
static bool worker_idle(struct cowsnap_state *s)
{
	bool idle;

	spin_lock_irq(&s->lock);
	idle = bio_list_empty(&s->deferred) && list_empty(&s->copied) &&
	       list_empty(&s->copy_reads) && !s->copies_in_flight;
	spin_unlock_irq(&s->lock);
	return idle && list_empty(&s->copy_queue);
}

/*
 * map()'s passes.  A first write whose submitter has other first writes
 * in flight leaves the next PASS_OFF to the worker: the worker gathers
 * the first writes parked while it runs into one commit, and overlaps
 * with the submitter, where map() would do them one after the other
 * (4 KiB first writes at queue depth 32 under QEMU: about 0.55x the
 * worker's rate, and one commit per write).  On a RAM disk a first
 * write that map() does ends before the next one comes, whatever the
 * submitter's queue depth: so now and then one is parked all the same,
 * the probe, to see whether more come meanwhile.  The first probe comes
 * PASS_PROBE passes after the submitter was last seen with others in
 * flight, each next one twice as late as the last, up to
 * PASS_PROBE << PROBE_SHIFT_MAX; a new state, whose submitter is not
 * known yet, probes at once.  A copy-on-write probe's commit is held
 * until a second first write comes, or HOLD_US (hold_commit() in
 * cowsnap-cow.c): else the worker could end it before the submitter
 * sent the next, and at queue depth 32 map() did the first 94 first
 * writes of a run (31 when the first probe found more) one by one, a
 * commit each (4 KiB chunks, 11 runs in two VMs).
 */
#define PASS_OFF		256
#define PASS_PROBE		32
#define PROBE_SHIFT_MAX		5

/*
 * The submitter of @pb's first write waits for each: no other is in
 * flight, and it is no work item (dm core sending the bios it held
 * during a suspend, writeback: they send a stream of bios).
 */
static bool alone_in_flight(struct cowsnap_state *s, struct cowsnap_bio *pb)
{
	unsigned int off, n;

	pb->first = true;
	n = atomic_inc_return(&s->first_writes);
	if (n > READ_ONCE(s->fw_seen))
		WRITE_ONCE(s->fw_seen, n);	/* for hold_commit() */
	if (n > 1) {
		WRITE_ONCE(s->pass_off, PASS_OFF);
		if (READ_ONCE(s->probe_shift))
			WRITE_ONCE(s->probe_shift, 0);
		return false;
	}
	if (current->flags & PF_WQ_WORKER)
		return false;
	off = READ_ONCE(s->pass_off);
	if (off)
		WRITE_ONCE(s->pass_off, off - 1);
	return !off;
}

/*
 * pass_lock held, map()'s pass for a first write: whether to park it as
 * the probe (see PASS_PROBE).  Copy-on-write queues the probe's worker
 * pass on another CPU: on the submitter's, the worker would preempt it
 * at once, before it could send more, and at queue depth 32 the probe
 * would find none (4 KiB first writes, one VM: 12-107 probes before one
 * found more, 2-20% of the writes done by map(), each with a commit of
 * its own; from another CPU, 1-3).  A submitter that does wait for each
 * pays that wake-up on another CPU once per probe, hence probes ever
 * further apart.  Redirect-on-write first writes commit nothing, and
 * those map() does ran faster at queue depth 32 than the worker's
 * (64 KiB chunks: 18-22k IOPS from the worker, 26-28k mostly map()'s).
 */
static bool probe_due(struct cowsnap_state *s)
{
	unsigned int shift = READ_ONCE(s->probe_shift);

	if (++s->pass_probe < PASS_PROBE << shift)
		return false;
	s->pass_probe = 0;
	s->probing = true;
	if (shift < PROBE_SHIFT_MAX)
		WRITE_ONCE(s->probe_shift, shift + 1);
	if (s->mode_ops->probe_elsewhere)
		WRITE_ONCE(s->spread, true);
	return true;
}

/*
 * map(), a first write @bio: do the worker's pass for it here, if its
 * submitter waits for each write (see PASS_OFF), no pass runs and the
 * worker has nothing to do; else return false, and the caller parks
 * @bio.  Bios sent meanwhile go down at once rather than after map()
 * returns: the submitter's list of bios (dm core's clones, sent after
 * map()) is kept aside.  So on a device that ends bios in their caller
 * (a RAM disk), a copy ends before dm_io() returns, the commit's write
 * before it is waited for, and @bio itself before map() returns: no
 * context switch at all.  Elsewhere the copy ends later and wakes the
 * worker as usual.  The bios sent meanwhile go to the origin and store
 * chunks of @bio, which the bios kept aside do not touch.  At the end,
 * a bio released that spans chunks may have queued a copy for its next
 * ones, which the worker starts.  (Bios parked meanwhile woke the
 * worker, and so does a copy that ends after the pass started it.)
 */
bool cowsnap_write_now(struct cowsnap_state *s, struct bio *bio)
{
	struct bio_list *queued;
	bool more;

	if (!alone_in_flight(s, cowsnap_pb(bio)) ||
	    !mutex_trylock(&s->pass_lock))
		return false;
	if (probe_due(s) || !worker_idle(s)) {
		mutex_unlock(&s->pass_lock);
		return false;
	}
	queued = current->bio_list;
	current->bio_list = NULL;
	s->mode_ops->write_now(s, bio);
	current->bio_list = queued;
	more = !list_empty(&s->copy_queue);
	mutex_unlock(&s->pass_lock);
	if (more)
		cowsnap_wake_worker(s);
	return true;
}

static void waker_fn(struct work_struct *w)
{
	struct cowsnap_state *s = container_of(to_delayed_work(w),
					       struct cowsnap_state, waker);

	cowsnap_wake_worker(s);
}

/* The online CPU after @cpu, from the first again after the last. */
int cowsnap_cpu_after(int cpu)
{
	cpu = cpumask_next(cpu, cpu_online_mask);
	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_online_mask);
}

/* Another online CPU than this one, or WORK_CPU_UNBOUND if none. */
int cowsnap_next_cpu(void)
{
	int this = raw_smp_processor_id();
	int cpu = cowsnap_cpu_after(this);

	return cpu == this || cpu >= nr_cpu_ids ? WORK_CPU_UNBOUND : cpu;
}

/*
 * Queue the worker's next pass.  Idle, it runs on this CPU, where a
 * parked bio does not wait for another CPU to wake up (at queue depth 1
 * that wake-up is most of a first write's time under QEMU).  Busy (see
 * SPREAD_COPIES), it is sent to the next CPU, so that its copies,
 * commits and releases overlap with the submitter's map(), instead of
 * sharing the submitter's CPU.  A work item never runs twice at once: a
 * pass queued while one runs follows it on that CPU.
 */
void cowsnap_wake_worker(struct cowsnap_state *s)
{
	int cpu = WORK_CPU_UNBOUND;

	if (READ_ONCE(s->copies_in_flight) >= SPREAD_COPIES ||
	    READ_ONCE(s->spread))
		cpu = cowsnap_next_cpu();
	queue_work_on(cpu, s->wq, &s->worker);
}

/* A commit was held long enough (hold_commit()): let the worker go on. */
static enum hrtimer_restart hold_expired(struct hrtimer *t)
{
	struct cowsnap_state *s = container_of(t, struct cowsnap_state,
					       hold_timer);

	WRITE_ONCE(s->hold_expired, true);
	cowsnap_wake_worker(s);
	return HRTIMER_NORESTART;
}

/* Process context: one worker pass after the caller's request.  Sleeps. */
void cowsnap_run_worker(struct cowsnap_state *s)
{
	cowsnap_wake_worker(s);
	flush_work(&s->worker);
}

/*
 * Bios may span chunks (the target sets no max_io_len): a bio that goes
 * on whole to one device is mapped whole, any other is trimmed in map()
 * with dm_accept_partial_bio(), and dm core sends the rest as a new bio.
 * Trimming is only possible in map(), so every bio is trimmed to one
 * chunk before it is deferred (a bio mapped again by the worker after a
 * phase change is then never trimmed), with one exception: a cow
 * live-view write holding an I/O reference is deferred as a run of
 * chunks without exceptions, which only the mode's handle() sees.
 */

/* Trim @bio to its first chunk. */
void cowsnap_clip_chunk(struct cowsnap_state *s, struct bio *bio)
{
	sector_t left = s->chunk_sectors -
		cowsnap_sector_in_chunk(bio->bi_iter.bi_sector, s->chunk_shift);

	if (bio_sectors(bio) > left)
		dm_accept_partial_bio(bio, left);
}

#define CLIP_RUN_MAX	1024	/* chunks looked up for one bio */

/* Is chunk @c like the run's first chunk (@found, at store chunk @at)? */
static bool run_goes_on(struct cowsnap_state *s, cowsnap_lookup_fn lookup,
			unsigned int runs, u64 c, bool found, u64 at)
{
	u64 store_chunk;

	if (lookup(&s->index, c, &store_chunk) != found)
		return false;
	return !found || !(runs & COWSNAP_RUN_CONTIGUOUS) || store_chunk == at;
}

/*
 * Trim @bio to its first run of chunks alike (at most CLIP_RUN_MAX):
 * all found by @lookup, or none; a kind not in @runs (COWSNAP_RUN_*)
 * has runs of one chunk, and with COWSNAP_RUN_CONTIGUOUS a run of found
 * chunks is also one run of store chunks.  Returns whether the first
 * chunk was found, and its store chunk in *@store_chunk if so.  Each
 * chunk is looked up once, however the bio is split.
 */
bool cowsnap_clip_run(struct cowsnap_state *s, struct bio *bio,
		      cowsnap_lookup_fn lookup, unsigned int runs,
		      u64 *store_chunk)
{
	bool found;

	*store_chunk = 0;	/* only a found chunk has one */
	found = lookup(&s->index, cowsnap_bio_chunk(s, bio), store_chunk);
	cowsnap_clip_run_after(s, bio, lookup, runs, found, *store_chunk);
	return found;
}

/*
 * As cowsnap_clip_run(), for a caller that looked the bio's first chunk
 * up already: @found, at @store_chunk.
 */
void cowsnap_clip_run_after(struct cowsnap_state *s, struct bio *bio,
			    cowsnap_lookup_fn lookup, unsigned int runs,
			    bool found, u64 store_chunk)
{
	u64 first = cowsnap_bio_chunk(s, bio);
	u64 last = cowsnap_sector_to_chunk(bio_end_sector(bio) - 1,
					   s->chunk_shift);
	u64 c;

	if (!(runs & (found ? COWSNAP_RUN_FOUND : COWSNAP_RUN_MISSING))) {
		cowsnap_clip_chunk(s, bio);
		return;
	}
	for (c = first + 1; c <= last && c - first < CLIP_RUN_MAX; c++)
		if (!run_goes_on(s, lookup, runs, c, found,
				 store_chunk + (c - first)))
			break;
	if (c <= last)
		dm_accept_partial_bio(bio, cowsnap_chunk_to_sector(c, s->chunk_shift) -
				      bio->bi_iter.bi_sector);
}

/*
 * Leave @bio to the worker as it is: only for a bio that holds an I/O
 * reference and whose mode's handle() takes bios spanning chunks (cow
 * live-view writes).
 */
void cowsnap_defer_bio_whole(struct cowsnap_state *s, struct bio *bio)
{
	unsigned long flags;
	bool wake;

	spin_lock_irqsave(&s->lock, flags);
	bio_list_add(&s->deferred, bio);
	/* A first write wakes a worker holding a commit only with enough */
	wake = !cowsnap_pb(bio)->first ||
	       atomic_read(&s->first_writes) >= s->hold_wake;
	spin_unlock_irqrestore(&s->lock, flags);
	if (wake)
		cowsnap_wake_worker(s);
}

/* Leave @bio to the worker; trimmed to one chunk first (see above). */
void cowsnap_defer_bio(struct cowsnap_state *s, struct bio *bio)
{
	if (bio_sectors(bio))
		cowsnap_clip_chunk(s, bio);
	cowsnap_defer_bio_whole(s, bio);
}

/* Map: take an I/O reference for @bio unless a phase change began. */
bool cowsnap_io_get(struct cowsnap_state *s, struct bio *bio)
{
	struct cowsnap_bio *pb = cowsnap_pb(bio);

	pb->ref = percpu_ref_tryget_live(&s->io_ref);
	return pb->ref;
}

/* end_io of every bio of both views. */
void cowsnap_end_bio(struct cowsnap_state *s, struct bio *bio)
{
	struct cowsnap_bio *pb = cowsnap_pb(bio);

	if (pb->tracked)
		cowsnap_untrack(s, pb);
	if (pb->first) {
		pb->first = false;
		atomic_dec(&s->first_writes);
	}
	if (pb->ref) {
		pb->ref = false;
		percpu_ref_put(&s->io_ref);
	}
}

static void io_ref_release(struct percpu_ref *ref)
{
	struct cowsnap_state *s = container_of(ref, struct cowsnap_state,
					       io_ref);

	WRITE_ONCE(s->quiesced, true);
	cowsnap_wake_worker(s);
}

/* Worker: map @bio again, under the current phase's tables. */
void cowsnap_redispatch(struct cowsnap_state *s, struct bio *bio)
{
	switch (cowsnap_map_bio(s, bio)) {
	case DM_MAPIO_REMAPPED:
		dm_submit_bio_remap(bio, NULL);
		break;
	case DM_MAPIO_KILL:
		bio_io_error(bio);
		break;
	default:			/* submitted, or deferred again */
		break;
	}
}

void cowsnap_redispatch_list(struct cowsnap_state *s, struct bio_list *bios)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios)))
		cowsnap_redispatch(s, bio);
}

/*
 * Every view gets two flush bios (ti->num_flush_bios): the first goes
 * to the origin, the second to the store, so a flush covers data on
 * both whatever the mode or phase.
 */
int cowsnap_remap_flush(struct cowsnap_state *s, struct bio *bio)
{
	bio_set_dev(bio, dm_bio_get_target_bio_nr(bio) ? s->store_bdev :
							  s->origin_bdev);
	return DM_MAPIO_REMAPPED;
}

/* Raise a dm event on every view.  Sleeps. */
void cowsnap_raise_event(struct cowsnap_state *s)
{
	struct cowsnap_target *ct;

	mutex_lock(&s->views_lock);
	list_for_each_entry(ct, &s->views, view_node)
		dm_table_event(ct->ti->table);
	mutex_unlock(&s->views_lock);
}

void cowsnap_state_attach(struct cowsnap_state *s, struct cowsnap_target *ct)
{
	mutex_lock(&s->views_lock);
	list_add_tail(&ct->view_node, &s->views);
	if (ct->params.view == COWSNAP_VIEW_LIVE) {
		WRITE_ONCE(s->live_views, s->live_views + 1);
		WRITE_ONCE(s->origin_ro, ct->origin_ro);
		WRITE_ONCE(s->queue_if_full,
			   ct->params.features & COWSNAP_F_QUEUE_IF_FULL);
		WRITE_ONCE(s->queue_seconds, ct->params.queue_seconds);
	}
	mutex_unlock(&s->views_lock);
}

void cowsnap_state_detach(struct cowsnap_state *s, struct cowsnap_target *ct)
{
	mutex_lock(&s->views_lock);
	list_del(&ct->view_node);
	if (ct->params.view == COWSNAP_VIEW_LIVE)
		WRITE_ONCE(s->live_views, s->live_views - 1);
	mutex_unlock(&s->views_lock);
}

const char *cowsnap_health_name(enum cowsnap_health h)
{
	static const char * const names[] = {
		[COWSNAP_VALID] = "valid",
		[COWSNAP_INVALID] = "invalid",
		[COWSNAP_DEGRADED] = "degraded",
		[COWSNAP_FULL] = "full",
	};

	return names[h];
}

/* Worker only: change the health, say so, raise an event. */
void cowsnap_set_health(struct cowsnap_state *s, enum cowsnap_health h,
			u32 reason)
{
	if (READ_ONCE(s->health) == h)
		return;
	WRITE_ONCE(s->invalid_reason, reason);
	WRITE_ONCE(s->health, h);
	if (h == COWSNAP_VALID)
		DMINFO("%s: snapshot valid again", s->name);
	else
		DMERR("%s: snapshot %s: %s", s->name, cowsnap_health_name(h),
		      cowsnap_reason_name(reason));
	cowsnap_raise_event(s);
}

/* Worker only (cow): the snapshot can no longer be trusted. */
void cowsnap_invalidate(struct cowsnap_state *s, u32 reason)
{
	if (!cowsnap_valid(s))
		return;
	cowsnap_store_invalidate(s->store, reason);
	cowsnap_set_health(s, COWSNAP_INVALID, reason);
}

/* Worker only: take store growth into account, raise the low-water event. */
void cowsnap_check_space(struct cowsnap_state *s)
{
	u64 low = READ_ONCE(s->low_water);

	if (READ_ONCE(s->resize_requested)) {
		WRITE_ONCE(s->resize_requested, false);
		if (cowsnap_store_resize(s->store)) {
			DMINFO("%s: store grew to %llu free chunks", s->name,
			       cowsnap_store_free_chunks(s->store));
			s->low_water_raised = false;
			if (READ_ONCE(s->health) == COWSNAP_FULL)
				cowsnap_set_health(s, COWSNAP_VALID,
						   COWSNAP_REASON_NONE);
		}
	}
	if (!low || s->low_water_raised ||
	    cowsnap_store_free_chunks(s->store) >= low)
		return;
	s->low_water_raised = true;
	DMWARN("%s: fewer than %llu free chunks left", s->name, low);
	cowsnap_raise_event(s);
}

static struct cowsnap_track_bucket *track_bucket(struct cowsnap_state *s,
						 u64 chunk)
{
	return &s->track[hash_64(chunk, ilog2(COWSNAP_TRACK_BUCKETS))];
}

void cowsnap_track(struct cowsnap_state *s, struct cowsnap_bio *pb, u64 chunk)
{
	struct cowsnap_track_bucket *b = track_bucket(s, chunk);
	unsigned long flags;

	pb->chunk = chunk;
	pb->tracked = true;
	spin_lock_irqsave(&b->lock, flags);
	hlist_add_head(&pb->track, &b->head);
	spin_unlock_irqrestore(&b->lock, flags);
}

void cowsnap_untrack(struct cowsnap_state *s, struct cowsnap_bio *pb)
{
	struct cowsnap_track_bucket *b = track_bucket(s, pb->chunk);
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	hlist_del(&pb->track);
	spin_unlock_irqrestore(&b->lock, flags);
	pb->tracked = false;
}

/*
 * Map, during a merge: track @bio on @chunk, or, if the chunk is in the
 * merge batch, leave the bio on merge_wait (under the bucket lock, so
 * that the batch's end, which unmarks first, then takes merge_wait,
 * cannot miss it) and return false.
 */
bool cowsnap_track_or_wait(struct cowsnap_state *s, struct bio *bio, u64 chunk)
{
	struct cowsnap_track_bucket *b = track_bucket(s, chunk);
	struct cowsnap_bio *pb = cowsnap_pb(bio);
	struct cowsnap_merge_entry *e;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	hlist_for_each_entry(e, &b->marks, mark) {
		if (e->origin_chunk == chunk) {
			spin_lock(&s->lock);
			bio_list_add(&s->merge_wait, bio);
			spin_unlock(&s->lock);
			spin_unlock_irqrestore(&b->lock, flags);
			return false;
		}
	}
	pb->chunk = chunk;
	pb->tracked = true;
	hlist_add_head(&pb->track, &b->head);
	spin_unlock_irqrestore(&b->lock, flags);
	return true;
}

/* Worker: bios of @e's chunk wait for the batch from now on. */
void cowsnap_mark(struct cowsnap_state *s, struct cowsnap_merge_entry *e)
{
	struct cowsnap_track_bucket *b = track_bucket(s, e->origin_chunk);

	spin_lock_irq(&b->lock);
	hlist_add_head(&e->mark, &b->marks);
	spin_unlock_irq(&b->lock);
}

void cowsnap_unmark(struct cowsnap_state *s, struct cowsnap_merge_entry *e)
{
	struct cowsnap_track_bucket *b = track_bucket(s, e->origin_chunk);

	spin_lock_irq(&b->lock);
	hlist_del(&e->mark);
	spin_unlock_irq(&b->lock);
}

/* Wait until no tracked bio of @chunk is in flight.  Sleeps. */
void cowsnap_wait_untracked(struct cowsnap_state *s, u64 chunk)
{
	while (cowsnap_chunk_tracked(s, chunk))
		usleep_range(100, 200);
}

bool cowsnap_chunk_tracked(struct cowsnap_state *s, u64 chunk)
{
	struct cowsnap_track_bucket *b = track_bucket(s, chunk);
	struct cowsnap_bio *pb;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&b->lock, flags);
	hlist_for_each_entry(pb, &b->head, track) {
		if (pb->chunk == chunk) {
			found = true;
			break;
		}
	}
	spin_unlock_irqrestore(&b->lock, flags);
	return found;
}

/* ---- pending exceptions ---- */

static struct hlist_head *pending_head(struct cowsnap_state *s, u64 chunk)
{
	return &s->pending[hash_64(chunk, COWSNAP_PENDING_BITS)];
}

/* Where the runs of @chunk's group are hashed (apart from single chunks). */
static struct hlist_head *pending_run_head(struct cowsnap_state *s, u64 chunk)
{
	return &s->pending[hash_64(~(chunk >> COWSNAP_INDEX_GROUP_SHIFT),
				   COWSNAP_PENDING_BITS)];
}

static struct cowsnap_pending *find_in(struct hlist_head *head, u64 chunk)
{
	struct cowsnap_pending *p;

	hlist_for_each_entry(p, head, hash)
		if (chunk - p->origin_chunk < p->len)
			return p;
	return NULL;
}

/*
 * A pending exception, not hashed yet, or NULL (never with GFP_NOIO,
 * which may sleep; GFP_NOWAIT never does).
 */
struct cowsnap_pending *cowsnap_alloc_pending(struct cowsnap_state *s,
					      gfp_t gfp)
{
	struct cowsnap_pending *p = mempool_alloc(&s->pending_pool, gfp);

	if (p) {
		memset(p, 0, sizeof(*p));
		p->s = s;
		bio_list_init(&p->bios);
	}
	return p;
}

/*
 * The pending exception of @chunk (perhaps a run's), or NULL.  Caller
 * holds pending_lock.
 */
struct cowsnap_pending *__cowsnap_find_pending(struct cowsnap_state *s,
					       u64 chunk)
{
	struct cowsnap_pending *p;

	lockdep_assert_held(&s->pending_lock);
	p = find_in(pending_head(s, chunk), chunk);
	if (!p && s->pending_runs)
		p = find_in(pending_run_head(s, chunk), chunk);
	return p;
}

/*
 * @chunk is neither pending nor mapped: a first write may claim it.
 * Caller holds pending_lock.
 */
bool __cowsnap_unclaimed(struct cowsnap_state *s, u64 chunk)
{
	return __cowsnap_unclaimed_run(s, chunk, 1) == 1;
}

/*
 * How many of the @n chunks from @chunk on (in one group) a first write
 * may claim, counted from the first: the first chunk pending or mapped
 * ends the count.  Probes the group's pending runs once, and each chunk
 * only while single chunks are pending.  Caller holds pending_lock.
 */
u32 __cowsnap_unclaimed_run(struct cowsnap_state *s, u64 chunk, u32 n)
{
	struct cowsnap_pending *p;
	u32 k;

	lockdep_assert_held(&s->pending_lock);
	if (s->pending_runs) {
		hlist_for_each_entry(p, pending_run_head(s, chunk), hash)
			if (p->origin_chunk < chunk + n &&
			    chunk < p->origin_chunk + p->len)
				n = p->origin_chunk > chunk ?
				    p->origin_chunk - chunk : 0;
	}
	if (s->pending_singles) {
		for (k = 0; k < n; k++)
			if (find_in(pending_head(s, chunk + k), chunk + k))
				n = k;
	}
	return cowsnap_index_unmapped(&s->index, chunk, n);
}

/* Make @p the pending exception of @chunk.  Caller holds pending_lock. */
void __cowsnap_hash_pending(struct cowsnap_state *s, struct cowsnap_pending *p,
			    u64 chunk, u64 store_chunk)
{
	lockdep_assert_held(&s->pending_lock);
	p->origin_chunk = chunk;
	p->store_chunk = store_chunk;
	p->len = 1;
	hlist_add_head(&p->hash, pending_head(s, chunk));
	s->pending_singles++;
}

/*
 * Make @p the pending exception of the @len chunks from @chunk on, in
 * one group (COWSNAP_INDEX_GROUP), with store chunks in a row from
 * @store_chunk.  Caller holds pending_lock.
 */
void __cowsnap_hash_run(struct cowsnap_state *s, struct cowsnap_pending *p,
			u64 chunk, u64 store_chunk, u32 len)
{
	if (len == 1) {
		__cowsnap_hash_pending(s, p, chunk, store_chunk);
		return;
	}
	lockdep_assert_held(&s->pending_lock);
	p->origin_chunk = chunk;
	p->store_chunk = store_chunk;
	p->len = len;
	hlist_add_head(&p->hash, pending_run_head(s, chunk));
	s->pending_runs++;
}

/*
 * @p is no longer pending: no bio can join it any more, and those that
 * did, on p->bios, belong to the caller from now on.  Returns whether
 * any did.  Any context.
 */
bool cowsnap_unhash_pending(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	unsigned long flags;
	bool waited;

	spin_lock_irqsave(&s->pending_lock, flags);
	hlist_del_init(&p->hash);
	if (p->len > 1)
		s->pending_runs--;
	else
		s->pending_singles--;
	waited = !bio_list_empty(&p->bios);
	spin_unlock_irqrestore(&s->pending_lock, flags);
	return waited;
}

/* Free @p, unhashed, with no bio and no index entry left. */
void cowsnap_free_pending(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	WARN_ON_ONCE(!hlist_unhashed(&p->hash) || !bio_list_empty(&p->bios));
	if (p->entry)
		cowsnap_index_free(p->entry);
	mempool_free(p, &s->pending_pool);
}

/*
 * A chain of up to *@n pending exceptions from @alloc, linked by
 * run_next; how many in *@n (fewer only if it may not sleep).
 */
struct cowsnap_pending *cowsnap_new_chain(struct cowsnap_state *s, u32 *n,
					  struct cowsnap_pending *(*alloc)
					  (struct cowsnap_state *s, bool may_sleep),
					  bool may_sleep)
{
	struct cowsnap_pending *head = NULL, **tail = &head, *p;
	u32 i;

	for (i = 0; i < *n; i++) {
		p = alloc(s, may_sleep);
		if (!p)
			break;
		*tail = p;
		tail = &p->run_next;
	}
	*n = i;
	return head;
}

/* Free a chain of pending exceptions (linked by run_next). */
void cowsnap_free_chain(struct cowsnap_state *s, struct cowsnap_pending *p)
{
	struct cowsnap_pending *next;

	for (; p; p = next) {
		next = p->run_next;
		cowsnap_free_pending(s, p);
	}
}

/*
 * The regions of @nr chunks from @origin_chunk and @store_chunk on: the
 * origin's last chunk may be short.
 */
void cowsnap_chunk_regions(struct cowsnap_state *s, u64 origin_chunk,
			   u64 store_chunk, u32 nr, struct dm_io_region *origin,
			   struct dm_io_region *store)
{
	sector_t start = cowsnap_chunk_to_sector(origin_chunk, s->chunk_shift);

	origin->bdev = s->origin_bdev;
	origin->sector = start;
	origin->count = min_t(sector_t, cowsnap_chunk_to_sector(nr, s->chunk_shift),
			      s->origin_sectors - start);
	store->bdev = s->store_bdev;
	store->sector = cowsnap_chunk_to_sector(store_chunk, s->chunk_shift);
	store->count = origin->count;
}

/* Chunks in the run that starts with @p (linked by run_next). */
u32 cowsnap_run_length(const struct cowsnap_pending *p)
{
	u32 n = 0;

	for (; p; p = p->run_next)
		n++;
	return n;
}

/*
 * Exceptions being loaded into the index.  A row store's log holds the
 * exceptions of a run written at once one after another: they are
 * indexed as a run again (within a group), not one entry per chunk.
 */
struct loader {
	struct cowsnap_state *s;
	u64 origin_chunk;		/* of the run so far */
	u64 store_chunk;
	u32 len;			/* 0: none */
};

/* Index the run gathered so far.  Sleeps (GFP_NOIO, never fails). */
static void load_flush(struct loader *l)
{
	struct cowsnap_index *ix = &l->s->index;
	struct cowsnap_exception *e;
	unsigned long flags;

	if (!l->len)
		return;
	e = cowsnap_index_entry_alloc(GFP_NOIO | __GFP_NOFAIL);
	flags = cowsnap_index_lock(ix);
	/* Cannot fail: each chunk was looked up as it came */
	WARN_ON_ONCE(__cowsnap_index_insert_run(ix, e, l->origin_chunk,
						l->store_chunk, l->len));
	cowsnap_index_unlock(ix, flags);
	l->len = 0;
}

/* Whether the exception @origin_chunk -> @store_chunk extends the run. */
static bool load_extends(struct loader *l, u64 origin_chunk, u64 store_chunk)
{
	return l->len && origin_chunk == l->origin_chunk + l->len &&
	       store_chunk == l->store_chunk + l->len &&
	       origin_chunk & (COWSNAP_INDEX_GROUP - 1);
}

static int load_exception(void *ctx, u64 origin_chunk, u64 store_chunk)
{
	struct loader *l = ctx;
	u64 unused;

	if (l->s->mode != COWSNAP_MODE_ROW)	/* cow: no runs */
		return cowsnap_index_insert(&l->s->index, origin_chunk,
					    store_chunk);
	if (!load_extends(l, origin_chunk, store_chunk)) {
		load_flush(l);
		l->origin_chunk = origin_chunk;
		l->store_chunk = store_chunk;
	}
	if (cowsnap_index_lookup(&l->s->index, origin_chunk, &unused))
		return -EEXIST;
	l->len++;
	return 0;
}

static void init_fields(struct cowsnap_state *s, struct cowsnap_target *ct)
{
	u32 i;

	kref_init(&s->kref);
	s->store_dev = ct->store->bdev->bd_dev;
	s->origin_dev = ct->origin->bdev->bd_dev;
	s->origin_bdev = ct->origin->bdev;
	s->store_bdev = ct->store->bdev;
	s->mode = ct->params.mode;
	s->chunk_sectors = ct->params.chunk_sectors;
	s->chunk_shift = ct->params.chunk_shift;
	s->origin_sectors = bdev_nr_sectors(ct->origin->bdev);
	s->transient = ct->params.features & COWSNAP_F_TRANSIENT;
	s->low_water = ct->params.low_water_chunks;
	s->origin_ro = ct->origin_ro;
	s->queue_if_full = ct->params.features & COWSNAP_F_QUEUE_IF_FULL;
	s->queue_seconds = ct->params.queue_seconds;
	s->mode_ops = s->mode == COWSNAP_MODE_ROW ? &cowsnap_row_ops :
						   &cowsnap_cow_ops;
	s->ops = s->mode_ops;
	snprintf(s->name, sizeof(s->name), "store %s", ct->store->name);
	spin_lock_init(&s->lock);
	spin_lock_init(&s->pending_lock);
	bio_list_init(&s->deferred);
	INIT_LIST_HEAD(&s->copied);
	INIT_LIST_HEAD(&s->written);
	INIT_LIST_HEAD(&s->copy_queue);
	INIT_LIST_HEAD(&s->copy_reads);
	INIT_LIST_HEAD(&s->copies_kept);
	bio_list_init(&s->merge_wait);
	bio_list_init(&s->held);
	bio_list_init(&s->nospace);
	init_completion(&s->op_done);
	mutex_init(&s->op_lock);
	mutex_init(&s->pass_lock);
	init_waitqueue_head(&s->batch_wait);
	INIT_DELAYED_WORK(&s->waker, waker_fn);
	hrtimer_init(&s->hold_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	s->hold_timer.function = hold_expired;
	s->pass_probe = PASS_PROBE - 1;	/* a new state probes at once */
	INIT_LIST_HEAD(&s->views);
	mutex_init(&s->views_lock);
	INIT_WORK(&s->worker, worker_fn);
	for (i = 0; i < ARRAY_SIZE(s->pending); i++)
		INIT_HLIST_HEAD(&s->pending[i]);
	for (i = 0; i < COWSNAP_TRACK_BUCKETS; i++) {
		spin_lock_init(&s->track[i].lock);
		INIT_HLIST_HEAD(&s->track[i].head);
		INIT_HLIST_HEAD(&s->track[i].marks);
	}
}

static int open_store(struct cowsnap_state *s, struct cowsnap_target *ct,
		      char **error)
{
	struct cowsnap_store_params p = {
		.bdev = s->store_bdev,
		.name = s->name,
		.mode = s->mode == COWSNAP_MODE_ROW ? COWSNAP_DISK_MODE_ROW :
						      COWSNAP_DISK_MODE_COW,
		.chunk_sectors = s->chunk_sectors,
		.origin_sectors = s->origin_sectors,
		.transient = s->transient,
		.reformat = ct->params.features & COWSNAP_F_REFORMAT,
		.origin_id = ct->params.origin_path,
	};
	struct loader l = { .s = s };
	u32 reason;
	int r;

	r = cowsnap_index_init(&s->index,
			       cowsnap_store_capacity(s->store_bdev,
						      s->chunk_sectors));
	if (r) {
		*error = "Cannot allocate the exception index";
		return r;
	}
	r = cowsnap_store_open(&p, load_exception, &l, &s->store, error);
	if (r)
		return r;
	load_flush(&l);
	if (cowsnap_store_invalid(s->store, &reason)) {
		s->health = COWSNAP_INVALID;
		s->invalid_reason = reason;
	}
	r = cowsnap_phase_init(s);
	if (r)
		*error = "Cannot allocate the merge buffer";
	return r;
}

/* Build a new state from the first view's table.  Sleeps. */
int cowsnap_state_init(struct cowsnap_state *s, struct cowsnap_target *ct,
		       char **error)
{
	int r;

	init_fields(s, ct);
	r = mempool_init_kmalloc_pool(&s->pending_pool, PENDING_POOL_MIN,
				      sizeof(struct cowsnap_pending));
	if (!r)
		r = percpu_ref_init(&s->io_ref, io_ref_release,
				    PERCPU_REF_ALLOW_REINIT, GFP_KERNEL);
	if (r) {
		*error = "Cannot allocate the state";
		goto bad;
	}
	s->kcopyd = dm_kcopyd_client_create(NULL);
	if (IS_ERR(s->kcopyd)) {
		r = PTR_ERR(s->kcopyd);
		s->kcopyd = NULL;
		*error = "Cannot create the kcopyd client";
		goto bad;
	}
	s->copy_io = dm_io_client_create();
	if (IS_ERR(s->copy_io)) {
		r = PTR_ERR(s->copy_io);
		s->copy_io = NULL;
		*error = "Cannot create the dm-io client";
		goto bad;
	}
	r = bioset_init(&s->copy_bs, COPY_BIOS, 0, BIOSET_NEED_BVECS);
	if (r) {
		*error = "Cannot create the copies' bio set";
		goto bad;
	}
	s->wq = alloc_workqueue("kcowsnapd", WQ_MEM_RECLAIM, 0);
	if (!s->wq) {
		r = -ENOMEM;
		*error = "Cannot create the workqueue";
		goto bad;
	}
	r = open_store(s, ct, error);
	if (r)
		goto bad;
	return 0;
bad:
	cowsnap_state_exit(s);
	return r;
}

/* Tear a state down once no view uses it.  Sleeps. */
void cowsnap_state_exit(struct cowsnap_state *s)
{
	if (s->wq && s->store) {
		cowsnap_phase_stop(s);
		s->commit_requested = true;
		cowsnap_run_worker(s);
		hrtimer_cancel(&s->hold_timer);
		cancel_delayed_work_sync(&s->waker);
		flush_workqueue(s->wq);
		s->mode_ops->drain(s);
	}
	if (s->wq)
		destroy_workqueue(s->wq);
	if (s->kcopyd)
		dm_kcopyd_client_destroy(s->kcopyd);
	cowsnap_free_copies(s);
	cowsnap_free_copier(s);
	if (s->copy_io)
		dm_io_client_destroy(s->copy_io);
	bioset_exit(&s->copy_bs);
	if (s->store)
		cowsnap_store_close(s->store);
	cowsnap_index_destroy(&s->index);
	percpu_ref_exit(&s->io_ref);
	mempool_exit(&s->pending_pool);
}
