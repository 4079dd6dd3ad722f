/*
 * expr.c — the mapping expression language: lexer, parser, type checker, evaluator.
 *
 * Design: expr_compile() runs a recursive-descent parser (one function per precedence
 * level, lowest first: or, and, not, comparison, ||, + -, * / %, unary -, primary) that
 * builds an immutable tree of nodes in the expr's own arena. Each node is type-checked
 * as it is built (bottom-up), so the whole tree is typed when parsing ends: its static
 * type (EXPR_ANY when untyped input is involved), its nullability, and, for function
 * calls, the function's table entry (fns[] in the functions section). The tree is never
 * changed after that, so a compiled expr can be shared between threads.
 *
 * Invariants:
 *   - Every node records its source span (off, len) into the expr's copy of the text:
 *     compile errors quote the column of the offending token, evaluation errors quote
 *     the failing sub-expression ("int(name.first): 'Anna' is not an integer").
 *   - Nesting (parentheses, calls, case, unary operators) is at most EXPR_MAX_DEPTH and
 *     a tree is at most EXPR_MAX_HEIGHT nodes high, so neither the parser nor the
 *     recursive evaluator can run out of stack on any input.
 *   - The static checker accepts only what can work at run time for some input: values
 *     of static type EXPR_ANY (and the null literal) are checked again when evaluated,
 *     with the same rules (arith_type, cmp_types_ok, cast_ok), so an ANY operand that
 *     turns out wrong is a per-record error, never undefined behaviour.
 *   - Evaluation allocates only from the caller's arena (results of string functions,
 *     rendered text); strings read from the record point into the record.
 *   - Records are read as brook_jnode trees (core/jdoc.h) only: expr_eval_node() is
 *     the evaluator; expr_eval() converts a jansson record into nodes in the caller's
 *     arena (strings still point into the jansson tree) and calls it, so both give
 *     the same values and the same messages.
 *
 * Errors: compile errors "column N: what"; evaluation errors name the path or the
 * sub-expression and what was wrong with the value.
 */
#include "stream/expr.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/jdoc.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"
#include "core/uuid.h"

#define TS_MIN         INT64_C(-62167219200000) /* 0000-01-01T00:00:00.000Z */
#define TS_MAX         INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define MS_PER_DAY     INT64_C(86400000)
#define MAX_STRING     (16u << 20) /* longest string a function may build */
#define MAX_EVAL_BYTES (64u << 20) /* arena bytes one evaluation may take */
#define MAX_SEGS       64          /* segments in one path */
#define QUOTE_MAX      40          /* bytes of a bad value quoted in an error */

#define TM(t)     (1u << (t))
#define TM_NUM    (TM(EXPR_INT) | TM(EXPR_DOUBLE))
#define TM_SCALAR (TM(EXPR_BOOL) | TM_NUM | TM(EXPR_STRING) | TM(EXPR_TIMESTAMP) | TM(EXPR_UUID))

typedef enum nkind {
	N_LIT,
	N_PATH,
	N_NEG,
	N_NOT,
	N_AND,
	N_OR,
	N_BIN,
	N_ISNULL,
	N_IN,
	N_BETWEEN,
	N_CALL,
	N_CASE,
} nkind;

enum binop {
	OP_ADD,
	OP_SUB,
	OP_MUL,
	OP_DIV,
	OP_MOD,
	OP_CAT,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE
};
static const char *const op_names[] = {"+", "-",  "*", "/",  "%", "||",
                                       "=", "!=", "<", "<=", ">", ">="};

typedef struct node node;
typedef struct fn_def fn_def;

struct node {
	nkind kind;
	int op;        /* N_BIN: enum binop */
	bool negated;  /* N_ISNULL, N_IN, N_BETWEEN: the `not` form */
	bool has_else; /* N_CASE */
	bool has_lit;  /* N_CALL: lit holds a value precomputed from a literal argument */
	expr_type type;
	bool nullable;
	unsigned height;
	size_t off, len;  /* source span */
	expr_value lit;   /* N_LIT */
	const char *path; /* N_PATH: the segments joined with '.' (for messages) */
	const char **segs;
	size_t *seglens;
	size_t nsegs;
	node **args; /* operands; N_CASE: when, then, ..., [else] */
	size_t nargs;
	const fn_def *fn; /* N_CALL */
};

struct expr {
	brook_arena arena; /* the nodes, the text copy, literals */
	const char *text;
	node *root;
};

/* ---- lexer --------------------------------------------------------------------------- */

typedef enum tkind {
	T_EOF,
	T_IDENT,
	T_QIDENT,
	T_STR,
	T_INT,
	T_DBL,
	T_LP,
	T_RP,
	T_COMMA,
	T_DOT,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_SLASH,
	T_PCT,
	T_CAT,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
} tkind;

typedef struct token {
	tkind k;
	size_t off, len; /* in the text */
	const char *s;   /* T_IDENT: in the text; T_QIDENT, T_STR: unquoted copy (NUL-terminated) */
	size_t n;
	uint64_t u; /* T_INT */
	bool big;   /* T_INT above 2^63 */
	double d;   /* T_DBL */
} token;

typedef struct parser {
	const char *text;
	size_t len, pos;
	token tok;
	size_t prev_end; /* end of the last token consumed */
	brook_arena *a;
	expr_resolve_fn resolve;
	void *arg;
	char *err;
	size_t errlen;
	int depth;
	bool failed;
} parser;

static void *perr(parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *perr(parser *p, size_t off, const char *fmt, ...)
{
	if (!p->failed) {
		p->failed = true;
		int k = snprintf(p->err, p->errlen, "column %zu: ", off + 1);
		if (k >= 0 && (size_t)k < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return NULL;
}

static bool is_id0(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_id(int c)
{
	return is_id0(c) || is_digit(c);
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A quoted token ('string' or `name`) with the quote doubled inside; copies it out. */
static int lex_quoted(parser *p, size_t i, char q)
{
	const char *s = p->text;
	size_t j = i + 1, n = 0;
	char *out;

	for (;;) {
		if (j >= p->len) {
			perr(p, i, q == '\'' ? "unterminated string" : "unterminated `name`");
			return BROOK_ERR;
		}
		if (s[j] == q) {
			if (j + 1 < p->len && s[j + 1] == q) {
				j += 2;
				n++;
				continue;
			}
			break;
		}
		j++;
		n++;
	}
	out = brook_arena_alloc(p->a, n + 1);
	n = 0;
	for (size_t k = i + 1; k < j; k++) {
		out[n++] = s[k];
		if (s[k] == q)
			k++;
	}
	out[n] = '\0';
	if (q == '`' && n == 0) {
		perr(p, i, "empty `name`");
		return BROOK_ERR;
	}
	p->tok.k = q == '\'' ? T_STR : T_QIDENT;
	p->tok.s = out;
	p->tok.n = n;
	p->tok.len = j + 1 - i;
	p->pos = j + 1;
	return BROOK_OK;
}

static int lex_number(parser *p, size_t i)
{
	const char *s = p->text;
	size_t j = i, n = p->len;
	bool dbl = false;

	while (j < n && is_digit(s[j]))
		j++;
	if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
		dbl = true;
		j++;
		while (j < n && is_digit(s[j]))
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t k = j + 1;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k < n && is_digit(s[k])) {
			dbl = true;
			j = k;
			while (j < n && is_digit(s[j]))
				j++;
		}
	}
	if (j < n && (is_id(s[j]) || s[j] == '`')) {
		perr(p, i, "malformed number '%.*s'", (int)(j + 1 - i > 20 ? 20 : j + 1 - i),
		     s + i);
		return BROOK_ERR;
	}
	p->tok.len = j - i;
	p->pos = j;
	if (dbl) {
		char *tmp = brook_strndup(s + i, j - i);
		p->tok.k = T_DBL;
		p->tok.d = strtod(tmp, NULL);
		free(tmp);
		if (!isfinite(p->tok.d)) {
			perr(p, i, "number out of range");
			return BROOK_ERR;
		}
		return BROOK_OK;
	}
	p->tok.k = T_INT;
	const uint64_t lim = UINT64_C(1) << 63;
	uint64_t v = 0;
	for (size_t k = i; k < j; k++) {
		uint64_t d = (uint64_t)(s[k] - '0');
		if (v > (lim - d) / 10) {
			p->tok.big = true;
			break;
		}
		v = v * 10 + d;
	}
	p->tok.u = v;
	return BROOK_OK;
}

static int lex(parser *p)
{
	const char *s = p->text;
	size_t i = p->pos, n = p->len;
	token *t = &p->tok;

	while (i < n && is_space(s[i]))
		i++;
	memset(t, 0, sizeof *t);
	t->off = i;
	t->len = 1;
	if (i >= n) {
		t->k = T_EOF;
		t->len = 0;
		p->pos = i;
		return BROOK_OK;
	}
	unsigned char c = (unsigned char)s[i];
	unsigned char c2 = i + 1 < n ? (unsigned char)s[i + 1] : 0;
	if (is_id0(c)) {
		size_t j = i + 1;
		while (j < n && is_id(s[j]))
			j++;
		t->k = T_IDENT;
		t->s = s + i;
		t->n = t->len = j - i;
		p->pos = j;
		return BROOK_OK;
	}
	if (c == '\'' || c == '`')
		return lex_quoted(p, i, (char)c);
	if (is_digit(c) || (c == '.' && is_digit(c2)))
		return lex_number(p, i);
	switch (c) {
	case '(':
		t->k = T_LP;
		break;
	case ')':
		t->k = T_RP;
		break;
	case ',':
		t->k = T_COMMA;
		break;
	case '.':
		t->k = T_DOT;
		break;
	case '+':
		t->k = T_PLUS;
		break;
	case '-':
		t->k = T_MINUS;
		break;
	case '*':
		t->k = T_STAR;
		break;
	case '/':
		t->k = T_SLASH;
		break;
	case '%':
		t->k = T_PCT;
		break;
	case '|':
		if (c2 != '|') {
			perr(p, i, "unexpected '|' (did you mean '||'?)");
			return BROOK_ERR;
		}
		t->k = T_CAT;
		t->len = 2;
		break;
	case '=':
		t->k = T_EQ;
		t->len = c2 == '=' ? 2 : 1;
		break;
	case '!':
		if (c2 != '=') {
			perr(p, i, "unexpected '!' (did you mean '!=' or 'not'?)");
			return BROOK_ERR;
		}
		t->k = T_NE;
		t->len = 2;
		break;
	case '<':
		t->k = c2 == '=' ? T_LE : c2 == '>' ? T_NE : T_LT;
		t->len = c2 == '=' || c2 == '>' ? 2 : 1;
		break;
	case '>':
		t->k = c2 == '=' ? T_GE : T_GT;
		t->len = c2 == '=' ? 2 : 1;
		break;
	default:
		if (c >= 0x20 && c < 0x7f)
			perr(p, i, "unexpected character '%c'", c);
		else
			perr(p, i, "unexpected byte 0x%02x", c);
		return BROOK_ERR;
	}
	p->pos = i + t->len;
	return BROOK_OK;
}

static int advance(parser *p)
{
	p->prev_end = p->tok.off + p->tok.len;
	return lex(p);
}

static bool kw(const parser *p, const char *w)
{
	size_t n = strlen(w);
	return p->tok.k == T_IDENT && p->tok.n == n && strncasecmp(p->tok.s, w, n) == 0;
}

static bool reserved(const parser *p)
{
	static const char *const words[] = {"and",  "or",      "not",  "is",    "null",
	                                    "in",   "between", "true", "false", "case",
	                                    "when", "then",    "else", "end"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (kw(p, words[i]))
			return true;
	return false;
}

/* "'foo'" or "end of expression", for syntax errors. */
static const char *tok_desc(const parser *p, char *buf, size_t n)
{
	if (p->tok.k == T_EOF)
		return "end of expression";
	size_t len = p->tok.len > 24 ? 24 : p->tok.len;
	snprintf(buf, n, "'%.*s'", (int)len, p->text + p->tok.off);
	return buf;
}

static void *unexpected(parser *p, const char *wanted)
{
	char buf[40];
	return perr(p, p->tok.off, "expected %s, got %s", wanted, tok_desc(p, buf, sizeof buf));
}

static bool expect(parser *p, tkind k, const char *wanted)
{
	if (p->tok.k != k) {
		unexpected(p, wanted);
		return false;
	}
	return advance(p) == BROOK_OK;
}

/* ---- types --------------------------------------------------------------------------- */

const char *expr_type_name(expr_type t)
{
	switch (t) {
	case EXPR_NULL:
		return "null";
	case EXPR_BOOL:
		return "boolean";
	case EXPR_INT:
		return "int";
	case EXPR_DOUBLE:
		return "double";
	case EXPR_STRING:
		return "string";
	case EXPR_TIMESTAMP:
		return "timestamp";
	case EXPR_UUID:
		return "uuid";
	case EXPR_ANY:
		return "any";
	}
	return "?";
}

static bool is_num(expr_type t)
{
	return t == EXPR_INT || t == EXPR_DOUBLE;
}

static bool is_open(expr_type t) /* decided at run time */
{
	return t == EXPR_ANY || t == EXPR_NULL;
}

/* The type of a op b for concrete a and b, or -1 when they do not go together. */
static int arith_type(int op, expr_type a, expr_type b)
{
	if (is_num(a) && is_num(b))
		return a == EXPR_INT && b == EXPR_INT ? EXPR_INT : EXPR_DOUBLE;
	if (op == OP_ADD &&
	    ((a == EXPR_TIMESTAMP && b == EXPR_INT) || (a == EXPR_INT && b == EXPR_TIMESTAMP)))
		return EXPR_TIMESTAMP;
	if (op == OP_SUB && a == EXPR_TIMESTAMP && b == EXPR_INT)
		return EXPR_TIMESTAMP;
	if (op == OP_SUB && a == EXPR_TIMESTAMP && b == EXPR_TIMESTAMP)
		return EXPR_INT;
	return -1;
}

/* Static type of a op b where either may be open: -1 if no run-time types could work. */
static int arith_static(int op, expr_type a, expr_type b)
{
	if (!is_open(a) && !is_open(b))
		return arith_type(op, a, b);
	bool ok = false;
	for (expr_type x = EXPR_BOOL; x <= EXPR_UUID && !ok; x++)
		for (expr_type y = EXPR_BOOL; y <= EXPR_UUID && !ok; y++)
			ok = (is_open(a) || a == x) && (is_open(b) || b == y) &&
			     arith_type(op, x, y) >= 0;
	if (!ok)
		return -1;
	return a == EXPR_NULL || b == EXPR_NULL ? EXPR_NULL : EXPR_ANY;
}

static bool cmp_types_ok(expr_type a, expr_type b, bool ordering)
{
	if (is_open(a) || is_open(b))
		return true;
	if (is_num(a) && is_num(b))
		return true;
	return a == b && (a != EXPR_BOOL || !ordering);
}

/* The common type of two branches; false when there is none. */
static bool unify(expr_type a, expr_type b, expr_type *out)
{
	if (a == EXPR_NULL) {
		*out = b;
		return true;
	}
	if (b == EXPR_NULL || a == b) {
		*out = a;
		return true;
	}
	if (a == EXPR_ANY || b == EXPR_ANY) {
		*out = EXPR_ANY;
		return true;
	}
	if (is_num(a) && is_num(b)) {
		*out = EXPR_DOUBLE;
		return true;
	}
	return false;
}

static bool cast_ok(expr_type from, expr_type to)
{
	if (is_open(from) || from == to || to == EXPR_STRING)
		return true;
	switch (to) {
	case EXPR_INT:
	case EXPR_DOUBLE:
		return from == EXPR_BOOL || is_num(from) || from == EXPR_STRING ||
		       from == EXPR_TIMESTAMP;
	case EXPR_BOOL:
		return is_num(from) || from == EXPR_STRING;
	case EXPR_TIMESTAMP:
		return is_num(from) || from == EXPR_STRING;
	case EXPR_UUID:
		return from == EXPR_STRING;
	default:
		return false;
	}
}

/* ---- nodes --------------------------------------------------------------------------- */

static node *mk(parser *p, nkind k, size_t off)
{
	node *n = brook_arena_calloc(p->a, sizeof *n);
	n->kind = k;
	n->off = off;
	n->len = p->prev_end > off ? p->prev_end - off : 0;
	n->height = 1;
	return n;
}

/* Sets args, the span end and the height; NULL when the tree gets too high. */
static node *set_args(parser *p, node *n, node **args, size_t nargs)
{
	n->args = args;
	n->nargs = nargs;
	n->len = p->prev_end > n->off ? p->prev_end - n->off : 0;
	for (size_t i = 0; i < nargs; i++)
		if (args[i]->height + 1 > n->height)
			n->height = args[i]->height + 1;
	if (n->height > EXPR_MAX_HEIGHT)
		return perr(p, n->off, "expression too complex (more than %d nested operations)",
		            EXPR_MAX_HEIGHT);
	return n;
}

static node *mk2(parser *p, nkind k, node *l, node *r)
{
	node **args = brook_arena_alloc(p->a, 2 * sizeof *args);
	args[0] = l;
	args[1] = r;
	return set_args(p, mk(p, k, l->off), args, 2);
}

typedef struct nodevec {
	node **v;
	size_t n, cap;
} nodevec;

static void push(parser *p, nodevec *nv, node *x)
{
	if (nv->n == nv->cap) {
		size_t cap = nv->cap ? nv->cap * 2 : 4;
		node **v = brook_arena_alloc(p->a, cap * sizeof *v);
		if (nv->n)
			memcpy(v, nv->v, nv->n * sizeof *v);
		nv->v = v;
		nv->cap = cap;
	}
	nv->v[nv->n++] = x;
}

static bool want_bool(parser *p, const node *x, const char *what)
{
	if (x->type == EXPR_BOOL || is_open(x->type))
		return true;
	perr(p, x->off, "%s needs a boolean, got %s", what, expr_type_name(x->type));
	return false;
}

/* ---- functions: table and type checks ------------------------------------------------ */

typedef struct evctx {
	const brook_jnode *rec;
	brook_arena *a;
	char *err;
	size_t errlen;
	const char *text;
	size_t start_total; /* a->total when the evaluation began */
} evctx;

typedef int (*fn_check)(parser *p, node *n);
typedef int (*fn_eval)(const node *n, evctx *c, expr_value *av, expr_value *out);

enum {
	F_STRICT = 1, /* a null argument makes the result null without calling eval */
	F_LAZY = 2,   /* eval gets av == NULL and evaluates n->args itself */
};

struct fn_def {
	const char *name;
	int min, max;
	unsigned flags;
	fn_check check;
	fn_eval eval;
	expr_type ret;    /* for check_simple; the target of casts */
	const char *argk; /* check_simple: one letter per argument, see check_simple */
};

static bool any_nullable(const node *n)
{
	for (size_t i = 0; i < n->nargs; i++)
		if (n->args[i]->nullable)
			return true;
	return false;
}

/* Argument kinds: S string (anything with a text form is accepted from ANY at run time),
 * N number, I int, T timestamp, X any scalar, U uuid or string. */
static int check_simple(parser *p, node *n)
{
	for (size_t i = 0; i < n->nargs; i++) {
		char k = n->fn->argk[i < strlen(n->fn->argk) ? i : strlen(n->fn->argk) - 1];
		unsigned mask = k == 'S'   ? TM(EXPR_STRING)
		                : k == 'N' ? TM_NUM
		                : k == 'I' ? TM(EXPR_INT)
		                : k == 'T' ? TM(EXPR_TIMESTAMP)
		                : k == 'U' ? TM(EXPR_UUID) | TM(EXPR_STRING)
		                           : TM_SCALAR;
		const char *what = k == 'S'   ? "a string"
		                   : k == 'N' ? "a number"
		                   : k == 'I' ? "an int"
		                   : k == 'T' ? "a timestamp"
		                   : k == 'U' ? "a uuid or a string"
		                              : "a scalar";
		expr_type t = n->args[i]->type;
		if (!is_open(t) && !(mask & TM(t))) {
			perr(p, n->args[i]->off, "%s(): argument %zu must be %s, got %s",
			     n->fn->name, i + 1, what, expr_type_name(t));
			return BROOK_ERR;
		}
	}
	n->type = n->fn->ret;
	n->nullable = any_nullable(n);
	return BROOK_OK;
}

/* abs, floor, ceil, round: the type of the first argument (ANY stays ANY). */
static int check_numeric(parser *p, node *n)
{
	if (check_simple(p, n))
		return BROOK_ERR;
	n->type = n->args[0]->type == EXPR_NULL ? EXPR_DOUBLE : n->args[0]->type;
	return BROOK_OK;
}

static int check_concat(parser *p, node *n)
{
	(void)p;
	n->type = EXPR_STRING;
	n->nullable = false;
	return BROOK_OK;
}

static int check_cast(parser *p, node *n)
{
	const node *x = n->args[0];
	if (!cast_ok(x->type, n->fn->ret)) {
		perr(p, x->off, "%s(): cannot convert %s to %s", n->fn->name,
		     expr_type_name(x->type), expr_type_name(n->fn->ret));
		return BROOK_ERR;
	}
	n->type = n->fn->ret;
	n->nullable = x->nullable;
	return BROOK_OK;
}

/* coalesce, greatest, least, if (from argument `from`): the common type. */
static int check_branches(parser *p, node *n, size_t from, bool ordered)
{
	expr_type t = EXPR_NULL;
	for (size_t i = from; i < n->nargs; i++) {
		expr_type u = n->args[i]->type;
		if (ordered && u == EXPR_BOOL) {
			perr(p, n->args[i]->off,
			     "%s(): argument %zu is boolean, which has no order", n->fn->name,
			     i + 1);
			return BROOK_ERR;
		}
		if (!unify(t, u, &t)) {
			perr(p, n->args[i]->off,
			     "%s(): argument %zu is %s, which does not match %s", n->fn->name,
			     i + 1, expr_type_name(u), expr_type_name(t));
			return BROOK_ERR;
		}
	}
	n->type = t;
	return BROOK_OK;
}

static bool all_nullable(const node *n, size_t from)
{
	for (size_t i = from; i < n->nargs; i++)
		if (!n->args[i]->nullable)
			return false;
	return true;
}

static int check_coalesce(parser *p, node *n)
{
	if (check_branches(p, n, 0, false))
		return BROOK_ERR;
	n->nullable = all_nullable(n, 0);
	return BROOK_OK;
}

static int check_minmax(parser *p, node *n)
{
	if (check_branches(p, n, 0, true))
		return BROOK_ERR;
	n->nullable = all_nullable(n, 0);
	return BROOK_OK;
}

static int check_if(parser *p, node *n)
{
	if (!want_bool(p, n->args[0], "if()"))
		return BROOK_ERR;
	if (check_branches(p, n, 1, false))
		return BROOK_ERR;
	n->nullable = n->args[1]->nullable || n->args[2]->nullable;
	return BROOK_OK;
}

static int ns_from_text(const char *s, size_t n, brook_uuid *out)
{
	static const struct {
		const char *name;
		const brook_uuid *ns;
	} names[] = {{"dns", &brook_uuid_ns_dns},
	             {"url", &brook_uuid_ns_url},
	             {"oid", &brook_uuid_ns_oid},
	             {"x500", &brook_uuid_ns_x500}};
	for (size_t i = 0; i < 4; i++)
		if (n == strlen(names[i].name) && strncasecmp(s, names[i].name, n) == 0) {
			*out = *names[i].ns;
			return BROOK_OK;
		}
	return brook_uuid_parse(s, n, out);
}

static int check_uuid5(parser *p, node *n)
{
	if (check_simple(p, n))
		return BROOK_ERR;
	const node *ns = n->args[0];
	if (ns->kind == N_LIT && ns->type == EXPR_STRING) {
		brook_uuid u;
		if (ns_from_text(ns->lit.u.s.p, ns->lit.u.s.n, &u)) {
			perr(
			    p, ns->off,
			    "uuid5(): unknown namespace '%.*s' (use 'dns', 'url', 'oid', 'x500' or "
			    "a uuid)",
			    (int)(ns->lit.u.s.n > QUOTE_MAX ? QUOTE_MAX : ns->lit.u.s.n),
			    ns->lit.u.s.p);
			return BROOK_ERR;
		}
		n->has_lit = true;
		n->lit.type = EXPR_UUID;
		memcpy(n->lit.u.uuid, u.b, 16);
	}
	return BROOK_OK;
}

static int fmt_check(const char *f, size_t n, bool parse, char *bad);

static int check_tsfmt(parser *p, node *n)
{
	if (check_simple(p, n))
		return BROOK_ERR;
	bool parse = n->fn->ret == EXPR_TIMESTAMP;
	if (n->nargs > 1 && n->args[1]->kind == N_LIT && n->args[1]->type == EXPR_STRING) {
		char bad;
		if (fmt_check(n->args[1]->lit.u.s.p, n->args[1]->lit.u.s.n, parse, &bad)) {
			perr(p, n->args[1]->off,
			     "%s(): unsupported conversion '%%%c' in the format", n->fn->name, bad);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

static int check_now(parser *p, node *n)
{
	(void)p;
	n->type = EXPR_TIMESTAMP;
	n->nullable = false;
	return BROOK_OK;
}

/* The eval functions, defined with the evaluator below. */
static int fn_concat(const node *, evctx *, expr_value *, expr_value *);
static int fn_coalesce(const node *, evctx *, expr_value *, expr_value *);
static int fn_case_map(const node *, evctx *, expr_value *, expr_value *);
static int fn_trim(const node *, evctx *, expr_value *, expr_value *);
static int fn_length(const node *, evctx *, expr_value *, expr_value *);
static int fn_substring(const node *, evctx *, expr_value *, expr_value *);
static int fn_replace(const node *, evctx *, expr_value *, expr_value *);
static int fn_split_part(const node *, evctx *, expr_value *, expr_value *);
static int fn_cast(const node *, evctx *, expr_value *, expr_value *);
static int fn_parse_ts(const node *, evctx *, expr_value *, expr_value *);
static int fn_format_ts(const node *, evctx *, expr_value *, expr_value *);
static int fn_now(const node *, evctx *, expr_value *, expr_value *);
static int fn_uuid5(const node *, evctx *, expr_value *, expr_value *);
static int fn_digest(const node *, evctx *, expr_value *, expr_value *);
static int fn_if(const node *, evctx *, expr_value *, expr_value *);
static int fn_abs(const node *, evctx *, expr_value *, expr_value *);
static int fn_round(const node *, evctx *, expr_value *, expr_value *);
static int fn_minmax(const node *, evctx *, expr_value *, expr_value *);

static const fn_def fns[] = {
    {"concat", 1, EXPR_MAX_ARGS, 0, check_concat, fn_concat, EXPR_STRING, "X"},
    {"coalesce", 1, EXPR_MAX_ARGS, F_LAZY, check_coalesce, fn_coalesce, EXPR_NULL, "X"},
    {"lower", 1, 1, F_STRICT, check_simple, fn_case_map, EXPR_STRING, "S"},
    {"upper", 1, 1, F_STRICT, check_simple, fn_case_map, EXPR_STRING, "S"},
    {"trim", 1, 1, F_STRICT, check_simple, fn_trim, EXPR_STRING, "S"},
    {"ltrim", 1, 1, F_STRICT, check_simple, fn_trim, EXPR_STRING, "S"},
    {"rtrim", 1, 1, F_STRICT, check_simple, fn_trim, EXPR_STRING, "S"},
    {"length", 1, 1, F_STRICT, check_simple, fn_length, EXPR_INT, "S"},
    {"substring", 2, 3, F_STRICT, check_simple, fn_substring, EXPR_STRING, "SII"},
    {"replace", 3, 3, F_STRICT, check_simple, fn_replace, EXPR_STRING, "SSS"},
    {"split_part", 3, 3, F_STRICT, check_simple, fn_split_part, EXPR_STRING, "SSI"},
    {"string", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_STRING, "X"},
    {"int", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_INT, "X"},
    {"bigint", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_INT, "X"},
    {"double", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_DOUBLE, "X"},
    {"boolean", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_BOOL, "X"},
    {"timestamp", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_TIMESTAMP, "X"},
    {"uuid", 1, 1, F_STRICT, check_cast, fn_cast, EXPR_UUID, "X"},
    {"parse_timestamp", 2, 2, F_STRICT, check_tsfmt, fn_parse_ts, EXPR_TIMESTAMP, "SS"},
    {"format_timestamp", 1, 2, F_STRICT, check_tsfmt, fn_format_ts, EXPR_STRING, "TS"},
    {"now", 0, 0, 0, check_now, fn_now, EXPR_TIMESTAMP, ""},
    {"uuid5", 2, 2, F_STRICT, check_uuid5, fn_uuid5, EXPR_UUID, "UX"},
    {"sha256", 1, 1, F_STRICT, check_simple, fn_digest, EXPR_STRING, "X"},
    {"md5", 1, 1, F_STRICT, check_simple, fn_digest, EXPR_STRING, "X"},
    {"if", 3, 3, F_LAZY, check_if, fn_if, EXPR_NULL, "X"},
    {"abs", 1, 1, F_STRICT, check_numeric, fn_abs, EXPR_NULL, "N"},
    {"floor", 1, 1, F_STRICT, check_numeric, fn_round, EXPR_NULL, "N"},
    {"ceil", 1, 1, F_STRICT, check_numeric, fn_round, EXPR_NULL, "N"},
    {"round", 1, 2, F_STRICT, check_numeric, fn_round, EXPR_NULL, "NI"},
    {"greatest", 1, EXPR_MAX_ARGS, 0, check_minmax, fn_minmax, EXPR_NULL, "X"},
    {"least", 1, EXPR_MAX_ARGS, 0, check_minmax, fn_minmax, EXPR_NULL, "X"},
};

#define NFNS (sizeof fns / sizeof fns[0])

static const fn_def *fn_find(const char *name, size_t n)
{
	for (size_t i = 0; i < NFNS; i++)
		if (strlen(fns[i].name) == n && strncasecmp(fns[i].name, name, n) == 0)
			return &fns[i];
	return NULL;
}

static const char *fn_suggest(const char *name, size_t n)
{
	char low[65];
	const char *best = NULL;
	size_t bestd = (size_t)-1;

	if (n > 64)
		return NULL;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	low[n] = '\0';
	for (size_t i = 0; i < NFNS; i++) {
		size_t d = brook_edit_distance(low, fns[i].name);
		if (d < bestd) {
			bestd = d;
			best = fns[i].name;
		}
	}
	return bestd <= 2 && bestd < n ? best : NULL;
}

/* ---- parser -------------------------------------------------------------------------- */

static node *parse_or(parser *p);
static node *parse_cat(parser *p);

static bool enter(parser *p)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		perr(p, p->tok.off, "expression nested deeper than %d levels", EXPR_MAX_DEPTH);
		return false;
	}
	return true;
}

static node *parse_path(parser *p)
{
	const char *segs[MAX_SEGS];
	size_t nsegs = 0, off = p->tok.off, total = 0;

	for (;;) {
		if (p->tok.k != T_IDENT && p->tok.k != T_QIDENT)
			return unexpected(p, "a field name");
		if (nsegs == MAX_SEGS)
			return perr(p, p->tok.off, "path longer than %d segments", MAX_SEGS);
		segs[nsegs++] =
		    p->tok.k == T_IDENT ? brook_arena_strndup(p->a, p->tok.s, p->tok.n) : p->tok.s;
		total += p->tok.n + 1;
		if (advance(p))
			return NULL;
		if (p->tok.k != T_DOT)
			break;
		if (advance(p))
			return NULL;
	}
	node *n = mk(p, N_PATH, off);
	char *path = brook_arena_alloc(p->a, total);
	size_t k = 0;
	for (size_t i = 0; i < nsegs; i++) {
		size_t l = strlen(segs[i]);
		if (i)
			path[k++] = '.';
		memcpy(path + k, segs[i], l);
		k += l;
	}
	path[k] = '\0';
	n->path = path;
	n->segs = brook_arena_alloc(p->a, nsegs * sizeof *n->segs);
	memcpy(n->segs, segs, nsegs * sizeof *segs);
	n->nsegs = nsegs;
	n->seglens = brook_arena_alloc(p->a, nsegs * sizeof *n->seglens);
	for (size_t i = 0; i < nsegs; i++)
		n->seglens[i] = strlen(segs[i]);

	char rerr[256];
	expr_type t = EXPR_ANY;
	bool nullable = true;
	rerr[0] = '\0';
	if (p->resolve(p->arg, path, &t, &nullable, rerr, sizeof rerr) != BROOK_OK)
		return perr(p, off, "%s", rerr[0] ? rerr : "unknown field");
	if ((int)t < EXPR_NULL || t > EXPR_ANY)
		return perr(p, off, "%s: the resolver gave an invalid type", path);
	n->type = t;
	n->nullable = nullable || t == EXPR_NULL;
	return n;
}

static node *parse_call(parser *p)
{
	size_t off = p->tok.off;
	const char *name = p->tok.s;
	size_t nlen = p->tok.n;
	const fn_def *f = fn_find(name, nlen);
	nodevec args = {0};

	if (!f) {
		const char *hint = fn_suggest(name, nlen);
		int shown = (int)(nlen > 40 ? 40 : nlen);
		if (hint)
			return perr(p, off, "unknown function '%.*s' (did you mean '%s'?)", shown,
			            name, hint);
		return perr(p, off, "unknown function '%.*s'", shown, name);
	}
	if (advance(p) || advance(p)) /* the name and '(' */
		return NULL;
	if (p->tok.k != T_RP) {
		for (;;) {
			if (args.n == EXPR_MAX_ARGS)
				return perr(p, p->tok.off, "%s(): more than %d arguments", f->name,
				            EXPR_MAX_ARGS);
			node *a = parse_or(p);
			if (!a)
				return NULL;
			push(p, &args, a);
			if (p->tok.k != T_COMMA)
				break;
			if (advance(p))
				return NULL;
		}
	}
	if (!expect(p, T_RP, "',' or ')'"))
		return NULL;
	if ((int)args.n < f->min || (int)args.n > f->max) {
		if (f->min == f->max)
			return perr(p, off, "%s() takes %d argument%s, got %zu", f->name, f->min,
			            f->min == 1 ? "" : "s", args.n);
		if (f->max == EXPR_MAX_ARGS)
			return perr(p, off, "%s() takes at least %d argument%s, got %zu", f->name,
			            f->min, f->min == 1 ? "" : "s", args.n);
		return perr(p, off, "%s() takes %d to %d arguments, got %zu", f->name, f->min,
		            f->max, args.n);
	}
	node *n = mk(p, N_CALL, off);
	n->fn = f;
	if (!set_args(p, n, args.v, args.n))
		return NULL;
	if (f->check(p, n))
		return NULL;
	return n;
}

static node *parse_case(parser *p)
{
	size_t off = p->tok.off;
	nodevec args = {0};
	bool has_else = false;
	expr_type t = EXPR_NULL;

	if (advance(p))
		return NULL;
	if (!kw(p, "when"))
		return unexpected(p, "'when'");
	while (kw(p, "when")) {
		if (args.n >= 2 * EXPR_MAX_ARGS)
			return perr(p, p->tok.off, "case with more than %d branches",
			            EXPR_MAX_ARGS);
		if (advance(p))
			return NULL;
		node *c = parse_or(p);
		if (!c || !want_bool(p, c, "when"))
			return NULL;
		if (!kw(p, "then"))
			return unexpected(p, "'then'");
		if (advance(p))
			return NULL;
		node *v = parse_or(p);
		if (!v)
			return NULL;
		if (!unify(t, v->type, &t))
			return perr(p, v->off, "case branch is %s, which does not match %s",
			            expr_type_name(v->type), expr_type_name(t));
		push(p, &args, c);
		push(p, &args, v);
	}
	if (kw(p, "else")) {
		if (advance(p))
			return NULL;
		node *v = parse_or(p);
		if (!v)
			return NULL;
		if (!unify(t, v->type, &t))
			return perr(p, v->off, "case branch is %s, which does not match %s",
			            expr_type_name(v->type), expr_type_name(t));
		push(p, &args, v);
		has_else = true;
	}
	if (!kw(p, "end"))
		return unexpected(p, "'when', 'else' or 'end'");
	if (advance(p))
		return NULL;
	node *n = mk(p, N_CASE, off);
	n->has_else = has_else;
	n->type = t;
	n->nullable = !has_else;
	for (size_t i = 1; i < args.n; i += 2)
		n->nullable |= args.v[i]->nullable;
	if (has_else)
		n->nullable |= args.v[args.n - 1]->nullable;
	return set_args(p, n, args.v, args.n);
}

static node *mk_lit(parser *p, size_t off, expr_type t)
{
	node *n = mk(p, N_LIT, off);
	n->type = t;
	n->lit.type = t;
	n->nullable = t == EXPR_NULL;
	return n;
}

static node *parse_primary(parser *p)
{
	size_t off = p->tok.off;
	node *n;

	switch (p->tok.k) {
	case T_INT:
		if (p->tok.big || p->tok.u > INT64_MAX)
			return perr(p, off, "integer literal out of range");
		{
			int64_t v = (int64_t)p->tok.u;
			if (advance(p))
				return NULL;
			n = mk_lit(p, off, EXPR_INT);
			n->lit.u.i = v;
			return n;
		}
	case T_DBL: {
		double d = p->tok.d;
		if (advance(p))
			return NULL;
		n = mk_lit(p, off, EXPR_DOUBLE);
		n->lit.u.d = d;
		return n;
	}
	case T_STR: {
		const char *s = p->tok.s;
		size_t len = p->tok.n;
		if (advance(p))
			return NULL;
		n = mk_lit(p, off, EXPR_STRING);
		n->lit.u.s.p = s;
		n->lit.u.s.n = len;
		return n;
	}
	case T_LP:
		if (advance(p))
			return NULL;
		n = parse_or(p);
		if (!n || !expect(p, T_RP, "')'"))
			return NULL;
		return n;
	case T_IDENT:
		if (kw(p, "true") || kw(p, "false")) {
			bool b = kw(p, "true");
			if (advance(p))
				return NULL;
			n = mk_lit(p, off, EXPR_BOOL);
			n->lit.u.b = b;
			return n;
		}
		if (kw(p, "null")) {
			if (advance(p))
				return NULL;
			return mk_lit(p, off, EXPR_NULL);
		}
		if (kw(p, "case"))
			return parse_case(p);
		if (reserved(p)) {
			char buf[40];
			return perr(p, off, "expected an expression, got keyword %s",
			            tok_desc(p, buf, sizeof buf));
		}
		if (p->pos < p->len) {
			/* a call when '(' follows (after optional blanks) */
			size_t j = p->pos;
			while (j < p->len && is_space(p->text[j]))
				j++;
			if (j < p->len && p->text[j] == '(')
				return parse_call(p);
		}
		return parse_path(p);
	case T_QIDENT:
		return parse_path(p);
	default:
		return unexpected(p, "an expression");
	}
}

static node *parse_unary(parser *p)
{
	if (p->tok.k != T_MINUS)
		return parse_primary(p);
	size_t off = p->tok.off;
	if (advance(p))
		return NULL;
	if (p->tok.k == T_INT) { /* fold: -9223372036854775808 is a valid literal */
		uint64_t u = p->tok.u;
		if (p->tok.big)
			return perr(p, p->tok.off, "integer literal out of range");
		if (advance(p))
			return NULL;
		node *n = mk_lit(p, off, EXPR_INT);
		n->lit.u.i = u == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)u;
		return n;
	}
	if (!enter(p))
		return NULL;
	node *x = parse_unary(p);
	if (!x)
		return NULL;
	p->depth--;
	if (!is_num(x->type) && !is_open(x->type))
		return perr(p, off, "unary '-' needs a number, got %s", expr_type_name(x->type));
	node **args = brook_arena_alloc(p->a, sizeof *args);
	args[0] = x;
	node *n = mk(p, N_NEG, off);
	n->type = x->type;
	n->nullable = x->nullable;
	return set_args(p, n, args, 1);
}

static node *mk_binop(parser *p, int op, size_t opoff, node *l, node *r)
{
	node *n = mk2(p, N_BIN, l, r);
	if (!n)
		return NULL;
	n->op = op;
	n->nullable = l->nullable || r->nullable;
	if (op == OP_CAT) {
		n->type = EXPR_STRING;
	} else if (op >= OP_EQ) {
		if (!cmp_types_ok(l->type, r->type, op != OP_EQ && op != OP_NE))
			return perr(p, opoff, "cannot compare %s with %s using '%s'",
			            expr_type_name(l->type), expr_type_name(r->type), op_names[op]);
		n->type = EXPR_BOOL;
	} else {
		int t = arith_static(op, l->type, r->type);
		if (t < 0)
			return perr(p, opoff, "operator '%s' cannot take %s and %s", op_names[op],
			            expr_type_name(l->type), expr_type_name(r->type));
		n->type = (expr_type)t;
	}
	return n;
}

static node *parse_mul(parser *p)
{
	node *l = parse_unary(p);
	while (l && (p->tok.k == T_STAR || p->tok.k == T_SLASH || p->tok.k == T_PCT)) {
		int op = p->tok.k == T_STAR ? OP_MUL : p->tok.k == T_SLASH ? OP_DIV : OP_MOD;
		size_t opoff = p->tok.off;
		if (advance(p))
			return NULL;
		node *r = parse_unary(p);
		if (!r)
			return NULL;
		l = mk_binop(p, op, opoff, l, r);
	}
	return l;
}

static node *parse_add(parser *p)
{
	node *l = parse_mul(p);
	while (l && (p->tok.k == T_PLUS || p->tok.k == T_MINUS)) {
		int op = p->tok.k == T_PLUS ? OP_ADD : OP_SUB;
		size_t opoff = p->tok.off;
		if (advance(p))
			return NULL;
		node *r = parse_mul(p);
		if (!r)
			return NULL;
		l = mk_binop(p, op, opoff, l, r);
	}
	return l;
}

static node *parse_cat(parser *p)
{
	node *l = parse_add(p);
	while (l && p->tok.k == T_CAT) {
		size_t opoff = p->tok.off;
		if (advance(p))
			return NULL;
		node *r = parse_add(p);
		if (!r)
			return NULL;
		l = mk_binop(p, OP_CAT, opoff, l, r);
	}
	return l;
}

static node *parse_cmp(parser *p)
{
	node *l = parse_cat(p);
	if (!l)
		return NULL;
	int op = -1;
	switch (p->tok.k) {
	case T_EQ:
		op = OP_EQ;
		break;
	case T_NE:
		op = OP_NE;
		break;
	case T_LT:
		op = OP_LT;
		break;
	case T_LE:
		op = OP_LE;
		break;
	case T_GT:
		op = OP_GT;
		break;
	case T_GE:
		op = OP_GE;
		break;
	default:
		break;
	}
	if (op >= 0) {
		size_t opoff = p->tok.off;
		if (advance(p))
			return NULL;
		node *r = parse_cat(p);
		if (!r)
			return NULL;
		return mk_binop(p, op, opoff, l, r);
	}
	if (kw(p, "is")) {
		bool neg = false;
		if (advance(p))
			return NULL;
		if (kw(p, "not")) {
			neg = true;
			if (advance(p))
				return NULL;
		}
		if (!kw(p, "null"))
			return unexpected(p, "'null'");
		if (advance(p))
			return NULL;
		node **args = brook_arena_alloc(p->a, sizeof *args);
		args[0] = l;
		node *n = mk(p, N_ISNULL, l->off);
		n->negated = neg;
		n->type = EXPR_BOOL;
		return set_args(p, n, args, 1);
	}
	bool neg = false;
	if (kw(p, "not")) {
		neg = true;
		if (advance(p))
			return NULL;
		if (!kw(p, "in") && !kw(p, "between"))
			return unexpected(p, "'in' or 'between'");
	}
	if (kw(p, "in")) {
		nodevec args = {0};
		push(p, &args, l);
		if (advance(p) || !expect(p, T_LP, "'('"))
			return NULL;
		for (;;) {
			if (args.n > EXPR_MAX_ARGS)
				return perr(p, p->tok.off, "'in' list longer than %d",
				            EXPR_MAX_ARGS);
			node *x = parse_or(p);
			if (!x)
				return NULL;
			if (!cmp_types_ok(l->type, x->type, false))
				return perr(p, x->off, "cannot compare %s with %s in 'in'",
				            expr_type_name(l->type), expr_type_name(x->type));
			push(p, &args, x);
			if (p->tok.k != T_COMMA)
				break;
			if (advance(p))
				return NULL;
		}
		if (!expect(p, T_RP, "',' or ')'"))
			return NULL;
		node *n = mk(p, N_IN, l->off);
		n->negated = neg;
		n->type = EXPR_BOOL;
		if (!set_args(p, n, args.v, args.n))
			return NULL;
		n->nullable = any_nullable(n);
		return n;
	}
	if (kw(p, "between")) {
		node **args = brook_arena_alloc(p->a, 3 * sizeof *args);
		args[0] = l;
		for (int i = 1; i <= 2; i++) {
			if (i == 2 && !kw(p, "and"))
				return unexpected(p, "'and'");
			if (advance(p))
				return NULL;
			args[i] = parse_cat(p);
			if (!args[i])
				return NULL;
			if (!cmp_types_ok(l->type, args[i]->type, true))
				return perr(p, args[i]->off,
				            "cannot compare %s with %s in 'between'",
				            expr_type_name(l->type), expr_type_name(args[i]->type));
		}
		node *n = mk(p, N_BETWEEN, l->off);
		n->negated = neg;
		n->type = EXPR_BOOL;
		if (!set_args(p, n, args, 3))
			return NULL;
		n->nullable = any_nullable(n);
		return n;
	}
	return l;
}

static node *parse_not(parser *p)
{
	if (!kw(p, "not"))
		return parse_cmp(p);
	size_t off = p->tok.off;
	if (advance(p) || !enter(p))
		return NULL;
	node *x = parse_not(p);
	if (!x || !want_bool(p, x, "'not'"))
		return NULL;
	p->depth--;
	node **args = brook_arena_alloc(p->a, sizeof *args);
	args[0] = x;
	node *n = mk(p, N_NOT, off);
	n->type = EXPR_BOOL;
	n->nullable = x->nullable;
	return set_args(p, n, args, 1);
}

static node *mk_logic(parser *p, nkind k, node *l, node *r)
{
	if (!want_bool(p, l, k == N_AND ? "'and'" : "'or'") ||
	    !want_bool(p, r, k == N_AND ? "'and'" : "'or'"))
		return NULL;
	node *n = mk2(p, k, l, r);
	if (!n)
		return NULL;
	n->type = EXPR_BOOL;
	n->nullable = l->nullable || r->nullable;
	return n;
}

static node *parse_and(parser *p)
{
	node *l = parse_not(p);
	while (l && kw(p, "and")) {
		if (advance(p))
			return NULL;
		node *r = parse_not(p);
		if (!r)
			return NULL;
		l = mk_logic(p, N_AND, l, r);
	}
	return l;
}

static node *parse_or(parser *p)
{
	if (!enter(p))
		return NULL;
	node *l = parse_and(p);
	while (l && kw(p, "or")) {
		if (advance(p))
			return NULL;
		node *r = parse_and(p);
		if (!r)
			return NULL;
		l = mk_logic(p, N_OR, l, r);
	}
	p->depth--;
	return l;
}

expr *expr_compile(const char *text, expr_resolve_fn resolve, void *arg, char *err, size_t errlen)
{
	size_t len = strnlen(text, EXPR_MAX_TEXT + 1);
	if (len > EXPR_MAX_TEXT) {
		snprintf(err, errlen, "column %d: expression longer than %d bytes",
		         EXPR_MAX_TEXT + 1, EXPR_MAX_TEXT);
		return NULL;
	}
	expr *e = brook_calloc(1, sizeof *e);
	parser p;
	memset(&p, 0, sizeof p);
	p.depth = -1; /* the whole expression is level 0 */
	p.text = e->text = brook_arena_strndup(&e->arena, text, len);
	p.len = len;
	p.a = &e->arena;
	p.resolve = resolve;
	p.arg = arg;
	p.err = err;
	p.errlen = errlen;
	if (lex(&p) == BROOK_OK) {
		if (p.tok.k == T_EOF)
			perr(&p, 0, "empty expression");
		else
			e->root = parse_or(&p);
		if (e->root && p.tok.k != T_EOF) {
			char buf[40];
			perr(&p, p.tok.off, "unexpected %s", tok_desc(&p, buf, sizeof buf));
		}
	}
	if (p.failed) {
		expr_free(e);
		return NULL;
	}
	return e;
}

expr_type expr_result_type(const expr *e)
{
	return e->root->type;
}

bool expr_nullable(const expr *e)
{
	return e->root->nullable;
}

void expr_free(expr *e)
{
	if (!e)
		return;
	brook_arena_release(&e->arena);
	free(e);
}

/* ---- text forms ---------------------------------------------------------------------- */

static size_t fmt_double(double d, char *buf, size_t cap)
{
	if (isnan(d))
		return (size_t)snprintf(buf, cap, "NaN");
	if (isinf(d))
		return (size_t)snprintf(buf, cap, d < 0 ? "-Infinity" : "Infinity");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return strlen(buf);
}

/* The text of a non-string scalar into buf (64 bytes); 0 for null. */
static size_t scalar_text(const expr_value *v, char *buf)
{
	switch (v->type) {
	case EXPR_BOOL:
		return (size_t)snprintf(buf, 64, "%s", v->u.b ? "true" : "false");
	case EXPR_INT:
		return (size_t)snprintf(buf, 64, "%" PRId64, v->u.i);
	case EXPR_DOUBLE:
		return fmt_double(v->u.d, buf, 64);
	case EXPR_TIMESTAMP:
		brook_time_format_iso8601(v->u.ts_ms, buf);
		return BROOK_ISO8601_LEN;
	case EXPR_UUID: {
		brook_uuid u;
		memcpy(u.b, v->u.uuid, 16);
		brook_uuid_format(&u, buf);
		return BROOK_UUID_STRLEN;
	}
	default:
		buf[0] = '\0';
		return 0;
	}
}

bool expr_value_to_text(const expr_value *v, brook_buf *out)
{
	char buf[64];

	if (v->type == EXPR_NULL || v->type == EXPR_ANY)
		return false;
	if (v->type == EXPR_STRING) {
		if (v->u.s.n)
			brook_buf_append(out, v->u.s.p, v->u.s.n);
		else
			brook_buf_reserve(out, 0);
		return true;
	}
	brook_buf_append(out, buf, scalar_text(v, buf));
	return true;
}

/* ---- evaluator ----------------------------------------------------------------------- */

static int ev(const node *n, evctx *c, expr_value *out);

static int eerr(evctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int eerr(evctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return BROOK_ERR;
}

/* An error about sub-expression n: "its text: what". */
static int nerr(evctx *c, const node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int nerr(evctx *c, const node *n, const char *fmt, ...)
{
	size_t shown = n->len > 60 ? 57 : n->len;
	int k = snprintf(c->err, c->errlen, "%.*s%s: ", (int)shown, c->text + n->off,
	                 shown < n->len ? "..." : "");
	if (k >= 0 && (size_t)k < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return BROOK_ERR;
}

/* 'value' for an error message, cut at QUOTE_MAX bytes (on a UTF-8 boundary). */
typedef struct quoted {
	char s[QUOTE_MAX + 8];
} quoted;

static quoted quote(const char *s, size_t n)
{
	quoted q;
	size_t cut = n;
	if (cut > QUOTE_MAX) {
		cut = QUOTE_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	snprintf(q.s, sizeof q.s, "'%.*s%s'", (int)cut, cut ? s : "", cut < n ? "..." : "");
	return q;
}

static void set_null(expr_value *v)
{
	memset(v, 0, sizeof *v);
	v->type = EXPR_NULL;
}

static void set_bool(expr_value *v, bool b)
{
	v->type = EXPR_BOOL;
	v->u.b = b;
}

static void set_str(expr_value *v, const char *s, size_t n)
{
	v->type = EXPR_STRING;
	v->u.s.p = s;
	v->u.s.n = n;
}

static void coerce(const node *n, expr_value *v)
{
	if (n->type == EXPR_DOUBLE && v->type == EXPR_INT) {
		double d = (double)v->u.i;
		v->type = EXPR_DOUBLE;
		v->u.d = d;
	}
}

/* v's text (strings as they are, other scalars rendered into the arena). */
static void to_text(evctx *c, const expr_value *v, const char **s, size_t *n)
{
	if (v->type == EXPR_STRING) {
		*s = v->u.s.p;
		*n = v->u.s.n;
		return;
	}
	char buf[64];
	size_t k = scalar_text(v, buf);
	*s = brook_arena_strndup(c->a, buf, k);
	*n = k;
}

static bool ts_in_range(int64_t ms)
{
	return ms >= TS_MIN && ms <= TS_MAX;
}

/* ISO-8601 text → ms; false if it does not parse. */
static bool parse_iso(const char *s, size_t n, int64_t *ms)
{
	char buf[64];
	if (n >= sizeof buf || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return brook_time_parse_iso8601(buf, ms) == BROOK_OK && ts_in_range(*ms);
}

static int ev_path(const node *n, evctx *c, expr_value *out)
{
	const brook_jnode *j = c->rec;
	for (size_t i = 0; i < n->nsegs && j; i++) {
		if (j->type == BROOK_J_NULL) {
			j = NULL;
			break;
		}
		if (j->type != BROOK_J_OBJECT) {
			if (i == 0)
				return eerr(c, "%s: the record is %s, not an object", n->path,
				            brook_jtype_kind(j->type));
			return eerr(c, "%s: '%s' is %s, not an object", n->path, n->segs[i - 1],
			            brook_jtype_kind(j->type));
		}
		j = brook_jnode_get(j, n->segs[i], n->seglens[i]);
	}
	if (!j || j->type == BROOK_J_NULL) {
		if (!n->nullable)
			return eerr(c, "%s: %s", n->path, j ? "null" : "missing");
		set_null(out);
		return BROOK_OK;
	}
	expr_type t = n->type;
	if (t == EXPR_ANY) {
		switch (j->type) {
		case BROOK_J_STRING:
			t = EXPR_STRING;
			break;
		case BROOK_J_INT:
			t = EXPR_INT;
			break;
		case BROOK_J_REAL:
			t = EXPR_DOUBLE;
			break;
		case BROOK_J_TRUE:
		case BROOK_J_FALSE:
			t = EXPR_BOOL;
			break;
		default:
			return eerr(c, "%s: expected a scalar, got %s", n->path,
			            brook_jtype_kind(j->type));
		}
	}
	out->type = t;
	switch (t) {
	case EXPR_STRING:
		if (j->type != BROOK_J_STRING)
			break;
		set_str(out, j->u.s.p, j->u.s.n);
		return BROOK_OK;
	case EXPR_INT:
		if (j->type == BROOK_J_REAL)
			return eerr(c, "%s: expected int, got a non-integer number", n->path);
		if (j->type != BROOK_J_INT)
			break;
		out->u.i = j->u.i;
		return BROOK_OK;
	case EXPR_DOUBLE:
		if (j->type == BROOK_J_INT)
			out->u.d = (double)j->u.i;
		else if (j->type == BROOK_J_REAL)
			out->u.d = j->u.d;
		else
			break;
		return BROOK_OK;
	case EXPR_BOOL:
		if (j->type != BROOK_J_TRUE && j->type != BROOK_J_FALSE)
			break;
		out->u.b = j->type == BROOK_J_TRUE;
		return BROOK_OK;
	case EXPR_TIMESTAMP:
		if (j->type == BROOK_J_INT) {
			out->u.ts_ms = j->u.i;
			if (!ts_in_range(out->u.ts_ms))
				return eerr(c, "%s: timestamp %" PRId64 " out of range", n->path,
				            out->u.ts_ms);
			return BROOK_OK;
		}
		if (j->type != BROOK_J_STRING)
			break;
		if (!parse_iso(j->u.s.p, j->u.s.n, &out->u.ts_ms))
			return eerr(c, "%s: expected timestamp, got %s", n->path,
			            quote(j->u.s.p, j->u.s.n).s);
		return BROOK_OK;
	case EXPR_UUID: {
		brook_uuid u;
		if (j->type != BROOK_J_STRING)
			break;
		if (brook_uuid_parse(j->u.s.p, j->u.s.n, &u))
			return eerr(c, "%s: expected uuid, got %s", n->path,
			            quote(j->u.s.p, j->u.s.n).s);
		memcpy(out->u.uuid, u.b, 16);
		return BROOK_OK;
	}
	default:
		set_null(out);
		return BROOK_OK;
	}
	return eerr(c, "%s: expected %s, got %s", n->path, expr_type_name(n->type),
	            brook_jtype_kind(j->type));
}

static double as_double(const expr_value *v)
{
	return v->type == EXPR_INT ? (double)v->u.i : v->u.d;
}

static int cmp_values(evctx *c, const node *n, const expr_value *x, const expr_value *y,
                      bool ordering, int *res)
{
	if (!cmp_types_ok(x->type, y->type, ordering))
		return nerr(c, n, "cannot compare %s with %s", expr_type_name(x->type),
		            expr_type_name(y->type));
	switch (x->type) {
	case EXPR_INT:
	case EXPR_DOUBLE:
		if (x->type == EXPR_INT && y->type == EXPR_INT) {
			*res = (x->u.i > y->u.i) - (x->u.i < y->u.i);
		} else {
			double a = as_double(x), b = as_double(y);
			if (isnan(a) || isnan(b)) /* NaN sorts last and equals itself */
				*res = isnan(a) - isnan(b);
			else
				*res = (a > b) - (a < b);
		}
		return BROOK_OK;
	case EXPR_STRING:
		*res = brook_bytes_cmp(x->u.s.p, x->u.s.n, y->u.s.p, y->u.s.n);
		*res = (*res > 0) - (*res < 0);
		return BROOK_OK;
	case EXPR_TIMESTAMP:
		*res = (x->u.ts_ms > y->u.ts_ms) - (x->u.ts_ms < y->u.ts_ms);
		return BROOK_OK;
	case EXPR_UUID: {
		int r = memcmp(x->u.uuid, y->u.uuid, 16);
		*res = (r > 0) - (r < 0);
		return BROOK_OK;
	}
	case EXPR_BOOL:
		*res = (int)x->u.b - (int)y->u.b;
		return BROOK_OK;
	default:
		*res = 0;
		return BROOK_OK;
	}
}

static int ev_arith(const node *n, evctx *c, const expr_value *a, const expr_value *b,
                    expr_value *out)
{
	int op = n->op;
	int rt = arith_type(op, a->type, b->type);
	if (rt < 0)
		return nerr(c, n, "operator '%s' cannot take %s and %s", op_names[op],
		            expr_type_name(a->type), expr_type_name(b->type));
	if (rt == EXPR_DOUBLE) {
		double x = as_double(a), y = as_double(b), r = 0;
		switch (op) {
		case OP_ADD:
			r = x + y;
			break;
		case OP_SUB:
			r = x - y;
			break;
		case OP_MUL:
			r = x * y;
			break;
		case OP_DIV:
		case OP_MOD:
			if (y == 0)
				return nerr(c, n, "division by zero");
			r = op == OP_DIV ? x / y : fmod(x, y);
			break;
		}
		out->type = EXPR_DOUBLE;
		out->u.d = r;
		return BROOK_OK;
	}
	/* int64 arithmetic: int op int, timestamp +- int, timestamp - timestamp */
	int64_t x = a->type == EXPR_TIMESTAMP ? a->u.ts_ms : a->u.i;
	int64_t y = b->type == EXPR_TIMESTAMP ? b->u.ts_ms : b->u.i;
	int64_t r = 0;
	bool ovf = false;
	switch (op) {
	case OP_ADD:
		ovf = __builtin_add_overflow(x, y, &r);
		break;
	case OP_SUB:
		ovf = __builtin_sub_overflow(x, y, &r);
		break;
	case OP_MUL:
		ovf = __builtin_mul_overflow(x, y, &r);
		break;
	case OP_DIV:
	case OP_MOD:
		if (y == 0)
			return nerr(c, n, "division by zero");
		if (x == INT64_MIN && y == -1) {
			ovf = op == OP_DIV;
			r = 0;
		} else {
			r = op == OP_DIV ? x / y : x % y;
		}
		break;
	}
	if (ovf)
		return nerr(c, n, "integer overflow");
	out->type = (expr_type)rt;
	if (rt == EXPR_TIMESTAMP) {
		if (!ts_in_range(r))
			return nerr(c, n, "timestamp out of range");
		out->u.ts_ms = r;
	} else {
		out->u.i = r;
	}
	return BROOK_OK;
}

static int str_alloc(evctx *c, const node *n, size_t len, char **out)
{
	if (len > MAX_STRING)
		return nerr(c, n, "result longer than %u bytes", MAX_STRING);
	if (c->a->total - c->start_total + len > MAX_EVAL_BYTES)
		return nerr(c, n, "the expression needs more than %u bytes", MAX_EVAL_BYTES);
	*out = brook_arena_alloc(c->a, len ? len : 1);
	return BROOK_OK;
}

static int ev_bin(const node *n, evctx *c, expr_value *out)
{
	expr_value a, b;
	if (ev(n->args[0], c, &a) || ev(n->args[1], c, &b))
		return BROOK_ERR;
	if (a.type == EXPR_NULL || b.type == EXPR_NULL) {
		set_null(out);
		return BROOK_OK;
	}
	if (n->op == OP_CAT) {
		const char *s1, *s2;
		size_t n1, n2;
		char *r = NULL;
		to_text(c, &a, &s1, &n1);
		to_text(c, &b, &s2, &n2);
		if (str_alloc(c, n, n1 + n2, &r))
			return BROOK_ERR;
		if (n1)
			memcpy(r, s1, n1);
		if (n2)
			memcpy(r + n1, s2, n2);
		set_str(out, r, n1 + n2);
		return BROOK_OK;
	}
	if (n->op >= OP_EQ) {
		int r;
		if (cmp_values(c, n, &a, &b, n->op != OP_EQ && n->op != OP_NE, &r))
			return BROOK_ERR;
		bool t = false;
		switch (n->op) {
		case OP_EQ:
			t = r == 0;
			break;
		case OP_NE:
			t = r != 0;
			break;
		case OP_LT:
			t = r < 0;
			break;
		case OP_LE:
			t = r <= 0;
			break;
		case OP_GT:
			t = r > 0;
			break;
		case OP_GE:
			t = r >= 0;
			break;
		}
		set_bool(out, t);
		return BROOK_OK;
	}
	return ev_arith(n, c, &a, &b, out);
}

/* A boolean operand: 1 true, 0 false, -1 null; BROOK_ERR as -2. */
static int ev_truth(const node *n, const node *x, evctx *c, const char *what)
{
	expr_value v;
	if (ev(x, c, &v))
		return -2;
	if (v.type == EXPR_NULL)
		return -1;
	if (v.type != EXPR_BOOL) {
		nerr(c, n, "%s needs a boolean, got %s", what, expr_type_name(v.type));
		return -2;
	}
	return v.u.b;
}

static void set_truth(expr_value *out, int t)
{
	if (t < 0)
		set_null(out);
	else
		set_bool(out, t);
}

static int ev_logic(const node *n, evctx *c, expr_value *out)
{
	bool and = n->kind == N_AND;
	const char *what = and? "'and'" : "'or'";
	int l = ev_truth(n, n->args[0], c, what);
	if (l == -2)
		return BROOK_ERR;
	if (l == (and? 0 : 1)) { /* decided */
		set_bool(out, l);
		return BROOK_OK;
	}
	int r = ev_truth(n, n->args[1], c, what);
	if (r == -2)
		return BROOK_ERR;
	if (r == (and? 0 : 1))
		set_bool(out, r);
	else if (l < 0 || r < 0)
		set_null(out);
	else
		set_bool(out, and);
	return BROOK_OK;
}

static int ev_in(const node *n, evctx *c, expr_value *out)
{
	expr_value x, y;
	bool saw_null = false;
	if (ev(n->args[0], c, &x))
		return BROOK_ERR;
	if (x.type == EXPR_NULL) {
		set_null(out);
		return BROOK_OK;
	}
	for (size_t i = 1; i < n->nargs; i++) {
		int r;
		if (ev(n->args[i], c, &y))
			return BROOK_ERR;
		if (y.type == EXPR_NULL) {
			saw_null = true;
			continue;
		}
		if (cmp_values(c, n, &x, &y, false, &r))
			return BROOK_ERR;
		if (r == 0) {
			set_bool(out, !n->negated);
			return BROOK_OK;
		}
	}
	if (saw_null)
		set_null(out);
	else
		set_bool(out, n->negated);
	return BROOK_OK;
}

static int ev_between(const node *n, evctx *c, expr_value *out)
{
	expr_value v[3];
	int t[2];
	for (int i = 0; i < 3; i++)
		if (ev(n->args[i], c, &v[i]))
			return BROOK_ERR;
	for (int i = 0; i < 2; i++) {
		int r;
		if (v[0].type == EXPR_NULL || v[i + 1].type == EXPR_NULL) {
			t[i] = -1;
			continue;
		}
		if (cmp_values(c, n, &v[0], &v[i + 1], true, &r))
			return BROOK_ERR;
		t[i] = i == 0 ? r >= 0 : r <= 0;
	}
	int res = (t[0] == 0 || t[1] == 0) ? 0 : (t[0] < 0 || t[1] < 0) ? -1 : 1;
	if (res >= 0 && n->negated)
		res = !res;
	set_truth(out, res);
	return BROOK_OK;
}

static int ev_case(const node *n, evctx *c, expr_value *out)
{
	size_t pairs = n->nargs / 2;
	for (size_t i = 0; i < pairs; i++) {
		int t = ev_truth(n, n->args[2 * i], c, "when");
		if (t == -2)
			return BROOK_ERR;
		if (t == 1) {
			if (ev(n->args[2 * i + 1], c, out))
				return BROOK_ERR;
			coerce(n, out);
			return BROOK_OK;
		}
	}
	if (n->has_else) {
		if (ev(n->args[n->nargs - 1], c, out))
			return BROOK_ERR;
		coerce(n, out);
		return BROOK_OK;
	}
	set_null(out);
	return BROOK_OK;
}

static int ev_call(const node *n, evctx *c, expr_value *out)
{
	const fn_def *f = n->fn;
	expr_value small[4];
	expr_value *av = small;

	if (f->flags & F_LAZY)
		return f->eval(n, c, NULL, out);
	if (n->nargs > 4)
		av = brook_arena_alloc(c->a, n->nargs * sizeof *av);
	for (size_t i = 0; i < n->nargs; i++) {
		if (ev(n->args[i], c, &av[i]))
			return BROOK_ERR;
		if ((f->flags & F_STRICT) && av[i].type == EXPR_NULL) {
			set_null(out);
			return BROOK_OK;
		}
	}
	return f->eval(n, c, av, out);
}

static int ev(const node *n, evctx *c, expr_value *out)
{
	switch (n->kind) {
	case N_LIT:
		*out = n->lit;
		return BROOK_OK;
	case N_PATH:
		return ev_path(n, c, out);
	case N_NEG:
		if (ev(n->args[0], c, out))
			return BROOK_ERR;
		if (out->type == EXPR_INT) {
			if (out->u.i == INT64_MIN)
				return nerr(c, n, "integer overflow");
			out->u.i = -out->u.i;
		} else if (out->type == EXPR_DOUBLE) {
			out->u.d = -out->u.d;
		} else if (out->type != EXPR_NULL) {
			return nerr(c, n, "unary '-' needs a number, got %s",
			            expr_type_name(out->type));
		}
		return BROOK_OK;
	case N_NOT: {
		int t = ev_truth(n, n->args[0], c, "'not'");
		if (t == -2)
			return BROOK_ERR;
		set_truth(out, t < 0 ? -1 : !t);
		return BROOK_OK;
	}
	case N_AND:
	case N_OR:
		return ev_logic(n, c, out);
	case N_BIN:
		return ev_bin(n, c, out);
	case N_ISNULL:
		if (ev(n->args[0], c, out))
			return BROOK_ERR;
		set_bool(out, (out->type == EXPR_NULL) != n->negated);
		return BROOK_OK;
	case N_IN:
		return ev_in(n, c, out);
	case N_BETWEEN:
		return ev_between(n, c, out);
	case N_CALL:
		return ev_call(n, c, out);
	case N_CASE:
		return ev_case(n, c, out);
	}
	return eerr(c, "internal error: unknown node");
}

int expr_eval_node(const expr *e, const brook_jnode *record, brook_arena *a, expr_value *out,
                   char *err, size_t errlen)
{
	evctx c = {record, a, err, errlen, e->text, a->total};
	if (ev(e->root, &c, out)) {
		set_null(out);
		return BROOK_ERR;
	}
	coerce(e->root, out);
	return BROOK_OK;
}

int expr_eval(const expr *e, const json_t *record, brook_arena *a, expr_value *out, char *err,
              size_t errlen)
{
	return expr_eval_node(e, brook_jdoc_from_json(record, a), a, out, err, errlen);
}

/* ---- functions: evaluation ----------------------------------------------------------- */

static int arg_text(evctx *c, const expr_value *v, const char **s, size_t *n)
{
	to_text(c, v, s, n);
	return BROOK_OK;
}

static int arg_int(evctx *c, const node *n, const expr_value *v, size_t i, int64_t *out)
{
	if (v->type == EXPR_INT) {
		*out = v->u.i;
		return BROOK_OK;
	}
	return nerr(c, n, "argument %zu must be an int, got %s", i + 1, expr_type_name(v->type));
}

static int arg_num(evctx *c, const node *n, const expr_value *v, size_t i)
{
	if (is_num(v->type))
		return BROOK_OK;
	return nerr(c, n, "argument %zu must be a number, got %s", i + 1, expr_type_name(v->type));
}

static int fn_concat(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	size_t total = 0;
	for (size_t i = 0; i < n->nargs; i++) {
		if (av[i].type == EXPR_NULL)
			continue;
		const char *s;
		size_t len;
		arg_text(c, &av[i], &s, &len);
		set_str(&av[i], s, len);
		total += len;
		if (total > MAX_STRING)
			break;
	}
	char *r = NULL;
	if (str_alloc(c, n, total, &r))
		return BROOK_ERR;
	size_t k = 0;
	for (size_t i = 0; i < n->nargs; i++) {
		if (av[i].type == EXPR_NULL || !av[i].u.s.n)
			continue;
		memcpy(r + k, av[i].u.s.p, av[i].u.s.n);
		k += av[i].u.s.n;
	}
	set_str(out, r, k);
	return BROOK_OK;
}

static int fn_coalesce(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	(void)av;
	for (size_t i = 0; i < n->nargs; i++) {
		if (ev(n->args[i], c, out))
			return BROOK_ERR;
		if (out->type != EXPR_NULL) {
			coerce(n, out);
			return BROOK_OK;
		}
	}
	set_null(out);
	return BROOK_OK;
}

static int fn_if(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	(void)av;
	int t = ev_truth(n, n->args[0], c, "if()");
	if (t == -2)
		return BROOK_ERR;
	if (ev(n->args[t == 1 ? 1 : 2], c, out))
		return BROOK_ERR;
	coerce(n, out);
	return BROOK_OK;
}

static int fn_case_map(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s;
	size_t len;
	char *r = NULL;
	bool up = n->fn->name[0] == 'u';
	arg_text(c, &av[0], &s, &len);
	if (str_alloc(c, n, len, &r))
		return BROOK_ERR;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (up && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		else if (!up && ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + 32);
		r[i] = ch;
	}
	set_str(out, r, len);
	return BROOK_OK;
}

static int fn_trim(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s;
	size_t len, b = 0;
	char which = n->fn->name[0]; /* t, l, r */
	arg_text(c, &av[0], &s, &len);
	if (which != 'r')
		while (b < len && is_space(s[b]))
			b++;
	if (which != 'l')
		while (len > b && is_space(s[len - 1]))
			len--;
	set_str(out, len > b ? s + b : s, len - b);
	return BROOK_OK;
}

static size_t cp_count(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

/* Byte offset of code point k (0-based); n when the string is shorter. */
static size_t cp_offset(const char *s, size_t n, uint64_t k)
{
	size_t i = 0;
	while (i < n && k > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		k--;
	}
	return i;
}

static int fn_length(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s;
	size_t len;
	(void)n;
	arg_text(c, &av[0], &s, &len);
	out->type = EXPR_INT;
	out->u.i = (int64_t)cp_count(s, len);
	return BROOK_OK;
}

static int fn_substring(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s;
	size_t len;
	int64_t start = 0, count = 0, end = INT64_MAX;
	arg_text(c, &av[0], &s, &len);
	if (arg_int(c, n, &av[1], 1, &start))
		return BROOK_ERR;
	if (n->nargs > 2) {
		if (arg_int(c, n, &av[2], 2, &count))
			return BROOK_ERR;
		if (count < 0)
			return nerr(c, n, "negative substring length %" PRId64, count);
		if (__builtin_add_overflow(start, count, &end))
			end = INT64_MAX;
	}
	if (start < 1)
		start = 1;
	if (end <= start) {
		set_str(out, s, 0);
		return BROOK_OK;
	}
	size_t b = cp_offset(s, len, (uint64_t)(start - 1));
	size_t e = end == INT64_MAX ? len : cp_offset(s, len, (uint64_t)(end - 1));
	set_str(out, s + b, e - b);
	return BROOK_OK;
}

/* The first occurrence of f[0..fl) in s[0..n), or NULL. Not memmem: sanitizer
 * builds check memmem's whole haystack on every call, which makes a replace of many hits
 * quadratic there; memchr is checked only up to what it finds. */
static const char *find_bytes(const char *s, size_t n, const char *f, size_t fl)
{
	const char *end = s + n;
	if (!fl)
		return s;
	while ((size_t)(end - s) >= fl) {
		const char *q = memchr(s, f[0], (size_t)(end - s) - fl + 1);
		if (!q)
			return NULL;
		if (!memcmp(q + 1, f + 1, fl - 1))
			return q;
		s = q + 1;
	}
	return NULL;
}

static int fn_replace(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s, *f, *t;
	size_t sn, fl, tl, cnt = 0;
	arg_text(c, &av[0], &s, &sn);
	arg_text(c, &av[1], &f, &fl);
	arg_text(c, &av[2], &t, &tl);
	if (fl == 0 || sn < fl) {
		set_str(out, s, sn);
		return BROOK_OK;
	}
	for (const char *q = s; (q = find_bytes(q, sn - (size_t)(q - s), f, fl)); q += fl)
		cnt++;
	if (cnt == 0) {
		set_str(out, s, sn);
		return BROOK_OK;
	}
	if (tl > fl && cnt > (MAX_STRING - sn) / (tl - fl) + 1)
		return nerr(c, n, "result longer than %u bytes", MAX_STRING);
	size_t total = sn - cnt * fl + cnt * tl;
	char *r = NULL;
	if (str_alloc(c, n, total, &r))
		return BROOK_ERR;
	size_t k = 0;
	const char *q = s, *hit;
	while ((hit = find_bytes(q, sn - (size_t)(q - s), f, fl))) {
		memcpy(r + k, q, (size_t)(hit - q));
		k += (size_t)(hit - q);
		if (tl)
			memcpy(r + k, t, tl);
		k += tl;
		q = hit + fl;
	}
	memcpy(r + k, q, sn - (size_t)(q - s));
	k += sn - (size_t)(q - s);
	set_str(out, r, k);
	return BROOK_OK;
}

static int fn_split_part(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s, *sep;
	size_t sn, pl;
	int64_t k = 0;
	arg_text(c, &av[0], &s, &sn);
	arg_text(c, &av[1], &sep, &pl);
	if (arg_int(c, n, &av[2], 2, &k))
		return BROOK_ERR;
	if (k == 0)
		return nerr(c, n, "field position must not be zero");
	if (pl == 0) {
		if (k == 1 || k == -1)
			set_str(out, s, sn);
		else
			set_str(out, s, 0);
		return BROOK_OK;
	}
	if (k < 0) { /* from the end: count the fields */
		int64_t nf = 1;
		for (const char *q = s; sn >= pl && (q = find_bytes(q, sn - (size_t)(q - s), sep, pl));
		     q += pl)
			nf++;
		k = nf + k + 1;
		if (k < 1) {
			set_str(out, s, 0);
			return BROOK_OK;
		}
	}
	const char *q = s;
	for (int64_t i = 1; i < k; i++) {
		const char *hit =
		    sn - (size_t)(q - s) >= pl ? find_bytes(q, sn - (size_t)(q - s), sep, pl) : NULL;
		if (!hit) {
			set_str(out, s, 0);
			return BROOK_OK;
		}
		q = hit + pl;
	}
	const char *hit =
	    sn - (size_t)(q - s) >= pl ? find_bytes(q, sn - (size_t)(q - s), sep, pl) : NULL;
	set_str(out, q, hit ? (size_t)(hit - q) : sn - (size_t)(q - s));
	return BROOK_OK;
}

/* Decimal int64 with optional sign and surrounding blanks: 0, -1 not a number, -2 range. */
static int parse_i64(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, lim;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	lim = neg ? UINT64_C(1) << 63 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (lim - d) / 10)
			return -2;
		v = v * 10 + d;
	}
	*out = neg ? (v == (UINT64_C(1) << 63) ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}

static bool parse_double(const char *s, size_t n, double *out)
{
	char buf[128];
	char *end;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	while (n > 0 && is_space(s[0])) {
		s++;
		n--;
	}
	if (n == 0 || n >= sizeof buf || memchr(s, '\0', n))
		return false;
	for (size_t i = 0; i < n; i++) /* digits, sign, point, exponent only */
		if (!is_digit(s[i]) && !strchr("+-.eE", s[i]))
			return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, &end);
	return end == buf + n && isfinite(*out);
}

static int fn_cast(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const expr_value *v = &av[0];
	expr_type to = n->fn->ret;
	bool int32 = n->fn->name[0] == 'i';

	if (!cast_ok(v->type, to))
		return nerr(c, n, "cannot convert %s to %s", expr_type_name(v->type),
		            expr_type_name(to));
	if (to == EXPR_STRING) {
		const char *s;
		size_t len;
		to_text(c, v, &s, &len);
		set_str(out, s, len);
		return BROOK_OK;
	}
	if (v->type == to && !(to == EXPR_INT && int32)) {
		*out = *v;
		return BROOK_OK;
	}
	const char *s = v->u.s.p;
	size_t sn = v->u.s.n;
	out->type = to;
	switch (to) {
	case EXPR_INT: {
		int64_t i = 0;
		switch (v->type) {
		case EXPR_BOOL:
			i = v->u.b;
			break;
		case EXPR_INT:
			i = v->u.i;
			break;
		case EXPR_TIMESTAMP:
			i = v->u.ts_ms;
			break;
		case EXPR_DOUBLE:
			if (!(v->u.d >= -9223372036854775808.0 && v->u.d < 9223372036854775808.0))
				return nerr(c, n, "%s is out of range",
				            isnan(v->u.d) ? "NaN" : "the value");
			i = (int64_t)v->u.d;
			break;
		case EXPR_STRING: {
			int r = parse_i64(s, sn, &i);
			if (r == -1)
				return nerr(c, n, "%s is not an integer", quote(s, sn).s);
			if (r == -2)
				return nerr(c, n, "%s is out of range", quote(s, sn).s);
			break;
		}
		default:
			break;
		}
		if (int32 && (i < INT32_MIN || i > INT32_MAX))
			return nerr(c, n, "%" PRId64 " is out of the int range", i);
		out->u.i = i;
		return BROOK_OK;
	}
	case EXPR_DOUBLE:
		switch (v->type) {
		case EXPR_BOOL:
			out->u.d = v->u.b;
			break;
		case EXPR_INT:
			out->u.d = (double)v->u.i;
			break;
		case EXPR_TIMESTAMP:
			out->u.d = (double)v->u.ts_ms;
			break;
		case EXPR_STRING:
			if (!parse_double(s, sn, &out->u.d))
				return nerr(c, n, "%s is not a number", quote(s, sn).s);
			break;
		default:
			break;
		}
		return BROOK_OK;
	case EXPR_BOOL:
		switch (v->type) {
		case EXPR_INT:
			out->u.b = v->u.i != 0;
			break;
		case EXPR_DOUBLE:
			out->u.b = v->u.d != 0;
			break;
		case EXPR_STRING: {
			static const char *const t[] = {"true", "1", "yes"}, *const f[] = {"false",
			                                                                   "0",
			                                                                   "no"};
			for (int i = 0; i < 3; i++) {
				if (sn == strlen(t[i]) && strncasecmp(s, t[i], sn) == 0) {
					out->u.b = true;
					return BROOK_OK;
				}
				if (sn == strlen(f[i]) && strncasecmp(s, f[i], sn) == 0) {
					out->u.b = false;
					return BROOK_OK;
				}
			}
			return nerr(c, n, "%s is not a boolean", quote(s, sn).s);
		}
		default:
			break;
		}
		return BROOK_OK;
	case EXPR_TIMESTAMP:
		switch (v->type) {
		case EXPR_INT:
			out->u.ts_ms = v->u.i;
			break;
		case EXPR_DOUBLE:
			if (!(v->u.d >= (double)TS_MIN && v->u.d <= (double)TS_MAX))
				return nerr(c, n, "timestamp out of range");
			out->u.ts_ms = (int64_t)v->u.d;
			break;
		case EXPR_STRING:
			if (!parse_iso(s, sn, &out->u.ts_ms))
				return nerr(c, n, "%s is not an ISO-8601 timestamp",
				            quote(s, sn).s);
			break;
		default:
			break;
		}
		if (!ts_in_range(out->u.ts_ms))
			return nerr(c, n, "timestamp out of range");
		return BROOK_OK;
	case EXPR_UUID: {
		brook_uuid u;
		if (brook_uuid_parse(s, sn, &u))
			return nerr(c, n, "%s is not a uuid", quote(s, sn).s);
		memcpy(out->u.uuid, u.b, 16);
		return BROOK_OK;
	}
	default:
		return nerr(c, n, "cannot convert %s to %s", expr_type_name(v->type),
		            expr_type_name(to));
	}
}

/* A timestamp argument: a timestamp, or anything timestamp() accepts (from ANY). */
static int arg_ts(evctx *c, const node *n, const expr_value *v, int64_t *ms)
{
	if (v->type == EXPR_TIMESTAMP) {
		*ms = v->u.ts_ms;
		return BROOK_OK;
	}
	if (v->type == EXPR_INT && ts_in_range(v->u.i)) {
		*ms = v->u.i;
		return BROOK_OK;
	}
	if (v->type == EXPR_STRING && parse_iso(v->u.s.p, v->u.s.n, ms))
		return BROOK_OK;
	return nerr(c, n, "expected a timestamp, got %s", expr_type_name(v->type));
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Conversions both directions understand. */
static const char fmt_convs[] = "YmdHMSfzZFTjs%";

static int fmt_check(const char *f, size_t n, bool parse, char *bad)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i] != '%')
			continue;
		if (i + 1 == n || f[i + 1] == '\0' || !strchr(fmt_convs, f[i + 1]) ||
		    (parse && f[i + 1] == 'j')) {
			*bad = i + 1 < n && f[i + 1] >= 0x20 && f[i + 1] < 0x7f ? f[i + 1] : '?';
			return BROOK_ERR;
		}
		i++;
	}
	return BROOK_OK;
}

typedef struct tbuf {
	char s[512];
	size_t n;
	bool full;
} tbuf;

static void tput(tbuf *b, const char *s, size_t n)
{
	if (b->n + n > sizeof b->s) {
		b->full = true;
		return;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
}

static void tnum(tbuf *b, int64_t v, int width)
{
	char tmp[32];
	int k = snprintf(tmp, sizeof tmp, "%0*" PRId64, width, v);
	tput(b, tmp, (size_t)k);
}

static void ts_format(tbuf *b, int64_t ms, const char *f, size_t fn)
{
	int64_t days = ms / MS_PER_DAY, rem;
	int64_t y;
	unsigned m, d;
	if (ms % MS_PER_DAY < 0)
		days--;
	rem = ms - days * MS_PER_DAY;
	brook_civil_from_days(days, &y, &m, &d);
	for (size_t i = 0; i < fn; i++) {
		if (f[i] != '%' || i + 1 == fn) {
			tput(b, f + i, 1);
			continue;
		}
		switch (f[++i]) {
		case 'Y':
			tnum(b, y, 4);
			break;
		case 'm':
			tnum(b, m, 2);
			break;
		case 'd':
			tnum(b, d, 2);
			break;
		case 'H':
			tnum(b, rem / 3600000, 2);
			break;
		case 'M':
			tnum(b, rem / 60000 % 60, 2);
			break;
		case 'S':
			tnum(b, rem / 1000 % 60, 2);
			break;
		case 'f':
			tnum(b, rem % 1000, 3);
			break;
		case 'z':
			tput(b, "+0000", 5);
			break;
		case 'Z':
			tput(b, "UTC", 3);
			break;
		case 'F':
			ts_format(b, ms, "%Y-%m-%d", 8);
			break;
		case 'T':
			ts_format(b, ms, "%H:%M:%S", 8);
			break;
		case 'j':
			tnum(b, days - brook_days_from_civil(y, 1, 1) + 1, 3);
			break;
		case 's':
			tnum(b, (ms - rem) / 1000 + rem / 1000, 1);
			break;
		case '%':
			tput(b, "%", 1);
			break;
		default:
			tput(b, f + i - 1, 2);
			break;
		}
	}
}

static int fn_format_ts(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	int64_t ms;
	tbuf b;
	if (arg_ts(c, n, &av[0], &ms))
		return BROOK_ERR;
	if (n->nargs == 1) {
		char *r = brook_arena_alloc(c->a, BROOK_ISO8601_LEN + 1);
		brook_time_format_iso8601(ms, r);
		set_str(out, r, BROOK_ISO8601_LEN);
		return BROOK_OK;
	}
	const char *f;
	size_t fl;
	char bad;
	arg_text(c, &av[1], &f, &fl);
	if (fmt_check(f, fl, false, &bad))
		return nerr(c, n, "unsupported conversion '%%%c' in the format", bad);
	b.n = 0;
	b.full = false;
	ts_format(&b, ms, f, fl);
	if (b.full)
		return nerr(c, n, "result longer than %zu bytes", sizeof b.s);
	set_str(out, brook_arena_strndup(c->a, b.s, b.n), b.n);
	return BROOK_OK;
}

typedef struct tparse {
	const char *s;
	size_t n, i;
	int64_t y, epoch;
	int mo, d, H, M, S, ms, off_min;
	bool has_epoch;
} tparse;

static bool tdigits(tparse *t, int min, int max, int64_t *v)
{
	int k = 0;
	*v = 0;
	while (k < max && t->i < t->n && is_digit(t->s[t->i])) {
		*v = *v * 10 + (t->s[t->i++] - '0');
		k++;
	}
	return k >= min;
}

static bool tfield(tparse *t, int *field, int max)
{
	int64_t v;
	if (!tdigits(t, 1, 2, &v) || v > max)
		return false;
	*field = (int)v;
	return true;
}

static bool ts_parse_fmt(tparse *t, const char *f, size_t fn)
{
	int64_t v;
	for (size_t i = 0; i < fn; i++) {
		char ch = f[i];
		if (is_space(ch)) {
			while (t->i < t->n && is_space(t->s[t->i]))
				t->i++;
			continue;
		}
		if (ch != '%' || i + 1 == fn) {
			if (t->i >= t->n || t->s[t->i] != ch)
				return false;
			t->i++;
			continue;
		}
		switch (f[++i]) {
		case 'Y':
			if (!tdigits(t, 4, 4, &t->y))
				return false;
			break;
		case 'm':
			if (!tfield(t, &t->mo, 12) || t->mo < 1)
				return false;
			break;
		case 'd':
			if (!tfield(t, &t->d, 31) || t->d < 1)
				return false;
			break;
		case 'H':
			if (!tfield(t, &t->H, 23))
				return false;
			break;
		case 'M':
			if (!tfield(t, &t->M, 59))
				return false;
			break;
		case 'S':
			if (!tfield(t, &t->S, 59))
				return false;
			break;
		case 'f': {
			int k = 0;
			t->ms = 0;
			while (t->i < t->n && is_digit(t->s[t->i])) {
				if (k < 3)
					t->ms = t->ms * 10 + (t->s[t->i] - '0');
				k++;
				t->i++;
			}
			if (k == 0 || k > 9)
				return false;
			for (; k < 3; k++)
				t->ms *= 10;
			break;
		}
		case 'z': {
			if (t->i < t->n && t->s[t->i] == 'Z') {
				t->i++;
				t->off_min = 0;
				break;
			}
			if (t->i >= t->n || (t->s[t->i] != '+' && t->s[t->i] != '-'))
				return false;
			int sign = t->s[t->i++] == '-' ? -1 : 1;
			int64_t hh, mm;
			if (!tdigits(t, 2, 2, &hh))
				return false;
			if (t->i < t->n && t->s[t->i] == ':')
				t->i++;
			if (!tdigits(t, 2, 2, &mm) || hh > 23 || mm > 59)
				return false;
			t->off_min = sign * (int)(hh * 60 + mm);
			break;
		}
		case 'Z':
			if (t->n - t->i >= 3 && (strncmp(t->s + t->i, "UTC", 3) == 0 ||
			                         strncmp(t->s + t->i, "GMT", 3) == 0))
				t->i += 3;
			else if (t->i < t->n && t->s[t->i] == 'Z')
				t->i++;
			else
				return false;
			break;
		case 'F':
			if (!ts_parse_fmt(t, "%Y-%m-%d", 8))
				return false;
			break;
		case 'T':
			if (!ts_parse_fmt(t, "%H:%M:%S", 8))
				return false;
			break;
		case 's': {
			int sign = 1;
			if (t->i < t->n && t->s[t->i] == '-') {
				sign = -1;
				t->i++;
			}
			if (!tdigits(t, 1, 12, &v))
				return false;
			t->epoch = sign * v;
			t->has_epoch = true;
			break;
		}
		case '%':
			if (t->i >= t->n || t->s[t->i] != '%')
				return false;
			t->i++;
			break;
		default:
			return false;
		}
	}
	return true;
}

static int fn_parse_ts(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	const char *s, *f;
	size_t sn, fl;
	char bad;
	tparse t;
	arg_text(c, &av[0], &s, &sn);
	arg_text(c, &av[1], &f, &fl);
	if (fmt_check(f, fl, true, &bad))
		return nerr(c, n, "unsupported conversion '%%%c' in the format", bad);
	memset(&t, 0, sizeof t);
	t.s = s;
	t.n = sn;
	t.y = 1970;
	t.mo = t.d = 1;
	if (!ts_parse_fmt(&t, f, fl) || t.i != t.n)
		return nerr(c, n, "%s does not match the format", quote(s, sn).s);
	int64_t ms;
	if (t.has_epoch) {
		ms = t.epoch * 1000 + t.ms;
	} else {
		if ((unsigned)t.d > days_in_month(t.y, (unsigned)t.mo))
			return nerr(c, n, "%s is not a valid date", quote(s, sn).s);
		ms = brook_days_from_civil(t.y, (unsigned)t.mo, (unsigned)t.d) * MS_PER_DAY +
		     ((int64_t)t.H * 3600 + t.M * 60 + t.S) * 1000 + t.ms;
	}
	ms -= (int64_t)t.off_min * 60000;
	if (!ts_in_range(ms))
		return nerr(c, n, "timestamp out of range");
	out->type = EXPR_TIMESTAMP;
	out->u.ts_ms = ms;
	return BROOK_OK;
}

static int fn_now(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	(void)n;
	(void)c;
	(void)av;
	out->type = EXPR_TIMESTAMP;
	out->u.ts_ms = brook_now_ms();
	return BROOK_OK;
}

static int fn_uuid5(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	brook_uuid ns, u;
	const char *s;
	size_t sn;
	if (n->has_lit) {
		memcpy(ns.b, n->lit.u.uuid, 16);
	} else if (av[0].type == EXPR_UUID) {
		memcpy(ns.b, av[0].u.uuid, 16);
	} else if (av[0].type == EXPR_STRING) {
		if (ns_from_text(av[0].u.s.p, av[0].u.s.n, &ns))
			return nerr(c, n, "unknown namespace %s",
			            quote(av[0].u.s.p, av[0].u.s.n).s);
	} else {
		return nerr(c, n, "the namespace must be a uuid or a string, got %s",
		            expr_type_name(av[0].type));
	}
	arg_text(c, &av[1], &s, &sn);
	brook_uuid_v5(&u, &ns, sn ? s : "", sn);
	out->type = EXPR_UUID;
	memcpy(out->u.uuid, u.b, 16);
	return BROOK_OK;
}

static int fn_digest(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *s;
	size_t sn;
	arg_text(c, &av[0], &s, &sn);
	if (!EVP_Digest(sn ? s : "", sn, md, &mdlen,
	                n->fn->name[0] == 's' ? EVP_sha256() : EVP_md5(), NULL))
		return nerr(c, n, "digest failed");
	char *r = brook_arena_alloc(c->a, 2 * (size_t)mdlen + 1);
	for (unsigned i = 0; i < mdlen; i++) {
		r[2 * i] = hex[md[i] >> 4];
		r[2 * i + 1] = hex[md[i] & 15];
	}
	set_str(out, r, 2 * (size_t)mdlen);
	return BROOK_OK;
}

static int fn_abs(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	if (arg_num(c, n, &av[0], 0))
		return BROOK_ERR;
	*out = av[0];
	if (out->type == EXPR_INT) {
		if (out->u.i == INT64_MIN)
			return nerr(c, n, "integer overflow");
		out->u.i = out->u.i < 0 ? -out->u.i : out->u.i;
	} else {
		out->u.d = fabs(out->u.d);
	}
	return BROOK_OK;
}

/* floor, ceil, round(x[, digits]): ints stay ints; halves round away from zero. */
static int fn_round(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	char which = n->fn->name[0]; /* f, c, r */
	int64_t digits = 0;
	if (arg_num(c, n, &av[0], 0))
		return BROOK_ERR;
	if (n->nargs > 1 && arg_int(c, n, &av[1], 1, &digits))
		return BROOK_ERR;
	*out = av[0];
	if (out->type == EXPR_DOUBLE) {
		double x = out->u.d;
		if (which == 'f')
			out->u.d = floor(x);
		else if (which == 'c')
			out->u.d = ceil(x);
		else if (digits == 0)
			out->u.d = round(x);
		else if (digits > 0 && digits <= 15) {
			double p = pow(10, (double)digits), y = x * p;
			if (isfinite(y))
				out->u.d = round(y) / p;
		} else if (digits < 0) {
			double p = pow(10, (double)(digits < -308 ? 308 : -digits));
			out->u.d = isfinite(p) ? round(x / p) * p : 0;
			if (!isfinite(out->u.d))
				out->u.d = 0;
		}
		return BROOK_OK;
	}
	if (which != 'r' || digits >= 0)
		return BROOK_OK;
	int64_t x = out->u.i, p = 1;
	if (digits < -18) {
		if (x >= INT64_C(5000000000000000000) || x <= -INT64_C(5000000000000000000))
			return nerr(c, n, "integer overflow");
		out->u.i = 0;
		return BROOK_OK;
	}
	for (int64_t k = 0; k < -digits; k++)
		p *= 10;
	int64_t q = x / p, r = x % p, res;
	if (r >= p - r && r > 0)
		q++;
	else if (r < 0 && -r >= p + r)
		q--;
	if (__builtin_mul_overflow(q, p, &res))
		return nerr(c, n, "integer overflow");
	out->u.i = res;
	return BROOK_OK;
}

static int fn_minmax(const node *n, evctx *c, expr_value *av, expr_value *out)
{
	bool greatest = n->fn->name[0] == 'g';
	set_null(out);
	for (size_t i = 0; i < n->nargs; i++) {
		int r = 0;
		if (av[i].type == EXPR_NULL)
			continue;
		if (out->type == EXPR_NULL) {
			*out = av[i];
			continue;
		}
		if (cmp_values(c, n, &av[i], out, true, &r))
			return BROOK_ERR;
		if (greatest ? r > 0 : r < 0)
			*out = av[i];
	}
	coerce(n, out);
	return BROOK_OK;
}
