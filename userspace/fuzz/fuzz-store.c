// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the offline store reader (store-scan.c) and the
 * printers of "cowsnap check" and "cowsnap dump" on any store.
 *
 * The input is a sparse store image, so that a few kilobytes can place
 * exception blocks megabytes apart:
 *
 *   le64 store size in bytes
 *   { le32 block number; 4096 bytes of that block } ...
 *
 * A block given twice takes its last record; a short last record is
 * padded with zeros; every other block reads as zero.  The seeds in
 * fuzz/corpus are written by fuzz/make-corpus.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "store-scan.h"

#define HEADER		8
#define RECORD		(4 + COWSNAP_BLOCK_SIZE)
#define MAX_SIZE	(1ULL << 40)

struct input {
	const uint8_t *data;
	size_t len;
};

static uint64_t get_le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

/* Copy block @blocknr into @out: the last record that holds it, or zero. */
static void get_block(const struct input *in, uint64_t blocknr, uint8_t *out)
{
	size_t off, n;

	memset(out, 0, COWSNAP_BLOCK_SIZE);
	for (off = HEADER; off + 4 <= in->len; off += RECORD) {
		if (get_le(in->data + off, 4) != blocknr)
			continue;
		n = in->len - off - 4;
		memset(out, 0, COWSNAP_BLOCK_SIZE);
		memcpy(out, in->data + off + 4,
		       n < COWSNAP_BLOCK_SIZE ? n : COWSNAP_BLOCK_SIZE);
	}
}

static int read_input(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct input *in = ctx;
	uint8_t block[COWSNAP_BLOCK_SIZE];
	uint8_t *p = buf;
	size_t n;

	/* the scan asks for whole blocks, cut short at the store's end only */
	if (offset % COWSNAP_BLOCK_SIZE || offset + len > get_le(in->data, 8) % MAX_SIZE)
		__builtin_trap();
	for (; len; len -= n, p += n, offset += n) {
		n = len < COWSNAP_BLOCK_SIZE ? len : COWSNAP_BLOCK_SIZE;
		get_block(ctx, offset / COWSNAP_BLOCK_SIZE, block);
		memcpy(p, block, n);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct input in = { data, len };
	struct cs_store_reader rd = { read_input, &in, 0 };
	struct cs_store_scan s;
	FILE *null;
	size_t i;

	if (len < HEADER)
		return 0;
	rd.size = get_le(data, 8) % MAX_SIZE;
	cs_store_scan(&rd, &s);
	/* what the scan reports must hold together */
	if (!s.problem && s.sb_result)
		__builtin_trap();
	for (i = 0; !s.problem && i < s.nr_ex; i++)
		if (s.ex[i].origin_chunk >= s.origin_chunks ||
		    s.ex[i].store_chunk >= s.store_chunks)
			__builtin_trap();
	null = fopen("/dev/null", "w");
	if (null) {
		cs_print_store_text(null, "fuzz", &s, true);
		cs_print_store_json(null, "fuzz", &s, true);
		fclose(null);
	}
	cs_store_scan_free(&s);
	return 0;
}
