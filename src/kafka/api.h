/*
 * api.h — the Kafka APIs brook speaks: keys, supported versions, schemas, headers.
 *
 * kafka_apis[] is the single source of truth for what the broker advertises in
 * ApiVersions and accepts: one row per API with its version range, the first flexible
 * version (Kafka's "flexibleVersions" from the JSON definitions; KAFKA_NEVER_FLEXIBLE if
 * none) and the request/response schemas (msgs.h). Raising max_ver is all it takes to
 * support a later version once the schema tables have its fields.
 *
 * Headers: request header v1 (classic) is api_key, api_version, correlation_id,
 * client_id (nullable classic string); v2 (flexible versions) adds a tagged-field
 * section (client_id stays a classic string). Response header v0 is the correlation id;
 * v1 adds a tagged-field section — except that ApiVersions responses always use v0, so
 * a client can parse the answer before it knows what the broker supports.
 */
#ifndef BROOK_KAFKA_API_H
#define BROOK_KAFKA_API_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "kafka/codec.h"
#include "kafka/proto.h"

typedef enum {
	KAFKA_API_PRODUCE = 0,
	KAFKA_API_FETCH = 1,
	KAFKA_API_LIST_OFFSETS = 2,
	KAFKA_API_METADATA = 3,
	KAFKA_API_OFFSET_COMMIT = 8,
	KAFKA_API_OFFSET_FETCH = 9,
	KAFKA_API_FIND_COORDINATOR = 10,
	KAFKA_API_JOIN_GROUP = 11,
	KAFKA_API_HEARTBEAT = 12,
	KAFKA_API_LEAVE_GROUP = 13,
	KAFKA_API_SYNC_GROUP = 14,
	KAFKA_API_DESCRIBE_GROUPS = 15,
	KAFKA_API_LIST_GROUPS = 16,
	KAFKA_API_SASL_HANDSHAKE = 17,
	KAFKA_API_API_VERSIONS = 18,
	KAFKA_API_CREATE_TOPICS = 19,
	KAFKA_API_DELETE_TOPICS = 20,
	KAFKA_API_DELETE_RECORDS = 21,
	KAFKA_API_INIT_PRODUCER_ID = 22,
	KAFKA_API_DESCRIBE_CONFIGS = 32,
	KAFKA_API_ALTER_CONFIGS = 33,
	KAFKA_API_SASL_AUTHENTICATE = 36,
	KAFKA_API_CREATE_PARTITIONS = 37,
} kafka_api_key;

#define KAFKA_NEVER_FLEXIBLE INT16_MAX

typedef struct kafka_api_info {
	int16_t key;
	const char *name; /* "Produce", "ApiVersions", ... */
	int16_t min_ver, max_ver;
	int16_t flexible_min; /* first flexible version; KAFKA_NEVER_FLEXIBLE if none */
	const kafka_schema *request, *response;
} kafka_api_info;

extern const kafka_api_info kafka_apis[];
extern const size_t kafka_napis;

/* The row for an API key, or NULL when brook does not implement it. */
const kafka_api_info *kafka_api_lookup(int16_t key);
static inline bool kafka_api_flexible(const kafka_api_info *api, int16_t ver)
{
	return ver >= api->flexible_min;
}
static inline bool kafka_api_supported(const kafka_api_info *api, int16_t ver)
{
	return ver >= api->min_ver && ver <= api->max_ver;
}
/* Kafka's name for any API key (also those brook lacks); "Unknown" otherwise. */
const char *kafka_api_name(int16_t key);

typedef struct kafka_req_header {
	int16_t api_key, api_version;
	int32_t correlation_id;
	kafka_str client_id; /* view into the request buffer; null allowed */
} kafka_req_header;

/*
 * Decode a request header at the start of a frame body (after the 4-byte size). Known
 * APIs at flexible versions use header v2 (tagged fields skipped); everything else,
 * including unknown keys and unsupported versions, decodes the v1 part only, so the
 * server can still answer (e.g. ApiVersions in v0 format with UNSUPPORTED_VERSION).
 * BROOK_OK, or BROOK_ERR with rd->err set. rd is left at the request body.
 */
int kafka_req_header_decode(kafka_rd *rd, kafka_req_header *h);
void kafka_req_header_encode(brook_buf *out, const kafka_req_header *h);
/* Whether the response to (key, version) uses header v1 (never for ApiVersions). */
bool kafka_resp_header_flexible(int16_t key, int16_t ver);
void kafka_resp_header_encode(brook_buf *out, int32_t correlation_id, bool flexible_header);

/*
 * Convenience wrappers for the schemas of an API (flexibility from the table).
 * kafka_request_decode allocates the request struct in the arena; *out is valid until
 * the arena is reset and while the input buffer lives.
 */
int kafka_request_decode(const kafka_api_info *api, int16_t ver, kafka_rd *rd,
			 brook_arena *arena, void **out);
void kafka_request_encode(const kafka_api_info *api, int16_t ver, const void *req,
			  brook_buf *out);
int kafka_response_decode(const kafka_api_info *api, int16_t ver, kafka_rd *rd,
			  brook_arena *arena, void **out);
void kafka_response_encode(const kafka_api_info *api, int16_t ver, const void *resp,
			   brook_buf *out);

#endif
