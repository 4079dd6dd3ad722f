/*
 * where.h — the analysis of a WHERE clause against a table's primary key: which
 * partitions, which clustering slices, what is left to filter row by row.
 *
 * Rules (Cassandra 3.11's):
 *   partition key  every column by = or IN gives a list of partition keys (their
 *                  cartesian product); none restricted means a scan; a partial or
 *                  non-equality restriction is a filter (SELECT ... ALLOW FILTERING),
 *                  and token(k1, k2) <op> ? narrows a scan's token range.
 *   clustering     = / IN on a prefix of the clustering columns, then at most one slice
 *                  (<, <=, >, >= on the next column, or a multi-column relation
 *                  (c1, c2) <op> (?, ?) starting there); restrictions past that point
 *                  are filters. A range on a DESC column bounds the other end of the
 *                  stored order.
 *   other columns  filters (SELECT with ALLOW FILTERING only).
 * Writes (UPDATE / DELETE) accept = and IN on key columns only, and slices for DELETE.
 *
 * Values live in the request arena.
 */
#ifndef BROOK_STORE_WHERE_H
#define BROOK_STORE_WHERE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/exec.h"

typedef enum store_where_mode {
	STORE_WHERE_WRITE,
	STORE_WHERE_SELECT,
} store_where_mode;

typedef struct store_filter {
	const catalog_column *col;
	cql_op op;
	const cql_type *type; /* what vals are compared as (the element type for CONTAINS) */
	cql_bytes *vals;      /* one, or the IN list; a tuple relation: one per column */
	size_t n_vals;
	size_t n_cols;        /* > 1: (col, the next clustering columns...) op (vals...) */
} store_filter;

typedef struct store_where {
	bool pk_complete;    /* every partition key column restricted by = or IN */
	const char *missing; /* the first key column left unrestricted (messages) */
	brook_buf *pks;      /* encoded partition keys when pk_complete */
	size_t n_pks;
	bool ck_restricted; /* some clustering restriction is used as a slice */
	bool ck_complete;   /* every clustering column restricted by = or IN */
	brook_buf *cks;     /* full clustering keys when ck_complete (one empty key when the
			     * table has no clustering columns) */
	size_t n_cks;
	store_bounds *slices; /* clustering slices, in clustering order (>= 1) */
	size_t n_slices;
	store_filter *filters;
	size_t n_filters;
	bool needs_filtering;  /* filters (or a partial key) need ALLOW FILTERING */
	const char *filter_msg; /* Cassandra's message when ALLOW FILTERING is missing */
	int64_t tmin, tmax;     /* token range (scans) */
} store_where;

/* BROOK_OK, or BROOK_ERR after answering Invalid. */
int store_where_analyze(store_exec_ctx *x, store_table *t, const cql_relation *rels, size_t n,
			store_where_mode mode, store_where *w, store_exec_out *out);

/* Does the row pass every filter? pkv/ckv: decoded key values; cells: the row's. */
bool store_where_match(const store_where *w, const store_table *t, const cql_bytes *pkv,
		       const cql_bytes *ckv, const store_row *row);

/* The cell of column col in a row (cells sorted by column), or NULL. */
const store_cell *store_row_cell(const store_row *row, uint16_t col);

#endif
