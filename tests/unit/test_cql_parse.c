/*
 * test_cql_parse.c — the CQL lexer and parser: every statement form the store accepts,
 * the reference pipeline's statements as the Python driver sends them, literals, bind
 * markers, folding and quoting, Cassandra-style syntax errors with exact positions, and
 * the bounds (length, nesting, markers).
 *
 * Most checks parse a statement and compare its canonical rendering (cql_stmt_dump),
 * then parse the rendering again and expect the same text (round trip).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "store/cql_lex.h"
#include "store/cql_parse.h"

static brook_arena arena = BROOK_ARENA_INIT;

static int teardown(void **state)
{
	(void)state;
	brook_arena_release(&arena);
	return 0;
}

static cql_stmt *parse_ok(const char *q)
{
	char err[512] = "";
	cql_stmt *s = NULL;
	int rc = cql_parse(&arena, q, strlen(q), &s, err, sizeof err);
	if (rc != BROOK_OK)
		fail_msg("parse of [%s] failed: %s", q, err);
	assert_non_null(s);
	return s;
}

/* Parses q, renders it, checks the rendering, and that it parses back to itself. */
static cql_stmt *check(const char *q, const char *want)
{
	cql_stmt *s = parse_ok(q);
	brook_buf b = BROOK_BUF_INIT;
	cql_stmt_dump(&b, s);
	if (strcmp(b.data, want) != 0)
		fail_msg("parse of [%s]\n  got  [%s]\n  want [%s]", q, b.data, want);
	cql_stmt *again = parse_ok(b.data);
	brook_buf b2 = BROOK_BUF_INIT;
	cql_stmt_dump(&b2, again);
	assert_string_equal(b2.data, want);
	brook_buf_release(&b);
	brook_buf_release(&b2);
	return s;
}

static void check_err(const char *q, const char *want)
{
	char err[512] = "";
	cql_stmt *s = (cql_stmt *)1;
	int rc = cql_parse(&arena, q, strlen(q), &s, err, sizeof err);
	if (rc != BROOK_ERR)
		fail_msg("parse of [%s] should fail with [%s]", q, want);
	assert_null(s);
	if (strcmp(err, want) != 0)
		fail_msg("parse of [%s]\n  got  [%s]\n  want [%s]", q, err, want);
}

/* ---- the reference pipeline ---- */

static void test_pipeline_statements(void **state)
{
	(void)state;
	cql_stmt *s = check("CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
			    "{'class': 'SimpleStrategy', 'replication_factor': '1'};",
			    "CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
			    "{'class': 'SimpleStrategy', 'replication_factor': '1'}");
	assert_int_equal(s->kind, CQL_STMT_CREATE_KEYSPACE);
	assert_true(s->u.create_keyspace.if_not_exists);
	assert_string_equal(s->u.create_keyspace.name.name, "spark_streams");
	assert_int_equal(s->u.create_keyspace.n_options, 1);
	cql_term *repl = s->u.create_keyspace.options[0].value;
	assert_int_equal(repl->kind, CQL_TERM_MAP);
	assert_int_equal(repl->n, 4);
	assert_string_equal(repl->items[1]->text, "SimpleStrategy");

	s = check("\n        CREATE TABLE IF NOT EXISTS spark_streams.created_users (\n"
		  "            id UUID PRIMARY KEY,\n            first_name TEXT,\n"
		  "            last_name TEXT,\n            gender TEXT,\n"
		  "            address TEXT,\n            post_code TEXT,\n"
		  "            email TEXT,\n            username TEXT,\n"
		  "            dob TEXT,\n            registered_date TEXT,\n"
		  "            phone TEXT,\n            picture TEXT);\n    ",
		  "CREATE TABLE IF NOT EXISTS spark_streams.created_users (id uuid, "
		  "first_name text, last_name text, gender text, address text, post_code text, "
		  "email text, username text, dob text, registered_date text, phone text, "
		  "picture text, PRIMARY KEY ((id)))");
	const cql_create_table *ct = &s->u.create_table;
	assert_int_equal(ct->n_columns, 12);
	assert_true(ct->columns[0].primary_key);
	assert_int_equal(ct->n_pk_decls, 1);
	assert_int_equal(ct->n_partition_key, 1);
	assert_string_equal(ct->partition_key[0].name, "id");
	assert_int_equal(ct->columns[0].type->kind, CQL_AST_TYPE_UUID);
	assert_int_equal(ct->columns[11].type->kind, CQL_AST_TYPE_TEXT);
	assert_int_equal(ct->columns[11].name.pos.line, 14);
	assert_int_equal(ct->columns[11].name.pos.col, 12);

	/* What the Python driver sends for session.execute(insert, (uuid, ...)). */
	s = check("INSERT INTO spark_streams.created_users(id, first_name, last_name, gender, "
		  "address, post_code, email, username, dob, registered_date, phone, picture) "
		  "VALUES (6d2f5b0e-3c1a-4b8e-9a3f-1c2d3e4f5a6b, 'Ren''ée', 'O''Brien', 'female', "
		  "'12 Rue de l''Église, Paris, France', '75001', 'renee.obrien@example.com', "
		  "'tinyswan123', '1985-03-14T09:12:33.123Z', '2010-06-01T00:00:00.000Z', "
		  "'01-23-45-67-89', NULL)",
		  "INSERT INTO spark_streams.created_users (id, first_name, last_name, gender, "
		  "address, post_code, email, username, dob, registered_date, phone, picture) "
		  "VALUES (6d2f5b0e-3c1a-4b8e-9a3f-1c2d3e4f5a6b, 'Ren''ée', 'O''Brien', "
		  "'female', '12 Rue de l''Église, Paris, France', '75001', "
		  "'renee.obrien@example.com', 'tinyswan123', '1985-03-14T09:12:33.123Z', "
		  "'2010-06-01T00:00:00.000Z', '01-23-45-67-89', null)");
	const cql_insert *in = &s->u.insert;
	assert_int_equal(in->n_columns, 12);
	assert_int_equal(in->n_values, 12);
	assert_int_equal(in->values[0]->kind, CQL_TERM_UUID);
	assert_string_equal(in->values[0]->text, "6d2f5b0e-3c1a-4b8e-9a3f-1c2d3e4f5a6b");
	assert_int_equal(in->values[2]->kind, CQL_TERM_STRING);
	assert_string_equal(in->values[2]->text, "O'Brien");
	assert_int_equal(in->values[11]->kind, CQL_TERM_NULL);
	assert_int_equal(s->n_binds, 0);

	/* The prepared form of the same insert. */
	s = check("INSERT INTO spark_streams.created_users (id, first_name) VALUES (?, ?)",
		  "INSERT INTO spark_streams.created_users (id, first_name) VALUES (?, ?)");
	assert_int_equal(s->n_binds, 2);
	assert_ptr_equal(s->binds[1], s->u.insert.values[1]);

	s = check("SELECT * FROM spark_streams.created_users",
		  "SELECT * FROM spark_streams.created_users");
	assert_true(s->u.select.star);
}

/* Queries the DataStax Python driver sends on connect and for schema metadata. */
static void test_driver_queries(void **state)
{
	(void)state;
	check("SELECT * FROM system.local WHERE key='local'",
	      "SELECT * FROM system.local WHERE key = 'local'");
	check("SELECT peer, data_center, host_id, preferred_ip, rack, rpc_address, "
	      "release_version, schema_version, tokens FROM system.peers",
	      "SELECT peer, data_center, host_id, preferred_ip, rack, rpc_address, "
	      "release_version, schema_version, tokens FROM system.peers");
	check("SELECT * FROM system_schema.keyspaces", "SELECT * FROM system_schema.keyspaces");
	check("SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND "
	      "table_name = 't'",
	      "SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND "
	      "table_name = 't'");
	check("SELECT schema_version FROM system.local WHERE key='local'",
	      "SELECT schema_version FROM system.local WHERE key = 'local'");
}

/* ---- DDL ---- */

static void test_create_table_forms(void **state)
{
	(void)state;
	cql_stmt *s = check(
		"CREATE TABLE ks.events (a int, b text, c timestamp, d bigint, v blob, "
		"s text static, PRIMARY KEY ((a, b), c, d)) WITH CLUSTERING ORDER BY "
		"(c DESC, d ASC) AND comment = 'x' AND default_time_to_live = 3600 AND "
		"gc_grace_seconds = 0 AND compaction = {'class': "
		"'SizeTieredCompactionStrategy', 'min_threshold': 4} AND caching = KEYS_ONLY",
		"CREATE TABLE ks.events (a int, b text, c timestamp, d bigint, v blob, "
		"s text STATIC, PRIMARY KEY ((a, b), c, d)) WITH CLUSTERING ORDER BY "
		"(c DESC, d ASC) AND comment = 'x' AND default_time_to_live = 3600 AND "
		"gc_grace_seconds = 0 AND compaction = {'class': "
		"'SizeTieredCompactionStrategy', 'min_threshold': 4} AND caching = 'KEYS_ONLY'");
	const cql_create_table *ct = &s->u.create_table;
	assert_int_equal(ct->n_partition_key, 2);
	assert_int_equal(ct->n_clustering, 2);
	assert_string_equal(ct->clustering[1].name, "d");
	assert_int_equal(ct->n_clustering_order, 2);
	assert_true(ct->clustering_order[0].desc);
	assert_false(ct->clustering_order[1].desc);
	assert_int_equal(ct->n_options, 5);
	assert_true(ct->columns[5].is_static);
	assert_int_equal(ct->n_pk_decls, 1);

	check("create table t (k int, c int, v text, primary key (k, c))",
	      "CREATE TABLE t (k int, c int, v text, PRIMARY KEY ((k), c))");
	/* Every type, collections and frozen. */
	s = check("CREATE TABLE t (k int PRIMARY KEY, a ascii, b bigint, c blob, d boolean, "
		  "e counter, f date, g decimal, h double, i duration, j float, l inet, "
		  "m smallint, n varchar, o time, p timestamp, q timeuuid, r tinyint, "
		  "s uuid, t varint, u list<int>, v set<text>, w map<text, int>, "
		  "x frozen<list<int>>, y tuple<int, text>, z map<text, frozen<set<uuid>>>)",
		  "CREATE TABLE t (k int, a ascii, b bigint, c blob, d boolean, e counter, "
		  "f date, g decimal, h double, i duration, j float, l inet, m smallint, "
		  "n text, o time, p timestamp, q timeuuid, r tinyint, s uuid, t varint, "
		  "u list<int>, v set<text>, w map<text, int>, x frozen<list<int>>, "
		  "y tuple<int, text>, z map<text, frozen<set<uuid>>>, PRIMARY KEY ((k)))");
	assert_true(s->u.create_table.columns[23].type->frozen);
	/* An unknown type name is a user type: the semantic layer says it is unknown. */
	s = parse_ok("CREATE TABLE t (k int PRIMARY KEY, v txt)");
	assert_int_equal(s->u.create_table.columns[1].type->kind, CQL_AST_TYPE_UDT);
	assert_string_equal(s->u.create_table.columns[1].type->name, "txt");
	/* Two primary key declarations are counted for the semantic layer to refuse. */
	s = parse_ok("CREATE TABLE t (k int PRIMARY KEY, c int, PRIMARY KEY (k, c))");
	assert_int_equal(s->u.create_table.n_pk_decls, 2);
	check("CREATE TABLE t (k int, v int, PRIMARY KEY (k)) WITH COMPACT STORAGE",
	      "CREATE TABLE t (k int, v int, PRIMARY KEY ((k))) WITH COMPACT STORAGE");

	s = check("CREATE KEYSPACE k2 WITH replication = {'class': 'NetworkTopologyStrategy', "
		  "'dc1': 3} AND durable_writes = false",
		  "CREATE KEYSPACE k2 WITH replication = {'class': 'NetworkTopologyStrategy', "
		  "'dc1': 3} AND durable_writes = false");
	assert_int_equal(s->u.create_keyspace.options[1].value->kind, CQL_TERM_BOOL);
	check("DROP KEYSPACE IF EXISTS k2", "DROP KEYSPACE IF EXISTS k2");
	check("drop keyspace k2;", "DROP KEYSPACE k2");
	s = check("DROP TABLE IF EXISTS ks.t", "DROP TABLE IF EXISTS ks.t");
	assert_int_equal(s->kind, CQL_STMT_DROP_TABLE);
	assert_string_equal(s->u.drop.name.ks, "ks");
	check("DROP TABLE t", "DROP TABLE t");
	check("USE spark_streams;", "USE spark_streams");
	check("TRUNCATE TABLE ks.t", "TRUNCATE ks.t");
	check("truncate t", "TRUNCATE t");
}

/* ---- DML ---- */

static void test_insert_update_delete(void **state)
{
	(void)state;
	cql_stmt *s = check("INSERT INTO t (k, v) VALUES (1, 'a') IF NOT EXISTS USING TTL 86400 "
			    "AND TIMESTAMP 1700000000000000",
			    "INSERT INTO t (k, v) VALUES (1, 'a') IF NOT EXISTS USING TTL 86400 "
			    "AND TIMESTAMP 1700000000000000");
	assert_true(s->u.insert.if_not_exists);
	assert_string_equal(s->u.insert.using.ttl->text, "86400");
	check("INSERT INTO t (k, v) VALUES (?, ?) USING TTL ?",
	      "INSERT INTO t (k, v) VALUES (?, ?) USING TTL ?");

	s = check("UPDATE ks.t USING TTL 10 SET v = 'x', n = n + 1, l = l + [1, 2], "
		  "l = [0] + l, st = st - {'a'}, m['k'] = 5, m = m + {'z': 1} WHERE k = 1 AND "
		  "c = 2 IF EXISTS",
		  "UPDATE ks.t USING TTL 10 SET v = 'x', n = n + 1, l = l + [1, 2], "
		  "l = [0] + l, st = st - {'a'}, m['k'] = 5, m = m + {'z': 1} WHERE k = 1 AND "
		  "c = 2 IF EXISTS");
	const cql_update *u = &s->u.update;
	assert_int_equal(u->n_assigns, 7);
	assert_int_equal(u->assigns[0].kind, CQL_ASSIGN_SET);
	assert_int_equal(u->assigns[1].kind, CQL_ASSIGN_ADD);
	assert_int_equal(u->assigns[3].kind, CQL_ASSIGN_PREPEND);
	assert_int_equal(u->assigns[4].kind, CQL_ASSIGN_SUB);
	assert_int_equal(u->assigns[5].kind, CQL_ASSIGN_ELEMENT);
	assert_string_equal(u->assigns[5].key->text, "k");
	assert_int_equal(u->n_where, 2);
	assert_true(u->if_exists);
	check("UPDATE t SET c = c - 3 WHERE k = 1", "UPDATE t SET c = c - 3 WHERE k = 1");
	check("UPDATE t SET v = 1 WHERE k = 1 IF v = 0 AND w != 2",
	      "UPDATE t SET v = 1 WHERE k = 1 IF v = 0 AND w != 2");

	s = check("DELETE FROM t USING TIMESTAMP 5 WHERE k = 1 AND c >= 2",
		  "DELETE FROM t USING TIMESTAMP 5 WHERE k = 1 AND c >= 2");
	assert_int_equal(s->u.del.n_targets, 0);
	s = check("DELETE v, m['a'] FROM ks.t WHERE k IN (1, 2) IF EXISTS",
		  "DELETE v, m['a'] FROM ks.t WHERE k IN (1, 2) IF EXISTS");
	assert_int_equal(s->u.del.n_targets, 2);
	assert_non_null(s->u.del.targets[1].key);
}

static void test_select_forms(void **state)
{
	(void)state;
	cql_stmt *s = check("SELECT DISTINCT k FROM t", "SELECT DISTINCT k FROM t");
	assert_true(s->u.select.distinct);
	s = check("select count(*) as n from t where k = 1",
		  "SELECT count(*) AS n FROM t WHERE k = 1");
	assert_int_equal(s->u.select.selectors[0].kind, CQL_SEL_COUNT);
	assert_string_equal(s->u.select.selectors[0].alias, "n");
	s = check("SELECT COUNT(1) FROM t", "SELECT count(*) FROM t");
	assert_int_equal(s->u.select.selectors[0].kind, CQL_SEL_COUNT);
	s = check("SELECT k, ttl(v), writetime(v) AS wt, token(a, b), totimestamp(c) FROM t",
		  "SELECT k, ttl(v), writetime(v) AS wt, token(a, b), totimestamp(c) FROM t");
	assert_int_equal(s->u.select.selectors[1].kind, CQL_SEL_TTL);
	assert_int_equal(s->u.select.selectors[2].kind, CQL_SEL_WRITETIME);
	assert_int_equal(s->u.select.selectors[3].kind, CQL_SEL_FUNC);
	assert_int_equal(s->u.select.selectors[3].n_args, 2);

	s = check("SELECT * FROM ks.t WHERE a = 1 AND b = 'x' AND c > 5 AND c <= 10 "
		  "ORDER BY c DESC, d ASC LIMIT 100 ALLOW FILTERING",
		  "SELECT * FROM ks.t WHERE a = 1 AND b = 'x' AND c > 5 AND c <= 10 "
		  "ORDER BY c DESC, d ASC LIMIT 100 ALLOW FILTERING");
	const cql_select *q = &s->u.select;
	assert_int_equal(q->n_where, 4);
	assert_int_equal(q->where[2].op, CQL_OP_GT);
	assert_int_equal(q->where[3].op, CQL_OP_LE);
	assert_true(q->order_by[0].desc);
	assert_true(q->allow_filtering);
	assert_string_equal(q->limit->text, "100");

	s = check("SELECT * FROM t WHERE k IN (1, 2, 3) AND (c1, c2) > (1, 'a') "
		  "AND (c1, c2) <= (5, 'z') LIMIT ?",
		  "SELECT * FROM t WHERE k IN (1, 2, 3) AND (c1, c2) > (1, 'a') "
		  "AND (c1, c2) <= (5, 'z') LIMIT ?");
	q = &s->u.select;
	assert_int_equal(q->where[0].op, CQL_OP_IN);
	assert_int_equal(q->where[0].n_in, 3);
	assert_int_equal(q->where[1].kind, CQL_REL_TUPLE);
	assert_int_equal(q->where[1].n_cols, 2);
	assert_int_equal(q->where[1].value->kind, CQL_TERM_TUPLE);
	assert_int_equal(q->limit->kind, CQL_TERM_BIND);

	s = check("SELECT * FROM t WHERE token(a, b) > token(?, ?) AND token(a, b) <= 42",
		  "SELECT * FROM t WHERE token(a, b) > token(?, ?) AND token(a, b) <= 42");
	assert_int_equal(s->u.select.where[0].kind, CQL_REL_TOKEN);
	assert_int_equal(s->n_binds, 2);
	check("SELECT * FROM t WHERE k IN ? AND (c, d) IN ((1, 2), (3, 4)) AND x != 1",
	      "SELECT * FROM t WHERE k IN ? AND (c, d) IN ((1, 2), (3, 4)) AND x != 1");
	s = check("SELECT * FROM t WHERE tags CONTAINS 'a' AND m CONTAINS KEY 'k' AND m['x'] = 1 "
		  "ALLOW FILTERING",
		  "SELECT * FROM t WHERE tags CONTAINS 'a' AND m CONTAINS KEY 'k' AND "
		  "m['x'] = 1 ALLOW FILTERING");
	assert_int_equal(s->u.select.where[1].op, CQL_OP_CONTAINS_KEY);
	assert_non_null(s->u.select.where[2].key);
	check("SELECT * FROM t WHERE k = 1 PER PARTITION LIMIT 2 LIMIT 10",
	      "SELECT * FROM t WHERE k = 1 PER PARTITION LIMIT 2 LIMIT 10");
	check("SELECT JSON a FROM t", "SELECT JSON a FROM t");
	/* Unreserved keywords are ordinary names. */
	check("SELECT key, ttl, timestamp, distinct FROM t WHERE key = 1",
	      "SELECT key, ttl, timestamp, distinct FROM t WHERE key = 1");
	check("SELECT * FROM t WHERE k IN ()", "SELECT * FROM t WHERE k IN ()");
}

static void test_batches(void **state)
{
	(void)state;
	cql_stmt *s = check(
		"BEGIN UNLOGGED BATCH\n"
		"  INSERT INTO t (k, v) VALUES (?, ?);\n"
		"  UPDATE t SET v = :v WHERE k = :k;\n"
		"  DELETE FROM t WHERE k = ?;\n"
		"APPLY BATCH;",
		"BEGIN UNLOGGED BATCH INSERT INTO t (k, v) VALUES (?, ?); "
		"UPDATE t SET v = :v WHERE k = :k; DELETE FROM t WHERE k = ?; APPLY BATCH");
	const cql_ast_batch *b = &s->u.batch;
	assert_int_equal(b->kind, CQL_AST_BATCH_UNLOGGED);
	assert_int_equal(b->n_stmts, 3);
	assert_int_equal(b->stmts[1]->kind, CQL_STMT_UPDATE);
	assert_int_equal(s->n_binds, 5);
	assert_string_equal(s->binds[2]->text, "v");
	assert_string_equal(s->binds[3]->text, "k");
	assert_null(s->binds[4]->text);
	assert_int_equal(s->binds[4]->bind_index, 4);

	s = check("BEGIN BATCH USING TIMESTAMP 100 INSERT INTO t (k) VALUES (1) "
		  "INSERT INTO t (k) VALUES (2) APPLY BATCH",
		  "BEGIN BATCH USING TIMESTAMP 100 INSERT INTO t (k) VALUES (1); "
		  "INSERT INTO t (k) VALUES (2); APPLY BATCH");
	assert_int_equal(s->u.batch.kind, CQL_AST_BATCH_LOGGED);
	s = check("begin logged batch apply batch", "BEGIN BATCH APPLY BATCH");
	assert_int_equal(s->u.batch.n_stmts, 0);
	s = check("BEGIN COUNTER BATCH UPDATE t SET c = c + 1 WHERE k = 1; APPLY BATCH",
		  "BEGIN COUNTER BATCH UPDATE t SET c = c + 1 WHERE k = 1; APPLY BATCH");
	assert_int_equal(s->u.batch.kind, CQL_AST_BATCH_COUNTER);
}

/* ---- lexical matters ---- */

static void test_case_folding_and_quoting(void **state)
{
	(void)state;
	cql_stmt *s = check("SeLeCt FirstName, \"LastName\", \"odd \"\"name\"\"\" FROM Ks.\"Tab\"",
			    "SELECT firstname, \"LastName\", \"odd \"\"name\"\"\" FROM ks.\"Tab\"");
	const cql_select *q = &s->u.select;
	assert_string_equal(q->selectors[0].name, "firstname");
	assert_string_equal(q->selectors[1].name, "LastName");
	assert_string_equal(q->selectors[2].name, "odd \"name\"");
	assert_string_equal(q->table.ks, "ks");
	assert_string_equal(q->table.name, "Tab");
	/* A quoted reserved word is a name; a quoted lower-case name equals the unquoted. */
	s = parse_ok("SELECT \"select\" FROM \"t\"");
	assert_string_equal(s->u.select.selectors[0].name, "select");
	assert_string_equal(s->u.select.table.name, "t");
	/* Comments and whitespace. */
	check("-- leading comment\nSELECT /* inline\n comment */ a // tail\nFROM t; ;",
	      "SELECT a FROM t");
}

static cql_term *value0(const char *lit)
{
	char q[256];
	snprintf(q, sizeof q, "INSERT INTO t (v) VALUES (%s)", lit);
	cql_stmt *s = parse_ok(q);
	return s->u.insert.values[0];
}

static void expect_term(const char *lit, cql_term_kind kind, const char *text)
{
	cql_term *t = value0(lit);
	if (t->kind != kind)
		fail_msg("literal [%s]: kind %d, want %d", lit, (int)t->kind, (int)kind);
	if (text)
		assert_string_equal(t->text, text);
}

static void test_literals(void **state)
{
	(void)state;
	expect_term("'it''s'", CQL_TERM_STRING, "it's");
	expect_term("''", CQL_TERM_STRING, "");
	expect_term("$$dollar 'quoted'$$", CQL_TERM_STRING, "dollar 'quoted'");
	expect_term("'multi\nline'", CQL_TERM_STRING, "multi\nline");
	expect_term("42", CQL_TERM_INT, "42");
	expect_term("-42", CQL_TERM_INT, "-42");
	expect_term("- 7", CQL_TERM_INT, "-7");
	expect_term("1.5", CQL_TERM_FLOAT, "1.5");
	expect_term("-2e10", CQL_TERM_FLOAT, "-2e10");
	expect_term("1.5e-07", CQL_TERM_FLOAT, "1.5e-07");
	expect_term("1e+20", CQL_TERM_FLOAT, "1e+20");
	expect_term("NaN", CQL_TERM_FLOAT, "NaN");
	expect_term("nan", CQL_TERM_FLOAT, "NaN");
	expect_term("Infinity", CQL_TERM_FLOAT, "Infinity");
	expect_term("-Infinity", CQL_TERM_FLOAT, "-Infinity");
	expect_term("True", CQL_TERM_BOOL, "true");
	expect_term("FALSE", CQL_TERM_BOOL, "false");
	assert_true(value0("true")->b);
	assert_false(value0("False")->b);
	expect_term("NULL", CQL_TERM_NULL, NULL);
	expect_term("123e4567-e89b-12d3-a456-426614174000", CQL_TERM_UUID,
		    "123e4567-e89b-12d3-a456-426614174000");
	expect_term("CAFEBABE-e89b-11ee-a456-426614174000", CQL_TERM_UUID,
		    "CAFEBABE-e89b-11ee-a456-426614174000");
	expect_term("0xCAFE", CQL_TERM_BLOB, "CAFE");
	expect_term("0x", CQL_TERM_BLOB, "");
	expect_term("1700000000123", CQL_TERM_INT, "1700000000123");
	expect_term("'2024-01-02 03:04:05+0000'", CQL_TERM_STRING, "2024-01-02 03:04:05+0000");

	cql_term *t = value0("[1, 2, 3]");
	assert_int_equal(t->kind, CQL_TERM_LIST);
	assert_int_equal(t->n, 3);
	t = value0("{1, 2}");
	assert_int_equal(t->kind, CQL_TERM_SET);
	assert_int_equal(t->n, 2);
	t = value0("{'a': 1, 'b': 2}");
	assert_int_equal(t->kind, CQL_TERM_MAP);
	assert_int_equal(t->n, 4);
	t = value0("{}");
	assert_int_equal(t->kind, CQL_TERM_MAP);
	assert_int_equal(t->n, 0);
	t = value0("[]");
	assert_int_equal(t->kind, CQL_TERM_LIST);
	assert_int_equal(t->n, 0);
	t = value0("(1, 'a', [2])");
	assert_int_equal(t->kind, CQL_TERM_TUPLE);
	assert_int_equal(t->n, 3);
	assert_int_equal(t->items[2]->kind, CQL_TERM_LIST);
	t = value0("now()");
	assert_int_equal(t->kind, CQL_TERM_FUNC);
	assert_string_equal(t->text, "now");
	assert_int_equal(t->n, 0);
	t = value0("toTimestamp(now())");
	assert_int_equal(t->kind, CQL_TERM_FUNC);
	assert_string_equal(t->text, "totimestamp");
	assert_int_equal(t->items[0]->kind, CQL_TERM_FUNC);
	t = value0("uuid()");
	assert_string_equal(t->text, "uuid");
	t = value0("(int)?");
	assert_int_equal(t->kind, CQL_TERM_CAST);
	assert_int_equal(t->cast->kind, CQL_AST_TYPE_INT);
	assert_int_equal(t->items[0]->kind, CQL_TERM_BIND);
	t = value0("(list<text>)['a']");
	assert_int_equal(t->kind, CQL_TERM_CAST);
	assert_int_equal(t->cast->kind, CQL_AST_TYPE_LIST);
	t = value0("{'k': [{1, 2}, {3}]}");
	assert_int_equal(t->items[1]->items[1]->kind, CQL_TERM_SET);
	/* Positions of terms. */
	t = value0("  'x'");
	assert_int_equal(t->pos.line, 1);
	assert_int_equal(t->pos.col, 28);
}

static void test_bind_markers(void **state)
{
	(void)state;
	cql_stmt *s = check("SELECT * FROM t WHERE k = :key AND c IN (?, ?) AND d > :\"Lo\" "
			    "LIMIT :lim",
			    "SELECT * FROM t WHERE k = :key AND c IN (?, ?) AND d > :\"Lo\" "
			    "LIMIT :lim");
	assert_int_equal(s->n_binds, 5);
	assert_string_equal(s->binds[0]->text, "key");
	assert_null(s->binds[1]->text);
	assert_int_equal(s->binds[2]->bind_index, 2);
	assert_string_equal(s->binds[3]->text, "Lo");
	assert_string_equal(s->binds[4]->text, "lim");
	assert_ptr_equal(s->binds[4], s->u.select.limit);
	s = check("UPDATE t USING TTL ? AND TIMESTAMP ? SET v = ? WHERE k = ?",
		  "UPDATE t USING TTL ? AND TIMESTAMP ? SET v = ? WHERE k = ?");
	assert_int_equal(s->n_binds, 4);
	assert_int_equal(s->binds[2]->pos.col, 45);
}

/* ---- errors ---- */

static void test_syntax_errors(void **state)
{
	(void)state;
	/* Statements Cassandra has and the store does not: said plainly. */
	check_err("ALTER TABLE t ADD x int",
		  "line 1:0 ALTER statements are not supported by brook's store ([ALTER]...)");
	check_err("CREATE INDEX ON t (v)", "line 1:0 CREATE INDEX statements are not supported "
					 "by brook's store ([CREATE]...)");
	check_err("drop materialized view v", "line 1:0 DROP MATERIALIZED VIEW statements are "
					    "not supported by brook's store ([drop]...)");
	check_err("SELECT * FRM t", "line 1:9 mismatched input 'FRM' expecting K_FROM "
				   "(SELECT * [FRM]...)");
	check_err("SELEC * FROM t", "line 1:0 no viable alternative at input 'SELEC' "
				   "([SELEC]...)");
	check_err("SELECT a, b xyz FROM t", "line 1:12 mismatched input 'xyz' expecting "
					   "K_FROM (SELECT a, b [xyz]...)");
	check_err("SELECT * FROM", "line 1:13 no viable alternative at input '<EOF>' "
				  "(SELECT * FROM [<EOF>])");
	check_err("INSERT INTO t (a, b) VALUE (1, 2)",
		  "line 1:21 mismatched input 'VALUE' expecting K_VALUES "
		  "(INSERT INTO t (a, b) [VALUE]...)");
	check_err("INSERT INTO t (a, b) VALUES (1, 2",
		  "line 1:33 mismatched input '<EOF>' expecting ')' "
		  "((a, b) VALUES (1, 2 [<EOF>])");
	check_err("CREATE TABLE t (k int PRIMARY KEY, v 5)",
		  "line 1:37 no viable alternative at input '5' "
		  "(CREATE TABLE t (k int PRIMARY KEY, v [5]...)");
	check_err("CREATE TABLE t (k int PRIMARY KEY, v map<int>)",
		  "line 1:44 mismatched input '>' expecting ',' "
		  "((k int PRIMARY KEY, v map<int [>]...)");
	check_err("SELECT * FROM t WHERE k = 1 AND", "line 1:31 no viable alternative at input "
						    "'<EOF>' (SELECT * FROM t WHERE k = 1 AND [<EOF>])");
	check_err("SELECT * FROM t WHERE k == 1",
		  "line 1:25 no viable alternative at input '=' (SELECT * FROM t WHERE k = [=]...)");
	check_err("SELECT * FROM t LIMIT 1 2",
		  "line 1:24 mismatched input '2' expecting EOF (SELECT * FROM t LIMIT 1 [2])");
	check_err("UPDATE t SET v = 1", "line 1:18 mismatched input '<EOF>' expecting K_WHERE "
				       "(UPDATE t SET v = 1 [<EOF>])");
	check_err("UPDATE t SET v = w + 1 WHERE k = 1",
		  "line 1:17 only expressions of the form X = X + <value> are supported");
	check_err("SELECT * FROM select", "line 1:14 no viable alternative at input 'select' "
					 "(SELECT * FROM [select])");
	check_err("BEGIN BATCH SELECT * FROM t APPLY BATCH",
		  "line 1:12 mismatched input 'SELECT' expecting K_APPLY (BEGIN BATCH [SELECT]...)");
	check_err("SELECT * FROM t\nWHERE k = 'abc", "line 2:14 mismatched character '<EOF>' "
						    "expecting ''' (unterminated string literal)");
	check_err("SELECT * FROM t WHERE k = @", "line 1:26 no viable alternative at character "
						"'@'");
	check_err("SELECT \"\" FROM t", "line 1:7 empty quoted identifier");
	check_err("SELECT * FROM t /* open", "line 1:23 mismatched character '<EOF>' expecting "
					    "'*/' (unterminated comment)");
	check_err("", "line 1:0 no viable alternative at input '<EOF>' ([<EOF>])");
	check_err("DROP INDEX i", "line 1:0 DROP INDEX statements are not supported by brook's "
				 "store ([DROP]...)");
	check_err("CREATE KEYSPACE IF EXISTS k WITH a = 1",
		  "line 1:19 mismatched input 'EXISTS' expecting K_NOT "
		  "(CREATE KEYSPACE IF [EXISTS]...)");
	/* Context keeps at most ten tokens before the offending one. */
	check_err("SELECT a, b, c, d, e, f, g FRM t",
		  "line 1:27 mismatched input 'FRM' expecting K_FROM "
		  "(, c, d, e, f, g [FRM]...)");
}

static void test_limits(void **state)
{
	(void)state;
	/* Nesting: 40 levels of lists. */
	char q[512];
	size_t n = (size_t)snprintf(q, sizeof q, "INSERT INTO t (v) VALUES (");
	for (int i = 0; i < 40; i++)
		q[n++] = '[';
	for (int i = 0; i < 40; i++)
		q[n++] = ']';
	q[n++] = ')';
	q[n] = '\0';
	char err[512];
	cql_stmt *s;
	assert_int_equal(cql_parse(&arena, q, n, &s, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "nests too deeply"));
	/* 30 levels are fine. */
	n = (size_t)snprintf(q, sizeof q, "INSERT INTO t (v) VALUES (");
	for (int i = 0; i < 30; i++)
		q[n++] = '[';
	for (int i = 0; i < 30; i++)
		q[n++] = ']';
	q[n++] = ')';
	q[n] = '\0';
	assert_int_equal(cql_parse(&arena, q, n, &s, err, sizeof err), BROOK_OK);

	/* Too long. */
	size_t big = CQL_MAX_STATEMENT + 1;
	char *text = brook_malloc(big);
	memset(text, ' ', big);
	assert_int_equal(cql_parse(&arena, text, big, &s, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "exceeds the limit"));

	/* Too many bind markers: 70000 of them in an IN list. */
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_puts(&b, "SELECT * FROM t WHERE k IN (?");
	for (int i = 1; i < 70000; i++)
		brook_buf_puts(&b, ",?");
	brook_buf_puts(&b, ")");
	assert_int_equal(cql_parse(&arena, b.data, b.len, &s, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "too many bind markers"));
	/* 65535 are fine. */
	brook_buf_reset(&b);
	brook_buf_puts(&b, "SELECT * FROM t WHERE k IN (?");
	for (int i = 1; i < 65535; i++)
		brook_buf_puts(&b, ",?");
	brook_buf_puts(&b, ")");
	assert_int_equal(cql_parse(&arena, b.data, b.len, &s, err, sizeof err), BROOK_OK);
	assert_int_equal(s->n_binds, 65535);
	/* Too many terms. */
	brook_buf_reset(&b);
	brook_buf_puts(&b, "INSERT INTO t (v) VALUES ([0");
	for (int i = 1; i < 210000; i++)
		brook_buf_puts(&b, ",1");
	brook_buf_puts(&b, "])");
	assert_int_equal(cql_parse(&arena, b.data, b.len, &s, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "too many terms"));
	brook_buf_release(&b);
	free(text);
	/* Embedded NUL bytes are a lexical error, not the end of the text. */
	assert_int_equal(cql_parse(&arena, "SELECT\0 * FROM t", 16, &s, err, sizeof err),
			 BROOK_ERR);
	assert_string_equal(err, "line 1:6 no viable alternative at character '\\x00'");
	/* Names become C strings: a NUL inside a quoted name is refused (fuzzer finding). */
	static const char nul_name[] = "SELECT \"a\0b\" FROM t";
	assert_int_equal(cql_parse(&arena, nul_name, sizeof nul_name - 1, &s, err, sizeof err),
			 BROOK_ERR);
	assert_string_equal(err, "line 1:7 NUL byte in quoted identifier");
	/* Strings may hold NUL bytes: the term keeps the length. */
	static const char nul_str[] = "INSERT INTO t (v) VALUES ('a\0b')";
	assert_int_equal(cql_parse(&arena, nul_str, sizeof nul_str - 1, &s, err, sizeof err),
			 BROOK_OK);
	assert_int_equal(s->u.insert.values[0]->len, 3);
}

static void test_lexer_tokens(void **state)
{
	(void)state;
	const char *src = "a<=b>=c!=d 0x1F 1.5e3 12 'x''y' \"Q\"\"\" ?";
	cql_lexer lx;
	cql_lex_init(&lx, src, strlen(src));
	cql_tok_kind want[] = {CQL_TOK_IDENT, CQL_TOK_LE, CQL_TOK_IDENT, CQL_TOK_GE,
			       CQL_TOK_IDENT, CQL_TOK_NE, CQL_TOK_IDENT, CQL_TOK_HEX,
			       CQL_TOK_FLOAT, CQL_TOK_INT, CQL_TOK_STRING, CQL_TOK_QIDENT,
			       CQL_TOK_PUNCT, CQL_TOK_EOF, CQL_TOK_EOF};
	char buf[64];
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		cql_tok t = cql_lex_next(&lx);
		assert_int_equal(t.kind, want[i]);
		if (t.kind == CQL_TOK_STRING) {
			cql_lex_string(&t, buf);
			assert_string_equal(buf, "x'y");
		}
		if (t.kind == CQL_TOK_QIDENT) {
			cql_lex_ident(&t, buf);
			assert_string_equal(buf, "Q\"");
		}
	}
	assert_string_equal(cql_tok_kind_name(CQL_TOK_STRING), "STRING_LITERAL");
	assert_string_equal(cql_stmt_kind_name(CQL_STMT_BATCH), "BATCH");
	assert_string_equal(cql_ast_type_kind_name(CQL_AST_TYPE_TIMEUUID), "timeuuid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pipeline_statements, teardown),
		cmocka_unit_test_teardown(test_driver_queries, teardown),
		cmocka_unit_test_teardown(test_create_table_forms, teardown),
		cmocka_unit_test_teardown(test_insert_update_delete, teardown),
		cmocka_unit_test_teardown(test_select_forms, teardown),
		cmocka_unit_test_teardown(test_batches, teardown),
		cmocka_unit_test_teardown(test_case_folding_and_quoting, teardown),
		cmocka_unit_test_teardown(test_literals, teardown),
		cmocka_unit_test_teardown(test_bind_markers, teardown),
		cmocka_unit_test_teardown(test_syntax_errors, teardown),
		cmocka_unit_test_teardown(test_limits, teardown),
		cmocka_unit_test_teardown(test_lexer_tokens, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
