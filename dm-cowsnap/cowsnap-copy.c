// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the copies that fill pending exceptions.
 *
 * Each run of pending exceptions on copy_queue (cow: a first write's
 * chunks; row: the chunk a partial first write lands in) is copied from
 * the origin into its store chunks, in a row on both devices, at most
 * MAX_COPIES runs at a time.  When a copy ends, the run's pending
 * exceptions land on the copied list and the worker is woken, unless
 * it is starting copies: then it looks at the list when it is done.
 *
 * A copy of up to DIRECT_COPY_SECTORS is one bio per run read and one
 * for the write (from the state's copy_bs), started by the worker: the
 * run is read into a buffer, then the buffer is written to the store.
 * The runs queued after it whose store chunks follow on join it, each
 * read into its place in the same buffer, and one write to the store
 * carries them all (store chunks are handed out in a row, so the first
 * writes one pass of the worker finds have them).  The last read to end
 * sends the write: before submit_bio() returns (a RAM disk, any device
 * that completes at once), there and then; later, it hands the copy
 * back to the worker (copy_reads), as no bio may be allocated in
 * interrupt context.  dm-kcopyd hands every copy to its own work item,
 * allocates a job and pages for it, and hands its end back to the
 * worker: for a 4 KiB copy that cost more than the copy (its work items
 * share the worker's kworkers, so no context switch is saved, only that
 * work).  Nor do these copies go through dm-io: in a profile under QEMU
 * (4 KiB first writes, queue depth 1) its read and its write took 27%
 * and 39% more time than the bio each (a request and a bio from
 * mempools, the buffer walked page by page), and each first write pays
 * for both.
 *
 * A larger copy, or one that finds no buffer at once, goes through
 * dm-kcopyd, which cuts it into pieces copied side by side.  Buffers are
 * taken without waiting, so a copy never waits for memory that only the
 * end of another copy would give back.
 *
 * A copy through bios is kept when it ends, buffer and all, up to
 * COPIES_KEPT per state, and taken again by the next: memory fresh from
 * the allocators is zeroed first where init_on_alloc is on (Debian's
 * kernels do), and that zeroing was a fifth of the worker's time at
 * 4 KiB first writes, queue depth 32, under QEMU.  Nothing stale leaves
 * a kept buffer: a copy writes only what its reads filled, or zeroed
 * (direct_filled()).
 */

#include <linux/bio.h>
#include <linux/dm-kcopyd.h>
#include <linux/slab.h>

#include "cowsnap.h"

#define MAX_COPIES	64	/* copies in flight per state */
/*
 * The most one write of a copy through bios carries: 64 KiB, the size
 * of every buffer (kmalloc: physically contiguous, so one bio_vec).  So
 * at most 16 runs are gathered in one such write.
 */
#define DIRECT_COPY_SECTORS	128
#define DIRECT_COPY_RUNS	(DIRECT_COPY_SECTORS / COWSNAP_MIN_CHUNK_SECTORS)
#define DIRECT_COPY_GFP		(GFP_NOWAIT | __GFP_NOWARN)
/* Copies kept for reuse per state: 1 MiB of buffers, as a kcopyd client */
#define COPIES_KEPT		16

/* One run of a copy through bios: read from the origin, on its own. */
struct direct_part {
	struct direct_copy *c;
	struct cowsnap_pending *p;	/* the run */
	struct dm_io_region from;	/* its origin chunks */
	unsigned int offset;		/* in the buffer, in bytes */
	bool read_failed;
};

/*
 * A copy through bios: runs whose store chunks follow each other, each
 * read into its place in one buffer, then written to the store at once.
 */
struct direct_copy {
	/* on state->copy_reads, or kept on state->copies_kept (state lock) */
	struct list_head list;
	struct cowsnap_state *s;
	struct dm_io_region to;		/* the store chunks of every run */
	/* Reads not ended, plus one held while direct_copy() starts them */
	atomic_t reads;
	void *buf;			/* DIRECT_COPY_SECTORS, kmalloc: aligned */
	unsigned int nr;		/* runs */
	struct direct_part part[DIRECT_COPY_RUNS];
};

/*
 * A copy ended: an origin read error is -ENOLINK, a store write error
 * -EIO (as dm-kcopyd reports them).  Every pending exception of the run
 * lands on the copied list, in run order, unchained.  The worker is
 * woken under the lock: once it is released, the worker may end the
 * last bio, and the state may go.  It is not woken while it starts
 * copies (a copy that ends at once, on its stack, or any other): it
 * looks at the copied list when it is done, under the lock.  Any
 * context.
 */
static void copy_done(int read_err, unsigned long write_err, void *context)
{
	struct cowsnap_pending *p = context, *next;
	int error = write_err ? -EIO : read_err ? -ENOLINK : 0;
	struct cowsnap_state *s = p->s;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	for (; p; p = next) {
		next = p->run_next;
		p->run_next = NULL;
		p->error = error;
		list_add_tail(&p->list, &s->copied);
	}
	WRITE_ONCE(s->copies_in_flight, s->copies_in_flight - 1);
	if (!s->starting_copies)
		cowsnap_wake_worker(s);
	spin_unlock_irqrestore(&s->lock, flags);
}

static bool take_copy_slot(struct cowsnap_state *s)
{
	bool ok;

	spin_lock_irq(&s->lock);
	ok = s->copies_in_flight < MAX_COPIES;
	if (ok)
		WRITE_ONCE(s->copies_in_flight, s->copies_in_flight + 1);
	spin_unlock_irq(&s->lock);
	return ok;
}

static void free_copy(struct direct_copy *c)
{
	kfree(c->buf);
	kfree(c);
}

/* A copy and its buffer: a kept one, or new ones (without waiting). */
static struct direct_copy *get_copy(struct cowsnap_state *s)
{
	struct direct_copy *c;

	spin_lock_irq(&s->lock);
	c = list_first_entry_or_null(&s->copies_kept, struct direct_copy,
				     list);
	if (c) {
		list_del(&c->list);
		s->copies_kept_nr--;
	}
	spin_unlock_irq(&s->lock);
	if (c)
		return c;
	c = kmalloc(sizeof(*c), DIRECT_COPY_GFP);
	if (!c)
		return NULL;
	c->buf = kmalloc(DIRECT_COPY_SECTORS << SECTOR_SHIFT, DIRECT_COPY_GFP);
	if (!c->buf) {
		kfree(c);
		return NULL;
	}
	return c;
}

/* Keep the copy @c that ended, or free it if COPIES_KEPT are.  Any context. */
static void put_copy(struct cowsnap_state *s, struct direct_copy *c)
{
	unsigned long flags;
	bool keep;

	spin_lock_irqsave(&s->lock, flags);
	keep = s->copies_kept_nr < COPIES_KEPT;
	if (keep) {
		list_add(&c->list, &s->copies_kept);
		s->copies_kept_nr++;
	}
	spin_unlock_irqrestore(&s->lock, flags);
	if (!keep)
		free_copy(c);
}

/* The state is going: no copy is in flight.  Frees the kept copies. */
void cowsnap_free_copies(struct cowsnap_state *s)
{
	struct direct_copy *c, *tmp;

	list_for_each_entry_safe(c, tmp, &s->copies_kept, list)
		free_copy(c);
	INIT_LIST_HEAD(&s->copies_kept);
	s->copies_kept_nr = 0;
}

/*
 * Each run ends as its read did, and as the write did if there was one.
 * The copy is put back before the last run ends: the state may go after
 * it.
 */
static void direct_copy_end(struct direct_copy *c, unsigned long write_err)
{
	struct direct_part *last = &c->part[c->nr - 1];
	struct cowsnap_pending *p = last->p;
	bool read_failed = last->read_failed;
	struct cowsnap_state *s = c->s;
	unsigned int i;

	for (i = 0; i + 1 < c->nr; i++)
		copy_done(c->part[i].read_failed, write_err, c->part[i].p);
	put_copy(s, c);
	copy_done(read_failed, write_err, p);
}

/*
 * A bio of a copy (sent by the worker, or map()'s pass) for @count
 * sectors at @sector of @bdev, from or to @addr in the copy's buffer.
 */
static struct bio *copy_bio(struct cowsnap_state *s, struct block_device *bdev,
			    blk_opf_t opf, sector_t sector, sector_t count,
			    void *addr)
{
	struct bio *bio = bio_alloc_bioset(bdev, 1, opf, GFP_NOIO, &s->copy_bs);

	bio->bi_iter.bi_sector = sector;
	__bio_add_page(bio, virt_to_page(addr), count << SECTOR_SHIFT,
		       offset_in_page(addr));
	return bio;
}

static void direct_write_end(struct bio *bio)
{
	struct direct_copy *c = bio->bi_private;
	bool failed = bio->bi_status;

	bio_put(bio);
	direct_copy_end(c, failed);
}

/*
 * What a read left in the buffer: the runs whose read failed are
 * zeroed (their store chunks are written, never used), or nothing is
 * left to write.
 */
static bool direct_filled(struct direct_copy *c)
{
	unsigned int i, ok = 0;

	for (i = 0; i < c->nr; i++) {
		struct direct_part *part = &c->part[i];

		if (!part->read_failed)
			ok++;
		else
			memset(c->buf + part->offset, 0,
			       part->from.count << SECTOR_SHIFT);
	}
	return ok;
}

/* Every run is in the buffer, or its read failed: write.  Worker only. */
static void direct_write(struct cowsnap_state *s, struct direct_copy *c)
{
	struct bio *bio;

	if (!direct_filled(c)) {
		direct_copy_end(c, 0);
		return;
	}
	bio = copy_bio(s, c->to.bdev, REQ_OP_WRITE, c->to.sector, c->to.count,
		       c->buf);
	bio->bi_end_io = direct_write_end;
	bio->bi_private = c;
	submit_bio(bio);
}

/*
 * A read ended.  The last one to end, of the reads and of
 * direct_copy() starting them, goes on: direct_copy() sends the write
 * itself; a read that ends after it hands the write to the worker, as
 * no bio may be allocated in interrupt context.  The worker is woken
 * under the lock, as in copy_done(): once the lock is released, the
 * worker may write and end this copy, and the state may go.  Any
 * context.
 */
static void direct_read_end(struct bio *bio)
{
	struct direct_part *part = bio->bi_private;
	struct direct_copy *c = part->c;
	struct cowsnap_state *s = c->s;
	unsigned long flags;

	part->read_failed = bio->bi_status;
	bio_put(bio);
	if (!atomic_dec_and_test(&c->reads))	/* orders read_failed */
		return;
	spin_lock_irqsave(&s->lock, flags);
	list_add_tail(&c->list, &s->copy_reads);
	cowsnap_wake_worker(s);
	spin_unlock_irqrestore(&s->lock, flags);
}

/* The origin and store regions of the run @p. */
static void run_regions(struct cowsnap_state *s, struct cowsnap_pending *p,
			struct dm_io_region *from, struct dm_io_region *to)
{
	cowsnap_chunk_regions(s, p->origin_chunk, p->store_chunk,
			      cowsnap_run_length(p), from, to);
}

/* Add the run @p, first on copy_queue, to @c; it leaves the queue. */
static void add_part(struct direct_copy *c, struct cowsnap_pending *p,
		     struct dm_io_region *from, struct dm_io_region *to)
{
	list_del(&p->list);
	c->part[c->nr++] = (struct direct_part){
		.c = c,
		.p = p,
		.from = *from,
		.offset = (to->sector - c->to.sector) << SECTOR_SHIFT,
	};
	c->to.count = to->sector + to->count - c->to.sector;
}

/*
 * The run first on copy_queue, if @c can take it: its store chunks
 * follow @c's, they fit, and @c ends on a chunk boundary (a short run,
 * the origin's last chunk, ends a copy: a write never carries bytes
 * that belong to no chunk).
 */
static struct cowsnap_pending *next_part(struct cowsnap_state *s,
					 struct direct_copy *c,
					 struct dm_io_region *from,
					 struct dm_io_region *to)
{
	struct cowsnap_pending *p;

	p = list_first_entry_or_null(&s->copy_queue, struct cowsnap_pending,
				     list);
	if (!p || c->nr == DIRECT_COPY_RUNS ||
	    (c->to.count & (s->chunk_sectors - 1)))
		return NULL;
	run_regions(s, p, from, to);
	if (to->sector != c->to.sector + c->to.count ||
	    c->to.count + to->count > DIRECT_COPY_SECTORS)
		return NULL;
	return p;
}

/* Start the reads of @c; the last to end sends the write. */
static void direct_read(struct cowsnap_state *s, struct direct_copy *c)
{
	unsigned int i;

	atomic_set(&c->reads, c->nr + 1);
	for (i = 0; i < c->nr; i++) {
		struct direct_part *part = &c->part[i];
		struct bio *bio;

		bio = copy_bio(s, part->from.bdev, REQ_OP_READ,
			       part->from.sector, part->from.count,
			       c->buf + part->offset);
		bio->bi_end_io = direct_read_end;
		bio->bi_private = part;
		submit_bio(bio);
	}
	if (atomic_dec_and_test(&c->reads))
		direct_write(s, c);
}

/*
 * Copy the run @p, first on copy_queue, through bios if it is small
 * enough and memory is at hand, with the runs after it whose store
 * chunks follow on (each holding a copy slot); else return false, @p
 * left on the queue.  Worker only.
 */
static bool direct_copy(struct cowsnap_state *s, struct cowsnap_pending *p,
			struct dm_io_region *from, struct dm_io_region *to)
{
	struct direct_copy *c;

	if (to->count > DIRECT_COPY_SECTORS)
		return false;
	c = get_copy(s);
	if (!c)
		return false;
	c->s = s;
	c->to = *to;
	c->nr = 0;
	add_part(c, p, from, to);
	while ((p = next_part(s, c, from, to)) && take_copy_slot(s))
		add_part(c, p, from, to);
	direct_read(s, c);
	return true;
}

/* Worker only: the copies whose read ended after submit_bio() returned. */
static void write_late_reads(struct cowsnap_state *s)
{
	struct direct_copy *c, *tmp;
	LIST_HEAD(reads);

	spin_lock_irq(&s->lock);
	list_splice_init(&s->copy_reads, &reads);
	spin_unlock_irq(&s->lock);
	list_for_each_entry_safe(c, tmp, &reads, list)
		direct_write(s, c);
}

static void begin_starting(struct cowsnap_state *s)
{
	spin_lock_irq(&s->lock);
	s->starting_copies = true;
	spin_unlock_irq(&s->lock);
}

/* Whether copies ended while they were started: the caller goes on. */
static bool end_starting(struct cowsnap_state *s)
{
	bool ended;

	spin_lock_irq(&s->lock);
	s->starting_copies = false;
	ended = !list_empty(&s->copied);
	spin_unlock_irq(&s->lock);
	return ended;
}

/*
 * Worker only: go on with the copies whose read ended, and start a copy
 * for each run on copy_queue (its first pending exception is queued),
 * as long as fewer than MAX_COPIES are in flight.  Returns whether
 * copies ended meanwhile (on a RAM disk a small copy ends before
 * submit_bio() returns): the worker handles them in the same pass, instead
 * of waking itself for one more (copy_done()).
 */
bool cowsnap_start_copies(struct cowsnap_state *s)
{
	struct dm_io_region from, to;
	struct cowsnap_pending *p;

	begin_starting(s);
	write_late_reads(s);
	while (!list_empty(&s->copy_queue) && take_copy_slot(s)) {
		p = list_first_entry(&s->copy_queue, struct cowsnap_pending,
				     list);
		run_regions(s, p, &from, &to);
		if (!direct_copy(s, p, &from, &to)) {
			list_del(&p->list);
			dm_kcopyd_copy(s->kcopyd, &from, 1, &to, 0, copy_done,
				       p);
		}
	}
	return end_starting(s);
}
