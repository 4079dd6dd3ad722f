/*
 * Unit tests for the Kafka codec (kafka/proto, codec, api, msgs, errors):
 * byte-exact encodings built by hand, encode -> decode -> encode round trips of every
 * API at its lowest and highest supported version (contents generated from the schema
 * tables themselves), truncation at every byte, lying lengths, tagged fields, headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "kafka/api.h"
#include "kafka/codec.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"
#include "kafka/proto.h"

static void assert_bytes(const brook_buf *b, const uint8_t *want, size_t n)
{
	if (b->len != n || memcmp(b->data, want, n) != 0) {
		fprintf(stderr, "got %zu bytes:", b->len);
		for (size_t i = 0; i < b->len; i++)
			fprintf(stderr, " %02x", (uint8_t)b->data[i]);
		fprintf(stderr, "\n");
		fail_msg("encoding differs from the expected %zu bytes", n);
	}
}

/* ---- a schema-driven filler: non-trivial contents for any message ---- */

typedef struct filler {
	brook_arena *arena;
	unsigned counter;
} filler;

static void fill_struct(filler *fl, const kafka_schema *s, int16_t ver, uint8_t *p, int depth);

static void fill_value(filler *fl, const kafka_field *f, kafka_type t, int16_t ver, void *p,
		       bool may_null, int depth)
{
	unsigned k = ++fl->counter;
	switch (t) {
	case KAFKA_T_BOOL:
		*(bool *)p = k & 1;
		break;
	case KAFKA_T_INT8:
		*(int8_t *)p = (int8_t)(k % 100 + 1);
		break;
	case KAFKA_T_INT16:
		*(int16_t *)p = (int16_t)(k * 7 + 1);
		break;
	case KAFKA_T_UINT16:
		*(uint16_t *)p = (uint16_t)(k * 11 + 1);
		break;
	case KAFKA_T_INT32:
		*(int32_t *)p = (int32_t)(k * 1000003u + 5);
		break;
	case KAFKA_T_INT64:
		*(int64_t *)p = (int64_t)k * 1000000007LL + 3;
		break;
	case KAFKA_T_FLOAT64:
		*(double *)p = k * 0.5;
		break;
	case KAFKA_T_UUID:
		for (int i = 0; i < 16; i++)
			((kafka_uuid *)p)->b[i] = (uint8_t)(k + (unsigned)i);
		break;
	case KAFKA_T_STRING:
		if (may_null && k % 5 == 0) {
			*(kafka_str *)p = KAFKA_STR_NULL;
		} else {
			char *s = brook_arena_alloc(fl->arena, 16);
			int n = snprintf(s, 16, "s%u", k);
			*(kafka_str *)p = (kafka_str){s, n};
		}
		break;
	case KAFKA_T_BYTES:
	case KAFKA_T_RECORDS:
		if (may_null && k % 5 == 0) {
			*(kafka_bytes *)p = KAFKA_BYTES_NULL;
		} else {
			uint8_t *b = brook_arena_alloc(fl->arena, 8);
			for (int i = 0; i < 8; i++)
				b[i] = (uint8_t)(k * 3 + (unsigned)i);
			*(kafka_bytes *)p = (kafka_bytes){b, (int32_t)(k % 9)};
		}
		break;
	case KAFKA_T_STRUCT:
		fill_struct(fl, f->sub, ver, p, depth + 1);
		break;
	case KAFKA_T_ARRAY:
		break;
	}
}

static size_t elem_size(const kafka_field *f)
{
	if (f->sub)
		return f->sub->size;
	switch (f->elem_type) {
	case KAFKA_T_INT32:
		return sizeof(int32_t);
	case KAFKA_T_INT64:
		return sizeof(int64_t);
	case KAFKA_T_STRING:
		return sizeof(kafka_str);
	default:
		fail_msg("unexpected primitive array type in %s", f->name);
	}
	return 0;
}

static void fill_struct(filler *fl, const kafka_schema *s, int16_t ver, uint8_t *p, int depth)
{
	kafka_defaults(s, ver, p);
	for (size_t i = 0; i < s->nfields; i++) {
		const kafka_field *f = &s->fields[i];
		if (!kafka_field_present(f, ver))
			continue;
		bool may_null = f->nullable_min >= 0 && ver >= f->nullable_min;
		if (f->type != KAFKA_T_ARRAY) {
			fill_value(fl, f, f->type, ver, p + f->offset, may_null, depth);
			continue;
		}
		int32_t n = depth > 2 ? 1 : 2;
		if (may_null && ++fl->counter % 4 == 0)
			n = -1;
		*(int32_t *)(p + f->count_offset) = n;
		if (n <= 0)
			continue;
		size_t esz = elem_size(f);
		uint8_t *items = brook_arena_calloc(fl->arena, (size_t)n * esz);
		*(void **)(p + f->offset) = items;
		for (int32_t j = 0; j < n; j++) {
			if (f->sub)
				fill_struct(fl, f->sub, ver, items + (size_t)j * esz, depth + 1);
			else
				fill_value(fl, f, f->elem_type, ver, items + (size_t)j * esz, false,
					   depth);
		}
	}
}

/* encode(filled) -> decode -> encode must give identical bytes; then every strict
 * prefix must fail to decode, with a message. */
static void roundtrip(const kafka_api_info *api, const kafka_schema *s, int16_t ver)
{
	brook_arena arena = BROOK_ARENA_INIT;
	filler fl = {&arena, (unsigned)api->key * 31u + (unsigned)ver};
	bool flex = kafka_api_flexible(api, ver);
	void *msg = brook_arena_alloc(&arena, s->size);
	fill_struct(&fl, s, ver, msg, 0);

	brook_buf a = BROOK_BUF_INIT, b = BROOK_BUF_INIT;
	kafka_encode(s, ver, flex, msg, &a);

	brook_arena darena = BROOK_ARENA_INIT;
	void *back = brook_arena_alloc(&darena, s->size);
	kafka_rd rd;
	kafka_rd_init(&rd, a.data, a.len);
	if (kafka_decode(s, ver, flex, &rd, back, &darena) != BROOK_OK)
		fail_msg("%s v%d: %s", s->name, ver, rd.err);
	assert_int_equal(kafka_rd_left(&rd), 0);
	kafka_encode(s, ver, flex, back, &b);
	if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		fail_msg("%s v%d: re-encoding differs (%zu vs %zu bytes)", s->name, ver, a.len,
			 b.len);

	for (size_t cut = 0; cut < a.len; cut++) {
		brook_arena_reset(&darena);
		kafka_rd_init(&rd, a.data, cut);
		void *t = brook_arena_alloc(&darena, s->size);
		if (kafka_decode(s, ver, flex, &rd, t, &darena) != BROOK_ERR)
			fail_msg("%s v%d: %zu-byte prefix of %zu decoded", s->name, ver, cut, a.len);
		assert_true(rd.failed);
		assert_true(strlen(rd.err) > 0);
	}
	brook_buf_release(&a);
	brook_buf_release(&b);
	brook_arena_release(&arena);
	brook_arena_release(&darena);
}

static void test_roundtrip_every_api(void **state)
{
	(void)state;
	for (size_t i = 0; i < kafka_napis; i++) {
		const kafka_api_info *api = &kafka_apis[i];
		int16_t vers[] = {api->min_ver, api->max_ver};
		for (int v = 0; v < 2; v++) {
			roundtrip(api, api->request, vers[v]);
			roundtrip(api, api->response, vers[v]);
		}
		/* And every version in between, for the request the broker decodes. */
		for (int16_t v = api->min_ver; v <= api->max_ver; v++)
			roundtrip(api, api->request, v);
	}
}

/* ---- byte-exact encodings ---- */

static void test_api_versions_v0_exact(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	kafka_req_header h = {KAFKA_API_API_VERSIONS, 0, 7, KAFKA_STR("ab")};
	kafka_req_header_encode(&b, &h);
	kafka_api_versions_req req = {KAFKA_STR_NULL, KAFKA_STR_NULL};
	kafka_encode(&kafka_api_versions_req_schema, 0, false, &req, &b);
	static const uint8_t want_req[] = {0, 18, 0, 0, 0, 0, 0, 7, 0, 2, 'a', 'b'};
	assert_bytes(&b, want_req, sizeof want_req);

	brook_buf_reset(&b);
	kafka_api_version keys[] = {{0, 3, 7}, {18, 0, 3}};
	kafka_api_versions_resp resp;
	kafka_defaults(&kafka_api_versions_resp_schema, 3, &resp); /* epoch -1: not written */
	resp.api_keys = keys;
	resp.n_api_keys = 2;
	kafka_resp_header_encode(&b, 7, kafka_resp_header_flexible(18, 0));
	kafka_encode(&kafka_api_versions_resp_schema, 0, false, &resp, &b);
	static const uint8_t want_resp[] = {0, 0, 0, 7, 0, 0, 0, 0, 0, 2, 0, 0, 0,
					    3, 0, 7, 0, 18, 0, 0, 0, 3};
	assert_bytes(&b, want_resp, sizeof want_resp);

	/* v3: response header stays v0, body is flexible. */
	brook_buf_reset(&b);
	assert_false(kafka_resp_header_flexible(KAFKA_API_API_VERSIONS, 3));
	assert_true(kafka_resp_header_flexible(KAFKA_API_API_VERSIONS + 1, 5));
	resp.throttle_time_ms = 1;
	kafka_encode(&kafka_api_versions_resp_schema, 3, true, &resp, &b);
	static const uint8_t want_v3[] = {0, 0, 3, 0, 0, 0, 3, 0, 7, 0, 0, 18, 0, 0,
					  0, 3, 0, 0, 0, 0, 1, 0};
	assert_bytes(&b, want_v3, sizeof want_v3);
	brook_buf_release(&b);
}

static void test_metadata_null_vs_empty(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	brook_arena arena = BROOK_ARENA_INIT;
	kafka_metadata_req req;
	kafka_defaults(&kafka_metadata_req_schema, 1, &req);
	req.n_topics = -1;
	kafka_encode(&kafka_metadata_req_schema, 1, false, &req, &b);
	static const uint8_t null_topics[] = {0xff, 0xff, 0xff, 0xff};
	assert_bytes(&b, null_topics, 4);

	brook_buf_reset(&b);
	req.n_topics = 0;
	kafka_encode(&kafka_metadata_req_schema, 1, false, &req, &b);
	static const uint8_t empty_topics[] = {0, 0, 0, 0};
	assert_bytes(&b, empty_topics, 4);

	kafka_rd rd;
	kafka_metadata_req got;
	kafka_rd_init(&rd, null_topics, 4);
	assert_int_equal(kafka_decode(&kafka_metadata_req_schema, 1, false, &rd, &got, &arena),
			 BROOK_OK);
	assert_int_equal(got.n_topics, -1);
	assert_true(got.allow_auto_topic_creation); /* absent before v4: default true */
	kafka_rd_init(&rd, empty_topics, 4);
	assert_int_equal(kafka_decode(&kafka_metadata_req_schema, 1, false, &rd, &got, &arena),
			 BROOK_OK);
	assert_int_equal(got.n_topics, 0);

	/* v0 topics are not nullable. */
	kafka_rd_init(&rd, null_topics, 4);
	assert_int_equal(kafka_decode(&kafka_metadata_req_schema, 0, false, &rd, &got, &arena),
			 BROOK_ERR);
	assert_non_null(strstr(rd.err, "Topics"));
	assert_non_null(strstr(rd.err, "not nullable"));
	/* Encoding null where not allowed writes an empty array. */
	brook_buf_reset(&b);
	req.n_topics = -1;
	kafka_encode(&kafka_metadata_req_schema, 0, false, &req, &b);
	assert_bytes(&b, empty_topics, 4);

	/* v4 adds AllowAutoTopicCreation. */
	brook_buf_reset(&b);
	req.n_topics = -1;
	req.allow_auto_topic_creation = false;
	kafka_encode(&kafka_metadata_req_schema, 4, false, &req, &b);
	static const uint8_t v4[] = {0xff, 0xff, 0xff, 0xff, 0};
	assert_bytes(&b, v4, sizeof v4);
	brook_buf_release(&b);
	brook_arena_release(&arena);
}

static const uint8_t produce_v3[] = {
	0xff, 0xff,             /* transactional_id: null */
	0xff, 0xff,             /* acks -1 */
	0x00, 0x00, 0x03, 0xe8, /* timeout 1000 */
	0, 0, 0, 1,             /* 1 topic */
	0, 1, 't',              /* "t" */
	0, 0, 0, 1,             /* 1 partition */
	0, 0, 0, 2,             /* index 2 */
	0, 0, 0, 3, 'a', 'b', 'c', /* records */
};

static void test_produce_v3_exact(void **state)
{
	(void)state;
	kafka_partition_produce_data pd = {2, {(const uint8_t *)"abc", 3}};
	kafka_topic_produce_data td = {KAFKA_STR("t"), &pd, 1};
	kafka_produce_req req = {KAFKA_STR_NULL, -1, 1000, &td, 1};
	brook_buf b = BROOK_BUF_INIT;
	kafka_encode(&kafka_produce_req_schema, 3, false, &req, &b);
	assert_bytes(&b, produce_v3, sizeof produce_v3);

	brook_arena arena = BROOK_ARENA_INIT;
	kafka_rd rd;
	kafka_produce_req got;
	kafka_rd_init(&rd, produce_v3, sizeof produce_v3);
	assert_int_equal(kafka_decode(&kafka_produce_req_schema, 3, false, &rd, &got, &arena),
			 BROOK_OK);
	assert_int_equal(got.transactional_id.len, -1);
	assert_int_equal(got.acks, -1);
	assert_int_equal(got.timeout_ms, 1000);
	assert_int_equal(got.n_topic_data, 1);
	assert_true(kafka_str_eq(got.topic_data[0].name, "t"));
	assert_int_equal(got.topic_data[0].partition_data[0].index, 2);
	assert_int_equal(got.topic_data[0].partition_data[0].records.len, 3);
	/* Records point into the request buffer. */
	assert_ptr_equal(got.topic_data[0].partition_data[0].records.ptr, produce_v3 + 27);
	brook_buf_release(&b);
	brook_arena_release(&arena);
}

/* ---- bad input ---- */

static void test_lying_lengths(void **state)
{
	(void)state;
	brook_arena arena = BROOK_ARENA_INIT;
	kafka_rd rd;
	kafka_metadata_req mreq;
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0, 1, 'x'};
	kafka_rd_init(&rd, huge, sizeof huge);
	assert_int_equal(kafka_decode(&kafka_metadata_req_schema, 1, false, &rd, &mreq, &arena),
			 BROOK_ERR);
	assert_int_equal(arena.total, 0); /* failed before allocating */
	assert_non_null(strstr(rd.err, "Topics"));
	assert_non_null(strstr(rd.err, "2147483647"));

	/* Nested: the records length lies. */
	uint8_t bad[sizeof produce_v3];
	memcpy(bad, produce_v3, sizeof bad);
	bad[26] = 0x7f; /* records length 0x0000037f */
	bad[25] = 0x01;
	kafka_produce_req preq;
	kafka_rd_init(&rd, bad, sizeof bad);
	assert_int_equal(kafka_decode(&kafka_produce_req_schema, 3, false, &rd, &preq, &arena),
			 BROOK_ERR);
	assert_non_null(strstr(rd.err, "TopicData[0].PartitionData[0].Records: "));
	assert_non_null(strstr(rd.err, "exceeds the 3 bytes left"));

	/* A partition count larger than the bytes left, deep inside. */
	memcpy(bad, produce_v3, sizeof bad);
	bad[15] = 0x7f;
	brook_arena_reset(&arena);
	kafka_rd_init(&rd, bad, sizeof bad);
	assert_int_equal(kafka_decode(&kafka_produce_req_schema, 3, false, &rd, &preq, &arena),
			 BROOK_ERR);
	assert_non_null(strstr(rd.err, "TopicData[0].PartitionData"));

	/* Negative string length other than -1. */
	static const uint8_t negstr[] = {0xff, 0xfe};
	kafka_sasl_handshake_req hs;
	kafka_rd_init(&rd, negstr, sizeof negstr);
	assert_int_equal(kafka_decode(&kafka_sasl_handshake_req_schema, 1, false, &rd, &hs,
				      &arena),
			 BROOK_ERR);
	assert_non_null(strstr(rd.err, "Mechanism"));
	brook_arena_release(&arena);
}

static void test_sticky_reader(void **state)
{
	(void)state;
	static const uint8_t d[] = {1, 2, 3};
	kafka_rd rd;
	kafka_rd_init(&rd, d, sizeof d);
	assert_int_equal(kafka_rd_i16(&rd), 0x0102);
	assert_int_equal(kafka_rd_i32(&rd), 0);
	assert_true(rd.failed);
	assert_non_null(strstr(rd.err, "int32 at byte 2"));
	assert_int_equal(kafka_rd_i8(&rd), 0); /* later reads do nothing */
	assert_non_null(strstr(rd.err, "int32"));

	/* Unsigned varint too long. */
	static const uint8_t v[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
	kafka_rd_init(&rd, v, sizeof v);
	(void)kafka_rd_uvarint(&rd);
	assert_true(rd.failed);
	/* Compact array count vs bytes left. */
	static const uint8_t ca[] = {0x05, 1, 2};
	kafka_rd_init(&rd, ca, sizeof ca);
	assert_int_equal(kafka_rd_compact_array_len(&rd, 1), 0);
	assert_true(rd.failed);
	static const uint8_t ok[] = {0x03, 1, 2};
	kafka_rd_init(&rd, ok, sizeof ok);
	assert_int_equal(kafka_rd_compact_array_len(&rd, 1), 2);
	assert_false(rd.failed);
}

static void test_unknown_tags_skipped(void **state)
{
	(void)state;
	brook_arena arena = BROOK_ARENA_INIT;
	/* ApiVersions v3 request: name "a", version "b", tags {99: 3 bytes}. */
	static const uint8_t req[] = {2, 'a', 2, 'b', 1, 99, 3, 9, 9, 9};
	kafka_rd rd;
	kafka_api_versions_req r;
	kafka_rd_init(&rd, req, sizeof req);
	assert_int_equal(kafka_decode(&kafka_api_versions_req_schema, 3, true, &rd, &r, &arena),
			 BROOK_OK);
	assert_int_equal(kafka_rd_left(&rd), 0);
	assert_true(kafka_str_eq(r.client_software_name, "a"));
	assert_true(kafka_str_eq(r.client_software_version, "b"));

	/* ApiVersions v3 response: known tag 1 (FinalizedFeaturesEpoch), unknown tag 7. */
	static const uint8_t resp[] = {0, 0, /* error */ 1, /* no keys */ 0, 0, 0, 5,
				       2,    1, 8, 0,   0, 0, 0, 0, 0, 0, 42, 7, 1, 0xaa};
	kafka_api_versions_resp v;
	kafka_rd_init(&rd, resp, sizeof resp);
	assert_int_equal(kafka_decode(&kafka_api_versions_resp_schema, 3, true, &rd, &v,
				      &arena),
			 BROOK_OK);
	assert_int_equal(v.throttle_time_ms, 5);
	assert_int_equal(v.finalized_features_epoch, 42);
	assert_int_equal(v.n_supported_features, 0);
	assert_false(v.zk_migration_ready);

	/* Absent: the default. Re-encoding keeps the known tag, drops the unknown one. */
	brook_buf b = BROOK_BUF_INIT;
	kafka_encode(&kafka_api_versions_resp_schema, 3, true, &v, &b);
	static const uint8_t want[] = {0, 0, 1, 0, 0, 0, 5, 1, /* one tagged field */
				       1, 8, 0, 0, 0, 0, 0, 0, 0, 42};
	assert_bytes(&b, want, sizeof want);
	brook_buf_release(&b);

	/* A tag whose size lies. */
	static const uint8_t lie[] = {2, 'a', 2, 'b', 1, 99, 30, 9};
	kafka_rd_init(&rd, lie, sizeof lie);
	assert_int_equal(kafka_decode(&kafka_api_versions_req_schema, 3, true, &rd, &r, &arena),
			 BROOK_ERR);
	brook_arena_release(&arena);
}

static void test_headers(void **state)
{
	(void)state;
	kafka_req_header h;
	kafka_rd rd;
	/* Unknown API key: v1 header still decodes. */
	static const uint8_t unk[] = {0x03, 0xe7, 0, 9, 0, 0, 0, 5, 0xff, 0xff, 0xaa};
	kafka_rd_init(&rd, unk, sizeof unk);
	assert_int_equal(kafka_req_header_decode(&rd, &h), BROOK_OK);
	assert_int_equal(h.api_key, 999);
	assert_int_equal(h.api_version, 9);
	assert_int_equal(h.correlation_id, 5);
	assert_int_equal(h.client_id.len, -1);
	assert_int_equal(kafka_rd_left(&rd), 1);
	assert_null(kafka_api_lookup(999));

	/* ApiVersions v3: header v2, tags skipped. */
	static const uint8_t v3[] = {0, 18, 0, 3, 0, 0, 0, 1, 0, 1, 'c', 1, 5, 1, 0, 0xbb};
	kafka_rd_init(&rd, v3, sizeof v3);
	assert_int_equal(kafka_req_header_decode(&rd, &h), BROOK_OK);
	assert_true(kafka_str_eq(h.client_id, "c"));
	assert_int_equal(kafka_rd_left(&rd), 1);

	/* ApiVersions v4 (unsupported): only the v1 part, so the server can answer v0. */
	static const uint8_t v4[] = {0, 18, 0, 4, 0, 0, 0, 1, 0, 0, 0};
	kafka_rd_init(&rd, v4, sizeof v4);
	assert_int_equal(kafka_req_header_decode(&rd, &h), BROOK_OK);
	assert_int_equal(kafka_rd_left(&rd), 1);

	/* Truncated header. */
	kafka_rd_init(&rd, v3, 9);
	assert_int_equal(kafka_req_header_decode(&rd, &h), BROOK_ERR);
	assert_non_null(strstr(rd.err, "request header"));

	/* Encode/decode agree, and the frame length is patched. */
	brook_buf b = BROOK_BUF_INIT;
	size_t pos = kafka_wr_len_begin(&b);
	kafka_req_header eh = {KAFKA_API_METADATA, 8, 77, KAFKA_STR("brook")};
	kafka_req_header_encode(&b, &eh);
	kafka_wr_len_end(&b, pos);
	assert_int_equal(b.len, 4 + 2 + 2 + 4 + 2 + 5);
	assert_int_equal((uint8_t)b.data[3], b.len - 4);
	kafka_rd_init(&rd, b.data + 4, b.len - 4);
	assert_int_equal(kafka_req_header_decode(&rd, &h), BROOK_OK);
	assert_int_equal(h.correlation_id, 77);
	assert_true(kafka_str_eq(h.client_id, "brook"));
	brook_buf_release(&b);
}

static void test_api_table(void **state)
{
	(void)state;
	const kafka_api_info *p = kafka_api_lookup(KAFKA_API_PRODUCE);
	assert_non_null(p);
	assert_int_equal(p->min_ver, 3);
	assert_int_equal(p->max_ver, 7);
	assert_int_equal(p->flexible_min, 9);
	const kafka_api_info *jg = kafka_api_lookup(KAFKA_API_JOIN_GROUP);
	assert_int_equal(jg->min_ver, 0); /* librdkafka needs v0 in range */
	assert_string_equal(kafka_api_name(KAFKA_API_API_VERSIONS), "ApiVersions");
	assert_string_equal(kafka_api_name(42), "DeleteGroups");
	assert_string_equal(kafka_api_name(-5), "Unknown");
	for (size_t i = 0; i < kafka_napis; i++) {
		assert_non_null(kafka_apis[i].request);
		assert_non_null(kafka_apis[i].response);
		assert_true(kafka_apis[i].min_ver <= kafka_apis[i].max_ver);
		/* Only ApiVersions v3 is flexible among what brook advertises today. */
		if (kafka_apis[i].key != KAFKA_API_API_VERSIONS)
			assert_true(kafka_apis[i].max_ver < kafka_apis[i].flexible_min);
	}
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(kafka_err_name(KAFKA_ERR_NONE), "NONE");
	assert_string_equal(kafka_err_name(-1), "UNKNOWN_SERVER_ERROR");
	assert_string_equal(kafka_err_name(35), "UNSUPPORTED_VERSION");
	assert_string_equal(kafka_err_name(79), "MEMBER_ID_REQUIRED");
	assert_string_equal(kafka_err_name(99), "UNKNOWN_ERROR_CODE");
	assert_string_equal(kafka_err_name(-2), "UNKNOWN_ERROR_CODE");
	assert_int_equal(KAFKA_ERR_FENCED_INSTANCE_ID, 82);
	assert_true(kafka_err_retriable(KAFKA_ERR_NOT_COORDINATOR));
	assert_false(kafka_err_retriable(KAFKA_ERR_INVALID_REQUEST));
}

static void test_spliced_records(void **state)
{
	(void)state;
	kafka_fetch_partition_data pd[2];
	memset(pd, 0, sizeof pd);
	for (int i = 0; i < 2; i++) {
		pd[i].partition_index = i;
		pd[i].n_aborted_transactions = -1;
		pd[i].records = (kafka_bytes){NULL, 10 + i}; /* spliced later */
	}
	kafka_fetchable_topic_response t = {KAFKA_STR("t"), pd, 2};
	kafka_fetch_resp r = {.responses = &t, .n_responses = 1};
	brook_buf b = BROOK_BUF_INIT;
	kafka_splices sp = {0};
	kafka_encode_spliced(&kafka_fetch_resp_schema, 11, false, &r, &b, &sp);
	assert_int_equal(sp.n, 2);
	/* Each position follows its int32 length prefix. */
	for (size_t i = 0; i < 2; i++) {
		const uint8_t *len = (const uint8_t *)b.data + sp.pos[i] - 4;
		assert_int_equal(len[3], 10 + i);
	}
	assert_int_equal(sp.pos[1], b.len); /* the last partition's records end the message */
	free(sp.pos);
	brook_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_versions_v0_exact),
		cmocka_unit_test(test_metadata_null_vs_empty),
		cmocka_unit_test(test_produce_v3_exact),
		cmocka_unit_test(test_roundtrip_every_api),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_sticky_reader),
		cmocka_unit_test(test_unknown_tags_skipped),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_api_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_spliced_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
