/*
 * views.c — the run history as Airflow-shaped JSON (the read side of scheduler.h):
 * DAGs with their pause flags, DAG runs, task instances, task logs and XCom entries.
 * Each view borrows a pooled connection, runs one or two queries and shapes rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "scheduler/operator.h"
#include "scheduler/sched_int.h"

/* Run a query on a pooled connection; NULL with e filled. */
static PGresult *query(scheduler *s, const char *sql, int n, const char *const *p,
		       sched_error *e)
{
	PGconn *c = sched_conn_get(s, e);
	if (!c)
		return NULL;
	char err[512];
	PGresult *r = sched_pq(c, sql, n, p, PGRES_TUPLES_OK, err, sizeof err);
	sched_conn_put(s, c);
	if (!r)
		sched_error_set(e, 500, "%s", err);
	return r;
}

static json_t *dag_object(const sched_dag *d, bool paused, bool active)
{
	char next[SCHED_TS_LEN] = "";
	int64_t fire;
	int64_t from = brook_now_ms();
	if (from < d->start_date_ms)
		from = d->start_date_ms;
	bool has_next = sched_dag_first_fire_at_or_after(d, from, &fire) == BROOK_OK &&
			fire <= d->end_date_ms;
	if (has_next)
		sched_ts_format(fire, next);
	json_t *tasks = json_array();
	for (size_t i = 0; i < d->ntasks; i++) {
		const sched_task *t = &d->tasks[i];
		json_t *up = json_array();
		for (size_t k = 0; k < t->nupstream; k++)
			json_array_append_new(up, json_string(d->tasks[t->upstream[k]].task_id));
		json_array_append_new(
			tasks, json_pack("{s:s,s:s,s:s,s:i,s:o,s:O}", "task_id", t->task_id,
					 "operator", t->op->name, "trigger_rule",
					 sched_trigger_rule_name(t->trigger_rule), "retries",
					 t->retries, "upstream_task_ids", up, "params", t->params));
	}
	char start[SCHED_TS_LEN];
	sched_ts_format(d->start_date_ms, start);
	return json_pack("{s:s,s:s,s:b,s:b,s:{s:s,s:s},s:s,s:s,s:[],s:i,s:b,s:s,s:o,s:o}",
			 "dag_id", d->dag_id, "description", d->description, "is_paused",
			 paused, "is_active", active, "schedule_interval", "__type",
			 "CronExpression", "value", d->schedule_text, "timezone",
			 cron_zone_name(d->tz), "fileloc", d->file ? d->file : "", "tags",
			 "max_active_runs", d->max_active_runs, "catchup", d->catchup,
			 "start_date", start, "next_dagrun",
			 has_next ? json_string(next) : json_null(), "tasks", tasks);
}

/* Pause flags of every DAG in the bag (absent rows: paused upon creation). */
static bool *pause_flags(scheduler *s, sched_error *e)
{
	const sched_dagbag *bag = scheduler_dags(s);
	PGresult *r = query(s, "SELECT dag_id, is_paused FROM scheduler.dag", 0, NULL, e);
	if (!r)
		return NULL;
	bool *paused = brook_calloc(bag->n ? bag->n : 1, sizeof *paused);
	for (size_t i = 0; i < bag->n; i++)
		paused[i] = bag->dags[i].is_paused_upon_creation;
	for (int i = 0; i < PQntuples(r); i++)
		for (size_t k = 0; k < bag->n; k++)
			if (strcmp(bag->dags[k].dag_id, PQgetvalue(r, i, 0)) == 0)
				paused[k] = strcmp(PQgetvalue(r, i, 1), "t") == 0;
	PQclear(r);
	return paused;
}

json_t *scheduler_list_dags(scheduler *s, sched_error *e)
{
	const sched_dagbag *bag = scheduler_dags(s);
	bool *paused = pause_flags(s, e);
	if (!paused)
		return NULL;
	json_t *dags = json_array();
	for (size_t i = 0; i < bag->n; i++)
		json_array_append_new(dags, dag_object(&bag->dags[i], paused[i], true));
	free(paused);
	return json_pack("{s:o,s:I}", "dags", dags, "total_entries", (json_int_t)bag->n);
}

json_t *scheduler_dag_json(scheduler *s, const char *dag_id, sched_error *e)
{
	const sched_dag *d = sched_find_dag(s, dag_id, e);
	if (!d)
		return NULL;
	bool *paused = pause_flags(s, e);
	if (!paused)
		return NULL;
	json_t *o = dag_object(d, paused[d - scheduler_dags(s)->dags], true);
	free(paused);
	return o;
}

#define RUN_COLS                                                                          \
	"dag_id, run_id, " SCHED_MS("logical_date") ", " SCHED_MS("data_interval_start")   \
	", " SCHED_MS("data_interval_end") ", run_type, state, conf::text, "               \
	SCHED_MS("start_date") ", " SCHED_MS("end_date") ", " SCHED_MS("queued_at")

static json_t *run_object(const PGresult *r, int i)
{
	json_error_t je;
	json_t *conf = json_loads(PQgetvalue(r, i, 7), 0, &je);
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:b}", "dag_id",
			 PQgetvalue(r, i, 0), "dag_run_id", PQgetvalue(r, i, 1), "logical_date",
			 sched_ts_json(r, i, 2), "execution_date", sched_ts_json(r, i, 2),
			 "data_interval_start", sched_ts_json(r, i, 3), "data_interval_end",
			 sched_ts_json(r, i, 4), "run_type", PQgetvalue(r, i, 5), "state",
			 PQgetvalue(r, i, 6), "conf", conf ? conf : json_object(), "start_date",
			 sched_ts_json(r, i, 8), "end_date", sched_ts_json(r, i, 9), "queued_at",
			 sched_ts_json(r, i, 10), "external_trigger",
			 strcmp(PQgetvalue(r, i, 5), "manual") == 0);
}

json_t *scheduler_list_runs(scheduler *s, const char *dag_id, int limit, int offset,
			    sched_error *e)
{
	if (!sched_find_dag(s, dag_id, e))
		return NULL;
	if (limit < 1 || limit > 1000 || offset < 0) {
		sched_error_set(e, 400, "limit must be 1..1000 and offset >= 0");
		return NULL;
	}
	char l[16], o[16];
	snprintf(l, sizeof l, "%d", limit);
	snprintf(o, sizeof o, "%d", offset);
	const char *p[3] = {dag_id, l, o};
	PGresult *r = query(s,
			    "SELECT " RUN_COLS ", count(*) OVER () FROM scheduler.dag_run "
			    "WHERE dag_id = $1 ORDER BY logical_date DESC, run_id "
			    "LIMIT $2::int OFFSET $3::int",
			    3, p, e);
	if (!r)
		return NULL;
	json_t *runs = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(runs, run_object(r, i));
	int rows = PQntuples(r);
	json_int_t total = rows ? strtoll(PQgetvalue(r, 0, 11), NULL, 10) : 0;
	PQclear(r);
	if (!rows && offset > 0) {
		/* past the end: count separately */
		PGresult *c = query(s, "SELECT count(*) FROM scheduler.dag_run WHERE dag_id = $1",
				    1, p, e);
		if (c) {
			total = strtoll(PQgetvalue(c, 0, 0), NULL, 10);
			PQclear(c);
		}
	}
	return json_pack("{s:o,s:I}", "dag_runs", runs, "total_entries", total);
}

json_t *scheduler_get_run(scheduler *s, const char *dag_id, const char *run_id,
			  sched_error *e)
{
	if (!sched_find_dag(s, dag_id, e))
		return NULL;
	const char *p[2] = {dag_id, run_id};
	PGresult *r = query(s,
			    "SELECT " RUN_COLS " FROM scheduler.dag_run WHERE dag_id = $1 AND "
			    "run_id = $2",
			    2, p, e);
	if (!r)
		return NULL;
	json_t *o = NULL;
	if (PQntuples(r) == 1)
		o = run_object(r, 0);
	else
		sched_error_set(e, 404, "DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found",
				dag_id, run_id);
	PQclear(r);
	return o;
}

#define TI_COLS                                                                            \
	"ti.task_id, ti.dag_id, ti.run_id, " SCHED_MS("r.logical_date") ", "                \
	SCHED_MS("ti.start_date") ", " SCHED_MS("ti.end_date") ", "                         \
	"extract(epoch from ti.end_date - ti.start_date), ti.state, ti.try_number, "        \
	"ti.max_tries, ti.hostname, ti.pid, ti.operator, " SCHED_MS("ti.next_retry_at")     \
	", " SCHED_MS("ti.queued_at")

static json_t *ti_object(const sched_dag *d, const PGresult *r, int i)
{
	int ti = sched_dag_task_index(d, PQgetvalue(r, i, 0));
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "task_id", PQgetvalue(r, i, 0), "dag_id", PQgetvalue(r, i, 1),
			 "dag_run_id", PQgetvalue(r, i, 2), "execution_date",
			 sched_ts_json(r, i, 3), "start_date", sched_ts_json(r, i, 4),
			 "end_date", sched_ts_json(r, i, 5), "duration",
			 PQgetisnull(r, i, 6) ? json_null()
					      : json_real(strtod(PQgetvalue(r, i, 6), NULL)),
			 "state",
			 PQgetisnull(r, i, 7) ? json_null() : json_string(PQgetvalue(r, i, 7)),
			 "try_number", atoi(PQgetvalue(r, i, 8)), "max_tries",
			 atoi(PQgetvalue(r, i, 9)), "hostname",
			 PQgetisnull(r, i, 10) ? json_null() : json_string(PQgetvalue(r, i, 10)),
			 "pid",
			 PQgetisnull(r, i, 11) ? json_null()
					       : json_integer(atoi(PQgetvalue(r, i, 11))),
			 "operator",
			 PQgetisnull(r, i, 12) ? json_null() : json_string(PQgetvalue(r, i, 12)),
			 "trigger_rule",
			 ti >= 0 ? json_string(sched_trigger_rule_name(d->tasks[ti].trigger_rule))
				 : json_null(),
			 "next_retry_at", sched_ts_json(r, i, 13), "queued_when",
			 sched_ts_json(r, i, 14));
}

/* Rows of a run's task instances (DAG order), or NULL with e (404 for a missing run). */
static json_t *tis(scheduler *s, const char *dag_id, const char *run_id, const char *task_id,
		   sched_error *e)
{
	const sched_dag *d = sched_find_dag(s, dag_id, e);
	if (!d)
		return NULL;
	json_t *run = scheduler_get_run(s, dag_id, run_id, e);
	if (!run)
		return NULL;
	json_decref(run);
	const char *p[3] = {dag_id, run_id, task_id};
	PGresult *r = query(s,
			    task_id ? "SELECT " TI_COLS " FROM scheduler.task_instance ti JOIN "
				      "scheduler.dag_run r ON r.dag_id = ti.dag_id AND r.run_id "
				      "= ti.run_id WHERE ti.dag_id = $1 AND ti.run_id = $2 AND "
				      "ti.task_id = $3"
				    : "SELECT " TI_COLS " FROM scheduler.task_instance ti JOIN "
				      "scheduler.dag_run r ON r.dag_id = ti.dag_id AND r.run_id "
				      "= ti.run_id WHERE ti.dag_id = $1 AND ti.run_id = $2",
			    task_id ? 3 : 2, p, e);
	if (!r)
		return NULL;
	json_t *out = json_array();
	for (size_t k = 0; k < d->ntasks; k++) /* DAG order, then tasks no longer declared */
		for (int i = 0; i < PQntuples(r); i++)
			if (strcmp(PQgetvalue(r, i, 0), d->tasks[k].task_id) == 0)
				json_array_append_new(out, ti_object(d, r, i));
	for (int i = 0; i < PQntuples(r); i++)
		if (sched_dag_task_index(d, PQgetvalue(r, i, 0)) < 0)
			json_array_append_new(out, ti_object(d, r, i));
	PQclear(r);
	return out;
}

json_t *scheduler_list_tis(scheduler *s, const char *dag_id, const char *run_id,
			   sched_error *e)
{
	json_t *a = tis(s, dag_id, run_id, NULL, e);
	if (!a)
		return NULL;
	return json_pack("{s:o,s:I}", "task_instances", a, "total_entries",
			 (json_int_t)json_array_size(a));
}

json_t *scheduler_get_ti(scheduler *s, const char *dag_id, const char *run_id,
			 const char *task_id, sched_error *e)
{
	json_t *a = tis(s, dag_id, run_id, task_id, e);
	if (!a)
		return NULL;
	json_t *o = json_incref(json_array_get(a, 0));
	json_decref(a);
	if (!o)
		sched_error_set(e, 404, "Task instance '%s' not found in run '%s'", task_id,
				run_id);
	return o;
}

char *scheduler_task_log(scheduler *s, const char *dag_id, const char *run_id,
			 const char *task_id, int try_number, sched_error *e)
{
	json_t *ti = scheduler_get_ti(s, dag_id, run_id, task_id, e);
	if (!ti)
		return NULL;
	int tries = (int)json_integer_value(json_object_get(ti, "try_number"));
	json_decref(ti);
	if (try_number < 1 || try_number > (tries > 0 ? tries : 1)) {
		sched_error_set(e, 404, "Task '%s' of run '%s' has no try %d (tries so far: %d)",
				task_id, run_id, try_number, tries);
		return NULL;
	}
	char tn[16];
	snprintf(tn, sizeof tn, "%d", try_number);
	const char *p[4] = {dag_id, run_id, task_id, tn};
	PGresult *r = query(s,
			    "SELECT " SCHED_MS("at") ", line FROM scheduler.task_log WHERE "
			    "dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = "
			    "$4::int ORDER BY seq",
			    4, p, e);
	if (!r)
		return NULL;
	brook_buf b = BROOK_BUF_INIT;
	for (int i = 0; i < PQntuples(r); i++) {
		char ts[BROOK_ISO8601_LEN + 1];
		brook_time_format_iso8601(sched_ts_ms(r, i, 0), ts);
		brook_buf_printf(&b, "%s %s\n", ts, PQgetvalue(r, i, 1));
	}
	PQclear(r);
	brook_buf_putc(&b, '\0');
	return (char *)b.data;
}

json_t *scheduler_list_xcom(scheduler *s, const char *dag_id, const char *run_id,
			    const char *task_id, sched_error *e)
{
	json_t *ti = scheduler_get_ti(s, dag_id, run_id, task_id, e);
	if (!ti)
		return NULL;
	json_decref(ti);
	const char *p[3] = {dag_id, run_id, task_id};
	PGresult *r = query(s,
			    "SELECT key, value::text FROM scheduler.xcom WHERE dag_id = $1 AND "
			    "run_id = $2 AND task_id = $3 ORDER BY key",
			    3, p, e);
	if (!r)
		return NULL;
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_error_t je;
		json_t *v = json_loads(PQgetvalue(r, i, 1), JSON_DECODE_ANY, &je);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:o}", "key",
						   PQgetvalue(r, i, 0), "dag_id", dag_id,
						   "dag_run_id", run_id, "task_id", task_id, "value",
						   v ? v : json_null()));
	}
	PQclear(r);
	return json_pack("{s:o,s:I}", "xcom_entries", a, "total_entries",
			 (json_int_t)json_array_size(a));
}
