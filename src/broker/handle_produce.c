/*
 * handle_produce.c — Produce: validate each partition's record batch, append it, and
 * answer per the request's acks.
 *
 *   acks=0    appended, no response at all (Kafka's protocol)
 *   acks=1    answered once appended (in the page cache)
 *   acks=-1   parked on b->waiting_produce until every partition it wrote to is
 *             durable (group commit, broker.c), then answered
 *
 * A Produce v3+ partition carries exactly one batch (as Kafka requires). Batches are
 * stored as produced: only baseOffset and partitionLeaderEpoch are rewritten, neither
 * covered by the CRC. Idempotent retries are recognised by the log, which answers with
 * the original offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_impl.h"
#include "core/log.h"
#include "core/mem.h"
#include "kafka/batch.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"

#define LOG "broker"

/* What an acks=all request waits for: one entry per partition written. */
typedef struct produce_wait {
	char topic[BROKER_TOPIC_NAME_MAX + 1];
	int32_t partition;
	int64_t upto; /* durable offset needed: last offset + 1 */
} produce_wait;

typedef struct append_ctx {
	broker *b;
	broker_partition *p;
	int nbatches;
	int64_t base_offset;
	int64_t upto;
	int32_t records;
	bool duplicate;
	char why[256];
} append_ctx;

static int16_t append_one(uint8_t *batch, size_t len, const kafka_batch_hdr *h, void *arg)
{
	append_ctx *a = arg;
	if (++a->nbatches > 1) {
		snprintf(a->why, sizeof a->why, "a produce request must carry one record batch "
			 "per partition");
		return KAFKA_ERR_INVALID_RECORD;
	}
	if (h->attributes & KAFKA_BATCH_ATTR_TRANSACTIONAL) {
		snprintf(a->why, sizeof a->why, "transactional batches are not supported");
		return KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	}
	int16_t err = broker_log_append(a->p->log, batch, len, broker_now_ms(), &a->base_offset,
					&a->duplicate);
	if (err)
		return err;
	a->upto = a->base_offset + h->last_offset_delta + 1;
	a->records = h->records_count;
	return KAFKA_ERR_NONE;
}

static bool waits_satisfied(broker *b, broker_req *r)
{
	produce_wait *w = r->wait;
	for (int32_t i = 0; i < r->nwait; i++) {
		broker_topic *t = broker_topics_get(b->topics, w[i].topic, strlen(w[i].topic));
		if (!t || w[i].partition >= t->npartitions)
			continue; /* deleted meanwhile: nothing left to wait for */
		if (broker_log_durable_offset(t->parts[w[i].partition]->log) < w[i].upto)
			return false;
	}
	return true;
}

void broker_handle_produce(broker_req *r)
{
	broker *b = r->b;
	const kafka_produce_req *req = r->body;
	kafka_produce_resp *resp = broker_resp_new(r);
	int16_t acks = req->acks;
	bool bad_acks = acks != 0 && acks != 1 && acks != -1;
	bool txn = req->transactional_id.len >= 0;

	int32_t total = 0;
	for (int32_t i = 0; i < req->n_topic_data; i++)
		total += req->topic_data[i].n_partition_data;
	produce_wait *waits = brook_arena_calloc(&r->arena, sizeof *waits * (size_t)(total + 1));
	int32_t nwait = 0;
	kafka_batch_limits lim = {.strict = true};

	resp->n_responses = req->n_topic_data;
	resp->responses = brook_arena_calloc(&r->arena, sizeof(kafka_topic_produce_response) *
						     (size_t)(req->n_topic_data + 1));
	for (int32_t i = 0; i < req->n_topic_data; i++) {
		const kafka_topic_produce_data *td = &req->topic_data[i];
		kafka_topic_produce_response *tr = &resp->responses[i];
		tr->name = td->name;
		tr->n_partition_responses = td->n_partition_data;
		tr->partition_responses = brook_arena_calloc(
			&r->arena, sizeof(kafka_partition_produce_response) *
					   (size_t)(td->n_partition_data + 1));
		int16_t terr = KAFKA_ERR_NONE;
		broker_topic *t = (bad_acks || txn) ? NULL
				  : broker_topic_get_or_create(b, td->name, true, &terr);
		for (int32_t j = 0; j < td->n_partition_data; j++) {
			const kafka_partition_produce_data *pd = &td->partition_data[j];
			kafka_partition_produce_response *pr = &tr->partition_responses[j];
			pr->index = pd->index;
			pr->base_offset = -1;
			pr->log_append_time_ms = -1;
			pr->log_start_offset = -1;
			pr->error_message = KAFKA_STR_NULL;
			if (bad_acks) {
				pr->error_code = KAFKA_ERR_INVALID_REQUIRED_ACKS;
				continue;
			}
			if (txn) {
				pr->error_code = KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
				continue;
			}
			if (!t) {
				pr->error_code = terr;
				continue;
			}
			if (t->internal) {
				pr->error_code = KAFKA_ERR_INVALID_TOPIC_EXCEPTION;
				continue;
			}
			if (pd->index < 0 || pd->index >= t->npartitions) {
				pr->error_code = KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				continue;
			}
			append_ctx a = {.b = b, .p = t->parts[pd->index]};
			lim.max_batch_bytes = t->cfg.max_message_bytes;
			int16_t err = pd->records.len <= 0
				? KAFKA_ERR_CORRUPT_MESSAGE
				: kafka_produce_records_split((uint8_t *)pd->records.ptr,
							      (size_t)pd->records.len, &lim, 2,
							      append_one, &a, a.why, sizeof a.why);
			pr->error_code = err;
			pr->log_start_offset = broker_log_start_offset(a.p->log);
			if (err) {
				if (pd->records.len <= 0)
					snprintf(a.why, sizeof a.why, "no records");
				brook_warn(LOG, "rejected a batch for %s-%d from %s: %s (%s)",
					   t->name, pd->index,
					   brook_conn_peer(brook_slot_conn(r->slot)),
					   kafka_err_name(err), a.why);
				if (r->hdr.api_version >= 8) {
					size_t wl = strlen(a.why);
					pr->error_message = (kafka_str){
						brook_arena_strndup(&r->arena, a.why, wl),
						(int32_t)wl};
				}
				continue;
			}
			pr->base_offset = a.base_offset;
			if (a.duplicate)
				continue; /* its data was written (and waited for) the first time */
			brook_metric_add(brook_metrics_series(b->m_msgs_in,
							      (const char *[]){t->name, NULL}),
					 a.records);
			brook_metric_add(brook_metrics_series(b->m_append_bytes,
							      (const char *[]){t->name, NULL}),
					 (double)pd->records.len);
			broker_mark_dirty(b, a.p);
			snprintf(waits[nwait].topic, sizeof waits[nwait].topic, "%s", t->name);
			waits[nwait].partition = pd->index;
			waits[nwait].upto = a.upto;
			nwait++;
		}
	}
	if (nwait)
		broker_wake_fetches(b);
	if (acks == 0) {
		broker_respond_silent(r);
		return;
	}
	r->wait = waits;
	r->nwait = nwait;
	if (acks != -1 || waits_satisfied(b, r)) {
		broker_respond(r, resp);
		return;
	}
	r->resp = resp;
	r->next = b->waiting_produce;
	b->waiting_produce = r;
	broker_request_flush(b);
}

/* After each flush round: answer every parked produce whose data is now durable. */
void broker_produce_flushed(broker *b)
{
	broker_req **pp = &b->waiting_produce;
	while (*pp) {
		broker_req *r = *pp;
		if (waits_satisfied(b, r)) {
			*pp = r->next;
			broker_respond(r, r->resp);
		} else {
			pp = &r->next;
			b->want_flush = true;
		}
	}
}
