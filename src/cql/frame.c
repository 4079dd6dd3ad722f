/*
 * frame.c — CQL frame headers, checks and extras (see frame.h).
 */
#include "cql/frame.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "cql/compress.h"

static const char *const opcode_names[] = {
	[CQL_OP_ERROR] = "ERROR",
	[CQL_OP_STARTUP] = "STARTUP",
	[CQL_OP_READY] = "READY",
	[CQL_OP_AUTHENTICATE] = "AUTHENTICATE",
	[CQL_OP_OPTIONS] = "OPTIONS",
	[CQL_OP_SUPPORTED] = "SUPPORTED",
	[CQL_OP_QUERY] = "QUERY",
	[CQL_OP_RESULT] = "RESULT",
	[CQL_OP_PREPARE] = "PREPARE",
	[CQL_OP_EXECUTE] = "EXECUTE",
	[CQL_OP_REGISTER] = "REGISTER",
	[CQL_OP_EVENT] = "EVENT",
	[CQL_OP_BATCH] = "BATCH",
	[CQL_OP_AUTH_CHALLENGE] = "AUTH_CHALLENGE",
	[CQL_OP_AUTH_RESPONSE] = "AUTH_RESPONSE",
	[CQL_OP_AUTH_SUCCESS] = "AUTH_SUCCESS",
};

const char *cql_opcode_name(uint8_t opcode)
{
	if (opcode >= sizeof opcode_names / sizeof opcode_names[0])
		return NULL;
	return opcode_names[opcode];
}

bool cql_opcode_is_request(uint8_t opcode)
{
	switch (opcode) {
	case CQL_OP_STARTUP:
	case CQL_OP_OPTIONS:
	case CQL_OP_QUERY:
	case CQL_OP_PREPARE:
	case CQL_OP_EXECUTE:
	case CQL_OP_REGISTER:
	case CQL_OP_BATCH:
	case CQL_OP_AUTH_RESPONSE:
		return true;
	default:
		return false;
	}
}

int cql_frame_parse_header(const uint8_t *p, size_t n, cql_frame_hdr *h)
{
	if (n < CQL_FRAME_HEADER_LEN)
		return BROOK_AGAIN;
	h->version = p[0];
	h->flags = p[1];
	h->stream = (int16_t)(uint16_t)((unsigned)p[2] << 8 | p[3]);
	h->opcode = p[4];
	h->length = (uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8];
	return BROOK_OK;
}

int cql_frame_check_version(uint8_t first_byte)
{
	return (first_byte & 0x7F) == CQL_PROTOCOL_V4 ? BROOK_OK : BROOK_ERR;
}

void cql_frame_version_error(uint8_t first_byte, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "Invalid or unsupported protocol version (%u); supported versions are "
		 "(3/v3, 4/v4)",
		 (unsigned)(first_byte & 0x7F));
}

int cql_frame_version_error_reply(const uint8_t *p, size_t n, brook_buf *out)
{
	if (n < 4)
		return BROOK_AGAIN;
	uint8_t v = p[0] & 0x7F;
	int16_t stream =
	    v < 3 ? (int16_t)(int8_t)p[2] : (int16_t)(uint16_t)((unsigned)p[2] << 8 | p[3]);
	char msg[128];
	cql_frame_version_error(p[0], msg, sizeof msg);
	if (v == 1 || v == 2) {
		/* v1/v2 clients read an 8-byte header with a one-byte stream id: answer in
		 * their framing so that they can read the error (as Cassandra does). */
		brook_buf body = BROOK_BUF_INIT;
		cql_wr_int(&body, 0x000A);
		cql_wr_cstring(&body, msg);
		uint8_t h[8] = {(uint8_t)(CQL_VERSION_RESPONSE | v), 0, (uint8_t)p[2], CQL_OP_ERROR};
		uint32_t len = (uint32_t)body.len;
		h[4] = (uint8_t)(len >> 24), h[5] = (uint8_t)(len >> 16), h[6] = (uint8_t)(len >> 8);
		h[7] = (uint8_t)len;
		brook_buf_append(out, h, sizeof h);
		brook_buf_append(out, body.data, body.len);
		brook_buf_release(&body);
		return BROOK_OK;
	}
	size_t pos =
	    cql_frame_begin(out, CQL_PROTOCOL_V4 | CQL_VERSION_RESPONSE, 0, stream, CQL_OP_ERROR);
	cql_wr_int(out, 0x000A);
	cql_wr_cstring(out, msg);
	cql_frame_end(out, pos, false);
	return BROOK_OK;
}

int cql_frame_check(const cql_frame_hdr *h, uint32_t max_len, char *err, size_t errlen)
{
	if (cql_frame_check_version(h->version) != BROOK_OK) {
		cql_frame_version_error(h->version, err, errlen);
		return BROOK_ERR;
	}
	if (!cql_opcode_name(h->opcode)) {
		snprintf(err, errlen, "Unknown opcode %u", h->opcode);
		return BROOK_ERR;
	}
	if (h->length > max_len) {
		snprintf(err, errlen,
			 "Request is too big: length %u exceeds maximum allowed "
			 "length %u",
			 h->length, max_len);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

size_t cql_frame_begin(brook_buf *b, uint8_t version, uint8_t flags, int16_t stream, uint8_t opcode)
{
	size_t pos = b->len;
	uint8_t h[CQL_FRAME_HEADER_LEN] = {
	    version, flags, (uint8_t)((uint16_t)stream >> 8), (uint8_t)stream, opcode, 0, 0, 0, 0};
	brook_buf_append(b, h, sizeof h);
	return pos;
}

void cql_frame_end(brook_buf *b, size_t pos, bool lz4)
{
	size_t body = pos + CQL_FRAME_HEADER_LEN;
	if (lz4) {
		brook_buf tmp = BROOK_BUF_INIT;
		cql_lz4_compress(b->data + body, b->len - body, &tmp);
		brook_buf_truncate(b, body);
		brook_buf_append(b, tmp.data, tmp.len);
		brook_buf_release(&tmp);
		b->data[pos + 1] |= CQL_FLAG_COMPRESSION;
	}
	uint32_t n = (uint32_t)(b->len - body);
	uint8_t *p = (uint8_t *)b->data + pos + 5;
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
}

void cql_frame_read_extras(const cql_frame_hdr *h, cql_rd *rd, brook_arena *a,
			   cql_frame_extras *out)
{
	memset(out, 0, sizeof *out);
	bool resp = cql_frame_is_response(h);
	if (resp && (h->flags & CQL_FLAG_TRACING)) {
		out->has_tracing_id = true;
		cql_rd_uuid(rd, out->tracing_id);
	}
	if (resp && (h->flags & CQL_FLAG_WARNING))
		cql_rd_string_list(rd, a, &out->warnings);
	if (h->flags & CQL_FLAG_CUSTOM_PAYLOAD) {
		out->has_custom_payload = true;
		cql_rd_bytes_map(rd, a, &out->custom_payload);
	}
}

void cql_frame_write_extras(brook_buf *b, uint8_t version, uint8_t flags,
			    const cql_frame_extras *ex)
{
	bool resp = (version & CQL_VERSION_RESPONSE) != 0;
	if (resp && (flags & CQL_FLAG_TRACING))
		cql_wr_uuid(b, ex->tracing_id);
	if (resp && (flags & CQL_FLAG_WARNING))
		cql_wr_string_list(b, &ex->warnings);
	if (flags & CQL_FLAG_CUSTOM_PAYLOAD)
		cql_wr_bytes_map(b, &ex->custom_payload);
}
