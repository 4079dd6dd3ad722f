/*
 * cdc.h — a PostgreSQL change-data-capture session: logical replication with pgoutput
 * (protocol version 1) through libpq, an optional consistent initial snapshot, and
 * acknowledgement-driven slot progress. No Kafka and no Avro here: rows and changes go
 * to the caller's callbacks; the connector turns them into records.
 *
 * Connections (all from opts.conninfo, a libpq keyword string or URI):
 *   - a normal one for catalog work (publication, slot lookup), closed after setup;
 *   - a replication one (replication=database) that streams for the session's life;
 *   - a third, short-lived one that reads the initial snapshot.
 *
 * States and transitions:
 *
 *   pg_cdc_open():
 *     SETUP    1. CREATE PUBLICATION <pub> FOR TABLE ... | FOR ALL TABLES if missing
 *                 (always BEFORE the slot: pgoutput looks the publication up with the
 *                 catalog as of each decoded change, so a publication younger than the
 *                 slot's start would not be seen). An existing publication is used as
 *                 is; a different table set is logged as a warning.
 *              2. IDENTIFY_SYSTEM; if the slot is missing, CREATE_REPLICATION_SLOT
 *                 <slot> LOGICAL pgoutput EXPORT_SNAPSHOT → snapshot name + consistent
 *                 point LSN.
 *     SNAPSHOT 3. when (the slot was just created and mode is initial) or mode is
 *                 always: on the third connection BEGIN ISOLATION LEVEL REPEATABLE
 *                 READ; SET TRANSACTION SNAPSHOT '<exported>' (while the replication
 *                 connection is still idle, which keeps the export valid); every table
 *                 of the publication is read through a cursor (FETCH 1000) and each row
 *                 goes to change() as op 'r'; COMMIT. If the snapshot of a slot
 *                 created here fails (or the consumer stops it), the slot is dropped
 *                 again, so the next open recreates it and snapshots from scratch.
 *                 mode always with an EXISTING slot has no exported snapshot: the
 *                 tables are read at the current state (a fresh REPEATABLE READ
 *                 transaction) and streaming then resumes at the slot's
 *                 confirmed_flush_lsn, so changes committed between that LSN and the
 *                 snapshot arrive twice (once inside the snapshot, once streamed):
 *                 at-least-once, never a gap.
 *     STREAMING 4. START_REPLICATION SLOT <slot> LOGICAL <lsn> (proto_version '1',
 *                 publication_names '<pub>').
 *   pg_cdc_poll()   STREAMING → STREAMING, or → FAILED on a connection error, a server
 *                   error, or a callback that stopped the stream.
 *   pg_cdc_close()  any → gone.
 *
 * What an acknowledged LSN means: pg_cdc_ack(lsn) is the caller's promise that every
 * change of every transaction whose commit end_lsn <= lsn is durable downstream (the
 * broker acknowledged it). Only acknowledged positions are ever reported to the server
 * (write = flush = apply = acked in the standby status update), so the slot's
 * confirmed_flush_lsn never passes what the caller made durable, and after a restart
 * PostgreSQL re-sends every transaction that ends after it: delivery is at-least-once,
 * and a restart may repeat the transactions that were delivered but not acknowledged.
 *
 * Heartbeats (idle databases): WAL that produces no change for us (other databases,
 * unpublished tables, pg_switch_wal) still moves the server's position, reported in
 * keepalives. When nothing delivered is awaiting acknowledgement (not inside a
 * transaction, and the last delivered commit end_lsn <= acked), the keepalive's
 * wal_end is acknowledged automatically — everything before it that concerned us has
 * already been delivered and acknowledged — so the slot advances and WAL is recycled
 * on an idle database.
 *
 * Invariants:
 *   - acked only grows; it starts at the slot's confirmed_flush_lsn (or the consistent
 *     point of a new slot).
 *   - Callbacks are called from pg_cdc_open (snapshot rows) and pg_cdc_poll only, on
 *     the caller's thread; pointers they receive are valid during the call only.
 *     A callback must not call pg_cdc_close(); it may call pg_cdc_ack().
 *   - A status update is sent when the server asks for one, every status interval,
 *     and at the end of a pg_cdc_poll() in which acked moved.
 *
 * Errors: connection loss and server errors → BROOK_ERR with the server's message (the
 * caller reconnects with backoff by pg_cdc_close + pg_cdc_open with opts.resume set).
 * A slot or publication dropped behind our back → PG_CDC_GONE (distinct, so the caller
 * can recreate and resnapshot per its configuration, loudly): while streaming, the
 * server's "does not exist" error (SQLSTATE 42704); at open with opts.resume, a missing
 * slot or publication.
 *
 * Values: pgoutput proto 1 sends every value as the type's text output; unknown types
 * are therefore just text, with their type OID in the relation so the caller can warn.
 */
#ifndef BROOK_PG_CDC_H
#define BROOK_PG_CDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pg/pgoutput.h"

/* The distinct return code for "the slot or the publication was dropped behind our
 * back" (next to BROOK_OK / BROOK_ERR / BROOK_AGAIN of core/err.h). */
#define PG_CDC_GONE (-3)

typedef enum pg_cdc_snapshot_mode {
	PG_CDC_SNAPSHOT_INITIAL = 0, /* only when the slot is created by this open */
	PG_CDC_SNAPSHOT_NEVER,
	PG_CDC_SNAPSHOT_ALWAYS, /* on every open (see the header for an existing slot) */
} pg_cdc_snapshot_mode;

/* "initial" | "never" | "always". BROOK_OK or BROOK_ERR. */
int pg_cdc_snapshot_mode_parse(const char *s, pg_cdc_snapshot_mode *out);

/* One row event. op: 'r' (snapshot read), 'c' (insert), 'u' (update), 'd' (delete),
 * 't' (truncate: no tuples). rel gives the schema, table, columns (names, type OIDs,
 * PGO_COLUMN_KEY flags: the primary key for 'r', the replica identity otherwise).
 * before: NULL, or with before_kind 'K' (key columns only, the others null) or 'O' (the
 * whole old row, REPLICA IDENTITY FULL). after: NULL for 'd' and 't'. Values are
 * PGO_VALUE_TEXT (not NUL-terminated), PGO_VALUE_NULL or PGO_VALUE_UNCHANGED (an
 * unchanged TOASTed value: not sent, the previous value stands). */
typedef struct pg_cdc_change {
	char op;
	const pgo_relation *rel;
	char before_kind;
	const pgo_tuple *before;
	const pgo_tuple *after;
	uint64_t lsn; /* the change's WAL position; for 'r' the snapshot's LSN (or 0) */
} pg_cdc_change;

/* Each returns BROOK_OK to go on; anything else stops pg_cdc_open / pg_cdc_poll with
 * BROOK_ERR ("stopped by the consumer"). Times are Unix milliseconds. Any may be NULL. */
typedef struct pg_cdc_callbacks {
	void *ud;
	int (*begin)(void *ud, uint32_t xid, uint64_t final_lsn, int64_t commit_time_ms);
	int (*change)(void *ud, const pg_cdc_change *ch);
	int (*commit)(void *ud, uint64_t end_lsn, int64_t commit_time_ms);
} pg_cdc_callbacks;

typedef struct pg_cdc_opts {
	const char *conninfo;	  /* libpq keyword string or URI */
	const char *slot;	  /* [a-z0-9_]{1,63} */
	const char *publication;  /* any identifier (quoted where needed) */
	const char *const *tables; /* "schema.table" or "table" (public); NULL = all */
	size_t ntables;
	pg_cdc_snapshot_mode snapshot;
	pg_cdc_callbacks cb;
	int status_interval_ms; /* 0: 10000 */
	/* The caller streamed from this slot before: a missing slot or publication at
	 * open then means it was dropped behind our back → PG_CDC_GONE, instead of being
	 * created silently. */
	bool resume;
} pg_cdc_opts;

typedef struct pg_cdc pg_cdc;

/* Set up and start streaming (see the states above; snapshot rows are delivered to
 * cb.change before this returns). On BROOK_OK *out is yours: pg_cdc_close(). Else
 * BROOK_ERR or PG_CDC_GONE with a message, and *out is NULL. */
int pg_cdc_open_rc(const pg_cdc_opts *o, pg_cdc **out, char *err, size_t errlen);
/* The same, NULL on any failure. */
pg_cdc *pg_cdc_open(const pg_cdc_opts *o, char *err, size_t errlen);

/* Wait up to timeout_ms for the stream, then deliver everything that is buffered
 * through the callbacks, answer keepalives and send a status update when due. BROOK_OK
 * (also when nothing arrived), BROOK_ERR (connection lost, server error, callback
 * stop: close and reopen) or PG_CDC_GONE. */
int pg_cdc_poll(pg_cdc *c, int timeout_ms, char *err, size_t errlen);

/* Every change up to this commit end LSN is durable downstream. Never moves back. The
 * next status update reports it (pg_cdc_poll sends one when acked moved). */
void pg_cdc_ack(pg_cdc *c, uint64_t lsn);
/* Send a standby status update now (write = flush = apply = acked). */
int pg_cdc_send_status(pg_cdc *c, char *err, size_t errlen);

uint64_t pg_cdc_acked_lsn(const pg_cdc *c);
/* The server's WAL position from the last keepalive minus the acknowledged LSN (0
 * when not ahead): how much WAL the slot holds back for us. */
uint64_t pg_cdc_lag_bytes(const pg_cdc *c);
/* True when the slot was created by this open. */
bool pg_cdc_slot_created(const pg_cdc *c);

void pg_cdc_close(pg_cdc *c); /* NULL is fine */

/* For tests and operators: terminate the slot's walsender if active and drop the slot
 * (retrying for up to 5 s while it is still active). BROOK_OK also when it did not
 * exist. */
int pg_cdc_drop_slot(const char *conninfo, const char *slot, char *err, size_t errlen);

#endif
