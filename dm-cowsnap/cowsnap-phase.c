// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the phases of a state, and the rollback and fold messages.
 *
 *   mode      the snapshot runs; the mode's tables map every bio, each
 *             holding a reference on state->io_ref.
 *   quiesce   before a change: new bios are held by the worker; once
 *             io_ref drops to zero no bio of the mode is in flight.
 *   merge     the store's chunks are copied into the origin, one batch
 *             (batch_max(): 16 exception blocks, 16 MiB at most) at a
 *             time, in commit order; the live view reads and writes a
 *             chunk in the store until its batch is durable in the
 *             origin, and in the origin after; the snapshot view fails
 *             every I/O.
 *   ended     the origin alone is the live view; the snapshot view
 *             fails every I/O.
 *
 * What each message does, by mode:
 *
 *               cow                        row
 *   rollback    quiesce, merge, end        quiesce, drop, mode again
 *   fold        quiesce, end               quiesce, merge, end
 *
 * Drop: a new epoch in the superblock makes every exception block on
 * disk stale at once (one write), whatever the store holds.
 *
 * Crash safety of a merge: a batch's copies are flushed to the origin,
 * then the superblock records the merge cursor past the batch; only
 * then do the batch's chunks leave the index, so a live write reaches
 * the origin of a chunk only once no later resume will copy that chunk
 * again.  A resume reloads the exceptions after the cursor and goes on.
 *
 * The batch's copy: the copier's two lanes, work items beside the
 * worker on different CPUs, each take as much of the batch as their
 * 2 MiB buffer holds, read it from the store (every run at once, through
 * dm-io), then write it to the origin, until the batch is all taken; no
 * page is allocated (nor zeroed) per copy.
 *
 * Everything here runs in the worker but the map functions, the lanes
 * and cowsnap_phase_request() / cowsnap_phase_stop() (process context).
 */
#include <linux/blkdev.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/sort.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

/* ---- the phases' map tables ---- */

/* Quiesce: every bio waits for the next phase. */
static int quiesce_map(struct cowsnap_state *s, struct bio *bio)
{
	cowsnap_defer_bio(s, bio);
	return DM_MAPIO_SUBMITTED;
}

static int merge_map_live(struct cowsnap_state *s, struct bio *bio)
{
	u64 chunk = cowsnap_bio_chunk(s, bio);
	u64 store_chunk;

	if (!bio_sectors(bio))
		return cowsnap_remap_flush(s, bio);
	cowsnap_clip_chunk(s, bio);	/* tracked and mapped by chunk */
	if (!cowsnap_track_or_wait(s, bio, chunk))
		return DM_MAPIO_SUBMITTED;	/* its batch is being copied */
	if (cowsnap_index_lookup(&s->index, chunk, &store_chunk)) {
		cowsnap_remap(s, bio, s->store_bdev, store_chunk);
		return DM_MAPIO_REMAPPED;	/* tracked until it ends */
	}
	cowsnap_untrack(s, cowsnap_pb(bio));
	bio_set_dev(bio, s->origin_bdev);
	return DM_MAPIO_REMAPPED;
}

/*
 * A discard while quiescing or merging: completed without I/O (the
 * chunk may still be copied; a discard is never deferred).
 */
static int merge_discard(struct cowsnap_state *s, struct bio *bio)
{
	return cowsnap_map_nothing(bio);
}

static int kill_map(struct cowsnap_state *s, struct bio *bio)
{
	return DM_MAPIO_KILL;
}

static int ended_map_live(struct cowsnap_state *s, struct bio *bio)
{
	if (!bio_sectors(bio))
		return cowsnap_remap_flush(s, bio);
	if (s->origin_ro && op_is_write(bio_op(bio)))
		return DM_MAPIO_KILL;
	bio_set_dev(bio, s->origin_bdev);
	return DM_MAPIO_REMAPPED;
}

const struct cowsnap_mode_ops cowsnap_quiesce_ops = {
	.map = { quiesce_map, quiesce_map },
	.discard = merge_discard,
};

const struct cowsnap_mode_ops cowsnap_merge_ops = {
	.map = { merge_map_live, kill_map },
	.discard = merge_discard,
};

const struct cowsnap_mode_ops cowsnap_ended_ops = {
	.map = { ended_map_live, kill_map },
	.discard = ended_map_live,
};

/* ---- names for status ---- */

const char *cowsnap_state_word(struct cowsnap_state *s)
{
	enum cowsnap_health h = READ_ONCE(s->health);

	if (h != COWSNAP_VALID)
		return cowsnap_health_name(h);
	switch (READ_ONCE(s->phase)) {
	case COWSNAP_PHASE_MERGE:
		return "merging";
	case COWSNAP_PHASE_ENDED:
		return "ended";
	default:
		return "valid";
	}
}

/* ---- phase changes ---- */

static void set_phase(struct cowsnap_state *s, enum cowsnap_phase phase,
		      const struct cowsnap_mode_ops *ops)
{
	WRITE_ONCE(s->ops, ops);
	WRITE_ONCE(s->phase, phase);
}

static void answer(struct cowsnap_state *s, int r, const char *why)
{
	s->op_result = r;
	s->op_why = why;
	complete(&s->op_done);
}

/* Why @op cannot start now, or NULL; *@r gets the error. */
static const char *refusal(struct cowsnap_state *s, u32 op, int *r)
{
	enum cowsnap_health h = READ_ONCE(s->health);

	*r = -EBUSY;
	if (s->phase == COWSNAP_PHASE_MERGE)
		return "a merge is running";
	*r = -EINVAL;
	if (s->phase == COWSNAP_PHASE_ENDED)
		return "the snapshot has ended";
	if (!READ_ONCE(s->live_views))
		return "no live view is loaded";
	*r = -EIO;
	if (h == COWSNAP_DEGRADED)
		return "the store failed";
	*r = -EINVAL;
	if (h == COWSNAP_INVALID && op == COWSNAP_DISK_OP_ROLLBACK)
		return "the snapshot is invalid";
	*r = -EROFS;
	if (s->mode == COWSNAP_MODE_ROW && op == COWSNAP_DISK_OP_FOLD &&
	    s->origin_ro)
		return "the origin is read-only";
	*r = 0;
	return NULL;
}

static void start_quiesce(struct cowsnap_state *s)
{
	struct bio *bio;

	WRITE_ONCE(s->quiesced, false);
	set_phase(s, COWSNAP_PHASE_QUIESCE, &cowsnap_quiesce_ops);
	/* Writes queued for space would hold their references forever. */
	while ((bio = bio_list_pop(&s->nospace))) {
		cowsnap_pb(bio)->ref = false;
		percpu_ref_put(&s->io_ref);
		bio_list_add(&s->held, bio);
	}
	percpu_ref_kill(&s->io_ref);
}

static void take_request(struct cowsnap_state *s)
{
	u32 op = READ_ONCE(s->op_request);
	const char *why;
	int r;

	WRITE_ONCE(s->op_request, 0);
	why = refusal(s, op, &r);
	if (why) {
		answer(s, r, why);
		return;
	}
	s->op = op;
	start_quiesce(s);
}

/* Row rollback: drop every exception; the snapshot runs on, fresh. */
static int drop(struct cowsnap_state *s)
{
	int r = cowsnap_store_drop(s->store);

	if (r)
		return r;
	cowsnap_index_clear(&s->index);
	percpu_ref_reinit(&s->io_ref);
	set_phase(s, COWSNAP_PHASE_MODE, s->mode_ops);
	s->op = COWSNAP_DISK_OP_NONE;
	cowsnap_set_health(s, COWSNAP_VALID, COWSNAP_REASON_NONE);
	return 0;
}

/* Cow fold: the store is dropped, the origin holds the live view. */
static int end_now(struct cowsnap_state *s)
{
	int r = cowsnap_store_end(s->store, s->op);

	if (r)
		return r;
	set_phase(s, COWSNAP_PHASE_ENDED, &cowsnap_ended_ops);
	cowsnap_index_clear(&s->index);
	WRITE_ONCE(s->health, COWSNAP_VALID);
	WRITE_ONCE(s->invalid_reason, COWSNAP_REASON_NONE);
	return 0;
}

static int begin_merge(struct cowsnap_state *s)
{
	u32 op;
	int r = cowsnap_get_copier(s);

	if (!r)
		r = cowsnap_store_begin_merge(s->store, s->op);
	if (r)
		return r;
	/* The merge removes exceptions chunk by chunk */
	cowsnap_index_split_runs(&s->index);
	cowsnap_store_phase(s->store, &op, &s->merge_cursor, &s->merge_total);
	s->merge_bucket = 0;
	s->merge_start = ktime_get();
	s->merge_from = s->merge_cursor;
	set_phase(s, COWSNAP_PHASE_MERGE, &cowsnap_merge_ops);
	return 0;
}

typedef int (*phase_action_fn)(struct cowsnap_state *s);

/* What a message does, by [mode][operation]. */
static const phase_action_fn actions[2][3] = {
	[COWSNAP_MODE_COW] = {
		[COWSNAP_DISK_OP_ROLLBACK] = begin_merge,
		[COWSNAP_DISK_OP_FOLD] = end_now,
	},
	[COWSNAP_MODE_ROW] = {
		[COWSNAP_DISK_OP_ROLLBACK] = drop,
		[COWSNAP_DISK_OP_FOLD] = begin_merge,
	},
};

/* Nothing of the mode is in flight any more: carry the request out. */
static void after_quiesce(struct cowsnap_state *s)
{
	int r = s->mode_ops->commit(s);

	if (!r)
		r = actions[s->mode][s->op](s);
	if (r) {
		DMERR("%s: %s failed: %d", s->name, cowsnap_op_name(s->op), r);
		s->op = COWSNAP_DISK_OP_NONE;
		percpu_ref_reinit(&s->io_ref);
		set_phase(s, COWSNAP_PHASE_MODE, s->mode_ops);
	} else {
		DMINFO("%s: %s started", s->name, cowsnap_op_name(s->op));
	}
	cowsnap_redispatch_list(s, &s->held);
	if (!r)
		answer(s, 0, NULL);
	else
		answer(s, r, r == -ENOMEM ? "out of memory" : "the store failed");
	cowsnap_raise_event(s);
}

/* ---- merge ---- */

/*
 * Exceptions per merge batch; 0, the default: COWSNAP_MERGE_BATCH, and
 * COWSNAP_MERGE_BATCH_SECTORS of chunks at most.  Smaller batches let the
 * tests merge many batches on small devices.
 */
static uint merge_batch;
module_param(merge_batch, uint, 0644);
MODULE_PARM_DESC(merge_batch,
		 "Exceptions per merge batch (0: 16 exception blocks, 16 MiB of chunks at most)");

/* Exceptions in the next batch. */
static u32 batch_max(struct cowsnap_state *s)
{
	u32 n = READ_ONCE(merge_batch);

	if (n)
		return min_t(u32, n, COWSNAP_MERGE_BATCH);
	return min_t(u32, COWSNAP_MERGE_BATCH,
		     max_t(u32, 1, COWSNAP_MERGE_BATCH_SECTORS >> s->chunk_shift));
}

/*
 * The exceptions to merge from @pos on, in s->scratch, in commit order
 * (a persistent store: from its exception log; a transient one: any that
 * are still in the index), batch_max() at most: how many, or an error.
 */
static int next_exceptions(struct cowsnap_state *s, u64 pos)
{
	u64 *origin = s->scratch, *store = s->scratch + COWSNAP_MERGE_BATCH;
	u32 max = batch_max(s);
	int n = 0, r;

	if (s->transient)
		return cowsnap_index_collect(&s->index, &s->merge_bucket,
					     origin, store, max);
	while (n < max && pos < s->merge_total) {
		r = cowsnap_store_read_log(s->store, pos, origin + n, store + n,
					   max - n);
		if (r < 0)
			return r;
		if (!r)
			break;
		n += r;
		pos += r;
	}
	return n;
}

static void merge_fail(struct cowsnap_state *s, int r)
{
	DMERR("%s: merge stopped at %llu of %llu: %d", s->name,
	      s->merge_cursor, s->merge_total, r);
	s->merge_failed = true;
	cowsnap_set_health(s, COWSNAP_DEGRADED, r == -EBADMSG ?
			   COWSNAP_REASON_METADATA_CORRUPT :
			   COWSNAP_REASON_STORE_IO_ERROR);
}

static int cmp_origin(const void *a, const void *b)
{
	const struct cowsnap_merge_entry *x = a, *y = b;

	return x->origin_chunk < y->origin_chunk ? -1 :
	       x->origin_chunk > y->origin_chunk;
}

/* Whether @n entries from @e are in origin order already. */
static bool in_origin_order(const struct cowsnap_merge_entry *e, u32 n)
{
	u32 i;

	for (i = 1; i < n; i++)
		if (e[i - 1].origin_chunk > e[i].origin_chunk)
			return false;
	return true;
}

/*
 * Read the batch after the one being copied into s->ready, sorted by
 * origin chunk (unless it is there already, or there is none left).
 * A transient store's batch comes from the index: only once no batch
 * is being copied, or it would collect that batch's exceptions again.
 */
static void prepare_ready(struct cowsnap_state *s)
{
	u64 *origin = s->scratch, *store = s->scratch + COWSNAP_MERGE_BATCH;
	u64 pos = s->merge_cursor + s->batch_nr;
	int n, i;

	if (s->ready_nr || s->merge_failed || pos >= s->merge_total ||
	    (s->transient && s->batch_nr))
		return;
	n = next_exceptions(s, pos);
	if (n < 0) {
		merge_fail(s, n);
		return;
	}
	for (i = 0; i < n; i++) {
		s->ready[i].origin_chunk = origin[i];
		s->ready[i].store_chunk = store[i];
	}
	/* Sequential writes commit in origin order: no sort then. */
	if (!in_origin_order(s->ready, n))
		sort(s->ready, n, sizeof(*s->ready), cmp_origin, NULL);
	s->ready_nr = n;
}

/* The ready batch becomes the batch: its chunks wait, the copier runs. */
static void start_batch(struct cowsnap_state *s)
{
	u32 i;

	swap(s->batch, s->ready);
	s->batch_nr = s->ready_nr;
	s->ready_nr = 0;
	for (i = 0; i < s->batch_nr; i++)
		cowsnap_mark(s, &s->batch[i]);
	/* Live bios already sent to these store chunks end first. */
	for (i = 0; i < s->batch_nr; i++)
		cowsnap_wait_untracked(s, s->batch[i].origin_chunk);
	cowsnap_copy_batch(s);
}

/*
 * Release the @nr chunks of a batch @e that was copied: to the origin if
 * @merged, else the store.
 */
static void release_batch(struct cowsnap_state *s,
			  struct cowsnap_merge_entry *e, u32 nr, bool merged)
{
	struct bio_list bios;
	u32 i;

	for (i = 0; i < nr; i++)
		e[i].removed = merged ?
			cowsnap_index_remove(&s->index, e[i].origin_chunk) :
			NULL;
	for (i = 0; i < nr; i++)
		cowsnap_unmark(s, &e[i]);
	spin_lock_irq(&s->lock);
	bios = s->merge_wait;
	bio_list_init(&s->merge_wait);
	spin_unlock_irq(&s->lock);
	cowsnap_redispatch_list(s, &bios);
	if (merged) {
		/* no lookup sees them any more; expedited: one per batch */
		synchronize_rcu_expedited();
		for (i = 0; i < nr; i++)
			if (e[i].removed)
				cowsnap_index_free(e[i].removed);
	}
}

/*
 * The batch is copied: flushed to the origin, then the superblock's
 * merge cursor moves past it, and it is no longer the batch.  Returns
 * false if that failed (the batch is released to the store, the merge
 * stops).
 */
static bool finish_batch(struct cowsnap_state *s)
{
	u64 cursor = s->merge_cursor + s->batch_nr;
	int r = READ_ONCE(s->batch_error);

	if (!r)
		r = blkdev_issue_flush(s->origin_bdev);
	if (!r && !s->transient)
		r = cowsnap_store_merge_advance(s->store, cursor);
	if (r) {
		release_batch(s, s->batch, s->batch_nr, false);
		merge_fail(s, r);
	} else {
		WRITE_ONCE(s->merge_cursor, cursor);
	}
	s->batch_nr = 0;
	return !r;
}

static void end_merge(struct cowsnap_state *s)
{
	int r = cowsnap_store_end(s->store, s->op);

	if (r) {
		merge_fail(s, r);
		return;
	}
	WRITE_ONCE(s->merge_cursor, s->merge_total);
	set_phase(s, COWSNAP_PHASE_ENDED, &cowsnap_ended_ops);
	cowsnap_free_copier(s);		/* no lane runs: batch_nr is 0 */
	DMINFO("%s: %s done: %llu chunks merged (%llu in %lld ms)", s->name,
	       cowsnap_op_name(s->op), s->merge_total,
	       s->merge_total - s->merge_from,
	       ktime_ms_delta(ktime_get(), s->merge_start));
	cowsnap_raise_event(s);
}

/*
 * One worker pass of a merge.  While the copier copies a batch, the
 * next one is read and sorted.  Once it is copied and durable, the next
 * batch's copy starts before this one's chunks are released (a
 * transient store's release comes first, see prepare_ready()).
 */
static void merge_step(struct cowsnap_state *s)
{
	struct cowsnap_merge_entry *done = s->batch;
	u32 done_nr = s->batch_nr;

	if (done_nr && atomic_read_acquire(&s->batch_copies)) {
		prepare_ready(s);
		return;
	}
	if (done_nr) {
		if (!finish_batch(s))
			return;
		if (s->transient) {
			release_batch(s, done, done_nr, true);
			done_nr = 0;
		}
	}
	if (!READ_ONCE(s->merge_paused)) {
		prepare_ready(s);
		if (s->ready_nr)
			start_batch(s);
	}
	if (done_nr)
		release_batch(s, done, done_nr, true);
	if (s->batch_nr)
		prepare_ready(s);
	else if (!READ_ONCE(s->merge_paused) && !s->merge_failed)
		end_merge(s);
}

/* ---- entry points ---- */

/* At creation: where the store's superblock says the state is. */
int cowsnap_phase_init(struct cowsnap_state *s)
{
	u32 state = cowsnap_store_phase(s->store, &s->op, &s->merge_cursor,
					&s->merge_total);

	s->merge_paused = true;		/* until the live view resumes */
	s->merge_start = ktime_get();
	s->merge_from = s->merge_cursor;
	if (state == COWSNAP_DISK_STATE_MERGING) {
		/* The merge removes exceptions chunk by chunk */
		cowsnap_index_split_runs(&s->index);
		set_phase(s, COWSNAP_PHASE_MERGE, &cowsnap_merge_ops);
	} else if (state == COWSNAP_DISK_STATE_ENDED) {
		set_phase(s, COWSNAP_PHASE_ENDED, &cowsnap_ended_ops);
	} else {
		set_phase(s, COWSNAP_PHASE_MODE, s->mode_ops);
	}
	return state == COWSNAP_DISK_STATE_MERGING ? cowsnap_get_copier(s) : 0;
}

void cowsnap_phase_process(struct cowsnap_state *s)
{
	if (READ_ONCE(s->op_request))
		take_request(s);
	if (s->phase == COWSNAP_PHASE_QUIESCE && READ_ONCE(s->quiesced))
		after_quiesce(s);
	if (s->phase == COWSNAP_PHASE_MERGE)
		merge_step(s);
}

/*
 * Process context: carry out a rollback or fold message.  Returns when
 * the operation is done (drop, end) or started (merge), or refused: a
 * negative error, with the reason in *@why.  Sleeps.
 */
int cowsnap_phase_request(struct cowsnap_state *s, u32 op, const char **why)
{
	int r;

	mutex_lock(&s->op_lock);
	reinit_completion(&s->op_done);
	WRITE_ONCE(s->op_request, op);
	cowsnap_wake_worker(s);
	wait_for_completion(&s->op_done);
	r = s->op_result;
	*why = s->op_why;
	mutex_unlock(&s->op_lock);
	return r;
}

/*
 * The live view is suspending: pause the merge and let the batch in
 * flight end.  The caller's next worker pass records it.  Sleeps.
 */
void cowsnap_phase_stop(struct cowsnap_state *s)
{
	WRITE_ONCE(s->merge_paused, true);
	wait_event(s->batch_wait, !atomic_read(&s->batch_copies));
}

/* The live view resumes: a merge may go on. */
void cowsnap_phase_go(struct cowsnap_state *s)
{
	WRITE_ONCE(s->merge_paused, false);
	cowsnap_wake_worker(s);
}
