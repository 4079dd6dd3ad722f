/*
 * compress.c — gzip, snappy, lz4 and zstd for record batches, over Debian's libraries.
 *
 * Every decompressor writes into a brook_buf grown in steps and checks max_out before each
 * growth, so the bound holds whatever the input claims (snappy's and zstd's declared
 * lengths are only hints checked against the bound).
 */
#include "kafka/compress.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/err.h"

#define CHUNK 65536

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

const char *kafka_compression_name(int codec)
{
	switch (codec) {
	case KAFKA_COMPRESSION_NONE:
		return "none";
	case KAFKA_COMPRESSION_GZIP:
		return "gzip";
	case KAFKA_COMPRESSION_SNAPPY:
		return "snappy";
	case KAFKA_COMPRESSION_LZ4:
		return "lz4";
	case KAFKA_COMPRESSION_ZSTD:
		return "zstd";
	default:
		return "unknown";
	}
}

/* Room for `want` more bytes, or BROOK_ERR when that would pass the bound. */
static int room(brook_buf *out, size_t start, size_t want, size_t max_out)
{
	if (out->len - start + want > max_out)
		want = max_out - (out->len - start);
	if (want == 0)
		return BROOK_ERR;
	brook_buf_reserve(out, want);
	return BROOK_OK;
}

static int gunzip(const uint8_t *in, size_t n, size_t max_out, brook_buf *out, char *why,
		  size_t whylen)
{
	size_t start = out->len;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		snprintf(why, whylen, "gzip: cannot initialise zlib");
		return BROOK_ERR;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	size_t left = n;
	int rc = BROOK_ERR;
	for (;;) {
		if (zs.avail_in == 0) {
			uInt take = left > 1u << 30 ? 1u << 30 : (uInt)left;
			zs.avail_in = take;
			left -= take;
		}
		if (room(out, start, CHUNK, max_out) != BROOK_OK) {
			snprintf(why, whylen, "gzip: decompressed size over %zu bytes", max_out);
			break;
		}
		size_t avail = out->cap - out->len - 1;
		if (avail > CHUNK)
			avail = CHUNK;
		if (out->len - start + avail > max_out)
			avail = max_out - (out->len - start);
		zs.next_out = (Bytef *)out->data + out->len;
		zs.avail_out = (uInt)avail;
		int zr = inflate(&zs, Z_NO_FLUSH);
		out->len += avail - zs.avail_out;
		out->data[out->len] = '\0';
		if (zr == Z_STREAM_END) {
			/* Concatenated gzip members are legal; continue with the next one. */
			if (zs.avail_in == 0 && left == 0) {
				rc = BROOK_OK;
				break;
			}
			if (inflateReset(&zs) != Z_OK) {
				snprintf(why, whylen, "gzip: cannot reset zlib");
				break;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
			snprintf(why, whylen, "gzip: data truncated");
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			snprintf(why, whylen, "gzip: %s", zs.msg ? zs.msg : "corrupt data");
			break;
		}
	}
	inflateEnd(&zs);
	return rc;
}

static int snappy_raw(const uint8_t *in, size_t n, size_t max_out, brook_buf *out,
		      size_t start, char *why, size_t whylen)
{
	size_t ulen;
	if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK) {
		snprintf(why, whylen, "snappy: corrupt block header");
		return BROOK_ERR;
	}
	if (out->len - start + ulen > max_out || ulen > max_out) {
		snprintf(why, whylen, "snappy: decompressed size %zu over %zu bytes", ulen,
			 max_out);
		return BROOK_ERR;
	}
	brook_buf_reserve(out, ulen);
	size_t got = ulen;
	if (snappy_uncompress((const char *)in, n, out->data + out->len, &got) != SNAPPY_OK ||
	    got != ulen) {
		snprintf(why, whylen, "snappy: corrupt block");
		return BROOK_ERR;
	}
	out->len += got;
	out->data[out->len] = '\0';
	return BROOK_OK;
}

static int unsnappy(const uint8_t *in, size_t n, size_t max_out, brook_buf *out, char *why,
		    size_t whylen)
{
	size_t start = out->len;
	if (n < 16 || memcmp(in, xerial_magic, 8) != 0)
		return snappy_raw(in, n, max_out, out, start, why, whylen);
	/* xerial: magic, version i32, compatible i32, then [i32 length][raw block]... */
	size_t pos = 16;
	while (pos < n) {
		if (n - pos < 4) {
			snprintf(why, whylen, "snappy: truncated xerial block length");
			return BROOK_ERR;
		}
		uint32_t bl = (uint32_t)in[pos] << 24 | (uint32_t)in[pos + 1] << 16 |
			      (uint32_t)in[pos + 2] << 8 | in[pos + 3];
		pos += 4;
		if (bl > n - pos) {
			snprintf(why, whylen, "snappy: xerial block of %u bytes past the end", bl);
			return BROOK_ERR;
		}
		if (snappy_raw(in + pos, bl, max_out, out, start, why, whylen) != BROOK_OK)
			return BROOK_ERR;
		pos += bl;
	}
	return BROOK_OK;
}

static int unlz4(const uint8_t *in, size_t n, size_t max_out, brook_buf *out, char *why,
		 size_t whylen)
{
	size_t start = out->len;
	LZ4F_dctx *dctx;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
		snprintf(why, whylen, "lz4: cannot create a decompression context");
		return BROOK_ERR;
	}
	size_t pos = 0;
	int rc = BROOK_ERR;
	size_t hint = 1;
	for (;;) {
		if (room(out, start, CHUNK, max_out) != BROOK_OK) {
			snprintf(why, whylen, "lz4: decompressed size over %zu bytes", max_out);
			break;
		}
		size_t avail = out->cap - out->len - 1;
		if (avail > CHUNK)
			avail = CHUNK;
		if (out->len - start + avail > max_out)
			avail = max_out - (out->len - start);
		size_t src = n - pos;
		hint = LZ4F_decompress(dctx, out->data + out->len, &avail, in + pos, &src, NULL);
		if (LZ4F_isError(hint)) {
			snprintf(why, whylen, "lz4: %s", LZ4F_getErrorName(hint));
			break;
		}
		out->len += avail;
		out->data[out->len] = '\0';
		pos += src;
		if (hint == 0) {
			if (pos == n) {
				rc = BROOK_OK;
				break;
			}
			/* Another frame follows; the context is ready for it. */
			continue;
		}
		if (pos == n && avail == 0 && src == 0) {
			snprintf(why, whylen, "lz4: data truncated");
			break;
		}
	}
	LZ4F_freeDecompressionContext(dctx);
	return rc;
}

static int unzstd(const uint8_t *in, size_t n, size_t max_out, brook_buf *out, char *why,
		  size_t whylen)
{
	size_t start = out->len;
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_initDStream(ds);
	ZSTD_inBuffer ib = {in, n, 0};
	int rc = BROOK_ERR;
	size_t last = 1;
	for (;;) {
		if (room(out, start, CHUNK, max_out) != BROOK_OK) {
			snprintf(why, whylen, "zstd: decompressed size over %zu bytes", max_out);
			break;
		}
		size_t avail = out->cap - out->len - 1;
		if (avail > CHUNK)
			avail = CHUNK;
		if (out->len - start + avail > max_out)
			avail = max_out - (out->len - start);
		ZSTD_outBuffer ob = {out->data + out->len, avail, 0};
		size_t before = ib.pos;
		last = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(last)) {
			snprintf(why, whylen, "zstd: %s", ZSTD_getErrorName(last));
			break;
		}
		out->len += ob.pos;
		out->data[out->len] = '\0';
		if (ib.pos == ib.size && last == 0) {
			rc = BROOK_OK;
			break;
		}
		if (ib.pos == ib.size && ob.pos < ob.size && before == ib.pos) {
			snprintf(why, whylen, "zstd: data truncated");
			break;
		}
	}
	ZSTD_freeDStream(ds);
	return rc;
}

int kafka_decompress(int codec, const uint8_t *in, size_t n, size_t max_out, brook_buf *out,
		     char *why, size_t whylen)
{
	switch (codec) {
	case KAFKA_COMPRESSION_NONE:
		if (n > max_out) {
			snprintf(why, whylen, "data of %zu bytes over %zu", n, max_out);
			return BROOK_ERR;
		}
		brook_buf_append(out, in, n);
		return BROOK_OK;
	case KAFKA_COMPRESSION_GZIP:
		return gunzip(in, n, max_out, out, why, whylen);
	case KAFKA_COMPRESSION_SNAPPY:
		return unsnappy(in, n, max_out, out, why, whylen);
	case KAFKA_COMPRESSION_LZ4:
		return unlz4(in, n, max_out, out, why, whylen);
	case KAFKA_COMPRESSION_ZSTD:
		return unzstd(in, n, max_out, out, why, whylen);
	default:
		snprintf(why, whylen, "unknown compression codec %d", codec);
		return BROOK_ERR;
	}
}

static int gzip_compress(const uint8_t *in, size_t n, brook_buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return BROOK_ERR;
	uLong bound = deflateBound(&zs, (uLong)n) + 32;
	brook_buf_reserve(out, bound);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (Bytef *)out->data + out->len;
	zs.avail_out = (uInt)bound;
	int zr = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (zr != Z_STREAM_END)
		return BROOK_ERR;
	out->len += bound - zs.avail_out;
	out->data[out->len] = '\0';
	return BROOK_OK;
}

static int snappy_compress_raw(const uint8_t *in, size_t n, brook_buf *out)
{
	size_t bound = snappy_max_compressed_length(n);
	brook_buf_reserve(out, bound);
	size_t got = bound;
	if (snappy_compress((const char *)in, n, out->data + out->len, &got) != SNAPPY_OK)
		return BROOK_ERR;
	out->len += got;
	out->data[out->len] = '\0';
	return BROOK_OK;
}

int kafka_compress_snappy_xerial(const uint8_t *in, size_t n, size_t block, brook_buf *out)
{
	brook_buf_append(out, xerial_magic, sizeof(xerial_magic));
	brook_buf_put_be32(out, 1);
	brook_buf_put_be32(out, 1);
	if (block == 0)
		block = 32768;
	for (size_t pos = 0; pos < n; pos += block) {
		size_t take = n - pos < block ? n - pos : block;
		size_t at = out->len;
		brook_buf_put_be32(out, 0);
		if (snappy_compress_raw(in + pos, take, out) != BROOK_OK)
			return BROOK_ERR;
		uint32_t bl = (uint32_t)(out->len - at - 4);
		uint8_t *p = (uint8_t *)out->data + at;
		p[0] = (uint8_t)(bl >> 24);
		p[1] = (uint8_t)(bl >> 16);
		p[2] = (uint8_t)(bl >> 8);
		p[3] = (uint8_t)bl;
	}
	return BROOK_OK;
}

int kafka_compress(int codec, const uint8_t *in, size_t n, brook_buf *out)
{
	switch (codec) {
	case KAFKA_COMPRESSION_NONE:
		brook_buf_append(out, in, n);
		return BROOK_OK;
	case KAFKA_COMPRESSION_GZIP:
		return gzip_compress(in, n, out);
	case KAFKA_COMPRESSION_SNAPPY:
		return snappy_compress_raw(in, n, out);
	case KAFKA_COMPRESSION_LZ4: {
		size_t bound = LZ4F_compressFrameBound(n, NULL);
		brook_buf_reserve(out, bound);
		size_t got = LZ4F_compressFrame(out->data + out->len, bound, in, n, NULL);
		if (LZ4F_isError(got))
			return BROOK_ERR;
		out->len += got;
		out->data[out->len] = '\0';
		return BROOK_OK;
	}
	case KAFKA_COMPRESSION_ZSTD: {
		size_t bound = ZSTD_compressBound(n);
		brook_buf_reserve(out, bound);
		size_t got = ZSTD_compress(out->data + out->len, bound, in, n, 1);
		if (ZSTD_isError(got))
			return BROOK_ERR;
		out->len += got;
		out->data[out->len] = '\0';
		return BROOK_OK;
	}
	default:
		return BROOK_ERR;
	}
}
