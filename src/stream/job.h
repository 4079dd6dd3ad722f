/*
 * job.h — a stream job's definition: loaded from the `stream.jobs` configuration tree,
 * checked and compiled once at start, immutable afterwards.
 *
 * The YAML shape (docs/STREAM.md has the full reference):
 *
 *   stream:
 *     jobs:
 *       users:                          # the job's name ([A-Za-z0-9_.-], ≤ 64 bytes)
 *         source:
 *           topics: [users_created]     # one or more topics, one consumer group
 *           group: brook-stream.users   # default "<stream.group>.<job>"
 *           format: avro                # avro (Confluent-framed, via the registry) | json
 *           reader_schema: {...}        # optional Avro reader schema (older writers are
 *                                       # resolved to it); default: the writer's schema
 *           payload: payload            # optional: a string field of the value holding
 *                                       # the JSON document to map (the row envelope)
 *           event_time: timestamp(fetched_at / 1000)  # optional expression over the value
 *                                       # (before `payload`): end-to-end latency start;
 *                                       # default: the Kafka record timestamp
 *           starting_offsets: earliest  # earliest | latest, for a group with no offsets
 *           max_batch_records: 2000     # records per micro-batch at most
 *           trigger: 200ms              # micro-batch interval; 0 = continuous (a batch
 *                                       # as soon as records are there)
 *         input: {...}                  # the mapped document's shape (below); optional
 *         where: email is not null      # optional filter (expression, boolean)
 *         map:                          # column: expression, in column order
 *           id: uuid5('url', login.uuid)
 *           first_name: name.first
 *         sink:
 *           keyspace: spark_streams
 *           table: created_users
 *           primary_key: [id]           # default: the first mapped column; "((a, b), c)"
 *                                       # style: partition_key + clustering lists
 *           partition_key: [id]         # default: the first primary key column
 *           create: true                # CREATE KEYSPACE / TABLE IF NOT EXISTS at start
 *           replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}"
 *           types: {post_code: text}    # optional CQL types for created columns
 *           batch_rows: 32              # rows per unlogged batch at most
 *           concurrency: 32             # batches in flight at most
 *         dead_letter_topic: users_created.dlq   # "" disables (then a bad record
 *                                       # stops the job: nothing is ever skipped)
 *
 * The input shape: a YAML map of field → type, nested maps for objects. Types: string,
 * int, double, boolean, timestamp, uuid, any; a trailing '?' makes the field nullable
 * ("string?"). A path the mapping uses must exist in the shape (an error naming the
 * line, with a suggestion); at run time a value that does not fit its declared type, or
 * a required field that is missing, dead-letters the record with the path and reason.
 * Without `input`, every path is accepted and typed `any`.
 *
 * Column types. With create: true, a column's CQL type is `types.<col>` or else follows
 * its expression's type: string/any → text, int → bigint, double → double, boolean →
 * boolean, timestamp → timestamp, uuid → uuid. Values are bound by the table's real
 * column types (from the prepared INSERT), converting where lossless (any scalar to text,
 * a uuid string to uuid, an int to int/smallint/... in range); a value that does not fit
 * dead-letters its record.
 *
 * Errors at load are "FILE:LINE: stream job 'users': map.first_name: column 12: unknown
 * path 'name.frist' (did you mean 'name.first'?)".
 */
#ifndef BROOK_STREAM_JOB_H
#define BROOK_STREAM_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "stream/expr.h"

#define STREAM_NAME_MAX 64

typedef enum { STREAM_FMT_AVRO, STREAM_FMT_JSON } stream_format;

typedef struct stream_column {
	char *name;    /* CQL column name (lower-case identifier) */
	char *text;    /* the expression as written */
	expr *e;
	char *cql_type; /* for CREATE TABLE: the declared or inferred type name */
	int line;
} stream_column;

typedef struct stream_job {
	char *name;
	/* source */
	char **topics;
	size_t n_topics;
	char *group;
	stream_format format;
	char *reader_schema; /* Avro schema JSON text, or NULL */
	char *payload;       /* field holding the JSON document, or NULL */
	expr *event_time;    /* or NULL: the Kafka timestamp */
	bool start_earliest;
	int64_t max_batch_records;
	int64_t trigger_ms;  /* 0: continuous */
	/* transform */
	expr *where;         /* or NULL */
	stream_column *cols;
	size_t n_cols;
	/* sink */
	char *keyspace, *table;
	size_t *pk;          /* indexes into cols: partition key first, then clustering */
	size_t n_pk, n_partition;
	bool create;
	char *replication;
	int64_t batch_rows, concurrency;
	/* dead letters */
	char *dlq_topic;     /* NULL: none */
	int line; /* where it was declared */
	struct stream_shape *shape; /* the input shape, or NULL */
	/* The payload's members the input shape names (what the mapping can read): the
	 * payload parse drops the rest. NULL: no shape or no payload, parse it all. */
	struct brook_jproj *proj;
} stream_job;

typedef struct stream_jobs {
	stream_job *v;
	size_t n;
} stream_jobs;

/* Loads every job of `tree` (the stream.jobs value; NULL or empty: no jobs), with
 * default_group as the groups' prefix. BROOK_ERR with the first error in err (nothing
 * kept). */
int stream_jobs_load(const brook_cfg_node *tree, const char *default_group, stream_jobs *out,
		     char *err, size_t errlen);
void stream_jobs_free(stream_jobs *jobs);

/* Only the jobs whose names are listed (comma-separated); BROOK_ERR naming an unknown
 * one. NULL or "" keeps all. */
int stream_jobs_select(stream_jobs *jobs, const char *names, char *err, size_t errlen);

/* CQL text of the job's statements, appended to out. */
void stream_job_create_keyspace_cql(const stream_job *j, brook_buf *out);
void stream_job_create_table_cql(const stream_job *j, brook_buf *out);
void stream_job_insert_cql(const stream_job *j, brook_buf *out);

#endif
