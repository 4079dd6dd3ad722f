/*
 * kafka_scenarios — real-client scenarios for brook's broker, written only against
 * librdkafka's public API (plus jansson and pthreads), never against brook's code.
 *
 *   kafka_scenarios (--bootstrap HOST:PORT | --mock [--mock-brokers N]) SCENARIO [options]
 *
 * The same program runs against brook and against librdkafka's in-process mock cluster
 * (rdkafka_mock.h); the differential test compares the two outputs.
 *
 * Output contract: every observable result is one JSON object per line on stdout, in a
 * deterministic order, built only from inputs and broker-assigned facts (partitions,
 * offsets, counts, hashes, error names): no timestamps, client ids, member ids or
 * timings. Fields that depend on scheduling (rebalance counts, per-member counts) are
 * grouped under the key "nondeterministic" so the differential test can drop them.
 * Diagnostics go to stderr. Exit status 0 = every check of the scenario held,
 * 1 = a check failed (the failing check is printed as {"check":..., "ok":false}),
 * 2 = usage error.
 *
 * Scenarios:
 *   produce-consume   keyed messages with headers (idempotent, acks=all, --compression),
 *                     consumed back with assign(); per-partition count, offsets, FNV-1a
 *                     hash of the (key, value, headers) sequence; contiguity checked.
 *   idempotent        idempotent producer, explicit partitions; no duplicates, per-
 *                     partition order preserved.
 *   group             3 consumers in a group, one leaves, exactly-once across members,
 *                     commits, a new member resumes from committed offsets.
 *   offsets-for-times explicit timestamps, offsets_for_times() and watermarks.
 *   admin             CreateTopics / CreatePartitions / DescribeConfigs / DeleteTopics.
 *   produce-acked     crash-test producer: writes each acknowledged message as
 *                     {partition, offset, value}; runs until --count or SIGTERM/SIGINT.
 *   consume-all       every message of a topic from the beginning to the high watermarks.
 *
 * Topic creation: with --mock, rd_kafka_mock_topic_create(); otherwise the admin API
 * (CreateTopics; TOPIC_ALREADY_EXISTS is fine) unless --no-create, which relies on the
 * broker's auto-creation.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_PARTITIONS 64

struct opts {
	const char *bootstrap;
	bool mock;
	int mock_brokers;
	const char *scenario;
	const char *topic;
	const char *group;
	const char *compression;
	const char *debug;
	int partitions;
	long count;
	long count2;
	long rate;
	int value_size;
	int timeout_s;
	bool no_create;
	bool idempotence;
	bool verify;
	int mock_flaps;
};

struct ctx {
	struct opts o;
	char bootstraps[512];
	rd_kafka_t *mock_rk;
	rd_kafka_mock_cluster_t *mock;
	int failures;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kafka_scenarios: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Print one JSON object as a line and release it. */
static void emit(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

	fputs(s, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	free(s);
	json_decref(obj);
}

/* Record one named check; a failed check makes the program exit 1 at the end. */
static void check(struct ctx *c, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check(struct ctx *c, const char *name, bool ok, const char *fmt, ...)
{
	if (!ok) {
		va_list ap;

		c->failures++;
		fprintf(stderr, "kafka_scenarios: check %s failed: ", name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		emit(json_pack("{s:s, s:b}", "check", name, "ok", 0));
	}
}

/* ---------- FNV-1a over a length-framed message sequence ---------- */

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static void fnv_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= FNV_PRIME;
	}
}

static void fnv_u32(uint64_t *h, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	fnv_bytes(h, b, 4);
}

/* A null field hashes as length 0xffffffff so null and empty differ. */
static void fnv_field(uint64_t *h, const void *p, size_t n)
{
	if (!p) {
		fnv_u32(h, 0xffffffffu);
		return;
	}
	fnv_u32(h, (uint32_t)n);
	fnv_bytes(h, p, n);
}

static void fnv_message(uint64_t *h, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *hdrs = NULL;
	size_t cnt = 0;

	fnv_field(h, m->key, m->key_len);
	fnv_field(h, m->payload, m->len);
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		cnt = rd_kafka_header_cnt(hdrs);
	fnv_u32(h, (uint32_t)cnt);
	for (size_t i = 0; i < cnt; i++) {
		const char *name;
		const void *val;
		size_t size;

		if (rd_kafka_header_get_all(hdrs, i, &name, &val, &size))
			break;
		fnv_field(h, name, strlen(name));
		fnv_field(h, val, size);
	}
}

static json_t *hex64(uint64_t v)
{
	char s[17];

	snprintf(s, sizeof(s), "%016" PRIx64, v);
	return json_string(s);
}

/* A JSON string for bytes; null for a null field; {"hex": ...} if not UTF-8. */
static json_t *json_bytes(const void *p, size_t n)
{
	json_t *s;

	if (!p)
		return json_null();
	s = json_stringn(p, n);
	if (!s) {
		static const char dig[] = "0123456789abcdef";
		char *hx = malloc(2 * n + 1);
		const unsigned char *b = p;

		for (size_t i = 0; i < n; i++) {
			hx[2 * i] = dig[b[i] >> 4];
			hx[2 * i + 1] = dig[b[i] & 15];
		}
		hx[2 * n] = 0;
		s = json_pack("{s:s}", "hex", hx);
		free(hx);
	}
	return s;
}

/* ---------- configuration and handles ---------- */

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[512];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		die("config %s=%s refused: %s", k, v, err);
}

static rd_kafka_conf_t *base_conf(struct ctx *c)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char tmo[32];

	conf_set(conf, "bootstrap.servers", c->bootstraps);
	conf_set(conf, "api.version.request", "true");
	snprintf(tmo, sizeof(tmo), "%d", c->o.timeout_s * 1000);
	conf_set(conf, "socket.timeout.ms", tmo);
	conf_set(conf, "client.id", "kafka_scenarios");
	if (c->o.debug)
		conf_set(conf, "debug", c->o.debug);
	return conf;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));

	if (!rk)
		die("cannot create a client handle: %s", err);
	return rk;
}

struct dr_state {
	long ok;
	long failed;
	rd_kafka_resp_err_t first_err;
	void (*on_ok)(const rd_kafka_message_t *m);
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct dr_state *st = opaque;

	(void)rk;
	if (m->err) {
		if (!st->failed)
			st->first_err = m->err;
		st->failed++;
		fprintf(stderr, "kafka_scenarios: delivery failed: %s\n",
			rd_kafka_err2str(m->err));
		return;
	}
	st->ok++;
	if (st->on_ok)
		st->on_ok(m);
}

static rd_kafka_t *new_producer(struct ctx *c, struct dr_state *st, const char *compression)
{
	rd_kafka_conf_t *conf = base_conf(c);

	conf_set(conf, "acks", "all");
	conf_set(conf, "enable.idempotence", c->o.idempotence ? "true" : "false");
	conf_set(conf, "compression.codec", compression ? compression : "none");
	conf_set(conf, "linger.ms", "5");
	conf_set(conf, "message.timeout.ms", "300000");
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, st);
	return new_handle(RD_KAFKA_PRODUCER, conf);
}

static void produce_one(rd_kafka_t *rk, const char *topic, int32_t partition,
			const void *key, size_t klen, const void *val, size_t vlen,
			int64_t ts, rd_kafka_headers_t *hdrs)
{
	for (;;) {
		rd_kafka_resp_err_t err;

		if (hdrs) {
			rd_kafka_headers_t *copy = rd_kafka_headers_copy(hdrs);

			err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
						RD_KAFKA_V_PARTITION(partition),
						RD_KAFKA_V_KEY(key, klen),
						RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vlen),
						RD_KAFKA_V_TIMESTAMP(ts),
						RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_END);
			if (err)
				rd_kafka_headers_destroy(copy);
		} else {
			err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
						RD_KAFKA_V_PARTITION(partition),
						RD_KAFKA_V_KEY(key, klen),
						RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vlen),
						RD_KAFKA_V_TIMESTAMP(ts),
						RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						RD_KAFKA_V_END);
		}
		if (!err)
			return;
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			die("cannot produce to %s: %s", topic, rd_kafka_err2str(err));
		rd_kafka_poll(rk, 10);
	}
}

/* Wait for every outstanding delivery report; returns false on timeout. */
static bool flush_all(struct ctx *c, rd_kafka_t *rk)
{
	rd_kafka_resp_err_t err = rd_kafka_flush(rk, c->o.timeout_s * 1000);

	if (err) {
		fprintf(stderr, "kafka_scenarios: %d messages still undelivered after %d s\n",
			rd_kafka_outq_len(rk), c->o.timeout_s);
		return false;
	}
	return true;
}

/* ---------- admin helpers ---------- */

static rd_kafka_AdminOptions_t *admin_opts(struct ctx *c, rd_kafka_t *rk)
{
	rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
	char err[256];

	rd_kafka_AdminOptions_set_request_timeout(ao, c->o.timeout_s * 1000, err, sizeof(err));
	rd_kafka_AdminOptions_set_operation_timeout(ao, c->o.timeout_s * 1000, err,
						    sizeof(err));
	return ao;
}

static rd_kafka_event_t *admin_wait(struct ctx *c, rd_kafka_queue_t *q, const char *what)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (c->o.timeout_s + 5) * 1000);

	if (!ev)
		die("no %s result within %d s", what, c->o.timeout_s);
	return ev;
}

/* CreateTopics for one topic; returns the topic's error code. */
static rd_kafka_resp_err_t admin_create(struct ctx *c, rd_kafka_t *rk, const char *topic,
					int partitions, const char *cfg_key,
					const char *cfg_val)
{
	char err[256];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *ao = admin_opts(c, rk);
	rd_kafka_resp_err_t res;
	const rd_kafka_topic_result_t **tr;
	size_t n = 0;
	rd_kafka_event_t *ev;

	if (!nt)
		die("cannot describe new topic %s: %s", topic, err);
	if (cfg_key)
		rd_kafka_NewTopic_set_config(nt, cfg_key, cfg_val);
	rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
	ev = admin_wait(c, q, "CreateTopics");
	res = rd_kafka_event_error(ev);
	if (!res) {
		tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev),
							 &n);
		res = n == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
	}
	rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	return res;
}

static rd_kafka_resp_err_t admin_delete(struct ctx *c, rd_kafka_t *rk, const char *topic)
{
	rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *ao = admin_opts(c, rk);
	const rd_kafka_topic_result_t **tr;
	rd_kafka_resp_err_t res;
	size_t n = 0;
	rd_kafka_event_t *ev;

	rd_kafka_DeleteTopics(rk, &dt, 1, ao, q);
	ev = admin_wait(c, q, "DeleteTopics");
	res = rd_kafka_event_error(ev);
	if (!res) {
		tr = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev),
							 &n);
		res = n == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
	}
	rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	rd_kafka_DeleteTopic_destroy(dt);
	return res;
}

static rd_kafka_resp_err_t admin_partitions(struct ctx *c, rd_kafka_t *rk, const char *topic,
					    int total)
{
	char err[256];
	rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(topic, total, err,
								 sizeof(err));
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *ao = admin_opts(c, rk);
	const rd_kafka_topic_result_t **tr;
	rd_kafka_resp_err_t res;
	size_t n = 0;
	rd_kafka_event_t *ev;

	rd_kafka_CreatePartitions(rk, &np, 1, ao, q);
	ev = admin_wait(c, q, "CreatePartitions");
	res = rd_kafka_event_error(ev);
	if (!res) {
		tr = rd_kafka_CreatePartitions_result_topics(
			rd_kafka_event_CreatePartitions_result(ev), &n);
		res = n == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
	}
	rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewPartitions_destroy(np);
	return res;
}

/* Partition count from Metadata, or -1 if the topic is unknown. */
static int topic_partitions(struct ctx *c, rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t err;
	int n = -1;

	err = rd_kafka_metadata(rk, 0, rkt, &md, c->o.timeout_s * 1000);
	rd_kafka_topic_destroy(rkt);
	if (err)
		die("no metadata for topic %s: %s", topic, rd_kafka_err2str(err));
	if (md->topic_cnt == 1 && !md->topics[0].err)
		n = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return n;
}

/* Make sure the topic exists with the given partition count. */
static void ensure_topic(struct ctx *c, rd_kafka_t *rk, const char *topic, int partitions)
{
	rd_kafka_resp_err_t err;

	if (c->mock) {
		err = rd_kafka_mock_topic_create(c->mock, topic, partitions, 1);
		if (err)
			die("mock cannot create topic %s: %s", topic, rd_kafka_err2str(err));
		return;
	}
	if (c->o.no_create)
		return;
	err = admin_create(c, rk, topic, partitions, NULL, NULL);
	if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
		die("cannot create topic %s: %s", topic, rd_kafka_err2name(err));
}

/* ---------- consuming with assign() up to the high watermarks ---------- */

typedef void (*msg_fn)(void *arg, const rd_kafka_message_t *m);

static rd_kafka_t *new_consumer(struct ctx *c, const char *group)
{
	rd_kafka_conf_t *conf = base_conf(c);

	if (group)
		conf_set(conf, "group.id", group);
	conf_set(conf, "enable.auto.commit", "false");
	conf_set(conf, "auto.offset.reset", "earliest");
	conf_set(conf, "enable.partition.eof", "true");
	return new_handle(RD_KAFKA_CONSUMER, conf);
}

/*
 * Read partitions [0, nparts) of topic from the beginning until each reaches the high
 * watermark measured first; calls fn for every message. Returns messages read.
 */
static long consume_range(struct ctx *c, const char *topic, int nparts, msg_fn fn, void *arg)
{
	/* librdkafka 2.0 wants a group.id even for assign(); nothing is committed. */
	rd_kafka_t *rk = new_consumer(c, "kafka_scenarios-reader");
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
	int64_t hi[MAX_PARTITIONS], next[MAX_PARTITIONS];
	int pending = 0;
	long n = 0;
	int64_t deadline;

	for (int p = 0; p < nparts; p++) {
		int64_t lo;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
			rk, topic, p, &lo, &hi[p], c->o.timeout_s * 1000);

		if (err)
			die("no watermarks for %s [%d]: %s", topic, p, rd_kafka_err2str(err));
		next[p] = lo;
		if (lo < hi[p])
			pending++;
		rd_kafka_topic_partition_list_add(l, topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	deadline = now_ms() + (int64_t)c->o.timeout_s * 1000;
	while (pending > 0) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		if (now_ms() > deadline)
			die("consuming %s timed out with %d partitions unfinished", topic,
			    pending);
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "kafka_scenarios: consumer error: %s\n",
					rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->partition >= 0 && m->partition < nparts &&
		    next[m->partition] < hi[m->partition]) {
			fn(arg, m);
			n++;
			next[m->partition] = m->offset + 1;
			if (next[m->partition] >= hi[m->partition])
				pending--;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

/* Per-partition observations shared by the consume-back scenarios. */
struct part_obs {
	long count;
	int64_t first;
	int64_t last;
	uint64_t hash;
	bool contiguous;
	long last_index; /* for the idempotent scenario: order check */
	bool ordered;
};

struct consume_obs {
	struct part_obs p[MAX_PARTITIONS];
	unsigned char *seen; /* per message index */
	long nmsgs;
	long dup;
	long bad;
	const char *prefix; /* key is prefix + decimal index */
};

static long key_index(const struct consume_obs *o, const rd_kafka_message_t *m)
{
	size_t pl = strlen(o->prefix);
	char buf[32];
	char *end;
	long i;

	if (!m->key || m->key_len <= pl || m->key_len - pl >= sizeof(buf) ||
	    memcmp(m->key, o->prefix, pl))
		return -1;
	memcpy(buf, (const char *)m->key + pl, m->key_len - pl);
	buf[m->key_len - pl] = 0;
	i = strtol(buf, &end, 10);
	if (*end || i < 0 || i >= o->nmsgs)
		return -1;
	return i;
}

static void obs_init(struct consume_obs *o, long nmsgs, const char *prefix)
{
	memset(o, 0, sizeof(*o));
	for (int p = 0; p < MAX_PARTITIONS; p++) {
		o->p[p].hash = FNV_OFFSET;
		o->p[p].first = -1;
		o->p[p].last = -1;
		o->p[p].contiguous = true;
		o->p[p].ordered = true;
		o->p[p].last_index = -1;
	}
	o->seen = calloc(nmsgs > 0 ? nmsgs : 1, 1);
	o->nmsgs = nmsgs;
	o->prefix = prefix;
}

static void obs_msg(void *arg, const rd_kafka_message_t *m)
{
	struct consume_obs *o = arg;
	struct part_obs *p = &o->p[m->partition];
	long i = key_index(o, m);

	if (p->count == 0)
		p->first = m->offset;
	else if (m->offset != p->last + 1)
		p->contiguous = false;
	p->last = m->offset;
	p->count++;
	fnv_message(&p->hash, m);
	if (i < 0) {
		o->bad++;
		return;
	}
	if (o->seen[i]++)
		o->dup++;
	if (i <= p->last_index)
		p->ordered = false;
	p->last_index = i;
}

static long obs_missing(const struct consume_obs *o)
{
	long miss = 0;

	for (long i = 0; i < o->nmsgs; i++)
		miss += !o->seen[i];
	return miss;
}

/* ---------- scenario: produce-consume ---------- */

static void make_value(char *buf, size_t size, long i, int value_size)
{
	int n = snprintf(buf, size, "value-%ld-", i);

	/* Deterministic filler: a repeating pattern seeded by the index. */
	while (n < value_size && (size_t)n < size - 1) {
		buf[n] = (char)('a' + (i + n) % 26);
		n++;
	}
	buf[n] = 0;
}

static int sc_produce_consume(struct ctx *c)
{
	struct dr_state st = { 0 };
	rd_kafka_t *rk = new_producer(c, &st, c->o.compression);
	const char *topic = c->o.topic ? c->o.topic : "scen-produce-consume";
	int nparts;
	long consumed;
	struct consume_obs obs;
	char *val = malloc((size_t)c->o.value_size + 64);

	ensure_topic(c, rk, topic, c->o.partitions);
	for (long i = 0; i < c->o.count; i++) {
		char key[32], h1[32];
		rd_kafka_headers_t *hdrs = rd_kafka_headers_new(3);

		snprintf(key, sizeof(key), "key-%ld", i);
		snprintf(h1, sizeof(h1), "%ld", i);
		make_value(val, (size_t)c->o.value_size + 64, i, c->o.value_size);
		rd_kafka_header_add(hdrs, "seq", -1, h1, -1);
		rd_kafka_header_add(hdrs, "src", -1, "kafka_scenarios", -1);
		if (i % 7 == 0)
			rd_kafka_header_add(hdrs, "nullhdr", -1, NULL, 0);
		/* Every 11th message has an empty value, every 13th a null one. */
		produce_one(rk, topic, RD_KAFKA_PARTITION_UA, key, strlen(key),
			    i % 13 == 5 ? NULL : val, i % 13 == 5 ? 0 : (i % 11 == 3 ? 0 :
			    strlen(val)), 0, hdrs);
		rd_kafka_headers_destroy(hdrs);
		rd_kafka_poll(rk, 0);
	}
	check(c, "all_delivered", flush_all(c, rk) && st.ok == c->o.count,
	      "%ld of %ld delivered", st.ok, c->o.count);
	nparts = topic_partitions(c, rk, topic);
	rd_kafka_destroy(rk);
	if (nparts <= 0 || nparts > MAX_PARTITIONS)
		die("topic %s has %d partitions", topic, nparts);

	obs_init(&obs, c->o.count, "key-");
	consumed = consume_range(c, topic, nparts, obs_msg, &obs);
	for (int p = 0; p < nparts; p++) {
		struct part_obs *po = &obs.p[p];

		emit(json_pack("{s:s, s:i, s:I, s:I, s:I, s:o, s:b}", "scenario",
			       "produce-consume", "partition", p, "count", (json_int_t)po->count,
			       "first", (json_int_t)po->first, "last", (json_int_t)po->last,
			       "hash", hex64(po->hash), "contiguous", po->contiguous));
		check(c, "contiguous", po->contiguous, "partition %d has offset gaps", p);
	}
	emit(json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "scenario",
		       "produce-consume", "compression",
		       c->o.compression ? c->o.compression : "none", "partitions", nparts,
		       "produced", (json_int_t)c->o.count, "delivered", (json_int_t)st.ok,
		       "consumed", (json_int_t)consumed, "duplicates", (json_int_t)obs.dup,
		       "missing", (json_int_t)obs_missing(&obs), "foreign", (json_int_t)obs.bad));
	check(c, "consumed_all", consumed == c->o.count && obs.dup == 0 &&
	      obs_missing(&obs) == 0 && obs.bad == 0, "consumed %ld of %ld, %ld duplicates",
	      consumed, c->o.count, obs.dup);
	free(obs.seen);
	free(val);
	return 0;
}

/* ---------- scenario: idempotent ---------- */

static int sc_idempotent(struct ctx *c)
{
	struct dr_state st = { 0 };
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	const char *topic = c->o.topic ? c->o.topic : "scen-idempotent";
	struct consume_obs obs;
	long consumed;
	char val[64];

	conf = base_conf(c);
	conf_set(conf, "acks", "all");
	conf_set(conf, "enable.idempotence", "true");
	conf_set(conf, "max.in.flight.requests.per.connection", "5");
	conf_set(conf, "batch.num.messages", "100");
	conf_set(conf, "linger.ms", "1");
	conf_set(conf, "message.timeout.ms", "300000");
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, &st);
	rk = new_handle(RD_KAFKA_PRODUCER, conf);
	ensure_topic(c, rk, topic, c->o.partitions);
	for (long i = 0; i < c->o.count; i++) {
		char key[32];

		snprintf(key, sizeof(key), "i-%ld", i);
		snprintf(val, sizeof(val), "%ld", i);
		produce_one(rk, topic, (int32_t)(i % c->o.partitions), key, strlen(key), val,
			    strlen(val), 0, NULL);
		rd_kafka_poll(rk, 0);
	}
	check(c, "all_delivered", flush_all(c, rk) && st.ok == c->o.count,
	      "%ld of %ld delivered", st.ok, c->o.count);
	{
		char errstr[256];
		rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, errstr, sizeof(errstr));

		check(c, "no_fatal_error", fe == RD_KAFKA_RESP_ERR_NO_ERROR, "%s", errstr);
	}
	rd_kafka_destroy(rk);

	obs_init(&obs, c->o.count, "i-");
	consumed = consume_range(c, topic, c->o.partitions, obs_msg, &obs);
	for (int p = 0; p < c->o.partitions; p++) {
		struct part_obs *po = &obs.p[p];

		emit(json_pack("{s:s, s:i, s:I, s:I, s:I, s:o, s:b, s:b}", "scenario",
			       "idempotent", "partition", p, "count", (json_int_t)po->count,
			       "first", (json_int_t)po->first, "last", (json_int_t)po->last,
			       "hash", hex64(po->hash), "ordered", po->ordered,
			       "contiguous", po->contiguous));
		check(c, "ordered", po->ordered && po->contiguous,
		      "partition %d out of order or with gaps", p);
	}
	emit(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "scenario", "idempotent", "produced",
		       (json_int_t)c->o.count, "delivered", (json_int_t)st.ok, "consumed",
		       (json_int_t)consumed, "duplicates", (json_int_t)obs.dup, "missing",
		       (json_int_t)obs_missing(&obs)));
	check(c, "exactly_once", consumed == c->o.count && obs.dup == 0 &&
	      obs_missing(&obs) == 0, "consumed %ld of %ld, %ld duplicates", consumed,
	      c->o.count, obs.dup);
	free(obs.seen);
	return 0;
}

/* ---------- scenario: group ---------- */

#define GROUP_MEMBERS 3

struct group_shared {
	pthread_mutex_t lock;
	unsigned char *seen; /* count per message index */
	long nmsgs;
	long unique;
	long dup;
	long bad;
};

struct member {
	struct ctx *c;
	struct group_shared *g;
	const char *topic;
	const char *group;
	int idx;
	volatile int leave; /* 1: close and exit the thread */
	volatile int joined;
	int assigns;
	int revokes;
	long consumed;
	long refused; /* commits the coordinator refused (rebalance under way) */
	pthread_t thread;
};

static void member_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			     rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct member *mb = opaque;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		mb->assigns++;
		mb->joined = 1;
		rd_kafka_assign(rk, parts);
	} else {
		/* Every processed message is already committed (see member_main). */
		mb->revokes++;
		rd_kafka_assign(rk, NULL);
	}
}

static long group_key_index(const rd_kafka_message_t *m, long nmsgs)
{
	char buf[32];
	char *end;
	long i;

	if (!m->key || m->key_len < 3 || m->key_len >= sizeof(buf) ||
	    memcmp(m->key, "g-", 2))
		return -1;
	memcpy(buf, (const char *)m->key + 2, m->key_len - 2);
	buf[m->key_len - 2] = 0;
	i = strtol(buf, &end, 10);
	return (*end || i < 0 || i >= nmsgs) ? -1 : i;
}

static void *member_main(void *arg)
{
	struct member *mb = arg;
	struct ctx *c = mb->c;
	rd_kafka_conf_t *conf = base_conf(c);
	rd_kafka_topic_partition_list_t *sub;
	rd_kafka_resp_err_t err;
	rd_kafka_t *rk;

	conf_set(conf, "group.id", mb->group);
	conf_set(conf, "enable.auto.commit", "false");
	conf_set(conf, "auto.offset.reset", "earliest");
	conf_set(conf, "session.timeout.ms", "6000");
	conf_set(conf, "heartbeat.interval.ms", "1000");
	conf_set(conf, "max.poll.interval.ms", "300000");
	conf_set(conf, "partition.assignment.strategy", "range,roundrobin");
	rd_kafka_conf_set_rebalance_cb(conf, member_rebalance);
	rd_kafka_conf_set_opaque(conf, mb);
	rk = new_handle(RD_KAFKA_CONSUMER, conf);
	rd_kafka_poll_set_consumer(rk);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, mb->topic, RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (err)
		die("member %d cannot subscribe: %s", mb->idx, rd_kafka_err2str(err));
	while (!mb->leave) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		long i;

		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "kafka_scenarios: member %d: %s\n", mb->idx,
					rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		/*
		 * A message counts as consumed by this member only once its offset is
		 * committed (synchronously). A commit refused because a rebalance began
		 * means the next owner gets the message again from the committed offset,
		 * so with correct generation fencing every message is counted exactly
		 * once however the rebalances interleave.
		 */
		err = rd_kafka_commit_message(rk, m, 0);
		if (err) {
			mb->refused++;
			rd_kafka_message_destroy(m);
			continue;
		}
		i = group_key_index(m, mb->g->nmsgs);
		pthread_mutex_lock(&mb->g->lock);
		if (i < 0) {
			mb->g->bad++;
		} else {
			if (mb->g->seen[i])
				mb->g->dup++;
			else
				mb->g->unique++;
			if (mb->g->seen[i] < 255)
				mb->g->seen[i]++;
		}
		pthread_mutex_unlock(&mb->g->lock);
		mb->consumed++;
		rd_kafka_message_destroy(m);
	}
	/* Leaving: everything counted is committed; close revokes and leaves the group. */
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

static void group_produce(struct ctx *c, rd_kafka_t *rk, const char *topic, long from,
			  long to)
{
	for (long i = from; i < to; i++) {
		char key[32], val[32];

		snprintf(key, sizeof(key), "g-%ld", i);
		snprintf(val, sizeof(val), "v%ld", i);
		produce_one(rk, topic, RD_KAFKA_PARTITION_UA, key, strlen(key), val,
			    strlen(val), 0, NULL);
		rd_kafka_poll(rk, 0);
	}
	if (!flush_all(c, rk))
		die("group scenario: messages %ld..%ld not delivered", from, to);
}

static void progress(const char *what)
{
	static int64_t t0;

	if (!t0)
		t0 = now_ms();
	fprintf(stderr, "kafka_scenarios: %.1f s: %s\n", (now_ms() - t0) / 1000.0, what);
}

static bool group_wait_unique(struct ctx *c, struct group_shared *g, long want)
{
	int64_t deadline = now_ms() + (int64_t)c->o.timeout_s * 1000;

	for (;;) {
		long u;

		pthread_mutex_lock(&g->lock);
		u = g->unique;
		pthread_mutex_unlock(&g->lock);
		if (u >= want)
			return true;
		if (now_ms() > deadline) {
			fprintf(stderr, "kafka_scenarios: group saw %ld of %ld messages\n", u,
				want);
			return false;
		}
		usleep(50 * 1000);
	}
}

/* A fresh member that resumes from the group's committed offsets. */
static void group_resume(struct ctx *c, const char *topic, const char *group, long old_n,
			 long total, long *old_seen, long *new_seen)
{
	rd_kafka_t *rk = new_consumer(c, group);
	rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
	unsigned char *seen = calloc((size_t)total, 1);
	int64_t deadline = now_ms() + (int64_t)c->o.timeout_s * 1000;

	*old_seen = *new_seen = 0;
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_subscribe(rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	/* Done when every new message arrived and every partition reported EOF. */
	for (int eofs = 0; now_ms() < deadline;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		long i;

		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
		} else if (!m->err) {
			i = group_key_index(m, total);
			if (i >= 0 && i < old_n)
				(*old_seen)++;
			else if (i >= 0 && !seen[i]++)
				(*new_seen)++;
		}
		rd_kafka_message_destroy(m);
		if (*new_seen >= total - old_n && eofs >= c->o.partitions)
			break;
	}
	rd_kafka_commit(rk, NULL, 0);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(seen);
}

static int sc_group(struct ctx *c)
{
	struct dr_state st = { 0 };
	rd_kafka_t *rk = new_producer(c, &st, NULL);
	const char *topic = c->o.topic ? c->o.topic : "scen-group";
	const char *group = c->o.group ? c->o.group : "scen-group-g";
	long m1 = c->o.count, m2 = c->o.count, m3 = c->o.count2;
	long total = m1 + m2 + m3, old_seen, new_seen;
	struct group_shared g;
	struct member mb[GROUP_MEMBERS];
	bool ok1, ok2;
	json_t *nd;

	ensure_topic(c, rk, topic, c->o.partitions);
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.lock, NULL);
	g.nmsgs = m1 + m2;
	g.seen = calloc((size_t)g.nmsgs, 1);
	memset(mb, 0, sizeof(mb));
	for (int i = 0; i < GROUP_MEMBERS; i++) {
		mb[i] = (struct member){ .c = c, .g = &g, .topic = topic, .group = group,
					 .idx = i };
		pthread_create(&mb[i].thread, NULL, member_main, &mb[i]);
	}
	/* Phase 1: all three members share the topic. */
	progress("group: members started");
	group_produce(c, rk, topic, 0, m1);
	ok1 = group_wait_unique(c, &g, m1);
	progress("group: phase 1 consumed");
	check(c, "phase1_all_seen", ok1, "phase 1 incomplete");
	/* Phase 2: member 2 leaves; the others rebalance and keep consuming. */
	mb[2].leave = 1;
	pthread_join(mb[2].thread, NULL);
	progress("group: member 2 left");
	group_produce(c, rk, topic, m1, m1 + m2);
	ok2 = group_wait_unique(c, &g, m1 + m2);
	progress("group: phase 2 consumed");
	check(c, "phase2_all_seen", ok2, "phase 2 incomplete");
	for (int i = 0; i < 2; i++)
		mb[i].leave = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(mb[i].thread, NULL);
	/* Phase 3: more messages while nobody is in the group, then a new member. */
	progress("group: members closed");
	group_produce(c, rk, topic, m1 + m2, total);
	rd_kafka_destroy(rk);
	group_resume(c, topic, group, m1 + m2, total, &old_seen, &new_seen);
	progress("group: resumed member done");

	nd = json_array();
	for (int i = 0; i < GROUP_MEMBERS; i++)
		json_array_append_new(nd, json_pack("{s:i, s:i, s:i, s:I, s:I}", "member", i,
						    "assigns", mb[i].assigns, "revokes",
						    mb[i].revokes, "consumed",
						    (json_int_t)mb[i].consumed,
						    "commits_refused",
						    (json_int_t)mb[i].refused));
	emit(json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		       "scenario", "group", "members", GROUP_MEMBERS,
		       "phase1", (json_int_t)m1, "phase2", (json_int_t)m2,
		       "unique", (json_int_t)g.unique, "duplicates", (json_int_t)g.dup,
		       "missing", (json_int_t)(m1 + m2 - g.unique), "foreign", (json_int_t)g.bad,
		       "resumed_old", (json_int_t)old_seen, "resumed_new", (json_int_t)new_seen,
		       "nondeterministic", nd));
	check(c, "exactly_once", g.dup == 0 && g.unique == m1 + m2 && g.bad == 0,
	      "%ld duplicates, %ld unique of %ld", g.dup, g.unique, m1 + m2);
	check(c, "resume_from_committed", old_seen == 0 && new_seen == m3,
	      "resumed member saw %ld old and %ld of %ld new", old_seen, new_seen, m3);
	for (int i = 0; i < 2; i++)
		check(c, "member_rebalanced", mb[i].assigns >= 2,
		      "member %d saw %d assignments", i, mb[i].assigns);
	free(g.seen);
	pthread_mutex_destroy(&g.lock);
	return 0;
}

/* ---------- scenario: offsets-for-times ---------- */

#define OFT_BASE 1700000000000LL
#define OFT_STEP 1000

struct ts_obs {
	long checked;
	long wrong;
};

/* Each message must come back with its CreateTime: base + value * step + partition. */
static void ts_msg(void *arg, const rd_kafka_message_t *m)
{
	struct ts_obs *t = arg;
	rd_kafka_timestamp_type_t tt;
	int64_t ts = rd_kafka_message_timestamp(m, &tt);
	char buf[32];
	long i;

	snprintf(buf, sizeof(buf), "%.*s", (int)(m->len < 31 ? m->len : 31),
		 (const char *)m->payload);
	i = strtol(buf, NULL, 10);
	t->checked++;
	if (tt != RD_KAFKA_TIMESTAMP_CREATE_TIME ||
	    ts != OFT_BASE + i * OFT_STEP + m->partition)
		t->wrong++;
}

static int sc_offsets_for_times(struct ctx *c)
{
	struct dr_state st = { 0 };
	rd_kafka_t *rk = new_producer(c, &st, NULL);
	const char *topic = c->o.topic ? c->o.topic : "scen-oft";
	int nparts = c->o.partitions;
	long per = c->o.count;
	/* Queries as offsets from the partition's first timestamp, in steps. */
	static const struct {
		const char *name;
		int64_t rel; /* relative to OFT_BASE, in ms */
	} q[] = {
		{ "before_all", -1000000 },
		{ "first", 0 },
		{ "exact_10", 10 * OFT_STEP },
		{ "between_10_11", 10 * OFT_STEP + 1 },
		{ "just_before_20", 20 * OFT_STEP - 1 },
	};
	const size_t nq = sizeof(q) / sizeof(q[0]);

	ensure_topic(c, rk, topic, nparts);
	for (long i = 0; i < per; i++) {
		for (int p = 0; p < nparts; p++) {
			char key[32], val[32];

			snprintf(key, sizeof(key), "t-%d-%ld", p, i);
			snprintf(val, sizeof(val), "%ld", i);
			produce_one(rk, topic, p, key, strlen(key), val, strlen(val),
				    OFT_BASE + i * OFT_STEP + p, NULL);
		}
		rd_kafka_poll(rk, 0);
	}
	check(c, "all_delivered", flush_all(c, rk) && st.ok == per * nparts,
	      "%ld of %ld delivered", st.ok, per * nparts);

	for (size_t k = 0; k <= nq; k++) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
		rd_kafka_resp_err_t err;
		/* The last query asks past the newest timestamp. */
		int64_t rel = k < nq ? q[k].rel : (per + 5) * OFT_STEP;
		const char *name = k < nq ? q[k].name : "after_all";

		for (int p = 0; p < nparts; p++)
			rd_kafka_topic_partition_list_add(l, topic, p)->offset =
				OFT_BASE + rel + p;
		err = rd_kafka_offsets_for_times(rk, l, c->o.timeout_s * 1000);
		check(c, "offsets_for_times", !err, "%s: %s", name, rd_kafka_err2str(err));
		for (int p = 0; p < nparts && !err; p++) {
			rd_kafka_topic_partition_t *e = &l->elems[p];
			int64_t want;

			if (rel < 0)
				want = 0;
			else if (rel > (per - 1) * OFT_STEP)
				want = -1;
			else
				want = (rel + OFT_STEP - 1) / OFT_STEP;
			emit(json_pack("{s:s, s:s, s:i, s:I, s:s}", "scenario",
				       "offsets-for-times", "query", name, "partition",
				       (int)e->partition, "offset", (json_int_t)e->offset, "error",
				       rd_kafka_err2name(e->err)));
			/* librdkafka 2.0.2's mock answers every timestamp query with -1:
			 * only brook's answers are checked (Kafka's rule: the earliest
			 * offset whose timestamp is >= the query, -1 if none). */
			check(c, "offset_for_time", c->mock || (e->offset == want && !e->err),
			      "%s partition %d: offset %" PRId64 ", want %" PRId64, name,
			      (int)e->partition, e->offset, want);
		}
		rd_kafka_topic_partition_list_destroy(l);
	}
	for (int p = 0; p < nparts; p++) {
		int64_t lo = -9, hi = -9;
		rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
			rk, topic, p, &lo, &hi, c->o.timeout_s * 1000);

		emit(json_pack("{s:s, s:i, s:I, s:I, s:s}", "scenario", "watermarks",
			       "partition", p, "low", (json_int_t)lo, "high", (json_int_t)hi,
			       "error", rd_kafka_err2name(err)));
		check(c, "watermarks", !err && lo == 0 && hi == per,
		      "partition %d: [%" PRId64 ", %" PRId64 ")", p, lo, hi);
	}
	rd_kafka_destroy(rk);
	{
		struct ts_obs t = { 0 };

		consume_range(c, topic, nparts, ts_msg, &t);
		emit(json_pack("{s:s, s:I, s:I}", "scenario", "timestamps", "checked",
			       (json_int_t)t.checked, "wrong", (json_int_t)t.wrong));
		check(c, "timestamps", t.checked == per * nparts && t.wrong == 0,
		      "%ld of %ld messages checked, %ld with a wrong timestamp", t.checked,
		      per * nparts, t.wrong);
	}
	return 0;
}

/* ---------- scenario: admin ---------- */

static void admin_emit(const char *op, const char *topic, rd_kafka_resp_err_t err)
{
	emit(json_pack("{s:s, s:s, s:s, s:s}", "scenario", "admin", "op", op, "topic", topic,
		       "error", rd_kafka_err2name(err)));
}

static int sc_admin(struct ctx *c)
{
	rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, base_conf(c));
	const char *topic = c->o.topic ? c->o.topic : "scen-admin";
	rd_kafka_resp_err_t err;
	int n;

	if (c->mock) {
		/* librdkafka 2.0.2's mock implements none of the admin APIs. */
		emit(json_pack("{s:s, s:s}", "scenario", "admin", "unsupported",
			       "the librdkafka 2.0.2 mock cluster has no admin APIs"));
		rd_kafka_destroy(rk);
		return 0;
	}
	err = admin_create(c, rk, topic, 3, "retention.ms", "3600000");
	admin_emit("create", topic, err);
	check(c, "create", !err, "%s", rd_kafka_err2name(err));
	err = admin_create(c, rk, topic, 3, NULL, NULL);
	admin_emit("create_again", topic, err);
	check(c, "create_again", err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "%s",
	      rd_kafka_err2name(err));
	err = admin_create(c, rk, "bad/name", 1, NULL, NULL);
	admin_emit("create_invalid", "bad/name", err);
	check(c, "create_invalid", err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, "%s",
	      rd_kafka_err2name(err));
	n = topic_partitions(c, rk, topic);
	emit(json_pack("{s:s, s:s, s:s, s:i}", "scenario", "admin", "op", "metadata",
		       "topic", topic, "partitions", n));
	check(c, "partitions_3", n == 3, "%d partitions", n);

	err = admin_partitions(c, rk, topic, 5);
	admin_emit("create_partitions", topic, err);
	check(c, "create_partitions", !err, "%s", rd_kafka_err2name(err));
	n = topic_partitions(c, rk, topic);
	emit(json_pack("{s:s, s:s, s:s, s:i}", "scenario", "admin", "op", "metadata",
		       "topic", topic, "partitions", n));
	check(c, "partitions_5", n == 5, "%d partitions", n);

	/* DescribeConfigs: the value set at creation must come back. */
	{
		rd_kafka_ConfigResource_t *cr =
			rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
		rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
		rd_kafka_AdminOptions_t *ao = admin_opts(c, rk);
		rd_kafka_event_t *ev;
		const char *retention = NULL, *policy = NULL;

		rd_kafka_DescribeConfigs(rk, &cr, 1, ao, q);
		ev = admin_wait(c, q, "DescribeConfigs");
		err = rd_kafka_event_error(ev);
		if (!err) {
			size_t nres = 0, ncfg = 0;
			const rd_kafka_ConfigResource_t **res =
				rd_kafka_DescribeConfigs_result_resources(
					rd_kafka_event_DescribeConfigs_result(ev), &nres);

			err = nres == 1 ? rd_kafka_ConfigResource_error(res[0])
					: RD_KAFKA_RESP_ERR__FAIL;
			if (!err) {
				const rd_kafka_ConfigEntry_t **ents =
					rd_kafka_ConfigResource_configs(res[0], &ncfg);

				for (size_t i = 0; i < ncfg; i++) {
					const char *nm = rd_kafka_ConfigEntry_name(ents[i]);

					if (!strcmp(nm, "retention.ms"))
						retention = rd_kafka_ConfigEntry_value(ents[i]);
					else if (!strcmp(nm, "cleanup.policy"))
						policy = rd_kafka_ConfigEntry_value(ents[i]);
				}
			}
		}
		emit(json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "scenario", "admin", "op",
			       "describe_configs", "topic", topic, "error",
			       rd_kafka_err2name(err), "retention.ms", retention,
			       "cleanup.policy", policy));
		check(c, "describe_configs", !err && retention &&
		      !strcmp(retention, "3600000"), "%s, retention.ms=%s",
		      rd_kafka_err2name(err), retention ? retention : "(none)");
		rd_kafka_event_destroy(ev);
		rd_kafka_AdminOptions_destroy(ao);
		rd_kafka_queue_destroy(q);
		rd_kafka_ConfigResource_destroy(cr);
	}

	err = admin_delete(c, rk, topic);
	admin_emit("delete", topic, err);
	check(c, "delete", !err, "%s", rd_kafka_err2name(err));
	err = admin_delete(c, rk, topic);
	admin_emit("delete_again", topic, err);
	check(c, "delete_again", err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "%s",
	      rd_kafka_err2name(err));
	rd_kafka_destroy(rk);
	return 0;
}

/* ---------- scenario: produce-acked (crash test producer) ---------- */

/* Acknowledged messages, for --verify: index n of "k:<n>" -> (partition, offset). */
static struct acked {
	int32_t partition;
	int64_t offset;
	unsigned char acked;
} *g_acked;
static long g_acked_cap;

static long acked_index(const void *p, size_t n)
{
	char buf[32];
	char *end;
	long i;

	if (!p || n < 3 || n >= sizeof(buf) || memcmp(p, "k:", 2))
		return -1;
	memcpy(buf, (const char *)p + 2, n - 2);
	buf[n - 2] = 0;
	i = strtol(buf, &end, 10);
	return (*end || i < 0) ? -1 : i;
}

static void acked_line(const rd_kafka_message_t *m)
{
	json_t *v = json_bytes(m->payload, m->len);
	long i = acked_index(m->payload, m->len);

	if (i >= 0 && i < g_acked_cap) {
		g_acked[i].partition = m->partition;
		g_acked[i].offset = m->offset;
		g_acked[i].acked = 1;
	}

	emit(json_pack("{s:i, s:I, s:o}", "partition", (int)m->partition, "offset",
		       (json_int_t)m->offset, "value", v));
}

/* With --mock-flaps: take every mock broker down and up again at random moments. */
static void *flapper_main(void *arg)
{
	struct ctx *c = arg;
	unsigned seed = 12345;

	for (int i = 0; i < c->o.mock_flaps && !g_stop; i++) {
		usleep(300000 + rand_r(&seed) % 700000);
		for (int b = 1; b <= c->o.mock_brokers; b++)
			rd_kafka_mock_broker_set_down(c->mock, b);
		fprintf(stderr, "kafka_scenarios: mock brokers down (%d of %d)\n", i + 1,
			c->o.mock_flaps);
		usleep(200000);
		for (int b = 1; b <= c->o.mock_brokers; b++)
			rd_kafka_mock_broker_set_up(c->mock, b);
	}
	return NULL;
}

struct verify_obs {
	long seen;      /* acknowledged messages found */
	long dup;       /* acknowledged messages found twice */
	long moved;     /* found at another partition/offset than acknowledged */
	long unacked;   /* present but never acknowledged (allowed) */
	long foreign;
	unsigned char *count;
};

static void verify_msg(void *arg, const rd_kafka_message_t *m)
{
	struct verify_obs *vo = arg;
	long i = acked_index(m->payload, m->len);

	if (i < 0 || i >= g_acked_cap) {
		vo->foreign++;
		return;
	}
	if (vo->count[i]++) {
		vo->dup++;
		return;
	}
	if (!g_acked[i].acked) {
		vo->unacked++;
		return;
	}
	vo->seen++;
	if (g_acked[i].partition != m->partition || g_acked[i].offset != m->offset)
		vo->moved++;
}

static int sc_produce_acked(struct ctx *c)
{
	struct dr_state st = { .on_ok = acked_line };
	rd_kafka_conf_t *conf = base_conf(c);
	const char *topic = c->o.topic ? c->o.topic : "scen-crash";
	rd_kafka_t *rk;
	int64_t start;
	long sent = 0;
	char errstr[512];
	pthread_t flapper;

	conf_set(conf, "acks", "all");
	conf_set(conf, "enable.idempotence", "true");
	/* Keep retrying through broker restarts: no message timeout, endless retries. */
	conf_set(conf, "message.timeout.ms", "0");
	conf_set(conf, "retries", "2147483647");
	conf_set(conf, "retry.backoff.ms", "50");
	conf_set(conf, "reconnect.backoff.ms", "20");
	conf_set(conf, "reconnect.backoff.max.ms", "200");
	conf_set(conf, "linger.ms", "2");
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, &st);
	rk = new_handle(RD_KAFKA_PRODUCER, conf);
	ensure_topic(c, rk, topic, c->o.partitions);
	g_acked_cap = c->o.count > 0 ? c->o.count : 10000000;
	if (c->o.verify)
		g_acked = calloc((size_t)g_acked_cap, sizeof(*g_acked));
	else
		g_acked_cap = 0;
	if (c->mock && c->o.mock_flaps > 0)
		pthread_create(&flapper, NULL, flapper_main, c);

	start = now_ms();
	while (!g_stop && (c->o.count <= 0 || sent < c->o.count)) {
		char val[32];

		if (c->o.verify && sent >= g_acked_cap)
			break;

		if (rd_kafka_fatal_error(rk, errstr, sizeof(errstr)))
			break;
		/* Pace to --rate messages per second. */
		if (c->o.rate > 0 && sent >= (now_ms() - start) * c->o.rate / 1000) {
			rd_kafka_poll(rk, 1);
			continue;
		}
		snprintf(val, sizeof(val), "k:%ld", sent);
		produce_one(rk, topic, RD_KAFKA_PARTITION_UA, val, strlen(val), val,
			    strlen(val), 0, NULL);
		sent++;
		rd_kafka_poll(rk, 0);
	}
	/* Stop producing; give outstanding messages a bounded time to be acknowledged. */
	rd_kafka_flush(rk, c->o.timeout_s * 1000);
	{
		rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, errstr, sizeof(errstr));

		fprintf(stderr, "kafka_scenarios: produce-acked sent %ld, acknowledged %ld, "
			"failed %ld, unacknowledged %d, fatal: %s\n", sent, st.ok, st.failed,
			rd_kafka_outq_len(rk), fe ? errstr : "none");
		check(c, "no_fatal_error", fe == RD_KAFKA_RESP_ERR_NO_ERROR, "%s", errstr);
	}
	if (c->mock && c->o.mock_flaps > 0)
		pthread_join(flapper, NULL);
	if (c->o.verify) {
		struct verify_obs vo = { .count = calloc((size_t)g_acked_cap, 1) };
		int nparts = topic_partitions(c, rk, topic);
		long acked = 0;

		consume_range(c, topic, nparts, verify_msg, &vo);
		for (long i = 0; i < g_acked_cap; i++)
			acked += g_acked[i].acked;
		emit(json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "scenario",
			       "produce-acked-verify", "acked", (json_int_t)acked, "found",
			       (json_int_t)vo.seen, "duplicates", (json_int_t)vo.dup,
			       "moved", (json_int_t)vo.moved, "unacked_present",
			       (json_int_t)vo.unacked, "foreign", (json_int_t)vo.foreign));
		check(c, "acked_exactly_once", vo.seen == acked && !vo.dup && !vo.moved &&
		      !vo.foreign, "%ld of %ld acked found, %ld duplicates, %ld moved",
		      vo.seen, acked, vo.dup, vo.moved);
		free(vo.count);
		free(g_acked);
	}
	rd_kafka_destroy(rk);
	return 0;
}

/* ---------- scenario: consume-all ---------- */

static void print_msg(void *arg, const rd_kafka_message_t *m)
{
	(void)arg;
	emit(json_pack("{s:i, s:I, s:o, s:o}", "partition", (int)m->partition, "offset",
		       (json_int_t)m->offset, "key", json_bytes(m->key, m->key_len), "value",
		       json_bytes(m->payload, m->len)));
}

static int sc_consume_all(struct ctx *c)
{
	const char *topic = c->o.topic ? c->o.topic : "scen-crash";
	rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, base_conf(c));
	int nparts = topic_partitions(c, rk, topic);

	rd_kafka_destroy(rk);
	if (nparts <= 0 || nparts > MAX_PARTITIONS)
		die("topic %s has %d partitions", topic, nparts);
	consume_range(c, topic, nparts, print_msg, NULL);
	return 0;
}

/* ---------- scenario: serve (mock only) ---------- */

/*
 * Keep the mock cluster running for other processes (kcat, kafka-python) until
 * SIGTERM/SIGINT: prints {"bootstrap": "HOST:PORT"} once it is listening. Lets the
 * Python tests that drive brook be validated against the mock too.
 */
static int sc_serve(struct ctx *c)
{
	if (!c->mock) {
		fprintf(stderr, "kafka_scenarios: serve needs --mock\n");
		return 2;
	}
	/* --topic may list several topics, comma-separated. */
	if (c->o.topic) {
		char *list = strdup(c->o.topic), *save = NULL;

		for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
			ensure_topic(c, NULL, t, c->o.partitions);
		free(list);
	}
	emit(json_pack("{s:s}", "bootstrap", c->bootstraps));
	while (!g_stop)
		usleep(50 * 1000);
	return 0;
}

/* ---------- main ---------- */

static const struct scenario {
	const char *name;
	int (*fn)(struct ctx *c);
	const char *help;
} scenarios[] = {
	{ "produce-consume", sc_produce_consume, "keyed messages with headers, read back" },
	{ "idempotent", sc_idempotent, "idempotent producer: no duplicates, order kept" },
	{ "group", sc_group, "3-member group, one leaves, resume from commits" },
	{ "offsets-for-times", sc_offsets_for_times, "timestamps to offsets, watermarks" },
	{ "admin", sc_admin, "create/partitions/describe/delete topics" },
	{ "produce-acked", sc_produce_acked, "crash-test producer, prints acked messages" },
	{ "consume-all", sc_consume_all, "print every message of --topic" },
	{ "serve", sc_serve, "--mock only: keep the mock cluster up until SIGTERM" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kafka_scenarios (--bootstrap HOST:PORT | --mock [--mock-brokers N])\n"
		"                       SCENARIO [options]\n"
		"options: --topic T  --group G  --partitions N (6)  --count N  --count2 N\n"
		"         --compression none|gzip|snappy|lz4|zstd  --value-size B (100)\n"
		"         --rate MSGS_PER_S (produce-acked)  --timeout S (120)\n"
		"         --no-create (rely on auto-creation)  --no-idempotence  --debug CTX\n"
		"         --verify (produce-acked: read back and check every acked message)\n"
		"         --mock-flaps N (produce-acked --mock: take the brokers down N times)\n"
		"scenarios:\n");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, "  %-18s %s\n", scenarios[i].name, scenarios[i].help);
}

static long parse_long(const char *opt, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v) {
		fprintf(stderr, "kafka_scenarios: %s wants a number, got '%s'\n", opt, v);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct ctx c;
	const struct scenario *sc = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.o.mock_brokers = 1;
	c.o.partitions = 6;
	c.o.count = -1;
	c.o.count2 = -1;
	c.o.value_size = 100;
	c.o.timeout_s = 120;
	c.o.idempotence = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (!strcmp(a, "--mock")) {
			c.o.mock = true;
			takes = false;
		} else if (!strcmp(a, "--no-create")) {
			c.o.no_create = true;
			takes = false;
		} else if (!strcmp(a, "--verify")) {
			c.o.verify = true;
			takes = false;
		} else if (!strcmp(a, "--mock-flaps")) {
			c.o.mock_flaps = (int)parse_long(a, v);
		} else if (!strcmp(a, "--no-idempotence")) {
			c.o.idempotence = false;
			takes = false;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (a[0] != '-') {
			if (c.o.scenario) {
				fprintf(stderr, "kafka_scenarios: one scenario at a time\n");
				return 2;
			}
			c.o.scenario = a;
			takes = false;
		} else if (!v) {
			fprintf(stderr, "kafka_scenarios: %s needs a value\n", a);
			return 2;
		} else if (!strcmp(a, "--bootstrap")) {
			c.o.bootstrap = v;
		} else if (!strcmp(a, "--mock-brokers")) {
			c.o.mock_brokers = (int)parse_long(a, v);
		} else if (!strcmp(a, "--topic")) {
			c.o.topic = v;
		} else if (!strcmp(a, "--group")) {
			c.o.group = v;
		} else if (!strcmp(a, "--compression")) {
			c.o.compression = v;
		} else if (!strcmp(a, "--debug")) {
			c.o.debug = v;
		} else if (!strcmp(a, "--partitions")) {
			c.o.partitions = (int)parse_long(a, v);
		} else if (!strcmp(a, "--count")) {
			c.o.count = parse_long(a, v);
		} else if (!strcmp(a, "--count2")) {
			c.o.count2 = parse_long(a, v);
		} else if (!strcmp(a, "--rate")) {
			c.o.rate = parse_long(a, v);
		} else if (!strcmp(a, "--value-size")) {
			c.o.value_size = (int)parse_long(a, v);
		} else if (!strcmp(a, "--timeout")) {
			c.o.timeout_s = (int)parse_long(a, v);
		} else {
			fprintf(stderr, "kafka_scenarios: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
		if (takes)
			i++;
	}
	for (size_t i = 0; c.o.scenario && i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, c.o.scenario))
			sc = &scenarios[i];
	if (!sc || (!c.o.mock == !c.o.bootstrap) || c.o.partitions < 1 ||
	    c.o.partitions > MAX_PARTITIONS || c.o.value_size < 0 || c.o.value_size > 1 << 20 ||
	    c.o.timeout_s < 1) {
		usage(stderr);
		return 2;
	}
	if (c.o.count < 0)
		c.o.count = !strcmp(sc->name, "produce-acked") ? 0 :
			    !strcmp(sc->name, "offsets-for-times") ? 50 :
			    !strcmp(sc->name, "group") ? 3000 : 10000;
	if (c.o.count2 < 0)
		c.o.count2 = 500;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if (c.o.mock) {
		char err[256];
		rd_kafka_conf_t *conf = rd_kafka_conf_new();

		/* The mock cluster lives on its own handle, shared by every client here. */
		conf_set(conf, "client.id", "mock-host");
		conf_set(conf, "log_level", "4"); /* no "no bootstrap.servers" notice */
		c.mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
		if (!c.mock_rk)
			die("cannot create the mock cluster's handle: %s", err);
		c.mock = rd_kafka_mock_cluster_new(c.mock_rk, c.o.mock_brokers);
		if (!c.mock)
			die("cannot start the mock cluster");
		snprintf(c.bootstraps, sizeof(c.bootstraps), "%s",
			 rd_kafka_mock_cluster_bootstraps(c.mock));
	} else {
		snprintf(c.bootstraps, sizeof(c.bootstraps), "%s", c.o.bootstrap);
	}

	rc = sc->fn(&c);
	if (c.mock) {
		rd_kafka_mock_cluster_destroy(c.mock);
		rd_kafka_destroy(c.mock_rk);
	}
	if (rc == 0 && c.failures)
		rc = 1;
	return rc;
}
