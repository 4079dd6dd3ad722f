#include "core/text.h"

#include <stdint.h>
#include <string.h>

int brook_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t brook_pct_decode(const char *s, size_t n, char *out, bool form)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			int hi = brook_hexval((unsigned char)s[i + 1]);
			int lo = brook_hexval((unsigned char)s[i + 2]);
			if (hi >= 0 && lo >= 0) {
				out[o++] = (char)(hi * 16 + lo);
				i += 2;
				continue;
			}
		}
		out[o++] = (form && s[i] == '+') ? ' ' : s[i];
	}
	out[o] = '\0';
	return o;
}

size_t brook_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static bool u8_cont(unsigned char b)
{
	return (b & 0xC0) == 0x80;
}

/* RFC 3629's table: the second byte's range is picked by the first (E0 A0..BF, ED 80..9F,
 * F0 90..BF, F4 80..8F exclude overlong forms, surrogates and code points past U+10FFFF).
 * Each case is a short straight line, so mostly two-byte text (Cyrillic, Greek) costs
 * about as little as ASCII does. */
size_t brook_utf8_char(const void *p, size_t n)
{
	const unsigned char *s = p;
	if (n == 0)
		return 0;
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && u8_cont(s[1]) ? 2 : 0;
	unsigned lo = 0x80, hi = 0xBF;
	size_t k;
	if (c >= 0xE0 && c <= 0xEF) {
		k = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		k = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < k || s[1] < lo || s[1] > hi || !u8_cont(s[2]) || (k == 4 && !u8_cont(s[3])))
		return 0;
	return k;
}

/* ASCII runs eight bytes at a time, other characters one by one. */
bool brook_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;
	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			while (i + 8 <= n) {
				uint64_t w;
				memcpy(&w, s + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			continue;
		}
		size_t k = brook_utf8_char(s + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}
