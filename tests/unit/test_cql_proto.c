/*
 * test_cql_proto.c — the CQL native protocol v4 codec: notations, frames, messages,
 * types and values, lz4 bodies.
 *
 * Byte-exact expectations are written out from the spec (native_protocol_v4.spec
 * sections 2-4, 6, 9); round trips check encode -> decode -> encode gives the same
 * bytes for every message; every proper prefix of every body must fail to decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "cql/compress.h"
#include "cql/frame.h"
#include "cql/msg.h"
#include "cql/proto.h"
#include "cql/types.h"

static void assert_bytes(const brook_buf *b, const uint8_t *want, size_t n)
{
	if (b->len != n || (n && memcmp(b->data, want, n) != 0)) {
		fprintf(stderr, "got %zu bytes:", b->len);
		for (size_t i = 0; i < b->len; i++)
			fprintf(stderr, " %02x", (uint8_t)b->data[i]);
		fprintf(stderr, "\nwant %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", want[i]);
		fprintf(stderr, "\n");
		fail_msg("bytes differ");
	}
}

/* Frames m as version/stream and returns the whole frame in out. */
static void frame_msg(brook_buf *out, uint8_t version, int16_t stream, const cql_msg *m)
{
	size_t pos = cql_frame_begin(out, version, 0, stream, m->opcode);
	cql_msg_encode(out, m);
	cql_frame_end(out, pos, false);
}

/* ---- notations ----------------------------------------------------------------- */

static void test_notations_round_trip(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	cql_wr_byte(&b, 0xAB);
	cql_wr_short(&b, 0xFFFE);
	cql_wr_int(&b, -5);
	cql_wr_long(&b, INT64_MIN);
	cql_wr_cstring(&b, "héllo");
	cql_wr_long_string(&b, CQL_STR("long"));
	uint8_t u[16];
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)i;
	cql_wr_uuid(&b, u);
	cql_wr_bytes(&b, CQL_BYTES_NULL);
	cql_wr_value(&b, (cql_bytes){NULL, CQL_UNSET});
	cql_wr_short_bytes(&b, cql_bytes_of("\x01\x02", 2));
	uint64_t uv[] = {0, 1, 127, 128, 300, 1ull << 40, UINT64_MAX};
	for (size_t i = 0; i < 7; i++)
		cql_wr_uvint(&b, uv[i]);
	cql_wr_vint(&b, -1);
	cql_wr_vint(&b, INT64_MIN);
	cql_inet in = {4, {127, 0, 0, 1}, 9042};
	cql_wr_inet(&b, &in);
	cql_str keys[1] = {CQL_STR("k")};
	cql_bytes vals[1] = {{(const uint8_t *)"v", 1}};
	cql_bytes_map bm = {1, keys, vals};
	cql_wr_bytes_map(&b, &bm);

	cql_rd rd;
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_rd_byte(&rd), 0xAB);
	assert_int_equal(cql_rd_short(&rd), 0xFFFE);
	assert_int_equal(cql_rd_int(&rd), -5);
	assert_true(cql_rd_long(&rd) == INT64_MIN);
	assert_true(cql_str_eq(cql_rd_string(&rd), "héllo"));
	assert_true(cql_str_eq(cql_rd_long_string(&rd), "long"));
	uint8_t u2[16];
	cql_rd_uuid(&rd, u2);
	assert_memory_equal(u, u2, 16);
	assert_int_equal(cql_rd_bytes(&rd).len, -1);
	assert_int_equal(cql_rd_value(&rd).len, CQL_UNSET);
	cql_bytes sb = cql_rd_short_bytes(&rd);
	assert_int_equal(sb.len, 2);
	assert_memory_equal(sb.ptr, "\x01\x02", 2);
	for (size_t i = 0; i < 7; i++)
		assert_true(cql_rd_uvint(&rd) == uv[i]);
	assert_true(cql_rd_vint(&rd) == -1);
	assert_true(cql_rd_vint(&rd) == INT64_MIN);
	cql_inet in2;
	cql_rd_inet(&rd, &in2);
	assert_int_equal(in2.len, 4);
	assert_int_equal(in2.port, 9042);
	assert_memory_equal(in2.addr, in.addr, 4);
	cql_bytes_map bm2;
	cql_rd_bytes_map(&rd, &a, &bm2);
	assert_int_equal(bm2.n, 1);
	assert_true(cql_str_eq(bm2.keys[0], "k"));
	assert_false(rd.failed);
	assert_int_equal(cql_rd_left(&rd), 0);
	/* reading past the end is a sticky error */
	assert_int_equal(cql_rd_int(&rd), 0);
	assert_true(rd.failed);
	assert_non_null(strstr(rd.err, "[int]"));
	brook_buf_release(&b);
	brook_arena_release(&a);
}

static void test_long_string_is_clamped(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	static char big[70000];
	memset(big, 'x', sizeof big);
	cql_wr_string(&b, (cql_str){big, sizeof big});
	assert_int_equal(b.len, 2 + 65535);
	cql_rd rd;
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_rd_string(&rd).len, 65535);
	assert_false(rd.failed);
	brook_buf_release(&b);
}

static void test_uvint_bytes(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	cql_wr_uvint(&b, 127);
	cql_wr_uvint(&b, 128);
	cql_wr_uvint(&b, UINT64_MAX);
	static const uint8_t want[] = {0x7F, 0x80, 0x80, 0xFF, 0xFF, 0xFF, 0xFF,
				       0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_bytes(&b, want, sizeof want);
	brook_buf_release(&b);
}

static void test_lying_lengths(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	cql_rd rd;
	static const uint8_t big_str[] = {0x00, 0x10, 'a'};
	cql_rd_init(&rd, big_str, sizeof big_str);
	cql_rd_string(&rd);
	assert_true(rd.failed);
	static const uint8_t neg_value[] = {0xFF, 0xFF, 0xFF, 0xFD};
	cql_rd_init(&rd, neg_value, sizeof neg_value);
	cql_rd_value(&rd);
	assert_true(rd.failed);
	/* a list of 65535 strings in 4 bytes must fail before allocating */
	static const uint8_t many[] = {0xFF, 0xFF, 0x00, 0x00};
	cql_str_list l;
	cql_rd_init(&rd, many, sizeof many);
	cql_rd_string_list(&rd, &a, &l);
	assert_true(rd.failed);
	assert_int_equal(l.n, 0);
	assert_int_equal(a.total, 0);
	static const uint8_t bad_inet[] = {0x05, 1, 2, 3, 4, 5, 0, 0, 0, 0};
	cql_inet in;
	cql_rd_init(&rd, bad_inet, sizeof bad_inet);
	cql_rd_inet(&rd, &in);
	assert_true(rd.failed);
	brook_arena_release(&a);
}

/* ---- frames -------------------------------------------------------------------- */

static void test_frame_startup_bytes(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	cql_str k[1] = {CQL_STR("CQL_VERSION")}, v[1] = {CQL_STR("3.0.0")};
	cql_msg m = {.opcode = CQL_OP_STARTUP};
	m.u.startup = (cql_str_map){1, k, v};
	frame_msg(&b, CQL_PROTOCOL_V4, 1, &m);
	static const uint8_t want[] = {
		0x04, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x16, /* header */
		0x00, 0x01, 0x00, 0x0b, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
		0x00, 0x05, '3', '.', '0', '.', '0',
	};
	assert_bytes(&b, want, sizeof want);

	cql_frame_hdr h;
	assert_int_equal(cql_frame_parse_header((uint8_t *)b.data, 8, &h), BROOK_AGAIN);
	assert_int_equal(cql_frame_parse_header((uint8_t *)b.data, b.len, &h), BROOK_OK);
	assert_int_equal(h.version, 4);
	assert_int_equal(h.stream, 1);
	assert_int_equal(h.opcode, CQL_OP_STARTUP);
	assert_int_equal(h.length, 22);
	char err[200];
	assert_int_equal(cql_frame_check(&h, CQL_FRAME_DEFAULT_MAX, err, sizeof err), BROOK_OK);
	assert_int_equal(cql_frame_check(&h, 21, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "22"));
	brook_buf_release(&b);
}

static void test_frame_options_supported(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	cql_msg m = {.opcode = CQL_OP_OPTIONS};
	frame_msg(&b, CQL_PROTOCOL_V4, 0, &m);
	static const uint8_t want[] = {0x04, 0, 0, 0, 0x05, 0, 0, 0, 0};
	assert_bytes(&b, want, sizeof want);
	brook_buf_reset(&b);

	size_t pos = cql_frame_begin(&b, CQL_PROTOCOL_V4 | CQL_VERSION_RESPONSE, 0, 0,
				     CQL_OP_SUPPORTED);
	cql_supported_write_default(&b);
	cql_frame_end(&b, pos, false);
	static const uint8_t want2[] = {
		0x84, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x2c,
		0x00, 0x02,
		0x00, 0x0b, 'C', 'O', 'M', 'P', 'R', 'E', 'S', 'S', 'I', 'O', 'N',
		0x00, 0x01, 0x00, 0x03, 'l', 'z', '4',
		0x00, 0x0b, 'C', 'Q', 'L', '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N',
		0x00, 0x01, 0x00, 0x05, '3', '.', '4', '.', '4',
	};
	assert_bytes(&b, want2, sizeof want2);

	brook_arena a = BROOK_ARENA_INIT;
	cql_rd rd;
	cql_rd_init(&rd, b.data + 9, b.len - 9);
	cql_msg got;
	assert_int_equal(cql_msg_decode(CQL_OP_SUPPORTED, &rd, &a, &got), BROOK_OK);
	bool ver = false, comp = false;
	for (uint16_t i = 0; i < got.u.supported.n; i++) {
		ver |= cql_str_eq(got.u.supported.keys[i], "CQL_VERSION");
		comp |= cql_str_eq(got.u.supported.keys[i], "COMPRESSION");
	}
	assert_true(ver && comp);
	brook_arena_release(&a);
	brook_buf_release(&b);
}

static void test_frame_version_error(void **state)
{
	(void)state;
	assert_int_equal(cql_frame_check_version(0x04), BROOK_OK);
	assert_int_equal(cql_frame_check_version(0x84), BROOK_OK);
	assert_int_equal(cql_frame_check_version(0x05), BROOK_ERR);
	assert_int_equal(cql_frame_check_version(0x03), BROOK_ERR);
	char msg[200];
	cql_frame_version_error(0x05, msg, sizeof msg);
	assert_string_equal(msg, "Invalid or unsupported protocol version (5); supported "
				 "versions are (3/v3, 4/v4)");
	static const uint8_t v65[] = {0x41, 0, 0, 7, 5, 0, 0, 0, 0};
	cql_frame_hdr h;
	assert_int_equal(cql_frame_parse_header(v65, sizeof v65, &h), BROOK_OK);
	assert_int_equal(h.stream, 7);
	assert_int_equal(cql_frame_check(&h, 100, msg, sizeof msg), BROOK_ERR);
	assert_non_null(strstr(msg, "(65)"));
	/* the full reply: server version, request stream, ERROR 0x000A */
	brook_buf r = BROOK_BUF_INIT;
	static const uint8_t v5[] = {0x05, 0x00, 0x01, 0x02, 0x05};
	assert_int_equal(cql_frame_version_error_reply(v5, 3, &r), BROOK_AGAIN);
	assert_int_equal(cql_frame_version_error_reply(v5, sizeof v5, &r), BROOK_OK);
	static const char want_msg[] = "Invalid or unsupported protocol version (5); supported "
				       "versions are (3/v3, 4/v4)";
	assert_int_equal(r.len, 9 + 4 + 2 + sizeof want_msg - 1);
	assert_memory_equal(r.data, "\x84\x00\x01\x02\x00", 5);
	assert_memory_equal(r.data + 9, "\0\0\0\x0a", 4);
	assert_memory_equal(r.data + 15, want_msg, sizeof want_msg - 1);
	brook_buf_reset(&r);
	static const uint8_t v2[] = {0x02, 0x00, 0x07, 0x05}; /* one-byte stream */
	assert_int_equal(cql_frame_version_error_reply(v2, sizeof v2, &r), BROOK_OK);
	/* v1/v2: answered in their own 8-byte framing, one-byte stream id. */
	assert_memory_equal(r.data, "\x82\x00\x07\x00", 4);
	assert_int_equal(r.len, 8 + 4 + 2 + 80);
	assert_memory_equal(r.data + 8, "\0\0\0\x0a", 4);
	brook_buf_release(&r);
	/* negative stream ids (events) */
	static const uint8_t ev[] = {0x84, 0, 0xFF, 0xFF, 0x0C, 0, 0, 0, 0};
	assert_int_equal(cql_frame_parse_header(ev, sizeof ev, &h), BROOK_OK);
	assert_int_equal(h.stream, -1);
	static const uint8_t badop[] = {0x04, 0, 0, 0, 0x04, 0, 0, 0, 0};
	assert_int_equal(cql_frame_parse_header(badop, sizeof badop, &h), BROOK_OK);
	assert_int_equal(cql_frame_check(&h, 100, msg, sizeof msg), BROOK_ERR);
}

static void test_frame_extras(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	uint8_t flags = CQL_FLAG_TRACING | CQL_FLAG_WARNING | CQL_FLAG_CUSTOM_PAYLOAD;
	size_t pos = cql_frame_begin(&b, 0x84, flags, 3, CQL_OP_RESULT);
	cql_str warn[1] = {CQL_STR("Aggregation query used without partition key")};
	cql_str pk[1] = {CQL_STR("x")};
	cql_bytes pv[1] = {{(const uint8_t *)"yz", 2}};
	cql_frame_extras ex = {.has_tracing_id = true,
			       .warnings = {1, warn},
			       .has_custom_payload = true,
			       .custom_payload = {1, pk, pv}};
	memset(ex.tracing_id, 0x5A, 16);
	cql_frame_write_extras(&b, 0x84, flags, &ex);
	cql_msg m = {.opcode = CQL_OP_RESULT};
	m.u.result.kind = CQL_RESULT_VOID;
	cql_msg_encode(&b, &m);
	cql_frame_end(&b, pos, true); /* compressed too */

	cql_frame_hdr h;
	assert_int_equal(cql_frame_parse_header((uint8_t *)b.data, b.len, &h), BROOK_OK);
	assert_true(h.flags & CQL_FLAG_COMPRESSION);
	assert_int_equal(h.length, b.len - 9);
	brook_buf body = BROOK_BUF_INIT;
	char err[128];
	assert_int_equal(cql_lz4_decompress(b.data + 9, h.length, 1 << 20, &body, err,
					    sizeof err),
			 BROOK_OK);
	cql_rd rd;
	cql_rd_init(&rd, body.data, body.len);
	cql_frame_extras got;
	cql_frame_read_extras(&h, &rd, &a, &got);
	assert_false(rd.failed);
	assert_true(got.has_tracing_id);
	assert_int_equal(got.tracing_id[15], 0x5A);
	assert_int_equal(got.warnings.n, 1);
	assert_true(cql_str_eq(got.warnings.items[0], "Aggregation query used without "
						      "partition key"));
	assert_int_equal(got.custom_payload.n, 1);
	cql_msg r;
	assert_int_equal(cql_msg_decode(h.opcode, &rd, &a, &r), BROOK_OK);
	assert_int_equal(r.u.result.kind, CQL_RESULT_VOID);
	brook_buf_release(&body);
	brook_buf_release(&b);
	brook_arena_release(&a);
}

/* ---- messages: byte-exact ------------------------------------------------------ */

static void test_query_bytes(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	uint8_t v42[4] = {0, 0, 0, 42};
	cql_bytes vals[2] = {{v42, 4}, CQL_BYTES_NULL};
	cql_msg m = {.opcode = CQL_OP_QUERY};
	m.u.query.query = CQL_STR("SELECT * FROM t WHERE k=? AND c=?");
	m.u.query.params = (cql_query_params){
		.consistency = CQL_CONSISTENCY_ONE,
		.flags = CQL_QF_VALUES | CQL_QF_PAGE_SIZE | CQL_QF_PAGING_STATE,
		.n_values = 2,
		.values = vals,
		.page_size = 5000,
		.paging_state = {(const uint8_t *)"\xAB\xCD", 2},
	};
	frame_msg(&b, 4, 2, &m);
	static const uint8_t want[] = {
		0x04, 0x00, 0x00, 0x02, 0x07, 0x00, 0x00, 0x00, 0x40,
		0x00, 0x00, 0x00, 0x21, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '*', ' ', 'F', 'R',
		'O', 'M', ' ', 't', ' ', 'W', 'H', 'E', 'R', 'E', ' ', 'k', '=', '?', ' ', 'A',
		'N', 'D', ' ', 'c', '=', '?',
		0x00, 0x01,             /* consistency ONE */
		0x0d,                   /* flags */
		0x00, 0x02,             /* 2 values */
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2a, /* 42 */
		0xff, 0xff, 0xff, 0xff, /* null */
		0x00, 0x00, 0x13, 0x88, /* page size 5000 */
		0x00, 0x00, 0x00, 0x02, 0xab, 0xcd, /* paging state */
	};
	assert_bytes(&b, want, sizeof want);

	cql_rd rd;
	cql_rd_init(&rd, b.data + 9, b.len - 9);
	cql_msg got;
	assert_int_equal(cql_msg_decode(CQL_OP_QUERY, &rd, &a, &got), BROOK_OK);
	assert_true(cql_str_eq(got.u.query.query, "SELECT * FROM t WHERE k=? AND c=?"));
	assert_int_equal(got.u.query.params.n_values, 2);
	assert_int_equal(got.u.query.params.values[1].len, -1);
	assert_int_equal(got.u.query.params.page_size, 5000);
	assert_int_equal(got.u.query.params.paging_state.len, 2);
	brook_buf_release(&b);
	brook_arena_release(&a);
}

static void test_rows_bytes(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	cql_col_spec cols[2] = {
		{.name = CQL_STR("k"), .type = cql_type_native(CQL_TYPE_INT)},
		{.name = CQL_STR("v"), .type = cql_type_native(CQL_TYPE_VARCHAR)},
	};
	cql_metadata meta = {.flags = CQL_META_GLOBAL_TABLES_SPEC,
			     .columns_count = 2,
			     .keyspace = CQL_STR("ks"),
			     .table = CQL_STR("t"),
			     .cols = cols};
	size_t pos = cql_frame_begin(&b, 0x84, 0, 5, CQL_OP_RESULT);
	cql_rows_wr w;
	cql_rows_begin(&w, &b, &meta);
	cql_rows_cell_int(&w, 1);
	cql_rows_cell_text(&w, "a");
	cql_rows_cell_int(&w, 2);
	cql_rows_cell_null(&w);
	assert_int_equal(cql_rows_end(&w), 2);
	cql_frame_end(&b, pos, false);
	static const uint8_t want[] = {
		0x84, 0x00, 0x00, 0x05, 0x08, 0x00, 0x00, 0x00, 0x3a,
		0x00, 0x00, 0x00, 0x02, /* Rows */
		0x00, 0x00, 0x00, 0x01, /* global tables spec */
		0x00, 0x00, 0x00, 0x02, /* 2 columns */
		0x00, 0x02, 'k', 's', 0x00, 0x01, 't',
		0x00, 0x01, 'k', 0x00, 0x09,
		0x00, 0x01, 'v', 0x00, 0x0d,
		0x00, 0x00, 0x00, 0x02, /* 2 rows */
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a',
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff,
	};
	assert_bytes(&b, want, sizeof want);

	cql_rd rd;
	cql_rd_init(&rd, b.data + 9, b.len - 9);
	cql_msg got;
	assert_int_equal(cql_msg_decode(CQL_OP_RESULT, &rd, &a, &got), BROOK_OK);
	cql_result *r = &got.u.result;
	assert_int_equal(r->kind, CQL_RESULT_ROWS);
	assert_int_equal(r->rows_count, 2);
	assert_true(cql_str_eq(r->meta.cols[1].name, "v"));
	assert_int_equal(r->meta.cols[1].type->id, CQL_TYPE_VARCHAR);
	cql_rows_iter it;
	cql_bytes cells[2];
	cql_rows_iter_init(&it, r);
	assert_true(cql_rows_next(&it, cells));
	assert_int_equal(cells[0].len, 4);
	assert_int_equal(cells[1].len, 1);
	assert_true(cql_rows_next(&it, cells));
	assert_int_equal(cells[1].len, -1);
	assert_false(cql_rows_next(&it, cells));

	/* the same page, marked as not the last after the rows were written */
	brook_buf_reset(&b);
	cql_rows_begin(&w, &b, &meta);
	cql_rows_cell_int(&w, 1);
	cql_rows_cell_text(&w, "a");
	cql_rows_set_paging_state(&w, "\x01\x02\x03", 3);
	cql_rows_cell_int(&w, 2);
	cql_rows_cell_null(&w);
	assert_int_equal(cql_rows_end(&w), 2);
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_msg_decode(CQL_OP_RESULT, &rd, &a, &got), BROOK_OK);
	assert_int_equal(r->meta.flags, CQL_META_GLOBAL_TABLES_SPEC | CQL_META_HAS_MORE_PAGES);
	assert_int_equal(r->meta.paging_state.len, 3);
	assert_memory_equal(r->meta.paging_state.ptr, "\x01\x02\x03", 3);
	assert_int_equal(r->rows_count, 2);
	assert_true(cql_str_eq(r->meta.keyspace, "ks"));
	cql_rows_iter_init(&it, r);
	assert_true(cql_rows_next(&it, cells));
	assert_memory_equal(cells[1].ptr, "a", 1);
	assert_true(cql_rows_next(&it, cells));
	assert_false(cql_rows_next(&it, cells));
	brook_buf_release(&b);
	brook_arena_release(&a);
}

static void test_error_bytes(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	cql_error_write_already_exists(&b, "exists", "ks", "t");
	static const uint8_t want[] = {0x00, 0x00, 0x24, 0x00, 0x00, 0x06, 'e', 'x', 'i',
				       's',  't',  's',	 0x00, 0x02, 'k',  's', 0x00, 0x01,
				       't'};
	assert_bytes(&b, want, sizeof want);
	cql_rd rd;
	cql_msg got;
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_msg_decode(CQL_OP_ERROR, &rd, &a, &got), BROOK_OK);
	assert_int_equal(got.u.error.code, CQL_ERR_ALREADY_EXISTS);
	assert_true(cql_str_eq(got.u.error.keyspace, "ks"));
	assert_true(cql_str_eq(got.u.error.table, "t"));

	brook_buf_reset(&b);
	cql_error_write_unprepared(&b, "?", "\x01\x02\x03", 3);
	static const uint8_t want2[] = {0x00, 0x00, 0x25, 0x00, 0x00, 0x01, '?',
					0x00, 0x03, 0x01, 0x02, 0x03};
	assert_bytes(&b, want2, sizeof want2);
	cql_rd_init(&rd, b.data, b.len);
	assert_int_equal(cql_msg_decode(CQL_OP_ERROR, &rd, &a, &got), BROOK_OK);
	assert_int_equal(got.u.error.id.len, 3);
	assert_string_equal(cql_error_name(CQL_ERR_UNPREPARED), "Unprepared");
	assert_string_equal(cql_error_name(0x2000), "Syntax_error");
	brook_buf_release(&b);
	brook_arena_release(&a);
}

/* ---- messages: round trips and truncation -------------------------------------- */

/* Builds one message of every kind (and several RESULT/ERROR variants) into ms. */
static size_t all_messages(cql_msg *ms, brook_arena *a)
{
	size_t n = 0;
	static cql_str k2[2] = {{"CQL_VERSION", 11}, {"COMPRESSION", 11}};
	static cql_str v2[2] = {{"3.0.0", 5}, {"lz4", 3}};
	static cql_str names[2] = {{"a", 1}, {"b", 1}};
	static const uint8_t one[4] = {0, 0, 0, 1};
	static cql_bytes vals[3] = {{one, 4}, {NULL, -1}, {NULL, -2}};
	static cql_str evs[3] = {{"TOPOLOGY_CHANGE", 15}, {"STATUS_CHANGE", 13},
				 {"SCHEMA_CHANGE", 13}};
	static cql_str lz[1] = {{"lz4", 3}};
	static cql_str_list lzl[2] = {{1, lz}, {1, lz}};
	static uint16_t pki[1] = {0};
	cql_msg *m;

	m = &ms[n++], m->opcode = CQL_OP_STARTUP, m->u.startup = (cql_str_map){2, k2, v2};
	m = &ms[n++], m->opcode = CQL_OP_READY;
	m = &ms[n++], m->opcode = CQL_OP_OPTIONS;
	m = &ms[n++], m->opcode = CQL_OP_AUTHENTICATE;
	m->u.authenticator = CQL_STR("org.apache.cassandra.auth.PasswordAuthenticator");
	m = &ms[n++], m->opcode = CQL_OP_SUPPORTED, m->u.supported = (cql_multimap){2, k2, lzl};
	m = &ms[n++], m->opcode = CQL_OP_QUERY, m->u.query.query = CQL_STR("SELECT 1");
	m->u.query.params = (cql_query_params){
		.consistency = 6, .flags = 0x7F, .n_values = 2, .names = names, .values = vals,
		.page_size = 100, .paging_state = {one, 4}, .serial_consistency = 9,
		.timestamp = 1234567};
	m = &ms[n++], m->opcode = CQL_OP_QUERY, m->u.query.query = CQL_STR("");
	m->u.query.params = (cql_query_params){.consistency = 1};
	m = &ms[n++], m->opcode = CQL_OP_PREPARE, m->u.prepare = CQL_STR("INSERT ...");
	m = &ms[n++], m->opcode = CQL_OP_EXECUTE, m->u.execute.id = (cql_bytes){one, 4};
	m->u.execute.params = (cql_query_params){
		.consistency = 1, .flags = CQL_QF_VALUES | CQL_QF_SKIP_METADATA, .n_values = 3,
		.values = vals};
	m = &ms[n++], m->opcode = CQL_OP_REGISTER, m->u.register_events = (cql_str_list){3, evs};
	m = &ms[n++], m->opcode = CQL_OP_AUTH_RESPONSE;
	m->u.token = (cql_bytes){(const uint8_t *)"\0user\0pass", 10};
	m = &ms[n++], m->opcode = CQL_OP_AUTH_CHALLENGE, m->u.token = CQL_BYTES_NULL;
	m = &ms[n++], m->opcode = CQL_OP_AUTH_SUCCESS, m->u.token = (cql_bytes){one, 0};

	cql_batch_stmt *st = brook_arena_calloc(a, 2 * sizeof *st);
	st[0] = (cql_batch_stmt){.kind = 0, .query = CQL_STR("INSERT INTO t (k) VALUES (?)"),
				 .n_values = 1, .values = vals};
	st[1] = (cql_batch_stmt){.kind = 1, .id = {one, 4}, .n_values = 2, .values = vals};
	m = &ms[n++], m->opcode = CQL_OP_BATCH;
	m->u.batch = (cql_batch){.type = CQL_BATCH_UNLOGGED, .n = 2, .stmts = st,
				 .consistency = 1, .flags = 0x30, .serial_consistency = 8,
				 .timestamp = 99};

	/* ERROR variants */
	int32_t codes[] = {0x0000, 0x000A, 0x0100, 0x1000, 0x1001, 0x1002, 0x1003, 0x1100,
			   0x1200, 0x1300, 0x1400, 0x1500, 0x2000, 0x2100, 0x2200, 0x2300,
			   0x2400, 0x2500};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		m = &ms[n++], m->opcode = CQL_OP_ERROR;
		m->u.error = (cql_error){.code = codes[i], .message = CQL_STR("msg"), .cl = 4,
					 .required = 3, .alive = 1, .received = 1, .blockfor = 2,
					 .numfailures = 1, .data_present = 1,
					 .write_type = CQL_STR("SIMPLE"), .keyspace = CQL_STR("ks"),
					 .table = CQL_STR("t"), .function = CQL_STR("f"),
					 .arg_types = {2, names}, .id = {one, 4}};
	}

	/* RESULT variants */
	m = &ms[n++], m->opcode = CQL_OP_RESULT, m->u.result.kind = CQL_RESULT_VOID;
	m = &ms[n++], m->opcode = CQL_OP_RESULT, m->u.result.kind = CQL_RESULT_SET_KEYSPACE;
	m->u.result.keyspace = CQL_STR("ks");

	cql_col_spec *cols = brook_arena_calloc(a, 2 * sizeof *cols);
	cols[0] = (cql_col_spec){CQL_STR("ks"), CQL_STR("t"), CQL_STR("k"),
				 cql_type_native(CQL_TYPE_UUID)};
	cols[1] = (cql_col_spec){CQL_STR("ks"), CQL_STR("t"), CQL_STR("m"),
				 cql_type_parse("map<text, frozen<list<int>>>", 28, a, NULL, 0)};
	m = &ms[n++], m->opcode = CQL_OP_RESULT, m->u.result.kind = CQL_RESULT_ROWS;
	m->u.result.meta = (cql_metadata){.flags = CQL_META_HAS_MORE_PAGES, .columns_count = 2,
					  .paging_state = {one, 4}, .cols = cols};
	static const uint8_t content[] = {0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
	m->u.result.rows_count = 1;
	m->u.result.rows_content = content;
	m->u.result.rows_len = sizeof content;
	m = &ms[n++], m->opcode = CQL_OP_RESULT, m->u.result.kind = CQL_RESULT_ROWS;
	m->u.result.meta = (cql_metadata){.flags = CQL_META_NO_METADATA, .columns_count = 2};
	m->u.result.rows_count = 0;

	m = &ms[n++], m->opcode = CQL_OP_RESULT, m->u.result.kind = CQL_RESULT_PREPARED;
	m->u.result.id = (cql_bytes){one, 4};
	m->u.result.meta = (cql_metadata){.flags = CQL_META_GLOBAL_TABLES_SPEC,
					  .columns_count = 2, .pk_count = 1, .pk_index = pki,
					  .keyspace = CQL_STR("ks"), .table = CQL_STR("t"),
					  .cols = cols};
	m->u.result.result_meta = (cql_metadata){.flags = CQL_META_NO_METADATA};

	const char *targets[] = {"KEYSPACE", "TABLE", "TYPE", "FUNCTION", "AGGREGATE"};
	for (size_t i = 0; i < 5; i++) {
		cql_schema_change sc = {CQL_STR("CREATED"), cql_str_from(targets[i]),
					CQL_STR("ks"), CQL_STR("t"), {2, names}};
		m = &ms[n++], m->opcode = CQL_OP_RESULT;
		m->u.result.kind = CQL_RESULT_SCHEMA_CHANGE, m->u.result.change = sc;
		m = &ms[n++], m->opcode = CQL_OP_EVENT;
		m->u.event.type = CQL_STR("SCHEMA_CHANGE"), m->u.event.schema = sc;
	}
	m = &ms[n++], m->opcode = CQL_OP_EVENT, m->u.event.type = CQL_STR("STATUS_CHANGE");
	m->u.event.change = CQL_STR("UP");
	m->u.event.addr = (cql_inet){16, {[15] = 1}, 9042};
	m = &ms[n++], m->opcode = CQL_OP_EVENT, m->u.event.type = CQL_STR("TOPOLOGY_CHANGE");
	m->u.event.change = CQL_STR("NEW_NODE");
	m->u.event.addr = (cql_inet){4, {10, 0, 0, 1}, 9042};
	return n;
}

static void test_round_trip_and_truncation(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	cql_msg ms[64];
	memset(ms, 0, sizeof ms);
	size_t n = all_messages(ms, &a);
	assert_true(n > 40);
	for (size_t i = 0; i < n; i++) {
		brook_buf x = BROOK_BUF_INIT, y = BROOK_BUF_INIT;
		cql_msg_encode(&x, &ms[i]);
		cql_rd rd;
		cql_msg got;
		cql_rd_init(&rd, x.data, x.len);
		if (cql_msg_decode(ms[i].opcode, &rd, &a, &got) != BROOK_OK)
			fail_msg("message %zu (%s) does not decode: %s", i,
				 cql_opcode_name(ms[i].opcode), rd.err);
		assert_int_equal(cql_rd_left(&rd), 0);
		cql_msg_encode(&y, &got);
		assert_bytes(&y, (const uint8_t *)x.data, x.len);
		for (size_t cut = 0; cut < x.len; cut++) {
			cql_rd_init(&rd, x.data, cut);
			if (cql_msg_decode(ms[i].opcode, &rd, &a, &got) == BROOK_OK)
				fail_msg("message %zu (%s) cut at %zu of %zu decodes", i,
					 cql_opcode_name(ms[i].opcode), cut, x.len);
			assert_true(rd.err[0] != '\0');
		}
		brook_buf_release(&x);
		brook_buf_release(&y);
	}
	brook_arena_release(&a);
}

static void test_bad_messages(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	cql_rd rd;
	cql_msg m;
	/* a request with trailing bytes */
	static const uint8_t prep[] = {0, 0, 0, 1, 'x', 'y'};
	cql_rd_init(&rd, prep, sizeof prep);
	assert_int_equal(cql_msg_decode(CQL_OP_PREPARE, &rd, &a, &m), BROOK_ERR);
	/* a batch kind other than 0/1 */
	static const uint8_t batch[] = {1, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	cql_rd_init(&rd, batch, sizeof batch);
	assert_int_equal(cql_msg_decode(CQL_OP_BATCH, &rd, &a, &m), BROOK_ERR);
	assert_non_null(strstr(rd.err, "kind"));
	/* Rows claiming more cells than bytes */
	static const uint8_t rows[] = {0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 100,
				       0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
	cql_rd_init(&rd, rows, sizeof rows);
	assert_int_equal(cql_msg_decode(CQL_OP_RESULT, &rd, &a, &m), BROOK_ERR);
	/* an unknown option id in column metadata */
	static const uint8_t opt[] = {0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 'k', 0, 1,
				      't', 0, 1, 'c', 0, 0x0A, 0, 0, 0, 0};
	cql_rd_init(&rd, opt, sizeof opt);
	assert_int_equal(cql_msg_decode(CQL_OP_RESULT, &rd, &a, &m), BROOK_ERR);
	assert_non_null(strstr(rd.err, "0x000a"));
	/* rows without columns (each would cost a loop iteration to walk) */
	static const uint8_t nocols[] = {0, 0, 0, 2, 0, 0, 0, 4,
					 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF};
	cql_rd_init(&rd, nocols, sizeof nocols);
	assert_int_equal(cql_msg_decode(CQL_OP_RESULT, &rd, &a, &m), BROOK_ERR);
	/* unknown opcode */
	cql_rd_init(&rd, NULL, 0);
	assert_int_equal(cql_msg_decode(0x04, &rd, &a, &m), BROOK_ERR);
	/* responses tolerate trailing bytes */
	static const uint8_t ready_void[] = {0, 0, 0, 1, 0xEE};
	cql_rd_init(&rd, ready_void, sizeof ready_void);
	assert_int_equal(cql_msg_decode(CQL_OP_RESULT, &rd, &a, &m), BROOK_OK);
	brook_arena_release(&a);
}

/* ---- types --------------------------------------------------------------------- */

static void test_type_names(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"text", "text"},
		{"VARCHAR", "text"},
		{"int", "int"},
		{" bigint ", "bigint"},
		{"list<int>", "list<int>"},
		{"map<text,bigint>", "map<text, bigint>"},
		{"Map < varchar , BIGINT >", "map<text, bigint>"},
		{"set<uuid>", "set<uuid>"},
		{"frozen<list<int>>", "frozen<list<int>>"},
		{"map<text, frozen<set<timeuuid>>>", "map<text, frozen<set<timeuuid>>>"},
		{"frozen<tuple<int, text, inet>>", "frozen<tuple<int, text, inet>>"},
		{"tuple<date,time>", "tuple<date, time>"},
		{"'org.example.MyType'", "'org.example.MyType'"},
		{"smallint", "smallint"},
		{"tinyint", "tinyint"},
		{"timestamp", "timestamp"},
		{"decimal", "decimal"},
		{"varint", "varint"},
		{"blob", "blob"},
		{"counter", "counter"},
	};
	brook_arena a = BROOK_ARENA_INIT;
	char err[128];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const cql_type *t =
			cql_type_parse(cases[i].in, strlen(cases[i].in), &a, err, sizeof err);
		if (!t)
			fail_msg("'%s' does not parse: %s", cases[i].in, err);
		brook_buf b = BROOK_BUF_INIT;
		cql_type_print(&b, t);
		assert_string_equal(b.data, cases[i].out);
		const cql_type *t2 = cql_type_parse(b.data, b.len, &a, err, sizeof err);
		assert_non_null(t2);
		assert_true(cql_type_equal(t, t2));
		/* [option] round trip */
		brook_buf o = BROOK_BUF_INIT;
		cql_type_write(&o, t);
		cql_rd rd;
		cql_rd_init(&rd, o.data, o.len);
		const cql_type *t3 = cql_type_read(&rd, &a);
		assert_non_null(t3);
		assert_int_equal(cql_rd_left(&rd), 0);
		assert_true(cql_type_equal(t, t3));
		brook_buf_release(&o);
		brook_buf_release(&b);
	}
	static const char *bad[] = {"", "nosuch", "list<>", "list<int", "map<int>",
				    "list<int, int>", "frozen<int>", "int int", "'unterminated",
				    ("list<list<list<list<list<list<list<list<list<list<list<list<"
				     "list<list<list<list<list<int>>>>>>>>>>>>>>>>>")};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (cql_type_parse(bad[i], strlen(bad[i]), &a, err, sizeof err))
			fail_msg("'%s' parses", bad[i]);
		assert_true(err[0] != '\0');
	}
	brook_arena_release(&a);
}

typedef struct vcase {
	const char *type;
	const char *bytes;
	size_t len;
	bool ok;
} vcase;

#define V(t, s, ok) {t, s, sizeof(s) - 1, ok}

static void test_value_validation(void **state)
{
	(void)state;
	static const vcase cases[] = {
		V("int", "\0\0\0\1", true),
		V("int", "", true), /* empty values are legal for non-string types */
		V("int", "\0\0\0\0\0\0\0\1", false), /* a double/bigint bound to int */
		V("int", "\1\2", false),
		V("bigint", "\0\0\0\0\0\0\0\1", true),
		V("bigint", "\0\0\0\1", false),
		V("boolean", "\1", true),
		V("boolean", "\1\0", false),
		V("double", "\x3f\xf0\0\0\0\0\0\0", true),
		V("double", "\x3f\xf0\0\0", false),
		V("float", "\x3f\x80\0\0", true),
		V("float", "\x3f\x80\0\0\0\0\0\0", false),
		V("uuid", "0123456789abcdef", true),
		V("uuid", "0123456789abcde", false),
		V("timeuuid", "\0\0\0\0\0\0\x10\0\0\0\0\0\0\0\0\0", true),
		V("timeuuid", "\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0", false),
		V("timestamp", "\0\0\0\0\0\0\0\0", true),
		V("timestamp", "\0\0\0\0", false),
		V("date", "\x80\0\0\0", true),
		V("date", "\x80\0\0", false),
		V("time", "\0\0\x4e\x94\x91\x4e\xff\xff", true),  /* 86399999999999 */
		V("time", "\0\0\x4e\x94\x91\x4f\0\0", false),     /* one past */
		V("time", "\xff\xff\xff\xff\xff\xff\xff\xff", false),
		V("smallint", "\0\1", true),
		V("smallint", "\0\0\1", false),
		V("tinyint", "\1", true),
		V("tinyint", "\0\1", false),
		V("inet", "\x7f\0\0\1", true),
		V("inet", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", true),
		V("inet", "\x7f\0\0", false),
		V("ascii", "hello", true),
		V("ascii", "h\xc3\xa9", false),
		V("text", "h\xc3\xa9llo", true),
		V("text", "\xc3", false),
		V("text", "\xc0\x80", false),         /* overlong */
		V("text", "\xed\xa0\x80", false),     /* surrogate */
		V("text", "\xf4\x90\x80\x80", false), /* > U+10FFFF */
		V("text", "\xf0\x9f\x98\x80", true),
		V("blob", "\xff\x00", true),
		V("varint", "\x80\0\0\0\0\0\0\0\0\0", true),
		V("decimal", "\0\0\0\2\x01", true),
		V("decimal", "\0\0", false),
		V("list<int>", "\0\0\0\2\0\0\0\4\0\0\0\1\0\0\0\4\0\0\0\2", true),
		V("list<int>", "\0\0\0\0", true),
		V("list<int>", "\0\0\0\1\0\0\0\x08\0\0\0\0\0\0\0\1", false), /* bad element */
		V("list<int>", "\0\0\0\2\0\0\0\4\0\0\0\1", false),           /* count lies */
		V("list<int>", "\0\0\0\1\xff\xff\xff\xff", false),           /* null element */
		V("list<int>", "\0\0\0\0\0", false),                         /* trailing */
		V("list<int>", "\0\0", false),
		V("set<text>", "\0\0\0\1\0\0\0\1a", true),
		V("map<text, bigint>", "\0\0\0\1\0\0\0\1a\0\0\0\x08\0\0\0\0\0\0\0\x05", true),
		V("map<text, bigint>", "\0\0\0\1\0\0\0\1a\0\0\0\4\0\0\0\5", false),
		V("map<text, bigint>", "\0\0\0\1\0\0\0\1a", false),
		V("frozen<tuple<int, text>>", "\0\0\0\4\0\0\0\1\xff\xff\xff\xff", true),
		V("frozen<tuple<int, text>>", "\0\0\0\4\0\0\0\1", true), /* may end early */
		V("frozen<tuple<int, text>>", "\0\0\0\2\0\0", false),
	};
	brook_arena a = BROOK_ARENA_INIT;
	char err[128];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const cql_type *t = cql_type_parse(cases[i].type, strlen(cases[i].type), &a, err,
						   sizeof err);
		assert_non_null(t);
		err[0] = '\0';
		int rc = cql_value_validate(t, (const uint8_t *)cases[i].bytes, cases[i].len,
					    err, sizeof err);
		if ((rc == BROOK_OK) != cases[i].ok)
			fail_msg("case %zu (%s, %zu bytes): got %s (%s)", i, cases[i].type,
				 cases[i].len, rc == BROOK_OK ? "valid" : "invalid", err);
		if (!cases[i].ok)
			assert_true(err[0] != '\0');
	}
	/* the message names the type and the size, as Cassandra's does */
	cql_value_validate(cql_type_native(CQL_TYPE_INT), (const uint8_t *)"12345678", 8, err,
			   sizeof err);
	assert_string_equal(err, "Expected 4 or 0 byte int (8)");
	brook_arena_release(&a);
}

typedef struct tcase {
	const char *type;
	const char *lit;
	const char *text;    /* cql_value_to_text, plain */
	const char *literal; /* with CQL_TEXT_LITERAL */
} tcase;

static void test_value_text(void **state)
{
	(void)state;
	static const tcase cases[] = {
		{"int", "-42", "-42", "-42"},
		{"bigint", "9223372036854775807", "9223372036854775807", "9223372036854775807"},
		{"smallint", "-32768", "-32768", "-32768"},
		{"tinyint", "127", "127", "127"},
		{"boolean", "true", "True", "True"},
		{"boolean", "FALSE", "False", "False"},
		{"double", "1.5", "1.5", "1.5"},
		{"double", "0.1", "0.1", "0.1"},
		{"double", "NaN", "NaN", "NaN"},
		{"double", "-Infinity", "-Infinity", "-Infinity"},
		{"float", "2.25", "2.25", "2.25"},
		{"text", "'it''s'", "it's", "'it''s'"},
		{"text", "plain", "plain", "'plain'"},
		{"ascii", "'abc'", "abc", "'abc'"},
		{"uuid", "4C8B0A4E-3A2F-4E1A-9E2B-0F0D8A7B6C5D",
		 "4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d", "4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d"},
		{"timeuuid", "d2177dd0-eaa2-11de-a572-001b779c76e3",
		 "d2177dd0-eaa2-11de-a572-001b779c76e3", "d2177dd0-eaa2-11de-a572-001b779c76e3"},
		{"blob", "0xCAFE00", "0xcafe00", "0xcafe00"},
		{"blob", "0x", "0x", "0x"},
		{"timestamp", "1709632800000", "2024-03-05 10:00:00.000000+0000",
		 "'2024-03-05 10:00:00.000000+0000'"},
		{"timestamp", "'2024-03-05 10:00:00.123+0000'", "2024-03-05 10:00:00.123000+0000",
		 "'2024-03-05 10:00:00.123000+0000'"},
		{"timestamp", "-1", "1969-12-31 23:59:59.999000+0000",
		 "'1969-12-31 23:59:59.999000+0000'"},
		{"date", "'2024-03-05'", "2024-03-05", "'2024-03-05'"},
		{"date", "'1900-01-01'", "1900-01-01", "'1900-01-01'"},
		{"time", "'10:00:00.5'", "10:00:00.500000000", "'10:00:00.500000000'"},
		{"time", "1", "00:00:00.000000001", "'00:00:00.000000001'"},
		{"inet", "'127.0.0.1'", "127.0.0.1", "'127.0.0.1'"},
		{"inet", "::1", "::1", "'::1'"},
		{"varint", "0", "0", "0"},
		{"varint", "128", "128", "128"},
		{"varint", "-129", "-129", "-129"},
		{"varint", "123456789012345678901234567890", "123456789012345678901234567890",
		 "123456789012345678901234567890"},
		{"decimal", "3.14", "3.14", "3.14"},
		{"decimal", "-0.005", "-0.005", "-0.005"},
		{"decimal", "12e2", "12E2", "12E2"},
		{"list<int>", "[1, -2]", "[1, -2]", "[1, -2]"},
		{"list<int>", " [ ] ", "[]", "[]"},
		{"set<text>", "{'a', 'it''s'}", "{'a', 'it''s'}", "{'a', 'it''s'}"},
		{"map<text, bigint>", "{'k': 1, 'l' : 2}", "{'k': 1, 'l': 2}", "{'k': 1, 'l': 2}"},
		{"map<text, frozen<list<double>>>", "{'x': [1.5, NaN]}", "{'x': [1.5, NaN]}",
		 "{'x': [1.5, NaN]}"},
		{"frozen<tuple<int, text, timestamp>>", "(1, null, 0)",
		 "(1, null, '1970-01-01 00:00:00.000000+0000')",
		 "(1, null, '1970-01-01 00:00:00.000000+0000')"},
		{"list<uuid>", "[4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d]",
		 "[4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d]",
		 "[4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d]"},
	};
	brook_arena a = BROOK_ARENA_INIT;
	char err[128];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const cql_type *t = cql_type_parse(cases[i].type, strlen(cases[i].type), &a, err,
						   sizeof err);
		brook_buf v = BROOK_BUF_INIT, x = BROOK_BUF_INIT, y = BROOK_BUF_INIT;
		if (cql_value_from_text(t, cases[i].lit, strlen(cases[i].lit), &v, err,
					sizeof err) != BROOK_OK)
			fail_msg("case %zu: '%s' as %s: %s", i, cases[i].lit, cases[i].type, err);
		assert_int_equal(cql_value_validate(t, (uint8_t *)v.data, v.len, err, sizeof err),
				 BROOK_OK);
		cql_value_to_text(&x, t, (uint8_t *)v.data, (int32_t)v.len, 0);
		if (strcmp(x.data, cases[i].text) != 0)
			fail_msg("case %zu: %s prints as '%s', want '%s'", i, cases[i].lit, x.data,
				 cases[i].text);
		cql_value_to_text(&y, t, (uint8_t *)v.data, (int32_t)v.len, CQL_TEXT_LITERAL);
		assert_string_equal(y.data, cases[i].literal);
		/* the literal form reads back to the same bytes */
		brook_buf v2 = BROOK_BUF_INIT;
		assert_int_equal(cql_value_from_text(t, y.data, y.len, &v2, err, sizeof err),
				 BROOK_OK);
		assert_bytes(&v2, (uint8_t *)v.data, v.len);
		brook_buf_release(&v2);
		brook_buf_release(&v);
		brook_buf_release(&x);
		brook_buf_release(&y);
	}
	static const struct {
		const char *type, *lit;
	} bad[] = {
		{"int", "2147483648"}, {"int", "1.5"},	   {"int", ""},
		{"tinyint", "128"},    {"boolean", "yes"}, {"uuid", "not-a-uuid"},
		{"timeuuid", "4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d"},
		{"blob", "0xABC"},     {"blob", "cafe"},   {"date", "'2024-13-01'"},
		{"time", "'25:00:00'"}, {"inet", "'1.2.3'"}, {"text", "'unbalanced ' quote'"},
		{"ascii", "'h\xc3\xa9'"}, {"double", "1.5x"}, {"varint", "12a"},
		{"list<int>", "[1, x]"},
		{"list<int>", "[1, 2"},
		{"list<int>", "{1}"},
		{"list<int>", "[1,]"},
		{"set<text>", "{'a', 'b}"},
		{"map<text, int>", "{'a' 1}"},
		{"map<text, int>", "{'a': null}"},
		{"frozen<tuple<int, int>>", "(1, 2, 3)"},
		{"list<int>", "[1] extra"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const cql_type *t =
			cql_type_parse(bad[i].type, strlen(bad[i].type), &a, err, sizeof err);
		brook_buf v = BROOK_BUF_INIT;
		err[0] = '\0';
		if (cql_value_from_text(t, bad[i].lit, strlen(bad[i].lit), &v, err, sizeof err) ==
		    BROOK_OK)
			fail_msg("'%s' parses as %s", bad[i].lit, bad[i].type);
		assert_true(err[0] != '\0');
		brook_buf_release(&v);
	}
	brook_arena_release(&a);
}

static void test_collection_text(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	char err[64];
	brook_buf b = BROOK_BUF_INIT;
	const cql_type *t = cql_type_parse("list<int>", 9, &a, err, sizeof err);
	cql_value_to_text(&b, t, (const uint8_t *)"\0\0\0\2\0\0\0\4\0\0\0\1\0\0\0\4\0\0\0\2",
			  20, 0);
	assert_string_equal(b.data, "[1, 2]");
	brook_buf_reset(&b);
	t = cql_type_parse("map<text, int>", 14, &a, err, sizeof err);
	static const char map2[] = "\0\0\0\2\0\0\0\1a\0\0\0\4\0\0\0\1\0\0\0\2b'\0\0\0\4"
				   "\0\0\0\2";
	cql_value_to_text(&b, t, (const uint8_t *)map2, sizeof map2 - 1, 0);
	assert_string_equal(b.data, "{'a': 1, 'b''': 2}");
	brook_buf_reset(&b);
	t = cql_type_parse("set<text>", 9, &a, err, sizeof err);
	cql_value_to_text(&b, t, (const uint8_t *)"\0\0\0\1\0\0\0\1x", 9, 0);
	assert_string_equal(b.data, "{'x'}");
	brook_buf_reset(&b);
	t = cql_type_parse("frozen<tuple<int, text>>", 24, &a, err, sizeof err);
	cql_value_to_text(&b, t, (const uint8_t *)"\0\0\0\4\0\0\0\7\xff\xff\xff\xff", 12, 0);
	assert_string_equal(b.data, "(7, null)");
	brook_buf_reset(&b);
	cql_value_to_text(&b, t, NULL, -1, 0);
	assert_string_equal(b.data, "null");
	brook_buf_reset(&b);
	/* empty values of non-string types print as nothing (regression: decimal) */
	cql_value_to_text(&b, cql_type_native(CQL_TYPE_DECIMAL), (const uint8_t *)"", 0, 0);
	cql_value_to_text(&b, cql_type_native(CQL_TYPE_INT), (const uint8_t *)"", 0, 0);
	assert_string_equal(b.data, "");
	/* malformed values print as blobs rather than failing */
	cql_value_to_text(&b, cql_type_native(CQL_TYPE_INT), (const uint8_t *)"\1\2", 2, 0);
	assert_string_equal(b.data, "0x0102");
	brook_buf_release(&b);
	brook_arena_release(&a);
}

/* ---- lz4 ----------------------------------------------------------------------- */

static void test_lz4(void **state)
{
	(void)state;
	brook_buf src = BROOK_BUF_INIT, z = BROOK_BUF_INIT, back = BROOK_BUF_INIT;
	for (int i = 0; i < 5000; i++)
		brook_buf_printf(&src, "row %d of created_users;", i % 37);
	cql_lz4_compress(src.data, src.len, &z);
	assert_true(z.len < src.len / 2);
	char err[128];
	assert_int_equal(cql_lz4_decompress(z.data, z.len, src.len, &back, err, sizeof err),
			 BROOK_OK);
	assert_bytes(&back, (uint8_t *)src.data, src.len);
	/* over the limit: refused before allocating */
	brook_buf_reset(&back);
	assert_int_equal(cql_lz4_decompress(z.data, z.len, src.len - 1, &back, err, sizeof err),
			 BROOK_ERR);
	assert_int_equal(back.len, 0);
	/* truncated */
	assert_int_equal(cql_lz4_decompress(z.data, z.len - 1, src.len, &back, err, sizeof err),
			 BROOK_ERR);
	assert_int_equal(cql_lz4_decompress(z.data, 3, src.len, &back, err, sizeof err),
			 BROOK_ERR);
	/* a lying length prefix */
	z.data[3] ^= 1;
	assert_int_equal(cql_lz4_decompress(z.data, z.len, 1 << 30, &back, err, sizeof err),
			 BROOK_ERR);
	z.data[3] ^= 1;
	/* corrupted block */
	for (size_t i = 4; i < z.len; i += 7)
		z.data[i] = (char)0xFF;
	brook_buf_reset(&back);
	assert_int_equal(cql_lz4_decompress(z.data, z.len, src.len, &back, err, sizeof err),
			 BROOK_ERR);
	assert_true(err[0] != '\0');
	/* empty body */
	brook_buf_reset(&z);
	brook_buf_reset(&back);
	cql_lz4_compress("", 0, &z);
	assert_int_equal(z.len, 4);
	assert_int_equal(cql_lz4_decompress(z.data, z.len, 10, &back, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(back.len, 0);
	brook_buf_release(&src);
	brook_buf_release(&z);
	brook_buf_release(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notations_round_trip),
		cmocka_unit_test(test_uvint_bytes),
		cmocka_unit_test(test_long_string_is_clamped),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_frame_startup_bytes),
		cmocka_unit_test(test_frame_options_supported),
		cmocka_unit_test(test_frame_version_error),
		cmocka_unit_test(test_frame_extras),
		cmocka_unit_test(test_query_bytes),
		cmocka_unit_test(test_rows_bytes),
		cmocka_unit_test(test_error_bytes),
		cmocka_unit_test(test_round_trip_and_truncation),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_value_validation),
		cmocka_unit_test(test_value_text),
		cmocka_unit_test(test_collection_text),
		cmocka_unit_test(test_lz4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
