/*
 * operator.h — what a task does: the operator registry and the context a task runs in.
 *
 * Operators (operator.c; one function each, run on a worker thread):
 *
 *   randomuser_to_postgres  fetch users from a randomuser.me-compatible API and stage
 *                           them in staging.raw_users, one transaction per batch,
 *                           idempotent per (run_id, batch_no) — see operator.c
 *   sql                     run SQL on the scheduler's PostgreSQL
 *   shell                   run a command with /bin/sh -c, with a timeout
 *   empty                   do nothing (Airflow's EmptyOperator)
 *
 * Each operator declares its parameters (name, type, default, help); dag.c checks a
 * task's params against them at load and fills the defaults, and a run's conf may
 * override them (dag.h). Parameter values reach the operator as JSON: STR as string
 * (or null when there is no default), INT/DURATION/SIZE as integers (ms, bytes),
 * DOUBLE as real, BOOL as true/false.
 *
 * Cancellation: ctx->cancel becomes non-zero when the task must stop (its
 * execution_timeout passed, or the scheduler is shutting down); operators check it at
 * least every 100 ms of their own work and return BROOK_ERR ("cancelled: ...")
 * promptly. ctx->deadline_mono_ms (0: none) is the execution_timeout as a
 * brook_mono_ms() instant, for operators that pass timeouts down (statement_timeout,
 * a child's kill timer).
 */
#ifndef BROOK_SCHEDULER_OPERATOR_H
#define BROOK_SCHEDULER_OPERATOR_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef enum {
	SCHED_PARAM_STR,
	SCHED_PARAM_INT,
	SCHED_PARAM_DOUBLE,
	SCHED_PARAM_BOOL,
	SCHED_PARAM_DURATION, /* "30s" or integer ms in YAML/conf; integer ms in params */
} sched_param_type;

typedef struct sched_param_spec {
	const char *name;  /* NULL ends a table */
	sched_param_type type;
	const char *def;   /* default as YAML text; NULL: none (STR: null) */
	const char *help;
	int64_t min;       /* INT/DURATION: smallest allowed value */
	int64_t max;       /* INT/DURATION: largest allowed; 0: no limit */
	bool required;     /* must be given in the task's params (checked at load) */
} sched_param_spec;

typedef struct sched_task_ctx {
	/* identity of the try */
	const char *dag_id;
	const char *run_id;
	const char *task_id;
	int try_number;             /* 1 for the first try */
	int64_t logical_date_ms;
	int64_t data_interval_start_ms;
	int64_t data_interval_end_ms;
	/* inputs */
	const json_t *params;       /* complete and typed (dag.h) */
	const char *pg_dsn;         /* the scheduler's PostgreSQL */
	const brook_config *cfg;    /* for defaults such as source.url */
	atomic_int *cancel;         /* non-zero: stop now */
	int64_t deadline_mono_ms;   /* 0: none */
	/* outputs */
	void (*log)(void *log_arg, const char *line); /* one line of the task's log */
	void *log_arg;
	json_t *result;             /* operator sets a small JSON value (XCom
				     * return_value), or leaves NULL */
} sched_task_ctx;

/* printf-style task log line (goes to ctx->log and the process log at debug). */
void sched_task_log(sched_task_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

typedef struct sched_operator {
	const char *name;
	const sched_param_spec *params; /* table ending with {NULL} */
	const char *help;               /* one line */
	/* BROOK_OK, or BROOK_ERR with the reason in err (the task's try fails). */
	int (*run)(sched_task_ctx *ctx, char *err, size_t errlen);
} sched_operator;

/* The operator of that name, or NULL. */
const sched_operator *sched_operator_find(const char *name);
/* All operators, for --help and docs; *n set to their number. */
const sched_operator *const *sched_operators(size_t *n);

#endif
