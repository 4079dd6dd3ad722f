/*
 * template.h — Airflow-style {{ macro }} rendering for the sql and shell operators.
 *
 * Macros (all from the task's context; dates in UTC):
 *   ds                   logical date as YYYY-MM-DD        ds_nodash  YYYYMMDD
 *   ts, logical_date     logical date, ISO 8601 ("2024-03-05T10:00:00.000Z")
 *   data_interval_start, data_interval_end   ISO 8601
 *   dag_id, run_id, task_id, try_number
 * Spaces inside the braces are optional ("{{ds}}", "{{  ds  }}"). Text outside macros
 * is copied as is; a lone "{" or "}" is ordinary text.
 */
#ifndef BROOK_SCHEDULER_TEMPLATE_H
#define BROOK_SCHEDULER_TEMPLATE_H

#include <stddef.h>

#include "scheduler/operator.h"

#define SCHED_TEMPLATE_MAX_NAME 64

/* The rendered text (malloc'd, free() it), or NULL with a message naming the unknown
 * macro or the unterminated "{{" (with its byte offset) in err. */
char *sched_render(const char *tmpl, const sched_task_ctx *ctx, char *err, size_t errlen);

#endif
