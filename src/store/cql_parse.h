/*
 * cql_parse.h — CQL text to a syntax tree (cql_ast.h), by hand-written recursive descent.
 *
 * One statement per call, optionally ended by ';'. Keywords are case-insensitive;
 * reserved keywords (Cassandra 3.11's list) cannot be unquoted names.
 *
 * Errors: BROOK_ERR with a message in Cassandra's SyntaxException style, which the
 * server sends as error 0x2000:
 *   line 1:9 no viable alternative at input 'FRM' (SELECT * [FRM]...)
 *   line 1:14 mismatched input 'xyz' expecting K_FROM (SELECT a, b [xyz]...)
 * (line 1-based, column 0-based; the snippet shows up to 10 tokens before the offending
 * one, which is bracketed, and "..." when more follows).
 *
 * Bounds (a peer controls the text): at most CQL_MAX_STATEMENT bytes, nesting of terms,
 * types and selectors at most CQL_MAX_DEPTH deep, at most CQL_MAX_NODES terms and other
 * list elements, at most CQL_MAX_BINDS bind markers (the protocol counts them in a
 * [short]). Exceeding one is a syntax error that says which limit.
 */
#ifndef BROOK_STORE_CQL_PARSE_H
#define BROOK_STORE_CQL_PARSE_H

#include <stddef.h>

#include "core/arena.h"
#include "store/cql_ast.h"

#define CQL_MAX_STATEMENT (1024 * 1024)
#define CQL_MAX_DEPTH 32
#define CQL_MAX_NODES 200000
#define CQL_MAX_BINDS 65535

/* Parses text[0..len). On success *out is the statement, allocated in `arena` (free it
 * with the arena). On failure returns BROOK_ERR with the message in err; whatever the
 * parser had allocated stays in the arena until it is reset or released. */
int cql_parse(brook_arena *arena, const char *text, size_t len, cql_stmt **out, char *err,
	      size_t errlen);

#endif
