/*
 * api.c — the table of APIs brook supports, request/response headers, and wrappers
 * that pick the schema and flexibility of an (API, version) pair. See api.h.
 */
#include "kafka/api.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "kafka/msgs.h"

#define NF KAFKA_NEVER_FLEXIBLE
#define API(k, nm, mn, mx, fl, s)                                                             \
	{k, nm, mn, mx, fl, &kafka_##s##_req_schema, &kafka_##s##_resp_schema}

/* Sorted by key. flexible_min from each message's "flexibleVersions". */
const kafka_api_info kafka_apis[] = {
	API(KAFKA_API_PRODUCE, "Produce", 3, 7, 9, produce),
	API(KAFKA_API_FETCH, "Fetch", 4, 11, 12, fetch),
	API(KAFKA_API_LIST_OFFSETS, "ListOffsets", 0, 5, 6, list_offsets),
	API(KAFKA_API_METADATA, "Metadata", 0, 8, 9, metadata),
	API(KAFKA_API_OFFSET_COMMIT, "OffsetCommit", 0, 7, 8, offset_commit),
	API(KAFKA_API_OFFSET_FETCH, "OffsetFetch", 0, 5, 6, offset_fetch),
	API(KAFKA_API_FIND_COORDINATOR, "FindCoordinator", 0, 2, 3, find_coordinator),
	API(KAFKA_API_JOIN_GROUP, "JoinGroup", 0, 5, 6, join_group),
	API(KAFKA_API_HEARTBEAT, "Heartbeat", 0, 3, 4, heartbeat),
	API(KAFKA_API_LEAVE_GROUP, "LeaveGroup", 0, 3, 4, leave_group),
	API(KAFKA_API_SYNC_GROUP, "SyncGroup", 0, 3, 4, sync_group),
	API(KAFKA_API_DESCRIBE_GROUPS, "DescribeGroups", 0, 4, 5, describe_groups),
	API(KAFKA_API_LIST_GROUPS, "ListGroups", 0, 2, 3, list_groups),
	API(KAFKA_API_SASL_HANDSHAKE, "SaslHandshake", 0, 1, NF, sasl_handshake),
	API(KAFKA_API_API_VERSIONS, "ApiVersions", 0, 3, 3, api_versions),
	API(KAFKA_API_CREATE_TOPICS, "CreateTopics", 0, 4, 5, create_topics),
	API(KAFKA_API_DELETE_TOPICS, "DeleteTopics", 0, 3, 4, delete_topics),
	API(KAFKA_API_DELETE_RECORDS, "DeleteRecords", 0, 1, 2, delete_records),
	API(KAFKA_API_INIT_PRODUCER_ID, "InitProducerId", 0, 1, 2, init_producer_id),
	API(KAFKA_API_DESCRIBE_CONFIGS, "DescribeConfigs", 0, 2, 4, describe_configs),
	API(KAFKA_API_ALTER_CONFIGS, "AlterConfigs", 0, 1, 2, alter_configs),
	API(KAFKA_API_SASL_AUTHENTICATE, "SaslAuthenticate", 0, 1, 2, sasl_authenticate),
	API(KAFKA_API_CREATE_PARTITIONS, "CreatePartitions", 0, 1, 2, create_partitions),
};
const size_t kafka_napis = sizeof kafka_apis / sizeof kafka_apis[0];

const kafka_api_info *kafka_api_lookup(int16_t key)
{
	for (size_t i = 0; i < kafka_napis; i++)
		if (kafka_apis[i].key == key)
			return &kafka_apis[i];
	return NULL;
}

/* Names of the keys brook does not implement, for logs and metrics. */
static const char *const other_names[] = {
	[4] = "LeaderAndIsr",
	[5] = "StopReplica",
	[6] = "UpdateMetadata",
	[7] = "ControlledShutdown",
	[23] = "OffsetForLeaderEpoch",
	[24] = "AddPartitionsToTxn",
	[25] = "AddOffsetsToTxn",
	[26] = "EndTxn",
	[27] = "WriteTxnMarkers",
	[28] = "TxnOffsetCommit",
	[29] = "DescribeAcls",
	[30] = "CreateAcls",
	[31] = "DeleteAcls",
	[34] = "AlterReplicaLogDirs",
	[35] = "DescribeLogDirs",
	[38] = "CreateDelegationToken",
	[39] = "RenewDelegationToken",
	[40] = "ExpireDelegationToken",
	[41] = "DescribeDelegationToken",
	[42] = "DeleteGroups",
	[43] = "ElectLeaders",
	[44] = "IncrementalAlterConfigs",
	[45] = "AlterPartitionReassignments",
	[46] = "ListPartitionReassignments",
	[47] = "OffsetDelete",
	[48] = "DescribeClientQuotas",
	[49] = "AlterClientQuotas",
	[50] = "DescribeUserScramCredentials",
	[51] = "AlterUserScramCredentials",
	[60] = "DescribeCluster",
	[61] = "DescribeProducers",
	[65] = "DescribeTransactions",
	[66] = "ListTransactions",
	[67] = "AllocateProducerIds",
	[68] = "ConsumerGroupHeartbeat",
	[69] = "ConsumerGroupDescribe",
	[71] = "GetTelemetrySubscriptions",
	[72] = "PushTelemetry",
	[75] = "DescribeTopicPartitions",
};

const char *kafka_api_name(int16_t key)
{
	const kafka_api_info *api = kafka_api_lookup(key);
	if (api)
		return api->name;
	if (key >= 0 && (size_t)key < sizeof other_names / sizeof other_names[0] &&
	    other_names[key])
		return other_names[key];
	return "Unknown";
}

int kafka_req_header_decode(kafka_rd *rd, kafka_req_header *h)
{
	h->api_key = kafka_rd_i16(rd);
	h->api_version = kafka_rd_i16(rd);
	h->correlation_id = kafka_rd_i32(rd);
	h->client_id = kafka_rd_str(rd); /* classic even in header v2 */
	if (rd->failed) {
		char msg[sizeof rd->err];
		snprintf(msg, sizeof msg, "request header: %s", rd->err);
		memcpy(rd->err, msg, sizeof msg);
		return BROOK_ERR;
	}
	const kafka_api_info *api = kafka_api_lookup(h->api_key);
	if (api && kafka_api_supported(api, h->api_version) &&
	    kafka_api_flexible(api, h->api_version)) {
		kafka_rd_skip_tags(rd);
		if (rd->failed) {
			char msg[sizeof rd->err];
			snprintf(msg, sizeof msg, "request header tags: %s", rd->err);
			memcpy(rd->err, msg, sizeof msg);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

void kafka_req_header_encode(brook_buf *out, const kafka_req_header *h)
{
	kafka_wr_i16(out, h->api_key);
	kafka_wr_i16(out, h->api_version);
	kafka_wr_i32(out, h->correlation_id);
	kafka_wr_str(out, h->client_id);
	const kafka_api_info *api = kafka_api_lookup(h->api_key);
	if (api && kafka_api_flexible(api, h->api_version))
		kafka_wr_empty_tags(out);
}

bool kafka_resp_header_flexible(int16_t key, int16_t ver)
{
	if (key == KAFKA_API_API_VERSIONS)
		return false;
	const kafka_api_info *api = kafka_api_lookup(key);
	return api && kafka_api_flexible(api, ver);
}

void kafka_resp_header_encode(brook_buf *out, int32_t correlation_id, bool flexible_header)
{
	kafka_wr_i32(out, correlation_id);
	if (flexible_header)
		kafka_wr_empty_tags(out);
}

static int decode_with(const kafka_schema *s, const kafka_api_info *api, int16_t ver,
		       kafka_rd *rd, brook_arena *arena, void **out)
{
	void *msg = brook_arena_alloc(arena, s->size);
	*out = msg;
	return kafka_decode(s, ver, kafka_api_flexible(api, ver), rd, msg, arena);
}

int kafka_request_decode(const kafka_api_info *api, int16_t ver, kafka_rd *rd,
			 brook_arena *arena, void **out)
{
	return decode_with(api->request, api, ver, rd, arena, out);
}

int kafka_response_decode(const kafka_api_info *api, int16_t ver, kafka_rd *rd,
			  brook_arena *arena, void **out)
{
	return decode_with(api->response, api, ver, rd, arena, out);
}

void kafka_request_encode(const kafka_api_info *api, int16_t ver, const void *req,
			  brook_buf *out)
{
	kafka_encode(api->request, ver, kafka_api_flexible(api, ver), req, out);
}

void kafka_response_encode(const kafka_api_info *api, int16_t ver, const void *resp,
			   brook_buf *out)
{
	kafka_encode(api->response, ver, kafka_api_flexible(api, ver), resp, out);
}
