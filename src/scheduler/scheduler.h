/*
 * scheduler.h — the scheduler: DAG runs and task instances in PostgreSQL, a scheduling
 * loop, worker threads that run operators, and the operations the REST API and the
 * `brook dags` commands expose.
 *
 * PostgreSQL (postgres.dsn, or brook's private cluster under DATA/postgres, started
 * when it is not running and stopped again at close) holds everything: the schema of
 * pg/migrations.c is applied at open; the DAGs' pause flags live in scheduler.dag.
 * One scheduler per database: open takes a session advisory lock and refuses to start
 * while another scheduler holds it.
 *
 * Semantics are Airflow's:
 *   - A scheduled run covers the data interval [start, end) and is created once `end`
 *     has passed; its logical date is `start`; run_id "scheduled__<logical date>".
 *     catchup creates one run per missed interval since start_date (or since the last
 *     scheduled run); without catchup only the latest finished interval gets a run.
 *     @once runs once, at start_date; none never.
 *   - Runs are created queued and become running while fewer than max_active_runs
 *     runs of their DAG are running (oldest logical date first). Paused DAGs get no
 *     new scheduled runs, and their queued runs wait; tasks already running finish.
 *   - A task instance's state moves:
 *       (none) -> queued -> running -> success
 *                                   -> up_for_retry -> queued ...  (tries left)
 *                                   -> failed                     (no tries left)
 *       (none) -> upstream_failed | skipped  (trigger rule can no longer be met)
 *     A retry waits retry_delay, or with exponential backoff
 *     min(max_retry_delay, retry_delay * 2^(try - 1)).
 *   - A run ends when every task is in a final state: failed when any task failed or
 *     is upstream_failed, else success.
 *   - Recovery at open: task instances left running or queued by a scheduler that died
 *     count as a failed try ("the scheduler stopped while the task ran") and are
 *     retried or failed per their policy; nothing is left dangling.
 *
 * Threads: open/close on the caller's thread; scheduler_start() starts the loop thread
 * and scheduler.parallelism worker threads; the operations below are thread-safe (the
 * HTTP server calls them from its pool) and each uses a pooled connection.
 */
#ifndef BROOK_SCHEDULER_SCHEDULER_H
#define BROOK_SCHEDULER_SCHEDULER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "scheduler/dag.h"

typedef struct scheduler scheduler;

/* An operation's failure: an HTTP status (400 bad request, 404 unknown DAG/run/task,
 * 409 conflict, 500 database trouble) and a message for people. */
typedef struct sched_error {
	int status;
	char msg[512];
} sched_error;

/* The scheduler.* configuration keys (scheduler.listen, scheduler.dags,
 * scheduler.parallelism, scheduler.tick, ...). */
extern const brook_cfg_key scheduler_config_keys[];

/* Load and validate the DAGs, connect to PostgreSQL, migrate, take the lock, register
 * the DAGs, recover. NULL with a message in err. */
scheduler *scheduler_open(const brook_config *cfg, char *err, size_t errlen);
/* Start the workers and the scheduling loop on a thread of its own (returns at once). */
int scheduler_start(scheduler *s, char *err, size_t errlen);
/* Or: start the workers and run the loop on the calling thread until scheduler_stop()
 * (from another thread). For `brook scheduler` (brook_cli_serve's run). */
void scheduler_run(scheduler *s);
/* Stops the loop and the workers: running tasks are cancelled and recorded as a
 * failed try (retried later by the next scheduler, per policy). */
void scheduler_stop(scheduler *s);
void scheduler_close(scheduler *s);

const sched_dagbag *scheduler_dags(const scheduler *s);
const char *scheduler_dsn(const scheduler *s);
/* When the scheduling loop last completed a pass (epoch ms; 0 before the first), for
 * /api/v1/health's latest_scheduler_heartbeat. */
int64_t scheduler_heartbeat_ms(const scheduler *s);

/* Prometheus text: task tries by outcome, runs finished by state, task durations,
 * tasks in flight, the loop's heartbeat (served on the API port at /metrics). */
void scheduler_render_metrics(scheduler *s, brook_buf *out);

/* Airflow-shaped JSON. Each returns a new reference, or NULL with e filled. */
/* {"dag_id","description","is_paused","is_active","schedule_interval":{"__type":
 *  "CronExpression","value"},"timetable_description","fileloc","tags":[],
 *  "max_active_runs","catchup","next_dagrun","tasks":[...]} */
json_t *scheduler_dag_json(scheduler *s, const char *dag_id, sched_error *e);
/* {"dags":[...],"total_entries":N} */
json_t *scheduler_list_dags(scheduler *s, sched_error *e);
int scheduler_set_paused(scheduler *s, const char *dag_id, bool paused, sched_error *e);

/* Create a manual run (run_id NULL: "manual__<logical date>"; logical_ms 0: now).
 * conf: an object or NULL, checked against the DAG's tasks (400 on a bad type).
 * 409 when the run id or logical date exists. Returns the DAGRun object:
 * {"dag_id","dag_run_id","logical_date","execution_date","data_interval_start",
 *  "data_interval_end","run_type","state","conf","start_date","end_date",
 *  "external_trigger"} */
json_t *scheduler_trigger(scheduler *s, const char *dag_id, const char *run_id,
			  const json_t *conf, int64_t logical_ms, sched_error *e);
/* Backfill runs for every interval start in [from_ms, to_ms] (run_type backfill;
 * logical dates that already have a run are left alone). Returns {"dag_runs":[created
 * runs],"total_entries":N}. */
json_t *scheduler_backfill(scheduler *s, const char *dag_id, int64_t from_ms, int64_t to_ms,
			   const json_t *conf, sched_error *e);
/* Airflow's "clear": the finished task instances of a run (task_ids: an array of ids,
 * or NULL for all; only_failed: just failed and upstream_failed ones; downstream: also
 * every task downstream of those) go back to state none with `retries` fresh tries,
 * and a finished run back to queued, so the scheduler runs them again. dry_run changes
 * nothing. Returns {"task_instances":[{"dag_id","dag_run_id","task_id"}]} of what was
 * (or would be) cleared; task instances still queued or running are left alone. */
json_t *scheduler_clear(scheduler *s, const char *dag_id, const char *run_id,
			const json_t *task_ids, bool only_failed, bool downstream, bool dry_run,
			sched_error *e);
/* {"dag_runs":[newest first],"total_entries":N}; limit 1..1000 */
json_t *scheduler_list_runs(scheduler *s, const char *dag_id, int limit, int offset,
			    sched_error *e);
json_t *scheduler_get_run(scheduler *s, const char *dag_id, const char *run_id,
			  sched_error *e);
/* {"task_instances":[{"task_id","dag_id","dag_run_id","execution_date","start_date",
 *  "end_date","duration","state","try_number","max_tries","hostname","pid",
 *  "operator","trigger_rule","next_retry_at"}],"total_entries":N} in DAG order */
json_t *scheduler_list_tis(scheduler *s, const char *dag_id, const char *run_id,
			   sched_error *e);
json_t *scheduler_get_ti(scheduler *s, const char *dag_id, const char *run_id,
			 const char *task_id, sched_error *e);
/* The log lines of one try (try_number >= 1), "TIMESTAMP LINE\n" each; malloc'd. */
char *scheduler_task_log(scheduler *s, const char *dag_id, const char *run_id,
			 const char *task_id, int try_number, sched_error *e);
/* {"xcom_entries":[{"key","value"}]} of a task instance. */
json_t *scheduler_list_xcom(scheduler *s, const char *dag_id, const char *run_id,
			    const char *task_id, sched_error *e);

/* `brook dags test`: run one task once, here, outside any scheduler (no run history;
 * Airflow's `tasks test`), logging to stderr. Uses postgres.dsn or the private
 * cluster like scheduler_open. Returns BROOK_OK when the task succeeded; *result gets
 * its XCom value (or NULL). */
int scheduler_test_task(const brook_config *cfg, const char *dag_id, const char *task_id,
			const json_t *conf, json_t **result, char *err, size_t errlen);

#endif
