/*
 * exec.c — statement dispatch, writes (INSERT / UPDATE / DELETE / BATCH / TRUNCATE),
 * USE, DDL and PREPARE metadata (see exec.h). SELECT lives in select.c.
 */
#include "store/exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/values.h"
#include "store/where.h"

#define MAX_TTL 630720000 /* 20 years, as Cassandra */

void store_exec_out_init(store_exec_out *out, brook_buf *body)
{
	memset(out, 0, sizeof *out);
	out->opcode = CQL_OP_RESULT;
	out->body = body;
	out->body_start = body->len;
}

void store_exec_error(store_exec_out *out, int32_t code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	brook_buf_truncate(out->body, out->body_start);
	cql_error_write(out->body, code, msg);
	out->opcode = CQL_OP_ERROR;
}

const char *store_exec_keyspace(const store_exec_ctx *x, const cql_qname *q)
{
	return q->ks ? q->ks : x->keyspace;
}

store_table *store_exec_table(store_exec_ctx *x, const cql_qname *q, store_exec_out *out)
{
	const char *ks = store_exec_keyspace(x, q);
	if (!ks) {
		store_exec_error(out, CQL_ERR_INVALID, "%s", CATALOG_NO_KEYSPACE);
		return NULL;
	}
	store_table *t = store_db_table(x->db, ks, q->name);
	if (t)
		return t;
	if (!catalog_keyspace_get(store_db_catalog(x->db), ks))
		store_exec_error(out, CQL_ERR_INVALID, "Keyspace %s does not exist", ks);
	else
		store_exec_error(out, CQL_ERR_INVALID, "unconfigured table %s", q->name);
	return NULL;
}

int store_exec_value(store_exec_ctx *x, const cql_type *type, const char *col,
		     const cql_term *term, store_value *v, store_exec_out *out)
{
	char err[512];
	if (!x->now_ms) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		x->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	if (store_value_from_term(type, col, term, x->values, x->n_values, x->now_ms, x->arena, v,
				  err, sizeof err) != BROOK_OK) {
		store_exec_error(out, CQL_ERR_INVALID, "%s", err);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* Write timestamps in µs: strictly increasing within the process. */
static int64_t next_timestamp(void)
{
	static int64_t last;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (now <= last)
		now = last + 1;
	last = now;
	return now;
}

static int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

/* ---- mutations ---------------------------------------------------------------------- */

typedef struct mut {
	store_table *t;
	store_part p;
} mut;

typedef struct wctx {
	store_exec_ctx *x;
	store_exec_out *out;
	mut *m;
	size_t n, cap;
	int64_t batch_ts; /* a batch's USING TIMESTAMP, or STORE_NO_TS */
	/* The column lookups of the last INSERT: a batch repeats one prepared INSERT. */
	const cql_insert *memo_ins;
	const catalog_column **memo_cols;
} wctx;

static store_part *new_part(wctx *w, store_table *t, const brook_buf *pk)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		mut *m = brook_arena_alloc(w->x->arena, cap * sizeof *m);
		if (w->n)
			memcpy(m, w->m, w->n * sizeof *m);
		w->m = m;
		w->cap = cap;
	}
	mut *m = &w->m[w->n++];
	memset(m, 0, sizeof *m);
	m->t = t;
	uint8_t *k = brook_arena_alloc(w->x->arena, pk->len);
	memcpy(k, pk->data, pk->len);
	m->p.pk = k;
	m->p.pklen = (uint32_t)pk->len;
	m->p.del = (store_del){STORE_NO_TS, 0};
	return &m->p;
}

static store_row *new_row(wctx *w, store_part *p, const brook_buf *ck, size_t max_cells)
{
	if (p->nrows == p->rowcap) {
		uint32_t cap = p->rowcap ? 2 * p->rowcap : 1;
		store_row *r = brook_arena_alloc(w->x->arena, cap * sizeof *r);
		if (p->nrows)
			memcpy(r, p->rows, p->nrows * sizeof *r);
		p->rows = r;
		p->rowcap = cap;
	}
	store_row *r = &p->rows[p->nrows++];
	memset(r, 0, sizeof *r);
	if (ck->len) {
		uint8_t *c = brook_arena_alloc(w->x->arena, ck->len);
		memcpy(c, ck->data, ck->len);
		r->ck = c;
	}
	r->cklen = (uint32_t)ck->len;
	r->del = (store_del){STORE_NO_TS, 0};
	r->cells = brook_arena_alloc(w->x->arena, (max_cells + 1) * sizeof *r->cells);
	r->cellcap = (uint32_t)(max_cells + 1);
	return r;
}

/* Timestamp and TTL of a statement. */
typedef struct wopts {
	int64_t ts;
	int32_t ttl;
	int64_t now_s;
} wopts;

static int using_opts(wctx *w, store_table *t, const cql_using *u, wopts *o)
{
	store_exec_ctx *x = w->x;
	o->now_s = now_seconds();
	o->ttl = 0;
	o->ts = STORE_NO_TS;
	store_value v;
	if (u->timestamp) {
		if (w->batch_ts != STORE_NO_TS) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "Timestamp must be set either on BATCH or individual "
					 "statements");
			return BROOK_ERR;
		}
		if (store_exec_value(x, cql_type_native(CQL_TYPE_BIGINT), "[timestamp]",
				     u->timestamp, &v, w->out) != BROOK_OK)
			return BROOK_ERR;
		if (v.kind == STORE_VALUE_NULL) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Invalid null value of timestamp");
			return BROOK_ERR;
		}
		if (v.kind == STORE_VALUE_SET && v.len == 8) {
			int64_t ts = 0;
			for (int i = 0; i < 8; i++)
				ts = (int64_t)((uint64_t)ts << 8 | v.ptr[i]);
			o->ts = ts;
		}
	}
	if (o->ts == STORE_NO_TS)
		o->ts = w->batch_ts != STORE_NO_TS ? w->batch_ts
		      : x->timestamp != STORE_NO_TS ? x->timestamp
						    : next_timestamp();
	if (u->ttl) {
		if (store_exec_value(x, cql_type_native(CQL_TYPE_INT), "[ttl]", u->ttl, &v, w->out) !=
		    BROOK_OK)
			return BROOK_ERR;
		if (v.kind == STORE_VALUE_NULL) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Invalid null value of TTL");
			return BROOK_ERR;
		}
		if (v.kind == STORE_VALUE_SET && v.len == 4)
			o->ttl = (int32_t)((uint32_t)v.ptr[0] << 24 | (uint32_t)v.ptr[1] << 16 |
					   (uint32_t)v.ptr[2] << 8 | v.ptr[3]);
		if (o->ttl < 0) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "A TTL must be greater or equal to 0, but was %d", o->ttl);
			return BROOK_ERR;
		}
		if (o->ttl > MAX_TTL) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "ttl is too large. requested (%d) maximum (%d)", o->ttl,
					 MAX_TTL);
			return BROOK_ERR;
		}
	} else if (t->meta) {
		for (size_t i = 0; i < t->meta->n_options; i++)
			if (strcmp(t->meta->options[i].name, "default_time_to_live") == 0)
				o->ttl = atoi(t->meta->options[i].value);
	}
	return BROOK_OK;
}

static void put_cell(store_row *r, uint16_t col, const wopts *o, const uint8_t *val, size_t len)
{
	store_cell *c = &r->cells[r->ncells++];
	memset(c, 0, sizeof *c);
	c->col = col;
	c->ts = o->ts;
	c->value = val;
	c->vlen = (uint32_t)len;
	if (o->ttl > 0) {
		c->flags = STORE_CELL_EXPIRING;
		c->ttl = o->ttl;
		c->ldt = (int32_t)(o->now_s + o->ttl);
	}
}

static void put_tombstone(store_row *r, uint16_t col, const wopts *o)
{
	store_cell *c = &r->cells[r->ncells++];
	memset(c, 0, sizeof *c);
	c->col = col;
	c->ts = o->ts;
	c->flags = STORE_CELL_TOMBSTONE;
	c->ldt = (int32_t)o->now_s;
}

static bool is_multicell(const cql_type *t)
{
	return !t->frozen &&
	       (t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET || t->id == CQL_TYPE_MAP);
}

/* A value for a regular column: an empty non-frozen collection is a null. */
static void put_value(store_row *r, store_table *t, size_t col, const wopts *o,
		      const store_value *v)
{
	if (v->kind == STORE_VALUE_UNSET)
		return;
	bool empty_coll = v->kind == STORE_VALUE_SET && is_multicell(t->types[col]) && v->len == 4 &&
			  memcmp(v->ptr, "\0\0\0\0", 4) == 0;
	if (v->kind == STORE_VALUE_NULL || empty_coll)
		put_tombstone(r, (uint16_t)col, o);
	else
		put_cell(r, (uint16_t)col, o, v->ptr, v->len);
}

static bool system_ks_write(wctx *w, const cql_qname *q)
{
	const char *ks = store_exec_keyspace(w->x, q);
	if (ks && store_system_keyspace(ks)) {
		store_exec_error(w->out, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable",
				 ks);
		return true;
	}
	return false;
}

static int exec_insert(wctx *w, const cql_insert *ins)
{
	store_exec_ctx *x = w->x;
	if (system_ks_write(w, &ins->table))
		return BROOK_ERR;
	store_table *t = store_exec_table(x, &ins->table, w->out);
	if (!t)
		return BROOK_ERR;
	const catalog_table *m = t->meta;
	if (ins->n_columns != ins->n_values) {
		store_exec_error(w->out, CQL_ERR_INVALID, "Unmatched column names/values");
		return BROOK_ERR;
	}
	store_value *vals = brook_arena_calloc(x->arena, m->n_columns * sizeof *vals);
	bool *given = brook_arena_calloc(x->arena, m->n_columns);
	if (w->memo_ins != ins) {
		w->memo_cols = brook_arena_calloc(x->arena, (ins->n_columns + 1) * sizeof *w->memo_cols);
		for (size_t i = 0; i < ins->n_columns; i++)
			w->memo_cols[i] = catalog_column_get(m, ins->columns[i].name);
		w->memo_ins = ins;
	}
	for (size_t i = 0; i < ins->n_columns; i++) {
		const catalog_column *c = w->memo_cols[i];
		if (!c) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Undefined column name %s",
					 ins->columns[i].name);
			return BROOK_ERR;
		}
		if (given[c->index]) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "Multiple definitions found for column %s", c->name);
			return BROOK_ERR;
		}
		if (c->kind == CATALOG_STATIC) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "Static columns are not supported by brook's store");
			return BROOK_ERR;
		}
		given[c->index] = true;
		if (store_exec_value(x, t->types[c->index], c->name, ins->values[i],
				     &vals[c->index], w->out) != BROOK_OK)
			return BROOK_ERR;
	}
	cql_bytes *pkv = brook_arena_calloc(x->arena, (m->n_partition_key + 1) * sizeof *pkv);
	cql_bytes *ckv = brook_arena_calloc(x->arena, (m->n_clustering + 1) * sizeof *ckv);
	for (size_t pass = 0; pass < 2; pass++) {
		size_t n = pass ? m->n_clustering : m->n_partition_key;
		catalog_column **cols = pass ? m->clustering : m->partition_key;
		for (size_t i = 0; i < n; i++) {
			const store_value *v = &vals[cols[i]->index];
			if (!given[cols[i]->index]) {
				store_exec_error(w->out, CQL_ERR_INVALID,
						 pass ? "Some clustering keys are missing: %s"
						      : "Some partition key parts are missing: %s",
						 cols[i]->name);
				return BROOK_ERR;
			}
			if (v->kind != STORE_VALUE_SET) {
				store_exec_error(w->out, CQL_ERR_INVALID,
						 v->kind == STORE_VALUE_NULL
							 ? "Invalid null value in condition for column %s"
							 : "Invalid unset value for column %s",
						 cols[i]->name);
				return BROOK_ERR;
			}
			(pass ? ckv : pkv)[i] = (cql_bytes){v->ptr, (int32_t)v->len};
		}
	}
	wopts o;
	if (using_opts(w, t, &ins->using, &o) != BROOK_OK)
		return BROOK_ERR;
	brook_buf pk = BROOK_BUF_INIT, ck = BROOK_BUF_INIT;
	char err[256];
	int rc = store_pk_encode(t, pkv, &pk, err, sizeof err);
	if (rc != BROOK_OK) {
		store_exec_error(w->out, CQL_ERR_INVALID, "%s", err);
		brook_buf_release(&pk);
		return BROOK_ERR;
	}
	store_ck_encode(ckv, m->n_clustering, &ck);
	if (ck.len > STORE_MAX_KEY) {
		store_exec_error(w->out, CQL_ERR_INVALID,
				 "Key length of %zu is longer than maximum of %u", ck.len,
				 STORE_MAX_KEY);
		rc = BROOK_ERR;
	} else {
		store_part *p = new_part(w, t, &pk);
		store_row *r = new_row(w, p, &ck, m->n_columns);
		put_cell(r, STORE_COL_MARKER, &o, NULL, 0);
		for (size_t i = 0; i < m->n_columns; i++)
			if (given[i] && m->columns[i].kind == CATALOG_REGULAR)
				put_value(r, t, i, &o, &vals[i]);
	}
	brook_buf_release(&pk);
	brook_buf_release(&ck);
	return rc;
}

/* The partition keys and (for row-level writes) the clustering keys named by WHERE. */
static int write_keys(wctx *w, store_table *t, const cql_relation *where, size_t n_where,
		      bool rows_required, store_where *wh)
{
	if (store_where_analyze(w->x, t, where, n_where, STORE_WHERE_WRITE, wh, w->out) !=
	    BROOK_OK)
		return BROOK_ERR;
	if (!wh->pk_complete) {
		store_exec_error(w->out, CQL_ERR_INVALID, "Some partition key parts are missing: %s",
				 wh->missing);
		return BROOK_ERR;
	}
	if (rows_required && !wh->ck_complete) {
		store_exec_error(w->out, CQL_ERR_INVALID, "Some clustering keys are missing: %s",
				 wh->missing);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* The current value of one cell (for collection updates); len -1 when absent. */
typedef struct cell_read {
	uint16_t col;
	cql_bytes v;
	brook_arena *a;
} cell_read;

static int read_cell_cb(void *ctx, const store_part *p, const store_row *r)
{
	(void)p;
	cell_read *cr = ctx;
	for (uint32_t i = 0; i < r->ncells; i++) {
		if (r->cells[i].col == cr->col) {
			uint8_t *d = brook_arena_alloc(cr->a, r->cells[i].vlen + 1);
			if (r->cells[i].vlen)
				memcpy(d, r->cells[i].value, r->cells[i].vlen);
			cr->v = (cql_bytes){d, (int32_t)r->cells[i].vlen};
		}
	}
	return 1;
}

static cql_bytes current_value(wctx *w, store_table *t, const brook_buf *pk, const brook_buf *ck,
			       uint16_t col)
{
	cell_read cr = {col, {NULL, -1}, w->x->arena};
	store_read_opts ro = {0};
	ro.range.start = (const uint8_t *)ck->data;
	ro.range.slen = (uint32_t)ck->len;
	ro.range.end = (const uint8_t *)ck->data;
	ro.range.elen = (uint32_t)ck->len;
	ro.range.flags = STORE_B_START_INCL | STORE_B_END_INCL;
	if (!ck->len)
		ro.range.flags = STORE_B_START_UNBOUNDED | STORE_B_END_UNBOUNDED;
	ro.limit = 1;
	char err[256];
	store_engine_read(t->engine, (const uint8_t *)pk->data, pk->len, &ro, read_cell_cb, &cr, err,
			  sizeof err);
	return cr.v;
}

/* Elements of a serialized collection: [int n] then n (or 2n for maps) [bytes]. */
typedef struct coll {
	size_t n; /* elements (map: entries) */
	cql_bytes *k, *v;
} coll;

static void coll_parse(brook_arena *a, cql_bytes src, bool map, coll *c)
{
	memset(c, 0, sizeof *c);
	if (src.len < 4)
		return;
	cql_rd rd;
	brook_rd_init(&rd, src.ptr, (size_t)src.len);
	int32_t n = cql_rd_int(&rd);
	if (n <= 0 || n > src.len)
		return;
	c->k = brook_arena_alloc(a, (size_t)n * sizeof *c->k);
	c->v = brook_arena_alloc(a, (size_t)n * sizeof *c->v);
	for (int32_t i = 0; i < n && !rd.failed; i++) {
		c->k[i] = cql_rd_bytes(&rd);
		c->v[i] = map ? cql_rd_bytes(&rd) : (cql_bytes){NULL, -1};
		if (!rd.failed)
			c->n++;
	}
}

static void coll_write(brook_buf *b, const coll *c, bool map)
{
	cql_wr_int(b, (int32_t)c->n);
	for (size_t i = 0; i < c->n; i++) {
		cql_wr_bytes(b, c->k[i]);
		if (map)
			cql_wr_bytes(b, c->v[i]);
	}
}

static bool coll_has(const cql_type *et, const coll *c, cql_bytes k, size_t *at)
{
	for (size_t i = 0; i < c->n; i++)
		if (store_value_cmp(et, c->k[i].ptr, (size_t)c->k[i].len, k.ptr, (size_t)k.len) == 0) {
			if (at)
				*at = i;
			return true;
		}
	return false;
}

/* Inserts k (v) keeping the order of et (sets and maps), replacing an equal key. */
static void coll_put_sorted(brook_arena *a, const cql_type *et, coll *c, cql_bytes k, cql_bytes v)
{
	size_t at;
	if (coll_has(et, c, k, &at)) {
		c->v[at] = v;
		return;
	}
	cql_bytes *nk = brook_arena_alloc(a, (c->n + 1) * sizeof *nk);
	cql_bytes *nv = brook_arena_alloc(a, (c->n + 1) * sizeof *nv);
	size_t i = 0, j = 0;
	for (; i < c->n && store_value_cmp(et, c->k[i].ptr, (size_t)c->k[i].len, k.ptr,
					   (size_t)k.len) < 0;
	     i++, j++) {
		nk[j] = c->k[i];
		nv[j] = c->v[i];
	}
	nk[j] = k;
	nv[j++] = v;
	for (; i < c->n; i++, j++) {
		nk[j] = c->k[i];
		nv[j] = c->v[i];
	}
	c->k = nk;
	c->v = nv;
	c->n++;
}

/* col = col op value for a collection column, computed from the current value. */
static int collection_update(wctx *w, store_table *t, size_t col, const cql_assign *as,
			     const brook_buf *pk, const brook_buf *ck, store_value *out)
{
	const cql_type *ty = t->types[col];
	bool map = ty->id == CQL_TYPE_MAP;
	brook_arena *a = w->x->arena;
	const char *name = t->meta->columns[col].name;
	if (!is_multicell(ty)) {
		store_exec_error(w->out, CQL_ERR_INVALID, "Invalid operation (%s = %s %s ?) for "
				 "non list column %s", name, name,
				 as->kind == CQL_ASSIGN_SUB ? "-" : "+", name);
		return BROOK_ERR;
	}
	coll cur, arg;
	coll_parse(a, current_value(w, t, pk, ck, (uint16_t)col), map, &cur);
	store_value v;
	const cql_type *argt = ty;
	/* set - {x} and map - {k} take a set of keys. */
	if (as->kind == CQL_ASSIGN_SUB && map)
		argt = cql_type_collection(a, CQL_TYPE_SET, ty->sub[0], NULL);
	if (as->kind == CQL_ASSIGN_ELEMENT) {
		store_value kv, ev;
		const cql_type *kt = ty->id == CQL_TYPE_LIST ? cql_type_native(CQL_TYPE_INT) : ty->sub[0];
		if (ty->id == CQL_TYPE_SET) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "Invalid operation (%s[?] = ?) for set column %s", name, name);
			return BROOK_ERR;
		}
		if (store_exec_value(w->x, kt, name, as->key, &kv, w->out) != BROOK_OK ||
		    store_exec_value(w->x, ty->sub[map ? 1 : 0], name, as->value, &ev, w->out) !=
			    BROOK_OK)
			return BROOK_ERR;
		if (kv.kind != STORE_VALUE_SET) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Invalid null value for %s key",
					 map ? "map" : "list index");
			return BROOK_ERR;
		}
		cql_bytes eb = ev.kind == STORE_VALUE_SET ? (cql_bytes){ev.ptr, (int32_t)ev.len}
							   : (cql_bytes){NULL, -1};
		if (map) {
			size_t at;
			cql_bytes kb = {kv.ptr, (int32_t)kv.len};
			if (eb.len < 0) {
				if (coll_has(ty->sub[0], &cur, kb, &at)) {
					memmove(&cur.k[at], &cur.k[at + 1], (cur.n - at - 1) * sizeof *cur.k);
					memmove(&cur.v[at], &cur.v[at + 1], (cur.n - at - 1) * sizeof *cur.v);
					cur.n--;
				}
			} else {
				coll_put_sorted(a, ty->sub[0], &cur, kb, eb);
			}
		} else {
			int32_t idx = kv.len == 4 ? (int32_t)((uint32_t)kv.ptr[0] << 24 |
							      (uint32_t)kv.ptr[1] << 16 |
							      (uint32_t)kv.ptr[2] << 8 | kv.ptr[3])
						  : -1;
			if (idx < 0 || (size_t)idx >= cur.n) {
				store_exec_error(w->out, CQL_ERR_INVALID,
						 "List index %d out of bound, list has size %zu", idx,
						 cur.n);
				return BROOK_ERR;
			}
			if (eb.len < 0) {
				memmove(&cur.k[idx], &cur.k[idx + 1],
					(cur.n - (size_t)idx - 1) * sizeof *cur.k);
				cur.n--;
			} else {
				cur.k[idx] = eb;
			}
		}
	} else {
		if (store_exec_value(w->x, argt, name, as->value, &v, w->out) != BROOK_OK)
			return BROOK_ERR;
		if (v.kind == STORE_VALUE_UNSET) {
			out->kind = STORE_VALUE_UNSET;
			return BROOK_OK;
		}
		coll_parse(a, v.kind == STORE_VALUE_SET ? (cql_bytes){v.ptr, (int32_t)v.len}
							: (cql_bytes){NULL, -1},
			   map && as->kind != CQL_ASSIGN_SUB, &arg);
		const cql_type *et = ty->sub[0];
		if (ty->id == CQL_TYPE_LIST) {
			coll res = {0};
			res.k = brook_arena_alloc(a, (cur.n + arg.n + 1) * sizeof *res.k);
			if (as->kind == CQL_ASSIGN_PREPEND) {
				for (size_t i = 0; i < arg.n; i++)
					res.k[res.n++] = arg.k[i];
				for (size_t i = 0; i < cur.n; i++)
					res.k[res.n++] = cur.k[i];
			} else if (as->kind == CQL_ASSIGN_ADD) {
				for (size_t i = 0; i < cur.n; i++)
					res.k[res.n++] = cur.k[i];
				for (size_t i = 0; i < arg.n; i++)
					res.k[res.n++] = arg.k[i];
			} else {
				for (size_t i = 0; i < cur.n; i++)
					if (!coll_has(et, &arg, cur.k[i], NULL))
						res.k[res.n++] = cur.k[i];
			}
			cur = res;
		} else if (as->kind == CQL_ASSIGN_SUB) {
			coll res = {0};
			res.k = brook_arena_alloc(a, (cur.n + 1) * sizeof *res.k);
			res.v = brook_arena_alloc(a, (cur.n + 1) * sizeof *res.v);
			for (size_t i = 0; i < cur.n; i++)
				if (!coll_has(et, &arg, cur.k[i], NULL)) {
					res.k[res.n] = cur.k[i];
					res.v[res.n++] = cur.v[i];
				}
			cur = res;
		} else if (as->kind == CQL_ASSIGN_ADD) {
			for (size_t i = 0; i < arg.n; i++)
				coll_put_sorted(a, et, &cur, arg.k[i], arg.v[i]);
		} else {
			store_exec_error(w->out, CQL_ERR_INVALID, "Invalid operation on column %s",
					 name);
			return BROOK_ERR;
		}
	}
	brook_buf b = BROOK_BUF_INIT;
	coll_write(&b, &cur, map);
	uint8_t *d = brook_arena_alloc(a, b.len);
	memcpy(d, b.data, b.len);
	*out = (store_value){STORE_VALUE_SET, d, b.len};
	brook_buf_release(&b);
	return BROOK_OK;
}

static int exec_update(wctx *w, const cql_update *up)
{
	store_exec_ctx *x = w->x;
	if (system_ks_write(w, &up->table))
		return BROOK_ERR;
	store_table *t = store_exec_table(x, &up->table, w->out);
	if (!t)
		return BROOK_ERR;
	const catalog_table *m = t->meta;
	if (up->n_conditions || up->if_exists) {
		store_exec_error(w->out, CQL_ERR_INVALID,
				 "Conditional updates (IF ...) are not supported by brook's store");
		return BROOK_ERR;
	}
	/* Check the assignments before touching anything. */
	for (size_t i = 0; i < up->n_assigns; i++) {
		const catalog_column *c = catalog_column_get(m, up->assigns[i].col.name);
		if (!c) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Undefined column name %s",
					 up->assigns[i].col.name);
			return BROOK_ERR;
		}
		if (c->kind == CATALOG_PARTITION_KEY || c->kind == CATALOG_CLUSTERING) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "PRIMARY KEY part %s found in SET part", c->name);
			return BROOK_ERR;
		}
		if (c->kind == CATALOG_STATIC) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "Static columns are not supported by brook's store");
			return BROOK_ERR;
		}
	}
	store_where wh;
	if (write_keys(w, t, up->where, up->n_where, true, &wh) != BROOK_OK)
		return BROOK_ERR;
	wopts o;
	if (using_opts(w, t, &up->using, &o) != BROOK_OK)
		return BROOK_ERR;
	/* Plain assignments are the same for every row: convert them once. */
	store_value *plain = brook_arena_calloc(x->arena, (up->n_assigns + 1) * sizeof *plain);
	for (size_t i = 0; i < up->n_assigns; i++) {
		const cql_assign *as = &up->assigns[i];
		const catalog_column *c = catalog_column_get(m, as->col.name);
		if (as->kind == CQL_ASSIGN_SET &&
		    store_exec_value(x, t->types[c->index], c->name, as->value, &plain[i], w->out) !=
			    BROOK_OK)
			return BROOK_ERR;
	}
	for (size_t pi = 0; pi < wh.n_pks; pi++) {
		store_part *p = new_part(w, t, &wh.pks[pi]);
		for (size_t ci = 0; ci < wh.n_cks; ci++) {
			store_row *r = new_row(w, p, &wh.cks[ci], up->n_assigns);
			for (size_t i = 0; i < up->n_assigns; i++) {
				const cql_assign *as = &up->assigns[i];
				const catalog_column *c = catalog_column_get(m, as->col.name);
				store_value v = plain[i];
				if (as->kind != CQL_ASSIGN_SET &&
				    collection_update(w, t, c->index, as, &wh.pks[pi], &wh.cks[ci],
						      &v) != BROOK_OK)
					return BROOK_ERR;
				put_value(r, t, c->index, &o, &v);
			}
		}
	}
	return BROOK_OK;
}

static int exec_delete(wctx *w, const cql_delete *d)
{
	store_exec_ctx *x = w->x;
	if (system_ks_write(w, &d->table))
		return BROOK_ERR;
	store_table *t = store_exec_table(x, &d->table, w->out);
	if (!t)
		return BROOK_ERR;
	const catalog_table *m = t->meta;
	if (d->n_conditions || d->if_exists) {
		store_exec_error(w->out, CQL_ERR_INVALID,
				 "Conditional deletions (IF ...) are not supported by brook's store");
		return BROOK_ERR;
	}
	if (d->using.ttl) {
		store_exec_error(w->out, CQL_ERR_INVALID,
				 "Cannot provide custom TTL for DELETE statements");
		return BROOK_ERR;
	}
	for (size_t i = 0; i < d->n_targets; i++) {
		const catalog_column *c = catalog_column_get(m, d->targets[i].col.name);
		if (!c) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Undefined column name %s",
					 d->targets[i].col.name);
			return BROOK_ERR;
		}
		if (c->kind != CATALOG_REGULAR) {
			store_exec_error(w->out, CQL_ERR_INVALID,
					 "Invalid identifier %s for deletion (should not be a PRIMARY "
					 "KEY part)", c->name);
			return BROOK_ERR;
		}
	}
	store_where wh;
	if (write_keys(w, t, d->where, d->n_where, d->n_targets > 0, &wh) != BROOK_OK)
		return BROOK_ERR;
	wopts o;
	if (using_opts(w, t, &d->using, &o) != BROOK_OK)
		return BROOK_ERR;
	o.ttl = 0;
	store_del del = {o.ts, (int32_t)o.now_s};
	for (size_t pi = 0; pi < wh.n_pks; pi++) {
		store_part *p = new_part(w, t, &wh.pks[pi]);
		if (d->n_targets == 0 && !wh.ck_restricted) {
			p->del = del; /* the whole partition */
			continue;
		}
		if (d->n_targets == 0 && !wh.ck_complete) {
			/* A range tombstone per slice. */
			p->rts = brook_arena_calloc(x->arena, wh.n_slices * sizeof *p->rts);
			p->rtcap = (uint32_t)wh.n_slices;
			for (size_t s = 0; s < wh.n_slices; s++) {
				p->rts[p->nrts].b = wh.slices[s];
				p->rts[p->nrts++].del = del;
			}
			continue;
		}
		for (size_t ci = 0; ci < wh.n_cks; ci++) {
			store_row *r = new_row(w, p, &wh.cks[ci], d->n_targets);
			if (d->n_targets == 0) {
				r->del = del;
				continue;
			}
			for (size_t i = 0; i < d->n_targets; i++) {
				const cql_delete_target *tg = &d->targets[i];
				const catalog_column *c = catalog_column_get(m, tg->col.name);
				if (!tg->key) {
					put_tombstone(r, (uint16_t)c->index, &o);
					continue;
				}
				/* DELETE m[k]: the element assignment with a null value. */
				cql_term null_term = {.kind = CQL_TERM_NULL};
				cql_assign as = {.kind = CQL_ASSIGN_ELEMENT, .col = tg->col,
						 .key = tg->key, .value = &null_term};
				store_value v;
				if (collection_update(w, t, c->index, &as, &wh.pks[pi], &wh.cks[ci],
						      &v) != BROOK_OK)
					return BROOK_ERR;
				put_value(r, t, c->index, &o, &v);
			}
		}
	}
	return BROOK_OK;
}

static int add_write(wctx *w, const cql_stmt *st)
{
	switch (st->kind) {
	case CQL_STMT_INSERT:
		if (st->u.insert.if_not_exists) {
			store_exec_error(w->out, CQL_ERR_INVALID, "Conditional inserts (IF NOT "
					 "EXISTS) are not supported by brook's store");
			return BROOK_ERR;
		}
		return exec_insert(w, &st->u.insert);
	case CQL_STMT_UPDATE:
		return exec_update(w, &st->u.update);
	case CQL_STMT_DELETE:
		return exec_delete(w, &st->u.del);
	default:
		store_exec_error(w->out, CQL_ERR_INVALID,
				 "Invalid statement in batch: only UPDATE, INSERT and DELETE "
				 "statements are allowed.");
		return BROOK_ERR;
	}
}

/* Applies the collected mutations: one atomic apply per table. */
static int commit_writes(wctx *w)
{
	store_exec_out *out = w->out;
	bool *done = brook_arena_calloc(w->x->arena, w->n + 1);
	out->syncs = brook_arena_calloc(w->x->arena, (w->n + 1) * sizeof *out->syncs);
	store_part *parts = brook_arena_alloc(w->x->arena, (w->n + 1) * sizeof *parts);
	for (size_t i = 0; i < w->n; i++) {
		if (done[i])
			continue;
		store_table *t = w->m[i].t;
		size_t k = 0;
		for (size_t j = i; j < w->n; j++)
			if (!done[j] && w->m[j].t == t) {
				parts[k++] = w->m[j].p;
				done[j] = true;
			}
		uint64_t lsn = 0;
		char err[512];
		if (store_engine_apply(t->engine, parts, k, &lsn, err, sizeof err) != BROOK_OK) {
			store_exec_error(out, CQL_ERR_INVALID, "%s", err);
			return BROOK_ERR;
		}
		for (size_t j = 0; j < k; j++)
			out->writes += parts[j].nrows ? parts[j].nrows : 1;
		store_table_ref(t);
		out->syncs[out->n_syncs++] = (store_sync){t, lsn};
	}
	cql_wr_int(out->body, CQL_RESULT_VOID);
	return BROOK_OK;
}

/* ---- statements --------------------------------------------------------------------- */

/* The system keyspaces belong to the server: Cassandra refuses creating them (Invalid)
 * and any other schema change in them (Unauthorized). */
static bool system_ks_ddl(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	const char *ks = NULL;
	switch (st->kind) {
	case CQL_STMT_CREATE_KEYSPACE:
		ks = st->u.create_keyspace.name.name;
		break;
	case CQL_STMT_DROP_KEYSPACE:
		ks = st->u.drop.name.name;
		break;
	case CQL_STMT_CREATE_TABLE:
		ks = store_exec_keyspace(x, &st->u.create_table.name);
		break;
	case CQL_STMT_DROP_TABLE:
		ks = store_exec_keyspace(x, &st->u.drop.name);
		break;
	default:
		break;
	}
	if (!ks || !store_system_keyspace(ks))
		return false;
	store_exec_error(out, st->kind == CQL_STMT_CREATE_KEYSPACE ? CQL_ERR_INVALID
								   : CQL_ERR_UNAUTHORIZED,
			 "%s keyspace is not user-modifiable", ks);
	return true;
}

static int exec_ddl(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	if (system_ks_ddl(x, st, out))
		return BROOK_OK;
	catalog_result r = {0};
	int rc = store_db_ddl(x->db, st, x->keyspace, &r);
	if (rc != BROOK_OK) {
		if (r.code == CATALOG_ALREADY_EXISTS) {
			brook_buf_truncate(out->body, out->body_start);
			cql_error_write_already_exists(out->body, r.message, r.ks ? r.ks : "",
						       r.table ? r.table : "");
			out->opcode = CQL_OP_ERROR;
		} else {
			store_exec_error(out, r.code, "%s", r.message ? r.message : "failed");
		}
		catalog_result_release(&r);
		return BROOK_OK;
	}
	if (!r.applied) {
		cql_wr_int(out->body, CQL_RESULT_VOID);
		catalog_result_release(&r);
		return BROOK_OK;
	}
	out->schema_changed = true;
	out->change = r.change;
	out->target = r.target;
	out->ks = brook_arena_strndup(x->arena, r.ks, strlen(r.ks));
	out->table = r.table ? brook_arena_strndup(x->arena, r.table, strlen(r.table)) : NULL;
	cql_wr_int(out->body, CQL_RESULT_SCHEMA_CHANGE);
	cql_schema_change c = {0};
	c.change_type = cql_str_from(r.change);
	c.target = cql_str_from(r.target);
	c.keyspace = cql_str_from(out->ks);
	if (out->table)
		c.name = cql_str_from(out->table);
	cql_schema_change_write(out->body, &c);
	catalog_result_release(&r);
	return BROOK_OK;
}

static int exec_use(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	const char *ks = st->u.use.name;
	if (!store_system_keyspace(ks) && !catalog_keyspace_get(store_db_catalog(x->db), ks)) {
		store_exec_error(out, CQL_ERR_INVALID, "Keyspace '%s' does not exist", ks);
		return BROOK_OK;
	}
	out->keyspace = brook_arena_strndup(x->arena, ks, strlen(ks));
	cql_wr_int(out->body, CQL_RESULT_SET_KEYSPACE);
	cql_wr_cstring(out->body, ks);
	return BROOK_OK;
}

static int exec_truncate(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	const char *ks = store_exec_keyspace(x, &st->u.truncate);
	if (ks && store_system_keyspace(ks)) {
		store_exec_error(out, CQL_ERR_UNAUTHORIZED, "%s keyspace is not user-modifiable", ks);
		return BROOK_OK;
	}
	store_table *t = store_exec_table(x, &st->u.truncate, out);
	if (!t)
		return BROOK_OK;
	char err[512];
	if (store_db_truncate(x->db, t, err, sizeof err) != BROOK_OK) {
		store_exec_error(out, CQL_ERR_TRUNCATE, "Error during truncate: %s", err);
		return BROOK_OK;
	}
	cql_wr_int(out->body, CQL_RESULT_VOID);
	return BROOK_OK;
}

static bool check_bind_count(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	if (x->n_values != st->n_binds) {
		store_exec_error(out, CQL_ERR_INVALID,
				 "There were %zu markers(?) in CQL but %zu bound variables",
				 st->n_binds, x->n_values);
		return false;
	}
	return true;
}

static const cql_col_spec *bind_spec_names(store_exec_ctx *x, const cql_stmt *st);

/* Reorders named values (flag 0x40) into the statement's marker order: a :name marker
 * by its name, a ? marker by the name PREPARE gives it (its column's). */
static bool bind_names(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	if (!x->names)
		return true;
	cql_bytes *v = brook_arena_calloc(x->arena, (st->n_binds + 1) * sizeof *v);
	const cql_col_spec *specs = NULL;
	for (size_t i = 0; i < st->n_binds; i++) {
		const char *want = st->binds[i]->text;
		if (!want) {
			if (!specs)
				specs = bind_spec_names(x, st);
			if (specs && specs[i].name.ptr)
				want = brook_arena_strndup(x->arena, specs[i].name.ptr,
							   specs[i].name.len);
		}
		bool found = false;
		for (size_t j = 0; want && j < x->n_values && !found; j++)
			if (cql_str_eq(x->names[j], want)) {
				v[i] = x->values[j];
				found = true;
			}
		if (!found) {
			store_exec_error(out, CQL_ERR_INVALID, "No value for bind variable %s",
					 want ? want : "?");
			return false;
		}
	}
	x->values = v;
	x->n_values = st->n_binds;
	x->names = NULL;
	return true;
}

int store_exec(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out)
{
	if (!bind_names(x, st, out) || !check_bind_count(x, st, out))
		return BROOK_OK;
	switch (st->kind) {
	case CQL_STMT_CREATE_KEYSPACE:
	case CQL_STMT_DROP_KEYSPACE:
	case CQL_STMT_CREATE_TABLE:
	case CQL_STMT_DROP_TABLE:
		return exec_ddl(x, st, out);
	case CQL_STMT_USE:
		return exec_use(x, st, out);
	case CQL_STMT_TRUNCATE:
		return exec_truncate(x, st, out);
	case CQL_STMT_SELECT:
		return store_exec_select(x, &st->u.select, out);
	case CQL_STMT_INSERT:
	case CQL_STMT_UPDATE:
	case CQL_STMT_DELETE:
	case CQL_STMT_BATCH:
		break;
	}
	wctx w = {x, out, NULL, 0, 0, STORE_NO_TS, NULL, NULL};
	if (st->kind == CQL_STMT_BATCH) {
		const cql_ast_batch *b = &st->u.batch;
		if (b->kind == CQL_AST_BATCH_COUNTER) {
			store_exec_error(out, CQL_ERR_INVALID, "Counters are not supported by brook's "
					 "store");
			return BROOK_OK;
		}
		wopts o;
		if (b->using.timestamp) {
			cql_using u = {NULL, b->using.timestamp};
			store_table dummy = {0};
			if (using_opts(&w, &dummy, &u, &o) != BROOK_OK)
				return BROOK_OK;
			w.batch_ts = o.ts;
		}
		for (size_t i = 0; i < b->n_stmts; i++)
			if (add_write(&w, b->stmts[i]) != BROOK_OK)
				return BROOK_OK;
	} else if (add_write(&w, st) != BROOK_OK) {
		return BROOK_OK;
	}
	commit_writes(&w);
	return BROOK_OK;
}

int store_exec_batch(store_exec_ctx *x, const store_batch_item *items, size_t n,
		     store_exec_out *out)
{
	wctx w = {x, out, NULL, 0, 0, STORE_NO_TS, NULL, NULL};
	for (size_t i = 0; i < n; i++) {
		x->values = items[i].values;
		x->n_values = items[i].n_values;
		if (!check_bind_count(x, items[i].stmt, out) || add_write(&w, items[i].stmt) != BROOK_OK)
			return BROOK_OK;
	}
	commit_writes(&w);
	return BROOK_OK;
}

/* ---- PREPARE ------------------------------------------------------------------------ */

/* Column spec of each bind marker: found by walking the statement where markers may be. */
typedef struct bind_specs {
	store_exec_ctx *x;
	store_table *t;
	cql_col_spec *specs; /* n_binds */
	size_t n;
	uint16_t *pk_index; /* per partition key column: the marker binding it, or 0xFFFF */
} bind_specs;

static void spec_term(bind_specs *b, const cql_term *term, const char *name, const cql_type *ty)
{
	if (!term)
		return;
	if (term->kind == CQL_TERM_BIND) {
		if (term->bind_index >= 0 && (size_t)term->bind_index < b->n) {
			cql_col_spec *s = &b->specs[term->bind_index];
			s->keyspace = cql_str_from(b->t ? b->t->ks : "");
			s->table = cql_str_from(b->t ? b->t->name : "");
			s->name = cql_str_from(term->text ? term->text : name);
			s->type = ty;
		}
		return;
	}
	/* Markers inside collection literals take the element types. */
	if (term->kind == CQL_TERM_LIST || term->kind == CQL_TERM_SET) {
		for (size_t i = 0; i < term->n; i++)
			spec_term(b, term->items[i], name,
				  ty && ty->n >= 1 ? ty->sub[0] : cql_type_native(CQL_TYPE_BLOB));
	} else if (term->kind == CQL_TERM_MAP) {
		for (size_t i = 0; i < term->n; i++)
			spec_term(b, term->items[i], name,
				  ty && ty->n >= 2 ? ty->sub[i % 2] : cql_type_native(CQL_TYPE_BLOB));
	} else if (term->kind == CQL_TERM_TUPLE) {
		for (size_t i = 0; i < term->n; i++)
			spec_term(b, term->items[i], name,
				  ty && i < ty->n ? ty->sub[i] : cql_type_native(CQL_TYPE_BLOB));
	} else if (term->kind == CQL_TERM_CAST && term->n) {
		spec_term(b, term->items[0], name, ty);
	}
}

static void spec_using(bind_specs *b, const cql_using *u)
{
	spec_term(b, u->ttl, "[ttl]", cql_type_native(CQL_TYPE_INT));
	spec_term(b, u->timestamp, "[timestamp]", cql_type_native(CQL_TYPE_BIGINT));
}

static void spec_where(bind_specs *b, const cql_relation *rels, size_t n)
{
	const catalog_table *m = b->t->meta;
	brook_arena *a = b->x->arena;
	for (size_t i = 0; i < n; i++) {
		const cql_relation *r = &rels[i];
		if (r->kind == CQL_REL_TOKEN) {
			spec_term(b, r->value, "partition key token", cql_type_native(CQL_TYPE_BIGINT));
			continue;
		}
		const catalog_column *c = catalog_column_get(m, r->cols[0].name);
		if (!c)
			continue;
		const cql_type *ty = b->t->types[c->index];
		if (r->kind == CQL_REL_TUPLE) {
			/* (a, b) op (?, ?) or op ? (a tuple) */
			for (size_t k = 0; k < r->n_in; k++)
				for (size_t j = 0; j < r->in[k]->n && j < r->n_cols; j++) {
					const catalog_column *cj = catalog_column_get(m, r->cols[j].name);
					if (cj)
						spec_term(b, r->in[k]->items[j], cj->name,
							  b->t->types[cj->index]);
				}
			if (r->value && r->value->kind == CQL_TERM_TUPLE) {
				for (size_t j = 0; j < r->value->n && j < r->n_cols; j++) {
					const catalog_column *cj = catalog_column_get(m, r->cols[j].name);
					if (cj)
						spec_term(b, r->value->items[j], cj->name,
							  b->t->types[cj->index]);
				}
			}
			continue;
		}
		if (r->op == CQL_OP_IN) {
			if (r->value) {
				char *nm = brook_arena_alloc(a, strlen(c->name) + 5);
				sprintf(nm, "in(%s)", c->name);
				spec_term(b, r->value, nm,
					  cql_type_collection(a, CQL_TYPE_LIST, ty, NULL));
			}
			for (size_t k = 0; k < r->n_in; k++)
				spec_term(b, r->in[k], c->name, ty);
		} else if (r->op == CQL_OP_CONTAINS && ty->n >= 1) {
			spec_term(b, r->value, c->name, ty->sub[ty->id == CQL_TYPE_MAP ? 1 : 0]);
		} else if (r->op == CQL_OP_CONTAINS_KEY && ty->n >= 1) {
			spec_term(b, r->value, c->name, ty->sub[0]);
		} else {
			spec_term(b, r->value, c->name, ty);
		}
		if (c->kind == CATALOG_PARTITION_KEY && r->op == CQL_OP_EQ && r->value &&
		    r->value->kind == CQL_TERM_BIND)
			b->pk_index[c->position] = (uint16_t)r->value->bind_index;
	}
}

static int spec_stmt(bind_specs *b, const cql_stmt *st, store_exec_out *out)
{
	const cql_qname *q = NULL;
	switch (st->kind) {
	case CQL_STMT_INSERT:
		q = &st->u.insert.table;
		break;
	case CQL_STMT_UPDATE:
		q = &st->u.update.table;
		break;
	case CQL_STMT_DELETE:
		q = &st->u.del.table;
		break;
	case CQL_STMT_SELECT:
		q = &st->u.select.table;
		break;
	case CQL_STMT_BATCH:
		spec_using(b, &st->u.batch.using);
		for (size_t i = 0; i < st->u.batch.n_stmts; i++)
			if (spec_stmt(b, st->u.batch.stmts[i], out) != BROOK_OK)
				return BROOK_ERR;
		return BROOK_OK;
	default:
		return BROOK_OK;
	}
	const char *ks = store_exec_keyspace(b->x, q);
	if (st->kind == CQL_STMT_SELECT && ks && store_system_keyspace(ks))
		return BROOK_OK; /* system tables take no markers that need types */
	store_table *t = store_exec_table(b->x, q, out);
	if (!t)
		return BROOK_ERR;
	b->t = t;
	const catalog_table *m = t->meta;
	if (!b->pk_index) {
		b->pk_index = brook_arena_alloc(b->x->arena, (m->n_partition_key + 1) * 2);
		for (size_t i = 0; i < m->n_partition_key; i++)
			b->pk_index[i] = 0xFFFF;
	}
	switch (st->kind) {
	case CQL_STMT_INSERT: {
		const cql_insert *in = &st->u.insert;
		for (size_t i = 0; i < in->n_columns && i < in->n_values; i++) {
			const catalog_column *c = catalog_column_get(m, in->columns[i].name);
			if (!c)
				continue;
			spec_term(b, in->values[i], c->name, t->types[c->index]);
			if (c->kind == CATALOG_PARTITION_KEY && in->values[i]->kind == CQL_TERM_BIND)
				b->pk_index[c->position] = (uint16_t)in->values[i]->bind_index;
		}
		spec_using(b, &in->using);
		break;
	}
	case CQL_STMT_UPDATE: {
		const cql_update *up = &st->u.update;
		spec_using(b, &up->using);
		for (size_t i = 0; i < up->n_assigns; i++) {
			const cql_assign *as = &up->assigns[i];
			const catalog_column *c = catalog_column_get(m, as->col.name);
			if (!c)
				continue;
			const cql_type *ty = t->types[c->index];
			if (as->kind == CQL_ASSIGN_ELEMENT && ty->n >= 1) {
				bool map = ty->id == CQL_TYPE_MAP;
				spec_term(b, as->key, c->name,
					  map ? ty->sub[0] : cql_type_native(CQL_TYPE_INT));
				spec_term(b, as->value, c->name, ty->sub[map ? 1 : 0]);
			} else if (as->kind == CQL_ASSIGN_SUB && ty->id == CQL_TYPE_MAP) {
				spec_term(b, as->value, c->name,
					  cql_type_collection(b->x->arena, CQL_TYPE_SET, ty->sub[0],
							      NULL));
			} else {
				spec_term(b, as->value, c->name, ty);
			}
		}
		spec_where(b, up->where, up->n_where);
		break;
	}
	case CQL_STMT_DELETE:
		spec_using(b, &st->u.del.using);
		for (size_t i = 0; i < st->u.del.n_targets; i++) {
			const catalog_column *c = catalog_column_get(m, st->u.del.targets[i].col.name);
			if (c && st->u.del.targets[i].key && t->types[c->index]->n >= 1)
				spec_term(b, st->u.del.targets[i].key, c->name,
					  t->types[c->index]->id == CQL_TYPE_MAP
						  ? t->types[c->index]->sub[0]
						  : cql_type_native(CQL_TYPE_INT));
		}
		spec_where(b, st->u.del.where, st->u.del.n_where);
		break;
	case CQL_STMT_SELECT:
		spec_where(b, st->u.select.where, st->u.select.n_where);
		spec_term(b, st->u.select.limit, "[limit]", cql_type_native(CQL_TYPE_INT));
		spec_term(b, st->u.select.per_partition_limit, "[per_partition_limit]",
			  cql_type_native(CQL_TYPE_INT));
		break;
	default:
		break;
	}
	return BROOK_OK;
}

/* The bind markers' names as PREPARE reports them; NULL if the statement does not
 * resolve (the execution then answers the error). */
static const cql_col_spec *bind_spec_names(store_exec_ctx *x, const cql_stmt *st)
{
	brook_buf scratch = BROOK_BUF_INIT;
	store_exec_out tmp;
	store_exec_out_init(&tmp, &scratch);
	bind_specs b = {x, NULL, NULL, st->n_binds, NULL};
	b.specs = brook_arena_calloc(x->arena, (st->n_binds + 1) * sizeof *b.specs);
	int rc = spec_stmt(&b, st, &tmp);
	brook_buf_release(&scratch);
	return rc == BROOK_OK ? b.specs : NULL;
}

int store_exec_prepare(store_exec_ctx *x, const cql_stmt *st, const uint8_t *id, size_t idlen,
		       store_exec_out *out)
{
	bind_specs b = {x, NULL, NULL, st->n_binds, NULL};
	b.specs = brook_arena_calloc(x->arena, (st->n_binds + 1) * sizeof *b.specs);
	if (spec_stmt(&b, st, out) != BROOK_OK)
		return BROOK_ERR;
	for (size_t i = 0; i < st->n_binds; i++)
		if (!b.specs[i].type) {
			/* A marker the walk did not reach (e.g. in a function call): blob. */
			b.specs[i].keyspace = cql_str_from(b.t ? b.t->ks : "");
			b.specs[i].table = cql_str_from(b.t ? b.t->name : "");
			b.specs[i].name = cql_str_from(st->binds[i]->text ? st->binds[i]->text : "?");
			b.specs[i].type = cql_type_native(CQL_TYPE_BLOB);
		}
	cql_metadata meta = {0};
	meta.columns_count = (int32_t)st->n_binds;
	meta.cols = b.specs;
	/* pk indexes only when every partition key column is bound by one marker. */
	if (b.t && b.pk_index && st->kind != CQL_STMT_BATCH) {
		bool all = true;
		for (size_t i = 0; i < b.t->meta->n_partition_key; i++)
			all = all && b.pk_index[i] != 0xFFFF;
		if (all) {
			meta.pk_count = (int32_t)b.t->meta->n_partition_key;
			meta.pk_index = b.pk_index;
		}
	}
	if (b.t && st->n_binds) {
		meta.flags = CQL_META_GLOBAL_TABLES_SPEC;
		meta.keyspace = cql_str_from(b.t->ks);
		meta.table = cql_str_from(b.t->name);
		for (size_t i = 0; i < st->n_binds; i++)
			if (!cql_str_eq(b.specs[i].table, b.t->name) ||
			    !cql_str_eq(b.specs[i].keyspace, b.t->ks))
				meta.flags = 0;
	}
	cql_metadata rmeta = {0};
	rmeta.flags = CQL_META_NO_METADATA;
	if (st->kind == CQL_STMT_SELECT) {
		if (store_select_metadata(x, &st->u.select, &rmeta, out) != BROOK_OK)
			return BROOK_ERR;
	}
	cql_wr_int(out->body, CQL_RESULT_PREPARED);
	cql_wr_short_bytes(out->body, cql_bytes_of(id, idlen));
	cql_metadata_write(out->body, &meta, true);
	cql_metadata_write(out->body, &rmeta, false);
	return BROOK_OK;
}
