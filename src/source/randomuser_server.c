/*
 * randomuser_server.c — the HTTP face of the randomuser generator (brook_httpd routes).
 *
 * Each /api request: read the known query parameters into a randomuser_query (the
 * first bad one answers 400 {"error":...}), generate the body into the response buffer
 * (brook_httpd sends it without copying), count it. Handlers share only the metrics
 * registry, whose series are looked up once at open and updated lock-free, so requests
 * run fully in parallel on the worker threads.
 */
#include "source/randomuser_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* httpd.h's design comment holds a slash-star sequence (reported to its owner). */
#include "core/httpd.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/timeutil.h"
#include "source/randomuser.h"

#define RU_COMPONENT "randomuser"

const brook_cfg_key randomuser_config_keys[] = {
	{"randomuser.listen", BROOK_CFG_STR, "127.0.0.1:8088",
	 "address the offline randomuser API listens on (HOST:PORT; port 0 picks one)", NULL},
	{"randomuser.threads", BROOK_CFG_INT, "0",
	 "HTTP worker threads of the randomuser API (0: one per CPU)", NULL},
	{"randomuser.max_results", BROOK_CFG_INT, "5000",
	 "largest ?results= the randomuser API serves (1..5000; larger asks are capped)", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

struct randomuser_server {
	brook_httpd *http;
	brook_metrics *metrics;
	brook_metric_family *requests;
	brook_metric *req_200, *req_400, *req_404;
	brook_metric *users;
	brook_metric *duration;
	int64_t max_results;
};

static void ru_api(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	randomuser_server *s = arg;
	int64_t t0 = brook_mono_ns();
	randomuser_query q;
	char err[256];
	const char *qs = brook_http_query_string(req);

	randomuser_query_init(&q);
	if (randomuser_query_parse(&q, qs, strlen(qs), s->max_results, err, sizeof(err)) !=
	    BROOK_OK) {
		resp->status = 400;
		resp->content_type = "application/json; charset=utf-8";
		randomuser_error_body(&resp->body, err);
		brook_metric_inc(s->req_400);
		brook_debug(RU_COMPONENT, "rejected request %s: %s", brook_http_path(req), err);
		return;
	}
	resp->status = 200;
	resp->content_type = randomuser_content_type(&q);
	randomuser_generate(&q, &resp->body);
	brook_metric_inc(s->req_200);
	brook_metric_add(s->users, (double)q.results);
	brook_metric_observe(s->duration, (double)(brook_mono_ns() - t0) / 1e9);
}

static void ru_not_found(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	randomuser_server *s = arg;
	char msg[300];

	snprintf(msg, sizeof(msg), "no resource at %.200s; the API is at /api/",
		 brook_http_path(req));
	resp->status = 404;
	resp->content_type = "application/json; charset=utf-8";
	randomuser_error_body(&resp->body, msg);
	brook_metric_inc(s->req_404);
}

static void ru_healthz(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	brook_buf_puts(&resp->body, "ok\n");
}

static void ru_metrics(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	randomuser_server *s = arg;
	(void)req;
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	brook_metrics_render(s->metrics, &resp->body);
}

int randomuser_server_opts_from_config(const brook_config *cfg, randomuser_server_opts *opts,
				       char *err, size_t errlen)
{
	const char *listen = brook_config_str(cfg, "randomuser.listen");
	char *host = NULL;
	int port = 0;

	memset(opts, 0, sizeof(*opts));
	if (!listen || brook_parse_hostport(listen, &host, &port) != BROOK_OK) {
		snprintf(err, errlen, "randomuser.listen '%s' is not HOST:PORT; "
			 "use e.g. 127.0.0.1:8088", listen ? listen : "");
		free(host);
		return BROOK_ERR;
	}
	if (strlen(host) >= sizeof(opts->host)) {
		snprintf(err, errlen, "randomuser.listen host is too long");
		free(host);
		return BROOK_ERR;
	}
	strcpy(opts->host, host);
	free(host);
	opts->port = port;
	int64_t threads = brook_config_int(cfg, "randomuser.threads");
	if (threads < 0 || threads > 1024) {
		snprintf(err, errlen, "randomuser.threads must be 0..1024, got %lld",
			 (long long)threads);
		return BROOK_ERR;
	}
	opts->threads = (int)threads;
	opts->max_results = brook_config_int(cfg, "randomuser.max_results");
	if (opts->max_results < 1 || opts->max_results > RANDOMUSER_MAX_RESULTS) {
		snprintf(err, errlen, "randomuser.max_results must be 1..%d, got %lld",
			 RANDOMUSER_MAX_RESULTS, (long long)opts->max_results);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

randomuser_server *randomuser_server_open(const randomuser_server_opts *opts, char *err,
					  size_t errlen)
{
	randomuser_server *s = brook_calloc(1, sizeof(*s));
	static const char *const status_label[] = {"status", NULL};

	s->max_results = opts->max_results > 0 && opts->max_results <= RANDOMUSER_MAX_RESULTS
				 ? opts->max_results
				 : RANDOMUSER_MAX_RESULTS;
	s->metrics = brook_metrics_new();
	s->requests = brook_metrics_family(s->metrics, BROOK_METRIC_COUNTER,
					   "brook_randomuser_requests_total",
					   "API requests answered, by HTTP status.", status_label);
	s->req_200 = brook_metrics_series(s->requests, (const char *const[]){"200", NULL});
	s->req_400 = brook_metrics_series(s->requests, (const char *const[]){"400", NULL});
	s->req_404 = brook_metrics_series(s->requests, (const char *const[]){"404", NULL});
	s->users = brook_metrics_counter(s->metrics, "brook_randomuser_users_total",
					 "Users generated and served.");
	s->duration = brook_metrics_histogram(s->metrics,
					      "brook_randomuser_request_duration_seconds",
					      "Time to generate one API response.");

	brook_http_route routes[] = {
		{"GET", "/api/", ru_api, s},
		{"GET", "/api", ru_api, s},
		{"GET", "/api/" RANDOMUSER_VERSION "/", ru_api, s},
		{"GET", "/api/" RANDOMUSER_VERSION, ru_api, s},
		{"GET", "/healthz", ru_healthz, s},
		{"GET", "/metrics", ru_metrics, s},
		{"GET", "/*", ru_not_found, s},
	};
	brook_httpd_opts ho = {
		.host = opts->host[0] ? opts->host : "127.0.0.1",
		.port = opts->port,
		.threads = opts->threads,
		.max_body_bytes = 0,
		.component = RU_COMPONENT,
	};
	s->http = brook_httpd_open(&ho, routes, sizeof(routes) / sizeof(routes[0]), err, errlen);
	if (!s->http) {
		brook_metrics_free(s->metrics);
		free(s);
		return NULL;
	}
	const char *h = ho.host;
	int v6 = strchr(h, ':') != NULL;
	brook_info(RU_COMPONENT, "ready: randomuser API on http://%s%s%s:%d/api/", v6 ? "[" : "",
		   h, v6 ? "]" : "", brook_httpd_port(s->http));
	return s;
}

int randomuser_server_port(const randomuser_server *s)
{
	return brook_httpd_port(s->http);
}

void randomuser_server_close(randomuser_server *s)
{
	if (!s)
		return;
	brook_httpd_close(s->http);
	brook_metrics_free(s->metrics);
	free(s);
}
