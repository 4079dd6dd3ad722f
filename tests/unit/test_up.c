/* Unit tests for up/up.h helpers: endpoints, external-part matching, Prometheus sums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "up/up.h"

static void check_ep(const char *s, const char *host, int port)
{
	char *h = NULL;
	int p = 0;
	assert_int_equal(brook_up_endpoint(s, &h, &p), BROOK_OK);
	assert_string_equal(h, host);
	assert_int_equal(p, port);
	free(h);
}

static void test_endpoint(void **state)
{
	(void)state;
	check_ep("127.0.0.1:9092", "127.0.0.1", 9092);
	check_ep("http://127.0.0.1:8088/api/", "127.0.0.1", 8088);
	check_ep("http://localhost/api", "localhost", 80);
	check_ep("https://sr.example.com", "sr.example.com", 443);
	check_ep("http://u:p@host:81/x", "host", 81);
	check_ep("[::1]:9042", "::1", 9042);
	char *h = NULL;
	int p;
	assert_int_equal(brook_up_endpoint("nohostport", &h, &p), BROOK_ERR);
	assert_int_equal(brook_up_endpoint("http://h:notaport/", &h, &p), BROOK_ERR);
	assert_null(h);
}

static void test_same_endpoint(void **state)
{
	(void)state;
	assert_true(brook_up_same_endpoint("127.0.0.1:9092", "127.0.0.1:9092"));
	assert_true(brook_up_same_endpoint("localhost:9092", "127.0.0.1:9092"));
	assert_true(brook_up_same_endpoint("http://localhost:8081", "127.0.0.1:8081"));
	assert_true(brook_up_same_endpoint("127.0.0.1:9092", "0.0.0.0:9092"));
	assert_false(brook_up_same_endpoint("127.0.0.1:9093", "127.0.0.1:9092"));
	assert_false(brook_up_same_endpoint("10.0.0.5:9092", "127.0.0.1:9092"));
	assert_false(brook_up_same_endpoint("garbage", "127.0.0.1:9092"));
}

static void test_prom_sum(void **state)
{
	(void)state;
	const char *t = "# HELP brook_stream_lag_records lag\n"
			"# TYPE brook_stream_lag_records gauge\n"
			"brook_stream_lag_records{topic=\"a}b\",partition=\"0\"} 3\n"
			"brook_stream_lag_records{partition=\"1\"} 4.5\n"
			"brook_stream_lag_records_other 100\n"
			"brook_stream_records_in_total 12 1700000000000\n";
	double v = 0;
	assert_int_equal(brook_up_prom_sum(t, strlen(t), "brook_stream_lag_records", &v), BROOK_OK);
	assert_true(v == 7.5);
	assert_int_equal(brook_up_prom_sum(t, strlen(t), "brook_stream_records_in_total", &v),
			 BROOK_OK);
	assert_true(v == 12);
	assert_int_equal(brook_up_prom_sum(t, strlen(t), "brook_stream_records_out_total", &v),
			 BROOK_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_same_endpoint),
		cmocka_unit_test(test_prom_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
