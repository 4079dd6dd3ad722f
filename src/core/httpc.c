/*
 * httpc.c — brook_httpc: one libcurl easy handle per client.
 *
 * The easy handle is created once and reused, so curl keeps the connection to the
 * last host alive between requests. Per request we reset only what a request sets
 * (method, body, headers, callbacks' target) and keep the timeouts, user agent,
 * redirect and encoding settings made in brook_httpc_new().
 *
 * Bounds: the write callback refuses to grow the body past max_body_bytes; returning
 * a short count makes curl abort with CURLE_WRITE_ERROR, which we report as "response
 * body exceeds N bytes". Headers are parsed as they arrive; on a redirect the
 * captured Content-Type and Retry-After are reset at each new status line, so they
 * describe the final response.
 *
 * curl_global_init() is not thread-safe; it runs once under pthread_once.
 */
#include "core/httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/mem.h"

#define HTTPC_DEFAULT_CONNECT_MS 5000
#define HTTPC_DEFAULT_TIMEOUT_MS 30000
#define HTTPC_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
#define HTTPC_MAX_REDIRECTS 5

struct brook_httpc {
	CURL *curl;
	size_t max_body;
	/* Per-request state the callbacks write to. */
	brook_httpc_result *res;
	int too_large;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t httpc_once = PTHREAD_ONCE_INIT;

static void httpc_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	brook_httpc *c = arg;
	size_t n = size * nmemb;

	if (n > c->max_body - c->res->body.len) {
		c->too_large = 1;
		return 0;
	}
	brook_buf_append(&c->res->body, data, n);
	return n;
}

/* Retry-After: delta-seconds or an HTTP-date; -1 when unparseable. */
static int64_t parse_retry_after(const char *v)
{
	const char *p = v;

	while (isdigit((unsigned char)*p))
		p++;
	if (p > v && *p == '\0') {
		if (p - v > 9)
			return INT64_C(999999999) * 1000;
		return (int64_t)strtoll(v, NULL, 10) * 1000;
	}
	time_t t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	int64_t ms = ((int64_t)t - (int64_t)time(NULL)) * 1000;
	return ms < 0 ? 0 : ms;
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *arg)
{
	brook_httpc *c = arg;
	size_t n = size * nitems, k, e;
	char val[256];

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 100 Continue). */
		c->res->content_type[0] = '\0';
		c->res->retry_after_ms = -1;
		return n;
	}
	const char *colon = memchr(data, ':', n);
	if (!colon)
		return n;
	k = (size_t)(colon - data);
	e = n;
	while (e > k + 1 && isspace((unsigned char)data[e - 1]))
		e--;
	size_t s = k + 1;
	while (s < e && isspace((unsigned char)data[s]))
		s++;
	size_t vlen = e - s < sizeof val - 1 ? e - s : sizeof val - 1;
	memcpy(val, data + s, vlen);
	val[vlen] = '\0';
	if (k == 12 && strncasecmp(data, "Content-Type", 12) == 0) {
		size_t cap = sizeof c->res->content_type - 1;
		size_t m = vlen < cap ? vlen : cap;
		memcpy(c->res->content_type, val, m);
		c->res->content_type[m] = '\0';
	}
	else if (k == 11 && strncasecmp(data, "Retry-After", 11) == 0)
		c->res->retry_after_ms = parse_retry_after(val);
	return n;
}

static void set_error(brook_httpc_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(brook_httpc_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
}

brook_httpc *brook_httpc_new(const brook_httpc_opts *opts)
{
	static const brook_httpc_opts defaults = {0};
	brook_httpc *c = brook_calloc(1, sizeof *c);

	if (!opts)
		opts = &defaults;
	pthread_once(&httpc_once, httpc_global_init);
	c->curl = curl_easy_init();
	if (!c->curl) {
		fprintf(stderr, "brook: cannot create an HTTP client (curl), aborting\n");
		abort();
	}
	c->max_body = opts->max_body_bytes ? opts->max_body_bytes : HTTPC_DEFAULT_MAX_BODY;
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
							     : HTTPC_DEFAULT_CONNECT_MS));
	curl_easy_setopt(
		h, CURLOPT_TIMEOUT_MS,
		(long)(opts->timeout_ms > 0 ? opts->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS));
	curl_easy_setopt(h, CURLOPT_USERAGENT,
			 opts->user_agent ? opts->user_agent : "brook/" BROOK_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)HTTPC_MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	if (opts->max_body_bytes)
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
	return c;
}

void brook_httpc_free(brook_httpc *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

int brook_httpc_request(brook_httpc *c, const char *method, const char *url,
			const char *content_type, const void *body, size_t body_len,
			brook_httpc_result *res)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	char ct[160];
	CURLcode cc;

	res->status = 0;
	brook_buf_init(&res->body, 0);
	res->content_type[0] = '\0';
	res->retry_after_ms = -1;
	res->transport_timeout = 0;
	res->error[0] = '\0';
	c->res = res;
	c->too_large = 0;
	c->errbuf[0] = '\0';

	/* Method and body: undo what the previous request set. */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0 || body) {
		if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
		    strcmp(method, "PATCH") == 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		}
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (content_type) {
		snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, ct);
	}
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_URL, url);

	cc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	c->res = NULL;
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
		return BROOK_OK;
	}
	if (c->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		set_error(res, "response body exceeds %zu bytes from %s", c->max_body, url);
	} else {
		res->transport_timeout = cc == CURLE_OPERATION_TIMEDOUT;
		set_error(res, "%s: %s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc), url);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	if (!c->too_large)
		res->status = 0;
	return BROOK_ERR;
}

void brook_httpc_result_release(brook_httpc_result *res)
{
	brook_buf_release(&res->body);
}
