/*
 * test_registry_store.c — the Schema Registry state machine: Confluent records in,
 * state out; ids deduplicated across subjects; the conflict rules of log.h; soft and
 * permanent deletes; configs; the plans writes are built from; the memory log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "registry/log.h"
#include "registry/store.h"

#define S_INT  "\"int\""
#define S_LONG "\"long\""
#define S_REC1 "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"
#define S_REC2                                                                                     \
	"{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"       \
	"{\"name\":\"b\",\"type\":\"string\",\"default\":\"x\"}]}"
#define S_REC3                                                                                     \
	"{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"       \
	"{\"name\":\"c\",\"type\":\"string\"}]}"

static bool put(reg_store *st, const char *key, const char *value)
{
	return reg_store_apply(st, key, strlen(key), value, value ? strlen(value) : 0);
}

/* Apply a SCHEMA record for (subject, version, id, schema JSON string literal). */
static bool put_schema(reg_store *st, const char *subject, int version, int id,
		       const char *schema, bool deleted)
{
	char key[256], *value = NULL;
	json_t *v = json_pack("{s:s, s:i, s:i, s:s, s:b}", "subject", subject, "version", version,
			      "id", id, "schema", schema, "deleted", deleted);
	value = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	snprintf(key, sizeof key,
		 "{\"keytype\":\"SCHEMA\",\"subject\":\"%s\",\"version\":%d,\"magic\":1}", subject,
		 version);
	bool ok = put(st, key, value);
	free(value);
	return ok;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s;
}

static void assert_json(json_t *j, const char *want)
{
	char *s = dump(j);
	assert_string_equal(s, want);
	free(s);
}

static void apply_plan(reg_store *st, reg_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		assert_true(put(st, p->recs[i].key, p->recs[i].value));
	reg_plan_release(p);
}

static void test_parse_helpers(void **state)
{
	(void)state;
	reg_compat c;
	assert_int_equal(reg_compat_parse("full_transitive", &c), BROOK_OK);
	assert_int_equal(c, REG_COMPAT_FULL_TRANSITIVE);
	assert_int_equal(reg_compat_parse("BACKWARDS", &c), BROOK_ERR);
	assert_int_equal(reg_compat_parse(NULL, &c), BROOK_ERR);
	assert_int_equal(reg_version_parse("latest"), 0);
	assert_int_equal(reg_version_parse("-1"), 0);
	assert_int_equal(reg_version_parse("7"), 7);
	assert_int_equal(reg_version_parse("2147483647"), 2147483647);
	assert_int_equal(reg_version_parse("2147483648"), -1);
	assert_int_equal(reg_version_parse("0"), -1);
	assert_int_equal(reg_version_parse("x"), -1);
	assert_int_equal(reg_version_parse(""), -1);
	assert_int_equal(reg_version_parse("99999999999999999999"), -1);
}

static void test_records_in_state_out(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	json_t *out = NULL;
	char err[512];
	assert_true(put_schema(st, "t-value", 1, 1, S_REC1, false));
	assert_true(put_schema(st, "t-value", 2, 2, S_REC2, false));
	assert_true(put(st, "{\"keytype\":\"NOOP\",\"magic\":0}", NULL));
	assert_json(reg_store_subjects(st, false), "[\"t-value\"]");
	assert_int_equal(reg_store_versions(st, "t-value", false, &out, err, sizeof err), 0);
	assert_json(out, "[1,2]");
	assert_int_equal(reg_store_version(st, "t-value", "latest", false, &out, err, sizeof err),
			 0);
	assert_int_equal(json_integer_value(json_object_get(out, "id")), 2);
	assert_int_equal(json_integer_value(json_object_get(out, "version")), 2);
	json_decref(out);
	assert_int_equal(reg_store_schema_by_id(st, 1, &out, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "schema")), S_REC1);
	json_decref(out);
	assert_int_equal(reg_store_schema_by_id(st, 9, &out, err, sizeof err), 40403);
	assert_int_equal(reg_store_version(st, "nope", "1", false, &out, err, sizeof err), 40401);
	assert_int_equal(reg_store_version(st, "t-value", "3", false, &out, err, sizeof err),
			 40402);
	assert_int_equal(reg_store_version(st, "t-value", "0", false, &out, err, sizeof err),
			 42202);
	assert_int_equal(reg_store_max_id(st), 2);
	reg_store_free(st);
}

static void test_malformed_records_ignored(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	assert_false(put(st, "not json", "{}"));
	assert_false(put(st, "[1]", "{}"));
	assert_false(put(st, "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1}", "[]"));
	assert_false(put(st, "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":0}",
			 "{\"subject\":\"s\",\"version\":0,\"id\":1,\"schema\":\"\\\"int\\\"\"}"));
	/* version in value differs from the key */
	assert_false(put(st, "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1}",
			 "{\"subject\":\"s\",\"version\":2,\"id\":1,\"schema\":\"\\\"int\\\"\"}"));
	/* invalid schema, other schema type, references */
	assert_false(put_schema(st, "s", 1, 1, "{\"type\":\"nope\"}", false));
	assert_false(put(st, "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1}",
			 "{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"{}\","
			 "\"schemaType\":\"JSON\"}"));
	assert_false(put(st, "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1}",
			 "{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\","
			 "\"references\":[{\"name\":\"x\"}]}"));
	assert_false(put(st, "{\"keytype\":\"CONFIG\",\"subject\":null}",
			 "{\"compatibilityLevel\":\"SIDEWAYS\"}"));
	/* Confluent's optional fields are fine */
	assert_true(put(st, "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1,\"magic\":1}",
			"{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\","
			"\"schemaType\":\"AVRO\",\"references\":[],\"deleted\":false}"));
	assert_true(put(st, "{\"keytype\":\"MODE\",\"magic\":0}", "{\"mode\":\"READWRITE\"}"));
	assert_json(reg_store_subjects(st, true), "[\"s\"]");
	reg_store_free(st);
}

static void test_ids_dedup_and_conflicts(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	json_t *out = NULL;
	char err[512];
	reg_plan p = {NULL, 0};
	int64_t id;
	int version;

	/* The same schema under two subjects gets one id. */
	assert_int_equal(reg_store_plan_register(st, "a", S_REC1, &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(id, 1);
	assert_int_equal(version, 1);
	apply_plan(st, &p);
	/* written differently (whitespace): still the same schema */
	assert_int_equal(reg_store_plan_register(st, "b", "{ \"type\": \"record\", \"name\": "
						 "\"U\", \"fields\": [{\"name\": \"a\", \"type\":"
						 " \"int\"}] }", &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(id, 1);
	apply_plan(st, &p);
	assert_int_equal(reg_store_id_subjects(st, 1, false, &out, err, sizeof err), 0);
	assert_json(out, "[\"a\",\"b\"]");
	assert_int_equal(reg_store_id_versions(st, 1, false, &out, err, sizeof err), 0);
	assert_json(out, "[{\"subject\":\"a\",\"version\":1},{\"subject\":\"b\",\"version\":1}]");
	/* Idempotent: registering again under a needs no record. */
	assert_int_equal(reg_store_plan_register(st, "a", S_REC1, &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(id, 1);

	/* Conflict: id 1 bound to another schema -> ignored. */
	assert_false(put_schema(st, "c", 1, 1, S_INT, false));
	/* Conflict: a known schema under another id -> ignored. */
	assert_false(put_schema(st, "c", 1, 7, S_REC1, false));
	/* Conflict: a taken (subject, version) with another id -> ignored. */
	assert_true(put_schema(st, "c", 1, 2, S_INT, false));
	assert_false(put_schema(st, "c", 1, 3, S_LONG, false));
	assert_int_equal(reg_store_version_id(st, "c", 1), 2);
	/* The same record again is accepted (replay). */
	assert_true(put_schema(st, "c", 1, 2, S_INT, false));
	reg_store_free(st);
}

static void test_two_writers_race(void **state)
{
	(void)state;
	/* Two registries plan from the same state; the first record wins, the second
	 * writer sees its version was not accepted and plans again. */
	reg_store *st = reg_store_new();
	reg_plan p1 = {NULL, 0}, p2 = {NULL, 0};
	int64_t id1, id2;
	int v1, v2;
	char err[512];
	assert_int_equal(reg_store_plan_register(st, "s", S_INT, &p1, &id1, &v1, err, sizeof err),
			 0);
	assert_int_equal(reg_store_plan_register(st, "t", S_LONG, &p2, &id2, &v2, err,
						 sizeof err), 0);
	assert_int_equal(id1, id2);
	apply_plan(st, &p1);
	assert_false(put(st, p2.recs[0].key, p2.recs[0].value));
	reg_plan_release(&p2);
	assert_int_equal(reg_store_version_id(st, "t", v2), -1);
	assert_int_equal(reg_store_plan_register(st, "t", S_LONG, &p2, &id2, &v2, err,
						 sizeof err), 0);
	assert_int_equal(id2, 2);
	apply_plan(st, &p2);
	assert_int_equal(reg_store_version_id(st, "t", v2), 2);
	reg_store_free(st);
}

static void test_compatibility(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	reg_plan p = {NULL, 0};
	json_t *out = NULL;
	int64_t id;
	int version;
	char err[4096];
	assert_int_equal(reg_store_plan_register(st, "s", S_REC1, &p, &id, &version, err,
						 sizeof err), 0);
	apply_plan(st, &p);
	/* BACKWARD (default): a new field with a default is fine, one without is not. */
	assert_int_equal(reg_store_check(st, "s", "latest", S_REC2, false, &out, err, sizeof err),
			 0);
	assert_json(out, "{\"is_compatible\":true}");
	assert_int_equal(reg_store_check(st, "s", "1", S_REC3, true, &out, err, sizeof err), 0);
	char *s = dump(out);
	assert_non_null(strstr(s, "\"is_compatible\":false"));
	assert_non_null(strstr(s, "READER_FIELD_MISSING_DEFAULT_VALUE"));
	assert_non_null(strstr(s, "{compatibility: 'BACKWARD'}"));
	free(s);
	assert_int_equal(reg_store_plan_register(st, "s", S_REC3, &p, &id, &version, err,
						 sizeof err), 409);
	assert_non_null(strstr(err, "READER_FIELD_MISSING_DEFAULT_VALUE"));
	assert_int_equal(p.n, 0);
	assert_int_equal(reg_store_plan_register(st, "s", S_INT, &p, &id, &version, err,
						 sizeof err), 409);
	/* FORWARD on the subject: the old schema must read the new one. */
	assert_int_equal(reg_store_plan_config(st, "s", "forward", &p, err, sizeof err), 0);
	apply_plan(st, &p);
	assert_int_equal(reg_store_config(st, "s", false, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"FORWARD\"}");
	assert_int_equal(reg_store_check(st, "s", "latest", S_REC3, false, &out, err, sizeof err),
			 0);
	assert_json(out, "{\"is_compatible\":true}");
	assert_int_equal(reg_store_plan_register(st, "s", S_REC3, &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(version, 2);
	apply_plan(st, &p);
	/* FULL_TRANSITIVE: against every version. REC2 (b with default) vs REC3 (c without
	 * default): REC2 reading REC3 is fine (b has a default) but REC3 reading REC2 is
	 * not; against v1 both directions are fine. */
	assert_int_equal(reg_store_plan_config(st, "s", "FULL_TRANSITIVE", &p, err, sizeof err),
			 0);
	apply_plan(st, &p);
	assert_int_equal(reg_store_check(st, "s", "1", S_REC2, false, &out, err, sizeof err), 0);
	assert_json(out, "{\"is_compatible\":true}");
	assert_int_equal(reg_store_check(st, "s", "latest", S_REC2, false, &out, err, sizeof err),
			 0);
	assert_json(out, "{\"is_compatible\":false}");
	/* NONE: anything goes. */
	assert_int_equal(reg_store_plan_config(st, "s", "NONE", &p, err, sizeof err), 0);
	apply_plan(st, &p);
	assert_int_equal(reg_store_plan_register(st, "s", S_INT, &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(p.n, 1);
	reg_plan_release(&p);
	/* Invalid inputs */
	assert_int_equal(reg_store_check(st, "s", "latest", "{\"type\":", false, &out, err,
					 sizeof err), 42201);
	assert_non_null(strstr(err, "Invalid schema"));
	assert_int_equal(reg_store_check(st, "s", "abc", S_INT, false, &out, err, sizeof err),
			 42202);
	assert_int_equal(reg_store_check(st, "s", "9", S_INT, false, &out, err, sizeof err),
			 40402);
	assert_int_equal(reg_store_check(st, "zz", "1", S_INT, false, &out, err, sizeof err),
			 40401);
	/* latest on an unknown subject: nothing to be incompatible with */
	assert_int_equal(reg_store_check(st, "zz", "latest", S_INT, false, &out, err, sizeof err),
			 0);
	assert_json(out, "{\"is_compatible\":true}");
	assert_int_equal(reg_store_plan_config(st, "s", "SIDEWAYS", &p, err, sizeof err), 42203);
	reg_store_free(st);
}

static void test_config(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	reg_plan p = {NULL, 0};
	json_t *out = NULL;
	char err[512];
	assert_int_equal(reg_store_config(st, NULL, false, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"BACKWARD\"}");
	assert_int_equal(reg_store_config(st, "s", false, &out, err, sizeof err), 40408);
	assert_int_equal(reg_store_config(st, "s", true, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"BACKWARD\"}");
	assert_int_equal(reg_store_plan_config(st, NULL, "FULL", &p, err, sizeof err), 0);
	assert_string_equal(p.recs[0].key, "{\"keytype\":\"CONFIG\",\"subject\":null,\"magic\":0}");
	assert_string_equal(p.recs[0].value, "{\"compatibilityLevel\":\"FULL\"}");
	apply_plan(st, &p);
	assert_int_equal(reg_store_config(st, "s", true, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"FULL\"}");
	/* a config alone does not make a subject */
	assert_int_equal(reg_store_plan_config(st, "s", "NONE", &p, err, sizeof err), 0);
	apply_plan(st, &p);
	assert_json(reg_store_subjects(st, true), "[]");
	assert_int_equal(reg_store_plan_config_delete(st, "s", &p, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"NONE\"}");
	assert_null(p.recs[0].value);
	apply_plan(st, &p);
	assert_int_equal(reg_store_config(st, "s", false, &out, err, sizeof err), 40408);
	assert_int_equal(reg_store_plan_config_delete(st, "s", &p, &out, err, sizeof err), 40408);
	assert_int_equal(reg_store_plan_config_delete(st, NULL, &p, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"FULL\"}");
	apply_plan(st, &p);
	assert_int_equal(reg_store_config(st, NULL, false, &out, err, sizeof err), 0);
	assert_json(out, "{\"compatibilityLevel\":\"BACKWARD\"}");
	reg_store_free(st);
}

static void test_deletes(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	reg_plan p = {NULL, 0};
	json_t *out = NULL;
	char err[512];
	assert_true(put(st, "{\"keytype\":\"CONFIG\",\"subject\":null,\"magic\":0}",
			"{\"compatibilityLevel\":\"NONE\"}"));
	assert_true(put_schema(st, "s", 1, 1, S_INT, false));
	assert_true(put_schema(st, "s", 2, 2, S_LONG, false));
	assert_true(put_schema(st, "s", 3, 3, S_REC1, false));

	/* permanent before soft: 40407 */
	assert_int_equal(reg_store_plan_delete_version(st, "s", "2", true, &p, &out, err,
						       sizeof err), 40407);
	assert_int_equal(reg_store_plan_delete_version(st, "s", "2", false, &p, &out, err,
						       sizeof err), 0);
	assert_json(out, "2");
	apply_plan(st, &p);
	assert_int_equal(reg_store_versions(st, "s", false, &out, err, sizeof err), 0);
	assert_json(out, "[1,3]");
	assert_int_equal(reg_store_versions(st, "s", true, &out, err, sizeof err), 0);
	assert_json(out, "[1,2,3]");
	assert_int_equal(reg_store_version(st, "s", "2", false, &out, err, sizeof err), 40402);
	assert_int_equal(reg_store_version(st, "s", "2", true, &out, err, sizeof err), 0);
	json_decref(out);
	/* soft twice: 40406 */
	assert_int_equal(reg_store_plan_delete_version(st, "s", "2", false, &p, &out, err,
						       sizeof err), 40406);
	assert_int_equal(reg_store_plan_delete_version(st, "s", "9", false, &p, &out, err,
						       sizeof err), 40402);
	assert_int_equal(reg_store_plan_delete_version(st, "s", "x", false, &p, &out, err,
						       sizeof err), 42202);
	assert_int_equal(reg_store_plan_delete_version(st, "q", "1", false, &p, &out, err,
						       sizeof err), 40401);
	/* permanent after soft */
	assert_int_equal(reg_store_plan_delete_version(st, "s", "2", true, &p, &out, err,
						       sizeof err), 0);
	json_decref(out);
	apply_plan(st, &p);
	assert_int_equal(reg_store_versions(st, "s", true, &out, err, sizeof err), 0);
	assert_json(out, "[1,3]");
	/* the id stays known */
	assert_int_equal(reg_store_schema_by_id(st, 2, &out, err, sizeof err), 0);
	json_decref(out);
	assert_int_equal(reg_store_id_subjects(st, 2, true, &out, err, sizeof err), 0);
	assert_json(out, "[]");

	/* the subject: permanent first is 40405, soft, then soft again 40404 */
	assert_int_equal(reg_store_plan_delete_subject(st, "s", true, &p, &out, err, sizeof err),
			 40405);
	assert_int_equal(reg_store_plan_delete_subject(st, "s", false, &p, &out, err, sizeof err),
			 0);
	assert_json(out, "[1,3]");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.recs[0].value, "{\"subject\":\"s\",\"version\":3}");
	apply_plan(st, &p);
	assert_json(reg_store_subjects(st, false), "[]");
	assert_json(reg_store_subjects(st, true), "[\"s\"]");
	assert_int_equal(reg_store_versions(st, "s", false, &out, err, sizeof err), 40401);
	assert_int_equal(reg_store_plan_delete_subject(st, "s", false, &p, &out, err, sizeof err),
			 40404);
	/* re-registering a soft-deleted schema makes a new version with the same id */
	int64_t id;
	int version;
	assert_int_equal(reg_store_plan_register(st, "s", S_INT, &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(id, 1);
	assert_int_equal(version, 4);
	reg_plan_release(&p);
	/* permanent: tombstones for each version; the subject is gone */
	assert_int_equal(reg_store_plan_delete_subject(st, "s", true, &p, &out, err, sizeof err),
			 0);
	assert_json(out, "[1,3]");
	assert_int_equal(p.n, 2);
	assert_null(p.recs[1].value);
	apply_plan(st, &p);
	assert_json(reg_store_subjects(st, true), "[]");
	assert_int_equal(reg_store_plan_delete_subject(st, "s", true, &p, &out, err, sizeof err),
			 40401);

	/* CLEAR_SUBJECT drops soft-deleted versions */
	assert_true(put_schema(st, "c", 1, 1, S_INT, true));
	assert_true(put_schema(st, "c", 2, 2, S_LONG, false));
	assert_true(put(st, "{\"keytype\":\"CLEAR_SUBJECT\",\"subject\":\"c\",\"magic\":0}",
			"{\"subject\":\"c\"}"));
	assert_int_equal(reg_store_versions(st, "c", true, &out, err, sizeof err), 0);
	assert_json(out, "[2]");
	reg_store_free(st);
}

static void test_lookup(void **state)
{
	(void)state;
	reg_store *st = reg_store_new();
	json_t *out = NULL;
	char err[512];
	assert_true(put_schema(st, "s", 1, 5, S_REC1, false));
	assert_int_equal(reg_store_lookup(st, "s", S_REC1, false, &out, err, sizeof err), 0);
	assert_json(out, "{\"subject\":\"s\",\"version\":1,\"id\":5,\"schema\":"
			 "\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"U\\\",\\\"fields\\\":"
			 "[{\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"int\\\"}]}\"}");
	assert_int_equal(reg_store_lookup(st, "s", S_INT, false, &out, err, sizeof err), 40403);
	assert_int_equal(reg_store_lookup(st, "t", S_INT, false, &out, err, sizeof err), 40401);
	assert_int_equal(reg_store_lookup(st, "s", "{", false, &out, err, sizeof err), 42201);
	/* next id after an imported id 5 is 6 */
	reg_plan p = {NULL, 0};
	int64_t id;
	int version;
	assert_int_equal(reg_store_plan_register(st, "t", S_INT, &p, &id, &version, err,
						 sizeof err), 0);
	assert_int_equal(id, 6);
	reg_plan_release(&p);
	reg_store_free(st);
}

static void test_memory_log(void **state)
{
	(void)state;
	reg_log *l = reg_log_memory_new();
	reg_store *st = reg_store_new();
	int64_t off;
	char err[128];
	const char *k = "{\"keytype\":\"SCHEMA\",\"subject\":\"s\",\"version\":1,\"magic\":1}";
	const char *v = "{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\","
			"\"deleted\":false}";
	assert_int_equal(l->ops->append(l, k, strlen(k), v, strlen(v), &off, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(off, 0);
	assert_int_equal(l->ops->wait_applied(l, 0, 0), BROOK_AGAIN);
	assert_json(reg_store_subjects(st, false), "[]");
	assert_int_equal(l->ops->start(l, reg_store_apply_cb, st, err, sizeof err), BROOK_OK);
	assert_int_equal(l->ops->wait_applied(l, 0, 0), BROOK_OK);
	assert_json(reg_store_subjects(st, false), "[\"s\"]");
	assert_int_equal(l->ops->append(l, k, strlen(k), NULL, 0, &off, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(off, 1);
	assert_int_equal(l->ops->wait_applied(l, 1, 0), BROOK_OK);
	assert_json(reg_store_subjects(st, true), "[]");
	l->ops->close(l);
	reg_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test(test_records_in_state_out),
		cmocka_unit_test(test_malformed_records_ignored),
		cmocka_unit_test(test_ids_dedup_and_conflicts),
		cmocka_unit_test(test_two_writers_race),
		cmocka_unit_test(test_compatibility),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_deletes),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_memory_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
