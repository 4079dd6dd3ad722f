/*
 * test_store_catalog.c — the schema catalog: DDL and its validation errors, persistence
 * across close/open, schema versions, system_schema rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/catalog.h"
#include "store/cql_parse.h"

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

typedef struct fx {
	char dir[64];
	catalog *c;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	char err[256];
	snprintf(f->dir, sizeof(f->dir), "/tmp/brook-catalog-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->c = catalog_open(f->dir, err, sizeof(err));
	assert_non_null(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	catalog_close(f->c);
	nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Runs one statement; returns the code (0 on success) and copies the message. */
static int ddl(catalog *c, const char *sql, const char *ks, char *msg, size_t n, bool *applied)
{
	brook_arena a = BROOK_ARENA_INIT;
	cql_stmt *st;
	char err[512];
	catalog_result r;
	int code;

	assert_int_equal(cql_parse(&a, sql, strlen(sql), &st, err, sizeof(err)), BROOK_OK);
	int rc = catalog_execute(c, st, ks, &r);
	code = rc == BROOK_OK ? 0 : r.code;
	if (rc == BROOK_OK)
		assert_null(r.message);
	if (msg)
		snprintf(msg, n, "%s", r.message ? r.message : "");
	if (applied)
		*applied = r.applied;
	catalog_result_release(&r);
	brook_arena_release(&a);
	return code;
}

#define OK(c, sql) assert_int_equal(ddl((c), (sql), NULL, NULL, 0, NULL), 0)

static const char *KS = "CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
			"{'class': 'SimpleStrategy', 'replication_factor': '1'}";
static const char *USERS =
	"CREATE TABLE IF NOT EXISTS spark_streams.created_users (id UUID PRIMARY KEY, "
	"first_name TEXT, last_name TEXT, gender TEXT, address TEXT, post_code TEXT, "
	"email TEXT, username TEXT, dob TEXT, registered_date TEXT, phone TEXT, picture TEXT)";

static void test_reference_pipeline(void **state)
{
	fx *f = *state;
	bool applied;

	assert_int_equal(ddl(f->c, KS, NULL, NULL, 0, &applied), 0);
	assert_true(applied);
	assert_int_equal(ddl(f->c, USERS, NULL, NULL, 0, &applied), 0);
	assert_true(applied);
	const catalog_keyspace *k = catalog_keyspace_get(f->c, "spark_streams");
	assert_non_null(k);
	assert_true(k->durable_writes);
	assert_string_equal(k->replication[0].value,
			    "org.apache.cassandra.locator.SimpleStrategy");
	assert_string_equal(k->replication[1].name, "replication_factor");
	assert_string_equal(k->replication[1].value, "1");
	const catalog_table *t = catalog_table_get(f->c, "spark_streams", "created_users");
	assert_non_null(t);
	assert_int_equal(t->n_columns, 12);
	assert_int_equal(t->n_partition_key, 1);
	assert_int_equal(t->n_clustering, 0);
	assert_string_equal(t->partition_key[0]->name, "id");
	assert_string_equal(t->partition_key[0]->type, "uuid");
	assert_string_equal(t->columns[11].name, "picture");
	assert_int_equal(t->columns[11].kind, CATALOG_REGULAR);
	assert_int_equal(t->columns[11].position, -1);
	assert_string_equal(catalog_column_get(t, "email")->type, "text");
	assert_null(catalog_column_get(t, "nope"));
	/* Again: IF NOT EXISTS no-ops. */
	assert_int_equal(ddl(f->c, KS, NULL, NULL, 0, &applied), 0);
	assert_false(applied);
	assert_int_equal(ddl(f->c, USERS, NULL, NULL, 0, &applied), 0);
	assert_false(applied);
}

static void expect(catalog *c, const char *sql, const char *ks, int code, const char *msg);

static void test_compound(void **state)
{
	fx *f = *state;

	OK(f->c, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
		 "'replication_factor': 1} AND durable_writes = false");
	assert_int_equal(ddl(f->c, "CREATE TABLE t (a int, b text, c timestamp, d bigint, "
				   "e list<int>, f map<text, frozen<set<uuid>>>, "
				   "PRIMARY KEY ((a, b), c, d)) WITH CLUSTERING ORDER BY (c DESC, "
				   "d ASC) AND comment = 'hi'", "ks", NULL, 0, NULL), 0);
	const catalog_table *t = catalog_table_get(f->c, "ks", "t");
	assert_non_null(t);
	assert_false(catalog_keyspace_get(f->c, "ks")->durable_writes);
	assert_int_equal(t->n_partition_key, 2);
	assert_string_equal(t->partition_key[1]->name, "b");
	assert_int_equal(t->partition_key[1]->position, 1);
	assert_int_equal(t->n_clustering, 2);
	assert_string_equal(t->clustering[0]->name, "c");
	assert_true(t->clustering[0]->desc);
	assert_false(t->clustering[1]->desc);
	assert_int_equal(t->clustering[1]->position, 1);
	assert_string_equal(catalog_column_get(t, "e")->type, "list<int>");
	assert_string_equal(catalog_column_get(t, "f")->type, "map<text, frozen<set<uuid>>>");
	assert_int_equal(t->n_options, 1);
	expect(f->c, "CREATE TABLE ts (a int, c int, s int static, PRIMARY KEY (a, c))", "ks",
	       0x2200, "brook's store does not support static columns (s)");
	assert_string_equal(t->options[0].value, "'hi'");
}

static void expect(catalog *c, const char *sql, const char *ks, int code, const char *msg)
{
	char m[512];
	assert_int_equal(ddl(c, sql, ks, m, sizeof(m), NULL), code);
	assert_string_equal(m, msg);
}

static void test_errors(void **state)
{
	fx *f = *state;
	catalog *c = f->c;

	expect(c, "CREATE TABLE nope.t (a int PRIMARY KEY)", NULL, 0x2200,
	       "Keyspace nope does not exist");
	expect(c, "CREATE TABLE t (a int PRIMARY KEY)", NULL, 0x2200,
	       "No keyspace has been specified. USE a keyspace, or explicitly specify "
	       "keyspace.tablename");
	OK(c, "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', "
	      "'replication_factor': '1'}");
	expect(c, "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy'}", NULL,
	       0x2400, "Cannot add existing keyspace \"k\"");
	expect(c, "CREATE KEYSPACE k2 WITH replication = {'replication_factor': '1'}", NULL,
	       0x2300, "Missing replication strategy class");
	expect(c, "CREATE TABLE k.t (a int, b int)", NULL, 0x2200,
	       "No PRIMARY KEY specifed (exactly one required)");
	expect(c, "CREATE TABLE k.t (a int PRIMARY KEY, b int, PRIMARY KEY (b))", NULL, 0x2200,
	       "Multiple PRIMARY KEYs specifed (exactly one required)");
	expect(c, "CREATE TABLE k.t (a int, b int, PRIMARY KEY (a, z))", NULL, 0x2200,
	       "Unknown definition z referenced in PRIMARY KEY");
	expect(c, "CREATE TABLE k.t (a int PRIMARY KEY, b int, b text)", NULL, 0x2200,
	       "Multiple definition of identifier b");
	expect(c, "CREATE TABLE k.t (a int PRIMARY KEY, b mytype)", NULL, 0x2200,
	       "Unknown type k.mytype");
	expect(c, "CREATE TABLE k.t (a list<int> PRIMARY KEY)", NULL, 0x2200,
	       "Invalid non-frozen collection type for PRIMARY KEY component a");
	expect(c, "CREATE TABLE k.t (a int, b int, c int, PRIMARY KEY (a, b)) WITH "
		  "CLUSTERING ORDER BY (c DESC)", NULL, 0x2200,
	       "Only clustering key columns can be defined in CLUSTERING ORDER directive");
	expect(c, "CREATE TABLE k.t (a int, b int, c int, PRIMARY KEY (a, b, c)) WITH "
		  "CLUSTERING ORDER BY (c DESC, b ASC)", NULL, 0x2200,
	       "The order of columns in the CLUSTERING ORDER directive must be the one of "
	       "the clustering key (b must appear before c)");
	expect(c, "CREATE TABLE k.t (a int PRIMARY KEY, s int static)", NULL, 0x2200,
	       "Static columns are only useful (and thus allowed) if the table has at least "
	       "one clustering column");
	assert_null(catalog_table_get(c, "k", "t"));
	OK(c, "CREATE TABLE k.t (a int PRIMARY KEY)");
	char m[256];
	catalog_result r;
	brook_arena a = BROOK_ARENA_INIT;
	cql_stmt *st;
	const char *sql = "CREATE TABLE k.t (a int PRIMARY KEY)";
	assert_int_equal(cql_parse(&a, sql, strlen(sql), &st, m, sizeof(m)), BROOK_OK);
	assert_int_equal(catalog_execute(c, st, NULL, &r), BROOK_ERR);
	assert_int_equal(r.code, 0x2400);
	assert_string_equal(r.ks, "k");
	assert_string_equal(r.table, "t");
	assert_string_equal(r.message, "Cannot add already existing table \"t\" to keyspace \"k\"");
	catalog_result_release(&r);
	brook_arena_release(&a);
	/* Drops. */
	expect(c, "DROP TABLE k.zz", NULL, 0x2200, "unconfigured table zz");
	expect(c, "DROP TABLE nok.zz", NULL, 0x2200, "Keyspace nok does not exist");
	OK(c, "DROP TABLE IF EXISTS k.zz");
	expect(c, "DROP KEYSPACE zz", NULL, 0x2300, "Cannot drop non existing keyspace 'zz'.");
	OK(c, "DROP KEYSPACE IF EXISTS zz");
	assert_int_equal(ddl(c, "DROP TABLE t", "k", NULL, 0, NULL), 0);
	assert_null(catalog_table_get(c, "k", "t"));
	OK(c, "DROP KEYSPACE k");
	assert_null(catalog_keyspace_get(c, "k"));
}

static void test_persistence_and_version(void **state)
{
	fx *f = *state;
	char err[256];
	brook_uuid v0 = *catalog_schema_version(f->c), v1, v2;

	OK(f->c, KS);
	v1 = *catalog_schema_version(f->c);
	assert_memory_not_equal(&v0, &v1, sizeof(v0));
	OK(f->c, USERS);
	OK(f->c, "CREATE TABLE spark_streams.e (a int, b int, c int, PRIMARY KEY (a, b, c)) "
		 "WITH CLUSTERING ORDER BY (b DESC, c ASC)");
	v2 = *catalog_schema_version(f->c);
	assert_memory_not_equal(&v1, &v2, sizeof(v1));
	OK(f->c, KS); /* no-op keeps the version */
	assert_memory_equal(&v2, catalog_schema_version(f->c), sizeof(v2));
	brook_uuid id = catalog_table_get(f->c, "spark_streams", "created_users")->id;

	catalog_close(f->c);
	f->c = catalog_open(f->dir, err, sizeof(err));
	assert_non_null(f->c);
	assert_memory_equal(&v2, catalog_schema_version(f->c), sizeof(v2));
	const catalog_table *t = catalog_table_get(f->c, "spark_streams", "created_users");
	assert_non_null(t);
	assert_memory_equal(&id, &t->id, sizeof(id));
	assert_int_equal(t->n_columns, 12);
	t = catalog_table_get(f->c, "spark_streams", "e");
	assert_int_equal(t->n_clustering, 2);
	assert_true(t->clustering[0]->desc);
	assert_string_equal(t->clustering[1]->name, "c");
	assert_string_equal(catalog_keyspace_get(f->c, "spark_streams")->replication[0].value,
			    "org.apache.cassandra.locator.SimpleStrategy");

	/* A corrupt file refuses to open. */
	char path[128];
	snprintf(path, sizeof(path), "%s/schema.json", f->dir);
	FILE *fp = fopen(path, "w");
	fputs("{\"keyspaces\": [{\"name\": 1}]", fp);
	fclose(fp);
	assert_null(catalog_open(f->dir, err, sizeof(err)));
	assert_non_null(strstr(err, "schema.json"));
}

static void test_system_schema(void **state)
{
	fx *f = *state;
	brook_arena a = BROOK_ARENA_INIT;
	catalog_rows rows;

	OK(f->c, KS);
	OK(f->c, USERS);
	OK(f->c, "CREATE TABLE spark_streams.e (a int, b int, PRIMARY KEY (a, b)) WITH "
		 "CLUSTERING ORDER BY (b DESC)");

	catalog_system_rows(f->c, CATALOG_SYS_KEYSPACES, &a, &rows);
	assert_int_equal(rows.n_rows, 1);
	assert_string_equal(catalog_rows_cell(&rows, 0, "keyspace_name"), "'spark_streams'");
	assert_string_equal(catalog_rows_cell(&rows, 0, "durable_writes"), "true");
	assert_string_equal(catalog_rows_cell(&rows, 0, "replication"),
			    "{'class': 'org.apache.cassandra.locator.SimpleStrategy', "
			    "'replication_factor': '1'}");

	catalog_system_rows(f->c, CATALOG_SYS_TABLES, &a, &rows);
	assert_int_equal(rows.n_rows, 2);
	assert_string_equal(catalog_rows_cell(&rows, 0, "table_name"), "'created_users'");
	assert_string_equal(catalog_rows_cell(&rows, 1, "table_name"), "'e'");
	assert_string_equal(catalog_rows_cell(&rows, 0, "flags"), "{'compound'}");
	assert_string_equal(catalog_rows_cell(&rows, 0, "gc_grace_seconds"), "864000");
	assert_string_equal(catalog_rows_cell(&rows, 0, "speculative_retry"), "'99PERCENTILE'");
	assert_int_equal(strlen(catalog_rows_cell(&rows, 0, "id")), 36);
	assert_null(catalog_rows_cell(&rows, 0, "cdc"));

	catalog_system_rows(f->c, CATALOG_SYS_COLUMNS, &a, &rows);
	assert_int_equal(rows.n_rows, 14);
	/* created_users sorted by column name: address first, id among them. */
	assert_string_equal(catalog_rows_cell(&rows, 0, "column_name"), "'address'");
	assert_string_equal(catalog_rows_cell(&rows, 0, "kind"), "'regular'");
	assert_string_equal(catalog_rows_cell(&rows, 0, "position"), "-1");
	assert_string_equal(catalog_rows_cell(&rows, 0, "clustering_order"), "'none'");
	assert_string_equal(catalog_rows_cell(&rows, 0, "type"), "'text'");
	assert_string_equal(catalog_rows_cell(&rows, 0, "column_name_bytes"),
			    "0x61646472657373");
	bool seen_id = false;
	for (size_t i = 0; i < 12; i++) {
		if (strcmp(catalog_rows_cell(&rows, i, "column_name"), "'id'") == 0) {
			seen_id = true;
			assert_string_equal(catalog_rows_cell(&rows, i, "kind"),
					    "'partition_key'");
			assert_string_equal(catalog_rows_cell(&rows, i, "position"), "0");
			assert_string_equal(catalog_rows_cell(&rows, i, "type"), "'uuid'");
		}
	}
	assert_true(seen_id);
	assert_string_equal(catalog_rows_cell(&rows, 13, "column_name"), "'b'");
	assert_string_equal(catalog_rows_cell(&rows, 13, "kind"), "'clustering'");
	assert_string_equal(catalog_rows_cell(&rows, 13, "clustering_order"), "'desc'");
	brook_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reference_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_system_schema, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
