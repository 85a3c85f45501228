/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace stand-ins for the kernel definitions that
 * ../dm-cowsnap/cowsnap-format.h and cowsnap-format.c use, so that the
 * on-disk format code builds unchanged into the tool and its tests.
 * cowsnap-format.h includes this file when __KERNEL__ is not defined.
 */
#ifndef COWSNAP_KSHIM_H
#define COWSNAP_KSHIM_H

#include <assert.h>	/* first, so that the static_assert below wins */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>	/* __le16, __le32, __le64, __u8 */

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define cpu_to_le16(x)	((__le16)htole16(x))
#define le16_to_cpu(x)	((u16)le16toh(x))
#define cpu_to_le32(x)	((__le32)htole32(x))
#define le32_to_cpu(x)	((u32)le32toh(x))
#define cpu_to_le64(x)	((__le64)htole64(x))
#define le64_to_cpu(x)	((u64)le64toh(x))

#define BIT(n)		(1UL << (n))

#ifndef __packed
#define __packed	__attribute__((packed))
#endif

/* The kernel's single-argument form. */
#undef static_assert
#define static_assert(e)	_Static_assert(e, #e)

/*
 * crc32c() - CRC-32C (Castagnoli) update with the kernel's semantics:
 * no initial and no final inversion; the caller passes the seed.
 * Defined in crc32c.c.
 */
u32 crc32c(u32 crc, const void *buf, unsigned int len);

/* __crc32c_le_shift() - crc32c() of @crc over @len zero bytes. */
u32 __crc32c_le_shift(u32 crc, size_t len);

#endif /* COWSNAP_KSHIM_H */
