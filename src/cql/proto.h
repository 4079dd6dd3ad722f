/*
 * proto.h — CQL native protocol v4 body notations (spec section 3): a bounded reader and
 * a writer on brook_buf.
 *
 * Reader (cql_rd): every read is bounded by `end`. Errors are sticky: the first read that
 * runs past the end or meets a malformed value sets `failed`, writes a message to `err`
 * naming what was read and at which byte offset of the body, and returns a zero value;
 * later reads do nothing and return zero. Decode a whole message, check `failed` once.
 *
 * Lengths are never trusted: a [string]/[bytes] length must fit in what is left, and a
 * list/map count is checked against the bytes left (the smallest encoding of one element
 * times the count) before anything is allocated for it. Lists and maps are allocated from
 * the caller's arena; strings and bytes are views into the input (not NUL-terminated),
 * valid as long as the input buffer is.
 *
 * Notations: [byte] u8, [short] u16, [int] i32, [long] i64, all big-endian;
 * [string] short length + UTF-8 (never null); [long string] int length + UTF-8;
 * [uuid] 16 bytes; [string list] short n + n [string]; [bytes] int n + n bytes, n < 0
 * null (always -1 when we write); [value] like [bytes] but -1 null, -2 not set, < -2
 * invalid; [short bytes] short n + n bytes; [inet] byte n (4 or 16) + address + int port;
 * [inetaddr] byte n + address; [consistency] short; [string map], [string multimap],
 * [bytes map] short n + n pairs; [unsigned vint]/[vint] (v5 notation, decoded for
 * completeness: 1-9 bytes, leading 1-bits give the extra byte count, vint zigzag).
 *
 * Writer (cql_wr_*): appends to a brook_buf (growth aborts on OOM, so writes cannot
 * fail). cql_wr_len_begin/end reserve and patch an [int] length (values built in place).
 */
#ifndef BROOK_CQL_PROTO_H
#define BROOK_CQL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/rd.h"

/* A [string] / [long string] view. */
typedef struct cql_str {
	const char *ptr;
	size_t len;
} cql_str;

/* A [bytes] / [value] / [short bytes] view; len -1 null, -2 not set ([value] only). */
typedef struct cql_bytes {
	const uint8_t *ptr;
	int32_t len;
} cql_bytes;

#define CQL_NULL       (-1)
#define CQL_UNSET      (-2)
#define CQL_STR(lit)   ((cql_str){(lit), sizeof(lit) - 1})
#define CQL_BYTES_NULL ((cql_bytes){NULL, CQL_NULL})

typedef struct cql_str_list {
	uint16_t n;
	cql_str *items;
} cql_str_list;

typedef struct cql_str_map {
	uint16_t n;
	cql_str *keys;
	cql_str *vals;
} cql_str_map;

typedef struct cql_multimap {
	uint16_t n;
	cql_str *keys;
	cql_str_list *vals;
} cql_multimap;

typedef struct cql_bytes_map {
	uint16_t n;
	cql_str *keys;
	cql_bytes *vals;
} cql_bytes_map;

/* [inet] (with port) or [inetaddr] (port 0, unused). */
typedef struct cql_inet {
	uint8_t len; /* 4 or 16 */
	uint8_t addr[16];
	int32_t port;
} cql_inet;

/* Consistency levels ([consistency]). */
enum {
	CQL_CONSISTENCY_ANY = 0x0000,
	CQL_CONSISTENCY_ONE = 0x0001,
	CQL_CONSISTENCY_TWO = 0x0002,
	CQL_CONSISTENCY_THREE = 0x0003,
	CQL_CONSISTENCY_QUORUM = 0x0004,
	CQL_CONSISTENCY_ALL = 0x0005,
	CQL_CONSISTENCY_LOCAL_QUORUM = 0x0006,
	CQL_CONSISTENCY_EACH_QUORUM = 0x0007,
	CQL_CONSISTENCY_SERIAL = 0x0008,
	CQL_CONSISTENCY_LOCAL_SERIAL = 0x0009,
	CQL_CONSISTENCY_LOCAL_ONE = 0x000A,
};
/* "QUORUM", ...; NULL for an unknown level. */
const char *cql_consistency_name(uint16_t cl);

/* A view of a C string. */
cql_str cql_str_from(const char *s);
/* True when s holds exactly the C string c. */
bool cql_str_eq(cql_str s, const char *c);
/* Case-insensitive cql_str_eq (ASCII). */
bool cql_str_ieq(cql_str s, const char *c);
/* A NUL-terminated copy in the arena. */
char *cql_str_dup(brook_arena *a, cql_str s);
/* A view of n bytes (n <= INT32_MAX). */
cql_bytes cql_bytes_of(const void *p, size_t n);
/* True when both are null, both unset, or both hold the same bytes. */
bool cql_bytes_same(cql_bytes x, cql_bytes y);
/* The value of key k in a [string map], or a {NULL, 0} view with found false. */
bool cql_str_map_get(const cql_str_map *m, const char *k, cql_str *out);

/* The bounded reader with a sticky error (core/rd.h). */
typedef brook_rd cql_rd;
#define cql_rd_init brook_rd_init
#define cql_rd_fail brook_rd_fail
#define cql_rd_left brook_rd_left
#define cql_rd_pos brook_rd_pos

uint8_t cql_rd_byte(cql_rd *rd);
uint16_t cql_rd_short(cql_rd *rd);
int32_t cql_rd_int(cql_rd *rd);
int64_t cql_rd_long(cql_rd *rd);
uint16_t cql_rd_consistency(cql_rd *rd);
void cql_rd_uuid(cql_rd *rd, uint8_t out[16]);
cql_str cql_rd_string(cql_rd *rd);
cql_str cql_rd_long_string(cql_rd *rd);
cql_bytes cql_rd_bytes(cql_rd *rd); /* any negative length reads as null (-1) */
cql_bytes cql_rd_value(cql_rd *rd); /* -1 null, -2 not set, < -2 fails */
cql_bytes cql_rd_short_bytes(cql_rd *rd);
uint64_t cql_rd_uvint(cql_rd *rd);
int64_t cql_rd_vint(cql_rd *rd);
void cql_rd_inet(cql_rd *rd, cql_inet *out);
void cql_rd_inetaddr(cql_rd *rd, cql_inet *out);
void cql_rd_string_list(cql_rd *rd, brook_arena *a, cql_str_list *out);
void cql_rd_string_map(cql_rd *rd, brook_arena *a, cql_str_map *out);
void cql_rd_multimap(cql_rd *rd, brook_arena *a, cql_multimap *out);
void cql_rd_bytes_map(cql_rd *rd, brook_arena *a, cql_bytes_map *out);
/* A count followed by n elements of at least min_elem bytes each; fails if they cannot
 * fit in what is left. Returns the count (0 on failure). */
uint32_t cql_rd_count(cql_rd *rd, uint32_t n, size_t min_elem, const char *what);
/* n raw bytes (a view), or NULL on failure (also for n == 0 with nothing left: check
 * rd->failed, not the pointer). */
const uint8_t *cql_rd_take(cql_rd *rd, size_t n);

void cql_wr_byte(brook_buf *b, uint8_t v);
void cql_wr_short(brook_buf *b, uint16_t v);
void cql_wr_int(brook_buf *b, int32_t v);
void cql_wr_long(brook_buf *b, int64_t v);
void cql_wr_uuid(brook_buf *b, const uint8_t u[16]);
/* [string] and [short bytes] hold at most 65535 bytes: longer input is cut there (a
 * long error message stays a well-formed frame). */
void cql_wr_string(brook_buf *b, cql_str s);
void cql_wr_cstring(brook_buf *b, const char *s); /* a C string as [string] */
void cql_wr_long_string(brook_buf *b, cql_str s);
void cql_wr_bytes(brook_buf *b, cql_bytes v); /* negative: null (-1) */
void cql_wr_value(brook_buf *b, cql_bytes v); /* -1 null, -2 not set */
void cql_wr_short_bytes(brook_buf *b, cql_bytes v);
void cql_wr_uvint(brook_buf *b, uint64_t v);
void cql_wr_vint(brook_buf *b, int64_t v);
void cql_wr_inet(brook_buf *b, const cql_inet *in);
void cql_wr_inetaddr(brook_buf *b, const cql_inet *in);
void cql_wr_string_list(brook_buf *b, const cql_str_list *l);
void cql_wr_string_map(brook_buf *b, const cql_str_map *m);
void cql_wr_multimap(brook_buf *b, const cql_multimap *m);
void cql_wr_bytes_map(brook_buf *b, const cql_bytes_map *m);
/* Reserve an [int] length; returns its position for cql_wr_len_end. */
size_t cql_wr_len_begin(brook_buf *b);
/* Patch the [int] at pos with the number of bytes written after it. */
void cql_wr_len_end(brook_buf *b, size_t pos);

#endif
