/*
 * client_res.c — answers of the CQL client (client.h, "results"): decoding a frame body
 * into a cql_res that owns its bytes, and the accessors over Rows.
 *
 * A cql_res keeps the whole (decompressed) body in one buffer; the decoded message,
 * column names and cells are views into it or arrays in the result's arena, so one
 * cql_res_free() releases everything. Cells are located lazily: the first cell access
 * walks <rows_content> once (cql_rows_iter) into a rows x columns array.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "cql/client_impl.h"
#include "cql/compress.h"

cql_res *cql_res_decode(const cql_frame_hdr *h, const void *body, size_t len, uint32_t max_len,
			char *err, size_t errlen)
{
	cql_res *r = brook_calloc(1, sizeof *r);
	r->hdr = *h;
	r->keyspace = "";
	if (h->flags & CQL_FLAG_COMPRESSION) {
		if (cql_lz4_decompress(body, len, max_len, &r->body, err, errlen) != BROOK_OK) {
			cql_res_free(r);
			return NULL;
		}
	} else if (len) {
		brook_buf_append(&r->body, body, len);
	}
	cql_rd rd;
	cql_rd_init(&rd, r->body.data, r->body.len);
	cql_frame_read_extras(h, &rd, &r->arena, &r->extras);
	if (!rd.failed)
		cql_msg_decode(h->opcode, &rd, &r->arena, &r->msg);
	if (rd.failed) {
		snprintf(err, errlen, "malformed %s answer: %s",
			 cql_opcode_name(h->opcode) ? cql_opcode_name(h->opcode) : "unknown",
			 rd.err);
		cql_res_free(r);
		return NULL;
	}
	if (h->opcode == CQL_OP_RESULT) {
		const cql_result *res = &r->msg.u.result;
		if (res->kind == CQL_RESULT_ROWS && res->meta.cols) {
			int32_t n = res->meta.columns_count;
			r->names = brook_arena_alloc(&r->arena, (size_t)n * sizeof *r->names);
			for (int32_t i = 0; i < n; i++)
				r->names[i] = cql_str_dup(&r->arena, res->meta.cols[i].name);
		} else if (res->kind == CQL_RESULT_SET_KEYSPACE) {
			r->keyspace = cql_str_dup(&r->arena, res->keyspace);
		}
	}
	return r;
}

void cql_res_free(cql_res *r)
{
	if (!r)
		return;
	brook_buf_release(&r->body);
	brook_arena_release(&r->arena);
	free(r);
}

static const cql_result *rows_of(const cql_res *r)
{
	if (r->msg.opcode != CQL_OP_RESULT || r->msg.u.result.kind != CQL_RESULT_ROWS)
		return NULL;
	return &r->msg.u.result;
}

int32_t cql_res_kind(const cql_res *r)
{
	return r->msg.opcode == CQL_OP_RESULT ? r->msg.u.result.kind : 0;
}

int32_t cql_res_row_count(const cql_res *r)
{
	const cql_result *rs = rows_of(r);
	return rs ? rs->rows_count : 0;
}

int32_t cql_res_column_count(const cql_res *r)
{
	const cql_result *rs = rows_of(r);
	return rs ? rs->meta.columns_count : 0;
}

const char *cql_res_column_name(const cql_res *r, int32_t col)
{
	if (!r->names || col < 0 || col >= cql_res_column_count(r))
		return "";
	return r->names[col];
}

const cql_type *cql_res_column_type(const cql_res *r, int32_t col)
{
	const cql_result *rs = rows_of(r);
	if (!rs || !rs->meta.cols || col < 0 || col >= rs->meta.columns_count)
		return NULL;
	return rs->meta.cols[col].type;
}

int32_t cql_res_column_index(const cql_res *r, const char *name)
{
	int32_t n = cql_res_column_count(r);
	for (int32_t i = 0; r->names && i < n; i++)
		if (!strcmp(r->names[i], name))
			return i;
	return -1;
}

void cql_res_index(const cql_res *r)
{
	const cql_result *rs = rows_of(r);
	if (!rs || r->cells || rs->rows_count == 0)
		return;
	cql_res *w = (cql_res *)r; /* the index is a cache: logically const */
	size_t cols = (size_t)rs->meta.columns_count;
	w->cells = brook_arena_alloc(&w->arena, (size_t)rs->rows_count * cols * sizeof(cql_bytes));
	cql_rows_iter it;
	cql_rows_iter_init(&it, rs);
	for (int32_t i = 0; i < rs->rows_count; i++)
		if (!cql_rows_next(&it, w->cells + (size_t)i * cols)) /* decode checked it all */
			memset(w->cells + (size_t)i * cols, 0xff, cols * sizeof(cql_bytes));
}

cql_bytes cql_res_cell(const cql_res *r, int32_t row, int32_t col)
{
	const cql_result *rs = rows_of(r);
	if (!rs || row < 0 || row >= rs->rows_count || col < 0 || col >= rs->meta.columns_count)
		return CQL_BYTES_NULL;
	cql_res_index(r);
	return r->cells[(size_t)row * (size_t)rs->meta.columns_count + (size_t)col];
}

bool cql_res_is_null(const cql_res *r, int32_t row, int32_t col)
{
	return cql_res_cell(r, row, col).len < 0;
}

void cql_res_cell_text(const cql_res *r, int32_t row, int32_t col, brook_buf *out,
		       unsigned flags)
{
	cql_bytes b = cql_res_cell(r, row, col);
	const cql_type *t = cql_res_column_type(r, col);
	if (!t)
		t = cql_type_native(CQL_TYPE_BLOB);
	cql_value_to_text(out, t, b.ptr, b.len, flags);
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The cell and its type id when it holds a non-empty value. */
static int cell_of(const cql_res *r, int32_t row, int32_t col, cql_bytes *b, uint16_t *id)
{
	const cql_type *t = cql_res_column_type(r, col);
	*b = cql_res_cell(r, row, col);
	if (!t || b->len <= 0)
		return BROOK_ERR;
	*id = t->id;
	return BROOK_OK;
}

int cql_res_get_int64(const cql_res *r, int32_t row, int32_t col, int64_t *v)
{
	cql_bytes b;
	uint16_t id;
	if (cell_of(r, row, col, &b, &id) != BROOK_OK)
		return BROOK_ERR;
	size_t want;
	switch (id) {
	case CQL_TYPE_TINYINT:
		want = 1;
		break;
	case CQL_TYPE_SMALLINT:
		want = 2;
		break;
	case CQL_TYPE_INT:
	case CQL_TYPE_DATE:
		want = 4;
		break;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
	case CQL_TYPE_TIMESTAMP:
	case CQL_TYPE_TIME:
		want = 8;
		break;
	default:
		return BROOK_ERR;
	}
	if ((size_t)b.len != want)
		return BROOK_ERR;
	uint64_t u = be(b.ptr, want);
	if (id == CQL_TYPE_DATE) {
		*v = cql_date_to_days((uint32_t)u);
		return BROOK_OK;
	}
	if (want < 8 && (u >> (want * 8 - 1)) & 1) /* sign-extend */
		u |= ~(uint64_t)0 << (want * 8);
	*v = (int64_t)u;
	return BROOK_OK;
}

int cql_res_get_double(const cql_res *r, int32_t row, int32_t col, double *v)
{
	cql_bytes b;
	uint16_t id;
	if (cell_of(r, row, col, &b, &id) != BROOK_OK)
		return BROOK_ERR;
	if (id == CQL_TYPE_DOUBLE && b.len == 8) {
		uint64_t u = be(b.ptr, 8);
		memcpy(v, &u, 8);
		return BROOK_OK;
	}
	if (id == CQL_TYPE_FLOAT && b.len == 4) {
		uint32_t u = (uint32_t)be(b.ptr, 4);
		float f;
		memcpy(&f, &u, 4);
		*v = f;
		return BROOK_OK;
	}
	return BROOK_ERR;
}

int cql_res_get_bool(const cql_res *r, int32_t row, int32_t col, bool *v)
{
	cql_bytes b;
	uint16_t id;
	if (cell_of(r, row, col, &b, &id) != BROOK_OK || id != CQL_TYPE_BOOLEAN || b.len != 1)
		return BROOK_ERR;
	*v = b.ptr[0] != 0;
	return BROOK_OK;
}

int cql_res_get_text(const cql_res *r, int32_t row, int32_t col, cql_str *v)
{
	cql_bytes b = cql_res_cell(r, row, col);
	const cql_type *t = cql_res_column_type(r, col);
	if (!t || b.len < 0 ||
	    (t->id != CQL_TYPE_VARCHAR && t->id != CQL_TYPE_ASCII))
		return BROOK_ERR;
	v->ptr = b.len ? (const char *)b.ptr : "";
	v->len = (size_t)b.len;
	return BROOK_OK;
}

int cql_res_get_uuid(const cql_res *r, int32_t row, int32_t col, uint8_t u[16])
{
	cql_bytes b;
	uint16_t id;
	if (cell_of(r, row, col, &b, &id) != BROOK_OK ||
	    (id != CQL_TYPE_UUID && id != CQL_TYPE_TIMEUUID) || b.len != 16)
		return BROOK_ERR;
	memcpy(u, b.ptr, 16);
	return BROOK_OK;
}

bool cql_res_has_more_pages(const cql_res *r)
{
	const cql_result *rs = rows_of(r);
	return rs && (rs->meta.flags & CQL_META_HAS_MORE_PAGES) && rs->meta.paging_state.len >= 0;
}

cql_bytes cql_res_paging_state(const cql_res *r)
{
	return cql_res_has_more_pages(r) ? r->msg.u.result.meta.paging_state : CQL_BYTES_NULL;
}

const char *cql_res_keyspace(const cql_res *r)
{
	return r->keyspace;
}

const cql_schema_change *cql_res_schema_change(const cql_res *r)
{
	return cql_res_kind(r) == CQL_RESULT_SCHEMA_CHANGE ? &r->msg.u.result.change : NULL;
}

const cql_str_list *cql_res_warnings(const cql_res *r)
{
	return &r->extras.warnings;
}

const cql_msg *cql_res_msg(const cql_res *r)
{
	return &r->msg;
}
