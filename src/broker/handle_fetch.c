/*
 * handle_fetch.c — Fetch (with long polling) and ListOffsets.
 *
 * Fetch states: a request is answered at once when enough data is there (min_bytes,
 * usually 1) or an error is to be reported; otherwise it waits on b->waiting_fetch until
 * a produce brings data to one of its partitions (broker_wake_fetches), its max_wait_ms
 * passes (broker_fetch_tick from the 50 ms timer) or the broker stops. Readiness is
 * checked without allocating, so waking waiting fetches on every produce stays cheap.
 *
 * Data: for each partition, whole batches from the one containing fetch_offset, up to
 * partition_max_bytes and the request's max_bytes overall (always at least one batch
 * for the first partition with data, as Kafka does, so a batch bigger than the limits
 * still makes progress). Batches go out as stored: the response names file regions of
 * the segments, which the network layer sends with sendfile(2) when it can (net.h).
 *
 * Fetch sessions (KIP-227) are declined: the answer carries session_id 0, which tells
 * clients to keep sending full fetch requests.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/broker_impl.h"
#include "core/log.h"
#include "core/mem.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"

#define LOG "broker"

/* Bytes available to this fetch right now, up to `want` (cheap: no allocation). */
static int64_t available(broker *b, const kafka_fetch_req *req, int64_t want, bool *error)
{
	int64_t total = 0;
	for (int32_t i = 0; i < req->n_topics; i++) {
		const kafka_fetch_topic *ft = &req->topics[i];
		broker_topic *t = ft->topic.len > 0
			? broker_topics_get(b->topics, ft->topic.ptr, (size_t)ft->topic.len) : NULL;
		for (int32_t j = 0; j < ft->n_partitions; j++) {
			const kafka_fetch_partition *fp = &ft->partitions[j];
			if (!t || fp->partition < 0 || fp->partition >= t->npartitions) {
				*error = true;
				return total;
			}
			broker_log *log = t->parts[fp->partition]->log;
			int64_t end = broker_log_end_offset(log);
			if (fp->fetch_offset > end || fp->fetch_offset < broker_log_start_offset(log)) {
				*error = true;
				return total;
			}
			if (fp->fetch_offset == end)
				continue;
			if (want <= 1)
				return 1;
			broker_log_slice s;
			if (broker_log_read(log, fp->fetch_offset, (size_t)want, end, &s) == 0) {
				total += (int64_t)s.len;
				broker_log_slice_release(&s);
			}
			if (total >= want)
				return total;
		}
	}
	return total;
}

static void slice_release(void *ref)
{
	broker_log_slice_release(ref);
	free(ref);
}

static void fetch_answer(broker_req *r)
{
	broker *b = r->b;
	const kafka_fetch_req *req = r->body;
	kafka_fetch_resp *resp = broker_resp_new(r);
	resp->error_code = KAFKA_ERR_NONE;
	resp->session_id = 0;
	int64_t budget = req->max_bytes > 0 ? req->max_bytes : INT32_MAX;
	bool first = true;
	size_t nparts = 0, capparts = 0;
	brook_file_part *parts = NULL;

	resp->n_responses = req->n_topics;
	resp->responses = brook_arena_calloc(&r->arena, sizeof(kafka_fetchable_topic_response) *
						     (size_t)(req->n_topics + 1));
	for (int32_t i = 0; i < req->n_topics; i++) {
		const kafka_fetch_topic *ft = &req->topics[i];
		kafka_fetchable_topic_response *tr = &resp->responses[i];
		tr->topic = ft->topic;
		tr->n_partitions = ft->n_partitions;
		tr->partitions = brook_arena_calloc(&r->arena, sizeof(kafka_fetch_partition_data) *
							       (size_t)(ft->n_partitions + 1));
		broker_topic *t = ft->topic.len > 0
			? broker_topics_get(b->topics, ft->topic.ptr, (size_t)ft->topic.len) : NULL;
		for (int32_t j = 0; j < ft->n_partitions; j++) {
			const kafka_fetch_partition *fp = &ft->partitions[j];
			kafka_fetch_partition_data *pd = &tr->partitions[j];
			pd->partition_index = fp->partition;
			pd->high_watermark = -1;
			pd->last_stable_offset = -1;
			pd->log_start_offset = -1;
			pd->preferred_read_replica = -1;
			pd->aborted_transactions = NULL;
			pd->n_aborted_transactions = 0;
			pd->records = (kafka_bytes){(const uint8_t *)"", 0};
			if (!t || fp->partition < 0 || fp->partition >= t->npartitions) {
				pd->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			broker_log *log = t->parts[fp->partition]->log;
			int64_t end = broker_log_end_offset(log);
			pd->high_watermark = end;
			pd->last_stable_offset = end;
			pd->log_start_offset = broker_log_start_offset(log);
			if (fp->fetch_offset == end)
				continue;
			if (budget <= 0 && !first)
				continue;
			int64_t max = fp->partition_max_bytes;
			if (max > budget)
				max = budget;
			if (max < 0)
				max = 0;
			broker_log_slice s;
			int16_t err = broker_log_read(log, fp->fetch_offset, (size_t)max, end, &s);
			if (err) {
				pd->error_code = err;
				continue;
			}
			if (s.len == 0) {
				broker_log_slice_release(&s);
				continue;
			}
			/* Spliced from the segment file when the response is written. */
			pd->records = (kafka_bytes){NULL, (int32_t)s.len};
			budget -= (int64_t)s.len;
			first = false;
			const char *lv[] = {t->name, NULL};
			brook_metric_add(brook_metrics_series(b->m_fetch_bytes, lv), (double)s.len);
			int64_t from = fp->fetch_offset > s.first_offset ? fp->fetch_offset
									  : s.first_offset;
			if (s.next_offset > from)
				brook_metric_add(brook_metrics_series(b->m_msgs_out, lv),
						 (double)(s.next_offset - from));
			if (nparts == capparts) {
				capparts = capparts ? capparts * 2 : 8;
				parts = brook_realloc(parts, capparts * sizeof *parts);
			}
			broker_log_slice *ref = brook_malloc(sizeof *ref);
			*ref = s;
			parts[nparts++] = (brook_file_part){0, s.fd, s.pos, s.len, slice_release,
							     ref};
		}
	}
	if (nparts)
		broker_respond_parts(r, resp, parts, nparts);
	else
		broker_respond(r, resp);
}

void broker_handle_fetch(broker_req *r)
{
	broker *b = r->b;
	const kafka_fetch_req *req = r->body;
	if (req->session_id != 0) {
		kafka_fetch_resp *resp = broker_resp_new(r);
		resp->error_code = KAFKA_ERR_FETCH_SESSION_ID_NOT_FOUND;
		resp->responses = NULL;
		resp->n_responses = 0;
		broker_respond(r, resp);
		return;
	}
	bool error = false;
	int64_t want = req->min_bytes > 1 ? req->min_bytes : 1;
	if (req->max_wait_ms <= 0 || b->stopping || available(b, req, want, &error) >= want ||
	    error) {
		fetch_answer(r);
		return;
	}
	r->deadline_ms = broker_now_ms() + req->max_wait_ms;
	r->next = b->waiting_fetch;
	b->waiting_fetch = r;
}

/* Answer the waiting fetches that are now ready (or all of them). */
static void sweep(broker *b, bool timeouts, bool all_now)
{
	int64_t now = timeouts ? broker_now_ms() : 0;
	broker_req **pp = &b->waiting_fetch;
	while (*pp) {
		broker_req *r = *pp;
		const kafka_fetch_req *req = r->body;
		bool error = false;
		int64_t want = req->min_bytes > 1 ? req->min_bytes : 1;
		bool ready = all_now || (timeouts && now >= r->deadline_ms) ||
			     available(b, req, want, &error) >= want || error;
		if (ready) {
			*pp = r->next;
			fetch_answer(r);
		} else {
			pp = &r->next;
		}
	}
}

void broker_wake_fetches(broker *b)
{
	if (b->waiting_fetch)
		sweep(b, false, false);
}

void broker_fetch_tick(broker *b, bool all_now)
{
	if (b->waiting_fetch)
		sweep(b, true, all_now);
}

/* ---- ListOffsets ------------------------------------------------------------------ */

#define TS_LATEST (-1)
#define TS_EARLIEST (-2)
#define TS_MAX_TIMESTAMP (-3)

void broker_handle_list_offsets(broker_req *r)
{
	broker *b = r->b;
	const kafka_list_offsets_req *req = r->body;
	kafka_list_offsets_resp *resp = broker_resp_new(r);
	int16_t ver = r->hdr.api_version;
	resp->n_topics = req->n_topics;
	resp->topics = brook_arena_calloc(&r->arena, sizeof(kafka_list_offsets_topic_response) *
						     (size_t)(req->n_topics + 1));
	for (int32_t i = 0; i < req->n_topics; i++) {
		const kafka_list_offsets_topic *lt = &req->topics[i];
		kafka_list_offsets_topic_response *tr = &resp->topics[i];
		tr->name = lt->name;
		tr->n_partitions = lt->n_partitions;
		tr->partitions = brook_arena_calloc(
			&r->arena, sizeof(kafka_list_offsets_partition_response) *
					   (size_t)(lt->n_partitions + 1));
		for (int32_t j = 0; j < lt->n_partitions; j++) {
			const kafka_list_offsets_partition *lp = &lt->partitions[j];
			kafka_list_offsets_partition_response *pr = &tr->partitions[j];
			pr->partition_index = lp->partition_index;
			pr->timestamp = -1;
			pr->offset = -1;
			pr->leader_epoch = -1;
			int16_t err;
			broker_partition *p = broker_partition_get(b, lt->name, lp->partition_index,
								   &err);
			if (!p) {
				pr->error_code = err;
				continue;
			}
			broker_log *log = p->log;
			int64_t off = -1, ts = -1;
			if (lp->timestamp == TS_LATEST) {
				off = broker_log_end_offset(log);
			} else if (lp->timestamp == TS_EARLIEST) {
				off = broker_log_start_offset(log);
			} else if (lp->timestamp == TS_MAX_TIMESTAMP) {
				broker_log_max_timestamp(log, &ts, &off);
			} else {
				off = broker_log_offset_for_time(log, lp->timestamp);
				ts = off >= 0 ? lp->timestamp : -1;
			}
			pr->error_code = KAFKA_ERR_NONE;
			pr->offset = off;
			pr->timestamp = ts;
			pr->leader_epoch = off >= 0 ? 0 : -1;
			if (ver == 0) {
				/* v0 answers a list of offsets (max_num_offsets of them). */
				pr->old_style_offsets = brook_arena_alloc(&r->arena, sizeof(int64_t));
				pr->n_old_style_offsets = off >= 0 ? 1 : 0;
				pr->old_style_offsets[0] = off;
			}
		}
	}
	broker_respond(r, resp);
}
