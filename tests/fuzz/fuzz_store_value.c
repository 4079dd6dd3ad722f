/*
 * fuzz_store_value.c — CQL terms and bound values to typed values (store/values.h).
 *
 * Input: byte 0 picks the column type: below the table's size, a type of the table
 * (natives, collections, frozen and nested ones, tuples); otherwise the type is the text
 * from byte 1 up to the first NUL, parsed with cql_type_parse (inputs whose type does
 * not parse stop there). The next byte picks the mode, low two bits:
 *   0  the rest is a term: "INSERT INTO t (c) VALUES (<rest>)" is parsed with the real
 *      parser and its value converted; its bind markers (if any) get a fixed set of
 *      bound values (an int, 8 bytes, a null, a not-set);
 *   1  the rest is a bound value's bytes (the ? of "VALUES (?)");
 *   2  a null bound value;  3  a not-set bound value.
 * Invariants: nothing crashes, leaks or reads out of bounds; a failure has a message; a
 * converted value validates as its type (cql_value_validate) and is a null or not-set
 * exactly when the input was; store_value_cmp is reflexive and antisymmetric on the
 * value, the raw rest of the input, and on the halves of the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "cql/proto.h"
#include "cql/types.h"
#include "store/cql_parse.h"
#include "store/values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = {
    "int",
    "bigint",
    "smallint",
    "tinyint",
    "varint",
    "decimal",
    "float",
    "double",
    "boolean",
    "text",
    "ascii",
    "blob",
    "uuid",
    "timeuuid",
    "timestamp",
    "date",
    "time",
    "inet",
    "counter",
    "list<int>",
    "set<text>",
    "map<text, int>",
    "set<timeuuid>",
    "map<timestamp, frozen<list<double>>>",
    "frozen<list<set<varint>>>",
    "tuple<int, text, blob>",
    "list<frozen<tuple<date, time>>>",
    "set<decimal>",
    "map<inet, frozen<set<smallint>>>",
    "frozen<tuple<uuid, frozen<map<tinyint, boolean>>>>",
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

#define NOW_MS 1700000000123LL

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Reflexive and antisymmetric on x and y. */
static void check_cmp(const cql_type *t, const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	if (store_value_cmp(t, x, xn, x, xn) != 0 || store_value_cmp(t, y, yn, y, yn) != 0)
		abort();
	if (sign(store_value_cmp(t, x, xn, y, yn)) != -sign(store_value_cmp(t, y, yn, x, xn)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t one[4] = {0, 0, 0, 1}, eight[8] = {0, 0, 1, 0x85, 0xeb, 0x6f, 0x3c, 7};
	static const uint8_t empty[1];
	brook_arena a = BROOK_ARENA_INIT;
	char err[512];
	if (size < 2)
		return 0;
	const cql_type *t;
	size_t at;
	if (data[0] < NTYPES) {
		const char *name = types[data[0]];
		t = cql_type_parse(name, strlen(name), &a, err, sizeof err);
		if (!t)
			abort(); /* the table's types all parse */
		at = 1;
	} else {
		const uint8_t *nul = memchr(data + 1, 0, size - 1);
		size_t tlen = nul ? (size_t)(nul - data - 1) : size - 1;
		err[0] = '\0';
		t = cql_type_parse((const char *)data + 1, tlen, &a, err, sizeof err);
		if (!t) {
			if (!err[0])
				abort();
			goto out;
		}
		at = 1 + tlen + (nul != NULL);
	}
	if (at >= size)
		goto out;
	int mode = data[at++] & 3;
	const uint8_t *rest = size > at ? data + at : empty;
	size_t rlen = size - at;

	cql_bytes binds[4] = {{one, 4}, {eight, 8}, {NULL, CQL_NULL}, {NULL, CQL_UNSET}};
	size_t nbinds = 4;
	brook_buf q = BROOK_BUF_INIT;
	if (mode == 0) {
		brook_buf_puts(&q, "INSERT INTO t (c) VALUES (");
		brook_buf_append(&q, rest, rlen);
		brook_buf_putc(&q, ')');
	} else {
		brook_buf_puts(&q, "INSERT INTO t (c) VALUES (?)");
		nbinds = 1;
		if (mode == 1)
			binds[0] = (cql_bytes){rest, (int32_t)rlen};
		else
			binds[0] =
			    mode == 2 ? (cql_bytes){NULL, CQL_NULL} : (cql_bytes){NULL, CQL_UNSET};
	}
	cql_stmt *st = NULL;
	if (cql_parse(&a, q.data, q.len, &st, err, sizeof err) != BROOK_OK ||
	    st->kind != CQL_STMT_INSERT || st->u.insert.n_values < 1) {
		if (mode != 0)
			abort(); /* the fixed statement parses */
		brook_buf_release(&q);
		goto out;
	}
	if (nbinds > st->n_binds)
		nbinds = st->n_binds;
	store_value v;
	err[0] = '\0';
	int rc = store_value_from_term(t, "c", st->u.insert.values[0], binds, nbinds, NOW_MS, &a,
	                               &v, err, sizeof err);
	brook_buf_release(&q);
	if (rc != BROOK_OK) {
		if (!err[0])
			abort();
		if (mode >= 2)
			abort(); /* null and not-set always convert */
	} else if (v.kind == STORE_VALUE_SET) {
		char verr[256];
		if (!v.ptr || mode >= 2)
			abort();
		if (cql_value_validate(t, v.ptr, v.len, verr, sizeof verr) != BROOK_OK) {
			fprintf(stderr, "converted value does not validate: %s\n", verr);
			abort();
		}
		check_cmp(t, v.ptr, v.len, rest, rlen);
	} else if (v.kind == STORE_VALUE_NULL) {
		if (mode == 1 || mode == 3)
			abort();
	} else if (mode == 1 || mode == 2) { /* STORE_VALUE_UNSET */
		abort();
	}
	check_cmp(t, rest, rlen / 2, rest + rlen / 2, rlen - rlen / 2);
out:
	brook_arena_release(&a);
	return 0;
}
