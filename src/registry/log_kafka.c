/*
 * log_kafka.c — the registry's log in a Kafka topic (`_schemas` by default), through
 * librdkafka, on brook's broker or a real Kafka cluster.
 *
 * Design
 *
 *   The topic has one partition and cleanup.policy=compact (as Confluent's registry
 *   makes it): offsets give every registry process the same total order, and compaction
 *   keeps the latest record per key. reg_log_kafka_new() checks that the cluster answers
 *   Metadata within the timeout, creates the topic when it is missing (CreateTopics:
 *   1 partition, replication factor min(3, brokers), cleanup.policy=compact; another
 *   process creating it at the same moment is fine) and warns when an existing topic has
 *   more than one partition or is not compacted; an existing topic is used as it is.
 *
 *   Two librdkafka handles:
 *     producer  enable.idempotence=true, acks=all, linger.ms=0. append() produces to
 *               partition 0 and polls until its own delivery report arrives (any thread
 *               polling may serve it: reports are matched through the message opaque
 *               and signalled on the condvar). Transient broker errors are retried by
 *               librdkafka; after message.timeout.ms (10 s) the report carries an error
 *               and append fails with a message naming the topic and the cluster.
 *     consumer  no consumer group (librdkafka's assign() needs a group.id, so the reader
 *               uses the simple consumer: consume_start at the beginning of partition 0),
 *               nothing committed, enable.partition.eof=true.
 *
 *   The reader thread consumes in offset order and calls apply for each record, then
 *   publishes `next`: every record below it has been applied. A partition-EOF event
 *   moves `next` to the end offset too (offsets removed by compaction leave gaps, so
 *   "applied up to N" is only known from the position, not from a record at N).
 *
 * Invariants
 *   - `next` only grows, and only the reader thread writes it (under mu).
 *   - apply runs only on the reader thread, one record at a time, in offset order.
 *   - wait_applied(o) returns BROOK_OK exactly when next > o.
 *
 * States (of one reg_log_kafka)
 *   NEW      after reg_log_kafka_new(): handles exist, the topic exists, no reader.
 *   READING  start(): the watermark is read, the reader thread runs; start() returns
 *            BROOK_OK once next >= that high watermark (READY), or BROOK_ERR after the
 *            timeout (the reader keeps running; close() stops it).
 *   CLOSED   close(): stop flag, join the reader, consume_stop, destroy both handles.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "core/err.h"
#include "core/kconf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "registry/log.h"

#define LOG "registry"
#define KLOG_MESSAGE_TIMEOUT_MS "10000"
#define KLOG_POLL_MS 100

typedef struct klog {
	reg_log base;
	char *bootstrap;
	char *topic;
	int64_t timeout_ms;
	rd_kafka_t *prod;
	rd_kafka_t *cons;
	rd_kafka_topic_t *ctopic; /* the consumer's topic handle */

	pthread_mutex_t mu;
	pthread_cond_t cond; /* next advanced, a delivery report arrived */
	int64_t next;        /* every record below this offset is applied */
	bool stop;
	bool reading; /* the reader thread runs */
	pthread_t thread;
	reg_apply_fn apply;
	void *apply_arg;
	char read_err[256]; /* the reader's latest error, "" when none */
} klog;

/* One append waiting for its delivery report. */
typedef struct klog_delivery {
	bool done;
	rd_kafka_resp_err_t err;
	int64_t offset;
} klog_delivery;

static void klog_deadline(struct timespec *ts, int64_t timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(timeout_ms / 1000);
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void klog_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	klog *l = opaque;
	klog_delivery *d = m->_private;
	pthread_mutex_lock(&l->mu);
	d->err = m->err;
	d->offset = m->offset;
	d->done = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

static rd_kafka_t *klog_client(klog *l, rd_kafka_type_t type, char *err, size_t errlen)
{
	const char *prod_kv[] = {
		"bootstrap.servers", l->bootstrap,
		"enable.idempotence", "true",
		"acks", "all",
		"linger.ms", "0",
		"message.timeout.ms", KLOG_MESSAGE_TIMEOUT_MS,
		"log.connection.close", "false",
		NULL,
	};
	const char *cons_kv[] = {
		"bootstrap.servers", l->bootstrap,
		"enable.auto.commit", "false",
		"enable.auto.offset.store", "false",
		"enable.partition.eof", "true",
		"auto.offset.reset", "earliest",
		"fetch.wait.max.ms", "250",
		"log.connection.close", "false",
		NULL,
	};
	rd_kafka_conf_t *conf = brook_kafka_conf(type == RD_KAFKA_PRODUCER ? prod_kv : cons_kv,
						  l, "Kafka client", err, errlen);
	if (!conf)
		return NULL;
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(conf, klog_delivered);
	char e[256];
	rd_kafka_t *rk = rd_kafka_new(type, conf, e, sizeof e);
	if (!rk) {
		snprintf(err, errlen, "cannot create a Kafka client for %s: %s", l->bootstrap, e);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* ---- topic: find, create, check ---------------------------------------------------- */

/* Waits for one admin result event on q; NULL with a message after the timeout. */
static rd_kafka_event_t *klog_admin_wait(klog *l, rd_kafka_queue_t *q, const char *what,
					 char *err, size_t errlen)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)l->timeout_ms + 1000);
	if (!ev) {
		snprintf(err, errlen, "%s for topic '%s' on %s got no answer within %lld ms", what,
			 l->topic, l->bootstrap, (long long)l->timeout_ms);
		return NULL;
	}
	if (rd_kafka_event_error(ev)) {
		snprintf(err, errlen, "%s for topic '%s' on %s failed: %s", what, l->topic,
			 l->bootstrap, rd_kafka_event_error_string(ev));
		rd_kafka_event_destroy(ev);
		return NULL;
	}
	return ev;
}

static int klog_create_topic(klog *l, int rf, char *err, size_t errlen)
{
	char e[256];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(l->topic, 1, rf, e, sizeof e);
	if (!nt) {
		snprintf(err, errlen, "cannot create topic '%s': %s", l->topic, e);
		return BROOK_ERR;
	}
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
	rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(l->prod,
								  RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(opts, (int)l->timeout_ms, e, sizeof e);
	rd_kafka_AdminOptions_set_operation_timeout(opts, (int)l->timeout_ms, e, sizeof e);
	rd_kafka_queue_t *q = rd_kafka_queue_new(l->prod);
	rd_kafka_CreateTopics(l->prod, &nt, 1, opts, q);
	int rc = BROOK_ERR;
	rd_kafka_event_t *ev = klog_admin_wait(l, q, "CreateTopics", err, errlen);
	if (ev) {
		const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
		size_t n = 0;
		const rd_kafka_topic_result_t **tr =
			res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
		rd_kafka_resp_err_t te = n == 1 ? rd_kafka_topic_result_error(tr[0])
						: RD_KAFKA_RESP_ERR__BAD_MSG;
		if (te == RD_KAFKA_RESP_ERR_NO_ERROR) {
			brook_info(LOG, "created topic '%s' on %s (1 partition, replication factor "
				   "%d, cleanup.policy=compact)", l->topic, l->bootstrap, rf);
			rc = BROOK_OK;
		} else if (te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			rc = BROOK_OK; /* another registry created it just now */
		} else {
			const char *msg = n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : NULL;
			snprintf(err, errlen, "cannot create topic '%s' on %s: %s", l->topic,
				 l->bootstrap, msg ? msg : rd_kafka_err2str(te));
		}
		rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

/* Warns when the existing topic's cleanup.policy is not compact. Failing to find out is
 * only worth a warning too: the topic is used as it is. */
static void klog_check_compacted(klog *l)
{
	char e[256];
	rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC,
								    l->topic);
	rd_kafka_AdminOptions_t *opts =
		rd_kafka_AdminOptions_new(l->prod, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
	rd_kafka_AdminOptions_set_request_timeout(opts, (int)l->timeout_ms, e, sizeof e);
	rd_kafka_queue_t *q = rd_kafka_queue_new(l->prod);
	rd_kafka_DescribeConfigs(l->prod, &cr, 1, opts, q);
	rd_kafka_event_t *ev = klog_admin_wait(l, q, "DescribeConfigs", e, sizeof e);
	const char *policy = NULL;
	if (ev) {
		const rd_kafka_DescribeConfigs_result_t *res =
			rd_kafka_event_DescribeConfigs_result(ev);
		size_t n = 0, nc = 0;
		const rd_kafka_ConfigResource_t **rs =
			res ? rd_kafka_DescribeConfigs_result_resources(res, &n) : NULL;
		const rd_kafka_ConfigEntry_t **ce =
			n == 1 && !rd_kafka_ConfigResource_error(rs[0])
				? rd_kafka_ConfigResource_configs(rs[0], &nc) : NULL;
		for (size_t i = 0; i < nc; i++)
			if (!strcmp(rd_kafka_ConfigEntry_name(ce[i]), "cleanup.policy"))
				policy = rd_kafka_ConfigEntry_value(ce[i]);
		if (!policy)
			brook_warn(LOG, "topic '%s' on %s: cannot tell its cleanup.policy; it "
				   "should be compact", l->topic, l->bootstrap);
		else if (!strstr(policy, "compact"))
			brook_warn(LOG, "topic '%s' on %s has cleanup.policy=%s: old schemas "
				   "will be deleted with it; set cleanup.policy=compact", l->topic,
				   l->bootstrap, policy);
		rd_kafka_event_destroy(ev);
	} else {
		brook_warn(LOG, "%s", e);
	}
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_ConfigResource_destroy(cr);
}

/* Metadata for every topic (asking for one topic could auto-create it with the broker's
 * defaults); creates or checks ours. */
static int klog_ensure_topic(klog *l, char *err, size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t me = rd_kafka_metadata(l->prod, 1, NULL, &md, (int)l->timeout_ms);
	if (me) {
		snprintf(err, errlen, "cannot reach the Kafka cluster at %s within %lld ms (%s); "
			 "is the broker running?", l->bootstrap, (long long)l->timeout_ms,
			 rd_kafka_err2str(me));
		return BROOK_ERR;
	}
	int brokers = md->broker_cnt;
	int partitions = -1;
	for (int i = 0; i < md->topic_cnt; i++)
		if (!strcmp(md->topics[i].topic, l->topic) && !md->topics[i].err)
			partitions = md->topics[i].partition_cnt;
	rd_kafka_metadata_destroy(md);
	if (partitions < 0) {
		int rf = brokers < 3 ? (brokers < 1 ? 1 : brokers) : 3;
		return klog_create_topic(l, rf, err, errlen);
	}
	if (partitions != 1)
		brook_warn(LOG, "topic '%s' on %s has %d partitions; the registry uses partition 0 "
			   "only, create it with 1", l->topic, l->bootstrap, partitions);
	klog_check_compacted(l);
	return BROOK_OK;
}

/* ---- the reader ------------------------------------------------------------------ */

static void klog_advance(klog *l, int64_t next)
{
	pthread_mutex_lock(&l->mu);
	if (next > l->next)
		l->next = next;
	l->read_err[0] = '\0';
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

static void *klog_reader(void *arg)
{
	pthread_setname_np(pthread_self(), "registry-log");
	klog *l = arg;
	for (;;) {
		pthread_mutex_lock(&l->mu);
		bool stop = l->stop;
		pthread_mutex_unlock(&l->mu);
		if (stop)
			break;
		rd_kafka_message_t *m = rd_kafka_consume(l->ctopic, 0, KLOG_POLL_MS);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			klog_advance(l, m->offset);
		} else if (m->err) {
			/* librdkafka retries by itself; the error is kept for start()'s message. */
			const char *msg = rd_kafka_message_errstr(m);
			pthread_mutex_lock(&l->mu);
			bool fresh = strcmp(l->read_err, msg) != 0;
			snprintf(l->read_err, sizeof l->read_err, "%s", msg);
			pthread_mutex_unlock(&l->mu);
			if (fresh)
				brook_warn(LOG, "reading topic '%s' on %s: %s", l->topic,
					   l->bootstrap, msg);
		} else {
			l->apply(l->apply_arg, m->offset, m->key, m->key_len, m->payload, m->len);
			klog_advance(l, m->offset + 1);
		}
		rd_kafka_message_destroy(m);
	}
	return NULL;
}

/* The high watermark, retried until the deadline (a topic created a moment ago may not
 * have a leader yet). */
static int klog_high_watermark(klog *l, int64_t *high, char *err, size_t errlen)
{
	int64_t deadline = brook_mono_ms() + l->timeout_ms;
	for (;;) {
		int64_t lo = 0, hi = 0, left = deadline - brook_mono_ms();
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
			l->cons, l->topic, 0, &lo, &hi, left > 0 ? (int)left : 1);
		if (!e) {
			*high = hi;
			return BROOK_OK;
		}
		if (brook_mono_ms() + 200 >= deadline) {
			snprintf(err, errlen, "cannot read the end of topic '%s' on %s within %lld "
				 "ms (%s); is the broker running?", l->topic, l->bootstrap,
				 (long long)l->timeout_ms, rd_kafka_err2str(e));
			return BROOK_ERR;
		}
		brook_sleep_ms(200);
	}
}

static int klog_start(reg_log *base, reg_apply_fn apply, void *arg, char *err, size_t errlen)
{
	klog *l = (klog *)base;
	if (l->reading) {
		snprintf(err, errlen, "the registry log is already started");
		return BROOK_ERR;
	}
	int64_t high;
	if (klog_high_watermark(l, &high, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	l->apply = apply;
	l->apply_arg = arg;
	l->ctopic = rd_kafka_topic_new(l->cons, l->topic, NULL);
	if (rd_kafka_consume_start(l->ctopic, 0, RD_KAFKA_OFFSET_BEGINNING) == -1) {
		snprintf(err, errlen, "cannot read topic '%s' on %s: %s", l->topic, l->bootstrap,
			 rd_kafka_err2str(rd_kafka_last_error()));
		rd_kafka_topic_destroy(l->ctopic);
		l->ctopic = NULL;
		return BROOK_ERR;
	}
	if (pthread_create(&l->thread, NULL, klog_reader, l) != 0) {
		snprintf(err, errlen, "cannot start the registry log reader thread");
		rd_kafka_consume_stop(l->ctopic, 0);
		rd_kafka_topic_destroy(l->ctopic);
		l->ctopic = NULL;
		return BROOK_ERR;
	}
	l->reading = true;
	struct timespec ts;
	klog_deadline(&ts, l->timeout_ms);
	int rc = BROOK_OK;
	pthread_mutex_lock(&l->mu);
	while (l->next < high) {
		if (pthread_cond_timedwait(&l->cond, &l->mu, &ts) != 0 && l->next < high) {
			snprintf(err, errlen, "read topic '%s' on %s only up to offset %lld of "
				 "%lld within %lld ms%s%s", l->topic, l->bootstrap,
				 (long long)l->next, (long long)high, (long long)l->timeout_ms,
				 l->read_err[0] ? ": " : "", l->read_err);
			rc = BROOK_ERR;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	if (rc == BROOK_OK)
		brook_info(LOG, "read topic '%s' on %s up to offset %lld", l->topic,
			   l->bootstrap, (long long)high);
	return rc;
}

/* ---- append and wait --------------------------------------------------------------- */

static int klog_append(reg_log *base, const char *key, size_t klen, const char *value,
		       size_t vlen, int64_t *offset, char *err, size_t errlen)
{
	klog *l = (klog *)base;
	klog_delivery d = {false, RD_KAFKA_RESP_ERR_NO_ERROR, -1};
	rd_kafka_resp_err_t e = rd_kafka_producev(
		l->prod, RD_KAFKA_V_TOPIC(l->topic), RD_KAFKA_V_PARTITION(0),
		RD_KAFKA_V_KEY((void *)key, klen),
		RD_KAFKA_V_VALUE((void *)value, value ? vlen : 0),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
	if (e) {
		snprintf(err, errlen, "cannot write to topic '%s' on %s: %s", l->topic,
			 l->bootstrap, rd_kafka_err2str(e));
		return BROOK_ERR;
	}
	/* Delivery reports are served by whichever thread polls; ours may arrive in
	 * another append's poll, hence the flag under mu. message.timeout.ms bounds this. */
	pthread_mutex_lock(&l->mu);
	while (!d.done) {
		pthread_mutex_unlock(&l->mu);
		rd_kafka_poll(l->prod, KLOG_POLL_MS);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	if (d.err) {
		char fatal[256] = "";
		if (d.err == RD_KAFKA_RESP_ERR__FATAL)
			rd_kafka_fatal_error(l->prod, fatal, sizeof fatal);
		snprintf(err, errlen, "writing to topic '%s' on %s failed: %s%s%s", l->topic,
			 l->bootstrap, rd_kafka_err2str(d.err), fatal[0] ? ": " : "", fatal);
		return BROOK_ERR;
	}
	*offset = d.offset;
	return BROOK_OK;
}

static int klog_wait_applied(reg_log *base, int64_t offset, int64_t timeout_ms)
{
	klog *l = (klog *)base;
	struct timespec ts;
	klog_deadline(&ts, timeout_ms < 0 ? 0 : timeout_ms);
	int rc = BROOK_OK;
	pthread_mutex_lock(&l->mu);
	while (l->next <= offset) {
		if (pthread_cond_timedwait(&l->cond, &l->mu, &ts) != 0 && l->next <= offset) {
			rc = BROOK_AGAIN;
			break;
		}
	}
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* ---- lifecycle --------------------------------------------------------------------- */

static void klog_close(reg_log *base)
{
	klog *l = (klog *)base;
	if (l->reading) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
		rd_kafka_consume_stop(l->ctopic, 0);
	}
	if (l->ctopic)
		rd_kafka_topic_destroy(l->ctopic);
	if (l->cons)
		rd_kafka_destroy(l->cons);
	if (l->prod) {
		/* Every append waited for its report: nothing is outstanding. */
		rd_kafka_flush(l->prod, 1000);
		rd_kafka_destroy(l->prod);
	}
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l->bootstrap);
	free(l->topic);
	free(l);
}

static const reg_log_ops klog_ops = {
	.start = klog_start,
	.append = klog_append,
	.wait_applied = klog_wait_applied,
	.close = klog_close,
};

reg_log *reg_log_kafka_new(const char *bootstrap, const char *topic, int64_t timeout_ms,
			   char *err, size_t errlen)
{
	klog *l = brook_calloc(1, sizeof *l);
	l->base.ops = &klog_ops;
	l->bootstrap = brook_strdup(bootstrap);
	l->topic = brook_strdup(topic && topic[0] ? topic : "_schemas");
	l->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	l->prod = klog_client(l, RD_KAFKA_PRODUCER, err, errlen);
	if (l->prod)
		l->cons = klog_client(l, RD_KAFKA_CONSUMER, err, errlen);
	if (!l->cons || klog_ensure_topic(l, err, errlen) != BROOK_OK) {
		klog_close(&l->base);
		return NULL;
	}
	return &l->base;
}
