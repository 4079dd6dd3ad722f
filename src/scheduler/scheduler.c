/*
 * scheduler.c — the scheduling loop, the workers and the write operations (see
 * scheduler.h for the semantics; views.c renders the run history as JSON).
 *
 * Threads and ownership:
 *   - The loop thread owns s->loop_conn (the connection holding the scheduler's
 *     session advisory lock) and s->paused[]. Each pass (tick) it: refreshes the pause
 *     flags, creates due scheduled runs, starts queued runs up to max_active_runs,
 *     moves task instances whose upstreams are done (trigger rules, retries whose time
 *     came), finishes runs, dispatches queued task instances to the workers, and
 *     enforces execution timeouts. It sleeps on loop_cv for scheduler.tick unless
 *     woken (a task finished, a run was triggered, a DAG was paused/unpaused).
 *   - Worker threads own one connection each; they take jobs from a queue (s->mu),
 *     run the operator, and record the outcome.
 *   - Jobs in flight (queued for or running on a worker) are listed in s->inflight
 *     (s->mu), so a task instance is never dispatched twice, and the loop finds the
 *     deadlines there.
 *   - API operations (any thread) use pooled connections.
 *
 * Every state change is a guarded UPDATE (WHERE state = <expected>), so a change
 * computed from a stale read is a no-op rather than a corruption.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/timeutil.h"
#include "pg/cluster.h"
#include "pg/migrate.h"
#include "scheduler/operator.h"
#include "scheduler/sched_int.h"

#define COMP "scheduler"
#define LOCK_KEY 7093854887396338024 /* "brookmig" + 1: one scheduler per database */
#define MAX_RUNS_PER_PASS 1000       /* catchup creates at most this many runs per pass */
#define MAX_BACKFILL_RUNS 10000

const brook_cfg_key scheduler_config_keys[] = {
	{"scheduler.listen", BROOK_CFG_STR, "127.0.0.1:8080", "scheduler REST API and UI", NULL},
	{"scheduler.dags", BROOK_CFG_TREE, NULL, "the DAGs (see docs/SCHEDULER.md)", NULL},
	{"scheduler.parallelism", BROOK_CFG_INT, "8", "task instances running at once", NULL},
	{"scheduler.tick", BROOK_CFG_DURATION, "1s",
	 "how often the loop looks for due work when nothing wakes it", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

enum { CANCEL_TIMEOUT = 1, CANCEL_SHUTDOWN = 2 };

typedef struct sched_job {
	struct sched_job *next;
	size_t dag, task; /* indices in the bag */
	char *run_id;
	int try_number;
	int max_tries; /* the instance's: retries, raised by a clear */
	char *conf; /* the run's conf as JSON text */
	int64_t logical_ms, interval_start_ms, interval_end_ms;
	atomic_int cancel;
	int64_t started_mono_ms;
	int64_t deadline_mono_ms;
} sched_job;

struct scheduler {
	const brook_config *cfg;
	sched_dagbag bag;
	char *dsn;
	pg_cluster *cluster; /* started by us, stopped at close */
	PGconn *loop_conn;
	bool locked; /* loop_conn holds the one-scheduler lock */
	int64_t down_since, down_warned; /* PostgreSQL unreachable since (mono ms; 0: up) */
	bool *paused;

	pthread_mutex_t pool_mu;
	PGconn **pool;
	size_t npool, cappool;

	pthread_mutex_t mu;
	pthread_cond_t job_cv, loop_cv;
	sched_job *qhead, *qtail;
	sched_job **inflight;
	size_t ninflight;
	bool stopping, wake;

	pthread_t loop_thread;
	bool loop_started;
	pthread_t *workers;
	int nworkers;
	int64_t tick_ms;
	char hostname[256];
	atomic_llong heartbeat_ms;

	brook_metrics *metrics;
	brook_metric_family *m_tries, *m_runs, *m_duration;
	brook_metric *m_running, *m_heartbeat;
};

/* ---------------------------------------------------------------- helpers */

void sched_error_set(sched_error *e, int status, const char *fmt, ...)
{
	e->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

PGresult *sched_pq(PGconn *c, const char *sql, int n, const char *const *params,
		   ExecStatusType want, char *err, size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	if (r && PQresultStatus(r) == want)
		return r;
	const char *m = r ? PQresultErrorMessage(r) : "";
	if (!m || !*m)
		m = PQerrorMessage(c);
	sched_one_line(m && *m ? m : "PostgreSQL error", err, errlen);
	PQclear(r);
	return NULL;
}

void sched_one_line(const char *msg, char *out, size_t outlen)
{
	size_t o = 0;
	for (const char *p = msg; *p && o + 3 < outlen; p++) {
		if (*p == '\t')
			continue;
		if (*p == '\n') {
			if (p[1] && p[1] != '\n')
				o += (size_t)snprintf(out + o, outlen - o, "; ");
			continue;
		}
		out[o++] = *p;
	}
	if (outlen)
		out[o < outlen ? o : outlen - 1] = '\0';
}

/* Run a statement expecting no rows; BROOK_OK or BROOK_ERR with err. */
static int pq_cmd(PGconn *c, const char *sql, int n, const char *const *params, char *err,
		  size_t errlen)
{
	PGresult *r = sched_pq(c, sql, n, params, PGRES_COMMAND_OK, err, errlen);
	if (!r)
		return BROOK_ERR;
	PQclear(r);
	return BROOK_OK;
}

void sched_ts_format(int64_t ms, char *out)
{
	char iso[BROOK_ISO8601_LEN + 1];
	brook_time_format_iso8601(ms, iso); /* YYYY-MM-DDTHH:MM:SS.mmmZ */
	if (ms % 1000 == 0)
		snprintf(out, SCHED_TS_LEN, "%.19s+00:00", iso);
	else
		snprintf(out, SCHED_TS_LEN, "%.23s+00:00", iso);
}

int64_t sched_ts_ms(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

json_t *sched_ts_json(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return json_null();
	char ts[SCHED_TS_LEN];
	sched_ts_format(sched_ts_ms(r, row, col), ts);
	return json_string(ts);
}

/* PostgreSQL's NOTICEs ("relation ... already exists, skipping") are not news. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	brook_debug(COMP, "PostgreSQL: %s", message);
}

static PGconn *connect_dsn(const char *dsn, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(dsn);
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[512];
		sched_one_line(PQerrorMessage(c), msg, sizeof msg);
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
	PQclear(r);
	return c;
}

/* Still connected? One empty round trip (~0.1 ms on loopback) tells: a server that
 * restarted since the connection was last used has closed its end. */
static bool conn_alive(PGconn *c)
{
	if (!c || PQstatus(c) != CONNECTION_OK)
		return false;
	PGresult *r = PQexec(c, "");
	bool ok = r && PQresultStatus(r) == PGRES_EMPTY_QUERY;
	PQclear(r);
	return ok;
}

PGconn *sched_conn_get(scheduler *s, sched_error *e)
{
	for (;;) {
		pthread_mutex_lock(&s->pool_mu);
		PGconn *c = s->npool ? s->pool[--s->npool] : NULL;
		pthread_mutex_unlock(&s->pool_mu);
		if (!c)
			break;
		if (conn_alive(c))
			return c;
		PQfinish(c);
	}
	char err[512];
	PGconn *c = connect_dsn(s->dsn, err, sizeof err);
	if (!c)
		sched_error_set(e, 500, "%s", err);
	return c;
}

void sched_conn_put(scheduler *s, PGconn *c)
{
	if (!c)
		return;
	if (PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
		PQfinish(c);
		return;
	}
	pthread_mutex_lock(&s->pool_mu);
	if (s->npool == s->cappool) {
		s->cappool = s->cappool ? s->cappool * 2 : 8;
		s->pool = brook_realloc(s->pool, s->cappool * sizeof *s->pool);
	}
	s->pool[s->npool++] = c;
	pthread_mutex_unlock(&s->pool_mu);
}

static void wake_loop(scheduler *s)
{
	pthread_mutex_lock(&s->mu);
	s->wake = true;
	pthread_cond_signal(&s->loop_cv);
	pthread_mutex_unlock(&s->mu);
}

static int64_t retry_delay_ms(const sched_task *t, int try_number)
{
	int64_t d = t->retry_delay_ms;
	if (t->retry_exponential_backoff) {
		for (int i = 1; i < try_number && d < t->max_retry_delay_ms; i++)
			d = d > INT64_MAX / 2 ? INT64_MAX : d * 2;
		if (d > t->max_retry_delay_ms)
			d = t->max_retry_delay_ms;
	}
	return d;
}

static int dag_index(const scheduler *s, const char *dag_id)
{
	for (size_t i = 0; i < s->bag.n; i++)
		if (strcmp(s->bag.dags[i].dag_id, dag_id) == 0)
			return (int)i;
	return -1;
}

/* One line in scheduler.task_log. */
static void log_line(PGconn *c, const char *dag_id, const char *run_id, const char *task_id,
		     int try_number, const char *line)
{
	char tbuf[16], err[256];
	snprintf(tbuf, sizeof tbuf, "%d", try_number);
	const char *p[5] = {dag_id, run_id, task_id, tbuf, line};
	if (pq_cmd(c,
		   "INSERT INTO scheduler.task_log (dag_id, run_id, task_id, try_number, line) "
		   "VALUES ($1, $2, $3, $4::int, $5)",
		   5, p, err, sizeof err) != BROOK_OK)
		brook_warn(COMP, "cannot write a log line of %s/%s/%s: %s", dag_id, run_id,
			   task_id, err);
}

/* ---------------------------------------------------------------- PostgreSQL */

/* A private cluster started by a scheduler (not by `brook postgres`) records the
 * scheduler's pid in DIR/owner.pid, so that when that scheduler dies with SIGKILL and
 * leaves the postmaster running, the next one takes the cluster over (and stops it
 * when it exits) instead of leaving it running forever. */
static void owner_set(const char *dir, bool mine)
{
	char path[4200], pid[32];
	snprintf(path, sizeof path, "%s/owner.pid", dir);
	if (!mine) {
		unlink(path);
		return;
	}
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (brook_file_write_atomic(path, pid, (size_t)n) != BROOK_OK)
		brook_warn(COMP, "cannot write %s: %s", path, strerror(errno));
}

static bool owner_is_gone(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/owner.pid", dir);
	brook_buf b = BROOK_BUF_INIT;
	bool gone = false;
	if (brook_file_read(path, 64, &b) == BROOK_OK && b.len) {
		brook_buf_putc(&b, '\0');
		long pid = strtol((const char *)b.data, NULL, 10);
		gone = pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
	}
	brook_buf_release(&b);
	return gone;
}

/* postgres.dsn, or the private cluster under DATA/postgres (started when it does not
 * answer; *started is then the handle to stop at the end). */
static char *resolve_dsn(const brook_config *cfg, pg_cluster **started, char *err,
			 size_t errlen)
{
	*started = NULL;
	const char *dsn = brook_config_str(cfg, "postgres.dsn");
	if (dsn && *dsn)
		return brook_strdup(dsn);
	const char *data = brook_config_str(cfg, "data");
	const char *listen = brook_config_str(cfg, "postgres.listen");
	char *host = NULL;
	int port = 0;
	if (brook_parse_hostport(listen ? listen : "", &host, &port) != BROOK_OK) {
		snprintf(err, errlen, "postgres.listen: expected HOST:PORT, got '%s'",
			 listen ? listen : "");
		return NULL;
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/postgres", data ? data : ".");
	char e2[512];
	char *have = pg_cluster_read_dsn(dir, host, port ? port : 5433, e2, sizeof e2);
	if (have) {
		PGconn *c = PQconnectdb(have);
		bool ok = PQstatus(c) == CONNECTION_OK;
		PQfinish(c);
		if (ok && !owner_is_gone(dir)) {
			free(host);
			brook_info(COMP, "using the private PostgreSQL cluster in %s", dir);
			return have;
		}
		if (ok)
			brook_warn(COMP, "the private PostgreSQL cluster in %s was left running by "
					 "a scheduler that died: taking it over", dir);
		free(have);
	}
	brook_info(COMP, "starting the private PostgreSQL cluster in %s", dir);
	pg_cluster *pc = pg_cluster_open(dir, host, port, err, errlen);
	free(host);
	if (!pc)
		return NULL;
	brook_info(COMP, "PostgreSQL %s listening on port %d", pg_cluster_version(pc),
		   pg_cluster_port(pc));
	owner_set(dir, true);
	*started = pc;
	return brook_strdup(pg_cluster_dsn(pc));
}

/* Stop a cluster this process started (and give up its ownership). */
static void stop_own_cluster(pg_cluster *pc)
{
	if (!pc)
		return;
	char err[512];
	if (pg_cluster_stop(pc, err, sizeof err) != BROOK_OK)
		brook_warn(COMP, "%s", err);
	char *dir = brook_strdup(pg_cluster_datadir(pc));
	char *slash = strrchr(dir, '/'); /* DIR/pgdata -> DIR */
	if (slash)
		*slash = '\0';
	owner_set(dir, false);
	free(dir);
	pg_cluster_close(pc);
}

static PGconn *connect_migrated(const char *dsn, char *err, size_t errlen)
{
	PGconn *c = connect_dsn(dsn, err, errlen);
	if (!c)
		return NULL;
	char e2[768];
	if (pg_migrate(c, pg_scheduler_migrations, pg_scheduler_migrations_count, e2,
		       sizeof e2) != BROOK_OK) {
		snprintf(err, errlen, "%s", e2);
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Record every DAG of the bag in scheduler.dag (new ones paused per
 * is_paused_upon_creation) and mark the others inactive. */
static int register_dags(scheduler *s, char *err, size_t errlen)
{
	PGconn *c = s->loop_conn;
	for (size_t i = 0; i < s->bag.n; i++) {
		const sched_dag *d = &s->bag.dags[i];
		const char *p[3] = {d->dag_id, d->is_paused_upon_creation ? "true" : "false",
				    d->file ? d->file : ""};
		if (pq_cmd(c,
			   "INSERT INTO scheduler.dag (dag_id, is_paused, fileloc) "
			   "VALUES ($1, $2::boolean, $3) ON CONFLICT (dag_id) DO UPDATE SET "
			   "is_active = true, fileloc = $3, last_parsed_time = now()",
			   3, p, err, errlen) != BROOK_OK)
			return BROOK_ERR;
	}
	PGresult *r = sched_pq(c, "SELECT dag_id FROM scheduler.dag WHERE is_active", 0, NULL,
			       PGRES_TUPLES_OK, err, errlen);
	if (!r)
		return BROOK_ERR;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *id = PQgetvalue(r, i, 0);
		if (dag_index(s, id) >= 0)
			continue;
		brook_warn(COMP, "DAG '%s' is no longer in the configuration: its runs stay in "
				 "the history, none will start", id);
		const char *p[1] = {id};
		pq_cmd(c, "UPDATE scheduler.dag SET is_active = false WHERE dag_id = $1", 1, p,
		       err, errlen);
	}
	PQclear(r);
	return BROOK_OK;
}

/* A task instance found running (or dispatched) by a scheduler that is gone: that try
 * failed; retry or fail per the task's policy. */
static int recover(scheduler *s, char *err, size_t errlen)
{
	PGconn *c = s->loop_conn;
	PGresult *r = sched_pq(c,
			       "SELECT dag_id, run_id, task_id, try_number, max_tries, hostname, "
			       "pid FROM scheduler.task_instance WHERE state = 'running'",
			       0, NULL, PGRES_TUPLES_OK, err, errlen);
	if (!r)
		return BROOK_ERR;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *dag_id = PQgetvalue(r, i, 0), *run_id = PQgetvalue(r, i, 1),
			   *task_id = PQgetvalue(r, i, 2);
		int try_number = atoi(PQgetvalue(r, i, 3));
		int max_tries = atoi(PQgetvalue(r, i, 4));
		int di = dag_index(s, dag_id);
		int ti = di < 0 ? -1 : sched_dag_task_index(&s->bag.dags[di], task_id);
		bool retry = try_number <= max_tries;
		int64_t delay = ti < 0 ? 0
				       : retry_delay_ms(&s->bag.dags[di].tasks[ti], try_number);
		char line[512], when[BROOK_ISO8601_LEN + 1];
		snprintf(line, sizeof line,
			 "the scheduler stopped while try %d ran (pid %s on %s): the try counts "
			 "as failed; %s",
			 try_number, PQgetvalue(r, i, 6), PQgetvalue(r, i, 5),
			 retry ? "it will be retried" : "no tries left, the task failed");
		brook_time_format_iso8601(brook_now_ms() + delay, when);
		const char *p[5] = {dag_id, run_id, task_id, retry ? "up_for_retry" : "failed",
				    when};
		if (pq_cmd(c,
			   "UPDATE scheduler.task_instance SET state = $4, next_retry_at = "
			   "CASE WHEN $4 = 'up_for_retry' THEN $5::timestamptz END, end_date = "
			   "now() WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND state = "
			   "'running'",
			   5, p, err, errlen) != BROOK_OK) {
			PQclear(r);
			return BROOK_ERR;
		}
		log_line(c, dag_id, run_id, task_id, try_number, line);
		brook_warn(COMP, "recovered %s/%s/%s: %s", dag_id, run_id, task_id, line);
	}
	PQclear(r);
	return BROOK_OK;
}

static void open_metrics(scheduler *s)
{
	static const char *const task_labels[] = {"dag_id", "task_id", "outcome", NULL};
	static const char *const run_labels[] = {"dag_id", "state", NULL};
	static const char *const dur_labels[] = {"dag_id", "task_id", NULL};
	static const double dur_bounds[] = {0.01, 0.1, 1, 10, 60, 300, 1800, 7200};
	s->metrics = brook_metrics_new();
	s->m_tries = brook_metrics_family(s->metrics, BROOK_METRIC_COUNTER,
					  "brook_scheduler_task_tries_total",
					  "Task tries finished, by outcome (success, failed, "
					  "up_for_retry, interrupted).", task_labels);
	s->m_runs = brook_metrics_family(s->metrics, BROOK_METRIC_COUNTER,
					 "brook_scheduler_dag_runs_finished_total",
					 "DAG runs finished, by state.", run_labels);
	s->m_duration = brook_metrics_histogram_family(
		s->metrics, "brook_scheduler_task_duration_seconds",
		"Duration of finished task tries.", dur_labels, dur_bounds,
		sizeof dur_bounds / sizeof dur_bounds[0]);
	s->m_running = brook_metrics_gauge(s->metrics, "brook_scheduler_tasks_in_flight",
					   "Task instances handed to workers and not finished.");
	s->m_heartbeat = brook_metrics_gauge(s->metrics,
					     "brook_scheduler_heartbeat_timestamp_seconds",
					     "When the scheduling loop last completed a pass.");
}

void scheduler_render_metrics(scheduler *s, brook_buf *out)
{
	pthread_mutex_lock(&s->mu);
	brook_metric_set(s->m_running, (double)s->ninflight);
	pthread_mutex_unlock(&s->mu);
	brook_metric_set(s->m_heartbeat, (double)atomic_load(&s->heartbeat_ms) / 1000.0);
	brook_metrics_render(s->metrics, out);
}

/* The one-scheduler-per-database session lock. BROOK_OK; BROOK_AGAIN when another
 * session holds it; BROOK_ERR. */
static int take_lock(PGconn *c, char *err, size_t errlen)
{
	char lk[32], e2[512];
	snprintf(lk, sizeof lk, "%lld", (long long)LOCK_KEY);
	const char *p[1] = {lk};
	PGresult *r = sched_pq(c, "SELECT pg_try_advisory_lock($1::bigint)", 1, p,
			       PGRES_TUPLES_OK, e2, sizeof e2);
	if (!r) {
		snprintf(err, errlen, "cannot take the scheduler lock: %s", e2);
		return BROOK_ERR;
	}
	bool locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!locked) {
		snprintf(err, errlen, "another scheduler is running on this database (it holds "
				      "advisory lock %lld); stop it first", (long long)LOCK_KEY);
		return BROOK_AGAIN;
	}
	return BROOK_OK;
}

/* ---------------------------------------------------------------- open / close */

scheduler *scheduler_open(const brook_config *cfg, char *err, size_t errlen)
{
	scheduler *s = brook_calloc(1, sizeof *s);
	s->cfg = cfg;
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->job_cv, NULL);
	pthread_cond_init(&s->loop_cv, NULL);
	open_metrics(s);
	s->tick_ms = brook_config_duration_ms(cfg, "scheduler.tick");
	if (s->tick_ms < 10)
		s->tick_ms = 10;
	int64_t par = brook_config_int(cfg, "scheduler.parallelism");
	if (par < 1 || par > 256) {
		snprintf(err, errlen, "scheduler.parallelism must be 1..256, got %lld",
			 (long long)par);
		goto fail;
	}
	s->nworkers = (int)par;
	if (gethostname(s->hostname, sizeof s->hostname - 1) != 0)
		snprintf(s->hostname, sizeof s->hostname, "localhost");

	if (sched_dagbag_load(brook_config_tree(cfg, "scheduler.dags"), &s->bag, err, errlen) !=
	    BROOK_OK)
		goto fail;
	s->paused = brook_calloc(s->bag.n ? s->bag.n : 1, sizeof *s->paused);
	s->dsn = resolve_dsn(cfg, &s->cluster, err, errlen);
	if (!s->dsn)
		goto fail;
	s->loop_conn = connect_migrated(s->dsn, err, errlen);
	if (!s->loop_conn)
		goto fail;
	if (take_lock(s->loop_conn, err, errlen) != BROOK_OK)
		goto fail;
	s->locked = true;
	if (register_dags(s, err, errlen) != BROOK_OK || recover(s, err, errlen) != BROOK_OK)
		goto fail;
	brook_info(COMP, "%zu DAG%s loaded; run history in PostgreSQL", s->bag.n,
		   s->bag.n == 1 ? "" : "s");
	return s;
fail:
	scheduler_close(s);
	return NULL;
}

const sched_dagbag *scheduler_dags(const scheduler *s) { return &s->bag; }
const char *scheduler_dsn(const scheduler *s) { return s->dsn; }
int64_t scheduler_heartbeat_ms(const scheduler *s) { return atomic_load(&s->heartbeat_ms); }

void scheduler_close(scheduler *s)
{
	if (!s)
		return;
	scheduler_stop(s);
	if (s->loop_conn)
		PQfinish(s->loop_conn);
	for (size_t i = 0; i < s->npool; i++)
		PQfinish(s->pool[i]);
	free(s->pool);
	stop_own_cluster(s->cluster);
	free(s->dsn);
	free(s->paused);
	sched_dagbag_free(&s->bag);
	free(s->inflight);
	brook_metrics_free(s->metrics);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->job_cv);
	pthread_cond_destroy(&s->loop_cv);
	free(s);
}

/* ---------------------------------------------------------------- run creation */

/* INSERT a run and its task instances in one transaction. BROOK_OK (created),
 * BROOK_AGAIN (a run with that id or logical date exists), BROOK_ERR. */
static int insert_run(PGconn *c, const sched_dag *d, const char *run_id, int64_t logical,
		      int64_t istart, int64_t iend, const char *run_type, const char *conf,
		      char *err, size_t errlen)
{
	char l[BROOK_ISO8601_LEN + 1], a[BROOK_ISO8601_LEN + 1], b[BROOK_ISO8601_LEN + 1];
	brook_time_format_iso8601(logical, l);
	brook_time_format_iso8601(istart, a);
	brook_time_format_iso8601(iend, b);
	if (pq_cmd(c, "BEGIN", 0, NULL, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	const char *p[7] = {d->dag_id, run_id, l, a, b, run_type, conf ? conf : "{}"};
	PGresult *r = sched_pq(c,
			       "INSERT INTO scheduler.dag_run (dag_id, run_id, logical_date, "
			       "data_interval_start, data_interval_end, run_type, state, conf) "
			       "VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7::jsonb) "
			       "ON CONFLICT DO NOTHING",
			       7, p, PGRES_COMMAND_OK, err, errlen);
	if (!r)
		goto rollback;
	bool inserted = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!inserted) {
		PGresult *x = PQexec(c, "ROLLBACK");
		PQclear(x);
		return BROOK_AGAIN;
	}
	for (size_t i = 0; i < d->ntasks; i++) {
		char mt[16];
		snprintf(mt, sizeof mt, "%d", d->tasks[i].retries);
		const char *q[5] = {d->dag_id, run_id, d->tasks[i].task_id, mt,
				    d->tasks[i].op->name};
		if (pq_cmd(c,
			   "INSERT INTO scheduler.task_instance (dag_id, run_id, task_id, "
			   "max_tries, operator) VALUES ($1, $2, $3, $4::int, $5)",
			   5, q, err, errlen) != BROOK_OK)
			goto rollback;
	}
	if (pq_cmd(c, "COMMIT", 0, NULL, err, errlen) != BROOK_OK)
		goto rollback;
	return BROOK_OK;
rollback:;
	PGresult *x = PQexec(c, "ROLLBACK");
	PQclear(x);
	return BROOK_ERR;
}

static void run_id_for(const char *type, int64_t logical, char *out, size_t n)
{
	char ts[SCHED_TS_LEN];
	sched_ts_format(logical, ts);
	snprintf(out, n, "%s__%s", type, ts);
}

/* The latest interval [*start, *end) that ended at or before now, or BROOK_AGAIN. */
static int latest_interval(const sched_dag *d, int64_t now, int64_t *start, int64_t *end)
{
	/* Walk fire times from a window before now, doubling the window until two fire
	 * times at or before now are found (cron has no "previous" operation). */
	for (int64_t win = 3600000; win <= (int64_t)CRON_HORIZON_YEARS * 366 * 86400000LL;
	     win *= 4) {
		int64_t t = now - win, prev = INT64_MIN, last = INT64_MIN, f;
		if (t < d->start_date_ms)
			t = d->start_date_ms;
		if (sched_dag_first_fire_at_or_after(d, t, &f) != BROOK_OK)
			return BROOK_AGAIN;
		int guard = 0;
		while (f <= now && guard++ < 100000) {
			prev = last;
			last = f;
			if (sched_dag_interval_end(d, f, &f) != BROOK_OK)
				break;
		}
		if (prev != INT64_MIN) {
			*start = prev;
			*end = last;
			return BROOK_OK;
		}
		if (t == d->start_date_ms)
			return BROOK_AGAIN; /* the first interval has not ended yet */
	}
	return BROOK_AGAIN;
}

static void create_scheduled_runs(scheduler *s, size_t di, int64_t now)
{
	const sched_dag *d = &s->bag.dags[di];
	cron_kind kind = cron_expr_kind(d->schedule);
	if (kind == CRON_NEVER)
		return;
	char err[512];
	const char *p[1] = {d->dag_id};
	PGresult *r = sched_pq(s->loop_conn,
			       "SELECT " SCHED_MS("max(logical_date)") " FROM scheduler.dag_run "
			       "WHERE dag_id = $1 AND run_type = 'scheduled'",
			       1, p, PGRES_TUPLES_OK, err, sizeof err);
	if (!r) {
		brook_warn(COMP, "cannot read the runs of DAG '%s': %s", d->dag_id, err);
		return;
	}
	bool have_last = !PQgetisnull(r, 0, 0);
	int64_t last = sched_ts_ms(r, 0, 0);
	PQclear(r);

	if (kind == CRON_ONCE) {
		if (have_last || d->start_date_ms > now)
			return;
		char run_id[128];
		run_id_for("scheduled", d->start_date_ms, run_id, sizeof run_id);
		if (insert_run(s->loop_conn, d, run_id, d->start_date_ms, d->start_date_ms,
			       d->start_date_ms, "scheduled", NULL, err, sizeof err) == BROOK_ERR)
			brook_warn(COMP, "cannot create run %s of DAG '%s': %s", run_id,
				   d->dag_id, err);
		return;
	}
	int64_t next, next_end;
	if (have_last) {
		if (sched_dag_interval_end(d, last, &next) != BROOK_OK)
			return;
	} else if (sched_dag_first_fire_at_or_after(d, d->start_date_ms, &next) != BROOK_OK) {
		return;
	}
	if (sched_dag_interval_end(d, next, &next_end) != BROOK_OK || next_end > now)
		return; /* nothing due */
	if (!d->catchup) {
		int64_t ls, le;
		if (latest_interval(d, now, &ls, &le) != BROOK_OK || ls < next)
			return;
		next = ls;
		next_end = le;
	}
	for (int n = 0; n < MAX_RUNS_PER_PASS && next_end <= now && next <= d->end_date_ms; n++) {
		char run_id[128];
		run_id_for("scheduled", next, run_id, sizeof run_id);
		int rc = insert_run(s->loop_conn, d, run_id, next, next, next_end, "scheduled",
				    NULL, err, sizeof err);
		if (rc == BROOK_ERR) {
			brook_warn(COMP, "cannot create run %s of DAG '%s': %s", run_id, d->dag_id,
				   err);
			return;
		}
		if (rc == BROOK_OK) {
			char a[SCHED_TS_LEN], b[SCHED_TS_LEN];
			sched_ts_format(next, a);
			sched_ts_format(next_end, b);
			brook_info(COMP, "DAG '%s': created run %s for [%s, %s)", d->dag_id,
				   run_id, a, b);
		}
		next = next_end;
		if (sched_dag_interval_end(d, next, &next_end) != BROOK_OK)
			return;
	}
}

/* ---------------------------------------------------------------- the loop's passes */

static void refresh_paused(scheduler *s)
{
	char err[512];
	PGresult *r = sched_pq(s->loop_conn, "SELECT dag_id, is_paused FROM scheduler.dag", 0,
			       NULL, PGRES_TUPLES_OK, err, sizeof err);
	if (!r) {
		brook_warn(COMP, "cannot read the DAGs' pause flags: %s", err);
		return;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		int di = dag_index(s, PQgetvalue(r, i, 0));
		if (di >= 0)
			s->paused[di] = strcmp(PQgetvalue(r, i, 1), "t") == 0;
	}
	PQclear(r);
}

/* queued -> running while fewer than max_active_runs run (backfills ignore pause). */
static void start_queued_runs(scheduler *s)
{
	char err[512];
	PGresult *r = sched_pq(s->loop_conn,
			       "SELECT dag_id, run_id, run_type, state FROM scheduler.dag_run "
			       "WHERE state IN ('queued', 'running') "
			       "ORDER BY dag_id, logical_date, run_id",
			       0, NULL, PGRES_TUPLES_OK, err, sizeof err);
	if (!r) {
		brook_warn(COMP, "cannot read the active runs: %s", err);
		return;
	}
	int n = PQntuples(r);
	int *running = brook_calloc(s->bag.n ? s->bag.n : 1, sizeof *running);
	for (int i = 0; i < n; i++) {
		int di = dag_index(s, PQgetvalue(r, i, 0));
		if (di >= 0 && strcmp(PQgetvalue(r, i, 3), "running") == 0)
			running[di]++;
	}
	for (int i = 0; i < n; i++) {
		int di = dag_index(s, PQgetvalue(r, i, 0));
		if (di < 0 || strcmp(PQgetvalue(r, i, 3), "queued") != 0)
			continue;
		bool backfill = strcmp(PQgetvalue(r, i, 2), "backfill") == 0;
		if ((s->paused[di] && !backfill) || running[di] >= s->bag.dags[di].max_active_runs)
			continue;
		const char *p[2] = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)};
		if (pq_cmd(s->loop_conn,
			   "UPDATE scheduler.dag_run SET state = 'running', start_date = now() "
			   "WHERE dag_id = $1 AND run_id = $2 AND state = 'queued'",
			   2, p, err, sizeof err) == BROOK_OK) {
			running[di]++;
			brook_info(COMP, "DAG '%s': run %s started", p[0], p[1]);
		} else {
			brook_warn(COMP, "cannot start run %s of DAG '%s': %s", p[1], p[0], err);
		}
	}
	free(running);
	PQclear(r);
}

typedef enum {
	TI_NONE = 0,
	TI_QUEUED,
	TI_RUNNING,
	TI_SUCCESS,
	TI_FAILED,
	TI_UP_FOR_RETRY,
	TI_UPSTREAM_FAILED,
	TI_SKIPPED,
	TI_MISSING, /* no row: a task added to the DAG after the run was created */
} ti_state;

static const char *const ti_names[] = {
	[TI_NONE] = NULL,
	[TI_QUEUED] = "queued",
	[TI_RUNNING] = "running",
	[TI_SUCCESS] = "success",
	[TI_FAILED] = "failed",
	[TI_UP_FOR_RETRY] = "up_for_retry",
	[TI_UPSTREAM_FAILED] = "upstream_failed",
	[TI_SKIPPED] = "skipped",
};

static ti_state ti_parse(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return TI_NONE;
	const char *v = PQgetvalue(r, row, col);
	for (int i = TI_QUEUED; i <= TI_SKIPPED; i++)
		if (strcmp(v, ti_names[i]) == 0)
			return (ti_state)i;
	return TI_NONE;
}

static bool ti_final(ti_state t)
{
	return t == TI_SUCCESS || t == TI_FAILED || t == TI_UPSTREAM_FAILED || t == TI_SKIPPED;
}

static bool ti_failed(ti_state t) { return t == TI_FAILED || t == TI_UPSTREAM_FAILED; }

/* What a task in state none becomes given its upstreams: TI_QUEUED, a final state, or
 * TI_NONE (wait). */
static ti_state decide(const sched_task *t, const ti_state *st)
{
	size_t done = 0, failed = 0, skipped = 0;
	for (size_t k = 0; k < t->nupstream; k++) {
		ti_state u = st[t->upstream[k]];
		done += ti_final(u);
		failed += ti_failed(u);
		skipped += u == TI_SKIPPED;
	}
	bool all_done = done == t->nupstream;
	switch (t->trigger_rule) {
	case SCHED_TRIGGER_ALL_SUCCESS:
		if (failed)
			return TI_UPSTREAM_FAILED;
		if (skipped)
			return TI_SKIPPED;
		return all_done ? TI_QUEUED : TI_NONE;
	case SCHED_TRIGGER_ALL_DONE:
		return all_done ? TI_QUEUED : TI_NONE;
	case SCHED_TRIGGER_ONE_FAILED:
		if (failed)
			return TI_QUEUED;
		return all_done ? TI_SKIPPED : TI_NONE;
	case SCHED_TRIGGER_NONE_FAILED:
		if (failed)
			return TI_UPSTREAM_FAILED;
		return all_done ? TI_QUEUED : TI_NONE;
	}
	return TI_NONE;
}

/* Evaluate one running run whose task states are st[] (DAG order). */
static void evaluate_run(scheduler *s, const sched_dag *d, const char *run_id, ti_state *st,
			 const int64_t *retry_at, int64_t now)
{
	char err[512];
	for (size_t i = 0; i < d->ntasks; i++) {
		const sched_task *t = &d->tasks[i];
		const char *p[4] = {d->dag_id, run_id, t->task_id, NULL};
		if (st[i] == TI_MISSING) {
			char mt[16];
			snprintf(mt, sizeof mt, "%d", t->retries);
			const char *q[5] = {d->dag_id, run_id, t->task_id, mt, t->op->name};
			pq_cmd(s->loop_conn,
			       "INSERT INTO scheduler.task_instance (dag_id, run_id, task_id, "
			       "max_tries, operator) VALUES ($1, $2, $3, $4::int, $5) "
			       "ON CONFLICT DO NOTHING",
			       5, q, err, sizeof err);
			st[i] = TI_NONE;
		}
		if (st[i] == TI_UP_FOR_RETRY && retry_at[i] <= now) {
			if (pq_cmd(s->loop_conn,
				   "UPDATE scheduler.task_instance SET state = 'queued', "
				   "queued_at = now() WHERE dag_id = $1 AND run_id = $2 AND "
				   "task_id = $3 AND state = 'up_for_retry'",
				   3, p, err, sizeof err) == BROOK_OK)
				st[i] = TI_QUEUED;
			continue;
		}
		if (st[i] != TI_NONE)
			continue;
		ti_state next = decide(t, st);
		if (next == TI_NONE)
			continue;
		p[3] = ti_names[next];
		if (pq_cmd(s->loop_conn,
			   "UPDATE scheduler.task_instance SET state = $4, queued_at = "
			   "CASE WHEN $4 = 'queued' THEN now() END, end_date = CASE WHEN $4 <> "
			   "'queued' THEN now() END WHERE dag_id = $1 AND run_id = $2 AND "
			   "task_id = $3 AND state IS NULL",
			   4, p, err, sizeof err) == BROOK_OK)
			st[i] = next;
		else
			brook_warn(COMP, "cannot update %s/%s/%s: %s", d->dag_id, run_id,
				   t->task_id, err);
	}
	/* Finished when every task is final; failed when a leaf failed. */
	bool all_final = true, leaf_failed = false;
	for (size_t i = 0; i < d->ntasks; i++) {
		all_final &= ti_final(st[i]);
		bool leaf = true;
		for (size_t j = i + 1; j < d->ntasks && leaf; j++)
			for (size_t k = 0; k < d->tasks[j].nupstream; k++)
				if (d->tasks[j].upstream[k] == i)
					leaf = false;
		if (leaf && ti_failed(st[i]))
			leaf_failed = true;
	}
	if (!all_final)
		return;
	const char *state = leaf_failed ? "failed" : "success";
	const char *p[3] = {d->dag_id, run_id, state};
	if (pq_cmd(s->loop_conn,
		   "UPDATE scheduler.dag_run SET state = $3, end_date = now() "
		   "WHERE dag_id = $1 AND run_id = $2 AND state = 'running'",
		   3, p, err, sizeof err) == BROOK_OK)
	{
		brook_log(leaf_failed ? BROOK_LOG_WARN : BROOK_LOG_INFO, COMP,
			  "DAG '%s': run %s %s", d->dag_id, run_id, state);
		brook_metric_inc(brook_metrics_series(s->m_runs,
						      (const char *[]){d->dag_id, state, NULL}));
	} else
		brook_warn(COMP, "cannot finish run %s of DAG '%s': %s", run_id, d->dag_id, err);
}

static void schedule_tasks(scheduler *s, int64_t now)
{
	char err[512];
	PGresult *r = sched_pq(s->loop_conn,
			       "SELECT r.dag_id, r.run_id, ti.task_id, ti.state, "
			       SCHED_MS("ti.next_retry_at") " FROM scheduler.dag_run r "
			       "LEFT JOIN scheduler.task_instance ti "
			       "ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id "
			       "WHERE r.state = 'running' ORDER BY r.dag_id, r.run_id",
			       0, NULL, PGRES_TUPLES_OK, err, sizeof err);
	if (!r) {
		brook_warn(COMP, "cannot read the running runs: %s", err);
		return;
	}
	int n = PQntuples(r);
	for (int i = 0; i < n;) {
		int j = i;
		while (j < n && strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, i, 0)) == 0 &&
		       strcmp(PQgetvalue(r, j, 1), PQgetvalue(r, i, 1)) == 0)
			j++;
		int di = dag_index(s, PQgetvalue(r, i, 0));
		if (di >= 0) {
			const sched_dag *d = &s->bag.dags[di];
			ti_state *st = brook_malloc(d->ntasks * sizeof *st);
			int64_t *retry_at = brook_calloc(d->ntasks, sizeof *retry_at);
			for (size_t k = 0; k < d->ntasks; k++)
				st[k] = TI_MISSING;
			for (int k = i; k < j; k++) {
				if (PQgetisnull(r, k, 2))
					continue;
				int ti = sched_dag_task_index(d, PQgetvalue(r, k, 2));
				if (ti < 0)
					continue;
				st[ti] = ti_parse(r, k, 3);
				retry_at[ti] = sched_ts_ms(r, k, 4);
			}
			evaluate_run(s, d, PQgetvalue(r, i, 1), st, retry_at, now);
			free(st);
			free(retry_at);
		}
		i = j;
	}
	PQclear(r);
}

static bool is_inflight(scheduler *s, size_t di, size_t ti, const char *run_id)
{
	for (size_t i = 0; i < s->ninflight; i++) {
		sched_job *j = s->inflight[i];
		if (j->dag == di && j->task == ti && strcmp(j->run_id, run_id) == 0)
			return true;
	}
	return false;
}

static void job_free(sched_job *j)
{
	if (!j)
		return;
	free(j->run_id);
	free(j->conf);
	free(j);
}

/* Hand queued task instances to the workers: up to QUEUE_FACTOR jobs per worker in
 * flight, so a worker finds its next job waiting. The worker moves the instance to
 * running itself (claim_job). */
#define QUEUE_FACTOR 2
static void dispatch(scheduler *s)
{
	size_t cap = (size_t)s->nworkers * QUEUE_FACTOR;
	pthread_mutex_lock(&s->mu);
	size_t busy = s->ninflight;
	pthread_mutex_unlock(&s->mu);
	if (busy >= cap)
		return;
	char err[512], lim[16];
	snprintf(lim, sizeof lim, "%zu", cap + busy);
	const char *lp[1] = {lim};
	PGresult *r = sched_pq(s->loop_conn,
			       "SELECT ti.dag_id, ti.run_id, ti.task_id, r.conf::text, "
			       SCHED_MS("r.logical_date") ", " SCHED_MS("r.data_interval_start")
			       ", " SCHED_MS("r.data_interval_end") " "
			       "FROM scheduler.task_instance ti JOIN scheduler.dag_run r "
			       "ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id "
			       "WHERE ti.state = 'queued' AND r.state = 'running' "
			       "ORDER BY r.logical_date, ti.queued_at LIMIT $1::int",
			       1, lp, PGRES_TUPLES_OK, err, sizeof err);
	if (!r) {
		brook_warn(COMP, "cannot read the queued task instances: %s", err);
		return;
	}
	for (int i = 0; i < PQntuples(r) && busy < cap; i++) {
		int di = dag_index(s, PQgetvalue(r, i, 0));
		if (di < 0)
			continue;
		int ti = sched_dag_task_index(&s->bag.dags[di], PQgetvalue(r, i, 2));
		if (ti < 0)
			continue;
		pthread_mutex_lock(&s->mu);
		/* Once stopping, nothing new is queued: the workers may be gone. */
		bool dup = s->stopping || is_inflight(s, (size_t)di, (size_t)ti,
						      PQgetvalue(r, i, 1));
		if (!dup) {
			sched_job *j = brook_calloc(1, sizeof *j);
			j->dag = (size_t)di;
			j->task = (size_t)ti;
			j->run_id = brook_strdup(PQgetvalue(r, i, 1));
			j->conf = brook_strdup(PQgetvalue(r, i, 3));
			j->logical_ms = sched_ts_ms(r, i, 4);
			j->interval_start_ms = sched_ts_ms(r, i, 5);
			j->interval_end_ms = sched_ts_ms(r, i, 6);
			s->inflight = brook_realloc(s->inflight,
						    (s->ninflight + 1) * sizeof *s->inflight);
			s->inflight[s->ninflight++] = j;
			if (s->qtail)
				s->qtail->next = j;
			else
				s->qhead = j;
			s->qtail = j;
			pthread_cond_signal(&s->job_cv);
			busy++;
		}
		pthread_mutex_unlock(&s->mu);
	}
	PQclear(r);
}

/* queued -> running for the job a worker took: sets its try number and deadline.
 * false when the instance is no longer queued (nothing to run). */
static bool claim_job(scheduler *s, PGconn *c, sched_job *j)
{
	const sched_dag *d = &s->bag.dags[j->dag];
	const sched_task *t = &d->tasks[j->task];
	char err[512], pid[16];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	const char *p[5] = {d->dag_id, j->run_id, t->task_id, s->hostname, pid};
	PGresult *u = sched_pq(c,
			       "UPDATE scheduler.task_instance SET state = 'running', "
			       "try_number = try_number + 1, start_date = now(), end_date = NULL, "
			       "next_retry_at = NULL, hostname = $4, pid = $5::int "
			       "WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND "
			       "state = 'queued' RETURNING try_number, max_tries",
			       5, p, PGRES_TUPLES_OK, err, sizeof err);
	if (!u) {
		brook_warn(COMP, "cannot start %s/%s/%s: %s", d->dag_id, j->run_id, t->task_id,
			   err);
		return false;
	}
	bool ok = PQntuples(u) == 1;
	if (ok) {
		j->try_number = atoi(PQgetvalue(u, 0, 0));
		j->max_tries = atoi(PQgetvalue(u, 0, 1));
		j->started_mono_ms = brook_mono_ms();
		j->deadline_mono_ms = t->execution_timeout_ms
					      ? brook_mono_ms() + t->execution_timeout_ms
					      : 0;
	}
	PQclear(u);
	return ok;
}

/* Cancel jobs past their execution_timeout. */
static void watchdog(scheduler *s)
{
	int64_t now = brook_mono_ms();
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->ninflight; i++) {
		sched_job *j = s->inflight[i];
		if (j->deadline_mono_ms && now >= j->deadline_mono_ms)
			atomic_store(&j->cancel, CANCEL_TIMEOUT);
	}
	pthread_mutex_unlock(&s->mu);
}

static void pass(scheduler *s)
{
	if (PQstatus(s->loop_conn) != CONNECTION_OK) {
		s->locked = false; /* a session lock ends with its session */
		PQreset(s->loop_conn);
		if (PQstatus(s->loop_conn) != CONNECTION_OK) {
			int64_t now = brook_mono_ms();
			if (!s->down_since || now - s->down_warned >= 30000) {
				char msg[512];
				sched_one_line(PQerrorMessage(s->loop_conn), msg, sizeof msg);
				brook_warn(COMP, "PostgreSQL is unreachable (%s); scheduling waits "
						 "until it is back", msg);
				s->down_warned = now;
				if (!s->down_since)
					s->down_since = now;
			}
			return;
		}
		PQsetNoticeProcessor(s->loop_conn, quiet_notice, NULL);
		brook_info(COMP, "reconnected to PostgreSQL after %lld ms",
			   (long long)(brook_mono_ms() - s->down_since));
		s->down_since = 0;
	}
	if (!s->locked) {
		char err[512];
		int rc = take_lock(s->loop_conn, err, sizeof err);
		if (rc != BROOK_OK) {
			brook_warn(COMP, "%s; not scheduling until it is free", err);
			return;
		}
		s->locked = true;
	}
	int64_t now = brook_now_ms();
	refresh_paused(s);
	if (PQstatus(s->loop_conn) != CONNECTION_OK) {
		s->down_since = s->down_warned = brook_mono_ms();
		brook_warn(COMP, "lost the connection to PostgreSQL; reconnecting");
		return;
	}
	for (size_t i = 0; i < s->bag.n; i++)
		if (!s->paused[i])
			create_scheduled_runs(s, i, now);
	/* The runs' and task instances' state changes of one pass commit together. */
	PGresult *b = PQexec(s->loop_conn, "BEGIN");
	PQclear(b);
	start_queued_runs(s);
	schedule_tasks(s, now);
	b = PQexec(s->loop_conn, PQtransactionStatus(s->loop_conn) == PQTRANS_INERROR
					 ? "ROLLBACK" : "COMMIT");
	PQclear(b);
	dispatch(s);
	watchdog(s);
	atomic_store(&s->heartbeat_ms, brook_now_ms());
}

/* ---------------------------------------------------------------- workers */

/* A try's log in scheduler.task_log is bounded: past TASK_LOG_MAX_BYTES one line says
 * so and the rest is dropped (a chatty command must not fill the database). */
#define TASK_LOG_MAX_BYTES (4u << 20)

typedef struct log_sink {
	PGconn *c;
	const sched_job *j;
	const char *dag_id, *task_id;
	size_t bytes;
} log_sink;

static void sink_line(void *arg, const char *line)
{
	log_sink *k = arg;
	if (k->bytes > TASK_LOG_MAX_BYTES)
		return;
	k->bytes += strlen(line) + 1;
	if (k->bytes > TASK_LOG_MAX_BYTES)
		line = "(the log of this try passed 4 MiB: further lines are dropped)";
	log_line(k->c, k->dag_id, k->j->run_id, k->task_id, k->j->try_number, line);
}

static void stderr_line(void *arg, const char *line)
{
	log_sink *k = arg;
	brook_info(COMP, "%s/%s: %s", k->dag_id, k->task_id, line);
}

/* Run the operator of job j, its log lines to scheduler.task_log on c (or, when c is
 * NULL, to the process log). */
static int run_operator(const brook_config *cfg, const char *dsn, const sched_dag *d,
			const sched_task *t, sched_job *j, PGconn *c, json_t **result, char *err,
			size_t errlen)
{
	*result = NULL;
	json_error_t je;
	json_t *conf = j->conf && *j->conf ? json_loads(j->conf, 0, &je) : NULL;
	json_t *params = sched_task_params(t, conf, err, errlen);
	json_decref(conf);
	if (!params)
		return BROOK_ERR;
	log_sink sink = {c, j, d->dag_id, t->task_id, 0};
	sched_task_ctx ctx = {
		.dag_id = d->dag_id,
		.run_id = j->run_id,
		.task_id = t->task_id,
		.try_number = j->try_number,
		.logical_date_ms = j->logical_ms,
		.data_interval_start_ms = j->interval_start_ms,
		.data_interval_end_ms = j->interval_end_ms,
		.params = params,
		.pg_dsn = dsn,
		.cfg = cfg,
		.cancel = &j->cancel,
		.deadline_mono_ms = j->deadline_mono_ms,
		.log = c ? sink_line : stderr_line,
		.log_arg = &sink,
	};
	int rc = t->op->run(&ctx, err, errlen);
	if (rc != BROOK_OK && atomic_load(&j->cancel) == CANCEL_TIMEOUT)
		snprintf(err, errlen, "timed out: execution_timeout of %lld ms passed",
			 (long long)t->execution_timeout_ms);
	*result = ctx.result;
	json_decref(params);
	return rc;
}

static void finish_job(scheduler *s, PGconn *c, sched_job *j, int rc, const char *msg,
		       json_t *result)
{
	const sched_dag *d = &s->bag.dags[j->dag];
	const sched_task *t = &d->tasks[j->task];
	char err[512], tn[16], when[BROOK_ISO8601_LEN + 1], line[1024];
	snprintf(tn, sizeof tn, "%d", j->try_number);
	const char *state;
	int64_t delay = 0;
	if (rc == BROOK_OK) {
		state = "success";
		snprintf(line, sizeof line, "try %d succeeded", j->try_number);
	} else if (atomic_load(&j->cancel) == CANCEL_SHUTDOWN) {
		state = NULL; /* not the task's fault: it runs again, same try number */
		snprintf(line, sizeof line, "try %d interrupted by the scheduler's shutdown; it "
			 "will run again", j->try_number);
	} else if (j->try_number <= j->max_tries) {
		state = "up_for_retry";
		delay = retry_delay_ms(t, j->try_number);
		snprintf(line, sizeof line, "try %d failed: %s; retrying in %lld ms (try %d of %d)",
			 j->try_number, msg, (long long)delay, j->try_number + 1,
			 j->max_tries + 1);
	} else {
		state = "failed";
		snprintf(line, sizeof line, "try %d failed: %s; no tries left", j->try_number,
			 msg);
	}
	log_line(c, d->dag_id, j->run_id, t->task_id, j->try_number, line);
	brook_metric_inc(brook_metrics_series(
		s->m_tries, (const char *[]){d->dag_id, t->task_id,
					     state ? state : "interrupted", NULL}));
	brook_metric_observe(brook_metrics_series(s->m_duration,
						  (const char *[]){d->dag_id, t->task_id, NULL}),
			     (double)(brook_mono_ms() - j->started_mono_ms) / 1000.0);
	if (rc == BROOK_OK)
		brook_info(COMP, "%s/%s/%s: %s", d->dag_id, j->run_id, t->task_id, line);
	else
		brook_warn(COMP, "%s/%s/%s: %s", d->dag_id, j->run_id, t->task_id, line);
	brook_time_format_iso8601(brook_now_ms() + delay, when);
	const char *p[6] = {d->dag_id, j->run_id, t->task_id, tn, state, when};
	int urc;
	if (!state)
		urc = pq_cmd(c,
			     "UPDATE scheduler.task_instance SET state = NULL, try_number = "
			     "try_number - 1 WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 "
			     "AND try_number = $4::int AND state = 'running'",
			     4, p, err, sizeof err);
	else
		urc = pq_cmd(c,
			     "UPDATE scheduler.task_instance SET state = $5, end_date = now(), "
			     "next_retry_at = CASE WHEN $5 = 'up_for_retry' THEN "
			     "$6::timestamptz END WHERE dag_id = $1 AND run_id = $2 AND "
			     "task_id = $3 AND try_number = $4::int AND state = 'running'",
			     6, p, err, sizeof err);
	if (urc != BROOK_OK)
		brook_error(COMP, "cannot record the outcome of %s/%s/%s: %s", d->dag_id,
			    j->run_id, t->task_id, err);
	if (result && rc == BROOK_OK) {
		char *v = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		const char *q[4] = {d->dag_id, j->run_id, t->task_id, v};
		if (pq_cmd(c,
			   "INSERT INTO scheduler.xcom (dag_id, run_id, task_id, key, value) "
			   "VALUES ($1, $2, $3, 'return_value', $4::jsonb) ON CONFLICT "
			   "(dag_id, run_id, task_id, key) DO UPDATE SET value = $4::jsonb",
			   4, q, err, sizeof err) != BROOK_OK)
			brook_warn(COMP, "cannot store the result of %s/%s/%s: %s", d->dag_id,
				   j->run_id, t->task_id, err);
		free(v);
	}
}

static void *worker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "sched-worker");
	scheduler *s = arg;
	PGconn *c = NULL;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->qhead && !s->stopping)
			pthread_cond_wait(&s->job_cv, &s->mu);
		sched_job *j = s->qhead;
		if (j) {
			s->qhead = j->next;
			if (!s->qhead)
				s->qtail = NULL;
		}
		bool stop = s->stopping;
		pthread_mutex_unlock(&s->mu);
		if (!j && stop)
			break;
		/* A job not started when the scheduler stops stays queued in PostgreSQL for
		 * the next scheduler. A lost connection: try again, the job waits. */
		if (!stop && !conn_alive(c)) {
			char err[512];
			if (c)
				PQfinish(c);
			c = connect_dsn(s->dsn, err, sizeof err);
			if (!c) {
				brook_warn(COMP, "worker: %s; retrying in 1 s", err);
				brook_sleep_ms(1000);
			}
		}
		const sched_dag *d = &s->bag.dags[j->dag];
		const sched_task *t = &d->tasks[j->task];
		if (!stop && c && claim_job(s, c, j)) {
			char err[1024] = "";
			json_t *result = NULL;
			brook_info(COMP, "%s/%s/%s: try %d started (%s)", d->dag_id, j->run_id,
				   t->task_id, j->try_number, t->op->name);
			int rc = run_operator(s->cfg, s->dsn, d, t, j, c, &result, err, sizeof err);
			finish_job(s, c, j, rc, err, result);
			json_decref(result);
		}
		pthread_mutex_lock(&s->mu);
		for (size_t i = 0; i < s->ninflight; i++)
			if (s->inflight[i] == j) {
				s->inflight[i] = s->inflight[--s->ninflight];
				break;
			}
		s->wake = true;
		pthread_cond_signal(&s->loop_cv);
		pthread_mutex_unlock(&s->mu);
		job_free(j);
	}
	if (c)
		PQfinish(c);
	return NULL;
}

/* ---------------------------------------------------------------- start / run / stop */

/* Workers start once, never after a stop (both under s->mu: scheduler_run may start
 * them on its thread while scheduler_stop runs on another). */
static void start_workers(scheduler *s)
{
	pthread_mutex_lock(&s->mu);
	if (!s->workers && !s->stopping) {
		s->workers = brook_calloc((size_t)s->nworkers, sizeof *s->workers);
		for (int i = 0; i < s->nworkers; i++)
			pthread_create(&s->workers[i], NULL, worker_main, s);
	}
	pthread_mutex_unlock(&s->mu);
}

static bool stopping(scheduler *s)
{
	pthread_mutex_lock(&s->mu);
	bool stop = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

void scheduler_run(scheduler *s)
{
	start_workers(s);
	while (!stopping(s)) {
		pass(s);
		pthread_mutex_lock(&s->mu);
		if (!s->wake && !s->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = ts.tv_nsec + (s->tick_ms % 1000) * 1000000;
			ts.tv_sec += s->tick_ms / 1000 + ns / 1000000000;
			ts.tv_nsec = ns % 1000000000;
			pthread_cond_timedwait(&s->loop_cv, &s->mu, &ts);
		}
		s->wake = false;
		pthread_mutex_unlock(&s->mu);
	}
}

static void *loop_main(void *arg)
{
	pthread_setname_np(pthread_self(), "sched-loop");
	scheduler_run(arg);
	return NULL;
}

int scheduler_start(scheduler *s, char *err, size_t errlen)
{
	start_workers(s);
	if (pthread_create(&s->loop_thread, NULL, loop_main, s) != 0) {
		snprintf(err, errlen, "cannot start the scheduling loop: %s", strerror(errno));
		return BROOK_ERR;
	}
	s->loop_started = true;
	return BROOK_OK;
}

void scheduler_stop(scheduler *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	for (size_t i = 0; i < s->ninflight; i++)
		atomic_store(&s->inflight[i]->cancel, CANCEL_SHUTDOWN);
	pthread_cond_broadcast(&s->job_cv);
	pthread_cond_broadcast(&s->loop_cv);
	pthread_t *workers = s->workers;
	s->workers = NULL;
	bool loop = s->loop_started;
	s->loop_started = false;
	pthread_mutex_unlock(&s->mu);
	if (loop)
		pthread_join(s->loop_thread, NULL);
	if (workers) {
		for (int i = 0; i < s->nworkers; i++)
			pthread_join(workers[i], NULL);
		free(workers);
	}
}

/* ---------------------------------------------------------------- write operations */

const sched_dag *sched_find_dag(scheduler *s, const char *dag_id, sched_error *e)
{
	const sched_dag *d = sched_dagbag_find(&s->bag, dag_id);
	if (!d)
		sched_error_set(e, 404, "DAG with dag_id: '%s' not found", dag_id);
	return d;
}

int scheduler_set_paused(scheduler *s, const char *dag_id, bool paused, sched_error *e)
{
	if (!sched_find_dag(s, dag_id, e))
		return BROOK_ERR;
	PGconn *c = sched_conn_get(s, e);
	if (!c)
		return BROOK_ERR;
	char err[512];
	const char *p[2] = {dag_id, paused ? "true" : "false"};
	int rc = pq_cmd(c, "UPDATE scheduler.dag SET is_paused = $2::boolean WHERE dag_id = $1",
			2, p, err, sizeof err);
	sched_conn_put(s, c);
	if (rc != BROOK_OK) {
		sched_error_set(e, 500, "%s", err);
		return BROOK_ERR;
	}
	brook_info(COMP, "DAG '%s' %s", dag_id, paused ? "paused" : "unpaused");
	wake_loop(s);
	return BROOK_OK;
}

json_t *scheduler_trigger(scheduler *s, const char *dag_id, const char *run_id,
			  const json_t *conf, int64_t logical_ms, sched_error *e)
{
	const sched_dag *d = sched_find_dag(s, dag_id, e);
	if (!d)
		return NULL;
	if (conf && !json_is_object(conf)) {
		sched_error_set(e, 400, "conf must be a JSON object");
		return NULL;
	}
	char err[512];
	if (conf && sched_dag_check_conf(d, conf, err, sizeof err) != BROOK_OK) {
		sched_error_set(e, 400, "%s", err);
		return NULL;
	}
	if (run_id && (!*run_id || strlen(run_id) > SCHED_ID_MAX)) {
		sched_error_set(e, 400, "dag_run_id must be 1..%d characters", SCHED_ID_MAX);
		return NULL;
	}
	if (logical_ms == 0)
		logical_ms = brook_now_ms();
	char idbuf[128];
	if (!run_id) {
		run_id_for("manual", logical_ms, idbuf, sizeof idbuf);
		run_id = idbuf;
	}
	char *conftext = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
	PGconn *c = sched_conn_get(s, e);
	if (!c) {
		free(conftext);
		return NULL;
	}
	int rc = insert_run(c, d, run_id, logical_ms, logical_ms, logical_ms, "manual", conftext,
			    err, sizeof err);
	free(conftext);
	sched_conn_put(s, c);
	if (rc == BROOK_AGAIN) {
		char ts[SCHED_TS_LEN];
		sched_ts_format(logical_ms, ts);
		sched_error_set(e, 409, "DAGRun with DAG ID: '%s' and DAGRun ID: '%s' or logical "
			       "date: '%s' already exists", dag_id, run_id, ts);
		return NULL;
	}
	if (rc != BROOK_OK) {
		sched_error_set(e, 500, "%s", err);
		return NULL;
	}
	brook_info(COMP, "DAG '%s': run %s triggered", dag_id, run_id);
	wake_loop(s);
	return scheduler_get_run(s, dag_id, run_id, e);
}

json_t *scheduler_backfill(scheduler *s, const char *dag_id, int64_t from_ms, int64_t to_ms,
			   const json_t *conf, sched_error *e)
{
	const sched_dag *d = sched_find_dag(s, dag_id, e);
	if (!d)
		return NULL;
	char err[512];
	if (conf && (!json_is_object(conf) ||
		     sched_dag_check_conf(d, conf, err, sizeof err) != BROOK_OK)) {
		sched_error_set(e, 400, "%s", json_is_object(conf) ? err
					       : "conf must be a JSON object");
		return NULL;
	}
	if (from_ms > to_ms) {
		sched_error_set(e, 400, "backfill: 'from' is after 'to'");
		return NULL;
	}
	int64_t start;
	int rc = sched_dag_first_fire_at_or_after(d, from_ms, &start);
	if (rc != BROOK_OK) {
		sched_error_set(e, 400, "DAG '%s' has no recurring schedule (%s) to backfill",
				dag_id, d->schedule_text);
		return NULL;
	}
	char *conftext = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
	PGconn *c = sched_conn_get(s, e);
	if (!c) {
		free(conftext);
		return NULL;
	}
	json_t *runs = json_array();
	int n = 0;
	while (start <= to_ms) {
		if (++n > MAX_BACKFILL_RUNS) {
			sched_error_set(e, 400, "backfill: more than %d runs; narrow the range "
				       "(runs up to here were created)", MAX_BACKFILL_RUNS);
			goto fail;
		}
		int64_t end;
		if (sched_dag_interval_end(d, start, &end) != BROOK_OK)
			break;
		char run_id[128];
		run_id_for("backfill", start, run_id, sizeof run_id);
		rc = insert_run(c, d, run_id, start, start, end, "backfill", conftext, err,
				sizeof err);
		if (rc == BROOK_ERR) {
			sched_error_set(e, 500, "%s", err);
			goto fail;
		}
		if (rc == BROOK_OK)
			json_array_append_new(runs, json_string(run_id));
		start = end;
	}
	sched_conn_put(s, c);
	free(conftext);
	brook_info(COMP, "DAG '%s': backfill created %zu runs", dag_id, json_array_size(runs));
	wake_loop(s);
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(runs); i++) {
		json_t *r = scheduler_get_run(s, dag_id, json_string_value(json_array_get(runs, i)),
					      e);
		if (r)
			json_array_append_new(out, r);
	}
	json_decref(runs);
	return json_pack("{s:o,s:I}", "dag_runs", out, "total_entries",
			 (json_int_t)json_array_size(out));
fail:
	sched_conn_put(s, c);
	free(conftext);
	json_decref(runs);
	return NULL;
}

json_t *scheduler_clear(scheduler *s, const char *dag_id, const char *run_id,
			const json_t *task_ids, bool only_failed, bool downstream, bool dry_run,
			sched_error *e)
{
	const sched_dag *d = sched_find_dag(s, dag_id, e);
	if (!d)
		return NULL;
	json_t *run = scheduler_get_run(s, dag_id, run_id, e);
	if (!run)
		return NULL;
	json_decref(run);
	bool *pick = brook_calloc(d->ntasks, sizeof *pick);
	if (task_ids && !json_is_array(task_ids)) {
		sched_error_set(e, 400, "task_ids must be an array of task ids");
		goto fail;
	}
	for (size_t i = 0; i < d->ntasks; i++)
		pick[i] = !task_ids;
	for (size_t k = 0; task_ids && k < json_array_size(task_ids); k++) {
		const char *id = json_string_value(json_array_get(task_ids, k));
		int ti = id ? sched_dag_task_index(d, id) : -1;
		if (ti < 0) {
			sched_error_set(e, 400, "DAG '%s' has no task '%s'", dag_id, id ? id : "?");
			goto fail;
		}
		pick[ti] = true;
	}
	if (downstream) /* topological order: upstreams come first */
		for (size_t i = 0; i < d->ntasks; i++)
			for (size_t k = 0; k < d->tasks[i].nupstream; k++)
				if (pick[d->tasks[i].upstream[k]])
					pick[i] = true;
	PGconn *c = sched_conn_get(s, e);
	if (!c)
		goto fail;
	char err[512];
	json_t *out = json_array();
	if (!dry_run && pq_cmd(c, "BEGIN", 0, NULL, err, sizeof err) != BROOK_OK)
		goto db_fail;
	for (size_t i = 0; i < d->ntasks; i++) {
		if (!pick[i])
			continue;
		char rt[16];
		snprintf(rt, sizeof rt, "%d", d->tasks[i].retries);
		const char *p[5] = {dag_id, run_id, d->tasks[i].task_id, rt,
				    only_failed ? "t" : "f"};
		PGresult *r = sched_pq(c,
				       dry_run ? "SELECT task_id FROM scheduler.task_instance "
						 "WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 "
						 "AND state IN ('success', 'failed', "
						 "'upstream_failed', 'skipped') AND ($5::boolean IS "
						 "FALSE OR state IN ('failed', 'upstream_failed')) "
						 "AND $4::int IS NOT NULL"
					       : "UPDATE scheduler.task_instance SET state = NULL, "
						 "max_tries = try_number + $4::int, end_date = NULL, "
						 "next_retry_at = NULL WHERE dag_id = $1 AND run_id = $2 "
						 "AND task_id = $3 AND state IN ('success', 'failed', "
						 "'upstream_failed', 'skipped') AND ($5::boolean IS "
						 "FALSE OR state IN ('failed', 'upstream_failed')) "
						 "RETURNING task_id",
				       5, p, PGRES_TUPLES_OK, err, sizeof err);
		if (!r)
			goto db_fail;
		if (PQntuples(r))
			json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "dag_id", dag_id,
							     "dag_run_id", run_id, "task_id",
							     d->tasks[i].task_id));
		PQclear(r);
	}
	if (!dry_run && json_array_size(out)) {
		const char *p[2] = {dag_id, run_id};
		if (pq_cmd(c,
			   "UPDATE scheduler.dag_run SET state = 'queued', end_date = NULL, "
			   "queued_at = now() WHERE dag_id = $1 AND run_id = $2 AND state IN "
			   "('success', 'failed')",
			   2, p, err, sizeof err) != BROOK_OK)
			goto db_fail;
	}
	if (!dry_run && pq_cmd(c, "COMMIT", 0, NULL, err, sizeof err) != BROOK_OK)
		goto db_fail;
	sched_conn_put(s, c);
	free(pick);
	if (!dry_run && json_array_size(out)) {
		brook_info(COMP, "DAG '%s': cleared %zu task instance%s of run %s", dag_id,
			   json_array_size(out), json_array_size(out) == 1 ? "" : "s", run_id);
		wake_loop(s);
	}
	return json_pack("{s:o}", "task_instances", out);
db_fail:
	if (!dry_run) {
		PGresult *x = PQexec(c, "ROLLBACK");
		PQclear(x);
	}
	sched_conn_put(s, c);
	json_decref(out);
	sched_error_set(e, 500, "%s", err);
fail:
	free(pick);
	return NULL;
}

/* ---------------------------------------------------------------- brook dags test */

int scheduler_test_task(const brook_config *cfg, const char *dag_id, const char *task_id,
			const json_t *conf, json_t **result, char *err, size_t errlen)
{
	*result = NULL;
	sched_dagbag bag;
	if (sched_dagbag_load(brook_config_tree(cfg, "scheduler.dags"), &bag, err, errlen) !=
	    BROOK_OK)
		return BROOK_ERR;
	int rc = BROOK_ERR;
	pg_cluster *cluster = NULL;
	char *dsn = NULL;
	PGconn *c = NULL;
	const sched_dag *d = sched_dagbag_find(&bag, dag_id);
	int ti = d ? sched_dag_task_index(d, task_id) : -1;
	if (!d) {
		snprintf(err, errlen, "no DAG '%s' in the configuration", dag_id);
		goto out;
	}
	if (ti < 0) {
		snprintf(err, errlen, "DAG '%s' has no task '%s'", dag_id, task_id);
		goto out;
	}
	dsn = resolve_dsn(cfg, &cluster, err, errlen);
	if (!dsn)
		goto out;
	c = connect_migrated(dsn, err, errlen);
	if (!c)
		goto out;
	int64_t now = brook_now_ms();
	sched_job j = {.dag = 0, .task = (size_t)ti, .try_number = 1, .logical_ms = now,
		       .interval_start_ms = now, .interval_end_ms = now};
	char run_id[128];
	run_id_for("test", now, run_id, sizeof run_id);
	j.run_id = run_id;
	char *conftext = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
	j.conf = conftext;
	atomic_init(&j.cancel, 0);
	brook_info(COMP, "testing %s/%s as run %s (no history is recorded)", dag_id, task_id,
		   run_id);
	rc = run_operator(cfg, dsn, d, &d->tasks[ti], &j, NULL, result, err, errlen);
	free(conftext);
out:
	if (c)
		PQfinish(c);
	stop_own_cluster(cluster);
	free(dsn);
	sched_dagbag_free(&bag);
	return rc;
}
