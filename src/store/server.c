/*
 * server.c — the CQL store server (see server.h).
 *
 * THREADS
 *   loop     libuv: reads frames (core/net.h, unordered responses), decodes, runs each
 *            statement to completion (parse, execute against the engines: memtable
 *            inserts and reads), writes answers. Statements never interleave, which
 *            makes read-modify-write (collection updates) and DDL simple and safe.
 *   syncer   waits for the commit log (store_engine_sync) of the writes the loop
 *            applied, then hands them back (synced_async) to be answered. While it is
 *            in fdatasync the loop goes on applying, so the next sync covers everything
 *            applied meanwhile: group commit without a timer.
 *   http     libmicrohttpd's thread for /metrics (reads metric atomics only).
 *   engines  each table's engine may flush and compact on its own threads.
 *
 * CONNECTION STATES (a session per connection)
 *   new       only OPTIONS and STARTUP are accepted (others: protocol error 0x000A)
 *   auth      after STARTUP when store.auth=password: AUTHENTICATE was sent; only
 *             AUTH_RESPONSE is accepted; good credentials → AUTH_SUCCESS → ready; bad
 *             ones → ERROR 0x0100 (the client may try again)
 *   ready     every request; REGISTER adds the session to the schema event list
 * Frames of any other protocol version get ERROR 0x000A with the text the drivers match,
 * then the connection closes (the drivers reconnect with version 4). A frame over
 * store.max_frame_bytes gets ERROR 0x000A and the connection closes: its body is never
 * read. A malformed body gets ERROR 0x000A on its stream and the connection goes on.
 *
 * PREPARED STATEMENTS: a cache shared by every connection, keyed by the MD5 of the
 * query text and the keyspace it was prepared in (as Cassandra), holding the parsed
 * statement. At most store.max_prepared entries, evicting the oldest; any DROP empties
 * it. An unknown id answers ERROR 0x2500 Unprepared and drivers re-prepare.
 */
#include "store/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <uv.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/metrics.h"
#include "core/net.h"
#include "core/timeutil.h"
#include "cql/compress.h"
#include "cql/frame.h"
#include "cql/msg.h"
#include "store/cql_parse.h"
#include "store/exec.h"

#define COMP "store"
#define AUTHENTICATOR "org.apache.cassandra.auth.PasswordAuthenticator"

const brook_cfg_key store_config_keys[] = {
	{"store.listen", BROOK_CFG_STR, "127.0.0.1:9042",
	 "CQL native protocol listener (HOST:PORT; port 0 picks one)", NULL},
	{"store.cluster_name", BROOK_CFG_STR, "brook", "cluster name shown in system.local",
	 NULL},
	{"store.auth", BROOK_CFG_STR, "none",
	 "client authentication: none, or password (PasswordAuthenticator, SASL PLAIN)",
	 "none|password"},
	{"store.username", BROOK_CFG_STR, "cassandra", "the user accepted when store.auth=password",
	 NULL},
	{"store.password", BROOK_CFG_STR, "cassandra", "that user's password", NULL},
	{"store.max_frame_bytes", BROOK_CFG_SIZE, "16MiB",
	 "largest frame body accepted; larger frames get a protocol error and the connection "
	 "closes (the protocol allows 256MB)", NULL},
	{"store.max_inflight", BROOK_CFG_INT, "1024",
	 "requests one connection may have outstanding before the server stops reading it",
	 NULL},
	{"store.max_prepared", BROOK_CFG_INT, "10000", "prepared statements kept (oldest evicted)",
	 NULL},
	{"store.memtable_bytes", BROOK_CFG_SIZE, "64MiB",
	 "per table: the memtable is flushed to an sstable when it holds more", NULL},
	{"store.commitlog_sync", BROOK_CFG_STR, "batch",
	 "batch: fdatasync before acknowledging a write; periodic: write before acknowledging, "
	 "fdatasync every store.commitlog_sync_period", "batch|periodic"},
	{"store.commitlog_sync_window", BROOK_CFG_DURATION, "0ms",
	 "batch mode: wait this long for more writes before each fdatasync", NULL},
	{"store.commitlog_sync_period", BROOK_CFG_DURATION, "10s",
	 "periodic mode: fdatasync at least this often", NULL},
	{"store.compaction_threshold", BROOK_CFG_INT, "4",
	 "per table: sstables of similar size that trigger their compaction (size-tiered); "
	 "0: never",
	 NULL},
	{"store.metrics_listen", BROOK_CFG_STR, "127.0.0.1:9309",
	 "Prometheus /metrics listener (HOST:PORT; port 0 picks one; empty: off)", NULL},
	{NULL, 0, NULL, NULL, NULL},
};

/* ---- types -------------------------------------------------------------------------- */

typedef struct store_session store_session;

struct store_session {
	store_server *s;
	brook_conn *conn;
	store_session *prev, *next;
	bool started;
	bool authed;
	bool lz4;
	bool events;
	char *keyspace;
};

typedef struct prepared prepared;
struct prepared {
	uint8_t id[16];
	char *keyspace; /* the session's keyspace at PREPARE (unqualified names) */
	cql_stmt *stmt;
	brook_arena arena;
	prepared *hnext;         /* hash chain */
	prepared *older, *newer; /* age list */
};

#define PREP_BUCKETS 4096

/* A write waiting for its commit log sync. */
typedef struct sync_job sync_job;
struct sync_job {
	sync_job *next;
	brook_slot *slot;
	brook_buf frame; /* the answer, sent once synced */
	int16_t stream;
	bool lz4;
	store_sync *syncs;
	size_t n;
	int rc;
	const char *op;
	int64_t t0_ns;
};

struct store_server {
	const brook_config *cfg;
	char *dir;
	char host[256];
	int port;
	char listen_addr[300];
	size_t max_frame;
	bool auth;
	const char *user, *password;
	uv_loop_t loop;
	brook_net *net;
	uv_async_t stop_async, synced_async;
	uv_timer_t gauge_timer;
	bool stopping;
	store_db *db;
	store_node_info node;
	char token[32];
	store_session *sessions;
	/* prepared statements */
	prepared *buckets[PREP_BUCKETS];
	prepared *oldest, *newest;
	size_t n_prepared, max_prepared;
	/* syncer */
	pthread_t syncer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sync_job *jobs_in, *jobs_done;
	bool syncer_quit;
	size_t jobs_pending; /* loop thread only */
	/* metrics */
	brook_metrics *metrics;
	brook_httpd *http;
	int metrics_port;
	brook_metric_family *m_requests, *m_latency, *m_errors;
	brook_metric *m_rows_read, *m_rows_written, *m_conns, *m_memtable, *m_sstables,
		*m_sstable_bytes, *m_flushes, *m_compactions, *m_segments, *m_tables,
		*m_prepared;
};

/* ---- answers ------------------------------------------------------------------------ */

/* Completes slot with an ERROR frame (compressed when the session negotiated lz4). */
static void answer_error(brook_slot *slot, int16_t stream, bool lz4, int32_t code, const char *msg)
{
	brook_buf b = BROOK_BUF_INIT;
	size_t pos = cql_frame_begin(&b, CQL_PROTOCOL_V4 | CQL_VERSION_RESPONSE, 0, stream,
				     CQL_OP_ERROR);
	cql_error_write(&b, code, msg);
	cql_frame_end(&b, pos, lz4);
	brook_slot_complete(slot, &b);
}

static void record(store_server *s, const char *op, int64_t t0_ns, bool error)
{
	const char *lv[] = {op, NULL};
	brook_metric_inc(brook_metrics_series(s->m_requests, lv));
	brook_metric_observe(brook_metrics_series(s->m_latency, lv),
			     (double)(brook_mono_ns() - t0_ns) / 1e9);
	if (error)
		brook_metric_inc(brook_metrics_series(s->m_errors, lv));
}

/* ---- sessions ----------------------------------------------------------------------- */

static void session_free(void *p)
{
	store_session *ss = p;
	store_server *s = ss->s;
	if (ss->prev)
		ss->prev->next = ss->next;
	else if (s->sessions == ss)
		s->sessions = ss->next;
	if (ss->next)
		ss->next->prev = ss->prev;
	free(ss->keyspace);
	free(ss);
}

static store_session *session_of(store_server *s, brook_conn *conn)
{
	store_session *ss = brook_conn_user(conn);
	if (ss)
		return ss;
	ss = brook_calloc(1, sizeof *ss);
	ss->s = s;
	ss->conn = conn;
	ss->next = s->sessions;
	if (s->sessions)
		s->sessions->prev = ss;
	s->sessions = ss;
	brook_conn_set_user(conn, ss, session_free);
	return ss;
}

/* EVENT SCHEMA_CHANGE to every registered session. */
static void push_schema_event(store_server *s, const store_exec_out *out)
{
	for (store_session *ss = s->sessions; ss; ss = ss->next) {
		if (!ss->events || !brook_conn_alive(ss->conn))
			continue;
		brook_buf b = BROOK_BUF_INIT;
		size_t pos = cql_frame_begin(&b, CQL_PROTOCOL_V4 | CQL_VERSION_RESPONSE, 0, -1,
					     CQL_OP_EVENT);
		cql_wr_cstring(&b, "SCHEMA_CHANGE");
		cql_schema_change c = {0};
		c.change_type = cql_str_from(out->change);
		c.target = cql_str_from(out->target);
		c.keyspace = cql_str_from(out->ks);
		if (out->table)
			c.name = cql_str_from(out->table);
		cql_schema_change_write(&b, &c);
		cql_frame_end(&b, pos, ss->lz4);
		brook_conn_push(ss->conn, &b);
	}
}

/* ---- prepared statements ------------------------------------------------------------ */

static void prepared_id(const char *ks, const char *query, size_t qlen, uint8_t id[16])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 16;
	EVP_DigestInit_ex(md, EVP_md5(), NULL);
	if (ks)
		EVP_DigestUpdate(md, ks, strlen(ks));
	EVP_DigestUpdate(md, "\n", 1);
	EVP_DigestUpdate(md, query, qlen);
	EVP_DigestFinal_ex(md, id, &n);
	EVP_MD_CTX_free(md);
}

static size_t bucket_of(const uint8_t *id)
{
	return ((size_t)id[0] << 8 | id[1]) % PREP_BUCKETS;
}

static prepared *prepared_get(store_server *s, const uint8_t *id, size_t len)
{
	if (len != 16)
		return NULL;
	for (prepared *p = s->buckets[bucket_of(id)]; p; p = p->hnext)
		if (memcmp(p->id, id, 16) == 0)
			return p;
	return NULL;
}

static void prepared_remove(store_server *s, prepared *p)
{
	prepared **pp = &s->buckets[bucket_of(p->id)];
	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	if (p->older)
		p->older->newer = p->newer;
	else
		s->oldest = p->newer;
	if (p->newer)
		p->newer->older = p->older;
	else
		s->newest = p->older;
	s->n_prepared--;
	brook_arena_release(&p->arena);
	free(p->keyspace);
	free(p);
}

static void prepared_clear(store_server *s)
{
	while (s->oldest)
		prepared_remove(s, s->oldest);
}

/* Parses query into a new cache entry; NULL with the syntax error in err. */
static prepared *prepared_add(store_server *s, const uint8_t id[16], const char *ks,
			      const char *query, size_t qlen, char *err, size_t errlen)
{
	prepared *p = brook_calloc(1, sizeof *p);
	memcpy(p->id, id, 16);
	if (cql_parse(&p->arena, query, qlen, &p->stmt, err, errlen) != BROOK_OK) {
		brook_arena_release(&p->arena);
		free(p);
		return NULL;
	}
	p->keyspace = ks ? brook_strdup(ks) : NULL;
	while (s->n_prepared >= s->max_prepared && s->oldest)
		prepared_remove(s, s->oldest);
	size_t b = bucket_of(id);
	p->hnext = s->buckets[b];
	s->buckets[b] = p;
	p->older = s->newest;
	if (s->newest)
		s->newest->newer = p;
	else
		s->oldest = p;
	s->newest = p;
	s->n_prepared++;
	return p;
}

/* ---- the syncer --------------------------------------------------------------------- */

static void *syncer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "store-sync");
	store_server *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->jobs_in && !s->syncer_quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->jobs_in && s->syncer_quit)
			break;
		sync_job *jobs = s->jobs_in;
		s->jobs_in = NULL;
		pthread_mutex_unlock(&s->mu);
		/* One sync per engine, for the highest lsn asked: it covers the others. */
		for (sync_job *j = jobs; j; j = j->next) {
			j->rc = BROOK_OK;
			for (size_t i = 0; i < j->n; i++)
				if (store_engine_sync(j->syncs[i].table->engine, j->syncs[i].lsn) !=
				    BROOK_OK)
					j->rc = BROOK_ERR;
		}
		pthread_mutex_lock(&s->mu);
		sync_job *last = jobs;
		while (last->next)
			last = last->next;
		last->next = s->jobs_done;
		s->jobs_done = jobs;
		uv_async_send(&s->synced_async);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void finish_job(store_server *s, sync_job *j)
{
	if (j->rc != BROOK_OK) {
		brook_buf_release(&j->frame);
		answer_error(j->slot, j->stream, j->lz4, CQL_ERR_SERVER,
			     "the commit log could not be synced to disk; the write may not be "
			     "durable");
		record(s, j->op, j->t0_ns, true);
	} else {
		brook_slot_complete(j->slot, &j->frame);
		record(s, j->op, j->t0_ns, false);
	}
	for (size_t i = 0; i < j->n; i++)
		store_table_unref(j->syncs[i].table);
	free(j->syncs);
	free(j);
	s->jobs_pending--;
}

static void on_synced(uv_async_t *a)
{
	store_server *s = a->data;
	pthread_mutex_lock(&s->mu);
	sync_job *jobs = s->jobs_done;
	s->jobs_done = NULL;
	pthread_mutex_unlock(&s->mu);
	/* The list is newest round first; order does not matter (stream ids). */
	while (jobs) {
		sync_job *next = jobs->next;
		finish_job(s, jobs);
		jobs = next;
	}
}

/* ---- requests ----------------------------------------------------------------------- */

typedef struct req {
	store_server *s;
	store_session *ss;
	brook_slot *slot;
	cql_frame_hdr hdr;
	brook_arena arena;
	int64_t t0_ns;
	const char *op;
} req;

static void req_error(req *r, int32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void req_error(req *r, int32_t code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	answer_error(r->slot, r->hdr.stream, r->ss->lz4, code, msg);
	record(r->s, r->op, r->t0_ns, true);
}

/* Sends the frame built in b (starting at pos), now or after the syncs. */
static void req_answer(req *r, brook_buf *b, size_t pos, store_exec_out *out, bool compress)
{
	store_server *s = r->s;
	uint8_t *hdr = (uint8_t *)b->data + pos;
	hdr[4] = out->opcode;
	cql_frame_end(b, pos, compress && r->ss->lz4);
	brook_metric_add(s->m_rows_read, (double)out->reads);
	brook_metric_add(s->m_rows_written, (double)out->writes);
	if (out->keyspace) {
		free(r->ss->keyspace);
		r->ss->keyspace = brook_strdup(out->keyspace);
	}
	if (out->n_syncs && out->opcode == CQL_OP_RESULT) {
		sync_job *j = brook_calloc(1, sizeof *j);
		j->slot = r->slot;
		j->frame = *b;
		*b = (brook_buf)BROOK_BUF_INIT;
		j->stream = r->hdr.stream;
		j->lz4 = r->ss->lz4;
		j->syncs = brook_malloc(out->n_syncs * sizeof *j->syncs);
		memcpy(j->syncs, out->syncs, out->n_syncs * sizeof *j->syncs);
		j->n = out->n_syncs;
		j->op = r->op;
		j->t0_ns = r->t0_ns;
		s->jobs_pending++;
		pthread_mutex_lock(&s->mu);
		j->next = s->jobs_in;
		s->jobs_in = j;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	} else {
		for (size_t i = 0; i < out->n_syncs; i++)
			store_table_unref(out->syncs[i].table);
		brook_slot_complete(r->slot, b);
		record(s, r->op, r->t0_ns, out->opcode == CQL_OP_ERROR);
	}
	if (out->schema_changed) {
		if (strcmp(out->change, "DROPPED") == 0)
			prepared_clear(s);
		push_schema_event(s, out);
	}
}

static void exec_ctx_init(req *r, store_exec_ctx *x, const cql_query_params *p)
{
	memset(x, 0, sizeof *x);
	x->db = r->s->db;
	x->node = &r->s->node;
	x->keyspace = r->ss->keyspace;
	x->arena = &r->arena;
	x->timestamp = STORE_NO_TS;
	if (!p)
		return;
	x->values = p->values;
	x->n_values = p->n_values;
	x->names = (p->flags & CQL_QF_NAMES) ? p->names : NULL;
	x->page_size = (p->flags & CQL_QF_PAGE_SIZE) ? p->page_size : 0;
	x->paging_state = (p->flags & CQL_QF_PAGING_STATE) ? p->paging_state : CQL_BYTES_NULL;
	if (p->flags & CQL_QF_DEFAULT_TIMESTAMP)
		x->timestamp = p->timestamp;
	x->skip_metadata = (p->flags & CQL_QF_SKIP_METADATA) != 0;
}

/* Runs a statement with the frame header already in b. */
static void run_stmt(req *r, store_exec_ctx *x, const cql_stmt *st, brook_buf *b, size_t pos)
{
	store_exec_out out;
	store_exec_out_init(&out, b);
	store_exec(x, st, &out);
	req_answer(r, b, pos, &out, true);
}

/* Query strings are [long string]s: UTF-8. A protocol error otherwise, as Cassandra. */
static bool query_text_ok(req *r, cql_str q, brook_buf *b)
{
	char err[256];
	if (cql_value_validate(cql_type_native(CQL_TYPE_VARCHAR), (const uint8_t *)q.ptr, q.len,
			       err, sizeof err) == BROOK_OK)
		return true;
	brook_buf_release(b);
	req_error(r, CQL_ERR_PROTOCOL, "Invalid query string: %s", err);
	return false;
}

static void handle_query(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	cql_stmt *st;
	char err[1024];
	if (!query_text_ok(r, m->u.query.query, b))
		return;
	if (cql_parse(&r->arena, m->u.query.query.ptr, m->u.query.query.len, &st, err, sizeof err) !=
	    BROOK_OK) {
		brook_buf_release(b);
		req_error(r, CQL_ERR_SYNTAX, "%s", err);
		return;
	}
	store_exec_ctx x;
	exec_ctx_init(r, &x, &m->u.query.params);
	run_stmt(r, &x, st, b, pos);
}

static void handle_prepare(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	store_server *s = r->s;
	uint8_t id[16];
	const char *ks = r->ss->keyspace;
	if (!query_text_ok(r, m->u.prepare, b))
		return;
	prepared_id(ks, m->u.prepare.ptr, m->u.prepare.len, id);
	prepared *p = prepared_get(s, id, 16);
	bool added = false;
	if (!p) {
		char err[1024];
		p = prepared_add(s, id, ks, m->u.prepare.ptr, m->u.prepare.len, err, sizeof err);
		if (!p) {
			brook_buf_release(b);
			req_error(r, CQL_ERR_SYNTAX, "%s", err);
			return;
		}
		added = true;
	}
	store_exec_ctx x;
	exec_ctx_init(r, &x, NULL);
	x.keyspace = p->keyspace;
	store_exec_out out;
	store_exec_out_init(&out, b);
	if (store_exec_prepare(&x, p->stmt, id, 16, &out) != BROOK_OK && added)
		prepared_remove(s, p);
	req_answer(r, b, pos, &out, true);
}

static void unprepared(req *r, brook_buf *b, size_t pos, cql_bytes id)
{
	brook_buf_truncate(b, pos + CQL_FRAME_HEADER_LEN);
	char hex[40] = "";
	for (int32_t i = 0; i < id.len && i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", id.ptr[i]);
	char msg[128];
	snprintf(msg, sizeof msg, "Prepared query with ID %s not found (either the query was not "
		 "prepared on this host (maybe the host has been restarted?) or you have prepared "
		 "too many queries and it has been evicted from the internal cache)", hex);
	cql_error_write_unprepared(b, msg, id.ptr, id.len > 0 ? (size_t)id.len : 0);
	store_exec_out out;
	store_exec_out_init(&out, b);
	out.opcode = CQL_OP_ERROR;
	req_answer(r, b, pos, &out, true);
}

static void handle_execute(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	cql_bytes id = m->u.execute.id;
	prepared *p = prepared_get(r->s, id.ptr, id.len > 0 ? (size_t)id.len : 0);
	if (!p) {
		unprepared(r, b, pos, id);
		return;
	}
	store_exec_ctx x;
	exec_ctx_init(r, &x, &m->u.execute.params);
	if (p->keyspace)
		x.keyspace = p->keyspace;
	run_stmt(r, &x, p->stmt, b, pos);
}

static void handle_batch(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	const cql_batch *bt = &m->u.batch;
	store_batch_item *items = brook_arena_calloc(&r->arena, (bt->n + 1) * sizeof *items);
	for (uint16_t i = 0; i < bt->n; i++) {
		const cql_batch_stmt *bs = &bt->stmts[i];
		if (bs->kind == 0) {
			cql_stmt *st;
			char err[1024];
			if (!query_text_ok(r, bs->query, b))
				return;
			if (cql_parse(&r->arena, bs->query.ptr, bs->query.len, &st, err, sizeof err) !=
			    BROOK_OK) {
				brook_buf_release(b);
				req_error(r, CQL_ERR_SYNTAX, "%s", err);
				return;
			}
			items[i].stmt = st;
		} else {
			prepared *p = prepared_get(r->s, bs->id.ptr, bs->id.len > 0 ? (size_t)bs->id.len
										  : 0);
			if (!p) {
				unprepared(r, b, pos, bs->id);
				return;
			}
			items[i].stmt = p->stmt;
		}
		items[i].values = bs->values;
		items[i].n_values = bs->n_values;
	}
	store_exec_ctx x;
	exec_ctx_init(r, &x, NULL);
	if (bt->flags & CQL_QF_DEFAULT_TIMESTAMP)
		x.timestamp = bt->timestamp;
	store_exec_out out;
	store_exec_out_init(&out, b);
	if (bt->type == CQL_BATCH_COUNTER)
		store_exec_error(&out, CQL_ERR_INVALID, "Counters are not supported by brook's store");
	else
		store_exec_batch(&x, items, bt->n, &out);
	req_answer(r, b, pos, &out, true);
}

/* SASL PLAIN: [authzid] NUL user NUL password. */
static bool check_credentials(const store_server *s, cql_bytes tok, char *user, size_t ulen)
{
	snprintf(user, ulen, "?");
	if (tok.len <= 0)
		return false;
	const uint8_t *p = tok.ptr, *end = p + tok.len;
	const uint8_t *z1 = memchr(p, 0, (size_t)(end - p));
	if (!z1)
		return false;
	const uint8_t *u = z1 + 1;
	const uint8_t *z2 = memchr(u, 0, (size_t)(end - u));
	if (!z2)
		return false;
	const uint8_t *pw = z2 + 1;
	snprintf(user, ulen, "%.*s", (int)(z2 - u), (const char *)u);
	return strlen(s->user) == (size_t)(z2 - u) && memcmp(s->user, u, (size_t)(z2 - u)) == 0 &&
	       strlen(s->password) == (size_t)(end - pw) &&
	       memcmp(s->password, pw, (size_t)(end - pw)) == 0;
}

static void handle_startup(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	store_session *ss = r->ss;
	cql_str v;
	if (!cql_str_map_get(&m->u.startup, "CQL_VERSION", &v)) {
		brook_buf_release(b);
		req_error(r, CQL_ERR_PROTOCOL, "Missing value CQL_VERSION in STARTUP message");
		return;
	}
	/* Cassandra: a version string, at least 3.0.0 ("3", "3.4.4"). */
	unsigned major = 0;
	int used = 0;
	char ver[32];
	snprintf(ver, sizeof ver, "%.*s", (int)(v.len < 31 ? v.len : 31), v.ptr);
	if (sscanf(ver, "%u%n", &major, &used) != 1 || strspn(ver + used, ".0123456789") !=
	    strlen(ver + used)) {
		brook_buf_release(b);
		req_error(r, CQL_ERR_PROTOCOL, "Invalid version value: %s", ver);
		return;
	}
	if (major < 3) {
		brook_buf_release(b);
		req_error(r, CQL_ERR_PROTOCOL, "CQL version %s is not supported by the binary "
			  "protocol (supported version are >= 3.0.0)", ver);
		return;
	}
	if (cql_str_map_get(&m->u.startup, "COMPRESSION", &v)) {
		if (!cql_str_ieq(v, "lz4")) {
			brook_buf_release(b);
			req_error(r, CQL_ERR_PROTOCOL, "Unknown compression algorithm: %.*s",
				  (int)v.len, v.ptr);
			return;
		}
	}
	bool lz4 = cql_str_map_get(&m->u.startup, "COMPRESSION", &v);
	ss->started = true;
	store_exec_out out;
	store_exec_out_init(&out, b);
	if (r->s->auth) {
		out.opcode = CQL_OP_AUTHENTICATE;
		cql_wr_cstring(b, AUTHENTICATOR);
	} else {
		ss->authed = true;
		out.opcode = CQL_OP_READY;
	}
	/* The answer to STARTUP itself is not compressed; everything after it is. */
	req_answer(r, b, pos, &out, false);
	ss->lz4 = lz4;
}

static void handle_auth(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	char user[128];
	if (!check_credentials(r->s, m->u.token, user, sizeof user)) {
		brook_buf_release(b);
		brook_info(COMP, "authentication failed for user %s from %s", user,
			   brook_conn_peer(r->ss->conn));
		req_error(r, CQL_ERR_BAD_CREDENTIALS,
			  "Provided username %s and/or password are incorrect", user);
		return;
	}
	r->ss->authed = true;
	store_exec_out out;
	store_exec_out_init(&out, b);
	out.opcode = CQL_OP_AUTH_SUCCESS;
	cql_wr_bytes(b, CQL_BYTES_NULL);
	req_answer(r, b, pos, &out, true);
}

static void handle_register(req *r, const cql_msg *m, brook_buf *b, size_t pos)
{
	for (uint16_t i = 0; i < m->u.register_events.n; i++) {
		cql_str e = m->u.register_events.items[i];
		if (cql_str_eq(e, "SCHEMA_CHANGE"))
			r->ss->events = true;
		else if (!cql_str_eq(e, "TOPOLOGY_CHANGE") && !cql_str_eq(e, "STATUS_CHANGE")) {
			brook_buf_release(b);
			req_error(r, CQL_ERR_PROTOCOL, "Invalid value '%.*s' for Type", (int)e.len,
				  e.ptr);
			return;
		}
	}
	store_exec_out out;
	store_exec_out_init(&out, b);
	out.opcode = CQL_OP_READY;
	req_answer(r, b, pos, &out, true);
}

static const char *op_name(uint8_t opcode)
{
	const char *n = cql_opcode_name(opcode);
	return n ? n : "UNKNOWN";
}

/* CQL framing: the 9-byte header says the body length; other versions are refused. */
static int frame_len(void *arg, const uint8_t *p, size_t avail, size_t *len, char *why,
		     size_t whylen)
{
	store_server *s = arg;
	if (cql_frame_check_version(p[0]) != BROOK_OK) {
		if (avail < 4)
			return BROOK_AGAIN; /* the stream id is needed for the answer */
		snprintf(why, whylen, "unsupported protocol version %u", p[0] & 0x7F);
		return BROOK_ERR;
	}
	cql_frame_hdr h;
	if (cql_frame_parse_header(p, avail, &h) != BROOK_OK)
		return BROOK_AGAIN;
	if (h.length > s->max_frame) {
		snprintf(why, whylen, "Request is too big: length %" PRIu32 " exceeds maximum "
			 "allowed length %zu (store.max_frame_bytes)", h.length, s->max_frame);
		return BROOK_ERR;
	}
	*len = CQL_FRAME_HEADER_LEN + h.length;
	return BROOK_OK;
}

static void on_bad_frame(void *arg, brook_conn *conn, brook_slot *slot, const uint8_t *p,
			 size_t avail, const char *why)
{
	(void)arg;
	brook_buf b = BROOK_BUF_INIT;
	brook_info(COMP, "closing connection from %s: %s", brook_conn_peer(conn), why);
	if (cql_frame_check_version(p[0]) != BROOK_OK) {
		cql_frame_version_error_reply(p, avail, &b);
	} else {
		cql_frame_hdr h;
		cql_frame_parse_header(p, avail, &h);
		size_t pos = cql_frame_begin(&b, CQL_PROTOCOL_V4 | CQL_VERSION_RESPONSE, 0, h.stream,
					     CQL_OP_ERROR);
		cql_error_write(&b, CQL_ERR_PROTOCOL, why);
		cql_frame_end(&b, pos, false);
	}
	brook_slot_complete_close(slot, &b);
}

static void on_frame(void *arg, brook_conn *conn, brook_slot *slot, uint8_t *frame, size_t len)
{
	store_server *s = arg;
	req r = {0};
	r.s = s;
	r.slot = slot;
	r.t0_ns = brook_mono_ns();
	r.ss = session_of(s, conn);
	cql_frame_parse_header(frame, len, &r.hdr);
	r.op = op_name(r.hdr.opcode);
	brook_buf body = BROOK_BUF_INIT;
	const uint8_t *bp = frame + CQL_FRAME_HEADER_LEN;
	size_t blen = len - CQL_FRAME_HEADER_LEN;
	char err[512];

	if (cql_frame_is_response(&r.hdr) || !cql_opcode_is_request(r.hdr.opcode)) {
		req_error(&r, CQL_ERR_PROTOCOL, "Unexpected message %s (opcode 0x%02X) from a "
			  "client", op_name(r.hdr.opcode), r.hdr.opcode);
		goto done;
	}
	if (r.hdr.flags & CQL_FLAG_COMPRESSION) {
		if (!r.ss->lz4) {
			req_error(&r, CQL_ERR_PROTOCOL, "Compressed frame received but no compression "
				  "was negotiated in STARTUP");
			goto done;
		}
		if (cql_lz4_decompress(bp, blen, s->max_frame, &body, err, sizeof err) != BROOK_OK) {
			req_error(&r, CQL_ERR_PROTOCOL, "Invalid compressed frame: %s", err);
			goto done;
		}
		bp = (const uint8_t *)body.data;
		blen = body.len;
	}
	cql_rd rd;
	brook_rd_init(&rd, bp, blen);
	cql_frame_extras ex;
	cql_frame_read_extras(&r.hdr, &rd, &r.arena, &ex);
	cql_msg m;
	if (rd.failed || cql_msg_decode(r.hdr.opcode, &rd, &r.arena, &m) != BROOK_OK) {
		req_error(&r, CQL_ERR_PROTOCOL, "Invalid %s message: %s", r.op, rd.err);
		goto done;
	}
	uint8_t op = r.hdr.opcode;
	if (op != CQL_OP_OPTIONS && op != CQL_OP_STARTUP && !r.ss->started) {
		req_error(&r, CQL_ERR_PROTOCOL, "Unexpected message %s, expecting STARTUP or OPTIONS",
			  r.op);
		goto done;
	}
	if (op == CQL_OP_STARTUP && r.ss->started) {
		req_error(&r, CQL_ERR_PROTOCOL, "Unexpected message STARTUP, the connection is "
			  "already started");
		goto done;
	}
	if (r.ss->started && !r.ss->authed && op != CQL_OP_AUTH_RESPONSE && op != CQL_OP_OPTIONS) {
		req_error(&r, CQL_ERR_PROTOCOL, "Unexpected message %s, expecting SASL response",
			  r.op);
		goto done;
	}
	brook_buf b = BROOK_BUF_INIT;
	size_t pos = cql_frame_begin(&b, CQL_PROTOCOL_V4 | CQL_VERSION_RESPONSE, 0, r.hdr.stream,
				     CQL_OP_RESULT);
	switch (op) {
	case CQL_OP_OPTIONS: {
		store_exec_out out;
		store_exec_out_init(&out, &b);
		out.opcode = CQL_OP_SUPPORTED;
		cql_supported_write_default(&b);
		req_answer(&r, &b, pos, &out, r.ss->authed);
		break;
	}
	case CQL_OP_STARTUP:
		handle_startup(&r, &m, &b, pos);
		break;
	case CQL_OP_AUTH_RESPONSE:
		if (r.ss->authed) {
			brook_buf_release(&b);
			req_error(&r, CQL_ERR_PROTOCOL, "Unexpected message AUTH_RESPONSE");
			break;
		}
		handle_auth(&r, &m, &b, pos);
		break;
	case CQL_OP_QUERY:
		handle_query(&r, &m, &b, pos);
		break;
	case CQL_OP_PREPARE:
		handle_prepare(&r, &m, &b, pos);
		break;
	case CQL_OP_EXECUTE:
		handle_execute(&r, &m, &b, pos);
		break;
	case CQL_OP_BATCH:
		handle_batch(&r, &m, &b, pos);
		break;
	case CQL_OP_REGISTER:
		handle_register(&r, &m, &b, pos);
		break;
	default:
		brook_buf_release(&b);
		req_error(&r, CQL_ERR_PROTOCOL, "Unexpected message %s", r.op);
		break;
	}
	brook_buf_release(&b);
done:
	brook_buf_release(&body);
	brook_arena_release(&r.arena);
	free(frame);
}

/* ---- metrics ------------------------------------------------------------------------ */

static void on_gauges(uv_timer_t *t)
{
	store_server *s = t->data;
	store_engine_stats st;
	uint64_t tables;
	store_db_stats(s->db, &st, &tables);
	brook_metric_set(s->m_memtable, (double)st.memtable_bytes);
	brook_metric_set(s->m_sstables, (double)st.sstables);
	brook_metric_set(s->m_sstable_bytes, (double)st.sstable_bytes);
	brook_metric_set(s->m_flushes, (double)st.flushes);
	brook_metric_set(s->m_compactions, (double)st.compactions);
	brook_metric_set(s->m_segments, (double)st.commitlog_segments);
	brook_metric_set(s->m_tables, (double)tables);
	brook_metric_set(s->m_conns, (double)brook_net_connections(s->net));
	brook_metric_set(s->m_prepared, (double)s->n_prepared);
}

static void metrics_handler(const brook_http_request *req_, brook_http_response *resp, void *arg)
{
	(void)req_;
	store_server *s = arg;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	brook_metrics_render(s->metrics, &resp->body);
}

static void setup_metrics(store_server *s)
{
	brook_metrics *m = s->metrics = brook_metrics_new();
	const char *op[] = {"op", NULL};
	s->m_requests = brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_store_requests_total",
					     "CQL requests answered, by opcode", op);
	s->m_errors = brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_store_errors_total",
					   "CQL requests answered with an ERROR, by opcode", op);
	s->m_latency = brook_metrics_histogram_family(m, "brook_store_request_seconds",
						      "time from a request's arrival to its answer "
						      "(writes: after the commit log sync)", op, NULL, 0);
	s->m_rows_read = brook_metrics_counter(m, "brook_store_rows_read_total",
					       "rows read by SELECTs (before filtering)");
	s->m_rows_written = brook_metrics_counter(m, "brook_store_rows_written_total",
						  "rows (or partition deletions) written");
	s->m_conns = brook_metrics_gauge(m, "brook_store_connections", "open client connections");
	s->m_memtable = brook_metrics_gauge(m, "brook_store_memtable_bytes",
					    "bytes held in memtables, all tables");
	s->m_sstables = brook_metrics_gauge(m, "brook_store_sstables", "sstable files, all tables");
	s->m_sstable_bytes = brook_metrics_gauge(m, "brook_store_sstable_bytes",
						 "bytes in sstable files, all tables");
	s->m_flushes = brook_metrics_gauge(m, "brook_store_flushes",
					   "memtable flushes since start (counter)");
	s->m_compactions = brook_metrics_gauge(m, "brook_store_compactions",
					       "compactions since start (counter)");
	s->m_segments = brook_metrics_gauge(m, "brook_store_commitlog_segments",
					    "commit log segment files, all tables");
	s->m_tables = brook_metrics_gauge(m, "brook_store_tables", "tables");
	s->m_prepared = brook_metrics_gauge(m, "brook_store_prepared_statements",
					    "prepared statements cached");
}

static void on_stop(uv_async_t *a);

/* ---- lifecycle ---------------------------------------------------------------------- */

/* The node's host id, kept in DIR/host-id (created once). */
static int load_host_id(const char *dir, brook_uuid *id)
{
	size_t n = strlen(dir) + 16;
	char *path = brook_malloc(n);
	snprintf(path, n, "%s/host-id", dir);
	brook_buf b = BROOK_BUF_INIT;
	int rc = BROOK_OK;
	if (brook_file_read(path, 64, &b) == BROOK_OK && b.len >= BROOK_UUID_STRLEN &&
	    brook_uuid_parse(b.data, BROOK_UUID_STRLEN, id) == BROOK_OK) {
		/* kept */
	} else {
		char txt[BROOK_UUID_STRLEN + 2];
		brook_uuid_v4(id);
		brook_uuid_format(id, txt);
		strcat(txt, "\n");
		rc = brook_file_write_atomic(path, txt, strlen(txt));
	}
	brook_buf_release(&b);
	free(path);
	return rc;
}

store_server *store_server_open(const brook_config *cfg, char *err, size_t errlen)
{
	store_server *s = brook_calloc(1, sizeof *s);
	s->cfg = cfg;
	const char *data = brook_config_str(cfg, "data");
	size_t dl = strlen(data) + 8;
	s->dir = brook_malloc(dl);
	snprintf(s->dir, dl, "%s/store", data);
	char *host = NULL;
	if (brook_parse_hostport(brook_config_str(cfg, "store.listen"), &host, &s->port) !=
	    BROOK_OK) {
		snprintf(err, errlen, "store.listen: '%s' is not HOST:PORT",
			 brook_config_str(cfg, "store.listen"));
		goto fail;
	}
	snprintf(s->host, sizeof s->host, "%s", host);
	free(host);
	s->max_frame = brook_config_size(cfg, "store.max_frame_bytes");
	s->auth = strcmp(brook_config_str(cfg, "store.auth"), "password") == 0;
	s->user = brook_config_str(cfg, "store.username");
	s->password = brook_config_str(cfg, "store.password");
	if (s->auth && (!s->user || !s->password)) {
		snprintf(err, errlen, "store.auth=password needs store.username and store.password");
		goto fail;
	}
	s->max_prepared = (size_t)brook_config_int(cfg, "store.max_prepared");
	if (s->max_prepared < 1)
		s->max_prepared = 1;
	if (brook_mkdirs(s->dir, 0755) != BROOK_OK) {
		snprintf(err, errlen, "cannot create %s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (load_host_id(s->dir, &s->node.host_id) != BROOK_OK) {
		snprintf(err, errlen, "cannot write %s/host-id: %s", s->dir, strerror(errno));
		goto fail;
	}
	char *sysdir = brook_malloc(strlen(s->dir) + 16);
	sprintf(sysdir, "%s/system-schema", s->dir);
	s->node.system_catalog = store_system_catalog_open(sysdir, err, errlen);
	free(sysdir);
	if (!s->node.system_catalog)
		goto fail;
	s->node.cluster_name = brook_config_str(cfg, "store.cluster_name");
	s->node.release_version = "3.11.16";
	s->node.cql_version = "3.4.4";
	snprintf(s->token, sizeof s->token, "%" PRId64, (int64_t)0);
	s->node.token = s->token;
	struct in_addr ia;
	if (inet_pton(AF_INET, s->host, &ia) != 1 || ia.s_addr == 0)
		inet_pton(AF_INET, "127.0.0.1", &ia);
	memcpy(s->node.addr, &ia, 4);

	store_engine_opts eo;
	store_engine_opts_default(&eo);
	eo.memtable_bytes = brook_config_size(cfg, "store.memtable_bytes");
	eo.sync_mode = strcmp(brook_config_str(cfg, "store.commitlog_sync"), "periodic") == 0
			       ? STORE_SYNC_PERIODIC
			       : STORE_SYNC_BATCH;
	eo.sync_window_us = brook_config_duration_ms(cfg, "store.commitlog_sync_window") * 1000;
	eo.sync_period_ms = brook_config_duration_ms(cfg, "store.commitlog_sync_period");
	eo.compact_threshold = (unsigned)brook_config_int(cfg, "store.compaction_threshold");
	if (s->max_frame > eo.max_mutation_bytes)
		eo.max_mutation_bytes = (uint32_t)(s->max_frame > UINT32_MAX / 2 ? UINT32_MAX / 2
										  : s->max_frame * 2);
	int64_t t0 = brook_mono_ns();
	s->db = store_db_open(s->dir, &eo, err, errlen);
	if (!s->db)
		goto fail;
	brook_info(COMP, "opened %s in %.0f ms", s->dir, (double)(brook_mono_ns() - t0) / 1e6);

	setup_metrics(s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	uv_loop_init(&s->loop);
	uv_async_init(&s->loop, &s->stop_async, on_stop);
	s->stop_async.data = s;
	uv_async_init(&s->loop, &s->synced_async, on_synced);
	s->synced_async.data = s;
	uv_timer_init(&s->loop, &s->gauge_timer);
	s->gauge_timer.data = s;
	brook_net_opts no = {
		.host = s->host,
		.port = s->port,
		.comp = COMP,
		.unordered = true,
		.max_inflight = (int)brook_config_int(cfg, "store.max_inflight"),
		.frame_len = frame_len,
		.on_frame = on_frame,
		.on_bad_frame = on_bad_frame,
		.arg = s,
	};
	s->net = brook_net_open(&s->loop, &no, err, errlen);
	if (!s->net)
		goto fail_loop;
	s->port = brook_net_port(s->net);
	snprintf(s->listen_addr, sizeof s->listen_addr, strchr(s->host, ':') ? "[%s]:%d" : "%s:%d",
		 s->host, s->port);
	if (brook_httpd_open_metrics(cfg, "store.metrics_listen", COMP, metrics_handler, s,
				     &s->http, err, errlen) != BROOK_OK)
		goto fail_net;
	if (s->http)
		s->metrics_port = brook_httpd_port(s->http);
	pthread_create(&s->syncer, NULL, syncer_main, s);
	return s;

fail_net:
	brook_net_close(s->net);
fail_loop:
	uv_close((uv_handle_t *)&s->stop_async, NULL);
	uv_close((uv_handle_t *)&s->synced_async, NULL);
	uv_close((uv_handle_t *)&s->gauge_timer, NULL);
	uv_run(&s->loop, UV_RUN_NOWAIT);
	uv_loop_close(&s->loop);
	store_db_close(s->db);
	brook_metrics_free(s->metrics);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
fail:
	if (s->node.system_catalog)
		catalog_close(s->node.system_catalog);
	free(s->dir);
	free(s);
	return NULL;
}

void store_server_run(store_server *s)
{
	uv_timer_start(&s->gauge_timer, on_gauges, 0, 1000);
	uv_run(&s->loop, UV_RUN_DEFAULT);
}

static void on_stop(uv_async_t *a)
{
	store_server *s = a->data;
	if (s->stopping)
		return;
	s->stopping = true;
	brook_info(COMP, "stopping: answering writes in flight and flushing memtables");
	if (s->http) {
		brook_httpd_close(s->http);
		s->http = NULL;
	}
	/* Writes in flight: synced and answered before the connections close. */
	pthread_mutex_lock(&s->mu);
	s->syncer_quit = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->syncer, NULL);
	on_synced(&s->synced_async);
	brook_net_close(s->net);
	uv_close((uv_handle_t *)&s->stop_async, NULL);
	uv_close((uv_handle_t *)&s->synced_async, NULL);
	uv_close((uv_handle_t *)&s->gauge_timer, NULL);
}

const char *store_server_listen_addr(const store_server *s)
{
	return s->listen_addr;
}

int store_server_metrics_port(const store_server *s)
{
	return s->metrics_port;
}

void store_server_stop(store_server *s)
{
	uv_async_send(&s->stop_async);
}

void store_server_close(store_server *s)
{
	if (!s)
		return;
	if (s->http)
		brook_httpd_close(s->http);
	uv_loop_close(&s->loop);
	prepared_clear(s);
	int64_t t0 = brook_mono_ns();
	store_db_close(s->db);
	brook_info(COMP, "memtables flushed in %.0f ms", (double)(brook_mono_ns() - t0) / 1e6);
	catalog_close(s->node.system_catalog);
	brook_metrics_free(s->metrics);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->dir);
	free(s);
}
