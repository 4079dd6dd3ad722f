/*
 * test_registry_api.c — the Schema Registry's REST API in-process (httpd on an ephemeral
 * port, the memory log), driven over HTTP with core/httpc.h: every endpoint, Confluent's
 * error codes and statuses, verbose compatibility, content types.
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
#include "core/httpc.h"
#include "registry/api.h"
#include "registry/log.h"
#include "registry/store.h"

#define CT "application/vnd.schemaregistry.v1+json"

typedef struct fixture {
	reg_log *log;
	reg_store *st;
	reg_api *api;
	brook_httpc *c;
	int port;
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
	f->port = reg_api_port(f->api);
	f->c = brook_httpc_new(NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	brook_httpc_free(f->c);
	reg_api_close(f->api);
	f->log->ops->close(f->log);
	reg_store_free(f->st);
	free(f);
	return 0;
}

/* Do a request; returns the status; *body (may be NULL) the response text (free()). */
static long req(fixture *f, const char *method, const char *path, const char *ctype,
		const char *body, char **out)
{
	char url[1024];
	brook_httpc_result res;
	memset(&res, 0, sizeof res);
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->port, path);
	assert_int_equal(brook_httpc_request(f->c, method, url, ctype, body,
					     body ? strlen(body) : 0, &res), BROOK_OK);
	long status = res.status;
	if (status != 405 && status != 404 && strstr(path, "/nothing") == NULL)
		assert_string_equal(res.content_type, CT);
	if (out) {
		*out = calloc(1, res.body.len + 1);
		if (res.body.len)
			memcpy(*out, res.body.data, res.body.len);
	}
	brook_httpc_result_release(&res);
	return status;
}

/* Request and compare the body exactly. */
static void expect(fixture *f, const char *method, const char *path, const char *body,
		   long status, const char *want)
{
	char *got;
	long st = req(f, method, path, body ? CT : NULL, body, &got);
	if (st != status || (want && strcmp(got, want) != 0))
		fail_msg("%s %s: got %ld %s, want %ld %s", method, path, st, got, status,
			 want ? want : "");
	free(got);
}

/* Request and check the status and Confluent error_code. */
static void expect_error(fixture *f, const char *method, const char *path, const char *body,
			 long status, int code)
{
	char *got;
	long st = req(f, method, path, body ? CT : NULL, body, &got);
	json_error_t je;
	json_t *j = json_loads(got, 0, &je);
	if (st != status || !j || json_integer_value(json_object_get(j, "error_code")) != code ||
	    !json_is_string(json_object_get(j, "message")))
		fail_msg("%s %s: got %ld %s, want %ld error %d", method, path, st, got, status,
			 code);
	json_decref(j);
	free(got);
}

#define REC1 "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"U\\\",\\\"fields\\\":[" \
	     "{\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"int\\\"}]}"
#define REC2 "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"U\\\",\\\"fields\\\":[" \
	     "{\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"b\\\"," \
	     "\\\"type\\\":\\\"long\\\",\\\"default\\\":0}]}"
#define REC3 "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"U\\\",\\\"fields\\\":[" \
	     "{\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"int\\\"},{\\\"name\\\":\\\"c\\\"," \
	     "\\\"type\\\":\\\"long\\\"}]}"
#define RAW1 "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"a\"," \
	     "\"type\":\"int\"}]}"
#define BODY(s) "{\"schema\":\"" s "\"}"

static void test_root_and_types(void **state)
{
	fixture *f = *state;
	expect(f, "GET", "/", NULL, 200, "{}");
	expect(f, "GET", "/schemas/types", NULL, 200, "[\"AVRO\"]");
	expect(f, "GET", "/subjects", NULL, 200, "[]");
}

static void test_register_and_read(void **state)
{
	fixture *f = *state;
	expect(f, "POST", "/subjects/users-value/versions", BODY(REC1), 200, "{\"id\":1}");
	/* idempotent */
	expect(f, "POST", "/subjects/users-value/versions", BODY(REC1), 200, "{\"id\":1}");
	/* same schema, other subject: same id */
	expect(f, "POST", "/subjects/other/versions", BODY(REC1), 200, "{\"id\":1}");
	expect(f, "POST", "/subjects/users-value/versions",
	       "{\"schema\":\"" REC2 "\",\"schemaType\":\"AVRO\",\"references\":[]}", 200,
	       "{\"id\":2}");
	expect(f, "GET", "/subjects", NULL, 200, "[\"other\",\"users-value\"]");
	expect(f, "GET", "/subjects/users-value/versions", NULL, 200, "[1,2]");
	expect(f, "GET", "/subjects/users-value/versions/1", NULL, 200,
	       "{\"subject\":\"users-value\",\"version\":1,\"id\":1,\"schema\":\"" REC1 "\"}");
	expect(f, "GET", "/subjects/users-value/versions/latest", NULL, 200,
	       "{\"subject\":\"users-value\",\"version\":2,\"id\":2,\"schema\":\"" REC2 "\"}");
	expect(f, "GET", "/subjects/users-value/versions/1/schema", NULL, 200, RAW1);
	expect(f, "GET", "/schemas/ids/1", NULL, 200, "{\"schema\":\"" REC1 "\"}");
	expect(f, "GET", "/schemas/ids/1/schema", NULL, 200, RAW1);
	expect(f, "GET", "/schemas/ids/1/subjects", NULL, 200, "[\"other\",\"users-value\"]");
	expect(f, "GET", "/schemas/ids/1?fetchMaxId=true", NULL, 200,
	       "{\"schema\":\"" REC1 "\",\"maxId\":2}");
	expect(f, "GET", "/subjects/users-value/versions/1/referencedby", NULL, 200, "[]");
	expect_error(f, "GET", "/subjects/users-value/versions/7/referencedby", NULL, 404, 40402);
	expect(f, "GET", "/schemas/ids/1/versions", NULL, 200,
	       "[{\"subject\":\"other\",\"version\":1},{\"subject\":\"users-value\","
	       "\"version\":1}]");
	/* lookup */
	expect(f, "POST", "/subjects/users-value", BODY(REC2), 200,
	       "{\"subject\":\"users-value\",\"version\":2,\"id\":2,\"schema\":\"" REC2 "\"}");
	expect_error(f, "POST", "/subjects/users-value", BODY("\\\"int\\\""), 404, 40403);
	expect_error(f, "POST", "/subjects/nobody", BODY(REC1), 404, 40401);

	/* not found and invalid */
	expect_error(f, "GET", "/schemas/ids/99", NULL, 404, 40403);
	expect_error(f, "GET", "/schemas/ids/x", NULL, 404, 40403);
	expect_error(f, "GET", "/schemas/ids/99/versions", NULL, 404, 40403);
	expect_error(f, "GET", "/subjects/nobody/versions", NULL, 404, 40401);
	expect_error(f, "GET", "/subjects/nobody/versions/1", NULL, 404, 40401);
	expect_error(f, "GET", "/subjects/users-value/versions/3", NULL, 404, 40402);
	expect_error(f, "GET", "/subjects/users-value/versions/0", NULL, 422, 42202);
	expect_error(f, "GET", "/subjects/users-value/versions/abc/schema", NULL, 422, 42202);
	expect_error(f, "POST", "/subjects/s/versions", "{\"schema\":\"{\\\"type\\\":1}\"}", 422,
		     42201);
	expect_error(f, "POST", "/subjects/s/versions", "{\"schema\":\"{}\",\"schemaType\":"
		     "\"PROTOBUF\"}", 422, 42201);
	expect_error(f, "POST", "/subjects/s/versions", "{\"schema\":\"\\\"int\\\"\","
		     "\"references\":[{\"name\":\"x\",\"subject\":\"y\",\"version\":1}]}", 422,
		     42201);
	expect_error(f, "POST", "/subjects/s/versions", "{}", 422, 42201);
	expect_error(f, "POST", "/subjects/s/versions", "{bad", 400, 400);
	expect(f, "GET", "/subjects", NULL, 200, "[\"other\",\"users-value\"]");
}

static void test_compatibility(void **state)
{
	fixture *f = *state;
	expect(f, "POST", "/subjects/s/versions", BODY(REC1), 200, "{\"id\":1}");
	expect(f, "POST", "/compatibility/subjects/s/versions/latest", BODY(REC2), 200,
	       "{\"is_compatible\":true}");
	expect(f, "POST", "/compatibility/subjects/s/versions", BODY(REC2), 200,
	       "{\"is_compatible\":true}");
	expect(f, "POST", "/compatibility/subjects/s/versions/1", BODY(REC3), 200,
	       "{\"is_compatible\":false}");
	char *got;
	assert_int_equal(req(f, "POST", "/compatibility/subjects/s/versions/latest?verbose=true",
			     CT, BODY(REC3), &got), 200);
	json_error_t je;
	json_t *j = json_loads(got, 0, &je);
	assert_true(json_is_false(json_object_get(j, "is_compatible")));
	json_t *msgs = json_object_get(j, "messages");
	assert_true(json_array_size(msgs) >= 1);
	assert_non_null(strstr(json_string_value(json_array_get(msgs, 0)),
			       "READER_FIELD_MISSING_DEFAULT_VALUE"));
	json_decref(j);
	free(got);
	expect(f, "POST", "/compatibility/subjects/s/versions/latest?verbose=true", BODY(REC2),
	       200, "{\"is_compatible\":true,\"messages\":[]}");
	/* 409 on register, with the reasons in the message */
	assert_int_equal(req(f, "POST", "/subjects/s/versions", CT, BODY(REC3), &got), 409);
	assert_non_null(strstr(got, "\"error_code\":409"));
	assert_non_null(strstr(got, "incompatible"));
	free(got);
	expect_error(f, "POST", "/compatibility/subjects/s/versions/7", BODY(REC2), 404, 40402);
	expect_error(f, "POST", "/compatibility/subjects/zz/versions/1", BODY(REC2), 404, 40401);
	expect_error(f, "POST", "/compatibility/subjects/s/versions/x", BODY(REC2), 422, 42202);
	expect_error(f, "POST", "/compatibility/subjects/s/versions/1", BODY("{"), 422, 42201);
	/* with NONE it registers */
	expect(f, "PUT", "/config/s", "{\"compatibility\":\"NONE\"}", 200,
	       "{\"compatibility\":\"NONE\"}");
	expect(f, "POST", "/subjects/s/versions", BODY(REC3), 200, "{\"id\":2}");
}

static void test_config(void **state)
{
	fixture *f = *state;
	expect(f, "GET", "/config", NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}");
	expect(f, "PUT", "/config", "{\"compatibility\":\"full\"}", 200,
	       "{\"compatibility\":\"FULL\"}");
	expect(f, "GET", "/config", NULL, 200, "{\"compatibilityLevel\":\"FULL\"}");
	expect_error(f, "PUT", "/config", "{\"compatibility\":\"SIDEWAYS\"}", 422, 42203);
	expect_error(f, "PUT", "/config", "{}", 422, 42203);
	expect_error(f, "GET", "/config/s", NULL, 404, 40408);
	expect(f, "GET", "/config/s?defaultToGlobal=true", NULL, 200,
	       "{\"compatibilityLevel\":\"FULL\"}");
	expect(f, "PUT", "/config/s", "{\"compatibility\":\"FORWARD_TRANSITIVE\"}", 200,
	       "{\"compatibility\":\"FORWARD_TRANSITIVE\"}");
	expect(f, "GET", "/config/s", NULL, 200,
	       "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}");
	expect(f, "DELETE", "/config/s", NULL, 200,
	       "{\"compatibilityLevel\":\"FORWARD_TRANSITIVE\"}");
	expect_error(f, "GET", "/config/s", NULL, 404, 40408);
	expect_error(f, "DELETE", "/config/s", NULL, 404, 40408);
	expect(f, "DELETE", "/config", NULL, 200, "{\"compatibilityLevel\":\"FULL\"}");
	expect(f, "GET", "/config", NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}");
}

static void test_deletes(void **state)
{
	fixture *f = *state;
	expect(f, "PUT", "/config", "{\"compatibility\":\"NONE\"}", 200, NULL);
	expect(f, "POST", "/subjects/s/versions", BODY("\\\"int\\\""), 200, "{\"id\":1}");
	expect(f, "POST", "/subjects/s/versions", BODY("\\\"long\\\""), 200, "{\"id\":2}");
	expect(f, "POST", "/subjects/s/versions", BODY("\\\"string\\\""), 200, "{\"id\":3}");
	expect_error(f, "DELETE", "/subjects/s/versions/2?permanent=true", NULL, 404, 40407);
	expect(f, "DELETE", "/subjects/s/versions/2", NULL, 200, "2");
	expect_error(f, "DELETE", "/subjects/s/versions/2", NULL, 404, 40406);
	expect_error(f, "DELETE", "/subjects/s/versions/9", NULL, 404, 40402);
	expect_error(f, "DELETE", "/subjects/s/versions/0", NULL, 422, 42202);
	expect_error(f, "DELETE", "/subjects/q/versions/1", NULL, 404, 40401);
	expect(f, "GET", "/subjects/s/versions", NULL, 200, "[1,3]");
	expect(f, "GET", "/subjects/s/versions?deleted=true", NULL, 200, "[1,2,3]");
	expect_error(f, "GET", "/subjects/s/versions/2", NULL, 404, 40402);
	expect(f, "GET", "/subjects/s/versions/2?deleted=true", NULL, 200,
	       "{\"subject\":\"s\",\"version\":2,\"id\":2,\"schema\":\"\\\"long\\\"\"}");
	expect(f, "DELETE", "/subjects/s/versions/2?permanent=true", NULL, 200, "2");
	expect(f, "GET", "/subjects/s/versions?deleted=true", NULL, 200, "[1,3]");
	expect(f, "DELETE", "/subjects/s/versions/latest", NULL, 200, "3");
	expect(f, "GET", "/subjects/s/versions/latest", NULL, 200,
	       "{\"subject\":\"s\",\"version\":1,\"id\":1,\"schema\":\"\\\"int\\\"\"}");

	expect_error(f, "DELETE", "/subjects/s?permanent=true", NULL, 404, 40405);
	expect(f, "DELETE", "/subjects/s", NULL, 200, "[1]");
	expect_error(f, "DELETE", "/subjects/s", NULL, 404, 40404);
	expect(f, "GET", "/subjects", NULL, 200, "[]");
	expect(f, "GET", "/subjects?deleted=true", NULL, 200, "[\"s\"]");
	expect_error(f, "GET", "/subjects/s/versions", NULL, 404, 40401);
	expect(f, "DELETE", "/subjects/s?permanent=true", NULL, 200, "[1,3]");
	expect(f, "GET", "/subjects?deleted=true", NULL, 200, "[]");
	expect_error(f, "DELETE", "/subjects/s", NULL, 404, 40401);
	/* ids survive their versions and are not reused */
	expect(f, "GET", "/schemas/ids/2", NULL, 200, "{\"schema\":\"\\\"long\\\"\"}");
	expect(f, "POST", "/subjects/t/versions", BODY("\\\"double\\\""), 200, "{\"id\":4}");
	expect(f, "POST", "/subjects/t/versions", BODY("\\\"long\\\""), 200, "{\"id\":2}");
}

static void test_content_types(void **state)
{
	fixture *f = *state;
	const char *ok[] = {"application/vnd.schemaregistry.v1+json",
			    "application/vnd.schemaregistry+json", "application/json",
			    "application/json; charset=utf-8", "application/octet-stream"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char *got;
		assert_int_equal(req(f, "POST", "/subjects/s/versions", ok[i],
				     BODY("\\\"int\\\""), &got), 200);
		assert_string_equal(got, "{\"id\":1}");
		free(got);
	}
	char *got;
	assert_int_equal(req(f, "POST", "/subjects/s/versions", "text/plain",
			     BODY("\\\"int\\\""), &got), 415);
	assert_non_null(strstr(got, "\"error_code\":415"));
	free(got);
	/* unknown route and method: httpd's own answers */
	assert_int_equal(req(f, "GET", "/nothing/here", NULL, NULL, NULL), 404);
	assert_int_equal(req(f, "PATCH", "/subjects", NULL, NULL, NULL), 405);
}

static void test_subject_names_encoded(void **state)
{
	fixture *f = *state;
	expect(f, "POST", "/subjects/a%2Fb%20c/versions", BODY("\\\"int\\\""), 200, "{\"id\":1}");
	expect(f, "GET", "/subjects", NULL, 200, "[\"a/b c\"]");
	expect(f, "GET", "/subjects/a%2Fb%20c/versions", NULL, 200, "[1]");
}

static void test_second_registry_on_one_log(void **state)
{
	/* A second store following the same log agrees, and a record it did not write
	 * (another registry's) shows in this one's answers. */
	fixture *f = *state;
	expect(f, "POST", "/subjects/s/versions", BODY("\\\"int\\\""), 200, "{\"id\":1}");
	int64_t off;
	char err[128];
	const char *k = "{\"keytype\":\"SCHEMA\",\"subject\":\"x\",\"version\":1,\"magic\":1}";
	const char *v = "{\"subject\":\"x\",\"version\":1,\"id\":2,\"schema\":\"\\\"long\\\"\","
			"\"deleted\":false}";
	assert_int_equal(f->log->ops->append(f->log, k, strlen(k), v, strlen(v), &off, err,
					     sizeof err), BROOK_OK);
	expect(f, "GET", "/subjects", NULL, 200, "[\"s\",\"x\"]");
	expect(f, "POST", "/subjects/y/versions", BODY("\\\"string\\\""), 200, "{\"id\":3}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root_and_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compatibility, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subject_names_encoded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_registry_on_one_log, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
