/*
 * fuzz_dag.c — the DAG loader on arbitrary YAML.
 *
 * The input is parsed with brook_cfg_parse_yaml and its root handed to sched_dagbag_load
 * as the scheduler.dags map. When the first line is a YAML comment ("#{...}"), the text
 * after '#' is read as JSON and used as a run's conf. A loaded bag must satisfy dag.h's
 * invariants (valid ids, topological order, complete params objects); each DAG's conf
 * check and interval helpers are exercised. Nothing may crash, leak or loop, and a
 * failed load must leave the bag empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "scheduler/dag.h"
#include "scheduler/operator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_dag(const sched_dag *d, const json_t *conf)
{
	char err[512];
	int64_t t;

	if (d->ntasks == 0 || !d->schedule || !d->tz || d->max_active_runs < 1)
		abort();
	for (size_t i = 0; i < d->ntasks; i++) {
		const sched_task *task = &d->tasks[i];
		if (!task->op || !json_is_object(task->params) ||
		    sched_dag_task_index(d, task->task_id) != (int)i)
			abort();
		for (size_t k = 0; k < task->nupstream; k++)
			if (task->upstream[k] >= i)
				abort();
		for (const sched_param_spec *s = task->op->params; s->name; s++)
			if (!json_object_get(task->params, s->name))
				abort();
		json_t *p = sched_task_params(task, conf, err, sizeof err);
		json_decref(p);
	}
	sched_dag_check_conf(d, conf, err, sizeof err);
	static const int64_t instants[] = {0, 1709596800000, 1709596800001, -1};
	for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
		if (sched_dag_first_fire_at_or_after(d, instants[i], &t) == BROOK_OK) {
			if (t < instants[i])
				abort();
			int64_t end;
			if (sched_dag_interval_end(d, t, &end) == BROOK_OK && end <= t)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	json_t *conf = NULL;
	sched_dagbag bag;

	if (size > 0 && data[0] == '#') {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) - 1 : size - 1;
		conf = json_loadb((const char *)data + 1, len, JSON_DECODE_ANY, NULL);
	}
	brook_cfg_node *root = brook_cfg_parse_yaml("fuzz.yaml", (const char *)data, size, err,
						    sizeof err);
	if (!root) {
		json_decref(conf);
		return 0;
	}
	if (sched_dagbag_load(root, &bag, err, sizeof err) == BROOK_OK) {
		for (size_t i = 0; i < bag.n; i++) {
			if (sched_dagbag_find(&bag, bag.dags[i].dag_id) != &bag.dags[i])
				abort();
			check_dag(&bag.dags[i], conf);
		}
	} else if (bag.n != 0 || bag.dags || !err[0]) {
		abort();
	}
	sched_dagbag_free(&bag);
	brook_cfg_node_free(root);
	json_decref(conf);
	return 0;
}
