/*
 * test_validate_scan.c — the response scanner of source_parse_response(): records
 * are the users' own text made compact, and the body is accepted exactly when
 * jansson accepts it whole (the oracle: json_loadb with JSON_REJECT_DUPLICATES).
 * Also the digests from several threads at once (one EVP_MD_CTX per thread).
 */
#include <pthread.h>
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

#define INFO "\"info\":{\"seed\":\"abc\",\"results\":2,\"page\":1,\"version\":\"1.4\"}"

/* VALID_USER with extra members (allowed) spliced in before "nat". */
static char *user_with(const char *extra)
{
	const char *u = VALID_USER, *nat = strstr(u, "\"nat\"");
	size_t n = strlen(u) + strlen(extra) + 1;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, "%.*s%s%s", (int)(nat - u), u, extra, nat);
	return s;
}

static char *response_of(const char *u1, const char *u2)
{
	size_t n = strlen(u1) + strlen(u2) + 200;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, "{\"results\":[%s,%s]," INFO "}", u1, u2);
	return s;
}

/* Pretty-print body with jansson (indent, then CRLF and tabs for variety). */
static char *pretty(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	char *p, *q;
	size_t n;

	assert_non_null(j);
	p = json_dumps(j, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
	json_decref(j);
	assert_non_null(p);
	n = strlen(p);
	q = malloc(2 * n + 8);
	assert_non_null(q);
	size_t o = 0;
	q[o++] = '\t';
	q[o++] = ' ';
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			q[o++] = '\r';
		q[o++] = p[i];
	}
	q[o++] = '\r';
	q[o++] = '\n';
	q[o] = '\0';
	free(p);
	return q;
}

/* Parse body; compare acceptance with the oracle and, when accepted, each record
 * with the oracle's element (same meaning, one line). Returns the rc. */
static int check_against_oracle(const char *body, size_t len, char *err, size_t errlen)
{
	json_t *whole = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	source_response r;
	int rc = source_parse_response(body, len, &r, err, errlen);

	if (!whole && (rc == BROOK_OK || !strstr(err, "not JSON")))
		fail_msg("jansson rejects [%.*s] but the scanner says: %s", (int)len, body,
			 rc == BROOK_OK ? "ok" : err);
	if (whole && rc != BROOK_OK && strstr(err, "not JSON"))
		fail_msg("jansson accepts [%.*s] but the scanner says: %s", (int)len, body, err);
	if (rc == BROOK_OK) {
		json_t *results = json_object_get(whole, "results");
		size_t k = 0;
		assert_int_equal(r.nrecords + r.nrejected, json_array_size(results));
		for (size_t i = 0; i < json_array_size(results) && k < r.nrecords; i++) {
			char reason[256];
			json_t *el = json_array_get(results, i);
			if (source_validate_user(el, reason, sizeof reason) != BROOK_OK)
				continue;
			json_t *rec = json_loads(r.records[k], 0, NULL);
			if (!rec || !json_equal(rec, el))
				fail_msg("record %zu differs from element %zu: %s", k, i,
					 r.records[k]);
			assert_null(strpbrk(r.records[k], "\n\r\t"));
			json_decref(rec);
			k++;
		}
		assert_int_equal(k, r.nrecords);
	}
	source_response_release(&r);
	json_decref(whole);
	return rc;
}

static void test_pretty_body_gives_compact_records(void **state)
{
	char *body = response_of(VALID_USER, VALID_USER), *p = pretty(body);
	source_response r;
	char err[256] = "";

	(void)state;
	assert_non_null(strchr(p, '\n'));
	assert_int_equal(source_parse_response(p, strlen(p), &r, err, sizeof err), BROOK_OK);
	assert_int_equal(r.nrecords, 2);
	/* whitespace inside strings ("Main St", "Bombay, Calcutta") is kept */
	assert_string_equal(r.records[0], VALID_USER);
	assert_string_equal(r.records[1], VALID_USER);
	assert_string_equal(r.seed, "abc");
	assert_int_equal(r.results, 2);
	source_response_release(&r);
	assert_int_equal(check_against_oracle(p, strlen(p), err, sizeof err), BROOK_OK);
	free(p);
	free(body);
}

static void test_escapes_kept_as_written(void **state)
{
	/* quotes, backslash runs, escaped slash, \u escapes, brackets and commas */
	char *u = user_with("\"note\":\"a \\\"quoted\\\" [x], {y}: \\\\\",\"b\":\"\\\\\\\\\","
			    "\"c\":\"\\u00e9\\/ \\t\\n \\ud83d\\ude00\",\"d\":\"\\\\\\\"\",");
	char *body = response_of(u, VALID_USER), *p = pretty(body);
	source_response r;
	char err[256] = "";

	(void)state;
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(r.nrecords, 2);
	assert_string_equal(r.records[0], u); /* byte for byte: escapes not rewritten */
	source_response_release(&r);
	assert_int_equal(check_against_oracle(body, strlen(body), err, sizeof err), BROOK_OK);
	assert_int_equal(check_against_oracle(p, strlen(p), err, sizeof err), BROOK_OK);
	free(p);
	free(body);
	free(u);
}

static void test_nested_arrays_inside_users(void **state)
{
	char *u = user_with("\"tags\":[[1, 2.5e3, [ ]], {\"a\" : [null, true, false]},"
			    " \"]\", \"}\", [[[\"[\"]]]],");
	char *body = response_of(VALID_USER, u), *p = pretty(body);
	source_response r;
	char err[256] = "";

	(void)state;
	assert_int_equal(source_parse_response(body, strlen(body), &r, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(r.nrecords, 2);
	assert_non_null(strstr(r.records[1], "\"tags\":[[1,2.5e3,[]],{\"a\":[null,true,false]},"
					     "\"]\",\"}\",[[[\"[\"]]]],"));
	source_response_release(&r);
	assert_int_equal(check_against_oracle(body, strlen(body), err, sizeof err), BROOK_OK);
	assert_int_equal(check_against_oracle(p, strlen(p), err, sizeof err), BROOK_OK);
	free(p);
	free(body);
	free(u);
}

/* Every proper prefix of a response is rejected as not JSON. */
static void test_truncated_bodies(void **state)
{
	char *u = user_with("\"x\":[\"a\\\"b\", {\"y\": [1]}],");
	char *body = response_of(u, VALID_USER), *p = pretty(body);
	char err[256];
	const char *bodies[] = {body, p};

	(void)state;
	for (size_t b = 0; b < 2; b++) {
		size_t n = strlen(bodies[b]);
		/* the pretty body ends in whitespace: cut before its last '}' */
		size_t full = strrchr(bodies[b], '}') - bodies[b] + 1;
		for (size_t len = 1; len < full; len++) {
			assert_int_equal(check_against_oracle(bodies[b], len, err, sizeof err),
					 BROOK_ERR);
			if (!strstr(err, "not JSON"))
				fail_msg("prefix of %zu bytes: %s", len, err);
		}
		for (size_t len = full; len <= n; len++)
			assert_int_equal(check_against_oracle(bodies[b], len, err, sizeof err),
					 BROOK_OK);
	}
	free(p);
	free(body);
	free(u);
}

#define U VALID_USER

static void test_structure_errors_rejected(void **state)
{
	static const char *const bad[] = {
		/* duplicate keys: top level (also after unescaping), inside info and users */
		"{\"results\":[]," INFO "," INFO "}",
		"{\"results\":[],\"results\":[]," INFO "}",
		"{\"results\":[" U "]," INFO ",\"res\\u0075lts\":[]}",
		"{\"results\":[]," INFO ",\"x\":1,\"x\":2}",
		"{\"results\":[],\"info\":{\"seed\":\"a\",\"seed\":\"b\",\"results\":0,"
		"\"page\":1,\"version\":\"1.4\"}}",
		"{\"results\":[{\"gender\":\"male\",\"gender\":\"male\"}]," INFO "}",
		"{\"results\":[" U ",{\"a\":{\"b\":1,\"b\":2}}]," INFO "}",
		/* garbage between and around elements */
		"{\"results\":[" U " x," U "]," INFO "}",
		"{\"results\":[" U ",," U "]," INFO "}",
		"{\"results\":[" U " " U "]," INFO "}",
		"{\"results\":[" U ",]," INFO "}",
		"{\"results\":[," U "]," INFO "}",
		"{\"results\":[" U "] x," INFO "}",
		"{\"results\":[" U "]," INFO "}x",
		"{\"results\":[" U "]," INFO "}}",
		"{\"results\":[" U "]," INFO ",}",
		"{\"results\":[" U "]" INFO "}",
		"{\"results\" [" U "]," INFO "}",
		"{results:[" U "]," INFO "}",
		"{\"results\":[" U "]," INFO "},{}",
		"{\"results\":[" U ",nul]," INFO "}",
		"{\"results\":[" U ",{\"a\":1]]," INFO "}",
		"{\"results\":[" U ",[1}}," INFO "}",
		"{\"results\":[\"a\nb\"]," INFO "}",
		"{\"results\":[" U "],\"info\":{\"seed\":\"a\"} 1}",
		"{\"results\":[" U "]," INFO ",\"k\":}",
		"{\"results\":[" U "]," INFO ",\"k\":\"\\x\"}",
		"{\"results\":[" U "]," INFO ",\"\\u0000\":1}",
		"{\"results\":[" U "]," INFO ",\"k\":\"\xff\"}",
		"{\"results\":[" U "]," INFO ",\"k\":01}",
		"{\"results\":[" U "]," INFO ",\"k\":1 2}",
		/* whitespace between tokens must not be dropped before jansson judges them
		 * (found by fuzzing: "1 01" became 101) */
		"{\"results\":[" U "]," INFO ",\"k\":{\"p\":1 01}}",
		"{\"results\":[" U "]," INFO ",\"k\":[tru e]}",
		"{\"results\":[" U ",{\"a\":[1 2]}]," INFO "}",
		"{\"results\":[" U ",{\"a\":\"x\" \"y\"}]," INFO "}",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(check_against_oracle(bad[i], strlen(bad[i]), err, sizeof err),
				 BROOK_ERR);
		if (!strstr(err, "not JSON"))
			fail_msg("case %zu: %s", i, err);
	}
}

static void test_accepted_shapes(void **state)
{
	static const char *const good[] = {
		"{\"results\":[]," INFO "}",
		" \r\n{ \"results\" : [ ] , " INFO " } \n",
		"{" INFO ",\"results\":[" U "]}",
		"{\"x\":[[1],{\"results\":{}}],\"results\":[" U ",\"str\",7,null,[]]," INFO "}",
		"{\"results\":[" U "]," INFO ",\"\\u00e8\":\"\\u00e9\",\"\xc3\xa9\":0}",
		"{\"results\":[\t" U "\n,\n" U "\r]," INFO "}",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (check_against_oracle(good[i], strlen(good[i]), err, sizeof err) != BROOK_OK)
			fail_msg("case %zu: %s", i, err);
}

static void test_errors_after_a_clean_scan(void **state)
{
	source_response r;
	char err[256] = "";
	const char *api = "{\n  \"error\" : \"Uh oh\",\n  \"results\" : [" U "]\n}";
	const char *where = "{\"results\":[" U ",\n  x]}";

	(void)state;
	assert_int_equal(source_parse_response(api, strlen(api), &r, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "Uh oh");
	assert_int_equal(r.api_error, 1);
	assert_int_equal(r.nrecords, 0); /* nothing kept from a body that is not a response */
	source_response_release(&r);
	assert_int_equal(source_parse_response(where, strlen(where), &r, err, sizeof err),
			 BROOK_ERR);
	if (!strstr(err, "not JSON") || !strstr(err, "line 2 column 3"))
		fail_msg("unexpected error: %s", err);
	assert_int_equal(r.api_error, 0);
	source_response_release(&r);
}

static void *validate_many(void *arg)
{
	json_t *u = arg;
	char reason[256];
	intptr_t bad = 0;

	for (int i = 0; i < 300; i++)
		bad += source_validate_user(u, reason, sizeof reason) != BROOK_OK;
	return (void *)bad;
}

static void test_digests_from_threads(void **state)
{
	json_t *u = json_loads(VALID_USER, 0, NULL), *v;
	pthread_t t[4];
	char reason[256];

	(void)state;
	assert_non_null(u);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, validate_many, u), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((intptr_t)bad, 0);
	}
	/* and a wrong digest is still caught on this thread */
	v = json_deep_copy(u);
	json_object_set_new(json_object_get(v, "login"), "salt", json_string("other"));
	assert_int_equal(source_validate_user(v, reason, sizeof reason), BROOK_ERR);
	assert_string_equal(reason, "login.md5: does not match md5(password + salt)");
	json_decref(v);
	json_decref(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pretty_body_gives_compact_records),
		cmocka_unit_test(test_escapes_kept_as_written),
		cmocka_unit_test(test_nested_arrays_inside_users),
		cmocka_unit_test(test_truncated_bodies),
		cmocka_unit_test(test_structure_errors_rejected),
		cmocka_unit_test(test_accepted_shapes),
		cmocka_unit_test(test_errors_after_a_clean_scan),
		cmocka_unit_test(test_digests_from_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
