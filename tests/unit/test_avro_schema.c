/*
 * Unit tests for avro/schema: every class of parse error, names and namespaces,
 * recursion, logical types, defaults, Parsing Canonical Form (spec examples),
 * CRC-64-AVRO fingerprints (known vectors), the normalized JSON form and its round trip.
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
#include "core/buf.h"
#include "core/mem.h"

static avro_schema *parse_ok(const char *text)
{
	char err[512] = "";
	avro_schema *s = avro_schema_parse(text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("parse failed: %s\nschema: %s", err, text);
	return s;
}

static void expect_error(const char *text, const char *needle)
{
	char err[512] = "";
	avro_schema *s = avro_schema_parse(text, strlen(text), err, sizeof err);
	if (s) {
		avro_schema_free(s);
		fail_msg("parsed but should not: %s", text);
	}
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s' for %s", err, needle, text);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *schema, *needle;
	} cases[] = {
	    {"", "not valid JSON"},
	    {"{\"type\":", "not valid JSON"},
	    {"\"integer\"", "unknown type name 'integer'"},
	    {"42", "must be a type name"},
	    {"{}", "no \"type\""},
	    {"{\"type\":\"record\",\"fields\":[]}", "has no \"name\""},
	    {"{\"type\":\"record\",\"name\":\"R\"}", "has no \"fields\""},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":{}}", "must be an array"},
	    {"{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}", "invalid record name '1R'"},
	    {"{\"type\":\"record\",\"name\":\"a..R\",\"fields\":[]}", "invalid record name"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"x-y\",\"fields\":[]}",
	     "invalid namespace"},
	    {"{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}", "primitive type name"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}",
	     "has no \"type\""},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"type\":\"int\"}]}",
	     "has no \"name\""},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a-b\",\"type\":\"int\"}]"
	     "}",
	     "invalid field name 'a-b'"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
	     "{\"name\":\"a\",\"type\":\"long\"}]}",
	     "duplicate field name 'a'"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
	     "\"order\":\"up\"}]}",
	     "\"order\" must be"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
	     "{\"type\":\"enum\",\"name\":\"R\",\"symbols\":[\"A\"]}}]}",
	     "duplicate name 'R'"},
	    {"{\"type\":\"enum\",\"name\":\"E\"}", "needs \"symbols\""},
	    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}",
	     "duplicate symbol 'A'"},
	    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"0\"]}", "symbol 1 is not"},
	    {"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}",
	     "\"default\" must be one of its symbols"},
	    {"{\"type\":\"fixed\",\"name\":\"F\"}", "needs \"size\""},
	    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}", "needs \"size\""},
	    {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"16\"}", "needs \"size\""},
	    {"{\"type\":\"array\"}", "has no \"items\""},
	    {"{\"type\":\"map\"}", "has no \"values\""},
	    {"{\"type\":\"array\",\"items\":\"Nope\"}", "unknown type name 'Nope'"},
	    {"[]", "at least one branch"},
	    {"[\"null\",[\"int\"]]", "immediately contain another union"},
	    {"[\"int\",\"int\"]", "two branches of type int"},
	    {"[{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"array\",\"items\":\"long\"}]",
	     "two branches of type array"},
	    {"[{\"type\":\"fixed\",\"name\":\"F\",\"size\":1},\"F\"]", "type 'F' twice"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"aliases\":[\"9x\"],\"fields\":[]}",
	     "alias 0 is not a valid name"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"doc\":5,\"fields\":[]}", "must be a string"},
	    {"{\"type\":\"int\",\"type\":\"long\"}", "not valid JSON"}, /* duplicate key */
	    /* defaults */
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
	     "\"default\":\"x\"}]}",
	     "default value \"x\" is not a valid int"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
	     "\"default\":4294967296}]}",
	     "not a valid int"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\","
	     "\"default\":1.5}]}",
	     "not a valid int"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
	     "[\"int\",\"null\"],\"default\":null}]}",
	     "first branch"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
	     "{\"type\":\"array\",\"items\":\"int\"},\"default\":[1,\"2\"]}]}",
	     "not a valid array"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
	     "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"default\":\"abc\"}]}",
	     "not a valid F"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
	     "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]},\"default\":\"B\"}]}",
	     "not a valid E"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
	     "{\"type\":\"record\",\"name\":\"I\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]},"
	     "\"default\":{}}]}",
	     "not a valid I"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"bytes\","
	     "\"default\":\"\\u0100\"}]}",
	     "not a valid bytes"},
	    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"boolean\","
	     "\"default\":0}]}",
	     "not a valid boolean"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_error(cases[i].schema, cases[i].needle);
}

static void test_valid_defaults(void **state)
{
	(void)state;
	avro_schema *s = parse_ok(
	    "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
	    "{\"name\":\"a\",\"type\":[\"null\",\"int\"],\"default\":null},"
	    "{\"name\":\"b\",\"type\":[\"int\",\"null\"],\"default\":3},"
	    "{\"name\":\"c\",\"type\":\"double\",\"default\":1},"
	    "{\"name\":\"d\",\"type\":\"float\",\"default\":\"NaN\"},"
	    "{\"name\":\"e\",\"type\":\"bytes\",\"default\":\"\\u00ff\\u0000\"},"
	    "{\"name\":\"f\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":{\"k\":1}}"
	    ","
	    "{\"name\":\"g\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},"
	    "\"default\":\"\\u00ffa\"},"
	    "{\"name\":\"h\",\"type\":{\"type\":\"record\",\"name\":\"I\",\"fields\":["
	    "{\"name\":\"x\",\"type\":\"int\"},{\"name\":\"y\",\"type\":\"int\",\"default\":0}]},"
	    "\"default\":{\"x\":1}},"
	    "{\"name\":\"i\",\"type\":\"long\",\"default\":9007199254740993}"
	    "]}");
	assert_int_equal(avro_schema_field_count(s), 9);
	assert_int_equal(avro_schema_field_index(s, "i"), 8);
	const avro_field *b = avro_schema_field(s, 1);
	assert_string_equal(b->name, "b");
	assert_true(json_is_integer(b->def) && json_integer_value(b->def) == 3);
	assert_null(avro_schema_field(s, 0)->aliases);
	assert_true(json_is_null(avro_schema_field(s, 0)->def));
	avro_schema_free(s);
}

static void test_names(void **state)
{
	(void)state;
	/* Namespace inheritance; a dotted name ignores "namespace"; "" resets it. */
	avro_schema *s = parse_ok(
	    "{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"com.x\",\"aliases\":[\"Old\","
	    "\"o.Older\"],\"fields\":["
	    "{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},"
	    "{\"name\":\"b\",\"type\":{\"type\":\"fixed\",\"name\":\"y.F\",\"namespace\":\"zz\","
	    "\"size\":4}},"
	    "{\"name\":\"c\",\"type\":{\"type\":\"record\",\"name\":\"G\",\"namespace\":\"\","
	    "\"fields\":[{\"name\":\"q\",\"type\":{\"type\":\"enum\",\"name\":\"H\","
	    "\"symbols\":[\"Z\"]}}]}},"
	    "{\"name\":\"d\",\"type\":\"E\"},"
	    "{\"name\":\"e\",\"type\":\"com.x.E\"},"
	    "{\"name\":\"f\",\"type\":\"y.F\"},"
	    "{\"name\":\"g\",\"type\":\"G\"},"
	    "{\"name\":\"h\",\"type\":\"H\"}"
	    "]}");
	assert_int_equal(avro_schema_type(s), AVRO_RECORD);
	assert_string_equal(avro_schema_fullname(s), "com.x.User");
	assert_string_equal(avro_schema_shortname(s), "User");
	assert_string_equal(avro_schema_namespace(s), "com.x");
	assert_int_equal(avro_schema_alias_count(s), 2);
	assert_string_equal(avro_schema_alias(s, 0), "com.x.Old");
	assert_string_equal(avro_schema_alias(s, 1), "o.Older");
	const avro_schema *e = avro_schema_field(s, 0)->type;
	assert_string_equal(avro_schema_fullname(e), "com.x.E");
	const avro_schema *f = avro_schema_field(s, 1)->type;
	assert_string_equal(avro_schema_fullname(f), "y.F");
	assert_string_equal(avro_schema_namespace(f), "y");
	assert_int_equal(avro_schema_fixed_size(f), 4);
	const avro_schema *g = avro_schema_field(s, 2)->type;
	assert_string_equal(avro_schema_fullname(g), "G");
	assert_null(avro_schema_namespace(g));
	assert_string_equal(avro_schema_fullname(avro_schema_field(g, 0)->type), "H");
	assert_ptr_equal(avro_schema_field(s, 3)->type, e);
	assert_ptr_equal(avro_schema_field(s, 4)->type, e);
	assert_ptr_equal(avro_schema_field(s, 5)->type, f);
	assert_ptr_equal(avro_schema_field(s, 6)->type, g);
	assert_int_equal(avro_schema_field_index(s, "h"), 7);
	assert_int_equal(avro_schema_field_index(s, "zz"), -1);
	assert_int_equal(avro_schema_symbol_index(e, "A"), 0);
	avro_schema_free(s);
}

static void test_recursion_and_walk(void **state)
{
	(void)state;
	avro_schema *s = parse_ok(
	    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
	    "{\"name\":\"v\",\"type\":\"int\",\"aliases\":[\"value\"],\"doc\":\"the value\","
	    "\"order\":\"descending\"},"
	    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"Node\"}},"
	    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"Node\"]}},"
	    "{\"name\":\"k\",\"type\":{\"type\":\"enum\",\"name\":\"K\",\"symbols\":[\"X\",\"Y\"],"
	    "\"default\":\"Y\"}}]}");
	const avro_field *v = avro_schema_field(s, 0);
	assert_int_equal(v->naliases, 1);
	assert_string_equal(v->aliases[0], "value");
	assert_string_equal(v->doc, "the value");
	assert_int_equal(v->order, AVRO_ORDER_DESCENDING);
	const avro_schema *kids = avro_schema_field(s, 1)->type;
	assert_int_equal(avro_schema_type(kids), AVRO_ARRAY);
	assert_ptr_equal(avro_schema_items(kids), s);
	assert_null(avro_schema_values(kids));
	const avro_schema *m = avro_schema_field(s, 2)->type;
	const avro_schema *u = avro_schema_values(m);
	assert_int_equal(avro_schema_branch_count(u), 2);
	assert_int_equal(avro_schema_type(avro_schema_branch(u, 0)), AVRO_NULL);
	assert_ptr_equal(avro_schema_branch(u, 1), s);
	const avro_schema *k = avro_schema_field(s, 3)->type;
	assert_int_equal(avro_schema_symbol_count(k), 2);
	assert_string_equal(avro_schema_symbol(k, 1), "Y");
	assert_string_equal(avro_schema_enum_default(k), "Y");
	char *pcf = avro_schema_canonical(s);
	assert_string_equal(
	    pcf,
	    "{\"name\":\"Node\",\"type\":\"record\",\"fields\":[{\"name\":\"v\",\"type\":\"int\"},"
	    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"Node\"}},"
	    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"Node\"]}},"
	    "{\"name\":\"k\",\"type\":{\"name\":\"K\",\"type\":\"enum\",\"symbols\":[\"X\","
	    "\"Y\"]}}]}");
	free(pcf);
	avro_schema_free(s);
}

static void test_logical_types(void **state)
{
	(void)state;
	static const struct {
		const char *schema, *logical;
		int precision, scale;
	} cases[] = {
	    {"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,\"scale\":2}",
	     "decimal", 9, 2},
	    {"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9}", "decimal", 9, 0},
	    {"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":2,\"scale\":3}", NULL,
	     0, 0},
	    {"{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":0}", NULL, 0, 0},
	    {"{\"type\":\"bytes\",\"logicalType\":\"decimal\"}", NULL, 0, 0},
	    {"{\"type\":\"fixed\",\"name\":\"D\",\"size\":4,\"logicalType\":\"decimal\","
	     "\"precision\":9}",
	     "decimal", 9, 0},
	    {"{\"type\":\"fixed\",\"name\":\"D\",\"size\":4,\"logicalType\":\"decimal\","
	     "\"precision\":10}",
	     NULL, 0, 0},
	    {"{\"type\":\"string\",\"logicalType\":\"uuid\"}", "uuid", 0, 0},
	    {"{\"type\":\"int\",\"logicalType\":\"date\"}", "date", 0, 0},
	    {"{\"type\":\"long\",\"logicalType\":\"date\"}", NULL, 0, 0},
	    {"{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}", "timestamp-micros", 0, 0},
	    {"{\"type\":\"long\",\"logicalType\":\"local-timestamp-millis\"}",
	     "local-timestamp-millis", 0, 0},
	    {"{\"type\":\"int\",\"logicalType\":\"time-millis\"}", "time-millis", 0, 0},
	    {"{\"type\":\"fixed\",\"name\":\"Du\",\"size\":12,\"logicalType\":\"duration\"}",
	     "duration", 0, 0},
	    {"{\"type\":\"fixed\",\"name\":\"Du\",\"size\":11,\"logicalType\":\"duration\"}", NULL,
	     0, 0},
	    {"{\"type\":\"string\",\"logicalType\":\"my-own\"}", NULL, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		avro_schema *s = parse_ok(cases[i].schema);
		const char *lt = avro_schema_logical_type(s);
		if (cases[i].logical) {
			assert_non_null(lt);
			assert_string_equal(lt, cases[i].logical);
		} else {
			assert_null(lt);
		}
		assert_non_null(avro_schema_logical_raw(s));
		assert_int_equal(avro_schema_decimal_precision(s), cases[i].precision);
		assert_int_equal(avro_schema_decimal_scale(s), cases[i].scale);
		/* Logical types are not part of the canonical form. */
		char *pcf = avro_schema_canonical(s);
		assert_null(strstr(pcf, "logicalType"));
		free(pcf);
		/* ... but the JSON form keeps them. */
		char *js = avro_schema_to_json(s);
		assert_non_null(strstr(js, "logicalType"));
		free(js);
		avro_schema_free(s);
	}
}

static void test_canonical_forms(void **state)
{
	(void)state;
	static const struct {
		const char *schema, *pcf;
	} cases[] = {
	    {"\"int\"", "\"int\""},
	    {"{\"type\":\"int\"}", "\"int\""},
	    {" { \"type\" : \"string\" , \"doc\": \"x\" } ", "\"string\""},
	    {"[\"null\", {\"type\":\"long\"}]", "[\"null\",\"long\"]"},
	    {"{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":\"bytes\"},\"x\":1}",
	     "{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":\"bytes\"}}"},
	    {"{\"namespace\":\"a.b\",\"type\":\"fixed\",\"size\":0016,\"name\":\"MD5\","
	     "\"aliases\":[\"x\"]}",
	     NULL}, /* leading zeros are not JSON */
	    {"{\"namespace\":\"a.b\",\"type\":\"fixed\",\"size\":16,\"name\":\"MD5\","
	     "\"aliases\":[\"x\"],\"doc\":\"d\"}",
	     "{\"name\":\"a.b.MD5\",\"type\":\"fixed\",\"size\":16}"},
	    {"{\"symbols\":[\"B\",\"A\"],\"name\":\"E\",\"type\":\"enum\",\"default\":\"A\"}",
	     "{\"name\":\"E\",\"type\":\"enum\",\"symbols\":[\"B\",\"A\"]}"},
	    {"{\"fields\":[{\"type\":{\"type\":\"enum\",\"name\":\"S\",\"symbols\":[\"x\"]},"
	     "\"default\":\"x\",\"name\":\"s\",\"doc\":\"d\"},{\"name\":\"t\",\"type\":\"S\"}],"
	     "\"name\":\"R\",\"namespace\":\"n\",\"type\":\"record\"}",
	     "{\"name\":\"n.R\",\"type\":\"record\",\"fields\":[{\"name\":\"s\",\"type\":"
	     "{\"name\":\"n.S\",\"type\":\"enum\",\"symbols\":[\"x\"]}},{\"name\":\"t\",\"type\":"
	     "\"n.S\"}]}"},
	    {"{\"type\":\"error\",\"name\":\"Oops\",\"fields\":[]}",
	     "{\"name\":\"Oops\",\"type\":\"error\",\"fields\":[]}"},
	    {"{\"type\":{\"type\":\"int\"}}", "\"int\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[256];
		avro_schema *s =
		    avro_schema_parse(cases[i].schema, strlen(cases[i].schema), err, sizeof err);
		if (!cases[i].pcf) {
			assert_null(s);
			continue;
		}
		if (!s)
			fail_msg("%s: %s", cases[i].schema, err);
		char *pcf = avro_schema_canonical(s);
		assert_string_equal(pcf, cases[i].pcf);
		free(pcf);
		avro_schema_free(s);
	}
}

static void test_fingerprints(void **state)
{
	(void)state;
	/* Known CRC-64-AVRO values of primitive canonical forms. */
	static const struct {
		const char *schema;
		uint64_t fp;
	} cases[] = {
	    {"\"null\"", 0x63dd24e7cc258f8aULL},
	    {"{\"type\":\"int\"}", 0x7275d51a3f395c8fULL},
	    {"\"string\"", 0x8f014872634503c7ULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		avro_schema *s = parse_ok(cases[i].schema);
		assert_true(avro_schema_fingerprint64(s) == cases[i].fp);
		avro_schema_free(s);
	}
	assert_true(avro_crc64("", 0) == 0xc15d213aa4d7a795ULL);
	/* Same canonical form, same fingerprint, whatever the decoration. */
	avro_schema *a = parse_ok("{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\","
	                          "\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":1}]}");
	avro_schema *b = parse_ok("{\"type\":\"record\",\"name\":\"n.R\",\"doc\":\"x\","
	                          "\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"int\"}}]}");
	assert_true(avro_schema_fingerprint64(a) == avro_schema_fingerprint64(b));
	avro_schema_free(a);
	avro_schema_free(b);
}

static void test_to_json_roundtrip(void **state)
{
	(void)state;
	static const char *const schemas[] = {
	    "\"int\"",
	    "{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"com.x\",\"doc\":\"d\","
	    "\"aliases\":[\"Old\"],\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"order\":"
	    "\"ignore\",\"aliases\":[\"ident\"],\"doc\":\"i\",\"custom\":[1]},"
	    "{\"name\":\"next\",\"type\":[\"null\",\"User\"],\"default\":null},"
	    "{\"name\":\"g\",\"type\":{\"type\":\"record\",\"name\":\"G\",\"namespace\":\"\","
	    "\"fields\":[{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
	    "\"symbols\":[\"A\"],\"default\":\"A\"}}]}},"
	    "{\"name\":\"e2\",\"type\":\"E\"},"
	    "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3,\"x\":true}}]}",
	    ("[\"null\",{\"type\":\"map\",\"values\":{\"type\":\"bytes\",\"logicalType\":"
	     "\"decimal\",\"precision\":4}}]"),
	};
	for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
		avro_schema *s = parse_ok(schemas[i]);
		char *js = avro_schema_to_json(s);
		avro_schema *t = parse_ok(js);
		char *js2 = avro_schema_to_json(t);
		assert_string_equal(js, js2);
		char *p1 = avro_schema_canonical(s), *p2 = avro_schema_canonical(t);
		assert_string_equal(p1, p2);
		free(p1);
		free(p2);
		free(js);
		free(js2);
		avro_schema_free(s);
		avro_schema_free(t);
	}
	avro_schema *s = parse_ok(schemas[1]);
	char *js = avro_schema_to_json(s);
	assert_non_null(strstr(js, "\"order\":\"ignore\""));
	assert_non_null(strstr(js, "\"custom\":[1]"));
	assert_non_null(strstr(js, "\"aliases\":[\"com.x.Old\"]"));
	assert_non_null(strstr(js, "\"name\":\"G\",\"namespace\":\"\""));
	assert_non_null(strstr(js, "\"default\":null"));
	free(js);
	avro_schema_free(s);
}

static void test_limits(void **state)
{
	(void)state;
	/* Nesting deeper than AVRO_MAX_DEPTH. */
	size_t depth = AVRO_MAX_DEPTH + 5;
	size_t cap = depth * 40 + 16, n = 0;
	char *t = brook_malloc(cap);
	for (size_t i = 0; i < depth; i++)
		n += (size_t)snprintf(t + n, cap - n, "{\"type\":\"array\",\"items\":");
	n += (size_t)snprintf(t + n, cap - n, "\"int\"");
	for (size_t i = 0; i < depth; i++)
		t[n++] = '}';
	t[n] = 0;
	expect_error(t, "nested deeper");
	free(t);
	/* Larger than AVRO_MAX_SCHEMA_BYTES: refused before parsing. */
	char err[128];
	assert_null(
	    avro_schema_parse("\"int\"", (size_t)AVRO_MAX_SCHEMA_BYTES + 1, err, sizeof err));
	assert_non_null(strstr(err, "larger than the limit"));
	/* A NUL inside the text is not JSON. */
	assert_null(avro_schema_parse("\"int\"\0x", 7, err, sizeof err));
	/* Unions are bounded. */
	brook_buf u = BROOK_BUF_INIT;
	brook_buf_putc(&u, '[');
	for (int i = 0; i <= AVRO_MAX_UNION_BRANCHES; i++)
		brook_buf_printf(&u, "%s{\"type\":\"fixed\",\"name\":\"F%d\",\"size\":1}",
		                 i ? "," : "", i);
	brook_buf_putc(&u, ']');
	expect_error(u.data, "more than the limit");
	brook_buf_release(&u);
	/* errlen 0 is allowed. */
	assert_null(avro_schema_parse("\"x\"", 3, NULL, 0));
	avro_schema_free(NULL);
}

/* A record of 100,000 fields and an enum of 100,000 symbols parse and compare quickly
 * (hashed lookups: quadratic work here would take minutes). */
static void test_large(void **state)
{
	(void)state;
	int n = getenv("BROOK_UNDER_VALGRIND") ? 5000 : 100000;
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_puts(&b, "{\"type\":\"record\",\"name\":\"Big\",\"fields\":[");
	for (int i = 0; i < n; i++)
		brook_buf_printf(&b, "%s{\"name\":\"f%d\",\"type\":\"int\"}", i ? "," : "", i);
	brook_buf_puts(&b, ",{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
	                   "\"symbols\":[");
	for (int i = 0; i < n; i++)
		brook_buf_printf(&b, "%s\"s%d\"", i ? "," : "", i);
	brook_buf_puts(&b, "]}}]}");
	avro_schema *s = parse_ok(b.data);
	avro_schema *t = parse_ok(b.data);
	char last[16];
	snprintf(last, sizeof last, "f%d", n - 1);
	assert_int_equal(avro_schema_field_count(s), (size_t)n + 1);
	assert_int_equal(avro_schema_field_index(s, last), n - 1);
	assert_true(avro_can_read(s, t, NULL));
	char *js = avro_schema_to_json(s);
	free(js);
	avro_schema_free(s);
	avro_schema_free(t);
	brook_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),        cmocka_unit_test(test_valid_defaults),
	    cmocka_unit_test(test_names),         cmocka_unit_test(test_recursion_and_walk),
	    cmocka_unit_test(test_logical_types), cmocka_unit_test(test_canonical_forms),
	    cmocka_unit_test(test_fingerprints),  cmocka_unit_test(test_to_json_roundtrip),
	    cmocka_unit_test(test_limits),        cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
