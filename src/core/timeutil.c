/*
 * timeutil.c — clocks, civil-date arithmetic and ISO-8601 (see timeutil.h).
 *
 * Calendar: proleptic Gregorian, converted with Howard Hinnant's days_from_civil /
 * civil_from_days algorithms (eras of 400 years = 146097 days, years starting on
 * March 1st so the leap day is the last day of the year). They are exact for every
 * int64 day count we can meet and need no tables or libc time zone state.
 *
 * Instants are int64 milliseconds since 1970-01-01T00:00:00Z; negative values are
 * before 1970 and are split with floor division. The formatter always writes
 * exactly BROOK_ISO8601_LEN characters, so instants outside years 0000..9999 are
 * clamped to that range.
 *
 * The parser is strict: exactly four year digits, two-digit fields, each field in
 * range for its month (leap years included), fractional seconds of any length
 * truncated to milliseconds, then Z, ±HH:MM, ±HHMM or nothing (UTC), then the end
 * of the string.
 */
#include "core/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include "core/err.h"

#define MS_PER_DAY INT64_C(86400000)

/* The first and last instant the fixed-width formatter can show. */
#define ISO_MIN_MS (INT64_C(-62167219200000)) /* 0000-01-01T00:00:00.000Z */
#define ISO_MAX_MS (INT64_C(253402300799999)) /* 9999-12-31T23:59:59.999Z */

int64_t brook_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t brook_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t brook_mono_ms(void)
{
	return brook_mono_ns() / 1000000;
}

void brook_sleep_ms(int64_t ms)
{
	struct timespec until;
	int rc;

	if (ms <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	do {
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	} while (rc == EINTR);
}

int64_t brook_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                                     /* [0, 399] */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1; /* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                             /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void brook_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */

	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static void put_digits(char *out, unsigned v, int width)
{
	while (width-- > 0) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

void brook_time_format_iso8601(int64_t ms, char *out)
{
	int64_t days, rem, y;
	unsigned m, d;

	if (ms < ISO_MIN_MS)
		ms = ISO_MIN_MS;
	if (ms > ISO_MAX_MS)
		ms = ISO_MAX_MS;
	days = floor_div(ms, MS_PER_DAY);
	rem = ms - days * MS_PER_DAY; /* [0, 86399999] */
	brook_civil_from_days(days, &y, &m, &d);

	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(rem / 3600000), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(rem / 60000 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(rem / 1000 % 60), 2);
	out[19] = '.';
	put_digits(out + 20, (unsigned)(rem % 1000), 3);
	out[23] = 'Z';
	out[24] = '\0';
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly `width` decimal digits at *p. */
static bool read_fixed(const char **p, int width, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < width; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += width;
	*out = v;
	return true;
}

int brook_time_parse_iso8601(const char *s, int64_t *ms)
{
	const char *p = s;
	unsigned y, mo, d, hh = 0, mi = 0, ss = 0, frac = 0;
	int64_t offset_min = 0, days;

	if (!read_fixed(&p, 4, &y) || *p++ != '-' || !read_fixed(&p, 2, &mo) || *p++ != '-' ||
	    !read_fixed(&p, 2, &d))
		return BROOK_ERR;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return BROOK_ERR;

	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!read_fixed(&p, 2, &hh) || *p++ != ':' || !read_fixed(&p, 2, &mi))
			return BROOK_ERR;
		if (*p == ':') {
			p++;
			if (!read_fixed(&p, 2, &ss))
				return BROOK_ERR;
			if (*p == '.' || *p == ',') {
				int digits = 0;

				p++;
				while (*p >= '0' && *p <= '9') {
					if (digits < 3)
						frac = frac * 10 + (unsigned)(*p - '0');
					digits++;
					p++;
				}
				if (digits == 0)
					return BROOK_ERR;
				for (; digits < 3; digits++)
					frac *= 10;
			}
		}
		if (hh > 23 || mi > 59 || ss > 59)
			return BROOK_ERR;
	}

	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		unsigned oh, om;

		p++;
		if (!read_fixed(&p, 2, &oh))
			return BROOK_ERR;
		if (*p == ':')
			p++;
		if (!read_fixed(&p, 2, &om))
			return BROOK_ERR;
		if (oh > 23 || om > 59)
			return BROOK_ERR;
		offset_min = sign * (int64_t)(oh * 60 + om);
	}
	if (*p != '\0')
		return BROOK_ERR;

	days = brook_days_from_civil(y, mo, d);
	*ms = days * MS_PER_DAY + (int64_t)hh * 3600000 + (int64_t)mi * 60000 + (int64_t)ss * 1000 +
	      frac - offset_min * 60000;
	return BROOK_OK;
}

int brook_duration_parse(const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t v = 0, mult;

	if (*p < '0' || *p > '9')
		return BROOK_ERR; /* empty, sign, space or garbage */
	while (*p >= '0' && *p <= '9') {
		int digit = *p - '0';

		if (v > (INT64_MAX - digit) / 10)
			return BROOK_ERR;
		v = v * 10 + digit;
		p++;
	}
	if (*p == '\0' || (p[0] == 'm' && p[1] == 's' && p[2] == '\0'))
		mult = 1;
	else if (p[0] == 's' && p[1] == '\0')
		mult = 1000;
	else if (p[0] == 'm' && p[1] == '\0')
		mult = 60 * 1000;
	else if (p[0] == 'h' && p[1] == '\0')
		mult = 3600 * 1000;
	else if (p[0] == 'd' && p[1] == '\0')
		mult = INT64_C(86400) * 1000;
	else
		return BROOK_ERR;
	if (v > INT64_MAX / mult)
		return BROOK_ERR;
	*ms = v * mult;
	return BROOK_OK;
}
