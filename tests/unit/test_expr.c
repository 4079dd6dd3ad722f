/* Unit tests for stream/expr: the mapping expression language (parse, type-check, eval). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/jdoc.h"
#include "core/text.h"
#include "stream/expr.h"

static const struct field {
	const char *path;
	expr_type type;
	bool nullable;
} fields[] = {
    {"gender", EXPR_STRING, false},
    {"name.first", EXPR_STRING, false},
    {"name.last", EXPR_STRING, false},
    {"location.street.number", EXPR_ANY, false},
    {"location.street.name", EXPR_STRING, false},
    {"location.city", EXPR_STRING, false},
    {"location.state", EXPR_STRING, false},
    {"location.country", EXPR_STRING, false},
    {"location.postcode", EXPR_ANY, true},
    {"location", EXPR_ANY, true},
    {"email", EXPR_STRING, true},
    {"login.uuid", EXPR_STRING, false},
    {"login.username", EXPR_STRING, false},
    {"dob.date", EXPR_STRING, false},
    {"dob.age", EXPR_INT, false},
    {"n", EXPR_INT, true},
    {"m", EXPR_INT, true},
    {"d", EXPR_DOUBLE, true},
    {"s", EXPR_STRING, true},
    {"b", EXPR_BOOL, true},
    {"ts", EXPR_TIMESTAMP, true},
    {"tsi", EXPR_TIMESTAMP, true},
    {"u", EXPR_UUID, true},
    {"any", EXPR_ANY, true},
    {"anyn", EXPR_ANY, true},
    {"first name", EXPR_STRING, true},
    {"big", EXPR_INT, true},
    {"missing", EXPR_STRING, true},
    {"req", EXPR_STRING, false},
    {"fetched_at", EXPR_INT, false},
    {"end", EXPR_STRING, true},
    {"data.end", EXPR_STRING, true},
};

static int resolve(void *arg, const char *path, expr_type *type, bool *nullable, char *err,
                   size_t errlen)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;

	(void)arg;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (strcmp(fields[i].path, path) == 0) {
			*type = fields[i].type;
			*nullable = fields[i].nullable;
			return BROOK_OK;
		}
		size_t d = brook_edit_distance(path, fields[i].path);
		if (d < bestd) {
			bestd = d;
			best = fields[i].path;
		}
	}
	if (bestd <= 2)
		snprintf(err, errlen, "unknown field '%s' (did you mean '%s'?)", path, best);
	else
		snprintf(err, errlen, "unknown field '%s'", path);
	return BROOK_ERR;
}

static const char *record_json =
    "{\"gender\":\"female\",\"name\":{\"first\":\"Anna\",\"last\":\"Smith\"},"
    "\"location\":{\"street\":{\"number\":12,\"name\":\"High St\"},\"city\":\"Leeds\","
    "\"state\":\"West Yorkshire\",\"country\":\"United Kingdom\",\"postcode\":\"LS1 4AP\"},"
    "\"email\":\"anna@example.com\",\"login\":{\"uuid\":\"d4c4a9a5-2b2d-4d2c-8c55-8f4e1a1c6c70\","
    "\"username\":\"anna1\"},\"dob\":{\"date\":\"1990-05-17T08:30:00.000Z\",\"age\":34},"
    "\"n\":7,\"m\":-3,\"d\":2.5,\"s\":\"Hello\",\"b\":true,\"ts\":\"2024-03-05T10:00:00Z\","
    "\"tsi\":1709632800000,\"u\":\"8C9DDCB0-8084-5A7F-A988-1095AB18B5DF\",\"any\":\"x\","
    "\"anyn\":41,\"first name\":\"Bob\",\"big\":9223372036854775807,\"req\":\"r\","
    "\"fetched_at\":1709632800123456,\"end\":\"fin\",\"data\":{\"end\":\"e\"}}";

static char errbuf[512];
static char outbuf[1024];

static expr *compile(const char *text)
{
	errbuf[0] = '\0';
	return expr_compile(text, resolve, NULL, errbuf, sizeof errbuf);
}

static expr *compile_ok(const char *text)
{
	expr *e = compile(text);
	if (!e)
		fail_msg("compile '%s': %s", text, errbuf);
	return e;
}

static void compile_err(const char *text, const char *want)
{
	expr *e = compile(text);
	if (e) {
		expr_free(e);
		fail_msg("compile '%s' succeeded, wanted error '%s'", text, want);
	}
	if (!strstr(errbuf, want))
		fail_msg("compile '%s': error '%s' lacks '%s'", text, errbuf, want);
}

/* The same evaluation over the document parsed by core/jdoc (expr_eval_node): the
 * text form, "null" or "error: <reason>" in out. */
static void run_node(const expr *e, const char *json, char *out, size_t outlen)
{
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	char why[512];
	expr_value v;
	const brook_jnode *doc = brook_jdoc_parse(json, strlen(json), &a, why, sizeof why);

	if (!doc)
		fail_msg("jdoc parse: %s", why);
	if (expr_eval_node(e, doc, &a, &v, why, sizeof why) != BROOK_OK)
		snprintf(out, outlen, "error: %s", why);
	else if (!expr_value_to_text(&v, &b))
		snprintf(out, outlen, "null");
	else
		snprintf(out, outlen, "%s", b.data);
	brook_buf_release(&b);
	brook_arena_release(&a);
}

/* Evaluates text against json (record_json when NULL): its text form, "null", or
 * "error: <reason>". Evaluating over a jdoc parse of the same text must give the same
 * (except now(), which moves). */
static const char *run_on(const char *text, const char *json)
{
	char node_out[sizeof outbuf];
	json_error_t jerr;
	json_t *rec = json_loads(json ? json : record_json, 0, &jerr);
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	expr_value v;
	expr *e;

	assert_non_null(rec);
	e = compile_ok(text);
	if (expr_eval(e, rec, &a, &v, errbuf, sizeof errbuf) != BROOK_OK) {
		snprintf(outbuf, sizeof outbuf, "error: %s", errbuf);
	} else if (!expr_value_to_text(&v, &b)) {
		assert_int_equal(v.type, EXPR_NULL);
		snprintf(outbuf, sizeof outbuf, "null");
	} else {
		snprintf(outbuf, sizeof outbuf, "%s", b.data);
	}
	/* the static type is honoured */
	if (v.type != EXPR_NULL && expr_result_type(e) != EXPR_ANY &&
	    expr_result_type(e) != EXPR_NULL)
		assert_int_equal(v.type, expr_result_type(e));
	if (v.type == EXPR_NULL && !strstr(outbuf, "error"))
		assert_true(expr_nullable(e));
	if (!strstr(text, "now(")) {
		run_node(e, json ? json : record_json, node_out, sizeof node_out);
		if (strcmp(node_out, outbuf) != 0)
			fail_msg("'%s': jansson gives '%s', jdoc gives '%s'", text, outbuf,
			         node_out);
	}
	brook_buf_release(&b);
	brook_arena_release(&a);
	expr_free(e);
	json_decref(rec);
	return outbuf;
}

static const char *run(const char *text)
{
	return run_on(text, NULL);
}

#define EQ(text, want) assert_string_equal(run(text), want)

static void test_literals(void **state)
{
	(void)state;
	EQ("42", "42");
	EQ("-9223372036854775808", "-9223372036854775808");
	EQ("9223372036854775807", "9223372036854775807");
	EQ("1.5", "1.5");
	EQ("0.1", "0.1");
	EQ("1e3", "1000");
	EQ(".5", "0.5");
	EQ("2.5E-3", "0.0025");
	EQ("'it''s'", "it's");
	EQ("''", "");
	EQ("true", "true");
	EQ("FALSE", "false");
	EQ("null", "null");
	EQ("NULL is null", "true");
	EQ("0.1 + 0.2", "0.30000000000000004");
	EQ("1/3.0", "0.3333333333333333");
	compile_err("9223372036854775808", "column 1: integer literal out of range");
	compile_err("-9223372036854775809", "out of range");
	compile_err("1e999", "column 1: number out of range");
	compile_err("'abc", "column 1: unterminated string");
	compile_err("12abc", "malformed number");
}

static void test_paths(void **state)
{
	(void)state;
	EQ("name.first", "Anna");
	EQ("location.street.number", "12");
	EQ("`first name`", "Bob");
	EQ("data.end", "e");
	EQ("`end`", "fin");
	EQ("n", "7");
	EQ("d", "2.5");
	EQ("b", "true");
	EQ("ts", "2024-03-05T10:00:00.000Z");
	EQ("tsi", "2024-03-05T10:00:00.000Z");
	EQ("u", "8c9ddcb0-8084-5a7f-a988-1095ab18b5df");
	EQ("missing", "null");
	EQ("email", "anna@example.com");
	/* a path through a missing object is null */
	assert_string_equal(run_on("email", "{}"), "null");
	assert_string_equal(run_on("location.postcode", "{\"location\":null}"), "null");
	/* required path missing or null */
	assert_string_equal(run_on("req", "{}"), "error: req: missing");
	assert_string_equal(run_on("req", "{\"req\":null}"), "error: req: null");
	assert_string_equal(run_on("login.uuid", "{\"login\":{\"uuid\":5}}"),
	                    "error: login.uuid: expected string, got number");
	assert_string_equal(run_on("n", "{\"n\":1.5}"),
	                    "error: n: expected int, got a non-integer number");
	assert_string_equal(run_on("n", "{\"n\":\"7\"}"), "error: n: expected int, got string");
	assert_string_equal(run_on("d", "{\"d\":3}"), "3");
	assert_string_equal(run_on("b", "{\"b\":1}"), "error: b: expected boolean, got number");
	assert_string_equal(run_on("ts", "{\"ts\":\"yesterday\"}"),
	                    "error: ts: expected timestamp, got 'yesterday'");
	assert_string_equal(run_on("u", "{\"u\":\"not-a-uuid\"}"),
	                    "error: u: expected uuid, got 'not-a-uuid'");
	assert_string_equal(run_on("location", "{\"location\":{}}"),
	                    "error: location: expected a scalar, got object");
	assert_string_equal(run_on("any", "{\"any\":[1]}"),
	                    "error: any: expected a scalar, got array");
	assert_string_equal(run_on("any", "{\"any\":2.25}"), "2.25");
	assert_string_equal(run_on("any", "{\"any\":false}"), "false");
	assert_string_equal(run_on("name.first", "{\"name\":\"x\"}"),
	                    "error: name.first: 'name' is string, not an object");
	assert_string_equal(run_on("email", "[1,2]"),
	                    "error: email: the record is array, not an object");
	/* compile-time resolution */
	compile_err("name.frist",
	            "column 1: unknown field 'name.frist' (did you mean 'name.first'?)");
	compile_err("upper(nmae.first)", "column 7: unknown field 'nmae.first'");
	compile_err("zzz", "unknown field 'zzz'");
	compile_err("name.", "column 6: expected a field name, got end of expression");
	compile_err("``", "empty `name`");
	compile_err("`abc", "unterminated");
}

static void test_arithmetic(void **state)
{
	(void)state;
	EQ("dob.age + 1", "35");
	EQ("n - 10", "-3");
	EQ("n * 6", "42");
	EQ("n / 2", "3");
	EQ("-7 / 2", "-3");
	EQ("n % 4", "3");
	EQ("-n % 4", "-3");
	EQ("n / 2.0", "3.5");
	EQ("d * 2", "5");
	EQ("d % 1", "0.5");
	EQ("1 + 2 * 3", "7");
	EQ("(1 + 2) * 3", "9");
	EQ("2 - 3 - 4", "-5");
	EQ("-(-n)", "7");
	EQ("- - 3", "3");
	EQ("anyn + 1", "42");
	EQ("anyn + 0.5", "41.5");
	EQ("n + null", "null");
	EQ("missing is null", "true");
	EQ("ts + 1000", "2024-03-05T10:00:01.000Z");
	EQ("1000 + ts", "2024-03-05T10:00:01.000Z");
	EQ("ts - 86400000", "2024-03-04T10:00:00.000Z");
	EQ("ts - timestamp('2024-03-05T09:00:00Z')", "3600000");
	EQ("timestamp(fetched_at / 1000)", "2024-03-05T10:00:00.123Z");
	EQ("big + 1", "error: big + 1: integer overflow");
	EQ("big * 2", "error: big * 2: integer overflow");
	EQ("-big - 2", "error: -big - 2: integer overflow");
	EQ("-9223372036854775808 / -1", "error: -9223372036854775808 / -1: integer overflow");
	EQ("-9223372036854775808 % -1", "0");
	EQ("-(-9223372036854775808)", "error: -(-9223372036854775808): integer overflow");
	EQ("n / 0", "error: n / 0: division by zero");
	EQ("n % 0", "error: n % 0: division by zero");
	EQ("d / 0", "error: d / 0: division by zero");
	EQ("ts + 253402300799999", "error: ts + 253402300799999: timestamp out of range");
	EQ("any + 1", "error: any + 1: operator '+' cannot take string and int");
	EQ("-any", "error: -any: unary '-' needs a number, got string");
	compile_err("s + 1", "column 3: operator '+' cannot take string and int");
	compile_err("n * ts", "operator '*' cannot take int and timestamp");
	compile_err("ts + ts", "operator '+' cannot take timestamp and timestamp");
	compile_err("-s", "column 1: unary '-' needs a number, got string");
	compile_err("b + 1", "cannot take boolean and int");
	compile_err("any * ts", "operator '*' cannot take any and timestamp");
}

static void test_concat_op(void **state)
{
	(void)state;
	EQ("name.first || ' ' || name.last", "Anna Smith");
	EQ("'n=' || n", "n=7");
	EQ("'d=' || d || b", "d=2.5true");
	EQ("s || missing", "null");
	EQ("1 + 2 || 3", "33");
}

static void test_comparisons(void **state)
{
	(void)state;
	EQ("n = 7", "true");
	EQ("n == 7", "true");
	EQ("n != 7", "false");
	EQ("n <> 8", "true");
	EQ("n < 8", "true");
	EQ("n <= 7", "true");
	EQ("n > 7", "false");
	EQ("n >= 8", "false");
	EQ("n = 7.0", "true");
	EQ("d > 2", "true");
	EQ("s = 'Hello'", "true");
	EQ("s < 'Help'", "true");
	EQ("'ab' < 'abc'", "true");
	EQ("'b' > 'abc'", "true");
	EQ("b = true", "true");
	EQ("b != false", "true");
	EQ("ts = tsi", "true");
	EQ("ts < now()", "true");
	EQ("u = uuid('8c9ddcb0-8084-5a7f-a988-1095ab18b5df')", "true");
	EQ("n = null", "null");
	EQ("missing = 'x'", "null");
	EQ("anyn = 41", "true");
	EQ("any = 1", "error: any = 1: cannot compare string with int");
	compile_err("s = 1", "column 3: cannot compare string with int using '='");
	compile_err("b < true", "cannot compare boolean with boolean using '<'");
	compile_err("ts = 'x'", "cannot compare timestamp with string");
	compile_err("u = s", "cannot compare uuid with string");
}

static void test_is_in_between(void **state)
{
	(void)state;
	EQ("email is not null", "true");
	EQ("missing is null", "true");
	EQ("missing IS NOT NULL", "false");
	EQ("n in (1, 7, 9)", "true");
	EQ("n in (1, 2)", "false");
	EQ("n not in (1, 2)", "true");
	EQ("n in (1, null)", "null");
	EQ("n in (7, null)", "true");
	EQ("n not in (1, null)", "null");
	EQ("missing in ('a')", "null");
	EQ("lower(gender) in ('female', 'male')", "true");
	EQ("n in (7.0)", "true");
	EQ("n between 1 and 10", "true");
	EQ("n between 8 and 10", "false");
	EQ("n not between 8 and 10", "true");
	EQ("n between null and 10", "null");
	EQ("n between null and 5", "false");
	EQ("s between 'A' and 'Z'", "true");
	EQ("n between 1 and 10 and b", "true");
	compile_err("n in ('a')", "column 7: cannot compare int with string in 'in'");
	compile_err("n between 's' and 2", "cannot compare int with string in 'between'");
	compile_err("n is 5", "column 6: expected 'null', got '5'");
	compile_err("n not 5", "expected 'in' or 'between'");
	compile_err("n in 5", "expected '('");
	compile_err("n between 1 or 2", "expected 'and'");
}

static void test_logic(void **state)
{
	(void)state;
	/* SQL three-valued logic */
	EQ("true and true", "true");
	EQ("true and false", "false");
	EQ("true and null", "null");
	EQ("false and null", "false");
	EQ("null and false", "false");
	EQ("null and null", "null");
	EQ("true or null", "true");
	EQ("null or true", "true");
	EQ("false or null", "null");
	EQ("false or false", "false");
	EQ("not true", "false");
	EQ("not null", "null");
	EQ("NOT not b", "true");
	EQ("not n = 8", "true");
	EQ("true or false and false", "true");
	EQ("(true or false) and false", "false");
	EQ("email is not null and lower(gender) in ('female', 'male')", "true");
	/* short-circuit: the right side is not evaluated */
	EQ("false and n / 0 = 1", "false");
	EQ("true or n / 0 = 1", "true");
	EQ("any and true", "error: any and true: 'and' needs a boolean, got string");
	compile_err("n and true", "column 1: 'and' needs a boolean, got int");
	compile_err("true or s", "column 9: 'or' needs a boolean, got string");
	compile_err("not s", "'not' needs a boolean, got string");
}

static void test_string_functions(void **state)
{
	(void)state;
	EQ("concat(location.street.number, ' ', location.street.name, ', ', location.city)",
	   "12 High St, Leeds");
	EQ("concat(s, missing, n, null, d, b)", "Hello72.5true");
	EQ("concat(missing)", "");
	EQ("lower('ÀBC Déf')", "Àbc déf");
	EQ("upper(s)", "HELLO");
	EQ("UPPER('straße')", "STRAßE");
	EQ("upper(missing)", "null");
	EQ("trim('  a b \t')", "a b");
	EQ("ltrim('  a ')", "a ");
	EQ("rtrim('  a ')", "  a");
	EQ("trim('   ')", "");
	EQ("length('héllo')", "5");
	EQ("length('')", "0");
	EQ("length(anyn)", "2");
	EQ("substring('hello', 2)", "ello");
	EQ("substring('hello', 2, 3)", "ell");
	EQ("substring('hello', 0, 3)", "he");
	EQ("substring('hello', -5, 3)", "");
	EQ("substring('hello', 4, 100)", "lo");
	EQ("substring('hello', 9)", "");
	EQ("substring('héllo', 2, 2)", "él");
	EQ("substring('hello', 1, 0)", "");
	EQ("substring('hello', 2, -1)",
	   "error: substring('hello', 2, -1): negative substring length -1");
	EQ("substring('hello', 9223372036854775807, 9223372036854775807)", "");
	EQ("replace('a-b-c', '-', '+')", "a+b+c");
	EQ("replace('aaa', 'a', 'bb')", "bbbbbb");
	EQ("replace('abc', '', 'x')", "abc");
	EQ("replace('abcabc', 'bc', '')", "aa");
	EQ("replace('ab', 'abc', 'x')", "ab");
	EQ("split_part('a,b,c', ',', 2)", "b");
	EQ("split_part('a,b,c', ',', 4)", "");
	EQ("split_part('a,b,c', ',', -1)", "c");
	EQ("split_part('a,b,c', ',', -3)", "a");
	EQ("split_part('a,b,c', ',', -4)", "");
	EQ("split_part('a,,c', ',', 2)", "");
	EQ("split_part('abc', '', 1)", "abc");
	EQ("split_part('a::b', '::', 2)", "b");
	EQ("split_part('abc', ',', 0)",
	   "error: split_part('abc', ',', 0): field position must not be zero");
	compile_err("upper(n)", "column 7: upper(): argument 1 must be a string, got int");
	compile_err("substring(s, 'x')",
	            "column 14: substring(): argument 2 must be an int, got string");
	compile_err("substring(s, 1.5)", "argument 2 must be an int, got double");
	compile_err("lower(s, s)", "column 1: lower() takes 1 argument, got 2");
	compile_err("substring(s)", "substring() takes 2 to 3 arguments, got 1");
	compile_err("concat()", "concat() takes at least 1 argument, got 0");
	compile_err("now(1)", "now() takes 0 arguments, got 1");
}

static void test_casts(void **state)
{
	(void)state;
	EQ("string(location.postcode)", "LS1 4AP");
	EQ("string(n)", "7");
	EQ("string(d)", "2.5");
	EQ("string(1e21)", "1e+21");
	EQ("string(123456789.125)", "123456789.125");
	EQ("string(b)", "true");
	EQ("string(ts)", "2024-03-05T10:00:00.000Z");
	EQ("string(u)", "8c9ddcb0-8084-5a7f-a988-1095ab18b5df");
	EQ("string(missing)", "null");
	EQ("int(' 42 ')", "42");
	EQ("int('-2147483648')", "-2147483648");
	EQ("int('2147483648')", "error: int('2147483648'): 2147483648 is out of the int range");
	EQ("int(name.first)", "error: int(name.first): 'Anna' is not an integer");
	EQ("int('')", "error: int(''): '' is not an integer");
	EQ("int(3.9)", "3");
	EQ("int(-3.9)", "-3");
	EQ("int(true)", "1");
	EQ("int(anyn)", "41");
	EQ("bigint('9223372036854775807')", "9223372036854775807");
	EQ("bigint('-9223372036854775808')", "-9223372036854775808");
	EQ("bigint('9223372036854775808')",
	   "error: bigint('9223372036854775808'): '9223372036854775808' is out of range");
	EQ("bigint(1e19)", "error: bigint(1e19): the value is out of range");
	EQ("bigint(ts)", "1709632800000");
}

static void test_casts2(void **state)
{
	(void)state;
	EQ("double('2.5')", "2.5");
	EQ("double(' -1e3 ')", "-1000");
	EQ("double(n)", "7");
	EQ("double('abc')", "error: double('abc'): 'abc' is not a number");
	EQ("double('nan')", "error: double('nan'): 'nan' is not a number");
	EQ("double('0x10')", "error: double('0x10'): '0x10' is not a number");
	EQ("boolean('true')", "true");
	EQ("boolean('YES')", "true");
	EQ("boolean('0')", "false");
	EQ("boolean('no')", "false");
	EQ("boolean(2)", "true");
	EQ("boolean(0.0)", "false");
	EQ("boolean('maybe')", "error: boolean('maybe'): 'maybe' is not a boolean");
	EQ("timestamp('2024-03-05T12:00:00+02:00')", "2024-03-05T10:00:00.000Z");
	EQ("timestamp(0)", "1970-01-01T00:00:00.000Z");
	EQ("timestamp(dob.date)", "1990-05-17T08:30:00.000Z");
	EQ("timestamp('soon')", "error: timestamp('soon'): 'soon' is not an ISO-8601 timestamp");
	EQ("timestamp(9223372036854775807)",
	   "error: timestamp(9223372036854775807): timestamp out of range");
	EQ("uuid(login.uuid)", "d4c4a9a5-2b2d-4d2c-8c55-8f4e1a1c6c70");
	EQ("uuid('x')", "error: uuid('x'): 'x' is not a uuid");
	EQ("int('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')",
	   "error: int('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: "
	   "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not an integer");
	EQ("uuid(any)", "error: uuid(any): 'x' is not a uuid");
	EQ("uuid(anyn)", "error: uuid(anyn): cannot convert int to uuid");
	compile_err("uuid(n)", "column 6: uuid(): cannot convert int to uuid");
	compile_err("timestamp(b)", "timestamp(): cannot convert boolean to timestamp");
	compile_err("boolean(ts)", "boolean(): cannot convert timestamp to boolean");
}

static void test_timestamps(void **state)
{
	(void)state;
	EQ("format_timestamp(ts)", "2024-03-05T10:00:00.000Z");
	EQ("format_timestamp(ts, '%Y-%m-%d %H:%M:%S')", "2024-03-05 10:00:00");
	EQ("format_timestamp(ts + 1234, '%F %T.%f %z %Z %% %j %s')",
	   "2024-03-05 10:00:01.234 +0000 UTC % 065 1709632801");
	EQ("format_timestamp(timestamp(-1), '%F %T.%f')", "1969-12-31 23:59:59.999");
	EQ("format_timestamp(any)",
	   "error: format_timestamp(any): expected a timestamp, got string");
	EQ("format_timestamp(timestamp(dob.date), '%Y')", "1990");
	EQ("parse_timestamp('2024-03-05 10:00:00', '%Y-%m-%d %H:%M:%S')",
	   "2024-03-05T10:00:00.000Z");
	EQ("parse_timestamp('05/03/2024 12:30 +0200', '%d/%m/%Y %H:%M %z')",
	   "2024-03-05T10:30:00.000Z");
	EQ("parse_timestamp('2024-03-05T10:00:00.5Z', '%FT%T.%f%z')", "2024-03-05T10:00:00.500Z");
	EQ("parse_timestamp('1709632800', '%s')", "2024-03-05T10:00:00.000Z");
	EQ("parse_timestamp('2024', '%Y')", "2024-01-01T00:00:00.000Z");
	EQ("parse_timestamp('100%', '100%%')", "1970-01-01T00:00:00.000Z");
	EQ("parse_timestamp('2023-02-29', '%Y-%m-%d')",
	   "error: parse_timestamp('2023-02-29', '%Y-%m-%d'): '2023-02-29' is not a valid date");
	EQ("parse_timestamp('2024-13-01', '%Y-%m-%d')",
	   "error: parse_timestamp('2024-13-01', '%Y-%m-%d'): '2024-13-01' does not match the "
	   "format");
	EQ("parse_timestamp('2024-01-01x', '%Y-%m-%d')",
	   "error: parse_timestamp('2024-01-01x', '%Y-%m-%d'): '2024-01-01x' does not match the "
	   "format");
	EQ("parse_timestamp(s, s)", "1970-01-01T00:00:00.000Z"); /* literal text only */
	EQ("parse_timestamp(s, '%Y')",
	   "error: parse_timestamp(s, '%Y'): 'Hello' does not match the format");
	compile_err("format_timestamp(ts, '%Q')",
	            "column 22: format_timestamp(): unsupported conversion '%Q'");
	compile_err("parse_timestamp(s, '%j')", "unsupported conversion '%j'");
	compile_err("format_timestamp(n)", "argument 1 must be a timestamp, got int");
	EQ("now() > timestamp('2024-01-01')", "true");
}

static void test_uuid5_digest(void **state)
{
	(void)state;
	/* Python: uuid.uuid5(uuid.NAMESPACE_URL, 'http://example.com') */
	EQ("uuid5('url', 'http://example.com')", "8c9ddcb0-8084-5a7f-a988-1095ab18b5df");
	EQ("uuid5('dns', 'python.org')", "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	EQ("uuid5('DNS', 'python.org')", "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	EQ("uuid5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'python.org')",
	   "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	EQ("uuid5(uuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 'python.org')",
	   "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	/* Python: uuid.uuid5(uuid.NAMESPACE_URL, 'd4c4a9a5-2b2d-4d2c-8c55-8f4e1a1c6c70') */
	EQ("uuid5('url', login.uuid)", "519df45a-5bb4-53ff-bcdd-f249cb8975e6");
	EQ("uuid5(any, 'x')", "error: uuid5(any, 'x'): unknown namespace 'x'");
	EQ("uuid5('url', missing)", "null");
	EQ("uuid5('url', 'http://example.com') = u", "true");
	compile_err("uuid5('web', s)", "column 7: uuid5(): unknown namespace 'web'");
	compile_err("uuid5(n, s)", "uuid5(): argument 1 must be a uuid or a string, got int");
	EQ("sha256('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	EQ("sha256(42)", "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049");
	EQ("md5('abc')", "900150983cd24fb0d6963f7d28e17f72");
	EQ("sha256(missing)", "null");
}

static void test_conditionals(void **state)
{
	(void)state;
	EQ("coalesce(missing, s)", "Hello");
	EQ("coalesce(missing, null)", "null");
	EQ("coalesce(n, 1.5)", "7");
	EQ("coalesce(null, n / 0)", "error: n / 0: division by zero");
	EQ("coalesce(n, n / 0)", "7"); /* lazy */
	EQ("if(b, 'yes', 'no')", "yes");
	EQ("if(not b, 'yes', 'no')", "no");
	EQ("if(null, 'yes', 'no')", "no");
	EQ("if(b, n, 0.5)", "7");
	EQ("if(b, 1, n / 0)", "1");
	EQ("case when n > 5 then 'big' when n > 0 then 'small' else 'neg' end", "big");
	EQ("CASE WHEN n > 50 THEN 'big' WHEN n > 0 THEN 'small' END", "small");
	EQ("case when n > 50 then 'big' end", "null");
	EQ("case when null then 1 else 2 end", "2");
	EQ("case when false then 1 else 2.5 end", "2.5");
	EQ("case when true then 1 else 2.5 end", "1");
	EQ("case when any then 1 end",
	   "error: case when any then 1 end: when needs a boolean, got string");
	compile_err("coalesce(n, s)",
	            "column 13: coalesce(): argument 2 is string, which does not match int");
	compile_err("if(n, 1, 2)", "column 4: if() needs a boolean, got int");
	compile_err("if(b, 1, 's')", "if(): argument 3 is string, which does not match int");
	compile_err("case when n then 1 end", "column 11: when needs a boolean, got int");
	compile_err("case when b then 1 else 'x' end",
	            "case branch is string, which does not match int");
	compile_err("case n when 1 then 2 end", "expected 'when'");
	compile_err("case when b then 1", "expected 'when', 'else' or 'end'");
}

static void test_static_types(void **state)
{
	static const struct {
		const char *text;
		expr_type type;
		bool nullable;
	} cases[] = {
	    {"n + 1", EXPR_INT, true},
	    {"dob.age + 1", EXPR_INT, false},
	    {"dob.age + 1.5", EXPR_DOUBLE, false},
	    {"any + 1", EXPR_ANY, true},
	    {"null + 1", EXPR_NULL, true},
	    {"concat(missing)", EXPR_STRING, false},
	    {"coalesce(missing, 'x')", EXPR_STRING, false},
	    {"coalesce(n, 1.5)", EXPR_DOUBLE, false},
	    {"coalesce(n, any)", EXPR_ANY, true},
	    {"if(b, 1, null)", EXPR_INT, true},
	    {"case when b then 1 end", EXPR_INT, true},
	    {"case when b then 1 else 2 end", EXPR_INT, false},
	    {"email is null", EXPR_BOOL, false},
	    {"ts - ts", EXPR_INT, true},
	    {"ts + 1", EXPR_TIMESTAMP, true},
	    {"now()", EXPR_TIMESTAMP, false},
	    {"uuid5('url', login.uuid)", EXPR_UUID, false},
	    {"string(location.postcode)", EXPR_STRING, true},
	    {"abs(m)", EXPR_INT, true},
	    {"round(d)", EXPR_DOUBLE, true},
	    {"greatest(n, d)", EXPR_DOUBLE, true},
	    {"greatest(dob.age, n)", EXPR_INT, false},
	    {"name.first", EXPR_STRING, false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		expr *e = compile_ok(cases[i].text);
		if (expr_result_type(e) != cases[i].type || expr_nullable(e) != cases[i].nullable)
			fail_msg("%s: got %s%s", cases[i].text, expr_type_name(expr_result_type(e)),
			         expr_nullable(e) ? " nullable" : "");
		expr_free(e);
	}
	assert_string_equal(expr_type_name(EXPR_BOOL), "boolean");
	assert_string_equal(expr_type_name(EXPR_ANY), "any");
}

static void test_numeric_functions(void **state)
{
	(void)state;
	EQ("abs(m)", "3");
	EQ("abs(-2.5)", "2.5");
	EQ("abs(-9223372036854775808)", "error: abs(-9223372036854775808): integer overflow");
	EQ("floor(d)", "2");
	EQ("ceil(d)", "3");
	EQ("floor(-2.5)", "-3");
	EQ("floor(n)", "7");
	EQ("round(d)", "3");
	EQ("round(-2.5)", "-3");
	EQ("round(3.14159, 2)", "3.14");
	EQ("round(1234.5, -2)", "1200");
	EQ("round(1250, -2)", "1300");
	EQ("round(-1250, -2)", "-1300");
	EQ("round(-1249, -2)", "-1200");
	EQ("round(n, 2)", "7");
	EQ("round(9223372036854775807, -1)",
	   "error: round(9223372036854775807, -1): integer overflow");
	EQ("round(7, -30)", "0");
	EQ("round(anyn, -1)", "40");
	EQ("round(any)", "error: round(any): argument 1 must be a number, got string");
	EQ("greatest(1, 5, 3)", "5");
	EQ("least(4, 2.5, 3)", "2.5");
	EQ("greatest(1, 5.5)", "5.5");
	EQ("least(2, 5.5)", "2");
}

static void test_numeric_functions2(void **state)
{
	(void)state;
	EQ("greatest('b', 'abc', s)", "b");
	EQ("least(ts, tsi - 1)", "2024-03-05T09:59:59.999Z");
	EQ("greatest(null, null)", "null");
	EQ("greatest(null, 2)", "2");
	compile_err("greatest(1, 's')",
	            "greatest(): argument 2 is string, which does not match int");
	compile_err("least(b, b)", "column 7: least(): argument 1 is boolean, which has no order");
	compile_err("abs(s)", "abs(): argument 1 must be a number, got string");
}

static void test_syntax_errors(void **state)
{
	char deep[800], many[4000];
	size_t k = 0;
	(void)state;
	compile_err("", "column 1: empty expression");
	compile_err("   ", "empty expression");
	compile_err("uper(s)", "column 1: unknown function 'uper' (did you mean 'upper'?)");
	compile_err("  frobnicate(s)", "column 3: unknown function 'frobnicate'");
	compile_err("n +", "column 4: expected an expression, got end of expression");
	compile_err("(n + 1", "column 7: expected ')', got end of expression");
	compile_err("n + 1)", "column 6: unexpected ')'");
	compile_err("n = 1 = 2", "column 7: unexpected '='");
	compile_err("n # 1", "column 3: unexpected character '#'");
	compile_err("n | 1", "did you mean '||'?");
	compile_err("n ! 1", "column 3: unexpected '!'");
	compile_err("lower(s,)", "column 9: expected an expression, got ')'");
	compile_err("lower(s s)", "column 9: expected ',' or ')', got 's'");
	compile_err("and", "column 1: expected an expression, got keyword 'and'");
	compile_err("n\x01", "column 2: unexpected byte 0x01");
	compile_err("n in ()", "column 7: expected an expression, got ')'");
	/* nesting limit: an error, not a stack overflow */
	for (int i = 0; i < 100; i++)
		deep[k++] = '(';
	deep[k++] = '1';
	for (int i = 0; i < 100; i++)
		deep[k++] = ')';
	deep[k] = '\0';
	compile_err(deep, "nested deeper than 64 levels");
	compile_err("-------------------------------------------------------------------------n",
	            "nested deeper than 64 levels");
	k = 0;
	for (int i = 0; i < 80; i++)
		k += (size_t)sprintf(deep + k, "not ");
	sprintf(deep + k, "b");
	compile_err(deep, "nested deeper than 64 levels");
	/* 64 levels are fine, 65 are not; parentheses, calls and `in` lists alike */
	k = 0;
	for (int i = 0; i < 64; i++)
		deep[k++] = '(';
	deep[k++] = '1';
	for (int i = 0; i < 64; i++)
		deep[k++] = ')';
	deep[k] = '\0';
	EQ(deep, "1");
	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '(';
	strcat(deep, ")");
	compile_err(deep, "column 66: expression nested deeper than 64 levels");
	k = 0;
	for (int i = 0; i < 64; i++)
		k += (size_t)sprintf(deep + k, "abs(");
	k += (size_t)sprintf(deep + k, "-1");
	for (int i = 0; i < 64; i++)
		deep[k++] = ')';
	deep[k] = '\0';
	EQ(deep, "1");
	k = 0;
	for (int i = 0; i < 65; i++)
		k += (size_t)sprintf(deep + k, "abs(");
	k += (size_t)sprintf(deep + k, "-1");
	for (int i = 0; i < 65; i++)
		deep[k++] = ')';
	deep[k] = '\0';
	compile_err(deep, "nested deeper than 64 levels");
	/* a long operator chain: bounded height */
	k = 0;
	for (int i = 0; i < 1500; i++)
		k += (size_t)sprintf(many + k, "1+");
	sprintf(many + k, "1");
	compile_err(many, "expression too complex");
	k = 0;
	for (int i = 0; i < 500; i++)
		k += (size_t)sprintf(many + k, "1+");
	sprintf(many + k, "1");
	EQ(many, "501");
	/* too many arguments */
	k = (size_t)sprintf(many, "concat(");
	for (int i = 0; i < 300; i++)
		k += (size_t)sprintf(many + k, "'a',");
	sprintf(many + k, "'b')");
	compile_err(many, "concat(): more than 256 arguments");
	/* too long */
	{
		char *big = malloc(EXPR_MAX_TEXT + 2);
		memset(big, '1', EXPR_MAX_TEXT + 1);
		big[EXPR_MAX_TEXT + 1] = '\0';
		compile_err(big, "expression longer than 65536 bytes");
		free(big);
	}
}

/* Strings are bounded (16 MiB each, 64 MiB of arena per evaluation): an error, not OOM. */
static void test_memory_limits(void **state)
{
	char ten[200], text[2000];
	size_t k = 0;
	(void)state;
	/* 10 'a' times 10 six times: 10 MB */
	k = 0;
	for (int i = 0; i < 6; i++)
		k += (size_t)sprintf(ten + k, "replace(");
	k += (size_t)sprintf(ten + k, "'aaaaaaaaaa'");
	for (int i = 0; i < 6; i++)
		k += (size_t)sprintf(ten + k, ", 'a', 'aaaaaaaaaa')");
	snprintf(text, sizeof text, "length(%s)", ten);
	EQ(text, "10000000");
	snprintf(text, sizeof text, "replace(%s, 'a', 'aa')", ten);
	assert_non_null(strstr(run(text), "result longer than 16777216 bytes"));
	k = (size_t)sprintf(text, "length(concat(");
	for (int i = 0; i < 7; i++)
		k += (size_t)sprintf(text + k, "%s%s", i ? ", " : "", ten);
	sprintf(text + k, "))");
	assert_non_null(strstr(run(text), "the expression needs more than 67108864 bytes"));
}

/* The reference pipeline's own mapping (config/brook.yaml) on a randomuser record. */
static void test_reference_mapping(void **state)
{
	static const char *const rec_int =
	    "{\"gender\":\"male\",\"name\":{\"title\":\"Mr\",\"first\":\"Jean\",\"last\":\"Roux\"},"
	    "\"location\":{\"street\":{\"number\":4821,\"name\":\"Rue de la Paix\"},"
	    "\"city\":\"Lyon\",\"state\":\"Rhône\",\"country\":\"France\",\"postcode\":69001},"
	    "\"email\":\"jean.roux@example.com\","
	    "\"login\":{\"uuid\":\"d4c4a9a5-2b2d-4d2c-8c55-8f4e1a1c6c70\",\"username\":\"bluecat\"}"
	    ","
	    "\"dob\":{\"date\":\"1980-01-02T03:04:05.678Z\",\"age\":44}}";
	static const char *const rec_str =
	    "{\"gender\":\"male\",\"name\":{\"title\":\"Mr\",\"first\":\"Jean\",\"last\":\"Roux\"},"
	    "\"location\":{\"street\":{\"number\":4821,\"name\":\"Rue de la Paix\"},"
	    "\"city\":\"Lyon\",\"state\":\"Rhône\",\"country\":\"France\",\"postcode\":\"69001\"},"
	    "\"email\":null,"
	    "\"login\":{\"uuid\":\"d4c4a9a5-2b2d-4d2c-8c55-8f4e1a1c6c70\",\"username\":\"bluecat\"}"
	    ","
	    "\"dob\":{\"date\":\"1980-01-02T03:04:05.678Z\",\"age\":44}}";
	(void)state;
	assert_string_equal(run_on("uuid5('url', login.uuid)", rec_int),
	                    "519df45a-5bb4-53ff-bcdd-f249cb8975e6");
	assert_string_equal(run_on("concat(location.street.number, ' ', location.street.name, "
	                           "', ', location.city, ', ', location.state, ', ', "
	                           "location.country)",
	                           rec_int),
	                    "4821 Rue de la Paix, Lyon, Rhône, France");
	assert_string_equal(run_on("string(location.postcode)", rec_int), "69001");
	assert_string_equal(run_on("string(location.postcode)", rec_str), "69001");
	assert_string_equal(run_on("dob.age + 1", rec_int), "45");
	assert_string_equal(
	    run_on("email is not null and lower(gender) in ('female', 'male')", rec_int), "true");
	assert_string_equal(
	    run_on("email is not null and lower(gender) in ('female', 'male')", rec_str), "false");
	assert_string_equal(run_on("string(location.postcode)", "{\"location\":{}}"), "null");
}

/* A value's fields, not just its text form. */
static void test_values(void **state)
{
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	json_t *rec = json_loads(record_json, 0, NULL);
	expr_value v;
	expr *e;
	(void)state;

	e = compile_ok("name.first");
	assert_int_equal(expr_eval(e, rec, &a, &v, errbuf, sizeof errbuf), BROOK_OK);
	assert_int_equal(v.type, EXPR_STRING);
	/* strings read from the record point into it */
	assert_ptr_equal(v.u.s.p,
	                 json_string_value(json_object_get(json_object_get(rec, "name"), "first")));
	expr_free(e);
	e = compile_ok("timestamp('2024-03-05T10:00:00Z')");
	assert_int_equal(expr_eval(e, rec, &a, &v, errbuf, sizeof errbuf), BROOK_OK);
	assert_int_equal(v.type, EXPR_TIMESTAMP);
	assert_true(v.u.ts_ms == INT64_C(1709632800000));
	expr_free(e);
	e = compile_ok("coalesce(n, 1.5)");
	assert_int_equal(expr_eval(e, rec, &a, &v, errbuf, sizeof errbuf), BROOK_OK);
	assert_int_equal(v.type, EXPR_DOUBLE);
	assert_true(v.u.d == 7.0);
	expr_free(e);
	/* evaluating again and again reuses the arena */
	e = compile_ok("upper(name.first) || '-' || n");
	for (int i = 0; i < 1000; i++) {
		brook_arena_reset(&a);
		assert_int_equal(expr_eval(e, rec, &a, &v, errbuf, sizeof errbuf), BROOK_OK);
	}
	assert_true(expr_value_to_text(&v, &b));
	assert_string_equal(b.data, "ANNA-7");
	expr_free(e);
	/* text forms */
	brook_buf_reset(&b);
	v.type = EXPR_NULL;
	assert_false(expr_value_to_text(&v, &b));
	assert_int_equal(b.len, 0);
	v.type = EXPR_DOUBLE;
	v.u.d = 1.0 / 0.0;
	assert_true(expr_value_to_text(&v, &b));
	assert_string_equal(b.data, "Infinity");
	brook_buf_reset(&b);
	v.u.d = -0.0;
	assert_true(expr_value_to_text(&v, &b));
	assert_string_equal(b.data, "-0");
	brook_buf_reset(&b);
	v.u.d = 1e-7;
	assert_true(expr_value_to_text(&v, &b));
	assert_string_equal(b.data, "1e-07");
	brook_buf_reset(&b);
	v.type = EXPR_STRING;
	v.u.s.p = NULL;
	v.u.s.n = 0;
	assert_true(expr_value_to_text(&v, &b));
	assert_string_equal(b.data, "");
	/* over a jdoc document: strings point into its nodes; a NULL record is empty */
	{
		brook_arena da = BROOK_ARENA_INIT;
		const brook_jnode *doc = brook_jdoc_parse(record_json, strlen(record_json), &da,
		                                          errbuf, sizeof errbuf);
		assert_non_null(doc);
		e = compile_ok("name.first");
		assert_int_equal(expr_eval_node(e, doc, &a, &v, errbuf, sizeof errbuf), BROOK_OK);
		assert_ptr_equal(v.u.s.p, brook_jnode_get(brook_jnode_get(doc, "name", 4), "first",
		                                          5)->u.s.p);
		assert_int_equal(expr_eval_node(e, NULL, &a, &v, errbuf, sizeof errbuf), BROOK_ERR);
		assert_string_equal(errbuf, "name.first: missing");
		expr_free(e);
		e = compile_ok("coalesce(email, 'none')");
		assert_int_equal(expr_eval_node(e, NULL, &a, &v, errbuf, sizeof errbuf), BROOK_OK);
		assert_true(v.type == EXPR_STRING && v.u.s.n == 4);
		expr_free(e);
		brook_arena_release(&da);
	}
	/* errlen 0 is allowed */
	e = compile_ok("n / 0");
	assert_int_equal(expr_eval(e, rec, &a, &v, NULL, 0), BROOK_ERR);
	expr_free(e);
	assert_null(expr_compile("n +", resolve, NULL, NULL, 0));
	brook_buf_release(&b);
	brook_arena_release(&a);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_arithmetic),
	    cmocka_unit_test(test_concat_op),
	    cmocka_unit_test(test_comparisons),
	    cmocka_unit_test(test_is_in_between),
	    cmocka_unit_test(test_logic),
	    cmocka_unit_test(test_string_functions),
	    cmocka_unit_test(test_casts),
	    cmocka_unit_test(test_casts2),
	    cmocka_unit_test(test_timestamps),
	    cmocka_unit_test(test_uuid5_digest),
	    cmocka_unit_test(test_conditionals),
	    cmocka_unit_test(test_static_types),
	    cmocka_unit_test(test_numeric_functions),
	    cmocka_unit_test(test_numeric_functions2),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_memory_limits),
	    cmocka_unit_test(test_reference_mapping),
	    cmocka_unit_test(test_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
