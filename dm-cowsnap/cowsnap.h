/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-cowsnap: shared types and glossary.
 *
 * Glossary (Documentation/dm-cowsnap.rst uses the same words, and so does
 * the code; there are no synonyms):
 *
 *   origin        the block device being snapshotted.
 *   store         the separate block device holding the exceptions and
 *                 the metadata that describes them.
 *   chunk         the unit of copying and mapping: chunk_sectors 512-byte
 *                 sectors, a power of two from 8 (4 KiB) to 2048 (1 MiB).
 *   exception     a chunk of the origin whose data for one view lives in
 *                 the store; in CoW mode the snapshot view's old data, in
 *                 ROW mode the live view's new data.
 *   live view     the device applications keep using.
 *   snapshot view the frozen, point-in-time image.
 *   state         the in-kernel object the two views of one origin/store
 *                 pair share (struct cowsnap_state).
 */
#ifndef COWSNAP_H
#define COWSNAP_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/mempool.h>
#include <linux/workqueue.h>
#include <linux/percpu-refcount.h>
#include <linux/completion.h>
#include <linux/wait.h>
#include <linux/hrtimer.h>
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/dm-io.h>

#include "cowsnap-index.h"
#include "cowsnap-format.h"

#define DM_MSG_PREFIX "cowsnap"

#define COWSNAP_MIN_CHUNK_SECTORS	8
#define COWSNAP_MAX_CHUNK_SECTORS	2048

enum cowsnap_mode {
	COWSNAP_MODE_COW,
	COWSNAP_MODE_ROW,
};

enum cowsnap_view {
	COWSNAP_VIEW_LIVE,
	COWSNAP_VIEW_SNAP,
};

/* Feature arguments (bits of cowsnap_params.features). */
#define COWSNAP_F_TRANSIENT	BIT(0)	/* exceptions in memory only */
#define COWSNAP_F_REFORMAT	BIT(1)	/* format a non-blank store */
#define COWSNAP_F_LOW_WATER	BIT(2)	/* low_water <chunks> given */
#define COWSNAP_F_ORIGIN_RO	BIT(3)	/* row: open the origin read-only */
#define COWSNAP_F_ERROR_IF_FULL	BIT(4)	/* row: full store fails writes */
#define COWSNAP_F_QUEUE_IF_FULL	BIT(5)	/* row: full store queues writes */

#define COWSNAP_MAX_QUEUE_SECONDS	3600

/* A parsed table line.  The paths point into the table's argv. */
struct cowsnap_params {
	const char *origin_path;
	const char *store_path;
	enum cowsnap_mode mode;
	enum cowsnap_view view;
	u32 chunk_sectors;
	u32 chunk_shift;
	unsigned int features;
	u64 low_water_chunks;
	unsigned int queue_seconds;	/* queue_if_full <seconds> */
};

/*
 * cowsnap_parse_params() - parse a table line (without opening anything).
 * Returns 0, or -EINVAL with a precise message in *@error.
 * Pure: may be called from any context that may call dm_read_arg().
 */
int cowsnap_parse_params(struct dm_arg_set *as, struct cowsnap_params *p,
			 char **error);

/*
 * cowsnap_emit_table() - print the table line for @p with the devices
 * named @origin and @store (as dm prints them, "major:minor"), such that
 * parsing it gives @p back.  Returns the bytes written, like scnprintf().
 */
int cowsnap_emit_table(const struct cowsnap_params *p, const char *origin,
		       const char *store, char *result, unsigned int maxlen);

const char *cowsnap_mode_name(enum cowsnap_mode mode);
const char *cowsnap_view_name(enum cowsnap_view view);

/* Chunk arithmetic: @shift is ilog2(chunk_sectors). */
static inline u64 cowsnap_sector_to_chunk(sector_t sector, u32 shift)
{
	return sector >> shift;
}

static inline sector_t cowsnap_chunk_to_sector(u64 chunk, u32 shift)
{
	return (sector_t)chunk << shift;
}

static inline sector_t cowsnap_sector_in_chunk(sector_t sector, u32 shift)
{
	return sector & (((sector_t)1 << shift) - 1);
}

/* Chunks needed to cover @sectors (a partial last chunk counts). */
static inline u64 cowsnap_nr_chunks(sector_t sectors, u32 shift)
{
	return (sectors + ((sector_t)1 << shift) - 1) >> shift;
}

struct cowsnap_state;
struct cowsnap_target;

/*
 * What a view does with a bio.  There are two sets of these tables:
 *
 * - the mode's (cowsnap_cow_ops, cowsnap_row_ops), fixed when the state
 *   is created: besides map, how the worker handles the bios the mode's
 *   map() left to it, and the mode's background work (copies, commits);
 * - the phase's (state->ops, read with READ_ONCE() in map()): the mode's
 *   own table while the snapshot runs, then the tables of
 *   cowsnap-phase.c while the state changes phase (quiesce), merges the
 *   store into the origin (merge) or has ended (ended).
 *
 * map[] is indexed by enum cowsnap_view and never blocks, but in
 * cowsnap_write_now().
 */
struct cowsnap_mode_ops {
	int (*map[2])(struct cowsnap_state *s, struct bio *bio);
	/* map() of a discard (only a cow live view accepts them) */
	int (*discard)(struct cowsnap_state *s, struct bio *bio);
	/* worker: a bio map() deferred while holding an I/O reference */
	void (*handle)(struct cowsnap_state *s, struct bio *bio);
	/*
	 * map()'s pass (cowsnap_write_now()): what the worker does for the
	 * first write @bio, parked
	 */
	void (*write_now)(struct cowsnap_state *s, struct bio *bio);
	/*
	 * first writes gain from the worker's gathering (each needs a
	 * commit): the pass for map()'s probe runs on another CPU
	 */
	bool probe_elsewhere;
	/* worker: background work, every pass */
	void (*process)(struct cowsnap_state *s);
	/* worker: make every exception added so far durable */
	int (*commit)(struct cowsnap_state *s);
	/*
	 * end_io of a bio whose per-bio data names a pending exception
	 * (any context): DM_ENDIO_DONE, or DM_ENDIO_INCOMPLETE if the
	 * worker completes the bio again later
	 */
	int (*end_io)(struct cowsnap_state *s, struct bio *bio,
		      blk_status_t *error);
	/* the state is being destroyed: nothing may still wait */
	void (*drain)(struct cowsnap_state *s);
};

extern const struct cowsnap_mode_ops cowsnap_cow_ops;
extern const struct cowsnap_mode_ops cowsnap_row_ops;

/* Per-view target context. */
struct cowsnap_target {
	struct dm_target *ti;
	struct cowsnap_params params;	/* paths valid in ctr only */
	struct dm_dev *origin;
	struct dm_dev *store;
	bool origin_ro;			/* origin opened read-only */
	struct cowsnap_state *state;	/* one reference held */
	struct list_head view_node;	/* in state->views; views_lock */
};

/* Per-bio data of both views. */
struct cowsnap_bio {
	struct hlist_node track;	/* in a track bucket while tracked */
	/* row: the exception this whole-chunk write creates, until it ends */
	struct cowsnap_pending *pending;
	u64 chunk;
	unsigned long deadline;		/* row: queued for space until */
	u8 view;			/* enum cowsnap_view */
	bool tracked;			/* in a track bucket */
	bool ref;			/* holds a reference on state->io_ref */
	bool first;			/* counted in state->first_writes */
};

enum cowsnap_health {
	COWSNAP_VALID,
	COWSNAP_INVALID,		/* cow: the snapshot view fails all I/O */
	COWSNAP_DEGRADED,		/* row: store I/O error, writes fail */
	COWSNAP_FULL,			/* row: no free chunk, policy applies */
};

enum cowsnap_phase {
	COWSNAP_PHASE_MODE,		/* the snapshot runs (state->mode_ops) */
	COWSNAP_PHASE_QUIESCE,		/* waiting for the mode's I/O to end */
	COWSNAP_PHASE_MERGE,		/* copying the store into the origin */
	COWSNAP_PHASE_ENDED,		/* the origin alone is the live view */
};

/*
 * A chunk getting its exception: being copied (cow: into the store;
 * row: filled from the origin) or written whole (row), then committed.
 * While it is in state->pending (hashed), its bios are protected by
 * pending_lock; once unhashed they belong to whoever unhashed it.
 */
struct cowsnap_pending {
	struct hlist_node hash;		/* in state->pending; pending_lock */
	/* on copy_queue (worker only), copied or written (state lock) */
	struct list_head list;
	struct cowsnap_state *s;
	u64 origin_chunk;
	u64 store_chunk;
	struct bio_list bios;		/* waiting for the exception */
	struct cowsnap_exception *entry;	/* row: indexed when done */
	/*
	 * The next chunk of the same run, in a row on both devices: written
	 * by the same bio (row), or copied by the same copy (until it ends)
	 */
	struct cowsnap_pending *run_next;
	struct bio *fua_bio;		/* row: completed after a commit */
	int error;			/* of the copy or the write */
	/*
	 * Chunks from origin_chunk on, in a row on both devices: 1, or a
	 * row write's run (hashed by its group, COWSNAP_INDEX_GROUP)
	 */
	u32 len;
};

#define COWSNAP_TRACK_BUCKETS	64
#define COWSNAP_PENDING_BITS	8

/*
 * Tracked bios, by chunk: snapshot-view reads in flight to the origin
 * (cow), live-view bios in flight to the store (merge).  A live write
 * (cow) or a merge batch waits for them.  Marks: chunks of the merge
 * batch in flight; bios of a marked chunk wait for the batch.
 */
struct cowsnap_track_bucket {
	spinlock_t lock;		/* protects head and marks */
	struct hlist_head head;		/* of cowsnap_bio */
	struct hlist_head marks;	/* of cowsnap_merge_entry */
} ____cacheline_aligned_in_smp;

/* One exception of a merge batch. */
struct cowsnap_merge_entry {
	struct hlist_node mark;		/* in a track bucket's marks */
	u64 origin_chunk;
	u64 store_chunk;
	struct cowsnap_exception *removed;	/* freed after RCU */
};

/*
 * Exceptions merged at a time: sixteen exception blocks, and no more
 * chunks than COWSNAP_MERGE_BATCH_SECTORS hold (a live bio to a chunk of
 * the batch waits for the whole batch).
 */
#define COWSNAP_MERGE_BATCH	(16 * COWSNAP_EB_MAX_ENTRIES)
#define COWSNAP_MERGE_BATCH_SECTORS	32768	/* 16 MiB */
/* The most one merge copy moves (8 MiB), in sectors. */
#define COWSNAP_MERGE_RUN_SECTORS	16384
/* The merge buffers (4 MiB in all), in sectors: split between the lanes. */
#define COWSNAP_MERGE_BUF_SECTORS	8192
/* Lanes of the copier: work items copying one batch side by side. */
#define COWSNAP_MERGE_LANES	2
#define COWSNAP_MERGE_LANE_SECTORS	(COWSNAP_MERGE_BUF_SECTORS / \
					 COWSNAP_MERGE_LANES)

/* Chunks of a merge batch in a row on both devices, at buf_chunk. */
struct cowsnap_merge_piece {
	u64 origin_chunk;
	u64 store_chunk;
	u32 nr;
	u32 buf_chunk;			/* chunks into the lane's buffer */
};

struct cowsnap_merge_copier;

/*
 * One lane of the copier: a work item that takes the next chunks of the
 * batch, as many as its buffer holds, reads them from the store (all at
 * once), then writes them to the origin (all at once), until the batch
 * is copied.
 */
struct cowsnap_merge_lane {
	struct work_struct work;
	struct cowsnap_merge_copier *c;
	void *buf;			/* COWSNAP_MERGE_LANE_SECTORS, vmalloc */
	struct cowsnap_merge_piece *pieces;	/* one per buffer chunk */
	atomic_t ios;			/* in flight, plus a bias */
	struct completion ios_done;	/* ios dropped to zero */
};

/*
 * What copies a merge batch: lanes on different CPUs, which share the
 * batch's chunks in origin order.  Allocated when a merge first needs
 * it, with the state's batch, ready and scratch; freed when the merge
 * ends, or with the state.
 */
struct cowsnap_merge_copier {
	struct cowsnap_state *s;
	spinlock_t lock;		/* protects next and skip */
	u32 next;			/* the batch entry the next lane takes */
	u32 skip;			/* chunks of its run already taken */
	struct cowsnap_merge_lane lanes[COWSNAP_MERGE_LANES];
};

/*
 * The state shared by the live view and the snapshot view of one
 * origin/store pair, found by the store's dev_t in the registry and
 * reference-counted: each constructed target holds one reference.
 */
struct cowsnap_state {
	/* Registry; all immutable after creation but node. */
	struct list_head node;		/* in the registry; registry lock */
	struct kref kref;
	dev_t store_dev;
	dev_t origin_dev;
	enum cowsnap_mode mode;
	u32 chunk_sectors;
	u32 chunk_shift;
	sector_t origin_sectors;
	bool transient;
	bool origin_ro;			/* row: the origin is never writable */
	bool queue_if_full;		/* row: policy when the store is full */
	unsigned int queue_seconds;
	const struct cowsnap_mode_ops *mode_ops;
	/* Valid while any view holds its dm_dev on the same device. */
	struct block_device *origin_bdev;
	struct block_device *store_bdev;
	char name[32];			/* "store <major:minor>", for logs */

	/* The phase's map tables; written by the worker only. */
	const struct cowsnap_mode_ops *ops;
	/* Held by every bio mapped by the mode's tables (cowsnap_io_get). */
	struct percpu_ref io_ref;
	bool quiesced;			/* io_ref dropped to zero */

	struct cowsnap_store *store;	/* worker only (cowsnap-store.h) */
	struct cowsnap_index index;	/* committed exceptions; RCU lookups */
	struct dm_kcopyd_client *kcopyd;
	struct dm_io_client *copy_io;	/* merges' copies */
	struct bio_set copy_bs;		/* bios of first writes' copies */
	struct workqueue_struct *wq;	/* per-CPU; one work item */
	struct work_struct worker;
	/*
	 * Held for a pass of the worker, by the worker or by map() doing
	 * one for a first write (cowsnap_write_now()); protects what the
	 * comments call "worker only": the store, copy_queue, and the
	 * fields so marked below.
	 */
	struct mutex pass_lock;
	/* When map() does a pass (cowsnap_write_now()): hints, read racily */
	atomic_t first_writes;		/* first writes mapped, not ended */
	unsigned int pass_off;		/* first writes left to the worker */
	unsigned int pass_probe;	/* map()'s passes since a probe (pass_lock) */
	unsigned int probe_shift;	/* probes PASS_PROBE << it apart (READ_ONCE()) */
	bool spread;			/* next pass elsewhere (pass_lock; READ_ONCE()) */
	bool probing;			/* a probe is parked (pass_lock) */
	/*
	 * Commits held back (cowsnap-cow.c, hold_commit()): the most first
	 * writes seen in flight, hints read racily, and the hold's timer.
	 */
	unsigned int fw_seen;		/* since the window began */
	unsigned int fw_peak;		/* in the last window */
	unsigned int hold_window;	/* commits since it began (pass_lock) */
	bool hold_expired;		/* set by hold_timer (READ_ONCE()) */
	struct hrtimer hold_timer;
	struct delayed_work waker;	/* row: queue_if_full timeouts */
	mempool_t pending_pool;

	spinlock_t lock;		/* protects the next eleven fields */
	struct bio_list deferred;	/* bios map() left to the worker */
	/*
	 * While a commit is held: the first writes in flight that wake the
	 * worker; 0: none is held, any bio wakes it.  Written by the worker
	 * only (pass_lock too), which reads it without the lock.
	 */
	unsigned int hold_wake;
	struct list_head copied;	/* pending exceptions whose copy ended */
	struct list_head copy_reads;	/* copies to write (cowsnap-copy.c) */
	struct list_head copies_kept;	/* for reuse (cowsnap-copy.c) */
	unsigned int copies_kept_nr;	/* on copies_kept */
	struct list_head written;	/* row: whole-chunk writes that ended */
	unsigned int written_nr;	/* on written */
	struct bio_list merge_wait;	/* bios of the merge batch's chunks */
	unsigned int copies_in_flight;	/* also read racily, READ_ONCE() */
	bool starting_copies;		/* the worker is in cowsnap_start_copies() */

	/* Pending exceptions by origin chunk (map, worker and end_io). */
	spinlock_t pending_lock;	/* protects pending[] (irq-safe) */
	struct hlist_head pending[1 << COWSNAP_PENDING_BITS];
	u32 pending_runs;		/* hashed with len > 1; pending_lock */
	u32 pending_singles;		/* hashed with len 1; pending_lock */

	/* Worker only. */
	struct list_head copy_queue;	/* pending exceptions not copying yet */
	struct bio_list held;		/* bios waiting for the next phase */
	struct bio_list nospace;	/* row: writes queued for space */
	bool low_water_raised;
	bool commit_requested;
	/*
	 * The live view is suspending: 0 no, 1 flushing, 2 noflush (as
	 * dm_noflush_suspending()).  Set by presuspend, cleared by
	 * postsuspend and preresume; read by the worker.
	 */
	int suspending;
	enum cowsnap_phase phase;	/* also read by status (READ_ONCE) */
	u32 op;				/* enum cowsnap_disk_operation */
	u32 op_request;			/* the message's, for the worker */
	int op_result;
	const char *op_why;		/* why op_request was refused */
	struct completion op_done;	/* the worker took op_request */
	struct mutex op_lock;		/* one message at a time */

	/* Merge (cowsnap-phase.c); worker only but where noted. */
	bool merge_paused;		/* the live view is suspended */
	u64 merge_cursor;		/* exceptions merged (READ_ONCE) */
	u64 merge_total;		/* exceptions to merge (READ_ONCE) */
	u32 merge_bucket;		/* transient: index scan position */
	u32 batch_nr;			/* entries in the batch, 0: none */
	atomic_t batch_copies;		/* lanes of the copier still running */
	int batch_error;		/* of a copy (set by the copier) */
	struct cowsnap_merge_copier *copier;	/* NULL until a merge */
	wait_queue_head_t batch_wait;	/* the batch went idle */
	/* batch, ready and scratch: allocated with the copier */
	struct cowsnap_merge_entry *batch;	/* the batch being copied */
	/* the next batch, read and sorted while the batch is copied */
	struct cowsnap_merge_entry *ready;
	u32 ready_nr;			/* entries in ready, 0: none */
	u64 *scratch;			/* 2 * COWSNAP_MERGE_BATCH chunks */
	bool merge_failed;		/* stop merging until reactivated */
	ktime_t merge_start;		/* when this merge began or resumed */
	u64 merge_from;			/* merge_cursor then */

	/* Written by the worker, read anywhere with READ_ONCE(). */
	enum cowsnap_health health;
	u32 invalid_reason;		/* enum cowsnap_invalid_reason */
	u64 low_water;			/* chunks; 0: none */
	bool resize_requested;

	struct mutex views_lock;	/* protects views and live_views */
	struct list_head views;		/* of cowsnap_target, for events */
	unsigned int live_views;	/* also read with READ_ONCE() */

	struct cowsnap_track_bucket track[COWSNAP_TRACK_BUCKETS];
};

/* cowsnap-state.c: life cycle and the helpers every mode shares. */
int cowsnap_state_init(struct cowsnap_state *s, struct cowsnap_target *ct,
		       char **error);
void cowsnap_state_exit(struct cowsnap_state *s);
void cowsnap_state_attach(struct cowsnap_state *s, struct cowsnap_target *ct);
void cowsnap_state_detach(struct cowsnap_state *s, struct cowsnap_target *ct);
void cowsnap_defer_bio(struct cowsnap_state *s, struct bio *bio);
void cowsnap_defer_bio_whole(struct cowsnap_state *s, struct bio *bio);
bool cowsnap_write_now(struct cowsnap_state *s, struct bio *bio);
typedef bool (*cowsnap_lookup_fn)(struct cowsnap_index *ix, u64 origin_chunk,
				  u64 *store_chunk);
void cowsnap_clip_chunk(struct cowsnap_state *s, struct bio *bio);
/* cowsnap_clip_run(): which runs a bio may span */
#define COWSNAP_RUN_FOUND	1	/* chunks with an exception */
#define COWSNAP_RUN_MISSING	2	/* chunks without one */
#define COWSNAP_RUN_CONTIGUOUS	4	/* found: store chunks in a row too */
bool cowsnap_clip_run(struct cowsnap_state *s, struct bio *bio,
		      cowsnap_lookup_fn lookup, unsigned int runs,
		      u64 *store_chunk);
void cowsnap_clip_run_after(struct cowsnap_state *s, struct bio *bio,
			    cowsnap_lookup_fn lookup, unsigned int runs,
			    bool found, u64 store_chunk);
int cowsnap_cpu_after(int cpu);
int cowsnap_next_cpu(void);
void cowsnap_wake_worker(struct cowsnap_state *s);
void cowsnap_run_worker(struct cowsnap_state *s);
unsigned int cowsnap_process_deferred(struct cowsnap_state *s);
void cowsnap_raise_event(struct cowsnap_state *s);
void cowsnap_invalidate(struct cowsnap_state *s, u32 reason);
void cowsnap_set_health(struct cowsnap_state *s, enum cowsnap_health h,
			u32 reason);
void cowsnap_check_space(struct cowsnap_state *s);
void cowsnap_track(struct cowsnap_state *s, struct cowsnap_bio *pb, u64 chunk);
void cowsnap_untrack(struct cowsnap_state *s, struct cowsnap_bio *pb);
bool cowsnap_chunk_tracked(struct cowsnap_state *s, u64 chunk);
void cowsnap_wait_untracked(struct cowsnap_state *s, u64 chunk);
bool cowsnap_track_or_wait(struct cowsnap_state *s, struct bio *bio,
			   u64 chunk);
void cowsnap_mark(struct cowsnap_state *s, struct cowsnap_merge_entry *e);
void cowsnap_unmark(struct cowsnap_state *s, struct cowsnap_merge_entry *e);
bool cowsnap_io_get(struct cowsnap_state *s, struct bio *bio);
void cowsnap_end_bio(struct cowsnap_state *s, struct bio *bio);
void cowsnap_redispatch(struct cowsnap_state *s, struct bio *bio);
void cowsnap_redispatch_list(struct cowsnap_state *s, struct bio_list *bios);
int cowsnap_remap_flush(struct cowsnap_state *s, struct bio *bio);
const char *cowsnap_health_name(enum cowsnap_health h);
struct cowsnap_pending *cowsnap_alloc_pending(struct cowsnap_state *s,
					      gfp_t gfp);
struct cowsnap_pending *__cowsnap_find_pending(struct cowsnap_state *s,
					       u64 chunk);
bool __cowsnap_unclaimed(struct cowsnap_state *s, u64 chunk);
u32 __cowsnap_unclaimed_run(struct cowsnap_state *s, u64 chunk, u32 n);
void __cowsnap_hash_pending(struct cowsnap_state *s, struct cowsnap_pending *p,
			    u64 chunk, u64 store_chunk);
void __cowsnap_hash_run(struct cowsnap_state *s, struct cowsnap_pending *p,
			u64 chunk, u64 store_chunk, u32 len);
bool cowsnap_unhash_pending(struct cowsnap_state *s, struct cowsnap_pending *p);
void cowsnap_free_pending(struct cowsnap_state *s, struct cowsnap_pending *p);
struct cowsnap_pending *cowsnap_new_chain(struct cowsnap_state *s, u32 *n,
					  struct cowsnap_pending *(*alloc)
					  (struct cowsnap_state *s, bool may_sleep),
					  bool may_sleep);
void cowsnap_free_chain(struct cowsnap_state *s, struct cowsnap_pending *p);
u32 cowsnap_run_length(const struct cowsnap_pending *p);

/* cowsnap-copy.c: the copies that fill pending exceptions. */
bool cowsnap_start_copies(struct cowsnap_state *s);
void cowsnap_free_copies(struct cowsnap_state *s);
void cowsnap_chunk_regions(struct cowsnap_state *s, u64 origin_chunk,
			   u64 store_chunk, u32 nr, struct dm_io_region *origin,
			   struct dm_io_region *store);

/* cowsnap-phase.c: roll back, fold, merge, end. */
extern const struct cowsnap_mode_ops cowsnap_quiesce_ops;
extern const struct cowsnap_mode_ops cowsnap_merge_ops;
extern const struct cowsnap_mode_ops cowsnap_ended_ops;
int cowsnap_phase_init(struct cowsnap_state *s);

/* cowsnap-copier.c: the copier of a merge batch. */
int cowsnap_get_copier(struct cowsnap_state *s);
void cowsnap_copy_batch(struct cowsnap_state *s);
void cowsnap_free_copier(struct cowsnap_state *s);
void cowsnap_phase_process(struct cowsnap_state *s);
void cowsnap_phase_stop(struct cowsnap_state *s);
int cowsnap_phase_request(struct cowsnap_state *s, u32 op, const char **why);
void cowsnap_phase_go(struct cowsnap_state *s);
const char *cowsnap_state_word(struct cowsnap_state *s);

static inline bool cowsnap_valid(struct cowsnap_state *s)
{
	return READ_ONCE(s->health) == COWSNAP_VALID;
}

static inline struct cowsnap_bio *cowsnap_pb(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct cowsnap_bio));
}

/* Map @bio with the current phase's table (cowsnap-phase.c). */
static inline int cowsnap_map_bio(struct cowsnap_state *s, struct bio *bio)
{
	const struct cowsnap_mode_ops *ops = READ_ONCE(s->ops);

	if (unlikely(bio_op(bio) == REQ_OP_DISCARD))
		return ops->discard(s, bio);
	return ops->map[cowsnap_pb(bio)->view](s, bio);
}

/* Complete @bio from map() without any I/O. */
static inline int cowsnap_map_nothing(struct bio *bio)
{
	bio_endio(bio);
	return DM_MAPIO_SUBMITTED;
}

static inline u64 cowsnap_bio_chunk(struct cowsnap_state *s, struct bio *bio)
{
	return cowsnap_sector_to_chunk(bio->bi_iter.bi_sector, s->chunk_shift);
}

/* Point @bio at @chunk of @bdev, keeping its offset inside the chunk. */
static inline void cowsnap_remap(struct cowsnap_state *s, struct bio *bio,
				 struct block_device *bdev, u64 chunk)
{
	bio_set_dev(bio, bdev);
	bio->bi_iter.bi_sector = cowsnap_chunk_to_sector(chunk, s->chunk_shift) +
		cowsnap_sector_in_chunk(bio->bi_iter.bi_sector, s->chunk_shift);
}

#endif /* COWSNAP_H */
