/* Unit tests for kafka/batch and kafka/compress: build, validate, corrupt, iterate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "kafka/batch.h"
#include "kafka/compress.h"

static const kafka_batch_limits strict = {1 << 20, 8 << 20, true};
static const kafka_batch_limits loose = {0, 8 << 20, false};

/* n records "key-i" / "value-i-..." with one header each; record 2 has a null key. */
static uint8_t *make_batch(int n, int codec, size_t *len)
{
	kafka_batch_builder b;
	kafka_batch_builder_init(&b, 0, 1700000000000);
	for (int i = 0; i < n; i++) {
		char k[32], v[64];
		snprintf(k, sizeof(k), "key-%d", i);
		snprintf(v, sizeof(v), "value-%d-abcdefghijabcdefghij", i);
		kafka_record_header h = {(const uint8_t *)"hk", 2, (const uint8_t *)"hv", 2};
		kafka_batch_builder_add(&b, -1, 1700000000000 + i, i == 2 ? NULL : k,
					(int32_t)strlen(k), v, (int32_t)strlen(v), &h, 1);
	}
	return kafka_batch_builder_finish(&b, codec, len);
}

static void check_records(const uint8_t *p, size_t len, int n)
{
	kafka_record_iter it;
	assert_int_equal(kafka_record_iter_init(&it, p, len, 0, true), 0);
	kafka_record r;
	for (int i = 0; i < n; i++) {
		assert_int_equal(kafka_record_iter_next(&it, &r), 1);
		char k[32], v[64];
		snprintf(k, sizeof(k), "key-%d", i);
		snprintf(v, sizeof(v), "value-%d-abcdefghijabcdefghij", i);
		assert_int_equal(r.offset, i);
		assert_int_equal(r.timestamp, 1700000000000 + i);
		if (i == 2) {
			assert_null(r.key);
			assert_int_equal(r.key_len, -1);
		} else {
			assert_int_equal(r.key_len, strlen(k));
			assert_memory_equal(r.key, k, strlen(k));
		}
		assert_int_equal(r.value_len, strlen(v));
		assert_memory_equal(r.value, v, strlen(v));
		assert_int_equal(r.headers_count, 1);
		const uint8_t *hp = r.headers;
		size_t hn = r.headers_len;
		kafka_record_header h;
		assert_int_equal(kafka_record_header_next(&hp, &hn, &h), BROOK_OK);
		assert_int_equal(h.key_len, 2);
		assert_memory_equal(h.key, "hk", 2);
		assert_memory_equal(h.value, "hv", 2);
		assert_int_equal(hn, 0);
	}
	assert_int_equal(kafka_record_iter_next(&it, &r), 0);
	kafka_record_iter_release(&it);
}

static void test_build_validate_iterate(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = make_batch(10, KAFKA_COMPRESSION_NONE, &len);
	char why[200];
	kafka_batch_hdr h;
	assert_int_equal(kafka_batch_validate(p, len, &strict, &h, why, sizeof(why)), 0);
	assert_int_equal(h.records_count, 10);
	assert_int_equal(h.last_offset_delta, 9);
	assert_int_equal(h.max_timestamp, 1700000000009);
	assert_int_equal(h.producer_id, -1);
	assert_int_equal(kafka_batch_total_size(&h), len);
	check_records(p, len, 10);
	free(p);
}

/* A batch assembled by hand from the spec, independent of the builder. */
static void test_hand_crafted(void **state)
{
	(void)state;
	uint8_t rec[] = {
		0x14,             /* length 10 (zigzag) */
		0x00,             /* attributes */
		0x00,             /* timestampDelta 0 */
		0x00,             /* offsetDelta 0 */
		0x02, 'k',        /* key length 1 */
		0x06, 'a', 'b', 'c', /* value length 3 */
		0x00,             /* headers 0 */
	};
	uint8_t b[61 + sizeof(rec)];
	memset(b, 0, sizeof(b));
	kafka_put_be64(b, 0);
	kafka_put_be32(b + 8, (uint32_t)(sizeof(b) - 12));
	kafka_put_be32(b + 12, 0);
	b[16] = 2;
	kafka_put_be16(b + 21, 0);
	kafka_put_be32(b + 23, 0);
	kafka_put_be64(b + 27, 1000);
	kafka_put_be64(b + 35, 1000);
	kafka_put_be64(b + 43, (uint64_t)-1);
	kafka_put_be16(b + 51, (uint16_t)-1);
	kafka_put_be32(b + 53, (uint32_t)-1);
	kafka_put_be32(b + 57, 1);
	memcpy(b + 61, rec, sizeof(rec));
	uint32_t sw = brook_crc32c_sw(0, b + 21, sizeof(b) - 21);
	assert_int_equal(sw, brook_crc32c(0, b + 21, sizeof(b) - 21));
	assert_int_equal(kafka_batch_compute_crc(b, sizeof(b)), sw);
	kafka_put_be32(b + 17, sw);
	char why[200];
	assert_int_equal(kafka_batch_validate(b, sizeof(b), &strict, NULL, why, sizeof(why)), 0);

	/* the builder produces the same bytes for the same record */
	kafka_batch_builder bb;
	kafka_batch_builder_init(&bb, 0, 1000);
	kafka_batch_builder_add(&bb, -1, 1000, "k", 1, "abc", 3, NULL, 0);
	size_t len;
	uint8_t *p = kafka_batch_builder_finish(&bb, KAFKA_COMPRESSION_NONE, &len);
	kafka_put_be32(p + 12, 0); /* builder leaves leader epoch -1 */
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
	assert_int_equal(len, sizeof(b));
	assert_memory_equal(p, b, len);
	free(p);
}

static void test_every_byte_corrupted(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = make_batch(4, KAFKA_COMPRESSION_NONE, &len);
	char why[200];
	for (size_t i = 0; i < len; i++) {
		uint8_t save = p[i];
		p[i] ^= 0x5a;
		int16_t e = kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why));
		if (i < 8 || (i >= 12 && i < 16)) {
			/* baseOffset and partitionLeaderEpoch are outside the CRC by design */
			assert_int_equal(e, 0);
		} else if (i == 16) {
			assert_int_equal(e, KAFKA_BATCH_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
		} else {
			assert_int_equal(e, KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
		}
		p[i] = save;
	}
	free(p);
}

static void test_lying_lengths(void **state)
{
	(void)state;
	size_t len;
	uint8_t *p = make_batch(3, KAFKA_COMPRESSION_NONE, &len);
	char why[200];
	/* truncated buffers */
	for (size_t n = 0; n < len; n += 7)
		assert_int_equal(kafka_batch_validate(p, n, &strict, NULL, why, sizeof(why)),
				 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	/* batchLength says more or less than present */
	uint32_t bl = kafka_be32(p + 8);
	kafka_put_be32(p + 8, bl + 1);
	assert_int_equal(kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	kafka_put_be32(p + 8, 0xffffffffu);
	assert_int_equal(kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	kafka_put_be32(p + 8, bl);
	/* recordsCount lies (CRC recomputed so the lie reaches the record parser) */
	kafka_put_be32(p + 57, 4);
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
	assert_int_equal(kafka_batch_validate(p, len, &loose, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	kafka_put_be32(p + 57, 0x7fffffff);
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
	assert_int_equal(kafka_batch_validate(p, len, &loose, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	kafka_put_be32(p + 57, 2);
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
	assert_int_equal(kafka_batch_validate(p, len, &loose, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	/* strict: lastOffsetDelta must match the count */
	kafka_put_be32(p + 57, 3);
	kafka_put_be32(p + 23, 5);
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
	assert_int_equal(kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_INVALID_RECORD);
	/* a record's key length pointing past the batch */
	kafka_put_be32(p + 23, 2);
	p[61 + 4] = 0x7e; /* first record's keyLength = 63 */
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
	assert_int_equal(kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	free(p);
	/* over the size limit */
	p = make_batch(50, KAFKA_COMPRESSION_NONE, &len);
	kafka_batch_limits small = strict;
	small.max_batch_bytes = len - 1;
	assert_int_equal(kafka_batch_validate(p, len, &small, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_MESSAGE_TOO_LARGE);
	free(p);
}

static void test_codecs_round_trip(void **state)
{
	(void)state;
	for (int codec = 1; codec <= 4; codec++) {
		size_t len;
		uint8_t *p = make_batch(200, codec, &len);
		char why[200];
		kafka_batch_hdr h;
		assert_int_equal(kafka_batch_validate(p, len, &strict, &h, why, sizeof(why)), 0);
		assert_int_equal(kafka_batch_compression(&h), codec);
		check_records(p, len, 200);
		/* decompression bound */
		kafka_batch_limits tiny = strict;
		tiny.max_uncompressed = 100;
		assert_int_not_equal(kafka_batch_validate(p, len, &tiny, NULL, why, sizeof(why)),
				     0);
		/* corrupted compressed payload with a fixed-up CRC */
		p[len - 3] ^= 0xff;
		p[len / 2 + 30] ^= 0x33;
		kafka_put_be32(p + 17, kafka_batch_compute_crc(p, len));
		int16_t e = kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why));
		assert_int_equal(e, KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
		free(p);
	}
}

static void test_snappy_xerial(void **state)
{
	(void)state;
	char data[100000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + (i * 7 % 13));
	brook_buf c = BROOK_BUF_INIT, d = BROOK_BUF_INIT;
	assert_int_equal(kafka_compress_snappy_xerial((const uint8_t *)data, sizeof(data), 4096,
						      &c),
			 BROOK_OK);
	char why[200];
	assert_int_equal(kafka_decompress(KAFKA_COMPRESSION_SNAPPY, (const uint8_t *)c.data,
					  c.len, 1 << 20, &d, why, sizeof(why)),
			 BROOK_OK);
	assert_int_equal(d.len, sizeof(data));
	assert_memory_equal(d.data, data, sizeof(data));
	brook_buf_reset(&d);
	assert_int_equal(kafka_decompress(KAFKA_COMPRESSION_SNAPPY, (const uint8_t *)c.data,
					  c.len, 1000, &d, why, sizeof(why)),
			 BROOK_ERR);
	brook_buf_reset(&d);
	/* a block length running past the end */
	assert_int_equal(kafka_decompress(KAFKA_COMPRESSION_SNAPPY, (const uint8_t *)c.data,
					  c.len - 5, 1 << 20, &d, why, sizeof(why)),
			 BROOK_ERR);
	brook_buf_release(&c);
	brook_buf_release(&d);
}

static void test_truncated_streams(void **state)
{
	(void)state;
	char data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 31);
	for (int codec = 1; codec <= 4; codec++) {
		brook_buf c = BROOK_BUF_INIT, d = BROOK_BUF_INIT;
		assert_int_equal(kafka_compress(codec, (const uint8_t *)data, sizeof(data), &c),
				 BROOK_OK);
		char why[200];
		assert_int_equal(kafka_decompress(codec, (const uint8_t *)c.data, c.len, 1 << 20,
						  &d, why, sizeof(why)),
				 BROOK_OK);
		assert_memory_equal(d.data, data, sizeof(data));
		brook_buf_reset(&d);
		assert_int_equal(kafka_decompress(codec, (const uint8_t *)c.data, c.len / 2,
						  1 << 20, &d, why, sizeof(why)),
				 BROOK_ERR);
		brook_buf_reset(&d);
		assert_int_equal(kafka_decompress(codec, (const uint8_t *)c.data, 0, 1 << 20, &d,
						  why, sizeof(why)),
				 BROOK_ERR);
		brook_buf_release(&c);
		brook_buf_release(&d);
	}
}

struct split_ctx {
	int n;
	int64_t counts;
};

static int16_t split_cb(uint8_t *b, size_t len, const kafka_batch_hdr *h, void *arg)
{
	(void)b;
	(void)len;
	struct split_ctx *c = arg;
	c->n++;
	c->counts += h->records_count;
	return 0;
}

static void test_split(void **state)
{
	(void)state;
	size_t l1, l2;
	uint8_t *a = make_batch(3, KAFKA_COMPRESSION_NONE, &l1);
	uint8_t *b = make_batch(5, KAFKA_COMPRESSION_LZ4, &l2);
	uint8_t *all = malloc(l1 + l2);
	memcpy(all, a, l1);
	memcpy(all + l1, b, l2);
	char why[200];
	struct split_ctx c = {0, 0};
	assert_int_equal(kafka_produce_records_split(all, l1 + l2, &strict, 0, split_cb, &c, why,
						     sizeof(why)),
			 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.counts, 8);
	c.n = 0;
	assert_int_equal(kafka_produce_records_split(all, l1 + l2 - 1, &strict, 0, split_cb, &c,
						     why, sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	assert_int_equal(c.n, 1);
	c.n = 0;
	assert_int_equal(kafka_produce_records_split(all, l1 + 20, &strict, 0, split_cb, &c, why,
						     sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	assert_int_equal(kafka_produce_records_split(all, 0, &strict, 0, split_cb, &c, why,
						     sizeof(why)),
			 KAFKA_BATCH_ERR_CORRUPT_MESSAGE);
	assert_int_equal(kafka_produce_records_split(all, l1 + l2, &strict, 1, split_cb, &c, why,
						     sizeof(why)),
			 KAFKA_BATCH_ERR_INVALID_RECORD);
	free(a);
	free(b);
	free(all);
}

static void test_loose_gaps(void **state)
{
	(void)state;
	/* compacted data: deltas 1 and 4 of 0..5 */
	kafka_batch_builder b;
	kafka_batch_builder_init(&b, 100, 5);
	b.force_last_delta = 5;
	kafka_batch_builder_add(&b, 1, 5, "a", 1, "x", 1, NULL, 0);
	kafka_batch_builder_add(&b, 4, 6, "b", 1, NULL, -1, NULL, 0);
	size_t len;
	uint8_t *p = kafka_batch_builder_finish(&b, 0, &len);
	char why[200];
	assert_int_equal(kafka_batch_validate(p, len, &loose, NULL, why, sizeof(why)), 0);
	assert_int_equal(kafka_batch_validate(p, len, &strict, NULL, why, sizeof(why)),
			 KAFKA_BATCH_ERR_INVALID_RECORD);
	kafka_record_iter it;
	kafka_record r;
	assert_int_equal(kafka_record_iter_init(&it, p, len, 0, false), 0);
	assert_int_equal(kafka_record_iter_next(&it, &r), 1);
	assert_int_equal(r.offset, 101);
	assert_int_equal(kafka_record_iter_next(&it, &r), 1);
	assert_int_equal(r.offset, 104);
	assert_null(r.value);
	assert_int_equal(kafka_record_iter_next(&it, &r), 0);
	kafka_record_iter_release(&it);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_validate_iterate),
		cmocka_unit_test(test_hand_crafted),
		cmocka_unit_test(test_every_byte_corrupted),
		cmocka_unit_test(test_lying_lengths),
		cmocka_unit_test(test_codecs_round_trip),
		cmocka_unit_test(test_snappy_xerial),
		cmocka_unit_test(test_truncated_streams),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_loose_gaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
