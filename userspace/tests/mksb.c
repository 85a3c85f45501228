// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test fixture: write a cowsnap superblock into the first block of a
 * file, as the module would format a store.
 *
 *   mksb.bin FILE cow|row CHUNK_SECTORS ORIGIN_SECTORS [corrupt]
 *
 * "corrupt" flips a byte after sealing, so the checksum fails.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cowsnap-format.h"
#include "util.h"

int main(int argc, char **argv)
{
	static unsigned char block[COWSNAP_BLOCK_SIZE];
	struct cowsnap_sb sb = {
		.generation = 1,
		.version = COWSNAP_FORMAT_VERSION,
		.state = COWSNAP_DISK_STATE_VALID,
		.snapshot_id = 1,
		.nr_snapshots = 1,
		.metadata_blocks = 1,
	};
	uint64_t v;
	int fd;

	if (argc < 5 || argc > 6 ||
	    (argc == 6 && strcmp(argv[5], "corrupt"))) {
		fprintf(stderr, "usage: %s FILE cow|row CHUNK ORIGIN [corrupt]\n",
			argv[0]);
		return 1;
	}
	sb.mode = strcmp(argv[2], "row") ? COWSNAP_DISK_MODE_COW :
					    COWSNAP_DISK_MODE_ROW;
	if (cs_parse_u64(argv[3], &v))
		return 1;
	sb.chunk_sectors = v;
	if (cs_parse_u64(argv[4], &sb.origin_sectors))
		return 1;
	memcpy(sb.uuid, "cowsnap-test-sb!", sizeof(sb.uuid));
	cowsnap_sb_encode(block, &sb);
	if (argc == 6)
		block[100] ^= 0xff;
	fd = open(argv[1], O_WRONLY);
	if (fd < 0 || pwrite(fd, block, sizeof(block), 0) != sizeof(block) ||
	    close(fd)) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
