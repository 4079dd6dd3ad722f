/*
 * job.c — load, check and compile stream jobs (job.h has the YAML shape).
 *
 * One pass per job over its brook_cfg_node tree: scalars are typed here, expressions go
 * through expr_compile with a resolver over the job's input shape (or a permissive one
 * without a shape), and the sink's key lists are resolved to column indexes. The first
 * error ends the load: "FILE:LINE: stream job 'J': what"; everything allocated so far
 * is freed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/jdoc.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "stream/job.h"

#define MSG_LEN 768
#define DEFAULT_BATCH_RECORDS 2000
#define DEFAULT_TRIGGER_MS 200
#define DEFAULT_BATCH_ROWS 32
#define DEFAULT_CONCURRENCY 32
#define SHAPE_MAX_DEPTH 32

/* ---- the input shape ---------------------------------------------------------------- */

typedef struct stream_shape {
	bool object;
	expr_type type; /* leaves */
	bool nullable;
	size_t n;
	char **keys;
	struct stream_shape **kids;
} stream_shape;

/* Adds every leaf path of s (keys[0..depth) lead to it) to p; an object without fields
 * is kept whole, like a leaf. */
static void shape_project(brook_jproj *p, const stream_shape *s, const char **keys, size_t depth)
{
	if (!s->object || s->n == 0 || depth == SHAPE_MAX_DEPTH) {
		if (depth)
			brook_jproj_add(p, keys, NULL, depth);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		keys[depth] = s->keys[i];
		shape_project(p, s->kids[i], keys, depth + 1);
	}
}

static void shape_free(stream_shape *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->keys[i]);
		shape_free(s->kids[i]);
	}
	free(s->keys);
	free(s->kids);
	free(s);
}

typedef struct loader {
	char *err;
	size_t errlen;
	const char *job; /* NULL outside a job */
} loader;

static void fail(loader *L, const brook_cfg_node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(loader *L, const brook_cfg_node *at, const char *fmt, ...)
{
	char msg[MSG_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (L->job)
		snprintf(L->err, L->errlen, "%s:%d: stream job '%s': %s",
			 at && at->file ? at->file : "config", at ? at->line : 0, L->job, msg);
	else
		snprintf(L->err, L->errlen, "%s:%d: %s", at && at->file ? at->file : "config",
			 at ? at->line : 0, msg);
}

static const struct {
	const char *name;
	expr_type t;
} shape_types[] = {
	{"string", EXPR_STRING},   {"int", EXPR_INT},	    {"double", EXPR_DOUBLE},
	{"boolean", EXPR_BOOL},	   {"timestamp", EXPR_TIMESTAMP}, {"uuid", EXPR_UUID},
	{"any", EXPR_ANY},
};

static stream_shape *shape_load(loader *L, const brook_cfg_node *n, int depth)
{
	if (depth > SHAPE_MAX_DEPTH) {
		fail(L, n, "input: nested deeper than %d levels", SHAPE_MAX_DEPTH);
		return NULL;
	}
	stream_shape *s = brook_calloc(1, sizeof *s);
	if (n->kind == BROOK_CFG_NODE_SCALAR && !n->null) {
		char name[32];
		size_t len = strlen(n->scalar);
		s->nullable = len > 0 && n->scalar[len - 1] == '?';
		if (s->nullable)
			len--;
		if (len < sizeof name) {
			memcpy(name, n->scalar, len);
			name[len] = 0;
			for (size_t i = 0; i < sizeof shape_types / sizeof shape_types[0]; i++)
				if (!strcmp(name, shape_types[i].name)) {
					s->type = shape_types[i].t;
					return s;
				}
		}
		fail(L, n,
		     "input: unknown type '%s' (string, int, double, boolean, timestamp, uuid, "
		     "any; a trailing ? for nullable)",
		     n->scalar);
		free(s);
		return NULL;
	}
	if (n->kind != BROOK_CFG_NODE_MAP) {
		fail(L, n, "input: a field's shape is a type name or a map of fields");
		free(s);
		return NULL;
	}
	s->object = true;
	s->n = n->n;
	s->keys = brook_calloc(n->n ? n->n : 1, sizeof *s->keys);
	s->kids = brook_calloc(n->n ? n->n : 1, sizeof *s->kids);
	for (size_t i = 0; i < n->n; i++) {
		s->keys[i] = brook_strdup(n->keys[i]);
		s->kids[i] = shape_load(L, n->items[i], depth + 1);
		if (!s->kids[i]) {
			s->n = i + 1;
			shape_free(s);
			return NULL;
		}
	}
	return s;
}

/* The resolver expr_compile calls: walk the dotted path through the shape. */
static int shape_resolve(void *arg, const char *path, expr_type *type, bool *nullable, char *err,
			 size_t errlen)
{
	const stream_shape *s = arg;
	if (!s) { /* no shape: everything goes, checked at run time */
		*type = EXPR_ANY;
		*nullable = true;
		return BROOK_OK;
	}
	const char *p = path;
	bool maybe_null = false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (!s->object) {
			snprintf(err, errlen, "unknown path '%s': '%.*s' is a %s, not an object",
				 path, (int)(p - path - 1 > 0 ? p - path - 1 : 0), path,
				 expr_type_name(s->type));
			return BROOK_ERR;
		}
		const stream_shape *next = NULL;
		for (size_t i = 0; i < s->n && !next; i++)
			if (strlen(s->keys[i]) == len && !memcmp(s->keys[i], p, len))
				next = s->kids[i];
		if (!next) {
			char seg[128];
			snprintf(seg, sizeof seg, "%.*s", (int)len, p);
			const char *best = NULL;
			size_t best_d = 3;
			for (size_t i = 0; i < s->n; i++) {
				size_t d = brook_edit_distance(seg, s->keys[i]);
				if (d < best_d) {
					best_d = d;
					best = s->keys[i];
				}
			}
			if (best)
				snprintf(err, errlen,
					 "unknown path '%s' (did you mean '%.*s%s'?)", path,
					 (int)(p - path), path, best);
			else
				snprintf(err, errlen, "unknown path '%s' (not in the job's input)",
					 path);
			return BROOK_ERR;
		}
		s = next;
		maybe_null = maybe_null || s->nullable;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (s->object) {
		snprintf(err, errlen, "path '%s' is an object; name one of its fields", path);
		return BROOK_ERR;
	}
	*type = s->type;
	*nullable = maybe_null;
	return BROOK_OK;
}

/* ---- scalars ------------------------------------------------------------------------ */

static const char *scalar(loader *L, const brook_cfg_node *n, const char *what)
{
	if (!n || n->kind != BROOK_CFG_NODE_SCALAR || n->null) {
		fail(L, n, "%s must be a scalar", what);
		return NULL;
	}
	return n->scalar;
}

static int int_value(loader *L, const brook_cfg_node *n, const char *what, int64_t lo,
		     int64_t hi, int64_t *out)
{
	const char *s = scalar(L, n, what);
	if (!s)
		return BROOK_ERR;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < lo || v > hi) {
		fail(L, n, "%s must be an integer in [%lld, %lld], not '%s'", what, (long long)lo,
		     (long long)hi, s);
		return BROOK_ERR;
	}
	*out = v;
	return BROOK_OK;
}

static int bool_value(loader *L, const brook_cfg_node *n, const char *what, bool *out)
{
	const char *s = scalar(L, n, what);
	if (!s)
		return BROOK_ERR;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") ||
	    !strcmp(s, "1"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") ||
		 !strcmp(s, "0"))
		*out = false;
	else {
		fail(L, n, "%s must be true or false, not '%s'", what, s);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* A CQL identifier we can write unquoted: [a-z_][a-z0-9_]*, ≤ 48 bytes. */
static bool plain_ident(const char *s)
{
	if (!*s || strlen(s) > 48 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool job_name_ok(const char *s)
{
	if (!*s || strlen(s) > STREAM_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* A list: a YAML sequence of scalars or one comma-separated scalar. */
static int list_value(loader *L, const brook_cfg_node *n, const char *what, char ***out,
		      size_t *count)
{
	*out = NULL;
	*count = 0;
	if (n->kind == BROOK_CFG_NODE_SEQ) {
		*out = brook_calloc(n->n ? n->n : 1, sizeof **out);
		for (size_t i = 0; i < n->n; i++) {
			const char *s = scalar(L, n->items[i], what);
			if (!s)
				return BROOK_ERR;
			(*out)[(*count)++] = brook_strdup(s);
		}
		return BROOK_OK;
	}
	const char *s = scalar(L, n, what);
	if (!s)
		return BROOK_ERR;
	*out = brook_calloc(strlen(s) + 1, sizeof **out);
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		size_t len = (size_t)(e - p);
		while (len && p[len - 1] == ' ')
			len--;
		if (len)
			(*out)[(*count)++] = brook_strndup(p, len);
		p = e;
	}
	return BROOK_OK;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- expressions ---------------------------------------------------------------------- */

static expr *compile(loader *L, const brook_cfg_node *n, const char *what, stream_shape *shape)
{
	const char *text = scalar(L, n, what);
	if (!text)
		return NULL;
	char msg[512];
	expr *e = expr_compile(text, shape_resolve, shape, msg, sizeof msg);
	if (!e)
		fail(L, n, "%s: %s", what, msg);
	return e;
}

static const char *cql_type_for(expr_type t)
{
	switch (t) {
	case EXPR_INT:
		return "bigint";
	case EXPR_DOUBLE:
		return "double";
	case EXPR_BOOL:
		return "boolean";
	case EXPR_TIMESTAMP:
		return "timestamp";
	case EXPR_UUID:
		return "uuid";
	default:
		return "text";
	}
}

/* ---- one job ---------------------------------------------------------------------------- */

static void job_free(stream_job *j)
{
	free(j->name);
	strv_free(j->topics, j->n_topics);
	free(j->group);
	free(j->reader_schema);
	free(j->payload);
	expr_free(j->event_time);
	expr_free(j->where);
	for (size_t i = 0; i < j->n_cols; i++) {
		free(j->cols[i].name);
		free(j->cols[i].text);
		expr_free(j->cols[i].e);
		free(j->cols[i].cql_type);
	}
	free(j->cols);
	free(j->keyspace);
	free(j->table);
	free(j->pk);
	free(j->replication);
	free(j->dlq_topic);
	shape_free(j->shape);
	brook_jproj_free(j->proj);
	memset(j, 0, sizeof *j);
}

static bool known_key(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (!strcmp(key, *keys))
			return true;
	return false;
}

/* Unknown keys of a map are errors, with a suggestion. */
static int check_keys(loader *L, const brook_cfg_node *map, const char *section,
		      const char *const *keys)
{
	for (size_t i = 0; i < map->n; i++) {
		if (known_key(map->keys[i], keys))
			continue;
		const char *best = NULL;
		size_t best_d = 3;
		for (const char *const *k = keys; *k; k++) {
			size_t d = brook_edit_distance(map->keys[i], *k);
			if (d < best_d) {
				best_d = d;
				best = *k;
			}
		}
		if (best)
			fail(L, map->items[i], "unknown key '%s%s' (did you mean '%s'?)", section,
			     map->keys[i], best);
		else
			fail(L, map->items[i], "unknown key '%s%s'", section, map->keys[i]);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static long col_index(const stream_job *j, const char *name)
{
	for (size_t i = 0; i < j->n_cols; i++)
		if (!strcmp(j->cols[i].name, name))
			return (long)i;
	return -1;
}

static int key_columns(loader *L, stream_job *j, const brook_cfg_node *n, const char *what,
		       size_t **idx, size_t *count)
{
	char **names;
	size_t nn;
	if (list_value(L, n, what, &names, &nn) != BROOK_OK) {
		strv_free(names, nn);
		return BROOK_ERR;
	}
	*idx = brook_calloc(nn ? nn : 1, sizeof **idx);
	*count = nn;
	for (size_t i = 0; i < nn; i++) {
		long c = col_index(j, names[i]);
		if (c < 0) {
			fail(L, n, "%s: '%s' is not a mapped column", what, names[i]);
			strv_free(names, nn);
			return BROOK_ERR;
		}
		(*idx)[i] = (size_t)c;
	}
	strv_free(names, nn);
	if (!nn) {
		fail(L, n, "%s is empty", what);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int load_source(loader *L, stream_job *j, const brook_cfg_node *job,
		       const brook_cfg_node *src)
{
	static const char *const keys[] = {"topics", "group", "format", "reader_schema",
					   "payload", "event_time", "starting_offsets",
					   "max_batch_records", "trigger", NULL};
	if (!src || src->kind != BROOK_CFG_NODE_MAP) {
		fail(L, src ? src : job, "source must be a map (topics, format, ...)");
		return BROOK_ERR;
	}
	if (check_keys(L, src, "source.", keys) != BROOK_OK)
		return BROOK_ERR;
	const brook_cfg_node *n = brook_cfg_map_get(src, "topics");
	if (!n) {
		fail(L, src, "source.topics is required");
		return BROOK_ERR;
	}
	if (list_value(L, n, "source.topics", &j->topics, &j->n_topics) != BROOK_OK)
		return BROOK_ERR;
	if (!j->n_topics) {
		fail(L, n, "source.topics is empty");
		return BROOK_ERR;
	}
	if ((n = brook_cfg_map_get(src, "group"))) {
		const char *s = scalar(L, n, "source.group");
		if (!s)
			return BROOK_ERR;
		j->group = brook_strdup(s);
	}
	j->format = STREAM_FMT_AVRO;
	if ((n = brook_cfg_map_get(src, "format"))) {
		const char *s = scalar(L, n, "source.format");
		if (!s)
			return BROOK_ERR;
		if (!strcmp(s, "json"))
			j->format = STREAM_FMT_JSON;
		else if (strcmp(s, "avro")) {
			fail(L, n, "source.format must be avro or json, not '%s'", s);
			return BROOK_ERR;
		}
	}
	if ((n = brook_cfg_map_get(src, "reader_schema"))) {
		if (j->format != STREAM_FMT_AVRO) {
			fail(L, n, "source.reader_schema needs format avro");
			return BROOK_ERR;
		}
		const char *s = scalar(L, n, "source.reader_schema (Avro schema JSON text)");
		if (!s)
			return BROOK_ERR;
		j->reader_schema = brook_strdup(s);
	}
	if ((n = brook_cfg_map_get(src, "payload"))) {
		const char *s = scalar(L, n, "source.payload");
		if (!s)
			return BROOK_ERR;
		j->payload = brook_strdup(s);
	}
	if ((n = brook_cfg_map_get(src, "event_time"))) {
		/* Over the value before `payload`: no shape applies. */
		if (!(j->event_time = compile(L, n, "source.event_time", NULL)))
			return BROOK_ERR;
		expr_type t = expr_result_type(j->event_time);
		if (t != EXPR_TIMESTAMP && t != EXPR_ANY) {
			fail(L, n, "source.event_time must give a timestamp, not %s",
			     expr_type_name(t));
			return BROOK_ERR;
		}
	}
	j->start_earliest = true;
	if ((n = brook_cfg_map_get(src, "starting_offsets"))) {
		const char *s = scalar(L, n, "source.starting_offsets");
		if (!s)
			return BROOK_ERR;
		if (!strcmp(s, "latest"))
			j->start_earliest = false;
		else if (strcmp(s, "earliest")) {
			fail(L, n, "source.starting_offsets must be earliest or latest, not '%s'",
			     s);
			return BROOK_ERR;
		}
	}
	j->max_batch_records = DEFAULT_BATCH_RECORDS;
	if ((n = brook_cfg_map_get(src, "max_batch_records")) &&
	    int_value(L, n, "source.max_batch_records", 1, 1000000, &j->max_batch_records) !=
		    BROOK_OK)
		return BROOK_ERR;
	j->trigger_ms = DEFAULT_TRIGGER_MS;
	if ((n = brook_cfg_map_get(src, "trigger"))) {
		const char *s = scalar(L, n, "source.trigger");
		if (!s)
			return BROOK_ERR;
		if (!strcmp(s, "continuous"))
			j->trigger_ms = 0;
		else if (brook_duration_parse(s, &j->trigger_ms) != BROOK_OK ||
			 j->trigger_ms > 3600000) {
			fail(L, n,
			     "source.trigger must be a duration up to 1h (200ms, 1s) or "
			     "continuous, not '%s'",
			     s);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

static int load_map(loader *L, stream_job *j, const brook_cfg_node *job,
		    const brook_cfg_node *map)
{
	if (!map || map->kind != BROOK_CFG_NODE_MAP || !map->n) {
		fail(L, map ? map : job, "map must be a non-empty map of column: expression");
		return BROOK_ERR;
	}
	j->cols = brook_calloc(map->n, sizeof *j->cols);
	for (size_t i = 0; i < map->n; i++) {
		const char *name = map->keys[i];
		if (!plain_ident(name)) {
			fail(L, map->items[i],
			     "map: column '%s' must be a lower-case CQL identifier "
			     "([a-z_][a-z0-9_]*)",
			     name);
			return BROOK_ERR;
		}
		char what[96];
		snprintf(what, sizeof what, "map.%s", name);
		stream_column *c = &j->cols[j->n_cols];
		c->line = map->items[i]->line;
		c->e = compile(L, map->items[i], what, j->shape);
		if (!c->e)
			return BROOK_ERR;
		c->name = brook_strdup(name);
		c->text = brook_strdup(map->items[i]->scalar);
		c->cql_type = brook_strdup(cql_type_for(expr_result_type(c->e)));
		j->n_cols++;
	}
	return BROOK_OK;
}

/* sink.<key>: a required lower-case CQL identifier, copied. */
static char *ident(loader *L, const brook_cfg_node *sink, const char *key)
{
	const brook_cfg_node *n = brook_cfg_map_get(sink, key);
	if (!n) {
		fail(L, sink, "sink.%s is required", key);
		return NULL;
	}
	const char *s = scalar(L, n, key);
	if (!s)
		return NULL;
	if (!plain_ident(s)) {
		fail(L, n, "sink.%s '%s' must be a lower-case CQL identifier", key, s);
		return NULL;
	}
	return brook_strdup(s);
}

static int load_sink(loader *L, stream_job *j, const brook_cfg_node *job,
		     const brook_cfg_node *sink)
{
	static const char *const keys[] = {"keyspace",	  "table",	 "primary_key",
					   "partition_key", "create",	 "replication",
					   "types",	  "batch_rows", "concurrency", NULL};
	if (!sink || sink->kind != BROOK_CFG_NODE_MAP) {
		fail(L, sink ? sink : job, "sink must be a map (keyspace, table, ...)");
		return BROOK_ERR;
	}
	if (check_keys(L, sink, "sink.", keys) != BROOK_OK)
		return BROOK_ERR;
	if (!(j->keyspace = ident(L, sink, "keyspace")) || !(j->table = ident(L, sink, "table")))
		return BROOK_ERR;
	const brook_cfg_node *n;
	const char *s;

	if ((n = brook_cfg_map_get(sink, "primary_key"))) {
		if (key_columns(L, j, n, "sink.primary_key", &j->pk, &j->n_pk) != BROOK_OK)
			return BROOK_ERR;
	} else {
		j->pk = brook_calloc(1, sizeof *j->pk);
		j->n_pk = 1; /* the first column */
	}
	j->n_partition = 1;
	if ((n = brook_cfg_map_get(sink, "partition_key"))) {
		size_t *part, np;
		if (key_columns(L, j, n, "sink.partition_key", &part, &np) != BROOK_OK) {
			free(part);
			return BROOK_ERR;
		}
		/* The partition key must be the primary key's leading columns. */
		bool ok = np <= j->n_pk;
		for (size_t i = 0; ok && i < np; i++)
			ok = part[i] == j->pk[i];
		free(part);
		if (!ok) {
			fail(L, n, "sink.partition_key must be the leading columns of "
				   "sink.primary_key");
			return BROOK_ERR;
		}
		j->n_partition = np;
	}
	for (size_t i = 0; i < j->n_pk; i++)
		for (size_t k = 0; k < i; k++)
			if (j->pk[i] == j->pk[k]) {
				fail(L, brook_cfg_map_get(sink, "primary_key"),
				     "sink.primary_key names '%s' twice", j->cols[j->pk[i]].name);
				return BROOK_ERR;
			}
	j->create = true;
	if ((n = brook_cfg_map_get(sink, "create")) &&
	    bool_value(L, n, "sink.create", &j->create) != BROOK_OK)
		return BROOK_ERR;
	s = "{'class': 'SimpleStrategy', 'replication_factor': 1}";
	if ((n = brook_cfg_map_get(sink, "replication")) &&
	    !(s = scalar(L, n, "sink.replication")))
		return BROOK_ERR;
	j->replication = brook_strdup(s);
	if ((n = brook_cfg_map_get(sink, "types"))) {
		if (n->kind != BROOK_CFG_NODE_MAP) {
			fail(L, n, "sink.types must be a map of column: CQL type");
			return BROOK_ERR;
		}
		for (size_t i = 0; i < n->n; i++) {
			long c = col_index(j, n->keys[i]);
			if (c < 0) {
				fail(L, n->items[i], "sink.types: '%s' is not a mapped column",
				     n->keys[i]);
				return BROOK_ERR;
			}
			if (!(s = scalar(L, n->items[i], "sink.types")))
				return BROOK_ERR;
			for (const char *p = s; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
				      strchr("<>, _", *p))) {
					fail(L, n->items[i], "sink.types.%s: '%s' is not a CQL type",
					     n->keys[i], s);
					return BROOK_ERR;
				}
			free(j->cols[c].cql_type);
			j->cols[c].cql_type = brook_strdup(s);
		}
	}
	j->batch_rows = DEFAULT_BATCH_ROWS;
	if ((n = brook_cfg_map_get(sink, "batch_rows")) &&
	    int_value(L, n, "sink.batch_rows", 1, 65535, &j->batch_rows) != BROOK_OK)
		return BROOK_ERR;
	j->concurrency = DEFAULT_CONCURRENCY;
	if ((n = brook_cfg_map_get(sink, "concurrency")) &&
	    int_value(L, n, "sink.concurrency", 1, 4096, &j->concurrency) != BROOK_OK)
		return BROOK_ERR;
	return BROOK_OK;
}

static int load_job(loader *L, stream_job *j, const char *name, const brook_cfg_node *n,
		    const char *default_group)
{
	static const char *const keys[] = {"source", "input", "where", "map", "sink",
					   "dead_letter_topic", NULL};
	L->job = name;
	j->line = n->line;
	if (!job_name_ok(name)) {
		fail(L, n, "a job name is 1-%d of [A-Za-z0-9_.-]", STREAM_NAME_MAX);
		return BROOK_ERR;
	}
	j->name = brook_strdup(name);
	if (n->kind != BROOK_CFG_NODE_MAP) {
		fail(L, n, "a job is a map (source, map, sink, ...)");
		return BROOK_ERR;
	}
	if (check_keys(L, n, "", keys) != BROOK_OK)
		return BROOK_ERR;
	if (load_source(L, j, n, brook_cfg_map_get(n, "source")) != BROOK_OK)
		return BROOK_ERR;
	if (!j->group) {
		size_t len = strlen(default_group) + strlen(name) + 2;
		j->group = brook_malloc(len);
		snprintf(j->group, len, "%s.%s", default_group, name);
	}
	const brook_cfg_node *in = brook_cfg_map_get(n, "input");
	if (in && !(j->shape = shape_load(L, in, 0)))
		return BROOK_ERR;
	if (in && !j->shape->object) {
		fail(L, in, "input must be a map of fields");
		return BROOK_ERR;
	}
	if (j->shape && j->payload) {
		j->proj = brook_jproj_new();
		const char *path[SHAPE_MAX_DEPTH];
		shape_project(j->proj, j->shape, path, 0);
	}
	const brook_cfg_node *w = brook_cfg_map_get(n, "where");
	if (w) {
		if (!(j->where = compile(L, w, "where", j->shape)))
			return BROOK_ERR;
		expr_type t = expr_result_type(j->where);
		if (t != EXPR_BOOL && t != EXPR_ANY && t != EXPR_NULL) {
			fail(L, w, "where must be a condition (boolean), not %s",
			     expr_type_name(t));
			return BROOK_ERR;
		}
	}
	if (load_map(L, j, n, brook_cfg_map_get(n, "map")) != BROOK_OK)
		return BROOK_ERR;
	if (load_sink(L, j, n, brook_cfg_map_get(n, "sink")) != BROOK_OK)
		return BROOK_ERR;
	const brook_cfg_node *d = brook_cfg_map_get(n, "dead_letter_topic");
	if (d) {
		const char *s = d->null ? "" : scalar(L, d, "dead_letter_topic");
		if (!s)
			return BROOK_ERR;
		if (*s)
			j->dlq_topic = brook_strdup(s);
	} else {
		size_t len = strlen(j->topics[0]) + 5;
		j->dlq_topic = brook_malloc(len);
		snprintf(j->dlq_topic, len, "%s.dlq", j->topics[0]);
	}
	L->job = NULL;
	return BROOK_OK;
}

int stream_jobs_load(const brook_cfg_node *tree, const char *default_group, stream_jobs *out,
		     char *err, size_t errlen)
{
	loader L = {.err = err, .errlen = errlen};
	memset(out, 0, sizeof *out);
	if (!tree || (tree->kind == BROOK_CFG_NODE_SCALAR && tree->null))
		return BROOK_OK;
	if (tree->kind != BROOK_CFG_NODE_MAP) {
		fail(&L, tree, "stream.jobs must be a map of job name: job");
		return BROOK_ERR;
	}
	out->v = brook_calloc(tree->n ? tree->n : 1, sizeof *out->v);
	for (size_t i = 0; i < tree->n; i++) {
		int rc = load_job(&L, &out->v[i], tree->keys[i], tree->items[i], default_group);
		out->n = i + 1;
		if (rc != BROOK_OK) {
			stream_jobs_free(out);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

void stream_jobs_free(stream_jobs *jobs)
{
	for (size_t i = 0; i < jobs->n; i++)
		job_free(&jobs->v[i]);
	free(jobs->v);
	memset(jobs, 0, sizeof *jobs);
}

int stream_jobs_select(stream_jobs *jobs, const char *names, char *err, size_t errlen)
{
	if (!names || !*names)
		return BROOK_OK;
	bool *keep = brook_calloc(jobs->n ? jobs->n : 1, sizeof *keep);
	const char *p = names;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		bool found = false;
		for (size_t i = 0; i < jobs->n; i++)
			if (strlen(jobs->v[i].name) == len && !memcmp(jobs->v[i].name, p, len))
				found = keep[i] = true;
		if (!found && len) {
			snprintf(err, errlen, "no stream job '%.*s' in stream.jobs", (int)len, p);
			free(keep);
			return BROOK_ERR;
		}
		p = e ? e + 1 : p + len;
	}
	size_t w = 0;
	for (size_t i = 0; i < jobs->n; i++) {
		if (keep[i])
			jobs->v[w++] = jobs->v[i];
		else
			job_free(&jobs->v[i]);
	}
	jobs->n = w;
	free(keep);
	return BROOK_OK;
}

/* ---- CQL ------------------------------------------------------------------------------- */

void stream_job_create_keyspace_cql(const stream_job *j, brook_buf *out)
{
	brook_buf_printf(out, "CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s",
			 j->keyspace, j->replication);
}

void stream_job_create_table_cql(const stream_job *j, brook_buf *out)
{
	brook_buf_printf(out, "CREATE TABLE IF NOT EXISTS %s.%s (", j->keyspace, j->table);
	for (size_t i = 0; i < j->n_cols; i++)
		brook_buf_printf(out, "%s %s, ", j->cols[i].name, j->cols[i].cql_type);
	brook_buf_printf(out, "PRIMARY KEY ((");
	for (size_t i = 0; i < j->n_partition; i++)
		brook_buf_printf(out, "%s%s", i ? ", " : "", j->cols[j->pk[i]].name);
	brook_buf_printf(out, ")");
	for (size_t i = j->n_partition; i < j->n_pk; i++)
		brook_buf_printf(out, ", %s", j->cols[j->pk[i]].name);
	brook_buf_printf(out, "))");
}

void stream_job_insert_cql(const stream_job *j, brook_buf *out)
{
	brook_buf_printf(out, "INSERT INTO %s.%s (", j->keyspace, j->table);
	for (size_t i = 0; i < j->n_cols; i++)
		brook_buf_printf(out, "%s%s", i ? ", " : "", j->cols[i].name);
	brook_buf_printf(out, ") VALUES (");
	for (size_t i = 0; i < j->n_cols; i++)
		brook_buf_printf(out, "%s?", i ? ", " : "");
	brook_buf_printf(out, ")");
}
