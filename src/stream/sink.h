/*
 * sink.h — a stream job's CQL sink: rows of mapped values into one table, through
 * brook's CQL client (cql/client.h), as concurrent unlogged batches.
 *
 * Opening connects to the contact points, creates the keyspace and table when the job
 * asks (IF NOT EXISTS, so several processes may race), prepares the job's INSERT and
 * checks that every mapped column exists in the table. Each later write binds by the
 * table's real column types (from the prepared statement's metadata).
 *
 * Writing one micro-batch (stream_sink_write):
 *   1. rows whose full primary key repeats in the micro-batch are superseded by the
 *      last one (a batch gives all its statements one timestamp, so two versions of a
 *      row in one write would be resolved by value, not by order);
 *   2. rows are sorted by partition key and cut into unlogged batches of at most
 *      batch_rows rows; a partition's rows stay in one batch unless they alone exceed
 *      batch_rows (several small partitions share a batch: one round trip for many
 *      rows, which is what a single node wants; on a cluster, set batch_rows to 1 or
 *      group by partition with a partition key that has many rows);
 *   3. at most `concurrency` batches are in flight at once;
 *   4. a batch that fails for a reason tied to its data (Invalid, Syntax, a bind that
 *      does not fit) is retried row by row, so only the offending rows fail — with the
 *      server's reason; a batch that fails for a transient reason (connection lost,
 *      timeout, Overloaded, Unavailable, write timeout, the node bootstrapping) is
 *      retried whole with backoff (100 ms doubling to 5 s) until it succeeds or the
 *      caller's stop flag is raised. Inserts are idempotent, so a retry can only
 *      rewrite the same values.
 * When it returns BROOK_OK every row is either acknowledged by the server (row->ok) or
 * failed for good with a reason (row->reason, for the dead-letter topic). BROOK_AGAIN:
 * stop was raised while the sink was unavailable; nothing may be assumed written.
 *
 * Threads: one writer thread per sink (the job's), completions on the client's I/O
 * thread.
 */
#ifndef BROOK_STREAM_SINK_H
#define BROOK_STREAM_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/metrics.h"
#include "cql/client.h"
#include "stream/expr.h"
#include "stream/job.h"

typedef struct stream_sink stream_sink;

typedef struct stream_row {
	const expr_value *vals; /* job->n_cols values, alive during the write */
	const void *packed;     /* the values bound and packed by stream_sink_pack, or NULL:
				 * bound by the write */
	size_t packed_len;
	bool ok;                /* out: acknowledged (or superseded by a later row) */
	char *reason;           /* out: why it failed for good (malloc'd; caller frees) */
} stream_row;

/* Counters the sink adds to (each may be NULL; the series outlive the sink). */
typedef struct stream_sink_metrics {
	brook_metric *batches, *retries, *rows_isolated;
} stream_sink_metrics;

/* contact points and credentials come from `o` (copied); m may be NULL. */
stream_sink *stream_sink_open(const stream_job *j, const cql_client_opts *o,
			      const stream_sink_metrics *m, char *err, size_t errlen);
void stream_sink_close(stream_sink *s);
int stream_sink_write(stream_sink *s, stream_row *rows, size_t n, const atomic_bool *stop);

/* Binds v to marker i of st by the marker's CQL type (exposed for tests). BROOK_ERR with
 * the reason in err. */
int stream_sink_bind(cql_stmt *st, int i, const expr_value *v, char *err, size_t errlen);

/* Binding ahead, on the threads that mapped the rows (their values are still in that
 * thread's cache; binding on the writer thread fetched them from another core's): a
 * statement of the sink's INSERT for one such thread (free with cql_stmt_free), and one
 * row's job->n_cols values bound with it and packed into arena a. BROOK_ERR: a value
 * does not fit its column (the reason in err, as the write would give it). */
cql_stmt *stream_sink_stmt(const stream_sink *s);
int stream_sink_pack(cql_stmt *st, const stream_job *j, const expr_value *vals, brook_arena *a,
		     stream_row *row, char *err, size_t errlen);

#endif
