/* Unit tests for core/jdoc: the arena JSON document (parse, lookup, jansson conversion
 * both ways). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/jdoc.h"

static brook_arena arena = BROOK_ARENA_INIT;
static char err[256];

static const brook_jnode *parse(const char *text)
{
	err[0] = '\0';
	return brook_jdoc_parse(text, strlen(text), &arena, err, sizeof err);
}

static const brook_jnode *parse_ok(const char *text)
{
	const brook_jnode *n = parse(text);
	if (!n)
		fail_msg("parse '%s': %s", text, err);
	return n;
}

static void parse_err(const char *text, size_t len, const char *want)
{
	err[0] = '\0';
	if (brook_jdoc_parse(text, len, &arena, err, sizeof err))
		fail_msg("parse '%.*s' succeeded, wanted '%s'", (int)len, text, want);
	if (!strstr(err, want))
		fail_msg("parse '%.*s': error '%s' lacks '%s'", (int)len, text, err, want);
}

static const brook_jnode *get(const brook_jnode *o, const char *k)
{
	return brook_jnode_get(o, k, strlen(k));
}

static int teardown(void **state)
{
	(void)state;
	brook_arena_release(&arena);
	return 0;
}

static void test_scalars(void **state)
{
	const brook_jnode *n;
	(void)state;
	assert_int_equal(parse_ok("null")->type, BROOK_J_NULL);
	assert_int_equal(parse_ok(" true ")->type, BROOK_J_TRUE);
	assert_int_equal(parse_ok("false\n")->type, BROOK_J_FALSE);
	n = parse_ok("42");
	assert_int_equal(n->type, BROOK_J_INT);
	assert_true(n->u.i == 42);
	n = parse_ok("-9223372036854775808");
	assert_int_equal(n->type, BROOK_J_INT);
	assert_true(n->u.i == INT64_MIN);
	n = parse_ok("9223372036854775807");
	assert_int_equal(n->type, BROOK_J_INT);
	assert_true(n->u.i == INT64_MAX);
	n = parse_ok("-0");
	assert_int_equal(n->type, BROOK_J_INT);
	assert_true(n->u.i == 0);
	n = parse_ok("2.5");
	assert_int_equal(n->type, BROOK_J_REAL);
	assert_true(n->u.d == 2.5);
	n = parse_ok("1e3");
	assert_int_equal(n->type, BROOK_J_REAL);
	assert_true(n->u.d == 1000.0);
	n = parse_ok("-1.5E-2");
	assert_true(n->type == BROOK_J_REAL && n->u.d == -0.015);
	n = parse_ok("\"hi\"");
	assert_int_equal(n->type, BROOK_J_STRING);
	assert_int_equal(n->u.s.n, 2);
	assert_string_equal(n->u.s.p, "hi");
	n = parse_ok("\"\"");
	assert_int_equal(n->u.s.n, 0);
	assert_string_equal(n->u.s.p, "");
	n = parse_ok("\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"");
	assert_string_equal(n->u.s.p, "a\"b\\c/d\n\t\r\b\f");
	assert_string_equal(brook_jtype_kind(BROOK_J_INT), "number");
	assert_string_equal(brook_jtype_kind(BROOK_J_TRUE), "boolean");
	assert_string_equal(brook_jtype_kind(BROOK_J_OBJECT), "object");
}

static void test_big_numbers(void **state)
{
	const brook_jnode *n;
	(void)state;
	n = parse_ok("9223372036854775808");
	assert_int_equal(n->type, BROOK_J_REAL);
	assert_true(n->u.d == 9223372036854775808.0);
	n = parse_ok("-9223372036854775809");
	assert_int_equal(n->type, BROOK_J_REAL);
	n = parse_ok("123456789012345678901234567890123456789012345678901234567890123456789012345");
	assert_int_equal(n->type, BROOK_J_REAL);
	assert_true(n->u.d > 1.2e74 && n->u.d < 1.3e74);
	n = parse_ok("1e-400"); /* underflow is zero, as in jansson */
	assert_true(n->type == BROOK_J_REAL && n->u.d == 0.0);
	parse_err("1e400", 5, "real number overflow");
	parse_err("[1, -1e999]", 11, "real number overflow");
}

static void test_nesting(void **state)
{
	const brook_jnode *n, *x;
	(void)state;
	n = parse_ok("{\"a\":{\"b\":[1,{\"c\":\"d\"},[]],\"e\":{}},\"f\":[true,null],\"g\":3}");
	assert_int_equal(n->type, BROOK_J_OBJECT);
	assert_int_equal(n->u.o.n, 3);
	assert_string_equal(n->u.o.keys[0], "a");
	assert_string_equal(n->u.o.keys[1], "f");
	assert_string_equal(n->u.o.keys[2], "g");
	x = get(get(n, "a"), "b");
	assert_int_equal(x->type, BROOK_J_ARRAY);
	assert_int_equal(x->u.a.n, 3);
	assert_true(x->u.a.items[0]->u.i == 1);
	assert_string_equal(get(x->u.a.items[1], "c")->u.s.p, "d");
	assert_int_equal(x->u.a.items[2]->type, BROOK_J_ARRAY);
	assert_int_equal(x->u.a.items[2]->u.a.n, 0);
	x = get(get(n, "a"), "e");
	assert_int_equal(x->type, BROOK_J_OBJECT);
	assert_int_equal(x->u.o.n, 0);
	assert_null(get(x, "z"));
	x = get(n, "f");
	assert_int_equal(x->u.a.n, 2);
	assert_int_equal(x->u.a.items[0]->type, BROOK_J_TRUE);
	assert_int_equal(x->u.a.items[1]->type, BROOK_J_NULL);
	assert_true(get(n, "g")->u.i == 3);
	/* the key after a nested container is its own, not the container's last key */
	n = parse_ok("{\"o\":{\"in\":1},\"p\":2}");
	assert_true(get(n, "p")->u.i == 2);
	assert_true(get(get(n, "o"), "in")->u.i == 1);
	assert_null(get(n, "in"));
	/* lookups need an object */
	assert_null(get(parse_ok("[1]"), "a"));
	assert_null(brook_jnode_get(NULL, "a", 1));
	assert_int_equal(parse_ok("{}")->u.o.n, 0);
	assert_int_equal(parse_ok("[]")->u.a.n, 0);
	assert_int_equal(parse_ok("[[[]]]")->u.a.items[0]->u.a.items[0]->u.a.n, 0);
}

static void test_unicode(void **state)
{
	const brook_jnode *n;
	(void)state;
	n = parse_ok("\"caf\\u00e9\"");
	assert_string_equal(n->u.s.p, "caf\xc3\xa9");
	n = parse_ok("\"\\ud83d\\ude00\""); /* U+1F600 from a surrogate pair */
	assert_string_equal(n->u.s.p, "\xf0\x9f\x98\x80");
	n = parse_ok("\"\xe2\x82\xac \xf0\x9f\x98\x80\""); /* raw UTF-8 */
	assert_int_equal(n->u.s.n, 8);
	n = parse_ok("{\"cl\\u00e9\":1}");
	assert_true(get(n, "cl\xc3\xa9")->u.i == 1);
	/* \u0000 is kept, with its length (jansson refuses it) */
	n = parse_ok("\"a\\u0000b\"");
	assert_int_equal(n->u.s.n, 3);
	assert_memory_equal(n->u.s.p, "a\0b", 4);
	/* lone or mis-paired surrogate escapes */
	parse_err("\"\\ud800\"", 8, "unpaired surrogate escape at byte 1");
	parse_err("\"\\ud800x\"", 9, "unpaired surrogate escape");
	parse_err("\"\\ud800\\u0041\"", 14, "unpaired surrogate escape");
	parse_err("[\"\\udc00\"]", 10, "invalid UTF-8 in a string"); /* decoded as ED B0 80 */
	/* a backslash-u in an escaped backslash is not an escape */
	n = parse_ok("\"\\\\ud800\"");
	assert_string_equal(n->u.s.p, "\\ud800");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	parse_err("\"\xff\"", 3, "invalid UTF-8 in a string");
	parse_err("\"\xc3\"", 3, "invalid UTF-8");
	parse_err("\"\xc0\xaf\"", 4, "invalid UTF-8");              /* overlong */
	parse_err("\"\xed\xa0\x80\"", 5, "invalid UTF-8");          /* encoded surrogate */
	parse_err("\"\xf4\x90\x80\x80\"", 6, "invalid UTF-8");      /* past U+10FFFF */
	parse_err("{\"\xe2\x82\":1}", 8, "invalid UTF-8 in a key"); /* truncated */
	parse_err("\"abcdefgh\x80\"", 11, "invalid UTF-8");         /* after the fast path */
}

static void test_errors(void **state)
{
	char deep[600];
	(void)state;
	parse_err("", 0, "premature EOF at byte 0");
	parse_err("  ", 2, "");
	parse_err("{} x", 4, "trailing garbage");
	parse_err("{}{}", 4, "trailing garbage");
	parse_err("1 2", 3, "");
	parse_err("{} \"abc", 7, "trailing garbage");
	parse_err("{\"a\":1", 6, "");
	parse_err("{\"a\" 1}", 7, "at byte");
	parse_err("[1,]", 4, "");
	parse_err("{\"a\":1,}", 8, "");
	parse_err("01", 2, "");
	parse_err("nul", 3, "");
	parse_err("/* c */ 1", 9, "");
	parse_err("[1]\f", 4, "invalid whitespace at byte 3");
	parse_err("[\v1]", 4, "invalid whitespace");
	parse_err("[1]\0", 4, "NUL byte at byte 3");
	parse_err("\"a\tb\"", 5, "");
	/* depth: 128 is fine, 129 is not */
	for (int i = 0; i < 128; i++) {
		deep[i] = '[';
		deep[128 + i] = ']';
	}
	assert_non_null(brook_jdoc_parse(deep, 256, &arena, err, sizeof err));
	for (int i = 0; i < 129; i++) {
		deep[i] = '[';
		deep[129 + i] = ']';
	}
	parse_err(deep, 258, "nesting deeper than 128");
	for (int i = 0; i < 300; i++)
		deep[i] = i % 2 ? '[' : '{';
	parse_err(deep, 300, "");
	/* errlen 0 is allowed */
	assert_null(brook_jdoc_parse("[", 1, &arena, NULL, 0));
}

static void test_duplicates(void **state)
{
	const brook_jnode *n;
	(void)state;
	n = parse_ok("{\"a\":1,\"b\":2,\"a\":3}");
	assert_int_equal(n->u.o.n, 3);
	assert_true(get(n, "a")->u.i == 3);
	assert_true(get(n, "b")->u.i == 2);
	/* keys are compared with their length */
	n = parse_ok("{\"a\\u0000b\":1,\"a\":2}");
	assert_true(brook_jnode_get(n, "a\0b", 3)->u.i == 1);
	assert_true(get(n, "a")->u.i == 2);
}

static void assert_same(const brook_jnode *x, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		assert_int_equal(x->type, BROOK_J_OBJECT);
		assert_int_equal(x->u.o.n, json_object_size(j));
		json_object_foreach((json_t *)j, k, v)
		{
			assert_same(get(x, k), v);
		}
		break;
	}
	case JSON_ARRAY:
		assert_int_equal(x->type, BROOK_J_ARRAY);
		assert_int_equal(x->u.a.n, json_array_size(j));
		for (size_t i = 0; i < x->u.a.n; i++)
			assert_same(x->u.a.items[i], json_array_get(j, i));
		break;
	case JSON_STRING:
		assert_int_equal(x->type, BROOK_J_STRING);
		assert_int_equal(x->u.s.n, json_string_length(j));
		assert_memory_equal(x->u.s.p, json_string_value(j), x->u.s.n + 1);
		break;
	case JSON_INTEGER:
		assert_int_equal(x->type, BROOK_J_INT);
		assert_true(x->u.i == json_integer_value(j));
		break;
	case JSON_REAL:
		assert_int_equal(x->type, BROOK_J_REAL);
		assert_true(x->u.d == json_real_value(j));
		break;
	case JSON_TRUE:
		assert_int_equal(x->type, BROOK_J_TRUE);
		break;
	case JSON_FALSE:
		assert_int_equal(x->type, BROOK_J_FALSE);
		break;
	case JSON_NULL:
		assert_int_equal(x->type, BROOK_J_NULL);
		break;
	}
}

static void test_from_json(void **state)
{
	static const char text[] =
	    "{\"gender\":\"female\",\"name\":{\"title\":\"Ms\",\"first\":\"Ana\\u00efs\"},"
	    "\"location\":{\"street\":{\"number\":12,\"name\":\"High St\"},\"postcode\":\"LS1\","
	    "\"coordinates\":{\"latitude\":\"-1.5\",\"longitude\":2.25}},\"n\":[1,2.5,\"x\","
	    "null,true,false,[],{}],\"big\":-9223372036854775808,\"emoji\":\"\\ud83d\\ude00\"}";
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	const brook_jnode *x, *y;
	(void)state;
	assert_non_null(j);
	/* jansson → nodes: strings point into the jansson tree */
	x = brook_jdoc_from_json(j, &arena);
	assert_same(x, j);
	assert_ptr_equal(get(x, "gender")->u.s.p, json_string_value(json_object_get(j, "gender")));
	/* text → nodes gives the same tree, in document order */
	y = parse_ok(text);
	assert_same(y, j);
	assert_int_equal(y->u.o.n, x->u.o.n);
	for (size_t i = 0; i < y->u.o.n; i++)
		assert_string_equal(y->u.o.keys[i], x->u.o.keys[i]);
	assert_null(brook_jdoc_from_json(NULL, &arena));
	json_decref(j);
}

/* Nodes → jansson: the same value jansson's own parser makes of the text, members in the
 * same order (compared as dumped text), repeated keys resolved as jansson does. */
static void to_json_same(const char *text)
{
	json_error_t jerr;
	json_t *want = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!want)
		fail_msg("jansson refuses '%s': %s", text, jerr.text);
	json_t *got = brook_jdoc_to_json(parse_ok(text));
	assert_non_null(got);
	size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	char *gs = json_dumps(got, flags), *ws = json_dumps(want, flags);
	if (!json_equal(got, want) || strcmp(gs, ws))
		fail_msg("'%s': got %s, want %s", text, gs, ws);
	free(gs);
	free(ws);
	json_decref(got);
	json_decref(want);
}

static void test_to_json(void **state)
{
	(void)state;
	to_json_same("null");
	to_json_same("true");
	to_json_same("false");
	to_json_same("-9223372036854775808");
	to_json_same("9223372036854775807");
	to_json_same("2.5");
	to_json_same("1e300");
	to_json_same("-0.0");
	to_json_same("\"\"");
	to_json_same("\"a\\u0000b\\u00e9\\ud83d\\ude00\"");
	to_json_same("[]");
	to_json_same("{}");
	to_json_same("[1,[2,[3,{}]],\"x\",null,true,false,0.5]");
	to_json_same("{\"z\":1,\"a\":{\"y\":[{\"b\":null}],\"c\":\"\\u00ff\"},\"m\":-1.25}");
	to_json_same("{\"a\":1,\"b\":2,\"a\":3}"); /* the last value, at the first position */
	to_json_same("{\"a\":{\"x\":1},\"a\":[2],\"b\":0,\"a\":\"s\"}");

	/* a key with U+0000 keeps its length */
	json_t *j = brook_jdoc_to_json(parse_ok("{\"a\\u0000b\":1,\"a\":2}"));
	assert_int_equal(json_object_size(j), 2);
	assert_int_equal(json_integer_value(json_object_getn(j, "a\0b", 3)), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 2);
	json_decref(j);

	/* the copy owns its strings: the arena may go first */
	brook_arena a = BROOK_ARENA_INIT;
	const brook_jnode *n = brook_jdoc_parse("{\"k\":\"value\"}", 13, &a, err, sizeof err);
	assert_non_null(n);
	j = brook_jdoc_to_json(n);
	brook_arena_release(&a);
	assert_string_equal(json_string_value(json_object_get(j, "k")), "value");
	json_decref(j);

	/* jansson → nodes → jansson */
	static const char text[] = "{\"n\":[1,2.5,\"x\",null,true,false,[],{}],\"o\":{\"p\":"
	                           "{\"q\":\"\\u00efs\"}},\"big\":-9223372036854775808}";
	json_t *orig = json_loads(text, 0, NULL);
	assert_non_null(orig);
	j = brook_jdoc_to_json(brook_jdoc_from_json(orig, &arena));
	assert_true(json_equal(j, orig));
	json_decref(j);
	json_decref(orig);

	/* NULL for NULL, and for a real jansson cannot hold (also deep inside) */
	assert_null(brook_jdoc_to_json(NULL));
	brook_jnode inf = {.type = BROOK_J_REAL, .u.d = INFINITY};
	assert_null(brook_jdoc_to_json(&inf));
	const brook_jnode *one = parse_ok("1");
	const brook_jnode *items[] = {one, &inf};
	brook_jnode arr = {.type = BROOK_J_ARRAY, .u.a = {2, items}};
	assert_null(brook_jdoc_to_json(&arr));
	const char *keys[] = {"a", "b"};
	size_t klen[] = {1, 1};
	brook_jnode obj = {.type = BROOK_J_OBJECT, .u.o = {2, keys, klen, items}};
	assert_null(brook_jdoc_to_json(&obj));
}

/* One parser, many documents, the arena reset between them; an error in between
 * leaves the parser usable. */
static void test_reuse(void **state)
{
	brook_jdoc_parser *p = brook_jdoc_parser_new();
	brook_arena a = BROOK_ARENA_INIT;
	char text[128];
	(void)state;
	for (int i = 0; i < 2000; i++) {
		int k = snprintf(text, sizeof text, "{\"i\":%d,\"s\":[\"%d\",{\"x\":%s}]}", i, i,
		                 i % 7 ? "1" : "[");
		const brook_jnode *n =
		    brook_jdoc_parser_parse(p, text, (size_t)k, &a, err, sizeof err);
		if (i % 7 == 0) {
			assert_null(n);
		} else {
			assert_non_null(n);
			assert_true(get(n, "i")->u.i == i);
			assert_int_equal(atoi(get(n, "s")->u.a.items[0]->u.s.p), i);
		}
		brook_arena_reset(&a);
	}
	brook_jdoc_parser_free(p);
	brook_jdoc_parser_free(NULL);
	brook_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_scalars, teardown),
	    cmocka_unit_test_teardown(test_big_numbers, teardown),
	    cmocka_unit_test_teardown(test_nesting, teardown),
	    cmocka_unit_test_teardown(test_unicode, teardown),
	    cmocka_unit_test_teardown(test_invalid_utf8, teardown),
	    cmocka_unit_test_teardown(test_errors, teardown),
	    cmocka_unit_test_teardown(test_duplicates, teardown),
	    cmocka_unit_test_teardown(test_from_json, teardown),
	    cmocka_unit_test_teardown(test_to_json, teardown),
	    cmocka_unit_test_teardown(test_reuse, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
