/*
 * pgoutput.c — see pgoutput.h. Decoding reads through one brook_rd (core/rd.h) per
 * message; its sticky error is turned into "pgoutput <Type> ('x') message: <what> at
 * byte N ..." once at the end, so every field read below needs no check of its own.
 */
#include "pg/pgoutput.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/rd.h"
#include "core/text.h"

/* Milliseconds from 1970-01-01 to 2000-01-01 UTC. */
#define PGO_EPOCH_DIFF_MS INT64_C(946684800000)

/* ---- LSNs and times ---- */

/* 1..8 hex digits ending at stop; returns the position after them or NULL. */
static const char *parse_hex32(const char *s, char stop, uint32_t *v)
{
	uint32_t x = 0;
	int n = 0;
	for (; *s != stop; s++, n++) {
		int d = brook_hexval(*s);
		if (d < 0 || n == 8)
			return NULL;
		x = x << 4 | (uint32_t)d;
	}
	if (n == 0)
		return NULL;
	*v = x;
	return s;
}

int pgo_lsn_parse(const char *s, uint64_t *lsn)
{
	uint32_t hi, lo;
	const char *p = parse_hex32(s, '/', &hi);
	if (!p || !parse_hex32(p + 1, '\0', &lo))
		return BROOK_ERR;
	*lsn = (uint64_t)hi << 32 | lo;
	return BROOK_OK;
}

void pgo_lsn_format(uint64_t lsn, char *out)
{
	snprintf(out, PGO_LSN_STRLEN, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32),
		 (uint32_t)lsn);
}

int64_t pgo_time_from_unix_ms(int64_t unix_ms)
{
	return (unix_ms - PGO_EPOCH_DIFF_MS) * 1000;
}

int64_t pgo_time_to_unix_ms(int64_t pg_us)
{
	int64_t ms = pg_us / 1000;
	if (pg_us % 1000 < 0)
		ms--;
	return ms + PGO_EPOCH_DIFF_MS;
}

/* ---- copy-data framing ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int pgo_parse_copy(const uint8_t *buf, size_t len, pgo_copy *out, char *err, size_t errlen)
{
	brook_rd rd;
	brook_rd_init(&rd, buf, len);
	memset(out, 0, sizeof *out);
	char kind = (char)brook_rd_be(&rd, 1, "message type");
	const char *name = "replication";
	if (!rd.failed) {
		switch (kind) {
		case PGO_COPY_XLOGDATA:
			name = "XLogData ('w')";
			out->wal_start = brook_rd_be(&rd, 8, "WAL start");
			out->wal_end = brook_rd_be(&rd, 8, "WAL end");
			out->server_time = (int64_t)brook_rd_be(&rd, 8, "server time");
			out->payload_len = brook_rd_left(&rd);
			out->payload = rd.p;
			break;
		case PGO_COPY_KEEPALIVE:
			name = "primary keepalive ('k')";
			out->wal_end = brook_rd_be(&rd, 8, "WAL end");
			out->server_time = (int64_t)brook_rd_be(&rd, 8, "server time");
			out->reply_requested = brook_rd_be(&rd, 1, "reply flag") != 0;
			if (!rd.failed && brook_rd_left(&rd))
				brook_rd_fail(&rd, "%zu unexpected bytes at byte %zu",
					      brook_rd_left(&rd), brook_rd_pos(&rd));
			break;
		default:
			brook_rd_fail(&rd, "unknown message type 0x%02x at byte 0 "
					   "(expected 'w' XLogData or 'k' keepalive)",
				      (unsigned)(uint8_t)kind);
			break;
		}
	}
	if (rd.failed) {
		set_err(err, errlen, "%s message: %s", name, rd.err);
		memset(out, 0, sizeof *out);
		return BROOK_ERR;
	}
	out->kind = kind;
	return BROOK_OK;
}

void pgo_encode_standby_status(uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
			       int64_t now_pg_us, bool reply_requested,
			       uint8_t out[PGO_STANDBY_STATUS_LEN])
{
	out[0] = 'r';
	brook_be_put(out + 1, write_lsn, 8);
	brook_be_put(out + 9, flush_lsn, 8);
	brook_be_put(out + 17, apply_lsn, 8);
	brook_be_put(out + 25, (uint64_t)now_pg_us, 8);
	out[33] = reply_requested ? 1 : 0;
}

/* ---- relation cache: open addressing on the id, power-of-two capacity ---- */

struct pgo_relations {
	pgo_relation **slots;
	size_t cap; /* 0 or a power of two */
	size_t count;
};

pgo_relations *pgo_relations_new(void)
{
	return brook_calloc(1, sizeof(pgo_relations));
}

static void relation_free(pgo_relation *r)
{
	for (uint16_t i = 0; i < r->ncols; i++)
		free((char *)r->cols[i].name);
	free(r->cols);
	free((char *)r->nspname);
	free((char *)r->relname);
	free(r);
}

void pgo_relations_free(pgo_relations *rels)
{
	if (!rels)
		return;
	for (size_t i = 0; i < rels->cap; i++)
		if (rels->slots[i])
			relation_free(rels->slots[i]);
	free(rels->slots);
	free(rels);
}

static size_t slot_of(const pgo_relations *rels, uint32_t id)
{
	size_t mask = rels->cap - 1;
	size_t i = (size_t)(id * UINT32_C(2654435761)) & mask;
	while (rels->slots[i] && rels->slots[i]->id != id)
		i = (i + 1) & mask;
	return i;
}

const pgo_relation *pgo_relations_get(const pgo_relations *rels, uint32_t id)
{
	if (!rels->cap)
		return NULL;
	return rels->slots[slot_of(rels, id)];
}

size_t pgo_relations_count(const pgo_relations *rels)
{
	return rels->count;
}

static void relations_grow(pgo_relations *rels)
{
	pgo_relations old = *rels;
	rels->cap = old.cap ? old.cap * 2 : 16;
	rels->slots = brook_calloc(rels->cap, sizeof *rels->slots);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i])
			rels->slots[slot_of(rels, old.slots[i]->id)] = old.slots[i];
	free(old.slots);
}

const pgo_relation *pgo_relations_put(pgo_relations *rels, const pgo_relation *rel)
{
	if ((rels->count + 1) * 2 > rels->cap)
		relations_grow(rels);
	pgo_relation *r = brook_calloc(1, sizeof *r);
	r->id = rel->id;
	r->nspname = brook_strdup(rel->nspname);
	r->relname = brook_strdup(rel->relname);
	r->replident = rel->replident;
	r->ncols = rel->ncols;
	if (rel->ncols) {
		r->cols = brook_calloc(rel->ncols, sizeof *r->cols);
		for (uint16_t i = 0; i < rel->ncols; i++) {
			r->cols[i] = rel->cols[i];
			r->cols[i].name = brook_strdup(rel->cols[i].name);
		}
	}
	size_t i = slot_of(rels, rel->id);
	if (rels->slots[i])
		relation_free(rels->slots[i]);
	else
		rels->count++;
	rels->slots[i] = r;
	return r;
}

/* ---- pgoutput messages ---- */

static const struct {
	char type;
	const char *name;
} msg_names[] = {
	{PGO_BEGIN, "Begin"},	      {PGO_COMMIT, "Commit"},	     {PGO_ORIGIN, "Origin"},
	{PGO_RELATION, "Relation"},   {PGO_TYPE, "Type"},	     {PGO_INSERT, "Insert"},
	{PGO_UPDATE, "Update"},	      {PGO_DELETE, "Delete"},	     {PGO_TRUNCATE, "Truncate"},
	{PGO_MESSAGE, "Message"},
	/* protocol version 2: streamed transactions */
	{'S', "Stream Start"},	      {'E', "Stream Stop"},	     {'c', "Stream Commit"},
	{'A', "Stream Abort"},
	/* protocol version 3: two-phase commit */
	{'b', "Begin Prepare"},	      {'P', "Prepare"},		     {'K', "Commit Prepared"},
	{'r', "Rollback Prepared"},   {'p', "Stream Prepare"},
};

const char *pgo_msg_type_name(char type)
{
	for (size_t i = 0; i < sizeof msg_names / sizeof msg_names[0]; i++)
		if (msg_names[i].type == type)
			return msg_names[i].name;
	return "unknown";
}

/* A NUL-terminated wire String, returned in place. */
static const char *rd_string(brook_rd *rd, const char *what)
{
	if (rd->failed)
		return NULL;
	const uint8_t *nul = memchr(rd->p, 0, brook_rd_left(rd));
	if (!nul) {
		brook_rd_fail(rd, "%s at byte %zu has no terminating NUL", what, brook_rd_pos(rd));
		return NULL;
	}
	const char *s = (const char *)rd->p;
	rd->p = nul + 1;
	return s;
}

/* TupleData: Int16 count, then per column 'n' | 'u' | ('t'|'b') Int32 len, bytes. */
static void rd_tuple(brook_rd *rd, brook_arena *arena, pgo_tuple *t)
{
	memset(t, 0, sizeof *t);
	size_t at = brook_rd_pos(rd);
	uint16_t n = (uint16_t)brook_rd_be(rd, 2, "tuple column count");
	if (rd->failed)
		return;
	if (n > brook_rd_left(rd)) { /* every column takes at least one byte */
		brook_rd_fail(rd, "tuple at byte %zu claims %u columns, only %zu bytes left", at,
			      n, brook_rd_left(rd));
		return;
	}
	t->ncols = n;
	if (!n)
		return;
	t->cols = brook_arena_calloc(arena, (size_t)n * sizeof *t->cols);
	for (uint16_t i = 0; i < n && !rd->failed; i++) {
		pgo_value *v = &t->cols[i];
		size_t kat = brook_rd_pos(rd);
		v->kind = (char)brook_rd_be(rd, 1, "tuple column kind");
		if (rd->failed)
			break;
		switch (v->kind) {
		case PGO_VALUE_NULL:
		case PGO_VALUE_UNCHANGED:
			break;
		case PGO_VALUE_TEXT:
		case PGO_VALUE_BINARY: {
			uint32_t len = (uint32_t)brook_rd_be(rd, 4, "tuple value length");
			if (!rd->failed && len > brook_rd_left(rd)) {
				brook_rd_fail(rd,
					      "value of column %u at byte %zu claims %" PRIu32
					      " bytes, only %zu left",
					      i + 1, kat, len, brook_rd_left(rd));
				break;
			}
			v->len = len;
			v->data = brook_rd_take(rd, len, "tuple value");
			break;
		}
		default:
			brook_rd_fail(rd, "unknown tuple column kind 0x%02x for column %u at byte %zu",
				      (unsigned)(uint8_t)v->kind, i + 1, kat);
			break;
		}
	}
}

static void check_tuple(brook_rd *rd, const pgo_relation *rel, const pgo_tuple *t,
			const char *which)
{
	if (rd->failed || !rel || t->ncols == rel->ncols)
		return;
	brook_rd_fail(rd, "%s tuple has %u columns but relation %s.%s (%" PRIu32 ") has %u",
		      which, t->ncols, rel->nspname, rel->relname, rel->id, rel->ncols);
}

static void rd_relation(brook_rd *rd, brook_arena *arena, pgo_relation *r)
{
	r->id = (uint32_t)brook_rd_be(rd, 4, "relation id");
	r->nspname = rd_string(rd, "namespace");
	r->relname = rd_string(rd, "relation name");
	r->replident = (char)brook_rd_be(rd, 1, "replica identity");
	size_t at = brook_rd_pos(rd);
	r->ncols = (uint16_t)brook_rd_be(rd, 2, "column count");
	if (rd->failed)
		return;
	/* flags, name NUL, type, typmod: at least 10 bytes a column */
	if ((size_t)r->ncols * 10 > brook_rd_left(rd)) {
		brook_rd_fail(rd, "column count %u at byte %zu needs at least %zu bytes, %zu left",
			      r->ncols, at, (size_t)r->ncols * 10, brook_rd_left(rd));
		return;
	}
	if (!r->ncols)
		return;
	r->cols = brook_arena_calloc(arena, (size_t)r->ncols * sizeof *r->cols);
	for (uint16_t i = 0; i < r->ncols && !rd->failed; i++) {
		pgo_column *c = &r->cols[i];
		c->flags = (uint8_t)brook_rd_be(rd, 1, "column flags");
		c->name = rd_string(rd, "column name");
		c->type_oid = (uint32_t)brook_rd_be(rd, 4, "column type");
		c->typmod = (int32_t)(uint32_t)brook_rd_be(rd, 4, "column typmod");
	}
}

/* The relation a change names, from the cache (a failure when the cache lacks it). */
static const pgo_relation *change_relation(brook_rd *rd, const pgo_relations *rels,
					   uint32_t id)
{
	if (rd->failed || !rels)
		return NULL;
	const pgo_relation *rel = pgo_relations_get(rels, id);
	if (!rel)
		brook_rd_fail(rd, "relation %" PRIu32 " at byte 1 is unknown "
				  "(no Relation message for it came first)", id);
	return rel;
}

int pgo_decode(const uint8_t *payload, size_t len, pgo_relations *rels, brook_arena *arena,
	       pgo_msg *out, char *err, size_t errlen)
{
	brook_rd rd;
	brook_rd_init(&rd, payload, len);
	memset(out, 0, sizeof *out);
	char type = (char)brook_rd_be(&rd, 1, "message type");
	switch (rd.failed ? 0 : type) {
	case 0:
		if (!rd.failed)
			brook_rd_fail(&rd, "unknown message type 0x00 at byte 0");
		break;
	case PGO_BEGIN:
		out->begin.final_lsn = brook_rd_be(&rd, 8, "final LSN");
		out->begin.commit_time = (int64_t)brook_rd_be(&rd, 8, "commit timestamp");
		out->begin.xid = (uint32_t)brook_rd_be(&rd, 4, "xid");
		break;
	case PGO_COMMIT:
		out->commit.flags = (uint8_t)brook_rd_be(&rd, 1, "flags");
		out->commit.commit_lsn = brook_rd_be(&rd, 8, "commit LSN");
		out->commit.end_lsn = brook_rd_be(&rd, 8, "end LSN");
		out->commit.commit_time = (int64_t)brook_rd_be(&rd, 8, "commit timestamp");
		break;
	case PGO_ORIGIN:
		out->origin.commit_lsn = brook_rd_be(&rd, 8, "origin commit LSN");
		out->origin.name = rd_string(&rd, "origin name");
		break;
	case PGO_RELATION:
		rd_relation(&rd, arena, &out->relation);
		break;
	case PGO_TYPE:
		out->pgtype.oid = (uint32_t)brook_rd_be(&rd, 4, "type id");
		out->pgtype.nspname = rd_string(&rd, "namespace");
		out->pgtype.name = rd_string(&rd, "type name");
		break;
	case PGO_INSERT: {
		out->change.rel_id = (uint32_t)brook_rd_be(&rd, 4, "relation id");
		out->change.rel = change_relation(&rd, rels, out->change.rel_id);
		size_t at = brook_rd_pos(&rd);
		char n = (char)brook_rd_be(&rd, 1, "tuple marker");
		if (!rd.failed && n != 'N')
			brook_rd_fail(&rd, "tuple marker 0x%02x at byte %zu is not 'N'",
				      (unsigned)(uint8_t)n, at);
		rd_tuple(&rd, arena, &out->change.new_tuple);
		check_tuple(&rd, out->change.rel, &out->change.new_tuple, "new");
		break;
	}
	case PGO_UPDATE:
	case PGO_DELETE: {
		out->change.rel_id = (uint32_t)brook_rd_be(&rd, 4, "relation id");
		out->change.rel = change_relation(&rd, rels, out->change.rel_id);
		size_t at = brook_rd_pos(&rd);
		char m = (char)brook_rd_be(&rd, 1, "tuple marker");
		if (rd.failed)
			break;
		if (m == 'K' || m == 'O') {
			out->change.old_kind = m;
			rd_tuple(&rd, arena, &out->change.old_tuple);
			check_tuple(&rd, out->change.rel, &out->change.old_tuple, "old");
			if (type == PGO_DELETE)
				break;
			at = brook_rd_pos(&rd);
			m = (char)brook_rd_be(&rd, 1, "tuple marker");
			if (rd.failed)
				break;
		} else if (type == PGO_DELETE) {
			brook_rd_fail(&rd, "tuple marker 0x%02x at byte %zu is not 'K' or 'O'",
				      (unsigned)(uint8_t)m, at);
			break;
		}
		if (m != 'N') {
			brook_rd_fail(&rd, "tuple marker 0x%02x at byte %zu is not %s",
				      (unsigned)(uint8_t)m, at,
				      out->change.old_kind ? "'N'" : "'K', 'O' or 'N'");
			break;
		}
		rd_tuple(&rd, arena, &out->change.new_tuple);
		check_tuple(&rd, out->change.rel, &out->change.new_tuple, "new");
		break;
	}
	case PGO_TRUNCATE: {
		size_t at = brook_rd_pos(&rd);
		uint32_t n = (uint32_t)brook_rd_be(&rd, 4, "relation count");
		out->truncate.options = (uint8_t)brook_rd_be(&rd, 1, "options");
		if (rd.failed)
			break;
		if ((uint64_t)n * 4 > brook_rd_left(&rd)) {
			brook_rd_fail(&rd, "relation count %" PRIu32 " at byte %zu needs %" PRIu64
					   " bytes of ids, %zu left",
				      n, at, (uint64_t)n * 4, brook_rd_left(&rd));
			break;
		}
		out->truncate.nrels = n;
		if (n)
			out->truncate.rel_ids = brook_arena_alloc(arena, (size_t)n * 4);
		for (uint32_t i = 0; i < n; i++)
			out->truncate.rel_ids[i] = (uint32_t)brook_rd_be(&rd, 4, "relation id");
		break;
	}
	case PGO_MESSAGE: {
		out->message.flags = (uint8_t)brook_rd_be(&rd, 1, "flags");
		out->message.lsn = brook_rd_be(&rd, 8, "LSN");
		out->message.prefix = rd_string(&rd, "prefix");
		size_t at = brook_rd_pos(&rd);
		uint32_t n = (uint32_t)brook_rd_be(&rd, 4, "content length");
		if (!rd.failed && n > brook_rd_left(&rd)) {
			brook_rd_fail(&rd, "content length %" PRIu32 " at byte %zu, only %zu left",
				      n, at, brook_rd_left(&rd));
			break;
		}
		out->message.len = n;
		out->message.content = brook_rd_take(&rd, n, "content");
		break;
	}
	case 'S': case 'E': case 'c': case 'A':
		brook_rd_fail(&rd, "message type at byte 0 belongs to protocol version 2 "
				   "(streamed transactions); brook asks for proto_version '1'");
		break;
	case 'b': case 'P': case 'K': case 'r': case 'p':
		brook_rd_fail(&rd, "message type at byte 0 belongs to two-phase commit "
				   "decoding (protocol version 3); brook asks for proto_version '1'");
		break;
	default:
		brook_rd_fail(&rd, "unknown message type 0x%02x at byte 0",
			      (unsigned)(uint8_t)type);
		break;
	}
	if (!rd.failed && brook_rd_left(&rd))
		brook_rd_fail(&rd, "%zu unexpected bytes at byte %zu after the message",
			      brook_rd_left(&rd), brook_rd_pos(&rd));
	if (rd.failed) {
		if (len == 0)
			set_err(err, errlen, "pgoutput message: %s", rd.err);
		else
			set_err(err, errlen, "pgoutput %s ('%c') message: %s",
				pgo_msg_type_name(type),
				type >= 0x20 && type < 0x7f ? type : '?', rd.err);
		memset(out, 0, sizeof *out);
		return BROOK_ERR;
	}
	out->type = type;
	if (type == PGO_RELATION && rels)
		pgo_relations_put(rels, &out->relation);
	return BROOK_OK;
}
