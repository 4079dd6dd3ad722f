/*
 * client_stmt.c — the pure parts of the CQL client (client.h): statements and their
 * bound values, batches, prepared statements with their versions, the statement cache.
 * Nothing here touches the network; client.c turns statements into requests.
 *
 * Bound values live in one buffer per statement: each marker has an offset, a length and
 * the room reserved for it. Rebinding a value that fits its room overwrites it in place
 * (the common loop "bind, execute, bind, execute" with fixed-width values never
 * allocates); a longer value is appended, and when more than half the buffer is dead
 * bytes it is compacted. Typed binders check values against the prepared markers' types
 * with cql_value_validate, so a bad value fails here, with the marker's name, instead of
 * as a server error.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "cql/client_impl.h"

/* ---- prepared statements ----------------------------------------------------------- */

static cql_prep_version *version_new(cql_res *res, char *err, size_t errlen)
{
	if (res->msg.opcode != CQL_OP_RESULT || res->msg.u.result.kind != CQL_RESULT_PREPARED) {
		snprintf(err, errlen, "the answer to PREPARE is not a Prepared result");
		return NULL;
	}
	const cql_metadata *m = &res->msg.u.result.meta;
	if (m->columns_count > 0 && !m->cols) {
		snprintf(err, errlen, "the Prepared result has no bind marker metadata");
		return NULL;
	}
	cql_prep_version *v = brook_calloc(1, sizeof *v);
	v->res = res;
	v->gen = 1;
	int32_t n = m->columns_count;
	v->bind_names = brook_arena_calloc(&res->arena, (size_t)(n > 0 ? n : 1) * sizeof(char *));
	for (int32_t i = 0; i < n; i++)
		v->bind_names[i] = cql_str_dup(&res->arena, m->cols[i].name);
	return v;
}

static uint64_t key_hash(const char *ks, const char *query)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = ks; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h = (h ^ 0xFF) * 1099511628211ULL; /* separator: never a byte of UTF-8 text */
	for (const char *p = query; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	return h;
}

cql_prepared *cql_prepared_new(const char *keyspace, const char *query, cql_res *res, char *err,
			       size_t errlen)
{
	cql_prep_version *v = version_new(res, err, errlen);
	if (!v)
		return NULL;
	cql_prepared *p = brook_calloc(1, sizeof *p);
	p->keyspace = brook_strdup(keyspace ? keyspace : "");
	p->query = brook_strdup(query);
	p->hash = key_hash(p->keyspace, p->query);
	pthread_mutex_init(&p->mu, NULL);
	p->cur = v;
	return p;
}

int cql_prepared_update(cql_prepared *p, cql_res *res, char *err, size_t errlen)
{
	cql_prep_version *v = version_new(res, err, errlen);
	if (!v)
		return BROOK_ERR;
	pthread_mutex_lock(&p->mu);
	v->older = p->cur;
	v->gen = p->cur->gen + 1;
	p->cur = v;
	pthread_mutex_unlock(&p->mu);
	return BROOK_OK;
}

const cql_prep_version *cql_prepared_current(cql_prepared *p)
{
	pthread_mutex_lock(&p->mu);
	const cql_prep_version *v = p->cur;
	pthread_mutex_unlock(&p->mu);
	return v;
}

void cql_prepared_free(cql_prepared *p)
{
	if (!p)
		return;
	for (cql_prep_version *v = p->cur, *next; v; v = next) {
		next = v->older;
		cql_res_free(v->res);
		free(v);
	}
	pthread_mutex_destroy(&p->mu);
	free(p->keyspace);
	free(p->query);
	free(p);
}

const char *cql_prepared_query(const cql_prepared *p)
{
	return p->query;
}

int cql_prepared_bind_count(const cql_prepared *p)
{
	return cql_prep_version_binds(cql_prepared_current((cql_prepared *)p))->columns_count;
}

int cql_prepared_column_count(const cql_prepared *p)
{
	const cql_prep_version *v = cql_prepared_current((cql_prepared *)p);
	const cql_metadata *m = &v->res->msg.u.result.result_meta;
	return (m->flags & CQL_META_NO_METADATA) ? -1 : m->columns_count;
}

uint64_t cql_prepared_generation(const cql_prepared *p)
{
	return cql_prepared_current((cql_prepared *)p)->gen;
}

/* ---- the statement cache ------------------------------------------------------------ */

void cql_stmt_cache_init(cql_stmt_cache *c)
{
	c->nbuckets = 64;
	c->count = 0;
	c->buckets = brook_calloc(c->nbuckets, sizeof *c->buckets);
}

void cql_stmt_cache_release(cql_stmt_cache *c)
{
	for (size_t i = 0; i < c->nbuckets; i++)
		for (cql_prepared *p = c->buckets[i], *next; p; p = next) {
			next = p->next;
			cql_prepared_free(p);
		}
	free(c->buckets);
	c->buckets = NULL;
	c->nbuckets = c->count = 0;
}

cql_prepared *cql_stmt_cache_get(const cql_stmt_cache *c, const char *keyspace,
				 const char *query)
{
	if (!keyspace)
		keyspace = "";
	uint64_t h = key_hash(keyspace, query);
	for (cql_prepared *p = c->buckets[h % c->nbuckets]; p; p = p->next)
		if (p->hash == h && !strcmp(p->query, query) && !strcmp(p->keyspace, keyspace))
			return p;
	return NULL;
}

static void cache_grow(cql_stmt_cache *c)
{
	size_t n = c->nbuckets * 2;
	cql_prepared **b = brook_calloc(n, sizeof *b);
	for (size_t i = 0; i < c->nbuckets; i++)
		for (cql_prepared *p = c->buckets[i], *next; p; p = next) {
			next = p->next;
			p->next = b[p->hash % n];
			b[p->hash % n] = p;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

cql_prepared *cql_stmt_cache_put(cql_stmt_cache *c, cql_prepared *p)
{
	cql_prepared *have = cql_stmt_cache_get(c, p->keyspace, p->query);
	if (have)
		return have;
	if (c->count + 1 > c->nbuckets)
		cache_grow(c);
	p->next = c->buckets[p->hash % c->nbuckets];
	c->buckets[p->hash % c->nbuckets] = p;
	c->count++;
	return p;
}

/* ---- statements ---------------------------------------------------------------------- */

cql_stmt *cql_stmt_new(const char *query)
{
	cql_stmt *st = brook_calloc(1, sizeof *st);
	st->query = brook_strdup(query);
	return st;
}

cql_stmt *cql_stmt_new_prepared(cql_prepared *p)
{
	cql_stmt *st = brook_calloc(1, sizeof *st);
	st->prep = p;
	st->ver = cql_prepared_current(p);
	int32_t n = cql_prep_version_binds(st->ver)->columns_count;
	st->n = st->cap = n;
	st->v = brook_calloc((size_t)(n > 0 ? n : 1), sizeof *st->v);
	return st;
}

void cql_stmt_free(cql_stmt *st)
{
	if (!st)
		return;
	free(st->query);
	free(st->v);
	brook_buf_release(&st->data);
	brook_buf_release(&st->paging);
	free(st);
}

void cql_stmt_clear(cql_stmt *st)
{
	memset(st->v, 0, (size_t)st->cap * sizeof *st->v);
	if (!st->prep)
		st->n = 0;
	brook_buf_reset(&st->data);
	st->live = 0;
	st->err[0] = '\0';
	st->failed = false;
	st->has_paging = false;
	brook_buf_reset(&st->paging);
}

int cql_stmt_count(const cql_stmt *st)
{
	return st->n;
}

int cql_stmt_index(const cql_stmt *st, const char *name)
{
	if (!st->ver)
		return -1;
	for (int i = 0; i < st->n; i++)
		if (!strcmp(st->ver->bind_names[i], name))
			return i;
	return -1;
}

const cql_type *cql_stmt_type(const cql_stmt *st, int i)
{
	if (!st->ver || i < 0 || i >= st->n)
		return NULL;
	return cql_prep_version_binds(st->ver)->cols[i].type;
}

const char *cql_stmt_error(const cql_stmt *st)
{
	return st->failed ? st->err : NULL;
}

__attribute__((format(printf, 2, 3))) static int stmt_fail(cql_stmt *st, const char *fmt, ...)
{
	if (!st->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(st->err, sizeof st->err, fmt, ap);
		va_end(ap);
		st->failed = true;
	}
	return BROOK_ERR;
}

/* "value 2 (age int)" or "value 2". */
static void describe(const cql_stmt *st, int i, char *out, size_t outlen)
{
	const cql_type *t = cql_stmt_type(st, i);
	if (!t) {
		snprintf(out, outlen, "value %d", i);
		return;
	}
	brook_buf tn = BROOK_BUF_INIT;
	cql_type_print(&tn, t);
	snprintf(out, outlen, "value %d (%s %s)", i, st->ver->bind_names[i], tn.data);
	brook_buf_release(&tn);
}

/* Checks the index (growing a query statement's values as needed). */
static int check_index(cql_stmt *st, int i)
{
	if (i < 0 || i > 65534)
		return stmt_fail(st, "value index %d is out of range", i);
	if (st->prep) {
		if (i >= st->n)
			return stmt_fail(st,
					 "value index %d is out of range: the statement has %d "
					 "bind marker%s",
					 i, st->n, st->n == 1 ? "" : "s");
		return BROOK_OK;
	}
	if (i >= st->cap) {
		int cap = st->cap ? st->cap : 8;
		while (cap <= i)
			cap *= 2;
		st->v = brook_realloc(st->v, (size_t)cap * sizeof *st->v);
		memset(st->v + st->cap, 0, (size_t)(cap - st->cap) * sizeof *st->v);
		st->cap = cap;
	}
	if (i >= st->n)
		st->n = i + 1;
	return BROOK_OK;
}

static void compact(cql_stmt *st)
{
	brook_buf nb = BROOK_BUF_INIT;
	brook_buf_reserve(&nb, st->live);
	for (int i = 0; i < st->n; i++) {
		cql_bound *b = &st->v[i];
		if (!b->set || b->room <= 0)
			continue;
		size_t off = nb.len;
		brook_buf_append(&nb, st->data.data + b->off, (size_t)b->room);
		b->off = off;
	}
	brook_buf_release(&st->data);
	st->data = nb;
}

/* Stores len bytes (or a null/unset marker) as value i; index already checked. */
static int store(cql_stmt *st, int i, const void *p, int32_t len)
{
	cql_bound *b = &st->v[i];
	if (len < 0) {
		if (b->set && b->room > 0) {
			st->live -= (size_t)b->room;
			b->room = 0;
		}
		b->len = len;
		b->set = true;
		return BROOK_OK;
	}
	if (b->set && b->room >= len) {
		if (len)
			memcpy(st->data.data + b->off, p, (size_t)len);
		b->len = len;
		return BROOK_OK;
	}
	if (b->set && b->room > 0)
		st->live -= (size_t)b->room;
	b->off = st->data.len;
	if (len)
		brook_buf_append(&st->data, p, (size_t)len);
	b->len = b->room = len;
	b->set = true;
	st->live += (size_t)len;
	if (st->data.len > 4096 && st->data.len - st->live > st->live)
		compact(st);
	return BROOK_OK;
}

/* Stores an already serialized value after checking it against the marker's type. */
static int store_checked(cql_stmt *st, int i, const void *p, size_t n)
{
	if (n > INT32_MAX)
		return stmt_fail(st, "value %d is too large (%zu bytes)", i, n);
	const cql_type *t = cql_stmt_type(st, i);
	char verr[160];
	if (t && cql_value_validate(t, p, n, verr, sizeof verr) != BROOK_OK) {
		char d[128];
		describe(st, i, d, sizeof d);
		return stmt_fail(st, "%s: %s", d, verr);
	}
	return store(st, i, p, (int32_t)n);
}

static int mismatch(cql_stmt *st, int i, const char *what)
{
	char d[128];
	describe(st, i, d, sizeof d);
	return stmt_fail(st, "%s cannot be bound from %s", d, what);
}

int cql_stmt_bind_null(cql_stmt *st, int i)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	return store(st, i, NULL, CQL_NULL);
}

int cql_stmt_bind_unset(cql_stmt *st, int i)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	return store(st, i, NULL, CQL_UNSET);
}

int cql_stmt_bind_bool(cql_stmt *st, int i, bool v)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	if (t && t->id != CQL_TYPE_BOOLEAN)
		return mismatch(st, i, "a boolean");
	uint8_t b = v ? 1 : 0;
	return store(st, i, &b, 1);
}

/* An integer into whatever integer type the marker has; width when untyped. */
static int bind_integer(cql_stmt *st, int i, int64_t v, size_t untyped_width)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	uint8_t b[8];
	size_t n;
	int64_t lo, hi;
	if (!t) {
		brook_be_put(b, (uint64_t)v, untyped_width);
		return store(st, i, b, (int32_t)untyped_width);
	}
	switch (t->id) {
	case CQL_TYPE_TINYINT:
		n = 1, lo = INT8_MIN, hi = INT8_MAX;
		break;
	case CQL_TYPE_SMALLINT:
		n = 2, lo = INT16_MIN, hi = INT16_MAX;
		break;
	case CQL_TYPE_INT:
		n = 4, lo = INT32_MIN, hi = INT32_MAX;
		break;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
		n = 8, lo = INT64_MIN, hi = INT64_MAX;
		break;
	case CQL_TYPE_VARINT: {
		/* minimal two's complement: drop leading bytes that only repeat the sign */
		brook_be_put(b, (uint64_t)v, 8);
		size_t k = 0;
		while (k < 7 && ((b[k] == 0x00 && !(b[k + 1] & 0x80)) ||
				 (b[k] == 0xFF && (b[k + 1] & 0x80))))
			k++;
		return store(st, i, b + k, (int32_t)(8 - k));
	}
	default:
		return mismatch(st, i, "an integer");
	}
	if (v < lo || v > hi) {
		char d[128];
		describe(st, i, d, sizeof d);
		return stmt_fail(st, "%s: %lld is out of range", d, (long long)v);
	}
	brook_be_put(b, (uint64_t)v, n);
	return store(st, i, b, (int32_t)n);
}

int cql_stmt_bind_int(cql_stmt *st, int i, int32_t v)
{
	return bind_integer(st, i, v, 4);
}

int cql_stmt_bind_bigint(cql_stmt *st, int i, int64_t v)
{
	return bind_integer(st, i, v, 8);
}

static int bind_real(cql_stmt *st, int i, double v, bool is_float)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	uint16_t id = t ? t->id : (is_float ? CQL_TYPE_FLOAT : CQL_TYPE_DOUBLE);
	uint8_t b[8];
	if (id == CQL_TYPE_FLOAT) {
		float f = (float)v;
		if (isfinite(v) && !isfinite(f)) {
			char d[128];
			describe(st, i, d, sizeof d);
			return stmt_fail(st, "%s: %g is out of range", d, v);
		}
		uint32_t u;
		memcpy(&u, &f, 4);
		brook_be_put(b, u, 4);
		return store(st, i, b, 4);
	}
	if (id == CQL_TYPE_DOUBLE) {
		uint64_t u;
		memcpy(&u, &v, 8);
		brook_be_put(b, u, 8);
		return store(st, i, b, 8);
	}
	return mismatch(st, i, is_float ? "a float" : "a double");
}

int cql_stmt_bind_float(cql_stmt *st, int i, float v)
{
	return bind_real(st, i, v, true);
}

int cql_stmt_bind_double(cql_stmt *st, int i, double v)
{
	return bind_real(st, i, v, false);
}

int cql_stmt_bind_text(cql_stmt *st, int i, const char *s)
{
	return cql_stmt_bind_textn(st, i, s, strlen(s));
}

int cql_stmt_bind_textn(cql_stmt *st, int i, const char *s, size_t n)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	if (t && t->id != CQL_TYPE_VARCHAR && t->id != CQL_TYPE_ASCII)
		return mismatch(st, i, "text");
	if (!t) { /* untyped: still refuse what no server would take as text */
		char verr[160];
		if (cql_value_validate(cql_type_native(CQL_TYPE_VARCHAR), (const uint8_t *)s, n,
				       verr, sizeof verr) != BROOK_OK)
			return stmt_fail(st, "value %d: %s", i, verr);
	}
	return store_checked(st, i, s, n);
}

int cql_stmt_bind_blob(cql_stmt *st, int i, const void *p, size_t n)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	if (t && t->id != CQL_TYPE_BLOB && t->id != CQL_TYPE_CUSTOM)
		return mismatch(st, i, "a blob");
	return store_checked(st, i, p, n);
}

int cql_stmt_bind_uuid(cql_stmt *st, int i, const uint8_t u[16])
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	if (t && t->id != CQL_TYPE_UUID && t->id != CQL_TYPE_TIMEUUID)
		return mismatch(st, i, "a uuid");
	return store_checked(st, i, u, 16);
}

int cql_stmt_bind_timestamp(cql_stmt *st, int i, int64_t ms)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	if (t && t->id != CQL_TYPE_TIMESTAMP)
		return mismatch(st, i, "a timestamp");
	uint8_t b[8];
	brook_be_put(b, (uint64_t)ms, 8);
	return store(st, i, b, 8);
}

int cql_stmt_bind_raw(cql_stmt *st, int i, const void *p, size_t n)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	return store_checked(st, i, p, n);
}

int cql_stmt_bind_from_text(cql_stmt *st, int i, const char *s)
{
	return cql_stmt_bind_from_textn(st, i, s, strlen(s));
}

int cql_stmt_bind_from_textn(cql_stmt *st, int i, const char *s, size_t n)
{
	if (check_index(st, i) != BROOK_OK)
		return BROOK_ERR;
	const cql_type *t = cql_stmt_type(st, i);
	if (!t)
		return stmt_fail(st, "value %d: binding from text needs a prepared statement "
				     "(the type comes from its bind marker)",
				 i);
	size_t a = 0, b = n;
	while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n' || s[a] == '\r'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' ||
			 s[b - 1] == '\r'))
		b--;
	if (b - a == 4 && !strncasecmp(s + a, "null", 4))
		return store(st, i, NULL, CQL_NULL);
	brook_buf tmp = BROOK_BUF_INIT;
	brook_buf_reserve(&tmp, n + 16); /* never a NULL buffer, even for '' */
	char verr[160];
	int rc;
	if (cql_value_from_text(t, s, n, &tmp, verr, sizeof verr) != BROOK_OK) {
		char d[128];
		describe(st, i, d, sizeof d);
		rc = stmt_fail(st, "%s: cannot read '%.*s': %s", d, (int)(n > 60 ? 60 : n), s,
			       verr);
	} else {
		rc = store(st, i, tmp.data, (int32_t)tmp.len);
	}
	brook_buf_release(&tmp);
	return rc;
}

void cql_stmt_set_consistency(cql_stmt *st, uint16_t cl)
{
	st->consistency = cl;
	st->has_consistency = true;
}

void cql_stmt_set_serial_consistency(cql_stmt *st, uint16_t cl)
{
	st->serial = cl;
}

void cql_stmt_set_page_size(cql_stmt *st, int32_t rows)
{
	st->page_size = rows;
}

void cql_stmt_set_timeout_ms(cql_stmt *st, int64_t ms)
{
	st->timeout_ms = ms;
}

void cql_stmt_set_timestamp(cql_stmt *st, int64_t us)
{
	st->timestamp = us;
	st->has_timestamp = true;
}

void cql_stmt_set_paging_state(cql_stmt *st, const void *state, size_t n)
{
	brook_buf_reset(&st->paging);
	st->has_paging = state != NULL && n > 0;
	if (st->has_paging)
		brook_buf_append(&st->paging, state, n);
}

bool cql_stmt_set_paging_state_from(cql_stmt *st, const cql_res *r)
{
	cql_bytes ps = cql_res_paging_state(r);
	if (ps.len < 0) {
		cql_stmt_set_paging_state(st, NULL, 0);
		return false;
	}
	/* an empty paging state is still a state: keep the flag */
	brook_buf_reset(&st->paging);
	if (ps.len)
		brook_buf_append(&st->paging, ps.ptr, (size_t)ps.len);
	st->has_paging = true;
	return true;
}

int cql_stmt_ready(const cql_stmt *st, char *err, size_t errlen)
{
	if (st->failed) {
		snprintf(err, errlen, "%s", st->err);
		return BROOK_ERR;
	}
	for (int i = 0; i < st->n; i++)
		if (!st->v[i].set) {
			char d[128];
			describe(st, i, d, sizeof d);
			snprintf(err, errlen,
				 "%s is not bound (bind null or unset explicitly to leave it out)",
				 d);
			return BROOK_ERR;
		}
	return BROOK_OK;
}

/* ---- batches -------------------------------------------------------------------------- */

cql_stmt_batch *cql_stmt_batch_new(uint8_t type)
{
	cql_stmt_batch *b = brook_calloc(1, sizeof *b);
	b->type = type;
	return b;
}

void cql_stmt_batch_free(cql_stmt_batch *b)
{
	if (!b)
		return;
	free(b->items);
	free(b->vals);
	brook_buf_release(&b->data);
	free(b);
}

/* Appends an item for prep (NULL: a query) with room for n values; NULL when full. */
static cql_batch_item *batch_item(cql_stmt_batch *b, cql_prepared *prep, int n,
				  cql_client_error *err)
{
	if (b->n >= 65535) {
		err->kind = CQL_CLIENT_E_USAGE;
		snprintf(err->msg, sizeof err->msg, "a batch holds at most 65535 statements");
		return NULL;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = brook_realloc(b->items, (size_t)b->cap * sizeof *b->items);
	}
	if (b->nvals + n > b->vals_cap) {
		while (b->nvals + n > b->vals_cap)
			b->vals_cap = b->vals_cap ? b->vals_cap * 2 : 64;
		b->vals = brook_realloc(b->vals, (size_t)b->vals_cap * sizeof *b->vals);
	}
	cql_batch_item *it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->prep = prep;
	it->first = b->nvals;
	it->n = n;
	return it;
}

int cql_stmt_batch_add(cql_stmt_batch *b, const cql_stmt *st, cql_client_error *err)
{
	memset(err, 0, sizeof *err);
	if (cql_stmt_ready(st, err->msg, sizeof err->msg) != BROOK_OK) {
		err->kind = CQL_CLIENT_E_USAGE;
		return BROOK_ERR;
	}
	cql_batch_item *it = batch_item(b, st->prep, st->n, err);
	if (!it)
		return BROOK_ERR;
	if (!st->prep) {
		it->query_off = b->data.len;
		it->query_len = strlen(st->query);
		brook_buf_append(&b->data, st->query, it->query_len);
	}
	for (int i = 0; i < st->n; i++) {
		struct cql_batch_val *v = &b->vals[b->nvals++];
		v->len = st->v[i].len;
		v->off = b->data.len;
		if (v->len > 0)
			brook_buf_append(&b->data, st->data.data + st->v[i].off, (size_t)v->len);
	}
	return BROOK_OK;
}

size_t cql_stmt_packed_len(const cql_stmt *st)
{
	size_t n = 0;
	for (int i = 0; i < st->n; i++)
		n += 4 + (st->v[i].len > 0 ? (size_t)st->v[i].len : 0);
	return n;
}

int cql_stmt_pack(const cql_stmt *st, void *dst, char *err, size_t errlen)
{
	if (cql_stmt_ready(st, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	uint8_t *o = dst;
	for (int i = 0; i < st->n; i++) {
		int32_t len = st->v[i].len;
		brook_be_put(o, (uint32_t)len, 4);
		o += 4;
		if (len > 0) {
			memcpy(o, st->data.data + st->v[i].off, (size_t)len);
			o += len;
		}
	}
	return BROOK_OK;
}

int cql_stmt_batch_add_packed(cql_stmt_batch *b, cql_prepared *p, int n, const void *packed,
			      size_t len, cql_client_error *err)
{
	memset(err, 0, sizeof *err);
	/* Check the list before adding anything. */
	const uint8_t *q = packed;
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		int32_t vl = at + 4 <= len ? (int32_t)(uint32_t)brook_be_get(q + at, 4) : INT32_MIN;
		if (vl < CQL_UNSET || (vl > 0 && (size_t)vl > len - at - 4)) {
			err->kind = CQL_CLIENT_E_USAGE;
			snprintf(err->msg, sizeof err->msg, "packed values: value %d does not fit "
				 "in %zu bytes", i, len);
			return BROOK_ERR;
		}
		at += 4 + (vl > 0 ? (size_t)vl : 0);
	}
	if (at != len || n < 0) {
		err->kind = CQL_CLIENT_E_USAGE;
		snprintf(err->msg, sizeof err->msg, "packed values: %zu bytes for %d values", len,
			 n);
		return BROOK_ERR;
	}
	cql_batch_item *it = batch_item(b, p, 0, err);
	if (!it)
		return BROOK_ERR;
	it->n = n;
	it->packed = true;
	it->packed_off = b->data.len;
	it->packed_len = len;
	brook_buf_append(&b->data, packed, len);
	return BROOK_OK;
}

int cql_stmt_batch_count(const cql_stmt_batch *b)
{
	return b->n;
}

void cql_stmt_batch_clear(cql_stmt_batch *b)
{
	b->n = 0;
	b->nvals = 0;
	brook_buf_reset(&b->data);
}

void cql_stmt_batch_set_consistency(cql_stmt_batch *b, uint16_t cl)
{
	b->consistency = cl;
	b->has_consistency = true;
}

void cql_stmt_batch_set_serial_consistency(cql_stmt_batch *b, uint16_t cl)
{
	b->serial = cl;
}

void cql_stmt_batch_set_timeout_ms(cql_stmt_batch *b, int64_t ms)
{
	b->timeout_ms = ms;
}

void cql_stmt_batch_set_timestamp(cql_stmt_batch *b, int64_t us)
{
	b->timestamp = us;
	b->has_timestamp = true;
}
