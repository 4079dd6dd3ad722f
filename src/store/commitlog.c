/*
 * commitlog.c — segments, replay and group commit (the contract is in commitlog.h).
 *
 * STATE (under mu)
 *   pending      records appended but not yet written to the active segment's fd
 *   appended     lsn of the last record appended (lsns count records from 1 per open)
 *   written      lsn of the last record handed to write(2)
 *   durable      lsn of the last record covered by a completed fdatasync
 *   syncing      a leader is writing/syncing outside the lock; only one at a time, so
 *                writes to the segment never interleave
 * TRANSITIONS
 *   append: pending += record; appended++. In periodic mode the record is written at
 *           once (unless a leader is busy, who will write it).
 *   sync:   wait until durable >= lsn (batch) or written >= lsn (periodic); a waiter
 *           finding no leader becomes one: takes pending, drops the lock, write()s and
 *           fdatasync()s, retakes the lock, publishes written/durable, wakes everyone.
 *   roll:   waits out any leader, writes pending, fdatasync()s, opens the next segment,
 *           fsyncs the directory. Everything appended so far is durable afterwards.
 * A write or fdatasync error is sticky (failed): every later sync fails, since what
 * reached the disk is unknown (as PostgreSQL treats a failed fsync).
 */
#include "store/commitlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define COMP    "commitlog"
#define REC_HDR 8

struct store_commitlog {
	char *dir;
	store_commitlog_opts opts;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int fd;
	uint64_t seq;   /* active segment */
	uint64_t *segs; /* every segment on disk, ascending (active last) */
	unsigned nsegs, capsegs;
	brook_buf pending;
	brook_buf spare;
	uint64_t appended, written, durable;
	int syncing;
	int failed;
	int64_t last_sync_ms;
};

static void seg_path(const store_commitlog *cl, uint64_t seq, char *out, size_t n)
{
	snprintf(out, n, "%s/CL-%016" PRIu64 ".log", cl->dir, seq);
}

static void push_seg(store_commitlog *cl, uint64_t seq)
{
	if (cl->nsegs == cl->capsegs) {
		cl->capsegs = cl->capsegs ? cl->capsegs * 2 : 8;
		cl->segs = brook_realloc(cl->segs, cl->capsegs * sizeof(uint64_t));
	}
	cl->segs[cl->nsegs++] = seq;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Replays one segment. Returns BROOK_OK, or BROOK_ERR for a callback failure or I/O
 * error; *bad_at is set to the offset of the first invalid record (or -1).
 */
static int replay_segment(store_commitlog *cl, uint64_t seq, store_replay_fn fn, void *ctx,
                          int64_t *bad_at, uint64_t *nrec, char *err, size_t errlen)
{
	char path[4096];
	seg_path(cl, seq, path, sizeof(path));
	*bad_at = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read commit log segment %s: %s", path,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return BROOK_ERR;
	}
	int64_t size = st.st_size, off = 0;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc = BROOK_OK;
	while (off < size) {
		uint8_t hdr[REC_HDR];
		if (size - off < REC_HDR || brook_pread_all(fd, hdr, REC_HDR, off) != 0) {
			*bad_at = off;
			break;
		}
		uint32_t len = be32(hdr), crc = be32(hdr + 4);
		if (len == 0 || len > cl->opts.max_record || (int64_t)len > size - off - REC_HDR) {
			*bad_at = off;
			break;
		}
		if (len > cap) {
			cap = len;
			buf = brook_realloc(buf, cap);
		}
		if (brook_pread_all(fd, buf, len, off + REC_HDR) != 0 ||
		    brook_crc32c(0, buf, len) != crc) {
			*bad_at = off;
			break;
		}
		if (fn && fn(ctx, buf, len) != 0) {
			snprintf(err, errlen,
			         "commit log segment %s: record at byte %" PRId64 " could not be "
			         "applied; the segment is damaged or from another table",
			         path, off);
			rc = BROOK_ERR;
			break;
		}
		(*nrec)++;
		off += REC_HDR + len;
	}
	free(buf);
	close(fd);
	return rc;
}

static int open_segment(store_commitlog *cl, uint64_t seq, char *err, size_t errlen)
{
	char path[4096];
	seg_path(cl, seq, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || brook_fsync_dir(cl->dir) != 0) {
		snprintf(err, errlen, "cannot create commit log segment %s: %s", path,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return BROOK_ERR;
	}
	cl->fd = fd;
	cl->seq = seq;
	push_seg(cl, seq);
	return BROOK_OK;
}

int store_commitlog_open(const char *dir, const store_commitlog_opts *opts, store_replay_fn fn,
                         void *ctx, store_commitlog **out, char *err, size_t errlen)
{
	*out = NULL;
	if (brook_mkdirs(dir, 0755) != 0) {
		snprintf(err, errlen, "cannot create commit log directory %s: %s", dir,
		         strerror(errno));
		return BROOK_ERR;
	}
	store_commitlog *cl = brook_calloc(1, sizeof(*cl));
	cl->dir = brook_strdup(dir);
	cl->opts = *opts;
	if (cl->opts.max_record == 0)
		cl->opts.max_record = 16u << 20;
	if (cl->opts.period_ms <= 0)
		cl->opts.period_ms = 10000;
	cl->fd = -1;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cond, NULL);
	cl->last_sync_ms = brook_mono_ms();

	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot open commit log directory %s: %s", dir,
		         strerror(errno));
		store_commitlog_close(cl);
		return BROOK_ERR;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (strlen(name) == 23 && strncmp(name, "CL-", 3) == 0 &&
		    strspn(name + 3, "0123456789") == 16 && strcmp(name + 19, ".log") == 0) {
			uint64_t seq = strtoull(name + 3, NULL, 10);
			if (seq >= cl->opts.drop_before)
				push_seg(cl, seq);
			else if (unlinkat(dirfd(d), name, 0) != 0)
				brook_log(BROOK_LOG_WARN, COMP,
				          "cannot remove truncated commit log "
				          "segment %s/%s: %s",
				          dir, name, strerror(errno));
		}
	}
	closedir(d);
	if (cl->nsegs > 1)
		qsort(cl->segs, cl->nsegs, sizeof(uint64_t), u64_cmp);

	/* Empty segments carry nothing (a clean close leaves one): remove them. */
	unsigned kept = 0;
	for (unsigned i = 0; i < cl->nsegs; i++) {
		char path[4096];
		struct stat st;
		seg_path(cl, cl->segs[i], path, sizeof(path));
		if (stat(path, &st) == 0 && st.st_size == 0 && unlink(path) == 0)
			continue;
		cl->segs[kept++] = cl->segs[i];
	}
	uint64_t next = cl->nsegs ? cl->segs[cl->nsegs - 1] + 1 : 1;
	cl->nsegs = kept;
	uint64_t nrec = 0;
	for (unsigned i = 0; i < cl->nsegs; i++) {
		int64_t bad_at;
		if (replay_segment(cl, cl->segs[i], fn, ctx, &bad_at, &nrec, err, errlen) != 0) {
			store_commitlog_close(cl);
			return BROOK_ERR;
		}
		if (bad_at < 0)
			continue;
		char path[4096];
		seg_path(cl, cl->segs[i], path, sizeof(path));
		if (i + 1 < cl->nsegs) {
			snprintf(err, errlen,
			         "commit log segment %s is corrupt at byte %" PRId64
			         " but is not the "
			         "last one; restore it or move it away to accept losing its tail",
			         path, bad_at);
			store_commitlog_close(cl);
			return BROOK_ERR;
		}
		/* A torn tail from a crash mid-append: cut it off for good. */
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, bad_at) != 0 || fdatasync(fd) != 0) {
			snprintf(err, errlen, "cannot truncate commit log segment %s: %s", path,
			         strerror(errno));
			if (fd >= 0)
				close(fd);
			store_commitlog_close(cl);
			return BROOK_ERR;
		}
		close(fd);
		brook_log(BROOK_LOG_WARN, COMP,
		          "commit log segment %s ended in an incomplete or corrupt record at byte "
		          "%" PRId64 "; truncated there (writes never acknowledged)",
		          path, bad_at);
	}
	if (cl->nsegs)
		brook_log(BROOK_LOG_INFO, COMP,
		          "replayed %" PRIu64 " records from %u segments in %s", nrec, cl->nsegs,
		          dir);
	if (next < cl->opts.drop_before)
		next = cl->opts.drop_before;
	if (open_segment(cl, next, err, errlen) != 0) {
		store_commitlog_close(cl);
		return BROOK_ERR;
	}
	*out = cl;
	return BROOK_OK;
}

/* Writes the pending records; under mu, no leader active. */
static void write_pending_locked(store_commitlog *cl)
{
	if (!cl->pending.len || cl->failed)
		return;
	if (brook_write_all(cl->fd, cl->pending.data, cl->pending.len) != 0) {
		brook_log(BROOK_LOG_ERROR, COMP,
		          "writing commit log segment %" PRIu64 " in %s failed: %s; writes are "
		          "refused until restart",
		          cl->seq, cl->dir, strerror(errno));
		cl->failed = 1;
	}
	brook_buf_reset(&cl->pending);
	cl->written = cl->appended;
}

static void sync_fd_locked(store_commitlog *cl)
{
	if (cl->failed)
		return;
	if (fdatasync(cl->fd) != 0) {
		brook_log(BROOK_LOG_ERROR, COMP,
		          "fdatasync of commit log segment %" PRIu64 " in %s failed: %s; writes "
		          "are refused until restart",
		          cl->seq, cl->dir, strerror(errno));
		cl->failed = 1;
		return;
	}
	cl->durable = cl->written;
	cl->last_sync_ms = brook_mono_ms();
}

void store_commitlog_close(store_commitlog *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	while (cl->syncing)
		pthread_cond_wait(&cl->cond, &cl->mu);
	if (cl->fd >= 0) {
		write_pending_locked(cl);
		sync_fd_locked(cl);
		close(cl->fd);
	}
	pthread_mutex_unlock(&cl->mu);
	pthread_mutex_destroy(&cl->mu);
	pthread_cond_destroy(&cl->cond);
	brook_buf_release(&cl->pending);
	brook_buf_release(&cl->spare);
	free(cl->segs);
	free(cl->dir);
	free(cl);
}

void store_commitlog_abandon(store_commitlog *cl)
{
	if (!cl)
		return;
	brook_buf_reset(&cl->pending);
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	store_commitlog_close(cl);
}

uint64_t store_commitlog_append(store_commitlog *cl, const void *payload, size_t len)
{
	if (len == 0 || len > cl->opts.max_record)
		return 0;
	uint32_t crc = brook_crc32c(0, payload, len);
	pthread_mutex_lock(&cl->mu);
	brook_buf_put_be32(&cl->pending, (uint32_t)len);
	brook_buf_put_be32(&cl->pending, crc);
	brook_buf_append(&cl->pending, payload, len);
	uint64_t lsn = ++cl->appended;
	if (!cl->syncing && (cl->opts.mode == STORE_SYNC_PERIODIC || cl->pending.len >= (4u << 20)))
		write_pending_locked(cl);
	pthread_mutex_unlock(&cl->mu);
	return lsn;
}

int store_commitlog_sync(store_commitlog *cl, uint64_t lsn)
{
	pthread_mutex_lock(&cl->mu);
	int batch = cl->opts.mode == STORE_SYNC_BATCH;
	for (;;) {
		if (cl->failed)
			break;
		uint64_t done = batch ? cl->durable : cl->written;
		if (done >= lsn) {
			if (batch || brook_mono_ms() - cl->last_sync_ms < cl->opts.period_ms ||
			    cl->syncing)
				break;
		}
		if (cl->syncing) {
			pthread_cond_wait(&cl->cond, &cl->mu);
			continue;
		}
		/* Become the leader. */
		cl->syncing = 1;
		if (batch && cl->opts.window_us > 0) {
			pthread_mutex_unlock(&cl->mu);
			brook_sleep_ms((cl->opts.window_us + 999) / 1000);
			pthread_mutex_lock(&cl->mu);
		}
		brook_buf tmp = cl->pending;
		cl->pending = cl->spare;
		cl->spare = tmp;
		brook_buf_reset(&cl->pending);
		uint64_t target = cl->appended;
		int fd = cl->fd;
		pthread_mutex_unlock(&cl->mu);
		int werr = 0, serr = 0;
		if (cl->spare.len && brook_write_all(fd, cl->spare.data, cl->spare.len) != 0)
			werr = errno;
		if (!werr && fdatasync(fd) != 0)
			serr = errno;
		brook_buf_reset(&cl->spare);
		pthread_mutex_lock(&cl->mu);
		cl->syncing = 0;
		if (werr || serr) {
			brook_log(BROOK_LOG_ERROR, COMP,
			          "%s of commit log segment %" PRIu64
			          " in %s failed: %s; writes are "
			          "refused until restart",
			          werr ? "writing" : "fdatasync", cl->seq, cl->dir,
			          strerror(werr ? werr : serr));
			cl->failed = 1;
		} else {
			cl->written = target;
			cl->durable = target;
			cl->last_sync_ms = brook_mono_ms();
		}
		pthread_cond_broadcast(&cl->cond);
	}
	int rc = cl->failed ? BROOK_ERR : BROOK_OK;
	pthread_mutex_unlock(&cl->mu);
	return rc;
}

int store_commitlog_roll(store_commitlog *cl, uint64_t *seq)
{
	char err[512];
	pthread_mutex_lock(&cl->mu);
	while (cl->syncing)
		pthread_cond_wait(&cl->cond, &cl->mu);
	write_pending_locked(cl);
	sync_fd_locked(cl);
	int rc = BROOK_ERR;
	if (!cl->failed) {
		int oldfd = cl->fd;
		if (open_segment(cl, cl->seq + 1, err, sizeof(err)) == 0) {
			close(oldfd);
			rc = BROOK_OK;
		} else {
			brook_log(BROOK_LOG_ERROR, COMP, "%s", err);
		}
	}
	*seq = cl->seq;
	pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->mu);
	return rc;
}

int store_commitlog_drop_before(store_commitlog *cl, uint64_t seq)
{
	char path[4096];
	int rc = BROOK_OK;
	pthread_mutex_lock(&cl->mu);
	unsigned keep = 0;
	for (unsigned i = 0; i < cl->nsegs; i++) {
		if (cl->segs[i] >= seq) {
			cl->segs[keep++] = cl->segs[i];
			continue;
		}
		seg_path(cl, cl->segs[i], path, sizeof(path));
		if (unlink(path) != 0 && errno != ENOENT) {
			brook_log(BROOK_LOG_WARN, COMP, "cannot remove commit log segment %s: %s",
			          path, strerror(errno));
			cl->segs[keep++] = cl->segs[i];
			rc = BROOK_ERR;
		}
	}
	cl->nsegs = keep;
	pthread_mutex_unlock(&cl->mu);
	if (brook_fsync_dir(cl->dir) != 0)
		rc = BROOK_ERR;
	return rc;
}

unsigned store_commitlog_segments(const store_commitlog *cl)
{
	/* roll and drop_before change nsegs under mu (stats read from other threads). */
	store_commitlog *m = (store_commitlog *)cl;
	pthread_mutex_lock(&m->mu);
	unsigned n = cl->nsegs;
	pthread_mutex_unlock(&m->mu);
	return n;
}
