/*
 * op_randomuser.c — the randomuser_to_postgres operator: fetch users from a
 * randomuser.me-compatible API and stage them in staging.raw_users.
 *
 * Staging key: the staged run_id is "DAG_ID/RUN_ID/TASK_ID", so two DAGs' runs never
 * collide. Batch b is page b + 1 (results = batch_size) of one seed (the `seed`
 * parameter, or the first 16 hex digits of SHA-256("DAG_ID/RUN_ID/TASK_ID")), so a
 * retry refetches the same users, and pg_stage_batch() stages each (run_id, batch_no)
 * at most once. A short last batch (what is left of max_records) asks for a page of
 * that size when one starts at b * batch_size, else keeps the head of the full page:
 * batches never overlap.
 *
 * Resume: at start the operator reads what staging.batches already holds for the
 * staged run_id (count, next batch_no, rows) and continues at the next batch_no; the
 * rows already staged count toward max_records. A retried or recovered try therefore
 * never stages a batch twice and never refetches what it staged.
 *
 * Threads and flow (one try):
 *
 *   fetch threads  FETCH_THREADS of them, each with its own source_client. Under the
 *                  job's mutex a fetcher claims the next batch_no and its size
 *                  (batch_size, or what is left of max_records counting the users
 *                  staged before and those claimed — corrected down when a batch
 *                  brings rejected users, which reopens work), fetches it (the client
 *                  retries per source.*), and queues it (at most QUEUE_CAP waiting,
 *                  but room is always made for the batch the staging loop needs).
 *                  No claims after max_duration, cancel, a fetch error or `stop`.
 *   staging loop   (the operator's thread) takes the batches IN batch_no ORDER and
 *                  stages each with pg_stage_batch() in its own transaction; logs
 *                  progress every PROGRESS_MS; waits at most 100 ms at a time so
 *                  ctx->cancel is noticed.
 *
 * Invariant: the staged batches of a staging run are always a prefix 0..k, so the
 * resume point max(batch_no) + 1 never skips a batch. When a fetch fails, the batches
 * before it are still staged and those after it dropped; the try then fails with the
 * client's message and the next try resumes at the failed batch.
 *
 * Ending: when every fetcher has stopped and the next batch is not queued, the loop
 * ends and the try succeeds — unless a fetch failed (BROOK_ERR with the client's
 * message), staging failed (BROOK_ERR; `stop` tells the fetchers), or ctx->cancel was
 * set (BROOK_ERR "cancelled: ..."). Rejected (malformed) users are counted, logged
 * with a sample reason, and never staged.
 *
 * Cancel latency: the fetch threads notice cancel between requests; a request in
 * its retry backoff finishes its wait first (the client has no cancel hook).
 */
#include <assert.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "pg/migrate.h"
#include "scheduler/operator.h"
#include "source/client.h"

#define COMP "scheduler"
#define QUEUE_CAP 4     /* fetched batches waiting to be staged */
#define FETCH_THREADS 2 /* requests in flight */
#define PROGRESS_MS 5000
#define SHORT_PAGE_MAX 100000 /* the API's largest page number */

static const sched_param_spec params[] = {
	{"url", SCHED_PARAM_STR, NULL, "API base URL; unset: source.url", 0, 0, false},
	{"batch_size", SCHED_PARAM_INT, "100", "users per request and per staged batch", 1, 5000,
	 false},
	{"max_records", SCHED_PARAM_INT, "0", "stop after staging this many users; 0: no limit",
	 0, 0, false},
	{"max_duration", SCHED_PARAM_DURATION, "60s", "stop after this long; 0: no limit", 0, 0,
	 false},
	{"rate", SCHED_PARAM_DOUBLE, "0", "at most this many requests per second; 0: no limit",
	 0, 0, false},
	{"seed", SCHED_PARAM_STR, NULL,
	 "API seed; unset: derived from the run and task, so a retry refetches the same users",
	 0, 0, false},
	{NULL, 0, NULL, NULL, 0, 0, false},
};

typedef struct fetched {
	source_batch batch;
	int batch_no;
	int64_t fetched_at_ms;
	char *url;
} fetched;

typedef struct job {
	sched_task_ctx *ctx;
	source_client_opts opts; /* url/seed point into the job or cfg */
	int batch_size;
	int64_t max_records;     /* 0: none */
	int64_t end_mono_ms;     /* 0: none */
	int next_batch;          /* first batch_no to fetch */
	int64_t already_rows;    /* rows staged before this try */

	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* Under mu: */
	fetched queue[QUEUE_CAP + FETCH_THREADS]; /* unordered; at most one slot is
						   * taken beyond QUEUE_CAP per fetcher */
	size_t qlen;
	int claim;               /* next batch_no a fetcher claims */
	int want_no;             /* next batch_no the staging loop stages */
	int64_t planned;         /* users staged before + claimed (corrected on arrival) */
	int inflight;            /* claimed batches not yet queued */
	int running;             /* fetch threads still running */
	bool stop;               /* no more claims: error, cancel, or the loop asks */
	int fetch_rc;
	char fetch_err[512];
	int fail_batch;          /* the batch whose fetch failed; batches after it are
				  * dropped so staged batches stay a prefix */
	int64_t requests;
	bool duration_hit;
} job;

/* JSON parameter helpers (dag.c guarantees presence and type; be lenient anyway). */
static int64_t param_int(const json_t *p, const char *name)
{
	const json_t *v = json_object_get(p, name);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

static double param_double(const json_t *p, const char *name)
{
	const json_t *v = json_object_get(p, name);
	return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *param_str(const json_t *p, const char *name)
{
	const json_t *v = json_object_get(p, name);
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

/* The first 16 hex digits of SHA-256(key). */
static void derive_seed(const char *key, char out[17])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool expired(const job *j)
{
	return j->end_mono_ms > 0 && brook_mono_ms() >= j->end_mono_ms;
}

/* Claims the next batch under mu: its number and size into *b / *want. false: no
 * more work for this fetcher. A fetcher with nothing to claim while others are in
 * flight waits: a batch with rejected users lowers `planned` and reopens work. */
static bool claim(job *j, int *b, int64_t *want)
{
	for (;;) {
		if (j->stop || atomic_load(j->ctx->cancel))
			return false;
		if (expired(j)) {
			j->duration_hit = true;
			return false;
		}
		int64_t w = j->batch_size;
		if (j->max_records > 0 && j->max_records - j->planned < w)
			w = j->max_records - j->planned;
		if (w > 0) {
			*b = j->claim++;
			*want = w;
			j->planned += w;
			j->inflight++;
			return true;
		}
		if (j->inflight == 0)
			return false;
		pthread_cond_wait(&j->cond, &j->mu);
	}
}

static void *fetch_main(void *arg)
{
	pthread_setname_np(pthread_self(), "randomuser-get");
	job *j = arg;
	source_client *full = NULL, *last = NULL;
	int64_t last_results = 0;
	char err[512] = "";
	full = source_client_new(&j->opts, err, sizeof err);
	pthread_mutex_lock(&j->mu);
	if (!full) {
		j->stop = true;
		j->fetch_rc = BROOK_ERR;
		snprintf(j->fetch_err, sizeof j->fetch_err, "%s", err);
	}
	int b;
	int64_t want;
	while (full && claim(j, &b, &want)) {
		pthread_mutex_unlock(&j->mu);
		/* Batch b covers users [b * batch_size, (b + 1) * batch_size) of the seed.
		 * A short last batch asks only for `want` users when a page of that size
		 * starts exactly there; otherwise it takes the first `want` of the full
		 * page, so it never overlaps an earlier batch. */
		source_client *c = full;
		int page = b + 1;
		int64_t first = (int64_t)b * j->batch_size;
		int frc = BROOK_OK;
		if (want < j->batch_size && first % want == 0 &&
		    first / want + 1 <= SHORT_PAGE_MAX) {
			if (!last || last_results != want) {
				source_client_free(last);
				source_client_opts o = j->opts;
				o.results = (int)want;
				last = source_client_new(&o, err, sizeof err);
				last_results = want;
			}
			c = last;
			page = (int)(first / want) + 1;
		}
		fetched f;
		memset(&f, 0, sizeof f);
		f.batch_no = b;
		if (!c) {
			frc = BROOK_ERR;
		} else {
			source_client_set_page(c, page);
			brook_buf url = BROOK_BUF_INIT;
			source_client_url(c, &url);
			f.url = brook_buf_detach(&url, NULL);
			frc = source_client_fetch(c, &f.batch, err, sizeof err);
			f.fetched_at_ms = brook_now_ms();
		}
		pthread_mutex_lock(&j->mu);
		j->requests += frc == BROOK_OK ? f.batch.attempts : (c ? 1 : 0);
		j->inflight--;
		if (frc != BROOK_OK) {
			free(f.url);
			if (j->fetch_rc == BROOK_OK || b < j->fail_batch) {
				j->fetch_rc = BROOK_ERR;
				j->fail_batch = b;
				snprintf(j->fetch_err, sizeof j->fetch_err, "%s", err);
			}
			j->stop = true;
			pthread_cond_broadcast(&j->cond);
			break;
		}
		source_response *resp = &f.batch.resp;
		while ((int64_t)resp->nrecords > want)
			free(resp->records[--resp->nrecords]);
		j->planned -= want - (int64_t)resp->nrecords;
		/* Room for the batch the staging loop waits for is always made. */
		while (j->qlen >= QUEUE_CAP && b != j->want_no && !j->stop)
			pthread_cond_wait(&j->cond, &j->mu);
		assert(j->qlen < QUEUE_CAP + FETCH_THREADS);
		j->queue[j->qlen++] = f;
		pthread_cond_broadcast(&j->cond);
	}
	j->running--;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->mu);
	source_client_free(full);
	source_client_free(last);
	return NULL;
}

/* The batch the staging loop needs next into *out: 1; no more will come: 0; not
 * there within 100 ms: -1. */
static int pop(job *j, fetched *out)
{
	pthread_mutex_lock(&j->mu);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < j->qlen; i++) {
			if (j->queue[i].batch_no == j->want_no) {
				*out = j->queue[i];
				j->queue[i] = j->queue[--j->qlen];
				j->want_no++;
				pthread_cond_broadcast(&j->cond);
				pthread_mutex_unlock(&j->mu);
				return 1;
			}
		}
		/* Every fetcher gone and the batch not here: it failed, or was never
		 * claimed; nothing after it may be staged. */
		if (j->running == 0) {
			pthread_mutex_unlock(&j->mu);
			return 0;
		}
		if (round == 0) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&j->cond, &j->mu, &ts);
		}
	}
	pthread_mutex_unlock(&j->mu);
	return -1;
}

static void stop_fetchers(job *j, pthread_t *t, int n)
{
	pthread_mutex_lock(&j->mu);
	j->stop = true;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->mu);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (size_t i = 0; i < j->qlen; i++) {
		source_batch_release(&j->queue[i].batch);
		free(j->queue[i].url);
	}
	j->qlen = 0;
}

/* Reads what is staged for srun already. */
static int read_resume(PGconn *conn, const char *srun, int64_t *batches, int *next,
		       int64_t *rows, char *err, size_t errlen)
{
	const char *p[1] = {srun};
	PGresult *r = PQexecParams(conn,
				   "SELECT count(*), coalesce(max(batch_no) + 1, 0), "
				   "coalesce(sum(rows), 0) FROM staging.batches WHERE run_id = $1",
				   1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		snprintf(err, errlen, "cannot read the staged batches of %s: %s", srun,
			 PQerrorMessage(conn));
		PQclear(r);
		return BROOK_ERR;
	}
	*batches = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*next = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
	*rows = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return BROOK_OK;
}

static void log_progress(sched_task_ctx *ctx, int64_t staged, int64_t batches,
			 int64_t rejected, int64_t started_ms)
{
	int64_t ms = brook_mono_ms() - started_ms;
	double rate = ms > 0 ? (double)staged * 1000.0 / (double)ms : 0;
	sched_task_log(ctx, "staged %lld users in %lld batches, %.0f users/s, %lld rejected",
		       (long long)staged, (long long)batches, rate, (long long)rejected);
}

static int run(sched_task_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = ctx->params;
	job j;
	memset(&j, 0, sizeof j);
	j.ctx = ctx;
	j.batch_size = (int)param_int(p, "batch_size");
	j.max_records = param_int(p, "max_records");
	int64_t max_duration = param_int(p, "max_duration");
	if (j.batch_size < 1 || j.batch_size > SOURCE_MAX_RESULTS) {
		snprintf(err, errlen, "batch_size must be 1..%d", SOURCE_MAX_RESULTS);
		return BROOK_ERR;
	}
	if (j.max_records <= 0 && max_duration <= 0) {
		snprintf(err, errlen, "max_records and max_duration are both 0: the task would "
				      "never stop; set one of them");
		return BROOK_ERR;
	}
	int64_t started = brook_mono_ms();
	j.end_mono_ms = max_duration > 0 ? started + max_duration : 0;

	source_client_opts_default(&j.opts);
	if (ctx->cfg)
		source_client_opts_from_config(&j.opts, ctx->cfg);
	const char *url = param_str(p, "url");
	if (url)
		j.opts.url = url;
	j.opts.results = j.batch_size;
	double rate = param_double(p, "rate");
	if (rate > 0)
		j.opts.rate = rate;

	brook_buf srun = BROOK_BUF_INIT;
	brook_buf_printf(&srun, "%s/%s/%s", ctx->dag_id, ctx->run_id, ctx->task_id);
	char seed[17];
	const char *pseed = param_str(p, "seed");
	if (pseed) {
		j.opts.seed = pseed;
	} else {
		derive_seed(srun.data, seed);
		j.opts.seed = seed;
	}

	int rc = BROOK_ERR;
	PGconn *conn = PQconnectdb(ctx->pg_dsn ? ctx->pg_dsn : "");
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
		goto out_conn;
	}
	int64_t prev_batches = 0;
	if (read_resume(conn, srun.data, &prev_batches, &j.next_batch, &j.already_rows, err,
			errlen) != BROOK_OK)
		goto out_conn;
	if (prev_batches > 0)
		sched_task_log(ctx, "resuming %s: %lld batches (%lld users) already staged, "
				    "continuing at batch %d",
			       srun.data, (long long)prev_batches, (long long)j.already_rows,
			       j.next_batch);
	sched_task_log(ctx, "fetching from %s (seed %s, batch_size %d, max_records %lld, "
			    "max_duration %lld ms) into staging.raw_users as %s",
		       j.opts.url ? j.opts.url : "?", j.opts.seed, j.batch_size,
		       (long long)j.max_records, (long long)max_duration, srun.data);

	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cond, NULL);
	j.claim = j.want_no = j.next_batch;
	j.planned = j.already_rows;
	pthread_t thr[FETCH_THREADS];
	int nthr = 0;
	pthread_mutex_lock(&j.mu);
	for (; nthr < FETCH_THREADS; nthr++) {
		if (pthread_create(&thr[nthr], NULL, fetch_main, &j) != 0)
			break;
		j.running++;
	}
	pthread_mutex_unlock(&j.mu);
	if (nthr == 0) {
		snprintf(err, errlen, "cannot start the fetch threads");
		goto out_sync;
	}

	int64_t staged = 0, batches = 0, skipped = 0, rejected = 0;
	int64_t last_log = brook_mono_ms();
	bool failed = false, cancelled = false;
	for (;;) {
		if (atomic_load(ctx->cancel)) {
			cancelled = true;
			break;
		}
		fetched f;
		int r = pop(&j, &f);
		if (r == 0)
			break;
		if (r > 0) {
			source_response *resp = &f.batch.resp;
			if (resp->nrejected > 0) {
				rejected += (int64_t)resp->nrejected;
				const char *why = resp->nreasons ? resp->reasons[0] : "?";
				sched_task_log(ctx, "batch %d: %zu malformed users rejected "
						    "(not staged), e.g. %s",
					       f.batch_no, resp->nrejected, why);
				brook_warn(COMP, "%s batch %d: %zu malformed users from the API "
						 "rejected, e.g. %s",
					   srun.data, f.batch_no, resp->nrejected, why);
			}
			int got = 0;
			int src = pg_stage_batch(conn, srun.data, f.batch_no, f.url,
						 f.fetched_at_ms,
						 (const char *const *)resp->records,
						 resp->nrecords, &got, err, errlen);
			source_batch_release(&f.batch);
			free(f.url);
			if (src != BROOK_OK) {
				failed = true;
				break;
			}
			batches++;
			if (got == 0 && resp->nrecords > 0)
				skipped++;
			staged += got;
		}
		if (brook_mono_ms() - last_log >= PROGRESS_MS) {
			log_progress(ctx, staged, batches, rejected, started);
			last_log = brook_mono_ms();
		}
	}
	stop_fetchers(&j, thr, nthr);
	log_progress(ctx, staged, batches, rejected, started);

	if (cancelled) {
		snprintf(err, errlen, "cancelled: %lld users staged in this try, the next try "
				      "resumes at the next batch",
			 (long long)staged);
	} else if (failed) {
		/* err holds pg_stage_batch's message */
	} else if (j.fetch_rc != BROOK_OK) {
		snprintf(err, errlen, "%s", j.fetch_err);
	} else {
		if (j.duration_hit)
			sched_task_log(ctx, "max_duration reached");
		json_decref(ctx->result);
		ctx->result = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "staging_run_id",
					srun.data, "staged_rows", (json_int_t)staged,
					"total_rows", (json_int_t)(j.already_rows + staged),
					"batches", (json_int_t)batches, "skipped_batches",
					(json_int_t)skipped, "rejected", (json_int_t)rejected,
					"requests", (json_int_t)j.requests);
		rc = BROOK_OK;
	}
out_sync:
	pthread_cond_destroy(&j.cond);
	pthread_mutex_destroy(&j.mu);
out_conn:
	PQfinish(conn);
	brook_buf_release(&srun);
	return rc;
}

const sched_operator sched_op_randomuser_to_postgres = {
	.name = "randomuser_to_postgres",
	.params = params,
	.help = "fetch users from a randomuser.me-compatible API into staging.raw_users",
	.run = run,
};
