/*
 * jdoc.c — JSON text to an arena DOM with yajl's SAX parser; jansson trees to the same
 * and back.
 *
 * Design: yajl calls back once per token. Scalars become a node at once. Containers
 * have a member count unknown until they close, so the parser keeps one scratch vector
 * of pending members (key, value) shared by all open containers, like an operand stack:
 * a frame per open container remembers where its members start; at end_map/end_array
 * the members are copied into exact-size arena arrays, the vector is cut back to the
 * frame's start and the container's node becomes a member of its parent (or the root).
 * The vector and the frames belong to the brook_jdoc_parser and survive parses, so a
 * warm parser never calls malloc itself; yajl allocates its handle per parse (yajl 2
 * cannot reset a handle that completed).
 *
 * What yajl lets through and we refuse (see jdoc.h for the contract):
 *   - \f and \v as whitespace, NUL bytes: refused up front (they can be nowhere in a
 *     JSON text, strings included);
 *   - UTF-8: yajl's own check accepts overlong forms, encoded surrogates and code
 *     points past U+10FFFF, so it is off and brook_utf8_valid() checks every decoded string;
 *   - lone surrogate escapes: yajl turns "\ud800x" into "?" and pairs a high surrogate
 *     with any following \u; surrogates_ok() scans the raw text, from one backslash
 *     to the next (memchr: one fast pass over a text with no escapes);
 *   - a string left unterminated after the top-level value: everything after the
 *     value's end (top_end) must be whitespace.
 * Callbacks return 0 to stop yajl (yajl_status_client_canceled) after setting p->what.
 */
#include "core/jdoc.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "core/mem.h"
#include "core/text.h"

typedef struct member {
	const char *k;
	size_t kn;
	const brook_jnode *v;
} member;

struct brook_jdoc_parser {
	member *st; /* pending members of all open containers */
	size_t nst, cap;
	size_t frame[BROOK_JDOC_MAX_DEPTH]; /* where each open container's members start */
	bool is_obj[BROOK_JDOC_MAX_DEPTH];
	const char *fkey[BROOK_JDOC_MAX_DEPTH]; /* each open container's own key */
	size_t fkn[BROOK_JDOC_MAX_DEPTH];
	int depth;
	const char *key; /* the key of the next member (objects) */
	size_t kn;
	brook_arena *a;
	yajl_handle h;
	const brook_jnode *root;
	size_t top_end; /* byte offset just past the top-level value */
	size_t len;
	bool finishing;   /* inside yajl_complete_parse: offsets are not the text's */
	const char *what; /* our own error, when a callback stopped yajl */
	size_t what_off;
};

/* ---- checks yajl does not make ------------------------------------------------------- */

/* The code unit of "\uXXXX" at s[i] (s[i] == '\\'), or -1. */
static long u_escape(const char *s, size_t n, size_t i)
{
	long v = 0;
	if (i > n || n - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
		return -1;
	for (size_t j = 2; j < 6; j++) {
		int h = brook_hexval((unsigned char)s[i + j]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Surrogate escapes only in pairs (high then low); the offset of the first bad one in
 * *bad. The text is valid JSON otherwise (yajl accepted it), so every backslash is in a
 * string and starts an escape: jumping from one to the next suffices. */
static bool surrogates_ok(const char *s, size_t n, size_t *bad)
{
	const char *q = s, *end = s + n;
	while (q < end && (q = memchr(q, '\\', (size_t)(end - q))) != NULL) {
		size_t i = (size_t)(q - s);
		long u = u_escape(s, n, i);
		if (u >= 0xDC00 && u <= 0xDFFF) {
			*bad = i;
			return false;
		}
		if (u >= 0xD800 && u <= 0xDBFF) {
			long lo = u_escape(s, n, i + 6);
			if (lo < 0xDC00 || lo > 0xDFFF) {
				*bad = i;
				return false;
			}
			q += 6;
		}
		q += u >= 0 ? 6 : 2;
	}
	return true;
}

/* ---- SAX callbacks ------------------------------------------------------------------- */

static size_t offset_now(const brook_jdoc_parser *p)
{
	return p->finishing ? p->len : yajl_get_bytes_consumed(p->h);
}

static int stop(brook_jdoc_parser *p, const char *what)
{
	p->what = what;
	p->what_off = offset_now(p);
	if (p->what_off > 0)
		p->what_off--;
	return 0;
}

static int add(brook_jdoc_parser *p, const brook_jnode *v)
{
	if (p->depth == 0) {
		p->root = v;
		p->top_end = offset_now(p);
		return 1;
	}
	if (p->nst == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->st = brook_realloc(p->st, p->cap * sizeof *p->st);
	}
	member *m = &p->st[p->nst++];
	m->k = p->key;
	m->kn = p->kn;
	m->v = v;
	return 1;
}

static brook_jnode *node(brook_jdoc_parser *p, brook_jtype t)
{
	brook_jnode *n = brook_arena_alloc(p->a, sizeof *n);
	n->type = t;
	return n;
}

static int cb_null(void *ctx)
{
	brook_jdoc_parser *p = ctx;
	return add(p, node(p, BROOK_J_NULL));
}

static int cb_boolean(void *ctx, int b)
{
	brook_jdoc_parser *p = ctx;
	return add(p, node(p, b ? BROOK_J_TRUE : BROOK_J_FALSE));
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	brook_jdoc_parser *p = ctx;
	brook_jnode *n = node(p, BROOK_J_INT);
	bool real = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);

	if (!real) {
		/* yajl has checked the syntax: -?digits */
		bool neg = s[0] == '-';
		uint64_t v = 0, lim = neg ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1;
		size_t i = neg;
		for (; i < len; i++) {
			uint64_t d = (uint64_t)(s[i] - '0');
			if (v > (lim - d) / 10)
				break;
			v = v * 10 + d;
		}
		if (i == len) {
			n->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
			return add(p, n);
		}
		/* beyond int64: a real */
	}
	char buf[64], *tmp = len < sizeof buf ? buf : brook_malloc(len + 1);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	n->type = BROOK_J_REAL;
	n->u.d = strtod(tmp, NULL);
	if (tmp != buf)
		free(tmp);
	if (isinf(n->u.d))
		return stop(p, "real number overflow");
	return add(p, n);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	brook_jdoc_parser *p = ctx;
	if (!brook_utf8_valid(s, len))
		return stop(p, "invalid UTF-8 in a string");
	brook_jnode *n = node(p, BROOK_J_STRING);
	n->u.s.p = brook_arena_strndup(p->a, (const char *)s, len);
	n->u.s.n = len;
	return add(p, n);
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
	brook_jdoc_parser *p = ctx;
	if (!brook_utf8_valid(s, len))
		return stop(p, "invalid UTF-8 in a key");
	p->key = brook_arena_strndup(p->a, (const char *)s, len);
	p->kn = len;
	return 1;
}

static int open_container(brook_jdoc_parser *p, bool obj)
{
	if (p->depth == BROOK_JDOC_MAX_DEPTH)
		return stop(p, "nesting deeper than 128");
	p->frame[p->depth] = p->nst;
	p->is_obj[p->depth] = obj;
	p->fkey[p->depth] = p->key;
	p->fkn[p->depth] = p->kn;
	p->depth++;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int cb_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int close_container(brook_jdoc_parser *p)
{
	size_t start = p->frame[--p->depth], n = p->nst - start;
	const member *m = n ? p->st + start : NULL; /* p->st may still be NULL */
	brook_jnode *c;

	if (p->is_obj[p->depth]) {
		c = node(p, BROOK_J_OBJECT);
		c->u.o.n = n;
		c->u.o.keys = NULL;
		c->u.o.klen = NULL;
		c->u.o.vals = NULL;
		if (n) {
			c->u.o.keys = brook_arena_alloc(p->a, n * sizeof *c->u.o.keys);
			c->u.o.klen = brook_arena_alloc(p->a, n * sizeof *c->u.o.klen);
			c->u.o.vals = brook_arena_alloc(p->a, n * sizeof *c->u.o.vals);
			for (size_t i = 0; i < n; i++) {
				c->u.o.keys[i] = m[i].k;
				c->u.o.klen[i] = m[i].kn;
				c->u.o.vals[i] = m[i].v;
			}
		}
	} else {
		c = node(p, BROOK_J_ARRAY);
		c->u.a.n = n;
		c->u.a.items = NULL;
		if (n) {
			c->u.a.items = brook_arena_alloc(p->a, n * sizeof *c->u.a.items);
			for (size_t i = 0; i < n; i++)
				c->u.a.items[i] = m[i].v;
		}
	}
	p->nst = start;
	p->key = p->fkey[p->depth]; /* members' keys overwrote it */
	p->kn = p->fkn[p->depth];
	return add(p, c);
}

static int cb_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_key,
    .yajl_end_map = cb_end,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end,
};

/* ---- parsing ------------------------------------------------------------------------- */

brook_jdoc_parser *brook_jdoc_parser_new(void)
{
	return brook_calloc(1, sizeof(brook_jdoc_parser));
}

void brook_jdoc_parser_free(brook_jdoc_parser *p)
{
	if (!p)
		return;
	free(p->st);
	free(p);
}

static const brook_jnode *fail(const char *what, size_t off, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s at byte %zu", what, off);
	return NULL;
}

const brook_jnode *brook_jdoc_parser_parse(brook_jdoc_parser *p, const char *text, size_t len,
                                           brook_arena *a, char *err, size_t errlen)
{
	static const char refused[3] = {'\f', '\v', '\0'};
	const char *bad = NULL;
	yajl_status st;

	for (size_t k = 0; k < sizeof refused; k++) {
		const char *q =
		    len ? memchr(text, refused[k], bad ? (size_t)(bad - text) : len) : NULL;
		if (q)
			bad = q;
	}
	if (bad)
		return fail(*bad ? "invalid whitespace" : "NUL byte", (size_t)(bad - text), err,
		            errlen);
	p->nst = 0;
	p->depth = 0;
	p->key = NULL;
	p->kn = 0;
	p->a = a;
	p->root = NULL;
	p->top_end = 0;
	p->len = len;
	p->finishing = false;
	p->what = NULL;
	p->h = yajl_alloc(&callbacks, NULL, p);
	yajl_config(p->h, yajl_dont_validate_strings, 1); /* brook_utf8_valid() does */
	st = yajl_parse(p->h, (const unsigned char *)(len ? text : ""), len);
	if (st == yajl_status_ok) {
		p->finishing = true;
		st = yajl_complete_parse(p->h);
	}
	if (st == yajl_status_ok) {
		size_t k = p->top_end;
		while (k < len &&
		       (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r'))
			k++;
		if (!p->root) {
			st = yajl_status_error;
			p->what = "premature end of input";
			p->what_off = len;
		} else if (k < len) {
			st = yajl_status_error;
			p->what = "trailing garbage";
			p->what_off = k;
		}
	}
	if (st == yajl_status_ok) {
		size_t off;
		if (!surrogates_ok(text, len, &off)) {
			st = yajl_status_error;
			p->what = "unpaired surrogate escape";
			p->what_off = off;
		}
	}
	const brook_jnode *root = p->root;
	if (st != yajl_status_ok) {
		root = NULL;
		if (p->what) {
			fail(p->what, p->what_off, err, errlen);
		} else {
			unsigned char *msg = yajl_get_error(p->h, 0, NULL, 0);
			size_t off = offset_now(p);
			char *m = (char *)msg;
			if (strncmp(m, "parse error: ", 13) == 0)
				m += 13;
			char *nl = strchr(m, '\n');
			if (nl)
				*nl = '\0';
			fail(m, off > 0 ? off - 1 : 0, err, errlen);
			yajl_free_error(p->h, msg);
		}
	}
	yajl_free(p->h);
	p->h = NULL;
	return root;
}

const brook_jnode *brook_jdoc_parse(const char *text, size_t len, brook_arena *a, char *err,
                                    size_t errlen)
{
	brook_jdoc_parser *p = brook_jdoc_parser_new();
	const brook_jnode *r = brook_jdoc_parser_parse(p, text, len, a, err, errlen);
	brook_jdoc_parser_free(p);
	return r;
}

/* ---- jansson trees ------------------------------------------------------------------- */

const brook_jnode *brook_jdoc_from_json(const json_t *j, brook_arena *a)
{
	if (!j)
		return NULL;
	brook_jnode *n = brook_arena_alloc(a, sizeof *n);
	switch (json_typeof(j)) {
	case JSON_NULL:
		n->type = BROOK_J_NULL;
		break;
	case JSON_TRUE:
		n->type = BROOK_J_TRUE;
		break;
	case JSON_FALSE:
		n->type = BROOK_J_FALSE;
		break;
	case JSON_INTEGER:
		n->type = BROOK_J_INT;
		n->u.i = json_integer_value(j);
		break;
	case JSON_REAL:
		n->type = BROOK_J_REAL;
		n->u.d = json_real_value(j);
		break;
	case JSON_STRING:
		n->type = BROOK_J_STRING;
		n->u.s.p = json_string_value(j);
		n->u.s.n = json_string_length(j);
		break;
	case JSON_ARRAY: {
		size_t cnt = json_array_size(j);
		n->type = BROOK_J_ARRAY;
		n->u.a.n = cnt;
		n->u.a.items = NULL;
		if (cnt) {
			n->u.a.items = brook_arena_alloc(a, cnt * sizeof *n->u.a.items);
			for (size_t i = 0; i < cnt; i++)
				n->u.a.items[i] = brook_jdoc_from_json(json_array_get(j, i), a);
		}
		break;
	}
	case JSON_OBJECT: {
		size_t cnt = json_object_size(j), i = 0;
		n->type = BROOK_J_OBJECT;
		n->u.o.n = cnt;
		n->u.o.keys = NULL;
		n->u.o.klen = NULL;
		n->u.o.vals = NULL;
		if (cnt) {
			n->u.o.keys = brook_arena_alloc(a, cnt * sizeof *n->u.o.keys);
			n->u.o.klen = brook_arena_alloc(a, cnt * sizeof *n->u.o.klen);
			n->u.o.vals = brook_arena_alloc(a, cnt * sizeof *n->u.o.vals);
			/* json_t is const here only by our contract: iteration does not change it
			 */
			json_t *o = (json_t *)j;
			for (void *it = json_object_iter(o); it && i < cnt;
			     it = json_object_iter_next(o, it), i++) {
				n->u.o.keys[i] = json_object_iter_key(it);
				n->u.o.klen[i] = json_object_iter_key_len(it);
				n->u.o.vals[i] =
				    brook_jdoc_from_json(json_object_iter_value(it), a);
			}
		}
		n->u.o.n = i;
		break;
	}
	}
	return n;
}

json_t *brook_jdoc_to_json(const brook_jnode *n)
{
	if (!n)
		return NULL;
	switch (n->type) {
	case BROOK_J_NULL:
		return json_null();
	case BROOK_J_FALSE:
		return json_false();
	case BROOK_J_TRUE:
		return json_true();
	case BROOK_J_INT:
		return json_integer(n->u.i);
	case BROOK_J_REAL:
		return json_real(n->u.d); /* NULL when not finite */
	case BROOK_J_STRING:
		/* jdoc strings are valid UTF-8 (invariant): no second check */
		return json_stringn_nocheck(n->u.s.p, n->u.s.n);
	case BROOK_J_ARRAY: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->u.a.n; i++) {
			json_t *v = brook_jdoc_to_json(n->u.a.items[i]);
			if (!v || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case BROOK_J_OBJECT: {
		json_t *o = json_object();
		for (size_t i = 0; i < n->u.o.n; i++) {
			json_t *v = brook_jdoc_to_json(n->u.o.vals[i]);
			if (!v ||
			    json_object_setn_new_nocheck(o, n->u.o.keys[i], n->u.o.klen[i], v)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	}
	return NULL;
}

const brook_jnode *brook_jnode_get(const brook_jnode *obj, const char *key, size_t klen)
{
	if (!obj || obj->type != BROOK_J_OBJECT)
		return NULL;
	for (size_t i = obj->u.o.n; i-- > 0;)
		if (obj->u.o.klen[i] == klen && memcmp(obj->u.o.keys[i], key, klen) == 0)
			return obj->u.o.vals[i];
	return NULL;
}

const char *brook_jtype_kind(brook_jtype t)
{
	switch (t) {
	case BROOK_J_NULL:
		return "null";
	case BROOK_J_FALSE:
	case BROOK_J_TRUE:
		return "boolean";
	case BROOK_J_INT:
	case BROOK_J_REAL:
		return "number";
	case BROOK_J_STRING:
		return "string";
	case BROOK_J_ARRAY:
		return "array";
	case BROOK_J_OBJECT:
		return "object";
	}
	return "?";
}
