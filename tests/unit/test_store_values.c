/*
 * test_store_values.c — CQL terms to typed values: every literal kind to the types that
 * take it, Cassandra's Invalid messages for the ones that don't, ranges, timestamps,
 * dates and times, collections (sorting, de-duplication), bind markers, functions.
 *
 * Terms come from the real parser: each case parses "INSERT INTO t (x) VALUES (<term>)".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "core/uuid.h"
#include "cql/types.h"
#include "store/cql_parse.h"
#include "store/values.h"

#define NOW_MS 1700000000123LL

static brook_arena arena = BROOK_ARENA_INIT;
static char err[512];
static char hex[4096];
static store_value val;

/* Converts `term` for a column x of type `type`; on success hex holds the value's bytes
 * (or "null" / "unset"). */
static int conv_b(const char *type, const char *term, const cql_bytes *binds, size_t nb)
{
	char q[2048], terr[256];
	cql_stmt *st = NULL;
	brook_arena_reset(&arena);
	err[0] = hex[0] = '\0';
	const cql_type *t = cql_type_parse(type, strlen(type), &arena, terr, sizeof terr);
	assert_non_null(t);
	snprintf(q, sizeof q, "INSERT INTO t (x) VALUES (%s)", term);
	if (cql_parse(&arena, q, strlen(q), &st, terr, sizeof terr) != BROOK_OK)
		fail_msg("parse %s: %s", q, terr);
	int rc = store_value_from_term(t, "x", st->u.insert.values[0], binds, nb, NOW_MS, &arena,
				       &val, err, sizeof err);
	if (rc == BROOK_OK) {
		if (val.kind == STORE_VALUE_NULL) {
			strcpy(hex, "null");
		} else if (val.kind == STORE_VALUE_UNSET) {
			strcpy(hex, "unset");
		} else {
			assert_non_null(val.ptr);
			for (size_t i = 0; i < val.len && i * 2 + 2 < sizeof hex; i++)
				sprintf(hex + i * 2, "%02x", val.ptr[i]);
			/* whatever we produce must be a valid value of the type */
			char verr[256];
			assert_int_equal(cql_value_validate(t, val.ptr, val.len, verr, sizeof verr),
					 BROOK_OK);
		}
	}
	return rc;
}

static int conv(const char *type, const char *term)
{
	return conv_b(type, term, NULL, 0);
}

#define OK(type, term, want)                                                                \
	do {                                                                                \
		if (conv(type, term) != BROOK_OK)                                           \
			fail_msg("%s as %s: %s", term, type, err);                          \
		assert_string_equal(hex, want);                                             \
	} while (0)

#define BAD(type, term, msg)                                                                \
	do {                                                                                \
		if (conv(type, term) == BROOK_OK)                                           \
			fail_msg("%s as %s accepted: %s", term, type, hex);                 \
		assert_string_equal(err, msg);                                              \
	} while (0)

/* The reference pipeline's INSERT, as the Python driver interpolates it. */
static void test_created_users_row(void **state)
{
	(void)state;
	OK("uuid", "5b6962dd-3f90-4c93-8f61-eabfa4a803e2", "5b6962dd3f904c938f61eabfa4a803e2");
	OK("text", "'Jean'", "4a65616e");
	OK("text", "'O''Brien'", "4f27427269656e");
	OK("text", "''", "");
	OK("text", "'Zoë'", "5a6fc3ab");
	OK("text", "NULL", "null");
	OK("uuid", "null", "null");
	OK("text", "'1993-07-20T03:44:31.474Z'",
	   "313939332d30372d32305430333a34343a33312e3437345a");
	BAD("uuid", "'5b6962dd-3f90-4c93-8f61-eabfa4a803e2'",
	    "Invalid STRING constant (5b6962dd-3f90-4c93-8f61-eabfa4a803e2) for \"x\" of type "
	    "uuid");
}

static void test_integers(void **state)
{
	(void)state;
	OK("int", "42", "0000002a");
	OK("int", "-1", "ffffffff");
	OK("int", "2147483647", "7fffffff");
	OK("int", "-2147483648", "80000000");
	OK("bigint", "-2", "fffffffffffffffe");
	OK("counter", "7", "0000000000000007");
	OK("smallint", "-32768", "8000");
	OK("tinyint", "127", "7f");
	OK("varint", "128", "0080");
	OK("varint", "-129", "ff7f");
	OK("double", "1", "3ff0000000000000");
	OK("float", "-2", "c0000000");
	OK("decimal", "15", "000000000f");
	OK("timestamp", "1700000000123", "0000018bcfe5687b");
	OK("date", "2147483648", "80000000");
	OK("time", "1000000000", "000000003b9aca00");
	BAD("int", "3000000000", "Unable to make int from '3000000000'");
	BAD("smallint", "40000", "Unable to make short from '40000'");
	BAD("tinyint", "-129", "Unable to make byte from '-129'");
	BAD("bigint", "9223372036854775808", "Unable to make long from '9223372036854775808'");
	BAD("time", "86400000000000",
	    "Unable to coerce '86400000000000' to a formatted time (long)");
	BAD("text", "42", "Invalid INTEGER constant (42) for \"x\" of type text");
	BAD("boolean", "1", "Invalid INTEGER constant (1) for \"x\" of type boolean");
	BAD("uuid", "1", "Invalid INTEGER constant (1) for \"x\" of type uuid");
	BAD("blob", "1", "Invalid INTEGER constant (1) for \"x\" of type blob");
}

static void test_floats(void **state)
{
	(void)state;
	OK("double", "1.5", "3ff8000000000000");
	OK("double", "-0.5", "bfe0000000000000");
	OK("float", "1.5", "3fc00000");
	OK("double", "NaN", "7ff8000000000000");
	OK("double", "Infinity", "7ff0000000000000");
	OK("double", "-Infinity", "fff0000000000000");
	OK("float", "Infinity", "7f800000");
	OK("decimal", "1.25", "000000027d");
	OK("double", "1e3", "408f400000000000");
	BAD("int", "1.5", "Invalid FLOAT constant (1.5) for \"x\" of type int");
	BAD("bigint", "NaN", "Invalid FLOAT constant (NaN) for \"x\" of type bigint");
	BAD("decimal", "NaN", "Unable to make BigDecimal from 'NaN'");
	BAD("text", "1.5", "Invalid FLOAT constant (1.5) for \"x\" of type text");
}

static void test_strings_bools_uuids_blobs(void **state)
{
	(void)state;
	OK("ascii", "'abc'", "616263");
	OK("varchar", "'abc'", "616263");
	OK("inet", "'127.0.0.1'", "7f000001");
	OK("inet", "'::1'", "00000000000000000000000000000001");
	OK("boolean", "true", "01");
	OK("boolean", "False", "00");
	OK("blob", "0xCAFE", "cafe");
	OK("blob", "0x", "");
	OK("timeuuid", "a4a70900-24e1-11df-8924-001ff3591711", "a4a7090024e111df8924001ff3591711");
	OK("uuid", "A4A70900-24E1-11DF-8924-001FF3591711", "a4a7090024e111df8924001ff3591711");
	BAD("ascii", "'é'", "Invalid ASCII string for \"x\": "
	    "Invalid byte for ascii: 195");
	BAD("int", "'42'", "Invalid STRING constant (42) for \"x\" of type int");
	BAD("blob", "'cafe'", "Invalid STRING constant (cafe) for \"x\" of type blob");
	BAD("boolean", "'true'", "Invalid STRING constant (true) for \"x\" of type boolean");
	BAD("text", "true", "Invalid BOOLEAN constant (true) for \"x\" of type text");
	BAD("int", "false", "Invalid BOOLEAN constant (false) for \"x\" of type int");
	BAD("text", "0xab", "Invalid HEX constant (0xab) for \"x\" of type text");
	BAD("blob", "0xabc", "Invalid hex string: 0xabc (an odd number of digits)");
	BAD("text", "5b6962dd-3f90-4c93-8f61-eabfa4a803e2",
	    "Invalid UUID constant (5b6962dd-3f90-4c93-8f61-eabfa4a803e2) for \"x\" of type text");
	BAD("timeuuid", "5b6962dd-3f90-4c93-8f61-eabfa4a803e2",
	    "Invalid UUID constant (5b6962dd-3f90-4c93-8f61-eabfa4a803e2) for \"x\" of type "
	    "timeuuid: TimeUUID supports only version 1 UUIDs");
	BAD("inet", "'not.an.address'", "Unable to coerce 'not.an.address' to an inet address");
	BAD("list<int>", "1", "Invalid INTEGER constant (1) for \"x\" of type list<int>");
}

static int64_t ts_of(const char *lit)
{
	if (conv("timestamp", lit) != BROOK_OK)
		fail_msg("%s: %s", lit, err);
	assert_int_equal(val.len, 8);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | val.ptr[i];
	return (int64_t)v;
}

static void test_timestamps(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(brook_time_parse_iso8601("2024-03-05T10:00:00.000Z", &ms), BROOK_OK);
	assert_int_equal(ts_of("'2024-03-05'"), 1709596800000LL);
	assert_int_equal(ts_of("'2024-03-05 10:00'"), ms);
	assert_int_equal(ts_of("'2024-03-05 10:00:00'"), ms);
	assert_int_equal(ts_of("'2024-03-05T10:00:00'"), ms);
	assert_int_equal(ts_of("'2024-03-05 10:00:00.250'"), ms + 250);
	assert_int_equal(ts_of("'2024-03-05 10:00:00Z'"), ms);
	assert_int_equal(ts_of("'2024-03-05 12:00:00+0200'"), ms);
	assert_int_equal(ts_of("'2024-03-05 05:30:00.5-0430'"), ms + 500);
	assert_int_equal(ts_of("'1970-01-01 00:00:00+0000'"), 0);
	assert_int_equal(ts_of("'1969-12-31 23:59:59.999Z'"), -1);
	assert_int_equal(ts_of("1709632800000"), ms);
	assert_int_equal(ts_of("'1709632800000'"), ms);
	assert_int_equal(ts_of("-5"), -5);
	BAD("timestamp", "'yesterday'", "Unable to coerce 'yesterday' to a formatted date (long)");
	BAD("timestamp", "'2024-13-01'",
	    "Unable to coerce '2024-13-01' to a formatted date (long)");
	BAD("timestamp", "1.5", "Invalid FLOAT constant (1.5) for \"x\" of type timestamp");
}

static void test_dates_and_times(void **state)
{
	(void)state;
	OK("date", "'1970-01-01'", "80000000");
	OK("date", "'1970-01-02'", "80000001");
	OK("date", "'1969-12-31'", "7fffffff");
	OK("date", "'2024-03-05'", "80004d4b"); /* 19788 days */
	OK("time", "'00:00:01'", "000000003b9aca00");
	OK("time", "'10:00:00.5'", "000020be0503a500");
	OK("time", "'23:59:59.999999999'", "00004e94914effff");
	BAD("date", "'2024-02-30x'", "Unable to coerce '2024-02-30x' to a formatted date (long)");
	BAD("time", "'24:00:00'", "Unable to coerce '24:00:00' to a formatted time (long)");
	BAD("date", "1.0", "Invalid FLOAT constant (1.0) for \"x\" of type date");
}

static void test_collections(void **state)
{
	(void)state;
	OK("list<int>", "[3, 1, 3]", "00000003" "0000000400000003" "0000000400000001"
	   "0000000400000003");
	OK("list<int>", "[]", "00000000");
	/* sets: Cassandra's order (signed ints: -1 before 1), duplicates dropped */
	OK("set<int>", "{1, -1, 1, 0}", "00000003" "00000004ffffffff" "0000000400000000"
	   "0000000400000001");
	OK("set<text>", "{'b', 'a', 'b'}", "00000002" "0000000161" "0000000162");
	OK("set<int>", "{}", "00000000");
	OK("set<text>", "{'', ''}", "00000001" "00000000");
	OK("map<text, text>", "{'': ''}", "00000001" "00000000" "00000000");
	OK("set<text>", "{'a', ''}", "00000002" "00000000" "0000000161");
	OK("map<text, int>", "{}", "00000000");
	/* maps: sorted by key, a repeated key keeps its last value */
	OK("map<text, int>", "{'b': 1, 'a': 2, 'b': 3}",
	   "00000002" "0000000161" "0000000400000002" "0000000162" "0000000400000003");
	OK("map<int, list<text>>", "{2: ['x'], 1: []}",
	   "00000002" "0000000400000001" "0000000400000000" "0000000400000002"
	   "000000090000000100000001" "78");
	OK("frozen<set<double>>", "{2.0, -1.0}",
	   "00000002" "00000008bff0000000000000" "000000084000000000000000");
	OK("tuple<int, text>", "(1, null)", "0000000400000001" "ffffffff");
	OK("tuple<int, text>", "(1, 'a')", "0000000400000001" "0000000161");
	BAD("list<int>", "[1, null]", "null is not supported inside collections");
	BAD("list<int>", "['a']",
	    "Invalid STRING constant (a) for \"value(x)\" of type int");
	BAD("map<text, int>", "{'a': 'b'}",
	    "Invalid STRING constant (b) for \"value(x)\" of type int");
	BAD("map<text, int>", "{1: 1}", "Invalid INTEGER constant (1) for \"key(x)\" of type text");
	BAD("set<int>", "[1]", "Invalid list literal for x of type set<int>");
	BAD("list<int>", "{1}", "Invalid set literal for x of type list<int>");
	BAD("int", "{1: 2}", "Invalid map literal for x of type int");
	BAD("map<int, int>", "{1, 2}", "Invalid set literal for x of type map<int, int>");
	BAD("tuple<int>", "(1, 2)",
	    "Invalid tuple literal for x: too many elements. Type tuple<int> expects 1 but got 2");
	BAD("text", "[1]", "Invalid list literal for x of type text");
}

static void test_bind_markers(void **state)
{
	(void)state;
	static const uint8_t i4[] = {0, 0, 0, 7};
	static const uint8_t d8[] = {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18};
	/* a set sent unsorted, with a duplicate, as the Python driver may */
	static const uint8_t set3[] = {0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 4,
				       0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2};
	cql_bytes b[4] = {{i4, 4}, {d8, 8}, {NULL, CQL_NULL}, {NULL, CQL_UNSET}};
	assert_int_equal(conv_b("int", "?", b, 4), BROOK_OK);
	assert_string_equal(hex, "00000007");
	assert_ptr_equal(val.ptr, i4); /* zero-copy */
	/* a double bound to an int column */
	cql_bytes bd[1] = {{d8, 8}};
	assert_int_equal(conv_b("int", "?", bd, 1), BROOK_ERR);
	assert_string_equal(err, "Expected 4 or 0 byte int (8)");
	cql_bytes bn[1] = {{NULL, CQL_NULL}};
	assert_int_equal(conv_b("text", "?", bn, 1), BROOK_OK);
	assert_string_equal(hex, "null");
	cql_bytes bu[1] = {{NULL, CQL_UNSET}};
	assert_int_equal(conv_b("text", ":name", bu, 1), BROOK_OK);
	assert_string_equal(hex, "unset");
	assert_int_equal(conv_b("text", "?", NULL, 0), BROOK_ERR);
	cql_bytes bs[1] = {{set3, sizeof set3}};
	assert_int_equal(conv_b("set<int>", "?", bs, 1), BROOK_OK);
	assert_string_equal(hex, "00000002" "0000000400000001" "0000000400000002");
	assert_int_equal(conv_b("list<int>", "?", bs, 1), BROOK_OK);
	assert_int_equal(val.len, sizeof set3);
	/* markers inside collection literals */
	cql_bytes bl[2] = {{i4, 4}, {NULL, CQL_NULL}};
	assert_int_equal(conv_b("list<int>", "[?, 1]", bl, 2), BROOK_OK);
	assert_string_equal(hex, "00000002" "0000000400000007" "0000000400000001");
	assert_int_equal(conv_b("list<int>", "[?, ?]", bl, 2), BROOK_ERR);
	assert_string_equal(err, "null is not supported inside collections");
	/* an empty bound value is the "empty value" for non-string natives */
	cql_bytes be[1] = {{NULL, 0}};
	assert_int_equal(conv_b("int", "?", be, 1), BROOK_OK);
	assert_int_equal(val.kind, STORE_VALUE_SET);
	assert_int_equal(val.len, 0);
	assert_non_null(val.ptr);
}

static void test_functions(void **state)
{
	(void)state;
	brook_uuid u;
	OK("timestamp", "toTimestamp(now())", "0000018bcfe5687b");
	OK("timestamp", "currentTimestamp()", "0000018bcfe5687b");
	OK("bigint", "toUnixTimestamp(now())", "0000018bcfe5687b");
	OK("date", "currentDate()", "80004cdb"); /* 2023-11-14: 19675 days */
	OK("date", "toDate(now())", "80004cdb");
	assert_int_equal(conv("timeuuid", "now()"), BROOK_OK);
	assert_int_equal(val.len, 16);
	memcpy(u.b, val.ptr, 16);
	assert_int_equal(brook_uuid_version(&u), 1);
	assert_int_equal(u.b[8] & 0xC0, 0x80); /* RFC 4122 variant */
	assert_int_equal(store_uuid_v1_ms(u.b), NOW_MS);
	assert_int_equal(conv("uuid", "now()"), BROOK_OK);
	assert_int_equal(conv("uuid", "uuid()"), BROOK_OK);
	memcpy(u.b, val.ptr, 16);
	assert_int_equal(brook_uuid_version(&u), 4);
	BAD("timeuuid", "uuid()", "Type error: cannot assign result of function system.uuid "
	    "(type uuid) to x (type timeuuid)");
	BAD("int", "now()", "Type error: cannot assign result of function system.now "
	    "(type timeuuid) to x (type int)");
	BAD("int", "nosuch()", "Unknown function nosuch called with 0 arguments");
	OK("timestamp", "totimestamp(a4a70900-24e1-11df-8924-001ff3591711)", "0000012717bee729");
	/* time of day */
	OK("time", "currentTime()", "000048c27ae9d4c0");
}

static void test_v1_unique_and_ordered(void **state)
{
	(void)state;
	uint8_t prev[16], cur[16];
	store_uuid_v1(NOW_MS, prev);
	for (int i = 0; i < 1000; i++) {
		store_uuid_v1(NOW_MS, cur);
		assert_memory_not_equal(prev, cur, 16);
		assert_int_equal(store_uuid_v1_ms(cur), NOW_MS);
		assert_true(store_value_cmp(cql_type_native(CQL_TYPE_TIMEUUID), prev, 16, cur,
					    16) < 0);
		memcpy(prev, cur, 16);
	}
	store_uuid_v1(NOW_MS + 1, cur);
	assert_int_equal(store_uuid_v1_ms(cur), NOW_MS + 1);
	store_uuid_v1(0, cur);
	assert_int_equal(store_uuid_v1_ms(cur), 0);
}

static void test_casts(void **state)
{
	(void)state;
	OK("int", "(int) 5", "00000005");
	static const uint8_t i4[] = {0, 0, 0, 9};
	cql_bytes b[1] = {{i4, 4}};
	assert_int_equal(conv_b("int", "(int) ?", b, 1), BROOK_OK);
	assert_string_equal(hex, "00000009");
	BAD("int", "(bigint) 5", "Cannot assign value of type bigint to x of type int");
}

static void test_ordering(void **state)
{
	(void)state;
	const cql_type *d = cql_type_native(CQL_TYPE_DOUBLE);
	const cql_type *v = cql_type_native(CQL_TYPE_VARINT);
	static const uint8_t neg[] = {0xbf, 0xf0, 0, 0, 0, 0, 0, 0}, pos[] = {0x3f, 0xf0, 0, 0,
									0, 0, 0, 0};
	assert_true(store_value_cmp(d, neg, 8, pos, 8) < 0);
	assert_true(store_value_cmp(d, pos, 8, neg, 8) > 0);
	static const uint8_t m129[] = {0xff, 0x7f}, m1[] = {0xff}, p1[] = {0x01},
			     p128[] = {0x00, 0x80};
	assert_true(store_value_cmp(v, m129, 2, m1, 1) < 0);
	assert_true(store_value_cmp(v, m1, 1, p1, 1) < 0);
	assert_true(store_value_cmp(v, p1, 1, p128, 2) < 0);
	assert_int_equal(store_value_cmp(v, p128, 2, p128, 2), 0);
}

static int teardown(void **state)
{
	(void)state;
	brook_arena_release(&arena);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_created_users_row),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_strings_bools_uuids_blobs),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_dates_and_times),
		cmocka_unit_test(test_collections),
		cmocka_unit_test(test_bind_markers),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_v1_unique_and_ordered),
		cmocka_unit_test(test_casts),
		cmocka_unit_test(test_ordering),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
