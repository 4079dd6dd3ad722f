/* Unit tests for pg/migrate: against a private PostgreSQL cluster started here
 * (pg_cluster_open on a temp dir, stopped and removed at the end): the scheduler schema
 * is created, a second run is a no-op, two concurrent migrators apply a version once,
 * a failing migration rolls back and names itself, and pg_stage_batch stages a batch
 * exactly once and rolls back a batch with invalid JSON. Skipped (passes with a message)
 * only when no PostgreSQL is installed under /usr/lib/postgresql. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "core/fileio.h"
#include "pg/cluster.h"
#include "pg/migrate.h"
#include "pg_fixture.h"


static int group_setup(void **state)
{
	(void)state;
	return pg_fixture_start("pgmig");
}

static int group_teardown(void **state)
{
	(void)state;
	return pg_fixture_stop();
}

/* A connection to database db (NULL: the cluster's default database `brook`). */
static PGconn *connect_db(const char *db)
{
	char conninfo[1024];
	snprintf(conninfo, sizeof conninfo, "%s%s%s", pg_cluster_dsn(g_cluster),
		 db ? " dbname=" : "", db ? db : "");
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	PGresult *r = PQexec(c, "SET client_min_messages = warning");
	PQclear(r);
	return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s: %s", sql, msg);
	}
	PQclear(r);
}

/* The integer in the first cell of a one-row query (parameters optional). */
static long query_long(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s: %s", sql, msg);
	}
	long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static void create_database(const char *name)
{
	PGconn *c = connect_db(NULL);
	char sql[128];
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
	exec_ok(c, sql);
	PQfinish(c);
}

static void migrate_ok(PGconn *c, const pg_migration *list, size_t n)
{
	char err[1024] = "";
	int rc = pg_migrate(c, list, n, err, sizeof err);
	if (rc != BROOK_OK)
		fail_msg("pg_migrate: %s", err);
}

static long table_count(PGconn *c, const char *schema, const char *table)
{
	const char *p[2] = {schema, table};
	return query_long(c,
			  "SELECT count(*) FROM information_schema.tables "
			  "WHERE table_schema = $1 AND table_name = $2",
			  2, p);
}

static void test_first_migrate_creates_schema(void **state)
{
	(void)state;
	create_database("mig_first");
	PGconn *c = connect_db("mig_first");
	assert_int_equal(table_count(c, "staging", "raw_users"), 0);
	migrate_ok(c, pg_scheduler_migrations, pg_scheduler_migrations_count);

	static const char *const tables[][2] = {
		{"public", "brook_schema_migrations"}, {"staging", "raw_users"},
		{"staging", "batches"},		       {"scheduler", "dag_run"},
		{"scheduler", "task_instance"},	       {"scheduler", "xcom"},
		{"scheduler", "task_log"},
	};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		if (table_count(c, tables[i][0], tables[i][1]) != 1)
			fail_msg("table %s.%s missing", tables[i][0], tables[i][1]);
	}
	assert_int_equal(query_long(c,
				    "SELECT count(*) FROM pg_indexes WHERE indexname IN "
				    "('raw_users_run_batch_brin', 'task_log_task_try_idx')",
				    0, NULL),
			 2);
	/* Version 4 replaced the staging B-tree by a BRIN index. */
	assert_int_equal(query_long(c,
				    "SELECT count(*) FROM pg_indexes WHERE tablename = 'raw_users' "
				    "AND indexdef LIKE '%USING brin (run_id, batch_no)%'",
				    0, NULL),
			 1);
	assert_int_equal(query_long(c, "SELECT count(*) FROM public.brook_schema_migrations "
				       "WHERE version = 1",
				    0, NULL),
			 1);

	/* The constraints work: a bad state is refused, NULL state allowed, cascade. */
	exec_ok(c, "INSERT INTO scheduler.dag_run (dag_id, run_id, run_type, state) "
		   "VALUES ('d', 'r', 'manual', 'queued')");
	exec_ok(c, "INSERT INTO scheduler.task_instance (dag_id, run_id, task_id) "
		   "VALUES ('d', 'r', 't')");
	exec_ok(c, "INSERT INTO scheduler.xcom VALUES ('d', 'r', 't', 'k', '1')");
	PGresult *r = PQexec(c, "UPDATE scheduler.task_instance SET state = 'bogus'");
	assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	exec_ok(c, "DELETE FROM scheduler.dag_run");
	assert_int_equal(query_long(c, "SELECT count(*) FROM scheduler.xcom", 0, NULL), 0);
	PQfinish(c);
}

static void test_second_migrate_is_noop(void **state)
{
	(void)state;
	create_database("mig_second");
	PGconn *c = connect_db("mig_second");
	migrate_ok(c, pg_scheduler_migrations, pg_scheduler_migrations_count);
	exec_ok(c, "CREATE TEMP TABLE before AS SELECT applied_at FROM "
		   "public.brook_schema_migrations WHERE version = 1");
	/* Would fail (schema staging exists) if version 1 ran again. */
	migrate_ok(c, pg_scheduler_migrations, pg_scheduler_migrations_count);
	assert_int_equal(query_long(c, "SELECT count(*) FROM public.brook_schema_migrations",
				    0, NULL),
			 (long)pg_scheduler_migrations_count);
	assert_int_equal(query_long(c,
				    "SELECT count(*) FROM public.brook_schema_migrations m, "
				    "before b WHERE m.applied_at = b.applied_at",
				    0, NULL),
			 1);
	PQfinish(c);
}

static const pg_migration slow_list[] = {
	{1, "slow create",
	 "SELECT pg_sleep(0.3); CREATE TABLE conc (x int); INSERT INTO conc VALUES (1);"},
	{2, "second", "INSERT INTO conc VALUES (2);"},
};

struct conc_arg {
	pthread_barrier_t *barrier;
	int rc;
	char err[1024];
};

static void *conc_thread(void *p)
{
	struct conc_arg *a = p;
	char conninfo[1024];
	snprintf(conninfo, sizeof conninfo, "%s dbname=mig_conc", pg_cluster_dsn(g_cluster));
	PGconn *c = PQconnectdb(conninfo);
	pthread_barrier_wait(a->barrier);
	if (PQstatus(c) != CONNECTION_OK) {
		a->rc = BROOK_ERR;
		snprintf(a->err, sizeof a->err, "connect: %s", PQerrorMessage(c));
	} else {
		a->rc = pg_migrate(c, slow_list, 2, a->err, sizeof a->err);
	}
	PQfinish(c);
	return NULL;
}

static void test_concurrent_migrators_apply_once(void **state)
{
	(void)state;
	create_database("mig_conc");
	pthread_barrier_t barrier;
	assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
	struct conc_arg a[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof a[i]);
		a[i].barrier = &barrier;
		assert_int_equal(pthread_create(&t[i], NULL, conc_thread, &a[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < 2; i++) {
		if (a[i].rc != BROOK_OK)
			fail_msg("migrator %d: %s", i, a[i].err);
	}
	PGconn *c = connect_db("mig_conc");
	assert_int_equal(query_long(c, "SELECT count(*) FROM conc WHERE x = 1", 0, NULL), 1);
	assert_int_equal(query_long(c, "SELECT count(*) FROM conc WHERE x = 2", 0, NULL), 1);
	assert_int_equal(query_long(c, "SELECT count(*) FROM public.brook_schema_migrations",
				    0, NULL),
			 2);
	PQfinish(c);
}

static void test_bad_migration_rolls_back(void **state)
{
	(void)state;
	create_database("mig_bad");
	PGconn *c = connect_db("mig_bad");
	char err[1024] = "";

	static const pg_migration unordered[] = {
		{2, "two", "SELECT 1"},
		{2, "two again", "SELECT 1"},
	};
	assert_int_equal(pg_migrate(c, unordered, 2, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "increase"));
	/* Nothing ran, not even the bootstrap. */
	assert_int_equal(table_count(c, "public", "brook_schema_migrations"), 0);

	static const pg_migration list[] = {
		{1, "good one", "CREATE TABLE good (x int);"},
		{5, "broken step", "CREATE TABLE half (x int); SELECT no_such_function_xyz();"},
		{7, "after", "CREATE TABLE after_bad (x int);"},
	};
	err[0] = '\0';
	assert_int_equal(pg_migrate(c, list, 3, err, sizeof err), BROOK_ERR);
	print_message("expected error: %s\n", err);
	assert_non_null(strstr(err, "migration 5"));
	assert_non_null(strstr(err, "broken step"));
	assert_non_null(strstr(err, "no_such_function_xyz"));
	assert_int_equal(table_count(c, "public", "good"), 1);
	assert_int_equal(table_count(c, "public", "half"), 0);
	assert_int_equal(table_count(c, "public", "after_bad"), 0);
	assert_int_equal(query_long(c, "SELECT count(*) FROM public.brook_schema_migrations "
				       "WHERE version IN (5, 7)",
				    0, NULL),
			 0);
	/* The connection is usable afterwards (no transaction left open). */
	assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
	PQfinish(c);
}

static long batch_rows(PGconn *c, const char *run_id, const char *batch_no)
{
	const char *p[2] = {run_id, batch_no};
	return query_long(c,
			  "SELECT count(*) FROM staging.raw_users "
			  "WHERE run_id = $1 AND batch_no = $2::int",
			  2, p);
}

static long batch_marks(PGconn *c, const char *run_id, const char *batch_no)
{
	const char *p[2] = {run_id, batch_no};
	return query_long(c,
			  "SELECT count(*) FROM staging.batches "
			  "WHERE run_id = $1 AND batch_no = $2::int",
			  2, p);
}

static void test_stage_batch_once(void **state)
{
	(void)state;
	create_database("mig_stage");
	PGconn *c = connect_db("mig_stage");
	migrate_ok(c, pg_scheduler_migrations, pg_scheduler_migrations_count);
	char err[1024] = "";
	int staged = -1;

	static const char *const payloads[] = {
		"{\"name\": \"Ann\", \"n\": 1}",
		"{\"name\": \"O'Brien \\\"q\\\"\", \"n\": 2}",
		"{\"name\": \"Zo\\u00eb\\ttab\", \"n\": 3}",
	};
	int rc = pg_stage_batch(c, "run-1", 0, "https://example.test/api?results=3", 0, payloads,
				3, &staged, err, sizeof err);
	if (rc != BROOK_OK)
		fail_msg("stage: %s", err);
	assert_int_equal(staged, 3);
	assert_int_equal(batch_rows(c, "run-1", "0"), 3);
	assert_int_equal(batch_marks(c, "run-1", "0"), 1);
	assert_int_equal(query_long(c, "SELECT rows FROM staging.batches WHERE run_id = 'run-1'",
				    0, NULL),
			 3);
	assert_int_equal(query_long(c,
				    "SELECT count(*) FROM staging.raw_users WHERE "
				    "payload->>'name' = 'O''Brien \"q\"' AND (payload->>'n')::int = 2 "
				    "AND source_url = 'https://example.test/api?results=3'",
				    0, NULL),
			 1);

	/* The retry of the same batch stages nothing. */
	staged = -1;
	rc = pg_stage_batch(c, "run-1", 0, "https://example.test/api?results=3", 0, payloads,
			    3, &staged, err, sizeof err);
	if (rc != BROOK_OK)
		fail_msg("restage: %s", err);
	assert_int_equal(staged, 0);
	assert_int_equal(batch_rows(c, "run-1", "0"), 3);
	assert_int_equal(query_long(c, "SELECT count(*) FROM staging.raw_users", 0, NULL), 3);

	/* An empty batch is recorded too (and a retry of it skipped). */
	rc = pg_stage_batch(c, "run-1", 1, "u", 0, payloads, 0, &staged, err, sizeof err);
	assert_int_equal(rc, BROOK_OK);
	assert_int_equal(staged, 0);
	assert_int_equal(batch_marks(c, "run-1", "1"), 1);

	/* A batch larger than one INSERT statement's chunk. */
	enum { BIG = 2500 };
	char(*texts)[32] = calloc(BIG, sizeof *texts);
	const char **big = calloc(BIG, sizeof *big);
	assert_non_null(texts);
	assert_non_null(big);
	for (int i = 0; i < BIG; i++) {
		snprintf(texts[i], sizeof texts[i], "{\"i\": %d}", i);
		big[i] = texts[i];
	}
	rc = pg_stage_batch(c, "run-1", 2, "u", 0, big, BIG, &staged, err, sizeof err);
	free(big);
	free(texts);
	if (rc != BROOK_OK)
		fail_msg("stage big: %s", err);
	assert_int_equal(staged, BIG);
	assert_int_equal(batch_rows(c, "run-1", "2"), BIG);
	assert_int_equal(query_long(c,
				    "SELECT count(DISTINCT (payload->>'i')::int) FROM staging.raw_users "
				    "WHERE run_id = 'run-1' AND batch_no = 2",
				    0, NULL),
			 BIG);
	PQfinish(c);
}

/* Every field arrives exactly as given: the payload's bytes (tabs, newlines, backslashes,
 * multi-byte UTF-8 kept as they are), run_id and source_url with characters COPY's text
 * format would escape, and fetched_at to the millisecond (also before PostgreSQL's epoch, 2000). */
static void test_stage_batch_exact(void **state)
{
	(void)state;
	create_database("mig_exact");
	PGconn *c = connect_db("mig_exact");
	migrate_ok(c, pg_scheduler_migrations, pg_scheduler_migrations_count);
	char err[1024] = "";
	int staged = -1;
	static const char *const payloads[] = {
		"{\"s\":\t\"a\\\\b \\n Zo\u00eb \u2603 \U0001F600\"}",
		"\n[1,\r\n2]\n",
	};
	const char *run_id = "run\twith\\odd\nchars";
	int rc = pg_stage_batch(c, run_id, -3, "http://x/\t?\\", INT64_C(1732406400123),
				payloads, 2, &staged, err, sizeof err);
	if (rc != BROOK_OK)
		fail_msg("stage: %s", err);
	assert_int_equal(staged, 2);
	for (int i = 0; i < 2; i++) {
		const char *p[3] = {run_id, payloads[i], "http://x/\t?\\"};
		long rows = query_long(c,
				       "SELECT count(*) FROM staging.raw_users WHERE run_id = $1 "
				       "AND batch_no = -3 AND payload::text = $2 "
				       "AND source_url = $3 "
				       "AND fetched_at = '2024-11-24 00:00:00.123+00'",
				       3, p);
		assert_int_equal(rows, 1);
	}
	rc = pg_stage_batch(c, "old", 0, "u", INT64_C(946684799999), payloads, 1, &staged, err,
			    sizeof err);
	if (rc != BROOK_OK)
		fail_msg("stage: %s", err);
	assert_int_equal(query_long(c,
				    "SELECT count(*) FROM staging.raw_users WHERE run_id = 'old' "
				    "AND fetched_at = '1999-12-31 23:59:59.999+00'",
				    0, NULL),
			 1);

	/* A payload that is not UTF-8 is refused, and nothing of its batch stays. */
	static const char *const bad[] = {"{\"ok\": 1}", "{\"s\": \"\xff\"}"};
	assert_int_equal(pg_stage_batch(c, "bad", 1, "u", 0, bad, 2, &staged, err, sizeof err),
			 BROOK_ERR);
	print_message("expected error: %s\n", err);
	assert_non_null(strstr(err, "UTF8"));
	assert_int_equal(batch_rows(c, "bad", "1"), 0);
	assert_int_equal(batch_marks(c, "bad", "1"), 0);
	PQfinish(c);
}

static void test_stage_bad_json_rolls_back(void **state)
{
	(void)state;
	create_database("mig_badjson");
	PGconn *c = connect_db("mig_badjson");
	migrate_ok(c, pg_scheduler_migrations, pg_scheduler_migrations_count);
	char err[1024] = "";
	int staged = -1;
	static const char *const payloads[] = {"{\"ok\": true}", "{\"broken\": ", "[1]"};
	assert_int_equal(
		pg_stage_batch(c, "run-2", 4, "u", 0, payloads, 3, &staged, err, sizeof err),
		BROOK_ERR);
	print_message("expected error: %s\n", err);
	assert_int_equal(staged, 0);
	assert_non_null(strstr(err, "batch 4"));
	assert_non_null(strstr(err, "run-2"));
	assert_non_null(strstr(err, "json"));
	assert_int_equal(batch_rows(c, "run-2", "4"), 0);
	assert_int_equal(batch_marks(c, "run-2", "4"), 0);
	assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);

	/* Fixed, the same batch stages now: the failed attempt left no mark behind. */
	static const char *const fixed[] = {"{\"ok\": true}", "{\"broken\": false}", "[1]"};
	assert_int_equal(
		pg_stage_batch(c, "run-2", 4, "u", 0, fixed, 3, &staged, err, sizeof err),
		BROOK_OK);
	assert_int_equal(staged, 3);
	assert_int_equal(batch_rows(c, "run-2", "4"), 3);
	PQfinish(c);
}

int main(void)
{
	struct stat st;
	if (stat("/usr/lib/postgresql", &st) != 0 && !getenv("BROOK_PG_BINDIR")) {
		printf("SKIP test_pg_migrate: no PostgreSQL under /usr/lib/postgresql\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_migrate_creates_schema),
		cmocka_unit_test(test_second_migrate_is_noop),
		cmocka_unit_test(test_concurrent_migrators_apply_once),
		cmocka_unit_test(test_bad_migration_rolls_back),
		cmocka_unit_test(test_stage_batch_once),
		cmocka_unit_test(test_stage_batch_exact),
		cmocka_unit_test(test_stage_bad_json_rolls_back),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
