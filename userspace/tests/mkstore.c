// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test fixture: write a small cowsnap store image, good or damaged in a
 * named way, with the module's own encoder (cowsnap-format.c).
 *
 *   mkstore.bin FILE KIND           a sparse image file
 *   mkstore.bin --fuzz FILE KIND    the same store as a fuzz input
 *   mkstore.bin --list              the kinds, one a line
 *
 * Every store has 8-sector chunks, an origin of 8192 sectors (1024
 * chunks) and room for two areas (511 chunks).  The fuzz input format is
 * the one of fuzz/fuzz-store.c: a little-endian u64 store size in bytes,
 * then records of a little-endian u32 block number and 4096 bytes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cowsnap-format.h"
#include "util.h"

#define CHUNK		8
#define ORIGIN_SECTORS	8192
#define STORE_CHUNKS	511
#define MAX_BLOCKS	8

struct image {
	struct cowsnap_sb sb;
	struct cowsnap_layout l;
	uint64_t size;
	unsigned int nr;
	uint32_t blocknr[MAX_BLOCKS];
	unsigned char block[MAX_BLOCKS][COWSNAP_BLOCK_SIZE];
};

static unsigned char *new_block(struct image *im, uint64_t blocknr)
{
	im->blocknr[im->nr] = blocknr;
	return im->block[im->nr++];
}

static void put_sb(struct image *im)
{
	cowsnap_sb_encode(new_block(im, COWSNAP_SB_BLOCKNR), &im->sb);
}

/* Copy @copy of block @eb: @nr entries, origin chunk k -> data chunk k. */
static unsigned char *put_eb(struct image *im, uint64_t eb, uint32_t copy,
			     uint64_t generation, uint32_t nr, uint32_t first)
{
	struct cowsnap_disk_exception e[COWSNAP_EB_MAX_ENTRIES];
	uint64_t blocknr = cowsnap_eb_blocknr(&im->l, eb, copy);
	unsigned char *b = new_block(im, blocknr);
	uint32_t i;

	for (i = 0; i < nr; i++) {
		e[i].origin_chunk = htole64(first + i);
		e[i].store_chunk = htole64(cowsnap_data_chunk(&im->l, first + i));
	}
	cowsnap_eb_encode(b, blocknr, generation, cowsnap_sb_nonce(&im->sb), 1,
			  e, nr);
	return b;
}

/* Entry @i of exception block @b, changed and resealed. */
static void set_entry(unsigned char *b, uint32_t i, uint64_t o, uint64_t c)
{
	struct cowsnap_disk_eb *d = (void *)b;

	d->entries[i].origin_chunk = htole64(o);
	d->entries[i].store_chunk = htole64(c);
	d->hdr.csum = htole32(cowsnap_block_csum(b, COWSNAP_EB_CSUM_SEED));
}

/*
 * A store with INCOMPAT_RUNS, and block 0 holding the runs @r (origin
 * chunk, data index, length; @nr of them) in copy 1, generation 2.
 */
static void put_runs(struct image *im, const uint64_t (*r)[3], uint32_t nr)
{
	struct cowsnap_disk_exception e[8];
	uint64_t blocknr = cowsnap_eb_blocknr(&im->l, 0, 1);
	uint32_t i;

	im->sb.incompat_flags = COWSNAP_FEATURE_INCOMPAT_RUNS;
	im->nr = 0;
	put_sb(im);
	for (i = 0; i < nr; i++)
		cowsnap_entry_encode(&e[i], r[i][0],
				     cowsnap_data_chunk(&im->l, r[i][1]),
				     r[i][2]);
	cowsnap_eb_encode(new_block(im, blocknr), blocknr, 2,
			  cowsnap_sb_nonce(&im->sb), 1, e, nr);
}

/* Runs: 100 chunks, a single one, 10 chunks; then four damaged ways. */
static const uint64_t runs[][3] = { {0, 0, 100}, {200, 100, 1}, {300, 101, 10} };
static const uint64_t run_oob[][3] = { {0, 0, 2}, {1000, 2, 30} };
static const uint64_t run_meta[][3] = { {0, 250, 10} };
static const uint64_t run_twice[][3] = { {0, 0, 10}, {5, 10, 1} };

static void damage(unsigned char *b)
{
	b[200] ^= 0x5a;
}

static const char *const kinds[] = {
	"blank", "empty", "one", "newer", "torn", "two", "stale", "ended",
	"bad-sb", "foreign", "both-damaged", "origin-oob", "meta-chunk",
	"store-oob", "store-twice", "origin-twice", "after-tail",
	"empty-row", "runs", "run-oob", "run-meta", "run-twice", "top-byte",
};

static int build(struct image *im, const char *kind)
{
	if (!strcmp(kind, "blank"))
		return 0;
	put_sb(im);
	if (!strcmp(kind, "empty"))
		return 0;
	if (!strcmp(kind, "one")) {
		put_eb(im, 0, 1, 2, 3, 0);
	} else if (!strcmp(kind, "newer")) {
		put_eb(im, 0, 1, 2, 2, 0);
		put_eb(im, 0, 0, 3, 3, 0);
	} else if (!strcmp(kind, "torn")) {
		put_eb(im, 0, 1, 2, 3, 0);
		damage(put_eb(im, 0, 0, 3, 4, 0));
	} else if (!strcmp(kind, "two")) {
		put_eb(im, 0, 1, 2, COWSNAP_EB_MAX_ENTRIES, 0);
		put_eb(im, 1, 1, 3, 4, COWSNAP_EB_MAX_ENTRIES);
	} else if (!strcmp(kind, "stale")) {
		im->sb.epoch++;		/* the block below has the old nonce */
		im->nr = 0;
		put_sb(im);
		im->sb.epoch--;
		put_eb(im, 0, 1, 2, 3, 0);
	} else if (!strcmp(kind, "ended")) {
		im->sb.state = COWSNAP_DISK_STATE_ENDED;
		im->sb.operation = COWSNAP_DISK_OP_FOLD;
		im->nr = 0;
		put_sb(im);
	} else if (!strcmp(kind, "bad-sb")) {
		damage(im->block[0]);
	} else if (!strcmp(kind, "foreign")) {
		memcpy(im->block[0] + 8, "NOTCOWSN", 8);
	} else if (!strcmp(kind, "both-damaged")) {
		damage(put_eb(im, 0, 1, 2, 3, 0));
		damage(put_eb(im, 0, 0, 3, 3, 0));
	} else if (!strcmp(kind, "origin-oob")) {
		set_entry(put_eb(im, 0, 1, 2, 3, 0), 2, 5000, 5);
	} else if (!strcmp(kind, "meta-chunk")) {
		set_entry(put_eb(im, 0, 1, 2, 3, 0), 1, 1, 1);
	} else if (!strcmp(kind, "store-oob")) {
		set_entry(put_eb(im, 0, 1, 2, 3, 0), 0, 0, 600);
	} else if (!strcmp(kind, "store-twice")) {
		set_entry(put_eb(im, 0, 1, 2, 3, 0), 2, 2, 3);
	} else if (!strcmp(kind, "origin-twice")) {
		set_entry(put_eb(im, 0, 1, 2, 3, 0), 2, 0, 5);
	} else if (!strcmp(kind, "after-tail")) {
		put_eb(im, 0, 1, 2, 3, 0);
		put_eb(im, 1, 1, 3, 3, COWSNAP_EB_MAX_ENTRIES);
	} else if (!strcmp(kind, "empty-row")) {
		im->sb.mode = COWSNAP_DISK_MODE_ROW;
		im->nr = 0;
		put_sb(im);
	} else if (!strcmp(kind, "runs")) {
		put_runs(im, runs, ARRAY_SIZE(runs));
	} else if (!strcmp(kind, "run-oob")) {
		put_runs(im, run_oob, ARRAY_SIZE(run_oob));
	} else if (!strcmp(kind, "run-meta")) {
		put_runs(im, run_meta, ARRAY_SIZE(run_meta));
	} else if (!strcmp(kind, "run-twice")) {
		put_runs(im, run_twice, ARRAY_SIZE(run_twice));
	} else if (!strcmp(kind, "top-byte")) {
		/* no INCOMPAT_RUNS: a run's length reads as a huge chunk */
		set_entry(put_eb(im, 0, 1, 2, 3, 0), 2,
			  2 | 1ULL << COWSNAP_RUN_SHIFT, 5);
	} else {
		return -1;
	}
	return 0;
}

static int write_image(const struct image *im, const char *path)
{
	unsigned int i;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, im->size))
		return -1;
	for (i = 0; i < im->nr; i++)
		if (pwrite(fd, im->block[i], COWSNAP_BLOCK_SIZE,
			   (off_t)im->blocknr[i] * COWSNAP_BLOCK_SIZE) !=
		    COWSNAP_BLOCK_SIZE)
			return -1;
	return close(fd);
}

static int write_fuzz(const struct image *im, const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t size = htole64(im->size);
	unsigned int i;

	if (!f || fwrite(&size, sizeof(size), 1, f) != 1)
		return -1;
	for (i = 0; i < im->nr; i++) {
		uint32_t nr = htole32(im->blocknr[i]);

		if (fwrite(&nr, sizeof(nr), 1, f) != 1 ||
		    fwrite(im->block[i], COWSNAP_BLOCK_SIZE, 1, f) != 1)
			return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	static struct image im;
	bool fuzz = argc == 4 && !strcmp(argv[1], "--fuzz");
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < ARRAY_SIZE(kinds); i++)
			printf("%s\n", kinds[i]);
		return 0;
	}
	if (argc != 3 && !fuzz) {
		fprintf(stderr, "usage: %s [--fuzz] FILE KIND | --list\n",
			argv[0]);
		return 1;
	}
	im.sb = (struct cowsnap_sb){
		.generation = 1, .version = COWSNAP_FORMAT_VERSION,
		.mode = COWSNAP_DISK_MODE_COW, .state = COWSNAP_DISK_STATE_VALID,
		.chunk_sectors = CHUNK, .origin_sectors = ORIGIN_SECTORS,
		.store_sectors = STORE_CHUNKS * CHUNK, .snapshot_id = 1,
		.nr_snapshots = 1, .epoch = 7, .origin_id = "/dev/mapper/vol-real",
	};
	memcpy(im.sb.uuid, "\x12\x34\x56\x78\x9a\xbc\xde\xf0mkstore!", 16);
	cowsnap_layout_init(&im.l, CHUNK);
	im.size = (uint64_t)STORE_CHUNKS * CHUNK << 9;
	if (build(&im, argv[argc - 1])) {
		fprintf(stderr, "%s: unknown kind '%s'\n", argv[0],
			argv[argc - 1]);
		return 1;
	}
	if ((fuzz ? write_fuzz : write_image)(&im, argv[argc - 2])) {
		perror(argv[argc - 2]);
		return 1;
	}
	return 0;
}
