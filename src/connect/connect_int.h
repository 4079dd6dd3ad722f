/*
 * connect_int.h — what the worker (worker.c), the tasks (pgcdc_task.c) and the JSON
 * envelope (json_envelope.c) share inside brook_connect. Not for other modules.
 *
 * A task runs on its connector's thread: connect_pgcdc_run() returns BROOK_OK when the
 * worker asked it to yield (stop, pause, restart: connect_task_yield() turned true), or
 * BROOK_ERR after it gave up (the trace is set with connect_task_fail()).
 */
#ifndef BROOK_CONNECT_INT_H
#define BROOK_CONNECT_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pg/cdc.h"

typedef enum connect_state {
	CONNECT_UNASSIGNED = 0,
	CONNECT_RUNNING,
	CONNECT_PAUSED,
	CONNECT_FAILED,
} connect_state;

const char *connect_state_name(connect_state s);

typedef struct connect_connector {
	char *name;
	json_t *config;	  /* object of strings; replaced only while no thread runs */
	char *state_path; /* DATA/connect/state/<name>.json */
	const char *default_bootstrap;
	const char *default_registry; /* registry.url default (NULL: http://127.0.0.1:8081) */
	const char *worker_id;

	pthread_t thread;
	bool thread_started;

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cond;
	connect_state state;
	char trace[1024];
	bool stop;		/* the thread must return */
	bool pause;		/* wanted state: paused */
	uint64_t restart_gen;	/* bumped by restart */
	uint64_t run_gen;	/* restart_gen the running task started with */
	uint64_t failed_gen;	/* restart_gen that failed (valid when failed) */
	bool failed;
	uint64_t lag_bytes;	/* metric: the slot's WAL held back for us */
	uint64_t dead_letters;	/* changes that could not be encoded (logged, maybe to DLQ) */
} connect_connector;

/* True when the task must close its session and return BROOK_OK. */
bool connect_task_yield(connect_connector *c);
/* Sleep up to ms; returns early (true) when the task must yield. */
bool connect_task_sleep(connect_connector *c, int64_t ms);
/* Record the failure message shown as the task's trace. */
void connect_task_fail(connect_connector *c, const char *msg);

/* A config value, or def when absent or empty. */
const char *connect_cfg(const json_t *config, const char *key, const char *def);

/* The postgres-cdc task (pgcdc_task.c). */
int connect_pgcdc_validate(const json_t *config, char *err, size_t errlen);
int connect_pgcdc_run(connect_connector *c);

/* ---- JSON records of changes (json_envelope.c) ---- */

typedef struct connect_source_info {
	const char *name;     /* topic.prefix: the logical server name */
	uint32_t xid;	      /* 0 for snapshot rows */
	int64_t commit_ms;    /* the transaction's commit time (now for snapshot rows) */
	uint64_t lsn;	      /* the change's LSN */
	bool row_envelope;    /* envelope=row: the new row only, deletes are tombstones */
} connect_source_info;

/* PostgreSQL text output of type oid as JSON: booleans, integers and finite floats as
 * JSON values, everything else as a string. */
json_t *connect_json_value(uint32_t type_oid, const uint8_t *data, size_t len);
/* Whether brook knows type oid (unknown types are sent as strings, with a warning). */
bool connect_json_type_known(uint32_t type_oid);
/* The row as an object; unchanged TOASTed values come from fallback (the old row) when
 * it has them, else Debezium's placeholder "__debezium_unavailable_value". */
json_t *connect_json_row(const pgo_relation *rel, const pgo_tuple *t, const pgo_tuple *fallback);
/* The record key: the key columns as an object, or NULL (no key: a null record key). */
json_t *connect_json_key(const pg_cdc_change *ch);
/* The record value: the Debezium envelope {"before","after","source","op","ts_ms"}, the
 * row (envelope=row), or NULL for a tombstone (delete with envelope=row). */
json_t *connect_json_value_record(const pg_cdc_change *ch, const connect_source_info *src,
				  int64_t now_ms);

#endif
