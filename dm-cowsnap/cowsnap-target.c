// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap: point-in-time snapshots of a block device, with the
 * exception store on a separate volume, in copy-on-write (CoW) or
 * redirect-on-write (ROW) mode.
 *
 * This file holds the target methods: constructor, destructor, map,
 * status, and the registry of states shared by the two views of one
 * origin/store pair.  What a view does with a bio depends on the mode
 * (cowsnap-cow.c, cowsnap-row.c) and the phase (cowsnap-phase.c), what
 * the store holds on its volume is in cowsnap-store.c, the shared state
 * in cowsnap-state.c.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/bio.h>

#include "cowsnap.h"
#include "cowsnap-compat.h"
#include "cowsnap-store.h"
#include "cowsnap-version.h"

/*
 * Registry of states, keyed by the store's dev_t.
 * cowsnap_registry_lock protects the list and every state's node; a
 * state's reference count drops to zero only with the lock held, so a
 * lookup never finds a dying state.
 */
static LIST_HEAD(cowsnap_registry);
static DEFINE_MUTEX(cowsnap_registry_lock);

static struct cowsnap_state *__state_find(dev_t dev, bool by_store)
{
	struct cowsnap_state *s;

	lockdep_assert_held(&cowsnap_registry_lock);
	list_for_each_entry(s, &cowsnap_registry, node)
		if ((by_store ? s->store_dev : s->origin_dev) == dev)
			return s;
	return NULL;
}

static int state_matches(struct cowsnap_state *s, struct cowsnap_target *ct,
			 char **error)
{
	if (s->origin_dev != ct->origin->bdev->bd_dev) {
		*error = "Store is already in use with another origin";
		return -EBUSY;
	}
	if (s->mode != ct->params.mode) {
		*error = "Store is already in use in the other mode";
		return -EINVAL;
	}
	if (s->chunk_sectors != ct->params.chunk_sectors) {
		*error = "Store is already in use with another chunk size";
		return -EINVAL;
	}
	if (s->transient != !!(ct->params.features & COWSNAP_F_TRANSIENT)) {
		*error = "Store is already in use with(out) feature transient";
		return -EINVAL;
	}
	return 0;
}

static int state_create(struct cowsnap_target *ct, struct cowsnap_state **out,
			char **error)
{
	struct cowsnap_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int r;

	if (!s) {
		*error = "Cannot allocate the shared state";
		return -ENOMEM;
	}
	r = cowsnap_state_init(s, ct, error);
	if (r) {
		kfree(s);
		return r;
	}
	*out = s;
	return 0;
}

/* A reload of a view: pick up its low-water mark. */
static void state_reattach(struct cowsnap_state *s, struct cowsnap_target *ct)
{
	if (ct->params.features & COWSNAP_F_LOW_WATER)
		WRITE_ONCE(s->low_water, ct->params.low_water_chunks);
}

/* Find the state of this view's origin/store pair, or create it. */
static int state_get(struct cowsnap_target *ct, char **error)
{
	struct cowsnap_state *s;
	int r = 0;

	mutex_lock(&cowsnap_registry_lock);
	s = __state_find(ct->store->bdev->bd_dev, true);
	if (s) {
		r = state_matches(s, ct, error);
		if (!r) {
			kref_get(&s->kref);
			state_reattach(s, ct);
		}
	} else if (__state_find(ct->origin->bdev->bd_dev, false)) {
		*error = "Origin already has a snapshot in another store";
		r = -EBUSY;
	} else {
		r = state_create(ct, &s, error);
		if (!r)
			list_add(&s->node, &cowsnap_registry);
	}
	mutex_unlock(&cowsnap_registry_lock);
	if (!r)
		ct->state = s;
	return r;
}

static void state_release(struct kref *kref)
{
	struct cowsnap_state *s = container_of(kref, struct cowsnap_state, kref);

	list_del(&s->node);
	mutex_unlock(&cowsnap_registry_lock);
	cowsnap_state_exit(s);
	kfree(s);
}

static void state_put(struct cowsnap_state *s)
{
	kref_put_mutex(&s->kref, state_release, &cowsnap_registry_lock);
}

/*
 * A row origin is never written while the snapshot exists: it is opened
 * read-only when it can only be (a read-only device) or when asked
 * (origin_ro), and then fold is refused.
 */
static int get_origin(struct dm_target *ti, struct cowsnap_target *ct)
{
	typeof(dm_table_get_mode(ti->table)) mode = dm_table_get_mode(ti->table);
	bool row = ct->params.mode == COWSNAP_MODE_ROW;
	int r;

	if (row && (ct->params.features & COWSNAP_F_ORIGIN_RO))
		mode &= ~COWSNAP_OPEN_WRITE;
	r = dm_get_device(ti, ct->params.origin_path, mode, &ct->origin);
	if (r && row && (mode & COWSNAP_OPEN_WRITE)) {
		mode &= ~COWSNAP_OPEN_WRITE;
		r = dm_get_device(ti, ct->params.origin_path, mode,
				  &ct->origin);
	}
	if (r) {
		ti->error = "Cannot open origin device";
		return r;
	}
	ct->origin_ro = !(mode & COWSNAP_OPEN_WRITE) ||
			bdev_read_only(ct->origin->bdev);
	if (ct->origin_ro && !row &&
	    (dm_table_get_mode(ti->table) & COWSNAP_OPEN_WRITE)) {
		ti->error = "Origin device is read-only: use mode row";
		dm_put_device(ti, ct->origin);
		return -EROFS;
	}
	return 0;
}

/* The snapshot view of a row store shows the origin, never written. */
static int check_view_mode(struct dm_target *ti, struct cowsnap_target *ct)
{
	if (ct->params.mode == COWSNAP_MODE_ROW &&
	    ct->params.view == COWSNAP_VIEW_SNAP &&
	    (dm_table_get_mode(ti->table) & COWSNAP_OPEN_WRITE)) {
		ti->error = "Snapshot view of a row store is read-only: load it read-only";
		return -EROFS;
	}
	return 0;
}

static int get_devices(struct dm_target *ti, struct cowsnap_target *ct)
{
	int r;

	r = check_view_mode(ti, ct);
	if (!r)
		r = get_origin(ti, ct);
	if (r)
		return r;
	r = dm_get_device(ti, ct->params.store_path,
			  dm_table_get_mode(ti->table), &ct->store);
	if (r) {
		ti->error = "Cannot open store device";
		dm_put_device(ti, ct->origin);
	}
	return r;
}

static void put_devices(struct dm_target *ti, struct cowsnap_target *ct)
{
	dm_put_device(ti, ct->store);
	dm_put_device(ti, ct->origin);
}

static int check_geometry(struct dm_target *ti, struct cowsnap_target *ct)
{
	struct block_device *origin = ct->origin->bdev;
	struct block_device *store = ct->store->bdev;

	if (origin->bd_dev == store->bd_dev) {
		ti->error = "Origin and store are the same device";
		return -EINVAL;
	}
	if (ti->len != bdev_nr_sectors(origin)) {
		ti->error = "Target length must equal the origin's size";
		return -EINVAL;
	}
	if (!cowsnap_store_capacity(store, ct->params.chunk_sectors)) {
		ti->error = "Store device too small: no room for a data chunk";
		return -ENOSPC;
	}
	return 0;
}

/*
 * Two flush bios per flush: one for the origin, one for the store
 * (cowsnap_remap_flush()).  The live view of a cow store takes discards
 * when its origin does (cow_discard() keeps what the snapshot needs);
 * the other views take none: a row live view never writes the origin
 * and keeps its store chunks, and a snapshot view is not discarded.
 * Write-zeroes is left to the block layer, which writes zeroes.
 *
 * A bio map() leaves to the worker is sent with dm_submit_bio_remap(),
 * which starts its I/O accounting: dm core must not start it again
 * after map() returns, when the worker may have sent or even ended the
 * bio already (a bio ended without being sent is accounted at its end).
 */
static void set_target_limits(struct dm_target *ti, struct cowsnap_target *ct)
{
	ti->accounts_remapped_io = true;
	ti->num_flush_bios = 2;
	ti->per_io_data_size = sizeof(struct cowsnap_bio);
	if (ct->params.mode == COWSNAP_MODE_COW &&
	    ct->params.view == COWSNAP_VIEW_LIVE)
		ti->num_discard_bios = 1;
}

/*
 * Construct a view:
 *
 *   cowsnap <origin_dev> <store_dev> <cow|row> <chunk_sectors> <live|snap>
 *           [<#feature_args> <feature_arg>...]
 *
 *   origin_dev     the device to snapshot; the table length must equal
 *                  its size.
 *   store_dev      the separate device holding the exceptions.
 *   cow|row        copy-on-write or redirect-on-write.
 *   chunk_sectors  a power of two from 8 (4 KiB) to 2048 (1 MiB).
 *   live|snap      which view this table is.
 *
 * Feature arguments:
 *   transient            keep exceptions in memory only.
 *   reformat             format the store even if it is not blank.
 *   low_water <chunks>   raise an event when fewer free chunks remain.
 *   origin_ro            (row) open the origin read-only; fold refused.
 *   error_if_full        (row, default) a write needing a new chunk
 *                        fails with -ENOSPC when the store is full.
 *   queue_if_full <s>    (row) such writes wait up to <s> seconds for
 *                        the store to grow (1..3600).
 *
 * The snapshot view of a row store must be loaded read-only.
 *
 * The two views of one store share one state; a table that disagrees
 * with the state already loaded for its store is refused.
 */
static int cowsnap_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct cowsnap_target *ct;
	int r;

	ct = kzalloc(sizeof(*ct), GFP_KERNEL);
	if (!ct) {
		ti->error = "Cannot allocate target context";
		return -ENOMEM;
	}
	ct->ti = ti;
	r = cowsnap_parse_params(&as, &ct->params, &ti->error);
	if (r)
		goto bad_params;
	r = get_devices(ti, ct);
	if (r)
		goto bad_params;
	r = check_geometry(ti, ct);
	if (r)
		goto bad_devices;
	r = state_get(ct, &ti->error);
	if (r)
		goto bad_devices;
	set_target_limits(ti, ct);
	ct->params.origin_path = NULL;
	ct->params.store_path = NULL;
	ti->private = ct;
	cowsnap_state_attach(ct->state, ct);
	return 0;

bad_devices:
	put_devices(ti, ct);
bad_params:
	kfree(ct);
	return r;
}

static void cowsnap_dtr(struct dm_target *ti)
{
	struct cowsnap_target *ct = ti->private;

	cowsnap_state_detach(ct->state, ct);
	state_put(ct->state);
	put_devices(ti, ct);
	kfree(ct);
}

/* The phase's table maps the bio (cowsnap-phase.c). */
static int cowsnap_map(struct dm_target *ti, struct bio *bio)
{
	struct cowsnap_target *ct = ti->private;
	struct cowsnap_state *s = ct->state;
	struct cowsnap_bio *pb = cowsnap_pb(bio);

	pb->tracked = false;
	pb->ref = false;
	pb->first = false;
	pb->pending = NULL;
	pb->view = ct->params.view;
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector =
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	return cowsnap_map_bio(s, bio);
}

static bool is_live(struct cowsnap_target *ct)
{
	return ct->params.view == COWSNAP_VIEW_LIVE;
}

/*
 * Writes of the live view queued for space must not block a suspend:
 * from now to postsuspend they go back to dm core (noflush) or fail.
 */
static void cowsnap_presuspend(struct dm_target *ti)
{
	struct cowsnap_target *ct = ti->private;
	struct cowsnap_state *s = ct->state;

	if (!is_live(ct))
		return;
	WRITE_ONCE(s->suspending, 1 + dm_noflush_suspending(ti));
	cowsnap_run_worker(s);
}

/*
 * Suspended: no more I/O from this view.  Checklist:
 * - live view: writes may wait for space again (after the resume);
 * - live view: let the merge batch in flight end, and pause the merge;
 * - commit every exception added so far (row), so a suspended device
 *   has its mappings on disk.
 */
static void cowsnap_postsuspend(struct dm_target *ti)
{
	struct cowsnap_target *ct = ti->private;
	struct cowsnap_state *s = ct->state;

	if (is_live(ct)) {
		WRITE_ONCE(s->suspending, 0);
		cowsnap_phase_stop(s);
	}
	s->commit_requested = true;
	cowsnap_run_worker(s);
}

/*
 * Before a view goes live: let the worker take a grown store into
 * account, so that status is right as soon as the resume returns.
 */
static int cowsnap_preresume(struct dm_target *ti)
{
	struct cowsnap_target *ct = ti->private;
	struct cowsnap_state *s = ct->state;

	if (is_live(ct))
		WRITE_ONCE(s->suspending, 0);	/* a suspend that failed */
	WRITE_ONCE(s->resize_requested, true);
	cowsnap_run_worker(s);
	return 0;
}

/* The live view runs again: a merge may go on. */
static void cowsnap_resume(struct dm_target *ti)
{
	struct cowsnap_target *ct = ti->private;

	if (is_live(ct))
		cowsnap_phase_go(ct->state);
}

/*
 * A bio that creates an exception (row) goes to its mode first: the
 * mode may keep it, and complete it again once its exception is
 * committed.
 */
static int cowsnap_end_io(struct dm_target *ti, struct bio *bio,
			  blk_status_t *error)
{
	struct cowsnap_target *ct = ti->private;
	struct cowsnap_state *s = ct->state;

	if (cowsnap_pb(bio)->pending &&
	    s->mode_ops->end_io(s, bio, error) == DM_ENDIO_INCOMPLETE)
		return DM_ENDIO_INCOMPLETE;
	cowsnap_end_bio(s, bio);
	return DM_ENDIO_DONE;
}

/*
 * Messages (Documentation/dm-cowsnap.rst), to either view:
 *
 *   rollback   make the live view equal to the snapshot view
 *   fold       end the snapshot, keeping the live view's data
 */
static int cowsnap_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	struct cowsnap_target *ct = ti->private;
	struct cowsnap_state *s = ct->state;
	const char *why = NULL;
	u32 op;
	int r;

	if (argc == 1 && !strcasecmp(argv[0], "rollback")) {
		op = COWSNAP_DISK_OP_ROLLBACK;
	} else if (argc == 1 && !strcasecmp(argv[0], "fold")) {
		op = COWSNAP_DISK_OP_FOLD;
	} else {
		DMWARN("%s: unknown message (expected rollback or fold)",
		       s->name);
		return -EINVAL;
	}
	r = cowsnap_phase_request(s, op, &why);
	if (r)
		DMWARN("%s: %s refused: %s", s->name, argv[0], why);
	return r;
}

/*
 * Status (STATUSTYPE_INFO), documented in Documentation/dm-cowsnap.rst:
 *
 *   <mode> <view> <state> <used_chunks> <total_chunks> <metadata_blocks>
 *   <reason|-> <operation|-> <merged>/<to_merge>|-
 */
static void emit_info(struct cowsnap_target *ct, char *result,
		      unsigned int maxlen)
{
	struct cowsnap_state *s = ct->state;
	u64 total = READ_ONCE(s->merge_total);
	struct cowsnap_store_usage u;
	unsigned int sz = 0;

	cowsnap_store_usage(s->store, &u);
	DMEMIT("%s %s %s %llu %llu %llu %s %s",
	       cowsnap_mode_name(ct->params.mode),
	       cowsnap_view_name(ct->params.view),
	       cowsnap_state_word(s),
	       u.used_chunks, u.total_chunks, u.metadata_blocks,
	       cowsnap_reason_name(READ_ONCE(s->invalid_reason)),
	       cowsnap_op_name(READ_ONCE(s->op)));
	if (total)
		DMEMIT(" %llu/%llu", READ_ONCE(s->merge_cursor), total);
	else
		DMEMIT(" -");
}

static void cowsnap_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	struct cowsnap_target *ct = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		emit_info(ct, result, maxlen);
		break;
	case STATUSTYPE_TABLE:
		cowsnap_emit_table(&ct->params, ct->origin->name,
				   ct->store->name, result, maxlen);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",origin=%s,store=%s,mode=%s,view=%s,chunk_sectors=%u;",
		       ct->origin->name, ct->store->name,
		       cowsnap_mode_name(ct->params.mode),
		       cowsnap_view_name(ct->params.view),
		       ct->params.chunk_sectors);
		break;
	}
}

static int cowsnap_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	struct cowsnap_target *ct = ti->private;
	int r = fn(ti, ct->origin, 0, ti->len, data);

	if (!r && ct->params.view == COWSNAP_VIEW_SNAP)
		r = fn(ti, ct->store, 0, bdev_nr_sectors(ct->store->bdev), data);
	return r;
}

static struct target_type cowsnap_target_type = {
	.name = "cowsnap",
	.version = {COWSNAP_VERSION_MAJOR, COWSNAP_VERSION_MINOR,
		    COWSNAP_VERSION_PATCH},
	.module = THIS_MODULE,
	.ctr = cowsnap_ctr,
	.dtr = cowsnap_dtr,
	.map = cowsnap_map,
	.end_io = cowsnap_end_io,
	.presuspend = cowsnap_presuspend,
	.postsuspend = cowsnap_postsuspend,
	.preresume = cowsnap_preresume,
	.resume = cowsnap_resume,
	.message = cowsnap_message,
	.status = cowsnap_status,
	.iterate_devices = cowsnap_iterate_devices,
};

static int __init dm_cowsnap_init(void)
{
	int r = cowsnap_index_module_init();

	if (r)
		return r;
	r = dm_register_target(&cowsnap_target_type);
	if (r) {
		DMERR("register failed %d", r);
		cowsnap_index_module_exit();
	}
	return r;
}

static void __exit dm_cowsnap_exit(void)
{
	dm_unregister_target(&cowsnap_target_type);
	cowsnap_index_module_exit();
}

module_init(dm_cowsnap_init);
module_exit(dm_cowsnap_exit);

MODULE_DESCRIPTION(DM_NAME " copy-on-write and redirect-on-write snapshots");
MODULE_AUTHOR("dm-cowsnap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(COWSNAP_VERSION);
