/*
 * cron.c — cron parsing, TZif zones and the next-fire-time search.
 *
 * Grammar, semantics and DST rules are documented in cron.h. Design:
 *
 *   Expression: one bitmask per field (minute 60 bits, hour 24, day-of-month 1..31,
 *   month 1..12, day-of-week 0..6 with 7 folded onto 0), plus whether day-of-month
 *   and day-of-week were restricted (for the Vixie OR rule).
 *
 *   Zone: the TZif v2+ 64-bit transition table (v1 32-bit if that is all there is),
 *   extended with transitions generated from the POSIX TZ footer ("CET-1CEST,M3.5.0,
 *   M10.5.0/3") up to ZONE_LAST_YEAR. We read the file ourselves instead of using
 *   TZ/tzset/mktime because those are process-global and not thread-safe.
 *
 *   Search (cron_next): walk matching *wall-clock* minutes in increasing order
 *   (next_local: skip whole months, days, hours that cannot match), starting a few
 *   hours before the wall time of `after`, and map each to UTC (resolve_local): zero
 *   instants in a gap, two in a repeated hour. Since that mapping is not monotonic
 *   around a transition, the search keeps the smallest instant > after and stops once
 *   the wall clock is SLACK past the best candidate. Every step moves the wall clock
 *   forward and the walk stops at CRON_HORIZON_YEARS, so it always terminates.
 */
#include "scheduler/cron.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define DAY 86400
#define SLACK (4 * 3600)
#define ZONE_LAST_YEAR 2500
#define ZONE_MAX_FILE (1 << 20)

struct cron_expr {
	cron_kind kind;
	uint64_t minute;
	uint32_t hour, dom, month, dow;
	int dom_star, dow_star;
	char text[128]; /* for messages */
};

struct cron_zone {
	char *name;
	int32_t off0; /* before the first transition */
	size_t n, cap;
	int64_t *at;  /* UTC instant of transition i */
	int32_t *off; /* offset from at[i] on */
};

/* ---- parsing ---------------------------------------------------------------------- */

typedef struct {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] is value lo+i... (see name_base) */
	int name_base;
} field_spec;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const field_spec fields[5] = {
	{"minute", 0, 59, NULL, 0},
	{"hour", 0, 23, NULL, 0},
	{"day-of-month", 1, 31, NULL, 0},
	{"month", 1, 12, month_names, 1},
	{"day-of-week", 0, 7, day_names, 0},
};

static const struct {
	const char *name, *expansion;
} presets[] = {
	{"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	{"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
};

/* A number or a name in [s, e). BROOK_OK and *out, or BROOK_ERR. */
static int parse_value(const field_spec *f, const char *s, const char *e, int *out)
{
	size_t len = (size_t)(e - s);

	if (len == 0)
		return BROOK_ERR;
	if (isdigit((unsigned char)*s)) {
		long v = 0;
		for (const char *p = s; p < e; p++) {
			if (!isdigit((unsigned char)*p) || v > 100000)
				return BROOK_ERR;
			v = v * 10 + (*p - '0');
		}
		*out = (int)v;
		return BROOK_OK;
	}
	if (f->names && len == 3) {
		for (int i = 0; f->names[i]; i++)
			if (strncasecmp(s, f->names[i], 3) == 0) {
				*out = f->name_base + i;
				return BROOK_OK;
			}
	}
	return BROOK_ERR;
}

/* One field [s, e) into a bitmask. */
static int parse_field(const field_spec *f, const char *s, const char *e, uint64_t *mask,
		       const char *text, char *err, size_t errlen)
{
	*mask = 0;
	while (s < e) {
		const char *ie = memchr(s, ',', (size_t)(e - s));
		if (!ie)
			ie = e;
		const char *slash = memchr(s, '/', (size_t)(ie - s));
		const char *re = slash ? slash : ie;
		int lo, hi, step = 1;
		if (ie == s) {
			snprintf(err, errlen, "cron: %s field: empty list item in '%s'", f->name, text);
			return BROOK_ERR;
		}
		if (re - s == 1 && *s == '*') {
			lo = f->lo;
			hi = f->hi == 7 ? 6 : f->hi;
		} else {
			const char *dash = memchr(s, '-', (size_t)(re - s));
			const char *ve = dash ? dash : re;
			if (parse_value(f, s, ve, &lo) != BROOK_OK) {
				snprintf(err, errlen, "cron: %s field: '%.*s' is not a number%s in '%s'",
					 f->name, (int)(ve - s), s,
					 f->names ? " or a name" : "", text);
				return BROOK_ERR;
			}
			hi = lo;
			if (dash && parse_value(f, dash + 1, re, &hi) != BROOK_OK) {
				snprintf(err, errlen, "cron: %s field: '%.*s' is not a number%s in '%s'",
					 f->name, (int)(re - dash - 1), dash + 1,
					 f->names ? " or a name" : "", text);
				return BROOK_ERR;
			}
			for (int k = 0; k < 2; k++) {
				int v = k ? hi : lo;
				if (v < f->lo || v > f->hi) {
					snprintf(err, errlen,
						 "cron: %s field: %d is out of range %d-%d in '%s'",
						 f->name, v, f->lo, f->hi, text);
					return BROOK_ERR;
				}
			}
			if (hi < lo) {
				snprintf(err, errlen,
					 "cron: %s field: range '%.*s' runs backwards in '%s'",
					 f->name, (int)(re - s), s, text);
				return BROOK_ERR;
			}
			if (slash && !dash)
				hi = f->hi;
		}
		if (slash) {
			if (parse_value(&fields[0], slash + 1, ie, &step) != BROOK_OK || step < 1 ||
			    step > f->hi - f->lo + 1) {
				snprintf(err, errlen,
					 "cron: %s field: step '%.*s' must be a number from 1 to %d in '%s'",
					 f->name, (int)(ie - slash - 1), slash + 1, f->hi - f->lo + 1,
					 text);
				return BROOK_ERR;
			}
		}
		for (int v = lo; v <= hi; v += step)
			*mask |= (uint64_t)1 << (f->hi == 7 && v == 7 ? 0 : v);
		s = ie < e ? ie + 1 : e;
		if (ie < e && s == e) {
			snprintf(err, errlen, "cron: %s field: empty list item in '%s'", f->name, text);
			return BROOK_ERR;
		}
	}
	return BROOK_OK;
}

static int parse_fields(cron_expr *c, const char *src, const char *text, char *err,
			size_t errlen)
{
	const char *start[6], *end[6];
	int n = 0;
	const char *p = src;
	uint64_t m[5];

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 5) {
			n++;
			break;
		}
		start[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		end[n++] = p;
	}
	if (n != 5) {
		snprintf(err, errlen,
			 "cron: expected 5 fields (minute hour day-of-month month day-of-week) or "
			 "a preset (@hourly, @daily, ...), got %s%d in '%s'",
			 n > 5 ? "more than " : "", n > 5 ? 5 : n, text);
		return BROOK_ERR;
	}
	for (int i = 0; i < 5; i++)
		if (parse_field(&fields[i], start[i], end[i], &m[i], text, err, errlen) != BROOK_OK)
			return BROOK_ERR;
	c->minute = m[0];
	c->hour = (uint32_t)m[1];
	c->dom = (uint32_t)m[2];
	c->month = (uint32_t)m[3];
	c->dow = (uint32_t)m[4];
	c->dom_star = *start[2] == '*';
	c->dow_star = *start[4] == '*';
	return BROOK_OK;
}

cron_expr *cron_expr_parse(const char *text, char *err, size_t errlen)
{
	cron_expr *c = brook_calloc(1, sizeof *c);
	char quoted[128];
	const char *s = text;
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n'))
		len--;
	snprintf(quoted, sizeof quoted, "%.*s%s", len > 100 ? 100 : (int)len, s,
		 len > 100 ? "..." : "");
	memcpy(c->text, quoted, sizeof c->text);
	if (len == 0) {
		snprintf(err, errlen, "cron: empty expression");
		goto fail;
	}
	if (*s == '@' || (len == 4 && strncasecmp(s, "none", 4) == 0)) {
		const char *exp = NULL;
		if (len == 4 && strncasecmp(s, "none", 4) == 0) {
			c->kind = CRON_NEVER;
			return c;
		}
		if (len == 5 && strncasecmp(s, "@once", 5) == 0) {
			c->kind = CRON_ONCE;
			return c;
		}
		for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
			if (strlen(presets[i].name) == len && strncasecmp(s, presets[i].name, len) == 0)
				exp = presets[i].expansion;
		if (!exp) {
			snprintf(err, errlen,
				 "cron: unknown preset '%s' (known: @once @hourly @daily @midnight "
				 "@weekly @monthly @yearly @annually none)",
				 quoted);
			goto fail;
		}
		if (parse_fields(c, exp, quoted, err, errlen) != BROOK_OK)
			goto fail;
		return c;
	}
	char *copy = brook_strndup(s, len);
	int rc = parse_fields(c, copy, quoted, err, errlen);
	free(copy);
	if (rc == BROOK_OK)
		return c;
fail:
	free(c);
	return NULL;
}

void cron_expr_free(cron_expr *e)
{
	free(e);
}

cron_kind cron_expr_kind(const cron_expr *e)
{
	return e->kind;
}

/* ---- zones ------------------------------------------------------------------------ */

static void zone_push(cron_zone *z, int64_t at, int32_t off)
{
	if (z->n == z->cap) {
		z->cap = z->cap ? z->cap * 2 : 64;
		z->at = brook_realloc(z->at, z->cap * sizeof *z->at);
		z->off = brook_realloc(z->off, z->cap * sizeof *z->off);
	}
	z->at[z->n] = at;
	z->off[z->n] = off;
	z->n++;
}

int32_t cron_zone_offset(const cron_zone *z, int64_t utc)
{
	size_t lo = 0, hi = z->n; /* first index with at > utc */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= utc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? z->off0 : z->off[lo - 1];
}

const char *cron_zone_name(const cron_zone *z)
{
	return z->name;
}

static int64_t be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	if (bytes == 4)
		return (int64_t)(int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* POSIX TZ pieces. Each returns the advanced pointer or NULL. */
static const char *tz_name(const char *p)
{
	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p ? p + 1 : NULL;
	}
	const char *s = p;
	while (isalpha((unsigned char)*p))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] as seconds (hours up to 167 for rule times). */
static const char *tz_hms(const char *p, int32_t *out)
{
	int sign = 1, part[3] = {0, 0, 0};

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p) && part[i] < 1000)
			part[i] = part[i] * 10 + (*p++ - '0');
		if (*p != ':' || i == 2)
			break;
		p++;
	}
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return p;
}

typedef struct {
	char type; /* 'M', 'J', 'n' */
	int m, w, d, n;
	int32_t time;
} tz_rule;

static const char *tz_rule_parse(const char *p, tz_rule *r)
{
	r->time = 7200;
	if (*p == 'M') {
		r->type = 'M';
		if (sscanf(p + 1, "%d.%d.%d", &r->m, &r->w, &r->d) != 3 || r->m < 1 || r->m > 12 ||
		    r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
			return NULL;
		p++;
		while (isdigit((unsigned char)*p) || *p == '.')
			p++;
	} else {
		r->type = *p == 'J' ? 'J' : 'n';
		if (*p == 'J')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		r->n = 0;
		while (isdigit((unsigned char)*p) && r->n < 1000)
			r->n = r->n * 10 + (*p++ - '0');
		if (r->n > 365)
			return NULL;
	}
	if (*p == '/')
		p = tz_hms(p + 1, &r->time);
	return p;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local wall seconds (as if UTC) at which rule r fires in year y. */
static int64_t tz_rule_local(const tz_rule *r, int64_t y)
{
	int64_t days;

	if (r->type == 'M') {
		int64_t first = brook_days_from_civil(y, (unsigned)r->m, 1);
		int wd = (int)(((first + 4) % 7 + 7) % 7);
		int64_t d = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
		int64_t next = r->m == 12 ? brook_days_from_civil(y + 1, 1, 1)
					  : brook_days_from_civil(y, (unsigned)r->m + 1, 1);
		while (d >= next)
			d -= 7;
		days = d;
	} else if (r->type == 'J') {
		days = brook_days_from_civil(y, 1, 1) + r->n - 1;
		if (is_leap(y) && r->n >= 60)
			days++;
	} else {
		days = brook_days_from_civil(y, 1, 1) + r->n;
	}
	return days * DAY + r->time;
}

/* Extend z with the footer rule after its last transition. Unknown syntax is ignored
 * (the last offset then stays in force), never an error. */
static void zone_apply_footer(cron_zone *z, const char *tz)
{
	int32_t std, dst;
	tz_rule start, end;
	const char *p = tz_name(tz);

	if (!p || !(p = tz_hms(p, &std)))
		return;
	std = -std;
	if (!*p) {
		if (z->n == 0)
			z->off0 = std;
		return;
	}
	if (!(p = tz_name(p)))
		return;
	dst = std + 3600;
	if (*p && *p != ',') {
		if (!(p = tz_hms(p, &dst)))
			return;
		dst = -dst;
	}
	if (*p++ != ',' || !(p = tz_rule_parse(p, &start)) || *p++ != ',' ||
	    !(p = tz_rule_parse(p, &end)) || *p)
		return;

	int64_t last = z->n ? z->at[z->n - 1] : INT64_MIN;
	int64_t y0 = 1970;
	if (z->n) {
		int64_t yy;
		unsigned mm, dd;
		brook_civil_from_days(z->at[z->n - 1] / DAY, &yy, &mm, &dd);
		y0 = yy;
	}
	for (int64_t y = y0; y <= ZONE_LAST_YEAR; y++) {
		int64_t s = tz_rule_local(&start, y) - std; /* start given in standard time */
		int64_t e = tz_rule_local(&end, y) - dst;   /* end given in daylight time */
		int64_t a = s < e ? s : e, b = s < e ? e : s;
		int32_t oa = s < e ? dst : std, ob = s < e ? std : dst;
		/* A rule may start one period at the instant the other ends (all-year
		 * daylight time, "EST5EDT,0/0,J365/25"): the later one wins. */
		if (a == last && z->n)
			z->off[z->n - 1] = oa;
		else if (a > last)
			zone_push(z, a, oa);
		last = a > last ? a : last;
		if (b == last && z->n)
			z->off[z->n - 1] = ob;
		else if (b > last)
			zone_push(z, b, ob);
		last = b > last ? b : last;
	}
}

static int zone_parse(cron_zone *z, const unsigned char *d, size_t len, char *err,
		      size_t errlen)
{
	const unsigned char *p = d, *end = d + len;
	int version, tsize = 4;

	for (int pass = 0; pass < 2; pass++) {
		if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
			goto bad;
		version = p[4];
		int64_t isutcnt = be(p + 20, 4), isstdcnt = be(p + 24, 4), leapcnt = be(p + 28, 4),
			timecnt = be(p + 32, 4), typecnt = be(p + 36, 4), charcnt = be(p + 40, 4);
		if (isutcnt < 0 || isstdcnt < 0 || leapcnt < 0 || timecnt < 0 || typecnt < 1 ||
		    typecnt > 256 || charcnt < 0 || timecnt > 100000 || leapcnt > 100000 ||
		    charcnt > 100000 || isutcnt > 256 || isstdcnt > 256)
			goto bad;
		p += 44;
		int64_t body = timecnt * tsize + timecnt + typecnt * 6 + charcnt +
			       leapcnt * (tsize + 4) + isstdcnt + isutcnt;
		if (body > end - p)
			goto bad;
		if (pass == 0 && version >= '2') {
			p += body; /* skip the 32-bit block, read the 64-bit one */
			tsize = 8;
			continue;
		}
		const unsigned char *times = p, *idx = p + timecnt * tsize,
				    *types = idx + timecnt;
		z->off0 = (int32_t)be(types, 4);
		for (int64_t i = 0; i < timecnt; i++) {
			if (idx[i] >= typecnt)
				goto bad;
			int64_t at = be(times + i * tsize, tsize);
			if (z->n && at <= z->at[z->n - 1])
				goto bad;
			zone_push(z, at, (int32_t)be(types + idx[i] * 6, 4));
		}
		p += body;
		if (tsize == 8 && p < end && *p == '\n') {
			const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
			if (nl && nl > p + 1) {
				char *footer = brook_strndup((const char *)p + 1, (size_t)(nl - p - 1));
				zone_apply_footer(z, footer);
				free(footer);
			}
		}
		return BROOK_OK;
	}
bad:
	snprintf(err, errlen, "cron: time zone '%s': not a valid TZif file", z->name);
	return BROOK_ERR;
}

void cron_zone_free(cron_zone *z)
{
	if (!z)
		return;
	free(z->name);
	free(z->at);
	free(z->off);
	free(z);
}

cron_zone *cron_zone_open(const char *name, char *err, size_t errlen)
{
	cron_zone *z = brook_calloc(1, sizeof *z);
	const char *dir = getenv("TZDIR");
	char path[4096];
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f;

	z->name = brook_strdup(name);
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "Z") == 0)
		return z;
	int ok = name[0] && name[0] != '/' && strlen(name) < 200 && !strstr(name, "..");
	for (const char *p = name; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || strchr("/_+-", *p);
	if (!ok) {
		snprintf(err, errlen, "cron: '%s' is not a time zone name (like Europe/Berlin)",
			 name);
		goto fail;
	}
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	if (!(f = fopen(path, "rb"))) {
		snprintf(err, errlen, "cron: unknown time zone '%s' (%s: %s)", name, path,
			 strerror(errno));
		goto fail;
	}
	data = brook_malloc(ZONE_MAX_FILE);
	len = fread(data, 1, ZONE_MAX_FILE, f);
	fclose(f);
	if (zone_parse(z, data, len, err, errlen) != BROOK_OK)
		goto fail;
	free(data);
	return z;
fail:
	free(data);
	cron_zone_free(z);
	return NULL;
}

/* ---- search ----------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int day_matches(const cron_expr *e, int64_t days, unsigned d)
{
	int wd = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	int dom = (e->dom >> d) & 1, dow = (e->dow >> wd) & 1;

	if (e->dom_star || e->dow_star)
		return dom && dow;
	return dom || dow;
}

/* The first matching wall-clock minute strictly after wall time t, up to limit. */
static int next_local(const cron_expr *e, int64_t t, int64_t limit, int64_t *out)
{
	t = (floor_div(t, 60) + 1) * 60;
	while (t <= limit) {
		int64_t days = floor_div(t, DAY), y;
		int64_t sod = t - days * DAY;
		unsigned m, d;
		int h = (int)(sod / 3600), mi = (int)(sod % 3600 / 60);

		brook_civil_from_days(days, &y, &m, &d);
		if (!((e->month >> m) & 1)) {
			t = (m == 12 ? brook_days_from_civil(y + 1, 1, 1)
				     : brook_days_from_civil(y, m + 1, 1)) * DAY;
			continue;
		}
		if (!day_matches(e, days, d)) {
			t = (days + 1) * DAY;
			continue;
		}
		if (!((e->hour >> h) & 1)) {
			t = days * DAY + (h + 1) * 3600;
			continue;
		}
		uint64_t rest = e->minute >> mi;
		if (!rest) {
			t = days * DAY + (h + 1) * 3600;
			continue;
		}
		*out = days * DAY + h * 3600 + (mi + __builtin_ctzll(rest)) * 60;
		return BROOK_OK;
	}
	return BROOK_ERR;
}

/* UTC instants whose wall time in z is c, ascending: 0 (gap), 1, or 2 (repeated).
 * *gap_utc gets c read with the offset in force before the gap. */
static int resolve_local(const cron_zone *z, int64_t c, int64_t out[2], int64_t *gap_utc)
{
	int32_t cand[8];
	int nc = 0, n = 0;
	int64_t lo = c - 26 * 3600, hi = c + 26 * 3600;

	cand[nc++] = cron_zone_offset(z, lo);
	*gap_utc = c - cand[0];
	/* transitions in (lo, hi] */
	size_t a = 0, b = z->n;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (z->at[mid] <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (size_t i = a; i < z->n && z->at[i] <= hi && nc < 8; i++) {
		int32_t before = i ? z->off[i - 1] : z->off0;
		if (z->off[i] > before && z->at[i] + before <= c && c < z->at[i] + z->off[i])
			*gap_utc = c - before;
		cand[nc++] = z->off[i];
	}
	for (int i = 0; i < nc; i++) {
		int64_t u = c - cand[i];
		if (cron_zone_offset(z, u) != cand[i])
			continue;
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= out[j] == u;
		if (dup || n == 2)
			continue;
		out[n++] = u;
	}
	if (n == 2 && out[0] > out[1]) {
		int64_t t = out[0];
		out[0] = out[1];
		out[1] = t;
	}
	return n;
}

int cron_next(const cron_expr *e, int64_t after, const cron_zone *z, int64_t *next,
	      char *err, size_t errlen)
{
	if (e->kind != CRON_RECURRING) {
		snprintf(err, errlen, "cron: %s has no recurring fire time",
			 e->kind == CRON_ONCE ? "@once" : "none");
		return BROOK_AGAIN;
	}
	if (after < CRON_MIN_TIME || after > CRON_MAX_TIME) {
		snprintf(err, errlen, "cron: start time %lld is outside the years 0-9999",
			 (long long)after);
		return BROOK_ERR;
	}
	int every_hour = e->hour == 0xffffffu;
	int64_t wall = after + cron_zone_offset(z, after);
	int64_t limit = wall + (int64_t)CRON_HORIZON_YEARS * 366 * DAY;
	int64_t c = wall - SLACK - 60, best = INT64_MAX, best_c = 0;
	int found = 0;

	while (next_local(e, c, limit, &c) == BROOK_OK) {
		int64_t u[2], gap;
		int n;

		if (found && c > best_c + SLACK)
			break;
		n = resolve_local(z, c, u, &gap);
		if (n == 0 && !every_hour) {
			u[0] = gap;
			n = 1;
		} else if (n == 2 && !every_hour) {
			n = 1; /* a repeated wall time fires once, at its first occurrence */
		}
		for (int i = 0; i < n; i++)
			if (u[i] > after && u[i] < best) {
				best = u[i];
				best_c = c;
				found = 1;
			}
	}
	if (!found) {
		snprintf(err, errlen, "cron: '%s' never fires within %d years of the start time",
			 e->text, CRON_HORIZON_YEARS);
		return BROOK_ERR;
	}
	*next = best;
	return BROOK_OK;
}

void cron_format_time(int64_t utc, const cron_zone *z, char *out)
{
	int32_t off = z ? cron_zone_offset(z, utc) : 0;
	int64_t wall = utc + off, days = floor_div(wall, DAY), y;
	int64_t sod = wall - days * DAY;
	unsigned m, d;

	brook_civil_from_days(days, &y, &m, &d);
	int n = snprintf(out, CRON_TIME_LEN, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m,
			 d, (int)(sod / 3600), (int)(sod % 3600 / 60), (int)(sod % 60));
	if (!z) {
		snprintf(out + n, (size_t)(CRON_TIME_LEN - n), "Z");
		return;
	}
	int32_t a = off < 0 ? -off : off;
	snprintf(out + n, (size_t)(CRON_TIME_LEN - n), "%c%02d:%02d", off < 0 ? '-' : '+',
		 a / 3600, a % 3600 / 60);
}
