/*
 * frame.h — CQL native protocol v4 frames (spec section 2).
 *
 * A frame is a 9-byte header — version (0x04 request, 0x84 response: bit 0x80 is the
 * direction), flags, stream [short] (signed), opcode [byte], body length [int] — and a
 * body of that length.
 *
 * Parsing is resumable and bounded: cql_frame_parse_header() looks at whatever bytes
 * have arrived, answers BROOK_AGAIN until the 9 header bytes are there, then checks the
 * version and the body length against the caller's maximum BEFORE anyone reads or
 * allocates the body. A bad version is known from the first byte alone (see
 * cql_frame_check_version), so a server can answer with the exact ERROR 0x000A text
 * drivers match on ("Invalid or unsupported protocol version (N); supported versions
 * are (3/v3, 4/v4)") on the request's stream id, in a frame of its own version.
 *
 * After the header, a frame body may start with flag-driven extras (section 2.2): a
 * tracing id [uuid] (responses with 0x02), warnings [string list] (responses with 0x08)
 * and a custom payload [bytes map] (0x04), in that order; cql_frame_read_extras reads
 * them. Compressed bodies (0x01) are decompressed first (cql/compress.h).
 *
 * Writing: cql_frame_begin() appends a header with a zero length and returns its
 * position; the caller appends the body (cql/msg.h); cql_frame_end() patches the
 * length, compressing the body first when asked (which sets flag 0x01).
 */
#ifndef BROOK_CQL_FRAME_H
#define BROOK_CQL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "cql/proto.h"

#define CQL_FRAME_HEADER_LEN 9
#define CQL_PROTOCOL_V4      4
#define CQL_VERSION_RESPONSE 0x80
/* The store's default maximum body length: far under the spec's 256 MB cap. */
#define CQL_FRAME_DEFAULT_MAX (16u * 1024 * 1024)

enum {
	CQL_FLAG_COMPRESSION = 0x01,
	CQL_FLAG_TRACING = 0x02,
	CQL_FLAG_CUSTOM_PAYLOAD = 0x04,
	CQL_FLAG_WARNING = 0x08,
};

typedef enum cql_opcode {
	CQL_OP_ERROR = 0x00,
	CQL_OP_STARTUP = 0x01,
	CQL_OP_READY = 0x02,
	CQL_OP_AUTHENTICATE = 0x03,
	CQL_OP_OPTIONS = 0x05,
	CQL_OP_SUPPORTED = 0x06,
	CQL_OP_QUERY = 0x07,
	CQL_OP_RESULT = 0x08,
	CQL_OP_PREPARE = 0x09,
	CQL_OP_EXECUTE = 0x0A,
	CQL_OP_REGISTER = 0x0B,
	CQL_OP_EVENT = 0x0C,
	CQL_OP_BATCH = 0x0D,
	CQL_OP_AUTH_CHALLENGE = 0x0E,
	CQL_OP_AUTH_RESPONSE = 0x0F,
	CQL_OP_AUTH_SUCCESS = 0x10,
} cql_opcode;

/* "QUERY", ...; NULL for an opcode the protocol does not define. */
const char *cql_opcode_name(uint8_t opcode);
/* True for opcodes a client sends (STARTUP, OPTIONS, QUERY, ...). */
bool cql_opcode_is_request(uint8_t opcode);

typedef struct cql_frame_hdr {
	uint8_t version; /* with the direction bit */
	uint8_t flags;
	int16_t stream;
	uint8_t opcode;
	uint32_t length; /* body bytes */
} cql_frame_hdr;

static inline uint8_t cql_frame_proto(const cql_frame_hdr *h)
{
	return h->version & 0x7F;
}
static inline bool cql_frame_is_response(const cql_frame_hdr *h)
{
	return (h->version & CQL_VERSION_RESPONSE) != 0;
}

/* Decodes the 9-byte header from p[0..n) with no checks: BROOK_AGAIN if n < 9,
 * otherwise BROOK_OK. */
int cql_frame_parse_header(const uint8_t *p, size_t n, cql_frame_hdr *h);
/* Checks a header: protocol version 4 (the direction bit is ignored here), a defined
 * opcode, length <= max_len. BROOK_OK, or BROOK_ERR with a message in err naming the
 * problem. For a bad version use cql_frame_version_error() for the message. */
int cql_frame_check(const cql_frame_hdr *h, uint32_t max_len, char *err, size_t errlen);
/* From the first byte alone: BROOK_OK when its protocol version is 4, else BROOK_ERR
 * (the server answers ERROR 0x000A with cql_frame_version_error). */
int cql_frame_check_version(uint8_t first_byte);
/* "Invalid or unsupported protocol version (N); supported versions are (3/v3, 4/v4)" */
void cql_frame_version_error(uint8_t first_byte, char *out, size_t outlen);

/* The whole answer to a frame of an unsupported version, from its first bytes: an
 * ERROR 0x000A frame on the request's stream id carrying cql_frame_version_error's text:
 * a v4 frame (0x84) for v3 and newer; for v1/v2 requests a frame in their own 8-byte
 * framing (0x81/0x82, one-byte stream id) so that old drivers can read it, as Cassandra
 * does. BROOK_AGAIN when fewer than 4 bytes have arrived, else BROOK_OK. */
int cql_frame_version_error_reply(const uint8_t *p, size_t n, brook_buf *out);

/* Appends a header (length 0) and returns its position. */
size_t cql_frame_begin(brook_buf *b, uint8_t version, uint8_t flags, int16_t stream,
		       uint8_t opcode);
/* Patches the length of the frame at pos with the bytes appended after its header.
 * With lz4, the body is compressed in place first and flag 0x01 set. */
void cql_frame_end(brook_buf *b, size_t pos, bool lz4);

/* The optional things a body starts with, by flag. */
typedef struct cql_frame_extras {
	bool has_tracing_id;
	uint8_t tracing_id[16];
	cql_str_list warnings;
	bool has_custom_payload;
	cql_bytes_map custom_payload;
} cql_frame_extras;

/* Reads the extras the header's flags announce (tracing id and warnings only in
 * responses). Check rd->failed after. */
void cql_frame_read_extras(const cql_frame_hdr *h, cql_rd *rd, brook_arena *a,
			   cql_frame_extras *out);
/* Writes the extras for the flags given (the same rule); the caller sets the flags. */
void cql_frame_write_extras(brook_buf *b, uint8_t version, uint8_t flags,
			    const cql_frame_extras *ex);

#endif
