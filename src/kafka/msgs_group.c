/*
 * msgs_group.c — schemas of the consumer-group APIs: OffsetCommit, OffsetFetch,
 * FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
 * ListGroups. Transcribed from apache/kafka's message JSON (see msgs_core.c).
 */
#include <stddef.h>
#include <stdint.h>

#include "kafka/msgs.h"

#define N -1

/* ---- OffsetCommit ---- */
#define T kafka_offset_commit_request_partition
static const kafka_field oc_req_part_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I64(T, committed_offset, "CommittedOffset", 0, N, 0),
	KF_I32(T, committed_leader_epoch, "CommittedLeaderEpoch", 6, N, -1),
	KF_I64(T, commit_timestamp, "CommitTimestamp", 1, 1, -1),
	KF_STR(T, committed_metadata, "CommittedMetadata", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(oc_req_part, kafka_offset_commit_request_partition,
		    "OffsetCommitRequestPartition");

#define T kafka_offset_commit_request_topic
static const kafka_field oc_req_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &oc_req_part, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(oc_req_topic, kafka_offset_commit_request_topic, "OffsetCommitRequestTopic");

#define T kafka_offset_commit_req
static const kafka_field kafka_offset_commit_req_schema_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_I32(T, generation_id_or_member_epoch, "GenerationIdOrMemberEpoch", 1, N, -1),
	KF_STR(T, member_id, "MemberId", 1, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 7, N, 7),
	KF_I64(T, retention_time_ms, "RetentionTimeMs", 2, 4, -1),
	KF_ARR(T, topics, n_topics, "Topics", &oc_req_topic, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_offset_commit_req_schema, kafka_offset_commit_req, "OffsetCommitRequest");

#define T kafka_offset_commit_response_partition
static const kafka_field oc_resp_part_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(oc_resp_part, kafka_offset_commit_response_partition,
		    "OffsetCommitResponsePartition");

#define T kafka_offset_commit_response_topic
static const kafka_field oc_resp_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &oc_resp_part, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(oc_resp_topic, kafka_offset_commit_response_topic,
		    "OffsetCommitResponseTopic");

#define T kafka_offset_commit_resp
static const kafka_field kafka_offset_commit_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 3, N, 0),
	KF_ARR(T, topics, n_topics, "Topics", &oc_resp_topic, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_offset_commit_resp_schema, kafka_offset_commit_resp, "OffsetCommitResponse");

/* ---- OffsetFetch ---- */
#define T kafka_offset_fetch_request_topic
static const kafka_field of_req_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_PARR(T, partition_indexes, n_partition_indexes, "PartitionIndexes", KAFKA_T_INT32, 0,
		N, N),
};
#undef T
static KAFKA_SCHEMA(of_req_topic, kafka_offset_fetch_request_topic, "OffsetFetchRequestTopic");

#define T kafka_offset_fetch_request_group
static const kafka_field of_req_group_fields[] = {
	KF_STR(T, group_id, "GroupId", 8, N, N),
	KF_STR(T, member_id, "MemberId", 9, N, 9),
	KF_I32(T, member_epoch, "MemberEpoch", 9, N, -1),
	KF_ARR(T, topics, n_topics, "Topics", &of_req_topic, 8, N, 8),
};
#undef T
static KAFKA_SCHEMA(of_req_group, kafka_offset_fetch_request_group, "OffsetFetchRequestGroup");

#define T kafka_offset_fetch_req
static const kafka_field kafka_offset_fetch_req_schema_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, 7, N),
	KF_ARR(T, topics, n_topics, "Topics", &of_req_topic, 0, 7, 2),
	KF_ARR(T, groups, n_groups, "Groups", &of_req_group, 8, N, N),
	KF_BOOL(T, require_stable, "RequireStable", 7, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_offset_fetch_req_schema, kafka_offset_fetch_req, "OffsetFetchRequest");

#define T kafka_offset_fetch_response_partition
static const kafka_field of_resp_part_fields[] = {
	KF_I32(T, partition_index, "PartitionIndex", 0, N, 0),
	KF_I64(T, committed_offset, "CommittedOffset", 0, N, 0),
	KF_I32(T, committed_leader_epoch, "CommittedLeaderEpoch", 5, N, -1),
	KF_STR(T, metadata, "Metadata", 0, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
};
#undef T
static KAFKA_SCHEMA(of_resp_part, kafka_offset_fetch_response_partition,
		    "OffsetFetchResponsePartition");

#define T kafka_offset_fetch_response_topic
static const kafka_field of_resp_topic_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_ARR(T, partitions, n_partitions, "Partitions", &of_resp_part, 0, N, N),
};
#undef T
static KAFKA_SCHEMA(of_resp_topic, kafka_offset_fetch_response_topic,
		    "OffsetFetchResponseTopic");

#define T kafka_offset_fetch_response_group
static const kafka_field of_resp_group_fields[] = {
	KF_STR(T, group_id, "GroupId", 8, N, N),
	KF_ARR(T, topics, n_topics, "Topics", &of_resp_topic, 8, N, N),
	KF_I16(T, error_code, "ErrorCode", 8, N, 0),
};
#undef T
static KAFKA_SCHEMA(of_resp_group, kafka_offset_fetch_response_group,
		    "OffsetFetchResponseGroup");

#define T kafka_offset_fetch_resp
static const kafka_field kafka_offset_fetch_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 3, N, 0),
	KF_ARR(T, topics, n_topics, "Topics", &of_resp_topic, 0, 7, N),
	KF_I16(T, error_code, "ErrorCode", 2, 7, 0),
	KF_ARR(T, groups, n_groups, "Groups", &of_resp_group, 8, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_offset_fetch_resp_schema, kafka_offset_fetch_resp, "OffsetFetchResponse");

/* ---- FindCoordinator ---- */
#define T kafka_find_coordinator_req
static const kafka_field kafka_find_coordinator_req_schema_fields[] = {
	KF_STR(T, key, "Key", 0, 3, N),
	KF_I8(T, key_type, "KeyType", 1, N, 0),
	KF_PARR(T, coordinator_keys, n_coordinator_keys, "CoordinatorKeys", KAFKA_T_STRING, 4, N,
		N),
};
#undef T
KAFKA_SCHEMA(kafka_find_coordinator_req_schema, kafka_find_coordinator_req,
	     "FindCoordinatorRequest");

#define T kafka_coordinator
static const kafka_field coordinator_fields[] = {
	KF_STR(T, key, "Key", 4, N, N),
	KF_I32(T, node_id, "NodeId", 4, N, 0),
	KF_STR(T, host, "Host", 4, N, N),
	KF_I32(T, port, "Port", 4, N, 0),
	KF_I16(T, error_code, "ErrorCode", 4, N, 0),
	KF_STR(T, error_message, "ErrorMessage", 4, N, 4),
};
#undef T
static KAFKA_SCHEMA(coordinator, kafka_coordinator, "Coordinator");

#define T kafka_find_coordinator_resp
static const kafka_field kafka_find_coordinator_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, 3, 0),
	KF_STR(T, error_message, "ErrorMessage", 1, 3, 1),
	KF_I32(T, node_id, "NodeId", 0, 3, 0),
	KF_STR(T, host, "Host", 0, 3, N),
	KF_I32(T, port, "Port", 0, 3, 0),
	KF_ARR(T, coordinators, n_coordinators, "Coordinators", &coordinator, 4, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_find_coordinator_resp_schema, kafka_find_coordinator_resp,
	     "FindCoordinatorResponse");

/* ---- JoinGroup ---- */
#define T kafka_join_group_request_protocol
static const kafka_field jg_protocol_fields[] = {
	KF_STR(T, name, "Name", 0, N, N),
	KF_BYTES(T, metadata, "Metadata", 0, N, N),
};
#undef T
static KAFKA_SCHEMA(jg_protocol, kafka_join_group_request_protocol, "JoinGroupRequestProtocol");

#define T kafka_join_group_req
static const kafka_field kafka_join_group_req_schema_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_I32(T, session_timeout_ms, "SessionTimeoutMs", 0, N, 0),
	KF_I32(T, rebalance_timeout_ms, "RebalanceTimeoutMs", 1, N, -1),
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 5, N, 5),
	KF_STR(T, protocol_type, "ProtocolType", 0, N, N),
	KF_ARR(T, protocols, n_protocols, "Protocols", &jg_protocol, 0, N, N),
	KF_STR(T, reason, "Reason", 8, N, 8),
};
#undef T
KAFKA_SCHEMA(kafka_join_group_req_schema, kafka_join_group_req, "JoinGroupRequest");

#define T kafka_join_group_response_member
static const kafka_field jg_member_fields[] = {
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 5, N, 5),
	KF_BYTES(T, metadata, "Metadata", 0, N, N),
};
#undef T
static KAFKA_SCHEMA(jg_member, kafka_join_group_response_member, "JoinGroupResponseMember");

#define T kafka_join_group_resp
static const kafka_field kafka_join_group_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 2, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_I32(T, generation_id, "GenerationId", 0, N, -1),
	KF_STR(T, protocol_type, "ProtocolType", 7, N, 7),
	KF_STR(T, protocol_name, "ProtocolName", 0, N, 7),
	KF_STR(T, leader, "Leader", 0, N, N),
	KF_BOOL(T, skip_assignment, "SkipAssignment", 9, N, 0),
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_ARR(T, members, n_members, "Members", &jg_member, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_join_group_resp_schema, kafka_join_group_resp, "JoinGroupResponse");

/* ---- SyncGroup ---- */
#define T kafka_sync_group_request_assignment
static const kafka_field sg_assignment_fields[] = {
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_BYTES(T, assignment, "Assignment", 0, N, N),
};
#undef T
static KAFKA_SCHEMA(sg_assignment, kafka_sync_group_request_assignment,
		    "SyncGroupRequestAssignment");

#define T kafka_sync_group_req
static const kafka_field kafka_sync_group_req_schema_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_I32(T, generation_id, "GenerationId", 0, N, 0),
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 3, N, 3),
	KF_STR(T, protocol_type, "ProtocolType", 5, N, 5),
	KF_STR(T, protocol_name, "ProtocolName", 5, N, 5),
	KF_ARR(T, assignments, n_assignments, "Assignments", &sg_assignment, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_sync_group_req_schema, kafka_sync_group_req, "SyncGroupRequest");

#define T kafka_sync_group_resp
static const kafka_field kafka_sync_group_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, protocol_type, "ProtocolType", 5, N, 5),
	KF_STR(T, protocol_name, "ProtocolName", 5, N, 5),
	KF_BYTES(T, assignment, "Assignment", 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_sync_group_resp_schema, kafka_sync_group_resp, "SyncGroupResponse");

/* ---- Heartbeat ---- */
#define T kafka_heartbeat_req
static const kafka_field kafka_heartbeat_req_schema_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_I32(T, generation_id, "GenerationId", 0, N, 0),
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 3, N, 3),
};
#undef T
KAFKA_SCHEMA(kafka_heartbeat_req_schema, kafka_heartbeat_req, "HeartbeatRequest");

#define T kafka_heartbeat_resp
static const kafka_field kafka_heartbeat_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_heartbeat_resp_schema, kafka_heartbeat_resp, "HeartbeatResponse");

/* ---- LeaveGroup ---- */
#define T kafka_member_identity
static const kafka_field member_identity_fields[] = {
	KF_STR(T, member_id, "MemberId", 3, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 3, N, 3),
	KF_STR(T, reason, "Reason", 5, N, 5),
};
#undef T
static KAFKA_SCHEMA(member_identity, kafka_member_identity, "MemberIdentity");

#define T kafka_leave_group_req
static const kafka_field kafka_leave_group_req_schema_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_STR(T, member_id, "MemberId", 0, 2, N),
	KF_ARR(T, members, n_members, "Members", &member_identity, 3, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_leave_group_req_schema, kafka_leave_group_req, "LeaveGroupRequest");

#define T kafka_member_response
static const kafka_field member_response_fields[] = {
	KF_STR(T, member_id, "MemberId", 3, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 3, N, 3),
	KF_I16(T, error_code, "ErrorCode", 3, N, 0),
};
#undef T
static KAFKA_SCHEMA(member_response, kafka_member_response, "MemberResponse");

#define T kafka_leave_group_resp
static const kafka_field kafka_leave_group_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_ARR(T, members, n_members, "Members", &member_response, 3, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_leave_group_resp_schema, kafka_leave_group_resp, "LeaveGroupResponse");

/* ---- DescribeGroups ---- */
#define T kafka_describe_groups_req
static const kafka_field kafka_describe_groups_req_schema_fields[] = {
	KF_PARR(T, groups, n_groups, "Groups", KAFKA_T_STRING, 0, N, N),
	KF_BOOL(T, include_authorized_operations, "IncludeAuthorizedOperations", 3, N, 0),
};
#undef T
KAFKA_SCHEMA(kafka_describe_groups_req_schema, kafka_describe_groups_req,
	     "DescribeGroupsRequest");

#define T kafka_described_group_member
static const kafka_field dg_member_fields[] = {
	KF_STR(T, member_id, "MemberId", 0, N, N),
	KF_STR(T, group_instance_id, "GroupInstanceId", 4, N, 4),
	KF_STR(T, client_id, "ClientId", 0, N, N),
	KF_STR(T, client_host, "ClientHost", 0, N, N),
	KF_BYTES(T, member_metadata, "MemberMetadata", 0, N, N),
	KF_BYTES(T, member_assignment, "MemberAssignment", 0, N, N),
};
#undef T
static KAFKA_SCHEMA(dg_member, kafka_described_group_member, "DescribedGroupMember");

#define T kafka_described_group
static const kafka_field described_group_fields[] = {
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_STR(T, group_state, "GroupState", 0, N, N),
	KF_STR(T, protocol_type, "ProtocolType", 0, N, N),
	KF_STR(T, protocol_data, "ProtocolData", 0, N, N),
	KF_ARR(T, members, n_members, "Members", &dg_member, 0, N, N),
	KF_I32(T, authorized_operations, "AuthorizedOperations", 3, N, INT32_MIN),
};
#undef T
static KAFKA_SCHEMA(described_group, kafka_described_group, "DescribedGroup");

#define T kafka_describe_groups_resp
static const kafka_field kafka_describe_groups_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_ARR(T, groups, n_groups, "Groups", &described_group, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_describe_groups_resp_schema, kafka_describe_groups_resp,
	     "DescribeGroupsResponse");

/* ---- ListGroups ---- */
#define T kafka_list_groups_req
static const kafka_field kafka_list_groups_req_schema_fields[] = {
	KF_PARR(T, states_filter, n_states_filter, "StatesFilter", KAFKA_T_STRING, 4, N, N),
	KF_PARR(T, types_filter, n_types_filter, "TypesFilter", KAFKA_T_STRING, 5, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_list_groups_req_schema, kafka_list_groups_req, "ListGroupsRequest");

#define T kafka_listed_group
static const kafka_field listed_group_fields[] = {
	KF_STR(T, group_id, "GroupId", 0, N, N),
	KF_STR(T, protocol_type, "ProtocolType", 0, N, N),
	KF_STR(T, group_state, "GroupState", 4, N, N),
	KF_STR(T, group_type, "GroupType", 5, N, N),
};
#undef T
static KAFKA_SCHEMA(listed_group, kafka_listed_group, "ListedGroup");

#define T kafka_list_groups_resp
static const kafka_field kafka_list_groups_resp_schema_fields[] = {
	KF_I32(T, throttle_time_ms, "ThrottleTimeMs", 1, N, 0),
	KF_I16(T, error_code, "ErrorCode", 0, N, 0),
	KF_ARR(T, groups, n_groups, "Groups", &listed_group, 0, N, N),
};
#undef T
KAFKA_SCHEMA(kafka_list_groups_resp_schema, kafka_list_groups_resp, "ListGroupsResponse");
