/*
 * cron.h — cron expressions and their next fire time in an IANA time zone.
 *
 * Grammar (five fields separated by blanks, or one preset):
 *
 *   minute 0-59   hour 0-23   day-of-month 1-31   month 1-12   day-of-week 0-7
 *
 *   field := item ("," item)*
 *   item  := "*" ["/" step] | value ["-" value] ["/" step]
 *   value := number | month name JAN..DEC | day name SUN..SAT   (names case-insensitive)
 *
 * "a/n" means a to the field's maximum in steps of n. Day-of-week 0 and 7 are both
 * Sunday. Presets: @hourly "0 * * * *", @daily and @midnight "0 0 * * *", @weekly
 * "0 0 * * 0", @monthly "0 0 1 * *", @yearly and @annually "0 0 1 1 *", and the two
 * that have no recurring fire time: @once (the scheduler runs it once, at the DAG's
 * start) and none (never fires).
 *
 * Day matching follows Vixie cron: when both day-of-month and day-of-week are
 * restricted (neither field begins with "*"), a day matches if EITHER matches;
 * otherwise both must. So "0 0 13 * FRI" fires on every 13th and every Friday.
 *
 * Time zones: cron_zone_open() reads the TZif file (RFC 8536) of a zone from the system
 * database (/usr/share/zoneinfo, or $TZDIR) into a table of UTC transitions, and
 * extends it with the POSIX TZ footer rule up to the year 2500. Nothing touches the
 * process-global TZ/tzset/localtime state, so zones can be used from any thread.
 *
 * DST rules (what Airflow users see: croniter computes naive local times and pendulum
 * localises them, resolving ambiguity like Python's fold=0):
 *
 *   - A wall time that does not exist (spring forward; 02:30 on the US change day)
 *     is interpreted with the offset in force before the gap, i.e. it fires shifted
 *     forward by the gap: "30 2 * * *" fires at 03:30 new time, "0 2 * * *" at 03:00.
 *   - A wall time that occurs twice (fall back) fires once, at its first occurrence.
 *   - Expressions whose hour field covers all 24 hours ("0 * * * *", "*\/15 * * * *")
 *     follow real time instead: they fire in both copies of a repeated hour and not in
 *     the missing hour, so "0 * * * *" fires every real hour, 24 + 1 or 24 - 1 times
 *     on a change day.
 *   - Offsets assume the changes are at most 4 hours (all real DST rules are).
 *
 * Searching: cron_next() looks at most CRON_HORIZON_YEARS ahead; an expression with
 * no fire time in that window ("0 0 30 2 *") is an error that says so.
 */
#ifndef BROOK_SCHEDULER_CRON_H
#define BROOK_SCHEDULER_CRON_H

#include <stddef.h>
#include <stdint.h>

#define CRON_HORIZON_YEARS 8
/* cron_next() accepts start instants in the years 0-9999 (UTC seconds). */
#define CRON_MIN_TIME (-62167219200LL)
#define CRON_MAX_TIME 253402300799LL
/* "2024-03-10T03:00:00-04:00" plus NUL. */
#define CRON_TIME_LEN 32

typedef enum {
	CRON_RECURRING = 0, /* five fields or a recurring preset */
	CRON_ONCE,          /* @once: no recurring fire time */
	CRON_NEVER,         /* none */
} cron_kind;

typedef struct cron_expr cron_expr;
typedef struct cron_zone cron_zone;

/* Parse an expression. NULL on error with a message naming the field and the token
 * ("cron: minute field: 61 is out of range 0-59 in '61 * * * *'"). Free with
 * cron_expr_free(). */
cron_expr *cron_expr_parse(const char *text, char *err, size_t errlen);
void cron_expr_free(cron_expr *e);
cron_kind cron_expr_kind(const cron_expr *e);

/* Load an IANA zone ("UTC", "Europe/Berlin"). NULL on error with a message. Free with
 * cron_zone_free(). A zone is read-only after opening and may be shared by threads. */
cron_zone *cron_zone_open(const char *name, char *err, size_t errlen);
void cron_zone_free(cron_zone *z);
const char *cron_zone_name(const cron_zone *z);
/* UTC offset in seconds (east positive) in force at a UTC instant. */
int32_t cron_zone_offset(const cron_zone *z, int64_t utc);

/* The first fire time strictly after `after` (UTC seconds), evaluated in zone z.
 * BROOK_OK and *next; BROOK_AGAIN for @once and none (no recurring fire time, with a
 * message); BROOK_ERR when nothing fires within CRON_HORIZON_YEARS, or `after` is
 * outside CRON_MIN_TIME..CRON_MAX_TIME (with a message). */
int cron_next(const cron_expr *e, int64_t after, const cron_zone *z, int64_t *next,
	      char *err, size_t errlen);

/* Format a UTC instant as ISO 8601: "...Z" when z is NULL, else with z's offset at
 * that instant ("2024-03-10T03:00:00-04:00"). out holds CRON_TIME_LEN bytes. */
void cron_format_time(int64_t utc, const cron_zone *z, char *out);

#endif
