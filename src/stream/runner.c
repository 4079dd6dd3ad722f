/*
 * runner.c — one stream job's loop (runner.h has the protocol).
 */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/schema.h"
#include "core/arena.h"
#include "core/jdoc.h"
#include "core/err.h"
#include "core/kconf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "stream/runner.h"
#include "stream/sink.h"

#define COMP "stream"
#define IDLE_POLL_MS 200
#define LAG_EVERY_MS 1000
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 5000
#define DLQ_FLUSH_MS 10000
#define QUEUED_MIN 10000 /* librdkafka queued.min.messages: prefetch a few batches */
#define QUEUED_MAX_KB "16384" /* and at most 16 MB of them */
#define NUDGE_TIMEOUT_MS 100

enum { REC_ROW, REC_FILTERED, REC_DEAD };

/* Where a dead letter failed: its __connect.errors.stage header and metric label. */
enum { STAGE_DECODE, STAGE_MAP, STAGE_SINK, N_STAGES };
static const char *const stage_name[N_STAGES] = {"DECODE", "MAP", "SINK"};

/* One decode/map thread: its JSON parser, and what it maps now: a share of a batch,
 * into that batch's arena for this mapper. */
typedef struct mapper {
	struct stream_runner *r;
	brook_jdoc_parser *jp;
	cql_stmt *st; /* binds and packs the rows it maps (stream_sink_pack) */
	struct batch *b;
	brook_arena *arena;
	size_t from, to; /* the records of b it maps */
	int rc;          /* BROOK_OK, or BROOK_AGAIN: stopped while the registry was away */
	pthread_t thread;
} mapper;

typedef struct rec {
	rd_kafka_message_t *m;
	const brook_jnode *outer; /* the decoded value (JSON or Avro), in the mapper's arena */
	const brook_jnode *doc;	  /* the mapped document (outer, or the payload), likewise */
	stream_row row;		  /* its values, and them packed for the sink, likewise */
	int64_t event_ms;
	int state;
	int stage; /* dead letters: STAGE_* */
	char *reason;
	int dlq; /* delivery: 0 pending, 1 done, -1 failed */
} rec;

/* A micro-batch: its records, and one arena per mapper that their documents and values
 * live in until it is cleared. The runner has two: while one is written (on the writer
 * thread), the job's thread collects and maps the other. */
typedef struct batch {
	struct stream_runner *r;
	rec *recs;
	size_t n, cap;
	brook_arena *arenas;    /* n_mappers of them */
	bool revoked;           /* its partitions were revoked: do not commit it */
	int64_t t0, t_mapped, t_written;
	int rc;                 /* the write's: BROOK_OK, BROOK_AGAIN (stopping), BROOK_ERR */
	pthread_t writer;
	bool threaded;          /* written on the writer thread (else inline: no thread) */
} batch;

/* A partition this member owns or owned: where it is, for lag and commits. */
typedef struct part {
	char *topic;
	int32_t partition;
	int64_t next; /* the offset after the last one processed; -1 unknown */
	brook_metric *lag;
} part;

struct stream_runner {
	const stream_job *job;
	const stream_env *env;
	rd_kafka_t *cons, *dlq;
	rd_kafka_queue_t *cq; /* the consumer queue (to read its length) */
	avro_schema *reader;
	stream_sink *sink;
	pthread_t thread;
	bool revoked; /* set by the rebalance callback, on the runner's own thread */
	bool told_missing; /* logged that a topic does not exist yet */

	batch b[2];
	batch *flight; /* the batch being written, or NULL */
	mapper *mappers; /* env->threads of them; mapper 0 runs on the job's thread */
	int n_mappers;

	part *parts;
	size_t n_parts;

	brook_metric *m_in, *m_out, *m_filtered, *m_up;
	brook_metric *m_dead[N_STAGES];
	stream_sink_metrics m_sink;
	brook_metric *m_batch, *m_e2e;
	brook_metric_family *f_lag;
};

static bool stopping(const stream_runner *r)
{
	return atomic_load(r->env->stop);
}

static int64_t next_backoff(int64_t ms)
{
	return ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* Sleeps ms in short steps; false when a stop came. */
static bool nap(const stream_runner *r, int64_t ms)
{
	for (int64_t t = 0; t < ms && !stopping(r); t += 50)
		brook_sleep_ms(50);
	return !stopping(r);
}

/* ---- partitions ------------------------------------------------------------------- */

static part *part_get(stream_runner *r, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < r->n_parts; i++)
		if (r->parts[i].partition == partition && !strcmp(r->parts[i].topic, topic))
			return &r->parts[i];
	r->parts = brook_realloc(r->parts, (r->n_parts + 1) * sizeof *r->parts);
	part *p = &r->parts[r->n_parts++];
	char pn[16];
	snprintf(pn, sizeof pn, "%d", (int)partition);
	p->topic = brook_strdup(topic);
	p->partition = partition;
	p->next = -1;
	p->lag = brook_metrics_series(r->f_lag, (const char *const[]){r->job->name, topic, pn, NULL});
	return p;
}

/* Lag of every partition this member owns: high watermark − next offset to process. */
static void update_lag(stream_runner *r)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	for (size_t i = 0; i < r->n_parts; i++)
		brook_metric_set(r->parts[i].lag, 0);
	if (rd_kafka_assignment(r->cons, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a)
		return;
	rd_kafka_position(r->cons, a);
	for (int i = 0; i < a->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &a->elems[i];
		int64_t lo, hi;
		if (rd_kafka_get_watermark_offsets(r->cons, tp->topic, tp->partition, &lo, &hi) !=
			    RD_KAFKA_RESP_ERR_NO_ERROR ||
		    hi < 0)
			continue;
		part *p = part_get(r, tp->topic, tp->partition);
		int64_t next = p->next >= 0 ? p->next : tp->offset >= 0 ? tp->offset : lo;
		brook_metric_set(p->lag, (double)(hi > next ? hi - next : 0));
	}
	rd_kafka_topic_partition_list_destroy(a);
}

/* ---- batch bookkeeping -------------------------------------------------------------- */

static void batch_clear(stream_runner *r, batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		rec *x = &b->recs[i];
		free(x->reason);
		rd_kafka_message_destroy(x->m);
	}
	b->n = 0;
	b->revoked = false;
	for (int i = 0; i < r->n_mappers; i++)
		brook_arena_reset(&b->arenas[i]);
}

static void batch_add(batch *b, rd_kafka_message_t *m)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->recs = brook_realloc(b->recs, b->cap * sizeof *b->recs);
	}
	rec *x = &b->recs[b->n++];
	memset(x, 0, sizeof *x);
	x->m = m;
}

static void dead(rec *x, int stage, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void dead(rec *x, int stage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	x->state = REC_DEAD;
	x->stage = stage;
	free(x->reason);
	x->reason = brook_strdup(msg);
}

/* ---- Kafka callbacks ----------------------------------------------------------------- */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	stream_runner *r = opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		brook_info(COMP, "job %s: assigned %d partition(s)", r->job->name, parts->cnt);
		for (int i = 0; i < parts->cnt; i++)
			part_get(r, parts->elems[i].topic, parts->elems[i].partition)->next = -1;
		rd_kafka_assign(rk, parts);
	} else {
		brook_info(COMP, "job %s: %d partition(s) revoked (rebalance)", r->job->name,
			   parts->cnt);
		r->revoked = true;
		rd_kafka_assign(rk, NULL);
	}
}

static void on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	rec *x = m->_private;
	if (x)
		x->dlq = m->err ? -1 : 1;
	if (m->err)
		brook_warn(COMP, "dead letter not delivered to %s: %s", rd_kafka_topic_name(m->rkt),
			   rd_kafka_err2str(m->err));
}

/* ---- collect -------------------------------------------------------------------------- */

/* Fills b; returns when it is full, its trigger passed, or nothing came for a while
 * (then b may be empty). */
static void collect(stream_runner *r, batch *b)
{
	const stream_job *j = r->job;
	int64_t first = -1;
	while (!stopping(r) && (int64_t)b->n < j->max_batch_records) {
		int timeout = IDLE_POLL_MS;
		if (b->n) {
			int64_t left = first + j->trigger_ms - brook_mono_ms();
			timeout = j->trigger_ms == 0 || left <= 0 ? 0 : (int)left;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->cons, timeout);
		if (r->revoked) {
			/* The partitions' next owners start from the committed offsets; the batch
			 * being written is written (the same rows again, at worst) but not
			 * committed. */
			batch_clear(r, b);
			if (r->flight)
				r->flight->revoked = true;
			r->revoked = false;
			first = -1;
		}
		if (!m) {
			if (b->n == 0 || timeout == 0)
				return;
			continue;
		}
		if (m->err) {
			/* A topic not created yet (nothing produced to it) is normal at first. */
			if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && !r->told_missing) {
				brook_info(COMP, "job %s: waiting for the topic to exist (%s)", j->name,
					   rd_kafka_message_errstr(m));
				r->told_missing = true;
			} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
				   m->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
				brook_warn(COMP, "job %s: consumer: %s", j->name,
					   rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (!b->n)
			first = brook_mono_ms();
		batch_add(b, m);
	}
}

/* librdkafka 2.0 stops fetching a partition once queued.min.messages records wait and,
 * with nothing else to do, looks at its queue again only a second later (pausing and
 * resuming the partitions waits that second too; 2.1's fetch.queue.backoff.ms does not
 * exist yet). Any request to the leader wakes its broker thread up, which then sees the
 * drained queue and fetches at once: a watermark query is the cheapest such request.
 * Only a job that is catching up (its batch filled up) can have hit the threshold. */
static void nudge_fetcher(stream_runner *r, const batch *b)
{
	if ((int64_t)b->n < r->job->max_batch_records || rd_kafka_queue_length(r->cq) >= QUEUED_MIN)
		return;
	rd_kafka_topic_partition_list_t *a = NULL;
	if (rd_kafka_assignment(r->cons, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || !a)
		return;
	for (int i = 0; i < a->cnt; i++) {
		int64_t lo, hi;
		rd_kafka_query_watermark_offsets(r->cons, a->elems[i].topic, a->elems[i].partition,
						 &lo, &hi, NUDGE_TIMEOUT_MS);
	}
	rd_kafka_topic_partition_list_destroy(a);
}

/* ---- process ---------------------------------------------------------------------------- */

/* Decode one record's value into x->outer, in the mapper's arena. BROOK_AGAIN: the
 * registry is unreachable (retry later); BROOK_ERR: x is a dead letter. */
static int decode(mapper *mp, rec *x)
{
	stream_runner *r = mp->r;
	const rd_kafka_message_t *m = x->m;
	if (!m->payload) {
		dead(x, STAGE_DECODE, "the record has no value (a tombstone)");
		return BROOK_ERR;
	}
	if (r->job->format == STREAM_FMT_JSON) {
		char why[256];
		x->outer = brook_jdoc_parser_parse(mp->jp, m->payload, m->len, mp->arena, why,
						   sizeof why);
		if (!x->outer) {
			dead(x, STAGE_DECODE, "value is not JSON: %s", why);
			return BROOK_ERR;
		}
		return BROOK_OK;
	}
	sr_error e;
	if (sr_deserialize_jdoc(r->env->registry, m->payload, m->len, r->reader, mp->arena,
				&x->outer, NULL, &e) == BROOK_OK)
		return BROOK_OK;
	/* The registry not answering, or failing, is no fault of the record's. */
	if (e.unreachable || e.http_status >= 500 || e.http_status == 429) {
		brook_warn(COMP, "job %s: %s; retrying", r->job->name, e.message);
		return BROOK_AGAIN;
	}
	dead(x, STAGE_DECODE, "%s", e.message);
	return BROOK_ERR;
}

static void map_record(mapper *mp, rec *x)
{
	stream_runner *r = mp->r;
	const stream_job *j = r->job;
	char why[512];
	expr_value v;

	const brook_jnode *outer = x->outer;
	x->event_ms = -1;
	if (j->event_time) {
		if (expr_eval_node(j->event_time, outer, mp->arena, &v, why, sizeof why) ==
		    BROOK_OK) {
			if (v.type == EXPR_TIMESTAMP)
				x->event_ms = v.u.ts_ms;
			else if (v.type == EXPR_INT)
				x->event_ms = v.u.i;
		}
	}
	if (x->event_ms < 0) {
		rd_kafka_timestamp_type_t tt;
		int64_t ts = rd_kafka_message_timestamp(x->m, &tt);
		x->event_ms = ts >= 0 ? ts : -1;
	}
	x->doc = outer;
	if (j->payload) {
		const brook_jnode *p = brook_jnode_get(outer, j->payload, strlen(j->payload));
		if (p && p->type == BROOK_J_STRING) {
			x->doc = brook_jdoc_parser_parse_proj(mp->jp, p->u.s.p, p->u.s.n, j->proj,
							      mp->arena, why, sizeof why);
			if (!x->doc) {
				dead(x, STAGE_DECODE, "%s: not JSON: %s", j->payload, why);
				return;
			}
		} else if (!p || p->type != BROOK_J_OBJECT) {
			dead(x, STAGE_DECODE, "the value has no %s field holding a JSON document",
			     j->payload);
			return;
		} else {
			x->doc = p;
		}
	}
	if (j->where) {
		if (expr_eval_node(j->where, x->doc, mp->arena, &v, why, sizeof why) != BROOK_OK) {
			dead(x, STAGE_MAP, "where: %s", why);
			return;
		}
		if (v.type != EXPR_BOOL || !v.u.b) {
			x->state = REC_FILTERED;
			return;
		}
	}
	expr_value *vals = brook_arena_alloc(mp->arena, j->n_cols * sizeof *vals);
	for (size_t c = 0; c < j->n_cols; c++) {
		if (expr_eval_node(j->cols[c].e, x->doc, mp->arena, &vals[c], why, sizeof why) !=
		    BROOK_OK) {
			dead(x, STAGE_MAP, "map.%s: %s", j->cols[c].name, why);
			return;
		}
	}
	for (size_t k = 0; k < j->n_pk; k++)
		if (vals[j->pk[k]].type == EXPR_NULL) {
			dead(x, STAGE_MAP, "map.%s: null in the primary key (%s)",
			     j->cols[j->pk[k]].name, j->cols[j->pk[k]].text);
			return;
		}
	x->row.vals = vals;
	if (mp->st && stream_sink_pack(mp->st, j, vals, mp->arena, &x->row, why, sizeof why) !=
			  BROOK_OK) {
		dead(x, STAGE_SINK, "%s", why);
		return;
	}
	x->state = REC_ROW;
}

/* Produce every dead letter of b and wait for their delivery. BROOK_AGAIN on stop. */
static int send_dead_letters(stream_runner *r, batch *b)
{
	const stream_job *j = r->job;
	int64_t backoff = BACKOFF_FIRST_MS;
	for (;;) {
		size_t pending = 0;
		for (size_t i = 0; i < b->n; i++) {
			rec *x = &b->recs[i];
			if (x->state != REC_DEAD || x->dlq == 1)
				continue;
			x->dlq = 0;
			char part_s[16], off_s[24];
			snprintf(part_s, sizeof part_s, "%d", (int)x->m->partition);
			snprintf(off_s, sizeof off_s, "%lld", (long long)x->m->offset);
			rd_kafka_headers_t *h = rd_kafka_headers_new(6);
			rd_kafka_header_add(h, "__connect.errors.topic", -1,
					    rd_kafka_topic_name(x->m->rkt), -1);
			rd_kafka_header_add(h, "__connect.errors.partition", -1, part_s, -1);
			rd_kafka_header_add(h, "__connect.errors.offset", -1, off_s, -1);
			rd_kafka_header_add(h, "__connect.errors.stage", -1, stage_name[x->stage], -1);
			rd_kafka_header_add(h, "__connect.errors.connector.name", -1, j->name, -1);
			rd_kafka_header_add(h, "__connect.errors.exception.message", -1, x->reason,
					    -1);
			rd_kafka_resp_err_t e = rd_kafka_producev(
				r->dlq, RD_KAFKA_V_TOPIC(j->dlq_topic),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_KEY(x->m->key, x->m->key_len),
				RD_KAFKA_V_VALUE(x->m->payload, x->m->len), RD_KAFKA_V_HEADERS(h),
				RD_KAFKA_V_OPAQUE(x), RD_KAFKA_V_END);
			if (e) {
				rd_kafka_headers_destroy(h);
				x->dlq = -1;
				brook_warn(COMP, "job %s: dead letter to %s: %s", j->name, j->dlq_topic,
					   rd_kafka_err2str(e));
			}
			pending++;
		}
		if (!pending)
			return BROOK_OK;
		rd_kafka_flush(r->dlq, DLQ_FLUSH_MS);
		size_t failed = 0;
		for (size_t i = 0; i < b->n; i++)
			if (b->recs[i].state == REC_DEAD && b->recs[i].dlq != 1)
				failed++;
		if (!failed)
			return BROOK_OK;
		brook_warn(COMP, "job %s: %zu dead letter(s) not delivered to %s; retrying in %lld ms",
			   j->name, failed, j->dlq_topic, (long long)backoff);
		if (!nap(r, backoff))
			return BROOK_AGAIN;
		backoff = next_backoff(backoff);
	}
}

static void commit(stream_runner *r, const batch *b)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
	for (size_t i = 0; i < b->n; i++) {
		const rd_kafka_message_t *m = b->recs[i].m;
		const char *t = rd_kafka_topic_name(m->rkt);
		rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(l, t, m->partition);
		if (!tp)
			tp = rd_kafka_topic_partition_list_add(l, t, m->partition);
		if (m->offset + 1 > tp->offset)
			tp->offset = m->offset + 1;
	}
	for (int i = 0; i < l->cnt; i++)
		part_get(r, l->elems[i].topic, l->elems[i].partition)->next = l->elems[i].offset;
	rd_kafka_resp_err_t e = rd_kafka_commit(r->cons, l, 1 /* async */);
	if (e)
		brook_warn(COMP, "job %s: commit: %s (the records will be processed again)",
			   r->job->name, rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_destroy(l);
}

/* Decode and map the mapper's share of the batch. A registry that does not answer holds
 * it (back-off) until it answers or the job stops (rc BROOK_AGAIN). */
static void *mapper_main(void *arg)
{
	pthread_setname_np(pthread_self(), "stream-map");
	mapper *mp = arg;
	stream_runner *r = mp->r;
	int64_t backoff = BACKOFF_FIRST_MS;
	mp->rc = BROOK_OK;
	for (size_t i = mp->from; i < mp->to; i++) {
		rec *x = &mp->b->recs[i];
		int rc;
		while ((rc = decode(mp, x)) == BROOK_AGAIN) {
			if (!nap(r, backoff)) {
				mp->rc = BROOK_AGAIN;
				return NULL;
			}
			backoff = next_backoff(backoff);
		}
		if (rc == BROOK_OK)
			map_record(mp, x);
	}
	return NULL;
}

/* Decodes and maps b on n_mappers threads, each a contiguous share. BROOK_AGAIN: stopped
 * while the registry was away. */
static int map_batch(stream_runner *r, batch *b)
{
	b->t0 = brook_mono_ms();
	int nm = b->n < 64 ? 1 : r->n_mappers;
	for (int w = 0; w < nm; w++) {
		mapper *mp = &r->mappers[w];
		mp->b = b;
		mp->arena = &b->arenas[w];
		mp->from = b->n * (size_t)w / (size_t)nm;
		mp->to = b->n * (size_t)(w + 1) / (size_t)nm;
	}
	int started = 1;
	for (int w = 1; w < nm; w++, started++)
		if (pthread_create(&r->mappers[w].thread, NULL, mapper_main, &r->mappers[w]) != 0)
			break;
	for (int w = started; w < nm; w++) /* no thread: mapper 0 does the rest */
		r->mappers[0].to = r->mappers[w].to;
	mapper_main(&r->mappers[0]);
	int mrc = r->mappers[0].rc;
	for (int w = 1; w < started; w++) {
		pthread_join(r->mappers[w].thread, NULL);
		if (r->mappers[w].rc != BROOK_OK)
			mrc = r->mappers[w].rc;
	}
	b->t_mapped = brook_mono_ms();
	return mrc == BROOK_OK ? BROOK_OK : BROOK_AGAIN;
}

/* Writes b's rows and sends its dead letters (on the writer thread). BROOK_OK: every
 * record is stored, filtered or dead-lettered; BROOK_AGAIN: stopping, nothing may be
 * assumed; BROOK_ERR: a dead letter with no dead-letter topic, the job must stop. */
static int write_batch(stream_runner *r, batch *b)
{
	const stream_job *j = r->job;
	size_t n_dead = 0, n_rows = 0, n_filtered = 0;
	for (size_t i = 0; i < b->n; i++) {
		n_rows += b->recs[i].state == REC_ROW;
		n_filtered += b->recs[i].state == REC_FILTERED;
	}
	brook_metric_add(r->m_in, (double)b->n);

	stream_row *rows = brook_calloc(n_rows ? n_rows : 1, sizeof *rows);
	size_t *which = brook_calloc(n_rows ? n_rows : 1, sizeof *which);
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->recs[i].state == REC_ROW) {
			rows[k] = b->recs[i].row;
			which[k++] = i;
		}
	int rc = stream_sink_write(r->sink, rows, n_rows, r->env->stop);
	b->t_written = brook_mono_ms();
	if (rc == BROOK_OK) {
		int64_t now = brook_now_ms();
		for (size_t q = 0; q < n_rows; q++) {
			rec *x = &b->recs[which[q]];
			if (rows[q].reason) {
				dead(x, STAGE_SINK, "%s", rows[q].reason);
				continue;
			}
			brook_metric_inc(r->m_out);
			if (x->event_ms > 0 && now >= x->event_ms)
				brook_metric_observe(r->m_e2e, (double)(now - x->event_ms) / 1000.0);
		}
	}
	for (size_t q = 0; q < n_rows; q++)
		free(rows[q].reason);
	free(rows);
	free(which);
	if (rc != BROOK_OK)
		return BROOK_AGAIN;

	for (size_t i = 0; i < b->n; i++)
		if (b->recs[i].state == REC_DEAD)
			n_dead++;
	if (n_dead) {
		for (size_t i = 0; i < b->n; i++) {
			rec *x = &b->recs[i];
			if (x->state != REC_DEAD)
				continue;
			brook_warn(COMP, "job %s: %s [%d] offset %lld: %s: %s", j->name,
				   rd_kafka_topic_name(x->m->rkt), (int)x->m->partition,
				   (long long)x->m->offset, stage_name[x->stage], x->reason);
		}
		if (!j->dlq_topic) {
			brook_error(COMP,
				    "job %s: stopped: a record cannot be processed and the job has "
				    "no dead_letter_topic (nothing is skipped; fix the record or "
				    "configure a dead-letter topic)",
				    j->name);
			return BROOK_ERR;
		}
		if (send_dead_letters(r, b) != BROOK_OK)
			return BROOK_AGAIN;
		for (size_t i = 0; i < b->n; i++) {
			rec *x = &b->recs[i];
			if (x->state == REC_DEAD)
				brook_metric_inc(r->m_dead[x->stage]);
		}
	}
	brook_metric_add(r->m_filtered, (double)n_filtered);
	return BROOK_OK;
}

static void *writer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "stream-write");
	batch *b = arg;
	b->rc = write_batch(b->r, b);
	return NULL;
}

/* Starts writing b (on the writer thread; inline when no thread can be made). */
static void start_write(stream_runner *r, batch *b)
{
	r->flight = b;
	b->threaded = pthread_create(&b->writer, NULL, writer_main, b) == 0;
	if (!b->threaded)
		writer_main(b);
}

/* Waits for the batch in flight; commits it when it was written and its partitions are
 * still ours. Returns the write's rc. */
static int finish_write(stream_runner *r)
{
	batch *b = r->flight;
	if (b->threaded)
		pthread_join(b->writer, NULL);
	r->flight = NULL;
	int rc = b->rc;
	if (rc == BROOK_OK) {
		if (!b->revoked)
			commit(r, b);
		int64_t t_end = brook_mono_ms();
		brook_metric_observe(r->m_batch, (double)(t_end - b->t0) / 1000.0);
		brook_debug(
		    COMP,
		    "job %s: batch of %zu: decode+map %lld ms, write %lld ms (with the next "
		    "batch's collect and map), commit %lld ms later",
		    r->job->name, b->n, (long long)(b->t_mapped - b->t0),
		    (long long)(b->t_written - b->t_mapped), (long long)(t_end - b->t_written));
	}
	batch_clear(r, b);
	return rc;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* Two micro-batches in a pipeline: while one is written (sink, dead letters), the next is
 * collected and mapped; it is committed once written, in order. */
static void *runner_main(void *arg)
{
	pthread_setname_np(pthread_self(), "stream-job");
	stream_runner *r = arg;
	const stream_job *j = r->job;
	int64_t backoff = BACKOFF_FIRST_MS, last_lag = 0, last_warn = 0;
	char err[1024];
	batch *cur = &r->b[0];

	while (!stopping(r)) {
		if (!r->sink) {
			r->sink = stream_sink_open(j, r->env->cql, &r->m_sink, err, sizeof err);
			if (!r->sink) {
				if (brook_mono_ms() - last_warn > 30000 || backoff == BACKOFF_FIRST_MS) {
					brook_warn(COMP, "job %s: sink %s.%s not ready: %s; retrying",
						   j->name, j->keyspace, j->table, err);
					last_warn = brook_mono_ms();
				}
				nap(r, backoff);
				backoff = next_backoff(backoff);
				continue;
			}
			brook_info(COMP, "job %s: writing to %s.%s", j->name, j->keyspace, j->table);
			for (int i = 0; i < r->n_mappers; i++)
				r->mappers[i].st = stream_sink_stmt(r->sink);
			backoff = BACKOFF_FIRST_MS;
		}
		collect(r, cur);
		nudge_fetcher(r, cur);
		int mrc = cur->n ? map_batch(r, cur) : BROOK_OK;
		if (r->flight && finish_write(r) == BROOK_ERR) {
			brook_metric_set(r->m_up, 0);
			break;
		}
		if (mrc != BROOK_OK) { /* stopping */
			batch_clear(r, cur);
			continue;
		}
		if (cur->n) {
			start_write(r, cur);
			cur = cur == &r->b[0] ? &r->b[1] : &r->b[0];
		}
		if (brook_mono_ms() - last_lag >= LAG_EVERY_MS) {
			update_lag(r);
			last_lag = brook_mono_ms();
		}
	}
	if (r->flight)
		finish_write(r);
	batch_clear(r, cur);
	return NULL;
}

static void mappers_free(stream_runner *r)
{
	for (int i = 0; i < r->n_mappers; i++) {
		brook_jdoc_parser_free(r->mappers[i].jp);
		cql_stmt_free(r->mappers[i].st);
	}
	free(r->mappers);
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < r->n_mappers; i++)
			brook_arena_release(&r->b[k].arenas[i]);
		free(r->b[k].arenas);
		free(r->b[k].recs);
	}
}

stream_runner *stream_runner_start(const stream_job *j, const stream_env *env, char *err,
				   size_t errlen)
{
	stream_runner *r = brook_calloc(1, sizeof *r);
	r->job = j;
	r->env = env;
	r->n_mappers = env->threads > 0 ? env->threads : 1;
	r->mappers = brook_calloc((size_t)r->n_mappers, sizeof *r->mappers);
	for (int i = 0; i < r->n_mappers; i++) {
		r->mappers[i].r = r;
		r->mappers[i].jp = brook_jdoc_parser_new();
	}
	for (int k = 0; k < 2; k++) { /* zeroed arenas are empty ones */
		r->b[k].r = r;
		r->b[k].arenas = brook_calloc((size_t)r->n_mappers, sizeof *r->b[k].arenas);
	}
	char client_id[128], session[24], heartbeat[24], topics_what[160];
	snprintf(client_id, sizeof client_id, "brook-stream-%s", j->name);
	snprintf(session, sizeof session, "%lld", (long long)env->session_timeout_ms);
	snprintf(heartbeat, sizeof heartbeat, "%lld",
		 (long long)(env->session_timeout_ms / 4 > 100 ? env->session_timeout_ms / 4 : 100));
	if (j->reader_schema) {
		r->reader = avro_schema_parse(j->reader_schema, strlen(j->reader_schema), err,
					      errlen);
		if (!r->reader) {
			mappers_free(r);
			free(r);
			return NULL;
		}
	}

	brook_metrics *m = env->metrics;
	const char *const lbl[] = {"job", NULL};
	const char *const stage_lbl[] = {"job", "stage", NULL};
	const char *const jv[] = {j->name, NULL};
	r->m_in = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_stream_records_in_total",
				     "Records consumed and processed.", lbl),
		jv);
	r->m_out = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_stream_records_out_total",
				     "Rows acknowledged by the sink.", lbl),
		jv);
	r->m_filtered = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_stream_records_filtered_total",
				     "Records the where filter left out.", lbl),
		jv);
	brook_metric_family *fd = brook_metrics_family(
		m, BROOK_METRIC_COUNTER, "brook_stream_records_dead_lettered_total",
		"Records sent to the dead-letter topic, by the stage that failed.", stage_lbl);
	for (int st = 0; st < N_STAGES; st++)
		r->m_dead[st] =
			brook_metrics_series(fd, (const char *const[]){j->name, stage_name[st], NULL});
	r->m_sink.batches = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_stream_sink_batches_total",
				     "Unlogged batches sent to the store (retries included).", lbl),
		jv);
	r->m_sink.retries = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_stream_sink_retries_total",
				     "Batches sent again after a transient failure (store down, "
				     "timeout, overload).",
				     lbl),
		jv);
	r->m_sink.rows_isolated = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_COUNTER, "brook_stream_sink_rows_isolated_total",
				     "Rows retried one by one after their batch failed on data.",
				     lbl),
		jv);
	r->m_up = brook_metrics_series(
		brook_metrics_family(m, BROOK_METRIC_GAUGE, "brook_stream_job_up",
				     "1 while the job runs; 0 after it stopped on an error.", lbl),
		jv);
	brook_metric_set(r->m_up, 1);
	r->m_batch = brook_metrics_series(
		brook_metrics_histogram_family(m, "brook_stream_batch_seconds",
					       "Micro-batch time from processing to commit.", lbl,
					       NULL, 0),
		jv);
	/* Fine buckets around the pipeline's latency targets (p99 ≤ 250 ms). */
	static const double e2e_bounds[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075,
					    0.1,   0.125, 0.15,  0.2,  0.25, 0.3,  0.4,  0.5,
					    0.75,  1,	  2,	 5,    10,   30,   60};
	r->m_e2e = brook_metrics_series(
		brook_metrics_histogram_family(
			m, "brook_stream_end_to_end_seconds",
			"From the record's event time (source.event_time, else its Kafka "
			"timestamp) to the sink's acknowledgement.",
			lbl, e2e_bounds, sizeof e2e_bounds / sizeof e2e_bounds[0]),
		jv);
	r->f_lag = brook_metrics_family(m, BROOK_METRIC_GAUGE, "brook_stream_lag_records",
					"Records after the last processed one, per partition.",
					(const char *const[]){"job", "topic", "partition", NULL});

	char queued_min[16];
	snprintf(queued_min, sizeof queued_min, "%d", QUEUED_MIN);
	const char *cons_kv[] = {
		"bootstrap.servers", env->bootstrap,
		"group.id", j->group,
		"client.id", client_id,
		"enable.auto.commit", "false",
		"enable.auto.offset.store", "false",
		"auto.offset.reset", j->start_earliest ? "earliest" : "latest",
		"session.timeout.ms", session,
		"heartbeat.interval.ms", heartbeat,
		"partition.assignment.strategy", "roundrobin",
		"fetch.wait.max.ms", "50",
		/* Prefetch a few batches, not librdkafka's 100,000 messages / 64 MB (see
		 * nudge_fetcher): memory, and the job keeps up anyway. */
		"queued.min.messages", queued_min,
		"queued.max.messages.kbytes", QUEUED_MAX_KB,
		"topic.metadata.refresh.interval.ms", "2000",
		"log.connection.close", "false",
		NULL,
	};
	rd_kafka_conf_t *conf = brook_kafka_conf(cons_kv, r, "stream consumer", err, errlen);
	if (!conf)
		goto fail;
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	char e[512];
	r->cons = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
	if (!r->cons) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "cannot create the consumer: %s", e);
		goto fail;
	}
	rd_kafka_poll_set_consumer(r->cons);
	r->cq = rd_kafka_queue_get_consumer(r->cons);
	rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)j->n_topics);
	size_t w = 0;
	topics_what[0] = 0;
	for (size_t i = 0; i < j->n_topics; i++) {
		rd_kafka_topic_partition_list_add(subs, j->topics[i], RD_KAFKA_PARTITION_UA);
		w += (size_t)snprintf(topics_what + w, w < sizeof topics_what ? sizeof topics_what - w : 0,
				      "%s%s", i ? "," : "", j->topics[i]);
		if (w >= sizeof topics_what)
			w = sizeof topics_what - 1;
	}
	rd_kafka_resp_err_t se = rd_kafka_subscribe(r->cons, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (se) {
		snprintf(err, errlen, "cannot subscribe to %s: %s", topics_what, rd_kafka_err2str(se));
		goto fail;
	}
	if (j->dlq_topic) {
		char dlq_id[160];
		snprintf(dlq_id, sizeof dlq_id, "%s-dlq", client_id);
		const char *prod_kv[] = {
			"bootstrap.servers", env->bootstrap,
			"client.id", dlq_id,
			"enable.idempotence", "true",
			"acks", "all",
			"linger.ms", "5",
			"message.timeout.ms", "30000",
			"log.connection.close", "false",
			NULL,
		};
		conf = brook_kafka_conf(prod_kv, r, "stream dead-letter producer", err, errlen);
		if (!conf)
			goto fail;
		rd_kafka_conf_set_dr_msg_cb(conf, on_dlq_delivery);
		r->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
		if (!r->dlq) {
			rd_kafka_conf_destroy(conf);
			snprintf(err, errlen, "cannot create the dead-letter producer: %s", e);
			goto fail;
		}
	}
	if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
		snprintf(err, errlen, "cannot start the job's thread");
		goto fail;
	}
	brook_info(COMP, "job %s: %s (%s) -> %s.%s as group %s%s%s", j->name, topics_what,
		   j->format == STREAM_FMT_AVRO ? "avro" : "json", j->keyspace, j->table, j->group,
		   j->dlq_topic ? ", dead letters to " : "", j->dlq_topic ? j->dlq_topic : "");
	return r;
fail:
	if (r->cons) {
		if (r->cq)
			rd_kafka_queue_destroy(r->cq);
		rd_kafka_consumer_close(r->cons);
		rd_kafka_destroy(r->cons);
	}
	if (r->dlq)
		rd_kafka_destroy(r->dlq);
	avro_schema_free(r->reader);
	mappers_free(r);
	free(r);
	return NULL;
}

void stream_runner_join(stream_runner *r)
{
	if (!r)
		return;
	pthread_join(r->thread, NULL);
	/* Leave the group now: the other members take the partitions without waiting for
	 * the session to time out. */
	rd_kafka_queue_destroy(r->cq);
	rd_kafka_consumer_close(r->cons);
	rd_kafka_destroy(r->cons);
	if (r->dlq) {
		rd_kafka_flush(r->dlq, 2000);
		rd_kafka_destroy(r->dlq);
	}
	mappers_free(r); /* their statements before the sink's prepared INSERT */
	stream_sink_close(r->sink);
	avro_schema_free(r->reader);
	for (size_t i = 0; i < r->n_parts; i++)
		free(r->parts[i].topic);
	free(r->parts);
	free(r);
}
