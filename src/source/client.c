/*
 * client.c — the randomuser source client: one request per batch, retried by policy.
 *
 * source_client_fetch() is a loop over attempts 0..max_retries. Each attempt:
 *
 *   rate_wait()      sleep until the rate limiter allows another request start
 *   GET url         (brook_httpc; keep-alive across attempts and batches)
 *   classify        -> DONE        200 with a valid response body
 *                   -> RETRY       transport error, 5xx, 429, 200 with a bad body
 *                                  (the latter at most SOURCE_GARBAGE_RETRIES times)
 *                   -> FAIL        any other status: the API refused the request
 *   backoff_delay() Retry-After when given (capped), else full jitter
 *
 * The jitter uses a per-client xorshift generator seeded from getrandom(2), so
 * concurrent clients do not retry in lockstep.
 */
#include "source/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/err.h"
#include "core/httpc.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define LOG_COMP "source"

const brook_cfg_key source_config_keys[] = {
	{"source.url", BROOK_CFG_STR, "http://127.0.0.1:8088/api/",
	 "randomuser-compatible API to fetch users from", NULL},
	{"source.connect_timeout", BROOK_CFG_DURATION, "5s",
	 "how long to wait for a connection to the API", NULL},
	{"source.timeout", BROOK_CFG_DURATION, "30s",
	 "how long one API request may take in total", NULL},
	{"source.retries", BROOK_CFG_INT, "5",
	 "retries of a failed request (transport errors, 5xx, 429, bad bodies)", NULL},
	{"source.backoff_initial", BROOK_CFG_DURATION, "500ms",
	 "first retry backoff; doubles each retry, with full jitter", NULL},
	{"source.backoff_max", BROOK_CFG_DURATION, "30s", "longest retry backoff", NULL},
	{"source.rate", BROOK_CFG_DOUBLE, "0", "max API requests per second; 0: unlimited",
	 NULL},
	{NULL, 0, NULL, NULL, NULL},
};

struct source_client {
	source_client_opts o; /* strings below are our copies */
	brook_httpc *http;
	int64_t next_start_ms; /* monotonic; rate limiter */
	uint64_t rng;
};

void source_client_opts_default(source_client_opts *o)
{
	memset(o, 0, sizeof *o);
	o->url = "http://127.0.0.1:8088/api/";
	o->results = 1;
	o->connect_timeout_ms = 5000;
	o->timeout_ms = 30000;
	o->max_retries = 5;
	o->backoff_initial_ms = 500;
	o->backoff_max_ms = 30000;
	o->rate = 0;
}

void source_client_opts_from_config(source_client_opts *o, const brook_config *cfg)
{
	const char *url = brook_config_str(cfg, "source.url");
	int64_t retries = brook_config_int(cfg, "source.retries");

	if (url)
		o->url = url;
	o->connect_timeout_ms = brook_config_duration_ms(cfg, "source.connect_timeout");
	o->timeout_ms = brook_config_duration_ms(cfg, "source.timeout");
	o->max_retries = retries < 0 ? 0 : retries > 1000 ? 1000 : (int)retries;
	o->backoff_initial_ms = brook_config_duration_ms(cfg, "source.backoff_initial");
	o->backoff_max_ms = brook_config_duration_ms(cfg, "source.backoff_max");
	o->rate = brook_config_double(cfg, "source.rate");
}

static char *dup_or_null(const char *s)
{
	return s ? brook_strdup(s) : NULL;
}

source_client *source_client_new(const source_client_opts *o, char *err, size_t errlen)
{
	if (!o->url ||
	    (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)) {
		snprintf(err, errlen, "source URL '%s' is not an http(s) URL",
			 o->url ? o->url : "");
		return NULL;
	}
	if (o->results < 1 || o->results > SOURCE_MAX_RESULTS) {
		snprintf(err, errlen, "results must be between 1 and %d, not %d",
			 SOURCE_MAX_RESULTS, o->results);
		return NULL;
	}
	if (o->page < 0 || o->max_retries < 0 || o->rate < 0) {
		snprintf(err, errlen, "page, retries and rate must not be negative");
		return NULL;
	}
	source_client *c = brook_calloc(1, sizeof *c);
	c->o = *o;
	c->o.url = brook_strdup(o->url);
	c->o.seed = dup_or_null(o->seed);
	c->o.nat = dup_or_null(o->nat);
	c->o.extra_query = dup_or_null(o->extra_query);
	if (c->o.backoff_initial_ms < 1)
		c->o.backoff_initial_ms = 1;
	if (c->o.backoff_max_ms < c->o.backoff_initial_ms)
		c->o.backoff_max_ms = c->o.backoff_initial_ms;
	brook_httpc_opts ho = {
		.connect_timeout_ms = o->connect_timeout_ms,
		.timeout_ms = o->timeout_ms,
		.max_body_bytes = SOURCE_MAX_RESPONSE_BYTES,
	};
	c->http = brook_httpc_new(&ho);
	if (getrandom(&c->rng, sizeof c->rng, GRND_NONBLOCK) != sizeof c->rng)
		c->rng = (uint64_t)brook_mono_ns();
	c->rng |= 1;
	return c;
}

void source_client_free(source_client *c)
{
	if (!c)
		return;
	brook_httpc_free(c->http);
	free((char *)c->o.url);
	free((char *)c->o.seed);
	free((char *)c->o.nat);
	free((char *)c->o.extra_query);
	free(c);
}

void source_client_set_page(source_client *c, int page)
{
	c->o.page = page < 0 ? 0 : page;
}

/* Query-string encoding: unreserved characters as is, the rest %XX. */
static void put_escaped(brook_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~,", ch)) {
			brook_buf_putc(b, (char)ch);
		} else {
			brook_buf_putc(b, '%');
			brook_buf_putc(b, hex[ch >> 4]);
			brook_buf_putc(b, hex[ch & 15]);
		}
	}
}

void source_client_url(const source_client *c, brook_buf *out)
{
	brook_buf_puts(out, c->o.url);
	brook_buf_putc(out, strchr(c->o.url, '?') ? '&' : '?');
	brook_buf_puts(out, "results=");
	brook_buf_put_i64(out, c->o.results);
	if (c->o.seed && *c->o.seed) {
		brook_buf_puts(out, "&seed=");
		put_escaped(out, c->o.seed);
	}
	if (c->o.page > 0) {
		brook_buf_puts(out, "&page=");
		brook_buf_put_i64(out, c->o.page);
	}
	if (c->o.nat && *c->o.nat) {
		brook_buf_puts(out, "&nat=");
		put_escaped(out, c->o.nat);
	}
	if (c->o.extra_query && *c->o.extra_query) {
		brook_buf_putc(out, '&');
		brook_buf_puts(out, c->o.extra_query);
	}
}

static uint64_t rng_next(source_client *c)
{
	uint64_t x = c->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->rng = x;
	return x;
}

/* Full jitter: uniform in [0, min(max, initial * 2^attempt)]. */
static int64_t backoff_delay(source_client *c, int attempt)
{
	int64_t cap = c->o.backoff_initial_ms;

	for (int i = 0; i < attempt && cap < c->o.backoff_max_ms; i++)
		cap *= 2;
	if (cap > c->o.backoff_max_ms)
		cap = c->o.backoff_max_ms;
	return (int64_t)(rng_next(c) % (uint64_t)(cap + 1));
}

static void rate_wait(source_client *c)
{
	int64_t now = brook_mono_ms();

	if (c->o.rate <= 0)
		return;
	if (c->next_start_ms > now) {
		brook_sleep_ms(c->next_start_ms - now);
		now = c->next_start_ms;
	}
	int64_t interval = (int64_t)(1000.0 / c->o.rate);
	c->next_start_ms = now + (interval > 0 ? interval : 0);
}

/* The API's error message from a body ({"error": "..."}), else its first bytes. */
static void api_message(const brook_buf *body, char *out, size_t outlen)
{
	json_t *j = body->len ? json_loadb(body->data, body->len, 0, NULL) : NULL;
	json_t *e = json_is_object(j) ? json_object_get(j, "error") : NULL;

	if (json_is_string(e)) {
		snprintf(out, outlen, "%s", json_string_value(e));
	} else if (body->len) {
		size_t n = body->len < 120 ? body->len : 120;
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < outlen; i++) {
			char ch = body->data[i];
			out[o++] = (ch >= 32 && ch < 127) ? ch : ' ';
		}
		out[o] = '\0';
	} else {
		snprintf(out, outlen, "empty body");
	}
	json_decref(j);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int source_client_fetch(source_client *c, source_batch *out, char *err, size_t errlen)
{
	brook_buf url = BROOK_BUF_INIT;
	char reason[512], msg[256], perr[256];
	int garbage = 0, attempts = c->o.max_retries + 1;
	int rc = BROOK_ERR;

	memset(out, 0, sizeof *out);
	source_client_url(c, &url);
	for (int attempt = 0; attempt < attempts; attempt++) {
		brook_httpc_result res;
		int retry = 1;
		int64_t delay = -1;

		rate_wait(c);
		out->attempts = attempt + 1;
		if (brook_httpc_get(c->http, url.data, &res) != BROOK_OK) {
			set_err(reason, sizeof reason, "%s", res.error);
		} else if (res.status == 200) {
			if (source_parse_response(res.body.data, res.body.len, &out->resp, perr,
						  sizeof perr) == BROOK_OK) {
				brook_httpc_result_release(&res);
				rc = BROOK_OK;
				goto done;
			}
			source_response_release(&out->resp);
			set_err(reason, sizeof reason, "HTTP 200 from %s with an invalid body: %s",
				url.data, perr);
			if (++garbage > SOURCE_GARBAGE_RETRIES) {
				brook_httpc_result_release(&res);
				break;
			}
		} else if (res.status == 429 || (res.status >= 500 && res.status <= 599)) {
			api_message(&res.body, msg, sizeof msg);
			set_err(reason, sizeof reason, "HTTP %ld from %s: %s", res.status, url.data,
				msg);
			if (res.retry_after_ms >= 0)
				delay = res.retry_after_ms < SOURCE_RETRY_AFTER_MAX_MS
						? res.retry_after_ms
						: SOURCE_RETRY_AFTER_MAX_MS;
		} else {
			api_message(&res.body, msg, sizeof msg);
			set_err(reason, sizeof reason, "HTTP %ld from %s: %s", res.status, url.data,
				msg);
			retry = 0;
		}
		brook_httpc_result_release(&res);
		if (!retry) {
			set_err(err, errlen, "%s (not retried)", reason);
			goto done;
		}
		if (attempt + 1 >= attempts)
			break;
		if (delay < 0)
			delay = backoff_delay(c, attempt);
		brook_warn(LOG_COMP, "request failed: %s; retry %d/%d in %lld ms", reason,
			   attempt + 1, c->o.max_retries, (long long)delay);
		brook_sleep_ms(delay);
	}
	set_err(err, errlen, "giving up after %d attempts: %s", out->attempts, reason);
done:
	brook_buf_release(&url);
	return rc;
}

void source_batch_release(source_batch *b)
{
	source_response_release(&b->resp);
	b->attempts = 0;
}
