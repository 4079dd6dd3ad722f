/*
 * proto.c — Kafka wire primitives (see proto.h for the rules: bounded, sticky errors).
 */
#include "kafka/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/varint.h"

kafka_str kafka_str_from(const char *s)
{
	if (!s)
		return KAFKA_STR_NULL;
	return (kafka_str){s, (int32_t)strlen(s)};
}

bool kafka_str_eq(kafka_str s, const char *c)
{
	if (s.len < 0)
		return false;
	size_t n = strlen(c);
	return (size_t)s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

bool kafka_str_same(kafka_str a, kafka_str b)
{
	if (a.len < 0 || b.len < 0)
		return a.len < 0 && b.len < 0;
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

char *kafka_str_dup(brook_arena *a, kafka_str s)
{
	if (s.len < 0)
		return NULL;
	return brook_arena_strndup(a, s.len ? s.ptr : "", (size_t)s.len);
}

char *kafka_str_strdup(kafka_str s)
{
	if (s.len < 0)
		return NULL;
	return brook_strndup(s.len ? s.ptr : "", (size_t)s.len);
}



static bool need(kafka_rd *rd, size_t n, const char *what)
{
	return brook_rd_need(rd, n, what);
}

#define RD_FIXED(fn, T, UT, n, what)                                                          \
	T fn(kafka_rd *rd)                                                                   \
	{                                                                                    \
		return (T)(UT)brook_rd_be(rd, n, what);                                    \
	}

RD_FIXED(kafka_rd_i8, int8_t, uint8_t, 1, "int8")
RD_FIXED(kafka_rd_i16, int16_t, uint16_t, 2, "int16")
RD_FIXED(kafka_rd_i32, int32_t, uint32_t, 4, "int32")
RD_FIXED(kafka_rd_i64, int64_t, uint64_t, 8, "int64")
RD_FIXED(kafka_rd_u16, uint16_t, uint16_t, 2, "uint16")
RD_FIXED(kafka_rd_u32, uint32_t, uint32_t, 4, "uint32")

double kafka_rd_f64(kafka_rd *rd)
{
	uint64_t u = (uint64_t)kafka_rd_i64(rd);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

bool kafka_rd_bool(kafka_rd *rd)
{
	return kafka_rd_i8(rd) != 0;
}

static void varint_fail(kafka_rd *rd, int r, const char *what)
{
	if (r == 0)
		kafka_rd_fail(rd, "%s at byte %zu runs past the end", what, kafka_rd_pos(rd));
	else
		kafka_rd_fail(rd, "%s at byte %zu is malformed", what, kafka_rd_pos(rd));
}

uint32_t kafka_rd_uvarint(kafka_rd *rd)
{
	uint32_t v = 0;
	if (rd->failed)
		return 0;
	int r = brook_varint_get_u32(rd->p, kafka_rd_left(rd), &v);
	if (r <= 0) {
		varint_fail(rd, r, "unsigned varint");
		return 0;
	}
	rd->p += r;
	return v;
}

int32_t kafka_rd_varint(kafka_rd *rd)
{
	int32_t v = 0;
	if (rd->failed)
		return 0;
	int r = brook_varint_get_i32(rd->p, kafka_rd_left(rd), &v);
	if (r <= 0) {
		varint_fail(rd, r, "varint");
		return 0;
	}
	rd->p += r;
	return v;
}

int64_t kafka_rd_varlong(kafka_rd *rd)
{
	int64_t v = 0;
	if (rd->failed)
		return 0;
	int r = brook_varint_get_i64(rd->p, kafka_rd_left(rd), &v);
	if (r <= 0) {
		varint_fail(rd, r, "varlong");
		return 0;
	}
	rd->p += r;
	return v;
}

void kafka_rd_uuid(kafka_rd *rd, kafka_uuid *out)
{
	memset(out, 0, sizeof *out);
	if (!need(rd, 16, "uuid"))
		return;
	memcpy(out->b, rd->p, 16);
	rd->p += 16;
}

/* A length-prefixed view: len < 0 null; otherwise len bytes must be left. */
static const uint8_t *take_len(kafka_rd *rd, int64_t len, size_t at, const char *what)
{
	if (rd->failed || len < 0)
		return NULL;
	if ((uint64_t)len > kafka_rd_left(rd)) {
		kafka_rd_fail(rd, "%s length %lld at byte %zu exceeds the %zu bytes left", what,
			      (long long)len, at, kafka_rd_left(rd));
		return NULL;
	}
	const uint8_t *p = rd->p;
	rd->p += len;
	return p;
}

kafka_str kafka_rd_str(kafka_rd *rd)
{
	size_t at = kafka_rd_pos(rd);
	int16_t len = kafka_rd_i16(rd);
	if (rd->failed)
		return KAFKA_STR_NULL;
	if (len < -1) {
		kafka_rd_fail(rd, "string length %d at byte %zu is negative", len, at);
		return KAFKA_STR_NULL;
	}
	const uint8_t *p = take_len(rd, len, at, "string");
	if (rd->failed || len < 0)
		return KAFKA_STR_NULL;
	return (kafka_str){(const char *)p, len};
}

kafka_str kafka_rd_compact_str(kafka_rd *rd)
{
	size_t at = kafka_rd_pos(rd);
	uint32_t n = kafka_rd_uvarint(rd);
	if (rd->failed || n == 0)
		return KAFKA_STR_NULL;
	if (n - 1 > INT16_MAX) {
		kafka_rd_fail(rd, "compact string length %u at byte %zu exceeds 32767", n - 1, at);
		return KAFKA_STR_NULL;
	}
	const uint8_t *p = take_len(rd, (int64_t)n - 1, at, "compact string");
	if (rd->failed)
		return KAFKA_STR_NULL;
	return (kafka_str){(const char *)p, (int32_t)(n - 1)};
}

kafka_bytes kafka_rd_bytes(kafka_rd *rd)
{
	size_t at = kafka_rd_pos(rd);
	int32_t len = kafka_rd_i32(rd);
	if (rd->failed)
		return KAFKA_BYTES_NULL;
	if (len < -1) {
		kafka_rd_fail(rd, "bytes length %d at byte %zu is negative", len, at);
		return KAFKA_BYTES_NULL;
	}
	const uint8_t *p = take_len(rd, len, at, "bytes");
	if (rd->failed || len < 0)
		return KAFKA_BYTES_NULL;
	return (kafka_bytes){p, len};
}

kafka_bytes kafka_rd_compact_bytes(kafka_rd *rd)
{
	size_t at = kafka_rd_pos(rd);
	uint32_t n = kafka_rd_uvarint(rd);
	if (rd->failed || n == 0)
		return KAFKA_BYTES_NULL;
	if (n - 1 > INT32_MAX) {
		kafka_rd_fail(rd, "compact bytes length %u at byte %zu is too large", n - 1, at);
		return KAFKA_BYTES_NULL;
	}
	const uint8_t *p = take_len(rd, (int64_t)n - 1, at, "compact bytes");
	if (rd->failed)
		return KAFKA_BYTES_NULL;
	return (kafka_bytes){p, (int32_t)(n - 1)};
}

static int32_t check_count(kafka_rd *rd, int64_t n, size_t min_elem, size_t at)
{
	if (rd->failed)
		return 0;
	if (n < -1) {
		kafka_rd_fail(rd, "array length %lld at byte %zu is negative", (long long)n, at);
		return 0;
	}
	if (min_elem == 0)
		min_elem = 1;
	if (n > 0 && (uint64_t)n > kafka_rd_left(rd) / min_elem) {
		kafka_rd_fail(rd, "array length %lld at byte %zu exceeds the %zu bytes left",
			      (long long)n, at, kafka_rd_left(rd));
		return 0;
	}
	return (int32_t)n;
}

int32_t kafka_rd_array_len(kafka_rd *rd, size_t min_elem)
{
	size_t at = kafka_rd_pos(rd);
	int32_t n = kafka_rd_i32(rd);
	return check_count(rd, n, min_elem, at);
}

int32_t kafka_rd_compact_array_len(kafka_rd *rd, size_t min_elem)
{
	size_t at = kafka_rd_pos(rd);
	uint32_t n = kafka_rd_uvarint(rd);
	if (rd->failed)
		return 0;
	if (n - 1 > INT32_MAX && n != 0) {
		kafka_rd_fail(rd, "array length %u at byte %zu is too large", n - 1, at);
		return 0;
	}
	return check_count(rd, (int64_t)n - 1, min_elem, at);
}

const uint8_t *kafka_rd_take(kafka_rd *rd, size_t n)
{
	return brook_rd_take(rd, n, "data");
}

void kafka_rd_skip(kafka_rd *rd, size_t n)
{
	(void)kafka_rd_take(rd, n);
}

void kafka_rd_skip_tags(kafka_rd *rd)
{
	size_t at = kafka_rd_pos(rd);
	uint32_t n = kafka_rd_uvarint(rd);
	if (!rd->failed && n > kafka_rd_left(rd) / 2) {
		kafka_rd_fail(rd, "tagged field count %u at byte %zu exceeds the %zu bytes left", n,
			      at, kafka_rd_left(rd));
		return;
	}
	for (uint32_t i = 0; i < n && !rd->failed; i++) {
		(void)kafka_rd_uvarint(rd); /* tag */
		size_t sat = kafka_rd_pos(rd);
		uint32_t size = kafka_rd_uvarint(rd);
		(void)take_len(rd, size, sat, "tagged field");
	}
}

/* ---- writer ---- */

void kafka_wr_i8(brook_buf *b, int8_t v)
{
	brook_buf_putc(b, (char)v);
}

void kafka_wr_i16(brook_buf *b, int16_t v)
{
	brook_buf_put_be16(b, (uint16_t)v);
}

void kafka_wr_i32(brook_buf *b, int32_t v)
{
	brook_buf_put_be32(b, (uint32_t)v);
}

void kafka_wr_i64(brook_buf *b, int64_t v)
{
	brook_buf_put_be64(b, (uint64_t)v);
}

void kafka_wr_u16(brook_buf *b, uint16_t v)
{
	brook_buf_put_be16(b, v);
}

void kafka_wr_u32(brook_buf *b, uint32_t v)
{
	brook_buf_put_be32(b, v);
}

void kafka_wr_f64(brook_buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	brook_buf_put_be64(b, u);
}

void kafka_wr_bool(brook_buf *b, bool v)
{
	brook_buf_putc(b, v ? 1 : 0);
}

void kafka_wr_uvarint(brook_buf *b, uint32_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_u64(tmp, v));
}

void kafka_wr_varint(brook_buf *b, int32_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_u64(tmp, brook_zigzag32(v)));
}

void kafka_wr_varlong(brook_buf *b, int64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_i64(tmp, v));
}

void kafka_wr_uuid(brook_buf *b, const kafka_uuid *u)
{
	brook_buf_append(b, u->b, 16);
}

void kafka_wr_str(brook_buf *b, kafka_str s)
{
	if (s.len < 0) {
		kafka_wr_i16(b, -1);
		return;
	}
	int32_t len = s.len > INT16_MAX ? INT16_MAX : s.len;
	kafka_wr_i16(b, (int16_t)len);
	brook_buf_append(b, s.ptr, (size_t)len);
}

void kafka_wr_compact_str(brook_buf *b, kafka_str s)
{
	if (s.len < 0) {
		kafka_wr_uvarint(b, 0);
		return;
	}
	int32_t len = s.len > INT16_MAX ? INT16_MAX : s.len;
	kafka_wr_uvarint(b, (uint32_t)len + 1);
	brook_buf_append(b, s.ptr, (size_t)len);
}

void kafka_wr_bytes(brook_buf *b, kafka_bytes v)
{
	kafka_wr_i32(b, v.len < 0 ? -1 : v.len);
	if (v.len > 0)
		brook_buf_append(b, v.ptr, (size_t)v.len);
}

void kafka_wr_compact_bytes(brook_buf *b, kafka_bytes v)
{
	kafka_wr_uvarint(b, v.len < 0 ? 0 : (uint32_t)v.len + 1);
	if (v.len > 0)
		brook_buf_append(b, v.ptr, (size_t)v.len);
}

void kafka_wr_array_len(brook_buf *b, int32_t n)
{
	kafka_wr_i32(b, n < 0 ? -1 : n);
}

void kafka_wr_compact_array_len(brook_buf *b, int32_t n)
{
	kafka_wr_uvarint(b, n < 0 ? 0 : (uint32_t)n + 1);
}

void kafka_wr_empty_tags(brook_buf *b)
{
	brook_buf_putc(b, 0);
}

size_t kafka_wr_len_begin(brook_buf *b)
{
	size_t pos = b->len;
	kafka_wr_i32(b, 0);
	return pos;
}

void kafka_wr_len_end(brook_buf *b, size_t pos)
{
	uint32_t n = (uint32_t)(b->len - pos - 4);
	uint8_t *p = (uint8_t *)b->data + pos;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
}
