/*
 * fuzz_kafka_request.c — arbitrary bytes as a Kafka request frame body (header + body).
 *
 * Decodes the request header; when the API and version are supported, decodes the body
 * into an arena. Invariants: nothing crashes or reads out of bounds; a failed decode
 * leaves a message; a successful decode re-encodes, and the re-encoding decodes again
 * and encodes to the very same bytes (the codec's canonical form is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "kafka/api.h"
#include "kafka/codec.h"
#include "kafka/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kafka_rd rd;
	kafka_req_header h;
	kafka_rd_init(&rd, data, size);
	if (kafka_req_header_decode(&rd, &h) != BROOK_OK) {
		if (!rd.failed || !rd.err[0])
			abort();
		return 0;
	}
	const kafka_api_info *api = kafka_api_lookup(h.api_key);
	if (!api || !kafka_api_supported(api, h.api_version))
		return 0;

	brook_arena arena = BROOK_ARENA_INIT;
	brook_buf a = BROOK_BUF_INIT, b = BROOK_BUF_INIT;
	void *req;
	if (kafka_request_decode(api, h.api_version, &rd, &arena, &req) != BROOK_OK) {
		if (!rd.failed || !rd.err[0])
			abort();
		goto out;
	}
	kafka_request_encode(api, h.api_version, req, &a);

	kafka_rd rd2;
	void *again;
	kafka_rd_init(&rd2, a.data, a.len);
	if (kafka_request_decode(api, h.api_version, &rd2, &arena, &again) != BROOK_OK)
		abort();
	if (kafka_rd_left(&rd2) != 0)
		abort();
	kafka_request_encode(api, h.api_version, again, &b);
	if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();
out:
	brook_buf_release(&a);
	brook_buf_release(&b);
	brook_arena_release(&arena);
	return 0;
}
