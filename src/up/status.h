/*
 * status.h — `brook up`'s status line: throughput and lag of the running pipeline.
 *
 *   users staged 33.0/s, streamed 31.5/s, stored 31.5/s, total stored 12000, lag 4
 *
 * Sources, each sampled every interval on the status thread (never on the supervisor's):
 *   staged        SELECT coalesce(sum(rows),0) FROM staging.batches (libpq, connect
 *                 timeout 2 s; the DSN from up_status_opts.dsn_fn, asked again after a
 *                 failed connection)
 *   streamed      brook_stream_records_in_total   } summed over series, scraped from
 *   stored        brook_stream_records_out_total  } http://<stream.metrics_listen>/metrics
 *   total stored  brook_stream_records_out_total  } (1 s timeout)
 *   lag           brook_stream_lag_records        }
 * A rate needs two samples; anything unavailable shows "-".
 *
 * On a TTY the line is rewritten in place (\r ... ESC[K); up_status_clear() erases it
 * before other output. Otherwise each sample is an ordinary log line. States: created
 * (thread running, not showing) → up_status_enable(true) showing → up_status_free()
 * joins the thread. Thread-safe: output goes through one mutex.
 */
#ifndef BROOK_UP_STATUS_H
#define BROOK_UP_STATUS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct up_status up_status;

typedef struct up_status_opts {
	int64_t interval_ms;  /* > 0 */
	bool tty;             /* rewrite one line in place */
	const char *metrics_url; /* NULL: no stream metrics */
	/* The PostgreSQL DSN (malloc'd, freed by the caller) or NULL when unknown yet. */
	char *(*dsn_fn)(void *arg);
	void *arg;
} up_status_opts;

up_status *up_status_start(const up_status_opts *o);
void up_status_enable(up_status *st, bool on);
/* Erase the in-place line, if one is shown (TTY only). Safe from any thread. */
void up_status_clear(up_status *st);
void up_status_free(up_status *st);

#endif
