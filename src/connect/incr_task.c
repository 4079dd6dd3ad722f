/*
 * incr_task.c — the postgres-incrementing task (design in incr_task.h).
 *
 * Config keys: connection.url (required), table.include.list (required: "schema.table,
 * ..."; a name without a schema means public), mode (incrementing |
 * timestamp+incrementing), incrementing.column.name (required), timestamp.column.name
 * (required in timestamp+incrementing mode), timestamp.delay.interval.ms (1000),
 * poll.interval.ms (5000), batch.max.rows (1000), topic, topic.prefix (brook),
 * value.format (json; avro not yet), offsets.topic (connect-offsets), kafka.bootstrap
 * (the worker's), errors.retry.max (10), errors.retry.backoff.max.ms (10000),
 * kafka.message.timeout.ms (30000), kafka.connect.timeout.ms (10000).
 */
#include "connect/incr_task.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/kconf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define COMP		"connect"
#define POLL_MS		100
#define INCR_MAX_BATCH	1000000

typedef enum incr_mode {
	INCR_MODE_INC = 0,
	INCR_MODE_TS_INC,
} incr_mode;

typedef struct incr_table {
	char *schema;
	char *name;
	char *qualified; /* "schema.table": the offset key's table */
	char *topic;
	bool has_offset;
	int64_t inc;   /* last incrementing value sent and acknowledged */
	int64_t ts_us; /* its timestamp, microseconds since the epoch (UTC) */
} incr_table;

typedef struct incr_cfg {
	connect_task_cfg base; /* connection.url, kafka.*, errors.retry.* */
	incr_table *tables;
	size_t ntables;
	incr_mode mode;
	const char *inc_col;
	const char *ts_col;
	long delay_ms;
	long poll_ms;
	long batch;
	const char *offsets_topic;
} incr_cfg;

typedef struct incr_session {
	connect_connector *c;
	incr_cfg *cfg;
	rd_kafka_t *rk;
	PGconn *pg;
	size_t outstanding; /* records produced and not yet reported */
	connect_failure fail;
} incr_session;

/* ---- configuration ---- */

static void incr_cfg_release(incr_cfg *cfg)
{
	for (size_t i = 0; i < cfg->ntables; i++) {
		free(cfg->tables[i].schema);
		free(cfg->tables[i].name);
		free(cfg->tables[i].qualified);
		free(cfg->tables[i].topic);
	}
	free(cfg->tables);
	memset(cfg, 0, sizeof *cfg);
}

static int incr_add_table(incr_cfg *cfg, const char *b, size_t n, const json_t *config,
			  char *err, size_t errlen)
{
	char *full = brook_strndup(b, n);
	char *dot = strchr(full, '.');
	const char *schema = dot ? full : "public";
	const char *name = dot ? dot + 1 : full;
	if (dot)
		*dot = '\0';
	if (!*schema || !*name || strchr(name, '.')) {
		snprintf(err, errlen, "table.include.list: '%.*s' is not schema.table", (int)n, b);
		free(full);
		return BROOK_ERR;
	}
	cfg->tables = brook_realloc(cfg->tables, (cfg->ntables + 1) * sizeof *cfg->tables);
	incr_table *t = &cfg->tables[cfg->ntables++];
	memset(t, 0, sizeof *t);
	t->schema = brook_strdup(schema);
	t->name = brook_strdup(name);
	size_t qn = strlen(schema) + strlen(name) + 2;
	t->qualified = brook_malloc(qn);
	snprintf(t->qualified, qn, "%s.%s", schema, name);
	t->topic = connect_topic_name(connect_cfg(config, "topic", NULL),
				      connect_cfg(config, "topic.prefix", "brook"), schema, name);
	free(full);
	return BROOK_OK;
}

static int incr_cfg_load(const json_t *config, const char *bootstrap, incr_cfg *cfg, char *err,
			 size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	if (connect_task_cfg_load(config, bootstrap, 1000000, 86400000, &cfg->base, err,
				  errlen) != BROOK_OK)
		return BROOK_ERR;
	size_t nitems;
	char **items = connect_list_split(connect_cfg(config, "table.include.list", ""), &nitems);
	int trc = BROOK_OK;
	for (size_t i = 0; i < nitems && trc == BROOK_OK; i++)
		trc = incr_add_table(cfg, items[i], strlen(items[i]), config, err, errlen);
	connect_list_free(items, nitems);
	if (trc != BROOK_OK)
		goto fail;
	if (cfg->ntables == 0) {
		snprintf(err, errlen, "table.include.list is required (schema.table, ...)");
		goto fail;
	}
	const char *mode = connect_cfg(config, "mode", "incrementing");
	if (strcmp(mode, "incrementing") == 0) {
		cfg->mode = INCR_MODE_INC;
	} else if (strcmp(mode, "timestamp+incrementing") == 0) {
		cfg->mode = INCR_MODE_TS_INC;
	} else {
		snprintf(err, errlen, "mode must be incrementing or timestamp+incrementing, not "
			 "'%s'", mode);
		goto fail;
	}
	cfg->inc_col = connect_cfg(config, "incrementing.column.name", NULL);
	if (!cfg->inc_col) {
		snprintf(err, errlen, "incrementing.column.name is required (an integer column "
				      "that grows with every new row)");
		goto fail;
	}
	cfg->ts_col = connect_cfg(config, "timestamp.column.name", NULL);
	if (cfg->mode == INCR_MODE_TS_INC && !cfg->ts_col) {
		snprintf(err, errlen, "timestamp.column.name is required in mode "
				      "timestamp+incrementing");
		goto fail;
	}
	const char *fmt = connect_cfg(config, "value.format", "json");
	if (strcmp(fmt, "avro") == 0) {
		snprintf(err, errlen, "value.format avro is not supported yet: use json");
		goto fail;
	}
	if (strcmp(fmt, "json") != 0) {
		snprintf(err, errlen, "value.format must be json or avro, not '%s'", fmt);
		goto fail;
	}
	cfg->offsets_topic = connect_cfg(config, "offsets.topic", "connect-offsets");
	if (connect_cfg_long(config, "poll.interval.ms", 5000, 1, 86400000, &cfg->poll_ms, err,
			     errlen) ||
	    connect_cfg_long(config, "batch.max.rows", 1000, 1, INCR_MAX_BATCH, &cfg->batch, err,
			     errlen) ||
	    connect_cfg_long(config, "timestamp.delay.interval.ms", 1000, 0, 86400000,
			     &cfg->delay_ms, err, errlen))
		goto fail;
	return BROOK_OK;
fail:
	incr_cfg_release(cfg);
	return BROOK_ERR;
}

int connect_incr_validate(const json_t *config, char *err, size_t errlen)
{
	incr_cfg cfg;
	if (incr_cfg_load(config, "-", &cfg, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	incr_cfg_release(&cfg);
	return BROOK_OK;
}

/* ---- offsets: Kafka Connect's key and value ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static char *incr_offset_key(const char *connector, const char *table)
{
	json_t *k = json_pack("[s, {s:s, s:s}]", connector, "protocol", "1", "table", table);
	char *s = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(k);
	return s;
}

static char *incr_offset_value(const incr_cfg *cfg, const incr_table *t)
{
	json_t *v;
	if (cfg->mode == INCR_MODE_TS_INC) {
		int64_t sec = floor_div(t->ts_us, 1000000);
		int64_t nanos = (t->ts_us - sec * 1000000) * 1000;
		v = json_pack("{s:I, s:I, s:I}", "timestamp", (json_int_t)floor_div(t->ts_us, 1000),
			      "timestamp_nanos", (json_int_t)nanos, "incrementing",
			      (json_int_t)t->inc);
	} else {
		v = json_pack("{s:I}", "incrementing", (json_int_t)t->inc);
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(v);
	return s;
}

/* Applies one record of the offsets topic when it is one of ours (else ignores it). */
static void incr_offset_apply(incr_session *s, const void *key, size_t klen, const void *val,
			      size_t vlen)
{
	if (!key)
		return;
	json_t *k = json_loadb(key, klen, 0, NULL);
	const char *name = json_string_value(json_array_get(k, 0));
	const char *table = json_string_value(json_object_get(json_array_get(k, 1), "table"));
	incr_table *t = NULL;
	if (json_array_size(k) == 2 && name && table && strcmp(name, s->c->name) == 0)
		for (size_t i = 0; i < s->cfg->ntables; i++)
			if (strcmp(s->cfg->tables[i].qualified, table) == 0)
				t = &s->cfg->tables[i];
	json_decref(k);
	if (!t)
		return;
	if (!val) { /* a tombstone: forget the offset */
		t->has_offset = false;
		return;
	}
	json_t *v = json_loadb(val, vlen, 0, NULL);
	json_t *inc = json_object_get(v, "incrementing");
	json_t *ms = json_object_get(v, "timestamp");
	json_t *ns = json_object_get(v, "timestamp_nanos");
	if (!json_is_integer(inc)) {
		brook_warn(COMP, "connector %s: ignoring a malformed offset for %s in %s",
			   s->c->name, table, s->cfg->offsets_topic);
	} else if (s->cfg->mode == INCR_MODE_TS_INC) {
		if (json_is_integer(ms) && json_is_integer(ns)) {
			int64_t sec = floor_div(json_integer_value(ms), 1000);
			int64_t nanos = json_integer_value(ns);
			if (nanos < 0 || nanos > 999999999)
				nanos = 0;
			t->ts_us = sec * 1000000 + nanos / 1000;
			t->inc = json_integer_value(inc);
			t->has_offset = true;
		} else {
			/* Written in incrementing mode: no timestamp to resume from. */
			t->has_offset = false;
		}
	} else {
		t->inc = json_integer_value(inc);
		t->has_offset = true;
	}
	json_decref(v);
}

/* ---- the producer ---- */

static void incr_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	incr_session *s = opaque;
	if (s->outstanding)
		s->outstanding--;
	if (m->err)
		connect_delivery_error(&s->fail, m);
}

static rd_kafka_t *incr_producer_new(incr_session *s, const struct rd_kafka_metadata **mdp,
				     char *err, size_t errlen)
{
	connect_producer_opts o = {
		.cfg = &s->cfg->base,
		.opaque = s,
		.on_delivery = incr_on_delivery,
		.what = "Kafka client",
	};
	return connect_producer_new(s->c, &o, mdp, err, errlen);
}

/* Waits until every produced record is reported. BROOK_OK when all were acknowledged. */
static int incr_drain(incr_session *s)
{
	int64_t deadline = brook_mono_ms() + s->cfg->base.msg_timeout + 5000;
	while (!s->fail.failed && s->outstanding > 0) {
		if (brook_mono_ms() > deadline) {
			snprintf(s->fail.msg, sizeof s->fail.msg,
				 "the broker did not acknowledge %zu record%s in time",
				 s->outstanding, s->outstanding == 1 ? "" : "s");
			s->fail.failed = true;
			break;
		}
		rd_kafka_poll(s->rk, POLL_MS);
	}
	return s->fail.failed ? BROOK_ERR : BROOK_OK;
}

static int incr_produce(incr_session *s, const char *topic, const char *key, size_t klen,
			const char *val, size_t vlen)
{
	connect_record r = {
		.topic = topic, .key = key, .klen = klen, .val = val, .vlen = vlen,
	};
	int rc = connect_produce(s->rk, &r, NULL, &s->fail);
	if (rc == CONNECT_TOO_LARGE) { /* never writable: skipped, not retried forever */
		char why[512];
		connect_too_large(s->rk, &r, why, sizeof why);
		pthread_mutex_lock(&s->c->mu);
		uint64_t n = ++s->c->dead_letters;
		pthread_mutex_unlock(&s->c->mu);
		brook_warn(COMP, "connector %s: the row with key %.*s cannot be written to %s "
			   "(%s); skipped (%llu so far)", s->c->name, (int)(klen > 200 ? 200 : klen),
			   key, topic, why, (unsigned long long)n);
		return BROOK_OK;
	}
	if (rc != BROOK_OK)
		return BROOK_ERR;
	s->outstanding++;
	return BROOK_OK;
}

/* ---- the offsets topic ---- */

static int incr_create_offsets_topic(incr_session *s, int rf, char *err, size_t errlen)
{
	char e[256];
	const char *topic = s->cfg->offsets_topic;
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, rf, e, sizeof e);
	if (!nt) {
		snprintf(err, errlen, "cannot create topic '%s': %s", topic, e);
		return BROOK_ERR;
	}
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
	rd_kafka_AdminOptions_t *opts =
		rd_kafka_AdminOptions_new(s->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	int tmo = (int)s->cfg->base.broker_timeout_ms;
	rd_kafka_AdminOptions_set_request_timeout(opts, tmo, e, sizeof e);
	rd_kafka_AdminOptions_set_operation_timeout(opts, tmo, e, sizeof e);
	rd_kafka_queue_t *q = rd_kafka_queue_new(s->rk);
	rd_kafka_CreateTopics(s->rk, &nt, 1, opts, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, tmo + 1000);
	int rc = BROOK_ERR;
	if (!ev) {
		snprintf(err, errlen, "creating topic '%s' on %s got no answer", topic,
			 s->cfg->base.bootstrap);
	} else if (rd_kafka_event_error(ev)) {
		snprintf(err, errlen, "cannot create topic '%s' on %s: %s", topic,
			 s->cfg->base.bootstrap, rd_kafka_event_error_string(ev));
	} else {
		const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
		size_t n = 0;
		const rd_kafka_topic_result_t **tr =
			res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
		rd_kafka_resp_err_t te = n == 1 ? rd_kafka_topic_result_error(tr[0])
						: RD_KAFKA_RESP_ERR__BAD_MSG;
		if (te == RD_KAFKA_RESP_ERR_NO_ERROR) {
			brook_info(COMP, "created topic '%s' on %s (1 partition, replication "
				   "factor %d, cleanup.policy=compact)", topic,
				   s->cfg->base.bootstrap, rf);
			rc = BROOK_OK;
		} else if (te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			rc = BROOK_OK; /* another connector created it just now */
		} else {
			const char *msg = n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : NULL;
			snprintf(err, errlen, "cannot create topic '%s' on %s: %s", topic,
				 s->cfg->base.bootstrap, msg ? msg : rd_kafka_err2str(te));
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

/* Reads partition p of the offsets topic from its beginning up to its end (the high
 * watermark taken first), applying every record. */
static int incr_read_partition(incr_session *s, rd_kafka_t *cons, rd_kafka_topic_t *rkt,
			       int32_t p, char *err, size_t errlen)
{
	const char *topic = s->cfg->offsets_topic;
	int64_t deadline = brook_mono_ms() + s->cfg->base.broker_timeout_ms;
	int64_t lo = 0, hi = 0;
	for (;;) {
		int64_t left = deadline - brook_mono_ms();
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
			cons, topic, p, &lo, &hi, left > 0 ? (int)left : 1);
		if (!e)
			break;
		if (brook_mono_ms() + 200 >= deadline || connect_task_yield(s->c)) {
			snprintf(err, errlen, "cannot read the end of topic '%s' partition %d on "
				 "%s: %s", topic, (int)p, s->cfg->base.bootstrap,
				 rd_kafka_err2str(e));
			return BROOK_ERR;
		}
		connect_task_sleep(s->c, 200);
	}
	if (hi <= lo)
		return BROOK_OK;
	if (rd_kafka_consume_start(rkt, p, RD_KAFKA_OFFSET_BEGINNING) == -1) {
		snprintf(err, errlen, "cannot read topic '%s' on %s: %s", topic,
			 s->cfg->base.bootstrap, rd_kafka_err2str(rd_kafka_last_error()));
		return BROOK_ERR;
	}
	int64_t next = lo;
	int rc = BROOK_OK;
	deadline = brook_mono_ms() + s->cfg->base.broker_timeout_ms;
	while (next < hi) {
		if (brook_mono_ms() > deadline || connect_task_yield(s->c)) {
			snprintf(err, errlen, "read topic '%s' partition %d on %s only up to "
				 "offset %lld of %lld", topic, (int)p, s->cfg->base.bootstrap,
				 (long long)next, (long long)hi);
			rc = BROOK_ERR;
			break;
		}
		rd_kafka_message_t *m = rd_kafka_consume(rkt, p, POLL_MS);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->offset > next)
				next = m->offset;
		} else if (m->err) {
			brook_debug(COMP, "connector %s: reading %s: %s", s->c->name, topic,
				    rd_kafka_message_errstr(m));
		} else {
			incr_offset_apply(s, m->key, m->key_len, m->payload, m->len);
			next = m->offset + 1;
			deadline = brook_mono_ms() + s->cfg->base.broker_timeout_ms;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consume_stop(rkt, p);
	return rc;
}

/* Creates the offsets topic when missing, then reads it to its end. */
static int incr_load_offsets(incr_session *s, const struct rd_kafka_metadata *md, char *err,
			     size_t errlen)
{
	const char *topic = s->cfg->offsets_topic;
	int partitions = -1;
	for (int i = 0; i < md->topic_cnt; i++)
		if (!strcmp(md->topics[i].topic, topic) && !md->topics[i].err)
			partitions = md->topics[i].partition_cnt;
	if (partitions < 0) {
		int rf = md->broker_cnt < 3 ? (md->broker_cnt < 1 ? 1 : md->broker_cnt) : 3;
		if (incr_create_offsets_topic(s, rf, err, errlen) != BROOK_OK)
			return BROOK_ERR;
		partitions = 1;
	}
	const char *const kv[] = {
		"bootstrap.servers", s->cfg->base.bootstrap,
		"enable.auto.commit", "false",
		"enable.auto.offset.store", "false",
		"enable.partition.eof", "true",
		"auto.offset.reset", "earliest",
		"fetch.wait.max.ms", "100",
		"log.connection.close", "false",
		NULL,
	};
	rd_kafka_conf_t *conf = brook_kafka_conf(kv, s, "Kafka client", err, errlen);
	if (!conf)
		return BROOK_ERR;
	char e[256];
	rd_kafka_t *cons = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
	if (!cons) {
		snprintf(err, errlen, "cannot create a consumer for %s: %s", s->cfg->base.bootstrap,
			 e);
		rd_kafka_conf_destroy(conf);
		return BROOK_ERR;
	}
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(cons, topic, NULL);
	int rc = BROOK_OK;
	for (int32_t p = 0; p < partitions && rc == BROOK_OK; p++)
		rc = incr_read_partition(s, cons, rkt, p, err, errlen);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(cons);
	for (size_t i = 0; rc == BROOK_OK && i < s->cfg->ntables; i++) {
		const incr_table *t = &s->cfg->tables[i];
		if (!t->has_offset)
			brook_info(COMP, "connector %s: %s from its first row", s->c->name,
				   t->qualified);
		else if (s->cfg->mode == INCR_MODE_TS_INC)
			brook_info(COMP, "connector %s: %s resumes after timestamp %" PRId64
				   " us, %s %" PRId64, s->c->name, t->qualified, t->ts_us,
				   s->cfg->inc_col, t->inc);
		else
			brook_info(COMP, "connector %s: %s resumes after %s %" PRId64, s->c->name,
				   t->qualified, s->cfg->inc_col, t->inc);
	}
	return rc;
}

/* ---- polling ---- */

static char *incr_ident(PGconn *pg, const char *name)
{
	char *q = PQescapeIdentifier(pg, name, strlen(name));
	char *r = brook_strdup(q ? q : "\"\"");
	PQfreemem(q);
	return r;
}

/* The batch query of table t and its parameters (*np of them, text, into params' 3
 * buffers of 32 bytes). Columns: inc, ts_us (or NULL), the row as JSON. */
static char *incr_query(incr_session *s, const incr_table *t, char params[3][32], int *np)
{
	char *sch = incr_ident(s->pg, t->schema), *tab = incr_ident(s->pg, t->name);
	char *inc = incr_ident(s->pg, s->cfg->inc_col);
	char *ts = s->cfg->ts_col ? incr_ident(s->pg, s->cfg->ts_col) : NULL;
	char *sql;
	int n;
	*np = 0;
	if (s->cfg->mode == INCR_MODE_INC) {
		snprintf(params[(*np)++], 32, "%" PRId64, t->has_offset ? t->inc : INT64_MIN);
		n = asprintf(&sql, "SELECT x.%s::int8, NULL::int8, row_to_json(x)::text "
			     "FROM %s.%s x WHERE x.%s > $1::int8 ORDER BY x.%s LIMIT %ld",
			     inc, sch, tab, inc, inc, s->cfg->batch);
	} else {
		/* The offset's timestamp as timestamptz (the session's TimeZone is UTC, so a
		 * timestamp column compares as UTC too). */
		const char *at = "(to_timestamp(0) + $3::int8 * interval '1 microsecond')";
		char where[1024] = "";
		snprintf(params[(*np)++], 32, "%ld", s->cfg->delay_ms);
		if (t->has_offset) {
			snprintf(params[(*np)++], 32, "%" PRId64, t->inc);
			snprintf(params[(*np)++], 32, "%" PRId64, t->ts_us);
			snprintf(where, sizeof where, "(x.%s > %s OR (x.%s = %s AND x.%s > "
				 "$2::int8)) AND ", ts, at, ts, at, inc);
		}
		n = asprintf(&sql, "SELECT x.%s::int8, (extract(epoch FROM x.%s) * 1000000)::int8, "
			     "row_to_json(x)::text FROM %s.%s x WHERE %s"
			     "x.%s < now() - $1::int8 * interval '1 millisecond' "
			     "ORDER BY x.%s, x.%s LIMIT %ld", inc, ts, sch, tab, where, ts, ts, inc,
			     s->cfg->batch);
	}
	if (n < 0)
		abort(); /* out of memory: the policy of core/mem.h */
	free(sch);
	free(tab);
	free(inc);
	free(ts);
	return sql;
}

/* Polls one batch of table t: produces its rows, waits for their acknowledgement, then
 * writes the table's offset and waits for that too. *rows gets the batch's size. */
static int incr_poll_table(incr_session *s, incr_table *t, long *rows, char *err,
			   size_t errlen)
{
	*rows = 0;
	char pbuf[3][32];
	int np;
	char *sql = incr_query(s, t, pbuf, &np);
	const char *params[3] = {pbuf[0], pbuf[1], pbuf[2]};
	PGresult *r = PQexecParams(s->pg, sql, np, NULL, params, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "polling %s: %s", t->qualified, PQresultErrorMessage(r));
		size_t n = strlen(err);
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		PQclear(r);
		return BROOK_ERR;
	}
	int ntup = PQntuples(r);
	incr_table next = *t;
	json_t *kname = json_string(s->cfg->inc_col);
	char *kq = json_dumps(kname, JSON_ENCODE_ANY);
	json_decref(kname);
	int rc = BROOK_OK;
	bool got = false; /* next holds a new offset */
	for (int i = 0; i < ntup && rc == BROOK_OK; i++) {
		if (PQgetisnull(r, i, 0)) {
			brook_warn(COMP, "connector %s: %s has a row whose %s is NULL: skipped",
				   s->c->name, t->qualified, s->cfg->inc_col);
			continue;
		}
		next.inc = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		if (s->cfg->mode == INCR_MODE_TS_INC)
			next.ts_us = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		next.has_offset = true;
		got = true;
		char *key;
		int kl = asprintf(&key, "{%s:%" PRId64 "}", kq, next.inc);
		if (kl < 0)
			abort(); /* out of memory: the policy of core/mem.h */
		const char *val = PQgetvalue(r, i, 2);
		rc = incr_produce(s, t->topic, key, (size_t)kl, val, strlen(val));
		free(key);
		rd_kafka_poll(s->rk, 0);
	}
	free(kq);
	PQclear(r);
	*rows = ntup;
	if (rc != BROOK_OK || incr_drain(s) != BROOK_OK) {
		snprintf(err, errlen, "%s", s->fail.msg);
		return BROOK_ERR;
	}
	if (!got)
		return BROOK_OK;
	/* Every record of the batch is acknowledged: now its offset. */
	t->inc = next.inc;
	t->ts_us = next.ts_us;
	t->has_offset = true;
	char *ok = incr_offset_key(s->c->name, t->qualified);
	char *ov = incr_offset_value(s->cfg, t);
	rc = incr_produce(s, s->cfg->offsets_topic, ok, strlen(ok), ov, strlen(ov));
	free(ok);
	free(ov);
	if (rc != BROOK_OK || incr_drain(s) != BROOK_OK) {
		snprintf(err, errlen, "%s", s->fail.msg);
		return BROOK_ERR;
	}
	brook_debug(COMP, "connector %s: %d row%s of %s delivered", s->c->name, ntup,
		    ntup == 1 ? "" : "s", t->qualified);
	return BROOK_OK;
}

static PGconn *incr_pg_connect(incr_session *s, char *err, size_t errlen)
{
	PGconn *pg = PQconnectdb(s->cfg->base.conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(pg));
		size_t n = strlen(err);
		while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		PQfinish(pg);
		return NULL;
	}
	PGresult *r = PQexec(pg, "SET TimeZone = 'UTC'");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		snprintf(err, errlen, "cannot set the session's TimeZone: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

/* ---- one session ---- */

static void incr_session_end(incr_session *s)
{
	if (s->rk) {
		if (!s->fail.failed)
			incr_drain(s);
		connect_producer_close(s->rk, &s->fail);
		s->rk = NULL;
	}
	if (s->pg)
		PQfinish(s->pg);
	s->pg = NULL;
}

/* BROOK_OK: yielded. BROOK_ERR: failed (message in err; *progressed when a poll round
 * completed). */
static int incr_session_run(connect_connector *c, incr_cfg *cfg, bool *progressed, char *err,
			    size_t errlen)
{
	incr_session s = {.c = c, .cfg = cfg};
	const struct rd_kafka_metadata *md = NULL;
	int rc = BROOK_ERR;

	*progressed = false;
	for (size_t i = 0; i < cfg->ntables; i++)
		cfg->tables[i].has_offset = false;
	s.rk = incr_producer_new(&s, &md, err, errlen);
	if (!s.rk)
		return connect_task_yield(c) ? BROOK_OK : BROOK_ERR;
	rc = incr_load_offsets(&s, md, err, errlen);
	rd_kafka_metadata_destroy(md);
	if (rc != BROOK_OK)
		goto out;
	s.pg = incr_pg_connect(&s, err, errlen);
	if (!s.pg) {
		rc = BROOK_ERR;
		goto out;
	}
	brook_info(COMP, "connector %s: polling %zu table%s every %ld ms (mode %s)", c->name,
		   cfg->ntables, cfg->ntables == 1 ? "" : "s", cfg->poll_ms,
		   cfg->mode == INCR_MODE_INC ? "incrementing" : "timestamp+incrementing");
	while (!connect_task_yield(c)) {
		bool more = false;
		for (size_t i = 0; i < cfg->ntables && !connect_task_yield(c); i++) {
			long rows;
			rc = incr_poll_table(&s, &cfg->tables[i], &rows, err, errlen);
			if (rc != BROOK_OK)
				goto out;
			if (rows >= cfg->batch)
				more = true;
		}
		*progressed = true;
		if (!more)
			connect_task_sleep(c, cfg->poll_ms);
	}
	rc = BROOK_OK;
out:
	incr_session_end(&s);
	return rc;
}

int connect_incr_run(connect_connector *c)
{
	incr_cfg cfg;
	char err[1024];
	long attempts = 0;

	if (incr_cfg_load(c->config, c->default_bootstrap, &cfg, err, sizeof err)) {
		connect_task_fail(c, err);
		return BROOK_ERR;
	}
	while (!connect_task_yield(c)) {
		bool progressed;
		err[0] = '\0';
		int rc = incr_session_run(c, &cfg, &progressed, err, sizeof err);
		if (rc == BROOK_OK)
			break;
		if (connect_task_retry(c, &attempts, progressed, &cfg.base, err) != BROOK_OK) {
			incr_cfg_release(&cfg);
			return BROOK_ERR;
		}
	}
	incr_cfg_release(&cfg);
	return BROOK_OK;
}
