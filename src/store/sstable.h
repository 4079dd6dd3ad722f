/*
 * sstable.h — immutable sorted files of partitions, read through a sampled index.
 *
 * FORMAT (one file, sst-<generation, 16 digits>.db; integers big-endian, uvarint LEB128)
 *   header   "BRKSST02"
 *   groups   the partitions in strictly increasing (token, pk) order, in groups of
 *            `interval` (32; the last group may be smaller). A group is its partitions,
 *            each store_part_encode()d, back to back, then its INDEX BLOCK:
 *              per partition: i64 token, uvarint pklen, pk, uvarint length,
 *                             u32 CRC-32C of the partition's bytes
 *              u32 CRC-32C of the entries above
 *            Offsets are implied: a group's data starts where the previous index block
 *            ends (after the header for the first) and its partitions follow each other.
 *   summary  the SAMPLE of the index, one entry per group: u32 interval, u64 count
 *            (partitions), u32 ngroups, then per group: i64 token (of its first
 *            partition), u8 flags (bit 0 CONT: the group before ends with this token),
 *            uvarint data length (its partitions' bytes), uvarint index block length (CRC
 *            included). Group offsets are the running sum from the header.
 *   bloom    store_bloom_encode() of every pk
 *   meta     u64 generation, i64 max write timestamp, u32 nancestors, u64 * nancestors
 *            (the sstables a compaction replaced)
 *   footer   (72 bytes) "BRKSSTF2", u64 summary offset, summary length, bloom offset,
 *            bloom length, meta offset, meta length, u32 CRC-32C of the summary, of the
 *            bloom filter, of meta, of the footer's first 68 bytes.
 *
 * THE SAMPLE keeps a token and an offset per group (24 bytes per 32 partitions, whatever
 * the key length), and a lookup reads one index block of 32 entries (about 1 KiB for
 * 16-byte keys): a denser sample without keys costs the memory of Cassandra's
 * every-128th-key summary and reads a quarter of the index bytes. Since the sample has
 * no keys, partitions with equal tokens (Murmur3 collisions) may straddle groups: group
 * tokens only never decrease, CONT marks a group whose token the group before ends with
 * (so a search for that token starts there), and lookups and seeks go on into the next
 * group while it starts with their token.
 *
 * WHAT IS CHECKED WHEN (the file is untrusted input)
 *   open     reads the header, footer, summary, bloom filter and meta — never an index
 *            block or a partition, so it costs a few bytes per group plus the filter
 *            (~1.25 bytes per partition) — and checks the magics, the four CRCs, that the
 *            regions tile the file, ngroups == ceil(count / interval), group tokens never
 *            decreasing, each group with at least a byte of data per partition and an
 *            index block of plausible length, the groups ending where the summary starts.
 *   an index block, when a lookup, seek or scan reads it: its CRC; every entry's bounds
 *            (key length, partition inside the group's data); the first entry's token
 *            equal to the summary's; keys strictly increasing. A block read whole (seeks,
 *            scans) must also end exactly, its lengths must add up to the group's data,
 *            and its last token must be below the next group's (equal if that one has
 *            CONT); walking on to the next group, an iterator checks that its first key
 *            is above the last one.
 *   a partition, when read: its CRC, that it decodes (bounded), that it has its entry's
 *            key.
 *   A file failing a check at open is refused, never half-used; an index block or
 *   partition failing one fails that read with a "corrupt" error naming the byte offset.
 *
 * WRITING: the writer streams everything: it holds a 1 MiB write buffer, the current
 * group's index entries, the summary and the bloom filter (about 1.6 bytes per partition
 * together). It writes NAME.tmp; store_sstable_writer_finish() fdatasync()s it, renames it
 * to NAME and fsync()s the directory, so a crash leaves either no sstable or a whole one
 * (the engine removes *.tmp leftovers at open).
 *
 * READING: the summary and the bloom filter are held in memory (about 2 bytes per
 * partition); index blocks and partitions are pread() on demand (the page cache caches
 * them). A lookup reads one index block and one partition. An iterator reads whole groups
 * (data and index block) with one pread, reading ahead up to 256 KiB while it walks on;
 * a group larger than that is read as its index block, then one partition at a time.
 * A reader is immutable after open and safe for concurrent use; an iterator belongs to
 * one thread.
 */
#ifndef BROOK_STORE_SSTABLE_H
#define BROOK_STORE_SSTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "store/memtable.h"

/* Partitions per index block in the files written (readers take what the file says). */
#define STORE_SSTABLE_INTERVAL 32u

typedef struct store_sstable store_sstable;
typedef struct store_sstable_writer store_sstable_writer;
typedef struct store_sstable_iter store_sstable_iter;

/* A partition as an sstable stores it: its encoding (store_part_encode) and that
 * encoding's CRC-32C. Compaction copies a partition it does not change this way. */
typedef struct store_encoded {
	const uint8_t *bytes;
	size_t len;
	uint32_t crc;
} store_encoded;

/* Starts path.tmp; nkeys sizes the bloom filter (an estimate is fine). */
store_sstable_writer *store_sstable_writer_new(const char *path, uint64_t generation,
                                               uint64_t nkeys, char *err, size_t errlen);
/* Partitions must come in strictly increasing (token, pk) order (else BROOK_ERR, nothing
 * written); BROOK_ERR with errno set when writing fails. */
int store_sstable_writer_add(store_sstable_writer *w, const store_part *p);
/* The same for p whose encoding is enc (read by store_sstable_iter_read_encoded and not
 * changed since): written as it is, not encoded again. */
int store_sstable_writer_add_encoded(store_sstable_writer *w, const store_part *p,
                                     const store_encoded *enc);
/* Writes the last index block, summary, bloom, meta, footer; syncs; renames into place;
 * frees w. */
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
/* Bytes of memory the reader holds (summary, bloom filter, its structures). */
size_t store_sstable_memory(const store_sstable *s);
const uint64_t *store_sstable_ancestors(const store_sstable *s, uint32_t *n);

/*
 * Point lookup of (token, pk): the bloom filter, a binary search of the summary, one
 * index block (more only if the group ends with the key's token), one partition. 1: found, decoded
 * into arena memory (*out); 0: absent; BROOK_ERR: unreadable or corrupt (message in err).
 */
int store_sstable_get(const store_sstable *s, int64_t token, const uint8_t *pk, size_t pklen,
                      brook_arena *a, store_part *out, char *err, size_t errlen);

/*
 * Iterators walk the partitions in order, a group at a time. An iterator holds one
 * group (its entries, and its data when small) and must be freed before its sstable is
 * closed. A new iterator is past the end until seek.
 */
store_sstable_iter *store_sstable_iter_new(const store_sstable *s);
void store_sstable_iter_free(store_sstable_iter *it);
/* To the first partition >= (token, pk) (> if strict); pk NULL: the first with
 * token >= token (> if strict). BROOK_OK, or BROOK_ERR (message in err; the iterator is
 * past the end). */
int store_sstable_iter_seek(store_sstable_iter *it, int64_t token, const uint8_t *pk, size_t pklen,
                            int strict, char *err, size_t errlen);
/* 1 and the key of the current partition (valid until the iterator moves); 0 at the end. */
int store_sstable_iter_key(const store_sstable_iter *it, int64_t *token, const uint8_t **pk,
                           uint32_t *pklen);
/* Reads and decodes the current partition into arena memory; checks its CRC and key. */
int store_sstable_iter_read(store_sstable_iter *it, brook_arena *a, store_part *out, char *err,
                            size_t errlen);
/* The same, also giving the partition's encoding (copied into the arena, which out points
 * into). */
int store_sstable_iter_read_encoded(store_sstable_iter *it, brook_arena *a, store_part *out,
                                    store_encoded *enc, char *err, size_t errlen);
/* To the next partition (reading the next group when this one is done). BROOK_OK, or
 * BROOK_ERR (message in err; the iterator is past the end). */
int store_sstable_iter_next(store_sstable_iter *it, char *err, size_t errlen);

#endif
