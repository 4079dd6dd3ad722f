/*
 * migrate.c — versioned schema migrations and batch staging (see migrate.h for the
 * table, the locking and the per-migration states).
 *
 * Transactions, all on the caller's connection:
 *   bootstrap   BEGIN; pg_advisory_xact_lock; CREATE TABLE IF NOT EXISTS
 *               brook_schema_migrations; COMMIT. Under the lock so two concurrent
 *               first starts do not race in CREATE TABLE (which is not safe
 *               concurrently even with IF NOT EXISTS).
 *   migration   BEGIN; pg_advisory_xact_lock; SELECT the version (fresh snapshot after
 *               the lock, READ COMMITTED); if absent: the migration's SQL, INSERT the
 *               version; COMMIT. Any error → ROLLBACK, and the lock is released with
 *               the transaction.
 *   stage       BEGIN; INSERT INTO staging.batches ON CONFLICT DO NOTHING; when a row
 *               was inserted, COPY staging.raw_users FROM STDIN (binary format, sent
 *               in COPY_CHUNK-byte pieces; the server parses each payload as json and
 *               rejects invalid JSON or UTF-8); COMMIT. Any error → ROLLBACK.
 */
#include "pg/migrate.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define COMP "postgres"
#define COPY_CHUNK (256 * 1024) /* bytes of COPY data per PQputCopyData */

#define STR2(x) #x
#define STR(x) STR2(x)
#define LOCK_SQL "SELECT pg_advisory_xact_lock(" STR(PG_MIGRATE_LOCK_KEY) "::bigint)"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* PostgreSQL's message without its trailing newline, into out. */
static void pg_message(const PGconn *conn, const PGresult *res, char *out, size_t outlen)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!m || !*m)
		m = res ? PQresultErrorMessage(res) : NULL;
	if (!m || !*m)
		m = PQerrorMessage(conn);
	if (!m || !*m)
		m = "unknown error";
	snprintf(out, outlen, "%s", m);
	size_t len = strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
}

/* Run a command; true when its status is `want`. On failure the message is in msg. */
static bool run(PGconn *conn, const char *sql, ExecStatusType want, char *msg, size_t msglen)
{
	PGresult *res = PQexec(conn, sql);
	bool ok = res && PQresultStatus(res) == want;
	if (!ok)
		pg_message(conn, res, msg, msglen);
	PQclear(res);
	return ok;
}

static void rollback(PGconn *conn)
{
	PGresult *res = PQexec(conn, "ROLLBACK");
	PQclear(res);
}

static bool begin_locked(PGconn *conn, char *msg, size_t msglen)
{
	if (!run(conn, "BEGIN", PGRES_COMMAND_OK, msg, msglen))
		return false;
	if (!run(conn, LOCK_SQL, PGRES_TUPLES_OK, msg, msglen)) {
		rollback(conn);
		return false;
	}
	return true;
}

static int bootstrap(PGconn *conn, char *err, size_t errlen)
{
	char msg[512];
	if (!begin_locked(conn, msg, sizeof msg))
		goto fail;
	if (!run(conn,
		 "CREATE TABLE IF NOT EXISTS public.brook_schema_migrations ("
		 "version int PRIMARY KEY, name text, "
		 "applied_at timestamptz DEFAULT now())",
		 PGRES_COMMAND_OK, msg, sizeof msg) ||
	    !run(conn, "COMMIT", PGRES_COMMAND_OK, msg, sizeof msg)) {
		rollback(conn);
		goto fail;
	}
	return BROOK_OK;
fail:
	set_err(err, errlen, "cannot create the schema migrations table: %s", msg);
	return BROOK_ERR;
}

/* One migration in one transaction. *applied says whether it ran (false: recorded). */
static int apply_one(PGconn *conn, const pg_migration *m, bool *applied, char *err,
		     size_t errlen)
{
	char msg[512];
	char vbuf[16];
	snprintf(vbuf, sizeof vbuf, "%d", m->version);
	const char *params[2] = {vbuf, m->name ? m->name : ""};
	*applied = false;

	if (!begin_locked(conn, msg, sizeof msg))
		goto fail;
	PGresult *res = PQexecParams(conn,
				     "SELECT 1 FROM public.brook_schema_migrations "
				     "WHERE version = $1::int",
				     1, NULL, params, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_message(conn, res, msg, sizeof msg);
		PQclear(res);
		goto fail_rollback;
	}
	bool recorded = PQntuples(res) > 0;
	PQclear(res);
	if (recorded) {
		if (!run(conn, "COMMIT", PGRES_COMMAND_OK, msg, sizeof msg))
			goto fail_rollback;
		return BROOK_OK;
	}

	res = PQexec(conn, m->sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_message(conn, res, msg, sizeof msg);
		PQclear(res);
		goto fail_rollback;
	}
	PQclear(res);

	res = PQexecParams(conn,
			   "INSERT INTO public.brook_schema_migrations (version, name) "
			   "VALUES ($1::int, $2)",
			   2, NULL, params, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_message(conn, res, msg, sizeof msg);
		PQclear(res);
		goto fail_rollback;
	}
	PQclear(res);
	/* COMMIT of an aborted transaction reports ROLLBACK as COMMAND_OK; the steps above
	 * stop at the first error, so a COMMIT reached here commits. */
	if (!run(conn, "COMMIT", PGRES_COMMAND_OK, msg, sizeof msg))
		goto fail_rollback;
	*applied = true;
	return BROOK_OK;

fail_rollback:
	rollback(conn);
fail:
	set_err(err, errlen, "migration %d (%s) failed and was rolled back: %s", m->version,
		m->name ? m->name : "", msg);
	return BROOK_ERR;
}

int pg_migrate(PGconn *conn, const pg_migration *list, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].version <= 0 || !list[i].sql) {
			set_err(err, errlen, "migration %d (%s): version must be positive and SQL given",
				list[i].version, list[i].name ? list[i].name : "");
			return BROOK_ERR;
		}
		if (i > 0 && list[i].version <= list[i - 1].version) {
			set_err(err, errlen,
				"migration versions must increase: %d (%s) follows %d (%s)",
				list[i].version, list[i].name ? list[i].name : "",
				list[i - 1].version, list[i - 1].name ? list[i - 1].name : "");
			return BROOK_ERR;
		}
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[512];
		pg_message(conn, NULL, msg, sizeof msg);
		set_err(err, errlen, "cannot migrate: not connected: %s", msg);
		return BROOK_ERR;
	}
	if (bootstrap(conn, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	for (size_t i = 0; i < n; i++) {
		bool applied;
		if (apply_one(conn, &list[i], &applied, err, errlen) != BROOK_OK)
			return BROOK_ERR;
		if (applied)
			brook_info(COMP, "applied schema migration %d (%s)", list[i].version,
				   list[i].name ? list[i].name : "");
	}
	return BROOK_OK;
}

/* COPY binary format (PostgreSQL's "Binary Format" of COPY): the 11-byte signature, flags
 * and header-extension length; per row a field count, then each field as a length and its
 * bytes (text and json as their UTF-8 text, int4 big-endian, timestamptz as microseconds
 * since 2000-01-01 UTC, big-endian); the trailer is a field count of -1. Binary spares
 * the server the escaping scan of text format and the parse of the timestamp on every
 * row; the payload is still validated as JSON (json's receive function parses it). */
#define PG_EPOCH_MS  INT64_C(946684800000) /* 2000-01-01 00:00:00 UTC in Unix ms */
#define PG_FIELD_MAX ((size_t)0x3fffffff)   /* PostgreSQL's largest value (1 GB - 1) */

/* A field: its length (int32; the caller checked it fits), then its bytes. */
static void put_field(brook_buf *b, const void *data, size_t len)
{
	brook_buf_put_be(b, len, 4);
	brook_buf_append(b, data, len);
}

/* COPY the payloads of one batch into staging.raw_users (inside the open transaction).
 * The rows are sent in chunks of about COPY_CHUNK bytes. */
static bool copy_rows(PGconn *conn, const char *run_id, int batch_no, int64_t fetched_at_ms,
		      const char *source_url, const char *const *payload_json, size_t n,
		      char *msg, size_t msglen)
{
	const char *idt = PQparameterStatus(conn, "integer_datetimes");
	if (idt && strcmp(idt, "on") != 0) {
		snprintf(msg, msglen, "the server stores timestamps as floating point "
				      "(integer_datetimes off), which brook does not support");
		return false;
	}
	PGresult *res = PQexec(conn, "COPY staging.raw_users (run_id, batch_no, fetched_at, "
				     "source_url, payload) FROM STDIN (FORMAT binary)");
	if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
		pg_message(conn, res, msg, msglen);
		PQclear(res);
		return false;
	}
	PQclear(res);
	/* The four fields every row of the batch shares, after the field count. */
	brook_buf prefix = BROOK_BUF_INIT;
	brook_buf_put_be(&prefix, 5, 2);
	put_field(&prefix, run_id, strlen(run_id));
	brook_buf_put_be(&prefix, 4, 4);
	brook_buf_put_be(&prefix, (uint32_t)batch_no, 4);
	brook_buf_put_be(&prefix, 8, 4);
	brook_buf_put_be(&prefix, (uint64_t)((fetched_at_ms - PG_EPOCH_MS) * 1000), 8);
	put_field(&prefix, source_url, strlen(source_url));

	brook_buf chunk = BROOK_BUF_INIT;
	brook_buf_reserve(&chunk, COPY_CHUNK + 4096);
	static const char signature[11] = "PGCOPY\n\377\r\n";
	brook_buf_append(&chunk, signature, sizeof signature); /* with its final NUL */
	brook_buf_put_be(&chunk, 0, 4); /* flags */
	brook_buf_put_be(&chunk, 0, 4); /* header extension length */
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		brook_buf_append(&chunk, prefix.data, prefix.len);
		size_t len = strlen(payload_json[i]);
		if (len > PG_FIELD_MAX) {
			snprintf(msg, msglen, "payload %zu is %zu bytes, over PostgreSQL's 1 GB "
					      "limit for a value", i, len);
			ok = false;
			break;
		}
		put_field(&chunk, payload_json[i], len);
		if (i + 1 == n)
			brook_buf_put_be(&chunk, 0xffff, 2); /* trailer: -1 */
		if (chunk.len >= COPY_CHUNK || i + 1 == n) {
			ok = PQputCopyData(conn, chunk.data, (int)chunk.len) == 1;
			brook_buf_reset(&chunk);
		}
	}
	brook_buf_release(&chunk);
	brook_buf_release(&prefix);
	if (PQputCopyEnd(conn, ok ? NULL : "client failed to send the rows") != 1)
		ok = false;
	/* The COPY's own result, then NULL. */
	bool copied = false;
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			copied = true;
		else if (msg[0] == '\0') /* else it is why we ended the COPY */
			pg_message(conn, res, msg, msglen);
		PQclear(res);
	}
	if (ok && !copied && msg[0] == '\0')
		snprintf(msg, msglen, "COPY did not complete");
	if (!ok && msg[0] == '\0')
		pg_message(conn, NULL, msg, msglen);
	return ok && copied;
}

int pg_stage_batch(PGconn *conn, const char *run_id, int batch_no, const char *source_url,
		   int64_t fetched_at_ms, const char *const *payload_json, size_t n,
		   int *staged_rows, char *err, size_t errlen)
{
	char msg[512] = "";
	char bbuf[16], nbuf[24];
	snprintf(bbuf, sizeof bbuf, "%d", batch_no);
	snprintf(nbuf, sizeof nbuf, "%zu", n);
	*staged_rows = 0;
	for (size_t i = 0; i < n; i++) {
		if (!payload_json[i]) {
			set_err(err, errlen, "batch %s/%d: payload %zu is missing", run_id,
				batch_no, i);
			return BROOK_ERR;
		}
	}

	if (!run(conn, "BEGIN", PGRES_COMMAND_OK, msg, sizeof msg))
		goto fail;
	const char *bparams[3] = {run_id, bbuf, nbuf};
	PGresult *res = PQexecParams(conn,
				     "INSERT INTO staging.batches (run_id, batch_no, rows) "
				     "VALUES ($1, $2::int, $3::int) ON CONFLICT DO NOTHING",
				     3, NULL, bparams, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_message(conn, res, msg, sizeof msg);
		PQclear(res);
		goto fail_rollback;
	}
	bool inserted = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);

	if (inserted && n > 0 &&
	    !copy_rows(conn, run_id, batch_no, fetched_at_ms > 0 ? fetched_at_ms : brook_now_ms(),
		       source_url ? source_url : "", payload_json, n, msg, sizeof msg))
		goto fail_rollback;
	if (!run(conn, "COMMIT", PGRES_COMMAND_OK, msg, sizeof msg))
		goto fail_rollback;
	*staged_rows = inserted ? (int)n : 0;
	return BROOK_OK;

fail_rollback:
	rollback(conn);
fail:
	set_err(err, errlen, "cannot stage batch %d of run %s (rolled back): %s", batch_no,
		run_id, msg);
	return BROOK_ERR;
}
