/*
 * test_cql_client.c — the CQL client's parts that need no server (cql/client.h,
 * cql/client_impl.h): typed binding against prepared metadata, query-statement binding,
 * the statement cache and prepared versions, batches, results and their accessors, the
 * cqlsh-style table, JSON rows, and splitting scripts into statements.
 *
 * Prepared and Rows answers are built with the protocol codec (cql/msg.h) and decoded
 * by cql_res_decode exactly as the I/O thread does. Expected bytes are written out from
 * the spec's serialization formats (native_protocol_v4.spec section 6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "cql/client.h"
#include "cql/client_impl.h"
#include "cql/compress.h"
#include "cql/frame.h"
#include "cql/msg.h"

/* ---- helpers ------------------------------------------------------------------------ */

static cql_res *decode_body(uint8_t opcode, const brook_buf *body)
{
	cql_frame_hdr h = {.version = 0x84, .opcode = opcode, .length = (uint32_t)body->len};
	char err[256] = "";
	cql_res *r = cql_res_decode(&h, body->data, body->len, 1u << 20, err, sizeof err);
	if (!r)
		fail_msg("decode failed: %s", err);
	return r;
}

/* A Prepared answer with bind markers named names[i] of types types[i] in ks.tbl. */
static cql_res *prepared_answer(const char *const *names, const char *const *types, int n,
                                const char *id)
{
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	cql_msg m = {.opcode = CQL_OP_RESULT};
	cql_result *r = &m.u.result;
	r->kind = CQL_RESULT_PREPARED;
	r->id = cql_bytes_of(id, strlen(id));
	r->meta.flags = CQL_META_GLOBAL_TABLES_SPEC;
	r->meta.columns_count = n;
	r->meta.keyspace = CQL_STR("ks");
	r->meta.table = CQL_STR("tbl");
	uint16_t pk[1] = {0};
	r->meta.pk_count = 1;
	r->meta.pk_index = pk;
	r->meta.cols = brook_arena_calloc(&a, (size_t)n * sizeof(cql_col_spec));
	for (int i = 0; i < n; i++) {
		char err[128];
		r->meta.cols[i].name = cql_str_from(names[i]);
		r->meta.cols[i].type =
		    cql_type_parse(types[i], strlen(types[i]), &a, err, sizeof err);
		assert_non_null(r->meta.cols[i].type);
	}
	r->result_meta.flags = CQL_META_NO_METADATA;
	cql_msg_encode(&b, &m);
	cql_res *res = decode_body(CQL_OP_RESULT, &b);
	brook_buf_release(&b);
	brook_arena_release(&a);
	return res;
}

static const char *const all_names[] = {"id",   "name",  "age", "small", "big",
                                        "ok",   "score", "f",   "ts",    "data",
                                        "tags", "v",     "tu",  "tiny",  "ascii_col"};
static const char *const all_types[] = {"uuid",       "text",   "int",      "smallint",  "bigint",
                                        "boolean",    "double", "float",    "timestamp", "blob",
                                        "list<text>", "varint", "timeuuid", "tinyint",   "ascii"};
#define NALL ((int)(sizeof all_names / sizeof all_names[0]))

static cql_prepared *all_types_prepared(void)
{
	char err[256];
	cql_prepared *p =
	    cql_prepared_new("ks", "INSERT INTO tbl ...",
	                     prepared_answer(all_names, all_types, NALL, "ID1"), err, sizeof err);
	assert_non_null(p);
	return p;
}

static void assert_value(const cql_stmt *st, int i, const void *want, int32_t len)
{
	const cql_bound *b = &st->v[i];
	assert_true(b->set);
	assert_int_equal(b->len, len);
	if (len > 0 && memcmp(st->data.data + b->off, want, (size_t)len) != 0) {
		fprintf(stderr, "value %d:", i);
		for (int32_t k = 0; k < len; k++)
			fprintf(stderr, " %02x", (uint8_t)st->data.data[b->off + (size_t)k]);
		fprintf(stderr, "\n");
		fail_msg("value %d differs", i);
	}
}

/* ---- binding ------------------------------------------------------------------------- */

static void test_bind_typed(void **state)
{
	(void)state;
	cql_prepared *p = all_types_prepared();
	cql_stmt *st = cql_stmt_new_prepared(p);
	assert_int_equal(cql_stmt_count(st), NALL);
	assert_int_equal(cql_stmt_index(st, "score"), 6);
	assert_int_equal(cql_stmt_index(st, "nope"), -1);
	assert_int_equal(cql_stmt_type(st, 2)->id, CQL_TYPE_INT);
	assert_null(cql_stmt_type(st, NALL));

	uint8_t u[16];
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)(0x10 + i);
	u[6] = 0x41; /* version 4 */
	assert_int_equal(cql_stmt_bind_uuid(st, 0, u), BROOK_OK);
	assert_value(st, 0, u, 16);
	assert_int_equal(cql_stmt_bind_text(st, 1, "Zoë"), BROOK_OK);
	assert_value(st, 1, "Zo\xc3\xab", 4);
	assert_int_equal(cql_stmt_bind_int(st, 2, -2), BROOK_OK);
	assert_value(st, 2, "\xff\xff\xff\xfe", 4);
	/* integer binders adapt to the column's integer type */
	assert_int_equal(cql_stmt_bind_int(st, 3, 258), BROOK_OK);
	assert_value(st, 3, "\x01\x02", 2);
	assert_int_equal(cql_stmt_bind_int(st, 4, 1), BROOK_OK);
	assert_value(st, 4, "\0\0\0\0\0\0\0\x01", 8);
	assert_int_equal(cql_stmt_bind_bool(st, 5, true), BROOK_OK);
	assert_value(st, 5, "\x01", 1);
	assert_int_equal(cql_stmt_bind_double(st, 6, 1.5), BROOK_OK);
	assert_value(st, 6, "\x3f\xf8\0\0\0\0\0\0", 8);
	assert_int_equal(cql_stmt_bind_double(st, 7, 2.25), BROOK_OK); /* double -> float */
	assert_value(st, 7, "\x40\x10\0\0", 4);
	assert_int_equal(cql_stmt_bind_timestamp(st, 8, 1709632800000LL), BROOK_OK);
	assert_value(st, 8, "\0\0\x01\x8e\x0e\x0e\x45\x00", 8);
	assert_int_equal(cql_stmt_bind_blob(st, 9, "\0\x01", 2), BROOK_OK);
	assert_value(st, 9, "\0\x01", 2);
	assert_int_equal(cql_stmt_bind_from_text(st, 10, "['a', 'bc']"), BROOK_OK);
	assert_value(st, 10,
	             "\0\0\0\x02\0\0\0\x01"
	             "a"
	             "\0\0\0\x02"
	             "bc",
	             15);
	/* varint: minimal two's complement (spec 6.23 examples) */
	assert_int_equal(cql_stmt_bind_bigint(st, 11, 128), BROOK_OK);
	assert_value(st, 11, "\x00\x80", 2);
	assert_int_equal(cql_stmt_bind_bigint(st, 11, -129), BROOK_OK);
	assert_value(st, 11, "\xff\x7f", 2);
	assert_int_equal(cql_stmt_bind_bigint(st, 11, -1), BROOK_OK);
	assert_value(st, 11, "\xff", 1);
	assert_int_equal(cql_stmt_bind_bigint(st, 11, 0), BROOK_OK);
	assert_value(st, 11, "\x00", 1);
	assert_int_equal(cql_stmt_bind_from_text(st, 12, "d2177dd0-eaa2-11de-a572-001b779c76e3"),
	                 BROOK_OK);
	assert_int_equal(cql_stmt_bind_int(st, 13, -128), BROOK_OK);
	assert_value(st, 13, "\x80", 1);
	assert_int_equal(cql_stmt_bind_text(st, 14, "plain"), BROOK_OK);
	assert_null(cql_stmt_error(st));
	char err[256];
	assert_int_equal(cql_stmt_ready(st, err, sizeof err), BROOK_OK);

	/* null and unset are binds too */
	assert_int_equal(cql_stmt_bind_null(st, 1), BROOK_OK);
	assert_value(st, 1, NULL, CQL_NULL);
	assert_int_equal(cql_stmt_bind_unset(st, 2), BROOK_OK);
	assert_value(st, 2, NULL, CQL_UNSET);
	assert_int_equal(cql_stmt_bind_from_text(st, 1, "''"), BROOK_OK); /* empty, not null */
	assert_value(st, 1, "", 0);
	assert_int_equal(cql_stmt_bind_from_text(st, 4, " NULL "), BROOK_OK);
	assert_value(st, 4, NULL, CQL_NULL);
	assert_int_equal(cql_stmt_ready(st, err, sizeof err), BROOK_OK);
	cql_stmt_free(st);
	cql_prepared_free(p);
}

static void test_bind_errors(void **state)
{
	(void)state;
	cql_prepared *p = all_types_prepared();
	cql_stmt *st = cql_stmt_new_prepared(p);
	char err[256];

	assert_int_equal(cql_stmt_bind_text(st, 2, "x"), BROOK_ERR);
	assert_string_equal(cql_stmt_error(st), "value 2 (age int) cannot be bound from text");
	/* the first failure sticks */
	assert_int_equal(cql_stmt_bind_int(st, 1, 5), BROOK_ERR);
	assert_string_equal(cql_stmt_error(st), "value 2 (age int) cannot be bound from text");
	assert_int_equal(cql_stmt_ready(st, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "value 2 (age int) cannot be bound from text");

	cql_stmt_clear(st);
	assert_null(cql_stmt_error(st));
	assert_int_equal(cql_stmt_bind_int(st, 3, 40000), BROOK_ERR);
	assert_string_equal(cql_stmt_error(st), "value 3 (small smallint): 40000 is out of range");
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_int(st, 13, 128), BROOK_ERR);
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_int(st, NALL, 1), BROOK_ERR);
	assert_string_equal(cql_stmt_error(st),
	                    "value index 15 is out of range: the statement has 15 bind markers");
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_textn(st, 1, "\xff\xfe", 2), BROOK_ERR); /* not UTF-8 */
	assert_non_null(strstr(cql_stmt_error(st), "value 1 (name text)"));
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_text(st, 14, "caf\xc3\xa9"), BROOK_ERR); /* ascii */
	cql_stmt_clear(st);
	uint8_t v4[16] = {0};
	v4[6] = 0x40;
	assert_int_equal(cql_stmt_bind_uuid(st, 12, v4), BROOK_ERR); /* timeuuid wants v1 */
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_raw(st, 2, "\x01\x02\x03", 3), BROOK_ERR);
	assert_non_null(strstr(cql_stmt_error(st), "value 2 (age int)"));
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_from_text(st, 2, "forty"), BROOK_ERR);
	assert_non_null(strstr(cql_stmt_error(st), "value 2 (age int): cannot read 'forty'"));
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_bool(st, 6, true), BROOK_ERR);
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_timestamp(st, 4, 1), BROOK_ERR);
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_bind_double(st, 7, 1e300), BROOK_ERR); /* float range */

	/* every marker must be bound */
	cql_stmt_clear(st);
	for (int i = 0; i < NALL; i++)
		if (i != 5)
			cql_stmt_bind_null(st, i);
	assert_int_equal(cql_stmt_ready(st, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "value 5 (ok boolean) is not bound (bind null or unset "
	                         "explicitly to leave it out)");
	cql_stmt_free(st);
	cql_prepared_free(p);
}

static void test_bind_query_statement(void **state)
{
	(void)state;
	cql_stmt *st = cql_stmt_new("INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, ?)");
	assert_int_equal(cql_stmt_count(st), 0);
	assert_int_equal(cql_stmt_bind_int(st, 0, 7), BROOK_OK);
	assert_value(st, 0, "\0\0\0\x07", 4);
	assert_int_equal(cql_stmt_bind_bigint(st, 3, 7), BROOK_OK); /* grows to 4 values */
	assert_value(st, 3, "\0\0\0\0\0\0\0\x07", 8);
	assert_int_equal(cql_stmt_count(st), 4);
	char err[256];
	assert_int_equal(cql_stmt_ready(st, err, sizeof err), BROOK_ERR);
	assert_string_equal(err, "value 1 is not bound (bind null or unset explicitly to leave "
	                         "it out)");
	assert_int_equal(cql_stmt_bind_float(st, 1, 2.25f), BROOK_OK);
	assert_value(st, 1, "\x40\x10\0\0", 4);
	assert_int_equal(cql_stmt_bind_text(st, 2, "x"), BROOK_OK);
	assert_int_equal(cql_stmt_ready(st, err, sizeof err), BROOK_OK);
	/* from text needs a type */
	assert_int_equal(cql_stmt_bind_from_text(st, 2, "1"), BROOK_ERR);
	assert_non_null(strstr(cql_stmt_error(st), "needs a prepared statement"));
	cql_stmt_clear(st);
	assert_int_equal(cql_stmt_count(st), 0);
	assert_int_equal(cql_stmt_bind_int(st, 1, 1), BROOK_OK);
	assert_int_equal(cql_stmt_count(st), 2);
	assert_false(st->v[0].set); /* cleared, not stale */
	cql_stmt_free(st);
}

static void test_bind_reuse_bounded(void **state)
{
	(void)state;
	cql_prepared *p = all_types_prepared();
	cql_stmt *st = cql_stmt_new_prepared(p);
	/* the same-size rebind reuses the bytes in place */
	cql_stmt_bind_int(st, 2, 1);
	size_t off = st->v[2].off, len = st->data.len;
	cql_stmt_bind_int(st, 2, 2);
	assert_int_equal(st->v[2].off, off);
	assert_int_equal(st->data.len, len);
	/* growing strings: the buffer is compacted, never more than ~2x live + slack */
	char s[200];
	for (int i = 0; i < 5000; i++) {
		int n = 1 + i % 150;
		memset(s, 'a' + i % 26, (size_t)n);
		s[n] = '\0';
		assert_int_equal(cql_stmt_bind_text(st, 1, s), BROOK_OK);
		assert_int_equal(cql_stmt_bind_text(st, 14, s), BROOK_OK);
		assert_true(st->data.len <= 2 * st->live + 4096 + 200);
	}
	assert_value(st, 1, s, (int32_t)strlen(s));
	assert_value(st, 14, s, (int32_t)strlen(s));
	assert_value(st, 2, "\0\0\0\x02", 4);
	cql_stmt_free(st);
	cql_prepared_free(p);
}

/* ---- prepared statements and the cache ------------------------------------------------- */

static void test_prepared_versions(void **state)
{
	(void)state;
	cql_prepared *p = all_types_prepared();
	assert_int_equal(cql_prepared_generation(p), 1);
	assert_int_equal(cql_prepared_bind_count(p), NALL);
	assert_int_equal(cql_prepared_column_count(p), -1); /* NO_METADATA */
	const cql_prep_version *v1 = cql_prepared_current(p);
	cql_bytes id = cql_prep_version_id(v1);
	assert_int_equal(id.len, 3);
	assert_memory_equal(id.ptr, "ID1", 3);
	cql_stmt *st = cql_stmt_new_prepared(p);

	static const char *const names[] = {"k"};
	static const char *const types[] = {"text"};
	char err[256];
	assert_int_equal(
	    cql_prepared_update(p, prepared_answer(names, types, 1, "ID2"), err, sizeof err),
	    BROOK_OK);
	assert_int_equal(cql_prepared_generation(p), 2);
	assert_int_equal(cql_prepared_bind_count(p), 1);
	id = cql_prep_version_id(cql_prepared_current(p));
	assert_memory_equal(id.ptr, "ID2", 3);
	/* a statement made before keeps its (still valid) version */
	assert_ptr_equal(st->ver, v1);
	assert_int_equal(cql_stmt_type(st, 2)->id, CQL_TYPE_INT);

	/* an answer that is not Prepared is refused and stays the caller's */
	brook_buf b = BROOK_BUF_INIT;
	cql_wr_int(&b, CQL_RESULT_VOID);
	cql_res *voidres = decode_body(CQL_OP_RESULT, &b);
	assert_int_equal(cql_prepared_update(p, voidres, err, sizeof err), BROOK_ERR);
	assert_null(cql_prepared_new("", "q", voidres, err, sizeof err));
	cql_res_free(voidres);
	brook_buf_release(&b);
	cql_stmt_free(st);
	cql_prepared_free(p);
}

static void test_stmt_cache(void **state)
{
	(void)state;
	cql_stmt_cache c;
	cql_stmt_cache_init(&c);
	static const char *const names[] = {"a"};
	static const char *const types[] = {"int"};
	char err[256], q[64];
	assert_null(cql_stmt_cache_get(&c, "ks", "SELECT 1"));
	for (int i = 0; i < 300; i++) {
		snprintf(q, sizeof q, "SELECT * FROM t WHERE a = ? -- %d", i);
		for (int k = 0; k < 2; k++) {
			cql_prepared *p = cql_prepared_new(k ? "other" : "ks", q,
			                                   prepared_answer(names, types, 1, "X"),
			                                   err, sizeof err);
			assert_ptr_equal(cql_stmt_cache_put(&c, p), p);
		}
	}
	assert_int_equal(c.count, 600);
	assert_true(c.nbuckets >= 600);
	for (int i = 0; i < 300; i++) {
		snprintf(q, sizeof q, "SELECT * FROM t WHERE a = ? -- %d", i);
		cql_prepared *a = cql_stmt_cache_get(&c, "ks", q);
		cql_prepared *b = cql_stmt_cache_get(&c, "other", q);
		assert_non_null(a);
		assert_non_null(b);
		assert_ptr_not_equal(a, b);
		assert_string_equal(a->keyspace, "ks");
		assert_string_equal(cql_prepared_query(b), q);
	}
	assert_null(cql_stmt_cache_get(&c, NULL, "SELECT * FROM t WHERE a = ? -- 1"));
	/* a second statement with the same key: the cached one wins */
	cql_prepared *dup =
	    cql_prepared_new("ks", "SELECT * FROM t WHERE a = ? -- 7",
	                     prepared_answer(names, types, 1, "Y"), err, sizeof err);
	cql_prepared *have = cql_stmt_cache_put(&c, dup);
	assert_ptr_not_equal(have, dup);
	assert_int_equal(c.count, 600);
	cql_prepared_free(dup);
	cql_stmt_cache_release(&c);
}

static void test_batch(void **state)
{
	(void)state;
	cql_prepared *p = all_types_prepared();
	cql_stmt_batch *b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	cql_client_error err;
	cql_stmt *st = cql_stmt_new_prepared(p);
	assert_int_equal(cql_stmt_batch_add(b, st, &err), BROOK_ERR); /* nothing bound */
	assert_int_equal(err.kind, CQL_CLIENT_E_USAGE);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < NALL; i++)
			cql_stmt_bind_null(st, i);
		cql_stmt_bind_int(st, 2, round);
		assert_int_equal(cql_stmt_batch_add(b, st, &err), BROOK_OK);
	}
	cql_stmt *q = cql_stmt_new("UPDATE t SET a = ? WHERE k = 1");
	cql_stmt_bind_text(q, 0, "hello");
	assert_int_equal(cql_stmt_batch_add(b, q, &err), BROOK_OK);
	assert_int_equal(cql_stmt_batch_count(b), 4);
	/* the batch holds copies: rebinding the statement changes nothing in it */
	cql_stmt_bind_int(st, 2, 99);
	for (int round = 0; round < 3; round++) {
		const cql_batch_item *it = &b->items[round];
		assert_ptr_equal(it->prep, p);
		assert_int_equal(it->n, NALL);
		const struct cql_batch_val *v = &b->vals[it->first + 2];
		assert_int_equal(v->len, 4);
		assert_int_equal((uint8_t)b->data.data[v->off + 3], round);
		assert_int_equal(b->vals[it->first + 0].len, CQL_NULL);
	}
	const cql_batch_item *it = &b->items[3];
	assert_null(it->prep);
	assert_int_equal(it->query_len, strlen("UPDATE t SET a = ? WHERE k = 1"));
	assert_memory_equal(b->data.data + it->query_off, "UPDATE t SET a", 14);
	assert_int_equal(b->vals[it->first].len, 5);
	cql_stmt_batch_clear(b);
	assert_int_equal(cql_stmt_batch_count(b), 0);
	cql_stmt_free(q);
	cql_stmt_free(st);
	cql_stmt_batch_free(b);
	cql_prepared_free(p);
}

/* Values packed (cql_stmt_pack) and added later write the BATCH body cql_stmt_batch_add
 * gives; a failed bind packs nothing; malformed packed values are refused. */
static void test_batch_packed(void **state)
{
	(void)state;
	cql_prepared *p = all_types_prepared();
	cql_stmt_batch *direct = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	cql_stmt_batch *packed = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	cql_client_error err;
	char msg[256];
	cql_stmt *st = cql_stmt_new_prepared(p);
	uint8_t buf[512];
	assert_int_equal(cql_stmt_pack(st, buf, msg, sizeof msg), BROOK_ERR); /* unbound */
	assert_non_null(strstr(msg, "not bound"));
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < NALL; i++)
			if (round == 1 && i == 3)
				cql_stmt_bind_unset(st, i);
			else
				cql_stmt_bind_null(st, i);
		cql_stmt_bind_int(st, 2, round * 1000);
		cql_stmt_bind_text(st, 1, round ? "héllo" : "");
		size_t n = cql_stmt_packed_len(st);
		assert_true(n <= sizeof buf);
		assert_int_equal(cql_stmt_pack(st, buf, msg, sizeof msg), BROOK_OK);
		assert_int_equal(cql_stmt_batch_add(direct, st, &err), BROOK_OK);
		assert_int_equal(cql_stmt_batch_add_packed(packed, p, NALL, buf, n, &err),
				 BROOK_OK);
		/* Wrong count or length: refused, the batch unchanged. */
		assert_int_equal(cql_stmt_batch_add_packed(packed, p, NALL + 1, buf, n, &err),
				 BROOK_ERR);
		assert_int_equal(err.kind, CQL_CLIENT_E_USAGE);
		assert_int_equal(cql_stmt_batch_add_packed(packed, p, NALL, buf, n - 1, &err),
				 BROOK_ERR);
		assert_int_equal(cql_stmt_batch_add_packed(packed, p, NALL - 1, buf, n, &err),
				 BROOK_ERR);
		cql_stmt_clear(st);
	}
	assert_int_equal(cql_stmt_batch_count(packed), 3);
	assert_int_equal(packed->nvals, 0); /* packed items keep no per-value index */
	for (int k = 0; k < 3; k++) {
		const cql_batch_item *pi = &packed->items[k], *di = &direct->items[k];
		assert_ptr_equal(pi->prep, p);
		assert_true(pi->packed);
		assert_int_equal(pi->n, NALL);
		/* The BATCH body written for each: the same bytes. */
		static const uint8_t id[2] = {0xab, 0xcd};
		cql_bytes vals[NALL];
		for (int v = 0; v < NALL; v++) {
			const struct cql_batch_val *dv = &direct->vals[di->first + v];
			const uint8_t *at = (const uint8_t *)direct->data.data + dv->off;
			vals[v] = (cql_bytes){at, dv->len};
		}
		cql_batch_stmt sd = {.kind = 1, .id = {id, 2}, .n_values = NALL, .values = vals};
		cql_batch_stmt sp = {.kind = 1, .id = {id, 2}, .n_values = NALL,
				     .packed = (const uint8_t *)packed->data.data + pi->packed_off,
				     .packed_len = pi->packed_len};
		brook_buf wd = BROOK_BUF_INIT, wp = BROOK_BUF_INIT;
		cql_msg md = {.opcode = CQL_OP_BATCH}, mp = {.opcode = CQL_OP_BATCH};
		md.u.batch = (cql_batch){.type = CQL_BATCH_UNLOGGED, .n = 1, .stmts = &sd};
		mp.u.batch = (cql_batch){.type = CQL_BATCH_UNLOGGED, .n = 1, .stmts = &sp};
		cql_msg_encode(&wd, &md);
		cql_msg_encode(&wp, &mp);
		assert_int_equal(wp.len, wd.len);
		assert_memory_equal(wp.data, wd.data, wd.len);
		brook_buf_release(&wd);
		brook_buf_release(&wp);
	}
	/* A length running past the end. */
	uint8_t bad[8] = {0, 0, 0, 9, 'x', 'y', 'z', 'w'};
	assert_int_equal(cql_stmt_batch_add_packed(packed, p, 1, bad, sizeof bad, &err), BROOK_ERR);
	bad[3] = 0xfd; /* -3: below unset */
	bad[0] = bad[1] = bad[2] = 0xff;
	assert_int_equal(cql_stmt_batch_add_packed(packed, p, 1, bad, 4, &err), BROOK_ERR);
	assert_int_equal(cql_stmt_batch_count(packed), 3);
	/* A failed bind packs nothing. */
	cql_stmt_bind_text(st, 2, "not an int");
	assert_int_equal(cql_stmt_pack(st, buf, msg, sizeof msg), BROOK_ERR);
	cql_stmt_free(st);
	cql_stmt_batch_free(direct);
	cql_stmt_batch_free(packed);
	cql_prepared_free(p);
}

/* ---- results ----------------------------------------------------------------------------- */

/* A Rows answer: id int, name text, score double, tags set<text>, m map<text,int>. */
static cql_res *rows_answer(bool more, bool compress)
{
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	static const char *const names[] = {"id", "name", "score", "tags", "m"};
	static const char *const types[] = {"int", "text", "double", "set<text>", "map<text, int>"};
	cql_metadata meta = {.flags = CQL_META_GLOBAL_TABLES_SPEC, .columns_count = 5};
	meta.keyspace = CQL_STR("ks");
	meta.table = CQL_STR("t");
	meta.paging_state = CQL_BYTES_NULL;
	meta.cols = brook_arena_calloc(&a, 5 * sizeof(cql_col_spec));
	for (int i = 0; i < 5; i++) {
		char err[128];
		meta.cols[i].name = cql_str_from(names[i]);
		meta.cols[i].type = cql_type_parse(types[i], strlen(types[i]), &a, err, sizeof err);
	}
	cql_rows_wr w;
	cql_rows_begin(&w, &b, &meta);
	brook_buf v = BROOK_BUF_INIT;
	/* row 0 */
	cql_rows_cell_int(&w, 1);
	cql_rows_cell_text(&w, "Zoë");
	uint8_t d[8] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0}; /* 1.5 */
	cql_rows_cell(&w, d, 8);
	char err[128];
	cql_value_from_text(meta.cols[3].type, "{'a', 'b'}", 10, &v, err, sizeof err);
	cql_rows_cell(&w, v.data, (int32_t)v.len);
	brook_buf_reset(&v);
	cql_value_from_text(meta.cols[4].type, "{'k': 7}", 8, &v, err, sizeof err);
	cql_rows_cell(&w, v.data, (int32_t)v.len);
	/* row 1: nulls and a wider id */
	cql_rows_cell_int(&w, 12345);
	cql_rows_cell_null(&w);
	cql_rows_cell_null(&w);
	cql_rows_cell_null(&w);
	cql_rows_cell_null(&w);
	if (more)
		cql_rows_set_paging_state(&w, "PS", 2);
	assert_int_equal(cql_rows_end(&w), 2);
	cql_res *res;
	if (compress) {
		brook_buf z = BROOK_BUF_INIT;
		cql_lz4_compress(b.data, b.len, &z);
		cql_frame_hdr h = {.version = 0x84,
		                   .flags = CQL_FLAG_COMPRESSION,
		                   .opcode = CQL_OP_RESULT,
		                   .length = (uint32_t)z.len};
		res = cql_res_decode(&h, z.data, z.len, 1u << 20, err, sizeof err);
		assert_non_null(res);
		brook_buf_release(&z);
	} else {
		res = decode_body(CQL_OP_RESULT, &b);
	}
	brook_buf_release(&v);
	brook_buf_release(&b);
	brook_arena_release(&a);
	return res;
}

static void test_result_accessors(void **state)
{
	(void)state;
	for (int z = 0; z < 2; z++) {
		cql_res *r = rows_answer(true, z == 1);
		assert_int_equal(cql_res_kind(r), CQL_RESULT_ROWS);
		assert_int_equal(cql_res_row_count(r), 2);
		assert_int_equal(cql_res_column_count(r), 5);
		assert_string_equal(cql_res_column_name(r, 1), "name");
		assert_int_equal(cql_res_column_index(r, "score"), 2);
		assert_int_equal(cql_res_column_index(r, "nope"), -1);
		assert_int_equal(cql_res_column_type(r, 3)->id, CQL_TYPE_SET);
		assert_true(cql_res_has_more_pages(r));
		cql_bytes ps = cql_res_paging_state(r);
		assert_int_equal(ps.len, 2);
		assert_memory_equal(ps.ptr, "PS", 2);

		int64_t i64;
		double dv;
		cql_str s;
		assert_int_equal(cql_res_get_int64(r, 0, 0, &i64), BROOK_OK);
		assert_int_equal(i64, 1);
		assert_int_equal(cql_res_get_int64(r, 1, 0, &i64), BROOK_OK);
		assert_int_equal(i64, 12345);
		assert_int_equal(cql_res_get_text(r, 0, 1, &s), BROOK_OK);
		assert_int_equal(s.len, 4);
		assert_memory_equal(s.ptr, "Zo\xc3\xab", 4);
		assert_int_equal(cql_res_get_text(r, 1, 1, &s), BROOK_ERR); /* null */
		assert_true(cql_res_is_null(r, 1, 1));
		assert_false(cql_res_is_null(r, 0, 1));
		assert_int_equal(cql_res_get_double(r, 0, 2, &dv), BROOK_OK);
		assert_true(dv == 1.5);
		assert_int_equal(cql_res_get_int64(r, 0, 1, &i64), BROOK_ERR); /* text */
		assert_int_equal(cql_res_cell(r, 5, 0).len, CQL_NULL);         /* out of range */

		brook_buf t = BROOK_BUF_INIT;
		cql_res_cell_text(r, 0, 3, &t, 0);
		assert_string_equal(t.data, "{'a', 'b'}");
		brook_buf_reset(&t);
		cql_res_cell_text(r, 1, 4, &t, 0);
		assert_string_equal(t.data, "null");
		brook_buf_release(&t);

		cql_stmt *st = cql_stmt_new("SELECT * FROM t");
		assert_true(cql_stmt_set_paging_state_from(st, r));
		assert_true(st->has_paging);
		assert_memory_equal(st->paging.data, "PS", 2);
		cql_res_free(r);
		r = rows_answer(false, false);
		assert_false(cql_res_has_more_pages(r));
		assert_false(cql_stmt_set_paging_state_from(st, r));
		assert_false(st->has_paging);
		cql_stmt_free(st);
		cql_res_free(r);
	}
}

static void test_result_other_kinds(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	cql_wr_int(&b, CQL_RESULT_SET_KEYSPACE);
	cql_wr_cstring(&b, "Spark_Streams");
	cql_res *r = decode_body(CQL_OP_RESULT, &b);
	assert_int_equal(cql_res_kind(r), CQL_RESULT_SET_KEYSPACE);
	assert_string_equal(cql_res_keyspace(r), "Spark_Streams");
	assert_int_equal(cql_res_row_count(r), 0);
	assert_null(cql_res_schema_change(r));
	cql_res_free(r);

	brook_buf_reset(&b);
	cql_error_write(&b, CQL_ERR_INVALID, "unconfigured table foo");
	r = decode_body(CQL_OP_ERROR, &b);
	assert_int_equal(cql_res_msg(r)->u.error.code, CQL_ERR_INVALID);
	assert_int_equal(cql_res_kind(r), 0);
	cql_res_free(r);

	/* truncated bodies fail with a message, never crash */
	brook_buf_reset(&b);
	cql_wr_int(&b, CQL_RESULT_ROWS);
	cql_wr_int(&b, 0);
	cql_frame_hdr h = {.version = 0x84, .opcode = CQL_OP_RESULT};
	char err[256] = "";
	for (size_t n = 0; n < b.len; n++) {
		h.length = (uint32_t)n;
		assert_null(cql_res_decode(&h, b.data, n, 1u << 20, err, sizeof err));
		assert_non_null(strstr(err, "malformed RESULT answer"));
	}
	/* a compressed body that lies about its length */
	h.flags = CQL_FLAG_COMPRESSION;
	assert_null(cql_res_decode(&h, "\x7f\xff\xff\xff\x00", 5, 1u << 20, err, sizeof err));
	brook_buf_release(&b);
}

/* ---- formatting -------------------------------------------------------------------------- */

static void test_table(void **state)
{
	(void)state;
	cql_res *r = rows_answer(false, false);
	cql_table t;
	cql_table_init(&t, r);
	cql_table_add(&t, r);
	cql_table_add(&t, r); /* a second page */
	brook_buf out = BROOK_BUF_INIT;
	cql_table_render(&t, &out);
	assert_string_equal(out.data, "\n"
	                              " id    | name | score | tags       | m\n"
	                              "-------+------+-------+------------+----------\n"
	                              "     1 |  Zoë |   1.5 | {'a', 'b'} | {'k': 7}\n"
	                              " 12345 | null |  null |       null |     null\n"
	                              "     1 |  Zoë |   1.5 | {'a', 'b'} | {'k': 7}\n"
	                              " 12345 | null |  null |       null |     null\n"
	                              "\n"
	                              "(4 rows)\n");
	cql_table_release(&t);

	/* no rows: header, separator, count */
	brook_buf_reset(&out);
	cql_table_init(&t, r);
	cql_table_render(&t, &out);
	assert_string_equal(out.data, "\n id | name | score | tags | m\n"
	                              "----+------+-------+------+---\n\n(0 rows)\n");
	cql_table_release(&t);
	brook_buf_release(&out);
	cql_res_free(r);
}

static void test_json_rows(void **state)
{
	(void)state;
	cql_res *r = rows_answer(false, false);
	brook_buf out = BROOK_BUF_INIT;
	cql_res_row_json(r, 0, &out);
	assert_string_equal(out.data, "{\"id\":1,\"name\":\"Zoë\",\"score\":1.5,\"tags\":[\"a\","
	                              "\"b\"],\"m\":{\"k\":7}}");
	brook_buf_reset(&out);
	cql_res_row_json(r, 1, &out);
	assert_string_equal(out.data,
	                    "{\"id\":12345,\"name\":null,\"score\":null,\"tags\":null,\"m\":null}");
	brook_buf_release(&out);
	cql_res_free(r);
}

struct split_seen {
	int n;
	char stmts[8][128];
	int lines[8];
};

static int split_cb(void *arg, const char *s, size_t len, int line)
{
	struct split_seen *sp = arg;
	assert_true(sp->n < 8);
	assert_int_equal(strlen(s), len);
	snprintf(sp->stmts[sp->n], sizeof sp->stmts[0], "%s", s);
	sp->lines[sp->n++] = line;
	return 0;
}

static int stop_cb(void *arg, const char *s, size_t len, int line)
{
	(void)arg, (void)s, (void)len, (void)line;
	return 7;
}

static void test_split(void **state)
{
	(void)state;
	static const char script[] =
	    "-- a comment; with a semicolon\n"
	    "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy'};\n"
	    "\n"
	    "INSERT INTO t (a, b) VALUES ('x;y', 'it''s; fine'); /* c; */ SELECT \"we;ird\"\n"
	    "  FROM t // trailing; comment\n"
	    "  WHERE a = $$dollar;$$;\n"
	    ";;  \n"
	    "SELECT 1";
	struct split_seen sp = {0};
	char err[128];
	assert_int_equal(
	    cql_split_statements(script, strlen(script), split_cb, &sp, err, sizeof err), BROOK_OK);
	assert_int_equal(sp.n, 4);
	assert_string_equal(sp.stmts[0],
	                    "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy'}");
	assert_int_equal(sp.lines[0], 2);
	assert_string_equal(sp.stmts[1], "INSERT INTO t (a, b) VALUES ('x;y', 'it''s; fine')");
	assert_int_equal(sp.lines[1], 4);
	assert_string_equal(sp.stmts[2], "SELECT \"we;ird\"\n  FROM t \n  WHERE a = $$dollar;$$");
	assert_int_equal(sp.lines[2], 4);
	assert_string_equal(sp.stmts[3], "SELECT 1");
	assert_int_equal(sp.lines[3], 8);

	memset(&sp, 0, sizeof sp);
	assert_int_equal(cql_split_statements("SELECT 'abc", 11, split_cb, &sp, err, sizeof err),
	                 BROOK_ERR);
	assert_string_equal(err, "line 1: unterminated string");
	assert_int_equal(cql_split_statements("\n/* x", 5, split_cb, &sp, err, sizeof err),
	                 BROOK_ERR);
	assert_string_equal(err, "line 2: unterminated /* comment");
	assert_int_equal(sp.n, 0);
	assert_int_equal(
	    cql_split_statements("  ;\n -- only\n", 13, split_cb, &sp, err, sizeof err), BROOK_OK);
	assert_int_equal(sp.n, 0);
	assert_int_equal(cql_split_statements("a; b", 4, stop_cb, NULL, err, sizeof err), 7);
}

static void test_errkind_names(void **state)
{
	(void)state;
	assert_string_equal(cql_client_errkind_name(CQL_CLIENT_E_SERVER), "server");
	assert_string_equal(cql_client_errkind_name(CQL_CLIENT_E_TIMEOUT), "timeout");
	assert_string_equal(cql_client_errkind_name(CQL_CLIENT_E_BUSY), "busy");
	cql_client_opts o;
	cql_client_opts_default(&o);
	assert_int_equal(o.consistency, CQL_CONSISTENCY_LOCAL_ONE);
	assert_int_equal(o.page_size, 5000);
	assert_int_equal(o.max_in_flight, 1024);
	cql_client_error e;
	assert_null(cql_client_new(&o, &e)); /* no contact points */
	assert_int_equal(e.kind, CQL_CLIENT_E_USAGE);
	const char *cp[] = {"127.0.0.1:1"};
	o.contact_points = cp;
	o.n_contact_points = 1;
	o.username = "u";
	assert_null(cql_client_new(&o, &e));
	assert_int_equal(e.kind, CQL_CLIENT_E_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bind_typed),
	    cmocka_unit_test(test_bind_errors),
	    cmocka_unit_test(test_bind_query_statement),
	    cmocka_unit_test(test_bind_reuse_bounded),
	    cmocka_unit_test(test_prepared_versions),
	    cmocka_unit_test(test_stmt_cache),
	    cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_batch_packed),
	    cmocka_unit_test(test_result_accessors),
	    cmocka_unit_test(test_result_other_kinds),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_json_rows),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_errkind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
