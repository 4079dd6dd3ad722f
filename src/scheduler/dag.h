/*
 * dag.h — DAGs as declared in the configuration (key scheduler.dags), validated.
 *
 * YAML shape (one mapping per DAG, keyed by dag_id; all keys but tasks optional):
 *
 *   scheduler:
 *     dags:
 *       user_automation:
 *         description: fetch users and stage them in PostgreSQL
 *         schedule: "@daily"            # cron or preset (cron.h); default @daily
 *         timezone: UTC                  # IANA zone the schedule is read in
 *         start_date: 2023-09-03T10:00   # ISO 8601 (a date is midnight UTC); default
 *                                        #   2020-01-01
 *         end_date: ~                    # no runs with a logical date after it
 *         catchup: false                 # default false
 *         max_active_runs: 1             # default 16
 *         is_paused_upon_creation: true  # default true (as Airflow)
 *         default_args:                  # defaults for every task's retry keys
 *           retries: 1
 *           retry_delay: 5s
 *         tasks:
 *           stream_data_from_api:
 *             operator: randomuser_to_postgres
 *             params: {max_duration: 60s}
 *             retries: 3                 # default 0
 *             retry_delay: 5s            # default 5m (Airflow's)
 *             retry_exponential_backoff: true   # default false
 *             max_retry_delay: 10m       # cap of the backoff; default 24h
 *             execution_timeout: 5m      # default none
 *             trigger_rule: all_success  # all_success|all_done|one_failed|none_failed
 *             upstream: [other_task]     # tasks that must finish first
 *
 * Validation happens once, at load, and is total: unknown keys, ill-typed values,
 * invalid cron expressions or zones, unknown operators, operator parameters of the
 * wrong type or name (operator.h declares them), unknown upstream tasks and cycles are
 * errors naming the DAG, the task and the YAML line, e.g.
 *   "brook.yaml:14: dag 'etl', task 'load': upstream task 'extarct' does not exist"
 *   "brook.yaml:9: dag 'etl': cycle: a -> b -> c -> a"
 * A configuration with any error yields no DAGs at all: the scheduler refuses to start
 * rather than half-running.
 *
 * Invariants of a loaded bag: dag ids and task ids match [A-Za-z0-9_.-]{1,250} and are
 * unique (dag ids in the bag, task ids in their DAG); tasks[] is in topological order
 * (every upstream index is smaller than the task's own index); params is a JSON object
 * holding every parameter of the task's operator, defaults filled in, each of its
 * declared type (durations as integer milliseconds, sizes as integer bytes).
 * A bag is immutable after loading and may be shared by threads.
 */
#ifndef BROOK_SCHEDULER_DAG_H
#define BROOK_SCHEDULER_DAG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "scheduler/cron.h"

#define SCHED_ID_MAX 250

typedef enum {
	SCHED_TRIGGER_ALL_SUCCESS = 0, /* every upstream succeeded (or was skipped) */
	SCHED_TRIGGER_ALL_DONE,        /* every upstream finished, whatever the outcome */
	SCHED_TRIGGER_ONE_FAILED,      /* at least one upstream failed or upstream_failed */
	SCHED_TRIGGER_NONE_FAILED,     /* no upstream failed (success or skipped) */
} sched_trigger_rule;

struct sched_operator;

typedef struct sched_task {
	char *task_id;
	const struct sched_operator *op; /* operator.h; never NULL in a loaded bag */
	json_t *params;                  /* object, complete and typed (see above) */
	int retries;                     /* >= 0; max tries = retries + 1 */
	int64_t retry_delay_ms;          /* >= 0 */
	bool retry_exponential_backoff;
	int64_t max_retry_delay_ms;      /* cap for the backoff, > 0 */
	int64_t execution_timeout_ms;    /* 0: none */
	sched_trigger_rule trigger_rule;
	size_t *upstream;                /* indices into the DAG's tasks, each < own index */
	size_t nupstream;
	int line;                        /* YAML line of the task's mapping */
} sched_task;

typedef struct sched_dag {
	char *dag_id;
	char *description;          /* "" when absent */
	char *schedule_text;        /* as written, e.g. "@daily" */
	cron_expr *schedule;
	cron_zone *tz;
	int64_t start_date_ms;
	int64_t end_date_ms;        /* INT64_MAX: none */
	bool catchup;
	int max_active_runs;        /* >= 1 */
	bool is_paused_upon_creation;
	sched_task *tasks;          /* topological order */
	size_t ntasks;              /* >= 1 */
	const char *file;           /* where it was declared (owned by the bag) */
	int line;
} sched_dag;

typedef struct sched_dagbag {
	sched_dag *dags; /* in declaration order */
	size_t n;
	char *file;      /* the file name the tree came from */
} sched_dagbag;

/* Load and validate the DAGs of a scheduler.dags tree (a MAP of dag_id -> DAG; NULL or
 * an empty map gives an empty bag). BROOK_OK with *bag filled (free with
 * sched_dagbag_free), or BROOK_ERR with a message as above and *bag empty. */
int sched_dagbag_load(const brook_cfg_node *tree, sched_dagbag *bag, char *err, size_t errlen);
void sched_dagbag_free(sched_dagbag *bag);

const sched_dag *sched_dagbag_find(const sched_dagbag *bag, const char *dag_id);
/* Index of a task in its DAG, or -1. */
int sched_dag_task_index(const sched_dag *dag, const char *task_id);

const char *sched_trigger_rule_name(sched_trigger_rule r);

/* The parameters a task runs with: its params with a run's conf applied on top.
 * conf is a JSON object (or NULL); a key of conf that names a parameter of the task's
 * operator replaces it after the same type check as at load (durations may be given
 * as "30s" or integer ms); other keys are ignored (a conf serves every task of the
 * DAG). Returns a new object, or NULL with "conf key 'max_records': expected an
 * integer, got \"many\"" in err. */
json_t *sched_task_params(const sched_task *task, const json_t *conf, char *err, size_t errlen);

/* Check a conf against every task of a DAG (what a trigger does before creating the
 * run). BROOK_OK, or BROOK_ERR naming the task and key. */
int sched_dag_check_conf(const sched_dag *dag, const json_t *conf, char *err, size_t errlen);

/* The data interval of a scheduled run: the first fire time of the DAG's schedule at
 * or after start_date is the first interval's start; each interval ends at the next
 * fire time. For a logical date L (an interval start), *end = next fire after L.
 * BROOK_OK, BROOK_AGAIN for schedules without recurring times (@once, none). */
int sched_dag_interval_end(const sched_dag *dag, int64_t logical_ms, int64_t *end_ms);
/* The first interval start at or after t (ms), BROOK_OK / BROOK_AGAIN / BROOK_ERR. */
int sched_dag_first_fire_at_or_after(const sched_dag *dag, int64_t t_ms, int64_t *fire_ms);

#endif
