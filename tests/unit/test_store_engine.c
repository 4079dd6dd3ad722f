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
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fileio.h"
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
	brook_arena ar = BROOK_ARENA_INIT;
	store_part out;
	assert_int_equal(store_sstable_get(s, store_token("b", 1), (const uint8_t *)"b", 1, &ar,
	                                   &out, err, sizeof(err)),
	                 1);
	assert_int_equal(out.del.ts, 5);
	assert_memory_equal(out.pk, "b", 1);
	assert_int_equal(store_sstable_get(s, store_token("z", 1), (const uint8_t *)"z", 1, &ar,
	                                   &out, err, sizeof(err)),
	                 0);
	brook_arena_release(&ar);
	store_sstable_close(s);
}

/* ---- the sampled index ---- */

typedef struct tkey {
	int64_t token;
	char pk[24];
	uint32_t pklen;
	int id; /* written into the partition's cell */
} tkey;

static int tkey_cmp(const void *a, const void *b)
{
	const tkey *x = a, *y = b;
	return store_pk_cmp(x->token, (const uint8_t *)x->pk, x->pklen, y->token,
	                    (const uint8_t *)y->pk, y->pklen);
}

/* n keys in file order: real tokens, or (runs not NULL) made-up ones: runs[0] keys with
 * token 0, then runs[1] with token 1... (such partitions are not readable: their token is
 * not their key's, which reads check). */
static tkey *make_keys(int n, const int *runs)
{
	tkey *k = calloc((size_t)(n ? n : 1), sizeof(*k));
	int64_t t = 0;
	for (int i = 0, left = runs ? runs[0] : 0; i < n; i++, left--) {
		k[i].pklen = (uint32_t)snprintf(k[i].pk, sizeof(k[i].pk), "k%05d", i);
		if (runs && left == 0)
			left = runs[++t];
		k[i].token = runs ? t : store_token(k[i].pk, k[i].pklen);
		k[i].id = i;
	}
	qsort(k, (size_t)n, sizeof(*k), tkey_cmp);
	return k;
}

/* Writes the keys as partitions of one row whose cell 1 is "v<id>" padded to vlen. */
static void write_sst(const char *path, const tkey *k, int n, size_t vlen)
{
	char err[256];
	store_sstable_writer *w = store_sstable_writer_new(path, 1, (uint64_t)n, err, sizeof(err));
	assert_non_null(w);
	char *val = malloc(vlen + 16);
	for (int i = 0; i < n; i++) {
		int len = snprintf(val, vlen + 16, "v%d", k[i].id);
		while ((size_t)len < vlen)
			val[len++] = 'x';
		store_cell c = {
		    .col = 1, .ts = 10, .value = (const uint8_t *)val, .vlen = (uint32_t)len};
		store_row r = {.ck = (const uint8_t *)"", .del = nodel(), .cells = &c, .ncells = 1};
		store_part p = {.token = k[i].token,
		                .pk = (const uint8_t *)k[i].pk,
		                .pklen = k[i].pklen,
		                .del = nodel(),
		                .rows = &r,
		                .nrows = 1};
		assert_int_equal(store_sstable_writer_add(w, &p), 0);
	}
	free(val);
	assert_int_equal(store_sstable_writer_finish(w, NULL, 0, err, sizeof(err)), 0);
}

/* The partition read is key k's, with its cell. */
static void check_part(const store_part *p, const tkey *k, size_t vlen)
{
	char want[32];
	int n = snprintf(want, sizeof(want), "v%d", k->id);
	assert_int_equal(p->token, k->token);
	assert_int_equal(p->pklen, k->pklen);
	assert_memory_equal(p->pk, k->pk, k->pklen);
	assert_int_equal(p->nrows, 1);
	assert_int_equal(p->rows[0].ncells, 1);
	assert_int_equal(p->rows[0].cells[0].vlen, vlen > (size_t)n ? vlen : (size_t)n);
	assert_memory_equal(p->rows[0].cells[0].value, want, (size_t)n);
}

/* The iterator is at key index want (n: at the end). */
static void check_at(store_sstable_iter *it, const tkey *k, int n, int want)
{
	int64_t tok;
	const uint8_t *pk;
	uint32_t pklen;
	if (want >= n) {
		assert_int_equal(store_sstable_iter_key(it, &tok, &pk, &pklen), 0);
		return;
	}
	assert_int_equal(store_sstable_iter_key(it, &tok, &pk, &pklen), 1);
	assert_int_equal(tok, k[want].token);
	assert_int_equal(pklen, k[want].pklen);
	assert_memory_equal(pk, k[want].pk, pklen);
}

static void seek_to(store_sstable_iter *it, int64_t tok, const char *pk, int strict)
{
	char err[256];
	int rc = store_sstable_iter_seek(it, tok, (const uint8_t *)pk, pk ? strlen(pk) : 0, strict,
	                                 err, sizeof(err));
	if (rc != 0)
		fail_msg("seek failed: %s", err);
}

/* Every lookup, every seek, a walk, for one sstable of n partitions. */
static void check_sst(const char *path, const tkey *k, int n, size_t vlen)
{
	char err[256];
	store_sstable *s = store_sstable_open(path, err, sizeof(err));
	if (!s)
		fail_msg("open failed: %s", err);
	assert_int_equal(store_sstable_count(s), n);
	brook_arena a = BROOK_ARENA_INIT;
	store_part p;
	for (int i = 0; i < n; i++) {
		const uint8_t *pk = (const uint8_t *)k[i].pk;
		brook_arena_reset(&a);
		assert_int_equal(
		    store_sstable_get(s, k[i].token, pk, k[i].pklen, &a, &p, err, sizeof(err)), 1);
		check_part(&p, &k[i], vlen);
		/* A present pk under a neighbouring token passes the bloom filter and must be
		 * absent: just before and after each key, so at every group boundary. */
		assert_int_equal(
		    store_sstable_get(s, k[i].token - 1, pk, k[i].pklen, &a, &p, err, sizeof(err)),
		    0);
		assert_int_equal(
		    store_sstable_get(s, k[i].token + 1, pk, k[i].pklen, &a, &p, err, sizeof(err)),
		    0);
		/* The same token, a pk sorting just after (absent). */
		char longer[32];
		snprintf(longer, sizeof(longer), "%s!", k[i].pk);
		assert_int_equal(store_sstable_get(s, k[i].token, (const uint8_t *)longer,
		                                   strlen(longer), &a, &p, err, sizeof(err)),
		                 0);
	}
	assert_int_equal(
	    store_sstable_get(s, INT64_MIN, (const uint8_t *)"nokey", 5, &a, &p, err, sizeof(err)),
	    0);
	/* Seeks to each key, past it, by token, between keys. */
	store_sstable_iter *it = store_sstable_iter_new(s);
	for (int i = 0; i < n; i++) {
		seek_to(it, k[i].token, k[i].pk, 0);
		check_at(it, k, n, i);
		seek_to(it, k[i].token, k[i].pk, 1);
		check_at(it, k, n, i + 1);
		seek_to(it, k[i].token, NULL, 0);
		check_at(it, k, n, i);
		seek_to(it, k[i].token, NULL, 1);
		check_at(it, k, n, i + 1);
		seek_to(it, k[i].token - 1, k[i].pk, 0);
		check_at(it, k, n, i);
		seek_to(it, k[i].token + 1, NULL, 0);
		check_at(it, k, n, i + 1);
	}
	seek_to(it, INT64_MAX, NULL, 1);
	check_at(it, k, n, n);
	/* A walk from the start reads every partition in order. */
	seek_to(it, INT64_MIN, NULL, 0);
	for (int i = 0; i < n; i++) {
		check_at(it, k, n, i);
		brook_arena_reset(&a);
		assert_int_equal(store_sstable_iter_read(it, &a, &p, err, sizeof(err)), 0);
		check_part(&p, &k[i], vlen);
		assert_int_equal(store_sstable_iter_next(it, err, sizeof(err)), 0);
	}
	check_at(it, k, n, n);
	assert_int_equal(store_sstable_iter_next(it, err, sizeof(err)), 0);
	check_at(it, k, n, n);
	/* Walks from a seek in the middle of each group, across the next boundaries. */
	for (int i = 5; i < n; i += (int)STORE_SSTABLE_INTERVAL) {
		seek_to(it, k[i].token, k[i].pk, 0);
		for (int j = i; j < n && j < i + 2 * (int)STORE_SSTABLE_INTERVAL; j++) {
			check_at(it, k, n, j);
			brook_arena_reset(&a);
			assert_int_equal(store_sstable_iter_read(it, &a, &p, err, sizeof(err)), 0);
			check_part(&p, &k[j], vlen);
			assert_int_equal(store_sstable_iter_next(it, err, sizeof(err)), 0);
		}
	}
	store_sstable_iter_free(it);
	brook_arena_release(&a);
	store_sstable_close(s);
}

/*
 * Sstables of 0, 1, interval - 1, interval, interval + 1 ... partitions: every key is
 * found, absent keys next to every key (so at every group boundary) are not, seeks land
 * where a sorted array says, walks cross the group boundaries.
 */
static void test_sstable_sampled_index(void **state)
{
	fx *f = *state;
	const int I = (int)STORE_SSTABLE_INTERVAL;
	const int sizes[] = {0,     1,         2,     I - 1,     I,   I + 1,
	                     2 * I, 4 * I - 1, 4 * I, 4 * I + 1, 129, 200};
	char path[128];
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		int n = sizes[t];
		snprintf(path, sizeof(path), "%s/sst-%016zu.db", f->dir, t + 1);
		tkey *k = make_keys(n, NULL);
		write_sst(path, k, n, 0);
		check_sst(path, k, n, 0);
		free(k);
	}
}

/* Groups larger than an iterator's read window: read as index block, then partitions. */
static void test_sstable_large_groups(void **state)
{
	fx *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/sst-0000000000000001.db", f->dir);
	int n = 2 * (int)STORE_SSTABLE_INTERVAL + 5;
	size_t vlen = (300u << 10) / STORE_SSTABLE_INTERVAL; /* a full group > 256 KiB */
	tkey *k = make_keys(n, NULL);
	write_sst(path, k, n, vlen);
	check_sst(path, k, n, vlen);
	free(k);
}

/*
 * Equal tokens (Murmur3 collisions) across group boundaries: the sample has only tokens,
 * so seeks and lookups must start in the group before when it ends with their token, and
 * go on into the next groups while they start with it. Runs of equal tokens here start
 * inside groups, exactly at group starts, and span several groups.
 */
static void test_sstable_equal_tokens(void **state)
{
	fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/sst-0000000000000001.db", f->dir);
	const int I = (int)STORE_SSTABLE_INTERVAL;
	/* With I = 32, runs start at 0, 40, 64 (a group start), 96 (one), 97, 128 (one),
	 * 160 (one; spans into the next group), 193, 203 (spans three groups). */
	const int runs[] = {I + 8, I - 8, I, 1, I - 1, I, I + 1, 10, 3 * I + 5};
	const int nruns = (int)(sizeof(runs) / sizeof(runs[0]));
	int first[16], n = 0;
	for (int r = 0; r < nruns; r++) {
		first[r] = n;
		n += runs[r];
	}
	first[nruns] = n;
	tkey *k = make_keys(n, runs);
	write_sst(path, k, n, 0);
	store_sstable *s = store_sstable_open(path, err, sizeof(err));
	assert_non_null(s);
	store_sstable_iter *it = store_sstable_iter_new(s);
	seek_to(it, INT64_MIN, NULL, 0);
	for (int i = 0; i < n; i++) {
		check_at(it, k, n, i);
		assert_int_equal(store_sstable_iter_next(it, err, sizeof(err)), 0);
	}
	check_at(it, k, n, n);
	for (int t = 0; t < nruns; t++) {
		seek_to(it, t, NULL, 0);
		check_at(it, k, n, first[t]);
		seek_to(it, t, NULL, 1);
		check_at(it, k, n, first[t + 1]);
	}
	brook_arena a = BROOK_ARENA_INIT;
	store_part p;
	for (int i = 0; i < n; i++) {
		int64_t t = k[i].token;
		seek_to(it, t, k[i].pk, 0);
		check_at(it, k, n, i);
		seek_to(it, t, k[i].pk, 1);
		check_at(it, k, n, i + 1);
		/* Under the next run's token this pk sorts before the whole run (its number
		 * is lower): absent, and a seek lands on the run's first key. */
		if (t + 1 < nruns) {
			assert_int_equal(store_sstable_get(s, t + 1, (const uint8_t *)k[i].pk,
			                                   k[i].pklen, &a, &p, err, sizeof(err)),
			                 0);
			seek_to(it, t + 1, k[i].pk, 0);
			check_at(it, k, n, first[t + 1]);
		}
		/* After a run's last key, the next key's pk under the run's token: absent,
		 * at the end of a walk through every group of the run. */
		if (i + 1 < n && k[i + 1].token != t) {
			assert_int_equal(store_sstable_get(s, t, (const uint8_t *)k[i + 1].pk,
			                                   k[i + 1].pklen, &a, &p, err,
			                                   sizeof(err)),
			                 0);
			seek_to(it, t, k[i + 1].pk, 0);
			check_at(it, k, n, i + 1);
		}
		/* Present: the walk finds its entry, whose partition then fails the read's
		 * check that a partition's token is its key's (these tokens are made up). */
		err[0] = 0;
		assert_int_equal(store_sstable_get(s, t, (const uint8_t *)k[i].pk, k[i].pklen, &a,
		                                   &p, err, sizeof(err)),
		                 -1);
		assert_non_null(strstr(err, "does not match its index entry"));
	}
	brook_arena_release(&a);
	store_sstable_iter_free(it);
	store_sstable_close(s);
	free(k);
}

/* The summary's groups: (index block offset, length), read as the format says. */
static size_t sst_groups(const char *path, uint64_t *off, uint64_t *len, size_t max,
                         uint64_t *sum_off)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	static uint8_t b[1 << 20];
	size_t n = fread(b, 1, sizeof(b), fp);
	fclose(fp);
	assert_true(n > 80 && n < sizeof(b));
	const uint8_t *foot = b + n - 72;
	*sum_off = brook_be_get(foot + 8, 8);
	const uint8_t *q = b + *sum_off;
	size_t ngroups = brook_be_get(q + 12, 4);
	q += 16;
	uint64_t at = 8;
	assert_true(ngroups <= max);
	for (size_t g = 0; g < ngroups; g++) {
		uint64_t v[2];
		q += 9; /* token, flags */
		for (int j = 0; j < 2; j++) {
			v[j] = 0;
			for (int sh = 0;; sh += 7) {
				v[j] |= (uint64_t)(*q & 0x7F) << sh;
				if (!(*q++ & 0x80))
					break;
			}
		}
		off[g] = at + v[0];
		len[g] = v[1];
		at = off[g] + len[g];
	}
	return ngroups;
}

/*
 * A flipped byte in an index block: open (which reads no index block) succeeds, lookups
 * in other groups work, lookups and walks through that group report corruption. In the
 * summary: open refuses the file.
 */
static void test_sstable_corrupt_index_block(void **state)
{
	fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/sst-0000000000000001.db", f->dir);
	int n = 3 * (int)STORE_SSTABLE_INTERVAL;
	tkey *k = make_keys(n, NULL);
	write_sst(path, k, n, 0);
	uint64_t off[8], len[8], sum_off;
	assert_int_equal(sst_groups(path, off, len, 8, &sum_off), 3);
	flip_at(path, (off_t)(off[1] + len[1] / 2));
	store_sstable *s = store_sstable_open(path, err, sizeof(err));
	assert_non_null(s);
	brook_arena a = BROOK_ARENA_INIT;
	store_part p;
	const int I = (int)STORE_SSTABLE_INTERVAL;
	for (int i = 0; i < n; i++) {
		int rc = store_sstable_get(s, k[i].token, (const uint8_t *)k[i].pk, k[i].pklen, &a,
		                           &p, err, sizeof(err));
		if (i / I == 1) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "corrupt (index block fails its checksum"));
		} else {
			assert_int_equal(rc, 1);
		}
	}
	store_sstable_iter *it = store_sstable_iter_new(s);
	seek_to(it, INT64_MIN, NULL, 0);
	int rc = 0, walked = 0;
	while (rc == 0 && store_sstable_iter_key(it, &p.token, &p.pk, &p.pklen)) {
		walked++;
		rc = store_sstable_iter_next(it, err, sizeof(err));
	}
	assert_int_equal(rc, -1);
	assert_int_equal(walked, I);
	assert_int_equal(store_sstable_iter_seek(it, k[I + 3].token, (const uint8_t *)k[I + 3].pk,
	                                         k[I + 3].pklen, 0, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "corrupt"));
	store_sstable_iter_free(it);
	store_sstable_close(s);
	flip_at(path, (off_t)(off[1] + len[1] / 2));
	/* The summary is checked at open. */
	flip_at(path, (off_t)(sum_off + 20));
	assert_null(store_sstable_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "corrupt"));
	flip_at(path, (off_t)(sum_off + 20));
	s = store_sstable_open(path, err, sizeof(err));
	assert_non_null(s);
	store_sstable_close(s);
	brook_arena_release(&a);
	free(k);
}

/* What an open sstable keeps in memory: about 2 bytes per partition, not its index. */
static void test_sstable_memory(void **state)
{
	fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/sst-0000000000000001.db", f->dir);
	int n = 4000;
	tkey *k = make_keys(n, NULL);
	write_sst(path, k, n, 0);
	store_sstable *s = store_sstable_open(path, err, sizeof(err));
	assert_non_null(s);
	size_t mem = store_sstable_memory(s);
	assert_true(mem < (size_t)n * 3);
	assert_true(mem > (size_t)n); /* the bloom filter's 10 bits per key at least */
	store_sstable_close(s);
	free(k);
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
	/* A memtable big enough that replaying the log starts no flush: a flush's own .tmp
	 * would otherwise race with the count (seen under valgrind). */
	f->o.memtable_bytes = 64u << 20;
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

/* Flushes one sstable of n keys "<prefix><i>". */
static void flush_keys(fx *f, const char *prefix, int n)
{
	for (int i = 0; i < n; i++)
		put_key(f, prefix, i);
	flush(f);
}

static void idle_stats(fx *f, store_engine_stats *st)
{
	char err[256];
	assert_int_equal(store_engine_wait_idle(f->e, err, sizeof(err)), 0);
	store_engine_get_stats(f->e, st);
}

/*
 * COMPACTION is size-tiered: two equal sstables (threshold 2) merge into one twice as
 * big, which a new small one does not join; the next small one completes a tier of
 * small ones, whose output then completes a tier with the big one.
 */
static void test_compaction_size_tiers(void **state)
{
	fx *f = *state;
	f->o.compact_threshold = 2;
	f->o.compact_small_bytes = 1; /* every sstable is "big": no small-tier shortcut */
	reopen(f);
	store_engine_stats st;
	flush_keys(f, "a", 60);
	flush_keys(f, "b", 60);
	idle_stats(f, &st);
	assert_int_equal(st.compactions, 1);
	assert_int_equal(st.sstables, 1);
	flush_keys(f, "c", 60); /* half the size of the first output: a tier of its own */
	idle_stats(f, &st);
	assert_int_equal(st.compactions, 1);
	assert_int_equal(st.sstables, 2);
	flush_keys(f, "d", 60); /* c + d, then (a + b) + (c + d) */
	idle_stats(f, &st);
	assert_int_equal(st.compactions, 3);
	assert_int_equal(st.sstables, 1);
	check_keys(f, "a", 0, 60);
	check_keys(f, "b", 0, 60);
	check_keys(f, "c", 0, 60);
	check_keys(f, "d", 0, 60);
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

/* ---- fuzz seeds (hand-run, not a test) ----
 *
 * BROOK_STORE_FUZZ_SEEDS=tests/fuzz/corpus/sstable ./test_store_engine writes the
 * sstable seeds of tests/fuzz/fuzz_sstable.c's corpus in the current format: valid
 * files (rich partitions, several groups, no partitions, equal tokens across groups)
 * and damaged ones (a flipped byte in data, an index block, the summary, the footer;
 * truncated; header or footer alone).
 */
static void seed_write(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp || (n && fwrite(p, 1, n, fp) != n) || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	printf("%s: %zu bytes\n", path, n);
}

static uint8_t *seed_read(const char *path, size_t *n)
{
	brook_buf b = BROOK_BUF_INIT;
	if (brook_file_read(path, 1u << 20, &b) != 0) {
		perror(path);
		exit(1);
	}
	return (uint8_t *)brook_buf_detach(&b, n);
}

/* Copies file `from` into the seed `name`, flipping the byte at `flip` (< n; or none). */
static void seed_copy(const char *dir, const char *name, const char *from, size_t flip, size_t cut)
{
	size_t n;
	uint8_t *p = seed_read(from, &n);
	if (flip < n)
		p[flip] ^= 0x20;
	seed_write(dir, name, p, n > cut ? n - cut : 0);
	free(p);
}

/* Six partitions with every kind of content: rows, TTL cells, tombstones. */
static void seed_rich(const char *path)
{
	char err[256];
	const char *pks[] = {"key0", "key1", "key2", "key3", "key4", "key5"};
	store_part ps[6];
	store_row rows[6][2];
	store_cell cells[6][3];
	store_rtomb rt = {
	    .b = {(const uint8_t *)"a", 1, (const uint8_t *)"c", 1, STORE_B_START_INCL},
	    .del = {1700000000000000LL, 1700000000}};
	for (int i = 0; i < 6; i++) {
		cells[i][0] =
		    (store_cell){.col = 1, .ts = 10, .value = (const uint8_t *)"hello", .vlen = 5};
		cells[i][1] = (store_cell){.col = 2,
		                           .ts = 11,
		                           .value = (const uint8_t *)"",
		                           .flags = STORE_CELL_TOMBSTONE,
		                           .ldt = 1700000000};
		cells[i][2] = (store_cell){.col = 3,
		                           .ts = 12,
		                           .value = (const uint8_t *)"ttl",
		                           .vlen = 3,
		                           .flags = STORE_CELL_EXPIRING,
		                           .ttl = 60,
		                           .ldt = 1700000060};
		rows[i][0] = (store_row){.ck = (const uint8_t *)"a",
		                         .cklen = 1,
		                         .del = nodel(),
		                         .cells = cells[i],
		                         .ncells = 3};
		rows[i][1] = (store_row){.ck = (const uint8_t *)"b",
		                         .cklen = 1,
		                         .del = {9, 1700000000},
		                         .cells = cells[i],
		                         .ncells = 1};
		ps[i] = (store_part){.pk = (const uint8_t *)pks[i],
		                     .pklen = 4,
		                     .token = store_token(pks[i], 4),
		                     .del = i == 2 ? (store_del){5, 1700000000} : nodel(),
		                     .rts = i % 2 ? &rt : NULL,
		                     .nrts = i % 2 ? 1 : 0,
		                     .rows = rows[i],
		                     .nrows = i == 4 ? 1 : 2};
	}
	for (int i = 0; i < 6; i++)
		for (int j = i + 1; j < 6; j++)
			if (store_pk_cmp(ps[j].token, ps[j].pk, 4, ps[i].token, ps[i].pk, 4) < 0) {
				store_part t = ps[i];
				ps[i] = ps[j];
				ps[j] = t;
			}
	store_sstable_writer *w = store_sstable_writer_new(path, 7, 6, err, sizeof(err));
	if (!w)
		exit(1);
	for (int i = 0; i < 6; i++)
		if (store_sstable_writer_add(w, &ps[i]) != 0)
			exit(1);
	uint64_t anc[2] = {3, 4};
	if (store_sstable_writer_finish(w, anc, 2, err, sizeof(err)) != 0)
		exit(1);
}

static int fuzz_seeds(const char *dir)
{
	char tmp[] = "/tmp/brook-seeds-XXXXXX", path[256];
	if (!mkdtemp(tmp))
		return 1;
	const int I = (int)STORE_SSTABLE_INTERVAL;
	uint64_t off[16], len[16], sum_off;
	/* valid */
	snprintf(path, sizeof(path), "%s/rich.db", tmp);
	seed_rich(path);
	seed_copy(dir, "sst_valid", path, SIZE_MAX, 0);
	seed_copy(dir, "sst_truncated", path, SIZE_MAX, 10);
	size_t n;
	uint8_t *p = seed_read(path, &n);
	seed_write(dir, "sst_header_only", p, 8);
	seed_write(dir, "sst_footer_only", p + n - 72, 72);
	free(p);
	snprintf(path, sizeof(path), "%s/empty.db", tmp);
	write_sst(path, NULL, 0, 0);
	seed_copy(dir, "sst_empty", path, SIZE_MAX, 0);
	snprintf(path, sizeof(path), "%s/groups.db", tmp);
	tkey *k = make_keys(3 * I + 4, NULL);
	write_sst(path, k, 3 * I + 4, 3);
	free(k);
	seed_copy(dir, "sst_groups", path, SIZE_MAX, 0);
	/* damaged: in group 1's data, group 2's index block, the summary, the footer */
	assert_int_equal(sst_groups(path, off, len, 16, &sum_off), 4);
	seed_copy(dir, "sst_bad_data", path, (size_t)off[0] + len[0] + 5, 0);
	seed_copy(dir, "sst_bad_index", path, (size_t)(off[2] + len[2] / 2), 0);
	seed_copy(dir, "sst_bad_summary", path, (size_t)sum_off + 30, 0);
	p = seed_read(path, &n);
	free(p);
	seed_copy(dir, "sst_bad_footer", path, n - 30, 0);
	/* equal tokens across groups (a group larger than an iterator's window would take
	 * 256 KiB: test_sstable_large_groups has it) */
	snprintf(path, sizeof(path), "%s/equal.db", tmp);
	const int runs[] = {I + 8, I - 8, I, 1, 2 * I};
	k = make_keys(5 * I + 1, runs);
	write_sst(path, k, 5 * I + 1, 0);
	free(k);
	seed_copy(dir, "sst_equal_tokens", path, SIZE_MAX, 0);
	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- hand-run measurement (not a test) ----
 *
 * BROOK_STORE_MEMBENCH=ROWS [BROOK_STORE_MEMBENCH_DIR=DIR] ./test_store_engine
 * runs only this: writes ROWS created_users-shaped partitions (a 16-byte uuid key, the
 * row marker and 11 short text columns, ~300 bytes) through store_engine_write in
 * batches of 100, periodic sync mode, memtable_bytes = 16 MiB, default compaction
 * threshold; then flushes, compacts, waits until idle and prints RssAnon
 * (/proc/self/status) at each step, the peak seen while loading, rows/s, random point
 * reads/s (store_engine_read) of present and absent keys, RssAnon 1.5 s later (idle)
 * and malloc's view of it. It asserts nothing.
 */
static long rss_anon_kib(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "RssAnon: %ld kB", &v) == 1)
			break;
	fclose(fp);
	return v;
}

/* malloc's view: bytes in use (heap + mmap) and heap bytes free but kept. */
static void print_malloc(const char *when)
{
	struct mallinfo2 mi = mallinfo2();
	printf("  malloc %s: in use %zu KiB (mmapped %zu KiB), free but kept %zu KiB\n", when,
	       (mi.uordblks + mi.hblkhd) >> 10, mi.hblkhd >> 10, mi.fordblks >> 10);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A deterministic uuid-like key for row i (distinct for distinct i). */
static void bench_key(uint64_t i, uint8_t out[16])
{
	uint64_t h[2];
	store_murmur3_x64_128(&i, sizeof(i), 12345, h);
	for (int k = 0; k < 8; k++) {
		out[k] = (uint8_t)(h[0] >> (8 * k));
		out[8 + k] = (uint8_t)(i >> (8 * (7 - k)));
	}
}

static int count_rows(void *ctx, const store_part *p, const store_row *r)
{
	(void)p;
	(void)r;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int membench(long rows)
{
	enum { BATCH = 100, NCOL = 11 };
	char dir[256], err[512];
	const char *d = getenv("BROOK_STORE_MEMBENCH_DIR");
	snprintf(dir, sizeof(dir), "%s/brook-membench-XXXXXX", d ? d : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	brook_log_set_level(BROOK_LOG_WARN);
	store_engine_opts o;
	store_engine_opts_default(&o);
	o.memtable_bytes = 16u << 20;
	o.sync_mode = STORE_SYNC_PERIODIC;
	store_engine *e;
	if (store_engine_open(dir, &o, &e, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	printf("membench: %ld rows, memtable_bytes 16 MiB, dir %s\n", rows, dir);
	printf("RssAnon at start: %ld KiB\n", rss_anon_kib());
	static uint8_t keys[BATCH][16];
	static char vals[BATCH][NCOL][64];
	static store_cell cells[BATCH][NCOL + 1];
	static store_row rws[BATCH];
	static store_part parts[BATCH];
	long peak = 0;
	double t0 = mono_s();
	for (long i = 0; i < rows;) {
		int n = 0;
		for (; n < BATCH && i < rows; n++, i++) {
			int64_t ts = 1700000000000000LL + i;
			bench_key((uint64_t)i, keys[n]);
			int len[NCOL];
			len[0] = snprintf(vals[n][0], 64, "First%ld", i);
			len[1] = snprintf(vals[n][1], 64, "O'Brien-%ld", i);
			len[2] = snprintf(vals[n][2], 64, "%s", i % 2 ? "female" : "male");
			len[3] = snprintf(vals[n][3], 64, "%ld Rue de l'Eglise, Zurich", i);
			len[4] = snprintf(vals[n][4], 64, "80%03ld", i % 1000);
			len[5] = snprintf(vals[n][5], 64, "user%ld@example.com", i);
			len[6] = snprintf(vals[n][6], 64, "user_%ld", i);
			len[7] =
			    snprintf(vals[n][7], 64, "1990-01-%02ldT10:00:00.000Z", i % 28 + 1);
			len[8] = snprintf(vals[n][8], 64, "2015-06-01T00:00:00.000Z");
			len[9] = snprintf(vals[n][9], 64, "(555) 010-%04ld", i % 10000);
			len[10] =
			    snprintf(vals[n][10], 64,
			             "https://randomuser.me/api/portraits/women/%ld.jpg", i % 100);
			for (int c = 0; c < NCOL; c++)
				cells[n][c] = (store_cell){.col = (uint16_t)c,
				                           .ts = ts,
				                           .value = (const uint8_t *)vals[n][c],
				                           .vlen = (uint32_t)len[c]};
			cells[n][NCOL] = (store_cell){
			    .col = STORE_COL_MARKER, .ts = ts, .value = (const uint8_t *)""};
			rws[n] = (store_row){.ck = (const uint8_t *)"",
			                     .del = nodel(),
			                     .cells = cells[n],
			                     .ncells = NCOL + 1};
			parts[n] = (store_part){.pk = keys[n],
			                        .pklen = 16,
			                        .del = nodel(),
			                        .rows = &rws[n],
			                        .nrows = 1};
		}
		if (store_engine_write(e, parts, (size_t)n, err, sizeof(err)) != 0) {
			fprintf(stderr, "write: %s\n", err);
			return 1;
		}
		if (i % 20000 == 0) {
			long r = rss_anon_kib();
			if (r > peak)
				peak = r;
		}
	}
	double t1 = mono_s();
	printf("loaded: %.0f rows/s; RssAnon %ld KiB, peak seen while loading %ld KiB\n",
	       (double)rows / (t1 - t0), rss_anon_kib(), peak);
	if (store_engine_flush(e, err, sizeof(err)) != 0 ||
	    store_engine_wait_idle(e, err, sizeof(err)) != 0) {
		fprintf(stderr, "flush: %s\n", err);
		return 1;
	}
	store_engine_stats st;
	store_engine_get_stats(e, &st);
	printf("flushed (%.1f s): RssAnon %ld KiB; %" PRIu64 " sstables, %" PRIu64 " MiB, %" PRIu64
	       " compactions\n",
	       mono_s() - t1, rss_anon_kib(), st.sstables, st.sstable_bytes >> 20, st.compactions);
	double t2 = mono_s();
	if (store_engine_compact(e, err, sizeof(err)) != 0) {
		fprintf(stderr, "compact: %s\n", err);
		return 1;
	}
	store_engine_get_stats(e, &st);
	printf("compacted (%.1f s): RssAnon %ld KiB; %" PRIu64 " sstables, %" PRIu64 " MiB\n",
	       mono_s() - t2, rss_anon_kib(), st.sstables, st.sstable_bytes >> 20);
	long nreads = rows < 200000 ? rows : 200000;
	uint64_t found = 0, seed = 88172645463325252ULL;
	store_read_opts ro = {.range.flags = STORE_B_START_UNBOUNDED | STORE_B_END_UNBOUNDED};
	double t3 = mono_s();
	for (long k = 0; k < nreads; k++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		uint8_t key[16];
		bench_key(seed % (uint64_t)rows, key);
		if (store_engine_read(e, key, 16, &ro, count_rows, &found, err, sizeof(err)) != 0) {
			fprintf(stderr, "read: %s\n", err);
			return 1;
		}
	}
	double t4 = mono_s();
	uint64_t absent = 0;
	for (long k = 0; k < nreads; k++) {
		uint8_t key[16];
		bench_key((uint64_t)rows + (uint64_t)k, key);
		store_engine_read(e, key, 16, &ro, count_rows, &absent, err, sizeof(err));
	}
	double t5 = mono_s();
	printf("point reads: %.0f/s present (%" PRIu64 "/%ld found), %.0f/s absent (%" PRIu64
	       " found)\n",
	       (double)nreads / (t4 - t3), found, nreads, (double)nreads / (t5 - t4), absent);
	printf("after load, flush, compact and reads: RssAnon %ld KiB\n", rss_anon_kib());
	usleep(1500 * 1000); /* the flusher trims after a second without a flush */
	printf("idle 1.5 s later: RssAnon %ld KiB\n", rss_anon_kib());
	print_malloc("idle");
	malloc_trim(0);
	printf("  after malloc_trim(0): RssAnon %ld KiB\n", rss_anon_kib());
	store_engine_close(e);
	printf("closed: RssAnon %ld KiB\n", rss_anon_kib());
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const char *mb = getenv("BROOK_STORE_MEMBENCH");
	if (mb)
		return membench(atol(mb));
	const char *seeds = getenv("BROOK_STORE_FUZZ_SEEDS");
	if (seeds)
		return fuzz_seeds(seeds);
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
	    cmocka_unit_test_setup_teardown(test_sstable_sampled_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sstable_large_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sstable_equal_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sstable_corrupt_index_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sstable_memory, setup, teardown),
	    cmocka_unit_test(test_merge_is_idempotent),
	    cmocka_unit_test_setup_teardown(test_sigkill_recovery, setup, teardown),
	    cmocka_unit_test(test_memtable_index),
	    cmocka_unit_test_setup_teardown(test_writes_continue_during_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abandon_mid_flush, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abandon_mid_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_failure_and_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_waits_for_outside_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compaction_size_tiers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_flush_and_compaction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
