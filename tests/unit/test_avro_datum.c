/*
 * Unit tests for avro/datum: the specification's encoding examples, every type both
 * ways, records with defaults, unions (branch choice, nesting), a recursive schema,
 * decoder bounds and errors, encoder errors, schema resolution and Confluent framing;
 * then decoding into jdoc nodes: types and member order checked node by node, resolution,
 * every error class with its path, an arena reused across many decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "avro/datum.h"
#include "avro/schema.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/jdoc.h"
#include "core/text.h"

static avro_schema *parse(const char *text)
{
	char err[512] = "";
	avro_schema *s = avro_schema_parse(text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("parse failed: %s\nschema: %s", err, text);
	return s;
}

static json_t *jload(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!v)
		fail_msg("bad JSON in test: %s: %s", text, e.text);
	return v;
}

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	for (const char *p = hex; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		out[n++] = (uint8_t)(brook_hexval(p[0]) << 4 | brook_hexval(p[1]));
		p += 2;
	}
	return n;
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* Encode value (JSON text) with schema; expect hex (no spaces), then decode it back and
 * expect `back` (JSON text; NULL: the value itself). */
static void roundtrip(const char *schema, const char *value, const char *hex, const char *back)
{
	avro_schema *s = parse(schema);
	json_t *v = jload(value);
	brook_buf b = BROOK_BUF_INIT;
	char err[256] = "";
	if (avro_encode(s, v, &b, err, sizeof err) != BROOK_OK)
		fail_msg("encode %s as %s: %s", value, schema, err);
	char got[1024];
	tohex((const uint8_t *)b.data, b.len, got);
	if (strcmp(got, hex))
		fail_msg("encode %s as %s: got %s, want %s", value, schema, got, hex);
	json_t *d = NULL;
	if (avro_decode(s, (const uint8_t *)b.data, b.len, &d, err, sizeof err) != BROOK_OK)
		fail_msg("decode %s as %s: %s", hex, schema, err);
	json_t *want = back ? jload(back) : json_incref(v);
	if (!json_equal(d, want)) {
		char *ds = json_dumps(d, JSON_ENCODE_ANY);
		fail_msg("decode %s as %s: got %s, want %s", hex, schema, ds, back ? back : value);
	}
	json_decref(want);
	json_decref(d);
	json_decref(v);
	brook_buf_release(&b);
	avro_schema_free(s);
}

static void encode_fails(const char *schema, const char *value, const char *msg)
{
	avro_schema *s = parse(schema);
	json_t *v = jload(value);
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_puts(&b, "keep");
	char err[256] = "";
	assert_int_equal(avro_encode(s, v, &b, err, sizeof err), BROOK_ERR);
	if (!strstr(err, msg))
		fail_msg("encode %s as %s: error '%s' lacks '%s'", value, schema, err, msg);
	assert_int_equal(b.len, 4); /* restored */
	json_decref(v);
	brook_buf_release(&b);
	avro_schema_free(s);
}

static void decode_fails(const char *schema, const char *hex, const char *msg)
{
	avro_schema *s = parse(schema);
	uint8_t buf[4096];
	size_t n = unhex(hex, buf);
	json_t *v = (json_t *)1;
	char err[256] = "";
	assert_int_equal(avro_decode(s, buf, n, &v, err, sizeof err), BROOK_ERR);
	assert_null(v);
	if (!strstr(err, msg))
		fail_msg("decode %s as %s: error '%s' lacks '%s'", hex, schema, err, msg);
	avro_schema_free(s);
}

static void decodes(const char *schema, const char *hex, const char *want)
{
	avro_schema *s = parse(schema);
	uint8_t buf[4096];
	size_t n = unhex(hex, buf);
	json_t *v = NULL;
	char err[256] = "";
	if (avro_decode(s, buf, n, &v, err, sizeof err) != BROOK_OK)
		fail_msg("decode %s as %s: %s", hex, schema, err);
	json_t *w = jload(want);
	if (!json_equal(v, w))
		fail_msg("decode %s as %s: got %s", hex, schema, json_dumps(v, JSON_ENCODE_ANY));
	json_decref(w);
	json_decref(v);
	avro_schema_free(s);
}

/* Encode value with writer, decode with reader; want is JSON text or NULL for an error
 * containing msg. */
static void resolves(const char *writer, const char *reader, const char *value, const char *want,
                     const char *msg)
{
	avro_schema *w = parse(writer), *r = parse(reader);
	json_t *v = jload(value);
	brook_buf b = BROOK_BUF_INIT;
	char err[256] = "";
	if (avro_encode(w, v, &b, err, sizeof err) != BROOK_OK)
		fail_msg("encode %s as %s: %s", value, writer, err);
	json_t *out = NULL;
	int rc = avro_decode_resolving(w, r, (const uint8_t *)b.data, b.len, &out, err, sizeof err);
	if (want) {
		if (rc != BROOK_OK)
			fail_msg("resolve %s -> %s: %s", writer, reader, err);
		json_t *wv = jload(want);
		if (!json_equal(out, wv))
			fail_msg("resolve %s -> %s: got %s, want %s", writer, reader,
			         json_dumps(out, JSON_ENCODE_ANY), want);
		json_decref(wv);
	} else {
		assert_int_equal(rc, BROOK_ERR);
		assert_null(out);
		if (!strstr(err, msg))
			fail_msg("resolve %s -> %s: error '%s' lacks '%s'", writer, reader, err,
			         msg);
	}
	json_decref(out);
	json_decref(v);
	brook_buf_release(&b);
	avro_schema_free(w);
	avro_schema_free(r);
}

static void test_spec_examples(void **state)
{
	(void)state;
	roundtrip("\"long\"", "0", "00", NULL);
	roundtrip("\"long\"", "-1", "01", NULL);
	roundtrip("\"long\"", "1", "02", NULL);
	roundtrip("\"long\"", "-2", "03", NULL);
	roundtrip("\"long\"", "2", "04", NULL);
	roundtrip("\"long\"", "-64", "7f", NULL);
	roundtrip("\"long\"", "64", "8001", NULL);
	roundtrip("\"long\"", "9223372036854775807", "feffffffffffffffff01", NULL);
	roundtrip("\"long\"", "-9223372036854775808", "ffffffffffffffffff01", NULL);
	roundtrip("\"string\"", "\"foo\"", "06666f6f", NULL);
	roundtrip("{\"type\":\"array\",\"items\":\"long\"}", "[3, 27]", "04063600", NULL);
	roundtrip("[\"null\",\"string\"]", "\"a\"", "020261", NULL);
	roundtrip("[\"null\",\"string\"]", "null", "00", NULL);
}

static void test_primitives(void **state)
{
	(void)state;
	roundtrip("\"null\"", "null", "", NULL);
	roundtrip("\"boolean\"", "true", "01", NULL);
	roundtrip("\"boolean\"", "false", "00", NULL);
	roundtrip("\"int\"", "2147483647", "feffffff0f", NULL);
	roundtrip("\"int\"", "-2147483648", "ffffffff0f", NULL);
	roundtrip("\"float\"", "1.5", "0000c03f", NULL);
	roundtrip("\"float\"", "2", "00000040", "2.0"); /* integers accepted, reals back */
	roundtrip("\"double\"", "-2.0", "00000000000000c0", NULL);
	roundtrip("\"double\"", "1", "000000000000f03f", "1.0");
	roundtrip("\"string\"", "\"\"", "00", NULL);
	roundtrip("\"string\"", "\"h\\u00e9\"", "0668c3a9", NULL);
	roundtrip("\"string\"", "\"a\\u0000b\"", "06610062", NULL);
	roundtrip("\"bytes\"", "\"\\u0000\\u00ff\\u0080a\"", "0800ff8061", NULL);
	roundtrip("{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}", "\"\\u0001\\u00fe\\u0000\"",
	          "01fe00", NULL);
	roundtrip("{\"type\":\"fixed\",\"name\":\"Z\",\"size\":0}", "\"\"", "", NULL);
	roundtrip("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}", "\"C\"",
	          "04", NULL);
	roundtrip("{\"type\":\"map\",\"values\":\"int\"}", "{\"a\":1,\"b\":-1}", "0402610202620100",
	          NULL);
	roundtrip("{\"type\":\"map\",\"values\":\"int\"}", "{}", "00", NULL);
	roundtrip("{\"type\":\"array\",\"items\":\"null\"}", "[null,null]", "0400", NULL);
}

#define USER                                                                                       \
	"{\"type\":\"record\",\"name\":\"User\",\"fields\":["                                      \
	"{\"name\":\"id\",\"type\":\"long\"},"                                                     \
	"{\"name\":\"email\",\"type\":[\"null\",\"string\"],\"default\":null},"                    \
	"{\"name\":\"score\",\"type\":\"double\",\"default\":1},"                                  \
	"{\"name\":\"raw\",\"type\":\"bytes\",\"default\":\"\\u00ff\"},"                           \
	"{\"name\":\"addr\",\"type\":{\"type\":\"record\",\"name\":\"Addr\",\"fields\":["          \
	"{\"name\":\"city\",\"type\":\"string\"},"                                                 \
	"{\"name\":\"zip\",\"type\":[\"string\",\"null\"],\"default\":\"000\"}]},"                 \
	"\"default\":{\"city\":\"X\"}}]}"

static void test_records_and_defaults(void **state)
{
	(void)state;
	/* everything given */
	roundtrip(USER,
	          "{\"id\":1,\"email\":\"e\",\"score\":2.5,\"raw\":\"\",\"addr\":"
	          "{\"city\":\"P\",\"zip\":null}}",
	          "02020265000000000000044000025002", NULL);
	/* only id: defaults fill the rest; the nested record default fills zip from its own
	 * default; a union default takes the first branch */
	roundtrip(USER, "{\"id\":1}", "0200000000000000f03f02ff02580006303030",
	          "{\"id\":1,\"email\":null,\"score\":1.0,\"raw\":\"\\u00ff\",\"addr\":"
	          "{\"city\":\"X\",\"zip\":\"000\"}}");
	encode_fails(USER, "{\"email\":null}", "missing field 'id'");
	encode_fails(USER, "{\"id\":1,\"addr\":{\"zip\":null}}", "missing field 'city'");
	encode_fails(USER, "{\"id\":1,\"addr\":{\"zip\":null}}", "at /addr");
	encode_fails(USER, "{\"id\":1,\"nope\":2}", "record User has no field 'nope'");
	encode_fails(USER, "{\"id\":1,\"addr\":{\"city\":\"c\",\"x\":1}}", "no field 'x'");
	encode_fails(USER, "[1]", "expected a value of record User, got an array");
}

static void test_unions(void **state)
{
	(void)state;
	const char *num = "[\"null\",\"int\",\"long\",\"double\",\"string\",\"boolean\"]";
	roundtrip(num, "5", "020a", NULL);
	roundtrip(num, "4294967296", "048080808020", NULL);
	roundtrip(num, "0.5", "06000000000000e03f", NULL);
	roundtrip(num, "\"s\"", "080273", NULL);
	roundtrip(num, "true", "0a01", NULL);
	/* a union without int writes integers as double */
	roundtrip("[\"null\",\"double\"]", "3", "020000000000000840", "3.0");
	/* string → enum (symbol must exist) before bytes/fixed */
	const char *sv = "[{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]},"
	                 "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"bytes\"]";
	roundtrip(sv, "\"A\"", "0000", NULL);
	roundtrip(sv, "\"ab\"", "04046162", NULL);
	roundtrip("[\"null\",{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}]", "\"ab\"", "026162",
	          NULL);
	roundtrip(sv, "\"abc\"", "0406616263", NULL);
	/* object → record first, map when the record refuses */
	const char *om = "[{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
	                 "\"type\":\"int\"}]},{\"type\":\"map\",\"values\":\"int\"}]";
	roundtrip(om, "{\"a\":1}", "0002", NULL);
	roundtrip(om, "{\"b\":1}", "020202620200", NULL);
	/* nested: union inside a record inside a union inside an array */
	const char *nested = "{\"type\":\"array\",\"items\":[\"null\",{\"type\":\"record\","
	                     "\"name\":\"P\",\"fields\":[{\"name\":\"v\",\"type\":[\"null\","
	                     "\"long\",{\"type\":\"array\",\"items\":[\"string\",\"null\"]}]}]}]}";
	roundtrip(nested, "[null,{\"v\":7},{\"v\":[\"x\",null]},{\"v\":null}]",
	          "08"
	          "00"
	          "02020e"
	          "0204040002780200"
	          "0200"
	          "00",
	          NULL);
	encode_fails("[\"null\",\"int\"]", "\"s\"", "a string matches no branch");
	encode_fails("[\"null\",\"int\"]", "9999999999", "out of the range of an int");
	decode_fails("[\"null\",\"int\"]", "04", "union branch 2 out of range");
	decode_fails("[\"null\",\"int\"]", "01", "union branch -1 out of range");
}

#define LIST                                                                                       \
	"{\"type\":\"record\",\"name\":\"LongList\",\"fields\":[{\"name\":\"value\","              \
	"\"type\":\"long\"},{\"name\":\"next\",\"type\":[\"null\",\"LongList\"]}]}"

static void test_recursive(void **state)
{
	(void)state;
	roundtrip(LIST, "{\"value\":1,\"next\":{\"value\":2,\"next\":null}}", "02020400", NULL);
	/* deeper than AVRO_DATUM_MAX_DEPTH */
	char hex[2048] = "";
	for (int i = 0; i < 200; i++)
		strcat(hex, "0202");
	strcat(hex, "0000");
	decode_fails(LIST, hex, "nested deeper than");
	brook_buf js = BROOK_BUF_INIT;
	for (int i = 0; i < 200; i++)
		brook_buf_puts(&js, "{\"value\":1,\"next\":");
	brook_buf_puts(&js, "null");
	for (int i = 0; i < 200; i++)
		brook_buf_putc(&js, '}');
	encode_fails(LIST, js.data, "nested deeper than");
	brook_buf_release(&js);
}

static void test_decode_errors(void **state)
{
	(void)state;
	decode_fails("\"long\"", "", "input ends inside a long");
	decode_fails("\"long\"", "80", "input ends inside a long");
	decode_fails("\"long\"", "ffffffffffffffffffff01", "malformed varint");
	decode_fails("\"int\"", "8080808010", "out of the range of an int");
	decode_fails("\"string\"", "0a6162", "length 5 of a string exceeds the 2 bytes left");
	decode_fails("\"string\"", "01", "negative length -1");
	decode_fails("\"bytes\"", "03", "negative length");
	decode_fails("\"string\"", "02ff", "invalid UTF-8");
	decode_fails("\"string\"", "04c0af", "invalid UTF-8");   /* overlong */
	decode_fails("\"string\"", "06eda080", "invalid UTF-8"); /* surrogate */
	decode_fails("\"boolean\"", "02", "not 0 or 1");
	decode_fails("\"float\"", "0000c07f", "not finite");
	decode_fails("\"double\"", "000000000000f07f", "not finite");
	decode_fails("\"double\"", "0000", "input ends inside a double");
	decode_fails("\"long\"", "0200", "1 trailing bytes");
	decode_fails("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "02",
	             "enum index 1 out of range");
	decode_fails("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", "010203",
	             "input ends inside a fixed");
	/* huge counts: more items than the input could hold, even zero-byte ones */
	decode_fails("{\"type\":\"array\",\"items\":\"long\"}", "80808080808080808001",
	             "more than the input can hold");
	decode_fails("{\"type\":\"array\",\"items\":\"null\"}", "8080808001",
	             "more than the input can hold");
	decode_fails("{\"type\":\"map\",\"values\":\"null\"}", "fefffff07f00",
	             "more than the input can hold");
	/* negative counts carry a byte size that must fit */
	decodes("{\"type\":\"array\",\"items\":\"long\"}", "03 04 0636 00", "[3,27]");
	decodes("{\"type\":\"array\",\"items\":\"long\"}", "02 06 01 02 36 00", "[3,27]");
	decode_fails("{\"type\":\"array\",\"items\":\"long\"}", "03 40 0636 00",
	             "block size 32 does not fit");
	decode_fails("{\"type\":\"array\",\"items\":\"long\"}", "03 01 0636 00", "block size -1");
	decode_fails("{\"type\":\"array\",\"items\":\"long\"}", "ffffffffffffffffff01 00",
	             "invalid block count");
	decode_fails("{\"type\":\"array\",\"items\":\"long\"}", "04 06",
	             "input ends inside a long");
	decode_fails("{\"type\":\"map\",\"values\":\"int\"}", "02 02ff 02 00",
	             "invalid UTF-8 in a map key");
	decode_fails("{\"type\":\"map\",\"values\":\"int\"}", "02 0261 02", "block count");
	/* path and byte offset in messages */
	decode_fails(USER, "02 02 02 ff", "invalid UTF-8 in a string at /email (byte 3)");
	decode_fails("{\"type\":\"map\",\"values\":\"int\"}", "02 0400 61 02 00",
	             "map key contains a NUL");
	/* duplicate map keys: the last value wins */
	decodes("{\"type\":\"map\",\"values\":\"int\"}", "04 0261 02 0261 04 00", "{\"a\":2}");
	/* NULL buffer with no bytes */
	avro_schema *s = parse("\"null\"");
	json_t *v = NULL;
	char err[128];
	assert_int_equal(avro_decode(s, NULL, 0, &v, err, sizeof err), BROOK_OK);
	assert_true(json_is_null(v));
	avro_schema_free(s);
}

static void test_encode_errors(void **state)
{
	(void)state;
	encode_fails("\"int\"", "2147483648", "2147483648 is out of the range of an int");
	encode_fails("\"int\"", "-2147483649", "out of the range of an int");
	encode_fails("\"int\"", "1.5", "expected a value of type int, got a real");
	encode_fails("\"float\"", "1e300", "out of the range of a float");
	encode_fails("\"null\"", "0", "expected a value of type null");
	encode_fails("\"boolean\"", "1", "got an integer");
	encode_fails("\"bytes\"", "\"\\u0100\"", "above U+00FF");
	encode_fails("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}", "\"abc\"", "needs 2 bytes");
	encode_fails("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "\"B\"",
	             "'B' is not a symbol of enum E");
	encode_fails("{\"type\":\"array\",\"items\":\"int\"}", "[1,\"x\"]", "at /1");
	encode_fails("{\"type\":\"map\",\"values\":\"int\"}", "{\"k\":null}", "at /k");
	/* jansson's parser refuses such keys; build one by hand */
	avro_schema *s = parse("{\"type\":\"map\",\"values\":\"int\"}");
	json_t *m = json_object();
	json_object_setn_new(m, "a\0b", 3, json_integer(1));
	brook_buf b = BROOK_BUF_INIT;
	char err[256];
	assert_int_equal(avro_encode(s, m, &b, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "map key contains a NUL"));
	assert_int_equal(b.len, 0);
	brook_buf_release(&b);
	json_decref(m);
	avro_schema_free(s);
}

#define V1                                                                                         \
	"{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"},"      \
	"{\"name\":\"name\",\"type\":\"string\"}]}"
#define ENUM3 "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}"

static void test_resolution(void **state)
{
	(void)state;
	/* added field with a default, removed field, promotion */
	resolves(V1,
	         "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"id\",\"type\":"
	         "\"long\"},{\"name\":\"age\",\"type\":\"double\",\"default\":3},{\"name\":"
	         "\"tags\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}],"
	         "\"default\":null}]}",
	         "{\"id\":7,\"name\":\"n\"}", "{\"id\":7,\"age\":3.0,\"tags\":null}", NULL);
	resolves(V1,
	         "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"x\",\"type\":"
	         "\"int\"}]}",
	         "{\"id\":7,\"name\":\"n\"}", NULL, "reader field 'x' is missing");
	/* field aliases, record aliases */
	resolves(V1,
	         "{\"type\":\"record\",\"name\":\"V\",\"aliases\":[\"U\"],\"fields\":[{\"name\":"
	         "\"ident\",\"aliases\":[\"id\"],\"type\":\"float\"}]}",
	         "{\"id\":7,\"name\":\"n\"}", "{\"ident\":7.0}", NULL);
	resolves(V1, "{\"type\":\"record\",\"name\":\"W\",\"fields\":[]}",
	         "{\"id\":7,\"name\":\"n\"}", NULL, "does not match the reader's W");
	resolves("\"int\"", "\"long\"", "-3", "-3", NULL);
	resolves("\"long\"", "\"float\"", "16777217", "16777216.0", NULL);
	resolves("\"float\"", "\"double\"", "0.25", "0.25", NULL);
	resolves("\"string\"", "\"bytes\"", "\"\\u00e9\"", "\"\\u00c3\\u00a9\"", NULL);
	resolves("\"bytes\"", "\"string\"", "\"\\u00c3\\u00a9\"", "\"\\u00e9\"", NULL);
	resolves("\"bytes\"", "\"string\"", "\"\\u00ff\"", NULL, "not valid UTF-8");
	resolves("\"long\"", "\"int\"", "1", NULL, "the writer's long cannot be read as int");
	/* enums */
	resolves(ENUM3, "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"C\",\"A\"]}", "\"C\"",
	         "\"C\"", NULL);
	resolves(ENUM3,
	         "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"Z\"],\"default\":\"Z\"}",
	         "\"B\"", "\"Z\"", NULL);
	resolves(ENUM3, "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "\"B\"", NULL,
	         "symbol 'B' is not in the reader's enum E");
	/* unions on either side */
	resolves("\"int\"", "[\"null\",\"string\",\"long\"]", "5", "5", NULL);
	resolves("\"int\"", "[\"null\",\"double\",\"int\"]", "5", "5", NULL); /* exact first */
	resolves("[\"null\",\"int\"]", "\"long\"", "5", "5", NULL);
	resolves("[\"null\",\"int\"]", "\"long\"", "null", NULL, "the writer's null cannot");
	resolves("[\"null\",\"int\",\"string\"]", "[\"string\",\"null\",\"double\"]", "5", "5.0",
	         NULL);
	resolves("\"string\"", "[\"null\",\"int\"]", "\"s\"", NULL, "has no branch for");
	/* arrays, maps, fixed, recursion */
	resolves("{\"type\":\"array\",\"items\":\"int\"}",
	         "{\"type\":\"array\",\"items\":\"double\"}", "[1,2]", "[1.0,2.0]", NULL);
	resolves("{\"type\":\"map\",\"values\":[\"null\",\"int\"]}",
	         "{\"type\":\"map\",\"values\":[\"null\",\"long\"]}", "{\"a\":1,\"b\":null}",
	         "{\"a\":1,\"b\":null}", NULL);
	resolves("{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}",
	         "{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}", "\"ab\"", NULL, "has size 2");
	resolves(LIST,
	         "{\"type\":\"record\",\"name\":\"LongList\",\"fields\":[{\"name\":\"value\","
	         "\"type\":\"double\"},{\"name\":\"next\",\"type\":[\"null\",\"LongList\"]},"
	         "{\"name\":\"w\",\"type\":\"string\",\"default\":\"d\"}]}",
	         "{\"value\":1,\"next\":{\"value\":2,\"next\":null}}",
	         "{\"value\":1.0,\"next\":{\"value\":2.0,\"next\":null,\"w\":\"d\"},\"w\":\"d\"}",
	         NULL);
	/* truncated data under resolution */
	avro_schema *w = parse(V1), *r = parse(V1);
	uint8_t data[] = {0x02, 0x0a, 'a'};
	json_t *out = NULL;
	char err[256];
	assert_int_equal(avro_decode_resolving(w, r, data, sizeof data, &out, err, sizeof err),
	                 BROOK_ERR);
	assert_non_null(strstr(err, "exceeds"));
	avro_schema_free(w);
	avro_schema_free(r);
}

static void test_confluent(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	const uint8_t payload[] = {0x02, 0x06, 'f', 'o', 'o'};
	avro_confluent_frame(0x01020304, payload, sizeof payload, &b);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "\x00\x01\x02\x03\x04", 5);
	uint32_t id = 0;
	const uint8_t *p = NULL;
	size_t n = 0;
	char err[128];
	assert_int_equal(
	    avro_confluent_unframe((const uint8_t *)b.data, b.len, &id, &p, &n, err, sizeof err),
	    BROOK_OK);
	assert_int_equal(id, 0x01020304);
	assert_int_equal(n, sizeof payload);
	assert_memory_equal(p, payload, n);
	brook_buf_reset(&b);
	avro_confluent_frame(7, NULL, 0, &b);
	assert_int_equal(
	    avro_confluent_unframe((const uint8_t *)b.data, b.len, &id, &p, &n, err, sizeof err),
	    BROOK_OK);
	assert_int_equal(id, 7);
	assert_int_equal(n, 0);
	assert_int_equal(
	    avro_confluent_unframe((const uint8_t *)b.data, 4, &id, &p, &n, err, sizeof err),
	    BROOK_ERR);
	assert_non_null(strstr(err, "shorter"));
	b.data[0] = 1;
	assert_int_equal(
	    avro_confluent_unframe((const uint8_t *)b.data, b.len, &id, &p, &n, err, sizeof err),
	    BROOK_ERR);
	assert_non_null(strstr(err, "magic byte 1"));
	brook_buf_release(&b);
}

/* ---- decoding into jdoc nodes ---- */

/* Decode hex (written with writer) into nodes, resolving to reader when not NULL, and
 * expect the nodes of the JSON text want, types and order included. The input buffer is
 * scribbled over and the schemas freed before the nodes are compared: nothing may point
 * into them. Returns nothing; the arena is the caller's (reused across calls). */
static void jdoc_decodes(brook_arena *a, const char *writer, const char *reader, const char *hex,
                         const char *want)
{
	avro_schema *w = parse(writer), *r = reader ? parse(reader) : NULL;
	uint8_t buf[4096];
	size_t n = unhex(hex, buf);
	const brook_jnode *v = NULL;
	char err[256] = "";
	if (avro_decode_jdoc(w, r, n ? buf : NULL, n, a, &v, err, sizeof err) != BROOK_OK)
		fail_msg("decode %s as %s: %s", hex, writer, err);
	assert_non_null(v);
	memset(buf, 0xaa, sizeof buf);
	avro_schema_free(w);
	avro_schema_free(r);
	brook_arena wa = BROOK_ARENA_INIT;
	const brook_jnode *wv = brook_jdoc_parse(want, strlen(want), &wa, err, sizeof err);
	if (!wv)
		fail_msg("bad JSON in test: %s: %s", want, err);
	if (!brook_jnode_equal(v, wv)) {
		json_t *j = brook_jdoc_to_json(v);
		char *js = json_dumps(j, JSON_ENCODE_ANY);
		fail_msg("decode %s as %s: got %s, want %s", hex, writer, js, want);
	}
	brook_arena_release(&wa);
}

/* Decoding into nodes fails with an error containing msg; *out is NULL. */
static void jdoc_fails(brook_arena *a, const char *writer, const char *reader, const char *hex,
                       const char *msg)
{
	avro_schema *w = parse(writer), *r = reader ? parse(reader) : NULL;
	uint8_t buf[4096];
	size_t n = unhex(hex, buf);
	const brook_jnode *v = (const brook_jnode *)1;
	char err[256] = "";
	assert_int_equal(avro_decode_jdoc(w, r, n ? buf : NULL, n, a, &v, err, sizeof err),
	                 BROOK_ERR);
	assert_null(v);
	if (!strstr(err, msg))
		fail_msg("decode %s as %s -> %s: error '%s' lacks '%s'", hex, writer,
		         reader ? reader : "(plain)", err, msg);
	avro_schema_free(w);
	avro_schema_free(r);
}

#define ADDRESS                                                                                    \
	"{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"name\",\"type\":\"string\"}," \
	"{\"name\":\"address\",\"type\":{\"type\":\"record\",\"name\":\"A\",\"fields\":["          \
	"{\"name\":\"city\",\"type\":\"string\"},{\"name\":\"zip\",\"type\":\"int\"}]}}]}"

static void test_jdoc_plain(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	jdoc_decodes(&a, "\"null\"", NULL, "", "null");
	jdoc_decodes(&a, "\"boolean\"", NULL, "01", "true");
	jdoc_decodes(&a, "\"boolean\"", NULL, "00", "false");
	jdoc_decodes(&a, "\"int\"", NULL, "ffffffff0f", "-2147483648");
	jdoc_decodes(&a, "\"long\"", NULL, "feffffffffffffffff01", "9223372036854775807");
	jdoc_decodes(&a, "\"float\"", NULL, "00000040", "2.0");
	jdoc_decodes(&a, "\"double\"", NULL, "000000000000f03f", "1.0");
	jdoc_decodes(&a, "\"string\"", NULL, "00", "\"\"");
	jdoc_decodes(&a, "\"string\"", NULL, "06610062", "\"a\\u0000b\"");
	jdoc_decodes(&a, "\"string\"", NULL, "0668c3a9", "\"h\\u00e9\"");
	jdoc_decodes(&a, "\"bytes\"", NULL, "0800ff8061", "\"\\u0000\\u00ff\\u0080a\"");
	jdoc_decodes(&a, "{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}", NULL, "01fe00",
	             "\"\\u0001\\u00fe\\u0000\"");
	jdoc_decodes(&a, "{\"type\":\"fixed\",\"name\":\"Z\",\"size\":0}", NULL, "", "\"\"");
	jdoc_decodes(&a, ENUM3, NULL, "04", "\"C\"");
	jdoc_decodes(&a, "{\"type\":\"array\",\"items\":\"long\"}", NULL, "04063600", "[3,27]");
	jdoc_decodes(&a, "{\"type\":\"array\",\"items\":\"long\"}", NULL, "00", "[]");
	/* several blocks, negative counts with sizes */
	jdoc_decodes(&a, "{\"type\":\"array\",\"items\":\"long\"}", NULL,
	             "02 06 01 02 36 03 04 0204 00", "[3,27,1,2]");
	jdoc_decodes(&a, "{\"type\":\"map\",\"values\":\"int\"}", NULL, "0402610202620100",
	             "{\"a\":1,\"b\":-1}");
	jdoc_decodes(&a, "{\"type\":\"map\",\"values\":\"int\"}", NULL, "00", "{}");
	/* a repeated map key stays repeated; lookup and conversion take the last */
	jdoc_decodes(&a, "{\"type\":\"map\",\"values\":\"int\"}", NULL, "04 0261 02 0261 04 00",
	             "{\"a\":1,\"a\":2}");
	jdoc_decodes(&a, "[\"null\",\"string\"]", NULL, "020261", "\"a\"");
	jdoc_decodes(&a, ADDRESS, NULL, "0250 02 58 0e",
	             "{\"name\":\"P\",\"address\":"
	             "{\"city\":\"X\",\"zip\":7}}");
	jdoc_decodes(&a, LIST, NULL, "02020400",
	             "{\"value\":1,\"next\":{\"value\":2,\"next\":null}}");
	/* everything given, in schema order */
	jdoc_decodes(&a, USER, NULL, "02020265000000000000044000025002",
	             "{\"id\":1,\"email\":\"e\",\"score\":2.5,\"raw\":\"\",\"addr\":"
	             "{\"city\":\"P\",\"zip\":null}}");
	brook_arena_release(&a);
}

static void test_jdoc_resolved(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	/* reader order, a dropped field, a promotion, defaults (converted: 3 → 3.0, a union
	 * default, a record default filling its own default) */
	jdoc_decodes(
	    &a, V1,
	    "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"age\",\"type\":"
	    "\"double\",\"default\":3},{\"name\":\"id\",\"type\":\"long\"},{\"name\":"
	    "\"tags\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}],"
	    "\"default\":null},{\"name\":\"addr\",\"type\":{\"type\":\"record\",\"name\":"
	    "\"Addr\",\"fields\":[{\"name\":\"city\",\"type\":\"string\"},{\"name\":\"zip\","
	    "\"type\":[\"string\",\"null\"],\"default\":\"000\"}]},\"default\":"
	    "{\"city\":\"X\"}},{\"name\":\"raw\",\"type\":\"bytes\",\"default\":"
	    "\"\\u00ff\"}]}",
	    "0e 026e",
	    "{\"age\":3.0,\"id\":7,\"tags\":null,\"addr\":{\"city\":\"X\",\"zip\":\"000\"},"
	    "\"raw\":\"\\u00ff\"}");
	/* aliases: record and field */
	jdoc_decodes(
	    &a, V1,
	    "{\"type\":\"record\",\"name\":\"V\",\"aliases\":[\"U\"],\"fields\":[{\"name\":"
	    "\"ident\",\"aliases\":[\"id\"],\"type\":\"float\"}]}",
	    "0e 026e", "{\"ident\":7.0}");
	/* promotions */
	jdoc_decodes(&a, "\"int\"", "\"long\"", "05", "-3");
	jdoc_decodes(&a, "\"int\"", "\"double\"", "05", "-3.0");
	jdoc_decodes(&a, "\"long\"", "\"float\"", "82808010", "16777216.0");
	jdoc_decodes(&a, "\"float\"", "\"double\"", "0000803e", "0.25");
	jdoc_decodes(&a, "\"string\"", "\"bytes\"", "04c3a9", "\"\\u00c3\\u00a9\"");
	jdoc_decodes(&a, "\"bytes\"", "\"string\"", "04c3a9", "\"\\u00e9\"");
	/* enums: by symbol, the reader's default */
	jdoc_decodes(&a, ENUM3, "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"C\",\"A\"]}",
	             "04", "\"C\"");
	jdoc_decodes(
	    &a, ENUM3,
	    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"Z\"],\"default\":\"Z\"}", "02",
	    "\"Z\"");
	/* unions on either side, arrays and maps of resolved values */
	jdoc_decodes(&a, "[\"null\",\"int\",\"string\"]", "[\"string\",\"null\",\"double\"]",
	             "020a", "5.0");
	jdoc_decodes(&a, "\"int\"", "[\"null\",\"double\",\"int\"]", "0a", "5");
	jdoc_decodes(&a, "{\"type\":\"array\",\"items\":\"int\"}",
	             "{\"type\":\"array\",\"items\":\"double\"}", "04020400", "[1.0,2.0]");
	jdoc_decodes(&a, "{\"type\":\"map\",\"values\":[\"null\",\"int\"]}",
	             "{\"type\":\"map\",\"values\":[\"null\",\"long\"]}", "04 0261 0202 0262 00 00",
	             "{\"a\":1,\"b\":null}");
	/* the same schema on both sides */
	jdoc_decodes(&a, USER, USER, "02020265000000000000044000025002",
	             "{\"id\":1,\"email\":\"e\",\"score\":2.5,\"raw\":\"\",\"addr\":"
	             "{\"city\":\"P\",\"zip\":null}}");
	brook_arena_release(&a);
}

static void test_jdoc_errors(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	const char *arr = "{\"type\":\"array\",\"items\":\"long\"}";
	const char *map = "{\"type\":\"map\",\"values\":\"int\"}";
	/* truncation, varints, lengths */
	jdoc_fails(&a, "\"long\"", NULL, "", "input ends inside a long at /");
	jdoc_fails(&a, "\"long\"", NULL, "ffffffffffffffffffff01", "malformed varint");
	jdoc_fails(&a, "\"int\"", NULL, "8080808010", "out of the range of an int");
	jdoc_fails(&a, "\"string\"", NULL, "0a6162", "length 5 of a string exceeds the 2 bytes");
	jdoc_fails(&a, "\"bytes\"", NULL, "03", "negative length -2 for bytes");
	jdoc_fails(&a, "\"double\"", NULL, "0000", "input ends inside a double");
	jdoc_fails(&a, "{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", NULL, "010203",
	           "input ends inside a fixed value (4 bytes needed, 3 left)");
	/* UTF-8 of strings and map keys, NUL in keys */
	jdoc_fails(&a, "\"string\"", NULL, "02ff", "invalid UTF-8 in a string at / (byte 1)");
	jdoc_fails(&a, "\"string\"", NULL, "04c0af", "invalid UTF-8");
	jdoc_fails(&a, "\"string\"", NULL, "06eda080", "invalid UTF-8");
	jdoc_fails(&a, "\"string\"", NULL, "08f4908080", "invalid UTF-8"); /* > U+10FFFF */
	jdoc_fails(&a, map, NULL, "02 02ff 02 00", "invalid UTF-8 in a map key");
	jdoc_fails(&a, map, NULL, "02 0400 61 02 00", "map key contains a NUL character");
	jdoc_fails(&a, "\"bytes\"", "\"string\"", "02ff", "bytes read as a string are not valid");
	/* booleans, indexes, non-finite, trailing bytes */
	jdoc_fails(&a, "\"boolean\"", NULL, "02", "boolean byte is 2, not 0 or 1");
	jdoc_fails(&a, "[\"null\",\"int\"]", NULL, "04", "union branch 2 out of range");
	jdoc_fails(&a, "[\"null\",\"int\"]", NULL, "01", "union branch -1 out of range");
	jdoc_fails(&a, "[\"null\",\"int\"]", "\"int\"", "04", "union branch 2 out of range");
	jdoc_fails(&a, ENUM3, NULL, "06", "enum index 3 out of range for E");
	jdoc_fails(&a, ENUM3, ENUM3, "01", "enum index -1 out of range");
	jdoc_fails(&a, "\"float\"", NULL, "0000c07f", "float is not finite");
	jdoc_fails(&a, "\"double\"", "\"double\"", "000000000000f07f", "not finite");
	jdoc_fails(&a, "\"long\"", NULL, "0200", "1 trailing bytes after the datum");
	jdoc_fails(&a, "\"long\"", "\"double\"", "020000", "2 trailing bytes");
	/* counts: the value cap, block sizes */
	jdoc_fails(&a, arr, NULL, "80808080808080808001", "more than the input can hold");
	jdoc_fails(&a, "{\"type\":\"array\",\"items\":\"null\"}", NULL, "8080808001",
	           "more than the input can hold");
	jdoc_fails(&a, "{\"type\":\"map\",\"values\":\"null\"}", NULL, "fefffff07f00",
	           "more than the input can hold");
	jdoc_fails(&a, arr, "{\"type\":\"array\",\"items\":\"double\"}", "8080808001",
	           "more than the input can hold");
	jdoc_fails(&a, arr, NULL, "03 40 0636 00", "block size 32 does not fit");
	jdoc_fails(&a, arr, NULL, "ffffffffffffffffff01 00", "invalid block count");
	/* zero-byte records of zero-byte fields: a block count the input allows, but three
	 * values per item exhaust the value budget */
	jdoc_fails(&a,
	           "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"R\","
	           "\"fields\":[{\"name\":\"a\",\"type\":\"null\"},{\"name\":\"b\","
	           "\"type\":\"null\"}]}}",
	           NULL, "feff07 00", "too many values for the input size");
	/* depth */
	char deep[2048] = "";
	for (int i = 0; i < 200; i++)
		strcat(deep, "0202");
	strcat(deep, "0000");
	jdoc_fails(&a, LIST, NULL, deep, "nested deeper than 128 levels");
	jdoc_fails(&a, LIST, LIST, deep, "nested deeper than 128 levels");
	/* paths */
	jdoc_fails(&a, ADDRESS, NULL, "0250 02 ff", "invalid UTF-8 in a string at /address/city");
	jdoc_fails(&a, ADDRESS, ADDRESS, "0250 02 58", "input ends inside an int at /address/zip");
	jdoc_fails(&a, arr, NULL, "06 02 04 8080", "input ends inside a long at /2");
	jdoc_fails(&a, map, "{\"type\":\"map\",\"values\":\"string\"}", "02 026b 02 00",
	           "the writer's int cannot be read as string at /k");
	/* resolution failures */
	jdoc_fails(&a, V1,
	           "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"x\","
	           "\"type\":\"int\"}]}",
	           "0e 026e",
	           "reader field 'x' is missing from the "
	           "writer's U and has no default");
	jdoc_fails(&a, V1, "{\"type\":\"record\",\"name\":\"W\",\"fields\":[]}", "0e 026e",
	           "does not match the reader's W");
	jdoc_fails(&a, ENUM3, "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "02",
	           "symbol 'B' is not in the reader's enum E");
	jdoc_fails(&a, "\"string\"", "[\"null\",\"int\"]", "0273", "has no branch for");
	jdoc_fails(&a, "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}",
	           "{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}", "6162", "has size 2");
	brook_arena_release(&a);
}

/* A default the reader type cannot take is reported, not decoded. */
static void test_jdoc_bad_default(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	jdoc_fails(&a, V1,
	           "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"f\",\"type\":"
	           "\"float\",\"default\":1e300}]}",
	           "0e 026e",
	           "default of reader field 'f' is unusable: 1e+300 is out of the range "
	           "of a float");
	brook_arena_release(&a);
}

/* One arena reset between many decodes: a warm arena stops growing, and earlier nodes
 * stay intact until the reset. */
static void test_jdoc_arena_reuse(void **state)
{
	(void)state;
	avro_schema
	    *w = parse(USER),
	    *r = parse(
	        "{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":"
	        "\"long\"},"
	        "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":"
	        "{\"k\":\"v\"}},{\"name\":\"addr\",\"type\":{\"type\":\"record\",\"name\":\"Addr\","
	        "\"fields\":[{\"name\":\"city\",\"type\":\"string\"}]}}]}");
	uint8_t buf[64];
	size_t n = unhex("02020265000000000000044000025002", buf);
	brook_arena a = BROOK_ARENA_INIT;
	char err[256];
	size_t warm = 0;
	const brook_jnode *keep[16];
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 16; i++) {
			if (avro_decode_jdoc(w, i % 2 ? r : NULL, buf, n, &a, &keep[i], err,
			                     sizeof err) != BROOK_OK)
				fail_msg("decode %d: %s", i, err);
		}
		for (int i = 0; i < 16; i++) {
			const brook_jnode *id = brook_jnode_get(keep[i], "id", 2);
			assert_non_null(id);
			assert_int_equal(id->type, BROOK_J_INT);
			assert_int_equal(id->u.i, 1);
			const brook_jnode *city =
			    brook_jnode_get(brook_jnode_get(keep[i], "addr", 4), "city", 4);
			assert_non_null(city);
			assert_string_equal(city->u.s.p, "P");
			const brook_jnode *tags = brook_jnode_get(keep[i], "tags", 4);
			if (i % 2) {
				assert_non_null(tags);
				assert_string_equal(brook_jnode_get(tags, "k", 1)->u.s.p, "v");
			} else {
				assert_null(tags);
			}
		}
		if (round == 10)
			warm = a.total;
		else if (round > 10)
			assert_int_equal(a.total, warm); /* the same work takes the same room */
		brook_arena_reset(&a);
		/* after the first few resets the arena is one chunk that holds a round */
		if (round > 10)
			assert_true(a.head != NULL);
	}
	brook_arena_release(&a);
	avro_schema_free(w);
	avro_schema_free(r);
}

/* The json_t API is the jdoc decoder plus brook_jdoc_to_json: the same result. */
static void test_jdoc_matches_json(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {USER, "0200000000000000f03f02ff02580006303030"},
	    {USER, "02020265000000000000044000025002"},
	    {"{\"type\":\"map\",\"values\":\"int\"}", "06 0261 02 0262 04 0261 06 00"},
	    {"{\"type\":\"array\",\"items\":[\"null\",\"double\",\"bytes\"]}",
	     "06 00 02000000000000e03f 0404ff00 00"},
	};
	brook_arena a = BROOK_ARENA_INIT;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		avro_schema *s = parse(cases[k][0]);
		uint8_t buf[256];
		size_t n = unhex(cases[k][1], buf);
		char err[256];
		const brook_jnode *node;
		json_t *j = NULL;
		assert_int_equal(avro_decode_jdoc(s, NULL, buf, n, &a, &node, err, sizeof err),
		                 BROOK_OK);
		assert_int_equal(avro_decode(s, buf, n, &j, err, sizeof err), BROOK_OK);
		json_t *conv = brook_jdoc_to_json(node);
		assert_true(json_equal(conv, j));
		json_decref(conv);
		json_decref(j);
		avro_schema_free(s);
	}
	brook_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_examples),
	    cmocka_unit_test(test_primitives),
	    cmocka_unit_test(test_records_and_defaults),
	    cmocka_unit_test(test_unions),
	    cmocka_unit_test(test_recursive),
	    cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_resolution),
	    cmocka_unit_test(test_confluent),
	    cmocka_unit_test(test_jdoc_plain),
	    cmocka_unit_test(test_jdoc_resolved),
	    cmocka_unit_test(test_jdoc_errors),
	    cmocka_unit_test(test_jdoc_bad_default),
	    cmocka_unit_test(test_jdoc_arena_reuse),
	    cmocka_unit_test(test_jdoc_matches_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
