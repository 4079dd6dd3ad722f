/*
 * dag.c — load and validate the DAGs of scheduler.dags (dag.h has the YAML shape).
 *
 * Loading is one pass over the brook_cfg_node tree per DAG, then a per-DAG graph step:
 *
 *   1. DAG keys: scalars are typed here (bool like config.c, durations through
 *      brook_duration_parse, ISO 8601 dates through brook_time_parse_iso8601); the
 *      schedule goes through cron_expr_parse and cron_zone_open and must fire at least
 *      once after start_date (recurring schedules only).
 *   2. default_args: the retry keys, parsed into a task_opts that seeds every task.
 *   3. tasks, in declaration order: ids checked, operator found, params checked against
 *      the operator's sched_param_spec table (unknown names, types, bounds, required
 *      ones) and completed with defaults; upstream names kept as text.
 *   4. graph: upstream names resolved to declaration indices; Kahn's algorithm, always
 *      taking the lowest declaration index that is ready, gives a topological order that
 *      keeps the declared order wherever the edges allow. When it cannot place every
 *      task there is a cycle; a walk along unplaced upstreams finds one and spells it
 *      out in the direction work flows ("a -> b -> a": b runs after a). Lookups are
 *      sorted (bsearch) and the ready set a heap, so a DAG of the 100,000 YAML nodes
 *      the config reader allows loads in O((tasks + edges) log tasks). Tasks are then permuted
 *      into that order and their upstream indices remapped.
 *
 * Errors: the first one found ends the load, formatted "FILE:LINE: dag 'D', task 'T':
 * what" (absent parts omitted); every allocation made so far is released and the bag
 * is left zeroed. A bag is immutable after loading.
 *
 * Parameter values are converted by one function per source: param_from_text (YAML
 * scalars and the operators' default texts) and param_from_json (a run's conf); both
 * end in check_bounds, so load time and run time agree.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "scheduler/dag.h"
#include "scheduler/operator.h"

#define DEFAULT_SCHEDULE "@daily"
#define DEFAULT_START_MS INT64_C(1577836800000) /* 2020-01-01T00:00:00Z */
#define DEFAULT_MAX_ACTIVE_RUNS 16
#define MAX_ACTIVE_RUNS_LIMIT 100000
#define RETRIES_LIMIT 1000
#define MSG_LEN 512

/* ---- error context ---------------------------------------------------------------- */

typedef struct loader {
	char *err;
	size_t errlen;
	const char *dag_id;  /* NULL outside a DAG */
	const char *task_id; /* NULL outside a task */
} loader;

static void fail(loader *L, const brook_cfg_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(loader *L, const brook_cfg_node *at, const char *fmt, ...)
{
	char msg[MSG_LEN], where[2 * SCHED_ID_MAX + 64];
	va_list ap;
	size_t w = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	where[0] = 0;
	if (L->dag_id)
		w += (size_t)snprintf(where + w, sizeof where - w, "dag '%s'", L->dag_id);
	if (L->task_id && w < sizeof where)
		snprintf(where + w, sizeof where - w, ", task '%s'", L->task_id);
	snprintf(L->err, L->errlen, "%s:%d: %s%s%s", at && at->file ? at->file : "config",
		 at ? at->line : 0, where, where[0] ? ": " : "", msg);
}

/* ---- small scalar parsers --------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}


static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SCHED_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1", "True", "TRUE", "Yes", "On"};
	static const char *const no[] = {"false", "no", "off", "0", "False", "FALSE", "No", "Off"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return BROOK_OK;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
		return BROOK_ERR;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return BROOK_ERR;
	*out = v;
	return BROOK_OK;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s || strchr(s, ' ') || strchr(s, '\t'))
		return BROOK_ERR;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return BROOK_ERR;
	*out = v;
	return BROOK_OK;
}

/* " (did you mean 'x'?)" when one of names is close to s, else "". */
static void suggest(const char *s, const char *const *names, size_t n, char *out, size_t outlen)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = brook_edit_distance(s, names[i]);
		if (d < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	if (best)
		snprintf(out, outlen, " (did you mean '%s'?)", best);
	else
		out[0] = 0;
}

/* ---- typed node readers (error reported through L) --------------------------------- */

static int need_scalar(loader *L, const brook_cfg_node *n, const char *key)
{
	if (n->kind != BROOK_CFG_NODE_SCALAR) {
		fail(L, n, "%s: expected a single value, got a %s", key,
		     n->kind == BROOK_CFG_NODE_MAP ? "mapping" : "list");
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int read_bool(loader *L, const brook_cfg_node *n, const char *key, bool *out)
{
	if (need_scalar(L, n, key) != BROOK_OK)
		return BROOK_ERR;
	if (n->null || parse_bool(n->scalar, out) != BROOK_OK) {
		fail(L, n, "%s: expected true or false, got '%s'", key, n->null ? "" : n->scalar);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int read_int(loader *L, const brook_cfg_node *n, const char *key, int64_t lo, int64_t hi,
		    int64_t *out)
{
	if (need_scalar(L, n, key) != BROOK_OK)
		return BROOK_ERR;
	if (n->null || parse_int(n->scalar, out) != BROOK_OK) {
		fail(L, n, "%s: expected an integer, got '%s'", key, n->null ? "" : n->scalar);
		return BROOK_ERR;
	}
	if (*out < lo || *out > hi) {
		fail(L, n, "%s: %lld is out of range %lld-%lld", key, (long long)*out,
		     (long long)lo, (long long)hi);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int read_duration(loader *L, const brook_cfg_node *n, const char *key, int64_t *out)
{
	if (need_scalar(L, n, key) != BROOK_OK)
		return BROOK_ERR;
	if (n->null || brook_duration_parse(n->scalar, out) != BROOK_OK) {
		fail(L, n, "%s: expected a duration such as 30s, 5m, 2h or 1d, got '%s'", key,
		     n->null ? "" : n->scalar);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* A date: null leaves *out untouched (*set false). */
static int read_date(loader *L, const brook_cfg_node *n, const char *key, int64_t *out, bool *set)
{
	*set = false;
	if (need_scalar(L, n, key) != BROOK_OK)
		return BROOK_ERR;
	if (n->null)
		return BROOK_OK;
	if (brook_time_parse_iso8601(n->scalar, out) != BROOK_OK) {
		fail(L, n, "%s: expected an ISO 8601 date or time such as 2024-03-05 or "
		     "2024-03-05T10:00:00Z, got '%s'", key, n->scalar);
		return BROOK_ERR;
	}
	*set = true;
	return BROOK_OK;
}

static int read_str(loader *L, const brook_cfg_node *n, const char *key, const char **out)
{
	if (need_scalar(L, n, key) != BROOK_OK)
		return BROOK_ERR;
	*out = n->null ? "" : n->scalar;
	return BROOK_OK;
}

/* ---- parameters ------------------------------------------------------------------- */

static const char *param_type_name(sched_param_type t)
{
	switch (t) {
	case SCHED_PARAM_STR: return "a string";
	case SCHED_PARAM_INT: return "an integer";
	case SCHED_PARAM_DOUBLE: return "a number";
	case SCHED_PARAM_BOOL: return "true or false";
	case SCHED_PARAM_DURATION: return "a duration such as 30s or integer milliseconds";
	}
	return "a value";
}

static int check_bounds(const sched_param_spec *s, const json_t *v, char *msg, size_t msglen)
{
	if (s->type == SCHED_PARAM_INT || s->type == SCHED_PARAM_DURATION) {
		json_int_t i = json_integer_value(v);
		if (i < s->min) {
			snprintf(msg, msglen, "%lld is below the minimum %lld", (long long)i,
				 (long long)s->min);
			return BROOK_ERR;
		}
		if (s->max && i > s->max) {
			snprintf(msg, msglen, "%lld is above the maximum %lld", (long long)i,
				 (long long)s->max);
			return BROOK_ERR;
		}
	} else if (s->type == SCHED_PARAM_DOUBLE) {
		double d = json_real_value(v);
		if (d < (double)s->min) {
			snprintf(msg, msglen, "%g is below the minimum %lld", d, (long long)s->min);
			return BROOK_ERR;
		}
		if (s->max && d > (double)s->max) {
			snprintf(msg, msglen, "%g is above the maximum %lld", d, (long long)s->max);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

/* A YAML scalar (text; null for a null scalar) as the parameter's JSON value. */
static json_t *param_from_text(const sched_param_spec *s, const char *text, char *msg,
			       size_t msglen)
{
	json_t *v = NULL;
	int64_t i;
	double d;
	bool b;

	if (!text) {
		if (s->type == SCHED_PARAM_STR && !s->required)
			return json_null();
		snprintf(msg, msglen, "expected %s, got nothing", param_type_name(s->type));
		return NULL;
	}
	switch (s->type) {
	case SCHED_PARAM_STR:
		v = json_string(text);
		if (!v)
			snprintf(msg, msglen, "expected a UTF-8 string");
		return v;
	case SCHED_PARAM_INT:
		if (parse_int(text, &i) == BROOK_OK)
			v = json_integer(i);
		break;
	case SCHED_PARAM_DOUBLE:
		if (parse_double(text, &d) == BROOK_OK)
			v = json_real(d);
		break;
	case SCHED_PARAM_BOOL:
		if (parse_bool(text, &b) == BROOK_OK)
			v = json_boolean(b);
		break;
	case SCHED_PARAM_DURATION:
		if (brook_duration_parse(text, &i) == BROOK_OK)
			v = json_integer(i);
		break;
	}
	if (!v) {
		snprintf(msg, msglen, "expected %s, got '%s'", param_type_name(s->type), text);
		return NULL;
	}
	if (check_bounds(s, v, msg, msglen) != BROOK_OK) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* A conf value as the parameter's JSON value. */
static json_t *param_from_json(const sched_param_spec *s, const json_t *in, char *msg,
			       size_t msglen)
{
	json_t *v = NULL;
	int64_t i;

	switch (s->type) {
	case SCHED_PARAM_STR:
		if (json_is_string(in) || (json_is_null(in) && !s->required))
			v = json_copy((json_t *)in);
		break;
	case SCHED_PARAM_INT:
		if (json_is_integer(in)) {
			v = json_integer(json_integer_value(in));
		} else if (json_is_real(in)) {
			double d = json_real_value(in);
			if (d == floor(d) && d >= -9.0e18 && d <= 9.0e18)
				v = json_integer((json_int_t)d);
		}
		break;
	case SCHED_PARAM_DOUBLE:
		if (json_is_number(in))
			v = json_real(json_number_value(in));
		break;
	case SCHED_PARAM_BOOL:
		if (json_is_boolean(in))
			v = json_boolean(json_is_true(in));
		break;
	case SCHED_PARAM_DURATION:
		if (json_is_integer(in))
			v = json_integer(json_integer_value(in));
		else if (json_is_string(in) &&
			 brook_duration_parse(json_string_value(in), &i) == BROOK_OK)
			v = json_integer(i);
		break;
	}
	if (!v) {
		char *got = json_dumps(in, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(msg, msglen, "expected %s, got %.200s", param_type_name(s->type),
			 got ? got : "?");
		free(got);
		return NULL;
	}
	if (check_bounds(s, v, msg, msglen) != BROOK_OK) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static const sched_param_spec *param_spec(const sched_operator *op, const char *name)
{
	for (const sched_param_spec *s = op->params; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* The task's params: the YAML `params` mapping (or NULL) checked and completed. */
static json_t *load_params(loader *L, const sched_operator *op, const brook_cfg_node *pnode,
			   const brook_cfg_node *task_node)
{
	char msg[MSG_LEN];
	json_t *out = json_object();

	if (pnode && !(pnode->kind == BROOK_CFG_NODE_SCALAR && pnode->null)) {
		if (pnode->kind != BROOK_CFG_NODE_MAP) {
			fail(L, pnode, "params: expected a mapping of parameter names to values");
			goto err;
		}
		for (size_t i = 0; i < pnode->n; i++) {
			const char *name = pnode->keys[i];
			const brook_cfg_node *vn = pnode->items[i];
			const sched_param_spec *s = param_spec(op, name);
			if (!s) {
				const char *names[64];
				size_t nn = 0;
				char hint[SCHED_ID_MAX + 32];
				const sched_param_spec *p = op->params;
				for (; p->name && nn < 64; p++)
					names[nn++] = p->name;
				suggest(name, names, nn, hint, sizeof hint);
				fail(L, vn, "unknown parameter '%s' for operator '%s'%s", name,
				     op->name, hint);
				goto err;
			}
			if (vn->kind != BROOK_CFG_NODE_SCALAR) {
				fail(L, vn, "parameter '%s': expected %s, got a %s", name,
				     param_type_name(s->type),
				     vn->kind == BROOK_CFG_NODE_MAP ? "mapping" : "list");
				goto err;
			}
			json_t *v = param_from_text(s, vn->null ? NULL : vn->scalar, msg,
						    sizeof msg);
			if (!v) {
				fail(L, vn, "parameter '%s': %s", name, msg);
				goto err;
			}
			json_object_set_new(out, name, v);
		}
	}
	for (const sched_param_spec *s = op->params; s->name; s++) {
		if (json_object_get(out, s->name))
			continue;
		if (s->required) {
			fail(L, task_node, "missing required parameter '%s' of operator '%s'",
			     s->name, op->name);
			goto err;
		}
		json_t *v = param_from_text(s, s->def, msg, sizeof msg);
		/* A default that does not pass its own table is a bug in the operator. */
		if (!v) {
			fail(L, task_node, "operator '%s': default of parameter '%s': %s", op->name,
			     s->name, msg);
			goto err;
		}
		json_object_set_new(out, s->name, v);
	}
	return out;
err:
	json_decref(out);
	return NULL;
}

/* ---- tasks ------------------------------------------------------------------------ */

typedef struct task_opts {
	int retries;
	int64_t retry_delay_ms;
	bool retry_exponential_backoff;
	int64_t max_retry_delay_ms;
	int64_t execution_timeout_ms;
	sched_trigger_rule trigger_rule;
} task_opts;

static const char *const trigger_names[] = {"all_success", "all_done", "one_failed",
					    "none_failed"};

const char *sched_trigger_rule_name(sched_trigger_rule r)
{
	if ((unsigned)r < sizeof trigger_names / sizeof trigger_names[0])
		return trigger_names[r];
	return "?";
}

/* A retry key of a task or of default_args: 1 when handled, 0 when key is not one,
 * BROOK_ERR on a bad value. */
static int read_opt(loader *L, const char *key, const brook_cfg_node *v, task_opts *o)
{
	int64_t i;
	const char *s;

	if (strcmp(key, "retries") == 0) {
		if (read_int(L, v, key, 0, RETRIES_LIMIT, &i) != BROOK_OK)
			return BROOK_ERR;
		o->retries = (int)i;
	} else if (strcmp(key, "retry_delay") == 0) {
		if (read_duration(L, v, key, &o->retry_delay_ms) != BROOK_OK)
			return BROOK_ERR;
	} else if (strcmp(key, "retry_exponential_backoff") == 0) {
		if (read_bool(L, v, key, &o->retry_exponential_backoff) != BROOK_OK)
			return BROOK_ERR;
	} else if (strcmp(key, "max_retry_delay") == 0) {
		if (read_duration(L, v, key, &o->max_retry_delay_ms) != BROOK_OK)
			return BROOK_ERR;
		if (o->max_retry_delay_ms <= 0) {
			fail(L, v, "max_retry_delay: must be greater than 0");
			return BROOK_ERR;
		}
	} else if (strcmp(key, "execution_timeout") == 0) {
		if (v->kind == BROOK_CFG_NODE_SCALAR && v->null)
			o->execution_timeout_ms = 0;
		else if (read_duration(L, v, key, &o->execution_timeout_ms) != BROOK_OK)
			return BROOK_ERR;
	} else if (strcmp(key, "trigger_rule") == 0) {
		if (read_str(L, v, key, &s) != BROOK_OK)
			return BROOK_ERR;
		size_t r;
		for (r = 0; r < sizeof trigger_names / sizeof trigger_names[0]; r++)
			if (strcmp(s, trigger_names[r]) == 0)
				break;
		if (r == sizeof trigger_names / sizeof trigger_names[0]) {
			fail(L, v, "trigger_rule: '%s' is not one of all_success, all_done, "
			     "one_failed, none_failed", s);
			return BROOK_ERR;
		}
		o->trigger_rule = (sched_trigger_rule)r;
	} else {
		return 0;
	}
	return 1;
}

static const char *const opt_keys[] = {"retries", "retry_delay", "retry_exponential_backoff",
				       "max_retry_delay", "execution_timeout", "trigger_rule"};
static const char *const task_keys[] = {"operator", "params", "upstream", "retries",
					"retry_delay", "retry_exponential_backoff",
					"max_retry_delay", "execution_timeout", "trigger_rule"};
static const char *const dag_keys[] = {"description", "schedule", "timezone", "start_date",
				       "end_date", "catchup", "max_active_runs",
				       "is_paused_upon_creation", "default_args", "tasks"};

static void unknown_key(loader *L, const brook_cfg_node *at, const char *what, const char *key,
			const char *const *names, size_t n)
{
	char hint[SCHED_ID_MAX + 32];

	suggest(key, names, n, hint, sizeof hint);
	fail(L, at, "unknown %s key '%s'%s", what, key, hint);
}

/* Per-task upstream names, kept until the graph step. */
typedef struct task_tmp {
	const brook_cfg_node *node;     /* the task's mapping */
	const brook_cfg_node *upstream; /* SCALAR or SEQ, or NULL */
} task_tmp;

static int load_task(loader *L, const char *id, const brook_cfg_node *tn, const task_opts *defs,
		     sched_task *t, task_tmp *tmp)
{
	const brook_cfg_node *opnode = NULL, *pnode = NULL;
	task_opts o = *defs;

	t->task_id = brook_strdup(id);
	t->line = tn->line;
	if (!valid_id(id)) {
		fail(L, tn, "task id must be 1-%d characters of A-Z a-z 0-9 _ . -", SCHED_ID_MAX);
		return BROOK_ERR;
	}
	if (tn->kind != BROOK_CFG_NODE_MAP) {
		fail(L, tn, "expected a mapping with at least an operator");
		return BROOK_ERR;
	}
	for (size_t i = 0; i < tn->n; i++) {
		const char *k = tn->keys[i];
		const brook_cfg_node *v = tn->items[i];
		int rc = read_opt(L, k, v, &o);
		if (rc == BROOK_ERR)
			return BROOK_ERR;
		if (rc == 1)
			continue;
		if (strcmp(k, "operator") == 0) {
			opnode = v;
		} else if (strcmp(k, "params") == 0) {
			pnode = v;
		} else if (strcmp(k, "upstream") == 0) {
			tmp->upstream = v;
		} else {
			unknown_key(L, v, "task", k, task_keys,
				    sizeof task_keys / sizeof task_keys[0]);
			return BROOK_ERR;
		}
	}
	if (!opnode) {
		fail(L, tn, "operator is missing");
		return BROOK_ERR;
	}
	const char *opname;
	if (read_str(L, opnode, "operator", &opname) != BROOK_OK)
		return BROOK_ERR;
	t->op = sched_operator_find(opname);
	if (!t->op) {
		size_t n;
		const sched_operator *const *ops = sched_operators(&n);
		const char *names[16];
		char hint[SCHED_ID_MAX + 32], list[256];
		size_t w = 0;
		list[0] = 0;
		for (size_t i = 0; i < n && i < 16; i++) {
			names[i] = ops[i]->name;
			if (w < sizeof list)
				w += (size_t)snprintf(list + w, sizeof list - w, "%s%s",
						      i ? ", " : "", ops[i]->name);
		}
		suggest(opname, names, n < 16 ? n : 16, hint, sizeof hint);
		fail(L, opnode, "unknown operator '%s'%s; operators: %s", opname, hint, list);
		return BROOK_ERR;
	}
	t->params = load_params(L, t->op, pnode, tn);
	if (!t->params)
		return BROOK_ERR;
	t->retries = o.retries;
	t->retry_delay_ms = o.retry_delay_ms;
	t->retry_exponential_backoff = o.retry_exponential_backoff;
	t->max_retry_delay_ms = o.max_retry_delay_ms;
	t->execution_timeout_ms = o.execution_timeout_ms;
	t->trigger_rule = o.trigger_rule;
	return BROOK_OK;
}

/* ---- graph ------------------------------------------------------------------------ */

static int find_task(const sched_task *tasks, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tasks[i].task_id, id) == 0)
			return (int)i;
	return -1;
}

/* Task ids sorted for lookup: resolving is O(E log n), not O(E n). */
typedef struct name_ix {
	const char *id;
	size_t ix;
} name_ix;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const name_ix *)a)->id, ((const name_ix *)b)->id);
}

static int resolve_upstream(loader *L, sched_task *tasks, size_t n, const task_tmp *tmp)
{
	name_ix *ix = brook_calloc(n, sizeof(name_ix));
	size_t *seen = brook_calloc(n, sizeof(size_t)); /* i + 1: already upstream of i */
	int rc = BROOK_ERR;

	for (size_t i = 0; i < n; i++)
		ix[i] = (name_ix){tasks[i].task_id, i};
	qsort(ix, n, sizeof(name_ix), cmp_name);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(ix[i - 1].id, ix[i].id) == 0) { /* the YAML reader rejects these */
			size_t later = ix[i].ix > ix[i - 1].ix ? ix[i].ix : ix[i - 1].ix;
			L->task_id = tasks[later].task_id;
			fail(L, tmp[later].node, "task id is used twice");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const brook_cfg_node *u = tmp[i].upstream;
		const brook_cfg_node *const *names;
		const brook_cfg_node *one[1];
		size_t nn;

		L->task_id = tasks[i].task_id;
		if (!u || (u->kind == BROOK_CFG_NODE_SCALAR && u->null))
			continue;
		if (u->kind == BROOK_CFG_NODE_SCALAR) {
			one[0] = u;
			names = one;
			nn = 1;
		} else if (u->kind == BROOK_CFG_NODE_SEQ) {
			names = (const brook_cfg_node *const *)u->items;
			nn = u->n;
		} else {
			fail(L, u, "upstream: expected a list of task ids");
			goto out;
		}
		if (nn)
			tasks[i].upstream = brook_calloc(nn, sizeof(size_t));
		for (size_t k = 0; k < nn; k++) {
			const brook_cfg_node *nm = names[k];
			if (nm->kind != BROOK_CFG_NODE_SCALAR || nm->null) {
				fail(L, nm, "upstream: expected task ids");
				goto out;
			}
			name_ix key = {nm->scalar, 0};
			const name_ix *hit = bsearch(&key, ix, n, sizeof(name_ix), cmp_name);
			if (!hit) {
				const char *ids[64];
				size_t ni = 0;
				char hint[SCHED_ID_MAX + 32];
				for (size_t x = 0; x < n && ni < 64; x++)
					ids[ni++] = tasks[x].task_id;
				suggest(nm->scalar, ids, ni, hint, sizeof hint);
				fail(L, nm, "upstream task '%s' does not exist%s", nm->scalar,
				     hint);
				goto out;
			}
			size_t j = hit->ix;
			if (j == i) {
				fail(L, nm, "task lists itself as upstream");
				goto out;
			}
			if (seen[j] == i + 1) {
				fail(L, nm, "upstream task '%s' is listed twice", nm->scalar);
				goto out;
			}
			seen[j] = i + 1;
			tasks[i].upstream[tasks[i].nupstream++] = j;
		}
	}
	rc = BROOK_OK;
out:
	L->task_id = NULL;
	free(ix);
	free(seen);
	return rc;
}

/* Binary min-heap of task indices: Kahn's ready set, lowest declaration index first. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	while (i > 0 && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *n)
{
	size_t top = h[0], v = h[--(*n)], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
	return top;
}

/* Spell out a cycle among the unplaced tasks. Every unplaced task has an unplaced
 * upstream (else Kahn would have placed it), so walking first unplaced upstreams from
 * the lowest unplaced task must revisit a task: the walk's tail from there is a cycle.
 * path[x + 1] is upstream of path[x]; in flow order the cycle reads
 * v -> path[len - 1] -> ... -> path[pos[v]] = v. */
static void describe_cycle(const sched_task *tasks, size_t n, const bool *done, char *buf,
			   size_t buflen)
{
	size_t *pos = brook_malloc(n * sizeof(size_t));
	size_t *path = brook_malloc(n * sizeof(size_t));
	size_t len = 0, v = 0, w = 0;

	for (size_t i = 0; i < n; i++)
		pos[i] = SIZE_MAX;
	while (done[v])
		v++;
	while (pos[v] == SIZE_MAX) {
		pos[v] = len;
		path[len++] = v;
		size_t k = 0;
		while (done[tasks[v].upstream[k]])
			k++;
		v = tasks[v].upstream[k];
	}
	w += (size_t)snprintf(buf, buflen, "%s", tasks[v].task_id);
	for (size_t x = len; x-- > pos[v] && w < buflen;)
		w += (size_t)snprintf(buf + w, buflen - w, " -> %s", tasks[path[x]].task_id);
	if (w >= buflen && buflen > 4)
		memcpy(buf + buflen - 4, "...", 4);
	free(pos);
	free(path);
}

/* Order dag->tasks topologically (lowest declaration index first among ready tasks)
 * and remap upstream indices; on a cycle, an error spelling it out. */
static int order_tasks(loader *L, sched_dag *dag, const brook_cfg_node *at)
{
	size_t n = dag->ntasks, placed = 0, nedges = 0, nheap = 0;
	sched_task *tasks = dag->tasks;
	size_t *remaining = brook_calloc(n, sizeof(size_t)); /* unplaced upstreams */
	size_t *first = brook_calloc(n + 1, sizeof(size_t)); /* downstream lists, CSR */
	size_t *order = brook_calloc(n, sizeof(size_t));     /* new position -> old index */
	size_t *newpos = brook_calloc(n, sizeof(size_t));    /* old index -> new position */
	size_t *heap = brook_calloc(n, sizeof(size_t));
	bool *done = brook_calloc(n, sizeof(bool));
	int rc = BROOK_OK;

	for (size_t i = 0; i < n; i++) {
		remaining[i] = tasks[i].nupstream;
		nedges += tasks[i].nupstream;
		for (size_t k = 0; k < tasks[i].nupstream; k++)
			first[tasks[i].upstream[k] + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		first[i + 1] += first[i];
	size_t *down = brook_calloc(nedges ? nedges : 1, sizeof(size_t));
	size_t *fill = brook_calloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < tasks[i].nupstream; k++) {
			size_t u = tasks[i].upstream[k];
			down[first[u] + fill[u]++] = i;
		}
	for (size_t i = 0; i < n; i++)
		if (remaining[i] == 0)
			heap_push(heap, &nheap, i);
	while (nheap) {
		size_t i = heap_pop(heap, &nheap);
		done[i] = true;
		newpos[i] = placed;
		order[placed++] = i;
		for (size_t e = first[i]; e < first[i + 1]; e++)
			if (--remaining[down[e]] == 0)
				heap_push(heap, &nheap, down[e]);
	}
	if (placed < n) {
		char buf[MSG_LEN - 16];
		describe_cycle(tasks, n, done, buf, sizeof buf);
		fail(L, at, "cycle: %s", buf);
		rc = BROOK_ERR;
		goto out;
	}
	sched_task *sorted = brook_calloc(n, sizeof(sched_task));
	for (size_t p = 0; p < n; p++) {
		sorted[p] = tasks[order[p]];
		for (size_t k = 0; k < sorted[p].nupstream; k++)
			sorted[p].upstream[k] = newpos[sorted[p].upstream[k]];
	}
	free(dag->tasks);
	dag->tasks = sorted;
out:
	free(remaining);
	free(first);
	free(order);
	free(newpos);
	free(heap);
	free(done);
	free(down);
	free(fill);
	return rc;
}

/* ---- DAGs ------------------------------------------------------------------------- */

static void task_free(sched_task *t)
{
	free(t->task_id);
	json_decref(t->params);
	free(t->upstream);
}

static void dag_free(sched_dag *d)
{
	free(d->dag_id);
	free(d->description);
	free(d->schedule_text);
	if (d->schedule)
		cron_expr_free(d->schedule);
	cron_zone_free(d->tz);
	for (size_t i = 0; i < d->ntasks; i++)
		task_free(&d->tasks[i]);
	free(d->tasks);
}

static int load_dag(loader *L, const char *id, const brook_cfg_node *dn, sched_dag *d)
{
	const brook_cfg_node *tasks = NULL, *defaults = NULL, *schedn = NULL, *tzn = NULL;
	const brook_cfg_node *endn = NULL;
	const char *sched = DEFAULT_SCHEDULE, *zone = "UTC", *s;
	int64_t i;
	bool set;
	char msg[MSG_LEN];
	task_opts defs = {
		.retries = 0,
		.retry_delay_ms = 5 * 60 * 1000,
		.retry_exponential_backoff = false,
		.max_retry_delay_ms = INT64_C(24) * 3600 * 1000,
		.execution_timeout_ms = 0,
		.trigger_rule = SCHED_TRIGGER_ALL_SUCCESS,
	};

	d->dag_id = brook_strdup(id);
	d->line = dn->line;
	d->start_date_ms = DEFAULT_START_MS;
	d->end_date_ms = INT64_MAX;
	d->catchup = false;
	d->max_active_runs = DEFAULT_MAX_ACTIVE_RUNS;
	d->is_paused_upon_creation = true;
	if (!valid_id(id)) {
		fail(L, dn, "dag id must be 1-%d characters of A-Z a-z 0-9 _ . -", SCHED_ID_MAX);
		return BROOK_ERR;
	}
	if (dn->kind != BROOK_CFG_NODE_MAP) {
		fail(L, dn, "expected a mapping with at least tasks");
		return BROOK_ERR;
	}
	for (size_t k = 0; k < dn->n; k++) {
		const char *key = dn->keys[k];
		const brook_cfg_node *v = dn->items[k];
		if (strcmp(key, "description") == 0) {
			if (read_str(L, v, key, &s) != BROOK_OK)
				return BROOK_ERR;
			free(d->description);
			d->description = brook_strdup(s);
		} else if (strcmp(key, "schedule") == 0) {
			if (need_scalar(L, v, key) != BROOK_OK)
				return BROOK_ERR;
			schedn = v;
			sched = v->null ? "none" : v->scalar;
		} else if (strcmp(key, "timezone") == 0) {
			if (read_str(L, v, key, &zone) != BROOK_OK)
				return BROOK_ERR;
			tzn = v;
			if (v->null)
				zone = "UTC";
		} else if (strcmp(key, "start_date") == 0) {
			if (read_date(L, v, key, &d->start_date_ms, &set) != BROOK_OK)
				return BROOK_ERR;
		} else if (strcmp(key, "end_date") == 0) {
			if (read_date(L, v, key, &d->end_date_ms, &set) != BROOK_OK)
				return BROOK_ERR;
			endn = v;
		} else if (strcmp(key, "catchup") == 0) {
			if (read_bool(L, v, key, &d->catchup) != BROOK_OK)
				return BROOK_ERR;
		} else if (strcmp(key, "max_active_runs") == 0) {
			if (read_int(L, v, key, 1, MAX_ACTIVE_RUNS_LIMIT, &i) != BROOK_OK)
				return BROOK_ERR;
			d->max_active_runs = (int)i;
		} else if (strcmp(key, "is_paused_upon_creation") == 0) {
			if (read_bool(L, v, key, &d->is_paused_upon_creation) != BROOK_OK)
				return BROOK_ERR;
		} else if (strcmp(key, "default_args") == 0) {
			defaults = v;
		} else if (strcmp(key, "tasks") == 0) {
			tasks = v;
		} else {
			unknown_key(L, v, "DAG", key, dag_keys,
				    sizeof dag_keys / sizeof dag_keys[0]);
			return BROOK_ERR;
		}
	}
	if (!d->description)
		d->description = brook_strdup("");
	d->schedule_text = brook_strdup(sched);
	d->schedule = cron_expr_parse(sched, msg, sizeof msg);
	if (!d->schedule) {
		fail(L, schedn ? schedn : dn, "schedule: %s", msg);
		return BROOK_ERR;
	}
	d->tz = cron_zone_open(zone, msg, sizeof msg);
	if (!d->tz) {
		fail(L, tzn ? tzn : dn, "timezone: %s", msg);
		return BROOK_ERR;
	}
	if (d->end_date_ms < d->start_date_ms) {
		fail(L, endn, "end_date is before start_date");
		return BROOK_ERR;
	}
	if (cron_expr_kind(d->schedule) == CRON_RECURRING) {
		int64_t next;
		if (d->start_date_ms < CRON_MIN_TIME * 1000 + 1000 ||
		    d->start_date_ms > (CRON_MAX_TIME - 3600 * 24 * 366) * 1000) {
			fail(L, dn, "start_date is outside the years 0-9998");
			return BROOK_ERR;
		}
		int64_t after = -floor_div(-d->start_date_ms, 1000) - 1;
		if (cron_next(d->schedule, after, d->tz, &next, msg, sizeof msg) != BROOK_OK) {
			fail(L, schedn ? schedn : dn, "schedule: %s", msg);
			return BROOK_ERR;
		}
	}

	if (defaults && !(defaults->kind == BROOK_CFG_NODE_SCALAR && defaults->null)) {
		if (defaults->kind != BROOK_CFG_NODE_MAP) {
			fail(L, defaults, "default_args: expected a mapping");
			return BROOK_ERR;
		}
		for (size_t k = 0; k < defaults->n; k++) {
			int rc = read_opt(L, defaults->keys[k], defaults->items[k], &defs);
			if (rc == BROOK_ERR)
				return BROOK_ERR;
			if (rc == 0) {
				unknown_key(L, defaults->items[k], "default_args",
					    defaults->keys[k], opt_keys,
					    sizeof opt_keys / sizeof opt_keys[0]);
				return BROOK_ERR;
			}
		}
	}

	if (!tasks || tasks->kind != BROOK_CFG_NODE_MAP || tasks->n == 0) {
		fail(L, tasks ? tasks : dn, "tasks: expected a mapping of task ids to tasks, with "
		     "at least one task");
		return BROOK_ERR;
	}
	d->tasks = brook_calloc(tasks->n, sizeof(sched_task));
	task_tmp *tmp = brook_calloc(tasks->n, sizeof(task_tmp));
	int rc = BROOK_OK;
	for (size_t k = 0; k < tasks->n && rc == BROOK_OK; k++) {
		d->ntasks = k + 1;
		L->task_id = tasks->keys[k];
		tmp[k].node = tasks->items[k];
		rc = load_task(L, tasks->keys[k], tasks->items[k], &defs, &d->tasks[k], &tmp[k]);
	}
	L->task_id = NULL;
	if (rc == BROOK_OK)
		rc = resolve_upstream(L, d->tasks, d->ntasks, tmp);
	if (rc == BROOK_OK)
		rc = order_tasks(L, d, dn);
	free(tmp);
	return rc;
}

void sched_dagbag_free(sched_dagbag *bag)
{
	for (size_t i = 0; i < bag->n; i++)
		dag_free(&bag->dags[i]);
	free(bag->dags);
	free(bag->file);
	memset(bag, 0, sizeof *bag);
}

int sched_dagbag_load(const brook_cfg_node *tree, sched_dagbag *bag, char *err, size_t errlen)
{
	loader L = {.err = err, .errlen = errlen};

	memset(bag, 0, sizeof *bag);
	if (errlen)
		err[0] = 0;
	if (!tree || (tree->kind == BROOK_CFG_NODE_SCALAR && tree->null))
		return BROOK_OK;
	bag->file = brook_strdup(tree->file ? tree->file : "config");
	if (tree->kind != BROOK_CFG_NODE_MAP) {
		fail(&L, tree, "scheduler.dags: expected a mapping of dag ids to DAGs");
		goto err;
	}
	if (tree->n == 0)
		return BROOK_OK;
	bag->dags = brook_calloc(tree->n, sizeof(sched_dag));
	for (size_t i = 0; i < tree->n; i++) {
		sched_dag *d = &bag->dags[i];
		bag->n = i + 1;
		L.dag_id = tree->keys[i];
		L.task_id = NULL;
		/* dag ids are unique: the YAML reader rejects duplicate keys */
		if (load_dag(&L, tree->keys[i], tree->items[i], d) != BROOK_OK)
			goto err;
		d->file = bag->file;
	}
	return BROOK_OK;
err:
	sched_dagbag_free(bag);
	return BROOK_ERR;
}

const sched_dag *sched_dagbag_find(const sched_dagbag *bag, const char *dag_id)
{
	for (size_t i = 0; i < bag->n; i++)
		if (bag->dags[i].dag_id && strcmp(bag->dags[i].dag_id, dag_id) == 0)
			return &bag->dags[i];
	return NULL;
}

int sched_dag_task_index(const sched_dag *dag, const char *task_id)
{
	return find_task(dag->tasks, dag->ntasks, task_id);
}

/* ---- conf ------------------------------------------------------------------------- */

json_t *sched_task_params(const sched_task *task, const json_t *conf, char *err, size_t errlen)
{
	char msg[MSG_LEN];

	if (conf && !json_is_object(conf)) {
		snprintf(err, errlen, "conf must be a JSON object");
		return NULL;
	}
	json_t *out = json_deep_copy(task->params);
	if (!conf)
		return out;
	for (const sched_param_spec *s = task->op->params; s->name; s++) {
		const json_t *in = json_object_get(conf, s->name);
		if (!in)
			continue;
		json_t *v = param_from_json(s, in, msg, sizeof msg);
		if (!v) {
			snprintf(err, errlen, "conf key '%s': %s", s->name, msg);
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, s->name, v);
	}
	return out;
}

int sched_dag_check_conf(const sched_dag *dag, const json_t *conf, char *err, size_t errlen)
{
	char msg[MSG_LEN];

	for (size_t i = 0; i < dag->ntasks; i++) {
		json_t *p = sched_task_params(&dag->tasks[i], conf, msg, sizeof msg);
		if (!p) {
			snprintf(err, errlen, "dag '%s', task '%s': %s", dag->dag_id,
				 dag->tasks[i].task_id, msg);
			return BROOK_ERR;
		}
		json_decref(p);
	}
	return BROOK_OK;
}

/* ---- intervals -------------------------------------------------------------------- */

int sched_dag_interval_end(const sched_dag *dag, int64_t logical_ms, int64_t *end_ms)
{
	char msg[MSG_LEN];
	int64_t next;

	if (cron_expr_kind(dag->schedule) != CRON_RECURRING)
		return BROOK_AGAIN;
	int rc = cron_next(dag->schedule, floor_div(logical_ms, 1000), dag->tz, &next, msg,
			   sizeof msg);
	if (rc != BROOK_OK)
		return rc;
	*end_ms = next * 1000;
	return BROOK_OK;
}

int sched_dag_first_fire_at_or_after(const sched_dag *dag, int64_t t_ms, int64_t *fire_ms)
{
	char msg[MSG_LEN];
	int64_t next;

	if (cron_expr_kind(dag->schedule) != CRON_RECURRING)
		return BROOK_AGAIN;
	/* ceil(t / 1000) - 1: a fire time exactly at t counts. */
	int64_t after = -floor_div(-t_ms, 1000) - 1;
	int rc = cron_next(dag->schedule, after, dag->tz, &next, msg, sizeof msg);
	if (rc != BROOK_OK)
		return rc;
	*fire_ms = next * 1000;
	return BROOK_OK;
}
