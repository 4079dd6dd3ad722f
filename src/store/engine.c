/*
 * engine.c — one table's LSM tree: commit log + memtable + sstables + compaction.
 *
 * FILES (in the table directory DIR)
 *   commitlog/CL-<seq>.log   write-ahead log segments (store/commitlog.h)
 *   sst-<gen>.db             immutable sorted files (store/sstable.h); gen increases
 *   sst-<gen>.db.tmp         an sstable being written; removed at open (never read)
 *   TRUNCATED                "G S": a truncate in progress — sstables with gen < G and
 *                            commit log segments with seq < S are dead
 *
 * INVARIANTS
 *   - Every mutation applied since the last completed flush is in a commit log segment
 *     that still exists: a flush rolls the log (sealing the segments that hold the
 *     memtable's data) before it writes the sstable, and removes those segments only
 *     after the sstable is renamed into place and the directory fsynced. apply appends
 *     to the log and the memtable under the same write lock as the roll, so the split
 *     is exact.
 *   - An sst-*.db file is always whole (written as .tmp, fdatasync, rename, dir fsync).
 *   - A compaction's output names the sstables it replaces (its "ancestors"); open
 *     deletes any sstable that is an ancestor of another present one, so a crash between
 *     the rename and the unlinks can never resurrect data a purged tombstone shadowed.
 *   - Compaction merges ALL sstables after flushing the memtable, so purging a tombstone
 *     never uncovers older data left elsewhere.
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
 *   2. *.tmp files are removed; every sst-*.db is opened and fully validated (a file
 *      failing a check fails the open: it is corruption, not a crash artefact);
 *      ancestors of present sstables are unlinked;
 *   3. the commit log replays every segment into a fresh memtable (a torn tail of the
 *      last segment is truncated; see commitlog.h); replay is idempotent, so data that
 *      was both flushed and still in the log merges to the same result.
 *
 * READS merge the partition from the memtable and every sstable whose bloom filter
 * admits the key (newest-wins is by timestamp, so order does not matter), then apply
 * tombstones and TTL at `now`, then select the clustering range. A partition is
 * materialised whole in a per-read arena (fine for narrow and moderately wide
 * partitions; a per-partition row index would serve very wide ones better).
 *
 * FLUSH runs on the writer's thread when the memtable exceeds memtable_bytes (writers
 * wait meanwhile); memory stays bounded by memtable_bytes plus one write batch.
 */
#include "store/engine.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
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
#include "store/murmur3.h"
#include "store/sstable.h"

#define COMP "store"

struct store_engine {
	char *dir;
	store_engine_opts o;
	pthread_rwlock_t lock;
	store_memtable *mt;
	store_sstable **ssts; /* ascending generation */
	size_t nssts, capssts;
	uint64_t next_gen;
	store_commitlog *cl;
	uint64_t writes, reads, scans, flushes, compactions;
	size_t flush_retry_bytes; /* after a failed automatic flush: retry past this size */
};

void store_engine_opts_default(store_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->memtable_bytes = 64u << 20;
	o->sync_mode = STORE_SYNC_BATCH;
	o->sync_period_ms = 10000;
	o->max_mutation_bytes = 16u << 20;
	o->compact_threshold = 8;
	o->gc_grace_seconds = 864000;
}

static int64_t now_s(const store_engine *e)
{
	return e->o.clock ? e->o.clock(e->o.clock_ctx) : (int64_t)time(NULL);
}

static void sst_path(const store_engine *e, uint64_t gen, char *out, size_t n)
{
	snprintf(out, n, "%s/sst-%016" PRIu64 ".db", e->dir, gen);
}

static void push_sst(store_engine *e, store_sstable *s)
{
	if (e->nssts == e->capssts) {
		e->capssts = e->capssts ? e->capssts * 2 : 8;
		e->ssts = brook_realloc(e->ssts, e->capssts * sizeof(*e->ssts));
	}
	e->ssts[e->nssts++] = s;
}

/* ---- merging iterator over the memtable and sstables ---- */

typedef struct src_iter {
	const store_sstable *sst; /* NULL: the memtable */
	uint64_t i;
	const store_mt_node *node;
} src_iter;

typedef struct merge_it {
	src_iter *srcs;
	size_t n;
	int64_t max_token;
} merge_it;

static int src_key(const src_iter *s, int64_t *tok, const uint8_t **pk, uint32_t *pklen)
{
	if (!s->sst) {
		if (!s->node)
			return 0;
		const store_part *p = store_memtable_node_part(s->node);
		*tok = p->token;
		*pk = p->pk;
		*pklen = p->pklen;
		return 1;
	}
	if (s->i >= store_sstable_count(s->sst))
		return 0;
	store_sstable_key(s->sst, s->i, tok, pk, pklen);
	return 1;
}

/* Sets up sources positioned at (token, pk) (pk NULL: at token). */
static void merge_init(store_engine *e, merge_it *it, int with_mt, int64_t token, const uint8_t *pk,
                       size_t pklen, int64_t max_token)
{
	it->n = 0;
	it->max_token = max_token;
	it->srcs = brook_calloc(e->nssts + 1, sizeof(src_iter));
	if (with_mt) {
		it->srcs[it->n].node = store_memtable_seek(e->mt, token, pk, pklen, 0);
		it->n++;
	}
	for (size_t i = 0; i < e->nssts; i++) {
		src_iter *s = &it->srcs[it->n++];
		s->sst = e->ssts[i];
		s->i = store_sstable_seek(s->sst, token, pk, pklen, 0);
	}
}

/* 1: a merged partition in out; 0: done; -1: error (message in err). */
static int merge_next(store_engine *e, merge_it *it, brook_arena *a, store_part *out, char *err,
                      size_t errlen)
{
	int64_t mt = 0;
	const uint8_t *mpk = NULL;
	uint32_t mlen = 0;
	int have = 0;
	for (size_t i = 0; i < it->n; i++) {
		int64_t t;
		const uint8_t *pk;
		uint32_t len;
		if (!src_key(&it->srcs[i], &t, &pk, &len))
			continue;
		if (!have || store_pk_cmp(t, pk, len, mt, mpk, mlen) < 0) {
			mt = t;
			mpk = pk;
			mlen = len;
			have = 1;
		}
	}
	if (!have || mt > it->max_token)
		return 0;
	store_part key = {.token = mt, .pk = mpk, .pklen = mlen};
	store_part_init(a, out, &key);
	for (size_t i = 0; i < it->n; i++) {
		src_iter *s = &it->srcs[i];
		int64_t t;
		const uint8_t *pk;
		uint32_t len;
		if (!src_key(s, &t, &pk, &len) || store_pk_cmp(t, pk, len, mt, out->pk, mlen) != 0)
			continue;
		if (!s->sst) {
			store_part_merge(a, &e->o.cmp, out, store_memtable_node_part(s->node));
			s->node = store_memtable_next(s->node);
		} else {
			store_part p;
			if (store_sstable_read(s->sst, s->i, a, &p, err, errlen) != 0)
				return -1;
			store_part_merge(a, &e->o.cmp, out, &p);
			s->i++;
		}
	}
	return 1;
}

/* ---- flush and compaction (write lock held) ---- */

static int compact_locked(store_engine *e, char *err, size_t errlen);

static int flush_locked(store_engine *e, char *err, size_t errlen)
{
	if (store_memtable_count(e->mt) == 0)
		return BROOK_OK;
	uint64_t seq;
	if (store_commitlog_roll(e->cl, &seq) != 0) {
		snprintf(err, errlen,
		         "cannot flush table %s: the commit log could not be "
		         "sealed (see the commit log error)",
		         e->dir);
		return BROOK_ERR;
	}
	uint64_t gen = e->next_gen++;
	char path[4096];
	sst_path(e, gen, path, sizeof(path));
	store_sstable_writer *w =
	    store_sstable_writer_new(path, gen, store_memtable_count(e->mt), err, errlen);
	if (!w)
		return BROOK_ERR;
	for (const store_mt_node *n = store_memtable_first(e->mt); n; n = store_memtable_next(n)) {
		if (store_sstable_writer_add(w, store_memtable_node_part(n)) != 0) {
			snprintf(err, errlen, "cannot write sstable %s: %s", path, strerror(errno));
			store_sstable_writer_abort(w);
			return BROOK_ERR;
		}
	}
	if (store_sstable_writer_finish(w, NULL, 0, err, errlen) != 0)
		return BROOK_ERR;
	store_sstable *s = store_sstable_open(path, err, errlen);
	if (!s)
		return BROOK_ERR;
	push_sst(e, s);
	uint64_t parts = store_memtable_count(e->mt);
	size_t bytes = store_memtable_bytes(e->mt);
	store_memtable_free(e->mt);
	e->mt = store_memtable_new(&e->o.cmp);
	store_commitlog_drop_before(e->cl, seq);
	e->flushes++;
	brook_log(BROOK_LOG_DEBUG, COMP,
	          "flushed %" PRIu64 " partitions (%zu memtable bytes) "
	          "of %s to %s",
	          parts, bytes, e->dir, path);
	if (e->o.compact_threshold && e->nssts >= e->o.compact_threshold)
		return compact_locked(e, err, errlen);
	return BROOK_OK;
}

static int compact_locked(store_engine *e, char *err, size_t errlen)
{
	if (flush_locked(e, err, errlen) != 0)
		return BROOK_ERR;
	if (e->nssts == 0)
		return BROOK_OK;
	int64_t now = now_s(e), gc_before = now - e->o.gc_grace_seconds;
	uint64_t nkeys = 0;
	uint64_t *anc = brook_malloc(e->nssts * sizeof(uint64_t));
	for (size_t i = 0; i < e->nssts; i++) {
		nkeys += store_sstable_count(e->ssts[i]);
		anc[i] = store_sstable_generation(e->ssts[i]);
	}
	uint64_t gen = e->next_gen++;
	char path[4096];
	sst_path(e, gen, path, sizeof(path));
	store_sstable_writer *w = store_sstable_writer_new(path, gen, nkeys, err, errlen);
	if (!w) {
		free(anc);
		return BROOK_ERR;
	}
	merge_it it;
	merge_init(e, &it, 0, INT64_MIN, NULL, 0, INT64_MAX);
	brook_arena a = BROOK_ARENA_INIT;
	int rc = BROOK_OK;
	for (;;) {
		store_part p;
		brook_arena_reset(&a);
		int r = merge_next(e, &it, &a, &p, err, errlen);
		if (r == 0)
			break;
		if (r < 0 || (store_part_gc(&e->o.cmp, &p, now, gc_before) &&
		              store_sstable_writer_add(w, &p) != 0)) {
			if (r > 0)
				snprintf(err, errlen, "cannot write sstable %s: %s", path,
				         strerror(errno));
			rc = BROOK_ERR;
			break;
		}
	}
	brook_arena_release(&a);
	free(it.srcs);
	if (rc != 0) {
		store_sstable_writer_abort(w);
		free(anc);
		return rc;
	}
	uint64_t out_count = store_sstable_writer_count(w);
	size_t nanc = e->nssts;
	if (store_sstable_writer_finish(w, anc, (uint32_t)nanc, err, errlen) != 0) {
		free(anc);
		return BROOK_ERR;
	}
	free(anc);
	store_sstable *s = store_sstable_open(path, err, errlen);
	if (!s)
		return BROOK_ERR;
	for (size_t i = 0; i < e->nssts; i++) {
		char old[4096];
		sst_path(e, store_sstable_generation(e->ssts[i]), old, sizeof(old));
		store_sstable_close(e->ssts[i]);
		if (unlink(old) != 0)
			brook_log(BROOK_LOG_WARN, COMP, "cannot remove compacted sstable %s: %s",
			          old, strerror(errno));
	}
	e->nssts = 0;
	brook_fsync_dir(e->dir);
	if (out_count == 0) {
		/* Everything was purged: the empty output has done its job. */
		store_sstable_close(s);
		unlink(path);
		brook_fsync_dir(e->dir);
	} else {
		push_sst(e, s);
	}
	e->compactions++;
	brook_log(BROOK_LOG_DEBUG, COMP, "compacted %zu sstables of %s into %" PRIu64 " partitions",
	          nanc, e->dir, out_count);
	return BROOK_OK;
}

/* ---- open / close ---- */

static int replay_record(void *ctx, const uint8_t *p, size_t n);

struct replay_ctx {
	store_engine *e;
	brook_arena arena;
};

static int apply_one(void *ctx, const store_part *p)
{
	store_engine *e = ctx;
	store_memtable_apply(e->mt, p);
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

static int gen_cmp(const void *a, const void *b)
{
	uint64_t x = store_sstable_generation(*(store_sstable *const *)a);
	uint64_t y = store_sstable_generation(*(store_sstable *const *)b);
	return x < y ? -1 : x > y;
}

static void engine_free(store_engine *e)
{
	if (e->cl)
		store_commitlog_close(e->cl);
	for (size_t i = 0; i < e->nssts; i++)
		store_sstable_close(e->ssts[i]);
	free(e->ssts);
	store_memtable_free(e->mt);
	pthread_rwlock_destroy(&e->lock);
	free(e->dir);
	free(e);
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
	pthread_rwlock_init(&e->lock, NULL);
	e->next_gen = 1;
	e->mt = store_memtable_new(&e->o.cmp);

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
	if (store_memtable_bytes(e->mt) > e->o.memtable_bytes &&
	    flush_locked(e, err, errlen) != 0) {
		engine_free(e);
		return BROOK_ERR;
	}
	brook_log(BROOK_LOG_INFO, COMP,
	          "opened table %s: %zu sstables, %" PRIu64
	          " partitions recovered from the commit log",
	          dir, e->nssts, store_memtable_count(e->mt));
	*out = e;
	return BROOK_OK;
}

void store_engine_close(store_engine *e)
{
	if (!e)
		return;
	char err[512];
	pthread_rwlock_wrlock(&e->lock);
	if (flush_locked(e, err, sizeof(err)) != 0)
		brook_log(BROOK_LOG_ERROR, COMP,
		          "flush at close failed (%s); the commit log "
		          "keeps the data and will be replayed at the next open",
		          err);
	pthread_rwlock_unlock(&e->lock);
	engine_free(e);
}

void store_engine_abandon(store_engine *e)
{
	if (!e)
		return;
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

int store_engine_apply(store_engine *e, const store_part *muts, size_t n, uint64_t *lsn, char *err,
                       size_t errlen)
{
	*lsn = 0;
	if (n == 0)
		return BROOK_OK;
	for (size_t i = 0; i < n; i++)
		if (check_mutation(&muts[i], err, errlen) != 0)
			return BROOK_ERR;
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
	*lsn = store_commitlog_append(e->cl, rec.data, rec.len);
	for (size_t i = 0; i < n; i++) {
		store_part m = muts[i];
		m.token = store_token(m.pk, m.pklen);
		store_memtable_apply(e->mt, &m);
	}
	e->writes += n;
	size_t mbytes = store_memtable_bytes(e->mt);
	if (mbytes >= e->o.memtable_bytes && mbytes >= e->flush_retry_bytes) {
		char ferr[512];
		e->flush_retry_bytes = 0;
		if (flush_locked(e, ferr, sizeof(ferr)) != 0) {
			/* Do not retry (and roll the log) on every write: wait for 10% more. */
			e->flush_retry_bytes = mbytes + mbytes / 10;
			brook_log(BROOK_LOG_ERROR, COMP,
			          "flush of %s failed (%s); writes continue "
			          "in memory and the commit log; check the disk",
			          e->dir, ferr);
		}
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
	for (size_t i = 0; i < e->nssts && rc == 0; i++) {
		int64_t at = store_sstable_find(e->ssts[i], token, pk, pklen);
		store_part sp;
		if (at < 0)
			continue;
		if (store_sstable_read(e->ssts[i], (uint64_t)at, &a, &sp, err, errlen) != 0)
			rc = BROOK_ERR;
		else
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
	if (after && after->token >= min_token)
		merge_init(e, &it, 1, after->token, (const uint8_t *)after->pk.data, after->pk.len,
		           max_token);
	else
		merge_init(e, &it, 1, min_token, NULL, 0, max_token);
	int stop = 0;
	while (!stop && (!limit || sent < limit)) {
		store_part p;
		brook_arena_reset(&a);
		int r = merge_next(e, &it, &a, &p, err, errlen);
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
	pthread_rwlock_unlock(&e->lock);
	free(it.srcs);
	brook_arena_release(&a);
	if (nrows)
		*nrows = sent;
	return rc;
}

/* ---- maintenance ---- */

int store_engine_flush(store_engine *e, char *err, size_t errlen)
{
	pthread_rwlock_wrlock(&e->lock);
	int rc = flush_locked(e, err, errlen);
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

int store_engine_compact(store_engine *e, char *err, size_t errlen)
{
	pthread_rwlock_wrlock(&e->lock);
	int rc = compact_locked(e, err, errlen);
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

int store_engine_truncate(store_engine *e, char *err, size_t errlen)
{
	char path[4096], line[64];
	uint64_t seq;
	int rc = BROOK_ERR;
	pthread_rwlock_wrlock(&e->lock);
	if (store_commitlog_roll(e->cl, &seq) != 0) {
		snprintf(err, errlen, "cannot truncate %s: the commit log could not be sealed",
		         e->dir);
		goto out;
	}
	/* From here the truncate is decided: a crash finishes it at the next open. */
	uint64_t gen = e->next_gen++;
	snprintf(path, sizeof(path), "%s/TRUNCATED", e->dir);
	int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", gen, seq);
	if (brook_file_write_atomic(path, line, (size_t)n) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	store_memtable_free(e->mt);
	e->mt = store_memtable_new(&e->o.cmp);
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
	rc = BROOK_OK;
out:
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

void store_engine_get_stats(store_engine *e, store_engine_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&e->lock);
	out->writes = e->writes;
	out->reads = __atomic_load_n(&e->reads, __ATOMIC_RELAXED);
	out->scans = __atomic_load_n(&e->scans, __ATOMIC_RELAXED);
	out->flushes = e->flushes;
	out->compactions = e->compactions;
	out->memtable_bytes = store_memtable_bytes(e->mt);
	out->memtable_partitions = store_memtable_count(e->mt);
	out->sstables = e->nssts;
	for (size_t i = 0; i < e->nssts; i++)
		out->sstable_bytes += store_sstable_file_bytes(e->ssts[i]);
	out->commitlog_segments = store_commitlog_segments(e->cl);
	pthread_rwlock_unlock(&e->lock);
}
