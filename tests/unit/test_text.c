/* Unit tests for core/text: hex digits and percent-decoding. */
#include <setjmp.h>
#include <stdarg.h>
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
