/*
 * db.h — the store's database: the catalog plus one storage engine per table, and the
 * mapping of CQL rows onto the engine's bytes.
 *
 * FILES (under the store directory DIR)
 *   DIR/schema.json                         the catalog (store/catalog.h)
 *   DIR/data/<keyspace>/<table>-<id hex>/   one engine per table (store/engine.h)
 * A table directory whose id is not in the catalog (a crash between a DROP's schema
 * write and the directory's removal) is removed at open.
 *
 * KEYS (what the engine's pk and ck bytes are)
 *   partition key  one column: its serialized value; several: Cassandra's composite
 *                  form — per component u16 BE length, the bytes, a 0x00 byte — so the
 *                  token (store_token, Murmur3) is the one Cassandra computes and the
 *                  drivers' token-aware routing agrees.
 *   clustering     per column u16 BE length then the bytes (a prefix of the columns for
 *                  slice bounds). Compared column by column with the column type's
 *                  order (store_value_cmp), reversed for DESC columns; when one key is a
 *                  prefix of the other they compare EQUAL — so a bound that is a prefix
 *                  covers every row under it (inclusive) or none of them (exclusive).
 *   cells          column id = the column's index in the table's declaration order;
 *                  the row marker is STORE_COL_MARKER.
 *
 * THREADING: not thread-safe; the store server runs every statement on its loop thread.
 * A store_table is reference counted so that writes waiting for their commit log sync
 * on another thread keep the engine alive across a DROP (the directory is removed when
 * the last reference goes).
 */
#ifndef BROOK_STORE_DB_H
#define BROOK_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "cql/proto.h"
#include "cql/types.h"
#include "store/catalog.h"
#include "store/engine.h"

struct cql_stmt;

typedef struct store_table {
	const catalog_table *meta; /* NULL once dropped */
	char *ks, *name;           /* copies (meta dies with a DROP) */
	store_engine *engine;
	const cql_type **types; /* per column, declaration order */
	bool *desc;             /* per clustering column */
	const cql_type **ck_types;
	size_t n_ck;
	brook_arena arena; /* types */
	char *dir;
	int refs;
	bool dropped;
} store_table;

typedef struct store_db store_db;

/* Opens DIR (creating it), the catalog and every table's engine. eo: engine options
 * (cmp is set per table). NULL with a message in err. */
store_db *store_db_open(const char *dir, const store_engine_opts *eo, char *err, size_t errlen);
/* Closes every engine (flushing memtables). Tables still referenced are closed anyway:
 * call after the last write completed. */
void store_db_close(store_db *db);
catalog *store_db_catalog(store_db *db);

/* The table or NULL. Borrowed: valid until the next DDL; take a reference to keep it. */
store_table *store_db_table(store_db *db, const char *ks, const char *name);
void store_table_ref(store_table *t);
void store_table_unref(store_table *t);

/* DDL (CREATE/DROP KEYSPACE/TABLE): the catalog change plus the engines. */
int store_db_ddl(store_db *db, const struct cql_stmt *st, const char *session_ks,
		 catalog_result *r);
/* TRUNCATE: BROOK_ERR with a message when the engine fails. */
int store_db_truncate(store_db *db, store_table *t, char *err, size_t errlen);

/* Engine totals over every table. */
void store_db_stats(store_db *db, store_engine_stats *out, uint64_t *tables);

/* ---- keys ---- */

/* The partition key from the values of the partition key columns (in key order).
 * BROOK_ERR with Cassandra's message when a value is too long. */
int store_pk_encode(const store_table *t, const cql_bytes *vals, brook_buf *out, char *err,
		    size_t errlen);
/* Splits a partition key into its column values (views into pk). BROOK_ERR if malformed. */
int store_pk_decode(const store_table *t, const uint8_t *pk, size_t n, cql_bytes *out);
/* A clustering key (or prefix) from n values. */
void store_ck_encode(const cql_bytes *vals, size_t n, brook_buf *out);
/* The table's clustering order (what its engine sorts rows by). */
store_cmp store_table_cmp(const store_table *t);
/* Splits a clustering key into up to max values; returns how many, or -1 if malformed. */
int store_ck_decode(const uint8_t *ck, size_t n, cql_bytes *out, size_t max);

#endif
