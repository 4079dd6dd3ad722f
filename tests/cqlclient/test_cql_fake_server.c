/*
 * test_cql_fake_server.c — brook's CQL client (cql/client.h) against a scripted CQL v4
 * server running in the same process on 127.0.0.1 (ephemeral port), built on brook's
 * protocol codec. It drives what a real server rarely does on demand: answers out of
 * order, answers late or never, UNPREPARED for ids it "forgot", dropped connections,
 * refused reconnections, SASL challenges, lz4 bodies.
 *
 * The fake server understands a few QUERY texts (everything else answers Void):
 *   USE <ks>          Set_keyspace <ks> (remembered per connection)
 *   ECHO <text>       one row, column "r" text = the whole query text
 *   SLEEP <ms> <tag>  like ECHO, answered <ms> later (later requests may overtake it)
 *   NOANSWER          never answered
 *   CLOSE             the server closes the connection
 *   ERROR             ERROR Invalid "unconfigured table foo"
 *   PAGES <n>         rows i = 0..n-1 of column "i" int, paged by the request's page
 *                     size; the paging state is the next offset as 4 bytes
 *   FORGET            forgets every prepared id (like a restart or a schema change)
 *   BIG <n>           one row with a text of n 'x'
 * PREPARE counts '?' markers (all int, named v0, v1, ...); ids carry an epoch that
 * FORGET bumps. EXECUTE of a known id answers one row holding the bound values (v0...);
 * of an unknown id, UNPREPARED. BATCH answers UNPREPARED for its first unknown id, else
 * Void, and counts its statements.
 *
 * No timing assertions: delays only make reordering and timeouts happen; the checks are
 * on which answer reached which request.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "cql/client.h"
#include "cql/compress.h"
#include "cql/frame.h"
#include "cql/msg.h"

/* ---- the fake server ------------------------------------------------------------------ */

#define MAXCONN 8
#define MAXPREP 64

struct delayed {
	struct delayed *next;
	int fd;
	int64_t due;
	brook_buf frame;
};

struct fconn {
	int fd;
	brook_buf in;
	bool lz4;
	bool ready;
	int challenges;
	char keyspace[64];
};

struct fake {
	int lfd, port, stopfd;
	pthread_t th;
	pthread_mutex_t mu;
	/* settings (under mu) */
	bool auth;
	int challenge_rounds;
	bool listening;
	/* counters (under mu) */
	int accepted, prepares, executes, batches, batch_stmts, unprepared;
	char last_use[64];
	/* server thread only */
	struct fconn conns[MAXCONN];
	struct delayed *later;
	int epoch;
	struct {
		char *query;
		char id[32];
		int markers;
	} preps[MAXPREP];
	int nprep;
};

static int listen_on(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_frame(struct fake *f, struct fconn *c, int16_t stream, uint8_t opcode,
                       const brook_buf *body, int64_t delay_ms)
{
	brook_buf fr = BROOK_BUF_INIT;
	size_t pos = cql_frame_begin(&fr, 0x84, 0, stream, opcode);
	brook_buf_append(&fr, body->data, body->len);
	cql_frame_end(&fr, pos, c->lz4 && opcode != CQL_OP_SUPPORTED);
	if (delay_ms <= 0) {
		ssize_t w = send(c->fd, fr.data, fr.len, MSG_NOSIGNAL);
		(void)w;
		brook_buf_release(&fr);
		return;
	}
	struct delayed *d = calloc(1, sizeof *d);
	d->fd = c->fd;
	d->due = brook_mono_ms() + delay_ms;
	d->frame = fr;
	d->next = f->later;
	f->later = d;
}

static cql_metadata one_col_meta(brook_arena *a, int n, const char *prefix, uint16_t type)
{
	cql_metadata m = {.flags = CQL_META_GLOBAL_TABLES_SPEC, .columns_count = n};
	m.keyspace = CQL_STR("ks");
	m.table = CQL_STR("t");
	m.paging_state = CQL_BYTES_NULL;
	m.cols = brook_arena_calloc(a, (size_t)(n ? n : 1) * sizeof(cql_col_spec));
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof name, n == 1 && prefix[0] == 'r' ? "%s" : "%s%d", prefix, i);
		m.cols[i].name = cql_str_from(brook_arena_strndup(a, name, strlen(name)));
		m.cols[i].type = cql_type_native(type);
	}
	return m;
}

static void answer_echo(struct fake *f, struct fconn *c, int16_t stream, cql_str text,
                        int64_t delay)
{
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	cql_metadata m = one_col_meta(&a, 1, "r", CQL_TYPE_VARCHAR);
	cql_rows_wr w;
	cql_rows_begin(&w, &b, &m);
	cql_rows_cell(&w, text.ptr, (int32_t)text.len);
	cql_rows_end(&w);
	send_frame(f, c, stream, CQL_OP_RESULT, &b, delay);
	brook_buf_release(&b);
	brook_arena_release(&a);
}

static void answer_error(struct fake *f, struct fconn *c, int16_t stream, int32_t code,
                         const char *msg)
{
	brook_buf b = BROOK_BUF_INIT;
	cql_error_write(&b, code, msg);
	send_frame(f, c, stream, CQL_OP_ERROR, &b, 0);
	brook_buf_release(&b);
}

static void answer_void(struct fake *f, struct fconn *c, int16_t stream)
{
	brook_buf b = BROOK_BUF_INIT;
	cql_wr_int(&b, CQL_RESULT_VOID);
	send_frame(f, c, stream, CQL_OP_RESULT, &b, 0);
	brook_buf_release(&b);
}

static int find_prep(struct fake *f, cql_bytes id)
{
	for (int i = 0; i < f->nprep; i++)
		if (f->preps[i].id[0] && id.len == (int32_t)strlen(f->preps[i].id) &&
		    !memcmp(id.ptr, f->preps[i].id, (size_t)id.len))
			return i;
	return -1;
}

static void answer_unprepared(struct fake *f, struct fconn *c, int16_t stream, cql_bytes id)
{
	pthread_mutex_lock(&f->mu);
	f->unprepared++;
	pthread_mutex_unlock(&f->mu);
	brook_buf b = BROOK_BUF_INIT;
	cql_error_write_unprepared(&b, "Prepared query with ID not found", id.ptr,
	                           (size_t)(id.len > 0 ? id.len : 0));
	send_frame(f, c, stream, CQL_OP_ERROR, &b, 0);
	brook_buf_release(&b);
}

static void on_query(struct fake *f, struct fconn *c, int16_t stream, const cql_msg *m)
{
	cql_str q = m->u.query.query;
	char text[256];
	snprintf(text, sizeof text, "%.*s", (int)(q.len < 255 ? q.len : 255), q.ptr);
	if (!strncmp(text, "USE ", 4)) {
		const char *ks = text + 4;
		char name[64];
		size_t n = strlen(ks);
		if (n >= 2 && ks[0] == '"')
			snprintf(name, sizeof name, "%.*s", (int)(n - 2), ks + 1);
		else
			snprintf(name, sizeof name, "%s", ks);
		snprintf(c->keyspace, sizeof c->keyspace, "%s", name);
		pthread_mutex_lock(&f->mu);
		snprintf(f->last_use, sizeof f->last_use, "%s", name);
		pthread_mutex_unlock(&f->mu);
		brook_buf b = BROOK_BUF_INIT;
		cql_wr_int(&b, CQL_RESULT_SET_KEYSPACE);
		cql_wr_cstring(&b, name);
		send_frame(f, c, stream, CQL_OP_RESULT, &b, 0);
		brook_buf_release(&b);
	} else if (!strncmp(text, "ECHO", 4)) {
		answer_echo(f, c, stream, q, 0);
	} else if (!strncmp(text, "SLEEP ", 6)) {
		answer_echo(f, c, stream, q, atoi(text + 6));
	} else if (!strcmp(text, "NOANSWER")) {
		/* nothing */
	} else if (!strcmp(text, "CLOSE")) {
		shutdown(c->fd, SHUT_RDWR);
	} else if (!strcmp(text, "ERROR")) {
		answer_error(f, c, stream, CQL_ERR_INVALID, "unconfigured table foo");
	} else if (!strcmp(text, "FORGET")) {
		f->epoch++;
		for (int i = 0; i < f->nprep; i++)
			f->preps[i].id[0] = '\0';
		answer_void(f, c, stream);
	} else if (!strncmp(text, "BIG ", 4)) {
		size_t n = (size_t)atoi(text + 4);
		char *s = malloc(n);
		memset(s, 'x', n);
		answer_echo(f, c, stream, (cql_str){s, n}, 0);
		free(s);
	} else if (!strncmp(text, "PAGES ", 6)) {
		int total = atoi(text + 6);
		const cql_query_params *p = &m->u.query.params;
		int from = 0, size = total;
		if ((p->flags & CQL_QF_PAGE_SIZE) && p->page_size > 0)
			size = p->page_size;
		if ((p->flags & CQL_QF_PAGING_STATE) && p->paging_state.len == 4)
			from =
			    (int)((uint32_t)p->paging_state.ptr[0] << 24 |
			          (uint32_t)p->paging_state.ptr[1] << 16 |
			          (uint32_t)p->paging_state.ptr[2] << 8 | p->paging_state.ptr[3]);
		brook_arena a = BROOK_ARENA_INIT;
		brook_buf b = BROOK_BUF_INIT;
		cql_metadata md = one_col_meta(&a, 1, "i", CQL_TYPE_INT);
		md.cols[0].name = CQL_STR("i");
		cql_rows_wr w;
		cql_rows_begin(&w, &b, &md);
		int to = from + size < total ? from + size : total;
		for (int i = from; i < to; i++)
			cql_rows_cell_int(&w, i);
		if (to < total) {
			uint8_t ps[4] = {(uint8_t)(to >> 24), (uint8_t)(to >> 16),
			                 (uint8_t)(to >> 8), (uint8_t)to};
			cql_rows_set_paging_state(&w, ps, 4);
		}
		cql_rows_end(&w);
		send_frame(f, c, stream, CQL_OP_RESULT, &b, 0);
		brook_buf_release(&b);
		brook_arena_release(&a);
	} else {
		answer_void(f, c, stream);
	}
}

static void on_prepare(struct fake *f, struct fconn *c, int16_t stream, cql_str q)
{
	pthread_mutex_lock(&f->mu);
	f->prepares++;
	pthread_mutex_unlock(&f->mu);
	int markers = 0;
	for (size_t i = 0; i < q.len; i++)
		markers += q.ptr[i] == '?';
	int slot = -1;
	for (int i = 0; i < f->nprep; i++)
		if (strlen(f->preps[i].query) == q.len && !memcmp(f->preps[i].query, q.ptr, q.len))
			slot = i;
	if (slot < 0) {
		assert_true(f->nprep < MAXPREP);
		slot = f->nprep++;
		f->preps[slot].query = strndup(q.ptr, q.len);
	}
	snprintf(f->preps[slot].id, sizeof f->preps[slot].id, "id-%d-%d", f->epoch, slot);
	f->preps[slot].markers = markers;
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	cql_msg m = {.opcode = CQL_OP_RESULT};
	m.u.result.kind = CQL_RESULT_PREPARED;
	m.u.result.id = cql_bytes_of(f->preps[slot].id, strlen(f->preps[slot].id));
	m.u.result.meta = one_col_meta(&a, markers, "v", CQL_TYPE_INT);
	m.u.result.result_meta = (cql_metadata){.flags = CQL_META_NO_METADATA};
	cql_msg_encode(&b, &m);
	send_frame(f, c, stream, CQL_OP_RESULT, &b, 0);
	brook_buf_release(&b);
	brook_arena_release(&a);
}

static void on_execute(struct fake *f, struct fconn *c, int16_t stream, const cql_msg *m)
{
	int slot = find_prep(f, m->u.execute.id);
	if (slot < 0) {
		answer_unprepared(f, c, stream, m->u.execute.id);
		return;
	}
	pthread_mutex_lock(&f->mu);
	f->executes++;
	pthread_mutex_unlock(&f->mu);
	const cql_query_params *p = &m->u.execute.params;
	brook_arena a = BROOK_ARENA_INIT;
	brook_buf b = BROOK_BUF_INIT;
	cql_metadata md = one_col_meta(&a, p->n_values, "v", CQL_TYPE_INT);
	if (p->n_values == 0) {
		cql_wr_int(&b, CQL_RESULT_VOID);
	} else {
		cql_rows_wr w;
		cql_rows_begin(&w, &b, &md);
		for (int i = 0; i < p->n_values; i++)
			cql_rows_cell(&w, p->values[i].ptr,
			              p->values[i].len < 0 ? -1 : p->values[i].len);
		cql_rows_end(&w);
	}
	send_frame(f, c, stream, CQL_OP_RESULT, &b, 0);
	brook_buf_release(&b);
	brook_arena_release(&a);
}

static void on_batch(struct fake *f, struct fconn *c, int16_t stream, const cql_batch *bt)
{
	for (int i = 0; i < bt->n; i++)
		if (bt->stmts[i].kind == 1 && find_prep(f, bt->stmts[i].id) < 0) {
			answer_unprepared(f, c, stream, bt->stmts[i].id);
			return;
		}
	pthread_mutex_lock(&f->mu);
	f->batches++;
	f->batch_stmts += bt->n;
	pthread_mutex_unlock(&f->mu);
	answer_void(f, c, stream);
}

static void on_frame(struct fake *f, struct fconn *c, const cql_frame_hdr *h, const uint8_t *body)
{
	brook_buf plain = BROOK_BUF_INIT;
	char err[256];
	if (h->flags & CQL_FLAG_COMPRESSION) {
		assert_true(c->lz4);
		assert_int_equal(
		    cql_lz4_decompress(body, h->length, 1u << 24, &plain, err, sizeof err),
		    BROOK_OK);
	} else {
		brook_buf_append(&plain, body, h->length);
	}
	brook_arena a = BROOK_ARENA_INIT;
	cql_rd rd;
	cql_rd_init(&rd, plain.data, plain.len);
	cql_msg m;
	if (cql_msg_decode(h->opcode, &rd, &a, &m) != BROOK_OK)
		fail_msg("the client sent a bad %s: %s", cql_opcode_name(h->opcode), rd.err);
	brook_buf b = BROOK_BUF_INIT;
	switch (h->opcode) {
	case CQL_OP_OPTIONS:
		cql_supported_write_default(&b);
		send_frame(f, c, h->stream, CQL_OP_SUPPORTED, &b, 0);
		break;
	case CQL_OP_STARTUP: {
		cql_str v;
		assert_true(cql_str_map_get(&m.u.startup, "CQL_VERSION", &v));
		assert_true(cql_str_eq(v, "3.0.0"));
		c->lz4 = cql_str_map_get(&m.u.startup, "COMPRESSION", &v) && cql_str_eq(v, "lz4");
		pthread_mutex_lock(&f->mu);
		bool auth = f->auth;
		pthread_mutex_unlock(&f->mu);
		if (auth) {
			cql_wr_cstring(&b, "org.apache.cassandra.auth.PasswordAuthenticator");
			send_frame(f, c, h->stream, CQL_OP_AUTHENTICATE, &b, 0);
		} else {
			c->ready = true;
			send_frame(f, c, h->stream, CQL_OP_READY, &b, 0);
		}
		break;
	}
	case CQL_OP_AUTH_RESPONSE: {
		pthread_mutex_lock(&f->mu);
		int rounds = f->challenge_rounds;
		pthread_mutex_unlock(&f->mu);
		if (c->challenges < rounds) {
			c->challenges++;
			cql_wr_bytes(&b, cql_bytes_of("more?", 5));
			send_frame(f, c, h->stream, CQL_OP_AUTH_CHALLENGE, &b, 0);
			break;
		}
		static const char good[] = "\0cassandra\0cassandra";
		if (m.u.token.len == (int32_t)sizeof good - 1 &&
		    !memcmp(m.u.token.ptr, good, sizeof good - 1)) {
			c->ready = true;
			cql_wr_bytes(&b, CQL_BYTES_NULL);
			send_frame(f, c, h->stream, CQL_OP_AUTH_SUCCESS, &b, 0);
		} else {
			answer_error(f, c, h->stream, CQL_ERR_BAD_CREDENTIALS,
			             "Provided username and/or password are incorrect");
		}
		break;
	}
	case CQL_OP_QUERY:
		assert_true(c->ready);
		on_query(f, c, h->stream, &m);
		break;
	case CQL_OP_PREPARE:
		on_prepare(f, c, h->stream, m.u.prepare);
		break;
	case CQL_OP_EXECUTE:
		on_execute(f, c, h->stream, &m);
		break;
	case CQL_OP_BATCH:
		on_batch(f, c, h->stream, &m.u.batch);
		break;
	default:
		answer_error(f, c, h->stream, CQL_ERR_PROTOCOL, "unexpected opcode");
	}
	brook_buf_release(&b);
	brook_arena_release(&a);
	brook_buf_release(&plain);
}

static void drop_conn(struct fake *f, struct fconn *c)
{
	for (struct delayed **dp = &f->later; *dp;) {
		struct delayed *d = *dp;
		if (d->fd == c->fd) {
			*dp = d->next;
			brook_buf_release(&d->frame);
			free(d);
		} else {
			dp = &d->next;
		}
	}
	close(c->fd);
	brook_buf_release(&c->in);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		struct pollfd pf[MAXCONN + 2];
		int n = 0;
		pf[n++] = (struct pollfd){.fd = f->stopfd, .events = POLLIN};
		pthread_mutex_lock(&f->mu);
		int lfd = f->lfd;
		pthread_mutex_unlock(&f->mu);
		pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < MAXCONN; i++)
			pf[n++] = (struct pollfd){.fd = f->conns[i].fd, .events = POLLIN};
		int64_t now = brook_mono_ms(), timeout = 1000;
		for (struct delayed *d = f->later; d; d = d->next)
			if (d->due - now < timeout)
				timeout = d->due - now < 0 ? 0 : d->due - now;
		poll(pf, (nfds_t)n, (int)timeout);
		if (pf[0].revents & POLLIN)
			break;
		now = brook_mono_ms();
		for (struct delayed **dp = &f->later; *dp;) {
			struct delayed *d = *dp;
			if (d->due <= now) {
				ssize_t w = send(d->fd, d->frame.data, d->frame.len, MSG_NOSIGNAL);
				(void)w;
				*dp = d->next;
				brook_buf_release(&d->frame);
				free(d);
			} else {
				dp = &d->next;
			}
		}
		if (lfd >= 0 && (pf[1].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			for (int i = 0; fd >= 0 && i < MAXCONN; i++)
				if (f->conns[i].fd < 0) {
					f->conns[i].fd = fd;
					fd = -1;
					pthread_mutex_lock(&f->mu);
					f->accepted++;
					pthread_mutex_unlock(&f->mu);
				}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < MAXCONN; i++) {
			struct fconn *c = &f->conns[i];
			if (c->fd < 0 || !(pf[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[65536];
			ssize_t r = recv(c->fd, buf, sizeof buf, 0);
			if (r <= 0) {
				drop_conn(f, c);
				continue;
			}
			brook_buf_append(&c->in, buf, (size_t)r);
			size_t off = 0;
			for (;;) {
				cql_frame_hdr h;
				if (cql_frame_parse_header((uint8_t *)c->in.data + off,
				                           c->in.len - off, &h) != BROOK_OK ||
				    c->in.len - off < CQL_FRAME_HEADER_LEN + h.length)
					break;
				assert_int_equal(h.version, 4);
				on_frame(f, c, &h,
				         (uint8_t *)c->in.data + off + CQL_FRAME_HEADER_LEN);
				off += CQL_FRAME_HEADER_LEN + h.length;
			}
			if (off) {
				memmove(c->in.data, c->in.data + off, c->in.len - off);
				brook_buf_truncate(&c->in, c->in.len - off);
			}
		}
	}
	return NULL;
}

static struct fake *fake_start(bool auth)
{
	struct fake *f = calloc(1, sizeof *f);
	pthread_mutex_init(&f->mu, NULL);
	f->auth = auth;
	for (int i = 0; i < MAXCONN; i++)
		f->conns[i].fd = -1;
	f->lfd = listen_on(0);
	assert_true(f->lfd >= 0);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
	f->port = ntohs(sa.sin_port);
	f->stopfd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&f->th, NULL, fake_main, f);
	return f;
}

static void fake_stop(struct fake *f)
{
	uint64_t one = 1;
	ssize_t w = write(f->stopfd, &one, sizeof one);
	(void)w;
	pthread_join(f->th, NULL);
	for (int i = 0; i < MAXCONN; i++)
		if (f->conns[i].fd >= 0)
			drop_conn(f, &f->conns[i]);
	while (f->later) {
		struct delayed *d = f->later;
		f->later = d->next;
		brook_buf_release(&d->frame);
		free(d);
	}
	for (int i = 0; i < f->nprep; i++)
		free(f->preps[i].query);
	if (f->lfd >= 0)
		close(f->lfd);
	close(f->stopfd);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* Stops accepting (and refuses connections) or starts again on the same port. */
static void fake_listen(struct fake *f, bool on)
{
	pthread_mutex_lock(&f->mu);
	if (!on && f->lfd >= 0) {
		shutdown(f->lfd, SHUT_RDWR); /* stops listening now, even while polled */
		close(f->lfd);
		f->lfd = -1;
	} else if (on && f->lfd < 0) {
		f->lfd = listen_on(f->port);
		assert_true(f->lfd >= 0);
	}
	pthread_mutex_unlock(&f->mu);
}

static int fake_get(struct fake *f, const int *counter)
{
	pthread_mutex_lock(&f->mu);
	int v = *counter;
	pthread_mutex_unlock(&f->mu);
	return v;
}

/* ---- helpers ------------------------------------------------------------------------ */

static char cp_buf[64];
static const char *cps[1];

static cql_client *connect_to(struct fake *f, cql_client_opts *o, cql_client_error *err)
{
	snprintf(cp_buf, sizeof cp_buf, "127.0.0.1:%d", f->port);
	cps[0] = cp_buf;
	o->contact_points = cps;
	o->n_contact_points = 1;
	return cql_client_new(o, err);
}

static cql_client *connect_default(struct fake *f)
{
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.reconnect_base_ms = 20;
	o.reconnect_max_ms = 200;
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	if (!c)
		fail_msg("connect: %s", err.msg);
	return c;
}

/* The text of cell (0, 0). */
static void first_text(const cql_res *r, char *out, size_t outlen)
{
	cql_str s;
	assert_int_equal(cql_res_get_text(r, 0, 0, &s), BROOK_OK);
	snprintf(out, outlen, "%.*s", (int)s.len, s.ptr);
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_connect_query_use(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.keyspace = "Spark_Streams"; /* not plain lower-case: quoted, case kept */
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	assert_non_null(c);
	assert_string_equal(f->last_use, "Spark_Streams");
	char peer[64];
	cql_client_peer(c, peer, sizeof peer);
	assert_string_equal(peer, cp_buf);
	assert_false(cql_client_compressed(c));
	assert_int_equal(cql_client_connections(c), 1);

	cql_res *r = NULL;
	assert_int_equal(cql_client_query(c, "ECHO hello", &r, &err), BROOK_OK);
	char t[64];
	first_text(r, t, sizeof t);
	assert_string_equal(t, "ECHO hello");
	cql_res_free(r);
	assert_int_equal(cql_client_query(c, "CREATE TABLE x", &r, &err), BROOK_OK);
	assert_int_equal(cql_res_kind(r), CQL_RESULT_VOID);
	cql_res_free(r);
	assert_int_equal(cql_client_query(c, "USE other", NULL, &err), BROOK_OK);

	/* server errors carry the code's name, number and message */
	assert_int_equal(cql_client_query(c, "ERROR", &r, &err), BROOK_ERR);
	assert_null(r);
	assert_int_equal(err.kind, CQL_CLIENT_E_SERVER);
	assert_int_equal(err.code, CQL_ERR_INVALID);
	assert_string_equal(err.msg, "Invalid (0x2200): unconfigured table foo");
	cql_client_free(c);

	/* nobody listening */
	fake_listen(f, false);
	c = connect_to(f, &o, &err);
	assert_null(c);
	assert_int_equal(err.kind, CQL_CLIENT_E_CONNECT);
	if (!strstr(err.msg, "Connection refused"))
		fail_msg("%s", err.msg);
	fake_stop(f);
}

static void test_auth(void **state)
{
	(void)state;
	struct fake *f = fake_start(true);
	f->challenge_rounds = 1;
	cql_client_opts o;
	cql_client_opts_default(&o);
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	assert_null(c);
	assert_int_equal(err.kind, CQL_CLIENT_E_CONNECT);
	assert_non_null(strstr(err.msg, "requires authentication "
	                                "(org.apache.cassandra.auth.PasswordAuthenticator)"));
	o.username = "cassandra";
	o.password = "wrong";
	c = connect_to(f, &o, &err);
	assert_null(c);
	assert_int_equal(err.code, CQL_ERR_BAD_CREDENTIALS);
	assert_non_null(strstr(err.msg, "Bad_credentials (0x0100): Provided username and/or "
	                                "password are incorrect"));
	o.password = "cassandra";
	c = connect_to(f, &o, &err);
	if (!c)
		fail_msg("%s", err.msg);
	assert_int_equal(cql_client_query(c, "ECHO authed", NULL, &err), BROOK_OK);
	cql_client_free(c);
	fake_stop(f);
}

static void test_lz4(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.compression = true;
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	assert_non_null(c);
	assert_true(cql_client_compressed(c));
	/* a long query is sent compressed; a long answer comes back compressed */
	char q[2048] = "ECHO ";
	memset(q + 5, 'y', 2000);
	q[2005] = '\0';
	cql_res *r = NULL;
	assert_int_equal(cql_client_query(c, q, &r, &err), BROOK_OK);
	char t[2100];
	first_text(r, t, sizeof t);
	assert_string_equal(t, q);
	cql_res_free(r);
	assert_int_equal(cql_client_query(c, "BIG 100000", &r, &err), BROOK_OK);
	cql_str s;
	assert_int_equal(cql_res_get_text(r, 0, 0, &s), BROOK_OK);
	assert_int_equal(s.len, 100000);
	cql_res_free(r);
	cql_client_free(c);
	fake_stop(f);
}

struct slot {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, ok, wrong, expected;
	int errors[16];
	char tags[64][32];
};

static void slot_done(void *arg, cql_res *res, const cql_client_error *err)
{
	struct slot **pp = arg;
	struct slot *s = pp[0];
	int idx = (int)(intptr_t)pp[1];
	pthread_mutex_lock(&s->mu);
	if (res) {
		char t[64];
		first_text(res, t, sizeof t);
		char want[64];
		snprintf(want, sizeof want, "SLEEP %d tag%d", (32 - idx) * 3, idx);
		if (!strcmp(t, want))
			s->ok++;
		else
			s->wrong++;
		cql_res_free(res);
	} else {
		s->errors[err->kind]++;
	}
	s->done++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void wait_done(struct slot *s, int n)
{
	pthread_mutex_lock(&s->mu);
	while (s->done < n)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

static void test_out_of_order(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	struct slot s = {.done = 0};
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	void *args[32][2];
	/* 32 in flight; the first sent is answered last */
	for (int i = 0; i < 32; i++) {
		char q[64];
		snprintf(q, sizeof q, "SLEEP %d tag%d", (32 - i) * 3, i);
		cql_stmt *st = cql_stmt_new(q);
		args[i][0] = &s;
		args[i][1] = (void *)(intptr_t)i;
		cql_client_error err;
		assert_int_equal(cql_client_execute_async(c, st, slot_done, args[i], &err),
		                 BROOK_OK);
		cql_stmt_free(st); /* the request holds its own copy */
	}
	wait_done(&s, 32);
	assert_int_equal(s.ok, 32);
	assert_int_equal(s.wrong, 0);
	cql_client_free(c);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	fake_stop(f);
}

static void test_timeouts(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	cql_client_error err;
	cql_stmt *st = cql_stmt_new("NOANSWER");
	cql_stmt_set_timeout_ms(st, 100);
	assert_int_equal(cql_client_execute(c, st, NULL, &err), BROOK_ERR);
	assert_int_equal(err.kind, CQL_CLIENT_E_TIMEOUT);
	assert_non_null(strstr(err.msg, "within 100 ms"));
	cql_stmt_free(st);
	/* an answer that comes after the timeout is dropped; the connection goes on */
	st = cql_stmt_new("SLEEP 300 late");
	cql_stmt_set_timeout_ms(st, 50);
	assert_int_equal(cql_client_execute(c, st, NULL, &err), BROOK_ERR);
	assert_int_equal(err.kind, CQL_CLIENT_E_TIMEOUT);
	cql_stmt_free(st);
	for (int i = 0; i < 20; i++) {
		cql_res *r = NULL;
		char q[32], t[64];
		snprintf(q, sizeof q, "SLEEP 20 n%d", i);
		assert_int_equal(cql_client_query(c, q, &r, &err), BROOK_OK);
		first_text(r, t, sizeof t);
		assert_string_equal(t, q);
		cql_res_free(r);
	}
	assert_int_equal(cql_client_connections(c), 1);
	cql_client_free(c);
	fake_stop(f);
}

static void test_unprepared_reprepare(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	cql_client_error err;
	cql_prepared *p = NULL, *p2 = NULL;
	assert_int_equal(cql_client_prepare(c, "INSERT INTO t (a, b) VALUES (?, ?)", &p, &err),
	                 BROOK_OK);
	assert_int_equal(cql_prepared_bind_count(p), 2);
	/* cached: no second PREPARE */
	assert_int_equal(cql_client_prepare(c, "INSERT INTO t (a, b) VALUES (?, ?)", &p2, &err),
	                 BROOK_OK);
	assert_ptr_equal(p, p2);
	assert_int_equal(fake_get(f, &f->prepares), 1);

	cql_stmt *st = cql_stmt_new_prepared(p);
	cql_stmt_bind_int(st, 0, 11);
	cql_stmt_bind_int(st, 1, 22);
	cql_res *r = NULL;
	assert_int_equal(cql_client_execute(c, st, &r, &err), BROOK_OK);
	int64_t v;
	assert_int_equal(cql_res_get_int64(r, 0, 1, &v), BROOK_OK);
	assert_int_equal(v, 22);
	cql_res_free(r);

	/* the server forgets: the next EXECUTE is re-prepared and retried transparently */
	assert_int_equal(cql_client_query(c, "FORGET", NULL, &err), BROOK_OK);
	cql_stmt_bind_int(st, 1, 33);
	assert_int_equal(cql_client_execute(c, st, &r, &err), BROOK_OK);
	assert_int_equal(cql_res_get_int64(r, 0, 1, &v), BROOK_OK);
	assert_int_equal(v, 33);
	cql_res_free(r);
	assert_int_equal(fake_get(f, &f->prepares), 2);
	assert_int_equal(fake_get(f, &f->unprepared), 1);
	assert_int_equal(cql_prepared_generation(p), 2);

	/* a batch of two statements, both forgotten: both re-prepared, one retry */
	cql_prepared *q = NULL;
	assert_int_equal(cql_client_prepare(c, "UPDATE t SET b = ? WHERE a = ?", &q, &err),
	                 BROOK_OK);
	cql_stmt *st2 = cql_stmt_new_prepared(q);
	cql_stmt_bind_int(st2, 0, 1);
	cql_stmt_bind_int(st2, 1, 2);
	cql_stmt_batch *b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	for (int i = 0; i < 100; i++)
		assert_int_equal(cql_stmt_batch_add(b, i % 2 ? st : st2, &err), BROOK_OK);
	cql_stmt *qs = cql_stmt_new("INSERT INTO t (a) VALUES (?)");
	cql_stmt_bind_int(qs, 0, 5);
	assert_int_equal(cql_stmt_batch_add(b, qs, &err), BROOK_OK);
	assert_int_equal(cql_client_query(c, "FORGET", NULL, &err), BROOK_OK);
	int before = fake_get(f, &f->prepares);
	assert_int_equal(cql_client_execute_batch(c, b, &r, &err), BROOK_OK);
	assert_int_equal(cql_res_kind(r), CQL_RESULT_VOID);
	cql_res_free(r);
	assert_int_equal(fake_get(f, &f->prepares), before + 2);
	assert_int_equal(fake_get(f, &f->batch_stmts), 101);

	cql_stmt_free(qs);
	cql_stmt_free(st2);
	cql_stmt_free(st);
	cql_stmt_batch_free(b);
	cql_client_free(c);
	fake_stop(f);
}

struct counter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, ok, kinds[16];
};

static void count_done(void *arg, cql_res *res, const cql_client_error *err)
{
	struct counter *k = arg;
	pthread_mutex_lock(&k->mu);
	if (res) {
		k->ok++;
		cql_res_free(res);
	} else {
		k->kinds[err->kind]++;
	}
	k->done++;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

static void counter_wait(struct counter *k, int n)
{
	pthread_mutex_lock(&k->mu);
	while (k->done < n)
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

static void test_reprepare_many_in_flight(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	cql_client_error err;
	cql_prepared *p = NULL;
	assert_int_equal(cql_client_prepare(c, "INSERT INTO t (a) VALUES (?)", &p, &err), BROOK_OK);
	assert_int_equal(cql_client_query(c, "FORGET", NULL, &err), BROOK_OK);
	struct counter k = {.done = 0};
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	cql_stmt *st = cql_stmt_new_prepared(p);
	for (int i = 0; i < 32; i++) {
		cql_stmt_bind_int(st, 0, i);
		assert_int_equal(cql_client_execute_async(c, st, count_done, &k, &err), BROOK_OK);
	}
	counter_wait(&k, 32);
	assert_int_equal(k.ok, 32);
	assert_int_equal(fake_get(f, &f->executes), 32);
	cql_stmt_free(st);
	cql_client_free(c);
	pthread_mutex_destroy(&k.mu);
	pthread_cond_destroy(&k.cv);
	fake_stop(f);
}

static void test_reconnect(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.keyspace = "ks1";
	o.reconnect_base_ms = 20;
	o.reconnect_max_ms = 100;
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	assert_non_null(c);
	assert_int_equal(cql_client_query(c, "USE ks2", NULL, &err), BROOK_OK);
	snprintf(f->last_use, sizeof f->last_use, "-");

	/* requests on the wire when it drops fail with a connection error */
	struct counter k = {.done = 0};
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	cql_stmt *slow = cql_stmt_new("SLEEP 500 doomed");
	assert_int_equal(cql_client_execute_async(c, slow, count_done, &k, &err), BROOK_OK);
	assert_int_equal(cql_client_query(c, "CLOSE", NULL, &err), BROOK_ERR);
	assert_int_equal(err.kind, CQL_CLIENT_E_CONNECTION);
	assert_non_null(strstr(err.msg, "lost"));
	counter_wait(&k, 1);
	assert_int_equal(k.kinds[CQL_CLIENT_E_CONNECTION], 1);

	/* the next request waits for the reconnection; the keyspace comes back */
	cql_res *r = NULL;
	assert_int_equal(cql_client_query(c, "ECHO again", &r, &err), BROOK_OK);
	cql_res_free(r);
	assert_int_equal(cql_client_connections(c), 2);
	assert_string_equal(f->last_use, "ks2");

	/* nobody to reconnect to: requests time out waiting, then succeed once it is back */
	fake_listen(f, false);
	assert_int_equal(cql_client_query(c, "CLOSE", NULL, &err), BROOK_ERR);
	cql_stmt *st = cql_stmt_new("ECHO waiting");
	cql_stmt_set_timeout_ms(st, 300);
	assert_int_equal(cql_client_execute(c, st, NULL, &err), BROOK_ERR);
	assert_int_equal(err.kind, CQL_CLIENT_E_TIMEOUT);
	assert_non_null(strstr(err.msg, "waiting for a connection"));
	fake_listen(f, true);
	cql_stmt_set_timeout_ms(st, 10000);
	assert_int_equal(cql_client_execute(c, st, &r, &err), BROOK_OK);
	cql_res_free(r);
	assert_true(cql_client_connections(c) >= 3);
	cql_stmt_free(st);
	cql_stmt_free(slow);
	cql_client_free(c);
	pthread_mutex_destroy(&k.mu);
	pthread_cond_destroy(&k.cv);
	fake_stop(f);
}

static void test_backpressure(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.max_in_flight = 4;
	o.submit_nonblocking = true;
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	assert_non_null(c);
	struct counter k = {.done = 0};
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	cql_stmt *st = cql_stmt_new("SLEEP 200 bp");
	for (int i = 0; i < 4; i++)
		assert_int_equal(cql_client_execute_async(c, st, count_done, &k, &err), BROOK_OK);
	assert_int_equal(cql_client_execute_async(c, st, count_done, &k, &err), BROOK_AGAIN);
	assert_int_equal(err.kind, CQL_CLIENT_E_BUSY);
	counter_wait(&k, 4);
	assert_int_equal(k.ok, 4);
	cql_client_free(c);

	/* blocking submit: the 5th..12th wait for room and all complete */
	o.submit_nonblocking = false;
	c = connect_to(f, &o, &err);
	assert_non_null(c);
	cql_stmt_free(st);
	st = cql_stmt_new("SLEEP 30 bp");
	for (int i = 0; i < 12; i++)
		assert_int_equal(cql_client_execute_async(c, st, count_done, &k, &err), BROOK_OK);
	counter_wait(&k, 16);
	assert_int_equal(k.ok, 16);
	cql_stmt_free(st);
	cql_client_free(c);
	pthread_mutex_destroy(&k.mu);
	pthread_cond_destroy(&k.cv);
	fake_stop(f);
}

static void test_paging(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	cql_client_error err;
	cql_stmt *st = cql_stmt_new("PAGES 25");
	cql_stmt_set_page_size(st, 10);
	cql_res *r = NULL, *next = NULL;
	assert_int_equal(cql_client_execute(c, st, &r, &err), BROOK_OK);
	int pages = 1, rows = cql_res_row_count(r);
	while (cql_client_next_page(c, st, r, &next, &err) == BROOK_OK && next) {
		int64_t v;
		assert_int_equal(cql_res_get_int64(next, 0, 0, &v), BROOK_OK);
		assert_int_equal(v, rows);
		rows += cql_res_row_count(next);
		pages++;
		cql_res_free(r);
		r = next;
	}
	cql_res_free(r);
	assert_int_equal(err.kind, CQL_CLIENT_E_NONE);
	assert_int_equal(pages, 3);
	assert_int_equal(rows, 25);
	cql_stmt_free(st);
	cql_client_free(c);
	fake_stop(f);
}

struct sum {
	int64_t total, rows, stop_at;
};

static int sum_row(void *arg, const cql_res *page, int32_t row)
{
	struct sum *s = arg;
	int64_t v;
	assert_int_equal(cql_res_get_int64(page, row, 0, &v), BROOK_OK);
	assert_int_equal(v, s->rows); /* in order */
	s->total += v;
	s->rows++;
	return s->rows == s->stop_at ? 42 : 0;
}

static void test_foreach_row(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	cql_client_error err;
	cql_stmt *st = cql_stmt_new("PAGES 20000");
	cql_stmt_set_page_size(st, 999);
	struct sum s = {.stop_at = 1000};
	int64_t rows = 0;
	assert_int_equal(cql_client_foreach_row(c, st, sum_row, &s, &rows, &err), 42);
	assert_int_equal(rows, 1000);
	cql_stmt_free(st);
	st = cql_stmt_new("PAGES 2000");
	memset(&s, 0, sizeof s);
	assert_int_equal(cql_client_foreach_row(c, st, sum_row, &s, &rows, &err), BROOK_OK);
	assert_int_equal(rows, 2000);
	assert_int_equal(s.total, 1999 * 2000 / 2);
	cql_stmt_free(st);
	cql_client_free(c);
	fake_stop(f);
}

struct nested {
	cql_client *c;
	struct counter *k;
	int sync_rc;
	cql_client_error sync_err;
};

static void nested_done(void *arg, cql_res *res, const cql_client_error *err)
{
	struct nested *n = arg;
	(void)err;
	cql_res_free(res);
	/* a synchronous call here would deadlock: refused */
	n->sync_rc = cql_client_query(n->c, "ECHO sync", NULL, &n->sync_err);
	/* an asynchronous one is fine */
	cql_stmt *st = cql_stmt_new("ECHO from callback");
	cql_client_error e;
	cql_client_execute_async(n->c, st, count_done, n->k, &e);
	cql_stmt_free(st);
}

static void test_callbacks_and_shutdown(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client *c = connect_default(f);
	cql_client_error err;
	struct counter k = {.done = 0};
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	struct nested n = {.c = c, .k = &k};
	cql_stmt *st = cql_stmt_new("ECHO x");
	assert_int_equal(cql_client_execute_async(c, st, nested_done, &n, &err), BROOK_OK);
	counter_wait(&k, 1);
	assert_int_equal(k.ok, 1);
	assert_int_equal(n.sync_rc, BROOK_ERR);
	assert_int_equal(n.sync_err.kind, CQL_CLIENT_E_USAGE);
	cql_stmt_free(st);

	/* closing waits for the requests already accepted */
	st = cql_stmt_new("SLEEP 100 closing");
	for (int i = 0; i < 10; i++)
		assert_int_equal(cql_client_execute_async(c, st, count_done, &k, &err), BROOK_OK);
	cql_client_free(c);
	assert_int_equal(k.done, 11);
	assert_int_equal(k.ok, 11);
	cql_stmt_free(st);
	pthread_mutex_destroy(&k.mu);
	pthread_cond_destroy(&k.cv);
	fake_stop(f);
}

struct chain {
	cql_client *c;
	struct counter *k;
	int left;
};

static void chain_done(void *arg, cql_res *res, const cql_client_error *err)
{
	struct chain *ch = arg;
	if (--ch->left > 0 && res) {
		/* the slot of the request just answered is already free */
		cql_stmt *st = cql_stmt_new("ECHO chained");
		cql_client_error e;
		if (cql_client_execute_async(ch->c, st, chain_done, ch, &e) != BROOK_OK)
			ch->left = -100;
		cql_stmt_free(st);
	}
	count_done(ch->k, res, err);
}

static void test_resubmit_from_callback(void **state)
{
	(void)state;
	struct fake *f = fake_start(false);
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.max_in_flight = 1;
	cql_client_error err;
	cql_client *c = connect_to(f, &o, &err);
	assert_non_null(c);
	struct counter k = {.done = 0};
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	struct chain ch = {.c = c, .k = &k, .left = 10};
	cql_stmt *st = cql_stmt_new("ECHO first");
	assert_int_equal(cql_client_execute_async(c, st, chain_done, &ch, &err), BROOK_OK);
	counter_wait(&k, 10);
	assert_int_equal(k.ok, 10);
	assert_int_equal(ch.left, 0);
	cql_stmt_free(st);
	cql_client_free(c);
	pthread_mutex_destroy(&k.mu);
	pthread_cond_destroy(&k.cv);
	fake_stop(f);
}

int main(void)
{
	if (!getenv("BROOK_TEST_LOG"))
		brook_log_set_level(BROOK_LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_query_use),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_lz4),
	    cmocka_unit_test(test_out_of_order),
	    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_unprepared_reprepare),
	    cmocka_unit_test(test_reprepare_many_in_flight),
	    cmocka_unit_test(test_reconnect),
	    cmocka_unit_test(test_backpressure),
	    cmocka_unit_test(test_paging),
	    cmocka_unit_test(test_foreach_row),
	    cmocka_unit_test(test_callbacks_and_shutdown),
	    cmocka_unit_test(test_resubmit_from_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
