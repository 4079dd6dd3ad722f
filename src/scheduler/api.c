/*
 * api.c — the scheduler's REST API (Airflow stable API v1 shapes) and HTML grid view.
 *
 * Every handler is a thin translation: read and check the request (path parameters,
 * query arguments, a bounded JSON body), call one scheduler_* operation (thread-safe,
 * scheduler.h), and write its JSON, or turn its sched_error into Airflow's problem
 * body. Handlers keep no state of their own, so they run in parallel on the httpd's
 * worker threads.
 *
 * Checks done here, before the scheduler sees a request (all answered 400):
 *   - bodies are JSON objects (httpd bounds their size: 413 above API_MAX_BODY);
 *   - is_paused is a boolean, conf an object (or null), dag_run_id a string of
 *     1..SCHED_ID_MAX bytes, logical_date / from / to ISO-8601 instants;
 *   - unknown body fields are rejected (a typo must not be silently ignored);
 *   - limit is 1..1000, offset >= 0.
 * Unknown paths under /api/ answer 404 and known paths with another method 405 (with
 * Allow), both in the problem shape: catch-all routes for every method end the table
 * and api_fallback tells the two apart with the route table's own patterns.
 *
 * The HTML pages are built from the same operations; every string that reaches HTML
 * goes through html_escape and every string that reaches a URL through
 * sched_api_put_segment.
 */
#include "scheduler/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define API_COMPONENT "scheduler"
#define API_MAX_BODY (1024 * 1024)
#define API_DEFAULT_LIMIT 100
#define API_MAX_LIMIT 1000
#define API_HOME_RUNS 10  /* runs shown per DAG on the home page */
#define API_GRID_RUNS 25  /* run columns of the grid page */

struct sched_api {
	scheduler *s;
	brook_httpd *http;
};

/* ---- helpers ------------------------------------------------------------------------ */

static const char *status_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

static void problem(brook_http_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(brook_http_response *resp, int status, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->content_type = "application/problem+json";
	brook_buf_reset(&resp->body);
	brook_buf_puts(&resp->body, "{\"detail\":\"");
	brook_buf_put_json_escaped(&resp->body, msg, strlen(msg));
	brook_buf_printf(&resp->body, "\",\"status\":%d,\"title\":\"%s\",\"type\":\"about:blank\"}",
			 status, status_title(status));
}

static void sched_problem(brook_http_response *resp, const sched_error *e)
{
	int status = e->status >= 400 && e->status <= 599 ? e->status : 500;
	problem(resp, status, "%s", e->msg[0] ? e->msg : "scheduler error");
}

/* Write j (stolen) as the JSON response. */
static void reply_json(brook_http_response *resp, int status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(j);
	resp->status = status;
	resp->content_type = "application/json";
	brook_buf_puts(&resp->body, text ? text : "null");
	free(text);
}

/* 200 with j, or the problem e when j is NULL. */
static void reply_or_problem(brook_http_response *resp, json_t *j, const sched_error *e)
{
	if (!j)
		sched_problem(resp, e);
	else
		reply_json(resp, 200, j);
}

/* A query argument as an integer in [min, max]; BROOK_ERR answered 400. */
static int query_int(const brook_http_request *req, brook_http_response *resp, const char *key,
		     long def, long min, long max, long *out)
{
	const char *v = brook_http_query(req, key);
	char *end;

	*out = def;
	if (!v)
		return BROOK_OK;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max) {
		problem(resp, 400, "query argument %s must be an integer from %ld to %ld, "
			"not '%.100s'", key, min, max, v);
		return BROOK_ERR;
	}
	*out = n;
	return BROOK_OK;
}

/* The request body as a JSON object (an empty body counts as {}), or NULL answered 400. */
static json_t *body_object(const brook_http_request *req, brook_http_response *resp)
{
	size_t len;
	const char *body = brook_http_body(req, &len);
	json_error_t je;

	if (!body || len == 0)
		return json_object();
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		problem(resp, 400, "request body is not valid JSON: %s (line %d, column %d)",
			je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		problem(resp, 400, "request body must be a JSON object");
		return NULL;
	}
	return j;
}

/* Every key of obj must be one of the NULL-terminated names; else 400. */
static int check_fields(const json_t *obj, const char *const *names, brook_http_response *resp)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		size_t i;
		for (i = 0; names[i]; i++)
			if (!strcmp(key, names[i]))
				break;
		if (!names[i]) {
			brook_buf allowed = BROOK_BUF_INIT;
			for (i = 0; names[i]; i++)
				brook_buf_printf(&allowed, "%s%s", i ? ", " : "", names[i]);
			problem(resp, 400, "unknown field '%.100s' in the request body (known: %s)",
				key, allowed.data);
			brook_buf_release(&allowed);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

/* conf: absent or null -> *conf NULL; an object -> borrowed; else 400. */
static int body_conf(const json_t *body, const json_t **conf, brook_http_response *resp)
{
	const json_t *c = json_object_get(body, "conf");

	*conf = NULL;
	if (!c || json_is_null(c))
		return BROOK_OK;
	if (!json_is_object(c)) {
		problem(resp, 400, "field 'conf' must be a JSON object");
		return BROOK_ERR;
	}
	*conf = c;
	return BROOK_OK;
}

/* An ISO-8601 string field; absent -> BROOK_AGAIN (when optional). */
static int body_time(const json_t *body, const char *key, int64_t *ms, brook_http_response *resp)
{
	const json_t *v = json_object_get(body, key);

	if (!v || json_is_null(v))
		return BROOK_AGAIN;
	if (!json_is_string(v) || brook_time_parse_iso8601(json_string_value(v), ms) != BROOK_OK) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		problem(resp, 400, "field '%s' must be an ISO-8601 date-time such as "
			"2024-03-05T10:00:00Z, not %.100s", key, text ? text : "?");
		free(text);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

void sched_api_put_segment(brook_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			brook_buf_putc(b, (char)c);
		} else {
			brook_buf_putc(b, '%');
			brook_buf_putc(b, hex[c >> 4]);
			brook_buf_putc(b, hex[c & 15]);
		}
	}
}

static void html_escape(brook_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': brook_buf_puts(b, "&amp;"); break;
		case '<': brook_buf_puts(b, "&lt;"); break;
		case '>': brook_buf_puts(b, "&gt;"); break;
		case '"': brook_buf_puts(b, "&quot;"); break;
		case '\'': brook_buf_puts(b, "&#39;"); break;
		default: brook_buf_putc(b, *s);
		}
	}
}

static const char *jstr(const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return v ? v : "";
}

/* ---- REST handlers ------------------------------------------------------------------ */

static void api_health(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	char beat[BROOK_ISO8601_LEN + 1];

	(void)req;
	/* The database answers when a read of the DAG table works; the scheduler is
	 * healthy when its loop completed a pass in the last 30 s (Airflow's threshold). */
	json_t *dags = scheduler_list_dags(a->s, &e);
	const char *db = dags ? "healthy" : "unhealthy";
	json_decref(dags);
	int64_t hb = scheduler_heartbeat_ms(a->s);
	bool alive = hb && brook_now_ms() - hb < 30000;
	if (hb)
		brook_time_format_iso8601(hb, beat);
	reply_json(resp, 200, json_pack("{s:{s:s},s:{s:s,s:o}}", "metadatabase", "status", db,
					"scheduler", "status", alive ? "healthy" : "unhealthy",
					"latest_scheduler_heartbeat",
					hb ? json_string(beat) : json_null()));
}

static void api_list_dags(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	long limit, offset;

	if (query_int(req, resp, "limit", API_DEFAULT_LIMIT, 1, API_MAX_LIMIT, &limit) ||
	    query_int(req, resp, "offset", 0, 0, 1000000000L, &offset))
		return;
	json_t *all = scheduler_list_dags(a->s, &e);
	if (!all) {
		sched_problem(resp, &e);
		return;
	}
	json_t *dags = json_object_get(all, "dags");
	size_t n = json_array_size(dags);
	json_t *page = json_array();
	for (size_t i = (size_t)offset; i < n && json_array_size(page) < (size_t)limit; i++)
		json_array_append(page, json_array_get(dags, i));
	json_decref(all);
	reply_json(resp, 200, json_pack("{s:o,s:I}", "dags", page, "total_entries",
					(json_int_t)n));
}

static void api_get_dag(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	json_t *j = scheduler_dag_json(a->s, brook_http_param(req, "dag_id"), &e);

	if (!j) {
		sched_problem(resp, &e);
		return;
	}
	reply_json(resp, 200, j);
}

static void api_patch_dag(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	static const char *const fields[] = {"is_paused", NULL};
	sched_api *a = arg;
	sched_error e = {0};
	const char *dag_id = brook_http_param(req, "dag_id");
	const char *mask = brook_http_query(req, "update_mask");

	if (mask && strcmp(mask, "is_paused") != 0) {
		problem(resp, 400, "update_mask may only name is_paused, not '%.100s'", mask);
		return;
	}
	json_t *body = body_object(req, resp);
	if (!body)
		return;
	const json_t *p = json_object_get(body, "is_paused");
	if (check_fields(body, fields, resp) != BROOK_OK) {
		json_decref(body);
		return;
	}
	if (!p || !json_is_boolean(p)) {
		json_decref(body);
		problem(resp, 400, "field 'is_paused' is required and must be true or false");
		return;
	}
	bool paused = json_is_true(p);
	json_decref(body);
	if (scheduler_set_paused(a->s, dag_id, paused, &e) != BROOK_OK) {
		sched_problem(resp, &e);
		return;
	}
	api_get_dag(req, resp, arg);
}

static void api_list_runs(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	long limit, offset;
	const char *order = brook_http_query(req, "order_by");

	if (query_int(req, resp, "limit", API_DEFAULT_LIMIT, 1, API_MAX_LIMIT, &limit) ||
	    query_int(req, resp, "offset", 0, 0, 1000000000L, &offset))
		return;
	if (order && strcmp(order, "-execution_date") && strcmp(order, "-logical_date")) {
		problem(resp, 400, "order_by may only be -execution_date (newest first, the "
			"default here), not '%.100s'", order);
		return;
	}
	json_t *j = scheduler_list_runs(a->s, brook_http_param(req, "dag_id"), (int)limit,
					(int)offset, &e);
	if (!j) {
		sched_problem(resp, &e);
		return;
	}
	reply_json(resp, 200, j);
}

static void api_trigger(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	static const char *const fields[] = {"conf", "dag_run_id", "logical_date",
					     "execution_date", "note", NULL};
	sched_api *a = arg;
	sched_error e = {0};
	const json_t *conf;
	const char *run_id = NULL;
	int64_t logical = 0;
	json_t *body = body_object(req, resp);

	if (!body)
		return;
	if (check_fields(body, fields, resp) || body_conf(body, &conf, resp))
		goto out;
	const json_t *rid = json_object_get(body, "dag_run_id");
	if (rid && !json_is_null(rid)) {
		run_id = json_string_value(rid);
		if (!run_id || !run_id[0] || strlen(run_id) > SCHED_ID_MAX) {
			problem(resp, 400, "field 'dag_run_id' must be a string of 1 to %d "
				"characters", SCHED_ID_MAX);
			goto out;
		}
	}
	const json_t *note = json_object_get(body, "note");
	if (note && !json_is_null(note) && !json_is_string(note)) {
		problem(resp, 400, "field 'note' must be a string");
		goto out;
	}
	int rc = body_time(body, "logical_date", &logical, resp);
	if (rc == BROOK_AGAIN)
		rc = body_time(body, "execution_date", &logical, resp);
	if (rc == BROOK_ERR)
		goto out;
	if (rc == BROOK_AGAIN)
		logical = 0;
	json_t *run = scheduler_trigger(a->s, brook_http_param(req, "dag_id"), run_id, conf,
					logical, &e);
	if (!run) {
		sched_problem(resp, &e);
		goto out;
	}
	reply_json(resp, 200, run);
out:
	json_decref(body);
}

static void api_backfill(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	static const char *const fields[] = {"from", "to", "conf", NULL};
	sched_api *a = arg;
	sched_error e = {0};
	const json_t *conf;
	int64_t from, to;
	json_t *body = body_object(req, resp);

	if (!body)
		return;
	if (check_fields(body, fields, resp) || body_conf(body, &conf, resp))
		goto out;
	int rf = body_time(body, "from", &from, resp);
	if (rf == BROOK_ERR)
		goto out;
	int rt = body_time(body, "to", &to, resp);
	if (rt == BROOK_ERR)
		goto out;
	if (rf == BROOK_AGAIN || rt == BROOK_AGAIN) {
		problem(resp, 400, "fields 'from' and 'to' (ISO-8601 date-times) are required");
		goto out;
	}
	if (from > to) {
		problem(resp, 400, "'from' is after 'to': nothing to backfill");
		goto out;
	}
	json_t *j = scheduler_backfill(a->s, brook_http_param(req, "dag_id"), from, to, conf, &e);
	if (!j) {
		sched_problem(resp, &e);
		goto out;
	}
	reply_json(resp, 200, j);
out:
	json_decref(body);
}

/* A boolean field; absent or null -> def; else 400. */
static int body_bool(const json_t *body, const char *key, bool def, bool *out,
		     brook_http_response *resp)
{
	const json_t *v = json_object_get(body, key);

	*out = def;
	if (!v || json_is_null(v))
		return BROOK_OK;
	if (!json_is_boolean(v)) {
		problem(resp, 400, "field '%s' must be true or false", key);
		return BROOK_ERR;
	}
	*out = json_is_true(v);
	return BROOK_OK;
}

/* Airflow's clearTaskInstances, for one run (dag_run_id is required here). */
static void api_clear(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	static const char *const fields[] = {"dag_run_id", "task_ids", "only_failed",
					     "include_downstream", "dry_run", NULL};
	sched_api *a = arg;
	sched_error e = {0};
	bool only_failed, downstream, dry_run;
	json_t *body = body_object(req, resp);

	if (!body)
		return;
	if (check_fields(body, fields, resp) ||
	    body_bool(body, "only_failed", false, &only_failed, resp) ||
	    body_bool(body, "include_downstream", false, &downstream, resp) ||
	    body_bool(body, "dry_run", true, &dry_run, resp))
		goto out;
	const char *run_id = json_string_value(json_object_get(body, "dag_run_id"));
	if (!run_id) {
		problem(resp, 400, "field 'dag_run_id' (a string) is required");
		goto out;
	}
	json_t *j = scheduler_clear(a->s, brook_http_param(req, "dag_id"), run_id,
				    json_object_get(body, "task_ids"), only_failed, downstream,
				    dry_run, &e);
	reply_or_problem(resp, j, &e);
out:
	json_decref(body);
}

static void api_get_run(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	json_t *j = scheduler_get_run(a->s, brook_http_param(req, "dag_id"),
				      brook_http_param(req, "dag_run_id"), &e);

	reply_or_problem(resp, j, &e);
}

static void api_list_tis(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	json_t *j = scheduler_list_tis(a->s, brook_http_param(req, "dag_id"),
				       brook_http_param(req, "dag_run_id"), &e);

	reply_or_problem(resp, j, &e);
}

static void api_get_ti(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	json_t *j = scheduler_get_ti(a->s, brook_http_param(req, "dag_id"),
				     brook_http_param(req, "dag_run_id"),
				     brook_http_param(req, "task_id"), &e);

	reply_or_problem(resp, j, &e);
}

static void api_xcom(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	json_t *j = scheduler_list_xcom(a->s, brook_http_param(req, "dag_id"),
					brook_http_param(req, "dag_run_id"),
					brook_http_param(req, "task_id"), &e);

	reply_or_problem(resp, j, &e);
}

static void api_log(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	const char *t = brook_http_param(req, "task_try_number");
	const char *accept = brook_http_header(req, "Accept");
	char *end;

	errno = 0;
	long try_no = strtol(t, &end, 10);
	if (errno || end == t || *end || try_no < 1 || try_no > 1000000) {
		problem(resp, 400, "task_try_number must be a positive integer, not '%.100s'", t);
		return;
	}
	char *log = scheduler_task_log(a->s, brook_http_param(req, "dag_id"),
				       brook_http_param(req, "dag_run_id"),
				       brook_http_param(req, "task_id"), (int)try_no, &e);
	if (!log) {
		sched_problem(resp, &e);
		return;
	}
	if (accept && strstr(accept, "application/json")) {
		reply_json(resp, 200, json_pack("{s:s,s:n}", "content", log,
						"continuation_token"));
	} else {
		resp->content_type = "text/plain; charset=utf-8";
		brook_buf_puts(&resp->body, log);
	}
	free(log);
}

/* ---- HTML --------------------------------------------------------------------------- */

static const char *state_colour(const char *state)
{
	static const struct { const char *state, *colour; } map[] = {
		{"success", "#2e8b57"},  {"failed", "#dc143c"},    {"running", "#32cd32"},
		{"queued", "#a9a9a9"},   {"up_for_retry", "#ffd700"},
		{"upstream_failed", "#ffa500"}, {"skipped", "#ff69b4"},
	};
	for (size_t i = 0; state && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(state, map[i].state))
			return map[i].colour;
	return "#ffffff";
}

static void html_begin(brook_buf *b, const char *title)
{
	brook_buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		       "<meta http-equiv=\"refresh\" content=\"5\"><title>");
	html_escape(b, title);
	brook_buf_puts(b, "</title><style>body{font-family:sans-serif}"
		       "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
		       "padding:2px 6px;font-size:13px}td.c{width:14px;height:14px;padding:0}"
		       "td.c a{display:block;width:100%;height:100%}</style></head><body>\n");
}

static void html_end(brook_buf *b)
{
	brook_buf_puts(b, "<p>States: ");
	static const char *states[] = {"queued", "running", "success", "failed", "up_for_retry",
				       "upstream_failed", "skipped"};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		brook_buf_printf(b, "<span style=\"background:%s;padding:0 4px\">%s</span> ",
				 state_colour(states[i]), states[i]);
	brook_buf_puts(b, "</p></body></html>\n");
}

/* One coloured cell; href (already URL-safe) may be NULL. */
static void html_cell(brook_buf *b, const char *state, const char *title, const char *href)
{
	brook_buf_printf(b, "<td class=\"c\" style=\"background:%s\" title=\"",
			 state_colour(state));
	html_escape(b, title);
	brook_buf_puts(b, ": ");
	html_escape(b, state && state[0] ? state : "no status");
	brook_buf_puts(b, "\">");
	if (href) {
		brook_buf_puts(b, "<a href=\"");
		html_escape(b, href);
		brook_buf_puts(b, "\"></a>");
	}
	brook_buf_puts(b, "</td>");
}

static void html_error(brook_http_response *resp, const sched_error *e)
{
	resp->status = e->status >= 400 && e->status <= 599 ? e->status : 500;
	resp->content_type = "text/html; charset=utf-8";
	brook_buf_reset(&resp->body);
	html_begin(&resp->body, "brook scheduler: error");
	brook_buf_puts(&resp->body, "<h1>Error</h1><p>");
	html_escape(&resp->body, e->msg);
	brook_buf_puts(&resp->body, "</p><p><a href=\"/home\">all DAGs</a></p></body></html>\n");
}

static void html_home(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	brook_buf *b = &resp->body;

	(void)req;
	json_t *all = scheduler_list_dags(a->s, &e);
	if (!all) {
		html_error(resp, &e);
		return;
	}
	resp->content_type = "text/html; charset=utf-8";
	html_begin(b, "brook scheduler: DAGs");
	brook_buf_puts(b, "<h1>DAGs</h1>\n<table><tr><th>DAG</th><th>schedule</th>"
		       "<th>paused</th><th>next run</th><th>recent runs (oldest left)</th></tr>\n");
	json_t *dags = json_object_get(all, "dags");
	size_t i;
	json_t *d;
	json_array_foreach(dags, i, d) {
		const char *id = jstr(d, "dag_id");
		brook_buf link = BROOK_BUF_INIT;
		brook_buf_puts(&link, "/dags/");
		sched_api_put_segment(&link, id);
		brook_buf_puts(&link, "/grid");
		brook_buf_puts(b, "<tr><td><a href=\"");
		html_escape(b, link.data);
		brook_buf_puts(b, "\">");
		html_escape(b, id);
		brook_buf_puts(b, "</a></td><td>");
		html_escape(b, jstr(json_object_get(d, "schedule_interval"), "value"));
		brook_buf_printf(b, "</td><td>%s</td><td>",
				 json_is_true(json_object_get(d, "is_paused")) ? "yes" : "no");
		html_escape(b, jstr(d, "next_dagrun"));
		brook_buf_puts(b, "</td><td><table><tr>");
		sched_error re = {0};
		json_t *runs = scheduler_list_runs(a->s, id, API_HOME_RUNS, 0, &re);
		json_t *arr = json_object_get(runs, "dag_runs");
		for (size_t k = json_array_size(arr); k-- > 0;) {
			json_t *r = json_array_get(arr, k);
			html_cell(b, jstr(r, "state"), jstr(r, "dag_run_id"), NULL);
		}
		if (!json_array_size(arr))
			brook_buf_puts(b, "<td>no runs</td>");
		json_decref(runs);
		brook_buf_puts(b, "</tr></table></td></tr>\n");
		brook_buf_release(&link);
	}
	brook_buf_puts(b, "</table>\n");
	json_decref(all);
	html_end(b);
}

static void html_grid(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;
	sched_error e = {0};
	brook_buf *b = &resp->body;
	const char *dag_id = brook_http_param(req, "dag_id");
	const sched_dag *dag = sched_dagbag_find(scheduler_dags(a->s), dag_id);

	if (!dag) {
		e.status = 404;
		snprintf(e.msg, sizeof e.msg, "DAG '%.200s' does not exist", dag_id);
		html_error(resp, &e);
		return;
	}
	json_t *runs = scheduler_list_runs(a->s, dag_id, API_GRID_RUNS, 0, &e);
	if (!runs) {
		html_error(resp, &e);
		return;
	}
	json_t *arr = json_object_get(runs, "dag_runs");
	size_t nruns = json_array_size(arr);
	/* Task instances per run, oldest run first (column order). */
	json_t **tis = brook_calloc(nruns ? nruns : 1, sizeof *tis);
	for (size_t k = 0; k < nruns; k++) {
		json_t *r = json_array_get(arr, nruns - 1 - k);
		sched_error te = {0};
		tis[k] = scheduler_list_tis(a->s, dag_id, jstr(r, "dag_run_id"), &te);
	}
	resp->content_type = "text/html; charset=utf-8";
	html_begin(b, dag_id);
	brook_buf_puts(b, "<p><a href=\"/home\">all DAGs</a></p><h1>");
	html_escape(b, dag_id);
	brook_buf_puts(b, "</h1>\n<p>");
	html_escape(b, dag->description);
	brook_buf_puts(b, "</p><p>schedule: ");
	html_escape(b, dag->schedule_text);
	brook_buf_puts(b, "</p>\n<table><tr><th>task \\ run (oldest left)</th>");
	for (size_t k = 0; k < nruns; k++) {
		json_t *r = json_array_get(arr, nruns - 1 - k);
		html_cell(b, jstr(r, "state"), jstr(r, "dag_run_id"), NULL);
	}
	brook_buf_puts(b, "</tr>\n");
	for (size_t t = 0; t < dag->ntasks; t++) {
		const char *task_id = dag->tasks[t].task_id;
		brook_buf_puts(b, "<tr><td>");
		html_escape(b, task_id);
		brook_buf_puts(b, "</td>");
		for (size_t k = 0; k < nruns; k++) {
			json_t *r = json_array_get(arr, nruns - 1 - k);
			const char *run_id = jstr(r, "dag_run_id");
			json_t *ti = NULL, *x;
			size_t i;
			json_array_foreach(json_object_get(tis[k], "task_instances"), i, x) {
				if (!strcmp(jstr(x, "task_id"), task_id)) {
					ti = x;
					break;
				}
			}
			json_int_t try_no = json_integer_value(json_object_get(ti, "try_number"));
			brook_buf href = BROOK_BUF_INIT, title = BROOK_BUF_INIT;
			if (try_no >= 1) {
				brook_buf_puts(&href, "/api/v1/dags/");
				sched_api_put_segment(&href, dag_id);
				brook_buf_puts(&href, "/dagRuns/");
				sched_api_put_segment(&href, run_id);
				brook_buf_puts(&href, "/taskInstances/");
				sched_api_put_segment(&href, task_id);
				brook_buf_printf(&href, "/logs/%lld", (long long)try_no);
			}
			brook_buf_printf(&title, "%s %s", run_id, task_id);
			html_cell(b, ti ? jstr(ti, "state") : "", title.data,
				  try_no >= 1 ? href.data : NULL);
			brook_buf_release(&href);
			brook_buf_release(&title);
		}
		brook_buf_puts(b, "</tr>\n");
	}
	brook_buf_puts(b, "</table>\n");
	if (!nruns)
		brook_buf_puts(b, "<p>no runs yet</p>\n");
	for (size_t k = 0; k < nruns; k++)
		json_decref(tis[k]);
	free(tis);
	json_decref(runs);
	html_end(b);
}

/* ---- routing ------------------------------------------------------------------------ */

#define RUN "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}"
#define TI RUN "/taskInstances/{task_id}"

static void api_metrics(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	sched_api *a = arg;

	(void)req;
	resp->content_type = "text/plain; version=0.0.4";
	scheduler_render_metrics(a->s, &resp->body);
}

static const brook_http_route api_routes[] = {
	{"GET", "/api/v1/health", api_health, NULL},
	{"GET", "/api/v1/dags", api_list_dags, NULL},
	{"GET", "/api/v1/dags/{dag_id}", api_get_dag, NULL},
	{"PATCH", "/api/v1/dags/{dag_id}", api_patch_dag, NULL},
	{"GET", "/api/v1/dags/{dag_id}/dagRuns", api_list_runs, NULL},
	{"POST", "/api/v1/dags/{dag_id}/dagRuns", api_trigger, NULL},
	{"POST", "/api/v1/dags/{dag_id}/backfill", api_backfill, NULL},
	{"POST", "/api/v1/dags/{dag_id}/clearTaskInstances", api_clear, NULL},
	{"GET", RUN, api_get_run, NULL},
	{"GET", RUN "/taskInstances", api_list_tis, NULL},
	{"GET", TI, api_get_ti, NULL},
	{"GET", TI "/logs/{task_try_number}", api_log, NULL},
	{"GET", TI "/xcomEntries", api_xcom, NULL},
	{"GET", "/metrics", api_metrics, NULL},
	{"GET", "/", html_home, NULL},
	{"GET", "/home", html_home, NULL},
	{"GET", "/dags/{dag_id}/grid", html_grid, NULL},
};
#define NROUTES (sizeof api_routes / sizeof api_routes[0])

/* Does the path (raw, "/a/b") have the shape of pattern? Placeholders match any
 * non-empty segment. */
static int shape_match(const char *pattern, const char *path)
{
	const char *p = pattern, *q = path;

	while (*p && *q) {
		if (*p != '/' || *q != '/')
			return 0;
		p++;
		q++;
		size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
		if (pl >= 2 && p[0] == '{') {
			if (ql == 0)
				return 0;
		} else if (pl != ql || strncmp(p, q, pl) != 0) {
			return 0;
		}
		p += pl;
		q += ql;
	}
	return !*p && !*q;
}

static void api_fallback(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	const char *path = brook_http_path(req);
	brook_buf allow = BROOK_BUF_INIT;

	(void)arg;
	for (size_t i = 0; i < NROUTES; i++) {
		if (!shape_match(api_routes[i].pattern, path))
			continue;
		if (allow.len)
			brook_buf_puts(&allow, ", ");
		brook_buf_puts(&allow, api_routes[i].method);
	}
	if (allow.len) {
		problem(resp, 405, "method %s is not allowed on %.200s (allowed: %s)",
			brook_http_method(req), path, allow.data);
		brook_http_set_header(resp, "Allow", allow.data);
	} else {
		problem(resp, 404, "no API endpoint at %.200s (see /api/v1/dags)", path);
	}
	brook_buf_release(&allow);
}

sched_api *sched_api_open(scheduler *s, const char *host, int port, char *err, size_t errlen)
{
	static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE"};
	brook_http_route routes[NROUTES + sizeof methods / sizeof methods[0]];
	sched_api *a = brook_calloc(1, sizeof *a);
	size_t n = 0;

	a->s = s;
	for (size_t i = 0; i < NROUTES; i++) {
		routes[n] = api_routes[i];
		routes[n++].arg = a;
	}
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		routes[n++] = (brook_http_route){methods[i], "/api/*", api_fallback, a};
	brook_httpd_opts ho = {
		.host = host && host[0] ? host : "127.0.0.1",
		.port = port,
		.threads = 4,
		.max_body_bytes = API_MAX_BODY,
		.component = API_COMPONENT,
	};
	a->http = brook_httpd_open(&ho, routes, n, err, errlen);
	if (!a->http) {
		free(a);
		return NULL;
	}
	return a;
}

int sched_api_port(const sched_api *a)
{
	return brook_httpd_port(a->http);
}

void sched_api_close(sched_api *a)
{
	if (!a)
		return;
	brook_httpd_close(a->http);
	free(a);
}
