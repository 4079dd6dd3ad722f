/*
 * httpc.h — brook's HTTP client: libcurl behind one request call.
 *
 * A brook_httpc keeps one curl easy handle, so consecutive requests reuse the
 * connection (keep-alive). Not thread-safe: one per thread. Every request has a
 * connect timeout and a total timeout; response bodies above max_body_bytes fail the
 * request rather than growing without bound.
 *
 * brook_httpc_request() returns BROOK_OK when an HTTP response arrived (whatever its
 * status: the caller decides what a 404 or 500 means) and BROOK_ERR on transport
 * failure (DNS, refused, timeout, TLS, body too large) with res->error set.
 * Retrying is the caller's policy (see source/client.h).
 */
#ifndef BROOK_CORE_HTTPC_H
#define BROOK_CORE_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef struct brook_httpc brook_httpc;

typedef struct brook_httpc_opts {
	int64_t connect_timeout_ms; /* 0: 5000 */
	int64_t timeout_ms;         /* total, 0: 30000 */
	size_t max_body_bytes;      /* 0: 64 MiB */
	const char *user_agent;     /* NULL: "brook/<version>" */
} brook_httpc_opts;

typedef struct brook_httpc_result {
	long status;            /* HTTP status, 0 when no response */
	brook_buf body;         /* response body; caller releases (brook_httpc_result_release) */
	char content_type[128]; /* "" when absent */
	int64_t retry_after_ms; /* from Retry-After (seconds or HTTP date); -1 when absent */
	int transport_timeout;  /* 1 when BROOK_ERR came from a timeout */
	char error[256];        /* transport error message, "" when none */
} brook_httpc_result;

brook_httpc *brook_httpc_new(const brook_httpc_opts *opts);
void brook_httpc_free(brook_httpc *c);

/* method: "GET", "POST", ...; body may be NULL. */
int brook_httpc_request(brook_httpc *c, const char *method, const char *url,
			const char *content_type, const void *body, size_t body_len,
			brook_httpc_result *res);
static inline int brook_httpc_get(brook_httpc *c, const char *url, brook_httpc_result *res)
{
	return brook_httpc_request(c, "GET", url, NULL, NULL, 0, res);
}
void brook_httpc_result_release(brook_httpc_result *res);

#endif
