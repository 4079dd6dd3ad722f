/*
 * buf.h — a growable byte buffer (in the spirit of git's strbuf).
 *
 * Invariants: data is NULL only while cap == 0; otherwise data[len] == '\0' (so text
 * can be used as a C string; binary data may contain NULs too), and len < cap.
 * Growth is geometric; allocation failure aborts (see mem.h). A zeroed brook_buf
 * (BROOK_BUF_INIT) is a valid empty buffer. The buffer owns data until
 * brook_buf_detach() hands it to the caller, who frees it with free().
 */
#ifndef BROOK_CORE_BUF_H
#define BROOK_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct brook_buf {
	char *data;
	size_t len;
	size_t cap;
} brook_buf;

#define BROOK_BUF_INIT {NULL, 0, 0}

void brook_buf_init(brook_buf *b, size_t hint);
void brook_buf_release(brook_buf *b);
/* Make room for at least `extra` more bytes (plus the trailing NUL). */
void brook_buf_reserve(brook_buf *b, size_t extra);
void brook_buf_reset(brook_buf *b); /* len = 0, keeps the memory */
void brook_buf_truncate(brook_buf *b, size_t len);
/* Returns the data (NUL-terminated, never NULL); the buffer is left empty. */
char *brook_buf_detach(brook_buf *b, size_t *len);

void brook_buf_append(brook_buf *b, const void *data, size_t n);
void brook_buf_puts(brook_buf *b, const char *s);
void brook_buf_putc(brook_buf *b, char c);
void brook_buf_printf(brook_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void brook_buf_vprintf(brook_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Append a decimal integer (faster than printf, for hot paths). */
void brook_buf_put_i64(brook_buf *b, int64_t v);
void brook_buf_put_u64(brook_buf *b, uint64_t v);
/* Append s as the body of a JSON string (escaped, without the quotes). */
void brook_buf_put_json_escaped(brook_buf *b, const char *s, size_t n);
/* Big-endian fixed-width integers, for wire protocols. */
void brook_buf_put_be16(brook_buf *b, uint16_t v);
void brook_buf_put_be32(brook_buf *b, uint32_t v);
void brook_buf_put_be64(brook_buf *b, uint64_t v);
/* The low nbytes (1..8) of v, big-endian (CQL's 1-, 2-, 4- and 8-byte values). */
void brook_buf_put_be(brook_buf *b, uint64_t v, size_t nbytes);

/*
 * Big-endian integers in memory, for file formats and serialized values; the caller has
 * checked that nbytes (1..8) bytes are there (core/rd.h reads with the bounds check).
 */
static inline uint64_t brook_be_get(const uint8_t *p, size_t nbytes)
{
	uint64_t v = 0;
	for (size_t i = 0; i < nbytes; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void brook_be_put(uint8_t *p, uint64_t v, size_t nbytes)
{
	for (size_t i = nbytes; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * Byte strings in memcmp order, a proper prefix first (shorter sorts lower on a tie).
 * <0, 0, >0. A pointer may be NULL when its length is 0.
 */
static inline int brook_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

#endif
