/*
 * compress.c — lz4 frame bodies (see compress.h).
 */
#include "cql/compress.h"

#include <lz4.h>
#include <stdio.h>

#include "core/err.h"

void cql_lz4_compress(const void *src, size_t n, brook_buf *out)
{
	brook_buf_put_be32(out, (uint32_t)n);
	if (n == 0)
		return;
	int bound = LZ4_compressBound((int)n);
	brook_buf_reserve(out, (size_t)bound);
	int w = LZ4_compress_default(src, out->data + out->len, (int)n, bound);
	/* With a destination of compressBound bytes compression cannot fail. */
	out->len += (size_t)w;
	out->data[out->len] = '\0';
}

int cql_lz4_decompress(const void *src, size_t n, size_t max_len, brook_buf *out, char *err,
		       size_t errlen)
{
	const uint8_t *p = src;
	if (n < 4) {
		snprintf(err, errlen, "lz4 body of %zu bytes is shorter than its 4-byte length", n);
		return BROOK_ERR;
	}
	uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (len > max_len || len > (uint32_t)INT32_MAX) {
		snprintf(err, errlen, "lz4 body claims %u uncompressed bytes, over the %zu limit",
			 len, max_len);
		return BROOK_ERR;
	}
	if (len == 0) {
		if (n != 4) {
			snprintf(err, errlen, "lz4 body of length 0 carries %zu extra bytes",
				 n - 4);
			return BROOK_ERR;
		}
		return BROOK_OK;
	}
	if (n - 4 > (size_t)INT32_MAX) {
		snprintf(err, errlen, "lz4 body of %zu bytes is too large", n);
		return BROOK_ERR;
	}
	brook_buf_reserve(out, len);
	int got =
	    LZ4_decompress_safe((const char *)p + 4, out->data + out->len, (int)(n - 4), (int)len);
	if (got < 0 || (uint32_t)got != len) {
		snprintf(err, errlen, "lz4 body is corrupt (decoded %d of %u bytes)", got, len);
		out->data[out->len] = '\0';
		return BROOK_ERR;
	}
	out->len += len;
	out->data[out->len] = '\0';
	return BROOK_OK;
}
