/*
 * client_impl.h — the CQL client's internals shared by its files (client.c: connection,
 * I/O thread and requests; client_stmt.c: statements, binding, batches, prepared
 * statements and their cache; client_res.c: results; client_fmt.c: output formatting)
 * and by tests/unit/test_cql_client.c. Not for other modules: use client.h.
 *
 * Prepared statements and re-preparation: a cql_prepared keeps the answer of its latest
 * PREPARE as a cql_prep_version (id, bind markers, result columns). Versions are
 * immutable once published and are never freed before the statement: a re-prepare (after
 * UNPREPARED) pushes a new version in front and keeps the old ones, so a statement that
 * was bound against an older version, or a request being framed on the I/O thread, never
 * sees memory go away under it. Re-prepares are rare (one per schema change or server
 * restart), so the chain stays short.
 */
#ifndef BROOK_CQL_CLIENT_IMPL_H
#define BROOK_CQL_CLIENT_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "cql/client.h"

struct cql_res {
	cql_frame_hdr hdr;
	brook_buf body; /* the (decompressed) body: every view points into it */
	brook_arena arena;
	cql_frame_extras extras;
	cql_msg msg;
	char **names;     /* Rows: NUL-terminated column names */
	cql_bytes *cells; /* Rows: rows * columns cells, built on first access */
	const char *keyspace;
};

/* The cell index of a Rows result (built once; results are single-threaded). */
void cql_res_index(const cql_res *r);

typedef struct cql_prep_version {
	struct cql_prep_version *older;
	cql_res *res;      /* the Prepared answer: id and metadata are views into it */
	char **bind_names; /* NUL-terminated bind marker names */
	uint64_t gen;      /* 1 for the first PREPARE */
} cql_prep_version;

static inline cql_bytes cql_prep_version_id(const cql_prep_version *v)
{
	return v->res->msg.u.result.id;
}
static inline const cql_metadata *cql_prep_version_binds(const cql_prep_version *v)
{
	return &v->res->msg.u.result.meta;
}

struct cql_prepared {
	char *keyspace; /* the connection's keyspace when prepared; "" for none */
	char *query;
	uint64_t hash;
	struct cql_prepared *next; /* cache chain */
	pthread_mutex_t mu;
	cql_prep_version *cur; /* newest version (under mu) */
};

/* A prepared statement from a Prepared answer, which it takes on success. NULL with a
 * message when res is not a Prepared result. */
cql_prepared *cql_prepared_new(const char *keyspace, const char *query, cql_res *res, char *err,
			       size_t errlen);
/* Publishes the answer of a re-prepare (taken on BROOK_OK). */
int cql_prepared_update(cql_prepared *p, cql_res *res, char *err, size_t errlen);
/* The newest version (stays valid until the statement is freed). */
const cql_prep_version *cql_prepared_current(cql_prepared *p);
void cql_prepared_free(cql_prepared *p);

/* The statement cache: (keyspace, query) -> cql_prepared, chained hash table. Not
 * locked: the client holds its lock around it. */
typedef struct cql_stmt_cache {
	cql_prepared **buckets;
	size_t nbuckets, count;
} cql_stmt_cache;

void cql_stmt_cache_init(cql_stmt_cache *c);
/* Frees every statement in the cache. */
void cql_stmt_cache_release(cql_stmt_cache *c);
cql_prepared *cql_stmt_cache_get(const cql_stmt_cache *c, const char *keyspace,
				 const char *query);
/* Adds p unless a statement with the same key is there; returns the cached one (when it
 * is not p, p stays the caller's to free). */
cql_prepared *cql_stmt_cache_put(cql_stmt_cache *c, cql_prepared *p);

/* A bound value: bytes at data[off..off+len), or len CQL_NULL / CQL_UNSET. */
typedef struct cql_bound {
	size_t off;
	int32_t len;
	int32_t room; /* bytes reserved at off (rebinding a value that fits reuses them) */
	bool set;
} cql_bound;

struct cql_stmt {
	char *query;                /* QUERY text; NULL for EXECUTE */
	cql_prepared *prep;         /* EXECUTE */
	const cql_prep_version *ver; /* the bind markers' types, as of creation */
	int n, cap;
	cql_bound *v;
	brook_buf data;
	size_t live; /* bytes of data still referenced */
	char err[256];
	bool failed;
	bool has_consistency; /* else the client's default */
	uint16_t consistency, serial; /* serial 0: the client's default */
	int32_t page_size;            /* 0: the client's default */
	int64_t timeout_ms;
	int64_t timestamp;
	bool has_timestamp;
	bool has_paging;
	brook_buf paging;
};

/* BROOK_OK when st can be sent: no failed bind and, for a prepared statement, every
 * marker bound; else BROOK_ERR with a message. */
int cql_stmt_ready(const cql_stmt *st, char *err, size_t errlen);

typedef struct cql_batch_item {
	cql_prepared *prep; /* NULL: a query string */
	size_t query_off, query_len;
	int first, n; /* values[first .. first+n) of the batch */
	bool packed;  /* its n values are data[packed_off ..] as cql_stmt_pack wrote them */
	size_t packed_off, packed_len;
} cql_batch_item;

struct cql_stmt_batch {
	uint8_t type;
	int n, cap;
	cql_batch_item *items;
	brook_buf data; /* query texts and value bytes */
	struct cql_batch_val {
		size_t off;
		int32_t len;
	} *vals;
	int nvals, vals_cap;
	bool has_consistency;
	uint16_t consistency, serial;
	int64_t timeout_ms;
	int64_t timestamp;
	bool has_timestamp;
};

#endif
