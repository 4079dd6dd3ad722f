/* Unit tests for core/config: layering, types, errors that name file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

static const brook_cfg_key keys[] = {
	{"source.url", BROOK_CFG_STR, "http://127.0.0.1:8088/api/", "API URL", NULL},
	{"source.retries", BROOK_CFG_INT, "5", "retries", NULL},
	{"source.timeout", BROOK_CFG_DURATION, "30s", "timeout", NULL},
	{"source.rate", BROOK_CFG_DOUBLE, "0", "rate", NULL},
	{"broker.segment_bytes", BROOK_CFG_SIZE, "1GiB", "segment size", NULL},
	{"broker.auto_create", BROOK_CFG_BOOL, "true", "auto-create topics", NULL},
	{"log.format", BROOK_CFG_STR, "text", "format", "text|json"},
	{"postgres.dsn", BROOK_CFG_STR, NULL, "dsn", NULL},
	{"cassandra.contact_points", BROOK_CFG_LIST, "127.0.0.1:9042", "contact points", NULL},
	{"scheduler.dags", BROOK_CFG_TREE, NULL, "DAGs", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

static brook_config *fresh(void)
{
	brook_config *c = brook_config_new();
	brook_config_register(c, keys);
	return c;
}

static int load(brook_config *c, const char *yaml, char *err, size_t errlen)
{
	return brook_config_load_string(c, "test.yaml", yaml, strlen(yaml), err, errlen);
}

static void test_defaults(void **state)
{
	(void)state;
	brook_config *c = fresh();
	assert_string_equal(brook_config_str(c, "source.url"), "http://127.0.0.1:8088/api/");
	assert_int_equal(brook_config_int(c, "source.retries"), 5);
	assert_int_equal(brook_config_duration_ms(c, "source.timeout"), 30000);
	assert_int_equal(brook_config_size(c, "broker.segment_bytes"), 1ull << 30);
	assert_true(brook_config_bool(c, "broker.auto_create"));
	assert_null(brook_config_str(c, "postgres.dsn"));
	assert_false(brook_config_has(c, "postgres.dsn"));
	assert_null(brook_config_tree(c, "scheduler.dags"));
	const char *const *items;
	assert_int_equal(brook_config_list(c, "cassandra.contact_points", &items), 1);
	assert_string_equal(items[0], "127.0.0.1:9042");
	assert_string_equal(brook_config_origin(c, "source.url"), "default");
	brook_config_free(c);
}

static void test_nested_and_dotted(void **state)
{
	(void)state;
	brook_config *c = fresh();
	char err[256] = "";
	int rc = load(c,
		      "source:\n"
		      "  url: http://example.test/api/\n"
		      "  retries: 9\n"
		      "source.timeout: 1500ms\n"
		      "broker: {segment_bytes: 64MiB, auto_create: off}\n"
		      "cassandra:\n"
		      "  contact_points: [a:1, b:2]\n"
		      "log.format: json\n",
		      err, sizeof err);
	assert_int_equal(rc, BROOK_OK);
	assert_string_equal(brook_config_str(c, "source.url"), "http://example.test/api/");
	assert_int_equal(brook_config_int(c, "source.retries"), 9);
	assert_int_equal(brook_config_duration_ms(c, "source.timeout"), 1500);
	assert_int_equal(brook_config_size(c, "broker.segment_bytes"), 64ull << 20);
	assert_false(brook_config_bool(c, "broker.auto_create"));
	assert_string_equal(brook_config_str(c, "log.format"), "json");
	const char *const *items;
	assert_int_equal(brook_config_list(c, "cassandra.contact_points", &items), 2);
	assert_string_equal(items[1], "b:2");
	assert_string_equal(brook_config_origin(c, "source.retries"), "test.yaml:3");
	brook_config_free(c);
}

static void expect_error(const char *yaml, const char *needle)
{
	brook_config *c = fresh();
	char err[512] = "";
	assert_int_equal(load(c, yaml, err, sizeof err), BROOK_ERR);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
	brook_config_free(c);
}

static void test_errors_name_file_line_key(void **state)
{
	(void)state;
	expect_error("source:\n  url: x\n  retires: 3\n",
		     "test.yaml:3: unknown key 'source.retires' (did you mean 'source.retries'?)");
	expect_error("nothing_like_it: 1\n", "test.yaml:1: unknown key 'nothing_like_it'");
	expect_error("source:\n  retries: many\n",
		     "test.yaml:2: key 'source.retries': expected an integer, got 'many'");
	expect_error("source.timeout: soon\n", "test.yaml:1: key 'source.timeout': expected a "
		     "duration");
	expect_error("broker.segment_bytes: 12 parsecs\n", "expected a size");
	expect_error("broker.auto_create: maybe\n", "expected true or false");
	expect_error("source.rate: fast\n", "expected a number");
	expect_error("log.format: xml\n", "'xml' is not one of text|json");
	expect_error("source: 3\n", "test.yaml:1: 'source' is a section: expected a mapping");
	expect_error("source.url: [a, b]\n", "key 'source.url': expected string, got a list");
	expect_error("source:\n  url: a\n  url: b\n", "test.yaml:3: duplicate key 'url'");
	expect_error("a: &x 1\nb: *x\n", "aliases are not supported");
	expect_error("- 1\n- 2\n", "must be a mapping");
	expect_error("source: {url: [\n", "test.yaml:");
	expect_error("a: 1\n---\nb: 2\n", "only one YAML document");
}

static void test_failed_load_keeps_value(void **state)
{
	(void)state;
	brook_config *c = fresh();
	char err[256];
	assert_int_equal(load(c, "source.retries: 7\n", err, sizeof err), BROOK_OK);
	assert_int_equal(load(c, "source.retries: x7\n", err, sizeof err), BROOK_ERR);
	assert_int_equal(brook_config_int(c, "source.retries"), 7);
	brook_config_free(c);
}

static void test_precedence_env_and_set(void **state)
{
	(void)state;
	brook_config *c = fresh();
	char err[256];
	assert_int_equal(load(c, "source.retries: 7\nsource.url: from-file\n", err, sizeof err),
			 BROOK_OK);
	setenv("BROOK_SOURCE_RETRIES", "8", 1);
	setenv("BROOK_CASSANDRA_CONTACT_POINTS", "x:1, y:2 ,z:3", 1);
	assert_int_equal(brook_config_load_env(c, err, sizeof err), BROOK_OK);
	assert_int_equal(brook_config_int(c, "source.retries"), 8);
	assert_string_equal(brook_config_origin(c, "source.retries"), "env BROOK_SOURCE_RETRIES");
	const char *const *items;
	assert_int_equal(brook_config_list(c, "cassandra.contact_points", &items), 3);
	assert_string_equal(items[1], "y:2");
	assert_int_equal(brook_config_set(c, "source.retries=9", "--set", err, sizeof err),
			 BROOK_OK);
	assert_int_equal(brook_config_int(c, "source.retries"), 9);
	assert_string_equal(brook_config_str(c, "source.url"), "from-file");
	/* Values may contain '='. */
	assert_int_equal(brook_config_set(c, "postgres.dsn=host=/tmp port=5433", "--set", err,
					  sizeof err), BROOK_OK);
	assert_string_equal(brook_config_str(c, "postgres.dsn"), "host=/tmp port=5433");
	assert_int_equal(brook_config_set(c, "source.retry=1", "--set", err, sizeof err),
			 BROOK_ERR);
	assert_non_null(strstr(err, "did you mean 'source.retries'"));
	assert_int_equal(brook_config_set(c, "no-equals", "--set", err, sizeof err), BROOK_ERR);
	setenv("BROOK_SOURCE_RETRIES", "lots", 1);
	assert_int_equal(brook_config_load_env(c, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "env BROOK_SOURCE_RETRIES"));
	unsetenv("BROOK_SOURCE_RETRIES");
	unsetenv("BROOK_CASSANDRA_CONTACT_POINTS");
	brook_config_free(c);
}

static void test_tree_and_null(void **state)
{
	(void)state;
	brook_config *c = fresh();
	char err[256];
	assert_int_equal(load(c,
			      "scheduler:\n"
			      "  dags:\n"
			      "    - dag_id: user_automation\n"
			      "      schedule: '@daily'\n"
			      "postgres.dsn: host=x\n",
			      err, sizeof err),
			 BROOK_OK);
	const brook_cfg_node *t = brook_config_tree(c, "scheduler.dags");
	assert_non_null(t);
	assert_int_equal(t->kind, BROOK_CFG_NODE_SEQ);
	assert_int_equal(t->n, 1);
	const brook_cfg_node *id = brook_cfg_map_get(t->items[0], "dag_id");
	assert_non_null(id);
	assert_string_equal(id->scalar, "user_automation");
	assert_int_equal(id->line, 3);
	assert_string_equal(brook_cfg_map_get(t->items[0], "schedule")->scalar, "@daily");
	/* null unsets */
	assert_int_equal(load(c, "postgres.dsn: ~\n", err, sizeof err), BROOK_OK);
	assert_null(brook_config_str(c, "postgres.dsn"));
	/* a tree from --set is parsed as YAML */
	assert_int_equal(brook_config_set(c, "scheduler.dags=[{dag_id: a}, {dag_id: b}]", "--set",
					  err, sizeof err), BROOK_OK);
	assert_int_equal(brook_config_tree(c, "scheduler.dags")->n, 2);
	brook_config_free(c);
}

static void test_dump_reloads(void **state)
{
	(void)state;
	brook_config *c = fresh();
	char err[256];
	assert_int_equal(load(c,
			      "source: {url: \"http://a/\\\"q\\\"\", retries: 3, rate: 2.5}\n"
			      "cassandra.contact_points: [h1, h2]\n"
			      "scheduler.dags: [{dag_id: x, tasks: [a, b]}]\n",
			      err, sizeof err), BROOK_OK);
	brook_buf dump = BROOK_BUF_INIT;
	brook_config_dump(c, &dump);
	assert_non_null(strstr(dump.data, "source.retries: 3  # test.yaml:1\n"));
	brook_config *d = fresh();
	if (brook_config_load_string(d, "dump", dump.data, dump.len, err, sizeof err) != BROOK_OK)
		fail_msg("dump does not reload: %s\n%s", err, dump.data);
	brook_buf again = BROOK_BUF_INIT;
	brook_config_dump(d, &again);
	/* Same values; only the origins differ. */
	assert_string_equal(brook_config_str(d, "source.url"), "http://a/\"q\"");
	assert_true(brook_config_double(d, "source.rate") == 2.5);
	assert_int_equal(brook_config_tree(d, "scheduler.dags")->n, 1);
	assert_int_equal(again.len > 0, 1);
	brook_buf_release(&dump);
	brook_buf_release(&again);
	brook_config_free(c);
	brook_config_free(d);
}

static void test_describe_and_env_name(void **state)
{
	(void)state;
	char env[64];
	brook_config_env_name("broker.segment_bytes", env, sizeof env);
	assert_string_equal(env, "BROOK_BROKER_SEGMENT_BYTES");
	brook_config *c = fresh();
	brook_buf b = BROOK_BUF_INIT;
	brook_config_describe(c, &b, true);
	assert_non_null(strstr(b.data, "| `source.retries` | integer | `5` | "
				       "`BROOK_SOURCE_RETRIES` | retries |"));
	assert_non_null(strstr(b.data, "| `log.format` | text\\|json |"));
	brook_buf_release(&b);
	brook_config_free(c);
}

static void test_depth_limit(void **state)
{
	(void)state;
	brook_buf y = BROOK_BUF_INIT;
	brook_buf_puts(&y, "scheduler.dags: ");
	for (int i = 0; i < 100; i++)
		brook_buf_putc(&y, '[');
	for (int i = 0; i < 100; i++)
		brook_buf_putc(&y, ']');
	brook_config *c = fresh();
	char err[256];
	assert_int_equal(load(c, y.data, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "nested deeper"));
	brook_buf_release(&y);
	brook_config_free(c);
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/brook-config-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\nsource:\n  retries: 2\n  bogus: 1\n", f);
	fclose(f);
	brook_config *c = fresh();
	char err[512];
	assert_int_equal(brook_config_load_file(c, path, err, sizeof err), BROOK_ERR);
	char want[256];
	snprintf(want, sizeof want, "%s:4: unknown key 'source.bogus'", path);
	assert_non_null(strstr(err, want));
	unlink(path);
	assert_int_equal(brook_config_load_file(c, path, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "cannot open"));
	brook_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_nested_and_dotted),
		cmocka_unit_test(test_errors_name_file_line_key),
		cmocka_unit_test(test_failed_load_keeps_value),
		cmocka_unit_test(test_precedence_env_and_set),
		cmocka_unit_test(test_tree_and_null),
		cmocka_unit_test(test_dump_reloads),
		cmocka_unit_test(test_describe_and_env_name),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
