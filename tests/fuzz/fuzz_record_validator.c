/*
 * fuzz_record_validator.c — arbitrary bytes as a randomuser API response body.
 *
 * Drives source_parse_response() (size and depth pre-checks, yajl streaming through
 * the body, the per-user field extraction, the validator, compact records from the
 * source text) and compares it with the tree path, the oracle: jansson on the whole
 * body with JSON_REJECT_DUPLICATES, then source_validate_user() on each element.
 *   - the body is "not JSON" exactly when jansson rejects it (depth permitting; a
 *     body with a NUL byte is always refused: jansson 2.14 ignores one after a number);
 *   - every element gets the same verdict both ways: the valid ones are the records,
 *     in order, each re-parsing to its element (json_equal), on one line, valid again;
 *     the rejected ones are counted, and the sampled reasons read "results[i]: " and
 *     the tree path's reason, word for word;
 *   - a JSON body that is not a response fails with the message the tree gives
 *     (the API's error, no results array / info object, info.* members), and an
 *     accepted one carries info's values.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "source/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The top-level verdict of the tree: BROOK_OK or BROOK_ERR with the message. */
static int tree_top(const json_t *whole, char *err, size_t errlen, int *api_error)
{
	static const struct {
		const char *name;
		json_type type;
	} members[] = {
		{"seed", JSON_STRING},
		{"results", JSON_INTEGER},
		{"page", JSON_INTEGER},
		{"version", JSON_STRING},
	};
	json_t *e = json_object_get(whole, "error"), *info = json_object_get(whole, "info");

	*api_error = 0;
	if (!json_is_object(whole)) {
		snprintf(err, errlen, "response is not a JSON object");
		return BROOK_ERR;
	}
	if (e) {
		*api_error = 1;
		snprintf(err, errlen, "%s",
			 json_is_string(e) ? json_string_value(e) : "error without a message");
		return BROOK_ERR;
	}
	if (!json_is_array(json_object_get(whole, "results"))) {
		snprintf(err, errlen, "response has no \"results\" array");
		return BROOK_ERR;
	}
	if (!json_is_object(info)) {
		snprintf(err, errlen, "response has no \"info\" object");
		return BROOK_ERR;
	}
	for (size_t k = 0; k < sizeof members / sizeof members[0]; k++) {
		json_t *v = json_object_get(info, members[k].name);
		if (!v || json_typeof(v) != members[k].type) {
			snprintf(err, errlen, "info.%s: %s", members[k].name,
				 !v ? "missing"
				 : members[k].type == JSON_STRING ? "expected string"
								  : "expected integer");
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	source_response r;
	char err[256], reason[256], want[512], terr[256];
	int rc = source_parse_response((const char *)data, size, &r, err, sizeof err);
	int deep = rc != BROOK_OK && strstr(err, "nests deeper") != NULL;
	json_t *whole = deep || size == 0 ? NULL
			: json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	int api = 0;

	/* jansson 2.14 ignores a NUL byte after a number or literal; brook refuses it */
	if (memchr(data, 0, size)) {
		if (rc == BROOK_OK)
			abort();
		json_decref(whole);
		whole = NULL;
		deep = 1;
	}
	if (!deep && size > 0) {
		int not_json = rc != BROOK_OK && !r.api_error && strstr(err, "not JSON") != NULL;
		if ((whole == NULL) != not_json)
			abort();
	}
	if (whole) {
		int trc = tree_top(whole, terr, sizeof terr, &api);
		if (trc != rc || (rc != BROOK_OK && (strcmp(terr, err) != 0 || api != r.api_error)))
			abort();
	}
	if (rc == BROOK_OK) {
		json_t *results = json_object_get(whole, "results"), *info;
		size_t k = 0, rejected = 0;
		if (r.nreasons > r.nrejected || r.nreasons > SOURCE_MAX_REASONS)
			abort();
		if (r.nrecords + r.nrejected != json_array_size(results))
			abort();
		for (size_t i = 0; i < json_array_size(results); i++) {
			json_t *el = json_array_get(results, i);
			if (source_validate_user(el, reason, sizeof reason) != BROOK_OK) {
				snprintf(want, sizeof want, "results[%zu]: %s", i, reason);
				if (rejected < r.nreasons && strcmp(r.reasons[rejected], want) != 0)
					abort();
				rejected++;
				continue;
			}
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
		if (k != r.nrecords || rejected != r.nrejected)
			abort();
		info = json_object_get(whole, "info");
		if (strcmp(r.seed, json_string_value(json_object_get(info, "seed"))) != 0 ||
		    strcmp(r.version, json_string_value(json_object_get(info, "version"))) != 0 ||
		    r.page != json_integer_value(json_object_get(info, "page")) ||
		    r.results != json_integer_value(json_object_get(info, "results")))
			abort();
	}
	json_decref(whole);
	source_response_release(&r);
	return 0;
}
