// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening the origin and the store with libblkid (see dev.h).
 */
#include <errno.h>
#include <string.h>

#include "dev.h"
#include "fdio.h"
#include "util.h"

/* -errno for a failed call, kept clear of the exit codes' errnos. */
static int io_errno(int e)
{
	switch (e) {
	case 0:
	case EINVAL:
	case EEXIST:
	case EPROTO:
	case ESRCH:
	case EMEDIUMTYPE:
	case EUCLEAN:
	case EPERM:
		return -EIO;
	}
	return -e;
}

static int sys_error(char *err, const char *what, const struct cs_dev *d)
{
	int e = errno;

	return cs_error(err, io_errno(e), "cannot %s %s %s: %s", what,
			d->role, d->path, strerror(e ? e : EIO));
}

int cs_dev_open(struct cs_dev *d, const char *path, const char *role,
		char *err)
{
	blkid_loff_t size;

	memset(d, 0, sizeof(*d));
	d->path = path;
	d->role = role;
	/* stat first: a clear message for a directory or a character device */
	if (stat(path, &d->st))
		return sys_error(err, "open", d);
	if (!S_ISBLK(d->st.st_mode) && !S_ISREG(d->st.st_mode))
		return cs_error(err, -ENOTBLK,
				"%s %s is neither a block device nor a regular file",
				role, path);
	errno = 0;
	d->pr = blkid_new_probe_from_filename(path);
	if (!d->pr)
		return sys_error(err, "open", d);
	if (fstat(blkid_probe_get_fd(d->pr), &d->st)) {
		sys_error(err, "stat", d);
		goto fail;
	}
	size = blkid_probe_get_size(d->pr);
	if (size < 0) {
		cs_error(err, -EIO, "cannot get the size of %s %s", role, path);
		goto fail;
	}
	d->sectors = (uint64_t)size >> CS_SECTOR_SHIFT;
	return 0;
fail:
	cs_dev_close(d);
	return -EIO;
}

void cs_dev_close(struct cs_dev *d)
{
	if (d->pr)
		blkid_free_probe(d->pr);
	d->pr = NULL;
}

int cs_dev_read(struct cs_dev *d, uint64_t offset, void *buf, size_t len)
{
	ssize_t n;

	memset(buf, 0, len);
	n = cs_pread_full(blkid_probe_get_fd(d->pr), buf, len, offset);
	return n < 0 ? io_errno(-n) : 0;
}

/* The first metadata block; what lies beyond the end reads as zero. */
static int read_first_block(struct cs_dev *d, void *block, char *err)
{
	int r = cs_dev_read(d, 0, block, COWSNAP_BLOCK_SIZE);

	if (r) {
		errno = -r;
		return sys_error(err, "read", d);
	}
	return 0;
}

static int probe_signatures(struct cs_dev *d, struct cs_store_probe *sp,
			    char *err)
{
	const char *type = NULL;
	int r;

	blkid_probe_enable_superblocks(d->pr, 1);
	blkid_probe_set_superblocks_flags(d->pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(d->pr, 1);
	blkid_probe_set_partitions_flags(d->pr, BLKID_PARTS_MAGIC);
	r = blkid_do_safeprobe(d->pr);
	if (r == 1) {
		sp->kind = CS_STORE_BLANK;
		return 0;
	}
	if (r == -2) {
		sp->kind = CS_STORE_AMBIGUOUS;
		return 0;
	}
	if (r < 0)
		return cs_error(err, -EIO, "cannot probe store %s for signatures",
				d->path);
	sp->kind = CS_STORE_FOREIGN;
	if (blkid_probe_lookup_value(d->pr, "TYPE", &type, NULL)) {
		type = "unknown";	/* kept when there is no PTTYPE either */
		sp->partition_table =
			!blkid_probe_lookup_value(d->pr, "PTTYPE", &type, NULL);
	}
	snprintf(sp->type, sizeof(sp->type), "%s", type);
	return 0;
}

int cs_dev_probe_store(struct cs_dev *d, struct cs_store_probe *sp,
		       char *err)
{
	unsigned char block[COWSNAP_BLOCK_SIZE];
	char why[COWSNAP_ERRLEN] = "";
	int r;

	memset(sp, 0, sizeof(*sp));
	r = read_first_block(d, block, err);
	if (r)
		return r;
	r = cowsnap_sb_decode(block, &sp->sb, why);
	if (cs_store_classify(r, why, sp))
		return 0;
	return probe_signatures(d, sp, err);
}
