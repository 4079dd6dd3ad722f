/*
 * Unit tests for avro/compat: a table of (reader, writer, verdict, first issue kind and
 * path) covering promotions, records and defaults, aliases, enums and enum defaults,
 * fixed, arrays, maps, unions both ways, recursion; plus report contents and
 * self-compatibility.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "avro/compat.h"
#include "avro/schema.h"

static avro_schema *parse(const char *text)
{
	char err[512] = "";
	avro_schema *s = avro_schema_parse(text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("parse failed: %s\nschema: %s", err, text);
	return s;
}

#define R1                                                                                         \
	"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"  \
	"{\"name\":\"name\",\"type\":\"string\"}]}"
#define NODE(t)                                                                                    \
	"{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"v\",\"type\":\"" t         \
	"\"},{\"name\":\"next\",\"type\":[\"null\",\"Node\"],\"default\":null}]}"
#define ENUM(syms, extra) "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[" syms "]" extra "}"

static const struct {
	const char *reader, *writer;
	bool ok;
	int kind; /* of the first issue when !ok */
	const char *path;
} cases[] = {
    {"\"int\"", "\"int\"", true, 0, NULL},
    {"\"long\"", "\"int\"", true, 0, NULL},
    {"\"float\"", "\"int\"", true, 0, NULL},
    {"\"double\"", "\"int\"", true, 0, NULL},
    {"\"float\"", "\"long\"", true, 0, NULL},
    {"\"double\"", "\"long\"", true, 0, NULL},
    {"\"double\"", "\"float\"", true, 0, NULL},
    {"\"bytes\"", "\"string\"", true, 0, NULL},
    {"\"string\"", "\"bytes\"", true, 0, NULL},
    {"\"int\"", "\"long\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    {"\"long\"", "\"float\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    {"\"float\"", "\"double\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    {"\"null\"", "\"boolean\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    {"\"boolean\"", "\"int\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    {"\"string\"", "\"int\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    /* records */
    {R1, R1, true, 0, NULL},
    {"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}", R1,
     true, 0, NULL},
    {"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
     "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"age\",\"type\":\"int\"}]}",
     R1, false, AVRO_INCOMPAT_READER_FIELD_MISSING_DEFAULT_VALUE, "/fields/2"},
    {"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
     "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"age\",\"type\":\"int\","
     "\"default\":0}]}",
     R1, true, 0, NULL},
    {"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}", R1,
     false, AVRO_INCOMPAT_TYPE_MISMATCH, "/fields/0/type"},
    {"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"nm\",\"type\":\"string\","
     "\"aliases\":[\"name\"]}]}",
     R1, true, 0, NULL},
    {"{\"type\":\"record\",\"name\":\"Person\",\"fields\":[]}", R1, false,
     AVRO_INCOMPAT_NAME_MISMATCH, "/name"},
    {"{\"type\":\"record\",\"name\":\"Person\",\"aliases\":[\"User\"],\"fields\":[]}", R1, true, 0,
     NULL},
    /* unqualified names match (Avro Java, Confluent); aliases by full name */
    {"{\"type\":\"record\",\"name\":\"a.User\",\"fields\":[]}",
     "{\"type\":\"record\",\"name\":\"b.User\",\"fields\":[]}", true, 0, NULL},
    {"{\"type\":\"record\",\"name\":\"a.P\",\"aliases\":[\"b.User\"],\"fields\":[]}",
     "{\"type\":\"record\",\"name\":\"b.User\",\"fields\":[]}", true, 0, NULL},
    {"{\"type\":\"record\",\"name\":\"a.P\",\"aliases\":[\"User\"],\"fields\":[]}",
     "{\"type\":\"record\",\"name\":\"b.User\",\"fields\":[]}", false, AVRO_INCOMPAT_NAME_MISMATCH,
     "/name"},
    {R1, "\"string\"", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    /* enums */
    {ENUM("\"A\",\"B\",\"C\"", ""), ENUM("\"A\",\"B\"", ""), true, 0, NULL},
    {ENUM("\"A\",\"B\"", ""), ENUM("\"A\",\"B\",\"C\"", ""), false,
     AVRO_INCOMPAT_MISSING_ENUM_SYMBOLS, "/symbols"},
    {ENUM("\"A\",\"B\"", ",\"default\":\"A\""), ENUM("\"A\",\"B\",\"C\"", ""), true, 0, NULL},
    /* fixed */
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"F\","
     "\"size\":4}",
     true, 0, NULL},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"F\","
     "\"size\":5}",
     false, AVRO_INCOMPAT_FIXED_SIZE_MISMATCH, "/size"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"G\","
     "\"size\":4}",
     false, AVRO_INCOMPAT_NAME_MISMATCH, "/name"},
    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", "\"bytes\"", false,
     AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    /* arrays and maps */
    {"{\"type\":\"array\",\"items\":\"long\"}", "{\"type\":\"array\",\"items\":\"int\"}", true, 0,
     NULL},
    {"{\"type\":\"array\",\"items\":\"int\"}", "{\"type\":\"array\",\"items\":\"long\"}", false,
     AVRO_INCOMPAT_TYPE_MISMATCH, "/items"},
    {"{\"type\":\"map\",\"values\":\"double\"}", "{\"type\":\"map\",\"values\":\"float\"}", true, 0,
     NULL},
    {"{\"type\":\"map\",\"values\":\"int\"}", "{\"type\":\"map\",\"values\":\"string\"}", false,
     AVRO_INCOMPAT_TYPE_MISMATCH, "/values"},
    {"{\"type\":\"map\",\"values\":\"int\"}", "{\"type\":\"array\",\"items\":\"int\"}", false,
     AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    /* unions */
    {"[\"null\",\"string\"]", "\"string\"", true, 0, NULL},
    {"[\"null\",\"long\"]", "\"int\"", true, 0, NULL},
    {"[\"null\",\"string\"]", "\"int\"", false, AVRO_INCOMPAT_MISSING_UNION_BRANCH, "/"},
    {"\"string\"", "[\"null\",\"string\"]", false, AVRO_INCOMPAT_TYPE_MISMATCH, "/"},
    {"\"double\"", "[\"int\",\"float\"]", true, 0, NULL},
    {"[\"null\",\"string\",\"int\"]", "[\"null\",\"string\"]", true, 0, NULL},
    {"[\"null\",\"string\"]", "[\"null\",\"string\",\"int\"]", false,
     AVRO_INCOMPAT_MISSING_UNION_BRANCH, "/"},
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"u\",\"type\":[\"null\","
     "\"int\"]}]}",
     "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"u\",\"type\":"
     "[\"null\",\"string\"]}]}",
     false, AVRO_INCOMPAT_MISSING_UNION_BRANCH, "/fields/0/type"},
    /* recursion */
    {NODE("int"), NODE("int"), true, 0, NULL},
    {NODE("long"), NODE("int"), true, 0, NULL},
    {NODE("int"), NODE("long"), false, AVRO_INCOMPAT_TYPE_MISMATCH, "/fields/0/type"},
    {"{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"k\",\"type\":{\"type\":"
     "\"array\",\"items\":\"T\"}},{\"name\":\"x\",\"type\":\"int\"}]}",
     "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"k\",\"type\":{\"type\":"
     "\"array\",\"items\":\"T\"}}]}",
     false, AVRO_INCOMPAT_READER_FIELD_MISSING_DEFAULT_VALUE, "/fields/1"},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		avro_schema *r = parse(cases[i].reader), *w = parse(cases[i].writer);
		avro_compat_report rep = AVRO_COMPAT_REPORT_INIT;
		bool ok = avro_can_read(r, w, &rep);
		if (ok != cases[i].ok)
			fail_msg("case %zu: reader %s writer %s: got %d (first issue: %s)", i,
			         cases[i].reader, cases[i].writer, ok,
			         rep.n ? rep.issues[0].message : "none");
		/* Without a report the verdict is the same. */
		assert_int_equal(avro_can_read(r, w, NULL), ok);
		if (ok) {
			assert_int_equal(rep.n, 0);
		} else {
			assert_true(rep.n >= 1);
			if (rep.issues[0].kind != (avro_incompat)cases[i].kind ||
			    strcmp(rep.issues[0].path, cases[i].path))
				fail_msg("case %zu: first issue %s at %s (%s), want %s at %s", i,
				         avro_incompat_name(rep.issues[0].kind), rep.issues[0].path,
				         rep.issues[0].message,
				         avro_incompat_name((avro_incompat)cases[i].kind),
				         cases[i].path);
			for (size_t k = 0; k < rep.n; k++) {
				assert_non_null(rep.issues[k].message);
				assert_non_null(rep.issues[k].info);
			}
		}
		/* Every schema reads itself. */
		assert_true(avro_can_read(r, r, NULL));
		assert_true(avro_can_read(w, w, NULL));
		avro_compat_report_release(&rep);
		avro_schema_free(r);
		avro_schema_free(w);
	}
}

static void test_report_messages(void **state)
{
	(void)state;
	avro_schema *r = parse(
	    "{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}"
	    ","
	    "{\"name\":\"age\",\"type\":\"int\"},{\"name\":\"e\",\"type\":" ENUM(
	        "\"A\"",
	        "") "},{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}}]}");
	avro_schema *w = parse(
	    "{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":"
	    "\"string\"},{\"name\":\"e\",\"type\":" ENUM(
	        "\"A\",\"B\"",
	        "") "},{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"G\",\"size\":8}}]}");
	avro_compat_report rep = AVRO_COMPAT_REPORT_INIT;
	assert_false(avro_can_read(r, w, &rep));
	assert_int_equal(rep.n, 5);
	assert_int_equal(rep.issues[0].kind, AVRO_INCOMPAT_TYPE_MISMATCH);
	assert_string_equal(rep.issues[0].path, "/fields/0/type");
	assert_string_equal(rep.issues[0].info,
	                    "reader type: LONG not compatible with writer type: STRING");
	assert_int_equal(rep.issues[1].kind, AVRO_INCOMPAT_READER_FIELD_MISSING_DEFAULT_VALUE);
	assert_string_equal(rep.issues[1].message,
	                    "reader field 'age' has no default and is missing from the writer");
	assert_string_equal(rep.issues[1].info, "age");
	assert_string_equal(rep.issues[2].path, "/fields/2/type/symbols");
	assert_string_equal(rep.issues[2].info, "[B]");
	assert_string_equal(rep.issues[3].path, "/fields/3/type/name");
	assert_string_equal(rep.issues[3].info, "expected: G");
	assert_string_equal(rep.issues[4].path, "/fields/3/type/size");
	assert_string_equal(rep.issues[4].info, "expected: 8, found: 4");
	assert_string_equal(avro_incompat_name(rep.issues[4].kind), "FIXED_SIZE_MISMATCH");
	avro_compat_report_release(&rep);
	assert_int_equal(rep.n, 0);
	avro_schema_free(r);
	avro_schema_free(w);
}

/* A failing pair first met inside a speculative reader-union trial is still reported
 * when met again outside it. */
static void test_speculative_then_reported(void **state)
{
	(void)state;
	avro_schema *r = parse(
	    "{\"type\":\"record\",\"name\":\"O\",\"fields\":["
	    "{\"name\":\"a\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"I\",\"fields\":"
	    "[{\"name\":\"x\",\"type\":\"int\"}]}]},{\"name\":\"b\",\"type\":\"I\"}]}");
	avro_schema *w =
	    parse("{\"type\":\"record\",\"name\":\"O\",\"fields\":["
	          "{\"name\":\"a\",\"type\":{\"type\":\"record\",\"name\":\"I\",\"fields\":"
	          "[{\"name\":\"x\",\"type\":\"string\"}]}},{\"name\":\"b\",\"type\":\"I\"}]}");
	avro_compat_report rep = AVRO_COMPAT_REPORT_INIT;
	assert_false(avro_can_read(r, w, &rep));
	assert_int_equal(rep.n, 2);
	assert_int_equal(rep.issues[0].kind, AVRO_INCOMPAT_MISSING_UNION_BRANCH);
	assert_string_equal(rep.issues[0].path, "/fields/0/type");
	assert_int_equal(rep.issues[1].kind, AVRO_INCOMPAT_TYPE_MISMATCH);
	assert_string_equal(rep.issues[1].path, "/fields/1/type/fields/0/type");
	avro_compat_report_release(&rep);
	avro_schema_free(r);
	avro_schema_free(w);
}

/* Mutually recursive types and a long chain terminate. */
static void test_mutual_recursion(void **state)
{
	(void)state;
	const char *a = "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"b\",\"type\":"
	                "[\"null\",{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"a\","
	                "\"type\":[\"null\",\"A\"]},{\"name\":\"n\",\"type\":\"int\"}]}]}]}";
	const char *a2 =
	    "{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"b\",\"type\":"
	    "[\"null\",{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"a\","
	    "\"type\":[\"null\",\"A\"]},{\"name\":\"n\",\"type\":\"long\"}]}]}]}";
	avro_schema *x = parse(a), *y = parse(a2);
	assert_true(avro_can_read(y, x, NULL));
	assert_false(avro_can_read(x, y, NULL));
	avro_schema_free(x);
	avro_schema_free(y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_report_messages),
	    cmocka_unit_test(test_speculative_then_reported),
	    cmocka_unit_test(test_mutual_recursion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
