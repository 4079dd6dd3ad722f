/* Unit tests for core/buf: growth, invariants, integer and JSON formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void assert_invariants(const brook_buf *b)
{
	if (b->cap == 0) {
		assert_null(b->data);
		assert_int_equal(b->len, 0);
	} else {
		assert_non_null(b->data);
		assert_true(b->len < b->cap);
		assert_int_equal(b->data[b->len], '\0');
	}
}

static void test_zeroed_is_empty(void **state)
{
	brook_buf b = BROOK_BUF_INIT;
	size_t len = 99;
	char *p;

	(void)state;
	assert_invariants(&b);
	brook_buf_reset(&b);
	assert_invariants(&b);
	p = brook_buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	assert_invariants(&b);
	free(p);
	brook_buf_release(&b);
	assert_invariants(&b);
}

static void test_append_grow(void **state)
{
	brook_buf b;
	size_t i;

	(void)state;
	brook_buf_init(&b, 0);
	assert_invariants(&b);
	for (i = 0; i < 10000; i++) {
		brook_buf_putc(&b, (char)('a' + i % 26));
		assert_invariants(&b);
	}
	assert_int_equal(b.len, 10000);
	assert_int_equal(b.data[0], 'a');
	assert_int_equal(b.data[9999], 'a' + 9999 % 26);
	brook_buf_truncate(&b, 3);
	assert_string_equal(b.data, "abc");
	brook_buf_puts(&b, "def");
	brook_buf_append(&b, "g\0h", 3);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "abcdefg\0h", 9);
	assert_invariants(&b);
	brook_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	brook_buf_release(&b);
}

static void test_init_hint_and_reserve(void **state)
{
	brook_buf b;

	(void)state;
	brook_buf_init(&b, 1000);
	assert_true(b.cap >= 1001);
	assert_invariants(&b);
	brook_buf_reserve(&b, 5000);
	assert_true(b.cap >= 5001);
	assert_int_equal(b.len, 0);
	brook_buf_release(&b);
}

static void test_printf(void **state)
{
	brook_buf b = BROOK_BUF_INIT;
	char big[500];
	size_t len;
	char *p;

	(void)state;
	brook_buf_printf(&b, "%s=%d", "x", 42);
	assert_string_equal(b.data, "x=42");
	/* Longer than the first attempt's room, so the second vsnprintf path runs. */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	brook_buf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, 4 + 2 + 499);
	assert_int_equal(b.data[5], 'z');
	assert_int_equal(b.data[b.len - 1], ']');
	assert_invariants(&b);
	p = brook_buf_detach(&b, &len);
	assert_int_equal(len, 505);
	assert_int_equal(strlen(p), 505);
	assert_invariants(&b);
	free(p);
}

static void test_integers(void **state)
{
	brook_buf b = BROOK_BUF_INIT;

	(void)state;
	brook_buf_put_i64(&b, 0);
	brook_buf_putc(&b, ' ');
	brook_buf_put_i64(&b, -1);
	brook_buf_putc(&b, ' ');
	brook_buf_put_i64(&b, INT64_MAX);
	brook_buf_putc(&b, ' ');
	brook_buf_put_i64(&b, INT64_MIN);
	brook_buf_putc(&b, ' ');
	brook_buf_put_u64(&b, UINT64_MAX);
	brook_buf_putc(&b, ' ');
	brook_buf_put_u64(&b, 1000);
	assert_string_equal(b.data, "0 -1 9223372036854775807 -9223372036854775808 "
	                            "18446744073709551615 1000");
	brook_buf_release(&b);
}

static void test_integers_match_printf(void **state)
{
	brook_buf b = BROOK_BUF_INIT;
	char want[32];
	int64_t v = 1;
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		brook_buf_reset(&b);
		brook_buf_put_i64(&b, v);
		snprintf(want, sizeof(want), "%lld", (long long)v);
		assert_string_equal(b.data, want);
		v = v * -3 + (i % 7);
		if (v > INT64_MAX / 4 || v < INT64_MIN / 4)
			v = i;
	}
	brook_buf_release(&b);
}

static void test_json_escape(void **state)
{
	brook_buf b = BROOK_BUF_INIT;
	const char in[] = "a\"b\\c\n\t\r\b\f\x01\x1f\x7f/é☃";

	(void)state;
	brook_buf_put_json_escaped(&b, in, sizeof(in) - 1);
	assert_string_equal(b.data, "a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\x7f/é☃");
	brook_buf_reset(&b);
	/* Embedded NUL and a 4-byte UTF-8 sequence. */
	brook_buf_put_json_escaped(&b, "x\0y\xf0\x9f\x98\x80", 7);
	assert_int_equal(b.len, 1 + 6 + 1 + 4);
	assert_memory_equal(b.data, "x\\u0000y\xf0\x9f\x98\x80", b.len);
	brook_buf_reset(&b);
	brook_buf_put_json_escaped(&b, "", 0);
	assert_int_equal(b.len, 0);
	brook_buf_put_json_escaped(&b, "plain", 5);
	assert_string_equal(b.data, "plain");
	brook_buf_release(&b);
}

static void test_big_endian(void **state)
{
	brook_buf b = BROOK_BUF_INIT;
	const uint8_t want[] = {0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01,
	                        0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

	(void)state;
	brook_buf_put_be16(&b, 0x1234);
	brook_buf_put_be32(&b, 0xdeadbeef);
	brook_buf_put_be64(&b, 0x0102030405060708ull);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	/* Any width: 3 bytes of 0x123456, 5 of 0x0102030405. */
	brook_buf_reset(&b);
	brook_buf_put_be(&b, 0x123456, 3);
	brook_buf_put_be(&b, 0x0102030405ull, 5);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\x12\x34\x56\x01\x02\x03\x04\x05", 8);
	assert_int_equal(brook_be_get((const uint8_t *)b.data, 3), 0x123456);
	assert_int_equal(brook_be_get((const uint8_t *)b.data + 3, 5), 0x0102030405ull);
	uint8_t p[8];
	brook_be_put(p, 0xfedcba9876543210ull, 8);
	assert_int_equal(brook_be_get(p, 8), 0xfedcba9876543210ull);
	brook_buf_release(&b);
}

static void test_bytes_cmp(void **state)
{
	(void)state;
	assert_int_equal(brook_bytes_cmp("abc", 3, "abc", 3), 0);
	assert_true(brook_bytes_cmp("abc", 3, "abd", 3) < 0);
	assert_true(brook_bytes_cmp("abd", 3, "abc", 3) > 0);
	/* A prefix sorts first; bytes compare unsigned. */
	assert_true(brook_bytes_cmp("ab", 2, "abc", 3) < 0);
	assert_true(brook_bytes_cmp("abc", 3, "ab", 2) > 0);
	assert_true(brook_bytes_cmp("\x01", 1, "\xff", 1) < 0);
	assert_int_equal(brook_bytes_cmp(NULL, 0, NULL, 0), 0);
	assert_true(brook_bytes_cmp(NULL, 0, "a", 1) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zeroed_is_empty),
	    cmocka_unit_test(test_append_grow),
	    cmocka_unit_test(test_init_hint_and_reserve),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_integers_match_printf),
	    cmocka_unit_test(test_json_escape),
	    cmocka_unit_test(test_big_endian),
	    cmocka_unit_test(test_bytes_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
