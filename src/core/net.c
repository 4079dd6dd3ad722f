/*
 * net.c — libuv listener, protocol framing and response queues (see net.h).
 *
 * Connection states
 *   OPEN      reading (unless max_inflight requests are outstanding), writing
 *             completed slots from the head of the queue
 *   CLOSING   uv_close() called (peer hung up, protocol error, shutdown); completed
 *             slots are dropped; the struct lives on while references remain
 *   freed     when the last reference goes: one for being open, one per outstanding
 *             slot, one per write in flight
 *
 * Read buffer: one growable buffer per connection; frames are cut from it and copied
 * into their own allocation (the handler owns it), the partial tail moves to the front.
 */
#include "core/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"

#define READ_CHUNK (64 * 1024)
#define MAX_IOV 64

enum { SLOT_PENDING, SLOT_DONE, SLOT_SILENT };

struct brook_slot {
	brook_slot *next;
	brook_conn *conn;
	int state;
	bool close_after; /* close the connection once written */
	brook_buf resp;
	brook_file_part *parts; /* zero-copy regions (see brook_slot_complete_parts) */
	size_t nparts;
};

struct brook_conn {
	uv_tcp_t tcp; /* first: a uv_handle_t * is a brook_conn * */
	brook_net *net;
	brook_conn *prev, *next;
	char peer[64];
	uint8_t *rbuf;
	size_t rlen, rcap;
	brook_slot *head, *tail;
	int inflight; /* slots in the queue (pending or completed, not yet written) */
	int writing;  /* uv_write requests in flight */
	int refs;
	bool closing;
	bool reading;
	bool processing; /* inside process_frames: no re-entry */
	bool stopped;    /* a fatal frame was seen: read and process nothing more */
	bool close_after_write; /* close once the writes in flight are done */
	void *user;
	void (*user_free)(void *);
};

struct brook_net {
	uv_loop_t *loop;
	uv_tcp_t listener;
	brook_net_opts o;
	int port;
	brook_conn *conns;
	size_t nconns;
};

typedef struct write_req {
	uv_write_t req;
	brook_conn *conn;
	brook_slot *slots[MAX_IOV];
	int n;
	char **owned; /* buffers read from files for a fallback write */
	int nowned;
} write_req;

static void conn_unref(brook_conn *c)
{
	if (--c->refs > 0)
		return;
	free(c->rbuf);
	if (c->user_free)
		c->user_free(c->user);
	free(c);
}

static void slot_free(brook_slot *s)
{
	for (size_t i = 0; i < s->nparts; i++)
		if (s->parts[i].release)
			s->parts[i].release(s->parts[i].ref);
	free(s->parts);
	brook_buf_release(&s->resp);
	free(s);
}

static void on_close(uv_handle_t *h)
{
	conn_unref((brook_conn *)h);
}

static void conn_close(brook_conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	if (why)
		brook_info(c->net->o.comp, "closing connection from %s: %s", c->peer, why);
	brook_net *n = c->net;
	if (c->prev)
		c->prev->next = c->next;
	else
		n->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	n->nconns--;
	/* Completed-but-unwritten slots will never be written. */
	brook_slot **pp = &c->head;
	while (*pp) {
		brook_slot *s = *pp;
		if (s->state != SLOT_PENDING) {
			*pp = s->next;
			slot_free(s);
			c->inflight--;
		} else {
			pp = &s->next;
		}
	}
	c->tail = NULL;
	for (brook_slot *s = c->head; s; s = s->next)
		c->tail = s;
	uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void try_flush(brook_conn *c);
static void resume_reading(brook_conn *c);

static void on_write(uv_write_t *req, int status)
{
	write_req *w = (write_req *)req;
	brook_conn *c = w->conn;
	c->writing--;
	for (int i = 0; i < w->n; i++)
		slot_free(w->slots[i]);
	for (int i = 0; i < w->nowned; i++)
		free(w->owned[i]);
	free(w->owned);
	if (status < 0 && status != UV_ECANCELED)
		conn_close(c, uv_strerror(status));
	free(w);
	if (!c->closing) {
		try_flush(c);
		resume_reading(c);
	}
	conn_unref(c);
}

static int queue_write(brook_conn *c, write_req *w, uv_buf_t *bufs, unsigned n)
{
	c->refs++;
	c->writing++;
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, n, on_write);
	if (rc < 0) {
		c->writing--;
		for (int i = 0; i < w->n; i++)
			slot_free(w->slots[i]);
		for (int i = 0; i < w->nowned; i++)
			free(w->owned[i]);
		free(w->owned);
		free(w);
		conn_unref(c);
		conn_close(c, uv_strerror(rc));
	}
	return rc;
}

/*
 * Sends a slot with file parts. Pieces alternate: buffer [from, part.at), file part,
 * ... buffer tail. They go out synchronously (uv_try_write, sendfile) while the socket
 * takes them; the moment it is full, whatever is left is turned into memory buffers
 * (file parts pread) and queued with uv_write, keeping the order.
 */
static void send_with_parts(brook_conn *c, brook_slot *s)
{
	uv_os_fd_t sock;
	uv_fileno((uv_handle_t *)&c->tcp, &sock);
	size_t np = s->nparts, bpos = 0, i = 0;
	size_t file_done = 0; /* bytes of part i already sent */
	bool blocked = false;
	while (!blocked && i <= np) {
		size_t bend = i < np ? s->parts[i].at : s->resp.len;
		while (bpos < bend) {
			uv_buf_t ub = uv_buf_init(s->resp.data + bpos, (unsigned)(bend - bpos));
			int n = uv_try_write((uv_stream_t *)&c->tcp, &ub, 1);
			if (n <= 0) {
				if (n != UV_EAGAIN && n != 0) {
					conn_close(c, uv_strerror(n));
					slot_free(s);
					return;
				}
				blocked = true;
				break;
			}
			bpos += (size_t)n;
		}
		if (blocked || i == np)
			break;
		brook_file_part *fp = &s->parts[i];
		while (file_done < fp->len) {
			off_t off = (off_t)(fp->pos + (int64_t)file_done);
			ssize_t n = sendfile(sock, fp->fd, &off, fp->len - file_done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				blocked = true;
				break;
			}
			if (n <= 0) {
				conn_close(c, n < 0 ? strerror(errno) : "segment file shorter than "
					   "expected");
				slot_free(s);
				return;
			}
			file_done += (size_t)n;
		}
		if (blocked)
			break;
		i++;
		file_done = 0;
	}
	if (!blocked) {
		slot_free(s);
		return;
	}
	/* The socket is full: queue the rest, in order. */
	write_req *w = brook_calloc(1, sizeof *w);
	w->conn = c;
	w->slots[w->n++] = s;
	uv_buf_t *bufs = brook_calloc(2 * (np + 1), sizeof *bufs);
	w->owned = brook_calloc(np + 1, sizeof *w->owned);
	unsigned nb = 0;
	for (; i <= np; i++) {
		size_t bend = i < np ? s->parts[i].at : s->resp.len;
		if (bpos < bend)
			bufs[nb++] = uv_buf_init(s->resp.data + bpos, (unsigned)(bend - bpos));
		bpos = bend;
		if (i == np)
			break;
		brook_file_part *fp = &s->parts[i];
		size_t left = fp->len - file_done;
		if (left) {
			char *mem = brook_malloc(left);
			if (brook_pread_all(fp->fd, mem, left, fp->pos + (int64_t)file_done) != BROOK_OK) {
				free(mem);
				free(bufs);
				for (int k = 0; k < w->nowned; k++)
					free(w->owned[k]);
				free(w->owned);
				free(w);
				conn_close(c, "reading a segment file failed");
				slot_free(s);
				return;
			}
			w->owned[w->nowned++] = mem;
			bufs[nb++] = uv_buf_init(mem, (unsigned)left);
		}
		file_done = 0;
	}
	queue_write(c, w, bufs, nb);
	free(bufs);
}

/* The next slot ready to be written — the head in ordered mode, the first completed one
 * in unordered mode — and the link pointing at it; NULL if none. */
static brook_slot *peek_ready(brook_conn *c, brook_slot ***link)
{
	for (brook_slot **pp = &c->head; *pp; pp = &(*pp)->next) {
		if ((*pp)->state != SLOT_PENDING) {
			*link = pp;
			return *pp;
		}
		if (!c->net->o.unordered)
			break;
	}
	return NULL;
}

static void unlink_slot(brook_conn *c, brook_slot **link)
{
	brook_slot *s = *link;
	*link = s->next;
	if (c->tail == s)
		c->tail = link == &c->head ? NULL
					   : (brook_slot *)((char *)link - offsetof(brook_slot, next));
	c->inflight--;
	if (s->close_after)
		c->close_after_write = true;
}

/* Write every slot that is ready (see peek_ready), batching buffers into one write. */
static void try_flush(brook_conn *c)
{
	brook_slot **link;
	brook_slot *s;
	while (!c->closing && (s = peek_ready(c, &link)) != NULL) {
		if (s->nparts && s->state == SLOT_DONE) {
			/* Zero-copy needs the socket to itself: wait for queued writes. */
			if (c->writing)
				return;
			unlink_slot(c, link);
			send_with_parts(c, s);
			continue;
		}
		write_req *w = NULL;
		uv_buf_t bufs[MAX_IOV];
		while ((s = peek_ready(c, &link)) != NULL && !s->nparts && (!w || w->n < MAX_IOV)) {
			unlink_slot(c, link);
			if (s->state == SLOT_SILENT || s->resp.len == 0) {
				slot_free(s);
				continue;
			}
			if (!w) {
				w = brook_calloc(1, sizeof *w);
				w->conn = c;
			}
			bufs[w->n] = uv_buf_init(s->resp.data, (unsigned)s->resp.len);
			w->slots[w->n++] = s;
		}
		if (w)
			queue_write(c, w, bufs, (unsigned)w->n);
	}
	if (!c->closing && c->close_after_write && !c->writing)
		conn_close(c, NULL);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	brook_conn *c = (brook_conn *)h;
	if (c->rcap - c->rlen < READ_CHUNK) {
		size_t cap = c->rcap ? c->rcap : READ_CHUNK;
		while (cap - c->rlen < READ_CHUNK)
			cap *= 2;
		c->rbuf = brook_realloc(c->rbuf, cap);
		c->rcap = cap;
	}
	*buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void stop_reading(brook_conn *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void process_frames(brook_conn *c);

/* Called when slots drain: frames already buffered are processed first. */
static void resume_reading(brook_conn *c)
{
	if (c->closing || c->stopped || c->inflight >= c->net->o.max_inflight)
		return;
	if (!c->processing && c->rlen > 0)
		process_frames(c);
	if (!c->closing && !c->stopped && !c->reading && c->inflight < c->net->o.max_inflight &&
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
		c->reading = true;
}

static brook_slot *slot_new(brook_conn *c)
{
	brook_slot *s = brook_calloc(1, sizeof *s);
	s->conn = c;
	if (c->tail)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	c->inflight++;
	c->refs++;
	return s;
}

static void process_frames(brook_conn *c)
{
	brook_net *n = c->net;
	size_t pos = 0;
	c->refs++; /* handlers may close the connection under us */
	c->processing = true;
	while (!c->closing && !c->stopped && c->inflight < n->o.max_inflight && pos < c->rlen) {
		const uint8_t *p = c->rbuf + pos;
		size_t avail = c->rlen - pos, flen = 0;
		char why[256];
		int rc = n->o.frame_len(n->o.arg, p, avail, &flen, why, sizeof why);
		if (rc == BROOK_AGAIN)
			break;
		if (rc != BROOK_OK) {
			if (n->o.on_bad_frame) {
				c->stopped = true;
				stop_reading(c);
				n->o.on_bad_frame(n->o.arg, c, slot_new(c), p, avail, why);
			} else {
				conn_close(c, why);
			}
			break;
		}
		if (avail < flen) {
			if (c->rcap - pos < flen) {
				/* Make room for the whole frame (frame_len bounded it). */
				memmove(c->rbuf, p, avail);
				c->rlen = avail;
				pos = 0;
				c->rcap = flen + READ_CHUNK;
				c->rbuf = brook_realloc(c->rbuf, c->rcap);
			}
			break;
		}
		uint8_t *frame = brook_malloc(flen ? flen : 1);
		memcpy(frame, p, flen);
		pos += flen;
		n->o.on_frame(n->o.arg, c, slot_new(c), frame, flen);
	}
	if (pos) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
	if (!c->closing && c->inflight >= n->o.max_inflight)
		stop_reading(c);
	c->processing = false;
	conn_unref(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	brook_conn *c = (brook_conn *)st;
	if (nread < 0) {
		conn_close(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
		return;
	}
	c->rlen += (size_t)nread;
	process_frames(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	brook_net *n = server->data;
	if (status < 0) {
		brook_warn(n->o.comp, "accepting a connection failed: %s", uv_strerror(status));
		return;
	}
	brook_conn *c = brook_calloc(1, sizeof *c);
	c->net = n;
	c->refs = 1;
	uv_tcp_init(n->loop, &c->tcp);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, on_close);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	struct sockaddr_storage ss;
	int len = sizeof ss;
	snprintf(c->peer, sizeof c->peer, "?");
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		char host[INET6_ADDRSTRLEN] = "?";
		int port = 0;
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, host, sizeof host);
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, host, sizeof host);
			port = ntohs(a->sin6_port);
		}
		snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
	}
	c->next = n->conns;
	if (n->conns)
		n->conns->prev = c;
	n->conns = c;
	n->nconns++;
	brook_debug(n->o.comp, "connection from %s", c->peer);
	resume_reading(c);
}

brook_net *brook_net_open(uv_loop_t *loop, const brook_net_opts *o, char *err, size_t errlen)
{
	brook_net *n = brook_calloc(1, sizeof *n);
	n->loop = loop;
	n->o = *o;
	if (n->o.max_inflight <= 0)
		n->o.max_inflight = 32;
	struct sockaddr_storage addr;
	int rc = uv_ip4_addr(o->host, o->port, (struct sockaddr_in *)&addr);
	if (rc != 0)
		rc = uv_ip6_addr(o->host, o->port, (struct sockaddr_in6 *)&addr);
	if (rc != 0) {
		snprintf(err, errlen, "'%s' is not an IP address", o->host);
		free(n);
		return NULL;
	}
	uv_tcp_init(loop, &n->listener);
	n->listener.data = n;
	rc = uv_tcp_bind(&n->listener, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&n->listener, 1024, on_connection);
	if (rc != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", o->host, o->port, uv_strerror(rc));
		uv_close((uv_handle_t *)&n->listener, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
		free(n);
		return NULL;
	}
	struct sockaddr_storage bound;
	int blen = sizeof bound;
	uv_tcp_getsockname(&n->listener, (struct sockaddr *)&bound, &blen);
	n->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
					      : ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return n;
}

int brook_net_port(const brook_net *n)
{
	return n->port;
}

size_t brook_net_connections(const brook_net *n)
{
	return n->nconns;
}

static void on_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

void brook_net_close(brook_net *n)
{
	while (n->conns)
		conn_close(n->conns, NULL);
	uv_close((uv_handle_t *)&n->listener, on_listener_closed);
}

static void slot_done(brook_slot *s)
{
	brook_conn *c = s->conn;
	if (c->closing) {
		/* Nobody to answer: unlink and drop. */
		brook_slot **pp = &c->head;
		while (*pp && *pp != s)
			pp = &(*pp)->next;
		if (*pp) {
			*pp = s->next;
			c->inflight--;
		}
		c->tail = NULL;
		for (brook_slot *t = c->head; t; t = t->next)
			c->tail = t;
		slot_free(s);
	} else {
		try_flush(c);
		resume_reading(c);
	}
	conn_unref(c);
}

void brook_slot_complete(brook_slot *s, brook_buf *resp)
{
	s->resp = *resp;
	*resp = (brook_buf)BROOK_BUF_INIT;
	s->state = SLOT_DONE;
	slot_done(s);
}

void brook_slot_complete_close(brook_slot *s, brook_buf *resp)
{
	brook_conn *c = s->conn;
	c->stopped = true;
	if (!c->closing)
		stop_reading(c);
	s->close_after = true;
	brook_slot_complete(s, resp);
}

void brook_slot_complete_parts(brook_slot *s, brook_buf *resp, brook_file_part *parts,
				size_t nparts)
{
	s->parts = parts;
	s->nparts = nparts;
	brook_slot_complete(s, resp);
}

void brook_slot_complete_silent(brook_slot *s)
{
	s->state = SLOT_SILENT;
	slot_done(s);
}

void brook_slot_fail(brook_slot *s, const char *why)
{
	conn_close(s->conn, why);
	brook_slot_complete_silent(s);
}

void brook_conn_push(brook_conn *c, brook_buf *msg)
{
	if (c->closing) {
		brook_buf_release(msg);
		return;
	}
	brook_slot_complete(slot_new(c), msg);
}

void brook_conn_close(brook_conn *c, const char *why)
{
	conn_close(c, why);
}

brook_conn *brook_slot_conn(const brook_slot *s)
{
	return s->conn;
}

bool brook_conn_alive(const brook_conn *c)
{
	return !c->closing;
}

const char *brook_conn_peer(const brook_conn *c)
{
	return c->peer;
}

void *brook_conn_user(const brook_conn *c)
{
	return c->user;
}

void brook_conn_set_user(brook_conn *c, void *user, void (*free_fn)(void *))
{
	c->user = user;
	c->user_free = free_fn;
}
