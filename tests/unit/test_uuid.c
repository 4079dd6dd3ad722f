/* Unit tests for core/uuid: v5 vectors, v4 shape, format/parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/uuid.h"

static void test_v5_vectors(void **state)
{
	brook_uuid u;
	char s[BROOK_UUID_STRLEN + 1];

	(void)state;
	brook_uuid_v5(&u, &brook_uuid_ns_dns, "python.org", 10);
	brook_uuid_format(&u, s);
	assert_string_equal(s, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	assert_int_equal(brook_uuid_version(&u), 5);
	/* Python: uuid.uuid5(uuid.NAMESPACE_URL, "http://python.org/") */
	brook_uuid_v5(&u, &brook_uuid_ns_url, "http://python.org/", 18);
	brook_uuid_format(&u, s);
	assert_string_equal(s, "4c565f0d-3f5a-5890-b41b-20cf47701c5e");
	/* Deterministic; different names differ. */
	{
		brook_uuid a, b;

		brook_uuid_v5(&a, &brook_uuid_ns_oid, "x", 1);
		brook_uuid_v5(&b, &brook_uuid_ns_oid, "x", 1);
		assert_memory_equal(a.b, b.b, 16);
		brook_uuid_v5(&b, &brook_uuid_ns_x500, "x", 1);
		assert_memory_not_equal(a.b, b.b, 16);
	}
}

static void test_namespaces(void **state)
{
	char s[BROOK_UUID_STRLEN + 1];

	(void)state;
	brook_uuid_format(&brook_uuid_ns_dns, s);
	assert_string_equal(s, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	brook_uuid_format(&brook_uuid_ns_url, s);
	assert_string_equal(s, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
	brook_uuid_format(&brook_uuid_ns_oid, s);
	assert_string_equal(s, "6ba7b812-9dad-11d1-80b4-00c04fd430c8");
	brook_uuid_format(&brook_uuid_ns_x500, s);
	assert_string_equal(s, "6ba7b814-9dad-11d1-80b4-00c04fd430c8");
}

static void test_v4(void **state)
{
	brook_uuid a, b, p;
	char s[BROOK_UUID_STRLEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		brook_uuid_v4(&a);
		assert_int_equal(brook_uuid_version(&a), 4);
		assert_int_equal(a.b[8] & 0xc0, 0x80);
		brook_uuid_format(&a, s);
		assert_int_equal(strlen(s), 36);
		assert_int_equal(s[14], '4');
		assert_non_null(strchr("89ab", s[19]));
		assert_int_equal(brook_uuid_parse(s, strlen(s), &p), BROOK_OK);
		assert_memory_equal(a.b, p.b, 16);
	}
	brook_uuid_v4(&b);
	assert_memory_not_equal(a.b, b.b, 16);
}

static void test_parse(void **state)
{
	brook_uuid u, orig;
	char s[BROOK_UUID_STRLEN + 1];
	const char *upper = "886313E1-3B8A-5372-9B90-0C9AEE199E5D";
	const char *bad[] = {
	    "",
	    "886313e1-3b8a-5372-9b90-0c9aee199e5",   /* short */
	    "886313e1-3b8a-5372-9b90-0c9aee199e5dd", /* long */
	    "886313e1+3b8a-5372-9b90-0c9aee199e5d",  /* bad dash */
	    "886313e13b8a-5372-9b90-0c9aee199e5d0-", /* dash moved */
	    "886313g1-3b8a-5372-9b90-0c9aee199e5d",  /* not hex */
	    "{886313e1-3b8a-5372-9b90-0c9aee199e5}",
	    "886313e1-3b8a-5372-9b90-0c9aee199e5 ",
	};
	size_t i;

	(void)state;
	assert_int_equal(brook_uuid_parse(upper, strlen(upper), &u), BROOK_OK);
	brook_uuid_format(&u, s);
	assert_string_equal(s, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	brook_uuid_v5(&orig, &brook_uuid_ns_dns, "python.org", 10);
	assert_memory_equal(u.b, orig.b, 16);
	/* A length shorter than the text only sees the prefix. */
	assert_int_equal(brook_uuid_parse(s, 35, &u), BROOK_ERR);
	memset(&u, 0xaa, sizeof(u));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(brook_uuid_parse(bad[i], strlen(bad[i]), &u), BROOK_ERR);
		assert_int_equal(u.b[0], 0xaa); /* untouched on failure */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v5_vectors),
	    cmocka_unit_test(test_namespaces),
	    cmocka_unit_test(test_v4),
	    cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
