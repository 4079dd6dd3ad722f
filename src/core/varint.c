/*
 * varint.c — unsigned LEB128 and zigzag varints (see varint.h).
 *
 * Encoding: seven bits per byte, least significant group first, high bit set on
 * every byte but the last. A u64 needs at most 10 bytes, a u32 at most 5.
 *
 * Decoding is bounded by both the input length and the type width:
 *   - returns the bytes consumed on success;
 *   - returns 0 when the input ends while the continuation bit is still set and
 *     fewer bytes than the type's maximum have been seen (wait for more bytes);
 *   - returns -1 when the varint is longer than the type allows or the last allowed
 *     byte carries bits beyond the type's width (overflow).
 * Non-minimal encodings within the length limit (e.g. 0x80 0x00 for 0) are accepted,
 * as Kafka, protobuf and Avro readers do.
 */
#include "core/varint.h"

size_t brook_varint_put_u64(uint8_t *out, uint64_t v)
{
	size_t i = 0;

	while (v >= 0x80) {
		out[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[i++] = (uint8_t)v;
	return i;
}

size_t brook_varint_put_i64(uint8_t *out, int64_t v)
{
	return brook_varint_put_u64(out, brook_zigzag64(v));
}

size_t brook_varint_size_u64(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * The shared decoder: at most max_bytes bytes; the last one may only carry
 * last_bits significant bits (64 - 7*9 = 1 for u64, 32 - 7*4 = 4 for u32).
 */
static int varint_get(const uint8_t *p, size_t n, size_t max_bytes, unsigned last_bits, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < max_bytes; i++) {
		uint8_t b;

		if (i == n)
			return 0;
		b = p[i];
		if (i == max_bytes - 1) {
			if (b & 0x80)
				return -1; /* too long */
			if (b >> last_bits)
				return -1; /* overflows the type */
		}
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return (int)(i + 1);
		}
	}
	return -1;
}

int brook_varint_get_u64(const uint8_t *p, size_t n, uint64_t *v)
{
	return varint_get(p, n, 10, 1, v);
}

int brook_varint_get_u32(const uint8_t *p, size_t n, uint32_t *v)
{
	uint64_t r;
	int rc = varint_get(p, n, 5, 4, &r);

	if (rc > 0)
		*v = (uint32_t)r;
	return rc;
}

int brook_varint_get_i64(const uint8_t *p, size_t n, int64_t *v)
{
	uint64_t r;
	int rc = varint_get(p, n, 10, 1, &r);

	if (rc > 0)
		*v = brook_unzigzag64(r);
	return rc;
}

int brook_varint_get_i32(const uint8_t *p, size_t n, int32_t *v)
{
	uint64_t r;
	int rc = varint_get(p, n, 5, 4, &r);

	if (rc > 0)
		*v = brook_unzigzag32((uint32_t)r);
	return rc;
}
