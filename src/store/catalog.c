/*
 * catalog.c — the schema catalog: DDL validation, schema.json persistence, system_schema
 * rows. See catalog.h for the contract.
 *
 * State: an array of keyspace pointers, each owning an array of table pointers; every
 * object is heap-allocated once and never moved, so lookups hand out stable pointers.
 *
 * Change protocol (catalog_execute): validate against the current state without touching
 * it; build the new object; link it in (or unlink the dropped one); new schema version;
 * catalog_save() writes schema.json atomically. If saving fails the in-memory state is
 * thrown away and reloaded from the file (which still holds the previous schema), so a
 * DDL that answered an error left nothing behind.
 *
 * schema.json: {"format": 1, "schema_version": "uuid", "keyspaces": [{"name",
 * "durable_writes", "replication": {k: v} (class first), "tables": [{"name", "id",
 * "columns": [{"name", "type", "kind", "position", "desc"}], "options": {k: text}}]}]}.
 * Loading checks every field's JSON type; a malformed file fails catalog_open.
 */
#include "store/catalog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/cql_ast.h"

#define SCHEMA_FILE "schema.json"
#define SCHEMA_MAX (64u * 1024 * 1024)

struct catalog {
	char *dir;
	char *path;
	brook_uuid version;
	catalog_keyspace **ks;
	size_t n_ks;
};

/* ---- freeing ---- */

static void options_free(catalog_option *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].value);
	}
	free(o);
}

static void table_free(catalog_table *t)
{
	for (size_t i = 0; i < t->n_columns; i++) {
		free(t->columns[i].name);
		free(t->columns[i].type);
	}
	free(t->columns);
	free(t->partition_key);
	free(t->clustering);
	options_free(t->options, t->n_options);
	free(t->ks);
	free(t->name);
	free(t);
}

static void keyspace_free(catalog_keyspace *k)
{
	for (size_t i = 0; i < k->n_tables; i++)
		table_free(k->tables[i]);
	free(k->tables);
	options_free(k->replication, k->n_replication);
	free(k->name);
	free(k);
}

static void catalog_clear(catalog *c)
{
	for (size_t i = 0; i < c->n_ks; i++)
		keyspace_free(c->ks[i]);
	free(c->ks);
	c->ks = NULL;
	c->n_ks = 0;
}

void catalog_close(catalog *c)
{
	if (!c)
		return;
	catalog_clear(c);
	free(c->dir);
	free(c->path);
	free(c);
}

void catalog_result_release(catalog_result *r)
{
	free(r->message);
	free(r->ks);
	free(r->table);
	memset(r, 0, sizeof(*r));
}

/* ---- lookups ---- */

static catalog_keyspace *ks_find(const catalog *c, const char *name, size_t *idx)
{
	for (size_t i = 0; i < c->n_ks; i++) {
		if (strcmp(c->ks[i]->name, name) == 0) {
			if (idx)
				*idx = i;
			return c->ks[i];
		}
	}
	return NULL;
}

static catalog_table *table_find(const catalog_keyspace *k, const char *name, size_t *idx)
{
	for (size_t i = 0; i < k->n_tables; i++) {
		if (strcmp(k->tables[i]->name, name) == 0) {
			if (idx)
				*idx = i;
			return k->tables[i];
		}
	}
	return NULL;
}

const catalog_keyspace *catalog_keyspace_get(const catalog *c, const char *ks)
{
	return ks_find(c, ks, NULL);
}

const catalog_table *catalog_table_get(const catalog *c, const char *ks, const char *name)
{
	const catalog_keyspace *k = ks_find(c, ks, NULL);
	return k ? table_find(k, name, NULL) : NULL;
}

const catalog_column *catalog_column_get(const catalog_table *t, const char *name)
{
	for (size_t i = 0; i < t->n_columns; i++)
		if (strcmp(t->columns[i].name, name) == 0)
			return &t->columns[i];
	return NULL;
}

size_t catalog_keyspaces(const catalog *c, const catalog_keyspace *const **out)
{
	*out = (const catalog_keyspace *const *)c->ks;
	return c->n_ks;
}

const brook_uuid *catalog_schema_version(const catalog *c)
{
	return &c->version;
}

/* ---- results ---- */

static int fail(catalog_result *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(catalog_result *r, int code, const char *fmt, ...)
{
	brook_buf b;
	va_list ap;

	brook_buf_init(&b, 128);
	va_start(ap, fmt);
	brook_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->code = code;
	r->applied = false;
	r->message = brook_buf_detach(&b, NULL);
	return BROOK_ERR;
}

static int exists(catalog_result *r, const char *ks, const char *table)
{
	if (table)
		fail(r, CATALOG_ALREADY_EXISTS,
		     "Cannot add already existing table \"%s\" to keyspace \"%s\"", table, ks);
	else
		fail(r, CATALOG_ALREADY_EXISTS, "Cannot add existing keyspace \"%s\"", ks);
	r->ks = brook_strdup(ks);
	r->table = brook_strdup(table ? table : "");
	return BROOK_ERR;
}

/* ---- persistence ---- */

static const char *kind_name(catalog_kind k)
{
	switch (k) {
	case CATALOG_PARTITION_KEY:
		return "partition_key";
	case CATALOG_CLUSTERING:
		return "clustering";
	case CATALOG_STATIC:
		return "static";
	case CATALOG_REGULAR:
		break;
	}
	return "regular";
}

static int kind_parse(const char *s, catalog_kind *k)
{
	static const catalog_kind all[] = {CATALOG_PARTITION_KEY, CATALOG_CLUSTERING,
					   CATALOG_REGULAR, CATALOG_STATIC};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(kind_name(all[i]), s) == 0) {
			*k = all[i];
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

static json_t *options_json(const catalog_option *o, size_t n)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(obj, o[i].name, json_string(o[i].value));
	return obj;
}

static char *catalog_dump(const catalog *c)
{
	char ver[BROOK_UUID_STRLEN + 1];
	json_t *root = json_object();
	json_t *kss = json_array();

	brook_uuid_format(&c->version, ver);
	json_object_set_new(root, "format", json_integer(1));
	json_object_set_new(root, "schema_version", json_string(ver));
	for (size_t i = 0; i < c->n_ks; i++) {
		const catalog_keyspace *k = c->ks[i];
		json_t *jk = json_object();
		json_t *tabs = json_array();

		json_object_set_new(jk, "name", json_string(k->name));
		json_object_set_new(jk, "durable_writes", json_boolean(k->durable_writes));
		json_object_set_new(jk, "replication",
				    options_json(k->replication, k->n_replication));
		for (size_t j = 0; j < k->n_tables; j++) {
			const catalog_table *t = k->tables[j];
			json_t *jt = json_object();
			json_t *cols = json_array();
			char id[BROOK_UUID_STRLEN + 1];

			brook_uuid_format(&t->id, id);
			json_object_set_new(jt, "name", json_string(t->name));
			json_object_set_new(jt, "id", json_string(id));
			for (size_t x = 0; x < t->n_columns; x++) {
				const catalog_column *col = &t->columns[x];
				json_t *jc = json_object();
				json_object_set_new(jc, "name", json_string(col->name));
				json_object_set_new(jc, "type", json_string(col->type));
				json_object_set_new(jc, "kind", json_string(kind_name(col->kind)));
				json_object_set_new(jc, "position", json_integer(col->position));
				json_object_set_new(jc, "desc", json_boolean(col->desc));
				json_array_append_new(cols, jc);
			}
			json_object_set_new(jt, "columns", cols);
			json_object_set_new(jt, "options", options_json(t->options, t->n_options));
			json_array_append_new(tabs, jt);
		}
		json_object_set_new(jk, "tables", tabs);
		json_array_append_new(kss, jk);
	}
	json_object_set_new(root, "keyspaces", kss);
	char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

static int catalog_save(const catalog *c)
{
	char *s = catalog_dump(c);
	int rc = brook_file_write_atomic(c->path, s, strlen(s));
	free(s);
	return rc;
}

/* Reads an options object whose values are all strings. */
static int options_load(json_t *obj, catalog_option **out, size_t *n)
{
	const char *key;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!json_is_object(obj))
		return BROOK_ERR;
	*out = brook_calloc(json_object_size(obj) + 1, sizeof(**out));
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v))
			return BROOK_ERR;
		(*out)[*n].name = brook_strdup(key);
		(*out)[*n].value = brook_strdup(json_string_value(v));
		(*n)++;
	}
	return BROOK_OK;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void table_index_key(catalog_table *t)
{
	t->partition_key = brook_calloc(t->n_columns + 1, sizeof(*t->partition_key));
	t->clustering = brook_calloc(t->n_columns + 1, sizeof(*t->clustering));
	t->n_partition_key = 0;
	t->n_clustering = 0;
	for (size_t i = 0; i < t->n_columns; i++) {
		catalog_column *col = &t->columns[i];
		col->index = i;
		if (col->kind == CATALOG_PARTITION_KEY)
			t->n_partition_key++;
		else if (col->kind == CATALOG_CLUSTERING)
			t->n_clustering++;
	}
	for (size_t i = 0; i < t->n_columns; i++) {
		catalog_column *col = &t->columns[i];
		if (col->kind == CATALOG_PARTITION_KEY)
			t->partition_key[col->position] = col;
		else if (col->kind == CATALOG_CLUSTERING)
			t->clustering[col->position] = col;
	}
}

static catalog_table *table_load(json_t *jt, const char *ks)
{
	json_t *cols = json_object_get(jt, "columns");
	const char *name = jstr(jt, "name"), *id = jstr(jt, "id");
	catalog_table *t;
	size_t npk = 0, ncl = 0;

	if (!name || !id || !json_is_array(cols) || json_array_size(cols) == 0)
		return NULL;
	t = brook_calloc(1, sizeof(*t));
	t->ks = brook_strdup(ks);
	t->name = brook_strdup(name);
	t->columns = brook_calloc(json_array_size(cols), sizeof(*t->columns));
	if (brook_uuid_parse(id, strlen(id), &t->id) != BROOK_OK)
		goto bad;
	for (size_t i = 0; i < json_array_size(cols); i++) {
		json_t *jc = json_array_get(cols, i);
		json_t *pos = json_object_get(jc, "position");
		const char *cn = jstr(jc, "name"), *ty = jstr(jc, "type"), *kd = jstr(jc, "kind");
		catalog_column *col = &t->columns[i];

		if (!cn || !ty || !kd || !json_is_integer(pos) ||
		    !json_is_boolean(json_object_get(jc, "desc")))
			goto bad;
		col->name = brook_strdup(cn);
		col->type = brook_strdup(ty);
		t->n_columns++;
		if (kind_parse(kd, &col->kind) != BROOK_OK)
			goto bad;
		col->desc = json_is_true(json_object_get(jc, "desc"));
		col->position = -1;
		if (col->kind == CATALOG_PARTITION_KEY || col->kind == CATALOG_CLUSTERING) {
			json_int_t p = json_integer_value(pos);
			size_t *cnt = col->kind == CATALOG_PARTITION_KEY ? &npk : &ncl;
			/* Positions must be 0, 1, 2... in declaration order of each kind:
			 * catalog_execute stores them so, and table_index_key relies on it. */
			if (p != (json_int_t)*cnt)
				goto bad;
			col->position = (int)p;
			(*cnt)++;
		}
	}
	if (npk == 0)
		goto bad;
	if (options_load(json_object_get(jt, "options"), &t->options, &t->n_options) != BROOK_OK)
		goto bad;
	table_index_key(t);
	return t;
bad:
	table_free(t);
	return NULL;
}

static int catalog_load(catalog *c, char *err, size_t errlen)
{
	brook_buf b;
	json_error_t je;
	json_t *root, *kss;
	const char *ver;

	brook_buf_init(&b, 4096);
	if (brook_file_read(c->path, SCHEMA_MAX, &b) != BROOK_OK) {
		int e = errno;
		brook_buf_release(&b);
		if (e == ENOENT) {
			brook_uuid_v4(&c->version);
			return BROOK_OK;
		}
		snprintf(err, errlen, "cannot read schema file %s: %s", c->path, strerror(e));
		return BROOK_ERR;
	}
	root = json_loadb(b.data, b.len, 0, &je);
	brook_buf_release(&b);
	if (!root) {
		snprintf(err, errlen, "schema file %s is not valid JSON (line %d: %s)", c->path,
			 je.line, je.text);
		return BROOK_ERR;
	}
	kss = json_object_get(root, "keyspaces");
	ver = jstr(root, "schema_version");
	if (!json_is_array(kss) || !ver ||
	    brook_uuid_parse(ver, strlen(ver), &c->version) != BROOK_OK)
		goto bad;
	c->ks = brook_calloc(json_array_size(kss) + 1, sizeof(*c->ks));
	for (size_t i = 0; i < json_array_size(kss); i++) {
		json_t *jk = json_array_get(kss, i);
		json_t *tabs = json_object_get(jk, "tables");
		json_t *dw = json_object_get(jk, "durable_writes");
		const char *name = jstr(jk, "name");
		catalog_keyspace *k;

		if (!name || !json_is_array(tabs) || !json_is_boolean(dw))
			goto bad;
		k = brook_calloc(1, sizeof(*k));
		c->ks[c->n_ks++] = k;
		k->name = brook_strdup(name);
		k->durable_writes = json_is_true(dw);
		if (options_load(json_object_get(jk, "replication"), &k->replication,
				 &k->n_replication) != BROOK_OK ||
		    k->n_replication == 0 || strcmp(k->replication[0].name, "class") != 0)
			goto bad;
		k->tables = brook_calloc(json_array_size(tabs) + 1, sizeof(*k->tables));
		for (size_t j = 0; j < json_array_size(tabs); j++) {
			catalog_table *t = table_load(json_array_get(tabs, j), name);
			if (!t)
				goto bad;
			k->tables[k->n_tables++] = t;
		}
	}
	json_decref(root);
	return BROOK_OK;
bad:
	json_decref(root);
	catalog_clear(c);
	snprintf(err, errlen, "schema file %s is malformed; restore it from a backup", c->path);
	return BROOK_ERR;
}

catalog *catalog_open(const char *dir, char *err, size_t errlen)
{
	catalog *c;
	brook_buf p;

	if (brook_mkdirs(dir, 0755) != BROOK_OK) {
		snprintf(err, errlen, "cannot create data directory %s: %s", dir,
			 strerror(errno));
		return NULL;
	}
	c = brook_calloc(1, sizeof(*c));
	c->dir = brook_strdup(dir);
	brook_buf_init(&p, 64);
	brook_buf_printf(&p, "%s/%s", dir, SCHEMA_FILE);
	c->path = brook_buf_detach(&p, NULL);
	if (catalog_load(c, err, errlen) != BROOK_OK) {
		catalog_close(c);
		return NULL;
	}
	return c;
}

/* Saves after a change; on failure reloads the previous schema from disk. */
static int commit(catalog *c, catalog_result *r)
{
	char err[512];
	int e;

	brook_uuid_v4(&c->version);
	if (catalog_save(c) == BROOK_OK) {
		r->applied = true;
		return BROOK_OK;
	}
	e = errno;
	brook_error("catalog", "cannot write schema file %s: %s; the change is not applied",
		    c->path, strerror(e));
	catalog_clear(c);
	if (catalog_load(c, err, sizeof(err)) != BROOK_OK)
		brook_error("catalog", "%s", err);
	return fail(r, CATALOG_SERVER_ERROR, "Cannot write the schema file %s: %s", c->path,
		    strerror(e));
}

/* ---- DDL ---- */

static const char *opt_text(brook_arena *a, const cql_term *t)
{
	brook_buf b;
	brook_buf_init(&b, 32);
	cql_term_dump(&b, t);
	const char *s = brook_arena_strndup(a, b.data ? b.data : "", b.len);
	brook_buf_release(&b);
	return s;
}

/* A term's value as plain text: strings unquoted, other literals as written. */
static char *term_plain(const cql_term *t)
{
	switch (t->kind) {
	case CQL_TERM_STRING:
	case CQL_TERM_INT:
	case CQL_TERM_FLOAT:
	case CQL_TERM_UUID:
		return brook_strndup(t->text, t->len);
	case CQL_TERM_BOOL:
		return brook_strdup(t->b ? "true" : "false");
	default:
		return NULL;
	}
}

static char *strategy_class(const char *s)
{
	if (strchr(s, '.'))
		return brook_strdup(s);
	brook_buf b;
	brook_buf_init(&b, 64);
	brook_buf_printf(&b, "org.apache.cassandra.locator.%s", s);
	return brook_buf_detach(&b, NULL);
}

/* Cassandra's checks of a strategy's options: known class, numeric non-negative
 * replication factors, SimpleStrategy's mandatory replication_factor. */
static int check_replication(const char *ks, const char *cls, const cql_term *repl,
			     catalog_result *r)
{
	static const char *const known[] = {"SimpleStrategy", "NetworkTopologyStrategy",
					    "LocalStrategy", "EverywhereStrategy"};
	const char *base = strrchr(cls, '.') ? strrchr(cls, '.') + 1 : cls;
	bool ok = false;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
		ok = strcmp(base, known[i]) == 0 &&
		     (base == cls || strncmp(cls, "org.apache.cassandra.locator.", 29) == 0);
	if (!ok)
		return fail(r, CATALOG_CONFIG, "Unable to find replication strategy class '%s%s'",
			    base == cls ? "org.apache.cassandra.locator." : "", cls);
	bool simple = strcmp(base, "SimpleStrategy") == 0, has_rf = false;
	for (size_t i = 0; i + 1 < repl->n; i += 2) {
		const char *key = repl->items[i]->text;
		const cql_term *v = repl->items[i + 1];
		if (strcmp(key, "class") == 0)
			continue;
		if (simple && strcmp(key, "replication_factor") != 0)
			return fail(r, CATALOG_CONFIG, "Unrecognized strategy option {%s} passed to "
				    "SimpleStrategy for keyspace %s", key, ks);
		has_rf = has_rf || strcmp(key, "replication_factor") == 0;
		const char *txt = v->kind == CQL_TERM_BOOL ? (v->b ? "true" : "false") : v->text;
		char *end = NULL;
		long rf = txt && *txt ? strtol(txt, &end, 10) : 0;
		if (!txt || !*txt || *end || v->kind == CQL_TERM_FLOAT)
			return fail(r, CATALOG_CONFIG, "Replication factor must be numeric; found %s",
				    txt ? txt : "");
		if (rf < 0)
			return fail(r, CATALOG_CONFIG,
				    "Replication factor must be non-negative; found %s", txt);
	}
	if (simple && !has_rf)
		return fail(r, CATALOG_CONFIG,
			    "SimpleStrategy requires a replication_factor strategy option.");
	return BROOK_OK;
}

static int create_keyspace(catalog *c, const cql_create_keyspace *ck, catalog_result *r)
{
	const cql_term *repl = NULL;
	bool durable = true;
	catalog_keyspace *k;

	r->change = "CREATED";
	r->target = "KEYSPACE";
	r->ks = brook_strdup(ck->name.name);
	if (ks_find(c, ck->name.name, NULL)) {
		if (ck->if_not_exists)
			return BROOK_OK;
		free(r->ks);
		r->ks = NULL;
		return exists(r, ck->name.name, NULL);
	}
	for (size_t i = 0; i < ck->n_options; i++) {
		const cql_option *o = &ck->options[i];
		if (strcmp(o->name, "replication") == 0) {
			repl = o->value;
		} else if (strcmp(o->name, "durable_writes") == 0) {
			if (o->value->kind == CQL_TERM_BOOL)
				durable = o->value->b;
			else if (o->value->kind == CQL_TERM_STRING &&
				 (strcasecmp(o->value->text, "true") == 0 ||
				  strcasecmp(o->value->text, "false") == 0))
				durable = strcasecmp(o->value->text, "true") == 0;
			else
				return fail(r, CATALOG_SYNTAX,
					    "Invalid boolean value for durable_writes");
		} else {
			return fail(r, CATALOG_SYNTAX, "Unknown property '%s'", o->name);
		}
	}
	if (!repl)
		return fail(r, CATALOG_CONFIG, "Missing mandatory replication strategy class");
	if (repl->kind != CQL_TERM_MAP)
		return fail(r, CATALOG_SYNTAX, "Invalid value for property 'replication'");
	/* Check everything before allocating the keyspace. */
	const char *cls = NULL;
	for (size_t i = 0; i + 1 < repl->n; i += 2) {
		const cql_term *key = repl->items[i], *val = repl->items[i + 1];
		if (key->kind != CQL_TERM_STRING || !(val->kind == CQL_TERM_STRING ||
						      val->kind == CQL_TERM_INT ||
						      val->kind == CQL_TERM_FLOAT ||
						      val->kind == CQL_TERM_BOOL))
			return fail(r, CATALOG_SYNTAX,
				    "Invalid value for property 'replication'");
		if (strcmp(key->text, "class") == 0) {
			if (val->kind != CQL_TERM_STRING)
				return fail(r, CATALOG_CONFIG,
					    "Unable to find replication strategy class");
			cls = val->text;
		}
	}
	if (!cls)
		return fail(r, CATALOG_CONFIG, "Missing replication strategy class");
	if (check_replication(ck->name.name, cls, repl, r) != BROOK_OK)
		return BROOK_ERR;

	k = brook_calloc(1, sizeof(*k));
	k->name = brook_strdup(ck->name.name);
	k->durable_writes = durable;
	k->replication = brook_calloc(repl->n / 2 + 1, sizeof(*k->replication));
	k->replication[0].name = brook_strdup("class");
	k->replication[0].value = strategy_class(cls);
	k->n_replication = 1;
	for (size_t i = 0; i + 1 < repl->n; i += 2) {
		if (strcmp(repl->items[i]->text, "class") == 0)
			continue;
		k->replication[k->n_replication].name = brook_strdup(repl->items[i]->text);
		k->replication[k->n_replication].value = term_plain(repl->items[i + 1]);
		k->n_replication++;
	}
	c->ks = brook_realloc(c->ks, (c->n_ks + 1) * sizeof(*c->ks));
	c->ks[c->n_ks++] = k;
	return commit(c, r);
}

static int drop_keyspace(catalog *c, const cql_drop *d, catalog_result *r)
{
	size_t idx;
	catalog_keyspace *k = ks_find(c, d->name.name, &idx);

	r->change = "DROPPED";
	r->target = "KEYSPACE";
	r->ks = brook_strdup(d->name.name);
	if (!k) {
		if (d->if_exists)
			return BROOK_OK;
		return fail(r, CATALOG_CONFIG, "Cannot drop non existing keyspace '%s'.",
			    d->name.name);
	}
	memmove(&c->ks[idx], &c->ks[idx + 1], (c->n_ks - idx - 1) * sizeof(*c->ks));
	c->n_ks--;
	keyspace_free(k);
	return commit(c, r);
}

/* Appends the canonical name of an AST type; BROOK_ERR (message in r) for unknown ones. */
static int type_name(brook_buf *b, const cql_ast_type *t, const char *ks, catalog_result *r,
		     bool in_frozen)
{
	static const struct {
		cql_ast_type_kind kind;
		const char *name;
	} natives[] = {
		{CQL_AST_TYPE_ASCII, "ascii"},         {CQL_AST_TYPE_BIGINT, "bigint"},
		{CQL_AST_TYPE_BLOB, "blob"},           {CQL_AST_TYPE_BOOLEAN, "boolean"},
		{CQL_AST_TYPE_COUNTER, "counter"},     {CQL_AST_TYPE_DATE, "date"},
		{CQL_AST_TYPE_DECIMAL, "decimal"},     {CQL_AST_TYPE_DOUBLE, "double"},
		{CQL_AST_TYPE_DURATION, "duration"},   {CQL_AST_TYPE_FLOAT, "float"},
		{CQL_AST_TYPE_INET, "inet"},           {CQL_AST_TYPE_INT, "int"},
		{CQL_AST_TYPE_SMALLINT, "smallint"},   {CQL_AST_TYPE_TEXT, "text"},
		{CQL_AST_TYPE_TIME, "time"},           {CQL_AST_TYPE_TIMESTAMP, "timestamp"},
		{CQL_AST_TYPE_TIMEUUID, "timeuuid"},   {CQL_AST_TYPE_TINYINT, "tinyint"},
		{CQL_AST_TYPE_UUID, "uuid"},           {CQL_AST_TYPE_VARINT, "varint"},
	};
	const char *open = NULL;

	if (t->kind == CQL_AST_TYPE_COUNTER || t->kind == CQL_AST_TYPE_DURATION)
		return fail(r, CATALOG_INVALID, "brook's store does not support %s columns",
			    t->kind == CQL_AST_TYPE_COUNTER ? "counter" : "duration");
	for (size_t i = 0; i < sizeof(natives) / sizeof(natives[0]); i++) {
		if (natives[i].kind == t->kind) {
			brook_buf_puts(b, natives[i].name);
			return BROOK_OK;
		}
	}
	switch (t->kind) {
	case CQL_AST_TYPE_LIST:
		open = "list<";
		break;
	case CQL_AST_TYPE_SET:
		open = "set<";
		break;
	case CQL_AST_TYPE_MAP:
		open = "map<";
		break;
	case CQL_AST_TYPE_TUPLE:
		open = "tuple<";
		break;
	case CQL_AST_TYPE_CUSTOM:
		return fail(r, CATALOG_INVALID, "Unknown type %s: custom types are not supported",
			    t->name ? t->name : "?");
	default:
		return fail(r, CATALOG_INVALID, "Unknown type %s.%s", ks,
			    t->name ? t->name : "?");
	}
	/* Tuples are always frozen in Cassandra's schema, and so is what they hold. */
	bool frozen = t->frozen || t->kind == CQL_AST_TYPE_TUPLE || in_frozen;
	bool coll = t->kind != CQL_AST_TYPE_TUPLE;
	if (frozen)
		brook_buf_puts(b, "frozen<");
	brook_buf_puts(b, open);
	for (size_t i = 0; i < t->n_params; i++) {
		const cql_ast_type *p = t->params[i];
		bool p_coll = p->kind == CQL_AST_TYPE_LIST || p->kind == CQL_AST_TYPE_SET ||
			      p->kind == CQL_AST_TYPE_MAP;
		if (coll && !frozen && p_coll && !p->frozen) {
			brook_buf tn = BROOK_BUF_INIT;
			cql_type_dump(&tn, t);
			brook_buf_putc(&tn, '\0');
			int rc = fail(r, CATALOG_INVALID,
				      "Non-frozen collections are not allowed inside collections: %s",
				      tn.data);
			brook_buf_release(&tn);
			return rc;
		}
		if (i)
			brook_buf_puts(b, ", ");
		if (type_name(b, p, ks, r, frozen) != BROOK_OK)
			return BROOK_ERR;
	}
	brook_buf_putc(b, '>');
	if (frozen)
		brook_buf_putc(b, '>');
	return BROOK_OK;
}

static bool is_collection(const cql_ast_type *t)
{
	return t->kind == CQL_AST_TYPE_LIST || t->kind == CQL_AST_TYPE_SET || t->kind == CQL_AST_TYPE_MAP;
}

static const cql_column_def *def_find(const cql_create_table *ct, const char *name)
{
	for (size_t i = 0; i < ct->n_columns; i++)
		if (strcmp(ct->columns[i].name.name, name) == 0)
			return &ct->columns[i];
	return NULL;
}

/* Validates the key parts: declared, not repeated, not a non-frozen collection, not
 * static. */
static int check_key(const cql_create_table *ct, const cql_ident *ids, size_t n,
		     catalog_result *r)
{
	for (size_t i = 0; i < n; i++) {
		const cql_column_def *d = def_find(ct, ids[i].name);
		if (!d)
			return fail(r, CATALOG_INVALID,
				    "Unknown definition %s referenced in PRIMARY KEY",
				    ids[i].name);
		if (is_collection(d->type) && !d->type->frozen)
			return fail(r, CATALOG_INVALID,
				    "Invalid non-frozen collection type for PRIMARY KEY "
				    "component %s", ids[i].name);
		if (d->is_static)
			return fail(r, CATALOG_INVALID,
				    "Static column %s cannot be part of the PRIMARY KEY",
				    ids[i].name);
	}
	return BROOK_OK;
}

static int key_position(const cql_ident *ids, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int create_table(catalog *c, const cql_create_table *ct, const char *session_ks,
			catalog_result *r)
{
	const char *ks = ct->name.ks ? ct->name.ks : session_ks;
	catalog_keyspace *k;
	catalog_table *t;
	brook_arena a = BROOK_ARENA_INIT;
	const char **types;
	brook_buf b;

	r->change = "CREATED";
	r->target = "TABLE";
	if (!ks)
		return fail(r, CATALOG_INVALID, "%s", CATALOG_NO_KEYSPACE);
	r->ks = brook_strdup(ks);
	r->table = brook_strdup(ct->name.name);
	k = ks_find(c, ks, NULL);
	if (!k)
		return fail(r, CATALOG_INVALID, "Keyspace %s does not exist", ks);
	if (table_find(k, ct->name.name, NULL)) {
		if (ct->if_not_exists)
			return BROOK_OK;
		free(r->ks);
		free(r->table);
		r->ks = r->table = NULL;
		return exists(r, ks, ct->name.name);
	}
	if (ct->n_pk_decls == 0)
		return fail(r, CATALOG_INVALID, "No PRIMARY KEY specifed (exactly one required)");
	if (ct->n_pk_decls > 1)
		return fail(r, CATALOG_INVALID,
			    "Multiple PRIMARY KEYs specifed (exactly one required)");
	if (ct->compact_storage)
		return fail(r, CATALOG_INVALID, "COMPACT STORAGE tables are not supported");
	for (size_t i = 0; i < ct->n_columns; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(ct->columns[i].name.name, ct->columns[j].name.name) == 0)
				return fail(r, CATALOG_INVALID,
					    "Multiple definition of identifier %s",
					    ct->columns[i].name.name);
	if (check_key(ct, ct->partition_key, ct->n_partition_key, r) != BROOK_OK ||
	    check_key(ct, ct->clustering, ct->n_clustering, r) != BROOK_OK)
		return BROOK_ERR;
	for (size_t i = 0; i < ct->n_partition_key + ct->n_clustering; i++) {
		const char *ni = i < ct->n_partition_key
			? ct->partition_key[i].name : ct->clustering[i - ct->n_partition_key].name;
		for (size_t j = 0; j < i; j++) {
			const char *nj = j < ct->n_partition_key
				? ct->partition_key[j].name
				: ct->clustering[j - ct->n_partition_key].name;
			if (strcmp(ni, nj) == 0)
				return fail(r, CATALOG_INVALID,
					    "Multiple definition of identifier %s in PRIMARY KEY",
					    ni);
		}
	}
	for (size_t i = 0; i < ct->n_columns; i++)
		if (ct->columns[i].is_static && ct->n_clustering == 0)
			return fail(r, CATALOG_INVALID,
				    "Static columns are only useful (and thus allowed) if the "
				    "table has at least one clustering column");
	for (size_t i = 0; i < ct->n_columns; i++)
		if (ct->columns[i].is_static)
			return fail(r, CATALOG_INVALID,
				    "brook's store does not support static columns (%s)",
				    ct->columns[i].name.name);
	for (size_t i = 0; i < ct->n_clustering_order; i++) {
		const char *n = ct->clustering_order[i].col.name;
		int p = key_position(ct->clustering, ct->n_clustering, n);
		if (p < 0)
			return fail(r, CATALOG_INVALID,
				    "Only clustering key columns can be defined in CLUSTERING "
				    "ORDER directive");
		if ((size_t)p != i)
			return fail(r, CATALOG_INVALID,
				    "The order of columns in the CLUSTERING ORDER directive must "
				    "be the one of the clustering key (%s must appear before %s)",
				    ct->clustering[i].name, n);
	}
	if (ct->n_clustering_order && ct->n_clustering_order < ct->n_clustering)
		return fail(r, CATALOG_INVALID, "Missing CLUSTERING ORDER for column %s",
			    ct->clustering[ct->n_clustering_order].name);
	static const char *const table_props[] = {
		"bloom_filter_fp_chance", "caching", "cdc", "comment", "compaction", "compression",
		"crc_check_chance", "dclocal_read_repair_chance", "default_time_to_live",
		"extensions", "gc_grace_seconds", "max_index_interval",
		"memtable_flush_period_in_ms", "min_index_interval", "read_repair_chance",
		"speculative_retry",
	};
	for (size_t i = 0; i < ct->n_options; i++) {
		if (strcmp(ct->options[i].name, "id") == 0)
			return fail(r, CATALOG_INVALID, "Setting a table id is not supported");
		bool known = false;
		for (size_t p = 0; p < sizeof(table_props) / sizeof(table_props[0]) && !known; p++)
			known = strcmp(ct->options[i].name, table_props[p]) == 0;
		if (!known)
			return fail(r, CATALOG_SYNTAX, "Unknown property '%s'", ct->options[i].name);
	}
	size_t counters = 0, regulars = 0;
	for (size_t i = 0; i < ct->n_columns; i++) {
		const cql_column_def *d = &ct->columns[i];
		if (key_position(ct->partition_key, ct->n_partition_key, d->name.name) >= 0 ||
		    key_position(ct->clustering, ct->n_clustering, d->name.name) >= 0)
			continue;
		if (d->type->kind == CQL_AST_TYPE_COUNTER)
			counters++;
		else
			regulars++;
	}
	if (counters && regulars)
		return fail(r, CATALOG_INVALID,
			    "Cannot mix counter and non counter columns in the same table");

	/* Types (the last check), kept in a scratch arena until the table is built. */
	types = brook_arena_calloc(&a, (ct->n_columns + 1) * sizeof(*types));
	brook_buf_init(&b, 64);
	for (size_t i = 0; i < ct->n_columns; i++) {
		brook_buf_reset(&b);
		if (type_name(&b, ct->columns[i].type, ks, r, false) != BROOK_OK) {
			brook_buf_release(&b);
			brook_arena_release(&a);
			return BROOK_ERR;
		}
		types[i] = brook_arena_strndup(&a, b.data, b.len);
	}
	brook_buf_release(&b);

	t = brook_calloc(1, sizeof(*t));
	t->ks = brook_strdup(ks);
	t->name = brook_strdup(ct->name.name);
	brook_uuid_v4(&t->id);
	t->columns = brook_calloc(ct->n_columns, sizeof(*t->columns));
	t->n_columns = ct->n_columns;
	for (size_t i = 0; i < ct->n_columns; i++) {
		const cql_column_def *d = &ct->columns[i];
		catalog_column *col = &t->columns[i];
		int pk = key_position(ct->partition_key, ct->n_partition_key, d->name.name);
		int cl = key_position(ct->clustering, ct->n_clustering, d->name.name);

		col->name = brook_strdup(d->name.name);
		col->type = brook_strdup(types[i]);
		col->position = -1;
		col->kind = d->is_static ? CATALOG_STATIC : CATALOG_REGULAR;
		if (pk >= 0) {
			col->kind = CATALOG_PARTITION_KEY;
			col->position = pk;
		} else if (cl >= 0) {
			col->kind = CATALOG_CLUSTERING;
			col->position = cl;
			col->desc = (size_t)cl < ct->n_clustering_order &&
				    ct->clustering_order[cl].desc;
		}
	}
	t->options = brook_calloc(ct->n_options + 1, sizeof(*t->options));
	for (size_t i = 0; i < ct->n_options; i++) {
		t->options[i].name = brook_strdup(ct->options[i].name);
		t->options[i].value = brook_strdup(opt_text(&a, ct->options[i].value));
	}
	t->n_options = ct->n_options;
	brook_arena_release(&a);
	table_index_key(t);
	k->tables = brook_realloc(k->tables, (k->n_tables + 1) * sizeof(*k->tables));
	k->tables[k->n_tables++] = t;
	return commit(c, r);
}

static int drop_table(catalog *c, const cql_drop *d, const char *session_ks,
		      catalog_result *r)
{
	const char *ks = d->name.ks ? d->name.ks : session_ks;
	catalog_keyspace *k;
	catalog_table *t = NULL;
	size_t idx;

	r->change = "DROPPED";
	r->target = "TABLE";
	if (!ks)
		return fail(r, CATALOG_INVALID, "%s", CATALOG_NO_KEYSPACE);
	r->ks = brook_strdup(ks);
	r->table = brook_strdup(d->name.name);
	k = ks_find(c, ks, NULL);
	if (k)
		t = table_find(k, d->name.name, &idx);
	if (!t) {
		if (d->if_exists)
			return BROOK_OK;
		/* Cassandra 3.11 checks access first, which validates the table. */
		if (!k)
			return fail(r, CATALOG_INVALID, "Keyspace %s does not exist", ks);
		return fail(r, CATALOG_INVALID, "unconfigured table %s", d->name.name);
	}
	memmove(&k->tables[idx], &k->tables[idx + 1],
		(k->n_tables - idx - 1) * sizeof(*k->tables));
	k->n_tables--;
	table_free(t);
	return commit(c, r);
}

int catalog_execute(catalog *c, const struct cql_stmt *stmt, const char *session_ks,
		    catalog_result *r)
{
	memset(r, 0, sizeof(*r));
	switch (stmt->kind) {
	case CQL_STMT_CREATE_KEYSPACE:
		return create_keyspace(c, &stmt->u.create_keyspace, r);
	case CQL_STMT_DROP_KEYSPACE:
		return drop_keyspace(c, &stmt->u.drop, r);
	case CQL_STMT_CREATE_TABLE:
		return create_table(c, &stmt->u.create_table, session_ks, r);
	case CQL_STMT_DROP_TABLE:
		return drop_table(c, &stmt->u.drop, session_ks, r);
	default:
		return fail(r, CATALOG_INVALID, "%s is not a schema statement",
			    cql_stmt_kind_name(stmt->kind));
	}
}

/* ---- system_schema ---- */

static const catalog_sys_column sys_keyspaces[] = {
	{"keyspace_name", "text"},
	{"durable_writes", "boolean"},
	{"replication", "frozen<map<text, text>>"},
};

static const catalog_sys_column sys_tables[] = {
	{"keyspace_name", "text"},
	{"table_name", "text"},
	{"bloom_filter_fp_chance", "double"},
	{"caching", "frozen<map<text, text>>"},
	{"cdc", "boolean"},
	{"comment", "text"},
	{"compaction", "frozen<map<text, text>>"},
	{"compression", "frozen<map<text, text>>"},
	{"crc_check_chance", "double"},
	{"dclocal_read_repair_chance", "double"},
	{"default_time_to_live", "int"},
	{"extensions", "frozen<map<text, blob>>"},
	{"flags", "frozen<set<text>>"},
	{"gc_grace_seconds", "int"},
	{"id", "uuid"},
	{"max_index_interval", "int"},
	{"memtable_flush_period_in_ms", "int"},
	{"min_index_interval", "int"},
	{"read_repair_chance", "double"},
	{"speculative_retry", "text"},
};

/* Cassandra 3.11's defaults for the table options, as literals (NULL: null). */
static const char *const sys_tables_defaults[] = {
	NULL,
	NULL,
	"0.01",
	"{'keys': 'ALL', 'rows_per_partition': 'NONE'}",
	NULL,
	"''",
	"{'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', "
	"'max_threshold': '32', 'min_threshold': '4'}",
	"{'chunk_length_in_kb': '64', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}",
	"1.0",
	"0.1",
	"0",
	"{}",
	"{'compound'}",
	"864000",
	NULL,
	"2048",
	"0",
	"128",
	"0.0",
	"'99PERCENTILE'",
};

static const catalog_sys_column sys_columns[] = {
	{"keyspace_name", "text"},
	{"table_name", "text"},
	{"column_name", "text"},
	{"clustering_order", "text"},
	{"column_name_bytes", "blob"},
	{"kind", "text"},
	{"position", "int"},
	{"type", "text"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A text literal: 'it''s'. */
static const char *lit(brook_arena *a, const char *s)
{
	brook_buf b;
	brook_buf_init(&b, strlen(s) + 3);
	brook_buf_putc(&b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			brook_buf_putc(&b, '\'');
		brook_buf_putc(&b, *p);
	}
	brook_buf_putc(&b, '\'');
	const char *out = brook_arena_strndup(a, b.data, b.len);
	brook_buf_release(&b);
	return out;
}

static int cmp_ks(const void *x, const void *y)
{
	const catalog_keyspace *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

static int cmp_tables(const void *x, const void *y)
{
	const catalog_table *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

static int cmp_cols(const void *x, const void *y)
{
	const catalog_column *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

static const catalog_keyspace **sorted_ks(const catalog *c, brook_arena *a)
{
	const catalog_keyspace **v = brook_arena_calloc(a, (c->n_ks + 1) * sizeof(*v));
	for (size_t i = 0; i < c->n_ks; i++)
		v[i] = c->ks[i];
	if (c->n_ks > 1)
		qsort(v, c->n_ks, sizeof(*v), cmp_ks);
	return v;
}

static const catalog_table **sorted_tables(const catalog_keyspace *k, brook_arena *a)
{
	const catalog_table **v = brook_arena_calloc(a, (k->n_tables + 1) * sizeof(*v));
	for (size_t i = 0; i < k->n_tables; i++)
		v[i] = k->tables[i];
	if (k->n_tables > 1)
		qsort(v, k->n_tables, sizeof(*v), cmp_tables);
	return v;
}

/* Grows the cell array by one row; returns the row. */
static const char **add_row(catalog_rows *out, brook_arena *a, size_t *cap)
{
	if (out->n_rows == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		const char **cells = brook_arena_calloc(a, ncap * out->n_columns * sizeof(*cells));
		if (out->n_rows)
			memcpy(cells, out->cells,
			       out->n_rows * out->n_columns * sizeof(*cells));
		out->cells = cells;
		*cap = ncap;
	}
	return &out->cells[out->n_rows++ * out->n_columns];
}

static const char *replication_lit(const catalog_keyspace *k, brook_arena *a)
{
	brook_buf b;
	brook_buf_init(&b, 128);
	brook_buf_putc(&b, '{');
	for (size_t i = 0; i < k->n_replication; i++) {
		brook_buf_printf(&b, "%s%s: %s", i ? ", " : "", lit(a, k->replication[i].name),
				 lit(a, k->replication[i].value));
	}
	brook_buf_putc(&b, '}');
	const char *s = brook_arena_strndup(a, b.data, b.len);
	brook_buf_release(&b);
	return s;
}

static const char *hex_lit(brook_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *out = brook_arena_alloc(a, 2 * n + 3);
	static const char hx[] = "0123456789abcdef";
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = hx[(unsigned char)s[i] >> 4];
		out[3 + 2 * i] = hx[(unsigned char)s[i] & 15];
	}
	out[2 + 2 * n] = 0;
	return out;
}

static void table_rows(const catalog_table *t, brook_arena *a, catalog_rows *out,
		       size_t *cap)
{
	const char **row = add_row(out, a, cap);
	char id[BROOK_UUID_STRLEN + 1];

	for (size_t i = 0; i < COUNT(sys_tables); i++) {
		row[i] = sys_tables_defaults[i];
		for (size_t j = 0; j < t->n_options; j++)
			if (strcmp(t->options[j].name, sys_tables[i].name) == 0)
				row[i] = t->options[j].value;
	}
	brook_uuid_format(&t->id, id);
	row[0] = lit(a, t->ks);
	row[1] = lit(a, t->name);
	row[14] = brook_arena_strndup(a, id, BROOK_UUID_STRLEN);
}

static void column_rows(const catalog_table *t, brook_arena *a, catalog_rows *out,
			size_t *cap)
{
	const catalog_column **v = brook_arena_calloc(a, (t->n_columns + 1) * sizeof(*v));
	for (size_t i = 0; i < t->n_columns; i++)
		v[i] = &t->columns[i];
	if (t->n_columns > 1)
		qsort(v, t->n_columns, sizeof(*v), cmp_cols);
	for (size_t i = 0; i < t->n_columns; i++) {
		const catalog_column *col = v[i];
		const char **row = add_row(out, a, cap);
		char pos[16];

		snprintf(pos, sizeof(pos), "%d", col->position);
		row[0] = lit(a, t->ks);
		row[1] = lit(a, t->name);
		row[2] = lit(a, col->name);
		row[3] = col->kind != CATALOG_CLUSTERING ? "'none'" : col->desc ? "'desc'"
										: "'asc'";
		row[4] = hex_lit(a, col->name);
		row[5] = lit(a, kind_name(col->kind));
		row[6] = brook_arena_strndup(a, pos, strlen(pos));
		row[7] = lit(a, col->type);
	}
}

void catalog_system_rows(const catalog *c, catalog_system_table which, brook_arena *arena,
			 catalog_rows *out)
{
	const catalog_keyspace **ks = sorted_ks(c, arena);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	switch (which) {
	case CATALOG_SYS_KEYSPACES:
		out->columns = sys_keyspaces;
		out->n_columns = COUNT(sys_keyspaces);
		break;
	case CATALOG_SYS_TABLES:
		out->columns = sys_tables;
		out->n_columns = COUNT(sys_tables);
		break;
	case CATALOG_SYS_COLUMNS:
		out->columns = sys_columns;
		out->n_columns = COUNT(sys_columns);
		break;
	}
	for (size_t i = 0; i < c->n_ks; i++) {
		const catalog_keyspace *k = ks[i];
		if (which == CATALOG_SYS_KEYSPACES) {
			const char **row = add_row(out, arena, &cap);
			row[0] = lit(arena, k->name);
			row[1] = k->durable_writes ? "true" : "false";
			row[2] = replication_lit(k, arena);
			continue;
		}
		const catalog_table **tabs = sorted_tables(k, arena);
		for (size_t j = 0; j < k->n_tables; j++) {
			if (which == CATALOG_SYS_TABLES)
				table_rows(tabs[j], arena, out, &cap);
			else
				column_rows(tabs[j], arena, out, &cap);
		}
	}
}

const char *catalog_rows_cell(const catalog_rows *rows, size_t i, const char *name)
{
	if (i >= rows->n_rows)
		return NULL;
	for (size_t j = 0; j < rows->n_columns; j++)
		if (strcmp(rows->columns[j].name, name) == 0)
			return rows->cells[i * rows->n_columns + j];
	return NULL;
}
