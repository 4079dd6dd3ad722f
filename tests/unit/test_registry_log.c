/*
 * test_registry_log.c — the registry's Kafka log (registry/log_kafka.c) against brook's
 * broker running in this process on an ephemeral port: append and apply order, offsets,
 * replay by a second log on the same topic, tombstones, an existing topic reused, and a
 * cluster that is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "registry/log.h"

static const brook_cfg_key data_key[] = {
	{"data", BROOK_CFG_STR, "./var", "data directory", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

typedef struct fixture {
	char dir[64];
	brook_config *cfg;
	broker *b;
	pthread_t thread;
	char bootstrap[64];
} fixture;

static void *broker_thread(void *arg)
{
	broker_run(arg);
	return NULL;
}

static int setup(void **state)
{
	fixture *f = brook_calloc(1, sizeof *f);
	char err[256];
	snprintf(f->dir, sizeof f->dir, "/tmp/brook-reglog-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->cfg = brook_config_new();
	brook_config_register(f->cfg, broker_config_keys);
	brook_config_register(f->cfg, data_key);
	assert_int_equal(brook_config_set_kv(f->cfg, "broker.listen", "127.0.0.1:0", "test", err,
					     sizeof err), BROOK_OK);
	assert_int_equal(brook_config_set_kv(f->cfg, "broker.metrics_listen", "", "test", err,
					     sizeof err), BROOK_OK);
	assert_int_equal(brook_config_set_kv(f->cfg, "data", f->dir, "test", err, sizeof err),
			 BROOK_OK);
	f->b = broker_open(f->cfg, err, sizeof err);
	if (!f->b)
		fail_msg("broker_open: %s", err);
	snprintf(f->bootstrap, sizeof f->bootstrap, "%s", broker_listen_addr(f->b));
	assert_int_equal(pthread_create(&f->thread, NULL, broker_thread, f->b), 0);
	*state = f;
	return 0;
}

static void broker_down(fixture *f)
{
	if (!f->b)
		return;
	broker_stop(f->b);
	pthread_join(f->thread, NULL);
	broker_close(f->b);
	f->b = NULL;
}

static int teardown(void **state)
{
	fixture *f = *state;
	broker_down(f);
	brook_config_free(f->cfg);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	/* librdkafka's background threads end asynchronously after rd_kafka_destroy(). */
	rd_kafka_wait_destroyed(5000);
	return 0;
}

/* What apply saw. */
typedef struct seen {
	pthread_mutex_t mu;
	size_t n;
	int64_t offsets[256];
	char keys[256][32];
	char values[256][32]; /* "<null>" for tombstones */
} seen;

static void seen_init(seen *s)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
}

static void apply(void *arg, int64_t offset, const char *key, size_t klen, const char *value,
		  size_t vlen)
{
	seen *s = arg;
	pthread_mutex_lock(&s->mu);
	assert_true(s->n < 256);
	s->offsets[s->n] = offset;
	snprintf(s->keys[s->n], 32, "%.*s", (int)klen, key ? key : "");
	if (value)
		snprintf(s->values[s->n], 32, "%.*s", (int)vlen, vlen ? value : "");
	else
		snprintf(s->values[s->n], 32, "<null>");
	s->n++;
	pthread_mutex_unlock(&s->mu);
}

static size_t seen_count(seen *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void append_n(reg_log *l, int from, int to)
{
	char err[256];
	for (int i = from; i < to; i++) {
		char k[32], v[32];
		int kl = snprintf(k, sizeof k, "{\"k\":%d}", i);
		int vl = snprintf(v, sizeof v, "{\"v\":%d}", i);
		int64_t off = -1;
		if (l->ops->append(l, k, (size_t)kl, v, (size_t)vl, &off, err, sizeof err) !=
		    BROOK_OK)
			fail_msg("append %d: %s", i, err);
		assert_int_equal(off, i);
		assert_int_equal(l->ops->wait_applied(l, off, 10000), BROOK_OK);
	}
}

static void check_seen(seen *s, int n)
{
	assert_int_equal(seen_count(s), (size_t)n);
	for (int i = 0; i < n; i++) {
		char k[32], v[32];
		snprintf(k, sizeof k, "{\"k\":%d}", i);
		snprintf(v, sizeof v, "{\"v\":%d}", i);
		assert_int_equal(s->offsets[i], i);
		assert_string_equal(s->keys[i], k);
		assert_string_equal(s->values[i], v);
	}
}

/* Append, apply in order, then a second log replays everything before start returns. */
static void test_append_apply_replay(void **state)
{
	fixture *f = *state;
	char err[256];
	int n = 100;
	reg_log *l = reg_log_kafka_new(f->bootstrap, "_schemas", 10000, err, sizeof err);
	if (!l)
		fail_msg("new: %s", err);
	seen s1;
	seen_init(&s1);
	if (l->ops->start(l, apply, &s1, err, sizeof err) != BROOK_OK)
		fail_msg("start: %s", err);
	assert_int_equal(seen_count(&s1), 0);
	/* Nothing at offset 0 yet: waiting times out. */
	assert_int_equal(l->ops->wait_applied(l, 0, 50), BROOK_AGAIN);
	append_n(l, 0, n);
	check_seen(&s1, n);

	/* A second registry on the same topic replays all of it before start returns,
	 * then follows what the first one appends. */
	reg_log *l2 = reg_log_kafka_new(f->bootstrap, "_schemas", 10000, err, sizeof err);
	if (!l2)
		fail_msg("new 2: %s", err);
	seen s2;
	seen_init(&s2);
	if (l2->ops->start(l2, apply, &s2, err, sizeof err) != BROOK_OK)
		fail_msg("start 2: %s", err);
	check_seen(&s2, n);

	/* A tombstone: NULL value. */
	int64_t off = -1;
	assert_int_equal(l->ops->append(l, "{\"k\":0}", 7, NULL, 0, &off, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(off, n);
	assert_int_equal(l->ops->wait_applied(l, off, 10000), BROOK_OK);
	assert_int_equal(l2->ops->wait_applied(l2, off, 10000), BROOK_OK);
	assert_int_equal(seen_count(&s1), (size_t)n + 1);
	assert_int_equal(seen_count(&s2), (size_t)n + 1);
	assert_string_equal(s1.values[n], "<null>");
	assert_string_equal(s2.values[n], "<null>");
	assert_string_equal(s2.keys[n], "{\"k\":0}");
	assert_int_equal(s2.offsets[n], n);

	/* Either may write: the other one applies it. */
	assert_int_equal(l2->ops->append(l2, "a", 1, "b", 1, &off, err, sizeof err), BROOK_OK);
	assert_int_equal(off, n + 1);
	assert_int_equal(l->ops->wait_applied(l, off, 10000), BROOK_OK);
	assert_string_equal(s1.keys[n + 1], "a");
	assert_string_equal(s1.values[n + 1], "b");

	l2->ops->close(l2);
	l->ops->close(l);
	pthread_mutex_destroy(&s1.mu);
	pthread_mutex_destroy(&s2.mu);
}

/* A topic created beforehand (not by the log) is used as it is. */
static void test_existing_topic_and_empty_start(void **state)
{
	fixture *f = *state;
	char err[256];
	reg_log *l = reg_log_kafka_new(f->bootstrap, "schemas_b", 10000, err, sizeof err);
	if (!l)
		fail_msg("new: %s", err);
	l->ops->close(l); /* created, never started */
	l = reg_log_kafka_new(f->bootstrap, "schemas_b", 10000, err, sizeof err);
	if (!l)
		fail_msg("new again: %s", err);
	seen s;
	seen_init(&s);
	if (l->ops->start(l, apply, &s, err, sizeof err) != BROOK_OK)
		fail_msg("start: %s", err);
	assert_int_equal(seen_count(&s), 0);
	append_n(l, 0, 3);
	check_seen(&s, 3);
	l->ops->close(l);
	pthread_mutex_destroy(&s.mu);
}

/* Appends from several threads at once each get their own delivery report. */
typedef struct writer {
	reg_log *l;
	int id;
	int64_t offsets[10];
	int rc;
} writer;

static void *writer_thread(void *arg)
{
	writer *w = arg;
	char err[256];
	w->rc = BROOK_OK;
	for (int i = 0; i < 10 && w->rc == BROOK_OK; i++) {
		char k[32];
		int kl = snprintf(k, sizeof k, "w%d-%d", w->id, i);
		w->rc = w->l->ops->append(w->l, k, (size_t)kl, k, (size_t)kl, &w->offsets[i], err,
					  sizeof err);
	}
	return NULL;
}

static void test_concurrent_appends(void **state)
{
	fixture *f = *state;
	char err[256];
	reg_log *l = reg_log_kafka_new(f->bootstrap, "_schemas", 10000, err, sizeof err);
	if (!l)
		fail_msg("new: %s", err);
	seen s;
	seen_init(&s);
	if (l->ops->start(l, apply, &s, err, sizeof err) != BROOK_OK)
		fail_msg("start: %s", err);
	writer w[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		w[i] = (writer){.l = l, .id = i};
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &w[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	bool used[30] = {false};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(w[i].rc, BROOK_OK);
		for (int j = 0; j < 10; j++) {
			int64_t o = w[i].offsets[j];
			assert_true(o >= 0 && o < 30);
			assert_false(used[o]);
			used[o] = true;
			if (j)
				assert_true(o > w[i].offsets[j - 1]);
		}
	}
	assert_int_equal(l->ops->wait_applied(l, 29, 10000), BROOK_OK);
	assert_int_equal(seen_count(&s), 30);
	/* apply saw each record at the offset its writer was told. */
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 10; j++) {
			char k[32];
			snprintf(k, sizeof k, "w%d-%d", i, j);
			assert_string_equal(s.keys[w[i].offsets[j]], k);
		}
	l->ops->close(l);
	pthread_mutex_destroy(&s.mu);
}

/* An existing topic with 2 partitions and cleanup.policy=delete is used, with warnings. */
static void test_existing_topic_warnings(void **state)
{
	fixture *f = *state;
	char err[256], e[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", f->bootstrap, e, sizeof e),
			 RD_KAFKA_CONF_OK);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	assert_non_null(rk);
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new("plain", 2, 1, e, sizeof e);
	assert_non_null(nt);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
	assert_non_null(ev);
	size_t n = 0;
	const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(
		rd_kafka_event_CreateTopics_result(ev), &n);
	assert_int_equal(n, 1);
	assert_int_equal(rd_kafka_topic_result_error(tr[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_destroy(rk);

	char path[] = "/tmp/brook-reglog-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	brook_log_set_level(BROOK_LOG_WARN);
	brook_log_set_fd(fd);
	reg_log *l = reg_log_kafka_new(f->bootstrap, "plain", 10000, err, sizeof err);
	brook_log_set_fd(2);
	brook_log_set_level(getenv("BROOK_TEST_VERBOSE") ? BROOK_LOG_DEBUG : BROOK_LOG_OFF);
	if (!l)
		fail_msg("new: %s", err);
	char text[4096] = "";
	ssize_t got = pread(fd, text, sizeof text - 1, 0);
	close(fd);
	assert_true(got > 0);
	assert_non_null(strstr(text, "has 2 partitions"));
	assert_non_null(strstr(text, "cleanup.policy=delete"));
	seen s;
	seen_init(&s);
	if (l->ops->start(l, apply, &s, err, sizeof err) != BROOK_OK)
		fail_msg("start: %s", err);
	append_n(l, 0, 2);
	check_seen(&s, 2);
	l->ops->close(l);
	pthread_mutex_destroy(&s.mu);
}

/* Nobody listens: new fails within the timeout with a message naming the address. */
static void test_no_broker(void **state)
{
	(void)state;
	char err[256] = "";
	int64_t t0 = brook_mono_ms();
	reg_log *l = reg_log_kafka_new("127.0.0.1:1", "_schemas", 1500, err, sizeof err);
	int64_t took = brook_mono_ms() - t0;
	assert_null(l);
	assert_true(took < 6000);
	assert_non_null(strstr(err, "127.0.0.1:1"));
	assert_non_null(strstr(err, "is the broker running?"));
}

/* The broker goes away after start: append fails after message.timeout.ms (10 s) with a
 * message, and close still works. */
static void test_broker_gone(void **state)
{
	fixture *f = *state;
	char err[256];
	reg_log *l = reg_log_kafka_new(f->bootstrap, "schemas_c", 10000, err, sizeof err);
	if (!l)
		fail_msg("new: %s", err);
	seen s;
	seen_init(&s);
	if (l->ops->start(l, apply, &s, err, sizeof err) != BROOK_OK)
		fail_msg("start: %s", err);
	append_n(l, 0, 1);
	/* A second log opened while the broker is up, started after it is gone. */
	reg_log *l2 = reg_log_kafka_new(f->bootstrap, "schemas_c", 1500, err, sizeof err);
	if (!l2)
		fail_msg("new 2: %s", err);
	broker_down(f);
	seen s2;
	seen_init(&s2);
	int64_t t1 = brook_mono_ms();
	assert_int_equal(l2->ops->start(l2, apply, &s2, err, sizeof err), BROOK_ERR);
	assert_true(brook_mono_ms() - t1 < 8000);
	assert_non_null(strstr(err, "schemas_c"));
	l2->ops->close(l2);
	pthread_mutex_destroy(&s2.mu);
	int64_t off = -1, t0 = brook_mono_ms();
	assert_int_equal(l->ops->append(l, "x", 1, "y", 1, &off, err, sizeof err), BROOK_ERR);
	assert_true(brook_mono_ms() - t0 < 20000);
	assert_non_null(strstr(err, "schemas_c"));
	assert_int_equal(l->ops->wait_applied(l, 1, 10), BROOK_AGAIN);
	l->ops->close(l);
	pthread_mutex_destroy(&s.mu);
}

int main(void)
{
	brook_log_set_level(getenv("BROOK_TEST_VERBOSE") ? BROOK_LOG_DEBUG : BROOK_LOG_OFF);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_apply_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_topic_and_empty_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_topic_warnings, setup, teardown),
		cmocka_unit_test(test_no_broker),
		cmocka_unit_test_setup_teardown(test_broker_gone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
