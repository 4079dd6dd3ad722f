/*
 * incr_task.h — the postgres-incrementing task: polls tables like Kafka Connect's JDBC
 * source connector, for databases without logical replication. Internal to brook_connect.
 *
 * Modes (config key mode):
 *   incrementing            SELECT … WHERE inc > $last ORDER BY inc LIMIT batch.max.rows:
 *                           new rows only (an append-only table with a growing key).
 *   timestamp+incrementing  SELECT … WHERE ((ts > $ts) OR (ts = $ts AND inc > $inc))
 *                           AND ts < now() - timestamp.delay.interval.ms
 *                           ORDER BY ts, inc LIMIT batch.max.rows:
 *                           new and updated rows (an update must bump the timestamp).
 *                           The delay (default 1000 ms) leaves time to transactions that
 *                           stamped a row before a later one committed: a row whose
 *                           transaction commits more than the delay after its timestamp
 *                           was taken can still be skipped (as with the JDBC connector).
 *                           Rows whose timestamp is NULL are never sent.
 *
 * Records: key {"<incrementing.column.name>": N} (JSON), value the row as PostgreSQL's
 * row_to_json() writes it (numbers, booleans and nested values as JSON, everything else
 * as strings), to `topic`, else <topic.prefix>.<schema>.<table>. librdkafka producer
 * with idempotence and acks=all.
 *
 * Offsets (the invariant that makes delivery at-least-once): one record per table in the
 * compacted topic offsets.topic (default connect-offsets, created when missing: 1
 * partition, cleanup.policy=compact), in Kafka Connect's shape:
 *   key   ["<connector name>",{"protocol":"1","table":"<schema>.<table>"}]
 *   value {"incrementing":N} or {"timestamp":ms,"timestamp_nanos":ns,"incrementing":N}
 *         (timestamp: ms since the epoch, UTC; timestamp_nanos: the nanoseconds within
 *         that second, as the JDBC connector stores them)
 * An offset record is produced only after every record of its batch was acknowledged,
 * and the next batch of that table waits for its acknowledgement. A session starts by
 * reading the offsets topic to its end (simple consumer, no group); the last record
 * of a key wins. So a restart resumes after the last acknowledged batch: nothing is lost,
 * and at most the batch in flight when it stopped is sent again (duplicates possible).
 * Deleting a connector keeps its offsets (as Kafka Connect does): a new connector of the
 * same name resumes from them.
 *
 * Session: producer (broker reachable?) → offsets topic ensured and read → PostgreSQL
 * connection (TimeZone UTC) → poll every table, batch after batch, until a poll returns
 * fewer than batch.max.rows rows everywhere, then sleep poll.interval.ms; until the worker
 * asks to yield. Errors (PostgreSQL or broker unreachable, a query failing, a record not
 * acknowledged) end the session; sessions retry with a capped exponential backoff and
 * errors.retry.max consecutive failures make the task FAILED with the error as its trace.
 */
#ifndef BROOK_CONNECT_INCR_TASK_H
#define BROOK_CONNECT_INCR_TASK_H

#include <jansson.h>
#include <stddef.h>

#include "connect/connect_int.h"

/* BROOK_OK, or BROOK_ERR with a message (missing incrementing.column.name...). */
int connect_incr_validate(const json_t *config, char *err, size_t errlen);
/* Runs the task on its connector's thread: BROOK_OK when asked to yield, BROOK_ERR when
 * it gave up (trace set). */
int connect_incr_run(connect_connector *c);

#endif
