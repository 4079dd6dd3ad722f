/*
 * sink.c — the CQL sink of a stream job (sink.h has the write protocol).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/uuid.h"
#include "stream/sink.h"

#define COMP "stream"
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

struct stream_sink {
	const stream_job *job;
	cql_client *client;
	cql_prepared *insert;
	cql_stmt *st; /* reused for binding */
	stream_sink_metrics m;

	/* the write round in progress */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int in_flight;
};

/* One batch of rows and what became of it. */
enum { U_PENDING, U_OK, U_TRANSIENT, U_DATA };

typedef struct unit {
	stream_sink *s;
	cql_stmt_batch *b;
	size_t *rows; /* indexes into the caller's rows */
	size_t n;
	int status;
	char msg[512];
} unit;

static void count(brook_metric *m, size_t n)
{
	if (m)
		brook_metric_add(m, (double)n);
}

/* ---- binding ------------------------------------------------------------------------- */

int stream_sink_bind(cql_stmt *st, int i, const expr_value *v, char *err, size_t errlen)
{
	const cql_type *t = cql_stmt_type(st, i);
	int rc;
	if (v->type == EXPR_NULL)
		return cql_stmt_bind_null(st, i);
	uint16_t id = t ? t->id : CQL_TYPE_VARCHAR;
	switch (id) {
	case CQL_TYPE_VARCHAR:
	case CQL_TYPE_ASCII:
		if (v->type == EXPR_STRING) {
			rc = cql_stmt_bind_textn(st, i, v->u.s.p, v->u.s.n);
		} else {
			brook_buf b;
			brook_buf_init(&b, 64);
			expr_value_to_text(v, &b);
			rc = cql_stmt_bind_textn(st, i, b.data ? (const char *)b.data : "", b.len);
			brook_buf_release(&b);
		}
		break;
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID:
		if (v->type == EXPR_UUID) {
			rc = cql_stmt_bind_uuid(st, i, v->u.uuid);
		} else if (v->type == EXPR_STRING) {
			brook_uuid u;
			if (brook_uuid_parse(v->u.s.p, v->u.s.n, &u) != BROOK_OK) {
				snprintf(err, errlen, "'%.*s' is not a uuid",
					 (int)(v->u.s.n > 40 ? 40 : v->u.s.n), v->u.s.p);
				return BROOK_ERR;
			}
			rc = cql_stmt_bind_uuid(st, i, u.b);
		} else
			goto mismatch;
		break;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_INT:
	case CQL_TYPE_SMALLINT:
	case CQL_TYPE_TINYINT:
	case CQL_TYPE_VARINT:
	case CQL_TYPE_COUNTER:
		if (v->type != EXPR_INT)
			goto mismatch;
		rc = cql_stmt_bind_bigint(st, i, v->u.i);
		break;
	case CQL_TYPE_DOUBLE:
	case CQL_TYPE_FLOAT:
		if (v->type == EXPR_DOUBLE)
			rc = cql_stmt_bind_double(st, i, v->u.d);
		else if (v->type == EXPR_INT)
			rc = cql_stmt_bind_double(st, i, (double)v->u.i);
		else
			goto mismatch;
		break;
	case CQL_TYPE_BOOLEAN:
		if (v->type != EXPR_BOOL)
			goto mismatch;
		rc = cql_stmt_bind_bool(st, i, v->u.b);
		break;
	case CQL_TYPE_TIMESTAMP:
		if (v->type == EXPR_TIMESTAMP)
			rc = cql_stmt_bind_timestamp(st, i, v->u.ts_ms);
		else if (v->type == EXPR_INT)
			rc = cql_stmt_bind_timestamp(st, i, v->u.i);
		else
			goto mismatch;
		break;
	default: {
		/* Anything else from its text form (dates, inets, decimals, ...). */
		brook_buf b;
		brook_buf_init(&b, 64);
		expr_value_to_text(v, &b);
		rc = cql_stmt_bind_from_textn(st, i, b.data ? (const char *)b.data : "", b.len);
		brook_buf_release(&b);
	}
	}
	if (rc != BROOK_OK) {
		const char *e = cql_stmt_error(st);
		snprintf(err, errlen, "%s", e ? e : "value does not fit the column");
		return BROOK_ERR;
	}
	return BROOK_OK;
mismatch:;
	brook_buf tn;
	brook_buf_init(&tn, 32);
	if (t)
		cql_type_print(&tn, t);
	snprintf(err, errlen, "a %s value does not fit a %.*s column", expr_type_name(v->type),
		 (int)tn.len, tn.data ? (const char *)tn.data : "?");
	brook_buf_release(&tn);
	return BROOK_ERR;
}

/* ---- open / close ------------------------------------------------------------------ */

static int run_ddl(cql_client *c, brook_buf *q, char *err, size_t errlen)
{
	cql_client_error e;
	brook_buf_putc(q, 0);
	if (cql_client_query(c, (const char *)q->data, NULL, &e) != BROOK_OK) {
		snprintf(err, errlen, "%s: %s", (const char *)q->data, e.msg);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

stream_sink *stream_sink_open(const stream_job *j, const cql_client_opts *o,
			      const stream_sink_metrics *m, char *err, size_t errlen)
{
	cql_client_error e;
	cql_client *c = cql_client_new(o, &e);
	if (!c) {
		snprintf(err, errlen, "%s", e.msg);
		return NULL;
	}
	brook_buf q;
	brook_buf_init(&q, 512);
	if (j->create) {
		stream_job_create_keyspace_cql(j, &q);
		if (run_ddl(c, &q, err, errlen) != BROOK_OK)
			goto fail;
		brook_buf_reset(&q);
		stream_job_create_table_cql(j, &q);
		if (run_ddl(c, &q, err, errlen) != BROOK_OK)
			goto fail;
		brook_buf_reset(&q);
	}
	stream_job_insert_cql(j, &q);
	brook_buf_putc(&q, 0);
	cql_prepared *p;
	if (cql_client_prepare(c, (const char *)q.data, &p, &e) != BROOK_OK) {
		snprintf(err, errlen, "preparing %s: %s", (const char *)q.data, e.msg);
		goto fail;
	}
	brook_buf_release(&q);
	stream_sink *s = brook_calloc(1, sizeof *s);
	s->job = j;
	if (m)
		s->m = *m;
	s->client = c;
	s->insert = p;
	s->st = cql_stmt_new_prepared(p);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	return s;
fail:
	brook_buf_release(&q);
	cql_client_free(c);
	return NULL;
}

void stream_sink_close(stream_sink *s)
{
	if (!s)
		return;
	cql_stmt_free(s->st);
	cql_client_free(s->client);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/* ---- keys ---------------------------------------------------------------------------- */

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t hash_value(uint64_t h, const expr_value *v)
{
	uint8_t t = (uint8_t)v->type;
	h = hash_bytes(h, &t, 1);
	switch (v->type) {
	case EXPR_STRING:
		return hash_bytes(h, v->u.s.p, v->u.s.n);
	case EXPR_UUID:
		return hash_bytes(h, v->u.uuid, 16);
	case EXPR_INT:
		return hash_bytes(h, &v->u.i, sizeof v->u.i);
	case EXPR_TIMESTAMP:
		return hash_bytes(h, &v->u.ts_ms, sizeof v->u.ts_ms);
	case EXPR_DOUBLE:
		return hash_bytes(h, &v->u.d, sizeof v->u.d);
	case EXPR_BOOL:
		return hash_bytes(h, &v->u.b, 1);
	default:
		return h;
	}
}

static bool value_eq(const expr_value *a, const expr_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case EXPR_STRING:
		return a->u.s.n == b->u.s.n && !memcmp(a->u.s.p, b->u.s.p, a->u.s.n);
	case EXPR_UUID:
		return !memcmp(a->u.uuid, b->u.uuid, 16);
	case EXPR_INT:
		return a->u.i == b->u.i;
	case EXPR_TIMESTAMP:
		return a->u.ts_ms == b->u.ts_ms;
	case EXPR_DOUBLE:
		return a->u.d == b->u.d;
	case EXPR_BOOL:
		return a->u.b == b->u.b;
	default:
		return true;
	}
}

typedef struct keyed {
	uint64_t key, part;
	size_t row;
} keyed;

static int cmp_key(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_part(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static bool same_pk(const stream_job *j, const stream_row *a, const stream_row *b)
{
	for (size_t i = 0; i < j->n_pk; i++)
		if (!value_eq(&a->vals[j->pk[i]], &b->vals[j->pk[i]]))
			return false;
	return true;
}

/* ---- running units ----------------------------------------------------------------- */

static bool transient(const cql_client_error *e)
{
	if (e->kind != CQL_CLIENT_E_SERVER)
		return e->kind != CQL_CLIENT_E_USAGE;
	switch (e->code) {
	case 0x1000: /* Unavailable */
	case 0x1001: /* Overloaded */
	case 0x1002: /* Is_bootstrapping */
	case 0x1003: /* Truncate_error */
	case 0x1100: /* Write_timeout */
	case 0x1200: /* Read_timeout */
	case 0x2100: /* Unauthorized: an operator must fix grants; never drop rows for it */
		return true;
	default:
		return false;
	}
}

static void unit_done(void *arg, cql_res *res, const cql_client_error *e)
{
	unit *u = arg;
	stream_sink *s = u->s;
	cql_res_free(res);
	pthread_mutex_lock(&s->mu);
	if (!e) {
		u->status = U_OK;
	} else {
		u->status = transient(e) ? U_TRANSIENT : U_DATA;
		snprintf(u->msg, sizeof u->msg, "%s", e->msg);
	}
	s->in_flight--;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

/* Submits every pending unit (at most concurrency in flight) and waits for them all. */
static void run_units(stream_sink *s, unit *units, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unit *u = &units[i];
		if (u->status != U_PENDING)
			continue;
		pthread_mutex_lock(&s->mu);
		while (s->in_flight >= s->job->concurrency)
			pthread_cond_wait(&s->cond, &s->mu);
		s->in_flight++;
		pthread_mutex_unlock(&s->mu);
		cql_client_error e;
		count(s->m.batches, 1);
		if (cql_client_execute_batch_async(s->client, u->b, unit_done, u, &e) != BROOK_OK) {
			pthread_mutex_lock(&s->mu);
			s->in_flight--;
			u->status = transient(&e) ? U_TRANSIENT : U_DATA;
			snprintf(u->msg, sizeof u->msg, "%s", e.msg);
			pthread_mutex_unlock(&s->mu);
		}
	}
	pthread_mutex_lock(&s->mu);
	while (s->in_flight > 0)
		pthread_cond_wait(&s->cond, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* Binds vals (job->n_cols of them) into st; BROOK_ERR with the reason in why. */
static int bind_row(cql_stmt *st, const stream_job *j, const expr_value *vals, char *why,
		    size_t whylen)
{
	char e[512];
	cql_stmt_clear(st);
	for (size_t c = 0; c < j->n_cols; c++)
		if (stream_sink_bind(st, (int)c, &vals[c], e, sizeof e) != BROOK_OK) {
			snprintf(why, whylen, "column %s: %s", j->cols[c].name, e);
			return BROOK_ERR;
		}
	return BROOK_OK;
}

cql_stmt *stream_sink_stmt(const stream_sink *s)
{
	return cql_stmt_new_prepared(s->insert);
}

int stream_sink_pack(cql_stmt *st, const stream_job *j, const expr_value *vals, brook_arena *a,
		     stream_row *row, char *err, size_t errlen)
{
	if (bind_row(st, j, vals, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	size_t n = cql_stmt_packed_len(st);
	void *p = brook_arena_alloc(a, n ? n : 1);
	if (cql_stmt_pack(st, p, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	row->packed = p;
	row->packed_len = n;
	return BROOK_OK;
}

/* Adds row r to b (bound here unless packed already); on failure r gets its reason. */
static bool add_row(stream_sink *s, cql_stmt_batch *b, stream_row *r)
{
	const stream_job *j = s->job;
	cql_client_error e;
	int rc;
	if (r->packed) {
		rc = cql_stmt_batch_add_packed(b, s->insert, (int)j->n_cols, r->packed,
					       r->packed_len, &e);
	} else {
		if (bind_row(s->st, j, r->vals, e.msg, sizeof e.msg) != BROOK_OK) {
			r->reason = brook_strdup(e.msg);
			return false;
		}
		rc = cql_stmt_batch_add(b, s->st, &e);
	}
	if (rc != BROOK_OK) {
		r->reason = brook_strdup(e.msg);
		return false;
	}
	return true;
}

static void unit_free(unit *u)
{
	cql_stmt_batch_free(u->b);
	free(u->rows);
}

static bool stopped(const atomic_bool *stop)
{
	return stop && atomic_load(stop);
}

int stream_sink_write(stream_sink *s, stream_row *rows, size_t n, const atomic_bool *stop)
{
	const stream_job *j = s->job;
	if (!n)
		return BROOK_OK;
	keyed *k = brook_calloc(n, sizeof *k);
	for (size_t i = 0; i < n; i++) {
		uint64_t h = UINT64_C(0xcbf29ce484222325);
		for (size_t p = 0; p < j->n_pk; p++) {
			h = hash_value(h, &rows[i].vals[j->pk[p]]);
			if (p + 1 == j->n_partition)
				k[i].part = h;
		}
		k[i].key = h;
		k[i].row = i;
		rows[i].ok = false;
		rows[i].reason = NULL;
	}
	/* 1. Supersede repeated primary keys (the last occurrence wins). */
	qsort(k, n, sizeof *k, cmp_key);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		bool later = false;
		for (size_t q = i + 1; q < n && k[q].key == k[i].key && !later; q++)
			later = same_pk(j, &rows[k[i].row], &rows[k[q].row]);
		if (later)
			rows[k[i].row].ok = true;
		else
			k[m++] = k[i];
	}
	/* 2. Partition order, cut into batches. */
	qsort(k, m, sizeof *k, cmp_part);
	size_t per = (size_t)j->batch_rows, cap = m + 1;
	unit *units = brook_calloc(cap, sizeof *units);
	size_t nu = 0;
	for (size_t i = 0; i < m;) {
		unit *u = &units[nu];
		u->s = s;
		u->b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
		u->rows = brook_calloc(per, sizeof *u->rows);
		while (i < m && u->n < per) {
			/* A partition that does not fit whole starts the next batch. */
			if (u->n && k[i].part != k[i - 1].part) {
				size_t q = i;
				while (q < m && k[q].part == k[i].part)
					q++;
				if (u->n + (q - i) > per)
					break;
			}
			if (add_row(s, u->b, &rows[k[i].row]))
				u->rows[u->n++] = k[i].row;
			i++;
		}
		if (u->n) {
			nu++;
		} else {
			unit_free(u);
			memset(u, 0, sizeof *u);
		}
	}
	free(k);

	/* 3 + 4. Run; isolate rows of batches failing on data; retry transient failures. */
	int64_t backoff = BACKOFF_FIRST_MS;
	int rc = BROOK_OK;
	for (;;) {
		run_units(s, units, nu);
		size_t transients = 0, datas = 0;
		for (size_t i = 0; i < nu; i++) {
			if (units[i].status == U_TRANSIENT)
				transients++;
			else if (units[i].status == U_DATA)
				datas++;
		}
		if (datas) {
			/* Split data-failed batches of several rows into one-row units. */
			size_t extra = 0;
			for (size_t i = 0; i < nu; i++)
				if (units[i].status == U_DATA && units[i].n > 1)
					extra += units[i].n;
			if (extra) {
				units = brook_realloc(units, (nu + extra) * sizeof *units);
				memset(units + nu, 0, extra * sizeof *units);
				size_t w = nu;
				for (size_t i = 0; i < nu; i++) {
					unit *u = &units[i];
					if (u->status != U_DATA || u->n < 2)
						continue;
					for (size_t r = 0; r < u->n; r++) {
						unit *v = &units[w];
						v->s = s;
						v->b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
						v->rows = brook_calloc(1, sizeof *v->rows);
						if (add_row(s, v->b, &rows[u->rows[r]])) {
							v->rows[v->n++] = u->rows[r];
							w++;
						} else {
							unit_free(v);
							memset(v, 0, sizeof *v);
						}
					}
					count(s->m.rows_isolated, u->n);
					u->status = U_OK; /* its rows live on in the new units */
					u->n = 0;
				}
				nu = w;
				continue; /* run the new units */
			}
			/* One-row data failures: final, with the server's reason. */
			for (size_t i = 0; i < nu; i++)
				if (units[i].status == U_DATA) {
					stream_row *r = &rows[units[i].rows[0]];
					if (!r->reason)
						r->reason = brook_strdup(units[i].msg);
					units[i].status = U_OK;
					units[i].n = 0;
				}
		}
		if (!transients)
			break;
		if (stopped(stop)) {
			rc = BROOK_AGAIN;
			break;
		}
		const char *why = "";
		for (size_t i = 0; i < nu; i++)
			if (units[i].status == U_TRANSIENT) {
				why = units[i].msg;
				units[i].status = U_PENDING;
			}
		count(s->m.retries, transients);
		brook_warn(COMP, "job %s: %zu batch(es) not written (%s); retrying in %lld ms", j->name,
			   transients, why, (long long)backoff);
		for (int64_t slept = 0; slept < backoff && !stopped(stop); slept += 50)
			brook_sleep_ms(50);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	if (rc == BROOK_OK)
		for (size_t i = 0; i < nu; i++)
			for (size_t r = 0; r < units[i].n; r++)
				rows[units[i].rows[r]].ok = true;
	for (size_t i = 0; i < nu; i++)
		unit_free(&units[i]);
	free(units);
	return rc;
}
