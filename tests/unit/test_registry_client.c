/*
 * test_registry_client.c — the Schema Registry client and the Confluent serializer
 * against brook's registry in-process (memory log, httpd on an ephemeral port): register,
 * cache hits counted in HTTP requests, 409 with reasons, 42201, 40403, serialize and
 * deserialize with and without a reader schema (to json_t and to jdoc nodes), several
 * threads at once, an unreachable registry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/datum.h"
#include "core/err.h"
#include "registry/api.h"
#include "registry/client.h"
#include "registry/log.h"
#include "registry/store.h"

#define REC1                                                                                       \
	"{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"t\",\"fields\":["                 \
	"{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"}]}"
/* REC1 plus a field with a default: backward compatible */
#define REC2                                                                                       \
	"{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"t\",\"fields\":["                 \
	"{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"},"            \
	"{\"name\":\"age\",\"type\":[\"null\",\"int\"],\"default\":null}]}"
/* REC1 plus a field WITHOUT a default: not backward compatible */
#define REC3                                                                                       \
	"{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"t\",\"fields\":["                 \
	"{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"},"            \
	"{\"name\":\"email\",\"type\":\"string\"}]}"

typedef struct fixture {
	reg_log *log;
	reg_store *st;
	reg_api *api;
	char url[64];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	char err[256];
	f->log = reg_log_memory_new();
	f->st = reg_store_new();
	assert_int_equal(f->log->ops->start(f->log, reg_store_apply_cb, f->st, err, sizeof err),
			 BROOK_OK);
	f->api = reg_api_open(f->st, f->log, "127.0.0.1", 0, err, sizeof err);
	assert_non_null(f->api);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/", reg_api_port(f->api));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	if (f->api)
		reg_api_close(f->api);
	f->log->ops->close(f->log);
	reg_store_free(f->st);
	free(f);
	return 0;
}

static avro_schema *parse(const char *text)
{
	char err[256];
	avro_schema *s = avro_schema_parse(text, strlen(text), err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	return s;
}

static void test_register_and_cache(void **state)
{
	fixture *f = *state;
	sr_client *c = sr_client_new(f->url, NULL);
	sr_error e;
	int32_t id = -1, id2 = -1;
	assert_int_equal(sr_register(c, "users-value", REC1, &id, &e), BROOK_OK);
	assert_true(id >= 1);
	assert_int_equal(sr_client_requests(c), 1);
	/* cached: no second request */
	assert_int_equal(sr_register(c, "users-value", REC1, &id2, &e), BROOK_OK);
	assert_int_equal(id2, id);
	assert_int_equal(sr_client_requests(c), 1);
	/* the schema by id is cached by the registration too */
	const avro_schema *s = NULL;
	assert_int_equal(sr_schema_by_id(c, id, &s, &e), BROOK_OK);
	assert_string_equal(avro_schema_fullname(s), "t.User");
	assert_int_equal(sr_client_requests(c), 1);
	/* same schema under another subject: same global id, one request */
	assert_int_equal(sr_register(c, "other", REC1, &id2, &e), BROOK_OK);
	assert_int_equal(id2, id);
	assert_int_equal(sr_client_requests(c), 2);
	/* a subject that needs escaping */
	assert_int_equal(sr_register(c, "a b/c", REC1, &id2, &e), BROOK_OK);
	assert_int_equal(id2, id);
	int32_t lid = 0;
	int ver = 0;
	const avro_schema *ls = NULL;
	assert_int_equal(sr_latest(c, "a b/c", &lid, &ver, &ls, &e), BROOK_OK);
	assert_int_equal(lid, id);
	assert_int_equal(ver, 1);
	assert_ptr_equal(ls, s);

	/* a fresh client fetches by id once, then from its cache */
	sr_client *c2 = sr_client_new(f->url, NULL);
	assert_int_equal(sr_schema_by_id(c2, id, &s, &e), BROOK_OK);
	assert_int_equal(sr_schema_by_id(c2, id, &s, &e), BROOK_OK);
	assert_int_equal(sr_client_requests(c2), 1);
	/* once cached, the registry may go away */
	reg_api_close(f->api);
	f->api = NULL;
	assert_int_equal(sr_schema_by_id(c2, id, &s, &e), BROOK_OK);
	assert_int_equal(sr_register(c, "users-value", REC1, &id2, &e), BROOK_OK);
	/* and an uncached call fails with a transport error */
	assert_int_equal(sr_register(c, "users-value", REC2, &id2, &e), BROOK_ERR);
	assert_int_equal(e.http_status, 0);
	assert_int_equal(e.error_code, 0);
	assert_non_null(strstr(e.message, "unreachable"));
	sr_client_free(c2);
	sr_client_free(c);
}

static void test_errors(void **state)
{
	fixture *f = *state;
	sr_client *c = sr_client_new(f->url, NULL);
	sr_error e;
	int32_t id;
	assert_int_equal(sr_register(c, "s", REC1, &id, &e), BROOK_OK);
	/* 409: the registry's reasons in the message */
	assert_int_equal(sr_register(c, "s", REC3, &id, &e), BROOK_ERR);
	assert_int_equal(e.http_status, 409);
	assert_int_equal(e.error_code, 409);
	assert_non_null(strstr(e.message, "incompatible"));
	assert_non_null(strstr(e.message, "email"));
	assert_non_null(strstr(e.message, "HTTP 409"));
	/* not cached: still refused on a second try */
	assert_int_equal(sr_register(c, "s", REC3, &id, &e), BROOK_ERR);
	assert_int_equal(e.error_code, 409);
	/* 42201 invalid schema */
	assert_int_equal(sr_register(c, "s", "{\"type\":\"nope\"}", &id, &e), BROOK_ERR);
	assert_int_equal(e.http_status, 422);
	assert_int_equal(e.error_code, 42201);
	/* 40403 unknown id; 40401 unknown subject */
	const avro_schema *s;
	assert_int_equal(sr_schema_by_id(c, 999, &s, &e), BROOK_ERR);
	assert_int_equal(e.error_code, 40403);
	assert_int_equal(e.http_status, 404);
	assert_int_equal(sr_latest(c, "missing", &id, NULL, &s, &e), BROOK_ERR);
	assert_int_equal(e.error_code, 40401);
	/* sr_error may be NULL */
	assert_int_equal(sr_schema_by_id(c, 998, &s, NULL), BROOK_ERR);
	sr_client_free(c);
}

static void test_serde(void **state)
{
	fixture *f = *state;
	sr_client *c = sr_client_new(f->url, NULL);
	sr_error e;
	avro_schema *w = parse(REC1), *r = parse(REC2);
	json_t *v = json_pack("{s:i, s:s}", "id", 42, "name", "ada");
	brook_buf out = BROOK_BUF_INIT;
	brook_buf_puts(&out, "xy"); /* appends after what is there */
	assert_int_equal(sr_serialize(c, "users-value", w, v, &out, &e), BROOK_OK);
	uint64_t after_first = sr_client_requests(c);
	assert_int_equal(after_first, 1);
	size_t one = out.len - 2;
	assert_int_equal((uint8_t)out.data[2], 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(sr_serialize(c, "users-value", w, v, &out, &e), BROOK_OK);
	assert_int_equal(sr_client_requests(c), after_first);
	assert_int_equal(out.len, 2 + 11 * one);

	const uint8_t *msg = (const uint8_t *)out.data + 2;
	json_t *got = NULL;
	int32_t id = 0;
	assert_int_equal(sr_deserialize(c, msg, one, NULL, &got, &id, &e), BROOK_OK);
	assert_true(json_equal(got, v));
	json_decref(got);
	/* a fresh client: one request for the writer schema, then cached; resolved to a
	 * reader with a defaulted field */
	sr_client *c2 = sr_client_new(f->url, NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sr_deserialize(c2, msg, one, r, &got, NULL, &e), BROOK_OK);
		json_t *want = json_pack("{s:i, s:s, s:n}", "id", 42, "name", "ada", "age");
		assert_true(json_equal(got, want));
		json_decref(want);
		json_decref(got);
	}
	assert_int_equal(sr_client_requests(c2), 1);

	/* bad input */
	assert_int_equal(sr_deserialize(c2, msg, 3, NULL, &got, NULL, &e), BROOK_ERR);
	assert_null(got);
	uint8_t bad[] = {1, 0, 0, 0, 1, 2};
	assert_int_equal(sr_deserialize(c2, bad, sizeof bad, NULL, &got, NULL, &e), BROOK_ERR);
	uint8_t trunc[] = {0, 0, 0, 0, (uint8_t)id, 0x54};
	assert_int_equal(sr_deserialize(c2, trunc, sizeof trunc, NULL, &got, NULL, &e), BROOK_ERR);
	assert_non_null(strstr(e.message, "cannot decode"));
	/* a value that does not match: out unchanged */
	size_t before = out.len;
	json_t *badv = json_pack("{s:s}", "id", "x");
	assert_int_equal(sr_serialize(c, "users-value", w, badv, &out, &e), BROOK_ERR);
	assert_int_equal(out.len, before);
	json_decref(badv);

	json_decref(v);
	brook_buf_release(&out);
	avro_schema_free(w);
	avro_schema_free(r);
	sr_client_free(c2);
	sr_client_free(c);
}

/* sr_deserialize_jdoc over the same messages: nodes in the caller's arena, the same
 * value as sr_deserialize, the same errors (framing, unknown id with the registry's status,
 * no answer, decoding). */
static void test_serde_jdoc(void **state)
{
	fixture *f = *state;
	sr_client *c = sr_client_new(f->url, NULL);
	sr_error e;
	avro_schema *w = parse(REC1), *r = parse(REC2);
	json_t *v = json_pack("{s:i, s:s}", "id", 42, "name", "ada");
	brook_buf out = BROOK_BUF_INIT;
	assert_int_equal(sr_serialize(c, "users-value", w, v, &out, &e), BROOK_OK);
	const uint8_t *msg = (const uint8_t *)out.data;

	brook_arena a = BROOK_ARENA_INIT;
	const brook_jnode *n = NULL;
	int32_t id = 0;
	assert_int_equal(sr_deserialize_jdoc(c, msg, out.len, NULL, &a, &n, &id, &e), BROOK_OK);
	assert_true(id >= 1);
	assert_int_equal(n->type, BROOK_J_OBJECT);
	assert_int_equal(n->u.o.n, 2);
	assert_string_equal(n->u.o.keys[0], "id");
	assert_int_equal(n->u.o.vals[0]->u.i, 42);
	assert_string_equal(brook_jnode_get(n, "name", 4)->u.s.p, "ada");
	json_t *conv = brook_jdoc_to_json(n), *got = NULL;
	assert_int_equal(sr_deserialize(c, msg, out.len, NULL, &got, NULL, &e), BROOK_OK);
	assert_true(json_equal(conv, got));
	assert_true(json_equal(conv, v));
	json_decref(conv);
	json_decref(got);

	/* a fresh client, a reader with a defaulted field, one arena reset per record */
	sr_client *c2 = sr_client_new(f->url, NULL);
	for (int i = 0; i < 100; i++) {
		brook_arena_reset(&a);
		n = NULL;
		assert_int_equal(sr_deserialize_jdoc(c2, msg, out.len, r, &a, &n, NULL, &e),
				 BROOK_OK);
		assert_int_equal(n->u.o.n, 3);
		assert_string_equal(n->u.o.keys[2], "age");
		assert_int_equal(n->u.o.vals[2]->type, BROOK_J_NULL);
		assert_string_equal(brook_jnode_get(n, "name", 4)->u.s.p, "ada");
	}
	assert_int_equal(sr_client_requests(c2), 1);

	/* bad input: framing, an id out of range, a truncated payload */
	assert_int_equal(sr_deserialize_jdoc(c2, msg, 3, NULL, &a, &n, NULL, &e), BROOK_ERR);
	assert_null(n);
	assert_non_null(strstr(e.message, "not a Confluent Avro message"));
	assert_false(e.unreachable);
	uint8_t bad[] = {1, 0, 0, 0, 1, 2};
	assert_int_equal(sr_deserialize_jdoc(c2, bad, sizeof bad, NULL, &a, &n, NULL, &e),
			 BROOK_ERR);
	assert_non_null(strstr(e.message, "magic byte 1"));
	uint8_t big[] = {0, 0x80, 0, 0, 0, 0};
	assert_int_equal(sr_deserialize_jdoc(c2, big, sizeof big, NULL, &a, &n, NULL, &e),
			 BROOK_ERR);
	assert_non_null(strstr(e.message, "out of range"));
	uint8_t trunc[] = {0, 0, 0, 0, (uint8_t)id, 0x54};
	assert_int_equal(sr_deserialize_jdoc(c2, trunc, sizeof trunc, NULL, &a, &n, NULL, &e),
			 BROOK_ERR);
	assert_non_null(strstr(e.message, "cannot decode a message written with schema"));
	assert_non_null(strstr(e.message, "at /name"));
	assert_int_equal(e.http_status, 0);
	/* an id the registry does not know: its status and code */
	uint8_t unknown[] = {0, 0, 0, 3, 0xe7, 0};
	assert_int_equal(sr_deserialize_jdoc(c2, unknown, sizeof unknown, NULL, &a, &n, NULL, &e),
			 BROOK_ERR);
	assert_int_equal(e.http_status, 404);
	assert_int_equal(e.error_code, 40403);
	assert_false(e.unreachable);
	/* sr_error may be NULL */
	assert_int_equal(sr_deserialize_jdoc(c2, bad, sizeof bad, NULL, &a, &n, NULL, NULL),
			 BROOK_ERR);
	/* the registry gone: cached ids still decode, others are "unreachable" */
	reg_api_close(f->api);
	f->api = NULL;
	assert_int_equal(sr_deserialize_jdoc(c2, msg, out.len, NULL, &a, &n, NULL, &e), BROOK_OK);
	assert_int_equal(sr_deserialize_jdoc(c2, unknown, sizeof unknown, NULL, &a, &n, NULL, &e),
			 BROOK_ERR);
	assert_true(e.unreachable);
	assert_int_equal(e.http_status, 0);
	assert_null(n);
	json_t *j = (json_t *)1;
	assert_int_equal(sr_deserialize(c2, unknown, sizeof unknown, NULL, &j, NULL, &e),
			 BROOK_ERR);
	assert_true(e.unreachable);
	assert_null(j);

	brook_arena_release(&a);
	json_decref(v);
	brook_buf_release(&out);
	avro_schema_free(w);
	avro_schema_free(r);
	sr_client_free(c2);
	sr_client_free(c);
}

typedef struct worker {
	sr_client *c;
	const avro_schema *s;
	int fails;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < 50; i++) {
		brook_buf out = BROOK_BUF_INIT;
		json_t *v = json_pack("{s:i, s:s}", "id", i, "name", "t");
		json_t *got = NULL;
		if (sr_serialize(w->c, i % 2 ? "a-value" : "b-value", w->s, v, &out, NULL) ||
		    sr_deserialize(w->c, (const uint8_t *)out.data, out.len, NULL, &got, NULL,
				   NULL) ||
		    !json_equal(got, v))
			w->fails++;
		json_decref(got);
		json_decref(v);
		brook_buf_release(&out);
	}
	return NULL;
}

static void test_threads(void **state)
{
	fixture *f = *state;
	sr_client *c = sr_client_new(f->url, NULL);
	avro_schema *s = parse(REC1);
	pthread_t t[4];
	worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (worker){c, s, 0};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].fails, 0);
	}
	/* at most one registration per (thread, subject) raced; usually 2 */
	assert_true(sr_client_requests(c) <= 8);
	avro_schema_free(s);
	sr_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serde, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serde_jdoc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
