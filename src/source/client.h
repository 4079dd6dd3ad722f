/*
 * client.h — fetch batches of users from any randomuser.me-compatible API.
 *
 * A source_client wraps one brook_httpc (keep-alive) with the retry policy:
 *
 *   - transport errors (refused, timeout, ...), HTTP 5xx and 429 are retried up to
 *     max_retries times, waiting a full-jitter exponential backoff
 *     (random in [0, min(backoff_max, backoff_initial * 2^attempt)]), or what the
 *     server's Retry-After asks (capped at SOURCE_RETRY_AFTER_MAX_MS);
 *   - a 200 whose body is not a valid response (garbage, the API's {"error": ...})
 *     is retried too, at most SOURCE_GARBAGE_RETRIES times;
 *   - any other status (400, 404, ...) fails at once with the API's error message.
 *
 * An optional rate limit spaces request starts at least 1/rate seconds apart.
 * Every retry is logged (warn) with attempt N/M, the reason and the delay.
 * Not thread-safe: one client per thread.
 */
#ifndef BROOK_SOURCE_CLIENT_H
#define BROOK_SOURCE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "source/validate.h"

#define SOURCE_MAX_RESULTS 5000
#define SOURCE_RETRY_AFTER_MAX_MS 60000
#define SOURCE_GARBAGE_RETRIES 3

typedef struct source_client_opts {
	const char *url;         /* base URL, e.g. "http://127.0.0.1:8088/api/" */
	int results;             /* users per request, 1..SOURCE_MAX_RESULTS */
	const char *seed;        /* NULL: the server picks one */
	int page;                /* 0: not sent */
	const char *nat;         /* "us,gb" or NULL */
	const char *extra_query; /* appended as is ("inc=name,login"), or NULL */
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	int max_retries;         /* retries after the first attempt */
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
	double rate;             /* max requests per second; 0: unlimited */
} source_client_opts;

typedef struct source_client source_client;

/* One fetched batch: resp holds the valid records (compact JSON strings), the
 * rejected count with sample reasons, and info.seed/page. */
typedef struct source_batch {
	source_response resp;
	int attempts; /* requests made, 1 + retries */
} source_batch;

/* Fills o with the defaults of source_config_keys. */
void source_client_opts_default(source_client_opts *o);
/* Reads the source.* keys (strings stay owned by cfg); results/seed/page/nat are
 * left as they were. */
void source_client_opts_from_config(source_client_opts *o, const brook_config *cfg);

/* Copies opts (strings included). NULL with err set when opts are invalid. */
source_client *source_client_new(const source_client_opts *o, char *err, size_t errlen);
void source_client_free(source_client *c);
/* For callers that walk pages of one seed. */
void source_client_set_page(source_client *c, int page);

/* One batch, retried as described above. BROOK_OK: out is filled (release with
 * source_batch_release). BROOK_ERR: err says what failed last and after how many
 * attempts; out needs no release. */
int source_client_fetch(source_client *c, source_batch *out, char *err, size_t errlen);
void source_batch_release(source_batch *b);

/* The request URL for the client's options (exposed for tests and logs). */
void source_client_url(const source_client *c, brook_buf *out);

/* source.url, source.connect_timeout, source.timeout, source.retries,
 * source.backoff_initial, source.backoff_max, source.rate. */
extern const brook_cfg_key source_config_keys[];

#endif
