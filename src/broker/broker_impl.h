/*
 * broker_impl.h — the broker's internals shared by broker.c (lifecycle, dispatch, group
 * commit, timers) and the request handlers (handle_*.c). Not for use outside
 * src/broker/.
 *
 * Request lifecycle: net.c cuts a frame → dispatch() decodes the header and the body
 * into r->arena → the API's handler either answers at once (broker_respond) or parks the
 * request on a wait list (produce waiting for fsync, fetch waiting for data or its
 * max_wait, group requests waiting for the coordinator) and answers later. Every
 * request is answered exactly once; broker_respond frees it.
 */
#ifndef BROOK_BROKER_IMPL_H
#define BROOK_BROKER_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "broker/broker.h"
#include "broker/group.h"
#include "broker/log.h"
#include "core/net.h"
#include "broker/topics.h"
#include "core/arena.h"
#include "core/httpd.h"
#include "core/metrics.h"
#include "kafka/api.h"

typedef struct broker_req broker_req;
typedef struct io_wait io_wait;

struct broker_req {
	broker *b;
	brook_slot *slot;
	uint8_t *frame; /* the request bytes; decoded strings point into it */
	size_t len;
	kafka_req_header hdr;
	const kafka_api_info *api;
	brook_arena arena;
	void *body; /* the decoded request (msgs.h struct) */
	int64_t t0_ns;
	bool unsupported_version; /* ApiVersions at a version brook lacks */
	broker_req *next; /* on a wait list */
	/* Waiting state, by API. */
	int64_t deadline_ms;
	void *resp;        /* the response being assembled */
	int32_t nwait;     /* produce: partitions still to become durable */
	void *wait;        /* produce: the partitions and offsets to wait for */
};

/* A flush job in the group-commit pipeline, naming its partition by value so a topic
 * deleted meanwhile is simply skipped. */
typedef struct flush_item {
	char topic[BROKER_TOPIC_NAME_MAX + 1];
	int32_t partition;
	broker_flush_job job;
	int rc;
} flush_item;

typedef struct sasl_user {
	char *name, *password;
} sasl_user;

struct broker {
	const brook_config *cfg;
	uv_loop_t loop;
	uv_async_t stop_async, flushed_async, gauge_async;
	uv_timer_t tick_timer, maint_timer, flush_timer, gauge_timer;
	brook_net *net;
	broker_topics *topics;
	group_coord *groups;
	brook_httpd *http;
	brook_metrics *metrics;

	char *dir;                /* <data>/broker */
	char host[256];           /* listen host */
	int port;
	char advertised_host[256];
	int advertised_port;
	char advertised[300];
	char listen_addr[300];
	int32_t node_id;
	char cluster_id[32];
	broker_log_config log_defaults;
	int32_t default_partitions;
	int32_t offsets_partitions;
	bool auto_create;
	size_t max_request_bytes;
	int64_t flush_interval_ms;
	int64_t maint_interval_ms;
	bool stopping;

	/* Producer ids: allocated in blocks persisted in <dir>/producer-ids. */
	int64_t next_producer_id, producer_id_limit;

	/* Group commit: partitions appended to since their last flush began. */
	broker_partition **dirty;
	size_t ndirty, capdirty;
	/* Flusher thread: jobs in, results out. */
	pthread_t flusher;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	flush_item *jobs_in;
	size_t njobs_in;
	flush_item *jobs_out;
	size_t njobs_out;
	bool flusher_quit;
	pthread_cond_t gauges_cv; /* with mu: a /metrics scrape waits for fresh gauges */
	uint64_t gauges_gen;
	bool flush_running; /* a round is with the flusher */
	bool want_flush;    /* someone waits for durability */

	broker_req *waiting_produce; /* acks=all, until durable */
	broker_req *waiting_fetch;   /* until data, min_bytes or max_wait */
	struct io_wait *waiting_io;  /* coordinator appends, until durable */

	sasl_user *users;
	size_t nusers;
	bool sasl;

	/* Metrics. */
	brook_metric_family *m_bytes_in, *m_bytes_out, *m_msgs_in, *m_latency, *m_requests;
	brook_metric_family *m_append_bytes, *m_fetch_bytes, *m_msgs_out;
	brook_metric_family *m_end_offset, *m_group_state, *m_committed, *m_lag;
	brook_metric *m_connections;
};

/* broker.c */
void *broker_resp_new(broker_req *r); /* the response struct, with its version's defaults */
void broker_respond(broker_req *r, const void *resp);
void broker_respond_silent(broker_req *r); /* acks=0 */
/* Fetch: records with ptr NULL are spliced from parts (net.h), in encoding order. */
void broker_respond_parts(broker_req *r, const void *resp, brook_file_part *parts,
			  size_t nparts);
void broker_fail(broker_req *r, const char *why); /* close the connection */
void broker_mark_dirty(broker *b, broker_partition *p);
/* Drop a topic that is being deleted from the group-commit bookkeeping. */
void broker_forget_topic(broker *b, broker_topic *t);
void broker_request_flush(broker *b);
int64_t broker_alloc_producer_id(broker *b);
/* Looks the topic up; auto-creates it (when allowed) for Metadata and Produce. */
broker_topic *broker_topic_get_or_create(broker *b, kafka_str name, bool create, int16_t *err);
broker_partition *broker_partition_get(broker *b, kafka_str topic, int32_t partition,
				       int16_t *err);
void broker_wake_fetches(broker *b);
int64_t broker_now_ms(void);

/* handle_*.c: one entry point per API; dispatch() looks them up by key. */
typedef void (*broker_handler)(broker_req *r);
broker_handler broker_handler_for(int16_t api_key);

void broker_handle_api_versions(broker_req *r);
void broker_handle_metadata(broker_req *r);
void broker_handle_produce(broker_req *r);
void broker_handle_fetch(broker_req *r);
void broker_handle_list_offsets(broker_req *r);
void broker_handle_init_producer_id(broker_req *r);
void broker_handle_find_coordinator(broker_req *r);
void broker_handle_group(broker_req *r); /* JoinGroup … ListGroups, OffsetCommit/Fetch */
void broker_handle_create_topics(broker_req *r);
void broker_handle_delete_topics(broker_req *r);
void broker_handle_create_partitions(broker_req *r);
void broker_handle_delete_records(broker_req *r);
void broker_handle_describe_configs(broker_req *r);
void broker_handle_alter_configs(broker_req *r);
void broker_handle_sasl_handshake(broker_req *r);
void broker_handle_sasl_authenticate(broker_req *r);

/* Produce/fetch waiting: called after a flush round and on timer ticks. */
void broker_produce_flushed(broker *b);
void broker_fetch_tick(broker *b, bool all_now);

/* The __consumer_offsets plumbing for the coordinator (handle_group.c). */
void broker_groups_open(broker *b);
void broker_groups_flushed(broker *b);
int broker_groups_load(broker *b);

/* SASL state per connection. */
bool broker_conn_authenticated(broker *b, brook_conn *c);

#endif
