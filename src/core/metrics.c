/*
 * metrics.c — the metrics registry and its Prometheus text rendering (format 0.0.4).
 *
 * Structure: a registry owns a singly linked list of families in registration order;
 * a family owns a list of series in creation order. Both lists only grow, and only
 * under the registry mutex, so a series pointer stays valid until
 * brook_metrics_free(). Rendering takes the same mutex, so it sees whole lists.
 *
 * Values: counters and gauges keep a double as its IEEE-754 bit pattern in an
 * _Atomic uint64_t; set is a store, add is a compare-and-swap loop. A histogram
 * series keeps one atomic count per bucket (not cumulative; the last bucket is +Inf),
 * an atomic sum (a double, CAS loop) and an atomic count. Updates never take the lock.
 * Rendering reads each atomic once; under concurrent updates a scrape may see an
 * observation in _count but not yet in _sum, which Prometheus tolerates. The +Inf
 * bucket and _count are both the total of the bucket counts read, so they agree.
 *
 * Misuse is a programming error, not a runtime condition: registering a name again
 * with another type or other label names logs what happened and aborts.
 *
 * Rendering rules (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *   # HELP <name> <help, with \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{<label>="<value, with \ " and newline escaped>",...} <number>
 * Numbers: integral values below 2^63 in magnitude print as integers ("5000"), others
 * with the fewest significant digits (at most 17) that read back to the same double;
 * infinities as +Inf / -Inf and NaN as NaN.
 */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

struct brook_metric {
	brook_metric_family *family;
	char **label_values;       /* family->nlabels strings */
	_Atomic uint64_t value;    /* counter/gauge: double bits */
	_Atomic uint64_t *buckets; /* histogram: nbounds + 1 counts */
	_Atomic uint64_t sum;      /* histogram: double bits */
	_Atomic uint64_t count;    /* histogram */
	struct brook_metric *next;
};

struct brook_metric_family {
	brook_metrics *registry;
	brook_metric_type type;
	char *name;
	char *help;
	char **label_names;
	size_t nlabels;
	double *bounds; /* histogram upper bounds, ascending */
	size_t nbounds;
	brook_metric *series_head, *series_tail;
	struct brook_metric_family *next;
};

struct brook_metrics {
	pthread_mutex_t lock;
	brook_metric_family *head, *tail;
};

static const double default_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5,     10};

static const char *const type_names[] = {"counter", "gauge", "histogram"};

static uint64_t dbl_bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

static double bits_dbl(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

static void atomic_add_double(_Atomic uint64_t *cell, double v)
{
	uint64_t old = atomic_load_explicit(cell, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(cell, &old, dbl_bits(bits_dbl(old) + v),
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

brook_metrics *brook_metrics_new(void)
{
	brook_metrics *m = brook_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void brook_metrics_free(brook_metrics *m)
{
	brook_metric_family *f, *fnext;
	brook_metric *s, *snext;

	if (!m)
		return;
	for (f = m->head; f; f = fnext) {
		fnext = f->next;
		for (s = f->series_head; s; s = snext) {
			snext = s->next;
			strv_free(s->label_values, f->nlabels);
			free((void *)s->buckets);
			free(s);
		}
		strv_free(f->label_names, f->nlabels);
		free(f->name);
		free(f->help);
		free(f->bounds);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static size_t strv_len(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static bool labels_equal(const brook_metric_family *f, const char *const *names, size_t n)
{
	size_t i;

	if (f->nlabels != n)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(f->label_names[i], names[i]) != 0)
			return false;
	return true;
}

/* Called with m->lock held. */
static brook_metric_family *family_get(brook_metrics *m, brook_metric_type type, const char *name,
                                       const char *help, const char *const *label_names,
                                       const double *bounds, size_t nbounds)
{
	brook_metric_family *f;
	size_t i, nlabels = strv_len(label_names);

	for (f = m->head; f; f = f->next) {
		if (strcmp(f->name, name) != 0)
			continue;
		if (f->type != type || !labels_equal(f, label_names, nlabels)) {
			brook_error("metrics",
			            "metric %s is registered twice with different types or labels;"
			            " this is a bug in brook, please report it",
			            name);
			abort();
		}
		return f;
	}

	f = brook_calloc(1, sizeof(*f));
	f->registry = m;
	f->type = type;
	f->name = brook_strdup(name);
	f->help = brook_strdup(help ? help : "");
	f->nlabels = nlabels;
	f->label_names = brook_calloc(nlabels ? nlabels : 1, sizeof(char *));
	for (i = 0; i < nlabels; i++)
		f->label_names[i] = brook_strdup(label_names[i]);
	if (type == BROOK_METRIC_HISTOGRAM) {
		f->nbounds = nbounds;
		f->bounds = brook_calloc(nbounds ? nbounds : 1, sizeof(double));
		if (nbounds)
			memcpy(f->bounds, bounds, nbounds * sizeof(double));
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
}

brook_metric_family *brook_metrics_family(brook_metrics *m, brook_metric_type type,
                                          const char *name, const char *help,
                                          const char *const *label_names)
{
	brook_metric_family *f;

	if (type == BROOK_METRIC_HISTOGRAM)
		return brook_metrics_histogram_family(m, name, help, label_names, NULL, 0);
	pthread_mutex_lock(&m->lock);
	f = family_get(m, type, name, help, label_names, NULL, 0);
	pthread_mutex_unlock(&m->lock);
	return f;
}

brook_metric_family *brook_metrics_histogram_family(brook_metrics *m, const char *name,
                                                    const char *help,
                                                    const char *const *label_names,
                                                    const double *bounds, size_t n)
{
	brook_metric_family *f;

	if (!bounds) {
		bounds = default_bounds;
		n = sizeof(default_bounds) / sizeof(default_bounds[0]);
	}
	pthread_mutex_lock(&m->lock);
	f = family_get(m, BROOK_METRIC_HISTOGRAM, name, help, label_names, bounds, n);
	pthread_mutex_unlock(&m->lock);
	return f;
}

brook_metric *brook_metrics_series(brook_metric_family *f, const char *const *label_values)
{
	brook_metrics *m = f->registry;
	brook_metric *s;
	size_t i;

	pthread_mutex_lock(&m->lock);
	for (s = f->series_head; s; s = s->next) {
		for (i = 0; i < f->nlabels; i++) {
			const char *v = label_values[i] ? label_values[i] : "";

			if (strcmp(s->label_values[i], v) != 0)
				break;
		}
		if (i == f->nlabels) {
			pthread_mutex_unlock(&m->lock);
			return s;
		}
	}

	s = brook_calloc(1, sizeof(*s));
	s->family = f;
	s->label_values = brook_calloc(f->nlabels ? f->nlabels : 1, sizeof(char *));
	for (i = 0; i < f->nlabels; i++)
		s->label_values[i] = brook_strdup(label_values[i] ? label_values[i] : "");
	atomic_init(&s->value, dbl_bits(0.0));
	atomic_init(&s->sum, dbl_bits(0.0));
	atomic_init(&s->count, 0);
	if (f->type == BROOK_METRIC_HISTOGRAM) {
		s->buckets = brook_calloc(f->nbounds + 1, sizeof(*s->buckets));
		for (i = 0; i <= f->nbounds; i++)
			atomic_init(&s->buckets[i], 0);
	}
	if (f->series_tail)
		f->series_tail->next = s;
	else
		f->series_head = s;
	f->series_tail = s;
	pthread_mutex_unlock(&m->lock);
	return s;
}

brook_metric *brook_metrics_counter(brook_metrics *m, const char *name, const char *help)
{
	return brook_metrics_series(brook_metrics_family(m, BROOK_METRIC_COUNTER, name, help, NULL),
	                            NULL);
}

brook_metric *brook_metrics_gauge(brook_metrics *m, const char *name, const char *help)
{
	return brook_metrics_series(brook_metrics_family(m, BROOK_METRIC_GAUGE, name, help, NULL),
	                            NULL);
}

brook_metric *brook_metrics_histogram(brook_metrics *m, const char *name, const char *help)
{
	return brook_metrics_series(brook_metrics_histogram_family(m, name, help, NULL, NULL, 0),
	                            NULL);
}

void brook_metric_add(brook_metric *s, double v)
{
	/* A counter only goes up; a negative or NaN increment is dropped. */
	if (s->family->type == BROOK_METRIC_COUNTER && !(v >= 0))
		return;
	atomic_add_double(&s->value, v);
}

void brook_metric_inc(brook_metric *s)
{
	brook_metric_add(s, 1.0);
}

void brook_metric_set(brook_metric *s, double v)
{
	atomic_store_explicit(&s->value, dbl_bits(v), memory_order_relaxed);
}

void brook_metric_observe(brook_metric *s, double v)
{
	const brook_metric_family *f = s->family;
	size_t lo = 0, hi = f->nbounds;

	/* The first bucket whose upper bound is >= v; nbounds is +Inf (and NaN). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v <= f->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	if (v != v)
		lo = f->nbounds;
	atomic_fetch_add_explicit(&s->buckets[lo], 1, memory_order_relaxed);
	atomic_add_double(&s->sum, v);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

double brook_metric_value(const brook_metric *s)
{
	if (s->family->type == BROOK_METRIC_HISTOGRAM)
		return (double)atomic_load_explicit(&((brook_metric *)s)->count,
		                                    memory_order_relaxed);
	return bits_dbl(atomic_load_explicit(&((brook_metric *)s)->value, memory_order_relaxed));
}

/* ---- rendering ---- */

void brook_metrics_put_number(brook_buf *out, double v)
{
	char tmp[40];
	int prec;

	if (isnan(v)) {
		brook_buf_puts(out, "NaN");
		return;
	}
	if (isinf(v)) {
		brook_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == trunc(v) && fabs(v) < 9223372036854775808.0) {
		brook_buf_put_i64(out, (int64_t)v);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	brook_buf_puts(out, tmp);
}

static void put_escaped(brook_buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			brook_buf_puts(out, "\\\\");
		else if (*s == '\n')
			brook_buf_puts(out, "\\n");
		else if (quote && *s == '"')
			brook_buf_puts(out, "\\\"");
		else
			brook_buf_putc(out, *s);
	}
}

/* name[suffix]{labels[,le="bound"]} */
static void put_series_name(brook_buf *out, const brook_metric_family *f, const char *suffix,
                            const brook_metric *s, const double *le)
{
	size_t i;

	brook_buf_puts(out, f->name);
	if (suffix)
		brook_buf_puts(out, suffix);
	if (f->nlabels == 0 && !le)
		return;
	brook_buf_putc(out, '{');
	for (i = 0; i < f->nlabels; i++) {
		if (i)
			brook_buf_putc(out, ',');
		brook_buf_puts(out, f->label_names[i]);
		brook_buf_puts(out, "=\"");
		put_escaped(out, s->label_values[i], true);
		brook_buf_putc(out, '"');
	}
	if (le) {
		if (f->nlabels)
			brook_buf_putc(out, ',');
		brook_buf_puts(out, "le=\"");
		brook_metrics_put_number(out, *le);
		brook_buf_putc(out, '"');
	}
	brook_buf_putc(out, '}');
}

static void render_histogram(brook_buf *out, const brook_metric_family *f, brook_metric *s)
{
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i <= f->nbounds; i++) {
		double le = i < f->nbounds ? f->bounds[i] : INFINITY;

		cum += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		put_series_name(out, f, "_bucket", s, &le);
		brook_buf_putc(out, ' ');
		brook_buf_put_u64(out, cum);
		brook_buf_putc(out, '\n');
	}
	put_series_name(out, f, "_sum", s, NULL);
	brook_buf_putc(out, ' ');
	brook_metrics_put_number(out,
	                         bits_dbl(atomic_load_explicit(&s->sum, memory_order_relaxed)));
	brook_buf_putc(out, '\n');
	put_series_name(out, f, "_count", s, NULL);
	brook_buf_putc(out, ' ');
	brook_buf_put_u64(out, cum);
	brook_buf_putc(out, '\n');
}

void brook_metrics_render(brook_metrics *m, brook_buf *out)
{
	brook_metric_family *f;
	brook_metric *s;

	pthread_mutex_lock(&m->lock);
	for (f = m->head; f; f = f->next) {
		brook_buf_puts(out, "# HELP ");
		brook_buf_puts(out, f->name);
		brook_buf_putc(out, ' ');
		put_escaped(out, f->help, false);
		brook_buf_puts(out, "\n# TYPE ");
		brook_buf_puts(out, f->name);
		brook_buf_putc(out, ' ');
		brook_buf_puts(out, type_names[f->type]);
		brook_buf_putc(out, '\n');
		for (s = f->series_head; s; s = s->next) {
			if (f->type == BROOK_METRIC_HISTOGRAM) {
				render_histogram(out, f, s);
				continue;
			}
			put_series_name(out, f, NULL, s, NULL);
			brook_buf_putc(out, ' ');
			brook_metrics_put_number(
			    out, bits_dbl(atomic_load_explicit(&s->value, memory_order_relaxed)));
			brook_buf_putc(out, '\n');
		}
	}
	pthread_mutex_unlock(&m->lock);
}
