/*
 * fuzz_pgoutput.c — the replication copy-data parser and the pgoutput decoder on
 * arbitrary bytes.
 *
 * The first input byte picks the mode, the rest is the data:
 *   0  one CopyData message: pgo_parse_copy, then pgo_decode of an XLogData payload
 *   1  one pgoutput message: pgo_decode with a cache and again without one
 *   2  a sequence of pgoutput messages, each a 2-byte big-endian length then the bytes,
 *      through one cache (Relation messages redefine what later changes are checked
 *      against)
 * The cache starts with relation 16384 public.users (id key int4, name text, avatar
 * bytea) and relation 1 of no columns. Nothing may crash, leak or read out of bounds; a
 * decoded message is walked completely so every view it holds is touched.
 */
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "pg/pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned sink;

static void touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sink += p[i];
}

static void touch_str(const char *s)
{
	touch((const uint8_t *)s, strlen(s));
}

static void touch_tuple(const pgo_tuple *t)
{
	for (uint16_t i = 0; i < t->ncols; i++)
		if (t->cols[i].data)
			touch(t->cols[i].data, t->cols[i].len);
}

static void walk(const pgo_msg *m)
{
	switch (m->type) {
	case PGO_ORIGIN:
		touch_str(m->origin.name);
		break;
	case PGO_RELATION:
		touch_str(m->relation.nspname);
		touch_str(m->relation.relname);
		for (uint16_t i = 0; i < m->relation.ncols; i++)
			touch_str(m->relation.cols[i].name);
		break;
	case PGO_TYPE:
		touch_str(m->pgtype.nspname);
		touch_str(m->pgtype.name);
		break;
	case PGO_INSERT:
	case PGO_UPDATE:
	case PGO_DELETE:
		touch_tuple(&m->change.old_tuple);
		touch_tuple(&m->change.new_tuple);
		if (m->change.rel)
			touch_str(m->change.rel->relname);
		break;
	case PGO_TRUNCATE:
		for (uint32_t i = 0; i < m->truncate.nrels; i++)
			sink += m->truncate.rel_ids[i];
		break;
	case PGO_MESSAGE:
		touch_str(m->message.prefix);
		if (m->message.len)
			touch(m->message.content, m->message.len);
		break;
	default:
		break;
	}
}

static pgo_relations *seeded_cache(void)
{
	pgo_relations *rels = pgo_relations_new();
	pgo_column cols[3] = {
		{PGO_COLUMN_KEY, "id", 23, -1},
		{0, "name", 25, -1},
		{0, "avatar", 17, -1},
	};
	pgo_relation users = {16384, "public", "users", 'd', 3, cols};
	pgo_relations_put(rels, &users);
	pgo_relation empty = {1, "", "empty", 'n', 0, NULL};
	pgo_relations_put(rels, &empty);
	return rels;
}

static void decode(const uint8_t *p, size_t n, pgo_relations *rels, brook_arena *arena)
{
	pgo_msg m;
	char err[256];
	if (pgo_decode(p, n, rels, arena, &m, err, sizeof err) == BROOK_OK)
		walk(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 3;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	pgo_relations *rels = seeded_cache();
	brook_arena arena = BROOK_ARENA_INIT;
	char err[256];

	if (mode == 0) {
		pgo_copy c;
		if (pgo_parse_copy(p, n, &c, err, sizeof err) == BROOK_OK &&
		    c.kind == PGO_COPY_XLOGDATA)
			decode(c.payload, c.payload_len, rels, &arena);
	} else if (mode == 1) {
		decode(p, n, rels, &arena);
		decode(p, n, NULL, &arena);
	} else {
		while (n >= 2) {
			size_t len = (size_t)p[0] << 8 | p[1];
			p += 2, n -= 2;
			if (len > n)
				len = n;
			decode(p, len, rels, &arena);
			brook_arena_reset(&arena);
			p += len, n -= len;
		}
	}
	brook_arena_release(&arena);
	pgo_relations_free(rels);
	return 0;
}
