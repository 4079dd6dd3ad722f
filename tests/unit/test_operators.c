/* Unit tests for the scheduler's operators and templating, against a private
 * PostgreSQL cluster started here (migrated with the scheduler schema), an in-process
 * `brook randomuser` server, and a scripted HTTP endpoint for failures:
 *
 *   randomuser_to_postgres  stages exactly max_records users (distinct, in the right
 *                           batches); a second run of the task stages nothing; a
 *                           try after a failed one resumes and stages exactly what an
 *                           uninterrupted task would; an API
 *                           failing twice then succeeding is retried; one failing for
 *                           good fails the try; a malformed user is counted, never
 *                           staged; cancel stops the task; max_records and
 *                           max_duration both 0 are refused.
 *   shell                   output lines logged, last line the result, environment and
 *                           macros, exit status error, timeout kills the process group.
 *   sql                     rows result, PostgreSQL's error message, macros rendered,
 *                           cancel of a long statement.
 *   template                every macro, unknown macro and unterminated "{{" errors.
 *
 * Skipped (passes with a message) only when no PostgreSQL is installed. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/httpd.h"
#include "core/timeutil.h"
#include "pg/cluster.h"
#include "pg/migrate.h"
#include "scheduler/operator.h"
#include "scheduler/template.h"
#include "pg_fixture.h"
#include "source/client.h"
#include "source/randomuser.h"
#include "source/randomuser_server.h"

static randomuser_server *g_ru;
static char g_url[128];
static brook_httpd *g_script;
static char g_script_url[128];

/* The scripted endpoint: the first g_fail requests answer 503; when g_corrupt is set,
 * the first successful answer carries one malformed user (results[0].email = 42). */
static atomic_int g_requests;
static atomic_int g_fail;
static atomic_int g_corrupt;
static atomic_int g_fail_from = -1; /* requests from this index on answer 503; -1: none */

static void script_api(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)arg;
	int n = atomic_fetch_add(&g_requests, 1);
	int from = atomic_load(&g_fail_from);
	if (n < atomic_load(&g_fail) || (from >= 0 && n >= from)) {
		brook_http_error(resp, 503, 503, "scripted failure %d", n + 1);
		return;
	}
	randomuser_query q;
	char err[256];
	const char *qs = brook_http_query_string(req);
	randomuser_query_init(&q);
	if (randomuser_query_parse(&q, qs, strlen(qs), 5000, err, sizeof err) != BROOK_OK) {
		resp->status = 400;
		randomuser_error_body(&resp->body, err);
		return;
	}
	randomuser_query_finish(&q);
	brook_buf body = BROOK_BUF_INIT;
	randomuser_generate(&q, &body);
	if (atomic_exchange(&g_corrupt, 0)) {
		json_t *doc = json_loadb(body.data, body.len, 0, NULL);
		json_t *u0 = json_array_get(json_object_get(doc, "results"), 0);
		json_object_set_new(u0, "email", json_integer(42));
		char *s = json_dumps(doc, JSON_COMPACT);
		brook_buf_puts(&resp->body, s);
		free(s);
		json_decref(doc);
	} else {
		brook_buf_append(&resp->body, body.data, body.len);
	}
	brook_buf_release(&body);
}

static int group_setup(void **state)
{
	(void)state;
	char err[1024];
	if (pg_fixture_start("ops") != 0)
		return -1;
	PGconn *c = PQconnectdb(pg_cluster_dsn(g_cluster));
	int rc = PQstatus(c) == CONNECTION_OK
			 ? pg_migrate(c, pg_scheduler_migrations, pg_scheduler_migrations_count,
				      err, sizeof err)
			 : BROOK_ERR;
	PQfinish(c);
	if (rc != BROOK_OK) {
		fprintf(stderr, "cannot migrate: %s\n", err);
		return -1;
	}
	randomuser_server_opts ro;
	memset(&ro, 0, sizeof ro);
	snprintf(ro.host, sizeof ro.host, "127.0.0.1");
	ro.threads = 2;
	g_ru = randomuser_server_open(&ro, err, sizeof err);
	if (!g_ru) {
		fprintf(stderr, "randomuser: %s\n", err);
		return -1;
	}
	snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d/api/", randomuser_server_port(g_ru));
	brook_http_route routes[] = {{"GET", "/api/", script_api, NULL}};
	brook_httpd_opts ho = {.host = "127.0.0.1", .port = 0, .threads = 1,
			       .component = "script"};
	g_script = brook_httpd_open(&ho, routes, 1, err, sizeof err);
	if (!g_script) {
		fprintf(stderr, "script: %s\n", err);
		return -1;
	}
	snprintf(g_script_url, sizeof g_script_url, "http://127.0.0.1:%d/api/",
		 brook_httpd_port(g_script));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (g_script)
		brook_httpd_close(g_script);
	if (g_ru)
		randomuser_server_close(g_ru);
	return pg_fixture_stop();
}

/* One task try: a context whose log lines are collected. */
typedef struct try_ctx {
	sched_task_ctx ctx;
	atomic_int cancel;
	brook_buf log;
	json_t *params;
	brook_config *cfg;
} try_ctx;

static void collect(void *arg, const char *line)
{
	brook_buf *b = arg;
	brook_buf_puts(b, line);
	brook_buf_putc(b, '\n');
}

static void try_init(try_ctx *t, const char *dag, const char *run, const char *task,
		     json_t *params)
{
	memset(t, 0, sizeof *t);
	atomic_init(&t->cancel, 0);
	t->params = params;
	t->ctx.dag_id = dag;
	t->ctx.run_id = run;
	t->ctx.task_id = task;
	t->ctx.try_number = 1;
	t->ctx.logical_date_ms = 1709632800000;        /* 2024-03-05T10:00:00Z */
	t->ctx.data_interval_start_ms = 1709632800000;
	t->ctx.data_interval_end_ms = 1709719200000;   /* 2024-03-06T10:00:00Z */
	t->ctx.params = params;
	t->ctx.pg_dsn = pg_cluster_dsn(g_cluster);
	t->ctx.cancel = &t->cancel;
	t->ctx.log = collect;
	t->ctx.log_arg = &t->log;
}

static void try_release(try_ctx *t)
{
	json_decref(t->params);
	json_decref(t->ctx.result);
	brook_buf_release(&t->log);
	if (t->cfg)
		brook_config_free(t->cfg);
}

static int run_op(try_ctx *t, const char *op, char *err, size_t errlen)
{
	const sched_operator *o = sched_operator_find(op);
	assert_non_null(o);
	err[0] = '\0';
	json_decref(t->ctx.result);
	t->ctx.result = NULL;
	int rc = o->run(&t->ctx, err, errlen);
	print_message("%s -> %d %s\n", op, rc, err);
	return rc;
}

static json_t *ru_params(const char *url, int batch, int max_records, int max_duration_ms)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:f, s:n}", "url", url, "batch_size", batch,
			 "max_records", max_records, "max_duration", max_duration_ms, "rate",
			 0.0, "seed");
}

static PGconn *db(void)
{
	PGconn *c = PQconnectdb(pg_cluster_dsn(g_cluster));
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

static long q_long(const char *sql, const char *arg)
{
	PGconn *c = db();
	const char *p[1] = {arg};
	PGresult *r = PQexecParams(c, sql, arg ? 1 : 0, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		char m[512];
		snprintf(m, sizeof m, "%s", PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(c);
		fail_msg("%s: %s", sql, m);
	}
	long v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

static long staged_users(const char *srun)
{
	return q_long("SELECT count(*) FROM staging.raw_users WHERE run_id = $1", srun);
}

static long distinct_users(const char *srun)
{
	return q_long("SELECT count(DISTINCT payload->'login'->>'uuid') FROM staging.raw_users "
		      "WHERE run_id = $1",
		      srun);
}

static long result_int(const try_ctx *t, const char *key)
{
	const json_t *v = json_object_get(t->ctx.result, key);
	if (!json_is_integer(v))
		fail_msg("result has no integer %s", key);
	return (long)json_integer_value(v);
}

static void test_ru_stages_max_records_once(void **state)
{
	(void)state;
	char err[1024];
	try_ctx t;
	try_init(&t, "dag_a", "manual__1", "fetch", ru_params(g_url, 100, 250, 0));
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	const char *srun = "dag_a/manual__1/fetch";
	assert_int_equal(staged_users(srun), 250);
	assert_int_equal(distinct_users(srun), 250);
	assert_int_equal(q_long("SELECT count(*) FROM staging.batches WHERE run_id = $1", srun),
			 3);
	assert_int_equal(q_long("SELECT rows FROM staging.batches WHERE run_id = $1 "
				"AND batch_no = 2",
				srun),
			 50);
	assert_string_equal(json_string_value(json_object_get(t.ctx.result, "staging_run_id")),
			    srun);
	assert_int_equal(result_int(&t, "staged_rows"), 250);
	assert_int_equal(result_int(&t, "total_rows"), 250);
	assert_int_equal(result_int(&t, "batches"), 3);
	assert_int_equal(result_int(&t, "rejected"), 0);
	assert_int_equal(result_int(&t, "requests"), 3);
	assert_non_null(strstr(t.log.data, "staged 250 users in 3 batches"));

	/* The same task again (a retry or a re-run): resumes past the end, stages
	 * nothing, fetches nothing. */
	t.ctx.try_number = 2;
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(staged_users(srun), 250);
	assert_int_equal(result_int(&t, "staged_rows"), 0);
	assert_int_equal(result_int(&t, "total_rows"), 250);
	assert_int_equal(result_int(&t, "requests"), 0);
	assert_non_null(strstr(t.log.data, "resuming"));

	/* The same run id under another DAG is another staging run. */
	try_ctx t2;
	try_init(&t2, "dag_b", "manual__1", "fetch", ru_params(g_url, 100, 20, 0));
	assert_int_equal(run_op(&t2, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(staged_users("dag_b/manual__1/fetch"), 20);
	assert_int_equal(staged_users(srun), 250);
	try_release(&t2);
	try_release(&t);
}

static brook_config *fast_retry_cfg(int retries)
{
	brook_config *cfg = brook_config_new();
	brook_config_register(cfg, source_config_keys);
	char err[256], n[16];
	snprintf(n, sizeof n, "%d", retries);
	assert_int_equal(brook_config_set_kv(cfg, "source.retries", n, "test", err, sizeof err),
			 BROOK_OK);
	assert_int_equal(brook_config_set_kv(cfg, "source.backoff_initial", "10ms", "test", err,
					     sizeof err),
			 BROOK_OK);
	assert_int_equal(
		brook_config_set_kv(cfg, "source.backoff_max", "20ms", "test", err, sizeof err),
		BROOK_OK);
	return cfg;
}

static void test_ru_resume_after_failed_try(void **state)
{
	(void)state;
	char err[1024];
	/* Try 1: the API dies after 3 requests (no retries): 3 batches stay staged. */
	atomic_store(&g_requests, 0);
	atomic_store(&g_fail, 0);
	atomic_store(&g_fail_from, 3);
	try_ctx t;
	try_init(&t, "dag_r", "run1", "fetch", ru_params(g_script_url, 40, 230, 0));
	json_object_set_new(t.params, "seed", json_string("resume-seed"));
	t.cfg = fast_retry_cfg(0);
	t.ctx.cfg = t.cfg;
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "503"));
	/* Two requests are in flight at a time: the 4th to arrive failed, batch 2 or 3;
	 * what is staged is always a prefix of batches. */
	long s1 = staged_users("dag_r/run1/fetch");
	assert_true(s1 == 80 || s1 == 120);
	assert_int_equal(q_long("SELECT max(batch_no) + 1 - count(*) FROM staging.batches "
				"WHERE run_id = $1",
				"dag_r/run1/fetch"),
			 0);

	/* Try 2: the API is back; only the missing batches are fetched and staged. */
	atomic_store(&g_fail_from, -1);
	atomic_store(&g_requests, 0);
	t.ctx.try_number = 2;
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(result_int(&t, "staged_rows"), 230 - s1);
	assert_int_equal(result_int(&t, "total_rows"), 230);
	assert_int_equal(atomic_load(&g_requests), (230 - s1 + 39) / 40);
	assert_int_equal(staged_users("dag_r/run1/fetch"), 230);
	assert_int_equal(distinct_users("dag_r/run1/fetch"), 230);

	/* The users are those of an uninterrupted task with the same seed. */
	try_ctx one;
	try_init(&one, "dag_r", "run1", "fetch_once", ru_params(g_url, 40, 230, 0));
	json_object_set_new(one.params, "seed", json_string("resume-seed"));
	assert_int_equal(run_op(&one, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(q_long("SELECT count(*) FROM staging.raw_users a JOIN staging.raw_users b "
				"ON a.payload::text = b.payload::text AND a.batch_no = b.batch_no "
				"WHERE a.run_id = $1 AND b.run_id = 'dag_r/run1/fetch_once'",
				"dag_r/run1/fetch"),
			 230);
	try_release(&one);
	try_release(&t);
}

static void test_ru_retries_then_succeeds(void **state)
{
	(void)state;
	char err[1024];
	atomic_store(&g_requests, 0);
	atomic_store(&g_fail, 2);
	try_ctx t;
	try_init(&t, "dag_f", "r", "fetch", ru_params(g_script_url, 50, 50, 0));
	t.cfg = fast_retry_cfg(3);
	t.ctx.cfg = t.cfg;
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(atomic_load(&g_requests), 3);
	assert_int_equal(result_int(&t, "requests"), 3);
	assert_int_equal(staged_users("dag_f/r/fetch"), 50);
	try_release(&t);

	/* Failing for good: the try fails with the client's message, nothing staged. */
	atomic_store(&g_requests, 0);
	atomic_store(&g_fail, 100);
	try_init(&t, "dag_f", "r2", "fetch", ru_params(g_script_url, 50, 50, 0));
	t.cfg = fast_retry_cfg(1);
	t.ctx.cfg = t.cfg;
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "2 attempts"));
	assert_non_null(strstr(err, "503"));
	assert_int_equal(atomic_load(&g_requests), 2);
	assert_int_equal(staged_users("dag_f/r2/fetch"), 0);
	assert_null(t.ctx.result);
	atomic_store(&g_fail, 0);
	try_release(&t);
}

static void test_ru_malformed_user_not_staged(void **state)
{
	(void)state;
	char err[1024];
	atomic_store(&g_requests, 0);
	atomic_store(&g_fail, 0);
	atomic_store(&g_corrupt, 1);
	try_ctx t;
	try_init(&t, "dag_m", "r", "fetch", ru_params(g_script_url, 10, 10, 0));
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(result_int(&t, "rejected"), 1);
	/* 9 valid users from the first page, the 10th from the next request. */
	assert_int_equal(staged_users("dag_m/r/fetch"), 10);
	assert_int_equal(distinct_users("dag_m/r/fetch"), 10);
	assert_int_equal(q_long("SELECT count(*) FROM staging.raw_users WHERE run_id = $1 AND "
				"json_typeof(payload->'email') <> 'string'",
				"dag_m/r/fetch"),
			 0);
	assert_non_null(strstr(t.log.data, "1 malformed users rejected"));
	assert_non_null(strstr(t.log.data, "email"));
	try_release(&t);
}

static void *cancel_later(void *arg)
{
	try_ctx *t = arg;
	brook_sleep_ms(300);
	atomic_store(&t->cancel, 1);
	return NULL;
}

static void test_ru_cancel_and_bad_limits(void **state)
{
	(void)state;
	char err[1024];
	try_ctx t;
	try_init(&t, "dag_c", "r", "fetch", ru_params(g_url, 100, 100000000, 0));
	pthread_t thr;
	assert_int_equal(pthread_create(&thr, NULL, cancel_later, &t), 0);
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_ERR);
	pthread_join(thr, NULL);
	assert_non_null(strstr(err, "cancelled"));
	assert_null(t.ctx.result);
	/* What was staged before the cancel is whole batches. */
	assert_int_equal(staged_users("dag_c/r/fetch") % 100, 0);
	try_release(&t);

	try_init(&t, "dag_c", "r2", "fetch", ru_params(g_url, 100, 0, 0));
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "never stop"));
	try_release(&t);

	/* max_duration alone ends the task successfully. */
	try_init(&t, "dag_c", "r3", "fetch", ru_params(g_url, 100, 0, 200));
	assert_int_equal(run_op(&t, "randomuser_to_postgres", err, sizeof err), BROOK_OK);
	assert_int_equal(result_int(&t, "staged_rows"), staged_users("dag_c/r3/fetch"));
	try_release(&t);
}

/* ---- shell ---- */

static json_t *sh_params(const char *cmd, int timeout_ms)
{
	return json_pack("{s:s, s:i}", "command", cmd, "timeout", timeout_ms);
}

static void test_shell_output_and_result(void **state)
{
	(void)state;
	char err[1024];
	try_ctx t;
	try_init(&t, "dag_s", "r", "sh",
		 sh_params("echo one; echo two >&2; echo \"$BROOK_DAG_ID $BROOK_DS "
			   "{{ ds_nodash }} $BROOK_TRY_NUMBER\"",
			   0));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_OK);
	assert_non_null(strstr(t.log.data, "\none\n"));
	assert_non_null(strstr(t.log.data, "stderr: two\n"));
	assert_string_equal(json_string_value(t.ctx.result), "dag_s 2024-03-05 20240305 1");
	try_release(&t);

	/* stdin is /dev/null: cat ends at once. */
	try_init(&t, "dag_s", "r", "sh", sh_params("cat; echo done", 0));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_OK);
	assert_string_equal(json_string_value(t.ctx.result), "done");
	try_release(&t);

	try_init(&t, "dag_s", "r", "sh", sh_params("true", 0));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_OK);
	assert_null(t.ctx.result);
	try_release(&t);

	try_init(&t, "dag_s", "r", "sh", sh_params("echo partial; exit 3", 0));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "exited with status 3"));
	try_release(&t);

	try_init(&t, "dag_s", "r", "sh", sh_params("kill -9 $$", 0));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "signal 9"));
	try_release(&t);

	try_init(&t, "dag_s", "r", "sh", sh_params("echo {{ nope }}", 0));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "nope"));
	try_release(&t);
}

static bool process_gone(pid_t pid)
{
	for (int i = 0; i < 100; i++) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return true;
		char path[64], st[256] = "";
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(st, 1, sizeof st - 1, f);
			st[n] = '\0';
			fclose(f);
			const char *rp = strrchr(st, ')');
			if (rp && rp[1] == ' ' && rp[2] == 'Z')
				return true; /* dead, waiting for its new parent to reap it */
		}
		brook_sleep_ms(20);
	}
	return false;
}

static void test_shell_timeout_kills_group(void **state)
{
	(void)state;
	char err[1024], cmd[512];
	char pidfile[] = "/tmp/brook-ops-pid-XXXXXX";
	int fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s; wait", pidfile);
	try_ctx t;
	/* Long enough for the shell to write its child's pid even on a loaded machine
	 * under valgrind (at 300 ms the file was sometimes still empty). */
	try_init(&t, "dag_s", "r", "sh", sh_params(cmd, 1500));
	assert_int_equal(run_op(&t, "shell", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "timed out after 1500ms"));
	FILE *f = fopen(pidfile, "r");
	assert_non_null(f);
	int pid = 0;
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(pidfile);
	assert_true(pid > 0);
	assert_true(process_gone((pid_t)pid));
	try_release(&t);
}

/* ---- sql ---- */

static void test_sql_rows_errors_macros(void **state)
{
	(void)state;
	char err[1024];
	try_ctx t;
	try_init(&t, "dag_q", "r", "q",
		 json_pack("{s:s}", "sql",
			   "CREATE TABLE t_{{ ds_nodash }} (x int, d text); "
			   "INSERT INTO t_20240305 VALUES (1, '{{ ds }}'), (2, NULL); "
			   "SELECT x, d FROM t_20240305 ORDER BY x; "
			   "UPDATE t_20240305 SET x = x + 10"));
	assert_int_equal(run_op(&t, "sql", err, sizeof err), BROOK_OK);
	assert_non_null(strstr(t.log.data, "INSERT 0 2"));
	assert_non_null(strstr(t.log.data, "UPDATE 2"));
	char *s = json_dumps(t.ctx.result, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "[{\"d\":\"2024-03-05\",\"x\":\"1\"},{\"d\":null,\"x\":\"2\"}]");
	free(s);
	try_release(&t);

	try_init(&t, "dag_q", "r", "q",
		 json_pack("{s:s}", "sql", "SELECT 1; SELECT no_col FROM no_such_table_xyz"));
	assert_int_equal(run_op(&t, "sql", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "no_such_table_xyz"));
	assert_null(t.ctx.result);
	try_release(&t);

	try_init(&t, "dag_q", "r", "q", json_pack("{s:s}", "sql", "SELECT 1 -- {{ ds"));
	assert_int_equal(run_op(&t, "sql", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "unterminated"));
	try_release(&t);

	/* More than 100 rows: the result keeps the first 100. */
	try_init(&t, "dag_q", "r", "q",
		 json_pack("{s:s}", "sql", "SELECT g FROM generate_series(1, 150) g"));
	assert_int_equal(run_op(&t, "sql", err, sizeof err), BROOK_OK);
	assert_int_equal(json_array_size(t.ctx.result), 100);
	try_release(&t);

	/* Cancel of a long statement. */
	try_init(&t, "dag_q", "r", "q", json_pack("{s:s}", "sql", "SELECT pg_sleep(30)"));
	pthread_t thr;
	assert_int_equal(pthread_create(&thr, NULL, cancel_later, &t), 0);
	assert_int_equal(run_op(&t, "sql", err, sizeof err), BROOK_ERR);
	pthread_join(thr, NULL);
	assert_non_null(strstr(err, "cancel"));
	try_release(&t);
}

/* ---- template ---- */

static void test_template_macros(void **state)
{
	(void)state;
	try_ctx t;
	try_init(&t, "dag_t", "manual__x", "task_t", NULL);
	t.ctx.try_number = 3;
	char err[256];
	char *out = sched_render("{{ds}}|{{ ds_nodash }}|{{  ts }}|{{ logical_date}}|"
				 "{{ data_interval_start }}|{{ data_interval_end }}|{{ dag_id }}|"
				 "{{ run_id }}|{{ task_id }}|{{ try_number }}|{ x }",
				 &t.ctx, err, sizeof err);
	assert_non_null(out);
	assert_string_equal(out, "2024-03-05|20240305|2024-03-05T10:00:00.000Z|"
				 "2024-03-05T10:00:00.000Z|2024-03-05T10:00:00.000Z|"
				 "2024-03-06T10:00:00.000Z|dag_t|manual__x|task_t|3|{ x }");
	free(out);

	assert_null(sched_render("a {{ dss }} b", &t.ctx, err, sizeof err));
	assert_non_null(strstr(err, "unknown macro 'dss'"));
	assert_null(sched_render("a {{ ds b", &t.ctx, err, sizeof err));
	assert_non_null(strstr(err, "unterminated"));
	assert_non_null(strstr(err, "offset 2"));
	assert_null(sched_render("{{}}", &t.ctx, err, sizeof err));
	try_release(&t);
}

int main(void)
{
	struct stat st;
	if (stat("/usr/lib/postgresql", &st) != 0 && !getenv("BROOK_PG_BINDIR")) {
		printf("SKIP test_operators: no PostgreSQL under /usr/lib/postgresql\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ru_stages_max_records_once),
		cmocka_unit_test(test_ru_resume_after_failed_try),
		cmocka_unit_test(test_ru_retries_then_succeeds),
		cmocka_unit_test(test_ru_malformed_user_not_staged),
		cmocka_unit_test(test_ru_cancel_and_bad_limits),
		cmocka_unit_test(test_shell_output_and_result),
		cmocka_unit_test(test_shell_timeout_kills_group),
		cmocka_unit_test(test_sql_rows_errors_macros),
		cmocka_unit_test(test_template_macros),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
