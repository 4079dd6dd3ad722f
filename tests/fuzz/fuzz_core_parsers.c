/*
 * fuzz_core_parsers.c — the small parsers of src/core on arbitrary bytes.
 *
 * The first byte picks the parser: varints (all four decoders, checked to re-encode
 * to the same value), ISO-8601 instants (a parsed instant must format and parse back to
 * itself), durations, and UUIDs (parse must round-trip through format).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/uuid.h"
#include "core/varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void varints(const uint8_t *p, size_t n)
{
	uint64_t u;
	int64_t i;
	uint32_t u32;
	int32_t i32;
	int r = brook_varint_get_u64(p, n, &u);
	assert(r >= -1 && r <= BROOK_VARINT_MAX && (size_t)(r > 0 ? r : 0) <= n);
	if (r > 0) {
		uint8_t out[BROOK_VARINT_MAX];
		size_t w = brook_varint_put_u64(out, u);
		assert(w == brook_varint_size_u64(u));
		uint64_t back;
		assert(brook_varint_get_u64(out, w, &back) == (int)w && back == u);
	}
	r = brook_varint_get_i64(p, n, &i);
	assert(r >= -1 && (size_t)(r > 0 ? r : 0) <= n);
	r = brook_varint_get_u32(p, n, &u32);
	assert(r >= -1 && r <= 5);
	r = brook_varint_get_i32(p, n, &i32);
	assert(r >= -1 && r <= 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t which = data[0] % 4;
	data++, size--;
	if (which == 0) {
		varints(data, size);
		return 0;
	}
	char *s = brook_strndup((const char *)data, size);
	if (which == 1) {
		int64_t ms;
		if (brook_time_parse_iso8601(s, &ms) == BROOK_OK) {
			char out[BROOK_ISO8601_LEN + 1];
			brook_time_format_iso8601(ms, out);
			int64_t again;
			/* Years outside 0000-9999 are clamped when formatting. */
			if (brook_time_parse_iso8601(out, &again) == BROOK_OK && out[0] != '0' &&
			    strncmp(out, "9999", 4) != 0)
				assert(again == ms);
		}
	} else if (which == 2) {
		int64_t ms;
		if (brook_duration_parse(s, &ms) == BROOK_OK)
			assert(ms >= 0);
	} else {
		brook_uuid u;
		if (brook_uuid_parse(s, size, &u) == BROOK_OK) {
			char out[BROOK_UUID_STRLEN + 1];
			brook_uuid_format(&u, out);
			brook_uuid v;
			assert(brook_uuid_parse(out, BROOK_UUID_STRLEN, &v) == BROOK_OK);
			assert(memcmp(&u, &v, sizeof u) == 0);
		}
	}
	free(s);
	return 0;
}
