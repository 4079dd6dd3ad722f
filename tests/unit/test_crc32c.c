/* Unit tests for core/crc32c: standard vectors, incremental use, hardware == software. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn f)
{
	uint8_t buf[32];
	int i;

	assert_int_equal(f(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(f(0, "", 0), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(f(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(f(0, buf, 32), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(f(0, buf, 32), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(f(0, buf, 32), 0x113FDB5Cu);
}

static void test_vectors_default(void **state)
{
	(void)state;
	check_vectors(brook_crc32c);
}

static void test_vectors_sw(void **state)
{
	(void)state;
	check_vectors(brook_crc32c_sw);
}

/* A small deterministic generator, so failures reproduce. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void test_incremental(void **state)
{
	uint8_t data[1024];
	size_t i, split;
	uint32_t whole_hw, whole_sw;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)next_rand();
	whole_hw = brook_crc32c(0, data, sizeof(data));
	whole_sw = brook_crc32c_sw(0, data, sizeof(data));
	assert_int_equal(whole_hw, whole_sw);
	for (split = 0; split <= sizeof(data); split += 37) {
		uint32_t c = brook_crc32c(0, data, split);

		assert_int_equal(brook_crc32c(c, data + split, sizeof(data) - split), whole_hw);
		c = brook_crc32c_sw(0, data, split);
		assert_int_equal(brook_crc32c_sw(c, data + split, sizeof(data) - split), whole_sw);
	}
	/* Byte at a time. */
	{
		uint32_t c = 0;

		for (i = 0; i < sizeof(data); i++)
			c = brook_crc32c(c, data + i, 1);
		assert_int_equal(c, whole_hw);
	}
}

static void test_hw_equals_sw_random(void **state)
{
	uint8_t data[4096 + 16];
	int iter;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)next_rand();
	for (iter = 0; iter < 2000; iter++) {
		size_t off = next_rand() % 16;
		size_t len = next_rand() % 4097;
		uint32_t seed = iter % 3 ? next_rand() : 0;

		assert_int_equal(brook_crc32c(seed, data + off, len),
		                 brook_crc32c_sw(seed, data + off, len));
	}
	/* Informational: which path the default took. */
	print_message("crc32c hardware path: %s\n", brook_crc32c_hw_available() ? "yes" : "no");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_default),
	    cmocka_unit_test(test_vectors_sw),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_hw_equals_sw_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
