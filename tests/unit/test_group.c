/*
 * Unit tests for the consumer group coordinator (broker/group) and the
 * __consumer_offsets record format (broker/offsets_format).
 *
 * The coordinator is driven directly with msgs.h request structs and a fake clock.
 * The fake io records every appended record and completes the append at once or when
 * the test says so. Responses are copied out of the callbacks into `cap` structs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/group.h"
#include "broker/offsets_format.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"

/* --- fake io ------------------------------------------------------------------------- */

typedef struct rec {
	int32_t partition;
	uint8_t *key, *val; /* val NULL: tombstone */
	size_t klen, vlen;
} rec;

typedef struct fake_io {
	rec recs[256];
	int n_recs;
	int defer;   /* 1: keep completions until flush_io */
	int16_t err; /* error to complete with */
	group_io_done_fn pend_fn[16];
	void *pend_ctx[16];
	int n_pend;
} fake_io;

static void fake_append(void *arg, int32_t partition, const kafka_bytes *keys,
                        const kafka_bytes *values, int n, group_io_done_fn done, void *done_ctx)
{
	fake_io *io = arg;
	for (int i = 0; i < n; i++) {
		assert_true(io->n_recs < 256);
		rec *r = &io->recs[io->n_recs++];
		r->partition = partition;
		r->klen = (size_t)keys[i].len;
		r->key = malloc(r->klen);
		memcpy(r->key, keys[i].ptr, r->klen);
		if (values[i].len >= 0) {
			r->vlen = (size_t)values[i].len;
			r->val = malloc(r->vlen ? r->vlen : 1);
			memcpy(r->val, values[i].ptr, r->vlen);
		} else {
			r->val = NULL;
			r->vlen = 0;
		}
	}
	if (io->defer) {
		assert_true(io->n_pend < 16);
		io->pend_fn[io->n_pend] = done;
		io->pend_ctx[io->n_pend++] = done_ctx;
		return;
	}
	done(done_ctx, io->err);
}

static void flush_io(fake_io *io, int16_t err)
{
	for (int i = 0; i < io->n_pend; i++)
		io->pend_fn[i](io->pend_ctx[i], err);
	io->n_pend = 0;
}

static void io_release(fake_io *io)
{
	for (int i = 0; i < io->n_recs; i++) {
		free(io->recs[i].key);
		free(io->recs[i].val);
	}
	io->n_recs = 0;
}

typedef struct fixture {
	fake_io io;
	group_coord *g;
	group_config cfg;
} fixture;

static fixture *fx_new(int64_t initial_delay)
{
	fixture *f = calloc(1, sizeof *f);
	group_config_defaults(&f->cfg);
	f->cfg.initial_rebalance_delay_ms = initial_delay;
	f->cfg.min_session_timeout_ms = 1000;
	group_io io = {fake_append, &f->io};
	f->g = group_coord_new(&f->cfg, &io);
	return f;
}

static void fx_free(fixture *f)
{
	group_coord_free(f->g);
	io_release(&f->io);
	free(f);
}

/* --- captured responses ------------------------------------------------------------- */

typedef struct cap {
	int called;
	int16_t err;
	int32_t gen;
	char member_id[128];
	char leader[128];
	char protocol[64];
	int n_members;
	char members[4][128]; /* join: member ids the leader sees */
	char assign[64];      /* sync */
} cap;

static void copy_str(char *dst, size_t cap_, kafka_str s)
{
	size_t n = s.len < 0 ? 0 : (size_t)s.len;
	assert_true(n < cap_);
	memcpy(dst, s.ptr ? s.ptr : "", n);
	dst[n] = '\0';
}

static void join_cb(void *ctx, const void *resp)
{
	cap *c = ctx;
	const kafka_join_group_resp *r = resp;
	c->called++;
	c->err = r->error_code;
	c->gen = r->generation_id;
	copy_str(c->member_id, sizeof c->member_id, r->member_id);
	copy_str(c->leader, sizeof c->leader, r->leader);
	copy_str(c->protocol, sizeof c->protocol, r->protocol_name);
	c->n_members = r->n_members;
	for (int i = 0; i < r->n_members && i < 4; i++)
		copy_str(c->members[i], sizeof c->members[i], r->members[i].member_id);
}

static void sync_cb(void *ctx, const void *resp)
{
	cap *c = ctx;
	const kafka_sync_group_resp *r = resp;
	c->called++;
	c->err = r->error_code;
	size_t n = r->assignment.len < 0 ? 0 : (size_t)r->assignment.len;
	assert_true(n < sizeof c->assign);
	memcpy(c->assign, r->assignment.ptr ? (const char *)r->assignment.ptr : "", n);
	c->assign[n] = '\0';
}

static void err_cb(void *ctx, const void *resp)
{
	/* Heartbeat and LeaveGroup responses both start with throttle, error_code. */
	cap *c = ctx;
	c->called++;
	c->err = ((const kafka_heartbeat_resp *)resp)->error_code;
}

static void leave_cb(void *ctx, const void *resp)
{
	cap *c = ctx;
	const kafka_leave_group_resp *r = resp;
	c->called++;
	c->err = r->error_code;
	c->n_members = r->n_members;
	if (r->n_members > 0 && !r->error_code)
		c->err = r->members[0].error_code;
}

/* --- request helpers ---------------------------------------------------------------- */

static const int64_t T0 = 1000000;

static void join(fixture *f, int16_t ver, const char *member_id, const char *instance,
                 const char *protos, int64_t now, cap *c)
{
	kafka_join_group_request_protocol p[4];
	kafka_join_group_req req;
	char buf[64];
	int n = 0;

	memset(&req, 0, sizeof req);
	memset(c, 0, sizeof *c);
	snprintf(buf, sizeof buf, "%s", protos);
	for (char *tok = strtok(buf, ","); tok && n < 4; tok = strtok(NULL, ",")) {
		p[n].name = kafka_str_from(tok);
		p[n].metadata = (kafka_bytes){(const uint8_t *)tok, (int32_t)strlen(tok)};
		n++;
	}
	req.group_id = KAFKA_STR("g1");
	req.session_timeout_ms = 10000;
	req.rebalance_timeout_ms = 20000;
	req.member_id = kafka_str_from(member_id ? member_id : "");
	req.group_instance_id = kafka_str_from(instance);
	req.protocol_type = KAFKA_STR("consumer");
	req.protocols = p;
	req.n_protocols = n;
	group_join(f->g, ver, &req, "client", "/127.0.0.1", now, join_cb, c);
}

static void sync_(fixture *f, const cap *me, int32_t gen, int n_assign, const cap *const *who,
                  const char *const *assign, int64_t now, cap *c)
{
	kafka_sync_group_request_assignment as[4];
	kafka_sync_group_req req;

	memset(&req, 0, sizeof req);
	memset(c, 0, sizeof *c);
	for (int i = 0; i < n_assign; i++) {
		as[i].member_id = kafka_str_from(who[i]->member_id);
		as[i].assignment =
		    (kafka_bytes){(const uint8_t *)assign[i], (int32_t)strlen(assign[i])};
	}
	req.group_id = KAFKA_STR("g1");
	req.generation_id = gen;
	req.member_id = kafka_str_from(me->member_id);
	req.group_instance_id = KAFKA_STR_NULL;
	req.protocol_type = KAFKA_STR_NULL;
	req.protocol_name = KAFKA_STR_NULL;
	req.assignments = as;
	req.n_assignments = n_assign;
	group_sync(f->g, 3, &req, now, sync_cb, c);
}

static int16_t heartbeat(fixture *f, const char *member_id, const char *instance, int32_t gen,
                         int64_t now)
{
	kafka_heartbeat_req req = {KAFKA_STR("g1"), gen, kafka_str_from(member_id),
	                           kafka_str_from(instance)};
	cap c;
	memset(&c, 0, sizeof c);
	group_heartbeat(f->g, 3, &req, now, err_cb, &c);
	assert_int_equal(c.called, 1);
	return c.err;
}

static int16_t leave(fixture *f, int16_t ver, const char *member_id, const char *instance,
                     int64_t now)
{
	kafka_member_identity mi = {kafka_str_from(member_id), kafka_str_from(instance),
	                            KAFKA_STR_NULL};
	kafka_leave_group_req req;
	cap c;
	memset(&req, 0, sizeof req);
	memset(&c, 0, sizeof c);
	req.group_id = KAFKA_STR("g1");
	if (ver < 3) {
		req.member_id = kafka_str_from(member_id);
	} else {
		req.members = &mi;
		req.n_members = 1;
	}
	group_leave(f->g, ver, &req, now, leave_cb, &c);
	assert_int_equal(c.called, 1);
	return c.err;
}

/* Three members A, B, C joined through the initial delay and synced: generation 1. */
static void three_stable(fixture *f, cap *a, cap *b, cap *c)
{
	cap sa, sb, sc;
	join(f, 3, NULL, NULL, "range", T0, a);
	join(f, 3, NULL, NULL, "range", T0 + 10, b);
	join(f, 3, NULL, NULL, "range", T0 + 20, c);
	assert_int_equal(a->called + b->called + c->called, 0); /* initial delay */
	group_coord_tick(f->g, T0 + 3100);
	assert_int_equal(a->called, 1);
	assert_int_equal(b->called, 1);
	assert_int_equal(c->called, 1);
	const cap *who[3] = {a, b, c};
	const char *asg[3] = {"A-parts", "B-parts", "C-parts"};
	sync_(f, b, 1, 0, NULL, NULL, T0 + 3200, &sb);
	sync_(f, c, 1, 0, NULL, NULL, T0 + 3200, &sc);
	assert_int_equal(sb.called, 0); /* followers wait for the leader */
	sync_(f, a, 1, 3, who, asg, T0 + 3300, &sa);
	assert_int_equal(sa.called, 1);
	assert_int_equal(sb.called, 1);
	assert_int_equal(sc.called, 1);
	assert_string_equal(sa.assign, "A-parts");
	assert_string_equal(sb.assign, "B-parts");
	assert_string_equal(sc.assign, "C-parts");
}

/* --- tests: rebalancing ------------------------------------------------------------- */

static void test_three_members_one_rebalance(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a, b, c;
	three_stable(f, &a, &b, &c);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.gen, 1);
	assert_int_equal(b.gen, 1);
	assert_int_equal(c.gen, 1);
	/* One leader, the first to join, which alone sees the members. */
	assert_string_equal(a.leader, a.member_id);
	assert_string_equal(b.leader, a.member_id);
	assert_int_equal(a.n_members, 3);
	assert_int_equal(b.n_members, 0);
	assert_string_equal(a.members[0], a.member_id);
	assert_string_equal(a.members[2], c.member_id);
	assert_string_equal(a.protocol, "range");
	assert_non_null(strstr(a.member_id, "client-"));
	assert_string_not_equal(a.member_id, b.member_id);
	assert_int_equal(heartbeat(f, b.member_id, NULL, 1, T0 + 4000), 0);
	/* The leader's sync wrote the group metadata record. */
	assert_int_equal(f->io.n_recs, 1);
	struct offsets_key k;
	assert_int_equal(offsets_key_decode(f->io.recs[0].key, f->io.recs[0].klen, &k, NULL, 0),
	                 BROOK_OK);
	assert_int_equal(k.type, OFFSETS_KEY_GROUP);
	assert_int_equal(f->io.recs[0].partition, offsets_partition_for("g1", 2, 50));
	fx_free(f);
}

static void test_leave_triggers_rebalance(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a, b, c, a2, c2;
	three_stable(f, &a, &b, &c);
	assert_int_equal(leave(f, 1, b.member_id, NULL, T0 + 5000), 0);
	assert_int_equal(heartbeat(f, a.member_id, NULL, 1, T0 + 5100),
	                 KAFKA_ERR_REBALANCE_IN_PROGRESS);
	/* A sync in PreparingRebalance is refused. */
	cap s;
	sync_(f, &a, 1, 0, NULL, NULL, T0 + 5150, &s);
	assert_int_equal(s.called, 1);
	assert_int_equal(s.err, KAFKA_ERR_REBALANCE_IN_PROGRESS);
	join(f, 3, a.member_id, NULL, "range", T0 + 5200, &a2);
	assert_int_equal(a2.called, 0);
	join(f, 3, c.member_id, NULL, "range", T0 + 5300, &c2);
	assert_int_equal(a2.called, 1);
	assert_int_equal(c2.called, 1);
	assert_int_equal(a2.gen, 2);
	assert_int_equal(c2.gen, 2);
	assert_int_equal(a2.n_members, 2);
	/* The member that left is unknown now; an old generation is illegal. */
	assert_int_equal(heartbeat(f, b.member_id, NULL, 2, T0 + 5400),
	                 KAFKA_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(heartbeat(f, a.member_id, NULL, 1, T0 + 5400),
	                 KAFKA_ERR_ILLEGAL_GENERATION);
	assert_int_equal(leave(f, 0, "nobody", NULL, T0 + 5500), KAFKA_ERR_UNKNOWN_MEMBER_ID);
	fx_free(f);
}

static void test_session_expiry(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a, b, c, a2, b2;

	/* A and B heartbeat; C goes silent for more than its 10 s session. */
	three_stable(f, &a, &b, &c);
	assert_int_equal(heartbeat(f, a.member_id, NULL, 1, T0 + 12000), 0);
	assert_int_equal(heartbeat(f, b.member_id, NULL, 1, T0 + 12000), 0);
	group_coord_tick(f->g, T0 + 13301); /* C's last contact: its sync at T0+3200 */
	assert_int_equal(heartbeat(f, c.member_id, NULL, 1, T0 + 13400),
	                 KAFKA_ERR_UNKNOWN_MEMBER_ID);
	assert_int_equal(heartbeat(f, a.member_id, NULL, 1, T0 + 13400),
	                 KAFKA_ERR_REBALANCE_IN_PROGRESS);
	join(f, 3, a.member_id, NULL, "range", T0 + 13500, &a2);
	join(f, 3, b.member_id, NULL, "range", T0 + 13500, &b2);
	assert_int_equal(a2.called, 1);
	assert_int_equal(a2.gen, 2);
	assert_int_equal(a2.n_members, 2);
	fx_free(f);
}

static void test_rebalance_timeout_removes_laggards(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a, b, c, a2;
	three_stable(f, &a, &b, &c);
	join(f, 3, a.member_id, NULL, "range,roundrobin", T0 + 4000, &a2); /* new protocols */
	assert_int_equal(a2.called, 0);
	/* B and C keep heartbeating but never rejoin; the 20 s rebalance timeout ends it. */
	for (int64_t t = T0 + 5000; t < T0 + 24000; t += 2000) {
		assert_int_equal(heartbeat(f, b.member_id, NULL, 1, t),
		                 KAFKA_ERR_REBALANCE_IN_PROGRESS);
		assert_int_equal(heartbeat(f, c.member_id, NULL, 1, t),
		                 KAFKA_ERR_REBALANCE_IN_PROGRESS);
		group_coord_tick(f->g, t);
	}
	assert_int_equal(a2.called, 0);
	group_coord_tick(f->g, T0 + 24001);
	assert_int_equal(a2.called, 1);
	assert_int_equal(a2.err, 0);
	assert_int_equal(a2.gen, 2);
	assert_int_equal(a2.n_members, 1);
	assert_int_equal(heartbeat(f, b.member_id, NULL, 2, T0 + 24100),
	                 KAFKA_ERR_UNKNOWN_MEMBER_ID);
	fx_free(f);
}

static void test_member_id_required(void **state)
{
	(void)state;
	fixture *f = fx_new(0);
	cap a, a2;
	join(f, 4, NULL, NULL, "range", T0, &a);
	assert_int_equal(a.called, 1);
	assert_int_equal(a.err, KAFKA_ERR_MEMBER_ID_REQUIRED);
	assert_true(strlen(a.member_id) > strlen("client-"));
	assert_non_null(strstr(a.member_id, "client-"));
	/* An unknown id is refused; the handed-out one is accepted. */
	join(f, 4, "client-bogus", NULL, "range", T0 + 1, &a2);
	assert_int_equal(a2.err, KAFKA_ERR_UNKNOWN_MEMBER_ID);
	join(f, 4, a.member_id, NULL, "range", T0 + 2, &a2);
	assert_int_equal(a2.called, 1);
	assert_int_equal(a2.err, 0);
	assert_int_equal(a2.gen, 1);
	assert_string_equal(a2.member_id, a.member_id);
	assert_string_equal(a2.leader, a.member_id);
	/* A pending id that never comes back expires; the group can complete without it. */
	cap b, a3;
	join(f, 4, NULL, NULL, "range", T0 + 10, &b);
	assert_int_equal(b.err, KAFKA_ERR_MEMBER_ID_REQUIRED);
	group_coord_tick(f->g, T0 + 10 + 10001);
	join(f, 4, b.member_id, NULL, "range", T0 + 10 + 10002, &a3);
	assert_int_equal(a3.err, KAFKA_ERR_UNKNOWN_MEMBER_ID);
	fx_free(f);
}

static void test_protocol_selection(void **state)
{
	(void)state;
	fixture *f = fx_new(1000);
	cap a, b, c, d;
	join(f, 3, NULL, NULL, "range,roundrobin", T0, &a);
	join(f, 3, NULL, NULL, "roundrobin,range", T0, &b);
	join(f, 3, NULL, NULL, "roundrobin,sticky", T0, &c);
	/* Nothing in common with all members: refused. */
	join(f, 3, NULL, NULL, "sticky", T0, &d);
	assert_int_equal(d.called, 1);
	assert_int_equal(d.err, KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL);
	group_coord_tick(f->g, T0 + 1000);
	assert_int_equal(a.called, 1);
	assert_string_equal(a.protocol, "roundrobin");
	assert_string_equal(c.protocol, "roundrobin");

	/* A different protocol type is inconsistent too. */
	kafka_join_group_request_protocol p = {KAFKA_STR("roundrobin"), {(const uint8_t *)"x", 1}};
	kafka_join_group_req req;
	memset(&req, 0, sizeof req);
	req.group_id = KAFKA_STR("g1");
	req.session_timeout_ms = 10000;
	req.rebalance_timeout_ms = 10000;
	req.member_id = KAFKA_STR("");
	req.group_instance_id = KAFKA_STR_NULL;
	req.protocol_type = KAFKA_STR("connect");
	req.protocols = &p;
	req.n_protocols = 1;
	memset(&d, 0, sizeof d);
	group_join(f->g, 3, &req, "c", "h", T0 + 1100, join_cb, &d);
	assert_int_equal(d.err, KAFKA_ERR_INCONSISTENT_GROUP_PROTOCOL);
	/* Bad session timeout and empty group id. */
	req.protocol_type = KAFKA_STR("consumer");
	req.session_timeout_ms = 10;
	group_join(f->g, 3, &req, "c", "h", T0 + 1100, join_cb, &d);
	assert_int_equal(d.err, KAFKA_ERR_INVALID_SESSION_TIMEOUT);
	req.session_timeout_ms = 10000;
	req.group_id = KAFKA_STR("");
	group_join(f->g, 3, &req, "c", "h", T0 + 1100, join_cb, &d);
	assert_int_equal(d.err, KAFKA_ERR_INVALID_GROUP_ID);
	assert_int_equal(d.called, 3);
	fx_free(f);
}

static void test_static_membership(void **state)
{
	(void)state;
	fixture *f = fx_new(1000);
	cap a, b, a2, b2, sa, sb, s2;
	join(f, 5, NULL, "inst-a", "range", T0, &a);
	join(f, 5, NULL, "inst-b", "range", T0, &b);
	group_coord_tick(f->g, T0 + 1000);
	assert_int_equal(a.err, 0); /* static members skip MEMBER_ID_REQUIRED */
	assert_int_equal(b.gen, 1);
	assert_non_null(strstr(a.member_id, "inst-a-"));
	const cap *who[2] = {&a, &b};
	const char *asg[2] = {"pa", "pb"};
	sync_(f, &b, 1, 0, NULL, NULL, T0 + 1100, &sb);
	sync_(f, &a, 1, 2, who, asg, T0 + 1100, &sa);
	assert_string_equal(sb.assign, "pb");

	/* B restarts: same instance, no member id. Same generation, no rebalance. */
	join(f, 5, NULL, "inst-b", "range", T0 + 2000, &b2);
	assert_int_equal(b2.called, 1);
	assert_int_equal(b2.err, 0);
	assert_int_equal(b2.gen, 1);
	assert_string_not_equal(b2.member_id, b.member_id);
	assert_string_equal(b2.leader, a.member_id);
	assert_int_equal(heartbeat(f, a.member_id, NULL, 1, T0 + 2100), 0); /* still Stable */
	sync_(f, &b2, 1, 0, NULL, NULL, T0 + 2200, &s2);
	assert_int_equal(s2.err, 0);
	assert_string_equal(s2.assign, "pb"); /* keeps its assignment */
	/* The old member id of that instance is fenced. */
	assert_int_equal(heartbeat(f, b.member_id, "inst-b", 1, T0 + 2300),
	                 KAFKA_ERR_FENCED_INSTANCE_ID);
	join(f, 5, b.member_id, "inst-b", "range", T0 + 2300, &a2);
	assert_int_equal(a2.err, KAFKA_ERR_FENCED_INSTANCE_ID);
	/* LeaveGroup v3 by instance id with a stale member id: fenced; then by id: ok. */
	assert_int_equal(leave(f, 3, b.member_id, "inst-b", T0 + 2400),
	                 KAFKA_ERR_FENCED_INSTANCE_ID);
	assert_int_equal(leave(f, 3, "", "inst-b", T0 + 2500), 0);
	assert_int_equal(heartbeat(f, a.member_id, NULL, 1, T0 + 2600),
	                 KAFKA_ERR_REBALANCE_IN_PROGRESS);
	fx_free(f);
}

/* --- tests: offsets ----------------------------------------------------------------- */

typedef struct fetch_cap {
	int called;
	int n;
	char topic[8][32];
	int32_t part[8];
	int64_t off[8];
	int32_t epoch[8];
	char meta[8][64];
	int16_t err[8];
} fetch_cap;

static void commit_cb(void *ctx, const void *resp)
{
	fetch_cap *c = ctx;
	const kafka_offset_commit_resp *r = resp;
	c->called++;
	c->n = 0;
	for (int32_t t = 0; t < r->n_topics; t++)
		for (int32_t i = 0; i < r->topics[t].n_partitions && c->n < 8; i++) {
			copy_str(c->topic[c->n], sizeof c->topic[0], r->topics[t].name);
			c->part[c->n] = r->topics[t].partitions[i].partition_index;
			c->err[c->n++] = r->topics[t].partitions[i].error_code;
		}
}

static void fetch_cb(void *ctx, const void *resp)
{
	fetch_cap *c = ctx;
	const kafka_offset_fetch_resp *r = resp;
	c->called++;
	c->n = 0;
	for (int32_t t = 0; t < r->n_topics; t++)
		for (int32_t i = 0; i < r->topics[t].n_partitions && c->n < 8; i++) {
			const kafka_offset_fetch_response_partition *p =
			    &r->topics[t].partitions[i];
			copy_str(c->topic[c->n], sizeof c->topic[0], r->topics[t].name);
			c->part[c->n] = p->partition_index;
			c->off[c->n] = p->committed_offset;
			c->epoch[c->n] = p->committed_leader_epoch;
			copy_str(c->meta[c->n], sizeof c->meta[0], p->metadata);
			c->err[c->n++] = p->error_code;
		}
}

static void commit(fixture *f, int16_t ver, const char *gid, int32_t gen, const char *member, int n,
                   const int32_t *parts, const int64_t *offs, const char *meta, int64_t now,
                   fetch_cap *c)
{
	kafka_offset_commit_request_partition p[8];
	kafka_offset_commit_request_topic t = {KAFKA_STR("users"), p, n};
	kafka_offset_commit_req req;
	memset(&req, 0, sizeof req);
	memset(c, 0, sizeof *c);
	for (int i = 0; i < n; i++) {
		p[i].partition_index = parts[i];
		p[i].committed_offset = offs[i];
		p[i].committed_leader_epoch = 7;
		p[i].commit_timestamp = -1;
		p[i].committed_metadata = kafka_str_from(meta);
	}
	req.group_id = kafka_str_from(gid);
	req.generation_id_or_member_epoch = gen;
	req.member_id = kafka_str_from(member);
	req.group_instance_id = KAFKA_STR_NULL;
	req.retention_time_ms = -1;
	req.topics = &t;
	req.n_topics = 1;
	group_offset_commit(f->g, ver, &req, now, commit_cb, c);
}

static void fetch(group_coord *g, const char *gid, int n, const int32_t *parts, fetch_cap *c)
{
	kafka_offset_fetch_request_topic t = {KAFKA_STR("users"), (int32_t *)parts, n};
	kafka_offset_fetch_req req;
	memset(&req, 0, sizeof req);
	memset(c, 0, sizeof *c);
	req.group_id = kafka_str_from(gid);
	req.topics = n >= 0 ? &t : NULL;
	req.n_topics = n >= 0 ? 1 : -1;
	group_offset_fetch(g, 5, &req, fetch_cb, c);
	assert_int_equal(c->called, 1);
}

static void test_offset_commit_durable_and_reload(void **state)
{
	(void)state;
	fixture *f = fx_new(0);
	fetch_cap c, fc;
	const int32_t parts[2] = {0, 3};
	const int64_t offs[2] = {42, 1000};
	f->io.defer = 1;
	commit(f, 7, "solo", -1, "", 2, parts, offs, "meta-x", T0, &c);
	assert_int_equal(c.called, 0); /* not durable yet: no answer */
	assert_int_equal(f->io.n_recs, 2);
	fetch(f->g, "solo", 2, parts, &fc);
	assert_int_equal(fc.off[0], -1); /* not applied before durable */

	/* The records are Kafka's OffsetCommitKey v1 / OffsetCommitValue v3. */
	for (int i = 0; i < 2; i++) {
		struct offsets_key k;
		struct offsets_commit_value v;
		rec *r = &f->io.recs[i];
		assert_int_equal(r->partition, offsets_partition_for("solo", 4, 50));
		assert_int_equal(offsets_key_decode(r->key, r->klen, &k, NULL, 0), BROOK_OK);
		assert_int_equal(k.type, OFFSETS_KEY_OFFSET);
		assert_int_equal(k.version, 1);
		assert_int_equal(k.group.len, 4);
		assert_memory_equal(k.group.ptr, "solo", 4);
		assert_memory_equal(k.topic.ptr, "users", 5);
		assert_int_equal(k.partition, parts[i]);
		assert_int_equal(offsets_value_decode_commit(r->val, r->vlen, &v, NULL, 0),
		                 BROOK_OK);
		assert_int_equal(v.version, 3);
		assert_int_equal(v.offset, offs[i]);
		assert_int_equal(v.leader_epoch, 7);
		assert_int_equal(v.metadata.len, 6);
		assert_memory_equal(v.metadata.ptr, "meta-x", 6);
		assert_int_equal(v.commit_timestamp, T0);
	}
	flush_io(&f->io, 0);
	assert_int_equal(c.called, 1);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.err[0], 0);
	assert_int_equal(c.part[1], 3);
	fetch(f->g, "solo", 2, parts, &fc);
	assert_int_equal(fc.off[0], 42);
	assert_int_equal(fc.off[1], 1000);
	assert_int_equal(fc.epoch[1], 7);
	assert_string_equal(fc.meta[0], "meta-x");

	/* A failed append answers with the mapped error and changes nothing. */
	const int64_t offs2[2] = {50, 1100};
	commit(f, 7, "solo", -1, "", 2, parts, offs2, "", T0 + 1, &c);
	flush_io(&f->io, KAFKA_ERR_NOT_ENOUGH_REPLICAS);
	assert_int_equal(c.err[0], KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
	fetch(f->g, "solo", 2, parts, &fc);
	assert_int_equal(fc.off[0], 42);

	/* Metadata over the limit is refused per partition. */
	char big[5000];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	f->io.defer = 0;
	commit(f, 7, "solo", -1, "", 1, parts, offs2, big, T0 + 2, &c);
	assert_int_equal(c.called, 1);
	assert_int_equal(c.err[0], KAFKA_ERR_OFFSET_METADATA_TOO_LARGE);

	/* Restart: a new coordinator loads the same records (the two successful ones and
	 * the two of the failed append, which a real log would not hold: load only the
	 * first two), and a tombstone for partition 3. */
	group_io io2 = {fake_append, &f->io};
	group_coord *g2 = group_coord_new(&f->cfg, &io2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(group_coord_load(g2, f->io.recs[i].key, f->io.recs[i].klen,
		                                  f->io.recs[i].val, f->io.recs[i].vlen),
		                 BROOK_OK);
	fetch(g2, "solo", 2, parts, &fc);
	assert_int_equal(fc.off[0], 42);
	assert_int_equal(fc.off[1], 1000);
	assert_string_equal(fc.meta[0], "meta-x");
	fetch(g2, "solo", -1, NULL, &fc); /* all topics */
	assert_int_equal(fc.n, 2);
	assert_string_equal(fc.topic[1], "users");
	assert_int_equal(group_coord_load(g2, f->io.recs[1].key, f->io.recs[1].klen, NULL, 0),
	                 BROOK_OK);
	fetch(g2, "solo", 2, parts, &fc);
	assert_int_equal(fc.off[1], -1);
	assert_int_equal(group_coord_load(g2, (const uint8_t *)"\x00", 1, NULL, 0), BROOK_ERR);
	group_coord_free(g2);
	fx_free(f);
}

static void test_offset_commit_errors(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a, b, cc;
	fetch_cap c;
	const int32_t parts[1] = {0};
	const int64_t offs[1] = {5};
	/* No such group with a generation: illegal generation. */
	commit(f, 7, "g1", 3, "m", 1, parts, offs, "", T0, &c);
	assert_int_equal(c.err[0], KAFKA_ERR_ILLEGAL_GENERATION);
	join(f, 3, NULL, NULL, "range", T0, &a);
	join(f, 3, NULL, NULL, "range", T0, &b);
	/* A generation without a member id is not a simple commit. */
	commit(f, 7, "g1", 0, "", 1, parts, offs, "", T0 + 1, &c);
	assert_int_equal(c.err[0], KAFKA_ERR_UNKNOWN_MEMBER_ID);
	group_coord_tick(f->g, T0 + 3000);
	assert_int_equal(a.gen, 1);
	/* CompletingRebalance: wait for the assignment. */
	commit(f, 7, "g1", 1, a.member_id, 1, parts, offs, "", T0 + 3001, &c);
	assert_int_equal(c.err[0], KAFKA_ERR_REBALANCE_IN_PROGRESS);
	const cap *who[2] = {&a, &b};
	const char *asg[2] = {"x", "y"};
	sync_(f, &a, 1, 2, who, asg, T0 + 3002, &cc);
	commit(f, 7, "g1", 2, a.member_id, 1, parts, offs, "", T0 + 3003, &c);
	assert_int_equal(c.err[0], KAFKA_ERR_ILLEGAL_GENERATION);
	commit(f, 7, "g1", 1, "stranger", 1, parts, offs, "", T0 + 3004, &c);
	assert_int_equal(c.err[0], KAFKA_ERR_UNKNOWN_MEMBER_ID);
	commit(f, 7, "g1", -1, "", 1, parts, offs, "", T0 + 3005, &c); /* simple commit */
	assert_int_equal(c.err[0], KAFKA_ERR_UNKNOWN_MEMBER_ID);
	commit(f, 7, "g1", 1, a.member_id, 1, parts, offs, "", T0 + 3006, &c);
	assert_int_equal(c.called, 1);
	assert_int_equal(c.err[0], 0);
	/* Sync errors. */
	sync_(f, &b, 9, 0, NULL, NULL, T0 + 3007, &cc);
	assert_int_equal(cc.err, KAFKA_ERR_ILLEGAL_GENERATION);
	cap ghost;
	memset(&ghost, 0, sizeof ghost);
	strcpy(ghost.member_id, "ghost");
	sync_(f, &ghost, 1, 0, NULL, NULL, T0 + 3008, &cc);
	assert_int_equal(cc.err, KAFKA_ERR_UNKNOWN_MEMBER_ID);
	fx_free(f);
}

/* --- tests: describe / list / reload of group metadata ------------------------------ */

typedef struct desc_cap {
	int called;
	int n_groups;
	char state[32];
	char proto[32];
	char ptype[32];
	int n_members;
	char member0[128];
	char client_host0[64];
	char assign0[32];
	int16_t err;
	char listed[4][32];
} desc_cap;

static void describe_cb(void *ctx, const void *resp)
{
	desc_cap *c = ctx;
	const kafka_describe_groups_resp *r = resp;
	c->called++;
	c->n_groups = r->n_groups;
	const kafka_described_group *d = &r->groups[0];
	c->err = d->error_code;
	copy_str(c->state, sizeof c->state, d->group_state);
	copy_str(c->proto, sizeof c->proto, d->protocol_data);
	copy_str(c->ptype, sizeof c->ptype, d->protocol_type);
	c->n_members = d->n_members;
	if (d->n_members > 0) {
		copy_str(c->member0, sizeof c->member0, d->members[0].member_id);
		copy_str(c->client_host0, sizeof c->client_host0, d->members[0].client_host);
		size_t n = (size_t)d->members[0].member_assignment.len;
		memcpy(c->assign0, d->members[0].member_assignment.ptr, n);
		c->assign0[n] = '\0';
	}
}

static void list_cb(void *ctx, const void *resp)
{
	desc_cap *c = ctx;
	const kafka_list_groups_resp *r = resp;
	c->called++;
	c->n_groups = r->n_groups;
	c->err = r->error_code;
	for (int32_t i = 0; i < r->n_groups && i < 4; i++)
		copy_str(c->listed[i], sizeof c->listed[i], r->groups[i].group_id);
}

static void describe(group_coord *g, const char *gid, desc_cap *c)
{
	kafka_str ids[1] = {kafka_str_from(gid)};
	kafka_describe_groups_req req = {ids, 1, false};
	memset(c, 0, sizeof *c);
	group_describe(g, 4, &req, describe_cb, c);
	assert_int_equal(c->called, 1);
	assert_int_equal(c->n_groups, 1);
}

static void test_describe_list_and_reload(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a, b, c;
	desc_cap d;
	fetch_cap fc;
	three_stable(f, &a, &b, &c);
	describe(f->g, "g1", &d);
	assert_int_equal(d.err, 0);
	assert_string_equal(d.state, "Stable");
	assert_string_equal(d.proto, "range");
	assert_string_equal(d.ptype, "consumer");
	assert_int_equal(d.n_members, 3);
	assert_string_equal(d.member0, a.member_id);
	assert_string_equal(d.client_host0, "/127.0.0.1");
	assert_string_equal(d.assign0, "A-parts");
	describe(f->g, "nope", &d);
	assert_string_equal(d.state, "Dead");
	const int32_t parts[1] = {1};
	const int64_t offs[1] = {9};
	commit(f, 2, "other", -1, "", 1, parts, offs, "", T0 + 4000, &fc);
	kafka_list_groups_req lreq;
	memset(&lreq, 0, sizeof lreq);
	memset(&d, 0, sizeof d);
	group_list(f->g, 2, &lreq, list_cb, &d);
	assert_int_equal(d.n_groups, 2);
	assert_string_equal(d.listed[0], "g1");
	assert_string_equal(d.listed[1], "other");

	/* Restart: replay every record; the group comes back Stable with its members,
	 * then sessions run from the first tick and expire without heartbeats. */
	group_io io2 = {fake_append, &f->io};
	group_coord *g2 = group_coord_new(&f->cfg, &io2);
	int n = f->io.n_recs;
	for (int i = 0; i < n; i++)
		assert_int_equal(group_coord_load(g2, f->io.recs[i].key, f->io.recs[i].klen,
		                                  f->io.recs[i].val, f->io.recs[i].vlen),
		                 BROOK_OK);
	describe(g2, "g1", &d);
	assert_string_equal(d.state, "Stable");
	assert_int_equal(d.n_members, 3);
	assert_string_equal(d.assign0, "A-parts");
	assert_string_equal(d.member0, a.member_id);
	fetch(g2, "other", 1, parts, &fc);
	assert_int_equal(fc.off[0], 9);
	cap s;
	kafka_heartbeat_req hb = {KAFKA_STR("g1"), 1, kafka_str_from(b.member_id), KAFKA_STR_NULL};
	memset(&s, 0, sizeof s);
	group_heartbeat(g2, 2, &hb, T0 + 100000, err_cb, &s);
	assert_int_equal(s.err, 0);
	group_coord_tick(g2, T0 + 100000);
	group_coord_tick(g2, T0 + 111000);
	describe(g2, "g1", &d);
	assert_string_equal(d.state, "Empty");
	assert_int_equal(d.n_members, 0);
	group_coord_free(g2);
	fx_free(f);
}

static void test_free_answers_pending(void **state)
{
	(void)state;
	fixture *f = fx_new(3000);
	cap a;
	join(f, 3, NULL, NULL, "range", T0, &a);
	assert_int_equal(a.called, 0);
	group_coord_free(f->g);
	f->g = NULL;
	assert_int_equal(a.called, 1);
	assert_int_equal(a.err, KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
	io_release(&f->io);
	free(f);
}

/* --- tests: offsets_format ---------------------------------------------------------- */

static void test_java_hash_and_partition(void **state)
{
	(void)state;
	/* Values from Java's String.hashCode (UTF-16 code units). */
	assert_int_equal(offsets_java_string_hash("", 0), 0);
	assert_int_equal(offsets_java_string_hash("hello", 5), 99162322);
	assert_int_equal(offsets_java_string_hash("my-group", 8), -1906497762);
	assert_int_equal(offsets_partition_for("my-group", 8, 50), 12);
	assert_int_equal(offsets_partition_for("console-consumer-12345", 22, 50), 6);
	assert_int_equal(offsets_java_string_hash("group\xc3\xa9", 7), -1237460406);
	/* U+1F600 is a surrogate pair in Java. */
	assert_int_equal(offsets_java_string_hash("\xf0\x9f\x98\x80x", 5), 54959989);
	assert_int_equal(offsets_partition_for("\xf0\x9f\x98\x80x", 5, 50), 39);
	/* Malformed UTF-8 counts as U+FFFD. */
	assert_int_equal(offsets_java_string_hash("\xff", 1), 0xfffd);
}

static void test_format_roundtrip(void **state)
{
	(void)state;
	brook_buf k = BROOK_BUF_INIT, v = BROOK_BUF_INIT;
	brook_arena a = BROOK_ARENA_INIT;
	struct offsets_member mem[2] = {
	    {{"m1", 2}, {"i1", 2}, {"c1", 2}, {"/h", 2}, 300, 100, {"sub", 3}, {"as", 2}},
	    {{"m2", 2}, {NULL, -1}, {"c2", 2}, {"/h", 2}, 300, 100, {"", 0}, {"", 0}},
	};
	struct offsets_group_value gv = {3, {"consumer", 8}, 4, {"range", 5}, {"m1", 2}, 77, mem,
	                                 2};
	offsets_key_encode_group(&k, (offsets_str){"grp", 3});
	offsets_value_encode_group(&v, &gv);
	struct offsets_key key;
	struct offsets_group_value out;
	char err[160];
	assert_int_equal(offsets_key_decode((uint8_t *)k.data, k.len, &key, err, sizeof err),
	                 BROOK_OK);
	assert_int_equal(key.type, OFFSETS_KEY_GROUP);
	assert_int_equal(key.version, 2);
	assert_int_equal(
	    offsets_value_decode_group((uint8_t *)v.data, v.len, &a, &out, err, sizeof err),
	    BROOK_OK);
	assert_int_equal(out.generation, 4);
	assert_int_equal(out.n_members, 2);
	assert_int_equal(out.current_state_timestamp, 77);
	assert_memory_equal(out.members[0].subscription.ptr, "sub", 3);
	assert_int_equal(out.members[1].group_instance_id.len, -1);
	assert_int_equal(out.members[0].rebalance_timeout, 300);
	/* Every truncation fails cleanly. */
	for (size_t n = 0; n < v.len; n++)
		assert_int_equal(
		    offsets_value_decode_group((uint8_t *)v.data, n, &a, &out, err, sizeof err),
		    BROOK_ERR);
	/* A lying member count fails before allocating. */
	size_t before = a.total;
	uint8_t lie[] = {0, 3, 0, 1, 'c', 0, 0, 0, 1,    0xff, 0xff, 0xff, 0xff,
	                 0, 0, 0, 0, 0,   0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
	assert_int_equal(offsets_value_decode_group(lie, sizeof lie, &a, &out, err, sizeof err),
	                 BROOK_ERR);
	assert_int_equal(a.total, before);
	assert_non_null(strstr(err, "member count"));

	/* Offset values: v1 carries an expire timestamp; v4 is flexible. */
	uint8_t v1[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 'h', 'i', 0,
	                0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0,   0,   10};
	struct offsets_commit_value cv;
	assert_int_equal(offsets_value_decode_commit(v1, sizeof v1, &cv, NULL, 0), BROOK_OK);
	assert_int_equal(cv.offset, 5);
	assert_int_equal(cv.commit_timestamp, 9);
	assert_int_equal(cv.expire_timestamp, 10);
	assert_int_equal(cv.leader_epoch, -1);
	uint8_t v4[] = {0,   4,   0, 0, 0, 0, 0, 0, 0, 6,  0, 0, 0, 3,   3,
	                'h', 'i', 0, 0, 0, 0, 0, 0, 0, 11, 1, 5, 1, 0xaa};
	assert_int_equal(offsets_value_decode_commit(v4, sizeof v4, &cv, err, sizeof err),
	                 BROOK_OK);
	assert_int_equal(cv.offset, 6);
	assert_int_equal(cv.leader_epoch, 3);
	assert_int_equal(cv.metadata.len, 2);
	assert_int_equal(cv.commit_timestamp, 11);
	uint8_t v9[] = {0, 9, 0};
	assert_int_equal(offsets_value_decode_commit(v9, sizeof v9, &cv, NULL, 0), BROOK_ERR);
	/* Newer key versions are skipped, not errors. */
	uint8_t k3[] = {0, 3, 1, 2, 3};
	assert_int_equal(offsets_key_decode(k3, sizeof k3, &key, NULL, 0), BROOK_OK);
	assert_int_equal(key.type, OFFSETS_KEY_OTHER);
	brook_buf_release(&k);
	brook_buf_release(&v);
	brook_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_members_one_rebalance),
	    cmocka_unit_test(test_leave_triggers_rebalance),
	    cmocka_unit_test(test_session_expiry),
	    cmocka_unit_test(test_rebalance_timeout_removes_laggards),
	    cmocka_unit_test(test_member_id_required),
	    cmocka_unit_test(test_protocol_selection),
	    cmocka_unit_test(test_static_membership),
	    cmocka_unit_test(test_offset_commit_durable_and_reload),
	    cmocka_unit_test(test_offset_commit_errors),
	    cmocka_unit_test(test_describe_list_and_reload),
	    cmocka_unit_test(test_free_answers_pending),
	    cmocka_unit_test(test_java_hash_and_partition),
	    cmocka_unit_test(test_format_roundtrip),
	};
	brook_log_set_level(BROOK_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
