/*
 * cmd_dags.c — `brook dags …`: the scheduler's REST API from the command line.
 *
 *   list | trigger DAG [--conf JSON] [--run-id ID] [--wait] | runs DAG [--limit N]
 *   | tasks DAG RUN_ID | log DAG RUN_ID TASK [--try N]
 *   | backfill DAG --from DATE --to DATE [--wait] | pause DAG | unpause DAG
 *   | clear DAG RUN_ID [--task TASK] [--only-failed] [--downstream]
 *   | test DAG TASK [--conf JSON]
 *
 * Every subcommand but `test` is one or a few HTTP requests to --url (default
 * http://<scheduler.listen>); `test` runs the task here through scheduler_test_task,
 * with no scheduler needed. Output is a table for people, or with --json the API's
 * JSON as it came. --wait polls every DAGS_POLL_MS, printing each task state change,
 * until the run(s) end.
 *
 * Exit codes: 0 done (or the awaited runs succeeded), 1 an API error, an unreachable
 * scheduler or a failed run, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/httpc.h"
#include "core/httpd.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "scheduler/api.h"
#include "scheduler/scheduler.h"

#define DAGS_POLL_MS 500

static const brook_cli_opt dags_opts[] = {
	{"url", 0, "URL", NULL, "the scheduler's API (default http://<scheduler.listen>)"},
	{"data", 0, "DIR", "data", NULL},
	{"json", 0, NULL, NULL, "print the API's JSON instead of a table"},
	{"conf", 0, "JSON", NULL, "trigger/test: the run's conf, a JSON object"},
	{"run-id", 0, "ID", NULL, "trigger: the run id (default manual__<logical date>)"},
	{"wait", 0, NULL, NULL, "trigger/backfill: wait for the run(s) to end; exit 1 if one "
				 "failed"},
	{"limit", 0, "N", NULL, "runs: how many runs to show, newest first (default 25)"},
	{"try", 0, "N", NULL, "log: the try number (default: the latest try)"},
	{"from", 0, "DATE", NULL, "backfill: first logical date (ISO 8601)"},
	{"to", 0, "DATE", NULL, "backfill: last logical date (ISO 8601)"},
	{"task", 0, "TASK", NULL, "clear: only this task (default: every task of the run)"},
	{"only-failed", 0, NULL, NULL, "clear: only failed and upstream_failed tasks"},
	{"downstream", 0, NULL, NULL, "clear: also the tasks downstream of those cleared"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "dags",
	.usage = "list | trigger DAG [--conf JSON] [--run-id ID] [--wait] | runs DAG [--limit N]"
		 "\n       | tasks DAG RUN_ID | log DAG RUN_ID TASK [--try N]"
		 "\n       | backfill DAG --from DATE --to DATE [--wait] | pause DAG | unpause DAG"
		 "\n       | clear DAG RUN_ID [--task TASK] [--only-failed] [--downstream]"
		 "\n       | test DAG TASK [--conf JSON]   [--url URL] [--json]",
	.summary =
		"Inspect and drive the DAGs of a running `brook scheduler` through its REST API\n"
		"(Airflow's stable API v1): list DAGs, trigger a run (with --wait, follow it\n"
		"until it ends), list runs and task instances, read a task's log, backfill a\n"
		"date range, pause and unpause, clear finished tasks so they run again. A\n"
		"paused DAG's runs stay queued until it is unpaused. `test` runs one task once, here, without a scheduler and without\n"
		"recording history (Airflow's `tasks test`). Exit codes: 0 success, 1 API error\n"
		"or failed run, 2 usage.",
	.opts = dags_opts,
	.min_args = 1,
	.max_args = 4,
};

typedef struct dags_ctx {
	brook_cli *cli;
	brook_httpc *http;
	char *base; /* "http://127.0.0.1:8080" without a trailing slash */
	int json;
} dags_ctx;

/* ---- HTTP --------------------------------------------------------------------------- */

/* One request. 2xx: BROOK_OK with *out the body (caller releases) — else the error was
 * printed and BROOK_ERR returned. */
static int request_raw(dags_ctx *c, const char *method, const char *path, const json_t *body,
		       brook_buf *out)
{
	brook_httpc_result res;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	brook_buf url = BROOK_BUF_INIT;

	brook_buf_printf(&url, "%s%s", c->base, path);
	int rc = brook_httpc_request(c->http, method, url.data, text ? "application/json" : NULL,
				     text, text ? strlen(text) : 0, &res);
	free(text);
	brook_buf_release(&url);
	if (rc != BROOK_OK) {
		fprintf(stderr, "brook dags: cannot reach the scheduler at %s (%s): is `brook "
				"scheduler` running at %s?\n", c->base, res.error, c->base);
		brook_httpc_result_release(&res);
		return BROOK_ERR;
	}
	if (res.status < 200 || res.status > 299) {
		json_t *j = json_loadb(res.body.data ? res.body.data : "", res.body.len, 0, NULL);
		const char *detail = json_string_value(json_object_get(j, "detail"));
		if (!detail)
			detail = json_string_value(json_object_get(j, "message"));
		if (!detail)
			detail = res.body.len ? res.body.data : "no details";
		fprintf(stderr, "brook dags: %s (HTTP %ld)\n", detail, res.status);
		json_decref(j);
		brook_httpc_result_release(&res);
		return BROOK_ERR;
	}
	*out = res.body;
	res.body = (brook_buf)BROOK_BUF_INIT;
	brook_httpc_result_release(&res);
	return BROOK_OK;
}

/* As request_raw, the body parsed as JSON (NULL after an error was printed). With --json
 * and print set, the body is printed as it came. */
static json_t *request(dags_ctx *c, const char *method, const char *path, const json_t *body,
		       int print)
{
	brook_buf out = BROOK_BUF_INIT;
	json_error_t je;

	if (request_raw(c, method, path, body, &out) != BROOK_OK)
		return NULL;
	json_t *j = json_loadb(out.data ? out.data : "", out.len, 0, &je);
	if (!j)
		fprintf(stderr, "brook dags: the scheduler answered something that is not JSON: "
				"%s\n", je.text);
	else if (print && c->json)
		printf("%s\n", out.data);
	brook_buf_release(&out);
	return j;
}

/* "/api/v1/dags/<dag>[/dagRuns/<run>[/taskInstances/<task>]]" + suffix, URL-escaped. */
static void api_path(brook_buf *b, const char *dag, const char *run, const char *task,
		     const char *suffix)
{
	brook_buf_puts(b, "/api/v1/dags/");
	sched_api_put_segment(b, dag);
	if (run) {
		brook_buf_puts(b, "/dagRuns/");
		sched_api_put_segment(b, run);
	}
	if (task) {
		brook_buf_puts(b, "/taskInstances/");
		sched_api_put_segment(b, task);
	}
	if (suffix)
		brook_buf_puts(b, suffix);
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && v[0] ? v : "-";
}

static int parse_conf(const char *text, json_t **conf)
{
	json_error_t je;

	*conf = NULL;
	if (!text)
		return BROOK_OK;
	*conf = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!*conf || !json_is_object(*conf)) {
		fprintf(stderr, "brook dags: --conf must be a JSON object such as "
				"'{\"max_records\": 3000}'%s%s\n", *conf ? "" : ": ",
			*conf ? "" : je.text);
		json_decref(*conf);
		*conf = NULL;
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* ---- waiting ------------------------------------------------------------------------ */

static int run_finished(const char *state)
{
	return !strcmp(state, "success") || !strcmp(state, "failed");
}

/* Poll one run until it ends, printing task state changes ("task: state"). Returns 0
 * success, 1 failed or error. */
static int wait_run(dags_ctx *c, const char *dag, const char *run_id)
{
	json_t *seen = json_object(); /* task_id -> "state/try" last printed */
	brook_buf runp = BROOK_BUF_INIT, tisp = BROOK_BUF_INIT;
	int rc = 1;

	api_path(&runp, dag, run_id, NULL, NULL);
	api_path(&tisp, dag, run_id, NULL, "/taskInstances");
	for (;;) {
		json_t *tis = request(c, "GET", tisp.data, NULL, 0);
		json_t *run = tis ? request(c, "GET", runp.data, NULL, 0) : NULL;
		if (!run) {
			json_decref(tis);
			break;
		}
		size_t i;
		json_t *ti;
		json_array_foreach(json_object_get(tis, "task_instances"), i, ti) {
			const char *task = jstr(ti, "task_id"), *state = jstr(ti, "state");
			if (!strcmp(state, "-"))
				state = "none"; /* Airflow's null state: not scheduled yet */
			char key[64];
			snprintf(key, sizeof key, "%s/%lld", state,
				 (long long)json_integer_value(json_object_get(ti, "try_number")));
			const char *prev = json_string_value(json_object_get(seen, task));
			if (prev && !strcmp(prev, key))
				continue;
			json_object_set_new(seen, task, json_string(key));
			if (!c->json)
				printf("%s  %s  %s (try %lld)\n", run_id, task, state,
				       (long long)json_integer_value(json_object_get(ti,
								"try_number")));
			fflush(stdout);
		}
		const char *state = jstr(run, "state");
		int done = run_finished(state);
		if (done) {
			if (c->json) {
				char *t = json_dumps(run, JSON_COMPACT);
				printf("%s\n", t);
				free(t);
			} else {
				printf("run %s of %s: %s\n", run_id, dag, state);
			}
			rc = strcmp(state, "success") != 0;
		}
		json_decref(tis);
		json_decref(run);
		if (done)
			break;
		brook_sleep_ms(DAGS_POLL_MS);
	}
	brook_buf_release(&runp);
	brook_buf_release(&tisp);
	json_decref(seen);
	return rc;
}

/* Warn when the DAG is paused: its runs stay queued. */
static void warn_paused(dags_ctx *c, const char *dag)
{
	brook_buf p = BROOK_BUF_INIT;
	api_path(&p, dag, NULL, NULL, NULL);
	json_t *d = request(c, "GET", p.data, NULL, 0);
	if (d && json_is_true(json_object_get(d, "is_paused")))
		fprintf(stderr, "brook dags: warning: DAG %s is paused: the run stays queued until "
				"`brook dags unpause %s`\n", dag, dag);
	json_decref(d);
	brook_buf_release(&p);
}

/* ---- subcommands -------------------------------------------------------------------- */

static int dags_list(dags_ctx *c)
{
	json_t *j = request(c, "GET", "/api/v1/dags?limit=1000", NULL, 1);
	size_t i;
	json_t *d;

	if (!j)
		return 1;
	if (!c->json) {
		printf("%-30s %-20s %-6s %s\n", "DAG_ID", "SCHEDULE", "PAUSED", "NEXT_RUN");
		json_array_foreach(json_object_get(j, "dags"), i, d)
			printf("%-30s %-20s %-6s %s\n", jstr(d, "dag_id"),
			       jstr(json_object_get(d, "schedule_interval"), "value"),
			       json_is_true(json_object_get(d, "is_paused")) ? "yes" : "no",
			       jstr(d, "next_dagrun"));
	}
	json_decref(j);
	return 0;
}

static int dags_trigger(dags_ctx *c, const char *dag)
{
	json_t *conf, *body = json_object();
	const char *run_id = brook_cli_opt_value(c->cli, "run-id");
	int rc = 1;

	if (parse_conf(brook_cli_opt_value(c->cli, "conf"), &conf) != BROOK_OK) {
		json_decref(body);
		return 2;
	}
	json_object_set_new(body, "conf", conf ? conf : json_object());
	if (run_id)
		json_object_set_new(body, "dag_run_id", json_string(run_id));
	brook_buf p = BROOK_BUF_INIT;
	api_path(&p, dag, NULL, NULL, "/dagRuns");
	int wait = brook_cli_opt_value(c->cli, "wait") != NULL;
	json_t *run = request(c, "POST", p.data, body, !wait);
	if (run) {
		if (!c->json)
			printf("triggered run %s of %s (%s)\n", jstr(run, "dag_run_id"), dag,
			       jstr(run, "state"));
		warn_paused(c, dag);
		rc = wait ? wait_run(c, dag, jstr(run, "dag_run_id")) : 0;
	}
	json_decref(run);
	json_decref(body);
	brook_buf_release(&p);
	return rc;
}

static int parse_count(const char *v, const char *what, long max, long *out)
{
	char *end;

	if (!v)
		return BROOK_OK;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > max) {
		fprintf(stderr, "brook dags: %s must be a number from 1 to %ld, not '%s'\n", what,
			max, v);
		return BROOK_ERR;
	}
	*out = n;
	return BROOK_OK;
}

static int dags_runs(dags_ctx *c, const char *dag)
{
	long limit = 25;
	size_t i;
	json_t *r;

	if (parse_count(brook_cli_opt_value(c->cli, "limit"), "--limit", 1000, &limit))
		return 2;
	brook_buf p = BROOK_BUF_INIT;
	api_path(&p, dag, NULL, NULL, NULL);
	brook_buf_printf(&p, "/dagRuns?limit=%ld", limit);
	json_t *j = request(c, "GET", p.data, NULL, 1);
	brook_buf_release(&p);
	if (!j)
		return 1;
	if (!c->json) {
		printf("%-45s %-16s %-10s %-29s %-29s %s\n", "RUN_ID", "STATE", "TYPE",
		       "LOGICAL_DATE", "START", "END");
		json_array_foreach(json_object_get(j, "dag_runs"), i, r)
			printf("%-45s %-16s %-10s %-29s %-29s %s\n", jstr(r, "dag_run_id"),
			       jstr(r, "state"), jstr(r, "run_type"), jstr(r, "logical_date"),
			       jstr(r, "start_date"), jstr(r, "end_date"));
	}
	json_decref(j);
	return 0;
}

static int dags_tasks(dags_ctx *c, const char *dag, const char *run_id)
{
	size_t i;
	json_t *t;
	brook_buf p = BROOK_BUF_INIT;

	api_path(&p, dag, run_id, NULL, "/taskInstances");
	json_t *j = request(c, "GET", p.data, NULL, 1);
	brook_buf_release(&p);
	if (!j)
		return 1;
	if (!c->json) {
		printf("%-30s %-16s %-5s %-29s %-29s %s\n", "TASK_ID", "STATE", "TRY", "START",
		       "END", "DURATION");
		json_array_foreach(json_object_get(j, "task_instances"), i, t) {
			const json_t *dur = json_object_get(t, "duration");
			char d[32] = "-";
			if (json_is_number(dur))
				snprintf(d, sizeof d, "%.3fs", json_number_value(dur));
			printf("%-30s %-16s %-5lld %-29s %-29s %s\n", jstr(t, "task_id"),
			       jstr(t, "state"),
			       (long long)json_integer_value(json_object_get(t, "try_number")),
			       jstr(t, "start_date"), jstr(t, "end_date"), d);
		}
	}
	json_decref(j);
	return 0;
}

static int dags_log(dags_ctx *c, const char *dag, const char *run_id, const char *task)
{
	long try_no = 0;
	brook_buf p = BROOK_BUF_INIT, out = BROOK_BUF_INIT;
	int rc = 1;

	if (parse_count(brook_cli_opt_value(c->cli, "try"), "--try", 1000000, &try_no))
		return 2;
	if (!try_no) { /* the latest try */
		api_path(&p, dag, run_id, task, NULL);
		json_t *ti = request(c, "GET", p.data, NULL, 0);
		if (!ti)
			goto out;
		try_no = (long)json_integer_value(json_object_get(ti, "try_number"));
		json_decref(ti);
		if (try_no < 1)
			try_no = 1;
		brook_buf_reset(&p);
	}
	api_path(&p, dag, run_id, task, NULL);
	brook_buf_printf(&p, "/logs/%ld", try_no);
	if (request_raw(c, "GET", p.data, NULL, &out) != BROOK_OK)
		goto out;
	if (c->json) { /* the text log wrapped like the API's JSON answer, with its key */
		json_t *wrap = json_pack("{s:s,s:s,s:s,s:i,s:s%}", "dag_id", dag, "dag_run_id",
					 run_id, "task_id", task, "try_number", (int)try_no,
					 "content", out.data ? out.data : "", out.len);
		char *t = json_dumps(wrap, JSON_COMPACT);
		printf("%s\n", t ? t : "null");
		free(t);
		json_decref(wrap);
		rc = 0;
		goto out;
	}
	if (out.len)
		fwrite(out.data, 1, out.len, stdout);
	rc = 0;
out:
	brook_buf_release(&p);
	brook_buf_release(&out);
	return rc;
}

static int dags_backfill(dags_ctx *c, const char *dag)
{
	const char *from = brook_cli_opt_value(c->cli, "from");
	const char *to = brook_cli_opt_value(c->cli, "to");
	int64_t fms, tms;
	json_t *conf;
	char fbuf[BROOK_ISO8601_LEN + 1], tbuf[BROOK_ISO8601_LEN + 1];

	if (!from || !to || brook_time_parse_iso8601(from, &fms) != BROOK_OK ||
	    brook_time_parse_iso8601(to, &tms) != BROOK_OK) {
		fprintf(stderr, "brook dags: backfill needs --from DATE and --to DATE, ISO-8601 "
				"dates such as 2024-03-01 or 2024-03-01T10:00:00Z\n");
		return 2;
	}
	if (parse_conf(brook_cli_opt_value(c->cli, "conf"), &conf) != BROOK_OK)
		return 2;
	brook_time_format_iso8601(fms, fbuf);
	brook_time_format_iso8601(tms, tbuf);
	json_t *body = json_pack("{s:s,s:s}", "from", fbuf, "to", tbuf);
	if (conf)
		json_object_set_new(body, "conf", conf);
	brook_buf p = BROOK_BUF_INIT;
	api_path(&p, dag, NULL, NULL, "/backfill");
	int wait = brook_cli_opt_value(c->cli, "wait") != NULL;
	json_t *j = request(c, "POST", p.data, body, !wait);
	json_decref(body);
	brook_buf_release(&p);
	if (!j)
		return 1;
	json_t *runs = json_object_get(j, "dag_runs");
	size_t i;
	json_t *r;
	int rc = 0;
	if (!c->json) {
		printf("backfill of %s created %zu runs\n", dag, json_array_size(runs));
		json_array_foreach(runs, i, r)
			printf("  %s (%s)\n", jstr(r, "dag_run_id"), jstr(r, "state"));
	}
	if (wait)
		json_array_foreach(runs, i, r)
			rc |= wait_run(c, dag, jstr(r, "dag_run_id"));
	json_decref(j);
	return rc;
}

static int dags_pause(dags_ctx *c, const char *dag, int paused)
{
	brook_buf p = BROOK_BUF_INIT;
	json_t *body = json_pack("{s:b}", "is_paused", paused);

	api_path(&p, dag, NULL, NULL, "?update_mask=is_paused");
	json_t *j = request(c, "PATCH", p.data, body, 1);
	json_decref(body);
	brook_buf_release(&p);
	if (!j)
		return 1;
	if (!c->json)
		printf("%s %s\n", dag, json_is_true(json_object_get(j, "is_paused")) ?
			"paused" : "unpaused");
	json_decref(j);
	return 0;
}

/* Airflow's "clear" of one run's finished tasks: they run again. */
static int dags_clear(dags_ctx *c, const char *dag, const char *run)
{
	brook_buf p = BROOK_BUF_INIT;
	const char *task = brook_cli_opt_value(c->cli, "task");
	json_t *body = json_pack("{s:s,s:b,s:b,s:b}", "dag_run_id", run, "only_failed",
				 brook_cli_opt_value(c->cli, "only-failed") != NULL,
				 "include_downstream",
				 brook_cli_opt_value(c->cli, "downstream") != NULL, "dry_run", 0);
	if (task)
		json_object_set_new(body, "task_ids", json_pack("[s]", task));
	api_path(&p, dag, NULL, NULL, "/clearTaskInstances");
	json_t *j = request(c, "POST", p.data, body, 1);
	json_decref(body);
	brook_buf_release(&p);
	if (!j)
		return 1;
	if (!c->json) {
		json_t *tis = json_object_get(j, "task_instances");
		printf("cleared %zu task instance%s of %s/%s\n", json_array_size(tis),
		       json_array_size(tis) == 1 ? "" : "s", dag, run);
		for (size_t i = 0; i < json_array_size(tis); i++)
			printf("  %s\n", jstr(json_array_get(tis, i), "task_id"));
	}
	json_decref(j);
	return 0;
}

static int dags_test(dags_ctx *c, const char *dag, const char *task)
{
	json_t *conf, *result = NULL;
	char err[512];

	if (parse_conf(brook_cli_opt_value(c->cli, "conf"), &conf) != BROOK_OK)
		return 2;
	int rc = scheduler_test_task(c->cli->cfg, dag, task, conf, &result, err, sizeof err);
	json_decref(conf);
	if (rc != BROOK_OK) {
		fprintf(stderr, "brook dags: task %s of %s failed: %s\n", task, dag, err);
		json_decref(result);
		return 1;
	}
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:O?}", "dag_id", dag, "task_id", task,
				      "state", "success", "result", result);
		char *t = json_dumps(o, JSON_COMPACT);
		printf("%s\n", t);
		free(t);
		json_decref(o);
	} else {
		char *t = result ? json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		printf("task %s of %s succeeded%s%s\n", task, dag, t ? "; result: " : "",
		       t ? t : "");
		free(t);
	}
	json_decref(result);
	return 0;
}

/* ---- entry -------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int nargs; /* positional arguments after the subcommand */
	const char *usage;
} subcommands[] = {
	{"list", 0, "list"},
	{"trigger", 1, "trigger DAG [--conf JSON] [--run-id ID] [--wait]"},
	{"runs", 1, "runs DAG [--limit N]"},
	{"tasks", 2, "tasks DAG RUN_ID"},
	{"log", 3, "log DAG RUN_ID TASK [--try N]"},
	{"backfill", 1, "backfill DAG --from DATE --to DATE [--wait]"},
	{"pause", 1, "pause DAG"},
	{"unpause", 1, "unpause DAG"},
	{"test", 2, "test DAG TASK [--conf JSON]"},
	{"clear", 2, "clear DAG RUN_ID [--task TASK] [--only-failed] [--downstream]"},
};

static char *default_base(const brook_config *cfg)
{
	const char *listen = brook_config_str(cfg, "scheduler.listen");
	char *host = NULL;
	int port = 8080;
	brook_buf b = BROOK_BUF_INIT;

	if (!listen || brook_parse_hostport(listen, &host, &port) != BROOK_OK) {
		free(host);
		host = brook_strdup("127.0.0.1");
	}
	/* A wildcard listener is reached on the loopback. */
	if (!host[0] || !strcmp(host, "0.0.0.0"))
		brook_buf_printf(&b, "http://127.0.0.1:%d", port);
	else if (strchr(host, ':'))
		brook_buf_printf(&b, "http://[%s]:%d", host, port);
	else
		brook_buf_printf(&b, "http://%s:%d", host, port);
	free(host);
	return brook_buf_detach(&b, NULL);
}

int cmd_dags(int argc, char **argv)
{
	brook_cli cli;
	dags_ctx c = {0};
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	size_t k;

	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);
	for (k = 0; k < sizeof subcommands / sizeof subcommands[0]; k++)
		if (!strcmp(cli.args[0], subcommands[k].name))
			break;
	if (k == sizeof subcommands / sizeof subcommands[0]) {
		fprintf(stderr, "brook dags: unknown subcommand '%s' (known: list, trigger, runs, "
				"tasks, log, backfill, pause, unpause, test, clear)\n", cli.args[0]);
		brook_cli_release(&cli);
		return 2;
	}
	if (cli.nargs - 1 != subcommands[k].nargs) {
		fprintf(stderr, "brook dags: usage: brook dags %s\n", subcommands[k].usage);
		brook_cli_release(&cli);
		return 2;
	}
	c.cli = &cli;
	c.json = brook_cli_opt_value(&cli, "json") != NULL;
	const char *url = brook_cli_opt_value(&cli, "url");
	if (url) {
		c.base = brook_strdup(url);
		size_t n = strlen(c.base);
		while (n > 0 && c.base[n - 1] == '/')
			c.base[--n] = '\0';
	} else {
		c.base = default_base(cli.cfg);
	}
	brook_httpc_opts ho = {.connect_timeout_ms = 5000, .timeout_ms = 60000};
	c.http = brook_httpc_new(&ho);
	char **a = cli.args;
	switch (k) {
	case 0: rc = dags_list(&c); break;
	case 1: rc = dags_trigger(&c, a[1]); break;
	case 2: rc = dags_runs(&c, a[1]); break;
	case 3: rc = dags_tasks(&c, a[1], a[2]); break;
	case 4: rc = dags_log(&c, a[1], a[2], a[3]); break;
	case 5: rc = dags_backfill(&c, a[1]); break;
	case 6: rc = dags_pause(&c, a[1], 1); break;
	case 7: rc = dags_pause(&c, a[1], 0); break;
	case 8: rc = dags_test(&c, a[1], a[2]); break;
	default: rc = dags_clear(&c, a[1], a[2]); break;
	}
	brook_httpc_free(c.http);
	free(c.base);
	brook_cli_release(&cli);
	return rc;
}
