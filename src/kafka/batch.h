/*
 * batch.h — Kafka record batches, format v2 (magic 2): header parsing, validation,
 * record iteration and building.
 *
 * Layout (big-endian; the 61-byte header):
 *   0 baseOffset i64 | 8 batchLength i32 (bytes after this field) | 12 partitionLeaderEpoch
 *   i32 | 16 magic i8 | 17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 |
 *   23 lastOffsetDelta i32 | 27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64
 *   | 51 producerEpoch i16 | 53 baseSequence i32 | 57 recordsCount i32 | 61 records
 * Record: length varint, attributes i8, timestampDelta varlong, offsetDelta varint,
 *   keyLength varint (-1 null), key, valueLength varint (-1 null), value, headersCount
 *   varint, then per header: keyLength varint, key, valueLength varint (-1 null), value.
 *   Records after the header are compressed as one blob when attributes bits 0-2 != 0.
 *
 * Nothing here trusts a length: every read is bounded by the buffer, decompression by
 * kafka_batch_limits.max_uncompressed. Functions returning int16_t return a Kafka ErrorCode.
 */
#ifndef BROOK_KAFKA_BATCH_H
#define BROOK_KAFKA_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define KAFKA_BATCH_HDR_SIZE 61
#define KAFKA_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define KAFKA_BATCH_MAGIC 2

/* Kafka ErrorCode values used by the batch layer. */
#define KAFKA_BATCH_ERR_NONE ((int16_t)0)
#define KAFKA_BATCH_ERR_CORRUPT_MESSAGE ((int16_t)2)
#define KAFKA_BATCH_ERR_MESSAGE_TOO_LARGE ((int16_t)10)
#define KAFKA_BATCH_ERR_INVALID_TIMESTAMP ((int16_t)32)
#define KAFKA_BATCH_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT ((int16_t)43)
#define KAFKA_BATCH_ERR_UNSUPPORTED_COMPRESSION_TYPE ((int16_t)76)
#define KAFKA_BATCH_ERR_INVALID_RECORD ((int16_t)87)

/* attributes bits */
#define KAFKA_BATCH_ATTR_COMPRESSION_MASK 0x07
#define KAFKA_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define KAFKA_BATCH_ATTR_TRANSACTIONAL 0x10
#define KAFKA_BATCH_ATTR_CONTROL 0x20

/* byte offsets of the fields the broker rewrites or peeks at */
#define KAFKA_BATCH_OFF_BASE_OFFSET 0
#define KAFKA_BATCH_OFF_LENGTH 8
#define KAFKA_BATCH_OFF_LEADER_EPOCH 12
#define KAFKA_BATCH_OFF_MAGIC 16
#define KAFKA_BATCH_OFF_CRC 17
#define KAFKA_BATCH_OFF_ATTRIBUTES 21
#define KAFKA_BATCH_OFF_LAST_OFFSET_DELTA 23
#define KAFKA_BATCH_OFF_MAX_TIMESTAMP 35

typedef struct kafka_batch_hdr {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t records_count;
} kafka_batch_hdr;

static inline size_t kafka_batch_total_size(const kafka_batch_hdr *h)
{
	return KAFKA_BATCH_LOG_OVERHEAD + (size_t)(uint32_t)h->batch_length;
}

static inline int kafka_batch_compression(const kafka_batch_hdr *h)
{
	return h->attributes & KAFKA_BATCH_ATTR_COMPRESSION_MASK;
}

static inline int64_t kafka_batch_last_offset(const kafka_batch_hdr *h)
{
	return h->base_offset + h->last_offset_delta;
}

/* Big-endian helpers (also used by the log). */
static inline uint16_t kafka_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t kafka_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t kafka_be64(const uint8_t *p)
{
	return (uint64_t)kafka_be32(p) << 32 | kafka_be32(p + 4);
}
static inline void kafka_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void kafka_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void kafka_put_be64(uint8_t *p, uint64_t v)
{
	kafka_put_be32(p, (uint32_t)(v >> 32));
	kafka_put_be32(p + 4, (uint32_t)v);
}

/*
 * Parses the 61-byte header. BROOK_OK; BROOK_AGAIN when n < 61 (need more bytes);
 * BROOK_ERR when the header cannot be a v2 batch (magic != 2, batchLength < 49). Does not
 * check the CRC nor that the whole batch is present.
 */
int kafka_batch_parse_hdr(const uint8_t *p, size_t n, kafka_batch_hdr *h);

/* CRC-32C the batch should carry (over attributes..end); p holds the whole batch. */
uint32_t kafka_batch_compute_crc(const uint8_t *p, size_t n);

typedef struct kafka_batch_limits {
	size_t max_batch_bytes;  /* whole batch incl. 12-byte log overhead; 0 = unlimited */
	size_t max_uncompressed; /* bound on decompressed records; 0 = 64 MiB */
	/* Produce-time rules: recordsCount >= 1, offsetDelta of record i == i, lastOffsetDelta
	 * == recordsCount - 1. Off (stored/compacted data): deltas only increase and stay
	 * <= lastOffsetDelta, and empty batches are allowed. */
	bool strict;
} kafka_batch_limits;

/*
 * Validates one whole batch p[0..n): n == 12 + batchLength, magic, CRC, attributes
 * (known codec; control batches only when not strict) and every record (bounded varints,
 * lengths inside the batch, count == recordsCount, offset deltas, timestamps). Compressed
 * batches are decompressed (bounded) and their records checked the same way.
 * Returns 0 or a Kafka ErrorCode (CORRUPT_MESSAGE for structure/CRC, MESSAGE_TOO_LARGE,
 * UNSUPPORTED_COMPRESSION_TYPE, INVALID_RECORD), with a human reason in why. h may be NULL.
 */
int16_t kafka_batch_validate(const uint8_t *p, size_t n, const kafka_batch_limits *lim,
			     kafka_batch_hdr *h, char *why, size_t whylen);

/*
 * Splits a Produce request's Records field (concatenated batches) and validates each.
 * Calls cb(batch, len, hdr, arg) for each valid batch in order (the pointer is into
 * `records`, writable so the log can rewrite offsets in place); stops at the first
 * non-zero return of cb and returns it. An empty field or a trailing partial batch is
 * CORRUPT_MESSAGE; at most max_batches batches (0: 1000).
 */
typedef int16_t (*kafka_batch_cb)(uint8_t *batch, size_t len, const kafka_batch_hdr *h,
				  void *arg);
int16_t kafka_produce_records_split(uint8_t *records, size_t n, const kafka_batch_limits *lim,
				    int max_batches, kafka_batch_cb cb, void *arg, char *why,
				    size_t whylen);

/* One record as iterated. Pointers are into the batch or the iterator's buffer: valid
 * until the next call or release. Lengths of -1 mean null. */
typedef struct kafka_record {
	int64_t offset;
	int64_t timestamp;
	int8_t attributes;
	int32_t offset_delta;
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len;
	int32_t headers_count;
	const uint8_t *headers; /* headers_count encoded headers, already validated */
	size_t headers_len;
} kafka_record;

typedef struct kafka_record_header {
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len; /* -1 null */
} kafka_record_header;

/* Decodes the next header at *p (n bytes left; from kafka_record.headers) and advances. */
int kafka_record_header_next(const uint8_t **p, size_t *n, kafka_record_header *h);

typedef struct kafka_record_iter {
	kafka_batch_hdr hdr;
	const uint8_t *p; /* records area */
	size_t n;
	size_t pos;
	int32_t index;
	int32_t prev_delta;
	bool strict;
	brook_buf decomp; /* decompressed records when the batch is compressed */
	char why[128];
} kafka_record_iter;

/*
 * Starts iterating the batch p[0..n) (whole batch; the CRC is NOT checked here, use
 * kafka_batch_validate first for untrusted input). Decompresses into the iterator's
 * buffer, bounded by max_uncompressed (0 = 64 MiB). Returns 0 or a Kafka ErrorCode (reason
 * in it->why). Always call kafka_record_iter_release, even on error.
 */
int16_t kafka_record_iter_init(kafka_record_iter *it, const uint8_t *p, size_t n,
			       size_t max_uncompressed, bool strict);
/* 1: *r holds the next record; 0: end (recordsCount matched); -1: malformed (it->why). */
int kafka_record_iter_next(kafka_record_iter *it, kafka_record *r);
void kafka_record_iter_release(kafka_record_iter *it);

/*
 * Builder of uncompressed or compressed v2 batches (internal records, compaction, tests).
 * Usage: init, optionally set_producer/attributes, add records, finish → the batch
 * (caller owns it, free()), CRC computed.
 */
typedef struct kafka_batch_builder {
	brook_buf records;
	int64_t base_offset;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int32_t count;
	int32_t last_offset_delta;
	int32_t next_delta;
	int32_t force_last_delta; /* -1: last added delta */
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int16_t attributes; /* timestamp type, transactional, control bits; codec at finish */
	int32_t leader_epoch;
} kafka_batch_builder;

/* base_timestamp: timestamp deltas are relative to it (use the first record's). */
void kafka_batch_builder_init(kafka_batch_builder *b, int64_t base_offset,
			      int64_t base_timestamp);
void kafka_batch_builder_set_producer(kafka_batch_builder *b, int64_t producer_id,
				      int16_t producer_epoch, int32_t base_sequence);
/* offset_delta -1: the next one (previous + 1). Deltas must increase. */
void kafka_batch_builder_add(kafka_batch_builder *b, int32_t offset_delta, int64_t timestamp,
			     const void *key, int32_t key_len, const void *value,
			     int32_t value_len, const kafka_record_header *headers,
			     int nheaders);
/* Copies an iterated record (its offsetDelta, timestamp, key, value and encoded headers). */
void kafka_batch_builder_add_record(kafka_batch_builder *b, const kafka_record *r);
/* Returns the batch (malloc'd, caller frees) and its length; releases the builder. */
uint8_t *kafka_batch_builder_finish(kafka_batch_builder *b, int codec, size_t *len);
void kafka_batch_builder_release(kafka_batch_builder *b);

#endif
