/*
 * runner.h — one stream job at run time: a consumer-group member, its micro-batch loop,
 * its CQL sink and its dead-letter producer, on the job's thread and a writer thread.
 *
 * The loop (runner.c), per micro-batch:
 *
 *   collect   poll the group's consumer until max_batch_records are in hand or the
 *             trigger has passed since the first one (trigger 0: until the fetched
 *             records run out);
 *   process   per record, on stream.threads threads (each a share of the batch, with
 *             its own arena and parser): decode (Avro through the registry, or JSON), unwrap the
 *             payload field, evaluate event_time, the where filter and every column,
 *             and bind the row to the sink's INSERT, packed (sink.h stream_sink_pack:
 *             bound while its values are in this thread's cache); a record failing any
 *             step becomes a dead letter with its stage (DECODE, MAP, SINK) and reason;
 *   write     the rows through the sink (sink.h): every row is acknowledged or failed
 *             for good (a dead letter, stage SINK); while the store is unreachable
 *             the sink retries with back-off and nothing moves;
 *   dead      dead letters are produced (acks=all, idempotent) with their original key
 *             and value and Kafka Connect's error headers, and their delivery awaited;
 *   commit    only then the batch's offsets (last + 1 per partition) are committed.
 *
 * Two micro-batches are in a pipeline: write and dead (the sink, then dead letters) run
 * on a writer thread while the job's thread collects and processes the next batch;
 * then the job's thread waits for the write, commits that batch, and hands over the
 * next. Batches are written and committed one at a time, in order.
 *
 * So a committed offset means every record before it is in the table, in the
 * dead-letter topic, or filtered out by `where` (counted): at-least-once delivery, and
 * since rows are keyed deterministically, a replay rewrites the same rows.
 *
 * Transient failures never make dead letters: an unreachable registry, store or broker
 * holds the batch and retries (logged), with no commits. A revoke (rebalance) drops the
 * records collected but not yet written, and the batch being written is not committed:
 * the partition's next owner reads them from the committed offset. Without a
 * dead_letter_topic, the first dead letter stops the job (logged as an error,
 * brook_stream_job_up 0) rather than skip a record.
 */
#ifndef BROOK_STREAM_RUNNER_H
#define BROOK_STREAM_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/metrics.h"
#include "cql/client.h"
#include "registry/client.h"
#include "stream/job.h"

/* What the jobs of one process share. */
typedef struct stream_env {
	const char *bootstrap;
	sr_client *registry;
	const cql_client_opts *cql;
	int64_t session_timeout_ms;
	int threads; /* decode/map threads per job (1: the job's own thread only) */
	brook_metrics *metrics;
	const atomic_bool *stop;
} stream_env;

typedef struct stream_runner stream_runner;

/* Creates the job's Kafka clients and starts its thread. */
stream_runner *stream_runner_start(const stream_job *j, const stream_env *env, char *err,
				   size_t errlen);
/* After env->stop was raised: waits for the thread (it finishes or abandons its batch,
 * commits and leaves the group), frees everything. */
void stream_runner_join(stream_runner *r);

#endif
