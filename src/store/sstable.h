/*
 * sstable.h — immutable sorted files of partitions.
 *
 * FORMAT (one file, sst-<generation, 16 digits>.db)
 *   header   "BRKSST01"
 *   data     partitions in (token, pk) order, each store_part_encode()d
 *   index    u32 BE count, then per partition: i64 BE token, uvarint pklen, pk,
 *            uvarint data offset, uvarint length, u32 BE CRC-32C of the partition bytes
 *   bloom    store_bloom_encode() of every pk
 *   meta     u64 BE generation, i64 BE max write timestamp, u32 BE nancestors,
 *            u64 BE generation * nancestors (the sstables a compaction replaced)
 *   footer   (72 bytes) "BRKSSTF1", u64 BE index offset, index length, bloom offset,
 *            bloom length, meta offset, meta length, u32 BE CRC-32C of index, of bloom,
 *            of meta, of the footer's first 68 bytes.
 * Every region is checked at open (offsets inside the file and in order, CRCs, index
 * entries strictly increasing and inside the data region); each partition's CRC is
 * checked when it is read. A file failing any check is refused, never half-used.
 *
 * WRITING: the writer writes NAME.tmp; store_sstable_writer_finish() fdatasync()s it,
 * renames it to NAME and fsync()s the directory, so a crash leaves either no sstable or
 * a whole one (the engine removes *.tmp leftovers at open).
 *
 * READING: the index and bloom filter are held in memory; partitions are pread() from
 * the file on demand. A reader is immutable after open and safe for concurrent reads.
 */
#ifndef BROOK_STORE_SSTABLE_H
#define BROOK_STORE_SSTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "store/memtable.h"

typedef struct store_sstable store_sstable;
typedef struct store_sstable_writer store_sstable_writer;

/* Starts path.tmp; nkeys sizes the bloom filter (an estimate is fine). */
store_sstable_writer *store_sstable_writer_new(const char *path, uint64_t generation,
                                               uint64_t nkeys, char *err, size_t errlen);
/* Partitions must come in strictly increasing (token, pk) order. */
int store_sstable_writer_add(store_sstable_writer *w, const store_part *p);
/* Writes index, bloom, meta, footer; syncs; renames into place; frees w. */
int store_sstable_writer_finish(store_sstable_writer *w, const uint64_t *ancestors,
                                uint32_t nancestors, char *err, size_t errlen);
/* Abandons the file (removes path.tmp); frees w. */
void store_sstable_writer_abort(store_sstable_writer *w);
/* Crash simulation (tests): frees w leaving path.tmp as it is, possibly incomplete. */
void store_sstable_writer_abandon(store_sstable_writer *w);
uint64_t store_sstable_writer_count(const store_sstable_writer *w);

/* Opens and validates a file; the reader keeps its own fd (fd is not consumed). */
store_sstable *store_sstable_open_fd(int fd, const char *name, char *err, size_t errlen);
store_sstable *store_sstable_open(const char *path, char *err, size_t errlen);
void store_sstable_close(store_sstable *s);

uint64_t store_sstable_generation(const store_sstable *s);
uint64_t store_sstable_count(const store_sstable *s);
uint64_t store_sstable_file_bytes(const store_sstable *s);
const uint64_t *store_sstable_ancestors(const store_sstable *s, uint32_t *n);

/* Index position of (token, pk), or -1; uses the bloom filter first. */
int64_t store_sstable_find(const store_sstable *s, int64_t token, const uint8_t *pk, size_t pklen);
/* First index position >= (token, pk) (> if strict); pk NULL: first with token >= token. */
uint64_t store_sstable_seek(const store_sstable *s, int64_t token, const uint8_t *pk, size_t pklen,
                            int strict);
/* Key of the partition at index position i (< count). */
void store_sstable_key(const store_sstable *s, uint64_t i, int64_t *token, const uint8_t **pk,
                       uint32_t *pklen);
/* Reads and decodes the partition at position i into arena memory; checks its CRC. */
int store_sstable_read(const store_sstable *s, uint64_t i, brook_arena *a, store_part *out,
                       char *err, size_t errlen);

#endif
