/* Fuzz target: PostgreSQL text values parsed into Avro datums (src/connect/rowavro.h).
 * The first byte picks the column kind, the rest is the text as pgoutput delivers it.
 * A parse that succeeds must give a value of the kind's JSON type. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "connect/rowavro.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	rowavro_kind kind = (rowavro_kind)(data[0] % (ROWAVRO_UUID + 1));
	json_t *v = NULL;
	char err[256];
	if (rowavro_parse_text(kind, (const char *)data + 1, size - 1, &v, err, sizeof err) ==
	    BROOK_OK) {
		int ok = v != NULL;
		switch (kind) {
		case ROWAVRO_BOOLEAN: ok = ok && json_is_boolean(v); break;
		case ROWAVRO_INT:
		case ROWAVRO_LONG:
		case ROWAVRO_DATE:
		case ROWAVRO_TIMESTAMP:
		case ROWAVRO_TIMESTAMPTZ: ok = ok && json_is_integer(v); break;
		case ROWAVRO_FLOAT:
		case ROWAVRO_DOUBLE: ok = ok && json_is_number(v); break;
		default: ok = ok && json_is_string(v); break;
		}
		if (!ok)
			abort();
	}
	json_decref(v);
	return 0;
}
