/*
 * test_rowavro.c — PostgreSQL changes as Avro: the type mapping of every column type,
 * text parsing (and its errors), key/value schemas and envelope shapes, unchanged TOAST,
 * name adjustment, the per-relation cache and its id slots. Every encoded value is
 * decoded with avro_decode and the table's (or the kind's) schema and compared with the
 * expected JSON datum, and re-encoded with the generic avro_encode, which must give the
 * very same bytes; errors leave the output buffer as it was. python3-avro reads one
 * encoded envelope.
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

#include "avro/binary.h"
#include "avro/datum.h"
#include "connect/rowavro.h"
#include "core/err.h"

/* ---- decoding what was encoded ---- */

/* Decode b[from..] with s; the generic encoder must give the same bytes back. */
static json_t *decode_same(const avro_schema *s, const brook_buf *b, size_t from)
{
	char err[256];
	json_t *v = NULL;
	const uint8_t *p = (const uint8_t *)b->data + from;
	size_t n = b->len - from;
	if (avro_decode(s, p, n, &v, err, sizeof err) != BROOK_OK)
		fail_msg("decode: %s", err);
	brook_buf again = BROOK_BUF_INIT;
	if (avro_encode(s, v, &again, err, sizeof err) != BROOK_OK)
		fail_msg("re-encode: %s", err);
	assert_int_equal(again.len, n);
	if (n)
		assert_memory_equal(again.data, p, n);
	brook_buf_release(&again);
	return v;
}

/* The plain Avro type of each kind (rowavro.h's mapping). */
static const char *const kind_schema[] = {
	[ROWAVRO_BOOLEAN] = "\"boolean\"",
	[ROWAVRO_INT] = "\"int\"",
	[ROWAVRO_LONG] = "\"long\"",
	[ROWAVRO_FLOAT] = "\"float\"",
	[ROWAVRO_DOUBLE] = "\"double\"",
	[ROWAVRO_STRING] = "\"string\"",
	[ROWAVRO_BYTES] = "\"bytes\"",
	[ROWAVRO_DATE] = "{\"type\":\"int\",\"logicalType\":\"date\"}",
	[ROWAVRO_TIMESTAMP] = "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}",
	[ROWAVRO_TIMESTAMPTZ] = "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}",
	[ROWAVRO_UUID] = "{\"type\":\"string\",\"logicalType\":\"uuid\"}",
};

/* ---- text parsing ---- */

static json_t *parse_ok(rowavro_kind k, const char *text)
{
	char err[256];
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_puts(&b, "xy"); /* appended after what is there */
	if (rowavro_parse_text(k, text, strlen(text), &b, err, sizeof err) != BROOK_OK)
		fail_msg("\"%s\": %s", text, err);
	assert_memory_equal(b.data, "xy", 2);
	avro_schema *s = avro_schema_parse(kind_schema[k], strlen(kind_schema[k]), err,
					   sizeof err);
	assert_non_null(s);
	json_t *v = decode_same(s, &b, 2);
	avro_schema_free(s);
	brook_buf_release(&b);
	return v;
}

static void parse_bad(rowavro_kind k, const char *text)
{
	char err[256] = "";
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_puts(&b, "xy");
	if (rowavro_parse_text(k, text, strlen(text), &b, err, sizeof err) == BROOK_OK)
		fail_msg("\"%s\" parsed", text);
	assert_int_equal(b.len, 2);
	assert_true(err[0] != '\0');
	brook_buf_release(&b);
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
	/* beyond float's range: a float4 column refuses it, a double takes it */
	parse_bad(ROWAVRO_FLOAT, "1e39");
	v = parse_ok(ROWAVRO_DOUBLE, "1e39");
	assert_true(json_real_value(v) == 1e39);
	json_decref(v);
	v = parse_ok(ROWAVRO_FLOAT, "0.1");
	assert_true(json_real_value(v) == (double)0.1f);
	json_decref(v);

	v = parse_ok(ROWAVRO_STRING, "héllo");
	assert_string_equal(json_string_value(v), "héllo");
	json_decref(v);
	v = parse_ok(ROWAVRO_STRING, "");
	assert_string_equal(json_string_value(v), "");
	json_decref(v);
	parse_bad(ROWAVRO_STRING, "\xff\xfe");
	parse_bad(ROWAVRO_STRING, "\xc0\xaf");	 /* overlong '/' */
	parse_bad(ROWAVRO_STRING, "\xed\xa0\x80"); /* a surrogate */

	v = parse_ok(ROWAVRO_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	assert_string_equal(json_string_value(v), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
	json_decref(v);
	parse_bad(ROWAVRO_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1");
	parse_bad(ROWAVRO_UUID, "a0eebc99x9c0b-4ef8-bb6d-6bb9bd380a11");
}

/* The Avro bytes of a bytea text: its length, then exactly want. */
static void expect_bytes(const char *text, const uint8_t *want, size_t n)
{
	json_decref(parse_ok(ROWAVRO_BYTES, text)); /* decodes, re-encodes the same */
	char err[256];
	brook_buf b = BROOK_BUF_INIT, w = BROOK_BUF_INIT;
	assert_int_equal(rowavro_parse_text(ROWAVRO_BYTES, text, strlen(text), &b, err,
					    sizeof err), BROOK_OK);
	avro_put_bytes(&w, want, n);
	assert_int_equal(b.len, w.len);
	assert_memory_equal(b.data, w.data, w.len);
	brook_buf_release(&b);
	brook_buf_release(&w);
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

	/* longer than the encoder's chunk, both forms */
	uint8_t big[700];
	char hex[2 + 2 * sizeof big + 1], octal[4 * sizeof big + 1];
	size_t k = 0;
	hex[0] = '\\';
	hex[1] = 'x';
	for (size_t i = 0; i < sizeof big; i++) {
		big[i] = (uint8_t)(i * 7);
		snprintf(hex + 2 + 2 * i, 3, "%02x", big[i]);
		k += (size_t)snprintf(octal + k, sizeof octal - k, "\\%03o", big[i]);
	}
	expect_bytes(hex, big, sizeof big);
	expect_bytes(octal, big, sizeof big);
	hex[sizeof hex - 2] = 'g';
	parse_bad(ROWAVRO_BYTES, hex);
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
	rowavro_table *t = rowavro_table_for(ra, &all_rel, err, sizeof err);
	assert_non_null(t);
	assert_int_equal(t->key_id, ROWAVRO_NO_ID);
	assert_int_equal(t->value_id, ROWAVRO_NO_ID);
	t->key_id = 3;
	t->value_id = 4;
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

	/* cached: the same table for an equal relation (a copy), ids kept */
	pgo_relation copy = all_rel;
	assert_ptr_equal(rowavro_table_for(ra, &copy, err, sizeof err), t);
	assert_int_equal(t->key_id, 3);
	assert_int_equal(t->value_id, 4);
	/* a changed relation (a column's type) rebuilds */
	pgo_column cols2[NALL];
	memcpy(cols2, all_cols, sizeof cols2);
	cols2[2].type_oid = ROWAVRO_OID_INT8;
	copy.cols = cols2;
	const rowavro_table *t2 = rowavro_table_for(ra, &copy, err, sizeof err);
	assert_non_null(t2);
	check_type(t2->value_schema, "small", AVRO_LONG, NULL);
	assert_int_equal(t2->key_id, ROWAVRO_NO_ID); /* a new schema: registered again */
	assert_int_equal(t2->value_id, ROWAVRO_NO_ID);
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

/* What an encoder left in b (which held "hdr00"): the value decoded with s when it
 * succeeded and wrote one, else NULL; an error or nothing written leaves b as it was. */
static json_t *encoded_datum(int rc, bool has, brook_buf *b, const avro_schema *s)
{
	json_t *v = NULL;
	if (rc == BROOK_OK && has)
		v = decode_same(s, b, 5);
	else
		assert_int_equal(b->len, 5);
	assert_memory_equal(b->data, "hdr00", 5);
	if (rc != BROOK_OK)
		assert_false(has);
	brook_buf_release(b);
	return v;
}

/* The change's value through rowavro_encode_value, decoded with t->value_schema (NULL
 * when there is none); errors must leave the buffer as it was. */
static int value_datum(const rowavro *ra, const rowavro_table *t, const pg_cdc_change *ch,
		       const rowavro_source *so, json_t **v, char *err, size_t errlen)
{
	brook_buf b = BROOK_BUF_INIT;
	bool has = true;
	brook_buf_puts(&b, "hdr00");
	int rc = rowavro_encode_value(ra, t, ch, so, &b, &has, err, errlen);
	*v = encoded_datum(rc, has, &b, t->value_schema);
	return rc;
}

/* The same for the key, decoded with t->key_schema. */
static int key_datum(const rowavro_table *t, const pg_cdc_change *ch, json_t **k, char *err,
		     size_t errlen)
{
	brook_buf b = BROOK_BUF_INIT;
	bool has = true;
	brook_buf_puts(&b, "hdr00");
	int rc = rowavro_encode_key(t, ch, &b, &has, err, errlen);
	*k = encoded_datum(rc, has, &b, t->key_schema);
	return rc;
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
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_OK);
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
	/* the key */
	assert_int_equal(key_datum(t, &ch, &k, err, sizeof err), BROOK_OK);
	json_t *want_key = json_pack("{s:I}", "id", (json_int_t)7);
	assert_true(json_equal(k, want_key));
	json_decref(k);

	assert_int_equal(json_object_size(v), 5);
	json_decref(v);

	/* an update with unchanged TOAST values and the old key */
	pgo_tuple r2 = {NALL, row2_vals}, kt = {NALL, key_vals};
	pg_cdc_change up = {'u', &all_rel, 'K', &kt, &r2, 1};
	assert_int_equal(value_datum(ra, t, &up, &so, &v, err, sizeof err), BROOK_OK);
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
	json_t *want_a2 = json_pack(
		"{s:I, s:n, s:n, s:n, s:n, s:n, s:n, s:s, s:n, s:n, s:n, s:s, s:n, s:n, s:n,"
		" s:n, s:n, s:n, s:n, s:s}",
		"id", (json_int_t)7, "flag", "small", "n4", "f4", "f8", "amount", "name",
		"grace", "vc", "bp", "nm", "raw", ROWAVRO_UNAVAILABLE, "born", "ts", "tstz",
		"uid", "doc", "docb", "where", "big_text", ROWAVRO_UNAVAILABLE);
	assert_non_null(want_a2);
	assert_true(json_equal(a, want_a2));
	json_decref(want_a2);
	json_decref(v);

	/* a delete: before only; the key from before */
	pg_cdc_change del = {'d', &all_rel, 'K', &kt, NULL, 2};
	assert_int_equal(value_datum(ra, t, &del, &so, &v, err, sizeof err), BROOK_OK);
	assert_true(json_is_null(json_object_get(v, "after")));
	assert_string_equal(json_string_value(json_object_get(v, "op")), "d");
	json_decref(v);
	assert_int_equal(key_datum(t, &del, &k, err, sizeof err), BROOK_OK);
	assert_true(json_equal(k, want_key));
	json_decref(k);
	json_decref(want_key);

	/* a snapshot read: snapshot "true" */
	pg_cdc_change rd = {'r', &all_rel, 0, NULL, &r1, 0};
	rowavro_source so2 = {.now_ms = 5};
	assert_int_equal(value_datum(ra, t, &rd, &so2, &v, err, sizeof err), BROOK_OK);
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
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_null(v);
	assert_non_null(strstr(err, "n4"));
	badv[3] = row1_vals[3];
	badv[0] = (pgo_value)NV;
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "key column id"));
	badv[0] = (pgo_value)UV;
	assert_int_equal(key_datum(t, &ch, &k, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "key column id is an unchanged TOAST value"));
	badv[0] = row1_vals[0];
	/* a float4 beyond float's range, text that is not UTF-8, a binary value */
	badv[4] = (pgo_value)TV("3.5e38");
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "column f4 (type oid 700)"));
	badv[4] = row1_vals[4];
	badv[7] = (pgo_value)TV("caf\xe9");
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "column name (type oid 25): text is not valid UTF-8");
	badv[7] = (pgo_value){PGO_VALUE_BINARY, 1, (const uint8_t *)"x"};
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "binary values are not supported"));
	/* an error in the old tuple too (before is written first) */
	badv[7] = row1_vals[7];
	badv[12] = (pgo_value)TV("2024-02-30");
	pg_cdc_change up2 = {'u', &all_rel, 'O', &bt, &r1, 3};
	assert_int_equal(value_datum(ra, t, &up2, &so, &v, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "column born (type oid 1082): not a date: \"2024-02-30\"");
	/* a tuple of the wrong width */
	pgo_tuple shortt = {2, row1_vals};
	ch.after = &shortt;
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_int_equal(key_datum(t, &ch, &k, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "tuple of 2 columns"));

	/* an explicit snapshot marker */
	ch.after = &r1;
	so.snapshot = "last";
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "source"),
							      "snapshot")), "last");
	json_decref(v);

	/* a table name that is not UTF-8: the source block cannot carry it */
	pgo_column one[] = {{PGO_COLUMN_KEY, "id", ROWAVRO_OID_INT4, -1}};
	pgo_relation badname = {300, "public", "t\xff", 'd', 1, one};
	const rowavro_table *tb = rowavro_table_for(ra, &badname, err, sizeof err);
	assert_non_null(tb);
	pgo_value onev[] = {TV("1")};
	pgo_tuple onet = {1, onev};
	pg_cdc_change bch = {'c', &badname, 0, NULL, &onet, 9};
	assert_int_equal(value_datum(ra, tb, &bch, &so, &v, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "names are not valid UTF-8"));
	assert_int_equal(key_datum(tb, &bch, &k, err, sizeof err), BROOK_OK);
	json_decref(k);
	rowavro_free(ra);

	/* the row envelope has no source block: the same table encodes */
	ra = ra_new(ROWAVRO_ENVELOPE_ROW);
	tb = rowavro_table_for(ra, &badname, err, sizeof err);
	assert_non_null(tb);
	assert_int_equal(value_datum(ra, tb, &bch, &so, &v, err, sizeof err), BROOK_OK);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 1);
	json_decref(v);
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
	assert_int_equal(value_datum(ra, t, &ch, &so, &v, err, sizeof err), BROOK_OK);
	assert_int_equal(json_integer_value(json_object_get(v, "id")), 7);
	assert_null(json_object_get(v, "after"));
	json_decref(v);
	/* a delete is a tombstone: no value */
	pg_cdc_change del = {'d', &all_rel, 'K', &kt, NULL, 2};
	assert_int_equal(value_datum(ra, t, &del, &so, &v, err, sizeof err), BROOK_OK);
	assert_null(v);
	json_t *k = NULL;
	assert_int_equal(key_datum(t, &del, &k, err, sizeof err), BROOK_OK);
	assert_non_null(k);
	json_decref(k);
	/* a truncate has neither key nor value */
	pg_cdc_change tr = {'t', &all_rel, 0, NULL, NULL, 3};
	assert_int_equal(key_datum(t, &tr, &k, err, sizeof err), BROOK_OK);
	assert_null(k);
	assert_int_equal(value_datum(ra, t, &tr, &so, &v, err, sizeof err), BROOK_OK);
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
	assert_int_equal(key_datum(tf, &fch, &k, err, sizeof err), BROOK_OK);
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
	brook_buf b = BROOK_BUF_INIT;
	bool has = false;
	assert_int_equal(rowavro_encode_value(ra, t, &ch, &so, &b, &has, err, sizeof err),
			 BROOK_OK);
	assert_true(has);

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
