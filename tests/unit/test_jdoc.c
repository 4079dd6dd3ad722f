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
	parse_err("[\"\\udc00\"]", 10, "unpaired surrogate escape at byte 2");
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

/* brook_jnode_equal, which the other tests lean on, tells the differences apart. */
static void test_node_equal(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	char why[128];
	static const char *const docs[] = {
	    "{\"a\":1,\"b\":[true,null]}", "{\"a\":1.0,\"b\":[true,null]}",
	    "{\"b\":[true,null],\"a\":1}", "{\"a\":1,\"b\":[true]}",
	    "{\"a\":1,\"c\":[true,null]}", "{\"a\":\"1\",\"b\":[true,null]}"};
	const brook_jnode *n[6], *again;
	for (int i = 0; i < 6; i++)
		assert_non_null(
		    n[i] = brook_jdoc_parse(docs[i], strlen(docs[i]), &a, why, sizeof why));
	assert_non_null(again = brook_jdoc_parse(docs[0], strlen(docs[0]), &a, why, sizeof why));
	assert_true(brook_jnode_equal(n[0], again));
	for (int i = 1; i < 6; i++)
		assert_false(brook_jnode_equal(n[0], n[i]));
	assert_false(brook_jnode_equal(n[0], NULL));
	brook_arena_release(&a);
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

/* ---- projections --------------------------------------------------------------------- */

/* A projection of dotted paths ("a.b.c"), NULL-terminated list. */
static brook_jproj *proj_of(const char *const *paths)
{
	brook_jproj *pj = brook_jproj_new();
	for (; *paths; paths++) {
		const char *keys[16];
		size_t klen[16], n = 0;
		const char *s = *paths;
		for (;;) {
			const char *dot = strchr(s, '.');
			keys[n] = s;
			klen[n] = dot ? (size_t)(dot - s) : strlen(s);
			n++;
			if (!dot)
				break;
			s = dot + 1;
		}
		brook_jproj_add(pj, keys, klen, n);
	}
	return pj;
}

static const brook_jnode *pparse(const char *text, const brook_jproj *pj)
{
	brook_jdoc_parser *p = brook_jdoc_parser_new();
	err[0] = '\0';
	const brook_jnode *n =
	    brook_jdoc_parser_parse_proj(p, text, strlen(text), pj, &arena, err, sizeof err);
	brook_jdoc_parser_free(p);
	return n;
}

static const brook_jnode *pparse_ok(const char *text, const brook_jproj *pj)
{
	const brook_jnode *n = pparse(text, pj);
	if (!n)
		fail_msg("projected parse '%s': %s", text, err);
	return n;
}

static const brook_jnode *path(const brook_jnode *n, const char *dotted)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", dotted);
	for (char *k = strtok(buf, "."); k && n; k = strtok(NULL, "."))
		n = get(n, k);
	return n;
}

static void assert_keys(const brook_jnode *o, const char *const *keys)
{
	size_t i = 0;
	assert_non_null(o);
	assert_int_equal(o->type, BROOK_J_OBJECT);
	for (; keys[i]; i++) {
		if (i >= o->u.o.n)
			fail_msg("member %zu '%s' missing", i, keys[i]);
		assert_string_equal(o->u.o.keys[i], keys[i]);
	}
	assert_int_equal(o->u.o.n, i);
}

/* A randomuser.me user as the source delivers it: \u escapes for Cyrillic. */
static const char randomuser[] =
    "{\"gender\":\"female\",\"name\":{\"title\":\"Ms\",\"first\":\"\\u041b\\u044e\\u0431\\u0430\","
    "\"last\":\"\\u0411\\u0430\\u0440\\u0430\\u043d\"},\"location\":{\"street\":{\"number\":"
    "7156,\"name\":\"\\u0432\\u0443\\u043b. \\u0421\\u0430\\u0434\\u043e\\u0432\\u0430\"},"
    "\"city\":\"\\u041a\\u0438\\u0457\\u0432\",\"state\":\"Vinnicka\",\"country\":\"Ukraine\","
    "\"postcode\":18842,\"coordinates\":{\"latitude\":\"-49.1822\",\"longitude\":\"-64.6853\"},"
    "\"timezone\":{\"offset\":\"+5:45\",\"description\":\"Kathmandu\"}},\"email\":"
    "\"lyuba.baran@example.com\",\"login\":{\"uuid\":\"0bd7a3b4-8f05-4f6a-9c4d-7d7e2f36b7b1\","
    "\"username\":\"sadswan462\",\"password\":\"dogs\",\"salt\":\"XtN4XKzq\",\"md5\":"
    "\"0ba1b4a0bf0a1e9a4a3f94b1cdb9e30c\",\"sha1\":\"9f5a1d1f2b2ed5d0e1de7f3bb9a3a0e0c6d5b1aa\","
    "\"sha256\":\"b1f1c3fdf8b0f1d1c83a8c51a5f2dd1ed0a4a0f14c4c0d5cc7d0b1e2a4d0d9a1\"},"
    "\"dob\":{\"date\":\"1968-03-08T06:01:19.104Z\",\"age\":56},\"registered\":{\"date\":"
    "\"2004-02-10T15:05:07.711Z\",\"age\":20},\"phone\":\"(068) L38-2817\",\"cell\":"
    "\"(097) T43-6081\",\"id\":{\"name\":\"\",\"value\":null},\"picture\":{\"large\":"
    "\"https://randomuser.me/api/portraits/women/63.jpg\",\"medium\":"
    "\"https://randomuser.me/api/portraits/med/women/63.jpg\",\"thumbnail\":"
    "\"https://randomuser.me/api/portraits/thumb/women/63.jpg\"},\"nat\":\"UA\","
    "\"ratio\":1.5e999}";

static const char *const job_paths[] = {
    "gender",         "name.first",        "name.last",     "location.street.number",
    "location.street.name", "location.city", "location.state", "location.country",
    "location.postcode", "email",          "login.uuid",    "login.username",
    "dob.date",       "registered.date",   "phone",         "picture.medium",
    NULL};

static void test_proj_randomuser(void **state)
{
	(void)state;
	/* the full parse refuses the overflowing real nobody reads; the projection drops it */
	parse_err(randomuser, strlen(randomuser), "real number overflow");
	char *text = strdup(randomuser);
	char *r = strstr(text, "1.5e999");
	memcpy(r, "1.5e+99", 7);
	const brook_jnode *full = parse_ok(text);
	brook_jproj *pj = proj_of(job_paths);
	const brook_jnode *n = pparse_ok(randomuser, pj);
	const brook_jnode *m = pparse_ok(text, pj);
	assert_true(brook_jnode_equal(n, m));
	for (size_t i = 0; job_paths[i]; i++) {
		const brook_jnode *want = path(full, job_paths[i]);
		assert_non_null(want);
		if (!brook_jnode_equal(path(n, job_paths[i]), want))
			fail_msg("kept path %s differs", job_paths[i]);
	}
	assert_string_equal(path(n, "name.first")->u.s.p,
	                    "\xd0\x9b\xd1\x8e\xd0\xb1\xd0\xb0"); /* Люба */
	assert_keys(n, (const char *const[]){"gender", "name", "location", "email", "login",
	                                     "dob", "registered", "phone", "picture", NULL});
	assert_keys(path(n, "name"), (const char *const[]){"first", "last", NULL});
	assert_keys(path(n, "location"), (const char *const[]){"street", "city", "state",
	                                                       "country", "postcode", NULL});
	assert_true(brook_jnode_equal(path(n, "location.street"), path(full, "location.street")));
	assert_keys(path(n, "login"), (const char *const[]){"uuid", "username", NULL});
	assert_keys(path(n, "dob"), (const char *const[]){"date", NULL});
	assert_keys(path(n, "registered"), (const char *const[]){"date", NULL});
	assert_keys(path(n, "picture"), (const char *const[]){"medium", NULL});
	assert_null(get(n, "id"));
	assert_null(get(n, "nat"));
	assert_null(path(n, "login.password"));
	assert_null(path(n, "location.coordinates"));
	/* a NULL projection, and one keeping the whole document, are the full parse */
	assert_true(brook_jnode_equal(pparse_ok(text, NULL), full));
	brook_jproj *all = brook_jproj_new();
	brook_jproj_add(all, NULL, NULL, 0);
	assert_true(brook_jnode_equal(pparse_ok(text, all), full));
	brook_jproj_add(all, (const char *const[]){"gender"}, NULL, 1); /* changes nothing */
	assert_true(brook_jnode_equal(pparse_ok(text, all), full));
	brook_jproj_free(all);
	/* one parser, many records, projected and not, sharing the projection */
	brook_jdoc_parser *p = brook_jdoc_parser_new();
	brook_arena a = BROOK_ARENA_INIT;
	for (int i = 0; i < 200; i++) {
		const brook_jnode *x = brook_jdoc_parser_parse_proj(
		    p, text, strlen(text), i % 3 ? pj : NULL, &a, err, sizeof err);
		assert_non_null(x);
		assert_true(
		    brook_jnode_equal(path(x, "location.street"), path(full, "location.street")));
		assert_int_equal(get(x, "id") != NULL, i % 3 == 0);
		brook_arena_reset(&a);
	}
	brook_arena_release(&a);
	brook_jdoc_parser_free(p);
	brook_jproj_free(pj);
	free(text);
}

/* A path's end keeps its whole value, whatever its type; a longer path changes nothing,
 * added before or after. */
static void test_proj_whole_ends(void **state)
{
	const char *text = "{\"o\":{\"p\":{\"q\":1,\"r\":[2,{\"s\":3}]},\"t\":4},"
	                   "\"a\":[1,{\"b\":2}],"
	                   "\"n\":null,\"f\":false,\"i\":-3,\"d\":0.5,\"s\":\"x\",\"z\":0}";
	const brook_jnode *full, *n;
	brook_jproj *pj;
	(void)state;
	full = parse_ok(text);
	pj = proj_of((const char *const[]){"o.p.q", "o.p", "a", "n", "f", "i", "d", "s", NULL});
	n = pparse_ok(text, pj);
	assert_keys(n, (const char *const[]){"o", "a", "n", "f", "i", "d", "s", NULL});
	assert_keys(get(n, "o"), (const char *const[]){"p", NULL});
	assert_true(brook_jnode_equal(path(n, "o.p"), path(full, "o.p")));
	for (const char *const *k = (const char *const[]){"a", "n", "f", "i", "d", "s", NULL}; *k;
	     k++)
		assert_true(brook_jnode_equal(get(n, *k), get(full, *k)));
	brook_jproj_free(pj);
	pj = proj_of((const char *const[]){"o.p", "o.p.r", "o.t.x", NULL});
	n = pparse_ok(text, pj);
	assert_keys(n, (const char *const[]){"o", NULL});
	assert_true(brook_jnode_equal(get(n, "o"), get(full, "o")));
	brook_jproj_free(pj);
	/* a path missing from the document keeps nothing */
	pj = proj_of((const char *const[]){"missing", "o.missing", NULL});
	n = pparse_ok(text, pj);
	assert_keys(n, (const char *const[]){"o", NULL});
	assert_keys(get(n, "o"), (const char *const[]){NULL});
	brook_jproj_free(pj);
	/* keys are bytes with a length: "a\0b" is not "a" */
	pj = brook_jproj_new();
	brook_jproj_add(pj, (const char *const[]){"a\0b"}, (const size_t[]){3}, 1);
	n = pparse_ok("{\"a\":1,\"a\\u0000b\":2,\"a\\u0000bc\":3}", pj);
	assert_int_equal(n->u.o.n, 1);
	assert_int_equal(n->u.o.klen[0], 3);
	assert_true(n->u.o.vals[0]->u.i == 2);
	brook_jproj_free(pj);
}

/* A path that meets an array or a scalar before its end keeps that value whole. */
static void test_proj_through_arrays_scalars(void **state)
{
	const char *text = "{\"a\":[{\"b\":1,\"c\":2},3],\"s\":\"str\",\"i\":7,\"n\":null,"
	                   "\"o\":{\"b\":[{\"c\":1,\"d\":2}],\"e\":1},\"x\":{\"b\":1}}";
	const brook_jnode *full, *n;
	brook_jproj *pj;
	(void)state;
	full = parse_ok(text);
	pj = proj_of((const char *const[]){"a.b", "s.t", "i.j.k", "n.m", "o.b.c", NULL});
	n = pparse_ok(text, pj);
	assert_keys(n, (const char *const[]){"a", "s", "i", "n", "o", NULL});
	assert_true(brook_jnode_equal(get(n, "a"), get(full, "a")));
	assert_true(brook_jnode_equal(get(n, "s"), get(full, "s")));
	assert_true(brook_jnode_equal(get(n, "i"), get(full, "i")));
	assert_true(brook_jnode_equal(get(n, "n"), get(full, "n")));
	assert_keys(get(n, "o"), (const char *const[]){"b", NULL});
	assert_true(brook_jnode_equal(path(n, "o.b"), path(full, "o.b")));
	brook_jproj_free(pj);
}

/* A root that is not an object is kept whole, even with an empty projection; an empty
 * projection keeps an empty root object. */
static void test_proj_root(void **state)
{
	const char *const texts[] = {"[1,{\"a\":2,\"b\":[3]}]", "\"s\"", "5", "null", "[]",
	                             "1.5"};
	brook_jproj *empty = brook_jproj_new(), *pj;
	(void)state;
	pj = proj_of((const char *const[]){"a", "b.c", NULL});
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		const brook_jnode *full = parse_ok(texts[i]);
		assert_true(brook_jnode_equal(pparse_ok(texts[i], pj), full));
		assert_true(brook_jnode_equal(pparse_ok(texts[i], empty), full));
	}
	const brook_jnode *n = pparse_ok(" {\"a\":1,\"b\":{\"c\":[1]},\"c\":{}} ", empty);
	assert_keys(n, (const char *const[]){NULL});
	n = pparse_ok("{}", empty);
	assert_keys(n, (const char *const[]){NULL});
	n = pparse_ok("{}", pj);
	assert_keys(n, (const char *const[]){NULL});
	brook_jproj_free(pj);
	brook_jproj_free(empty);
	brook_jproj_free(NULL);
}

/* Each occurrence of a repeated key on a kept path is kept; lookup takes the last. */
static void test_proj_repeated_keys(void **state)
{
	const char *text = "{\"a\":1,\"b\":2,\"a\":{\"x\":1,\"y\":2},\"c\":{\"x\":5},"
	                   "\"c\":{\"y\":6,"
	                   "\"x\":7,\"x\":8}}";
	const brook_jnode *n;
	brook_jproj *pj;
	(void)state;
	pj = proj_of((const char *const[]){"a.x", "c.x", NULL});
	n = pparse_ok(text, pj);
	assert_keys(n, (const char *const[]){"a", "a", "c", "c", NULL});
	assert_true(n->u.o.vals[0]->u.i == 1); /* a scalar where the path goes on: whole */
	assert_keys(n->u.o.vals[1], (const char *const[]){"x", NULL});
	assert_keys(n->u.o.vals[3], (const char *const[]){"x", "x", NULL});
	assert_true(path(n, "a.x")->u.i == 1);
	assert_true(path(n, "c.x")->u.i == 8);
	assert_true(brook_jnode_equal(path(n, "c.x"), path(parse_ok(text), "c.x")));
	brook_jproj_free(pj);
}

/* Dropped keys and strings are not checked for UTF-8 or surrogates, nor dropped reals for
 * overflow; kept ones are, with the full parse's message and offset. */
static void test_proj_unchecked_drops(void **state)
{
	static const char *const bad[] = {
	    "\"\xff\"",         "\"\xc0\xaf\"",   "\"\xed\xa0\x80\"", "\"\\ud800\"",
	    "\"\\ud800x\"",     "\"\\udc00\"",    "\"a\\\"\\\\\\ud800\"", "\"\\\\\\\\\\udfff\"",
	    "\"x\\\"\\ud800\\\"y\"", "1e999",      "-1e400",           "[\"\\ud800\"]",
	    "{\"k\":\"\xff\"}", "{\"\xff\":1}",   "{\"\\ud800\":1}",  "{\"\\udc00\\\"\":1}",
	};
	brook_jproj *pj =
	    proj_of((const char *const[]){"keep", "\xff", "?", "\xed\xa0\x80", NULL});
	char text[256], saved[256];
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		/* dropped: accepted, and the kept members are still there */
		snprintf(text, sizeof text,
		         "{\"keep\":\"a\\u00e9\",\"drop\":%s,\"\xfe\":%s,\"k2\":1}", bad[i],
		         bad[i]);
		const brook_jnode *n = pparse(text, pj);
		if (!n)
			fail_msg("dropped %s refused: %s", bad[i], err);
		assert_keys(n, (const char *const[]){"keep", NULL});
		assert_string_equal(get(n, "keep")->u.s.p, "a\xc3\xa9");
		/* kept: refused as the full parse refuses it. Errors come in the text's
		 * order, so the full parse stops at the dropped surrogate first; the
		 * projected parse gives the kept value's error, which is the full parse's
		 * once the dropped string is a valid one of the same length. */
		snprintf(text, sizeof text, "{\"drop\":\"\\ud800\",\"keep\":[1,%s]}", bad[i]);
		assert_null(parse(text));
		assert_string_equal(err, "unpaired surrogate escape at byte 9");
		assert_null(pparse(text, pj));
		snprintf(saved, sizeof saved, "%s", err); /* the projected parse's */
		snprintf(text, sizeof text, "{\"drop\":\"\\u0041\",\"keep\":[1,%s]}", bad[i]);
		assert_null(parse(text));
		assert_string_equal(err, saved);
		snprintf(text, sizeof text, "{\"keep\":[1,%s],\"drop\":2}", bad[i]);
		assert_null(parse(text));
		snprintf(saved, sizeof saved, "%s", err); /* the full parse's */
		assert_null(pparse(text, pj));
		assert_string_equal(err, saved);
	}
	/* kept keys: checked */
	assert_null(pparse("{\"\xff\":1}", pj));
	assert_string_equal(err, "invalid UTF-8 in a key at byte 2"); /* the bad byte */
	/* a lone surrogate escape is looked up in its three-byte form (on a kept path here,
	 * which only a projection of invalid UTF-8 can be); "?" is not it */
	assert_null(pparse("{\"\\ud800\":1}", pj));
	assert_string_equal(err, "unpaired surrogate escape at byte 2");
	assert_non_null(pparse("{\"\\udbff\":1,\"keep\":\"k\"}", pj)); /* not kept: dropped */
	/* a kept string whose escapes are fine, after tricky backslash runs */
	const char *ok = "{\"keep\":\"\\\\\\\"\\ud83d\\ude00\\\\\",\"drop\":\"\\\"\"}";
	const brook_jnode *n = pparse_ok(ok, pj);
	assert_true(brook_jnode_equal(get(n, "keep"), get(parse_ok(ok), "keep")));
	brook_jproj_free(pj);
}

/* Syntax and depth errors inside dropped values: the full parse's message and offset. */
static void test_proj_syntax_errors(void **state)
{
	static const char *const texts[] = {
	    "{\"keep\":1,\"drop\":[1,2,}",  "{\"drop\":{\"a\" 1},\"keep\":1}",
	    "{\"drop\":01,\"keep\":1}",      "{\"drop\":nul,\"keep\":1}",
	    "{\"drop\":\"a\tb\",\"keep\":1}", "{\"drop\":[tru],\"keep\":1}",
	    "{\"drop\":{\"a\":1,},\"keep\":1}", "{\"drop\":[1]]}",
	    "{\"drop\":\"abc",              "{\"drop\":{\"x\":[1,2]",
	    "{\"drop\":1} x",               "{\"drop\":1}{}",
	    "{\"drop\":1,}",                "{\"drop\":-}",
	    "{\"drop\":1.}",                "{\"drop\":\"\\x\"}",
	    "{\"drop\":\"\\u12\"}",         "{\"drop\":[1]\f}",
	    "{\"drop\":{\"q\":\"\\u0000\"}, \"keep\":[}",
	};
	brook_jproj *pj = proj_of((const char *const[]){"keep", NULL});
	char full_err[256], text[700];
	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		assert_null(parse(texts[i]));
		snprintf(full_err, sizeof full_err, "%s", err);
		if (pparse(texts[i], pj))
			fail_msg("projected parse of '%s' succeeded, full: %s", texts[i], full_err);
		if (strcmp(err, full_err) != 0)
			fail_msg("'%s': projected '%s', full '%s'", texts[i], err, full_err);
	}
	/* depth: 128 levels in all is fine, 129 is not, also inside a dropped value */
	for (int deep = 127; deep <= 128; deep++) {
		size_t k = (size_t)snprintf(text, sizeof text, "{\"keep\":1,\"drop\":");
		for (int i = 0; i < deep; i++) {
			if (i % 2) {
				text[k++] = '[';
			} else {
				memcpy(text + k, "{\"a\":", 5);
				k += 5;
			}
		}
		text[k++] = '1';
		for (int i = deep; i-- > 0;)
			text[k++] = i % 2 ? ']' : '}';
		text[k++] = '}';
		text[k] = '\0';
		const brook_jnode *full = parse(text);
		snprintf(full_err, sizeof full_err, "%s", err);
		const brook_jnode *n = pparse(text, pj);
		if (deep == 127) {
			assert_non_null(full);
			assert_non_null(n);
			assert_keys(n, (const char *const[]){"keep", NULL});
		} else {
			assert_null(full);
			assert_null(n);
			assert_non_null(strstr(err, "nesting deeper than 128"));
			assert_string_equal(err, full_err);
		}
	}
	brook_jproj_free(pj);
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
	    cmocka_unit_test(test_node_equal),
	    cmocka_unit_test_teardown(test_to_json, teardown),
	    cmocka_unit_test_teardown(test_reuse, teardown),
	    cmocka_unit_test_teardown(test_proj_randomuser, teardown),
	    cmocka_unit_test_teardown(test_proj_whole_ends, teardown),
	    cmocka_unit_test_teardown(test_proj_through_arrays_scalars, teardown),
	    cmocka_unit_test_teardown(test_proj_root, teardown),
	    cmocka_unit_test_teardown(test_proj_repeated_keys, teardown),
	    cmocka_unit_test_teardown(test_proj_unchecked_drops, teardown),
	    cmocka_unit_test_teardown(test_proj_syntax_errors, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
