/*
 * fuzz_record_batch.c — the record batch validator and iterator on arbitrary bytes.
 *
 * The input is treated as a Produce request's Records field: split into batches and
 * validated (strict produce rules), and, independently, as one stored batch iterated
 * with the loose rules compaction and ListOffsets use, and once more with its CRC fixed
 * up so that mutations reach the record parser behind the CRC check. Whatever the bytes, nothing may
 * read out of bounds, leak, or decompress past the bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "kafka/batch.h"

static int16_t count_cb(uint8_t *batch, size_t len, const kafka_batch_hdr *h, void *arg)
{
	(void)h;
	/* what the log does: rewrite baseOffset and leader epoch in place */
	kafka_put_be64(batch, 42);
	kafka_put_be32(batch + KAFKA_BATCH_OFF_LEADER_EPOCH, 1);
	*(size_t *)arg += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = brook_malloc(size ? size : 1);
	if (size)
		memcpy(copy, data, size);
	char why[256];
	size_t seen = 0;
	const kafka_batch_limits strict = {1 << 20, 4 << 20, true};
	kafka_produce_records_split(copy, size, &strict, 0, count_cb, &seen, why, sizeof(why));

	const kafka_batch_limits loose = {0, 4 << 20, false};
	kafka_batch_hdr h;
	kafka_batch_validate(data, size, &loose, &h, why, sizeof(why));

	/* the same bytes with a correct CRC, so mutations reach the record checks */
	if (size >= KAFKA_BATCH_HDR_SIZE) {
		memcpy(copy, data, size);
		kafka_put_be32(copy + KAFKA_BATCH_OFF_CRC, kafka_batch_compute_crc(copy, size));
		kafka_batch_validate(copy, size, &strict, &h, why, sizeof(why));
	}

	/* the iterator must be safe even without validation (no CRC check) */
	kafka_record_iter it;
	if (kafka_record_iter_init(&it, data, size, 4 << 20, false) == 0) {
		kafka_record r;
		while (kafka_record_iter_next(&it, &r) == 1) {
			const uint8_t *hp = r.headers;
			size_t hn = r.headers_len;
			kafka_record_header rh;
			for (int32_t i = 0; i < r.headers_count; i++) {
				if (kafka_record_header_next(&hp, &hn, &rh) != 0)
					abort(); /* the iterator promised valid headers */
			}
		}
	}
	kafka_record_iter_release(&it);
	free(copy);
	return 0;
}
