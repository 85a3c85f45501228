// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the state shared by the two views of one origin/store pair:
 * its life cycle, the worker, events, invalidation and tracked reads.
 * What differs per mode is in cowsnap-cow.c (and its ROW sibling), reached
 * through state->ops.
 */
#include <linux/slab.h>
#include <linux/dm-kcopyd.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

#define PENDING_POOL_MIN	16

const char *cowsnap_reason_name(u32 reason)
{
	switch (reason) {
	case COWSNAP_REASON_NONE:
		return "-";
	case COWSNAP_REASON_STORE_FULL:
		return "store_full";
	case COWSNAP_REASON_STORE_IO_ERROR:
		return "store_io_error";
	case COWSNAP_REASON_METADATA_CORRUPT:
		return "metadata_corrupt";
	}
	return "unknown";
}

static void worker_fn(struct work_struct *w)
{
	struct cowsnap_state *s = container_of(w, struct cowsnap_state, worker);

	s->ops->process(s);
}

void cowsnap_wake_worker(struct cowsnap_state *s)
{
	queue_work(s->wq, &s->worker);
}

void cowsnap_defer_bio(struct cowsnap_state *s, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	bio_list_add(&s->deferred, bio);
	spin_unlock_irqrestore(&s->lock, flags);
	cowsnap_wake_worker(s);
}

/* Raise a dm event on every view.  Sleeps. */
static void raise_event(struct cowsnap_state *s)
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
	mutex_unlock(&s->views_lock);
}

void cowsnap_state_detach(struct cowsnap_state *s, struct cowsnap_target *ct)
{
	mutex_lock(&s->views_lock);
	list_del(&ct->view_node);
	mutex_unlock(&s->views_lock);
}

/* Worker only: the snapshot can no longer be trusted. */
void cowsnap_invalidate(struct cowsnap_state *s, u32 reason)
{
	if (!cowsnap_valid(s))
		return;
	WRITE_ONCE(s->invalid_reason, reason);
	WRITE_ONCE(s->health, COWSNAP_INVALID);
	DMERR("%s: snapshot invalidated: %s", s->name,
	      cowsnap_reason_name(reason));
	cowsnap_store_invalidate(s->store, reason);
	raise_event(s);
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
		}
	}
	if (!low || s->low_water_raised ||
	    cowsnap_store_free_chunks(s->store) >= low)
		return;
	s->low_water_raised = true;
	DMWARN("%s: fewer than %llu free chunks left", s->name, low);
	raise_event(s);
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

static int load_exception(void *ctx, u64 origin_chunk, u64 store_chunk)
{
	struct cowsnap_state *s = ctx;

	return cowsnap_index_insert(&s->index, origin_chunk, store_chunk);
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
	s->ops = &cowsnap_cow_ops;
	snprintf(s->name, sizeof(s->name), "store %s", ct->store->name);
	spin_lock_init(&s->lock);
	bio_list_init(&s->deferred);
	INIT_LIST_HEAD(&s->copied);
	INIT_LIST_HEAD(&s->copy_queue);
	INIT_LIST_HEAD(&s->views);
	mutex_init(&s->views_lock);
	INIT_WORK(&s->worker, worker_fn);
	for (i = 0; i < ARRAY_SIZE(s->pending); i++)
		INIT_HLIST_HEAD(&s->pending[i]);
	for (i = 0; i < COWSNAP_TRACK_BUCKETS; i++) {
		spin_lock_init(&s->track[i].lock);
		INIT_HLIST_HEAD(&s->track[i].head);
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
	};
	u32 reason;
	int r;

	r = cowsnap_index_init(&s->index,
			       cowsnap_store_capacity(s->store_bdev,
						      s->chunk_sectors));
	if (r) {
		*error = "Cannot allocate the exception index";
		return r;
	}
	r = cowsnap_store_open(&p, load_exception, s, &s->store, error);
	if (r)
		return r;
	if (cowsnap_store_invalid(s->store, &reason)) {
		s->health = COWSNAP_INVALID;
		s->invalid_reason = reason;
	}
	return 0;
}

/* Build a new state from the first view's table.  Sleeps. */
int cowsnap_state_init(struct cowsnap_state *s, struct cowsnap_target *ct,
		       char **error)
{
	int r;

	init_fields(s, ct);
	r = mempool_init_kmalloc_pool(&s->pending_pool, PENDING_POOL_MIN,
				      sizeof(struct cowsnap_pending));
	if (r) {
		*error = "Cannot allocate the pending pool";
		return r;
	}
	s->kcopyd = dm_kcopyd_client_create(NULL);
	if (IS_ERR(s->kcopyd)) {
		r = PTR_ERR(s->kcopyd);
		s->kcopyd = NULL;
		*error = "Cannot create the kcopyd client";
		goto bad;
	}
	s->wq = alloc_ordered_workqueue("kcowsnapd", WQ_MEM_RECLAIM);
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
	if (s->wq) {
		flush_workqueue(s->wq);
		if (s->store)
			s->ops->drain(s);
		destroy_workqueue(s->wq);
	}
	if (s->kcopyd)
		dm_kcopyd_client_destroy(s->kcopyd);
	if (s->store)
		cowsnap_store_close(s->store);
	cowsnap_index_destroy(&s->index);
	mempool_exit(&s->pending_pool);
}
