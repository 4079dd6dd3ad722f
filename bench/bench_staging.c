/*
 * bench_staging — the randomuser_to_postgres operator's staging throughput.
 *
 *   bench_staging --pg DSN [--users N (200000)] [--batch B (5000)]
 *
 * Starts an in-process `brook randomuser` server on 127.0.0.1, migrates the database
 * (the scheduler schema), then:
 *   staging    runs the randomuser_to_postgres operator for N users (batch_size B,
 *              max_records N, a fixed seed): fetch over HTTP + validation + one
 *              transaction per batch into staging.raw_users. Wall time of the whole try.
 *   copy       the baseline: the same N users fetched first into memory as compact
 *              JSON lines (not timed), then loaded with ONE COPY FROM STDIN in one
 *              transaction into a table like staging.raw_users (LIKE ... INCLUDING ALL).
 *   fetch      for reference: how fast one source_client alone fetches those users.
 * Prints "<figure> <value> <unit>" lines and the ratio staging / copy (targets:
 * ≥ 50,000 users/s and ≥ 0.7). Without --pg it prints a skip line and exits 0.
 * The rows it writes are deleted and its table dropped at the end.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "pg/migrate.h"
#include "scheduler/operator.h"
#include "source/client.h"
#include "source/randomuser_server.h"

#include "common.h"

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

/* COPY text escaping of one field. */
static void copy_field(brook_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			brook_buf_puts(b, "\\\\");
			break;
		case '\t':
			brook_buf_puts(b, "\\t");
			break;
		case '\n':
			brook_buf_puts(b, "\\n");
			break;
		case '\r':
			brook_buf_puts(b, "\\r");
			break;
		default:
			brook_buf_putc(b, *s);
		}
	}
}

static void quiet_log(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

int main(int argc, char **argv)
{
	const char *dsn = NULL;
	long users = 200000;
	int batch = 5000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
			dsn = argv[++i];
		else if (strcmp(argv[i], "--users") == 0 && i + 1 < argc)
			users = atol(argv[++i]);
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = atoi(argv[++i]);
		else
			die("usage: bench_staging --pg DSN [--users N] [--batch B]");
	}
	if (!dsn || !*dsn) {
		printf("staging skipped (no --pg DSN)\n");
		return 0;
	}
	if (users < 1 || batch < 1 || batch > SOURCE_MAX_RESULTS)
		die("--users must be positive and --batch 1..%d", SOURCE_MAX_RESULTS);

	char err[1024];
	randomuser_server_opts ro;
	memset(&ro, 0, sizeof ro);
	snprintf(ro.host, sizeof ro.host, "127.0.0.1");
	randomuser_server *ru = randomuser_server_open(&ro, err, sizeof err);
	if (!ru)
		die("randomuser server: %s", err);
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/api/", randomuser_server_port(ru));

	PGconn *c = PQconnectdb(dsn);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect: %s", PQerrorMessage(c));
	exec_ok(c, "SET client_min_messages = warning");
	if (pg_migrate(c, pg_scheduler_migrations, pg_scheduler_migrations_count, err,
		       sizeof err) != BROOK_OK)
		die("migrate: %s", err);

	/* 1. The operator. */
	char run_id[64], srun[128];
	snprintf(run_id, sizeof run_id, "bench-%d-%lld", (int)getpid(),
		 (long long)brook_now_ms());
	snprintf(srun, sizeof srun, "bench_staging/%s/stage", run_id);
	json_t *params = json_pack("{s:s, s:i, s:I, s:i, s:f, s:s}", "url", url, "batch_size",
				   batch, "max_records", (json_int_t)users, "max_duration", 0,
				   "rate", 0.0, "seed", "bench");
	atomic_int cancel;
	atomic_init(&cancel, 0);
	sched_task_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.dag_id = "bench_staging";
	ctx.run_id = run_id;
	ctx.task_id = "stage";
	ctx.try_number = 1;
	ctx.logical_date_ms = brook_now_ms();
	ctx.params = params;
	ctx.pg_dsn = dsn;
	ctx.cancel = &cancel;
	ctx.log = quiet_log;
	const sched_operator *op = sched_operator_find("randomuser_to_postgres");
	int64_t t0 = brook_mono_ns();
	if (op->run(&ctx, err, sizeof err) != BROOK_OK)
		die("operator: %s", err);
	double op_s = (double)(brook_mono_ns() - t0) / 1e9;
	json_int_t staged = json_integer_value(json_object_get(ctx.result, "staged_rows"));
	if (staged != users)
		die("operator staged %lld users, expected %ld", (long long)staged, users);
	double op_rate = (double)users / op_s;

	/* 2. Baseline: the same users into memory, then one COPY. */
	source_client_opts o;
	source_client_opts_default(&o);
	o.url = url;
	o.results = batch;
	o.seed = "bench";
	source_client *sc = source_client_new(&o, err, sizeof err);
	if (!sc)
		die("client: %s", err);
	brook_buf data = BROOK_BUF_INIT;
	char prefix[256];
	char fetched_at[BROOK_ISO8601_LEN + 1];
	brook_time_format_iso8601(brook_now_ms(), fetched_at);
	snprintf(prefix, sizeof prefix, "bench-copy\t0\t%s\t%s\t", fetched_at, url);
	long have = 0;
	t0 = brook_mono_ns();
	for (int page = 1; have < users; page++) {
		source_batch b;
		source_client_set_page(sc, page);
		if (source_client_fetch(sc, &b, err, sizeof err) != BROOK_OK)
			die("fetch: %s", err);
		for (size_t i = 0; i < b.resp.nrecords && have < users; i++, have++) {
			brook_buf_puts(&data, prefix);
			copy_field(&data, b.resp.records[i]);
			brook_buf_putc(&data, '\n');
		}
		source_batch_release(&b);
	}
	source_client_free(sc);
	double fetch_s = (double)(brook_mono_ns() - t0) / 1e9;
	char table[64], sql[256];
	snprintf(table, sizeof table, "public.bench_staging_copy_%d", (int)getpid());
	snprintf(sql, sizeof sql, "CREATE TABLE %s (LIKE staging.raw_users INCLUDING ALL)",
		 table);
	exec_ok(c, sql);
	t0 = brook_mono_ns();
	exec_ok(c, "BEGIN");
	snprintf(sql, sizeof sql,
		 "COPY %s (run_id, batch_no, fetched_at, source_url, payload) FROM STDIN",
		 table);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		die("COPY: %s", PQresultErrorMessage(r));
	PQclear(r);
	for (size_t off = 0; off < data.len; off += 256 * 1024) {
		size_t n = data.len - off < 256 * 1024 ? data.len - off : 256 * 1024;
		if (PQputCopyData(c, data.data + off, (int)n) != 1)
			die("COPY data: %s", PQerrorMessage(c));
	}
	if (PQputCopyEnd(c, NULL) != 1)
		die("COPY end: %s", PQerrorMessage(c));
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("COPY: %s", PQresultErrorMessage(r));
		PQclear(r);
	}
	exec_ok(c, "COMMIT");
	double copy_s = (double)(brook_mono_ns() - t0) / 1e9;
	double copy_rate = (double)users / copy_s;

	printf("staging users %.0f users/s (randomuser_to_postgres: %ld users, batch_size %d, "
	       "HTTP fetch + validation + one transaction per batch, %.2f s)\n",
	       op_rate, users, batch, op_s);
	printf("staging copy %.0f users/s (baseline: the same JSON lines from memory, one COPY "
	       "FROM STDIN, one transaction, %.2f s)\n",
	       copy_rate, copy_s);
	printf("fetch only %.0f users/s (one client, no staging: HTTP + parse + validation, "
	       "%.2f s)\n",
	       (double)users / fetch_s, fetch_s);
	printf("ratio staging_vs_copy %.2f (operator / raw COPY; target >= 0.7)\n",
	       op_rate / copy_rate);

	snprintf(sql, sizeof sql, "DROP TABLE %s", table);
	exec_ok(c, sql);
	const char *p[1] = {srun};
	r = PQexecParams(c, "DELETE FROM staging.raw_users WHERE run_id = $1", 1, NULL, p, NULL,
			 NULL, 0);
	PQclear(r);
	r = PQexecParams(c, "DELETE FROM staging.batches WHERE run_id = $1", 1, NULL, p, NULL,
			 NULL, 0);
	PQclear(r);
	PQfinish(c);
	brook_buf_release(&data);
	json_decref(ctx.result);
	json_decref(params);
	randomuser_server_close(ru);
	return 0;
}
