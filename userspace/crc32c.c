// SPDX-License-Identifier: GPL-2.0-only
/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven,
 * with the semantics of the kernel's crc32c(crc, p, len): a raw update,
 * no initial and no final inversion.  The usual check value is therefore
 * crc32c(~0u, "123456789", 9) ^ ~0u == 0xE3069283.
 *
 * The table is computed by the preprocessor, so it is a constant: no
 * initialisation, nothing to race on.
 */
#include "kshim.h"

#define POLY		0x82F63B78U
#define R1(c)		(((c) & 1) ? ((c) >> 1) ^ POLY : (c) >> 1)
#define R2(c)		R1(R1(c))
#define R8(c)		R2(R2(R2(R2((u32)(c)))))
#define T4(n)		R8(n), R8((n) + 1), R8((n) + 2), R8((n) + 3)
#define T16(n)		T4(n), T4((n) + 4), T4((n) + 8), T4((n) + 12)
#define T64(n)		T16(n), T16((n) + 16), T16((n) + 32), T16((n) + 48)

static const u32 crc32c_table[256] = {
	T64(0), T64(64), T64(128), T64(192)
};

u32 crc32c(u32 crc, const void *buf, unsigned int len)
{
	const u8 *p = buf;

	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

u32 __crc32c_le_shift(u32 crc, size_t len)
{
	while (len--)
		crc = crc32c_table[crc & 0xff] ^ (crc >> 8);
	return crc;
}
