/* Unit tests for core/timeutil: civil dates, ISO-8601 format/parse, durations, clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/timeutil.h"

static void test_civil_roundtrip(void **state)
{
	int64_t d, y;
	unsigned m, dd;

	(void)state;
	assert_int_equal(brook_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(brook_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(brook_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(brook_days_from_civil(1900, 1, 1), -25567);
	assert_int_equal(brook_days_from_civil(2024, 2, 29), 19782);
	/* Every day over eight centuries, across 1970, in both directions. */
	for (d = -200000; d < 120000; d++) {
		brook_civil_from_days(d, &y, &m, &dd);
		assert_true(m >= 1 && m <= 12 && dd >= 1 && dd <= 31);
		assert_int_equal(brook_days_from_civil(y, m, dd), d);
	}
}

static void test_civil_matches_libc(void **state)
{
	int64_t d;

	(void)state;
	for (d = -30000; d < 40000; d += 17) {
		time_t t = (time_t)(d * 86400);
		struct tm tm;
		int64_t y;
		unsigned m, dd;

		gmtime_r(&t, &tm);
		brook_civil_from_days(d, &y, &m, &dd);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, (unsigned)tm.tm_mon + 1);
		assert_int_equal(dd, (unsigned)tm.tm_mday);
	}
}

static void test_format(void **state)
{
	char s[BROOK_ISO8601_LEN + 1];

	(void)state;
	brook_time_format_iso8601(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00.000Z");
	brook_time_format_iso8601(1709632800123, s);
	assert_string_equal(s, "2024-03-05T10:00:00.123Z");
	brook_time_format_iso8601(-1, s);
	assert_string_equal(s, "1969-12-31T23:59:59.999Z");
	brook_time_format_iso8601(951782400000, s);
	assert_string_equal(s, "2000-02-29T00:00:00.000Z");
	brook_time_format_iso8601(-2208988800000, s);
	assert_string_equal(s, "1900-01-01T00:00:00.000Z");
	assert_int_equal(strlen(s), BROOK_ISO8601_LEN);
	/* Out of the four-digit range: clamped, never longer. */
	brook_time_format_iso8601(INT64_MAX, s);
	assert_string_equal(s, "9999-12-31T23:59:59.999Z");
	brook_time_format_iso8601(INT64_MIN, s);
	assert_string_equal(s, "0000-01-01T00:00:00.000Z");
}

static int64_t parse_ok(const char *s)
{
	int64_t ms = 0x5555;

	if (brook_time_parse_iso8601(s, &ms) != BROOK_OK)
		fail_msg("rejected %s", s);
	return ms;
}

static void test_parse(void **state)
{
	char s[BROOK_ISO8601_LEN + 1];
	int64_t ms;

	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("1970-01-01"), 0);
	assert_int_equal(parse_ok("2024-03-05T10:00:00.123Z"), 1709632800123);
	assert_int_equal(parse_ok("2024-03-05T10:00:00.1Z"), 1709632800100);
	assert_int_equal(parse_ok("2024-03-05T10:00:00.123999999Z"), 1709632800123);
	assert_int_equal(parse_ok("2024-03-05T10:00Z"), 1709632800000);
	assert_int_equal(parse_ok("2024-03-05T10:00:00"), 1709632800000);
	assert_int_equal(parse_ok("2024-03-05T12:30:00+02:30"), 1709632800000);
	assert_int_equal(parse_ok("2024-03-05T05:00:00-0500"), 1709632800000);
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800000);
	assert_int_equal(parse_ok("2000-02-29T00:00:00.000Z"), 951782400000);
	assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
	assert_int_equal(parse_ok("1900-01-01T00:00:00Z"), -2208988800000);
	assert_int_equal(parse_ok("1955-11-05T06:00:00.5-08:00"), -446723999500);
	/* Format and parse are inverse. */
	for (ms = -5000000000000; ms < 5000000000000; ms += 123456789011) {
		brook_time_format_iso8601(ms, s);
		assert_int_equal(parse_ok(s), ms);
	}
}

static void test_parse_rejects(void **state)
{
	const char *bad[] = {
	    "",
	    "2024",
	    "2024-13-01",
	    "2024-00-10",
	    "2024-02-30",
	    "2023-02-29T00:00:00Z",
	    "1900-02-29",
	    "2024-04-31",
	    "2024-01-00",
	    "2024-01-01T24:00:00Z",
	    "2024-01-01T10:60:00Z",
	    "2024-01-01T10:00:60Z",
	    "2024-01-01T10Z",
	    "2024-01-01T10:00:00.Z",
	    "2024-01-01T10:00:00+25:00",
	    "2024-01-01T10:00:00+02",
	    "2024-01-01T10:00:00ZZ",
	    "2024-01-01T10:00:00Z ",
	    "24-01-01",
	    "2024-1-01",
	    "2024/01/01",
	    "x2024-01-01",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;

		if (brook_time_parse_iso8601(bad[i], &ms) != BROOK_ERR)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(ms, 42);
	}
}

static void test_duration(void **state)
{
	const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
	    {"0", 0},
	    {"250", 250},
	    {"250ms", 250},
	    {"30s", 30000},
	    {"5m", 300000},
	    {"2h", 7200000},
	    {"1d", 86400000},
	    {"0s", 0},
	    {"9223372036854775807", INT64_MAX},
	    {"106751991167d", 9223372036828800000},
	};
	const char *bad[] = {"",
	                     "-1",
	                     "-5s",
	                     "+5s",
	                     "s",
	                     "ms",
	                     "5x",
	                     "5 s",
	                     " 5s",
	                     "5s ",
	                     "1.5s",
	                     "5msx",
	                     "5M",
	                     "9223372036854775808",
	                     "106751991168d",
	                     "99999999999999999999999ms"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ms = -1;

		if (brook_duration_parse(ok[i].s, &ms) != BROOK_OK)
			fail_msg("rejected %s", ok[i].s);
		assert_int_equal(ms, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 7;

		if (brook_duration_parse(bad[i], &ms) != BROOK_ERR)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(ms, 7);
	}
}

static void test_clocks(void **state)
{
	int64_t a, b, now;

	(void)state;
	now = brook_now_ms();
	assert_true(now > 1600000000000); /* after September 2020 */
	a = brook_mono_ns();
	brook_sleep_ms(2);
	b = brook_mono_ns();
	assert_true(b - a >= 2000000); /* slept at least as long as asked */
	assert_true(brook_mono_ms() >= b / 1000000);
	brook_sleep_ms(0);
	brook_sleep_ms(-5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_civil_roundtrip), cmocka_unit_test(test_civil_matches_libc),
	    cmocka_unit_test(test_format),          cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_rejects),   cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
