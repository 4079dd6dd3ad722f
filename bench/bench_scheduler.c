/*
 * bench_scheduler.c — scheduler overhead: N runs of a DAG with one no-op task, from
 * trigger to every run succeeded, in-process against a real PostgreSQL.
 *
 * Baseline, same run, same database server: the bare minimum of SQL those runs need —
 * for each run the statements that create it and move it and its task through
 * queued/running/success, in ONE transaction per run (one durable commit, where the
 * scheduler commits each state change as it happens), one after another on one
 * connection (no scheduling decisions, no threads). The ratio says what the
 * scheduler's bookkeeping costs beside the least database work a durable run needs.
 *
 *   bench_scheduler --pg DSN [--runs N] [--parallelism P]
 *
 * A database bench_sched_<pid> is created on the server and dropped at the end.
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "pg/cluster.h"
#include "scheduler/scheduler.h"
#include "source/client.h"

static const brook_cfg_key local_keys[] = {
	{"data", BROOK_CFG_STR, "/tmp", "data directory", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static int exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "bench_scheduler: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

static long count_success(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT count(*) FROM scheduler.dag_run WHERE state = 'success'");
	long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return n;
}

/* The scheduler: seconds for `runs` triggered runs to succeed, or < 0. */
static double bench_scheduler(const char *dsn, int runs, int parallelism)
{
	brook_config *cfg = brook_config_new();
	brook_config_register(cfg, local_keys);
	brook_config_register(cfg, pg_config_keys);
	brook_config_register(cfg, source_config_keys);
	brook_config_register(cfg, scheduler_config_keys);
	char yaml[512], err[1024], par[64];
	snprintf(yaml, sizeof yaml,
		 "scheduler:\n  dags:\n    noop:\n      schedule: none\n"
		 "      max_active_runs: 1000\n      is_paused_upon_creation: false\n"
		 "      tasks:\n        nothing: {operator: empty}\n");
	snprintf(par, sizeof par, "%d", parallelism);
	double secs = -1;
	scheduler *s = NULL;
	PGconn *c = NULL;
	if (brook_config_load_string(cfg, "bench", yaml, strlen(yaml), err, sizeof err) ||
	    brook_config_set_kv(cfg, "postgres.dsn", dsn, "bench", err, sizeof err) ||
	    brook_config_set_kv(cfg, "scheduler.parallelism", par, "bench", err, sizeof err)) {
		fprintf(stderr, "bench_scheduler: %s\n", err);
		goto out;
	}
	s = scheduler_open(cfg, err, sizeof err);
	if (!s || scheduler_start(s, err, sizeof err) != BROOK_OK) {
		fprintf(stderr, "bench_scheduler: %s\n", err);
		goto out;
	}
	c = PQconnectdb(dsn);
	int64_t t0 = brook_mono_ns();
	for (int i = 0; i < runs; i++) {
		char id[32];
		snprintf(id, sizeof id, "run_%05d", i);
		sched_error e;
		json_t *r = scheduler_trigger(s, "noop", id, NULL, 1000000000000LL + i * 1000LL, &e);
		if (!r) {
			fprintf(stderr, "bench_scheduler: trigger: %s\n", e.msg);
			goto out;
		}
		json_decref(r);
	}
	long done = 0;
	int64_t last_print = brook_mono_ms();
	while ((done = count_success(c)) < runs) {
		if (done < 0)
			goto out;
		if (brook_mono_ms() - last_print > 2000) {
			fprintf(stderr, "bench_scheduler: %ld/%d runs done\n", done, runs);
			last_print = brook_mono_ms();
		}
		brook_sleep_ms(20);
	}
	secs = (double)(brook_mono_ns() - t0) / 1e9;
out:
	if (c)
		PQfinish(c);
	scheduler_close(s);
	brook_config_free(cfg);
	return secs;
}

/* The bare SQL the runs need, on one connection. */
static double bench_baseline(const char *dsn, int runs)
{
	PGconn *c = PQconnectdb(dsn);
	if (PQstatus(c) != CONNECTION_OK ||
	    !exec_ok(c, "DELETE FROM scheduler.dag_run WHERE dag_id = 'noop'")) {
		PQfinish(c);
		return -1;
	}
	int64_t t0 = brook_mono_ns();
	for (int i = 0; i < runs; i++) {
		char sql[1024];
		if (!exec_ok(c, "BEGIN"))
			goto fail;
		snprintf(sql, sizeof sql,
			 "INSERT INTO scheduler.dag_run (dag_id, run_id, logical_date, run_type, "
			 "state) VALUES ('noop', 'b_%d', to_timestamp(%d), 'manual', 'queued')",
			 i, i);
		if (!exec_ok(c, sql))
			goto fail;
		snprintf(sql, sizeof sql,
			 "INSERT INTO scheduler.task_instance (dag_id, run_id, task_id, max_tries) "
			 "VALUES ('noop', 'b_%d', 'nothing', 0)", i);
		if (!exec_ok(c, sql))
			goto fail;
		static const char *const steps[] = {
			"UPDATE scheduler.dag_run SET state = 'running', start_date = now()",
			"UPDATE scheduler.task_instance SET state = 'queued'",
			"UPDATE scheduler.task_instance SET state = 'running', try_number = 1",
			"UPDATE scheduler.task_instance SET state = 'success', end_date = now()",
			"UPDATE scheduler.dag_run SET state = 'success', end_date = now()",
		};
		for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
			snprintf(sql, sizeof sql, "%s WHERE dag_id = 'noop' AND run_id = 'b_%d'",
				 steps[k], i);
			if (!exec_ok(c, sql))
				goto fail;
		}
		if (!exec_ok(c, "COMMIT"))
			goto fail;
	}
	double secs = (double)(brook_mono_ns() - t0) / 1e9;
	PQfinish(c);
	return secs;
fail:
	PQfinish(c);
	return -1;
}

int main(int argc, char **argv)
{
	const char *pg = NULL;
	int runs = 1000, parallelism = 8;
	static const struct option longopts[] = {
		{"pg", required_argument, NULL, 'p'},
		{"runs", required_argument, NULL, 'n'},
		{"parallelism", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	for (int o; (o = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
		switch (o) {
		case 'p': pg = optarg; break;
		case 'n': runs = atoi(optarg); break;
		case 'j': parallelism = atoi(optarg); break;
		case 'h':
			printf("usage: bench_scheduler --pg DSN [--runs N] [--parallelism P]\n"
			       "N runs of a one-task no-op DAG through the scheduler, beside the\n"
			       "bare SQL those runs need on one connection.\n");
			return 0;
		default: return 2;
		}
	}
	if (!pg) {
		printf("bench_scheduler: skipped (no --pg DSN)\n");
		return 0;
	}
	if (runs < 1)
		runs = 1;
	brook_log_set_level(BROOK_LOG_WARN);
	PGconn *admin = PQconnectdb(pg);
	char db[64], sql[128];
	snprintf(db, sizeof db, "bench_sched_%d", (int)getpid());
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
	if (PQstatus(admin) != CONNECTION_OK || !exec_ok(admin, sql)) {
		fprintf(stderr, "bench_scheduler: cannot create a database: %s",
			PQerrorMessage(admin));
		PQfinish(admin);
		return 1;
	}
	char dsn[2048];
	snprintf(dsn, sizeof dsn, "%s dbname=%s", pg, db);

	double sched = bench_scheduler(dsn, runs, parallelism);
	double base = sched > 0 ? bench_baseline(dsn, runs) : -1;
	snprintf(sql, sizeof sql, "DROP DATABASE %s", db);
	exec_ok(admin, sql);
	PQfinish(admin);
	if (sched <= 0 || base <= 0)
		return 1;
	printf("scheduler: %d no-op runs (1 task each, parallelism %d) in %.2f s = %.0f runs/s\n",
	       runs, parallelism, sched, runs / sched);
	printf("baseline:  the same runs' bare SQL, one commit per run, in %.2f s = %.0f runs/s\n",
	       base, runs / base);
	printf("ratio:     scheduler time / bare SQL time = %.2f\n", sched / base);
	return 0;
}
