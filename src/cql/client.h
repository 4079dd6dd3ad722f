/*
 * client.h — brook's CQL native protocol v4 client: one connection to a Cassandra 3.11+ /
 * 4.x, ScyllaDB or `brook store` node, many concurrent requests on it.
 *
 * It is the pipeline's sink (the stream processor writes created_users rows through it),
 * the engine of the CQL benchmark and of `brook cql`. Everything on the wire goes through
 * cql/frame.h and cql/msg.h; values are checked and converted with cql/types.h.
 *
 * OBJECTS AND LIFETIMES
 *
 *   cql_client     the connection and its I/O thread. cql_client_new() connects (the
 *                  first contact point that answers) before returning; cql_client_free()
 *                  stops taking requests, waits for the ones already accepted to finish
 *                  (each ends by its answer or its timeout), then closes.
 *   cql_prepared   a prepared statement, cached by (keyspace, query text): preparing the
 *                  same text again costs no round trip. Owned by the client; valid until
 *                  cql_client_free(). Never free it yourself.
 *   cql_stmt       what to run: a query string (QUERY) or a prepared statement (EXECUTE),
 *                  its bound values and per-request options (consistency, page size,
 *                  paging state, timeout). Owned by the caller (cql_stmt_free). Submitting
 *                  copies everything it needs, so a statement can be rebound and
 *                  resubmitted, or freed, as soon as the submit call returns.
 *   cql_stmt_batch a BATCH (logged, unlogged or counter) of statements, copied in by
 *                  cql_stmt_batch_add(). Owned by the caller, reusable like cql_stmt.
 *   cql_res        one answer: Rows (column names and types, cells as bytes, paging
 *                  state), Void, Set_keyspace, Schema_change or Prepared. Ownership passes
 *                  to whoever receives it (the sync call's out pointer or the completion
 *                  callback); free with cql_res_free().
 *
 * THREADING
 *
 *   Client calls (submit, execute, prepare) are thread-safe: any number of threads may
 *   share one client. A cql_stmt, cql_stmt_batch or cql_res is used by one thread at a
 *   time. One I/O thread per client owns the socket: it frames queued requests, writes
 *   them, reads answers, matches them to requests by stream id (answers may come in any
 *   order), enforces timeouts and reconnects.
 *
 *   Completion callbacks run on the I/O thread. They must be short; they may submit more
 *   requests asynchronously (a submit from a callback never blocks: when the client is
 *   full it answers BROOK_AGAIN; the completing request's own slot is already free, so
 *   a callback can always submit one follow-up), but must not call the synchronous wrappers
 *   (cql_client_execute, cql_client_prepare, ...; they fail with CQL_CLIENT_E_USAGE
 *   there, as they would deadlock) nor cql_client_free().
 *
 * BACK-PRESSURE
 *
 *   At most opts.max_in_flight (default 1024, at most 32768 — the protocol's stream ids)
 *   requests are accepted and not yet completed. A submit beyond that blocks until one
 *   completes or the request's own timeout passes (then it fails with
 *   CQL_CLIENT_E_TIMEOUT); with opts.submit_nonblocking, or from a callback, it returns
 *   BROOK_AGAIN at once (error kind CQL_CLIENT_E_BUSY) and the caller retries later.
 *
 * CONNECTION STATES (I/O thread; the transitions are in client.c)
 *
 *   UP ──(socket error, EOF, unparsable frame)──▶ DOWN ──(backoff elapsed)──▶ connecting
 *   connecting ──(handshake done)──▶ UP;  connecting ──(fails)──▶ DOWN (backoff doubles,
 *   from opts.reconnect_base_ms up to opts.reconnect_max_ms; the first attempt after a
 *   loss is immediate). Connecting is blocking I/O on the I/O thread, bounded by
 *   connect_timeout_ms per contact point; timeouts are enforced again when it ends.
 *
 *   The handshake: OPTIONS → SUPPORTED; STARTUP {CQL_VERSION 3.0.0, COMPRESSION lz4 when
 *   asked for and offered} → READY, or AUTHENTICATE → AUTH_RESPONSE (SASL PLAIN
 *   "\0user\0password") → AUTH_CHALLENGE (answered again, a bounded number of times) ...
 *   → AUTH_SUCCESS; then `USE keyspace` when one is set (opts.keyspace, or the last
 *   keyspace a `USE` statement switched to: reconnecting restores it).
 *
 *   When the connection drops, requests already written fail at once with
 *   CQL_CLIENT_E_CONNECTION (their outcome on the server is unknown); requests not yet
 *   written, and new ones, wait for the reconnection (or their timeout). Prepared
 *   statements are re-prepared lazily: a server that does not know an id answers
 *   UNPREPARED (0x2500); the client then prepares the statement's text again (every
 *   prepared statement of a batch), takes the new id and metadata, and retries the
 *   request once, transparently. The same covers a table dropped and re-created.
 *
 * DEFAULTS
 *
 *   Consistency LOCAL_ONE (the DataStax drivers' default: right for brook's single-node
 *   store and fast on a cluster; use LOCAL_QUORUM per statement or in the options for
 *   read-your-writes on a replicated cluster). Page size 5000 rows. Request timeout 12 s,
 *   connect timeout 5 s (per contact point). Metadata is always requested with the rows
 *   (no Skip_metadata), so a schema change can never make the client misread cells.
 *   Values of a prepared statement must all be bound (null and unset are explicit
 *   binds): a forgotten value is an error, not a silent `unset`.
 *
 * LIMITS
 *
 *   Re-preparation runs in the connection's current keyspace: a prepared statement with
 *   unqualified table names, prepared before a `USE` switched keyspaces, would be
 *   re-prepared against the new one. Qualify table names (keyspace.table) in prepared
 *   statements, as the pipeline does. One connection per client (to the first contact
 *   point that answers); no token-aware routing, no speculative retries, no EVENTs.
 *
 * ERRORS
 *
 *   Functions return BROOK_OK, BROOK_ERR or BROOK_AGAIN and fill a cql_client_error: its
 *   kind says where the failure came from; for server errors `code` is the CQL error code
 *   and `msg` reads "Invalid (0x2200): unconfigured table foo". Bind helpers also record
 *   their first failure in the statement ("sticky"), so a batch of binds can be checked
 *   once: executing a statement with a failed bind fails with that message.
 */
#ifndef BROOK_CQL_CLIENT_H
#define BROOK_CQL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "cql/msg.h"
#include "cql/proto.h"
#include "cql/types.h"

typedef struct cql_client cql_client;
typedef struct cql_prepared cql_prepared;
typedef struct cql_stmt cql_stmt;
typedef struct cql_stmt_batch cql_stmt_batch;
typedef struct cql_res cql_res;

/* ---- errors ---------------------------------------------------------------------- */

typedef enum cql_client_errkind {
	CQL_CLIENT_E_NONE = 0,
	CQL_CLIENT_E_SERVER,     /* the server answered ERROR: see code and msg */
	CQL_CLIENT_E_CONNECT,    /* no contact point could be connected to (or auth failed) */
	CQL_CLIENT_E_CONNECTION, /* the connection dropped while the request was on it */
	CQL_CLIENT_E_TIMEOUT,    /* no answer within the request's timeout */
	CQL_CLIENT_E_USAGE,      /* a bad argument or bind, detected before sending */
	CQL_CLIENT_E_PROTOCOL,   /* the server's answer could not be parsed */
	CQL_CLIENT_E_BUSY,       /* max_in_flight reached (BROOK_AGAIN): retry later */
	CQL_CLIENT_E_CLOSED,     /* the client is shutting down */
} cql_client_errkind;

typedef struct cql_client_error {
	cql_client_errkind kind;
	int32_t code; /* CQL error code when kind is CQL_CLIENT_E_SERVER, else 0 */
	char msg[512];
} cql_client_error;

/* "server", "connect", "connection", "timeout", "usage", "protocol", "busy", "closed". */
const char *cql_client_errkind_name(cql_client_errkind kind);

/* ---- the client ------------------------------------------------------------------ */

typedef struct cql_client_opts {
	/* "host:port", "host" (port 9042), "[v6addr]:port"; tried in order at every
	 * (re)connection, the first that completes the handshake wins. */
	const char *const *contact_points;
	size_t n_contact_points;
	const char *username, *password; /* both or neither (PasswordAuthenticator) */
	const char *keyspace;            /* NULL: none; quoted unless lower-case [a-z0-9_] */
	bool compression;                /* lz4 when the server offers it */
	uint16_t consistency;            /* default CQL_CONSISTENCY_LOCAL_ONE */
	uint16_t serial_consistency;     /* 0: not sent (server default SERIAL) */
	int32_t page_size;               /* rows per page; default 5000; <= 0: no paging */
	int64_t connect_timeout_ms;      /* per contact point and handshake; default 5000 */
	int64_t request_timeout_ms;      /* default 12000 */
	int max_in_flight;               /* 1..32768, default 1024 */
	bool submit_nonblocking;         /* BROOK_AGAIN instead of waiting when full */
	int64_t reconnect_base_ms;       /* first backoff; default 100 */
	int64_t reconnect_max_ms;        /* backoff cap; default 10000 */
	uint32_t max_frame_bytes;        /* largest answer body accepted; default 256 MiB */
} cql_client_opts;

void cql_client_opts_default(cql_client_opts *o);

/* Connects and starts the I/O thread. NULL with err filled (kind CQL_CLIENT_E_CONNECT or
 * CQL_CLIENT_E_USAGE) when no contact point completes the handshake. The options'
 * strings are copied. */
cql_client *cql_client_new(const cql_client_opts *o, cql_client_error *err);
/* Stops accepting requests, waits for accepted ones to complete (and for a reconnection
 * attempt under way: at most connect_timeout_ms per contact point), closes, frees every
 * prepared statement. NULL is a no-op. Not from a completion callback. */
void cql_client_free(cql_client *c);
/* "host:port" of the node currently (or last) connected to, into out. */
void cql_client_peer(cql_client *c, char *out, size_t outlen);
/* True when the connection uses lz4 bodies. */
bool cql_client_compressed(cql_client *c);
/* Connections made so far (1 after cql_client_new; grows with every reconnection). */
uint64_t cql_client_connections(cql_client *c);

/* ---- statements and binding ------------------------------------------------------ */

/* A QUERY statement; values bound by position are typed by the binder used (bind_int
 * sends a 4-byte int, ...), since the server's types are unknown before preparing. */
cql_stmt *cql_stmt_new(const char *query);
/* An EXECUTE statement for p: binders check and convert against the bind markers'
 * types as p had them when the statement was made (after a re-prepare that changed
 * them, make a new cql_stmt). */
cql_stmt *cql_stmt_new_prepared(cql_prepared *p);
void cql_stmt_free(cql_stmt *st);
/* Forgets every bound value, the paging state and the sticky error (options stay). */
void cql_stmt_clear(cql_stmt *st);

/* Bind markers of a prepared statement (or values bound so far for a query). */
int cql_stmt_count(const cql_stmt *st);
/* The index of the bind marker named name (case-sensitive, as the server reports it),
 * or -1. Prepared statements only. */
int cql_stmt_index(const cql_stmt *st, const char *name);
/* The bind marker's type, or NULL (query statements, index out of range). */
const cql_type *cql_stmt_type(const cql_stmt *st, int i);
/* The first bind failure, or NULL. */
const char *cql_stmt_error(const cql_stmt *st);

/* Binders: BROOK_OK, or BROOK_ERR when the value does not fit the marker's type (the
 * message is kept, see cql_stmt_error). Integer binders fit any integer column
 * (tinyint, smallint, int, bigint, counter, varint) when the value is in range; float
 * and double bind float or double columns; text binds text/varchar/ascii (checked);
 * uuid binds uuid and timeuuid (version 1 checked); timestamp is milliseconds since the
 * epoch; raw binds an already serialized value of any type (checked when typed). */
int cql_stmt_bind_null(cql_stmt *st, int i);
int cql_stmt_bind_unset(cql_stmt *st, int i);
int cql_stmt_bind_bool(cql_stmt *st, int i, bool v);
int cql_stmt_bind_int(cql_stmt *st, int i, int32_t v);
int cql_stmt_bind_bigint(cql_stmt *st, int i, int64_t v);
int cql_stmt_bind_float(cql_stmt *st, int i, float v);
int cql_stmt_bind_double(cql_stmt *st, int i, double v);
int cql_stmt_bind_text(cql_stmt *st, int i, const char *s);
int cql_stmt_bind_textn(cql_stmt *st, int i, const char *s, size_t n);
int cql_stmt_bind_blob(cql_stmt *st, int i, const void *p, size_t n);
int cql_stmt_bind_uuid(cql_stmt *st, int i, const uint8_t u[16]);
int cql_stmt_bind_timestamp(cql_stmt *st, int i, int64_t ms);
int cql_stmt_bind_raw(cql_stmt *st, int i, const void *p, size_t n);
/* Parses a CQL literal for the marker's type with cql_value_from_text ("42",
 * "2024-03-05 10:00:00+0000", "[1, 2]", "'it''s'" or it's, "null" binds null).
 * Prepared statements only. */
int cql_stmt_bind_from_text(cql_stmt *st, int i, const char *s);
int cql_stmt_bind_from_textn(cql_stmt *st, int i, const char *s, size_t n);

/* Per-request options. Unset, or 0 for serial consistency, page size and timeout: the
 * client's default. */
void cql_stmt_set_consistency(cql_stmt *st, uint16_t cl);
void cql_stmt_set_serial_consistency(cql_stmt *st, uint16_t cl);
void cql_stmt_set_page_size(cql_stmt *st, int32_t rows); /* < 0: no paging */
void cql_stmt_set_timeout_ms(cql_stmt *st, int64_t ms);
void cql_stmt_set_timestamp(cql_stmt *st, int64_t us); /* default timestamp (µs) */
/* Continue from a paging state (copied); NULL or 0 bytes: start from the first page. */
void cql_stmt_set_paging_state(cql_stmt *st, const void *state, size_t n);
/* Continue after page r (clears the paging state when r was the last page). Returns
 * whether there is a next page. */
bool cql_stmt_set_paging_state_from(cql_stmt *st, const cql_res *r);

/* ---- batches --------------------------------------------------------------------- */

/* type: CQL_BATCH_LOGGED, CQL_BATCH_UNLOGGED or CQL_BATCH_COUNTER. */
cql_stmt_batch *cql_stmt_batch_new(uint8_t type);
void cql_stmt_batch_free(cql_stmt_batch *b);
/* Copies st (its query or prepared id, and its values) into the batch. BROOK_ERR with
 * err (kind CQL_CLIENT_E_USAGE) for a statement with a failed or missing bind, or when
 * the batch already holds 65535 statements. */
int cql_stmt_batch_add(cql_stmt_batch *b, const cql_stmt *st, cql_client_error *err);
/* A prepared statement's bound values packed, to be added to batches later, or on
 * another thread (bind where the values are still in cache): the protocol's list of
 * [value]s. cql_stmt_packed_len is its size; cql_stmt_pack writes exactly that many
 * bytes to dst, or fails like cql_stmt_batch_add for a failed or missing bind (the
 * message in err, nothing written). */
size_t cql_stmt_packed_len(const cql_stmt *st);
int cql_stmt_pack(const cql_stmt *st, void *dst, char *err, size_t errlen);
/* Adds an EXECUTE of p with n values packed by cql_stmt_pack from a statement of p (len
 * bytes, copied). BROOK_ERR (kind CQL_CLIENT_E_USAGE) when they are not n values in
 * len bytes, or the batch is full. */
int cql_stmt_batch_add_packed(cql_stmt_batch *b, cql_prepared *p, int n, const void *packed,
			      size_t len, cql_client_error *err);
int cql_stmt_batch_count(const cql_stmt_batch *b);
void cql_stmt_batch_clear(cql_stmt_batch *b); /* removes the statements, keeps options */
void cql_stmt_batch_set_consistency(cql_stmt_batch *b, uint16_t cl);
void cql_stmt_batch_set_serial_consistency(cql_stmt_batch *b, uint16_t cl);
void cql_stmt_batch_set_timeout_ms(cql_stmt_batch *b, int64_t ms);
void cql_stmt_batch_set_timestamp(cql_stmt_batch *b, int64_t us);

/* ---- running requests -------------------------------------------------------------- */

/* Completion: exactly one call per accepted request, on the I/O thread. On success res
 * is the answer (yours: cql_res_free it) and err is NULL; on failure res is NULL. */
typedef void (*cql_done_fn)(void *arg, cql_res *res, const cql_client_error *err);

/* Asynchronous submits: BROOK_OK when accepted (done will be called), BROOK_AGAIN when
 * full and not waiting (see BACK-PRESSURE), BROOK_ERR with err (done not called). */
int cql_client_execute_async(cql_client *c, const cql_stmt *st, cql_done_fn done, void *arg,
			     cql_client_error *err);
int cql_client_execute_batch_async(cql_client *c, const cql_stmt_batch *b, cql_done_fn done,
				   void *arg, cql_client_error *err);

/* Synchronous wrappers: wait for the answer. *out (may be NULL: answer dropped) gets the
 * result on BROOK_OK. */
int cql_client_execute(cql_client *c, const cql_stmt *st, cql_res **out, cql_client_error *err);
int cql_client_execute_batch(cql_client *c, const cql_stmt_batch *b, cql_res **out,
			     cql_client_error *err);
/* One statement without values. */
int cql_client_query(cql_client *c, const char *query, cql_res **out, cql_client_error *err);
/* Prepares query (or finds it in the cache: no round trip). *out stays the client's. */
int cql_client_prepare(cql_client *c, const char *query, cql_prepared **out,
		       cql_client_error *err);

/* Paging. The next page after prev (prev itself is not freed): sets st's paging state
 * from prev and executes st. *out is NULL (and BROOK_OK) when prev was the last page. */
int cql_client_next_page(cql_client *c, cql_stmt *st, const cql_res *prev, cql_res **out,
			 cql_client_error *err);
/* Calls fn for every row of every page of st, fetching pages one after the other from
 * the first (st's paging state is reset first and left at the end). fn returns 0 to go
 * on; anything else stops the walk and is returned. BROOK_OK when every row was
 * visited; *rows (may be NULL) counts the rows visited. */
typedef int (*cql_row_fn)(void *arg, const cql_res *page, int32_t row);
int cql_client_foreach_row(cql_client *c, cql_stmt *st, cql_row_fn fn, void *arg,
			   int64_t *rows, cql_client_error *err);

/* ---- prepared statements ------------------------------------------------------------ */

const char *cql_prepared_query(const cql_prepared *p);
/* Bind markers, result columns (-1 when the server sent no result metadata). */
int cql_prepared_bind_count(const cql_prepared *p);
int cql_prepared_column_count(const cql_prepared *p);
/* Times the statement was prepared on a server (1 + re-prepares after UNPREPARED). */
uint64_t cql_prepared_generation(const cql_prepared *p);

/* ---- results ----------------------------------------------------------------------- */

int32_t cql_res_kind(const cql_res *r); /* CQL_RESULT_VOID, _ROWS, ... */
/* Rows (0 for non-Rows results). */
int32_t cql_res_row_count(const cql_res *r);
int32_t cql_res_column_count(const cql_res *r);
const char *cql_res_column_name(const cql_res *r, int32_t col); /* NUL-terminated */
const cql_type *cql_res_column_type(const cql_res *r, int32_t col);
int32_t cql_res_column_index(const cql_res *r, const char *name); /* -1 when absent */
/* A cell's bytes (len -1: null); valid while r lives. */
cql_bytes cql_res_cell(const cql_res *r, int32_t row, int32_t col);
bool cql_res_is_null(const cql_res *r, int32_t row, int32_t col);
/* Appends the cell's text form (cql_value_to_text: "null" for null). */
void cql_res_cell_text(const cql_res *r, int32_t row, int32_t col, brook_buf *out,
		       unsigned flags);
/* Typed getters: BROOK_ERR when the cell is null, empty or of another type. int64
 * reads tinyint, smallint, int, bigint, counter, timestamp (ms), time (ns), date
 * (days since the epoch); double reads float and double; text reads text, varchar,
 * ascii (a view, not NUL-terminated); uuid reads uuid and timeuuid. */
int cql_res_get_int64(const cql_res *r, int32_t row, int32_t col, int64_t *v);
int cql_res_get_double(const cql_res *r, int32_t row, int32_t col, double *v);
int cql_res_get_bool(const cql_res *r, int32_t row, int32_t col, bool *v);
int cql_res_get_text(const cql_res *r, int32_t row, int32_t col, cql_str *v);
int cql_res_get_uuid(const cql_res *r, int32_t row, int32_t col, uint8_t u[16]);
/* Rows: more pages follow? Their paging state (len -1 when none). */
bool cql_res_has_more_pages(const cql_res *r);
cql_bytes cql_res_paging_state(const cql_res *r);
/* Set_keyspace: the keyspace ("" otherwise). */
const char *cql_res_keyspace(const cql_res *r);
/* Schema_change: what changed (NULL otherwise). */
const cql_schema_change *cql_res_schema_change(const cql_res *r);
/* Warnings the server attached (n == 0 when none). */
const cql_str_list *cql_res_warnings(const cql_res *r);
/* The decoded message, for anything the accessors do not cover. */
const cql_msg *cql_res_msg(const cql_res *r);
void cql_res_free(cql_res *r);

/* Decodes an answer frame's body (as received: compressed when the header says so)
 * into a result. NULL with a message in err when it is malformed. Used by the I/O
 * thread; public for tests and tools. */
cql_res *cql_res_decode(const cql_frame_hdr *h, const void *body, size_t len, uint32_t max_len,
			char *err, size_t errlen);

/* ---- output formatting (`brook cql`) ------------------------------------------------ */

/* cqlsh-style table: header, separator, right-aligned cells, blank line, "(N rows)".
 * Feed it every page of one statement's result, then render. Widths count UTF-8 code
 * points. */
typedef struct cql_table {
	int32_t columns;
	char **names;      /* column names */
	brook_buf cells;   /* every cell's text, NUL-separated */
	size_t *widths;    /* per column, in code points */
	int64_t rows;
	size_t *offsets;   /* rows * columns offsets into cells */
	size_t offsets_cap;
} cql_table;

void cql_table_init(cql_table *t, const cql_res *first_page);
void cql_table_add(cql_table *t, const cql_res *page);
void cql_table_render(const cql_table *t, brook_buf *out);
void cql_table_release(cql_table *t);

/* One row as a compact JSON object {"column": value, ...} (no newline): numbers and
 * booleans as JSON numbers and booleans, collections as arrays / objects, other values
 * as their text form in strings, null as null. */
void cql_res_row_json(const cql_res *r, int32_t row, brook_buf *out);

/* Splits a script into statements at top-level ';' (not inside '...' strings, "..."
 * identifiers, $$...$$ strings, or --, // and C-style comments). Calls fn for each non-blank
 * statement (trimmed, without the ';') with the 1-based line it starts on; a non-zero
 * return from fn stops and is returned. BROOK_ERR with a message in err for an
 * unterminated string or comment. */
typedef int (*cql_split_fn)(void *arg, const char *stmt, size_t len, int line);
int cql_split_statements(const char *text, size_t len, cql_split_fn fn, void *arg, char *err,
			 size_t errlen);

#endif
