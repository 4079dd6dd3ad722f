/*
 * compress.h — lz4 frame-body compression as the CQL native protocol uses it (spec
 * section 5): a 4-byte big-endian uncompressed length followed by one raw LZ4 block
 * (liblz4's block format, not the LZ4 frame format).
 *
 * Decompression never trusts the length prefix: it must not exceed the caller's limit
 * (the connection's maximum frame size) and the block must decode to exactly that many
 * bytes; only then is the output sized. An empty body compresses to a zero length prefix
 * and no block.
 */
#ifndef BROOK_CQL_COMPRESS_H
#define BROOK_CQL_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends the compressed form of src[0..n) to out. n must be < 2^31. */
void cql_lz4_compress(const void *src, size_t n, brook_buf *out);
/* Appends the decompressed body to out. BROOK_OK, or BROOK_ERR with a message in err
 * (truncated input, a length over max_len, corrupt block, length mismatch). */
int cql_lz4_decompress(const void *src, size_t n, size_t max_len, brook_buf *out, char *err,
		       size_t errlen);

#endif
