/*
 * msgs_admin.c — schemas of SaslHandshake, SaslAuthenticate, InitProducerId and the
 * admin APIs: CreateTopics, DeleteTopics, DeleteRecords, DescribeConfigs, AlterConfigs,
 * CreatePartitions. Transcribed from apache/kafka's message JSON (see msgs_core.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "kafka/msgs.h"

#define N -1

/* ---- SaslHandshake / SaslAuthenticate ---- */
#define T kafka_sasl_handshake_req
static const kafka_field kafka_sasl_handshake_req_schema_fields[] = {
	KF_STR(T, mechanism, "Mechanism", 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_sasl_handshake_req_schema, kafka_sasl_handshake_req, "SaslHandshakeRequest");

#define T kafka_sasl_handshake_resp
static const kafka_field kafka_sasl_handshake_resp_schema_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_PARR(T, mechanisms, n_mechanisms, "Mechanisms", KAFKA_T_STRING, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_sasl_handshake_resp_schema, kafka_sasl_handshake_resp,
	     "SaslHandshakeResponse");

#define T kafka_sasl_authenticate_req
static const kafka_field kafka_sasl_authenticate_req_schema_fields[] = {
	KF_BYTES(T, auth_bytes, "AuthBytes", 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_sasl_authenticate_req_schema, kafka_sasl_authenticate_req,
	     "SaslAuthenticateRequest");

#define T kafka_sasl_authenticate_resp
static const kafka_field kafka_sasl_authenticate_resp_schema_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 0, N, 0),
	KF_BYTES(T, auth_bytes, "AuthBytes", 0, N, N),
	KF_I64(T, session_lifetime_ms, "SessionLifetimeMs", 1, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_sasl_authenticate_resp_schema, kafka_sasl_authenticate_resp,
	     "SaslAuthenticateResponse");

/* ---- InitProducerId ---- */
#define T kafka_init_producer_id_req
static const kafka_field kafka_init_producer_id_req_schema_fields[] = {
	KF_STR(T, transactional_id, "TransactionalId", 0, N, 0),
	KF_I32(T, transaction_timeout_ms, "TransactionTimeoutMs", 0, N, 0),
	KF_I64(T, producer_id, "ProducerId", 3, N, -1),
	KF_I16(T, producer_epoch, "ProducerEpoch", 3, N, -1),
};
#undef T
KAFKA_SCHEMA(kafka_init_producer_id_req_schema, kafka_init_producer_id_req,
	     "InitProducerIdRequest");

#define T kafka_init_producer_id_resp
static const kafka_field kafka_init_producer_id_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_I64(T, producer_id, "ProducerId", 0, N, -1),
	KF_I16(T, producer_epoch, "ProducerEpoch", 0, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_init_producer_id_resp_schema, kafka_init_producer_id_resp,
	     "InitProducerIdResponse");

/* ---- CreateTopics ---- */
#define T kafka_creatable_replica_assignment
static const kafka_field ct_assignment_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_PARR(T, broker_ids, n_broker_ids, "BrokerIds", KAFKA_T_INT32, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(ct_assignment, kafka_creatable_replica_assignment,
		    "CreatableReplicaAssignment");

#define T kafka_creatable_topic_config
static const kafka_field ct_config_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_STR(T, value, "Value", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(ct_config, kafka_creatable_topic_config, "CreatableTopicConfig");

#define T kafka_creatable_topic
static const kafka_field creatable_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_I32(T, num_partitions, "NumPartitions", 0, N, 0),
	KF_I16(T, replication_factor, "ReplicationFactor", 0, N, 0),
	KF_ARR(T, assignments, n_assignments, "Assignments", &ct_assignment, 0, N, N),
	KF_ARR(T, configs, n_configs, "Configs", &ct_config, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(creatable_topic, kafka_creatable_topic, "CreatableTopic");

#define T kafka_create_topics_req
static const kafka_field kafka_create_topics_req_schema_fields[] = {
	KF_ARR(T, topics, n_topics, "Topics", &creatable_topic, 0, N, N),
	KF_I32(T, timeout_ms, "timeoutMs", 0, N, 60000),
	KF_BOOL(T, validate_only, "validateOnly", 1, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_create_topics_req_schema, kafka_create_topics_req, "CreateTopicsRequest");

#define T kafka_creatable_topic_configs
static const kafka_field ct_result_config_fields[] = {
	KF_STR(T, name, "Name", 5, N, N),
	KF_STR(T, value, "Value", 5, N, 5),
	KF_BOOL(T, read_only, "ReadOnly", 5, N, 0),
	KF_I8(T, config_source, "ConfigSource", 5, N, -1),
	KF_BOOL(T, is_sensitive, "IsSensitive", 5, N, 0),
};
#undef T
static KAFKA_SCHEMA(ct_result_config, kafka_creatable_topic_configs, "CreatableTopicConfigs");

#define T kafka_creatable_topic_result
static const kafka_field ct_result_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_UUID(T, topic_id, "TopicId", 7, N),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 1, N, 0),
	KF_I32(T, num_partitions, "NumPartitions", 5, N, -1),
	KF_I16(T, replication_factor, "ReplicationFactor", 5, N, -1),
	KF_ARR(T, configs, n_configs, "Configs", &ct_result_config, 5, N, 5),
	KF_TAG(T, topic_config_error_code, "TopicConfigErrorCode", KAFKA_T_INT16, 5, N, N, 0, 0),
};
#undef T
static KAFKA_SCHEMA(ct_result, kafka_creatable_topic_result, "CreatableTopicResult");

#define T kafka_create_topics_resp
static const kafka_field kafka_create_topics_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 2, N, 0),
	KF_ARR(T, topics, n_topics, "Topics", &ct_result, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_create_topics_resp_schema, kafka_create_topics_resp, "CreateTopicsResponse");

/* ---- DeleteTopics ---- */
#define T kafka_delete_topic_state
static const kafka_field delete_topic_state_fields[] = {
	KF_STR(T, name, "Name", 6, N, 6),
	KF_UUID(T, topic_id, "TopicId", 6, N),
};
#undef T
static KAFKA_SCHEMA(delete_topic_state, kafka_delete_topic_state, "DeleteTopicState");

#define T kafka_delete_topics_req
static const kafka_field kafka_delete_topics_req_schema_fields[] = {
	KF_ARR(T, topics, n_topics, "Topics", &delete_topic_state, 6, N, N),
	KF_PARR(T, topic_names, n_topic_names, "TopicNames", KAFKA_T_STRING, 0, 5, N),
	KF_I32(T, timeout_ms, "TimeoutMs", 0, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_delete_topics_req_schema, kafka_delete_topics_req, "DeleteTopicsRequest");

#define T kafka_deletable_topic_result
static const kafka_field deletable_topic_result_fields[] = {
	KF_STR(T, name, "Name", 0, N, 6),
	KF_UUID(T, topic_id, "TopicId", 6, N),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 5, N, 5),
};
#undef T
static KAFKA_SCHEMA(deletable_topic_result, kafka_deletable_topic_result,
		    "DeletableTopicResult");

#define T kafka_delete_topics_resp
static const kafka_field kafka_delete_topics_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_ARR(T, responses, n_responses, "Responses", &deletable_topic_result, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_delete_topics_resp_schema, kafka_delete_topics_resp, "DeleteTopicsResponse");

/* ---- DeleteRecords ---- */
#define T kafka_delete_records_partition
static const kafka_field dr_part_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I64(T, offset, "Offset", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(dr_part, kafka_delete_records_partition, "DeleteRecordsPartition");

#define T kafka_delete_records_topic
static const kafka_field dr_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &dr_part, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(dr_topic, kafka_delete_records_topic, "DeleteRecordsTopic");

#define T kafka_delete_records_req
static const kafka_field kafka_delete_records_req_schema_fields[] = {
	KF_ARR(T, topics, n_topics, "Topics", &dr_topic, 0, N, N),
	KF_I32(T, timeout_ms, "TimeoutMs", 0, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_delete_records_req_schema, kafka_delete_records_req, "DeleteRecordsRequest");

#define T kafka_delete_records_partition_result
static const kafka_field dr_part_result_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I64(T, low_watermark, "LowWatermark", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(dr_part_result, kafka_delete_records_partition_result,
		    "DeleteRecordsPartitionResult");

#define T kafka_delete_records_topic_result
static const kafka_field dr_topic_result_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &dr_part_result, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(dr_topic_result, kafka_delete_records_topic_result,
		    "DeleteRecordsTopicResult");

#define T kafka_delete_records_resp
static const kafka_field kafka_delete_records_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 0, N, 0),
	KF_ARR(T, topics, n_topics, "Topics", &dr_topic_result, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_delete_records_resp_schema, kafka_delete_records_resp,
	     "DeleteRecordsResponse");

/* ---- DescribeConfigs ---- */
#define T kafka_describe_configs_resource
static const kafka_field dc_resource_fields[] = {
	KF_I8(T, resource_type, "ResourceType", 0, N, 0),
	KF_STR(T, resource_name, "ResourceName", 0, N, N),
	KF_PARR(T, configuration_keys, n_configuration_keys, "ConfigurationKeys", KAFKA_T_STRING,
		0, N, 0),
};
#undef T
static KAFKA_SCHEMA(dc_resource, kafka_describe_configs_resource, "DescribeConfigsResource");

#define T kafka_describe_configs_req
static const kafka_field kafka_describe_configs_req_schema_fields[] = {
	KF_ARR(T, resources, n_resources, "Resources", &dc_resource, 0, N, N),
	KF_BOOL(T, include_synonyms, "IncludeSynonyms", 1, N, 0),
	KF_BOOL(T, include_documentation, "IncludeDocumentation", 3, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_describe_configs_req_schema, kafka_describe_configs_req,
	     "DescribeConfigsRequest");

#define T kafka_describe_configs_synonym
static const kafka_field dc_synonym_fields[] = {
	KF_STR(T, name, "Name", 1, N, N),
	KF_STR(T, value, "Value", 1, N, 0),
	KF_I8(T, source, "Source", 1, N, 0),
};
#undef T
static KAFKA_SCHEMA(dc_synonym, kafka_describe_configs_synonym, "DescribeConfigsSynonym");

#define T kafka_describe_configs_resource_result
static const kafka_field dc_config_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_STR(T, value, "Value", 0, N, 0),
	KF_BOOL(T, read_only, "ReadOnly", 0, N, 0),
	KF_BOOL(T, is_default, "IsDefault", 0, 0, 0),
	KF_I8(T, config_source, "ConfigSource", 1, N, -1),
	KF_BOOL(T, is_sensitive, "IsSensitive", 0, N, 0),
	KF_ARR(T, synonyms, n_synonyms, "Synonyms", &dc_synonym, 1, N, N),
	KF_I8(T, config_type, "ConfigType", 3, N, 0),
	KF_STR(T, documentation, "Documentation", 3, N, 0),
};
#undef T
static KAFKA_SCHEMA(dc_config, kafka_describe_configs_resource_result,
		    "DescribeConfigsResourceResult");

#define T kafka_describe_configs_result
static const kafka_field dc_result_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 0, N, 0),
	KF_I8(T, resource_type, "ResourceType", 0, N, 0),
	KF_STR(T, resource_name, "ResourceName", 0, N, N),
	KF_ARR(T, configs, n_configs, "Configs", &dc_config, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(dc_result, kafka_describe_configs_result, "DescribeConfigsResult");

#define T kafka_describe_configs_resp
static const kafka_field kafka_describe_configs_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 0, N, 0),
	KF_ARR(T, results, n_results, "Results", &dc_result, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_describe_configs_resp_schema, kafka_describe_configs_resp,
	     "DescribeConfigsResponse");

/* ---- AlterConfigs ---- */
#define T kafka_alterable_config
static const kafka_field ac_config_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_STR(T, value, "Value", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(ac_config, kafka_alterable_config, "AlterableConfig");

#define T kafka_alter_configs_resource
static const kafka_field ac_resource_fields[] = {
	KF_I8(T, resource_type, "ResourceType", 0, N, 0),
	KF_STR(T, resource_name, "ResourceName", 0, N, N),
	KF_ARR(T, configs, n_configs, "Configs", &ac_config, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(ac_resource, kafka_alter_configs_resource, "AlterConfigsResource");

#define T kafka_alter_configs_req
static const kafka_field kafka_alter_configs_req_schema_fields[] = {
	KF_ARR(T, resources, n_resources, "Resources", &ac_resource, 0, N, N),
	KF_BOOL(T, validate_only, "ValidateOnly", 0, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_alter_configs_req_schema, kafka_alter_configs_req, "AlterConfigsRequest");

#define T kafka_alter_configs_resource_response
static const kafka_field ac_response_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 0, N, 0),
	KF_I8(T, resource_type, "ResourceType", 0, N, 0),
	KF_STR(T, resource_name, "ResourceName", 0, N, N),
};
#undef T
static KAFKA_SCHEMA(ac_response, kafka_alter_configs_resource_response,
		    "AlterConfigsResourceResponse");

#define T kafka_alter_configs_resp
static const kafka_field kafka_alter_configs_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 0, N, 0),
	KF_ARR(T, responses, n_responses, "Responses", &ac_response, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_alter_configs_resp_schema, kafka_alter_configs_resp, "AlterConfigsResponse");

/* ---- CreatePartitions ---- */
#define T kafka_create_partitions_assignment
static const kafka_field cp_assignment_fields[] = {
	KF_PARR(T, broker_ids, n_broker_ids, "BrokerIds", KAFKA_T_INT32, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(cp_assignment, kafka_create_partitions_assignment,
		    "CreatePartitionsAssignment");

#define T kafka_create_partitions_topic
static const kafka_field cp_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_I32(T, count, "Count", 0, N, 0),
	KF_ARR(T, assignments, n_assignments, "Assignments", &cp_assignment, 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(cp_topic, kafka_create_partitions_topic, "CreatePartitionsTopic");

#define T kafka_create_partitions_req
static const kafka_field kafka_create_partitions_req_schema_fields[] = {
	KF_ARR(T, topics, n_topics, "Topics", &cp_topic, 0, N, N),
	KF_I32(T, timeout_ms, "TimeoutMs", 0, N, 0),
	KF_BOOL(T, validate_only, "ValidateOnly", 0, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_create_partitions_req_schema, kafka_create_partitions_req,
	     "CreatePartitionsRequest");

#define T kafka_create_partitions_topic_result
static const kafka_field cp_result_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(cp_result, kafka_create_partitions_topic_result,
		    "CreatePartitionsTopicResult");

#define T kafka_create_partitions_resp
static const kafka_field kafka_create_partitions_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 0, N, 0),
	KF_ARR(T, results, n_results, "Results", &cp_result, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_create_partitions_resp_schema, kafka_create_partitions_resp,
	     "CreatePartitionsResponse");
