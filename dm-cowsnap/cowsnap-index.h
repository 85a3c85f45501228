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
 * Memory: sizeof(struct cowsnap_exception) (32 bytes, from a slab cache)
 * per exception, plus 8 bytes per bucket (about one bucket per two
 * exceptions at full capacity).
 */
#ifndef COWSNAP_INDEX_H
#define COWSNAP_INDEX_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/spinlock.h>

struct cowsnap_exception {
	struct hlist_node node;
	u64 origin_chunk;
	u64 store_chunk;		/* | COWSNAP_INDEX_DRAINING */
};

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
	u32 bits;
	spinlock_t insert_lock;		/* serialises inserts, removals */
	u64 count;			/* entries; insert_lock */
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
 * cowsnap_index_remove() - unlink the exception of @origin_chunk and
 * return it, or NULL.  Free it with cowsnap_index_free() once an RCU
 * grace period has passed.  Does not sleep.
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
 * Callers serialise it with inserts and removals.
 */
u32 cowsnap_index_collect(struct cowsnap_index *ix, u32 *bucket,
			  u64 *origin_chunks, u64 *store_chunks, u32 max);

int cowsnap_index_module_init(void);
void cowsnap_index_module_exit(void);

#endif /* COWSNAP_INDEX_H */
