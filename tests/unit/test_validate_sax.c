/*
 * test_validate_sax.c — the streaming (yajl) extractor of source_parse_response()
 * against the tree path (jansson + source_validate_user), on the edge cases a
 * streaming parse can get wrong: paths deep inside unknown keys, escaped keys,
 * duplicate keys in nested and big objects, numbers as strings and strings as
 * numbers, integers past 64 bits, surrogate pairs and UTF-8 jansson refuses.
 *
 * Every body goes through verdict(): the streaming parse must agree with jansson on
 * "is this JSON", and on each element the two paths must give the same verdict and
 * the same reason; it returns the single user's reason ("" when valid, "not JSON"
 * when the body is not JSON) for the test to check.
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

#define INFO "\"info\":{\"seed\":\"abc\",\"results\":1,\"page\":1,\"version\":\"1.4\"}"

/* VALID_USER with the first occurrence of from replaced by to. */
static char *user_edit(const char *from, const char *to)
{
	const char *u = VALID_USER, *at = strstr(u, from);
	size_t n = strlen(u) + strlen(to) + 1;
	char *s = malloc(n);

	assert_non_null(at);
	assert_non_null(s);
	snprintf(s, n, "%.*s%s%s", (int)(at - u), u, to, at + strlen(from));
	return s;
}

static char *body_of(const char *user)
{
	size_t n = strlen(user) + 200;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, "{\"results\":[%s]," INFO "}", user);
	return s;
}

/* The streaming verdict, checked against the tree; see the top of the file. */
static const char *verdict(const char *body, char *out, size_t outlen)
{
	json_t *whole = json_loadb(body, strlen(body), JSON_REJECT_DUPLICATES, NULL);
	source_response r;
	char err[256] = "", reason[256];
	int rc = source_parse_response(body, strlen(body), &r, err, sizeof err);

	if (!whole) {
		if (rc == BROOK_OK || !strstr(err, "not JSON"))
			fail_msg("jansson rejects [%s] but the stream says: %s", body,
				 rc == BROOK_OK ? "ok" : err);
		snprintf(out, outlen, "not JSON");
		return out;
	}
	if (rc != BROOK_OK)
		fail_msg("jansson accepts [%s] but the stream says: %s", body, err);
	json_t *results = json_object_get(whole, "results");
	assert_int_equal(json_array_size(results), 1);
	assert_int_equal(r.nrecords + r.nrejected, 1);
	if (source_validate_user(json_array_get(results, 0), reason, sizeof reason) == BROOK_OK) {
		assert_int_equal(r.nrecords, 1);
		json_t *rec = json_loads(r.records[0], 0, NULL);
		assert_true(json_equal(rec, json_array_get(results, 0)));
		json_decref(rec);
		snprintf(out, outlen, "%s", "");
	} else {
		char want[320];
		snprintf(want, sizeof want, "results[0]: %s", reason);
		assert_int_equal(r.nreasons, 1);
		assert_string_equal(r.reasons[0], want);
		snprintf(out, outlen, "%s", reason);
	}
	source_response_release(&r);
	json_decref(whole);
	return out;
}

/* verdict() of VALID_USER with one edit. */
static const char *edited(const char *from, const char *to, char *out, size_t outlen)
{
	char *u = user_edit(from, to), *b = body_of(u);

	verdict(b, out, outlen);
	free(b);
	free(u);
	return out;
}

static void test_paths_inside_unknown_keys_are_ignored(void **state)
{
	char out[256];
	char deep[1024] = "\"x\":";

	(void)state;
	/* the validator's names below other keys or inside arrays do not count */
	assert_string_equal(edited("\"nat\"", "\"x\":{\"gender\":\"bad\",\"name\":{\"title\":1},"
				   "\"login\":{\"md5\":\"00\"}},\"nat\"", out, sizeof out), "");
	assert_string_equal(edited("\"nat\"", "\"arr\":[{\"email\":\"bad\"},[{\"nat\":7}]],"
					  "\"nat\"", out, sizeof out), "");
	assert_string_equal(edited("\"email\"", "\"name2\":{\"first\":1},\"email\"", out,
				   sizeof out), "");
	/* a known object holding an unknown object that holds known names */
	assert_string_equal(edited("\"title\"", "\"extra\":{\"title\":5,\"first\":[]},\"title\"",
				   out, sizeof out), "");
	/* nesting down to the depth limit (32 with results and the user) inside a user */
	for (int i = 0; i < 29; i++)
		strcat(deep, i % 2 ? "[" : "{\"gender\":");
	strcat(deep, "null");
	for (int i = 28; i >= 0; i--)
		strcat(deep, i % 2 ? "]" : "}");
	strcat(deep, ",\"nat\"");
	assert_string_equal(edited("\"nat\"", deep, out, sizeof out), "");
	/* a user whose known object is an array or a string */
	assert_string_equal(edited("\"name\":{", "\"name\":[{", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"name\":{\"title\":\"Ms\",\"first\":\"Ada\",\"last\":"
				   "\"Lovelace\"}", "\"name\":[{\"title\":\"Ms\"}]", out,
				   sizeof out), "name.title: missing");
	assert_string_equal(edited("\"dob\":{\"date\":\"1985-12-10T04:20:35.123Z\",\"age\":40}",
				   "\"dob\":\"1985\"", out, sizeof out), "dob.date: missing");
}

static void test_escaped_keys_and_values(void **state)
{
	char out[256];
	char *u = user_edit("\"email\"", "\"em\\u0061il\"");
	char *b = body_of(u);
	source_response r;
	char err[256];

	(void)state;
	assert_string_equal(verdict(b, out, sizeof out), "");
	/* the record keeps the key as the server wrote it */
	assert_int_equal(source_parse_response(b, strlen(b), &r, err, sizeof err), BROOK_OK);
	assert_string_equal(r.records[0], u);
	source_response_release(&r);
	free(b);
	free(u);
	assert_string_equal(edited("\"female\"", "\"fem\\u0061le\"", out, sizeof out), "");
	assert_string_equal(edited("\"gender\"", "\"g\\u0065nder\"", out, sizeof out), "");
	assert_string_equal(edited("\"GB\"", "\"\\u0047\\u0042\"", out, sizeof out), "");
	assert_string_equal(edited("\"GB\"", "\"G\\/\"", out, sizeof out),
			    "nat: expected two upper-case letters");
	/* an escaped key equal to another one is a duplicate */
	assert_string_equal(edited("\"nat\"", "\"em\\u0061il\":\"x@y\",\"nat\"", out, sizeof out),
			    "not JSON");
	/* \u0000 anywhere, in keys or values, is refused as jansson does */
	assert_string_equal(edited("\"Ada\"", "\"A\\u0000da\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"nat\"", "\"n\\u0000\":1,\"nat\"", out, sizeof out),
			    "not JSON");
}

static void test_duplicate_keys_in_nested_objects(void **state)
{
	char out[256], big[2048] = "\"big\":{";

	(void)state;
	assert_string_equal(edited("\"username\"", "\"uuid\":\"x\",\"username\"", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"nat\"", "\"x\":{\"a\":[{\"b\":{\"c\":1,\"c\":2}}]},\"nat\"",
				   out, sizeof out), "not JSON");
	/* the same key in sibling or nested objects is fine */
	assert_string_equal(edited("\"nat\"", "\"x\":{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}},"
				   "\"y\":[{\"a\":1},{\"a\":1}],\"nat\"", out, sizeof out), "");
	/* keys after a closed child object still see the parent's earlier keys */
	assert_string_equal(edited("\"nat\"", "\"x\":{\"k\":1,\"c\":{\"z\":1},\"k\":2},\"nat\"",
				   out, sizeof out), "not JSON");
	/* a big object (past the linear list) with and without a late duplicate */
	for (int i = 0; i < 40; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), "\"k%d\":%d,", i, i);
	strcat(big, "\"k3\":0},\"nat\"");
	assert_string_equal(edited("\"nat\"", big, out, sizeof out), "not JSON");
	strcpy(big + strlen(big) - strlen("\"k3\":0},\"nat\""), "\"k40\":0},\"nat\"");
	assert_string_equal(edited("\"nat\"", big, out, sizeof out), "");
	/* the user's own top-level keys */
	assert_string_equal(edited("\"nat\"", "\"cell\":\"1\",\"nat\"", out, sizeof out),
			    "not JSON");
}

static void test_numbers_and_strings_swapped(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(edited("\"number\":12", "\"number\":\"12\"", out, sizeof out),
			    "location.street.number: expected integer");
	assert_string_equal(edited("\"number\":12", "\"number\":12.0", out, sizeof out),
			    "location.street.number: expected integer");
	assert_string_equal(edited("\"age\":40", "\"age\":\"40\"", out, sizeof out),
			    "dob.age: expected integer");
	assert_string_equal(edited("\"age\":40", "\"age\":4e1", out, sizeof out),
			    "dob.age: expected integer");
	assert_string_equal(edited("\"age\":40", "\"age\":-0", out, sizeof out), "");
	assert_string_equal(edited("\"N1 9GU\"", "94107", out, sizeof out), "");
	assert_string_equal(edited("\"N1 9GU\"", "-1", out, sizeof out), "");
	assert_string_equal(edited("\"N1 9GU\"", "1.5", out, sizeof out),
			    "location.postcode: expected string or integer");
	assert_string_equal(edited("\"-51.5072\"", "-51.5072", out, sizeof out),
			    "location.coordinates.latitude: expected string");
	assert_string_equal(edited("\"GB\"", "12", out, sizeof out), "nat: expected string");
	assert_string_equal(edited("\"GB\"", "true", out, sizeof out), "nat: expected string");
	assert_string_equal(edited("\"QQ 12 34 56 C\"", "null", out, sizeof out), "");
	assert_string_equal(edited("\"QQ 12 34 56 C\"", "7", out, sizeof out),
			    "id.value: expected string or null");
	assert_string_equal(edited("\"QQ 12 34 56 C\"", "{}", out, sizeof out),
			    "id.value: expected string or null");
	assert_string_equal(edited("\"Ms\"", "{\"x\":\"Ms\"}", out, sizeof out),
			    "name.title: expected string");
	assert_string_equal(edited("\"Ms\"", "[\"Ms\"]", out, sizeof out),
			    "name.title: expected string");
}

static void test_huge_integers(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(edited("\"age\":40", "\"age\":9223372036854775807", out, sizeof out),
			    "");
	assert_string_equal(edited("\"age\":40", "\"age\":9223372036854775808", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"age\":40", "\"age\":-9223372036854775808", out, sizeof out),
			    "dob.age: negative");
	assert_string_equal(edited("\"number\":12", "\"number\":-9223372036854775809", out,
				   sizeof out), "not JSON");
	assert_string_equal(edited("\"number\":12", "\"number\":123456789012345678901234567890"
				   "1234567890", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"number\":12", "\"number\":1e400", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"number\":12", "\"number\":1e-400", out, sizeof out),
			    "location.street.number: expected integer");
	/* in unknown keys too: the body is not JSON for jansson */
	assert_string_equal(edited("\"nat\"", "\"big\":[99999999999999999999],\"nat\"", out,
				   sizeof out), "not JSON");
}

static void test_surrogates_and_utf8(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(edited("\"Ada\"", "\"\\ud83d\\ude00 Ada\"", out, sizeof out), "");
	assert_string_equal(edited("\"Ada\"", "\"\\uD83D\\uDE00\"", out, sizeof out), "");
	assert_string_equal(edited("\"Ada\"", "\"\xf0\x9f\x98\x80\xc3\xa9\xe2\x82\xac\"", out,
				   sizeof out), "");
	assert_string_equal(edited("\"Ada\"", "\"\\ud83d\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\\ud83dx\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\\ude00\\ud83d\"", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\\ud83d\\u0041\"", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\\ud83d\\n\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\xc0\xaf\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\xed\xa0\x80\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\xf4\x90\x80\x80\"", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"\xe2\x82\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"Ada\"", "\"A\x01\"", out, sizeof out), "not JSON");
	/* the same in a key nobody reads */
	assert_string_equal(edited("\"nat\"", "\"\\udfff\":1,\"nat\"", out, sizeof out),
			    "not JSON");
	assert_string_equal(edited("\"nat\"", "\"\xf0\x9f\x98\x80\":1,\"nat\"", out, sizeof out),
			    "");
	/* multi-byte nat: not two upper-case ASCII letters */
	assert_string_equal(edited("\"GB\"", "\"\xc3\x89G\"", out, sizeof out),
			    "nat: expected two upper-case letters");
}

static void test_whitespace_jansson_refuses(void **state)
{
	char out[256];

	(void)state;
	/* yajl takes \f and \v for whitespace, jansson does not */
	assert_string_equal(edited("\"nat\"", "\f\"nat\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"nat\"", "\v\"nat\"", out, sizeof out), "not JSON");
	assert_string_equal(edited("\"nat\"", " \t\r\n\"nat\"", out, sizeof out), "");
}

/* Found by fuzzing: yajl reports no error for a string still open after the body's
 * object ("{}\"}`"), since more input could close it. */
static void test_unterminated_token_after_the_body(void **state)
{
	static const char *const bad[] = {
		"{}\"}`", "{\"results\":[]," INFO "} \"", "{\"results\":[]," INFO "}\"x\"",
		"{\"results\":[]," INFO "}\n1", "{\"results\":[]," INFO "} tru",
	};
	source_response r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(source_parse_response(bad[i], strlen(bad[i]), &r, err, sizeof err),
				 BROOK_ERR);
		if (!strstr(err, "not JSON"))
			fail_msg("case %zu: %s", i, err);
		source_response_release(&r);
	}
}

/* Found by fuzzing: jansson 2.14 accepts a NUL byte after a number or a literal
 * ("\"page\":1\0,"); brook refuses NUL, \f and \v anywhere. */
static void test_nul_and_odd_whitespace_are_not_json(void **state)
{
	static const char body[] = "{\"results\":[],\"info\":{\"seed\":\"a\",\"results\":0,"
				   "\"page\":1X,\"version\":\"1.4\"}}";
	char copy[sizeof body], err[256];
	const char subst[] = {'\0', '\f', '\v', ' '};
	source_response r;

	(void)state;
	for (size_t k = 0; k < sizeof subst; k++) {
		memcpy(copy, body, sizeof body);
		*strchr(copy, 'X') = subst[k];
		int rc = source_parse_response(copy, sizeof body - 1, &r, err, sizeof err);
		if (subst[k] == ' ') {
			assert_int_equal(rc, BROOK_OK);
		} else {
			assert_int_equal(rc, BROOK_ERR);
			assert_non_null(strstr(err, "not JSON"));
			assert_non_null(strstr(err, "column 54"));
		}
		source_response_release(&r);
	}
}

static void test_elements_not_objects_and_info(void **state)
{
	const char *body = "{\"results\":[1,\"s\",null,[" VALID_USER "],{}," VALID_USER "],"
			   "\"info\":{\"seed\":\"\\u0061b\",\"results\":-3,\"page\":0,"
			   "\"version\":\"\\ud83d\\ude00\",\"extra\":{\"seed\":1}}}";
	source_response r;
	char err[256];

	(void)state;
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err), BROOK_OK);
	assert_int_equal(r.nrecords, 1);
	assert_int_equal(r.nrejected, 5);
	assert_string_equal(r.reasons[0], "results[0]: user: expected object");
	assert_string_equal(r.reasons[3], "results[3]: user: expected object");
	assert_string_equal(r.reasons[4], "results[4]: gender: missing");
	assert_string_equal(r.records[0], VALID_USER);
	assert_string_equal(r.seed, "ab");
	assert_string_equal(r.version, "\xf0\x9f\x98\x80");
	assert_int_equal(r.results, -3);
	assert_int_equal(r.page, 0);
	source_response_release(&r);
	/* info members of the wrong type */
	body = "{\"results\":[],\"info\":{\"seed\":\"a\",\"results\":1.0,\"page\":1,"
	       "\"version\":\"1.4\"}}";
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err),
			 BROOK_ERR);
	assert_string_equal(err, "info.results: expected integer");
	source_response_release(&r);
	body = "{\"results\":[],\"info\":{\"seed\":\"a\",\"results\":1,\"page\":1}}";
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err),
			 BROOK_ERR);
	assert_string_equal(err, "info.version: missing");
	source_response_release(&r);
	/* the API's error with a non-string message; results nested elsewhere */
	body = "{\"x\":{\"results\":[]},\"error\":{\"m\":1}}";
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err),
			 BROOK_ERR);
	assert_string_equal(err, "error without a message");
	assert_int_equal(r.api_error, 1);
	source_response_release(&r);
	body = "{\"x\":{\"results\":[]}," INFO "}";
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err),
			 BROOK_ERR);
	assert_string_equal(err, "response has no \"results\" array");
	source_response_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_inside_unknown_keys_are_ignored),
		cmocka_unit_test(test_escaped_keys_and_values),
		cmocka_unit_test(test_duplicate_keys_in_nested_objects),
		cmocka_unit_test(test_numbers_and_strings_swapped),
		cmocka_unit_test(test_huge_integers),
		cmocka_unit_test(test_surrogates_and_utf8),
		cmocka_unit_test(test_whitespace_jansson_refuses),
		cmocka_unit_test(test_unterminated_token_after_the_body),
		cmocka_unit_test(test_nul_and_odd_whitespace_are_not_json),
		cmocka_unit_test(test_elements_not_objects_and_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
