/*
 * template.c — {{ macro }} rendering (see template.h).
 *
 * One pass over the template: text up to the next "{{" is copied; from "{{" the
 * renderer skips spaces, reads a name of [A-Za-z0-9_] (at most
 * SCHED_TEMPLATE_MAX_NAME bytes), skips spaces and requires "}}". Anything else after
 * "{{" is an error ("unterminated"), as is an unknown name. Bounded: the output grows
 * by at most the longest macro value per macro.
 */
#include "scheduler/template.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/timeutil.h"

static void put_date(brook_buf *out, int64_t ms, bool dashes)
{
	char iso[BROOK_ISO8601_LEN + 1];
	brook_time_format_iso8601(ms, iso);
	if (dashes) {
		brook_buf_append(out, iso, 10);
	} else {
		brook_buf_append(out, iso, 4);
		brook_buf_append(out, iso + 5, 2);
		brook_buf_append(out, iso + 8, 2);
	}
}

static void put_iso(brook_buf *out, int64_t ms)
{
	char iso[BROOK_ISO8601_LEN + 1];
	brook_time_format_iso8601(ms, iso);
	brook_buf_puts(out, iso);
}

/* Appends the macro's value; false when the name is unknown. */
static bool expand(brook_buf *out, const char *name, const sched_task_ctx *ctx)
{
	if (strcmp(name, "ds") == 0)
		put_date(out, ctx->logical_date_ms, true);
	else if (strcmp(name, "ds_nodash") == 0)
		put_date(out, ctx->logical_date_ms, false);
	else if (strcmp(name, "ts") == 0 || strcmp(name, "logical_date") == 0)
		put_iso(out, ctx->logical_date_ms);
	else if (strcmp(name, "data_interval_start") == 0)
		put_iso(out, ctx->data_interval_start_ms);
	else if (strcmp(name, "data_interval_end") == 0)
		put_iso(out, ctx->data_interval_end_ms);
	else if (strcmp(name, "dag_id") == 0)
		brook_buf_puts(out, ctx->dag_id ? ctx->dag_id : "");
	else if (strcmp(name, "run_id") == 0)
		brook_buf_puts(out, ctx->run_id ? ctx->run_id : "");
	else if (strcmp(name, "task_id") == 0)
		brook_buf_puts(out, ctx->task_id ? ctx->task_id : "");
	else if (strcmp(name, "try_number") == 0)
		brook_buf_printf(out, "%d", ctx->try_number);
	else
		return false;
	return true;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

char *sched_render(const char *tmpl, const sched_task_ctx *ctx, char *err, size_t errlen)
{
	brook_buf out = BROOK_BUF_INIT;
	brook_buf_reserve(&out, strlen(tmpl));
	const char *p = tmpl;
	for (;;) {
		const char *open = strstr(p, "{{");
		if (!open) {
			brook_buf_puts(&out, p);
			break;
		}
		brook_buf_append(&out, p, (size_t)(open - p));
		const char *q = open + 2;
		while (*q == ' ' || *q == '\t')
			q++;
		const char *name = q;
		while (is_name_char(*q))
			q++;
		size_t nlen = (size_t)(q - name);
		while (*q == ' ' || *q == '\t')
			q++;
		if (nlen == 0 || nlen > SCHED_TEMPLATE_MAX_NAME || q[0] != '}' || q[1] != '}') {
			snprintf(err, errlen,
				 "template: unterminated or malformed '{{' at offset %zu "
				 "(expected '{{ name }}')",
				 (size_t)(open - tmpl));
			brook_buf_release(&out);
			return NULL;
		}
		char nbuf[SCHED_TEMPLATE_MAX_NAME + 1];
		memcpy(nbuf, name, nlen);
		nbuf[nlen] = '\0';
		if (!expand(&out, nbuf, ctx)) {
			snprintf(err, errlen,
				 "template: unknown macro '%s' at offset %zu (known: ds, "
				 "ds_nodash, ts, logical_date, data_interval_start, "
				 "data_interval_end, dag_id, run_id, task_id, try_number)",
				 nbuf, (size_t)(open - tmpl));
			brook_buf_release(&out);
			return NULL;
		}
		p = q + 2;
	}
	return brook_buf_detach(&out, NULL);
}
