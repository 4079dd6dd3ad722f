/*
 * sstable.c — writer and validating reader of the sorted file format in sstable.h.
 *
 * WRITER: partitions go to a 1 MiB write buffer as they come; their index entries
 * collect in `blk` until the group has `interval` of them, when the index block (entries
 * + CRC) follows the group's data into the buffer and the group's summary entry (first
 * token, data length, index block length) is appended to `summary`. So the writer's
 * memory is the buffer, one index block, the summary and the bloom filter — nothing per
 * partition beyond the filter's ten bits and the summary's ~0.1 byte.
 *
 * READER: open loads the summary into grps[] and the bloom filter after the checks listed
 * in sstable.h. Index blocks are parsed by blk_cursor, one entry at a time, every field
 * bounds-checked; offsets are accumulated from the lengths. A lookup parses its block up
 * to the key; an iterator parses a whole block into ents[] and checks the block's end
 * too. Nothing in the file is trusted before a checksum or a range check confirmed it.
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

#define MAGIC        "BRKSST02"
#define FMAGIC       "BRKSSTF2"
#define HDR_LEN      8
#define FOOTER_LEN   72
#define SUM_HDR_LEN  16
#define WBUF         (1u << 20)
#define MAX_INTERVAL 4096u
#define F_CONT       1u /* summary flag: the group before ends with this group's token */
/* Smallest and largest index entry: token, pklen, pk, length, CRC. */
#define ENT_MIN (8u + 1u + 1u + 4u)
#define ENT_MAX (8u + 3u + STORE_MAX_KEY + BROOK_VARINT_MAX + 4u)
/* Iterators read a group (data + index block) in one pread up to this size. */
#define ITER_CHUNK (256u << 10)
/* Lookups read index blocks and partitions up to this size into stack buffers. */
#define STACK_BLOCK (16u << 10)
#define STACK_PART  (4u << 10)

/* One group, as the summary describes it. Its data is [grp_data_off(), off). */
typedef struct grp_ref {
	int64_t token; /* its first partition's */
	uint64_t off;  /* its index block: [off, off + len), CRC last */
	uint32_t len;
	uint16_t n;   /* partitions */
	uint8_t cont; /* the group before ends with this token (F_CONT) */
} grp_ref;

/* One index entry, parsed. */
typedef struct idx_ent {
	int64_t token;
	const uint8_t *pk; /* into the block's bytes */
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
	uint64_t off;      /* file offset of the next byte appended to data */
	brook_buf data;    /* unwritten bytes */
	brook_buf blk;     /* the current group's index entries */
	uint32_t nblk;     /* partitions in it */
	int64_t grp_token; /* its first partition's */
	uint64_t grp_off;  /* where its data starts */
	uint8_t grp_flags;
	brook_buf summary; /* summary entries of the finished groups */
	uint32_t ngroups;
	brook_buf part; /* scratch */
	store_bloom bloom;
	uint64_t count;
	int64_t max_ts;
	int64_t last_token;
	brook_buf last_pk;
	int failed; /* errno of the first failed write */
};

struct store_sstable {
	int fd;
	char *name;
	uint64_t gen;
	uint64_t size;
	uint64_t count;
	uint32_t interval;
	uint32_t ngroups;
	grp_ref *grps;
	uint64_t sum_off; /* where the groups end */
	store_bloom bloom;
	uint64_t *ancestors;
	uint32_t nancestors;
};

struct store_sstable_iter {
	const store_sstable *s;
	uint32_t g;         /* current group; ngroups: past the end */
	uint32_t i, n;      /* current entry, entries in the group */
	idx_ent *ents;      /* interval entries */
	brook_buf buf;      /* a window of whole groups, or one index block alone */
	uint64_t buf_off;   /* file offset of buf's first byte */
	int window;         /* buf is a window of whole groups (else an index block) */
	uint64_t ra;        /* the last window's size: read-ahead doubles it */
	int64_t last_token; /* the last key of the group before (ordering check) */
	brook_buf last_pk;
	brook_buf part; /* a partition read on its own (group larger than a window) */
};

static void put_uv(brook_buf *b, uint64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_u64(tmp, v));
}

/* A uvarint at *q (< end), with the one-byte case inline; BROOK_ERR if malformed. */
static inline int get_uv(const uint8_t **q, const uint8_t *end, uint64_t *v)
{
	if (*q < end && **q < 0x80) {
		*v = *(*q)++;
		return BROOK_OK;
	}
	int k = brook_varint_get_u64(*q, (size_t)(end - *q), v);
	if (k <= 0)
		return BROOK_ERR;
	*q += k;
	return BROOK_OK;
}

/* (token, pk) order, as store_pk_cmp, inline for the index walks. */
static inline int key_cmp(int64_t ta, const uint8_t *a, size_t alen, int64_t tb, const uint8_t *b,
                          size_t blen)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return brook_bytes_cmp(a, alen, b, blen);
}

/* ---- writer ---- */

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

/* Ends the current group: its index block after its data, its summary entry. */
static void end_group(store_sstable_writer *w)
{
	if (!w->nblk)
		return;
	brook_buf_put_be32(&w->blk, brook_crc32c(0, w->blk.data, w->blk.len));
	brook_buf_put_be64(&w->summary, (uint64_t)w->grp_token);
	brook_buf_putc(&w->summary, (char)w->grp_flags);
	put_uv(&w->summary, w->off - w->grp_off);
	put_uv(&w->summary, w->blk.len);
	brook_buf_append(&w->data, w->blk.data, w->blk.len);
	w->off += w->blk.len;
	w->ngroups++;
	w->nblk = 0;
	brook_buf_reset(&w->blk);
}

/* Adds p, whose encoding is bytes[0..len) with that CRC-32C. */
static int writer_add(store_sstable_writer *w, const store_part *p, const void *bytes,
                      size_t len, uint32_t crc)
{
	if (w->count && store_pk_cmp(w->last_token, (const uint8_t *)w->last_pk.data,
	                             w->last_pk.len, p->token, p->pk, p->pklen) >= 0)
		return BROOK_ERR; /* caller bug: out of order */
	if (w->nblk == 0) {
		w->grp_token = p->token;
		w->grp_off = w->off;
		w->grp_flags = w->count && p->token == w->last_token ? F_CONT : 0;
	}
	brook_buf_put_be64(&w->blk, (uint64_t)p->token);
	put_uv(&w->blk, p->pklen);
	if (p->pklen)
		brook_buf_append(&w->blk, p->pk, p->pklen);
	put_uv(&w->blk, len);
	brook_buf_put_be32(&w->blk, crc);
	brook_buf_append(&w->data, bytes, len);
	w->off += len;
	if (++w->nblk == STORE_SSTABLE_INTERVAL)
		end_group(w);
	if (w->data.len >= WBUF)
		w_flush(w);
	store_bloom_add(&w->bloom, p->pk, p->pklen);
	max_ts_of(w, p);
	w->last_token = p->token;
	brook_buf_reset(&w->last_pk);
	if (p->pklen)
		brook_buf_append(&w->last_pk, p->pk, p->pklen);
	w->count++;
	if (w->failed) {
		errno = w->failed;
		return BROOK_ERR;
	}
	return BROOK_OK;
}

int store_sstable_writer_add(store_sstable_writer *w, const store_part *p)
{
	brook_buf_reset(&w->part);
	store_part_encode(p, &w->part);
	return writer_add(w, p, w->part.data, w->part.len,
	                  brook_crc32c(0, w->part.data, w->part.len));
}

int store_sstable_writer_add_encoded(store_sstable_writer *w, const store_part *p,
                                     const store_encoded *enc)
{
	return writer_add(w, p, enc->bytes, enc->len, enc->crc);
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
	brook_buf_release(&w->blk);
	brook_buf_release(&w->summary);
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
	end_group(w);
	/* The tail goes through the write buffer too: summary, bloom, meta, footer. */
	brook_buf *t = &w->data;
	uint64_t sum_off = w->off;
	size_t before = t->len;
	brook_buf_put_be32(t, STORE_SSTABLE_INTERVAL);
	brook_buf_put_be64(t, w->count);
	brook_buf_put_be32(t, w->ngroups);
	if (w->summary.len)
		brook_buf_append(t, w->summary.data, w->summary.len);
	brook_buf_release(&w->summary);
	uint64_t sum_len = t->len - before;
	uint32_t sum_crc = brook_crc32c(0, t->data + before, sum_len);
	uint64_t bloom_off = sum_off + sum_len;
	before = t->len;
	store_bloom_encode(&w->bloom, t);
	uint64_t bloom_len = t->len - before;
	uint32_t bloom_crc = brook_crc32c(0, t->data + before, bloom_len);
	uint64_t meta_off = bloom_off + bloom_len;
	before = t->len;
	brook_buf_put_be64(t, w->gen);
	brook_buf_put_be64(t, (uint64_t)w->max_ts);
	brook_buf_put_be32(t, nancestors);
	for (uint32_t i = 0; i < nancestors; i++)
		brook_buf_put_be64(t, ancestors[i]);
	uint64_t meta_len = t->len - before;
	uint32_t meta_crc = brook_crc32c(0, t->data + before, meta_len);
	uint8_t f[FOOTER_LEN];
	memcpy(f, FMAGIC, 8);
	brook_be_put(f + 8, sum_off, 8);
	brook_be_put(f + 16, sum_len, 8);
	brook_be_put(f + 24, bloom_off, 8);
	brook_be_put(f + 32, bloom_len, 8);
	brook_be_put(f + 40, meta_off, 8);
	brook_be_put(f + 48, meta_len, 8);
	brook_be_put(f + 56, sum_crc, 4);
	brook_be_put(f + 60, bloom_crc, 4);
	brook_be_put(f + 64, meta_crc, 4);
	brook_be_put(f + 68, brook_crc32c(0, f, 68), 4);
	brook_buf_append(t, f, FOOTER_LEN);
	w_flush(w);
	/* Durability: the file's bytes reach the disk before its name does. */
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

/* ---- reader: open ---- */

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

/* Where group g's data starts. */
static uint64_t grp_data_off(const store_sstable *s, uint32_t g)
{
	return g ? s->grps[g - 1].off + s->grps[g - 1].len : HDR_LEN;
}

/* Parses and checks the summary (its CRC already confirmed); fills grps[]. */
static int parse_summary(store_sstable *s, const uint8_t *p, uint64_t n)
{
	if (n < SUM_HDR_LEN)
		return BROOK_ERR;
	s->interval = (uint32_t)brook_be_get(p, 4);
	s->count = brook_be_get(p + 4, 8);
	s->ngroups = (uint32_t)brook_be_get(p + 12, 4);
	if (s->interval == 0 || s->interval > MAX_INTERVAL ||
	    s->count > (uint64_t)s->ngroups * s->interval ||
	    (s->ngroups && s->count <= (uint64_t)(s->ngroups - 1) * s->interval))
		return BROOK_ERR;
	const uint8_t *q = p + SUM_HDR_LEN, *end = p + n;
	/* Each summary entry takes at least 8 + 1 + 1 + 1 bytes. */
	if (s->ngroups > (uint64_t)(end - q) / 11)
		return BROOK_ERR;
	s->grps = brook_calloc(s->ngroups ? s->ngroups : 1, sizeof(grp_ref));
	uint64_t at = HDR_LEN, limit = s->sum_off;
	for (uint32_t g = 0; g < s->ngroups; g++) {
		grp_ref *r = &s->grps[g];
		uint64_t dlen, blen;
		if (end - q < 9)
			return BROOK_ERR;
		r->token = (int64_t)brook_be_get(q, 8);
		uint8_t flags = q[8];
		q += 9;
		if (get_uv(&q, end, &dlen) != 0 || get_uv(&q, end, &blen) != 0)
			return BROOK_ERR;
		if ((flags & ~F_CONT) || (g == 0 && flags))
			return BROOK_ERR;
		r->cont = flags & F_CONT;
		r->n = (uint16_t)(g + 1 < s->ngroups
		                      ? s->interval
		                      : s->count - (uint64_t)(s->ngroups - 1) * s->interval);
		/* At least a byte of data per partition, then a plausible index block. */
		if (dlen < r->n || dlen > limit - at || blen < (uint64_t)r->n * ENT_MIN + 4 ||
		    blen > (uint64_t)r->n * ENT_MAX + 4 || blen > limit - at - dlen)
			return BROOK_ERR;
		if (g && r->token < s->grps[g - 1].token)
			return BROOK_ERR;
		r->off = at + dlen;
		r->len = (uint32_t)blen;
		at = r->off + blen;
	}
	if (q != end || at != limit)
		return BROOK_ERR;
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
	uint64_t so = brook_be_get(f + 8, 8), sl = brook_be_get(f + 16, 8),
	         bo = brook_be_get(f + 24, 8), bl = brook_be_get(f + 32, 8),
	         mo = brook_be_get(f + 40, 8), ml = brook_be_get(f + 48, 8);
	uint64_t tail_end = s->size - FOOTER_LEN;
	if (so < HDR_LEN || so > tail_end || sl > tail_end - so || bo != so + sl ||
	    bl > tail_end - bo || mo != bo + bl || ml != tail_end - mo)
		return fail(s, err, errlen, "region offsets");
	s->sum_off = so;
	uint8_t *sum = NULL, *meta = NULL, *bloom = NULL;
	if (read_region(s, so, sl, &sum) != 0 || read_region(s, bo, bl, &bloom) != 0) {
		free(sum);
		return fail(s, err, errlen, "unreadable");
	}
	int bad = brook_crc32c(0, sum, sl) != (uint32_t)brook_be_get(f + 56, 4) ||
	          brook_crc32c(0, bloom, bl) != (uint32_t)brook_be_get(f + 60, 4);
	if (!bad)
		bad = store_bloom_decode(&s->bloom, bloom, bl) != 0;
	free(bloom);
	if (bad) {
		free(sum);
		return fail(s, err, errlen, "summary or bloom filter checksum");
	}
	bad = parse_summary(s, sum, sl) != 0;
	free(sum);
	if (bad)
		return fail(s, err, errlen, "summary entries");
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
	/* No access time updates (the kernel checks them on every pread); only the file's
	 * owner may ask for that. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
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
	free(s->grps);
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

size_t store_sstable_memory(const store_sstable *s)
{
	return sizeof(*s) + strlen(s->name) + 1 + (size_t)s->ngroups * sizeof(grp_ref) +
	       (size_t)s->bloom.nwords * 8 + (size_t)s->nancestors * 8;
}

const uint64_t *store_sstable_ancestors(const store_sstable *s, uint32_t *n)
{
	*n = s->nancestors;
	return s->ancestors;
}

/* ---- reader: index blocks ---- */

static int corrupt(const store_sstable *s, char *err, size_t errlen, const char *what, uint64_t off)
{
	snprintf(err, errlen, "sstable %s is corrupt (%s at byte %" PRIu64 ")", s->name, what, off);
	return BROOK_ERR;
}

/* Reads n bytes at off into buf, or into a fresh allocation (*heap) when n > cap. */
static const uint8_t *read_at(const store_sstable *s, uint64_t off, uint64_t n, uint8_t *buf,
                              size_t cap, uint8_t **heap, char *err, size_t errlen)
{
	*heap = NULL;
	if (n > cap)
		buf = *heap = brook_malloc(n);
	if (brook_pread_all(s->fd, buf, n, (int64_t)off) != 0) {
		snprintf(err, errlen, "cannot read sstable %s: %s", s->name, strerror(errno));
		free(*heap);
		*heap = NULL;
		return NULL;
	}
	return buf;
}

/* Walks the entries of one index block. */
typedef struct blk_cursor {
	const store_sstable *s;
	const grp_ref *r;
	const uint8_t *p, *end; /* entries left (the CRC excluded) */
	uint64_t off;           /* data offset of the next entry */
	uint32_t done;          /* entries parsed */
	idx_ent prev;
} blk_cursor;

/* Checks the CRC of group g's index block, held in bytes[0, len); starts a cursor on it. */
static int blk_open(blk_cursor *c, const store_sstable *s, uint32_t g, const uint8_t *bytes,
                    char *err, size_t errlen)
{
	const grp_ref *r = &s->grps[g];
	size_t n = (size_t)r->len - 4;
	if (brook_crc32c(0, bytes, n) != (uint32_t)brook_be_get(bytes + n, 4))
		return corrupt(s, err, errlen, "index block fails its checksum", r->off);
	c->s = s;
	c->r = r;
	c->p = bytes;
	c->end = bytes + n;
	c->off = grp_data_off(s, g);
	c->done = 0;
	return BROOK_OK;
}

/* The next entry of the block into *e; BROOK_ERR if it is out of bounds or order. */
static int blk_next(blk_cursor *c, idx_ent *e, char *err, size_t errlen)
{
	const grp_ref *r = c->r;
	const uint8_t *q = c->p, *end = c->end;
	uint64_t v;
	if (c->done == r->n || end - q < 8)
		goto bad;
	e->token = (int64_t)brook_be_get(q, 8);
	q += 8;
	if (get_uv(&q, end, &v) != 0 || v > STORE_MAX_KEY || v > (uint64_t)(end - q))
		goto bad;
	e->pklen = (uint32_t)v;
	e->pk = q;
	q += v;
	if (get_uv(&q, end, &e->len) != 0 || end - q < 4)
		goto bad;
	e->crc = (uint32_t)brook_be_get(q, 4);
	q += 4;
	e->off = c->off;
	if (e->len == 0 || e->len > r->off - c->off)
		goto bad;
	if (c->done == 0
	        ? e->token != r->token
	        : key_cmp(c->prev.token, c->prev.pk, c->prev.pklen, e->token, e->pk, e->pklen) >= 0)
		goto bad;
	c->off += e->len;
	c->p = q;
	c->done++;
	c->prev = *e;
	return BROOK_OK;
bad:
	return corrupt(c->s, err, errlen, "index block entries", r->off);
}

/* After the last entry: the block ends, its data is covered, the next group starts above
 * (with the same token exactly when it says it continues this one's). */
static int blk_end(blk_cursor *c, char *err, size_t errlen)
{
	const store_sstable *s = c->s;
	const grp_ref *r = c->r;
	uint32_t g = (uint32_t)(r - s->grps);
	if (c->done != r->n || c->p != c->end || c->off != r->off ||
	    (g + 1 < s->ngroups &&
	     (r[1].cont ? c->prev.token != r[1].token : c->prev.token >= r[1].token)))
		return corrupt(s, err, errlen, "index block entries", r->off);
	return BROOK_OK;
}

/* Checks a partition's bytes against its entry and decodes them. owned: the bytes live as
 * long as out must (else they are copied into a). */
static int part_decode(const store_sstable *s, const idx_ent *e, const uint8_t *bytes,
                       bool owned, brook_arena *a, store_part *out, char *err, size_t errlen)
{
	char derr[128];
	if (brook_crc32c(0, bytes, e->len) != e->crc)
		return corrupt(s, err, errlen, "partition fails its checksum", e->off);
	if ((owned ? store_part_decode_owned : store_part_decode)(a, bytes, e->len, out, derr,
	                                                         sizeof(derr)) != 0) {
		snprintf(err, errlen, "sstable %s is corrupt (partition at byte %" PRIu64 ": %s)",
		         s->name, e->off, derr);
		return BROOK_ERR;
	}
	if (out->token != e->token || out->pklen != e->pklen ||
	    (e->pklen && memcmp(out->pk, e->pk, e->pklen) != 0))
		return corrupt(s, err, errlen, "partition does not match its index entry", e->off);
	return BROOK_OK;
}

/*
 * The group where a search for token starts: the first whose first token is >= token
 * if that is token and the group before does not end with it; else the one before
 * (every partition before that one has a smaller token), or the first.
 */
static uint32_t start_group(const store_sstable *s, int64_t token)
{
	uint32_t lo = 0, hi = s->ngroups;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->grps[mid].token < token)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->ngroups && s->grps[lo].token == token && !s->grps[lo].cont)
		return lo;
	return lo ? lo - 1 : 0;
}

int store_sstable_get(const store_sstable *s, int64_t token, const uint8_t *pk, size_t pklen,
                      brook_arena *a, store_part *out, char *err, size_t errlen)
{
	if (s->ngroups == 0 || !store_bloom_maybe(&s->bloom, pk, pklen))
		return 0;
	uint8_t stack_blk[STACK_BLOCK], stack_part[STACK_PART], *heap = NULL;
	idx_ent e;
	int found = 0, rc = BROOK_OK;
	/* Usually one group; the next ones too while they start with the token. */
	for (uint32_t g = start_group(s, token); g < s->ngroups && s->grps[g].token <= token; g++) {
		const grp_ref *r = &s->grps[g];
		const uint8_t *bytes =
		    read_at(s, r->off, r->len, stack_blk, sizeof(stack_blk), &heap, err, errlen);
		if (!bytes)
			return BROOK_ERR;
		blk_cursor c;
		int cmp = -1;
		rc = blk_open(&c, s, g, bytes, err, errlen);
		while (rc == BROOK_OK && c.done < r->n && cmp < 0) {
			rc = blk_next(&c, &e, err, errlen);
			if (rc == BROOK_OK)
				cmp = key_cmp(e.token, e.pk, e.pklen, token, pk, pklen);
		}
		if (rc == BROOK_OK && cmp == 0) {
			uint8_t *heap_part;
			const uint8_t *pb = read_at(s, e.off, e.len, stack_part, sizeof(stack_part),
			                            &heap_part, err, errlen);
			rc = pb ? part_decode(s, &e, pb, false, a, out, err, errlen) : BROOK_ERR;
			free(heap_part);
			found = rc == BROOK_OK;
		}
		free(heap);
		heap = NULL;
		if (rc != BROOK_OK)
			return BROOK_ERR;
		if (cmp >= 0)
			break;
	}
	return found;
}

/* ---- iterators ---- */

store_sstable_iter *store_sstable_iter_new(const store_sstable *s)
{
	store_sstable_iter *it = brook_calloc(1, sizeof(*it));
	it->s = s;
	it->g = s->ngroups;
	it->ents = brook_malloc(sizeof(idx_ent) * s->interval);
	return it;
}

void store_sstable_iter_free(store_sstable_iter *it)
{
	if (!it)
		return;
	brook_buf_release(&it->buf);
	brook_buf_release(&it->last_pk);
	brook_buf_release(&it->part);
	free(it->ents);
	free(it);
}

static void iter_end(store_sstable_iter *it)
{
	it->g = it->s->ngroups;
	it->i = it->n = 0;
}

/* Reads n bytes at off into the iterator's buffer. */
static int iter_read(store_sstable_iter *it, uint64_t off, uint64_t n, char *err, size_t errlen)
{
	brook_buf_reset(&it->buf);
	brook_buf_reserve(&it->buf, n);
	it->buf_off = off;
	if (brook_pread_all(it->s->fd, it->buf.data, n, (int64_t)off) != 0) {
		snprintf(err, errlen, "cannot read sstable %s: %s", it->s->name, strerror(errno));
		return BROOK_ERR;
	}
	it->buf.len = n;
	return BROOK_OK;
}

/*
 * Makes group g current, checked whole. Its bytes come from the window when it holds
 * them; else a new window is read from the group's data on: the group alone after a
 * seek, then twice the last window while walking on (`follows`), up to ITER_CHUNK. A
 * group larger than that is read as its index block alone. A group that follows the
 * current one must start above its last key.
 */
static int iter_load(store_sstable_iter *it, uint32_t g, int follows, char *err, size_t errlen)
{
	const store_sstable *s = it->s;
	const grp_ref *r = &s->grps[g];
	uint64_t data = grp_data_off(s, g), end = r->off + r->len, span = end - data;
	int rc = BROOK_OK, after = follows && it->n;
	if (after) {
		const idx_ent *l = &it->ents[it->n - 1];
		it->last_token = l->token;
		brook_buf_reset(&it->last_pk);
		brook_buf_append(&it->last_pk, l->pk, l->pklen);
	}
	if (span > ITER_CHUNK) {
		it->window = 0;
		rc = iter_read(it, r->off, r->len, err, errlen);
	} else if (!it->window || data < it->buf_off || end > it->buf_off + it->buf.len) {
		uint64_t want = follows ? it->ra * 2 : span;
		if (want > ITER_CHUNK)
			want = ITER_CHUNK;
		if (want > s->sum_off - data)
			want = s->sum_off - data;
		if (want < span)
			want = span;
		it->window = 1;
		it->ra = want;
		rc = iter_read(it, data, want, err, errlen);
	}
	blk_cursor c;
	if (rc == BROOK_OK)
		rc = blk_open(&c, s, g, (const uint8_t *)it->buf.data + (r->off - it->buf_off), err,
		              errlen);
	for (uint32_t i = 0; rc == BROOK_OK && i < r->n; i++)
		rc = blk_next(&c, &it->ents[i], err, errlen);
	if (rc == BROOK_OK)
		rc = blk_end(&c, err, errlen);
	if (rc == BROOK_OK && after &&
	    key_cmp(it->last_token, (const uint8_t *)it->last_pk.data, it->last_pk.len,
	            it->ents[0].token, it->ents[0].pk, it->ents[0].pklen) >= 0)
		rc = corrupt(s, err, errlen, "index block entries", r->off);
	if (rc != BROOK_OK) {
		it->window = 0;
		iter_end(it);
		return BROOK_ERR;
	}
	it->g = g;
	it->i = 0;
	it->n = r->n;
	return BROOK_OK;
}

int store_sstable_iter_seek(store_sstable_iter *it, int64_t token, const uint8_t *pk, size_t pklen,
                            int strict, char *err, size_t errlen)
{
	const store_sstable *s = it->s;
	iter_end(it);
	if (s->ngroups == 0)
		return BROOK_OK;
	if (iter_load(it, start_group(s, token), 0, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	/* Skip what is before the position; on into the next groups while they start with
	 * the token (the first group starting above it starts at the position). */
	for (;;) {
		while (it->i < it->n) {
			const idx_ent *e = &it->ents[it->i];
			int c = pk ? key_cmp(e->token, e->pk, e->pklen, token, pk, pklen)
			           : (e->token > token) - (e->token < token);
			if (!(c < 0 || (strict && c == 0)))
				return BROOK_OK;
			it->i++;
		}
		if (it->g + 1 >= s->ngroups) {
			iter_end(it);
			return BROOK_OK;
		}
		if (iter_load(it, it->g + 1, 1, err, errlen) != BROOK_OK)
			return BROOK_ERR;
	}
}

int store_sstable_iter_key(const store_sstable_iter *it, int64_t *token, const uint8_t **pk,
                           uint32_t *pklen)
{
	if (it->i >= it->n)
		return 0;
	const idx_ent *e = &it->ents[it->i];
	*token = e->token;
	*pk = e->pk;
	*pklen = e->pklen;
	return 1;
}

/* The current partition's bytes (in the iterator's buffers). */
static const uint8_t *iter_bytes(store_sstable_iter *it, char *err, size_t errlen)
{
	const idx_ent *e = &it->ents[it->i];
	if (it->window) /* inside the window: the group is, and blk_next kept e inside its data */
		return (const uint8_t *)it->buf.data + (e->off - it->buf_off);
	brook_buf_reset(&it->part);
	brook_buf_reserve(&it->part, e->len);
	if (brook_pread_all(it->s->fd, it->part.data, e->len, (int64_t)e->off) != 0) {
		snprintf(err, errlen, "cannot read sstable %s: %s", it->s->name, strerror(errno));
		return NULL;
	}
	return (const uint8_t *)it->part.data;
}

int store_sstable_iter_read(store_sstable_iter *it, brook_arena *a, store_part *out, char *err,
                            size_t errlen)
{
	const uint8_t *bytes = iter_bytes(it, err, errlen);
	if (!bytes)
		return BROOK_ERR;
	return part_decode(it->s, &it->ents[it->i], bytes, false, a, out, err, errlen);
}

int store_sstable_iter_read_encoded(store_sstable_iter *it, brook_arena *a, store_part *out,
                                    store_encoded *enc, char *err, size_t errlen)
{
	const idx_ent *e = &it->ents[it->i];
	const uint8_t *bytes = iter_bytes(it, err, errlen);
	if (!bytes)
		return BROOK_ERR;
	uint8_t *copy = brook_arena_alloc(a, e->len ? e->len : 1);
	memcpy(copy, bytes, e->len);
	if (part_decode(it->s, e, copy, true, a, out, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	*enc = (store_encoded){copy, e->len, e->crc};
	return BROOK_OK;
}

int store_sstable_iter_next(store_sstable_iter *it, char *err, size_t errlen)
{
	if (it->i >= it->n)
		return BROOK_OK;
	if (++it->i < it->n)
		return BROOK_OK;
	if (it->g + 1 >= it->s->ngroups) {
		iter_end(it);
		return BROOK_OK;
	}
	return iter_load(it, it->g + 1, 1, err, errlen);
}
