/* Unit tests for core/text: hex digits, percent-decoding and UTF-8 validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/text.h"

static void test_hexval(void **state)
{
	(void)state;
	assert_int_equal(brook_hexval('0'), 0);
	assert_int_equal(brook_hexval('9'), 9);
	assert_int_equal(brook_hexval('a'), 10);
	assert_int_equal(brook_hexval('F'), 15);
	assert_int_equal(brook_hexval('g'), -1);
	assert_int_equal(brook_hexval('/'), -1);
	assert_int_equal(brook_hexval(0xC3), -1);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(brook_utf8_valid("plain ascii, long enough for the fast path", 42));
	assert_true(brook_utf8_valid("Stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x98\x80", 16));
	assert_true(brook_utf8_valid("", 0));
	assert_false(brook_utf8_valid("\xc0\xaf", 2));             /* overlong '/' */
	assert_false(brook_utf8_valid("\xed\xa0\x80", 3));         /* a surrogate */
	assert_false(brook_utf8_valid("\xf4\x90\x80\x80", 4));     /* past U+10FFFF */
	assert_false(brook_utf8_valid("abc\xe2\x82", 5));           /* truncated */
	assert_false(brook_utf8_valid("\x80", 1));                  /* a lone continuation */
}

/* The definition, by decoding: a lead byte, its continuation bytes, then the code
 * point's range (no overlong form, no surrogate, at most U+10FFFF). */
static bool ref_utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], cp, k, min;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			k = 1, cp = c & 0x1F, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			k = 2, cp = c & 0x0F, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i <= k)
			return false;
		for (unsigned j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* Every 1- and 2-byte input, every 3- and 4-byte one whose later bytes are at the edges of
 * the byte classes, each alone, truncated, and after ASCII (the fast path's way in). */
static void test_utf8_valid_exhaustive(void **state)
{
	(void)state;
	static const unsigned char edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
					     0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF4, 0xFF};
	unsigned char b[24];
	memset(b, 'a', sizeof b);
	for (unsigned x = 0; x < 256; x++)
		for (unsigned y = 0; y < 256; y++)
			for (size_t e3 = 0; e3 < sizeof edge; e3++)
				for (size_t e4 = 0; e4 < sizeof edge; e4++) {
					if (x < 0xE0 && (e3 || e4))
						continue; /* 1- and 2-byte leads: once is enough */
					unsigned char q[4] = {(unsigned char)x, (unsigned char)y,
							      edge[e3], edge[e4]};
					size_t len = x < 0xE0 ? 2 : x < 0xF0 ? 3 : 4;
					for (size_t n = 1; n <= len; n++) {
						memcpy(b + 9, q, n);
						assert_int_equal(brook_utf8_valid(q, n),
								 ref_utf8_valid(q, n));
						assert_int_equal(brook_utf8_valid(b, 9 + n),
								 ref_utf8_valid(b, 9 + n));
					}
				}
}

static void check(const char *in, bool form, const char *want, size_t wantlen)
{
	char out[64];
	size_t n = brook_pct_decode(in, strlen(in), out, form);
	assert_int_equal(n, wantlen);
	assert_memory_equal(out, want, wantlen);
	assert_int_equal(out[n], '\0');
}

static void test_pct_decode(void **state)
{
	(void)state;
	check("a%20b", false, "a b", 3);
	check("a+b", false, "a+b", 3);
	check("a+b", true, "a b", 3);
	check("%2B", true, "+", 1);
	check("%C3%A9t%c3%a9", false, "\xc3\xa9t\xc3\xa9", 5);
	check("%00x", false, "\0x", 2);
	/* malformed escapes stay literal, including at the very end */
	check("100%", false, "100%", 4);
	check("%4", false, "%4", 2);
	check("%zz%41", false, "%zzA", 4);
	check("", false, "", 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hexval),
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_valid_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
