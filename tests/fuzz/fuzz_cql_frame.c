/*
 * fuzz_cql_frame.c — arbitrary bytes as one CQL v4 frame: header, optional lz4 body,
 * flag-driven extras, and the message body of any opcode.
 *
 * Invariants: nothing crashes or reads out of bounds; every refusal leaves a message;
 * a decoded message re-encodes, the re-encoding decodes again, consumes every byte and
 * encodes to the very same bytes (the canonical form is a fixed point). Rows results
 * are walked cell by cell, each cell validated against its column type and printed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "cql/compress.h"
#include "cql/frame.h"
#include "cql/msg.h"
#include "cql/types.h"

#define FUZZ_MAX_BODY (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_rows(const cql_result *r, brook_arena *a)
{
	if (r->kind != CQL_RESULT_ROWS || r->meta.columns_count > 64)
		return;
	cql_bytes *cells = brook_arena_alloc(a, 64 * sizeof *cells);
	cql_rows_iter it;
	cql_rows_iter_init(&it, r);
	brook_buf out = BROOK_BUF_INIT;
	char err[128];
	while (cql_rows_next(&it, cells)) {
		for (int32_t i = 0; i < r->meta.columns_count; i++) {
			if (!r->meta.cols)
				continue;
			const cql_type *t = r->meta.cols[i].type;
			if (cells[i].len >= 0 &&
			    cql_value_validate(t, cells[i].ptr, (size_t)cells[i].len, err,
					       sizeof err) != BROOK_OK &&
			    !err[0])
				abort();
			cql_value_to_text(&out, t, cells[i].ptr, cells[i].len, 0);
			brook_buf_reset(&out);
		}
	}
	if (it.rd.failed) /* rows_content was checked at decode time */
		abort();
	brook_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cql_frame_hdr h;
	char err[256];
	if (cql_frame_parse_header(data, size, &h) != BROOK_OK)
		return 0;
	if (cql_frame_check(&h, FUZZ_MAX_BODY, err, sizeof err) != BROOK_OK) {
		if (!err[0])
			abort();
		return 0;
	}
	if (size - CQL_FRAME_HEADER_LEN < h.length)
		return 0; /* the body has not all arrived */
	const uint8_t *body = data + CQL_FRAME_HEADER_LEN;
	size_t blen = h.length;

	brook_buf plain = BROOK_BUF_INIT, a1 = BROOK_BUF_INIT, a2 = BROOK_BUF_INIT;
	brook_arena arena = BROOK_ARENA_INIT;
	if (h.flags & CQL_FLAG_COMPRESSION) {
		err[0] = '\0';
		if (cql_lz4_decompress(body, blen, FUZZ_MAX_BODY, &plain, err, sizeof err) !=
		    BROOK_OK) {
			if (!err[0])
				abort();
			goto out;
		}
		body = (const uint8_t *)plain.data;
		blen = plain.len;
	}

	cql_rd rd;
	cql_frame_extras ex;
	cql_msg m;
	cql_rd_init(&rd, body, blen);
	cql_frame_read_extras(&h, &rd, &arena, &ex);
	if (rd.failed || cql_msg_decode(h.opcode, &rd, &arena, &m) != BROOK_OK) {
		if (!rd.failed || !rd.err[0])
			abort();
		goto out;
	}
	if (m.opcode == CQL_OP_RESULT)
		walk_rows(&m.u.result, &arena);

	cql_frame_write_extras(&a1, h.version, h.flags, &ex);
	cql_msg_encode(&a1, &m);

	cql_rd rd2;
	cql_frame_extras ex2;
	cql_msg m2;
	cql_rd_init(&rd2, a1.data, a1.len);
	cql_frame_read_extras(&h, &rd2, &arena, &ex2);
	if (rd2.failed || cql_msg_decode(h.opcode, &rd2, &arena, &m2) != BROOK_OK)
		abort();
	if (cql_rd_left(&rd2) != 0)
		abort();
	cql_frame_write_extras(&a2, h.version, h.flags, &ex2);
	cql_msg_encode(&a2, &m2);
	if (a1.len != a2.len || (a1.len && memcmp(a1.data, a2.data, a1.len) != 0))
		abort();

	/* compressed framing of the canonical body round-trips too */
	brook_buf f = BROOK_BUF_INIT, back = BROOK_BUF_INIT;
	size_t pos =
	    cql_frame_begin(&f, h.version, h.flags & ~CQL_FLAG_COMPRESSION, h.stream, h.opcode);
	if (a1.len)
		brook_buf_append(&f, a1.data, a1.len);
	cql_frame_end(&f, pos, true);
	if (cql_lz4_decompress(f.data + CQL_FRAME_HEADER_LEN, f.len - CQL_FRAME_HEADER_LEN,
			       FUZZ_MAX_BODY, &back, err, sizeof err) != BROOK_OK ||
	    back.len != a1.len || (a1.len && memcmp(back.data, a1.data, a1.len) != 0))
		abort();
	brook_buf_release(&f);
	brook_buf_release(&back);
out:
	brook_buf_release(&plain);
	brook_buf_release(&a1);
	brook_buf_release(&a2);
	brook_arena_release(&arena);
	return 0;
}
