/*
 * connect_int.h — what the worker (worker.c), the tasks (pgcdc_task.c, incr_task.c, with
 * what they share in task_common.c) and the JSON envelope (json_envelope.c) share inside
 * brook_connect. Not for other modules.
 *
 * A task runs on its connector's thread: connect_pgcdc_run() returns BROOK_OK when the
 * worker asked it to yield (stop, pause, restart: connect_task_yield() turned true), or
 * BROOK_ERR after it gave up (the trace is set with connect_task_fail()).
 */
#ifndef BROOK_CONNECT_INT_H
#define BROOK_CONNECT_INT_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
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

/* ---- what both tasks share (task_common.c) ---- */

/* An integer config value from min to max (def when absent or empty). max LONG_MAX: no
 * upper bound. BROOK_ERR with a message naming the key when it is not one. */
int connect_cfg_long(const json_t *config, const char *key, long def, long min, long max,
		     long *out, char *err, size_t errlen);
/* "a, b,c" → its non-empty items, blanks trimmed (*n of them; NULL when none, list may be
 * NULL). Yours: free with connect_list_free(). */
char **connect_list_split(const char *list, size_t *n);
void connect_list_free(char **items, size_t n);
/* A record's topic: topic when set, else <prefix>.<schema>.<table>. Yours: free(). */
char *connect_topic_name(const char *topic, const char *prefix, const char *schema,
			 const char *table);

/* What both tasks read the same way: connection.url (required), kafka.bootstrap (else
 * the worker's), errors.retry.max (10), errors.retry.backoff.max.ms (10000),
 * kafka.connect.timeout.ms (10000), kafka.message.timeout.ms (30000). Strings point into
 * the config. */
typedef struct connect_task_cfg {
	const char *conninfo;
	const char *bootstrap;
	long retry_max;
	long backoff_max_ms;
	long broker_timeout_ms;	    /* how long the first metadata request may take */
	long msg_timeout;	    /* a record not acknowledged by then fails the session */
	const char *msg_timeout_ms; /* the same as text (librdkafka's message.timeout.ms) */
} connect_task_cfg;

/* Reads them (errors.retry.max at most max_retries, the times at most max_ms; LONG_MAX:
 * unbounded). bootstrap: the worker's. BROOK_ERR with a message naming the key. */
int connect_task_cfg_load(const json_t *config, const char *bootstrap, long max_retries,
			  long max_ms, connect_task_cfg *tc, char *err, size_t errlen);

/* The first failure of a task's session: later errors are consequences and keep it. */
typedef struct connect_failure {
	bool failed;
	char msg[512];
} connect_failure;

typedef struct connect_producer_opts {
	const connect_task_cfg *cfg; /* bootstrap and timeouts */
	void *opaque;		     /* the delivery report's and the log's opaque */
	void (*on_delivery)(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
	const char *what; /* the configuration error's "<what> setting ..." */
	/* The topics it will write: `topic`, or when NULL every topic named
	 * "<topic_prefix>.*" (both NULL: unknown). Their partitions size its queue. */
	const char *topic, *topic_prefix;
} connect_producer_opts;

/* An idempotent (acks=all) producer, returned once the broker answered a metadata request
 * (asked in short steps; NULL when it did not within broker_timeout_ms or c must yield).
 * mdp: NULL, or gets the metadata of every topic (yours: rd_kafka_metadata_destroy()).
 * Its queue holds two batches per partition of its topics, at most 16 MB (librdkafka
 * keeps one request in flight per partition, see task_common.c). */
rd_kafka_t *connect_producer_new(connect_connector *c, const connect_producer_opts *o,
				 const struct rd_kafka_metadata **mdp, char *err, size_t errlen);
/* Purges what is queued or in flight (f becomes failed: nothing purged is acknowledged),
 * serves the last reports and destroys rk. */
void connect_producer_close(rd_kafka_t *rk, connect_failure *f);
/* A delivery report with an error: f fails (keeping its first message). */
void connect_delivery_error(connect_failure *f, const rd_kafka_message_t *m);

typedef struct connect_record {
	const char *topic;
	const void *key; /* NULL: a null key */
	size_t klen;
	const void *val; /* NULL: a null value (a tombstone) */
	size_t vlen;
	rd_kafka_headers_t *hdrs; /* NULL, or the message's on success (destroyed on failure) */
	void *opaque;		  /* the delivery report's m->_private */
} connect_record;

/* Produces r (copied), waiting while the queue is full. BROOK_OK when queued; BROOK_ERR
 * when f failed meanwhile, on a produce error (f fails with it) or, when yield_c is not
 * NULL, when yield_c must yield; CONNECT_TOO_LARGE (f untouched, r's headers destroyed)
 * when r is larger than any record the producer may send (message.max.bytes): it can
 * never be written, the caller dead-letters or skips it, and why says so. */
#define CONNECT_TOO_LARGE 1
int connect_produce(rd_kafka_t *rk, const connect_record *r, connect_connector *yield_c,
		    connect_failure *f);
/* CONNECT_TOO_LARGE's reason for r: its size and the limit. */
void connect_too_large(rd_kafka_t *rk, const connect_record *r, char *why, size_t whylen);

/* After a failed session (err: why; progressed: it got somewhere, so the count starts
 * again): BROOK_ERR when *attempts reached tc->retry_max (logged, trace set: the task gives
 * up); else logs, sets the trace, sleeps the backoff (250 ms doubled per attempt, at most
 * tc->backoff_max_ms; cut short by a yield) and returns BROOK_OK. */
int connect_task_retry(connect_connector *c, long *attempts, bool progressed,
		       const connect_task_cfg *tc, const char *err);

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
