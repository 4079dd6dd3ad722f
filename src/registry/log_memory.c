/*
 * log_memory.c — the in-memory record log (log.h), for tests.
 *
 * Records live in a vector. Instead of a reader thread, apply runs synchronously under
 * the log's mutex: start() applies every record present, and once started each append
 * is applied before it returns, so records are applied exactly once and in log order,
 * and wait_applied() never has to wait. Appends before start() are only stored (a test
 * can prepare a log, then start a store on it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "registry/log.h"

typedef struct mem_record {
	char *key, *value; /* value NULL: tombstone */
	size_t klen, vlen;
} mem_record;

typedef struct mem_log {
	reg_log base;
	pthread_mutex_t mu;
	mem_record *recs;
	size_t n, cap;
	reg_apply_fn apply;
	void *arg;
	int64_t applied; /* offset of the last applied record, -1 when none */
} mem_log;

static void apply_upto(mem_log *m)
{
	while (m->apply && m->applied + 1 < (int64_t)m->n) {
		int64_t off = m->applied + 1;
		mem_record *r = &m->recs[off];
		m->apply(m->arg, off, r->key, r->klen, r->value, r->vlen);
		m->applied = off;
	}
}

static int mem_start(reg_log *l, reg_apply_fn apply, void *arg, char *err, size_t errlen)
{
	mem_log *m = (mem_log *)l;
	(void)err;
	(void)errlen;
	pthread_mutex_lock(&m->mu);
	m->apply = apply;
	m->arg = arg;
	apply_upto(m);
	pthread_mutex_unlock(&m->mu);
	return BROOK_OK;
}

static char *dup_bytes(const char *p, size_t n)
{
	char *d = brook_malloc(n + 1);
	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

static int mem_append(reg_log *l, const char *key, size_t klen, const char *value, size_t vlen,
		      int64_t *offset, char *err, size_t errlen)
{
	mem_log *m = (mem_log *)l;
	(void)err;
	(void)errlen;
	pthread_mutex_lock(&m->mu);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->recs = brook_realloc(m->recs, m->cap * sizeof *m->recs);
	}
	mem_record *r = &m->recs[m->n];
	r->key = dup_bytes(key, klen);
	r->klen = klen;
	r->value = value ? dup_bytes(value, vlen) : NULL;
	r->vlen = value ? vlen : 0;
	*offset = (int64_t)m->n;
	m->n++;
	apply_upto(m);
	pthread_mutex_unlock(&m->mu);
	return BROOK_OK;
}

static int mem_wait_applied(reg_log *l, int64_t offset, int64_t timeout_ms)
{
	mem_log *m = (mem_log *)l;
	(void)timeout_ms;
	pthread_mutex_lock(&m->mu);
	int rc = m->applied >= offset ? BROOK_OK : BROOK_AGAIN;
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static void mem_close(reg_log *l)
{
	mem_log *m = (mem_log *)l;
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->recs[i].key);
		free(m->recs[i].value);
	}
	free(m->recs);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const reg_log_ops mem_ops = {mem_start, mem_append, mem_wait_applied, mem_close};

reg_log *reg_log_memory_new(void)
{
	mem_log *m = brook_calloc(1, sizeof *m);
	m->base.ops = &mem_ops;
	pthread_mutex_init(&m->mu, NULL);
	m->applied = -1;
	return &m->base;
}
