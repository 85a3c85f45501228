// SPDX-License-Identifier: GPL-2.0-only
/*
 * The offline reader of a cowsnap store (see store-scan.h).
 *
 * The walk follows recover() in dm-cowsnap/cowsnap-store.c step by step:
 * exception block 0, 1, ... while both copies of the block fit on the
 * store; in each pair the valid copy with the higher generation wins; a
 * pair with no valid copy (never written, torn on its first write, or
 * left by an earlier store or epoch) is the empty tail; a pair whose
 * copies are both damaged is corruption; a block with fewer than
 * COWSNAP_EB_MAX_ENTRIES entries is the tail, and the block after it must
 * then hold no valid copy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-scan.h"
#include "util.h"

void cs_uuid_text(const uint8_t uuid[16], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int i;
	char *p = buf;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid[i] >> 4];
		*p++ = hex[uuid[i] & 15];
	}
	*p = '\0';
}

__attribute__((format(printf, 3, 4)))
static int problem(struct cs_store_scan *s, int e, const char *fmt, ...)
{
	va_list ap;

	s->problem = e;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return e;
}

/* Whole blocks; what lies beyond rd->size reads as zero, whatever the reader does. */
static int read_blocks(const struct cs_store_reader *rd, struct cs_store_scan *s,
		       uint64_t blocknr, void *buf, unsigned int blocks)
{
	uint64_t off = blocknr * COWSNAP_BLOCK_SIZE;
	size_t len = (size_t)blocks * COWSNAP_BLOCK_SIZE;
	size_t in = off >= rd->size ? 0 :
		    rd->size - off < len ? rd->size - off : len;
	int r = in ? rd->read(rd->ctx, off, buf, in) : 0;

	memset((char *)buf + in, 0, len - in);
	if (r)
		return problem(s, -EIO, "cannot read metadata block %" PRIu64
			       ": %s", blocknr, strerror(-r));
	return 0;
}

static int scan_sb(const struct cs_store_reader *rd, struct cs_store_scan *s)
{
	unsigned char block[COWSNAP_BLOCK_SIZE];
	char why[COWSNAP_ERRLEN] = "";
	int r;

	r = read_blocks(rd, s, COWSNAP_SB_BLOCKNR, block, 1);
	if (r)
		return r;
	s->sb_result = cowsnap_sb_decode(block, &s->sb, why);
	if (s->sb_result == -ENODATA)
		return problem(s, -EUCLEAN,
			       "blank store: no cowsnap superblock");
	if (s->sb_result == -EINVAL)
		return problem(s, -EUCLEAN, "not a cowsnap store: %s", why);
	if (s->sb_result)
		return problem(s, -EUCLEAN, "superblock: %s", why);
	s->store_chunks = rd->size / COWSNAP_BLOCK_SIZE /
			  (s->sb.chunk_sectors / COWSNAP_BLOCK_SECTORS);
	s->origin_chunks = (s->sb.origin_sectors + s->sb.chunk_sectors - 1) /
			   s->sb.chunk_sectors;
	s->nonce = cowsnap_sb_nonce(&s->sb);
	return 0;
}

static bool eb_on_store(const struct cowsnap_layout *l, uint64_t size,
			uint64_t eb)
{
	return (cowsnap_eb_blocknr(l, eb, 1) + 1) * COWSNAP_BLOCK_SIZE <= size;
}

/* Read and decode both copies of exception block @eb into @buf. */
static int read_pair(const struct cs_store_reader *rd, struct cs_store_scan *s,
		     const struct cowsnap_layout *l, uint64_t eb,
		     unsigned char *buf, struct cowsnap_eb_copy c[2])
{
	uint64_t blocknr = cowsnap_eb_blocknr(l, eb, 0);
	unsigned int i;
	int r;

	r = read_blocks(rd, s, blocknr, buf, 2);
	if (r)
		return r;
	for (i = 0; i < 2; i++) {
		const struct cowsnap_disk_header *h =
			(const void *)(buf + i * COWSNAP_BLOCK_SIZE);

		c[i].r = cowsnap_eb_decode(buf + i * COWSNAP_BLOCK_SIZE,
					   blocknr + i, s->nonce, c[i].err);
		c[i].generation = le64toh(h->generation);
		if (c[i].r == -ESTALE)
			s->stale_copies++;
	}
	return 0;
}

static int add_exception(struct cs_store_scan *s, uint64_t o, uint64_t c)
{
	struct cs_exception *ex;

	if (s->nr_ex == s->cap_ex) {
		size_t cap = s->cap_ex ? 2 * s->cap_ex : 256;

		ex = realloc(s->ex, cap * sizeof(*ex));
		if (!ex)
			return problem(s, -ENOMEM, "out of memory");
		s->ex = ex;
		s->cap_ex = cap;
	}
	s->ex[s->nr_ex].origin_chunk = o;
	s->ex[s->nr_ex].store_chunk = c;
	s->nr_ex++;
	return 0;
}

/*
 * Entry @i of block @eb: the run of @len chunks from @o on the origin and
 * @c on the store must lie inside both (cowsnap_entry_check(), then the
 * store device's size), on data chunks in a row.
 */
static int check_entry(struct cs_store_scan *s, const struct cowsnap_layout *l,
		       uint64_t eb, uint32_t i, uint64_t o, uint64_t c,
		       uint32_t len)
{
	uint64_t last = c + len - 1;
	char why[COWSNAP_ERRLEN];

	if (cowsnap_entry_check(l, s->origin_chunks, o, c, len, why))
		return problem(s, -EUCLEAN,
			       "exception block %" PRIu64 " entry %u: %s",
			       eb, i, why);
	if (last >= s->store_chunks)
		return problem(s, -EUCLEAN,
			       "exception block %" PRIu64 " entry %u: store chunk %" PRIu64 " beyond the store (%" PRIu64 " chunks)",
			       eb, i, last, s->store_chunks);
	return 0;
}

/* The entries of the chosen copy of block @eb: bounds, then kept. */
static int scan_entries(struct cs_store_scan *s, const struct cowsnap_layout *l,
			uint64_t eb, const void *block, uint32_t nr)
{
	const struct cowsnap_disk_eb *d = block;
	uint64_t o, c, idx;
	uint32_t i, k, len;
	int r;

	for (i = 0; i < nr; i++) {
		len = cowsnap_entry_decode(&d->entries[i], s->sb.incompat_flags,
					   &o, &c);
		r = check_entry(s, l, eb, i, o, c, len);
		for (k = 0; !r && k < len; k++)
			r = add_exception(s, o + k, c + k);
		if (r)
			return r;
		s->entries++;
		idx = cowsnap_data_index(l, c) + len;
		if (idx > s->data_used)
			s->data_used = idx;
	}
	return 0;
}

/*
 * One exception block.  Sets *@tail when it is the last one: empty, or
 * not full.
 */
static int scan_eb(const struct cs_store_reader *rd, struct cs_store_scan *s,
		   const struct cowsnap_layout *l, uint64_t eb, bool *tail)
{
	unsigned char buf[2 * COWSNAP_BLOCK_SIZE];
	struct cowsnap_eb_copy c[2];
	int pick, r;

	r = read_pair(rd, s, l, eb, buf, c);
	if (r)
		return r;
	pick = cowsnap_eb_pick(c);
	if (pick == -EILSEQ)
		return problem(s, -EUCLEAN,
			       "exception block %" PRIu64 ": both copies damaged: %s; %s",
			       eb, c[0].err, c[1].err);
	*tail = true;
	s->tail_eb = eb;
	if (pick < 0)
		return 0;
	if (cowsnap_eb_damaged(c[!pick].r))
		s->newer_copy_damaged++;
	s->blocks++;
	*tail = c[pick].r < (int)COWSNAP_EB_MAX_ENTRIES;
	return scan_entries(s, l, eb, buf + pick * COWSNAP_BLOCK_SIZE,
			    c[pick].r);
}

/* After a short tail, the next block must hold no valid copy. */
static int check_after_tail(const struct cs_store_reader *rd,
			    struct cs_store_scan *s,
			    const struct cowsnap_layout *l)
{
	unsigned char buf[2 * COWSNAP_BLOCK_SIZE];
	uint64_t eb = s->tail_eb + 1;
	struct cowsnap_eb_copy c[2];
	int r;

	if (!eb_on_store(l, rd->size, eb))
		return 0;
	r = read_pair(rd, s, l, eb, buf, c);
	if (r)
		return r;
	if (c[0].r >= 0 || c[1].r >= 0)
		return problem(s, -EUCLEAN,
			       "exception block %" PRIu64 " is not full but block %" PRIu64 " is in use",
			       s->tail_eb, eb);
	return 0;
}

static int cmp_store(const void *a, const void *b)
{
	const struct cs_exception *x = a, *y = b;

	return (x->store_chunk > y->store_chunk) -
	       (x->store_chunk < y->store_chunk);
}

static int cmp_origin(const void *a, const void *b)
{
	const struct cs_exception *x = a, *y = b;

	return (x->origin_chunk > y->origin_chunk) -
	       (x->origin_chunk < y->origin_chunk);
}

static uint64_t key(const struct cs_exception *e, bool by_store)
{
	return by_store ? e->store_chunk : e->origin_chunk;
}

/* Sort @v by origin or store chunk and name the first key seen twice. */
static int find_twice(struct cs_store_scan *s, struct cs_exception *v,
		      bool by_store)
{
	const struct cs_exception *a, *b;
	size_t i;

	qsort(v, s->nr_ex, sizeof(*v), by_store ? cmp_store : cmp_origin);
	for (i = 1; i < s->nr_ex; i++) {
		a = &v[i - 1];
		b = &v[i];
		if (key(a, by_store) != key(b, by_store))
			continue;
		return problem(s, -EUCLEAN,
			       "%s chunk %" PRIu64 " %s twice (%s chunks %" PRIu64 " and %" PRIu64 ")",
			       by_store ? "store" : "origin", key(a, by_store),
			       by_store ? "used" : "mapped",
			       by_store ? "origin" : "store",
			       key(a, !by_store), key(b, !by_store));
	}
	return 0;
}

/* No origin chunk mapped twice, no store chunk used twice. */
static int check_unique(struct cs_store_scan *s)
{
	struct cs_exception *sorted;
	size_t bytes = s->nr_ex * sizeof(*sorted);
	int r;

	if (s->nr_ex < 2)
		return 0;
	sorted = malloc(bytes);
	if (!sorted)
		return problem(s, -ENOMEM, "out of memory");
	memcpy(sorted, s->ex, bytes);
	r = find_twice(s, sorted, false);
	if (!r)
		r = find_twice(s, sorted, true);
	free(sorted);
	return r;
}

static int scan_blocks(const struct cs_store_reader *rd,
		       struct cs_store_scan *s)
{
	struct cowsnap_layout l;
	bool tail = false;
	uint64_t eb;
	int r;

	cowsnap_layout_init(&l, s->sb.chunk_sectors);
	s->data_capacity = cowsnap_data_capacity(&l, s->store_chunks);
	for (eb = 0; !tail && eb_on_store(&l, rd->size, eb); eb++) {
		r = scan_eb(rd, s, &l, eb, &tail);
		if (r)
			return r;
	}
	if (!tail) {
		s->tail_eb = eb;
		return 0;
	}
	return check_after_tail(rd, s, &l);
}

int cs_store_scan(const struct cs_store_reader *rd, struct cs_store_scan *s)
{
	memset(s, 0, sizeof(*s));
	if (scan_sb(rd, s) || scan_blocks(rd, s))
		return s->problem;
	return check_unique(s);
}

void cs_store_scan_free(struct cs_store_scan *s)
{
	free(s->ex);
	s->ex = NULL;
	s->nr_ex = 0;
	s->cap_ex = 0;
}
