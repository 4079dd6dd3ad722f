/*
 * client.c — the CQL client's connection, I/O thread and requests (design and API in
 * client.h; statements in client_stmt.c, results in client_res.c).
 *
 * REQUESTS
 *
 *   A submit turns a statement into a `struct req` that owns copies of everything it
 *   needs (query text, value bytes, paging state) and a decoded-form cql_msg pointing at
 *   them; prepared ids are filled in only when the request is framed, from the
 *   statement's newest version, so a re-prepared statement is sent with its new id. The
 *   req is appended to the pending queue (under `mu`) and the I/O thread is woken
 *   through an eventfd, only when it sleeps in poll().
 *
 *   Life of a req, and who moves it:
 *     pending ──(I/O thread: a stream id is free, state UP; frame_req)──▶ in flight
 *     in flight ──(its answer; on_answer)──▶ completed (callback, live--)
 *     in flight ──(deadline; check_timeouts)──▶ completed with a timeout; its stream id
 *         stays reserved ("orphan") until the late answer arrives or the connection goes
 *     in flight ──(connection lost; conn_lost)──▶ completed with a connection error
 *     pending ──(deadline)──▶ completed with a timeout
 *     in flight ──(UNPREPARED; start_reprepare)──▶ parked: one internal PREPARE per
 *         distinct prepared statement of the request goes to the front of the queue;
 *         when the last one answers (reprepare_done) the req goes back to the front of
 *         the queue, marked retried, or completes with the PREPARE's error.
 *
 *   `live` counts accepted user requests not completed (internal PREPAREs belong to a
 *   live request and are not counted); submit waits while live == max_in_flight.
 *
 * THE I/O THREAD (io_main) owns the socket, the read and write buffers, the stream table
 * and the in-flight list; the pending queue, `live`, the keyspace, the statement cache
 * and the peer name are shared under `mu`. Callbacks are called with no lock held.
 *
 * CONNECTING (conn_open) is blocking code with deadlines, run by cql_client_new() in
 * the caller's thread and by the I/O thread when reconnecting: TCP connect to each
 * address of each contact point in turn, then the handshake on stream 0 (client.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "cql/client_impl.h"

#define LOG_COMP "cql"
#define NSTREAMS 32768
#define DEFAULT_PORT 9042
#define LZ4_MIN_BODY 256   /* smaller request bodies are sent uncompressed */
#define AUTH_MAX_ROUNDS 8  /* AUTH_CHALLENGE answers before giving up */
#define READ_CHUNK 65536

struct req {
	struct req *next, *prev;
	int16_t stream; /* -1: not on the wire */
	bool internal;  /* a re-prepare issued by the client */
	bool retried;   /* already re-prepared once */
	int64_t deadline, timeout_ms;
	cql_done_fn done;
	void *arg;
	brook_arena arena;
	brook_buf data; /* value bytes (views in msg point here) */
	cql_msg msg;
	cql_prepared **preps; /* EXECUTE: [0]; BATCH: per statement, NULL for query text */
	int npreps;
	/* re-prepare */
	int reprep_wait;
	cql_client_error reprep_err;
	struct req *parent;
	cql_prepared *target;
};

/* The stream table's mark for a timed-out request whose answer may still come. */
static struct req orphan_mark;

struct conn {
	int fd;
	bool lz4;
	char peer[128];
	brook_buf rbuf, wbuf;
	size_t roff, woff;
};

enum { STATE_UP, STATE_DOWN };

struct cql_client {
	cql_client_opts o;
	char **cps;
	char *username, *password;
	int wakefd;
	pthread_t io;
	pthread_mutex_t mu;
	pthread_cond_t cv_space; /* live went down, or closing */
	/* under mu */
	bool closing;
	bool io_waiting; /* the I/O thread is (about to be) in poll(): wake it */
	int live;
	struct req *pend_head, *pend_tail;
	int64_t next_deadline;
	char *keyspace;     /* exact name, NULL: none (cache key, restored on reconnect) */
	char *keyspace_use; /* how USE names it */
	cql_stmt_cache cache;
	char peer[128];
	bool lz4;
	uint64_t connections;
	/* I/O thread only */
	struct conn k;
	int state;
	int64_t reconnect_at, backoff;
	char last_err[256];
	struct req **streams;
	int16_t *free_ids;
	int nfree;
	int orphans;
	struct req inflight; /* list head */
};

const char *cql_client_errkind_name(cql_client_errkind kind)
{
	switch (kind) {
	case CQL_CLIENT_E_NONE:
		return "none";
	case CQL_CLIENT_E_SERVER:
		return "server";
	case CQL_CLIENT_E_CONNECT:
		return "connect";
	case CQL_CLIENT_E_CONNECTION:
		return "connection";
	case CQL_CLIENT_E_TIMEOUT:
		return "timeout";
	case CQL_CLIENT_E_USAGE:
		return "usage";
	case CQL_CLIENT_E_PROTOCOL:
		return "protocol";
	case CQL_CLIENT_E_BUSY:
		return "busy";
	case CQL_CLIENT_E_CLOSED:
		return "closed";
	}
	return "unknown";
}

__attribute__((format(printf, 4, 5))) static int set_err(cql_client_error *e,
							 cql_client_errkind kind, int32_t code,
							 const char *fmt, ...)
{
	if (!e)
		return BROOK_ERR;
	e->kind = kind;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return kind == CQL_CLIENT_E_BUSY ? BROOK_AGAIN : BROOK_ERR;
}

/* "Invalid (0x2200): unconfigured table foo" from an ERROR answer. */
static void server_err(cql_client_error *e, cql_client_errkind kind, const cql_error *se,
		       const char *prefix)
{
	set_err(e, kind, se->code, "%s%s (0x%04x): %.*s", prefix, cql_error_name(se->code),
		(unsigned)se->code, (int)(se->message.len > 400 ? 400 : se->message.len),
		se->message.ptr ? se->message.ptr : "");
}

void cql_client_opts_default(cql_client_opts *o)
{
	memset(o, 0, sizeof *o);
	o->consistency = CQL_CONSISTENCY_LOCAL_ONE;
	o->page_size = 5000;
	o->connect_timeout_ms = 5000;
	o->request_timeout_ms = 12000;
	o->max_in_flight = 1024;
	o->reconnect_base_ms = 100;
	o->reconnect_max_ms = 10000;
	o->max_frame_bytes = 256u * 1024 * 1024;
}

static bool on_io_thread(const cql_client *c)
{
	return pthread_equal(pthread_self(), c->io) != 0;
}

/* ---- requests ------------------------------------------------------------------------ */

static struct req *req_new(cql_client *c, int64_t timeout_ms)
{
	struct req *r = brook_calloc(1, sizeof *r);
	r->arena.first_size = 1024; /* most requests need a few hundred bytes */
	r->stream = -1;
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : c->o.request_timeout_ms;
	r->deadline = brook_mono_ms() + r->timeout_ms;
	return r;
}

static void req_free(struct req *r)
{
	brook_arena_release(&r->arena);
	brook_buf_release(&r->data);
	free(r->preps);
	free(r);
}

static void list_add(struct req *head, struct req *r)
{
	r->prev = head->prev;
	r->next = head;
	head->prev->next = r;
	head->prev = r;
}

static void list_del(struct req *r)
{
	r->prev->next = r->next;
	r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

/* A view of len bytes at off in r->data (stable: data is complete before views). */
static cql_bytes data_view(const struct req *r, size_t off, int32_t len)
{
	static const uint8_t empty[1];
	if (len < 0)
		return (cql_bytes){NULL, len};
	return (cql_bytes){len ? (const uint8_t *)r->data.data + off : empty, len};
}

static void fill_params(cql_client *c, struct req *r, const cql_stmt *st, cql_query_params *p)
{
	memset(p, 0, sizeof *p);
	p->consistency = st->has_consistency ? st->consistency : c->o.consistency;
	p->paging_state = CQL_BYTES_NULL;
	if (st->n > 0) {
		p->flags |= CQL_QF_VALUES;
		p->n_values = (uint16_t)st->n;
		p->values = brook_arena_alloc(&r->arena, (size_t)st->n * sizeof(cql_bytes));
		for (int i = 0; i < st->n; i++)
			p->values[i] = data_view(r, st->v[i].off, st->v[i].len);
	}
	int32_t page = st->page_size ? st->page_size : c->o.page_size;
	if (page > 0) {
		p->flags |= CQL_QF_PAGE_SIZE;
		p->page_size = page;
	}
	if (st->has_paging) {
		p->flags |= CQL_QF_PAGING_STATE;
		uint8_t *ps = brook_arena_alloc(&r->arena, st->paging.len ? st->paging.len : 1);
		if (st->paging.len)
			memcpy(ps, st->paging.data, st->paging.len);
		p->paging_state = (cql_bytes){ps, (int32_t)st->paging.len};
	}
	uint16_t serial = st->serial ? st->serial : c->o.serial_consistency;
	if (serial) {
		p->flags |= CQL_QF_SERIAL_CONSISTENCY;
		p->serial_consistency = serial;
	}
	if (st->has_timestamp) {
		p->flags |= CQL_QF_DEFAULT_TIMESTAMP;
		p->timestamp = st->timestamp;
	}
}

static struct req *req_from_stmt(cql_client *c, const cql_stmt *st, cql_client_error *err)
{
	char msg[512];
	if (cql_stmt_ready(st, msg, sizeof msg) != BROOK_OK) {
		set_err(err, CQL_CLIENT_E_USAGE, 0, "%s", msg);
		return NULL;
	}
	struct req *r = req_new(c, st->timeout_ms);
	brook_buf_append(&r->data, st->data.data, st->data.len);
	if (st->prep) {
		r->msg.opcode = CQL_OP_EXECUTE;
		r->preps = brook_malloc(sizeof *r->preps);
		r->preps[0] = st->prep;
		r->npreps = 1;
		fill_params(c, r, st, &r->msg.u.execute.params);
	} else {
		r->msg.opcode = CQL_OP_QUERY;
		size_t n = strlen(st->query);
		r->msg.u.query.query = (cql_str){brook_arena_strndup(&r->arena, st->query, n), n};
		fill_params(c, r, st, &r->msg.u.query.params);
	}
	return r;
}

static struct req *req_from_batch(cql_client *c, const cql_stmt_batch *b, cql_client_error *err)
{
	if (b->n == 0) {
		set_err(err, CQL_CLIENT_E_USAGE, 0, "the batch is empty");
		return NULL;
	}
	struct req *r = req_new(c, b->timeout_ms);
	brook_buf_append(&r->data, b->data.data, b->data.len);
	cql_batch *m = &r->msg.u.batch;
	r->msg.opcode = CQL_OP_BATCH;
	m->type = b->type;
	m->n = (uint16_t)b->n;
	m->stmts = brook_arena_calloc(&r->arena, (size_t)b->n * sizeof *m->stmts);
	r->preps = brook_calloc((size_t)b->n, sizeof *r->preps);
	r->npreps = b->n;
	for (int i = 0; i < b->n; i++) {
		const cql_batch_item *it = &b->items[i];
		cql_batch_stmt *s = &m->stmts[i];
		s->id = CQL_BYTES_NULL;
		if (it->prep) {
			s->kind = 1;
			r->preps[i] = it->prep;
		} else {
			s->kind = 0;
			s->query = (cql_str){r->data.data + it->query_off, it->query_len};
		}
		s->n_values = (uint16_t)it->n;
		if (it->packed) {
			s->packed = (const uint8_t *)r->data.data + it->packed_off;
			s->packed_len = it->packed_len;
		} else if (it->n) {
			s->values = brook_arena_alloc(&r->arena, (size_t)it->n * sizeof(cql_bytes));
			for (int v = 0; v < it->n; v++)
				s->values[v] = data_view(r, b->vals[it->first + v].off,
							 b->vals[it->first + v].len);
		}
	}
	m->consistency = b->has_consistency ? b->consistency : c->o.consistency;
	uint16_t serial = b->serial ? b->serial : c->o.serial_consistency;
	if (serial) {
		m->flags |= CQL_QF_SERIAL_CONSISTENCY;
		m->serial_consistency = serial;
	}
	if (b->has_timestamp) {
		m->flags |= CQL_QF_DEFAULT_TIMESTAMP;
		m->timestamp = b->timestamp;
	}
	return r;
}

/* Appends to the pending queue (or its front) and wakes the I/O thread. Under mu. */
static bool pending_add_locked(cql_client *c, struct req *r, bool front)
{
	r->next = r->prev = NULL;
	if (front) {
		r->next = c->pend_head;
		c->pend_head = r;
		if (!c->pend_tail)
			c->pend_tail = r;
	} else {
		if (c->pend_tail)
			c->pend_tail->next = r;
		else
			c->pend_head = r;
		c->pend_tail = r;
	}
	if (r->deadline < c->next_deadline)
		c->next_deadline = r->deadline;
	bool wake = c->io_waiting;
	c->io_waiting = false;
	return wake;
}

static void wake_io(cql_client *c)
{
	uint64_t one = 1;
	ssize_t w = write(c->wakefd, &one, sizeof one);
	(void)w; /* the counter saturating is the only failure, and it still wakes */
}

static void pending_push_front(cql_client *c, struct req *r)
{
	pthread_mutex_lock(&c->mu);
	bool wake = pending_add_locked(c, r, true);
	pthread_mutex_unlock(&c->mu);
	if (wake)
		wake_io(c);
}

/* Accepts r (or frees it and fails). */
static int submit(cql_client *c, struct req *r, cql_done_fn done, void *arg,
		  cql_client_error *err)
{
	r->done = done;
	r->arg = arg;
	bool nonblocking = c->o.submit_nonblocking || on_io_thread(c);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		if (c->closing) {
			pthread_mutex_unlock(&c->mu);
			req_free(r);
			return set_err(err, CQL_CLIENT_E_CLOSED, 0, "the client is closing");
		}
		if (c->live < c->o.max_in_flight)
			break;
		if (nonblocking) {
			int live = c->live;
			pthread_mutex_unlock(&c->mu);
			req_free(r);
			return set_err(err, CQL_CLIENT_E_BUSY, 0,
				       "%d requests in flight (the maximum): retry later", live);
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t left = r->deadline - brook_mono_ms();
		if (left <= 0) {
			int live = c->live;
			long long ms = (long long)r->timeout_ms;
			pthread_mutex_unlock(&c->mu);
			req_free(r);
			return set_err(err, CQL_CLIENT_E_TIMEOUT, 0,
				       "timed out after %lld ms waiting for one of %d requests in "
				       "flight to finish",
				       ms, live);
		}
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv_space, &c->mu, &ts);
	}
	c->live++;
	bool wake = pending_add_locked(c, r, false);
	pthread_mutex_unlock(&c->mu);
	if (wake)
		wake_io(c);
	return BROOK_OK;
}

/* ---- completion (I/O thread) ------------------------------------------------------------ */

static void reprepare_done(cql_client *c, struct req *q, cql_res *res,
			   const cql_client_error *err);

static void complete(cql_client *c, struct req *r, cql_res *res, const cql_client_error *err)
{
	if (r->internal) {
		reprepare_done(c, r, res, err);
		return;
	}
	/* the slot is free before the callback runs, so the callback can reuse it */
	pthread_mutex_lock(&c->mu);
	c->live--;
	pthread_cond_broadcast(&c->cv_space);
	pthread_mutex_unlock(&c->mu);
	r->done(r->arg, res, err);
	req_free(r);
}

__attribute__((format(printf, 5, 6))) static void fail(cql_client *c, struct req *r,
						       cql_client_errkind kind, int32_t code,
						       const char *fmt, ...)
{
	cql_client_error e = {.kind = kind, .code = code};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	complete(c, r, NULL, &e);
}

static void start_reprepare(cql_client *c, struct req *r)
{
	r->retried = true;
	r->stream = -1;
	memset(&r->reprep_err, 0, sizeof r->reprep_err);
	for (int i = 0; i < r->npreps; i++) {
		cql_prepared *p = r->preps[i];
		bool seen = p == NULL;
		for (int j = 0; j < i && !seen; j++)
			seen = r->preps[j] == p;
		if (seen)
			continue;
		struct req *q = brook_calloc(1, sizeof *q);
		q->stream = -1;
		q->internal = true;
		q->parent = r;
		q->target = p;
		q->deadline = r->deadline;
		q->timeout_ms = r->timeout_ms;
		q->msg.opcode = CQL_OP_PREPARE;
		q->msg.u.prepare = cql_str_from(p->query);
		r->reprep_wait++;
		brook_debug(LOG_COMP, "re-preparing \"%.80s\" after UNPREPARED", p->query);
		pending_push_front(c, q);
	}
}

static void reprepare_done(cql_client *c, struct req *q, cql_res *res,
			   const cql_client_error *err)
{
	struct req *r = q->parent;
	char msg[256];
	if (res) {
		if (cql_prepared_update(q->target, res, msg, sizeof msg) != BROOK_OK) {
			if (!r->reprep_err.kind)
				set_err(&r->reprep_err, CQL_CLIENT_E_PROTOCOL, 0, "%s", msg);
			cql_res_free(res);
		}
	} else if (!r->reprep_err.kind) {
		set_err(&r->reprep_err, err->kind, err->code,
			"re-preparing after UNPREPARED failed: %s", err->msg);
	}
	req_free(q);
	if (--r->reprep_wait > 0)
		return;
	if (r->reprep_err.kind) {
		cql_client_error e = r->reprep_err;
		complete(c, r, NULL, &e);
	} else {
		pending_push_front(c, r);
	}
}

static void set_keyspace(cql_client *c, const char *ks)
{
	brook_buf use = BROOK_BUF_INIT;
	brook_buf_putc(&use, '"');
	for (const char *p = ks; *p; p++) {
		if (*p == '"')
			brook_buf_putc(&use, '"');
		brook_buf_putc(&use, *p);
	}
	brook_buf_putc(&use, '"');
	pthread_mutex_lock(&c->mu);
	free(c->keyspace);
	free(c->keyspace_use);
	c->keyspace = brook_strdup(ks);
	c->keyspace_use = brook_buf_detach(&use, NULL);
	pthread_mutex_unlock(&c->mu);
}

static void on_answer(cql_client *c, struct req *r, cql_res *res)
{
	if (res->msg.opcode == CQL_OP_ERROR) {
		const cql_error *se = &res->msg.u.error;
		if (se->code == CQL_ERR_UNPREPARED && r->npreps && !r->retried && !r->internal) {
			cql_res_free(res);
			start_reprepare(c, r);
			return;
		}
		cql_client_error e;
		server_err(&e, CQL_CLIENT_E_SERVER, se, "");
		cql_res_free(res);
		complete(c, r, NULL, &e);
		return;
	}
	if (res->msg.opcode != CQL_OP_RESULT) {
		uint8_t op = res->msg.opcode;
		cql_res_free(res);
		fail(c, r, CQL_CLIENT_E_PROTOCOL, 0, "the server answered %s with %s",
		     cql_opcode_name(r->msg.opcode), cql_opcode_name(op));
		return;
	}
	if (cql_res_kind(res) == CQL_RESULT_SET_KEYSPACE)
		set_keyspace(c, cql_res_keyspace(res));
	complete(c, r, res, NULL);
}

/* ---- connection: blocking parts ------------------------------------------------------- */

static void conn_init(struct conn *k)
{
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

static void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->lz4 = false;
	brook_buf_release(&k->rbuf);
	brook_buf_release(&k->wbuf);
	k->roff = k->woff = 0;
}

/* Waits for fd to be ready for ev until the deadline. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - brook_mono_ms();
		if (left <= 0)
			return BROOK_AGAIN;
		struct pollfd p = {.fd = fd, .events = ev};
		int n = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
		if (n > 0)
			return BROOK_OK;
		if (n < 0 && errno != EINTR)
			return BROOK_ERR;
	}
}

static int tcp_connect(const struct addrinfo *ai, int64_t deadline, char *err, size_t errlen)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "%s", strerror(errno));
			close(fd);
			return -1;
		}
		int rc = wait_fd(fd, POLLOUT, deadline);
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (rc == BROOK_OK && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr == 0) {
			/* connected */
		} else {
			snprintf(err, errlen, "%s",
				 rc == BROOK_AGAIN ? "connect timed out"
						   : strerror(soerr ? soerr : errno));
			close(fd);
			return -1;
		}
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Writes the whole write buffer before the deadline. */
static int conn_write_all(struct conn *k, int64_t deadline, char *err, size_t errlen)
{
	while (k->woff < k->wbuf.len) {
		ssize_t n = send(k->fd, k->wbuf.data + k->woff, k->wbuf.len - k->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			k->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(k->fd, POLLOUT, deadline);
			if (rc != BROOK_OK) {
				snprintf(err, errlen, "%s",
					 rc == BROOK_AGAIN ? "timed out writing" : strerror(errno));
				return BROOK_ERR;
			}
			continue;
		}
		snprintf(err, errlen, "write: %s", strerror(errno));
		return BROOK_ERR;
	}
	brook_buf_reset(&k->wbuf);
	k->woff = 0;
	return BROOK_OK;
}

/* One read into rbuf: bytes read, 0 at EOF, BROOK_AGAIN when nothing is there,
 * BROOK_ERR (errno set). */
static ssize_t conn_fill(struct conn *k)
{
	if (k->roff && k->roff == k->rbuf.len) {
		brook_buf_reset(&k->rbuf);
		k->roff = 0;
	} else if (k->roff > READ_CHUNK && k->roff * 2 > k->rbuf.len) {
		memmove(k->rbuf.data, k->rbuf.data + k->roff, k->rbuf.len - k->roff);
		brook_buf_truncate(&k->rbuf, k->rbuf.len - k->roff);
		k->roff = 0;
	}
	brook_buf_reserve(&k->rbuf, READ_CHUNK);
	size_t room = k->rbuf.cap - k->rbuf.len - 1;
	for (;;) {
		ssize_t n = recv(k->fd, k->rbuf.data + k->rbuf.len, room, MSG_DONTWAIT);
		if (n > 0) {
			k->rbuf.len += (size_t)n;
			k->rbuf.data[k->rbuf.len] = '\0';
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return BROOK_AGAIN;
		return BROOK_ERR;
	}
}

/* The next complete frame in rbuf: BROOK_OK (consumed), BROOK_AGAIN (incomplete: room
 * is reserved for it), BROOK_ERR (a bad header: the stream is unusable). */
static int conn_next_frame(struct conn *k, uint32_t max, cql_frame_hdr *h, const uint8_t **body,
			   char *err, size_t errlen)
{
	size_t avail = k->rbuf.len - k->roff;
	if (avail < CQL_FRAME_HEADER_LEN)
		return BROOK_AGAIN;
	const uint8_t *p = (const uint8_t *)k->rbuf.data + k->roff;
	cql_frame_parse_header(p, avail, h);
	if (!cql_frame_is_response(h)) {
		snprintf(err, errlen, "the server sent a frame without the response bit (0x%02x)",
			 h->version);
		return BROOK_ERR;
	}
	if (cql_frame_check_version(h->version) != BROOK_OK) {
		snprintf(err, errlen,
			 "the server answered in protocol version %u; this client speaks v4 only",
			 (unsigned)(h->version & 0x7F));
		return BROOK_ERR;
	}
	if (cql_frame_check(h, max, err, errlen) != BROOK_OK)
		return BROOK_ERR;
	size_t need = CQL_FRAME_HEADER_LEN + (size_t)h->length;
	if (avail < need) {
		brook_buf_reserve(&k->rbuf, need - avail);
		return BROOK_AGAIN;
	}
	*body = p + CQL_FRAME_HEADER_LEN;
	k->roff += need;
	return BROOK_OK;
}

/* Sends m on stream 0 and waits for its answer (handshake only). */
static cql_res *roundtrip(cql_client *c, struct conn *k, const cql_msg *m, int64_t deadline,
			  char *err, size_t errlen)
{
	size_t pos = cql_frame_begin(&k->wbuf, CQL_PROTOCOL_V4, 0, 0, m->opcode);
	cql_msg_encode(&k->wbuf, m);
	cql_frame_end(&k->wbuf, pos,
		      k->lz4 && m->opcode != CQL_OP_STARTUP &&
			  k->wbuf.len - pos - CQL_FRAME_HEADER_LEN >= LZ4_MIN_BODY);
	if (conn_write_all(k, deadline, err, errlen) != BROOK_OK)
		return NULL;
	for (;;) {
		cql_frame_hdr h;
		const uint8_t *body;
		int rc = conn_next_frame(k, c->o.max_frame_bytes, &h, &body, err, errlen);
		if (rc == BROOK_ERR)
			return NULL;
		if (rc == BROOK_OK) {
			if (h.stream != 0)
				continue; /* an event: nothing is registered yet */
			if ((h.flags & CQL_FLAG_COMPRESSION) && !k->lz4) {
				snprintf(err, errlen, "the server compressed a frame before "
						      "compression was agreed");
				return NULL;
			}
			return cql_res_decode(&h, body, h.length, c->o.max_frame_bytes, err,
					      errlen);
		}
		ssize_t n = conn_fill(k);
		if (n > 0)
			continue;
		if (n == 0) {
			snprintf(err, errlen, "the server closed the connection");
			return NULL;
		}
		if (n == BROOK_ERR) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return NULL;
		}
		int w = wait_fd(k->fd, POLLIN, deadline);
		if (w != BROOK_OK) {
			snprintf(err, errlen, "%s",
				 w == BROOK_AGAIN ? "timed out waiting for the server"
						  : strerror(errno));
			return NULL;
		}
	}
}

static bool supported_has(const cql_res *res, const char *key, const char *val)
{
	const cql_multimap *m = &res->msg.u.supported;
	for (uint16_t i = 0; i < m->n; i++)
		if (cql_str_eq(m->keys[i], key))
			for (uint16_t j = 0; j < m->vals[i].n; j++)
				if (cql_str_ieq(m->vals[i].items[j], val))
					return true;
	return false;
}

/* The answer was an ERROR: describe it; else "unexpected X". */
static void unexpected(const cql_res *res, const char *step, cql_client_error *e)
{
	if (res->msg.opcode == CQL_OP_ERROR) {
		char prefix[64];
		snprintf(prefix, sizeof prefix, "%s: ", step);
		server_err(e, CQL_CLIENT_E_CONNECT, &res->msg.u.error, prefix);
	} else {
		set_err(e, CQL_CLIENT_E_CONNECT, 0, "%s: unexpected %s answer", step,
			cql_opcode_name(res->msg.opcode));
	}
}

/* OPTIONS, STARTUP, authentication and USE on a connected socket. */
static int handshake(cql_client *c, struct conn *k, bool first, int64_t deadline,
		     cql_client_error *e)
{
	char err[256];
	cql_msg m = {.opcode = CQL_OP_OPTIONS};
	cql_res *res = roundtrip(c, k, &m, deadline, err, sizeof err);
	if (!res)
		return set_err(e, CQL_CLIENT_E_CONNECT, 0, "OPTIONS: %s", err);
	if (res->msg.opcode != CQL_OP_SUPPORTED) {
		unexpected(res, "OPTIONS", e);
		cql_res_free(res);
		return BROOK_ERR;
	}
	bool lz4 = c->o.compression && supported_has(res, "COMPRESSION", "lz4");
	cql_res_free(res);

	cql_str keys[2] = {CQL_STR("CQL_VERSION"), CQL_STR("COMPRESSION")};
	cql_str vals[2] = {CQL_STR("3.0.0"), CQL_STR("lz4")};
	m = (cql_msg){.opcode = CQL_OP_STARTUP};
	m.u.startup = (cql_str_map){(uint16_t)(lz4 ? 2 : 1), keys, vals};
	k->lz4 = lz4; /* the answer to STARTUP may already be compressed */
	res = roundtrip(c, k, &m, deadline, err, sizeof err);
	if (!res)
		return set_err(e, CQL_CLIENT_E_CONNECT, 0, "STARTUP: %s", err);
	if (res->msg.opcode == CQL_OP_AUTHENTICATE) {
		char authenticator[128];
		cql_str a = res->msg.u.authenticator;
		snprintf(authenticator, sizeof authenticator, "%.*s",
			 (int)(a.len > 100 ? 100 : a.len), a.ptr ? a.ptr : "");
		cql_res_free(res);
		if (!c->username) {
			return set_err(e, CQL_CLIENT_E_CONNECT, CQL_ERR_BAD_CREDENTIALS,
				       "the server requires authentication (%s): give a username "
				       "and password",
				       authenticator);
		}
		/* SASL PLAIN: authzid (empty) NUL authcid NUL password */
		brook_buf tok = BROOK_BUF_INIT;
		brook_buf_putc(&tok, '\0');
		brook_buf_puts(&tok, c->username);
		brook_buf_putc(&tok, '\0');
		brook_buf_puts(&tok, c->password);
		int rounds = 0;
		for (;;) {
			m = (cql_msg){.opcode = CQL_OP_AUTH_RESPONSE};
			m.u.token = cql_bytes_of(tok.data, tok.len);
			res = roundtrip(c, k, &m, deadline, err, sizeof err);
			if (!res) {
				brook_buf_release(&tok);
				return set_err(e, CQL_CLIENT_E_CONNECT, 0, "AUTH_RESPONSE: %s",
					       err);
			}
			if (res->msg.opcode == CQL_OP_AUTH_CHALLENGE &&
			    ++rounds < AUTH_MAX_ROUNDS) {
				/* PLAIN has nothing more to say than its credentials */
				cql_res_free(res);
				continue;
			}
			break;
		}
		brook_buf_release(&tok);
		if (res->msg.opcode != CQL_OP_AUTH_SUCCESS) {
			if (res->msg.opcode == CQL_OP_AUTH_CHALLENGE)
				set_err(e, CQL_CLIENT_E_CONNECT, 0,
					"authentication with %s did not finish after %d challenges",
					authenticator, rounds);
			else
				unexpected(res, "authentication failed", e);
			cql_res_free(res);
			return BROOK_ERR;
		}
	} else if (res->msg.opcode != CQL_OP_READY) {
		unexpected(res, "STARTUP", e);
		cql_res_free(res);
		return BROOK_ERR;
	}
	cql_res_free(res);

	pthread_mutex_lock(&c->mu);
	char *use = c->keyspace_use ? brook_strdup(c->keyspace_use) : NULL;
	pthread_mutex_unlock(&c->mu);
	if (use) {
		brook_buf q = BROOK_BUF_INIT;
		brook_buf_printf(&q, "USE %s", use);
		m = (cql_msg){.opcode = CQL_OP_QUERY};
		m.u.query.query = (cql_str){q.data, q.len};
		m.u.query.params.consistency = CQL_CONSISTENCY_ONE;
		res = roundtrip(c, k, &m, deadline, err, sizeof err);
		brook_buf_release(&q);
		int rc = BROOK_OK;
		if (!res) {
			rc = set_err(e, CQL_CLIENT_E_CONNECT, 0, "USE %s: %s", use, err);
		} else if (res->msg.opcode != CQL_OP_RESULT ||
			   cql_res_kind(res) != CQL_RESULT_SET_KEYSPACE) {
			char step[200];
			snprintf(step, sizeof step, "USE %s", use);
			if (first) {
				unexpected(res, step, e);
				rc = BROOK_ERR;
			} else { /* the keyspace went away: statements will say so */
				cql_client_error w;
				unexpected(res, step, &w);
				brook_warn(LOG_COMP, "%s; continuing without a keyspace", w.msg);
			}
		} else {
			set_keyspace(c, cql_res_keyspace(res));
		}
		cql_res_free(res);
		free(use);
		if (rc != BROOK_OK)
			return rc;
	}
	return BROOK_OK;
}

/* "host:port" / "host" / "[v6]:port" into host and port. */
static int split_contact(const char *cp, char **host, int *port)
{
	size_t n = strlen(cp);
	bool bracketed = n > 2 && cp[0] == '[' && cp[n - 1] == ']';
	if (bracketed || (n && !strchr(cp, ':') && !strchr(cp, ' '))) {
		*host = bracketed ? brook_strndup(cp + 1, n - 2) : brook_strdup(cp);
		*port = DEFAULT_PORT;
		return BROOK_OK;
	}
	if (brook_parse_hostport(cp, host, port) != BROOK_OK || *port == 0) {
		free(*host);
		*host = NULL;
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* Connects to the first contact point that completes the handshake. */
static int conn_open(cql_client *c, struct conn *k, bool first, cql_client_error *e)
{
	brook_buf why = BROOK_BUF_INIT;
	cql_client_error herr = {0};
	for (size_t i = 0; i < c->o.n_contact_points; i++) {
		const char *cp = c->cps[i];
		char *host = NULL;
		int port = 0;
		if (split_contact(cp, &host, &port) != BROOK_OK) {
			brook_buf_printf(&why, "%s'%s': not HOST or HOST:PORT", why.len ? "; " : "",
					 cp);
			continue;
		}
		char portstr[8];
		snprintf(portstr, sizeof portstr, "%d", port);
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct addrinfo *ai = NULL;
		int g = getaddrinfo(host, portstr, &hints, &ai);
		if (g != 0) {
			brook_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", cp,
					 gai_strerror(g));
			free(host);
			continue;
		}
		for (struct addrinfo *a = ai; a; a = a->ai_next) {
			int64_t deadline = brook_mono_ms() + c->o.connect_timeout_ms;
			char err[256];
			conn_init(k);
			k->fd = tcp_connect(a, deadline, err, sizeof err);
			if (k->fd < 0) {
				brook_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", cp, err);
				continue;
			}
			snprintf(k->peer, sizeof k->peer, "%s:%d", host, port);
			if (handshake(c, k, first, deadline, &herr) == BROOK_OK) {
				freeaddrinfo(ai);
				free(host);
				brook_buf_release(&why);
				return BROOK_OK;
			}
			conn_close(k);
			brook_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", cp, herr.msg);
			if (herr.code) /* a server's refusal: the same everywhere */
				break;
		}
		freeaddrinfo(ai);
		free(host);
	}
	set_err(e, CQL_CLIENT_E_CONNECT, herr.code, "cannot connect to %s",
		why.len ? why.data : "any contact point");
	brook_buf_release(&why);
	return BROOK_ERR;
}

/* ---- the I/O thread ----------------------------------------------------------------------- */

static void stream_table_reset(cql_client *c)
{
	memset(c->streams, 0, NSTREAMS * sizeof *c->streams);
	c->nfree = NSTREAMS;
	for (int i = 0; i < NSTREAMS; i++)
		c->free_ids[i] = (int16_t)(NSTREAMS - 1 - i); /* 0 pops first */
	c->orphans = 0;
}

static void conn_up(cql_client *c)
{
	c->state = STATE_UP;
	c->backoff = c->o.reconnect_base_ms;
	stream_table_reset(c);
	pthread_mutex_lock(&c->mu);
	snprintf(c->peer, sizeof c->peer, "%s", c->k.peer);
	c->lz4 = c->k.lz4;
	c->connections++;
	pthread_mutex_unlock(&c->mu);
}

/* UP -> DOWN: every request on the wire fails (its fate on the server is unknown). */
static void conn_lost(cql_client *c, const char *why)
{
	brook_warn(LOG_COMP, "connection to %s lost: %s; reconnecting", c->k.peer, why);
	snprintf(c->last_err, sizeof c->last_err, "connection to %s lost: %s", c->k.peer, why);
	conn_close(&c->k);
	c->state = STATE_DOWN;
	c->reconnect_at = brook_mono_ms(); /* first attempt at once, then back off */
	struct req lost = {0};
	lost.next = lost.prev = &lost;
	while (c->inflight.next != &c->inflight) {
		struct req *r = c->inflight.next;
		list_del(r);
		list_add(&lost, r);
	}
	stream_table_reset(c);
	while (lost.next != &lost) {
		struct req *r = lost.next;
		list_del(r);
		fail(c, r, CQL_CLIENT_E_CONNECTION, 0,
		     "the connection to %s was lost with the request on it (it may or may "
		     "not have been applied): %s",
		     c->k.peer, why);
	}
}

static void try_reconnect(cql_client *c)
{
	cql_client_error e = {0};
	struct conn k;
	conn_init(&k);
	if (conn_open(c, &k, false, &e) == BROOK_OK) {
		c->k = k;
		conn_up(c);
		brook_info(LOG_COMP, "reconnected to %s", c->k.peer);
		return;
	}
	snprintf(c->last_err, sizeof c->last_err, "%s", e.msg);
	c->reconnect_at = brook_mono_ms() + c->backoff;
	brook_warn(LOG_COMP, "%s; retrying in %lld ms", e.msg, (long long)c->backoff);
	c->backoff *= 2;
	if (c->backoff > c->o.reconnect_max_ms)
		c->backoff = c->o.reconnect_max_ms;
}

static void frame_req(cql_client *c, struct req *r)
{
	struct conn *k = &c->k;
	if (r->msg.opcode == CQL_OP_EXECUTE) {
		r->msg.u.execute.id = cql_prep_version_id(cql_prepared_current(r->preps[0]));
	} else if (r->msg.opcode == CQL_OP_BATCH) {
		for (int i = 0; i < r->npreps; i++)
			if (r->preps[i])
				r->msg.u.batch.stmts[i].id =
				    cql_prep_version_id(cql_prepared_current(r->preps[i]));
	}
	size_t pos = cql_frame_begin(&k->wbuf, CQL_PROTOCOL_V4, 0, r->stream, r->msg.opcode);
	cql_msg_encode(&k->wbuf, &r->msg);
	cql_frame_end(&k->wbuf, pos,
		      k->lz4 && k->wbuf.len - pos - CQL_FRAME_HEADER_LEN >= LZ4_MIN_BODY);
}

/* Moves pending requests onto the wire while stream ids are free. */
static void send_pending(cql_client *c)
{
	pthread_mutex_lock(&c->mu);
	struct req *r = c->pend_head;
	c->pend_head = c->pend_tail = NULL;
	pthread_mutex_unlock(&c->mu);
	while (r) {
		if (c->nfree == 0) { /* put the rest back, in order */
			pthread_mutex_lock(&c->mu);
			struct req *last = r;
			while (last->next)
				last = last->next;
			last->next = c->pend_head;
			if (!c->pend_head)
				c->pend_tail = last;
			c->pend_head = r;
			pthread_mutex_unlock(&c->mu);
			return;
		}
		struct req *next = r->next;
		r->stream = c->free_ids[--c->nfree];
		c->streams[r->stream] = r;
		list_add(&c->inflight, r);
		frame_req(c, r);
		r = next;
	}
}

/* Writes what the socket takes now; BROOK_ERR when the connection broke. */
static int flush(cql_client *c)
{
	struct conn *k = &c->k;
	while (k->woff < k->wbuf.len) {
		ssize_t n = send(k->fd, k->wbuf.data + k->woff, k->wbuf.len - k->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			k->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return BROOK_OK;
		conn_lost(c, strerror(errno));
		return BROOK_ERR;
	}
	brook_buf_reset(&k->wbuf);
	k->woff = 0;
	return BROOK_OK;
}

static void handle_frame(cql_client *c, const cql_frame_hdr *h, const uint8_t *body)
{
	if (h->stream < 0) {
		brook_debug(LOG_COMP, "ignoring %s on stream %d", cql_opcode_name(h->opcode),
			    h->stream);
		return;
	}
	struct req *r = c->streams[h->stream];
	if (!r) {
		brook_warn(LOG_COMP, "%s sent an answer on stream %d, which has no request; "
				     "ignored",
			   c->k.peer, h->stream);
		return;
	}
	c->streams[h->stream] = NULL;
	c->free_ids[c->nfree++] = h->stream;
	if (r == &orphan_mark) {
		c->orphans--;
		return;
	}
	list_del(r);
	r->stream = -1;
	char err[256];
	if ((h->flags & CQL_FLAG_COMPRESSION) && !c->k.lz4) {
		fail(c, r, CQL_CLIENT_E_PROTOCOL, 0,
		     "the server compressed an answer although compression is off");
		return;
	}
	cql_res *res = cql_res_decode(h, body, h->length, c->o.max_frame_bytes, err, sizeof err);
	if (!res) {
		fail(c, r, CQL_CLIENT_E_PROTOCOL, 0, "%s", err);
		return;
	}
	on_answer(c, r, res);
}

/* Reads and dispatches everything available; BROOK_ERR when the connection broke. */
static int read_ready(cql_client *c)
{
	struct conn *k = &c->k;
	for (;;) {
		ssize_t n = conn_fill(k);
		if (n == BROOK_AGAIN)
			return BROOK_OK;
		if (n == 0) {
			conn_lost(c, "the server closed the connection");
			return BROOK_ERR;
		}
		if (n < 0) {
			conn_lost(c, strerror(errno));
			return BROOK_ERR;
		}
		for (;;) {
			cql_frame_hdr h;
			const uint8_t *body;
			char err[256];
			int rc =
			    conn_next_frame(k, c->o.max_frame_bytes, &h, &body, err, sizeof err);
			if (rc == BROOK_AGAIN)
				break;
			if (rc == BROOK_ERR) {
				conn_lost(c, err);
				return BROOK_ERR;
			}
			handle_frame(c, &h, body);
			if (c->state != STATE_UP)
				return BROOK_ERR;
		}
	}
}

/* Fails requests past their deadline; recomputes the next deadline. */
static void check_timeouts(cql_client *c, int64_t now)
{
	int64_t next = INT64_MAX;
	struct req expired = {0};
	expired.next = expired.prev = &expired;
	for (struct req *r = c->inflight.next, *nx; r != &c->inflight; r = nx) {
		nx = r->next;
		if (r->deadline > now) {
			if (r->deadline < next)
				next = r->deadline;
			continue;
		}
		list_del(r);
		c->streams[r->stream] = &orphan_mark;
		c->orphans++;
		list_add(&expired, r);
	}
	struct req *pexp = NULL;
	pthread_mutex_lock(&c->mu);
	struct req **pp = &c->pend_head, *tail = NULL;
	while (*pp) {
		struct req *r = *pp;
		if (r->deadline <= now) {
			*pp = r->next;
			r->next = pexp;
			pexp = r;
			continue;
		}
		if (r->deadline < next)
			next = r->deadline;
		tail = r;
		pp = &r->next;
	}
	c->pend_tail = tail;
	c->next_deadline = next;
	pthread_mutex_unlock(&c->mu);
	while (expired.next != &expired) {
		struct req *r = expired.next;
		list_del(r);
		fail(c, r, CQL_CLIENT_E_TIMEOUT, 0, "no answer from %s within %lld ms", c->k.peer,
		     (long long)r->timeout_ms);
	}
	while (pexp) {
		struct req *r = pexp;
		pexp = r->next;
		if (c->state == STATE_UP)
			fail(c, r, CQL_CLIENT_E_TIMEOUT, 0,
			     "timed out after %lld ms waiting for a free stream id",
			     (long long)r->timeout_ms);
		else
			fail(c, r, CQL_CLIENT_E_TIMEOUT, 0,
			     "timed out after %lld ms waiting for a connection (%s)",
			     (long long)r->timeout_ms, c->last_err);
	}
	if (c->state == STATE_UP && c->orphans > NSTREAMS / 2)
		conn_lost(c, "too many requests timed out without an answer");
}

static void *io_main(void *arg)
{
	pthread_setname_np(pthread_self(), "cql-client");
	cql_client *c = arg;
	for (;;) {
		int64_t now = brook_mono_ms();
		pthread_mutex_lock(&c->mu);
		bool done = c->closing && c->live == 0;
		bool have_pending = c->pend_head != NULL;
		int64_t nd = c->next_deadline;
		pthread_mutex_unlock(&c->mu);
		if (done)
			break;
		if (now >= nd)
			check_timeouts(c, now);
		if (c->state == STATE_DOWN && now >= c->reconnect_at) {
			try_reconnect(c);
			continue;
		}
		if (c->state == STATE_UP && have_pending && c->nfree > 0)
			send_pending(c);
		if (c->state == STATE_UP && c->k.woff < c->k.wbuf.len && flush(c) != BROOK_OK)
			continue;

		pthread_mutex_lock(&c->mu);
		int timeout;
		if (c->pend_head && c->state == STATE_UP && c->nfree > 0) {
			timeout = 0;
		} else {
			int64_t until = c->next_deadline;
			if (c->state == STATE_DOWN && c->reconnect_at < until)
				until = c->reconnect_at;
			int64_t left = until - brook_mono_ms();
			timeout = left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
			c->io_waiting = true;
		}
		if (c->closing && c->live == 0)
			timeout = 0;
		pthread_mutex_unlock(&c->mu);

		struct pollfd pf[2] = {{.fd = c->wakefd, .events = POLLIN},
				       {.fd = c->state == STATE_UP ? c->k.fd : -1,
					.events = POLLIN}};
		if (c->state == STATE_UP && c->k.woff < c->k.wbuf.len)
			pf[1].events |= POLLOUT;
		int n = poll(pf, 2, timeout);
		pthread_mutex_lock(&c->mu);
		c->io_waiting = false;
		pthread_mutex_unlock(&c->mu);
		if (n <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			uint64_t v;
			ssize_t rd = read(c->wakefd, &v, sizeof v);
			(void)rd;
		}
		if (c->state == STATE_UP && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (read_ready(c) != BROOK_OK)
				continue;
		}
		if (c->state == STATE_UP && (pf[1].revents & POLLOUT))
			flush(c);
	}
	conn_close(&c->k);
	return NULL;
}

/* ---- the client ---------------------------------------------------------------------------- */

/* How USE names a keyspace given by the user: as is when already quoted or plain
 * lower-case, else double-quoted (case-sensitive), as the DataStax drivers do. */
static char *use_name(const char *ks, char **exact)
{
	size_t n = strlen(ks);
	if (n >= 2 && ks[0] == '"' && ks[n - 1] == '"') {
		brook_buf e = BROOK_BUF_INIT;
		for (size_t i = 1; i + 1 < n; i++) {
			brook_buf_putc(&e, ks[i]);
			if (ks[i] == '"' && i + 2 < n && ks[i + 1] == '"')
				i++;
		}
		*exact = brook_buf_detach(&e, NULL);
		return brook_strdup(ks);
	}
	bool plain = n > 0;
	for (size_t i = 0; i < n; i++)
		if (!((ks[i] >= 'a' && ks[i] <= 'z') || (ks[i] >= '0' && ks[i] <= '9') ||
		      ks[i] == '_'))
			plain = false;
	*exact = brook_strdup(ks);
	if (plain)
		return brook_strdup(ks);
	brook_buf q = BROOK_BUF_INIT;
	brook_buf_putc(&q, '"');
	for (size_t i = 0; i < n; i++) {
		if (ks[i] == '"')
			brook_buf_putc(&q, '"');
		brook_buf_putc(&q, ks[i]);
	}
	brook_buf_putc(&q, '"');
	return brook_buf_detach(&q, NULL);
}

static void client_destroy(cql_client *c)
{
	conn_close(&c->k);
	if (c->wakefd >= 0)
		close(c->wakefd);
	cql_stmt_cache_release(&c->cache);
	for (size_t i = 0; i < c->o.n_contact_points; i++)
		free(c->cps[i]);
	free(c->cps);
	free(c->username);
	free(c->password);
	free(c->keyspace);
	free(c->keyspace_use);
	free(c->streams);
	free(c->free_ids);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv_space);
	free(c);
}

cql_client *cql_client_new(const cql_client_opts *o, cql_client_error *err)
{
	memset(err, 0, sizeof *err);
	if (!o->contact_points || o->n_contact_points == 0) {
		set_err(err, CQL_CLIENT_E_USAGE, 0, "no contact points");
		return NULL;
	}
	if (!o->username != !o->password) {
		set_err(err, CQL_CLIENT_E_USAGE, 0,
			"give both a username and a password, or neither");
		return NULL;
	}
	if (o->max_in_flight < 1 || o->max_in_flight > NSTREAMS) {
		set_err(err, CQL_CLIENT_E_USAGE, 0, "max_in_flight must be 1..%d, not %d", NSTREAMS,
			o->max_in_flight);
		return NULL;
	}
	cql_client *c = brook_calloc(1, sizeof *c);
	c->o = *o;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = 5000;
	if (c->o.request_timeout_ms <= 0)
		c->o.request_timeout_ms = 12000;
	if (c->o.reconnect_base_ms <= 0)
		c->o.reconnect_base_ms = 100;
	if (c->o.reconnect_max_ms < c->o.reconnect_base_ms)
		c->o.reconnect_max_ms = c->o.reconnect_base_ms;
	if (c->o.max_frame_bytes == 0)
		c->o.max_frame_bytes = 256u * 1024 * 1024;
	c->cps = brook_calloc(o->n_contact_points, sizeof *c->cps);
	for (size_t i = 0; i < o->n_contact_points; i++)
		c->cps[i] = brook_strdup(o->contact_points[i]);
	c->o.contact_points = (const char *const *)c->cps;
	c->username = o->username ? brook_strdup(o->username) : NULL;
	c->password = o->password ? brook_strdup(o->password) : NULL;
	c->o.username = c->username;
	c->o.password = c->password;
	if (o->keyspace && *o->keyspace)
		c->keyspace_use = use_name(o->keyspace, &c->keyspace);
	c->o.keyspace = NULL;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv_space, &ca);
	pthread_condattr_destroy(&ca);
	cql_stmt_cache_init(&c->cache);
	c->next_deadline = INT64_MAX;
	c->inflight.next = c->inflight.prev = &c->inflight;
	c->streams = brook_calloc(NSTREAMS, sizeof *c->streams);
	c->free_ids = brook_calloc(NSTREAMS, sizeof *c->free_ids);
	conn_init(&c->k);
	c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wakefd < 0) {
		set_err(err, CQL_CLIENT_E_CONNECT, 0, "eventfd: %s", strerror(errno));
		client_destroy(c);
		return NULL;
	}
	if (conn_open(c, &c->k, true, err) != BROOK_OK) {
		client_destroy(c);
		return NULL;
	}
	conn_up(c);
	brook_debug(LOG_COMP, "connected to %s%s", c->k.peer, c->k.lz4 ? " (lz4)" : "");
	int rc = pthread_create(&c->io, NULL, io_main, c);
	if (rc != 0) {
		set_err(err, CQL_CLIENT_E_CONNECT, 0, "cannot start the I/O thread: %s",
			strerror(rc));
		client_destroy(c);
		return NULL;
	}
	return c;
}

void cql_client_free(cql_client *c)
{
	if (!c)
		return;
	if (on_io_thread(c)) {
		brook_error(LOG_COMP, "cql_client_free called from a completion callback");
		abort();
	}
	pthread_mutex_lock(&c->mu);
	c->closing = true;
	pthread_cond_broadcast(&c->cv_space);
	pthread_mutex_unlock(&c->mu);
	wake_io(c);
	pthread_join(c->io, NULL);
	client_destroy(c);
}

void cql_client_peer(cql_client *c, char *out, size_t outlen)
{
	pthread_mutex_lock(&c->mu);
	snprintf(out, outlen, "%s", c->peer);
	pthread_mutex_unlock(&c->mu);
}

bool cql_client_compressed(cql_client *c)
{
	pthread_mutex_lock(&c->mu);
	bool z = c->lz4;
	pthread_mutex_unlock(&c->mu);
	return z;
}

uint64_t cql_client_connections(cql_client *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t n = c->connections;
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* ---- submitting -------------------------------------------------------------------------- */

int cql_client_execute_async(cql_client *c, const cql_stmt *st, cql_done_fn done, void *arg,
			     cql_client_error *err)
{
	struct req *r = req_from_stmt(c, st, err);
	if (!r)
		return BROOK_ERR;
	return submit(c, r, done, arg, err);
}

int cql_client_execute_batch_async(cql_client *c, const cql_stmt_batch *b, cql_done_fn done,
				   void *arg, cql_client_error *err)
{
	struct req *r = req_from_batch(c, b, err);
	if (!r)
		return BROOK_ERR;
	return submit(c, r, done, arg, err);
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	cql_res *res;
	cql_client_error err;
};

static void waiter_done(void *arg, cql_res *res, const cql_client_error *err)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->res = res;
	if (err)
		w->err = *err;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Submits r and waits for its answer. */
static int run_sync(cql_client *c, struct req *r, cql_res **out, cql_client_error *err)
{
	struct waiter w = {.done = false};
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	int rc = submit(c, r, waiter_done, &w, err);
	if (rc == BROOK_OK) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		if (w.res) {
			if (out)
				*out = w.res;
			else
				cql_res_free(w.res);
		} else {
			if (err)
				*err = w.err;
			rc = BROOK_ERR;
		}
	}
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	return rc;
}

static int refuse_on_io(cql_client *c, cql_client_error *err)
{
	if (!on_io_thread(c))
		return BROOK_OK;
	return set_err(err, CQL_CLIENT_E_USAGE, 0,
		       "a synchronous call from a completion callback would deadlock; submit "
		       "asynchronously");
}

int cql_client_execute(cql_client *c, const cql_stmt *st, cql_res **out, cql_client_error *err)
{
	if (out)
		*out = NULL;
	if (err)
		memset(err, 0, sizeof *err);
	if (refuse_on_io(c, err) != BROOK_OK)
		return BROOK_ERR;
	struct req *r = req_from_stmt(c, st, err);
	if (!r)
		return BROOK_ERR;
	return run_sync(c, r, out, err);
}

int cql_client_execute_batch(cql_client *c, const cql_stmt_batch *b, cql_res **out,
			     cql_client_error *err)
{
	if (out)
		*out = NULL;
	if (err)
		memset(err, 0, sizeof *err);
	if (refuse_on_io(c, err) != BROOK_OK)
		return BROOK_ERR;
	struct req *r = req_from_batch(c, b, err);
	if (!r)
		return BROOK_ERR;
	return run_sync(c, r, out, err);
}

int cql_client_query(cql_client *c, const char *query, cql_res **out, cql_client_error *err)
{
	cql_stmt *st = cql_stmt_new(query);
	int rc = cql_client_execute(c, st, out, err);
	cql_stmt_free(st);
	return rc;
}

int cql_client_prepare(cql_client *c, const char *query, cql_prepared **out,
		       cql_client_error *err)
{
	*out = NULL;
	if (err)
		memset(err, 0, sizeof *err);
	if (refuse_on_io(c, err) != BROOK_OK)
		return BROOK_ERR;
	pthread_mutex_lock(&c->mu);
	char *ks = brook_strdup(c->keyspace ? c->keyspace : "");
	cql_prepared *p = cql_stmt_cache_get(&c->cache, ks, query);
	pthread_mutex_unlock(&c->mu);
	if (p) {
		free(ks);
		*out = p;
		return BROOK_OK;
	}
	struct req *r = req_new(c, 0);
	size_t n = strlen(query);
	r->msg.opcode = CQL_OP_PREPARE;
	r->msg.u.prepare = (cql_str){brook_arena_strndup(&r->arena, query, n), n};
	cql_res *res = NULL;
	int rc = run_sync(c, r, &res, err);
	if (rc != BROOK_OK) {
		free(ks);
		return rc;
	}
	char msg[256];
	p = cql_prepared_new(ks, query, res, msg, sizeof msg);
	free(ks);
	if (!p) {
		cql_res_free(res);
		return set_err(err, CQL_CLIENT_E_PROTOCOL, 0, "%s", msg);
	}
	pthread_mutex_lock(&c->mu);
	cql_prepared *have = cql_stmt_cache_put(&c->cache, p);
	pthread_mutex_unlock(&c->mu);
	if (have != p)
		cql_prepared_free(p);
	*out = have;
	return BROOK_OK;
}

int cql_client_next_page(cql_client *c, cql_stmt *st, const cql_res *prev, cql_res **out,
			 cql_client_error *err)
{
	*out = NULL;
	if (err)
		memset(err, 0, sizeof *err);
	if (!cql_stmt_set_paging_state_from(st, prev))
		return BROOK_OK;
	return cql_client_execute(c, st, out, err);
}

int cql_client_foreach_row(cql_client *c, cql_stmt *st, cql_row_fn fn, void *arg,
			   int64_t *rows, cql_client_error *err)
{
	int64_t seen = 0;
	if (rows)
		*rows = 0;
	cql_stmt_set_paging_state(st, NULL, 0);
	for (;;) {
		cql_res *res = NULL;
		int rc = cql_client_execute(c, st, &res, err);
		if (rc != BROOK_OK)
			return rc;
		int32_t n = cql_res_row_count(res);
		for (int32_t i = 0; i < n; i++) {
			int stop = fn(arg, res, i);
			seen++;
			if (stop) {
				if (rows)
					*rows = seen;
				cql_res_free(res);
				return stop;
			}
		}
		bool more = cql_stmt_set_paging_state_from(st, res);
		cql_res_free(res);
		if (rows)
			*rows = seen;
		if (!more)
			return BROOK_OK;
	}
}
