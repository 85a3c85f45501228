/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Whole reads and writes at an offset of a file descriptor: pread(2)
 * and pwrite(2) go on after a short transfer or EINTR.  Used by the
 * tool (dev.c) and by the in-VM test helper tests/vm/lw-replay.c.
 */
#ifndef CS_FDIO_H
#define CS_FDIO_H

#include <sys/types.h>

/*
 * cs_pread_full() - read @len bytes at byte @off into @buf.  Returns how
 * many were read (fewer than @len only at the end of the file), or
 * -errno.
 */
ssize_t cs_pread_full(int fd, void *buf, size_t len, off_t off);

/*
 * cs_pwrite_full() - write @len bytes from @buf at byte @off.  Returns
 * 0, or -errno (-ENOSPC if the file took no more).
 */
int cs_pwrite_full(int fd, const void *buf, size_t len, off_t off);

#endif /* CS_FDIO_H */
