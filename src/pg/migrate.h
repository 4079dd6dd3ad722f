/*
 * migrate.h — versioned, idempotent schema migrations for brook's PostgreSQL, and the
 * scheduler's staging helper.
 *
 * Applied versions are recorded in public.brook_schema_migrations (version int primary
 * key, name text, applied_at timestamptz default now()). pg_migrate() walks a list of
 * migrations in increasing version order; each migration not yet recorded runs in ONE
 * transaction together with its insert into that table, so a migration is either
 * applied and recorded or neither. Every transaction first takes
 * pg_advisory_xact_lock(PG_MIGRATE_LOCK_KEY) and re-checks the table under the lock, so
 * two processes migrating at once never both apply a migration: the second waits, sees
 * the version recorded and skips it.
 *
 * Per migration: pending → (BEGIN, lock, check, run SQL, INSERT, COMMIT) applied, or
 * → (ROLLBACK) failed; pg_migrate stops at the first failure.
 */
#ifndef BROOK_PG_MIGRATE_H
#define BROOK_PG_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* The advisory lock key every migrator takes ("brookmig" in ASCII, 0x62726f6f6b6d6967). */
#define PG_MIGRATE_LOCK_KEY 7093854887396338023

typedef struct pg_migration {
	int version;     /* > 0, strictly increasing along a list */
	const char *name; /* short, e.g. "scheduler schema" */
	const char *sql;  /* one or more statements, run as a simple query */
} pg_migration;

/* Apply every migration of list[0..n) whose version is not recorded yet. BROOK_OK, or
 * BROOK_ERR with a message in err: a list whose versions are not increasing (nothing
 * runs), a connection error, or a failing migration (rolled back; the message names
 * its version, its name and PostgreSQL's message). conn must be idle (no open
 * transaction). */
int pg_migrate(PGconn *conn, const pg_migration *list, size_t n, char *err, size_t errlen);

/* The scheduler's schema (src/pg/migrations.c). */
extern const pg_migration pg_scheduler_migrations[];
extern const size_t pg_scheduler_migrations_count;

/* Stage one batch of n JSON payloads for (run_id, batch_no) in one transaction:
 * INSERT INTO staging.batches ... ON CONFLICT DO NOTHING; if that inserted a row, the
 * payloads go into staging.raw_users (binary COPY FROM STDIN, validated as JSON and UTF-8
 * by the server) with fetched_at = fetched_at_ms (0 or less: now) and *staged_rows = n;
 * otherwise the batch was staged before and *staged_rows = 0. BROOK_OK, or BROOK_ERR
 * with a message (invalid JSON, connection error) after rolling back: then neither the
 * batches row nor any payload row exists. */
int pg_stage_batch(PGconn *conn, const char *run_id, int batch_no, const char *source_url,
		   int64_t fetched_at_ms, const char *const *payload_json, size_t n,
		   int *staged_rows, char *err, size_t errlen);

#endif
