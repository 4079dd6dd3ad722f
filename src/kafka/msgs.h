/*
 * msgs.h — C structs and schemas of every request and response brook speaks.
 *
 * One struct per Kafka message and per nested array element, members named after
 * Kafka's fields in snake_case (TopicData -> topic_data), in wire order. Arrays are a
 * pointer plus an int32_t count named n_<member> (count -1: null array). The comment on
 * each member gives the versions it is on the wire in when it is not in all of them,
 * "?" when it may be null, and the default taken when absent. The schemas
 * (kafka_<api>_req_schema / kafka_<api>_resp_schema, in msgs_*.c) describe every field
 * of at least the versions kafka_apis[] advertises (api.c), following
 * apache/kafka clients/src/main/resources/common/message/<Api>{Request,Response}.json.
 *
 * Tagged fields (flexible versions) are listed after the regular ones and marked "tag".
 */
#ifndef BROOK_KAFKA_MSGS_H
#define BROOK_KAFKA_MSGS_H

#include <stdbool.h>
#include <stdint.h>

#include "kafka/codec.h"
#include "kafka/proto.h"

/* ---- ApiVersions (18) -------------------------------------------------------------- */
typedef struct kafka_api_versions_req {
	kafka_str client_software_name;    /* v3+ */
	kafka_str client_software_version; /* v3+ */
} kafka_api_versions_req;

typedef struct kafka_api_version {
	int16_t api_key, min_version, max_version;
} kafka_api_version;

typedef struct kafka_supported_feature_key {
	kafka_str name;
	int16_t min_version, max_version;
} kafka_supported_feature_key;

typedef struct kafka_finalized_feature_key {
	kafka_str name;
	int16_t max_version_level, min_version_level;
} kafka_finalized_feature_key;

typedef struct kafka_api_versions_resp {
	int16_t error_code;
	kafka_api_version *api_keys;
	int32_t n_api_keys;
	int32_t throttle_time_ms; /* v1+ */
	kafka_supported_feature_key *supported_features; /* v3+ tag 0 */
	int32_t n_supported_features;
	int64_t finalized_features_epoch; /* v3+ tag 1, default -1 */
	kafka_finalized_feature_key *finalized_features; /* v3+ tag 2 */
	int32_t n_finalized_features;
	bool zk_migration_ready; /* v3+ tag 3 */
} kafka_api_versions_resp;

/* ---- Produce (0) ------------------------------------------------------------------- */
typedef struct kafka_partition_produce_data {
	int32_t index;
	kafka_bytes records; /* ? record batches, as sent */
} kafka_partition_produce_data;

typedef struct kafka_topic_produce_data {
	kafka_str name;
	kafka_partition_produce_data *partition_data;
	int32_t n_partition_data;
} kafka_topic_produce_data;

typedef struct kafka_produce_req {
	kafka_str transactional_id; /* v3+ ? */
	int16_t acks;
	int32_t timeout_ms;
	kafka_topic_produce_data *topic_data;
	int32_t n_topic_data;
} kafka_produce_req;

typedef struct kafka_batch_index_and_error_message {
	int32_t batch_index;
	kafka_str batch_index_error_message; /* ? */
} kafka_batch_index_and_error_message;

typedef struct kafka_partition_produce_response {
	int32_t index;
	int16_t error_code;
	int64_t base_offset;
	int64_t log_append_time_ms; /* v2+, default -1 */
	int64_t log_start_offset;   /* v5+, default -1 */
	kafka_batch_index_and_error_message *record_errors; /* v8+ */
	int32_t n_record_errors;
	kafka_str error_message; /* v8+ ? */
} kafka_partition_produce_response;

typedef struct kafka_topic_produce_response {
	kafka_str name;
	kafka_partition_produce_response *partition_responses;
	int32_t n_partition_responses;
} kafka_topic_produce_response;

typedef struct kafka_produce_resp {
	kafka_topic_produce_response *responses;
	int32_t n_responses;
	int32_t throttle_time_ms; /* v1+ */
} kafka_produce_resp;

/* ---- Fetch (1) --------------------------------------------------------------------- */
typedef struct kafka_fetch_partition {
	int32_t partition;
	int32_t current_leader_epoch; /* v9+, default -1 */
	int64_t fetch_offset;
	int32_t last_fetched_epoch; /* v12+, default -1 */
	int64_t log_start_offset;   /* v5+, default -1 */
	int32_t partition_max_bytes;
} kafka_fetch_partition;

typedef struct kafka_fetch_topic {
	kafka_str topic; /* v0-12 */
	kafka_fetch_partition *partitions;
	int32_t n_partitions;
} kafka_fetch_topic;

typedef struct kafka_forgotten_topic {
	kafka_str topic; /* v7-12 */
	int32_t *partitions;
	int32_t n_partitions;
} kafka_forgotten_topic;

typedef struct kafka_fetch_req {
	int32_t replica_id; /* v0-14, default -1 */
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;       /* v3+, default 0x7fffffff */
	int8_t isolation_level;  /* v4+ */
	int32_t session_id;      /* v7+, default 0 */
	int32_t session_epoch;   /* v7+, default -1 */
	kafka_fetch_topic *topics;
	int32_t n_topics;
	kafka_forgotten_topic *forgotten_topics_data; /* v7+ */
	int32_t n_forgotten_topics_data;
	kafka_str rack_id; /* v11+ */
} kafka_fetch_req;

typedef struct kafka_aborted_transaction {
	int64_t producer_id;
	int64_t first_offset;
} kafka_aborted_transaction;

typedef struct kafka_fetch_partition_data {
	int32_t partition_index;
	int16_t error_code;
	int64_t high_watermark;
	int64_t last_stable_offset; /* v4+, default -1 */
	int64_t log_start_offset;   /* v5+, default -1 */
	kafka_aborted_transaction *aborted_transactions; /* v4+ ? */
	int32_t n_aborted_transactions;
	int32_t preferred_read_replica; /* v11+, default -1 */
	kafka_bytes records; /* ?; ptr NULL + len > 0: spliced (codec.h) */
} kafka_fetch_partition_data;

typedef struct kafka_fetchable_topic_response {
	kafka_str topic; /* v0-12 */
	kafka_fetch_partition_data *partitions;
	int32_t n_partitions;
} kafka_fetchable_topic_response;

typedef struct kafka_fetch_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;       /* v7+ */
	int32_t session_id;       /* v7+, default 0 */
	kafka_fetchable_topic_response *responses;
	int32_t n_responses;
} kafka_fetch_resp;

/* ---- ListOffsets (2) --------------------------------------------------------------- */
typedef struct kafka_list_offsets_partition {
	int32_t partition_index;
	int32_t current_leader_epoch; /* v4+, default -1 */
	int64_t timestamp;
	int32_t max_num_offsets; /* v0, default 1 */
} kafka_list_offsets_partition;

typedef struct kafka_list_offsets_topic {
	kafka_str name;
	kafka_list_offsets_partition *partitions;
	int32_t n_partitions;
} kafka_list_offsets_topic;

typedef struct kafka_list_offsets_req {
	int32_t replica_id;
	int8_t isolation_level; /* v2+ */
	kafka_list_offsets_topic *topics;
	int32_t n_topics;
	int32_t timeout_ms; /* v10+ */
} kafka_list_offsets_req;

typedef struct kafka_list_offsets_partition_response {
	int32_t partition_index;
	int16_t error_code;
	int64_t *old_style_offsets; /* v0 */
	int32_t n_old_style_offsets;
	int64_t timestamp;    /* v1+, default -1 */
	int64_t offset;       /* v1+, default -1 */
	int32_t leader_epoch; /* v4+, default -1 */
} kafka_list_offsets_partition_response;

typedef struct kafka_list_offsets_topic_response {
	kafka_str name;
	kafka_list_offsets_partition_response *partitions;
	int32_t n_partitions;
} kafka_list_offsets_topic_response;

typedef struct kafka_list_offsets_resp {
	int32_t throttle_time_ms; /* v2+ */
	kafka_list_offsets_topic_response *topics;
	int32_t n_topics;
} kafka_list_offsets_resp;

/* ---- Metadata (3) ------------------------------------------------------------------ */
typedef struct kafka_metadata_request_topic {
	kafka_uuid topic_id; /* v10+ */
	kafka_str name;      /* ? from v10 */
} kafka_metadata_request_topic;

typedef struct kafka_metadata_req {
	kafka_metadata_request_topic *topics; /* ? from v1 (null: all topics) */
	int32_t n_topics;
	bool allow_auto_topic_creation;               /* v4+, default true */
	bool include_cluster_authorized_operations;   /* v8-10 */
	bool include_topic_authorized_operations;     /* v8+ */
} kafka_metadata_req;

typedef struct kafka_metadata_response_broker {
	int32_t node_id;
	kafka_str host;
	int32_t port;
	kafka_str rack; /* v1+ ? */
} kafka_metadata_response_broker;

typedef struct kafka_metadata_response_partition {
	int16_t error_code;
	int32_t partition_index;
	int32_t leader_id;
	int32_t leader_epoch; /* v7+, default -1 */
	int32_t *replica_nodes;
	int32_t n_replica_nodes;
	int32_t *isr_nodes;
	int32_t n_isr_nodes;
	int32_t *offline_replicas; /* v5+ */
	int32_t n_offline_replicas;
} kafka_metadata_response_partition;

typedef struct kafka_metadata_response_topic {
	int16_t error_code;
	kafka_str name;       /* ? from v12 */
	kafka_uuid topic_id;  /* v10+ */
	bool is_internal;     /* v1+ */
	kafka_metadata_response_partition *partitions;
	int32_t n_partitions;
	int32_t topic_authorized_operations; /* v8+, default INT32_MIN */
} kafka_metadata_response_topic;

typedef struct kafka_metadata_resp {
	int32_t throttle_time_ms; /* v3+ */
	kafka_metadata_response_broker *brokers;
	int32_t n_brokers;
	kafka_str cluster_id;  /* v2+ ? */
	int32_t controller_id; /* v1+, default -1 */
	kafka_metadata_response_topic *topics;
	int32_t n_topics;
	int32_t cluster_authorized_operations; /* v8-10, default INT32_MIN */
} kafka_metadata_resp;

/* ---- OffsetCommit (8) -------------------------------------------------------------- */
typedef struct kafka_offset_commit_request_partition {
	int32_t partition_index;
	int64_t committed_offset;
	int32_t committed_leader_epoch; /* v6+, default -1 */
	int64_t commit_timestamp;       /* v1, default -1 */
	kafka_str committed_metadata;   /* ? */
} kafka_offset_commit_request_partition;

typedef struct kafka_offset_commit_request_topic {
	kafka_str name;
	kafka_offset_commit_request_partition *partitions;
	int32_t n_partitions;
} kafka_offset_commit_request_topic;

typedef struct kafka_offset_commit_req {
	kafka_str group_id;
	int32_t generation_id_or_member_epoch; /* v1+, default -1 */
	kafka_str member_id;                   /* v1+ */
	kafka_str group_instance_id;           /* v7+ ? */
	int64_t retention_time_ms;             /* v2-4, default -1 */
	kafka_offset_commit_request_topic *topics;
	int32_t n_topics;
} kafka_offset_commit_req;

typedef struct kafka_offset_commit_response_partition {
	int32_t partition_index;
	int16_t error_code;
} kafka_offset_commit_response_partition;

typedef struct kafka_offset_commit_response_topic {
	kafka_str name;
	kafka_offset_commit_response_partition *partitions;
	int32_t n_partitions;
} kafka_offset_commit_response_topic;

typedef struct kafka_offset_commit_resp {
	int32_t throttle_time_ms; /* v3+ */
	kafka_offset_commit_response_topic *topics;
	int32_t n_topics;
} kafka_offset_commit_resp;

/* ---- OffsetFetch (9) --------------------------------------------------------------- */
typedef struct kafka_offset_fetch_request_topic {
	kafka_str name;
	int32_t *partition_indexes;
	int32_t n_partition_indexes;
} kafka_offset_fetch_request_topic;

typedef struct kafka_offset_fetch_request_group {
	kafka_str group_id;
	kafka_str member_id;  /* v9+ ? */
	int32_t member_epoch; /* v9+, default -1 */
	kafka_offset_fetch_request_topic *topics; /* ? */
	int32_t n_topics;
} kafka_offset_fetch_request_group;

typedef struct kafka_offset_fetch_req {
	kafka_str group_id; /* v0-7 */
	kafka_offset_fetch_request_topic *topics; /* v0-7, ? from v2 (null: all) */
	int32_t n_topics;
	kafka_offset_fetch_request_group *groups; /* v8+ */
	int32_t n_groups;
	bool require_stable; /* v7+ */
} kafka_offset_fetch_req;

typedef struct kafka_offset_fetch_response_partition {
	int32_t partition_index;
	int64_t committed_offset;
	int32_t committed_leader_epoch; /* v5+, default -1 */
	kafka_str metadata;             /* ? */
	int16_t error_code;
} kafka_offset_fetch_response_partition;

typedef struct kafka_offset_fetch_response_topic {
	kafka_str name;
	kafka_offset_fetch_response_partition *partitions;
	int32_t n_partitions;
} kafka_offset_fetch_response_topic;

typedef struct kafka_offset_fetch_response_group {
	kafka_str group_id;
	kafka_offset_fetch_response_topic *topics;
	int32_t n_topics;
	int16_t error_code;
} kafka_offset_fetch_response_group;

typedef struct kafka_offset_fetch_resp {
	int32_t throttle_time_ms; /* v3+ */
	kafka_offset_fetch_response_topic *topics; /* v0-7 */
	int32_t n_topics;
	int16_t error_code; /* v2-7 */
	kafka_offset_fetch_response_group *groups; /* v8+ */
	int32_t n_groups;
} kafka_offset_fetch_resp;

/* ---- FindCoordinator (10) ---------------------------------------------------------- */
typedef struct kafka_find_coordinator_req {
	kafka_str key;      /* v0-3 */
	int8_t key_type;    /* v1+: 0 group, 1 transaction */
	kafka_str *coordinator_keys; /* v4+ */
	int32_t n_coordinator_keys;
} kafka_find_coordinator_req;

typedef struct kafka_coordinator {
	kafka_str key;
	int32_t node_id;
	kafka_str host;
	int32_t port;
	int16_t error_code;
	kafka_str error_message; /* ? */
} kafka_coordinator;

typedef struct kafka_find_coordinator_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;       /* v0-3 */
	kafka_str error_message;  /* v1-3 ? */
	int32_t node_id;          /* v0-3 */
	kafka_str host;           /* v0-3 */
	int32_t port;             /* v0-3 */
	kafka_coordinator *coordinators; /* v4+ */
	int32_t n_coordinators;
} kafka_find_coordinator_resp;

/* ---- JoinGroup (11) ---------------------------------------------------------------- */
typedef struct kafka_join_group_request_protocol {
	kafka_str name;
	kafka_bytes metadata;
} kafka_join_group_request_protocol;

typedef struct kafka_join_group_req {
	kafka_str group_id;
	int32_t session_timeout_ms;
	int32_t rebalance_timeout_ms; /* v1+, default -1 */
	kafka_str member_id;
	kafka_str group_instance_id; /* v5+ ? */
	kafka_str protocol_type;
	kafka_join_group_request_protocol *protocols;
	int32_t n_protocols;
	kafka_str reason; /* v8+ ? */
} kafka_join_group_req;

typedef struct kafka_join_group_response_member {
	kafka_str member_id;
	kafka_str group_instance_id; /* v5+ ? */
	kafka_bytes metadata;
} kafka_join_group_response_member;

typedef struct kafka_join_group_resp {
	int32_t throttle_time_ms; /* v2+ */
	int16_t error_code;
	int32_t generation_id;   /* default -1 */
	kafka_str protocol_type; /* v7+ ? */
	kafka_str protocol_name; /* ? from v7 */
	kafka_str leader;
	bool skip_assignment; /* v9+ */
	kafka_str member_id;
	kafka_join_group_response_member *members;
	int32_t n_members;
} kafka_join_group_resp;

/* ---- SyncGroup (14) ---------------------------------------------------------------- */
typedef struct kafka_sync_group_request_assignment {
	kafka_str member_id;
	kafka_bytes assignment;
} kafka_sync_group_request_assignment;

typedef struct kafka_sync_group_req {
	kafka_str group_id;
	int32_t generation_id;
	kafka_str member_id;
	kafka_str group_instance_id; /* v3+ ? */
	kafka_str protocol_type;     /* v5+ ? */
	kafka_str protocol_name;     /* v5+ ? */
	kafka_sync_group_request_assignment *assignments;
	int32_t n_assignments;
} kafka_sync_group_req;

typedef struct kafka_sync_group_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	kafka_str protocol_type; /* v5+ ? */
	kafka_str protocol_name; /* v5+ ? */
	kafka_bytes assignment;
} kafka_sync_group_resp;

/* ---- Heartbeat (12) ---------------------------------------------------------------- */
typedef struct kafka_heartbeat_req {
	kafka_str group_id;
	int32_t generation_id;
	kafka_str member_id;
	kafka_str group_instance_id; /* v3+ ? */
} kafka_heartbeat_req;

typedef struct kafka_heartbeat_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
} kafka_heartbeat_resp;

/* ---- LeaveGroup (13) --------------------------------------------------------------- */
typedef struct kafka_member_identity {
	kafka_str member_id;
	kafka_str group_instance_id; /* ? */
	kafka_str reason;            /* v5+ ? */
} kafka_member_identity;

typedef struct kafka_leave_group_req {
	kafka_str group_id;
	kafka_str member_id; /* v0-2 */
	kafka_member_identity *members; /* v3+ */
	int32_t n_members;
} kafka_leave_group_req;

typedef struct kafka_member_response {
	kafka_str member_id;
	kafka_str group_instance_id; /* ? */
	int16_t error_code;
} kafka_member_response;

typedef struct kafka_leave_group_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	kafka_member_response *members; /* v3+ */
	int32_t n_members;
} kafka_leave_group_resp;

/* ---- DescribeGroups (15) ----------------------------------------------------------- */
typedef struct kafka_describe_groups_req {
	kafka_str *groups;
	int32_t n_groups;
	bool include_authorized_operations; /* v3+ */
} kafka_describe_groups_req;

typedef struct kafka_described_group_member {
	kafka_str member_id;
	kafka_str group_instance_id; /* v4+ ? */
	kafka_str client_id;
	kafka_str client_host;
	kafka_bytes member_metadata;
	kafka_bytes member_assignment;
} kafka_described_group_member;

typedef struct kafka_described_group {
	int16_t error_code;
	kafka_str group_id;
	kafka_str group_state;
	kafka_str protocol_type;
	kafka_str protocol_data;
	kafka_described_group_member *members;
	int32_t n_members;
	int32_t authorized_operations; /* v3+, default INT32_MIN */
} kafka_described_group;

typedef struct kafka_describe_groups_resp {
	int32_t throttle_time_ms; /* v1+ */
	kafka_described_group *groups;
	int32_t n_groups;
} kafka_describe_groups_resp;

/* ---- ListGroups (16) --------------------------------------------------------------- */
typedef struct kafka_list_groups_req {
	kafka_str *states_filter; /* v4+ */
	int32_t n_states_filter;
	kafka_str *types_filter; /* v5+ */
	int32_t n_types_filter;
} kafka_list_groups_req;

typedef struct kafka_listed_group {
	kafka_str group_id;
	kafka_str protocol_type;
	kafka_str group_state; /* v4+ */
	kafka_str group_type;  /* v5+ */
} kafka_listed_group;

typedef struct kafka_list_groups_resp {
	int32_t throttle_time_ms; /* v1+ */
	int16_t error_code;
	kafka_listed_group *groups;
	int32_t n_groups;
} kafka_list_groups_resp;

/* ---- SaslHandshake (17) / SaslAuthenticate (36) ------------------------------------ */
typedef struct kafka_sasl_handshake_req {
	kafka_str mechanism;
} kafka_sasl_handshake_req;

typedef struct kafka_sasl_handshake_resp {
	int16_t error_code;
	kafka_str *mechanisms;
	int32_t n_mechanisms;
} kafka_sasl_handshake_resp;

typedef struct kafka_sasl_authenticate_req {
	kafka_bytes auth_bytes;
} kafka_sasl_authenticate_req;

typedef struct kafka_sasl_authenticate_resp {
	int16_t error_code;
	kafka_str error_message; /* ? */
	kafka_bytes auth_bytes;
	int64_t session_lifetime_ms; /* v1+ */
} kafka_sasl_authenticate_resp;

/* ---- InitProducerId (22) ----------------------------------------------------------- */
typedef struct kafka_init_producer_id_req {
	kafka_str transactional_id; /* ? */
	int32_t transaction_timeout_ms;
	int64_t producer_id;    /* v3+, default -1 */
	int16_t producer_epoch; /* v3+, default -1 */
} kafka_init_producer_id_req;

typedef struct kafka_init_producer_id_resp {
	int32_t throttle_time_ms;
	int16_t error_code;
	int64_t producer_id; /* default -1 */
	int16_t producer_epoch;
} kafka_init_producer_id_resp;

/* ---- CreateTopics (19) ------------------------------------------------------------- */
typedef struct kafka_creatable_replica_assignment {
	int32_t partition_index;
	int32_t *broker_ids;
	int32_t n_broker_ids;
} kafka_creatable_replica_assignment;

typedef struct kafka_creatable_topic_config {
	kafka_str name;
	kafka_str value; /* ? */
} kafka_creatable_topic_config;

typedef struct kafka_creatable_topic {
	kafka_str name;
	int32_t num_partitions;     /* -1: broker default (v4+) */
	int16_t replication_factor; /* -1: broker default (v4+) */
	kafka_creatable_replica_assignment *assignments;
	int32_t n_assignments;
	kafka_creatable_topic_config *configs;
	int32_t n_configs;
} kafka_creatable_topic;

typedef struct kafka_create_topics_req {
	kafka_creatable_topic *topics;
	int32_t n_topics;
	int32_t timeout_ms;  /* default 60000 */
	bool validate_only;  /* v1+ */
} kafka_create_topics_req;

typedef struct kafka_creatable_topic_configs {
	kafka_str name;
	kafka_str value; /* ? */
	bool read_only;
	int8_t config_source; /* default -1 */
	bool is_sensitive;
} kafka_creatable_topic_configs;

typedef struct kafka_creatable_topic_result {
	kafka_str name;
	kafka_uuid topic_id; /* v7+ */
	int16_t error_code;
	kafka_str error_message;      /* v1+ ? */
	int32_t num_partitions;        /* v5+, default -1 */
	int16_t replication_factor;    /* v5+, default -1 */
	kafka_creatable_topic_configs *configs; /* v5+ ? */
	int32_t n_configs;
	int16_t topic_config_error_code; /* v5+ tag 0 */
} kafka_creatable_topic_result;

typedef struct kafka_create_topics_resp {
	int32_t throttle_time_ms; /* v2+ */
	kafka_creatable_topic_result *topics;
	int32_t n_topics;
} kafka_create_topics_resp;

/* ---- DeleteTopics (20) ------------------------------------------------------------- */
typedef struct kafka_delete_topic_state {
	kafka_str name; /* ? */
	kafka_uuid topic_id;
} kafka_delete_topic_state;

typedef struct kafka_delete_topics_req {
	kafka_delete_topic_state *topics; /* v6+ */
	int32_t n_topics;
	kafka_str *topic_names; /* v0-5 */
	int32_t n_topic_names;
	int32_t timeout_ms;
} kafka_delete_topics_req;

typedef struct kafka_deletable_topic_result {
	kafka_str name;          /* ? from v6 */
	kafka_uuid topic_id;     /* v6+ */
	int16_t error_code;
	kafka_str error_message; /* v5+ ? */
} kafka_deletable_topic_result;

typedef struct kafka_delete_topics_resp {
	int32_t throttle_time_ms; /* v1+ */
	kafka_deletable_topic_result *responses;
	int32_t n_responses;
} kafka_delete_topics_resp;

/* ---- DeleteRecords (21) ------------------------------------------------------------ */
typedef struct kafka_delete_records_partition {
	int32_t partition_index;
	int64_t offset; /* -1: high watermark */
} kafka_delete_records_partition;

typedef struct kafka_delete_records_topic {
	kafka_str name;
	kafka_delete_records_partition *partitions;
	int32_t n_partitions;
} kafka_delete_records_topic;

typedef struct kafka_delete_records_req {
	kafka_delete_records_topic *topics;
	int32_t n_topics;
	int32_t timeout_ms;
} kafka_delete_records_req;

typedef struct kafka_delete_records_partition_result {
	int32_t partition_index;
	int64_t low_watermark;
	int16_t error_code;
} kafka_delete_records_partition_result;

typedef struct kafka_delete_records_topic_result {
	kafka_str name;
	kafka_delete_records_partition_result *partitions;
	int32_t n_partitions;
} kafka_delete_records_topic_result;

typedef struct kafka_delete_records_resp {
	int32_t throttle_time_ms;
	kafka_delete_records_topic_result *topics;
	int32_t n_topics;
} kafka_delete_records_resp;

/* ---- DescribeConfigs (32) ---------------------------------------------------------- */
typedef struct kafka_describe_configs_resource {
	int8_t resource_type; /* 2 topic, 4 broker */
	kafka_str resource_name;
	kafka_str *configuration_keys; /* ? (null: all) */
	int32_t n_configuration_keys;
} kafka_describe_configs_resource;

typedef struct kafka_describe_configs_req {
	kafka_describe_configs_resource *resources;
	int32_t n_resources;
	bool include_synonyms;      /* v1+ */
	bool include_documentation; /* v3+ */
} kafka_describe_configs_req;

typedef struct kafka_describe_configs_synonym {
	kafka_str name;
	kafka_str value; /* ? */
	int8_t source;
} kafka_describe_configs_synonym;

typedef struct kafka_describe_configs_resource_result {
	kafka_str name;
	kafka_str value; /* ? */
	bool read_only;
	bool is_default;      /* v0 */
	int8_t config_source; /* v1+, default -1 */
	bool is_sensitive;
	kafka_describe_configs_synonym *synonyms; /* v1+ */
	int32_t n_synonyms;
	int8_t config_type;      /* v3+ */
	kafka_str documentation; /* v3+ ? */
} kafka_describe_configs_resource_result;

typedef struct kafka_describe_configs_result {
	int16_t error_code;
	kafka_str error_message; /* ? */
	int8_t resource_type;
	kafka_str resource_name;
	kafka_describe_configs_resource_result *configs;
	int32_t n_configs;
} kafka_describe_configs_result;

typedef struct kafka_describe_configs_resp {
	int32_t throttle_time_ms;
	kafka_describe_configs_result *results;
	int32_t n_results;
} kafka_describe_configs_resp;

/* ---- AlterConfigs (33) ------------------------------------------------------------- */
typedef struct kafka_alterable_config {
	kafka_str name;
	kafka_str value; /* ? */
} kafka_alterable_config;

typedef struct kafka_alter_configs_resource {
	int8_t resource_type;
	kafka_str resource_name;
	kafka_alterable_config *configs;
	int32_t n_configs;
} kafka_alter_configs_resource;

typedef struct kafka_alter_configs_req {
	kafka_alter_configs_resource *resources;
	int32_t n_resources;
	bool validate_only;
} kafka_alter_configs_req;

typedef struct kafka_alter_configs_resource_response {
	int16_t error_code;
	kafka_str error_message; /* ? */
	int8_t resource_type;
	kafka_str resource_name;
} kafka_alter_configs_resource_response;

typedef struct kafka_alter_configs_resp {
	int32_t throttle_time_ms;
	kafka_alter_configs_resource_response *responses;
	int32_t n_responses;
} kafka_alter_configs_resp;

/* ---- CreatePartitions (37) --------------------------------------------------------- */
typedef struct kafka_create_partitions_assignment {
	int32_t *broker_ids;
	int32_t n_broker_ids;
} kafka_create_partitions_assignment;

typedef struct kafka_create_partitions_topic {
	kafka_str name;
	int32_t count;
	kafka_create_partitions_assignment *assignments; /* ? */
	int32_t n_assignments;
} kafka_create_partitions_topic;

typedef struct kafka_create_partitions_req {
	kafka_create_partitions_topic *topics;
	int32_t n_topics;
	int32_t timeout_ms;
	bool validate_only;
} kafka_create_partitions_req;

typedef struct kafka_create_partitions_topic_result {
	kafka_str name;
	int16_t error_code;
	kafka_str error_message; /* ? */
} kafka_create_partitions_topic_result;

typedef struct kafka_create_partitions_resp {
	int32_t throttle_time_ms;
	kafka_create_partitions_topic_result *results;
	int32_t n_results;
} kafka_create_partitions_resp;

/* ---- Schemas (msgs_*.c) ------------------------------------------------------------ */
#define KAFKA_MSG_SCHEMAS(X)                                                                 \
	X(api_versions) X(produce) X(fetch) X(list_offsets) X(metadata) X(offset_commit)      \
	X(offset_fetch) X(find_coordinator) X(join_group) X(sync_group) X(heartbeat)          \
	X(leave_group) X(describe_groups) X(list_groups) X(sasl_handshake)                    \
	X(sasl_authenticate) X(init_producer_id) X(create_topics) X(delete_topics)            \
	X(delete_records) X(describe_configs) X(alter_configs) X(create_partitions)

#define KAFKA_MSG_DECLARE(n)                                                                 \
	extern const kafka_schema kafka_##n##_req_schema;                                   \
	extern const kafka_schema kafka_##n##_resp_schema;
KAFKA_MSG_SCHEMAS(KAFKA_MSG_DECLARE)
#undef KAFKA_MSG_DECLARE

#endif
