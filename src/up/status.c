/* status.c — the status line of `brook up` (see status.h). */
#include "up/status.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/httpc.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "up/up.h"

struct up_status {
	up_status_opts o;
	char *metrics_url;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool quit, enabled, shown;
	PGconn *pg;
	brook_httpc *http;
};

/* One sample; NAN when unavailable. */
typedef struct sample {
	int64_t at_ms;
	double staged, in, out, lag;
} sample;

static double query_staged(up_status *st)
{
	if (st->pg && PQstatus(st->pg) != CONNECTION_OK) {
		PQfinish(st->pg);
		st->pg = NULL;
	}
	if (!st->pg) {
		char *dsn = st->o.dsn_fn ? st->o.dsn_fn(st->o.arg) : NULL;
		if (!dsn)
			return NAN;
		const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
		const char *vals[] = {dsn, "2", "brook up", NULL};
		st->pg = PQconnectdbParams(keys, vals, 1);
		free(dsn);
		if (PQstatus(st->pg) != CONNECTION_OK) {
			PQfinish(st->pg);
			st->pg = NULL;
			return NAN;
		}
	}
	PGresult *r = PQexec(st->pg, "SELECT coalesce(sum(rows),0) FROM staging.batches");
	double v = NAN;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = strtod(PQgetvalue(r, 0, 0), NULL);
	PQclear(r);
	return v;
}

static void scrape(up_status *st, sample *sm)
{
	if (!st->metrics_url)
		return;
	brook_httpc_result res;
	memset(&res, 0, sizeof res);
	if (brook_httpc_get(st->http, st->metrics_url, &res) == BROOK_OK && res.status == 200) {
		double v;
		const char *t = res.body.data ? res.body.data : "";
		if (brook_up_prom_sum(t, res.body.len, "brook_stream_records_in_total", &v) ==
		    BROOK_OK)
			sm->in = v;
		if (brook_up_prom_sum(t, res.body.len, "brook_stream_records_out_total", &v) ==
		    BROOK_OK)
			sm->out = v;
		if (brook_up_prom_sum(t, res.body.len, "brook_stream_lag_records", &v) == BROOK_OK)
			sm->lag = v;
	}
	brook_httpc_result_release(&res);
}

static void put_rate(brook_buf *b, double now, double prev, int64_t dt_ms)
{
	if (isnan(now) || isnan(prev) || dt_ms <= 0 || now < prev)
		brook_buf_puts(b, "-");
	else
		brook_buf_printf(b, "%.1f/s", (now - prev) * 1000.0 / (double)dt_ms);
}

static void put_num(brook_buf *b, double v)
{
	if (isnan(v))
		brook_buf_puts(b, "-");
	else
		brook_buf_printf(b, "%.0f", v);
}

static void format(brook_buf *b, const sample *cur, const sample *prev)
{
	int64_t dt = prev ? cur->at_ms - prev->at_ms : 0;
	brook_buf_puts(b, "users staged ");
	put_rate(b, cur->staged, prev ? prev->staged : NAN, dt);
	brook_buf_puts(b, ", streamed ");
	put_rate(b, cur->in, prev ? prev->in : NAN, dt);
	brook_buf_puts(b, ", stored ");
	put_rate(b, cur->out, prev ? prev->out : NAN, dt);
	brook_buf_puts(b, ", total stored ");
	put_num(b, cur->out);
	brook_buf_puts(b, ", lag ");
	put_num(b, cur->lag);
}

static void *status_main(void *arg)
{
	pthread_setname_np(pthread_self(), "up-status");
	up_status *st = arg;
	sample prev;
	bool have_prev = false;
	pthread_mutex_lock(&st->mu);
	while (!st->quit) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += st->o.interval_ms / 1000;
		ts.tv_nsec += (st->o.interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!st->quit && pthread_cond_timedwait(&st->cv, &st->mu, &ts) == 0)
			;
		if (st->quit || !st->enabled)
			continue;
		pthread_mutex_unlock(&st->mu);

		sample cur = {brook_mono_ms(), NAN, NAN, NAN, NAN};
		cur.staged = query_staged(st);
		scrape(st, &cur);
		brook_buf line = BROOK_BUF_INIT;
		format(&line, &cur, have_prev ? &prev : NULL);
		prev = cur;
		have_prev = true;

		pthread_mutex_lock(&st->mu);
		if (st->enabled && !st->quit) {
			if (st->o.tty) {
				brook_buf out = BROOK_BUF_INIT;
				brook_buf_printf(&out, "\r%s\033[K", line.data);
				ssize_t w = write(2, out.data, out.len);
				(void)w;
				brook_buf_release(&out);
				st->shown = true;
			} else {
				brook_info("up", "%s", line.data);
			}
		}
		brook_buf_release(&line);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* The cond var waits on CLOCK_MONOTONIC. */
static void cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

up_status *up_status_start(const up_status_opts *o)
{
	up_status *st = brook_calloc(1, sizeof *st);
	st->o = *o;
	st->metrics_url = o->metrics_url ? brook_strdup(o->metrics_url) : NULL;
	brook_httpc_opts ho = {.connect_timeout_ms = 1000, .timeout_ms = 1000,
			       .max_body_bytes = 4 << 20};
	st->http = brook_httpc_new(&ho);
	pthread_mutex_init(&st->mu, NULL);
	cond_init_mono(&st->cv);
	pthread_create(&st->thread, NULL, status_main, st);
	return st;
}

void up_status_enable(up_status *st, bool on)
{
	if (!st)
		return;
	if (!on)
		up_status_clear(st);
	pthread_mutex_lock(&st->mu);
	st->enabled = on;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

void up_status_clear(up_status *st)
{
	if (!st || !st->o.tty)
		return;
	pthread_mutex_lock(&st->mu);
	if (st->shown) {
		static const char erase[] = "\r\033[K";
		ssize_t w = write(2, erase, sizeof erase - 1);
		(void)w;
		st->shown = false;
	}
	pthread_mutex_unlock(&st->mu);
}

void up_status_free(up_status *st)
{
	if (!st)
		return;
	up_status_clear(st);
	pthread_mutex_lock(&st->mu);
	st->quit = true;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thread, NULL);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	if (st->pg)
		PQfinish(st->pg);
	brook_httpc_free(st->http);
	free(st->metrics_url);
	free(st);
}
