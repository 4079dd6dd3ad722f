/*
 * msgs_core.c — schemas of ApiVersions, Produce, Fetch, ListOffsets and Metadata.
 *
 * Transcribed from apache/kafka clients/src/main/resources/common/message/<Api>.json:
 * field order, "versions", "nullableVersions", "default" and tags as there. Fields of
 * versions beyond what api.c advertises are included where they are regular fields,
 * so raising a max version only needs the newer fields added here.
 */
#include <stddef.h>
#include <stdint.h>

#include "kafka/msgs.h"

#define N -1 /* open upper bound / never nullable */

/* ---- ApiVersions ---- */
#define T kafka_api_versions_req
static const kafka_field kafka_api_versions_req_schema_fields[] = {
	KF_STR(T, client_software_name, "ClientSoftwareName", 3, N, N),
	KF_STR(T, client_software_version, "ClientSoftwareVersion", 3, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_api_versions_req_schema, kafka_api_versions_req, "ApiVersionsRequest");

#define T kafka_api_version
static const kafka_field api_version_fields[] = {
	KF_I16(T, api_key, "ApiKey", 0, N, 0),
	KF_I16(T, min_version, "MinVersion", 0, N, 0),
	KF_I16(T, max_version, "MaxVersion", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(api_version, kafka_api_version, "ApiVersion");

#define T kafka_supported_feature_key
static const kafka_field supported_feature_fields[] = {
	KF_STR(T, name, "Name", 3, N, N),
	KF_I16(T, min_version, "MinVersion", 3, N, 0),
	KF_I16(T, max_version, "MaxVersion", 3, N, 0),
};
#undef T
static KAFKA_SCHEMA(supported_feature, kafka_supported_feature_key, "SupportedFeatureKey");

#define T kafka_finalized_feature_key
static const kafka_field finalized_feature_fields[] = {
	KF_STR(T, name, "Name", 3, N, N),
	KF_I16(T, max_version_level, "MaxVersionLevel", 3, N, 0),
	KF_I16(T, min_version_level, "MinVersionLevel", 3, N, 0),
};
#undef T
static KAFKA_SCHEMA(finalized_feature, kafka_finalized_feature_key, "FinalizedFeatureKey");

#define T kafka_api_versions_resp
static const kafka_field kafka_api_versions_resp_schema_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_ARR(T, api_keys, n_api_keys, "ApiKeys", &api_version, 0, N, N),
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_TAG_ARR(T, supported_features, n_supported_features, "SupportedFeatures",
		   &supported_feature, 3, N, 0),
	KF_TAG(T, finalized_features_epoch, "FinalizedFeaturesEpoch", KAFKA_T_INT64, 3, N, N, 1,
	       -1),
	KF_TAG_ARR(T, finalized_features, n_finalized_features, "FinalizedFeatures",
		   &finalized_feature, 3, N, 2),
	KF_TAG(T, zk_migration_ready, "ZkMigrationReady", KAFKA_T_BOOL, 3, N, N, 3, 0),
};
#undef T
KAFKA_SCHEMA(kafka_api_versions_resp_schema, kafka_api_versions_resp, "ApiVersionsResponse");

/* ---- Produce ---- */
#define T kafka_partition_produce_data
static const kafka_field partition_produce_data_fields[] = {
	KF_I32(T, index, "Index", 0, N, 0),
	KF_RECORDS(T, records, "Records", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(partition_produce_data, kafka_partition_produce_data,
		    "PartitionProduceData");

#define T kafka_topic_produce_data
static const kafka_field topic_produce_data_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partition_data, n_partition_data, "PartitionData", &partition_produce_data, 0,
	       N, N),
};
#undef T
static KAFKA_SCHEMA(topic_produce_data, kafka_topic_produce_data, "TopicProduceData");

#define T kafka_produce_req
static const kafka_field kafka_produce_req_schema_fields[] = {
	KF_STR(T, transactional_id, "TransactionalId", 3, N, 3),
	KF_I16(T, acks, "Acks", 0, N, 0),
	KF_I32(T, timeout_ms, "TimeoutMs", 0, N, 0),
	KF_ARR(T, topic_data, n_topic_data, "TopicData", &topic_produce_data, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_produce_req_schema, kafka_produce_req, "ProduceRequest");

#define T kafka_batch_index_and_error_message
static const kafka_field batch_index_error_fields[] = {
	KF_I32(T, batch_index, "BatchIndex", 8, N, 0),
	KF_STR(T, batch_index_error_message, "BatchIndexErrorMessage", 8, N, 8),
};
#undef T
static KAFKA_SCHEMA(batch_index_error, kafka_batch_index_and_error_message,
		    "BatchIndexAndErrorMessage");

#define T kafka_partition_produce_response
static const kafka_field partition_produce_response_fields[] = {
	KF_I32(T, index, "Index", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_I64(T, base_offset, "BaseOffset", 0, N, 0),
	KF_I64(T, log_append_time_ms, "LogAppendTimeMs", 2, N, -1),
	KF_I64(T, log_start_offset, "LogStartOffset", 5, N, -1),
	KF_ARR(T, record_errors, n_record_errors, "RecordErrors", &batch_index_error, 8, N, N),
	KF_STR(T, error_message, "ErrorMessage", 8, N, 8),
};
#undef T
static KAFKA_SCHEMA(partition_produce_response, kafka_partition_produce_response,
		    "PartitionProduceResponse");

#define T kafka_topic_produce_response
static const kafka_field topic_produce_response_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partition_responses, n_partition_responses, "PartitionResponses",
	       &partition_produce_response, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(topic_produce_response, kafka_topic_produce_response,
		    "TopicProduceResponse");

#define T kafka_produce_resp
static const kafka_field kafka_produce_resp_schema_fields[] = {
	KF_ARR(T, responses, n_responses, "Responses", &topic_produce_response, 0, N, N),
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_produce_resp_schema, kafka_produce_resp, "ProduceResponse");

/* ---- Fetch ---- */
#define T kafka_fetch_partition
static const kafka_field fetch_partition_fields[] = {
	KF_I32(T, partition, "Partition", 0, N, 0),
	KF_I32(T, current_leader_epoch, "CurrentLeaderEpoch", 9, N, -1),
	KF_I64(T, fetch_offset, "FetchOffset", 0, N, 0),
	KF_I32(T, last_fetched_epoch, "LastFetchedEpoch", 12, N, -1),
	KF_I64(T, log_start_offset, "LogStartOffset", 5, N, -1),
	KF_I32(T, partition_max_bytes, "PartitionMaxBytes", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(fetch_partition, kafka_fetch_partition, "FetchPartition");

#define T kafka_fetch_topic
static const kafka_field fetch_topic_fields[] = {
	KF_STR(T, topic, "Topic", 0, 12, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &fetch_partition, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(fetch_topic, kafka_fetch_topic, "FetchTopic");

#define T kafka_forgotten_topic
static const kafka_field forgotten_topic_fields[] = {
	KF_STR(T, topic, "Topic", 7, 12, N),
	KF_PARR(T, partitions, n_partitions, "Partitions", KAFKA_T_INT32, 7, N, N),
};
#undef T
static KAFKA_SCHEMA(forgotten_topic, kafka_forgotten_topic, "ForgottenTopic");

#define T kafka_fetch_req
static const kafka_field kafka_fetch_req_schema_fields[] = {
	KF_I32(T, replica_id, "ReplicaId", 0, 14, -1),
	KF_I32(T, max_wait_ms, "MaxWaitMs", 0, N, 0),
	KF_I32(T, min_bytes, "MinBytes", 0, N, 0),
	KF_I32(T, max_bytes, "MaxBytes", 3, N, 0x7fffffff),
	KF_I8(T, isolation_level, "IsolationLevel", 4, N, 0),
	KF_I32(T, session_id, "SessionId", 7, N, 0),
	KF_I32(T, session_epoch, "SessionEpoch", 7, N, -1),
	KF_ARR(T, topics, n_topics, "Topics", &fetch_topic, 0, N, N),
	KF_ARR(T, forgotten_topics_data, n_forgotten_topics_data, "ForgottenTopicsData",
	       &forgotten_topic, 7, N, N),
	KF_STR(T, rack_id, "RackId", 11, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_fetch_req_schema, kafka_fetch_req, "FetchRequest");

#define T kafka_aborted_transaction
static const kafka_field aborted_transaction_fields[] = {
	KF_I64(T, producer_id, "ProducerId", 4, N, 0),
	KF_I64(T, first_offset, "FirstOffset", 4, N, 0),
};
#undef T
static KAFKA_SCHEMA(aborted_transaction, kafka_aborted_transaction, "AbortedTransaction");

#define T kafka_fetch_partition_data
static const kafka_field fetch_partition_data_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_I64(T, high_watermark, "HighWatermark", 0, N, 0),
	KF_I64(T, last_stable_offset, "LastStableOffset", 4, N, -1),
	KF_I64(T, log_start_offset, "LogStartOffset", 5, N, -1),
	KF_ARR(T, aborted_transactions, n_aborted_transactions, "AbortedTransactions",
	       &aborted_transaction, 4, N, 4),
	KF_I32(T, preferred_read_replica, "PreferredReadReplica", 11, N, -1),
	KF_RECORDS(T, records, "Records", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(fetch_partition_data, kafka_fetch_partition_data, "PartitionData");

#define T kafka_fetchable_topic_response
static const kafka_field fetchable_topic_response_fields[] = {
	KF_STR(T, topic, "Topic", 0, 12, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &fetch_partition_data, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(fetchable_topic_response, kafka_fetchable_topic_response,
		    "FetchableTopicResponse");

#define T kafka_fetch_resp
static const kafka_field kafka_fetch_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_I16(T, error_code, "ErrorCode", 7, N, 0),
	KF_I32(T, session_id, "SessionId", 7, N, 0),
	KF_ARR(T, responses, n_responses, "Responses", &fetchable_topic_response, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_fetch_resp_schema, kafka_fetch_resp, "FetchResponse");

/* ---- ListOffsets ---- */
#define T kafka_list_offsets_partition
static const kafka_field list_offsets_partition_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I32(T, current_leader_epoch, "CurrentLeaderEpoch", 4, N, -1),
	KF_I64(T, timestamp, "Timestamp", 0, N, 0),
	KF_I32(T, max_num_offsets, "MaxNumOffsets", 0, 0, 1),
};
#undef T
static KAFKA_SCHEMA(list_offsets_partition, kafka_list_offsets_partition,
		    "ListOffsetsPartition");

#define T kafka_list_offsets_topic
static const kafka_field list_offsets_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &list_offsets_partition, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(list_offsets_topic, kafka_list_offsets_topic, "ListOffsetsTopic");

#define T kafka_list_offsets_req
static const kafka_field kafka_list_offsets_req_schema_fields[] = {
	KF_I32(T, replica_id, "ReplicaId", 0, N, 0),
	KF_I8(T, isolation_level, "IsolationLevel", 2, N, 0),
	KF_ARR(T, topics, n_topics, "Topics", &list_offsets_topic, 0, N, N),
	KF_I32(T, timeout_ms, "TimeoutMs", 10, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_list_offsets_req_schema, kafka_list_offsets_req, "ListOffsetsRequest");

#define T kafka_list_offsets_partition_response
static const kafka_field list_offsets_partition_response_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_PARR(T, old_style_offsets, n_old_style_offsets, "OldStyleOffsets", KAFKA_T_INT64, 0,
		0, N),
	KF_I64(T, timestamp, "Timestamp", 1, N, -1),
	KF_I64(T, offset, "Offset", 1, N, -1),
	KF_I32(T, leader_epoch, "LeaderEpoch", 4, N, -1),
};
#undef T
static KAFKA_SCHEMA(list_offsets_partition_response, kafka_list_offsets_partition_response,
		    "ListOffsetsPartitionResponse");

#define T kafka_list_offsets_topic_response
static const kafka_field list_offsets_topic_response_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &list_offsets_partition_response, 0,
	       N, N),
};
#undef T
static KAFKA_SCHEMA(list_offsets_topic_response, kafka_list_offsets_topic_response,
		    "ListOffsetsTopicResponse");

#define T kafka_list_offsets_resp
static const kafka_field kafka_list_offsets_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 2, N, 0),
	KF_ARR(T, topics, n_topics, "Topics", &list_offsets_topic_response, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_list_offsets_resp_schema, kafka_list_offsets_resp, "ListOffsetsResponse");

/* ---- Metadata ---- */
#define T kafka_metadata_request_topic
static const kafka_field metadata_request_topic_fields[] = {
	KF_UUID(T, topic_id, "TopicId", 10, N),
	KF_STR(T, name, "Name", 0, N, 10),
};
#undef T
static KAFKA_SCHEMA(metadata_request_topic, kafka_metadata_request_topic,
		    "MetadataRequestTopic");

#define T kafka_metadata_req
static const kafka_field kafka_metadata_req_schema_fields[] = {
	KF_ARR(T, topics, n_topics, "Topics", &metadata_request_topic, 0, N, 1),
	KF_BOOL(T, allow_auto_topic_creation, "AllowAutoTopicCreation", 4, N, 1),
	KF_BOOL(T, include_cluster_authorized_operations, "IncludeClusterAuthorizedOperations",
		8, 10, 0),
	KF_BOOL(T, include_topic_authorized_operations, "IncludeTopicAuthorizedOperations", 8,
		N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_metadata_req_schema, kafka_metadata_req, "MetadataRequest");

#define T kafka_metadata_response_broker
static const kafka_field metadata_response_broker_fields[] = {
	KF_I32(T, node_id, "NodeId", 0, N, 0),
	KF_STR(T, host, "Host", 0, N, N),
	KF_I32(T, port, "Port", 0, N, 0),
	KF_STR(T, rack, "Rack", 1, N, 1),
};
#undef T
static KAFKA_SCHEMA(metadata_response_broker, kafka_metadata_response_broker,
		    "MetadataResponseBroker");

#define T kafka_metadata_response_partition
static const kafka_field metadata_response_partition_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I32(T, leader_id, "LeaderId", 0, N, 0),
	KF_I32(T, leader_epoch, "LeaderEpoch", 7, N, -1),
	KF_PARR(T, replica_nodes, n_replica_nodes, "ReplicaNodes", KAFKA_T_INT32, 0, N, N),
	KF_PARR(T, isr_nodes, n_isr_nodes, "IsrNodes", KAFKA_T_INT32, 0, N, N),
	KF_PARR(T, offline_replicas, n_offline_replicas, "OfflineReplicas", KAFKA_T_INT32, 5, N,
		N),
};
#undef T
static KAFKA_SCHEMA(metadata_response_partition, kafka_metadata_response_partition,
		    "MetadataResponsePartition");

#define T kafka_metadata_response_topic
static const kafka_field metadata_response_topic_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, name, "Name", 0, N, 12),
	KF_UUID(T, topic_id, "TopicId", 10, N),
	KF_BOOL(T, is_internal, "IsInternal", 1, N, 0),
	KF_ARR(T, partitions, n_partitions, "Partitions", &metadata_response_partition, 0, N, N),
	KF_I32(T, topic_authorized_operations, "TopicAuthorizedOperations", 8, N, INT32_MIN),
};
#undef T
static KAFKA_SCHEMA(metadata_response_topic, kafka_metadata_response_topic,
		    "MetadataResponseTopic");

#define T kafka_metadata_resp
static const kafka_field kafka_metadata_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 3, N, 0),
	KF_ARR(T, brokers, n_brokers, "Brokers", &metadata_response_broker, 0, N, N),
	KF_STR(T, cluster_id, "ClusterId", 2, N, 2),
	KF_I32(T, controller_id, "ControllerId", 1, N, -1),
	KF_ARR(T, topics, n_topics, "Topics", &metadata_response_topic, 0, N, N),
	KF_I32(T, cluster_authorized_operations, "ClusterAuthorizedOperations", 8, 10,
	       INT32_MIN),
};
#undef T
KAFKA_SCHEMA(kafka_metadata_resp_schema, kafka_metadata_resp, "MetadataResponse");
