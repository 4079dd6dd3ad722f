/*
 * batch.c — record batch v2: header parsing, validation, record iteration, building.
 *
 * Validation order (cheapest first, so garbage is rejected early): size of the buffer vs
 * batchLength, magic, CRC-32C, attributes, recordsCount bound (a record takes at least 7
 * bytes, so recordsCount cannot exceed the records area / 7 — or, compressed, the
 * decompression bound / 7), then the records through the iterator.
 *
 * The iterator holds the only record parser. Its invariants: pos <= n; every pointer it
 * hands out lies inside p[0..n); after the last record pos == n (trailing bytes are
 * corruption), index == recordsCount.
 */
#include "kafka/batch.h"

#include <stdio.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/varint.h"
#include "kafka/compress.h"

#define DEFAULT_MAX_UNCOMPRESSED (64u << 20)
#define MIN_RECORD_BYTES 7 /* length, attributes, ts, delta, key, value, headers */

int kafka_batch_parse_hdr(const uint8_t *p, size_t n, kafka_batch_hdr *h)
{
	if (n < KAFKA_BATCH_HDR_SIZE)
		return BROOK_AGAIN;
	h->base_offset = (int64_t)kafka_be64(p);
	h->batch_length = (int32_t)kafka_be32(p + 8);
	h->partition_leader_epoch = (int32_t)kafka_be32(p + 12);
	h->magic = (int8_t)p[16];
	h->crc = kafka_be32(p + 17);
	h->attributes = (int16_t)kafka_be16(p + 21);
	h->last_offset_delta = (int32_t)kafka_be32(p + 23);
	h->base_timestamp = (int64_t)kafka_be64(p + 27);
	h->max_timestamp = (int64_t)kafka_be64(p + 35);
	h->producer_id = (int64_t)kafka_be64(p + 43);
	h->producer_epoch = (int16_t)kafka_be16(p + 51);
	h->base_sequence = (int32_t)kafka_be32(p + 53);
	h->records_count = (int32_t)kafka_be32(p + 57);
	if (h->magic != KAFKA_BATCH_MAGIC)
		return BROOK_ERR;
	if (h->batch_length < KAFKA_BATCH_HDR_SIZE - KAFKA_BATCH_LOG_OVERHEAD)
		return BROOK_ERR;
	return BROOK_OK;
}

uint32_t kafka_batch_compute_crc(const uint8_t *p, size_t n)
{
	return brook_crc32c(0, p + KAFKA_BATCH_OFF_ATTRIBUTES, n - KAFKA_BATCH_OFF_ATTRIBUTES);
}

/* ---- record iteration ---- */

int16_t kafka_record_iter_init(kafka_record_iter *it, const uint8_t *p, size_t n,
			       size_t max_uncompressed, bool strict)
{
	memset(it, 0, sizeof(*it));
	it->strict = strict;
	it->prev_delta = -1;
	int r = kafka_batch_parse_hdr(p, n, &it->hdr);
	if (r != BROOK_OK) {
		snprintf(it->why, sizeof(it->why), "%s",
			 r == BROOK_AGAIN ? "batch shorter than its 61-byte header"
					  : "not a v2 record batch (magic or batchLength)");
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (kafka_batch_total_size(&it->hdr) != n) {
		snprintf(it->why, sizeof(it->why), "batchLength %d does not match %zu bytes",
			 it->hdr.batch_length, n);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (it->hdr.records_count < 0) {
		snprintf(it->why, sizeof(it->why), "negative recordsCount %d",
			 it->hdr.records_count);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	const uint8_t *body = p + KAFKA_BATCH_HDR_SIZE;
	size_t blen = n - KAFKA_BATCH_HDR_SIZE;
	int codec = kafka_batch_compression(&it->hdr);
	size_t bound = max_uncompressed ? max_uncompressed : DEFAULT_MAX_UNCOMPRESSED;
	if (codec == KAFKA_COMPRESSION_NONE) {
		it->p = body;
		it->n = blen;
	} else if (codec > KAFKA_COMPRESSION_ZSTD) {
		snprintf(it->why, sizeof(it->why), "unknown compression codec %d", codec);
		return KAFKA_BATCH_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	} else {
		if (kafka_decompress(codec, body, blen, bound, &it->decomp, it->why,
				     sizeof(it->why)) != BROOK_OK)
			return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
		it->p = (const uint8_t *)it->decomp.data;
		it->n = it->decomp.len;
	}
	if ((uint64_t)it->hdr.records_count > it->n / MIN_RECORD_BYTES) {
		snprintf(it->why, sizeof(it->why),
			 "recordsCount %d cannot fit in %zu bytes of records",
			 it->hdr.records_count, it->n);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	return KAFKA_BATCH_ERR_NONE;
}

void kafka_record_iter_release(kafka_record_iter *it)
{
	brook_buf_release(&it->decomp);
}

/* Bounded reader over one record's bytes. */
typedef struct rd {
	const uint8_t *p;
	size_t n;
	size_t pos;
} rd;

static int rd_varint(rd *r, int32_t *v)
{
	int k = brook_varint_get_i32(r->p + r->pos, r->n - r->pos, v);
	if (k <= 0)
		return BROOK_ERR;
	r->pos += (size_t)k;
	return BROOK_OK;
}

static int rd_varlong(rd *r, int64_t *v)
{
	int k = brook_varint_get_i64(r->p + r->pos, r->n - r->pos, v);
	if (k <= 0)
		return BROOK_ERR;
	r->pos += (size_t)k;
	return BROOK_OK;
}

/* A length-prefixed byte string; -1 is null. */
static int rd_bytes(rd *r, const uint8_t **p, int32_t *len)
{
	if (rd_varint(r, len) != BROOK_OK || *len < -1)
		return BROOK_ERR;
	if (*len == -1) {
		*p = NULL;
		return BROOK_OK;
	}
	if ((size_t)*len > r->n - r->pos)
		return BROOK_ERR;
	*p = r->p + r->pos;
	r->pos += (size_t)*len;
	return BROOK_OK;
}

int kafka_record_header_next(const uint8_t **p, size_t *n, kafka_record_header *h)
{
	rd r = {*p, *n, 0};
	if (rd_bytes(&r, &h->key, &h->key_len) != BROOK_OK || h->key_len < 0)
		return BROOK_ERR;
	if (rd_bytes(&r, &h->value, &h->value_len) != BROOK_OK)
		return BROOK_ERR;
	*p += r.pos;
	*n -= r.pos;
	return BROOK_OK;
}

#define ITER_FAIL(...)                                                     \
	do {                                                               \
		snprintf(it->why, sizeof(it->why), __VA_ARGS__);           \
		return -1;                                                 \
	} while (0)

int kafka_record_iter_next(kafka_record_iter *it, kafka_record *r)
{
	if (it->index == it->hdr.records_count) {
		if (it->pos != it->n)
			ITER_FAIL("%zu bytes after the last of %d records", it->n - it->pos,
				  it->hdr.records_count);
		return 0;
	}
	if (it->pos >= it->n)
		ITER_FAIL("batch ends after %d of %d records", it->index, it->hdr.records_count);
	int32_t len;
	int k = brook_varint_get_i32(it->p + it->pos, it->n - it->pos, &len);
	if (k <= 0)
		ITER_FAIL("record %d: bad length varint", it->index);
	if (len < MIN_RECORD_BYTES - 1 || (size_t)len > it->n - it->pos - (size_t)k)
		ITER_FAIL("record %d: length %d outside the batch", it->index, len);
	rd b = {it->p + it->pos + k, (size_t)len, 0};
	if (b.n < 1)
		ITER_FAIL("record %d: empty", it->index);
	r->attributes = (int8_t)b.p[0];
	b.pos = 1;
	int64_t tsd;
	int32_t od;
	if (rd_varlong(&b, &tsd) != BROOK_OK)
		ITER_FAIL("record %d: bad timestampDelta", it->index);
	if (rd_varint(&b, &od) != BROOK_OK)
		ITER_FAIL("record %d: bad offsetDelta", it->index);
	if (it->strict) {
		if (od != it->index)
			ITER_FAIL("record %d: offsetDelta %d, expected %d", it->index, od,
				  it->index);
	} else if (od <= it->prev_delta) {
		ITER_FAIL("record %d: offsetDelta %d not above %d", it->index, od,
			  it->prev_delta);
	}
	if (od > it->hdr.last_offset_delta || od < 0)
		ITER_FAIL("record %d: offsetDelta %d past lastOffsetDelta %d", it->index, od,
			  it->hdr.last_offset_delta);
	if (rd_bytes(&b, &r->key, &r->key_len) != BROOK_OK)
		ITER_FAIL("record %d: bad key length", it->index);
	if (rd_bytes(&b, &r->value, &r->value_len) != BROOK_OK)
		ITER_FAIL("record %d: bad value length", it->index);
	int32_t hc;
	if (rd_varint(&b, &hc) != BROOK_OK || hc < 0 || (size_t)hc > (b.n - b.pos) / 2)
		ITER_FAIL("record %d: bad headers count", it->index);
	r->headers = b.p + b.pos;
	const uint8_t *hp = r->headers;
	size_t hn = b.n - b.pos;
	for (int32_t i = 0; i < hc; i++) {
		kafka_record_header h;
		if (kafka_record_header_next(&hp, &hn, &h) != BROOK_OK)
			ITER_FAIL("record %d: header %d malformed", it->index, i);
	}
	r->headers_len = (size_t)(hp - r->headers);
	r->headers_count = hc;
	if (hn != 0)
		ITER_FAIL("record %d: %zu bytes after its headers", it->index, hn);
	r->offset_delta = od;
	r->offset = (int64_t)((uint64_t)it->hdr.base_offset + (uint64_t)(int64_t)od);
	if (it->hdr.attributes & KAFKA_BATCH_ATTR_LOG_APPEND_TIME)
		r->timestamp = it->hdr.max_timestamp;
	else
		r->timestamp = (int64_t)((uint64_t)it->hdr.base_timestamp + (uint64_t)tsd);
	it->prev_delta = od;
	it->index++;
	it->pos += (size_t)k + (size_t)len;
	return 1;
}

/* ---- validation ---- */

int16_t kafka_batch_validate(const uint8_t *p, size_t n, const kafka_batch_limits *lim,
			     kafka_batch_hdr *hout, char *why, size_t whylen)
{
	kafka_batch_hdr h;
	int r = kafka_batch_parse_hdr(p, n, &h);
	if (r == BROOK_AGAIN) {
		snprintf(why, whylen, "batch of %zu bytes is shorter than its header", n);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (n >= 17 && p[16] != KAFKA_BATCH_MAGIC) {
		snprintf(why, whylen, "record batch magic %d is not supported (only 2)",
			 (int8_t)p[16]);
		return KAFKA_BATCH_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	}
	if (r != BROOK_OK || kafka_batch_total_size(&h) != n) {
		snprintf(why, whylen, "batchLength %d does not match the %zu bytes present",
			 h.batch_length, n);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (lim->max_batch_bytes && n > lim->max_batch_bytes) {
		snprintf(why, whylen, "batch of %zu bytes is over the %zu-byte limit", n,
			 lim->max_batch_bytes);
		return KAFKA_BATCH_ERR_MESSAGE_TOO_LARGE;
	}
	uint32_t crc = kafka_batch_compute_crc(p, n);
	if (crc != h.crc) {
		snprintf(why, whylen, "CRC mismatch: batch says %08x, data gives %08x", h.crc,
			 crc);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (h.attributes & ~0x3f) {
		snprintf(why, whylen, "unknown attribute bits 0x%x", (unsigned)h.attributes);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (kafka_batch_compression(&h) > KAFKA_COMPRESSION_ZSTD) {
		snprintf(why, whylen, "unknown compression codec %d", kafka_batch_compression(&h));
		return KAFKA_BATCH_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	}
	if (lim->strict) {
		if (h.attributes & KAFKA_BATCH_ATTR_CONTROL) {
			snprintf(why, whylen, "clients may not produce control batches");
			return KAFKA_BATCH_ERR_INVALID_RECORD;
		}
		if (h.records_count < 1) {
			snprintf(why, whylen, "batch holds no records");
			return KAFKA_BATCH_ERR_INVALID_RECORD;
		}
		if (h.last_offset_delta != h.records_count - 1) {
			snprintf(why, whylen, "lastOffsetDelta %d with %d records",
				 h.last_offset_delta, h.records_count);
			return KAFKA_BATCH_ERR_INVALID_RECORD;
		}
	} else if (h.last_offset_delta < 0 || h.records_count > h.last_offset_delta + 1) {
		snprintf(why, whylen, "lastOffsetDelta %d with %d records", h.last_offset_delta,
			 h.records_count);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	if (h.max_timestamp < -1 || h.base_timestamp < -1) {
		snprintf(why, whylen, "negative timestamp");
		return KAFKA_BATCH_ERR_INVALID_TIMESTAMP;
	}
	kafka_record_iter it;
	int16_t e = kafka_record_iter_init(&it, p, n, lim->max_uncompressed, lim->strict);
	if (e != KAFKA_BATCH_ERR_NONE) {
		snprintf(why, whylen, "%s", it.why);
		kafka_record_iter_release(&it);
		return e;
	}
	kafka_record rec;
	int k;
	while ((k = kafka_record_iter_next(&it, &rec)) == 1) {
		/* Kafka's own check: create-time timestamps must not be negative (except -1). */
		if (!(h.attributes & KAFKA_BATCH_ATTR_LOG_APPEND_TIME) && rec.timestamp < -1) {
			snprintf(why, whylen, "record at offsetDelta %d has timestamp %lld",
				 rec.offset_delta, (long long)rec.timestamp);
			kafka_record_iter_release(&it);
			return KAFKA_BATCH_ERR_INVALID_TIMESTAMP;
		}
	}
	if (k < 0) {
		snprintf(why, whylen, "%s", it.why);
		kafka_record_iter_release(&it);
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	kafka_record_iter_release(&it);
	if (hout)
		*hout = h;
	return KAFKA_BATCH_ERR_NONE;
}

int16_t kafka_produce_records_split(uint8_t *records, size_t n, const kafka_batch_limits *lim,
				    int max_batches, kafka_batch_cb cb, void *arg, char *why,
				    size_t whylen)
{
	if (max_batches <= 0)
		max_batches = 1000;
	if (n == 0) {
		snprintf(why, whylen, "empty records");
		return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
	}
	size_t pos = 0;
	int count = 0;
	while (pos < n) {
		if (count == max_batches) {
			snprintf(why, whylen, "more than %d batches in one partition", max_batches);
			return KAFKA_BATCH_ERR_INVALID_RECORD;
		}
		if (n - pos < KAFKA_BATCH_LOG_OVERHEAD + 5) {
			snprintf(why, whylen, "%zu trailing bytes are not a batch", n - pos);
			return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
		}
		int32_t bl = (int32_t)kafka_be32(records + pos + 8);
		if (records[pos + 16] != KAFKA_BATCH_MAGIC) {
			/* As Kafka answers Produce v3+: only magic 2 batches are allowed. */
			snprintf(why, whylen, "produce requests may only carry record batches "
				 "with magic 2, not %d", (int8_t)records[pos + 16]);
			return KAFKA_BATCH_ERR_INVALID_RECORD;
		}
		if (bl < KAFKA_BATCH_HDR_SIZE - KAFKA_BATCH_LOG_OVERHEAD ||
		    (size_t)bl > n - pos - KAFKA_BATCH_LOG_OVERHEAD) {
			snprintf(why, whylen, "batchLength %d at byte %zu runs past %zu bytes", bl,
				 pos, n);
			return KAFKA_BATCH_ERR_CORRUPT_MESSAGE;
		}
		size_t len = KAFKA_BATCH_LOG_OVERHEAD + (size_t)bl;
		kafka_batch_hdr h;
		int16_t e = kafka_batch_validate(records + pos, len, lim, &h, why, whylen);
		if (e != KAFKA_BATCH_ERR_NONE)
			return e;
		e = cb(records + pos, len, &h, arg);
		if (e != KAFKA_BATCH_ERR_NONE)
			return e;
		pos += len;
		count++;
	}
	return KAFKA_BATCH_ERR_NONE;
}

/* ---- builder ---- */

void kafka_batch_builder_init(kafka_batch_builder *b, int64_t base_offset,
			      int64_t base_timestamp)
{
	memset(b, 0, sizeof(*b));
	b->base_offset = base_offset;
	b->base_timestamp = base_timestamp;
	b->max_timestamp = -1;
	b->last_offset_delta = -1;
	b->force_last_delta = -1;
	b->producer_id = -1;
	b->producer_epoch = -1;
	b->base_sequence = -1;
	b->leader_epoch = -1;
}

void kafka_batch_builder_set_producer(kafka_batch_builder *b, int64_t producer_id,
				      int16_t producer_epoch, int32_t base_sequence)
{
	b->producer_id = producer_id;
	b->producer_epoch = producer_epoch;
	b->base_sequence = base_sequence;
}

static void put_varint(brook_buf *o, int64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(o, tmp, brook_varint_put_i64(tmp, v));
}

static void put_bytes(brook_buf *o, const void *p, int32_t len)
{
	put_varint(o, len < 0 ? -1 : len);
	if (len > 0)
		brook_buf_append(o, p, (size_t)len);
}

/* Appends one record; headers either as an array or already encoded (raw). */
static void builder_add(kafka_batch_builder *b, int32_t offset_delta, int64_t timestamp,
			const void *key, int32_t key_len, const void *value, int32_t value_len,
			const kafka_record_header *headers, int nheaders, const uint8_t *raw,
			size_t raw_len)
{
	if (offset_delta < 0)
		offset_delta = b->next_delta;
	brook_buf body = BROOK_BUF_INIT;
	brook_buf_putc(&body, 0);
	put_varint(&body, timestamp - b->base_timestamp);
	put_varint(&body, offset_delta);
	put_bytes(&body, key, key ? key_len : -1);
	put_bytes(&body, value, value ? value_len : -1);
	put_varint(&body, nheaders);
	if (raw) {
		brook_buf_append(&body, raw, raw_len);
	} else {
		for (int i = 0; i < nheaders; i++) {
			put_bytes(&body, headers[i].key, headers[i].key_len);
			put_bytes(&body, headers[i].value,
				  headers[i].value ? headers[i].value_len : -1);
		}
	}
	put_varint(&b->records, (int64_t)body.len);
	brook_buf_append(&b->records, body.data, body.len);
	brook_buf_release(&body);
	if (timestamp > b->max_timestamp)
		b->max_timestamp = timestamp;
	b->last_offset_delta = offset_delta;
	b->next_delta = offset_delta + 1;
	b->count++;
}

void kafka_batch_builder_add(kafka_batch_builder *b, int32_t offset_delta, int64_t timestamp,
			     const void *key, int32_t key_len, const void *value,
			     int32_t value_len, const kafka_record_header *headers, int nheaders)
{
	builder_add(b, offset_delta, timestamp, key, key_len, value, value_len, headers,
		    nheaders, NULL, 0);
}

void kafka_batch_builder_add_record(kafka_batch_builder *b, const kafka_record *r)
{
	const uint8_t *raw = r->headers ? r->headers : (const uint8_t *)"";
	builder_add(b, r->offset_delta, r->timestamp, r->key, r->key_len, r->value,
		    r->value_len, NULL, r->headers_count, raw, r->headers_len);
}

uint8_t *kafka_batch_builder_finish(kafka_batch_builder *b, int codec, size_t *len)
{
	brook_buf out = BROOK_BUF_INIT;
	brook_buf_reserve(&out, KAFKA_BATCH_HDR_SIZE + b->records.len);
	out.len = KAFKA_BATCH_HDR_SIZE;
	if (codec == KAFKA_COMPRESSION_NONE ||
	    kafka_compress(codec, (const uint8_t *)b->records.data, b->records.len, &out) !=
		    BROOK_OK) {
		out.len = KAFKA_BATCH_HDR_SIZE;
		codec = KAFKA_COMPRESSION_NONE;
		brook_buf_append(&out, b->records.data, b->records.len);
	}
	uint8_t *p = (uint8_t *)out.data;
	int32_t lod = b->force_last_delta >= 0 ? b->force_last_delta
					       : (b->last_offset_delta < 0 ? 0
									   : b->last_offset_delta);
	kafka_put_be64(p, (uint64_t)b->base_offset);
	kafka_put_be32(p + 8, (uint32_t)(out.len - KAFKA_BATCH_LOG_OVERHEAD));
	kafka_put_be32(p + 12, (uint32_t)b->leader_epoch);
	p[16] = KAFKA_BATCH_MAGIC;
	kafka_put_be16(p + 21, (uint16_t)(b->attributes | codec));
	kafka_put_be32(p + 23, (uint32_t)lod);
	kafka_put_be64(p + 27, (uint64_t)b->base_timestamp);
	kafka_put_be64(p + 35, (uint64_t)(b->count ? b->max_timestamp : b->base_timestamp));
	kafka_put_be64(p + 43, (uint64_t)b->producer_id);
	kafka_put_be16(p + 51, (uint16_t)b->producer_epoch);
	kafka_put_be32(p + 53, (uint32_t)b->base_sequence);
	kafka_put_be32(p + 57, (uint32_t)b->count);
	kafka_put_be32(p + 17, kafka_batch_compute_crc(p, out.len));
	kafka_batch_builder_release(b);
	return (uint8_t *)brook_buf_detach(&out, len);
}

void kafka_batch_builder_release(kafka_batch_builder *b)
{
	brook_buf_release(&b->records);
}
