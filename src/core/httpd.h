/*
 * httpd.h — brook's HTTP server: libmicrohttpd behind a small routing API.
 *
 * Every brook REST surface (randomuser, metrics, registry, connect, scheduler,
 * console) is a brook_httpd with a route table. Routes match a method and a path
 * pattern whose segments may be {name} placeholders ("/subjects/{subject}/versions");
 * a pattern whose last segment is a lone star matches any remainder. Handlers run on the server's worker
 * threads (a pool, epoll-based), so they must be thread-safe.
 *
 * Bounds: request bodies above max_body_bytes are answered 413 without calling the
 * handler; unknown paths 404 and known paths with another method 405, both as a
 * small JSON body {"error_code":N,"message":"..."}.
 *
 * Lifecycle: brook_httpd_open() binds and starts serving (port 0 picks an ephemeral
 * port; brook_httpd_port() tells which); brook_httpd_close() stops accepting, waits
 * for in-flight handlers to finish, and frees everything.
 */
#ifndef BROOK_CORE_HTTPD_H
#define BROOK_CORE_HTTPD_H

#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"

typedef struct brook_httpd brook_httpd;
typedef struct brook_http_request brook_http_request;

typedef struct brook_http_response {
	int status;               /* default 200 */
	const char *content_type; /* default "application/json"; static string */
	brook_buf body;           /* handler appends; the server sends it without copying */
	struct brook_http_header *headers; /* use brook_http_set_header() */
} brook_http_response;

typedef void (*brook_http_handler)(const brook_http_request *req, brook_http_response *resp,
				   void *arg);

typedef struct brook_http_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/", "/subjects/{subject}/versions/{version}" */
	brook_http_handler fn;
	void *arg;
} brook_http_route;

typedef struct brook_httpd_opts {
	const char *host;      /* "127.0.0.1" */
	int port;              /* 0: ephemeral */
	int threads;           /* worker threads; 0: number of CPUs */
	size_t max_body_bytes; /* 0: 1 MiB */
	const char *component; /* log tag, e.g. "randomuser" */
} brook_httpd_opts;

/* routes: array of n entries, copied. NULL on failure with a message in err. */
brook_httpd *brook_httpd_open(const brook_httpd_opts *opts, const brook_http_route *routes,
			      size_t n, char *err, size_t errlen);
int brook_httpd_port(const brook_httpd *h);
/* A server's /metrics endpoint: handler on GET /metrics at the HOST:PORT held by config
 * key `key` (port 0 picks one), one thread. *out is NULL when the key is empty (metrics
 * off). BROOK_ERR with a message naming the key. */
int brook_httpd_open_metrics(const brook_config *cfg, const char *key, const char *component,
			     brook_http_handler handler, void *arg, brook_httpd **out, char *err,
			     size_t errlen);
void brook_httpd_close(brook_httpd *h);

const char *brook_http_method(const brook_http_request *req);
const char *brook_http_path(const brook_http_request *req);
/* Query-string argument (decoded) or NULL. */
const char *brook_http_query(const brook_http_request *req, const char *key);
/* The raw query string as received, without the '?' ("" when there is none), for
 * handlers with their own (fuzzed) parameter parser. */
const char *brook_http_query_string(const brook_http_request *req);
/* Value of a {name} placeholder in the matched pattern (percent-decoded) or NULL. */
const char *brook_http_param(const brook_http_request *req, const char *name);
/* Request header (case-insensitive) or NULL. */
const char *brook_http_header(const brook_http_request *req, const char *name);
const char *brook_http_body(const brook_http_request *req, size_t *len);

void brook_http_set_header(brook_http_response *resp, const char *name, const char *value);
/* Convenience: status + {"error_code":code,"message":msg} as JSON. */
void brook_http_error(brook_http_response *resp, int status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parse "HOST:PORT" (also "[::1]:PORT", ":PORT"); host is malloc'd. BROOK_OK/ERR. */
int brook_parse_hostport(const char *s, char **host, int *port);

#endif
