/*
 * producer_state.h — per-partition idempotent-producer state: for each producer id, its
 * epoch and the metadata of its last 5 appended batches (Kafka's ProducerStateManager in
 * miniature).
 *
 * Rules applied by broker_pstate_check() to a batch with producerId >= 0 and
 * baseSequence >= 0:
 *   - epoch older than the producer's → INVALID_PRODUCER_EPOCH;
 *   - same epoch, (firstSeq, lastSeq) equal to one of the last 5 batches → duplicate:
 *     answered with that batch's base offset, nothing written;
 *   - same epoch, firstSeq != lastSeq + 1 (with wrap at INT32_MAX) → OUT_OF_ORDER;
 *   - newer epoch: firstSeq must be 0 → else OUT_OF_ORDER;
 *   - unknown producer (never seen, or its state deleted with the log): any sequence.
 * Snapshots: a small binary file (magic "BPS1", offset it covers, producers, CRC-32C)
 * written atomically (temp file, fsync, rename).
 */
#ifndef BROOK_BROKER_PRODUCER_STATE_H
#define BROOK_BROKER_PRODUCER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kafka/batch.h"

#define BROKER_PSTATE_BATCHES 5

typedef struct broker_pstate broker_pstate;

broker_pstate *broker_pstate_new(void);
void broker_pstate_free(broker_pstate *ps);
void broker_pstate_clear(broker_pstate *ps);

/* 0 (append it; *dup_offset = -1), 0 with *dup_offset >= 0 (a duplicate of the batch at
 * that offset), or a Kafka ErrorCode (45 OUT_OF_ORDER_SEQUENCE_NUMBER, 47
 * INVALID_PRODUCER_EPOCH). */
int16_t broker_pstate_check(const broker_pstate *ps, const kafka_batch_hdr *h,
			    int64_t *dup_offset);
/* Records an appended batch (h->base_offset is the assigned offset). Batches without a
 * producer id are ignored. */
void broker_pstate_update(broker_pstate *ps, const kafka_batch_hdr *h);

int16_t broker_pstate_epoch(const broker_pstate *ps, int64_t producer_id);
int64_t broker_pstate_max_pid(const broker_pstate *ps);
int broker_pstate_count(const broker_pstate *ps);

/* BROOK_OK/BROOK_ERR. The snapshot covers batches below `offset`. */
int broker_pstate_save(const broker_pstate *ps, const char *path, int64_t offset);
/* Replaces ps's content; BROOK_ERR (ps left empty) when missing or corrupt. */
int broker_pstate_load(broker_pstate *ps, const char *path, int64_t *offset);

/* Last sequence of a batch: baseSequence + lastOffsetDelta, wrapping past INT32_MAX. */
int32_t broker_pstate_last_seq(int32_t base_seq, int32_t last_offset_delta);

#endif
