/* Unit tests for scheduler/dag: the reference DAG with its defaults, default_args,
 * topological order (diamond, declaration order kept), every class of load error with
 * its file/line/dag/task prefix, conf overrides, and the data-interval helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "scheduler/dag.h"
#include "scheduler/operator.h"

/* Parse YAML (a document whose root is the scheduler.dags map) and load it. */
static int load(const char *yaml, sched_dagbag *bag, char *err, size_t errlen)
{
	char perr[512];
	brook_cfg_node *root = brook_cfg_parse_yaml("t.yaml", yaml, strlen(yaml), perr,
						    sizeof perr);
	if (!root)
		fail_msg("YAML did not parse: %s", perr);
	int rc = sched_dagbag_load(root, bag, err, errlen);
	brook_cfg_node_free(root);
	return rc;
}

static void expect_error(const char *yaml, const char *want)
{
	sched_dagbag bag;
	char err[1024];
	int rc = load(yaml, &bag, err, sizeof err);
	if (rc != BROOK_ERR || !strstr(err, want))
		fail_msg("want error containing \"%s\", got rc %d \"%s\"", want, rc, err);
	assert_int_equal(bag.n, 0);
	assert_null(bag.dags);
}

static int64_t iso(const char *s)
{
	int64_t ms;
	assert_int_equal(brook_time_parse_iso8601(s, &ms), BROOK_OK);
	return ms;
}

static const char reference[] =
	"user_automation:\n"
	"  description: fetch users and stage them in PostgreSQL\n"
	"  schedule: \"@daily\"\n"
	"  start_date: 2023-09-03T10:00\n"
	"  catchup: false\n"
	"  tasks:\n"
	"    stream_data_from_api:\n"
	"      operator: randomuser_to_postgres\n"
	"      params: {max_duration: 60s}\n";

static void test_reference(void **state)
{
	(void)state;
	sched_dagbag bag;
	char err[512];

	assert_int_equal(load(reference, &bag, err, sizeof err), BROOK_OK);
	assert_int_equal(bag.n, 1);
	const sched_dag *d = sched_dagbag_find(&bag, "user_automation");
	assert_non_null(d);
	assert_null(sched_dagbag_find(&bag, "nope"));
	assert_string_equal(d->description, "fetch users and stage them in PostgreSQL");
	assert_string_equal(d->schedule_text, "@daily");
	assert_string_equal(cron_zone_name(d->tz), "UTC");
	assert_true(d->start_date_ms == iso("2023-09-03T10:00:00Z"));
	assert_true(d->end_date_ms == INT64_MAX);
	assert_false(d->catchup);
	assert_int_equal(d->max_active_runs, 16);
	assert_true(d->is_paused_upon_creation);
	assert_string_equal(d->file, "t.yaml");
	assert_int_equal(d->line, 2);
	assert_int_equal(d->ntasks, 1);

	const sched_task *t = &d->tasks[0];
	assert_int_equal(sched_dag_task_index(d, "stream_data_from_api"), 0);
	assert_int_equal(sched_dag_task_index(d, "other"), -1);
	assert_string_equal(t->op->name, "randomuser_to_postgres");
	assert_int_equal(t->retries, 0);
	assert_true(t->retry_delay_ms == 300000);
	assert_false(t->retry_exponential_backoff);
	assert_true(t->max_retry_delay_ms == INT64_C(86400000));
	assert_true(t->execution_timeout_ms == 0);
	assert_int_equal(t->trigger_rule, SCHED_TRIGGER_ALL_SUCCESS);
	assert_int_equal(t->nupstream, 0);
	assert_int_equal(t->line, 8);

	/* every parameter present, typed, defaults filled */
	char *js = json_dumps(t->params, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(js, "{\"batch_size\":100,\"max_duration\":60000,\"max_records\":0,"
				"\"rate\":0.0,\"seed\":null,\"url\":null}");
	free(js);
	sched_dagbag_free(&bag);
	assert_int_equal(bag.n, 0);
}

static void test_defaults_and_default_args(void **state)
{
	(void)state;
	sched_dagbag bag;
	char err[512];
	const char *yaml = "etl:\n"
			   "  schedule: '*/5 * * * *'\n"
			   "  timezone: Europe/Berlin\n"
			   "  start_date: 2024-01-01\n"
			   "  end_date: 2024-12-31\n"
			   "  catchup: yes\n"
			   "  max_active_runs: 2\n"
			   "  is_paused_upon_creation: off\n"
			   "  default_args:\n"
			   "    retries: 2\n"
			   "    retry_delay: 10s\n"
			   "    retry_exponential_backoff: true\n"
			   "    max_retry_delay: 1m\n"
			   "    execution_timeout: 5m\n"
			   "    trigger_rule: all_done\n"
			   "  tasks:\n"
			   "    a: {operator: empty}\n"
			   "    b:\n"
			   "      operator: shell\n"
			   "      params: {command: 'echo hi', timeout: 2s}\n"
			   "      retries: 5\n"
			   "      trigger_rule: one_failed\n"
			   "      execution_timeout: ~\n"
			   "      upstream: a\n";

	assert_int_equal(load(yaml, &bag, err, sizeof err), BROOK_OK);
	const sched_dag *d = &bag.dags[0];
	assert_string_equal(d->description, "");
	assert_string_equal(cron_zone_name(d->tz), "Europe/Berlin");
	assert_true(d->start_date_ms == iso("2024-01-01T00:00:00Z"));
	assert_true(d->end_date_ms == iso("2024-12-31T00:00:00Z"));
	assert_true(d->catchup);
	assert_int_equal(d->max_active_runs, 2);
	assert_false(d->is_paused_upon_creation);

	const sched_task *a = &d->tasks[0], *b = &d->tasks[1];
	assert_string_equal(a->task_id, "a");
	assert_int_equal(a->retries, 2);
	assert_true(a->retry_delay_ms == 10000);
	assert_true(a->retry_exponential_backoff);
	assert_true(a->max_retry_delay_ms == 60000);
	assert_true(a->execution_timeout_ms == 300000);
	assert_int_equal(a->trigger_rule, SCHED_TRIGGER_ALL_DONE);
	assert_int_equal(json_object_size(a->params), 0);

	assert_string_equal(b->task_id, "b");
	assert_int_equal(b->retries, 5);
	assert_true(b->retry_delay_ms == 10000);
	assert_true(b->execution_timeout_ms == 0);
	assert_int_equal(b->trigger_rule, SCHED_TRIGGER_ONE_FAILED);
	assert_string_equal(sched_trigger_rule_name(b->trigger_rule), "one_failed");
	assert_string_equal(sched_trigger_rule_name(SCHED_TRIGGER_NONE_FAILED), "none_failed");
	assert_int_equal(b->nupstream, 1);
	assert_int_equal(b->upstream[0], 0);
	assert_string_equal(json_string_value(json_object_get(b->params, "command")), "echo hi");
	assert_int_equal(json_integer_value(json_object_get(b->params, "timeout")), 2000);
	sched_dagbag_free(&bag);

	/* empty and absent trees give an empty bag */
	brook_cfg_node *root = brook_cfg_parse_yaml("t.yaml", "{}", 2, err, sizeof err);
	assert_non_null(root);
	assert_int_equal(sched_dagbag_load(root, &bag, err, sizeof err), BROOK_OK);
	assert_int_equal(bag.n, 0);
	sched_dagbag_free(&bag);
	brook_cfg_node_free(root);
	assert_int_equal(sched_dagbag_load(NULL, &bag, err, sizeof err), BROOK_OK);
	assert_int_equal(bag.n, 0);
	sched_dagbag_free(&bag);
}

static void test_topological_order(void **state)
{
	(void)state;
	sched_dagbag bag;
	char err[512];
	/* declared bottom-up: join first, then the two branches, then the root; an
	 * unrelated task "solo" declared first stays first */
	const char *yaml = "diamond:\n"
			   "  tasks:\n"
			   "    solo: {operator: empty}\n"
			   "    join: {operator: empty, upstream: [left, right]}\n"
			   "    right: {operator: empty, upstream: [root]}\n"
			   "    left: {operator: empty, upstream: [root]}\n"
			   "    root: {operator: empty}\n"
			   "second:\n"
			   "  tasks:\n"
			   "    x: {operator: empty}\n";

	assert_int_equal(load(yaml, &bag, err, sizeof err), BROOK_OK);
	assert_int_equal(bag.n, 2);
	assert_string_equal(bag.dags[1].dag_id, "second");
	const sched_dag *d = &bag.dags[0];
	const char *want[] = {"solo", "root", "right", "left", "join"};
	assert_int_equal(d->ntasks, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(d->tasks[i].task_id, want[i]);
	for (size_t i = 0; i < d->ntasks; i++)
		for (size_t k = 0; k < d->tasks[i].nupstream; k++)
			assert_true(d->tasks[i].upstream[k] < i);
	const sched_task *join = &d->tasks[4];
	assert_int_equal(join->nupstream, 2);
	assert_string_equal(d->tasks[join->upstream[0]].task_id, "left");
	assert_string_equal(d->tasks[join->upstream[1]].task_id, "right");
	assert_string_equal(d->tasks[d->tasks[3].upstream[0]].task_id, "root");
	assert_int_equal(join->line, 4);
	sched_dagbag_free(&bag);
}

static void test_errors(void **state)
{
	(void)state;
	/* bad cron: names the DAG and the line of the schedule */
	expect_error("ok:\n  tasks: {a: {operator: empty}}\n"
		     "etl:\n  schedule: '61 * * * *'\n  tasks: {a: {operator: empty}}\n",
		     "t.yaml:4: dag 'etl': schedule: cron: minute field");
	expect_error("etl:\n  schedule: '0 0 30 2 *'\n  tasks: {a: {operator: empty}}\n",
		     "t.yaml:2: dag 'etl': schedule: cron: '0 0 30 2 *' never fires");
	expect_error("etl:\n  timezone: Mars/Olympus\n  tasks: {a: {operator: empty}}\n",
		     "t.yaml:2: dag 'etl': timezone: ");
	expect_error("etl:\n  tasks:\n    a:\n      operator: spark\n",
		     "t.yaml:4: dag 'etl', task 'a': unknown operator 'spark'");
	expect_error("etl:\n  tasks:\n    a:\n      operator: shel\n",
		     "unknown operator 'shel' (did you mean 'shell'?)");
	expect_error("etl:\n  tasks:\n    a:\n      operator: shell\n"
		     "      params: {command: x, timout: 3s}\n",
		     "t.yaml:5: dag 'etl', task 'a': unknown parameter 'timout' for operator "
		     "'shell' (did you mean 'timeout'?)");
	expect_error("etl:\n  tasks:\n    a:\n      operator: randomuser_to_postgres\n"
		     "      params:\n        batch_size: many\n",
		     "t.yaml:6: dag 'etl', task 'a': parameter 'batch_size': expected an "
		     "integer, got 'many'");
	expect_error("etl:\n  tasks:\n    a:\n      operator: randomuser_to_postgres\n"
		     "      params:\n        batch_size: 0\n",
		     "parameter 'batch_size': 0 is below the minimum 1");
	expect_error("etl:\n  tasks:\n    a:\n      operator: randomuser_to_postgres\n"
		     "      params:\n        batch_size: 5001\n",
		     "parameter 'batch_size': 5001 is above the maximum 5000");
	expect_error("etl:\n  tasks:\n    a:\n      operator: randomuser_to_postgres\n"
		     "      params:\n        rate: -1\n",
		     "parameter 'rate': -1 is below the minimum 0");
	expect_error("etl:\n  tasks:\n    a:\n      operator: randomuser_to_postgres\n"
		     "      params:\n        max_duration: soon\n",
		     "parameter 'max_duration': expected a duration");
	expect_error("etl:\n  tasks:\n    a:\n      operator: sql\n",
		     "t.yaml:4: dag 'etl', task 'a': missing required parameter 'sql' of "
		     "operator 'sql'");
	expect_error("etl:\n  tasks:\n    a:\n      operator: empty\n      upstream: [extarct]\n"
		     "    extract: {operator: empty}\n",
		     "t.yaml:5: dag 'etl', task 'a': upstream task 'extarct' does not exist "
		     "(did you mean 'extract'?)");
	expect_error("etl:\n  tasks:\n    a: {operator: empty, upstream: a}\n",
		     "task 'a': task lists itself as upstream");
	expect_error("etl:\n"
		     "  tasks:\n"
		     "    a: {operator: empty, upstream: [c]}\n"
		     "    b: {operator: empty, upstream: [a]}\n"
		     "    c: {operator: empty, upstream: [b]}\n"
		     "    d: {operator: empty}\n",
		     "t.yaml:2: dag 'etl': cycle: a -> b -> c -> a");
	/* duplicate ids never reach the loader: the YAML reader rejects duplicate keys */
	char perr[256];
	const char *dup = "etl:\n  tasks:\n    a: {operator: empty}\n    a: {operator: empty}\n";
	assert_null(brook_cfg_parse_yaml("t.yaml", dup, strlen(dup), perr, sizeof perr));
	assert_non_null(strstr(perr, "duplicate key 'a'"));
	expect_error("bad id!:\n  tasks: {a: {operator: empty}}\n",
		     "t.yaml:2: dag 'bad id!': dag id must be 1-250 characters");
	expect_error("etl:\n  tasks:\n    'a/b': {operator: empty}\n",
		     "task 'a/b': task id must be 1-250 characters");
	expect_error("etl:\n  tasks:\n    a: {operator: empty, trigger_rule: sometimes}\n",
		     "task 'a': trigger_rule: 'sometimes' is not one of");
	expect_error("etl:\n  tasks:\n    a: {operator: empty, retry_delay: 5 minutes}\n",
		     "task 'a': retry_delay: expected a duration");
	expect_error("etl:\n  default_args: {retry_delay: -5s}\n  tasks: {a: {operator: empty}}\n",
		     "dag 'etl': retry_delay: expected a duration");
	expect_error("etl:\n  schedul: '@daily'\n  tasks: {a: {operator: empty}}\n",
		     "t.yaml:2: dag 'etl': unknown DAG key 'schedul' (did you mean 'schedule'?)");
	expect_error("etl:\n  tasks:\n    a: {operator: empty, retrys: 3}\n",
		     "task 'a': unknown task key 'retrys' (did you mean 'retries'?)");
	expect_error("etl:\n  default_args: {operator: empty}\n  tasks: {a: {operator: empty}}\n",
		     "unknown default_args key 'operator'");
	expect_error("etl:\n  catchup: maybe\n  tasks: {a: {operator: empty}}\n",
		     "t.yaml:2: dag 'etl': catchup: expected true or false, got 'maybe'");
	expect_error("etl:\n  max_active_runs: 0\n  tasks: {a: {operator: empty}}\n",
		     "max_active_runs: 0 is out of range");
	expect_error("etl:\n  start_date: yesterday\n  tasks: {a: {operator: empty}}\n",
		     "start_date: expected an ISO 8601 date");
	expect_error("etl:\n  start_date: 2024-02-01\n  end_date: 2024-01-01\n"
		     "  tasks: {a: {operator: empty}}\n",
		     "t.yaml:3: dag 'etl': end_date is before start_date");
	expect_error("etl:\n  schedule: '@daily'\n", "dag 'etl': tasks: expected a mapping");
	expect_error("etl:\n  tasks: {}\n", "at least one task");
	expect_error("etl:\n  tasks:\n    a: {params: {}}\n", "task 'a': operator is missing");
	expect_error("- a\n- b\n", "scheduler.dags: expected a mapping");
	expect_error("etl: [1, 2]\n", "dag 'etl': expected a mapping");
	expect_error("etl:\n  tasks:\n    a: {operator: empty, upstream: [b, b]}\n"
		     "    b: {operator: empty}\n",
		     "upstream task 'b' is listed twice");
	/* an error in a later DAG leaves the bag empty (checked by expect_error) */
	expect_error("one:\n  tasks: {a: {operator: empty}}\n"
		     "two:\n  tasks: {a: {operator: nope}}\n",
		     "dag 'two', task 'a': unknown operator");
}

static void test_conf(void **state)
{
	(void)state;
	sched_dagbag bag;
	char err[512];
	const char *yaml = "etl:\n"
			   "  tasks:\n"
			   "    fetch: {operator: randomuser_to_postgres}\n"
			   "    run: {operator: shell, params: {command: 'true'}}\n";

	assert_int_equal(load(yaml, &bag, err, sizeof err), BROOK_OK);
	const sched_dag *d = &bag.dags[0];
	const sched_task *fetch = &d->tasks[0];

	json_t *conf = json_pack("{s:i, s:i, s:s, s:s, s:f, s:b}", "max_records", 3000,
				 "batch_size", 500, "max_duration", "2m", "unrelated", "x",
				 "rate", 2.5, "other", 1);
	json_t *p = sched_task_params(fetch, conf, err, sizeof err);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "max_records")), 3000);
	assert_int_equal(json_integer_value(json_object_get(p, "batch_size")), 500);
	assert_int_equal(json_integer_value(json_object_get(p, "max_duration")), 120000);
	assert_true(json_real_value(json_object_get(p, "rate")) == 2.5);
	assert_null(json_object_get(p, "unrelated"));
	/* the task's own params are untouched */
	assert_int_equal(json_integer_value(json_object_get(fetch->params, "batch_size")), 100);
	json_decref(p);
	assert_int_equal(sched_dag_check_conf(d, conf, err, sizeof err), BROOK_OK);
	json_decref(conf);

	/* durations as integer ms, integral reals as integers, NULL conf */
	conf = json_pack("{s:i, s:f, s:i}", "max_duration", 1500, "max_records", 3000.0, "rate", 3);
	p = sched_task_params(fetch, conf, err, sizeof err);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "max_duration")), 1500);
	assert_int_equal(json_integer_value(json_object_get(p, "max_records")), 3000);
	assert_true(json_is_real(json_object_get(p, "rate")));
	json_decref(p);
	json_decref(conf);
	p = sched_task_params(fetch, NULL, err, sizeof err);
	assert_true(json_equal(p, fetch->params));
	json_decref(p);

	/* wrong types and bounds */
	conf = json_pack("{s:s}", "max_records", "many");
	assert_null(sched_task_params(fetch, conf, err, sizeof err));
	assert_string_equal(err, "conf key 'max_records': expected an integer, got \"many\"");
	assert_int_equal(sched_dag_check_conf(d, conf, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "dag 'etl', task 'fetch': conf key 'max_records': expected an "
				 "integer, got \"many\"");
	json_decref(conf);
	conf = json_pack("{s:f}", "max_records", 2.5);
	assert_null(sched_task_params(fetch, conf, err, sizeof err));
	assert_non_null(strstr(err, "expected an integer, got 2.5"));
	json_decref(conf);
	conf = json_pack("{s:i}", "batch_size", 0);
	assert_null(sched_task_params(fetch, conf, err, sizeof err));
	assert_string_equal(err, "conf key 'batch_size': 0 is below the minimum 1");
	json_decref(conf);
	conf = json_pack("{s:s}", "max_duration", "forever");
	assert_null(sched_task_params(fetch, conf, err, sizeof err));
	assert_non_null(strstr(err, "conf key 'max_duration': expected a duration"));
	json_decref(conf);
	conf = json_pack("{s:i}", "command", 3);
	assert_int_equal(sched_dag_check_conf(d, conf, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "dag 'etl', task 'run': conf key 'command': expected a string, "
				 "got 3");
	json_decref(conf);
	conf = json_pack("{s:s}", "command", "echo overridden");
	p = sched_task_params(&d->tasks[1], conf, err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(p, "command")), "echo overridden");
	json_decref(p);
	json_decref(conf);
	conf = json_pack("[i]", 1);
	assert_int_equal(sched_dag_check_conf(d, conf, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "conf must be a JSON object"));
	json_decref(conf);
	sched_dagbag_free(&bag);
}

static void test_intervals(void **state)
{
	(void)state;
	sched_dagbag bag;
	char err[512];
	int64_t out;
	const char *yaml = "daily:\n"
			   "  schedule: '@daily'\n"
			   "  tasks: {a: {operator: empty}}\n"
			   "berlin:\n"
			   "  schedule: '0 2 * * *'\n"
			   "  timezone: Europe/Berlin\n"
			   "  tasks: {a: {operator: empty}}\n"
			   "once:\n"
			   "  schedule: '@once'\n"
			   "  tasks: {a: {operator: empty}}\n"
			   "never:\n"
			   "  schedule: none\n"
			   "  tasks: {a: {operator: empty}}\n";

	assert_int_equal(load(yaml, &bag, err, sizeof err), BROOK_OK);
	const sched_dag *daily = sched_dagbag_find(&bag, "daily");
	assert_int_equal(sched_dag_interval_end(daily, iso("2024-03-05T00:00:00Z"), &out),
			 BROOK_OK);
	assert_true(out == iso("2024-03-06T00:00:00Z"));
	/* at-or-after: an exact fire time counts, a millisecond later does not */
	assert_int_equal(sched_dag_first_fire_at_or_after(daily, iso("2024-03-05T00:00:00Z"),
							  &out), BROOK_OK);
	assert_true(out == iso("2024-03-05T00:00:00Z"));
	assert_int_equal(sched_dag_first_fire_at_or_after(daily, iso("2024-03-05T00:00:00Z") + 1,
							  &out), BROOK_OK);
	assert_true(out == iso("2024-03-06T00:00:00Z"));
	assert_int_equal(sched_dag_first_fire_at_or_after(daily, iso("2024-03-04T23:59:59.999Z"),
							  &out), BROOK_OK);
	assert_true(out == iso("2024-03-05T00:00:00Z"));

	/* Berlin, across the spring change (2024-03-31): 02:00 does not exist that day
	 * and fires at 03:00 CEST = 01:00Z; the day before is 02:00 CET = 01:00Z too */
	const sched_dag *berlin = sched_dagbag_find(&bag, "berlin");
	assert_int_equal(sched_dag_first_fire_at_or_after(berlin, iso("2024-03-30T00:00:00Z"),
							  &out), BROOK_OK);
	assert_true(out == iso("2024-03-30T01:00:00Z"));
	assert_int_equal(sched_dag_interval_end(berlin, out, &out), BROOK_OK);
	assert_true(out == iso("2024-03-31T01:00:00Z"));
	assert_int_equal(sched_dag_interval_end(berlin, out, &out), BROOK_OK);
	assert_true(out == iso("2024-04-01T00:00:00Z")); /* 02:00 CEST */

	const sched_dag *once = sched_dagbag_find(&bag, "once");
	assert_int_equal(sched_dag_interval_end(once, 0, &out), BROOK_AGAIN);
	assert_int_equal(sched_dag_first_fire_at_or_after(once, 0, &out), BROOK_AGAIN);
	const sched_dag *never = sched_dagbag_find(&bag, "never");
	assert_int_equal(sched_dag_interval_end(never, 0, &out), BROOK_AGAIN);
	assert_int_equal(sched_dag_first_fire_at_or_after(never, 0, &out), BROOK_AGAIN);
	sched_dagbag_free(&bag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference),  cmocka_unit_test(test_defaults_and_default_args),
	    cmocka_unit_test(test_topological_order), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_conf),       cmocka_unit_test(test_intervals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
