/*
 * Unit tests for core/metrics: exact Prometheus text, escaping, numbers, threads.
 * Non-integral numbers use the shortest decimal that reads back to the same double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>

#include "core/buf.h"
#include "core/metrics.h"

static char *render(brook_metrics *m)
{
	brook_buf b = BROOK_BUF_INIT;

	brook_metrics_render(m, &b);
	return brook_buf_detach(&b, NULL);
}

static void assert_render(brook_metrics *m, const char *want)
{
	char *got = render(m);

	if (strcmp(got, want) != 0)
		fail_msg("rendered:\n%s\nwanted:\n%s", got, want);
	free(got);
}

static void test_counter_gauge(void **state)
{
	brook_metrics *m = brook_metrics_new();
	brook_metric *c, *g;

	(void)state;
	assert_render(m, "");
	c = brook_metrics_counter(m, "brook_source_users_total", "Users fetched.");
	g = brook_metrics_gauge(m, "brook_temperature", "A gauge.");
	brook_metric_add(c, 5000);
	brook_metric_inc(c);
	brook_metric_add(c, -3); /* ignored: counters never go down */
	brook_metric_set(g, -2.5);
	brook_metric_add(g, 0.25);
	assert_true(brook_metric_value(c) == 5001);
	assert_true(brook_metric_value(g) == -2.25);
	/* Same name and type: the same series. */
	assert_ptr_equal(brook_metrics_counter(m, "brook_source_users_total", "x"), c);
	assert_render(m, "# HELP brook_source_users_total Users fetched.\n"
	                 "# TYPE brook_source_users_total counter\n"
	                 "brook_source_users_total 5001\n"
	                 "# HELP brook_temperature A gauge.\n"
	                 "# TYPE brook_temperature gauge\n"
	                 "brook_temperature -2.25\n");
	brook_metrics_free(m);
}

static void test_labels_and_escaping(void **state)
{
	brook_metrics *m = brook_metrics_new();
	const char *names[] = {"topic", "partition", NULL};
	brook_metric_family *f;
	brook_metric *a, *b;

	(void)state;
	f = brook_metrics_family(m, BROOK_METRIC_GAUGE, "brook_lag", "Lag with \\ and\nnewline.",
	                         names);
	a = brook_metrics_series(f, (const char *[]){"users", "0", NULL});
	b = brook_metrics_series(f, (const char *[]){"we\"ird\\top\nic", "1", NULL});
	assert_ptr_equal(brook_metrics_series(f, (const char *[]){"users", "0", NULL}), a);
	assert_ptr_not_equal(a, b);
	brook_metric_set(a, 42);
	brook_metric_set(b, 0.1);
	assert_ptr_equal(brook_metrics_family(m, BROOK_METRIC_GAUGE, "brook_lag", "", names), f);
	assert_render(m, "# HELP brook_lag Lag with \\\\ and\\nnewline.\n"
	                 "# TYPE brook_lag gauge\n"
	                 "brook_lag{topic=\"users\",partition=\"0\"} 42\n"
	                 "brook_lag{topic=\"we\\\"ird\\\\top\\nic\",partition=\"1\"} 0.1\n");
	brook_metrics_free(m);
}

static void test_numbers(void **state)
{
	const struct {
		double v;
		const char *s;
	} cases[] = {
	    {0, "0"},
	    {-0.0, "0"},
	    {5000, "5000"},
	    {-7, "-7"},
	    {1e15, "1000000000000000"},
	    {0.005, "0.005"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {1.0 / 3, "0.3333333333333333"},
	    {1e300, "1e+300"},
	    {123456.789, "123456.789"},
	    {0.1 + 0.7, "0.7999999999999999"},
	    {2.5e-7, "2.5e-07"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	    {NAN, "NaN"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		brook_buf b = BROOK_BUF_INIT;

		brook_metrics_put_number(&b, cases[i].v);
		if (strcmp(b.data, cases[i].s) != 0)
			fail_msg("case %zu: got %s want %s", i, b.data, cases[i].s);
		brook_buf_release(&b);
	}
}

static void test_histogram(void **state)
{
	brook_metrics *m = brook_metrics_new();
	const double bounds[] = {0.005, 0.1, 1};
	const char *names[] = {"route", NULL};
	brook_metric_family *f;
	brook_metric *s;

	(void)state;
	f = brook_metrics_histogram_family(m, "brook_http_seconds", "Request time.", names, bounds,
	                                   3);
	s = brook_metrics_series(f, (const char *[]){"/api", NULL});
	brook_metric_observe(s, 0.005); /* upper bounds are inclusive */
	brook_metric_observe(s, 0.05);
	brook_metric_observe(s, 0.25);
	brook_metric_observe(s, 7);
	assert_true(brook_metric_value(s) == 4);
	assert_render(m, "# HELP brook_http_seconds Request time.\n"
	                 "# TYPE brook_http_seconds histogram\n"
	                 "brook_http_seconds_bucket{route=\"/api\",le=\"0.005\"} 1\n"
	                 "brook_http_seconds_bucket{route=\"/api\",le=\"0.1\"} 2\n"
	                 "brook_http_seconds_bucket{route=\"/api\",le=\"1\"} 3\n"
	                 "brook_http_seconds_bucket{route=\"/api\",le=\"+Inf\"} 4\n"
	                 "brook_http_seconds_sum{route=\"/api\"} 7.305\n"
	                 "brook_http_seconds_count{route=\"/api\"} 4\n");
	brook_metrics_free(m);
}

static void test_histogram_default_buckets(void **state)
{
	brook_metrics *m = brook_metrics_new();
	brook_metric *h = brook_metrics_histogram(m, "brook_lat", "Latency.");
	char *out;

	(void)state;
	brook_metric_observe(h, 0.0001);
	brook_metric_observe(h, 3);
	out = render(m);
	assert_non_null(strstr(out, "brook_lat_bucket{le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(out, "brook_lat_bucket{le=\"2.5\"} 1\n"));
	assert_non_null(strstr(out, "brook_lat_bucket{le=\"5\"} 2\n"));
	assert_non_null(strstr(out, "brook_lat_bucket{le=\"10\"} 2\n"));
	assert_non_null(strstr(out, "brook_lat_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(out, "brook_lat_sum 3.0001\n"));
	assert_non_null(strstr(out, "brook_lat_count 2\n"));
	free(out);
	brook_metrics_free(m);
}

#define THREADS 4
#define ITERS   20000

struct worker {
	brook_metrics *m;
	brook_metric *shared;
	brook_metric *hist;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const char *names[] = {"k", NULL};
	brook_metric_family *f;
	brook_metric *s;
	int i;

	/* Concurrent lookups of the same labelled series must find one series. */
	f = brook_metrics_family(w->m, BROOK_METRIC_COUNTER, "brook_ops_total", "Ops.", names);
	s = brook_metrics_series(f, (const char *[]){"same", NULL});
	for (i = 0; i < ITERS; i++) {
		brook_metric_inc(w->shared);
		brook_metric_add(s, 0.5);
		brook_metric_observe(w->hist, (i % 4) * 0.5);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	brook_metrics *m = brook_metrics_new();
	const double bounds[] = {0.75};
	struct worker w;
	pthread_t th[THREADS];
	char *out;
	int i;

	(void)state;
	w.m = m;
	w.shared = brook_metrics_counter(m, "brook_events_total", "Events.");
	w.hist = brook_metrics_series(
	    brook_metrics_histogram_family(m, "brook_h", "H.", NULL, bounds, 1), NULL);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_true(brook_metric_value(w.shared) == THREADS * ITERS);
	assert_true(brook_metric_value(w.hist) == THREADS * ITERS);
	out = render(m);
	assert_non_null(strstr(out, "brook_events_total 80000\n"));
	assert_non_null(strstr(out, "brook_ops_total{k=\"same\"} 40000\n"));
	/* ...and only one such series line. */
	assert_null(strstr(strchr(strstr(out, "brook_ops_total{"), '\n'), "brook_ops_total{"));
	assert_non_null(strstr(out, "brook_h_bucket{le=\"0.75\"} 40000\n"));
	assert_non_null(strstr(out, "brook_h_bucket{le=\"+Inf\"} 80000\n"));
	/* 0 + 0.5 + 1 + 1.5 per four observations; exact in binary. */
	assert_non_null(strstr(out, "brook_h_sum 60000\n"));
	free(out);
	brook_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter_gauge),
	    cmocka_unit_test(test_labels_and_escaping),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_histogram),
	    cmocka_unit_test(test_histogram_default_buckets),
	    cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
