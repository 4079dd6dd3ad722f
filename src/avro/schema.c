/*
 * schema.c — Avro schema parser, accessors, canonical form, fingerprint, JSON form.
 *
 * Parsing runs in two passes over the jansson tree. Pass one (avro_parse_node) builds the
 * nodes depth first; a named type is entered into the name table BEFORE its children
 * are parsed, so a record can refer to itself. Pass two (avro_check_defaults) validates
 * every field default once all named types are complete, because a default may be of
 * a record type that was still being parsed when the field was read. All nodes are
 * registered in the root's pool, which avro_schema_free() walks.
 */
#include "avro/schema.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

struct avro_pool {
	avro_schema **nodes;
	size_t n, cap;
};

struct avro_schema {
	avro_type type;
	bool is_error;          /* "error" written instead of "record" */
	struct avro_pool *pool; /* the root only */
	char *fullname;         /* named types */
	const char *shortname;  /* points into fullname */
	char *nspace;           /* NULL for the null namespace */
	char *doc;
	char **aliases;
	size_t naliases;
	avro_field *fields;
	json_t **fprops; /* per field: other attributes (object) or NULL */
	size_t nfields;
	json_t *index; /* record: field name -> index; enum: symbol -> index (hash lookups) */
	char **symbols;
	size_t nsymbols;
	char *enum_default;
	avro_schema *items; /* array items or map values */
	avro_schema **branches;
	size_t nbranches;
	int64_t size;
	json_t *props;       /* other attributes (object, incl. logicalType) or NULL */
	const char *logical; /* logical type in force, static string, or NULL */
	int precision, scale;
};

typedef struct avro_pctx {
	struct avro_pool *pool;
	json_t *names; /* fullname -> integer index into pool */
	char *err;
	size_t errlen;
} avro_pctx;

static const char *const avro_type_names[] = {
    [AVRO_NULL] = "null",   [AVRO_BOOLEAN] = "boolean", [AVRO_INT] = "int",
    [AVRO_LONG] = "long",   [AVRO_FLOAT] = "float",     [AVRO_DOUBLE] = "double",
    [AVRO_BYTES] = "bytes", [AVRO_STRING] = "string",   [AVRO_RECORD] = "record",
    [AVRO_ENUM] = "enum",   [AVRO_ARRAY] = "array",     [AVRO_MAP] = "map",
    [AVRO_UNION] = "union", [AVRO_FIXED] = "fixed",
};

const char *avro_type_name(avro_type t)
{
	return avro_type_names[t];
}

bool avro_type_is_named(avro_type t)
{
	return t == AVRO_RECORD || t == AVRO_ENUM || t == AVRO_FIXED;
}

static int avro_primitive(const char *s)
{
	for (int t = AVRO_NULL; t <= AVRO_STRING; t++)
		if (!strcmp(s, avro_type_names[t]))
			return t;
	return -1;
}

static void avro_fail(avro_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void avro_fail(avro_pctx *c, const char *fmt, ...)
{
	va_list ap;
	if (!c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

static avro_schema *avro_node_new(avro_pctx *c, avro_type t)
{
	struct avro_pool *p = c->pool;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->nodes = brook_realloc(p->nodes, p->cap * sizeof *p->nodes);
	}
	avro_schema *s = brook_calloc(1, sizeof *s);
	s->type = t;
	p->nodes[p->n++] = s;
	return s;
}

static void avro_node_free(avro_schema *s)
{
	free(s->fullname);
	free(s->nspace);
	free(s->doc);
	for (size_t i = 0; i < s->naliases; i++)
		free(s->aliases[i]);
	free(s->aliases);
	for (size_t i = 0; i < s->nfields; i++) {
		avro_field *f = &s->fields[i];
		free((char *)f->name);
		free((char *)f->doc);
		for (size_t k = 0; k < f->naliases; k++)
			free((char *)f->aliases[k]);
		free((void *)f->aliases);
		json_decref((json_t *)f->def);
		json_decref(s->fprops[i]);
	}
	free(s->fields);
	free(s->fprops);
	for (size_t i = 0; i < s->nsymbols; i++)
		free(s->symbols[i]);
	free(s->symbols);
	free(s->enum_default);
	free(s->branches);
	json_decref(s->props);
	json_decref(s->index);
	free(s);
}

void avro_schema_free(avro_schema *root)
{
	if (!root)
		return;
	struct avro_pool *p = root->pool;
	for (size_t i = 0; i < p->n; i++)
		avro_node_free(p->nodes[i]);
	free(p->nodes);
	free(p);
}

/* ---- names ---------------------------------------------------------------------------- */

static bool avro_name_part_ok(const char *s, size_t n)
{
	if (!n || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

/* A dotted name: every part a valid name. */
static bool avro_fullname_ok(const char *s)
{
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!avro_name_part_ok(p, n))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

/* name qualified by ns unless it already contains a dot. Yours. */
static char *avro_qualify(const char *name, const char *ns)
{
	if (strchr(name, '.') || !ns)
		return brook_strdup(name);
	size_t a = strlen(ns), b = strlen(name);
	char *r = brook_malloc(a + b + 2);
	memcpy(r, ns, a);
	r[a] = '.';
	memcpy(r + a + 1, name, b + 1);
	return r;
}

static avro_schema *avro_lookup(avro_pctx *c, const char *name, const char *ns)
{
	json_t *v = NULL;
	if (!strchr(name, '.') && ns) {
		char *q = avro_qualify(name, ns);
		v = json_object_get(c->names, q);
		free(q);
	}
	if (!v)
		v = json_object_get(c->names, name);
	return v ? c->pool->nodes[json_integer_value(v)] : NULL;
}

/* ---- pass one: nodes ------------------------------------------------------------------ */

/* The text of a JSON string that holds no NUL (names, symbols, docs), or NULL. */
static const char *avro_cstr(const json_t *v)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static avro_schema *avro_parse_node(avro_pctx *c, json_t *j, const char *ns, int depth);

static const char *avro_str_attr(avro_pctx *c, json_t *o, const char *key, bool required,
                                 const char *what, int *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required) {
			avro_fail(c, "%s has no \"%s\"", what, key);
			*bad = 1;
		}
		return NULL;
	}
	if (!avro_cstr(v)) {
		avro_fail(c, "%s: \"%s\" must be a string (without NUL characters)", what, key);
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* Copy every key of o not in `reserved` (NULL-terminated) into a new object; NULL if none. */
static json_t *avro_other_props(json_t *o, const char *const *reserved)
{
	json_t *props = NULL, *v;
	const char *k;
	json_object_foreach(o, k, v)
	{
		bool skip = false;
		for (size_t i = 0; reserved[i]; i++)
			if (!strcmp(k, reserved[i]))
				skip = true;
		if (skip)
			continue;
		if (!props)
			props = json_object();
		json_object_set(props, k, v);
	}
	return props;
}

/* Parse an "aliases" attribute into full names. Returns -1 after avro_fail. */
static int avro_parse_aliases(avro_pctx *c, json_t *o, const char *ns, const char *what,
                              char ***out, size_t *nout)
{
	json_t *a = json_object_get(o, "aliases");
	*out = NULL;
	*nout = 0;
	if (!a)
		return 0;
	if (!json_is_array(a)) {
		avro_fail(c, "%s: \"aliases\" must be an array of names", what);
		return -1;
	}
	size_t n = json_array_size(a);
	if (!n)
		return 0;
	char **v = brook_calloc(n, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		if (!avro_cstr(e) || !avro_fullname_ok(json_string_value(e))) {
			avro_fail(c, "%s: alias %zu is not a valid name", what, i);
			for (size_t k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return -1;
		}
		v[i] = ns ? avro_qualify(json_string_value(e), ns)
		          : brook_strdup(json_string_value(e));
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Name, namespace, doc and aliases of a named type; enters it in the name table. */
static int avro_parse_named(avro_pctx *c, avro_schema *s, json_t *o, const char *ns)
{
	int bad = 0;
	const char *what = avro_type_name(s->type);
	const char *name = avro_str_attr(c, o, "name", true, what, &bad);
	if (bad)
		return -1;
	if (!avro_fullname_ok(name)) {
		avro_fail(c,
		          "invalid %s name '%s': names start with [A-Za-z_] and contain "
		          "only [A-Za-z0-9_], dotted parts for namespaces",
		          what, name);
		return -1;
	}
	const char *dot = strrchr(name, '.');
	if (dot) {
		s->fullname = brook_strdup(name);
		s->nspace = brook_strndup(name, (size_t)(dot - name));
	} else {
		json_t *jns = json_object_get(o, "namespace");
		if (jns && !json_is_null(jns)) {
			if (!avro_cstr(jns)) {
				avro_fail(c, "%s '%s': \"namespace\" must be a string", what, name);
				return -1;
			}
			const char *v = json_string_value(jns);
			if (*v && !avro_fullname_ok(v)) {
				avro_fail(c, "%s '%s': invalid namespace '%s'", what, name, v);
				return -1;
			}
			ns = *v ? v : NULL;
		}
		s->nspace = ns ? brook_strdup(ns) : NULL;
		s->fullname = avro_qualify(name, s->nspace);
	}
	dot = strrchr(s->fullname, '.');
	s->shortname = dot ? dot + 1 : s->fullname;
	if (avro_primitive(s->shortname) >= 0) {
		avro_fail(c, "%s name '%s' is a primitive type name and cannot be redefined", what,
		          s->fullname);
		return -1;
	}
	if (json_object_get(c->names, s->fullname)) {
		avro_fail(c, "duplicate name '%s': a named type may be defined only once",
		          s->fullname);
		return -1;
	}
	json_object_set_new(c->names, s->fullname, json_integer((json_int_t)(c->pool->n - 1)));
	const char *doc = avro_str_attr(c, o, "doc", false, s->fullname, &bad);
	if (bad)
		return -1;
	if (doc)
		s->doc = brook_strdup(doc);
	return avro_parse_aliases(c, o, s->nspace, s->fullname, &s->aliases, &s->naliases);
}

static int avro_parse_fields(avro_pctx *c, avro_schema *s, json_t *o, int depth)
{
	static const char *const reserved[] = {"name",    "type", "default", "order",
	                                       "aliases", "doc",  NULL};
	json_t *fs = json_object_get(o, "fields");
	if (!fs) {
		avro_fail(c, "record '%s' has no \"fields\"", s->fullname);
		return -1;
	}
	if (!json_is_array(fs)) {
		avro_fail(c, "record '%s': \"fields\" must be an array", s->fullname);
		return -1;
	}
	size_t n = json_array_size(fs);
	s->fields = brook_calloc(n ? n : 1, sizeof *s->fields);
	s->index = json_object();
	s->fprops = brook_calloc(n ? n : 1, sizeof *s->fprops);
	for (size_t i = 0; i < n; i++) {
		json_t *fj = json_array_get(fs, i);
		avro_field *f = &s->fields[i];
		int bad = 0;
		if (!json_is_object(fj)) {
			avro_fail(c, "record '%s': field %zu must be an object", s->fullname, i);
			return -1;
		}
		s->nfields = i + 1; /* so that avro_node_free sees it */
		char what[160];
		snprintf(what, sizeof what, "field %zu of record '%s'", i, s->fullname);
		const char *name = avro_str_attr(c, fj, "name", true, what, &bad);
		if (bad)
			return -1;
		if (!avro_name_part_ok(name, strlen(name))) {
			avro_fail(c, "record '%s': invalid field name '%s'", s->fullname, name);
			return -1;
		}
		f->name = brook_strdup(name);
		if (json_object_get(s->index, name)) {
			avro_fail(c, "record '%s': duplicate field name '%s'", s->fullname, name);
			return -1;
		}
		json_object_set_new(s->index, name, json_integer((json_int_t)i));
		snprintf(what, sizeof what, "field '%s' of record '%s'", name, s->fullname);
		const char *doc = avro_str_attr(c, fj, "doc", false, what, &bad);
		if (bad)
			return -1;
		if (doc)
			f->doc = brook_strdup(doc);
		const char *order = avro_str_attr(c, fj, "order", false, what, &bad);
		if (bad)
			return -1;
		if (order) {
			f->order_given = true;
			if (!strcmp(order, "ascending"))
				f->order = AVRO_ORDER_ASCENDING;
			else if (!strcmp(order, "descending"))
				f->order = AVRO_ORDER_DESCENDING;
			else if (!strcmp(order, "ignore"))
				f->order = AVRO_ORDER_IGNORE;
			else {
				avro_fail(c,
				          "%s: \"order\" must be ascending, descending or ignore",
				          what);
				return -1;
			}
		}
		char **al;
		size_t nal;
		/* Field aliases are plain names, never namespace-qualified. */
		if (avro_parse_aliases(c, fj, NULL, what, &al, &nal) < 0)
			return -1;
		f->aliases = (const char *const *)al;
		f->naliases = nal;
		for (size_t k = 0; k < nal; k++)
			if (!avro_name_part_ok(al[k], strlen(al[k]))) {
				avro_fail(c, "%s: invalid alias '%s'", what, al[k]);
				return -1;
			}
		json_t *def = json_object_get(fj, "default");
		if (def)
			f->def = json_incref(def);
		s->fprops[i] = avro_other_props(fj, reserved);
		json_t *tj = json_object_get(fj, "type");
		if (!tj) {
			avro_fail(c, "%s has no \"type\"", what);
			return -1;
		}
		avro_schema *t = avro_parse_node(c, tj, s->nspace, depth + 1);
		if (!t)
			return -1;
		f->type = t;
	}
	s->nfields = n;
	return 0;
}

static int avro_parse_enum(avro_pctx *c, avro_schema *s, json_t *o)
{
	json_t *sy = json_object_get(o, "symbols");
	if (!sy || !json_is_array(sy)) {
		avro_fail(c, "enum '%s' needs \"symbols\", an array of names", s->fullname);
		return -1;
	}
	size_t n = json_array_size(sy);
	s->symbols = brook_calloc(n ? n : 1, sizeof *s->symbols);
	s->index = json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(sy, i);
		if (!avro_cstr(e) ||
		    !avro_name_part_ok(json_string_value(e), strlen(json_string_value(e)))) {
			avro_fail(c, "enum '%s': symbol %zu is not a valid name", s->fullname, i);
			return -1;
		}
		const char *v = json_string_value(e);
		if (json_object_get(s->index, v)) {
			avro_fail(c, "enum '%s': duplicate symbol '%s'", s->fullname, v);
			return -1;
		}
		json_object_set_new(s->index, v, json_integer((json_int_t)i));
		s->symbols[i] = brook_strdup(v);
		s->nsymbols = i + 1;
	}
	json_t *d = json_object_get(o, "default");
	if (d) {
		if (!avro_cstr(d) || avro_schema_symbol_index(s, json_string_value(d)) < 0) {
			avro_fail(c, "enum '%s': \"default\" must be one of its symbols",
			          s->fullname);
			return -1;
		}
		s->enum_default = brook_strdup(json_string_value(d));
	}
	return 0;
}

/* Largest decimal precision a fixed of `size` bytes holds: floor(log10(2^(8n-1) - 1)). */
static long avro_fixed_max_precision(int64_t size)
{
	if (size <= 0)
		return 0;
	return (long)floor((8.0 * (double)size - 1.0) * log10(2.0));
}

/* Decide whether the logicalType in s->props is in force (see header). */
static void avro_logical(avro_schema *s)
{
	json_t *lt = s->props ? json_object_get(s->props, "logicalType") : NULL;
	if (!avro_cstr(lt))
		return;
	static const struct {
		const char *name;
		avro_type type;
	} simple[] = {
	    {"uuid", AVRO_STRING},
	    {"date", AVRO_INT},
	    {"time-millis", AVRO_INT},
	    {"time-micros", AVRO_LONG},
	    {"timestamp-millis", AVRO_LONG},
	    {"timestamp-micros", AVRO_LONG},
	    {"local-timestamp-millis", AVRO_LONG},
	    {"local-timestamp-micros", AVRO_LONG},
	};
	const char *v = json_string_value(lt);
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (!strcmp(v, simple[i].name) && s->type == simple[i].type)
			s->logical = simple[i].name;
	if (!strcmp(v, "duration") && s->type == AVRO_FIXED && s->size == 12)
		s->logical = "duration";
	if (!strcmp(v, "decimal") && (s->type == AVRO_BYTES || s->type == AVRO_FIXED)) {
		json_t *p = json_object_get(s->props, "precision");
		json_t *sc = json_object_get(s->props, "scale");
		if (!p || !json_is_integer(p) || json_integer_value(p) < 1 ||
		    json_integer_value(p) > 1000000)
			return;
		json_int_t scale = 0;
		if (sc) {
			if (!json_is_integer(sc))
				return;
			scale = json_integer_value(sc);
		}
		if (scale < 0 || scale > json_integer_value(p))
			return;
		if (s->type == AVRO_FIXED &&
		    json_integer_value(p) > avro_fixed_max_precision(s->size))
			return;
		s->logical = "decimal";
		s->precision = (int)json_integer_value(p);
		s->scale = (int)scale;
	}
}

static avro_schema *avro_parse_union(avro_pctx *c, json_t *j, const char *ns, int depth)
{
	size_t n = json_array_size(j);
	if (!n) {
		avro_fail(c, "a union needs at least one branch");
		return NULL;
	}
	if (n > AVRO_MAX_UNION_BRANCHES) {
		avro_fail(c, "a union of %zu branches is more than the limit of %d", n,
		          AVRO_MAX_UNION_BRANCHES);
		return NULL;
	}
	avro_schema *u = avro_node_new(c, AVRO_UNION);
	u->branches = brook_calloc(n, sizeof *u->branches);
	json_t *seen = json_object();
	for (size_t i = 0; i < n; i++) {
		avro_schema *b = avro_parse_node(c, json_array_get(j, i), ns, depth + 1);
		if (!b) {
			json_decref(seen);
			return NULL;
		}
		if (b->type == AVRO_UNION) {
			json_decref(seen);
			avro_fail(c,
			          "a union may not immediately contain another union "
			          "(branch %zu)",
			          i);
			return NULL;
		}
		/* Branch identity: the full name of a named type, else "#" + the type name
		 * (names cannot start with '#'). */
		char key[16];
		const char *id = key;
		if (avro_type_is_named(b->type))
			id = b->fullname;
		else
			snprintf(key, sizeof key, "#%s", avro_type_name(b->type));
		json_t *prev = json_object_get(seen, id);
		if (prev) {
			if (avro_type_is_named(b->type))
				avro_fail(c, "a union may not contain the type '%s' twice",
				          b->fullname);
			else
				avro_fail(c,
				          "a union may not contain two branches of type %s "
				          "(branches %lld and %zu)",
				          avro_type_name(b->type),
				          (long long)json_integer_value(prev), i);
			json_decref(seen);
			return NULL;
		}
		json_object_set_new(seen, id, json_integer((json_int_t)i));
		u->branches[i] = b;
		u->nbranches = i + 1;
	}
	json_decref(seen);
	return u;
}

static avro_schema *avro_parse_node(avro_pctx *c, json_t *j, const char *ns, int depth)
{
	if (depth > AVRO_MAX_DEPTH) {
		avro_fail(c, "schema nested deeper than %d levels", AVRO_MAX_DEPTH);
		return NULL;
	}
	if (json_is_string(j)) {
		const char *name = avro_cstr(j);
		if (!name) {
			avro_fail(c, "a type name may not contain NUL characters");
			return NULL;
		}
		int p = avro_primitive(name);
		if (p >= 0)
			return avro_node_new(c, (avro_type)p);
		avro_schema *s = avro_lookup(c, name, ns);
		if (!s)
			avro_fail(c, "unknown type name '%s'", name);
		return s;
	}
	if (json_is_array(j))
		return avro_parse_union(c, j, ns, depth);
	if (!json_is_object(j)) {
		avro_fail(c, "a schema must be a type name, an object or an array (union)");
		return NULL;
	}
	json_t *tj = json_object_get(j, "type");
	if (!tj) {
		avro_fail(c, "schema object has no \"type\"");
		return NULL;
	}
	if (!json_is_string(tj))
		return avro_parse_node(c, tj, ns, depth + 1); /* {"type": {...}} */
	const char *type = avro_cstr(tj);
	if (!type) {
		avro_fail(c, "a type name may not contain NUL characters");
		return NULL;
	}
	int p = avro_primitive(type);
	avro_schema *s;
	static const char *const named_reserved[] = {"type",    "name",   "namespace", "doc",
	                                             "aliases", "fields", "symbols",   "default",
	                                             "size",    NULL};
	static const char *const other_reserved[] = {"type", "items", "values", NULL};
	if (p >= 0) {
		s = avro_node_new(c, (avro_type)p);
		s->props = avro_other_props(j, other_reserved);
	} else if (!strcmp(type, "record") || !strcmp(type, "error")) {
		s = avro_node_new(c, AVRO_RECORD);
		s->is_error = type[0] == 'e';
		s->props = avro_other_props(j, named_reserved);
		if (avro_parse_named(c, s, j, ns) < 0 || avro_parse_fields(c, s, j, depth) < 0)
			return NULL;
	} else if (!strcmp(type, "enum")) {
		s = avro_node_new(c, AVRO_ENUM);
		s->props = avro_other_props(j, named_reserved);
		if (avro_parse_named(c, s, j, ns) < 0 || avro_parse_enum(c, s, j) < 0)
			return NULL;
	} else if (!strcmp(type, "fixed")) {
		s = avro_node_new(c, AVRO_FIXED);
		s->props = avro_other_props(j, named_reserved);
		if (avro_parse_named(c, s, j, ns) < 0)
			return NULL;
		json_t *sz = json_object_get(j, "size");
		if (!sz || !json_is_integer(sz) || json_integer_value(sz) < 0 ||
		    json_integer_value(sz) > AVRO_MAX_FIXED_SIZE) {
			avro_fail(c, "fixed '%s' needs \"size\", an integer from 0 to %d",
			          s->fullname, AVRO_MAX_FIXED_SIZE);
			return NULL;
		}
		s->size = json_integer_value(sz);
	} else if (!strcmp(type, "array") || !strcmp(type, "map")) {
		bool arr = type[0] == 'a';
		const char *key = arr ? "items" : "values";
		s = avro_node_new(c, arr ? AVRO_ARRAY : AVRO_MAP);
		s->props = avro_other_props(j, other_reserved);
		json_t *it = json_object_get(j, key);
		if (!it) {
			avro_fail(c, "%s has no \"%s\"", type, key);
			return NULL;
		}
		s->items = avro_parse_node(c, it, ns, depth + 1);
		if (!s->items)
			return NULL;
	} else {
		s = avro_lookup(c, type, ns); /* {"type": "com.x.User"} */
		if (!s)
			avro_fail(c, "unknown type name '%s'", type);
		return s;
	}
	avro_logical(s);
	return s;
}

/* ---- pass two: defaults --------------------------------------------------------------- */

/* Number of code points of UTF-8 text, or -1 if one is above U+00FF (bytes, fixed). */
static long avro_latin1_len(const char *s, size_t n)
{
	long count = 0;
	for (size_t i = 0; i < n; count++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x80)
			i++;
		else if ((ch & 0xE0) == 0xC0 && ch <= 0xC3)
			i += 2;
		else
			return -1;
	}
	return count;
}

bool avro_schema_default_valid(const avro_schema *s, const json_t *v)
{
	switch (s->type) {
	case AVRO_NULL:
		return json_is_null(v);
	case AVRO_BOOLEAN:
		return json_is_boolean(v);
	case AVRO_INT:
		return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		       json_integer_value(v) <= INT32_MAX;
	case AVRO_LONG:
		return json_is_integer(v);
	case AVRO_FLOAT:
	case AVRO_DOUBLE:
		if (avro_cstr(v)) {
			const char *t = json_string_value(v);
			return !strcmp(t, "NaN") || !strcmp(t, "Infinity") ||
			       !strcmp(t, "-Infinity");
		}
		return json_is_number(v);
	case AVRO_STRING:
		return json_is_string(v);
	case AVRO_BYTES:
		return json_is_string(v) &&
		       avro_latin1_len(json_string_value(v), json_string_length(v)) >= 0;
	case AVRO_FIXED:
		return json_is_string(v) &&
		       avro_latin1_len(json_string_value(v), json_string_length(v)) == s->size;
	case AVRO_ENUM:
		return avro_cstr(v) && avro_schema_symbol_index(s, json_string_value(v)) >= 0;
	case AVRO_ARRAY: {
		if (!json_is_array(v))
			return false;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!avro_schema_default_valid(s->items, json_array_get(v, i)))
				return false;
		return true;
	}
	case AVRO_MAP: {
		const char *k;
		json_t *e;
		if (!json_is_object(v))
			return false;
		json_object_foreach((json_t *)v, k,
		                    e) if (!avro_schema_default_valid(s->items, e)) return false;
		return true;
	}
	case AVRO_RECORD:
		if (!json_is_object(v))
			return false;
		for (size_t i = 0; i < s->nfields; i++) {
			json_t *e = json_object_get(v, s->fields[i].name);
			if (!e) {
				if (!s->fields[i].def)
					return false;
			} else if (!avro_schema_default_valid(s->fields[i].type, e)) {
				return false;
			}
		}
		return true;
	case AVRO_UNION:
		return avro_schema_default_valid(s->branches[0], v);
	}
	return false;
}

static int avro_check_defaults(avro_pctx *c)
{
	for (size_t n = 0; n < c->pool->n; n++) {
		const avro_schema *s = c->pool->nodes[n];
		if (s->type != AVRO_RECORD)
			continue;
		for (size_t i = 0; i < s->nfields; i++) {
			const avro_field *f = &s->fields[i];
			if (!f->def || avro_schema_default_valid(f->type, f->def))
				continue;
			char *d = json_dumps(f->def, JSON_COMPACT | JSON_ENCODE_ANY);
			if (d && strlen(d) > 60)
				strcpy(d + 56, "...");
			const avro_schema *t = f->type;
			bool u = t->type == AVRO_UNION;
			if (u)
				t = t->branches[0];
			avro_fail(
			    c, "field '%s' of record '%s': default value %s is not a valid %s%s",
			    f->name, s->fullname, d ? d : "?",
			    avro_type_is_named(t->type) ? t->fullname : avro_type_name(t->type),
			    u ? " (the first branch of the field's union, which a union "
			        "default must match)"
			      : "");
			free(d);
			return -1;
		}
	}
	return 0;
}

avro_schema *avro_schema_parse(const char *json, size_t len, char *err, size_t errlen)
{
	avro_pctx c = {.err = err, .errlen = errlen};
	if (len > AVRO_MAX_SCHEMA_BYTES) {
		avro_fail(&c, "schema text of %zu bytes is larger than the limit of %u bytes", len,
		          AVRO_MAX_SCHEMA_BYTES);
		return NULL;
	}
	json_error_t je;
	json_t *doc =
	    json_loadb(json, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!doc) {
		avro_fail(&c, "schema is not valid JSON: %s (line %d, column %d)", je.text, je.line,
		          je.column);
		return NULL;
	}
	c.pool = brook_calloc(1, sizeof *c.pool);
	c.names = json_object();
	avro_schema *root = avro_parse_node(&c, doc, NULL, 0);
	if (root && avro_check_defaults(&c) < 0)
		root = NULL;
	json_decref(c.names);
	json_decref(doc);
	if (!root) {
		for (size_t i = 0; i < c.pool->n; i++)
			avro_node_free(c.pool->nodes[i]);
		free(c.pool->nodes);
		free(c.pool);
		return NULL;
	}
	/* The root is always the first node made: a top-level name can only be a primitive. */
	assert(c.pool->nodes[0] == root);
	root->pool = c.pool;
	return root;
}

/* ---- accessors ------------------------------------------------------------------------ */

avro_type avro_schema_type(const avro_schema *s)
{
	return s->type;
}
const char *avro_schema_fullname(const avro_schema *s)
{
	return s->fullname;
}
const char *avro_schema_shortname(const avro_schema *s)
{
	return s->shortname;
}
const char *avro_schema_namespace(const avro_schema *s)
{
	return s->nspace;
}
const char *avro_schema_doc(const avro_schema *s)
{
	return s->doc;
}
size_t avro_schema_alias_count(const avro_schema *s)
{
	return s->naliases;
}
const char *avro_schema_alias(const avro_schema *s, size_t i)
{
	return s->aliases[i];
}
size_t avro_schema_field_count(const avro_schema *s)
{
	return s->nfields;
}
const avro_field *avro_schema_field(const avro_schema *s, size_t i)
{
	return &s->fields[i];
}
size_t avro_schema_symbol_count(const avro_schema *s)
{
	return s->nsymbols;
}
const char *avro_schema_symbol(const avro_schema *s, size_t i)
{
	return s->symbols[i];
}
const char *avro_schema_enum_default(const avro_schema *s)
{
	return s->enum_default;
}
size_t avro_schema_branch_count(const avro_schema *s)
{
	return s->nbranches;
}
const avro_schema *avro_schema_branch(const avro_schema *s, size_t i)
{
	return s->branches[i];
}
int64_t avro_schema_fixed_size(const avro_schema *s)
{
	return s->size;
}
const char *avro_schema_logical_type(const avro_schema *s)
{
	return s->logical;
}
int avro_schema_decimal_precision(const avro_schema *s)
{
	return s->precision;
}
int avro_schema_decimal_scale(const avro_schema *s)
{
	return s->scale;
}

const avro_schema *avro_schema_items(const avro_schema *s)
{
	return s->type == AVRO_ARRAY ? s->items : NULL;
}

const avro_schema *avro_schema_values(const avro_schema *s)
{
	return s->type == AVRO_MAP ? s->items : NULL;
}

const char *avro_schema_logical_raw(const avro_schema *s)
{
	json_t *lt = s->props ? json_object_get(s->props, "logicalType") : NULL;
	return json_is_string(lt) ? json_string_value(lt) : NULL;
}

long avro_schema_field_index(const avro_schema *s, const char *name)
{
	json_t *v = s->type == AVRO_RECORD ? json_object_get(s->index, name) : NULL;
	return v ? (long)json_integer_value(v) : -1;
}

long avro_schema_symbol_index(const avro_schema *s, const char *symbol)
{
	json_t *v = s->type == AVRO_ENUM ? json_object_get(s->index, symbol) : NULL;
	return v ? (long)json_integer_value(v) : -1;
}

/* ---- Parsing Canonical Form and fingerprint ------------------------------------------- */

/* `seen` is a jansson object used as a set of the full names already printed. */
static void avro_pcf(brook_buf *b, const avro_schema *s, json_t *seen)
{
	if (avro_type_is_named(s->type)) {
		if (json_object_get(seen, s->fullname)) {
			brook_buf_printf(b, "\"%s\"", s->fullname);
			return;
		}
		json_object_set_new(seen, s->fullname, json_true());
	}
	switch (s->type) {
	case AVRO_RECORD:
		brook_buf_printf(b, "{\"name\":\"%s\",\"type\":\"%s\",\"fields\":[", s->fullname,
		                 s->is_error ? "error" : "record");
		for (size_t i = 0; i < s->nfields; i++) {
			brook_buf_printf(b, "%s{\"name\":\"%s\",\"type\":", i ? "," : "",
			                 s->fields[i].name);
			avro_pcf(b, s->fields[i].type, seen);
			brook_buf_putc(b, '}');
		}
		brook_buf_puts(b, "]}");
		return;
	case AVRO_ENUM:
		brook_buf_printf(b, "{\"name\":\"%s\",\"type\":\"enum\",\"symbols\":[",
		                 s->fullname);
		for (size_t i = 0; i < s->nsymbols; i++)
			brook_buf_printf(b, "%s\"%s\"", i ? "," : "", s->symbols[i]);
		brook_buf_puts(b, "]}");
		return;
	case AVRO_FIXED:
		brook_buf_printf(b, "{\"name\":\"%s\",\"type\":\"fixed\",\"size\":%lld}",
		                 s->fullname, (long long)s->size);
		return;
	case AVRO_ARRAY:
	case AVRO_MAP:
		brook_buf_printf(b, "{\"type\":\"%s\",\"%s\":", avro_type_name(s->type),
		                 s->type == AVRO_ARRAY ? "items" : "values");
		avro_pcf(b, s->items, seen);
		brook_buf_putc(b, '}');
		return;
	case AVRO_UNION:
		brook_buf_putc(b, '[');
		for (size_t i = 0; i < s->nbranches; i++) {
			if (i)
				brook_buf_putc(b, ',');
			avro_pcf(b, s->branches[i], seen);
		}
		brook_buf_putc(b, ']');
		return;
	default:
		brook_buf_printf(b, "\"%s\"", avro_type_name(s->type));
		return;
	}
}

char *avro_schema_canonical(const avro_schema *s)
{
	brook_buf b = BROOK_BUF_INIT;
	json_t *seen = json_object();
	avro_pcf(&b, s, seen);
	json_decref(seen);
	return brook_buf_detach(&b, NULL);
}

uint64_t avro_crc64(const void *data, size_t n)
{
	static const uint64_t empty = 0xc15d213aa4d7a795ULL;
	static uint64_t table[256];
	static int ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		/* Idempotent: racing threads compute the same table. */
		for (int i = 0; i < 256; i++) {
			uint64_t fp = (uint64_t)i;
			for (int k = 0; k < 8; k++)
				fp = (fp >> 1) ^ (empty & (0 - (fp & 1)));
			__atomic_store_n(&table[i], fp, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	const unsigned char *p = data;
	uint64_t fp = empty;
	for (size_t i = 0; i < n; i++)
		fp = (fp >> 8) ^ __atomic_load_n(&table[(fp ^ p[i]) & 0xff], __ATOMIC_RELAXED);
	return fp;
}

uint64_t avro_schema_fingerprint64(const avro_schema *s)
{
	char *pcf = avro_schema_canonical(s);
	uint64_t fp = avro_crc64(pcf, strlen(pcf));
	free(pcf);
	return fp;
}

/* ---- normalized JSON ------------------------------------------------------------------ */

static void avro_json_props(json_t *o, const json_t *props)
{
	const char *k;
	json_t *v;
	if (!props)
		return;
	json_object_foreach((json_t *)props, k, v) json_object_set_new(o, k, json_deep_copy(v));
}

static json_t *avro_json_aliases(char *const *a, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(a[i]));
	return arr;
}

/* ns: the namespace a reader of this JSON would assume here (the enclosing one). */
static json_t *avro_json(const avro_schema *s, json_t *seen, const char *ns)
{
	if (avro_type_is_named(s->type)) {
		if (json_object_get(seen, s->fullname))
			return json_string(s->fullname);
		json_object_set_new(seen, s->fullname, json_true());
	}
	json_t *o;
	switch (s->type) {
	case AVRO_UNION:
		o = json_array();
		for (size_t i = 0; i < s->nbranches; i++)
			json_array_append_new(o, avro_json(s->branches[i], seen, ns));
		return o;
	case AVRO_ARRAY:
	case AVRO_MAP:
		o = json_object();
		json_object_set_new(o, "type", json_string(avro_type_name(s->type)));
		json_object_set_new(o, s->type == AVRO_ARRAY ? "items" : "values",
		                    avro_json(s->items, seen, ns));
		avro_json_props(o, s->props);
		return o;
	case AVRO_RECORD:
	case AVRO_ENUM:
	case AVRO_FIXED:
		break;
	default:
		if (!s->props)
			return json_string(avro_type_name(s->type));
		o = json_object();
		json_object_set_new(o, "type", json_string(avro_type_name(s->type)));
		avro_json_props(o, s->props);
		return o;
	}
	o = json_object();
	json_object_set_new(
	    o, "type",
	    json_string(s->type == AVRO_RECORD && s->is_error ? "error" : avro_type_name(s->type)));
	json_object_set_new(o, "name", json_string(s->fullname));
	if (!s->nspace && ns)
		json_object_set_new(o, "namespace", json_string(""));
	if (s->doc)
		json_object_set_new(o, "doc", json_string(s->doc));
	if (s->naliases)
		json_object_set_new(o, "aliases", avro_json_aliases(s->aliases, s->naliases));
	if (s->type == AVRO_RECORD) {
		json_t *fs = json_array();
		for (size_t i = 0; i < s->nfields; i++) {
			const avro_field *f = &s->fields[i];
			json_t *fo = json_object();
			json_object_set_new(fo, "name", json_string(f->name));
			json_object_set_new(fo, "type", avro_json(f->type, seen, s->nspace));
			if (f->doc)
				json_object_set_new(fo, "doc", json_string(f->doc));
			if (f->def)
				json_object_set_new(fo, "default", json_deep_copy(f->def));
			if (f->order_given) {
				static const char *const ord[] = {"ascending", "descending",
				                                  "ignore"};
				json_object_set_new(fo, "order", json_string(ord[f->order]));
			}
			if (f->naliases)
				json_object_set_new(
				    fo, "aliases",
				    avro_json_aliases((char *const *)f->aliases, f->naliases));
			avro_json_props(fo, s->fprops[i]);
			json_array_append_new(fs, fo);
		}
		json_object_set_new(o, "fields", fs);
	} else if (s->type == AVRO_ENUM) {
		json_t *sy = json_array();
		for (size_t i = 0; i < s->nsymbols; i++)
			json_array_append_new(sy, json_string(s->symbols[i]));
		json_object_set_new(o, "symbols", sy);
		if (s->enum_default)
			json_object_set_new(o, "default", json_string(s->enum_default));
	} else {
		json_object_set_new(o, "size", json_integer((json_int_t)s->size));
	}
	avro_json_props(o, s->props);
	return o;
}

char *avro_schema_to_json(const avro_schema *s)
{
	json_t *seen = json_object();
	json_t *j = avro_json(s, seen, NULL);
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	json_decref(seen);
	char *r = brook_strdup(text);
	free(text);
	return r;
}
