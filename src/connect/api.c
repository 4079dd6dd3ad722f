/*
 * api.c — Kafka Connect REST routes over the connector manager (design in api.h).
 */
#include "connect/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"

#define COMP "connect"

const brook_cfg_key connect_config_keys[] = {
	{"connect.listen", BROOK_CFG_STR, "127.0.0.1:8083", "connector REST API (Kafka Connect)",
	 NULL},
	{"connect.connectors", BROOK_CFG_TREE, NULL,
	 "connectors created at start when missing (name: {config}; see docs/CONNECT.md)",
	 NULL},
	{NULL, 0, NULL, NULL, NULL},
};

struct connect_api {
	connect_worker *w;
	brook_httpd *httpd;
};

/* ---- answers ---- */

static void reply_json(brook_http_response *resp, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	resp->status = status;
	brook_buf_puts(&resp->body, s);
	free(s);
	json_decref(j);
}

static void reply_error(brook_http_response *resp, int status, const char *msg)
{
	reply_json(resp, status, json_pack("{s:i, s:s}", "error_code", status, "message", msg));
}

static void reply_not_found(brook_http_response *resp, const char *name)
{
	char msg[300];
	snprintf(msg, sizeof msg, "Connector %s not found", name);
	reply_error(resp, 404, msg);
}

static json_t *body_json(const brook_http_request *req, brook_http_response *resp)
{
	size_t len;
	const char *body = brook_http_body(req, &len);
	json_error_t je;
	json_t *j = body && len ? json_loadb(body, len, 0, &je) : NULL;
	if (!j) {
		char msg[256];
		snprintf(msg, sizeof msg, "request body is not JSON: %s",
			 body && len ? je.text : "empty");
		reply_error(resp, 400, msg);
	}
	return j;
}

/* {"name","config","tasks":[{"connector","task"}],"type":"source"} */
static json_t *connector_info(connect_worker *w, const char *name)
{
	json_t *cfg = connect_worker_config(w, name);
	if (!cfg)
		return NULL;
	return json_pack("{s:s, s:o, s:[{s:s, s:i}], s:s}", "name", name, "config", cfg, "tasks",
			 "connector", name, "task", 0, "type", "source");
}

/* ---- handlers ---- */

static void h_root(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	reply_json(resp, 200, json_pack("{s:s, s:s, s:s}", "version", BROOK_VERSION, "commit",
					"brook", "kafka_cluster_id", "brook"));
}

/* Prometheus: per connector, the task's state, its replication slot lag and the
 * changes it could not encode (from the status each connector keeps). */
static void h_metrics(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	static const char *const lbl[] = {"connector", NULL};
	static const char *const state_lbl[] = {"connector", "state", NULL};
	connect_api *a = arg;
	(void)req;
	brook_metrics *m = brook_metrics_new();
	brook_metric_family *lag = brook_metrics_family(
		m, BROOK_METRIC_GAUGE, "brook_connect_slot_lag_bytes",
		"WAL between the server's position and the last acknowledged commit.", lbl);
	brook_metric_family *dead = brook_metrics_family(
		m, BROOK_METRIC_COUNTER, "brook_connect_dead_letters_total",
		"Changes that could not be encoded (logged, dead-lettered when configured).", lbl);
	brook_metric_family *state = brook_metrics_family(
		m, BROOK_METRIC_GAUGE, "brook_connect_task_state",
		"1 for the task's current state (RUNNING, PAUSED, FAILED, UNASSIGNED).",
		state_lbl);
	json_t *names = connect_worker_names(a->w);
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		const char *name = json_string_value(n);
		json_t *st = connect_worker_status(a->w, name);
		if (!st)
			continue;
		json_t *conn = json_object_get(st, "connector");
		const char *const v[] = {name, NULL};
		brook_metric_set(brook_metrics_series(lag, v),
				 (double)json_integer_value(json_object_get(conn, "lag_bytes")));
		brook_metric_add(brook_metrics_series(dead, v),
				 (double)json_integer_value(json_object_get(conn, "dead_letters")));
		const char *ts = json_string_value(
			json_object_get(json_array_get(json_object_get(st, "tasks"), 0), "state"));
		const char *const sv[] = {name, ts ? ts : "UNASSIGNED", NULL};
		brook_metric_set(brook_metrics_series(state, sv), 1);
		json_decref(st);
	}
	json_decref(names);
	resp->content_type = "text/plain; version=0.0.4";
	brook_metrics_render(m, &resp->body);
	brook_metrics_free(m);
}

static void h_list(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	json_t *names = connect_worker_names(a->w);
	const char *expand = brook_http_query(req, "expand");
	if (!expand) {
		reply_json(resp, 200, names);
		return;
	}
	json_t *out = json_object();
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n) {
		const char *name = json_string_value(n);
		json_t *e = json_object();
		if (strcmp(expand, "status") == 0) {
			json_t *st = connect_worker_status(a->w, name);
			if (st)
				json_object_set_new(e, "status", st);
		} else if (strcmp(expand, "info") == 0) {
			json_t *info = connector_info(a->w, name);
			if (info)
				json_object_set_new(e, "info", info);
		}
		json_object_set_new(out, name, e);
	}
	json_decref(names);
	reply_json(resp, 200, out);
}

static void put_reply(connect_api *a, brook_http_response *resp, const char *name,
		      const json_t *config, bool create_only)
{
	char err[1024];
	bool created = false;
	int rc = connect_worker_put(a->w, name, config, create_only, &created, err, sizeof err);
	if (rc == CONNECT_EXISTS) {
		reply_error(resp, 409, err);
		return;
	}
	if (rc != BROOK_OK) {
		reply_error(resp, strncmp(err, "cannot save", 11) == 0 ? 500 : 400, err);
		return;
	}
	json_t *info = connector_info(a->w, name);
	if (!info) { /* deleted meanwhile */
		reply_not_found(resp, name);
		return;
	}
	reply_json(resp, created ? 201 : 200, info);
}

static void h_create(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	json_t *body = body_json(req, resp);
	if (!body)
		return;
	const char *name = json_string_value(json_object_get(body, "name"));
	json_t *config = json_object_get(body, "config");
	if (!name || !*name)
		reply_error(resp, 400, "the body must have a \"name\"");
	else if (!json_is_object(config))
		reply_error(resp, 400, "the body must have a \"config\" object");
	else
		put_reply(arg, resp, name, config, true);
	json_decref(body);
}

static void h_put_config(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	json_t *body = body_json(req, resp);
	if (!body)
		return;
	if (!json_is_object(body))
		reply_error(resp, 400, "the body must be the config object");
	else
		put_reply(arg, resp, brook_http_param(req, "c"), body, false);
	json_decref(body);
}

static void h_get(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	json_t *info = connector_info(a->w, name);
	if (info)
		reply_json(resp, 200, info);
	else
		reply_not_found(resp, name);
}

static void h_get_config(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	json_t *cfg = connect_worker_config(a->w, name);
	if (cfg)
		reply_json(resp, 200, cfg);
	else
		reply_not_found(resp, name);
}

static void h_status(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	json_t *st = connect_worker_status(a->w, name);
	if (st)
		reply_json(resp, 200, st);
	else
		reply_not_found(resp, name);
}

static void h_tasks(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	json_t *cfg = connect_worker_config(a->w, name);
	if (!cfg) {
		reply_not_found(resp, name);
		return;
	}
	reply_json(resp, 200, json_pack("[{s:{s:s, s:i}, s:o}]", "id", "connector", name, "task",
					 0, "config", cfg));
}

static void finish(brook_http_response *resp, const char *name, int rc, int status)
{
	if (rc == CONNECT_NOT_FOUND)
		reply_not_found(resp, name);
	else if (rc != BROOK_OK)
		reply_error(resp, 500, "cannot save the connectors file");
	else
		resp->status = status;
}

static void h_pause(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	finish(resp, name, connect_worker_pause(a->w, name), 202);
}

static void h_resume(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	finish(resp, name, connect_worker_resume(a->w, name), 202);
}

static void h_restart(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	const char *task = brook_http_param(req, "t");
	if (task && strcmp(task, "0") != 0) {
		char msg[300];
		snprintf(msg, sizeof msg, "Task %s of connector %s not found", task, name);
		reply_error(resp, 404, msg);
		return;
	}
	finish(resp, name, connect_worker_restart(a->w, name), 204);
}

static void h_delete(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	connect_api *a = arg;
	const char *name = brook_http_param(req, "c");
	finish(resp, name, connect_worker_delete(a->w, name), 204);
}

static void h_plugins(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	reply_json(resp, 200, json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "class",
					 "postgres-cdc", "type", "source", "version", BROOK_VERSION,
					 "class", "postgres-incrementing", "type", "source",
					 "version", BROOK_VERSION));
}

connect_api *connect_api_open(connect_worker *w, const char *host, int port, char *err,
			      size_t errlen)
{
	connect_api *a = brook_calloc(1, sizeof *a);
	a->w = w;
	const brook_http_route routes[] = {
		{"GET", "/", h_root, a},
		{"GET", "/connectors", h_list, a},
		{"POST", "/connectors", h_create, a},
		{"GET", "/connectors/{c}", h_get, a},
		{"DELETE", "/connectors/{c}", h_delete, a},
		{"GET", "/connectors/{c}/config", h_get_config, a},
		{"PUT", "/connectors/{c}/config", h_put_config, a},
		{"GET", "/connectors/{c}/status", h_status, a},
		{"GET", "/connectors/{c}/tasks", h_tasks, a},
		{"PUT", "/connectors/{c}/pause", h_pause, a},
		{"PUT", "/connectors/{c}/resume", h_resume, a},
		{"POST", "/connectors/{c}/restart", h_restart, a},
		{"POST", "/connectors/{c}/tasks/{t}/restart", h_restart, a},
		{"GET", "/connector-plugins", h_plugins, a},
		{"GET", "/metrics", h_metrics, a},
	};
	brook_httpd_opts o = {.host = host, .port = port, .threads = 4, .component = COMP};
	a->httpd = brook_httpd_open(&o, routes, sizeof routes / sizeof routes[0], err, errlen);
	if (!a->httpd) {
		free(a);
		return NULL;
	}
	return a;
}

int connect_api_port(const connect_api *a)
{
	return brook_httpd_port(a->httpd);
}

void connect_api_close(connect_api *a)
{
	if (!a)
		return;
	brook_httpd_close(a->httpd);
	free(a);
}
