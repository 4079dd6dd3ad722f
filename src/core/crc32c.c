/*
 * crc32c.c — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Conventions: the register starts at ~0 and the result is inverted, and the public
 * functions take and return the inverted value, so brook_crc32c(brook_crc32c(0, a),
 * b) == brook_crc32c(0, a || b).
 *
 * Two implementations with identical results:
 *   - hardware: the SSE4.2 crc32 instruction (x86-64), chosen at run time when the
 *     CPU reports sse4.2. Bytes up to the first 8-byte boundary go one at a time,
 *     then 8 bytes per instruction, then the tail byte by byte.
 *   - software: slicing-by-8 with eight 256-entry tables built once (pthread_once).
 *     Table k maps a byte to its CRC contribution k bytes further along, so eight
 *     input bytes cost eight lookups. Byte order is handled explicitly, so it is
 *     endian-neutral.
 */
#include "core/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define CRC32C_HAVE_HW 1
#else
#define CRC32C_HAVE_HW 0
#endif

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_tables[8][256];
static pthread_once_t crc_tables_once = PTHREAD_ONCE_INIT;

static void crc_tables_build(void)
{
	uint32_t i, k;

	for (i = 0; i < 256; i++) {
		uint32_t c = i;

		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		crc_tables[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_tables[k][i] = (crc_tables[k - 1][i] >> 8) ^
			                   crc_tables[0][crc_tables[k - 1][i] & 0xff];
}

uint32_t brook_crc32c_sw(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;
	const uint32_t(*t)[256] = (const uint32_t(*)[256])crc_tables;

	pthread_once(&crc_tables_once, crc_tables_build);
	crc = ~crc;
	while (n >= 8) {
		crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		       (uint32_t)p[3] << 24;
		crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^
		      t[4][crc >> 24] ^ t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

#if CRC32C_HAVE_HW
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *data,
                                                            size_t n)
{
	const uint8_t *p = data;
	uint64_t c = ~crc;

	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		n--;
	}
	while (n >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		n -= 8;
	}
	while (n--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

int brook_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

uint32_t brook_crc32c(uint32_t crc, const void *data, size_t n)
{
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_hw(crc, data, n);
	return brook_crc32c_sw(crc, data, n);
}
#else
int brook_crc32c_hw_available(void)
{
	return 0;
}

uint32_t brook_crc32c(uint32_t crc, const void *data, size_t n)
{
	return brook_crc32c_sw(crc, data, n);
}
#endif
