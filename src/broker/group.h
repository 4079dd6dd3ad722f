/*
 * group.h — the consumer group coordinator (Kafka's classic group protocol).
 *
 * brook is a single broker, so it coordinates every group. The coordinator is driven by
 * the server: each group request calls one entry point with the decoded request (the
 * msgs.h struct) and a completion callback; `done(ctx, resp)` is called exactly once,
 * either before the entry point returns or later (a JoinGroup waits for the rebalance, a
 * follower's SyncGroup for the leader's, an OffsetCommit for its records to be durable).
 * `resp` points to the msgs.h response struct for the request's API and is valid only
 * during the callback: encode it there. `ctx` must stay valid until done is called.
 *
 * Durability: committed offsets and group metadata are records of the internal topic
 * __consumer_offsets, in Kafka's own format (broker/offsets_format.h). The coordinator
 * hands them to the broker through group_io.append and answers an OffsetCommit only
 * when the broker reports them durable. On start the broker replays the topic through
 * group_coord_load before serving group requests.
 *
 * Timers: the server calls group_coord_tick about every 100 ms; it expires sessions,
 * ends rebalances whose timeout passed and initial join delays.
 *
 * Threading: none; everything runs on the broker's event loop thread.
 * Lifetime: group_coord_free answers every request still waiting (with
 * COORDINATOR_NOT_AVAILABLE); the io must not call an append completion after the
 * coordinator is freed (the broker drains or cancels its appends first).
 */
#ifndef BROOK_BROKER_GROUP_H
#define BROOK_BROKER_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/proto.h"

struct kafka_join_group_req;
struct kafka_sync_group_req;
struct kafka_heartbeat_req;
struct kafka_leave_group_req;
struct kafka_offset_commit_req;
struct kafka_offset_fetch_req;
struct kafka_describe_groups_req;
struct kafka_list_groups_req;

typedef struct group_coord group_coord;

/* resp: the msgs.h response struct of the request's API; valid only during the call. */
typedef void (*group_done_fn)(void *ctx, const void *resp);

/* Completion of an append: err is a Kafka error code (0: the records are durable). */
typedef void (*group_io_done_fn)(void *done_ctx, int16_t err);

typedef struct group_io {
	/* Persist n records to __consumer_offsets partition `partition`, in order: keys[i]
	 * with values[i] (values[i].len == -1: a tombstone). The key/value memory is valid
	 * only during the call (copy it into the batch). Call done(done_ctx, err) exactly
	 * once, when the records are fsynced (err 0) or failed; it may be called from within
	 * append itself. */
	void (*append)(void *io_arg, int32_t partition, const kafka_bytes *keys,
	               const kafka_bytes *values, int n, group_io_done_fn done, void *done_ctx);
	void *io_arg;
} group_io;

typedef struct group_config {
	int32_t offsets_partitions;         /* __consumer_offsets partitions (50) */
	int64_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (0 in brook) */
	int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms (6000) */
	int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms (1800000) */
	int32_t max_group_size;             /* group.max.size (0: unlimited) */
	int32_t max_metadata_bytes;         /* offset.metadata.max.bytes (4096) */
} group_config;

/* Kafka's defaults (initial delay 0, see above). */
void group_config_defaults(group_config *cfg);

/* cfg and io are copied. */
group_coord *group_coord_new(const group_config *cfg, const group_io *io);
void group_coord_free(group_coord *g);

/* Startup: replay every record of __consumer_offsets, partition by partition in offset
 * order, before serving (value NULL: a tombstone). Records that do not decode are logged
 * and skipped; returns BROOK_ERR for such a record, BROOK_OK otherwise. Members of loaded
 * groups get a fresh session starting at the first group_coord_tick. */
int group_coord_load(group_coord *g, const uint8_t *key, size_t klen, const uint8_t *value,
                     size_t vlen);

/* The __consumer_offsets partition that holds group_id (Kafka's hash, see
 * offsets_format.h). */
int32_t group_coord_partition_for(const group_coord *g, kafka_str group_id);

/* Request entry points. ver is the request's API version. */
void group_join(group_coord *g, int16_t ver, const struct kafka_join_group_req *req,
                const char *client_id, const char *client_host, int64_t now_ms, group_done_fn done,
                void *ctx);
void group_sync(group_coord *g, int16_t ver, const struct kafka_sync_group_req *req, int64_t now_ms,
                group_done_fn done, void *ctx);
void group_heartbeat(group_coord *g, int16_t ver, const struct kafka_heartbeat_req *req,
                     int64_t now_ms, group_done_fn done, void *ctx);
void group_leave(group_coord *g, int16_t ver, const struct kafka_leave_group_req *req,
                 int64_t now_ms, group_done_fn done, void *ctx);
void group_offset_commit(group_coord *g, int16_t ver, const struct kafka_offset_commit_req *req,
                         int64_t now_ms, group_done_fn done, void *ctx);
void group_offset_fetch(group_coord *g, int16_t ver, const struct kafka_offset_fetch_req *req,
                        group_done_fn done, void *ctx);
void group_describe(group_coord *g, int16_t ver, const struct kafka_describe_groups_req *req,
                    group_done_fn done, void *ctx);
void group_list(group_coord *g, int16_t ver, const struct kafka_list_groups_req *req,
                group_done_fn done, void *ctx);

/* Timers: session expiry, rebalance timeouts, initial join delay. Call every ~100 ms. */
void group_coord_tick(group_coord *g, int64_t now_ms);

/* For metrics. States are Kafka's names: "Empty", "PreparingRebalance",
 * "CompletingRebalance", "Stable", "Dead". */
typedef struct group_info {
	const char *group_id;
	const char *state;
	const char *protocol_type; /* "" when none */
	int32_t generation;
	int32_t members;
} group_info;
typedef void (*group_each_fn)(void *arg, const group_info *gi);
void group_coord_each_group(group_coord *g, group_each_fn fn, void *arg);

typedef void (*group_offset_fn)(void *arg, const char *group_id, const char *topic,
                                int32_t partition, int64_t offset);
void group_coord_each_offset(group_coord *g, group_offset_fn fn, void *arg);

#endif
