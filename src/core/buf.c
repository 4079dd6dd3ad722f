/*
 * buf.c — the growable byte buffer declared in buf.h.
 *
 * Invariants (checked by assert in debug builds):
 *   - cap == 0  <=>  data == NULL (a zeroed buffer is valid and empty);
 *   - cap > 0   =>   len < cap and data[len] == '\0'.
 * Every append goes through brook_buf_reserve(), which grows the allocation
 * geometrically (x2, minimum 64 bytes) so a sequence of appends is amortised O(1).
 * Sizes are checked for overflow before growing; an impossible size aborts like an
 * allocation failure (mem.h policy).
 *
 * brook_buf_put_json_escaped() emits the body of a JSON string: '"' and '\\' are
 * escaped, control characters below 0x20 use the short forms \b \f \n \r \t or
 * \u00XX, DEL and every byte >= 0x80 pass through unchanged (valid UTF-8 stays as
 * it is; the caller owns validity of its text).
 */
#include "core/buf.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define BUF_MIN_CAP 64

void brook_buf_init(brook_buf *b, size_t hint)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	if (hint > 0)
		brook_buf_reserve(b, hint);
}

void brook_buf_release(brook_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void brook_buf_reserve(brook_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1) {
		fprintf(stderr, "brook: buffer size overflow (%zu + %zu bytes), aborting\n", b->len,
		        extra);
		abort();
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = brook_realloc(b->data, cap);
	if (b->cap == 0)
		b->data[0] = '\0';
	b->cap = cap;
}

void brook_buf_reset(brook_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
}

void brook_buf_truncate(brook_buf *b, size_t len)
{
	assert(len <= b->len);
	if (len > b->len)
		return;
	b->len = len;
	if (b->cap)
		b->data[len] = '\0';
}

char *brook_buf_detach(brook_buf *b, size_t *len)
{
	char *p;

	if (b->cap == 0)
		brook_buf_reserve(b, 0);
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void brook_buf_append(brook_buf *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	brook_buf_reserve(b, n);
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void brook_buf_puts(brook_buf *b, const char *s)
{
	brook_buf_append(b, s, strlen(s));
}

void brook_buf_putc(brook_buf *b, char c)
{
	brook_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void brook_buf_vprintf(brook_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	size_t room;

	brook_buf_reserve(b, 64);
	room = b->cap - b->len;
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, room, fmt, cp);
	va_end(cp);
	if (n < 0) {
		/* An encoding error: keep the buffer as it was. */
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		brook_buf_reserve(b, (size_t)n);
		room = b->cap - b->len;
		va_copy(cp, ap);
		n = vsnprintf(b->data + b->len, room, fmt, cp);
		va_end(cp);
		assert(n >= 0 && (size_t)n < room);
		if (n < 0) {
			b->data[b->len] = '\0';
			return;
		}
	}
	b->len += (size_t)n;
}

void brook_buf_printf(brook_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	brook_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void brook_buf_put_u64(brook_buf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	brook_buf_append(b, tmp + i, sizeof(tmp) - i);
}

void brook_buf_put_i64(brook_buf *b, int64_t v)
{
	if (v < 0) {
		brook_buf_putc(b, '-');
		/* Negate in unsigned arithmetic so INT64_MIN works. */
		brook_buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		brook_buf_put_u64(b, (uint64_t)v);
	}
}

void brook_buf_put_json_escaped(brook_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	/* The short escapes JSON allows for control characters; 0 means \u00XX. */
	static const char short_esc[0x20] = {
	    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
	size_t i, run = 0;

	if (n == 0)
		return;
	brook_buf_reserve(b, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* Flush the unescaped run before this byte. */
		brook_buf_append(b, s + run, i - run);
		run = i + 1;
		if (c >= 0x20 || short_esc[c]) {
			char two[2] = {'\\', c >= 0x20 ? (char)c : short_esc[c]};

			brook_buf_append(b, two, 2);
		} else {
			char six[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};

			brook_buf_append(b, six, 6);
		}
	}
	brook_buf_append(b, s + run, n - run);
}

void brook_buf_put_be16(brook_buf *b, uint16_t v)
{
	uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	brook_buf_append(b, p, sizeof(p));
}

void brook_buf_put_be32(brook_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	brook_buf_append(b, p, sizeof(p));
}

void brook_buf_put_be64(brook_buf *b, uint64_t v)
{
	brook_buf_put_be32(b, (uint32_t)(v >> 32));
	brook_buf_put_be32(b, (uint32_t)v);
}

void brook_buf_put_be(brook_buf *b, uint64_t v, size_t nbytes)
{
	uint8_t p[8];

	assert(nbytes >= 1 && nbytes <= 8);
	brook_be_put(p, v, nbytes);
	brook_buf_append(b, p, nbytes);
}
