/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only place that knows kernel-version differences.
 *
 * Supported: Debian 12's 6.1 and 6.12 kernels and the 6.12 debug kernel.
 */
#ifndef COWSNAP_COMPAT_H
#define COWSNAP_COMPAT_H

#include <linux/blkdev.h>

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

#endif /* COWSNAP_COMPAT_H */
