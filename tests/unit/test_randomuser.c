/*
 * test_randomuser.c — the randomuser generator and query parser: determinism, shape
 * and types of every field for every nationality, hashes (recomputed with EVP),
 * inc/exc, formats, and the parameter errors documented in source/randomuser.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/err.h"
#include "source/randomuser.h"

static void make_query(randomuser_query *q, const char *qs)
{
	char err[256];
	randomuser_query_init(q);
	int rc = randomuser_query_parse(q, qs, strlen(qs), 0, err, sizeof(err));
	if (rc != BROOK_OK)
		fail_msg("query '%s' rejected: %s", qs, err);
}

static char *gen(const char *qs)
{
	randomuser_query q;
	brook_buf b = BROOK_BUF_INIT;
	make_query(&q, qs);
	randomuser_generate(&q, &b);
	return brook_buf_detach(&b, NULL);
}

static json_t *gen_json(const char *qs)
{
	char *s = gen(qs);
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		fail_msg("invalid JSON for '%s': %s at %d", qs, je.text, je.position);
	free(s);
	return j;
}

static void test_deterministic(void **state)
{
	(void)state;
	char *a = gen("seed=brook&results=50&page=3");
	char *b = gen("seed=brook&results=50&page=3");
	char *c = gen("seed=brook2&results=50&page=3");
	char *d = gen("seed=brook&results=50&page=4");
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* User k depends on seed, page, results and k only: results=5 is a prefix of 10. */
static void test_prefix(void **state)
{
	(void)state;
	json_t *a = gen_json("seed=p&results=5");
	json_t *b = gen_json("seed=p&results=10");
	json_t *ra = json_object_get(a, "results"), *rb = json_object_get(b, "results");
	assert_int_equal(json_array_size(ra), 5);
	assert_int_equal(json_array_size(rb), 10);
	for (size_t i = 0; i < 5; i++)
		assert_true(json_equal(json_array_get(ra, i), json_array_get(rb, i)));
	json_decref(a);
	json_decref(b);
}

static void hex_digest(const char *alg, const char *s, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD *md = EVP_MD_fetch(NULL, alg, NULL);
	assert_non_null(md);
	assert_int_equal(EVP_Digest(s, strlen(s), d, &n, md, NULL), 1);
	EVP_MD_free(md);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static const char *str_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	if (!json_is_string(v))
		fail_msg("%s.%s is not a string", a, b ? b : "");
	return json_string_value(v);
}

static int is_iso8601(const char *s)
{
	const char *pat = "dddd-dd-ddTdd:dd:dd.dddZ";
	if (strlen(s) != strlen(pat))
		return 0;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i])
			return 0;
	return 1;
}

static void check_user(json_t *u, const char *nat)
{
	static const char *const keys[] = {"gender", "name", "location", "email", "login",
					   "dob", "registered", "phone", "cell", "id",
					   "picture", "nat"};
	assert_int_equal(json_object_size(u), 12);
	for (size_t i = 0; i < 12; i++)
		assert_non_null(json_object_get(u, keys[i]));
	assert_string_equal(str_at(u, "nat", NULL), nat);
	const char *g = str_at(u, "gender", NULL);
	assert_true(strcmp(g, "male") == 0 || strcmp(g, "female") == 0);
	str_at(u, "name", "title");
	str_at(u, "name", "first");
	str_at(u, "name", "last");

	json_t *loc = json_object_get(u, "location");
	assert_true(json_is_integer(json_object_get(json_object_get(loc, "street"), "number")));
	str_at(loc, "street", "name");
	str_at(loc, "city", NULL);
	str_at(loc, "state", NULL);
	str_at(loc, "country", NULL);
	json_t *pc = json_object_get(loc, "postcode");
	int want_str = !strcmp(nat, "CA") || !strcmp(nat, "GB") || !strcmp(nat, "IE") ||
		       !strcmp(nat, "NL");
	if (want_str)
		assert_true(json_is_string(pc));
	else
		assert_true(json_is_integer(pc));
	str_at(json_object_get(loc, "coordinates"), "latitude", NULL);
	str_at(json_object_get(loc, "coordinates"), "longitude", NULL);
	const char *off = str_at(json_object_get(loc, "timezone"), "offset", NULL);
	assert_true(off[0] == '+' || off[0] == '-' || off[0] == '0');
	assert_non_null(strchr(off, ':'));

	const char *email = str_at(u, "email", NULL);
	for (const char *p = email; *p; p++)
		assert_true(isascii((unsigned char)*p) && !isupper((unsigned char)*p));
	assert_non_null(strstr(email, "@example.com"));
	assert_true(email[0] != '.' && email[0] != '@');

	json_t *login = json_object_get(u, "login");
	const char *uuid = str_at(login, "uuid", NULL);
	assert_int_equal(strlen(uuid), 36);
	assert_int_equal(uuid[14], '4');
	assert_non_null(strchr("89ab", uuid[19]));
	const char *pw = str_at(login, "password", NULL), *salt = str_at(login, "salt", NULL);
	assert_int_equal(strlen(salt), 8);
	char ps[256], hex[2 * EVP_MAX_MD_SIZE + 1];
	snprintf(ps, sizeof(ps), "%s%s", pw, salt);
	hex_digest("MD5", ps, hex);
	assert_string_equal(str_at(login, "md5", NULL), hex);
	hex_digest("SHA1", ps, hex);
	assert_string_equal(str_at(login, "sha1", NULL), hex);
	hex_digest("SHA256", ps, hex);
	assert_string_equal(str_at(login, "sha256", NULL), hex);
	assert_true(strlen(str_at(login, "username", NULL)) > 3);

	const char *dob = str_at(u, "dob", "date");
	assert_true(is_iso8601(dob));
	assert_true(is_iso8601(str_at(u, "registered", "date")));
	json_int_t age = json_integer_value(json_object_get(json_object_get(u, "dob"), "age"));
	/* reference instant is 2025-01-01: age is 2024 - birth year */
	assert_int_equal(age, 2024 - atoi(dob));
	assert_true(age >= 19 && age <= 78);

	str_at(u, "phone", NULL);
	str_at(u, "cell", NULL);
	json_t *id = json_object_get(u, "id");
	int null_id = !strcmp(nat, "IR") || !strcmp(nat, "NZ") || !strcmp(nat, "TR") ||
		      !strcmp(nat, "UA");
	if (null_id) {
		assert_true(json_is_null(json_object_get(id, "value")));
		assert_string_equal(str_at(id, "name", NULL), "");
	} else {
		assert_true(strlen(str_at(id, "value", NULL)) > 0);
		assert_true(strlen(str_at(id, "name", NULL)) > 0);
	}
	const char *large = str_at(u, "picture", "large");
	assert_true(strncmp(large, "https://randomuser.me/api/portraits/", 36) == 0);
	assert_non_null(strstr(str_at(u, "picture", "thumbnail"), "/portraits/thumb/"));
	assert_non_null(strstr(str_at(u, "picture", "medium"), "/portraits/med/"));
	assert_non_null(strstr(large, !strcmp(g, "female") ? "/women/" : "/men/"));
}

static void test_every_nat(void **state)
{
	(void)state;
	for (int i = 0; i < RANDOMUSER_NNATS; i++) {
		char qs[128];
		snprintf(qs, sizeof(qs), "seed=n%d&results=40&nat=%s", i, randomuser_nat_codes[i]);
		json_t *j = gen_json(qs);
		json_t *r = json_object_get(j, "results");
		assert_int_equal(json_array_size(r), 40);
		for (size_t k = 0; k < 40; k++)
			check_user(json_array_get(r, k), randomuser_nat_codes[i]);
		json_decref(j);
	}
}

static void test_info(void **state)
{
	(void)state;
	json_t *j = gen_json("seed=inf&results=7&page=2");
	json_t *info = json_object_get(j, "info");
	assert_string_equal(str_at(info, "seed", NULL), "inf");
	assert_int_equal(json_integer_value(json_object_get(info, "results")), 7);
	assert_int_equal(json_integer_value(json_object_get(info, "page")), 2);
	assert_string_equal(str_at(info, "version", NULL), "1.4");
	json_decref(j);

	j = gen_json("results=2&noinfo");
	assert_null(json_object_get(j, "info"));
	json_decref(j);

	/* no seed: a fresh 16-hex-character one */
	j = gen_json("results=1");
	const char *seed = str_at(json_object_get(j, "info"), "seed", NULL);
	assert_int_equal(strlen(seed), 16);
	for (const char *p = seed; *p; p++)
		assert_true(isxdigit((unsigned char)*p));
	json_decref(j);
}

static void test_filters(void **state)
{
	(void)state;
	json_t *j = gen_json("seed=f&results=100&gender=female&nat=fr,de,XX");
	json_t *r = json_object_get(j, "results");
	int seen_fr = 0, seen_de = 0;
	for (size_t k = 0; k < json_array_size(r); k++) {
		json_t *u = json_array_get(r, k);
		assert_string_equal(str_at(u, "gender", NULL), "female");
		const char *nat = str_at(u, "nat", NULL);
		seen_fr |= !strcmp(nat, "FR");
		seen_de |= !strcmp(nat, "DE");
		assert_true(!strcmp(nat, "FR") || !strcmp(nat, "DE"));
	}
	assert_true(seen_fr && seen_de);
	json_decref(j);

	/* no valid code: all nationalities */
	j = gen_json("seed=f&results=300&nat=zz");
	r = json_object_get(j, "results");
	int nats = 0;
	for (int i = 0; i < RANDOMUSER_NNATS; i++)
		for (size_t k = 0; k < json_array_size(r); k++)
			if (!strcmp(str_at(json_array_get(r, k), "nat", NULL),
				    randomuser_nat_codes[i])) {
				nats++;
				break;
			}
	assert_int_equal(nats, RANDOMUSER_NNATS);
	json_decref(j);
}

static void test_inc_exc(void **state)
{
	(void)state;
	json_t *j = gen_json("seed=i&results=3&inc=name,email,nat,bogus");
	json_t *u = json_array_get(json_object_get(j, "results"), 0);
	assert_int_equal(json_object_size(u), 3);
	assert_non_null(json_object_get(u, "name"));
	assert_non_null(json_object_get(u, "email"));
	json_t *full = gen_json("seed=i&results=3");
	json_t *fu = json_array_get(json_object_get(full, "results"), 0);
	/* hiding fields does not change the others */
	assert_true(json_equal(json_object_get(u, "name"), json_object_get(fu, "name")));
	json_decref(j);

	j = gen_json("seed=i&results=3&exc=login,picture,id");
	u = json_array_get(json_object_get(j, "results"), 0);
	assert_int_equal(json_object_size(u), 9);
	assert_null(json_object_get(u, "login"));
	assert_true(json_equal(json_object_get(u, "dob"), json_object_get(fu, "dob")));
	json_decref(j);
	json_decref(full);

	j = gen_json("seed=i&results=2&inc=name&exc=name");
	u = json_array_get(json_object_get(j, "results"), 0);
	assert_int_equal(json_object_size(u), 0);
	json_decref(j);
}

static void test_formats(void **state)
{
	(void)state;
	json_t *a = gen_json("seed=fmt&results=4");
	json_t *b = gen_json("seed=fmt&results=4&format=pretty");
	assert_true(json_equal(a, b));
	char *pretty = gen("seed=fmt&results=4&fmt=prettyjson");
	assert_non_null(strstr(pretty, "\n  \"results\": ["));
	free(pretty);
	json_decref(a);
	json_decref(b);

	char *csv = gen("seed=fmt&results=4&format=csv&inc=name,location,nat");
	int lines = 0;
	for (char *p = csv; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
	const char *head = "name.title,name.first,name.last,location.street.number,";
	assert_true(strncmp(csv, head, strlen(head)) == 0);
	free(csv);

	randomuser_query q;
	make_query(&q, "format=csv");
	assert_string_equal(randomuser_content_type(&q), "text/csv; charset=utf-8");
}

static int set1(const char *key, const char *value, randomuser_query *q)
{
	char err[256];
	randomuser_query_init(q);
	int rc = randomuser_query_set(q, key, value, 5000, err, sizeof(err));
	if (rc != BROOK_OK)
		assert_true(strlen(err) > 0);
	return rc;
}

static void test_param_errors(void **state)
{
	(void)state;
	randomuser_query q;
	assert_int_equal(set1("results", "abc", &q), BROOK_ERR);
	assert_int_equal(set1("results", "0", &q), BROOK_ERR);
	assert_int_equal(set1("results", "-3", &q), BROOK_ERR);
	assert_int_equal(set1("results", "", &q), BROOK_ERR);
	assert_int_equal(set1("results", NULL, &q), BROOK_ERR);
	assert_int_equal(set1("results", "5001", &q), BROOK_OK);
	assert_int_equal(q.results, 5000);
	assert_int_equal(set1("results", "99999999999999999999999", &q), BROOK_OK);
	assert_int_equal(q.results, 5000);
	assert_int_equal(set1("results", "12", &q), BROOK_OK);
	assert_int_equal(q.results, 12);
	assert_int_equal(set1("page", "0", &q), BROOK_ERR);
	assert_int_equal(set1("page", "-1", &q), BROOK_ERR);
	assert_int_equal(set1("page", "x", &q), BROOK_ERR);
	assert_int_equal(set1("page", "100001", &q), BROOK_ERR);
	assert_int_equal(set1("page", "100000", &q), BROOK_OK);
	assert_int_equal(set1("format", "xml", &q), BROOK_ERR);
	assert_int_equal(set1("format", "CSV", &q), BROOK_OK);
	assert_int_equal(q.format, RANDOMUSER_CSV);
	char longseed[RANDOMUSER_SEED_MAX + 2];
	memset(longseed, 'a', sizeof(longseed) - 1);
	longseed[sizeof(longseed) - 1] = '\0';
	assert_int_equal(set1("seed", longseed, &q), BROOK_ERR);
	longseed[RANDOMUSER_SEED_MAX] = '\0';
	assert_int_equal(set1("seed", longseed, &q), BROOK_OK);
	assert_string_equal(q.seed, longseed);
	assert_int_equal(set1("gender", "other", &q), BROOK_OK);
	assert_int_equal(q.gender, RANDOMUSER_ANY);
	assert_int_equal(set1("gender", "MALE", &q), BROOK_OK);
	assert_int_equal(q.gender, RANDOMUSER_MALE);
	assert_int_equal(set1("unknown", "whatever", &q), BROOK_OK);

	/* the smaller configured cap */
	char err[256];
	randomuser_query_init(&q);
	assert_int_equal(randomuser_query_set(&q, "results", "300", 100, err, sizeof(err)),
			 BROOK_OK);
	assert_int_equal(q.results, 100);
}

static void test_parse_decoding(void **state)
{
	(void)state;
	randomuser_query q;
	make_query(&q, "?seed=a%20b+c&nat=gb%2Cfr&results=3&&noinfo");
	assert_string_equal(q.seed, "a b c");
	assert_int_equal(q.nats, (1u << randomuser_nat_index("GB", 2)) |
					 (1u << randomuser_nat_index("FR", 2)));
	assert_int_equal(q.results, 3);
	assert_int_equal(q.noinfo, 1);
	make_query(&q, "seed=%zz%4");
	assert_string_equal(q.seed, "%zz%4");

	char err[256];
	randomuser_query_init(&q);
	assert_int_equal(randomuser_query_parse(&q, "results=abc", 11, 0, err, sizeof(err)),
			 BROOK_ERR);
	assert_non_null(strstr(err, "results"));

	/* a seed with JSON specials is escaped in info.seed */
	json_t *j = gen_json("seed=%22q%5C&results=1");
	assert_string_equal(str_at(json_object_get(j, "info"), "seed", NULL), "\"q\\");
	json_decref(j);
}

static void test_error_body(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	randomuser_error_body(&b, "bad \"x\"");
	json_t *j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_string_equal(str_at(j, "error", NULL), "bad \"x\"");
	json_decref(j);
	brook_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_every_nat),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_inc_exc),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_param_errors),
		cmocka_unit_test(test_parse_decoding),
		cmocka_unit_test(test_error_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
