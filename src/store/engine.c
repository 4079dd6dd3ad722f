/*
 * engine.c — one table's LSM tree: commit log + memtables + sstables + compaction, with
 * flushes and compactions on two background threads.
 *
 * FILES (in the table directory DIR)
 *   commitlog/CL-<seq>.log   write-ahead log segments (store/commitlog.h)
 *   sst-<gen>.db             immutable sorted files (store/sstable.h); gen increases
 *   sst-<gen>.db.tmp         an sstable being written; removed at open (never read)
 *   TRUNCATED                "G S": a truncate in progress — sstables with gen < G and
 *                            commit log segments with seq < S are dead
 *
 * MEMTABLES AND THREADS
 *   mt    the active memtable: writers apply to it under the write lock.
 *   imm   the flushing memtable (or NULL): immutable, read by readers under the read
 *         lock and written to an sstable by the FLUSHER thread without any lock.
 *   The COMPACTOR thread merges sstables without any lock. Both take the write lock
 *   only to publish their result (a few pointer swaps), so writers and readers never
 *   wait for a flush or compaction to be written — except under back-pressure (below).
 *
 * STATE MACHINE (memtables; who performs each transition)
 *   A  [mt filling, imm NULL]
 *      --an apply takes mt to memtable_bytes: it sets switch_wanted--> A'
 *   A' [mt full, imm NULL]
 *      --the flusher, switch_now(): syncs the commit log without any lock, then under
 *        the write lock switch_locked() rolls the log (only a short tail is left to
 *        sync) and mt becomes imm, a fresh mt the active one--> B
 *   B  [mt filling, imm flushing]
 *      --the flusher, flush_imm(): writes and syncs the sstable without any lock, then
 *        under the write lock publishes it and drops imm; then unlinks the segments
 *        below imm_seq--> A, or A' when mt reached memtable_bytes meanwhile
 *   store_engine_flush, compact and close switch a non-empty mt themselves (flush_sync)
 *   and wait; truncate drops both memtables (counted as a switch and a flush).
 *   Writers never wait for any of this until mt reaches cap = memtable_bytes + 1/8 (room
 *   for what arrives while a switch or a flush completes); then they wait in
 *   make_room_locked() for the next switch (back-pressure: the flush of imm, then the
 *   switch of mt).
 *   switch_locked() rolls the commit log under the write lock, so the segments below the
 *   new one (imm_seq) hold exactly the data of imm and of memtables already flushed.
 *   (In periodic sync mode the sync before it does not force an fdatasync, so the roll
 *   may hold the lock for one of up to a memtable's worth of log.)
 *
 * MEMORY BOUND: at most two memtables exist (mt and imm). A writer checks mt against
 *   cap before applying, so a memtable ends at most one apply call past cap; an apply's
 *   footprint is its arena bytes (the batch's keys and values copied, plus about 32
 *   bytes per cell and 200 per partition; a batch is at most max_mutation_bytes
 *   encoded).
 *   So memtables <= 2 × (9/8 × memtable_bytes + one batch) — about 2.25 ×
 *   memtable_bytes — counted as store_memtable_bytes does (arena bytes handed out; the
 *   arena's unused chunk tails are virtual memory, not resident). On top of that: the
 *   flusher's sstable writer and the compactor's (a 1 MiB buffer, one index block, the
 *   summary and the bloom filter: about 1.6 bytes per partition — the index is
 *   streamed, store/sstable.h), the compactor's merge (one group of each input, at most
 *   256 KiB each, and one merged partition), each scan's iterators (the same per
 *   sstable), and each apply's encoded record until the commit log writes it. Open
 *   sstables hold only their sampled index and bloom filter (about 2 bytes per
 *   partition): nothing else grows with the data stored. A freed memtable's memory
 *   stays with malloc, reused by the next one; once no flush has run for TRIM_IDLE_MS
 *   the flusher hands it back to the system (malloc_trim), so an idle table's resident
 *   memory is its live memory.
 *
 * INVARIANTS
 *   - Every mutation applied since the last completed flush is in a commit log segment
 *     that still exists: segments below imm_seq are removed only after imm's sstable is
 *     renamed into place and the directory fsynced. apply appends to the log and the
 *     memtable under the same write lock as the roll, so the split is exact.
 *   - An sst-*.db file is always whole (written as .tmp, fdatasync, rename, dir fsync).
 *   - A compaction's output names the sstables it replaces (its "ancestors"); open
 *     deletes any sstable that is an ancestor of another present one, so a crash between
 *     the rename and the unlinks can never resurrect data a purged tombstone shadowed.
 *   - COMPACTION is size-tiered, as Cassandra's default: the sstables are grouped by
 *     size (sorted by file size, an sstable joins the group of the ones before it while
 *     it is at most 1.5 × their average, and every sstable smaller than
 *     compact_small_bytes, by default memtable_bytes, is in the first group), and the
 *     first group of at least compact_threshold sstables (at most COMPACT_MAX_INPUTS of
 *     its smallest) is merged. So each byte is
 *     rewritten about log_threshold(data / memtable) times, not once per compaction as
 *     when every compaction merged everything. store_engine_compact merges them all. A
 *     partition that only one input holds and that store_part_gc leaves as it is, is
 *     written as stored (store_sstable_writer_add_encoded), not decoded and encoded.
 *   - PURGING (refined): only a compaction of every sstable present when it starts (its
 *     inputs) purges; a partial one keeps every tombstone (the sstables it leaves out
 *     may hold the data they shadow). Flushes publish new sstables meanwhile and the
 *     swap at its end replaces only the inputs. The data outside the inputs is the
 *     memtables' and what is flushed meanwhile, and outside_min tracks its smallest
 *     timestamp (set when the compaction starts from both memtables' minimum, lowered
 *     by every apply). A merged partition's
 *     tombstones (deletions, tombstone cells, expired cells) are purged only if all of
 *     them are older than outside_min when the partition is written; otherwise the
 *     partition keeps them (store_part_gc with no gc_before). So a purge never uncovers
 *     data written before it decided; a write carrying a timestamp older than a
 *     tombstone already past gc_grace, arriving after the purge, can reappear — as in
 *     Cassandra, which is what gc_grace_seconds is about.
 *   - Only the flusher removes imm and adds flushed sstables; only the compactor
 *     removes sstables — except truncate, which first stops both (paused) and cancels a
 *     running compaction.
 *
 * ERRORS IN THE BACKGROUND (disk full, EIO): a failed flush leaves imm in memory,
 *   readable, and its commit log segments in place; it is logged and retried after a
 *   backoff (100 ms doubling to 10 s; store_engine_flush and close retry at once). A
 *   switch whose commit log roll fails is retried the same way, mt staying active.
 *   Writers carry on into mt; only when it reaches cap while the flusher is failing do
 *   they fail, with nothing applied (writes_refused in the stats) — rather than letting
 *   memory grow without bound. A failed compaction leaves its inputs in use; it is
 *   logged and retried after a backoff.
 *
 * LOCKS: lock (rwlock) guards the table's contents (mt, imm, the sstable set, their
 *   counters); mu guards the background state (job counters, flags, errors, stats) and
 *   goes with cond. Order: lock before mu, never the reverse; a thread waits on cond only
 *   after releasing lock. The rwlock prefers writers (a stream of readers would starve
 *   writers and publishes otherwise), so nobody may take its read side twice.
 *
 * WHAT AN ACKNOWLEDGEMENT PROMISES (store_engine_write / store_engine_sync returning OK)
 *   batch mode (default): the mutation is in a commit log record covered by a completed
 *     fdatasync — it survives a crash of brook, of the kernel, or a power loss (given a
 *     disk that honours flushes). Concurrent writers share fdatasyncs (group commit).
 *   periodic mode: the record was handed to the kernel — it survives a brook crash, but
 *     a power loss may lose up to sync_period_ms of acknowledged writes.
 *   Writes become visible to reads before they are durable (when apply returns): a
 *   reader may see a write that a crash then loses, but only an unacknowledged one.
 *   A mutation batch given to one apply call is atomic across crashes (one record).
 *
 * RECOVERY (store_engine_open), on every open:
 *   1. a TRUNCATED marker, if any, is honoured (dead sstables unlinked, dead segments
 *      dropped by the commit log) and then removed;
 *   2. *.tmp files are removed (a flush or compaction cut short); every sst-*.db is
 *      opened and fully validated (a file failing a check fails the open: it is
 *      corruption, not a crash artefact); ancestors of present sstables are unlinked;
 *   3. the commit log replays every segment into a fresh memtable (a torn tail of the
 *      last segment is truncated; see commitlog.h); replay is idempotent, so data that
 *      was both flushed and still in the log merges to the same result. At most two
 *      memtables' worth of segments exist, so replay needs about 2 × memtable_bytes; a
 *      memtable over the limit is handed to the flusher at once.
 *
 * READS merge the partition from both memtables and every sstable whose bloom filter
 * admits the key (newest-wins is by timestamp, so order does not matter), then apply
 * tombstones and TTL at `now`, then select the clustering range. A partition is
 * materialised whole in a per-read arena (fine for narrow and moderately wide
 * partitions; a per-partition row index would serve very wide ones better).
 */
#include "store/engine.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "store/murmur3.h"
#include "store/sstable.h"

#define COMP "store"

/* Background jobs: BROOK_OK, BROOK_ERR, or stopped by cancel / abandon (not an error). */
#define JOB_STOPPED 1
#define COMPACT_MAX_INPUTS 32

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 10000
/* The flusher returns freed memory to the system once this long without a flush. */
#define TRIM_IDLE_MS 1000

struct store_engine {
	char *dir;
	store_engine_opts o;
	store_commitlog *cl;

	/* The table's contents: changed under the write lock, used under the read lock. */
	pthread_rwlock_t lock;
	store_memtable *mt;            /* active */
	store_memtable *imm;           /* being flushed; NULL: none */
	uint64_t imm_seq;              /* commit log segments below it hold imm's data */
	int64_t mt_min_ts, imm_min_ts; /* smallest timestamp applied to each */
	int64_t outside_min;           /* atomic: see PURGING */
	store_sstable **ssts;          /* ascending generation */
	size_t nssts, capssts;
	uint64_t last_lsn;             /* atomic: the last record appended */
	int asked;                     /* switch_wanted was set for this mt */
	uint64_t writes, reads, scans; /* reads and scans: atomic */

	/* Background state, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cond; /* broadcast on every change */
	pthread_t flusher, compactor;
	int has_flusher, has_compactor;   /* started, not joined yet */
	int stop_flusher, stop_compactor; /* close: exit once idle */
	int abandon;                      /* atomic: exit now, as a crash would */
	int compact_cancel;               /* atomic: the running compaction gives up */
	int paused;                       /* truncate in progress: start nothing */
	uint64_t next_gen;
	uint64_t switches, flushed; /* memtables handed over / gone since open */
	int switch_wanted;          /* mt reached memtable_bytes: switch it */
	int flush_running, flush_kick, flush_failing;
	int64_t trim_due_ms; /* monotonic; 0: nothing freed since the last trim */
	unsigned flush_backoff_ms;
	int64_t flush_retry_ms; /* monotonic */
	char flush_err[256];
	int compact_running, compact_auto, compact_failing;
	uint64_t compact_req, compact_done, compact_failed_req;
	unsigned compact_backoff_ms;
	int64_t compact_retry_ms;
	char compact_err[256];
	/* statistics */
	uint64_t flushes, flush_failures, flush_bytes, flush_us, flush_last_us;
	uint64_t compactions, compaction_failures, cbytes_read, cbytes_written;
	uint64_t compaction_us, compaction_last_us;
	uint64_t stalls, stall_us, refused;
};

void store_engine_opts_default(store_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->memtable_bytes = 64u << 20;
	o->sync_mode = STORE_SYNC_BATCH;
	o->sync_period_ms = 10000;
	o->max_mutation_bytes = 16u << 20;
	o->compact_threshold = 4;
	o->gc_grace_seconds = 864000;
}

static int64_t now_s(const store_engine *e)
{
	return e->o.clock ? e->o.clock(e->o.clock_ctx) : (int64_t)time(NULL);
}

static int64_t mono_us(void)
{
	return brook_mono_ns() / 1000;
}

static void sst_path(const store_engine *e, uint64_t gen, char *out, size_t n)
{
	snprintf(out, n, "%s/sst-%016" PRIu64 ".db", e->dir, gen);
}

static int gen_cmp(const void *a, const void *b)
{
	uint64_t x = store_sstable_generation(*(store_sstable *const *)a);
	uint64_t y = store_sstable_generation(*(store_sstable *const *)b);
	return x < y ? -1 : x > y;
}

static void push_sst(store_engine *e, store_sstable *s)
{
	if (e->nssts == e->capssts) {
		e->capssts = e->capssts ? e->capssts * 2 : 8;
		e->ssts = brook_realloc(e->ssts, e->capssts * sizeof(*e->ssts));
	}
	e->ssts[e->nssts++] = s;
}

static int abandoning(store_engine *e)
{
	return __atomic_load_n(&e->abandon, __ATOMIC_ACQUIRE);
}

static uint64_t alloc_gen(store_engine *e)
{
	pthread_mutex_lock(&e->mu);
	uint64_t g = e->next_gen++;
	pthread_mutex_unlock(&e->mu);
	return g;
}

/* Waits on cond (mu held) until woken or, if deadline_ms > 0, that monotonic time. */
static void wait_until(store_engine *e, int64_t deadline_ms)
{
	if (deadline_ms <= 0) {
		pthread_cond_wait(&e->cond, &e->mu);
		return;
	}
	struct timespec ts = {.tv_sec = deadline_ms / 1000,
	                      .tv_nsec = (long)(deadline_ms % 1000) * 1000000};
	pthread_cond_timedwait(&e->cond, &e->mu, &ts);
}

static unsigned next_backoff(unsigned ms)
{
	return ms ? (ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ms * 2) : RETRY_MIN_MS;
}

/* The test hook (engine.h): 0 go on, JOB_STOPPED crash here, BROOK_ERR fail here. */
static int hook(store_engine *e, int event, char *err, size_t errlen)
{
	int r = e->o.test_hook ? e->o.test_hook(e->o.test_hook_ctx, event) : 0;
	if (r > 0) {
		__atomic_store_n(&e->abandon, 1, __ATOMIC_RELEASE);
		return JOB_STOPPED;
	}
	if (r < 0) {
		snprintf(err, errlen, "simulated I/O error (test hook)");
		return BROOK_ERR;
	}
	return 0;
}

/* The smallest timestamp a mutation carries (cells and deletions). */
static int64_t part_min_ts(const store_part *m)
{
	int64_t t = INT64_MAX;
	if (store_del_live(m->del))
		t = m->del.ts;
	for (uint32_t i = 0; i < m->nrts; i++)
		if (m->rts[i].del.ts < t)
			t = m->rts[i].del.ts;
	for (uint32_t i = 0; i < m->nrows; i++) {
		const store_row *r = &m->rows[i];
		if (store_del_live(r->del) && r->del.ts < t)
			t = r->del.ts;
		for (uint32_t j = 0; j < r->ncells; j++)
			if (r->cells[j].ts < t)
				t = r->cells[j].ts;
	}
	return t;
}

/* The newest timestamp among what purging could drop: deletions, tombstone and
 * expiring cells. STORE_NO_TS (the smallest) when there are none. */
static int64_t part_purgeable_max_ts(const store_part *p)
{
	int64_t t = p->del.ts;
	for (uint32_t i = 0; i < p->nrts; i++)
		if (p->rts[i].del.ts > t)
			t = p->rts[i].del.ts;
	for (uint32_t i = 0; i < p->nrows; i++) {
		const store_row *r = &p->rows[i];
		if (r->del.ts > t)
			t = r->del.ts;
		for (uint32_t j = 0; j < r->ncells; j++)
			if ((r->cells[j].flags & (STORE_CELL_TOMBSTONE | STORE_CELL_EXPIRING)) &&
			    r->cells[j].ts > t)
				t = r->cells[j].ts;
	}
	return t;
}

/* ---- merging iterator over memtables and sstables ---- */

typedef struct src_iter {
	store_sstable_iter *sit; /* NULL: a memtable, at mti */
	store_mt_iter mti;
} src_iter;

typedef struct merge_it {
	src_iter *srcs;
	size_t n;
	int64_t max_token;
	const store_cmp *cmp;
} merge_it;

static int src_key(const src_iter *s, int64_t *tok, const uint8_t **pk, uint32_t *pklen)
{
	if (!s->sit) {
		const store_part *p = store_mt_iter_part(&s->mti);
		if (!p)
			return 0;
		*tok = p->token;
		*pk = p->pk;
		*pklen = p->pklen;
		return 1;
	}
	return store_sstable_iter_key(s->sit, tok, pk, pklen);
}

static void merge_release(merge_it *it)
{
	for (size_t i = 0; i < it->n; i++)
		store_sstable_iter_free(it->srcs[i].sit);
	free(it->srcs);
	it->srcs = NULL;
	it->n = 0;
}

/*
 * Sets up sources positioned at (token, pk) (pk NULL: at token). BROOK_ERR (message in
 * err) if an sstable's index block cannot be read; release it with merge_release either
 * way.
 */
static int merge_init(merge_it *it, const store_cmp *cmp, store_memtable *const *mts, size_t nmts,
                      store_sstable *const *ssts, size_t nssts, int64_t token, const uint8_t *pk,
                      size_t pklen, int64_t max_token, char *err, size_t errlen)
{
	it->n = 0;
	it->max_token = max_token;
	it->cmp = cmp;
	it->srcs = brook_calloc(nmts + nssts + 1, sizeof(src_iter));
	for (size_t i = 0; i < nmts; i++)
		store_memtable_seek(mts[i], token, pk, pklen, 0, &it->srcs[it->n++].mti);
	for (size_t i = 0; i < nssts; i++) {
		src_iter *s = &it->srcs[it->n++];
		s->sit = store_sstable_iter_new(ssts[i]);
		if (store_sstable_iter_seek(s->sit, token, pk, pklen, 0, err, errlen) != 0)
			return BROOK_ERR;
	}
	return BROOK_OK;
}

/* 1: a merged partition in out; 0: done; -1: error (message in err). enc (may be NULL):
 * when the partition is in one source only, an sstable, out is that sstable's partition
 * as it is and enc its encoding; else enc->bytes is NULL. */
static int merge_next(merge_it *it, brook_arena *a, store_part *out, store_encoded *enc,
                      char *err, size_t errlen)
{
	int64_t mt = 0;
	const uint8_t *mpk = NULL;
	uint32_t mlen = 0;
	size_t have = 0, first = 0; /* sources with the smallest key; the first of them */
	for (size_t i = 0; i < it->n; i++) {
		int64_t t;
		const uint8_t *pk;
		uint32_t len;
		if (!src_key(&it->srcs[i], &t, &pk, &len))
			continue;
		int c = have ? store_pk_cmp(t, pk, len, mt, mpk, mlen) : -1;
		if (c < 0) {
			mt = t;
			mpk = pk;
			mlen = len;
			have = 1;
			first = i;
		} else if (c == 0) {
			have++;
		}
	}
	if (enc)
		enc->bytes = NULL;
	if (!have || mt > it->max_token)
		return 0;
	src_iter *one = &it->srcs[first];
	if (have == 1 && enc && one->sit) {
		if (store_sstable_iter_read_encoded(one->sit, a, out, enc, err, errlen) != 0 ||
		    store_sstable_iter_next(one->sit, err, errlen) != 0)
			return -1;
		return 1;
	}
	store_part key = {.token = mt, .pk = mpk, .pklen = mlen};
	store_part_init(a, out, &key); /* copies the key: sources may move below */
	for (size_t i = first; i < it->n; i++) {
		src_iter *s = &it->srcs[i];
		int64_t t;
		const uint8_t *pk;
		uint32_t len;
		if (!src_key(s, &t, &pk, &len) || store_pk_cmp(t, pk, len, mt, out->pk, mlen) != 0)
			continue;
		if (!s->sit) {
			store_part_merge(a, it->cmp, out, store_mt_iter_part(&s->mti));
			store_mt_iter_next(&s->mti);
		} else {
			store_part p;
			if (store_sstable_iter_read(s->sit, a, &p, err, errlen) != 0)
				return -1;
			store_part_merge(a, it->cmp, out, &p);
			if (store_sstable_iter_next(s->sit, err, errlen) != 0)
				return -1;
		}
	}
	return 1;
}

/* ---- switching and flushing memtables ---- */

/* Write lock held, imm NULL: mt becomes the flushing memtable (state A -> B). */
static int switch_locked(store_engine *e, char *err, size_t errlen)
{
	uint64_t seq;
	if (store_commitlog_roll(e->cl, &seq) != 0) {
		snprintf(err, errlen,
		         "cannot flush table %s: the commit log could not be sealed (see the "
		         "commit log error)",
		         e->dir);
		return BROOK_ERR;
	}
	e->imm = e->mt;
	e->imm_seq = seq;
	e->imm_min_ts = e->mt_min_ts;
	e->mt = store_memtable_new(&e->o.cmp);
	e->mt_min_ts = INT64_MAX;
	e->asked = 0;
	pthread_mutex_lock(&e->mu);
	e->switches++;
	e->switch_wanted = 0;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	return BROOK_OK;
}

/*
 * A -> B from outside the lock (flusher, store_engine_flush): first syncs the commit
 * log up to the last record without any lock, so that the roll, which runs under the
 * write lock and fdatasyncs what is pending, only has the short tail appended since.
 * Switches if imm is gone and mt is full (or, with `any`, not empty).
 */
static int switch_now(store_engine *e, int any, char *err, size_t errlen)
{
	store_commitlog_sync(e->cl, __atomic_load_n(&e->last_lsn, __ATOMIC_ACQUIRE));
	int rc = BROOK_OK;
	pthread_rwlock_wrlock(&e->lock);
	if (!e->imm && store_memtable_count(e->mt) &&
	    (any || store_memtable_bytes(e->mt) >= e->o.memtable_bytes))
		rc = switch_locked(e, err, errlen);
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

/*
 * Writes imm to a new sstable and publishes it (B -> A). Runs on the flusher with no
 * lock held while writing: imm is immutable and only this function removes it.
 */
static int flush_imm(store_engine *e, char *err, size_t errlen)
{
	pthread_rwlock_rdlock(&e->lock);
	store_memtable *m = e->imm;
	uint64_t seq = e->imm_seq;
	pthread_rwlock_unlock(&e->lock);
	if (!m)
		return BROOK_OK;
	int64_t t0 = mono_us();
	uint64_t gen = alloc_gen(e);
	char path[4096];
	sst_path(e, gen, path, sizeof(path));
	store_sstable_writer *w =
	    store_sstable_writer_new(path, gen, store_memtable_count(m), err, errlen);
	if (!w)
		return BROOK_ERR;
	store_mt_iter mi;
	const store_part *mp;
	for (store_memtable_first(m, &mi); (mp = store_mt_iter_part(&mi));
	     store_mt_iter_next(&mi)) {
		if (abandoning(e)) {
			store_sstable_writer_abandon(w);
			return JOB_STOPPED;
		}
		if (store_sstable_writer_add(w, mp) != 0) {
			snprintf(err, errlen, "cannot write sstable %s: %s", path, strerror(errno));
			store_sstable_writer_abort(w);
			return BROOK_ERR;
		}
		int h = hook(e, STORE_HOOK_FLUSH, err, errlen);
		if (h == JOB_STOPPED)
			store_sstable_writer_abandon(w);
		else if (h)
			store_sstable_writer_abort(w);
		if (h)
			return h;
	}
	if (store_sstable_writer_finish(w, NULL, 0, err, errlen) != 0)
		return BROOK_ERR;
	store_sstable *s = store_sstable_open(path, err, errlen);
	if (!s) {
		unlink(path); /* whole but unusable now (EMFILE?): the retry writes another */
		return BROOK_ERR;
	}
	uint64_t parts = store_memtable_count(m), fbytes = store_sstable_file_bytes(s);
	size_t mbytes = store_memtable_bytes(m);
	pthread_rwlock_wrlock(&e->lock);
	push_sst(e, s);
	e->imm = NULL;
	e->imm_min_ts = INT64_MAX;
	int want_compact = e->o.compact_threshold && e->nssts >= e->o.compact_threshold;
	pthread_rwlock_unlock(&e->lock);
	/* No reader can hold m now: readers hold the read lock while using it. */
	store_commitlog_drop_before(e->cl, seq);
	store_memtable_free(m);
	int64_t us = mono_us() - t0;
	pthread_mutex_lock(&e->mu);
	e->flushed++; /* only now: store_engine_flush promises the segments are gone */
	e->flushes++;
	e->flush_bytes += fbytes;
	e->flush_us += (uint64_t)us;
	e->flush_last_us = (uint64_t)us;
	if (want_compact)
		e->compact_auto = 1;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	brook_log(BROOK_LOG_DEBUG, COMP,
	          "flushed %" PRIu64 " partitions (%zu memtable bytes) of %s to %s in %" PRId64
	          " ms",
	          parts, mbytes, e->dir, path, us / 1000);
	return BROOK_OK;
}

static void *flusher_main(void *arg)
{
	pthread_setname_np(pthread_self(), "store-flush");
	store_engine *e = arg;
	char err[512];
	pthread_mutex_lock(&e->mu);
	for (;;) {
		if (abandoning(e))
			break;
		int have_imm = e->switches > e->flushed;
		int want_switch = !have_imm && e->switch_wanted;
		if (e->paused || (!have_imm && !want_switch)) {
			if (e->stop_flusher && !have_imm)
				break;
			if (e->trim_due_ms && brook_mono_ms() >= e->trim_due_ms) {
				/* Idle since the last flush freed a memtable: give its pages back.
				 * glibc's malloc raises its mmap threshold as large blocks are
				 * freed, so the memtable arenas' multi-MiB chunks come from the
				 * heap, which keeps them resident after free() — tens of MiB. Not
				 * after every flush: under load the next memtable reuses them, and
				 * a trim (which takes each malloc arena's lock) slows writers. */
				e->trim_due_ms = 0;
				pthread_mutex_unlock(&e->mu);
				malloc_trim(0);
				pthread_mutex_lock(&e->mu);
				continue;
			}
			wait_until(e, e->trim_due_ms);
			continue;
		}
		if (e->flush_failing && !e->flush_kick) {
			if (e->stop_flusher)
				break; /* closing: the commit log keeps the data */
			if (brook_mono_ms() < e->flush_retry_ms) {
				wait_until(e, e->flush_retry_ms);
				continue;
			}
		}
		e->flush_kick = 0;
		e->flush_running = 1;
		if (want_switch)
			e->switch_wanted = 0; /* switch_now may find nothing to do */
		pthread_mutex_unlock(&e->mu);
		int rc = want_switch ? switch_now(e, 0, err, sizeof(err))
		                     : flush_imm(e, err, sizeof(err));
		pthread_mutex_lock(&e->mu);
		e->flush_running = 0;
		if (rc == BROOK_OK) {
			e->flush_failing = 0;
			e->flush_backoff_ms = 0;
			if (!want_switch)
				e->trim_due_ms = brook_mono_ms() + TRIM_IDLE_MS;
		} else if (rc == BROOK_ERR) {
			if (want_switch)
				e->switch_wanted = 1;
			e->flush_failures++;
			e->flush_failing = 1;
			snprintf(e->flush_err, sizeof(e->flush_err), "%s", err);
			e->flush_backoff_ms = next_backoff(e->flush_backoff_ms);
			e->flush_retry_ms = brook_mono_ms() + e->flush_backoff_ms;
			brook_log(BROOK_LOG_ERROR, COMP,
			          "flush of %s failed (%s); the memtable stays in memory and its "
			          "commit log segments on disk; retrying in %u ms",
			          e->dir, err, e->flush_backoff_ms);
		}
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/*
 * Flushes everything applied before the call (store_engine_flush, compact, close):
 * waits for a flush in progress, switches the active memtable itself, waits for its
 * flush. BROOK_ERR if a flush attempt fails meanwhile (retried at once, no backoff).
 */
static int flush_sync(store_engine *e, char *err, size_t errlen)
{
	pthread_rwlock_rdlock(&e->lock);
	pthread_mutex_lock(&e->mu);
	/* The active memtable, if not empty, will be switch number switches + 1. */
	uint64_t target = e->switches + (store_memtable_count(e->mt) ? 1 : 0);
	pthread_mutex_unlock(&e->mu);
	pthread_rwlock_unlock(&e->lock);
	int rc = BROOK_OK;
	pthread_mutex_lock(&e->mu);
	while (rc == BROOK_OK && e->flushed < target) {
		if (e->switches < target && e->switches == e->flushed) {
			pthread_mutex_unlock(&e->mu);
			rc = switch_now(e, 1, err, errlen);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		uint64_t failures = e->flush_failures;
		e->flush_kick = 1; /* no backoff: the caller wants an answer */
		pthread_cond_broadcast(&e->cond);
		while (e->flushed < target &&
		       !(e->switches < target && e->switches == e->flushed)) {
			if (e->flush_failures != failures) {
				snprintf(err, errlen, "cannot flush table %s: %s", e->dir,
				         e->flush_err);
				rc = BROOK_ERR;
				break;
			}
			if (abandoning(e)) {
				snprintf(err, errlen, "table %s is shutting down", e->dir);
				rc = BROOK_ERR;
				break;
			}
			pthread_cond_wait(&e->cond, &e->mu);
		}
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}

/* ---- compaction ---- */

static int size_cmp(const void *a, const void *b)
{
	uint64_t x = store_sstable_file_bytes(*(store_sstable *const *)a);
	uint64_t y = store_sstable_file_bytes(*(store_sstable *const *)b);
	return x < y ? -1 : x > y;
}

/* The size tier to compact (see COMPACTION above): its sstables moved to the front of
 * ssts (n of them, sorted by size), or 0 when no tier has compact_threshold of them. */
static size_t pick_tier(const store_engine *e, store_sstable **ssts, size_t n)
{
	size_t min = e->o.compact_threshold;
	uint64_t small = e->o.compact_small_bytes ? e->o.compact_small_bytes : e->o.memtable_bytes;
	if (!min || n < min)
		return 0;
	qsort(ssts, n, sizeof(*ssts), size_cmp);
	size_t start = 0;
	uint64_t sum = 0;
	for (size_t i = 0; i <= n; i++) {
		uint64_t b = i < n ? store_sstable_file_bytes(ssts[i]) : 0;
		size_t k = i - start;
		bool joins = i < n && (k == 0 || b < small || b * 2 * k <= sum * 3);
		if (joins) {
			sum += b;
			continue;
		}
		if (k >= min) {
			k = k < COMPACT_MAX_INPUTS ? k : COMPACT_MAX_INPUTS;
			memmove(ssts, ssts + start, k * sizeof(*ssts));
			return k;
		}
		start = i;
		sum = b;
	}
	return 0;
}

/*
 * Merges into one sstable either a size tier of the sstables present when it starts
 * (`automatic`: only if a tier still has compact_threshold of them; a flush may have
 * asked while this thread was busy with a compaction that covered it), or all of them
 * (store_engine_compact). Only a merge of all of them purges (see PURGING). Runs on the
 * compactor without the lock; swaps the sstable set under the write lock at the end.
 */
static int compact(store_engine *e, int automatic, char *err, size_t errlen)
{
	pthread_rwlock_rdlock(&e->lock);
	size_t all = e->nssts;
	store_sstable **in = brook_malloc((all ? all : 1) * sizeof(*in));
	if (all)
		memcpy(in, e->ssts, all * sizeof(*in));
	size_t n = automatic ? pick_tier(e, in, all) : all;
	bool full = n == all; /* may purge tombstones */
	if (n == 0) {
		pthread_rwlock_unlock(&e->lock);
		free(in);
		return JOB_STOPPED;
	}
	/* Writers are excluded (read lock): from here on they lower it. */
	__atomic_store_n(&e->outside_min,
	                 e->mt_min_ts < e->imm_min_ts ? e->mt_min_ts : e->imm_min_ts,
	                 __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&e->lock);

	int64_t t0 = mono_us();
	int64_t now = now_s(e), gc_before = now - e->o.gc_grace_seconds;
	uint64_t nkeys = 0, in_bytes = 0;
	uint64_t *anc = brook_malloc(n * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		nkeys += store_sstable_count(in[i]);
		in_bytes += store_sstable_file_bytes(in[i]);
		anc[i] = store_sstable_generation(in[i]);
	}
	uint64_t gen = alloc_gen(e);
	char path[4096];
	sst_path(e, gen, path, sizeof(path));
	store_sstable_writer *w = store_sstable_writer_new(path, gen, nkeys, err, errlen);
	if (!w) {
		free(anc);
		free(in);
		return BROOK_ERR;
	}
	merge_it it;
	brook_arena a = BROOK_ARENA_INIT;
	int rc =
	    merge_init(&it, &e->o.cmp, NULL, 0, in, n, INT64_MIN, NULL, 0, INT64_MAX, err, errlen);
	if (rc == BROOK_OK)
		rc = hook(e, STORE_HOOK_COMPACT_START, err, errlen);
	while (rc == BROOK_OK) {
		if (abandoning(e) || __atomic_load_n(&e->compact_cancel, __ATOMIC_ACQUIRE)) {
			rc = JOB_STOPPED;
			break;
		}
		store_part p;
		store_encoded enc;
		brook_arena_reset(&a);
		int r = merge_next(&it, &a, &p, &enc, err, errlen);
		if (r == 0)
			break;
		if (r < 0) {
			rc = BROOK_ERR;
			break;
		}
		int64_t gcb =
		    full && part_purgeable_max_ts(&p) < __atomic_load_n(&e->outside_min,
		                                                        __ATOMIC_RELAXED)
		        ? gc_before
		        : INT64_MIN;
		bool changed;
		if (store_part_gc(&e->o.cmp, &p, now, gcb, &changed) &&
		    (enc.bytes && !changed ? store_sstable_writer_add_encoded(w, &p, &enc)
		                           : store_sstable_writer_add(w, &p)) != 0) {
			snprintf(err, errlen, "cannot write sstable %s: %s", path, strerror(errno));
			rc = BROOK_ERR;
			break;
		}
		if ((rc = hook(e, STORE_HOOK_COMPACT, err, errlen)) != 0)
			break;
	}
	brook_arena_release(&a);
	merge_release(&it);
	if (rc != BROOK_OK) {
		if (abandoning(e))
			store_sstable_writer_abandon(w);
		else
			store_sstable_writer_abort(w);
		free(anc);
		free(in);
		return rc;
	}
	uint64_t out_count = store_sstable_writer_count(w);
	if (store_sstable_writer_finish(w, anc, (uint32_t)n, err, errlen) != 0) {
		free(anc);
		free(in);
		return BROOK_ERR;
	}
	free(anc);
	store_sstable *s = store_sstable_open(path, err, errlen);
	if (!s) {
		/* The inputs stay in use; without the output they stay at the next open too. */
		unlink(path);
		brook_fsync_dir(e->dir);
		free(in);
		return BROOK_ERR;
	}
	uint64_t out_bytes = out_count ? store_sstable_file_bytes(s) : 0;

	pthread_rwlock_wrlock(&e->lock);
	size_t keep = 0;
	for (size_t i = 0; i < e->nssts; i++) {
		size_t k = 0;
		while (k < n && in[k] != e->ssts[i])
			k++;
		if (k == n)
			e->ssts[keep++] = e->ssts[i];
	}
	e->nssts = keep;
	if (out_count) {
		push_sst(e, s);
		qsort(e->ssts, e->nssts, sizeof(*e->ssts), gen_cmp);
	}
	pthread_rwlock_unlock(&e->lock);

	/* No reader can hold an input now: readers hold the read lock while using them. */
	for (size_t i = 0; i < n; i++) {
		char old[4096];
		sst_path(e, store_sstable_generation(in[i]), old, sizeof(old));
		store_sstable_close(in[i]);
		if (unlink(old) != 0)
			brook_log(BROOK_LOG_WARN, COMP, "cannot remove compacted sstable %s: %s",
			          old, strerror(errno));
	}
	brook_fsync_dir(e->dir);
	if (!out_count) {
		/* Everything was purged: the empty output has done its job. */
		store_sstable_close(s);
		unlink(path);
		brook_fsync_dir(e->dir);
	}
	free(in);
	int64_t us = mono_us() - t0;
	pthread_mutex_lock(&e->mu);
	e->compactions++;
	e->cbytes_read += in_bytes;
	e->cbytes_written += out_bytes;
	e->compaction_us += (uint64_t)us;
	e->compaction_last_us = (uint64_t)us;
	pthread_mutex_unlock(&e->mu);
	brook_log(BROOK_LOG_DEBUG, COMP,
	          "compacted %zu sstables (%" PRIu64 " bytes) of %s into %" PRIu64
	          " partitions (%" PRIu64 " bytes) in %" PRId64 " ms",
	          n, in_bytes, e->dir, out_count, out_bytes, us / 1000);
	return BROOK_OK;
}

static void *compactor_main(void *arg)
{
	pthread_setname_np(pthread_self(), "store-compact");
	store_engine *e = arg;
	char err[512];
	pthread_mutex_lock(&e->mu);
	for (;;) {
		if (abandoning(e) || e->stop_compactor)
			break;
		int requested = e->compact_req > e->compact_done;
		int automatic = e->compact_auto && brook_mono_ms() >= e->compact_retry_ms;
		if (e->paused || (!requested && !automatic)) {
			wait_until(e, !e->paused && e->compact_auto ? e->compact_retry_ms : 0);
			continue;
		}
		uint64_t req = e->compact_req;
		e->compact_auto = 0;
		e->compact_running = 1;
		pthread_mutex_unlock(&e->mu);
		int rc = compact(e, !requested, err, sizeof(err));
		pthread_mutex_lock(&e->mu);
		e->compact_running = 0;
		if (req > e->compact_done)
			e->compact_done = req;
		if (rc == BROOK_OK) {
			e->compact_failing = 0;
			e->compact_backoff_ms = 0;
			e->compact_auto = 1; /* its output may complete the next tier */
		} else if (rc == BROOK_ERR) {
			e->compaction_failures++;
			e->compact_failing = 1;
			e->compact_failed_req = req;
			snprintf(e->compact_err, sizeof(e->compact_err), "%s", err);
			e->compact_backoff_ms = next_backoff(e->compact_backoff_ms);
			e->compact_retry_ms = brook_mono_ms() + e->compact_backoff_ms;
			e->compact_auto = 1;
			brook_log(BROOK_LOG_ERROR, COMP,
			          "compaction of %s failed (%s); its input sstables stay in use; "
			          "retrying in %u ms",
			          e->dir, err, e->compact_backoff_ms);
		}
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* ---- open / close ---- */

struct replay_ctx {
	store_engine *e;
	brook_arena arena;
};

static int apply_one(void *ctx, const store_part *p)
{
	store_engine *e = ctx;
	store_memtable_apply(e->mt, p);
	int64_t t = part_min_ts(p);
	if (t < e->mt_min_ts)
		e->mt_min_ts = t;
	e->writes++;
	return 0;
}

static int replay_record(void *ctx, const uint8_t *p, size_t n)
{
	struct replay_ctx *rc = ctx;
	char err[128];
	brook_arena_reset(&rc->arena);
	if (store_part_decode_many(&rc->arena, p, n, apply_one, rc->e, err, sizeof(err)) != 0) {
		brook_log(BROOK_LOG_ERROR, COMP, "commit log record of %s does not decode: %s",
		          rc->e->dir, err);
		return -1;
	}
	return 0;
}

/* Frees everything; the threads are stopped (or were never started). */
static void engine_free(store_engine *e)
{
	if (e->cl)
		store_commitlog_close(e->cl);
	for (size_t i = 0; i < e->nssts; i++)
		store_sstable_close(e->ssts[i]);
	free(e->ssts);
	store_memtable_free(e->mt);
	store_memtable_free(e->imm);
	pthread_rwlock_destroy(&e->lock);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cond);
	free(e->dir);
	free(e);
}

static void join_compactor(store_engine *e)
{
	if (e->has_compactor)
		pthread_join(e->compactor, NULL);
	e->has_compactor = 0;
}

static void join_flusher(store_engine *e)
{
	if (e->has_flusher)
		pthread_join(e->flusher, NULL);
	e->has_flusher = 0;
}

/* Loads the sstables; honours the truncate marker's generation. */
static int load_sstables(store_engine *e, uint64_t dead_below, char *err, size_t errlen)
{
	DIR *d = opendir(e->dir);
	if (!d) {
		snprintf(err, errlen, "cannot open table directory %s: %s", e->dir,
		         strerror(errno));
		return BROOK_ERR;
	}
	struct dirent *de;
	char path[4096];
	int rc = BROOK_OK;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		if (len > 4 && strcmp(name + len - 4, ".tmp") == 0 &&
		    strncmp(name, "sst-", 4) == 0) {
			unlinkat(dirfd(d), name, 0);
			continue;
		}
		if (len != 23 || strncmp(name, "sst-", 4) != 0 ||
		    strspn(name + 4, "0123456789") != 16 || strcmp(name + 20, ".db") != 0)
			continue;
		uint64_t gen = strtoull(name + 4, NULL, 10);
		snprintf(path, sizeof(path), "%s/%s", e->dir, name);
		if (gen < dead_below) {
			unlink(path);
			continue;
		}
		store_sstable *s = store_sstable_open(path, err, errlen);
		if (!s) {
			rc = BROOK_ERR;
			break;
		}
		if (store_sstable_generation(s) != gen) {
			snprintf(err, errlen,
			         "sstable %s records generation %" PRIu64 "; it was "
			         "renamed or copied from elsewhere",
			         path, store_sstable_generation(s));
			store_sstable_close(s);
			rc = BROOK_ERR;
			break;
		}
		push_sst(e, s);
		if (gen >= e->next_gen)
			e->next_gen = gen + 1;
	}
	closedir(d);
	if (rc != 0)
		return rc;
	if (e->nssts > 1)
		qsort(e->ssts, e->nssts, sizeof(*e->ssts), gen_cmp);
	/* Drop the inputs of a compaction whose output exists. */
	size_t keep = 0;
	char *dead = brook_calloc(e->nssts ? e->nssts : 1, 1);
	for (size_t i = 0; i < e->nssts; i++) {
		uint64_t g = store_sstable_generation(e->ssts[i]);
		for (size_t j = 0; j < e->nssts && !dead[i]; j++) {
			uint32_t na;
			const uint64_t *anc = store_sstable_ancestors(e->ssts[j], &na);
			for (uint32_t k = 0; k < na; k++)
				dead[i] |= anc[k] == g && j != i;
		}
	}
	for (size_t i = 0; i < e->nssts; i++) {
		uint64_t g = store_sstable_generation(e->ssts[i]);
		if (!dead[i]) {
			e->ssts[keep++] = e->ssts[i];
			continue;
		}
		sst_path(e, g, path, sizeof(path));
		brook_log(BROOK_LOG_INFO, COMP, "removing %s, replaced by a finished compaction",
		          path);
		store_sstable_close(e->ssts[i]);
		unlink(path);
	}
	free(dead);
	e->nssts = keep;
	return BROOK_OK;
}

static int start_threads(store_engine *e, char *err, size_t errlen)
{
	int rc = pthread_create(&e->flusher, NULL, flusher_main, e);
	if (rc == 0) {
		e->has_flusher = 1;
		rc = pthread_create(&e->compactor, NULL, compactor_main, e);
		e->has_compactor = rc == 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the background threads of table %s: %s", e->dir,
		         strerror(rc));
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* Stops the threads where they are (abandon, failed open). */
static void stop_threads_now(store_engine *e)
{
	pthread_mutex_lock(&e->mu);
	__atomic_store_n(&e->abandon, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	join_compactor(e);
	join_flusher(e);
}

int store_engine_open(const char *dir, const store_engine_opts *o, store_engine **out, char *err,
                      size_t errlen)
{
	*out = NULL;
	if (brook_mkdirs(dir, 0755) != 0) {
		snprintf(err, errlen, "cannot create table directory %s: %s", dir, strerror(errno));
		return BROOK_ERR;
	}
	store_engine *e = brook_calloc(1, sizeof(*e));
	e->dir = brook_strdup(dir);
	if (o)
		e->o = *o;
	else
		store_engine_opts_default(&e->o);
	if (e->o.memtable_bytes == 0)
		e->o.memtable_bytes = 64u << 20;
	if (e->o.max_mutation_bytes == 0)
		e->o.max_mutation_bytes = 16u << 20;
	/* Writers first: a steady stream of readers must not starve writers or a publish
	 * (glibc prefers readers by default). Nobody takes the read lock recursively. */
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&e->lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_until's deadlines */
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	e->next_gen = 1;
	e->mt = store_memtable_new(&e->o.cmp);
	e->mt_min_ts = e->imm_min_ts = e->outside_min = INT64_MAX;

	char path[4096];
	snprintf(path, sizeof(path), "%s/TRUNCATED", dir);
	uint64_t dead_gen = 0, dead_seq = 0;
	brook_buf marker = BROOK_BUF_INIT;
	int has_marker = brook_file_read(path, 256, &marker) == 0;
	if (has_marker && sscanf(marker.data, "%" SCNu64 " %" SCNu64, &dead_gen, &dead_seq) != 2)
		dead_gen = dead_seq = 0;
	brook_buf_release(&marker);

	if (load_sstables(e, dead_gen, err, errlen) != 0) {
		engine_free(e);
		return BROOK_ERR;
	}
	if (dead_gen > e->next_gen)
		e->next_gen = dead_gen;
	store_commitlog_opts co = {
	    .mode = e->o.sync_mode,
	    .window_us = e->o.sync_window_us,
	    .period_ms = e->o.sync_period_ms,
	    /* room for the record framing of a maximal mutation */
	    .max_record = e->o.max_mutation_bytes + 64,
	    .drop_before = dead_seq,
	};
	char cldir[4096];
	snprintf(cldir, sizeof(cldir), "%s/commitlog", dir);
	struct replay_ctx rc = {e, BROOK_ARENA_INIT};
	int r = store_commitlog_open(cldir, &co, replay_record, &rc, &e->cl, err, errlen);
	brook_arena_release(&rc.arena);
	if (r != 0) {
		engine_free(e);
		return BROOK_ERR;
	}
	if (has_marker) {
		unlink(path);
		brook_fsync_dir(dir);
	}
	/* Work for the threads from the start: a full memtable, too many sstables. */
	e->asked = e->switch_wanted = store_memtable_bytes(e->mt) >= e->o.memtable_bytes;
	e->compact_auto = e->o.compact_threshold && e->nssts >= e->o.compact_threshold;
	brook_log(BROOK_LOG_INFO, COMP,
	          "opened table %s: %zu sstables, %" PRIu64
	          " partitions recovered from the commit log",
	          dir, e->nssts, store_memtable_count(e->mt));
	if (start_threads(e, err, errlen) != 0) {
		stop_threads_now(e);
		engine_free(e);
		return BROOK_ERR;
	}
	*out = e;
	return BROOK_OK;
}

void store_engine_close(store_engine *e)
{
	if (!e)
		return;
	char err[512];
	/* A compaction would only delay the shutdown: cancel it (its inputs stay). */
	pthread_mutex_lock(&e->mu);
	e->stop_compactor = 1;
	__atomic_store_n(&e->compact_cancel, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	join_compactor(e);
	if (flush_sync(e, err, sizeof(err)) != 0)
		brook_log(BROOK_LOG_ERROR, COMP,
		          "flush at close failed (%s); the commit log "
		          "keeps the data and will be replayed at the next open",
		          err);
	pthread_mutex_lock(&e->mu);
	e->stop_flusher = 1;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	join_flusher(e);
	engine_free(e);
}

void store_engine_abandon(store_engine *e)
{
	if (!e)
		return;
	stop_threads_now(e);
	store_commitlog_abandon(e->cl);
	e->cl = NULL;
	engine_free(e);
}

/* ---- writes ---- */

static int check_mutation(const store_part *m, char *err, size_t errlen)
{
	if (m->pklen == 0 || m->pklen > STORE_MAX_KEY) {
		snprintf(err, errlen, "partition key of %u bytes: keys must be 1..%u bytes",
		         m->pklen, STORE_MAX_KEY);
		return BROOK_ERR;
	}
	for (uint32_t i = 0; i < m->nrows; i++) {
		const store_row *r = &m->rows[i];
		if (r->cklen > STORE_MAX_KEY) {
			snprintf(err, errlen, "clustering key of %u bytes exceeds %u", r->cklen,
			         STORE_MAX_KEY);
			return BROOK_ERR;
		}
		for (uint32_t j = 0; j < r->ncells; j++) {
			const store_cell *c = &r->cells[j];
			if ((c->flags & ~3u) || c->ts == STORE_NO_TS ||
			    (c->flags & STORE_CELL_TOMBSTONE && c->flags & STORE_CELL_EXPIRING)) {
				snprintf(err, errlen, "invalid cell for column %u", c->col);
				return BROOK_ERR;
			}
		}
	}
	for (uint32_t i = 0; i < m->nrts; i++) {
		if (m->rts[i].b.slen > STORE_MAX_KEY || m->rts[i].b.elen > STORE_MAX_KEY ||
		    (m->rts[i].b.flags & ~15u) || !store_del_live(m->rts[i].del)) {
			snprintf(err, errlen, "invalid range tombstone");
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

/*
 * Write lock held: returns with it held and room in the active memtable (state A or
 * B), waiting in state C — the lock released — for the flush to publish. BROOK_ERR
 * (nothing applied) when memory cannot be made: see ERRORS IN THE BACKGROUND.
 */
static int make_room_locked(store_engine *e, char *err, size_t errlen)
{
	size_t cap = e->o.memtable_bytes + e->o.memtable_bytes / 8;
	int64_t t0 = 0;
	int rc = BROOK_OK;
	while (store_memtable_bytes(e->mt) >= cap) {
		pthread_mutex_lock(&e->mu);
		e->switch_wanted = 1;
		pthread_cond_broadcast(&e->cond);
		if (e->flush_failing || abandoning(e)) {
			snprintf(err, errlen,
			         "table %s: the memtables are full and flushing them fails (%s); "
			         "writes are refused until a flush succeeds",
			         e->dir, e->flush_failing ? e->flush_err : "shutting down");
			e->refused++;
			pthread_mutex_unlock(&e->mu);
			rc = BROOK_ERR;
			break;
		}
		uint64_t s0 = e->switches;
		if (!t0) {
			t0 = mono_us();
			e->stalls++;
		}
		pthread_rwlock_unlock(&e->lock);
		while (e->switches == s0 && !e->flush_failing && !abandoning(e))
			pthread_cond_wait(&e->cond, &e->mu);
		pthread_mutex_unlock(&e->mu);
		pthread_rwlock_wrlock(&e->lock);
	}
	if (t0) {
		pthread_mutex_lock(&e->mu);
		e->stall_us += (uint64_t)(mono_us() - t0);
		pthread_mutex_unlock(&e->mu);
	}
	return rc;
}

int store_engine_apply(store_engine *e, const store_part *muts, size_t n, uint64_t *lsn, char *err,
                       size_t errlen)
{
	*lsn = 0;
	if (n == 0)
		return BROOK_OK;
	int64_t min_ts = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (check_mutation(&muts[i], err, errlen) != 0)
			return BROOK_ERR;
		int64_t t = part_min_ts(&muts[i]);
		if (t < min_ts)
			min_ts = t;
	}
	brook_buf rec = BROOK_BUF_INIT;
	store_part_encode_many(muts, n, &rec);
	if (rec.len > e->o.max_mutation_bytes) {
		snprintf(err, errlen,
		         "mutation of %zu bytes exceeds the maximum of %u bytes "
		         "(max_mutation_bytes)",
		         rec.len, e->o.max_mutation_bytes);
		brook_buf_release(&rec);
		return BROOK_ERR;
	}
	pthread_rwlock_wrlock(&e->lock);
	if (make_room_locked(e, err, errlen) != 0) {
		pthread_rwlock_unlock(&e->lock);
		brook_buf_release(&rec);
		return BROOK_ERR;
	}
	*lsn = store_commitlog_append(e->cl, rec.data, rec.len);
	__atomic_store_n(&e->last_lsn, *lsn, __ATOMIC_RELEASE);
	for (size_t i = 0; i < n; i++) {
		store_part m = muts[i];
		m.token = store_token(m.pk, m.pklen);
		store_memtable_apply(e->mt, &m);
	}
	e->writes += n;
	if (min_ts < e->mt_min_ts)
		e->mt_min_ts = min_ts;
	if (min_ts < __atomic_load_n(&e->outside_min, __ATOMIC_RELAXED))
		__atomic_store_n(&e->outside_min, min_ts, __ATOMIC_RELAXED);
	if (!e->asked && store_memtable_bytes(e->mt) >= e->o.memtable_bytes) {
		/* A -> A': the flusher switches it (switch_now); writers go on until cap. */
		e->asked = 1;
		pthread_mutex_lock(&e->mu);
		e->switch_wanted = 1;
		pthread_cond_broadcast(&e->cond);
		pthread_mutex_unlock(&e->mu);
	}
	pthread_rwlock_unlock(&e->lock);
	brook_buf_release(&rec);
	return BROOK_OK;
}

int store_engine_sync(store_engine *e, uint64_t lsn)
{
	if (lsn == 0)
		return BROOK_OK;
	return store_commitlog_sync(e->cl, lsn);
}

int store_engine_write(store_engine *e, const store_part *muts, size_t n, char *err, size_t errlen)
{
	uint64_t lsn;
	if (store_engine_apply(e, muts, n, &lsn, err, errlen) != 0)
		return BROOK_ERR;
	if (store_engine_sync(e, lsn) != 0) {
		snprintf(err, errlen,
		         "the commit log of %s could not be synced; the write is "
		         "not durable (see the commit log error)",
		         e->dir);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* ---- reads ---- */

int store_engine_read(store_engine *e, const uint8_t *pk, size_t pklen, const store_read_opts *ro,
                      store_row_cb cb, void *ctx, char *err, size_t errlen)
{
	if (pklen == 0 || pklen > STORE_MAX_KEY)
		return BROOK_OK; /* no such partition can exist */
	int64_t now = ro->now ? ro->now : now_s(e);
	int64_t token = store_token(pk, pklen);
	brook_arena a = BROOK_ARENA_INIT;
	store_part key = {.token = token, .pk = pk, .pklen = (uint32_t)pklen}, p;
	int rc = BROOK_OK;
	pthread_rwlock_rdlock(&e->lock);
	__atomic_fetch_add(&e->reads, 1, __ATOMIC_RELAXED);
	store_part_init(&a, &p, &key);
	const store_part *m = store_memtable_get(e->mt, token, pk, pklen);
	if (m)
		store_part_merge(&a, &e->o.cmp, &p, m);
	m = e->imm ? store_memtable_get(e->imm, token, pk, pklen) : NULL;
	if (m)
		store_part_merge(&a, &e->o.cmp, &p, m);
	for (size_t i = 0; i < e->nssts && rc == 0; i++) {
		store_part sp;
		int r = store_sstable_get(e->ssts[i], token, pk, pklen, &a, &sp, err, errlen);
		if (r < 0)
			rc = BROOK_ERR;
		else if (r > 0)
			store_part_merge(&a, &e->o.cmp, &p, &sp);
	}
	if (rc == 0) {
		store_part_filter_live(&e->o.cmp, &p, now);
		uint64_t sent = 0;
		for (uint32_t k = 0; k < p.nrows; k++) {
			const store_row *r = &p.rows[ro->reverse ? p.nrows - 1 - k : k];
			if (!store_bounds_contain(&e->o.cmp, &ro->range, r->ck, r->cklen))
				continue;
			if (cb(ctx, &p, r) != 0)
				break;
			if (ro->limit && ++sent >= ro->limit)
				break;
		}
	}
	pthread_rwlock_unlock(&e->lock);
	brook_arena_release(&a);
	return rc;
}

void store_pos_release(store_pos *p)
{
	brook_buf_release(&p->pk);
	brook_buf_release(&p->ck);
	p->valid = 0;
}

static void pos_set(store_pos *d, int64_t token, const uint8_t *pk, size_t pklen, const uint8_t *ck,
                    size_t cklen)
{
	d->valid = 1;
	d->token = token;
	brook_buf_reset(&d->pk);
	brook_buf_reset(&d->ck);
	if (pklen)
		brook_buf_append(&d->pk, pk, pklen);
	if (cklen)
		brook_buf_append(&d->ck, ck, cklen);
}

void store_pos_copy(store_pos *dst, const store_pos *src)
{
	if (!src->valid) {
		dst->valid = 0;
		return;
	}
	pos_set(dst, src->token, (const uint8_t *)src->pk.data, src->pk.len,
	        (const uint8_t *)src->ck.data, src->ck.len);
}

int store_engine_scan(store_engine *e, int64_t min_token, int64_t max_token, const store_pos *after,
                      uint64_t limit, int64_t now, store_row_cb cb, void *ctx, store_pos *next,
                      uint64_t *nrows, char *err, size_t errlen)
{
	if (!now)
		now = now_s(e);
	if (after && !after->valid)
		after = NULL;
	if (next)
		next->valid = 0;
	uint64_t sent = 0;
	int rc = BROOK_OK;
	brook_arena a = BROOK_ARENA_INIT;
	merge_it it;
	pthread_rwlock_rdlock(&e->lock);
	__atomic_fetch_add(&e->scans, 1, __ATOMIC_RELAXED);
	store_memtable *mts[2] = {e->mt, e->imm};
	size_t nmts = e->imm ? 2 : 1;
	if (after && after->token >= min_token)
		rc = merge_init(&it, &e->o.cmp, mts, nmts, e->ssts, e->nssts, after->token,
		                (const uint8_t *)after->pk.data, after->pk.len, max_token, err,
		                errlen);
	else
		rc = merge_init(&it, &e->o.cmp, mts, nmts, e->ssts, e->nssts, min_token, NULL, 0,
		                max_token, err, errlen);
	int stop = rc != BROOK_OK;
	while (!stop && (!limit || sent < limit)) {
		store_part p;
		brook_arena_reset(&a);
		int r = merge_next(&it, &a, &p, NULL, err, errlen);
		if (r <= 0) {
			rc = r < 0 ? BROOK_ERR : BROOK_OK;
			break;
		}
		int same =
		    after && store_pk_cmp(p.token, p.pk, p.pklen, after->token,
		                          (const uint8_t *)after->pk.data, after->pk.len) == 0;
		if (after && !same &&
		    store_pk_cmp(p.token, p.pk, p.pklen, after->token,
		                 (const uint8_t *)after->pk.data, after->pk.len) < 0)
			continue;
		if (p.token < min_token)
			continue;
		store_part_filter_live(&e->o.cmp, &p, now);
		for (uint32_t k = 0; k < p.nrows && (!limit || sent < limit); k++) {
			const store_row *row = &p.rows[k];
			if (same &&
			    store_ck_cmp(&e->o.cmp, row->ck, row->cklen,
			                 (const uint8_t *)after->ck.data, after->ck.len) <= 0)
				continue;
			sent++;
			if (next)
				pos_set(next, p.token, p.pk, p.pklen, row->ck, row->cklen);
			if (cb(ctx, &p, row) != 0) {
				stop = 1;
				break;
			}
		}
	}
	merge_release(&it); /* before the unlock: the iterators belong to the sstables */
	pthread_rwlock_unlock(&e->lock);
	brook_arena_release(&a);
	if (nrows)
		*nrows = sent;
	return rc;
}

/* ---- maintenance ---- */

int store_engine_flush(store_engine *e, char *err, size_t errlen)
{
	return flush_sync(e, err, errlen);
}

int store_engine_compact(store_engine *e, char *err, size_t errlen)
{
	if (flush_sync(e, err, errlen) != 0)
		return BROOK_ERR;
	int rc = BROOK_OK;
	pthread_mutex_lock(&e->mu);
	uint64_t mine = ++e->compact_req;
	pthread_cond_broadcast(&e->cond);
	while (e->compact_done < mine && !abandoning(e) && !e->stop_compactor)
		pthread_cond_wait(&e->cond, &e->mu);
	if (e->compact_done < mine || abandoning(e)) {
		snprintf(err, errlen, "table %s is shutting down", e->dir);
		rc = BROOK_ERR;
	} else if (e->compact_failed_req >= mine) {
		snprintf(err, errlen, "cannot compact table %s: %s", e->dir, e->compact_err);
		rc = BROOK_ERR;
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int store_engine_wait_idle(store_engine *e, char *err, size_t errlen)
{
	int rc = BROOK_OK;
	pthread_mutex_lock(&e->mu);
	for (;;) {
		if (e->flush_failing || e->compact_failing) {
			snprintf(err, errlen, "table %s: %s", e->dir,
			         e->flush_failing ? e->flush_err : e->compact_err);
			rc = BROOK_ERR;
			break;
		}
		if (abandoning(e)) {
			snprintf(err, errlen, "table %s is shutting down", e->dir);
			rc = BROOK_ERR;
			break;
		}
		if (e->switches == e->flushed && !e->switch_wanted && !e->flush_running &&
		    !e->compact_running && !e->compact_auto && e->compact_req == e->compact_done)
			break;
		pthread_cond_wait(&e->cond, &e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int store_engine_truncate(store_engine *e, char *err, size_t errlen)
{
	char path[4096], line[64];
	uint64_t seq;
	int rc = BROOK_ERR;
	/* No background job may start or run: cancel a compaction, let a flush finish. */
	pthread_mutex_lock(&e->mu);
	e->paused++;
	__atomic_store_n(&e->compact_cancel, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&e->cond);
	while (e->flush_running || e->compact_running)
		pthread_cond_wait(&e->cond, &e->mu);
	pthread_mutex_unlock(&e->mu);

	pthread_rwlock_wrlock(&e->lock);
	if (store_commitlog_roll(e->cl, &seq) != 0) {
		snprintf(err, errlen, "cannot truncate %s: the commit log could not be sealed",
		         e->dir);
		goto out;
	}
	/* From here the truncate is decided: a crash finishes it at the next open. */
	uint64_t gen = alloc_gen(e);
	snprintf(path, sizeof(path), "%s/TRUNCATED", e->dir);
	int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", gen, seq);
	if (brook_file_write_atomic(path, line, (size_t)n) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	store_memtable_free(e->mt);
	e->mt = store_memtable_new(&e->o.cmp);
	store_memtable_free(e->imm);
	e->imm = NULL;
	e->mt_min_ts = e->imm_min_ts = INT64_MAX;
	e->asked = 0;
	for (size_t i = 0; i < e->nssts; i++) {
		char sp[4096];
		sst_path(e, store_sstable_generation(e->ssts[i]), sp, sizeof(sp));
		store_sstable_close(e->ssts[i]);
		unlink(sp);
	}
	e->nssts = 0;
	store_commitlog_drop_before(e->cl, seq);
	unlink(path);
	brook_fsync_dir(e->dir);
	pthread_mutex_lock(&e->mu);
	e->switches++; /* both memtables are gone: as if switched and flushed */
	e->flushed = e->switches;
	e->switch_wanted = 0;
	e->flush_failing = 0;
	e->compact_failing = 0;
	e->compact_auto = 0;
	e->compact_done = e->compact_req;
	pthread_mutex_unlock(&e->mu);
	rc = BROOK_OK;
out:
	pthread_rwlock_unlock(&e->lock);
	pthread_mutex_lock(&e->mu);
	if (--e->paused == 0 && !e->stop_compactor)
		__atomic_store_n(&e->compact_cancel, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

void store_engine_get_stats(store_engine *e, store_engine_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&e->lock);
	out->writes = e->writes;
	out->reads = __atomic_load_n(&e->reads, __ATOMIC_RELAXED);
	out->scans = __atomic_load_n(&e->scans, __ATOMIC_RELAXED);
	out->memtable_bytes = store_memtable_bytes(e->mt);
	out->memtable_partitions = store_memtable_count(e->mt);
	out->memtables = e->imm ? 2 : 1;
	out->flush_pending_bytes = e->imm ? store_memtable_bytes(e->imm) : 0;
	out->sstables = e->nssts;
	for (size_t i = 0; i < e->nssts; i++)
		out->sstable_bytes += store_sstable_file_bytes(e->ssts[i]);
	out->commitlog_segments = store_commitlog_segments(e->cl);
	pthread_mutex_lock(&e->mu);
	out->flushes = e->flushes;
	out->flush_bytes_written = e->flush_bytes;
	out->flush_us = e->flush_us;
	out->flush_last_us = e->flush_last_us;
	out->flush_failures = e->flush_failures;
	out->compactions = e->compactions;
	out->compacting = (uint64_t)e->compact_running;
	out->compaction_bytes_read = e->cbytes_read;
	out->compaction_bytes_written = e->cbytes_written;
	out->compaction_us = e->compaction_us;
	out->compaction_last_us = e->compaction_last_us;
	out->compaction_failures = e->compaction_failures;
	out->write_stalls = e->stalls;
	out->write_stall_us = e->stall_us;
	out->writes_refused = e->refused;
	pthread_mutex_unlock(&e->mu);
	pthread_rwlock_unlock(&e->lock);
}
