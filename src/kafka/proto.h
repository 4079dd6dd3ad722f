/*
 * proto.h — Kafka wire primitives: a bounded reader and a writer on brook_buf.
 *
 * Reader (kafka_rd): every read is bounded by `end`. Errors are sticky: the first read
 * that runs past the end or meets a malformed value sets `failed`, writes a message to
 * `err` naming what was read and at which byte offset (counted from `start`), and
 * returns a zero value; every later read does nothing and returns zero. Callers may
 * therefore read a whole structure and check `failed` once.
 *
 * Lengths are never trusted: a string or bytes length must fit in what is left, and an
 * array length is checked against the bytes left (`min_elem` bytes per element, at
 * least 1) before anyone allocates room for its elements.
 *
 * Strings and bytes read are views (kafka_str, kafka_bytes) into the input buffer: they
 * are not NUL-terminated and live as long as the buffer does. len -1 is null.
 *
 * Encodings: classic string = int16 length (-1 null) + bytes; compact string = unsigned
 * varint length+1 (0 null) + bytes; classic bytes = int32 length; compact bytes like
 * compact string; classic array = int32 count (-1 null); compact array = uvarint
 * count+1 (0 null); a tagged-field section = uvarint count, then per field uvarint tag,
 * uvarint size, data.
 *
 * Writer (kafka_wr_*): appends big-endian values to a brook_buf (growth aborts on OOM,
 * so writes cannot fail). kafka_wr_len_begin/end reserve and patch an int32 length
 * prefix (frame sizes).
 */
#ifndef BROOK_KAFKA_PROTO_H
#define BROOK_KAFKA_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/rd.h"
#include "core/uuid.h"

typedef struct kafka_str {
	const char *ptr;
	int32_t len; /* -1: null */
} kafka_str;

typedef struct kafka_bytes {
	const uint8_t *ptr;
	int32_t len; /* -1: null */
} kafka_bytes;

typedef brook_uuid kafka_uuid;

#define KAFKA_STR(lit) ((kafka_str){(lit), (int32_t)(sizeof(lit) - 1)})
#define KAFKA_STR_NULL ((kafka_str){NULL, -1})
#define KAFKA_BYTES_NULL ((kafka_bytes){NULL, -1})

/* A view of a C string (NULL gives the null string). */
kafka_str kafka_str_from(const char *s);
/* True when s is not null and equals the C string c. */
bool kafka_str_eq(kafka_str s, const char *c);
/* True when both are null or both hold the same bytes. */
bool kafka_str_same(kafka_str a, kafka_str b);
/* A NUL-terminated copy in the arena; NULL for the null string. */
char *kafka_str_dup(brook_arena *a, kafka_str s);
/* A NUL-terminated heap copy (brook_malloc; free with free()); NULL for null. */
char *kafka_str_strdup(kafka_str s);

/* The bounded reader with a sticky error (core/rd.h). */
typedef brook_rd kafka_rd;
#define kafka_rd_init brook_rd_init
#define kafka_rd_fail brook_rd_fail
#define kafka_rd_left brook_rd_left
#define kafka_rd_pos brook_rd_pos

int8_t kafka_rd_i8(kafka_rd *rd);
int16_t kafka_rd_i16(kafka_rd *rd);
int32_t kafka_rd_i32(kafka_rd *rd);
int64_t kafka_rd_i64(kafka_rd *rd);
uint16_t kafka_rd_u16(kafka_rd *rd);
uint32_t kafka_rd_u32(kafka_rd *rd);
double kafka_rd_f64(kafka_rd *rd);
bool kafka_rd_bool(kafka_rd *rd); /* any non-zero byte is true */
uint32_t kafka_rd_uvarint(kafka_rd *rd);
int32_t kafka_rd_varint(kafka_rd *rd);  /* zigzag */
int64_t kafka_rd_varlong(kafka_rd *rd); /* zigzag */
void kafka_rd_uuid(kafka_rd *rd, kafka_uuid *out);
kafka_str kafka_rd_str(kafka_rd *rd);
kafka_str kafka_rd_compact_str(kafka_rd *rd);
kafka_bytes kafka_rd_bytes(kafka_rd *rd);
kafka_bytes kafka_rd_compact_bytes(kafka_rd *rd);
/* Array element count, -1 for null; fails when count * max(min_elem, 1) > bytes left. */
int32_t kafka_rd_array_len(kafka_rd *rd, size_t min_elem);
int32_t kafka_rd_compact_array_len(kafka_rd *rd, size_t min_elem);
/* n raw bytes (a view), or NULL on failure. */
const uint8_t *kafka_rd_take(kafka_rd *rd, size_t n);
void kafka_rd_skip(kafka_rd *rd, size_t n);
/* Skips a whole tagged-field section. */
void kafka_rd_skip_tags(kafka_rd *rd);

void kafka_wr_i8(brook_buf *b, int8_t v);
void kafka_wr_i16(brook_buf *b, int16_t v);
void kafka_wr_i32(brook_buf *b, int32_t v);
void kafka_wr_i64(brook_buf *b, int64_t v);
void kafka_wr_u16(brook_buf *b, uint16_t v);
void kafka_wr_u32(brook_buf *b, uint32_t v);
void kafka_wr_f64(brook_buf *b, double v);
void kafka_wr_bool(brook_buf *b, bool v);
void kafka_wr_uvarint(brook_buf *b, uint32_t v);
void kafka_wr_varint(brook_buf *b, int32_t v);
void kafka_wr_varlong(brook_buf *b, int64_t v);
void kafka_wr_uuid(brook_buf *b, const kafka_uuid *u);
void kafka_wr_str(brook_buf *b, kafka_str s);
void kafka_wr_compact_str(brook_buf *b, kafka_str s);
void kafka_wr_bytes(brook_buf *b, kafka_bytes v);
void kafka_wr_compact_bytes(brook_buf *b, kafka_bytes v);
void kafka_wr_array_len(brook_buf *b, int32_t n); /* -1: null */
void kafka_wr_compact_array_len(brook_buf *b, int32_t n);
void kafka_wr_empty_tags(brook_buf *b);
/* Reserve a 4-byte length prefix; returns its position for kafka_wr_len_end. */
size_t kafka_wr_len_begin(brook_buf *b);
/* Patch the prefix at pos with the number of bytes written after it. */
void kafka_wr_len_end(brook_buf *b, size_t pos);

#endif
