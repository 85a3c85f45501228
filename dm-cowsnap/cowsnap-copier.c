// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the copier of a merge batch (cowsnap-phase.c).
 *
 * A work item beside the worker copies the batch's chunks, sorted by
 * origin chunk, from the store into the origin: it reads as many of them
 * as its 4 MiB buffer holds, every run of chunks in a row on both
 * devices as one region and all of them at once (dm-io), then writes
 * them to the origin the same way, and goes on until the batch is
 * copied.  No page is allocated, nor zeroed, per copy, which is what
 * dm-kcopyd spends most of its time on for a merge.
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
 * Cut the batch's runs, from entry *@i on (the first *@skip chunks of
 * its run already copied), into pieces that fill the merge buffer at
 * most: how many pieces.
 */
static u32 cut_pieces(struct cowsnap_state *s, u32 *i, u32 *skip)
{
	struct cowsnap_merge_piece *p = s->copier->pieces;
	u32 room = COWSNAP_MERGE_BUF_SECTORS >> s->chunk_shift;
	u32 used = 0, np = 0, n, take;

	while (*i < s->batch_nr && used < room) {
		n = run_length(s, *i);
		take = min(n - *skip, room - used);
		p[np].origin_chunk = s->batch[*i].origin_chunk + *skip;
		p[np].store_chunk = s->batch[*i].store_chunk + *skip;
		p[np].nr = take;
		p[np].buf_chunk = used;
		np++;
		used += take;
		*skip += take;
		if (*skip == n) {
			*i += n;
			*skip = 0;
		}
	}
	return np;
}

static void piece_io_done(unsigned long error, void *context)
{
	struct cowsnap_state *s = context;

	if (error)
		WRITE_ONCE(s->batch_error, -EIO);
	if (atomic_dec_and_test(&s->copier->ios))
		complete(&s->copier->ios_done);
}

/*
 * Read @np pieces from the store into the buffer, or write them from it
 * to the origin (@op), all at once, and wait for them.  Sleeps.
 */
static int pieces_io(struct cowsnap_state *s, u32 np, enum req_op op)
{
	struct cowsnap_merge_copier *c = s->copier;
	struct dm_io_region origin, store;
	struct dm_io_request req = {
		.bi_opf = op,
		.mem.type = DM_IO_VMA,
		.notify.fn = piece_io_done,
		.notify.context = s,
		.client = s->copy_io,
	};
	struct cowsnap_merge_piece *p;
	u32 k;

	reinit_completion(&c->ios_done);
	atomic_set(&c->ios, 1);			/* a bias, dropped last */
	for (k = 0, p = c->pieces; k < np; k++, p++) {
		cowsnap_chunk_regions(s, p->origin_chunk, p->store_chunk,
				      p->nr, &origin, &store);
		req.mem.ptr.vma = c->buf + ((size_t)p->buf_chunk <<
					    (s->chunk_shift + SECTOR_SHIFT));
		atomic_inc(&c->ios);
		if (cowsnap_dm_io(&req, op == REQ_OP_READ ? &store : &origin,
				  NULL))
			piece_io_done(1, s);
	}
	piece_io_done(0, s);
	wait_for_completion_io(&c->ios_done);
	return READ_ONCE(s->batch_error);
}

/*
 * The copier: copy the batch's chunks into the origin, a buffer at a
 * time, in origin order; a run of chunks in a row on both devices is
 * one read and one write (up to the buffer's size).  Then the worker
 * finishes the batch.
 */
static void merge_copy_work(struct work_struct *work)
{
	struct cowsnap_merge_copier *c =
		container_of(work, struct cowsnap_merge_copier, work);
	struct cowsnap_state *s = c->s;
	u32 i = 0, skip = 0, np;
	int r = 0;

	while (!r && i < s->batch_nr) {
		np = cut_pieces(s, &i, &skip);
		r = pieces_io(s, np, REQ_OP_READ);
		if (!r)
			r = pieces_io(s, np, REQ_OP_WRITE);
	}
	/* Ordered after the copies: merge_step() reads batch_error next. */
	atomic_set_release(&s->batch_copies, 0);
	cowsnap_wake_worker(s);
	wake_up(&s->batch_wait);
}

void cowsnap_free_copier(struct cowsnap_merge_copier *c)
{
	if (!c)
		return;
	kvfree(c->pieces);
	vfree(c->buf);
	kfree(c);
}

/* Make the copier, unless there is one.  Sleeps. */
int cowsnap_get_copier(struct cowsnap_state *s)
{
	struct cowsnap_merge_copier *c;
	unsigned int noio;

	if (s->copier)
		return 0;
	/* The worker may be what the origin's writeback waits for. */
	noio = memalloc_noio_save();
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (c) {
		c->buf = vmalloc(COWSNAP_MERGE_BUF_SECTORS << SECTOR_SHIFT);
		c->pieces = kvcalloc(COWSNAP_MERGE_BUF_SECTORS /
				     COWSNAP_MIN_CHUNK_SECTORS,
				     sizeof(*c->pieces), GFP_KERNEL);
	}
	memalloc_noio_restore(noio);
	if (!c || !c->buf || !c->pieces) {
		cowsnap_free_copier(c);
		return -ENOMEM;
	}
	INIT_WORK(&c->work, merge_copy_work);
	init_completion(&c->ios_done);
	c->s = s;
	s->copier = c;
	return 0;
}

/*
 * Copy the batch into the origin.  The copier runs beside the worker,
 * on another CPU: the worker reads and sorts the next batch meanwhile.
 */
void cowsnap_copy_batch(struct cowsnap_state *s)
{
	s->batch_error = 0;
	atomic_set(&s->batch_copies, 1);
	queue_work_on(cowsnap_next_cpu(), s->wq, &s->copier->work);
}
