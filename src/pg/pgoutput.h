/*
 * pgoutput.h — the streaming replication copy-data framing and the pgoutput logical
 * replication messages (protocol version 1), decoded and encoded without I/O.
 *
 * Where the bytes come from: the CDC connector opens a libpq connection with
 * replication=database, sends START_REPLICATION SLOT s LOGICAL lsn (proto_version '1',
 * publication_names 'p') and reads CopyData messages with PQgetCopyData. Each one is
 *
 *   'w' XLogData         wal_start, wal_end, server_time, then one pgoutput message
 *   'k' Primary keepalive wal_end, server_time, reply_requested
 *
 * pgo_parse_copy() splits those; pgo_decode() decodes the pgoutput message inside an
 * XLogData; pgo_encode_standby_status() builds the 'r' Standby status update we send
 * back (PQputCopyData) to report how far WAL was written/flushed/applied, which is
 * what advances the slot's confirmed_flush_lsn.
 *
 * A logical walsender (PostgreSQL 15) puts the LSN of the decoded record in both
 * wal_start and wal_end of an XLogData (0/0 for Relation and Type messages, and a
 * Begin carries the transaction's first LSN), so neither is monotonic: progress is
 * tracked by Commit's end_lsn, which is what the standby status update confirms.
 *
 * Message flow of one transaction: Begin, then any Origin/Relation/Type messages, then
 * Insert/Update/Delete/Truncate/Message, then Commit. A Relation message precedes the
 * first change of a relation in a session and again after its definition changed; the
 * changes name the relation only by id. pgo_relations is that id → definition cache;
 * pgo_decode() updates it on every Relation message and looks changes up in it.
 *
 * Invariants:
 *   - Every read is bounded by the input (core/rd.h). Lengths and counts from the wire
 *     are checked against the bytes left before anything is allocated. Truncated input,
 *     trailing bytes, unknown message types and unknown tuple kinds fail with
 *     BROOK_ERR and a message naming the message type and the byte offset.
 *   - Zero copy: strings, tuple values and Message contents in a decoded pgo_msg point
 *     INTO the caller's payload (wire strings are NUL-terminated, so they are valid C
 *     strings; tuple values are not and come with a length). Arrays (columns, tuple
 *     values, relation ids) come from the caller's arena. A pgo_msg is therefore valid
 *     while both the payload and the arena are.
 *   - A tuple decoded for a relation has exactly the relation's column count, else
 *     BROOK_ERR. msg->change.rel points into the cache and stays valid until the next
 *     Relation message for the same id or pgo_relations_free().
 *   - Protocol versions 2+ (streamed transactions 'S' 'E' 'c' 'A') and two-phase
 *     messages ('b' 'P' 'K' 'r' 'p') are rejected with a message saying so: brook asks
 *     for proto_version '1', so seeing them means a misconfigured slot or server.
 *
 * Times on the wire are PostgreSQL epoch (2000-01-01 UTC) microseconds; brook's wall
 * clock is Unix milliseconds (core/timeutil.h): pgo_time_{from,to}_unix_ms convert.
 * LSNs are uint64_t; their text form is "16/B374D848" (high/low 32 bits in hex).
 */
#ifndef BROOK_PG_PGOUTPUT_H
#define BROOK_PG_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* ---- LSNs and times ---- */

#define PGO_LSN_STRLEN 18 /* "FFFFFFFF/FFFFFFFF" + NUL */

/* "X/Y", each part 1..8 hex digits. BROOK_OK or BROOK_ERR (nothing written). */
int pgo_lsn_parse(const char *s, uint64_t *lsn);
/* "%X/%X" into out (PGO_LSN_STRLEN bytes). */
void pgo_lsn_format(uint64_t lsn, char *out);

/* Unix ms ↔ PostgreSQL epoch µs (sub-millisecond parts round toward −∞). */
int64_t pgo_time_from_unix_ms(int64_t unix_ms);
int64_t pgo_time_to_unix_ms(int64_t pg_us);

/* ---- copy-data framing (Streaming Replication Protocol) ---- */

enum {
	PGO_COPY_XLOGDATA = 'w',
	PGO_COPY_KEEPALIVE = 'k',
};

typedef struct pgo_copy {
	char kind;	     /* PGO_COPY_XLOGDATA or PGO_COPY_KEEPALIVE */
	uint64_t wal_start;  /* XLogData only */
	uint64_t wal_end;    /* the server's WAL end (see below) */
	int64_t server_time; /* PostgreSQL epoch µs */
	bool reply_requested; /* keepalive only: answer with a standby status update now */
	const uint8_t *payload; /* XLogData only: the pgoutput message (points into buf) */
	size_t payload_len;
} pgo_copy;

/* One CopyData message body as returned by PQgetCopyData. BROOK_OK or BROOK_ERR. */
int pgo_parse_copy(const uint8_t *buf, size_t len, pgo_copy *out, char *err, size_t errlen);

#define PGO_STANDBY_STATUS_LEN 34
/* The 'r' Standby status update: write/flush/apply LSNs (flush is what the slot keeps),
 * now in PostgreSQL epoch µs, reply_requested asks the server for a keepalive at once. */
void pgo_encode_standby_status(uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
			       int64_t now_pg_us, bool reply_requested,
			       uint8_t out[PGO_STANDBY_STATUS_LEN]);

/* ---- relations ---- */

#define PGO_COLUMN_KEY 1 /* column flag: part of the replica identity (key) */

typedef struct pgo_column {
	uint8_t flags; /* PGO_COLUMN_KEY or 0 */
	const char *name;
	uint32_t type_oid;
	int32_t typmod;
} pgo_column;

typedef struct pgo_relation {
	uint32_t id;	     /* the table's OID */
	const char *nspname; /* "" means pg_catalog */
	const char *relname;
	char replident; /* relreplident: 'd' default, 'n' nothing, 'f' full, 'i' index */
	uint16_t ncols;
	pgo_column *cols;
} pgo_relation;

/* The id → relation cache. Owns deep copies of what it holds. */
typedef struct pgo_relations pgo_relations;

pgo_relations *pgo_relations_new(void);
void pgo_relations_free(pgo_relations *rels); /* NULL is fine */
/* Copies rel in, replacing a relation with the same id; returns the cached copy. */
const pgo_relation *pgo_relations_put(pgo_relations *rels, const pgo_relation *rel);
const pgo_relation *pgo_relations_get(const pgo_relations *rels, uint32_t id); /* or NULL */
size_t pgo_relations_count(const pgo_relations *rels);

/* ---- pgoutput messages ---- */

typedef enum pgo_msg_type {
	PGO_BEGIN = 'B',
	PGO_COMMIT = 'C',
	PGO_ORIGIN = 'O',
	PGO_RELATION = 'R',
	PGO_TYPE = 'Y',
	PGO_INSERT = 'I',
	PGO_UPDATE = 'U',
	PGO_DELETE = 'D',
	PGO_TRUNCATE = 'T',
	PGO_MESSAGE = 'M',
} pgo_msg_type;

typedef enum pgo_value_kind {
	PGO_VALUE_NULL = 'n',
	PGO_VALUE_UNCHANGED = 'u', /* an unchanged TOASTed value: not sent, keep the old one */
	PGO_VALUE_TEXT = 't',	   /* the type's text output, NOT NUL-terminated */
	PGO_VALUE_BINARY = 'b',	   /* the type's send format (only with binary 'true') */
} pgo_value_kind;

typedef struct pgo_value {
	char kind;	     /* pgo_value_kind */
	uint32_t len;	     /* text/binary: bytes at data */
	const uint8_t *data; /* text/binary: into the payload; else NULL */
} pgo_value;

typedef struct pgo_tuple {
	uint16_t ncols;
	pgo_value *cols; /* from the arena; NULL when ncols == 0 */
} pgo_tuple;

#define PGO_TRUNCATE_CASCADE 1
#define PGO_TRUNCATE_RESTART_IDENTITY 2
#define PGO_MESSAGE_TRANSACTIONAL 1

typedef struct pgo_msg {
	char type; /* pgo_msg_type */
	union {
		struct {
			uint64_t final_lsn;
			int64_t commit_time; /* PostgreSQL epoch µs */
			uint32_t xid;
		} begin;
		struct {
			uint8_t flags;
			uint64_t commit_lsn;
			uint64_t end_lsn; /* confirm this once the transaction is safe */
			int64_t commit_time;
		} commit;
		struct {
			uint64_t commit_lsn;
			const char *name;
		} origin;
		/* A Relation message as decoded (views into the payload and the arena); the
		 * cache, when given, holds its own copy. */
		pgo_relation relation;
		struct {
			uint32_t oid;
			const char *nspname;
			const char *name;
		} pgtype; /* a Type message */
		/* Insert, Update, Delete. old_kind: 0 (none), 'K' (replica identity key
		 * columns only, the others null) or 'O' (the whole old row, REPLICA IDENTITY
		 * FULL). Insert has new_tuple; Delete has old_tuple; Update has new_tuple and
		 * possibly old_tuple. */
		struct {
			uint32_t rel_id;
			const pgo_relation *rel; /* the cached relation, or NULL without a cache */
			char old_kind;
			pgo_tuple old_tuple;
			pgo_tuple new_tuple;
		} change;
		struct {
			uint8_t options; /* PGO_TRUNCATE_* */
			uint32_t nrels;
			uint32_t *rel_ids; /* from the arena */
		} truncate;
		struct {
			uint8_t flags; /* PGO_MESSAGE_TRANSACTIONAL */
			uint64_t lsn;
			const char *prefix;
			const uint8_t *content; /* into the payload */
			uint32_t len;
		} message;
	};
} pgo_msg;

/*
 * Decode one pgoutput (v1) message. rels may be NULL (no cache: changes are decoded
 * without the column-count check and change.rel is NULL); otherwise Relation messages
 * are stored in it and Insert/Update/Delete of an id it does not hold fail. Arrays come
 * from arena. BROOK_OK, or BROOK_ERR with a message naming the message type and offset
 * (the cache is left unchanged by a failed message).
 */
int pgo_decode(const uint8_t *payload, size_t len, pgo_relations *rels, brook_arena *arena,
	       pgo_msg *out, char *err, size_t errlen);

/* "Begin", "Insert", ... for a message type byte; "unknown" otherwise. */
const char *pgo_msg_type_name(char type);

#endif
