/*
 * log.c — one partition's durable log.
 *
 * LAYOUT (in the partition directory)
 *   NNNNNNNNNNNNNNNNNNNN.log        batches as produced, base offset = the file name
 *   NNNNNNNNNNNNNNNNNNNN.index      sparse: (relative offset u32, file position u32) BE
 *   NNNNNNNNNNNNNNNNNNNN.timeindex  (max timestamp so far i64, relative offset u32) BE,
 *                                   one per .index entry
 *   start-offset                    DeleteRecords checkpoint (decimal text)
 *   producer.snapshot               idempotent-producer state and the offset it covers
 * Index rule: before appending a batch, if bytes_since_index >= index_interval_bytes, an
 * entry for that batch is added (so the entries name batch starts). The in-memory index
 * mirrors both files; they are append-written with the log and fsynced at roll and close.
 *
 * INVARIANTS
 *   segs[] sorted by base; segs[nsegs-1] is the active segment (the only one written);
 *   start_offset <= durable <= leo; every byte of every segment below seg->size is a
 *   whole valid batch (recovery restores this); offsets increase strictly across batches.
 *
 * DURABILITY (what an acknowledgement promises; STYLE.md habit 12)
 *   broker_log_append(): write(2) to the page cache. Survives a brook crash, not a power
 *   loss. Durability comes from the flush job (group commit): flush_begin dup()s the active
 *   segment fd and records target = LEO; flush_job_run fdatasync()s (on any thread);
 *   flush_end advances `durable`. Rolling a segment fdatasync()s the outgoing segment and
 *   its indexes and fsyncs the directory synchronously, so at most the active segment is
 *   ever dirty. The broker answers acks=all only once durable > the batch's last offset.
 *
 * RECOVERY (broker_log_open) — run on every open, clean or not:
 *   1. leftovers of interrupted compaction (*.cleaned) and snapshots (*.tmp) are removed;
 *   2. for each segment: the index files are loaded and checked (sizes, entries strictly
 *      increasing, positions inside the file, and the last entry must point at a batch
 *      whose baseOffset matches). If they are missing or inconsistent, they are dropped
 *      and rebuilt by scanning the whole segment; otherwise the scan starts at the last
 *      entry. The scan validates each batch (header, length, CRC-32C, offsets increasing)
 *      and TRUNCATES the file at the first invalid or incomplete batch (logged with the
 *      byte count);
 *   3. LEO = the last segment's next offset; start offset = max(checkpoint, first base);
 *   4. producer state = the snapshot (if it covers no more than LEO) + the batch headers
 *      from its offset to LEO; without a usable snapshot, all batch headers;
 *   5. the active segment is fdatasync()ed, so durable = LEO.
 *
 * RETENTION AND COMPACTION (broker_log_maintain)
 *   delete policy: segments whose newest timestamp is older than retention_ms, and the
 *   oldest segments while the rest still exceed retention_bytes, are unlinked (never the
 *   active one; an expired active segment is rolled first). compact policy: a key->latest
 *   offset map is built over the whole log, then each sealed segment older than
 *   min_compaction_lag_ms is rewritten keeping each key's latest record (tombstones only
 *   while younger than delete_retention_ms): into NAME.log.cleaned, fsync, rename over the
 *   original. Batches whose records all survive are copied verbatim; others are rebuilt
 *   uncompressed with their original offsets, producer fields and lastOffsetDelta.
 *   Segments are refcounted: a slice handed to the network keeps its segment's fd open
 *   even when retention unlinks or compaction replaces the file.
 */
#include "broker/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/producer_state.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "kafka/batch.h"

#define COMP "log"
#define SEG_MAX_BYTES ((uint64_t)INT32_MAX) /* index positions are u32; keep well inside */
#define SCAN_BUF 65536

typedef struct idx_entry {
	uint32_t rel;
	uint32_t pos;
	int64_t ts; /* max timestamp of all batches up to and including this one */
} idx_entry;

typedef struct seg {
	int64_t base;
	int fd;
	int idx_fd;
	int tidx_fd;
	uint64_t size;
	idx_entry *idx;
	size_t nidx;
	size_t capidx;
	uint64_t bytes_since_index;
	int64_t next_offset;   /* last offset + 1; base when empty */
	int64_t max_ts;        /* -1 when no timestamps */
	int64_t first_append_ms;
	int64_t last_append_ms;
	int refs;
} seg;

struct broker_log {
	char *dir;
	broker_log_config cfg;
	seg **segs;
	int nsegs;
	int capsegs;
	int64_t start_offset;
	int64_t leo;
	int64_t durable;
	broker_pstate *ps;
	int dirfd;
	bool compact_dirty;
};

void broker_log_config_defaults(broker_log_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->segment_bytes = 1ull << 30;
	cfg->segment_ms = 7ll * 24 * 3600 * 1000;
	cfg->retention_ms = 7ll * 24 * 3600 * 1000;
	cfg->retention_bytes = -1;
	cfg->index_interval_bytes = 4096;
	cfg->compact = false;
	cfg->delete_retention_ms = 24ll * 3600 * 1000;
	cfg->min_compaction_lag_ms = 0;
	cfg->max_message_bytes = 1048588;
	cfg->leader_epoch = 0;
}

/* ---- small I/O helpers ---- */


/* Reads exactly n bytes unless EOF; returns bytes read or -1. */
static ssize_t pread_full(int fd, void *p, size_t n, int64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)p + got, n - got, (off_t)(off + (int64_t)got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void seg_path(const broker_log *l, int64_t base, const char *ext, char *out,
		     size_t outlen)
{
	snprintf(out, outlen, "%s/%020" PRId64 "%s", l->dir, base, ext);
}

/* A buffered window over a segment file, for scanning batch headers. */
typedef struct scanner {
	int fd;
	int64_t end;
	uint8_t *buf;
	size_t cap;
	int64_t at; /* file position of buf[0] */
	size_t len;
} scanner;

static void scan_init(scanner *s, int fd, int64_t end, size_t cap)
{
	s->fd = fd;
	s->end = end;
	s->cap = cap;
	s->buf = brook_malloc(cap);
	s->at = 0;
	s->len = 0;
}

static void scan_release(scanner *s)
{
	free(s->buf);
}

/* Bytes [pos, pos+n) of the file, or NULL when they pass `end` or cannot be read. */
static const uint8_t *scan_get(scanner *s, int64_t pos, size_t n)
{
	if (pos < 0 || pos + (int64_t)n > s->end)
		return NULL;
	if (pos >= s->at && pos + (int64_t)n <= s->at + (int64_t)s->len)
		return s->buf + (pos - s->at);
	if (n > s->cap) {
		free(s->buf);
		s->cap = n;
		s->buf = brook_malloc(n);
	}
	size_t want = s->cap;
	if ((int64_t)want > s->end - pos)
		want = (size_t)(s->end - pos);
	ssize_t r = pread_full(s->fd, s->buf, want, pos);
	if (r < (ssize_t)n) {
		s->len = 0;
		return NULL;
	}
	s->at = pos;
	s->len = (size_t)r;
	return s->buf;
}

/* ---- segments ---- */

static void seg_unref(seg *s)
{
	if (--s->refs > 0)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->idx_fd >= 0)
		close(s->idx_fd);
	if (s->tidx_fd >= 0)
		close(s->tidx_fd);
	free(s->idx);
	free(s);
}

static void seg_add_idx(seg *s, uint32_t rel, uint32_t pos, int64_t ts)
{
	if (s->nidx == s->capidx) {
		s->capidx = s->capidx ? s->capidx * 2 : 64;
		s->idx = brook_realloc(s->idx, s->capidx * sizeof(idx_entry));
	}
	s->idx[s->nidx++] = (idx_entry){rel, pos, ts};
}

/* Writes index entry i to both index files (at its slot). */
static int seg_write_idx(seg *s, size_t i)
{
	uint8_t a[8], b[12];
	kafka_put_be32(a, s->idx[i].rel);
	kafka_put_be32(a + 4, s->idx[i].pos);
	kafka_put_be64(b, (uint64_t)s->idx[i].ts);
	kafka_put_be32(b + 8, s->idx[i].rel);
	if (brook_pwrite_all(s->idx_fd, a, 8, (int64_t)i * 8) != BROOK_OK ||
	    brook_pwrite_all(s->tidx_fd, b, 12, (int64_t)i * 12) != BROOK_OK)
		return BROOK_ERR;
	return BROOK_OK;
}

static int seg_rewrite_idx(seg *s)
{
	if (ftruncate(s->idx_fd, 0) != 0 || ftruncate(s->tidx_fd, 0) != 0)
		return BROOK_ERR;
	for (size_t i = 0; i < s->nidx; i++) {
		if (seg_write_idx(s, i) != BROOK_OK)
			return BROOK_ERR;
	}
	return BROOK_OK;
}

/* Index bookkeeping for a batch about to be placed at s->size. */
static void seg_note_batch(seg *s, const kafka_batch_hdr *h, uint64_t pos, size_t len,
			   uint32_t interval, bool write_files)
{
	int64_t ts = h->max_timestamp > s->max_ts ? h->max_timestamp : s->max_ts;
	if (s->bytes_since_index >= interval && h->base_offset - s->base <= (int64_t)UINT32_MAX) {
		seg_add_idx(s, (uint32_t)(h->base_offset - s->base), (uint32_t)pos, ts);
		if (write_files && seg_write_idx(s, s->nidx - 1) != BROOK_OK)
			brook_warn(COMP, "cannot write index entry for segment %020" PRId64
					 ": %s; it will be rebuilt at the next start",
				   s->base, strerror(errno));
		s->bytes_since_index = 0;
	}
	s->bytes_since_index += len;
	s->max_ts = ts;
	s->next_offset = kafka_batch_last_offset(h) + 1;
}

static seg *seg_new(int64_t base)
{
	seg *s = brook_calloc(1, sizeof(*s));
	s->base = base;
	s->fd = s->idx_fd = s->tidx_fd = -1;
	s->next_offset = base;
	s->max_ts = -1;
	s->first_append_ms = -1;
	s->last_append_ms = -1;
	s->refs = 1;
	return s;
}

static int seg_open_files(broker_log *l, seg *s, bool create)
{
	char p[4200];
	int fl = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
	seg_path(l, s->base, ".log", p, sizeof(p));
	s->fd = open(p, fl, 0644);
	if (s->fd < 0)
		return BROOK_ERR;
	seg_path(l, s->base, ".index", p, sizeof(p));
	s->idx_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	seg_path(l, s->base, ".timeindex", p, sizeof(p));
	s->tidx_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->idx_fd < 0 || s->tidx_fd < 0)
		return BROOK_ERR;
	return BROOK_OK;
}

static void seg_unlink_files(broker_log *l, int64_t base)
{
	static const char *const exts[] = {".log", ".index", ".timeindex"};
	char p[4200];
	for (size_t i = 0; i < 3; i++) {
		seg_path(l, base, exts[i], p, sizeof(p));
		unlink(p);
	}
}

/* Loads the index files into s->idx; false when they are unusable. */
static bool seg_load_idx(seg *s)
{
	struct stat a, b;
	if (fstat(s->idx_fd, &a) != 0 || fstat(s->tidx_fd, &b) != 0)
		return false;
	if (a.st_size % 8 || b.st_size % 12 || a.st_size / 8 != b.st_size / 12)
		return false;
	size_t n = (size_t)(a.st_size / 8);
	if (n == 0)
		return true;
	if (n > (size_t)(s->size / KAFKA_BATCH_HDR_SIZE) + 1)
		return false;
	uint8_t *ia = brook_malloc(n * 8), *ib = brook_malloc(n * 12);
	bool ok = pread_full(s->idx_fd, ia, n * 8, 0) == (ssize_t)(n * 8) &&
		  pread_full(s->tidx_fd, ib, n * 12, 0) == (ssize_t)(n * 12);
	for (size_t i = 0; ok && i < n; i++) {
		uint32_t rel = kafka_be32(ia + i * 8), pos = kafka_be32(ia + i * 8 + 4);
		int64_t ts = (int64_t)kafka_be64(ib + i * 12);
		if (kafka_be32(ib + i * 12 + 8) != rel || pos >= s->size)
			ok = false;
		else if (s->nidx > 0 && (rel <= s->idx[s->nidx - 1].rel ||
					 pos <= s->idx[s->nidx - 1].pos ||
					 ts < s->idx[s->nidx - 1].ts))
			ok = false;
		else
			seg_add_idx(s, rel, pos, ts);
	}
	free(ia);
	free(ib);
	return ok;
}

/*
 * Recovery of one segment (design block, step 2). Sets size, next_offset, max_ts, the
 * index; truncates the file at the first bad batch.
 */
static int seg_recover(broker_log *l, seg *s)
{
	struct stat st;
	if (fstat(s->fd, &st) != 0)
		return BROOK_ERR;
	s->size = (uint64_t)st.st_size;
	s->last_append_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	bool rebuild = !seg_load_idx(s);
	scanner sc;
	scan_init(&sc, s->fd, (int64_t)s->size, SCAN_BUF);
	int64_t pos = 0;
	bool skip_first_idx = false;
	if (!rebuild && s->nidx > 0) {
		const idx_entry *e = &s->idx[s->nidx - 1];
		const uint8_t *p = scan_get(&sc, e->pos, 12);
		if (!p || (int64_t)kafka_be64(p) != s->base + e->rel) {
			rebuild = true;
		} else {
			pos = e->pos;
			s->max_ts = e->ts;
			skip_first_idx = true;
			/* the batch before the scan start ends below it: its offsets are lower */
			s->next_offset = s->base + e->rel;
		}
	}
	if (rebuild) {
		if (s->nidx > 0 || (s->size > 0))
			brook_info(COMP, "rebuilding the index of %s/%020" PRId64 ".log", l->dir,
				   s->base);
		s->nidx = 0;
		s->max_ts = -1;
		s->next_offset = s->base;
		pos = 0;
	}
	size_t n_before = s->nidx;
	s->bytes_since_index = 0;
	const char *why = NULL;
	while ((uint64_t)pos < s->size) {
		const uint8_t *p = scan_get(&sc, pos, KAFKA_BATCH_HDR_SIZE);
		kafka_batch_hdr h;
		if (!p) {
			why = "incomplete batch header";
			break;
		}
		if (kafka_batch_parse_hdr(p, KAFKA_BATCH_HDR_SIZE, &h) != BROOK_OK) {
			why = "invalid batch header";
			break;
		}
		size_t len = kafka_batch_total_size(&h);
		if (len > (uint64_t)s->size - (uint64_t)pos) {
			why = "incomplete batch";
			break;
		}
		if (h.base_offset < s->next_offset || h.last_offset_delta < 0 ||
		    h.base_offset > INT64_MAX - h.last_offset_delta - 1) {
			why = "batch offsets not increasing";
			break;
		}
		p = scan_get(&sc, pos, len);
		if (!p || kafka_batch_compute_crc(p, len) != h.crc) {
			why = "CRC mismatch";
			break;
		}
		if (skip_first_idx) {
			skip_first_idx = false;
			s->bytes_since_index = len;
			s->max_ts = h.max_timestamp > s->max_ts ? h.max_timestamp : s->max_ts;
			s->next_offset = kafka_batch_last_offset(&h) + 1;
		} else {
			seg_note_batch(s, &h, (uint64_t)pos, len, l->cfg.index_interval_bytes,
				       false);
		}
		pos += (int64_t)len;
	}
	scan_release(&sc);
	if ((uint64_t)pos < s->size) {
		brook_warn(COMP, "%s/%020" PRId64 ".log: %s at byte %" PRId64
				 "; truncated %" PRIu64 " bytes (data after it was never "
				 "acknowledged as durable or is damaged)",
			   l->dir, s->base, why, pos, s->size - (uint64_t)pos);
		if (ftruncate(s->fd, pos) != 0)
			return BROOK_ERR;
		s->size = (uint64_t)pos;
		while (s->nidx > 0 && s->idx[s->nidx - 1].pos >= s->size)
			s->nidx--;
		rebuild = true;
	}
	if (rebuild || s->nidx != n_before) {
		if (seg_rewrite_idx(s) != BROOK_OK)
			return BROOK_ERR;
	}
	if (s->size > 0)
		s->first_append_ms = s->last_append_ms;
	return BROOK_OK;
}

/* ---- log lifecycle ---- */

static void segs_push(broker_log *l, seg *s)
{
	if (l->nsegs == l->capsegs) {
		l->capsegs = l->capsegs ? l->capsegs * 2 : 8;
		l->segs = brook_realloc(l->segs, (size_t)l->capsegs * sizeof(seg *));
	}
	l->segs[l->nsegs++] = s;
}

static seg *active(const broker_log *l)
{
	return l->segs[l->nsegs - 1];
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int write_checkpoint(broker_log *l)
{
	char p[4200], text[32];
	snprintf(p, sizeof(p), "%s/start-offset", l->dir);
	int n = snprintf(text, sizeof(text), "%" PRId64 "\n", l->start_offset);
	return brook_file_write_atomic(p, text, (size_t)n);
}

static int64_t read_checkpoint(const broker_log *l)
{
	char p[4200], text[32] = {0};
	snprintf(p, sizeof(p), "%s/start-offset", l->dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = pread_full(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (r <= 0)
		return 0;
	char *end;
	long long v = strtoll(text, &end, 10);
	return v > 0 ? (int64_t)v : 0;
}

static void snapshot_path(const broker_log *l, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/producer.snapshot", l->dir);
}

/* Replays batch headers at or above `from` into the producer state. */
static void pstate_replay(broker_log *l, int64_t from)
{
	for (int i = 0; i < l->nsegs; i++) {
		seg *s = l->segs[i];
		if (s->next_offset <= from || s->size == 0)
			continue;
		scanner sc;
		scan_init(&sc, s->fd, (int64_t)s->size, SCAN_BUF);
		int64_t pos = 0;
		while ((uint64_t)pos < s->size) {
			const uint8_t *p = scan_get(&sc, pos, KAFKA_BATCH_HDR_SIZE);
			kafka_batch_hdr h;
			if (!p || kafka_batch_parse_hdr(p, KAFKA_BATCH_HDR_SIZE, &h) != BROOK_OK)
				break;
			if (h.base_offset >= from)
				broker_pstate_update(l->ps, &h);
			pos += (int64_t)kafka_batch_total_size(&h);
		}
		scan_release(&sc);
	}
}

static seg *create_segment(broker_log *l, int64_t base)
{
	seg *s = seg_new(base);
	char p[4200];
	seg_path(l, base, ".log", p, sizeof(p));
	/* A leftover file with this base (an empty segment that was never synced) is reused. */
	if (seg_open_files(l, s, true) != BROOK_OK || ftruncate(s->fd, 0) != 0 ||
	    ftruncate(s->idx_fd, 0) != 0 || ftruncate(s->tidx_fd, 0) != 0) {
		brook_error(COMP, "cannot create segment %s: %s", p, strerror(errno));
		seg_unref(s);
		return NULL;
	}
	fsync(l->dirfd);
	return s;
}

broker_log *broker_log_open(const char *dir, const broker_log_config *cfg, char *err,
			    size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create log directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	broker_log *l = brook_calloc(1, sizeof(*l));
	l->dir = brook_strdup(dir);
	broker_log_set_config(l, cfg);
	l->ps = broker_pstate_new();
	l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = opendir(dir);
	if (l->dirfd < 0 || !d) {
		snprintf(err, errlen, "cannot open log directory %s: %s", dir, strerror(errno));
		if (d)
			closedir(d);
		broker_log_close(l);
		return NULL;
	}
	int64_t *bases = NULL;
	size_t nb = 0, capb = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		if ((len > 8 && strcmp(name + len - 8, ".cleaned") == 0) ||
		    (len > 4 && strcmp(name + len - 4, ".tmp") == 0)) {
			unlinkat(l->dirfd, name, 0);
			continue;
		}
		if (len != 24 || strcmp(name + 20, ".log") != 0 ||
		    strspn(name, "0123456789") != 20)
			continue;
		if (nb == capb) {
			capb = capb ? capb * 2 : 16;
			bases = brook_realloc(bases, capb * sizeof(int64_t));
		}
		bases[nb++] = strtoll(name, NULL, 10);
	}
	closedir(d);
	if (nb > 0)
		qsort(bases, nb, sizeof(int64_t), cmp_i64);
	for (size_t i = 0; i < nb; i++) {
		seg *s = seg_new(bases[i]);
		segs_push(l, s);
		if (seg_open_files(l, s, false) != BROOK_OK || seg_recover(l, s) != BROOK_OK) {
			snprintf(err, errlen, "cannot recover segment %020" PRId64 " in %s: %s",
				 bases[i], dir, strerror(errno));
			free(bases);
			broker_log_close(l);
			return NULL;
		}
	}
	free(bases);
	int64_t ckpt = read_checkpoint(l);
	if (l->nsegs == 0) {
		seg *s = create_segment(l, ckpt);
		if (!s) {
			snprintf(err, errlen, "cannot create the first segment in %s: %s", dir,
				 strerror(errno));
			broker_log_close(l);
			return NULL;
		}
		segs_push(l, s);
	}
	seg *a = active(l);
	l->leo = a->next_offset > a->base ? a->next_offset : a->base;
	l->start_offset = ckpt > l->segs[0]->base ? ckpt : l->segs[0]->base;
	if (l->start_offset > l->leo)
		l->start_offset = l->leo;
	char sp[4200];
	snapshot_path(l, sp, sizeof(sp));
	int64_t snap_off = 0;
	if (broker_pstate_load(l->ps, sp, &snap_off) != BROOK_OK || snap_off > l->leo) {
		broker_pstate_clear(l->ps);
		snap_off = l->segs[0]->base;
	}
	pstate_replay(l, snap_off);
	if (fdatasync(a->fd) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
		broker_log_close(l);
		return NULL;
	}
	l->durable = l->leo;
	l->compact_dirty = true;
	return l;
}

static int sync_segment(seg *s)
{
	int rc = fdatasync(s->fd);
	if (s->idx_fd >= 0)
		rc |= fdatasync(s->idx_fd);
	if (s->tidx_fd >= 0)
		rc |= fdatasync(s->tidx_fd);
	return rc == 0 ? BROOK_OK : BROOK_ERR;
}

void broker_log_close(broker_log *l)
{
	if (!l)
		return;
	if (l->nsegs > 0 && l->dirfd >= 0) {
		if (sync_segment(active(l)) != BROOK_OK)
			brook_error(COMP, "cannot sync the active segment of %s: %s", l->dir,
				    strerror(errno));
		char sp[4200];
		snapshot_path(l, sp, sizeof(sp));
		if (broker_pstate_save(l->ps, sp, l->leo) != BROOK_OK)
			brook_warn(COMP, "cannot write the producer snapshot of %s: %s", l->dir,
				   strerror(errno));
		fsync(l->dirfd);
	}
	for (int i = 0; i < l->nsegs; i++)
		seg_unref(l->segs[i]);
	free(l->segs);
	broker_pstate_free(l->ps);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->dir);
	free(l);
}

void broker_log_set_config(broker_log *l, const broker_log_config *cfg)
{
	l->cfg = *cfg;
	if (l->cfg.segment_bytes == 0 || l->cfg.segment_bytes > SEG_MAX_BYTES)
		l->cfg.segment_bytes = SEG_MAX_BYTES;
	if (l->cfg.index_interval_bytes == 0)
		l->cfg.index_interval_bytes = 4096;
}

const broker_log_config *broker_log_get_config(const broker_log *l)
{
	return &l->cfg;
}

int64_t broker_log_start_offset(const broker_log *l)
{
	return l->start_offset;
}

int64_t broker_log_end_offset(const broker_log *l)
{
	return l->leo;
}

int64_t broker_log_durable_offset(const broker_log *l)
{
	return l->durable;
}

int64_t broker_log_size_bytes(const broker_log *l)
{
	int64_t t = 0;
	for (int i = 0; i < l->nsegs; i++)
		t += (int64_t)l->segs[i]->size;
	return t;
}

int broker_log_segment_count(const broker_log *l)
{
	return l->nsegs;
}

int16_t broker_log_producer_epoch(const broker_log *l, int64_t producer_id)
{
	return broker_pstate_epoch(l->ps, producer_id);
}

int64_t broker_log_max_producer_id(const broker_log *l)
{
	return broker_pstate_max_pid(l->ps);
}

/* ---- roll and append ---- */

/* Seals the active segment (synced with its indexes, producer snapshot written) and
 * starts a new one at the LEO. */
static int roll(broker_log *l)
{
	seg *old = active(l);
	if (sync_segment(old) != BROOK_OK) {
		brook_error(COMP, "cannot sync segment %020" PRId64 " of %s: %s", old->base,
			    l->dir, strerror(errno));
		return BROOK_ERR;
	}
	l->durable = l->leo; /* older segments were synced when they rolled */
	seg *s = create_segment(l, l->leo);
	if (!s)
		return BROOK_ERR;
	segs_push(l, s);
	char sp[4200];
	snapshot_path(l, sp, sizeof(sp));
	if (broker_pstate_save(l->ps, sp, l->leo) != BROOK_OK)
		brook_warn(COMP, "cannot write the producer snapshot of %s: %s", l->dir,
			   strerror(errno));
	l->compact_dirty = true;
	return BROOK_OK;
}

int16_t broker_log_append(broker_log *l, uint8_t *batch, size_t len, int64_t now_ms,
			  int64_t *base_offset, bool *duplicate)
{
	*duplicate = false;
	*base_offset = -1;
	kafka_batch_hdr h;
	if (kafka_batch_parse_hdr(batch, len, &h) != BROOK_OK ||
	    kafka_batch_total_size(&h) != len)
		return BROKER_LOG_ERR_CORRUPT_MESSAGE;
	if (l->cfg.max_message_bytes && len > l->cfg.max_message_bytes)
		return BROKER_LOG_ERR_MESSAGE_TOO_LARGE;
	if ((uint64_t)len > l->cfg.segment_bytes && len > SEG_MAX_BYTES / 2)
		return BROKER_LOG_ERR_MESSAGE_TOO_LARGE;
	int64_t dup;
	int16_t e = broker_pstate_check(l->ps, &h, &dup);
	if (e != 0)
		return e;
	if (dup >= 0) {
		*duplicate = true;
		*base_offset = dup;
		return BROKER_LOG_ERR_NONE;
	}
	seg *s = active(l);
	bool full = s->size + len > l->cfg.segment_bytes;
	bool old = l->cfg.segment_ms >= 0 && now_ms - s->first_append_ms >= l->cfg.segment_ms;
	/* relative offsets in the index are u32 */
	bool wide = l->leo - s->base > (int64_t)UINT32_MAX - (int64_t)h.last_offset_delta - 1;
	if (s->size > 0 && (full || old || wide)) {
		if (roll(l) != BROOK_OK)
			return BROKER_LOG_ERR_KAFKA_STORAGE_ERROR;
		s = active(l);
	}
	h.base_offset = l->leo;
	h.partition_leader_epoch = l->cfg.leader_epoch;
	kafka_put_be64(batch + KAFKA_BATCH_OFF_BASE_OFFSET, (uint64_t)h.base_offset);
	kafka_put_be32(batch + KAFKA_BATCH_OFF_LEADER_EPOCH, (uint32_t)h.partition_leader_epoch);
	if (brook_pwrite_all(s->fd, batch, len, (int64_t)s->size) != BROOK_OK) {
		brook_error(COMP, "cannot write to %s/%020" PRId64 ".log: %s; the batch is "
				  "refused, check the disk",
			    l->dir, s->base, strerror(errno));
		if (ftruncate(s->fd, (off_t)s->size) != 0)
			brook_error(COMP, "cannot truncate %s after a failed write", l->dir);
		return BROKER_LOG_ERR_KAFKA_STORAGE_ERROR;
	}
	seg_note_batch(s, &h, s->size, len, l->cfg.index_interval_bytes, true);
	s->size += len;
	if (s->first_append_ms < 0)
		s->first_append_ms = now_ms;
	s->last_append_ms = now_ms;
	l->leo = s->next_offset;
	broker_pstate_update(l->ps, &h);
	*base_offset = h.base_offset;
	return BROKER_LOG_ERR_NONE;
}

/* ---- reads ---- */

/* Index of the segment holding `offset`: the last one with base <= offset. */
static int find_seg(const broker_log *l, int64_t offset)
{
	int lo = 0, hi = l->nsegs - 1;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (l->segs[mid]->base <= offset)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* File position from which to scan for `offset` in s. */
static int64_t idx_lookup(const seg *s, int64_t offset)
{
	size_t lo = 0, hi = s->nidx;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->base + s->idx[mid].rel <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : s->idx[lo - 1].pos;
}

int16_t broker_log_read(broker_log *l, int64_t offset, size_t max_bytes, int64_t upto,
			broker_log_slice *out)
{
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->first_offset = -1;
	out->next_offset = -1;
	if (offset < l->start_offset || offset > l->leo)
		return BROKER_LOG_ERR_OFFSET_OUT_OF_RANGE;
	if (upto > l->leo)
		upto = l->leo;
	if (offset >= upto)
		return BROKER_LOG_ERR_NONE;
	for (int i = find_seg(l, offset); i < l->nsegs; i++) {
		seg *s = l->segs[i];
		if (s->size == 0 || offset >= s->next_offset)
			continue;
		scanner sc;
		scan_init(&sc, s->fd, (int64_t)s->size, 8192);
		int64_t pos = idx_lookup(s, offset), start = -1;
		size_t total = 0;
		while ((uint64_t)pos < s->size) {
			const uint8_t *p = scan_get(&sc, pos, KAFKA_BATCH_OFF_MAX_TIMESTAMP);
			if (!p)
				break;
			int64_t bo = (int64_t)kafka_be64(p);
			size_t len = KAFKA_BATCH_LOG_OVERHEAD + (size_t)kafka_be32(p + 8);
			int64_t last =
				bo + (int32_t)kafka_be32(p + KAFKA_BATCH_OFF_LAST_OFFSET_DELTA);
			if (start < 0 && last < offset) {
				pos += (int64_t)len;
				continue;
			}
			if (last >= upto || (total > 0 && total + len > max_bytes))
				break;
			if (start < 0) {
				start = pos;
				out->first_offset = bo;
			}
			total += len;
			pos += (int64_t)len;
			out->next_offset = last + 1;
		}
		scan_release(&sc);
		if (start < 0) {
			if (out->first_offset < 0 && (uint64_t)pos >= s->size)
				continue; /* a compaction gap: the offset is further on */
			return BROKER_LOG_ERR_NONE;
		}
		s->refs++;
		out->fd = s->fd;
		out->pos = start;
		out->len = total;
		out->seg_ref = s;
		return BROKER_LOG_ERR_NONE;
	}
	return BROKER_LOG_ERR_NONE;
}

void broker_log_slice_release(broker_log_slice *s)
{
	if (s->seg_ref)
		seg_unref(s->seg_ref);
	s->seg_ref = NULL;
	s->fd = -1;
	s->len = 0;
}

/* Reads the whole batch at pos into buf. */
static int read_batch(const seg *s, int64_t pos, brook_buf *buf)
{
	uint8_t hdr[12];
	if (pread_full(s->fd, hdr, 12, pos) != 12)
		return BROOK_ERR;
	size_t len = 12 + (size_t)kafka_be32(hdr + 8);
	if ((uint64_t)pos + len > s->size)
		return BROOK_ERR;
	brook_buf_reset(buf);
	brook_buf_reserve(buf, len);
	if (pread_full(s->fd, buf->data, len, pos) != (ssize_t)len)
		return BROOK_ERR;
	buf->len = len;
	return BROOK_OK;
}

int64_t broker_log_offset_for_time(broker_log *l, int64_t ts)
{
	brook_buf buf = BROOK_BUF_INIT;
	int64_t result = -1;
	for (int i = 0; i < l->nsegs && result < 0; i++) {
		seg *s = l->segs[i];
		if (s->size == 0 || s->max_ts < ts || s->next_offset <= l->start_offset)
			continue;
		/* first entry whose max-so-far reaches ts; scan from the entry before it */
		size_t k = 0;
		while (k < s->nidx && s->idx[k].ts < ts)
			k++;
		int64_t pos = k == 0 ? 0 : s->idx[k - 1].pos;
		scanner sc;
		scan_init(&sc, s->fd, (int64_t)s->size, 8192);
		while ((uint64_t)pos < s->size && result < 0) {
			const uint8_t *p = scan_get(&sc, pos, KAFKA_BATCH_OFF_MAX_TIMESTAMP + 8);
			if (!p)
				break;
			size_t len = KAFKA_BATCH_LOG_OVERHEAD + (size_t)kafka_be32(p + 8);
			int64_t bo = (int64_t)kafka_be64(p);
			int64_t last =
				bo + (int32_t)kafka_be32(p + KAFKA_BATCH_OFF_LAST_OFFSET_DELTA);
			int64_t mts = (int64_t)kafka_be64(p + KAFKA_BATCH_OFF_MAX_TIMESTAMP);
			if (mts >= ts && last >= l->start_offset) {
				result = bo;
				if (read_batch(s, pos, &buf) == BROOK_OK) {
					kafka_record_iter it;
					kafka_record r;
					kafka_record_iter_init(&it, (const uint8_t *)buf.data,
							       buf.len, 0, false);
					while (kafka_record_iter_next(&it, &r) == 1) {
						if (r.timestamp < ts || r.offset < l->start_offset)
							continue;
						result = r.offset;
						break;
					}
					kafka_record_iter_release(&it);
				}
			}
			pos += (int64_t)len;
		}
		scan_release(&sc);
	}
	brook_buf_release(&buf);
	if (result >= 0 && result < l->start_offset)
		result = l->start_offset;
	return result;
}

void broker_log_max_timestamp(broker_log *l, int64_t *ts, int64_t *offset)
{
	*ts = -1;
	*offset = -1;
	for (int i = 0; i < l->nsegs; i++) {
		if (l->segs[i]->size > 0 && l->segs[i]->max_ts > *ts)
			*ts = l->segs[i]->max_ts;
	}
	if (*ts >= 0)
		*offset = broker_log_offset_for_time(l, *ts);
}

/* ---- deletion ---- */

/* Unlinks the oldest segment (never the active one). */
static void drop_first_segment(broker_log *l, const char *reason)
{
	seg *s = l->segs[0];
	brook_info(COMP, "deleting segment %s/%020" PRId64 ".log (%" PRIu64 " bytes): %s",
		   l->dir, s->base, s->size, reason);
	seg_unlink_files(l, s->base);
	memmove(l->segs, l->segs + 1, (size_t)(l->nsegs - 1) * sizeof(seg *));
	l->nsegs--;
	seg_unref(s);
	if (l->segs[0]->base > l->start_offset) {
		l->start_offset = l->segs[0]->base;
		if (write_checkpoint(l) != BROOK_OK)
			brook_warn(COMP, "cannot write the start-offset checkpoint of %s: %s",
				   l->dir, strerror(errno));
	}
	fsync(l->dirfd);
}

int16_t broker_log_delete_before(broker_log *l, int64_t offset)
{
	if (offset == -1)
		offset = l->leo;
	if (offset > l->leo || offset < 0)
		return BROKER_LOG_ERR_OFFSET_OUT_OF_RANGE;
	if (offset <= l->start_offset)
		return BROKER_LOG_ERR_NONE;
	l->start_offset = offset;
	if (write_checkpoint(l) != BROOK_OK) {
		brook_error(COMP, "cannot write the start-offset checkpoint of %s: %s", l->dir,
			    strerror(errno));
		return BROKER_LOG_ERR_KAFKA_STORAGE_ERROR;
	}
	if (offset == l->leo && active(l)->size > 0 && roll(l) != BROOK_OK)
		return BROKER_LOG_ERR_KAFKA_STORAGE_ERROR;
	while (l->nsegs > 1 && l->segs[1]->base <= offset)
		drop_first_segment(l, "below the log start offset (DeleteRecords)");
	return BROKER_LOG_ERR_NONE;
}

static int64_t seg_time(const seg *s)
{
	return s->max_ts >= 0 ? s->max_ts : s->last_append_ms;
}

/* ---- compaction ---- */

typedef struct kslot {
	uint64_t hash;
	const uint8_t *key; /* NULL: free */
	int32_t len;
	int64_t offset;
} kslot;

typedef struct keymap {
	kslot *slots;
	size_t cap;
	size_t count;
	brook_arena arena;
} keymap;

static uint64_t key_hash(const uint8_t *k, int32_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (int32_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return h;
}

static kslot *km_find(keymap *m, const uint8_t *k, int32_t n, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		kslot *s = &m->slots[i];
		if (!s->key || (s->hash == h && s->len == n && memcmp(s->key, k, (size_t)n) == 0))
			return s;
	}
}

static void km_put(keymap *m, const uint8_t *k, int32_t n, int64_t offset)
{
	if ((m->count + 1) * 2 > m->cap) {
		kslot *old = m->slots;
		size_t oldcap = m->cap;
		m->cap = oldcap ? oldcap * 2 : 1024;
		m->slots = brook_calloc(m->cap, sizeof(kslot));
		for (size_t i = 0; i < oldcap; i++) {
			if (old[i].key)
				*km_find(m, old[i].key, old[i].len, old[i].hash) = old[i];
		}
		free(old);
	}
	uint64_t h = key_hash(k, n);
	kslot *s = km_find(m, k, n, h);
	if (!s->key) {
		/* empty keys need a non-NULL pointer too */
		uint8_t *copy = brook_arena_alloc(&m->arena, (size_t)n + 1);
		memcpy(copy, k, (size_t)n);
		*s = (kslot){h, copy, n, offset};
		m->count++;
	} else if (offset > s->offset) {
		s->offset = offset;
	}
}

static int64_t km_get(keymap *m, const uint8_t *k, int32_t n)
{
	if (m->cap == 0)
		return -1;
	kslot *s = km_find(m, k, n, key_hash(k, n));
	return s->key ? s->offset : -1;
}

/* Calls fn for each whole batch of s (read into buf). Stops on a non-OK return. */
typedef int (*batch_fn)(const uint8_t *b, size_t len, void *arg);

static int for_each_batch(const seg *s, brook_buf *buf, batch_fn fn, void *arg)
{
	int64_t pos = 0;
	while ((uint64_t)pos < s->size) {
		if (read_batch(s, pos, buf) != BROOK_OK)
			return BROOK_ERR;
		pos += (int64_t)buf->len;
		if (fn((const uint8_t *)buf->data, buf->len, arg) != BROOK_OK)
			return BROOK_ERR;
	}
	return BROOK_OK;
}

static int map_batch(const uint8_t *b, size_t len, void *arg)
{
	keymap *m = arg;
	kafka_record_iter it;
	kafka_record r;
	if (kafka_record_iter_init(&it, b, len, 0, false) == 0) {
		while (kafka_record_iter_next(&it, &r) == 1) {
			if (r.key)
				km_put(m, r.key, r.key_len, r.offset);
		}
	}
	kafka_record_iter_release(&it);
	return BROOK_OK;
}

typedef struct clean_ctx {
	broker_log *l;
	keymap *map;
	seg *out;       /* the segment being written (fd on the .cleaned file) */
	bool drop_tombstones;
	int64_t kept;
	int64_t removed;
} clean_ctx;

static bool keep_record(clean_ctx *c, const kafka_record *r)
{
	if (!r->key)
		return true;
	if (km_get(c->map, r->key, r->key_len) != r->offset)
		return false;
	return !(r->value_len < 0 && c->drop_tombstones);
}

static int clean_write(clean_ctx *c, const uint8_t *b, size_t len)
{
	kafka_batch_hdr h;
	kafka_batch_parse_hdr(b, len, &h);
	if (brook_pwrite_all(c->out->fd, b, len, (int64_t)c->out->size) != BROOK_OK)
		return BROOK_ERR;
	seg_note_batch(c->out, &h, c->out->size, len, c->l->cfg.index_interval_bytes, false);
	c->out->size += len;
	return BROOK_OK;
}

static int clean_batch(const uint8_t *b, size_t len, void *arg)
{
	clean_ctx *c = arg;
	kafka_record_iter it;
	kafka_record r;
	int32_t total = 0, keep = 0;
	if (kafka_record_iter_init(&it, b, len, 0, false) != 0 ||
	    (it.hdr.attributes & KAFKA_BATCH_ATTR_CONTROL)) {
		kafka_record_iter_release(&it);
		return clean_write(c, b, len); /* not ours to judge: keep verbatim */
	}
	int k;
	while ((k = kafka_record_iter_next(&it, &r)) == 1) {
		total++;
		keep += keep_record(c, &r);
	}
	kafka_record_iter_release(&it);
	c->kept += keep;
	c->removed += total - keep;
	if (k < 0 || (keep == total && total > 0))
		return clean_write(c, b, len);
	if (keep == 0)
		return BROOK_OK;
	kafka_batch_hdr h = it.hdr;
	kafka_record_iter_init(&it, b, len, 0, false);
	kafka_batch_builder bb;
	bool first = true;
	while (kafka_record_iter_next(&it, &r) == 1) {
		if (!keep_record(c, &r))
			continue;
		if (first) {
			kafka_batch_builder_init(&bb, h.base_offset, r.timestamp);
			kafka_batch_builder_set_producer(&bb, h.producer_id, h.producer_epoch,
							 h.base_sequence);
			bb.attributes =
				(int16_t)(h.attributes & ~KAFKA_BATCH_ATTR_COMPRESSION_MASK);
			bb.leader_epoch = h.partition_leader_epoch;
			bb.force_last_delta = h.last_offset_delta;
			first = false;
		}
		kafka_batch_builder_add_record(&bb, &r);
	}
	kafka_record_iter_release(&it);
	size_t nlen;
	uint8_t *nb = kafka_batch_builder_finish(&bb, 0, &nlen);
	int rc = clean_write(c, nb, nlen);
	free(nb);
	return rc;
}

/* Rewrites segs[i] keeping only the latest record per key; see the design block. */
static int compact_segment(broker_log *l, int i, keymap *map, int64_t now_ms)
{
	seg *old = l->segs[i];
	char lp[4200], cp[4300];
	seg_path(l, old->base, ".log", lp, sizeof(lp));
	snprintf(cp, sizeof(cp), "%s.cleaned", lp);
	seg *n = seg_new(old->base);
	n->fd = open(cp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (n->fd < 0) {
		seg_unref(n);
		return BROOK_ERR;
	}
	clean_ctx c = {l, map, n, l->cfg.delete_retention_ms >= 0 &&
					  seg_time(old) < now_ms - l->cfg.delete_retention_ms,
		       0, 0};
	brook_buf buf = BROOK_BUF_INIT;
	int rc = for_each_batch(old, &buf, clean_batch, &c);
	brook_buf_release(&buf);
	if (rc == BROOK_OK && c.removed == 0) {
		unlink(cp);
		seg_unref(n);
		return BROOK_OK;
	}
	if (rc != BROOK_OK || fdatasync(n->fd) != 0 || rename(cp, lp) != 0) {
		unlink(cp);
		seg_unref(n);
		return BROOK_ERR;
	}
	char ip[4200];
	seg_path(l, old->base, ".index", ip, sizeof(ip));
	n->idx_fd = open(ip, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	seg_path(l, old->base, ".timeindex", ip, sizeof(ip));
	n->tidx_fd = open(ip, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (n->idx_fd < 0 || n->tidx_fd < 0 || seg_rewrite_idx(n) != BROOK_OK)
		brook_warn(COMP, "cannot rewrite the index of compacted segment %s; it will be "
				 "rebuilt at the next start", lp);
	sync_segment(n);
	fsync(l->dirfd);
	n->next_offset = old->next_offset;
	n->max_ts = old->max_ts;
	n->first_append_ms = old->first_append_ms;
	n->last_append_ms = old->last_append_ms;
	brook_info(COMP, "compacted %s: kept %" PRId64 " records, removed %" PRId64 " (%" PRIu64
			 " -> %" PRIu64 " bytes)",
		   lp, c.kept, c.removed, old->size, n->size);
	l->segs[i] = n;
	seg_unref(old);
	return BROOK_OK;
}

static void compact(broker_log *l, int64_t now_ms)
{
	keymap map = {0};
	brook_buf buf = BROOK_BUF_INIT;
	for (int i = 0; i < l->nsegs; i++)
		for_each_batch(l->segs[i], &buf, map_batch, &map);
	brook_buf_release(&buf);
	for (int i = 0; i < l->nsegs - 1; i++) {
		seg *s = l->segs[i];
		if (seg_time(s) > now_ms - l->cfg.min_compaction_lag_ms)
			break;
		if (compact_segment(l, i, &map, now_ms) != BROOK_OK)
			brook_warn(COMP, "cannot compact segment %020" PRId64 " of %s: %s; will "
					 "retry later",
				   s->base, l->dir, strerror(errno));
	}
	free(map.slots);
	brook_arena_release(&map.arena);
}

void broker_log_maintain(broker_log *l, int64_t now_ms)
{
	seg *a = active(l);
	bool expired = !l->cfg.compact && l->cfg.retention_ms >= 0 && a->size > 0 &&
		       seg_time(a) < now_ms - l->cfg.retention_ms;
	bool old = l->cfg.segment_ms >= 0 && now_ms - a->first_append_ms >= l->cfg.segment_ms;
	if (a->size > 0 && (old || expired)) {
		if (roll(l) != BROOK_OK)
			return;
	}
	if (!l->cfg.compact) {
		while (l->cfg.retention_ms >= 0 && l->nsegs > 1 &&
		       seg_time(l->segs[0]) < now_ms - l->cfg.retention_ms)
			drop_first_segment(l, "older than retention.ms");
		while (l->cfg.retention_bytes >= 0 && l->nsegs > 1 &&
		       broker_log_size_bytes(l) - (int64_t)l->segs[0]->size >=
			       l->cfg.retention_bytes)
			drop_first_segment(l, "log larger than retention.bytes");
	} else if (l->compact_dirty) {
		compact(l, now_ms);
		l->compact_dirty = false;
	}
}

/* ---- group commit ---- */

bool broker_log_flush_begin(broker_log *l, broker_flush_job *job)
{
	job->nfds = 0;
	job->upto = l->leo;
	if (l->durable >= l->leo)
		return false;
	int fd = dup(active(l)->fd);
	if (fd < 0)
		return false;
	job->fds[job->nfds++] = fd;
	return true;
}

int broker_flush_job_run(broker_flush_job *job)
{
	int rc = 0;
	for (int i = 0; i < job->nfds; i++) {
		if (fdatasync(job->fds[i]) != 0)
			rc = -1;
		close(job->fds[i]);
	}
	job->nfds = 0;
	return rc;
}

void broker_log_flush_end(broker_log *l, const broker_flush_job *job, int rc)
{
	if (rc != 0) {
		brook_error(COMP, "cannot sync %s: acknowledgements waiting for it stay pending; "
				  "check the disk", l->dir);
		return;
	}
	if (job->upto > l->durable)
		l->durable = job->upto;
}

int broker_log_flush_sync(broker_log *l)
{
	broker_flush_job job;
	if (!broker_log_flush_begin(l, &job))
		return 0;
	int rc = broker_flush_job_run(&job);
	broker_log_flush_end(l, &job, rc);
	return rc;
}

int broker_log_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? BROOK_OK : BROOK_ERR;
	int dfd = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
	return rmdir(dir) == 0 ? BROOK_OK : BROOK_ERR;
}
