/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening the origin and the store with libblkid: type, identity, size
 * and, for the store, what it already holds.  Block devices and regular
 * files are both accepted, so the host tests run on sparse files.
 *
 * Errors are -errno with a one-line message in @err (CS_ERRLEN bytes).
 * The errno of a failed system call is passed on, except for the values
 * main.c reserves for other exit codes (EINVAL, EEXIST, EPROTO, ESRCH,
 * EMEDIUMTYPE, EUCLEAN, EPERM), which become -EIO: the message still
 * names the cause.
 */
#ifndef CS_DEV_H
#define CS_DEV_H

#include <stdint.h>
#include <sys/stat.h>
#include <blkid/blkid.h>

#include "table.h"

struct cs_dev {
	const char *path;
	const char *role;	/* "origin" or "store", for messages */
	blkid_probe pr;		/* owns the open file */
	struct stat st;		/* of the open file */
	uint64_t sectors;	/* size in 512-byte sectors, rounded down */
};

/*
 * cs_dev_open() - open @path read-only and learn its size.  Refuses
 * anything that is neither a block device nor a regular file (-ENOTBLK).
 * On success cs_dev_close() must be called.
 */
int cs_dev_open(struct cs_dev *d, const char *path, const char *role,
		char *err);
void cs_dev_close(struct cs_dev *d);

/*
 * cs_dev_probe_store() - what the store holds: a cowsnap superblock
 * (valid or not) in its first block, else any superblock or partition
 * table libblkid knows.  Fills @sp; returns 0 or -EIO.
 */
int cs_dev_probe_store(struct cs_dev *d, struct cs_store_probe *sp,
		       char *err);

/*
 * cs_dev_read() - @len bytes at byte @offset; what lies beyond the end
 * reads as zero.  Returns 0 or -errno (never one of main.c's reserved
 * values), with no message: the caller names the block.
 */
int cs_dev_read(struct cs_dev *d, uint64_t offset, void *buf, size_t len);

#endif /* CS_DEV_H */
