/* Unit tests for core/rd: bounds, sticky errors, big-endian values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/rd.h"

static void test_reads_and_sticky_error(void **state)
{
	(void)state;
	const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	brook_rd rd;
	brook_rd_init(&rd, data, sizeof data);
	assert_int_equal(brook_rd_be(&rd, 2, "a"), 0x0102);
	assert_int_equal(brook_rd_be(&rd, 4, "b"), 0x03040506);
	assert_int_equal(brook_rd_left(&rd), 1);
	assert_int_equal(brook_rd_pos(&rd), 6);
	assert_int_equal(brook_rd_be(&rd, 2, "tail"), 0); /* 1 byte left: fails */
	assert_true(rd.failed);
	assert_string_equal(rd.err, "tail at byte 6 needs 2 bytes, 1 left");
	assert_int_equal(brook_rd_left(&rd), 0);
	assert_null(brook_rd_take(&rd, 0, "x")); /* sticky: even 0 bytes */
	brook_rd_fail(&rd, "second %d", 2);
	assert_string_equal(rd.err, "tail at byte 6 needs 2 bytes, 1 left"); /* first wins */

	brook_rd_init(&rd, data, sizeof data);
	const uint8_t *p = brook_rd_take(&rd, 7, "all");
	assert_ptr_equal(p, data);
	assert_false(rd.failed);
	assert_int_equal(brook_rd_be(&rd, 8, "u64"), 0);
	assert_true(rd.failed);

	brook_rd_init(&rd, NULL, 0); /* empty input is fine */
	assert_int_equal(brook_rd_left(&rd), 0);
	assert_false(rd.failed);
	const uint8_t max[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	brook_rd_init(&rd, max, 8);
	assert_true(brook_rd_be(&rd, 8, "u64") == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_sticky_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
