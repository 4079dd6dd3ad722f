/*
 * sched_int.h — what scheduler.c (the engine) and views.c (the read-only JSON views of
 * the run history) share. Not part of the scheduler's public interface.
 */
#ifndef BROOK_SCHEDULER_SCHED_INT_H
#define BROOK_SCHEDULER_SCHED_INT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "scheduler/scheduler.h"

/* Borrow a connection from the scheduler's pool (connecting when the pool is empty);
 * NULL with e filled (500). Give it back with sched_conn_put (a broken one is closed). */
PGconn *sched_conn_get(scheduler *s, sched_error *e);
void sched_conn_put(scheduler *s, PGconn *c);

/* PQexecParams with text parameters. The result when its status is `want`
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK), else NULL with PostgreSQL's message in err. */
PGresult *sched_pq(PGconn *c, const char *sql, int n, const char *const *params,
		   ExecStatusType want, char *err, size_t errlen);

/* The DAG of that id, or NULL with e filled (404, Airflow's message). */
const sched_dag *sched_find_dag(scheduler *s, const char *dag_id, sched_error *e);

/* A libpq message (several lines, tabs) as one line: lines joined with "; ". */
void sched_one_line(const char *msg, char *out, size_t outlen);

void sched_error_set(sched_error *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "2024-03-05T10:00:00+00:00" (Airflow's form; ".mmm" when the ms are not zero).
 * out holds SCHED_TS_LEN bytes. */
#define SCHED_TS_LEN 40
void sched_ts_format(int64_t ms, char *out);
/* A timestamp column selected as epoch milliseconds (bigint text), or JSON null. */
json_t *sched_ts_json(const PGresult *r, int row, int col);
int64_t sched_ts_ms(const PGresult *r, int row, int col); /* 0 when NULL */

/* SQL fragment: a timestamptz column as epoch ms. */
#define SCHED_MS(col) "(extract(epoch from " col ") * 1000)::bigint"

#endif
