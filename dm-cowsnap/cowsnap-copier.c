// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the copier of a merge batch (cowsnap-phase.c).
 *
 * Two work items beside the worker, the lanes, copy the batch's chunks,
 * sorted by origin chunk, from the store into the origin: each takes
 * the next chunks, as many as its 2 MiB buffer holds, reads them, every
 * run of chunks in a row on both devices as one region and all of them
 * at once (dm-io), then writes them to the origin the same way, and goes
 * on until the batch is copied.  On a device that ends I/O in its
 * caller (a RAM disk) the copy is the lane's own work, so one lane would
 * leave the other CPUs idle.  No page is allocated, nor zeroed, per
 * copy, which is what dm-kcopyd spends most of its time on for a merge.
 */

#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "cowsnap.h"
#include "cowsnap-compat.h"

/* Entries from @i on that are in a row on both devices. */
static u32 run_length(struct cowsnap_state *s, u32 i)
{
	const struct cowsnap_merge_entry *e = &s->batch[i];
	u32 max = max_t(u32, 1, COWSNAP_MERGE_RUN_SECTORS >> s->chunk_shift);
	u32 n = 1;

	while (i + n < s->batch_nr && n < max &&
	       e[n].origin_chunk == e->origin_chunk + n &&
	       e[n].store_chunk == e->store_chunk + n)
		n++;
	return n;
}

/*
 * Cut the batch's runs, from the copier's next entry on (the first
 * chunks of its run already taken: skip), into pieces that fill @l's
 * buffer at most: how many pieces.  Under the copier's lock.
 */
static u32 cut_pieces(struct cowsnap_state *s, struct cowsnap_merge_lane *l)
{
	struct cowsnap_merge_copier *c = l->c;
	struct cowsnap_merge_piece *p = l->pieces;
	u32 room = COWSNAP_MERGE_LANE_SECTORS >> s->chunk_shift;
	u32 used = 0, np = 0, n, take;

	lockdep_assert_held(&c->lock);
	while (c->next < s->batch_nr && used < room) {
		n = run_length(s, c->next);
		take = min(n - c->skip, room - used);
		p[np].origin_chunk = s->batch[c->next].origin_chunk + c->skip;
		p[np].store_chunk = s->batch[c->next].store_chunk + c->skip;
		p[np].nr = take;
		p[np].buf_chunk = used;
		np++;
		used += take;
		c->skip += take;
		if (c->skip == n) {
			c->next += n;
			c->skip = 0;
		}
	}
	return np;
}

/* The pieces @l copies next: none once the batch is all taken. */
static u32 take_pieces(struct cowsnap_state *s, struct cowsnap_merge_lane *l)
{
	u32 np;

	spin_lock(&l->c->lock);
	np = cut_pieces(s, l);
	spin_unlock(&l->c->lock);
	return np;
}

static void piece_io_done(unsigned long error, void *context)
{
	struct cowsnap_merge_lane *l = context;

	if (error)
		WRITE_ONCE(l->c->s->batch_error, -EIO);
	if (atomic_dec_and_test(&l->ios))
		complete(&l->ios_done);
}

/*
 * Read @l's @np pieces from the store into its buffer, or write them
 * from it to the origin (@op), all at once, and wait for them.  Sleeps.
 */
static int pieces_io(struct cowsnap_merge_lane *l, u32 np, enum req_op op)
{
	struct cowsnap_state *s = l->c->s;
	struct dm_io_region origin, store;
	struct dm_io_request req = {
		.bi_opf = op,
		.mem.type = DM_IO_VMA,
		.notify.fn = piece_io_done,
		.notify.context = l,
		.client = s->copy_io,
	};
	struct cowsnap_merge_piece *p;
	u32 k;

	reinit_completion(&l->ios_done);
	atomic_set(&l->ios, 1);			/* a bias, dropped last */
	for (k = 0, p = l->pieces; k < np; k++, p++) {
		cowsnap_chunk_regions(s, p->origin_chunk, p->store_chunk,
				      p->nr, &origin, &store);
		req.mem.ptr.vma = l->buf + ((size_t)p->buf_chunk <<
					    (s->chunk_shift + SECTOR_SHIFT));
		atomic_inc(&l->ios);
		if (cowsnap_dm_io(&req, op == REQ_OP_READ ? &store : &origin,
				  NULL))
			piece_io_done(1, l);
	}
	piece_io_done(0, l);
	wait_for_completion_io(&l->ios_done);
	return READ_ONCE(s->batch_error);
}

/*
 * A lane of the copier: copy the batch's next chunks into the origin, a
 * buffer at a time, while there are any and no copy failed; a run of
 * chunks in a row on both devices is one read and one write (up to the
 * buffer's size).  The last lane to end lets the worker finish the
 * batch.
 */
static void merge_copy_work(struct work_struct *work)
{
	struct cowsnap_merge_lane *l =
		container_of(work, struct cowsnap_merge_lane, work);
	struct cowsnap_state *s = l->c->s;
	int r = 0;
	u32 np;

	while (!r && (np = take_pieces(s, l))) {
		r = pieces_io(l, np, REQ_OP_READ);
		if (!r)
			r = pieces_io(l, np, REQ_OP_WRITE);
	}
	/* Ordered after the copies: merge_step() reads batch_error next. */
	if (!atomic_dec_return_release(&s->batch_copies)) {
		cowsnap_wake_worker(s);
		wake_up(&s->batch_wait);
	}
}

static void free_lanes(struct cowsnap_merge_copier *c)
{
	int k;

	if (!c)
		return;
	for (k = 0; k < COWSNAP_MERGE_LANES; k++) {
		kvfree(c->lanes[k].pieces);
		vfree(c->lanes[k].buf);
	}
	kfree(c);
}

/* Free the copier and the batches, if any.  No lane may run. */
void cowsnap_free_copier(struct cowsnap_state *s)
{
	free_lanes(s->copier);
	s->copier = NULL;
	kvfree(s->batch);
	kvfree(s->ready);
	kvfree(s->scratch);
	s->batch = NULL;
	s->ready = NULL;
	s->scratch = NULL;
}

/* The batch, the next one, and the scratch the next is read into. */
static int alloc_batches(struct cowsnap_state *s)
{
	s->batch = kvcalloc(COWSNAP_MERGE_BATCH, sizeof(*s->batch), GFP_KERNEL);
	s->ready = kvcalloc(COWSNAP_MERGE_BATCH, sizeof(*s->ready), GFP_KERNEL);
	s->scratch = kvcalloc(2 * COWSNAP_MERGE_BATCH, sizeof(u64), GFP_KERNEL);
	return s->batch && s->ready && s->scratch ? 0 : -ENOMEM;
}

static int init_lane(struct cowsnap_merge_copier *c,
		     struct cowsnap_merge_lane *l)
{
	l->buf = vmalloc(COWSNAP_MERGE_LANE_SECTORS << SECTOR_SHIFT);
	l->pieces = kvcalloc(COWSNAP_MERGE_LANE_SECTORS /
			     COWSNAP_MIN_CHUNK_SECTORS,
			     sizeof(*l->pieces), GFP_KERNEL);
	if (!l->buf || !l->pieces)
		return -ENOMEM;
	INIT_WORK(&l->work, merge_copy_work);
	init_completion(&l->ios_done);
	l->c = c;
	return 0;
}

/* Make the copier and the batches, unless there are.  Sleeps. */
int cowsnap_get_copier(struct cowsnap_state *s)
{
	struct cowsnap_merge_copier *c;
	unsigned int noio;
	int k, r = -ENOMEM;

	if (s->copier)
		return 0;
	/* The worker may be what the origin's writeback waits for. */
	noio = memalloc_noio_save();
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	for (k = 0; c && k < COWSNAP_MERGE_LANES; k++) {
		r = init_lane(c, &c->lanes[k]);
		if (r)
			break;
	}
	if (!r) {
		spin_lock_init(&c->lock);
		c->s = s;
		s->copier = c;
		r = alloc_batches(s);
	} else {
		free_lanes(c);
	}
	memalloc_noio_restore(noio);
	if (r)
		cowsnap_free_copier(s);
	return r;
}

/*
 * Copy the batch into the origin.  The lanes run beside the worker, each
 * on the next CPU from the last: the worker reads and sorts the next
 * batch meanwhile.
 */
void cowsnap_copy_batch(struct cowsnap_state *s)
{
	struct cowsnap_merge_copier *c = s->copier;
	int k, cpu = raw_smp_processor_id();

	s->batch_error = 0;
	c->next = 0;
	c->skip = 0;
	atomic_set(&s->batch_copies, COWSNAP_MERGE_LANES);
	for (k = 0; k < COWSNAP_MERGE_LANES; k++) {
		cpu = cowsnap_cpu_after(cpu);
		queue_work_on(cpu, s->wq, &c->lanes[k].work);
	}
}
