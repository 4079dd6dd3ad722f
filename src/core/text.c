#include "core/text.h"

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
