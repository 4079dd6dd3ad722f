/* Unit tests for stream/job: the built-in `users` job (the reference transformation)
 * loads from config/brook.yaml and maps a randomuser record exactly as the reference
 * pipeline; its payload projection; its CQL; every class of load error with its
 * file:line and job prefix; job selection; and the sink's value binding by column type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/jdoc.h"
#include "core/uuid.h"
#include "cql/client.h"
#include "stream/job.h"
#include "stream/sink.h"

static int load(const char *yaml, stream_jobs *jobs, char *err, size_t errlen)
{
	char perr[512];
	brook_cfg_node *root = brook_cfg_parse_yaml("t.yaml", yaml, strlen(yaml), perr,
						    sizeof perr);
	if (!root)
		fail_msg("YAML did not parse: %s", perr);
	int rc = stream_jobs_load(root, "grp", jobs, err, errlen);
	brook_cfg_node_free(root);
	return rc;
}

static void expect_error(const char *yaml, const char *want)
{
	stream_jobs jobs;
	char err[1024] = "";
	int rc = load(yaml, &jobs, err, sizeof err);
	if (rc != BROOK_ERR || !strstr(err, want))
		fail_msg("want error containing \"%s\", got rc %d \"%s\"", want, rc, err);
	assert_int_equal(jobs.n, 0);
	assert_null(jobs.v);
}

/* The built-in configuration's jobs (config/brook.yaml, as embedded). */
static void builtin(stream_jobs *jobs)
{
	char err[1024];
	brook_cfg_node *root = brook_cfg_parse_yaml("built-in", brook_default_config_yaml,
						    strlen(brook_default_config_yaml), err,
						    sizeof err);
	if (!root)
		fail_msg("built-in YAML: %s", err);
	const brook_cfg_node *tree = brook_cfg_map_get(brook_cfg_map_get(root, "stream"), "jobs");
	assert_non_null(tree);
	if (stream_jobs_load(tree, "brook-stream", jobs, err, sizeof err) != BROOK_OK)
		fail_msg("built-in jobs: %s", err);
	brook_cfg_node_free(root);
}

static const char *col_text(const stream_job *j, const char *name, json_t *doc, brook_arena *a,
			    brook_buf *out)
{
	for (size_t i = 0; i < j->n_cols; i++) {
		if (strcmp(j->cols[i].name, name))
			continue;
		expr_value v;
		char err[256];
		if (expr_eval(j->cols[i].e, doc, a, &v, err, sizeof err) != BROOK_OK)
			fail_msg("%s: %s", name, err);
		brook_buf_reset(out);
		expr_value_to_text(&v, out);
		brook_buf_putc(out, 0);
		return (const char *)out->data;
	}
	fail_msg("no column %s", name);
	return NULL;
}

static void test_builtin_reference_transformation(void **state)
{
	(void)state;
	stream_jobs jobs;
	builtin(&jobs);
	assert_int_equal(jobs.n, 1);
	const stream_job *j = &jobs.v[0];
	assert_string_equal(j->name, "users");
	assert_string_equal(j->topics[0], "users_created");
	assert_string_equal(j->group, "brook-stream.users");
	assert_string_equal(j->payload, "payload");
	assert_string_equal(j->dlq_topic, "users_created.dlq");
	assert_int_equal(j->format, STREAM_FMT_AVRO);
	assert_int_equal(j->n_cols, 12);

	const char *user =
		"{\"gender\":\"female\",\"name\":{\"title\":\"Ms\",\"first\":\"Anna\","
		"\"last\":\"Krüger\"},\"location\":{\"street\":{\"number\":9486,\"name\":"
		"\"Ringstraße\"},\"city\":\"Düsseldorf\",\"state\":\"NRW\",\"country\":"
		"\"Germany\",\"postcode\":88085},\"email\":\"a@example.com\",\"login\":{\"uuid\":"
		"\"8a82216e-184b-405f-96bc-e0c35ee3eb7f\",\"username\":\"blackbird293\"},"
		"\"dob\":{\"date\":\"1988-02-16T19:28:11.449Z\",\"age\":36},\"registered\":"
		"{\"date\":\"2021-02-15T11:40:18.557Z\"},\"phone\":\"0401-8953424\",\"picture\":"
		"{\"medium\":\"https://randomuser.me/api/portraits/med/women/91.jpg\"}}";
	json_t *doc = json_loads(user, 0, NULL);
	assert_non_null(doc);
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b;
	brook_buf_init(&b, 128);
	/* python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL,
	 *             '8a82216e-184b-405f-96bc-e0c35ee3eb7f'))" */
	brook_uuid want;
	const char *ns_name = "8a82216e-184b-405f-96bc-e0c35ee3eb7f";
	brook_uuid_v5(&want, &brook_uuid_ns_url, ns_name, strlen(ns_name));
	char want_s[BROOK_UUID_STRLEN + 1];
	brook_uuid_format(&want, want_s);
	assert_string_equal(col_text(j, "id", doc, &a, &b), want_s);
	assert_string_equal(col_text(j, "first_name", doc, &a, &b), "Anna");
	assert_string_equal(col_text(j, "last_name", doc, &a, &b), "Krüger");
	assert_string_equal(col_text(j, "address", doc, &a, &b),
			    "9486 Ringstraße, Düsseldorf, NRW, Germany");
	assert_string_equal(col_text(j, "post_code", doc, &a, &b), "88085");
	assert_string_equal(col_text(j, "username", doc, &a, &b), "blackbird293");
	assert_string_equal(col_text(j, "dob", doc, &a, &b), "1988-02-16T19:28:11.449Z");
	assert_string_equal(col_text(j, "registered_date", doc, &a, &b),
			    "2021-02-15T11:40:18.557Z");
	assert_string_equal(col_text(j, "picture", doc, &a, &b),
			    "https://randomuser.me/api/portraits/med/women/91.jpg");
	/* A postcode given as a string stays that string. */
	json_object_set_new(json_object_get(doc, "location"), "postcode", json_string("SW1A 1AA"));
	assert_string_equal(col_text(j, "post_code", doc, &a, &b), "SW1A 1AA");

	brook_buf_reset(&b);
	stream_job_create_table_cql(j, &b);
	brook_buf_putc(&b, 0);
	assert_string_equal((const char *)b.data,
			    "CREATE TABLE IF NOT EXISTS spark_streams.created_users (id uuid, "
			    "first_name text, last_name text, gender text, address text, "
			    "post_code text, email text, username text, dob text, "
			    "registered_date text, phone text, picture text, "
			    "PRIMARY KEY ((id)))");
	brook_buf_reset(&b);
	stream_job_insert_cql(j, &b);
	brook_buf_putc(&b, 0);
	assert_non_null(strstr((const char *)b.data,
			       "INSERT INTO spark_streams.created_users (id, first_name, "));
	brook_buf_release(&b);
	brook_arena_release(&a);
	json_decref(doc);
	stream_jobs_free(&jobs);
}

/* The payload is parsed keeping only what the input shape names; every column maps the
 * same as from the whole document. */
static void test_builtin_projection(void **state)
{
	(void)state;
	stream_jobs jobs;
	builtin(&jobs);
	const stream_job *j = &jobs.v[0];
	assert_non_null(j->proj);
	const char *user =
	    "{\"gender\":\"male\",\"name\":{\"title\":\"Mr\",\"first\":\"\u0417\u043e\","
	    "\"last\":\"Li\"},\"location\":{\"street\":{\"number\":7,\"name\":\"Main\"},"
	    "\"city\":\"Kyiv\",\"state\":\"K\",\"country\":\"Ukraine\",\"postcode\":\"01001\","
	    "\"coordinates\":{\"latitude\":\"1.5\",\"longitude\":\"2.5\"}},\"email\":\"m@x.io\","
	    "\"login\":{\"uuid\":\"0b1d7c5e-3f3a-4b8e-9a4c-2f1e0d9c8b7a\",\"username\":\"u1\","
	    "\"password\":\"hunter2\",\"sha256\":\"abc\"},\"dob\":{\"date\":"
	    "\"1990-01-01T00:00:00.000Z\",\"age\":35},\"registered\":{\"date\":"
	    "\"2020-01-01T00:00:00.000Z\",\"age\":5},\"phone\":\"1\",\"cell\":\"2\","
	    "\"id\":{\"name\":\"\",\"value\":null},\"picture\":{\"large\":\"l\",\"medium\":\"m\"},"
	    "\"nat\":\"UA\"}";
	brook_jdoc_parser *jp = brook_jdoc_parser_new();
	brook_arena a = BROOK_ARENA_INIT;
	char err[256];
	const brook_jnode *full =
	    brook_jdoc_parser_parse(jp, user, strlen(user), &a, err, sizeof err);
	const brook_jnode *proj =
	    brook_jdoc_parser_parse_proj(jp, user, strlen(user), j->proj, &a, err, sizeof err);
	assert_non_null(full);
	assert_non_null(proj);
	const brook_jnode *login = brook_jnode_get(proj, "login", 5);
	assert_non_null(brook_jnode_get(login, "uuid", 4));
	assert_null(brook_jnode_get(login, "password", 8));
	assert_null(brook_jnode_get(proj, "nat", 3));
	assert_null(brook_jnode_get(brook_jnode_get(proj, "dob", 3), "age", 3));
	assert_null(brook_jnode_get(brook_jnode_get(proj, "location", 8), "coordinates", 11));
	brook_buf x, y;
	brook_buf_init(&x, 64);
	brook_buf_init(&y, 64);
	for (size_t i = 0; i < j->n_cols; i++) {
		expr_value vf, vp;
		assert_int_equal(expr_eval_node(j->cols[i].e, full, &a, &vf, err, sizeof err),
				 BROOK_OK);
		assert_int_equal(expr_eval_node(j->cols[i].e, proj, &a, &vp, err, sizeof err),
				 BROOK_OK);
		brook_buf_reset(&x);
		brook_buf_reset(&y);
		expr_value_to_text(&vf, &x);
		expr_value_to_text(&vp, &y);
		assert_int_equal(x.len, y.len);
		assert_memory_equal(x.data, y.data, x.len);
	}
	brook_buf_release(&x);
	brook_buf_release(&y);
	brook_arena_release(&a);
	brook_jdoc_parser_free(jp);
	stream_jobs_free(&jobs);
}

static const char minimal_head[] = "j:\n"
				   "  source: {topics: [t], format: json}\n";

static void test_keys_and_defaults(void **state)
{
	(void)state;
	stream_jobs jobs;
	char err[512];
	assert_int_equal(load("j:\n"
			      "  source: {topics: 'a, b', trigger: 250ms, starting_offsets: latest}\n"
			      "  map: {k: a, c: b, v: 'x'}\n"
			      "  sink: {keyspace: ks, table: t, primary_key: [k, c], "
			      "partition_key: k, types: {v: varchar}}\n"
			      "  dead_letter_topic: ''\n",
			      &jobs, err, sizeof err),
			 BROOK_OK);
	const stream_job *j = &jobs.v[0];
	assert_int_equal(j->n_topics, 2);
	assert_string_equal(j->topics[1], "b");
	assert_string_equal(j->group, "grp.j");
	assert_int_equal(j->trigger_ms, 250);
	assert_false(j->start_earliest);
	assert_null(j->dlq_topic);
	brook_buf b;
	brook_buf_init(&b, 128);
	stream_job_create_table_cql(j, &b);
	brook_buf_putc(&b, 0);
	assert_string_equal((const char *)b.data,
			    "CREATE TABLE IF NOT EXISTS ks.t (k text, c text, v varchar, "
			    "PRIMARY KEY ((k), c))");
	brook_buf_release(&b);
	stream_jobs_free(&jobs);

	/* Selecting jobs. */
	assert_int_equal(load("a:\n  source: {topics: t}\n  map: {k: x}\n"
			      "  sink: {keyspace: ks, table: t}\n"
			      "b:\n  source: {topics: t}\n  map: {k: x}\n"
			      "  sink: {keyspace: ks, table: t}\n",
			      &jobs, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(stream_jobs_select(&jobs, "nope", err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "no stream job 'nope'"));
	assert_int_equal(stream_jobs_select(&jobs, "b", err, sizeof err), BROOK_OK);
	assert_int_equal(jobs.n, 1);
	assert_string_equal(jobs.v[0].name, "b");
	stream_jobs_free(&jobs);
}

static void test_load_errors(void **state)
{
	(void)state;
	char yaml[1024];
	expect_error("j: {map: {k: x}, sink: {keyspace: ks, table: t}}\n",
		     "t.yaml:1: stream job 'j': source must be a map");
	snprintf(yaml, sizeof yaml, "%s  input: {name: {first: string}}\n"
				    "  map:\n    id: upper(name.frist)\n"
				    "  sink: {keyspace: ks, table: t}\n",
		 minimal_head);
	expect_error(yaml, "t.yaml:5: stream job 'j': map.id: ");
	expect_error(yaml, "did you mean 'name.first'");
	snprintf(yaml, sizeof yaml, "%s  map:\n    id: uper(x)\n"
				    "  sink: {keyspace: ks, table: t}\n",
		 minimal_head);
	expect_error(yaml, "t.yaml:4:");
	expect_error(yaml, "did you mean 'upper'");
	snprintf(yaml, sizeof yaml, "%s  input: {n: int}\n  where: n + 1\n  map: {k: n}\n"
				    "  sink: {keyspace: ks, table: t}\n",
		 minimal_head);
	expect_error(yaml, "where must be a condition");
	snprintf(yaml, sizeof yaml, "%s  map: {k: x}\n  sink: {keyspace: ks, tabel: t}\n",
		 minimal_head);
	expect_error(yaml, "unknown key 'sink.tabel' (did you mean 'table'?)");
	snprintf(yaml, sizeof yaml, "%s  map: {k: x}\n  sink: {keyspace: ks, table: t, "
				    "primary_key: [q]}\n",
		 minimal_head);
	expect_error(yaml, "sink.primary_key: 'q' is not a mapped column");
	snprintf(yaml, sizeof yaml, "%s  map: {K: x}\n  sink: {keyspace: ks, table: t}\n",
		 minimal_head);
	expect_error(yaml, "must be a lower-case CQL identifier");
	snprintf(yaml, sizeof yaml, "%s  input: {a: strin}\n  map: {k: a}\n"
				    "  sink: {keyspace: ks, table: t}\n",
		 minimal_head);
	expect_error(yaml, "input: unknown type 'strin'");
	expect_error("j:\n  source: {topics: t, format: xml}\n  map: {k: x}\n"
		     "  sink: {keyspace: ks, table: t}\n",
		     "source.format must be avro or json");
	expect_error("j:\n  source: {topics: t, trigger: soon}\n  map: {k: x}\n"
		     "  sink: {keyspace: ks, table: t}\n",
		     "source.trigger must be a duration");
	expect_error("j:\n  source: {topics: t}\n  map: {k: x, v: y}\n"
		     "  sink: {keyspace: ks, table: t, primary_key: [k, v], partition_key: v}\n",
		     "partition_key must be the leading columns");
	expect_error("j:\n  source: {topics: t}\n  input: {a: {b: int}}\n  map: {k: a}\n"
		     "  sink: {keyspace: ks, table: t}\n",
		     "path 'a' is an object");
	expect_error("bad name!:\n  source: {topics: t}\n", "a job name is");
}

/* Binding by column type, against a prepared statement's metadata is not possible
 * without a server; a QUERY statement binds by the value's own type (the text path). */
static void test_bind_text_forms(void **state)
{
	(void)state;
	cql_stmt *st = cql_stmt_new("INSERT INTO t (a) VALUES (?)");
	char err[256];
	expr_value v = {.type = EXPR_INT, .u.i = 42};
	assert_int_equal(stream_sink_bind(st, 0, &v, err, sizeof err), BROOK_OK);
	v = (expr_value){.type = EXPR_NULL};
	assert_int_equal(stream_sink_bind(st, 1, &v, err, sizeof err), BROOK_OK);
	assert_int_equal(cql_stmt_count(st), 2);
	cql_stmt_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_reference_transformation),
		cmocka_unit_test(test_builtin_projection),
		cmocka_unit_test(test_keys_and_defaults),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_bind_text_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
