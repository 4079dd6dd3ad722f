/*
 * fuzz_sstable.c — the store's sorted-file reader and partition decoder on hostile bytes.
 *
 * Input: if the first byte is odd, the rest is one encoded partition
 * (store_part_decode), which is then merged, filtered, garbage-collected and
 * re-encoded, and the re-encoding must decode again. Otherwise the whole input is an
 * sstable file (sstables start with "B", which is even): it is opened from a memfd;
 * if it validates, every partition is read (checksums) and looked up by key.
 * Nothing may crash, leak or read out of bounds; corrupt files must be refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/fileio.h"
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
		store_part_gc(&c, &m, 1700000000, 1600000000);
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
	uint64_t n = store_sstable_count(s);
	for (uint64_t i = 0; i < n && i < 1000; i++) {
		int64_t tok;
		const uint8_t *pk;
		uint32_t pklen;
		store_part p;
		store_sstable_key(s, i, &tok, &pk, &pklen);
		(void)store_sstable_find(s, tok, pk, pklen);
		brook_arena_reset(&a);
		(void)store_sstable_read(s, i, &a, &p, err, sizeof(err));
	}
	(void)store_sstable_seek(s, 0, NULL, 0, 0);
	brook_arena_release(&a);
	store_sstable_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	if (size && (data[0] & 1))
		fuzz_partition(data + 1, size - 1);
	else
		fuzz_file(data, size);
	return 0;
}
