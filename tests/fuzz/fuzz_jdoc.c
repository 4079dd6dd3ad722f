/* Fuzz target: brook_jdoc_parse on arbitrary bytes, differential against jansson.
 *
 * The oracle is json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL): any top-level value and
 * "\u0000" in strings, as jdoc accepts them. Both must accept or both reject, and when
 * both accept the trees must be equal (same types, values, strings byte for byte; an
 * object's jdoc members, duplicates included, all present in jansson's, whose last
 * duplicate wins as in brook_jnode_get). The documented differences (core/jdoc.h) are
 * the only exceptions allowed:
 *   - an integer beyond int64: jansson "too big (negative) integer", jdoc a real;
 *   - "\u0000" in a key: jansson refuses it even with JSON_ALLOW_NUL, jdoc keeps it;
 *   - nesting deeper than 128: jdoc refuses, jansson allows 2048;
 *   - a NUL byte outside a string: jdoc refuses, jansson 2.14 ignores one after a
 *     number or literal (a jansson bug).
 * Every jdoc error must say where ("at byte N"). The document is also converted from
 * jansson's tree (brook_jdoc_from_json) and compared the same way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const brook_jnode *x, const json_t *j)
{
	if (!x || !j)
		abort();
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (x->type != BROOK_J_OBJECT || x->u.o.n < json_object_size(j))
			abort();
		for (size_t i = 0; i < x->u.o.n; i++) {
			const json_t *v = json_object_getn(j, x->u.o.keys[i], x->u.o.klen[i]);
			if (!v || x->u.o.keys[i][x->u.o.klen[i]] != '\0')
				abort();
			same(brook_jnode_get(x, x->u.o.keys[i], x->u.o.klen[i]), v);
		}
		break;
	case JSON_ARRAY:
		if (x->type != BROOK_J_ARRAY || x->u.a.n != json_array_size(j))
			abort();
		for (size_t i = 0; i < x->u.a.n; i++)
			same(x->u.a.items[i], json_array_get(j, i));
		break;
	case JSON_STRING:
		if (x->type != BROOK_J_STRING || x->u.s.n != json_string_length(j) ||
		    memcmp(x->u.s.p, json_string_value(j), x->u.s.n + 1) != 0)
			abort();
		break;
	case JSON_INTEGER:
		if (x->type != BROOK_J_INT || x->u.i != json_integer_value(j))
			abort();
		break;
	case JSON_REAL:
		if (x->type != BROOK_J_REAL ||
		    memcmp(&x->u.d, &(double){json_real_value(j)}, sizeof(double)) != 0)
			abort();
		break;
	case JSON_TRUE:
		if (x->type != BROOK_J_TRUE)
			abort();
		break;
	case JSON_FALSE:
		if (x->type != BROOK_J_FALSE)
			abort();
		break;
	case JSON_NULL:
		if (x->type != BROOK_J_NULL)
			abort();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	brook_arena a = BROOK_ARENA_INIT;
	char err[256];
	json_error_t jerr;

	if (size > (1u << 20))
		return 0;
	err[0] = '\0';
	const brook_jnode *x = brook_jdoc_parse((const char *)data, size, &a, err, sizeof err);
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!x && !strstr(err, " at byte "))
		abort(); /* an error always says where */
	if (x && j) {
		same(x, j);
		same(brook_jdoc_from_json(j, &a), j);
	} else if (x && !j) {
		if (!strstr(jerr.text, "too big") && !strstr(jerr.text, "NUL byte in object key"))
			abort();
	} else if (!x && j) {
		if (!strstr(err, "nesting deeper than") && strncmp(err, "NUL byte", 8) != 0) {
			fprintf(stderr, "jdoc refuses what jansson accepts: %s\n", err);
			abort();
		}
	}
	json_decref(j);
	brook_arena_release(&a);
	return 0;
}
