/*
 * stage_feed — bench_pipeline.py's stager: stages users into staging.raw_users the way
 * the scheduler's randomuser_to_postgres operator does, with pg_stage_batch() (one
 * transaction per batch: the staging.batches mark, then a binary COPY), so the pipeline
 * bench measures the pipeline's own insert path.
 *
 *   stage_feed --pg DSN --template FILE --first N --count N [--txn T] [--sessions S]
 *              [--rate R]
 *
 * The payloads are FILE's JSON object (one randomuser result) with login.uuid set to the
 * UUID whose integer is the user's number (first .. first+count-1), serialized as Python's
 * json.dumps does (", " and ": ", ASCII only, keys in order). They are all built before
 * anything is staged; then it prints "prepared N" and waits for a line on stdin, so
 * the caller starts its clock when staging starts. Batches of T users (default 1,000)
 * go round-robin to S sessions (default 4), each its own connection; with --rate R the
 * batch k starts no earlier than k*T/R seconds after the start (one session keeps that
 * pace exactly). At the end it prints "staged N users in S s".
 * run_id is "bench/<first>", batch_no the batch's index from 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "pg/migrate.h"

#include "common.h"

static const char usage[] =
	"usage: stage_feed --pg DSN --template FILE --first N --count N [--txn T (1000)]\n"
	"                  [--sessions S (4)] [--rate USERS_PER_S (0: as fast as it can)]\n"
	"Stages users into staging.raw_users with the scheduler's pg_stage_batch(); see the\n"
	"comment at the top of bench/stage_feed.c.\n";

typedef struct feed {
	const char *dsn;
	char run_id[64];
	char **payloads;
	long count, txn;
	int sessions;
	double rate;
	int64_t t0_ns;
} feed;

typedef struct session {
	feed *f;
	int index;
	pthread_t thread;
} session;

static void sleep_until_ns(int64_t at)
{
	int64_t d = at - brook_mono_ns();
	if (d <= 0)
		return;
	struct timespec ts = {.tv_sec = d / 1000000000, .tv_nsec = d % 1000000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *run_session(void *arg)
{
	session *s = arg;
	feed *f = s->f;
	PGconn *c = PQconnectdb(f->dsn);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect: %s", PQerrorMessage(c));
	long batches = (f->count + f->txn - 1) / f->txn;
	for (long k = s->index; k < batches; k += f->sessions) {
		if (f->rate > 0)
			sleep_until_ns(f->t0_ns + (int64_t)(1e9 * (double)(k * f->txn) / f->rate));
		long first = k * f->txn;
		long n = f->count - first < f->txn ? f->count - first : f->txn;
		char err[1024];
		int staged;
		if (pg_stage_batch(c, f->run_id, (int)k, "http://bench/", 0,
				   (const char *const *)f->payloads + first, (size_t)n, &staged,
				   err, sizeof err) != BROOK_OK)
			die("%s", err);
		if (staged != n)
			die("batch %ld of %s was staged before (run the bench on a fresh data dir)",
			    k, f->run_id);
	}
	PQfinish(c);
	return NULL;
}

/* The template with login.uuid = UUID(int=i), as Python's json.dumps writes it. */
static char *payload(json_t *tpl, json_t *login, long i)
{
	char u[40];
	snprintf(u, sizeof u, "00000000-0000-0000-0000-%012lx", (unsigned long)i);
	json_object_set_new(login, "uuid", json_string(u));
	char *s = json_dumps(tpl, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!s)
		die("cannot serialize the template");
	return s;
}

static long arg_long(const char *name, const char *v, long min)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || *end || x < min)
		die("%s: expected an integer of at least %ld, got \"%s\"", name, min, v);
	return x;
}

int main(int argc, char **argv)
{
	feed f = {.txn = 1000, .sessions = 4};
	const char *tpl_path = NULL;
	long first = -1;
	f.count = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (!v)
			die("%s needs a value\n%s", a, usage);
		i++;
		if (strcmp(a, "--pg") == 0)
			f.dsn = v;
		else if (strcmp(a, "--template") == 0)
			tpl_path = v;
		else if (strcmp(a, "--first") == 0)
			first = arg_long(a, v, 0);
		else if (strcmp(a, "--count") == 0)
			f.count = arg_long(a, v, 1);
		else if (strcmp(a, "--txn") == 0)
			f.txn = arg_long(a, v, 1);
		else if (strcmp(a, "--sessions") == 0)
			f.sessions = (int)arg_long(a, v, 1);
		else if (strcmp(a, "--rate") == 0)
			f.rate = (double)arg_long(a, v, 0);
		else
			die("unknown option %s\n%s", a, usage);
	}
	if (!f.dsn || !tpl_path || first < 0 || f.count < 1)
		die("--pg, --template, --first and --count are required\n%s", usage);

	json_error_t jerr;
	json_t *tpl = json_load_file(tpl_path, 0, &jerr);
	json_t *login = tpl ? json_object_get(tpl, "login") : NULL;
	if (!json_is_object(login))
		die("%s: not a randomuser result with a login object (%s)", tpl_path,
		    tpl ? "no login" : jerr.text);
	f.payloads = calloc((size_t)f.count, sizeof *f.payloads);
	if (!f.payloads)
		die("out of memory");
	for (long i = 0; i < f.count; i++)
		f.payloads[i] = payload(tpl, login, first + i);
	snprintf(f.run_id, sizeof f.run_id, "bench/%ld", first);

	printf("prepared %ld\n", f.count);
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		die("stdin closed before the start");

	long batches = (f.count + f.txn - 1) / f.txn;
	if (f.sessions > batches)
		f.sessions = (int)batches;
	session *ss = calloc((size_t)f.sessions, sizeof *ss);
	if (!ss)
		die("out of memory");
	f.t0_ns = brook_mono_ns();
	for (int k = 0; k < f.sessions; k++) {
		ss[k] = (session){.f = &f, .index = k};
		if (pthread_create(&ss[k].thread, NULL, run_session, &ss[k]) != 0)
			die("cannot start a session thread");
	}
	for (int k = 0; k < f.sessions; k++)
		pthread_join(ss[k].thread, NULL);
	printf("staged %ld users in %.3f s\n", f.count,
	       (double)(brook_mono_ns() - f.t0_ns) / 1e9);
	for (long i = 0; i < f.count; i++)
		free(f.payloads[i]);
	free(f.payloads);
	free(ss);
	json_decref(tpl);
	return 0;
}
