/*
 * binary.h — the primitives of Avro's binary encoding, for every writer of Avro bytes
 * (the generic json_t encoder in datum.c and the connector's direct row encoder).
 *
 *   long, int   zig-zag varint (an int is a long that fits 32 bits)
 *   float       4 bytes, double 8 bytes: IEEE 754, little-endian
 *   boolean     one byte 0 or 1
 *   string,
 *   bytes       a long length, then the bytes
 *   union       a long branch index, then the branch's value
 * Reading is datum.c's business (it checks every bound); these only append to a buf.
 */
#ifndef BROOK_AVRO_BINARY_H
#define BROOK_AVRO_BINARY_H

#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/varint.h"

static inline void avro_put_long(brook_buf *b, int64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_i64(tmp, v));
}

/* The low n bytes of v, little-endian (n ≤ 8). */
static inline void avro_put_le(brook_buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];
	for (size_t i = 0; i < n; i++, v >>= 8)
		tmp[i] = (uint8_t)v;
	brook_buf_append(b, tmp, n);
}

static inline void avro_put_float(brook_buf *b, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	avro_put_le(b, u, 4);
}

static inline void avro_put_double(brook_buf *b, double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	avro_put_le(b, u, 8);
}

static inline void avro_put_boolean(brook_buf *b, int v)
{
	brook_buf_putc(b, v ? 1 : 0);
}

/* string or bytes: the length, then the n bytes (p may be NULL when n is 0). */
static inline void avro_put_bytes(brook_buf *b, const void *p, size_t n)
{
	avro_put_long(b, (int64_t)n);
	if (n)
		brook_buf_append(b, p, n);
}

#endif
