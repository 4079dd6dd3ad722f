/* Unit tests for pg/pgoutput: LSN and time helpers; the copy-data framing and the
 * standby status update; every pgoutput v1 message type from hand-built byte vectors,
 * with the relation cache; every truncation of every vector and the malformed cases
 * (unknown types and tuple kinds, counts and lengths past the end, column count
 * mismatches, unknown relations, protocol v2 messages) fail with a message naming the
 * message and offset. Then a real round trip: a private PostgreSQL cluster, a
 * publication and a pgoutput slot, changes of every kind (TOASTed unchanged values,
 * REPLICA IDENTITY FULL, truncate, logical messages), read over a replication
 * connection with START_REPLICATION, decoded and checked in commit order, then a
 * standby status update advances the slot's confirmed_flush_lsn. The PostgreSQL group is
 * skipped (passes with a message) only when no PostgreSQL is installed. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/timeutil.h"
#include "pg/cluster.h"
#include "pg/pgoutput.h"
#include "pg_fixture.h"

/* ---- byte vector builders ---- */

static void put_u8(brook_buf *b, uint8_t v)
{
	brook_buf_putc(b, (char)v);
}

static void put_str(brook_buf *b, const char *s)
{
	brook_buf_append(b, s, strlen(s) + 1);
}

static void put_text(brook_buf *b, const char *s)
{
	put_u8(b, 't');
	brook_buf_put_be32(b, (uint32_t)strlen(s));
	brook_buf_puts(b, s);
}

#define REL_ID 16384u

/* Relation 16384 public.users (id int4 key, name text, avatar bytea), identity rid. */
static void build_relation(brook_buf *b, char rid)
{
	put_u8(b, 'R');
	brook_buf_put_be32(b, REL_ID);
	put_str(b, "public");
	put_str(b, "users");
	put_u8(b, (uint8_t)rid);
	brook_buf_put_be16(b, 3);
	put_u8(b, 1);
	put_str(b, "id");
	brook_buf_put_be32(b, 23);
	brook_buf_put_be32(b, 0xffffffffu);
	put_u8(b, 0);
	put_str(b, "name");
	brook_buf_put_be32(b, 25);
	brook_buf_put_be32(b, 0xffffffffu);
	put_u8(b, 0);
	put_str(b, "avatar");
	brook_buf_put_be32(b, 17);
	brook_buf_put_be32(b, 0xffffffffu);
}

/* (id, name, avatar) as 't' id, 't' name or 'n', 'b' 3 bytes or 'u'. */
static void build_tuple(brook_buf *b, const char *id, const char *name, bool avatar_unchanged)
{
	brook_buf_put_be16(b, 3);
	put_text(b, id);
	if (name)
		put_text(b, name);
	else
		put_u8(b, 'n');
	if (avatar_unchanged) {
		put_u8(b, 'u');
	} else {
		put_u8(b, 'b');
		brook_buf_put_be32(b, 3);
		brook_buf_append(b, "\x00\x01\x02", 3);
	}
}

static void build_insert(brook_buf *b)
{
	put_u8(b, 'I');
	brook_buf_put_be32(b, REL_ID);
	put_u8(b, 'N');
	build_tuple(b, "1", "alice", false);
}

static void build_update(brook_buf *b, char old_kind)
{
	put_u8(b, 'U');
	brook_buf_put_be32(b, REL_ID);
	if (old_kind) {
		put_u8(b, (uint8_t)old_kind);
		build_tuple(b, "1", old_kind == 'O' ? "alice" : NULL, false);
	}
	put_u8(b, 'N');
	build_tuple(b, "2", "bob", true);
}

static void build_delete(brook_buf *b, char old_kind)
{
	put_u8(b, 'D');
	brook_buf_put_be32(b, REL_ID);
	put_u8(b, (uint8_t)old_kind);
	build_tuple(b, "2", old_kind == 'O' ? "bob" : NULL, false);
}

static void build_begin(brook_buf *b)
{
	put_u8(b, 'B');
	brook_buf_put_be64(b, 0x16B374D848ull);
	brook_buf_put_be64(b, 123456789);
	brook_buf_put_be32(b, 777);
}

static void build_commit(brook_buf *b)
{
	put_u8(b, 'C');
	put_u8(b, 0);
	brook_buf_put_be64(b, 0x100);
	brook_buf_put_be64(b, 0x180);
	brook_buf_put_be64(b, 42);
}

static void build_origin(brook_buf *b)
{
	put_u8(b, 'O');
	brook_buf_put_be64(b, 0x55);
	put_str(b, "node_a");
}

static void build_type(brook_buf *b)
{
	put_u8(b, 'Y');
	brook_buf_put_be32(b, 16390);
	put_str(b, "public");
	put_str(b, "mood");
}

static void build_truncate(brook_buf *b)
{
	put_u8(b, 'T');
	brook_buf_put_be32(b, 2);
	put_u8(b, PGO_TRUNCATE_CASCADE | PGO_TRUNCATE_RESTART_IDENTITY);
	brook_buf_put_be32(b, REL_ID);
	brook_buf_put_be32(b, 16400);
}

static void build_message(brook_buf *b)
{
	put_u8(b, 'M');
	put_u8(b, PGO_MESSAGE_TRANSACTIONAL);
	brook_buf_put_be64(b, 0x200);
	put_str(b, "brook");
	brook_buf_put_be32(b, 5);
	brook_buf_append(b, "hel\0o", 5);
}

/* Decode b with rels and arena; BROOK_OK expected. */
static void decode_ok(const brook_buf *b, pgo_relations *rels, brook_arena *arena, pgo_msg *m)
{
	char err[256] = "";
	int rc = pgo_decode((const uint8_t *)b->data, b->len, rels, arena, m, err, sizeof err);
	if (rc != BROOK_OK)
		fail_msg("decode: %s", err);
}

/* Decode b expecting BROOK_ERR with `needle` in the message; the message names it. */
static void decode_fails(const brook_buf *b, pgo_relations *rels, const char *needle)
{
	brook_arena arena = BROOK_ARENA_INIT;
	char err[256] = "";
	pgo_msg m;
	int rc = pgo_decode((const uint8_t *)b->data, b->len, rels, &arena, &m, err, sizeof err);
	brook_arena_release(&arena);
	if (rc != BROOK_ERR)
		fail_msg("decode succeeded, expected an error with \"%s\"", needle);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	assert_int_equal(m.type, 0);
}

static void assert_value(const pgo_value *v, char kind, const char *bytes, size_t len)
{
	assert_int_equal(v->kind, kind);
	if (kind == PGO_VALUE_TEXT || kind == PGO_VALUE_BINARY) {
		assert_int_equal(v->len, len);
		assert_memory_equal(v->data, bytes, len);
	} else {
		assert_null(v->data);
		assert_int_equal(v->len, 0);
	}
}

/* ---- LSNs, times, copy framing ---- */

static void test_lsn(void **state)
{
	(void)state;
	uint64_t lsn = 1;
	assert_int_equal(pgo_lsn_parse("16/B374D848", &lsn), BROOK_OK);
	assert_true(lsn == 0x16B374D848ull);
	char s[PGO_LSN_STRLEN];
	pgo_lsn_format(lsn, s);
	assert_string_equal(s, "16/B374D848");
	assert_int_equal(pgo_lsn_parse("0/0", &lsn), BROOK_OK);
	assert_true(lsn == 0);
	pgo_lsn_format(0, s);
	assert_string_equal(s, "0/0");
	assert_int_equal(pgo_lsn_parse("ffffffff/ffffffff", &lsn), BROOK_OK);
	assert_true(lsn == UINT64_MAX);
	pgo_lsn_format(lsn, s);
	assert_string_equal(s, "FFFFFFFF/FFFFFFFF");
	static const char *const bad[] = {"", "/", "1/", "/1", "1", "123456789/0", "0/123456789",
					  "g/0", "1/2x", "1//2", " 1/2", "1/2 "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		lsn = 7;
		if (pgo_lsn_parse(bad[i], &lsn) != BROOK_ERR)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_true(lsn == 7);
	}
}

static void test_time(void **state)
{
	(void)state;
	assert_true(pgo_time_from_unix_ms(946684800000) == 0);
	assert_true(pgo_time_to_unix_ms(0) == 946684800000);
	assert_true(pgo_time_to_unix_ms(1999) == 946684800001);
	assert_true(pgo_time_to_unix_ms(-1) == 946684799999);
	assert_true(pgo_time_from_unix_ms(0) == -946684800000000);
	int64_t now = brook_now_ms();
	assert_true(pgo_time_to_unix_ms(pgo_time_from_unix_ms(now)) == now);
}

static void test_copy_xlogdata(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	put_u8(&b, 'w');
	brook_buf_put_be64(&b, 0x10);
	brook_buf_put_be64(&b, 0x20);
	brook_buf_put_be64(&b, (uint64_t)-5);
	brook_buf_append(&b, "xyz", 3);
	pgo_copy c;
	char err[256];
	assert_int_equal(pgo_parse_copy((uint8_t *)b.data, b.len, &c, err, sizeof err), BROOK_OK);
	assert_int_equal(c.kind, PGO_COPY_XLOGDATA);
	assert_true(c.wal_start == 0x10 && c.wal_end == 0x20 && c.server_time == -5);
	assert_int_equal(c.payload_len, 3);
	assert_memory_equal(c.payload, "xyz", 3);
	assert_false(c.reply_requested);

	/* An empty payload is framed fine (pgo_decode then refuses it). */
	assert_int_equal(pgo_parse_copy((uint8_t *)b.data, 25, &c, err, sizeof err), BROOK_OK);
	assert_int_equal(c.payload_len, 0);
	/* Truncated headers. */
	for (size_t n = 0; n < 25; n++) {
		assert_int_equal(pgo_parse_copy((uint8_t *)b.data, n, &c, err, sizeof err),
				 BROOK_ERR);
		assert_int_equal(c.kind, 0);
		if (n)
			assert_non_null(strstr(err, "XLogData ('w') message"));
	}
	brook_buf_release(&b);
}

static void test_copy_keepalive(void **state)
{
	(void)state;
	brook_buf b = BROOK_BUF_INIT;
	put_u8(&b, 'k');
	brook_buf_put_be64(&b, 0x16B374D848ull);
	brook_buf_put_be64(&b, 99);
	put_u8(&b, 1);
	pgo_copy c;
	char err[256];
	assert_int_equal(pgo_parse_copy((uint8_t *)b.data, b.len, &c, err, sizeof err), BROOK_OK);
	assert_int_equal(c.kind, PGO_COPY_KEEPALIVE);
	assert_true(c.wal_end == 0x16B374D848ull && c.server_time == 99);
	assert_true(c.reply_requested);
	assert_null(c.payload);
	for (size_t n = 0; n < b.len; n++) {
		assert_int_equal(pgo_parse_copy((uint8_t *)b.data, n, &c, err, sizeof err),
				 BROOK_ERR);
	}
	put_u8(&b, 0); /* trailing byte */
	assert_int_equal(pgo_parse_copy((uint8_t *)b.data, b.len, &c, err, sizeof err),
			 BROOK_ERR);
	assert_non_null(strstr(err, "keepalive ('k') message: 1 unexpected bytes at byte 18"));
	b.data[0] = 'x';
	assert_int_equal(pgo_parse_copy((uint8_t *)b.data, b.len, &c, err, sizeof err),
			 BROOK_ERR);
	assert_non_null(strstr(err, "unknown message type 0x78 at byte 0"));
	assert_int_equal(pgo_parse_copy(NULL, 0, &c, err, sizeof err), BROOK_ERR);
	assert_non_null(strstr(err, "message type at byte 0"));
	brook_buf_release(&b);
}

static void test_standby_status(void **state)
{
	(void)state;
	uint8_t out[PGO_STANDBY_STATUS_LEN];
	pgo_encode_standby_status(0x0102030405060708ull, 0x1112131415161718ull,
				  0x2122232425262728ull, -2, true, out);
	static const uint8_t want[PGO_STANDBY_STATUS_LEN] = {
		'r',  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13,
		0x14, 0x15, 0x16, 0x17, 0x18, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
		0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x01,
	};
	assert_memory_equal(out, want, sizeof want);
	pgo_encode_standby_status(1, 2, 3, 4, false, out);
	assert_int_equal(out[33], 0);
}

/* ---- pgoutput messages ---- */

static void test_begin_commit_origin_type_message(void **state)
{
	(void)state;
	brook_arena arena = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	pgo_msg m;

	build_begin(&b);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.type, PGO_BEGIN);
	assert_true(m.begin.final_lsn == 0x16B374D848ull);
	assert_true(m.begin.commit_time == 123456789);
	assert_int_equal(m.begin.xid, 777);

	brook_buf_reset(&b);
	build_commit(&b);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.type, PGO_COMMIT);
	assert_true(m.commit.commit_lsn == 0x100 && m.commit.end_lsn == 0x180);
	assert_true(m.commit.commit_time == 42 && m.commit.flags == 0);

	brook_buf_reset(&b);
	build_origin(&b);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.type, PGO_ORIGIN);
	assert_true(m.origin.commit_lsn == 0x55);
	assert_string_equal(m.origin.name, "node_a");

	brook_buf_reset(&b);
	build_type(&b);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.type, PGO_TYPE);
	assert_int_equal(m.pgtype.oid, 16390);
	assert_string_equal(m.pgtype.nspname, "public");
	assert_string_equal(m.pgtype.name, "mood");

	brook_buf_reset(&b);
	build_message(&b);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.type, PGO_MESSAGE);
	assert_int_equal(m.message.flags, PGO_MESSAGE_TRANSACTIONAL);
	assert_true(m.message.lsn == 0x200);
	assert_string_equal(m.message.prefix, "brook");
	assert_int_equal(m.message.len, 5);
	assert_memory_equal(m.message.content, "hel\0o", 5);

	brook_buf_reset(&b);
	build_truncate(&b);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.type, PGO_TRUNCATE);
	assert_int_equal(m.truncate.options, 3);
	assert_int_equal(m.truncate.nrels, 2);
	assert_int_equal(m.truncate.rel_ids[0], REL_ID);
	assert_int_equal(m.truncate.rel_ids[1], 16400);

	/* Truncate of no relations: no ids. */
	brook_buf_reset(&b);
	put_u8(&b, 'T');
	brook_buf_put_be32(&b, 0);
	put_u8(&b, 0);
	decode_ok(&b, NULL, &arena, &m);
	assert_int_equal(m.truncate.nrels, 0);
	assert_null(m.truncate.rel_ids);

	brook_buf_release(&b);
	brook_arena_release(&arena);
}

static void test_relation_and_changes(void **state)
{
	(void)state;
	brook_arena arena = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	pgo_relations *rels = pgo_relations_new();
	pgo_msg m;

	build_relation(&b, 'd');
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.type, PGO_RELATION);
	assert_int_equal(m.relation.id, REL_ID);
	assert_string_equal(m.relation.nspname, "public");
	assert_string_equal(m.relation.relname, "users");
	assert_int_equal(m.relation.replident, 'd');
	assert_int_equal(m.relation.ncols, 3);
	assert_int_equal(m.relation.cols[0].flags, PGO_COLUMN_KEY);
	assert_string_equal(m.relation.cols[0].name, "id");
	assert_int_equal(m.relation.cols[0].type_oid, 23);
	assert_int_equal(m.relation.cols[0].typmod, -1);
	assert_int_equal(m.relation.cols[2].flags, 0);
	assert_string_equal(m.relation.cols[2].name, "avatar");
	assert_int_equal(m.relation.cols[2].type_oid, 17);
	assert_int_equal(pgo_relations_count(rels), 1);

	/* The cache holds its own copy: the payload may go. */
	brook_buf_release(&b);
	const pgo_relation *r = pgo_relations_get(rels, REL_ID);
	assert_non_null(r);
	assert_string_equal(r->relname, "users");
	assert_string_equal(r->cols[1].name, "name");
	assert_null(pgo_relations_get(rels, REL_ID + 1));

	build_insert(&b);
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.type, PGO_INSERT);
	assert_ptr_equal(m.change.rel, r);
	assert_int_equal(m.change.old_kind, 0);
	assert_int_equal(m.change.old_tuple.ncols, 0);
	assert_int_equal(m.change.new_tuple.ncols, 3);
	assert_value(&m.change.new_tuple.cols[0], 't', "1", 1);
	assert_value(&m.change.new_tuple.cols[1], 't', "alice", 5);
	assert_value(&m.change.new_tuple.cols[2], 'b', "\x00\x01\x02", 3);

	brook_buf_reset(&b);
	build_update(&b, 0);
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.type, PGO_UPDATE);
	assert_int_equal(m.change.old_kind, 0);
	assert_value(&m.change.new_tuple.cols[0], 't', "2", 1);
	assert_value(&m.change.new_tuple.cols[1], 't', "bob", 3);
	assert_value(&m.change.new_tuple.cols[2], 'u', NULL, 0);

	brook_buf_reset(&b);
	build_update(&b, 'K');
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.change.old_kind, 'K');
	assert_value(&m.change.old_tuple.cols[0], 't', "1", 1);
	assert_value(&m.change.old_tuple.cols[1], 'n', NULL, 0);
	assert_value(&m.change.new_tuple.cols[1], 't', "bob", 3);

	brook_buf_reset(&b);
	build_update(&b, 'O');
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.change.old_kind, 'O');
	assert_value(&m.change.old_tuple.cols[1], 't', "alice", 5);
	assert_value(&m.change.new_tuple.cols[0], 't', "2", 1);

	brook_buf_reset(&b);
	build_delete(&b, 'K');
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.type, PGO_DELETE);
	assert_int_equal(m.change.old_kind, 'K');
	assert_value(&m.change.old_tuple.cols[0], 't', "2", 1);
	assert_int_equal(m.change.new_tuple.ncols, 0);

	brook_buf_reset(&b);
	build_delete(&b, 'O');
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(m.change.old_kind, 'O');
	assert_value(&m.change.old_tuple.cols[1], 't', "bob", 3);

	/* Without a cache, changes decode without the column check. */
	decode_ok(&b, NULL, &arena, &m);
	assert_null(m.change.rel);
	assert_int_equal(m.change.rel_id, REL_ID);

	/* A new Relation message replaces the definition (now 2 columns). */
	brook_buf_reset(&b);
	put_u8(&b, 'R');
	brook_buf_put_be32(&b, REL_ID);
	put_str(&b, "");
	put_str(&b, "users2");
	put_u8(&b, 'f');
	brook_buf_put_be16(&b, 2);
	put_u8(&b, 1);
	put_str(&b, "a");
	brook_buf_put_be32(&b, 23);
	brook_buf_put_be32(&b, 0xffffffffu);
	put_u8(&b, 1);
	put_str(&b, "b");
	brook_buf_put_be32(&b, 1043);
	brook_buf_put_be32(&b, 24);
	decode_ok(&b, rels, &arena, &m);
	assert_int_equal(pgo_relations_count(rels), 1);
	r = pgo_relations_get(rels, REL_ID);
	assert_string_equal(r->nspname, "");
	assert_string_equal(r->relname, "users2");
	assert_int_equal(r->ncols, 2);
	assert_int_equal(r->cols[1].typmod, 24);
	/* ... so a 3-column insert no longer fits. */
	brook_buf_reset(&b);
	build_insert(&b);
	decode_fails(&b, rels, "new tuple has 3 columns but relation .users2 (16384) has 2");

	/* A relation of no columns, then many relations: the cache grows. */
	for (uint32_t i = 0; i < 100; i++) {
		brook_buf_reset(&b);
		put_u8(&b, 'R');
		brook_buf_put_be32(&b, 20000 + i * 7);
		put_str(&b, "s");
		put_str(&b, "t");
		put_u8(&b, 'n');
		brook_buf_put_be16(&b, 0);
		decode_ok(&b, rels, &arena, &m);
		assert_null(m.relation.cols);
	}
	assert_int_equal(pgo_relations_count(rels), 101);
	for (uint32_t i = 0; i < 100; i++) {
		r = pgo_relations_get(rels, 20000 + i * 7);
		assert_non_null(r);
		assert_int_equal(r->id, 20000 + i * 7);
	}
	assert_non_null(pgo_relations_get(rels, REL_ID));

	brook_buf_release(&b);
	pgo_relations_free(rels);
	pgo_relations_free(NULL);
	brook_arena_release(&arena);
}

/* Every proper prefix of every valid vector fails cleanly. */
static void test_truncations(void **state)
{
	(void)state;
	void (*const builders[])(brook_buf *) = {build_begin,  build_commit,   build_origin,
						 build_type,   build_truncate, build_message,
						 build_insert};
	pgo_relations *rels = pgo_relations_new();
	brook_buf rel = BROOK_BUF_INIT;
	build_relation(&rel, 'd');
	brook_arena arena = BROOK_ARENA_INIT;
	pgo_msg m;
	decode_ok(&rel, rels, &arena, &m);

	brook_buf all[12];
	size_t n = 0;
	for (size_t i = 0; i < sizeof builders / sizeof builders[0]; i++) {
		brook_buf_init(&all[n], 64);
		builders[i](&all[n++]);
	}
	all[n] = rel, n++;
	static const char olds[] = {0, 'K', 'O'};
	for (size_t i = 0; i < 3; i++) {
		brook_buf_init(&all[n], 64);
		build_update(&all[n++], olds[i]);
	}
	brook_buf_init(&all[n], 64);
	build_delete(&all[n++], 'K');

	for (size_t i = 0; i < n; i++) {
		for (size_t len = 0; len < all[i].len; len++) {
			char err[256] = "";
			int rc = pgo_decode((const uint8_t *)all[i].data, len, rels, &arena, &m,
					    err, sizeof err);
			if (rc != BROOK_ERR)
				fail_msg("vector %zu cut to %zu bytes decoded", i, len);
			if (len && !strstr(err, pgo_msg_type_name(all[i].data[0])))
				fail_msg("vector %zu cut to %zu: \"%s\"", i, len, err);
			if (len && !strstr(err, "at byte "))
				fail_msg("vector %zu cut to %zu: \"%s\" has no offset", i, len, err);
		}
		/* ... and one byte too many fails too. */
		brook_buf_putc(&all[i], 0);
		char err[256];
		assert_int_equal(pgo_decode((const uint8_t *)all[i].data, all[i].len, rels, &arena,
					    &m, err, sizeof err),
				 BROOK_ERR);
		assert_non_null(strstr(err, "1 unexpected bytes"));
		brook_buf_release(&all[i]);
	}
	/* The relation cut short never reached the cache: still one, intact. */
	assert_int_equal(pgo_relations_count(rels), 1);
	assert_int_equal(pgo_relations_get(rels, REL_ID)->ncols, 3);
	pgo_relations_free(rels);
	brook_arena_release(&arena);
}

static void test_malformed(void **state)
{
	(void)state;
	pgo_relations *rels = pgo_relations_new();
	brook_arena arena = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	pgo_msg m;
	build_relation(&b, 'd');
	decode_ok(&b, rels, &arena, &m);

	brook_buf_reset(&b);
	decode_fails(&b, rels, "pgoutput message: message type at byte 0 needs 1 bytes");
	put_u8(&b, 'Z');
	decode_fails(&b, rels, "pgoutput unknown ('Z') message: unknown message type 0x5a");
	b.data[0] = 0;
	decode_fails(&b, rels, "unknown message type 0x00 at byte 0");
	b.data[0] = 'S';
	decode_fails(&b, rels, "Stream Start ('S') message: message type at byte 0 belongs to "
			       "protocol version 2");
	b.data[0] = 'c';
	decode_fails(&b, rels, "Stream Commit ('c')");
	b.data[0] = 'P';
	decode_fails(&b, rels, "two-phase");

	/* Unknown tuple kind. */
	brook_buf_reset(&b);
	build_insert(&b);
	b.data[8] = 'x'; /* 'I' id(4) 'N' ncols(2) → kind of column 1 */
	decode_fails(&b, rels, "Insert ('I') message: unknown tuple column kind 0x78 for "
			       "column 1 at byte 8");
	/* Insert without 'N'. */
	b.data[8] = 't';
	b.data[5] = 'K';
	decode_fails(&b, rels, "tuple marker 0x4b at byte 5 is not 'N'");
	/* Unknown relation. */
	brook_buf_reset(&b);
	build_insert(&b);
	b.data[4] = 1;
	decode_fails(&b, rels, "relation 16385 at byte 1 is unknown");
	/* Column count larger than the bytes left. */
	brook_buf_reset(&b);
	put_u8(&b, 'I');
	brook_buf_put_be32(&b, REL_ID);
	put_u8(&b, 'N');
	brook_buf_put_be16(&b, 60000);
	put_u8(&b, 'n');
	decode_fails(&b, rels, "tuple at byte 6 claims 60000 columns, only 1 bytes left");
	/* Value length larger than the bytes left. */
	brook_buf_reset(&b);
	put_u8(&b, 'I');
	brook_buf_put_be32(&b, REL_ID);
	put_u8(&b, 'N');
	brook_buf_put_be16(&b, 3);
	put_u8(&b, 't');
	brook_buf_put_be32(&b, 0xfffffff0u);
	brook_buf_puts(&b, "abc");
	decode_fails(&b, rels, "value of column 1 at byte 8 claims 4294967280 bytes, only 3 left");
	/* Fewer columns than the relation. */
	brook_buf_reset(&b);
	put_u8(&b, 'I');
	brook_buf_put_be32(&b, REL_ID);
	put_u8(&b, 'N');
	brook_buf_put_be16(&b, 2);
	put_u8(&b, 'n');
	put_u8(&b, 'u');
	decode_fails(&b, rels, "new tuple has 2 columns but relation public.users (16384) has 3");
	/* Old tuple mismatch on update, bad markers on update and delete. */
	brook_buf_reset(&b);
	put_u8(&b, 'U');
	brook_buf_put_be32(&b, REL_ID);
	put_u8(&b, 'O');
	brook_buf_put_be16(&b, 1);
	put_u8(&b, 'n');
	decode_fails(&b, rels, "old tuple has 1 columns");
	brook_buf_reset(&b);
	build_update(&b, 'K');
	b.data[5] = 'Q';
	decode_fails(&b, rels, "Update ('U') message: tuple marker 0x51 at byte 5 is not 'K', "
			       "'O' or 'N'");
	brook_buf_reset(&b);
	build_update(&b, 'K');
	b.data[5 + 1 + 2 + 6 + 1 + 1 + 4 + 3] = 'K'; /* the 'N' after the old tuple */
	decode_fails(&b, rels, "is not 'N'");
	brook_buf_reset(&b);
	build_delete(&b, 'K');
	b.data[5] = 'N';
	decode_fails(&b, rels, "Delete ('D') message: tuple marker 0x4e at byte 5 is not 'K' or "
			       "'O'");
	/* Truncate counts. */
	brook_buf_reset(&b);
	put_u8(&b, 'T');
	brook_buf_put_be32(&b, 0x40000000u);
	put_u8(&b, 0);
	brook_buf_put_be32(&b, 1);
	decode_fails(&b, rels, "Truncate ('T') message: relation count 1073741824 at byte 1 "
			       "needs 4294967296 bytes of ids, 4 left");
	/* Relation with a huge column count; without a NUL in a string. */
	brook_buf_reset(&b);
	put_u8(&b, 'R');
	brook_buf_put_be32(&b, 1);
	put_str(&b, "s");
	put_str(&b, "t");
	put_u8(&b, 'd');
	brook_buf_put_be16(&b, 65535);
	put_u8(&b, 0);
	decode_fails(&b, rels, "Relation ('R') message: column count 65535 at byte 10 needs at "
			       "least 655350 bytes, 1 left");
	assert_int_equal(pgo_relations_count(rels), 1);
	brook_buf_reset(&b);
	put_u8(&b, 'R');
	brook_buf_put_be32(&b, 1);
	brook_buf_puts(&b, "public");
	decode_fails(&b, rels, "namespace at byte 5 has no terminating NUL");
	/* Message content past the end. */
	brook_buf_reset(&b);
	put_u8(&b, 'M');
	put_u8(&b, 0);
	brook_buf_put_be64(&b, 1);
	put_str(&b, "p");
	brook_buf_put_be32(&b, 10);
	brook_buf_puts(&b, "abc");
	decode_fails(&b, rels, "Message ('M') message: content length 10 at byte 12, only 3 left");

	brook_buf_release(&b);
	pgo_relations_free(rels);
	brook_arena_release(&arena);
}

/* ---- a real round trip through PostgreSQL ---- */


static int pg_setup(void **state)
{
	(void)state;
	return pg_fixture_start("pgout");
}

static int pg_teardown(void **state)
{
	(void)state;
	return pg_fixture_stop();
}

static PGconn *connect_pg(const char *extra)
{
	char conninfo[1024];
	snprintf(conninfo, sizeof conninfo, "%s %s", pg_cluster_dsn(g_cluster), extra);
	PGconn *c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s: %s", sql, msg);
	}
	PQclear(r);
}

static uint64_t slot_confirmed_flush(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT confirmed_flush_lsn FROM pg_replication_slots "
				"WHERE slot_name = 'brook_slot'");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(r), 1);
	uint64_t lsn = 0;
	assert_int_equal(pgo_lsn_parse(PQgetvalue(r, 0, 0), &lsn), BROOK_OK);
	PQclear(r);
	return lsn;
}

/* One CopyData message within timeout_ms: >0 its length, 0 on timeout, <0 at the end. */
static int read_copy(PGconn *c, char **buf, int timeout_ms)
{
	int64_t deadline = brook_mono_ms() + timeout_ms;
	for (;;) {
		int n = PQgetCopyData(c, buf, 1);
		if (n != 0)
			return n;
		int64_t left = deadline - brook_mono_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
		if (poll(&pfd, 1, (int)left) < 0)
			return -2;
		if (!PQconsumeInput(c))
			return -2;
	}
}

static void send_status(PGconn *c, uint64_t lsn)
{
	uint8_t st[PGO_STANDBY_STATUS_LEN];
	pgo_encode_standby_status(lsn, lsn, lsn, pgo_time_from_unix_ms(brook_now_ms()), false,
				  st);
	assert_int_equal(PQputCopyData(c, (const char *)st, sizeof st), 1);
	assert_int_equal(PQflush(c), 0);
}

static void fmt_tuple(brook_buf *out, char tag, const pgo_tuple *t)
{
	brook_buf_printf(out, " %c(", tag);
	for (uint16_t i = 0; i < t->ncols; i++) {
		const pgo_value *v = &t->cols[i];
		if (i)
			brook_buf_putc(out, ',');
		if (v->kind == PGO_VALUE_NULL)
			brook_buf_puts(out, "NULL");
		else if (v->kind == PGO_VALUE_UNCHANGED)
			brook_buf_puts(out, "UNCHANGED");
		else if (v->kind == PGO_VALUE_BINARY || v->len > 64)
			brook_buf_printf(out, "<%c %u bytes>", v->kind, v->len);
		else
			brook_buf_append(out, v->data, v->len);
	}
	brook_buf_putc(out, ')');
}

/* One line per decoded message, for comparing with what the changes should give. */
static void fmt_msg(brook_buf *out, const pgo_msg *m, const pgo_relations *rels)
{
	switch (m->type) {
	case PGO_BEGIN:
		assert_true(m->begin.final_lsn != 0 && m->begin.xid != 0);
		brook_buf_puts(out, "BEGIN");
		break;
	case PGO_COMMIT:
		assert_true(m->commit.end_lsn > m->commit.commit_lsn);
		brook_buf_puts(out, "COMMIT");
		break;
	case PGO_RELATION:
		brook_buf_printf(out, "RELATION %s.%s %c", m->relation.nspname, m->relation.relname,
				 m->relation.replident);
		for (uint16_t i = 0; i < m->relation.ncols; i++) {
			const pgo_column *c = &m->relation.cols[i];
			if (c->type_oid < 16384)
				brook_buf_printf(out, " %s:%u", c->name, c->type_oid);
			else
				brook_buf_printf(out, " %s:user", c->name);
			if (c->typmod != -1)
				brook_buf_printf(out, "(%d)", c->typmod);
			if (c->flags & PGO_COLUMN_KEY)
				brook_buf_puts(out, ":key");
		}
		break;
	case PGO_TYPE:
		brook_buf_printf(out, "TYPE %s.%s", m->pgtype.nspname, m->pgtype.name);
		break;
	case PGO_INSERT:
	case PGO_UPDATE:
	case PGO_DELETE:
		brook_buf_printf(out, "%s %s", m->type == PGO_INSERT   ? "INSERT"
					       : m->type == PGO_UPDATE ? "UPDATE"
								       : "DELETE",
				 m->change.rel->relname);
		if (m->change.old_kind)
			fmt_tuple(out, m->change.old_kind, &m->change.old_tuple);
		if (m->type != PGO_DELETE)
			fmt_tuple(out, 'N', &m->change.new_tuple);
		break;
	case PGO_TRUNCATE:
		brook_buf_printf(out, "TRUNCATE options=%u", m->truncate.options);
		for (uint32_t i = 0; i < m->truncate.nrels; i++)
			brook_buf_printf(out, " %s",
					 pgo_relations_get(rels, m->truncate.rel_ids[i])->relname);
		break;
	case PGO_MESSAGE:
		brook_buf_printf(out, "MESSAGE %s %s ",
				 m->message.flags & PGO_MESSAGE_TRANSACTIONAL ? "tx" : "nontx",
				 m->message.prefix);
		brook_buf_append(out, m->message.content, m->message.len);
		break;
	default:
		brook_buf_printf(out, "%s", pgo_msg_type_name(m->type));
		break;
	}
	brook_buf_putc(out, '\n');
}

static const char expected_stream[] =
	"BEGIN\n"
	"RELATION public.t1 d id:23:key name:25 n:23 doc:3802 raw:17 big:25\n"
	"INSERT t1 N(1,alice,42,{\"a\": 1},\\x00ff,<t 10000 bytes>)\n"
	"COMMIT\n"
	"BEGIN\n"
	"TYPE public.mood\n"
	"RELATION public.t2 f a:23:key b:25:key m:user:key\n"
	"INSERT t2 N(7,seven,happy)\n"
	"UPDATE t1 N(1,alice,43,{\"a\": 1},\\x00ff,UNCHANGED)\n"
	"COMMIT\n"
	"BEGIN\n"
	"UPDATE t2 O(7,seven,happy) N(7,SEVEN,happy)\n"
	"COMMIT\n"
	"BEGIN\n"
	"UPDATE t1 K(1,NULL,NULL,NULL,NULL,NULL) N(2,alice,43,{\"a\": 1},\\x00ff,UNCHANGED)\n"
	"COMMIT\n"
	"BEGIN\n"
	"DELETE t1 K(2,NULL,NULL,NULL,NULL,NULL)\n"
	"COMMIT\n"
	"BEGIN\n"
	"DELETE t2 O(7,SEVEN,happy)\n"
	"COMMIT\n"
	"BEGIN\n"
	"INSERT t1 N(3,NULL,NULL,NULL,NULL,small)\n"
	"COMMIT\n"
	"BEGIN\n"
	/* TRUNCATE gives t1 a new relfilenode: the definition is sent again */
	"RELATION public.t1 d id:23:key name:25 n:23 doc:3802 raw:17 big:25\n"
	"TRUNCATE options=0 t1\n"
	"COMMIT\n"
	"BEGIN\n"
	"MESSAGE tx brook hello\n"
	"COMMIT\n"
	"MESSAGE nontx brook end\n";

static void test_pg_round_trip(void **state)
{
	(void)state;
	PGconn *c = connect_pg("");
	exec_ok(c, "SET client_min_messages = warning");
	exec_ok(c, "CREATE TYPE mood AS ENUM ('happy', 'sad')");
	exec_ok(c, "CREATE TABLE t1 (id int PRIMARY KEY, name text, n int, doc jsonb, "
		   "raw bytea, big text)");
	/* Out of line and uncompressed, so big is TOASTed on disk. */
	exec_ok(c, "ALTER TABLE t1 ALTER COLUMN big SET STORAGE EXTERNAL");
	exec_ok(c, "CREATE TABLE t2 (a int, b text, m mood)");
	exec_ok(c, "ALTER TABLE t2 REPLICA IDENTITY FULL");
	exec_ok(c, "CREATE PUBLICATION brook_pub FOR TABLE t1, t2");
	exec_ok(c, "SELECT pg_create_logical_replication_slot('brook_slot', 'pgoutput')");
	uint64_t flushed0 = slot_confirmed_flush(c);

	exec_ok(c, "INSERT INTO t1 VALUES (1, 'alice', 42, '{\"a\": 1}', '\\x00ff', "
		   "repeat('x', 10000))");
	exec_ok(c, "BEGIN; INSERT INTO t2 VALUES (7, 'seven', 'happy'); "
		   "UPDATE t1 SET n = 43 WHERE id = 1; COMMIT");
	exec_ok(c, "UPDATE t2 SET b = 'SEVEN' WHERE a = 7");
	exec_ok(c, "UPDATE t1 SET id = 2 WHERE id = 1");
	exec_ok(c, "DELETE FROM t1 WHERE id = 2");
	exec_ok(c, "DELETE FROM t2");
	exec_ok(c, "INSERT INTO t1 (id, big) VALUES (3, 'small')");
	exec_ok(c, "TRUNCATE t1");
	exec_ok(c, "SELECT pg_logical_emit_message(true, 'brook', 'hello')");
	exec_ok(c, "SELECT pg_logical_emit_message(false, 'brook', 'end')");

	PGconn *rc = connect_pg("replication=database");
	PGresult *r = PQexec(rc, "START_REPLICATION SLOT brook_slot LOGICAL 0/0 "
				 "(proto_version '1', publication_names 'brook_pub', "
				 "messages 'true')");
	if (PQresultStatus(r) != PGRES_COPY_BOTH)
		fail_msg("START_REPLICATION: %s", PQresultErrorMessage(r));
	PQclear(r);

	pgo_relations *rels = pgo_relations_new();
	brook_arena arena = BROOK_ARENA_INIT;
	brook_buf got = BROOK_BUF_INIT;
	uint64_t last_end = 0;
	bool done = false;
	while (!done) {
		char *buf = NULL;
		int n = read_copy(rc, &buf, 30000);
		if (n <= 0)
			fail_msg("no more replication data (%d) after:\n%s", n, got.data);
		pgo_copy cp;
		char err[256];
		if (pgo_parse_copy((uint8_t *)buf, (size_t)n, &cp, err, sizeof err) != BROOK_OK)
			fail_msg("%s", err);
		if (cp.kind == PGO_COPY_KEEPALIVE) {
			if (cp.reply_requested)
				send_status(rc, last_end);
			PQfreemem(buf);
			continue;
		}
		/* A logical walsender puts the record's own LSN in both wal_start and
		 * wal_end; Begin carries the transaction's first LSN, so neither is
		 * monotonic across transactions. */
		pgo_msg m;
		if (pgo_decode(cp.payload, cp.payload_len, rels, &arena, &m, err, sizeof err) !=
		    BROOK_OK)
			fail_msg("%s", err);
		fmt_msg(&got, &m, rels);
		if (m.type == PGO_COMMIT) {
			assert_true(m.commit.end_lsn > last_end);
			last_end = m.commit.end_lsn;
		}
		if (m.type == PGO_MESSAGE && !(m.message.flags & PGO_MESSAGE_TRANSACTIONAL))
			done = true;
		PQfreemem(buf);
		brook_arena_reset(&arena);
	}
	if (strcmp(got.data, expected_stream) != 0)
		fail_msg("decoded stream:\n%s", got.data);
	assert_int_equal(pgo_relations_count(rels), 2);

	/* Confirm everything up to the last commit; the slot moves there. */
	assert_true(last_end > flushed0);
	send_status(rc, last_end);
	uint64_t flushed = flushed0;
	for (int i = 0; i < 100 && flushed < last_end; i++) {
		brook_sleep_ms(50);
		flushed = slot_confirmed_flush(c);
	}
	char want[PGO_LSN_STRLEN], have[PGO_LSN_STRLEN];
	pgo_lsn_format(last_end, want);
	pgo_lsn_format(flushed, have);
	if (flushed < last_end)
		fail_msg("confirmed_flush_lsn %s, expected at least %s", have, want);

	assert_int_equal(PQputCopyEnd(rc, NULL), 1);
	PQfinish(rc);
	brook_buf_release(&got);
	brook_arena_release(&arena);
	pgo_relations_free(rels);
	PQfinish(c);
}

int main(void)
{
	const struct CMUnitTest codec[] = {
		cmocka_unit_test(test_lsn),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_copy_xlogdata),
		cmocka_unit_test(test_copy_keepalive),
		cmocka_unit_test(test_standby_status),
		cmocka_unit_test(test_begin_commit_origin_type_message),
		cmocka_unit_test(test_relation_and_changes),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_malformed),
	};
	int failed = cmocka_run_group_tests_name("pgoutput codec", codec, NULL, NULL);

	struct stat st;
	if (stat("/usr/lib/postgresql", &st) != 0 && !getenv("BROOK_PG_BINDIR")) {
		printf("SKIP pgoutput round trip: no PostgreSQL under /usr/lib/postgresql\n");
		return failed;
	}
	const struct CMUnitTest pg[] = {
		cmocka_unit_test(test_pg_round_trip),
	};
	failed += cmocka_run_group_tests_name("pgoutput PostgreSQL", pg, pg_setup, pg_teardown);
	return failed;
}
