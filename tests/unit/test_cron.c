/* Unit tests for scheduler/cron: every field form, names, Vixie day matching, presets,
 * month ends and leap years, DST in Europe/Berlin and America/New_York (both
 * directions, fixed-hour and hourly), footer-rule years, and the error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "scheduler/cron.h"

typedef struct {
	const char *expr, *from, *zone; /* zone NULL: UTC, printed with "Z" */
	const char *want;               /* the next fire times, space-separated */
} next_row;

static const next_row rows[] = {
	/* field forms */
	{"* * * * *", "2024-03-05T10:00:30Z", NULL,
	 "2024-03-05T10:01:00Z 2024-03-05T10:02:00Z 2024-03-05T10:03:00Z"},
	{"*/15 * * * *", "2024-03-05T10:00:00Z", NULL,
	 "2024-03-05T10:15:00Z 2024-03-05T10:30:00Z 2024-03-05T10:45:00Z"},
	{"5-10/2 * * * *", "2024-03-05T10:07:00Z", NULL,
	 "2024-03-05T10:09:00Z 2024-03-05T11:05:00Z 2024-03-05T11:07:00Z"},
	{"50/5 * * * *", "2024-03-05T10:00:00Z", NULL,
	 "2024-03-05T10:50:00Z 2024-03-05T10:55:00Z 2024-03-05T11:50:00Z"},
	{"0 9-17/4 * * *", "2024-03-05T10:00:00Z", NULL,
	 "2024-03-05T13:00:00Z 2024-03-05T17:00:00Z 2024-03-06T09:00:00Z"},
	{"0,30 1,2 * * *", "2024-03-05T01:00:00Z", NULL,
	 "2024-03-05T01:30:00Z 2024-03-05T02:00:00Z 2024-03-05T02:30:00Z 2024-03-06T01:00:00Z"},
	{"  7  8\t* * *  ", "2024-03-05T00:00:00Z", NULL, "2024-03-05T08:07:00Z"},
	/* names, case-insensitive; day-of-week 0 and 7 */
	{"0 0 1 jan,Jul *", "2024-03-05T00:00:00Z", NULL,
	 "2024-07-01T00:00:00Z 2025-01-01T00:00:00Z"},
	{"0 0 1 MAR-may *", "2024-03-05T00:00:00Z", NULL,
	 "2024-04-01T00:00:00Z 2024-05-01T00:00:00Z 2025-03-01T00:00:00Z"},
	{"0 0 * * Mon-FRI", "2024-03-08T12:00:00Z", NULL,
	 "2024-03-11T00:00:00Z 2024-03-12T00:00:00Z 2024-03-13T00:00:00Z"},
	{"0 0 * * 7", "2024-03-05T00:00:00Z", NULL, "2024-03-10T00:00:00Z 2024-03-17T00:00:00Z"},
	{"0 0 * * 0", "2024-03-05T00:00:00Z", NULL, "2024-03-10T00:00:00Z 2024-03-17T00:00:00Z"},
	{"0 0 * * sun", "2024-03-05T00:00:00Z", NULL, "2024-03-10T00:00:00Z"},
	{"0 0 * * 5-7", "2024-03-05T00:00:00Z", NULL,
	 "2024-03-08T00:00:00Z 2024-03-09T00:00:00Z 2024-03-10T00:00:00Z 2024-03-15T00:00:00Z"},
	/* Vixie: both restricted -> either; one starred -> both */
	{"0 0 13 * FRI", "2024-10-01T00:00:00Z", NULL,
	 "2024-10-04T00:00:00Z 2024-10-11T00:00:00Z 2024-10-13T00:00:00Z 2024-10-18T00:00:00Z"},
	{"0 0 13 * *", "2024-10-01T00:00:00Z", NULL, "2024-10-13T00:00:00Z 2024-11-13T00:00:00Z"},
	{"0 0 * * FRI", "2024-10-01T00:00:00Z", NULL, "2024-10-04T00:00:00Z 2024-10-11T00:00:00Z"},
	{"0 0 */10 * *", "2024-10-01T00:00:00Z", NULL,
	 "2024-10-11T00:00:00Z 2024-10-21T00:00:00Z 2024-10-31T00:00:00Z 2024-11-01T00:00:00Z"},
	{"0 0 */10 * MON", "2024-10-01T00:00:00Z", NULL, /* "*" first: both must match */
	 "2024-10-21T00:00:00Z 2024-11-11T00:00:00Z"},
	/* presets */
	{"@hourly", "2024-03-05T10:00:00Z", NULL, "2024-03-05T11:00:00Z 2024-03-05T12:00:00Z"},
	{"@daily", "2024-03-05T10:00:00Z", NULL, "2024-03-06T00:00:00Z"},
	{"@midnight", "2024-03-05T10:00:00Z", NULL, "2024-03-06T00:00:00Z"},
	{"@weekly", "2024-03-05T10:00:00Z", NULL, "2024-03-10T00:00:00Z 2024-03-17T00:00:00Z"},
	{"@monthly", "2024-03-05T10:00:00Z", NULL, "2024-04-01T00:00:00Z 2024-05-01T00:00:00Z"},
	{"@yearly", "2024-03-05T10:00:00Z", NULL, "2025-01-01T00:00:00Z"},
	{"@ANNUALLY", "2024-03-05T10:00:00Z", NULL, "2025-01-01T00:00:00Z"},
	/* month ends, leap years, year wrap */
	{"0 0 31 * *", "2024-01-31T00:00:00Z", NULL,
	 "2024-03-31T00:00:00Z 2024-05-31T00:00:00Z 2024-07-31T00:00:00Z 2024-08-31T00:00:00Z"},
	{"0 0 29 2 *", "2023-01-01T00:00:00Z", NULL, "2024-02-29T00:00:00Z 2028-02-29T00:00:00Z"},
	{"0 0 29 2 *", "2024-03-01T00:00:00Z", NULL, "2028-02-29T00:00:00Z 2032-02-29T00:00:00Z"},
	{"0 0 29 2 *", "2096-03-01T00:00:00Z", NULL, "2104-02-29T00:00:00Z"}, /* 2100 is not leap */
	{"0 0 28-29 2 *", "2025-02-28T00:00:00Z", NULL,
	 "2026-02-28T00:00:00Z 2027-02-28T00:00:00Z 2028-02-28T00:00:00Z 2028-02-29T00:00:00Z"},
	{"59 23 31 12 *", "2024-12-31T23:59:00Z", NULL,
	 "2025-12-31T23:59:00Z 2026-12-31T23:59:00Z"},
	{"0 0 1 1 *", "2024-12-31T23:59:59Z", NULL, "2025-01-01T00:00:00Z"},
	{"* * * * *", "2024-12-31T23:59:00Z", NULL, "2025-01-01T00:00:00Z"},
	{"0 0 * * *", "1969-12-31T12:00:00Z", NULL, "1970-01-01T00:00:00Z 1970-01-02T00:00:00Z"},
	/* zones without DST changes */
	{"0 12 * * *", "2024-03-05T00:00:00Z", "UTC", "2024-03-05T12:00:00+00:00"},
	{"0 9 * * *", "2024-03-05T00:00:00Z", "Asia/Kolkata", "2024-03-05T09:00:00+05:30"},
	/* America/New_York, spring forward 2024-03-10 02:00 EST -> 03:00 EDT */
	{"30 2 * * *", "2024-03-09T00:00:00Z", "America/New_York",
	 "2024-03-09T02:30:00-05:00 2024-03-10T03:30:00-04:00 2024-03-11T02:30:00-04:00"},
	{"0 2 * * *", "2024-03-09T12:00:00Z", "America/New_York",
	 "2024-03-10T03:00:00-04:00 2024-03-11T02:00:00-04:00"},
	{"0 3 * * *", "2024-03-09T12:00:00Z", "America/New_York",
	 "2024-03-10T03:00:00-04:00 2024-03-11T03:00:00-04:00"},
	{"0 * * * *", "2024-03-10T05:30:00Z", "America/New_York",
	 "2024-03-10T01:00:00-05:00 2024-03-10T03:00:00-04:00 2024-03-10T04:00:00-04:00"},
	{"*/30 * * * *", "2024-03-10T06:15:00Z", "America/New_York",
	 "2024-03-10T01:30:00-05:00 2024-03-10T03:00:00-04:00 2024-03-10T03:30:00-04:00"},
	{"15,45 2,3 * * *", "2024-03-10T06:00:00Z", "America/New_York", /* no double fire */
	 "2024-03-10T03:15:00-04:00 2024-03-10T03:45:00-04:00 2024-03-11T02:15:00-04:00"},
	/* America/New_York, fall back 2024-11-03 02:00 EDT -> 01:00 EST */
	{"30 1 * * *", "2024-11-02T12:00:00Z", "America/New_York",
	 "2024-11-03T01:30:00-04:00 2024-11-04T01:30:00-05:00 2024-11-05T01:30:00-05:00"},
	{"30 1 * * *", "2024-11-03T05:30:00Z", "America/New_York", "2024-11-04T01:30:00-05:00"},
	{"0 * * * *", "2024-11-03T03:30:00Z", "America/New_York",
	 "2024-11-03T00:00:00-04:00 2024-11-03T01:00:00-04:00 2024-11-03T01:00:00-05:00 "
	 "2024-11-03T02:00:00-05:00"},
	{"*/30 * * * *", "2024-11-03T04:50:00Z", "America/New_York",
	 "2024-11-03T01:00:00-04:00 2024-11-03T01:30:00-04:00 2024-11-03T01:00:00-05:00 "
	 "2024-11-03T01:30:00-05:00 2024-11-03T02:00:00-05:00"},
	/* years past the TZif table's explicit transitions come from the footer rule */
	{"0 12 * * *", "2035-03-10T00:00:00Z", "America/New_York",
	 "2035-03-10T12:00:00-05:00 2035-03-11T12:00:00-04:00"},
	/* Europe/Berlin, spring forward 2024-03-31 02:00 CET -> 03:00 CEST */
	{"30 2 * * *", "2024-03-30T00:00:00Z", "Europe/Berlin",
	 "2024-03-30T02:30:00+01:00 2024-03-31T03:30:00+02:00 2024-04-01T02:30:00+02:00"},
	{"0 * * * *", "2024-03-31T00:30:00Z", "Europe/Berlin",
	 "2024-03-31T03:00:00+02:00 2024-03-31T04:00:00+02:00"},
	{"15 2 * * SUN", "2030-03-25T00:00:00Z", "Europe/Berlin",
	 "2030-03-31T03:15:00+02:00 2030-04-07T02:15:00+02:00"},
	/* Europe/Berlin, fall back 2024-10-27 03:00 CEST -> 02:00 CET */
	{"30 2 * * *", "2024-10-26T00:00:00Z", "Europe/Berlin",
	 "2024-10-26T02:30:00+02:00 2024-10-27T02:30:00+02:00 2024-10-28T02:30:00+01:00"},
	{"0 * * * *", "2024-10-26T23:30:00Z", "Europe/Berlin",
	 "2024-10-27T02:00:00+02:00 2024-10-27T02:00:00+01:00 2024-10-27T03:00:00+01:00"},
	{"0 0 * * *", "2024-10-26T12:00:00Z", "Europe/Berlin",
	 "2024-10-27T00:00:00+02:00 2024-10-28T00:00:00+01:00"},
};

static void test_next_table(void **state)
{
	char err[512], got[4096], one[CRON_TIME_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const next_row *r = &rows[i];
		cron_expr *e = cron_expr_parse(r->expr, err, sizeof err);
		cron_zone *z = cron_zone_open(r->zone ? r->zone : "UTC", err, sizeof err);
		int64_t ms, t;
		size_t n = 1;

		if (!e || !z)
			fail_msg("row %zu '%s': %s", i, r->expr, err);
		assert_int_equal(brook_time_parse_iso8601(r->from, &ms), BROOK_OK);
		t = ms / 1000;
		for (const char *p = r->want; *p; p++)
			n += *p == ' ';
		got[0] = 0;
		for (size_t k = 0; k < n; k++) {
			if (cron_next(e, t, z, &t, err, sizeof err) != BROOK_OK)
				fail_msg("row %zu '%s': %s", i, r->expr, err);
			cron_format_time(t, r->zone ? z : NULL, one);
			if (k)
				strcat(got, " ");
			strcat(got, one);
		}
		if (strcmp(got, r->want) != 0)
			fail_msg("row %zu '%s' from %s in %s:\n got  %s\n want %s", i, r->expr,
				 r->from, r->zone ? r->zone : "UTC", got, r->want);
		cron_zone_free(z);
		cron_expr_free(e);
	}
}

static const struct {
	const char *expr, *want;
} bad[] = {
	{"61 * * * *", "cron: minute field: 61 is out of range 0-59 in '61 * * * *'"},
	{"* 24 * * *", "cron: hour field: 24 is out of range 0-23 in '* 24 * * *'"},
	{"* * 0 * *", "cron: day-of-month field: 0 is out of range 1-31 in '* * 0 * *'"},
	{"* * * 13 *", "cron: month field: 13 is out of range 1-12 in '* * * 13 *'"},
	{"* * * * 8", "cron: day-of-week field: 8 is out of range 0-7 in '* * * * 8'"},
	{"* * * * 1-9", "cron: day-of-week field: 9 is out of range 0-7 in '* * * * 1-9'"},
	{"* * * FOO *", "cron: month field: 'FOO' is not a number or a name in '* * * FOO *'"},
	{"* * * * MONDAY",
	 "cron: day-of-week field: 'MONDAY' is not a number or a name in '* * * * MONDAY'"},
	{"x * * * *", "cron: minute field: 'x' is not a number in 'x * * * *'"},
	{"JAN * * * *", "cron: minute field: 'JAN' is not a number in 'JAN * * * *'"},
	{"*/0 * * * *",
	 "cron: minute field: step '0' must be a number from 1 to 60 in '*/0 * * * *'"},
	{"* */x * * *",
	 "cron: hour field: step 'x' must be a number from 1 to 24 in '* */x * * *'"},
	{"5-2 * * * *", "cron: minute field: range '5-2' runs backwards in '5-2 * * * *'"},
	{"1,,2 * * * *", "cron: minute field: empty list item in '1,,2 * * * *'"},
	{"1, * * * *", "cron: minute field: empty list item in '1, * * * *'"},
	{"-5 * * * *", "cron: minute field: '' is not a number in '-5 * * * *'"},
	{"* * * *",
	 "cron: expected 5 fields (minute hour day-of-month month day-of-week) or a preset "
	 "(@hourly, @daily, ...), got 4 in '* * * *'"},
	{"* * * * * *",
	 "cron: expected 5 fields (minute hour day-of-month month day-of-week) or a preset "
	 "(@hourly, @daily, ...), got more than 5 in '* * * * * *'"},
	{"@fortnightly",
	 "cron: unknown preset '@fortnightly' (known: @once @hourly @daily @midnight @weekly "
	 "@monthly @yearly @annually none)"},
	{"", "cron: empty expression"},
	{"   ", "cron: empty expression"},
};

static void test_parse_errors(void **state)
{
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		cron_expr *e = cron_expr_parse(bad[i].expr, err, sizeof err);
		if (e)
			fail_msg("'%s' parsed", bad[i].expr);
		assert_string_equal(err, bad[i].want);
	}
}

static void test_never_and_once(void **state)
{
	char err[512];
	cron_zone *z = cron_zone_open("UTC", err, sizeof err);
	int64_t next = 42;
	cron_expr *e;

	(void)state;
	assert_non_null(z);
	/* impossible dates: searched for a bounded horizon, then an error */
	e = cron_expr_parse("0 0 30 2 *", err, sizeof err);
	assert_non_null(e);
	assert_int_equal(cron_next(e, 1700000000, z, &next, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "cron: '0 0 30 2 *' never fires within 8 years of the start time");
	assert_int_equal(next, 42);
	cron_expr_free(e);
	e = cron_expr_parse("0 0 31 4,6,9,11 *", err, sizeof err);
	assert_int_equal(cron_next(e, 1700000000, z, &next, err, sizeof err), BROOK_ERR);
	cron_expr_free(e);

	e = cron_expr_parse("@once", err, sizeof err);
	assert_non_null(e);
	assert_int_equal(cron_expr_kind(e), CRON_ONCE);
	assert_int_equal(cron_next(e, 0, z, &next, err, sizeof err), BROOK_AGAIN);
	cron_expr_free(e);
	e = cron_expr_parse("none", err, sizeof err);
	assert_non_null(e);
	assert_int_equal(cron_expr_kind(e), CRON_NEVER);
	assert_int_equal(cron_next(e, 0, z, &next, err, sizeof err), BROOK_AGAIN);
	cron_expr_free(e);
	e = cron_expr_parse("@daily", err, sizeof err);
	assert_int_equal(cron_expr_kind(e), CRON_RECURRING);
	cron_expr_free(e);
	cron_zone_free(z);
}

static void test_zones(void **state)
{
	char err[512];
	cron_zone *z;

	(void)state;
	assert_null(cron_zone_open("Mars/Olympus_Mons", err, sizeof err));
	assert_non_null(strstr(err, "unknown time zone 'Mars/Olympus_Mons'"));
	assert_null(cron_zone_open("../../etc/passwd", err, sizeof err));
	assert_string_equal(err, "cron: '../../etc/passwd' is not a time zone name (like Europe/Berlin)");
	assert_null(cron_zone_open("/etc/localtime", err, sizeof err));
	assert_null(cron_zone_open("", err, sizeof err));

	z = cron_zone_open("America/New_York", err, sizeof err);
	assert_non_null(z);
	assert_string_equal(cron_zone_name(z), "America/New_York");
	assert_int_equal(cron_zone_offset(z, 1704067200), -5 * 3600); /* 2024-01-01 */
	assert_int_equal(cron_zone_offset(z, 1719792000), -4 * 3600); /* 2024-07-01 */
	assert_int_equal(cron_zone_offset(z, 1710052200), -5 * 3600); /* 06:59:59Z-ish, 2024-03-10 */
	assert_int_equal(cron_zone_offset(z, 1710054000), -4 * 3600); /* 07:00Z, 2024-03-10 */
	assert_int_equal(cron_zone_offset(z, 4102444800), -5 * 3600); /* 2100-01-01 */
	assert_int_equal(cron_zone_offset(z, 4118083200), -4 * 3600); /* 2100-07-01 */
	cron_zone_free(z);

	/* Southern hemisphere: daylight time across the new year. */
	z = cron_zone_open("Australia/Sydney", err, sizeof err);
	assert_non_null(z);
	assert_int_equal(cron_zone_offset(z, 4102444800), 11 * 3600); /* 2100-01-01 */
	assert_int_equal(cron_zone_offset(z, 4118083200), 10 * 3600); /* 2100-07-01 */
	cron_zone_free(z);
}

static void test_format(void **state)
{
	char out[CRON_TIME_LEN], err[256];
	cron_zone *z = cron_zone_open("Asia/Kathmandu", err, sizeof err);

	(void)state;
	cron_format_time(0, NULL, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	cron_format_time(-1, NULL, out);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	assert_non_null(z);
	cron_format_time(1704067200, z, out);
	assert_string_equal(out, "2024-01-01T05:45:00+05:45");
	cron_zone_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_table),    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_never_and_once), cmocka_unit_test(test_zones),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
