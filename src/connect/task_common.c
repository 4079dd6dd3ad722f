/*
 * task_common.c — what the postgres-cdc task (pgcdc_task.c) and the postgres-incrementing
 * task (incr_task.c) share: config values, table lists and topic names, the librdkafka
 * client configuration and log forwarding, the producer (created once the broker answers),
 * producing a record, the first failure of a session, and the retry of failed sessions
 * with a capped exponential backoff. Declarations and contracts in connect_int.h.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect/connect_int.h"
#include "core/err.h"
#include "core/kconf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define COMP	"connect"
#define POLL_MS 100

/* ---- configuration ---- */

int connect_cfg_long(const json_t *config, const char *key, long def, long min, long max,
		     long *out, char *err, size_t errlen)
{
	const char *s = connect_cfg(config, key, NULL);
	if (!s) {
		*out = def;
		return BROOK_OK;
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || end == s || v < min || v > max) {
		if (max == LONG_MAX)
			snprintf(err, errlen, "%s must be an integer >= %ld, not '%s'", key, min,
				 s);
		else
			snprintf(err, errlen, "%s must be an integer from %ld to %ld, not '%s'",
				 key, min, max, s);
		return BROOK_ERR;
	}
	*out = v;
	return BROOK_OK;
}

int connect_task_cfg_load(const json_t *config, const char *bootstrap, long max_retries,
			  long max_ms, connect_task_cfg *tc, char *err, size_t errlen)
{
	memset(tc, 0, sizeof *tc);
	tc->conninfo = connect_cfg(config, "connection.url", NULL);
	if (!tc->conninfo) {
		snprintf(err, errlen, "connection.url is required (a libpq connection string or "
				      "postgresql:// URI)");
		return BROOK_ERR;
	}
	tc->bootstrap = connect_cfg(config, "kafka.bootstrap", bootstrap);
	if (!tc->bootstrap) {
		snprintf(err, errlen, "kafka.bootstrap is not set");
		return BROOK_ERR;
	}
	if (connect_cfg_long(config, "errors.retry.max", 10, 1, max_retries, &tc->retry_max, err,
			     errlen) ||
	    connect_cfg_long(config, "errors.retry.backoff.max.ms", 10000, 1, max_ms,
			     &tc->backoff_max_ms, err, errlen) ||
	    connect_cfg_long(config, "kafka.connect.timeout.ms", 10000, 1, max_ms,
			     &tc->broker_timeout_ms, err, errlen) ||
	    connect_cfg_long(config, "kafka.message.timeout.ms", 30000, 1, max_ms,
			     &tc->msg_timeout, err, errlen))
		return BROOK_ERR;
	tc->msg_timeout_ms = connect_cfg(config, "kafka.message.timeout.ms", "30000");
	return BROOK_OK;
}

char **connect_list_split(const char *list, size_t *n)
{
	char **items = NULL;
	*n = 0;
	for (const char *p = list ? list : ""; *p;) {
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e > b) {
			items = brook_realloc(items, (*n + 1) * sizeof *items);
			items[(*n)++] = brook_strndup(b, (size_t)(e - b));
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return items;
}

void connect_list_free(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

char *connect_topic_name(const char *topic, const char *prefix, const char *schema,
			 const char *table)
{
	if (topic)
		return brook_strdup(topic);
	size_t n = strlen(prefix) + strlen(schema) + strlen(table) + 3;
	char *t = brook_malloc(n);
	snprintf(t, n, "%s.%s.%s", prefix, schema, table);
	return t;
}

/* ---- librdkafka clients ---- */

/* librdkafka (2.0 to at least 2.15) caps an idempotent producer's in-flight requests per
 * partition at 5 minus the *messages* in flight: one request at a time. While it waits, a
 * queued batch older than linger.ms makes its broker thread spin on poll(0) (a third of
 * a core under load). So the queue holds about two batches (1 MB each) per partition, one
 * in flight and one filling, and linger.ms is longer than a produce round trip under
 * load; batches still leave full or, at low rates, after 50 ms. A deeper queue only
 * holds batches longer (and spins); a shallower one leaves partitions idle.
 * queue.buffering.max.kbytes also bounds memory: produce() waits (QUEUE_FULL) beyond it. */
#define QUEUE_KB_PER_PARTITION 2048
#define QUEUE_MAX_PARTITIONS 8

static rd_kafka_t *producer_create(connect_connector *c, const connect_producer_opts *o,
				   int partitions, char *err, size_t errlen)
{
	char e[512], client_id[256], queue_kb[24];
	snprintf(client_id, sizeof client_id, "brook-connect-%s", c->name);
	snprintf(queue_kb, sizeof queue_kb, "%d", QUEUE_KB_PER_PARTITION * partitions);
	const char *const kv[] = {
		"bootstrap.servers", o->cfg->bootstrap,
		"client.id", client_id,
		"enable.idempotence", "true",
		"acks", "all",
		"linger.ms", "50",
		"message.timeout.ms", o->cfg->msg_timeout_ms,
		"queue.buffering.max.kbytes", queue_kb,
		NULL,
	};
	rd_kafka_conf_t *conf = brook_kafka_conf(kv, o->opaque, o->what, err, errlen);
	if (!conf)
		return NULL;
	rd_kafka_conf_set_dr_msg_cb(conf, o->on_delivery);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	if (!rk) {
		snprintf(err, errlen, "cannot create the producer: %s", e);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* The most partitions among the topics named "<prefix>.*" in md (1 when none exists). */
static int prefix_partitions(const char *prefix, const struct rd_kafka_metadata *md)
{
	int most = 1;
	size_t plen = strlen(prefix);
	for (int i = 0; i < md->topic_cnt; i++) {
		const char *t = md->topics[i].topic;
		if (!strncmp(t, prefix, plen) && t[plen] == '.' &&
		    md->topics[i].partition_cnt > most)
			most = md->topics[i].partition_cnt;
	}
	return most;
}

/* The partitions of topic, asked for by name: a producer's metadata request creates a
 * missing topic (when the broker auto-creates topics), as its first record would. */
static int fixed_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int n = 1;
	if (t && !rd_kafka_metadata(rk, 0, t, &md, timeout_ms) && md->topic_cnt == 1 &&
	    !md->topics[0].err && md->topics[0].partition_cnt > 1)
		n = md->topics[0].partition_cnt;
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
	return n;
}

rd_kafka_t *connect_producer_new(connect_connector *c, const connect_producer_opts *o,
				 const struct rd_kafka_metadata **mdp, char *err, size_t errlen)
{
	rd_kafka_t *rk = producer_create(c, o, 1, err, errlen);
	if (!rk)
		return NULL;
	/* Is the broker there? Asked in short steps so that a stop is not held up. */
	bool all = mdp || (!o->topic && o->topic_prefix);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t me = RD_KAFKA_RESP_ERR__TIMED_OUT;
	int64_t deadline = brook_mono_ms() + o->cfg->broker_timeout_ms;
	int step = o->cfg->broker_timeout_ms < 500 ? (int)o->cfg->broker_timeout_ms : 500;
	while (!connect_task_yield(c) && brook_mono_ms() < deadline) {
		me = rd_kafka_metadata(rk, all ? 1 : 0, NULL, &md, step);
		if (me != RD_KAFKA_RESP_ERR__TIMED_OUT && me != RD_KAFKA_RESP_ERR__TRANSPORT)
			break;
		if (me == RD_KAFKA_RESP_ERR__TRANSPORT)
			connect_task_sleep(c, 100);
	}
	if (me) {
		snprintf(err, errlen, "broker unreachable at %s: %s", o->cfg->bootstrap,
			 rd_kafka_err2str(me));
		rd_kafka_destroy(rk);
		return NULL;
	}
	int parts = 1;
	if (o->topic)
		parts = fixed_topic_partitions(rk, o->topic, step);
	else if (o->topic_prefix)
		parts = prefix_partitions(o->topic_prefix, md);
	if (parts > QUEUE_MAX_PARTITIONS)
		parts = QUEUE_MAX_PARTITIONS;
	if (parts > 1) { /* a queue for that many partitions: a new producer, sized so */
		rd_kafka_destroy(rk);
		rk = producer_create(c, o, parts, err, errlen);
		if (!rk) {
			rd_kafka_metadata_destroy(md);
			return NULL;
		}
	}
	if (mdp)
		*mdp = md;
	else
		rd_kafka_metadata_destroy(md);
	return rk;
}

void connect_producer_close(rd_kafka_t *rk, connect_failure *f)
{
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	f->failed = true; /* no acknowledgement from purged records */
	rd_kafka_poll(rk, 0);
	rd_kafka_destroy(rk);
}

void connect_delivery_error(connect_failure *f, const rd_kafka_message_t *m)
{
	if (!f->failed)
		snprintf(f->msg, sizeof f->msg, "broker did not acknowledge a record for %s: %s",
			 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
	f->failed = true;
}

int connect_produce(rd_kafka_t *rk, const connect_record *r, connect_connector *yield_c,
		    connect_failure *f)
{
	for (;;) {
		rd_kafka_resp_err_t e;
		if (r->hdrs)
			e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->topic),
					      RD_KAFKA_V_KEY(r->key, r->klen),
					      RD_KAFKA_V_VALUE((void *)r->val, r->vlen),
					      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_HEADERS(r->hdrs),
					      RD_KAFKA_V_OPAQUE(r->opaque), RD_KAFKA_V_END);
		else
			e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->topic),
					      RD_KAFKA_V_KEY(r->key, r->klen),
					      RD_KAFKA_V_VALUE((void *)r->val, r->vlen),
					      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_OPAQUE(r->opaque), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			return BROOK_OK;
		if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
			if (r->hdrs)
				rd_kafka_headers_destroy(r->hdrs);
			return CONNECT_TOO_LARGE;
		}
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			snprintf(f->msg, sizeof f->msg, "cannot produce to %s: %s", r->topic,
				 rd_kafka_err2str(e));
			f->failed = true;
			break;
		}
		rd_kafka_poll(rk, POLL_MS); /* the queue drains as deliveries come back */
		if (f->failed || (yield_c && connect_task_yield(yield_c)))
			break;
	}
	if (r->hdrs)
		rd_kafka_headers_destroy(r->hdrs);
	return BROOK_ERR;
}

void connect_too_large(rd_kafka_t *rk, const connect_record *r, char *why, size_t whylen)
{
	char max[32] = "?";
	size_t n = sizeof max;
	rd_kafka_conf_get(rd_kafka_conf(rk), "message.max.bytes", max, &n);
	snprintf(why, whylen, "the record is larger than a Kafka record may be here: key %zu + "
		 "value %zu bytes, over the producer's message.max.bytes (%s)", r->klen, r->vlen,
		 max);
}

/* ---- retrying sessions ---- */

int connect_task_retry(connect_connector *c, long *attempts, bool progressed,
		       const connect_task_cfg *tc, const char *err)
{
	long retry_max = tc->retry_max, backoff_max_ms = tc->backoff_max_ms;
	*attempts = progressed ? 1 : *attempts + 1;
	if (*attempts >= retry_max) {
		brook_error(COMP, "connector %s failed after %ld attempt%s: %s", c->name,
			    *attempts, *attempts == 1 ? "" : "s", err);
		connect_task_fail(c, err);
		return BROOK_ERR;
	}
	int64_t backoff = 250;
	for (long i = 1; i < *attempts && backoff < backoff_max_ms; i++)
		backoff *= 2;
	if (backoff > backoff_max_ms)
		backoff = backoff_max_ms;
	brook_warn(COMP, "connector %s: %s; retrying in %lld ms (attempt %ld of %ld)", c->name,
		   err, (long long)backoff, *attempts, retry_max);
	connect_task_fail(c, err); /* the trace shows the last error while retrying */
	connect_task_sleep(c, backoff);
	return BROOK_OK;
}
