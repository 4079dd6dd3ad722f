/*
 * bench_store — the CQL store against PostgreSQL, on the pipeline's row shape.
 *
 *   bench_store --cql HOST:PORT [--pg DSN] [--rows N (1000000)] [--batch B (100)]
 *               [--inflight F (32)] [--reads R (200000)] [--store-pid PID]
 *
 * Figures (one line each: "<target> <figure> <value> <unit>"):
 *   store insert   rows of spark_streams.created_users' shape (uuid key, 11 text columns,
 *                  ~250 bytes) written with brook's CQL client: one prepared INSERT,
 *                  unlogged batches of B rows, F batches in flight. Each batch is
 *                  acknowledged only once durable (the store's default commit log mode
 *                  fdatasyncs before answering), so this is durable rows/s.
 *   store read     point reads by primary key (prepared SELECT, F in flight), random ids
 *                  among those written.
 *   store scan     SELECT * of the whole table, paged 5000 rows at a time.
 *   pg insert      the same rows into a PostgreSQL table of the same shape: multi-row
 *                  INSERT statements of B rows each, autocommitted (so each is durable:
 *                  synchronous_commit on, fsync on), over F connections at once.
 *   pg copy        the same rows with COPY FROM STDIN on one connection, one transaction.
 *   pg read        point reads by primary key over F connections.
 * Then "ratio" lines: store / pg for each pair (higher is better). --store-pid prints the
 * store's peak and current RSS from /proc after its figures.
 * Tables are created fresh (names carry the pid), so runs never collide.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/err.h"
#include "core/uuid.h"
#include "cql/client.h"

#include "common.h"

#define NCOLS 12

static long g_rows = 1000000, g_reads = 200000;
static int g_batch = 100, g_inflight = 32;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the rows ----------------------------------------------------------------------- */

typedef struct row {
	brook_uuid id;
	char text[NCOLS - 1][64];
} row;

static row *g_data;

static const char *const first_names[] = {"Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah",
					  "Sophia", "Lucas", "Mia", "Mateo"};
static const char *const last_names[] = {"Smith", "Garcia", "Müller", "Dubois", "Rossi",
					 "Silva", "Nielsen", "Kowalski", "Tanaka", "Ivanov"};

static void make_rows(void)
{
	g_data = calloc((size_t)g_rows, sizeof *g_data);
	if (!g_data)
		die("out of memory for %ld rows", g_rows);
	unsigned seed = 42;
	for (long i = 0; i < g_rows; i++) {
		row *r = &g_data[i];
		brook_uuid_v4(&r->id);
		const char *fn = first_names[rand_r(&seed) % 10], *ln = last_names[rand_r(&seed) % 10];
		snprintf(r->text[0], 64, "%s", fn);
		snprintf(r->text[1], 64, "%s", ln);
		snprintf(r->text[2], 64, "%s", rand_r(&seed) % 2 ? "female" : "male");
		snprintf(r->text[3], 64, "%d Rue de la Paix, Lyon, Rhône, France",
			 rand_r(&seed) % 9000 + 100);
		snprintf(r->text[4], 64, "%05d", rand_r(&seed) % 99999);
		snprintf(r->text[5], 64, "%s.%s%ld@example.com", fn, ln, i);
		snprintf(r->text[6], 64, "user%ld", i);
		snprintf(r->text[7], 64, "19%02d-%02d-%02dT08:30:00.000Z", rand_r(&seed) % 100,
			 rand_r(&seed) % 12 + 1, rand_r(&seed) % 28 + 1);
		snprintf(r->text[8], 64, "20%02d-%02d-%02dT12:00:00.000Z", rand_r(&seed) % 20,
			 rand_r(&seed) % 12 + 1, rand_r(&seed) % 28 + 1);
		snprintf(r->text[9], 64, "0%d-%03d-%04d", rand_r(&seed) % 9 + 1, rand_r(&seed) % 1000,
			 rand_r(&seed) % 10000);
		snprintf(r->text[10], 64, "https://randomuser.me/api/portraits/med/women/%d.jpg",
			 rand_r(&seed) % 100);
	}
}

static const char *const col_names[NCOLS] = {
	"id", "first_name", "last_name", "gender", "address", "post_code", "email", "username",
	"dob", "registered_date", "phone", "picture",
};

/* ---- the store ---------------------------------------------------------------------- */

typedef struct flight {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int in_flight;
	long failures;
	char first_error[512];
} flight;

static void flight_done(void *arg, cql_res *res, const cql_client_error *err)
{
	flight *f = arg;
	pthread_mutex_lock(&f->mu);
	if (!res) {
		if (!f->failures++)
			snprintf(f->first_error, sizeof f->first_error, "%s", err->msg);
	}
	f->in_flight--;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	cql_res_free(res);
}

static void flight_wait(flight *f, int below)
{
	pthread_mutex_lock(&f->mu);
	while (f->in_flight >= below)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

static void flight_add(flight *f)
{
	pthread_mutex_lock(&f->mu);
	f->in_flight++;
	pthread_mutex_unlock(&f->mu);
}

static void cql_check(int rc, const cql_client_error *err, const char *what)
{
	if (rc != BROOK_OK)
		die("%s: %s", what, err->msg);
}

static double store_insert(cql_client *c, const char *table)
{
	cql_client_error err;
	char q[1024];
	int n = snprintf(q, sizeof q, "INSERT INTO %s (", table);
	for (int i = 0; i < NCOLS; i++)
		n += snprintf(q + n, sizeof q - (size_t)n, "%s%s", i ? ", " : "", col_names[i]);
	n += snprintf(q + n, sizeof q - (size_t)n, ") VALUES (");
	for (int i = 0; i < NCOLS; i++)
		n += snprintf(q + n, sizeof q - (size_t)n, "%s?", i ? ", " : "");
	snprintf(q + n, sizeof q - (size_t)n, ")");
	cql_prepared *p;
	cql_check(cql_client_prepare(c, q, &p, &err), &err, "prepare insert");
	cql_stmt *st = cql_stmt_new_prepared(p);
	flight f = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, ""};
	cql_stmt_batch *b = cql_stmt_batch_new(CQL_BATCH_UNLOGGED);
	double t0 = now_s();
	for (long i = 0; i < g_rows;) {
		cql_stmt_batch_clear(b);
		for (int k = 0; k < g_batch && i < g_rows; k++, i++) {
			cql_stmt_clear(st);
			cql_stmt_bind_uuid(st, 0, g_data[i].id.b);
			for (int j = 1; j < NCOLS; j++)
				cql_stmt_bind_text(st, j, g_data[i].text[j - 1]);
			cql_check(cql_stmt_batch_add(b, st, &err), &err, "batch add");
		}
		flight_wait(&f, g_inflight);
		flight_add(&f);
		if (cql_client_execute_batch_async(c, b, flight_done, &f, &err) != BROOK_OK)
			die("submit: %s", err.msg);
	}
	flight_wait(&f, 1);
	double secs = now_s() - t0;
	if (f.failures)
		die("%ld batches failed, first: %s", f.failures, f.first_error);
	cql_stmt_batch_free(b);
	cql_stmt_free(st);
	return (double)g_rows / secs;
}

static double store_read(cql_client *c, const char *table)
{
	cql_client_error err;
	char q[256];
	snprintf(q, sizeof q, "SELECT * FROM %s WHERE id = ?", table);
	cql_prepared *p;
	cql_check(cql_client_prepare(c, q, &p, &err), &err, "prepare select");
	cql_stmt *st = cql_stmt_new_prepared(p);
	flight f = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, ""};
	unsigned seed = 7;
	double t0 = now_s();
	for (long i = 0; i < g_reads; i++) {
		cql_stmt_clear(st);
		cql_stmt_bind_uuid(st, 0, g_data[rand_r(&seed) % g_rows].id.b);
		flight_wait(&f, g_inflight);
		flight_add(&f);
		if (cql_client_execute_async(c, st, flight_done, &f, &err) != BROOK_OK)
			die("submit: %s", err.msg);
	}
	flight_wait(&f, 1);
	double secs = now_s() - t0;
	if (f.failures)
		die("%ld reads failed, first: %s", f.failures, f.first_error);
	cql_stmt_free(st);
	return (double)g_reads / secs;
}

static double store_scan(cql_client *c, const char *table)
{
	cql_client_error err;
	char q[256];
	snprintf(q, sizeof q, "SELECT * FROM %s", table);
	cql_stmt *st = cql_stmt_new(q);
	cql_stmt_set_page_size(st, 5000);
	long rows = 0;
	double t0 = now_s();
	cql_res *res = NULL;
	cql_check(cql_client_execute(c, st, &res, &err), &err, "scan");
	while (res) {
		rows += cql_res_row_count(res);
		cql_res *next = NULL;
		cql_check(cql_client_next_page(c, st, res, &next, &err), &err, "scan page");
		cql_res_free(res);
		res = next;
	}
	double secs = now_s() - t0;
	if (rows != g_rows)
		die("scan returned %ld rows, %ld were written", rows, g_rows);
	cql_stmt_free(st);
	return (double)rows / secs;
}

/* ---- PostgreSQL --------------------------------------------------------------------- */

static const char *g_dsn;
static char g_pg_table[64];

static PGconn *pg_connect(void)
{
	PGconn *pg = PQconnectdb(g_dsn);
	if (PQstatus(pg) != CONNECTION_OK)
		die("PostgreSQL (%s): %s", g_dsn, PQerrorMessage(pg));
	return pg;
}

static void pg_exec(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die("PostgreSQL: %s: %s", sql, PQerrorMessage(pg));
	PQclear(r);
}

static void uuid_text(const brook_uuid *u, char out[BROOK_UUID_STRLEN + 1])
{
	brook_uuid_format(u, out);
}

typedef struct pg_worker {
	pthread_t t;
	long from, to; /* rows, or reads */
	bool read;
	unsigned seed;
} pg_worker;

static void *pg_worker_main(void *arg)
{
	pg_worker *w = arg;
	PGconn *pg = pg_connect();
	if (w->read) {
		char q[256];
		snprintf(q, sizeof q, "SELECT * FROM %s WHERE id = $1", g_pg_table);
		PGresult *r = PQprepare(pg, "rd", q, 1, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("PostgreSQL prepare: %s", PQerrorMessage(pg));
		PQclear(r);
		for (long i = w->from; i < w->to; i++) {
			char id[BROOK_UUID_STRLEN + 1];
			uuid_text(&g_data[rand_r(&w->seed) % g_rows].id, id);
			const char *params[1] = {id};
			r = PQexecPrepared(pg, "rd", 1, params, NULL, NULL, 0);
			if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
				die("PostgreSQL read: %s", PQerrorMessage(pg));
			PQclear(r);
		}
		PQfinish(pg);
		return NULL;
	}
	/* One multi-row INSERT of g_batch rows per statement, with parameters. */
	size_t cap = (size_t)g_batch * NCOLS * 8 + 512;
	char *q = malloc(cap);
	const char **params = malloc((size_t)g_batch * NCOLS * sizeof *params);
	char (*ids)[BROOK_UUID_STRLEN + 1] = malloc((size_t)g_batch * sizeof *ids);
	for (long i = w->from; i < w->to;) {
		int k = 0;
		size_t n = (size_t)snprintf(q, cap, "INSERT INTO %s VALUES ", g_pg_table);
		for (; k < g_batch && i < w->to; k++, i++) {
			uuid_text(&g_data[i].id, ids[k]);
			params[k * NCOLS] = ids[k];
			for (int j = 1; j < NCOLS; j++)
				params[k * NCOLS + j] = g_data[i].text[j - 1];
			n += (size_t)snprintf(q + n, cap - n, "%s(", k ? "," : "");
			for (int j = 0; j < NCOLS; j++)
				n += (size_t)snprintf(q + n, cap - n, "%s$%d", j ? "," : "",
						      k * NCOLS + j + 1);
			n += (size_t)snprintf(q + n, cap - n, ")");
		}
		PGresult *r = PQexecParams(pg, q, k * NCOLS, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			die("PostgreSQL insert: %s", PQerrorMessage(pg));
		PQclear(r);
	}
	free(ids);
	free(params);
	free(q);
	PQfinish(pg);
	return NULL;
}

static double pg_parallel(bool read, long total)
{
	pg_worker *ws = calloc((size_t)g_inflight, sizeof *ws);
	double t0 = now_s();
	for (int i = 0; i < g_inflight; i++) {
		ws[i].from = total * i / g_inflight;
		ws[i].to = total * (i + 1) / g_inflight;
		ws[i].read = read;
		ws[i].seed = (unsigned)i + 1;
		pthread_create(&ws[i].t, NULL, pg_worker_main, &ws[i]);
	}
	for (int i = 0; i < g_inflight; i++)
		pthread_join(ws[i].t, NULL);
	double secs = now_s() - t0;
	free(ws);
	return (double)total / secs;
}

static double pg_copy(void)
{
	PGconn *pg = pg_connect();
	char q[256];
	snprintf(q, sizeof q, "TRUNCATE %s", g_pg_table);
	pg_exec(pg, q);
	double t0 = now_s();
	snprintf(q, sizeof q, "COPY %s FROM STDIN", g_pg_table);
	PGresult *r = PQexec(pg, q);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		die("PostgreSQL COPY: %s", PQerrorMessage(pg));
	PQclear(r);
	char line[1024];
	for (long i = 0; i < g_rows; i++) {
		char id[BROOK_UUID_STRLEN + 1];
		uuid_text(&g_data[i].id, id);
		int n = snprintf(line, sizeof line, "%s", id);
		for (int j = 0; j < NCOLS - 1; j++)
			n += snprintf(line + n, sizeof line - (size_t)n, "\t%s", g_data[i].text[j]);
		line[n++] = '\n';
		if (PQputCopyData(pg, line, n) != 1)
			die("PostgreSQL COPY: %s", PQerrorMessage(pg));
	}
	if (PQputCopyEnd(pg, NULL) != 1)
		die("PostgreSQL COPY: %s", PQerrorMessage(pg));
	r = PQgetResult(pg);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("PostgreSQL COPY: %s", PQerrorMessage(pg));
	PQclear(r);
	double secs = now_s() - t0;
	PQfinish(pg);
	return (double)g_rows / secs;
}

static void print_rss(const char *pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0 || strncmp(line, "VmRSS:", 6) == 0) {
			long kb = atol(line + 6);
			printf("store %s %.1f MB\n", strncmp(line, "VmHWM", 5) == 0 ? "peak_rss" : "rss",
			       (double)kb / 1024);
		}
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *cql = NULL, *store_pid = NULL;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("usage: bench_store --cql HOST:PORT [--pg DSN] [--rows N] [--batch B] "
			       "[--inflight F] [--reads R] [--store-pid PID]\n");
			return 0;
		}
		if (!v)
			die("%s needs a value (see --help)", a);
		if (strcmp(a, "--cql") == 0)
			cql = v;
		else if (strcmp(a, "--pg") == 0)
			g_dsn = v;
		else if (strcmp(a, "--rows") == 0)
			g_rows = atol(v);
		else if (strcmp(a, "--batch") == 0)
			g_batch = atoi(v);
		else if (strcmp(a, "--inflight") == 0)
			g_inflight = atoi(v);
		else if (strcmp(a, "--reads") == 0)
			g_reads = atol(v);
		else if (strcmp(a, "--store-pid") == 0)
			store_pid = v;
		else
			die("unknown option %s (see --help)", a);
	}
	if (!cql || g_rows < 1 || g_batch < 1 || g_inflight < 1)
		die("--cql HOST:PORT is required (see --help)");
	make_rows();
	printf("rows %ld, batch %d, in flight %d, reads %ld\n", g_rows, g_batch, g_inflight, g_reads);

	cql_client_opts o;
	cql_client_opts_default(&o);
	o.contact_points = &cql;
	o.n_contact_points = 1;
	o.request_timeout_ms = 60000;
	cql_client_error err;
	cql_client *c = cql_client_new(&o, &err);
	if (!c)
		die("cannot connect to %s: %s", cql, err.msg);
	char table[64];
	snprintf(table, sizeof table, "bench.users_%d", (int)getpid());
	cql_check(cql_client_query(c, "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
				   "{'class': 'SimpleStrategy', 'replication_factor': '1'}",
				   NULL, &err), &err, "create keyspace");
	char ddl[1024];
	snprintf(ddl, sizeof ddl, "CREATE TABLE %s (id uuid PRIMARY KEY, first_name text, "
		 "last_name text, gender text, address text, post_code text, email text, "
		 "username text, dob text, registered_date text, phone text, picture text)", table);
	cql_check(cql_client_query(c, ddl, NULL, &err), &err, "create table");
	double s_ins = store_insert(c, table);
	printf("store insert %.0f rows/s (durable, unlogged batches of %d, %d in flight)\n", s_ins,
	       g_batch, g_inflight);
	fflush(stdout);
	double s_rd = store_read(c, table);
	printf("store read %.0f reads/s (prepared, by primary key, %d in flight)\n", s_rd,
	       g_inflight);
	fflush(stdout);
	double s_scan = store_scan(c, table);
	printf("store scan %.0f rows/s (SELECT *, pages of 5000)\n", s_scan);
	if (store_pid)
		print_rss(store_pid);
	fflush(stdout);
	cql_client_free(c);

	if (!g_dsn) {
		printf("pg skipped (no --pg DSN)\n");
		return 0;
	}
	snprintf(g_pg_table, sizeof g_pg_table, "users_%d", (int)getpid());
	PGconn *pg = pg_connect();
	snprintf(ddl, sizeof ddl, "CREATE TABLE %s (id uuid PRIMARY KEY, first_name text, "
		 "last_name text, gender text, address text, post_code text, email text, "
		 "username text, dob text, registered_date text, phone text, picture text)",
		 g_pg_table);
	pg_exec(pg, ddl);
	double p_ins = pg_parallel(false, g_rows);
	printf("pg insert %.0f rows/s (multi-row INSERT of %d, autocommit, %d connections)\n", p_ins,
	       g_batch, g_inflight);
	fflush(stdout);
	double p_rd = pg_parallel(true, g_reads);
	printf("pg read %.0f reads/s (prepared, by primary key, %d connections)\n", p_rd,
	       g_inflight);
	fflush(stdout);
	double p_copy = pg_copy();
	printf("pg copy %.0f rows/s (COPY FROM STDIN, one transaction)\n", p_copy);
	printf("ratio insert %.2f (store / pg batched INSERT)\n", s_ins / p_ins);
	printf("ratio insert_vs_copy %.2f (store / pg COPY)\n", s_ins / p_copy);
	printf("ratio read %.2f (store / pg)\n", s_rd / p_rd);
	char drop[128];
	snprintf(drop, sizeof drop, "DROP TABLE %s", g_pg_table);
	pg_exec(pg, drop);
	PQfinish(pg);
	free(g_data);
	return 0;
}
