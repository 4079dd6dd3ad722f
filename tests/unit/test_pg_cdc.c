/* Unit tests for pg/cdc against a private PostgreSQL cluster (tests/unit/pg_fixture.h):
 * the publication exists before the slot; snapshot initial reads every existing row
 * once; live inserts, updates (unchanged TOAST, REPLICA IDENTITY FULL before images) and
 * deletes arrive in commit order; the slot's confirmed_flush_lsn is exactly the acked
 * LSN and never beyond it; a reopen re-delivers only the unacked transaction; snapshot
 * never; snapshot always on an existing slot; truncate; idle keepalives advance the
 * slot; a dropped publication or slot gives PG_CDC_GONE, a killed walsender BROOK_ERR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "pg/cdc.h"
#include "pg_fixture.h"

#define MAX_EVENTS 64

typedef struct collector {
	char *ev[MAX_EVENTS];
	size_t nev;
	uint64_t commits[MAX_EVENTS];
	size_t ncommits;
	size_t nbegins;
} collector;

static void collector_reset(collector *k)
{
	for (size_t i = 0; i < k->nev; i++)
		free(k->ev[i]);
	memset(k, 0, sizeof *k);
}

static void fmt_tuple(char *out, size_t cap, const pgo_relation *rel, const pgo_tuple *t)
{
	size_t len = 0;
	out[0] = '\0';
	for (uint16_t i = 0; i < t->ncols && len < cap; i++) {
		const pgo_value *v = &t->cols[i];
		const char *name = rel->cols[i].name;
		const char *sep = i ? "," : "";
		if (v->kind == PGO_VALUE_NULL)
			len += (size_t)snprintf(out + len, cap - len, "%s%s=NULL", sep, name);
		else if (v->kind == PGO_VALUE_UNCHANGED)
			len += (size_t)snprintf(out + len, cap - len, "%s%s=<toast>", sep, name);
		else if (v->len > 32)
			len += (size_t)snprintf(out + len, cap - len, "%s%s=<%u bytes>", sep, name,
						v->len);
		else
			len += (size_t)snprintf(out + len, cap - len, "%s%s=%.*s", sep, name,
						(int)v->len, (const char *)v->data);
	}
}

static int on_begin(void *ud, uint32_t xid, uint64_t final_lsn, int64_t t)
{
	(void)xid;
	(void)final_lsn;
	(void)t;
	((collector *)ud)->nbegins++;
	return BROOK_OK;
}

static int on_change(void *ud, const pg_cdc_change *ch)
{
	collector *k = ud;
	char before[512] = "-", after[512] = "-", line[1200];
	if (ch->before)
		fmt_tuple(before, sizeof before, ch->rel, ch->before);
	if (ch->after)
		fmt_tuple(after, sizeof after, ch->rel, ch->after);
	snprintf(line, sizeof line, "%c %s.%s %c:%s / %s", ch->op, ch->rel->nspname,
		 ch->rel->relname, ch->before_kind ? ch->before_kind : '-', before, after);
	assert_true(k->nev < MAX_EVENTS);
	k->ev[k->nev++] = brook_strdup(line);
	return BROOK_OK;
}

static int on_commit(void *ud, uint64_t end_lsn, int64_t t)
{
	(void)t;
	collector *k = ud;
	assert_true(k->ncommits < MAX_EVENTS);
	k->commits[k->ncommits++] = end_lsn;
	return BROOK_OK;
}

static int group_setup(void **state)
{
	(void)state;
	return pg_fixture_start("cdc");
}

static int group_teardown(void **state)
{
	(void)state;
	return pg_fixture_stop();
}

static PGconn *connect_db(void)
{
	PGconn *c = PQconnectdb(pg_cluster_dsn(g_cluster));
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s", msg);
	}
	PQclear(r);
}

/* One value of a one-row query, into out; false when no row or NULL. */
static bool query_value(PGconn *c, const char *sql, char *out, size_t cap)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
		fail_msg("%s", msg);
	}
	bool ok = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
	if (ok)
		snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return ok;
}

static uint64_t slot_confirmed(PGconn *c, const char *slot)
{
	char sql[256], v[64];
	snprintf(sql, sizeof sql, "SELECT confirmed_flush_lsn FROM pg_replication_slots "
		 "WHERE slot_name = '%s'", slot);
	assert_true(query_value(c, sql, v, sizeof v));
	uint64_t lsn;
	assert_int_equal(pgo_lsn_parse(v, &lsn), BROOK_OK);
	return lsn;
}

static pg_cdc_opts make_opts(const char *slot, const char *pub, const char *const *tables,
			     size_t ntables, pg_cdc_snapshot_mode mode, collector *k)
{
	pg_cdc_opts o = {
		.conninfo = pg_cluster_dsn(g_cluster),
		.slot = slot,
		.publication = pub,
		.tables = tables,
		.ntables = ntables,
		.snapshot = mode,
		.cb = {.ud = k, .begin = on_begin, .change = on_change, .commit = on_commit},
		.status_interval_ms = 200,
	};
	return o;
}

static pg_cdc *open_ok(const pg_cdc_opts *o)
{
	char err[512];
	pg_cdc *c = pg_cdc_open(o, err, sizeof err);
	if (!c)
		fail_msg("open: %s", err);
	return c;
}

/* Poll until k has `commits` commits (or 10 s). */
static void poll_commits(pg_cdc *c, collector *k, size_t commits)
{
	char err[512];
	int64_t deadline = brook_mono_ms() + 10000;
	while (k->ncommits < commits && brook_mono_ms() < deadline) {
		int rc = pg_cdc_poll(c, 100, err, sizeof err);
		if (rc != BROOK_OK)
			fail_msg("poll: %s", err);
	}
	assert_int_equal(k->ncommits, commits);
}

/* Poll for ms milliseconds. */
static void poll_for(pg_cdc *c, int ms)
{
	char err[512];
	int64_t deadline = brook_mono_ms() + ms;
	while (brook_mono_ms() < deadline)
		if (pg_cdc_poll(c, 50, err, sizeof err) != BROOK_OK)
			fail_msg("poll: %s", err);
}

static bool has_event(const collector *k, const char *ev)
{
	for (size_t i = 0; i < k->nev; i++)
		if (strcmp(k->ev[i], ev) == 0)
			return true;
	return false;
}

static void dump(const collector *k)
{
	for (size_t i = 0; i < k->nev; i++)
		print_message("  event %zu: %s\n", i, k->ev[i]);
}

static void test_snapshot_stream_ack_reopen(void **state)
{
	(void)state;
	PGconn *db = connect_db();
	exec_ok(db, "CREATE TABLE t1 (id int PRIMARY KEY, name text, big text)");
	exec_ok(db, "ALTER TABLE t1 ALTER big SET STORAGE EXTERNAL");
	exec_ok(db, "INSERT INTO t1 VALUES (1, 'a', NULL), (2, 'b', 'x'), (3, 'c', NULL)");
	exec_ok(db, "CREATE TABLE t2 (id int PRIMARY KEY, v text)");
	exec_ok(db, "ALTER TABLE t2 REPLICA IDENTITY FULL");
	exec_ok(db, "INSERT INTO t2 VALUES (1, 'x')");

	static const char *const tables[] = {"public.t1", "t2"};
	collector k = {0};
	pg_cdc_opts o = make_opts("s1", "p1", tables, 2, PG_CDC_SNAPSHOT_INITIAL, &k);
	pg_cdc *c = open_ok(&o);
	assert_true(pg_cdc_slot_created(c));

	/* the publication was created before the slot: its creating transaction is older
	 * than the slot's catalog_xmin */
	char v[64];
	assert_true(query_value(db, "SELECT (SELECT xmin::text::bigint FROM pg_publication "
				"WHERE pubname = 'p1') < (SELECT catalog_xmin::text::bigint "
				"FROM pg_replication_slots WHERE slot_name = 's1')", v, sizeof v));
	assert_string_equal(v, "t");

	/* the snapshot: every row exactly once */
	dump(&k);
	assert_int_equal(k.nev, 4);
	assert_int_equal(k.ncommits, 0);
	assert_true(has_event(&k, "r public.t1 -:- / id=1,name=a,big=NULL"));
	assert_true(has_event(&k, "r public.t1 -:- / id=2,name=b,big=x"));
	assert_true(has_event(&k, "r public.t1 -:- / id=3,name=c,big=NULL"));
	assert_true(has_event(&k, "r public.t2 -:- / id=1,v=x"));
	collector_reset(&k);

	/* live changes, one transaction each */
	exec_ok(db, "INSERT INTO t1 VALUES (4, 'd', repeat('y', 5000))");
	exec_ok(db, "UPDATE t1 SET name = 'dd' WHERE id = 4");
	exec_ok(db, "UPDATE t2 SET v = 'z' WHERE id = 1");
	exec_ok(db, "DELETE FROM t1 WHERE id = 2");
	exec_ok(db, "DELETE FROM t2 WHERE id = 1");
	poll_commits(c, &k, 5);
	dump(&k);
	assert_int_equal(k.nbegins, 5);
	assert_int_equal(k.nev, 5);
	assert_string_equal(k.ev[0], "c public.t1 -:- / id=4,name=d,big=<5000 bytes>");
	assert_string_equal(k.ev[1], "u public.t1 -:- / id=4,name=dd,big=<toast>");
	assert_string_equal(k.ev[2], "u public.t2 O:id=1,v=x / id=1,v=z");
	assert_string_equal(k.ev[3], "d public.t1 K:id=2,name=NULL,big=NULL / -");
	assert_string_equal(k.ev[4], "d public.t2 O:id=1,v=z / -");
	for (size_t i = 1; i < k.ncommits; i++)
		assert_true(k.commits[i] > k.commits[i - 1]);

	/* ack the last commit: the slot moves exactly there */
	uint64_t acked = k.commits[4];
	pg_cdc_ack(c, acked);
	char err[512];
	assert_int_equal(pg_cdc_send_status(c, err, sizeof err), BROOK_OK);
	int64_t deadline = brook_mono_ms() + 5000;
	while (slot_confirmed(db, "s1") != acked && brook_mono_ms() < deadline)
		poll_for(c, 50);
	assert_true(slot_confirmed(db, "s1") == acked);

	/* a change that is delivered but not acked: the slot stays */
	collector_reset(&k);
	exec_ok(db, "INSERT INTO t1 VALUES (5, 'e', NULL)");
	poll_commits(c, &k, 1);
	assert_string_equal(k.ev[0], "c public.t1 -:- / id=5,name=e,big=NULL");
	assert_int_equal(pg_cdc_send_status(c, err, sizeof err), BROOK_OK);
	poll_for(c, 600); /* keepalives must not ack past the pending transaction */
	assert_true(slot_confirmed(db, "s1") == acked);
	assert_true(pg_cdc_acked_lsn(c) == acked);
	uint64_t unacked_end = k.commits[0];
	pg_cdc_close(c);

	/* reopen: only the unacked transaction again; no snapshot (the slot exists) */
	collector_reset(&k);
	o.resume = true;
	c = open_ok(&o);
	assert_false(pg_cdc_slot_created(c));
	poll_commits(c, &k, 1);
	poll_for(c, 300);
	dump(&k);
	assert_int_equal(k.nev, 1);
	assert_string_equal(k.ev[0], "c public.t1 -:- / id=5,name=e,big=NULL");
	assert_true(k.commits[0] == unacked_end);
	pg_cdc_ack(c, unacked_end);
	assert_int_equal(pg_cdc_send_status(c, err, sizeof err), BROOK_OK);
	deadline = brook_mono_ms() + 5000;
	while (slot_confirmed(db, "s1") < unacked_end && brook_mono_ms() < deadline)
		poll_for(c, 50);
	assert_true(slot_confirmed(db, "s1") >= unacked_end);
	pg_cdc_close(c);
	collector_reset(&k);
	PQfinish(db);
}

static void test_snapshot_never_and_idle_heartbeat(void **state)
{
	(void)state;
	PGconn *db = connect_db();
	exec_ok(db, "CREATE TABLE t3 (id int PRIMARY KEY, v text)");
	exec_ok(db, "CREATE TABLE unpublished (id int)");
	exec_ok(db, "INSERT INTO t3 VALUES (1, 'old')");
	static const char *const tables[] = {"public.t3"};
	collector k = {0};
	pg_cdc_opts o = make_opts("s2", "p2", tables, 1, PG_CDC_SNAPSHOT_NEVER, &k);
	pg_cdc *c = open_ok(&o);
	assert_int_equal(k.nev, 0);
	exec_ok(db, "INSERT INTO t3 VALUES (2, 'new')");
	poll_commits(c, &k, 1);
	assert_int_equal(k.nev, 1);
	assert_string_equal(k.ev[0], "c public.t3 -:- / id=2,v=new");
	pg_cdc_ack(c, k.commits[0]);

	/* idle for us: WAL moves elsewhere (a table outside the publication; PostgreSQL 15
	 * sends nothing for the empty transaction). Once the walsender has caught up while
	 * our reported flush is behind what it decoded, it sends a keepalive carrying its
	 * position (WalSndWaitForWal); with nothing pending we acknowledge that position,
	 * and the next status update (interval 200 ms here) advances the slot. */
	char v[64];
	exec_ok(db, "INSERT INTO unpublished VALUES (1)");
	assert_true(query_value(db, "SELECT pg_current_wal_lsn()", v, sizeof v));
	uint64_t target;
	assert_int_equal(pgo_lsn_parse(v, &target), BROOK_OK);
	int64_t deadline = brook_mono_ms() + 10000;
	while (slot_confirmed(db, "s2") < target && brook_mono_ms() < deadline)
		poll_for(c, 100);
	assert_true(slot_confirmed(db, "s2") >= target);
	assert_int_equal(k.nev, 1);
	assert_true(pg_cdc_lag_bytes(c) == 0 || pg_cdc_acked_lsn(c) >= target);
	pg_cdc_close(c);
	collector_reset(&k);

	/* snapshot always on the existing slot: the current rows are read again */
	o.snapshot = PG_CDC_SNAPSHOT_ALWAYS;
	o.resume = true;
	c = open_ok(&o);
	assert_false(pg_cdc_slot_created(c));
	dump(&k);
	assert_int_equal(k.nev, 2);
	assert_true(has_event(&k, "r public.t3 -:- / id=1,v=old"));
	assert_true(has_event(&k, "r public.t3 -:- / id=2,v=new"));
	collector_reset(&k);
	/* truncate: op t without tuples */
	exec_ok(db, "TRUNCATE t3");
	poll_commits(c, &k, 1);
	assert_int_equal(k.nev, 1);
	assert_string_equal(k.ev[0], "t public.t3 -:- / -");
	pg_cdc_close(c);
	collector_reset(&k);
	PQfinish(db);
}

static void test_publication_dropped(void **state)
{
	(void)state;
	PGconn *db = connect_db();
	static const char *const tables[] = {"public.t3"};
	collector k = {0};
	pg_cdc_opts o = make_opts("s3", "p3", tables, 1, PG_CDC_SNAPSHOT_NEVER, &k);
	pg_cdc *c = open_ok(&o);
	poll_for(c, 100);
	exec_ok(db, "DROP PUBLICATION p3");
	exec_ok(db, "INSERT INTO t3 VALUES (3, 'x')");
	char err[512];
	int rc = BROOK_OK;
	int64_t deadline = brook_mono_ms() + 10000;
	while (rc == BROOK_OK && brook_mono_ms() < deadline)
		rc = pg_cdc_poll(c, 100, err, sizeof err);
	print_message("  poll: %s\n", err);
	assert_int_equal(rc, PG_CDC_GONE);
	pg_cdc_close(c);

	/* resuming without the publication: the same distinct error */
	o.resume = true;
	pg_cdc *c2 = NULL;
	assert_int_equal(pg_cdc_open_rc(&o, &c2, err, sizeof err), PG_CDC_GONE);
	assert_null(c2);
	assert_int_equal(pg_cdc_drop_slot(pg_cluster_dsn(g_cluster), "s3", err, sizeof err),
			 BROOK_OK);
	collector_reset(&k);
	PQfinish(db);
}

static void test_slot_dropped(void **state)
{
	(void)state;
	static const char *const tables[] = {"public.t3"};
	collector k = {0};
	pg_cdc_opts o = make_opts("s4", "p4", tables, 1, PG_CDC_SNAPSHOT_NEVER, &k);
	pg_cdc *c = open_ok(&o);
	poll_for(c, 100);
	char err[512];
	assert_int_equal(pg_cdc_drop_slot(pg_cluster_dsn(g_cluster), "s4", err, sizeof err),
			 BROOK_OK);
	/* the walsender was terminated: connection loss */
	int rc = BROOK_OK;
	int64_t deadline = brook_mono_ms() + 10000;
	while (rc == BROOK_OK && brook_mono_ms() < deadline)
		rc = pg_cdc_poll(c, 100, err, sizeof err);
	print_message("  poll: %s\n", err);
	assert_int_equal(rc, BROOK_ERR);
	pg_cdc_close(c);
	/* reconnecting finds the slot gone */
	o.resume = true;
	pg_cdc *c2 = NULL;
	assert_int_equal(pg_cdc_open_rc(&o, &c2, err, sizeof err), PG_CDC_GONE);
	assert_null(c2);
	print_message("  open: %s\n", err);
	/* without resume it is simply created again */
	o.resume = false;
	c = open_ok(&o);
	assert_true(pg_cdc_slot_created(c));
	pg_cdc_close(c);
	assert_int_equal(pg_cdc_drop_slot(pg_cluster_dsn(g_cluster), "s4", err, sizeof err),
			 BROOK_OK);
	collector_reset(&k);
}

static int stop_on_change(void *ud, const pg_cdc_change *ch)
{
	(void)ud;
	(void)ch;
	return BROOK_ERR;
}

static size_t g_counted;

static int count_change(void *ud, const pg_cdc_change *ch)
{
	(void)ud;
	assert_int_equal(ch->op, 'r');
	assert_int_equal(ch->rel->ncols, 1);
	assert_int_equal(ch->rel->cols[0].flags, PGO_COLUMN_KEY);
	g_counted++;
	return BROOK_OK;
}

/* A snapshot stopped half-way leaves no slot behind: the next open snapshots again,
 * every row once across several cursor pages. */
static void test_failed_snapshot_drops_slot(void **state)
{
	(void)state;
	PGconn *db = connect_db();
	exec_ok(db, "CREATE TABLE t5 (id int PRIMARY KEY)");
	exec_ok(db, "INSERT INTO t5 SELECT generate_series(1, 2500)");
	static const char *const tables[] = {"public.t5"};
	collector k = {0};
	pg_cdc_opts o = make_opts("s5", "p5", tables, 1, PG_CDC_SNAPSHOT_INITIAL, &k);
	o.cb.change = stop_on_change;
	char err[512], v[64];
	int rc = pg_cdc_open_rc(&o, &(pg_cdc *){NULL}, err, sizeof err);
	assert_int_equal(rc, BROOK_ERR);
	assert_non_null(strstr(err, "stopped by the consumer"));
	assert_true(query_value(db, "SELECT count(*) FROM pg_replication_slots "
				"WHERE slot_name = 's5'", v, sizeof v));
	assert_string_equal(v, "0");
	o.cb.change = count_change;
	pg_cdc *c = open_ok(&o);
	assert_true(pg_cdc_slot_created(c));
	assert_int_equal(g_counted, 2500);
	pg_cdc_close(c);
	collector_reset(&k);
	PQfinish(db);
}

static void test_bad_options(void **state)
{
	(void)state;
	collector k = {0};
	char err[512];
	pg_cdc_opts o = make_opts("Bad-Slot", "p", NULL, 0, PG_CDC_SNAPSHOT_NEVER, &k);
	assert_null(pg_cdc_open(&o, err, sizeof err));
	assert_non_null(strstr(err, "invalid"));
	pg_cdc_snapshot_mode m;
	assert_int_equal(pg_cdc_snapshot_mode_parse("always", &m), BROOK_OK);
	assert_int_equal(m, PG_CDC_SNAPSHOT_ALWAYS);
	assert_int_equal(pg_cdc_snapshot_mode_parse("sometimes", &m), BROOK_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_snapshot_stream_ack_reopen),
		cmocka_unit_test(test_snapshot_never_and_idle_heartbeat),
		cmocka_unit_test(test_publication_dropped),
		cmocka_unit_test(test_slot_dropped),
		cmocka_unit_test(test_failed_snapshot_drops_slot),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
