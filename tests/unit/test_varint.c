/* Unit tests for core/varint: boundaries, zigzag, truncated and overlong input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/varint.h"

static void roundtrip_u64(uint64_t v, size_t want_len)
{
	uint8_t b[BROOK_VARINT_MAX + 1];
	uint64_t got = 0;
	size_t n = brook_varint_put_u64(b, v);

	assert_int_equal(n, want_len);
	assert_int_equal(brook_varint_size_u64(v), want_len);
	assert_int_equal(brook_varint_get_u64(b, n, &got), (int)n);
	assert_true(got == v);
	/* Extra trailing bytes are not consumed. */
	b[n] = 0x7f;
	assert_int_equal(brook_varint_get_u64(b, n + 1, &got), (int)n);
	/* Every proper prefix needs more bytes. */
	while (n-- > 0)
		assert_int_equal(brook_varint_get_u64(b, n, &got), 0);
}

static void test_u64_boundaries(void **state)
{
	(void)state;
	roundtrip_u64(0, 1);
	roundtrip_u64(1, 1);
	roundtrip_u64(127, 1);
	roundtrip_u64(128, 2);
	roundtrip_u64(300, 2);
	roundtrip_u64(16383, 2);
	roundtrip_u64(16384, 3);
	roundtrip_u64(UINT32_MAX, 5);
	roundtrip_u64((uint64_t)1 << 63, 10);
	roundtrip_u64(UINT64_MAX, 10);
}

static void test_known_bytes(void **state)
{
	uint8_t b[BROOK_VARINT_MAX];
	const uint8_t v300[] = {0xac, 0x02};
	const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

	(void)state;
	assert_int_equal(brook_varint_put_u64(b, 300), 2);
	assert_memory_equal(b, v300, 2);
	assert_int_equal(brook_varint_put_u64(b, UINT64_MAX), 10);
	assert_memory_equal(b, max, 10);
	/* Zigzag: -1 -> 1, 1 -> 2, -64 -> 127. */
	assert_int_equal(brook_varint_put_i64(b, -1), 1);
	assert_int_equal(b[0], 1);
	assert_int_equal(brook_varint_put_i64(b, 1), 1);
	assert_int_equal(b[0], 2);
	assert_int_equal(brook_varint_put_i64(b, -64), 1);
	assert_int_equal(b[0], 127);
	assert_int_equal(brook_varint_put_i64(b, 64), 2);
}

static void test_zigzag_extremes(void **state)
{
	const int64_t vals[] = {0, -1, 1, INT64_MAX, INT64_MIN, INT64_MIN + 1, -1234567890123};
	uint8_t b[BROOK_VARINT_MAX];
	size_t i;

	(void)state;
	assert_true(brook_zigzag64(INT64_MAX) == UINT64_MAX - 1);
	assert_true(brook_zigzag64(INT64_MIN) == UINT64_MAX);
	assert_true(brook_zigzag32(INT32_MIN) == UINT32_MAX);
	assert_true(brook_unzigzag32(UINT32_MAX) == INT32_MIN);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int64_t got = 0;
		size_t n = brook_varint_put_i64(b, vals[i]);

		assert_int_equal(brook_varint_get_i64(b, n, &got), (int)n);
		assert_true(got == vals[i]);
	}
}

static void test_i32_u32(void **state)
{
	const int32_t vals[] = {0, -1, 1, INT32_MAX, INT32_MIN, 150, -150};
	uint8_t b[BROOK_VARINT_MAX];
	uint32_t u = 0;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int32_t got = 0;

		n = brook_varint_put_u64(b, brook_zigzag32(vals[i]));
		assert_true(n <= 5);
		assert_int_equal(brook_varint_get_i32(b, n, &got), (int)n);
		assert_int_equal(got, vals[i]);
	}
	n = brook_varint_put_u64(b, UINT32_MAX);
	assert_int_equal(n, 5);
	assert_int_equal(brook_varint_get_u32(b, n, &u), 5);
	assert_true(u == UINT32_MAX);
	/* 2^32 fits in 5 bytes of LEB128 but not in a u32. */
	n = brook_varint_put_u64(b, (uint64_t)1 << 32);
	assert_int_equal(n, 5);
	assert_int_equal(brook_varint_get_u32(b, n, &u), -1);
	assert_int_equal(brook_varint_get_u64(b, n, &(uint64_t){0}), 5);
}

static void test_truncated(void **state)
{
	const uint8_t b[] = {0x80, 0x80, 0x80};
	uint64_t v;
	uint32_t u;
	int64_t s;
	int32_t s32;

	(void)state;
	assert_int_equal(brook_varint_get_u64(b, 0, &v), 0);
	assert_int_equal(brook_varint_get_u64(b, 3, &v), 0);
	assert_int_equal(brook_varint_get_u32(b, 3, &u), 0);
	assert_int_equal(brook_varint_get_i64(b, 1, &s), 0);
	assert_int_equal(brook_varint_get_i32(b, 2, &s32), 0);
}

static void test_overlong(void **state)
{
	uint8_t b[16];
	uint64_t v;
	uint32_t u;
	int32_t s32;

	(void)state;
	memset(b, 0x80, sizeof(b));
	b[10] = 0x00;
	/* 11 bytes: the 10th still has the continuation bit. */
	assert_int_equal(brook_varint_get_u64(b, 11, &v), -1);
	assert_int_equal(brook_varint_get_u64(b, 10, &v), -1);
	/* 10 bytes whose last byte carries more than bit 63. */
	memset(b, 0xff, 9);
	b[9] = 0x02;
	assert_int_equal(brook_varint_get_u64(b, 10, &v), -1);
	/* Non-minimal but within length: accepted. */
	b[0] = 0x80;
	b[1] = 0x00;
	assert_int_equal(brook_varint_get_u64(b, 2, &v), 2);
	assert_true(v == 0);
	/* u32: 6 bytes. */
	memset(b, 0x80, sizeof(b));
	b[5] = 0x00;
	assert_int_equal(brook_varint_get_u32(b, 6, &u), -1);
	assert_int_equal(brook_varint_get_i32(b, 6, &s32), -1);
	/* u32: 5th byte overflowing 32 bits. */
	memset(b, 0xff, 4);
	b[4] = 0x10;
	assert_int_equal(brook_varint_get_u32(b, 5, &u), -1);
	b[4] = 0x0f;
	assert_int_equal(brook_varint_get_u32(b, 5, &u), 5);
	assert_true(u == UINT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64_boundaries),  cmocka_unit_test(test_known_bytes),
	    cmocka_unit_test(test_zigzag_extremes), cmocka_unit_test(test_i32_u32),
	    cmocka_unit_test(test_truncated),       cmocka_unit_test(test_overlong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
