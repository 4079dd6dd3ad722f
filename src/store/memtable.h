/*
 * memtable.h — the store's data model (partitions, rows, cells, tombstones), its
 * reconciliation rules, its binary encoding, and the in-memory sorted table of writes.
 *
 * DATA MODEL (one CQL table, byte-oriented: the CQL layer encodes keys and values)
 *   partition  pk bytes (Cassandra's serialized partition key) + token = store_token(pk);
 *              a partition deletion, range tombstones, rows sorted by clustering key.
 *   row        ck bytes (compared by the table's store_cmp_fn; memcmp by default; an
 *              empty ck is the only row of a table without clustering columns), a row
 *              deletion, cells sorted by column id.
 *   cell       column id (u16), write timestamp (µs), value bytes; or a tombstone; or an
 *              expiring cell (ttl seconds, ldt = expiry time, seconds since the epoch).
 *   Row liveness: a row exists while it has one live cell. INSERT should also write the
 *   row marker cell (column STORE_COL_MARKER, empty value) so that a row whose regular
 *   columns are all null still exists, as Cassandra's primary-key liveness does.
 *   Deletions (store_del): ts == STORE_NO_TS means none; ldt = local deletion time (s).
 *   A deletion shadows every cell (of its scope) whose timestamp is <= its ts.
 *
 * RECONCILIATION (Cassandra's rules; store_part_merge)
 *   cells: larger timestamp wins; on a tie a tombstone/expiring-dead beats live, then
 *   the larger ldt, then the larger value (memcmp, then length). Deletions: larger ts,
 *   then larger ldt. Merging is commutative, associative and idempotent, so replaying a
 *   commit log record twice or merging sources in any order gives the same result.
 *
 * MEMORY: every owned partition lives in a brook_arena (the memtable's, or a read's);
 * store_part_merge copies what it keeps from src into dst's arena. Arrays grow
 * geometrically inside the arena; replaced values stay allocated until the arena is
 * released (a memtable's bytes count them, which bounds memory by memtable_bytes).
 *
 * MEMTABLE: partitions ordered by (token, pk) in a B+tree (memtable.c), also linked in
 * order for iteration. Not thread-safe: the engine serialises writers against everyone;
 * concurrent readers are fine (reads change nothing).
 */
#ifndef BROOK_STORE_MEMTABLE_H
#define BROOK_STORE_MEMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

#define STORE_NO_TS      INT64_MIN
#define STORE_COL_MARKER 0xFFFFu
#define STORE_MAX_KEY    65535u /* partition and clustering keys, as Cassandra's */

enum {
	STORE_CELL_TOMBSTONE = 1,
	STORE_CELL_EXPIRING = 2,
};

/* Clustering bounds flags (for ranges and range tombstones). */
enum {
	STORE_B_START_INCL = 1,
	STORE_B_END_INCL = 2,
	STORE_B_START_UNBOUNDED = 4,
	STORE_B_END_UNBOUNDED = 8,
};

typedef int (*store_cmp_fn)(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                            void *ctx);

typedef struct store_del {
	int64_t ts;  /* STORE_NO_TS: no deletion */
	int32_t ldt; /* seconds since the epoch */
} store_del;

/* Fields ordered for size (32 bytes): a memtable holds one per cell written. */
typedef struct store_cell {
	int64_t ts;           /* µs */
	const uint8_t *value; /* vlen bytes */
	uint32_t vlen;
	int32_t ttl; /* expiring cells: seconds */
	int32_t ldt; /* tombstone: deletion time; expiring: expiry time (seconds) */
	uint16_t col;
	uint8_t flags; /* STORE_CELL_* */
} store_cell;

typedef struct store_row {
	const uint8_t *ck;
	uint32_t cklen;
	store_del del;
	store_cell *cells;
	uint32_t ncells;
	uint32_t cellcap; /* owned rows only */
} store_row;

typedef struct store_bounds {
	const uint8_t *start;
	uint32_t slen;
	const uint8_t *end;
	uint32_t elen;
	uint8_t flags; /* STORE_B_* */
} store_bounds;

typedef struct store_rtomb {
	store_bounds b;
	store_del del;
} store_rtomb;

/*
 * A partition; also the mutation type. In a mutation the pointers are borrowed and
 * rows/cells may come in any order (store_part_merge sorts them in); token is
 * computed by the engine.
 */
typedef struct store_part {
	int64_t token;
	const uint8_t *pk;
	uint32_t pklen;
	store_del del;
	store_rtomb *rts;
	uint32_t nrts;
	uint32_t rtcap;
	store_row *rows;
	uint32_t nrows;
	uint32_t rowcap;
} store_part;

typedef struct store_cmp {
	store_cmp_fn fn; /* NULL: memcmp then length */
	void *ctx;
} store_cmp;

int store_ck_cmp(const store_cmp *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* (token, pk) order of partitions. */
int store_pk_cmp(int64_t ta, const uint8_t *a, size_t alen, int64_t tb, const uint8_t *b,
                 size_t blen);
static inline int store_del_live(store_del d)
{
	return d.ts != STORE_NO_TS;
}
/* 1 if ck is inside bounds. */
int store_bounds_contain(const store_cmp *c, const store_bounds *b, const uint8_t *ck,
                         size_t cklen);

/* Initialise dst as an empty owned copy of src's key (pk copied into a). */
void store_part_init(brook_arena *a, store_part *dst, const store_part *src);
/* Reconcile src into dst (dst owned by a); copies what it keeps. */
void store_part_merge(brook_arena *a, const store_cmp *c, store_part *dst, const store_part *src);
/*
 * Read view: drops everything not visible at `now` (seconds): shadowed or expired
 * cells, tombstones, the row marker is kept (it is a live cell), rows without a live
 * cell. In place; afterwards only rows and live cells remain.
 */
void store_part_filter_live(const store_cmp *c, store_part *p, int64_t now);
/*
 * Compaction: drops shadowed cells, turns expired cells into tombstones, and purges
 * tombstones and deletions whose ldt < gc_before. Returns 1 if anything remains;
 * *changed (when not NULL) says whether anything was dropped or turned.
 */
int store_part_gc(const store_cmp *c, store_part *p, int64_t now, int64_t gc_before,
                  bool *changed);

/* Binary encoding (commit log records, sstable partitions). */
void store_part_encode(const store_part *p, brook_buf *out);
/* A sequence: uvarint count, then each partition (what decode_many reads). */
void store_part_encode_many(const store_part *ps, size_t n, brook_buf *out);
/*
 * Decodes one partition from exactly n bytes into arena-owned memory (values point
 * into a copy of the input kept in the arena). Bounded: every count and length is
 * checked against the bytes left. BROOK_OK, or BROOK_ERR with a message in err.
 * Rows and cells come back in encoded order (store_part_merge sorts); token is computed.
 */
int store_part_decode(brook_arena *a, const uint8_t *p, size_t n, store_part *out, char *err,
                      size_t errlen);
/* The same from bytes that already live as long as out must (no copy). */
int store_part_decode_owned(brook_arena *a, const uint8_t *p, size_t n, store_part *out,
                            char *err, size_t errlen);
/* Decodes a sequence of partitions (a commit log record); calls fn for each. */
int store_part_decode_many(brook_arena *a, const uint8_t *p, size_t n,
                           int (*fn)(void *ctx, const store_part *p), void *ctx, char *err,
                           size_t errlen);

typedef struct store_memtable store_memtable;

/* A position in a memtable, in (token, pk) order; valid while the memtable is unchanged. */
typedef struct store_mt_iter {
	const void *leaf; /* NULL: past the last partition */
	uint32_t i;
} store_mt_iter;

store_memtable *store_memtable_new(const store_cmp *c);
void store_memtable_free(store_memtable *m);
/* Merges a mutation (token must be set). */
void store_memtable_apply(store_memtable *m, const store_part *mut);
const store_part *store_memtable_get(const store_memtable *m, int64_t token, const uint8_t *pk,
                                     size_t pklen);
/* At the first partition >= (token, pk) (> when strict); pk NULL: the first with
 * token >= token. */
void store_memtable_seek(const store_memtable *m, int64_t token, const uint8_t *pk, size_t pklen,
                         int strict, store_mt_iter *it);
void store_memtable_first(const store_memtable *m, store_mt_iter *it);
/* The partition at it; NULL past the last one. */
const store_part *store_mt_iter_part(const store_mt_iter *it);
void store_mt_iter_next(store_mt_iter *it);
size_t store_memtable_bytes(const store_memtable *m);
uint64_t store_memtable_count(const store_memtable *m);

#endif
