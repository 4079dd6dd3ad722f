/*
 * fuzz_cql_value.c — CQL types and values from arbitrary bytes.
 *
 * Input: if the first byte is 'O', the type is an [option] read from the bytes after
 * it; otherwise the type is the text up to the first NUL byte. The rest is a value.
 * Invariants: nothing crashes or reads out of bounds; a text type that parses prints a
 * name that parses back to an equal type; a value is validated and printed in both text
 * forms; a literal that cql_value_from_text accepts serializes to a value that
 * validates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "cql/proto.h"
#include "cql/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	char err[256];
	const cql_type *t;
	const uint8_t *val;
	size_t vlen;
	if (size > 0 && data[0] == 'O') {
		cql_rd rd;
		cql_rd_init(&rd, data + 1, size - 1);
		t = cql_type_read(&rd, &a);
		if (!t) {
			if (!rd.failed || !rd.err[0])
				abort();
			goto out;
		}
		val = rd.p;
		vlen = cql_rd_left(&rd);
	} else {
		const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
		size_t tlen = nul ? (size_t)(nul - data) : size;
		err[0] = '\0';
		t = cql_type_parse((const char *)data, tlen, &a, err, sizeof err);
		if (!t) {
			if (!err[0])
				abort();
			goto out;
		}
		cql_type_print(&b, t);
		const cql_type *t2 = cql_type_parse(b.data, b.len, &a, err, sizeof err);
		if (!t2 || !cql_type_equal(t, t2))
			abort();
		brook_buf_reset(&b);
		val = nul ? nul + 1 : data + size;
		vlen = nul ? size - tlen - 1 : 0;
	}
	err[0] = '\0';
	if (cql_value_validate(t, val, vlen, err, sizeof err) != BROOK_OK && !err[0])
		abort();
	cql_value_to_text(&b, t, val, (int32_t)vlen, 0);
	brook_buf_reset(&b);
	cql_value_to_text(&b, t, val, (int32_t)vlen, CQL_TEXT_LITERAL);
	brook_buf_reset(&b);
	/* the value bytes as a literal of the type */
	if (cql_value_from_text(t, (const char *)val, vlen, &b, err, sizeof err) == BROOK_OK) {
		if (cql_value_validate(t, (const uint8_t *)b.data, b.len, err, sizeof err) !=
		    BROOK_OK)
			abort();
	}
	/* the [option] encoding reads back to an equal type */
	brook_buf_reset(&b);
	cql_type_write(&b, t);
	cql_rd rd3;
	cql_rd_init(&rd3, b.data, b.len);
	const cql_type *t3 = cql_type_read(&rd3, &a);
	if (!t3 || !cql_type_equal(t, t3) || cql_rd_left(&rd3))
		abort();
out:
	brook_buf_release(&b);
	brook_arena_release(&a);
	return 0;
}
