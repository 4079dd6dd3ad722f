/*
 * rowavro.h — PostgreSQL changes (pg/cdc.h) as Avro, Debezium-style: the schemas of the
 * record key and of the value (a full before/after/source/op/ts_ms envelope or the new
 * row alone), and the Avro binary encoding of a change written straight from the
 * pgoutput tuple into a brook_buf (no intermediate json_t datum).
 *
 * Names. For topic prefix P and table S.T (S is "pg_catalog" when pgoutput says ""):
 *   key     record P.S.T.Key    the key columns (PGO_COLUMN_KEY), in column order
 *   row     record P.S.T.Value  every column
 *   full    record P.S.T.Envelope {before: ["null", Value] = null,
 *             after: ["null", Value] = null, source: brook.connect.postgresql.Source,
 *             op: string, ts_ms: long}
 *   source  record brook.connect.postgresql.Source {connector, db, schema, table:
 *             string; lsn, txId, ts_ms: long; snapshot: string}
 * Avro names allow only [A-Za-z_][A-Za-z0-9_]*: any other character of a schema, table
 * or column name becomes '_' and a leading digit gets a '_' before it (Debezium's
 * "avro" field-name adjustment). Two columns that adjust to the same name make the
 * table unmappable (an error).
 *
 * Column types by pg_type OID (anything else: string, flagged `unknown` so the
 * connector can warn once per column; the value is PostgreSQL's text output):
 *   bool → boolean; int2, int4 → int; int8, oid → long; float4 → float;
 *   float8 → double; numeric → string (exact decimal text, "NaN" included: Avro's
 *   decimal needs a fixed scale that numeric columns lack); text, varchar, bpchar,
 *   name, "char" → string; bytea → bytes (hex "\x.." or escape output decoded);
 *   date → int (logicalType date, days since 1970-01-01); timestamp → long
 *   (timestamp-micros, the wall time read as UTC); timestamptz → long
 *   (timestamp-micros, UTC); uuid → string (logicalType uuid); json, jsonb → string.
 * Nullability: a key column is the plain type; every other column is ["null", T] with
 * default null. Under REPLICA IDENTITY FULL (relation replident 'f') pgoutput flags
 * every column as key, so there the key is every column and every value column is
 * nullable (the primary key is not known from the stream).
 *
 * Encoding (rowavro_encode_key / rowavro_encode_value). The bytes are exactly what
 * avro/datum.h's generic encoder writes for the same datum and schema: record fields in
 * schema order, no field count; a nullable column is its union branch index (0: null,
 * 1: the value) then the value; the envelope's before/after are branch 0 (no tuple) or
 * 1 and the Value record; the source block's strings and longs in field order (its
 * connector/db/schema/table part is encoded once per table); op a one-character string;
 * ts_ms the processing time. Primitives: avro/binary.h.
 *
 * Values. PostgreSQL's text output (DateStyle ISO, which the walsender uses) is parsed:
 * "t"/"f"; integers with range checks; floats (NaN and ±Infinity are refused, as in the
 * JSON-datum days: consumers that turn records into JSON cannot hold them; a float4
 * text beyond float's range is refused too); dates "YYYY-MM-DD[ BC]"; timestamps
 * "YYYY-MM-DD HH:MM:SS[.f]" with an offset "+HH[:MM[:SS]]" for timestamptz; "infinity"
 * dates and times are an error. Any value that does not parse is BROOK_ERR naming the
 * column ("column <name> (type oid <oid>): <reason>"): the caller dead-letters the
 * change. Text must be valid UTF-8 (a UTF8 database; core/text.h brook_utf8_valid), and
 * so must the source block's names in the full envelope. Bytes are the decoded bytea.
 * Unchanged TOAST ('u': the value was not sent): like Debezium, string and bytes
 * columns get the placeholder ROWAVRO_UNAVAILABLE ("__debezium_unavailable_value",
 * as bytes for bytes), other types null. In a key column it is an error.
 * On any error the output buffer is left at the length it had on entry.
 *
 * Cache. rowavro_table_for() keeps one rowavro_table per relation id and rebuilds it
 * when the relation's definition (names, schema, column names/types/flags, replica
 * identity) differs from the cached one; the old table is freed then, so a pointer
 * from rowavro_table_for() is valid until the next call for the same relation id or
 * rowavro_free(). A table's key_id/value_id are the caller's slots for the schema
 * registry ids of key_json/value_json: ROWAVRO_NO_ID in a new (or rebuilt) table, so a
 * changed relation is registered again. Not thread-safe: one rowavro per connector task.
 */
#ifndef BROOK_CONNECT_ROWAVRO_H
#define BROOK_CONNECT_ROWAVRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/schema.h"
#include "core/buf.h"
#include "pg/cdc.h"

#define ROWAVRO_UNAVAILABLE "__debezium_unavailable_value"
#define ROWAVRO_SOURCE_NAME "brook.connect.postgresql.Source"
#define ROWAVRO_NO_ID	    (-1) /* key_id / value_id not registered yet */

/* Type OIDs (pg_type.h). */
enum {
	ROWAVRO_OID_BOOL = 16,
	ROWAVRO_OID_BYTEA = 17,
	ROWAVRO_OID_CHAR = 18,
	ROWAVRO_OID_NAME = 19,
	ROWAVRO_OID_INT8 = 20,
	ROWAVRO_OID_INT2 = 21,
	ROWAVRO_OID_INT4 = 23,
	ROWAVRO_OID_TEXT = 25,
	ROWAVRO_OID_OID = 26,
	ROWAVRO_OID_JSON = 114,
	ROWAVRO_OID_FLOAT4 = 700,
	ROWAVRO_OID_FLOAT8 = 701,
	ROWAVRO_OID_BPCHAR = 1042,
	ROWAVRO_OID_VARCHAR = 1043,
	ROWAVRO_OID_DATE = 1082,
	ROWAVRO_OID_TIMESTAMP = 1114,
	ROWAVRO_OID_TIMESTAMPTZ = 1184,
	ROWAVRO_OID_NUMERIC = 1700,
	ROWAVRO_OID_UUID = 2950,
	ROWAVRO_OID_JSONB = 3802,
};

typedef enum rowavro_envelope {
	ROWAVRO_ENVELOPE_FULL = 0, /* Debezium's before/after/source/op/ts_ms */
	ROWAVRO_ENVELOPE_ROW,	   /* the new row only; deletes are tombstones */
} rowavro_envelope;

/* "full" | "row". BROOK_OK or BROOK_ERR. */
int rowavro_envelope_parse(const char *s, rowavro_envelope *out);

typedef struct rowavro_opts {
	const char *prefix;    /* topic.prefix: the schemas' namespace root, e.g. "brook" */
	const char *connector; /* source.connector, e.g. "postgresql" (NULL: that) */
	const char *db;	       /* source.db: the database name */
	rowavro_envelope envelope;
} rowavro_opts;

/* The Avro type a column maps to. */
typedef enum rowavro_kind {
	ROWAVRO_BOOLEAN,
	ROWAVRO_INT,
	ROWAVRO_LONG,
	ROWAVRO_FLOAT,
	ROWAVRO_DOUBLE,
	ROWAVRO_STRING,
	ROWAVRO_BYTES,
	ROWAVRO_DATE,	     /* int, logicalType date */
	ROWAVRO_TIMESTAMP,   /* long timestamp-micros, wall time as UTC */
	ROWAVRO_TIMESTAMPTZ, /* long timestamp-micros */
	ROWAVRO_UUID,	     /* string, logicalType uuid */
} rowavro_kind;

typedef struct rowavro_column {
	char *name; /* the Avro field name (adjusted) */
	const char *pg_name;
	uint32_t type_oid;
	rowavro_kind kind;
	bool key;
	bool nullable; /* ["null", T] in the Value record: not key, or REPLICA IDENTITY FULL */
	bool unknown;  /* type OID not in the table above: sent as string; warn once */
} rowavro_column;

/* One relation's mapping; owned by the rowavro that returned it. */
typedef struct rowavro_table {
	pgo_relation *rel; /* deep copy of the relation it was built from */
	size_t ncols;
	rowavro_column *cols;
	size_t nkey;		 /* key columns; 0: records have no key */
	char *key_json;		 /* NULL when nkey == 0 */
	avro_schema *key_schema; /* NULL when nkey == 0 */
	char *value_json;	 /* the envelope, or the Value record for "row" */
	avro_schema *value_schema;
	const avro_schema *row_schema; /* the Value record (inside value_schema) */
	size_t nunknown;	       /* columns flagged unknown */
	/* The caller's: the registry ids of key_json and value_json, or ROWAVRO_NO_ID. */
	int32_t key_id, value_id;
	/* The source block's connector, db, schema and table as Avro strings (full
	 * envelope); NULL when one of them is not valid UTF-8 (changes are then refused). */
	uint8_t *source_head;
	size_t source_head_len;
} rowavro_table;

/* Per-change context for the source block and ts_ms. */
typedef struct rowavro_source {
	uint64_t lsn;	    /* the change's LSN (or the commit's) */
	int64_t txid;	    /* the transaction id; 0 for snapshot rows */
	int64_t commit_ms;  /* commit time (Unix ms): source.ts_ms */
	int64_t now_ms;	    /* processing time: the envelope's ts_ms (0: the clock) */
	const char *snapshot; /* "true", "last", "false"; NULL: "true" for op 'r' else "false" */
} rowavro_source;

typedef struct rowavro rowavro;

rowavro *rowavro_new(const rowavro_opts *o);
void rowavro_free(rowavro *ra); /* NULL is fine */

/* The mapping of rel (cached per relation id, rebuilt when rel changed). NULL with a
 * message when the relation cannot be mapped (names colliding after adjustment). The
 * table is the rowavro's; only key_id and value_id are for the caller to write. */
rowavro_table *rowavro_table_for(rowavro *ra, const pgo_relation *rel, char *err,
				 size_t errlen);

/* Append the Avro binary of the change's record key (t->key_schema) to out. *has is
 * false and nothing is appended when the table has no key or a delete carries no old
 * tuple. BROOK_ERR with a message (out as on entry) when a key value cannot be encoded. */
int rowavro_encode_key(const rowavro_table *t, const pg_cdc_change *ch, brook_buf *out,
		       bool *has, char *err, size_t errlen);

/* Append the Avro binary of the change's value (t->value_schema) to out. Row envelope:
 * *has is false and nothing is appended for a delete or truncate (the caller sends a
 * tombstone or nothing). BROOK_ERR with a message (out as on entry) when a value cannot
 * be encoded. */
int rowavro_encode_value(const rowavro *ra, const rowavro_table *t, const pg_cdc_change *ch,
			 const rowavro_source *src, brook_buf *out, bool *has, char *err,
			 size_t errlen);

/* Parse one PostgreSQL text value of a column kind and append the Avro binary of its
 * plain type (not the nullable union) to out (exposed for tests and the fuzz target).
 * BROOK_ERR with the reason (out as on entry) when the text does not parse. */
int rowavro_parse_text(rowavro_kind kind, const char *text, size_t len, brook_buf *out,
		       char *err, size_t errlen);

#endif
