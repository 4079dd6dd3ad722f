/*
 * metrics.h — a metrics registry rendered in the Prometheus text exposition format.
 *
 * A registry holds families (name, help, type, label names); a family holds one
 * series per distinct label-value tuple. Looking up a series takes a lock and may
 * allocate; updating it is lock-free (C11 atomics), so hot paths look a series up
 * once and keep the pointer. Series live as long as the registry.
 *
 *   brook_metrics *m = brook_metrics_new();
 *   brook_metric *in = brook_metrics_counter(m, "brook_source_users_total",
 *                                            "Users fetched.");
 *   brook_metric_add(in, 5000);
 *   const char *lbl[] = {"topic", NULL};
 *   brook_metric_family *f = brook_metrics_family(m, BROOK_METRIC_GAUGE,
 *                                "brook_lag", "Consumer lag.", lbl);
 *   brook_metric_set(brook_metrics_series(f, (const char *[]){"users", NULL}), 42);
 *
 * Histograms use fixed bucket upper bounds given at family creation (seconds by
 * convention); rendering emits _bucket{le=...}, _sum and _count.
 */
#ifndef BROOK_CORE_METRICS_H
#define BROOK_CORE_METRICS_H

#include <stddef.h>

#include "core/buf.h"

typedef struct brook_metrics brook_metrics;
typedef struct brook_metric_family brook_metric_family;
typedef struct brook_metric brook_metric;

typedef enum {
	BROOK_METRIC_COUNTER,
	BROOK_METRIC_GAUGE,
	BROOK_METRIC_HISTOGRAM,
} brook_metric_type;

brook_metrics *brook_metrics_new(void);
void brook_metrics_free(brook_metrics *m);

/* label_names: NULL-terminated, may be NULL for none. Returns the existing family when
 * the name is already registered with the same type. */
brook_metric_family *brook_metrics_family(brook_metrics *m, brook_metric_type type,
					  const char *name, const char *help,
					  const char *const *label_names);
/* For histograms: bounds ascending, n of them (+Inf is implicit). NULL: default
 * latency buckets 0.0005 .. 10 s. */
brook_metric_family *brook_metrics_histogram_family(brook_metrics *m, const char *name,
						    const char *help,
						    const char *const *label_names,
						    const double *bounds, size_t n);
/* label_values: as many as the family has label names. Values are escaped on render. */
brook_metric *brook_metrics_series(brook_metric_family *f, const char *const *label_values);

/* Shorthands for unlabelled series. */
brook_metric *brook_metrics_counter(brook_metrics *m, const char *name, const char *help);
brook_metric *brook_metrics_gauge(brook_metrics *m, const char *name, const char *help);
brook_metric *brook_metrics_histogram(brook_metrics *m, const char *name, const char *help);

void brook_metric_add(brook_metric *s, double v); /* counters: v >= 0; gauges: any */
void brook_metric_inc(brook_metric *s);
void brook_metric_set(brook_metric *s, double v); /* gauges */
void brook_metric_observe(brook_metric *s, double v); /* histograms */
double brook_metric_value(const brook_metric *s); /* counters, gauges; histograms: count */

void brook_metrics_render(brook_metrics *m, brook_buf *out);
/* Append v as a Prometheus sample value: "5000", "0.25", "+Inf", "-Inf", "NaN". */
void brook_metrics_put_number(brook_buf *out, double v);

#endif
