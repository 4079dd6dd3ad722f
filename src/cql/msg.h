/*
 * msg.h — CQL native protocol v4 messages (spec section 4): structs, encoders and
 * decoders for every opcode, used by both the store's server and brook's client.
 *
 * Decoding (cql_msg_decode) reads a body (after the frame extras, see frame.h) into a
 * cql_msg whose strings and bytes are views into the body and whose arrays come from
 * the caller's arena: keep the body and the arena alive while the message is used.
 * Errors are the reader's sticky error (rd->err names what failed and where). Bytes
 * after a response body are ignored, as the spec asks ("clients should support extra
 * informations ... at the end of the frame body"); after a request body they fail.
 *
 * Encoding (cql_msg_encode) appends the body only; frame it with cql_frame_begin/end.
 * Encoding a decoded message gives its canonical bytes (decode . encode is a fixed
 * point — the fuzz target checks it).
 *
 * Rows results: a decoded Rows result keeps <rows_content> as one view, checked to hold
 * exactly rows_count * columns_count [bytes]; walk it with cql_rows_iter. To produce
 * Rows efficiently, a server writes the metadata with cql_rows_begin, then appends cells
 * straight into the body with cql_rows_cell* and finishes with cql_rows_end, which
 * patches the row count: no per-row structs.
 */
#ifndef BROOK_CQL_MSG_H
#define BROOK_CQL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "cql/frame.h"
#include "cql/proto.h"
#include "cql/types.h"

/* Error codes (spec section 9). */
typedef enum cql_error_code {
	CQL_ERR_SERVER = 0x0000,
	CQL_ERR_PROTOCOL = 0x000A,
	CQL_ERR_BAD_CREDENTIALS = 0x0100,
	CQL_ERR_UNAVAILABLE = 0x1000,
	CQL_ERR_OVERLOADED = 0x1001,
	CQL_ERR_IS_BOOTSTRAPPING = 0x1002,
	CQL_ERR_TRUNCATE = 0x1003,
	CQL_ERR_WRITE_TIMEOUT = 0x1100,
	CQL_ERR_READ_TIMEOUT = 0x1200,
	CQL_ERR_READ_FAILURE = 0x1300,
	CQL_ERR_FUNCTION_FAILURE = 0x1400,
	CQL_ERR_WRITE_FAILURE = 0x1500,
	CQL_ERR_SYNTAX = 0x2000,
	CQL_ERR_UNAUTHORIZED = 0x2100,
	CQL_ERR_INVALID = 0x2200,
	CQL_ERR_CONFIG = 0x2300,
	CQL_ERR_ALREADY_EXISTS = 0x2400,
	CQL_ERR_UNPREPARED = 0x2500,
} cql_error_code;

/* "Syntax_error", ...; "Unknown_error" for codes outside the spec. */
const char *cql_error_name(int32_t code);

/* Query parameter flags (QUERY, EXECUTE; BATCH uses 0x10, 0x20, 0x40). */
enum {
	CQL_QF_VALUES = 0x01,
	CQL_QF_SKIP_METADATA = 0x02,
	CQL_QF_PAGE_SIZE = 0x04,
	CQL_QF_PAGING_STATE = 0x08,
	CQL_QF_SERIAL_CONSISTENCY = 0x10,
	CQL_QF_DEFAULT_TIMESTAMP = 0x20,
	CQL_QF_NAMES = 0x40,
};

/* RESULT kinds and Rows metadata flags. */
enum {
	CQL_RESULT_VOID = 0x0001,
	CQL_RESULT_ROWS = 0x0002,
	CQL_RESULT_SET_KEYSPACE = 0x0003,
	CQL_RESULT_PREPARED = 0x0004,
	CQL_RESULT_SCHEMA_CHANGE = 0x0005,
};
enum {
	CQL_META_GLOBAL_TABLES_SPEC = 0x0001,
	CQL_META_HAS_MORE_PAGES = 0x0002,
	CQL_META_NO_METADATA = 0x0004,
};
enum {
	CQL_BATCH_LOGGED = 0,
	CQL_BATCH_UNLOGGED = 1,
	CQL_BATCH_COUNTER = 2,
};

/* <consistency><flags>[<n>[name]<value>...][page_size][paging_state][serial][timestamp]
 * The flags byte decides which of the fields are present on the wire. */
typedef struct cql_query_params {
	uint16_t consistency;
	uint8_t flags;
	uint16_t n_values;
	cql_str *names;    /* n_values names when flags & CQL_QF_NAMES, else NULL */
	cql_bytes *values; /* [value]s: len -1 null, -2 not set */
	int32_t page_size;
	cql_bytes paging_state;
	uint16_t serial_consistency;
	int64_t timestamp; /* microseconds */
} cql_query_params;

typedef struct cql_batch_stmt {
	uint8_t kind; /* 0: query string, 1: prepared id */
	cql_str query;
	cql_bytes id;
	uint16_t n_values;
	cql_str *names; /* when the batch has CQL_QF_NAMES */
	cql_bytes *values;
	/* Writing only: when set, the n_values [value]s as they go on the wire (a packed
	 * row, cql/client.h), written as they are instead of values. */
	const uint8_t *packed;
	size_t packed_len;
} cql_batch_stmt;

typedef struct cql_batch {
	uint8_t type; /* CQL_BATCH_* */
	uint16_t n;
	cql_batch_stmt *stmts;
	uint16_t consistency;
	uint8_t flags;
	uint16_t serial_consistency;
	int64_t timestamp;
} cql_batch;

typedef struct cql_error {
	int32_t code;
	cql_str message;
	/* Unavailable, Write/Read timeout, Read/Write failure */
	uint16_t cl;
	int32_t required, alive; /* Unavailable */
	int32_t received, blockfor, numfailures;
	uint8_t data_present;   /* Read_timeout, Read_failure */
	cql_str write_type;     /* Write_timeout, Write_failure */
	cql_str keyspace;       /* Already_exists, Function_failure */
	cql_str table;          /* Already_exists ("" for a keyspace) */
	cql_str function;       /* Function_failure */
	cql_str_list arg_types; /* Function_failure */
	cql_bytes id;           /* Unprepared: [short bytes] */
} cql_error;

typedef struct cql_col_spec {
	cql_str keyspace, table; /* when not global */
	cql_str name;
	const cql_type *type;
} cql_col_spec;

/* Rows metadata, and (with pk indexes) prepared-statement metadata. */
typedef struct cql_metadata {
	int32_t flags;
	int32_t columns_count;
	cql_bytes paging_state; /* with CQL_META_HAS_MORE_PAGES */
	int32_t pk_count;       /* prepared metadata only */
	uint16_t *pk_index;
	cql_str keyspace, table; /* with CQL_META_GLOBAL_TABLES_SPEC */
	cql_col_spec *cols;      /* columns_count, unless CQL_META_NO_METADATA */
} cql_metadata;

/* SCHEMA_CHANGE event body and Schema_change result: change type "CREATED"/"UPDATED"/
 * "DROPPED", target "KEYSPACE"/"TABLE"/"TYPE"/"FUNCTION"/"AGGREGATE". */
typedef struct cql_schema_change {
	cql_str change_type;
	cql_str target;
	cql_str keyspace;
	cql_str name;           /* TABLE, TYPE, FUNCTION, AGGREGATE */
	cql_str_list arg_types; /* FUNCTION, AGGREGATE */
} cql_schema_change;

typedef struct cql_result {
	int32_t kind;
	/* Rows */
	cql_metadata meta;
	int32_t rows_count;
	const uint8_t *rows_content;
	size_t rows_len;
	/* Set_keyspace */
	cql_str keyspace;
	/* Prepared: id, meta (bind markers, with pk indexes), result_meta */
	cql_bytes id;
	cql_metadata result_meta;
	/* Schema_change */
	cql_schema_change change;
} cql_result;

typedef struct cql_event {
	cql_str type;   /* TOPOLOGY_CHANGE, STATUS_CHANGE, SCHEMA_CHANGE */
	cql_str change; /* NEW_NODE, REMOVED_NODE, UP, DOWN */
	cql_inet addr;
	cql_schema_change schema;
} cql_event;

typedef struct cql_msg {
	uint8_t opcode;
	union {
		cql_error error;        /* ERROR */
		cql_str_map startup;    /* STARTUP */
		cql_str authenticator;  /* AUTHENTICATE */
		cql_multimap supported; /* SUPPORTED */
		struct {                /* QUERY */
			cql_str query;
			cql_query_params params;
		} query;
		cql_result result; /* RESULT */
		cql_str prepare;   /* PREPARE */
		struct {           /* EXECUTE */
			cql_bytes id;
			cql_query_params params;
		} execute;
		cql_str_list register_events; /* REGISTER */
		cql_event event;              /* EVENT */
		cql_batch batch;              /* BATCH */
		cql_bytes token;              /* AUTH_CHALLENGE, AUTH_RESPONSE, AUTH_SUCCESS */
	} u;                                  /* READY, OPTIONS: empty */
} cql_msg;

/* Decodes a body of the given opcode. BROOK_OK, or BROOK_ERR with rd->failed and
 * rd->err set (an unknown opcode fails too). */
int cql_msg_decode(uint8_t opcode, cql_rd *rd, brook_arena *a, cql_msg *out);
/* Appends the body of m. */
void cql_msg_encode(brook_buf *b, const cql_msg *m);

/* Pieces, for callers building bodies by hand. */
void cql_query_params_write(brook_buf *b, const cql_query_params *p);
void cql_query_params_read(cql_rd *rd, brook_arena *a, cql_query_params *p);
/* Rows metadata (prepared: with pk_count/pk_index, and no paging state). */
void cql_metadata_write(brook_buf *b, const cql_metadata *m, bool prepared);
void cql_metadata_read(cql_rd *rd, brook_arena *a, cql_metadata *m, bool prepared);
void cql_schema_change_write(brook_buf *b, const cql_schema_change *c);
void cql_schema_change_read(cql_rd *rd, brook_arena *a, cql_schema_change *c);

/* Convenience encoders for the common server answers (body only). */
void cql_error_write(brook_buf *b, int32_t code, const char *message);
void cql_error_write_already_exists(brook_buf *b, const char *message, const char *ks,
				    const char *table);
void cql_error_write_unprepared(brook_buf *b, const char *message, const void *id, size_t idlen);
/* SUPPORTED with CQL_VERSION [3.4.4] and COMPRESSION [lz4] (the drivers read both). */
void cql_supported_write_default(brook_buf *b);

/* Rows writer: appends a Rows RESULT body cell by cell. */
typedef struct cql_rows_wr {
	brook_buf *b;
	size_t meta_pos;  /* where the metadata flags live */
	size_t count_pos; /* where rows_count lives */
	int32_t columns;
	int32_t rows;
	int32_t cell; /* cells written in the current row */
} cql_rows_wr;

void cql_rows_begin(cql_rows_wr *w, brook_buf *b, const cql_metadata *meta);
void cql_rows_cell(cql_rows_wr *w, const void *p, int32_t len); /* len -1: null */
void cql_rows_cell_null(cql_rows_wr *w);
void cql_rows_cell_text(cql_rows_wr *w, const char *s);
void cql_rows_cell_int(cql_rows_wr *w, int32_t v);
void cql_rows_cell_bigint(cql_rows_wr *w, int64_t v);
void cql_rows_cell_boolean(cql_rows_wr *w, bool v);
/* Marks the page as not the last: sets Has_more_pages and inserts paging_state into
 * the metadata already written (one move of the page's bytes). Call at most once, before
 * cql_rows_end, on a writer begun with metadata without Has_more_pages. */
void cql_rows_set_paging_state(cql_rows_wr *w, const void *state, int32_t len);
/* Patches rows_count; every row must be complete. Returns the number of rows. */
int32_t cql_rows_end(cql_rows_wr *w);

/* Walks rows_content of a decoded Rows result. */
typedef struct cql_rows_iter {
	cql_rd rd;
	int32_t columns;
	int32_t rows_left;
} cql_rows_iter;

void cql_rows_iter_init(cql_rows_iter *it, const cql_result *r);
/* Fills cells[0..columns) with the next row; false when there are no more. */
bool cql_rows_next(cql_rows_iter *it, cql_bytes *cells);

#endif
