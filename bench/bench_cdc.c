/*
 * bench_cdc — PostgreSQL change data capture into the broker, beside pg_recvlogical.
 *
 *   bench_cdc --bootstrap HOST:PORT [--pg DSN] [--rows N (200000)] [--txn T (1000)]
 *             [--rate R (5000)] [--seconds S (10)]
 *
 * One table bench_cdc_<pid> (id bigint primary key, five short text columns and t_us, the
 * inserting statement's clock_timestamp() in Unix µs), written by a separate connection
 * (a writer thread) only AFTER the slot exists. Figures:
 *   cdc throughput   the CDC path in-process: src/pg/cdc.h (pgoutput, pg_cdc_open/poll/
 *                    ack) + a librdkafka producer (enable.idempotence, acks=all,
 *                    linger.ms 5, as the connector's) to topic bench_cdc_<pid>. Each
 *                    insert becomes one record: key = the id's text, value = a compact
 *                    JSON object of the row, every column by name with its pgoutput text
 *                    value as a JSON string (null as null), encoded with jansson. The
 *                    slot is acknowledged per transaction once all its records are
 *                    delivered. N rows inserted in transactions of T rows; changes/s from
 *                    the writer's first COMMIT to the last broker acknowledgement.
 *   pg_recvlogical   the baseline: pg_recvlogical (from pg_find_bindir) on a
 *                    test_decoding slot, --start -F 0 -f - into a pipe; the same N rows
 *                    written the same way once pg_recvlogical is streaming (its start-up
 *                    is not counted); changes/s from the first COMMIT to the line
 *                    of the N-th change ("table ..."). Then it is stopped (SIGTERM).
 *   backlog          both again, each on a new slot, with the N rows committed BEFORE the
 *                    reader starts (no writer competing for the CPU: decoding + delivery
 *                    alone); changes/s from the reader's start (pg_cdc_open / the fork of
 *                    pg_recvlogical, connection set-up included) to the N-th ack / line.
 *   latency          the CDC path again (new slot), while the writer inserts R rows/s
 *                    for S seconds, paced on a schedule: each statement inserts the rows
 *                    that are due (one row per autocommitted transaction when commits
 *                    keep up, a few when they fall behind). Latency of each row = the
 *                    wall time of its broker acknowledgement − its t_us (taken just
 *                    before its commit, so the commit itself counts); p50/p99/max.
 * Prints "<figure> <value> <unit>" lines and the ratios cdc / pg_recvlogical (targets:
 * >= 50,000 changes/s, >= 0.5, p99 <= 100 ms at 5,000 changes/s). Without --pg it prints
 * a skip line and exits 0. Slots, the publication and the table are dropped at the end
 * (the topic stays: the broker's data is temporary under scripts/bench.sh).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "core/err.h"
#include "core/mem.h"
#include "pg/cdc.h"
#include "pg/cluster.h"

#include "common.h"

/* Wall clock in Unix µs (latencies compare with PostgreSQL's clock_timestamp()). */
static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

static PGconn *connect_pg(const char *dsn)
{
	PGconn *c = PQconnectdb(dsn);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect to PostgreSQL: %s", PQerrorMessage(c));
	exec_ok(c, "SET client_min_messages = warning");
	return c;
}

/* ---- the writer thread ------------------------------------------------------------- */

static const char *g_dsn;
static char g_table[64];

typedef struct writer {
	pthread_t th;
	long first_id;	   /* ids first_id .. first_id + rows - 1 */
	long rows;
	int txn;	   /* throughput mode: rows per transaction */
	double rate;	   /* latency mode (> 0): rows per second ... */
	double seconds;	   /* ... for this long */
	int64_t first_commit_us; /* out: wall time when the first COMMIT returned */
	int64_t last_commit_us;
	long statements;   /* out */
	long written;	   /* out: rows written (latency mode: how many were due) */
} writer;

#define INSERT_SQL                                                                          \
	"INSERT INTO %s (id, first_name, last_name, email, city, country, t_us) "         \
	"SELECT g, 'first' || g, 'last' || g, 'user' || g || '@example.com', "            \
	"'city' || (g %% 100), 'country' || (g %% 10), "                                  \
	"(extract(epoch FROM clock_timestamp()) * 1000000)::bigint "                      \
	"FROM generate_series($1::bigint, $2::bigint) g"

static void writer_insert(PGconn *c, const char *sql, long from, long to)
{
	char a[32], b[32];
	snprintf(a, sizeof a, "%ld", from);
	snprintf(b, sizeof b, "%ld", to);
	const char *p[2] = {a, b};
	PGresult *r = PQexecParams(c, sql, 2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("insert: %s", PQresultErrorMessage(r));
	PQclear(r);
}

static void *writer_main(void *arg)
{
	writer *w = arg;
	PGconn *c = connect_pg(g_dsn);
	char sql[512];
	snprintf(sql, sizeof sql, INSERT_SQL, g_table);
	if (w->rate <= 0) {
		for (long done = 0; done < w->rows; w->statements++) {
			long n = w->rows - done < w->txn ? w->rows - done : w->txn;
			/* One statement, autocommitted: one transaction of n rows. */
			writer_insert(c, sql, w->first_id + done, w->first_id + done + n - 1);
			done += n;
			w->last_commit_us = wall_us();
			if (done == n)
				w->first_commit_us = w->last_commit_us;
		}
		w->written = w->rows;
	} else {
		int64_t t0 = wall_us();
		long total = (long)(w->rate * w->seconds);
		while (w->written < total) {
			double el = (double)(wall_us() - t0) / 1e6;
			long due = (long)(el * w->rate) + 1 - w->written;
			if (due > total - w->written)
				due = total - w->written;
			if (due <= 0) {
				struct timespec ts = {0, 100000};
				nanosleep(&ts, NULL);
				continue;
			}
			writer_insert(c, sql, w->first_id + w->written,
				      w->first_id + w->written + due - 1);
			w->written += due;
			w->statements++;
			w->last_commit_us = wall_us();
			if (w->first_commit_us == 0)
				w->first_commit_us = w->last_commit_us;
		}
	}
	PQfinish(c);
	return NULL;
}

static void writer_start(writer *w)
{
	if (pthread_create(&w->th, NULL, writer_main, w) != 0)
		die("cannot start the writer thread");
}

/* ---- the CDC path: pg_cdc + librdkafka --------------------------------------------- */

#define RING 65536 /* transactions produced but not yet fully acknowledged */

typedef struct cdc_run {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	pg_cdc *cdc;
	long produced, delivered, failed;
	long target;	     /* stop once this many records are delivered */
	int64_t last_ack_us;
	/* Commits awaiting acknowledgement: (end_lsn, records produced up to it). */
	uint64_t ring_lsn[RING];
	long ring_count[RING];
	size_t ring_head, ring_tail;
	/* Latency mode: one sample per record (µs), indexed by delivery order. */
	int64_t *lat;
	long nlat;
} cdc_run;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	cdc_run *r = opaque;
	if (m->err) {
		r->failed++;
		fprintf(stderr, "bench_cdc: delivery failed: %s\n", rd_kafka_err2str(m->err));
		return;
	}
	int64_t now = wall_us();
	r->delivered++;
	r->last_ack_us = now;
	if (r->lat && r->nlat < r->target)
		r->lat[r->nlat++] = now - (int64_t)(intptr_t)m->_private;
}

/* Acknowledge every commit whose records are all delivered (one partition: in order). */
static void ack_delivered(cdc_run *r)
{
	uint64_t lsn = 0;
	while (r->ring_tail != r->ring_head && r->ring_count[r->ring_tail % RING] <= r->delivered) {
		lsn = r->ring_lsn[r->ring_tail % RING];
		r->ring_tail++;
	}
	if (lsn)
		pg_cdc_ack(r->cdc, lsn);
}

static int cb_change(void *ud, const pg_cdc_change *ch)
{
	cdc_run *r = ud;
	if (ch->op != 'c' || !ch->after)
		return BROOK_OK;
	const pgo_relation *rel = ch->rel;
	json_t *o = json_object();
	const char *key = NULL;
	size_t keylen = 0;
	int64_t t_us = 0;
	for (uint16_t i = 0; i < rel->ncols && i < ch->after->ncols; i++) {
		const pgo_value *v = &ch->after->cols[i];
		if (v->kind != PGO_VALUE_TEXT) {
			json_object_set_new(o, rel->cols[i].name, json_null());
			continue;
		}
		json_object_set_new(o, rel->cols[i].name,
				    json_stringn((const char *)v->data, v->len));
		if (rel->cols[i].flags & PGO_COLUMN_KEY) {
			key = (const char *)v->data;
			keylen = v->len;
		}
		if (strcmp(rel->cols[i].name, "t_us") == 0) {
			char num[32];
			size_t n = v->len < sizeof num - 1 ? v->len : sizeof num - 1;
			memcpy(num, v->data, n);
			num[n] = '\0';
			t_us = strtoll(num, NULL, 10);
		}
	}
	char buf[1024];
	size_t len = json_dumpb(o, buf, sizeof buf, JSON_COMPACT);
	json_decref(o);
	if (len == 0 || len > sizeof buf)
		die("a row's JSON does not fit %zu bytes", sizeof buf);
	for (;;) {
		if (rd_kafka_produce(r->rkt, 0, RD_KAFKA_MSG_F_COPY, buf, len, key, keylen,
				     (void *)(intptr_t)t_us) == 0)
			break;
		if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			die("produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
		rd_kafka_poll(r->rk, 10);
		ack_delivered(r);
	}
	r->produced++;
	return BROOK_OK;
}

static int cb_commit(void *ud, uint64_t end_lsn, int64_t commit_time_ms)
{
	(void)commit_time_ms;
	cdc_run *r = ud;
	if (r->ring_head - r->ring_tail == RING) {
		/* Full: wait for deliveries (never happens at these sizes). */
		while (r->ring_head - r->ring_tail == RING) {
			rd_kafka_poll(r->rk, 10);
			ack_delivered(r);
		}
	}
	r->ring_lsn[r->ring_head % RING] = end_lsn;
	r->ring_count[r->ring_head % RING] = r->produced;
	r->ring_head++;
	return BROOK_OK;
}

static const char *g_bootstrap;
static char g_topic[64], g_pub[64];

static void cdc_setup(cdc_run *r, const char *slot)
{
	char e[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *kv[][2] = {
		{"bootstrap.servers", g_bootstrap},
		{"client.id", "bench_cdc"},
		{"enable.idempotence", "true"},
		{"acks", "all"},
		{"linger.ms", "5"},
	};
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], e, sizeof e) != RD_KAFKA_CONF_OK)
			die("producer setting %s: %s", kv[i][0], e);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, r);
	r->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	if (!r->rk)
		die("producer: %s", e);
	r->rkt = rd_kafka_topic_new(r->rk, g_topic, NULL);

	const char *tables[1] = {g_table};
	pg_cdc_opts o;
	memset(&o, 0, sizeof o);
	o.conninfo = g_dsn;
	o.slot = slot;
	o.publication = g_pub;
	o.tables = tables;
	o.ntables = 1;
	o.snapshot = PG_CDC_SNAPSHOT_NEVER;
	o.cb.ud = r;
	o.cb.change = cb_change;
	o.cb.commit = cb_commit;
	r->cdc = pg_cdc_open(&o, e, sizeof e);
	if (!r->cdc)
		die("CDC open: %s", e);
}

/* Stream until target records are delivered (or a minute without progress). */
static void cdc_stream(cdc_run *r)
{
	char e[512];
	int64_t last_progress = wall_us();
	long last_delivered = -1;
	while (r->delivered < r->target) {
		if (pg_cdc_poll(r->cdc, 1, e, sizeof e) != BROOK_OK)
			die("CDC poll: %s", e);
		rd_kafka_poll(r->rk, 0);
		ack_delivered(r);
		if (r->failed)
			die("%ld deliveries failed", r->failed);
		if (r->delivered != last_delivered) {
			last_delivered = r->delivered;
			last_progress = wall_us();
		} else if (wall_us() - last_progress > 60 * 1000000LL) {
			die("no progress for 60 s (%ld of %ld delivered)", r->delivered,
			    r->target);
		}
	}
	ack_delivered(r);
	if (pg_cdc_send_status(r->cdc, e, sizeof e) != BROOK_OK)
		die("status update: %s", e);
}

static void cdc_teardown(cdc_run *r, const char *slot)
{
	char e[512];
	rd_kafka_flush(r->rk, 10000);
	pg_cdc_close(r->cdc);
	rd_kafka_topic_destroy(r->rkt);
	rd_kafka_destroy(r->rk);
	if (pg_cdc_drop_slot(g_dsn, slot, e, sizeof e) != BROOK_OK)
		fprintf(stderr, "bench_cdc: dropping slot %s: %s\n", slot, e);
}

/* ---- the baseline: pg_recvlogical -------------------------------------------------- */

typedef struct recv_run {
	pid_t pid;
	int fd;
	long changes;
	int64_t last_change_us;
} recv_run;

static void recv_start(recv_run *rr, const char *slot)
{
	char *bindir = pg_find_bindir();
	if (!bindir)
		die("no PostgreSQL bin directory found");
	char prog[512];
	snprintf(prog, sizeof prog, "%s/pg_recvlogical", bindir);
	free(bindir);
	int p[2];
	if (pipe(p) != 0)
		die("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(prog, "pg_recvlogical", "-d", g_dsn, "--slot", slot, "--start", "-F", "0",
		      "-f", "-", (char *)NULL);
		fprintf(stderr, "bench_cdc: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	rr->pid = pid;
	rr->fd = p[0];
}

/* Count lines that start with "table " until target of them have been read. */
static void recv_count(recv_run *rr, long target)
{
	static char buf[1 << 16];
	bool at_start = true;
	int matched = 0; /* chars of "table " matched at the start of the current line */
	static const char pfx[] = "table ";
	while (rr->changes < target) {
		ssize_t n = read(rr->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("pg_recvlogical ended after %ld of %ld changes", rr->changes, target);
		for (ssize_t i = 0; i < n; i++) {
			char ch = buf[i];
			if (ch == '\n') {
				at_start = true;
				matched = 0;
				continue;
			}
			if (!at_start)
				continue;
			if (ch == pfx[matched]) {
				if (++matched == (int)sizeof pfx - 1) {
					rr->changes++;
					at_start = false;
				}
			} else {
				at_start = false;
			}
		}
		rr->last_change_us = wall_us();
	}
}

/* Wait until the slot's walsender is streaming (pg_recvlogical connected and started), so
 * its start-up is not counted. */
static void wait_slot_active(PGconn *c, const char *slot)
{
	const char *p[1] = {slot};
	for (int i = 0; i < 200; i++) {
		PGresult *r = PQexecParams(c,
					   "SELECT 1 FROM pg_stat_replication s JOIN "
					   "pg_replication_slots r ON r.active_pid = s.pid "
					   "WHERE r.slot_name = $1 AND s.state = 'streaming'",
					   1, NULL, p, NULL, NULL, 0);
		bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		PQclear(r);
		if (ok)
			return;
		usleep(25000);
	}
	die("slot %s did not start streaming within 5 s", slot);
}

static void drop_td_slot(PGconn *c, const char *slot)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT pg_drop_replication_slot('%s')", slot);
	for (int i = 0; i < 50; i++) { /* the walsender may take a moment to go */
		PGresult *pr = PQexec(c, sql);
		bool ok = PQresultStatus(pr) == PGRES_TUPLES_OK;
		PQclear(pr);
		if (ok)
			return;
		usleep(100000);
	}
	fprintf(stderr, "bench_cdc: could not drop slot %s\n", slot);
}

static void recv_stop(recv_run *rr)
{
	kill(rr->pid, SIGTERM);
	int st;
	waitpid(rr->pid, &st, 0);
	close(rr->fd);
}

/* ---- main ---------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dsn = NULL;
	long rows = 200000;
	int txn = 1000;
	double rate = 5000, seconds = 10;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
			dsn = argv[++i];
		else if (strcmp(argv[i], "--bootstrap") == 0 && i + 1 < argc)
			g_bootstrap = argv[++i];
		else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
			rows = atol(argv[++i]);
		else if (strcmp(argv[i], "--txn") == 0 && i + 1 < argc)
			txn = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else
			die("usage: bench_cdc --bootstrap HOST:PORT [--pg DSN] [--rows N] "
			    "[--txn T] [--rate R] [--seconds S]");
	}
	if (!dsn || !*dsn) {
		printf("cdc skipped (no --pg DSN)\n");
		return 0;
	}
	if (!g_bootstrap)
		die("--bootstrap HOST:PORT is required");
	if (rows < 1 || txn < 1 || rate <= 0 || seconds <= 0)
		die("--rows, --txn, --rate and --seconds must be positive");
	g_dsn = dsn;
	int pid = (int)getpid();
	snprintf(g_table, sizeof g_table, "bench_cdc_%d", pid);
	snprintf(g_topic, sizeof g_topic, "bench_cdc_%d", pid);
	snprintf(g_pub, sizeof g_pub, "bench_cdc_%d", pid);
	char slot_cdc[64], slot_lat[64], slot_td[64], slot_cdc2[64], slot_td2[64], sql[512];
	snprintf(slot_cdc, sizeof slot_cdc, "bench_cdc_%d_tput", pid);
	snprintf(slot_lat, sizeof slot_lat, "bench_cdc_%d_lat", pid);
	snprintf(slot_td, sizeof slot_td, "bench_cdc_%d_td", pid);
	snprintf(slot_cdc2, sizeof slot_cdc2, "bench_cdc_%d_backlog", pid);
	snprintf(slot_td2, sizeof slot_td2, "bench_cdc_%d_td_backlog", pid);

	PGconn *c = connect_pg(dsn);
	snprintf(sql, sizeof sql,
		 "CREATE TABLE %s (id bigint PRIMARY KEY, first_name text, last_name text, "
		 "email text, city text, country text, t_us bigint)",
		 g_table);
	exec_ok(c, sql);

	/* 1. The CDC path, throughput. */
	cdc_run *r = brook_calloc(1, sizeof *r);
	r->target = rows;
	cdc_setup(r, slot_cdc);
	writer w = {.first_id = 1, .rows = rows, .txn = txn};
	writer_start(&w);
	cdc_stream(r);
	pthread_join(w.th, NULL);
	double cdc_s = (double)(r->last_ack_us - w.first_commit_us) / 1e6;
	double cdc_rate = (double)rows / cdc_s;
	double write_s = (double)(w.last_commit_us - w.first_commit_us) / 1e6;
	cdc_teardown(r, slot_cdc);
	free(r);

	/* 2. The baseline: pg_recvlogical with test_decoding over the same N changes. */
	snprintf(sql, sizeof sql,
		 "SELECT pg_create_logical_replication_slot('%s', 'test_decoding')", slot_td);
	exec_ok(c, sql);
	recv_run rr = {0};
	recv_start(&rr, slot_td);
	wait_slot_active(c, slot_td);
	writer w2 = {.first_id = rows + 1, .rows = rows, .txn = txn};
	writer_start(&w2);
	recv_count(&rr, rows);
	pthread_join(w2.th, NULL);
	recv_stop(&rr);
	double td_s = (double)(rr.last_change_us - w2.first_commit_us) / 1e6;
	double td_rate = (double)rows / td_s;
	double write2_s = (double)(w2.last_commit_us - w2.first_commit_us) / 1e6;
	drop_td_slot(c, slot_td);

	/* 3. Backlog (catch-up): the same N rows committed while nobody reads the slot, then
	 * the reader starts; from its start to the N-th change. No writer competes for the
	 * CPU, so this isolates decoding + delivery. The publication exists already (phase
	 * 1), so the pgoutput slot created here sees it. */
	snprintf(sql, sizeof sql,
		 "SELECT pg_create_logical_replication_slot('%s', 'pgoutput')", slot_cdc2);
	exec_ok(c, sql);
	writer w4 = {.first_id = 2 * rows + 1, .rows = rows, .txn = txn};
	writer_main(&w4);
	r = brook_calloc(1, sizeof *r);
	r->target = rows;
	int64_t t0 = wall_us();
	cdc_setup(r, slot_cdc2);
	cdc_stream(r);
	double cdc_bl_s = (double)(r->last_ack_us - t0) / 1e6;
	cdc_teardown(r, slot_cdc2);
	free(r);

	snprintf(sql, sizeof sql,
		 "SELECT pg_create_logical_replication_slot('%s', 'test_decoding')", slot_td2);
	exec_ok(c, sql);
	writer w5 = {.first_id = 3 * rows + 1, .rows = rows, .txn = txn};
	writer_main(&w5);
	memset(&rr, 0, sizeof rr);
	t0 = wall_us();
	recv_start(&rr, slot_td2);
	recv_count(&rr, rows);
	recv_stop(&rr);
	double td_bl_s = (double)(rr.last_change_us - t0) / 1e6;
	drop_td_slot(c, slot_td2);

	/* 4. The CDC path, latency at a fixed rate. */
	long lat_rows = (long)(rate * seconds);
	r = brook_calloc(1, sizeof *r);
	r->target = lat_rows;
	r->lat = brook_malloc((size_t)lat_rows * sizeof *r->lat);
	cdc_setup(r, slot_lat);
	writer w3 = {.first_id = 4 * rows + 1, .rate = rate, .seconds = seconds};
	writer_start(&w3);
	cdc_stream(r);
	pthread_join(w3.th, NULL);
	qsort(r->lat, (size_t)r->nlat, sizeof *r->lat, cmp_i64);
	double p50 = (double)r->lat[r->nlat / 2] / 1000.0;
	double p99 = (double)r->lat[(r->nlat * 99) / 100] / 1000.0;
	double pmax = (double)r->lat[r->nlat - 1] / 1000.0;
	double lat_write_s = (double)(w3.last_commit_us - w3.first_commit_us) / 1e6;
	cdc_teardown(r, slot_lat);
	free(r->lat);
	free(r);

	printf("cdc throughput %.0f changes/s (pg_cdc pgoutput + librdkafka idempotent acks=all, "
	       "JSON rows; %ld inserts in transactions of %d, first commit to last broker "
	       "ack %.2f s; the writer committed them in %.2f s)\n",
	       cdc_rate, rows, txn, cdc_s, write_s);
	printf("pg_recvlogical throughput %.0f changes/s (baseline: test_decoding to a pipe, "
	       "the same %ld inserts; first commit to the last change line %.2f s; writer "
	       "%.2f s)\n",
	       td_rate, rows, td_s, write2_s);
	printf("ratio cdc_vs_pg_recvlogical %.2f (target >= 0.5; cdc target >= 50000 "
	       "changes/s)\n",
	       cdc_rate / td_rate);
	printf("cdc backlog %.0f changes/s (the same %ld changes committed before the reader "
	       "starts: reader start to last broker ack %.2f s)\n",
	       rows / cdc_bl_s, rows, cdc_bl_s);
	printf("pg_recvlogical backlog %.0f changes/s (baseline, likewise: process start to the "
	       "last change line %.2f s)\n",
	       rows / td_bl_s, td_bl_s);
	printf("ratio cdc_vs_pg_recvlogical_backlog %.2f\n", td_bl_s / cdc_bl_s);
	printf("cdc latency p50 %.2f ms p99 %.2f ms max %.2f ms (commit to broker ack, %.0f "
	       "rows/s for %.0f s: %ld rows in %ld transactions over %.2f s; target p99 <= "
	       "100 ms)\n",
	       p50, p99, pmax, rate, seconds, lat_rows, w3.statements, lat_write_s);

	snprintf(sql, sizeof sql, "DROP PUBLICATION IF EXISTS %s", g_pub);
	exec_ok(c, sql);
	snprintf(sql, sizeof sql, "DROP TABLE %s", g_table);
	exec_ok(c, sql);
	PQfinish(c);
	return 0;
}
