/*
 * producer_state.c — idempotent-producer bookkeeping (rules in producer_state.h).
 *
 * Storage: an open-addressing hash table keyed by producer id (linear probing, load
 * factor <= 1/2, no deletion). Each entry keeps its last 5 batches in a ring (head is the
 * oldest once full). Single-threaded, owned by one partition log.
 */
#include "broker/producer_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/mem.h"

#define ERR_OUT_OF_ORDER ((int16_t)45)
#define ERR_INVALID_EPOCH ((int16_t)47)

typedef struct pbatch {
	int32_t first_seq;
	int32_t last_seq;
	int64_t base_offset;
	int32_t last_delta;
} pbatch;

typedef struct producer {
	int64_t pid; /* -1: free slot */
	int16_t epoch;
	int n;
	int head;
	pbatch b[BROKER_PSTATE_BATCHES];
} producer;

struct broker_pstate {
	producer *slots;
	size_t cap; /* power of two */
	size_t count;
	int64_t max_pid;
};

static void table_init(broker_pstate *ps, size_t cap)
{
	ps->slots = brook_malloc(cap * sizeof(producer));
	for (size_t i = 0; i < cap; i++)
		ps->slots[i].pid = -1;
	ps->cap = cap;
	ps->count = 0;
}

broker_pstate *broker_pstate_new(void)
{
	broker_pstate *ps = brook_calloc(1, sizeof(*ps));
	table_init(ps, 16);
	ps->max_pid = -1;
	return ps;
}

void broker_pstate_free(broker_pstate *ps)
{
	if (!ps)
		return;
	free(ps->slots);
	free(ps);
}

void broker_pstate_clear(broker_pstate *ps)
{
	free(ps->slots);
	table_init(ps, 16);
	ps->max_pid = -1;
}

static size_t hash_pid(int64_t pid)
{
	uint64_t x = (uint64_t)pid * 0x9E3779B97F4A7C15ull;
	return (size_t)(x ^ (x >> 29));
}

static producer *find(const broker_pstate *ps, int64_t pid)
{
	size_t mask = ps->cap - 1;
	for (size_t i = hash_pid(pid) & mask;; i = (i + 1) & mask) {
		if (ps->slots[i].pid == pid)
			return &ps->slots[i];
		if (ps->slots[i].pid == -1)
			return NULL;
	}
}

static producer *insert(broker_pstate *ps, int64_t pid);

static void grow(broker_pstate *ps)
{
	producer *old = ps->slots;
	size_t oldcap = ps->cap;
	table_init(ps, oldcap * 2);
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].pid >= 0)
			*insert(ps, old[i].pid) = old[i];
	}
	free(old);
}

static producer *insert(broker_pstate *ps, int64_t pid)
{
	producer *p = find(ps, pid);
	if (p)
		return p;
	if ((ps->count + 1) * 2 > ps->cap)
		grow(ps);
	size_t mask = ps->cap - 1;
	size_t i = hash_pid(pid) & mask;
	while (ps->slots[i].pid != -1)
		i = (i + 1) & mask;
	p = &ps->slots[i];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->epoch = -1;
	ps->count++;
	if (pid > ps->max_pid)
		ps->max_pid = pid;
	return p;
}

int32_t broker_pstate_last_seq(int32_t base_seq, int32_t last_offset_delta)
{
	if (base_seq > INT32_MAX - last_offset_delta)
		return last_offset_delta - (INT32_MAX - base_seq) - 1;
	return base_seq + last_offset_delta;
}

static const pbatch *newest(const producer *p)
{
	if (p->n == 0)
		return NULL;
	int i = (p->head + p->n - 1) % BROKER_PSTATE_BATCHES;
	return &p->b[i];
}

int16_t broker_pstate_check(const broker_pstate *ps, const kafka_batch_hdr *h,
			    int64_t *dup_offset)
{
	*dup_offset = -1;
	if (h->producer_id < 0 || h->base_sequence < 0)
		return 0;
	const producer *p = find(ps, h->producer_id);
	if (!p || p->epoch < 0)
		return 0;
	if (h->producer_epoch < p->epoch)
		return ERR_INVALID_EPOCH;
	int32_t first = h->base_sequence;
	if (h->producer_epoch > p->epoch)
		return first == 0 ? 0 : ERR_OUT_OF_ORDER;
	int32_t last = broker_pstate_last_seq(first, h->last_offset_delta);
	for (int k = 0; k < p->n; k++) {
		const pbatch *b = &p->b[(p->head + k) % BROKER_PSTATE_BATCHES];
		if (b->first_seq == first && b->last_seq == last) {
			*dup_offset = b->base_offset;
			return 0;
		}
	}
	const pbatch *nb = newest(p);
	if (!nb)
		return 0;
	int32_t expect = nb->last_seq == INT32_MAX ? 0 : nb->last_seq + 1;
	return first == expect ? 0 : ERR_OUT_OF_ORDER;
}

void broker_pstate_update(broker_pstate *ps, const kafka_batch_hdr *h)
{
	if (h->producer_id < 0)
		return;
	producer *p = insert(ps, h->producer_id);
	if (h->producer_epoch != p->epoch) {
		p->epoch = h->producer_epoch;
		p->n = 0;
		p->head = 0;
	}
	if (h->base_sequence < 0)
		return;
	pbatch nb = {h->base_sequence,
		     broker_pstate_last_seq(h->base_sequence, h->last_offset_delta),
		     h->base_offset, h->last_offset_delta};
	if (p->n < BROKER_PSTATE_BATCHES) {
		p->b[(p->head + p->n) % BROKER_PSTATE_BATCHES] = nb;
		p->n++;
	} else {
		p->b[p->head] = nb;
		p->head = (p->head + 1) % BROKER_PSTATE_BATCHES;
	}
}

int16_t broker_pstate_epoch(const broker_pstate *ps, int64_t producer_id)
{
	const producer *p = find(ps, producer_id);
	return p ? p->epoch : -1;
}

int64_t broker_pstate_max_pid(const broker_pstate *ps)
{
	return ps->max_pid;
}

int broker_pstate_count(const broker_pstate *ps)
{
	return (int)ps->count;
}

/* ---- snapshots ---- */

static const char snap_magic[4] = {'B', 'P', 'S', '1'};

int broker_pstate_save(const broker_pstate *ps, const char *path, int64_t offset)
{
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_append(&b, snap_magic, 4);
	brook_buf_put_be64(&b, (uint64_t)offset);
	brook_buf_put_be32(&b, (uint32_t)ps->count);
	for (size_t i = 0; i < ps->cap; i++) {
		const producer *p = &ps->slots[i];
		if (p->pid < 0)
			continue;
		brook_buf_put_be64(&b, (uint64_t)p->pid);
		brook_buf_put_be16(&b, (uint16_t)p->epoch);
		brook_buf_putc(&b, (char)p->n);
		for (int k = 0; k < p->n; k++) {
			const pbatch *x = &p->b[(p->head + k) % BROKER_PSTATE_BATCHES];
			brook_buf_put_be32(&b, (uint32_t)x->first_seq);
			brook_buf_put_be32(&b, (uint32_t)x->last_seq);
			brook_buf_put_be64(&b, (uint64_t)x->base_offset);
			brook_buf_put_be32(&b, (uint32_t)x->last_delta);
		}
	}
	brook_buf_put_be32(&b, brook_crc32c(0, b.data, b.len));
	int rc = brook_file_write_atomic(path, b.data, b.len);
	brook_buf_release(&b);
	return rc;
}

int broker_pstate_load(broker_pstate *ps, const char *path, int64_t *offset)
{
	broker_pstate_clear(ps);
	brook_buf b = BROOK_BUF_INIT;
	if (brook_file_read(path, 64u << 20, &b) != BROOK_OK) {
		brook_buf_release(&b);
		return BROOK_ERR;
	}
	const uint8_t *p = (const uint8_t *)b.data;
	size_t n = b.len;
	int rc = BROOK_ERR;
	if (n < 20 || memcmp(p, snap_magic, 4) != 0 ||
	    brook_crc32c(0, p, n - 4) != kafka_be32(p + n - 4))
		goto out;
	n -= 4;
	*offset = (int64_t)kafka_be64(p + 4);
	uint32_t count = kafka_be32(p + 12);
	size_t pos = 16;
	for (uint32_t i = 0; i < count; i++) {
		if (n - pos < 11)
			goto bad;
		int64_t pid = (int64_t)kafka_be64(p + pos);
		int16_t epoch = (int16_t)kafka_be16(p + pos + 8);
		int nb = p[pos + 10];
		pos += 11;
		if (pid < 0 || nb > BROKER_PSTATE_BATCHES || n - pos < (size_t)nb * 20)
			goto bad;
		producer *pr = insert(ps, pid);
		pr->epoch = epoch;
		pr->n = nb;
		pr->head = 0;
		for (int k = 0; k < nb; k++, pos += 20) {
			pr->b[k].first_seq = (int32_t)kafka_be32(p + pos);
			pr->b[k].last_seq = (int32_t)kafka_be32(p + pos + 4);
			pr->b[k].base_offset = (int64_t)kafka_be64(p + pos + 8);
			pr->b[k].last_delta = (int32_t)kafka_be32(p + pos + 16);
		}
	}
	if (pos == n)
		rc = BROOK_OK;
bad:
	if (rc != BROOK_OK)
		broker_pstate_clear(ps);
out:
	brook_buf_release(&b);
	return rc;
}
