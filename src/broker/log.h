/*
 * log.h — one partition's durable log: segments, sparse indexes, recovery, retention,
 * compaction, idempotent-producer state and group commit.
 *
 * Ownership and threads: a broker_log is used from one thread (the broker loop), except
 * broker_flush_job_run(), which may run on any thread between flush_begin and flush_end.
 *
 * Offsets: start offset <= durable offset <= end offset (LEO, the next offset to assign).
 * Only batches below the durable offset are known to be fsynced.
 *
 * Acknowledgement promises (see log.c's design block):
 *   - broker_log_append() returning 0 means the batch is in the page cache: it survives a
 *     crash of the brook process but not of the machine.
 *   - once broker_log_durable_offset() is above the batch's last offset, the batch has been
 *     fdatasync()ed and survives a power loss.
 *
 * Error codes returned are Kafka ErrorCode values (0 = NONE); see BROKER_LOG_ERR_* below.
 */
#ifndef BROOK_BROKER_LOG_H
#define BROOK_BROKER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka ErrorCode values the log returns. */
#define BROKER_LOG_ERR_NONE ((int16_t)0)
#define BROKER_LOG_ERR_OFFSET_OUT_OF_RANGE ((int16_t)1)
#define BROKER_LOG_ERR_CORRUPT_MESSAGE ((int16_t)2)
#define BROKER_LOG_ERR_MESSAGE_TOO_LARGE ((int16_t)10)
#define BROKER_LOG_ERR_KAFKA_STORAGE_ERROR ((int16_t)56)
#define BROKER_LOG_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER ((int16_t)45)
#define BROKER_LOG_ERR_DUPLICATE_SEQUENCE_NUMBER ((int16_t)46)
#define BROKER_LOG_ERR_INVALID_PRODUCER_EPOCH ((int16_t)47)
#define BROKER_LOG_ERR_UNKNOWN_PRODUCER_ID ((int16_t)59)
#define BROKER_LOG_ERR_INVALID_RECORD ((int16_t)87)

typedef struct broker_log_config {
	uint64_t segment_bytes;         /* roll when the active segment would exceed this */
	int64_t segment_ms;             /* roll when the active segment is older than this */
	int64_t retention_ms;           /* delete segments whose newest record is older; -1 */
	int64_t retention_bytes;        /* delete oldest segments while bigger; -1 = unlimited */
	uint32_t index_interval_bytes;  /* sparse index: one entry per this many bytes */
	bool compact;                   /* cleanup.policy=compact */
	int64_t delete_retention_ms;    /* how long compaction keeps tombstones */
	int64_t min_compaction_lag_ms;  /* records younger than this are not compacted */
	uint32_t max_message_bytes;     /* largest batch accepted */
	int32_t leader_epoch;           /* written into partitionLeaderEpoch of appended batches */
} broker_log_config;

/* Kafka's defaults: 1 GiB segments, 7 days, retention 7 days / unlimited bytes, 4 KiB index
 * interval, delete policy, 1 day tombstones, no lag, 1 MiB (+ overhead) messages, epoch 0. */
void broker_log_config_defaults(broker_log_config *cfg);

typedef struct broker_log broker_log;

/* Opens the log in `dir` (created if missing), RECOVERING it: the tail of each segment is
 * rescanned and truncated at the first invalid batch, indexes are rebuilt when missing or
 * inconsistent, producer state is reloaded. NULL with a message in err on I/O failure. The
 * config is copied. */
broker_log *broker_log_open(const char *dir, const broker_log_config *cfg, char *err,
			    size_t errlen);
/* Fsyncs everything, writes the producer-state snapshot and the clean-shutdown marker,
 * closes. Slices still held keep their segment alive until released. */
void broker_log_close(broker_log *l);
/* Replace the configuration (topic config change); takes effect at the next append/maintain. */
void broker_log_set_config(broker_log *l, const broker_log_config *cfg);
const broker_log_config *broker_log_get_config(const broker_log *l);

int64_t broker_log_start_offset(const broker_log *l);
int64_t broker_log_end_offset(const broker_log *l);     /* LEO: next offset to assign */
int64_t broker_log_durable_offset(const broker_log *l); /* everything below is fsynced */
int64_t broker_log_size_bytes(const broker_log *l);     /* sum of segment sizes */
int broker_log_segment_count(const broker_log *l);

/*
 * Appends one batch that kafka_batch_validate() accepted. The log assigns baseOffset
 * (bytes 0..7) and partitionLeaderEpoch (bytes 12..15) IN PLACE in the caller's buffer
 * (the CRC does not cover them), then write(2)s it to the active segment; durability
 * comes later through the flush job. Rolls the segment first when needed.
 *
 * Idempotence (producerId >= 0, non-transactional): a retry of one of the producer's
 * last 5 batches returns 0 with *duplicate = true and *base_offset = the original
 * offset, writing nothing; a sequence gap returns OUT_OF_ORDER_SEQUENCE_NUMBER; an epoch
 * older than the last seen returns INVALID_PRODUCER_EPOCH. A batch larger than
 * max_message_bytes returns MESSAGE_TOO_LARGE; an I/O failure KAFKA_STORAGE_ERROR.
 * On success *base_offset is the assigned base offset.
 */
int16_t broker_log_append(broker_log *l, uint8_t *batch, size_t len, int64_t now_ms,
			  int64_t *base_offset, bool *duplicate);

/*
 * Read: a region of whole batches, starting with the batch that contains `offset`, at most
 * max_bytes (but always at least one whole batch, like Kafka), holding only batches whose
 * last offset is below `upto` (e.g. the durable offset or the LEO). The slice names a file
 * region for sendfile()/pread(); it holds a reference on its segment, so retention or
 * compaction cannot pull the file away: call broker_log_slice_release() when done.
 * OFFSET_OUT_OF_RANGE when offset < start offset or offset > LEO; len 0 (nothing to
 * release, but releasing is harmless) when there is nothing to return yet.
 */
typedef struct broker_log_slice {
	int fd;         /* the segment's .log file; valid until release */
	int64_t pos;    /* file position of the first batch */
	size_t len;     /* bytes of whole batches */
	int64_t first_offset; /* baseOffset of the first batch (may be < requested offset) */
	int64_t next_offset;  /* the offset after the last batch's last record */
	void *seg_ref;  /* internal */
} broker_log_slice;

int16_t broker_log_read(broker_log *l, int64_t offset, size_t max_bytes, int64_t upto,
			broker_log_slice *out);
void broker_log_slice_release(broker_log_slice *s);

/* ListOffsets by time: the offset of the first record whose timestamp >= ts, or -1 when
 * there is none. ts -1 (latest) and -2 (earliest) are the caller's business. */
int64_t broker_log_offset_for_time(broker_log *l, int64_t ts);
/* Largest timestamp in the log and the offset of its record (ListOffsets -3 MAX_TIMESTAMP);
 * -1/-1 when empty. */
void broker_log_max_timestamp(broker_log *l, int64_t *ts, int64_t *offset);

/* DeleteRecords: advances the start offset to `offset` (persisted in the start-offset
 * checkpoint; segments wholly below are deleted). offset -1 means the LEO.
 * OFFSET_OUT_OF_RANGE when offset > LEO. */
int16_t broker_log_delete_before(broker_log *l, int64_t offset);

/* Housekeeping, called periodically: time-based roll, retention, compaction. */
void broker_log_maintain(broker_log *l, int64_t now_ms);

/*
 * Group commit. The loop thread calls flush_begin, which dup()s the fds of the segments
 * with unflushed data and records the target offset (the LEO). ANY thread then runs
 * broker_flush_job_run (fdatasync + close of the dups; returns 0 or -1). The loop thread
 * finally calls flush_end, which advances the durable offset to job->upto when rc == 0.
 * flush_begin returns false when everything is already durable (job is then empty).
 * Several jobs may be in flight; the durable offset only moves forward.
 */
typedef struct broker_flush_job {
	int fds[4];
	int nfds;
	int64_t upto;
} broker_flush_job;

bool broker_log_flush_begin(broker_log *l, broker_flush_job *job);
int broker_flush_job_run(broker_flush_job *job);
void broker_log_flush_end(broker_log *l, const broker_flush_job *job, int rc);
/* flush_begin + run + end on the calling thread; 0 or -1. */
int broker_log_flush_sync(broker_log *l);

/* Producer state for InitProducerId: the last epoch this log saw for producer_id, or -1. */
int16_t broker_log_producer_epoch(const broker_log *l, int64_t producer_id);
/* The largest producer id this log has seen, or -1 (to seed the broker's id allocator). */
int64_t broker_log_max_producer_id(const broker_log *l);

/* Removes a log's directory and everything in it (DeleteTopics); the log must be closed. */
int broker_log_remove_dir(const char *dir);

#endif
