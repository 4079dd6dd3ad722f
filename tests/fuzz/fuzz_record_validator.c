/*
 * fuzz_record_validator.c — arbitrary bytes as a randomuser API response body.
 *
 * Drives source_parse_response() (size and depth pre-checks, the response scanner,
 * jansson per value, per-record validation, compact records from the source text).
 * Invariants checked: every accepted record re-parses as a JSON object, validates
 * again, holds no line break and equals (json_equal) its element of the body parsed
 * whole by jansson; counts add up; and the oracle — jansson on the whole body with
 * JSON_REJECT_DUPLICATES — accepts the body exactly when the scanner does not call
 * it "not JSON" (depth permitting).
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
	int rc = source_parse_response((const char *)data, size, &r, err, sizeof err);
	int deep = rc != BROOK_OK && strstr(err, "nests deeper") != NULL;
	json_t *whole = deep || size == 0 ? NULL
			: json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (!deep && size > 0) {
		int not_json = rc != BROOK_OK && !r.api_error && strstr(err, "not JSON") != NULL;
		if ((whole == NULL) != not_json)
			abort();
	}
	if (rc == BROOK_OK) {
		json_t *results = json_object_get(whole, "results");
		size_t k = 0;
		if (r.nreasons > r.nrejected || r.nreasons > SOURCE_MAX_REASONS)
			abort();
		if (r.nrecords + r.nrejected != json_array_size(results))
			abort();
		for (size_t i = 0; i < json_array_size(results); i++) {
			json_t *el = json_array_get(results, i);
			if (source_validate_user(el, reason, sizeof reason) != BROOK_OK)
				continue;
			if (k >= r.nrecords)
				abort();
			json_t *u = json_loads(r.records[k], 0, NULL);
			if (!json_is_object(u) || strchr(r.records[k], '\n') || !json_equal(u, el))
				abort();
			if (source_validate_user(u, reason, sizeof reason) != BROOK_OK)
				abort();
			json_decref(u);
			k++;
		}
		if (k != r.nrecords)
			abort();
	}
	json_decref(whole);
	source_response_release(&r);
	return 0;
}
