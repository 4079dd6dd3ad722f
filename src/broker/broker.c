/*
 * broker.c — the broker's lifecycle, request dispatch, group commit and timers.
 *
 * Threads
 *   loop     everything: network, decoding, handlers, logs, the group coordinator
 *   flusher  fdatasync() of flush jobs handed over by the loop (group commit)
 *   http     libmicrohttpd's threads serving /metrics (reads atomics only)
 *
 * Group commit
 *   Appends mark their partition dirty. When a request needs durability (acks=all, an
 *   offset commit) or the flush interval passes, the loop begins a flush job for every
 *   dirty partition (broker_log_flush_begin dup()s the fds) and hands the whole round to
 *   the flusher, which fsyncs and wakes the loop (flushed_async). The loop ends the jobs
 *   (durable offsets advance) and answers every waiting produce whose data is now
 *   durable. Appends that arrive while a round runs join the next round, so one fsync
 *   covers many requests and partitions.
 *
 * Shutdown (broker_stop, any thread → stop_async on the loop)
 *   stop listening and close connections; answer waiting fetches with what they have;
 *   run a last synchronous flush and answer waiting produces; close the coordinator, the
 *   timers and the logs; broker_run returns when the loop has no handles left.
 */
#include "broker/broker_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "kafka/errors.h"

#define LOG "broker"
#define PRODUCER_ID_BLOCK 1000

const brook_cfg_key broker_config_keys[] = {
	{"broker.listen", BROOK_CFG_STR, "127.0.0.1:9092",
	 "Kafka protocol listener (HOST:PORT; port 0 picks one)", NULL},
	{"broker.advertised_listener", BROOK_CFG_STR, NULL,
	 "HOST:PORT given to clients in Metadata; unset: the listener's address", NULL},
	{"broker.node_id", BROOK_CFG_INT, "1", "this broker's node id", NULL},
	{"broker.auto_create_topics", BROOK_CFG_BOOL, "true",
	 "create unknown topics on Metadata and Produce requests", NULL},
	{"broker.default_partitions", BROOK_CFG_INT, "1", "partitions of auto-created topics",
	 NULL},
	{"broker.max_request_bytes", BROOK_CFG_SIZE, "100MiB",
	 "largest request accepted; larger ones close the connection", NULL},
	{"broker.max_message_bytes", BROOK_CFG_SIZE, "1MiB",
	 "largest record batch accepted (topic config max.message.bytes)", NULL},
	{"broker.segment_bytes", BROOK_CFG_SIZE, "1GiB", "segment file size before rolling", NULL},
	{"broker.segment_ms", BROOK_CFG_DURATION, "7d", "segment age before rolling", NULL},
	{"broker.retention_ms", BROOK_CFG_DURATION, "7d",
	 "delete data older than this (topic config retention.ms)", NULL},
	{"broker.retention_bytes", BROOK_CFG_INT, "-1",
	 "delete the oldest segments while a partition is bigger; -1: no limit", NULL},
	{"broker.flush_interval", BROOK_CFG_DURATION, "1s",
	 "acks=0/1 data is fsynced at least this often (acks=all is fsynced before the answer)",
	 NULL},
	{"broker.maintenance_interval", BROOK_CFG_DURATION, "10s",
	 "how often segments are rolled by age, retention applied and compaction run", NULL},
	{"broker.max_inflight", BROOK_CFG_INT, "16",
	 "requests one connection may have outstanding before the broker stops reading it",
	 NULL},
	{"broker.offsets_partitions", BROOK_CFG_INT, "50",
	 "partitions of the internal __consumer_offsets topic (fixed once created)", NULL},
	{"broker.group_initial_rebalance_delay", BROOK_CFG_DURATION, "0ms",
	 "wait this long for more members before the first rebalance of a new group", NULL},
	{"broker.group_min_session_timeout", BROOK_CFG_DURATION, "6s",
	 "smallest session timeout a consumer may ask for", NULL},
	{"broker.group_max_session_timeout", BROOK_CFG_DURATION, "30m",
	 "largest session timeout a consumer may ask for", NULL},
	{"broker.sasl_users", BROOK_CFG_LIST, NULL,
	 "USER:PASSWORD pairs; when set, clients must authenticate with SASL/PLAIN", NULL},
	{"broker.metrics_listen", BROOK_CFG_STR, "127.0.0.1:9308",
	 "Prometheus /metrics listener (HOST:PORT; port 0 picks one; empty: off)", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

int64_t broker_now_ms(void)
{
	return brook_now_ms();
}

/* ---- responses ---------------------------------------------------------------------- */

static void req_free(broker_req *r)
{
	brook_arena_release(&r->arena);
	free(r->frame);
	free(r);
}

static void observe(broker_req *r)
{
	const char *lv[] = {r->api ? r->api->name : "Unknown", NULL};
	brook_metric_observe(brook_metrics_series(r->b->m_latency, lv),
			     (double)(brook_mono_ns() - r->t0_ns) / 1e9);
	brook_metric_inc(brook_metrics_series(r->b->m_requests, lv));
}

static void encode_and_send(broker_req *r, int16_t ver, const void *resp)
{
	brook_buf out = BROOK_BUF_INIT;
	brook_buf_init(&out, 256);
	size_t lp = kafka_wr_len_begin(&out);
	kafka_resp_header_encode(&out, r->hdr.correlation_id,
				 kafka_resp_header_flexible(r->hdr.api_key, ver));
	kafka_response_encode(r->api, ver, resp, &out);
	kafka_wr_len_end(&out, lp);
	brook_metric_add(brook_metrics_series(r->b->m_bytes_out,
					      (const char *[]){r->api->name, NULL}),
			 (double)out.len);
	brook_slot_complete(r->slot, &out);
}

void broker_respond(broker_req *r, const void *resp)
{
	observe(r);
	encode_and_send(r, r->hdr.api_version, resp);
	req_free(r);
}

void broker_respond_parts(broker_req *r, const void *resp, brook_file_part *parts,
			  size_t nparts)
{
	observe(r);
	int16_t ver = r->hdr.api_version;
	brook_buf out = BROOK_BUF_INIT;
	brook_buf_init(&out, 256);
	size_t lp = kafka_wr_len_begin(&out);
	kafka_resp_header_encode(&out, r->hdr.correlation_id,
				 kafka_resp_header_flexible(r->hdr.api_key, ver));
	kafka_splices sp = {0};
	kafka_encode_spliced(r->api->response, ver, kafka_api_flexible(r->api, ver), resp, &out,
			     &sp);
	if (sp.n != nparts) {
		/* The handler and the codec disagree on which records are spliced. */
		brook_error(LOG, "internal error: %zu spliced records for %zu file parts", sp.n,
			    nparts);
		abort();
	}
	size_t spliced = 0;
	for (size_t i = 0; i < nparts; i++) {
		parts[i].at = sp.pos[i];
		spliced += parts[i].len;
	}
	free(sp.pos);
	/* The size prefix counts the spliced bytes too. */
	uint32_t total = (uint32_t)(out.len - lp - 4 + spliced);
	uint8_t *p = (uint8_t *)out.data + lp;
	p[0] = (uint8_t)(total >> 24);
	p[1] = (uint8_t)(total >> 16);
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	brook_metric_add(brook_metrics_series(r->b->m_bytes_out,
					      (const char *[]){r->api->name, NULL}),
			 (double)(out.len + spliced));
	brook_slot_complete_parts(r->slot, &out, parts, nparts);
	req_free(r);
}

void broker_respond_silent(broker_req *r)
{
	observe(r);
	brook_slot_complete_silent(r->slot);
	req_free(r);
}

void broker_fail(broker_req *r, const char *why)
{
	brook_slot_fail(r->slot, why);
	req_free(r);
}

/* ApiVersions at a version we do not speak: answered in v0 with UNSUPPORTED_VERSION and
 * our ranges, so the client can retry with one it shares (librdkafka does, from v3). */
static void answer_api_versions_unsupported(broker_req *r)
{
	r->hdr.api_version = 0;
	r->unsupported_version = true;
	broker_handle_api_versions(r);
}

/* ---- dispatch ----------------------------------------------------------------------- */

/* Kafka framing: a 4-byte big-endian size, then that many bytes. */
static int frame_len(void *arg, const uint8_t *p, size_t avail, size_t *len, char *why,
		     size_t whylen)
{
	const broker *b = arg;
	if (avail < 4)
		return BROOK_AGAIN;
	int32_t size = (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
				 p[3]);
	if (size < 0 || (size_t)size > b->max_request_bytes) {
		snprintf(why, whylen, "request of %d bytes exceeds the maximum of %zu "
			 "(broker.max_request_bytes)", size, b->max_request_bytes);
		return BROOK_ERR;
	}
	*len = 4 + (size_t)size;
	return BROOK_OK;
}

/* frame[0..len) is the whole frame: the size prefix, then the request. */
static void on_frame(void *arg, brook_conn *conn, brook_slot *slot, uint8_t *frame, size_t len)
{
	broker *b = arg;
	broker_req *r = brook_calloc(1, sizeof *r);
	r->b = b;
	r->slot = slot;
	r->frame = frame;
	r->len = len - 4;
	r->t0_ns = brook_mono_ns();
	char why[400];

	kafka_rd rd;
	kafka_rd_init(&rd, frame + 4, len - 4);
	if (kafka_req_header_decode(&rd, &r->hdr) != BROOK_OK) {
		snprintf(why, sizeof why, "malformed request header: %s", rd.err);
		broker_fail(r, why);
		return;
	}
	int16_t key = r->hdr.api_key, ver = r->hdr.api_version;
	r->api = kafka_api_lookup(key);
	if (!r->api) {
		snprintf(why, sizeof why, "unsupported API %d (%s) version %d", key,
			 kafka_api_name(key), ver);
		broker_fail(r, why);
		return;
	}
	brook_metric_add(brook_metrics_series(b->m_bytes_in, (const char *[]){r->api->name, NULL}),
			 (double)len);
	if (!kafka_api_supported(r->api, ver)) {
		if (key == KAFKA_API_API_VERSIONS) {
			answer_api_versions_unsupported(r);
			return;
		}
		snprintf(why, sizeof why, "%s version %d is not supported (brook speaks %d-%d)",
			 r->api->name, ver, r->api->min_ver, r->api->max_ver);
		broker_fail(r, why);
		return;
	}
	if (kafka_request_decode(r->api, ver, &rd, &r->arena, &r->body) != BROOK_OK) {
		snprintf(why, sizeof why, "malformed %s v%d request: %s", r->api->name, ver, rd.err);
		broker_fail(r, why);
		return;
	}
	if (b->sasl && key != KAFKA_API_API_VERSIONS && key != KAFKA_API_SASL_HANDSHAKE &&
	    key != KAFKA_API_SASL_AUTHENTICATE && !broker_conn_authenticated(b, conn)) {
		snprintf(why, sizeof why, "%s before SASL authentication", r->api->name);
		broker_fail(r, why);
		return;
	}
	if (b->stopping) {
		broker_fail(r, "the broker is shutting down");
		return;
	}
	broker_handler h = broker_handler_for(key);
	h(r);
}

/* ---- topics ------------------------------------------------------------------------- */

broker_topic *broker_topic_get_or_create(broker *b, kafka_str name, bool create, int16_t *err)
{
	*err = KAFKA_ERR_NONE;
	if (name.len < 0 || !broker_topic_name_valid(name.ptr, (size_t)name.len)) {
		*err = KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
		return NULL;
	}
	broker_topic *t = broker_topics_get(b->topics, name.ptr, (size_t)name.len);
	if (t)
		return t;
	if (!create || !b->auto_create || (name.len >= 2 && name.ptr[0] == '_' && name.ptr[1] == '_')) {
		*err = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return NULL;
	}
	char nm[BROKER_TOPIC_NAME_MAX + 1], msg[256];
	memcpy(nm, name.ptr, (size_t)name.len);
	nm[name.len] = '\0';
	*err = broker_topics_create(b->topics, nm, b->default_partitions, NULL, 0, false, &t, msg,
				    sizeof msg);
	if (*err) {
		brook_warn(LOG, "auto-creating topic %s failed: %s", nm, msg);
		return NULL;
	}
	return t;
}

broker_partition *broker_partition_get(broker *b, kafka_str topic, int32_t partition,
				       int16_t *err)
{
	broker_topic *t = broker_topic_get_or_create(b, topic, false, err);
	if (!t)
		return NULL;
	if (partition < 0 || partition >= t->npartitions) {
		*err = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return NULL;
	}
	return t->parts[partition];
}

/* ---- producer ids ------------------------------------------------------------------- */

static int save_producer_limit(broker *b, int64_t limit)
{
	char path[4096], text[32];
	snprintf(path, sizeof path, "%s/producer-ids", b->dir);
	int n = snprintf(text, sizeof text, "%" PRId64 "\n", limit);
	return brook_file_write_atomic(path, text, (size_t)n);
}

/* Ids are handed out from blocks whose end is persisted before use, so ids never repeat
 * across restarts, even after a crash. */
int64_t broker_alloc_producer_id(broker *b)
{
	if (b->next_producer_id >= b->producer_id_limit) {
		int64_t limit = b->next_producer_id + PRODUCER_ID_BLOCK;
		if (save_producer_limit(b, limit) != BROOK_OK) {
			brook_error(LOG, "cannot persist producer ids: %s", strerror(errno));
			return -1;
		}
		b->producer_id_limit = limit;
	}
	return b->next_producer_id++;
}

static void load_producer_ids(broker *b)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/producer-ids", b->dir);
	FILE *f = fopen(path, "r");
	int64_t limit = 0;
	if (f) {
		if (fscanf(f, "%" SCNd64, &limit) != 1)
			limit = 0;
		fclose(f);
	}
	/* Never below what the logs have seen either. */
	for (size_t i = 0; i < broker_topics_count(b->topics); i++) {
		broker_topic *t = broker_topics_at(b->topics, i);
		for (int32_t p = 0; p < t->npartitions; p++) {
			int64_t m = broker_log_max_producer_id(t->parts[p]->log);
			if (m + 1 > limit)
				limit = m + 1;
		}
	}
	b->next_producer_id = limit;
	b->producer_id_limit = limit;
}

/* ---- group commit ------------------------------------------------------------------- */

void broker_mark_dirty(broker *b, broker_partition *p)
{
	for (size_t i = 0; i < b->ndirty; i++)
		if (b->dirty[i] == p)
			return;
	if (b->ndirty == b->capdirty) {
		b->capdirty = b->capdirty ? b->capdirty * 2 : 16;
		b->dirty = brook_realloc(b->dirty, b->capdirty * sizeof *b->dirty);
	}
	b->dirty[b->ndirty++] = p;
}

void broker_forget_topic(broker *b, broker_topic *t)
{
	size_t o = 0;
	for (size_t i = 0; i < b->ndirty; i++)
		if (b->dirty[i]->topic != t)
			b->dirty[o++] = b->dirty[i];
	b->ndirty = o;
}

static void *flusher_main(void *arg)
{
	pthread_setname_np(pthread_self(), "broker-flush");
	broker *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->jobs_in && !b->flusher_quit)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->jobs_in && b->flusher_quit)
			break;
		flush_item *jobs = b->jobs_in;
		size_t n = b->njobs_in;
		b->jobs_in = NULL;
		b->njobs_in = 0;
		pthread_mutex_unlock(&b->mu);
		for (size_t i = 0; i < n; i++)
			jobs[i].rc = broker_flush_job_run(&jobs[i].job);
		pthread_mutex_lock(&b->mu);
		b->jobs_out = jobs;
		b->njobs_out = n;
		uv_async_send(&b->flushed_async);
		while (b->jobs_out && !b->flusher_quit)
			pthread_cond_wait(&b->cv, &b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Start a round for every dirty partition, unless one is already running. */
static void start_flush_round(broker *b)
{
	if (b->flush_running || b->ndirty == 0)
		return;
	flush_item *jobs = brook_calloc(b->ndirty, sizeof *jobs);
	size_t n = 0;
	for (size_t i = 0; i < b->ndirty; i++) {
		broker_partition *p = b->dirty[i];
		if (!broker_log_flush_begin(p->log, &jobs[n].job))
			continue;
		snprintf(jobs[n].topic, sizeof jobs[n].topic, "%s", p->topic->name);
		jobs[n].partition = p->index;
		n++;
	}
	b->ndirty = 0;
	b->want_flush = false;
	if (n == 0) {
		free(jobs);
		broker_produce_flushed(b);
		broker_groups_flushed(b);
		return;
	}
	b->flush_running = true;
	pthread_mutex_lock(&b->mu);
	b->jobs_in = jobs;
	b->njobs_in = n;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static void on_flushed(uv_async_t *a)
{
	broker *b = a->data;
	pthread_mutex_lock(&b->mu);
	flush_item *jobs = b->jobs_out;
	size_t n = b->njobs_out;
	b->jobs_out = NULL;
	b->njobs_out = 0;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (!jobs)
		return;
	for (size_t i = 0; i < n; i++) {
		broker_topic *t = broker_topics_get(b->topics, jobs[i].topic, strlen(jobs[i].topic));
		if (t && jobs[i].partition < t->npartitions) {
			broker_log_flush_end(t->parts[jobs[i].partition]->log, &jobs[i].job,
					     jobs[i].rc);
			if (jobs[i].rc != 0) {
				brook_error(LOG, "fsync of %s-%d failed; retrying in the next round",
					    jobs[i].topic, jobs[i].partition);
				broker_mark_dirty(b, t->parts[jobs[i].partition]);
			}
		} else {
			/* The topic went away meanwhile: the fds are closed, nothing to record. */
		}
	}
	free(jobs);
	b->flush_running = false;
	broker_produce_flushed(b);
	broker_groups_flushed(b);
	if (b->want_flush)
		start_flush_round(b);
}

void broker_request_flush(broker *b)
{
	b->want_flush = true;
	start_flush_round(b);
}

/* Synchronous flush of everything (shutdown). */
static void flush_all_sync(broker *b)
{
	for (size_t i = 0; i < broker_topics_count(b->topics); i++) {
		broker_topic *t = broker_topics_at(b->topics, i);
		for (int32_t p = 0; p < t->npartitions; p++)
			broker_log_flush_sync(t->parts[p]->log);
	}
	b->ndirty = 0;
}

/* ---- timers ------------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	broker *b = t->data;
	int64_t now = broker_now_ms();
	group_coord_tick(b->groups, now);
	broker_fetch_tick(b, false);
	brook_metric_set(b->m_connections, (double)brook_net_connections(b->net));
}

static void on_flush_timer(uv_timer_t *t)
{
	broker *b = t->data;
	start_flush_round(b);
}

static void on_maintain(uv_timer_t *t)
{
	broker *b = t->data;
	int64_t now = broker_now_ms();
	for (size_t i = 0; i < broker_topics_count(b->topics); i++) {
		broker_topic *tp = broker_topics_at(b->topics, i);
		for (int32_t p = 0; p < tp->npartitions; p++)
			broker_log_maintain(tp->parts[p]->log, now);
	}
}

/* ---- metrics ------------------------------------------------------------------------ */

/* Refreshing gauges needs the loop's data; /metrics runs on HTTP threads, so the loop
 * updates the gauges on each tick instead (see on_metrics_gauges). */
static void on_metrics_gauges(uv_timer_t *t);
static void on_stop(uv_async_t *a);

static void each_group(void *arg, const group_info *gi)
{
	broker *b = arg;
	static const char *states[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
				       "Stable", "Dead"};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		brook_metric_set(brook_metrics_series(b->m_group_state,
						      (const char *[]){gi->group_id, states[i],
								       NULL}),
				 strcmp(gi->state, states[i]) == 0 ? 1 : 0);
}

static void each_offset(void *arg, const char *group, const char *topic, int32_t partition,
			int64_t offset)
{
	broker *b = arg;
	char part[16];
	snprintf(part, sizeof part, "%d", partition);
	const char *lv[] = {group, topic, part, NULL};
	brook_metric_set(brook_metrics_series(b->m_committed, lv), (double)offset);
	broker_topic *t = broker_topics_get(b->topics, topic, strlen(topic));
	if (t && partition >= 0 && partition < t->npartitions) {
		int64_t end = broker_log_end_offset(t->parts[partition]->log);
		brook_metric_set(brook_metrics_series(b->m_lag, lv),
				 (double)(end > offset ? end - offset : 0));
	}
}

static void on_metrics_gauges(uv_timer_t *t)
{
	broker *b = t->data;
	for (size_t i = 0; i < broker_topics_count(b->topics); i++) {
		broker_topic *tp = broker_topics_at(b->topics, i);
		for (int32_t p = 0; p < tp->npartitions; p++) {
			char part[16];
			snprintf(part, sizeof part, "%d", p);
			brook_metric_set(brook_metrics_series(b->m_end_offset,
							      (const char *[]){tp->name, part,
									       NULL}),
					 (double)broker_log_end_offset(tp->parts[p]->log));
		}
	}
	group_coord_each_group(b->groups, each_group, b);
	group_coord_each_offset(b->groups, each_offset, b);
}

/* A scrape asks the loop to refresh the gauges first (they read loop-owned state), so
 * what it renders is current; it waits at most a second for a busy loop. */
static void on_gauge_async(uv_async_t *a)
{
	broker *b = a->data;
	on_metrics_gauges(&b->gauge_timer);
	pthread_mutex_lock(&b->mu);
	b->gauges_gen++;
	pthread_cond_broadcast(&b->gauges_cv);
	pthread_mutex_unlock(&b->mu);
}

static void metrics_handler(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	broker *b = arg;
	pthread_mutex_lock(&b->mu);
	uint64_t want = b->gauges_gen + 1;
	if (!b->stopping)
		uv_async_send(&b->gauge_async);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	while (b->gauges_gen < want && !b->stopping &&
	       pthread_cond_timedwait(&b->gauges_cv, &b->mu, &until) == 0)
		;
	pthread_mutex_unlock(&b->mu);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	brook_metrics_render(b->metrics, &resp->body);
}

static void setup_metrics(broker *b)
{
	brook_metrics *m = b->metrics = brook_metrics_new();
	const char *api[] = {"api", NULL};
	const char *tp[] = {"topic", NULL};
	const char *tpp[] = {"topic", "partition", NULL};
	b->m_bytes_in = brook_metrics_family(m, BROOK_METRIC_COUNTER,
					     "brook_broker_request_bytes_total",
					     "Bytes of requests received, by API.", api);
	b->m_bytes_out = brook_metrics_family(m, BROOK_METRIC_COUNTER,
					      "brook_broker_response_bytes_total",
					      "Bytes of responses sent, by API.", api);
	b->m_requests = brook_metrics_family(m, BROOK_METRIC_COUNTER,
					     "brook_broker_requests_total",
					     "Requests answered, by API.", api);
	b->m_latency = brook_metrics_histogram_family(m, "brook_broker_request_seconds",
						      "Request latency, by API.", api, NULL, 0);
	b->m_msgs_in = brook_metrics_family(m, BROOK_METRIC_COUNTER,
					    "brook_broker_messages_in_total",
					    "Records appended, by topic.", tp);
	b->m_append_bytes = brook_metrics_family(m, BROOK_METRIC_COUNTER,
						 "brook_broker_bytes_in_total",
						 "Record batch bytes appended, by topic.", tp);
	b->m_fetch_bytes = brook_metrics_family(m, BROOK_METRIC_COUNTER,
						"brook_broker_bytes_out_total",
						"Record batch bytes fetched, by topic.", tp);
	b->m_msgs_out = brook_metrics_family(m, BROOK_METRIC_COUNTER,
					     "brook_broker_messages_out_total",
					     "Record offsets sent to consumers, by topic.", tp);
	b->m_end_offset = brook_metrics_family(m, BROOK_METRIC_GAUGE,
					       "brook_broker_partition_end_offset",
					       "Next offset to be assigned, by partition.", tpp);
	b->m_group_state = brook_metrics_family(m, BROOK_METRIC_GAUGE, "brook_broker_group_state",
						"1 for the state each consumer group is in.",
						(const char *[]){"group", "state", NULL});
	b->m_committed = brook_metrics_family(m, BROOK_METRIC_GAUGE,
					      "brook_broker_group_committed_offset",
					      "Committed offset, by group and partition.",
					      (const char *[]){"group", "topic", "partition", NULL});
	b->m_lag = brook_metrics_family(m, BROOK_METRIC_GAUGE, "brook_broker_group_lag",
					"End offset minus committed offset, by group and partition.",
					(const char *[]){"group", "topic", "partition", NULL});
	b->m_connections = brook_metrics_gauge(m, "brook_broker_connections",
					       "Open client connections.");
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int load_cluster_id(broker *b)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/cluster-id", b->dir);
	FILE *f = fopen(path, "r");
	if (f) {
		int ok = fscanf(f, "%31s", b->cluster_id) == 1;
		fclose(f);
		if (ok)
			return 0;
	}
	/* A Kafka-style cluster id: 22 characters of URL-safe base64 of a random UUID. */
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	brook_uuid u;
	brook_uuid_v4(&u);
	for (int i = 0; i < 22; i++) {
		int bit = i * 6;
		int v = ((u.b[bit / 8] << 8 | (bit / 8 + 1 < 16 ? u.b[bit / 8 + 1] : 0)) >>
			 (10 - bit % 8)) & 63;
		b->cluster_id[i] = b64[v];
	}
	b->cluster_id[22] = '\0';
	char text[32];
	int n = snprintf(text, sizeof text, "%s\n", b->cluster_id);
	return brook_file_write_atomic(path, text, (size_t)n) == BROOK_OK ? 0 : -1;
}

static int parse_users(broker *b, char *err, size_t errlen)
{
	const char *const *items;
	size_t n = brook_config_list(b->cfg, "broker.sasl_users", &items);
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(items[i], ':');
		if (!colon || colon == items[i]) {
			snprintf(err, errlen, "broker.sasl_users: '%s' is not USER:PASSWORD", items[i]);
			return -1;
		}
		b->users = brook_realloc(b->users, (b->nusers + 1) * sizeof *b->users);
		b->users[b->nusers].name = brook_strndup(items[i], (size_t)(colon - items[i]));
		b->users[b->nusers].password = brook_strdup(colon + 1);
		b->nusers++;
	}
	b->sasl = n > 0;
	return 0;
}

broker *broker_open(const brook_config *cfg, char *err, size_t errlen)
{
	broker *b = brook_calloc(1, sizeof *b);
	b->cfg = cfg;
	char *host = NULL;
	if (brook_parse_hostport(brook_config_str(cfg, "broker.listen"), &host, &b->port) !=
	    BROOK_OK) {
		snprintf(err, errlen, "broker.listen: '%s' is not HOST:PORT",
			 brook_config_str(cfg, "broker.listen"));
		free(b);
		return NULL;
	}
	snprintf(b->host, sizeof b->host, "%s", host);
	free(host);
	b->node_id = (int32_t)brook_config_int(cfg, "broker.node_id");
	b->auto_create = brook_config_bool(cfg, "broker.auto_create_topics");
	b->default_partitions = (int32_t)brook_config_int(cfg, "broker.default_partitions");
	b->offsets_partitions = (int32_t)brook_config_int(cfg, "broker.offsets_partitions");
	b->max_request_bytes = brook_config_size(cfg, "broker.max_request_bytes");
	b->flush_interval_ms = brook_config_duration_ms(cfg, "broker.flush_interval");
	b->maint_interval_ms = brook_config_duration_ms(cfg, "broker.maintenance_interval");
	if (b->default_partitions < 1 || b->offsets_partitions < 1) {
		snprintf(err, errlen, "broker.default_partitions and broker.offsets_partitions "
			 "must be at least 1");
		free(b);
		return NULL;
	}
	broker_log_config_defaults(&b->log_defaults);
	b->log_defaults.segment_bytes = brook_config_size(cfg, "broker.segment_bytes");
	b->log_defaults.segment_ms = brook_config_duration_ms(cfg, "broker.segment_ms");
	b->log_defaults.retention_ms = brook_config_duration_ms(cfg, "broker.retention_ms");
	b->log_defaults.retention_bytes = brook_config_int(cfg, "broker.retention_bytes");
	uint64_t mmb = brook_config_size(cfg, "broker.max_message_bytes");
	b->log_defaults.max_message_bytes = mmb > UINT32_MAX ? UINT32_MAX : (uint32_t)mmb;
	if (parse_users(b, err, errlen) != 0) {
		free(b);
		return NULL;
	}

	size_t dl = strlen(brook_config_str(cfg, "data")) + 16;
	b->dir = brook_malloc(dl);
	snprintf(b->dir, dl, "%s/broker", brook_config_str(cfg, "data"));
	if (brook_mkdirs(b->dir, 0755) != BROOK_OK || load_cluster_id(b) != 0) {
		snprintf(err, errlen, "cannot use data directory %s: %s", b->dir, strerror(errno));
		goto fail;
	}
	brook_info(LOG, "opening %s (recovering logs)", b->dir);
	char topics_dir[4200];
	snprintf(topics_dir, sizeof topics_dir, "%s/topics", b->dir);
	b->topics = broker_topics_open(topics_dir, &b->log_defaults, err, errlen);
	if (!b->topics)
		goto fail;
	load_producer_ids(b);
	setup_metrics(b);

	uv_loop_init(&b->loop);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	pthread_cond_init(&b->gauges_cv, NULL);
	uv_async_init(&b->loop, &b->stop_async, on_stop);
	b->stop_async.data = b;
	uv_async_init(&b->loop, &b->gauge_async, on_gauge_async);
	b->gauge_async.data = b;
	broker_groups_open(b);
	if (broker_groups_load(b) != 0) {
		snprintf(err, errlen, "cannot load consumer groups from __consumer_offsets");
		goto fail_loop;
	}
	brook_net_opts no = {
		.host = b->host,
		.port = b->port,
		.comp = LOG,
		.max_inflight = (int)brook_config_int(cfg, "broker.max_inflight"),
		.frame_len = frame_len,
		.on_frame = on_frame,
		.arg = b,
	};
	b->net = brook_net_open(&b->loop, &no, err, errlen);
	if (!b->net)
		goto fail_loop;
	b->port = brook_net_port(b->net);
	snprintf(b->listen_addr, sizeof b->listen_addr, strchr(b->host, ':') ? "[%s]:%d" : "%s:%d",
		 b->host, b->port);

	const char *adv = brook_config_str(cfg, "broker.advertised_listener");
	if (adv) {
		char *ah = NULL;
		if (brook_parse_hostport(adv, &ah, &b->advertised_port) != BROOK_OK) {
			snprintf(err, errlen, "broker.advertised_listener: '%s' is not HOST:PORT", adv);
			goto fail_net;
		}
		snprintf(b->advertised_host, sizeof b->advertised_host, "%s", ah);
		free(ah);
	} else {
		snprintf(b->advertised_host, sizeof b->advertised_host, "%s",
			 strcmp(b->host, "0.0.0.0") == 0 ? "127.0.0.1" : b->host);
		b->advertised_port = b->port;
	}
	snprintf(b->advertised, sizeof b->advertised, "%s:%d", b->advertised_host,
		 b->advertised_port);

	if (brook_httpd_open_metrics(cfg, "broker.metrics_listen", LOG, metrics_handler, b,
				     &b->http, err, errlen) != BROOK_OK)
		goto fail_net;

	pthread_create(&b->flusher, NULL, flusher_main, b);
	uv_async_init(&b->loop, &b->flushed_async, on_flushed);
	b->flushed_async.data = b;
	uv_timer_init(&b->loop, &b->tick_timer);
	b->tick_timer.data = b;
	uv_timer_start(&b->tick_timer, on_tick, 50, 50);
	uv_timer_init(&b->loop, &b->maint_timer);
	b->maint_timer.data = b;
	uv_timer_start(&b->maint_timer, on_maintain, (uint64_t)b->maint_interval_ms,
		       (uint64_t)b->maint_interval_ms);
	uv_timer_init(&b->loop, &b->flush_timer);
	b->flush_timer.data = b;
	if (b->flush_interval_ms > 0)
		uv_timer_start(&b->flush_timer, on_flush_timer, (uint64_t)b->flush_interval_ms,
			       (uint64_t)b->flush_interval_ms);
	uv_timer_init(&b->loop, &b->gauge_timer);
	b->gauge_timer.data = b;
	uv_timer_start(&b->gauge_timer, on_metrics_gauges, 0, 1000);
	return b;

fail_net:
	brook_net_close(b->net);
fail_loop:
	if (b->groups)
		group_coord_free(b->groups);
	uv_close((uv_handle_t *)&b->stop_async, NULL);
	uv_close((uv_handle_t *)&b->gauge_async, NULL);
	uv_run(&b->loop, UV_RUN_NOWAIT);
	uv_loop_close(&b->loop);
	broker_topics_close(b->topics);
	brook_metrics_free(b->metrics);
fail:
	for (size_t i = 0; i < b->nusers; i++) {
		free(b->users[i].name);
		free(b->users[i].password);
	}
	free(b->users);
	free(b->dir);
	free(b);
	return NULL;
}

int broker_port(const broker *b)
{
	return b->port;
}

const char *broker_listen_addr(const broker *b)
{
	return b->listen_addr;
}

const char *broker_advertised(const broker *b)
{
	return b->advertised;
}

int broker_metrics_port(const broker *b)
{
	return b->http ? brook_httpd_port(b->http) : 0;
}

static void on_stop(uv_async_t *a)
{
	broker *b = a->data;
	if (b->stopping)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = true; /* read by /metrics scrapes under mu */
	pthread_cond_broadcast(&b->gauges_cv);
	pthread_mutex_unlock(&b->mu);
	if (b->http) {
		brook_httpd_close(b->http);
		b->http = NULL;
	}
	brook_info(LOG, "stopping: answering requests in flight and flushing logs");
	broker_fetch_tick(b, true);
	/* Wait for a running flush round, then flush everything synchronously. */
	pthread_mutex_lock(&b->mu);
	b->flusher_quit = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->flusher, NULL);
	if (b->jobs_out) {
		for (size_t i = 0; i < b->njobs_out; i++) {
			broker_topic *t = broker_topics_get(b->topics, b->jobs_out[i].topic,
							    strlen(b->jobs_out[i].topic));
			if (t && b->jobs_out[i].partition < t->npartitions)
				broker_log_flush_end(t->parts[b->jobs_out[i].partition]->log,
						     &b->jobs_out[i].job, b->jobs_out[i].rc);
		}
		free(b->jobs_out);
		b->jobs_out = NULL;
	}
	flush_all_sync(b);
	broker_produce_flushed(b);
	broker_groups_flushed(b);
	group_coord_free(b->groups); /* answers what it still holds */
	b->groups = NULL;
	brook_net_close(b->net);
	uv_close((uv_handle_t *)&b->flushed_async, NULL);
	uv_close((uv_handle_t *)&b->stop_async, NULL);
	uv_close((uv_handle_t *)&b->gauge_async, NULL);
	uv_close((uv_handle_t *)&b->tick_timer, NULL);
	uv_close((uv_handle_t *)&b->maint_timer, NULL);
	uv_close((uv_handle_t *)&b->flush_timer, NULL);
	uv_close((uv_handle_t *)&b->gauge_timer, NULL);
}

void broker_run(broker *b)
{
	uv_run(&b->loop, UV_RUN_DEFAULT);
}

void broker_stop(broker *b)
{
	uv_async_send(&b->stop_async);
}

void broker_close(broker *b)
{
	if (!b)
		return;
	if (b->http)
		brook_httpd_close(b->http);
	uv_loop_close(&b->loop);
	broker_topics_close(b->topics);
	brook_metrics_free(b->metrics);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	pthread_cond_destroy(&b->gauges_cv);
	for (size_t i = 0; i < b->nusers; i++) {
		free(b->users[i].name);
		free(b->users[i].password);
	}
	free(b->users);
	free(b->dirty);
	free(b->dir);
	free(b);
}
