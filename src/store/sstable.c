/*
 * sstable.c — writer and validating reader of the sorted file format in sstable.h.
 *
 * The writer streams partitions to the file through a 1 MiB buffer and keeps the
 * index and bloom filter in memory until finish. The reader loads the index into one
 * allocation (ents[] point into its bytes) after checking every bound: it trusts
 * nothing in the file that a checksum or a range check has not confirmed.
 */
#include "store/sstable.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "core/varint.h"
#include "store/bloom.h"

#define MAGIC      "BRKSST01"
#define FMAGIC     "BRKSSTF1"
#define HDR_LEN    8
#define FOOTER_LEN 72
#define WBUF       (1u << 20)

typedef struct idx_ent {
	int64_t token;
	const uint8_t *pk;
	uint32_t pklen;
	uint32_t crc;
	uint64_t off;
	uint64_t len;
} idx_ent;

struct store_sstable_writer {
	char *path;
	char *tmp;
	int fd;
	uint64_t gen;
	uint64_t off;
	brook_buf data;  /* unwritten data bytes */
	brook_buf index; /* encoded index entries */
	brook_buf part;  /* scratch */
	store_bloom bloom;
	uint64_t count;
	int64_t max_ts;
	int64_t last_token;
	brook_buf last_pk;
	int failed;
};

struct store_sstable {
	int fd;
	char *name;
	uint64_t gen;
	uint64_t size;
	uint64_t count;
	idx_ent *ents;
	uint8_t *index_bytes;
	store_bloom bloom;
	uint64_t *ancestors;
	uint32_t nancestors;
};

static void put_uv(brook_buf *b, uint64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_u64(tmp, v));
}

store_sstable_writer *store_sstable_writer_new(const char *path, uint64_t generation,
                                               uint64_t nkeys, char *err, size_t errlen)
{
	store_sstable_writer *w = brook_calloc(1, sizeof(*w));
	w->path = brook_strdup(path);
	size_t n = strlen(path) + 5;
	w->tmp = brook_malloc(n);
	snprintf(w->tmp, n, "%s.tmp", path);
	w->gen = generation;
	w->max_ts = INT64_MIN;
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		snprintf(err, errlen, "cannot create sstable %s: %s", w->tmp, strerror(errno));
		free(w->tmp);
		free(w->path);
		free(w);
		return NULL;
	}
	store_bloom_init(&w->bloom, nkeys ? nkeys : 1);
	brook_buf_append(&w->data, MAGIC, HDR_LEN);
	w->off = HDR_LEN;
	return w;
}

static void w_flush(store_sstable_writer *w)
{
	if (!w->failed && w->data.len && brook_write_all(w->fd, w->data.data, w->data.len) != 0)
		w->failed = errno ? errno : EIO;
	brook_buf_reset(&w->data);
}

static void max_ts_of(store_sstable_writer *w, const store_part *p)
{
	if (p->del.ts > w->max_ts)
		w->max_ts = p->del.ts;
	for (uint32_t i = 0; i < p->nrts; i++)
		if (p->rts[i].del.ts > w->max_ts)
			w->max_ts = p->rts[i].del.ts;
	for (uint32_t i = 0; i < p->nrows; i++) {
		const store_row *r = &p->rows[i];
		if (r->del.ts > w->max_ts)
			w->max_ts = r->del.ts;
		for (uint32_t j = 0; j < r->ncells; j++)
			if (r->cells[j].ts > w->max_ts)
				w->max_ts = r->cells[j].ts;
	}
}

int store_sstable_writer_add(store_sstable_writer *w, const store_part *p)
{
	if (w->count && store_pk_cmp(w->last_token, (const uint8_t *)w->last_pk.data,
	                             w->last_pk.len, p->token, p->pk, p->pklen) >= 0)
		return BROOK_ERR; /* caller bug: out of order */
	brook_buf_reset(&w->part);
	store_part_encode(p, &w->part);
	uint32_t crc = brook_crc32c(0, w->part.data, w->part.len);
	brook_buf_put_be64(&w->index, (uint64_t)p->token);
	put_uv(&w->index, p->pklen);
	if (p->pklen)
		brook_buf_append(&w->index, p->pk, p->pklen);
	put_uv(&w->index, w->off);
	put_uv(&w->index, w->part.len);
	brook_buf_put_be32(&w->index, crc);
	brook_buf_append(&w->data, w->part.data, w->part.len);
	w->off += w->part.len;
	if (w->data.len >= WBUF)
		w_flush(w);
	store_bloom_add(&w->bloom, p->pk, p->pklen);
	max_ts_of(w, p);
	w->last_token = p->token;
	brook_buf_reset(&w->last_pk);
	if (p->pklen)
		brook_buf_append(&w->last_pk, p->pk, p->pklen);
	w->count++;
	return w->failed ? BROOK_ERR : BROOK_OK;
}

uint64_t store_sstable_writer_count(const store_sstable_writer *w)
{
	return w->count;
}

static void writer_free(store_sstable_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	brook_buf_release(&w->data);
	brook_buf_release(&w->index);
	brook_buf_release(&w->part);
	brook_buf_release(&w->last_pk);
	store_bloom_release(&w->bloom);
	free(w->tmp);
	free(w->path);
	free(w);
}

void store_sstable_writer_abort(store_sstable_writer *w)
{
	unlink(w->tmp);
	writer_free(w);
}

void store_sstable_writer_abandon(store_sstable_writer *w)
{
	w_flush(w);
	writer_free(w);
}

int store_sstable_writer_finish(store_sstable_writer *w, const uint64_t *ancestors,
                                uint32_t nancestors, char *err, size_t errlen)
{
	uint64_t index_off = w->off;
	brook_buf tail = BROOK_BUF_INIT;
	brook_buf_put_be32(&tail, (uint32_t)w->count);
	brook_buf_append(&tail, w->index.data, w->index.len);
	uint64_t index_len = tail.len;
	uint32_t index_crc = brook_crc32c(0, tail.data, tail.len);
	uint64_t bloom_off = index_off + index_len;
	size_t before = tail.len;
	store_bloom_encode(&w->bloom, &tail);
	uint64_t bloom_len = tail.len - before;
	uint32_t bloom_crc = brook_crc32c(0, tail.data + before, bloom_len);
	uint64_t meta_off = bloom_off + bloom_len;
	before = tail.len;
	brook_buf_put_be64(&tail, w->gen);
	brook_buf_put_be64(&tail, (uint64_t)w->max_ts);
	brook_buf_put_be32(&tail, nancestors);
	for (uint32_t i = 0; i < nancestors; i++)
		brook_buf_put_be64(&tail, ancestors[i]);
	uint64_t meta_len = tail.len - before;
	uint32_t meta_crc = brook_crc32c(0, tail.data + before, meta_len);
	uint8_t f[FOOTER_LEN];
	memcpy(f, FMAGIC, 8);
	brook_be_put(f + 8, index_off, 8);
	brook_be_put(f + 16, index_len, 8);
	brook_be_put(f + 24, bloom_off, 8);
	brook_be_put(f + 32, bloom_len, 8);
	brook_be_put(f + 40, meta_off, 8);
	brook_be_put(f + 48, meta_len, 8);
	brook_be_put(f + 56, index_crc, 4);
	brook_be_put(f + 60, bloom_crc, 4);
	brook_be_put(f + 64, meta_crc, 4);
	brook_be_put(f + 68, brook_crc32c(0, f, 68), 4);
	brook_buf_append(&tail, f, FOOTER_LEN);
	brook_buf_append(&w->data, tail.data, tail.len);
	brook_buf_release(&tail);
	w_flush(w);
	int e = w->failed;
	if (!e && fdatasync(w->fd) != 0)
		e = errno;
	if (!e && rename(w->tmp, w->path) != 0)
		e = errno;
	if (!e) {
		char *dir = brook_strdup(w->path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (brook_fsync_dir(slash ? dir : ".") != 0)
			e = errno;
		free(dir);
	}
	if (e) {
		snprintf(err, errlen, "cannot write sstable %s: %s", w->path, strerror(e));
		unlink(w->tmp);
		writer_free(w);
		return BROOK_ERR;
	}
	writer_free(w);
	return BROOK_OK;
}

/* ---- reader ---- */

static store_sstable *fail(store_sstable *s, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen,
	         "sstable %s is corrupt (%s); move it away and repair from a "
	         "replica or backup",
	         s->name, what);
	store_sstable_close(s);
	return NULL;
}

static int read_region(const store_sstable *s, uint64_t off, uint64_t len, uint8_t **out)
{
	*out = brook_malloc(len ? len : 1);
	if (len && brook_pread_all(s->fd, *out, len, (int64_t)off) != 0) {
		free(*out);
		*out = NULL;
		return BROOK_ERR;
	}
	return BROOK_OK;
}

static int parse_index(store_sstable *s, const uint8_t *p, uint64_t n, uint64_t data_end)
{
	if (n < 4)
		return BROOK_ERR;
	uint64_t count = (uint32_t)brook_be_get(p, 4);
	const uint8_t *q = p + 4, *end = p + n;
	/* Each entry takes at least 8 + 1 + 1 + 1 + 4 bytes. */
	if (count > (uint64_t)(end - q) / 15)
		return BROOK_ERR;
	s->ents = brook_calloc(count ? count : 1, sizeof(idx_ent));
	for (uint64_t i = 0; i < count; i++) {
		idx_ent *e = &s->ents[i];
		uint64_t v;
		int k;
		if (end - q < 8)
			return BROOK_ERR;
		e->token = (int64_t)brook_be_get(q, 8);
		q += 8;
		if ((k = brook_varint_get_u64(q, (size_t)(end - q), &v)) <= 0 ||
		    v > STORE_MAX_KEY || v > (uint64_t)(end - q - k))
			return BROOK_ERR;
		q += k;
		e->pklen = (uint32_t)v;
		e->pk = q;
		q += v;
		if ((k = brook_varint_get_u64(q, (size_t)(end - q), &e->off)) <= 0)
			return BROOK_ERR;
		q += k;
		if ((k = brook_varint_get_u64(q, (size_t)(end - q), &e->len)) <= 0)
			return BROOK_ERR;
		q += k;
		if (end - q < 4)
			return BROOK_ERR;
		e->crc = (uint32_t)brook_be_get(q, 4);
		q += 4;
		if (e->off < HDR_LEN || e->len == 0 || e->off > data_end ||
		    e->len > data_end - e->off)
			return BROOK_ERR;
		if (i && (store_pk_cmp(s->ents[i - 1].token, s->ents[i - 1].pk,
		                       s->ents[i - 1].pklen, e->token, e->pk, e->pklen) >= 0 ||
		          e->off < s->ents[i - 1].off + s->ents[i - 1].len))
			return BROOK_ERR;
	}
	if (q != end)
		return BROOK_ERR;
	s->count = count;
	return BROOK_OK;
}

store_sstable *store_sstable_open_fd(int fd, const char *name, char *err, size_t errlen)
{
	store_sstable *s = brook_calloc(1, sizeof(*s));
	s->name = brook_strdup(name);
	s->fd = dup(fd);
	struct stat st;
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		snprintf(err, errlen, "cannot open sstable %s: %s", name, strerror(errno));
		store_sstable_close(s);
		return NULL;
	}
	s->size = (uint64_t)st.st_size;
	if (s->size < HDR_LEN + FOOTER_LEN)
		return fail(s, err, errlen, "too short");
	uint8_t h[HDR_LEN], f[FOOTER_LEN];
	if (brook_pread_all(s->fd, h, HDR_LEN, 0) != 0 ||
	    brook_pread_all(s->fd, f, FOOTER_LEN, (int64_t)(s->size - FOOTER_LEN)) != 0)
		return fail(s, err, errlen, "unreadable");
	if (memcmp(h, MAGIC, HDR_LEN) != 0 || memcmp(f, FMAGIC, 8) != 0)
		return fail(s, err, errlen, "bad magic");
	if (brook_crc32c(0, f, 68) != (uint32_t)brook_be_get(f + 68, 4))
		return fail(s, err, errlen, "footer checksum");
	uint64_t io = brook_be_get(f + 8, 8), il = brook_be_get(f + 16, 8),
	         bo = brook_be_get(f + 24, 8), bl = brook_be_get(f + 32, 8),
	         mo = brook_be_get(f + 40, 8), ml = brook_be_get(f + 48, 8);
	uint64_t tail_end = s->size - FOOTER_LEN;
	if (io < HDR_LEN || io > tail_end || il > tail_end - io || bo != io + il ||
	    bl > tail_end - bo || mo != bo + bl || ml != tail_end - mo)
		return fail(s, err, errlen, "region offsets");
	uint8_t *meta = NULL, *bloom = NULL;
	if (read_region(s, io, il, &s->index_bytes) != 0 || read_region(s, bo, bl, &bloom) != 0)
		return free(bloom), fail(s, err, errlen, "unreadable");
	int bad = brook_crc32c(0, s->index_bytes, il) != (uint32_t)brook_be_get(f + 56, 4) ||
	          brook_crc32c(0, bloom, bl) != (uint32_t)brook_be_get(f + 60, 4);
	if (!bad)
		bad = store_bloom_decode(&s->bloom, bloom, bl) != 0;
	free(bloom);
	if (bad)
		return fail(s, err, errlen, "index or bloom filter checksum");
	if (parse_index(s, s->index_bytes, il, io) != 0)
		return fail(s, err, errlen, "index entries");
	if (read_region(s, mo, ml, &meta) != 0)
		return fail(s, err, errlen, "unreadable");
	if (ml < 20 || brook_crc32c(0, meta, ml) != (uint32_t)brook_be_get(f + 64, 4)) {
		free(meta);
		return fail(s, err, errlen, "metadata checksum");
	}
	s->gen = brook_be_get(meta, 8);
	uint32_t na = (uint32_t)brook_be_get(meta + 16, 4);
	if ((uint64_t)na * 8 != ml - 20) {
		free(meta);
		return fail(s, err, errlen, "metadata");
	}
	s->nancestors = na;
	s->ancestors = brook_malloc(na ? (size_t)na * 8 : 1);
	for (uint32_t i = 0; i < na; i++)
		s->ancestors[i] = brook_be_get(meta + 20 + (size_t)i * 8, 8);
	free(meta);
	return s;
}

store_sstable *store_sstable_open(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open sstable %s: %s", path, strerror(errno));
		return NULL;
	}
	store_sstable *s = store_sstable_open_fd(fd, path, err, errlen);
	close(fd);
	return s;
}

void store_sstable_close(store_sstable *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->ents);
	free(s->index_bytes);
	free(s->ancestors);
	store_bloom_release(&s->bloom);
	free(s->name);
	free(s);
}

uint64_t store_sstable_generation(const store_sstable *s)
{
	return s->gen;
}

uint64_t store_sstable_count(const store_sstable *s)
{
	return s->count;
}

uint64_t store_sstable_file_bytes(const store_sstable *s)
{
	return s->size;
}

const uint64_t *store_sstable_ancestors(const store_sstable *s, uint32_t *n)
{
	*n = s->nancestors;
	return s->ancestors;
}

uint64_t store_sstable_seek(const store_sstable *s, int64_t token, const uint8_t *pk, size_t pklen,
                            int strict)
{
	uint64_t lo = 0, hi = s->count;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const idx_ent *e = &s->ents[mid];
		int r;
		if (!pk)
			r = e->token < token ? -1 : 1;
		else
			r = store_pk_cmp(e->token, e->pk, e->pklen, token, pk, pklen);
		if (r < 0 || (strict && r == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int64_t store_sstable_find(const store_sstable *s, int64_t token, const uint8_t *pk, size_t pklen)
{
	if (!store_bloom_maybe(&s->bloom, pk, pklen))
		return -1;
	uint64_t i = store_sstable_seek(s, token, pk, pklen, 0);
	if (i < s->count &&
	    store_pk_cmp(s->ents[i].token, s->ents[i].pk, s->ents[i].pklen, token, pk, pklen) == 0)
		return (int64_t)i;
	return -1;
}

void store_sstable_key(const store_sstable *s, uint64_t i, int64_t *token, const uint8_t **pk,
                       uint32_t *pklen)
{
	*token = s->ents[i].token;
	*pk = s->ents[i].pk;
	*pklen = s->ents[i].pklen;
}

int store_sstable_read(const store_sstable *s, uint64_t i, brook_arena *a, store_part *out,
                       char *err, size_t errlen)
{
	const idx_ent *e = &s->ents[i];
	uint8_t *buf = brook_malloc(e->len);
	int rc = BROOK_ERR;
	char derr[128];
	if (brook_pread_all(s->fd, buf, e->len, (int64_t)e->off) != 0) {
		snprintf(err, errlen, "cannot read sstable %s: %s", s->name, strerror(errno));
	} else if (brook_crc32c(0, buf, e->len) != e->crc) {
		snprintf(err, errlen,
		         "sstable %s is corrupt (partition at byte %" PRIu64 " fails its checksum)",
		         s->name, e->off);
	} else if (store_part_decode(a, buf, e->len, out, derr, sizeof(derr)) != 0) {
		snprintf(err, errlen, "sstable %s is corrupt (partition at byte %" PRIu64 ": %s)",
		         s->name, e->off, derr);
	} else if (out->token != e->token || out->pklen != e->pklen ||
	           (e->pklen && memcmp(out->pk, e->pk, e->pklen) != 0)) {
		snprintf(err, errlen,
		         "sstable %s is corrupt (partition at byte %" PRIu64
		         " does not match its index entry)",
		         s->name, e->off);
	} else {
		rc = BROOK_OK;
	}
	free(buf);
	return rc;
}
