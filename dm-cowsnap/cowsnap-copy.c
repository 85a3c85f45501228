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
 * A copy of up to DIRECT_COPY_SECTORS goes through dm-io, started by the
 * worker: the run is read into a buffer, then the buffer is written to
 * the store.  A read that ends before dm_io() returns (a RAM disk, any
 * device that completes at once) has its write sent there and then; one
 * that ends later hands the copy back to the worker (copy_reads), as no
 * bio may be allocated in interrupt context.  dm-kcopyd hands every copy
 * to its own work item, allocates a job and pages for it, and hands its
 * end back to the worker: for a 4 KiB copy that cost more than the copy
 * (its work items share the worker's kworkers, so no context switch is
 * saved, only that work).
 *
 * A larger copy, or one that finds no buffer at once, goes through
 * dm-kcopyd, which cuts it into pieces copied side by side.  Buffers are
 * taken without waiting, so a copy never waits for memory that only the
 * end of another copy would give back.
 */

#include <linux/dm-kcopyd.h>
#include <linux/log2.h>
#include <linux/slab.h>

#include "cowsnap.h"
#include "cowsnap-compat.h"

#define MAX_COPIES	64	/* copies in flight per state */
/* The largest copy through dm-io: 64 KiB; its buffer comes from kmalloc. */
#define DIRECT_COPY_SECTORS	128
#define DIRECT_COPY_GFP		(GFP_NOWAIT | __GFP_NOWARN)

/* Where the read of a copy through dm-io is. */
enum direct_copy_stage {
	COPY_READING,		/* in dm_io(), on the worker's stack */
	COPY_READ_LATE,		/* dm_io() returned before the read ended */
	COPY_READ_DONE,		/* the read ended */
};

/* A copy through dm-io. */
struct direct_copy {
	struct list_head list;		/* on state->copy_reads (state lock) */
	struct cowsnap_pending *p;	/* the run */
	struct dm_io_region to;		/* the store chunks */
	atomic_t stage;			/* enum direct_copy_stage */
	bool read_failed;
	void *buf;			/* kmalloc, a power of two: aligned */
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

static void direct_copy_end(struct direct_copy *c, int read_err,
			    unsigned long write_err)
{
	struct cowsnap_pending *p = c->p;

	kfree(c->buf);
	kfree(c);
	copy_done(read_err, write_err, p);
}

static void direct_write_done(unsigned long error, void *context)
{
	direct_copy_end(context, 0, error);
}

/* The run is in the buffer, or its read failed: write it.  Worker only. */
static void direct_write(struct cowsnap_state *s, struct direct_copy *c)
{
	struct dm_io_request req = {
		.bi_opf = REQ_OP_WRITE,
		.mem.type = DM_IO_KMEM,
		.mem.ptr.addr = c->buf,
		.notify.fn = direct_write_done,
		.notify.context = c,
		.client = s->copy_io,
	};

	if (c->read_failed)
		direct_copy_end(c, 1, 0);
	else if (cowsnap_dm_io(&req, &c->to, NULL))
		direct_copy_end(c, 0, 1);
}

/*
 * The read ended.  If dm_io() has not returned yet, direct_copy() sends
 * the write; if it has, the worker does.  Both sides swap the stage: the
 * one that comes second goes on (xchg orders read_failed too).  The
 * worker is woken under the lock, as in copy_done(): once the lock is
 * released, the worker may write and end this copy, and the state may
 * go.  Any context.
 */
static void direct_read_done(unsigned long error, void *context)
{
	struct direct_copy *c = context;
	struct cowsnap_state *s = c->p->s;
	unsigned long flags;

	c->read_failed = error;
	if (atomic_xchg(&c->stage, COPY_READ_DONE) == COPY_READING)
		return;
	spin_lock_irqsave(&s->lock, flags);
	list_add_tail(&c->list, &s->copy_reads);
	cowsnap_wake_worker(s);
	spin_unlock_irqrestore(&s->lock, flags);
}

static struct direct_copy *new_direct_copy(struct cowsnap_pending *p,
					   struct dm_io_region *to)
{
	struct direct_copy *c;

	if (to->count > DIRECT_COPY_SECTORS)
		return NULL;
	c = kmalloc(sizeof(*c), DIRECT_COPY_GFP);
	if (!c)
		return NULL;
	c->buf = kmalloc(roundup_pow_of_two(to->count << SECTOR_SHIFT),
			 DIRECT_COPY_GFP);
	if (!c->buf) {
		kfree(c);
		return NULL;
	}
	c->p = p;
	c->to = *to;
	c->read_failed = false;
	atomic_set(&c->stage, COPY_READING);
	return c;
}

/*
 * Copy the run @p through dm-io, if it is small enough and a buffer is
 * at hand; else return false.  Worker only.
 */
static bool direct_copy(struct cowsnap_state *s, struct cowsnap_pending *p,
			struct dm_io_region *from, struct dm_io_region *to)
{
	struct direct_copy *c = new_direct_copy(p, to);
	struct dm_io_request req = {
		.bi_opf = REQ_OP_READ,
		.mem.type = DM_IO_KMEM,
		.notify.fn = direct_read_done,
		.client = s->copy_io,
	};

	if (!c)
		return false;
	req.mem.ptr.addr = c->buf;
	req.notify.context = c;
	if (cowsnap_dm_io(&req, from, NULL)) {	/* the read never starts */
		c->read_failed = true;
		atomic_set(&c->stage, COPY_READ_DONE);
	}
	if (atomic_xchg(&c->stage, COPY_READ_LATE) == COPY_READ_DONE)
		direct_write(s, c);
	return true;
}

/* Worker only: the copies whose read ended after dm_io() returned. */
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
 * dm_io() returns): the worker handles them in the same pass, instead
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
		list_del(&p->list);
		cowsnap_chunk_regions(s, p->origin_chunk, p->store_chunk,
				      cowsnap_run_length(p), &from, &to);
		if (!direct_copy(s, p, &from, &to))
			dm_kcopyd_copy(s->kcopyd, &from, 1, &to, 0, copy_done,
				       p);
	}
	return end_starting(s);
}
