/*
 * fuzz_offsets_record.c — __consumer_offsets keys and values on arbitrary bytes.
 *
 * The first byte picks the target:
 *   0  offsets_key_decode
 *   1  offsets_value_decode_commit; a decoded value must re-encode (as v3) and decode
 *      back to the same fields
 *   2  offsets_value_decode_group; same round-trip check
 *   3+ the coordinator's startup replay: the next byte is the key length, the key and
 *      the value follow (an odd first byte makes the value a tombstone); the record is
 *      loaded into a fresh coordinator, which is then described, listed, ticked past
 *      every session and freed (under ASan, nothing may leak or overflow).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group.h"
#include "broker/offsets_format.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "kafka/msgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(offsets_str a, offsets_str b)
{
	if (a.len != b.len)
		return 0;
	return a.len <= 0 || !memcmp(a.ptr, b.ptr, (size_t)a.len);
}

static void commit_value(const uint8_t *p, size_t n)
{
	struct offsets_commit_value v, w;
	char err[160];
	if (offsets_value_decode_commit(p, n, &v, err, sizeof err) < 0)
		return;
	if (v.metadata.len > INT16_MAX)
		return; /* flexible strings may be longer than a classic one can hold */
	brook_buf b = BROOK_BUF_INIT;
	offsets_value_encode_commit(&b, &v);
	int r = offsets_value_decode_commit((const uint8_t *)b.data, b.len, &w, err, sizeof err);
	assert(r == BROOK_OK);
	assert(w.offset == v.offset && w.leader_epoch == v.leader_epoch);
	assert(w.commit_timestamp == v.commit_timestamp && same(w.metadata, v.metadata));
	brook_buf_release(&b);
}

static int group_encodable(const struct offsets_group_value *v)
{
	if (v->protocol_type.len > INT16_MAX || v->protocol.len > INT16_MAX ||
	    v->leader.len > INT16_MAX)
		return 0;
	for (int32_t i = 0; i < v->n_members; i++) {
		const struct offsets_member *m = &v->members[i];
		if (m->member_id.len > INT16_MAX || m->group_instance_id.len > INT16_MAX ||
		    m->client_id.len > INT16_MAX || m->client_host.len > INT16_MAX)
			return 0;
	}
	return 1;
}

static void group_value(const uint8_t *p, size_t n)
{
	brook_arena a = BROOK_ARENA_INIT;
	struct offsets_group_value v, w;
	char err[160];
	if (offsets_value_decode_group(p, n, &a, &v, err, sizeof err) == BROOK_OK &&
	    group_encodable(&v)) {
		brook_buf b = BROOK_BUF_INIT;
		offsets_value_encode_group(&b, &v);
		int r = offsets_value_decode_group((const uint8_t *)b.data, b.len, &a, &w, err,
		                                   sizeof err);
		assert(r == BROOK_OK);
		assert(w.generation == v.generation && w.n_members == v.n_members);
		assert(same(w.protocol, v.protocol) && same(w.leader, v.leader));
		for (int32_t i = 0; i < v.n_members; i++) {
			assert(same(w.members[i].member_id, v.members[i].member_id));
			assert(same(w.members[i].assignment, v.members[i].assignment));
			assert(
			    same(w.members[i].group_instance_id, v.members[i].group_instance_id));
		}
		brook_buf_release(&b);
	}
	brook_arena_release(&a);
}

static void io_append(void *arg, int32_t partition, const kafka_bytes *keys,
                      const kafka_bytes *values, int n, group_io_done_fn done, void *done_ctx)
{
	(void)arg;
	(void)partition;
	(void)keys;
	(void)values;
	(void)n;
	done(done_ctx, 0);
}

static void ignore(void *ctx, const void *resp)
{
	(void)ctx;
	(void)resp;
}

static void load(uint8_t sel, const uint8_t *p, size_t n)
{
	if (n < 1)
		return;
	size_t klen = p[0];
	p++;
	n--;
	if (klen > n)
		klen = n;
	group_config cfg;
	group_config_defaults(&cfg);
	group_io io = {io_append, NULL};
	group_coord *g = group_coord_new(&cfg, &io);
	const uint8_t *val = sel & 1 ? NULL : p + klen;
	group_coord_load(g, p, klen, val, val ? n - klen : 0);
	/* Load it twice: replacing a loaded group must not leak. */
	group_coord_load(g, p, klen, val, val ? n - klen : 0);
	struct offsets_key k;
	if (offsets_key_decode(p, klen, &k, NULL, 0) == BROOK_OK && k.type != OFFSETS_KEY_OTHER) {
		kafka_str id = {k.group.ptr, k.group.len};
		kafka_describe_groups_req dreq = {&id, 1, false};
		group_describe(g, 4, &dreq, ignore, NULL);
		kafka_offset_fetch_req freq;
		memset(&freq, 0, sizeof freq);
		freq.group_id = id;
		freq.n_topics = -1;
		group_offset_fetch(g, 5, &freq, ignore, NULL);
	}
	kafka_list_groups_req lreq;
	memset(&lreq, 0, sizeof lreq);
	group_list(g, 2, &lreq, ignore, NULL);
	group_coord_tick(g, 1000);
	group_coord_tick(g, (int64_t)1 << 40);
	group_coord_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet) {
		brook_log_set_level(BROOK_LOG_OFF);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	struct offsets_key k;
	switch (sel) {
	case 0:
		offsets_key_decode(p, n, &k, NULL, 0);
		break;
	case 1:
		commit_value(p, n);
		break;
	case 2:
		group_value(p, n);
		break;
	default:
		load(sel, p, n);
		break;
	}
	return 0;
}
