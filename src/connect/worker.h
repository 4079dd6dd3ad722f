/*
 * worker.h — brook connect's connector manager (a one-worker Kafka Connect).
 *
 * A connector is {name, config}: config is a flat string → string map (Kafka Connect's
 * shape). The worker keeps every connector in DATA/connect/connectors.json, replaced
 * atomically (core/fileio.h: write tmp, fdatasync, rename, fsync dir) on each change, and
 * restores them at open. Per-connector task state (whether the task has ever streamed
 * from its slot) lives in DATA/connect/state/<name>.json, written by the task.
 *
 * Each connector has exactly one task (id 0) run by one thread. States:
 *
 *   UNASSIGNED  created, its thread not yet running the task (briefly, at start);
 *   RUNNING     the task runs (connecting, snapshotting or streaming; retries after an
 *               error stay RUNNING until the retry limit);
 *   PAUSED      connect_worker_pause(): the task closed its session (everything
 *               delivered so far is acknowledged) and waits for resume;
 *   FAILED      the task gave up (errors.retry.max consecutive failures, or a config it
 *               cannot run); status shows the last error as the task's "trace" (while
 *               retrying, the trace already shows the last error). Only restart (or a
 *               config update) runs it again. As in Kafka Connect, a failed task leaves
 *               the connector itself RUNNING: look at tasks[0].state.
 *
 *   create/restore → UNASSIGNED → RUNNING        (thread start)
 *   RUNNING ⇄ PAUSED                             (connect_worker_pause / _resume)
 *   RUNNING → FAILED                             (the task, after its retries)
 *   any → RUNNING                                (connect_worker_restart, config PUT;
 *                                                 a paused connector stays PAUSED)
 *   any → gone                                   (connect_worker_delete: thread joined)
 *
 * Deleting a connector keeps its replication slot (as Debezium does); a config update
 * that changes connection.url, slot.name or publication.name forgets the task state.
 *
 * Invariants: the connectors file always holds every connector the REST API has
 * acknowledged (it is written before the answer); one thread per connector, joined
 * before its connector is freed; every function here is thread-safe (one mutex guards
 * the map, each connector has its own for its state).
 */
#ifndef BROOK_CONNECT_WORKER_H
#define BROOK_CONNECT_WORKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* Return codes next to BROOK_OK / BROOK_ERR (a bad config). */
#define CONNECT_NOT_FOUND (-10)
#define CONNECT_EXISTS	  (-11)

typedef struct connect_worker connect_worker;

typedef struct connect_worker_opts {
	const char *data_dir;	     /* DATA; files under DATA/connect */
	const char *kafka_bootstrap; /* default for a connector's kafka.bootstrap */
	const char *registry_url;    /* default for a connector's registry.url */
	const char *worker_id;	     /* "127.0.0.1:8083", shown in status */
} connect_worker_opts;

/* Creates DATA/connect, restores and starts every persisted connector. NULL on error
 * (unreadable or corrupt connectors file) with a message. Free with
 * connect_worker_close(). */
connect_worker *connect_worker_open(const connect_worker_opts *o, char *err, size_t errlen);
/* Stops every task (each closes its session cleanly) and frees everything. */
void connect_worker_close(connect_worker *w);

/* Checks a config: BROOK_OK, or BROOK_ERR with a message (unknown connector.class,
 * missing connection.url, a value out of range...). */
int connect_config_validate(const json_t *config, char *err, size_t errlen);
/* Connector names: 1..200 of [A-Za-z0-9._-], not starting with '.'. */
bool connect_name_valid(const char *name);

/* Create (create_only: CONNECT_EXISTS when it exists) or create-or-update. config must
 * be an object of strings (numbers and booleans are turned into strings). *created
 * tells which happened. Persisted before returning BROOK_OK. */
int connect_worker_put(connect_worker *w, const char *name, const json_t *config,
		       bool create_only, bool *created, char *err, size_t errlen);
int connect_worker_delete(connect_worker *w, const char *name);
int connect_worker_pause(connect_worker *w, const char *name);
int connect_worker_resume(connect_worker *w, const char *name);
int connect_worker_restart(connect_worker *w, const char *name);

/* Create the connectors declared in a connect.connectors tree (name → config mapping)
 * that do not exist yet; default_dsn (or NULL) fills a missing connection.url. Problems
 * are logged, never fatal (declared.c). */
int connect_declare(connect_worker *w, const brook_cfg_node *tree, const char *default_dsn);

/* New references (json_decref), NULL when the connector does not exist. */
json_t *connect_worker_names(connect_worker *w); /* ["a", "b"] sorted */
json_t *connect_worker_config(connect_worker *w, const char *name);
/* {"name","connector":{"state","worker_id"},"tasks":[{"id":0,"state","worker_id",
 * "trace"?}],"type":"source"} */
json_t *connect_worker_status(connect_worker *w, const char *name);

#endif
