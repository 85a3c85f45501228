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

static struct kmem_cache *exception_cache;

int cowsnap_index_init(struct cowsnap_index *ix, u64 capacity)
{
	u32 bits = capacity > 2 ? ilog2(capacity) : 0;

	ix->bits = clamp_t(u32, bits, INDEX_MIN_BITS, INDEX_MAX_BITS);
	ix->buckets = kvcalloc(1UL << ix->bits, sizeof(*ix->buckets),
			       GFP_KERNEL);
	if (!ix->buckets)
		return -ENOMEM;
	spin_lock_init(&ix->insert_lock);
	ix->count = 0;
	return 0;
}

static void free_all(struct cowsnap_index *ix)
{
	struct cowsnap_exception *e;
	struct hlist_node *tmp;
	u32 i;

	for (i = 0; i < (1U << ix->bits); i++) {
		hlist_for_each_entry_safe(e, tmp, &ix->buckets[i], node)
			kmem_cache_free(exception_cache, e);
		INIT_HLIST_HEAD(&ix->buckets[i]);
		cond_resched();
	}
	ix->count = 0;
}

void cowsnap_index_destroy(struct cowsnap_index *ix)
{
	if (!ix->buckets)
		return;
	free_all(ix);
	kvfree(ix->buckets);
	ix->buckets = NULL;
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

/* The entry's store chunk, draining mark included, or U64_MAX. */
static u64 lookup_raw(struct cowsnap_index *ix, u64 origin_chunk)
{
	struct cowsnap_exception *e;
	u64 v = U64_MAX;

	rcu_read_lock();
	e = __find(bucket(ix, origin_chunk), origin_chunk);
	if (e)
		v = READ_ONCE(e->store_chunk);
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
	if (__find(head, origin_chunk)) {
		kmem_cache_free(exception_cache, e);
		return -EEXIST;
	}
	e->origin_chunk = origin_chunk;
	e->store_chunk = store_chunk;
	hlist_add_head_rcu(&e->node, head);
	ix->count++;
	return 0;
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
