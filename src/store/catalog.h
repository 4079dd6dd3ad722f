/*
 * catalog.h — the store's schema: keyspaces and tables, their DDL, their durable form and
 * the rows of the system_schema tables the drivers read.
 *
 * Contents. A keyspace has a name, a replication map (class expanded to Cassandra's full
 * class name, e.g. org.apache.cassandra.locator.SimpleStrategy, plus the other options
 * as written) and durable_writes. A table has its keyspace, name, a table id (v4 uuid),
 * its columns in declaration order, and the WITH options other than CLUSTERING ORDER
 * kept as text (as cql_term_dump() renders them). A column has a name, a canonical type
 * name (as Cassandra's system_schema.columns.type shows it: "text", "map<text, int>",
 * "frozen<list<int>>"; feed it to cql_type_parse() for the wire type tree), a kind and a
 * position (index within the partition key or clustering key; -1 for regular/static).
 *
 * Durability: the whole schema lives in DIR/schema.json, replaced atomically
 * (brook_file_write_atomic: tmp file, fdatasync, rename, fsync dir) after every change
 * and before the DDL's result is returned. A crash leaves the old or the new schema. If
 * the write fails the in-memory catalog is reloaded from the file, so memory and disk
 * never disagree, and the DDL answers a server error (0x0000).
 *
 * Schema version: a v4 uuid, stored in schema.json, replaced on every DDL that changes
 * something (IF [NOT] EXISTS no-ops keep it). Served as system.local.schema_version;
 * drivers wait for it to settle after DDL.
 *
 * Validation (like Cassandra 3.11; identifiers arrive folded by the parser):
 *   CREATE KEYSPACE: replication must name a class (0x2300 config error otherwise);
 *     an existing keyspace answers Already_exists (0x2400) unless IF NOT EXISTS.
 *   CREATE TABLE: the keyspace (named or the session's) must exist (0x2200 "Keyspace ks
 *     does not exist"); exactly one PRIMARY KEY declaration; every key column declared
 *     and none repeated; no duplicate column; types known (UDTs: "Unknown type ks.t");
 *     no non-frozen collection in the key; static columns only with clustering columns
 *     and not in the key; CLUSTERING ORDER names exactly the clustering columns, in
 *     order; no COMPACT STORAGE; an existing table answers 0x2400 unless IF NOT EXISTS.
 *   DROP KEYSPACE: a missing one answers 0x2300 unless IF EXISTS; DROP TABLE: a missing
 *     table answers 0x2200 "unconfigured table t" (Cassandra validates it while
 *     checking access, before anything else), a missing keyspace "Keyspace k does not
 *     exist"; IF EXISTS turns both into a no-op.
 *
 * Lifetimes: catalog_keyspace / catalog_table / catalog_column pointers stay valid until
 * the DDL that drops them (or catalog_close); creating other objects does not move them.
 * The catalog is not thread-safe: the caller serialises DDL against readers.
 *
 * system_schema rows (catalog_system_rows): each result is a column list (name + CQL
 * type name) and row-major cells holding CQL literal text the server turns into values
 * with cql_type_parse(type) + cql_value_from_text(text) (NULL cell = null). The columns
 * are the ones Cassandra 3.11 defines; the DataStax Python driver 3.25 (SchemaParserV3,
 * cassandra/metadata.py) reads:
 *   keyspaces: keyspace_name text, durable_writes boolean,
 *              replication frozen<map<text, text>> ('class' popped as strategy class).
 *   tables:    keyspace_name text, table_name text, flags frozen<set<text>> (compact
 *              storage unless 'compound' is present and 'dense'/'super' absent; CQL3
 *              tables have {'compound'}), id uuid, and the options it copies
 *              (recognized_table_options): bloom_filter_fp_chance double, caching
 *              frozen<map<text, text>>, comment text, compaction frozen<map<text, text>>,
 *              compression frozen<map<text, text>>, crc_check_chance double,
 *              dclocal_read_repair_chance double, default_time_to_live int,
 *              gc_grace_seconds int, max_index_interval int,
 *              memtable_flush_period_in_ms int, min_index_interval int,
 *              read_repair_chance double, speculative_retry text; plus cdc boolean and
 *              extensions frozen<map<text, blob>> which it ignores. Values: Cassandra's
 *              defaults, overridden by the table's WITH options of the same name.
 *   columns:   keyspace_name text, table_name text, column_name text, clustering_order
 *              text ('asc'|'desc'|'none'; it calls .upper() on it, so never null),
 *              column_name_bytes blob, kind text ('partition_key'|'clustering'|
 *              'regular'|'static'), position int (sorts key columns), type text.
 */
#ifndef BROOK_STORE_CATALOG_H
#define BROOK_STORE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/uuid.h"

/* The AST (store/cql_ast.h) is only referred to by pointer, so this header does not pull
 * in cql_ast.h (whose type names clash with cql/types.h). */
struct cql_stmt;

/* Cassandra's answer (0x2200) to an unqualified table name without USE. */
#define CATALOG_NO_KEYSPACE \
	"No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"

/* CQL error codes used in results (spec section 9). */
enum {
	CATALOG_SERVER_ERROR = 0x0000,
	CATALOG_SYNTAX = 0x2000,
	CATALOG_INVALID = 0x2200,
	CATALOG_CONFIG = 0x2300,
	CATALOG_ALREADY_EXISTS = 0x2400,
};

typedef enum catalog_kind {
	CATALOG_PARTITION_KEY,
	CATALOG_CLUSTERING,
	CATALOG_REGULAR,
	CATALOG_STATIC,
} catalog_kind;

typedef struct catalog_column {
	char *name;
	char *type;        /* canonical CQL type name */
	catalog_kind kind;
	int position;      /* within the partition or clustering key; -1 otherwise */
	bool desc;         /* clustering order DESC */
	size_t index;      /* in table->columns */
} catalog_column;

typedef struct catalog_option {
	char *name;
	char *value; /* CQL literal text */
} catalog_option;

typedef struct catalog_table {
	char *ks;
	char *name;
	brook_uuid id;
	catalog_column *columns; /* declaration order */
	size_t n_columns;
	catalog_column **partition_key; /* into columns[], key order */
	size_t n_partition_key;
	catalog_column **clustering;
	size_t n_clustering;
	catalog_option *options; /* WITH options other than CLUSTERING ORDER */
	size_t n_options;
} catalog_table;

typedef struct catalog_keyspace {
	char *name;
	bool durable_writes;
	catalog_option *replication; /* replication[0] is "class" (full class name) */
	size_t n_replication;
	catalog_table **tables; /* creation order */
	size_t n_tables;
} catalog_keyspace;

typedef struct catalog catalog;

/* The outcome of one DDL statement. Success with applied false: an IF [NOT] EXISTS
 * no-op. On error, code is the CQL error code and message says what (owned by the
 * result); for Already_exists
 * ks/table name the existing object (table "" for a keyspace), as the ERROR body carries
 * them. Release with catalog_result_release. */
typedef struct catalog_result {
	int code;
	bool applied;
	char *message;
	char *ks;
	char *table;
	/* For a schema-change event / RESULT Schema_change: "CREATED" or "DROPPED", the
	 * target ("KEYSPACE" or "TABLE"), the keyspace and table (NULL for keyspaces). */
	const char *change;
	const char *target;
} catalog_result;

void catalog_result_release(catalog_result *r);

/* Opens (creating dir and an empty schema when absent) the catalog stored in
 * dir/schema.json. NULL with a message in err when the directory cannot be created or
 * the file is unreadable or malformed. Free with catalog_close. */
catalog *catalog_open(const char *dir, char *err, size_t errlen);
void catalog_close(catalog *c);

/* Runs a DDL statement (CREATE/DROP KEYSPACE, CREATE/DROP TABLE). session_ks is the
 * session's keyspace (USE) or NULL. Other statement kinds answer 0x2200. BROOK_OK or
 * BROOK_ERR (then see r->code). */
int catalog_execute(catalog *c, const struct cql_stmt *stmt, const char *session_ks,
		    catalog_result *r);

/* The current schema version. */
const brook_uuid *catalog_schema_version(const catalog *c);

/* Lookups: NULL when absent. */
const catalog_keyspace *catalog_keyspace_get(const catalog *c, const char *ks);
const catalog_table *catalog_table_get(const catalog *c, const char *ks, const char *name);
const catalog_column *catalog_column_get(const catalog_table *t, const char *name);
/* All keyspaces, in creation order. */
size_t catalog_keyspaces(const catalog *c, const catalog_keyspace *const **out);

/* ---- system_schema ---- */

typedef enum catalog_system_table {
	CATALOG_SYS_KEYSPACES,
	CATALOG_SYS_TABLES,
	CATALOG_SYS_COLUMNS,
} catalog_system_table;

typedef struct catalog_sys_column {
	const char *name;
	const char *type; /* CQL type name */
} catalog_sys_column;

typedef struct catalog_rows {
	const catalog_sys_column *columns; /* static */
	size_t n_columns;
	const char **cells; /* n_rows * n_columns, row-major; NULL = null */
	size_t n_rows;
} catalog_rows;

/* Fills out with every row of system_schema.<which> (sorted by keyspace, table and, for
 * columns, column name, as Cassandra's clustering order has them). Cells live in arena. */
void catalog_system_rows(const catalog *c, catalog_system_table which, brook_arena *arena,
			 catalog_rows *out);
/* The cell of column name in row i, or NULL (also for an unknown column). */
const char *catalog_rows_cell(const catalog_rows *rows, size_t i, const char *name);

#endif
