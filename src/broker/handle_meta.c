/*
 * handle_meta.c — the small APIs: ApiVersions, Metadata, FindCoordinator,
 * InitProducerId, SaslHandshake and SaslAuthenticate (PLAIN).
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

void *broker_resp_new(broker_req *r)
{
	void *p = brook_arena_calloc(&r->arena, r->api->response->size);
	kafka_defaults(r->api->response, r->hdr.api_version, p);
	return p;
}

#define ARR(r, T, n) ((T *)brook_arena_calloc(&(r)->arena, sizeof(T) * (size_t)((n) > 0 ? (n) : 1)))

static kafka_str arena_str(broker_req *r, const char *s)
{
	size_t n = strlen(s);
	return (kafka_str){brook_arena_strndup(&r->arena, s, n), (int32_t)n};
}

/* ---- ApiVersions ------------------------------------------------------------------ */

void broker_handle_api_versions(broker_req *r)
{
	kafka_api_versions_resp *resp = broker_resp_new(r);
	/* Asked at a version we lack: answered in v0 with our ranges (see dispatch). */
	resp->error_code = r->unsupported_version ? KAFKA_ERR_UNSUPPORTED_VERSION
						  : KAFKA_ERR_NONE;
	resp->api_keys = ARR(r, kafka_api_version, kafka_napis);
	resp->n_api_keys = (int32_t)kafka_napis;
	for (size_t i = 0; i < kafka_napis; i++) {
		resp->api_keys[i].api_key = kafka_apis[i].key;
		resp->api_keys[i].min_version = kafka_apis[i].min_ver;
		resp->api_keys[i].max_version = kafka_apis[i].max_ver;
	}
	broker_respond(r, resp);
}

/* ---- Metadata --------------------------------------------------------------------- */

static void fill_topic(broker_req *r, kafka_metadata_response_topic *mt, broker_topic *t)
{
	broker *b = r->b;
	mt->error_code = KAFKA_ERR_NONE;
	mt->name = arena_str(r, t->name);
	mt->topic_id = t->id;
	mt->is_internal = t->internal;
	mt->n_partitions = t->npartitions;
	mt->partitions = ARR(r, kafka_metadata_response_partition, t->npartitions);
	for (int32_t p = 0; p < t->npartitions; p++) {
		kafka_metadata_response_partition *mp = &mt->partitions[p];
		mp->error_code = KAFKA_ERR_NONE;
		mp->partition_index = p;
		mp->leader_id = b->node_id;
		mp->leader_epoch = 0;
		mp->replica_nodes = ARR(r, int32_t, 1);
		mp->replica_nodes[0] = b->node_id;
		mp->n_replica_nodes = 1;
		mp->isr_nodes = ARR(r, int32_t, 1);
		mp->isr_nodes[0] = b->node_id;
		mp->n_isr_nodes = 1;
		mp->n_offline_replicas = 0;
	}
}

void broker_handle_metadata(broker_req *r)
{
	broker *b = r->b;
	const kafka_metadata_req *req = r->body;
	kafka_metadata_resp *resp = broker_resp_new(r);
	resp->brokers = ARR(r, kafka_metadata_response_broker, 1);
	resp->n_brokers = 1;
	resp->brokers[0].node_id = b->node_id;
	resp->brokers[0].host = arena_str(r, b->advertised_host);
	resp->brokers[0].port = b->advertised_port;
	resp->brokers[0].rack = KAFKA_STR_NULL;
	resp->cluster_id = arena_str(r, b->cluster_id);
	resp->controller_id = b->node_id;

	/* v0: an empty list means every topic; v1+: null means every topic. */
	bool all = req->n_topics < 0 || (r->hdr.api_version == 0 && req->n_topics == 0);
	if (all) {
		size_t n = broker_topics_count(b->topics);
		resp->topics = ARR(r, kafka_metadata_response_topic, n);
		resp->n_topics = (int32_t)n;
		for (size_t i = 0; i < n; i++) {
			resp->topics[i].topic_authorized_operations = INT32_MIN;
			fill_topic(r, &resp->topics[i], broker_topics_at(b->topics, i));
		}
	} else {
		resp->topics = ARR(r, kafka_metadata_response_topic, req->n_topics);
		resp->n_topics = req->n_topics;
		bool create = r->hdr.api_version < 4 || req->allow_auto_topic_creation;
		for (int32_t i = 0; i < req->n_topics; i++) {
			kafka_metadata_response_topic *mt = &resp->topics[i];
			mt->topic_authorized_operations = INT32_MIN;
			int16_t err;
			broker_topic *t = broker_topic_get_or_create(b, req->topics[i].name, create,
								     &err);
			if (t) {
				fill_topic(r, mt, t);
			} else {
				mt->error_code = err;
				mt->name = req->topics[i].name;
				mt->partitions = NULL;
				mt->n_partitions = 0;
			}
		}
	}
	broker_respond(r, resp);
}

/* ---- FindCoordinator -------------------------------------------------------------- */

void broker_handle_find_coordinator(broker_req *r)
{
	broker *b = r->b;
	const kafka_find_coordinator_req *req = r->body;
	kafka_find_coordinator_resp *resp = broker_resp_new(r);
	/* Groups only: brook has no transaction coordinator. */
	int16_t err = req->key_type == 0 ? KAFKA_ERR_NONE : KAFKA_ERR_COORDINATOR_NOT_AVAILABLE;
	resp->error_code = err;
	resp->error_message = err ? KAFKA_STR("brook does not coordinate transactions")
				  : KAFKA_STR_NULL;
	resp->node_id = err ? -1 : b->node_id;
	resp->host = err ? KAFKA_STR("") : arena_str(r, b->advertised_host);
	resp->port = err ? -1 : b->advertised_port;
	broker_respond(r, resp);
}

/* ---- InitProducerId --------------------------------------------------------------- */

void broker_handle_init_producer_id(broker_req *r)
{
	const kafka_init_producer_id_req *req = r->body;
	kafka_init_producer_id_resp *resp = broker_resp_new(r);
	if (req->transactional_id.len >= 0) {
		resp->error_code = KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
		resp->producer_id = -1;
		resp->producer_epoch = -1;
		brook_warn(LOG, "refused a transactional producer (%.*s): brook does not "
			   "support transactions", req->transactional_id.len,
			   req->transactional_id.ptr);
	} else {
		int64_t id = broker_alloc_producer_id(r->b);
		resp->error_code = id < 0 ? KAFKA_ERR_KAFKA_STORAGE_ERROR : KAFKA_ERR_NONE;
		resp->producer_id = id;
		resp->producer_epoch = 0;
	}
	broker_respond(r, resp);
}

/* ---- SASL/PLAIN ------------------------------------------------------------------- */

typedef struct sasl_state {
	bool handshaken;
	bool authenticated;
	bool v0; /* handshake v0: the token follows as a raw frame (unsupported) */
} sasl_state;

static sasl_state *conn_sasl(brook_conn *c)
{
	sasl_state *s = brook_conn_user(c);
	if (!s) {
		s = brook_calloc(1, sizeof *s);
		brook_conn_set_user(c, s, free);
	}
	return s;
}

bool broker_conn_authenticated(broker *b, brook_conn *c)
{
	(void)b;
	sasl_state *s = brook_conn_user(c);
	return s && s->authenticated;
}

void broker_handle_sasl_handshake(broker_req *r)
{
	const kafka_sasl_handshake_req *req = r->body;
	kafka_sasl_handshake_resp *resp = broker_resp_new(r);
	resp->mechanisms = ARR(r, kafka_str, 1);
	resp->mechanisms[0] = KAFKA_STR("PLAIN");
	resp->n_mechanisms = 1;
	if (!r->b->sasl) {
		resp->error_code = KAFKA_ERR_ILLEGAL_SASL_STATE;
	} else if (!kafka_str_eq(req->mechanism, "PLAIN")) {
		resp->error_code = KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM;
	} else if (r->hdr.api_version == 0) {
		/* v0 sends the token outside Kafka framing; modern clients use v1. */
		resp->error_code = KAFKA_ERR_UNSUPPORTED_VERSION;
	} else {
		conn_sasl(brook_slot_conn(r->slot))->handshaken = true;
		resp->error_code = KAFKA_ERR_NONE;
	}
	broker_respond(r, resp);
}

/* PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. */
static bool plain_ok(broker *b, kafka_bytes tok, char *user, size_t ulen)
{
	if (tok.len < 2 || tok.len > 1024)
		return false;
	const char *p = (const char *)tok.ptr, *end = p + tok.len;
	const char *n1 = memchr(p, '\0', (size_t)(end - p));
	if (!n1)
		return false;
	const char *u = n1 + 1;
	const char *n2 = memchr(u, '\0', (size_t)(end - u));
	if (!n2)
		return false;
	const char *pw = n2 + 1;
	size_t ul = (size_t)(n2 - u), pl = (size_t)(end - pw);
	snprintf(user, ulen, "%.*s", (int)(ul > 64 ? 64 : ul), u);
	for (size_t i = 0; i < b->nusers; i++) {
		if (strlen(b->users[i].name) == ul && memcmp(b->users[i].name, u, ul) == 0 &&
		    strlen(b->users[i].password) == pl && memcmp(b->users[i].password, pw, pl) == 0)
			return true;
	}
	return false;
}

void broker_handle_sasl_authenticate(broker_req *r)
{
	const kafka_sasl_authenticate_req *req = r->body;
	kafka_sasl_authenticate_resp *resp = broker_resp_new(r);
	brook_conn *c = brook_slot_conn(r->slot);
	sasl_state *s = conn_sasl(c);
	resp->auth_bytes = (kafka_bytes){(const uint8_t *)"", 0};
	char user[80] = "";
	if (!r->b->sasl || !s->handshaken || s->authenticated) {
		resp->error_code = KAFKA_ERR_ILLEGAL_SASL_STATE;
		resp->error_message = KAFKA_STR("SaslHandshake first, once per connection");
	} else if (!plain_ok(r->b, req->auth_bytes, user, sizeof user)) {
		resp->error_code = KAFKA_ERR_SASL_AUTHENTICATION_FAILED;
		resp->error_message = KAFKA_STR("Authentication failed: invalid username or "
						"password");
		brook_warn(LOG, "SASL/PLAIN authentication failed for '%s' from %s", user,
			   brook_conn_peer(c));
	} else {
		s->authenticated = true;
		resp->error_code = KAFKA_ERR_NONE;
		brook_info(LOG, "%s authenticated as '%s'", brook_conn_peer(c), user);
	}
	broker_respond(r, resp);
}
