/*
 * cql_lex.c — the CQL lexer (see cql_lex.h for the token classes).
 *
 * Invariant: lx->pos never exceeds lx->len and every read checks it first, so the
 * input need not be NUL-terminated and may contain any bytes. Line and column are
 * maintained from newlines seen while skipping whitespace, comments and multi-line
 * strings.
 */
#include "store/cql_lex.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

void cql_lex_init(cql_lexer *lx, const char *src, size_t len)
{
	lx->src = src;
	lx->len = len;
	lx->pos = 0;
	lx->line = 1;
	lx->line_start = 0;
}

static int peek(const cql_lexer *lx, size_t ahead)
{
	size_t p = lx->pos + ahead;
	return p < lx->len ? (unsigned char)lx->src[p] : -1;
}

static void advance(cql_lexer *lx)
{
	if (lx->src[lx->pos] == '\n') {
		lx->line++;
		lx->line_start = lx->pos + 1;
	}
	lx->pos++;
}

static bool is_hex(int c)
{
	return c >= 0 && isxdigit(c);
}

static bool is_ident_char(int c)
{
	return c >= 0 && (isalnum(c) || c == '_');
}

/* Skips whitespace and comments; returns an error text for an unterminated comment. */
static const char *skip_space(cql_lexer *lx)
{
	for (;;) {
		int c = peek(lx, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			advance(lx);
		} else if ((c == '-' && peek(lx, 1) == '-') || (c == '/' && peek(lx, 1) == '/')) {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
				advance(lx);
		} else if (c == '/' && peek(lx, 1) == '*') {
			advance(lx);
			advance(lx);
			for (;;) {
				if (lx->pos >= lx->len)
					return "unterminated comment";
				if (peek(lx, 0) == '*' && peek(lx, 1) == '/') {
					advance(lx);
					advance(lx);
					break;
				}
				advance(lx);
			}
		} else {
			return NULL;
		}
	}
}

static bool at_uuid(const cql_lexer *lx)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	size_t p = 0;
	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!is_hex(peek(lx, p)))
				return false;
		if (g < 4 && peek(lx, p++) != '-')
			return false;
	}
	return !is_ident_char(peek(lx, p));
}

static void lex_digits(cql_lexer *lx)
{
	while (peek(lx, 0) >= 0 && isdigit(peek(lx, 0)))
		advance(lx);
}

cql_tok cql_lex_next(cql_lexer *lx)
{
	cql_tok t;
	memset(&t, 0, sizeof t);
	const char *bad = skip_space(lx);
	t.start = lx->src + lx->pos;
	t.off = lx->pos;
	t.line = lx->line;
	t.col = (uint32_t)(lx->pos - lx->line_start);
	if (bad) {
		t.kind = CQL_TOK_ERROR;
		t.bad = bad;
		return t;
	}
	int c = peek(lx, 0);
	if (c < 0) {
		t.kind = CQL_TOK_EOF;
		return t;
	}
	if (is_hex(c) && at_uuid(lx)) {
		for (int i = 0; i < 36; i++)
			advance(lx);
		t.kind = CQL_TOK_UUID;
	} else if (c == '0' && (peek(lx, 1) == 'x' || peek(lx, 1) == 'X')) {
		advance(lx);
		advance(lx);
		while (is_hex(peek(lx, 0)))
			advance(lx);
		t.kind = CQL_TOK_HEX;
	} else if (isdigit(c)) {
		t.kind = CQL_TOK_INT;
		lex_digits(lx);
		if (peek(lx, 0) == '.' && peek(lx, 1) >= 0 && isdigit(peek(lx, 1))) {
			advance(lx);
			lex_digits(lx);
			t.kind = CQL_TOK_FLOAT;
		}
		int e = peek(lx, 0);
		if (e == 'e' || e == 'E') {
			size_t k = 1;
			if (peek(lx, 1) == '+' || peek(lx, 1) == '-')
				k = 2;
			if (peek(lx, k) >= 0 && isdigit(peek(lx, k))) {
				for (size_t i = 0; i < k; i++)
					advance(lx);
				lex_digits(lx);
				t.kind = CQL_TOK_FLOAT;
			}
		}
	} else if (isalpha(c)) {
		while (is_ident_char(peek(lx, 0)))
			advance(lx);
		t.kind = CQL_TOK_IDENT;
	} else if (c == '"' || c == '\'') {
		t.kind = c == '"' ? CQL_TOK_QIDENT : CQL_TOK_STRING;
		advance(lx);
		for (;;) {
			if (lx->pos >= lx->len) {
				t.kind = CQL_TOK_ERROR;
				t.bad = c == '"' ? "unterminated quoted identifier"
						 : "unterminated string literal";
				break;
			}
			if (peek(lx, 0) == c) {
				advance(lx);
				if (peek(lx, 0) != c)
					break;
			}
			if (c == '"' && peek(lx, 0) == 0 && t.kind != CQL_TOK_ERROR) {
				/* Names become C strings; keep scanning to the closing quote. */
				t.kind = CQL_TOK_ERROR;
				t.bad = "NUL byte in quoted identifier";
			}
			advance(lx);
		}
		if (t.kind == CQL_TOK_QIDENT && lx->pos - t.off == 2) {
			t.kind = CQL_TOK_ERROR;
			t.bad = "empty quoted identifier";
		}
	} else if (c == '$' && peek(lx, 1) == '$') {
		advance(lx);
		advance(lx);
		t.kind = CQL_TOK_STRING;
		for (;;) {
			if (lx->pos >= lx->len) {
				t.kind = CQL_TOK_ERROR;
				t.bad = "unterminated string literal";
				break;
			}
			if (peek(lx, 0) == '$' && peek(lx, 1) == '$') {
				advance(lx);
				advance(lx);
				break;
			}
			advance(lx);
		}
	} else if ((c == '<' || c == '>' || c == '!') && peek(lx, 1) == '=') {
		advance(lx);
		advance(lx);
		t.kind = c == '<' ? CQL_TOK_LE : c == '>' ? CQL_TOK_GE : CQL_TOK_NE;
	} else if (strchr("()[]{},;.*=<>:?+-", c) && c != 0) {
		advance(lx);
		t.kind = CQL_TOK_PUNCT;
		t.punct = (char)c;
	} else {
		t.kind = CQL_TOK_ERROR;
		t.bad = "no viable alternative at character";
		advance(lx);
	}
	t.len = lx->pos - t.off;
	return t;
}

size_t cql_lex_string(const cql_tok *tok, char *out)
{
	size_t n = 0;
	if (tok->len >= 4 && tok->start[0] == '$') {
		n = tok->len - 4;
		memcpy(out, tok->start + 2, n);
	} else if (tok->len >= 2) {
		for (size_t i = 1; i + 1 < tok->len; i++) {
			out[n++] = tok->start[i];
			if (tok->start[i] == '\'')
				i++;
		}
	}
	out[n] = '\0';
	return n;
}

size_t cql_lex_ident(const cql_tok *tok, char *out)
{
	size_t n = 0;
	if (tok->kind == CQL_TOK_QIDENT) {
		for (size_t i = 1; i + 1 < tok->len; i++) {
			out[n++] = tok->start[i];
			if (tok->start[i] == '"')
				i++;
		}
	} else {
		for (size_t i = 0; i < tok->len; i++)
			out[n++] = (char)tolower((unsigned char)tok->start[i]);
	}
	out[n] = '\0';
	return n;
}

const char *cql_tok_kind_name(cql_tok_kind k)
{
	switch (k) {
	case CQL_TOK_EOF: return "<EOF>";
	case CQL_TOK_IDENT: return "IDENT";
	case CQL_TOK_QIDENT: return "QUOTED_NAME";
	case CQL_TOK_STRING: return "STRING_LITERAL";
	case CQL_TOK_INT: return "INTEGER";
	case CQL_TOK_FLOAT: return "FLOAT";
	case CQL_TOK_UUID: return "UUID";
	case CQL_TOK_HEX: return "HEXNUMBER";
	case CQL_TOK_PUNCT: return "punctuation";
	case CQL_TOK_LE: return "'<='";
	case CQL_TOK_GE: return "'>='";
	case CQL_TOK_NE: return "'!='";
	case CQL_TOK_ERROR: return "invalid token";
	}
	return "?";
}

/* Cassandra 3.11's reserved keywords: never unquoted names. */
static const char *const reserved[] = {
	"add", "allow", "alter", "and", "apply", "asc", "authorize", "batch", "begin", "by",
	"columnfamily", "create", "delete", "desc", "describe", "drop", "entries", "execute",
	"from", "full", "grant", "if", "in", "index", "infinity", "insert", "into", "is",
	"keyspace", "limit", "modify", "nan", "norecursive", "not", "null", "of", "on", "or",
	"order", "primary", "rename", "replace", "revoke", "schema", "select", "set", "table",
	"to", "token", "truncate", "unlogged", "update", "use", "using", "where", "with", NULL,
};

bool cql_lex_is_reserved(const char *s, size_t n)
{
	for (int i = 0; reserved[i]; i++)
		if (strlen(reserved[i]) == n && strncasecmp(s, reserved[i], n) == 0)
			return true;
	return false;
}
