/*
 * compress.h — the record-batch compression codecs Kafka uses, on whole buffers.
 *
 * Codec numbers are those of the batch attributes (bits 0-2). Decompression is bounded:
 * it fails instead of producing more than max_out bytes, so a tiny "zip bomb" cannot make
 * the broker allocate without limit. Formats: gzip (RFC 1952 members, via zlib), snappy
 * (raw blocks, and the xerial framing Java clients write: "\x82SNAPPY\0" + two i32 +
 * [i32 length, raw block]...), LZ4 frame format (lz4frame.h), zstd frames (streaming, so
 * frames without a content size work).
 */
#ifndef BROOK_KAFKA_COMPRESS_H
#define BROOK_KAFKA_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum {
	KAFKA_COMPRESSION_NONE = 0,
	KAFKA_COMPRESSION_GZIP = 1,
	KAFKA_COMPRESSION_SNAPPY = 2,
	KAFKA_COMPRESSION_LZ4 = 3,
	KAFKA_COMPRESSION_ZSTD = 4,
};

const char *kafka_compression_name(int codec);

/* Appends the decompressed form of in[0..n) to out. BROOK_OK, or BROOK_ERR with a reason
 * in why (corrupt input, unknown codec, or output over max_out bytes). */
int kafka_decompress(int codec, const uint8_t *in, size_t n, size_t max_out, brook_buf *out,
		     char *why, size_t whylen);
/* Appends the compressed form of in[0..n) to out (snappy: raw block). BROOK_OK/BROOK_ERR. */
int kafka_compress(int codec, const uint8_t *in, size_t n, brook_buf *out);
/* Snappy in the xerial framing (what the Java client writes); for tests. */
int kafka_compress_snappy_xerial(const uint8_t *in, size_t n, size_t block, brook_buf *out);

#endif
