/*
 * test_connect.c — brook connect without PostgreSQL: the JSON records of changes (values
 * by type, rows with unchanged TOAST values, keys, Debezium envelopes, tombstones),
 * config validation, and the connector manager (persisted connectors restored with their
 * pause flag, create/update/delete, a task that cannot reach PostgreSQL ends FAILED with
 * a trace).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connect/connect_int.h"
#include "connect/worker.h"
#include "core/err.h"
#include "core/fileio.h"

/* ---- JSON records ---- */

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
		    : strdup("NULL");
	json_decref(j);
	return s;
}

static void check_value(uint32_t oid, const char *text, const char *want)
{
	char *got = dump(connect_json_value(oid, (const uint8_t *)text, strlen(text)));
	assert_string_equal(got, want);
	free(got);
}

static void test_values(void **state)
{
	(void)state;
	check_value(16, "t", "true");
	check_value(16, "f", "false");
	check_value(23, "42", "42");
	check_value(20, "-9223372036854775808", "-9223372036854775808");
	check_value(21, "x1", "\"x1\"");
	check_value(701, "1.5", "1.5");
	check_value(701, "NaN", "\"NaN\"");
	check_value(700, "Infinity", "\"Infinity\"");
	check_value(1700, "12.340", "\"12.340\"");
	check_value(25, "h\"i", "\"h\\\"i\"");
	check_value(25, "", "\"\"");
	check_value(99999, "(1,2)", "\"(1,2)\"");
	check_value(25, "caf\xc3\xa9", "\"caf\xc3\xa9\"");
	check_value(25, "caf\xe9!", "\"caf?!\"");
	assert_true(connect_json_type_known(1184));
	assert_false(connect_json_type_known(99999));
}

static pgo_column cols[] = {
	{PGO_COLUMN_KEY, "id", 23, -1},
	{0, "name", 25, -1},
	{0, "bio", 25, -1},
};
static pgo_relation rel = {16384, "public", "users", 'd', 3, cols};

#define TXT(s) {PGO_VALUE_TEXT, sizeof(s) - 1, (const uint8_t *)(s)}
#define NUL    {PGO_VALUE_NULL, 0, NULL}
#define UNCH   {PGO_VALUE_UNCHANGED, 0, NULL}

static pgo_value new_vals[] = {TXT("7"), TXT("ada"), UNCH};
static pgo_value old_full[] = {TXT("7"), TXT("ad"), TXT("long bio")};
static pgo_value old_key[] = {TXT("7"), NUL, NUL};
static pgo_tuple new_t = {3, new_vals};
static pgo_tuple old_full_t = {3, old_full};
static pgo_tuple old_key_t = {3, old_key};

static void test_rows_and_keys(void **state)
{
	(void)state;
	char *s = dump(connect_json_row(&rel, &new_t, NULL));
	assert_string_equal(s, "{\"id\":7,\"name\":\"ada\","
			       "\"bio\":\"__debezium_unavailable_value\"}");
	free(s);
	s = dump(connect_json_row(&rel, &new_t, &old_full_t));
	assert_string_equal(s, "{\"id\":7,\"name\":\"ada\",\"bio\":\"long bio\"}");
	free(s);

	pg_cdc_change ins = {'c', &rel, 0, NULL, &new_t, 100};
	s = dump(connect_json_key(&ins));
	assert_string_equal(s, "{\"id\":7}");
	free(s);
	pg_cdc_change del = {'d', &rel, 'K', &old_key_t, NULL, 100};
	s = dump(connect_json_key(&del));
	assert_string_equal(s, "{\"id\":7}");
	free(s);
	/* No key columns (REPLICA IDENTITY NOTHING): a null key. */
	pgo_column nk_cols[] = {{0, "v", 25, -1}};
	pgo_relation nk = {1, "s", "t", 'n', 1, nk_cols};
	pgo_value v[] = {TXT("x")};
	pgo_tuple t = {1, v};
	pg_cdc_change nkc = {'c', &nk, 0, NULL, &t, 1};
	assert_null(connect_json_key(&nkc));
}

static json_t *record(const pg_cdc_change *ch, bool row)
{
	connect_source_info src = {"brook", 734, 1700000000000, ch->lsn, row};
	return connect_json_value_record(ch, &src, 1700000000123);
}

static void test_envelopes(void **state)
{
	(void)state;
	pg_cdc_change ins = {'c', &rel, 0, NULL, &new_t, 0x16B3748};
	json_t *v = record(&ins, false);
	assert_string_equal(json_string_value(json_object_get(v, "op")), "c");
	assert_true(json_is_null(json_object_get(v, "before")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "after"), "id")),
			 7);
	json_t *src = json_object_get(v, "source");
	assert_string_equal(json_string_value(json_object_get(src, "snapshot")), "false");
	assert_string_equal(json_string_value(json_object_get(src, "schema")), "public");
	assert_string_equal(json_string_value(json_object_get(src, "table")), "users");
	assert_string_equal(json_string_value(json_object_get(src, "name")), "brook");
	assert_int_equal(json_integer_value(json_object_get(src, "txId")), 734);
	assert_int_equal(json_integer_value(json_object_get(src, "lsn")), 0x16B3748);
	assert_int_equal(json_integer_value(json_object_get(src, "ts_ms")), 1700000000000);
	assert_int_equal(json_integer_value(json_object_get(v, "ts_ms")), 1700000000123);
	json_decref(v);

	/* An update with a key-only old row: before is null (as Debezium). */
	pg_cdc_change upd = {'u', &rel, 'K', &old_key_t, &new_t, 1};
	v = record(&upd, false);
	assert_true(json_is_null(json_object_get(v, "before")));
	json_decref(v);
	/* REPLICA IDENTITY FULL: before is the old row, after's TOAST value from it. */
	pg_cdc_change updf = {'u', &rel, 'O', &old_full_t, &new_t, 1};
	v = record(&updf, false);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "before"),
							      "name")), "ad");
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "after"),
							      "bio")), "long bio");
	json_decref(v);

	pg_cdc_change del = {'d', &rel, 'K', &old_key_t, NULL, 1};
	v = record(&del, false);
	assert_string_equal(json_string_value(json_object_get(v, "op")), "d");
	assert_true(json_is_null(json_object_get(v, "after")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "before"), "id")),
			 7);
	json_decref(v);
	assert_null(record(&del, true)); /* envelope=row: a tombstone */

	pg_cdc_change snap = {'r', &rel, 0, NULL, &new_t, 0};
	v = record(&snap, false);
	src = json_object_get(v, "source");
	assert_string_equal(json_string_value(json_object_get(src, "snapshot")), "true");
	assert_true(json_is_null(json_object_get(src, "txId")));
	assert_true(json_is_null(json_object_get(src, "lsn")));
	json_decref(v);
	char *s = dump(record(&snap, true));
	assert_string_equal(s, "{\"id\":7,\"name\":\"ada\","
			       "\"bio\":\"__debezium_unavailable_value\"}");
	free(s);
}

/* ---- configs ---- */

static void check_config(const char *json, int want, const char *msg_part)
{
	char err[512] = "";
	json_error_t je;
	json_t *cfg = json_loads(json, 0, &je);
	assert_non_null(cfg);
	assert_int_equal(connect_config_validate(cfg, err, sizeof err), want);
	if (msg_part && !strstr(err, msg_part))
		fail_msg("'%s' lacks '%s'", err, msg_part);
	json_decref(cfg);
}

#define URL "\"connection.url\":\"host=127.0.0.1\""

static void test_configs(void **state)
{
	(void)state;
	check_config("{\"connector.class\":\"postgres-cdc\"," URL "}", BROOK_OK, NULL);
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"snapshot.mode\":\"never\","
		     "\"envelope\":\"row\",\"slot.name\":\"s_1\",\"errors.retry.max\":\"3\"}",
		     BROOK_OK, NULL);
	check_config("{}", BROOK_ERR, "connector.class");
	check_config("{\"connector.class\":\"jdbc\"}", BROOK_ERR, "unknown connector.class");
	check_config("{\"connector.class\":\"postgres-cdc\"}", BROOK_ERR, "connection.url");
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"value.format\":\"avro\"}",
		     BROOK_OK, NULL);
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"value.format\":\"avro\","
		     "\"registry.url\":\"localhost:8081\"}",
		     BROOK_ERR, "registry.url");
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"value.format\":\"xml\"}",
		     BROOK_ERR, "value.format");
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"slot.name\":\"Bad-Slot\"}",
		     BROOK_ERR, "slot.name");
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"snapshot.mode\":\"x\"}",
		     BROOK_ERR, "snapshot.mode");
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"errors.retry.max\":\"0\"}",
		     BROOK_ERR, "errors.retry.max");
	check_config("{\"connector.class\":\"postgres-cdc\"," URL ",\"x\":{}}", BROOK_ERR,
		     "string");
	assert_true(connect_name_valid("pg-1.users_x"));
	assert_false(connect_name_valid(""));
	assert_false(connect_name_valid(".hidden"));
	assert_false(connect_name_valid("a/b"));
}

/* ---- the manager ---- */

static connect_worker *worker_open(const char *dir)
{
	char err[512];
	connect_worker_opts o = {.data_dir = dir, .kafka_bootstrap = "127.0.0.1:1",
				 .worker_id = "test-worker"};
	connect_worker *w = connect_worker_open(&o, err, sizeof err);
	if (!w)
		fail_msg("%s", err);
	return w;
}

static const char *task_state(connect_worker *w, const char *name, char *trace, size_t n)
{
	static char state[32];
	json_t *st = connect_worker_status(w, name);
	assert_non_null(st);
	json_t *task = json_array_get(json_object_get(st, "tasks"), 0);
	snprintf(state, sizeof state, "%s", json_string_value(json_object_get(task, "state")));
	const char *t = json_string_value(json_object_get(task, "trace"));
	snprintf(trace, n, "%s", t ? t : "");
	json_decref(st);
	return state;
}

static void test_worker(void **state)
{
	(void)state;
	char dir[] = "/tmp/brook-test-connect-XXXXXX";
	assert_non_null(mkdtemp(dir));
	connect_worker *w = worker_open(dir);
	char err[512], trace[1024];
	bool created;
	json_error_t je;
	/* Nothing listens on port 1: the task fails at once, retries once, then FAILED. */
	json_t *cfg = json_loads("{\"connector.class\":\"postgres-cdc\",\"connection.url\":"
				 "\"host=127.0.0.1 port=1 connect_timeout=1\","
				 "\"errors.retry.max\":\"2\","
				 "\"errors.retry.backoff.max.ms\":\"10\","
				 "\"kafka.connect.timeout.ms\":\"100\",\"kafka.bootstrap\":"
				 "\"127.0.0.1:1\"}", 0, &je);
	assert_int_equal(connect_worker_put(w, "a", cfg, true, &created, err, sizeof err),
			 BROOK_OK);
	assert_true(created);
	assert_int_equal(connect_worker_put(w, "a", cfg, true, &created, err, sizeof err),
			 CONNECT_EXISTS);
	assert_int_equal(connect_worker_put(w, "b", cfg, false, &created, err, sizeof err),
			 BROOK_OK);
	assert_true(created);
	json_t *bad = json_pack("{s:s}", "connector.class", "nope");
	assert_int_equal(connect_worker_put(w, "c", bad, false, &created, err, sizeof err),
			 BROOK_ERR);
	json_decref(bad);
	for (int i = 0; i < 200; i++) {
		if (strcmp(task_state(w, "a", trace, sizeof trace), "FAILED") == 0)
			break;
		usleep(50000);
	}
	assert_string_equal(task_state(w, "a", trace, sizeof trace), "FAILED");
	assert_true(strlen(trace) > 0);
	json_t *st = connect_worker_status(w, "a");
	assert_string_equal(json_string_value(json_object_get(json_object_get(st, "connector"),
							       "worker_id")), "test-worker");
	json_decref(st);

	assert_int_equal(connect_worker_pause(w, "b"), BROOK_OK);
	assert_string_equal(task_state(w, "b", trace, sizeof trace), "PAUSED");
	assert_int_equal(connect_worker_pause(w, "zz"), CONNECT_NOT_FOUND);
	assert_int_equal(connect_worker_restart(w, "a"), BROOK_OK);
	assert_int_equal(connect_worker_delete(w, "zz"), CONNECT_NOT_FOUND);
	assert_null(connect_worker_status(w, "zz"));
	assert_null(connect_worker_config(w, "zz"));
	connect_worker_close(w);

	/* Restored from the file, b still paused; the config has its name. */
	w = worker_open(dir);
	char *names = dump(connect_worker_names(w));
	assert_string_equal(names, "[\"a\",\"b\"]");
	free(names);
	assert_string_equal(task_state(w, "b", trace, sizeof trace), "PAUSED");
	json_t *got = connect_worker_config(w, "b");
	assert_string_equal(json_string_value(json_object_get(got, "name")), "b");
	assert_string_equal(json_string_value(json_object_get(got, "errors.retry.max")), "2");
	json_decref(got);
	assert_int_equal(connect_worker_resume(w, "b"), BROOK_OK);
	assert_int_equal(connect_worker_delete(w, "a"), BROOK_OK);
	assert_null(connect_worker_config(w, "a"));
	connect_worker_close(w);

	w = worker_open(dir);
	names = dump(connect_worker_names(w));
	assert_string_equal(names, "[\"b\"]");
	free(names);
	connect_worker_close(w);
	json_decref(cfg);

	/* A corrupt connectors file is an error at open, not silently dropped. */
	char path[256];
	snprintf(path, sizeof path, "%s/connect/connectors.json", dir);
	assert_int_equal(brook_file_write_atomic(path, "{\"connectors\":7}", 16), BROOK_OK);
	connect_worker_opts o = {.data_dir = dir, .kafka_bootstrap = "127.0.0.1:1",
				 .worker_id = "w"};
	assert_null(connect_worker_open(&o, err, sizeof err));
	assert_non_null(strstr(err, "connectors"));
	assert_int_equal(brook_remove_tree(dir), BROOK_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_rows_and_keys),
		cmocka_unit_test(test_envelopes),
		cmocka_unit_test(test_configs),
		cmocka_unit_test(test_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
