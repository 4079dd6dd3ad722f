/* Fuzz target: expr_compile on arbitrary text, then expr_eval of what compiled against a
 * small fixed record. Compilation fails with a message or gives an expr; evaluation
 * succeeds or fails with a message; never out of bounds, never a leak, never a stack
 * overflow (nesting is bounded). Paths starting with 'a'..'m' resolve as ANY/nullable,
 * others are unknown. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "stream/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int resolve(void *arg, const char *path, expr_type *type, bool *nullable, char *err,
                   size_t errlen)
{
	(void)arg;
	if (path[0] >= 'a' && path[0] <= 'm') {
		*type = EXPR_ANY;
		*nullable = true;
		return BROOK_OK;
	}
	snprintf(err, errlen, "unknown field '%s'", path);
	return BROOK_ERR;
}

static const char record[] =
    "{\"a\":1,\"b\":\"two\",\"c\":2.5,\"d\":true,\"e\":null,\"f\":{\"g\":\"2024-03-05T10:00:00Z\","
    "\"h\":[1,2]},\"i\":\"8c9ddcb0-8084-5a7f-a988-1095ab18b5df\",\"j\":-9223372036854775808,"
    "\"k\":\"h\\u00e9llo w\\u00f6rld\",\"l\":\"42\",\"m\":1709632800000}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *rec;
	char err[256];
	brook_arena a = BROOK_ARENA_INIT;
	expr_value v;

	if (size > EXPR_MAX_TEXT + 16)
		return 0;
	if (!rec)
		rec = json_loads(record, 0, NULL);
	char *text = brook_malloc(size + 1);
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	expr *e = expr_compile(text, resolve, NULL, err, sizeof err);
	if (!e) {
		if (strncmp(err, "column ", 7) != 0)
			abort(); /* a compile error always says where */
	} else {
		err[0] = '\0';
		if (expr_eval(e, rec, &a, &v, err, sizeof err) == BROOK_OK) {
			brook_buf b = BROOK_BUF_INIT;
			if (v.type == EXPR_ANY)
				abort();
			if (expr_value_to_text(&v, &b) != (v.type != EXPR_NULL))
				abort();
			brook_buf_release(&b);
		} else if (err[0] == '\0') {
			abort(); /* an evaluation error always says why */
		}
		expr_free(e);
	}
	brook_arena_release(&a);
	free(text);
	return 0;
}
