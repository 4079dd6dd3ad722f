/*
 * memtable.c — partitions: reconciliation, visibility, garbage collection, encoding; and
 * the memtable skiplist. The model and the rules are described in memtable.h.
 *
 * ENCODING of a partition (all integers unsigned LEB128 varints unless noted; i64/i32
 * are zigzag varints):
 *   pklen, pk, dflags(1 byte: bit0 partition deletion) [ts i64, ldt i32],
 *   nrts, { bflags(1), slen, start, elen, end, ts i64, ldt i32 } * nrts,
 *   nrows, { rflags(1: bit0 row deletion), cklen, ck, [ts i64, ldt i32],
 *            ncells, { col, cflags(1), ts i64, [ttl i32, ldt i32 if tombstone or
 *                      expiring], vlen, value } * ncells } * nrows
 * Decoding is bounded: counts are checked against the bytes left (each element takes
 * at least 2 bytes) before anything is allocated, and lengths against what is left.
 */
#include "store/memtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/varint.h"
#include "store/murmur3.h"

static const uint8_t empty_bytes[1];

static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int store_ck_cmp(const store_cmp *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (c && c->fn)
		return c->fn(a, alen, b, blen, c->ctx);
	return bytes_cmp(a, alen, b, blen);
}

int store_pk_cmp(int64_t ta, const uint8_t *a, size_t alen, int64_t tb, const uint8_t *b,
                 size_t blen)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return bytes_cmp(a, alen, b, blen);
}

int store_bounds_contain(const store_cmp *c, const store_bounds *b, const uint8_t *ck, size_t cklen)
{
	if (!(b->flags & STORE_B_START_UNBOUNDED)) {
		int r = store_ck_cmp(c, ck, cklen, b->start, b->slen);
		if (r < 0 || (r == 0 && !(b->flags & STORE_B_START_INCL)))
			return 0;
	}
	if (!(b->flags & STORE_B_END_UNBOUNDED)) {
		int r = store_ck_cmp(c, ck, cklen, b->end, b->elen);
		if (r > 0 || (r == 0 && !(b->flags & STORE_B_END_INCL)))
			return 0;
	}
	return 1;
}

static const uint8_t *dupb(brook_arena *a, const uint8_t *p, size_t n)
{
	if (n == 0)
		return empty_bytes;
	uint8_t *d = brook_arena_alloc(a, n);
	memcpy(d, p, n);
	return d;
}

static store_del del_max(store_del a, store_del b)
{
	if (b.ts > a.ts || (b.ts == a.ts && b.ldt > a.ldt))
		return b;
	return a;
}

void store_part_init(brook_arena *a, store_part *dst, const store_part *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->token = src->token;
	dst->pk = dupb(a, src->pk, src->pklen);
	dst->pklen = src->pklen;
	dst->del.ts = STORE_NO_TS;
}

/* 1 if s beats d (see RECONCILIATION in memtable.h). */
static int cell_wins(const store_cell *s, const store_cell *d)
{
	if (s->ts != d->ts)
		return s->ts > d->ts;
	int sdead = s->flags & STORE_CELL_TOMBSTONE, ddead = d->flags & STORE_CELL_TOMBSTONE;
	if (sdead != ddead)
		return sdead != 0;
	if (sdead)
		return s->ldt > d->ldt;
	int c = bytes_cmp(s->value, s->vlen, d->value, d->vlen);
	if (c)
		return c > 0;
	int sexp = s->flags & STORE_CELL_EXPIRING, dexp = d->flags & STORE_CELL_EXPIRING;
	if (sexp != dexp)
		return sexp != 0;
	return s->ldt > d->ldt;
}

static void cell_copy(brook_arena *a, store_cell *d, const store_cell *s)
{
	*d = *s;
	d->value = dupb(a, s->value, s->vlen);
}

static void *grow(brook_arena *a, void *old, size_t elem, uint32_t n, uint32_t *cap, uint32_t need)
{
	if (need <= *cap)
		return old;
	uint32_t nc = *cap ? *cap * 2 : 4;
	while (nc < need)
		nc *= 2;
	void *p = brook_arena_alloc(a, (size_t)nc * elem);
	if (n)
		memcpy(p, old, (size_t)n * elem);
	*cap = nc;
	return p;
}

static void row_merge_cells(brook_arena *a, store_row *d, const store_row *s)
{
	d->del = del_max(d->del, s->del);
	for (uint32_t i = 0; i < s->ncells; i++) {
		const store_cell *sc = &s->cells[i];
		uint32_t lo = 0, hi = d->ncells;
		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;
			if (d->cells[mid].col < sc->col)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < d->ncells && d->cells[lo].col == sc->col) {
			if (cell_wins(sc, &d->cells[lo]))
				cell_copy(a, &d->cells[lo], sc);
			continue;
		}
		d->cells =
		    grow(a, d->cells, sizeof(store_cell), d->ncells, &d->cellcap, d->ncells + 1);
		memmove(&d->cells[lo + 1], &d->cells[lo],
		        (size_t)(d->ncells - lo) * sizeof(store_cell));
		cell_copy(a, &d->cells[lo], sc);
		d->ncells++;
	}
}

static void row_init(brook_arena *a, store_row *d, const store_row *s)
{
	memset(d, 0, sizeof(*d));
	d->ck = dupb(a, s->ck, s->cklen);
	d->cklen = s->cklen;
	d->del.ts = STORE_NO_TS;
}

/* Binary search: index of the first row >= ck; *found set when equal. */
static uint32_t row_find(const store_cmp *c, const store_part *p, const uint8_t *ck, size_t cklen,
                         int *found)
{
	uint32_t lo = 0, hi = p->nrows;
	*found = 0;
	/* Fast path: appending in order. */
	if (p->nrows) {
		int r = store_ck_cmp(c, p->rows[p->nrows - 1].ck, p->rows[p->nrows - 1].cklen, ck,
		                     cklen);
		if (r < 0)
			return p->nrows;
		if (r == 0) {
			*found = 1;
			return p->nrows - 1;
		}
	}
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int r = store_ck_cmp(c, p->rows[mid].ck, p->rows[mid].cklen, ck, cklen);
		if (r < 0) {
			lo = mid + 1;
		} else if (r == 0) {
			*found = 1;
			return mid;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static void merge_one_row(brook_arena *a, const store_cmp *c, store_part *d, const store_row *s)
{
	int found;
	uint32_t at = row_find(c, d, s->ck, s->cklen, &found);
	if (!found) {
		d->rows = grow(a, d->rows, sizeof(store_row), d->nrows, &d->rowcap, d->nrows + 1);
		memmove(&d->rows[at + 1], &d->rows[at],
		        (size_t)(d->nrows - at) * sizeof(store_row));
		row_init(a, &d->rows[at], s);
		d->nrows++;
	}
	row_merge_cells(a, &d->rows[at], s);
}

struct sort_ctx {
	const store_cmp *c;
};

static int row_ptr_cmp(const void *x, const void *y, void *ctx)
{
	const store_row *a = *(const store_row *const *)x, *b = *(const store_row *const *)y;
	const struct sort_ctx *sc = ctx;
	return store_ck_cmp(sc->c, a->ck, a->cklen, b->ck, b->cklen);
}

/* Many rows: sort pointers to src's rows, then one linear merge into a new array. */
static void merge_many_rows(brook_arena *a, const store_cmp *c, store_part *d, const store_part *s)
{
	const store_row **sp = brook_malloc((size_t)s->nrows * sizeof(*sp));
	int sorted = 1;
	for (uint32_t i = 0; i < s->nrows; i++) {
		sp[i] = &s->rows[i];
		if (i && sorted &&
		    store_ck_cmp(c, sp[i - 1]->ck, sp[i - 1]->cklen, sp[i]->ck, sp[i]->cklen) > 0)
			sorted = 0;
	}
	if (!sorted) {
		struct sort_ctx sc = {c};
		qsort_r(sp, s->nrows, sizeof(*sp), row_ptr_cmp, &sc);
	}
	uint32_t cap = 0, n = 0, i = 0, j = 0;
	store_row *out = grow(a, NULL, sizeof(store_row), 0, &cap, d->nrows + s->nrows);
	while (i < d->nrows || j < s->nrows) {
		int r;
		if (i == d->nrows)
			r = 1;
		else if (j == s->nrows)
			r = -1;
		else
			r = store_ck_cmp(c, d->rows[i].ck, d->rows[i].cklen, sp[j]->ck,
			                 sp[j]->cklen);
		if (r < 0) {
			out[n++] = d->rows[i++];
			continue;
		}
		/* A src row: merges into the last output row if equal to it (duplicates). */
		if (r == 0) {
			out[n++] = d->rows[i++];
		} else if (!n || store_ck_cmp(c, out[n - 1].ck, out[n - 1].cklen, sp[j]->ck,
		                              sp[j]->cklen) != 0) {
			row_init(a, &out[n], sp[j]);
			n++;
		}
		row_merge_cells(a, &out[n - 1], sp[j]);
		j++;
	}
	free(sp);
	d->rows = out;
	d->nrows = n;
	d->rowcap = cap;
}

static int bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* An identical range tombstone is already there (merging copies of one source). */
static int rt_known(const store_part *d, const store_rtomb *rt)
{
	for (uint32_t i = 0; i < d->nrts && i < 256; i++) {
		const store_rtomb *o = &d->rts[i];
		if (o->del.ts == rt->del.ts && o->del.ldt == rt->del.ldt &&
		    o->b.flags == rt->b.flags &&
		    bytes_eq(o->b.start, o->b.slen, rt->b.start, rt->b.slen) &&
		    bytes_eq(o->b.end, o->b.elen, rt->b.end, rt->b.elen))
			return 1;
	}
	return 0;
}

void store_part_merge(brook_arena *a, const store_cmp *c, store_part *d, const store_part *s)
{
	d->del = del_max(d->del, s->del);
	for (uint32_t i = 0; i < s->nrts; i++) {
		const store_rtomb *rt = &s->rts[i];
		if (rt_known(d, rt))
			continue;
		d->rts = grow(a, d->rts, sizeof(store_rtomb), d->nrts, &d->rtcap, d->nrts + 1);
		store_rtomb *o = &d->rts[d->nrts++];
		*o = *rt;
		o->b.start = dupb(a, rt->b.start, rt->b.slen);
		o->b.end = dupb(a, rt->b.end, rt->b.elen);
	}
	if (s->nrows == 1)
		merge_one_row(a, c, d, &s->rows[0]);
	else if (s->nrows > 1)
		merge_many_rows(a, c, d, s);
}

/* The strongest deletion covering a row from outside it (partition, ranges). */
static store_del row_outer_del(const store_cmp *c, const store_part *p, const store_row *r)
{
	store_del d = p->del;
	for (uint32_t i = 0; i < p->nrts; i++)
		if (p->rts[i].del.ts > d.ts &&
		    store_bounds_contain(c, &p->rts[i].b, r->ck, r->cklen))
			d = p->rts[i].del;
	return d;
}

static store_del row_eff_del(const store_cmp *c, const store_part *p, const store_row *r)
{
	return del_max(row_outer_del(c, p, r), r->del);
}

void store_part_filter_live(const store_cmp *c, store_part *p, int64_t now)
{
	uint32_t nr = 0;
	for (uint32_t i = 0; i < p->nrows; i++) {
		store_row r = p->rows[i];
		store_del d = row_eff_del(c, p, &r);
		uint32_t nc = 0;
		for (uint32_t j = 0; j < r.ncells; j++) {
			const store_cell *cl = &r.cells[j];
			if (cl->flags & STORE_CELL_TOMBSTONE)
				continue;
			if (cl->ts <= d.ts)
				continue;
			if ((cl->flags & STORE_CELL_EXPIRING) && cl->ldt <= now)
				continue;
			r.cells[nc++] = *cl;
		}
		if (!nc)
			continue;
		r.ncells = nc;
		r.del.ts = STORE_NO_TS;
		p->rows[nr++] = r;
	}
	p->nrows = nr;
	p->nrts = 0;
	p->del.ts = STORE_NO_TS;
}

int store_part_gc(const store_cmp *c, store_part *p, int64_t now, int64_t gc_before)
{
	uint32_t nr = 0;
	for (uint32_t i = 0; i < p->nrows; i++) {
		store_row r = p->rows[i];
		store_del outer = row_outer_del(c, p, &r);
		store_del d = del_max(outer, r.del);
		uint32_t nc = 0;
		for (uint32_t j = 0; j < r.ncells; j++) {
			store_cell cl = r.cells[j];
			if (cl.ts <= d.ts)
				continue;
			if ((cl.flags & STORE_CELL_EXPIRING) && cl.ldt <= now) {
				/* Expired: becomes a tombstone dated by its write (ldt - ttl). */
				cl.flags = STORE_CELL_TOMBSTONE;
				cl.ldt = cl.ldt - cl.ttl;
				cl.ttl = 0;
				cl.vlen = 0;
				cl.value = empty_bytes;
			}
			if ((cl.flags & STORE_CELL_TOMBSTONE) && cl.ldt < gc_before)
				continue;
			r.cells[nc++] = cl;
		}
		r.ncells = nc;
		if (store_del_live(r.del) && (r.del.ldt < gc_before || r.del.ts <= outer.ts))
			r.del.ts = STORE_NO_TS;
		if (!nc && !store_del_live(r.del))
			continue;
		p->rows[nr++] = r;
	}
	p->nrows = nr;
	uint32_t nt = 0;
	for (uint32_t i = 0; i < p->nrts; i++) {
		store_rtomb rt = p->rts[i];
		if (rt.del.ldt < gc_before || rt.del.ts <= p->del.ts)
			continue;
		p->rts[nt++] = rt;
	}
	p->nrts = nt;
	if (store_del_live(p->del) && p->del.ldt < gc_before)
		p->del.ts = STORE_NO_TS;
	return p->nrows || p->nrts || store_del_live(p->del);
}

/* ---- encoding ---- */

static void put_uv(brook_buf *b, uint64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_u64(tmp, v));
}

static void put_iv(brook_buf *b, int64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_i64(tmp, v));
}

static void put_bytes(brook_buf *b, const uint8_t *p, uint32_t n)
{
	put_uv(b, n);
	if (n)
		brook_buf_append(b, p, n);
}

static void put_del(brook_buf *b, store_del d)
{
	put_iv(b, d.ts);
	put_iv(b, d.ldt);
}

void store_part_encode(const store_part *p, brook_buf *out)
{
	put_bytes(out, p->pk, p->pklen);
	brook_buf_putc(out, store_del_live(p->del) ? 1 : 0);
	if (store_del_live(p->del))
		put_del(out, p->del);
	put_uv(out, p->nrts);
	for (uint32_t i = 0; i < p->nrts; i++) {
		const store_rtomb *rt = &p->rts[i];
		brook_buf_putc(out, (char)rt->b.flags);
		put_bytes(out, rt->b.start, rt->b.slen);
		put_bytes(out, rt->b.end, rt->b.elen);
		put_del(out, rt->del);
	}
	put_uv(out, p->nrows);
	for (uint32_t i = 0; i < p->nrows; i++) {
		const store_row *r = &p->rows[i];
		brook_buf_putc(out, store_del_live(r->del) ? 1 : 0);
		put_bytes(out, r->ck, r->cklen);
		if (store_del_live(r->del))
			put_del(out, r->del);
		put_uv(out, r->ncells);
		for (uint32_t j = 0; j < r->ncells; j++) {
			const store_cell *c = &r->cells[j];
			put_uv(out, c->col);
			brook_buf_putc(out, (char)c->flags);
			put_iv(out, c->ts);
			if (c->flags & (STORE_CELL_TOMBSTONE | STORE_CELL_EXPIRING)) {
				put_iv(out, c->ttl);
				put_iv(out, c->ldt);
			}
			put_bytes(out, c->value, c->vlen);
		}
	}
}

void store_part_encode_many(const store_part *ps, size_t n, brook_buf *out)
{
	put_uv(out, n);
	for (size_t i = 0; i < n; i++)
		store_part_encode(&ps[i], out);
}

/* Bounded reader with a sticky error (in the manner of kafka/proto.h). */
typedef struct rd {
	const uint8_t *start, *p, *end;
	int failed;
	char *err;
	size_t errlen;
} rd;

static void rd_fail(rd *r, const char *what)
{
	if (!r->failed && r->err)
		snprintf(r->err, r->errlen, "bad %s at byte %zu", what, (size_t)(r->p - r->start));
	r->failed = 1;
	r->p = r->end;
}

static uint64_t rd_uv(rd *r, uint64_t max, const char *what)
{
	uint64_t v = 0;
	if (r->failed)
		return 0;
	int n = brook_varint_get_u64(r->p, (size_t)(r->end - r->p), &v);
	if (n <= 0 || v > max) {
		rd_fail(r, what);
		return 0;
	}
	r->p += n;
	return v;
}

static int64_t rd_iv(rd *r, const char *what)
{
	int64_t v = 0;
	if (r->failed)
		return 0;
	int n = brook_varint_get_i64(r->p, (size_t)(r->end - r->p), &v);
	if (n <= 0) {
		rd_fail(r, what);
		return 0;
	}
	r->p += n;
	return v;
}

static int32_t rd_i32(rd *r, const char *what)
{
	int64_t v = rd_iv(r, what);
	if (v < INT32_MIN || v > INT32_MAX) {
		rd_fail(r, what);
		return 0;
	}
	return (int32_t)v;
}

static uint8_t rd_u8(rd *r, uint8_t allowed, const char *what)
{
	if (r->failed)
		return 0;
	if (r->p >= r->end || (*r->p & ~allowed)) {
		rd_fail(r, what);
		return 0;
	}
	return *r->p++;
}

static const uint8_t *rd_bytes(rd *r, uint32_t max, uint32_t *len, const char *what)
{
	*len = (uint32_t)rd_uv(r, max, what);
	if (r->failed)
		return empty_bytes;
	if (*len > (size_t)(r->end - r->p)) {
		rd_fail(r, what);
		*len = 0;
		return empty_bytes;
	}
	const uint8_t *v = *len ? r->p : empty_bytes;
	r->p += *len;
	return v;
}

/* A count whose elements each take at least min bytes. */
static uint32_t rd_count(rd *r, size_t min, const char *what)
{
	uint64_t n = rd_uv(r, UINT32_MAX, what);
	if (!r->failed && n > (size_t)(r->end - r->p) / min) {
		rd_fail(r, what);
		return 0;
	}
	return (uint32_t)n;
}

static store_del rd_del(rd *r)
{
	store_del d;
	d.ts = rd_iv(r, "deletion timestamp");
	d.ldt = rd_i32(r, "deletion time");
	if (d.ts == STORE_NO_TS)
		rd_fail(r, "deletion timestamp");
	return d;
}

static void decode_one(brook_arena *a, rd *r, store_part *out)
{
	memset(out, 0, sizeof(*out));
	out->del.ts = STORE_NO_TS;
	out->pk = rd_bytes(r, STORE_MAX_KEY, &out->pklen, "partition key");
	if (rd_u8(r, 1, "partition flags"))
		out->del = rd_del(r);
	out->nrts = rd_count(r, 5, "range tombstone count");
	if (out->nrts) {
		out->rts = brook_arena_alloc(a, (size_t)out->nrts * sizeof(store_rtomb));
		out->rtcap = out->nrts;
	}
	for (uint32_t i = 0; i < out->nrts && !r->failed; i++) {
		store_rtomb *rt = &out->rts[i];
		rt->b.flags = rd_u8(r, 15, "range tombstone flags");
		rt->b.start = rd_bytes(r, STORE_MAX_KEY, &rt->b.slen, "range tombstone start");
		rt->b.end = rd_bytes(r, STORE_MAX_KEY, &rt->b.elen, "range tombstone end");
		rt->del = rd_del(r);
	}
	out->nrows = rd_count(r, 3, "row count");
	if (out->nrows) {
		out->rows = brook_arena_alloc(a, (size_t)out->nrows * sizeof(store_row));
		out->rowcap = out->nrows;
	}
	for (uint32_t i = 0; i < out->nrows; i++) {
		store_row *row = &out->rows[i];
		memset(row, 0, sizeof(*row));
		row->del.ts = STORE_NO_TS;
		if (r->failed)
			continue;
		uint8_t fl = rd_u8(r, 1, "row flags");
		row->ck = rd_bytes(r, STORE_MAX_KEY, &row->cklen, "clustering key");
		if (fl)
			row->del = rd_del(r);
		row->ncells = rd_count(r, 4, "cell count");
		if (row->ncells) {
			row->cells = brook_arena_alloc(a, (size_t)row->ncells * sizeof(store_cell));
			row->cellcap = row->ncells;
		}
		for (uint32_t j = 0; j < row->ncells; j++) {
			store_cell *c = &row->cells[j];
			memset(c, 0, sizeof(*c));
			c->value = empty_bytes;
			if (r->failed)
				continue;
			c->col = (uint16_t)rd_uv(r, UINT16_MAX, "column id");
			c->flags = rd_u8(r, 3, "cell flags");
			c->ts = rd_iv(r, "cell timestamp");
			if (c->flags & (STORE_CELL_TOMBSTONE | STORE_CELL_EXPIRING)) {
				c->ttl = rd_i32(r, "cell ttl");
				c->ldt = rd_i32(r, "cell deletion time");
			}
			c->value = rd_bytes(r, UINT32_MAX, &c->vlen, "cell value");
		}
	}
	if (r->failed)
		return;
	out->token = store_token(out->pk, out->pklen);
}

int store_part_decode(brook_arena *a, const uint8_t *p, size_t n, store_part *out, char *err,
                      size_t errlen)
{
	const uint8_t *copy = dupb(a, p, n);
	rd r = {copy, copy, copy + n, 0, err, errlen};
	decode_one(a, &r, out);
	if (!r.failed && r.p != r.end)
		rd_fail(&r, "partition (trailing bytes)");
	return r.failed ? BROOK_ERR : BROOK_OK;
}

int store_part_decode_many(brook_arena *a, const uint8_t *p, size_t n,
                           int (*fn)(void *ctx, const store_part *p), void *ctx, char *err,
                           size_t errlen)
{
	const uint8_t *copy = dupb(a, p, n);
	rd r = {copy, copy, copy + n, 0, err, errlen};
	uint32_t count = rd_count(&r, 4, "partition count");
	store_part *parts = NULL;
	if (count)
		parts = brook_arena_alloc(a, (size_t)count * sizeof(store_part));
	for (uint32_t i = 0; i < count && !r.failed; i++)
		decode_one(a, &r, &parts[i]);
	if (!r.failed && r.p != r.end)
		rd_fail(&r, "record (trailing bytes)");
	if (r.failed)
		return BROOK_ERR;
	/* All decoded before any is applied: a record is all or nothing. */
	for (uint32_t i = 0; i < count; i++)
		if (fn(ctx, &parts[i]) != 0)
			return BROOK_ERR;
	return BROOK_OK;
}

/* ---- memtable skiplist ---- */

#define MT_MAX_LEVEL 16

struct store_mt_node {
	store_part part;
	int level;
	struct store_mt_node *next[];
};

struct store_memtable {
	brook_arena arena;
	store_cmp cmp;
	store_mt_node *head;
	uint64_t count;
	uint64_t rng;
};

store_memtable *store_memtable_new(const store_cmp *c)
{
	store_memtable *m = brook_calloc(1, sizeof(*m));
	m->arena.first_size = 1 << 20;
	if (c)
		m->cmp = *c;
	m->rng = 0x9e3779b97f4a7c15ULL;
	m->head = brook_arena_calloc(&m->arena, sizeof(store_mt_node) +
	                                            MT_MAX_LEVEL * sizeof(store_mt_node *));
	m->head->level = MT_MAX_LEVEL;
	return m;
}

void store_memtable_free(store_memtable *m)
{
	if (!m)
		return;
	brook_arena_release(&m->arena);
	free(m);
}

static int random_level(store_memtable *m)
{
	int lvl = 1;
	for (;;) {
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 7;
		m->rng ^= m->rng << 17;
		if ((m->rng & 3) != 0 || lvl >= MT_MAX_LEVEL)
			return lvl;
		lvl++;
	}
}

static int node_cmp(const store_mt_node *n, int64_t token, const uint8_t *pk, size_t pklen)
{
	return store_pk_cmp(n->part.token, n->part.pk, n->part.pklen, token, pk, pklen);
}

/* Fills upd[] with the last node < key at each level; returns the node >= key. */
static store_mt_node *mt_find(const store_memtable *m, int64_t token, const uint8_t *pk,
                              size_t pklen, store_mt_node **upd)
{
	store_mt_node *x = m->head;
	for (int l = MT_MAX_LEVEL - 1; l >= 0; l--) {
		while (x->next[l] && node_cmp(x->next[l], token, pk, pklen) < 0)
			x = x->next[l];
		if (upd)
			upd[l] = x;
	}
	return x->next[0];
}

void store_memtable_apply(store_memtable *m, const store_part *mut)
{
	store_mt_node *upd[MT_MAX_LEVEL];
	store_mt_node *n = mt_find(m, mut->token, mut->pk, mut->pklen, upd);
	if (!n || node_cmp(n, mut->token, mut->pk, mut->pklen) != 0) {
		int lvl = random_level(m);
		n = brook_arena_calloc(&m->arena, sizeof(store_mt_node) +
		                                      (size_t)lvl * sizeof(store_mt_node *));
		n->level = lvl;
		store_part_init(&m->arena, &n->part, mut);
		for (int l = 0; l < lvl; l++) {
			n->next[l] = upd[l]->next[l];
			upd[l]->next[l] = n;
		}
		m->count++;
	}
	store_part_merge(&m->arena, &m->cmp, &n->part, mut);
}

const store_part *store_memtable_get(const store_memtable *m, int64_t token, const uint8_t *pk,
                                     size_t pklen)
{
	store_mt_node *n = mt_find(m, token, pk, pklen, NULL);
	if (n && node_cmp(n, token, pk, pklen) == 0)
		return &n->part;
	return NULL;
}

const store_mt_node *store_memtable_seek(const store_memtable *m, int64_t token, const uint8_t *pk,
                                         size_t pklen, int strict)
{
	store_mt_node *n;
	if (!pk) {
		/* Every pk sorts after the empty key of the same token, but an empty pk can
		 * exist: search by token alone. */
		store_mt_node *x = m->head;
		for (int l = MT_MAX_LEVEL - 1; l >= 0; l--)
			while (x->next[l] && x->next[l]->part.token < token)
				x = x->next[l];
		return x->next[0];
	}
	n = mt_find(m, token, pk, pklen, NULL);
	if (strict && n && node_cmp(n, token, pk, pklen) == 0)
		n = n->next[0];
	return n;
}

const store_mt_node *store_memtable_first(const store_memtable *m)
{
	return m->head->next[0];
}

const store_mt_node *store_memtable_next(const store_mt_node *n)
{
	return n->next[0];
}

const store_part *store_memtable_node_part(const store_mt_node *n)
{
	return &n->part;
}

size_t store_memtable_bytes(const store_memtable *m)
{
	return m->arena.total;
}

uint64_t store_memtable_count(const store_memtable *m)
{
	return m->count;
}
