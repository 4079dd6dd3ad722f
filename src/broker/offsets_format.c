/*
 * offsets_format.c — encode and decode __consumer_offsets keys and values.
 *
 * See offsets_format.h for the layouts. The decoder is a small bounded reader: every
 * read checks the remaining length first and jumps to one error label naming the field
 * that did not fit. Flexible versions (offset value v4, group value v4) use compact
 * strings (unsigned varint length + 1, 0 = null) and end each struct with tagged fields,
 * which are skipped. The encoders only write classic versions, so they use int16
 * lengths; those are asserted to fit.
 */
#include "broker/offsets_format.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/varint.h"

/* --- encoding ------------------------------------------------------------------------ */

static void put_str(brook_buf *out, offsets_str s)
{
	if (s.len < 0) {
		brook_buf_put_be16(out, 0xffff);
		return;
	}
	assert(s.len <= INT16_MAX);
	brook_buf_put_be16(out, (uint16_t)s.len);
	brook_buf_append(out, s.ptr, (size_t)s.len);
}

/* Non-nullable string fields: a null is written as empty. */
static void put_str_nn(brook_buf *out, offsets_str s)
{
	if (s.len < 0)
		s.len = 0;
	put_str(out, s);
}

static void put_bytes(brook_buf *out, offsets_str b)
{
	uint32_t len = b.len < 0 ? 0 : (uint32_t)b.len;
	brook_buf_put_be32(out, len);
	brook_buf_append(out, b.ptr, len);
}

void offsets_key_encode_commit(brook_buf *out, offsets_str group, offsets_str topic,
                               int32_t partition)
{
	brook_buf_put_be16(out, OFFSETS_COMMIT_KEY_VERSION);
	put_str_nn(out, group);
	put_str_nn(out, topic);
	brook_buf_put_be32(out, (uint32_t)partition);
}

void offsets_key_encode_group(brook_buf *out, offsets_str group)
{
	brook_buf_put_be16(out, OFFSETS_GROUP_KEY_VERSION);
	put_str_nn(out, group);
}

void offsets_value_encode_commit(brook_buf *out, const struct offsets_commit_value *v)
{
	brook_buf_put_be16(out, OFFSETS_COMMIT_VALUE_VERSION);
	brook_buf_put_be64(out, (uint64_t)v->offset);
	brook_buf_put_be32(out, (uint32_t)v->leader_epoch);
	put_str_nn(out, v->metadata);
	brook_buf_put_be64(out, (uint64_t)v->commit_timestamp);
}

void offsets_value_encode_group(brook_buf *out, const struct offsets_group_value *v)
{
	brook_buf_put_be16(out, OFFSETS_GROUP_VALUE_VERSION);
	put_str_nn(out, v->protocol_type);
	brook_buf_put_be32(out, (uint32_t)v->generation);
	put_str(out, v->protocol);
	put_str(out, v->leader);
	brook_buf_put_be64(out, (uint64_t)v->current_state_timestamp);
	brook_buf_put_be32(out, (uint32_t)v->n_members);
	for (int32_t i = 0; i < v->n_members; i++) {
		const struct offsets_member *m = &v->members[i];
		put_str_nn(out, m->member_id);
		put_str(out, m->group_instance_id);
		put_str_nn(out, m->client_id);
		put_str_nn(out, m->client_host);
		brook_buf_put_be32(out, (uint32_t)m->rebalance_timeout);
		brook_buf_put_be32(out, (uint32_t)m->session_timeout);
		put_bytes(out, m->subscription);
		put_bytes(out, m->assignment);
	}
}

/* --- decoding ------------------------------------------------------------------------ */

typedef struct rd {
	const uint8_t *p;
	size_t n;         /* bytes remaining */
	int flexible;     /* compact strings and tagged fields */
	const char *what; /* the field being read, for the error message */
} rd;

static int rd_i16(rd *r, int16_t *v)
{
	if (r->n < 2)
		return BROOK_ERR;
	*v = (int16_t)(((uint16_t)r->p[0] << 8) | r->p[1]);
	r->p += 2;
	r->n -= 2;
	return BROOK_OK;
}

static int rd_i32(rd *r, int32_t *v)
{
	if (r->n < 4)
		return BROOK_ERR;
	*v = (int32_t)(((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) |
	               ((uint32_t)r->p[2] << 8) | r->p[3]);
	r->p += 4;
	r->n -= 4;
	return BROOK_OK;
}

static int rd_i64(rd *r, int64_t *v)
{
	if (r->n < 8)
		return BROOK_ERR;
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = (x << 8) | r->p[i];
	*v = (int64_t)x;
	r->p += 8;
	r->n -= 8;
	return BROOK_OK;
}

static int rd_uvarint(rd *r, uint32_t *v)
{
	int k = brook_varint_get_u32(r->p, r->n, v);
	if (k <= 0)
		return BROOK_ERR;
	r->p += k;
	r->n -= (size_t)k;
	return BROOK_OK;
}

/* A length-prefixed run of bytes: int16 (string) or int32 (bytes) length in classic
 * versions, unsigned varint length+1 in flexible ones. -1 / 0 mean null. */
static int rd_lenprefixed(rd *r, int wide, int nullable, offsets_str *s)
{
	int64_t len;
	if (r->flexible) {
		uint32_t u;
		if (rd_uvarint(r, &u) < 0)
			return BROOK_ERR;
		len = (int64_t)u - 1;
	} else if (wide) {
		int32_t l;
		if (rd_i32(r, &l) < 0)
			return BROOK_ERR;
		len = l;
	} else {
		int16_t l;
		if (rd_i16(r, &l) < 0)
			return BROOK_ERR;
		len = l;
	}
	if (len < 0) {
		if (len != -1 || !nullable)
			return BROOK_ERR;
		s->ptr = NULL;
		s->len = -1;
		return BROOK_OK;
	}
	if ((uint64_t)len > r->n || len > INT32_MAX)
		return BROOK_ERR;
	s->ptr = (const char *)r->p;
	s->len = (int32_t)len;
	r->p += len;
	r->n -= (size_t)len;
	return BROOK_OK;
}

static int rd_str(rd *r, offsets_str *s)
{
	return rd_lenprefixed(r, 0, 0, s);
}

static int rd_nstr(rd *r, offsets_str *s)
{
	return rd_lenprefixed(r, 0, 1, s);
}

/* Flexible versions: bytes fields are compact, and Kafka's schemas say non-nullable. */
static int rd_bytes(rd *r, offsets_str *s)
{
	return rd_lenprefixed(r, 1, 0, s);
}

/* Skip a tagged-field section: count, then (tag, size, data) each. */
static int rd_tags(rd *r)
{
	if (!r->flexible)
		return BROOK_OK;
	uint32_t count;
	if (rd_uvarint(r, &count) < 0)
		return BROOK_ERR;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t tag, size;
		if (rd_uvarint(r, &tag) < 0 || rd_uvarint(r, &size) < 0)
			return BROOK_ERR;
		if (size > r->n)
			return BROOK_ERR;
		r->p += size;
		r->n -= size;
	}
	return BROOK_OK;
}

#define RD(call, name)                                                                             \
	do {                                                                                       \
		r.what = (name);                                                                   \
		if ((call) < 0)                                                                    \
			goto err_parse;                                                            \
	} while (0)

static int fail(char *err, size_t errlen, const char *record, const rd *r, size_t total)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s is truncated or invalid at byte %zu", record,
		         r->what ? r->what : "input", total - r->n);
	return BROOK_ERR;
}

int offsets_key_decode(const uint8_t *p, size_t n, struct offsets_key *out, char *err,
                       size_t errlen)
{
	rd r = {p, n, 0, NULL};
	memset(out, 0, sizeof *out);
	out->group.len = -1;
	out->topic.len = -1;
	RD(rd_i16(&r, &out->version), "key version");
	if (out->version < 0)
		goto err_parse;
	if (out->version >= 3) {
		out->type = OFFSETS_KEY_OTHER;
		return BROOK_OK;
	}
	RD(rd_str(&r, &out->group), "group");
	if (out->version == 2) {
		out->type = OFFSETS_KEY_GROUP;
	} else {
		out->type = OFFSETS_KEY_OFFSET;
		RD(rd_str(&r, &out->topic), "topic");
		RD(rd_i32(&r, &out->partition), "partition");
	}
	/* Trailing bytes would mean a schema we do not know; refuse rather than guess. */
	if (r.n != 0) {
		r.what = "end of key";
		goto err_parse;
	}
	return BROOK_OK;
err_parse:
	return fail(err, errlen, "offsets key", &r, n);
}

int offsets_value_decode_commit(const uint8_t *p, size_t n, struct offsets_commit_value *out,
                                char *err, size_t errlen)
{
	rd r = {p, n, 0, NULL};
	memset(out, 0, sizeof *out);
	out->leader_epoch = -1;
	out->expire_timestamp = -1;
	RD(rd_i16(&r, &out->version), "offset value version");
	if (out->version < 0 || out->version > 4)
		goto err_parse;
	r.flexible = out->version >= 4;
	RD(rd_i64(&r, &out->offset), "offset");
	if (out->version >= 3)
		RD(rd_i32(&r, &out->leader_epoch), "leader epoch");
	RD(rd_str(&r, &out->metadata), "metadata");
	RD(rd_i64(&r, &out->commit_timestamp), "commit timestamp");
	if (out->version == 1)
		RD(rd_i64(&r, &out->expire_timestamp), "expire timestamp");
	RD(rd_tags(&r), "tagged fields");
	return BROOK_OK;
err_parse:
	return fail(err, errlen, "offset commit value", &r, n);
}

/* The fewest bytes one member can take, to bound the member count before allocating. */
static size_t member_min_size(const rd *r, int16_t version)
{
	if (r->flexible)
		return 4 * 1 + 1 + 4 + 4 + 1 + 1 + 1; /* 4 compact strings, instance id, ... */
	size_t s = 2 + 2 + 2 + 4 + 4 + 4; /* member, client id, host, session, 2 bytes lens */
	if (version >= 1)
		s += 4;
	if (version >= 3)
		s += 2;
	return s;
}

int offsets_value_decode_group(const uint8_t *p, size_t n, brook_arena *arena,
                               struct offsets_group_value *out, char *err, size_t errlen)
{
	rd r = {p, n, 0, NULL};
	memset(out, 0, sizeof *out);
	out->current_state_timestamp = -1;
	RD(rd_i16(&r, &out->version), "group value version");
	if (out->version < 0 || out->version > 4)
		goto err_parse;
	r.flexible = out->version >= 4;
	RD(rd_str(&r, &out->protocol_type), "protocol type");
	RD(rd_i32(&r, &out->generation), "generation");
	RD(rd_nstr(&r, &out->protocol), "protocol");
	RD(rd_nstr(&r, &out->leader), "leader");
	if (out->version >= 2)
		RD(rd_i64(&r, &out->current_state_timestamp), "current state timestamp");
	int64_t count;
	r.what = "member count";
	if (r.flexible) {
		uint32_t u;
		if (rd_uvarint(&r, &u) < 0 || u == 0)
			goto err_parse;
		count = (int64_t)u - 1;
	} else {
		int32_t c;
		if (rd_i32(&r, &c) < 0 || c < 0)
			goto err_parse;
		count = c;
	}
	if (count > OFFSETS_MAX_MEMBERS ||
	    (uint64_t)count * member_min_size(&r, out->version) > r.n)
		goto err_parse;
	out->n_members = (int32_t)count;
	if (count > 0)
		out->members = brook_arena_calloc(arena, (size_t)count * sizeof *out->members);
	for (int32_t i = 0; i < out->n_members; i++) {
		struct offsets_member *m = &out->members[i];
		m->group_instance_id.len = -1;
		RD(rd_str(&r, &m->member_id), "member id");
		if (out->version >= 3)
			RD(rd_nstr(&r, &m->group_instance_id), "group instance id");
		RD(rd_str(&r, &m->client_id), "client id");
		RD(rd_str(&r, &m->client_host), "client host");
		if (out->version >= 1)
			RD(rd_i32(&r, &m->rebalance_timeout), "rebalance timeout");
		RD(rd_i32(&r, &m->session_timeout), "session timeout");
		if (out->version == 0)
			m->rebalance_timeout = m->session_timeout;
		RD(rd_bytes(&r, &m->subscription), "subscription");
		RD(rd_bytes(&r, &m->assignment), "assignment");
		RD(rd_tags(&r), "member tagged fields");
	}
	RD(rd_tags(&r), "tagged fields");
	return BROOK_OK;
err_parse:
	return fail(err, errlen, "group metadata value", &r, n);
}

/* --- partition choice ---------------------------------------------------------------- */

/* Decode one UTF-8 code point at s[i..len); returns bytes consumed (>= 1) and the code
 * point in *cp, or U+FFFD for a malformed sequence (consuming its maximal valid prefix,
 * as Java's decoder does). */
static size_t utf8_next(const unsigned char *s, size_t i, size_t len, uint32_t *cp)
{
	unsigned c = s[i];
	size_t need;
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		need = 1, v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2, v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3, v = c & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	size_t k = 1;
	for (; k <= need; k++) {
		if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
			break;
		uint32_t nv = (v << 6) | (s[i + k] & 0x3f);
		/* Reject overlongs, surrogates and > U+10FFFF as early as the second byte. */
		if (k == 1 &&
		    ((need == 2 && ((c == 0xe0 && nv < 0x20) || (c == 0xed && nv >= 0x360))) ||
		     (need == 3 && ((c == 0xf0 && nv < 0x10) || (c == 0xf4 && nv >= 0x110)))))
			break;
		v = nv;
	}
	if (k <= need) {
		*cp = 0xfffd;
		return k;
	}
	*cp = v;
	return need + 1;
}

int32_t offsets_java_string_hash(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t h = 0;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		i += utf8_next(s, i, len, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			h = 31 * h + (0xd800 + (cp >> 10));
			h = 31 * h + (0xdc00 + (cp & 0x3ff));
		} else {
			h = 31 * h + cp;
		}
	}
	return (int32_t)h;
}

int32_t offsets_partition_for(const char *group, size_t len, int32_t n)
{
	assert(n > 0);
	int32_t h = offsets_java_string_hash(group, len);
	int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
	return a % n;
}
