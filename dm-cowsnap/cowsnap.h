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
#include <linux/bio.h>
#include <linux/device-mapper.h>

#include "cowsnap-index.h"

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
 * What differs per mode, chosen when the state is created: map() of each
 * view never blocks; process() is the worker's pass.
 */
struct cowsnap_mode_ops {
	int (*map_live)(struct cowsnap_target *ct, struct bio *bio);
	int (*map_snap)(struct cowsnap_target *ct, struct bio *bio);
	void (*end_io)(struct cowsnap_target *ct, struct bio *bio);
	void (*process)(struct cowsnap_state *s);
	/* release everything waiting: the state is being destroyed */
	void (*drain)(struct cowsnap_state *s);
};

extern const struct cowsnap_mode_ops cowsnap_cow_ops;

/* Per-view target context. */
struct cowsnap_target {
	struct dm_target *ti;
	struct cowsnap_params params;	/* paths valid in ctr only */
	struct dm_dev *origin;
	struct dm_dev *store;
	struct cowsnap_state *state;	/* one reference held */
	struct list_head view_node;	/* in state->views; views_lock */
	int (*map)(struct cowsnap_target *ct, struct bio *bio);
};

/* Per-bio data of both views. */
struct cowsnap_bio {
	struct hlist_node track;	/* in a track bucket while tracked */
	u64 chunk;
	bool tracked;			/* a snapshot read of the origin */
	bool live;			/* submitted to the live view */
};

enum cowsnap_health {
	COWSNAP_VALID,
	COWSNAP_INVALID,		/* the snapshot view fails all I/O */
};

/* A chunk being copied into the store, then committed. */
struct cowsnap_pending {
	struct hlist_node hash;		/* in state->pending; worker only */
	/* on copy_queue (worker only) or on copied (state lock) */
	struct list_head list;
	struct cowsnap_state *s;
	u64 origin_chunk;
	u64 store_chunk;
	struct bio_list bios;		/* waiting for the commit; worker only */
	int error;			/* of the copy */
};

#define COWSNAP_TRACK_BUCKETS	64
#define COWSNAP_PENDING_BITS	8

/*
 * Tracked reads: snapshot-view reads in flight to the origin, by chunk.
 * A live write to a chunk waits for them before it reaches the origin.
 */
struct cowsnap_track_bucket {
	spinlock_t lock;		/* protects head */
	struct hlist_head head;
} ____cacheline_aligned_in_smp;

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
	const struct cowsnap_mode_ops *ops;
	/* Valid while any view holds its dm_dev on the same device. */
	struct block_device *origin_bdev;
	struct block_device *store_bdev;
	char name[32];			/* "store <major:minor>", for logs */

	struct cowsnap_store *store;	/* worker only (cowsnap-store.h) */
	struct cowsnap_index index;	/* committed exceptions; RCU lookups */
	struct dm_kcopyd_client *kcopyd;
	struct workqueue_struct *wq;	/* ordered: one worker pass at a time */
	struct work_struct worker;
	mempool_t pending_pool;

	spinlock_t lock;		/* protects the next three fields */
	struct bio_list deferred;	/* bios map() left to the worker */
	struct list_head copied;	/* pending exceptions whose copy ended */
	unsigned int copies_in_flight;

	/* Worker only. */
	struct hlist_head pending[1 << COWSNAP_PENDING_BITS];
	struct list_head copy_queue;	/* pending exceptions not copying yet */
	bool low_water_raised;

	/* Written by the worker, read anywhere with READ_ONCE(). */
	enum cowsnap_health health;
	u32 invalid_reason;		/* enum cowsnap_invalid_reason */
	u64 low_water;			/* chunks; 0: none */
	bool resize_requested;

	struct mutex views_lock;	/* protects views */
	struct list_head views;		/* of cowsnap_target, for events */

	struct cowsnap_track_bucket track[COWSNAP_TRACK_BUCKETS];
};

/* cowsnap-state.c: life cycle and the helpers every mode shares. */
int cowsnap_state_init(struct cowsnap_state *s, struct cowsnap_target *ct,
		       char **error);
void cowsnap_state_exit(struct cowsnap_state *s);
void cowsnap_state_attach(struct cowsnap_state *s, struct cowsnap_target *ct);
void cowsnap_state_detach(struct cowsnap_state *s, struct cowsnap_target *ct);
void cowsnap_defer_bio(struct cowsnap_state *s, struct bio *bio);
void cowsnap_wake_worker(struct cowsnap_state *s);
void cowsnap_invalidate(struct cowsnap_state *s, u32 reason);
void cowsnap_check_space(struct cowsnap_state *s);
void cowsnap_track(struct cowsnap_state *s, struct cowsnap_bio *pb, u64 chunk);
void cowsnap_untrack(struct cowsnap_state *s, struct cowsnap_bio *pb);
bool cowsnap_chunk_tracked(struct cowsnap_state *s, u64 chunk);
const char *cowsnap_reason_name(u32 reason);

static inline bool cowsnap_valid(struct cowsnap_state *s)
{
	return READ_ONCE(s->health) == COWSNAP_VALID;
}

static inline struct cowsnap_bio *cowsnap_pb(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct cowsnap_bio));
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
