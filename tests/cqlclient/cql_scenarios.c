/*
 * cql_scenarios — brook's CQL client (cql/client.h) against a live CQL server: `brook
 * store`, Cassandra 3.11+/4.x or ScyllaDB. Run by tests/integration/test_store_cclient.py.
 *
 *   cql_scenarios --host HOST:PORT [-u USER -p PASSWORD] [--compression] SCENARIO...
 *
 * Scenarios (each uses its own keyspace or table, created fresh):
 *   users       spark_streams.created_users as the pipeline writes it: prepared inserts
 *               with 32 requests in flight, unlogged batches of 100, read back page by
 *               page and compared field by field; prepared point reads.
 *   paging      20,000 rows over 10 partitions read back with paging: next_page and
 *               foreach_row, every row exactly once; one partition in clustering order.
 *   compound    PRIMARY KEY ((a, b), c, d): clustering ranges, ORDER BY DESC, LIMIT.
 *   ttl         USING TTL: a row with TTL 1 is gone after 2.5 s, a long TTL stays.
 *   unprepared  a statement survives DROP + CREATE of its table, and a forged unknown id,
 *               by transparent re-preparation (UNPREPARED 0x2500).
 *   errors      Invalid (0x2200) for type mismatches and unknown tables, Syntax_error
 *               (0x2000), client-side bind errors.
 *   badauth     (with -u/-p) a wrong password is refused with Bad_credentials (0x0100).
 *   types       every scalar type bound typed and from text, read back.
 *   overwrite   30,000 keys written twice (32 in flight): still 30,000 rows, each once.
 *   restart     with the harness: prints {"wait": ...}, and once a line arrives on stdin
 *               (the server was restarted meanwhile) the same client and prepared
 *               statement go on: reconnection, lazy re-preparation, durable data.
 *
 * Output: one JSON object per check on stdout {"scenario", "check", "ok", "detail"}; a
 * final {"summary": ...}. Exit 0 when every check held, 1 when one failed, 2 for usage
 * or when the server cannot be reached.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "cql/client.h"
#include "cql/client_impl.h"

static const char *g_host, *g_user, *g_pass;
static bool g_lz4;
static int g_checks, g_failed;
static const char *g_scenario = "";

__attribute__((format(printf, 3, 4))) static bool check(bool ok, const char *name, const char *fmt,
                                                        ...)
{
	brook_buf d = BROOK_BUF_INIT, line = BROOK_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	brook_buf_vprintf(&d, fmt, ap);
	va_end(ap);
	brook_buf_puts(&line, "{\"scenario\":\"");
	brook_buf_put_json_escaped(&line, g_scenario, strlen(g_scenario));
	brook_buf_puts(&line, "\",\"check\":\"");
	brook_buf_put_json_escaped(&line, name, strlen(name));
	brook_buf_printf(&line, "\",\"ok\":%s,\"detail\":\"", ok ? "true" : "false");
	brook_buf_put_json_escaped(&line, d.data ? d.data : "", d.len);
	brook_buf_puts(&line, "\"}\n");
	fputs(line.data, stdout);
	fflush(stdout);
	brook_buf_release(&d);
	brook_buf_release(&line);
	g_checks++;
	if (!ok)
		g_failed++;
	return ok;
}

static cql_client *connect_client(int max_in_flight, const char *pass, cql_client_error *err)
{
	const char *cps[1] = {g_host};
	cql_client_opts o;
	cql_client_opts_default(&o);
	o.contact_points = cps;
	o.n_contact_points = 1;
	o.username = g_user;
	o.password = pass;
	o.compression = g_lz4;
	o.max_in_flight = max_in_flight;
	o.request_timeout_ms = 60000;
	return cql_client_new(&o, err);
}

/* Runs a statement that must succeed; false (with a failed check) otherwise. */
static bool must(cql_client *c, const char *cql)
{
	cql_client_error err;
	if (cql_client_query(c, cql, NULL, &err) == BROOK_OK)
		return true;
	check(false, "statement", "%s: %s", cql, err.msg);
	return false;
}

static bool fresh_keyspace(cql_client *c, const char *ks)
{
	char q[256];
	snprintf(q, sizeof q, "DROP KEYSPACE IF EXISTS %s", ks);
	if (!must(c, q))
		return false;
	snprintf(q, sizeof q,
	         "CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', "
	         "'replication_factor': 1}",
	         ks);
	return must(c, q);
}

/* ---- async completion counting --------------------------------------------------------- */

struct waitgroup {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t submitted, done, failed;
	char first_err[512];
};

static void wg_init(struct waitgroup *w)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
}

static void wg_release(struct waitgroup *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

static void wg_done(void *arg, cql_res *res, const cql_client_error *err)
{
	struct waitgroup *w = arg;
	cql_res_free(res);
	pthread_mutex_lock(&w->mu);
	if (err) {
		if (!w->failed)
			snprintf(w->first_err, sizeof w->first_err, "%s", err->msg);
		w->failed++;
	}
	w->done++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void wg_wait(struct waitgroup *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->done < w->submitted)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

/* ---- users ------------------------------------------------------------------------------ */

#define USER_COLS 12
static const char *const user_cols[USER_COLS] = {
    "id",    "first_name", "last_name", "gender",          "address", "post_code",
    "email", "username",   "dob",       "registered_date", "phone",   "picture"};

static void user_id(int i, uint8_t u[16])
{
	static const uint8_t base[16] = {0x9b, 0x2c, 0x6a, 0x10, 0x4e, 0x21, 0x4c, 0x7d,
	                                 0x8a, 0x00, 0,    0,    0,    0,    0,    0};
	memcpy(u, base, 16);
	u[12] = (uint8_t)(i >> 24);
	u[13] = (uint8_t)(i >> 16);
	u[14] = (uint8_t)(i >> 8);
	u[15] = (uint8_t)i;
}

static int user_index(const uint8_t u[16])
{
	return (int)((uint32_t)u[12] << 24 | (uint32_t)u[13] << 16 | (uint32_t)u[14] << 8 | u[15]);
}

/* Field k (1..11) of user i. */
static void user_field(int i, int k, char *out, size_t n)
{
	switch (k) {
	case 1:
		snprintf(out, n, "Fïrst%d", i);
		break;
	case 2:
		snprintf(out, n, "O'Brien-%d", i);
		break;
	case 3:
		snprintf(out, n, "%s", i % 2 ? "female" : "male");
		break;
	case 4:
		snprintf(out, n, "%d Rue de l'Église, Zürich, Switzerland", i);
		break;
	case 5:
		snprintf(out, n, "%05d", (i * 37) % 100000);
		break;
	case 6:
		snprintf(out, n, "user%d@example.com", i);
		break;
	case 7:
		snprintf(out, n, "user_%d", i);
		break;
	case 8:
		snprintf(out, n, "19%02d-0%d-1%dT08:15:00.000Z", 50 + i % 50, 1 + i % 9, i % 10);
		break;
	case 9:
		snprintf(out, n, "2015-01-02T03:04:05.678Z");
		break;
	case 10:
		snprintf(out, n, "(555) 010-%04d", i % 10000);
		break;
	default:
		snprintf(out, n, "https://randomuser.me/api/portraits/women/%d.jpg", i % 100);
		break;
	}
}

static void bind_user(cql_stmt *st, int i)
{
	uint8_t u[16];
	user_id(i, u);
	cql_stmt_bind_uuid(st, 0, u);
	for (int k = 1; k < USER_COLS; k++) {
		char v[160];
		user_field(i, k, v, sizeof v);
		if (k == 9 && i % 5 == 0)
			cql_stmt_bind_null(st, k); /* some registered_date are null */
		else
			cql_stmt_bind_text(st, k, v);
	}
}

struct user_check {
	int64_t rows, bad, dup;
	uint8_t *seen;
	int n;
	char first_bad[256];
};

static int check_user_row(void *arg, const cql_res *page, int32_t row)
{
	struct user_check *uc = arg;
	uc->rows++;
	uint8_t u[16];
	int id_col = cql_res_column_index(page, "id");
	if (id_col < 0 || cql_res_get_uuid(page, row, id_col, u) != BROOK_OK) {
		uc->bad++;
		return 0;
	}
	int i = user_index(u);
	if (i < 0 || i >= uc->n) {
		uc->bad++;
		return 0;
	}
	if (uc->seen[i]++)
		uc->dup++;
	for (int k = 1; k < USER_COLS; k++) {
		int col = cql_res_column_index(page, user_cols[k]);
		char want[160];
		user_field(i, k, want, sizeof want);
		cql_str got = {NULL, 0};
		bool null_ok = k == 9 && i % 5 == 0;
		int rc = col < 0 ? BROOK_ERR : cql_res_get_text(page, row, col, &got);
		bool ok = null_ok ? (col >= 0 && cql_res_is_null(page, row, col))
		                  : rc == BROOK_OK && got.len == strlen(want) &&
		                        !memcmp(got.ptr, want, got.len);
		if (!ok) {
			if (!uc->bad)
				snprintf(uc->first_bad, sizeof uc->first_bad,
				         "user %d column %s: got '%.*s', want '%s'", i,
				         user_cols[k], (int)(rc == BROOK_OK ? got.len : 0),
				         rc == BROOK_OK ? got.ptr : "", null_ok ? "null" : want);
			uc->bad++;
			break;
		}
	}
	return 0;
}

static void scenario_users(cql_client *c)
{
	if (!must(c, "CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = "
	             "{'class': 'SimpleStrategy', 'replication_factor': '1'}") ||
	    !must(c, "DROP TABLE IF EXISTS spark_streams.created_users") ||
	    !must(c, "CREATE TABLE IF NOT EXISTS spark_streams.created_users (id UUID PRIMARY KEY, "
	             "first_name TEXT, last_name TEXT, gender TEXT, address TEXT, post_code TEXT, "
	             "email TEXT, username TEXT, dob TEXT, registered_date TEXT, phone TEXT, "
	             "picture TEXT)"))
		return;
	cql_client_error err;
	cql_prepared *ins = NULL;
	const char *insert_cql =
	    "INSERT INTO spark_streams.created_users (id, first_name, last_name, gender, "
	    "address, post_code, email, username, dob, registered_date, phone, picture) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	if (!check(cql_client_prepare(c, insert_cql, &ins, &err) == BROOK_OK, "prepare insert",
	           "%s", err.msg))
		return;
	check(cql_prepared_bind_count(ins) == USER_COLS, "bind markers", "%d",
	      cql_prepared_bind_count(ins));
	cql_stmt *st = cql_stmt_new_prepared(ins);
	check(cql_stmt_index(st, "registered_date") == 9 &&
	          cql_stmt_type(st, 0)->id == CQL_TYPE_UUID &&
	          cql_stmt_type(st, 1)->id == CQL_TYPE_VARCHAR,
	      "bind marker names and types", "registered_date at %d",
	      cql_stmt_index(st, "registered_date"));

	/* 2000 single inserts, 32 in flight (the client's max_in_flight blocks the 33rd) */
	const int singles = 2000, batched = 2000, n = singles + batched;
	struct waitgroup w;
	wg_init(&w);
	for (int i = 0; i < singles; i++) {
		bind_user(st, i);
		w.submitted++;
		if (cql_client_execute_async(c, st, wg_done, &w, &err) != BROOK_OK) {
			w.submitted--;
			check(false, "submit insert", "%s", err.msg);
			break;
		}
	}
	/* 20 unlogged batches of 100, submitted while the inserts run */
	cql_stmt_batch *b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	for (int i = singles; i < n; i++) {
		bind_user(st, i);
		if (cql_stmt_batch_add(b, st, &err) != BROOK_OK) {
			check(false, "batch add", "%s", err.msg);
			break;
		}
		if (cql_stmt_batch_count(b) == 100) {
			w.submitted++;
			if (cql_client_execute_batch_async(c, b, wg_done, &w, &err) != BROOK_OK) {
				w.submitted--;
				check(false, "submit batch", "%s", err.msg);
			}
			cql_stmt_batch_clear(b);
		}
	}
	wg_wait(&w);
	check(w.failed == 0, "2000 inserts (32 in flight) and 20 unlogged batches of 100",
	      "%" PRId64 " of %" PRId64 " failed: %s", w.failed, w.done, w.first_err);
	wg_release(&w);
	cql_stmt_batch_free(b);
	cql_stmt_free(st);

	/* read everything back, 500 rows a page */
	struct user_check uc = {.n = n, .seen = calloc((size_t)n, 1)};
	cql_stmt *sel = cql_stmt_new("SELECT * FROM spark_streams.created_users");
	cql_stmt_set_page_size(sel, 500);
	int64_t rows = 0;
	int rc = cql_client_foreach_row(c, sel, check_user_row, &uc, &rows, &err);
	check(rc == BROOK_OK, "select all (paged)", "%s", rc == BROOK_OK ? "" : err.msg);
	int64_t missing = 0;
	for (int i = 0; i < n; i++)
		missing += !uc.seen[i];
	check(uc.rows == n && missing == 0 && uc.dup == 0, "every user read back once",
	      "rows %" PRId64 ", missing %" PRId64 ", duplicates %" PRId64, uc.rows, missing,
	      uc.dup);
	check(uc.bad == 0, "fields read back equal", "%" PRId64 " bad rows; %s", uc.bad,
	      uc.first_bad);
	free(uc.seen);
	cql_stmt_free(sel);

	/* prepared point reads */
	cql_prepared *get = NULL;
	if (check(cql_client_prepare(c,
	                             "SELECT first_name, email, registered_date FROM "
	                             "spark_streams.created_users WHERE id = ?",
	                             &get, &err) == BROOK_OK,
	          "prepare select", "%s", err.msg)) {
		cql_stmt *gs = cql_stmt_new_prepared(get);
		int good = 0;
		for (int i = 0; i < n; i += 397) {
			uint8_t u[16];
			user_id(i, u);
			cql_stmt_bind_uuid(gs, 0, u);
			cql_res *r = NULL;
			char want[160];
			user_field(i, 6, want, sizeof want);
			cql_str got;
			if (cql_client_execute(c, gs, &r, &err) == BROOK_OK &&
			    cql_res_row_count(r) == 1 &&
			    cql_res_get_text(r, 0, 1, &got) == BROOK_OK &&
			    got.len == strlen(want) && !memcmp(got.ptr, want, got.len) &&
			    cql_res_is_null(r, 0, 2) == (i % 5 == 0))
				good++;
			cql_res_free(r);
		}
		check(good == (n + 396) / 397, "prepared point reads", "%d good", good);
		/* the same text prepared again comes from the cache */
		cql_prepared *again = NULL;
		cql_client_prepare(c,
		                   "SELECT first_name, email, registered_date FROM "
		                   "spark_streams.created_users WHERE id = ?",
		                   &again, &err);
		check(again == get, "statement cache", "same handle");
		cql_stmt_free(gs);
	}
}

/* ---- paging ------------------------------------------------------------------------------- */

struct page_check {
	uint8_t *seen;
	int64_t rows, dup, bad;
};

static int page_row(void *arg, const cql_res *page, int32_t row)
{
	struct page_check *pc = arg;
	int64_t k, cc;
	pc->rows++;
	if (cql_res_get_int64(page, row, 0, &k) != BROOK_OK ||
	    cql_res_get_int64(page, row, 1, &cc) != BROOK_OK || k < 0 || k >= 10 || cc < 0 ||
	    cc >= 2000) {
		pc->bad++;
		return 0;
	}
	int64_t i = cc * 10 + k;
	if (pc->seen[i]++)
		pc->dup++;
	return 0;
}

static void scenario_paging(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_paging") ||
	    !must(c, "CREATE TABLE cc_paging.t (k int, c int, v text, PRIMARY KEY (k, c))"))
		return;
	cql_client_error err;
	cql_prepared *ins = NULL;
	if (!check(cql_client_prepare(c, "INSERT INTO cc_paging.t (k, c, v) VALUES (?, ?, ?)", &ins,
	                              &err) == BROOK_OK,
	           "prepare", "%s", err.msg))
		return;
	cql_stmt *st = cql_stmt_new_prepared(ins);
	cql_stmt_batch *b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	struct waitgroup w;
	wg_init(&w);
	for (int i = 0; i < 20000; i++) {
		char v[32];
		snprintf(v, sizeof v, "value-%d", i);
		cql_stmt_bind_int(st, 0, i % 10);
		cql_stmt_bind_int(st, 1, i / 10);
		cql_stmt_bind_text(st, 2, v);
		cql_stmt_batch_add(b, st, &err);
		if (cql_stmt_batch_count(b) == 100) {
			w.submitted++;
			if (cql_client_execute_batch_async(c, b, wg_done, &w, &err) != BROOK_OK)
				w.submitted--;
			cql_stmt_batch_clear(b);
		}
	}
	wg_wait(&w);
	check(w.failed == 0 && w.done == 200, "20,000 rows in 200 batches",
	      "%" PRId64 " failed: %s", w.failed, w.first_err);
	wg_release(&w);
	cql_stmt_batch_free(b);
	cql_stmt_free(st);

	/* next_page by hand */
	cql_stmt *sel = cql_stmt_new("SELECT k, c, v FROM cc_paging.t");
	cql_stmt_set_page_size(sel, 1000);
	struct page_check pc = {.seen = calloc(20000, 1)};
	cql_res *r = NULL;
	int pages = 0;
	int rc = cql_client_execute(c, sel, &r, &err);
	while (rc == BROOK_OK && r) {
		pages++;
		for (int32_t i = 0; i < cql_res_row_count(r); i++)
			page_row(&pc, r, i);
		cql_res *next = NULL;
		rc = cql_client_next_page(c, sel, r, &next, &err);
		cql_res_free(r);
		r = next;
	}
	int64_t missing = 0;
	for (int i = 0; i < 20000; i++)
		missing += !pc.seen[i];
	check(rc == BROOK_OK && pc.rows == 20000 && missing == 0 && pc.dup == 0 && pc.bad == 0,
	      "next_page over 20,000 rows",
	      "pages %d, rows %" PRId64 ", missing %" PRId64 ", dup %" PRId64 ", bad %" PRId64
	      " %s",
	      pages, pc.rows, missing, pc.dup, pc.bad, rc == BROOK_OK ? "" : err.msg);
	check(pages >= 20, "pages of at most 1000 rows", "%d pages", pages);

	/* foreach_row with another page size */
	memset(pc.seen, 0, 20000);
	pc.rows = pc.dup = pc.bad = 0;
	cql_stmt_set_page_size(sel, 777);
	int64_t rows = 0;
	rc = cql_client_foreach_row(c, sel, page_row, &pc, &rows, &err);
	missing = 0;
	for (int i = 0; i < 20000; i++)
		missing += !pc.seen[i];
	check(rc == BROOK_OK && rows == 20000 && missing == 0 && pc.dup == 0, "foreach_row",
	      "rows %" PRId64 ", missing %" PRId64 ", dup %" PRId64, rows, missing, pc.dup);
	free(pc.seen);
	cql_stmt_free(sel);

	/* one partition pages in clustering order */
	sel = cql_stmt_new("SELECT c FROM cc_paging.t WHERE k = 3");
	cql_stmt_set_page_size(sel, 150);
	int64_t expect = 0, wrong = 0;
	r = NULL;
	rc = cql_client_execute(c, sel, &r, &err);
	while (rc == BROOK_OK && r) {
		for (int32_t i = 0; i < cql_res_row_count(r); i++) {
			int64_t v;
			if (cql_res_get_int64(r, i, 0, &v) != BROOK_OK || v != expect)
				wrong++;
			expect++;
		}
		cql_res *next = NULL;
		rc = cql_client_next_page(c, sel, r, &next, &err);
		cql_res_free(r);
		r = next;
	}
	check(rc == BROOK_OK && expect == 2000 && wrong == 0, "one partition in clustering order",
	      "%" PRId64 " rows, %" PRId64 " out of order", expect, wrong);
	cql_stmt_free(sel);

	r = NULL;
	int64_t count = -1;
	if (cql_client_query(c, "SELECT COUNT(*) FROM cc_paging.t", &r, &err) == BROOK_OK)
		cql_res_get_int64(r, 0, 0, &count);
	check(count == 20000, "COUNT(*)", "%" PRId64 " %s", count, r ? "" : err.msg);
	cql_res_free(r);
}

/* ---- compound keys ------------------------------------------------------------------------- */

/* The d values of a result (column 0 c, 1 d) as "c.d,c.d,...". */
static void cd_list(const cql_res *r, brook_buf *out)
{
	for (int32_t i = 0; i < cql_res_row_count(r); i++) {
		int64_t cv = -1, dv = -1;
		cql_res_get_int64(r, i, 0, &cv);
		cql_res_get_int64(r, i, 1, &dv);
		brook_buf_printf(out, "%s%" PRId64 ".%" PRId64, i ? "," : "", cv, dv);
	}
}

static void expect_cd(cql_client *c, const char *cql, const char *want)
{
	cql_client_error err;
	cql_res *r = NULL;
	brook_buf got = BROOK_BUF_INIT;
	if (cql_client_query(c, cql, &r, &err) != BROOK_OK)
		brook_buf_printf(&got, "error: %s", err.msg);
	else
		cd_list(r, &got);
	const char *g = got.data ? got.data : "";
	check(!strcmp(g, want), cql, "got %s, want %s", g, want);
	cql_res_free(r);
	brook_buf_release(&got);
}

static void scenario_compound(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_compound") ||
	    !must(c, "CREATE TABLE cc_compound.t (a int, b text, c int, d int, v text, "
	             "PRIMARY KEY ((a, b), c, d))"))
		return;
	cql_client_error err;
	cql_prepared *ins = NULL;
	if (cql_client_prepare(c,
	                       "INSERT INTO cc_compound.t (a, b, c, d, v) VALUES (?, ?, ?, ?, ?)",
	                       &ins, &err) != BROOK_OK) {
		check(false, "prepare", "%s", err.msg);
		return;
	}
	cql_stmt *st = cql_stmt_new_prepared(ins);
	int fails = 0;
	for (int a = 1; a <= 2; a++)
		for (int cc = 0; cc < 6; cc++)
			for (int d = 0; d < 3; d++) {
				char v[32];
				snprintf(v, sizeof v, "%d-%d-%d", a, cc, d);
				/* bind from text: the types come from the prepared metadata */
				char as[8], cs[8], ds[8];
				snprintf(as, sizeof as, "%d", a);
				snprintf(cs, sizeof cs, "%d", cc);
				snprintf(ds, sizeof ds, "%d", d);
				cql_stmt_bind_from_text(st, 0, as);
				cql_stmt_bind_from_text(st, 1, "'x'");
				cql_stmt_bind_from_text(st, 2, cs);
				cql_stmt_bind_from_text(st, 3, ds);
				cql_stmt_bind_text(st, 4, v);
				fails += cql_client_execute(c, st, NULL, &err) != BROOK_OK;
			}
	check(fails == 0, "36 inserts bound from text", "%d failed %s", fails,
	      cql_stmt_error(st) ? cql_stmt_error(st) : "");
	cql_stmt_free(st);
	expect_cd(c, "SELECT c, d FROM cc_compound.t WHERE a = 1 AND b = 'x' AND c >= 2 AND c < 4",
	          "2.0,2.1,2.2,3.0,3.1,3.2");
	expect_cd(c, "SELECT c, d FROM cc_compound.t WHERE a = 2 AND b = 'x' AND c = 3 AND d > 0",
	          "3.1,3.2");
	expect_cd(
	    c, "SELECT c, d FROM cc_compound.t WHERE a = 1 AND b = 'x' AND c > 3 ORDER BY c DESC",
	    "5.2,5.1,5.0,4.2,4.1,4.0");
	expect_cd(c, "SELECT c, d FROM cc_compound.t WHERE a = 1 AND b = 'x' LIMIT 4",
	          "0.0,0.1,0.2,1.0");
	expect_cd(c, "SELECT c, d FROM cc_compound.t WHERE a = 1 AND b = 'y'", "");
	/* a prepared range with typed binds */
	cql_prepared *rng = NULL;
	if (cql_client_prepare(
	        c,
	        "SELECT c, d FROM cc_compound.t WHERE a = ? AND b = ? AND c >= ? AND "
	        "c <= ?",
	        &rng, &err) == BROOK_OK) {
		cql_stmt *rs = cql_stmt_new_prepared(rng);
		cql_stmt_bind_int(rs, 0, 2);
		cql_stmt_bind_text(rs, 1, "x");
		cql_stmt_bind_int(rs, 2, 4);
		cql_stmt_bind_int(rs, 3, 5);
		cql_res *r = NULL;
		brook_buf got = BROOK_BUF_INIT;
		if (cql_client_execute(c, rs, &r, &err) == BROOK_OK)
			cd_list(r, &got);
		check(got.data && !strcmp(got.data, "4.0,4.1,4.2,5.0,5.1,5.2"), "prepared range",
		      "%s", got.data ? got.data : err.msg);
		brook_buf_release(&got);
		cql_res_free(r);
		cql_stmt_free(rs);
	} else {
		check(false, "prepare range", "%s", err.msg);
	}
}

/* ---- ttl ------------------------------------------------------------------------------------ */

static int64_t count_rows(cql_client *c, const char *cql)
{
	cql_client_error err;
	cql_res *r = NULL;
	if (cql_client_query(c, cql, &r, &err) != BROOK_OK) {
		check(false, "count", "%s: %s", cql, err.msg);
		return -1;
	}
	int64_t n = cql_res_row_count(r);
	cql_res_free(r);
	return n;
}

static void expect_rows(cql_client *c, const char *cql, int64_t want, const char *name)
{
	int64_t n = count_rows(c, cql);
	check(n == want, name, "%s: %" PRId64 " rows, want %" PRId64, cql, n, want);
}

static void scenario_ttl(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_ttl") ||
	    !must(c, "CREATE TABLE cc_ttl.t (k int PRIMARY KEY, v text)") ||
	    !must(c, "INSERT INTO cc_ttl.t (k, v) VALUES (1, 'short') USING TTL 1") ||
	    !must(c, "INSERT INTO cc_ttl.t (k, v) VALUES (2, 'long') USING TTL 100000"))
		return;
	cql_client_error err;
	cql_prepared *p = NULL;
	if (cql_client_prepare(c, "INSERT INTO cc_ttl.t (k, v) VALUES (?, ?) USING TTL ?", &p,
	                       &err) == BROOK_OK) {
		cql_stmt *st = cql_stmt_new_prepared(p);
		cql_stmt_bind_int(st, 0, 3);
		cql_stmt_bind_text(st, 1, "bound ttl");
		cql_stmt_bind_int(st, 2, 1);
		check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "TTL as a bind marker",
		      "%s", err.msg);
		cql_stmt_free(st);
	} else {
		check(false, "prepare with TTL ?", "%s", err.msg);
	}
	brook_sleep_ms(2500);
	expect_rows(c, "SELECT * FROM cc_ttl.t WHERE k = 1", 0, "TTL 1 expired");
	expect_rows(c, "SELECT * FROM cc_ttl.t WHERE k = 3", 0, "bound TTL 1 expired");
	expect_rows(c, "SELECT * FROM cc_ttl.t WHERE k = 2", 1, "long TTL kept");
}

/* ---- unprepared ------------------------------------------------------------------------------ */

static void scenario_unprepared(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_unprep") ||
	    !must(c, "CREATE TABLE cc_unprep.t (k int PRIMARY KEY, v text)"))
		return;
	cql_client_error err;
	cql_prepared *p = NULL;
	if (!check(cql_client_prepare(c, "INSERT INTO cc_unprep.t (k, v) VALUES (?, ?)", &p,
	                              &err) == BROOK_OK,
	           "prepare", "%s", err.msg))
		return;
	cql_stmt *st = cql_stmt_new_prepared(p);
	cql_stmt_bind_int(st, 0, 1);
	cql_stmt_bind_text(st, 1, "before");
	check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "execute", "%s", err.msg);

	/* the table is dropped and re-created: the statement keeps working */
	must(c, "DROP TABLE cc_unprep.t");
	must(c, "CREATE TABLE cc_unprep.t (k int PRIMARY KEY, v text)");
	cql_stmt_bind_int(st, 0, 2);
	cql_stmt_bind_text(st, 1, "after drop and create");
	check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "execute after DROP + CREATE",
	      "%s (generation %" PRIu64 ")", err.msg, cql_prepared_generation(p));
	check(count_rows(c, "SELECT * FROM cc_unprep.t WHERE k = 2") == 1, "row after re-create",
	      "generation %" PRIu64, cql_prepared_generation(p));

	/* a forged id the server cannot know: answered UNPREPARED, re-prepared, retried */
	uint64_t gen = cql_prepared_generation(p);
	const cql_prep_version *v = cql_prepared_current(p);
	cql_bytes id = cql_prep_version_id(v);
	uint8_t *idp = (uint8_t *)id.ptr; /* the test reaches into the client on purpose */
	for (int32_t i = 0; i < id.len; i++)
		idp[i] ^= 0x5A;
	cql_stmt_bind_int(st, 0, 3);
	cql_stmt_bind_text(st, 1, "forged");
	check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "execute with a forged id", "%s",
	      err.msg);
	check(cql_prepared_generation(p) == gen + 1, "re-prepared once",
	      "generation %" PRIu64 " -> %" PRIu64, gen, cql_prepared_generation(p));
	expect_rows(c, "SELECT * FROM cc_unprep.t WHERE k = 3", 1, "row after forged id");

	/* the same in a batch, and 32 in flight */
	v = cql_prepared_current(p);
	id = cql_prep_version_id(v);
	idp = (uint8_t *)id.ptr;
	for (int32_t i = 0; i < id.len; i++)
		idp[i] ^= 0x5A;
	cql_stmt_batch *b = cql_stmt_batch_new(CQL_BATCH_LOGGED);
	for (int k = 10; k < 20; k++) {
		cql_stmt_bind_int(st, 0, k);
		cql_stmt_bind_text(st, 1, "batched");
		cql_stmt_batch_add(b, st, &err);
	}
	check(cql_client_execute_batch(c, b, NULL, &err) == BROOK_OK,
	      "logged batch with a forged id", "%s", err.msg);
	cql_stmt_batch_free(b);
	v = cql_prepared_current(p);
	id = cql_prep_version_id(v);
	idp = (uint8_t *)id.ptr;
	for (int32_t i = 0; i < id.len; i++)
		idp[i] ^= 0x5A;
	struct waitgroup w;
	wg_init(&w);
	for (int k = 100; k < 132; k++) {
		cql_stmt_bind_int(st, 0, k);
		cql_stmt_bind_text(st, 1, "in flight");
		w.submitted++;
		if (cql_client_execute_async(c, st, wg_done, &w, &err) != BROOK_OK)
			w.submitted--;
	}
	wg_wait(&w);
	check(w.failed == 0 && w.done == 32, "32 in flight with a forged id",
	      "%" PRId64 " failed: %s", w.failed, w.first_err);
	wg_release(&w);
	expect_rows(c, "SELECT * FROM cc_unprep.t", 2 + 10 + 32, "all rows"); /* k 1 was dropped */
	cql_stmt_free(st);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void expect_error(cql_client *c, const char *cql, int32_t code, const char *prefix)
{
	cql_client_error err;
	int rc = cql_client_query(c, cql, NULL, &err);
	check(rc == BROOK_ERR && err.kind == CQL_CLIENT_E_SERVER && err.code == code &&
	          !strncmp(err.msg, prefix, strlen(prefix)),
	      cql, "%s", rc == BROOK_OK ? "succeeded" : err.msg);
}

static void scenario_errors(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_errors") ||
	    !must(c, "CREATE TABLE cc_errors.t (k int PRIMARY KEY, v text, n bigint)"))
		return;
	expect_error(c, "INSERT INTO cc_errors.t (k, v) VALUES ('notanint', 'x')", CQL_ERR_INVALID,
	             "Invalid (0x2200): ");
	expect_error(c, "SELECT * FROM cc_errors.nope", CQL_ERR_INVALID, "Invalid (0x2200): ");
	expect_error(c, "SELEKT * FROM cc_errors.t", CQL_ERR_SYNTAX, "Syntax_error (0x2000): ");
	expect_error(c, "CREATE TABLE cc_errors.t (k int PRIMARY KEY)", CQL_ERR_ALREADY_EXISTS,
	             "Already_exists (0x2400): ");

	/* a value of the wrong width sent on a QUERY: the server's type check answers */
	cql_client_error err;
	cql_stmt *st = cql_stmt_new("INSERT INTO cc_errors.t (k, v) VALUES (?, ?)");
	cql_stmt_bind_text(st, 0, "abc"); /* k is int: 3 bytes */
	cql_stmt_bind_text(st, 1, "x");
	int rc = cql_client_execute(c, st, NULL, &err);
	check(rc == BROOK_ERR && err.kind == CQL_CLIENT_E_SERVER && err.code == CQL_ERR_INVALID,
	      "3-byte value for an int marker", "%s", rc == BROOK_OK ? "succeeded" : err.msg);
	cql_stmt_free(st);

	/* prepared: the client refuses before sending */
	cql_prepared *p = NULL;
	if (cql_client_prepare(c, "INSERT INTO cc_errors.t (k, v, n) VALUES (?, ?, ?)", &p, &err) ==
	    BROOK_OK) {
		st = cql_stmt_new_prepared(p);
		check(cql_stmt_bind_text(st, 0, "x") == BROOK_ERR, "bind text to int", "%s",
		      cql_stmt_error(st) ? cql_stmt_error(st) : "");
		rc = cql_client_execute(c, st, NULL, &err);
		check(rc == BROOK_ERR && err.kind == CQL_CLIENT_E_USAGE,
		      "execute with a failed bind", "%s", err.msg);
		cql_stmt_clear(st);
		cql_stmt_bind_int(st, 0, 1);
		cql_stmt_bind_text(st, 1, "v");
		rc = cql_client_execute(c, st, NULL, &err);
		check(rc == BROOK_ERR && err.kind == CQL_CLIENT_E_USAGE &&
		          strstr(err.msg, "value 2 (n bigint) is not bound"),
		      "missing bind", "%s", err.msg);
		cql_stmt_bind_bigint(st, 2, 5000000000LL);
		check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "all bound", "%s",
		      err.msg);
		cql_stmt_bind_unset(st, 1);
		cql_stmt_bind_int(st, 0, 2);
		check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "unset value", "%s",
		      err.msg);
		cql_stmt_free(st);
	} else {
		check(false, "prepare", "%s", err.msg);
	}
	/* an unknown keyspace in USE */
	expect_error(c, "USE cc_nope_nope", CQL_ERR_INVALID, "Invalid (0x2200): ");
}

/* ---- types ----------------------------------------------------------------------------------- */

static void scenario_types(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_types") ||
	    !must(c, "CREATE TABLE cc_types.t (k int PRIMARY KEY, a ascii, bi bigint, bl blob, "
	             "bo boolean, d double, f float, i int, si smallint, ti tinyint, ts timestamp, "
	             "u uuid, tu timeuuid, tx text, dt date, tm time, ip inet, l list<int>, "
	             "s set<text>, m map<text, int>)"))
		return;
	static const char *const cols[] = {"a", "bi", "bl", "bo", "d",  "f",  "i", "si", "ti", "ts",
	                                   "u", "tu", "tx", "dt", "tm", "ip", "l", "s",  "m"};
	static const char *const lits[] = {"'plain ascii'",
	                                   "-9223372036854775808",
	                                   "0xcafe00",
	                                   "true",
	                                   "1.25",
	                                   "2.5",
	                                   "-2147483648",
	                                   "-32768",
	                                   "-128",
	                                   "'2024-03-05 10:00:00.123+0000'",
	                                   "4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d",
	                                   "d2177dd0-eaa2-11de-a572-001b779c76e3",
	                                   "'Zoë ☃ it''s'",
	                                   "'2024-03-05'",
	                                   "'10:00:00.5'",
	                                   "'::1'",
	                                   "[3, 1, 2]",
	                                   "{'a', 'b'}",
	                                   "{'k': 7}"};
	static const char *const texts[] = {"plain ascii",
	                                    "-9223372036854775808",
	                                    "0xcafe00",
	                                    "True",
	                                    "1.25",
	                                    "2.5",
	                                    "-2147483648",
	                                    "-32768",
	                                    "-128",
	                                    "2024-03-05 10:00:00.123000+0000",
	                                    "4c8b0a4e-3a2f-4e1a-9e2b-0f0d8a7b6c5d",
	                                    "d2177dd0-eaa2-11de-a572-001b779c76e3",
	                                    "Zoë ☃ it's",
	                                    "2024-03-05",
	                                    "10:00:00.500000000",
	                                    "::1",
	                                    "[3, 1, 2]",
	                                    "{'a', 'b'}",
	                                    "{'k': 7}"};
	enum { N = sizeof cols / sizeof cols[0] };
	brook_buf q = BROOK_BUF_INIT;
	brook_buf_puts(&q, "INSERT INTO cc_types.t (k");
	for (int i = 0; i < N; i++)
		brook_buf_printf(&q, ", %s", cols[i]);
	brook_buf_puts(&q, ") VALUES (?");
	for (int i = 0; i < N; i++)
		brook_buf_puts(&q, ", ?");
	brook_buf_puts(&q, ")");
	cql_client_error err;
	cql_prepared *p = NULL;
	if (!check(cql_client_prepare(c, q.data, &p, &err) == BROOK_OK, "prepare", "%s", err.msg)) {
		brook_buf_release(&q);
		return;
	}
	brook_buf_release(&q);
	cql_stmt *st = cql_stmt_new_prepared(p);
	cql_stmt_bind_int(st, 0, 1);
	for (int i = 0; i < N; i++)
		cql_stmt_bind_from_text(st, i + 1, lits[i]);
	check(cql_stmt_error(st) == NULL, "bind every type from text", "%s",
	      cql_stmt_error(st) ? cql_stmt_error(st) : "");
	check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "insert every type", "%s",
	      err.msg);
	cql_stmt_free(st);
	cql_res *r = NULL;
	if (cql_client_query(c, "SELECT * FROM cc_types.t WHERE k = 1", &r, &err) == BROOK_OK &&
	    cql_res_row_count(r) == 1) {
		for (int i = 0; i < N; i++) {
			int col = cql_res_column_index(r, cols[i]);
			brook_buf t = BROOK_BUF_INIT;
			if (col >= 0)
				cql_res_cell_text(r, 0, col, &t, 0);
			check(col >= 0 && t.data && !strcmp(t.data, texts[i]), cols[i],
			      "got %s, want %s", t.data ? t.data : "(no column)", texts[i]);
			brook_buf_release(&t);
		}
	} else {
		check(false, "select every type", "%s", r ? "not one row" : err.msg);
	}
	cql_res_free(r);
}

/* ---- overwrite ------------------------------------------------------------------------------ */

/* Every key written twice (the second pass overwrites the first): still one row per key. */
static void scenario_overwrite(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_overwrite") ||
	    !must(c, "CREATE TABLE cc_overwrite.t (k int PRIMARY KEY, a text, n bigint)"))
		return;
	cql_client_error err;
	cql_prepared *p = NULL;
	if (!check(cql_client_prepare(c, "INSERT INTO cc_overwrite.t (k, a, n) VALUES (?, ?, ?)",
				      &p, &err) == BROOK_OK,
		   "prepare", "%s", err.msg))
		return;
	cql_stmt *st = cql_stmt_new_prepared(p);
	const int n = 30000;
	for (int pass = 0; pass < 2; pass++) {
		struct waitgroup w;
		wg_init(&w);
		for (int k = 0; k < n; k++) {
			cql_stmt_bind_int(st, 0, k);
			cql_stmt_bind_text(st, 1, pass ? "second" : "first");
			cql_stmt_bind_bigint(st, 2, (int64_t)k * 7 + pass);
			w.submitted++;
			if (cql_client_execute_async(c, st, wg_done, &w, &err) != BROOK_OK)
				w.submitted--;
		}
		wg_wait(&w);
		check(w.failed == 0 && w.done == n, pass ? "second pass" : "first pass",
		      "%" PRId64 " failed: %s", w.failed, w.first_err);
		wg_release(&w);
		cql_res *r = NULL;
		int64_t count = -1;
		if (cql_client_query(c, "SELECT COUNT(*) FROM cc_overwrite.t", &r, &err) == BROOK_OK)
			cql_res_get_int64(r, 0, 0, &count);
		cql_res_free(r);
		check(count == n, pass ? "COUNT(*) after overwriting every key" : "COUNT(*)",
		      "%" PRId64 ", want %d", count, n);
	}
	cql_stmt_free(st);
	/* a full scan sees every key once, with the second pass's values */
	struct {
		uint8_t *seen;
		int64_t rows, dup, stale;
	} sc = {.seen = calloc((size_t)n, 1)};
	cql_stmt *sel = cql_stmt_new("SELECT k, a FROM cc_overwrite.t");
	cql_res *r = NULL;
	int rc = cql_client_execute(c, sel, &r, &err);
	while (rc == BROOK_OK && r) {
		for (int32_t i = 0; i < cql_res_row_count(r); i++) {
			int64_t k = -1;
			cql_str a = {NULL, 0};
			cql_res_get_int64(r, i, 0, &k);
			cql_res_get_text(r, i, 1, &a);
			if (k >= 0 && k < n && sc.seen[k]++)
				sc.dup++;
			if (a.len != 6 || memcmp(a.ptr, "second", 6) != 0)
				sc.stale++;
			sc.rows++;
		}
		cql_res *next = NULL;
		rc = cql_client_next_page(c, sel, r, &next, &err);
		cql_res_free(r);
		r = next;
	}
	int64_t dup_key = -1;
	for (int k = 0; k < n && dup_key < 0; k++)
		if (sc.seen[k] > 1)
			dup_key = k;
	check(rc == BROOK_OK && sc.rows == n && sc.dup == 0 && sc.stale == 0,
	      "full scan after overwrites",
	      "rows %" PRId64 ", duplicates %" PRId64 " (first k = %" PRId64 "), stale %" PRId64,
	      sc.rows, sc.dup, dup_key, sc.stale);
	free(sc.seen);
	cql_stmt_free(sel);
}

/* ---- restart ---------------------------------------------------------------------------- */

/* Needs the harness: prints {"wait": ...} and reads a line from stdin once the server has
 * been restarted on the same address and data. */
static void scenario_restart(cql_client *c)
{
	if (!fresh_keyspace(c, "cc_restart") ||
	    !must(c, "CREATE TABLE cc_restart.t (k int PRIMARY KEY, v text)"))
		return;
	cql_client_error err;
	cql_prepared *p = NULL;
	if (!check(cql_client_prepare(c, "INSERT INTO cc_restart.t (k, v) VALUES (?, ?)", &p,
	                              &err) == BROOK_OK,
	           "prepare", "%s", err.msg))
		return;
	cql_stmt *st = cql_stmt_new_prepared(p);
	cql_stmt_bind_int(st, 0, 1);
	cql_stmt_bind_text(st, 1, "before");
	check(cql_client_execute(c, st, NULL, &err) == BROOK_OK, "insert before the restart", "%s",
	      err.msg);
	uint64_t conns = cql_client_connections(c), gen = cql_prepared_generation(p);
	printf("{\"scenario\":\"restart\",\"wait\":\"restart the server now\"}\n");
	fflush(stdout);
	char line[64];
	if (!fgets(line, sizeof line, stdin)) {
		check(false, "harness", "no line on stdin");
		cql_stmt_free(st);
		return;
	}
	/* the old connection is gone: this waits for the reconnection, then the new server
	 * does not know the id and the statement is re-prepared on the way */
	cql_stmt_bind_int(st, 0, 2);
	cql_stmt_bind_text(st, 1, "after");
	int rc = cql_client_execute(c, st, NULL, &err);
	if (rc != BROOK_OK &&
	    err.kind == CQL_CLIENT_E_CONNECTION) /* sent before the drop was seen */
		rc = cql_client_execute(c, st, NULL, &err);
	check(rc == BROOK_OK, "insert after the restart", "%s", rc == BROOK_OK ? "" : err.msg);
	check(cql_client_connections(c) > conns, "reconnected",
	      "%" PRIu64 " -> %" PRIu64 " connections", conns, cql_client_connections(c));
	check(cql_prepared_generation(p) > gen, "re-prepared on the new server",
	      "generation %" PRIu64 " -> %" PRIu64, gen, cql_prepared_generation(p));
	expect_rows(c, "SELECT * FROM cc_restart.t", 2, "both rows (the first survived)");
	cql_stmt_free(st);
}

/* ---- main -------------------------------------------------------------------------------------
 */

static void usage(void)
{
	fprintf(stderr,
	        "usage: cql_scenarios --host HOST:PORT [-u USER -p PASSWORD] "
	        "[--compression] SCENARIO...\n"
	        "scenarios: users paging compound ttl unprepared errors badauth types restart overwrite\n");
}

int main(int argc, char **argv)
{
	int first = 1;
	while (first < argc && argv[first][0] == '-') {
		const char *a = argv[first];
		if (!strcmp(a, "--host") && first + 1 < argc)
			g_host = argv[++first];
		else if (!strcmp(a, "-u") && first + 1 < argc)
			g_user = argv[++first];
		else if (!strcmp(a, "-p") && first + 1 < argc)
			g_pass = argv[++first];
		else if (!strcmp(a, "--compression"))
			g_lz4 = true;
		else {
			usage();
			return 2;
		}
		first++;
	}
	if (!g_host || first == argc) {
		usage();
		return 2;
	}
	cql_client_error err;
	cql_client *c = connect_client(32, g_pass, &err);
	if (!c) {
		fprintf(stderr, "cql_scenarios: %s\n", err.msg);
		return 2;
	}
	g_scenario = "connect";
	check(cql_client_compressed(c) == g_lz4, "compression as asked", "lz4 %s",
	      cql_client_compressed(c) ? "on" : "off");
	for (int i = first; i < argc; i++) {
		g_scenario = argv[i];
		if (!strcmp(argv[i], "users"))
			scenario_users(c);
		else if (!strcmp(argv[i], "paging"))
			scenario_paging(c);
		else if (!strcmp(argv[i], "compound"))
			scenario_compound(c);
		else if (!strcmp(argv[i], "ttl"))
			scenario_ttl(c);
		else if (!strcmp(argv[i], "unprepared"))
			scenario_unprepared(c);
		else if (!strcmp(argv[i], "errors"))
			scenario_errors(c);
		else if (!strcmp(argv[i], "types"))
			scenario_types(c);
		else if (!strcmp(argv[i], "restart"))
			scenario_restart(c);
		else if (!strcmp(argv[i], "overwrite"))
			scenario_overwrite(c);
		else if (!strcmp(argv[i], "badauth")) {
			cql_client *bad = connect_client(4, "definitely-wrong", &err);
			check(!bad && err.kind == CQL_CLIENT_E_CONNECT &&
			          err.code == CQL_ERR_BAD_CREDENTIALS &&
			          strstr(err.msg, "Bad_credentials (0x0100)"),
			      "wrong password refused", "%s", bad ? "connected" : err.msg);
			cql_client_free(bad);
		} else {
			usage();
			cql_client_free(c);
			return 2;
		}
	}
	cql_client_free(c);
	printf("{\"summary\":{\"checks\":%d,\"failed\":%d}}\n", g_checks, g_failed);
	return g_failed ? 1 : 0;
}
