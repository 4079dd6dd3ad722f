/*
 * test_rowavro.c — PostgreSQL changes as Avro: the type mapping of every column type,
 * text parsing (and its errors), key/value schemas and envelope shapes, unchanged TOAST,
 * name adjustment, the per-relation cache, an encode/decode round trip through
 * avro/datum.h, the JSON rendering, and python3-avro reading one encoded envelope.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "avro/datum.h"
#include "connect/rowavro.h"
#include "core/err.h"

/* ---- text parsing ---- */

static json_t *parse_ok(rowavro_kind k, const char *text)
{
	char err[256];
	json_t *v = NULL;
	if (rowavro_parse_text(k, text, strlen(text), &v, err, sizeof err) != BROOK_OK)
		fail_msg("\"%s\": %s", text, err);
	return v;
}

static void parse_bad(rowavro_kind k, const char *text)
{
	char err[256] = "";
	json_t *v = NULL;
	if (rowavro_parse_text(k, text, strlen(text), &v, err, sizeof err) == BROOK_OK)
		fail_msg("\"%s\" parsed", text);
	assert_null(v);
	assert_true(err[0] != '\0');
}

static void expect_int(rowavro_kind k, const char *text, json_int_t want)
{
	json_t *v = parse_ok(k, text);
	assert_true(json_is_integer(v));
	assert_true(json_integer_value(v) == want);
	json_decref(v);
}

static void test_parse_scalars(void **state)
{
	(void)state;
	json_t *v = parse_ok(ROWAVRO_BOOLEAN, "t");
	assert_true(json_is_true(v));
	json_decref(v);
	v = parse_ok(ROWAVRO_BOOLEAN, "f");
	assert_true(json_is_false(v));
	json_decref(v);
	parse_bad(ROWAVRO_BOOLEAN, "x");
	parse_bad(ROWAVRO_BOOLEAN, "");

	expect_int(ROWAVRO_INT, "-2147483648", INT32_MIN);
	expect_int(ROWAVRO_INT, "2147483647", INT32_MAX);
	parse_bad(ROWAVRO_INT, "2147483648");
	parse_bad(ROWAVRO_INT, "12a");
	parse_bad(ROWAVRO_INT, "");
	expect_int(ROWAVRO_LONG, "-9223372036854775808", INT64_MIN);
	parse_bad(ROWAVRO_LONG, "9223372036854775808");

	v = parse_ok(ROWAVRO_DOUBLE, "1.5e-3");
	assert_true(json_is_real(v));
	assert_true(json_real_value(v) == 1.5e-3);
	json_decref(v);
	v = parse_ok(ROWAVRO_FLOAT, "-0.25");
	assert_true(json_real_value(v) == -0.25);
	json_decref(v);
	parse_bad(ROWAVRO_DOUBLE, "NaN");
	parse_bad(ROWAVRO_DOUBLE, "Infinity");
	parse_bad(ROWAVRO_FLOAT, "-Infinity");
	parse_bad(ROWAVRO_DOUBLE, "1.0x");

	v = parse_ok(ROWAVRO_STRING, "héllo");
	assert_string_equal(json_string_value(v), "héllo");
	json_decref(v);
	parse_bad(ROWAVRO_STRING, "\xff\xfe");

	v = parse_ok(ROWAVRO_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	assert_string_equal(json_string_value(v), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	json_decref(v);
	parse_bad(ROWAVRO_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1");
	parse_bad(ROWAVRO_UUID, "a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11");
}

static void expect_bytes(const char *text, const uint8_t *want, size_t n)
{
	json_t *v = parse_ok(ROWAVRO_BYTES, text);
	/* encode as Avro bytes to recover the raw bytes */
	char err[256];
	avro_schema *s = avro_schema_parse("\"bytes\"", 7, err, sizeof err);
	brook_buf b = BROOK_BUF_INIT;
	assert_int_equal(avro_encode(s, v, &b, err, sizeof err), BROOK_OK);
	assert_true(b.len >= n);
	assert_memory_equal(b.data + (b.len - n), want, n);
	brook_buf_release(&b);
	avro_schema_free(s);
	json_decref(v);
}

static void test_parse_bytea(void **state)
{
	(void)state;
	const uint8_t want[] = {0xde, 0xad, 0x00, 0x7f, 0x80, 0xff};
	expect_bytes("\\xdead007f80FF", want, sizeof want);
	expect_bytes("\\x", want, 0);
	const uint8_t esc[] = {'a', '\\', 0, 0xff, 'b'};
	expect_bytes("a\\\\\\000\\377b", esc, sizeof esc);
	parse_bad(ROWAVRO_BYTES, "\\xabc");
	parse_bad(ROWAVRO_BYTES, "\\xzz");
	parse_bad(ROWAVRO_BYTES, "a\\9");
	parse_bad(ROWAVRO_BYTES, "a\\");
}

static void test_parse_dates(void **state)
{
	(void)state;
	expect_int(ROWAVRO_DATE, "1970-01-01", 0);
	expect_int(ROWAVRO_DATE, "2024-02-29", 19782);
	expect_int(ROWAVRO_DATE, "1969-12-31", -1);
	expect_int(ROWAVRO_DATE, "0001-01-01 BC", -719528);
	parse_bad(ROWAVRO_DATE, "2024-13-01");
	parse_bad(ROWAVRO_DATE, "2024-02-30");
	parse_bad(ROWAVRO_DATE, "infinity");
	parse_bad(ROWAVRO_DATE, "2024-01-01x");

	expect_int(ROWAVRO_TIMESTAMP, "1970-01-01 00:00:00", 0);
	expect_int(ROWAVRO_TIMESTAMP, "2024-01-15 10:30:00.5", 1705314600500000LL);
	expect_int(ROWAVRO_TIMESTAMP, "2024-01-15 10:30:00.123456", 1705314600123456LL);
	parse_bad(ROWAVRO_TIMESTAMP, "2024-01-15 10:30:00+02");
	parse_bad(ROWAVRO_TIMESTAMP, "2024-01-15");
	parse_bad(ROWAVRO_TIMESTAMP, "2024-01-15 25:00:00");
	parse_bad(ROWAVRO_TIMESTAMP, "-infinity");
	expect_int(ROWAVRO_TIMESTAMPTZ, "2024-01-15 10:30:00+00", 1705314600000000LL);
	expect_int(ROWAVRO_TIMESTAMPTZ, "2024-01-15 12:30:00.000001+02", 1705314600000001LL);
	expect_int(ROWAVRO_TIMESTAMPTZ, "2024-01-15 05:00:00-05:30", 1705314600000000LL);
	expect_int(ROWAVRO_TIMESTAMPTZ, "1970-01-01 00:53:28+00:53:28", 0);
	parse_bad(ROWAVRO_TIMESTAMPTZ, "2024-01-15 10:30:00+2");
}

/* ---- relations and changes ---- */

#define TV(s) {PGO_VALUE_TEXT, (uint32_t)(sizeof(s) - 1), (const uint8_t *)(s)}
#define NV    {PGO_VALUE_NULL, 0, NULL}
#define UV    {PGO_VALUE_UNCHANGED, 0, NULL}

static pgo_column all_cols[] = {
	{PGO_COLUMN_KEY, "id", ROWAVRO_OID_INT8, -1},
	{0, "flag", ROWAVRO_OID_BOOL, -1},
	{0, "small", ROWAVRO_OID_INT2, -1},
	{0, "n4", ROWAVRO_OID_INT4, -1},
	{0, "f4", ROWAVRO_OID_FLOAT4, -1},
	{0, "f8", ROWAVRO_OID_FLOAT8, -1},
	{0, "amount", ROWAVRO_OID_NUMERIC, -1},
	{0, "name", ROWAVRO_OID_TEXT, -1},
	{0, "vc", ROWAVRO_OID_VARCHAR, -1},
	{0, "bp", ROWAVRO_OID_BPCHAR, -1},
	{0, "nm", ROWAVRO_OID_NAME, -1},
	{0, "raw", ROWAVRO_OID_BYTEA, -1},
	{0, "born", ROWAVRO_OID_DATE, -1},
	{0, "ts", ROWAVRO_OID_TIMESTAMP, -1},
	{0, "tstz", ROWAVRO_OID_TIMESTAMPTZ, -1},
	{0, "uid", ROWAVRO_OID_UUID, -1},
	{0, "doc", ROWAVRO_OID_JSON, -1},
	{0, "docb", ROWAVRO_OID_JSONB, -1},
	{0, "where", 600 /* point */, -1},
	{0, "big-text", ROWAVRO_OID_TEXT, -1},
};
#define NALL (sizeof all_cols / sizeof all_cols[0])

static pgo_value row1_vals[NALL] = {
	TV("7"),
	TV("t"),
	TV("-3"),
	TV("100000"),
	TV("1.5"),
	TV("2.25"),
	TV("12345.678901234567890"),
	TV("ada"),
	TV("v"),
	TV("b  "),
	TV("nm"),
	TV("\\x00ff10"),
	TV("2024-02-29"),
	TV("2024-01-15 10:30:00.5"),
	TV("2024-01-15 10:30:00+00"),
	TV("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
	TV("{\"a\": 1}"),
	TV("{\"b\": 2}"),
	TV("(1,2)"),
	TV("long text"),
};

static pgo_value row2_vals[NALL] = {
	TV("7"), NV, NV, NV, NV, NV, NV, TV("grace"), NV, NV,
	NV,	 UV, NV, NV, NV, NV, NV, NV,		   NV, UV,
};

static pgo_value key_vals[NALL] = {
	TV("7"), NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV, NV,
};

static pgo_relation all_rel = {16384, "public", "users", 'd', NALL, all_cols};

static rowavro *ra_new(rowavro_envelope env)
{
	rowavro_opts o = {.prefix = "brook.cdc", .db = "app", .envelope = env};
	return rowavro_new(&o);
}

static const avro_field *field_named(const avro_schema *rec, const char *name)
{
	long i = avro_schema_field_index(rec, name);
	assert_true(i >= 0);
	return avro_schema_field(rec, (size_t)i);
}

/* The type of a nullable field: the non-null branch, after checking the shape. */
static const avro_schema *nullable_type(const avro_schema *rec, const char *name)
{
	const avro_field *f = field_named(rec, name);
	assert_int_equal(avro_schema_type(f->type), AVRO_UNION);
	assert_int_equal(avro_schema_branch_count(f->type), 2);
	assert_int_equal(avro_schema_type(avro_schema_branch(f->type, 0)), AVRO_NULL);
	assert_non_null(f->def);
	assert_true(json_is_null(f->def));
	return avro_schema_branch(f->type, 1);
}

static void check_type(const avro_schema *rec, const char *name, avro_type t, const char *lt)
{
	const avro_schema *s = nullable_type(rec, name);
	assert_int_equal(avro_schema_type(s), t);
	if (lt)
		assert_string_equal(avro_schema_logical_type(s), lt);
	else
		assert_null(avro_schema_logical_type(s));
}

static void test_mapping(void **state)
{
	(void)state;
	char err[256];
	rowavro *ra = ra_new(ROWAVRO_ENVELOPE_ROW);
	const rowavro_table *t = rowavro_table_for(ra, &all_rel, err, sizeof err);
	assert_non_null(t);
	const avro_schema *v = t->value_schema;
	assert_ptr_equal(v, t->row_schema);
	assert_string_equal(avro_schema_fullname(v), "brook.cdc.public.users.Value");
	/* the key column is not nullable */
	const avro_field *id = field_named(v, "id");
	assert_int_equal(avro_schema_type(id->type), AVRO_LONG);
	assert_null(id->def);
	check_type(v, "flag", AVRO_BOOLEAN, NULL);
	check_type(v, "small", AVRO_INT, NULL);
	check_type(v, "n4", AVRO_INT, NULL);
	check_type(v, "f4", AVRO_FLOAT, NULL);
	check_type(v, "f8", AVRO_DOUBLE, NULL);
	check_type(v, "amount", AVRO_STRING, NULL);
	check_type(v, "name", AVRO_STRING, NULL);
	check_type(v, "vc", AVRO_STRING, NULL);
	check_type(v, "bp", AVRO_STRING, NULL);
	check_type(v, "nm", AVRO_STRING, NULL);
	check_type(v, "raw", AVRO_BYTES, NULL);
	check_type(v, "born", AVRO_INT, "date");
	check_type(v, "ts", AVRO_LONG, "timestamp-micros");
	check_type(v, "tstz", AVRO_LONG, "timestamp-micros");
	check_type(v, "uid", AVRO_STRING, "uuid");
	check_type(v, "doc", AVRO_STRING, NULL);
	check_type(v, "docb", AVRO_STRING, NULL);
	check_type(v, "where", AVRO_STRING, NULL);
	check_type(v, "big_text", AVRO_STRING, NULL); /* adjusted name */
	/* the unknown type is flagged, only it */
	assert_int_equal(t->nunknown, 1);
	for (size_t i = 0; i < t->ncols; i++)
		assert_int_equal(t->cols[i].unknown, strcmp(t->cols[i].pg_name, "where") == 0);
	assert_string_equal(t->cols[NALL - 1].pg_name, "big-text");
	/* key schema */
	assert_int_equal(t->nkey, 1);
	assert_string_equal(avro_schema_fullname(t->key_schema), "brook.cdc.public.users.Key");
	assert_int_equal(avro_schema_field_count(t->key_schema), 1);
	assert_int_equal(avro_schema_type(avro_schema_field(t->key_schema, 0)->type), AVRO_LONG);

	/* cached: the same table for an equal relation (a copy) */
	pgo_relation copy = all_rel;
	assert_ptr_equal(rowavro_table_for(ra, &copy, err, sizeof err), t);
	/* a changed relation (a column's type) rebuilds */
	pgo_column cols2[NALL];
	memcpy(cols2, all_cols, sizeof cols2);
	cols2[2].type_oid = ROWAVRO_OID_INT8;
	copy.cols = cols2;
	const rowavro_table *t2 = rowavro_table_for(ra, &copy, err, sizeof err);
	assert_non_null(t2);
	check_type(t2->value_schema, "small", AVRO_LONG, NULL);
	/* another relation gets its own table; the first stays cached */
	pgo_relation other = {99, "", "odd name", 'd', 2, all_cols};
	const rowavro_table *t3 = rowavro_table_for(ra, &other, err, sizeof err);
	assert_non_null(t3);
	assert_string_equal(avro_schema_fullname(t3->value_schema),
			    "brook.cdc.pg_catalog.odd_name.Value");
	assert_ptr_equal(rowavro_table_for(ra, &copy, err, sizeof err), t2);
	/* names that collide after adjustment */
	pgo_column clash[] = {{0, "a-b", 25, -1}, {0, "a_b", 25, -1}};
	pgo_relation bad = {100, "s", "t", 'd', 2, clash};
	assert_null(rowavro_table_for(ra, &bad, err, sizeof err));
	assert_non_null(strstr(err, "a_b"));
	/* no key columns: no key schema */
	pgo_column nokey[] = {{0, "x", 25, -1}};
	pgo_relation nk = {101, "s", "1t", 'n', 1, nokey};
	const rowavro_table *t4 = rowavro_table_for(ra, &nk, err, sizeof err);
	assert_non_null(t4);
	assert_null(t4->key_schema);
	assert_string_equal(avro_schema_fullname(t4->value_schema), "brook.cdc.s._1t.Value");
	rowavro_free(ra);
}

static json_t *roundtrip(const avro_schema *s, const json_t *v)
{
	char err[256];
	brook_buf b = BROOK_BUF_INIT;
	if (avro_encode(s, v, &b, err, sizeof err) != BROOK_OK)
		fail_msg("encode: %s", err);
	json_t *got = NULL;
	if (avro_decode(s, (const uint8_t *)b.data, b.len, &got, err, sizeof err) != BROOK_OK)
		fail_msg("decode: %s", err);
	brook_buf_release(&b);
	return got;
}

static void test_envelope_full(void **state)
{
	(void)state;
	char err[256];
	rowavro *ra = ra_new(ROWAVRO_ENVELOPE_FULL);
	const rowavro_table *t = rowavro_table_for(ra, &all_rel, err, sizeof err);
	assert_non_null(t);
	const avro_schema *env = t->value_schema;
	assert_string_equal(avro_schema_fullname(env), "brook.cdc.public.users.Envelope");
	assert_int_equal(avro_schema_field_count(env), 5);
	const char *names[] = {"before", "after", "source", "op", "ts_ms"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(avro_schema_field(env, i)->name, names[i]);
	assert_string_equal(avro_schema_fullname(t->row_schema), "brook.cdc.public.users.Value");
	assert_ptr_equal(nullable_type(env, "after"), t->row_schema);
	const avro_schema *src = field_named(env, "source")->type;
	assert_string_equal(avro_schema_fullname(src), ROWAVRO_SOURCE_NAME);
	const char *sf[] = {"connector", "db", "schema", "table", "lsn", "txId", "ts_ms",
			    "snapshot"};
	const avro_type st[] = {AVRO_STRING, AVRO_STRING, AVRO_STRING, AVRO_STRING,
				AVRO_LONG,   AVRO_LONG,	  AVRO_LONG,   AVRO_STRING};
	for (size_t i = 0; i < 8; i++) {
		assert_string_equal(avro_schema_field(src, i)->name, sf[i]);
		assert_int_equal(avro_schema_type(avro_schema_field(src, i)->type), st[i]);
	}

	/* an insert */
	pgo_tuple r1 = {NALL, row1_vals};
	pg_cdc_change ch = {'c', &all_rel, 0, NULL, &r1, 0x16B374D848ULL};
	rowavro_source so = {.lsn = ch.lsn, .txid = 755, .commit_ms = 1700000000123LL,
			     .now_ms = 1700000000456LL};
	json_t *v = NULL, *k = NULL;
	assert_int_equal(rowavro_value(ra, t, &ch, &so, &v, err, sizeof err), BROOK_OK);
	json_t *want_after = json_pack(
		"{s:I, s:b, s:i, s:i, s:f, s:f, s:s, s:s, s:s, s:s, s:s, s:s%, s:i, s:I, s:I,"
		" s:s, s:s, s:s, s:s, s:s}",
		"id", (json_int_t)7, "flag", 1, "small", -3, "n4", 100000, "f4", 1.5, "f8", 2.25,
		"amount", "12345.678901234567890", "name", "ada", "vc", "v", "bp", "b  ", "nm",
		"nm", "raw", "\x00\xc3\xbf\x10", (size_t)4, "born", 19782, "ts",
		(json_int_t)1705314600500000LL, "tstz", (json_int_t)1705314600000000LL, "uid",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "doc", "{\"a\": 1}", "docb",
		"{\"b\": 2}", "where", "(1,2)", "big_text", "long text");
	assert_non_null(want_after);
	assert_true(json_equal(json_object_get(v, "after"), want_after));
	json_decref(want_after);
	assert_true(json_is_null(json_object_get(v, "before")));
	assert_string_equal(json_string_value(json_object_get(v, "op")), "c");
	assert_int_equal(json_integer_value(json_object_get(v, "ts_ms")), 1700000000456LL);
	json_t *want_src = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "connector",
				     "postgresql", "db", "app", "schema", "public", "table",
				     "users", "lsn", (json_int_t)0x16B374D848ULL, "txId",
				     (json_int_t)755, "ts_ms", (json_int_t)1700000000123LL,
				     "snapshot", "false");
	assert_true(json_equal(json_object_get(v, "source"), want_src));
	json_decref(want_src);
	/* round trip through Avro binary */
	json_t *back = roundtrip(env, v);
	assert_true(json_equal(back, v));
	json_decref(back);
	/* the key */
	assert_int_equal(rowavro_key(t, &ch, &k, err, sizeof err), BROOK_OK);
	json_t *want_key = json_pack("{s:I}", "id", (json_int_t)7);
	assert_true(json_equal(k, want_key));
	back = roundtrip(t->key_schema, k);
	assert_true(json_equal(back, k));
	json_decref(back);
	json_decref(k);

	/* the JSON rendering: bytes as base64, the rest as is */
	json_t *j = rowavro_to_json(env, v);
	json_t *ja = json_object_get(j, "after");
	assert_string_equal(json_string_value(json_object_get(ja, "raw")), "AP8Q");
	json_object_set_new(ja, "raw", json_stringn("\x00\xc3\xbf\x10", 4));
	assert_true(json_equal(j, v));
	json_decref(j);
	json_decref(v);

	/* an update with unchanged TOAST values and the old key */
	pgo_tuple r2 = {NALL, row2_vals}, kt = {NALL, key_vals};
	pg_cdc_change up = {'u', &all_rel, 'K', &kt, &r2, 1};
	assert_int_equal(rowavro_value(ra, t, &up, &so, &v, err, sizeof err), BROOK_OK);
	json_t *a = json_object_get(v, "after");
	assert_string_equal(json_string_value(json_object_get(a, "raw")), ROWAVRO_UNAVAILABLE);
	assert_string_equal(json_string_value(json_object_get(a, "big_text")),
			    ROWAVRO_UNAVAILABLE);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "grace");
	assert_true(json_is_null(json_object_get(a, "flag")));
	json_t *b = json_object_get(v, "before");
	assert_int_equal(json_integer_value(json_object_get(b, "id")), 7);
	assert_true(json_is_null(json_object_get(b, "name")));
	assert_string_equal(json_string_value(json_object_get(v, "op")), "u");
	back = roundtrip(env, v);
	assert_true(json_equal(back, v));
	json_decref(back);
	json_decref(v);

	/* a delete: before only; the key from before */
	pg_cdc_change del = {'d', &all_rel, 'K', &kt, NULL, 2};
	assert_int_equal(rowavro_value(ra, t, &del, &so, &v, err, sizeof err), BROOK_OK);
	assert_true(json_is_null(json_object_get(v, "after")));
	assert_string_equal(json_string_value(json_object_get(v, "op")), "d");
	back = roundtrip(env, v);
	assert_true(json_equal(back, v));
	json_decref(back);
	json_decref(v);
	assert_int_equal(rowavro_key(t, &del, &k, err, sizeof err), BROOK_OK);
	assert_true(json_equal(k, want_key));
	json_decref(k);
	json_decref(want_key);

	/* a snapshot read: snapshot "true" */
	pg_cdc_change rd = {'r', &all_rel, 0, NULL, &r1, 0};
	rowavro_source so2 = {.now_ms = 5};
	assert_int_equal(rowavro_value(ra, t, &rd, &so2, &v, err, sizeof err), BROOK_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "source"),
							      "snapshot")), "true");
	assert_string_equal(json_string_value(json_object_get(v, "op")), "r");
	json_decref(v);

	/* an unparseable value names the column; a null key column is an error */
	pgo_value badv[NALL];
	memcpy(badv, row1_vals, sizeof badv);
	badv[3] = (pgo_value)TV("12x");
	pgo_tuple bt = {NALL, badv};
	ch.after = &bt;
	assert_int_equal(rowavro_value(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_null(v);
	assert_non_null(strstr(err, "n4"));
	badv[3] = row1_vals[3];
	badv[0] = (pgo_value)NV;
	assert_int_equal(rowavro_value(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "key column id"));
	badv[0] = (pgo_value)UV;
	assert_int_equal(rowavro_key(t, &ch, &k, err, sizeof err), BROOK_ERR);
	/* a tuple of the wrong width */
	pgo_tuple shortt = {2, row1_vals};
	ch.after = &shortt;
	assert_int_equal(rowavro_value(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	rowavro_free(ra);
}

static void test_envelope_row(void **state)
{
	(void)state;
	char err[256];
	rowavro *ra = ra_new(ROWAVRO_ENVELOPE_ROW);
	const rowavro_table *t = rowavro_table_for(ra, &all_rel, err, sizeof err);
	pgo_tuple r1 = {NALL, row1_vals}, kt = {NALL, key_vals};
	rowavro_source so = {.now_ms = 1};
	pg_cdc_change ch = {'c', &all_rel, 0, NULL, &r1, 1};
	json_t *v = NULL;
	assert_int_equal(rowavro_value(ra, t, &ch, &so, &v, err, sizeof err), BROOK_OK);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 7);
	assert_null(json_object_get(v, "after"));
	json_t *back = roundtrip(t->value_schema, v);
	assert_true(json_equal(back, v));
	json_decref(back);
	json_decref(v);
	/* a delete is a tombstone: no value */
	pg_cdc_change del = {'d', &all_rel, 'K', &kt, NULL, 2};
	assert_int_equal(rowavro_value(ra, t, &del, &so, &v, err, sizeof err), BROOK_OK);
	assert_null(v);
	json_t *k = NULL;
	assert_int_equal(rowavro_key(t, &del, &k, err, sizeof err), BROOK_OK);
	assert_non_null(k);
	json_decref(k);
	/* a truncate has neither key nor value */
	pg_cdc_change tr = {'t', &all_rel, 0, NULL, NULL, 3};
	assert_int_equal(rowavro_key(t, &tr, &k, err, sizeof err), BROOK_OK);
	assert_null(k);
	assert_int_equal(rowavro_value(ra, t, &tr, &so, &v, err, sizeof err), BROOK_OK);
	assert_null(v);

	/* REPLICA IDENTITY FULL: every column flagged key, all nullable */
	pgo_column full_cols[] = {{PGO_COLUMN_KEY, "a", 23, -1}, {PGO_COLUMN_KEY, "b", 25, -1}};
	pgo_relation full = {200, "public", "f", 'f', 2, full_cols};
	const rowavro_table *tf = rowavro_table_for(ra, &full, err, sizeof err);
	assert_non_null(tf);
	nullable_type(tf->value_schema, "a");
	nullable_type(tf->key_schema, "b");
	pgo_value fv[] = {TV("1"), NV};
	pgo_tuple ft = {2, fv};
	pg_cdc_change fch = {'d', &full, 'O', &ft, NULL, 4};
	assert_int_equal(rowavro_key(tf, &fch, &k, err, sizeof err), BROOK_OK);
	back = roundtrip(tf->key_schema, k);
	assert_true(json_equal(back, k));
	json_decref(back);
	json_decref(k);
	rowavro_free(ra);

	rowavro_envelope e;
	assert_int_equal(rowavro_envelope_parse("full", &e), BROOK_OK);
	assert_int_equal(e, ROWAVRO_ENVELOPE_FULL);
	assert_int_equal(rowavro_envelope_parse("row", &e), BROOK_OK);
	assert_int_equal(e, ROWAVRO_ENVELOPE_ROW);
	assert_int_equal(rowavro_envelope_parse("flat", &e), BROOK_ERR);
}

/* python3-avro (when installed) reads one encoded envelope with the schema we built. */
static void test_python_avro_reads(void **state)
{
	(void)state;
	if (system("/usr/bin/python3 -c 'import avro.io' >/dev/null 2>&1") != 0)
		skip();
	char err[256];
	rowavro *ra = ra_new(ROWAVRO_ENVELOPE_FULL);
	const rowavro_table *t = rowavro_table_for(ra, &all_rel, err, sizeof err);
	pgo_tuple r1 = {NALL, row1_vals};
	pg_cdc_change ch = {'c', &all_rel, 0, NULL, &r1, 42};
	rowavro_source so = {.lsn = 42, .txid = 9, .commit_ms = 1000, .now_ms = 2000};
	json_t *v = NULL;
	assert_int_equal(rowavro_value(ra, t, &ch, &so, &v, err, sizeof err), BROOK_OK);
	brook_buf b = BROOK_BUF_INIT;
	assert_int_equal(avro_encode(t->value_schema, v, &b, err, sizeof err), BROOK_OK);

	char dir[] = "/tmp/test_rowavro_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[512], cmd[2048];
	snprintf(path, sizeof path, "%s/schema.avsc", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(t->value_json, fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/value.bin", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fwrite(b.data, 1, b.len, fp);
	fclose(fp);
	snprintf(cmd, sizeof cmd,
		 "cd %s && /usr/bin/python3 -c '"
		 "import avro.schema, avro.io, io, sys\n"
		 "s = avro.schema.parse(open(\"schema.avsc\").read())\n"
		 "d = avro.io.DatumReader(s).read(avro.io.BinaryDecoder(io.BytesIO("
		 "open(\"value.bin\", \"rb\").read())))\n"
		 "a = d[\"after\"]\n"
		 "ok = (d[\"op\"] == \"c\" and a[\"id\"] == 7"
		 " and a[\"raw\"] == b\"\\x00\\xff\\x10\""
		 " and a[\"name\"] == \"ada\" and d[\"source\"][\"txId\"] == 9"
		 " and d[\"before\"] is None and a[\"big_text\"] == \"long text\")\n"
		 "sys.exit(0 if ok else print(d) or 1)\n' >&2",
		 dir);
	int rc = system(cmd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rc, 0);
	brook_buf_release(&b);
	json_decref(v);
	rowavro_free(ra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_scalars),
		cmocka_unit_test(test_parse_bytea),
		cmocka_unit_test(test_parse_dates),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_envelope_full),
		cmocka_unit_test(test_envelope_row),
		cmocka_unit_test(test_python_avro_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
