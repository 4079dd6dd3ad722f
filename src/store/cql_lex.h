/*
 * cql_lex.h — the CQL lexer: statement text to tokens.
 *
 * Tokens are views into the statement text (start, len) with their line (1-based) and
 * column (0-based, as Cassandra's ANTLR messages count it). The lexer does not decode:
 * a STRING token spans the quotes and keeps '' doubled, an IDENT keeps its case; the
 * parser folds and unescapes when it builds AST nodes (cql_lex_string, cql_lex_ident).
 *
 * Token classes follow Cassandra's Lexer.g: IDENT [A-Za-z][A-Za-z0-9_]*, QIDENT "..."
 * with "" for a quote, STRING '...' with '' for a quote or $$...$$, INT [0-9]+, FLOAT
 * digits with a fraction and/or exponent, UUID 8-4-4-4-12 hex digits (tried before
 * numbers and identifiers), HEX 0x followed by hex digits (possibly none: the Python
 * driver sends 0x for an empty blob), and the punctuation below. A minus sign is always
 * its own token; the parser joins it with the number that follows. Whitespace and
 * comments (-- and // to end of line, block comments) are skipped.
 *
 * Errors: an unterminated string, quoted identifier or comment, a quoted identifier
 * that is empty or holds a NUL byte, or a character no token starts with, gives a
 * CQL_TOK_ERROR token whose `bad` describes the problem; the parser turns it into a
 * Cassandra-style message.
 */
#ifndef BROOK_STORE_CQL_LEX_H
#define BROOK_STORE_CQL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cql_tok_kind {
	CQL_TOK_EOF = 0,
	CQL_TOK_IDENT,
	CQL_TOK_QIDENT,
	CQL_TOK_STRING,
	CQL_TOK_INT,
	CQL_TOK_FLOAT,
	CQL_TOK_UUID,
	CQL_TOK_HEX,
	CQL_TOK_PUNCT, /* one character: ( ) [ ] { } , ; . * = < > : ? + - */
	CQL_TOK_LE,    /* <= */
	CQL_TOK_GE,    /* >= */
	CQL_TOK_NE,    /* != */
	CQL_TOK_ERROR,
} cql_tok_kind;

typedef struct cql_tok {
	cql_tok_kind kind;
	char punct;        /* CQL_TOK_PUNCT: the character */
	const char *start; /* into the statement text */
	size_t len;
	size_t off;        /* byte offset of start */
	uint32_t line;     /* 1-based */
	uint32_t col;      /* 0-based */
	const char *bad;   /* CQL_TOK_ERROR: what is wrong */
} cql_tok;

typedef struct cql_lexer {
	const char *src;
	size_t len;
	size_t pos;
	uint32_t line;
	size_t line_start; /* offset of the current line's first byte */
} cql_lexer;

void cql_lex_init(cql_lexer *lx, const char *src, size_t len);
/* The next token; after EOF or ERROR keeps returning the same kind. */
cql_tok cql_lex_next(cql_lexer *lx);

/* Decoded text of a STRING token ('' or $$ quoting removed) into out (room for
 * tok->len bytes + NUL); returns the length. */
size_t cql_lex_string(const cql_tok *tok, char *out);
/* Decoded identifier: IDENT folded to lower case, QIDENT unquoted with "" as ".
 * out needs room for tok->len + 1 bytes; returns the length. */
size_t cql_lex_ident(const cql_tok *tok, char *out);
/* True for Cassandra 3.11's reserved keywords (any case), which are never unquoted
 * names. */
bool cql_lex_is_reserved(const char *s, size_t n);
/* A printable name of a token kind for messages ("IDENT", "STRING_LITERAL", ...). */
const char *cql_tok_kind_name(cql_tok_kind k);

#endif
