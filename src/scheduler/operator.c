/*
 * operator.c — the operator registry, the task log helper and the empty operator.
 * The working operators live in op_randomuser.c, op_sql.c and op_shell.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "scheduler/operator.h"

extern const sched_operator sched_op_randomuser_to_postgres;
extern const sched_operator sched_op_sql;
extern const sched_operator sched_op_shell;

static int empty_run(sched_task_ctx *ctx, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	sched_task_log(ctx, "nothing to do (empty operator)");
	return BROOK_OK;
}

static const sched_param_spec empty_params[] = {{NULL, 0, NULL, NULL, 0, 0, false}};

static const sched_operator sched_op_empty = {
	.name = "empty",
	.params = empty_params,
	.help = "does nothing; joins and placeholders (Airflow's EmptyOperator)",
	.run = empty_run,
};

static const sched_operator *const all_ops[] = {
	&sched_op_randomuser_to_postgres,
	&sched_op_sql,
	&sched_op_shell,
	&sched_op_empty,
};

const sched_operator *sched_operator_find(const char *name)
{
	for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
		if (strcmp(all_ops[i]->name, name) == 0)
			return all_ops[i];
	return NULL;
}

const sched_operator *const *sched_operators(size_t *n)
{
	*n = sizeof all_ops / sizeof all_ops[0];
	return all_ops;
}

void sched_task_log(sched_task_ctx *ctx, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	brook_debug("scheduler", "%s/%s/%s try %d: %s", ctx->dag_id, ctx->run_id, ctx->task_id,
		    ctx->try_number, line);
	if (ctx->log)
		ctx->log(ctx->log_arg, line);
}
