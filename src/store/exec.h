/*
 * exec.h — runs one parsed CQL statement against the store's database and writes the
 * RESULT (or ERROR) body of its answer.
 *
 * Statements: DDL (through store_db_ddl), USE, INSERT / UPDATE / DELETE (with USING
 * TTL / TIMESTAMP, IN on the partition key, collection operations), BATCH (text, or a
 * BATCH message's statements via store_exec_batch), TRUNCATE, SELECT (store/select.c:
 * user tables and the system tables drivers read, store/system.c).
 *
 * Writes: each table touched gets ONE store_engine_apply call (atomic in the commit
 * log); the answer must not be sent before every (table, lsn) in out->syncs is durable
 * (store_engine_sync) — the server does that off its loop thread. Visibility comes first
 * (Cassandra's behaviour): a write is readable once applied.
 *
 * Timestamps: USING TIMESTAMP, else the request's default timestamp, else the server's
 * clock in µs — never repeating and never going back within the process, so two
 * statements from one client are ordered as sent.
 *
 * Read-modify-write: collection updates (append, remove, element set) read the current
 * value first. The server runs every statement on one thread, so nothing interleaves
 * between the read and the write.
 *
 * Errors carry Cassandra's code and message: Invalid (0x2200) for semantic errors,
 * Unauthorized (0x2100) for writes to system keyspaces, Server error (0x0000) when the
 * disk fails.
 */
#ifndef BROOK_STORE_EXEC_H
#define BROOK_STORE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "cql/msg.h"
#include "store/catalog.h"
#include "store/cql_ast.h"
#include "store/db.h"
#include "store/values.h"

/* Facts about the server that system.local shows. */
typedef struct store_node_info {
	const char *cluster_name;
	const char *release_version;
	const char *cql_version;
	brook_uuid host_id;
	uint8_t addr[4];  /* rpc / listen / broadcast address (IPv4) */
	const char *token; /* the node's one token */
	catalog *system_catalog; /* the system keyspaces' definitions (system_schema rows) */
} store_node_info;

/* What one statement needs besides itself. */
typedef struct store_exec_ctx {
	store_db *db;
	const store_node_info *node;
	const char *keyspace;   /* the session's (USE), or NULL */
	const cql_bytes *values; /* bound values (len -1 null, -2 not set) */
	size_t n_values;
	const cql_str *names;    /* names of bound values (QUERY/EXECUTE with 0x40) or NULL */
	int32_t page_size;       /* <= 0: one page */
	cql_bytes paging_state;  /* len <= 0: first page */
	int64_t timestamp;       /* the request's default timestamp (µs) or STORE_NO_TS */
	bool skip_metadata;      /* EXECUTE: rows without column metadata */
	int64_t now_ms;          /* the statement's clock (now(), ...); 0: read on first use */
	brook_arena *arena;      /* per request */
} store_exec_ctx;

typedef struct store_sync {
	store_table *table; /* referenced: unref when the sync is done */
	uint64_t lsn;
} store_sync;

typedef struct store_exec_out {
	uint8_t opcode;           /* CQL_OP_RESULT or CQL_OP_ERROR (body appended to body) */
	brook_buf *body;
	size_t body_start;        /* where the body starts in *body (an error rewrites it) */
	const char *keyspace;     /* USE: the new session keyspace (arena) */
	bool schema_changed;      /* DDL applied: change / target / ks / table for the event */
	const char *change, *target, *ks, *table;
	store_sync *syncs;        /* arena */
	size_t n_syncs;
	uint64_t reads, writes;   /* rows, for metrics */
} store_exec_out;

void store_exec_out_init(store_exec_out *out, brook_buf *body);

/* Runs st. Always answers (out->opcode says which); returns BROOK_OK. */
int store_exec(store_exec_ctx *x, const cql_stmt *st, store_exec_out *out);

/* A BATCH message: stmts[i] with values[i] (one set of bound values per statement). */
typedef struct store_batch_item {
	const cql_stmt *stmt;
	const cql_bytes *values;
	size_t n_values;
} store_batch_item;
int store_exec_batch(store_exec_ctx *x, const store_batch_item *items, size_t n,
		     store_exec_out *out);

/*
 * PREPARE: checks st against the schema and writes a RESULT Prepared body with id and
 * the bind variables' and result's metadata. BROOK_OK, or BROOK_ERR with an ERROR body
 * written instead (out->opcode).
 */
int store_exec_prepare(store_exec_ctx *x, const cql_stmt *st, const uint8_t *id, size_t idlen,
		       store_exec_out *out);

/* Helpers shared by exec.c, select.c and system.c (not for other users). */
void store_exec_error(store_exec_out *out, int32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The table a statement names, or NULL after answering the error. */
store_table *store_exec_table(store_exec_ctx *x, const cql_qname *q, store_exec_out *out);
/* The keyspace a name resolves to (the session's when unqualified) or NULL. */
const char *store_exec_keyspace(const store_exec_ctx *x, const cql_qname *q);
/* Converts term to a value of the column type; on error answers Invalid. */
int store_exec_value(store_exec_ctx *x, const cql_type *type, const char *col,
		     const cql_term *term, store_value *v, store_exec_out *out);

/* SELECT (select.c) and the system tables (system.c). */
int store_exec_select(store_exec_ctx *x, const cql_select *s, store_exec_out *out);
bool store_system_keyspace(const char *ks);
/* A catalog of the system keyspaces and tables, rebuilt in dir (removed first). */
catalog *store_system_catalog_open(const char *dir, char *err, size_t errlen);
int store_system_select(store_exec_ctx *x, const char *ks, const cql_select *s,
			store_exec_out *out);
/* Result metadata of a SELECT for PREPARE (without running it). */
int store_select_metadata(store_exec_ctx *x, const cql_select *s, cql_metadata *meta,
			  store_exec_out *out);

#endif
