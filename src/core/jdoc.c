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
 *
 * Projection (jdoc.h): a brook_jproj is a tree of pnode, one per key on a kept path,
 * each node's children in one array (a handful: linear lookup comparing the length and
 * the first 8 bytes as a word before the rest). Each open container's frame holds the
 * pnode that projects it (fproj), NULL meaning "keep everything below" (no projection,
 * a whole kept value, any array). States of a parse:
 *   keeping  -- the normal callbacks; in an object with a pnode, cb_key looks the key
 *               up: found, the value's pnode is the child (NULL when the child is a
 *               path's end) and the key is checked and copied as in a full parse; not
 *               found, the parser enters
 *   dropping -- (p->dropping, p->sdepth = open containers inside the dropped value)
 *               every callback returns at once, except that start_map/start_array still
 *               enforce BROOK_JDOC_MAX_DEPTH (p->depth + p->sdepth) and count sdepth up,
 *               end_map/end_array count it down; a scalar at sdepth 0 or the end that
 *               brings sdepth back to 0 returns to keeping.
 * Unpaired surrogate escapes: a full parse scans the whole text once at the end; a
 * projected one scans the raw text of each kept string and key (found backwards from its
 * closing quote, which yajl has just consumed) and reports the first bad one at the end,
 * like the full parse, so syntax errors still come first.
 */
#include "core/jdoc.h"

#include <assert.h>
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

typedef struct pnode pnode;
struct pnode {
	size_t klen;
	uint64_t head; /* the key's first 8 bytes (key_head) */
	char *key;     /* NUL-terminated too */
	pnode *kid;    /* children, in the order their paths were added */
	size_t nkid, capkid;
	bool whole; /* the end of a kept path: keep the value whole */
};

struct brook_jproj {
	pnode root; /* root.whole: the whole document */
};

struct brook_jdoc_parser {
	member *st; /* pending members of all open containers */
	size_t nst, cap;
	size_t frame[BROOK_JDOC_MAX_DEPTH]; /* where each open container's members start */
	bool is_obj[BROOK_JDOC_MAX_DEPTH];
	const char *fkey[BROOK_JDOC_MAX_DEPTH]; /* each open container's own key */
	size_t fkn[BROOK_JDOC_MAX_DEPTH];
	const pnode *fproj[BROOK_JDOC_MAX_DEPTH]; /* what projects it; NULL: keep all */
	int depth;
	const pnode *vproj; /* projects the next value when it is an object */
	bool projected;     /* kept strings get their own surrogate check */
	bool dropping;      /* inside a dropped value */
	int sdepth;         /* open containers inside the dropped value */
	const char *text;
	size_t surr_bad; /* first unpaired surrogate escape in a kept string; SIZE_MAX none */
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

/* What "\uXXXX" at s[i] is: 1 a high surrogate, 2 a low one, 0 anything else (another
 * escape, or not an escape). Only called on text yajl accepted, whose \u escapes have four
 * hex digits, so two digits tell: D8-DB high, DC-DF low. */
static int surrogate_at(const char *s, size_t n, size_t i)
{
	if (i > n || n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || (s[i + 2] | 0x20) != 'd')
		return 0;
	int c = s[i + 3] | 0x20; /* digits keep their value, letters become lower case */
	if (c == '8' || c == '9' || c == 'a' || c == 'b')
		return 1;
	return c >= 'c' && c <= 'f' ? 2 : 0;
}

/* Surrogate escapes only in pairs (high then low); the offset of the first bad one in
 * *bad. The text is valid JSON otherwise (yajl accepted it), so every backslash is in a
 * string and starts an escape: jumping from one to the next suffices. */
static bool surrogates_ok(const char *s, size_t n, size_t *bad)
{
	const char *q = s, *end = s + n;
	while (q < end && (q = memchr(q, '\\', (size_t)(end - q))) != NULL) {
		size_t i = (size_t)(q - s);
		int k = surrogate_at(s, n, i);
		if (k == 2 || (k == 1 && surrogate_at(s, n, i + 6) != 2)) {
			*bad = i;
			return false;
		}
		q += k == 1 ? 12 : i + 1 < n && s[i + 1] == 'u' ? 6 : 2;
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

/* A key's first 8 bytes as a word (only compared with another key's of the same length).
 * Built in a register: a short memcpy into a stack word then a full-word load stalls. */
static uint64_t key_head(const void *k, size_t n)
{
	const unsigned char *b = k;
	uint64_t h = 0;
	if (n >= sizeof h) {
		memcpy(&h, b, sizeof h);
		return h;
	}
	for (size_t i = 0; i < n; i++)
		h = h << 8 | b[i];
	return h;
}

/* The child of n for key s, or NULL. */
static const pnode *pnode_kid(const pnode *n, const unsigned char *s, size_t len)
{
	uint64_t h = key_head(s, len);
	for (size_t i = 0; i < n->nkid; i++) {
		const pnode *c = &n->kid[i];
		if (c->klen == len && c->head == h &&
		    (len <= 8 || memcmp(c->key + 8, s + 8, len - 8) == 0))
			return c;
	}
	return NULL;
}

/* A scalar in a dropped value: true when it is dropped (and ends a dropped member). */
static bool drop_scalar(brook_jdoc_parser *p)
{
	if (!p->dropping)
		return false;
	if (p->sdepth == 0)
		p->dropping = false;
	return true;
}

/* A projected parse: the raw text of the string (or key) yajl has just consumed has no
 * unpaired surrogate escape; the first bad one is remembered for the end. The closing
 * quote is the last byte consumed; the opening one is the previous quote that is not
 * escaped, i.e. not preceded by an odd run of backslashes (inside a string, the first
 * backslash of a run always starts an escape). */
static void check_surrogates(brook_jdoc_parser *p, const unsigned char *s)
{
	/* yajl hands a string without escapes straight from the text: nothing to check */
	if ((uintptr_t)s - (uintptr_t)p->text < p->len)
		return;
	if (p->finishing || p->surr_bad != SIZE_MAX)
		return; /* a string never ends in yajl_complete_parse; or one already found */
	size_t end = yajl_get_bytes_consumed(p->h) - 1, q = end; /* text[end] == '"' */
	const char *t = p->text;
	for (;;) {
		const char *o = memrchr(t, '"', q);
		assert(o); /* yajl has seen the opening quote */
		q = (size_t)(o - t);
		size_t b = q;
		while (b > 0 && t[b - 1] == '\\')
			b--;
		if ((q - b) % 2 == 0)
			break;
	}
	size_t bad;
	if (memchr(t + q + 1, '\\', end - q - 1) && !surrogates_ok(t + q + 1, end - q - 1, &bad))
		p->surr_bad = q + 1 + bad;
}

static int cb_null(void *ctx)
{
	brook_jdoc_parser *p = ctx;
	if (drop_scalar(p))
		return 1;
	return add(p, node(p, BROOK_J_NULL));
}

static int cb_boolean(void *ctx, int b)
{
	brook_jdoc_parser *p = ctx;
	if (drop_scalar(p))
		return 1;
	return add(p, node(p, b ? BROOK_J_TRUE : BROOK_J_FALSE));
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	brook_jdoc_parser *p = ctx;
	if (drop_scalar(p))
		return 1;
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
	if (drop_scalar(p))
		return 1;
	if (!brook_utf8_valid(s, len))
		return stop(p, "invalid UTF-8 in a string");
	if (p->projected)
		check_surrogates(p, s);
	brook_jnode *n = node(p, BROOK_J_STRING);
	n->u.s.p = brook_arena_strndup(p->a, (const char *)s, len);
	n->u.s.n = len;
	return add(p, n);
}

static int cb_key(void *ctx, const unsigned char *s, size_t len)
{
	brook_jdoc_parser *p = ctx;
	if (p->dropping)
		return 1;
	const pnode *pn = p->fproj[p->depth - 1];
	if (pn) {
		const pnode *c = pnode_kid(pn, s, len);
		if (!c) {
			p->dropping = true; /* sdepth is 0 */
			return 1;
		}
		p->vproj = c->whole ? NULL : c;
	}
	if (!brook_utf8_valid(s, len))
		return stop(p, "invalid UTF-8 in a key");
	if (p->projected)
		check_surrogates(p, s);
	p->key = brook_arena_strndup(p->a, (const char *)s, len);
	p->kn = len;
	return 1;
}

static int open_container(brook_jdoc_parser *p, bool obj)
{
	if (p->dropping) {
		if (p->depth + p->sdepth == BROOK_JDOC_MAX_DEPTH)
			return stop(p, "nesting deeper than 128");
		p->sdepth++;
		return 1;
	}
	if (p->depth == BROOK_JDOC_MAX_DEPTH)
		return stop(p, "nesting deeper than 128");
	/* an object is projected by the pnode its key (or the root) chose, if its parent is
	 * projected at all; an array is kept whole */
	p->fproj[p->depth] =
	    obj && (p->depth == 0 || (p->is_obj[p->depth - 1] && p->fproj[p->depth - 1]))
	        ? p->vproj
	        : NULL;
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
	if (p->dropping) {
		if (--p->sdepth == 0)
			p->dropping = false;
		return 1;
	}
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
	return brook_jdoc_parser_parse_proj(p, text, len, NULL, a, err, errlen);
}

const brook_jnode *brook_jdoc_parser_parse_proj(brook_jdoc_parser *p, const char *text,
                                                size_t len, const brook_jproj *proj,
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
	if (proj && proj->root.whole)
		proj = NULL;
	p->projected = proj != NULL;
	p->vproj = proj ? &proj->root : NULL;
	p->dropping = false;
	p->sdepth = 0;
	p->text = text;
	p->surr_bad = SIZE_MAX;
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
		size_t off = p->surr_bad;
		if (p->projected ? off != SIZE_MAX : !surrogates_ok(text, len, &off)) {
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

/* ---- projections -------------------------------------------------------------------- */

brook_jproj *brook_jproj_new(void)
{
	return brook_calloc(1, sizeof(brook_jproj));
}

void brook_jproj_add(brook_jproj *p, const char *const *keys, const size_t *klen, size_t n)
{
	pnode *at = &p->root;
	for (size_t i = 0; i < n && !at->whole; i++) {
		size_t kn = klen ? klen[i] : strlen(keys[i]);
		pnode *c = (pnode *)pnode_kid(at, (const unsigned char *)keys[i], kn);
		if (!c) { /* appended: the lookup order is the order paths were added */
			if (at->nkid == at->capkid) {
				at->capkid = at->capkid ? 2 * at->capkid : 4;
				at->kid = brook_realloc(at->kid, at->capkid * sizeof *at->kid);
			}
			c = &at->kid[at->nkid++];
			memset(c, 0, sizeof *c);
			c->key = brook_malloc(kn + 1);
			if (kn)
				memcpy(c->key, keys[i], kn);
			c->key[kn] = '\0';
			c->klen = kn;
			c->head = key_head(c->key, kn);
		}
		at = c;
	}
	at->whole = true; /* what was below it no longer matters, but stays until the free */
}

static void pnode_free_kids(pnode *n)
{
	for (size_t i = 0; i < n->nkid; i++) {
		pnode_free_kids(&n->kid[i]);
		free(n->kid[i].key);
	}
	free(n->kid);
}

void brook_jproj_free(brook_jproj *p)
{
	if (!p)
		return;
	pnode_free_kids(&p->root);
	free(p);
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

bool brook_jnode_equal(const brook_jnode *x, const brook_jnode *y)
{
	if (!x || !y || x->type != y->type)
		return false;
	switch (x->type) {
	case BROOK_J_NULL:
	case BROOK_J_TRUE:
	case BROOK_J_FALSE:
		return true;
	case BROOK_J_INT:
		return x->u.i == y->u.i;
	case BROOK_J_REAL:
		return memcmp(&x->u.d, &y->u.d, sizeof x->u.d) == 0;
	case BROOK_J_STRING:
		return x->u.s.n == y->u.s.n && memcmp(x->u.s.p, y->u.s.p, x->u.s.n + 1) == 0;
	case BROOK_J_ARRAY:
		if (x->u.a.n != y->u.a.n)
			return false;
		for (size_t i = 0; i < x->u.a.n; i++)
			if (!brook_jnode_equal(x->u.a.items[i], y->u.a.items[i]))
				return false;
		return true;
	case BROOK_J_OBJECT:
		if (x->u.o.n != y->u.o.n)
			return false;
		for (size_t i = 0; i < x->u.o.n; i++)
			if (x->u.o.klen[i] != y->u.o.klen[i] ||
			    memcmp(x->u.o.keys[i], y->u.o.keys[i], x->u.o.klen[i] + 1) != 0 ||
			    !brook_jnode_equal(x->u.o.vals[i], y->u.o.vals[i]))
				return false;
		return true;
	}
	return false;
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
