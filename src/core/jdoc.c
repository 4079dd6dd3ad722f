/*
 * jdoc.c — JSON text to an arena DOM (a recursive-descent parser); jansson trees to the
 * same and back.
 *
 * Why not a library's parser: the stream parses one ~1.1 KB payload per record and
 * keeps a dozen of its ~60 values. yajl, which this file used before, tokenizes every
 * byte (~300 MB/s here) and calls back for every token, dropped or not: 45 % of the
 * stream's CPU. jansson builds a hashed tree with a malloc per node (4× slower still).
 * Here a dropped value is only syntax-checked, its strings skipped eight bytes at a time.
 * bench/bench_jdoc measures both parses against jansson; fuzz_jdoc checks this parser
 * against jansson, byte for byte.
 *
 * Design: one function per grammar rule; recursion is bounded by BROOK_JDOC_MAX_DEPTH.
 * Every read is checked against the end of the text (which need not be NUL-terminated).
 * The members of open objects and arrays go on one scratch vector shared by all of
 * them, like an operand stack: a container remembers where its members start, and when
 * it closes they are copied into exact-size arena arrays and the vector is cut back. The
 * vector belongs to the brook_jdoc_parser and survives parses, so a warm parser
 * allocates only from the arena.
 *
 * Strings: scan() finds the closing quote, checking the escapes' syntax, refusing control
 * characters and, for a kept string, checking UTF-8 character by character; runs of
 * plain ASCII go eight bytes at a time. A kept string is then copied into the arena, its
 * escapes decoded by decode() (a decoded string is never longer than its text), which
 * pairs surrogate escapes. Errors are the first in the text's order, except that within
 * one string the scan's come before an unpaired surrogate's.
 *
 * Projection (jdoc.h): every rule takes `keep`; a dropped value (keep false) makes no
 * node, copies nothing and checks syntax and depth only, through the same code, so its
 * syntax errors are the full parse's. value() takes the pnode that projects an object
 * (NULL: keep it whole). In a projected object each key is scanned without UTF-8 checks
 * and looked up (decoded into the parser's key buffer first when it has escapes); a kept
 * key is then scanned again with them, like any kept string. A projection is a tree of
 * pnode, one per key on a kept path, each node's children in one array (a handful:
 * linear lookup comparing the length and the first 8 bytes as a word before the rest).
 */
#include "core/jdoc.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	bool utf8;  /* the key is valid UTF-8 */
};

struct brook_jdoc_parser {
	member *st; /* pending members of all open containers */
	size_t nst, cap;
	char *kbuf; /* a projected object's key with escapes, decoded for the lookup */
	size_t kcap;
	/* the parse under way */
	const unsigned char *text, *q, *end; /* q: the next byte to read */
	brook_arena *a;
	const char *what; /* the first error, at byte offset `off` */
	size_t off;
};

struct brook_jproj {
	pnode root; /* root.whole: the whole document */
};

typedef const brook_jnode *val; /* a rule's result: NULL after an error */

/* What a dropped value returns (any non-NULL pointer would do). */
static const brook_jnode dropped = {.type = BROOK_J_NULL};

/* ---- errors ---------------------------------------------------------------------------- */

static val fail_at(brook_jdoc_parser *p, const unsigned char *at, const char *what)
{
	if (!p->what) {
		p->what = what;
		p->off = (size_t)(at - p->text);
	}
	return NULL;
}

/* The byte at `at` is not what the grammar wants there (`expected` says what it wants). */
static val unexpected(brook_jdoc_parser *p, const unsigned char *at, const char *expected)
{
	if (at == p->end)
		return fail_at(p, at, "premature EOF");
	if (*at == '\0')
		return fail_at(p, at, "NUL byte");
	if (*at == '\f' || *at == '\v')
		return fail_at(p, at, "invalid whitespace");
	return fail_at(p, at, expected);
}

/* ---- lexical ----------------------------------------------------------------------------- */

static void ws(brook_jdoc_parser *p)
{
	const unsigned char *q = p->q;
	while (q < p->end && (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t'))
		q++;
	p->q = q;
}

/* Is the next byte c? Then past it. */
static bool eat(brook_jdoc_parser *p, unsigned char c)
{
	if (p->q < p->end && *p->q == c) {
		p->q++;
		return true;
	}
	return false;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Bits set at the bytes of w that are a quote, a backslash or below 0x20, or (utf8)
 * 0x80 and above. The lowest one is exact (the classic "has a zero byte" test on w ^ c
 * and "has a byte less than 0x20": a borrow only ever flags bytes above a true one). */
static uint64_t special(uint64_t w, bool utf8)
{
	uint64_t qt = w ^ (ONES * '"'), bs = w ^ (ONES * '\\');
	uint64_t t = ((qt - ONES) & ~qt) | ((bs - ONES) & ~bs) | ((w - ONES * 0x20) & ~w);
	return (utf8 ? t | w : t) & HIGHS;
}

/* Eight bytes as a little-endian word (the first in memory is the lowest), so that a
 * borrow in special() runs towards later bytes and the lowest flag is the first. */
static uint64_t load8(const unsigned char *q)
{
	uint64_t w;
	memcpy(&w, q, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* Scans the string whose opening quote is at p->q. On success p->q is past its closing
 * quote, *close at that quote, *esc whether it has escapes. utf8: check its raw bytes
 * (escapes are checked when decoded); bad_utf8 is the message then. */
static bool scan(brook_jdoc_parser *p, bool utf8, const char *bad_utf8,
		 const unsigned char **close, bool *esc)
{
	const unsigned char *q = p->q + 1, *end = p->end;
	bool e = false;
	for (;;) {
		if (end - q >= 8) {
			uint64_t m = special(load8(q), utf8);
			if (!m) {
				q += 8;
				continue;
			}
			q += (size_t)__builtin_ctzll(m) / 8; /* the first flagged byte */
		} else if (q == end) {
			return fail_at(p, q, "premature EOF");
		}
		unsigned c = *q;
		if (c == '"')
			break;
		if (c == '\\') {
			if (end - q < 2)
				return fail_at(p, end, "premature EOF");
			switch (q[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				q += 2;
				break;
			case 'u':
				for (int i = 2; i < 6; i++) {
					if (q + i == end)
						return fail_at(p, end, "premature EOF");
					if (brook_hexval(q[i]) < 0)
						return fail_at(p, q + i, "invalid \\u escape");
				}
				q += 6;
				break;
			default:
				return fail_at(p, q + 1, "invalid escape");
			}
			e = true;
		} else if (c < 0x20) {
			return fail_at(p, q, c ? "control character in a string" : "NUL byte");
		} else if (c >= 0x80 && utf8) {
			size_t k = brook_utf8_char(q, (size_t)(end - q));
			if (k == 0)
				return fail_at(p, q, bad_utf8);
			q += k;
		} else {
			q++; /* the last bytes of the text, one at a time */
		}
	}
	*close = q;
	*esc = e;
	p->q = q + 1;
	return true;
}

static unsigned hex4(const unsigned char *s)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)brook_hexval(s[i]);
	return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the scanned string text s[0..n) into out (n bytes suffice); its length. A
 * surrogate escape without its pair is written in its three-byte form (not UTF-8) and
 * the first one's backslash goes to *lone (left alone when there is none). */
static size_t decode(const unsigned char *s, size_t n, char *out, const unsigned char **lone)
{
	const unsigned char *end = s + n;
	size_t o = 0;
	for (;;) {
		const unsigned char *b = memchr(s, '\\', (size_t)(end - s));
		size_t run = (size_t)((b ? b : end) - s);
		memcpy(out + o, s, run);
		o += run;
		if (!b)
			return o;
		s = b + 2;
		switch (b[1]) {
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u': {
			unsigned cp = hex4(b + 2), lo;
			s = b + 6;
			if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 6 && s[0] == '\\' &&
			    s[1] == 'u' && (lo = hex4(s + 2)) >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				s += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF && !*lone) {
				*lone = b;
			}
			o += put_utf8(out + o, cp);
			break;
		}
		default: /* " \ / */
			out[o++] = (char)b[1];
		}
	}
}

/* The scanned string start..close copied into the arena, NUL-terminated, its escapes
 * decoded; NULL after an unpaired surrogate escape. */
static const char *copy(brook_jdoc_parser *p, const unsigned char *start,
			const unsigned char *close, bool esc, size_t *len)
{
	size_t n = (size_t)(close - start);
	char *s = brook_arena_alloc(p->a, n + 1);
	if (esc) {
		const unsigned char *lone = NULL;
		n = decode(start, n, s, &lone);
		if (lone) {
			fail_at(p, lone, "unpaired surrogate escape");
			return NULL;
		}
	} else {
		memcpy(s, start, n);
	}
	s[n] = '\0';
	*len = n;
	return (const char *)s;
}

/* ---- projections' lookup --------------------------------------------------------------- */

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
static const pnode *pnode_kid(const pnode *n, const void *s, size_t len)
{
	uint64_t h = key_head(s, len);
	for (size_t i = 0; i < n->nkid; i++) {
		const pnode *c = &n->kid[i];
		if (c->klen == len && c->head == h &&
		    (len <= 8 || memcmp(c->key + 8, (const char *)s + 8, len - 8) == 0))
			return c;
	}
	return NULL;
}

/* ---- the grammar ----------------------------------------------------------------------- */

static brook_jnode *node(brook_jdoc_parser *p, brook_jtype t)
{
	brook_jnode *n = brook_arena_alloc(p->a, sizeof *n);
	n->type = t;
	return n;
}

static void push(brook_jdoc_parser *p, const char *k, size_t kn, val v)
{
	if (p->nst == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->st = brook_realloc(p->st, p->cap * sizeof *p->st);
	}
	p->st[p->nst++] = (member){k, kn, v};
}

static val value(brook_jdoc_parser *p, const pnode *proj, int depth, bool keep);

static val string(brook_jdoc_parser *p, bool keep)
{
	const unsigned char *start = p->q + 1, *close;
	bool esc;
	if (!scan(p, keep, "invalid UTF-8 in a string", &close, &esc))
		return NULL;
	if (!keep)
		return &dropped;
	brook_jnode *n = node(p, BROOK_J_STRING);
	n->u.s.p = copy(p, start, close, esc, &n->u.s.n);
	return n->u.s.p ? n : NULL;
}

static bool digit(const brook_jdoc_parser *p, const unsigned char *q)
{
	return q < p->end && *q >= '0' && *q <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?: an int when it has neither fraction nor
 * exponent and fits int64, else a real. */
static val number(brook_jdoc_parser *p, bool keep)
{
	const unsigned char *s = p->q, *q = s;
	bool real = false;
	if (*q == '-')
		q++;
	if (q < p->end && *q == '0')
		q++;
	else if (digit(p, q))
		while (digit(p, q))
			q++;
	else
		return unexpected(p, q, "invalid number");
	if (q < p->end && *q == '.') {
		real = true;
		if (!digit(p, ++q))
			return unexpected(p, q, "invalid number");
		while (digit(p, q))
			q++;
	}
	if (q < p->end && (*q == 'e' || *q == 'E')) {
		real = true;
		q++;
		if (q < p->end && (*q == '+' || *q == '-'))
			q++;
		if (!digit(p, q))
			return unexpected(p, q, "invalid number");
		while (digit(p, q))
			q++;
	}
	p->q = q;
	if (!keep)
		return &dropped;
	brook_jnode *n = node(p, BROOK_J_INT);
	size_t len = (size_t)(q - s);
	if (!real) {
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
			return n;
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
		return fail_at(p, s, "real number overflow");
	return n;
}

static val literal(brook_jdoc_parser *p, const char *word, brook_jtype t, bool keep)
{
	size_t n = strlen(word), have = (size_t)(p->end - p->q);
	for (size_t i = 0; i < n; i++) {
		if (i == have)
			return fail_at(p, p->end, "premature EOF");
		if (p->q[i] != (unsigned char)word[i])
			return unexpected(p, p->q + i, "invalid literal");
	}
	p->q += n;
	return keep ? node(p, t) : &dropped;
}

/* The object's key, scanned; whether its member is kept (proj: looked up there, and
 * then *vproj projects its value) and when it is, the key copied into *k, *kn. A key
 * that equals a projection key of valid UTF-8 is valid itself (a lone surrogate escape
 * decodes to bytes that are not UTF-8): no second scan. */
static bool key(brook_jdoc_parser *p, const pnode *proj, bool keep, const char **k,
		size_t *kn, const pnode **vproj, bool *kept)
{
	static const char bad[] = "invalid UTF-8 in a key";
	const unsigned char *open = p->q, *start = open + 1, *close;
	bool esc;
	*kept = keep;
	*vproj = NULL;
	if (!scan(p, keep && !proj, bad, &close, &esc))
		return false;
	if (keep && proj) {
		const char *s = (const char *)start;
		size_t n = (size_t)(close - start);
		if (esc) {
			const unsigned char *lone = NULL; /* only a kept key must pair them */
			if (p->kcap < n) {
				p->kcap = n;
				p->kbuf = brook_realloc(p->kbuf, n);
			}
			n = decode(start, n, p->kbuf, &lone);
			s = p->kbuf;
		}
		const pnode *c = pnode_kid(proj, s, n);
		*kept = c != NULL;
		if (!c)
			return true;
		*vproj = c->whole ? NULL : c;
		if (c->utf8) {
			*k = brook_arena_strndup(p->a, s, n);
			*kn = n;
			return true;
		}
		p->q = open; /* checked as in a full parse (and refused) */
		if (!scan(p, true, bad, &close, &esc))
			return false;
	}
	if (*kept)
		*k = copy(p, start, close, esc, kn);
	return !*kept || *k;
}

/* Closes the container whose members are st[from..]: copies them into the arena. */
static val close_container(brook_jdoc_parser *p, size_t from, bool obj)
{
	size_t n = p->nst - from;
	const member *m = n ? p->st + from : NULL; /* p->st may still be NULL */
	brook_jnode *c;
	if (obj) {
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
	p->nst = from;
	return c;
}

/* An object ('{' at p->q), its members projected by proj (NULL: all kept). */
static val object(brook_jdoc_parser *p, const pnode *proj, int depth, bool keep)
{
	size_t from = p->nst;
	p->q++;
	ws(p);
	if (!eat(p, '}')) {
		for (;;) {
			const char *k = NULL;
			size_t kn = 0;
			const pnode *vproj;
			bool kept;
			if (p->q == p->end || *p->q != '"')
				return unexpected(p, p->q, "expected a string key");
			if (!key(p, proj, keep, &k, &kn, &vproj, &kept))
				return NULL;
			ws(p);
			if (!eat(p, ':'))
				return unexpected(p, p->q, "expected ':'");
			ws(p);
			val v = value(p, vproj, depth + 1, kept);
			if (!v)
				return NULL;
			if (kept)
				push(p, k, kn, v);
			ws(p);
			if (eat(p, '}'))
				break;
			if (!eat(p, ','))
				return unexpected(p, p->q, "expected ',' or '}'");
			ws(p);
		}
	}
	return keep ? close_container(p, from, true) : &dropped;
}

/* An array ('[' at p->q), kept whole or dropped. */
static val array(brook_jdoc_parser *p, int depth, bool keep)
{
	size_t from = p->nst;
	p->q++;
	ws(p);
	if (!eat(p, ']')) {
		for (;;) {
			val v = value(p, NULL, depth + 1, keep);
			if (!v)
				return NULL;
			if (keep)
				push(p, NULL, 0, v);
			ws(p);
			if (eat(p, ']'))
				break;
			if (!eat(p, ','))
				return unexpected(p, p->q, "expected ',' or ']'");
			ws(p);
		}
	}
	return keep ? close_container(p, from, false) : &dropped;
}

/* The value at p->q, inside `depth` open containers; proj projects it if it is an
 * object (NULL: kept whole); keep false: dropped. */
static val value(brook_jdoc_parser *p, const pnode *proj, int depth, bool keep)
{
	if (p->q == p->end)
		return fail_at(p, p->q, "premature EOF");
	switch (*p->q) {
	case '{':
	case '[':
		if (depth == BROOK_JDOC_MAX_DEPTH)
			return fail_at(p, p->q, "nesting deeper than 128");
		return *p->q == '{' ? object(p, proj, depth, keep) : array(p, depth, keep);
	case '"':
		return string(p, keep);
	case 't':
		return literal(p, "true", BROOK_J_TRUE, keep);
	case 'f':
		return literal(p, "false", BROOK_J_FALSE, keep);
	case 'n':
		return literal(p, "null", BROOK_J_NULL, keep);
	default:
		if (*p->q == '-' || (*p->q >= '0' && *p->q <= '9'))
			return number(p, keep);
		return unexpected(p, p->q, "expected a value");
	}
}

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
	free(p->kbuf);
	free(p);
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
	p->text = p->q = (const unsigned char *)(text ? text : "");
	p->end = p->text + len;
	p->a = a;
	p->nst = 0;
	p->what = NULL;
	ws(p);
	val root = value(p, proj && !proj->root.whole ? &proj->root : NULL, 0, true);
	if (root) {
		ws(p);
		if (p->q < p->end)
			root = unexpected(p, p->q, "trailing garbage");
	}
	if (!root && errlen)
		snprintf(err, errlen, "%s at byte %zu", p->what, p->off);
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
			c->utf8 = brook_utf8_valid(c->key, kn);
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
