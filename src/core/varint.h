/*
 * varint.h — unsigned LEB128 varints and zigzag signed varints (Kafka, protobuf, Avro).
 *
 * Encoders write at most BROOK_VARINT_MAX bytes and return how many. Decoders are
 * bounded by `n` and return the number of bytes consumed, 0 when the input ends
 * before the varint does (need more bytes), or -1 when it is malformed (longer than
 * the type allows, or overflowing it).
 */
#ifndef BROOK_CORE_VARINT_H
#define BROOK_CORE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define BROOK_VARINT_MAX 10

static inline uint64_t brook_zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t brook_unzigzag64(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline uint32_t brook_zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static inline int32_t brook_unzigzag32(uint32_t v)
{
	return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}

size_t brook_varint_put_u64(uint8_t *out, uint64_t v);
size_t brook_varint_put_i64(uint8_t *out, int64_t v); /* zigzag */
size_t brook_varint_size_u64(uint64_t v);
int brook_varint_get_u64(const uint8_t *p, size_t n, uint64_t *v);
int brook_varint_get_u32(const uint8_t *p, size_t n, uint32_t *v); /* at most 5 bytes */
int brook_varint_get_i64(const uint8_t *p, size_t n, int64_t *v);  /* zigzag */
int brook_varint_get_i32(const uint8_t *p, size_t n, int32_t *v);  /* zigzag, 5 bytes */

#endif
