/*
 * select.c — SELECT on user tables: selection, partition reads or token-range scans,
 * filtering, ORDER BY, LIMIT, aggregates and paging.
 *
 * PAGING: a page holds at most page_size rows. Rows are produced in order (partition
 * list order or token order; clustering order or its reverse within a partition); the
 * paging state names the last row sent — partition index (IN lists), token, partition
 * key, clustering key — and the LIMIT left, so the next page resumes strictly after it.
 * The executor looks one row past a full page before saying Has_more_pages, so a query
 * whose rows fill exactly one page needs no second request. A paging state is opaque to
 * clients and checked like any input (a malformed one answers Invalid).
 *
 *   state := 'P' | u32 partition index | i64 token | u16 len, partition key |
 *            u16 len, clustering key | u64 rows left of LIMIT (UINT64_MAX: none)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/exec.h"
#include "store/values.h"
#include "store/where.h"

typedef enum sel_kind { SEL_COL, SEL_COUNT, SEL_COUNT_COL, SEL_TTL, SEL_WRITETIME, SEL_TOKEN } sel_kind;

typedef struct sel {
	sel_kind kind;
	const catalog_column *c;
	const char *name;
	const cql_type *type;
} sel;

typedef struct selection {
	sel *s;
	size_t n;
	bool aggregate;
} selection;

static int cmp_col_name(const void *a, const void *b)
{
	const catalog_column *x = *(const catalog_column *const *)a;
	const catalog_column *y = *(const catalog_column *const *)b;
	return strcmp(x->name, y->name);
}

static int build_selection(store_exec_ctx *x, store_table *t, const cql_select *q, selection *out,
			   store_exec_out *o)
{
	const catalog_table *m = t->meta;
	brook_arena *a = x->arena;
	memset(out, 0, sizeof *out);
	if (q->json) {
		store_exec_error(o, CQL_ERR_INVALID, "SELECT JSON is not supported by brook's store");
		return BROOK_ERR;
	}
	if (q->star) {
		/* Cassandra's order: partition key, clustering, then the rest by name. */
		out->s = brook_arena_calloc(a, (m->n_columns + 1) * sizeof *out->s);
		const catalog_column **rest = brook_arena_calloc(a, (m->n_columns + 1) * sizeof *rest);
		size_t nr = 0;
		for (size_t i = 0; i < m->n_partition_key; i++)
			out->s[out->n++] = (sel){SEL_COL, m->partition_key[i], NULL, NULL};
		for (size_t i = 0; i < m->n_clustering; i++)
			out->s[out->n++] = (sel){SEL_COL, m->clustering[i], NULL, NULL};
		for (size_t i = 0; i < m->n_columns; i++)
			if (m->columns[i].kind == CATALOG_REGULAR || m->columns[i].kind == CATALOG_STATIC)
				rest[nr++] = &m->columns[i];
		qsort(rest, nr, sizeof *rest, cmp_col_name);
		for (size_t i = 0; i < nr; i++)
			out->s[out->n++] = (sel){SEL_COL, rest[i], NULL, NULL};
		for (size_t i = 0; i < out->n; i++) {
			out->s[i].name = out->s[i].c->name;
			out->s[i].type = t->types[out->s[i].c->index];
		}
		return BROOK_OK;
	}
	out->s = brook_arena_calloc(a, (q->n_selectors + 1) * sizeof *out->s);
	for (size_t i = 0; i < q->n_selectors; i++) {
		const cql_selector *se = &q->selectors[i];
		sel *s = &out->s[out->n++];
		const char *argname = NULL;
		if ((se->kind == CQL_SEL_TTL || se->kind == CQL_SEL_WRITETIME ||
		     (se->kind == CQL_SEL_FUNC && strcmp(se->name, "count") == 0)) &&
		    se->n_args == 1 && se->args[0].kind == CQL_SEL_COLUMN)
			argname = se->args[0].name;
		switch (se->kind) {
		case CQL_SEL_COLUMN:
			s->kind = SEL_COL;
			s->c = catalog_column_get(m, se->name);
			if (!s->c) {
				store_exec_error(o, CQL_ERR_INVALID, "Undefined column name %s",
						 se->name);
				return BROOK_ERR;
			}
			s->name = s->c->name;
			s->type = t->types[s->c->index];
			break;
		case CQL_SEL_COUNT:
			s->kind = SEL_COUNT;
			s->name = "count";
			s->type = cql_type_native(CQL_TYPE_BIGINT);
			out->aggregate = true;
			break;
		case CQL_SEL_TTL:
		case CQL_SEL_WRITETIME:
			s->kind = se->kind == CQL_SEL_TTL ? SEL_TTL : SEL_WRITETIME;
			s->c = argname ? catalog_column_get(m, argname) : NULL;
			if (!s->c) {
				store_exec_error(o, CQL_ERR_INVALID, "Undefined column name %s",
						 argname ? argname : "?");
				return BROOK_ERR;
			}
			if (s->c->kind != CATALOG_REGULAR) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "Cannot use selection function %s on PRIMARY KEY part %s",
						 s->kind == SEL_TTL ? "ttl" : "writeTime", s->c->name);
				return BROOK_ERR;
			}
			{
				char *nm = brook_arena_alloc(a, strlen(s->c->name) + 16);
				sprintf(nm, "%s(%s)", s->kind == SEL_TTL ? "ttl" : "writetime",
					s->c->name);
				s->name = nm;
			}
			s->type = cql_type_native(s->kind == SEL_TTL ? CQL_TYPE_INT : CQL_TYPE_BIGINT);
			break;
		case CQL_SEL_FUNC:
			if (strcmp(se->name, "count") == 0 && argname) {
				s->kind = SEL_COUNT_COL;
				s->c = catalog_column_get(m, argname);
				if (!s->c) {
					store_exec_error(o, CQL_ERR_INVALID, "Undefined column name %s",
							 argname);
					return BROOK_ERR;
				}
				char *nm = brook_arena_alloc(a, strlen(argname) + 24);
				sprintf(nm, "system.count(%s)", argname);
				s->name = nm;
				s->type = cql_type_native(CQL_TYPE_BIGINT);
				out->aggregate = true;
				break;
			}
			if (strcmp(se->name, "token") == 0) {
				bool ok = se->n_args == m->n_partition_key;
				for (size_t k = 0; ok && k < se->n_args; k++)
					ok = se->args[k].kind == CQL_SEL_COLUMN &&
					     strcmp(se->args[k].name, m->partition_key[k]->name) == 0;
				if (!ok) {
					store_exec_error(o, CQL_ERR_INVALID,
							 "Invalid arguments for token(): the partition "
							 "key columns in order");
					return BROOK_ERR;
				}
				s->kind = SEL_TOKEN;
				brook_buf b = BROOK_BUF_INIT;
				brook_buf_puts(&b, "system.token(");
				for (size_t k = 0; k < se->n_args; k++)
					brook_buf_printf(&b, "%s%s", k ? ", " : "", se->args[k].name);
				brook_buf_putc(&b, ')');
				s->name = brook_arena_strndup(a, b.data, b.len);
				brook_buf_release(&b);
				s->type = cql_type_native(CQL_TYPE_BIGINT);
				break;
			}
			/* fall through */
		default:
			store_exec_error(o, CQL_ERR_INVALID,
					 "Unsupported selector%s%s in brook's store",
					 se->name ? " " : "", se->name ? se->name : "");
			return BROOK_ERR;
		}
		if (se->alias)
			s->name = se->alias;
	}
	return BROOK_OK;
}

static void selection_metadata(const store_table *t, const selection *sl, bool skip,
			       brook_arena *a, cql_metadata *meta)
{
	memset(meta, 0, sizeof *meta);
	meta->columns_count = (int32_t)sl->n;
	if (skip) {
		meta->flags = CQL_META_NO_METADATA;
		return;
	}
	meta->flags = CQL_META_GLOBAL_TABLES_SPEC;
	meta->keyspace = cql_str_from(t->ks);
	meta->table = cql_str_from(t->name);
	meta->cols = brook_arena_calloc(a, (sl->n + 1) * sizeof *meta->cols);
	for (size_t i = 0; i < sl->n; i++) {
		meta->cols[i].name = cql_str_from(sl->s[i].name);
		meta->cols[i].type = sl->s[i].type;
	}
}

int store_select_metadata(store_exec_ctx *x, const cql_select *s, cql_metadata *meta,
			  store_exec_out *out)
{
	const char *ks = store_exec_keyspace(x, &s->table);
	if (ks && store_system_keyspace(ks)) {
		memset(meta, 0, sizeof *meta);
		meta->flags = CQL_META_NO_METADATA;
		return BROOK_OK;
	}
	store_table *t = store_exec_table(x, &s->table, out);
	if (!t)
		return BROOK_ERR;
	selection sl;
	if (build_selection(x, t, s, &sl, out) != BROOK_OK)
		return BROOK_ERR;
	selection_metadata(t, &sl, false, x->arena, meta);
	return BROOK_OK;
}

/* ---- execution ---------------------------------------------------------------------- */

/* A row kept for sorting: its clustering key and its cells as [bytes]. */
typedef struct held_row {
	brook_buf ck;
	brook_buf cells;
} held_row;

typedef struct run {
	store_exec_ctx *x;
	store_table *t;
	store_cmp cmp;
	const selection *sl;
	const store_where *w;
	cql_rows_wr wr;
	cql_bytes *pkv, *ckv;
	int64_t now_s;
	bool reverse;
	bool distinct;
	bool paging;
	int32_t page_left;
	uint64_t limit_left; /* UINT64_MAX: no limit */
	uint64_t ppl;        /* per partition limit (0: none) */
	uint64_t in_part;    /* rows emitted in the current partition */
	brook_buf cur_pk;    /* the partition rows are coming from */
	bool more, stop;
	/* Aggregates. */
	uint64_t *counts;
	cql_bytes *first; /* the first row's values of plain selectors */
	bool have_first;
	/* The last row sent (the paging position) and the partition index. */
	size_t pk_index;
	int64_t last_token;
	brook_buf last_pk, last_ck;
	bool have_last;
	/* Resuming inside a partition: skip rows up to and including this key. */
	const uint8_t *skip_ck;
	size_t skip_cklen;
	bool skipping;
	bool check_slices; /* scans: clustering slices still apply */
	bool collect;      /* ORDER BY over several partitions: rows held, sorted at the end */
	held_row *held;
	size_t n_held, cap_held;
	uint64_t rows_read;
} run;

static int32_t be32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* The value of selector i for a row; ints are built in scratch (16 bytes). */
static cql_bytes sel_value(run *R, size_t i, const store_part *p, const store_row *r,
			   uint8_t *scratch)
{
	const sel *s = &R->sl->s[i];
	switch (s->kind) {
	case SEL_COL:
		if (s->c->kind == CATALOG_PARTITION_KEY)
			return R->pkv[s->c->position];
		if (s->c->kind == CATALOG_CLUSTERING)
			return R->ckv[s->c->position];
		{
			const store_cell *c = store_row_cell(r, (uint16_t)s->c->index);
			return c ? (cql_bytes){c->value, (int32_t)c->vlen} : (cql_bytes){NULL, -1};
		}
	case SEL_TTL:
	case SEL_WRITETIME: {
		const store_cell *c = store_row_cell(r, (uint16_t)s->c->index);
		if (!c)
			return (cql_bytes){NULL, -1};
		if (s->kind == SEL_TTL) {
			if (!(c->flags & STORE_CELL_EXPIRING))
				return (cql_bytes){NULL, -1};
			int64_t left = (int64_t)c->ldt - R->now_s;
			uint32_t v = (uint32_t)(left < 0 ? 0 : left);
			for (int k = 0; k < 4; k++)
				scratch[k] = (uint8_t)(v >> (24 - 8 * k));
			return (cql_bytes){scratch, 4};
		}
		for (int k = 0; k < 8; k++)
			scratch[k] = (uint8_t)((uint64_t)c->ts >> (56 - 8 * k));
		return (cql_bytes){scratch, 8};
	}
	case SEL_TOKEN:
		for (int k = 0; k < 8; k++)
			scratch[k] = (uint8_t)((uint64_t)p->token >> (56 - 8 * k));
		return (cql_bytes){scratch, 8};
	default:
		return (cql_bytes){NULL, -1};
	}
}

static bool decode_keys(run *R, const store_part *p, const store_row *r)
{
	if (store_pk_decode(R->t, p->pk, p->pklen, R->pkv) != BROOK_OK)
		return false;
	int n = store_ck_decode(r->ck, r->cklen, R->ckv, R->t->n_ck);
	return n == (int)R->t->n_ck;
}

static void remember(run *R, const store_part *p, const store_row *r)
{
	R->last_token = p->token;
	brook_buf_reset(&R->last_pk);
	brook_buf_append(&R->last_pk, p->pk, p->pklen);
	brook_buf_reset(&R->last_ck);
	if (r->cklen)
		brook_buf_append(&R->last_ck, r->ck, r->cklen);
	R->have_last = true;
}

static int on_row(void *ctx, const store_part *p, const store_row *r)
{
	run *R = ctx;
	R->rows_read++;
	if (R->cur_pk.len != p->pklen || memcmp(R->cur_pk.data, p->pk, p->pklen) != 0) {
		brook_buf_reset(&R->cur_pk);
		brook_buf_append(&R->cur_pk, p->pk, p->pklen);
		R->in_part = 0;
	}
	if (R->skipping) {
		/* Resuming after the last row of the previous page. */
		if (R->skip_ck && p->pklen == R->last_pk.len &&
		    memcmp(p->pk, R->last_pk.data, p->pklen) == 0) {
			int c = store_ck_cmp(&R->cmp, r->ck, r->cklen, R->skip_ck, R->skip_cklen);
			if (R->reverse ? c >= 0 : c <= 0)
				return 0;
		}
		R->skipping = false;
	}
	if (R->check_slices) {
		bool in = false;
		for (size_t s = 0; s < R->w->n_slices && !in; s++)
			in = store_bounds_contain(&R->cmp, &R->w->slices[s], r->ck, r->cklen);
		if (!in)
			return 0;
	}
	if (!decode_keys(R, p, r))
		return 0;
	if (!store_where_match(R->w, R->t, R->pkv, R->ckv, r))
		return 0;
	if ((R->distinct && R->in_part) || (R->ppl && R->in_part >= R->ppl))
		return 0; /* DISTINCT / PER PARTITION LIMIT: the rest of the partition */
	if (R->sl->aggregate) {
		for (size_t i = 0; i < R->sl->n; i++) {
			const sel *s = &R->sl->s[i];
			if (s->kind == SEL_COUNT) {
				R->counts[i]++;
			} else if (s->kind == SEL_COUNT_COL) {
				uint8_t scratch[16];
				const sel tmp = {SEL_COL, s->c, NULL, NULL};
				const selection one = {(sel *)&tmp, 1, false};
				const selection *saved = R->sl;
				R->sl = &one;
				cql_bytes v = sel_value(R, 0, p, r, scratch);
				R->sl = saved;
				if (v.len >= 0)
					R->counts[i]++;
			} else if (!R->have_first) {
				uint8_t scratch[16];
				cql_bytes v = sel_value(R, i, p, r, scratch);
				if (v.len > 0) {
					uint8_t *d = brook_arena_alloc(R->x->arena, (size_t)v.len);
					memcpy(d, v.ptr, (size_t)v.len);
					v.ptr = d;
				}
				R->first[i] = v;
			}
		}
		R->have_first = true;
		remember(R, p, r);
		R->in_part++;
		if (R->limit_left != UINT64_MAX && --R->limit_left == 0) {
			R->stop = true;
			return 1;
		}
		return 0;
	}
	if (R->paging && R->page_left == 0) {
		R->more = true;
		R->stop = true;
		return 1;
	}
	if (R->collect) {
		/* ORDER BY across an IN list: keep the row, sorted and sent at the end. */
		if (R->n_held == R->cap_held) {
			R->cap_held = R->cap_held ? 2 * R->cap_held : 64;
			R->held = brook_realloc(R->held, R->cap_held * sizeof *R->held);
		}
		held_row *h = &R->held[R->n_held++];
		memset(h, 0, sizeof *h);
		brook_buf_append(&h->ck, r->ck, r->cklen);
		for (size_t i = 0; i < R->sl->n; i++) {
			uint8_t scratch[16];
			cql_bytes v = sel_value(R, i, p, r, scratch);
			cql_wr_bytes(&h->cells, v);
		}
		remember(R, p, r);
		return 0;
	}
	for (size_t i = 0; i < R->sl->n; i++) {
		uint8_t scratch[16];
		cql_bytes v = sel_value(R, i, p, r, scratch);
		cql_rows_cell(&R->wr, v.ptr, v.len);
	}
	R->page_left--;
	R->in_part++;
	remember(R, p, r);
	if (R->limit_left != UINT64_MAX && --R->limit_left == 0) {
		R->stop = true;
		return 1;
	}
	return 0;
}

/* ---- paging state ---- */

static void state_write(const run *R, brook_buf *b)
{
	brook_buf_putc(b, 'P');
	brook_buf_put_be32(b, (uint32_t)R->pk_index);
	brook_buf_put_be64(b, (uint64_t)R->last_token);
	brook_buf_put_be16(b, (uint16_t)R->last_pk.len);
	brook_buf_append(b, R->last_pk.data, R->last_pk.len);
	brook_buf_put_be16(b, (uint16_t)R->last_ck.len);
	brook_buf_append(b, R->last_ck.data, R->last_ck.len);
	brook_buf_put_be64(b, R->limit_left);
}

static int state_read(run *R, cql_bytes st)
{
	cql_rd rd;
	brook_rd_init(&rd, st.ptr, (size_t)st.len);
	if (cql_rd_byte(&rd) != 'P')
		return BROOK_ERR;
	R->pk_index = (uint32_t)cql_rd_int(&rd);
	R->last_token = cql_rd_long(&rd);
	cql_bytes pk = cql_rd_short_bytes(&rd);
	cql_bytes ck = cql_rd_short_bytes(&rd);
	uint64_t left = (uint64_t)cql_rd_long(&rd);
	if (rd.failed || brook_rd_left(&rd) != 0 || pk.len <= 0)
		return BROOK_ERR;
	brook_buf_append(&R->last_pk, pk.ptr, (size_t)pk.len);
	if (ck.len > 0)
		brook_buf_append(&R->last_ck, ck.ptr, (size_t)ck.len);
	R->have_last = true;
	R->limit_left = left;
	return BROOK_OK;
}

static int slice_cmp_ctx_sort(const void *a, const void *b, void *ctx)
{
	const store_bounds *x = a, *y = b;
	return store_ck_cmp(ctx, x->start, x->slen, y->start, y->slen);
}

static int read_partitions(run *R, char *err, size_t errlen)
{
	const store_where *w = R->w;
	for (size_t i = R->pk_index; i < w->n_pks && !R->stop; i++) {
		R->pk_index = i;
		for (size_t k = 0; k < w->n_slices && !R->stop; k++) {
			size_t s = R->reverse ? w->n_slices - 1 - k : k;
			store_read_opts ro = {0};
			ro.range = w->slices[s];
			ro.reverse = R->reverse;
			if (store_engine_read(R->t->engine, (const uint8_t *)w->pks[i].data,
					      w->pks[i].len, &ro, on_row, R, err, errlen) != BROOK_OK)
				return BROOK_ERR;
		}
		R->skipping = false;
	}
	return BROOK_OK;
}

static int scan(run *R, char *err, size_t errlen)
{
	store_pos after = {0}, next = {0};
	if (R->have_last) {
		/* The engine resumes strictly after the last row sent. */
		after.valid = 1;
		after.token = R->last_token;
		brook_buf_append(&after.pk, R->last_pk.data, R->last_pk.len);
		brook_buf_append(&after.ck, R->last_ck.data, R->last_ck.len);
	}
	R->skipping = false;
	R->check_slices = R->w->ck_restricted;
	uint64_t nrows = 0;
	int rc = BROOK_OK;
	if (R->w->tmin <= R->w->tmax)
		rc = store_engine_scan(R->t->engine, R->w->tmin, R->w->tmax,
				       after.valid ? &after : NULL, 0, 0, on_row, R, &next, &nrows,
				       err, errlen);
	store_pos_release(&after);
	store_pos_release(&next);
	return rc;
}

static void release_held(run *R)
{
	for (size_t i = 0; i < R->n_held; i++) {
		brook_buf_release(&R->held[i].ck);
		brook_buf_release(&R->held[i].cells);
	}
	free(R->held);
	R->held = NULL;
	R->n_held = 0;
}

static int held_cmp(const void *a, const void *b, void *ctx)
{
	const run *R = ctx;
	const held_row *x = a, *y = b;
	int c = store_ck_cmp(&R->cmp, (const uint8_t *)x->ck.data, x->ck.len,
			     (const uint8_t *)y->ck.data, y->ck.len);
	return R->reverse ? -c : c;
}

/* Sorts the held rows by clustering and writes up to LIMIT of them. */
static void emit_held(run *R)
{
	qsort_r(R->held, R->n_held, sizeof *R->held, held_cmp, R);
	for (size_t i = 0; i < R->n_held && (R->limit_left == UINT64_MAX || i < R->limit_left);
	     i++) {
		cql_rd rd;
		brook_rd_init(&rd, R->held[i].cells.data, R->held[i].cells.len);
		for (size_t k = 0; k < R->sl->n; k++) {
			cql_bytes v = cql_rd_bytes(&rd);
			cql_rows_cell(&R->wr, v.ptr, v.len);
		}
	}
	release_held(R);
}

static int check_order(run *R, const cql_select *q, store_exec_out *o)
{
	const catalog_table *m = R->t->meta;
	if (!q->n_order_by)
		return BROOK_OK;
	if (!R->w->pk_complete) {
		store_exec_error(o, CQL_ERR_INVALID, "ORDER BY is only supported when the partition "
				 "key is restricted by an EQ or an IN.");
		return BROOK_ERR;
	}
	int rev = -1;
	for (size_t i = 0; i < q->n_order_by; i++) {
		const catalog_column *c = catalog_column_get(m, q->order_by[i].col.name);
		if (!c) {
			store_exec_error(o, CQL_ERR_INVALID, "Undefined column name %s",
					 q->order_by[i].col.name);
			return BROOK_ERR;
		}
		if (c->kind != CATALOG_CLUSTERING) {
			store_exec_error(o, CQL_ERR_INVALID, "Order by on unknown column %s", c->name);
			return BROOK_ERR;
		}
		if ((size_t)c->position != i) {
			store_exec_error(o, CQL_ERR_INVALID, "Order by currently only supports the "
					 "ordering of columns following their declared order in the "
					 "PRIMARY KEY");
			return BROOK_ERR;
		}
		int r = q->order_by[i].desc != c->desc;
		if (rev >= 0 && r != rev) {
			store_exec_error(o, CQL_ERR_INVALID, "Unsupported order by relation");
			return BROOK_ERR;
		}
		rev = r;
	}
	R->reverse = rev == 1;
	if (R->w->n_pks > 1 && R->t->n_ck) {
		if (R->paging) {
			store_exec_error(o, CQL_ERR_INVALID,
					 "Cannot page queries with both ORDER BY and a IN restriction "
					 "on the partition key; you must either remove the ORDER BY or "
					 "the IN and sort client side, or disable paging for this query");
			return BROOK_ERR;
		}
		R->collect = true;
	}
	return BROOK_OK;
}

static int limit_value(store_exec_ctx *x, const cql_term *term, const char *what, uint64_t *out,
		       store_exec_out *o)
{
	if (!term)
		return BROOK_OK;
	store_value v;
	if (store_exec_value(x, cql_type_native(CQL_TYPE_INT), what, term, &v, o) != BROOK_OK)
		return BROOK_ERR;
	if (v.kind == STORE_VALUE_NULL) {
		store_exec_error(o, CQL_ERR_INVALID, "Invalid null value of limit");
		return BROOK_ERR;
	}
	if (v.kind != STORE_VALUE_SET || v.len != 4)
		return BROOK_OK;
	int32_t l = be32(v.ptr);
	if (l <= 0) {
		store_exec_error(o, CQL_ERR_INVALID, "LIMIT must be strictly positive");
		return BROOK_ERR;
	}
	*out = (uint64_t)l;
	return BROOK_OK;
}

int store_exec_select(store_exec_ctx *x, const cql_select *q, store_exec_out *o)
{
	const char *ks = store_exec_keyspace(x, &q->table);
	if (ks && store_system_keyspace(ks))
		return store_system_select(x, ks, q, o);
	store_table *t = store_exec_table(x, &q->table, o);
	if (!t)
		return BROOK_OK;
	selection sl;
	if (build_selection(x, t, q, &sl, o) != BROOK_OK)
		return BROOK_OK;
	store_where w;
	if (store_where_analyze(x, t, q->where, q->n_where, STORE_WHERE_SELECT, &w, o) != BROOK_OK)
		return BROOK_OK;
	if (w.needs_filtering && !q->allow_filtering) {
		store_exec_error(o, CQL_ERR_INVALID, "%s", w.filter_msg);
		return BROOK_OK;
	}
	if (q->distinct) {
		for (size_t i = 0; i < sl.n; i++)
			if (sl.s[i].kind != SEL_COL || sl.s[i].c->kind != CATALOG_PARTITION_KEY) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "SELECT DISTINCT queries must only request partition "
						 "key columns and/or static columns (not %s)",
						 sl.s[i].name);
				return BROOK_OK;
			}
	}
	run R = {0};
	R.x = x;
	R.t = t;
	R.cmp = store_table_cmp(t);
	R.sl = &sl;
	R.w = &w;
	R.now_s = (int64_t)time(NULL);
	R.distinct = q->distinct;
	R.paging = x->page_size > 0 && !sl.aggregate;
	R.page_left = R.paging ? x->page_size : INT32_MAX;
	R.limit_left = UINT64_MAX;
	R.pkv = brook_arena_calloc(x->arena, (t->meta->n_partition_key + 1) * sizeof *R.pkv);
	R.ckv = brook_arena_calloc(x->arena, (t->n_ck + 1) * sizeof *R.ckv);
	if (limit_value(x, q->limit, "[limit]", &R.limit_left, o) != BROOK_OK ||
	    limit_value(x, q->per_partition_limit, "[per_partition_limit]", &R.ppl, o) != BROOK_OK)
		return BROOK_OK;
	if (check_order(&R, q, o) != BROOK_OK)
		return BROOK_OK;
	/* Slices in clustering order. */
	if (w.n_slices > 1)
		qsort_r(w.slices, w.n_slices, sizeof *w.slices, slice_cmp_ctx_sort, &R.cmp);
	if (x->paging_state.len > 0 && !sl.aggregate) {
		if (state_read(&R, x->paging_state) != BROOK_OK ||
		    (w.pk_complete && R.pk_index >= w.n_pks && w.n_pks)) {
			brook_buf_release(&R.last_pk);
			brook_buf_release(&R.last_ck);
			store_exec_error(o, CQL_ERR_INVALID, "Invalid value for the paging state");
			return BROOK_OK;
		}
		R.skipping = true;
		R.skip_ck = (const uint8_t *)R.last_ck.data;
		R.skip_cklen = R.last_ck.len;
		/* The partition of the last row sent already counts as emitted. */
		brook_buf_append(&R.cur_pk, R.last_pk.data, R.last_pk.len);
		R.in_part = 1;
		if (R.limit_left == 0)
			R.stop = true;
	}
	cql_metadata meta;
	selection_metadata(t, &sl, x->skip_metadata, x->arena, &meta);
	if (sl.aggregate) {
		R.counts = brook_arena_calloc(x->arena, (sl.n + 1) * sizeof *R.counts);
		R.first = brook_arena_calloc(x->arena, (sl.n + 1) * sizeof *R.first);
		for (size_t i = 0; i < sl.n; i++)
			R.first[i] = (cql_bytes){NULL, -1};
	}
	cql_rows_begin(&R.wr, o->body, &meta);
	char err[512];
	int rc = BROOK_OK;
	if (!R.stop)
		rc = w.pk_complete ? read_partitions(&R, err, sizeof err) : scan(&R, err, sizeof err);
	if (rc != BROOK_OK) {
		release_held(&R);
		brook_buf_release(&R.cur_pk);
		brook_buf_release(&R.last_pk);
		brook_buf_release(&R.last_ck);
		store_exec_error(o, CQL_ERR_SERVER, "read failed: %s", err);
		return BROOK_OK;
	}
	if (R.collect)
		emit_held(&R);
	if (sl.aggregate) {
		for (size_t i = 0; i < sl.n; i++) {
			if (sl.s[i].kind == SEL_COUNT || sl.s[i].kind == SEL_COUNT_COL)
				cql_rows_cell_bigint(&R.wr, (int64_t)R.counts[i]);
			else
				cql_rows_cell(&R.wr, R.first[i].ptr, R.first[i].len);
		}
	}
	if (R.more) {
		brook_buf st = BROOK_BUF_INIT;
		state_write(&R, &st);
		cql_rows_set_paging_state(&R.wr, st.data, (int32_t)st.len);
		brook_buf_release(&st);
	}
	cql_rows_end(&R.wr);
	o->reads += R.rows_read;
	brook_buf_release(&R.cur_pk);
	brook_buf_release(&R.last_pk);
	brook_buf_release(&R.last_ck);
	return BROOK_OK;
}
