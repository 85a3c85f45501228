/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-cowsnap: the exception index, the in-memory map from origin chunk to
 * store chunk of every committed exception.
 *
 * A fixed-size hash table of RCU-protected lists, sized from the store's
 * capacity when the state is created.  Lookups take no lock (RCU only)
 * and may be called from any context, map() included.  Inserts are
 * serialised by the index's insert lock, and so are removals (a merge
 * removes the exceptions it copied back, freed after an RCU grace
 * period).  The lock is taken with interrupts off: an entry allocated
 * beforehand (cowsnap_index_entry_alloc()) may be inserted from a bio's
 * completion, whatever its context.  cowsnap_index_clear() and
 * cowsnap_index_destroy() free every entry and must only run when no
 * lookup can start any more.
 *
 * Runs: one entry may stand for a run of chunks, in a row on both
 * devices and inside one group of COWSNAP_INDEX_GROUP chunks (a
 * redirect-on-write first write covering many chunks).  Runs live in a
 * second, smaller table hashed by group, which lookups probe only while
 * it holds any.  Runs are never removed one by one:
 * cowsnap_index_split_runs() turns them all into single entries before
 * a merge, cowsnap_index_clear() drops them with the rest.
 *
 * Memory: sizeof(struct cowsnap_exception) (32 bytes, from a slab cache)
 * per single exception or per run, plus 8 bytes per bucket (about one
 * bucket per two exceptions at full capacity, one run bucket per 128).
 */
#ifndef COWSNAP_INDEX_H
#define COWSNAP_INDEX_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/spinlock.h>

struct cowsnap_exception {
	struct hlist_node node;
	u64 origin_chunk;		/* a run: | its length << RUN_LEN_SHIFT */
	u64 store_chunk;		/* | COWSNAP_INDEX_DRAINING */
};

/* A run never crosses a group of this many chunks. */
#define COWSNAP_INDEX_GROUP_SHIFT	8
#define COWSNAP_INDEX_GROUP		BIT(COWSNAP_INDEX_GROUP_SHIFT)

/* Chunks from @chunk to the end of its group: the longest run there. */
static inline u32 cowsnap_index_group_left(u64 chunk)
{
	return COWSNAP_INDEX_GROUP - (chunk & (COWSNAP_INDEX_GROUP - 1));
}

/*
 * Set in an entry's store_chunk (store chunks stay far below 2^63) from
 * cowsnap_index_insert_draining() to cowsnap_index_settle(): the entry
 * is found by cowsnap_index_lookup() but not yet by
 * cowsnap_index_lookup_settled().  Copy-on-write inserts an exception
 * this way while snapshot reads of the origin chunk may still be in
 * flight: the snapshot view already reads the store, the live view must
 * not write the origin chunk yet.
 */
#define COWSNAP_INDEX_DRAINING	BIT_ULL(63)

struct cowsnap_index {
	struct hlist_head *buckets;
	struct hlist_head *run_buckets;	/* of runs, by group */
	u32 bits;
	u32 run_bits;
	spinlock_t insert_lock;		/* serialises inserts, removals */
	u64 count;			/* chunks mapped; insert_lock */
	u64 singles;			/* single entries; insert_lock */
	u64 runs;			/* run entries; insert_lock */
};

int cowsnap_index_init(struct cowsnap_index *ix, u64 capacity);
void cowsnap_index_destroy(struct cowsnap_index *ix);

/*
 * cowsnap_index_lookup() - store chunk of @origin_chunk, or false.
 * Lock-free; safe in any context.
 */
bool cowsnap_index_lookup(struct cowsnap_index *ix, u64 origin_chunk,
			  u64 *store_chunk);

/*
 * cowsnap_index_unmapped() - how many of the @len chunks from
 * @origin_chunk on (in one group) have no entry, counted from the
 * first: the first mapped one ends the count.  Probes the group's runs
 * once, and each chunk only while the index holds single entries.
 * Lock-free; safe in any context.
 */
u32 cowsnap_index_unmapped(struct cowsnap_index *ix, u64 origin_chunk,
			   u32 len);

/*
 * cowsnap_index_insert() - add an exception.  Returns 0, or -EEXIST if
 * @origin_chunk is mapped already.  May sleep (GFP_NOIO, never fails).
 */
int cowsnap_index_insert(struct cowsnap_index *ix, u64 origin_chunk,
			 u64 store_chunk);

/*
 * cowsnap_index_entry_alloc() - an entry for cowsnap_index_insert_entry(),
 * or NULL.  Never sleeps with @gfp GFP_NOWAIT.  Free an entry that was
 * not inserted with cowsnap_index_free().
 */
struct cowsnap_exception *cowsnap_index_entry_alloc(gfp_t gfp);

/*
 * cowsnap_index_insert_entry() - as cowsnap_index_insert(), with an entry
 * from cowsnap_index_entry_alloc(), which the index owns from now on
 * (freed at once on -EEXIST).  Never sleeps; any context.
 */
int cowsnap_index_insert_entry(struct cowsnap_index *ix,
			       struct cowsnap_exception *e, u64 origin_chunk,
			       u64 store_chunk);

/*
 * A run of entries is inserted under one hold of the insert lock:
 * cowsnap_index_lock(), __cowsnap_index_insert_entry() for each (as
 * cowsnap_index_insert_entry()), cowsnap_index_unlock().  Never sleeps;
 * any context.
 */
unsigned long cowsnap_index_lock(struct cowsnap_index *ix)
	__acquires(&ix->insert_lock);
void cowsnap_index_unlock(struct cowsnap_index *ix, unsigned long flags)
	__releases(&ix->insert_lock);
int __cowsnap_index_insert_entry(struct cowsnap_index *ix,
				 struct cowsnap_exception *e, u64 origin_chunk,
				 u64 store_chunk);

/*
 * __cowsnap_index_insert_run() - as __cowsnap_index_insert_entry() for
 * the @len chunks from @origin_chunk on, mapped to @len store chunks in
 * a row from @store_chunk: one entry (a run if @len > 1).  The chunks
 * must not cross a group (COWSNAP_INDEX_GROUP) and must have no entry:
 * -EEXIST (@e freed) if the first one has, or a run overlaps them.
 */
int __cowsnap_index_insert_run(struct cowsnap_index *ix,
			       struct cowsnap_exception *e, u64 origin_chunk,
			       u64 store_chunk, u32 len);

/*
 * cowsnap_index_split_runs() - replace every run by one entry per chunk
 * (lookups find every chunk throughout).  No insert or removal may run
 * meanwhile.  Sleeps (GFP_NOIO, never fails; RCU).
 */
void cowsnap_index_split_runs(struct cowsnap_index *ix);

/*
 * cowsnap_index_lookup_settled() - as cowsnap_index_lookup(), but an
 * exception inserted draining and not yet settled is not reported.
 */
bool cowsnap_index_lookup_settled(struct cowsnap_index *ix, u64 origin_chunk,
				  u64 *store_chunk);

/* As cowsnap_index_insert(), the exception marked draining. */
int cowsnap_index_insert_draining(struct cowsnap_index *ix, u64 origin_chunk,
				  u64 store_chunk);

/* Clear the draining mark of @origin_chunk's exception.  Does not sleep. */
void cowsnap_index_settle(struct cowsnap_index *ix, u64 origin_chunk);

/*
 * cowsnap_index_remove() - unlink the single exception of @origin_chunk
 * and return it, or NULL (a chunk of a run: split the runs first).
 * Free it with cowsnap_index_free() once an RCU grace period has
 * passed.  Does not sleep.
 */
struct cowsnap_exception *cowsnap_index_remove(struct cowsnap_index *ix,
					       u64 origin_chunk);
void cowsnap_index_free(struct cowsnap_exception *e);

/* Free every entry; no lookup may start any more.  Sleeps (RCU). */
void cowsnap_index_clear(struct cowsnap_index *ix);

/*
 * cowsnap_index_collect() - copy up to @max exceptions, scanning from
 * bucket *@bucket on; *@bucket is advanced past buckets that were
 * taken whole.  Meant for a caller that removes what it took before
 * the next call.  Returns the number copied (0: nothing is left).
 * Single exceptions only: split the runs first.  Callers serialise it
 * with inserts and removals.
 */
u32 cowsnap_index_collect(struct cowsnap_index *ix, u32 *bucket,
			  u64 *origin_chunks, u64 *store_chunks, u32 max);

int cowsnap_index_module_init(void);
void cowsnap_index_module_exit(void);

#endif /* COWSNAP_INDEX_H */
