/*
 * memtable.c — partitions: reconciliation, visibility, garbage collection, encoding; and
 * the memtable (a B+tree of partitions). The model and the rules are described in memtable.h.
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

int store_ck_cmp(const store_cmp *c, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (c && c->fn)
		return c->fn(a, alen, b, blen, c->ctx);
	return brook_bytes_cmp(a, alen, b, blen);
}

int store_pk_cmp(int64_t ta, const uint8_t *a, size_t alen, int64_t tb, const uint8_t *b,
                 size_t blen)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return brook_bytes_cmp(a, alen, b, blen);
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
	int c = brook_bytes_cmp(s->value, s->vlen, d->value, d->vlen);
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

/* Cells in strictly increasing column order (as a mutation usually has them). */
static int cells_sorted(const store_row *r)
{
	for (uint32_t j = 1; j < r->ncells; j++)
		if (r->cells[j - 1].col >= r->cells[j].col)
			return 0;
	return 1;
}

/* Copies sorted cells into d's empty row with their values: one block, exact size. */
static void row_copy_cells(brook_arena *a, store_row *d, const store_row *s)
{
	size_t vbytes = 0;
	for (uint32_t j = 0; j < s->ncells; j++)
		vbytes += s->cells[j].vlen;
	size_t cbytes = (size_t)s->ncells * sizeof(store_cell);
	uint8_t *blk = brook_arena_alloc(a, cbytes + vbytes);
	uint8_t *v = blk + cbytes;
	d->cells = (store_cell *)blk;
	for (uint32_t j = 0; j < s->ncells; j++) {
		const store_cell *sc = &s->cells[j];
		d->cells[j] = *sc;
		if (sc->vlen) {
			memcpy(v, sc->value, sc->vlen);
			d->cells[j].value = v;
			v += sc->vlen;
		} else {
			d->cells[j].value = empty_bytes;
		}
	}
	d->ncells = d->cellcap = s->ncells;
}

static void row_merge_cells(brook_arena *a, store_row *d, const store_row *s)
{
	d->del = del_max(d->del, s->del);
	if (d->ncells == 0 && s->ncells && cells_sorted(s)) {
		row_copy_cells(a, d, s);
		return;
	}
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

int store_part_gc(const store_cmp *c, store_part *p, int64_t now, int64_t gc_before,
                  bool *changed)
{
	uint32_t nr = 0, ncells = 0, kept = 0;
	bool turned = false, undeleted = false;
	for (uint32_t i = 0; i < p->nrows; i++) {
		store_row r = p->rows[i];
		store_del outer = row_outer_del(c, p, &r);
		store_del d = del_max(outer, r.del);
		uint32_t nc = 0;
		ncells += r.ncells;
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
				turned = true;
			}
			if ((cl.flags & STORE_CELL_TOMBSTONE) && cl.ldt < gc_before)
				continue;
			r.cells[nc++] = cl;
		}
		r.ncells = nc;
		if (store_del_live(r.del) && (r.del.ldt < gc_before || r.del.ts <= outer.ts)) {
			r.del.ts = STORE_NO_TS;
			undeleted = true;
		}
		if (!nc && !store_del_live(r.del))
			continue;
		kept += nc;
		p->rows[nr++] = r;
	}
	bool dropped = nr != p->nrows || kept != ncells;
	p->nrows = nr;
	uint32_t nt = 0;
	for (uint32_t i = 0; i < p->nrts; i++) {
		store_rtomb rt = p->rts[i];
		if (rt.del.ldt < gc_before || rt.del.ts <= p->del.ts)
			continue;
		p->rts[nt++] = rt;
	}
	dropped |= nt != p->nrts;
	p->nrts = nt;
	if (store_del_live(p->del) && p->del.ldt < gc_before) {
		p->del.ts = STORE_NO_TS;
		undeleted = true;
	}
	if (changed)
		*changed = dropped || turned || undeleted;
	return p->nrows || p->nrts || store_del_live(p->del);
}

/* ---- encoding ---- */

/* An upper bound of what store_part_encode writes for p (varints at their longest). */
static size_t encoded_bound(const store_part *p)
{
	size_t n = 10 + p->pklen + 1 + 20 + 10 + 10;
	for (uint32_t i = 0; i < p->nrts; i++)
		n += 1 + 20 + p->rts[i].b.slen + p->rts[i].b.elen + 20;
	for (uint32_t i = 0; i < p->nrows; i++) {
		const store_row *r = &p->rows[i];
		n += 1 + 10 + r->cklen + 20 + 10;
		for (uint32_t j = 0; j < r->ncells; j++)
			n += 10 + 1 + 10 + 20 + 10 + r->cells[j].vlen;
	}
	return n;
}

static uint8_t *put_uv(uint8_t *o, uint64_t v)
{
	return o + brook_varint_put_u64(o, v);
}

static uint8_t *put_iv(uint8_t *o, int64_t v)
{
	return o + brook_varint_put_i64(o, v);
}

static uint8_t *put_bytes(uint8_t *o, const uint8_t *p, uint32_t n)
{
	o = put_uv(o, n);
	if (n)
		memcpy(o, p, n);
	return o + n;
}

static uint8_t *put_del(uint8_t *o, store_del d)
{
	o = put_iv(o, d.ts);
	return put_iv(o, d.ldt);
}

/* Writes p at o, which has room for encoded_bound(p) bytes; returns the new end. */
static uint8_t *encode_at(uint8_t *o, const store_part *p)
{
	o = put_bytes(o, p->pk, p->pklen);
	*o++ = store_del_live(p->del) ? 1 : 0;
	if (store_del_live(p->del))
		o = put_del(o, p->del);
	o = put_uv(o, p->nrts);
	for (uint32_t i = 0; i < p->nrts; i++) {
		const store_rtomb *rt = &p->rts[i];
		*o++ = rt->b.flags;
		o = put_bytes(o, rt->b.start, rt->b.slen);
		o = put_bytes(o, rt->b.end, rt->b.elen);
		o = put_del(o, rt->del);
	}
	o = put_uv(o, p->nrows);
	for (uint32_t i = 0; i < p->nrows; i++) {
		const store_row *r = &p->rows[i];
		*o++ = store_del_live(r->del) ? 1 : 0;
		o = put_bytes(o, r->ck, r->cklen);
		if (store_del_live(r->del))
			o = put_del(o, r->del);
		o = put_uv(o, r->ncells);
		for (uint32_t j = 0; j < r->ncells; j++) {
			const store_cell *c = &r->cells[j];
			o = put_uv(o, c->col);
			*o++ = c->flags;
			o = put_iv(o, c->ts);
			if (c->flags & (STORE_CELL_TOMBSTONE | STORE_CELL_EXPIRING)) {
				o = put_iv(o, c->ttl);
				o = put_iv(o, c->ldt);
			}
			o = put_bytes(o, c->value, c->vlen);
		}
	}
	return o;
}

/* Reserves bound bytes in out, lets the encoder write them, keeps buf.h's invariants. */
static void encode_into(brook_buf *out, const store_part *ps, size_t n, int with_count)
{
	size_t bound = with_count ? 10 : 0;
	for (size_t i = 0; i < n; i++)
		bound += encoded_bound(&ps[i]);
	brook_buf_reserve(out, bound);
	uint8_t *start = (uint8_t *)out->data + out->len, *o = start;
	if (with_count)
		o = put_uv(o, n);
	for (size_t i = 0; i < n; i++)
		o = encode_at(o, &ps[i]);
	out->len += (size_t)(o - start);
	out->data[out->len] = '\0';
}

void store_part_encode(const store_part *p, brook_buf *out)
{
	encode_into(out, p, 1, 0);
}

void store_part_encode_many(const store_part *ps, size_t n, brook_buf *out)
{
	encode_into(out, ps, n, 1);
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

int store_part_decode_owned(brook_arena *a, const uint8_t *p, size_t n, store_part *out,
                            char *err, size_t errlen)
{
	rd r = {p, p, p + n, 0, err, errlen};
	decode_one(a, &r, out);
	if (!r.failed && r.p != r.end)
		rd_fail(&r, "partition (trailing bytes)");
	return r.failed ? BROOK_ERR : BROOK_OK;
}

int store_part_decode(brook_arena *a, const uint8_t *p, size_t n, store_part *out, char *err,
                      size_t errlen)
{
	return store_part_decode_owned(a, dupb(a, p, n), n, out, err, errlen);
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

/* ---- the memtable: a B+tree of partitions ---- */

/*
 * Partitions are indexed by (token, pk) in a B+tree whose nodes keep the tokens in one
 * array, so a descent reads a few cache lines per level (height 4 for ~100k
 * partitions at fanout 32) instead of one node per step as a skiplist would; pk is only
 * compared on equal tokens. Partitions are never removed, so nodes only split, and
 * every partition also sits on a singly-linked list in key order for iteration.
 *
 * A node holds n < BT_MAX entries; entry i has the key (tok[i], item[i]): in a leaf,
 * the partition itself; in an inner node, the first partition of child[i]'s subtree,
 * and child[i] holds the keys in [key(i), key(i + 1)). key(0) of an inner node is never
 * compared (a new smallest key goes down child 0), so it may be stale on the leftmost
 * path; every other key(i) is exact, since it was copied from a right half at a split.
 * Leaves are linked left to right (set at splits), which is how iterators move: an
 * insert touches no other partition, only the nodes on its path.
 */
#define BT_MAX   32
#define BT_DEPTH 16 /* fanout >= BT_MAX / 2: 16 levels hold more than 2^60 partitions */

typedef struct store_mt_node {
	store_part part;
} store_mt_node;

typedef struct bt_node bt_node;
struct bt_node {
	uint32_t n;
	uint32_t leaf;
	bt_node *next; /* leaves: the next leaf */
	int64_t tok[BT_MAX];
	store_mt_node *item[BT_MAX];
	bt_node *child[]; /* inner nodes only */
};

struct store_memtable {
	brook_arena arena;
	store_cmp cmp;
	bt_node *root;
	bt_node *first; /* the leftmost leaf */
	uint64_t count;
};

static bt_node *bt_new(store_memtable *m, int leaf)
{
	bt_node *b =
	    brook_arena_alloc(&m->arena, sizeof(bt_node) + (leaf ? 0 : BT_MAX * sizeof(bt_node *)));
	b->n = 0;
	b->leaf = (uint32_t)leaf;
	b->next = NULL;
	return b;
}

store_memtable *store_memtable_new(const store_cmp *c)
{
	store_memtable *m = brook_calloc(1, sizeof(*m));
	m->arena.first_size = 1 << 20;
	if (c)
		m->cmp = *c;
	m->root = m->first = bt_new(m, 1);
	return m;
}

void store_memtable_free(store_memtable *m)
{
	if (!m)
		return;
	brook_arena_release(&m->arena);
	free(m);
}

/* Key (t, pk) against entry i of b; pk NULL sorts before every pk of token t. */
static int key_cmp(int64_t t, const uint8_t *pk, size_t pklen, const bt_node *b, uint32_t i)
{
	if (t != b->tok[i])
		return t < b->tok[i] ? -1 : 1;
	if (!pk)
		return -1;
	const store_part *p = &b->item[i]->part;
	return brook_bytes_cmp(pk, pklen, p->pk, p->pklen);
}

/* The first entry of b whose key is >= (t, pk) (b->n if none); *eq if equal. */
static uint32_t bt_lower(const bt_node *b, int64_t t, const uint8_t *pk, size_t pklen, int *eq)
{
	uint32_t lo = 0, hi = b->n;
	*eq = 0;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = key_cmp(t, pk, pklen, b, mid);
		if (c > 0) {
			lo = mid + 1;
		} else {
			if (c == 0)
				*eq = 1;
			hi = mid;
		}
	}
	return lo;
}

/* The child of inner node b that holds (t, pk): the last i with key(i) <= key, i >= 1,
 * or 0. key(0) is not compared: it may be stale (and then out of order). */
static uint32_t bt_child(const bt_node *b, int64_t t, const uint8_t *pk, size_t pklen)
{
	uint32_t lo = 1, hi = b->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (key_cmp(t, pk, pklen, b, mid) >= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

/* Descends to the leaf for (t, pk), recording the path; returns the leaf. */
static bt_node *bt_descend(const store_memtable *m, int64_t t, const uint8_t *pk, size_t pklen,
                           bt_node **path, uint32_t *idx, int *depth)
{
	bt_node *b = m->root;
	int d = 0;
	while (!b->leaf) {
		uint32_t c = bt_child(b, t, pk, pklen);
		if (path) {
			path[d] = b;
			idx[d] = c;
		}
		d++;
		b = b->child[c];
	}
	if (depth)
		*depth = d;
	return b;
}

static void bt_put(bt_node *b, uint32_t at, int64_t tok, store_mt_node *item, bt_node *child)
{
	uint32_t k = b->n - at;
	memmove(&b->tok[at + 1], &b->tok[at], k * sizeof(b->tok[0]));
	memmove(&b->item[at + 1], &b->item[at], k * sizeof(b->item[0]));
	if (!b->leaf)
		memmove(&b->child[at + 1], &b->child[at], k * sizeof(b->child[0]));
	b->tok[at] = tok;
	b->item[at] = item;
	if (!b->leaf)
		b->child[at] = child;
	b->n++;
}

/* Inserts x (absent; its key set) at position pos of leaf, splitting full nodes up the
 * recorded path. */
static void bt_insert(store_memtable *m, bt_node *leaf, uint32_t pos, store_mt_node *x,
                      bt_node **path, uint32_t *idx, int depth)
{
	bt_node *b = leaf;
	bt_put(b, pos, x->part.token, x, NULL);
	while (b->n == BT_MAX) {
		bt_node *r = bt_new(m, (int)b->leaf);
		uint32_t half = BT_MAX / 2, k = BT_MAX - half;
		memcpy(r->tok, &b->tok[half], k * sizeof(b->tok[0]));
		memcpy(r->item, &b->item[half], k * sizeof(b->item[0]));
		if (!b->leaf)
			memcpy(r->child, &b->child[half], k * sizeof(b->child[0]));
		r->n = k;
		b->n = half;
		if (b->leaf) {
			r->next = b->next;
			b->next = r;
		}
		if (depth == 0) {
			bt_node *root = bt_new(m, 0);
			bt_put(root, 0, b->tok[0], b->item[0], b);
			bt_put(root, 1, r->tok[0], r->item[0], r);
			m->root = root;
			return;
		}
		depth--;
		b = path[depth];
		bt_put(b, idx[depth] + 1, r->tok[0], r->item[0], r);
	}
}

static store_mt_node *mt_get(const store_memtable *m, int64_t token, const uint8_t *pk,
                             size_t pklen)
{
	int eq;
	bt_node *b = bt_descend(m, token, pk, pklen, NULL, NULL, NULL);
	uint32_t i = bt_lower(b, token, pk, pklen, &eq);
	return eq ? b->item[i] : NULL;
}

/* Rows in strictly increasing clustering order, each row's cells sorted. */
static int part_sorted(const store_cmp *c, const store_part *p)
{
	for (uint32_t i = 0; i < p->nrows; i++) {
		const store_row *r = &p->rows[i];
		if (i &&
		    store_ck_cmp(c, p->rows[i - 1].ck, p->rows[i - 1].cklen, r->ck, r->cklen) >= 0)
			return 0;
		if (!cells_sorted(r))
			return 0;
	}
	return 1;
}

/*
 * A new partition from a sorted mutation without range tombstones: what init + merge
 * would build (every deletion and cell kept as it is), with exact-size arrays.
 */
static void part_copy(brook_arena *a, store_part *d, const store_part *s)
{
	store_part_init(a, d, s);
	d->del = s->del;
	if (!s->nrows)
		return;
	d->rows = brook_arena_alloc(a, (size_t)s->nrows * sizeof(store_row));
	d->nrows = d->rowcap = s->nrows;
	for (uint32_t i = 0; i < s->nrows; i++) {
		store_row *r = &d->rows[i];
		row_init(a, r, &s->rows[i]);
		r->del = s->rows[i].del;
		if (s->rows[i].ncells)
			row_copy_cells(a, r, &s->rows[i]);
	}
}

void store_memtable_apply(store_memtable *m, const store_part *mut)
{
	bt_node *path[BT_DEPTH];
	uint32_t idx[BT_DEPTH];
	int depth, eq;
	bt_node *leaf = bt_descend(m, mut->token, mut->pk, mut->pklen, path, idx, &depth);
	uint32_t pos = bt_lower(leaf, mut->token, mut->pk, mut->pklen, &eq);
	store_mt_node *n;
	if (eq) {
		n = leaf->item[pos];
	} else {
		n = brook_arena_calloc(&m->arena, sizeof(store_mt_node));
		m->count++;
		int copied = !mut->nrts && part_sorted(&m->cmp, mut);
		if (copied)
			part_copy(&m->arena, &n->part, mut);
		else
			store_part_init(&m->arena, &n->part, mut);
		bt_insert(m, leaf, pos, n, path, idx, depth);
		if (copied)
			return;
	}
	store_part_merge(&m->arena, &m->cmp, &n->part, mut);
}

const store_part *store_memtable_get(const store_memtable *m, int64_t token, const uint8_t *pk,
                                     size_t pklen)
{
	store_mt_node *n = mt_get(m, token, pk, pklen);
	return n ? &n->part : NULL;
}

/* Moves past exhausted leaves (only the empty root leaf of an empty memtable can be
 * empty; i == n after a seek or a step off a leaf's end). */
static void iter_settle(store_mt_iter *it)
{
	const bt_node *b = it->leaf;
	while (b && it->i >= b->n) {
		b = b->next;
		it->i = 0;
	}
	it->leaf = b;
}

void store_memtable_seek(const store_memtable *m, int64_t token, const uint8_t *pk, size_t pklen,
                         int strict, store_mt_iter *it)
{
	int eq;
	bt_node *b = bt_descend(m, token, pk, pklen, NULL, NULL, NULL);
	uint32_t i = bt_lower(b, token, pk, pklen, &eq);
	it->leaf = b;
	it->i = i + (strict && eq);
	iter_settle(it);
}

void store_memtable_first(const store_memtable *m, store_mt_iter *it)
{
	it->leaf = m->first;
	it->i = 0;
	iter_settle(it);
}

const store_part *store_mt_iter_part(const store_mt_iter *it)
{
	const bt_node *b = it->leaf;
	return b ? &b->item[it->i]->part : NULL;
}

void store_mt_iter_next(store_mt_iter *it)
{
	it->i++;
	iter_settle(it);
}

size_t store_memtable_bytes(const store_memtable *m)
{
	return m->arena.total;
}

uint64_t store_memtable_count(const store_memtable *m)
{
	return m->count;
}
