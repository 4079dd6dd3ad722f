/*
 * fuzz_sstable.c — the store's sorted-file reader and partition decoder on hostile bytes.
 *
 * Input: if the first byte is odd, the rest is one encoded partition
 * (store_part_decode), which is then merged, filtered, garbage-collected and
 * re-encoded, and the re-encoding must decode again; when garbage collection says it
 * changed nothing, the encoding must be the same byte for byte (compaction then copies
 * the stored bytes). Otherwise the whole input is an
 * sstable file (sstables start with "B", which is even): it is opened from a memfd;
 * if it validates, the first 1000 partitions are iterated and read (index block and
 * partition checksums; read again with their encoding, which must decode), each key
 * is looked up (and a key just above it, absent), and iterators seek to each key and
 * to both ends of the token range. Each sstable input is also tried with its checksums
 * recomputed (fix_checksums), so that mutations reach the summary, index block and
 * partition parsers behind the CRCs.
 * Nothing may crash, leak or read out of bounds; corrupt files must be refused.
 * The sstable seeds are written by
 * BROOK_STORE_FUZZ_SEEDS=tests/fuzz/corpus/sstable build/test_store_engine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/crc32c.h"
#include "core/fileio.h"
#include "core/varint.h"
#include "store/memtable.h"
#include "store/sstable.h"

static void fuzz_partition(const uint8_t *data, size_t size)
{
	brook_arena a = BROOK_ARENA_INIT;
	store_part p, m;
	char err[128];
	if (store_part_decode(&a, data, size, &p, err, sizeof(err)) == 0) {
		store_cmp c = {NULL, NULL};
		store_part_init(&a, &m, &p);
		store_part_merge(&a, &c, &m, &p);
		store_part_merge(&a, &c, &m, &p);
		brook_buf b = BROOK_BUF_INIT;
		store_part_encode(&m, &b);
		store_part again;
		if (store_part_decode(&a, (const uint8_t *)b.data, b.len, &again, err,
		                      sizeof(err)) != 0)
			abort(); /* what we encode must decode */
		store_part_filter_live(&c, &again, 1700000000);
		/* gc saying it changed nothing is what lets compaction copy the bytes */
		bool changed;
		store_part_gc(&c, &m, 1700000000, 1600000000, &changed);
		brook_buf after = BROOK_BUF_INIT;
		store_part_encode(&m, &after);
		if (!changed && (after.len != b.len || memcmp(after.data, b.data, b.len) != 0))
			abort();
		brook_buf_release(&after);
		brook_buf_release(&b);
	}
	brook_arena_release(&a);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_sstable", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (size && brook_write_all(fd, data, size) != 0) {
		close(fd);
		return;
	}
	char err[256];
	store_sstable *s = store_sstable_open_fd(fd, "fuzz", err, sizeof(err));
	close(fd);
	if (!s)
		return;
	brook_arena a = BROOK_ARENA_INIT;
	store_sstable_iter *it = store_sstable_iter_new(s);
	int rc = store_sstable_iter_seek(it, INT64_MIN, NULL, 0, 0, err, sizeof(err));
	int64_t tok = 0;
	const uint8_t *pk;
	uint32_t pklen;
	for (int i = 0; rc == 0 && i < 1000 && store_sstable_iter_key(it, &tok, &pk, &pklen); i++) {
		store_part p, q;
		store_encoded enc;
		brook_arena_reset(&a);
		int ok = store_sstable_iter_read(it, &a, &p, err, sizeof(err)) == 0;
		/* read with its encoding (for a copy): the same verdict, and it decodes */
		int ok2 = store_sstable_iter_read_encoded(it, &a, &q, &enc, err, sizeof(err)) == 0;
		if (ok != ok2)
			abort();
		if (ok && store_part_decode(&a, enc.bytes, enc.len, &q, err, sizeof(err)) != 0)
			abort();
		/* Lookups of the key, of a neighbour that cannot be there, a seek to it. */
		uint8_t key[64];
		size_t n = pklen < sizeof(key) - 1 ? pklen : sizeof(key) - 1;
		if (n)
			memcpy(key, pk, n);
		(void)store_sstable_get(s, tok, key, n, &a, &p, err, sizeof(err));
		key[n] = 0xFF;
		(void)store_sstable_get(s, tok, key, n + 1, &a, &p, err, sizeof(err));
		store_sstable_iter *at = store_sstable_iter_new(s);
		(void)store_sstable_iter_seek(at, tok, key, n, i & 1, err, sizeof(err));
		store_sstable_iter_free(at);
		rc = store_sstable_iter_next(it, err, sizeof(err));
	}
	(void)store_sstable_iter_seek(it, 0, NULL, 0, 0, err, sizeof(err));
	(void)store_sstable_iter_seek(it, INT64_MAX, NULL, 0, 1, err, sizeof(err));
	store_sstable_iter_free(it);
	brook_arena_release(&a);
	store_sstable_close(s);
}

/* A uvarint at *q inside [*q, end); 0 if there is none. */
static int uv(const uint8_t **q, const uint8_t *end, uint64_t *v)
{
	int k = *q < end ? brook_varint_get_u64(*q, (size_t)(end - *q), v) : 0;
	if (k <= 0)
		return 0;
	*q += k;
	return 1;
}

static void put_crc(uint8_t *at, const uint8_t *p, uint64_t n)
{
	brook_be_put(at, brook_crc32c(0, p, (size_t)n), 4);
}

/*
 * Recomputes the checksums of a (mutated) sstable as sstable.h lays them out, leniently
 * (what does not parse is left as it is): each partition's in its index entry, each
 * index block's, the summary's, bloom's and meta's in the footer, the footer's own.
 */
static void fix_checksums(uint8_t *p, size_t n)
{
	if (n < 8 + 72)
		return;
	uint8_t *f = p + n - 72;
	uint64_t tail = n - 72, so = brook_be_get(f + 8, 8), sl = brook_be_get(f + 16, 8);
	if (so >= 8 && so <= tail && sl <= tail - so && sl >= 16) {
		const uint8_t *q = p + so + 16, *end = p + so + sl;
		uint64_t at = 8, ngroups = brook_be_get(p + so + 12, 4);
		for (uint64_t g = 0; g < ngroups && end - q >= 9; g++) {
			uint64_t dlen, blen;
			q += 9;
			if (!uv(&q, end, &dlen) || !uv(&q, end, &blen) || dlen > so - at ||
			    blen < 4 || blen > so - at - dlen)
				break;
			uint64_t off = at + dlen, part = at;
			uint8_t *e = p + off, *eend = p + off + blen - 4;
			while (eend - e >= 8) {
				const uint8_t *c = e + 8;
				uint64_t pklen, len;
				if (!uv(&c, eend, &pklen) || pklen > (uint64_t)(eend - c))
					break;
				c += pklen;
				if (!uv(&c, eend, &len) || eend - c < 4)
					break;
				if (len <= off - part)
					put_crc((uint8_t *)c, p + part, len);
				part += len <= off - part ? len : 0;
				e = (uint8_t *)c + 4;
			}
			put_crc(eend, p + off, blen - 4);
			at = off + blen;
		}
		put_crc(f + 56, p + so, sl);
	}
	uint64_t bo = brook_be_get(f + 24, 8), bl = brook_be_get(f + 32, 8);
	uint64_t mo = brook_be_get(f + 40, 8), ml = brook_be_get(f + 48, 8);
	if (bo <= tail && bl <= tail - bo)
		put_crc(f + 60, p + bo, bl);
	if (mo <= tail && ml <= tail - mo)
		put_crc(f + 64, p + mo, ml);
	put_crc(f + 68, f, 68);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	if (size && (data[0] & 1)) {
		fuzz_partition(data + 1, size - 1);
		return 0;
	}
	fuzz_file(data, size);
	uint8_t *fixed = malloc(size ? size : 1);
	if (size)
		memcpy(fixed, data, size);
	fix_checksums(fixed, size);
	if (size && memcmp(fixed, data, size) != 0)
		fuzz_file(fixed, size);
	free(fixed);
	return 0;
}
