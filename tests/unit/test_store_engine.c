/*
 * test_store_engine.c — the store's LSM engine: murmur3 tokens, bloom filter, round
 * trips, newest-wins across memtable and sstables, tombstones, TTL with a fake clock,
 * clustering ranges, paged scans, compaction equivalence and purging, recovery after a
 * simulated crash, torn commit log tails, corrupt sstables, truncate, group commit; the
 * memtable's B+tree against a sorted array; background flush and compaction: writes
 * during a held flush and back-pressure, crashes mid-flush and mid-compaction, failing
 * flushes and their retry, the purge rule, writers + readers + a scanner at once.
 * Background jobs are held or failed through the engine's test hook (a gate).
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
	f->o.memtable_bytes = 128 * 1024;
	f->o.compact_threshold = 3;
	reopen(f);
	char pk[16], v[64], err[256];
	for (int i = 0; i < 4000; i++) {
		snprintf(pk, sizeof(pk), "k%d", i);
		snprintf(v, sizeof(v), "value-%d-padding-padding-padding", i);
		put(f, pk, "", 1, v, 10, 0);
	}
	/* Flushes and compactions run in the background: let them finish. */
	assert_int_equal(store_engine_wait_idle(f->e, err, sizeof(err)), 0);
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

/* ---- the memtable's index ---- */

static int under_valgrind(void)
{
	return getenv("BROOK_UNDER_VALGRIND") != NULL;
}

typedef struct ref_key {
	int64_t token;
	char pk[16];
	size_t pklen;
} ref_key;

static int ref_cmp(const void *a, const void *b)
{
	const ref_key *x = a, *y = b;
	return store_pk_cmp(x->token, (const uint8_t *)x->pk, x->pklen, y->token,
	                    (const uint8_t *)y->pk, y->pklen);
}

/* The first reference key >= (token, pk) (> if strict; pk NULL: token >= token). */
static size_t ref_seek(const ref_key *keys, size_t n, int64_t token, const char *pk, int strict)
{
	for (size_t i = 0; i < n; i++) {
		int c = pk ? store_pk_cmp(keys[i].token, (const uint8_t *)keys[i].pk, keys[i].pklen,
		                          token, (const uint8_t *)pk, strlen(pk))
		           : (keys[i].token < token ? -1 : 1);
		if (c > 0 || (c == 0 && !strict))
			return i;
	}
	return n;
}

/*
 * Partitions with chosen tokens (many equal ones, so pk breaks ties) in random order:
 * iteration is sorted and complete, get finds each, seek agrees with a sorted array —
 * at every node split the B+tree makes.
 */
static void test_memtable_index(void **state)
{
	(void)state;
	size_t n = under_valgrind() ? 1500 : 6000;
	ref_key *keys = calloc(n, sizeof(*keys));
	store_memtable *m = store_memtable_new(NULL);
	unsigned seed = 7;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		/* 1/4 of the keys share one of 16 tokens; pks are unique */
		keys[i].token = (seed >> 8) % 4 == 0 ? (int64_t)((seed >> 12) % 16) - 8
		                                     : (int64_t)(seed * 2654435761u) - (1LL << 31);
		keys[i].pklen = (size_t)snprintf(keys[i].pk, sizeof(keys[i].pk), "p%zu", i);
		store_cell c = {.col = 1, .ts = 1, .vlen = 1, .value = (const uint8_t *)"v"};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part mut = {.token = keys[i].token,
		                  .pk = (const uint8_t *)keys[i].pk,
		                  .pklen = (uint32_t)keys[i].pklen,
		                  .del = nodel(),
		                  .rows = &r,
		                  .nrows = 1};
		store_memtable_apply(m, &mut);
		if (i % 3 == 0) { /* an update of an existing partition */
			c.ts = 2;
			store_memtable_apply(m, &mut);
		}
	}
	assert_int_equal(store_memtable_count(m), n);
	qsort(keys, n, sizeof(*keys), ref_cmp);
	size_t i = 0;
	store_mt_iter it;
	const store_part *p;
	for (store_memtable_first(m, &it); (p = store_mt_iter_part(&it));
	     store_mt_iter_next(&it), i++) {
		assert_true(i < n);
		assert_int_equal(p->token, keys[i].token);
		assert_int_equal(p->pklen, keys[i].pklen);
		assert_memory_equal(p->pk, keys[i].pk, p->pklen);
	}
	assert_int_equal(i, n);
	for (i = 0; i < n; i += 7) {
		p = store_memtable_get(m, keys[i].token, (const uint8_t *)keys[i].pk,
		                       keys[i].pklen);
		assert_non_null(p);
		assert_memory_equal(p->pk, keys[i].pk, keys[i].pklen);
		long orig = strtol(keys[i].pk + 1, NULL, 10);
		assert_int_equal(p->rows[0].cells[0].ts, orig % 3 == 0 ? 2 : 1);
		assert_null(store_memtable_get(m, keys[i].token, (const uint8_t *)"absent", 6));
	}
	/* Seeks at, between and around the keys, by (token, pk) and by token alone; the
	 * iterator then walks on in order. */
	for (i = 0; i < n; i += 5) {
		const char *probes[] = {keys[i].pk, "p", "zz"};
		for (int k = 0; k < 3; k++)
			for (int strict = 0; strict < 2; strict++) {
				size_t want = ref_seek(keys, n, keys[i].token, probes[k], strict);
				store_memtable_seek(m, keys[i].token, (const uint8_t *)probes[k],
				                    strlen(probes[k]), strict, &it);
				for (size_t w = want; w < want + 3; w++, store_mt_iter_next(&it)) {
					p = store_mt_iter_part(&it);
					if (w >= n) {
						assert_null(p);
						break;
					}
					assert_non_null(p);
					assert_int_equal(p->pklen, keys[w].pklen);
					assert_memory_equal(p->pk, keys[w].pk, p->pklen);
				}
			}
		size_t want = ref_seek(keys, n, keys[i].token + 1, NULL, 0);
		store_memtable_seek(m, keys[i].token + 1, NULL, 0, 0, &it);
		p = store_mt_iter_part(&it);
		if (want == n)
			assert_null(p);
		else
			assert_int_equal(p->token, keys[want].token);
	}
	store_memtable_seek(m, INT64_MAX, (const uint8_t *)"~", 1, 0, &it);
	assert_null(store_mt_iter_part(&it));
	store_mt_iter first;
	store_memtable_first(m, &first);
	store_memtable_seek(m, INT64_MIN, NULL, 0, 0, &it);
	assert_ptr_equal(store_mt_iter_part(&it), store_mt_iter_part(&first));
	/* An empty memtable iterates nothing. */
	store_memtable *e = store_memtable_new(NULL);
	store_memtable_first(e, &it);
	assert_null(store_mt_iter_part(&it));
	store_memtable_seek(e, 0, NULL, 0, 0, &it);
	assert_null(store_mt_iter_part(&it));
	store_memtable_free(e);
	store_memtable_free(m);
	free(keys);
}

/* ---- background flush and compaction ---- */

/*
 * A test hook that can hold the background thread at the n-th call of an event until
 * the test releases it, and then answer 0 (go on), 1 (crash) or -1 (I/O error).
 */
typedef struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int event; /* the event to hold at */
	int at;    /* ... at its at-th call (1-based); 0: never */
	int calls;
	int held; /* the thread is waiting in the hook */
	int released;
	int answer;    /* returned once released */
	int fail_left; /* answer -1 to this many calls of `event` (no holding) */
} gate;

/* Never destroyed: an engine closed in teardown may still call the hook. */
static gate g_gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0, 0};

static void gate_init(int event, int at, int fail)
{
	pthread_mutex_lock(&g_gate.mu);
	g_gate.event = event;
	g_gate.at = at;
	g_gate.calls = g_gate.held = g_gate.released = g_gate.answer = 0;
	g_gate.fail_left = fail;
	pthread_mutex_unlock(&g_gate.mu);
}

static int gate_hook(void *ctx, int event)
{
	gate *g = ctx;
	int r = 0;
	pthread_mutex_lock(&g->mu);
	if (event == g->event) {
		g->calls++;
		if (g->fail_left > 0) {
			g->fail_left--;
			r = -1;
		} else if (g->calls == g->at) {
			g->held = 1;
			pthread_cond_broadcast(&g->cond);
			while (!g->released)
				pthread_cond_wait(&g->cond, &g->mu);
			g->held = 0;
			r = g->answer;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return r;
}

static void gate_wait_held(void)
{
	pthread_mutex_lock(&g_gate.mu);
	while (!g_gate.held)
		pthread_cond_wait(&g_gate.cond, &g_gate.mu);
	pthread_mutex_unlock(&g_gate.mu);
}

static int gate_is_held(void)
{
	pthread_mutex_lock(&g_gate.mu);
	int h = g_gate.held;
	pthread_mutex_unlock(&g_gate.mu);
	return h;
}

static void gate_release(int answer)
{
	pthread_mutex_lock(&g_gate.mu);
	g_gate.answer = answer;
	g_gate.released = 1;
	pthread_cond_broadcast(&g_gate.cond);
	pthread_mutex_unlock(&g_gate.mu);
}

static void put_key(fx *f, const char *prefix, int i)
{
	char pk[32], v[64];
	snprintf(pk, sizeof(pk), "%s%d", prefix, i);
	snprintf(v, sizeof(v), "value-%d-of-%s-padding-padding", i, prefix);
	put(f, pk, "", 1, v, 10, 0);
}

static void check_keys(fx *f, const char *prefix, int from, int to)
{
	char pk[32], want[80];
	for (int i = from; i < to; i++) {
		snprintf(pk, sizeof(pk), "%s%d", prefix, i);
		snprintf(want, sizeof(want), ":1=value-%d-of-%s-padding-padding;", i, prefix);
		assert_string_equal(read_all(f, pk), want);
	}
}

/* Writes until the flusher holds in the hook (the memtable was switched). */
static int fill_until_held(fx *f, const char *prefix)
{
	int i = 0;
	while (!gate_is_held()) {
		put_key(f, prefix, i++);
		if (i > 100000)
			fail_msg("no flush started after %d writes", i);
	}
	return i;
}

typedef struct bg_writer {
	fx *f;
	const char *prefix;
	int n;
	int done; /* atomic */
	int failed;
} bg_writer;

static void *bg_writer_main(void *p)
{
	bg_writer *w = p;
	char pk[32], v[64], err[256];
	for (int i = 0; i < w->n; i++) {
		snprintf(pk, sizeof(pk), "%s%d", w->prefix, i);
		snprintf(v, sizeof(v), "value-%d-of-%s-padding-padding", i, w->prefix);
		store_cell c = {
		    .col = 1, .ts = 10, .vlen = (uint32_t)strlen(v), .value = (const uint8_t *)v};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part m = {.pk = (const uint8_t *)pk,
		                .pklen = (uint32_t)strlen(pk),
		                .del = nodel(),
		                .rows = &r,
		                .nrows = 1};
		if (store_engine_write(w->f->e, &m, 1, err, sizeof(err)) != 0) {
			w->failed = 1;
			break;
		}
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The flusher is held inside its first flush: writes go on (into the new memtable) and
 * stay readable from both memtables; when the active one reaches its cap a writer
 * waits (back-pressure) with memory bounded, and finishes once the flush completes.
 */
static void test_writes_continue_during_flush(void **state)
{
	fx *f = *state;
	gate_init(STORE_HOOK_FLUSH, 1, 0);
	f->o.memtable_bytes = 64 * 1024;
	f->o.test_hook = gate_hook;
	f->o.test_hook_ctx = &g_gate;
	reopen(f);
	int before = fill_until_held(f, "a");
	/* The flush is stuck: these writes are acknowledged meanwhile. */
	store_engine_stats st;
	for (int i = 0; i < 100; i++)
		put_key(f, "b", i);
	store_engine_get_stats(f->e, &st);
	assert_true(gate_is_held());
	assert_int_equal(st.flushes, 0);
	assert_int_equal(st.memtables, 2);
	assert_true(st.flush_pending_bytes >= f->o.memtable_bytes);
	check_keys(f, "a", 0, before);
	check_keys(f, "b", 0, 100);
	/* A writer that fills the active memtable to its cap waits for the flush. */
	bg_writer w = {f, "c", 5000, 0, 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bg_writer_main, &w), 0);
	for (;;) {
		store_engine_get_stats(f->e, &st);
		if (st.write_stalls > 0)
			break;
		assert_false(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)); /* it cannot finish */
		usleep(1000);
	}
	assert_true(gate_is_held());
	assert_int_equal(st.memtables, 2);
	/* cap = 9/8 of memtable_bytes, plus the one write that crossed it */
	assert_true(st.memtable_bytes <= f->o.memtable_bytes + f->o.memtable_bytes / 8 + 1024);
	assert_int_equal(st.flushes, 0);
	gate_release(0);
	pthread_join(t, NULL);
	assert_false(w.failed);
	char err[256];
	assert_int_equal(store_engine_wait_idle(f->e, err, sizeof(err)), 0);
	store_engine_get_stats(f->e, &st);
	assert_true(st.flushes >= 2);
	assert_true(st.write_stalls >= 1);
	assert_true(st.flush_bytes_written > 0);
	assert_true(st.memtables <= 2);
	check_keys(f, "a", 0, before);
	check_keys(f, "c", 0, 5000);
	reopen(f);
	check_keys(f, "b", 0, 100);
	check_keys(f, "c", 0, 5000);
}

static int count_tmp(fx *f)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		n += l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0;
	}
	closedir(d);
	return n;
}

/* A crash in the middle of a flush, with writes acknowledged meanwhile: nothing lost. */
static void test_abandon_mid_flush(void **state)
{
	fx *f = *state;
	gate_init(STORE_HOOK_FLUSH, 5, 0);
	f->o.memtable_bytes = 64 * 1024;
	f->o.test_hook = gate_hook;
	f->o.test_hook_ctx = &g_gate;
	reopen(f);
	int before = fill_until_held(f, "a");
	for (int i = 0; i < 150; i++)
		put_key(f, "b", i);
	gate_release(1); /* the flusher "dies" after its 5th partition */
	store_engine_abandon(f->e);
	f->e = NULL;
	assert_int_equal(count_tmp(f), 1); /* the crash left the partial sstable */
	f->o.test_hook = NULL;
	reopen(f);
	assert_int_equal(count_tmp(f), 0);
	check_keys(f, "a", 0, before);
	check_keys(f, "b", 0, 150);
}

/*
 * A crash in the middle of a compaction that purges: the inputs stay, so the purged
 * tombstone's older data does not come back.
 */
static void test_abandon_mid_compaction(void **state)
{
	fx *f = *state;
	gate_init(STORE_HOOK_COMPACT, 3, 0);
	f->o.gc_grace_seconds = 0;
	f->o.compact_threshold = 0;
	f->o.test_hook = gate_hook;
	f->o.test_hook_ctx = &g_gate;
	reopen(f);
	for (int i = 0; i < 20; i++)
		put_key(f, "k", i);
	flush(f);
	for (int i = 0; i < 20; i += 2) {
		char pk[16];
		snprintf(pk, sizeof(pk), "k%d", i);
		del_part(f, pk, 20);
	}
	flush(f);
	fake_now += 10;
	gate_release(1); /* crash at the 3rd partition written */
	char err[256];
	assert_int_equal(store_engine_compact(f->e, err, sizeof(err)), -1);
	store_engine_abandon(f->e);
	f->e = NULL;
	assert_int_equal(count_tmp(f), 1);
	f->o.test_hook = NULL;
	reopen(f);
	for (int i = 0; i < 20; i++) {
		char pk[16];
		snprintf(pk, sizeof(pk), "k%d", i);
		if (i % 2 == 0)
			assert_string_equal(read_all(f, pk), "");
		else
			check_keys(f, "k", i, i + 1);
	}
	compact(f);
	for (int i = 0; i < 20; i++) {
		char pk[16];
		snprintf(pk, sizeof(pk), "k%d", i);
		if (i % 2 == 0)
			assert_string_equal(read_all(f, pk), "");
	}
	check_keys(f, "k", 1, 2);
}

/*
 * Flushes that fail (disk full) keep the data readable and its commit log; writers are
 * refused only once both memtables are full; the retry succeeds and nothing is lost.
 */
static void test_flush_failure_and_retry(void **state)
{
	fx *f = *state;
	gate_init(STORE_HOOK_FLUSH, 0, 1000000);
	f->o.memtable_bytes = 32 * 1024;
	f->o.test_hook = gate_hook;
	f->o.test_hook_ctx = &g_gate;
	reopen(f);
	char pk[32], v[64], err[256];
	int i, refused = 0;
	for (i = 0; i < 20000 && !refused; i++) {
		snprintf(pk, sizeof(pk), "k%d", i);
		snprintf(v, sizeof(v), "value-%d-of-k-padding-padding", i);
		store_cell c = {
		    .col = 1, .ts = 10, .vlen = (uint32_t)strlen(v), .value = (const uint8_t *)v};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part m = {.pk = (const uint8_t *)pk,
		                .pklen = (uint32_t)strlen(pk),
		                .del = nodel(),
		                .rows = &r,
		                .nrows = 1};
		refused = store_engine_write(f->e, &m, 1, err, sizeof(err)) != 0;
	}
	assert_true(refused);
	assert_non_null(strstr(err, "refused"));
	assert_non_null(strstr(err, "simulated I/O error"));
	int acked = i - 1;
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_true(st.flush_failures >= 1);
	assert_true(st.writes_refused >= 1);
	assert_int_equal(st.flushes, 0);
	assert_int_equal(st.memtables, 2);
	/* the refused write was not applied */
	snprintf(pk, sizeof(pk), "k%d", acked);
	assert_string_equal(read_all(f, pk), "");
	check_keys(f, "k", 0, acked);
	assert_int_equal(store_engine_flush(f->e, err, sizeof(err)), -1);
	assert_int_equal(store_engine_wait_idle(f->e, err, sizeof(err)), -1);
	/* The disk has room again: the next attempt succeeds. */
	pthread_mutex_lock(&g_gate.mu);
	g_gate.fail_left = 0;
	pthread_mutex_unlock(&g_gate.mu);
	assert_int_equal(store_engine_flush(f->e, err, sizeof(err)), 0);
	store_engine_get_stats(f->e, &st);
	assert_true(st.flushes >= 2);
	assert_int_equal(st.memtables, 1);
	put_key(f, "after", 1);
	crash_and_reopen(f);
	check_keys(f, "k", 0, acked);
	check_keys(f, "after", 1, 2);
}

/*
 * PURGING: data older than a purgeable tombstone but outside the compaction (written
 * to the memtable when it starts) keeps the tombstone alive; once that data is in the
 * inputs too, the tombstone and the data go.
 */
static void test_purge_waits_for_outside_data(void **state)
{
	fx *f = *state;
	gate_init(STORE_HOOK_COMPACT_START, 1, 0);
	f->o.gc_grace_seconds = 0;
	f->o.compact_threshold = 2;
	f->o.test_hook = gate_hook;
	f->o.test_hook_ctx = &g_gate;
	reopen(f);
	put(f, "k", "", 1, "old", 5, 0);
	put(f, "j", "", 1, "old", 5, 0);
	flush(f);
	del_part(f, "k", 10);
	del_part(f, "j", 10);
	fake_now += 5;
	flush(f); /* the second sstable: an automatic compaction starts and is held */
	gate_wait_held();
	/* older than k's deletion, newer than j's: written while the compaction runs */
	put(f, "k", "", 1, "late", 7, 0);
	put(f, "j", "", 1, "late", 11, 0);
	gate_release(0);
	char err[256];
	assert_int_equal(store_engine_wait_idle(f->e, err, sizeof(err)), 0);
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_int_equal(st.compactions, 1);
	assert_string_equal(read_all(f, "k"), "");         /* the deletion was kept */
	assert_string_equal(read_all(f, "j"), ":1=late;"); /* newer than the deletion */
	reopen(f);
	assert_string_equal(read_all(f, "k"), "");
	f->o.test_hook = NULL;
	reopen(f);
	compact(f); /* now everything is in the inputs: purged for good */
	assert_string_equal(read_all(f, "k"), "");
	assert_string_equal(read_all(f, "j"), ":1=late;");
	store_engine_get_stats(f->e, &st);
	assert_int_equal(st.sstables, 1);
}

/*
 * Writers, readers and a scanner at once, over a tiny memtable: many flushes and
 * compactions run under them. Every acknowledged write is readable with at least its
 * version, scans stay ordered, at most two memtables exist; all survives a reopen.
 */
typedef struct mix {
	fx *f;
	int id;
	int keys, rounds;
	int acked; /* atomic: writes acknowledged, in order */
	int stop;  /* atomic */
	int bad;
	char what[128];
} mix;

static void mix_key(const mix *m, int j, char *pk, size_t n)
{
	snprintf(pk, n, "w%d-%d", m->id, j % m->keys);
}

static void *mix_writer(void *p)
{
	mix *m = p;
	char pk[32], v[32], err[256];
	for (int j = 0; j < m->keys * m->rounds; j++) {
		mix_key(m, j, pk, sizeof(pk));
		snprintf(v, sizeof(v), "r%06d-xxxxxxxxxxxxxxxx", j / m->keys);
		store_cell c = {.col = 1,
		                .ts = 100 + j,
		                .vlen = (uint32_t)strlen(v),
		                .value = (const uint8_t *)v};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part mu = {.pk = (const uint8_t *)pk,
		                 .pklen = (uint32_t)strlen(pk),
		                 .del = nodel(),
		                 .rows = &r,
		                 .nrows = 1};
		if (store_engine_write(m->f->e, &mu, 1, err, sizeof(err)) != 0) {
			snprintf(m->what, sizeof(m->what), "write: %s", err);
			m->bad = 1;
			break;
		}
		__atomic_store_n(&m->acked, j + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int first_cell_cb(void *ctx, const store_part *p, const store_row *r)
{
	(void)p;
	char *out = ctx;
	snprintf(out, 32, "%.*s", (int)r->cells[0].vlen, (const char *)r->cells[0].value);
	return 1;
}

static void *mix_reader(void *p)
{
	mix *m = p; /* m[0], m[1]: the writers; this is m[2] */
	unsigned seed = 99;
	char pk[32], got[32], err[256];
	store_read_opts ro = {.range.flags = STORE_B_START_UNBOUNDED | STORE_B_END_UNBOUNDED};
	while (!__atomic_load_n(&m[2].stop, __ATOMIC_ACQUIRE) && !m[2].bad) {
		seed = seed * 1103515245 + 12345;
		mix *w = &m[(seed >> 4) & 1];
		int acked = __atomic_load_n(&w->acked, __ATOMIC_ACQUIRE);
		if (!acked)
			continue;
		int j = (int)((seed >> 8) % (unsigned)acked);
		mix_key(w, j, pk, sizeof(pk));
		got[0] = 0;
		if (store_engine_read(m[2].f->e, (const uint8_t *)pk, strlen(pk), &ro,
		                      first_cell_cb, got, err, sizeof(err)) != 0) {
			snprintf(m[2].what, sizeof(m[2].what), "read: %s", err);
			m[2].bad = 1;
		} else if (got[0] != 'r' || atoi(got + 1) < j / w->keys) {
			snprintf(m[2].what, sizeof(m[2].what), "%s: '%s' older than round %d", pk,
			         got, j / w->keys);
			m[2].bad = 1;
		}
		store_engine_stats st;
		store_engine_get_stats(m[2].f->e, &st);
		if (st.memtables > 2 ||
		    st.memtable_bytes > m[2].f->o.memtable_bytes * 9 / 8 + 1024) {
			snprintf(m[2].what, sizeof(m[2].what),
			         "memory: %" PRIu64 " memtables, %" PRIu64 " bytes", st.memtables,
			         st.memtable_bytes);
			m[2].bad = 1;
		}
	}
	return NULL;
}

static void *mix_scanner(void *p)
{
	mix *m = p; /* this is m[3] */
	char err[256];
	while (!__atomic_load_n(&m[3].stop, __ATOMIC_ACQUIRE) && !m[3].bad) {
		scan_acc acc = {.order_ok = 1};
		uint64_t n;
		if (store_engine_scan(m[3].f->e, INT64_MIN, INT64_MAX, NULL, 0, 0, scan_cb, &acc,
		                      NULL, &n, err, sizeof(err)) != 0) {
			snprintf(m[3].what, sizeof(m[3].what), "scan: %s", err);
			m[3].bad = 1;
		} else if (!acc.order_ok || n > (uint64_t)(m[0].keys + m[1].keys)) {
			snprintf(m[3].what, sizeof(m[3].what), "scan: %" PRIu64 " rows, order %d",
			         n, acc.order_ok);
			m[3].bad = 1;
		}
		brook_buf_release(&acc.keys);
	}
	return NULL;
}

static void test_concurrent_flush_and_compaction(void **state)
{
	fx *f = *state;
	int vg = under_valgrind();
	f->o.memtable_bytes = 16 * 1024;
	f->o.sync_mode = STORE_SYNC_PERIODIC; /* durability is not the point here: speed */
	f->o.compact_threshold = 3;
	reopen(f);
	mix m[4];
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 4; i++) {
		m[i].f = f;
		m[i].id = i;
		m[i].keys = vg ? 150 : 600;
		m[i].rounds = vg ? 3 : 6;
	}
	pthread_t t[4];
	assert_int_equal(pthread_create(&t[0], NULL, mix_writer, &m[0]), 0);
	assert_int_equal(pthread_create(&t[1], NULL, mix_writer, &m[1]), 0);
	assert_int_equal(pthread_create(&t[2], NULL, mix_reader, m), 0);
	assert_int_equal(pthread_create(&t[3], NULL, mix_scanner, m), 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	__atomic_store_n(&m[2].stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&m[3].stop, 1, __ATOMIC_RELEASE);
	pthread_join(t[2], NULL);
	pthread_join(t[3], NULL);
	for (int i = 0; i < 4; i++)
		if (m[i].bad)
			fail_msg("thread %d: %s", i, m[i].what);
	char err[256];
	assert_int_equal(store_engine_wait_idle(f->e, err, sizeof(err)), 0);
	store_engine_stats st;
	store_engine_get_stats(f->e, &st);
	assert_true(st.flushes >= 5);
	assert_true(st.compactions >= 1);
	assert_true(st.memtables <= 2);
	assert_int_equal(st.writes, (uint64_t)(2 * m[0].keys * m[0].rounds));
	/* Every key holds its last round, before and after a reopen. */
	for (int pass = 0; pass < 2; pass++) {
		for (int w = 0; w < 2; w++)
			for (int k = 0; k < m[w].keys; k++) {
				char pk[32], want[48];
				mix_key(&m[w], k, pk, sizeof(pk));
				snprintf(want, sizeof(want), ":1=r%06d-xxxxxxxxxxxxxxxx;",
				         m[w].rounds - 1);
				assert_string_equal(read_all(f, pk), want);
			}
		reopen(f);
	}
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
	    cmocka_unit_test(test_memtable_index),
	    cmocka_unit_test_setup_teardown(test_writes_continue_during_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abandon_mid_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abandon_mid_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_failure_and_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_waits_for_outside_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_flush_and_compaction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
