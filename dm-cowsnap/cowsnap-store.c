// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the exception store on its volume (see cowsnap-store.h).
 *
 * On-disk layout and validation rules: cowsnap-format.h and
 * Documentation/dm-cowsnap-format.rst.  I/O is synchronous, one bio on
 * the stack (submit_bio_wait()): the store is driven by the state's
 * worker, or by map()'s pass for a first write, which may block.  A
 * first write at queue depth 1 pays for one such write, its commit: in
 * a profile under QEMU the same write through dm-io took half as much
 * time again as the bio (its request and bio from mempools).
 */
#include <linux/bio.h>
#include <linux/slab.h>
#include <linux/uuid.h>
#include <linux/device-mapper.h>

#include "cowsnap.h"
#include "cowsnap-store.h"

struct cowsnap_store {
	struct cowsnap_store_params p;
	struct cowsnap_layout layout;
	struct cowsnap_sb sb;		/* in-memory superblock */
	void *buf;			/* two metadata blocks for I/O */
	u64 nonce;			/* carried by every exception block */
	u64 generation;			/* of the last metadata write */
	spinlock_t alloc_lock;		/* protects next_data's changes */
	u64 store_chunks;		/* changed by the worker only */
	u64 next_data;			/* next data index to allocate */
	u64 exceptions;			/* committed */
	u64 uncommitted;		/* added since the last commit */
	bool failed;			/* a metadata write failed */

	/*
	 * The tail exception block: the one being filled, whose image
	 * (tail: entries in place, zeros after them) a commit seals and
	 * writes as it is.  Its last entry may still grow (a run), so
	 * the running checksum stops before it.
	 */
	u64 tail_eb;
	u32 tail_copy;			/* copy holding its latest version */
	u32 tail_nr;
	/* cowsnap_eb_entries_csum() of the first tail_csum_nr entries */
	u32 tail_csum;
	u32 tail_csum_nr;
	bool tail_dirty;		/* entries not yet written */
	struct cowsnap_disk_eb *tail;
	struct cowsnap_eb_powers powers;	/* for sealing it */

	/*
	 * Where cowsnap_store_read_log() stopped: exception @log_pos (in
	 * commit order, counting chunks) is chunk @log_off of entry
	 * @log_entry of exception block @log_eb.
	 */
	u64 log_pos;
	u64 log_eb;
	u32 log_entry;
	u32 log_off;
};

/* Whole chunks on the store device now. */
static u64 device_chunks(struct cowsnap_store *st)
{
	return bdev_nr_sectors(st->p.bdev) >> ilog2(st->p.chunk_sectors);
}

/* Superblock plus both copies of every exception block in use. */
static u64 metadata_blocks(struct cowsnap_store *st)
{
	return 1 + 2 * (READ_ONCE(st->tail_eb) + !!READ_ONCE(st->tail_nr));
}

/* Whether entries may be runs (INCOMPAT_RUNS). */
static bool has_runs(struct cowsnap_store *st)
{
	return st->sb.incompat_flags & COWSNAP_FEATURE_INCOMPAT_RUNS;
}

/* The next cowsnap_store_read_log() starts from the top of the log. */
static void log_rewind(struct cowsnap_store *st)
{
	st->log_pos = 0;
	st->log_eb = 0;
	st->log_entry = 0;
	st->log_off = 0;
}

/* Exception block @eb becomes the tail, empty, never written. */
static void empty_tail(struct cowsnap_store *st, u64 eb)
{
	memset(st->tail, 0, COWSNAP_BLOCK_SIZE);
	st->tail_eb = eb;
	st->tail_copy = 1;
	st->tail_nr = 0;
	st->tail_csum = 0;
	st->tail_csum_nr = 0;
}

/* @blocks metadata blocks at @blocknr from or to @buf (kmalloc'ed). */
static int store_io_buf(struct cowsnap_store *st, blk_opf_t opf,
			u64 blocknr, unsigned int blocks, void *buf)
{
	struct bio_vec bv;
	struct bio bio;
	int r;

	bio_init(&bio, st->p.bdev, &bv, 1, opf);
	bio.bi_iter.bi_sector = blocknr * COWSNAP_BLOCK_SECTORS;
	__bio_add_page(&bio, virt_to_page(buf), blocks * COWSNAP_BLOCK_SIZE,
		       offset_in_page(buf));
	r = submit_bio_wait(&bio);
	bio_uninit(&bio);
	return r;
}

static int store_io(struct cowsnap_store *st, blk_opf_t opf, u64 blocknr,
		    unsigned int blocks)
{
	return store_io_buf(st, opf, blocknr, blocks, st->buf);
}

#define WRITE_DURABLE	(REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA | REQ_SYNC)

static int write_sb(struct cowsnap_store *st)
{
	st->sb.generation = ++st->generation;
	cowsnap_sb_encode(st->buf, &st->sb);
	return store_io(st, WRITE_DURABLE, COWSNAP_SB_BLOCKNR, 1);
}

static int format_store(struct cowsnap_store *st, char **error)
{
	struct cowsnap_sb *sb = &st->sb;
	int r;

	memset(sb, 0, sizeof(*sb));
	sb->version = COWSNAP_FORMAT_VERSION;
	sb->incompat_flags = COWSNAP_FEATURE_INCOMPAT_RUNS;
	generate_random_uuid(sb->uuid);
	sb->mode = st->p.mode;
	sb->state = COWSNAP_DISK_STATE_VALID;
	sb->chunk_sectors = st->p.chunk_sectors;
	sb->origin_sectors = st->p.origin_sectors;
	sb->store_sectors = bdev_nr_sectors(st->p.bdev);
	sb->snapshot_id = 1;
	sb->nr_snapshots = 1;
	strscpy(sb->origin_id, st->p.origin_id ?: "", sizeof(sb->origin_id));
	st->nonce = cowsnap_sb_nonce(sb);
	st->generation = 0;
	r = write_sb(st);
	if (r) {
		DMERR("%s: cannot write the superblock: %d", st->p.name, r);
		*error = "Cannot write the store superblock";
	}
	return r;
}

/* Keep a decode error for the log; map it to a static table error. */
static int refuse_sb(struct cowsnap_store *st, int r, const char *msg,
		     char **error)
{
	DMERR("%s: %s", st->p.name, msg);
	switch (r) {
	case -EINVAL:
		*error = "Store is not a cowsnap store (add feature reformat to overwrite it)";
		break;
	case -EOPNOTSUPP:
		*error = "Store format not supported by this module";
		break;
	default:
		*error = "Store superblock is corrupt";
		r = -EILSEQ;
	}
	return r;
}

/* ---- recovery ---- */

static int read_eb(struct cowsnap_store *st, u64 eb,
		   struct cowsnap_eb_copy c[2])
{
	u64 blocknr = cowsnap_eb_blocknr(&st->layout, eb, 0);
	const struct cowsnap_disk_header *h;
	u32 i;
	int r;

	r = store_io(st, REQ_OP_READ, blocknr, 2);
	if (r)
		return r;
	for (i = 0; i < 2; i++) {
		void *block = st->buf + i * COWSNAP_BLOCK_SIZE;

		h = block;
		c[i].r = cowsnap_eb_decode(block, blocknr + i, st->nonce,
					   c[i].err);
		c[i].generation = le64_to_cpu(h->generation);
	}
	return 0;
}

/*
 * Read exception block @eb and pick its latest copy (cowsnap_eb_pick()), or
 * return the I/O error.  *@pick < 0 says neither copy is usable.
 */
static int read_latest(struct cowsnap_store *st, u64 eb,
		       struct cowsnap_eb_copy c[2], int *pick)
{
	int r = read_eb(st, eb, c);

	if (!r)
		*pick = cowsnap_eb_pick(c);
	return r;
}

static bool eb_on_store(struct cowsnap_store *st, u64 eb)
{
	u64 last = cowsnap_eb_blocknr(&st->layout, eb, 1);

	return (last + 1) * COWSNAP_BLOCK_SECTORS <=
	       bdev_nr_sectors(st->p.bdev);
}

/*
 * The chunks entry @e stands for, its first origin and store chunks in
 * *@o and *@c; 0 if it lies outside the origin or off a run of data
 * chunks.
 */
static u32 decode_entry(struct cowsnap_store *st,
			const struct cowsnap_disk_exception *e, u64 *o, u64 *c)
{
	u64 origin_chunks = cowsnap_nr_chunks(st->p.origin_sectors,
					      ilog2(st->p.chunk_sectors));
	u32 len = cowsnap_entry_decode(e, st->sb.incompat_flags, o, c);
	char err[COWSNAP_ERRLEN];

	if (cowsnap_entry_check(&st->layout, origin_chunks, *o, *c, len,
				err)) {
		DMERR("%s: exception %llu -> %llu: %s", st->p.name, *o, *c,
		      err);
		return 0;
	}
	return len;
}

/*
 * Load the @nr entries of exception block @block, whose first chunk is
 * exception @pos in commit order: those the merge cursor has not passed.
 * Returns the number of chunks, or a negative error.
 */
static int load_entries(struct cowsnap_store *st, u64 pos, const void *block,
			u32 nr, cowsnap_store_load_fn load, void *ctx,
			u64 *max_data)
{
	const struct cowsnap_disk_eb *d = block;
	u32 i, k, len, chunks = 0;
	u64 o, c;
	int r;

	for (i = 0; i < nr; i++) {
		len = decode_entry(st, &d->entries[i], &o, &c);
		if (!len)
			return -EBADMSG;
		*max_data = max(*max_data,
				cowsnap_data_index(&st->layout, c) + len);
		for (k = 0; k < len; k++, chunks++) {
			if (pos + chunks < st->sb.merge_cursor)
				continue;	/* merged into the origin already */
			r = load(ctx, o + k, c + k);
			if (r) {
				DMERR("%s: exception %llu -> %llu: %s",
				      st->p.name, o + k, c + k,
				      r == -EEXIST ? "chunk mapped twice" :
						     "cannot load");
				return r == -EEXIST ? -EBADMSG : r;
			}
		}
	}
	return chunks;
}

/* After the tail, no later exception block may hold a valid copy. */
static int check_after_tail(struct cowsnap_store *st)
{
	struct cowsnap_eb_copy c[2];
	u64 eb = st->tail_eb + 1;
	int r;

	if (!eb_on_store(st, eb))
		return 0;
	r = read_eb(st, eb, c);
	if (r)
		return r;
	if (c[0].r >= 0 || c[1].r >= 0) {
		DMERR("%s: exception block %llu is short but %llu is in use",
		      st->p.name, st->tail_eb, eb);
		return -EBADMSG;
	}
	return 0;
}

static int recover_eb(struct cowsnap_store *st, u64 eb,
		      cowsnap_store_load_fn load, void *ctx, u64 *max_data,
		      bool *tail)
{
	struct cowsnap_eb_copy c[2];
	int r, pick;

	r = read_latest(st, eb, c, &pick);
	if (r)
		return r;
	if (pick == -EILSEQ) {
		DMERR("%s: exception block %llu: %s; %s", st->p.name, eb,
		      c[0].err, c[1].err);
		return -EBADMSG;
	}
	*tail = true;
	if (pick < 0) {			/* never written: an empty tail */
		empty_tail(st, eb);
		return 0;
	}
	st->tail_eb = eb;
	st->generation = max(st->generation, c[pick].generation);
	r = load_entries(st, st->exceptions, st->buf + pick * COWSNAP_BLOCK_SIZE,
			 c[pick].r, load, ctx, max_data);
	if (r < 0)
		return r;
	st->exceptions += r;
	*tail = c[pick].r < COWSNAP_EB_MAX_ENTRIES;
	st->tail_copy = pick;
	st->tail_nr = c[pick].r;
	memset(st->tail, 0, COWSNAP_BLOCK_SIZE);
	memcpy(st->tail->entries, ((struct cowsnap_disk_eb *)(st->buf +
	       pick * COWSNAP_BLOCK_SIZE))->entries,
	       st->tail_nr * sizeof(st->tail->entries[0]));
	st->tail_csum = 0;		/* write_tail() computes it */
	st->tail_csum_nr = 0;
	return 0;
}

static int recover(struct cowsnap_store *st, cowsnap_store_load_fn load,
		   void *ctx)
{
	u64 eb, max_data = 0;
	bool tail = false;
	int r;

	st->nonce = cowsnap_sb_nonce(&st->sb);
	st->generation = st->sb.generation;
	for (eb = 0; !tail && eb_on_store(st, eb); eb++) {
		r = recover_eb(st, eb, load, ctx, &max_data, &tail);
		if (r)
			return r;
	}
	if (!tail)			/* every block on the store is full */
		empty_tail(st, eb);
	st->next_data = max_data;
	return tail ? check_after_tail(st) : 0;
}

static int open_existing(struct cowsnap_store *st, cowsnap_store_load_fn load,
			 void *ctx, char **error)
{
	char err[COWSNAP_ERRLEN];
	int r;

	r = cowsnap_sb_check_geometry(&st->sb, st->p.mode, st->p.chunk_sectors,
				      st->p.origin_sectors, err);
	if (r) {
		DMERR("%s: %s", st->p.name, err);
		*error = "Store was made for another mode, chunk size or origin size";
		return r;
	}
	if (st->sb.state == COWSNAP_DISK_STATE_ENDED) {
		st->nonce = cowsnap_sb_nonce(&st->sb);
		st->generation = st->sb.generation;
		st->tail_copy = 1;
		return 0;		/* nothing in it matters any more */
	}
	r = recover(st, load, ctx);
	if (r) {
		*error = r == -EBADMSG ? "Store metadata is corrupt" :
					 "Cannot read the store metadata";
		return r;
	}
	if (cowsnap_chunks_used(&st->layout, st->next_data) > st->store_chunks) {
		*error = "Store device is smaller than the data it holds";
		return -ENOSPC;
	}
	return 0;
}

/* Read block 0 and decode it into st->sb: 0, a decode error, or -EIO. */
static int read_sb(struct cowsnap_store *st, char *err, char **error)
{
	int r = store_io(st, REQ_OP_READ, COWSNAP_SB_BLOCKNR, 1);

	if (r) {
		*error = "Cannot read the store superblock";
		return -EIO;
	}
	return cowsnap_sb_decode(st->buf, &st->sb, err);
}

static int open_persistent(struct cowsnap_store *st,
			   cowsnap_store_load_fn load, void *ctx, char **error)
{
	char err[COWSNAP_ERRLEN];
	int r;

	r = read_sb(st, err, error);
	if (r == -EIO)
		return r;
	if (r == -ENODATA || (r && st->p.reformat))
		return format_store(st, error);
	if (r)
		return refuse_sb(st, r, err, error);
	if (st->p.reformat) {
		DMWARN("%s: reformatting a cowsnap store on request", st->p.name);
		return format_store(st, error);
	}
	return open_existing(st, load, ctx, error);
}

/* A transient store must not destroy a persistent one by accident. */
static int open_transient(struct cowsnap_store *st, char **error)
{
	char err[COWSNAP_ERRLEN];
	int r;

	r = read_sb(st, err, error);
	if (r == -EIO)
		return r;
	if (!r) {
		*error = "Store holds a persistent cowsnap store: refusing transient use";
		return -EBUSY;
	}
	memset(&st->sb, 0, sizeof(st->sb));
	st->sb.state = COWSNAP_DISK_STATE_VALID;
	st->tail_copy = 1;
	return 0;
}

static int store_alloc_buffers(struct cowsnap_store *st)
{
	st->buf = kmalloc(2 * COWSNAP_BLOCK_SIZE, GFP_KERNEL);
	st->tail = kzalloc(COWSNAP_BLOCK_SIZE, GFP_KERNEL);
	if (!st->buf || !st->tail)
		return -ENOMEM;
	cowsnap_eb_powers_init(&st->powers);
	return 0;
}

static void store_free(struct cowsnap_store *st)
{
	kfree(st->tail);
	kfree(st->buf);
	kfree(st);
}

int cowsnap_store_open(const struct cowsnap_store_params *p,
		       cowsnap_store_load_fn load, void *ctx,
		       struct cowsnap_store **out, char **error)
{
	struct cowsnap_store *st = kzalloc(sizeof(*st), GFP_KERNEL);
	int r;

	if (!st) {
		*error = "Cannot allocate the store";
		return -ENOMEM;
	}
	st->p = *p;
	spin_lock_init(&st->alloc_lock);
	cowsnap_layout_init(&st->layout, p->chunk_sectors);
	st->store_chunks = device_chunks(st);
	r = store_alloc_buffers(st);
	if (r) {
		*error = "Cannot allocate the store";
		goto bad;
	}
	if (p->transient)
		r = open_transient(st, error);
	else
		r = open_persistent(st, load, ctx, error);
	if (r)
		goto bad;
	*out = st;
	return 0;
bad:
	store_free(st);
	return r;
}

/* Write the superblock as changed by the caller; a failure is sticky. */
static int update_sb(struct cowsnap_store *st)
{
	int r;

	if (st->p.transient)
		return 0;
	if (st->failed)
		return -EIO;
	st->sb.nr_exceptions = st->exceptions;
	st->sb.metadata_blocks = metadata_blocks(st);
	r = write_sb(st);
	if (r)
		st->failed = true;
	return r;
}

void cowsnap_store_close(struct cowsnap_store *st)
{
	if (!st->failed && update_sb(st))
		DMERR("%s: cannot update the superblock", st->p.name);
	store_free(st);
}

bool cowsnap_store_invalid(struct cowsnap_store *st, u32 *reason)
{
	*reason = st->sb.invalid_reason;
	return st->sb.state == COWSNAP_DISK_STATE_INVALID;
}

static u64 data_capacity(struct cowsnap_store *st)
{
	return cowsnap_data_capacity(&st->layout, READ_ONCE(st->store_chunks));
}

u32 cowsnap_store_alloc_run(struct cowsnap_store *st, u32 n, u64 *chunk)
{
	u64 next, in_area, left;
	unsigned long flags;

	spin_lock_irqsave(&st->alloc_lock, flags);
	next = st->next_data;
	left = data_capacity(st) - min(next, data_capacity(st));
	div64_u64_rem(next, st->layout.data_chunks, &in_area);
	in_area = st->layout.data_chunks - in_area;	/* in a row from next */
	n = min3((u64)n, left, in_area);
	if (n) {
		*chunk = cowsnap_data_chunk(&st->layout, next);
		WRITE_ONCE(st->next_data, next + n);
	}
	spin_unlock_irqrestore(&st->alloc_lock, flags);
	return n;
}

int cowsnap_store_alloc(struct cowsnap_store *st, u64 *chunk)
{
	return cowsnap_store_alloc_run(st, 1, chunk) ? 0 : -ENOSPC;
}

u64 cowsnap_store_free_chunks(struct cowsnap_store *st)
{
	return data_capacity(st) - READ_ONCE(st->next_data);
}

/* Write the tail exception block to the copy not holding its latest. */
static int write_tail(struct cowsnap_store *st)
{
	u32 copy = st->tail_copy ^ 1;
	u64 blocknr = cowsnap_eb_blocknr(&st->layout, st->tail_eb, copy);
	u32 last = st->tail_nr - 1;	/* may still grow: not in tail_csum */
	const struct cowsnap_disk_exception *e = st->tail->entries;
	int r;

	if (st->failed)
		return -EIO;
	/* One checksum update per write, over the entries added since */
	st->tail_csum = cowsnap_eb_entries_csum(st->tail_csum,
						&e[st->tail_csum_nr],
						last - st->tail_csum_nr);
	st->tail_csum_nr = last;
	cowsnap_eb_seal(st->tail, blocknr, ++st->generation, st->nonce,
			st->sb.snapshot_id, st->tail_nr,
			cowsnap_eb_entries_csum(st->tail_csum, &e[last], 1),
			&st->powers);
	r = store_io_buf(st, WRITE_DURABLE, blocknr, 1, st->tail);
	if (r) {
		st->failed = true;
		return r;
	}
	st->tail_copy = copy;
	st->tail_dirty = false;
	WRITE_ONCE(st->exceptions, st->exceptions + st->uncommitted);
	st->uncommitted = 0;
	return 0;
}

/*
 * Grow the tail's last entry by up to @len chunks if the run from
 * @origin_chunk, @store_chunk carries it on.  Returns the chunks taken.
 */
static u32 extend_last(struct cowsnap_store *st, u64 origin_chunk,
		       u64 store_chunk, u32 len)
{
	struct cowsnap_disk_exception *e = &st->tail->entries[st->tail_nr - 1];
	u64 o, c;
	u32 n;

	if (!has_runs(st) || !st->tail_nr)
		return 0;
	n = cowsnap_entry_decode(e, st->sb.incompat_flags, &o, &c);
	if (o + n != origin_chunk || c + n != store_chunk ||
	    n == COWSNAP_RUN_MAX)
		return 0;
	len = min(len, COWSNAP_RUN_MAX - n);
	cowsnap_entry_encode(e, o, c, n + len);
	return len;
}

/* Add a new entry for up to @len chunks; returns the chunks taken. */
static int add_entry(struct cowsnap_store *st, u64 origin_chunk,
		     u64 store_chunk, u32 len)
{
	int r;

	if (st->tail_nr == COWSNAP_EB_MAX_ENTRIES) {
		if (st->tail_dirty) {
			r = write_tail(st);
			if (r)
				return r;
		}
		empty_tail(st, st->tail_eb + 1);
	}
	len = has_runs(st) ? min(len, COWSNAP_RUN_MAX) : 1;
	cowsnap_entry_encode(&st->tail->entries[st->tail_nr], origin_chunk, store_chunk,
			     len);
	st->tail_nr++;
	return len;
}

int cowsnap_store_add_run(struct cowsnap_store *st, u64 origin_chunk,
			  u64 store_chunk, u32 len)
{
	int n;

	if (st->p.transient) {
		st->uncommitted += len;
		return 0;
	}
	while (len) {
		n = extend_last(st, origin_chunk, store_chunk, len);
		if (!n)
			n = add_entry(st, origin_chunk, store_chunk, len);
		if (n < 0)
			return n;
		st->tail_dirty = true;
		st->uncommitted += n;
		origin_chunk += n;
		store_chunk += n;
		len -= n;
	}
	return 0;
}

int cowsnap_store_add(struct cowsnap_store *st, u64 origin_chunk,
		      u64 store_chunk)
{
	return cowsnap_store_add_run(st, origin_chunk, store_chunk, 1);
}

int cowsnap_store_commit(struct cowsnap_store *st)
{
	if (st->p.transient) {
		WRITE_ONCE(st->exceptions, st->exceptions + st->uncommitted);
		st->uncommitted = 0;
		return 0;
	}
	return st->tail_dirty ? write_tail(st) : 0;
}

void cowsnap_store_invalidate(struct cowsnap_store *st, u32 reason)
{
	st->sb.state = COWSNAP_DISK_STATE_INVALID;
	st->sb.invalid_reason = reason;
	if (!st->failed && update_sb(st))
		DMERR("%s: cannot record the invalid state", st->p.name);
}

u64 cowsnap_store_resize(struct cowsnap_store *st)
{
	u64 chunks = device_chunks(st);
	u64 gained;

	if (chunks <= st->store_chunks)
		return 0;
	gained = chunks - st->store_chunks;
	WRITE_ONCE(st->store_chunks, chunks);
	st->sb.store_sectors = bdev_nr_sectors(st->p.bdev);
	update_sb(st);		/* a failure is sticky: the next commit fails */
	return gained;
}

void cowsnap_store_usage(struct cowsnap_store *st,
			 struct cowsnap_store_usage *u)
{
	u->total_chunks = READ_ONCE(st->store_chunks);
	u->used_chunks = cowsnap_chunks_used(&st->layout,
					     READ_ONCE(st->next_data));
	u->exceptions = READ_ONCE(st->exceptions);
	u->metadata_blocks = st->p.transient ? 0 : metadata_blocks(st);
}

u64 cowsnap_store_capacity(struct block_device *bdev, u32 chunk_sectors)
{
	struct cowsnap_layout l;

	cowsnap_layout_init(&l, chunk_sectors);
	return cowsnap_data_capacity(&l, bdev_nr_sectors(bdev) >>
				     ilog2(chunk_sectors));
}

u32 cowsnap_store_phase(struct cowsnap_store *st, u32 *op, u64 *cursor,
			u64 *total)
{
	*op = st->sb.operation;
	*cursor = st->sb.merge_cursor;
	*total = st->sb.merge_total;
	return st->sb.state;
}

int cowsnap_store_drop(struct cowsnap_store *st)
{
	st->sb.epoch++;
	st->nonce = cowsnap_sb_nonce(&st->sb);
	st->exceptions = 0;
	st->uncommitted = 0;
	empty_tail(st, 0);
	st->tail_dirty = false;
	log_rewind(st);
	spin_lock_irq(&st->alloc_lock);
	WRITE_ONCE(st->next_data, 0);
	spin_unlock_irq(&st->alloc_lock);
	return update_sb(st);
}

int cowsnap_store_begin_merge(struct cowsnap_store *st, u32 op)
{
	int r = cowsnap_store_commit(st);

	if (r)
		return r;
	st->sb.state = COWSNAP_DISK_STATE_MERGING;
	st->sb.operation = op;
	st->sb.merge_cursor = 0;
	st->sb.merge_total = st->exceptions;
	return update_sb(st);
}

int cowsnap_store_merge_advance(struct cowsnap_store *st, u64 cursor)
{
	st->sb.merge_cursor = cursor;
	return update_sb(st);
}

int cowsnap_store_end(struct cowsnap_store *st, u32 op)
{
	st->sb.state = COWSNAP_DISK_STATE_ENDED;
	st->sb.operation = op;
	st->sb.invalid_reason = COWSNAP_REASON_NONE;
	return update_sb(st);
}

/* The latest copy of exception block @eb, and its entries, in st->buf. */
static int read_log_block(struct cowsnap_store *st, u64 eb,
			  const struct cowsnap_disk_eb **d)
{
	struct cowsnap_eb_copy c[2];
	int r, pick;

	r = read_latest(st, eb, c, &pick);
	if (r)
		return r;
	if (pick < 0) {
		DMERR("%s: exception block %llu unreadable during merge: %s; %s",
		      st->p.name, eb, c[0].err, c[1].err);
		return -EBADMSG;
	}
	*d = st->buf + pick * COWSNAP_BLOCK_SIZE;
	return c[pick].r;
}

/*
 * Walk the entries of exception block @d (@nr of them) from the log
 * cursor on, skipping the chunks before @pos and then taking up to @max
 * into the arrays.  Returns how many were taken, or -EBADMSG.
 */
static int walk_log(struct cowsnap_store *st, const struct cowsnap_disk_eb *d,
		    u32 nr, u64 pos, u64 *origin_chunks, u64 *store_chunks,
		    u32 max)
{
	u32 len, skip, n = 0;
	u64 o, c;

	for (; st->log_entry < nr && n < max; st->log_entry++, st->log_off = 0) {
		len = decode_entry(st, &d->entries[st->log_entry], &o, &c);
		if (!len || st->log_off >= len)
			return -EBADMSG;	/* changed since it was loaded */
		skip = min_t(u64, len - st->log_off, pos - st->log_pos);
		st->log_off += skip;
		st->log_pos += skip;
		for (; st->log_off < len && n < max; st->log_off++, n++) {
			origin_chunks[n] = o + st->log_off;
			store_chunks[n] = c + st->log_off;
			st->log_pos++;
		}
		if (st->log_off < len)
			break;		/* @max taken: the entry goes on */
	}
	return n;
}

int cowsnap_store_read_log(struct cowsnap_store *st, u64 pos,
			   u64 *origin_chunks, u64 *store_chunks, u32 max)
{
	const struct cowsnap_disk_eb *d;
	int nr, n;

	if (pos < st->log_pos)		/* a merge started again */
		log_rewind(st);
	for (;;) {
		nr = read_log_block(st, st->log_eb, &d);
		if (nr < 0)
			return nr;
		n = walk_log(st, d, nr, pos, origin_chunks, store_chunks, max);
		if (n || st->log_entry < nr || nr < COWSNAP_EB_MAX_ENTRIES)
			return n;	/* something, or the end of the log */
		st->log_eb++;
		st->log_entry = 0;
	}
}
