/*
 * where.c — WHERE clause analysis (see where.h).
 */
#include "store/where.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/values.h"

#define MAX_KEYS 10000 /* partition or clustering keys one statement may name */

/* Restrictions collected per key column. */
typedef struct colr {
	cql_bytes *eq; /* = or IN values */
	size_t n_eq;
	bool has_eq;
	cql_bytes lo, hi; /* single-column slice */
	bool has_lo, has_hi, lo_incl, hi_incl;
} colr;

/* A multi-column relation on clustering columns [first, first + n). */
typedef struct tupler {
	size_t first, n;
	cql_op op;
	cql_bytes *vals;
} tupler;

static int value_of(store_exec_ctx *x, const cql_type *ty, const char *col, const cql_term *term,
		    cql_bytes *out, store_exec_out *o)
{
	store_value v;
	if (store_exec_value(x, ty, col, term, &v, o) != BROOK_OK)
		return BROOK_ERR;
	if (v.kind != STORE_VALUE_SET) {
		store_exec_error(o, CQL_ERR_INVALID, v.kind == STORE_VALUE_NULL
				 ? "Invalid null value in condition for column %s"
				 : "Invalid unset value for column %s", col);
		return BROOK_ERR;
	}
	*out = (cql_bytes){v.ptr, (int32_t)v.len};
	return BROOK_OK;
}

/* The values of an IN: the listed terms, or one marker bound to a list. */
static int in_values(store_exec_ctx *x, const cql_type *ty, const char *col, const cql_relation *r,
		     cql_bytes **vals, size_t *n, store_exec_out *o)
{
	if (!r->value) {
		*vals = brook_arena_calloc(x->arena, (r->n_in + 1) * sizeof **vals);
		*n = r->n_in;
		for (size_t i = 0; i < r->n_in; i++)
			if (value_of(x, ty, col, r->in[i], &(*vals)[i], o) != BROOK_OK)
				return BROOK_ERR;
		return BROOK_OK;
	}
	cql_bytes list;
	const cql_type *lt = cql_type_collection(x->arena, CQL_TYPE_LIST, ty, NULL);
	if (value_of(x, lt, col, r->value, &list, o) != BROOK_OK)
		return BROOK_ERR;
	cql_rd rd;
	brook_rd_init(&rd, list.ptr, (size_t)list.len);
	int32_t cnt = cql_rd_int(&rd);
	if (cnt < 0 || cnt > list.len)
		cnt = 0;
	*vals = brook_arena_calloc(x->arena, ((size_t)cnt + 1) * sizeof **vals);
	*n = 0;
	for (int32_t i = 0; i < cnt && !rd.failed; i++) {
		cql_bytes b = cql_rd_bytes(&rd);
		if (!rd.failed && b.len >= 0)
			(*vals)[(*n)++] = b;
	}
	return BROOK_OK;
}

static void add_filter(store_exec_ctx *x, store_where *w, const catalog_column *c, cql_op op,
		       const cql_type *ty, cql_bytes *vals, size_t n)
{
	store_filter *f = brook_arena_alloc(x->arena, (w->n_filters + 1) * sizeof *f);
	if (w->n_filters)
		memcpy(f, w->filters, w->n_filters * sizeof *f);
	f[w->n_filters] = (store_filter){c, op, ty, vals, n, 1};
	w->filters = f;
	w->n_filters++;
	w->needs_filtering = true;
}

/* (c_first, ...) op (vals): a multi-column bound over clustering columns of mixed order,
 * checked row by row inside the first column's slice (no ALLOW FILTERING needed). */
static void add_tuple_filter(store_exec_ctx *x, store_where *w, const catalog_table *m,
			     size_t first, cql_op op, cql_bytes *vals, size_t n)
{
	bool needs = w->needs_filtering;
	add_filter(x, w, m->clustering[first], op, NULL, vals, n);
	w->filters[w->n_filters - 1].n_cols = n;
	w->needs_filtering = needs;
}

static uint8_t *arena_copy(brook_arena *a, const brook_buf *b)
{
	uint8_t *d = brook_arena_alloc(a, b->len + 1);
	if (b->len)
		memcpy(d, b->data, b->len);
	return d;
}

/* Cartesian product of per-column value lists, each combination encoded as a partition
 * key (pk) or a clustering key. */
static int product(store_exec_ctx *x, const store_table *t, colr *cols, size_t ncols, bool pk,
		   brook_buf **out, size_t *nout, store_exec_out *o)
{
	size_t total = 1;
	for (size_t i = 0; i < ncols; i++) {
		total *= cols[i].n_eq;
		if (total > MAX_KEYS) {
			store_exec_error(o, CQL_ERR_INVALID,
					 "%s key cartesian product size %zu is greater than maximum "
					 "%d", pk ? "Partition" : "Clustering", total, MAX_KEYS);
			return BROOK_ERR;
		}
	}
	*out = brook_arena_calloc(x->arena, (total + 1) * sizeof **out);
	*nout = 0;
	cql_bytes *vals = brook_arena_calloc(x->arena, (ncols + 1) * sizeof *vals);
	size_t *idx = brook_arena_calloc(x->arena, (ncols + 1) * sizeof *idx);
	for (size_t k = 0; k < total; k++) {
		size_t rem = k;
		for (size_t i = ncols; i-- > 0;) {
			idx[i] = rem % cols[i].n_eq;
			rem /= cols[i].n_eq;
			vals[i] = cols[i].eq[idx[i]];
		}
		brook_buf b = BROOK_BUF_INIT;
		if (pk) {
			char err[256];
			if (store_pk_encode(t, vals, &b, err, sizeof err) != BROOK_OK) {
				brook_buf_release(&b);
				store_exec_error(o, CQL_ERR_INVALID, "%s", err);
				return BROOK_ERR;
			}
		} else {
			store_ck_encode(vals, ncols, &b);
		}
		/* Copy into the arena so nothing needs releasing. */
		size_t len = b.len;
		uint8_t *d = arena_copy(x->arena, &b);
		(*out)[*nout] = (brook_buf){.data = (char *)d, .len = len, .cap = 0};
		brook_buf_release(&b);
		/* Skip duplicates (IN (1, 1)). */
		bool dup = false;
		for (size_t j = 0; j < *nout && !dup; j++)
			dup = (*out)[j].len == len && memcmp((*out)[j].data, d, len) == 0;
		if (!dup)
			(*nout)++;
	}
	return BROOK_OK;
}

static int64_t be64(const cql_bytes *b)
{
	int64_t v = 0;
	for (int i = 0; i < 8 && i < b->len; i++)
		v = (int64_t)((uint64_t)v << 8 | b->ptr[i]);
	return v;
}

int store_where_analyze(store_exec_ctx *x, store_table *t, const cql_relation *rels, size_t n,
			store_where_mode mode, store_where *w, store_exec_out *o)
{
	const catalog_table *m = t->meta;
	brook_arena *a = x->arena;
	memset(w, 0, sizeof *w);
	w->tmin = INT64_MIN;
	w->tmax = INT64_MAX;
	colr *pk = brook_arena_calloc(a, (m->n_partition_key + 1) * sizeof *pk);
	colr *ck = brook_arena_calloc(a, (m->n_clustering + 1) * sizeof *ck);
	/* Multi-column relations: at most one =, or one lower and one upper bound. */
	tupler tups[2] = {{0}}, tup = {0};
	size_t n_tups = 0;
	bool has_tup = false, pk_filtered = false;

	for (size_t i = 0; i < n; i++) {
		const cql_relation *r = &rels[i];
		if (r->kind == CQL_REL_TOKEN) {
			if (mode == STORE_WHERE_WRITE) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "The token function cannot be used in WHERE clauses "
						 "for UPDATE and DELETE statements");
				return BROOK_ERR;
			}
			bool ok = r->n_cols == m->n_partition_key;
			for (size_t k = 0; ok && k < r->n_cols; k++)
				ok = strcmp(r->cols[k].name, m->partition_key[k]->name) == 0;
			if (!ok) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "The token function arguments must be in the partition "
						 "key order: %s", m->partition_key[0]->name);
				return BROOK_ERR;
			}
			cql_bytes v;
			if (value_of(x, cql_type_native(CQL_TYPE_BIGINT), "partition key token",
				     r->value, &v, o) != BROOK_OK)
				return BROOK_ERR;
			int64_t tok = be64(&v);
			switch (r->op) {
			case CQL_OP_EQ:
				w->tmin = w->tmax = tok;
				break;
			case CQL_OP_GT:
				w->tmin = tok == INT64_MAX ? tok : tok + 1;
				if (tok == INT64_MAX)
					w->tmax = INT64_MIN; /* empty */
				break;
			case CQL_OP_GE:
				w->tmin = tok;
				break;
			case CQL_OP_LT:
				w->tmax = tok == INT64_MIN ? tok : tok - 1;
				if (tok == INT64_MIN)
					w->tmin = INT64_MAX;
				break;
			case CQL_OP_LE:
				w->tmax = tok;
				break;
			default:
				store_exec_error(o, CQL_ERR_INVALID, "Unsupported operator on token()");
				return BROOK_ERR;
			}
			continue;
		}
		if (r->kind == CQL_REL_TUPLE) {
			/* Clustering columns in order, starting anywhere (checked below). */
			const catalog_column *c0 = catalog_column_get(m, r->cols[0].name);
			if (!c0 || c0->kind != CATALOG_CLUSTERING) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "Multi-column relations can only be applied to "
						 "clustering columns but was applied to: %s",
						 r->cols[0].name);
				return BROOK_ERR;
			}
			for (size_t k = 0; k < r->n_cols; k++) {
				const catalog_column *ck_c = catalog_column_get(m, r->cols[k].name);
				if (!ck_c || ck_c->kind != CATALOG_CLUSTERING ||
				    ck_c->position != c0->position + (int)k) {
					store_exec_error(o, CQL_ERR_INVALID,
							 "Clustering columns must appear in the "
							 "PRIMARY KEY order in multi-column relations: %s",
							 r->cols[k].name);
					return BROOK_ERR;
				}
			}
			bool lower_op = r->op == CQL_OP_GT || r->op == CQL_OP_GE;
			if (r->op == CQL_OP_IN || n_tups == 2 ||
			    (n_tups && (r->op == CQL_OP_EQ || tup.op == CQL_OP_EQ ||
					(tup.op == CQL_OP_GT || tup.op == CQL_OP_GE) == lower_op ||
					tup.first != (size_t)c0->position))) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "brook's store supports one multi-column = relation, or "
						 "one lower and one upper multi-column bound starting at "
						 "the same column");
				return BROOK_ERR;
			}
			const cql_term *tv = r->value;
			if (!tv || (tv->kind != CQL_TERM_TUPLE && tv->kind != CQL_TERM_BIND)) {
				store_exec_error(o, CQL_ERR_INVALID, "Expected a tuple on the right "
						 "side of the multi-column relation");
				return BROOK_ERR;
			}
			has_tup = true;
			if (n_tups)
				tups[0] = tup;
			n_tups++;
			tup.first = (size_t)c0->position;
			tup.n = r->n_cols;
			tup.op = r->op;
			tup.vals = brook_arena_calloc(a, (r->n_cols + 1) * sizeof *tup.vals);
			if (tv->kind == CQL_TERM_TUPLE) {
				if (tv->n != r->n_cols) {
					store_exec_error(o, CQL_ERR_INVALID,
							 "Expected %zu elements in value tuple, but got "
							 "%zu", r->n_cols, tv->n);
					return BROOK_ERR;
				}
				for (size_t k = 0; k < r->n_cols; k++) {
					const catalog_column *cc = m->clustering[tup.first + k];
					if (value_of(x, t->types[cc->index], cc->name, tv->items[k],
						     &tup.vals[k], o) != BROOK_OK)
						return BROOK_ERR;
				}
			} else {
				/* A marker bound to a tuple of the columns' types. */
				cql_type *tt = brook_arena_calloc(a, sizeof *tt);
				tt->id = CQL_TYPE_TUPLE;
				tt->n = (uint16_t)r->n_cols;
				tt->sub = brook_arena_calloc(a, r->n_cols * sizeof *tt->sub);
				for (size_t k = 0; k < r->n_cols; k++)
					tt->sub[k] = t->types[m->clustering[tup.first + k]->index];
				cql_bytes tb;
				if (value_of(x, tt, r->cols[0].name, tv, &tb, o) != BROOK_OK)
					return BROOK_ERR;
				cql_rd rd;
				brook_rd_init(&rd, tb.ptr, (size_t)tb.len);
				for (size_t k = 0; k < r->n_cols; k++)
					tup.vals[k] = cql_rd_bytes(&rd);
			}
			continue;
		}
		const char *name = r->cols[0].name;
		const catalog_column *c = catalog_column_get(m, name);
		if (!c) {
			store_exec_error(o, CQL_ERR_INVALID, "Undefined column name %s", name);
			return BROOK_ERR;
		}
		const cql_type *ty = t->types[c->index];
		if (r->key) {
			store_exec_error(o, CQL_ERR_INVALID,
					 "Map element relations are not supported by brook's store");
			return BROOK_ERR;
		}
		if (c->kind == CATALOG_REGULAR || c->kind == CATALOG_STATIC) {
			if (mode == STORE_WHERE_WRITE) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "Non PRIMARY KEY columns found in where clause: %s",
						 name);
				return BROOK_ERR;
			}
		}
		if (r->op == CQL_OP_NE) {
			store_exec_error(o, CQL_ERR_INVALID, "Unsupported \"!=\" relation: %s != ...",
					 name);
			return BROOK_ERR;
		}
		if (r->op == CQL_OP_CONTAINS || r->op == CQL_OP_CONTAINS_KEY) {
			if (ty->id != CQL_TYPE_LIST && ty->id != CQL_TYPE_SET && ty->id != CQL_TYPE_MAP) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "Cannot use CONTAINS on non-collection column %s", name);
				return BROOK_ERR;
			}
			if (mode == STORE_WHERE_WRITE) {
				store_exec_error(o, CQL_ERR_INVALID, "Cannot use CONTAINS relation in "
						 "UPDATE or DELETE");
				return BROOK_ERR;
			}
			const cql_type *et = r->op == CQL_OP_CONTAINS_KEY || ty->id != CQL_TYPE_MAP
						     ? ty->sub[0] : ty->sub[1];
			cql_bytes *v = brook_arena_alloc(a, sizeof *v);
			if (value_of(x, et, name, r->value, v, o) != BROOK_OK)
				return BROOK_ERR;
			add_filter(x, w, c, r->op, et, v, 1);
			continue;
		}
		cql_bytes *vals = NULL;
		size_t nv = 1;
		if (r->op == CQL_OP_IN) {
			if (in_values(x, ty, name, r, &vals, &nv, o) != BROOK_OK)
				return BROOK_ERR;
		} else {
			vals = brook_arena_alloc(a, sizeof *vals);
			if (value_of(x, ty, name, r->value, vals, o) != BROOK_OK)
				return BROOK_ERR;
		}
		if (c->kind == CATALOG_REGULAR || c->kind == CATALOG_STATIC) {
			add_filter(x, w, c, r->op, ty, vals, nv);
			continue;
		}
		colr *cr = c->kind == CATALOG_PARTITION_KEY ? &pk[c->position] : &ck[c->position];
		bool eq = r->op == CQL_OP_EQ || r->op == CQL_OP_IN;
		if (c->kind == CATALOG_PARTITION_KEY && !eq) {
			if (mode == STORE_WHERE_WRITE) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "Only EQ and IN relation are supported on the partition "
						 "key (unless you use the token() function)");
				return BROOK_ERR;
			}
			add_filter(x, w, c, r->op, ty, vals, nv);
			pk_filtered = true;
			continue;
		}
		if (eq) {
			if (cr->has_eq || cr->has_lo || cr->has_hi) {
				store_exec_error(o, CQL_ERR_INVALID,
						 "%s cannot be restricted by more than one relation if "
						 "it includes an Equal", name);
				return BROOK_ERR;
			}
			cr->has_eq = true;
			cr->eq = vals;
			cr->n_eq = nv;
			continue;
		}
		if (cr->has_eq) {
			store_exec_error(o, CQL_ERR_INVALID,
					 "%s cannot be restricted by more than one relation if it "
					 "includes an Equal", name);
			return BROOK_ERR;
		}
		bool lower = r->op == CQL_OP_GT || r->op == CQL_OP_GE;
		if (lower ? cr->has_lo : cr->has_hi) {
			store_exec_error(o, CQL_ERR_INVALID,
					 "More than one restriction was found for the %s bound on %s",
					 lower ? "start" : "end", name);
			return BROOK_ERR;
		}
		if (lower) {
			cr->has_lo = true;
			cr->lo = vals[0];
			cr->lo_incl = r->op == CQL_OP_GE;
		} else {
			cr->has_hi = true;
			cr->hi = vals[0];
			cr->hi_incl = r->op == CQL_OP_LE;
		}
	}

	/* Partition key. */
	size_t npk_eq = 0;
	for (size_t i = 0; i < m->n_partition_key; i++)
		if (pk[i].has_eq)
			npk_eq++;
		else if (!w->missing)
			w->missing = m->partition_key[i]->name;
	w->pk_complete = npk_eq == m->n_partition_key && !pk_filtered;
	if (w->pk_complete) {
		if (product(x, t, pk, m->n_partition_key, true, &w->pks, &w->n_pks, o) != BROOK_OK)
			return BROOK_ERR;
	} else if (npk_eq) {
		if (mode == STORE_WHERE_WRITE) {
			store_exec_error(o, CQL_ERR_INVALID,
					 "Some partition key parts are missing: %s", w->missing);
			return BROOK_ERR;
		}
		for (size_t i = 0; i < m->n_partition_key; i++)
			if (pk[i].has_eq)
				add_filter(x, w, m->partition_key[i], pk[i].n_eq > 1 ? CQL_OP_IN
						   : CQL_OP_EQ, t->types[m->partition_key[i]->index],
					   pk[i].eq, pk[i].n_eq);
		if (!w->filter_msg)
			w->filter_msg = "Cannot execute this query as it might involve data "
					"filtering and thus may have unpredictable performance. If "
					"you want to execute this query despite the performance "
					"unpredictability, use ALLOW FILTERING";
	}

	/* Clustering: = / IN prefix, then one slice. */
	size_t prefix = 0;
	while (prefix < m->n_clustering && ck[prefix].has_eq && !(has_tup && tup.first == prefix))
		prefix++;
	w->ck_complete = prefix == m->n_clustering;
	bool slice_lo = false, slice_hi = false, lo_incl = true, hi_incl = true;
	cql_bytes *lo_vals = NULL, *hi_vals = NULL;
	size_t lo_n = 0, hi_n = 0;
	size_t used = prefix;
	if (has_tup && tup.first == prefix) {
		bool desc = t->desc[prefix];
		if (n_tups == 2)
			tups[1] = tup;
		else
			tups[0] = tup;
		if (tup.op == CQL_OP_EQ) {
			/* Extends the prefix. */
			for (size_t k = 0; k < tup.n; k++) {
				ck[prefix + k].has_eq = true;
				ck[prefix + k].eq = &tup.vals[k];
				ck[prefix + k].n_eq = 1;
			}
			prefix += tup.n;
			used = prefix;
			w->ck_complete = prefix == m->n_clustering;
		} else {
			used = prefix;
			for (size_t k = 0; k < n_tups; k++) {
				const tupler *tp = &tups[k];
				bool lower = tp->op == CQL_OP_GT || tp->op == CQL_OP_GE;
				bool incl = tp->op == CQL_OP_GE || tp->op == CQL_OP_LE;
				bool mixed = false;
				for (size_t j = 1; j < tp->n; j++)
					mixed = mixed || t->desc[prefix + j] != desc;
				if (mixed) {
					/* The first column's slice, inclusive, then row checks. */
					add_tuple_filter(x, w, m, prefix, tp->op, tp->vals, tp->n);
					incl = true;
				}
				size_t vn = mixed ? 1 : tp->n;
				if (lower != desc) {
					slice_lo = true;
					lo_vals = tp->vals;
					lo_n = vn;
					lo_incl = incl;
				} else {
					slice_hi = true;
					hi_vals = tp->vals;
					hi_n = vn;
					hi_incl = incl;
				}
				if (prefix + tp->n > used)
					used = prefix + tp->n;
			}
		}
	} else if (has_tup) {
		store_exec_error(o, CQL_ERR_INVALID,
				 "PRIMARY KEY column \"%s\" cannot be restricted as preceding column "
				 "\"%s\" is not restricted", m->clustering[tup.first]->name,
				 m->clustering[prefix]->name);
		return BROOK_ERR;
	}
	if (!w->ck_complete && used == prefix && prefix < m->n_clustering &&
	    (ck[prefix].has_lo || ck[prefix].has_hi)) {
		colr *cr = &ck[prefix];
		bool desc = t->desc[prefix];
		if (cr->has_lo) {
			if (!desc) {
				slice_lo = true, lo_vals = &cr->lo, lo_n = 1, lo_incl = cr->lo_incl;
			} else {
				slice_hi = true, hi_vals = &cr->lo, hi_n = 1, hi_incl = cr->lo_incl;
			}
		}
		if (cr->has_hi) {
			if (!desc) {
				slice_hi = true, hi_vals = &cr->hi, hi_n = 1, hi_incl = cr->hi_incl;
			} else {
				slice_lo = true, lo_vals = &cr->hi, lo_n = 1, lo_incl = cr->hi_incl;
			}
		}
		used = prefix + 1;
	}
	/* Restrictions past the slice: filters (SELECT) or errors. */
	for (size_t i = used; i < m->n_clustering; i++) {
		colr *cr = &ck[i];
		if (!cr->has_eq && !cr->has_lo && !cr->has_hi)
			continue;
		const catalog_column *c = m->clustering[i];
		if (mode == STORE_WHERE_WRITE || !w->filter_msg) {
			char msg[512];
			snprintf(msg, sizeof msg, "PRIMARY KEY column \"%s\" cannot be restricted as "
				 "preceding column \"%s\" is not restricted", c->name,
				 m->clustering[used > prefix ? used - 1 : prefix]->name);
			if (mode == STORE_WHERE_WRITE) {
				store_exec_error(o, CQL_ERR_INVALID, "%s", msg);
				return BROOK_ERR;
			}
			w->filter_msg = brook_arena_strndup(a, msg, strlen(msg));
		}
		const cql_type *ty = t->types[c->index];
		if (cr->has_eq)
			add_filter(x, w, c, cr->n_eq > 1 ? CQL_OP_IN : CQL_OP_EQ, ty, cr->eq, cr->n_eq);
		if (cr->has_lo)
			add_filter(x, w, c, cr->lo_incl ? CQL_OP_GE : CQL_OP_GT, ty, &cr->lo, 1);
		if (cr->has_hi)
			add_filter(x, w, c, cr->hi_incl ? CQL_OP_LE : CQL_OP_LT, ty, &cr->hi, 1);
	}
	w->ck_restricted = prefix > 0 || slice_lo || slice_hi;
	if (w->ck_complete) {
		if (product(x, t, ck, m->n_clustering, false, &w->cks, &w->n_cks, o) != BROOK_OK)
			return BROOK_ERR;
	}
	/* Slices: one per combination of the prefix's values. */
	brook_buf *prefixes;
	size_t npre;
	if (product(x, t, ck, prefix, false, &prefixes, &npre, o) != BROOK_OK)
		return BROOK_ERR;
	w->slices = brook_arena_calloc(a, (npre + 1) * sizeof *w->slices);
	w->n_slices = npre;
	for (size_t s = 0; s < npre; s++) {
		store_bounds *b = &w->slices[s];
		brook_buf sb = BROOK_BUF_INIT, eb = BROOK_BUF_INIT;
		brook_buf_append(&sb, prefixes[s].data, prefixes[s].len);
		brook_buf_append(&eb, prefixes[s].data, prefixes[s].len);
		if (slice_lo)
			store_ck_encode(lo_vals, lo_n, &sb);
		if (slice_hi)
			store_ck_encode(hi_vals, hi_n, &eb);
		b->start = arena_copy(a, &sb);
		b->slen = (uint32_t)sb.len;
		b->end = arena_copy(a, &eb);
		b->elen = (uint32_t)eb.len;
		b->flags = (slice_lo ? (lo_incl ? STORE_B_START_INCL : 0) : STORE_B_START_INCL) |
			   (slice_hi ? (hi_incl ? STORE_B_END_INCL : 0) : STORE_B_END_INCL);
		if (!sb.len)
			b->flags |= STORE_B_START_UNBOUNDED;
		if (!eb.len)
			b->flags |= STORE_B_END_UNBOUNDED;
		brook_buf_release(&sb);
		brook_buf_release(&eb);
	}
	if (w->ck_restricted && !w->pk_complete && !w->filter_msg)
		w->filter_msg = "Cannot execute this query as it might involve data filtering and "
				"thus may have unpredictable performance. If you want to execute "
				"this query despite the performance unpredictability, use ALLOW "
				"FILTERING";
	if (w->ck_restricted && !w->pk_complete)
		w->needs_filtering = true;
	if (w->n_filters && !w->filter_msg)
		w->filter_msg = "Cannot execute this query as it might involve data filtering and "
				"thus may have unpredictable performance. If you want to execute "
				"this query despite the performance unpredictability, use ALLOW "
				"FILTERING";
	if (!w->missing && !w->ck_complete && m->n_clustering)
		w->missing = m->clustering[prefix < m->n_clustering ? prefix : 0]->name;
	return BROOK_OK;
}

const store_cell *store_row_cell(const store_row *row, uint16_t col)
{
	size_t lo = 0, hi = row->ncells;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (row->cells[mid].col < col)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < row->ncells && row->cells[lo].col == col ? &row->cells[lo] : NULL;
}

static bool contains(const store_filter *f, const cql_type *coll, cql_bytes v)
{
	cql_rd rd;
	brook_rd_init(&rd, v.ptr, (size_t)v.len);
	int32_t n = cql_rd_int(&rd);
	bool map = coll->id == CQL_TYPE_MAP;
	for (int32_t i = 0; i < n && !rd.failed; i++) {
		cql_bytes k = cql_rd_bytes(&rd);
		cql_bytes val = map ? cql_rd_bytes(&rd) : k;
		if (rd.failed)
			break;
		cql_bytes e = f->op == CQL_OP_CONTAINS_KEY ? k : val;
		if (e.len >= 0 && store_value_cmp(f->type, e.ptr, (size_t)e.len, f->vals[0].ptr,
						  (size_t)f->vals[0].len) == 0)
			return true;
	}
	return false;
}

/* Lexicographic comparison of clustering values with a multi-column bound. */
static bool tuple_match(const store_filter *f, const store_table *t, const cql_bytes *ckv)
{
	int cmp = 0;
	size_t first = (size_t)f->col->position;
	for (size_t k = 0; k < f->n_cols && cmp == 0; k++) {
		cql_bytes v = ckv[first + k];
		cmp = store_value_cmp(t->ck_types[first + k], v.ptr, (size_t)(v.len > 0 ? v.len : 0),
				      f->vals[k].ptr, (size_t)(f->vals[k].len > 0 ? f->vals[k].len : 0));
	}
	switch (f->op) {
	case CQL_OP_LT:
		return cmp < 0;
	case CQL_OP_LE:
		return cmp <= 0;
	case CQL_OP_GT:
		return cmp > 0;
	case CQL_OP_GE:
		return cmp >= 0;
	default:
		return cmp == 0;
	}
}

bool store_where_match(const store_where *w, const store_table *t, const cql_bytes *pkv,
		       const cql_bytes *ckv, const store_row *row)
{
	for (size_t i = 0; i < w->n_filters; i++) {
		const store_filter *f = &w->filters[i];
		const catalog_column *c = f->col;
		if (f->n_cols > 1) {
			if (!tuple_match(f, t, ckv))
				return false;
			continue;
		}
		cql_bytes v = {NULL, -1};
		if (c->kind == CATALOG_PARTITION_KEY) {
			v = pkv[c->position];
		} else if (c->kind == CATALOG_CLUSTERING) {
			v = ckv[c->position];
		} else {
			const store_cell *cell = store_row_cell(row, (uint16_t)c->index);
			if (cell)
				v = (cql_bytes){cell->value, (int32_t)cell->vlen};
		}
		if (v.len < 0)
			return false; /* null never matches */
		if (f->op == CQL_OP_CONTAINS || f->op == CQL_OP_CONTAINS_KEY) {
			if (!contains(f, t->types[c->index], v))
				return false;
			continue;
		}
		bool ok = false;
		for (size_t k = 0; k < f->n_vals && !ok; k++) {
			int cmp = store_value_cmp(f->type, v.ptr, (size_t)v.len, f->vals[k].ptr,
						  (size_t)f->vals[k].len);
			switch (f->op) {
			case CQL_OP_EQ:
			case CQL_OP_IN:
				ok = cmp == 0;
				break;
			case CQL_OP_LT:
				ok = cmp < 0;
				break;
			case CQL_OP_LE:
				ok = cmp <= 0;
				break;
			case CQL_OP_GT:
				ok = cmp > 0;
				break;
			case CQL_OP_GE:
				ok = cmp >= 0;
				break;
			default:
				ok = false;
			}
		}
		if (!ok)
			return false;
	}
	return true;
}
