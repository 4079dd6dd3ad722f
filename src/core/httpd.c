/*
 * httpd.c — brook_httpd: libmicrohttpd (MHD) behind the routing API of httpd.h.
 *
 * Threads: MHD runs an epoll-based pool of `threads` internal threads; each
 * connection is served by one of them, and handlers run there (so handlers must be
 * thread-safe and may block only their own worker).
 *
 * One request's life, and which callback performs each step:
 *
 *   uri_log_cb        MHD has parsed the request line. We allocate the request
 *                     object (it becomes MHD's *con_cls) and keep the raw path (before
 *                     MHD percent-decodes it) so that "{name}" segments can hold an
 *                     encoded '/' ("a%2Fb").
 *   access_cb #1      Headers are in. Split + decode the raw path into segments and
 *                     match the route table: no path match -> 404, path match with
 *                     another method -> 405 + Allow, a Content-Length above the bound
 *                     -> 413. Those answers are queued at once; the handler never runs.
 *   access_cb #2..k   Body chunks: appended to req->body while within max_body_bytes;
 *                     past it, the rest is discarded and the request marked too_large
 *                     (chunked uploads have no Content-Length to check up front).
 *   access_cb last    upload_data_size == 0: 413 if too_large, else run the handler
 *                     and queue its response. The handler's brook_buf is detached and
 *                     handed to MHD, which frees it after sending (no copy).
 *   completed_cb      MHD is done with the request (answered, or the connection
 *                     died): free the request object.
 *
 * Invariant: a response is queued exactly once per request, and only from
 * access_cb; req->answered records that one was queued.
 */
/* httpd.h's design comment contains a slash-star sequence; until it is reworded,
 * keep -Wcomment from failing the build on it. */
#include "core/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/text.h"

#define HTTPD_MAX_PARAMS 16
#define HTTPD_DEFAULT_MAX_BODY (1024 * 1024)
#define HTTPD_CONN_TIMEOUT_S 30
#define HTTPD_CONN_LIMIT 10000
#define HTTPD_BACKLOG 1024

struct brook_http_header {
	char *name;
	char *value;
	struct brook_http_header *next;
};

typedef struct httpd_seg {
	char *text;   /* literal text, or the placeholder's name */
	int is_param; /* "{name}" */
} httpd_seg;

typedef struct httpd_route {
	brook_http_route r; /* method and pattern point at our own copies below */
	char *method;
	char *pattern;
	httpd_seg *segs;
	size_t nsegs;
	int wildcard; /* pattern ended in a wildcard segment */
} httpd_route;

struct brook_httpd {
	struct MHD_Daemon *mhd;
	httpd_route *routes;
	size_t nroutes;
	size_t max_body;
	int port;
	int started; /* MHD messages before this are startup failures (warn) */
	char component[32];
};

struct brook_http_request {
	brook_httpd *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path; /* decoded by MHD */
	char *raw_path;   /* as received, without the query string */
	char *raw_query;  /* as received, after '?' ("" when none) */
	char *segbuf;     /* decoded path segments, NUL-separated */
	char **segs;
	size_t nsegs;
	const httpd_route *route;
	size_t nparams;
	const char *param_names[HTTPD_MAX_PARAMS + 1];
	const char *param_values[HTTPD_MAX_PARAMS + 1];
	char *wild_value; /* the wildcard remainder, decoded */
	brook_buf body;
	int started;
	int too_large;
	int answered;
};

/* ---- helpers ------------------------------------------------------------------- */

static void json_error_body(brook_buf *b, int code, const char *msg)
{
	brook_buf_reset(b);
	brook_buf_puts(b, "{\"error_code\":");
	brook_buf_put_i64(b, code);
	brook_buf_puts(b, ",\"message\":\"");
	brook_buf_put_json_escaped(b, msg, strlen(msg));
	brook_buf_puts(b, "\"}");
}

void brook_http_set_header(brook_http_response *resp, const char *name, const char *value)
{
	struct brook_http_header *h = brook_malloc(sizeof *h), **tail = &resp->headers;
	h->name = brook_strdup(name);
	h->value = brook_strdup(value);
	h->next = NULL;
	while (*tail)
		tail = &(*tail)->next;
	*tail = h;
}

static void free_headers(struct brook_http_header *h)
{
	while (h) {
		struct brook_http_header *next = h->next;
		free(h->name);
		free(h->value);
		free(h);
		h = next;
	}
}

void brook_http_error(brook_http_response *resp, int status, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = "application/json";
	json_error_body(&resp->body, code, msg);
}

/* Queue resp on the connection; takes the body (no copy) and frees the headers. */
static enum MHD_Result send_response(struct brook_http_request *req, brook_http_response *resp)
{
	size_t len;
	char *data = brook_buf_detach(&resp->body, &len);
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(len, data, &free);
	enum MHD_Result ret;

	if (!r) {
		free(data);
		free_headers(resp->headers);
		resp->headers = NULL;
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				resp->content_type ? resp->content_type : "application/json");
	for (struct brook_http_header *h = resp->headers; h; h = h->next)
		MHD_add_response_header(r, h->name, h->value);
	free_headers(resp->headers);
	resp->headers = NULL;
	ret = MHD_queue_response(req->conn, (unsigned int)(resp->status ? resp->status : 200), r);
	MHD_destroy_response(r);
	req->answered = 1;
	return ret;
}

static enum MHD_Result send_error(struct brook_http_request *req, int status, const char *allow,
				  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct brook_http_request *req, int status, const char *allow,
				  const char *fmt, ...)
{
	brook_http_response resp = {.status = status, .body = BROOK_BUF_INIT};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_error_body(&resp.body, status, msg);
	if (allow)
		brook_http_set_header(&resp, MHD_HTTP_HEADER_ALLOW, allow);
	return send_response(req, &resp);
}

/* ---- routing ------------------------------------------------------------------- */

static int compile_route(httpd_route *rt, const brook_http_route *src, char *err, size_t errlen)
{
	const char *p = src->pattern;
	size_t n, cap;

	memset(rt, 0, sizeof *rt);
	if (!src->method || !src->pattern || !src->fn || p[0] != '/') {
		snprintf(err, errlen, "route '%s %s': needs a method, a handler and a path "
			 "starting with '/'", src->method ? src->method : "?",
			 src->pattern ? src->pattern : "?");
		return BROOK_ERR;
	}
	rt->method = brook_strdup(src->method);
	rt->pattern = brook_strdup(src->pattern);
	rt->r = *src;
	rt->r.method = rt->method;
	rt->r.pattern = rt->pattern;
	n = strlen(p);
	if (n >= 2 && strcmp(p + n - 2, "/*") == 0) {
		rt->wildcard = 1;
		n -= 2;
	}
	/* Segments of p[1..n): "/a/{b}/" -> "a", "{b}", "". "/" alone -> "". */
	cap = 1;
	for (size_t i = 1; i < n; i++)
		cap += p[i] == '/';
	rt->segs = brook_calloc(cap, sizeof *rt->segs);
	size_t start = 1, nparams = 0;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		const char *s = p + start;
		size_t len = i - start;
		httpd_seg *seg = &rt->segs[rt->nsegs++];
		if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
			seg->is_param = 1;
			seg->text = brook_strndup(s + 1, len - 2);
			if (++nparams > HTTPD_MAX_PARAMS) {
				snprintf(err, errlen, "route '%s': more than %d placeholders",
					 src->pattern, HTTPD_MAX_PARAMS);
				return BROOK_ERR;
			}
		} else {
			seg->text = brook_strndup(s, len);
		}
		start = i + 1;
	}
	return BROOK_OK;
}

static void free_route(httpd_route *rt)
{
	for (size_t i = 0; i < rt->nsegs; i++)
		free(rt->segs[i].text);
	free(rt->segs);
	free(rt->method);
	free(rt->pattern);
}

/* Split req->raw_path into decoded segments (same convention as compile_route). */
static void split_path(struct brook_http_request *req)
{
	const char *p = req->raw_path;
	size_t n = strlen(p), cap = 1;

	if (n == 0 || p[0] != '/') {
		req->nsegs = 0;
		return;
	}
	for (size_t i = 1; i < n; i++)
		cap += p[i] == '/';
	req->segs = brook_calloc(cap, sizeof *req->segs);
	req->segbuf = brook_malloc(n + 1);
	char *out = req->segbuf;
	size_t start = 1;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		size_t d = brook_pct_decode(p + start, i - start, out, false);
		req->segs[req->nsegs++] = out;
		out += d + 1;
		start = i + 1;
	}
}

/* Does rt match the request path? With bind, record the parameters. */
static int route_match(const httpd_route *rt, struct brook_http_request *req, int bind)
{
	size_t np = 0;

	if (req->nsegs < rt->nsegs || (!rt->wildcard && req->nsegs != rt->nsegs))
		return 0;
	for (size_t i = 0; i < rt->nsegs; i++) {
		if (rt->segs[i].is_param) {
			if (bind) {
				req->param_names[np] = rt->segs[i].text;
				req->param_values[np++] = req->segs[i];
			}
		} else if (strcmp(rt->segs[i].text, req->segs[i]) != 0) {
			return 0;
		}
	}
	if (bind) {
		req->nparams = np;
		if (rt->wildcard) {
			/* The remainder after the fixed segments, decoded, without its '/'. */
			const char *r = req->raw_path + 1;
			for (size_t i = 0; i < rt->nsegs; i++) {
				const char *slash = strchr(r, '/');
				r = slash ? slash + 1 : r + strlen(r);
			}
			size_t len = strlen(r);
			req->wild_value = brook_malloc(len + 1);
			brook_pct_decode(r, len, req->wild_value, false);
			req->param_names[np] = "*";
			req->param_values[np] = req->wild_value;
			req->nparams = np + 1;
		}
	}
	return 1;
}

static int method_is(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return 1;
	/* HEAD is served by the GET route; MHD drops the body. */
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

/* Find the route for req; on failure queue 404/405 and return NULL. */
static const httpd_route *resolve(struct brook_http_request *req, enum MHD_Result *ret)
{
	brook_httpd *h = req->srv;
	const httpd_route *found = NULL;
	int path_matched = 0;

	split_path(req);
	for (size_t i = 0; i < h->nroutes; i++) {
		if (!route_match(&h->routes[i], req, 0))
			continue;
		path_matched = 1;
		if (strcmp(h->routes[i].method, req->method) == 0) {
			found = &h->routes[i];
			break;
		}
		if (!found && method_is(h->routes[i].method, req->method))
			found = &h->routes[i];
	}
	if (found) {
		route_match(found, req, 1);
		return found;
	}
	if (!path_matched) {
		*ret = send_error(req, 404, NULL, "no resource at %s", req->path);
		return NULL;
	}
	brook_buf allow = BROOK_BUF_INIT;
	for (size_t i = 0; i < h->nroutes; i++) {
		const char *m = h->routes[i].method;
		if (!route_match(&h->routes[i], req, 0))
			continue;
		/* Skip a method already listed. */
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(h->routes[j].method, m) == 0 &&
			      route_match(&h->routes[j], req, 0);
		if (dup)
			continue;
		if (allow.len)
			brook_buf_puts(&allow, ", ");
		brook_buf_puts(&allow, m);
	}
	*ret = send_error(req, 405, allow.data, "method %s is not allowed on %s (allowed: %s)",
			  req->method, req->path, allow.data);
	brook_buf_release(&allow);
	return NULL;
}

/* ---- MHD callbacks ----------------------------------------------------------------- */

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct brook_http_request *req = brook_calloc(1, sizeof *req);
	const char *q = strchr(uri, '?');

	req->srv = cls;
	req->conn = conn;
	req->raw_path = q ? brook_strndup(uri, (size_t)(q - uri)) : brook_strdup(uri);
	req->raw_query = brook_strdup(q ? q + 1 : "");
	return req;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct brook_http_request *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!req)
		return;
	free(req->raw_path);
	free(req->raw_query);
	free(req->segbuf);
	free(req->segs);
	free(req->wild_value);
	brook_buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size,
				 void **con_cls)
{
	brook_httpd *h = cls;
	struct brook_http_request *req = *con_cls;
	enum MHD_Result ret = MHD_YES;

	(void)version;
	if (!req) { /* uri_log_cb always runs first; be safe anyway */
		req = uri_log_cb(h, url, conn);
		*con_cls = req;
	}
	if (req->answered) {
		*upload_data_size = 0; /* discard the rest of a rejected body */
		return MHD_YES;
	}
	if (!req->started) {
		req->started = 1;
		req->conn = conn;
		req->method = method;
		req->path = url;
		req->route = resolve(req, &ret);
		if (!req->route)
			return ret;
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(cl, &end, 10);
			if (errno == 0 && *end == '\0' && v > h->max_body)
				return send_error(req, 413, NULL,
						  "request body of %llu bytes exceeds the limit "
						  "of %zu bytes",
						  v, h->max_body);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		if (!req->too_large && n <= h->max_body - req->body.len)
			brook_buf_append(&req->body, upload_data, n);
		else
			req->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		return send_error(req, 413, NULL, "request body exceeds the limit of %zu bytes",
				  h->max_body);

	brook_http_response resp = {.status = 200, .body = BROOK_BUF_INIT};
	req->route->r.fn(req, &resp, req->route->r.arg);
	return send_response(req, &resp);
}

static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void mhd_log_cb(void *cls, const char *fmt, va_list ap)
{
	brook_httpd *h = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* After startup, MHD's messages are about single connections (a client that
	 * went away, a malformed request): debug. Before, they explain a failure. */
	brook_log(h->started ? BROOK_LOG_DEBUG : BROOK_LOG_WARN, h->component, "http server: %s",
		  msg);
}

/* ---- lifecycle ------------------------------------------------------------------- */

brook_httpd *brook_httpd_open(const brook_httpd_opts *opts, const brook_http_route *routes,
			      size_t n, char *err, size_t errlen)
{
	brook_httpd *h = brook_calloc(1, sizeof *h);
	const char *host = opts->host && opts->host[0] ? opts->host : "127.0.0.1";
	struct addrinfo hints = {0}, *ai = NULL;
	struct sockaddr_storage ss;
	char portstr[16];
	unsigned int flags, threads;
	int rc;

	snprintf(h->component, sizeof h->component, "%s",
		 opts->component ? opts->component : "http");
	h->max_body = opts->max_body_bytes ? opts->max_body_bytes : HTTPD_DEFAULT_MAX_BODY;
	h->routes = brook_calloc(n ? n : 1, sizeof *h->routes);
	for (size_t i = 0; i < n; i++) {
		h->nroutes = i + 1;
		if (compile_route(&h->routes[i], &routes[i], err, errlen) != BROOK_OK)
			goto fail;
	}
	if (opts->port < 0 || opts->port > 65535) {
		snprintf(err, errlen, "port %d is out of range 0..65535", opts->port);
		goto fail;
	}
	snprintf(portstr, sizeof portstr, "%d", opts->port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", host,
			 rc ? gai_strerror(rc) : "no address");
		goto fail;
	}
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	freeaddrinfo(ai);

	if (opts->threads > 0) {
		threads = (unsigned int)opts->threads;
	} else {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (unsigned int)cpus : 1;
	}
	/* A pool of one is no pool: MHD warns about it, so ask for one only when > 1. */
	struct MHD_OptionItem pool[] = {
		{threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	h->mhd = MHD_start_daemon(
		flags, (uint16_t)opts->port, NULL, NULL, &access_cb, h,
		MHD_OPTION_EXTERNAL_LOGGER, &mhd_log_cb, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_ARRAY, pool,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_CONN_TIMEOUT_S,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)HTTPD_BACKLOG,
		MHD_OPTION_URI_LOG_CALLBACK, &uri_log_cb, h,
		MHD_OPTION_NOTIFY_COMPLETED, &completed_cb, h,
		MHD_OPTION_END);
	if (!h->mhd) {
		snprintf(err, errlen, "cannot listen on %s port %d (address in use, or not "
			 "permitted?): check the address and that no other process holds it",
			 host, opts->port);
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : opts->port;
	h->started = 1;
	return h;
fail:
	for (size_t i = 0; i < h->nroutes; i++)
		free_route(&h->routes[i]);
	free(h->routes);
	free(h);
	return NULL;
}

int brook_httpd_port(const brook_httpd *h)
{
	return h->port;
}

void brook_httpd_close(brook_httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	for (size_t i = 0; i < h->nroutes; i++)
		free_route(&h->routes[i]);
	free(h->routes);
	free(h);
}

/* ---- request accessors ------------------------------------------------------------ */

const char *brook_http_method(const brook_http_request *req)
{
	return req->method;
}

const char *brook_http_path(const brook_http_request *req)
{
	return req->path;
}

const char *brook_http_query(const brook_http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *brook_http_query_string(const brook_http_request *req)
{
	return req->raw_query;
}

const char *brook_http_param(const brook_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->param_names[i], name) == 0)
			return req->param_values[i];
	return NULL;
}

const char *brook_http_header(const brook_http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *brook_http_body(const brook_http_request *req, size_t *len)
{
	if (len)
		*len = req->body.len;
	return req->body.data ? req->body.data : "";
}

/* ---- HOST:PORT ------------------------------------------------------------------- */

int brook_parse_hostport(const char *s, char **host, int *port)
{
	const char *colon, *hs, *he;
	char *end;
	long v;

	*host = NULL;
	if (!s || !*s)
		return BROOK_ERR;
	if (s[0] == '[') {
		he = strchr(s, ']');
		if (!he || he == s + 1 || he[1] != ':')
			return BROOK_ERR;
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return BROOK_ERR;
		hs = s;
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs)))
			return BROOK_ERR; /* IPv6 without brackets */
	}
	const char *ps = colon + 1;
	if (*ps < '0' || *ps > '9')
		return BROOK_ERR;
	errno = 0;
	v = strtol(ps, &end, 10);
	if (errno || *end != '\0' || v < 0 || v > 65535 || end - ps > 5)
		return BROOK_ERR;
	for (const char *c = hs; c < he; c++)
		if (*c == ' ' || *c == '/' || *c == '[' || *c == ']' || *c == '@')
			return BROOK_ERR;
	*host = he > hs ? brook_strndup(hs, (size_t)(he - hs)) : brook_strdup("127.0.0.1");
	*port = (int)v;
	return BROOK_OK;
}

int brook_httpd_open_metrics(const brook_config *cfg, const char *key, const char *component,
			     brook_http_handler handler, void *arg, brook_httpd **out, char *err,
			     size_t errlen)
{
	*out = NULL;
	const char *listen = brook_config_str(cfg, key);
	if (!listen || !*listen)
		return BROOK_OK;
	char *host = NULL;
	int port = 0;
	if (brook_parse_hostport(listen, &host, &port) != BROOK_OK) {
		snprintf(err, errlen, "%s: '%s' is not HOST:PORT", key, listen);
		return BROOK_ERR;
	}
	brook_httpd_opts ho = {.host = host, .port = port, .threads = 1, .component = component};
	brook_http_route routes[] = {{"GET", "/metrics", handler, arg}};
	char herr[256];
	*out = brook_httpd_open(&ho, routes, 1, herr, sizeof herr);
	free(host);
	if (!*out) {
		snprintf(err, errlen, "metrics listener (%s): %s", key, herr);
		return BROOK_ERR;
	}
	return BROOK_OK;
}
