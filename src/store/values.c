/*
 * values.c — CQL terms to serialized values of a column's type (see values.h for the
 * rules and messages).
 *
 * Design: conversion appends to one scratch brook_buf, recursing over the term and the
 * type together (terms are at most CQL_MAX_DEPTH deep, types CQL_TYPE_MAX_DEPTH, and the
 * recursion stops at whichever is shallower); only the final bytes are copied into the
 * caller's arena. Native literals are parsed by cql_value_from_text after the literal
 * kind has been checked against the type here, so the lenient text forms it accepts
 * (optional quotes) never widen what CQL itself accepts. Sets and maps are built as
 * element slices in a second scratch buffer, sorted with store_value_cmp, de-duplicated
 * and then written out. Bound values are validated first, so the normalizing pass over a
 * bound collection can trust its lengths.
 *
 * The v1 uuid clock: one process-wide atomic "last 100 ns tick". A call in the same
 * millisecond as the previous one takes the next tick; a clock that went backwards by a
 * millisecond or more changes the clock sequence instead (RFC 4122 section 4.1.5).
 */
#include "store/values.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/uuid.h"
#include "store/cql_parse.h"

#define MS_PER_DAY 86400000LL
#define UUID_EPOCH_OFFSET 0x01B21DD213814000ULL /* 100 ns ticks 1582-10-15 .. 1970-01-01 */

/* ---- v1 uuids ------------------------------------------------------------------ */

static pthread_once_t v1_once = PTHREAD_ONCE_INIT;
static uint8_t v1_node[6];
static atomic_uint v1_clockseq;
static atomic_uint_fast64_t v1_last;

static void v1_init(void)
{
	brook_uuid r;
	brook_uuid_v4(&r);
	memcpy(v1_node, r.b, 6);
	v1_node[0] |= 0x01; /* multicast bit: a random node, not a MAC address */
	atomic_store(&v1_clockseq, ((unsigned)r.b[8] << 8 | r.b[9]) & 0x3FFF);
}

void store_uuid_v1(int64_t now_ms, uint8_t out[16])
{
	pthread_once(&v1_once, v1_init);
	uint64_t ts = (uint64_t)now_ms * 10000u + UUID_EPOCH_OFFSET;
	uint_fast64_t prev = atomic_load(&v1_last);
	uint64_t want;
	for (;;) {
		if (prev >= ts && prev < ts + 9999)
			want = prev + 1; /* same millisecond: next tick */
		else
			want = ts;
		if (atomic_compare_exchange_weak(&v1_last, &prev, want))
			break;
	}
	if (prev >= ts + 9999) /* the clock went back (or the ms's ticks ran out) */
		atomic_fetch_add(&v1_clockseq, 1);
	unsigned cs = atomic_load(&v1_clockseq) & 0x3FFF;
	out[0] = (uint8_t)(want >> 24);
	out[1] = (uint8_t)(want >> 16);
	out[2] = (uint8_t)(want >> 8);
	out[3] = (uint8_t)want;
	out[4] = (uint8_t)(want >> 40);
	out[5] = (uint8_t)(want >> 32);
	out[6] = (uint8_t)(((want >> 56) & 0x0F) | 0x10);
	out[7] = (uint8_t)(want >> 48);
	out[8] = (uint8_t)(((cs >> 8) & 0x3F) | 0x80);
	out[9] = (uint8_t)cs;
	memcpy(out + 10, v1_node, 6);
}

static uint64_t v1_ticks(const uint8_t u[16])
{
	return (uint64_t)(u[6] & 0x0F) << 56 | (uint64_t)u[7] << 48 | (uint64_t)u[4] << 40 |
	       (uint64_t)u[5] << 32 | (uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 |
	       (uint64_t)u[2] << 8 | u[3];
}

int64_t store_uuid_v1_ms(const uint8_t u[16])
{
	int64_t t = (int64_t)(v1_ticks(u) - UUID_EPOCH_OFFSET);
	return t >= 0 ? t / 10000 : -((-t + 9999) / 10000);
}

/* ---- ordering -------------------------------------------------------------------- */

static int64_t be_s(const uint8_t *p, size_t n)
{
	uint64_t v = brook_be_get(p, n);
	if (n < 8 && (v >> (n * 8 - 1)) & 1)
		v |= ~(uint64_t)0 << (n * 8);
	return (int64_t)v;
}

/* Floats in Java's Double.compare order: the sign-flipped bit patterns. */
static uint64_t float_key(const uint8_t *p, size_t n)
{
	uint64_t v = brook_be_get(p, n), sign = (uint64_t)1 << (n * 8 - 1);
	return v & sign ? ~v & (sign | (sign - 1)) : v | sign;
}

int store_value_cmp(const cql_type *type, const uint8_t *x, size_t xn, const uint8_t *y,
		    size_t yn)
{
	if (xn == 0 || yn == 0)
		return (xn != 0) - (yn != 0); /* empty values first */
	switch (type->id) {
	case CQL_TYPE_TINYINT:
	case CQL_TYPE_SMALLINT:
	case CQL_TYPE_INT:
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
	case CQL_TYPE_TIMESTAMP:
	case CQL_TYPE_TIME:
		if (xn == yn && xn <= 8) {
			int64_t a = be_s(x, xn), b = be_s(y, yn);
			return a < b ? -1 : a > b;
		}
		break;
	case CQL_TYPE_FLOAT:
	case CQL_TYPE_DOUBLE:
		if (xn == yn && (xn == 4 || xn == 8)) {
			uint64_t a = float_key(x, xn), b = float_key(y, yn);
			return a < b ? -1 : a > b;
		}
		break;
	case CQL_TYPE_VARINT: {
		bool xneg = x[0] & 0x80, yneg = y[0] & 0x80;
		if (xneg != yneg)
			return xneg ? -1 : 1;
		if (xn != yn)
			return (xn < yn) == !xneg ? -1 : 1;
		return memcmp(x, y, xn);
	}
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID:
		if (xn == 16 && yn == 16) {
			int xv = x[6] >> 4, yv = y[6] >> 4;
			if (xv != yv)
				return xv < yv ? -1 : 1;
			if (xv == 1) {
				uint64_t a = v1_ticks(x), b = v1_ticks(y);
				if (a != b)
					return a < b ? -1 : 1;
			}
		}
		break;
	default:
		break;
	}
	return brook_bytes_cmp(x, xn, y, yn);
}

/* ---- conversion state -------------------------------------------------------------- */

typedef struct conv {
	const cql_bytes *binds;
	size_t n_binds;
	int64_t now_ms;
	char *err;
	size_t errlen;
} conv;

static const uint8_t empty_bytes[1];

static void type_name(const cql_type *t, char *out, size_t n)
{
	brook_buf b = BROOK_BUF_INIT;
	cql_type_print(&b, t);
	snprintf(out, n, "%s", b.data ? b.data : "?");
	brook_buf_release(&b);
}

static bool is_coll(const cql_type *t)
{
	return t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET || t->id == CQL_TYPE_MAP;
}

/* A slice of a scratch buffer (offsets: the buffer may move while it grows). */
typedef struct slice {
	size_t off, len;   /* the element (set) or key (map) */
	size_t voff, vlen; /* map value */
	size_t idx;        /* position written, for last-wins */
} slice;

typedef struct sort_ctx {
	const cql_type *t;
	const uint8_t *base;
} sort_ctx;

static int slice_cmp(const void *a, const void *b, void *arg)
{
	const sort_ctx *c = arg;
	const slice *x = a, *y = b;
	int r = store_value_cmp(c->t, c->base + x->off, x->len, c->base + y->off, y->len);
	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts n slices of scratch by element (set) or key (map) and writes the count and the
 * de-duplicated elements (maps: the last value for a repeated key) to b. */
static void write_sorted(brook_buf *b, const cql_type *key_t, bool map, slice *s, size_t n,
			 const brook_buf *scratch)
{
	/* never NULL + offset, even when every element is empty */
	sort_ctx ctx = {key_t, scratch->data ? (const uint8_t *)scratch->data : empty_bytes};
	if (n > 1)
		qsort_r(s, n, sizeof(*s), slice_cmp, &ctx);
	size_t count_pos = b->len;
	cql_wr_int(b, 0);
	int32_t count = 0;
	for (size_t i = 0; i < n; i++) {
		/* keep the last of a run of equal keys */
		if (i + 1 < n && store_value_cmp(key_t, ctx.base + s[i].off, s[i].len,
						 ctx.base + s[i + 1].off, s[i + 1].len) == 0)
			continue;
		cql_wr_int(b, (int32_t)s[i].len);
		brook_buf_append(b, ctx.base + s[i].off, s[i].len);
		if (map) {
			cql_wr_int(b, (int32_t)s[i].vlen);
			brook_buf_append(b, ctx.base + s[i].voff, s[i].vlen);
		}
		count++;
	}
	uint8_t *c = (uint8_t *)b->data + count_pos;
	c[0] = (uint8_t)((uint32_t)count >> 24);
	c[1] = (uint8_t)((uint32_t)count >> 16);
	c[2] = (uint8_t)((uint32_t)count >> 8);
	c[3] = (uint8_t)count;
}

/* ---- bound collections: re-serialize with sets and maps in order ------------------- */

static void normalize(const cql_type *t, const uint8_t *p, size_t n, brook_buf *b);

static void normalize_coll(const cql_type *t, const uint8_t *p, size_t n, brook_buf *b)
{
	uint32_t count = (uint32_t)brook_be_get(p, 4);
	size_t at = 4;
	bool map = t->id == CQL_TYPE_MAP;
	if (t->id == CQL_TYPE_LIST) {
		cql_wr_int(b, (int32_t)count);
		for (uint32_t i = 0; i < count; i++) {
			size_t len = (size_t)brook_be_get(p + at, 4);
			at += 4;
			size_t pos = cql_wr_len_begin(b);
			normalize(t->sub[0], p + at, len, b);
			cql_wr_len_end(b, pos);
			at += len;
		}
		return;
	}
	brook_buf scratch = BROOK_BUF_INIT;
	slice *s = count ? brook_calloc(count, sizeof(*s)) : NULL;
	for (uint32_t i = 0; i < count; i++) {
		size_t len = (size_t)brook_be_get(p + at, 4);
		at += 4;
		s[i].idx = i;
		s[i].off = scratch.len;
		normalize(t->sub[0], p + at, len, &scratch);
		s[i].len = scratch.len - s[i].off;
		at += len;
		if (map) {
			len = (size_t)brook_be_get(p + at, 4);
			at += 4;
			s[i].voff = scratch.len;
			normalize(t->sub[1], p + at, len, &scratch);
			s[i].vlen = scratch.len - s[i].voff;
			at += len;
		}
	}
	(void)n;
	write_sorted(b, t->sub[0], map, s, count, &scratch);
	free(s);
	brook_buf_release(&scratch);
}

/* p[0..n) has been validated against t. */
static void normalize(const cql_type *t, const uint8_t *p, size_t n, brook_buf *b)
{
	if (is_coll(t) && n >= 4) {
		normalize_coll(t, p, n, b);
	} else if (t->id == CQL_TYPE_TUPLE) {
		size_t at = 0;
		for (uint16_t i = 0; i < t->n && at + 4 <= n; i++) {
			int32_t len = (int32_t)brook_be_get(p + at, 4);
			at += 4;
			if (len < 0) {
				cql_wr_int(b, len);
				continue;
			}
			size_t pos = cql_wr_len_begin(b);
			normalize(t->sub[i], p + at, (size_t)len, b);
			cql_wr_len_end(b, pos);
			at += (size_t)len;
		}
	} else if (n) {
		brook_buf_append(b, p, n);
	}
}

/* ---- literals -------------------------------------------------------------------- */

static int conv_term(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, store_value_kind *kind, int depth);

static const char *java_name(uint16_t id)
{
	switch (id) {
	case CQL_TYPE_TINYINT: return "byte";
	case CQL_TYPE_SMALLINT: return "short";
	case CQL_TYPE_INT: return "int";
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER: return "long";
	case CQL_TYPE_VARINT: return "varint";
	case CQL_TYPE_FLOAT: return "float";
	case CQL_TYPE_DOUBLE: return "double";
	case CQL_TYPE_DECIMAL: return "BigDecimal";
	case CQL_TYPE_UUID: return "UUID";
	case CQL_TYPE_TIMEUUID: return "TimeUUID";
	case CQL_TYPE_INET: return "inet address";
	default: return "value";
	}
}

static bool kind_fits(cql_term_kind k, uint16_t id)
{
	switch (k) {
	case CQL_TERM_BOOL:
		return id == CQL_TYPE_BOOLEAN;
	case CQL_TERM_INT:
		return id == CQL_TYPE_TINYINT || id == CQL_TYPE_SMALLINT || id == CQL_TYPE_INT ||
		       id == CQL_TYPE_BIGINT || id == CQL_TYPE_COUNTER || id == CQL_TYPE_VARINT ||
		       id == CQL_TYPE_FLOAT || id == CQL_TYPE_DOUBLE || id == CQL_TYPE_DECIMAL ||
		       id == CQL_TYPE_TIMESTAMP || id == CQL_TYPE_DATE || id == CQL_TYPE_TIME;
	case CQL_TERM_FLOAT:
		return id == CQL_TYPE_FLOAT || id == CQL_TYPE_DOUBLE || id == CQL_TYPE_DECIMAL;
	case CQL_TERM_STRING:
		return id == CQL_TYPE_ASCII || id == CQL_TYPE_VARCHAR || id == CQL_TYPE_TIMESTAMP ||
		       id == CQL_TYPE_DATE || id == CQL_TYPE_TIME || id == CQL_TYPE_INET;
	case CQL_TERM_UUID:
		return id == CQL_TYPE_UUID || id == CQL_TYPE_TIMEUUID;
	case CQL_TERM_BLOB:
		return id == CQL_TYPE_BLOB;
	default:
		return false;
	}
}

static const char *kind_name(cql_term_kind k)
{
	switch (k) {
	case CQL_TERM_BOOL: return "BOOLEAN";
	case CQL_TERM_INT: return "INTEGER";
	case CQL_TERM_FLOAT: return "FLOAT";
	case CQL_TERM_STRING: return "STRING";
	case CQL_TERM_UUID: return "UUID";
	case CQL_TERM_BLOB: return "HEX";
	default: return "?";
	}
}

static int conv_native(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		       brook_buf *b)
{
	const char *txt = term->text ? term->text : "";
	size_t len = term->text ? term->len : 0;
	if (term->kind == CQL_TERM_BOOL) {
		txt = term->b ? "true" : "false";
		len = strlen(txt);
	}
	if (!kind_fits(term->kind, t->id)) {
		char tn[128];
		type_name(t, tn, sizeof tn);
		snprintf(c->err, c->errlen, "Invalid %s constant (%s%.*s) for \"%s\" of type %s",
			 kind_name(term->kind), term->kind == CQL_TERM_BLOB ? "0x" : "",
			 (int)(len > 100 ? 100 : len), txt, recv, tn);
		return BROOK_ERR;
	}
	size_t start = b->len;
	char msg[256];
	switch (term->kind) {
	case CQL_TERM_BOOL:
		brook_buf_putc(b, term->b ? 1 : 0);
		return BROOK_OK;
	case CQL_TERM_BLOB:
		if (len % 2) {
			snprintf(c->err, c->errlen,
				 "Invalid hex string: 0x%.*s (an odd number of digits)",
				 (int)(len > 100 ? 100 : len), txt);
			return BROOK_ERR;
		}
		for (size_t i = 0; i < len; i += 2) {
			int hi = brook_hexval(txt[i]), lo = brook_hexval(txt[i + 1]);
			if (hi < 0 || lo < 0) {
				brook_buf_truncate(b, start);
				snprintf(c->err, c->errlen, "Invalid hex string: 0x%.*s",
					 (int)(len > 100 ? 100 : len), txt);
				return BROOK_ERR;
			}
			brook_buf_putc(b, (char)(hi << 4 | lo));
		}
		return BROOK_OK;
	case CQL_TERM_STRING:
		if (t->id == CQL_TYPE_ASCII || t->id == CQL_TYPE_VARCHAR) {
			if (len)
				brook_buf_append(b, txt, len);
			const uint8_t *v = len ? (const uint8_t *)b->data + start : empty_bytes;
			if (cql_value_validate(t, v, len, msg, sizeof msg) != BROOK_OK) {
				brook_buf_truncate(b, start);
				snprintf(c->err, c->errlen, "Invalid %s string for \"%s\": %s",
					 t->id == CQL_TYPE_ASCII ? "ASCII" : "UTF-8", recv, msg);
				return BROOK_ERR;
			}
			return BROOK_OK;
		}
		/* timestamp, date, time, inet: the text between the quotes only */
		if (len == 0 || memchr(txt, '\'', len) || memchr(txt, '\0', len) ||
		    txt[0] == ' ' || txt[len - 1] == ' ' ||
		    cql_value_from_text(t, txt, len, b, msg, sizeof msg) != BROOK_OK) {
			const char *what = t->id == CQL_TYPE_TIME ? "a formatted time (long)"
					   : t->id == CQL_TYPE_INET ? "an inet address"
								    : "a formatted date (long)";
			snprintf(c->err, c->errlen, "Unable to coerce '%.*s' to %s",
				 (int)(len > 100 ? 100 : len), txt, what);
			return BROOK_ERR;
		}
		return BROOK_OK;
	default: /* INT, FLOAT, UUID */
		if (len == 0 || memchr(txt, '\0', len) ||
		    cql_value_from_text(t, txt, len, b, msg, sizeof msg) != BROOK_OK) {
			if (t->id == CQL_TYPE_TIMEUUID && term->kind == CQL_TERM_UUID)
				snprintf(c->err, c->errlen,
					 "Invalid UUID constant (%.*s) for \"%s\" of type "
					 "timeuuid: TimeUUID supports only version 1 UUIDs",
					 (int)(len > 100 ? 100 : len), txt, recv);
			else if (t->id == CQL_TYPE_TIMESTAMP || t->id == CQL_TYPE_DATE)
				snprintf(c->err, c->errlen,
					 "Unable to coerce '%.*s' to a formatted date (long)",
					 (int)(len > 100 ? 100 : len), txt);
			else if (t->id == CQL_TYPE_TIME)
				snprintf(c->err, c->errlen,
					 "Unable to coerce '%.*s' to a formatted time (long)",
					 (int)(len > 100 ? 100 : len), txt);
			else
				snprintf(c->err, c->errlen, "Unable to make %s from '%.*s'",
					 java_name(t->id), (int)(len > 100 ? 100 : len), txt);
			return BROOK_ERR;
		}
		return BROOK_OK;
	}
}

/* ---- functions and casts --------------------------------------------------------------- */

static bool fn_is(const cql_term *t, const char *name, size_t nargs)
{
	return t->kind == CQL_TERM_FUNC && t->text && strcasecmp(t->text, name) == 0 &&
	       t->n == nargs;
}

static int64_t floor_div(int64_t a, int64_t d)
{
	return a >= 0 ? a / d : -((-a + d - 1) / d);
}

static int conv_func(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, int depth)
{
	uint16_t rtype;
	const char *name = term->text ? term->text : "";
	uint8_t u[16];
	int64_t ms = c->now_ms;
	brook_buf tmp = BROOK_BUF_INIT;
	if (fn_is(term, "now", 0) || fn_is(term, "currenttimeuuid", 0)) {
		rtype = CQL_TYPE_TIMEUUID;
	} else if (fn_is(term, "uuid", 0)) {
		rtype = CQL_TYPE_UUID;
	} else if (fn_is(term, "currenttimestamp", 0)) {
		rtype = CQL_TYPE_TIMESTAMP;
	} else if (fn_is(term, "currentdate", 0)) {
		rtype = CQL_TYPE_DATE;
	} else if (fn_is(term, "currenttime", 0)) {
		rtype = CQL_TYPE_TIME;
	} else if (fn_is(term, "totimestamp", 1) || fn_is(term, "todate", 1) ||
		   fn_is(term, "tounixtimestamp", 1)) {
		rtype = name[2] == 'd' ? CQL_TYPE_DATE
			: name[2] == 'u' ? CQL_TYPE_BIGINT : CQL_TYPE_TIMESTAMP;
		/* the argument: a timeuuid (now(), a literal, a marker) */
		store_value_kind k = STORE_VALUE_SET;
		char arecv[160];
		snprintf(arecv, sizeof arecv, "%s(%s)", name, recv);
		if (conv_term(c, cql_type_native(CQL_TYPE_TIMEUUID), arecv, term->items[0], &tmp,
			      &k, depth + 1) != BROOK_OK) {
			brook_buf_release(&tmp);
			return BROOK_ERR;
		}
		if (k != STORE_VALUE_SET || tmp.len != 16) {
			brook_buf_release(&tmp);
			snprintf(c->err, c->errlen, "Invalid null or empty argument to %s", name);
			return BROOK_ERR;
		}
		ms = store_uuid_v1_ms((const uint8_t *)tmp.data);
		brook_buf_release(&tmp);
	} else {
		snprintf(c->err, c->errlen, "Unknown function %s called with %zu arguments", name,
			 term->n);
		return BROOK_ERR;
	}
	if (rtype != t->id && !(rtype == CQL_TYPE_TIMEUUID && t->id == CQL_TYPE_UUID)) {
		char tn[128], rn[32];
		type_name(t, tn, sizeof tn);
		type_name(cql_type_native(rtype), rn, sizeof rn);
		snprintf(c->err, c->errlen,
			 "Type error: cannot assign result of function system.%s (type %s) to %s "
			 "(type %s)",
			 name, rn, recv, tn);
		return BROOK_ERR;
	}
	switch (rtype) {
	case CQL_TYPE_TIMEUUID:
		store_uuid_v1(ms, u);
		brook_buf_append(b, u, 16);
		break;
	case CQL_TYPE_UUID: {
		brook_uuid id;
		brook_uuid_v4(&id);
		brook_buf_append(b, id.b, 16);
		break;
	}
	case CQL_TYPE_DATE:
		brook_buf_put_be(b, cql_date_from_days(floor_div(ms, MS_PER_DAY)), 4);
		break;
	case CQL_TYPE_TIME:
		brook_buf_put_be(
		    b, (uint64_t)((ms - floor_div(ms, MS_PER_DAY) * MS_PER_DAY) * 1000000), 8);
		break;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_TIMESTAMP:
		brook_buf_put_be(b, (uint64_t)ms, 8);
		break;
	}
	return BROOK_OK;
}

static uint16_t ast_native_id(cql_ast_type_kind k)
{
	switch (k) {
	case CQL_AST_TYPE_ASCII: return CQL_TYPE_ASCII;
	case CQL_AST_TYPE_BIGINT: return CQL_TYPE_BIGINT;
	case CQL_AST_TYPE_BLOB: return CQL_TYPE_BLOB;
	case CQL_AST_TYPE_BOOLEAN: return CQL_TYPE_BOOLEAN;
	case CQL_AST_TYPE_COUNTER: return CQL_TYPE_COUNTER;
	case CQL_AST_TYPE_DATE: return CQL_TYPE_DATE;
	case CQL_AST_TYPE_DECIMAL: return CQL_TYPE_DECIMAL;
	case CQL_AST_TYPE_DOUBLE: return CQL_TYPE_DOUBLE;
	case CQL_AST_TYPE_FLOAT: return CQL_TYPE_FLOAT;
	case CQL_AST_TYPE_INET: return CQL_TYPE_INET;
	case CQL_AST_TYPE_INT: return CQL_TYPE_INT;
	case CQL_AST_TYPE_SMALLINT: return CQL_TYPE_SMALLINT;
	case CQL_AST_TYPE_TEXT: return CQL_TYPE_VARCHAR;
	case CQL_AST_TYPE_TIME: return CQL_TYPE_TIME;
	case CQL_AST_TYPE_TIMESTAMP: return CQL_TYPE_TIMESTAMP;
	case CQL_AST_TYPE_TIMEUUID: return CQL_TYPE_TIMEUUID;
	case CQL_AST_TYPE_TINYINT: return CQL_TYPE_TINYINT;
	case CQL_AST_TYPE_UUID: return CQL_TYPE_UUID;
	case CQL_AST_TYPE_VARINT: return CQL_TYPE_VARINT;
	default: return 0xFFFF; /* collections, tuples, UDTs: not supported as casts */
	}
}

static int conv_cast(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, store_value_kind *kind, int depth)
{
	uint16_t id = term->cast ? ast_native_id(term->cast->kind) : 0xFFFF;
	char tn[128];
	type_name(t, tn, sizeof tn);
	if (id == 0xFFFF || term->n != 1) {
		snprintf(c->err, c->errlen, "Unsupported type cast for %s of type %s", recv, tn);
		return BROOK_ERR;
	}
	if (id != t->id) {
		char cn[32];
		type_name(cql_type_native(id), cn, sizeof cn);
		snprintf(c->err, c->errlen, "Cannot assign value of type %s to %s of type %s", cn,
			 recv, tn);
		return BROOK_ERR;
	}
	return conv_term(c, t, recv, term->items[0], b, kind, depth + 1);
}

/* ---- bind markers ------------------------------------------------------------------- */

static int conv_bind(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, store_value_kind *kind)
{
	if (term->bind_index < 0 || (size_t)term->bind_index >= c->n_binds) {
		snprintf(c->err, c->errlen,
			 "There were %zu bound variables but the marker for %s is number %d",
			 c->n_binds, recv, term->bind_index + 1);
		return BROOK_ERR;
	}
	cql_bytes v = c->binds[term->bind_index];
	if (v.len == CQL_NULL) {
		*kind = STORE_VALUE_NULL;
		return BROOK_OK;
	}
	if (v.len == CQL_UNSET) {
		*kind = STORE_VALUE_UNSET;
		return BROOK_OK;
	}
	if (v.len < 0) {
		snprintf(c->err, c->errlen, "Invalid bound value length (%d) for %s", (int)v.len,
			 recv);
		return BROOK_ERR;
	}
	const uint8_t *p = v.len ? v.ptr : empty_bytes;
	if (cql_value_validate(t, p, (size_t)v.len, c->err, c->errlen) != BROOK_OK)
		return BROOK_ERR;
	normalize(t, p, (size_t)v.len, b);
	*kind = STORE_VALUE_SET;
	return BROOK_OK;
}

/* ---- collections and tuples --------------------------------------------------------- */

/* One element of a collection: a value (null or unset is an error) appended to b. */
static int conv_elem(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, int depth)
{
	store_value_kind k = STORE_VALUE_SET;
	if (conv_term(c, t, recv, term, b, &k, depth + 1) != BROOK_OK)
		return BROOK_ERR;
	if (k == STORE_VALUE_NULL) {
		snprintf(c->err, c->errlen, "null is not supported inside collections");
		return BROOK_ERR;
	}
	if (k == STORE_VALUE_UNSET) {
		snprintf(c->err, c->errlen, "unset value is not supported inside collections");
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int conv_coll(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, int depth)
{
	char tn[128], erecv[160], vrecv[160];
	type_name(t, tn, sizeof tn);
	const char *lit = term->kind == CQL_TERM_LIST ? "list"
			  : term->kind == CQL_TERM_SET ? "set"
			  : term->kind == CQL_TERM_MAP ? "map" : "tuple";
	uint16_t want = term->kind == CQL_TERM_LIST ? CQL_TYPE_LIST
			: term->kind == CQL_TERM_SET ? CQL_TYPE_SET
			: term->kind == CQL_TERM_MAP ? CQL_TYPE_MAP : CQL_TYPE_TUPLE;
	if (term->kind == CQL_TERM_MAP && term->n == 0 && t->id == CQL_TYPE_SET)
		want = CQL_TYPE_SET; /* {} is also the empty set */
	if (t->id != want) {
		snprintf(c->err, c->errlen, "Invalid %s literal for %s of type %s", lit, recv, tn);
		return BROOK_ERR;
	}
	if (t->id == CQL_TYPE_TUPLE) {
		if (term->n > t->n) {
			snprintf(c->err, c->errlen,
				 "Invalid tuple literal for %s: too many elements. Type %s expects "
				 "%u but got %zu",
				 recv, tn, t->n, term->n);
			return BROOK_ERR;
		}
		for (size_t i = 0; i < term->n; i++) {
			store_value_kind k = STORE_VALUE_SET;
			snprintf(erecv, sizeof erecv, "component %zu of %s", i, recv);
			size_t pos = cql_wr_len_begin(b);
			if (conv_term(c, t->sub[i], erecv, term->items[i], b, &k, depth + 1) !=
			    BROOK_OK)
				return BROOK_ERR;
			if (k == STORE_VALUE_UNSET) {
				snprintf(c->err, c->errlen, "Invalid unset value for %s", erecv);
				return BROOK_ERR;
			}
			if (k == STORE_VALUE_NULL) {
				brook_buf_truncate(b, pos);
				cql_wr_int(b, CQL_NULL);
			} else {
				cql_wr_len_end(b, pos);
			}
		}
		return BROOK_OK;
	}
	snprintf(erecv, sizeof erecv, "%s(%s)", t->id == CQL_TYPE_MAP ? "key" : "value", recv);
	snprintf(vrecv, sizeof vrecv, "value(%s)", recv);
	if (t->id == CQL_TYPE_LIST) {
		cql_wr_int(b, (int32_t)term->n);
		for (size_t i = 0; i < term->n; i++) {
			size_t pos = cql_wr_len_begin(b);
			if (conv_elem(c, t->sub[0], erecv, term->items[i], b, depth) != BROOK_OK)
				return BROOK_ERR;
			cql_wr_len_end(b, pos);
		}
		return BROOK_OK;
	}
	bool map = t->id == CQL_TYPE_MAP;
	size_t n = map ? term->n / 2 : term->n;
	slice *s = n ? brook_calloc(n, sizeof(*s)) : NULL;
	brook_buf scratch = BROOK_BUF_INIT;
	int rc = BROOK_OK;
	for (size_t i = 0; i < n && rc == BROOK_OK; i++) {
		const cql_term *kt = map ? term->items[2 * i] : term->items[i];
		s[i].idx = i;
		s[i].off = scratch.len;
		rc = conv_elem(c, t->sub[0], erecv, kt, &scratch, depth);
		s[i].len = scratch.len - s[i].off;
		if (rc == BROOK_OK && map) {
			s[i].voff = scratch.len;
			rc = conv_elem(c, t->sub[1], vrecv, term->items[2 * i + 1], &scratch,
				       depth);
			s[i].vlen = scratch.len - s[i].voff;
		}
	}
	if (rc == BROOK_OK)
		write_sorted(b, t->sub[0], map, s, n, &scratch);
	free(s);
	brook_buf_release(&scratch);
	return rc;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static int conv_term(conv *c, const cql_type *t, const char *recv, const cql_term *term,
		     brook_buf *b, store_value_kind *kind, int depth)
{
	*kind = STORE_VALUE_SET;
	if (depth > CQL_MAX_DEPTH + CQL_TYPE_MAX_DEPTH) {
		snprintf(c->err, c->errlen, "Value for %s is nested too deeply", recv);
		return BROOK_ERR;
	}
	switch (term->kind) {
	case CQL_TERM_NULL:
		*kind = STORE_VALUE_NULL;
		return BROOK_OK;
	case CQL_TERM_BIND:
		return conv_bind(c, t, recv, term, b, kind);
	case CQL_TERM_FUNC:
		return conv_func(c, t, recv, term, b, depth);
	case CQL_TERM_CAST:
		return conv_cast(c, t, recv, term, b, kind, depth);
	case CQL_TERM_LIST:
	case CQL_TERM_SET:
	case CQL_TERM_MAP:
	case CQL_TERM_TUPLE:
		return conv_coll(c, t, recv, term, b, depth);
	default:
		break;
	}
	if (is_coll(t) || t->id == CQL_TYPE_TUPLE || !cql_type_is_native(t->id)) {
		char tn[128];
		type_name(t, tn, sizeof tn);
		const char *txt = term->kind == CQL_TERM_BOOL ? (term->b ? "true" : "false")
				  : term->text ? term->text : "";
		snprintf(c->err, c->errlen, "Invalid %s constant (%s%.*s) for \"%s\" of type %s",
			 kind_name(term->kind), term->kind == CQL_TERM_BLOB ? "0x" : "",
			 (int)(strlen(txt) > 100 ? 100 : strlen(txt)), txt, recv, tn);
		return BROOK_ERR;
	}
	return conv_native(c, t, recv, term, b);
}

int store_value_from_term(const cql_type *type, const char *col, const cql_term *term,
			  const cql_bytes *binds, size_t n_binds, int64_t now_ms, brook_arena *a,
			  store_value *out, char *err, size_t errlen)
{
	conv c = {binds, n_binds, now_ms, err, errlen};
	const char *recv = col ? col : "?";
	out->kind = STORE_VALUE_NULL;
	out->ptr = NULL;
	out->len = 0;
	/* Zero-copy for bound natives: validation is all they need. */
	if (term->kind == CQL_TERM_BIND && cql_type_is_native(type->id) &&
	    term->bind_index >= 0 && (size_t)term->bind_index < n_binds &&
	    binds[term->bind_index].len >= 0) {
		cql_bytes v = binds[term->bind_index];
		const uint8_t *p = v.len ? v.ptr : empty_bytes;
		if (cql_value_validate(type, p, (size_t)v.len, err, errlen) != BROOK_OK)
			return BROOK_ERR;
		out->kind = STORE_VALUE_SET;
		out->ptr = p;
		out->len = (size_t)v.len;
		return BROOK_OK;
	}
	brook_buf b = BROOK_BUF_INIT;
	store_value_kind k = STORE_VALUE_SET;
	if (conv_term(&c, type, recv, term, &b, &k, 0) != BROOK_OK) {
		brook_buf_release(&b);
		return BROOK_ERR;
	}
	out->kind = k;
	if (k == STORE_VALUE_SET) {
		if (b.len) {
			uint8_t *p = brook_arena_alloc(a, b.len);
			memcpy(p, b.data, b.len);
			out->ptr = p;
		} else {
			out->ptr = empty_bytes;
		}
		out->len = b.len;
	}
	brook_buf_release(&b);
	return BROOK_OK;
}
