/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-cowsnap: shared types and glossary.
 *
 * Glossary (Documentation/dm-cowsnap.rst uses the same words, and so does
 * the code; there are no synonyms):
 *
 *   origin        the block device being snapshotted.
 *   store         the separate block device holding the exceptions and
 *                 the metadata that describes them.
 *   chunk         the unit of copying and mapping: chunk_sectors 512-byte
 *                 sectors, a power of two from 8 (4 KiB) to 2048 (1 MiB).
 *   exception     a chunk of the origin whose data for one view lives in
 *                 the store; in CoW mode the snapshot view's old data, in
 *                 ROW mode the live view's new data.
 *   live view     the device applications keep using.
 *   snapshot view the frozen, point-in-time image.
 *   state         the in-kernel object the two views of one origin/store
 *                 pair share (struct cowsnap_state).
 */
#ifndef COWSNAP_H
#define COWSNAP_H

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/device-mapper.h>

#define DM_MSG_PREFIX "cowsnap"

#define COWSNAP_MIN_CHUNK_SECTORS	8
#define COWSNAP_MAX_CHUNK_SECTORS	2048

enum cowsnap_mode {
	COWSNAP_MODE_COW,
	COWSNAP_MODE_ROW,
};

enum cowsnap_view {
	COWSNAP_VIEW_LIVE,
	COWSNAP_VIEW_SNAP,
};

/* Feature arguments (bits of cowsnap_params.features). */
#define COWSNAP_F_TRANSIENT	BIT(0)	/* exceptions in memory only */
#define COWSNAP_F_REFORMAT	BIT(1)	/* format a non-blank store */
#define COWSNAP_F_LOW_WATER	BIT(2)	/* low_water <chunks> given */

/* A parsed table line.  The paths point into the table's argv. */
struct cowsnap_params {
	const char *origin_path;
	const char *store_path;
	enum cowsnap_mode mode;
	enum cowsnap_view view;
	u32 chunk_sectors;
	u32 chunk_shift;
	unsigned int features;
	u64 low_water_chunks;
};

/*
 * cowsnap_parse_params() - parse a table line (without opening anything).
 * Returns 0, or -EINVAL with a precise message in *@error.
 * Pure: may be called from any context that may call dm_read_arg().
 */
int cowsnap_parse_params(struct dm_arg_set *as, struct cowsnap_params *p,
			 char **error);

/*
 * cowsnap_emit_table() - print the table line for @p with the devices
 * named @origin and @store (as dm prints them, "major:minor"), such that
 * parsing it gives @p back.  Returns the bytes written, like scnprintf().
 */
int cowsnap_emit_table(const struct cowsnap_params *p, const char *origin,
		       const char *store, char *result, unsigned int maxlen);

const char *cowsnap_mode_name(enum cowsnap_mode mode);
const char *cowsnap_view_name(enum cowsnap_view view);

/* Chunk arithmetic: @shift is ilog2(chunk_sectors). */
static inline u64 cowsnap_sector_to_chunk(sector_t sector, u32 shift)
{
	return sector >> shift;
}

static inline sector_t cowsnap_chunk_to_sector(u64 chunk, u32 shift)
{
	return (sector_t)chunk << shift;
}

static inline sector_t cowsnap_sector_in_chunk(sector_t sector, u32 shift)
{
	return sector & (((sector_t)1 << shift) - 1);
}

/* Chunks needed to cover @sectors (a partial last chunk counts). */
static inline u64 cowsnap_nr_chunks(sector_t sectors, u32 shift)
{
	return (sectors + ((sector_t)1 << shift) - 1) >> shift;
}

/*
 * The state shared by the live view and the snapshot view of one
 * origin/store pair, found by the store's dev_t in a registry and
 * reference-counted: each constructed target holds one reference.
 */
struct cowsnap_state {
	struct list_head node;		/* in the registry; registry lock */
	struct kref kref;
	dev_t store_dev;		/* registry key; immutable */
	dev_t origin_dev;		/* immutable */
	enum cowsnap_mode mode;		/* immutable */
	u32 chunk_sectors;		/* immutable */
	sector_t origin_sectors;	/* immutable */
};

#endif /* COWSNAP_H */
