/*
 * engine.h — the storage engine of one table: an LSM tree (commit log, memtable,
 * sstables, compaction). Byte-oriented; the data model and reconciliation rules are in
 * store/memtable.h, the durability contract in engine.c's design block.
 *
 * Usage:
 *   store_engine_opts o; store_engine_opts_default(&o); o.cmp = ...;
 *   store_engine *e; store_engine_open("DIR", &o, &e, err, sizeof err);
 *   store_engine_write(e, muts, n, err, sizeof err);      // durable when it returns OK
 *   store_engine_read(e, pk, pklen, &ro, row_cb, ctx, err, sizeof err);
 *   store_engine_close(e);                                 // flushes the memtable
 *
 * Thread-safety: every function may be called from any thread, except that close and
 * abandon must be the last call. Writers take a write lock for the moment of appending
 * to the commit log and the memtable; reads and scans share a read lock. Flushes and
 * compactions run on the engine's two background threads and take the write lock only
 * to publish their result (engine.c's design block). Row callbacks run under the read
 * lock: they must not call back into the engine.
 */
#ifndef BROOK_STORE_ENGINE_H
#define BROOK_STORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/commitlog.h"
#include "store/memtable.h"

typedef struct store_engine_opts {
	size_t memtable_bytes;       /* flush when the memtable holds more; default 64 MiB */
	int sync_mode;               /* STORE_SYNC_BATCH (default) or STORE_SYNC_PERIODIC */
	int64_t sync_window_us;      /* batch mode group-commit window; default 0 */
	int64_t sync_period_ms;      /* periodic mode; default 10000 */
	uint32_t max_mutation_bytes; /* one apply call, encoded; default 16 MiB */
	unsigned compact_threshold;  /* sstables of one size tier that trigger a compaction;
	                              * default 4; 0 off */
	size_t compact_small_bytes;  /* sstables below this size are one tier; 0: memtable_bytes */
	int64_t gc_grace_seconds;    /* tombstones older than this are purged; default 864000 */
	store_cmp cmp;               /* clustering order; zero: memcmp */
	int64_t (*clock)(void *ctx); /* seconds since the epoch; NULL: real time */
	void *clock_ctx;
	/*
	 * Tests only (NULL in production): called on a background thread after each
	 * partition a flush (event STORE_HOOK_FLUSH) or compaction (STORE_HOOK_COMPACT)
	 * writes, and when a compaction has chosen its inputs (STORE_HOOK_COMPACT_START).
	 * It may block. Returning 0 goes on; > 0 simulates a crash there: the job stops
	 * leaving its partial .tmp file, publishes nothing, and the engine does no more
	 * background work (the test then calls store_engine_abandon); < 0 fails the job
	 * as an I/O error would (the engine retries it later).
	 */
	int (*test_hook)(void *ctx, int event);
	void *test_hook_ctx;
} store_engine_opts;

enum { STORE_HOOK_FLUSH = 1, STORE_HOOK_COMPACT = 2, STORE_HOOK_COMPACT_START = 3 };

void store_engine_opts_default(store_engine_opts *o);

typedef struct store_engine store_engine;

/*
 * Opens or creates DIR, recovers (see engine.c) and starts the background threads.
 * BROOK_ERR with a message in err.
 */
int store_engine_open(const char *dir, const store_engine_opts *o, store_engine **out, char *err,
                      size_t errlen);
/*
 * Cancels a running compaction (its inputs stay), flushes the memtables, stops the
 * background threads, syncs, frees. A flush that fails is logged; the commit log keeps
 * the data for the next open.
 */
void store_engine_close(store_engine *e);
/*
 * Crash simulation for tests: stops the background threads where they are (a flush
 * or compaction in progress leaves its incomplete .tmp file) and frees everything
 * without flushing, writing pending commit log records or syncing, leaving the
 * directory as a kill -9 would.
 */
void store_engine_abandon(store_engine *e);

/*
 * Applies n mutations atomically (one commit log record) to the commit log and the
 * memtable; they are visible to reads at once but durable only after
 * store_engine_sync(lsn). Each mutation's pk must be 1..65535 bytes; token is ignored
 * (computed). A full memtable is handed to the background flusher; the call waits
 * only when the active memtable reaches 9/8 of memtable_bytes before the flusher could
 * take it (back-pressure), and fails (nothing applied) only if flushing is failing then
 * (disk full): see engine.c.
 */
int store_engine_apply(store_engine *e, const store_part *muts, size_t n, uint64_t *lsn, char *err,
                       size_t errlen);
/* Blocks until lsn is durable per the sync mode (group commit). */
int store_engine_sync(store_engine *e, uint64_t lsn);
/* apply + sync: returns BROOK_OK only once the write is acknowledged-durable. */
int store_engine_write(store_engine *e, const store_part *muts, size_t n, char *err, size_t errlen);

/* Called per visible row, with the partition (key, token) and the row's live cells.
 * Return non-zero to stop. Both are valid only during the call. */
typedef int (*store_row_cb)(void *ctx, const store_part *part, const store_row *row);

typedef struct store_read_opts {
	store_bounds range; /* flags STORE_B_START_UNBOUNDED|STORE_B_END_UNBOUNDED: all rows */
	int reverse;
	uint64_t limit; /* rows; 0: no limit */
	int64_t now;    /* seconds, for TTL; 0: the engine clock */
} store_read_opts;

/* Rows of one partition within range, newest-wins across memtable and sstables. */
int store_engine_read(store_engine *e, const uint8_t *pk, size_t pklen, const store_read_opts *ro,
                      store_row_cb cb, void *ctx, char *err, size_t errlen);

/* A resumable scan position: the last row returned. */
typedef struct store_pos {
	int valid; /* 0: start of the token range */
	int64_t token;
	brook_buf pk;
	brook_buf ck;
} store_pos;

void store_pos_release(store_pos *p);
void store_pos_copy(store_pos *dst, const store_pos *src);

/*
 * Rows of partitions with min_token <= token <= max_token in (token, pk, ck) order,
 * starting after `after` (NULL or !valid: from the start), at most limit rows (0: all).
 * *next (if not NULL) receives the position of the last row delivered (valid = 0 if
 * none); *nrows the count. A caller pages by passing next back as after until fewer
 * than limit rows come back.
 */
int store_engine_scan(store_engine *e, int64_t min_token, int64_t max_token, const store_pos *after,
                      uint64_t limit, int64_t now, store_row_cb cb, void *ctx, store_pos *next,
                      uint64_t *nrows, char *err, size_t errlen);

/*
 * Synchronous: every mutation applied before the call is in an sstable when it returns
 * BROOK_OK (the memtables were flushed by the background thread, old commit log
 * segments removed). BROOK_ERR with the flush's error.
 */
int store_engine_flush(store_engine *e, char *err, size_t errlen);
/*
 * Synchronous: flush, then merge every sstable into one, purging (now = engine clock);
 * returns when that compaction is done.
 */
int store_engine_compact(store_engine *e, char *err, size_t errlen);
/* Removes all data, durably (cancels a running compaction, waits for a flush). */
int store_engine_truncate(store_engine *e, char *err, size_t errlen);
/*
 * Waits until no flush or compaction is pending or running. BROOK_ERR (message in err)
 * if the last flush or compaction attempt failed instead; tests and tools.
 */
int store_engine_wait_idle(store_engine *e, char *err, size_t errlen);

typedef struct store_engine_stats {
	uint64_t writes; /* mutations applied */
	uint64_t reads;  /* partition reads */
	uint64_t scans;
	uint64_t flushes;        /* completed */
	uint64_t compactions;    /* completed */
	uint64_t memtable_bytes; /* the active memtable */
	uint64_t memtable_partitions;
	uint64_t sstables;
	uint64_t sstable_bytes;
	uint64_t commitlog_segments;
	/* background work */
	uint64_t memtables;             /* in memory: 1, or 2 while one waits for its flush */
	uint64_t flush_pending_bytes;   /* the memtable being flushed; 0: none */
	uint64_t flush_bytes_written;   /* sstable bytes written by flushes */
	uint64_t flush_us;              /* total time flushing */
	uint64_t flush_last_us;         /* the last completed flush */
	uint64_t flush_failures;        /* attempts that failed (retried later) */
	uint64_t compacting;            /* 1 while a compaction runs */
	uint64_t compaction_bytes_read; /* input sstable bytes of completed compactions */
	uint64_t compaction_bytes_written;
	uint64_t compaction_us;
	uint64_t compaction_last_us;
	uint64_t compaction_failures;
	uint64_t write_stalls;   /* writes that waited for a flush (back-pressure) */
	uint64_t write_stall_us; /* total time they waited */
	uint64_t writes_refused; /* writes failed because memory was full and flushes failing */
} store_engine_stats;

void store_engine_get_stats(store_engine *e, store_engine_stats *out);

#endif
