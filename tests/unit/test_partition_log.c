/* Unit tests for broker/log (one partition's log): append/read across rolls, indexes,
 * time lookup, DeleteRecords, retention, compaction, idempotence, group commit, recovery.
 * (tests/unit/test_log.c is core/log, the logger.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log.h"
#include "broker/producer_state.h"
#include "core/log.h"
#include "kafka/batch.h"
#include "kafka/compress.h"

#define T0 1700000000000LL

static char dir[64];

static int setup(void **state)
{
	(void)state;
	brook_log_set_level(BROOK_LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/brook-plog-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(broker_log_remove_dir(dir), 0);
	return 0;
}

static broker_log_config small_cfg(void)
{
	broker_log_config c;
	broker_log_config_defaults(&c);
	c.segment_bytes = 2000;
	c.index_interval_bytes = 300;
	return c;
}

static broker_log *open_log(const broker_log_config *c)
{
	char err[256] = "";
	broker_log *l = broker_log_open(dir, c, err, sizeof(err));
	if (!l)
		fail_msg("open: %s", err);
	return l;
}

/* A batch of n records, record i: key "k<key0+i>", value "v<first+i>", ts t0 + i. */
static uint8_t *mk(int n, int key0, int64_t t0, int codec, size_t *len)
{
	kafka_batch_builder b;
	kafka_batch_builder_init(&b, 0, t0);
	for (int i = 0; i < n; i++) {
		char k[16], v[32];
		snprintf(k, sizeof(k), "k%d", key0 + i);
		snprintf(v, sizeof(v), "value-%d", key0 + i);
		kafka_batch_builder_add(&b, -1, t0 + i, k, (int32_t)strlen(k), v,
					(int32_t)strlen(v), NULL, 0);
	}
	return kafka_batch_builder_finish(&b, codec, len);
}

static int64_t append(broker_log *l, uint8_t *p, size_t len, int64_t now)
{
	int64_t base;
	bool dup;
	assert_int_equal(broker_log_append(l, p, len, now, &base, &dup), 0);
	assert_false(dup);
	return base;
}

static void append_n(broker_log *l, int batches, int per, int64_t t0)
{
	for (int i = 0; i < batches; i++) {
		size_t len;
		uint8_t *p = mk(per, i * per, t0 + i * per, 0, &len);
		int64_t expect = broker_log_end_offset(l);
		assert_int_equal(append(l, p, len, t0), expect);
		free(p);
	}
}

/* Reads a slice into memory and checks it holds whole valid batches; returns count of
 * records and the first/last offsets. */
static int slice_records(const broker_log_slice *s, int64_t *first, int64_t *last)
{
	uint8_t *buf = malloc(s->len ? s->len : 1);
	assert_int_equal(pread(s->fd, buf, s->len, s->pos), (ssize_t)s->len);
	size_t pos = 0;
	int count = 0;
	*first = *last = -1;
	while (pos < s->len) {
		kafka_batch_hdr h;
		assert_int_equal(kafka_batch_parse_hdr(buf + pos, s->len - pos, &h), 0);
		size_t bl = kafka_batch_total_size(&h);
		assert_true(bl <= s->len - pos);
		kafka_batch_limits lim = {0, 0, false};
		char why[200];
		assert_int_equal(kafka_batch_validate(buf + pos, bl, &lim, NULL, why, sizeof(why)),
				 0);
		kafka_record_iter it;
		kafka_record r;
		assert_int_equal(kafka_record_iter_init(&it, buf + pos, bl, 0, false), 0);
		while (kafka_record_iter_next(&it, &r) == 1) {
			if (*first < 0)
				*first = r.offset;
			assert_true(r.offset > *last);
			*last = r.offset;
			count++;
		}
		kafka_record_iter_release(&it);
		pos += bl;
	}
	free(buf);
	return count;
}

static void test_append_read_rolls(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	broker_log *l = open_log(&c);
	assert_int_equal(broker_log_end_offset(l), 0);
	append_n(l, 60, 3, T0);
	assert_int_equal(broker_log_end_offset(l), 180);
	assert_true(broker_log_segment_count(l) >= 3);
	for (int64_t o = 0; o < 180; o++) {
		broker_log_slice s;
		assert_int_equal(broker_log_read(l, o, 1, INT64_MAX, &s), 0);
		assert_true(s.len > 0);
		int64_t first, last;
		assert_int_equal(slice_records(&s, &first, &last), 3); /* exactly one batch */
		assert_true(first <= o && o <= last);
		assert_int_equal(s.first_offset, first);
		broker_log_slice_release(&s);
	}
	/* large reads return several whole batches, never past upto */
	broker_log_slice s;
	assert_int_equal(broker_log_read(l, 4, 1000, 30, &s), 0);
	int64_t first, last;
	int n = slice_records(&s, &first, &last);
	assert_int_equal(first, 3);
	assert_true(last < 30);
	assert_true(n >= 6);
	broker_log_slice_release(&s);
	/* nothing at the LEO, out of range past it */
	assert_int_equal(broker_log_read(l, 180, 1000, INT64_MAX, &s), 0);
	assert_int_equal(s.len, 0);
	broker_log_slice_release(&s);
	assert_int_equal(broker_log_read(l, 181, 1000, INT64_MAX, &s),
			 BROKER_LOG_ERR_OFFSET_OUT_OF_RANGE);
	/* reopen: same offsets, indexes reused */
	broker_log_close(l);
	l = open_log(&c);
	assert_int_equal(broker_log_end_offset(l), 180);
	assert_int_equal(broker_log_read(l, 100, 1, INT64_MAX, &s), 0);
	assert_int_equal(slice_records(&s, &first, &last), 3);
	assert_int_equal(first, 99);
	broker_log_slice_release(&s);
	broker_log_close(l);
}

static void test_offset_for_time(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	broker_log *l = open_log(&c);
	append_n(l, 40, 5, T0); /* record o has timestamp T0 + o */
	assert_int_equal(broker_log_offset_for_time(l, T0), 0);
	assert_int_equal(broker_log_offset_for_time(l, T0 + 77), 77);
	assert_int_equal(broker_log_offset_for_time(l, T0 + 199), 199);
	assert_int_equal(broker_log_offset_for_time(l, T0 + 200), -1);
	assert_int_equal(broker_log_offset_for_time(l, 0), 0);
	int64_t ts, off;
	broker_log_max_timestamp(l, &ts, &off);
	assert_int_equal(ts, T0 + 199);
	assert_int_equal(off, 199);
	broker_log_close(l);
}

static void test_delete_before(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	broker_log *l = open_log(&c);
	append_n(l, 30, 4, T0);
	int before = broker_log_segment_count(l);
	assert_int_equal(broker_log_delete_before(l, 61), 0);
	assert_int_equal(broker_log_start_offset(l), 61);
	assert_true(broker_log_segment_count(l) < before);
	broker_log_slice s;
	assert_int_equal(broker_log_read(l, 60, 100, INT64_MAX, &s),
			 BROKER_LOG_ERR_OFFSET_OUT_OF_RANGE);
	assert_int_equal(broker_log_offset_for_time(l, T0), 61);
	assert_int_equal(broker_log_delete_before(l, 1000), BROKER_LOG_ERR_OFFSET_OUT_OF_RANGE);
	broker_log_close(l);
	l = open_log(&c);
	assert_int_equal(broker_log_start_offset(l), 61);
	assert_int_equal(broker_log_end_offset(l), 120);
	/* everything */
	assert_int_equal(broker_log_delete_before(l, -1), 0);
	assert_int_equal(broker_log_start_offset(l), 120);
	assert_int_equal(broker_log_segment_count(l), 1);
	append_n(l, 1, 2, T0);
	assert_int_equal(broker_log_end_offset(l), 122);
	broker_log_close(l);
}

static void test_retention(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	c.retention_bytes = 3000;
	broker_log *l = open_log(&c);
	append_n(l, 60, 3, T0);
	int64_t size = broker_log_size_bytes(l);
	assert_true(size > 3000);
	broker_log_maintain(l, T0);
	assert_true(broker_log_size_bytes(l) < size);
	assert_true(broker_log_size_bytes(l) >= 3000 - 2000);
	assert_true(broker_log_start_offset(l) > 0);
	assert_int_equal(broker_log_end_offset(l), 180);
	/* a slice held across retention stays readable */
	broker_log_slice s;
	int64_t start = broker_log_start_offset(l);
	assert_int_equal(broker_log_read(l, start, 1, INT64_MAX, &s), 0);
	/* time: everything older than 1 s at T0 + 1 day goes, except the active segment,
	 * which is rolled first */
	c.retention_bytes = -1;
	c.retention_ms = 1000;
	broker_log_set_config(l, &c);
	broker_log_maintain(l, T0 + 86400000);
	assert_int_equal(broker_log_segment_count(l), 1);
	assert_int_equal(broker_log_start_offset(l), 180);
	assert_int_equal(broker_log_end_offset(l), 180);
	int64_t f, la;
	assert_int_equal(slice_records(&s, &f, &la), 3);
	assert_int_equal(f, start);
	broker_log_slice_release(&s);
	broker_log_close(l);
}

static void test_compaction(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	c.compact = true;
	c.delete_retention_ms = 1000;
	broker_log *l = open_log(&c);
	/* 5 keys, each written 20 times; value = round */
	for (int round = 0; round < 20; round++) {
		kafka_batch_builder b;
		kafka_batch_builder_init(&b, 0, T0 + round);
		for (int k = 0; k < 5; k++) {
			char key[16], v[16];
			snprintf(key, sizeof(key), "key%d", k);
			snprintf(v, sizeof(v), "r%d", round);
			kafka_record_header h = {(const uint8_t *)"h", 1, (const uint8_t *)"x", 1};
			/* key4 is deleted (tombstone) in the last round */
			bool tomb = k == 4 && round == 19;
			kafka_batch_builder_add(&b, -1, T0 + round, key, 4, tomb ? NULL : v,
						(int32_t)strlen(v), &h, 1);
		}
		size_t len;
		uint8_t *p = kafka_batch_builder_finish(&b, round % 2 ? KAFKA_COMPRESSION_ZSTD : 0,
							&len);
		append(l, p, len, T0);
		free(p);
	}
	/* seal the last batch so it is compactable */
	size_t len;
	uint8_t *p = mk(1, 100, T0 + 50, 0, &len);
	append(l, p, len, T0);
	free(p);
	c.segment_ms = 50; /* the maintain below rolls, so everything is compactable */
	broker_log_set_config(l, &c);
	broker_log_maintain(l, T0 + 100); /* younger than delete.retention.ms */
	int64_t leo = broker_log_end_offset(l);
	assert_int_equal(leo, 101);
	/* scan everything: each key's latest value survives at its original offset */
	int seen[6] = {0};
	int total = 0;
	bool tomb_seen = false;
	for (int64_t o = 0; o < leo;) {
		broker_log_slice s;
		assert_int_equal(broker_log_read(l, o, 1 << 20, INT64_MAX, &s), 0);
		if (s.len == 0)
			break;
		uint8_t *buf = malloc(s.len);
		assert_int_equal(pread(s.fd, buf, s.len, s.pos), (ssize_t)s.len);
		size_t pos = 0;
		int64_t last = o;
		while (pos < s.len) {
			kafka_batch_hdr h;
			kafka_batch_parse_hdr(buf + pos, s.len - pos, &h);
			kafka_record_iter it;
			kafka_record r;
			assert_int_equal(kafka_record_iter_init(&it, buf + pos,
								kafka_batch_total_size(&h), 0,
								false),
					 0);
			while (kafka_record_iter_next(&it, &r) == 1) {
				if (r.offset < o)
					continue;
				total++;
				int k = r.key[3] - '0';
				if (r.key_len == 4 && memcmp(r.key, "key", 3) == 0) {
					seen[k]++;
					assert_int_equal(r.offset, 95 + k);
					assert_int_equal(r.headers_count, 1);
					if (k == 4) {
						assert_null(r.value);
						tomb_seen = true;
					} else {
						assert_memory_equal(r.value, "r19", 3);
					}
				}
			}
			kafka_record_iter_release(&it);
			last = kafka_batch_last_offset(&h) + 1;
			pos += kafka_batch_total_size(&h);
		}
		free(buf);
		broker_log_slice_release(&s);
		o = last;
	}
	for (int k = 0; k < 5; k++)
		assert_int_equal(seen[k], 1);
	assert_true(tomb_seen);
	assert_int_equal(total, 6);
	/* the tombstone goes once older than delete.retention.ms (after another roll) */
	p = mk(1, 200, T0 + 60, 0, &len);
	append(l, p, len, T0);
	free(p);
	c.segment_ms = 1;
	broker_log_set_config(l, &c);
	broker_log_maintain(l, T0 + 100000);
	assert_int_equal(broker_log_offset_for_time(l, T0 + 19), 95);
	broker_log_slice s;
	assert_int_equal(broker_log_read(l, 99, 100, INT64_MAX, &s), 0);
	int64_t f, la;
	slice_records(&s, &f, &la);
	assert_true(f != 99); /* the tombstone at 99 is gone */
	broker_log_slice_release(&s);
	broker_log_close(l);
	/* reopen after compaction: offsets still right */
	l = open_log(&c);
	assert_int_equal(broker_log_end_offset(l), 102);
	broker_log_close(l);
}

static uint8_t *mk_idem(int64_t pid, int16_t epoch, int32_t seq, int n, size_t *len)
{
	kafka_batch_builder b;
	kafka_batch_builder_init(&b, 0, T0);
	kafka_batch_builder_set_producer(&b, pid, epoch, seq);
	for (int i = 0; i < n; i++)
		kafka_batch_builder_add(&b, -1, T0, "k", 1, "v", 1, NULL, 0);
	return kafka_batch_builder_finish(&b, 0, len);
}

static int16_t idem_append(broker_log *l, int64_t pid, int16_t epoch, int32_t seq, int n,
			   int64_t *base, bool *dup)
{
	size_t len;
	uint8_t *p = mk_idem(pid, epoch, seq, n, &len);
	int16_t e = broker_log_append(l, p, len, T0, base, dup);
	free(p);
	return e;
}

static void test_idempotence(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	broker_log *l = open_log(&c);
	int64_t base;
	bool dup;
	int64_t bases[8];
	for (int i = 0; i < 8; i++) {
		assert_int_equal(idem_append(l, 7, 0, i * 2, 2, &bases[i], &dup), 0);
		assert_false(dup);
	}
	/* retries of the last 5 answer the original offsets */
	for (int i = 3; i < 8; i++) {
		assert_int_equal(idem_append(l, 7, 0, i * 2, 2, &base, &dup), 0);
		assert_true(dup);
		assert_int_equal(base, bases[i]);
	}
	assert_int_equal(broker_log_end_offset(l), 16);
	/* older than the last 5: out of order; a gap: out of order */
	assert_int_equal(idem_append(l, 7, 0, 2, 2, &base, &dup),
			 BROKER_LOG_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	assert_int_equal(idem_append(l, 7, 0, 17, 1, &base, &dup),
			 BROKER_LOG_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	/* an older epoch is fenced; a new epoch must start at 0 */
	assert_int_equal(idem_append(l, 7, 1, 5, 1, &base, &dup),
			 BROKER_LOG_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	assert_int_equal(idem_append(l, 7, 1, 0, 1, &base, &dup), 0);
	assert_int_equal(idem_append(l, 7, 0, 16, 1, &base, &dup),
			 BROKER_LOG_ERR_INVALID_PRODUCER_EPOCH);
	/* another producer is independent; an unknown producer may start anywhere */
	assert_int_equal(idem_append(l, 8, 3, 40, 1, &base, &dup), 0);
	assert_int_equal(broker_log_producer_epoch(l, 7), 1);
	assert_int_equal(broker_log_max_producer_id(l), 8);
	/* state survives a clean close/open ... */
	broker_log_close(l);
	l = open_log(&c);
	assert_int_equal(idem_append(l, 7, 1, 0, 1, &base, &dup), 0);
	assert_true(dup);
	assert_int_equal(base, 16);
	assert_int_equal(idem_append(l, 8, 3, 42, 1, &base, &dup),
			 BROKER_LOG_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	assert_int_equal(idem_append(l, 8, 3, 41, 1, &base, &dup), 0);
	assert_false(dup);
	broker_log_close(l);
	/* ... and a crash (no snapshot): rebuilt from the batch headers */
	char sp[128];
	snprintf(sp, sizeof(sp), "%s/producer.snapshot", dir);
	assert_int_equal(unlink(sp), 0);
	l = open_log(&c);
	assert_int_equal(idem_append(l, 8, 3, 41, 1, &base, &dup), 0);
	assert_true(dup);
	assert_int_equal(broker_log_producer_epoch(l, 7), 1);
	broker_log_close(l);
}

static void test_group_commit(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	broker_log *l = open_log(&c);
	broker_flush_job job;
	assert_false(broker_log_flush_begin(l, &job));
	append_n(l, 2, 2, T0);
	assert_int_equal(broker_log_durable_offset(l), 0);
	assert_true(broker_log_flush_begin(l, &job));
	append_n(l, 1, 2, T0); /* arrives while the job runs: not covered */
	assert_int_equal(broker_flush_job_run(&job), 0);
	broker_log_flush_end(l, &job, 0);
	assert_int_equal(broker_log_durable_offset(l), 4);
	assert_int_equal(broker_log_flush_sync(l), 0);
	assert_int_equal(broker_log_durable_offset(l), 6);
	/* a failed job does not advance */
	append_n(l, 1, 2, T0);
	assert_true(broker_log_flush_begin(l, &job));
	broker_flush_job_run(&job);
	broker_log_flush_end(l, &job, -1);
	assert_int_equal(broker_log_durable_offset(l), 6);
	broker_log_slice s;
	assert_int_equal(broker_log_read(l, 6, 1000, broker_log_durable_offset(l), &s), 0);
	assert_int_equal(s.len, 0);
	broker_log_close(l);
}

static void test_too_large(void **state)
{
	(void)state;
	broker_log_config c = small_cfg();
	c.max_message_bytes = 100;
	broker_log *l = open_log(&c);
	size_t len;
	uint8_t *p = mk(10, 0, T0, 0, &len);
	int64_t base;
	bool dup;
	assert_int_equal(broker_log_append(l, p, len, T0, &base, &dup),
			 BROKER_LOG_ERR_MESSAGE_TOO_LARGE);
	assert_int_equal(broker_log_end_offset(l), 0);
	free(p);
	broker_log_close(l);
}

/* ---- recovery ---- */

static char *last_segment(char *out, size_t n, const char *ext)
{
	/* the test logs use the default naming: find the largest base */
	int64_t best = -1;
	for (int64_t b = 0; b < 1000; b++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/%020lld.log", dir, (long long)b);
		if (access(p, F_OK) == 0)
			best = b;
	}
	assert_true(best >= 0);
	snprintf(out, n, "%s/%020lld%s", dir, (long long)best, ext);
	return out;
}

static off_t file_size(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

static void recovery_case(int kind)
{
	broker_log_config c = small_cfg();
	c.segment_bytes = 100000;
	broker_log *l = open_log(&c);
	append_n(l, 20, 3, T0);
	broker_log_close(l);
	char p[128];
	last_segment(p, sizeof(p), ".log");
	off_t size = file_size(p);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	size_t blen;
	uint8_t *one = mk(3, 0, T0, 0, &blen);
	free(one);
	int64_t expect_leo = 60;
	switch (kind) {
	case 0: /* truncated mid-batch */
		assert_int_equal(ftruncate(fd, size - 10), 0);
		expect_leo = 57;
		break;
	case 1: /* garbage appended */
		assert_int_equal(pwrite(fd, "garbage-garbage-garbage-garbage-garbage-garbage-"
					    "garbage-garbage-garbage",
					71, size),
				 71);
		break;
	case 2: { /* CRC of the last batch corrupted */
		uint8_t x;
		assert_int_equal(pread(fd, &x, 1, size - 5), 1);
		x ^= 1;
		assert_int_equal(pwrite(fd, &x, 1, size - 5), 1);
		expect_leo = 57;
		break;
	}
	case 3: { /* index files deleted */
		char ip[128];
		assert_int_equal(unlink(last_segment(ip, sizeof(ip), ".index")), 0);
		assert_int_equal(unlink(last_segment(ip, sizeof(ip), ".timeindex")), 0);
		break;
	}
	case 4: { /* index file garbage */
		char ip[128];
		int ifd = open(last_segment(ip, sizeof(ip), ".index"), O_WRONLY | O_TRUNC);
		assert_int_equal(write(ifd, "\xff\xff\xff\xff\x00\x00\x00\x10", 8), 8);
		close(ifd);
		break;
	}
	case 5: /* truncated inside the header of the last batch */
		assert_int_equal(ftruncate(fd, size - (off_t)blen + 30), 0);
		expect_leo = 57;
		break;
	}
	close(fd);
	l = open_log(&c);
	assert_int_equal(broker_log_end_offset(l), expect_leo);
	assert_int_equal(broker_log_durable_offset(l), expect_leo);
	/* the valid prefix is readable and the time index works */
	for (int64_t o = 0; o < expect_leo; o += 7) {
		broker_log_slice s;
		assert_int_equal(broker_log_read(l, o, 1, INT64_MAX, &s), 0);
		int64_t f, la;
		assert_int_equal(slice_records(&s, &f, &la), 3);
		assert_true(f <= o && o <= la);
		broker_log_slice_release(&s);
	}
	assert_int_equal(broker_log_offset_for_time(l, T0 + 40), 40);
	/* appends continue at the right offset */
	size_t len;
	uint8_t *b = mk(2, 500, T0, 0, &len);
	assert_int_equal(append(l, b, len, T0), expect_leo);
	free(b);
	broker_log_close(l);
	l = open_log(&c);
	assert_int_equal(broker_log_end_offset(l), expect_leo + 2);
	broker_log_close(l);
}

static void test_recovery_truncated(void **state)
{
	(void)state;
	recovery_case(0);
}
static void test_recovery_garbage(void **state)
{
	(void)state;
	recovery_case(1);
}
static void test_recovery_bad_crc(void **state)
{
	(void)state;
	recovery_case(2);
}
static void test_recovery_no_index(void **state)
{
	(void)state;
	recovery_case(3);
}
static void test_recovery_bad_index(void **state)
{
	(void)state;
	recovery_case(4);
}
static void test_recovery_truncated_header(void **state)
{
	(void)state;
	recovery_case(5);
}

static void test_pstate_snapshot_corrupt(void **state)
{
	(void)state;
	char sp[128];
	snprintf(sp, sizeof(sp), "%s/ps", dir);
	broker_pstate *ps = broker_pstate_new();
	for (int64_t pid = 0; pid < 100; pid++) {
		kafka_batch_hdr h = {0};
		h.producer_id = pid;
		h.producer_epoch = 2;
		h.base_sequence = 0;
		h.last_offset_delta = 4;
		h.base_offset = pid * 5;
		broker_pstate_update(ps, &h);
	}
	assert_int_equal(broker_pstate_save(ps, sp, 500), 0);
	broker_pstate *b = broker_pstate_new();
	int64_t off;
	assert_int_equal(broker_pstate_load(b, sp, &off), 0);
	assert_int_equal(off, 500);
	assert_int_equal(broker_pstate_count(b), 100);
	assert_int_equal(broker_pstate_epoch(b, 99), 2);
	/* a flipped byte is detected */
	int fd = open(sp, O_RDWR);
	uint8_t x;
	assert_int_equal(pread(fd, &x, 1, 30), 1);
	x ^= 0x40;
	assert_int_equal(pwrite(fd, &x, 1, 30), 1);
	close(fd);
	assert_int_not_equal(broker_pstate_load(b, sp, &off), 0);
	assert_int_equal(broker_pstate_count(b), 0);
	assert_int_equal(broker_pstate_last_seq(INT32_MAX - 1, 3), 1);
	broker_pstate_free(ps);
	broker_pstate_free(b);
	unlink(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_read_rolls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offset_for_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_before, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_bad_crc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_no_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_bad_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_truncated_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pstate_snapshot_corrupt, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
