/*
 * commitlog.h — the store's write-ahead log with group commit.
 *
 * FILES: DIR/CL-<seq, 16 digits>.log, replayed in seq order. A record is
 *   u32 BE payload length (1..max_record) | u32 BE CRC-32C of the payload | payload.
 * A record is whole or absent after recovery: replay stops at the first record that is
 * short, has an impossible length or a bad CRC; in the LAST segment that tail is
 * truncated away (a crash mid-append), in an earlier one it is corruption and open
 * fails (earlier segments were fdatasync()ed before the next one was created).
 *
 * SYNC MODES (what store_commitlog_sync promises when it returns BROOK_OK)
 *   batch:    the record with that lsn, and every earlier one, is on disk (fdatasync).
 *             Group commit: the first waiter becomes the leader, optionally waits
 *             window_us for company, writes everything appended so far with one write
 *             and one fdatasync; the others sleep on a condition variable.
 *   periodic: the record has been written to the kernel (survives a brook crash, not a
 *             power loss); fdatasync runs when period_ms has passed since the last one,
 *             at the next sync call, and always at roll and close.
 *
 * Thread-safe: append/sync may be called from any thread.
 */
#ifndef BROOK_STORE_COMMITLOG_H
#define BROOK_STORE_COMMITLOG_H

#include <stddef.h>
#include <stdint.h>

enum { STORE_SYNC_BATCH = 0, STORE_SYNC_PERIODIC = 1 };

typedef struct store_commitlog_opts {
	int mode;             /* STORE_SYNC_* */
	int64_t window_us;    /* batch: group-commit wait before syncing; 0: none */
	int64_t period_ms;    /* periodic: fdatasync at most this old */
	uint32_t max_record;  /* bytes; longer payloads are refused (and rejected at replay) */
	uint64_t drop_before; /* segments with a lower seq are deleted unreplayed (truncate) */
} store_commitlog_opts;

typedef struct store_commitlog store_commitlog;

/* Called for each valid record at open, in order; non-zero return fails the open. */
typedef int (*store_replay_fn)(void *ctx, const uint8_t *payload, size_t len);

/*
 * Opens (creating) DIR, replays every segment through fn, truncates a torn tail of the
 * last one, and starts a new segment. BROOK_ERR with a message in err on failure.
 */
int store_commitlog_open(const char *dir, const store_commitlog_opts *opts, store_replay_fn fn,
                         void *ctx, store_commitlog **out, char *err, size_t errlen);
/* Flushes and syncs what is pending, closes. Never fails the caller (logs errors). */
void store_commitlog_close(store_commitlog *cl);
/* Crash simulation (tests): frees without writing pending records or syncing. */
void store_commitlog_abandon(store_commitlog *cl);
/* Queues a record; returns its lsn (> 0), or 0 if the payload is too long. */
uint64_t store_commitlog_append(store_commitlog *cl, const void *payload, size_t len);
/* Waits until lsn is durable per the sync mode. BROOK_ERR if the disk write failed. */
int store_commitlog_sync(store_commitlog *cl, uint64_t lsn);
/*
 * Seals the active segment (written and fdatasync()ed) and starts a new one; returns
 * the new segment's seq via *seq. Records appended before the call are in older segments.
 */
int store_commitlog_roll(store_commitlog *cl, uint64_t *seq);
/* Unlinks the segments older than seq (after their data is durable elsewhere). */
int store_commitlog_drop_before(store_commitlog *cl, uint64_t seq);
/* Number of segment files. */
unsigned store_commitlog_segments(const store_commitlog *cl);

#endif
