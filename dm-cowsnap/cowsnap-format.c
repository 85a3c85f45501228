// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cowsnap on-disk format: pure encode, decode and checksum.
 *
 * No I/O and no allocation here, so the same file builds into the module,
 * the KUnit tests and the userspace tool.
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <linux/crc32c.h>
#include <linux/crc32.h>
#include <asm/byteorder.h>
#endif

#include "cowsnap-format.h"

#define CSUM_OFFSET	sizeof(__le32)

u32 cowsnap_block_csum(const void *block, u32 seed)
{
	return crc32c(seed, (const u8 *)block + CSUM_OFFSET,
		      COWSNAP_BLOCK_SIZE - CSUM_OFFSET);
}

static void header_encode(void *block, u32 type, u64 blocknr, u64 generation)
{
	struct cowsnap_disk_header *h = block;

	h->block_type = cpu_to_le32(type);
	h->magic = cpu_to_le64(COWSNAP_MAGIC);
	h->blocknr = cpu_to_le64(blocknr);
	h->generation = cpu_to_le64(generation);
}

static void header_seal(void *block, u32 seed)
{
	struct cowsnap_disk_header *h = block;

	h->csum = cpu_to_le32(cowsnap_block_csum(block, seed));
}

static bool block_is_zero(const void *block)
{
	const u8 *p = block;
	size_t i;

	for (i = 0; i < COWSNAP_BLOCK_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Checks shared by every block type: magic, type, checksum, location.
 * Magic and type come first so that a foreign block is reported as
 * foreign rather than as corrupt.
 */
static int header_check(const void *block, u32 type, u32 seed, u64 blocknr,
			char *err)
{
	const struct cowsnap_disk_header *h = block;
	u32 csum;

	if (le64_to_cpu(h->magic) != COWSNAP_MAGIC) {
		snprintf(err, COWSNAP_ERRLEN,
			 "bad magic: expected %#llx, found %#llx",
			 (unsigned long long)COWSNAP_MAGIC,
			 (unsigned long long)le64_to_cpu(h->magic));
		return -EINVAL;
	}
	if (le32_to_cpu(h->block_type) != type) {
		snprintf(err, COWSNAP_ERRLEN,
			 "bad block type: expected %u, found %u",
			 type, le32_to_cpu(h->block_type));
		return -EINVAL;
	}
	csum = cowsnap_block_csum(block, seed);
	if (le32_to_cpu(h->csum) != csum) {
		snprintf(err, COWSNAP_ERRLEN,
			 "checksum mismatch: expected %#x, found %#x",
			 csum, le32_to_cpu(h->csum));
		return -EILSEQ;
	}
	if (le64_to_cpu(h->blocknr) != blocknr) {
		snprintf(err, COWSNAP_ERRLEN,
			 "misplaced block: expected location %llu, found %llu",
			 (unsigned long long)blocknr,
			 (unsigned long long)le64_to_cpu(h->blocknr));
		return -EBADMSG;
	}
	return 0;
}

void cowsnap_sb_encode(void *block, const struct cowsnap_sb *sb)
{
	struct cowsnap_disk_sb *d = block;

	memset(block, 0, COWSNAP_BLOCK_SIZE);
	header_encode(block, COWSNAP_BT_SUPER, COWSNAP_SB_BLOCKNR,
		      sb->generation);
	d->version = cpu_to_le32(sb->version);
	d->compat_flags = cpu_to_le32(sb->compat_flags);
	d->compat_ro_flags = cpu_to_le32(sb->compat_ro_flags);
	d->incompat_flags = cpu_to_le32(sb->incompat_flags);
	memcpy(d->uuid, sb->uuid, sizeof(d->uuid));
	d->mode = cpu_to_le32(sb->mode);
	d->state = cpu_to_le32(sb->state);
	d->invalid_reason = cpu_to_le32(sb->invalid_reason);
	d->chunk_sectors = cpu_to_le32(sb->chunk_sectors);
	d->origin_sectors = cpu_to_le64(sb->origin_sectors);
	d->store_sectors = cpu_to_le64(sb->store_sectors);
	d->snapshot_id = cpu_to_le32(sb->snapshot_id);
	d->nr_snapshots = cpu_to_le32(sb->nr_snapshots);
	d->nr_exceptions = cpu_to_le64(sb->nr_exceptions);
	d->metadata_blocks = cpu_to_le64(sb->metadata_blocks);
	d->operation = cpu_to_le32(sb->operation);
	d->epoch = cpu_to_le32(sb->epoch);
	d->merge_cursor = cpu_to_le64(sb->merge_cursor);
	d->merge_total = cpu_to_le64(sb->merge_total);
	memcpy(d->origin_id, sb->origin_id, sizeof(d->origin_id));
	header_seal(block, COWSNAP_SB_CSUM_SEED);
}

static void sb_fields_decode(const struct cowsnap_disk_sb *d,
			     struct cowsnap_sb *sb)
{
	sb->generation = le64_to_cpu(d->hdr.generation);
	sb->version = le32_to_cpu(d->version);
	sb->compat_flags = le32_to_cpu(d->compat_flags);
	sb->compat_ro_flags = le32_to_cpu(d->compat_ro_flags);
	sb->incompat_flags = le32_to_cpu(d->incompat_flags);
	memcpy(sb->uuid, d->uuid, sizeof(sb->uuid));
	sb->mode = le32_to_cpu(d->mode);
	sb->state = le32_to_cpu(d->state);
	sb->invalid_reason = le32_to_cpu(d->invalid_reason);
	sb->chunk_sectors = le32_to_cpu(d->chunk_sectors);
	sb->origin_sectors = le64_to_cpu(d->origin_sectors);
	sb->store_sectors = le64_to_cpu(d->store_sectors);
	sb->snapshot_id = le32_to_cpu(d->snapshot_id);
	sb->nr_snapshots = le32_to_cpu(d->nr_snapshots);
	sb->nr_exceptions = le64_to_cpu(d->nr_exceptions);
	sb->metadata_blocks = le64_to_cpu(d->metadata_blocks);
	sb->operation = le32_to_cpu(d->operation);
	sb->epoch = le32_to_cpu(d->epoch);
	sb->merge_cursor = le64_to_cpu(d->merge_cursor);
	sb->merge_total = le64_to_cpu(d->merge_total);
	memcpy(sb->origin_id, d->origin_id, sizeof(sb->origin_id));
}

static int sb_version_check(const struct cowsnap_sb *sb, char *err)
{
	u32 unknown = sb->incompat_flags & ~COWSNAP_FEATURE_INCOMPAT_SUPP;

	if (sb->version < COWSNAP_FORMAT_VERSION_MIN ||
	    sb->version > COWSNAP_FORMAT_VERSION_MAX) {
		snprintf(err, COWSNAP_ERRLEN,
			 "unsupported format version: expected %u..%u, found %u",
			 COWSNAP_FORMAT_VERSION_MIN, COWSNAP_FORMAT_VERSION_MAX,
			 sb->version);
		return -EOPNOTSUPP;
	}
	if (unknown) {
		snprintf(err, COWSNAP_ERRLEN,
			 "unsupported incompat features: %#x", unknown);
		return -EOPNOTSUPP;
	}
	return 0;
}

static bool chunk_sectors_valid(u32 chunk_sectors)
{
	return chunk_sectors >= 8 && chunk_sectors <= 2048 &&
	       !(chunk_sectors & (chunk_sectors - 1));
}

static int sb_range_check(const struct cowsnap_sb *sb, char *err)
{
	const char *what = NULL;
	u64 found = 0;

	if (sb->mode != COWSNAP_DISK_MODE_COW &&
	    sb->mode != COWSNAP_DISK_MODE_ROW) {
		what = "mode";
		found = sb->mode;
	} else if (sb->state < COWSNAP_DISK_STATE_VALID ||
		   sb->state > COWSNAP_DISK_STATE_ENDED) {
		what = "state";
		found = sb->state;
	} else if (sb->operation > COWSNAP_DISK_OP_FOLD ||
		   (sb->state == COWSNAP_DISK_STATE_MERGING &&
		    sb->operation == COWSNAP_DISK_OP_NONE)) {
		what = "operation";
		found = sb->operation;
	} else if (sb->merge_cursor > sb->merge_total) {
		what = "merge cursor";
		found = sb->merge_cursor;
	} else if (sb->origin_id[COWSNAP_ORIGIN_ID_LEN - 1]) {
		what = "origin id (not NUL-terminated)";
	} else if (sb->invalid_reason > COWSNAP_REASON_METADATA_CORRUPT) {
		what = "invalid reason";
		found = sb->invalid_reason;
	} else if (!chunk_sectors_valid(sb->chunk_sectors)) {
		what = "chunk size";
		found = sb->chunk_sectors;
	} else if (!sb->origin_sectors) {
		what = "origin size";
	} else if (sb->snapshot_id != 1 || sb->nr_snapshots != 1) {
		what = "snapshot id";
		found = sb->snapshot_id;
	}
	if (!what)
		return 0;
	snprintf(err, COWSNAP_ERRLEN, "superblock %s out of range: %llu",
		 what, (unsigned long long)found);
	return -EBADMSG;
}

int cowsnap_sb_decode(const void *block, struct cowsnap_sb *sb, char *err)
{
	int r;

	if (block_is_zero(block)) {
		snprintf(err, COWSNAP_ERRLEN, "blank store: superblock is all zero");
		return -ENODATA;
	}
	r = header_check(block, COWSNAP_BT_SUPER, COWSNAP_SB_CSUM_SEED,
			 COWSNAP_SB_BLOCKNR, err);
	if (r)
		return r;
	sb_fields_decode(block, sb);
	r = sb_version_check(sb, err);
	if (r)
		return r;
	return sb_range_check(sb, err);
}

static const char *name_of(const char * const *names, size_t nr, u32 v)
{
	return v < nr && names[v] ? names[v] : "unknown";
}

const char *cowsnap_disk_mode_name(u32 mode)
{
	static const char * const names[] = {
		[COWSNAP_DISK_MODE_COW] = "cow",
		[COWSNAP_DISK_MODE_ROW] = "row",
	};

	return name_of(names, ARRAY_SIZE(names), mode);
}

const char *cowsnap_disk_state_name(u32 state)
{
	static const char * const names[] = {
		[COWSNAP_DISK_STATE_VALID] = "valid",
		[COWSNAP_DISK_STATE_INVALID] = "invalid",
		[COWSNAP_DISK_STATE_MERGING] = "merging",
		[COWSNAP_DISK_STATE_ENDED] = "ended",
	};

	return name_of(names, ARRAY_SIZE(names), state);
}

const char *cowsnap_op_name(u32 op)
{
	static const char * const names[] = {
		[COWSNAP_DISK_OP_NONE] = "-",
		[COWSNAP_DISK_OP_ROLLBACK] = "rollback",
		[COWSNAP_DISK_OP_FOLD] = "fold",
	};

	return name_of(names, ARRAY_SIZE(names), op);
}

const char *cowsnap_reason_name(u32 reason)
{
	static const char * const names[] = {
		[COWSNAP_REASON_NONE] = "-",
		[COWSNAP_REASON_STORE_FULL] = "store_full",
		[COWSNAP_REASON_STORE_IO_ERROR] = "store_io_error",
		[COWSNAP_REASON_METADATA_CORRUPT] = "metadata_corrupt",
	};

	return name_of(names, ARRAY_SIZE(names), reason);
}

void cowsnap_entry_encode(struct cowsnap_disk_exception *e, u64 origin_chunk,
			  u64 store_chunk, u32 len)
{
	e->origin_chunk = cpu_to_le64(origin_chunk |
				      (u64)(len - 1) << COWSNAP_RUN_SHIFT);
	e->store_chunk = cpu_to_le64(store_chunk);
}

u32 cowsnap_entry_decode(const struct cowsnap_disk_exception *e,
			 u32 incompat_flags, u64 *origin_chunk,
			 u64 *store_chunk)
{
	u64 o = le64_to_cpu(e->origin_chunk);

	*store_chunk = le64_to_cpu(e->store_chunk);
	if (!(incompat_flags & COWSNAP_FEATURE_INCOMPAT_RUNS)) {
		*origin_chunk = o;
		return 1;
	}
	*origin_chunk = o & COWSNAP_CHUNK_MASK;
	return (u32)(o >> COWSNAP_RUN_SHIFT) + 1;
}

bool cowsnap_eb_damaged(int r)
{
	return r == -EILSEQ || r == -EBADMSG;
}

int cowsnap_eb_pick(const struct cowsnap_eb_copy c[2])
{
	if (c[0].r >= 0 && c[1].r >= 0)
		return c[1].generation > c[0].generation;
	if (c[0].r >= 0)
		return 0;
	if (c[1].r >= 0)
		return 1;
	if (cowsnap_eb_damaged(c[0].r) && cowsnap_eb_damaged(c[1].r))
		return -EILSEQ;
	return -ENODATA;
}

int cowsnap_sb_check_geometry(const struct cowsnap_sb *sb, u32 mode,
			      u32 chunk_sectors, u64 origin_sectors,
			      char *err)
{
	if (sb->mode != mode) {
		snprintf(err, COWSNAP_ERRLEN,
			 "store mode mismatch: table says %s, store holds %s",
			 cowsnap_disk_mode_name(mode),
			 cowsnap_disk_mode_name(sb->mode));
		return -EINVAL;
	}
	if (sb->chunk_sectors != chunk_sectors) {
		snprintf(err, COWSNAP_ERRLEN,
			 "store chunk size mismatch: table says %u sectors, store holds %u",
			 chunk_sectors, sb->chunk_sectors);
		return -EINVAL;
	}
	if (sb->origin_sectors != origin_sectors) {
		snprintf(err, COWSNAP_ERRLEN,
			 "store origin size mismatch: origin has %llu sectors, store was made for %llu",
			 (unsigned long long)origin_sectors,
			 (unsigned long long)sb->origin_sectors);
		return -EINVAL;
	}
	return 0;
}

u64 cowsnap_sb_nonce(const struct cowsnap_sb *sb)
{
	__le64 raw;

	memcpy(&raw, sb->uuid, sizeof(raw));
	return le64_to_cpu(raw) + sb->epoch;
}

u32 cowsnap_eb_entries_csum(u32 csum, const struct cowsnap_disk_exception *e,
			    u32 nr)
{
	return crc32c(csum, e, nr * sizeof(*e));
}

/* The size of an exception block's header, and its zeros after @nr entries */
#define EB_HEAD		offsetof(struct cowsnap_disk_eb, entries)
#define EB_ZEROS(nr)	(COWSNAP_BLOCK_SIZE - EB_HEAD - \
			 (nr) * sizeof(struct cowsnap_disk_exception))

/* crc32c's polynomial, bit-reflected as crc32c() computes (bit 31: x^0) */
#define CRC32C_POLY_REFLECTED	0x82f63b78U
#define GF2_ONE			0x80000000U

/*
 * @a * @b modulo crc32c's polynomial: so crc32c's shift over n zero bytes
 * is a product by x^(8 n), which crc32c's own shift (__crc32c_le_shift())
 * finds anew each time by repeated squaring, and does not export.
 */
static u32 gf2_multiply(u32 a, u32 b)
{
	u32 product = a & 1 ? b : 0;
	int i;

	for (i = 0; i < 31; i++) {
		product = (product >> 1) ^
			  (product & 1 ? CRC32C_POLY_REFLECTED : 0);
		a >>= 1;
		product ^= a & 1 ? b : 0;
	}
	return product;
}

void cowsnap_eb_powers_init(struct cowsnap_eb_powers *pw)
{
	u32 entry = __crc32c_le_shift(GF2_ONE,
				      sizeof(struct cowsnap_disk_exception));
	u32 nr = COWSNAP_EB_MAX_ENTRIES;

	pw->after_head = __crc32c_le_shift(GF2_ONE, COWSNAP_BLOCK_SIZE - EB_HEAD);
	pw->zeros[nr] = __crc32c_le_shift(GF2_ONE, EB_ZEROS(nr));
	while (nr--)
		pw->zeros[nr] = gf2_multiply(pw->zeros[nr + 1], entry);
}

/*
 * The block's checksum from the running checksum of its entries.  The
 * block is H E Z: the header after the checksum field, the entries, and
 * zeros.  A raw CRC is linear in its initial value, so
 *   crc(seed, H E Z) = shift(crc(seed, H), |E Z|) ^ shift(crc(0, E), |Z|)
 * where shift() appends zero bytes: a product by the power of x @pw
 * holds, or crc32c's own shift (in logarithmic time) without @pw.  The
 * header is read, the entries and the zeros are not.
 */
static u32 eb_csum(const void *block, u32 nr, u32 entries_csum,
		   const struct cowsnap_eb_powers *pw)
{
	u32 crc = crc32c(COWSNAP_EB_CSUM_SEED, (const u8 *)block + CSUM_OFFSET,
			 EB_HEAD - CSUM_OFFSET);

	if (pw)
		return gf2_multiply(crc, pw->after_head) ^
		       gf2_multiply(entries_csum, pw->zeros[nr]);
	return __crc32c_le_shift(crc, COWSNAP_BLOCK_SIZE - EB_HEAD) ^
	       __crc32c_le_shift(entries_csum, EB_ZEROS(nr));
}

void cowsnap_eb_seal(void *block, u64 blocknr, u64 generation, u64 nonce,
		     u32 snapshot_id, u32 nr, u32 entries_csum,
		     const struct cowsnap_eb_powers *pw)
{
	struct cowsnap_disk_eb *d = block;

	header_encode(block, COWSNAP_BT_EXCEPTIONS, blocknr, generation);
	d->snapshot_id = cpu_to_le32(snapshot_id);
	d->nr_entries = cpu_to_le32(nr);
	d->store_nonce = cpu_to_le64(nonce);
	d->hdr.csum = cpu_to_le32(eb_csum(block, nr, entries_csum, pw));
}

void cowsnap_eb_encode(void *block, u64 blocknr, u64 generation, u64 nonce,
		       u32 snapshot_id, const struct cowsnap_disk_exception *e,
		       u32 nr)
{
	struct cowsnap_disk_eb *d = block;

	memset(block, 0, COWSNAP_BLOCK_SIZE);
	memcpy(d->entries, e, nr * sizeof(*e));
	cowsnap_eb_seal(block, blocknr, generation, nonce, snapshot_id, nr,
			cowsnap_eb_entries_csum(0, e, nr), NULL);
}

int cowsnap_eb_decode(const void *block, u64 blocknr, u64 nonce, char *err)
{
	const struct cowsnap_disk_eb *d = block;
	u32 nr;
	int r;

	if (block_is_zero(block)) {
		snprintf(err, COWSNAP_ERRLEN,
			 "exception block %llu never written",
			 (unsigned long long)blocknr);
		return -ENODATA;
	}
	r = header_check(block, COWSNAP_BT_EXCEPTIONS, COWSNAP_EB_CSUM_SEED,
			 blocknr, err);
	if (r)
		return r;
	if (le64_to_cpu(d->store_nonce) != nonce) {
		snprintf(err, COWSNAP_ERRLEN,
			 "exception block %llu belongs to an earlier store",
			 (unsigned long long)blocknr);
		return -ESTALE;
	}
	nr = le32_to_cpu(d->nr_entries);
	if (nr > COWSNAP_EB_MAX_ENTRIES) {
		snprintf(err, COWSNAP_ERRLEN,
			 "exception block %llu: %u entries, at most %zu fit",
			 (unsigned long long)blocknr, nr,
			 (size_t)COWSNAP_EB_MAX_ENTRIES);
		return -EBADMSG;
	}
	return nr;
}

void cowsnap_layout_init(struct cowsnap_layout *l, u32 chunk_sectors)
{
	u32 pair_sectors = 2 * COWSNAP_BLOCK_SECTORS;

	l->chunk_sectors = chunk_sectors;
	if (chunk_sectors >= pair_sectors) {
		l->meta_chunks = 1;
		l->pairs = chunk_sectors / pair_sectors;
	} else {
		l->meta_chunks = pair_sectors / chunk_sectors;
		l->pairs = 1;
	}
	l->data_chunks = (u64)l->pairs * COWSNAP_EB_MAX_ENTRIES;
}

static u64 area_chunks(const struct cowsnap_layout *l)
{
	return l->meta_chunks + l->data_chunks;
}

u64 cowsnap_area_start(const struct cowsnap_layout *l, u64 area)
{
	return 1 + area * area_chunks(l);
}

u64 cowsnap_eb_blocknr(const struct cowsnap_layout *l, u64 eb, u32 copy)
{
	u64 start = cowsnap_area_start(l, eb / l->pairs);
	u64 block = start * (l->chunk_sectors / COWSNAP_BLOCK_SECTORS);

	return block + 2 * (eb % l->pairs) + copy;
}

u64 cowsnap_data_chunk(const struct cowsnap_layout *l, u64 index)
{
	return cowsnap_area_start(l, index / l->data_chunks) + l->meta_chunks +
	       index % l->data_chunks;
}

u64 cowsnap_data_index(const struct cowsnap_layout *l, u64 chunk)
{
	u64 area, off;

	if (!chunk)
		return (u64)-1;
	area = (chunk - 1) / area_chunks(l);
	off = (chunk - 1) % area_chunks(l);
	if (off < l->meta_chunks)
		return (u64)-1;
	return area * l->data_chunks + off - l->meta_chunks;
}

bool cowsnap_data_run(const struct cowsnap_layout *l, u64 chunk, u32 len)
{
	u64 idx = cowsnap_data_index(l, chunk);

	return idx != (u64)-1 && len <= l->data_chunks - idx % l->data_chunks;
}

int cowsnap_entry_check(const struct cowsnap_layout *l, u64 origin_chunks,
			u64 origin_chunk, u64 store_chunk, u32 len, char *err)
{
	if (origin_chunk >= origin_chunks || len > origin_chunks - origin_chunk)
		snprintf(err, COWSNAP_ERRLEN,
			 "origin chunk %llu%s beyond the origin (%llu chunks)",
			 (unsigned long long)(origin_chunk + len - 1),
			 len > 1 ? " (end of a run)" : "",
			 (unsigned long long)origin_chunks);
	else if (cowsnap_data_index(l, store_chunk) == (u64)-1)
		snprintf(err, COWSNAP_ERRLEN,
			 "store chunk %llu is not a data chunk",
			 (unsigned long long)store_chunk);
	else if (!cowsnap_data_run(l, store_chunk, len))
		snprintf(err, COWSNAP_ERRLEN,
			 "run of %u store chunks from %llu crosses metadata",
			 len, (unsigned long long)store_chunk);
	else
		return 0;
	return -EBADMSG;
}

u64 cowsnap_data_capacity(const struct cowsnap_layout *l, u64 store_chunks)
{
	u64 areas, rest;

	if (store_chunks <= 1)
		return 0;
	areas = (store_chunks - 1) / area_chunks(l);
	rest = (store_chunks - 1) % area_chunks(l);
	return areas * l->data_chunks +
	       (rest > l->meta_chunks ? rest - l->meta_chunks : 0);
}

u64 cowsnap_chunks_used(const struct cowsnap_layout *l, u64 data)
{
	u64 areas = (data + l->data_chunks - 1) / l->data_chunks;

	return 1 + areas * l->meta_chunks + data;
}
