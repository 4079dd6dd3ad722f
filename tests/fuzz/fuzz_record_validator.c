/*
 * fuzz_record_validator.c — arbitrary bytes as a randomuser API response body.
 *
 * Drives source_parse_response() (size and depth pre-checks, jansson, per-record
 * validation, compact re-serialisation). Invariants checked: every accepted record
 * re-parses as a JSON object and validates again; counts add up.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "source/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	source_response r;
	char err[256], reason[256];

	if (source_parse_response((const char *)data, size, &r, err, sizeof err) == BROOK_OK) {
		if (r.nreasons > r.nrejected || r.nreasons > SOURCE_MAX_REASONS)
			abort();
		for (size_t i = 0; i < r.nrecords; i++) {
			json_t *u = json_loads(r.records[i], 0, NULL);
			if (!json_is_object(u) || strchr(r.records[i], '\n'))
				abort();
			if (source_validate_user(u, reason, sizeof reason) != BROOK_OK)
				abort();
			json_decref(u);
		}
	}
	source_response_release(&r);
	return 0;
}
