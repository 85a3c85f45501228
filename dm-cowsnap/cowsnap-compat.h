/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only place that knows kernel-version differences.
 *
 * Supported: Debian 12's 6.1 and 6.12 kernels and the 6.12 debug kernel.
 */
#ifndef COWSNAP_COMPAT_H
#define COWSNAP_COMPAT_H

#include <linux/blkdev.h>
#include <linux/ioprio.h>
#include <linux/dm-io.h>

/*
 * Open modes for dm_get_device(): fmode_t flags before 6.5, blk_mode_t
 * flags since (detected by the macro itself).  Callers combine them with
 * dm_table_get_mode(), whose return type follows the same change.
 */
#ifdef BLK_OPEN_WRITE
#define COWSNAP_OPEN_WRITE	BLK_OPEN_WRITE
#else
#define COWSNAP_OPEN_WRITE	FMODE_WRITE
#endif

/*
 * dm_io() gained an ioprio argument in 6.9.  Kbuild probes
 * <linux/dm-io.h> and defines COWSNAP_DM_IO_HAS_IOPRIO when it has one.
 */
static inline int cowsnap_dm_io(struct dm_io_request *req,
				struct dm_io_region *where,
				unsigned long *error_bits)
{
#ifdef COWSNAP_DM_IO_HAS_IOPRIO
	return dm_io(req, 1, where, error_bits, IOPRIO_DEFAULT);
#else
	return dm_io(req, 1, where, error_bits);
#endif
}

#endif /* COWSNAP_COMPAT_H */
