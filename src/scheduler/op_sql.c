/*
 * op_sql.c — the sql operator: run SQL on the scheduler's PostgreSQL.
 *
 * One try: connect (ctx->pg_dsn); when there is a deadline, SET statement_timeout to
 * the time left; render the SQL's {{ macros }} (template.h); PQsendQuery it (simple
 * query protocol, so several statements are allowed); then wait on the socket with
 * poll() of at most 100 ms so ctx->cancel is noticed (→ PQcancel, then the results are
 * drained). Each command's status (PQcmdStatus) goes to the task log; the first error
 * fails the try with PostgreSQL's message. The result is the rows of the last
 * statement that returned rows, as a JSON array of objects (column → text or null),
 * at most MAX_ROWS rows; no such statement: no result.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "scheduler/operator.h"
#include "scheduler/template.h"

#define MAX_ROWS 100

static const sched_param_spec params[] = {
	{"sql", SCHED_PARAM_STR, NULL, "SQL to run (several statements allowed; {{ macros }})",
	 0, 0, true},
	{NULL, 0, NULL, NULL, 0, 0, false},
};

static void pg_msg(const PGconn *conn, const PGresult *res, char *out, size_t len)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (!m || !*m)
		m = PQerrorMessage(conn);
	snprintf(out, len, "%s", m && *m ? m : "unknown error");
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

static json_t *rows_json(const PGresult *res)
{
	json_t *arr = json_array();
	int nrows = PQntuples(res), ncols = PQnfields(res);
	for (int r = 0; r < nrows && r < MAX_ROWS; r++) {
		json_t *o = json_object();
		for (int c = 0; c < ncols; c++) {
			json_t *v = PQgetisnull(res, r, c) ? json_null()
							  : json_string(PQgetvalue(res, r, c));
			json_object_set_new(o, PQfname(res, c), v ? v : json_null());
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

/* Wait until a result is ready (BROOK_OK), or cancel (BROOK_AGAIN after PQcancel), or a
 * connection error (BROOK_ERR). */
static int wait_ready(sched_task_ctx *ctx, PGconn *conn, bool *cancel_sent)
{
	while (PQisBusy(conn)) {
		if (!*cancel_sent && atomic_load(ctx->cancel)) {
			PGcancel *pc = PQgetCancel(conn);
			char e[256];
			if (pc) {
				PQcancel(pc, e, sizeof e);
				PQfreeCancel(pc);
			}
			*cancel_sent = true;
			sched_task_log(ctx, "cancelled: asked PostgreSQL to cancel the query");
		}
		struct pollfd pf = {.fd = PQsocket(conn), .events = POLLIN};
		if (poll(&pf, 1, 100) < 0)
			continue;
		if (!PQconsumeInput(conn))
			return BROOK_ERR;
	}
	return BROOK_OK;
}

static int run(sched_task_ctx *ctx, char *err, size_t errlen)
{
	const json_t *sj = json_object_get(ctx->params, "sql");
	if (!json_is_string(sj)) {
		snprintf(err, errlen, "parameter sql is required");
		return BROOK_ERR;
	}
	char *sql = sched_render(json_string_value(sj), ctx, err, errlen);
	if (!sql)
		return BROOK_ERR;
	int rc = BROOK_ERR;
	PGconn *conn = PQconnectdb(ctx->pg_dsn ? ctx->pg_dsn : "");
	if (PQstatus(conn) != CONNECTION_OK) {
		char m[512];
		pg_msg(conn, NULL, m, sizeof m);
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", m);
		goto out;
	}
	if (ctx->deadline_mono_ms > 0) {
		int64_t left = ctx->deadline_mono_ms - brook_mono_ms();
		if (left < 1) {
			snprintf(err, errlen, "timed out before the SQL could start");
			goto out;
		}
		char set[64];
		snprintf(set, sizeof set, "SET statement_timeout = %lld", (long long)left);
		PGresult *r = PQexec(conn, set);
		PQclear(r);
	}
	if (!PQsendQuery(conn, sql)) {
		char m[512];
		pg_msg(conn, NULL, m, sizeof m);
		snprintf(err, errlen, "cannot send the SQL: %s", m);
		goto out;
	}
	bool cancel_sent = false, failed = false;
	json_t *rows = NULL;
	int nstmt = 0;
	for (;;) {
		if (wait_ready(ctx, conn, &cancel_sent) != BROOK_OK) {
			char m[512];
			pg_msg(conn, NULL, m, sizeof m);
			if (!failed)
				snprintf(err, errlen, "connection lost: %s", m);
			failed = true;
			break;
		}
		PGresult *res = PQgetResult(conn);
		if (!res)
			break;
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_TUPLES_OK) {
			nstmt++;
			sched_task_log(ctx, "%s (%d rows)", PQcmdStatus(res), PQntuples(res));
			json_decref(rows);
			rows = rows_json(res);
		} else if (st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY) {
			nstmt++;
			if (st == PGRES_COMMAND_OK)
				sched_task_log(ctx, "%s", PQcmdStatus(res));
		} else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
			if (!failed)
				snprintf(err, errlen, "COPY FROM STDIN / TO STDOUT is not "
						      "supported by the sql operator");
			failed = true;
			PQclear(res);
			break;
		} else if (!failed) {
			char m[512];
			pg_msg(conn, res, m, sizeof m);
			if (cancel_sent)
				snprintf(err, errlen, "cancelled: %s", m);
			else
				snprintf(err, errlen, "statement %d failed: %s", nstmt + 1, m);
			sched_task_log(ctx, "ERROR: %s", m);
			failed = true;
		}
		PQclear(res);
	}
	if (!failed && cancel_sent) {
		snprintf(err, errlen, "cancelled: the SQL finished before the cancel arrived");
		failed = true;
	}
	if (failed) {
		json_decref(rows);
	} else {
		if (rows) {
			json_decref(ctx->result);
			ctx->result = rows;
		}
		rc = BROOK_OK;
	}
out:
	PQfinish(conn);
	free(sql);
	return rc;
}

const sched_operator sched_op_sql = {
	.name = "sql",
	.params = params,
	.help = "run SQL on the scheduler's PostgreSQL",
	.run = run,
};
