/* Unit tests for core/arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"

static void test_alloc_align_grow(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	a.first_size = 64;
	char *s = brook_arena_strndup(&a, "hello world", 5);
	assert_string_equal(s, "hello");
	for (int i = 0; i < 1000; i++) {
		uint64_t *p = brook_arena_alloc(&a, sizeof *p * 3);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		p[0] = p[1] = p[2] = (uint64_t)i;
	}
	unsigned char *big = brook_arena_calloc(&a, 100000);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(big[i], 0);
	assert_string_equal(s, "hello"); /* earlier allocations survive growth */
	brook_arena_reset(&a);
	assert_int_equal(a.total, 0);
	/* The largest chunk stays: the same work again needs no new chunk. */
	assert_ptr_equal(brook_arena_alloc(&a, 100000), big);
	assert_non_null(brook_arena_alloc(&a, 10));
	brook_arena_release(&a);
	assert_null(a.head);
	brook_arena_release(&a); /* twice is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_align_grow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
