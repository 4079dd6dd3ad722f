/*
 * handle_admin.c — the admin APIs: CreateTopics, DeleteTopics, CreatePartitions,
 * DeleteRecords, DescribeConfigs and AlterConfigs; and the handler table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_impl.h"
#include "core/log.h"
#include "core/mem.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"

#define LOG "broker"
#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define CONFIG_SOURCE_TOPIC 1
#define CONFIG_SOURCE_DEFAULT 5
#define CONFIG_TYPE_STRING 2
#define CONFIG_TYPE_LONG 5

static kafka_str msg_str(broker_req *r, const char *msg)
{
	if (!msg[0])
		return KAFKA_STR_NULL;
	size_t n = strlen(msg);
	return (kafka_str){brook_arena_strndup(&r->arena, msg, n), (int32_t)n};
}

static char *cstr(broker_req *r, kafka_str s)
{
	return s.len < 0 ? NULL : kafka_str_dup(&r->arena, s);
}

/* ---- CreateTopics ----------------------------------------------------------------- */

void broker_handle_create_topics(broker_req *r)
{
	broker *b = r->b;
	const kafka_create_topics_req *req = r->body;
	kafka_create_topics_resp *resp = broker_resp_new(r);
	resp->n_topics = req->n_topics;
	resp->topics = brook_arena_calloc(&r->arena, sizeof(kafka_creatable_topic_result) *
						     (size_t)(req->n_topics + 1));
	for (int32_t i = 0; i < req->n_topics; i++) {
		const kafka_creatable_topic *ct = &req->topics[i];
		kafka_creatable_topic_result *res = &resp->topics[i];
		char msg[300] = "";
		res->name = ct->name;
		res->num_partitions = -1;
		res->replication_factor = -1;
		res->configs = NULL;
		res->n_configs = -1;
		int32_t parts = ct->num_partitions == -1 ? b->default_partitions : ct->num_partitions;
		if (ct->n_assignments > 0)
			parts = ct->n_assignments;
		if (ct->replication_factor != -1 && ct->replication_factor != 1) {
			res->error_code = KAFKA_ERR_INVALID_REPLICATION_FACTOR;
			snprintf(msg, sizeof msg, "replication factor %d is not possible on brook's "
				 "single broker; use 1", ct->replication_factor);
			res->error_message = msg_str(r, msg);
			continue;
		}
		broker_topic_kv *kv = brook_arena_calloc(&r->arena, sizeof *kv *
								      (size_t)(ct->n_configs + 1));
		for (int32_t c = 0; c < ct->n_configs; c++) {
			kv[c].name = cstr(r, ct->configs[c].name);
			kv[c].value = cstr(r, ct->configs[c].value);
		}
		char *name = cstr(r, ct->name);
		broker_topic *t = NULL;
		res->error_code = name ? broker_topics_create(b->topics, name, parts, kv,
							      (size_t)ct->n_configs,
							      req->validate_only, &t, msg, sizeof msg)
				       : KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
		res->error_message = msg_str(r, msg);
		if (!res->error_code) {
			res->num_partitions = parts;
			res->replication_factor = 1;
			if (t)
				res->topic_id = t->id;
		}
	}
	broker_respond(r, resp);
}

/* ---- DeleteTopics ----------------------------------------------------------------- */

/* Fetches and produces waiting on a topic keep pointers to it: answer them first. */
static int16_t delete_topic(broker *b, const char *name, char *msg, size_t msglen)
{
	broker_topic *t = broker_topics_get(b->topics, name, strlen(name));
	if (!t) {
		snprintf(msg, msglen, "topic '%s' does not exist", name);
		return KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (t->internal) {
		snprintf(msg, msglen, "internal topic '%s' cannot be deleted", name);
		return KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
	}
	broker_fetch_tick(b, true);
	broker_forget_topic(b, t);
	int16_t err = broker_topics_delete(b->topics, name, msg, msglen);
	broker_produce_flushed(b);
	return err;
}

void broker_handle_delete_topics(broker_req *r)
{
	broker *b = r->b;
	const kafka_delete_topics_req *req = r->body;
	kafka_delete_topics_resp *resp = broker_resp_new(r);
	bool v6 = r->hdr.api_version >= 6;
	int32_t n = v6 ? req->n_topics : req->n_topic_names;
	resp->n_responses = n;
	resp->responses = brook_arena_calloc(&r->arena, sizeof(kafka_deletable_topic_result) *
							(size_t)(n + 1));
	for (int32_t i = 0; i < n; i++) {
		kafka_str name = v6 ? req->topics[i].name : req->topic_names[i];
		kafka_deletable_topic_result *res = &resp->responses[i];
		char msg[300] = "";
		res->name = name;
		char *nm = cstr(r, name);
		res->error_code = nm ? delete_topic(b, nm, msg, sizeof msg)
				     : KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		res->error_message = msg_str(r, msg);
	}
	broker_respond(r, resp);
}

/* ---- CreatePartitions ------------------------------------------------------------- */

void broker_handle_create_partitions(broker_req *r)
{
	broker *b = r->b;
	const kafka_create_partitions_req *req = r->body;
	kafka_create_partitions_resp *resp = broker_resp_new(r);
	resp->n_results = req->n_topics;
	resp->results = brook_arena_calloc(&r->arena, sizeof(kafka_create_partitions_topic_result) *
						      (size_t)(req->n_topics + 1));
	for (int32_t i = 0; i < req->n_topics; i++) {
		const kafka_create_partitions_topic *ct = &req->topics[i];
		kafka_create_partitions_topic_result *res = &resp->results[i];
		char msg[300] = "";
		res->name = ct->name;
		int16_t err;
		broker_topic *t = broker_topic_get_or_create(b, ct->name, false, &err);
		if (t)
			err = broker_topics_add_partitions(b->topics, t, ct->count, req->validate_only,
							   msg, sizeof msg);
		res->error_code = err;
		res->error_message = msg_str(r, msg);
	}
	broker_respond(r, resp);
}

/* ---- DeleteRecords ---------------------------------------------------------------- */

void broker_handle_delete_records(broker_req *r)
{
	broker *b = r->b;
	const kafka_delete_records_req *req = r->body;
	kafka_delete_records_resp *resp = broker_resp_new(r);
	resp->n_topics = req->n_topics;
	resp->topics = brook_arena_calloc(&r->arena, sizeof(kafka_delete_records_topic_result) *
						     (size_t)(req->n_topics + 1));
	for (int32_t i = 0; i < req->n_topics; i++) {
		const kafka_delete_records_topic *dt = &req->topics[i];
		kafka_delete_records_topic_result *tr = &resp->topics[i];
		tr->name = dt->name;
		tr->n_partitions = dt->n_partitions;
		tr->partitions = brook_arena_calloc(
			&r->arena, sizeof(kafka_delete_records_partition_result) *
					   (size_t)(dt->n_partitions + 1));
		for (int32_t j = 0; j < dt->n_partitions; j++) {
			kafka_delete_records_partition_result *pr = &tr->partitions[j];
			pr->partition_index = dt->partitions[j].partition_index;
			pr->low_watermark = -1;
			int16_t err;
			broker_partition *p = broker_partition_get(b, dt->name, pr->partition_index,
								   &err);
			if (p)
				err = broker_log_delete_before(p->log, dt->partitions[j].offset);
			pr->error_code = err;
			if (p)
				pr->low_watermark = broker_log_start_offset(p->log);
		}
	}
	broker_respond(r, resp);
}

/* ---- DescribeConfigs / AlterConfigs ----------------------------------------------- */

static bool wanted(const kafka_describe_configs_resource *res, const char *name)
{
	if (res->n_configuration_keys < 0)
		return true;
	for (int32_t i = 0; i < res->n_configuration_keys; i++)
		if (kafka_str_eq(res->configuration_keys[i], name))
			return true;
	return false;
}

void broker_handle_describe_configs(broker_req *r)
{
	broker *b = r->b;
	const kafka_describe_configs_req *req = r->body;
	kafka_describe_configs_resp *resp = broker_resp_new(r);
	int16_t ver = r->hdr.api_version;
	resp->n_results = req->n_resources;
	resp->results = brook_arena_calloc(&r->arena, sizeof(kafka_describe_configs_result) *
						      (size_t)(req->n_resources + 1));
	for (int32_t i = 0; i < req->n_resources; i++) {
		const kafka_describe_configs_resource *res = &req->resources[i];
		kafka_describe_configs_result *out = &resp->results[i];
		out->resource_type = res->resource_type;
		out->resource_name = res->resource_name;
		out->error_message = KAFKA_STR_NULL;
		broker_topic *t = NULL;
		if (res->resource_type == RESOURCE_TOPIC) {
			int16_t err;
			t = broker_topic_get_or_create(b, res->resource_name, false, &err);
			if (!t) {
				out->error_code = err;
				out->configs = NULL;
				out->n_configs = 0;
				continue;
			}
		} else if (res->resource_type != RESOURCE_BROKER) {
			out->error_code = KAFKA_ERR_INVALID_REQUEST;
			out->error_message = KAFKA_STR("brook describes topic and broker configs only");
			continue;
		}
		size_t n = broker_topic_config_count();
		out->configs = brook_arena_calloc(&r->arena,
						  sizeof(kafka_describe_configs_resource_result) * n);
		int32_t k = 0;
		for (size_t c = 0; c < n; c++) {
			const char *name = broker_topic_config_name(c);
			if (!wanted(res, name))
				continue;
			char value[128];
			bool over = false;
			broker_topic_config_get(t, &b->log_defaults, name, value, sizeof value, &over);
			kafka_describe_configs_resource_result *cr = &out->configs[k++];
			cr->name = kafka_str_from(name);
			size_t vl = strlen(value);
			cr->value = (kafka_str){brook_arena_strndup(&r->arena, value, vl),
						(int32_t)vl};
			cr->read_only = res->resource_type == RESOURCE_BROKER;
			cr->is_default = !over;
			cr->config_source = over ? CONFIG_SOURCE_TOPIC : CONFIG_SOURCE_DEFAULT;
			cr->is_sensitive = false;
			cr->synonyms = NULL;
			cr->n_synonyms = 0;
			cr->config_type = (value[0] == '-' || (value[0] >= '0' && value[0] <= '9'))
				? CONFIG_TYPE_LONG : CONFIG_TYPE_STRING;
			cr->documentation = KAFKA_STR_NULL;
			(void)ver;
		}
		out->n_configs = k;
		out->error_code = KAFKA_ERR_NONE;
	}
	broker_respond(r, resp);
}

void broker_handle_alter_configs(broker_req *r)
{
	broker *b = r->b;
	const kafka_alter_configs_req *req = r->body;
	kafka_alter_configs_resp *resp = broker_resp_new(r);
	resp->n_responses = req->n_resources;
	resp->responses = brook_arena_calloc(&r->arena,
					     sizeof(kafka_alter_configs_resource_response) *
						     (size_t)(req->n_resources + 1));
	for (int32_t i = 0; i < req->n_resources; i++) {
		const kafka_alter_configs_resource *res = &req->resources[i];
		kafka_alter_configs_resource_response *out = &resp->responses[i];
		char msg[300] = "";
		out->resource_type = res->resource_type;
		out->resource_name = res->resource_name;
		if (res->resource_type != RESOURCE_TOPIC) {
			out->error_code = KAFKA_ERR_INVALID_REQUEST;
			out->error_message = KAFKA_STR("brook alters topic configs only; broker "
						       "settings come from its configuration file");
			continue;
		}
		int16_t err;
		broker_topic *t = broker_topic_get_or_create(b, res->resource_name, false, &err);
		if (t) {
			/* AlterConfigs replaces the whole set of overrides. */
			size_t nold = t->noverrides;
			broker_topic_kv *kv = brook_arena_calloc(
				&r->arena, sizeof *kv * (nold + (size_t)res->n_configs + 1));
			size_t n = 0;
			for (size_t o = 0; o < nold; o++)
				kv[n++] = (broker_topic_kv){
					brook_arena_strndup(&r->arena, t->override_names[o],
							    strlen(t->override_names[o])), NULL};
			for (int32_t c = 0; c < res->n_configs; c++)
				kv[n++] = (broker_topic_kv){cstr(r, res->configs[c].name),
							    cstr(r, res->configs[c].value)};
			err = broker_topics_set_configs(b->topics, t, kv, n, req->validate_only, msg,
							sizeof msg);
		}
		out->error_code = err;
		out->error_message = msg_str(r, msg);
	}
	broker_respond(r, resp);
}

/* ---- the handler table ------------------------------------------------------------ */

broker_handler broker_handler_for(int16_t key)
{
	switch (key) {
	case KAFKA_API_PRODUCE: return broker_handle_produce;
	case KAFKA_API_FETCH: return broker_handle_fetch;
	case KAFKA_API_LIST_OFFSETS: return broker_handle_list_offsets;
	case KAFKA_API_METADATA: return broker_handle_metadata;
	case KAFKA_API_OFFSET_COMMIT:
	case KAFKA_API_OFFSET_FETCH:
	case KAFKA_API_JOIN_GROUP:
	case KAFKA_API_HEARTBEAT:
	case KAFKA_API_LEAVE_GROUP:
	case KAFKA_API_SYNC_GROUP:
	case KAFKA_API_DESCRIBE_GROUPS:
	case KAFKA_API_LIST_GROUPS: return broker_handle_group;
	case KAFKA_API_FIND_COORDINATOR: return broker_handle_find_coordinator;
	case KAFKA_API_SASL_HANDSHAKE: return broker_handle_sasl_handshake;
	case KAFKA_API_API_VERSIONS: return broker_handle_api_versions;
	case KAFKA_API_CREATE_TOPICS: return broker_handle_create_topics;
	case KAFKA_API_DELETE_TOPICS: return broker_handle_delete_topics;
	case KAFKA_API_DELETE_RECORDS: return broker_handle_delete_records;
	case KAFKA_API_INIT_PRODUCER_ID: return broker_handle_init_producer_id;
	case KAFKA_API_DESCRIBE_CONFIGS: return broker_handle_describe_configs;
	case KAFKA_API_ALTER_CONFIGS: return broker_handle_alter_configs;
	case KAFKA_API_SASL_AUTHENTICATE: return broker_handle_sasl_authenticate;
	case KAFKA_API_CREATE_PARTITIONS: return broker_handle_create_partitions;
	}
	/* kafka_api_lookup() only returns APIs listed above. */
	abort();
}
