/*
 * offsets_format.h — the key/value records of Kafka's internal __consumer_offsets topic.
 *
 * brook stores committed offsets and group metadata exactly as Kafka does, so lag tools
 * and `kafka-console-consumer --formatter OffsetsMessageFormatter` can read them. Every
 * key and value starts with an int16 schema version, then the fields of the schema
 * (apache/kafka OffsetCommitKey/OffsetCommitValue/GroupMetadataKey/GroupMetadataValue):
 *
 *   key v0/v1  offset commit   {group string, topic string, partition int32}
 *   key v2     group metadata  {group string}
 *   key v3+    records of newer coordinators (brook skips them)
 *   offset value v0..v3 classic; v4 flexible (compact strings, tagged fields)
 *     {offset int64, leader_epoch int32 (v3+), metadata string, commit_timestamp int64,
 *      expire_timestamp int64 (v1 only)}
 *   group value v0..v3 classic; v4 flexible
 *     {protocol_type string, generation int32, protocol string?, leader string?,
 *      current_state_timestamp int64 (v2+), members [member_id, group_instance_id? (v3+),
 *      client_id, client_host, rebalance_timeout int32 (v1+), session_timeout int32,
 *      subscription bytes, assignment bytes]}
 *   A null value (tombstone) deletes the offset or the group.
 *
 * brook writes key v1 / offset value v3 and key v2 / group value v3, as Kafka 2.1+ does.
 *
 * Decoding is bounded: every length is checked against the bytes that remain before it
 * is used, and an array count must fit in what remains before anything is allocated.
 * Decoded strings and byte fields point into the input (they are not copied): the input
 * must outlive the decoded struct. Member arrays come from the caller's arena.
 */
#ifndef BROOK_BROKER_OFFSETS_FORMAT_H
#define BROOK_BROKER_OFFSETS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

/* A byte string that points into someone else's memory. len -1 means null. */
typedef struct offsets_str {
	const char *ptr;
	int32_t len;
} offsets_str;

enum offsets_key_type {
	OFFSETS_KEY_OFFSET = 1, /* key v0 or v1 */
	OFFSETS_KEY_GROUP = 2,  /* key v2 */
	OFFSETS_KEY_OTHER = 3,  /* v3 and later: not ours, skip */
};

struct offsets_key {
	enum offsets_key_type type;
	int16_t version;
	offsets_str group;
	offsets_str topic; /* OFFSETS_KEY_OFFSET only */
	int32_t partition; /* OFFSETS_KEY_OFFSET only */
};

struct offsets_commit_value {
	int16_t version;
	int64_t offset;
	int32_t leader_epoch; /* -1 when absent (v0..v2) */
	offsets_str metadata;
	int64_t commit_timestamp;
	int64_t expire_timestamp; /* -1 unless v1 */
};

struct offsets_member {
	offsets_str member_id;
	offsets_str group_instance_id; /* len -1: none */
	offsets_str client_id;
	offsets_str client_host;
	int32_t rebalance_timeout; /* v0: the session timeout */
	int32_t session_timeout;
	offsets_str subscription;
	offsets_str assignment;
};

struct offsets_group_value {
	int16_t version;
	offsets_str protocol_type;
	int32_t generation;
	offsets_str protocol;            /* nullable */
	offsets_str leader;              /* nullable */
	int64_t current_state_timestamp; /* -1 when absent */
	struct offsets_member *members;
	int32_t n_members;
};

/* Limits a decoder enforces beyond the input length. */
#define OFFSETS_MAX_MEMBERS 100000

/* The versions brook writes. */
#define OFFSETS_COMMIT_KEY_VERSION   1
#define OFFSETS_GROUP_KEY_VERSION    2
#define OFFSETS_COMMIT_VALUE_VERSION 3
#define OFFSETS_GROUP_VALUE_VERSION  3

/* Encoders append to out. Strings longer than 32767 bytes cannot be encoded (the caller
 * bounds group ids, topics and metadata first; an assertion enforces it). */
void offsets_key_encode_commit(brook_buf *out, offsets_str group, offsets_str topic,
                               int32_t partition);
void offsets_key_encode_group(brook_buf *out, offsets_str group);
void offsets_value_encode_commit(brook_buf *out, const struct offsets_commit_value *v);
void offsets_value_encode_group(brook_buf *out, const struct offsets_group_value *v);

/* Decoders: BROOK_OK, or BROOK_ERR for truncated, oversized or unknown-version input
 * (with a reason in err when err is not NULL). A key of an unknown newer version decodes
 * as OFFSETS_KEY_OTHER with BROOK_OK: the caller skips the record. */
int offsets_key_decode(const uint8_t *p, size_t n, struct offsets_key *out, char *err,
                       size_t errlen);
int offsets_value_decode_commit(const uint8_t *p, size_t n, struct offsets_commit_value *out,
                                char *err, size_t errlen);
int offsets_value_decode_group(const uint8_t *p, size_t n, brook_arena *arena,
                               struct offsets_group_value *out, char *err, size_t errlen);

/* The __consumer_offsets partition that holds a group: Kafka's
 * Utils.abs(groupId.hashCode()) % n, where hashCode is Java's String.hashCode over the
 * UTF-16 code units of the UTF-8 group id (malformed UTF-8 counts as U+FFFD). n > 0. */
int32_t offsets_partition_for(const char *group, size_t len, int32_t n);

/* Java's String.hashCode of a UTF-8 string, exposed for tests. */
int32_t offsets_java_string_hash(const char *s, size_t len);

#endif
