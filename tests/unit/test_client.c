/* Unit tests for source/client: option defaults agree with the configuration table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/buf.h"
#include "source/client.h"

static void test_defaults_match_config_table(void **state)
{
	(void)state;
	source_client_opts a, b;
	source_client_opts_default(&a);
	brook_config *cfg = brook_config_new();
	brook_config_register(cfg, source_config_keys);
	source_client_opts_default(&b);
	source_client_opts_from_config(&b, cfg);
	assert_string_equal(a.url, b.url);
	assert_int_equal(a.connect_timeout_ms, b.connect_timeout_ms);
	assert_int_equal(a.timeout_ms, b.timeout_ms);
	assert_int_equal(a.max_retries, b.max_retries);
	assert_int_equal(a.backoff_initial_ms, b.backoff_initial_ms);
	assert_int_equal(a.backoff_max_ms, b.backoff_max_ms);
	assert_true(a.rate == b.rate);
	brook_config_free(cfg);
}

static void test_request_url(void **state)
{
	(void)state;
	source_client_opts o;
	source_client_opts_default(&o);
	o.url = "http://127.0.0.1:1/api/";
	o.results = 7;
	o.seed = "a b&c";
	o.page = 3;
	o.nat = "gb,fr";
	char err[256];
	source_client *c = source_client_new(&o, err, sizeof err);
	assert_non_null(c);
	brook_buf u = BROOK_BUF_INIT;
	source_client_url(c, &u);
	assert_non_null(strstr(u.data, "http://127.0.0.1:1/api/?"));
	assert_non_null(strstr(u.data, "results=7"));
	assert_non_null(strstr(u.data, "page=3"));
	assert_null(strstr(u.data, "a b&c")); /* the seed is escaped */
	brook_buf_release(&u);
	source_client_free(c);
	o.results = 5001;
	assert_null(source_client_new(&o, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_config_table),
		cmocka_unit_test(test_request_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
