/*
 * bench_kafka — Kafka broker benchmark on librdkafka's public API only.
 *
 *   bench_kafka (--bootstrap HOST:PORT [--compare-mock] [--broker-pid PID] | --mock)
 *               [--seconds S (3)] [--rate MSGS_PER_S (50000)] [--partitions N (6)]
 *
 * Figures, each measured on its own fresh N-partition topic:
 *   produce  acks=1 and acks=all, 100 B and 1 KB values: messages acknowledged per
 *            second over S seconds (or 3M messages / 1 GB, whichever comes first) of
 *            producing as fast as the client can (idempotence off, no compression,
 *            linger.ms=5), including the final flush;
 *   consume  100 B and 1 KB: everything the acks=1 run wrote, read from the beginning
 *            with assign(), for at most max(3 S, 10) seconds;
 *   latency  produce->consume at a fixed --rate for S seconds, 100 B and 1 KB: the
 *            payload starts with the send time (CLOCK_MONOTONIC, same process); p50,
 *            p99 and max over every message received. Steady state: the clock starts
 *            once a warm-up message from every partition has come back, so the
 *            consumer's start-up (connect, offset lookup, first fetch) is not counted.
 * One line per figure: "<target> <figure> <value> <unit> ...". With --compare-mock the
 * same figures are measured against an in-process librdkafka mock cluster in the same
 * run, and a "ratio" line per figure gives target/mock (higher is better for
 * throughput, lower for latency). --broker-pid prints the broker's VmHWM and VmRSS
 * from /proc after its measurements.
 * Topics are created with the admin API (CreateTopics) on a real broker and with
 * rd_kafka_mock_topic_create() on the mock; names carry the pid, so runs never collide.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common.h"

#define MAX_FIGURES 16

struct target {
	const char *name;
	char bootstraps[256];
	rd_kafka_t *mock_rk;
	rd_kafka_mock_cluster_t *mock;
	double fig[MAX_FIGURES];
	const char *fig_name[MAX_FIGURES];
	bool lower_better[MAX_FIGURES];
	int nfig;
};

static int g_seconds = 3;
static long g_rate = 50000;
static int g_partitions = 6;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[512];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
		die("config %s=%s refused: %s", k, v, err);
}

static rd_kafka_t *new_handle(struct target *t, rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char err[512];
	rd_kafka_t *rk;

	conf_set(conf, "bootstrap.servers", t->bootstraps);
	conf_set(conf, "api.version.request", "true");
	rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (!rk)
		die("cannot create a client: %s", err);
	return rk;
}

static void record(struct target *t, const char *name, double v, bool lower_better,
		   const char *unit, const char *extra)
{
	if (t->nfig < MAX_FIGURES) {
		t->fig_name[t->nfig] = name;
		t->fig[t->nfig] = v;
		t->lower_better[t->nfig] = lower_better;
		t->nfig++;
	}
	printf("%-6s %-26s %12.1f %-7s %s\n", t->name, name, v, unit, extra ? extra : "");
	fflush(stdout);
}

static void create_topic(struct target *t, const char *topic)
{
	char err[256];
	rd_kafka_t *rk;
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **tr;
	size_t n = 0;

	if (t->mock) {
		if (rd_kafka_mock_topic_create(t->mock, topic, g_partitions, 1))
			die("mock cannot create %s", topic);
		return;
	}
	rk = new_handle(t, RD_KAFKA_PRODUCER, rd_kafka_conf_new());
	nt = rd_kafka_NewTopic_new(topic, g_partitions, 1, err, sizeof(err));
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, 60000);
	if (!ev || rd_kafka_event_error(ev))
		die("cannot create topic %s: %s", topic,
		    ev ? rd_kafka_event_error_string(ev) : "timed out");
	tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
	if (n != 1 || (rd_kafka_topic_result_error(tr[0]) &&
		       rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS))
		die("cannot create topic %s: %s", topic,
		    n ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
	rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_destroy(rk);
}

/* ---------- producer throughput ---------- */

struct dr_count {
	long ok;
	long failed;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct dr_count *d = opaque;

	(void)rk;
	if (m->err)
		d->failed++;
	else
		d->ok++;
}

static rd_kafka_t *bench_producer(struct target *t, const char *acks, const char *linger,
				  struct dr_count *d)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	conf_set(conf, "acks", acks);
	conf_set(conf, "linger.ms", linger);
	conf_set(conf, "batch.size", "1000000");
	conf_set(conf, "queue.buffering.max.messages", "1000000");
	conf_set(conf, "queue.buffering.max.kbytes", "1048576");
	conf_set(conf, "message.timeout.ms", "120000");
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, d);
	return new_handle(t, RD_KAFKA_PRODUCER, conf);
}

static long bench_produce(struct target *t, const char *topic, const char *acks, int size,
			  const char *figure)
{
	struct dr_count d = { 0 };
	rd_kafka_t *rk = bench_producer(t, acks, "5", &d);
	char *val = malloc((size_t)size);
	int64_t start, stop;
	long sent = 0, max_msgs = 1000000000L / size < 3000000 ? 1000000000L / size : 3000000;
	double secs;
	char extra[96];

	memset(val, 'x', (size_t)size);
	create_topic(t, topic);
	start = now_ns();
	stop = start + (int64_t)g_seconds * 1000000000;
	/* At most S seconds and min(3M messages, 1 GB): the consume figure reads it all. */
	while (now_ns() < stop && sent < max_msgs) {
		for (int i = 0; i < 1000; i++) {
			rd_kafka_resp_err_t err = rd_kafka_producev(
				rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(val, (size_t)size),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);

			if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				rd_kafka_poll(rk, 1);
				break;
			}
			if (err)
				die("produce: %s", rd_kafka_err2str(err));
			sent++;
		}
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 120000);
	secs = (now_ns() - start) / 1e9;
	snprintf(extra, sizeof(extra), "%.1f MB/s, %ld msgs, %ld failed",
		 d.ok * (double)size / secs / 1e6, d.ok, d.failed);
	record(t, figure, d.ok / secs, false, "msgs/s", extra);
	rd_kafka_destroy(rk);
	free(val);
	return d.ok;
}

/* ---------- consumer throughput ---------- */

static rd_kafka_t *bench_consumer(struct target *t, const char *topic, int64_t offset)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(g_partitions);
	rd_kafka_t *rk;

	conf_set(conf, "group.id", "bench_kafka");
	conf_set(conf, "enable.auto.commit", "false");
	conf_set(conf, "fetch.wait.max.ms", "100");
	conf_set(conf, "queued.max.messages.kbytes", "262144");
	rk = new_handle(t, RD_KAFKA_CONSUMER, conf);
	rd_kafka_poll_set_consumer(rk);
	for (int p = 0; p < g_partitions; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = offset;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	return rk;
}

static void bench_consume(struct target *t, const char *topic, long expect, const char *figure)
{
	rd_kafka_t *rk = bench_consumer(t, topic, RD_KAFKA_OFFSET_BEGINNING);
	/* Bounded: at most max(3 S, 10) seconds; the figure is what was read per second. */
	int64_t start = now_ns();
	int64_t deadline = start + (g_seconds * 3 > 10 ? g_seconds * 3 : 10) * 1000000000LL;
	long n = 0;
	double bytes = 0, secs;
	char extra[96];

	while (n < expect && now_ns() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (!m)
			continue;
		if (!m->err) {
			n++;
			bytes += (double)m->len;
		}
		rd_kafka_message_destroy(m);
	}
	secs = (now_ns() - start) / 1e9;
	snprintf(extra, sizeof(extra), "%.1f MB/s, %ld of %ld msgs", bytes / secs / 1e6, n,
		 expect);
	record(t, figure, n / secs, false, "msgs/s", extra);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

/* ---------- produce -> consume latency at a fixed rate ---------- */

struct lat_state {
	struct target *t;
	const char *topic;
	volatile int stop;
	volatile int ready;
	volatile uint64_t warm; /* bit p: a warm-up message from partition p came back */
	int64_t *lat; /* ns */
	long n;
	long cap;
};

static void *lat_consumer(void *arg)
{
	struct lat_state *ls = arg;
	rd_kafka_t *rk = bench_consumer(ls->t, ls->topic, RD_KAFKA_OFFSET_BEGINNING);

	ls->ready = 1;
	while (!ls->stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
		int64_t sent;

		if (!m)
			continue;
		if (!m->err && m->len >= sizeof(sent) && ls->n < ls->cap) {
			memcpy(&sent, m->payload, sizeof(sent));
			if (sent == 0) /* warm-up */
				ls->warm |= 1ull << (m->partition & 63);
			else
				ls->lat[ls->n++] = now_ns() - sent;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void bench_latency(struct target *t, const char *topic, int size, const char *f50,
			  const char *f99)
{
	struct dr_count d = { 0 };
	rd_kafka_t *rk = bench_producer(t, "1", "0", &d);
	struct lat_state ls = { .t = t, .topic = topic };
	char *val = malloc((size_t)size < 8 ? 8 : (size_t)size);
	pthread_t th;
	int64_t start, end;
	long sent = 0, total = g_rate * g_seconds;
	char extra[128];

	memset(val, 'y', (size_t)size);
	create_topic(t, topic);
	ls.cap = total + 16;
	ls.lat = calloc((size_t)ls.cap, sizeof(*ls.lat));
	pthread_create(&th, NULL, lat_consumer, &ls);
	while (!ls.ready)
		usleep(1000);
	/* Steady state only: warm up until a message from every partition came back (the
	 * consumer has connected, resolved offsets and is fetching everywhere). */
	memset(val, 0, sizeof(int64_t));
	uint64_t all = g_partitions >= 64 ? ~0ull : (1ull << g_partitions) - 1;
	for (int i = 0; i < 1000 && (ls.warm & all) != all; i++) {
		for (int p = 0; p < g_partitions; p++)
			rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
					  RD_KAFKA_V_VALUE(val, (size_t)size),
					  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		rd_kafka_poll(rk, 0);
		usleep(10000);
	}
	rd_kafka_flush(rk, 10000);
	d.ok = 0; /* warm-up deliveries are not part of the figure */
	start = now_ns();
	end = start + (int64_t)g_seconds * 1000000000;
	while (sent < total && now_ns() < end + 1000000000) {
		/* Send what the schedule says is due by now, then sleep ~0.2 ms. */
		long due = (long)((now_ns() - start) * (double)g_rate / 1e9);

		while (sent < due && sent < total) {
			int64_t ts = now_ns();

			memcpy(val, &ts, sizeof(ts));
			if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
					      RD_KAFKA_V_VALUE(val, (size_t)size),
					      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					      RD_KAFKA_V_END))
				break;
			sent++;
		}
		rd_kafka_poll(rk, 0);
		usleep(200);
	}
	rd_kafka_flush(rk, 60000);
	for (int i = 0; i < 100 && ls.n < d.ok; i++)
		usleep(50000);
	ls.stop = 1;
	pthread_join(th, NULL);
	if (ls.n == 0)
		die("latency: no message came back from %s", topic);
	qsort(ls.lat, (size_t)ls.n, sizeof(*ls.lat), cmp_i64);
	snprintf(extra, sizeof(extra), "at %ld msgs/s, %ld of %ld received, max %.2f ms",
		 g_rate, ls.n, sent, ls.lat[ls.n - 1] / 1e6);
	record(t, f50, ls.lat[ls.n / 2] / 1e6, true, "ms", extra);
	record(t, f99, ls.lat[(long)(ls.n * 0.99)] / 1e6, true, "ms", extra);
	rd_kafka_destroy(rk);
	free(ls.lat);
	free(val);
}

/* ---------- driver ---------- */

static void print_rss(const char *name, long pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "bench_kafka: cannot read %s\n", path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmHWM:", 6) || !strncmp(line, "VmRSS:", 6)) {
			long kb = strtol(line + 6, NULL, 10);

			printf("%-6s %-26s %12.1f MB\n", name,
			       !strncmp(line, "VmHWM:", 6) ? "broker_rss_peak" : "broker_rss_now",
			       kb / 1024.0);
		}
	}
	fclose(f);
}

static void run_all(struct target *t)
{
	static const int sizes[2] = { 100, 1000 };
	static const char *const size_name[2] = { "100B", "1KB" };
	char topic[128];
	static char names[32][48];
	int ni = 0;

	for (int s = 0; s < 2; s++) {
		long written;

		snprintf(topic, sizeof(topic), "bench-%s-%ld-p1-%s", t->name, (long)getpid(),
			 size_name[s]);
		snprintf(names[ni], sizeof(names[ni]), "produce_acks1_%s", size_name[s]);
		written = bench_produce(t, topic, "1", sizes[s], names[ni++]);
		snprintf(names[ni], sizeof(names[ni]), "consume_%s", size_name[s]);
		bench_consume(t, topic, written, names[ni++]);
		snprintf(topic, sizeof(topic), "bench-%s-%ld-pall-%s", t->name, (long)getpid(),
			 size_name[s]);
		snprintf(names[ni], sizeof(names[ni]), "produce_acksall_%s", size_name[s]);
		bench_produce(t, topic, "all", sizes[s], names[ni++]);
	}
	for (int s = 0; s < 2; s++) {
		snprintf(topic, sizeof(topic), "bench-%s-%ld-lat-%s", t->name, (long)getpid(),
			 size_name[s]);
		snprintf(names[ni], sizeof(names[ni]), "latency_p50_%s", size_name[s]);
		snprintf(names[ni + 1], sizeof(names[ni + 1]), "latency_p99_%s", size_name[s]);
		bench_latency(t, topic, sizes[s], names[ni], names[ni + 1]);
		ni += 2;
	}
}

static void start_mock(struct target *t)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	conf_set(conf, "log_level", "4");
	t->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!t->mock_rk)
		die("cannot create the mock cluster's handle: %s", err);
	t->mock = rd_kafka_mock_cluster_new(t->mock_rk, 1);
	if (!t->mock)
		die("cannot start the mock cluster");
	snprintf(t->bootstraps, sizeof(t->bootstraps), "%s",
		 rd_kafka_mock_cluster_bootstraps(t->mock));
}

static void stop_mock(struct target *t)
{
	rd_kafka_mock_cluster_destroy(t->mock);
	rd_kafka_destroy(t->mock_rk);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_kafka (--bootstrap HOST:PORT [--compare-mock] [--broker-pid PID]"
		" | --mock)\n"
		"                   [--seconds S (3)] [--rate MSGS_PER_S (50000)]"
		" [--partitions N (6)]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *bootstrap = NULL;
	bool mock_only = false, compare = false;
	long broker_pid = 0;
	static struct target brook = { .name = "brook" }, mock = { .name = "mock" };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--mock")) {
			mock_only = true;
		} else if (!strcmp(a, "--compare-mock")) {
			compare = true;
		} else if (!v) {
			usage();
		} else if (!strcmp(a, "--bootstrap")) {
			bootstrap = v;
			i++;
		} else if (!strcmp(a, "--seconds")) {
			g_seconds = atoi(v);
			i++;
		} else if (!strcmp(a, "--rate")) {
			g_rate = atol(v);
			i++;
		} else if (!strcmp(a, "--partitions")) {
			g_partitions = atoi(v);
			i++;
		} else if (!strcmp(a, "--broker-pid")) {
			broker_pid = atol(v);
			i++;
		} else {
			usage();
		}
	}
	if (mock_only == !!bootstrap || g_seconds < 1 || g_rate < 1 || g_partitions < 1)
		usage();

	printf("# bench_kafka: %d partitions, %d s per figure, latency at %ld msgs/s, "
	       "librdkafka %s\n", g_partitions, g_seconds, g_rate, rd_kafka_version_str());
	if (bootstrap) {
		snprintf(brook.bootstraps, sizeof(brook.bootstraps), "%s", bootstrap);
		run_all(&brook);
		if (broker_pid)
			print_rss(brook.name, broker_pid);
	}
	if (mock_only || compare) {
		start_mock(&mock);
		run_all(&mock);
		stop_mock(&mock);
	}
	if (bootstrap && compare) {
		for (int i = 0; i < brook.nfig && i < mock.nfig; i++)
			printf("ratio  %-26s %12.2f brook/mock (%s is better)\n", brook.fig_name[i],
			       mock.fig[i] > 0 ? brook.fig[i] / mock.fig[i] : 0.0,
			       brook.lower_better[i] ? "lower" : "higher");
	}
	return 0;
}
