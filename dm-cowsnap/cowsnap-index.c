// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: the exception index (see cowsnap-index.h).
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/rculist.h>
#include <linux/lockdep.h>

#include "cowsnap-index.h"

#define INDEX_MIN_BITS	6
#define INDEX_MAX_BITS	22
#define RUN_MIN_BITS	4

/*
 * A run entry's origin_chunk holds its length above its first chunk
 * (origin chunks stay far below 2^55).
 */
#define RUN_LEN_SHIFT	55
#define RUN_CHUNK_MASK	(BIT_ULL(RUN_LEN_SHIFT) - 1)

static struct kmem_cache *exception_cache;

int cowsnap_index_init(struct cowsnap_index *ix, u64 capacity)
{
	u32 bits = capacity > 2 ? ilog2(capacity) : 0;

	ix->bits = clamp_t(u32, bits, INDEX_MIN_BITS, INDEX_MAX_BITS);
	ix->run_bits = ix->bits > RUN_MIN_BITS + COWSNAP_INDEX_GROUP_SHIFT ?
		       ix->bits - COWSNAP_INDEX_GROUP_SHIFT : RUN_MIN_BITS;
	ix->buckets = kvcalloc(1UL << ix->bits, sizeof(*ix->buckets),
			       GFP_KERNEL);
	ix->run_buckets = kvcalloc(1UL << ix->run_bits,
				   sizeof(*ix->run_buckets), GFP_KERNEL);
	if (!ix->buckets || !ix->run_buckets) {
		kvfree(ix->buckets);
		kvfree(ix->run_buckets);
		ix->buckets = NULL;
		ix->run_buckets = NULL;
		return -ENOMEM;
	}
	spin_lock_init(&ix->insert_lock);
	ix->count = 0;
	ix->singles = 0;
	ix->runs = 0;
	return 0;
}

static void free_table(struct hlist_head *table, u32 bits)
{
	struct cowsnap_exception *e;
	struct hlist_node *tmp;
	u32 i;

	for (i = 0; i < (1U << bits); i++) {
		hlist_for_each_entry_safe(e, tmp, &table[i], node)
			kmem_cache_free(exception_cache, e);
		INIT_HLIST_HEAD(&table[i]);
		cond_resched();
	}
}

static void free_all(struct cowsnap_index *ix)
{
	free_table(ix->buckets, ix->bits);
	free_table(ix->run_buckets, ix->run_bits);
	ix->count = 0;
	ix->singles = 0;
	ix->runs = 0;
}

void cowsnap_index_destroy(struct cowsnap_index *ix)
{
	if (!ix->buckets)
		return;
	free_all(ix);
	kvfree(ix->buckets);
	kvfree(ix->run_buckets);
	ix->buckets = NULL;
	ix->run_buckets = NULL;
}

void cowsnap_index_clear(struct cowsnap_index *ix)
{
	synchronize_rcu();	/* lookups that started earlier are over */
	free_all(ix);
}

static struct hlist_head *bucket(struct cowsnap_index *ix, u64 origin_chunk)
{
	return &ix->buckets[hash_64(origin_chunk, ix->bits)];
}

static struct cowsnap_exception *__find(struct hlist_head *head, u64 chunk)
{
	struct cowsnap_exception *e;

	hlist_for_each_entry_rcu(e, head, node)
		if (e->origin_chunk == chunk)
			return e;
	return NULL;
}

static struct hlist_head *run_bucket(struct cowsnap_index *ix, u64 chunk)
{
	return &ix->run_buckets[hash_64(chunk >> COWSNAP_INDEX_GROUP_SHIFT,
					ix->run_bits)];
}

static u64 run_first(const struct cowsnap_exception *e)
{
	return e->origin_chunk & RUN_CHUNK_MASK;
}

static u32 run_len(const struct cowsnap_exception *e)
{
	return e->origin_chunk >> RUN_LEN_SHIFT;
}

/* Whether the run @e holds a chunk of the @len from @chunk on. */
static bool run_overlaps(const struct cowsnap_exception *e, u64 chunk,
			 u32 len)
{
	return run_first(e) < chunk + len && chunk < run_first(e) + run_len(e);
}

/*
 * The run holding a chunk of the @len from @chunk on, or NULL.  Runs
 * never change once inserted: no lock, but RCU or insert_lock.
 */
static struct cowsnap_exception *__find_run(struct cowsnap_index *ix,
					    u64 chunk, u32 len)
{
	struct cowsnap_exception *e;

	hlist_for_each_entry_rcu(e, run_bucket(ix, chunk), node,
				 lockdep_is_held(&ix->insert_lock))
		if (run_overlaps(e, chunk, len))
			return e;
	return NULL;
}

/*
 * The entry's store chunk, draining mark included, or U64_MAX.  Each
 * table is probed only while it holds entries.  The runs' count is read
 * first: cowsnap_index_split_runs() counts the single entries it adds
 * before it says there are no runs any more.
 */
static u64 lookup_raw(struct cowsnap_index *ix, u64 origin_chunk)
{
	struct cowsnap_exception *e = NULL;
	u64 v = U64_MAX;
	bool runs;

	rcu_read_lock();
	runs = READ_ONCE(ix->runs);
	smp_rmb();	/* pairs with the insert lock's release in split */
	if (READ_ONCE(ix->singles))
		e = __find(bucket(ix, origin_chunk), origin_chunk);
	if (e) {
		v = READ_ONCE(e->store_chunk);
	} else if (runs) {
		e = __find_run(ix, origin_chunk, 1);
		if (e)
			v = e->store_chunk + (origin_chunk - run_first(e));
	}
	rcu_read_unlock();
	return v;
}

bool cowsnap_index_lookup(struct cowsnap_index *ix, u64 origin_chunk,
			  u64 *store_chunk)
{
	u64 v = lookup_raw(ix, origin_chunk);

	if (v == U64_MAX)
		return false;
	*store_chunk = v & ~COWSNAP_INDEX_DRAINING;
	return true;
}

u32 cowsnap_index_unmapped(struct cowsnap_index *ix, u64 origin_chunk,
			   u32 len)
{
	struct cowsnap_exception *e;
	u64 first;
	u32 k;

	rcu_read_lock();
	if (READ_ONCE(ix->runs)) {
		hlist_for_each_entry_rcu(e, run_bucket(ix, origin_chunk), node) {
			if (!run_overlaps(e, origin_chunk, len))
				continue;
			first = run_first(e);
			len = first > origin_chunk ? first - origin_chunk : 0;
		}
	}
	if (READ_ONCE(ix->singles)) {
		for (k = 0; k < len; k++)
			if (__find(bucket(ix, origin_chunk + k), origin_chunk + k))
				len = k;
	}
	rcu_read_unlock();
	return len;
}

bool cowsnap_index_lookup_settled(struct cowsnap_index *ix, u64 origin_chunk,
				  u64 *store_chunk)
{
	u64 v = lookup_raw(ix, origin_chunk);

	if (v & COWSNAP_INDEX_DRAINING)		/* U64_MAX included */
		return false;
	*store_chunk = v;
	return true;
}

int cowsnap_index_insert_draining(struct cowsnap_index *ix, u64 origin_chunk,
				  u64 store_chunk)
{
	return cowsnap_index_insert(ix, origin_chunk,
				    store_chunk | COWSNAP_INDEX_DRAINING);
}

void cowsnap_index_settle(struct cowsnap_index *ix, u64 origin_chunk)
{
	struct cowsnap_exception *e;
	unsigned long flags;

	spin_lock_irqsave(&ix->insert_lock, flags);
	e = __find(bucket(ix, origin_chunk), origin_chunk);
	if (e)
		WRITE_ONCE(e->store_chunk,
			   e->store_chunk & ~COWSNAP_INDEX_DRAINING);
	spin_unlock_irqrestore(&ix->insert_lock, flags);
}

struct cowsnap_exception *cowsnap_index_entry_alloc(gfp_t gfp)
{
	return kmem_cache_alloc(exception_cache, gfp);
}

unsigned long cowsnap_index_lock(struct cowsnap_index *ix)
	__acquires(&ix->insert_lock)
{
	unsigned long flags;

	spin_lock_irqsave(&ix->insert_lock, flags);
	return flags;
}

void cowsnap_index_unlock(struct cowsnap_index *ix, unsigned long flags)
	__releases(&ix->insert_lock)
{
	spin_unlock_irqrestore(&ix->insert_lock, flags);
}

int __cowsnap_index_insert_entry(struct cowsnap_index *ix,
				 struct cowsnap_exception *e, u64 origin_chunk,
				 u64 store_chunk)
{
	struct hlist_head *head = bucket(ix, origin_chunk);

	lockdep_assert_held(&ix->insert_lock);
	if (__find(head, origin_chunk) ||
	    (ix->runs && __find_run(ix, origin_chunk, 1))) {
		kmem_cache_free(exception_cache, e);
		return -EEXIST;
	}
	e->origin_chunk = origin_chunk;
	e->store_chunk = store_chunk;
	hlist_add_head_rcu(&e->node, head);
	ix->count++;
	WRITE_ONCE(ix->singles, ix->singles + 1);
	return 0;
}

int __cowsnap_index_insert_run(struct cowsnap_index *ix,
			       struct cowsnap_exception *e, u64 origin_chunk,
			       u64 store_chunk, u32 len)
{
	lockdep_assert_held(&ix->insert_lock);
	if (WARN_ON_ONCE(!len || len > cowsnap_index_group_left(origin_chunk)))
		len = 1;
	if (len == 1)
		return __cowsnap_index_insert_entry(ix, e, origin_chunk,
						    store_chunk);
	if (__find_run(ix, origin_chunk, len) ||
	    __find(bucket(ix, origin_chunk), origin_chunk))
		goto exists;
	e->origin_chunk = origin_chunk | (u64)len << RUN_LEN_SHIFT;
	e->store_chunk = store_chunk;
	hlist_add_head_rcu(&e->node, run_bucket(ix, origin_chunk));
	ix->count += len;
	WRITE_ONCE(ix->runs, ix->runs + 1);
	return 0;
exists:
	kmem_cache_free(exception_cache, e);
	return -EEXIST;
}

int cowsnap_index_insert_entry(struct cowsnap_index *ix,
			       struct cowsnap_exception *e, u64 origin_chunk,
			       u64 store_chunk)
{
	unsigned long flags = cowsnap_index_lock(ix);
	int r = __cowsnap_index_insert_entry(ix, e, origin_chunk, store_chunk);

	cowsnap_index_unlock(ix, flags);
	return r;
}

/* One entry per chunk of the run @r; no lock held (entries allocated). */
static void split_run(struct cowsnap_index *ix, struct cowsnap_exception *r)
{
	struct cowsnap_exception *e;
	unsigned long flags;
	u32 i;

	for (i = 0; i < run_len(r); i++) {
		e = cowsnap_index_entry_alloc(GFP_NOIO | __GFP_NOFAIL);
		e->origin_chunk = run_first(r) + i;
		e->store_chunk = r->store_chunk + i;
		spin_lock_irqsave(&ix->insert_lock, flags);
		hlist_add_head_rcu(&e->node, bucket(ix, e->origin_chunk));
		WRITE_ONCE(ix->singles, ix->singles + 1);
		spin_unlock_irqrestore(&ix->insert_lock, flags);
	}
}

/*
 * Every chunk of every run gets its own entry first (lookups find it
 * before the run); then lookups stop probing the runs, and once those
 * that did are over, the runs are freed.
 */
void cowsnap_index_split_runs(struct cowsnap_index *ix)
{
	struct cowsnap_exception *r;
	unsigned long flags;
	u32 i;

	if (!READ_ONCE(ix->runs))
		return;
	for (i = 0; i < (1U << ix->run_bits); i++) {
		/* Nothing else changes the runs meanwhile (see the header) */
		hlist_for_each_entry(r, &ix->run_buckets[i], node)
			split_run(ix, r);
		cond_resched();
	}
	spin_lock_irqsave(&ix->insert_lock, flags);
	WRITE_ONCE(ix->runs, 0);
	spin_unlock_irqrestore(&ix->insert_lock, flags);
	synchronize_rcu();
	free_table(ix->run_buckets, ix->run_bits);
}

int cowsnap_index_insert(struct cowsnap_index *ix, u64 origin_chunk,
			 u64 store_chunk)
{
	/* Small and rare: an exception committed on disk must be indexed. */
	struct cowsnap_exception *e =
		cowsnap_index_entry_alloc(GFP_NOIO | __GFP_NOFAIL);

	return cowsnap_index_insert_entry(ix, e, origin_chunk, store_chunk);
}

struct cowsnap_exception *cowsnap_index_remove(struct cowsnap_index *ix,
					       u64 origin_chunk)
{
	struct cowsnap_exception *e;
	unsigned long flags;

	spin_lock_irqsave(&ix->insert_lock, flags);
	e = __find(bucket(ix, origin_chunk), origin_chunk);
	if (e) {
		hlist_del_rcu(&e->node);
		ix->count--;
		WRITE_ONCE(ix->singles, ix->singles - 1);
	}
	spin_unlock_irqrestore(&ix->insert_lock, flags);
	return e;
}

void cowsnap_index_free(struct cowsnap_exception *e)
{
	kmem_cache_free(exception_cache, e);
}

u32 cowsnap_index_collect(struct cowsnap_index *ix, u32 *bucket_pos,
			  u64 *origin_chunks, u64 *store_chunks, u32 max)
{
	struct cowsnap_exception *e;
	u32 n = 0;

	WARN_ON_ONCE(READ_ONCE(ix->runs));
	/* A bucket is left only once it is empty of what was not taken. */
	for (; *bucket_pos < (1U << ix->bits); (*bucket_pos)++) {
		hlist_for_each_entry(e, &ix->buckets[*bucket_pos], node) {
			if (n == max)
				return n;
			origin_chunks[n] = e->origin_chunk;
			store_chunks[n++] = e->store_chunk &
					    ~COWSNAP_INDEX_DRAINING;
		}
	}
	return n;
}

int cowsnap_index_module_init(void)
{
	exception_cache = KMEM_CACHE(cowsnap_exception, 0);
	return exception_cache ? 0 : -ENOMEM;
}

void cowsnap_index_module_exit(void)
{
	kmem_cache_destroy(exception_cache);
}
