/*
 * proto.c — CQL body notations (see proto.h for the rules: bounded, sticky errors).
 */
#include "cql/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/varint.h"

static const char *const consistency_names[] = {
	"ANY",          "ONE",         "TWO",    "THREE",        "QUORUM",    "ALL",
	"LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
};

const char *cql_consistency_name(uint16_t cl)
{
	if (cl >= sizeof consistency_names / sizeof consistency_names[0])
		return NULL;
	return consistency_names[cl];
}

cql_str cql_str_from(const char *s)
{
	return (cql_str){s, strlen(s)};
}

bool cql_str_eq(cql_str s, const char *c)
{
	size_t n = strlen(c);
	return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

bool cql_str_ieq(cql_str s, const char *c)
{
	size_t n = strlen(c);
	return s.len == n && (n == 0 || strncasecmp(s.ptr, c, n) == 0);
}

char *cql_str_dup(brook_arena *a, cql_str s)
{
	return brook_arena_strndup(a, s.len ? s.ptr : "", s.len);
}

cql_bytes cql_bytes_of(const void *p, size_t n)
{
	return (cql_bytes){p, (int32_t)n};
}

bool cql_bytes_same(cql_bytes x, cql_bytes y)
{
	if (x.len < 0 || y.len < 0)
		return x.len == y.len;
	return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

bool cql_str_map_get(const cql_str_map *m, const char *k, cql_str *out)
{
	for (uint16_t i = 0; i < m->n; i++) {
		if (cql_str_eq(m->keys[i], k)) {
			*out = m->vals[i];
			return true;
		}
	}
	*out = (cql_str){NULL, 0};
	return false;
}



static bool need(cql_rd *rd, size_t n, const char *what)
{
	return brook_rd_need(rd, n, what);
}

#define RD_FIXED(fn, T, UT, n, what)                                                               \
	T fn(cql_rd *rd)                                                                           \
	{                                                                                          \
		return (T)(UT)brook_rd_be(rd, n, what);                                    \
	}

RD_FIXED(cql_rd_byte, uint8_t, uint8_t, 1, "[byte]")
RD_FIXED(cql_rd_short, uint16_t, uint16_t, 2, "[short]")
RD_FIXED(cql_rd_int, int32_t, uint32_t, 4, "[int]")
RD_FIXED(cql_rd_long, int64_t, uint64_t, 8, "[long]")
RD_FIXED(cql_rd_consistency, uint16_t, uint16_t, 2, "[consistency]")

const uint8_t *cql_rd_take(cql_rd *rd, size_t n)
{
	return brook_rd_take(rd, n, "raw bytes");
}

void cql_rd_uuid(cql_rd *rd, uint8_t out[16])
{
	if (!need(rd, 16, "[uuid]")) {
		memset(out, 0, 16);
		return;
	}
	memcpy(out, rd->p, 16);
	rd->p += 16;
}

static cql_str rd_str_n(cql_rd *rd, size_t n, const char *what)
{
	if (!need(rd, n, what))
		return (cql_str){"", 0};
	cql_str s = {(const char *)rd->p, n};
	rd->p += n;
	return s;
}

cql_str cql_rd_string(cql_rd *rd)
{
	uint16_t n = cql_rd_short(rd);
	return rd_str_n(rd, n, "[string]");
}

cql_str cql_rd_long_string(cql_rd *rd)
{
	int32_t n = cql_rd_int(rd);
	if (n < 0) {
		cql_rd_fail(rd, "[long string] at byte %zu has negative length %d",
			    cql_rd_pos(rd) - 4, (int)n);
		return (cql_str){"", 0};
	}
	return rd_str_n(rd, (size_t)n, "[long string]");
}

static cql_bytes rd_bytes_n(cql_rd *rd, int32_t n, const char *what)
{
	if (!need(rd, (size_t)n, what))
		return CQL_BYTES_NULL;
	cql_bytes v = {rd->p, n};
	rd->p += n;
	return v;
}

cql_bytes cql_rd_bytes(cql_rd *rd)
{
	int32_t n = cql_rd_int(rd);
	if (rd->failed || n < 0)
		return CQL_BYTES_NULL;
	return rd_bytes_n(rd, n, "[bytes]");
}

cql_bytes cql_rd_value(cql_rd *rd)
{
	int32_t n = cql_rd_int(rd);
	if (rd->failed)
		return CQL_BYTES_NULL;
	if (n == CQL_NULL || n == CQL_UNSET)
		return (cql_bytes){NULL, n};
	if (n < 0) {
		cql_rd_fail(rd, "[value] at byte %zu has invalid length %d", cql_rd_pos(rd) - 4,
			    (int)n);
		return CQL_BYTES_NULL;
	}
	return rd_bytes_n(rd, n, "[value]");
}

cql_bytes cql_rd_short_bytes(cql_rd *rd)
{
	uint16_t n = cql_rd_short(rd);
	if (rd->failed)
		return CQL_BYTES_NULL;
	return rd_bytes_n(rd, n, "[short bytes]");
}

uint64_t cql_rd_uvint(cql_rd *rd)
{
	if (!need(rd, 1, "[unsigned vint]"))
		return 0;
	uint8_t first = rd->p[0];
	size_t extra = 0;
	while (extra < 8 && (first & (0x80u >> extra)))
		extra++;
	if (!need(rd, 1 + extra, "[unsigned vint]"))
		return 0;
	uint64_t v = extra < 8 ? (uint64_t)(first & (0xFFu >> (extra + 1))) : 0;
	for (size_t i = 1; i <= extra; i++)
		v = (v << 8) | rd->p[i];
	rd->p += 1 + extra;
	return v;
}

int64_t cql_rd_vint(cql_rd *rd)
{
	return brook_unzigzag64(cql_rd_uvint(rd));
}

void cql_rd_inetaddr(cql_rd *rd, cql_inet *out)
{
	memset(out, 0, sizeof *out);
	uint8_t n = cql_rd_byte(rd);
	if (rd->failed)
		return;
	if (n != 4 && n != 16) {
		cql_rd_fail(rd, "[inet] at byte %zu has address size %u, not 4 or 16",
			    cql_rd_pos(rd) - 1, n);
		return;
	}
	const uint8_t *p = cql_rd_take(rd, n);
	if (!p)
		return;
	out->len = n;
	memcpy(out->addr, p, n);
}

void cql_rd_inet(cql_rd *rd, cql_inet *out)
{
	cql_rd_inetaddr(rd, out);
	out->port = cql_rd_int(rd);
}

uint32_t cql_rd_count(cql_rd *rd, uint32_t n, size_t min_elem, const char *what)
{
	if (rd->failed)
		return 0;
	if (min_elem == 0)
		min_elem = 1;
	if ((uint64_t)n * min_elem > cql_rd_left(rd)) {
		cql_rd_fail(rd, "%s at byte %zu claims %u elements, only %zu bytes left", what,
			    cql_rd_pos(rd), n, cql_rd_left(rd));
		return 0;
	}
	return n;
}

void cql_rd_string_list(cql_rd *rd, brook_arena *a, cql_str_list *out)
{
	out->n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), 2, "[string list]");
	out->items = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_str)) : NULL;
	for (uint16_t i = 0; i < out->n; i++)
		out->items[i] = cql_rd_string(rd);
	if (rd->failed)
		out->n = 0;
}

void cql_rd_string_map(cql_rd *rd, brook_arena *a, cql_str_map *out)
{
	out->n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), 4, "[string map]");
	out->keys = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_str)) : NULL;
	out->vals = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_str)) : NULL;
	for (uint16_t i = 0; i < out->n; i++) {
		out->keys[i] = cql_rd_string(rd);
		out->vals[i] = cql_rd_string(rd);
	}
	if (rd->failed)
		out->n = 0;
}

void cql_rd_multimap(cql_rd *rd, brook_arena *a, cql_multimap *out)
{
	out->n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), 4, "[string multimap]");
	out->keys = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_str)) : NULL;
	out->vals = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_str_list)) : NULL;
	for (uint16_t i = 0; i < out->n; i++) {
		out->keys[i] = cql_rd_string(rd);
		cql_rd_string_list(rd, a, &out->vals[i]);
	}
	if (rd->failed)
		out->n = 0;
}

void cql_rd_bytes_map(cql_rd *rd, brook_arena *a, cql_bytes_map *out)
{
	out->n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), 6, "[bytes map]");
	out->keys = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_str)) : NULL;
	out->vals = out->n ? brook_arena_alloc(a, out->n * sizeof(cql_bytes)) : NULL;
	for (uint16_t i = 0; i < out->n; i++) {
		out->keys[i] = cql_rd_string(rd);
		out->vals[i] = cql_rd_bytes(rd);
	}
	if (rd->failed)
		out->n = 0;
}

void cql_wr_byte(brook_buf *b, uint8_t v)
{
	brook_buf_append(b, &v, 1);
}

void cql_wr_short(brook_buf *b, uint16_t v)
{
	brook_buf_put_be16(b, v);
}

void cql_wr_int(brook_buf *b, int32_t v)
{
	brook_buf_put_be32(b, (uint32_t)v);
}

void cql_wr_long(brook_buf *b, int64_t v)
{
	brook_buf_put_be64(b, (uint64_t)v);
}

void cql_wr_uuid(brook_buf *b, const uint8_t u[16])
{
	brook_buf_append(b, u, 16);
}

static void put_raw(brook_buf *b, const void *p, size_t n)
{
	if (n)
		brook_buf_append(b, p, n);
}

void cql_wr_string(brook_buf *b, cql_str s)
{
	size_t n = s.len > UINT16_MAX ? UINT16_MAX : s.len; /* see proto.h: clamped */
	cql_wr_short(b, (uint16_t)n);
	put_raw(b, s.ptr, n);
}

void cql_wr_cstring(brook_buf *b, const char *s)
{
	cql_wr_string(b, cql_str_from(s));
}

void cql_wr_long_string(brook_buf *b, cql_str s)
{
	cql_wr_int(b, (int32_t)s.len);
	put_raw(b, s.ptr, s.len);
}

void cql_wr_bytes(brook_buf *b, cql_bytes v)
{
	if (v.len < 0) {
		cql_wr_int(b, CQL_NULL);
		return;
	}
	cql_wr_int(b, v.len);
	put_raw(b, v.ptr, (size_t)v.len);
}

void cql_wr_value(brook_buf *b, cql_bytes v)
{
	if (v.len == CQL_UNSET) {
		cql_wr_int(b, CQL_UNSET);
		return;
	}
	cql_wr_bytes(b, v);
}

void cql_wr_short_bytes(brook_buf *b, cql_bytes v)
{
	size_t n = v.len > 0 ? (size_t)v.len : 0;
	if (n > UINT16_MAX)
		n = UINT16_MAX;
	cql_wr_short(b, (uint16_t)n);
	put_raw(b, v.ptr, n);
}

void cql_wr_uvint(brook_buf *b, uint64_t v)
{
	/* Bytes needed for the value's significant bits, then as many leading 1-bits in
	 * the first byte as there are extra bytes. */
	size_t extra = 0;
	while (extra < 8) {
		unsigned bits = 7 - (unsigned)extra + 8 * (unsigned)extra; /* capacity */
		if (bits >= 64 || (v >> bits) == 0)
			break;
		extra++;
	}
	uint8_t out[9];
	for (size_t i = extra; i > 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
	uint8_t prefix = (uint8_t)(0xFF00u >> extra);
	out[0] = extra == 8 ? 0xFF : (uint8_t)(prefix | (uint8_t)v);
	brook_buf_append(b, out, extra + 1);
}

void cql_wr_vint(brook_buf *b, int64_t v)
{
	cql_wr_uvint(b, brook_zigzag64(v));
}

void cql_wr_inetaddr(brook_buf *b, const cql_inet *in)
{
	cql_wr_byte(b, in->len);
	put_raw(b, in->addr, in->len);
}

void cql_wr_inet(brook_buf *b, const cql_inet *in)
{
	cql_wr_inetaddr(b, in);
	cql_wr_int(b, in->port);
}

void cql_wr_string_list(brook_buf *b, const cql_str_list *l)
{
	cql_wr_short(b, l->n);
	for (uint16_t i = 0; i < l->n; i++)
		cql_wr_string(b, l->items[i]);
}

void cql_wr_string_map(brook_buf *b, const cql_str_map *m)
{
	cql_wr_short(b, m->n);
	for (uint16_t i = 0; i < m->n; i++) {
		cql_wr_string(b, m->keys[i]);
		cql_wr_string(b, m->vals[i]);
	}
}

void cql_wr_multimap(brook_buf *b, const cql_multimap *m)
{
	cql_wr_short(b, m->n);
	for (uint16_t i = 0; i < m->n; i++) {
		cql_wr_string(b, m->keys[i]);
		cql_wr_string_list(b, &m->vals[i]);
	}
}

void cql_wr_bytes_map(brook_buf *b, const cql_bytes_map *m)
{
	cql_wr_short(b, m->n);
	for (uint16_t i = 0; i < m->n; i++) {
		cql_wr_string(b, m->keys[i]);
		cql_wr_bytes(b, m->vals[i]);
	}
}

size_t cql_wr_len_begin(brook_buf *b)
{
	size_t pos = b->len;
	cql_wr_int(b, 0);
	return pos;
}

void cql_wr_len_end(brook_buf *b, size_t pos)
{
	uint32_t n = (uint32_t)(b->len - pos - 4);
	uint8_t *p = (uint8_t *)b->data + pos;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
}
