/*
 * cql_parse.c — recursive-descent parser for the CQL subset brook's store speaks.
 *
 * Design
 *   Tokens come lazily from cql_lex (cql_lex.h) into a small lookahead window la[]
 *   (the grammar needs at most CQL_LA tokens of lookahead: `c = c + v` against
 *   `c = v + c`, casts `(int) ?` against tuples). Consumed tokens enter a ring of the
 *   last CQL_HIST tokens, which error messages quote as context, like Cassandra's
 *   ErrorCollector does.
 *
 *   Errors unwind with longjmp to cql_parse(). This is safe because everything the
 *   parser allocates lives in the caller's arena (nothing to free on the way out) and
 *   the parser state is only read through the parser struct after the jump.
 *
 *   Grammar functions are named after the rule they parse (p_select, p_term, ...).
 *   Those that recurse (p_term, p_type, p_selector) take a depth and fail beyond
 *   CQL_MAX_DEPTH, so no input can exhaust the stack; list elements are counted
 *   against CQL_MAX_NODES, so no input can make the tree much larger than the text.
 *
 *   Lists are collected in arena vectors that double (the old block is abandoned in
 *   the arena; total waste is bounded by the final size).
 */
#include "store/cql_parse.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "store/cql_lex.h"

#define CQL_LA 4
#define CQL_HIST 10

typedef struct parser {
	brook_arena *a;
	const char *src;
	size_t len;
	cql_lexer lx;
	cql_tok la[CQL_LA];
	size_t n_la;
	cql_tok hist[CQL_HIST];
	size_t n_hist; /* total consumed; ring index n_hist % CQL_HIST */
	size_t nodes;
	cql_term **binds;
	size_t n_binds, cap_binds;
	char *err;
	size_t errlen;
	jmp_buf jb;
	cql_tok verb; /* the statement's first token (messages) */
} parser;

/* ---- tokens ---- */

static const cql_tok *la(parser *p, size_t k)
{
	while (p->n_la <= k) {
		/* After EOF or an error token the lexer repeats itself; stop there. */
		if (p->n_la > 0 && (p->la[p->n_la - 1].kind == CQL_TOK_EOF ||
				    p->la[p->n_la - 1].kind == CQL_TOK_ERROR))
			return &p->la[p->n_la - 1];
		p->la[p->n_la++] = cql_lex_next(&p->lx);
	}
	return &p->la[k];
}

static cql_tok next(parser *p)
{
	cql_tok t = *la(p, 0);
	if (t.kind == CQL_TOK_EOF || t.kind == CQL_TOK_ERROR)
		return t;
	memmove(&p->la[0], &p->la[1], (p->n_la - 1) * sizeof p->la[0]);
	p->n_la--;
	p->hist[p->n_hist % CQL_HIST] = t;
	p->n_hist++;
	return t;
}

static cql_pos tok_pos(const cql_tok *t)
{
	return (cql_pos){t->line, t->col};
}

static cql_pos here(parser *p)
{
	return tok_pos(la(p, 0));
}

/* ---- errors ---- */

static void append_text(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *n + 1 < cap; i++) {
		char c = s[i];
		out[(*n)++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
	}
	out[*n] = '\0';
}

/* The offending token as the message quotes it (at most 60 bytes of it). */
static void tok_text(const cql_tok *t, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	if (t->kind == CQL_TOK_EOF)
		append_text(out, cap, &n, "<EOF>", 5);
	else
		append_text(out, cap, &n, t->start, t->len > 60 ? 60 : t->len);
}

static void fail_at(parser *p, const cql_tok *t, const char *what) __attribute__((noreturn));
static void fail_at(parser *p, const cql_tok *t, const char *what)
{
	char tt[64];
	tok_text(t, tt, sizeof tt);
	/* Context: up to CQL_HIST tokens before, the offending one in brackets. */
	char ctx[512];
	size_t n = 0;
	ctx[0] = '\0';
	size_t first = p->n_hist > CQL_HIST ? p->n_hist - CQL_HIST : 0;
	if (p->n_hist > 0 && t->kind != CQL_TOK_ERROR) {
		const cql_tok *f = &p->hist[first % CQL_HIST];
		size_t from = f->off, to = t->off;
		/* The offending token may still sit after the ones consumed; trim spaces. */
		while (to > from && (p->src[to - 1] == ' ' || p->src[to - 1] == '\n' ||
				     p->src[to - 1] == '\t' || p->src[to - 1] == '\r'))
			to--;
		if (to > from) {
			append_text(ctx, sizeof ctx, &n, p->src + from,
				    to - from > 300 ? 300 : to - from);
			append_text(ctx, sizeof ctx, &n, " ", 1);
		}
	}
	append_text(ctx, sizeof ctx, &n, "[", 1);
	append_text(ctx, sizeof ctx, &n, tt, strlen(tt));
	append_text(ctx, sizeof ctx, &n, "]", 1);
	if (t->kind != CQL_TOK_EOF && t->off + t->len < p->len)
		append_text(ctx, sizeof ctx, &n, "...", 3);
	snprintf(p->err, p->errlen, "line %u:%u %s (%s)", t->line, t->col, what, ctx);
	longjmp(p->jb, 1);
}

static void fail_lex(parser *p, const cql_tok *t) __attribute__((noreturn));
static void fail_lex(parser *p, const cql_tok *t)
{
	if (strncmp(t->bad, "unterminated", 12) == 0) {
		/* Cassandra reports where input ended and the quote it was waiting for. */
		uint32_t line = 1, col = 0;
		for (size_t i = 0; i < p->len; i++) {
			if (p->src[i] == '\n') {
				line++;
				col = 0;
			} else {
				col++;
			}
		}
		const char *q = strstr(t->bad, "identifier") ? "'\"'" :
				strstr(t->bad, "comment") ? "'*/'" : "'''";
		snprintf(p->err, p->errlen, "line %u:%u mismatched character '<EOF>' expecting %s"
			 " (%s)", line, col, q, t->bad);
	} else if (strncmp(t->bad, "empty", 5) == 0 || strncmp(t->bad, "NUL", 3) == 0) {
		snprintf(p->err, p->errlen, "line %u:%u %s", t->line, t->col, t->bad);
	} else {
		unsigned char c = (unsigned char)t->start[0];
		if (c >= 0x20 && c < 0x7f)
			snprintf(p->err, p->errlen, "line %u:%u no viable alternative at character "
				 "'%c'", t->line, t->col, c);
		else
			snprintf(p->err, p->errlen, "line %u:%u no viable alternative at character "
				 "'\\x%02x'", t->line, t->col, c);
	}
	longjmp(p->jb, 1);
}

/* The current token is wrong and nothing specific was expected. */
static void no_viable(parser *p) __attribute__((noreturn));
static void no_viable(parser *p)
{
	const cql_tok *t = la(p, 0);
	if (t->kind == CQL_TOK_ERROR)
		fail_lex(p, t);
	char tt[64], what[128];
	tok_text(t, tt, sizeof tt);
	snprintf(what, sizeof what, "no viable alternative at input '%s'", tt);
	fail_at(p, t, what);
}

static void mismatched(parser *p, const char *expecting) __attribute__((noreturn));
static void mismatched(parser *p, const char *expecting)
{
	const cql_tok *t = la(p, 0);
	if (t->kind == CQL_TOK_ERROR)
		fail_lex(p, t);
	char tt[64], what[160];
	tok_text(t, tt, sizeof tt);
	snprintf(what, sizeof what, "mismatched input '%s' expecting %s", tt, expecting);
	fail_at(p, t, what);
}

static void fail_limit(parser *p, const char *what) __attribute__((noreturn));
static void fail_limit(parser *p, const char *what)
{
	const cql_tok *t = la(p, 0);
	snprintf(p->err, p->errlen, "line %u:%u %s", t->line, t->col, what);
	longjmp(p->jb, 1);
}

static void count_node(parser *p)
{
	if (++p->nodes > CQL_MAX_NODES)
		fail_limit(p, "statement has too many terms (the limit is 200000)");
}

static void check_depth(parser *p, int depth)
{
	if (depth > CQL_MAX_DEPTH)
		fail_limit(p, "statement nests too deeply (the limit is 32 levels)");
}

/* ---- token tests ---- */

static bool is_kw_tok(const cql_tok *t, const char *kw)
{
	return t->kind == CQL_TOK_IDENT && t->len == strlen(kw) &&
	       strncasecmp(t->start, kw, t->len) == 0;
}

static bool is_kw(parser *p, size_t k, const char *kw)
{
	return is_kw_tok(la(p, k), kw);
}

static bool accept_kw(parser *p, const char *kw)
{
	if (!is_kw(p, 0, kw))
		return false;
	next(p);
	return true;
}

static void expect_kw(parser *p, const char *kw)
{
	if (accept_kw(p, kw))
		return;
	char e[48];
	size_t n = strlen(kw);
	if (n > 40)
		n = 40;
	e[0] = 'K';
	e[1] = '_';
	for (size_t i = 0; i < n; i++)
		e[2 + i] = (char)(kw[i] >= 'a' && kw[i] <= 'z' ? kw[i] - 32 : kw[i]);
	e[2 + n] = '\0';
	mismatched(p, e);
}

static bool is_punct(parser *p, size_t k, char c)
{
	const cql_tok *t = la(p, k);
	return t->kind == CQL_TOK_PUNCT && t->punct == c;
}

static bool accept_punct(parser *p, char c)
{
	if (!is_punct(p, 0, c))
		return false;
	next(p);
	return true;
}

static void expect_punct(parser *p, char c)
{
	if (accept_punct(p, c))
		return;
	char e[4] = {'\'', c, '\'', '\0'};
	mismatched(p, e);
}

static bool is_reserved(const cql_tok *t)
{
	return t->kind == CQL_TOK_IDENT && cql_lex_is_reserved(t->start, t->len);
}

static bool is_name_tok(const cql_tok *t)
{
	return t->kind == CQL_TOK_QIDENT || (t->kind == CQL_TOK_IDENT && !is_reserved(t));
}

/* ---- arena helpers ---- */

static void *grow(parser *p, void *arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 4;
	void *na = brook_arena_alloc(p->a, ncap * elem);
	if (n)
		memcpy(na, arr, n * elem);
	*cap = ncap;
	return na;
}

#define PUSH(p, arr, n, cap, val)                                                     \
	do {                                                                          \
		count_node(p);                                                        \
		(arr) = grow((p), (arr), &(cap), (n), sizeof *(arr));                 \
		(arr)[(n)++] = (val);                                                 \
	} while (0)

static const char *tok_name(parser *p, const cql_tok *t)
{
	char *s = brook_arena_alloc(p->a, t->len + 1);
	cql_lex_ident(t, s);
	return s;
}

/* ---- names ---- */

static cql_ident p_ident(parser *p)
{
	const cql_tok *t = la(p, 0);
	if (!is_name_tok(t))
		no_viable(p);
	cql_ident id = {tok_name(p, t), tok_pos(t)};
	next(p);
	return id;
}

static cql_qname p_qname(parser *p)
{
	cql_qname q;
	cql_ident a = p_ident(p);
	q.pos = a.pos;
	if (accept_punct(p, '.')) {
		cql_ident b = p_ident(p);
		q.ks = a.name;
		q.name = b.name;
	} else {
		q.ks = NULL;
		q.name = a.name;
	}
	return q;
}

/* ---- types ---- */

static const struct {
	const char *name;
	cql_ast_type_kind kind;
} native_types[] = {
	{"ascii", CQL_AST_TYPE_ASCII},       {"bigint", CQL_AST_TYPE_BIGINT},
	{"blob", CQL_AST_TYPE_BLOB},         {"boolean", CQL_AST_TYPE_BOOLEAN},
	{"counter", CQL_AST_TYPE_COUNTER},   {"date", CQL_AST_TYPE_DATE},
	{"decimal", CQL_AST_TYPE_DECIMAL},   {"double", CQL_AST_TYPE_DOUBLE},
	{"duration", CQL_AST_TYPE_DURATION}, {"float", CQL_AST_TYPE_FLOAT},
	{"inet", CQL_AST_TYPE_INET},         {"int", CQL_AST_TYPE_INT},
	{"smallint", CQL_AST_TYPE_SMALLINT}, {"text", CQL_AST_TYPE_TEXT},
	{"varchar", CQL_AST_TYPE_TEXT},      {"time", CQL_AST_TYPE_TIME},
	{"timestamp", CQL_AST_TYPE_TIMESTAMP}, {"timeuuid", CQL_AST_TYPE_TIMEUUID},
	{"tinyint", CQL_AST_TYPE_TINYINT},   {"uuid", CQL_AST_TYPE_UUID},
	{"varint", CQL_AST_TYPE_VARINT},     {NULL, 0},
};

static int native_type(const cql_tok *t)
{
	for (int i = 0; native_types[i].name; i++)
		if (is_kw_tok(t, native_types[i].name))
			return i;
	return -1;
}

static bool is_type_start(parser *p, size_t k)
{
	const cql_tok *t = la(p, k);
	return native_type(t) >= 0 || is_kw_tok(t, "list") || is_kw_tok(t, "set") ||
	       is_kw_tok(t, "map") || is_kw_tok(t, "frozen") || is_kw_tok(t, "tuple");
}

static cql_ast_type *p_type(parser *p, int depth)
{
	check_depth(p, depth);
	count_node(p);
	cql_ast_type *ty = brook_arena_calloc(p->a, sizeof *ty);
	const cql_tok *t = la(p, 0);
	ty->pos = tok_pos(t);
	int nt = native_type(t);
	if (nt >= 0) {
		ty->kind = native_types[nt].kind;
		next(p);
		return ty;
	}
	if (t->kind == CQL_TOK_STRING) {
		ty->kind = CQL_AST_TYPE_CUSTOM;
		char *s = brook_arena_alloc(p->a, t->len + 1);
		cql_lex_string(t, s);
		ty->name = s;
		next(p);
		return ty;
	}
	if (accept_kw(p, "frozen")) {
		expect_punct(p, '<');
		cql_ast_type *in = p_type(p, depth + 1);
		expect_punct(p, '>');
		in->frozen = true;
		return in;
	}
	size_t want = 0; /* 0: any number (tuple) */
	if (is_kw(p, 0, "list")) {
		ty->kind = CQL_AST_TYPE_LIST;
		want = 1;
	} else if (is_kw(p, 0, "set")) {
		ty->kind = CQL_AST_TYPE_SET;
		want = 1;
	} else if (is_kw(p, 0, "map")) {
		ty->kind = CQL_AST_TYPE_MAP;
		want = 2;
	} else if (is_kw(p, 0, "tuple")) {
		ty->kind = CQL_AST_TYPE_TUPLE;
	} else if (is_name_tok(t)) {
		cql_qname q = p_qname(p);
		ty->kind = CQL_AST_TYPE_UDT;
		ty->name = q.name;
		return ty;
	} else {
		no_viable(p);
	}
	next(p);
	expect_punct(p, '<');
	size_t cap = 0;
	do {
		cql_ast_type *param = p_type(p, depth + 1);
		PUSH(p, ty->params, ty->n_params, cap, param);
	} while ((want == 0 || ty->n_params < want) && accept_punct(p, ','));
	if (want && ty->n_params < want)
		expect_punct(p, ',');
	expect_punct(p, '>');
	return ty;
}

/* ---- terms ---- */

static cql_term *new_term(parser *p, cql_term_kind k, const cql_tok *t)
{
	count_node(p);
	cql_term *term = brook_arena_calloc(p->a, sizeof *term);
	term->kind = k;
	term->pos = tok_pos(t);
	return term;
}

static void set_text(parser *p, cql_term *term, const char *s, size_t n)
{
	term->text = brook_arena_strndup(p->a, s, n);
	term->len = n;
}

static cql_term *add_bind(parser *p, cql_term *term)
{
	if (p->n_binds >= CQL_MAX_BINDS)
		fail_limit(p, "statement has too many bind markers (the limit is 65535)");
	term->bind_index = (int)p->n_binds;
	p->binds = grow(p, p->binds, &p->cap_binds, p->n_binds, sizeof *p->binds);
	p->binds[p->n_binds++] = term;
	return term;
}

static cql_term *p_term(parser *p, int depth);

/* A number after an optional '-': INT, FLOAT, NaN or Infinity. */
static cql_term *p_number(parser *p, const cql_tok *first, bool neg)
{
	const cql_tok *t = la(p, 0);
	cql_term *term;
	if (t->kind == CQL_TOK_INT || t->kind == CQL_TOK_FLOAT) {
		term = new_term(p, t->kind == CQL_TOK_INT ? CQL_TERM_INT : CQL_TERM_FLOAT, first);
	} else if (is_kw_tok(t, "nan") || is_kw_tok(t, "infinity")) {
		term = new_term(p, CQL_TERM_FLOAT, first);
	} else {
		no_viable(p);
	}
	char *s = brook_arena_alloc(p->a, t->len + 2);
	size_t n = 0;
	if (neg)
		s[n++] = '-';
	if (t->kind == CQL_TOK_IDENT) {
		const char *canon = is_kw_tok(t, "nan") ? "NaN" : "Infinity";
		memcpy(s + n, canon, strlen(canon));
		n += strlen(canon);
	} else {
		memcpy(s + n, t->start, t->len);
		n += t->len;
	}
	s[n] = '\0';
	term->text = s;
	term->len = n;
	next(p);
	return term;
}

/* Items up to the closing character: [term {, term}]. */
static void p_items(parser *p, cql_term *term, char close, int depth)
{
	size_t cap = 0;
	if (accept_punct(p, close))
		return;
	do {
		cql_term *item = p_term(p, depth + 1);
		PUSH(p, term->items, term->n, cap, item);
	} while (accept_punct(p, ','));
	expect_punct(p, close);
}

static cql_term *p_term(parser *p, int depth)
{
	check_depth(p, depth);
	const cql_tok *t = la(p, 0);
	cql_term *term;
	switch (t->kind) {
	case CQL_TOK_STRING: {
		term = new_term(p, CQL_TERM_STRING, t);
		char *s = brook_arena_alloc(p->a, t->len + 1);
		term->len = cql_lex_string(t, s);
		term->text = s;
		next(p);
		return term;
	}
	case CQL_TOK_INT:
	case CQL_TOK_FLOAT:
		return p_number(p, t, false);
	case CQL_TOK_UUID:
		term = new_term(p, CQL_TERM_UUID, t);
		set_text(p, term, t->start, t->len);
		next(p);
		return term;
	case CQL_TOK_HEX:
		term = new_term(p, CQL_TERM_BLOB, t);
		set_text(p, term, t->start + 2, t->len - 2);
		next(p);
		return term;
	case CQL_TOK_PUNCT:
		break;
	case CQL_TOK_IDENT:
		if (is_kw_tok(t, "true") || is_kw_tok(t, "false")) {
			term = new_term(p, CQL_TERM_BOOL, t);
			term->b = is_kw_tok(t, "true");
			set_text(p, term, term->b ? "true" : "false", term->b ? 4 : 5);
			next(p);
			return term;
		}
		if (is_kw_tok(t, "null")) {
			term = new_term(p, CQL_TERM_NULL, t);
			next(p);
			return term;
		}
		if (is_kw_tok(t, "nan") || is_kw_tok(t, "infinity"))
			return p_number(p, t, false);
		/* A function call: now(), uuid(), totimestamp(now()), token(?) ... */
		/* fallthrough */
	case CQL_TOK_QIDENT:
		if (is_punct(p, 1, '(')) {
			term = new_term(p, CQL_TERM_FUNC, t);
			term->text = tok_name(p, t);
			term->len = strlen(term->text);
			next(p);
			next(p);
			p_items(p, term, ')', depth);
			return term;
		}
		no_viable(p);
	default:
		no_viable(p);
	}
	/* Punctuation. */
	switch (t->punct) {
	case '-': {
		cql_tok minus = *t;
		next(p);
		return p_number(p, &minus, true);
	}
	case '?':
		term = new_term(p, CQL_TERM_BIND, t);
		next(p);
		return add_bind(p, term);
	case ':': {
		term = new_term(p, CQL_TERM_BIND, t);
		next(p);
		const cql_tok *n = la(p, 0);
		/* Named markers may use any identifier, keywords included. */
		if (n->kind != CQL_TOK_IDENT && n->kind != CQL_TOK_QIDENT)
			no_viable(p);
		term->text = tok_name(p, n);
		term->len = strlen(term->text);
		next(p);
		return add_bind(p, term);
	}
	case '[':
		term = new_term(p, CQL_TERM_LIST, t);
		next(p);
		p_items(p, term, ']', depth);
		return term;
	case '{':
		next(p);
		if (is_punct(p, 0, '}')) {
			term = new_term(p, CQL_TERM_MAP, t);
			next(p);
			return term;
		}
		/* A map if the first element is followed by ':', else a set. */
		{
			cql_term *first = p_term(p, depth + 1);
			term = new_term(p, is_punct(p, 0, ':') ? CQL_TERM_MAP : CQL_TERM_SET, t);
			size_t cap = 0;
			PUSH(p, term->items, term->n, cap, first);
			if (term->kind == CQL_TERM_MAP) {
				expect_punct(p, ':');
				cql_term *v = p_term(p, depth + 1);
				PUSH(p, term->items, term->n, cap, v);
			}
			while (accept_punct(p, ',')) {
				cql_term *k = p_term(p, depth + 1);
				PUSH(p, term->items, term->n, cap, k);
				if (term->kind == CQL_TERM_MAP) {
					expect_punct(p, ':');
					cql_term *v = p_term(p, depth + 1);
					PUSH(p, term->items, term->n, cap, v);
				}
			}
			expect_punct(p, '}');
			return term;
		}
	case '(':
		if (is_type_start(p, 1) && (is_punct(p, 2, ')') || is_punct(p, 2, '<'))) {
			term = new_term(p, CQL_TERM_CAST, t);
			next(p);
			term->cast = p_type(p, depth + 1);
			expect_punct(p, ')');
			term->items = brook_arena_alloc(p->a, sizeof *term->items);
			term->items[0] = p_term(p, depth + 1);
			term->n = 1;
			return term;
		}
		term = new_term(p, CQL_TERM_TUPLE, t);
		next(p);
		p_items(p, term, ')', depth);
		if (term->n == 0)
			fail_limit(p, "empty tuple literal");
		return term;
	default:
		no_viable(p);
	}
}

/* ---- USING, WITH ---- */

static void p_using(parser *p, cql_using *u, bool ttl_allowed)
{
	if (!accept_kw(p, "using"))
		return;
	do {
		if (ttl_allowed && accept_kw(p, "ttl")) {
			u->ttl = p_term(p, 0);
		} else if (accept_kw(p, "timestamp")) {
			u->timestamp = p_term(p, 0);
		} else {
			mismatched(p, ttl_allowed ? "K_TTL or K_TIMESTAMP" : "K_TIMESTAMP");
		}
	} while (accept_kw(p, "and"));
}

/* name = value: a term, or a bare identifier kept as a string (e.g. KEYS_ONLY). */
static cql_option p_option(parser *p)
{
	cql_option o;
	const cql_tok *t = la(p, 0);
	if (t->kind != CQL_TOK_IDENT && t->kind != CQL_TOK_QIDENT)
		no_viable(p);
	o.name = tok_name(p, t);
	o.pos = tok_pos(t);
	next(p);
	expect_punct(p, '=');
	t = la(p, 0);
	if (t->kind == CQL_TOK_IDENT && !is_kw_tok(t, "true") && !is_kw_tok(t, "false") &&
	    !is_kw_tok(t, "null") && !is_kw_tok(t, "nan") && !is_kw_tok(t, "infinity") &&
	    !is_punct(p, 1, '(')) {
		o.value = new_term(p, CQL_TERM_STRING, t);
		set_text(p, o.value, t->start, t->len);
		next(p);
	} else {
		o.value = p_term(p, 0);
	}
	return o;
}

/* ---- WHERE ---- */

static bool p_op(parser *p, cql_op *op)
{
	const cql_tok *t = la(p, 0);
	switch (t->kind) {
	case CQL_TOK_LE: *op = CQL_OP_LE; break;
	case CQL_TOK_GE: *op = CQL_OP_GE; break;
	case CQL_TOK_NE: *op = CQL_OP_NE; break;
	case CQL_TOK_PUNCT:
		if (t->punct == '=')
			*op = CQL_OP_EQ;
		else if (t->punct == '<')
			*op = CQL_OP_LT;
		else if (t->punct == '>')
			*op = CQL_OP_GT;
		else
			return false;
		break;
	default:
		return false;
	}
	next(p);
	return true;
}

/* IN (t, ...) or IN ? / IN :name, after the IN keyword. */
static void p_in_values(parser *p, cql_relation *r)
{
	if (is_punct(p, 0, '?') || is_punct(p, 0, ':')) {
		r->value = p_term(p, 0);
		return;
	}
	expect_punct(p, '(');
	size_t cap = 0;
	if (accept_punct(p, ')'))
		return;
	do {
		cql_term *v = p_term(p, 1);
		PUSH(p, r->in, r->n_in, cap, v);
	} while (accept_punct(p, ','));
	expect_punct(p, ')');
}

static cql_relation p_relation(parser *p)
{
	cql_relation r;
	memset(&r, 0, sizeof r);
	r.pos = here(p);
	size_t cap = 0;
	if (is_kw(p, 0, "token") && is_punct(p, 1, '(')) {
		r.kind = CQL_REL_TOKEN;
		next(p);
		next(p);
		do {
			cql_ident c = p_ident(p);
			PUSH(p, r.cols, r.n_cols, cap, c);
		} while (accept_punct(p, ','));
		expect_punct(p, ')');
		if (!p_op(p, &r.op))
			no_viable(p);
		r.value = p_term(p, 0);
		return r;
	}
	if (accept_punct(p, '(')) {
		r.kind = CQL_REL_TUPLE;
		do {
			cql_ident c = p_ident(p);
			PUSH(p, r.cols, r.n_cols, cap, c);
		} while (accept_punct(p, ','));
		expect_punct(p, ')');
		if (accept_kw(p, "in")) {
			r.op = CQL_OP_IN;
			p_in_values(p, &r);
			return r;
		}
		if (!p_op(p, &r.op))
			no_viable(p);
		r.value = p_term(p, 0);
		return r;
	}
	r.kind = CQL_REL_COLUMN;
	cql_ident c = p_ident(p);
	PUSH(p, r.cols, r.n_cols, cap, c);
	if (accept_punct(p, '[')) {
		r.key = p_term(p, 0);
		expect_punct(p, ']');
	}
	if (accept_kw(p, "in")) {
		r.op = CQL_OP_IN;
		p_in_values(p, &r);
		return r;
	}
	if (accept_kw(p, "contains")) {
		r.op = accept_kw(p, "key") ? CQL_OP_CONTAINS_KEY : CQL_OP_CONTAINS;
		r.value = p_term(p, 0);
		return r;
	}
	if (!p_op(p, &r.op))
		no_viable(p);
	r.value = p_term(p, 0);
	return r;
}

static void p_where(parser *p, cql_relation **rels, size_t *n)
{
	size_t cap = 0;
	do {
		cql_relation r = p_relation(p);
		PUSH(p, *rels, *n, cap, r);
	} while (accept_kw(p, "and"));
}

/* IF EXISTS | IF cond AND ... (after UPDATE/DELETE's WHERE). */
static void p_conditions(parser *p, bool *if_exists, cql_relation **conds, size_t *n)
{
	if (!accept_kw(p, "if"))
		return;
	if (accept_kw(p, "exists")) {
		*if_exists = true;
		return;
	}
	p_where(p, conds, n);
}

/* ---- statements ---- */

static cql_stmt *new_stmt(parser *p, cql_stmt_kind k, cql_pos pos)
{
	cql_stmt *s = brook_arena_calloc(p->a, sizeof *s);
	s->kind = k;
	s->pos = pos;
	return s;
}

static void p_if_not_exists(parser *p, bool *flag)
{
	if (accept_kw(p, "if")) {
		expect_kw(p, "not");
		expect_kw(p, "exists");
		*flag = true;
	}
}

static void p_if_exists(parser *p, bool *flag)
{
	if (accept_kw(p, "if")) {
		expect_kw(p, "exists");
		*flag = true;
	}
}

static cql_stmt *p_select(parser *p, cql_pos pos);
static cql_stmt *p_insert(parser *p, cql_pos pos);
static cql_stmt *p_update(parser *p, cql_pos pos);
static cql_stmt *p_delete(parser *p, cql_pos pos);

static cql_selector p_selector(parser *p, int depth)
{
	check_depth(p, depth);
	count_node(p);
	cql_selector s;
	memset(&s, 0, sizeof s);
	const cql_tok *t = la(p, 0);
	s.pos = tok_pos(t);
	if ((t->kind == CQL_TOK_IDENT || t->kind == CQL_TOK_QIDENT) && is_punct(p, 1, '(')) {
		bool plain = t->kind == CQL_TOK_IDENT;
		s.name = tok_name(p, t);
		next(p);
		next(p);
		if (plain && strcmp(s.name, "count") == 0 &&
		    (is_punct(p, 0, '*') || (la(p, 0)->kind == CQL_TOK_INT &&
					     la(p, 0)->len == 1 && la(p, 0)->start[0] == '1'))) {
			next(p);
			expect_punct(p, ')');
			s.kind = CQL_SEL_COUNT;
		} else {
			s.kind = CQL_SEL_FUNC;
			if (plain && strcmp(s.name, "ttl") == 0)
				s.kind = CQL_SEL_TTL;
			else if (plain && strcmp(s.name, "writetime") == 0)
				s.kind = CQL_SEL_WRITETIME;
			size_t cap = 0;
			if (!accept_punct(p, ')')) {
				do {
					cql_selector arg = p_selector(p, depth + 1);
					PUSH(p, s.args, s.n_args, cap, arg);
				} while (accept_punct(p, ','));
				expect_punct(p, ')');
			}
			if ((s.kind == CQL_SEL_TTL || s.kind == CQL_SEL_WRITETIME) &&
			    (s.n_args != 1 || s.args[0].kind != CQL_SEL_COLUMN))
				fail_limit(p, "ttl() and writetime() take exactly one column");
		}
	} else if (is_name_tok(t)) {
		s.kind = CQL_SEL_COLUMN;
		s.name = tok_name(p, t);
		next(p);
	} else {
		/* Literals and markers are allowed as function arguments only. */
		if (depth == 0)
			no_viable(p);
		s.kind = CQL_SEL_TERM;
		s.term = p_term(p, depth);
	}
	if (depth == 0 && accept_kw(p, "as"))
		s.alias = p_ident(p).name;
	return s;
}

static cql_stmt *p_select(parser *p, cql_pos pos)
{
	cql_stmt *st = new_stmt(p, CQL_STMT_SELECT, pos);
	cql_select *s = &st->u.select;
	/* JSON / DISTINCT are keywords unless used as a column name. */
	if (is_kw(p, 0, "json") && !is_kw(p, 1, "from") && !is_punct(p, 1, ',') &&
	    !is_kw(p, 1, "as")) {
		next(p);
		s->json = true;
	}
	if (is_kw(p, 0, "distinct") && !is_kw(p, 1, "from") && !is_punct(p, 1, ',') &&
	    !is_kw(p, 1, "as")) {
		next(p);
		s->distinct = true;
	}
	if (accept_punct(p, '*')) {
		s->star = true;
	} else {
		size_t cap = 0;
		do {
			cql_selector sel = p_selector(p, 0);
			PUSH(p, s->selectors, s->n_selectors, cap, sel);
		} while (accept_punct(p, ','));
	}
	expect_kw(p, "from");
	s->table = p_qname(p);
	if (accept_kw(p, "where"))
		p_where(p, &s->where, &s->n_where);
	if (accept_kw(p, "order")) {
		expect_kw(p, "by");
		size_t cap = 0;
		do {
			cql_order o;
			o.col = p_ident(p);
			o.desc = false;
			if (accept_kw(p, "desc"))
				o.desc = true;
			else
				accept_kw(p, "asc");
			PUSH(p, s->order_by, s->n_order_by, cap, o);
		} while (accept_punct(p, ','));
	}
	if (is_kw(p, 0, "per")) {
		next(p);
		expect_kw(p, "partition");
		expect_kw(p, "limit");
		s->per_partition_limit = p_term(p, 0);
	}
	if (accept_kw(p, "limit"))
		s->limit = p_term(p, 0);
	if (accept_kw(p, "allow")) {
		expect_kw(p, "filtering");
		s->allow_filtering = true;
	}
	return st;
}

static cql_stmt *p_insert(parser *p, cql_pos pos)
{
	cql_stmt *st = new_stmt(p, CQL_STMT_INSERT, pos);
	cql_insert *in = &st->u.insert;
	expect_kw(p, "into");
	in->table = p_qname(p);
	if (is_kw(p, 0, "json"))
		fail_limit(p, "INSERT JSON is not supported; list the columns and VALUES");
	expect_punct(p, '(');
	size_t cap = 0;
	do {
		cql_ident c = p_ident(p);
		PUSH(p, in->columns, in->n_columns, cap, c);
	} while (accept_punct(p, ','));
	expect_punct(p, ')');
	expect_kw(p, "values");
	expect_punct(p, '(');
	cap = 0;
	do {
		cql_term *v = p_term(p, 0);
		PUSH(p, in->values, in->n_values, cap, v);
	} while (accept_punct(p, ','));
	expect_punct(p, ')');
	p_if_not_exists(p, &in->if_not_exists);
	p_using(p, &in->using, true);
	return st;
}

static bool same_name(parser *p, const cql_tok *t, const char *name)
{
	if (!is_name_tok(t))
		return false;
	return strcmp(tok_name(p, t), name) == 0;
}

static cql_assign p_assign(parser *p)
{
	cql_assign a;
	memset(&a, 0, sizeof a);
	a.col = p_ident(p);
	if (accept_punct(p, '[')) {
		a.kind = CQL_ASSIGN_ELEMENT;
		a.key = p_term(p, 0);
		expect_punct(p, ']');
		expect_punct(p, '=');
		a.value = p_term(p, 0);
		return a;
	}
	expect_punct(p, '=');
	const cql_tok *t = la(p, 0);
	if (is_name_tok(t) && (is_punct(p, 1, '+') || is_punct(p, 1, '-'))) {
		if (!same_name(p, t, a.col.name))
			fail_limit(p, "only expressions of the form X = X + <value> are supported");
		next(p);
		a.kind = is_punct(p, 0, '+') ? CQL_ASSIGN_ADD : CQL_ASSIGN_SUB;
		next(p);
		a.value = p_term(p, 0);
		return a;
	}
	a.kind = CQL_ASSIGN_SET;
	a.value = p_term(p, 0);
	if (accept_punct(p, '+')) {
		if (!same_name(p, la(p, 0), a.col.name))
			fail_limit(p, "only expressions of the form X = <value> + X are supported");
		next(p);
		a.kind = CQL_ASSIGN_PREPEND;
	}
	return a;
}

static cql_stmt *p_update(parser *p, cql_pos pos)
{
	cql_stmt *st = new_stmt(p, CQL_STMT_UPDATE, pos);
	cql_update *u = &st->u.update;
	u->table = p_qname(p);
	p_using(p, &u->using, true);
	expect_kw(p, "set");
	size_t cap = 0;
	do {
		cql_assign a = p_assign(p);
		PUSH(p, u->assigns, u->n_assigns, cap, a);
	} while (accept_punct(p, ','));
	expect_kw(p, "where");
	p_where(p, &u->where, &u->n_where);
	p_conditions(p, &u->if_exists, &u->conditions, &u->n_conditions);
	return st;
}

static cql_stmt *p_delete(parser *p, cql_pos pos)
{
	cql_stmt *st = new_stmt(p, CQL_STMT_DELETE, pos);
	cql_delete *d = &st->u.del;
	size_t cap = 0;
	if (!is_kw(p, 0, "from")) {
		do {
			cql_delete_target tg;
			tg.col = p_ident(p);
			tg.key = NULL;
			if (accept_punct(p, '[')) {
				tg.key = p_term(p, 0);
				expect_punct(p, ']');
			}
			PUSH(p, d->targets, d->n_targets, cap, tg);
		} while (accept_punct(p, ','));
	}
	expect_kw(p, "from");
	d->table = p_qname(p);
	p_using(p, &d->using, false);
	expect_kw(p, "where");
	p_where(p, &d->where, &d->n_where);
	p_conditions(p, &d->if_exists, &d->conditions, &d->n_conditions);
	return st;
}

static cql_stmt *p_batch(parser *p, cql_pos pos)
{
	cql_stmt *st = new_stmt(p, CQL_STMT_BATCH, pos);
	cql_ast_batch *b = &st->u.batch;
	b->kind = CQL_AST_BATCH_LOGGED;
	if (accept_kw(p, "unlogged"))
		b->kind = CQL_AST_BATCH_UNLOGGED;
	else if (accept_kw(p, "counter"))
		b->kind = CQL_AST_BATCH_COUNTER;
	else
		accept_kw(p, "logged");
	expect_kw(p, "batch");
	p_using(p, &b->using, false);
	size_t cap = 0;
	for (;;) {
		cql_pos sp = here(p);
		cql_stmt *s;
		if (accept_kw(p, "insert"))
			s = p_insert(p, sp);
		else if (accept_kw(p, "update"))
			s = p_update(p, sp);
		else if (accept_kw(p, "delete"))
			s = p_delete(p, sp);
		else if (is_kw(p, 0, "apply"))
			break;
		else
			mismatched(p, "K_APPLY");
		PUSH(p, b->stmts, b->n_stmts, cap, s);
		while (accept_punct(p, ';'))
			;
	}
	expect_kw(p, "apply");
	expect_kw(p, "batch");
	return st;
}

static void p_primary_key_clause(parser *p, cql_create_table *ct)
{
	/* After PRIMARY KEY: ( pk | (pk, pk...) [, ck ...] ) */
	expect_punct(p, '(');
	size_t cap = 0;
	ct->n_partition_key = 0;
	ct->n_clustering = 0;
	ct->partition_key = NULL;
	ct->clustering = NULL;
	if (accept_punct(p, '(')) {
		do {
			cql_ident c = p_ident(p);
			PUSH(p, ct->partition_key, ct->n_partition_key, cap, c);
		} while (accept_punct(p, ','));
		expect_punct(p, ')');
	} else {
		cql_ident c = p_ident(p);
		PUSH(p, ct->partition_key, ct->n_partition_key, cap, c);
	}
	cap = 0;
	while (accept_punct(p, ',')) {
		cql_ident c = p_ident(p);
		PUSH(p, ct->clustering, ct->n_clustering, cap, c);
	}
	expect_punct(p, ')');
}

static cql_stmt *p_create_table(parser *p, cql_pos pos)
{
	cql_stmt *st = new_stmt(p, CQL_STMT_CREATE_TABLE, pos);
	cql_create_table *ct = &st->u.create_table;
	p_if_not_exists(p, &ct->if_not_exists);
	ct->name = p_qname(p);
	expect_punct(p, '(');
	size_t cap = 0;
	bool clause = false;
	do {
		if (accept_kw(p, "primary")) {
			expect_kw(p, "key");
			p_primary_key_clause(p, ct);
			ct->n_pk_decls++;
			clause = true;
			continue;
		}
		cql_column_def cd;
		memset(&cd, 0, sizeof cd);
		cd.name = p_ident(p);
		cd.type = p_type(p, 0);
		if (accept_kw(p, "static"))
			cd.is_static = true;
		if (accept_kw(p, "primary")) {
			expect_kw(p, "key");
			cd.primary_key = true;
			ct->n_pk_decls++;
			if (!clause) {
				ct->partition_key = brook_arena_alloc(p->a, sizeof(cql_ident));
				ct->partition_key[0] = cd.name;
				ct->n_partition_key = 1;
			}
		}
		PUSH(p, ct->columns, ct->n_columns, cap, cd);
	} while (accept_punct(p, ','));
	expect_punct(p, ')');
	if (!accept_kw(p, "with"))
		return st;
	size_t ocap = 0, ccap = 0;
	do {
		if (is_kw(p, 0, "clustering") && is_kw(p, 1, "order")) {
			next(p);
			next(p);
			expect_kw(p, "by");
			expect_punct(p, '(');
			do {
				cql_order o;
				o.col = p_ident(p);
				o.desc = false;
				if (accept_kw(p, "desc"))
					o.desc = true;
				else
					accept_kw(p, "asc");
				PUSH(p, ct->clustering_order, ct->n_clustering_order, ccap, o);
			} while (accept_punct(p, ','));
			expect_punct(p, ')');
		} else if (is_kw(p, 0, "compact") && is_kw(p, 1, "storage")) {
			next(p);
			next(p);
			ct->compact_storage = true;
		} else {
			cql_option o = p_option(p);
			PUSH(p, ct->options, ct->n_options, ocap, o);
		}
	} while (accept_kw(p, "and"));
	return st;
}

/* Statements Cassandra has and brook's store does not: a clear message, not a bare
 * syntax error. `what` is the statement's first word(s). */
static const char *const unsupported_objects[] = {
	"index", "custom", "type", "function", "aggregate", "materialized", "role", "user",
	"trigger", "or", NULL,
};

static void unsupported(parser *p, const cql_tok *t, const char *verb) __attribute__((noreturn));
static void unsupported(parser *p, const cql_tok *t, const char *verb)
{
	char what[128];
	snprintf(what, sizeof what, "%s statements are not supported by brook's store", verb);
	fail_at(p, t, what);
}

static void unsupported_object(parser *p, const cql_tok *verb_tok, const char *verb)
{
	for (size_t i = 0; unsupported_objects[i]; i++)
		if (is_kw(p, 0, unsupported_objects[i])) {
			char v[64];
			snprintf(v, sizeof v, "%s %s", verb,
				 strcmp(unsupported_objects[i], "or") == 0 ? "OR REPLACE"
				 : strcmp(unsupported_objects[i], "custom") == 0 ? "CUSTOM INDEX"
				 : strcmp(unsupported_objects[i], "materialized") == 0
				       ? "MATERIALIZED VIEW" : unsupported_objects[i]);
			for (char *c = v; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			unsupported(p, verb_tok, v);
		}
}

static cql_stmt *p_create(parser *p, cql_pos pos)
{
	if (accept_kw(p, "keyspace") || accept_kw(p, "schema")) {
		cql_stmt *st = new_stmt(p, CQL_STMT_CREATE_KEYSPACE, pos);
		cql_create_keyspace *ck = &st->u.create_keyspace;
		p_if_not_exists(p, &ck->if_not_exists);
		ck->name = p_ident(p);
		expect_kw(p, "with");
		size_t cap = 0;
		do {
			cql_option o = p_option(p);
			PUSH(p, ck->options, ck->n_options, cap, o);
		} while (accept_kw(p, "and"));
		return st;
	}
	if (accept_kw(p, "table") || accept_kw(p, "columnfamily"))
		return p_create_table(p, pos);
	unsupported_object(p, &p->verb, "create");
	no_viable(p);
}

static cql_stmt *p_drop(parser *p, cql_pos pos)
{
	cql_stmt *st;
	if (accept_kw(p, "keyspace") || accept_kw(p, "schema")) {
		st = new_stmt(p, CQL_STMT_DROP_KEYSPACE, pos);
		p_if_exists(p, &st->u.drop.if_exists);
		cql_ident id = p_ident(p);
		st->u.drop.name.ks = NULL;
		st->u.drop.name.name = id.name;
		st->u.drop.name.pos = id.pos;
		return st;
	}
	if (accept_kw(p, "table") || accept_kw(p, "columnfamily")) {
		st = new_stmt(p, CQL_STMT_DROP_TABLE, pos);
		p_if_exists(p, &st->u.drop.if_exists);
		st->u.drop.name = p_qname(p);
		return st;
	}
	unsupported_object(p, &p->verb, "drop");
	no_viable(p);
}

static cql_stmt *p_statement(parser *p)
{
	cql_pos pos = here(p);
	p->verb = *la(p, 0);
	static const char *const verbs[] = {"alter", "grant", "revoke", "list", NULL};
	for (size_t i = 0; verbs[i]; i++)
		if (is_kw(p, 0, verbs[i])) {
			char v[16];
			snprintf(v, sizeof v, "%s", verbs[i]);
			for (char *c = v; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			unsupported(p, &p->verb, v);
		}
	if (accept_kw(p, "select"))
		return p_select(p, pos);
	if (accept_kw(p, "insert"))
		return p_insert(p, pos);
	if (accept_kw(p, "update"))
		return p_update(p, pos);
	if (accept_kw(p, "delete"))
		return p_delete(p, pos);
	if (accept_kw(p, "begin"))
		return p_batch(p, pos);
	if (accept_kw(p, "create"))
		return p_create(p, pos);
	if (accept_kw(p, "drop"))
		return p_drop(p, pos);
	if (accept_kw(p, "use")) {
		cql_stmt *st = new_stmt(p, CQL_STMT_USE, pos);
		st->u.use = p_ident(p);
		return st;
	}
	if (accept_kw(p, "truncate")) {
		cql_stmt *st = new_stmt(p, CQL_STMT_TRUNCATE, pos);
		if (!accept_kw(p, "table"))
			accept_kw(p, "columnfamily");
		st->u.truncate = p_qname(p);
		return st;
	}
	no_viable(p);
}

int cql_parse(brook_arena *arena, const char *text, size_t len, cql_stmt **out, char *err,
	      size_t errlen)
{
	*out = NULL;
	if (len > CQL_MAX_STATEMENT) {
		snprintf(err, errlen, "statement of %zu bytes exceeds the limit of %d bytes",
			 len, CQL_MAX_STATEMENT);
		return BROOK_ERR;
	}
	parser *p = brook_arena_calloc(arena, sizeof *p);
	p->a = arena;
	p->src = len ? text : "";
	p->len = len;
	p->err = err;
	p->errlen = errlen;
	cql_lex_init(&p->lx, p->src, len);
	if (setjmp(p->jb))
		return BROOK_ERR;
	cql_stmt *st = p_statement(p);
	while (accept_punct(p, ';'))
		;
	if (la(p, 0)->kind != CQL_TOK_EOF)
		mismatched(p, "EOF");
	st->binds = p->binds;
	st->n_binds = p->n_binds;
	*out = st;
	return BROOK_OK;
}
