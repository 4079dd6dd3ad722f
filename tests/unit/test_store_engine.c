/*
 * test_store_engine.c — the store's LSM engine: murmur3 tokens, bloom filter, round
 * trips, newest-wins across memtable and sstables, tombstones, TTL with a fake clock,
 * clustering ranges, paged scans, compaction equivalence and purging, recovery after a
 * simulated crash, torn commit log tails, corrupt sstables, truncate, group commit.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "store/bloom.h"
#include "store/engine.h"
#include "store/murmur3.h"
#include "store/sstable.h"

static int64_t fake_now = 1700000000;

static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

typedef struct fx {
	char dir[64];
	store_engine_opts o;
	store_engine *e;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/brook-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	store_engine_opts_default(&f->o);
	f->o.clock = fake_clock;
	fake_now = 1700000000;
	brook_log_set_level(BROOK_LOG_ERROR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	if (f->e)
		store_engine_close(f->e);
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void reopen(fx *f)
{
	char err[512] = "";
	if (f->e)
		store_engine_close(f->e);
	f->e = NULL;
	int rc = store_engine_open(f->dir, &f->o, &f->e, err, sizeof(err));
	if (rc != 0)
		fail_msg("open failed: %s", err);
}

static void crash_and_reopen(fx *f)
{
	store_engine_abandon(f->e);
	f->e = NULL;
	reopen(f);
}

static store_del nodel(void)
{
	store_del d = {STORE_NO_TS, 0};
	return d;
}

static void write1(fx *f, store_part *m)
{
	char err[256];
	int rc = store_engine_write(f->e, m, 1, err, sizeof(err));
	if (rc != 0)
		fail_msg("write failed: %s", err);
}

static void put(fx *f, const char *pk, const char *ck, uint16_t col, const char *val, int64_t ts,
                int32_t ttl)
{
	store_cell c = {
	    .col = col, .ts = ts, .vlen = (uint32_t)strlen(val), .value = (const uint8_t *)val};
	if (ttl) {
		c.flags = STORE_CELL_EXPIRING;
		c.ttl = ttl;
		c.ldt = (int32_t)(fake_now + ttl);
	}
	store_row r = {.ck = (const uint8_t *)ck,
	               .cklen = (uint32_t)strlen(ck),
	               .del = nodel(),
	               .cells = &c,
	               .ncells = 1};
	store_part m = {.pk = (const uint8_t *)pk,
	                .pklen = (uint32_t)strlen(pk),
	                .del = nodel(),
	                .rows = &r,
	                .nrows = 1};
	write1(f, &m);
}

static void del_cell(fx *f, const char *pk, const char *ck, uint16_t col, int64_t ts)
{
	store_cell c = {.col = col,
	                .flags = STORE_CELL_TOMBSTONE,
	                .ts = ts,
	                .ldt = (int32_t)fake_now,
	                .value = (const uint8_t *)""};
	store_row r = {.ck = (const uint8_t *)ck,
	               .cklen = (uint32_t)strlen(ck),
	               .del = nodel(),
	               .cells = &c,
	               .ncells = 1};
	store_part m = {.pk = (const uint8_t *)pk,
	                .pklen = (uint32_t)strlen(pk),
	                .del = nodel(),
	                .rows = &r,
	                .nrows = 1};
	write1(f, &m);
}

static void del_row(fx *f, const char *pk, const char *ck, int64_t ts)
{
	store_row r = {.ck = (const uint8_t *)ck, .cklen = (uint32_t)strlen(ck)};
	r.del.ts = ts;
	r.del.ldt = (int32_t)fake_now;
	store_part m = {.pk = (const uint8_t *)pk,
	                .pklen = (uint32_t)strlen(pk),
	                .del = nodel(),
	                .rows = &r,
	                .nrows = 1};
	write1(f, &m);
}

static void del_part(fx *f, const char *pk, int64_t ts)
{
	store_part m = {.pk = (const uint8_t *)pk, .pklen = (uint32_t)strlen(pk)};
	m.del.ts = ts;
	m.del.ldt = (int32_t)fake_now;
	write1(f, &m);
}

static void del_range(fx *f, const char *pk, const char *s, const char *e, uint8_t flags,
                      int64_t ts)
{
	store_rtomb rt = {.b = {(const uint8_t *)s, (uint32_t)strlen(s), (const uint8_t *)e,
	                        (uint32_t)strlen(e), flags}};
	rt.del.ts = ts;
	rt.del.ldt = (int32_t)fake_now;
	store_part m = {.pk = (const uint8_t *)pk,
	                .pklen = (uint32_t)strlen(pk),
	                .del = nodel(),
	                .rts = &rt,
	                .nrts = 1};
	write1(f, &m);
}

/* Rows as "ck:col=val,col=val;" (the row marker column shown as m). */
static int collect(void *ctx, const store_part *p, const store_row *r)
{
	brook_buf *b = ctx;
	(void)p;
	brook_buf_append(b, r->ck, r->cklen);
	brook_buf_putc(b, ':');
	for (uint32_t i = 0; i < r->ncells; i++) {
		if (i)
			brook_buf_putc(b, ',');
		if (r->cells[i].col == STORE_COL_MARKER)
			brook_buf_putc(b, 'm');
		else
			brook_buf_printf(b, "%u", r->cells[i].col);
		brook_buf_putc(b, '=');
		brook_buf_append(b, r->cells[i].value, r->cells[i].vlen);
	}
	brook_buf_putc(b, ';');
	return 0;
}

static char result[65536];

static const char *read_range(fx *f, const char *pk, const char *s, const char *e, uint8_t flags,
                              int reverse, uint64_t limit)
{
	brook_buf b = BROOK_BUF_INIT;
	char err[256];
	store_read_opts ro = {.range = {(const uint8_t *)s, s ? (uint32_t)strlen(s) : 0,
	                                (const uint8_t *)e, e ? (uint32_t)strlen(e) : 0, flags},
	                      .reverse = reverse,
	                      .limit = limit};
	int rc = store_engine_read(f->e, (const uint8_t *)pk, strlen(pk), &ro, collect, &b, err,
	                           sizeof(err));
	if (rc != 0)
		fail_msg("read failed: %s", err);
	snprintf(result, sizeof(result), "%s", b.len ? b.data : "");
	brook_buf_release(&b);
	return result;
}

static const char *read_all(fx *f, const char *pk)
{
	return read_range(f, pk, NULL, NULL, STORE_B_START_UNBOUNDED | STORE_B_END_UNBOUNDED, 0, 0);
}

static void flush(fx *f)
{
	char err[256];
	assert_int_equal(store_engine_flush(f->e, err, sizeof(err)), 0);
}

static void compact(fx *f)
{
	char err[256];
	int rc = store_engine_compact(f->e, err, sizeof(err));
	if (rc != 0)
		fail_msg("compact failed: %s", err);
}

/* ---- tests ---- */

static void test_murmur3_vectors(void **state)
{
	(void)state;
	/* CQL int keys: tokens as Cassandra reports them (cassandra-dtest, cqlsh tests). */
	static const struct {
		int32_t k;
		int64_t tok;
	} ints[] = {
	    {1, -4069959284402364209LL},   {2, -3248873570005575792LL},
	    {5, -7509452495886106294LL},   {10, -6715243485458697746LL},
	    {20, 1388667306199997068LL},   {3, 9010454139840013625LL},
	    {0, -3485513579396041028LL},   {-1, 7297452126230313552LL},
	    {128, -9081975895656599623LL}, {1000, 7935772098093053663LL},
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		uint8_t b[4] = {(uint8_t)((uint32_t)ints[i].k >> 24),
		                (uint8_t)((uint32_t)ints[i].k >> 16),
		                (uint8_t)((uint32_t)ints[i].k >> 8), (uint8_t)ints[i].k};
		assert_int_equal(store_token(b, 4), ints[i].tok);
	}
	/* Plain MurmurHash3 x64 128 (no high tail bytes): mmh3.hash64('foo'[, 42]). */
	uint64_t h[2];
	store_murmur3_x64_128("foo", 3, 0, h);
	assert_int_equal((int64_t)h[0], -2129773440516405919LL);
	assert_int_equal((int64_t)h[1], 9128664383759220103LL);
	store_murmur3_x64_128("foo", 3, 42, h);
	assert_int_equal((int64_t)h[0], -840311307571801102LL);
	assert_int_equal((int64_t)h[1], -6739155424061121879LL);
	/* Sign-extended tail bytes and multi-block keys. */
	const uint8_t b80[1] = {0x80}, bff[2] = {0xFF, 0xFE};
	assert_int_equal(store_token(b80, 1), -5284281814142962636LL);
	assert_int_equal(store_token(bff, 2), -2002833339314343643LL);
	assert_int_equal(store_token("0123456789abcdef", 16), 5467490433528156583LL);
	assert_int_equal(store_token("this is a longer test key for murmur3 hashing", 45),
	                 -7889617755374116647LL);
	store_murmur3_x64_128("", 0, 0, h);
	assert_int_equal(h[0], 0);
}

static void test_bloom(void **state)
{
	(void)state;
	store_bloom b, d;
	char key[32];
	store_bloom_init(&b, 1000);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);
		store_bloom_add(&b, key, (size_t)n);
	}
	brook_buf enc = BROOK_BUF_INIT;
	store_bloom_encode(&b, &enc);
	assert_int_equal(store_bloom_decode(&d, (const uint8_t *)enc.data, enc.len), 0);
	int fp = 0;
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);
		assert_true(store_bloom_maybe(&d, key, (size_t)n));
		n = snprintf(key, sizeof(key), "other-%d", i);
		fp += store_bloom_maybe(&d, key, (size_t)n);
	}
	assert_true(fp < 50);
	store_bloom_release(&d);
	assert_int_not_equal(store_bloom_decode(&d, (const uint8_t *)enc.data, enc.len - 1), 0);
	store_bloom_release(&b);
	brook_buf_release(&enc);
}

static void test_roundtrip(void **state)
{
	fx *f = *state;
	reopen(f);
	put(f, "alice", "", 1, "Alice", 10, 0);
	put(f, "alice", "", 2, "Smith", 10, 0);
	put(f, "bob", "", 1, "Bob", 10, 0);
	assert_string_equal(read_all(f, "alice"), ":1=Alice,2=Smith;");
	assert_string_equal(read_all(f, "nobody"), "");
	flush(f);
	assert_string_equal(read_all(f, "alice"), ":1=Alice,2=Smith;");
	assert_string_equal(read_all(f, "bob"), ":1=Bob;");
	reopen(f);
	assert_string_equal(read_all(f, "alice"), ":1=Alice,2=Smith;");
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_int_equal(st.sstables, 1);
	assert_int_equal(st.memtable_partitions, 0);
}

static void test_newest_wins(void **state)
{
	fx *f = *state;
	reopen(f);
	put(f, "k", "", 1, "v10", 10, 0);
	flush(f);
	put(f, "k", "", 1, "v5", 5, 0); /* older write arriving later loses */
	assert_string_equal(read_all(f, "k"), ":1=v10;");
	flush(f);
	assert_string_equal(read_all(f, "k"), ":1=v10;");
	put(f, "k", "", 1, "v20", 20, 0);
	assert_string_equal(read_all(f, "k"), ":1=v20;");
	/* Equal timestamps: the larger value wins, whatever the order. */
	put(f, "t", "", 1, "b", 7, 0);
	flush(f);
	put(f, "t", "", 1, "a", 7, 0);
	assert_string_equal(read_all(f, "t"), ":1=b;");
	/* Equal timestamps: a tombstone beats a live value. */
	del_cell(f, "t", "", 1, 7);
	assert_string_equal(read_all(f, "t"), "");
	reopen(f);
	assert_string_equal(read_all(f, "k"), ":1=v20;");
	assert_string_equal(read_all(f, "t"), "");
}

static void test_tombstones(void **state)
{
	fx *f = *state;
	reopen(f);
	for (int i = 0; i < 4; i++) {
		char ck[4] = {(char)('a' + i), 0};
		put(f, "p", ck, 1, "x", 10, 0);
		put(f, "p", ck, 2, "y", 10, 0);
	}
	flush(f);
	del_cell(f, "p", "a", 2, 11);
	assert_string_equal(read_all(f, "p"), "a:1=x;b:1=x,2=y;c:1=x,2=y;d:1=x,2=y;");
	del_row(f, "p", "b", 11);
	flush(f);
	assert_string_equal(read_all(f, "p"), "a:1=x;c:1=x,2=y;d:1=x,2=y;");
	/* A write newer than the row deletion brings the row back. */
	put(f, "p", "b", 1, "again", 12, 0);
	assert_string_equal(read_all(f, "p"), "a:1=x;b:1=again;c:1=x,2=y;d:1=x,2=y;");
	/* Range tombstone (b, d]: removes c and d, and b's older data only. */
	del_range(f, "p", "b", "d", STORE_B_END_INCL, 11);
	assert_string_equal(read_all(f, "p"), "a:1=x;b:1=again;");
	/* Partition deletion shadows everything older. */
	del_part(f, "p", 12);
	assert_string_equal(read_all(f, "p"), "");
	put(f, "p", "z", 1, "new", 13, 0);
	flush(f);
	assert_string_equal(read_all(f, "p"), "z:1=new;");
	reopen(f);
	assert_string_equal(read_all(f, "p"), "z:1=new;");
}

static void test_ttl(void **state)
{
	fx *f = *state;
	f->o.gc_grace_seconds = 0;
	reopen(f);
	put(f, "k", "", 1, "short", 10, 60);
	put(f, "k", "", 2, "forever", 10, 0);
	put(f, "gone", "", 1, "soon", 10, 30);
	assert_string_equal(read_all(f, "k"), ":1=short,2=forever;");
	flush(f);
	fake_now += 31;
	assert_string_equal(read_all(f, "gone"), "");
	assert_string_equal(read_all(f, "k"), ":1=short,2=forever;");
	fake_now += 30;
	assert_string_equal(read_all(f, "k"), ":2=forever;");
	/* Compaction purges the expired cells (gc_grace 0): reads are unchanged. */
	store_engine_stats before, after;
	store_engine_get_stats(f->e, &before);
	compact(f);
	store_engine_get_stats(f->e, &after);
	assert_true(after.sstable_bytes < before.sstable_bytes);
	assert_string_equal(read_all(f, "k"), ":2=forever;");
	assert_string_equal(read_all(f, "gone"), "");
	/* Only expired data: the output is empty and removed. */
	put(f, "only", "", 1, "v", 20, 5);
	fake_now += 10;
	del_part(f, "k", 30);
	fake_now += 10;
	compact(f);
	store_engine_get_stats(f->e, &after);
	assert_int_equal(after.sstables, 0);
	assert_int_equal(after.compactions, 2);
}

static void fill_abc(fx *f)
{
	for (char c = 'a'; c <= 'j'; c++) {
		char ck[2] = {c, 0};
		put(f, "p", ck, 1, ck, 10, 0);
		if (c == 'e')
			flush(f);
	}
}

static void test_clustering_ranges(void **state)
{
	fx *f = *state;
	reopen(f);
	fill_abc(f);
	const uint8_t I = STORE_B_START_INCL | STORE_B_END_INCL;
	assert_string_equal(read_range(f, "p", "c", "f", I, 0, 0), "c:1=c;d:1=d;e:1=e;f:1=f;");
	assert_string_equal(read_range(f, "p", "c", "f", 0, 0, 0), "d:1=d;e:1=e;");
	assert_string_equal(read_range(f, "p", "c", "f", STORE_B_START_INCL, 0, 0),
	                    "c:1=c;d:1=d;e:1=e;");
	assert_string_equal(read_range(f, "p", "c", "f", I, 1, 0), "f:1=f;e:1=e;d:1=d;c:1=c;");
	assert_string_equal(read_range(f, "p", "c", "f", I, 1, 2), "f:1=f;e:1=e;");
	assert_string_equal(read_range(f, "p", "c", "f", I, 0, 3), "c:1=c;d:1=d;e:1=e;");
	assert_string_equal(
	    read_range(f, "p", NULL, "b", STORE_B_START_UNBOUNDED | STORE_B_END_INCL, 0, 0),
	    "a:1=a;b:1=b;");
	assert_string_equal(read_range(f, "p", "i", NULL, STORE_B_END_UNBOUNDED, 0, 0), "j:1=j;");
	assert_string_equal(read_range(f, "p", "e", "e", I, 0, 0), "e:1=e;");
	assert_string_equal(read_range(f, "p", "x", "y", I, 0, 0), "");
}

static int desc_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, void *ctx)
{
	(void)ctx;
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (!c)
		c = alen < blen ? -1 : alen > blen;
	return -c;
}

static void test_custom_comparator(void **state)
{
	fx *f = *state;
	f->o.cmp.fn = desc_cmp;
	reopen(f);
	fill_abc(f);
	assert_string_equal(
	    read_range(f, "p", NULL, NULL, STORE_B_START_UNBOUNDED | STORE_B_END_UNBOUNDED, 0, 3),
	    "j:1=j;i:1=i;h:1=h;");
	/* In DESC order "f" comes before "c". */
	assert_string_equal(read_range(f, "p", "f", "c", STORE_B_START_INCL, 0, 0),
	                    "f:1=f;e:1=e;d:1=d;");
	reopen(f);
	assert_string_equal(read_range(f, "p", "f", "c", STORE_B_START_INCL, 0, 0),
	                    "f:1=f;e:1=e;d:1=d;");
}

typedef struct scan_acc {
	brook_buf keys;
	int64_t last_token;
	char last[64];
	uint64_t n;
	int order_ok;
} scan_acc;

static int scan_cb(void *ctx, const store_part *p, const store_row *r)
{
	scan_acc *a = ctx;
	char key[64];
	snprintf(key, sizeof(key), "%.*s/%.*s", (int)p->pklen, (const char *)p->pk, (int)r->cklen,
	         (const char *)r->ck);
	if (a->n &&
	    (p->token < a->last_token || (p->token == a->last_token && strcmp(key, a->last) <= 0)))
		a->order_ok = 0;
	a->last_token = p->token;
	snprintf(a->last, sizeof(a->last), "%s", key);
	a->n++;
	return 0;
}

static void test_scan_paging(void **state)
{
	fx *f = *state;
	reopen(f);
	char pk[16], ck[16], v[16];
	for (int i = 0; i < 300; i++) {
		snprintf(pk, sizeof(pk), "u%03d", i);
		for (int j = 0; j < 3; j++) {
			snprintf(ck, sizeof(ck), "c%d", j);
			snprintf(v, sizeof(v), "%d", i * 10 + j);
			put(f, pk, ck, 1, v, 10 + (i % 3), 0);
		}
		if (i == 100 || i == 200)
			flush(f);
	}
	/* Overwrites of the first partitions in the memtable: no duplicates. */
	for (int i = 0; i < 50; i++) {
		snprintf(pk, sizeof(pk), "u%03d", i);
		put(f, pk, "c1", 1, "over", 20, 0);
	}
	del_row(f, "u007", "c0", 30);
	scan_acc acc = {.order_ok = 1};
	store_pos after = {0}, next = {0};
	char err[256];
	int pages = 0;
	for (;;) {
		uint64_t n = 0;
		assert_int_equal(store_engine_scan(f->e, INT64_MIN, INT64_MAX, &after, 7, 0,
		                                   scan_cb, &acc, &next, &n, err, sizeof(err)),
		                 0);
		pages++;
		if (n < 7)
			break;
		store_pos_copy(&after, &next);
	}
	assert_int_equal(acc.n, 899);
	assert_true(acc.order_ok);
	assert_int_equal(pages, 899 / 7 + 1);
	/* One scan without a limit sees the same rows. */
	scan_acc all = {.order_ok = 1};
	uint64_t n = 0;
	assert_int_equal(store_engine_scan(f->e, INT64_MIN, INT64_MAX, NULL, 0, 0, scan_cb, &all,
	                                   NULL, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 899);
	/* A token sub-range: only tokens inside it. */
	scan_acc half = {.order_ok = 1};
	assert_int_equal(store_engine_scan(f->e, 0, INT64_MAX, NULL, 0, 0, scan_cb, &half, NULL, &n,
	                                   err, sizeof(err)),
	                 0);
	assert_true(n > 0 && n < 899);
	store_pos_release(&after);
	store_pos_release(&next);
}

/* Full scan as one string, for equivalence checks. */
static int dump_cb(void *ctx, const store_part *p, const store_row *r)
{
	brook_buf *b = ctx;
	brook_buf_append(b, p->pk, p->pklen);
	brook_buf_putc(b, '/');
	return collect(ctx, p, r);
}

static char *dump(fx *f)
{
	brook_buf b = BROOK_BUF_INIT;
	char err[256];
	uint64_t n;
	assert_int_equal(store_engine_scan(f->e, INT64_MIN, INT64_MAX, NULL, 0, 0, dump_cb, &b,
	                                   NULL, &n, err, sizeof(err)),
	                 0);
	brook_buf_putc(&b, '.');
	return brook_buf_detach(&b, NULL);
}

static void random_ops(fx *f, unsigned seed, int n)
{
	char pk[16], ck[16], v[16];
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		unsigned r = seed >> 8;
		snprintf(pk, sizeof(pk), "p%u", r % 40);
		snprintf(ck, sizeof(ck), "c%u", (r / 40) % 8);
		int64_t ts = 100 + i;
		switch ((r / 320) % 10) {
		case 0:
			del_cell(f, pk, ck, (uint16_t)(r % 3), ts);
			break;
		case 1:
			del_row(f, pk, ck, ts);
			break;
		case 2:
			if ((r / 3200) % 5 == 0)
				del_part(f, pk, ts);
			break;
		case 3:
			put(f, pk, ck, (uint16_t)(r % 3), "ttl", ts, 5);
			break;
		default:
			snprintf(v, sizeof(v), "v%d", i);
			put(f, pk, ck, (uint16_t)(r % 3), v, ts, 0);
		}
		if (i % 150 == 149)
			flush(f);
	}
}

static void test_compaction_equivalence(void **state)
{
	fx *f = *state;
	f->o.compact_threshold = 0;
	reopen(f);
	random_ops(f, 42, 1000);
	char *before = dump(f);
	compact(f);
	char *after = dump(f);
	assert_string_equal(before, after);
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_int_equal(st.sstables, 1);
	/* After the TTLs expire, compaction with gc_grace purges; reads agree still. */
	fake_now += 10;
	char *expired = dump(f);
	assert_string_not_equal(expired, after);
	f->o.gc_grace_seconds = 0;
	reopen(f);
	compact(f);
	char *purged = dump(f);
	assert_string_equal(expired, purged);
	reopen(f);
	char *reopened = dump(f);
	assert_string_equal(expired, reopened);
	free(before);
	free(after);
	free(expired);
	free(purged);
	free(reopened);
}

static void test_auto_flush_and_compaction(void **state)
{
	fx *f = *state;
	f->o.memtable_bytes = 256 * 1024;
	f->o.compact_threshold = 3;
	reopen(f);
	char pk[16], v[64];
	for (int i = 0; i < 4000; i++) {
		snprintf(pk, sizeof(pk), "k%d", i);
		snprintf(v, sizeof(v), "value-%d-padding-padding-padding", i);
		put(f, pk, "", 1, v, 10, 0);
	}
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_true(st.flushes >= 3);
	assert_true(st.compactions >= 1);
	assert_true(st.sstables < 3);
	assert_true(st.memtable_bytes <= f->o.memtable_bytes);
	for (int i = 0; i < 4000; i += 97) {
		snprintf(pk, sizeof(pk), "k%d", i);
		snprintf(v, sizeof(v), ":1=value-%d-padding-padding-padding;", i);
		assert_string_equal(read_all(f, pk), v);
	}
}

static void test_recovery_after_crash(void **state)
{
	fx *f = *state;
	reopen(f);
	put(f, "flushed", "", 1, "old", 10, 0);
	flush(f);
	char pk[16];
	for (int i = 0; i < 100; i++) {
		snprintf(pk, sizeof(pk), "k%d", i);
		put(f, pk, "", 1, pk, 10, 0);
	}
	del_part(f, "flushed", 11);
	/* A batch: several partitions in one apply, atomically. */
	store_cell c = {.col = 1, .ts = 10, .vlen = 1, .value = (const uint8_t *)"b"};
	store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
	store_part batch[2] = {
	    {.pk = (const uint8_t *)"b1", .pklen = 2, .del = nodel(), .rows = &r, .nrows = 1},
	    {.pk = (const uint8_t *)"b2", .pklen = 2, .del = nodel(), .rows = &r, .nrows = 1},
	};
	char err[256];
	assert_int_equal(store_engine_write(f->e, batch, 2, err, sizeof(err)), 0);
	crash_and_reopen(f);
	for (int i = 0; i < 100; i++) {
		char want[32];
		snprintf(pk, sizeof(pk), "k%d", i);
		snprintf(want, sizeof(want), ":1=%s;", pk);
		assert_string_equal(read_all(f, pk), want);
	}
	assert_string_equal(read_all(f, "flushed"), "");
	assert_string_equal(read_all(f, "b1"), ":1=b;");
	assert_string_equal(read_all(f, "b2"), ":1=b;");
	/* Recovered data survives another crash, and a clean close. */
	crash_and_reopen(f);
	assert_string_equal(read_all(f, "k42"), ":1=k42;");
	reopen(f);
	assert_string_equal(read_all(f, "k42"), ":1=k42;");
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_int_equal(st.commitlog_segments, 1);
}

/* The newest commit log segment's path. */
static void last_segment(fx *f, char *out, size_t n)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/commitlog", f->dir);
	DIR *d = opendir(dir);
	assert_non_null(d);
	char best[64] = "";
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == 'C' && stat(p, &st) == 0 && st.st_size > 0 &&
		    strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	assert_true(best[0]);
	snprintf(out, n, "%s/%s", dir, best);
}

static void test_torn_commitlog_tail(void **state)
{
	fx *f = *state;
	reopen(f);
	put(f, "a", "", 1, "1", 10, 0);
	put(f, "b", "", 1, "2", 10, 0);
	put(f, "c", "", 1, "3", 10, 0);
	store_engine_abandon(f->e);
	f->e = NULL;
	char seg[256];
	last_segment(f, seg, sizeof(seg));
	struct stat st;
	assert_int_equal(stat(seg, &st), 0);
	assert_int_equal(truncate(seg, st.st_size - 3), 0); /* cut the last record */
	reopen(f);
	assert_string_equal(read_all(f, "a"), ":1=1;");
	assert_string_equal(read_all(f, "b"), ":1=2;");
	assert_string_equal(read_all(f, "c"), "");
	/* Later writes after the repaired tail replay fine. */
	put(f, "d", "", 1, "4", 10, 0);
	put(f, "e", "", 1, "5", 10, 0);
	store_engine_abandon(f->e);
	f->e = NULL;
	/* Flip a byte in the last record's payload: its CRC fails, earlier ones stay. */
	last_segment(f, seg, sizeof(seg));
	assert_int_equal(stat(seg, &st), 0);
	int fd = open(seg, O_RDWR);
	assert_true(fd >= 0);
	uint8_t byte;
	assert_int_equal(pread(fd, &byte, 1, st.st_size - 2), 1);
	byte ^= 0x40;
	assert_int_equal(pwrite(fd, &byte, 1, st.st_size - 2), 1);
	close(fd);
	reopen(f);
	assert_string_equal(read_all(f, "a"), ":1=1;");
	assert_string_equal(read_all(f, "d"), ":1=4;");
	assert_string_equal(read_all(f, "e"), "");
}

static void find_sst(fx *f, char *out, size_t n)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	struct dirent *de;
	out[0] = 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "sst-", 4) == 0)
			snprintf(out, n, "%s/%s", f->dir, de->d_name);
	closedir(d);
	assert_true(out[0]);
}

static void flip_at(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void test_corrupt_sstable(void **state)
{
	fx *f = *state;
	reopen(f);
	put(f, "k", "", 1, "value", 10, 0);
	flush(f);
	store_engine_close(f->e);
	f->e = NULL;
	char sst[256], err[512];
	find_sst(f, sst, sizeof(sst));
	/* A flipped byte in the partition data: open works, the read reports corruption. */
	flip_at(sst, 10);
	reopen(f);
	store_read_opts ro = {.range.flags = STORE_B_START_UNBOUNDED | STORE_B_END_UNBOUNDED};
	brook_buf b = BROOK_BUF_INIT;
	assert_int_equal(
	    store_engine_read(f->e, (const uint8_t *)"k", 1, &ro, collect, &b, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "corrupt"));
	brook_buf_release(&b);
	store_engine_close(f->e);
	f->e = NULL;
	flip_at(sst, 10);
	/* A flipped byte in the footer: the whole file is refused, as is the open. */
	struct stat st;
	assert_int_equal(stat(sst, &st), 0);
	flip_at(sst, st.st_size - 30);
	store_engine *e = NULL;
	assert_int_equal(store_engine_open(f->dir, &f->o, &e, err, sizeof(err)), -1);
	assert_null(e);
	assert_non_null(strstr(err, "corrupt"));
	flip_at(sst, st.st_size - 30);
	reopen(f);
	assert_string_equal(read_all(f, "k"), ":1=value;");
}

static void test_compaction_crash_leftovers(void **state)
{
	fx *f = *state;
	f->o.gc_grace_seconds = 0;
	f->o.compact_threshold = 0;
	reopen(f);
	put(f, "x", "", 1, "old", 10, 0);
	put(f, "y", "", 1, "keep", 10, 0);
	flush(f);
	char sst1[256], saved[300];
	find_sst(f, sst1, sizeof(sst1));
	snprintf(saved, sizeof(saved), "%s.saved", f->dir);
	assert_int_equal(link(sst1, saved), 0);
	fake_now += 5;
	del_part(f, "x", 20);
	fake_now += 5;
	compact(f); /* purges both x's data and its tombstone */
	assert_string_equal(read_all(f, "x"), "");
	store_engine_close(f->e);
	f->e = NULL;
	/* A crash between the output's rename and the inputs' unlink leaves an input. */
	assert_int_equal(rename(saved, sst1), 0);
	reopen(f);
	assert_string_equal(read_all(f, "x"), "");
	assert_string_equal(read_all(f, "y"), ":1=keep;");
	assert_int_equal(access(sst1, F_OK), -1);
}

static void test_truncate(void **state)
{
	fx *f = *state;
	reopen(f);
	put(f, "a", "", 1, "1", 10, 0);
	flush(f);
	put(f, "b", "", 1, "2", 10, 0);
	char err[256];
	assert_int_equal(store_engine_truncate(f->e, err, sizeof(err)), 0);
	assert_string_equal(read_all(f, "a"), "");
	assert_string_equal(read_all(f, "b"), "");
	put(f, "c", "", 1, "3", 10, 0);
	crash_and_reopen(f);
	assert_string_equal(read_all(f, "a"), "");
	assert_string_equal(read_all(f, "b"), "");
	assert_string_equal(read_all(f, "c"), ":1=3;");
}

typedef struct thr_arg {
	fx *f;
	int id;
} thr_arg;

static void *writer_thread(void *p)
{
	thr_arg *a = p;
	char pk[32], err[256];
	for (int i = 0; i < 100; i++) {
		snprintf(pk, sizeof(pk), "t%d-%d", a->id, i);
		store_cell c = {
		    .col = 1, .ts = 10, .vlen = (uint32_t)strlen(pk), .value = (const uint8_t *)pk};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part m = {.pk = (const uint8_t *)pk,
		                .pklen = (uint32_t)strlen(pk),
		                .del = nodel(),
		                .rows = &r,
		                .nrows = 1};
		if (store_engine_write(a->f->e, &m, 1, err, sizeof(err)) != 0)
			return (void *)1;
	}
	return NULL;
}

static void test_group_commit_threads(void **state)
{
	fx *f = *state;
	f->o.memtable_bytes = 64 * 1024; /* flushes happen while others wait for syncs */
	reopen(f);
	pthread_t t[4];
	thr_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (thr_arg){f, i};
		assert_int_equal(pthread_create(&t[i], NULL, writer_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	crash_and_reopen(f);
	char pk[32], want[40];
	for (int id = 0; id < 4; id++)
		for (int i = 0; i < 100; i++) {
			snprintf(pk, sizeof(pk), "t%d-%d", id, i);
			snprintf(want, sizeof(want), ":1=%s;", pk);
			assert_string_equal(read_all(f, pk), want);
		}
}

/*
 * A child process writes and reports each acknowledged key on a pipe; the parent
 * SIGKILLs it after a varying number of acks (mid-write, mid-flush or mid-compaction,
 * since the memtable is tiny), reopens, and checks every acknowledged key.
 */
static void crash_child(fx *f, int round, int wfd)
{
	store_engine *e;
	char err[256], pk[32], val[64];
	if (store_engine_open(f->dir, &f->o, &e, err, sizeof(err)) != 0)
		_exit(3);
	for (uint32_t i = 0;; i++) {
		snprintf(pk, sizeof(pk), "r%d-%u", round, i);
		snprintf(val, sizeof(val), "value-%u-padding-padding", i);
		store_cell c = {.col = 1,
		                .ts = 10,
		                .vlen = (uint32_t)strlen(val),
		                .value = (const uint8_t *)val};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part m = {.pk = (const uint8_t *)pk,
		                .pklen = (uint32_t)strlen(pk),
		                .del = nodel(),
		                .rows = &r,
		                .nrows = 1};
		if (store_engine_write(e, &m, 1, err, sizeof(err)) != 0)
			_exit(4);
		if (write(wfd, &i, sizeof(i)) != sizeof(i))
			_exit(5);
	}
}

static void test_sigkill_recovery(void **state)
{
	fx *f = *state;
	f->o.memtable_bytes = 16 * 1024;
	f->o.compact_threshold = 3;
	uint32_t acked[8] = {0};
	for (int round = 0; round < 6; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(f, round, p[1]);
		}
		close(p[1]);
		uint32_t want = 40 + (uint32_t)round * 53, got = 0, v;
		while (got < want && read(p[0], &v, sizeof(v)) == sizeof(v))
			got = v + 1;
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		/* Acks already in the pipe were given before the kill. */
		while (read(p[0], &v, sizeof(v)) == sizeof(v))
			got = v + 1;
		close(p[0]);
		assert_true(got >= want);
		acked[round] = got;
		reopen(f);
		char pk[32], val[64], want_s[80];
		for (int r = 0; r <= round; r++)
			for (uint32_t i = 0; i < acked[r]; i++) {
				snprintf(pk, sizeof(pk), "r%d-%u", r, i);
				snprintf(val, sizeof(val), "value-%u-padding-padding", i);
				snprintf(want_s, sizeof(want_s), ":1=%s;", val);
				assert_string_equal(read_all(f, pk), want_s);
			}
		store_engine_close(f->e);
		f->e = NULL;
	}
}

static void test_periodic_mode(void **state)
{
	fx *f = *state;
	f->o.sync_mode = STORE_SYNC_PERIODIC;
	reopen(f);
	put(f, "p", "", 1, "v", 10, 0);
	/* Periodic acks promise a process crash is survived. */
	crash_and_reopen(f);
	assert_string_equal(read_all(f, "p"), ":1=v;");
}

static void test_bad_mutations(void **state)
{
	fx *f = *state;
	f->o.max_mutation_bytes = 1024;
	reopen(f);
	char err[256], big[2048];
	memset(big, 'x', sizeof(big));
	store_cell c = {.col = 1, .ts = 1, .vlen = sizeof(big), .value = (const uint8_t *)big};
	store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
	store_part m = {
	    .pk = (const uint8_t *)"k", .pklen = 1, .del = nodel(), .rows = &r, .nrows = 1};
	assert_int_equal(store_engine_write(f->e, &m, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exceeds"));
	m.pklen = 0;
	c.vlen = 1;
	assert_int_equal(store_engine_write(f->e, &m, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "partition key"));
	assert_string_equal(read_all(f, "k"), "");
}

static void test_merge_is_idempotent(void **state)
{
	(void)state;
	brook_arena a = BROOK_ARENA_INIT;
	store_cmp c = {NULL, NULL};
	store_cell cell = {.col = 3, .ts = 5, .vlen = 1, .value = (const uint8_t *)"v"};
	store_row row = {
	    .ck = (const uint8_t *)"r", .cklen = 1, .del = nodel(), .cells = &cell, .ncells = 1};
	store_rtomb rt = {.b = {(const uint8_t *)"a", 1, (const uint8_t *)"b", 1, 0},
	                  .del = {4, 100}};
	store_part src = {.pk = (const uint8_t *)"k",
	                  .pklen = 1,
	                  .del = nodel(),
	                  .rts = &rt,
	                  .nrts = 1,
	                  .rows = &row,
	                  .nrows = 1};
	store_part d;
	store_part_init(&a, &d, &src);
	store_part_merge(&a, &c, &d, &src);
	brook_buf once = BROOK_BUF_INIT, twice = BROOK_BUF_INIT;
	store_part_encode(&d, &once);
	store_part_merge(&a, &c, &d, &src);
	store_part_encode(&d, &twice);
	assert_int_equal(d.nrts, 1);
	assert_int_equal(once.len, twice.len);
	assert_memory_equal(once.data, twice.data, once.len);
	brook_buf_release(&once);
	brook_buf_release(&twice);
	brook_arena_release(&a);
}

static void test_sstable_format(void **state)
{
	fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/sst-0000000000000007.db", f->dir);
	store_sstable_writer *w = store_sstable_writer_new(path, 7, 3, err, sizeof(err));
	assert_non_null(w);
	const char *keys[] = {"a", "b", "c"};
	store_part ps[3];
	for (int i = 0; i < 3; i++) {
		memset(&ps[i], 0, sizeof(ps[i]));
		ps[i].pk = (const uint8_t *)keys[i];
		ps[i].pklen = 1;
		ps[i].token = store_token(keys[i], 1);
		ps[i].del.ts = 5;
		ps[i].del.ldt = 6;
	}
	/* Sort by token. */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (ps[j].token < ps[i].token) {
				store_part t = ps[i];
				ps[i] = ps[j];
				ps[j] = t;
			}
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_sstable_writer_add(w, &ps[i]), 0);
	assert_int_equal(store_sstable_writer_add(w, &ps[0]), -1); /* out of order */
	uint64_t anc[2] = {3, 4};
	assert_int_equal(store_sstable_writer_finish(w, anc, 2, err, sizeof(err)), 0);
	store_sstable *s = store_sstable_open(path, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_sstable_count(s), 3);
	assert_int_equal(store_sstable_generation(s), 7);
	uint32_t na;
	const uint64_t *a = store_sstable_ancestors(s, &na);
	assert_int_equal(na, 2);
	assert_int_equal(a[1], 4);
	int64_t at = store_sstable_find(s, store_token("b", 1), (const uint8_t *)"b", 1);
	assert_true(at >= 0);
	brook_arena ar = BROOK_ARENA_INIT;
	store_part out;
	assert_int_equal(store_sstable_read(s, (uint64_t)at, &ar, &out, err, sizeof(err)), 0);
	assert_int_equal(out.del.ts, 5);
	assert_memory_equal(out.pk, "b", 1);
	assert_int_equal(store_sstable_find(s, store_token("z", 1), (const uint8_t *)"z", 1), -1);
	brook_arena_release(&ar);
	store_sstable_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_murmur3_vectors),
	    cmocka_unit_test(test_bloom),
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newest_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tombstones, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ttl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clustering_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_custom_comparator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compaction_equivalence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auto_flush_and_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_after_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_commitlog_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_sstable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compaction_crash_leftovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_commit_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_periodic_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_mutations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sstable_format, setup, teardown),
	    cmocka_unit_test(test_merge_is_idempotent),
	    cmocka_unit_test_setup_teardown(test_sigkill_recovery, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
