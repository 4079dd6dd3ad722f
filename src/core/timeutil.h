/*
 * timeutil.h — clocks and ISO-8601 instants.
 *
 * Wall-clock instants are int64 milliseconds since the Unix epoch, UTC. Durations for
 * timeouts use the monotonic clock. Formatting is allocation-free.
 */
#ifndef BROOK_CORE_TIMEUTIL_H
#define BROOK_CORE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define BROOK_ISO8601_LEN 24 /* "2024-03-05T10:00:00.000Z" */

int64_t brook_now_ms(void);     /* CLOCK_REALTIME, ms since epoch */
int64_t brook_mono_ms(void);    /* CLOCK_MONOTONIC */
int64_t brook_mono_ns(void);
void brook_sleep_ms(int64_t ms); /* restarts on EINTR until the time has passed */

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t brook_days_from_civil(int64_t y, unsigned m, unsigned d);
void brook_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; out must hold BROOK_ISO8601_LEN + 1 bytes. */
void brook_time_format_iso8601(int64_t ms, char *out);
/* Parses YYYY-MM-DD[THH:MM[:SS[.fff...]]][Z|±HH:MM|±HHMM]; without a zone, UTC.
 * BROOK_OK or BROOK_ERR. */
int brook_time_parse_iso8601(const char *s, int64_t *ms);
/* "1500ms", "30s", "5m", "2h", "1d", or a bare number of ms. BROOK_OK or BROOK_ERR. */
int brook_duration_parse(const char *s, int64_t *ms);

#endif
