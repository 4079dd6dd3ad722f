/*
 * config.c — the table-driven YAML configuration (see config.h for the contract).
 *
 * Design
 *   Registered keys live in one array of entries, in registration order (which is the
 *   order `brook config show` prints). Each entry holds its table spec, whether it is
 *   set, the value's text as given, the parsed form for its type, and the origin.
 *
 *   Loading YAML is two steps. First libyaml's event parser builds a brook_cfg_node
 *   tree (bounded: input size, nesting depth, node count; aliases are refused, so a
 *   "billion laughs" document cannot expand). Then the tree is applied: a mapping key
 *   joined to its parents' keys with '.' is either a registered key (its value is
 *   parsed by type), a section (a prefix of registered keys: recurse), or an error
 *   naming file, line and key, with the nearest registered key as a suggestion.
 *
 *   A value is parsed into a scratch entry first and copied over the real one only
 *   when it is valid, so a failed load never leaves a half-parsed value behind.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"

#define CFG_MAX_BYTES (4u << 20) /* a configuration file above 4 MiB is a mistake */
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 100000

typedef struct cfg_entry {
	const brook_cfg_key *spec;
	bool set;
	char *text;     /* the value as given (LIST: items joined with ", ") */
	int64_t i;      /* INT, BOOL, DURATION (ms), SIZE (bytes) */
	double d;       /* DOUBLE */
	char **list;    /* LIST */
	size_t nlist;
	brook_cfg_node *tree; /* TREE */
	char origin[128];
} cfg_entry;

struct brook_config {
	cfg_entry *e;
	size_t n, cap;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *brook_cfg_type_name(brook_cfg_type t)
{
	switch (t) {
	case BROOK_CFG_STR: return "string";
	case BROOK_CFG_INT: return "integer";
	case BROOK_CFG_BOOL: return "boolean";
	case BROOK_CFG_DOUBLE: return "number";
	case BROOK_CFG_DURATION: return "duration";
	case BROOK_CFG_SIZE: return "size";
	case BROOK_CFG_LIST: return "list";
	case BROOK_CFG_TREE: return "tree";
	}
	return "?";
}

/* ---- YAML -> node tree ------------------------------------------------------------ */

void brook_cfg_node_free(brook_cfg_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		brook_cfg_node_free(n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->scalar);
	free((char *)n->file);
	free(n);
}

static brook_cfg_node *node_new(brook_cfg_node_kind kind, const char *file, int line)
{
	brook_cfg_node *n = brook_calloc(1, sizeof *n);
	n->kind = kind;
	n->file = brook_strdup(file);
	n->line = line;
	return n;
}

static void node_push(brook_cfg_node *parent, char *key, brook_cfg_node *child)
{
	/* Grow by powers of two: capacity is implied by n. */
	if ((parent->n & (parent->n - 1)) == 0) {
		size_t cap = parent->n ? parent->n * 2 : 1;
		parent->items = brook_realloc(parent->items, cap * sizeof *parent->items);
		if (parent->kind == BROOK_CFG_NODE_MAP)
			parent->keys = brook_realloc(parent->keys, cap * sizeof *parent->keys);
	}
	parent->items[parent->n] = child;
	if (parent->kind == BROOK_CFG_NODE_MAP)
		parent->keys[parent->n] = key;
	parent->n++;
}

static brook_cfg_node *node_clone(const brook_cfg_node *s)
{
	brook_cfg_node *n = node_new(s->kind, s->file, s->line);
	n->null = s->null;
	if (s->scalar)
		n->scalar = brook_strdup(s->scalar);
	for (size_t i = 0; i < s->n; i++)
		node_push(n, s->keys ? brook_strdup(s->keys[i]) : NULL, node_clone(s->items[i]));
	return n;
}

const brook_cfg_node *brook_cfg_map_get(const brook_cfg_node *map, const char *key)
{
	if (!map || map->kind != BROOK_CFG_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

typedef struct yaml_ctx {
	yaml_parser_t parser;
	const char *name;
	size_t nodes;
	char *err;
	size_t errlen;
} yaml_ctx;

static int next_event(yaml_ctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev)) {
		seterr(y->err, y->errlen, "%s:%zu: invalid YAML: %s", y->name,
		       y->parser.problem_mark.line + 1,
		       y->parser.problem ? y->parser.problem : "parse error");
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static bool is_plain_null(const yaml_event_t *ev)
{
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* Builds the node that starts with *ev (consumed here). */
static brook_cfg_node *build_node(yaml_ctx *y, yaml_event_t *ev, int depth)
{
	int line = (int)ev->start_mark.line + 1;
	brook_cfg_node *n = NULL;

	if (++y->nodes > CFG_MAX_NODES) {
		seterr(y->err, y->errlen, "%s:%d: more than %d values", y->name, line,
		       CFG_MAX_NODES);
		goto fail;
	}
	if (depth > CFG_MAX_DEPTH) {
		seterr(y->err, y->errlen, "%s:%d: nested deeper than %d levels", y->name, line,
		       CFG_MAX_DEPTH);
		goto fail;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_new(BROOK_CFG_NODE_SCALAR, y->name, line);
		n->scalar = brook_strndup((const char *)ev->data.scalar.value,
					  ev->data.scalar.length);
		n->null = is_plain_null(ev);
		yaml_event_delete(ev);
		return n;
	case YAML_ALIAS_EVENT:
		seterr(y->err, y->errlen, "%s:%d: YAML aliases are not supported", y->name, line);
		goto fail;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		yaml_event_type_t end = map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
		n = node_new(map ? BROOK_CFG_NODE_MAP : BROOK_CFG_NODE_SEQ, y->name, line);
		yaml_event_delete(ev);
		for (;;) {
			if (next_event(y, ev) != BROOK_OK)
				goto fail_node;
			if (ev->type == end) {
				yaml_event_delete(ev);
				return n;
			}
			char *key = NULL;
			if (map) {
				if (ev->type != YAML_SCALAR_EVENT) {
					seterr(y->err, y->errlen, "%s:%zu: mapping keys must be "
					       "plain strings", y->name, ev->start_mark.line + 1);
					goto fail;
				}
				key = brook_strndup((const char *)ev->data.scalar.value,
						    ev->data.scalar.length);
				if (brook_cfg_map_get(n, key)) {
					seterr(y->err, y->errlen, "%s:%zu: duplicate key '%s'",
					       y->name, ev->start_mark.line + 1, key);
					free(key);
					goto fail;
				}
				yaml_event_delete(ev);
				if (next_event(y, ev) != BROOK_OK) {
					free(key);
					goto fail_node;
				}
			}
			brook_cfg_node *child = build_node(y, ev, depth + 1);
			if (!child) {
				free(key);
				brook_cfg_node_free(n);
				return NULL;
			}
			node_push(n, key, child);
		}
	}
	default:
		seterr(y->err, y->errlen, "%s:%d: unexpected YAML structure", y->name, line);
		goto fail;
	}
fail:
	yaml_event_delete(ev);
fail_node:
	brook_cfg_node_free(n);
	return NULL;
}

brook_cfg_node *brook_cfg_parse_yaml(const char *name, const char *yaml, size_t len, char *err,
				     size_t errlen)
{
	if (len > CFG_MAX_BYTES) {
		seterr(err, errlen, "%s: larger than %u bytes", name, CFG_MAX_BYTES);
		return NULL;
	}
	yaml_ctx y = {.name = name, .err = err, .errlen = errlen};
	yaml_parser_initialize(&y.parser);
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)yaml, len);

	brook_cfg_node *root = NULL;
	yaml_event_t ev;
	bool done = false;
	while (!done) {
		if (next_event(&y, &ev) != BROOK_OK)
			goto fail;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			done = true;
			break;
		default:
			if (root) {
				seterr(err, errlen, "%s:%zu: only one YAML document is allowed",
				       name, ev.start_mark.line + 1);
				yaml_event_delete(&ev);
				goto fail;
			}
			root = build_node(&y, &ev, 0);
			if (!root)
				goto fail;
		}
	}
	yaml_parser_delete(&y.parser);
	if (!root) /* an empty document is an empty mapping */
		root = node_new(BROOK_CFG_NODE_MAP, name, 1);
	return root;
fail:
	yaml_parser_delete(&y.parser);
	brook_cfg_node_free(root);
	return NULL;
}

/* ---- value parsing ---------------------------------------------------------------- */

static void entry_clear_value(cfg_entry *e)
{
	free(e->text);
	e->text = NULL;
	for (size_t i = 0; i < e->nlist; i++)
		free(e->list[i]);
	free(e->list);
	e->list = NULL;
	e->nlist = 0;
	brook_cfg_node_free(e->tree);
	e->tree = NULL;
	e->set = false;
	e->i = 0;
	e->d = 0;
}

static int parse_int(const char *s, int64_t *out)
{
	if (!*s || isspace((unsigned char)*s))
		return BROOK_ERR;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return BROOK_ERR;
	*out = v;
	return BROOK_OK;
}

static int parse_bool(const char *s, int64_t *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return BROOK_OK;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

static int parse_size(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} units[] = {
		{"", 1}, {"b", 1},
		{"k", 1ull << 10}, {"kib", 1ull << 10}, {"kb", 1000},
		{"m", 1ull << 20}, {"mib", 1ull << 20}, {"mb", 1000000},
		{"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1000000000},
		{"t", 1ull << 40}, {"tib", 1ull << 40}, {"tb", 1000000000000ull},
	};
	if (!isdigit((unsigned char)*s))
		return BROOK_ERR;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return BROOK_ERR;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			if (v > (uint64_t)INT64_MAX / units[i].mul)
				return BROOK_ERR;
			*out = (int64_t)(v * units[i].mul);
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t vl = strlen(v);
	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == vl && strncmp(p, v, l) == 0)
			return true;
		p += l + (bar ? 1 : 0);
	}
	return false;
}

static void list_push(cfg_entry *e, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (!n)
		return;
	e->list = brook_realloc(e->list, (e->nlist + 1) * sizeof *e->list);
	e->list[e->nlist++] = brook_strndup(s, n);
}

static void list_make_text(cfg_entry *e)
{
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_init(&b, 32);
	for (size_t i = 0; i < e->nlist; i++) {
		if (i)
			brook_buf_puts(&b, ", ");
		brook_buf_puts(&b, e->list[i]);
	}
	e->text = brook_buf_detach(&b, NULL);
}

/* Parses text into `out` (a scratch entry with out->spec set). `where` prefixes errors. */
static int parse_text(cfg_entry *out, const char *text, const char *where, char *err,
		      size_t errlen)
{
	const brook_cfg_key *k = out->spec;
	int rc = BROOK_OK;
	switch (k->type) {
	case BROOK_CFG_STR:
		if (k->choices && !choice_ok(k->choices, text)) {
			seterr(err, errlen, "%s: key '%s': '%s' is not one of %s", where, k->key,
			       text, k->choices);
			return BROOK_ERR;
		}
		break;
	case BROOK_CFG_INT:
		rc = parse_int(text, &out->i);
		break;
	case BROOK_CFG_BOOL:
		rc = parse_bool(text, &out->i);
		break;
	case BROOK_CFG_DOUBLE: {
		char *end;
		errno = 0;
		out->d = *text ? strtod(text, &end) : 0;
		rc = (!*text || errno || *end || !isfinite(out->d)) ? BROOK_ERR : BROOK_OK;
		break;
	}
	case BROOK_CFG_DURATION:
		rc = brook_duration_parse(text, &out->i);
		break;
	case BROOK_CFG_SIZE:
		rc = parse_size(text, &out->i);
		break;
	case BROOK_CFG_LIST:
		for (const char *p = text;;) {
			const char *comma = strchr(p, ',');
			list_push(out, p, comma ? (size_t)(comma - p) : strlen(p));
			if (!comma)
				break;
			p = comma + 1;
		}
		list_make_text(out);
		out->set = true;
		return BROOK_OK;
	case BROOK_CFG_TREE: {
		char sub[512];
		out->tree = brook_cfg_parse_yaml(where, text, strlen(text), sub, sizeof sub);
		if (!out->tree) {
			seterr(err, errlen, "key '%s': %s", k->key, sub);
			return BROOK_ERR;
		}
		break;
	}
	}
	if (rc != BROOK_OK) {
		static const char *hint[] = {
			[BROOK_CFG_INT] = "an integer",
			[BROOK_CFG_BOOL] = "true or false",
			[BROOK_CFG_DOUBLE] = "a number",
			[BROOK_CFG_DURATION] = "a duration such as 500ms, 30s, 5m, 2h or 1d",
			[BROOK_CFG_SIZE] = "a size such as 4096, 512KiB, 64MiB or 1GB",
		};
		seterr(err, errlen, "%s: key '%s': expected %s, got '%s'", where, k->key,
		       hint[k->type], text);
		return BROOK_ERR;
	}
	out->text = brook_strdup(text);
	out->set = true;
	return BROOK_OK;
}

/* Replaces e's value with the parsed scratch value (ownership moves). */
static void entry_take(cfg_entry *e, cfg_entry *scratch, const char *origin)
{
	entry_clear_value(e);
	e->set = scratch->set;
	e->text = scratch->text;
	e->i = scratch->i;
	e->d = scratch->d;
	e->list = scratch->list;
	e->nlist = scratch->nlist;
	e->tree = scratch->tree;
	snprintf(e->origin, sizeof e->origin, "%s", origin);
}

static int entry_set_text(cfg_entry *e, const char *text, const char *origin, char *err,
			  size_t errlen)
{
	cfg_entry scratch = {.spec = e->spec};
	if (parse_text(&scratch, text, origin, err, errlen) != BROOK_OK) {
		entry_clear_value(&scratch);
		return BROOK_ERR;
	}
	entry_take(e, &scratch, origin);
	return BROOK_OK;
}

/* ---- registry --------------------------------------------------------------------- */

brook_config *brook_config_new(void)
{
	return brook_calloc(1, sizeof(brook_config));
}

void brook_config_free(brook_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_clear_value(&c->e[i]);
	free(c->e);
	free(c);
}

static cfg_entry *find(const brook_config *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].spec->key, key) == 0)
			return &c->e[i];
	return NULL;
}

void brook_config_env_name(const char *key, char *out, size_t outlen)
{
	size_t o = (size_t)snprintf(out, outlen, "BROOK_");
	for (const char *p = key; *p && o + 1 < outlen; p++)
		out[o++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
	out[o < outlen ? o : outlen - 1] = '\0';
}

void brook_config_register(brook_config *c, const brook_cfg_key *table)
{
	for (const brook_cfg_key *k = table; k->key; k++) {
		if (find(c, k->key)) {
			fprintf(stderr, "brook: configuration key '%s' registered twice\n", k->key);
			abort();
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 64;
			c->e = brook_realloc(c->e, c->cap * sizeof *c->e);
		}
		cfg_entry *e = &c->e[c->n++];
		memset(e, 0, sizeof *e);
		e->spec = k;
		snprintf(e->origin, sizeof e->origin, "default");
		char err[256];
		if (k->def && entry_set_text(e, k->def, "default", err, sizeof err) != BROOK_OK) {
			fprintf(stderr, "brook: bad built-in default: %s\n", err);
			abort();
		}
	}
}

/* Is `path` a proper prefix (at a dot) of some registered key? */
static bool is_section(const brook_config *c, const char *path)
{
	size_t l = strlen(path);
	for (size_t i = 0; i < c->n; i++) {
		const char *k = c->e[i].spec->key;
		if (strncmp(k, path, l) == 0 && k[l] == '.')
			return true;
	}
	return false;
}


static void unknown_key(const brook_config *c, const char *where, const char *path, char *err,
			size_t errlen)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;
	for (size_t i = 0; i < c->n; i++) {
		size_t d = brook_edit_distance(path, c->e[i].spec->key);
		if (d < bestd) {
			bestd = d;
			best = c->e[i].spec->key;
		}
	}
	if (best && bestd <= 3 && bestd < strlen(path))
		seterr(err, errlen, "%s: unknown key '%s' (did you mean '%s'?)", where, path, best);
	else
		seterr(err, errlen, "%s: unknown key '%s' (see `brook config keys`)", where, path);
}

static const char *node_kind_name(const brook_cfg_node *n)
{
	return n->kind == BROOK_CFG_NODE_MAP ? "a mapping"
	       : n->kind == BROOK_CFG_NODE_SEQ ? "a list" : "a value";
}

static int apply_node(cfg_entry *e, const brook_cfg_node *n, const char *where, char *err,
		      size_t errlen)
{
	const brook_cfg_key *k = e->spec;
	if (k->type == BROOK_CFG_TREE) {
		entry_clear_value(e);
		e->tree = node_clone(n);
		e->set = true;
		snprintf(e->origin, sizeof e->origin, "%s", where);
		return BROOK_OK;
	}
	if (n->kind == BROOK_CFG_NODE_SCALAR && n->null) {
		entry_clear_value(e);
		snprintf(e->origin, sizeof e->origin, "%s", where);
		return BROOK_OK;
	}
	if (k->type == BROOK_CFG_LIST && n->kind == BROOK_CFG_NODE_SEQ) {
		cfg_entry scratch = {.spec = k};
		for (size_t i = 0; i < n->n; i++) {
			if (n->items[i]->kind != BROOK_CFG_NODE_SCALAR) {
				seterr(err, errlen, "%s:%d: key '%s': list items must be values",
				       n->items[i]->file, n->items[i]->line, k->key);
				entry_clear_value(&scratch);
				return BROOK_ERR;
			}
			list_push(&scratch, n->items[i]->scalar, strlen(n->items[i]->scalar));
		}
		list_make_text(&scratch);
		scratch.set = true;
		entry_take(e, &scratch, where);
		return BROOK_OK;
	}
	if (n->kind != BROOK_CFG_NODE_SCALAR) {
		seterr(err, errlen, "%s: key '%s': expected %s, got %s", where, k->key,
		       brook_cfg_type_name(k->type), node_kind_name(n));
		return BROOK_ERR;
	}
	return entry_set_text(e, n->scalar, where, err, errlen);
}

static int apply_map(brook_config *c, const brook_cfg_node *map, const char *prefix, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < map->n; i++) {
		const brook_cfg_node *v = map->items[i];
		char path[256], where[256];
		int pl = prefix ? snprintf(path, sizeof path, "%s.%s", prefix, map->keys[i])
				: snprintf(path, sizeof path, "%s", map->keys[i]);
		snprintf(where, sizeof where, "%s:%d", v->file, v->line);
		if (pl < 0 || (size_t)pl >= sizeof path) {
			seterr(err, errlen, "%s: key path too long", where);
			return BROOK_ERR;
		}
		cfg_entry *e = find(c, path);
		if (e) {
			if (apply_node(e, v, where, err, errlen) != BROOK_OK)
				return BROOK_ERR;
		} else if (is_section(c, path)) {
			if (v->kind != BROOK_CFG_NODE_MAP) {
				if (v->kind == BROOK_CFG_NODE_SCALAR && v->null)
					continue; /* an empty section */
				seterr(err, errlen, "%s: '%s' is a section: expected a mapping, "
				       "got %s", where, path, node_kind_name(v));
				return BROOK_ERR;
			}
			if (apply_map(c, v, path, err, errlen) != BROOK_OK)
				return BROOK_ERR;
		} else {
			unknown_key(c, where, path, err, errlen);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

int brook_config_load_string(brook_config *c, const char *name, const char *yaml, size_t len,
			     char *err, size_t errlen)
{
	brook_cfg_node *root = brook_cfg_parse_yaml(name, yaml, len, err, errlen);
	if (!root)
		return BROOK_ERR;
	int rc;
	if (root->kind != BROOK_CFG_NODE_MAP) {
		seterr(err, errlen, "%s:%d: the configuration must be a mapping of keys", name,
		       root->line);
		rc = BROOK_ERR;
	} else {
		rc = apply_map(c, root, NULL, err, errlen);
	}
	brook_cfg_node_free(root);
	return rc;
}

int brook_config_load_file(brook_config *c, const char *path, char *err, size_t errlen)
{
	brook_buf b = BROOK_BUF_INIT;
	int rc;
	if (brook_file_read(path, CFG_MAX_BYTES, &b) != BROOK_OK) {
		if (errno == EFBIG)
			seterr(err, errlen, "%s: larger than %u bytes", path, CFG_MAX_BYTES);
		else
			seterr(err, errlen, "%s: cannot open configuration file: %s", path,
			       strerror(errno));
		rc = BROOK_ERR;
	} else {
		rc = brook_config_load_string(c, path, b.data ? b.data : "", b.len, err, errlen);
	}
	brook_buf_release(&b);
	return rc;
}

int brook_config_load_env(brook_config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		char name[160], origin[176];
		brook_config_env_name(c->e[i].spec->key, name, sizeof name);
		const char *v = getenv(name);
		if (!v)
			continue;
		snprintf(origin, sizeof origin, "env %s", name);
		if (entry_set_text(&c->e[i], v, origin, err, errlen) != BROOK_OK)
			return BROOK_ERR;
	}
	return BROOK_OK;
}

int brook_config_set_kv(brook_config *c, const char *key, const char *value, const char *origin,
			char *err, size_t errlen)
{
	cfg_entry *e = find(c, key);
	if (!e) {
		unknown_key(c, origin, key, err, errlen);
		return BROOK_ERR;
	}
	return entry_set_text(e, value, origin, err, errlen);
}

int brook_config_set(brook_config *c, const char *assignment, const char *origin, char *err,
		     size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment) {
		seterr(err, errlen, "%s: expected KEY=VALUE, got '%s'", origin, assignment);
		return BROOK_ERR;
	}
	char key[256];
	size_t kl = (size_t)(eq - assignment);
	if (kl >= sizeof key) {
		seterr(err, errlen, "%s: key too long", origin);
		return BROOK_ERR;
	}
	memcpy(key, assignment, kl);
	key[kl] = '\0';
	return brook_config_set_kv(c, key, eq + 1, origin, err, errlen);
}

/* ---- getters ---------------------------------------------------------------------- */

static const cfg_entry *need(const brook_config *c, const char *key, brook_cfg_type type)
{
	const cfg_entry *e = find(c, key);
	if (!e || e->spec->type != type) {
		fprintf(stderr, "brook: configuration key '%s' read as %s but %s\n", key,
			brook_cfg_type_name(type), e ? "registered as another type"
						     : "never registered");
		abort();
	}
	return e;
}

bool brook_config_has(const brook_config *c, const char *key)
{
	const cfg_entry *e = find(c, key);
	return e && e->set;
}

const char *brook_config_str(const brook_config *c, const char *key)
{
	const cfg_entry *e = need(c, key, BROOK_CFG_STR);
	return e->set ? e->text : NULL;
}

int64_t brook_config_int(const brook_config *c, const char *key)
{
	return need(c, key, BROOK_CFG_INT)->i;
}

bool brook_config_bool(const brook_config *c, const char *key)
{
	return need(c, key, BROOK_CFG_BOOL)->i != 0;
}

double brook_config_double(const brook_config *c, const char *key)
{
	return need(c, key, BROOK_CFG_DOUBLE)->d;
}

int64_t brook_config_duration_ms(const brook_config *c, const char *key)
{
	return need(c, key, BROOK_CFG_DURATION)->i;
}

uint64_t brook_config_size(const brook_config *c, const char *key)
{
	return (uint64_t)need(c, key, BROOK_CFG_SIZE)->i;
}

size_t brook_config_list(const brook_config *c, const char *key, const char *const **items)
{
	const cfg_entry *e = need(c, key, BROOK_CFG_LIST);
	*items = (const char *const *)e->list;
	return e->nlist;
}

const brook_cfg_node *brook_config_tree(const brook_config *c, const char *key)
{
	return need(c, key, BROOK_CFG_TREE)->tree;
}

const brook_cfg_key *brook_config_key_spec(const brook_config *c, const char *key)
{
	const cfg_entry *e = find(c, key);
	return e ? e->spec : NULL;
}

const char *brook_config_text(const brook_config *c, const char *key)
{
	const cfg_entry *e = find(c, key);
	return e && e->set && e->spec->type != BROOK_CFG_TREE ? e->text : NULL;
}

const char *brook_config_origin(const brook_config *c, const char *key)
{
	const cfg_entry *e = find(c, key);
	return e ? e->origin : NULL;
}

/* ---- rendering -------------------------------------------------------------------- */

static void put_quoted(brook_buf *b, const char *s)
{
	brook_buf_putc(b, '"');
	brook_buf_put_json_escaped(b, s, strlen(s));
	brook_buf_putc(b, '"');
}

/* Flow-style YAML (JSON-like, every scalar quoted), so a dump reloads unchanged. */
static void put_node(brook_buf *b, const brook_cfg_node *n)
{
	switch (n->kind) {
	case BROOK_CFG_NODE_SCALAR:
		if (n->null)
			brook_buf_puts(b, "null");
		else
			put_quoted(b, n->scalar);
		return;
	case BROOK_CFG_NODE_SEQ:
	case BROOK_CFG_NODE_MAP: {
		bool map = n->kind == BROOK_CFG_NODE_MAP;
		brook_buf_putc(b, map ? '{' : '[');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				brook_buf_puts(b, ", ");
			if (map) {
				put_quoted(b, n->keys[i]);
				brook_buf_puts(b, ": ");
			}
			put_node(b, n->items[i]);
		}
		brook_buf_putc(b, map ? '}' : ']');
		return;
	}
	}
}

void brook_config_dump(const brook_config *c, brook_buf *out)
{
	for (size_t i = 0; i < c->n; i++) {
		const cfg_entry *e = &c->e[i];
		brook_buf_printf(out, "%s: ", e->spec->key);
		if (!e->set) {
			brook_buf_puts(out, "null");
		} else {
			switch (e->spec->type) {
			case BROOK_CFG_STR:
			case BROOK_CFG_DURATION:
			case BROOK_CFG_SIZE:
				put_quoted(out, e->text);
				break;
			case BROOK_CFG_INT:
				brook_buf_put_i64(out, e->i);
				break;
			case BROOK_CFG_BOOL:
				brook_buf_puts(out, e->i ? "true" : "false");
				break;
			case BROOK_CFG_DOUBLE:
				brook_buf_printf(out, "%.17g", e->d);
				break;
			case BROOK_CFG_LIST:
				brook_buf_putc(out, '[');
				for (size_t j = 0; j < e->nlist; j++) {
					if (j)
						brook_buf_puts(out, ", ");
					put_quoted(out, e->list[j]);
				}
				brook_buf_putc(out, ']');
				break;
			case BROOK_CFG_TREE:
				put_node(out, e->tree);
				break;
			}
		}
		brook_buf_printf(out, "  # %s\n", e->origin);
	}
}

void brook_config_describe(const brook_config *c, brook_buf *out, bool markdown)
{
	if (markdown) {
		brook_buf_puts(out, "| key | type | default | environment | description |\n"
				    "|---|---|---|---|---|\n");
	}
	for (size_t i = 0; i < c->n; i++) {
		const brook_cfg_key *k = c->e[i].spec;
		char env[160];
		brook_config_env_name(k->key, env, sizeof env);
		const char *def = k->def ? k->def : "";
		char type[160];
		size_t tl = 0;
		const char *t = k->choices ? k->choices : brook_cfg_type_name(k->type);
		for (; *t && tl + 3 < sizeof type; t++) {
			if (*t == '|' && markdown)
				type[tl++] = '\\'; /* a bare | would end the table cell */
			type[tl++] = *t;
		}
		type[tl] = '\0';
		if (markdown) {
			brook_buf_printf(out, "| `%s` | %s | %s%s%s | `%s` | %s |\n", k->key, type,
					 *def ? "`" : "", k->type == BROOK_CFG_TREE && *def
					 ? "(built-in)" : def, *def ? "`" : "", env, k->help);
		} else {
			brook_buf_printf(out, "%-32s %-10s %-28s %s\n", k->key, type,
					 k->type == BROOK_CFG_TREE && *def ? "(built-in)" : def,
					 k->help);
		}
	}
}
