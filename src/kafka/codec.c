/*
 * codec.c — the one interpreter for every Kafka message schema (see codec.h).
 *
 * Decoding walks the schema for the requested version: defaults first (so absent and
 * tagged-but-missing fields hold their defaults), then each present regular field in
 * order, then, in flexible versions, the tagged section, where known tags are decoded
 * from their own bounded sub-reader and unknown ones skipped. A field path
 * ("Topics[2].Partitions[0]") is kept while descending; the first failure is prefixed
 * with it once (dctx.annotated) so the message names the innermost field.
 *
 * Encoding mirrors decoding and cannot fail: values are written as they are, nulls
 * where the version forbids them become empty values, and tagged fields are written
 * only when they differ from their default.
 */
#include "kafka/codec.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

bool kafka_field_present(const kafka_field *f, int16_t ver)
{
	return ver >= f->min_ver && (f->max_ver < 0 || ver <= f->max_ver);
}

static bool nullable(const kafka_field *f, int16_t ver)
{
	return f->nullable_min >= 0 && ver >= f->nullable_min;
}

static size_t prim_size(kafka_type t)
{
	switch (t) {
	case KAFKA_T_BOOL:
		return sizeof(bool);
	case KAFKA_T_INT8:
		return sizeof(int8_t);
	case KAFKA_T_INT16:
		return sizeof(int16_t);
	case KAFKA_T_UINT16:
		return sizeof(uint16_t);
	case KAFKA_T_INT32:
		return sizeof(int32_t);
	case KAFKA_T_INT64:
		return sizeof(int64_t);
	case KAFKA_T_FLOAT64:
		return sizeof(double);
	case KAFKA_T_UUID:
		return sizeof(kafka_uuid);
	case KAFKA_T_STRING:
		return sizeof(kafka_str);
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
		return sizeof(kafka_bytes);
	case KAFKA_T_ARRAY:
	case KAFKA_T_STRUCT:
		break;
	}
	return 0;
}

static size_t struct_wire_min(const kafka_schema *s, int16_t ver, bool flex);

/* The fewest bytes a value of this type takes on the wire. */
static size_t type_wire_min(kafka_type t, const kafka_schema *sub, int16_t ver, bool flex)
{
	switch (t) {
	case KAFKA_T_BOOL:
	case KAFKA_T_INT8:
		return 1;
	case KAFKA_T_INT16:
	case KAFKA_T_UINT16:
		return 2;
	case KAFKA_T_INT32:
		return 4;
	case KAFKA_T_INT64:
	case KAFKA_T_FLOAT64:
		return 8;
	case KAFKA_T_UUID:
		return 16;
	case KAFKA_T_STRING:
		return flex ? 1 : 2;
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
	case KAFKA_T_ARRAY:
		return flex ? 1 : 4;
	case KAFKA_T_STRUCT:
		return struct_wire_min(sub, ver, flex);
	}
	return 1;
}

static size_t struct_wire_min(const kafka_schema *s, int16_t ver, bool flex)
{
	size_t n = flex ? 1 : 0;
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (f->tag >= 0 || !kafka_field_present(f, ver))
			continue;
		n += type_wire_min(f->type, f->sub, ver, flex);
	}
	return n;
}

/* ---- defaults ---- */

static void set_int(kafka_type t, void *p, int64_t v)
{
	switch (t) {
	case KAFKA_T_BOOL:
		*(bool *)p = v != 0;
		break;
	case KAFKA_T_INT8:
		*(int8_t *)p = (int8_t)v;
		break;
	case KAFKA_T_INT16:
		*(int16_t *)p = (int16_t)v;
		break;
	case KAFKA_T_UINT16:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case KAFKA_T_INT32:
		*(int32_t *)p = (int32_t)v;
		break;
	case KAFKA_T_INT64:
		*(int64_t *)p = v;
		break;
	case KAFKA_T_FLOAT64:
		*(double *)p = (double)v;
		break;
	default:
		break;
	}
}

static int64_t get_int(kafka_type t, const void *p)
{
	switch (t) {
	case KAFKA_T_BOOL:
		return *(const bool *)p;
	case KAFKA_T_INT8:
		return *(const int8_t *)p;
	case KAFKA_T_INT16:
		return *(const int16_t *)p;
	case KAFKA_T_UINT16:
		return *(const uint16_t *)p;
	case KAFKA_T_INT32:
		return *(const int32_t *)p;
	case KAFKA_T_INT64:
		return *(const int64_t *)p;
	default:
		return 0;
	}
}

static void field_default(const kafka_field *f, int16_t ver, uint8_t *base)
{
	void *p = base + f->offset;
	switch (f->type) {
	case KAFKA_T_STRING:
		*(kafka_str *)p = KAFKA_STR_NULL;
		break;
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
		*(kafka_bytes *)p = KAFKA_BYTES_NULL;
		break;
	case KAFKA_T_UUID:
		memset(p, 0, sizeof(kafka_uuid));
		break;
	case KAFKA_T_ARRAY:
		*(void **)p = NULL;
		*(int32_t *)(base + f->count_offset) = 0;
		break;
	case KAFKA_T_STRUCT:
		kafka_defaults(f->sub, ver, p);
		break;
	default:
		set_int(f->type, p, f->def);
		break;
	}
}

void kafka_defaults(const kafka_schema *s, int16_t ver, void *out)
{
	memset(out, 0, s->size);
	for (size_t i = 0; i < s->nfields; i++)
		field_default(&s->fields[i], ver, out);
}

/* ---- decode ---- */

typedef struct dctx {
	kafka_rd *rd;
	brook_arena *arena;
	int16_t ver;
	bool flex;
	bool annotated; /* the error message already carries a path */
	size_t plen;
	char path[120];
} dctx;

/* Append ".name" (or "[idx]" when name is NULL) to the path; returns the old length. */
static size_t path_push(dctx *c, const char *name, int32_t idx)
{
	size_t old = c->plen;
	size_t room = sizeof c->path - c->plen;
	int n = name ? snprintf(c->path + c->plen, room, "%s%s", c->plen ? "." : "", name)
		     : snprintf(c->path + c->plen, room, "[%d]", idx);
	if (n > 0)
		c->plen += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

static void path_pop(dctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static void annotate(dctx *c)
{
	if (!c->rd->failed || c->annotated)
		return;
	char msg[sizeof c->rd->err];
	if (!c->plen) {
		c->annotated = true;
		return;
	}
	snprintf(msg, sizeof msg, "%s: %s", c->path, c->rd->err);
	memcpy(c->rd->err, msg, sizeof msg);
	c->annotated = true;
}

static void null_not_allowed(dctx *c, size_t at)
{
	kafka_rd_fail(c->rd, "null at byte %zu in version %d, where it is not nullable", at,
		      c->ver);
}

static void decode_struct(dctx *c, const kafka_schema *s, uint8_t *out);

/* One value of type t (not ARRAY) into p. */
static void decode_value(dctx *c, const kafka_field *f, kafka_type t, void *p, bool may_null)
{
	kafka_rd *rd = c->rd;
	size_t at = kafka_rd_pos(rd);
	switch (t) {
	case KAFKA_T_BOOL:
		*(bool *)p = kafka_rd_bool(rd);
		break;
	case KAFKA_T_INT8:
		*(int8_t *)p = kafka_rd_i8(rd);
		break;
	case KAFKA_T_INT16:
		*(int16_t *)p = kafka_rd_i16(rd);
		break;
	case KAFKA_T_UINT16:
		*(uint16_t *)p = kafka_rd_u16(rd);
		break;
	case KAFKA_T_INT32:
		*(int32_t *)p = kafka_rd_i32(rd);
		break;
	case KAFKA_T_INT64:
		*(int64_t *)p = kafka_rd_i64(rd);
		break;
	case KAFKA_T_FLOAT64:
		*(double *)p = kafka_rd_f64(rd);
		break;
	case KAFKA_T_UUID:
		kafka_rd_uuid(rd, p);
		break;
	case KAFKA_T_STRING: {
		kafka_str s = c->flex ? kafka_rd_compact_str(rd) : kafka_rd_str(rd);
		if (!rd->failed && s.len < 0 && !may_null)
			null_not_allowed(c, at);
		*(kafka_str *)p = s;
		break;
	}
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		kafka_bytes b = c->flex ? kafka_rd_compact_bytes(rd) : kafka_rd_bytes(rd);
		if (!rd->failed && b.len < 0 && !may_null)
			null_not_allowed(c, at);
		*(kafka_bytes *)p = b;
		break;
	}
	case KAFKA_T_STRUCT:
		decode_struct(c, f->sub, p);
		break;
	case KAFKA_T_ARRAY:
		break; /* not a value type */
	}
}

static void decode_array(dctx *c, const kafka_field *f, uint8_t *base)
{
	kafka_rd *rd = c->rd;
	size_t at = kafka_rd_pos(rd);
	size_t min = f->sub ? struct_wire_min(f->sub, c->ver, c->flex)
			    : type_wire_min(f->elem_type, NULL, c->ver, c->flex);
	int32_t n = c->flex ? kafka_rd_compact_array_len(rd, min) : kafka_rd_array_len(rd, min);
	if (rd->failed)
		return;
	if (n < 0 && !nullable(f, c->ver)) {
		null_not_allowed(c, at);
		return;
	}
	*(int32_t *)(base + f->count_offset) = n;
	if (n <= 0)
		return;
	size_t esz = f->sub ? f->sub->size : prim_size(f->elem_type);
	uint8_t *items = brook_arena_calloc(c->arena, (size_t)n * esz);
	*(void **)(base + f->offset) = items;
	for (int32_t i = 0; i < n && !rd->failed; i++) {
		size_t old = path_push(c, NULL, i);
		if (f->sub)
			decode_struct(c, f->sub, items + (size_t)i * esz);
		else
			decode_value(c, f, f->elem_type, items + (size_t)i * esz, false);
		annotate(c);
		path_pop(c, old);
	}
}

static void decode_field(dctx *c, const kafka_field *f, uint8_t *base)
{
	size_t old = path_push(c, f->name, 0);
	if (f->type == KAFKA_T_ARRAY)
		decode_array(c, f, base);
	else
		decode_value(c, f, f->type, base + f->offset, nullable(f, c->ver));
	annotate(c);
	path_pop(c, old);
}

static const kafka_field *find_tag(const kafka_schema *s, int16_t ver, uint32_t tag)
{
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (f->tag >= 0 && (uint32_t)f->tag == tag && kafka_field_present(f, ver))
			return f;
	}
	return NULL;
}

static void decode_tags(dctx *c, const kafka_schema *s, uint8_t *out)
{
	kafka_rd *rd = c->rd;
	size_t at = kafka_rd_pos(rd);
	uint32_t n = kafka_rd_uvarint(rd);
	if (!rd->failed && n > kafka_rd_left(rd) / 2) {
		kafka_rd_fail(rd, "tagged field count %u at byte %zu exceeds the %zu bytes left",
			      n, at, kafka_rd_left(rd));
		return;
	}
	int64_t last = -1;
	for (uint32_t i = 0; i < n && !rd->failed; i++) {
		size_t tat = kafka_rd_pos(rd);
		uint32_t tag = kafka_rd_uvarint(rd);
		uint32_t size = kafka_rd_uvarint(rd);
		if (rd->failed)
			return;
		if ((int64_t)tag <= last) {
			kafka_rd_fail(rd, "tag %u at byte %zu is out of order", tag, tat);
			return;
		}
		last = tag;
		const uint8_t *data = kafka_rd_take(rd, size);
		if (!data)
			return;
		const kafka_field *f = find_tag(s, c->ver, tag);
		if (!f)
			continue; /* unknown tag: skipped */
		/* Decode the field from exactly its own bytes. */
		kafka_rd sub = *rd;
		sub.p = data;
		sub.end = data + size;
		dctx sc = *c;
		sc.rd = &sub;
		decode_field(&sc, f, out);
		if (sub.failed) {
			memcpy(rd->err, sub.err, sizeof rd->err);
			rd->failed = true;
			rd->p = rd->end;
			c->annotated = true;
			return;
		}
	}
}

static void decode_struct(dctx *c, const kafka_schema *s, uint8_t *out)
{
	kafka_defaults(s, c->ver, out);
	for (size_t i = 0; i < s->nfields && !c->rd->failed; i++) {
		const kafka_field *f = &s->fields[i];
		if (f->tag >= 0 || !kafka_field_present(f, c->ver))
			continue;
		decode_field(c, f, out);
	}
	if (c->flex && !c->rd->failed) {
		decode_tags(c, s, out);
		annotate(c);
	}
}

int kafka_decode(const kafka_schema *s, int16_t ver, bool flexible, kafka_rd *rd, void *out,
		 brook_arena *arena)
{
	dctx c = {.rd = rd, .arena = arena, .ver = ver, .flex = flexible};
	c.path[0] = '\0';
	c.annotated = rd->failed;
	if (rd->failed) {
		kafka_defaults(s, ver, out);
		return BROOK_ERR;
	}
	decode_struct(&c, s, out);
	annotate(&c);
	return rd->failed ? BROOK_ERR : BROOK_OK;
}

/* ---- encode ---- */

typedef struct ectx {
	int16_t ver;
	bool flex;
	kafka_splices *splices;
} ectx;

static void encode_struct(ectx *c, const kafka_schema *s, const uint8_t *in, brook_buf *out);

static void note_splice(ectx *c, size_t pos)
{
	kafka_splices *sp = c->splices;
	if (!sp)
		return;
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 16;
		sp->pos = brook_realloc(sp->pos, sp->cap * sizeof *sp->pos);
	}
	sp->pos[sp->n++] = pos;
}

static void encode_value(ectx *c, const kafka_field *f, kafka_type t, const void *p,
			 bool may_null, brook_buf *out)
{
	switch (t) {
	case KAFKA_T_BOOL:
		kafka_wr_bool(out, *(const bool *)p);
		break;
	case KAFKA_T_INT8:
		kafka_wr_i8(out, *(const int8_t *)p);
		break;
	case KAFKA_T_INT16:
		kafka_wr_i16(out, *(const int16_t *)p);
		break;
	case KAFKA_T_UINT16:
		kafka_wr_u16(out, *(const uint16_t *)p);
		break;
	case KAFKA_T_INT32:
		kafka_wr_i32(out, *(const int32_t *)p);
		break;
	case KAFKA_T_INT64:
		kafka_wr_i64(out, *(const int64_t *)p);
		break;
	case KAFKA_T_FLOAT64:
		kafka_wr_f64(out, *(const double *)p);
		break;
	case KAFKA_T_UUID:
		kafka_wr_uuid(out, p);
		break;
	case KAFKA_T_STRING: {
		kafka_str s = *(const kafka_str *)p;
		if (s.len < 0 && !may_null)
			s = KAFKA_STR("");
		if (c->flex)
			kafka_wr_compact_str(out, s);
		else
			kafka_wr_str(out, s);
		break;
	}
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS: {
		kafka_bytes b = *(const kafka_bytes *)p;
		if (b.len < 0 && !may_null)
			b = (kafka_bytes){NULL, 0};
		if (t == KAFKA_T_RECORDS && !b.ptr && b.len > 0) {
			/* Zero-copy: the length only; the data is spliced in later. */
			if (c->flex)
				kafka_wr_uvarint(out, (uint32_t)b.len + 1);
			else
				kafka_wr_i32(out, b.len);
			note_splice(c, out->len);
			break;
		}
		if (c->flex)
			kafka_wr_compact_bytes(out, b);
		else
			kafka_wr_bytes(out, b);
		break;
	}
	case KAFKA_T_STRUCT:
		encode_struct(c, f->sub, p, out);
		break;
	case KAFKA_T_ARRAY:
		break;
	}
}

static void encode_array(ectx *c, const kafka_field *f, const uint8_t *base, brook_buf *out)
{
	int32_t n = *(const int32_t *)(base + f->count_offset);
	const uint8_t *items = *(const uint8_t *const *)(base + f->offset);
	if (n < 0 && !nullable(f, c->ver))
		n = 0;
	if (n > 0 && !items)
		n = 0; /* a caller bug; write a valid empty array rather than crash */
	if (c->flex)
		kafka_wr_compact_array_len(out, n);
	else
		kafka_wr_array_len(out, n);
	size_t esz = f->sub ? f->sub->size : prim_size(f->elem_type);
	for (int32_t i = 0; i < n; i++) {
		const uint8_t *e = items + (size_t)i * esz;
		if (f->sub)
			encode_struct(c, f->sub, e, out);
		else
			encode_value(c, f, f->elem_type, e, false, out);
	}
}

static void encode_field(ectx *c, const kafka_field *f, const uint8_t *base, brook_buf *out)
{
	if (f->type == KAFKA_T_ARRAY)
		encode_array(c, f, base, out);
	else
		encode_value(c, f, f->type, base + f->offset, nullable(f, c->ver), out);
}

static bool struct_is_default(const kafka_schema *s, int16_t ver, const uint8_t *in);

/* Does the field hold what decoding an absent tagged field would give? */
static bool is_default(const kafka_field *f, int16_t ver, const uint8_t *base)
{
	const void *p = base + f->offset;
	static const kafka_uuid zero;
	switch (f->type) {
	case KAFKA_T_STRING:
		return ((const kafka_str *)p)->len < 0;
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
		return ((const kafka_bytes *)p)->len < 0;
	case KAFKA_T_UUID:
		return memcmp(p, &zero, sizeof zero) == 0;
	case KAFKA_T_ARRAY:
		return *(const int32_t *)(base + f->count_offset) == 0;
	case KAFKA_T_STRUCT:
		return struct_is_default(f->sub, ver, p);
	case KAFKA_T_FLOAT64:
		return *(const double *)p == (double)f->def;
	default: {
		int64_t d = 0;
		set_int(f->type, &d, f->def);
		return get_int(f->type, p) == get_int(f->type, &d);
	}
	}
}

static bool struct_is_default(const kafka_schema *s, int16_t ver, const uint8_t *in)
{
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (kafka_field_present(f, ver) && !is_default(f, ver, in))
			return false;
	}
	return true;
}

static void encode_tags(ectx *c, const kafka_schema *s, const uint8_t *in, brook_buf *out)
{
	uint32_t n = 0;
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (f->tag >= 0 && kafka_field_present(f, c->ver) && !is_default(f, c->ver, in))
			n++;
	}
	kafka_wr_uvarint(out, n);
	if (!n)
		return;
	brook_buf tmp = BROOK_BUF_INIT;
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (f->tag < 0 || !kafka_field_present(f, c->ver) || is_default(f, c->ver, in))
			continue;
		brook_buf_reset(&tmp);
		ectx sc = *c;
		sc.splices = NULL; /* tagged records are never spliced */
		encode_field(&sc, f, in, &tmp);
		kafka_wr_uvarint(out, (uint32_t)f->tag);
		kafka_wr_uvarint(out, (uint32_t)tmp.len);
		brook_buf_append(out, tmp.data, tmp.len);
	}
	brook_buf_release(&tmp);
}

static void encode_struct(ectx *c, const kafka_schema *s, const uint8_t *in, brook_buf *out)
{
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (f->tag >= 0 || !kafka_field_present(f, c->ver))
			continue;
		encode_field(c, f, in, out);
	}
	if (c->flex)
		encode_tags(c, s, in, out);
}

void kafka_encode_spliced(const kafka_schema *s, int16_t ver, bool flexible, const void *in,
			  brook_buf *out, kafka_splices *splices)
{
	ectx c = {.ver = ver, .flex = flexible, .splices = splices};
	encode_struct(&c, s, in, out);
}

void kafka_encode(const kafka_schema *s, int16_t ver, bool flexible, const void *in,
		  brook_buf *out)
{
	kafka_encode_spliced(s, ver, flexible, in, out, NULL);
}
