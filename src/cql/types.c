/*
 * types.c — CQL type trees, type names and serialized values (see types.h).
 *
 * Recursion (option decoding, name parsing, validation, printing) is bounded by the
 * depth of the type, which every constructor here limits to CQL_TYPE_MAX_DEPTH; a value
 * is walked once per level of its type, so validation is linear in the value's size.
 */
#include "cql/types.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "core/uuid.h"

/* ---- native types ---------------------------------------------------------------- */

typedef struct native_info {
	uint16_t id;
	const char *name; /* canonical */
	int width;        /* fixed serialized width, 0 for variable */
} native_info;

static const native_info natives[] = {
	{CQL_TYPE_ASCII, "ascii", 0},     {CQL_TYPE_BIGINT, "bigint", 8},
	{CQL_TYPE_BLOB, "blob", 0},       {CQL_TYPE_BOOLEAN, "boolean", 1},
	{CQL_TYPE_COUNTER, "counter", 8}, {CQL_TYPE_DECIMAL, "decimal", 0},
	{CQL_TYPE_DOUBLE, "double", 8},   {CQL_TYPE_FLOAT, "float", 4},
	{CQL_TYPE_INT, "int", 4},         {CQL_TYPE_TIMESTAMP, "timestamp", 8},
	{CQL_TYPE_UUID, "uuid", 16},      {CQL_TYPE_VARCHAR, "text", 0},
	{CQL_TYPE_VARINT, "varint", 0},   {CQL_TYPE_TIMEUUID, "timeuuid", 16},
	{CQL_TYPE_INET, "inet", 0},       {CQL_TYPE_DATE, "date", 4},
	{CQL_TYPE_TIME, "time", 8},       {CQL_TYPE_SMALLINT, "smallint", 2},
	{CQL_TYPE_TINYINT, "tinyint", 1},
};
#define N_NATIVES (sizeof natives / sizeof natives[0])

static const native_info *native_lookup(uint16_t id)
{
	for (size_t i = 0; i < N_NATIVES; i++)
		if (natives[i].id == id)
			return &natives[i];
	return NULL;
}

/* One static leaf per id up to tinyint (0x14); unused slots stay unused. */
static const cql_type leaves[CQL_TYPE_TINYINT + 1] = {
#define LEAF(x) [x] = {.id = x}
	LEAF(CQL_TYPE_ASCII),     LEAF(CQL_TYPE_BIGINT),   LEAF(CQL_TYPE_BLOB),
	LEAF(CQL_TYPE_BOOLEAN),   LEAF(CQL_TYPE_COUNTER),  LEAF(CQL_TYPE_DECIMAL),
	LEAF(CQL_TYPE_DOUBLE),    LEAF(CQL_TYPE_FLOAT),    LEAF(CQL_TYPE_INT),
	LEAF(CQL_TYPE_TIMESTAMP), LEAF(CQL_TYPE_UUID),     LEAF(CQL_TYPE_VARCHAR),
	LEAF(CQL_TYPE_VARINT),    LEAF(CQL_TYPE_TIMEUUID), LEAF(CQL_TYPE_INET),
	LEAF(CQL_TYPE_DATE),      LEAF(CQL_TYPE_TIME),     LEAF(CQL_TYPE_SMALLINT),
	LEAF(CQL_TYPE_TINYINT),
#undef LEAF
};

bool cql_type_is_native(uint16_t id)
{
	return native_lookup(id) != NULL;
}

const cql_type *cql_type_native(uint16_t id)
{
	return cql_type_is_native(id) ? &leaves[id] : NULL;
}

const cql_type *cql_type_collection(brook_arena *a, uint16_t id, const cql_type *k,
				    const cql_type *v)
{
	cql_type *t = brook_arena_calloc(a, sizeof *t);
	t->id = id;
	t->n = id == CQL_TYPE_MAP ? 2 : 1;
	t->sub = brook_arena_alloc(a, t->n * sizeof *t->sub);
	t->sub[0] = k;
	if (id == CQL_TYPE_MAP)
		t->sub[1] = v;
	return t;
}

static bool str_same(cql_str x, cql_str y)
{
	return x.len == y.len && (x.len == 0 || memcmp(x.ptr, y.ptr, x.len) == 0);
}

bool cql_type_equal(const cql_type *x, const cql_type *y)
{
	if (x->id != y->id || x->n != y->n)
		return false;
	if (x->id == CQL_TYPE_CUSTOM || x->id == CQL_TYPE_UDT) {
		if (!str_same(x->custom, y->custom) || !str_same(x->udt_name, y->udt_name))
			return false;
	}
	for (uint16_t i = 0; i < x->n; i++) {
		if (!cql_type_equal(x->sub[i], y->sub[i]))
			return false;
		if (x->id == CQL_TYPE_UDT && !str_same(x->field_names[i], y->field_names[i]))
			return false;
	}
	return true;
}

/* ---- [option] ------------------------------------------------------------------ */

static const cql_type *read_option(cql_rd *rd, brook_arena *a, int depth)
{
	size_t at = cql_rd_pos(rd);
	uint16_t id = cql_rd_short(rd);
	if (rd->failed)
		return NULL;
	if (cql_type_is_native(id))
		return &leaves[id];
	if (depth >= CQL_TYPE_MAX_DEPTH) {
		cql_rd_fail(rd, "type option at byte %zu nests deeper than %d", at,
			    CQL_TYPE_MAX_DEPTH);
		return NULL;
	}
	cql_type *t = brook_arena_calloc(a, sizeof *t);
	t->id = id;
	switch (id) {
	case CQL_TYPE_CUSTOM:
		t->custom = cql_rd_string(rd);
		break;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
	case CQL_TYPE_MAP:
		t->n = id == CQL_TYPE_MAP ? 2 : 1;
		t->sub = brook_arena_alloc(a, t->n * sizeof *t->sub);
		for (uint16_t i = 0; i < t->n; i++)
			t->sub[i] = read_option(rd, a, depth + 1);
		break;
	case CQL_TYPE_UDT:
		t->custom = cql_rd_string(rd);
		t->udt_name = cql_rd_string(rd);
		/* fallthrough */
	case CQL_TYPE_TUPLE: {
		size_t min = id == CQL_TYPE_UDT ? 4 : 2;
		t->n = (uint16_t)cql_rd_count(rd, cql_rd_short(rd), min, "type fields");
		t->sub = t->n ? brook_arena_alloc(a, t->n * sizeof *t->sub) : NULL;
		if (id == CQL_TYPE_UDT)
			t->field_names = t->n ? brook_arena_alloc(a, t->n * sizeof(cql_str)) : NULL;
		for (uint16_t i = 0; i < t->n; i++) {
			if (id == CQL_TYPE_UDT)
				t->field_names[i] = cql_rd_string(rd);
			t->sub[i] = read_option(rd, a, depth + 1);
		}
		break;
	}
	default:
		cql_rd_fail(rd, "unknown type option id 0x%04x at byte %zu", id, at);
		return NULL;
	}
	return rd->failed ? NULL : t;
}

const cql_type *cql_type_read(cql_rd *rd, brook_arena *a)
{
	return read_option(rd, a, 0);
}

void cql_type_write(brook_buf *b, const cql_type *t)
{
	cql_wr_short(b, t->id);
	switch (t->id) {
	case CQL_TYPE_CUSTOM:
		cql_wr_string(b, t->custom);
		break;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
	case CQL_TYPE_MAP:
		for (uint16_t i = 0; i < t->n; i++)
			cql_type_write(b, t->sub[i]);
		break;
	case CQL_TYPE_UDT:
		cql_wr_string(b, t->custom);
		cql_wr_string(b, t->udt_name);
		/* fallthrough */
	case CQL_TYPE_TUPLE:
		cql_wr_short(b, t->n);
		for (uint16_t i = 0; i < t->n; i++) {
			if (t->id == CQL_TYPE_UDT)
				cql_wr_string(b, t->field_names[i]);
			cql_type_write(b, t->sub[i]);
		}
		break;
	default:
		break;
	}
}

/* ---- type names ----------------------------------------------------------------- */

typedef struct tparser {
	const char *s, *end, *start;
	brook_arena *a;
	char *err;
	size_t errlen;
	bool failed;
} tparser;

static void tp_fail(tparser *tp, const char *what)
{
	if (tp->failed)
		return;
	tp->failed = true;
	snprintf(tp->err, tp->errlen, "%s at character %zu of type name", what,
		 (size_t)(tp->s - tp->start) + 1);
}

static void tp_blank(tparser *tp)
{
	while (tp->s < tp->end && isspace((unsigned char)*tp->s))
		tp->s++;
}

static bool tp_punct(tparser *tp, char c)
{
	tp_blank(tp);
	if (tp->s < tp->end && *tp->s == c) {
		tp->s++;
		return true;
	}
	return false;
}

static cql_str tp_ident(tparser *tp)
{
	tp_blank(tp);
	const char *p = tp->s;
	while (tp->s < tp->end && (isalnum((unsigned char)*tp->s) || *tp->s == '_'))
		tp->s++;
	return (cql_str){p, (size_t)(tp->s - p)};
}

static const cql_type *tp_type(tparser *tp, int depth);

/* Reads "<T, T, ...>" with exactly n children (n == 0: one or more). */
static const cql_type **tp_args(tparser *tp, int depth, uint16_t want, uint16_t *got)
{
	if (!tp_punct(tp, '<')) {
		tp_fail(tp, "expected '<'");
		return NULL;
	}
	const cql_type *tmp[256];
	uint16_t n = 0;
	for (;;) {
		if (n == 256) {
			tp_fail(tp, "too many type arguments");
			return NULL;
		}
		tmp[n] = tp_type(tp, depth + 1);
		if (tp->failed)
			return NULL;
		n++;
		if (tp_punct(tp, ','))
			continue;
		if (tp_punct(tp, '>'))
			break;
		tp_fail(tp, "expected ',' or '>'");
		return NULL;
	}
	if (want && n != want) {
		tp_fail(tp, want == 1 ? "expected one type argument"
				      : "expected two type "
					"arguments");
		return NULL;
	}
	const cql_type **out = brook_arena_alloc(tp->a, n * sizeof *out);
	memcpy(out, tmp, n * sizeof *out);
	*got = n;
	return out;
}

static const cql_type *tp_type(tparser *tp, int depth)
{
	if (depth >= CQL_TYPE_MAX_DEPTH) {
		tp_fail(tp, "type nests too deeply");
		return NULL;
	}
	tp_blank(tp);
	if (tp->s < tp->end && *tp->s == '\'') { /* 'org.apache...CustomType' */
		const char *p = ++tp->s;
		while (tp->s < tp->end && *tp->s != '\'')
			tp->s++;
		if (tp->s >= tp->end) {
			tp_fail(tp, "unterminated custom type name");
			return NULL;
		}
		cql_type *t = brook_arena_calloc(tp->a, sizeof *t);
		t->id = CQL_TYPE_CUSTOM;
		t->custom.ptr = brook_arena_strndup(tp->a, p, (size_t)(tp->s - p));
		t->custom.len = (size_t)(tp->s - p);
		tp->s++;
		return t;
	}
	const char *at = tp->s;
	cql_str name = tp_ident(tp);
	if (name.len == 0) {
		tp_fail(tp, "expected a type name");
		return NULL;
	}
	if (cql_str_ieq(name, "varchar"))
		return &leaves[CQL_TYPE_VARCHAR];
	for (size_t i = 0; i < N_NATIVES; i++)
		if (cql_str_ieq(name, natives[i].name))
			return &leaves[natives[i].id];
	if (cql_str_ieq(name, "frozen")) {
		uint16_t n;
		const cql_type **args = tp_args(tp, depth, 1, &n);
		if (!args)
			return NULL;
		cql_type *t = brook_arena_alloc(tp->a, sizeof *t);
		*t = *args[0];
		if (cql_type_is_native(t->id) || t->id == CQL_TYPE_CUSTOM) {
			tp->s = at;
			tp_fail(tp, "frozen<> applies only to collections, tuples and UDTs");
			return NULL;
		}
		t->frozen = true;
		return t;
	}
	uint16_t id;
	uint16_t want;
	if (cql_str_ieq(name, "list"))
		id = CQL_TYPE_LIST, want = 1;
	else if (cql_str_ieq(name, "set"))
		id = CQL_TYPE_SET, want = 1;
	else if (cql_str_ieq(name, "map"))
		id = CQL_TYPE_MAP, want = 2;
	else if (cql_str_ieq(name, "tuple"))
		id = CQL_TYPE_TUPLE, want = 0;
	else {
		tp->s = at;
		tp_fail(tp, "unknown type");
		return NULL;
	}
	cql_type *t = brook_arena_calloc(tp->a, sizeof *t);
	t->id = id;
	t->sub = tp_args(tp, depth, want, &t->n);
	if (!t->sub)
		return NULL;
	return t;
}

const cql_type *cql_type_parse(const char *s, size_t n, brook_arena *a, char *err, size_t errlen)
{
	static const char empty[1];
	if (!s)
		s = empty, n = 0;
	tparser tp = {s, s + n, s, a, err, errlen, false};
	const cql_type *t = tp_type(&tp, 0);
	tp_blank(&tp);
	if (!tp.failed && tp.s != tp.end)
		tp_fail(&tp, "unexpected text after the type");
	return tp.failed ? NULL : t;
}

static void print_type(brook_buf *b, const cql_type *t, bool in_frozen)
{
	const native_info *ni = native_lookup(t->id);
	if (ni) {
		brook_buf_puts(b, ni->name);
		return;
	}
	bool frozen = t->frozen && !in_frozen;
	if (frozen)
		brook_buf_puts(b, "frozen<");
	switch (t->id) {
	case CQL_TYPE_CUSTOM:
		brook_buf_putc(b, '\'');
		if (t->custom.len)
			brook_buf_append(b, t->custom.ptr, t->custom.len);
		brook_buf_putc(b, '\'');
		break;
	case CQL_TYPE_UDT:
		if (t->udt_name.len)
			brook_buf_append(b, t->udt_name.ptr, t->udt_name.len);
		break;
	default:
		brook_buf_puts(b, t->id == CQL_TYPE_LIST  ? "list<"
				  : t->id == CQL_TYPE_SET ? "set<"
				  : t->id == CQL_TYPE_MAP ? "map<"
							  : "tuple<");
		for (uint16_t i = 0; i < t->n; i++) {
			if (i)
				brook_buf_puts(b, ", ");
			print_type(b, t->sub[i], in_frozen || t->frozen);
		}
		brook_buf_putc(b, '>');
	}
	if (frozen)
		brook_buf_putc(b, '>');
}

void cql_type_print(brook_buf *b, const cql_type *t)
{
	print_type(b, t, false);
}

/* ---- validation ----------------------------------------------------------------- */

static int validate(const cql_type *t, const uint8_t *p, size_t n, char *err, size_t errlen);

/* Collections, tuples and UDTs: [bytes] elements one after the other. */
static int validate_elems(const cql_type *t, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	cql_rd rd;
	cql_rd_init(&rd, p, n);
	bool coll = t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET || t->id == CQL_TYPE_MAP;
	uint32_t count;
	if (coll) {
		int32_t c = cql_rd_int(&rd);
		if (rd.failed || c < 0) {
			snprintf(err, errlen, "Not enough bytes to read a %s count",
				 t->id == CQL_TYPE_MAP ? "map" : "collection");
			return BROOK_ERR;
		}
		size_t per = t->id == CQL_TYPE_MAP ? 8 : 4;
		count = cql_rd_count(&rd, (uint32_t)c, per, "collection");
		if (rd.failed) {
			snprintf(err, errlen, "Collection claims %d elements in %zu bytes", (int)c,
				 n);
			return BROOK_ERR;
		}
		if (t->id == CQL_TYPE_MAP)
			count *= 2;
	} else {
		count = t->n; /* tuples and UDTs may end early */
	}
	for (uint32_t i = 0; i < count; i++) {
		if (!coll && cql_rd_left(&rd) == 0)
			break;
		cql_bytes e = cql_rd_bytes(&rd);
		if (rd.failed) {
			snprintf(err, errlen, "Not enough bytes to read element %u", i);
			return BROOK_ERR;
		}
		const cql_type *et = coll ? t->sub[t->id == CQL_TYPE_MAP ? i % 2 : 0] : t->sub[i];
		if (e.len < 0) {
			if (coll) {
				snprintf(err, errlen, "null is not supported inside collections");
				return BROOK_ERR;
			}
			continue;
		}
		if (validate(et, e.ptr, (size_t)e.len, err, errlen) != BROOK_OK)
			return BROOK_ERR;
	}
	if (cql_rd_left(&rd)) {
		snprintf(err, errlen, "Unexpected extraneous bytes after %s value",
			 coll ? "collection" : "tuple");
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int validate(const cql_type *t, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	const native_info *ni = native_lookup(t->id);
	if (ni && ni->width) {
		if (n != 0 && n != (size_t)ni->width) {
			snprintf(err, errlen, "Expected %d or 0 byte %s (%zu)", ni->width, ni->name,
				 n);
			return BROOK_ERR;
		}
		if (n == 0)
			return BROOK_OK;
	}
	switch (t->id) {
	case CQL_TYPE_ASCII:
		for (size_t i = 0; i < n; i++) {
			if (p[i] >= 0x80) {
				snprintf(err, errlen, "Invalid byte for ascii: %u", p[i]);
				return BROOK_ERR;
			}
		}
		return BROOK_OK;
	case CQL_TYPE_VARCHAR:
		if (!brook_utf8_valid(p, n)) {
			snprintf(err, errlen, "Invalid UTF-8 bytes");
			return BROOK_ERR;
		}
		return BROOK_OK;
	case CQL_TYPE_TIMEUUID:
		if ((p[6] >> 4) != 1) {
			snprintf(err, errlen,
				 "Unsupported UUID version %u for timeuuid "
				 "(must be 1)",
				 p[6] >> 4);
			return BROOK_ERR;
		}
		return BROOK_OK;
	case CQL_TYPE_TIME: {
		int64_t ns = (int64_t)brook_be_get(p, 8);
		if (ns < 0 || ns > 86399999999999LL) {
			snprintf(err, errlen, "Time value %lld is outside 0..86399999999999",
				 (long long)ns);
			return BROOK_ERR;
		}
		return BROOK_OK;
	}
	case CQL_TYPE_INET:
		if (n != 0 && n != 4 && n != 16) {
			snprintf(err, errlen, "Expected 4 or 16 byte inet address (%zu)", n);
			return BROOK_ERR;
		}
		return BROOK_OK;
	case CQL_TYPE_DECIMAL:
		if (n != 0 && n < 4) {
			snprintf(err, errlen, "Expected at least 4 bytes for a decimal (%zu)", n);
			return BROOK_ERR;
		}
		return BROOK_OK;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
	case CQL_TYPE_MAP:
	case CQL_TYPE_TUPLE:
	case CQL_TYPE_UDT:
		return validate_elems(t, p, n, err, errlen);
	default: /* blob, varint, custom, fixed widths already checked */
		return BROOK_OK;
	}
}

int cql_value_validate(const cql_type *t, const uint8_t *p, size_t n, char *err, size_t errlen)
{
	static const uint8_t empty[1];
	if (!p)
		p = empty, n = 0;
	return validate(t, p, n, err, errlen);
}

/* ---- to text ------------------------------------------------------------------- */

#define VARINT_TEXT_MAX 4096 /* longer varints print as hex: decimal is quadratic */

static void put_hex(brook_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	brook_buf_puts(b, "0x");
	brook_buf_reserve(b, 2 * n);
	for (size_t i = 0; i < n; i++) {
		b->data[b->len++] = hex[p[i] >> 4];
		b->data[b->len++] = hex[p[i] & 15];
	}
	b->data[b->len] = '\0';
}

static void put_quoted(brook_buf *b, const uint8_t *p, size_t n)
{
	brook_buf_putc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\'')
			brook_buf_putc(b, '\'');
		brook_buf_putc(b, (char)p[i]);
	}
	brook_buf_putc(b, '\'');
}

/* Two's complement big-endian integer to decimal digits appended to b. */
static void put_varint(brook_buf *b, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	bool neg = p[0] & 0x80;
	uint8_t *mag = brook_malloc(n);
	memcpy(mag, p, n);
	if (neg) { /* negate: invert and add one */
		unsigned carry = 1;
		for (size_t i = n; i-- > 0;) {
			unsigned v = (uint8_t)~mag[i] + carry;
			mag[i] = (uint8_t)v;
			carry = v >> 8;
		}
	}
	char *digits = brook_malloc(n * 3 + 2);
	size_t nd = 0, start = 0;
	for (;;) {
		while (start < n && mag[start] == 0)
			start++;
		if (start == n)
			break;
		unsigned rem = 0;
		for (size_t i = start; i < n; i++) {
			unsigned cur = rem * 256 + mag[i];
			mag[i] = (uint8_t)(cur / 10);
			rem = cur % 10;
		}
		digits[nd++] = (char)('0' + rem);
	}
	if (nd == 0)
		digits[nd++] = '0';
	if (neg)
		brook_buf_putc(b, '-');
	while (nd > 0)
		brook_buf_putc(b, digits[--nd]);
	free(digits);
	free(mag);
}

static void put_double(brook_buf *b, double d)
{
	if (isnan(d)) {
		brook_buf_puts(b, "NaN");
		return;
	}
	if (isinf(d)) {
		brook_buf_puts(b, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	char tmp[40];
	for (int prec = 1; prec <= 17; prec++) { /* shortest text that reads back exactly */
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	brook_buf_puts(b, tmp);
}

static void put_float(brook_buf *b, float f)
{
	if (isnan(f) || isinf(f)) {
		put_double(b, f);
		return;
	}
	char tmp[40];
	for (int prec = 1; prec <= 9; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
		if (strtof(tmp, NULL) == f)
			break;
	}
	brook_buf_puts(b, tmp);
}

static void put_decimal(brook_buf *b, const uint8_t *p, size_t n)
{
	int32_t scale = (int32_t)(uint32_t)brook_be_get(p, 4);
	brook_buf digits = BROOK_BUF_INIT;
	if (n == 4)
		brook_buf_putc(&digits, '0');
	else
		put_varint(&digits, p + 4, n - 4);
	const char *d = digits.data;
	bool neg = d[0] == '-';
	if (neg) {
		brook_buf_putc(b, '-');
		d++;
	}
	size_t nd = strlen(d);
	if (scale == 0) {
		brook_buf_puts(b, d);
	} else if (scale > 0 && (size_t)scale < nd) {
		brook_buf_append(b, d, nd - (size_t)scale);
		brook_buf_putc(b, '.');
		brook_buf_puts(b, d + nd - (size_t)scale);
	} else if (scale > 0 && (size_t)scale - nd < 32) {
		brook_buf_puts(b, "0.");
		for (size_t i = nd; i < (size_t)scale; i++)
			brook_buf_putc(b, '0');
		brook_buf_puts(b, d);
	} else {
		brook_buf_puts(b, d);
		brook_buf_printf(b, "E%lld", -(long long)scale);
	}
	brook_buf_release(&digits);
}

static void put_timestamp(brook_buf *b, int64_t ms)
{
	int64_t days = ms / 86400000, rem = ms % 86400000;
	if (rem < 0)
		rem += 86400000, days--;
	int64_t y;
	unsigned mo, d;
	brook_civil_from_days(days, &y, &mo, &d);
	brook_buf_printf(b, "%04lld-%02u-%02u %02d:%02d:%02d.%03d000+0000", (long long)y, mo, d,
			 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
			 (int)(rem % 1000));
}

static void to_text(brook_buf *b, const cql_type *t, const uint8_t *p, size_t n, bool quote,
		    int depth);

static void elems_to_text(brook_buf *b, const cql_type *t, const uint8_t *p, size_t n, int depth)
{
	bool coll = t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET || t->id == CQL_TYPE_MAP;
	char open = t->id == CQL_TYPE_LIST ? '[' : t->id == CQL_TYPE_TUPLE ? '(' : '{';
	char close = open == '[' ? ']' : open == '(' ? ')' : '}';
	cql_rd rd;
	cql_rd_init(&rd, p, n);
	uint32_t count = t->n;
	if (coll) {
		int32_t c = cql_rd_int(&rd);
		count = c < 0 ? 0 : cql_rd_count(&rd, (uint32_t)c, 4, "collection");
		if (t->id == CQL_TYPE_MAP)
			count = count > UINT32_MAX / 2 ? 0 : count * 2;
	}
	brook_buf_putc(b, open);
	for (uint32_t i = 0; i < count && !rd.failed && cql_rd_left(&rd); i++) {
		cql_bytes e = cql_rd_bytes(&rd);
		if (rd.failed)
			break;
		if (i)
			brook_buf_puts(b, t->id == CQL_TYPE_MAP && i % 2 ? ": " : ", ");
		if (t->id == CQL_TYPE_UDT && t->field_names) {
			brook_buf_append(b, t->field_names[i].ptr ? t->field_names[i].ptr : "",
					 t->field_names[i].len);
			brook_buf_puts(b, ": ");
		}
		const cql_type *et = coll ? t->sub[t->id == CQL_TYPE_MAP ? i % 2 : 0] : t->sub[i];
		if (e.len < 0)
			brook_buf_puts(b, "null");
		else
			to_text(b, et, e.ptr, (size_t)e.len, true, depth + 1);
	}
	brook_buf_putc(b, close);
}

static void to_text(brook_buf *b, const cql_type *t, const uint8_t *p, size_t n, bool quote,
		    int depth)
{
	char err[8];
	const native_info *ni = native_lookup(t->id);
	if (depth > CQL_TYPE_MAX_DEPTH || validate(t, p, n, err, sizeof err) != BROOK_OK ||
	    (n == 0 && ni && t->id != CQL_TYPE_ASCII && t->id != CQL_TYPE_VARCHAR &&
	     t->id != CQL_TYPE_BLOB)) { /* empty non-string values print as nothing */
		if (n == 0 && quote)
			brook_buf_puts(b, "''");
		else if (n > 0)
			put_hex(b, p, n);
		return;
	}
	char tmp[64];
	switch (t->id) {
	case CQL_TYPE_ASCII:
	case CQL_TYPE_VARCHAR:
		if (quote)
			put_quoted(b, p, n);
		else if (n)
			brook_buf_append(b, p, n);
		return;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
		brook_buf_put_i64(b, (int64_t)brook_be_get(p, 8));
		return;
	case CQL_TYPE_INT:
		brook_buf_put_i64(b, (int32_t)(uint32_t)brook_be_get(p, 4));
		return;
	case CQL_TYPE_SMALLINT:
		brook_buf_put_i64(b, (int16_t)(uint16_t)brook_be_get(p, 2));
		return;
	case CQL_TYPE_TINYINT:
		brook_buf_put_i64(b, (int8_t)p[0]);
		return;
	case CQL_TYPE_BOOLEAN:
		brook_buf_puts(b, p[0] ? "True" : "False");
		return;
	case CQL_TYPE_DOUBLE: {
		uint64_t u = brook_be_get(p, 8);
		double d;
		memcpy(&d, &u, sizeof d);
		put_double(b, d);
		return;
	}
	case CQL_TYPE_FLOAT: {
		uint32_t u = (uint32_t)brook_be_get(p, 4);
		float f;
		memcpy(&f, &u, sizeof f);
		put_float(b, f);
		return;
	}
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID: {
		brook_uuid u;
		memcpy(u.b, p, 16);
		brook_uuid_format(&u, tmp);
		brook_buf_puts(b, tmp);
		return;
	}
	case CQL_TYPE_TIMESTAMP:
		if (quote)
			brook_buf_putc(b, '\'');
		put_timestamp(b, (int64_t)brook_be_get(p, 8));
		if (quote)
			brook_buf_putc(b, '\'');
		return;
	case CQL_TYPE_DATE: {
		int64_t y;
		unsigned mo, d;
		brook_civil_from_days(cql_date_to_days((uint32_t)brook_be_get(p, 4)), &y, &mo, &d);
		brook_buf_printf(b, quote ? "'%04lld-%02u-%02u'" : "%04lld-%02u-%02u", (long long)y,
				 mo, d);
		return;
	}
	case CQL_TYPE_TIME: {
		int64_t ns = (int64_t)brook_be_get(p, 8);
		brook_buf_printf(
		    b, quote ? "'%02lld:%02lld:%02lld.%09lld'" : "%02lld:%02lld:%02lld.%09lld",
		    (long long)(ns / 3600000000000LL), (long long)(ns / 60000000000LL % 60),
		    (long long)(ns / 1000000000LL % 60), (long long)(ns % 1000000000LL));
		return;
	}
	case CQL_TYPE_INET:
		inet_ntop(n == 4 ? AF_INET : AF_INET6, p, tmp, sizeof tmp);
		if (quote)
			brook_buf_putc(b, '\'');
		brook_buf_puts(b, tmp);
		if (quote)
			brook_buf_putc(b, '\'');
		return;
	case CQL_TYPE_VARINT:
		if (n > VARINT_TEXT_MAX)
			put_hex(b, p, n);
		else
			put_varint(b, p, n);
		return;
	case CQL_TYPE_DECIMAL:
		if (n > VARINT_TEXT_MAX)
			put_hex(b, p, n);
		else
			put_decimal(b, p, n);
		return;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
	case CQL_TYPE_MAP:
	case CQL_TYPE_TUPLE:
	case CQL_TYPE_UDT:
		elems_to_text(b, t, p, n, depth);
		return;
	default: /* blob, custom */
		put_hex(b, p, n);
		return;
	}
}

void cql_value_to_text(brook_buf *b, const cql_type *t, const uint8_t *p, int32_t len,
		       unsigned flags)
{
	static const uint8_t empty[1];
	if (len < 0) {
		brook_buf_puts(b, "null");
		return;
	}
	if (!p)
		p = empty, len = 0;
	to_text(b, t, p, (size_t)len, (flags & CQL_TEXT_LITERAL) != 0, 0);
}

/* ---- from text ----------------------------------------------------------------- */

/* Decimal digits (optional sign) to minimal two's complement big-endian bytes. */
static int varint_from_digits(const char *s, size_t n, brook_buf *out)
{
	bool neg = false;
	size_t i = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return BROOK_ERR;
	size_t cap = (n - i) / 2 + 2; /* bytes: log256(10^d) < d/2 + 1 */
	uint8_t *mag = brook_calloc(cap, 1);
	for (; i < n; i++) {
		if (!isdigit((unsigned char)s[i])) {
			free(mag);
			return BROOK_ERR;
		}
		unsigned carry = (unsigned)(s[i] - '0');
		for (size_t j = cap; j-- > 0;) {
			unsigned v = mag[j] * 10u + carry;
			mag[j] = (uint8_t)v;
			carry = v >> 8;
		}
	}
	if (neg) {
		unsigned carry = 1;
		for (size_t j = cap; j-- > 0;) {
			unsigned v = (uint8_t)~mag[j] + carry;
			mag[j] = (uint8_t)v;
			carry = v >> 8;
		}
	}
	/* Drop redundant sign bytes. */
	size_t start = 0;
	while (start + 1 < cap && ((mag[start] == 0x00 && !(mag[start + 1] & 0x80)) ||
				   (mag[start] == 0xFF && (mag[start + 1] & 0x80))))
		start++;
	brook_buf_append(out, mag + start, cap - start);
	free(mag);
	return BROOK_OK;
}

static bool parse_i64(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *v)
{
	char tmp[32];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	errno = 0;
	long long x = strtoll(tmp, &end, 10);
	if (errno || *end || end == tmp || isspace((unsigned char)tmp[0]) || x < lo || x > hi)
		return false;
	*v = x;
	return true;
}

static int parse_time_ns(const char *s, size_t n, int64_t *ns)
{
	int64_t v;
	if (parse_i64(s, n, 0, 86399999999999LL, &v)) {
		*ns = v;
		return BROOK_OK;
	}
	unsigned h, m, sec;
	int used = 0;
	char tmp[40];
	if (n >= sizeof tmp)
		return BROOK_ERR;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%2u:%2u:%2u%n", &h, &m, &sec, &used) != 3 || h > 23 || m > 59 || sec > 59)
		return BROOK_ERR;
	int64_t frac = 0;
	const char *p = tmp + used;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p) && digits < 9; p++, digits++)
			frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return BROOK_ERR;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (*p)
		return BROOK_ERR;
	*ns = ((int64_t)h * 3600 + m * 60 + sec) * 1000000000LL + frac;
	return BROOK_OK;
}

static int native_from_text(const cql_type *t, const char *s, size_t n, brook_buf *out,
			    char *err, size_t errlen);

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One literal of type t at *pp (collections recursively, following the type, so the
 * recursion is as deep as the type). Appends its serialized form to out. */
static int lit_value(const cql_type *t, const char **pp, const char *end, brook_buf *out,
		     char *err, size_t errlen)
{
	const char *p = *pp;
	while (p < end && is_blank(*p))
		p++;
	bool coll = t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET || t->id == CQL_TYPE_MAP;
	if (!coll && t->id != CQL_TYPE_TUPLE) {
		const char *tok = p;
		if (p < end && *p == '\'') { /* 'quoted', '' inside */
			for (p++; p < end; p++) {
				if (*p == '\'' && (p + 1 >= end || p[1] != '\''))
					break;
				if (*p == '\'')
					p++;
			}
			if (p >= end) {
				snprintf(err, errlen, "unterminated string literal");
				return BROOK_ERR;
			}
			p++;
		} else {
			while (p < end && *p && !strchr(",:]})", *p))
				p++;
		}
		*pp = p;
		return native_from_text(t, tok, (size_t)(p - tok), out, err, errlen);
	}
	char open = t->id == CQL_TYPE_LIST ? '[' : t->id == CQL_TYPE_TUPLE ? '(' : '{';
	char close = open == '[' ? ']' : open == '(' ? ')' : '}';
	if (p >= end || *p != open) {
		snprintf(err, errlen, "expected '%c' to start a collection or tuple literal",
			 open);
		return BROOK_ERR;
	}
	p++;
	size_t count_pos = out->len;
	if (coll)
		cql_wr_int(out, 0);
	uint32_t count = 0;
	for (;;) {
		while (p < end && is_blank(*p))
			p++;
		if (p < end && *p == close && count == 0)
			break;
		if (t->id == CQL_TYPE_TUPLE && count >= t->n) {
			snprintf(err, errlen, "tuple literal has more than %u elements", t->n);
			return BROOK_ERR;
		}
		for (int kv = 0; kv < (t->id == CQL_TYPE_MAP ? 2 : 1); kv++) {
			const cql_type *et = t->id == CQL_TYPE_TUPLE ? t->sub[count] : t->sub[kv];
			while (p < end && is_blank(*p))
				p++;
			if (end - p >= 4 && strncasecmp(p, "null", 4) == 0 &&
			    t->id == CQL_TYPE_TUPLE) {
				cql_wr_int(out, CQL_NULL);
				p += 4;
			} else {
				size_t pos = cql_wr_len_begin(out);
				if (lit_value(et, &p, end, out, err, errlen) != BROOK_OK)
					return BROOK_ERR;
				cql_wr_len_end(out, pos);
			}
			while (p < end && is_blank(*p))
				p++;
			if (kv == 0 && t->id == CQL_TYPE_MAP) {
				if (p >= end || *p != ':') {
					snprintf(err, errlen, "expected ':' in a map literal");
					return BROOK_ERR;
				}
				p++;
			}
		}
		count++;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == close)
			break;
		snprintf(err, errlen, "expected ',' or '%c' in a literal", close);
		return BROOK_ERR;
	}
	p++; /* the closer */
	if (coll) {
		uint8_t *c = (uint8_t *)out->data + count_pos;
		c[0] = (uint8_t)(count >> 24);
		c[1] = (uint8_t)(count >> 16);
		c[2] = (uint8_t)(count >> 8);
		c[3] = (uint8_t)count;
	}
	*pp = p;
	return BROOK_OK;
}

int cql_value_from_text(const cql_type *t, const char *s, size_t n, brook_buf *out, char *err,
			size_t errlen)
{
	static const char empty[1];
	if (!s)
		s = empty, n = 0;
	if (t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET || t->id == CQL_TYPE_MAP ||
	    t->id == CQL_TYPE_TUPLE) {
		size_t start = out->len;
		const char *p = s, *end = s + n;
		int rc = lit_value(t, &p, end, out, err, errlen);
		while (rc == BROOK_OK && p < end && is_blank(*p))
			p++;
		if (rc == BROOK_OK && p != end) {
			snprintf(err, errlen, "unexpected text after the literal");
			rc = BROOK_ERR;
		}
		if (rc != BROOK_OK)
			brook_buf_truncate(out, start);
		return rc;
	}
	return native_from_text(t, s, n, out, err, errlen);
}

static int native_from_text(const cql_type *t, const char *s, size_t n, brook_buf *out,
			    char *err, size_t errlen)
{
	while (n && isspace((unsigned char)s[0]))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (t->id != CQL_TYPE_ASCII && t->id != CQL_TYPE_VARCHAR && n && memchr(s, 0, n))
		goto bad; /* the C-string parsers below would stop at the NUL */
	bool quoted = n >= 2 && s[0] == '\'' && s[n - 1] == '\'';
	const char *u = quoted ? s + 1 : s; /* unquoted view (no '' folding) */
	size_t un = quoted ? n - 2 : n;
	char tmp[128];
	int64_t v;
	switch (t->id) {
	case CQL_TYPE_ASCII:
	case CQL_TYPE_VARCHAR: {
		size_t start = out->len;
		for (size_t i = 0; i < un; i++) {
			if (quoted && u[i] == '\'') {
				if (i + 1 >= un || u[i + 1] != '\'')
					goto bad;
				i++;
			}
			brook_buf_putc(out, u[i]);
		}
		if (out->len > start && validate(t, (const uint8_t *)out->data + start,
						 out->len - start, err, errlen) != BROOK_OK) {
			brook_buf_truncate(out, start);
			return BROOK_ERR;
		}
		return BROOK_OK;
	}
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
	case CQL_TYPE_TIMESTAMP:
		if (parse_i64(s, n, INT64_MIN, INT64_MAX, &v)) {
			brook_buf_put_be(out, (uint64_t)v, 8);
			return BROOK_OK;
		}
		if (t->id == CQL_TYPE_TIMESTAMP && un > 0 && un < sizeof tmp) {
			memcpy(tmp, u, un);
			tmp[un] = '\0';
			if (un > 10 && tmp[10] == ' ')
				tmp[10] = 'T';
			/* cqlsh prints "+0000" after a blank-free time: accept it too */
			if (brook_time_parse_iso8601(tmp, &v) == BROOK_OK) {
				brook_buf_put_be(out, (uint64_t)v, 8);
				return BROOK_OK;
			}
		}
		goto bad;
	case CQL_TYPE_INT:
		if (!parse_i64(s, n, INT32_MIN, INT32_MAX, &v))
			goto bad;
		brook_buf_put_be(out, (uint64_t)v, 4);
		return BROOK_OK;
	case CQL_TYPE_SMALLINT:
		if (!parse_i64(s, n, INT16_MIN, INT16_MAX, &v))
			goto bad;
		brook_buf_put_be(out, (uint64_t)v, 2);
		return BROOK_OK;
	case CQL_TYPE_TINYINT:
		if (!parse_i64(s, n, INT8_MIN, INT8_MAX, &v))
			goto bad;
		brook_buf_put_be(out, (uint64_t)v, 1);
		return BROOK_OK;
	case CQL_TYPE_BOOLEAN:
		if (n == 4 && strncasecmp(s, "true", 4) == 0)
			brook_buf_putc(out, 1);
		else if (n == 5 && strncasecmp(s, "false", 5) == 0)
			brook_buf_putc(out, 0);
		else
			goto bad;
		return BROOK_OK;
	case CQL_TYPE_DOUBLE:
	case CQL_TYPE_FLOAT: {
		if (n == 0 || n >= sizeof tmp || isspace((unsigned char)s[0]))
			goto bad;
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		char *end;
		double d = strtod(tmp, &end);
		if (*end)
			goto bad;
		if (t->id == CQL_TYPE_DOUBLE) {
			uint64_t bits;
			memcpy(&bits, &d, 8);
			brook_buf_put_be(out, bits, 8);
		} else {
			float f = (float)d;
			uint32_t bits;
			memcpy(&bits, &f, 4);
			brook_buf_put_be(out, bits, 4);
		}
		return BROOK_OK;
	}
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID: {
		brook_uuid id;
		if (brook_uuid_parse(u, un, &id) != BROOK_OK)
			goto bad;
		if (t->id == CQL_TYPE_TIMEUUID && brook_uuid_version(&id) != 1) {
			snprintf(err, errlen, "timeuuid must be a version 1 uuid");
			return BROOK_ERR;
		}
		brook_buf_append(out, id.b, 16);
		return BROOK_OK;
	}
	case CQL_TYPE_BLOB: {
		if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n % 2)
			goto bad;
		size_t start = out->len;
		for (size_t i = 2; i < n; i += 2) {
			int hi = brook_hexval(s[i]), lo = brook_hexval(s[i + 1]);
			if (hi < 0 || lo < 0) {
				brook_buf_truncate(out, start);
				goto bad;
			}
			brook_buf_putc(out, (char)(hi << 4 | lo));
		}
		return BROOK_OK;
	}
	case CQL_TYPE_DATE: {
		if (!quoted && parse_i64(s, n, 0, UINT32_MAX, &v)) {
			brook_buf_put_be(out, (uint64_t)v, 4);
			return BROOK_OK;
		}
		long long y;
		unsigned mo, d;
		int used = 0;
		if (un >= sizeof tmp)
			goto bad;
		memcpy(tmp, u, un);
		tmp[un] = '\0';
		static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		if (sscanf(tmp, "%lld-%2u-%2u%n", &y, &mo, &d, &used) != 3 || tmp[used] || mo < 1 ||
		    mo > 12 || d < 1 || y < -5877641 || y > 5881580)
			goto bad;
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (d > mdays[mo - 1] + (mo == 2 && leap))
			goto bad;
		brook_buf_put_be(out, cql_date_from_days(brook_days_from_civil(y, mo, d)), 4);
		return BROOK_OK;
	}
	case CQL_TYPE_TIME: {
		if (parse_time_ns(u, un, &v) != BROOK_OK)
			goto bad;
		brook_buf_put_be(out, (uint64_t)v, 8);
		return BROOK_OK;
	}
	case CQL_TYPE_INET: {
		uint8_t a[16];
		if (un == 0 || un >= sizeof tmp)
			goto bad;
		memcpy(tmp, u, un);
		tmp[un] = '\0';
		if (inet_pton(AF_INET, tmp, a) == 1)
			brook_buf_append(out, a, 4);
		else if (inet_pton(AF_INET6, tmp, a) == 1)
			brook_buf_append(out, a, 16);
		else
			goto bad;
		return BROOK_OK;
	}
	case CQL_TYPE_VARINT:
		if (varint_from_digits(s, n, out) != BROOK_OK)
			goto bad;
		return BROOK_OK;
	case CQL_TYPE_DECIMAL: {
		/* [-]digits[.digits][e[-]digits] -> scale + unscaled varint */
		brook_buf digits = BROOK_BUF_INIT;
		size_t i = 0;
		int64_t scale = 0;
		bool any = false, dot = false;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			brook_buf_putc(&digits, s[i++]);
		for (; i < n; i++) {
			if (isdigit((unsigned char)s[i])) {
				brook_buf_putc(&digits, s[i]);
				any = true;
				scale += dot;
			} else if (s[i] == '.' && !dot) {
				dot = true;
			} else {
				break;
			}
		}
		if (i < n && (s[i] == 'e' || s[i] == 'E')) {
			int64_t e;
			if (!parse_i64(s + i + 1, n - i - 1, -1000000000, 1000000000, &e)) {
				brook_buf_release(&digits);
				goto bad;
			}
			scale -= e;
			i = n;
		}
		if (!any || i != n || scale < INT32_MIN || scale > INT32_MAX) {
			brook_buf_release(&digits);
			goto bad;
		}
		brook_buf_put_be(out, (uint64_t)scale, 4);
		int rc = varint_from_digits(digits.data, digits.len, out);
		brook_buf_release(&digits);
		if (rc != BROOK_OK)
			goto bad;
		return BROOK_OK;
	}
	default:
		snprintf(err, errlen, "no text form is parsed for this type");
		return BROOK_ERR;
	}
bad:
	snprintf(err, errlen, "Invalid literal for type %s: '%.*s'",
		 native_lookup(t->id) ? native_lookup(t->id)->name : "?", (int)(n > 40 ? 40 : n),
		 s);
	return BROOK_ERR;
}
