/*
 * test_http.c — brook_httpd and brook_httpc against each other on 127.0.0.1.
 *
 * One server (ephemeral port, 4 worker threads, 1 KiB body limit) with a small route
 * table is started for the whole group; each test drives it with a brook_httpc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/httpd.h"
#include "core/err.h"
#include "core/httpc.h"
#include "core/log.h"
#include "core/timeutil.h"

static brook_httpd *srv;
static char base[64];

static void h_hello(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	resp->content_type = "text/plain";
	brook_buf_puts(&resp->body, "hello world");
}

static void h_params(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)arg;
	brook_buf_printf(&resp->body, "id=%s part=%s path=%s", brook_http_param(req, "id"),
			 brook_http_param(req, "part"), brook_http_path(req));
}

static void h_wild(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)arg;
	brook_buf_printf(&resp->body, "rest=%s", brook_http_param(req, "*"));
}

static void h_query(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	const char *a = brook_http_query(req, "a"), *b = brook_http_query(req, "b");

	(void)arg;
	brook_buf_printf(&resp->body, "a=%s b=%s", a ? a : "(null)", b ? b : "(null)");
}

static void h_echo(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	size_t len;
	const char *body = brook_http_body(req, &len);

	(void)arg;
	resp->status = 201;
	resp->content_type = "application/octet-stream";
	brook_buf_append(&resp->body, body, len);
}

static void h_headers(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	const char *ua = brook_http_header(req, "user-agent");
	const char *none = brook_http_header(req, "X-Not-Sent");

	(void)arg;
	brook_buf_printf(&resp->body, "ua=%s none=%s", ua ? ua : "(null)",
			 none ? none : "(null)");
}

static void h_retry(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	brook_http_set_header(resp, "Retry-After", "7");
	brook_http_error(resp, 429, 42901, "slow down, %s", "please");
}

static void h_retry_date(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	char date[64];
	time_t t = time(NULL) + 3600;
	struct tm tm;

	(void)req;
	(void)arg;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	brook_http_set_header(resp, "Retry-After", date);
	resp->status = 503;
}

static void h_slow(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	brook_sleep_ms(1500);
	brook_buf_puts(&resp->body, "late");
}

static const brook_http_route routes[] = {
	{"GET", "/hello", h_hello, NULL},
	{"GET", "/items/{id}/parts/{part}", h_params, NULL},
	{"GET", "/files/*", h_wild, NULL},
	{"GET", "/q", h_query, NULL},
	{"POST", "/echo", h_echo, NULL},
	{"DELETE", "/echo", h_echo, NULL},
	{"GET", "/headers", h_headers, NULL},
	{"GET", "/retry", h_retry, NULL},
	{"GET", "/retry-date", h_retry_date, NULL},
	{"GET", "/slow", h_slow, NULL},
};

static int group_setup(void **state)
{
	brook_httpd_opts o = {.host = "127.0.0.1", .port = 0, .threads = 4,
			      .max_body_bytes = 1024, .component = "test"};
	char err[256];

	(void)state;
	brook_log_set_level(BROOK_LOG_ERROR);
	srv = brook_httpd_open(&o, routes, sizeof routes / sizeof routes[0], err, sizeof err);
	if (!srv) {
		fprintf(stderr, "cannot start server: %s\n", err);
		return -1;
	}
	snprintf(base, sizeof base, "http://127.0.0.1:%d", brook_httpd_port(srv));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	brook_httpd_close(srv);
	return 0;
}

/* GET base+path with a fresh client; returns the request's return code. */
static int get(const char *path, brook_httpc_result *res)
{
	brook_httpc *c = brook_httpc_new(NULL);
	char url[256];
	int rc;

	snprintf(url, sizeof url, "%s%s", base, path);
	rc = brook_httpc_get(c, url, res);
	brook_httpc_free(c);
	return rc;
}

static void test_port_is_ephemeral(void **state)
{
	(void)state;
	assert_true(brook_httpd_port(srv) > 0);
}

static void test_get_200(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/hello", &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "hello world");
	assert_int_equal(res.body.len, 11);
	assert_string_equal(res.content_type, "text/plain");
	assert_true(res.retry_after_ms == -1);
	brook_httpc_result_release(&res);
}

static void test_params_decoded(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/items/a%2Fb/parts/x%20y", &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "id=a/b part=x y path=/items/a/b/parts/x y");
	brook_httpc_result_release(&res);
}

static void test_wildcard(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/files/a/b%2Ec", &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "rest=a/b.c");
	brook_httpc_result_release(&res);
	assert_int_equal(get("/files", &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "rest=");
	brook_httpc_result_release(&res);
}

static void test_query(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/q?a=1%262&b=caf%C3%A9", &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "a=1&2 b=caf\xc3\xa9");
	brook_httpc_result_release(&res);
	assert_int_equal(get("/q", &res), BROOK_OK);
	assert_string_equal(res.body.data, "a=(null) b=(null)");
	brook_httpc_result_release(&res);
}

static void test_404(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/nope", &res), BROOK_OK);
	assert_int_equal(res.status, 404);
	assert_string_equal(res.content_type, "application/json");
	assert_non_null(strstr(res.body.data, "\"error_code\":404"));
	assert_non_null(strstr(res.body.data, "\"message\":"));
	brook_httpc_result_release(&res);
	/* A prefix of a pattern is not a match. */
	assert_int_equal(get("/items/1", &res), BROOK_OK);
	assert_int_equal(res.status, 404);
	brook_httpc_result_release(&res);
}

static void test_405_allow(void **state)
{
	brook_httpc *c = brook_httpc_new(NULL);
	brook_httpc_result res;
	char url[256];

	(void)state;
	snprintf(url, sizeof url, "%s/echo", base);
	assert_int_equal(brook_httpc_request(c, "PUT", url, "text/plain", "x", 1, &res), BROOK_OK);
	assert_int_equal(res.status, 405);
	assert_non_null(strstr(res.body.data, "\"error_code\":405"));
	assert_non_null(strstr(res.body.data, "POST, DELETE"));
	brook_httpc_result_release(&res);
	brook_httpc_free(c);
}

static void test_post_echo_and_headers(void **state)
{
	brook_httpc *c = brook_httpc_new(NULL);
	brook_httpc_result res;
	char url[256];

	(void)state;
	snprintf(url, sizeof url, "%s/echo", base);
	assert_int_equal(brook_httpc_request(c, "POST", url, "text/plain", "a\0b\nc", 5, &res),
			 BROOK_OK);
	assert_int_equal(res.status, 201);
	assert_int_equal(res.body.len, 5);
	assert_memory_equal(res.body.data, "a\0b\nc", 5);
	assert_string_equal(res.content_type, "application/octet-stream");
	brook_httpc_result_release(&res);
	/* Same client again (keep-alive), another method on the same path. */
	assert_int_equal(brook_httpc_request(c, "DELETE", url, NULL, NULL, 0, &res), BROOK_OK);
	assert_int_equal(res.status, 201);
	assert_int_equal(res.body.len, 0);
	brook_httpc_result_release(&res);
	/* A body exactly at the limit is accepted. */
	char big[1024];
	memset(big, 'z', sizeof big);
	assert_int_equal(brook_httpc_request(c, "POST", url, NULL, big, sizeof big, &res),
			 BROOK_OK);
	assert_int_equal(res.status, 201);
	assert_int_equal(res.body.len, sizeof big);
	brook_httpc_result_release(&res);
	brook_httpc_free(c);
}

static void test_request_headers(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/headers", &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body.data, "ua=brook/" BROOK_VERSION " none=(null)");
	brook_httpc_result_release(&res);
}

/* The handler's extra header (Retry-After) reaches the client and is parsed. */
static void test_retry_after_seconds(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/retry", &res), BROOK_OK);
	assert_int_equal(res.status, 429);
	assert_int_equal(res.retry_after_ms, 7000);
	assert_non_null(strstr(res.body.data, "\"error_code\":42901"));
	assert_non_null(strstr(res.body.data, "slow down, please"));
	brook_httpc_result_release(&res);
}

static void test_retry_after_date(void **state)
{
	brook_httpc_result res;

	(void)state;
	assert_int_equal(get("/retry-date", &res), BROOK_OK);
	assert_int_equal(res.status, 503);
	/* One hour ahead, give or take the clock's second boundaries. */
	assert_true(res.retry_after_ms > 3500 * 1000);
	assert_true(res.retry_after_ms <= 3601 * 1000);
	brook_httpc_result_release(&res);
}

static void test_413(void **state)
{
	brook_httpc *c = brook_httpc_new(NULL);
	brook_httpc_result res;
	char url[256], *big = calloc(1, 5000);

	(void)state;
	memset(big, 'x', 5000);
	snprintf(url, sizeof url, "%s/echo", base);
	assert_int_equal(brook_httpc_request(c, "POST", url, NULL, big, 5000, &res), BROOK_OK);
	assert_int_equal(res.status, 413);
	assert_non_null(strstr(res.body.data, "\"error_code\":413"));
	brook_httpc_result_release(&res);
	/* The client still works afterwards. */
	snprintf(url, sizeof url, "%s/hello", base);
	assert_int_equal(brook_httpc_get(c, url, &res), BROOK_OK);
	assert_int_equal(res.status, 200);
	brook_httpc_result_release(&res);
	free(big);
	brook_httpc_free(c);
}

static void test_client_timeout(void **state)
{
	brook_httpc_opts o = {.timeout_ms = 300};
	brook_httpc *c = brook_httpc_new(&o);
	brook_httpc_result res;
	char url[256];

	(void)state;
	snprintf(url, sizeof url, "%s/slow", base);
	assert_int_equal(brook_httpc_get(c, url, &res), BROOK_ERR);
	assert_int_equal(res.transport_timeout, 1);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.error, url));
	brook_httpc_result_release(&res);
	brook_httpc_free(c);
}

static void test_client_body_limit(void **state)
{
	brook_httpc_opts o = {.max_body_bytes = 5};
	brook_httpc *c = brook_httpc_new(&o);
	brook_httpc_result res;
	char url[256];

	(void)state;
	snprintf(url, sizeof url, "%s/hello", base);
	assert_int_equal(brook_httpc_get(c, url, &res), BROOK_ERR);
	assert_non_null(strstr(res.error, "exceeds 5 bytes"));
	assert_int_equal(res.transport_timeout, 0);
	brook_httpc_result_release(&res);
	brook_httpc_free(c);
}

static void test_connection_refused(void **state)
{
	brook_httpd_opts o = {.host = "127.0.0.1", .port = 0, .threads = 1};
	char err[256], url[64];
	brook_httpd *tmp;
	brook_httpc *c;
	brook_httpc_result res;

	(void)state;
	tmp = brook_httpd_open(&o, routes, 1, err, sizeof err);
	assert_non_null(tmp);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", brook_httpd_port(tmp));
	brook_httpd_close(tmp);
	c = brook_httpc_new(NULL);
	assert_int_equal(brook_httpc_get(c, url, &res), BROOK_ERR);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.transport_timeout, 0);
	assert_true(strlen(res.error) > 0);
	assert_non_null(strstr(res.error, url));
	brook_httpc_result_release(&res);
	brook_httpc_free(c);
}

static void test_ipv6_and_bad_listen(void **state)
{
	brook_httpd_opts o = {.host = "::1", .port = 0, .threads = 1};
	brook_httpd_opts bad = {.host = "not an address!", .port = 0, .threads = 1};
	char err[256] = "";
	brook_httpd *h;

	(void)state;
	assert_null(brook_httpd_open(&bad, routes, 1, err, sizeof err));
	assert_true(strlen(err) > 0);
	h = brook_httpd_open(&o, routes, 1, err, sizeof err);
	if (!h) /* no IPv6 loopback in this sandbox: nothing more to check */
		return;
	assert_true(brook_httpd_port(h) > 0);
	brook_httpd_close(h);
}

static void test_bad_route(void **state)
{
	static const brook_http_route bad[] = {{"GET", "no-slash", h_hello, NULL}};
	brook_httpd_opts o = {.host = "127.0.0.1"};
	char err[256] = "";

	(void)state;
	assert_null(brook_httpd_open(&o, bad, 1, err, sizeof err));
	assert_non_null(strstr(err, "no-slash"));
}

static void test_parse_hostport(void **state)
{
	static const struct {
		const char *in;
		int ok;
		const char *host;
		int port;
	} cases[] = {
		{"127.0.0.1:8088", 1, "127.0.0.1", 8088},
		{"[::1]:8088", 1, "::1", 8088},
		{":8088", 1, "127.0.0.1", 8088},
		{"localhost:1", 1, "localhost", 1},
		{"0.0.0.0:0", 1, "0.0.0.0", 0},
		{"host:65535", 1, "host", 65535},
		{"host:65536", 0, NULL, 0},
		{"host:-1", 0, NULL, 0},
		{"host:", 0, NULL, 0},
		{"host", 0, NULL, 0},
		{"", 0, NULL, 0},
		{"::1:80", 0, NULL, 0},
		{"[::1]80", 0, NULL, 0},
		{"[]:80", 0, NULL, 0},
		{"host:80x", 0, NULL, 0},
		{"host:0080000", 0, NULL, 0},
		{"a b:80", 0, NULL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *host = NULL;
		int port = -1;
		int rc = brook_parse_hostport(cases[i].in, &host, &port);
		if (!cases[i].ok) {
			if (rc != BROOK_ERR)
				fail_msg("'%s' should be rejected", cases[i].in);
			assert_null(host);
			continue;
		}
		if (rc != BROOK_OK)
			fail_msg("'%s' should parse", cases[i].in);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
		free(host);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_is_ephemeral),
		cmocka_unit_test(test_get_200),
		cmocka_unit_test(test_params_decoded),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_404),
		cmocka_unit_test(test_405_allow),
		cmocka_unit_test(test_post_echo_and_headers),
		cmocka_unit_test(test_request_headers),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_date),
		cmocka_unit_test(test_413),
		cmocka_unit_test(test_client_timeout),
		cmocka_unit_test(test_client_body_limit),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_ipv6_and_bad_listen),
		cmocka_unit_test(test_bad_route),
		cmocka_unit_test(test_parse_hostport),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
