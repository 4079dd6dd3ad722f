/*
 * test_validate.c — source_validate_user() and source_parse_response().
 *
 * Starts from one valid randomuser.me 1.4 user (hashes computed for password
 * "hunter2" + salt "Xy7sQ1ab") and breaks one field at a time, checking the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "source/validate.h"

#define VALID_USER                                                                        \
	"{\"gender\":\"female\",\"name\":{\"title\":\"Ms\",\"first\":\"Ada\","            \
	"\"last\":\"Lovelace\"},\"location\":{\"street\":{\"number\":12,\"name\":"        \
	"\"Main St\"},\"city\":\"London\",\"state\":\"Greater London\",\"country\":"      \
	"\"United Kingdom\",\"postcode\":\"N1 9GU\",\"coordinates\":{\"latitude\":"       \
	"\"-51.5072\",\"longitude\":\"-0.1276\"},\"timezone\":{\"offset\":\"+5:30\","     \
	"\"description\":\"Bombay, Calcutta\"}},\"email\":\"ada@example.com\","           \
	"\"login\":{\"uuid\":\"3f1c2b8e-6d0a-4c1e-9b7a-2f4d5e6a7b8c\",\"username\":"      \
	"\"bluecat42\",\"password\":\"hunter2\",\"salt\":\"Xy7sQ1ab\",\"md5\":"           \
	"\"c2eab54933d7bedfea15ca363a4d617f\",\"sha1\":"                                 \
	"\"3c1a198e3d6f176db198dca00521f3775c86cf03\",\"sha256\":"                       \
	"\"83cf558275a63e7a1c7c92930d6666291cd200ee67e05e232e763cd7df0946c4\"},"          \
	"\"dob\":{\"date\":\"1985-12-10T04:20:35.123Z\",\"age\":40},\"registered\":"      \
	"{\"date\":\"2010-03-01T10:00:00.000Z\",\"age\":16},\"phone\":\"020 7946 0000\"," \
	"\"cell\":\"07700 900000\",\"id\":{\"name\":\"NINO\",\"value\":\"QQ 12 34 56 C\"}," \
	"\"picture\":{\"large\":\"https://randomuser.me/api/portraits/women/1.jpg\","     \
	"\"medium\":\"https://randomuser.me/api/portraits/med/women/1.jpg\","             \
	"\"thumbnail\":\"https://randomuser.me/api/portraits/thumb/women/1.jpg\"},"       \
	"\"nat\":\"GB\"}"

static json_t *valid_user(void)
{
	json_error_t e;
	json_t *u = json_loads(VALID_USER, 0, &e);
	if (!u)
		fail_msg("test user does not parse: %s", e.text);
	return u;
}

/* Parent object of a dotted path and the last key. */
static json_t *parent_of(json_t *root, const char *path, char *last, size_t lastlen)
{
	char buf[128];
	char *save = NULL, *tok, *next;

	snprintf(buf, sizeof buf, "%s", path);
	tok = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save)) != NULL) {
		root = json_object_get(root, tok);
		assert_non_null(root);
		tok = next;
	}
	snprintf(last, lastlen, "%s", tok);
	return root;
}

/* Set path to value (stolen; NULL deletes) and expect rejection with reason. */
static void expect_reject(const char *path, json_t *value, const char *reason)
{
	json_t *u = valid_user();
	char last[64], got[256] = "";
	json_t *parent = parent_of(u, path, last, sizeof last);

	if (value)
		json_object_set_new(parent, last, value);
	else
		json_object_del(parent, last);
	if (source_validate_user(u, got, sizeof got) != BROOK_ERR)
		fail_msg("defect at %s was accepted", path);
	if (strcmp(got, reason) != 0)
		fail_msg("defect at %s: reason '%s', expected '%s'", path, got, reason);
	json_decref(u);
}

static void expect_accept(const char *path, json_t *value)
{
	json_t *u = valid_user();
	char last[64], got[256] = "";
	json_t *parent = parent_of(u, path, last, sizeof last);

	json_object_set_new(parent, last, value);
	if (source_validate_user(u, got, sizeof got) != BROOK_OK)
		fail_msg("variant at %s rejected: %s", path, got);
	json_decref(u);
}

static void test_valid_user_passes(void **state)
{
	json_t *u = valid_user();
	char reason[256] = "";

	(void)state;
	assert_int_equal(source_validate_user(u, reason, sizeof reason), BROOK_OK);
	json_decref(u);
}

static void test_missing_fields(void **state)
{
	(void)state;
	expect_reject("login.uuid", NULL, "login.uuid: missing");
	expect_reject("gender", NULL, "gender: missing");
	expect_reject("name.first", NULL, "name.first: missing");
	expect_reject("location.street.number", NULL, "location.street.number: missing");
	expect_reject("location.postcode", NULL, "location.postcode: missing");
	expect_reject("location.timezone", NULL, "location.timezone.offset: missing");
	expect_reject("dob", NULL, "dob.date: missing");
	expect_reject("registered.age", NULL, "registered.age: missing");
	expect_reject("id.value", NULL, "id.value: missing");
	expect_reject("picture.thumbnail", NULL, "picture.thumbnail: missing");
	expect_reject("nat", NULL, "nat: missing");
	expect_reject("cell", NULL, "cell: missing");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_reject("location.coordinates.latitude", json_real(51.5),
		      "location.coordinates.latitude: expected string");
	expect_reject("location.street.number", json_string("12"),
		      "location.street.number: expected integer");
	expect_reject("dob.age", json_real(40.5), "dob.age: expected integer");
	expect_reject("name", json_string("Ada"), "name.title: missing");
	expect_reject("location.postcode", json_true(),
		      "location.postcode: expected string or integer");
	expect_reject("id.value", json_integer(5), "id.value: expected string or null");
	expect_reject("phone", json_null(), "phone: expected string");
}

static void test_bad_formats(void **state)
{
	(void)state;
	expect_reject("gender", json_string("other"),
		      "gender: expected \"male\" or \"female\"");
	expect_reject("dob.date", json_string("10/12/1985"),
		      "dob.date: not an ISO-8601 timestamp");
	expect_reject("dob.age", json_integer(-1), "dob.age: negative");
	expect_reject("login.uuid", json_string("3f1c2b8e-6d0a-4c1e-9b7a-2f4d5e6a7b8"),
		      "login.uuid: not a UUID");
	expect_reject("login.md5", json_string("C2EAB54933D7BEDFEA15CA363A4D617F"),
		      "login.md5: expected 32 lower-case hex digits");
	expect_reject("login.sha1", json_string("abc"),
		      "login.sha1: expected 40 lower-case hex digits");
	expect_reject("email", json_string("ada.example.com"), "email: not an e-mail address");
	expect_reject("email", json_string("@example.com"), "email: not an e-mail address");
	expect_reject("nat", json_string("gb"), "nat: expected two upper-case letters");
	expect_reject("nat", json_string("GBR"), "nat: expected two upper-case letters");
	expect_reject("location.coordinates.latitude", json_string("91.0"),
		      "location.coordinates.latitude: 91.0 is out of range [-90, 90]");
	expect_reject("location.coordinates.longitude", json_string("12abc"),
		      "location.coordinates.longitude: not a number");
	expect_reject("location.timezone.offset", json_string("+5:3"),
		      "location.timezone.offset: not an offset like +5:30");
	expect_reject("location.timezone.offset", json_string("5.30"),
		      "location.timezone.offset: not an offset like +5:30");
	expect_reject("picture.large", json_string("ftp://x/y.jpg"),
		      "picture.large: not an http(s) URL");
}

static void test_hash_mismatch(void **state)
{
	(void)state;
	/* A different password: every digest is now wrong; md5 is checked first. */
	expect_reject("login.password", json_string("hunter3"),
		      "login.md5: does not match md5(password + salt)");
	expect_reject("login.sha256",
		      json_string("83cf558275a63e7a1c7c92930d6666291"
				  "cd200ee67e05e232e763cd7df0946c5"),
		      "login.sha256: does not match sha256(password + salt)");
	expect_reject("login.sha1", json_string("3c1a198e3d6f176db198dca00521f3775c86cf04"),
		      "login.sha1: does not match sha1(password + salt)");
}

static void test_accepted_variants(void **state)
{
	(void)state;
	expect_accept("location.postcode", json_integer(94107));
	expect_accept("location.postcode", json_string("N1 9GU"));
	expect_accept("id.value", json_null());
	expect_accept("id.name", json_string(""));
	expect_accept("location.timezone.offset", json_string("0:00"));
	expect_accept("location.timezone.offset", json_string("-10:00"));
	expect_accept("gender", json_string("male"));
	expect_accept("dob.date", json_string("1985-12-10T04:20:35Z"));
}

static void test_not_an_object(void **state)
{
	char reason[128];
	json_t *a = json_array();

	(void)state;
	assert_int_equal(source_validate_user(a, reason, sizeof reason), BROOK_ERR);
	assert_string_equal(reason, "user: expected object");
	json_decref(a);
}

#define INFO ",\"info\":{\"seed\":\"abc\",\"results\":3,\"page\":2,\"version\":\"1.4\"}}"

static void test_parse_response(void **state)
{
	const char *body = "{\"results\":[" VALID_USER ",{\"gender\":\"x\"}," VALID_USER "]" INFO;
	source_response r;
	char err[256] = "";

	(void)state;
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err), BROOK_OK);
	assert_int_equal(r.nrecords, 2);
	assert_int_equal(r.nrejected, 1);
	assert_int_equal(r.nreasons, 1);
	assert_string_equal(r.reasons[0], "results[1]: gender: expected \"male\" or \"female\"");
	assert_string_equal(r.seed, "abc");
	assert_int_equal(r.page, 2);
	assert_int_equal(r.results, 3);
	assert_string_equal(r.version, "1.4");
	/* Compact and in the original key order: identical to the compact input. */
	assert_string_equal(r.records[0], VALID_USER);
	assert_null(strchr(r.records[1], '\n'));
	source_response_release(&r);
}

static void expect_bad_response(const char *body, size_t len, const char *err_part, int api)
{
	source_response r;
	char err[256] = "";

	assert_int_equal(source_parse_response(body, len, &r, err, sizeof err), BROOK_ERR);
	if (!strstr(err, err_part))
		fail_msg("error '%s' does not mention '%s'", err, err_part);
	assert_int_equal(r.api_error, api);
	source_response_release(&r);
}

static void test_bad_responses(void **state)
{
	char deep[200];

	(void)state;
	expect_bad_response("", 0, "empty", 0);
	expect_bad_response("<html>oops</html>", 17, "not JSON", 0);
	expect_bad_response("{\"results\":[", 12, "not JSON", 0);
	expect_bad_response("[1,2]", 5, "not a JSON object", 0);
	expect_bad_response("{\"error\":\"Uh oh, something has gone wrong\"}", 43,
			    "Uh oh, something has gone wrong", 1);
	expect_bad_response("{\"results\":{}" INFO, strlen("{\"results\":{}" INFO), "results", 0);
	expect_bad_response("{\"results\":[]}", 14, "info", 0);
	expect_bad_response("{\"results\":[],\"info\":{\"seed\":1}}", 32, "info.seed", 0);
	memset(deep, '[', sizeof deep);
	expect_bad_response(deep, sizeof deep, "deeper", 0);
	/* Brackets inside strings do not count as nesting. */
	const char *strs = "{\"results\":[],\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"" INFO;
	source_response r;
	char err[256];
	assert_int_equal(source_parse_response(strs, strlen(strs), &r, err, sizeof err), BROOK_OK);
	assert_int_equal(r.nrecords, 0);
	source_response_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_user_passes),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_formats),
		cmocka_unit_test(test_hash_mismatch),
		cmocka_unit_test(test_accepted_variants),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_parse_response),
		cmocka_unit_test(test_bad_responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
