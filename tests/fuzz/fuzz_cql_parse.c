/*
 * fuzz_cql_parse.c — the CQL parser on arbitrary bytes.
 *
 * Nothing may crash, leak, read out of bounds or recurse without bound. A statement
 * that parses must render (cql_stmt_dump) to CQL that parses again to the same
 * rendering, and its bind-marker list must agree with the markers' own indexes; a
 * statement that fails must leave a message starting "line ", "statement".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/cql_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	brook_arena a = BROOK_ARENA_INIT;
	char err[512];
	cql_stmt *s = NULL;
	if (cql_parse(&a, (const char *)data, size, &s, err, sizeof err) != BROOK_OK) {
		if (strncmp(err, "line ", 5) != 0 && strncmp(err, "statement", 9) != 0) {
			fprintf(stderr, "odd error message: %s\n", err);
			abort();
		}
		brook_arena_release(&a);
		return 0;
	}
	for (size_t i = 0; i < s->n_binds; i++)
		if (s->binds[i]->kind != CQL_TERM_BIND || s->binds[i]->bind_index != (int)i)
			abort();
	brook_buf b1 = BROOK_BUF_INIT, b2 = BROOK_BUF_INIT;
	cql_stmt_dump(&b1, s);
	cql_stmt *again = NULL;
	if (cql_parse(&a, b1.data, b1.len, &again, err, sizeof err) != BROOK_OK) {
		fprintf(stderr, "rendering does not parse: %s\n%s\n", err, b1.data);
		abort();
	}
	cql_stmt_dump(&b2, again);
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0 ||
	    again->n_binds != s->n_binds) {
		fprintf(stderr, "rendering is not stable:\n%s\n%s\n", b1.data, b2.data);
		abort();
	}
	brook_buf_release(&b1);
	brook_buf_release(&b2);
	brook_arena_release(&a);
	return 0;
}
