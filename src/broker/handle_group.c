/*
 * handle_group.c — the group APIs, wired to the coordinator (group.h), and the
 * coordinator's storage: the compacted internal topic __consumer_offsets.
 *
 * Commit flow: OffsetCommit → group_offset_commit → io_append builds one uncompressed
 * batch of Kafka-format records, appends it to the group's partition and parks a wait
 * until the group-commit round makes it durable (broker_groups_flushed), then the
 * coordinator answers the client. So a committed offset is acknowledged only once it
 * is on disk, like acks=all.
 *
 * Startup: every partition of __consumer_offsets is read back, batch by batch, and each
 * record replayed into the coordinator (group_coord_load) before the broker listens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker_impl.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/mem.h"
#include "kafka/batch.h"
#include "kafka/errors.h"
#include "kafka/msgs.h"

#define LOG "broker"
#define OFFSETS_TOPIC "__consumer_offsets"

struct io_wait {
	struct io_wait *next;
	int32_t partition;
	int64_t upto;
	group_io_done_fn done;
	void *ctx;
};

static broker_topic *offsets_topic(broker *b)
{
	return broker_topics_get(b->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
}

static void io_append(void *arg, int32_t partition, const kafka_bytes *keys,
		      const kafka_bytes *values, int n, group_io_done_fn done, void *done_ctx)
{
	broker *b = arg;
	broker_topic *t = offsets_topic(b);
	if (!t || partition < 0 || partition >= t->npartitions || n <= 0) {
		done(done_ctx, n <= 0 ? KAFKA_ERR_NONE : KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
		return;
	}
	int64_t now = broker_now_ms();
	kafka_batch_builder bb;
	kafka_batch_builder_init(&bb, 0, now);
	for (int i = 0; i < n; i++)
		kafka_batch_builder_add(&bb, -1, now, keys[i].ptr, keys[i].len,
					values[i].len < 0 ? NULL : values[i].ptr, values[i].len,
					NULL, 0);
	size_t len;
	uint8_t *batch = kafka_batch_builder_finish(&bb, 0, &len);
	broker_partition *p = t->parts[partition];
	int64_t base;
	bool dup;
	int16_t err = broker_log_append(p->log, batch, len, now, &base, &dup);
	free(batch);
	if (err) {
		brook_error(LOG, "cannot store group records in %s-%d: %s", OFFSETS_TOPIC, partition,
			    kafka_err_name(err));
		done(done_ctx, err);
		return;
	}
	broker_mark_dirty(b, p);
	io_wait *w = brook_calloc(1, sizeof *w);
	w->partition = partition;
	w->upto = base + n;
	w->done = done;
	w->ctx = done_ctx;
	w->next = b->waiting_io;
	b->waiting_io = w;
	broker_request_flush(b);
}

/* After each flush round: complete the appends that are durable now. */
void broker_groups_flushed(broker *b)
{
	broker_topic *t = offsets_topic(b);
	io_wait **pp = &b->waiting_io;
	while (*pp) {
		io_wait *w = *pp;
		bool ok = !t || w->partition >= t->npartitions ||
			  broker_log_durable_offset(t->parts[w->partition]->log) >= w->upto;
		if (ok) {
			*pp = w->next;
			w->done(w->ctx, t ? KAFKA_ERR_NONE : KAFKA_ERR_COORDINATOR_NOT_AVAILABLE);
			free(w);
		} else {
			pp = &w->next;
			b->want_flush = true;
		}
	}
}

void broker_groups_open(broker *b)
{
	if (!offsets_topic(b)) {
		broker_topic *t;
		char msg[256];
		const broker_topic_kv cfg[] = {{"cleanup.policy", "compact"},
					       {"segment.bytes", "104857600"}};
		if (broker_topics_create(b->topics, OFFSETS_TOPIC, b->offsets_partitions, cfg, 2,
					 false, &t, msg, sizeof msg) != KAFKA_ERR_NONE)
			brook_error(LOG, "cannot create %s: %s", OFFSETS_TOPIC, msg);
	}
	group_config gc;
	group_config_defaults(&gc);
	gc.offsets_partitions = offsets_topic(b) ? offsets_topic(b)->npartitions
						 : b->offsets_partitions;
	gc.initial_rebalance_delay_ms =
		brook_config_duration_ms(b->cfg, "broker.group_initial_rebalance_delay");
	gc.min_session_timeout_ms =
		(int32_t)brook_config_duration_ms(b->cfg, "broker.group_min_session_timeout");
	gc.max_session_timeout_ms =
		(int32_t)brook_config_duration_ms(b->cfg, "broker.group_max_session_timeout");
	group_io io = {.append = io_append, .io_arg = b};
	b->groups = group_coord_new(&gc, &io);
}

/* Replays one partition's batches into the coordinator. */
static int load_partition(broker *b, broker_log *log, int32_t partition, size_t *records)
{
	int64_t off = broker_log_start_offset(log), end = broker_log_end_offset(log);
	brook_buf buf = BROOK_BUF_INIT;
	int rc = 0;
	while (off < end) {
		broker_log_slice s;
		if (broker_log_read(log, off, 1 << 20, end, &s) != 0 || s.len == 0) {
			broker_log_slice_release(&s);
			break;
		}
		size_t len = s.len;
		brook_buf_reset(&buf);
		brook_buf_reserve(&buf, len);
		int got = brook_pread_all(s.fd, buf.data, len, s.pos);
		broker_log_slice_release(&s);
		if (got != BROOK_OK) {
			brook_error(LOG, "reading %s-%d failed", OFFSETS_TOPIC, partition);
			rc = -1;
			break;
		}
		size_t pos = 0;
		int64_t next = off;
		while (pos + KAFKA_BATCH_HDR_SIZE <= len) {
			kafka_batch_hdr h;
			const uint8_t *p = (const uint8_t *)buf.data + pos;
			if (kafka_batch_parse_hdr(p, len - pos, &h) != 0)
				break;
			size_t blen = kafka_batch_total_size(&h);
			if (pos + blen > len)
				break;
			kafka_record_iter it;
			if (kafka_record_iter_init(&it, p, blen, 0, false) == 0) {
				kafka_record rec;
				while (kafka_record_iter_next(&it, &rec) == 1) {
					if (rec.key_len < 0)
						continue;
					group_coord_load(b->groups, rec.key, (size_t)rec.key_len,
							 rec.value_len < 0 ? NULL : rec.value,
							 rec.value_len < 0 ? 0 : (size_t)rec.value_len);
					(*records)++;
				}
			}
			kafka_record_iter_release(&it);
			next = kafka_batch_last_offset(&h) + 1;
			pos += blen;
		}
		if (next <= off)
			break; /* no progress: stop rather than loop */
		off = next;
	}
	brook_buf_release(&buf);
	return rc;
}

int broker_groups_load(broker *b)
{
	broker_topic *t = offsets_topic(b);
	if (!t)
		return -1;
	size_t records = 0;
	for (int32_t p = 0; p < t->npartitions; p++)
		if (load_partition(b, t->parts[p]->log, p, &records) != 0)
			return -1;
	if (records)
		brook_info(LOG, "loaded %zu consumer group records from %s", records, OFFSETS_TOPIC);
	return 0;
}

/* ---- requests --------------------------------------------------------------------- */

static void group_done(void *ctx, const void *resp)
{
	broker_req *r = ctx;
	broker_respond(r, resp);
}

void broker_handle_group(broker_req *r)
{
	broker *b = r->b;
	group_coord *g = b->groups;
	int16_t ver = r->hdr.api_version;
	int64_t now = broker_now_ms();
	switch (r->hdr.api_key) {
	case KAFKA_API_JOIN_GROUP: {
		char client[256], host[80];
		snprintf(client, sizeof client, "%.*s",
			 r->hdr.client_id.len > 0 ? (int)r->hdr.client_id.len : 0,
			 r->hdr.client_id.len > 0 ? r->hdr.client_id.ptr : "");
		const char *peer = brook_conn_peer(brook_slot_conn(r->slot));
		const char *colon = strrchr(peer, ':');
		snprintf(host, sizeof host, "/%.*s", colon ? (int)(colon - peer) : (int)strlen(peer),
			 peer);
		group_join(g, ver, r->body, client, host, now, group_done, r);
		break;
	}
	case KAFKA_API_SYNC_GROUP:
		group_sync(g, ver, r->body, now, group_done, r);
		break;
	case KAFKA_API_HEARTBEAT:
		group_heartbeat(g, ver, r->body, now, group_done, r);
		break;
	case KAFKA_API_LEAVE_GROUP:
		group_leave(g, ver, r->body, now, group_done, r);
		break;
	case KAFKA_API_OFFSET_COMMIT:
		group_offset_commit(g, ver, r->body, now, group_done, r);
		break;
	case KAFKA_API_OFFSET_FETCH:
		group_offset_fetch(g, ver, r->body, group_done, r);
		break;
	case KAFKA_API_DESCRIBE_GROUPS:
		group_describe(g, ver, r->body, group_done, r);
		break;
	case KAFKA_API_LIST_GROUPS:
		group_list(g, ver, r->body, group_done, r);
		break;
	default:
		abort();
	}
}
