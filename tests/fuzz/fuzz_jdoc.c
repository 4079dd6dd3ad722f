/* Fuzz target: brook_jdoc_parse on arbitrary bytes, differential against jansson.
 *
 * The oracle is json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL): any top-level value and
 * "\u0000" in strings, as jdoc accepts them. Both must accept or both reject, and when
 * both accept the trees must be equal (same types, values, strings byte for byte; an
 * object's jdoc members, duplicates included, all present in jansson's, whose last
 * duplicate wins as in brook_jnode_get). The documented differences (core/jdoc.h) are
 * the only exceptions allowed:
 *   - an integer beyond int64: jansson "too big (negative) integer", jdoc a real;
 *   - "\u0000" in a key: jansson refuses it even with JSON_ALLOW_NUL, jdoc keeps it;
 *   - nesting deeper than 128: jdoc refuses, jansson allows 2048;
 *   - a NUL byte outside a string: jdoc refuses, jansson 2.14 ignores one after a
 *     number or literal (a jansson bug).
 * Every jdoc error must say where ("at byte N"). The document is also converted from
 * jansson's tree (brook_jdoc_from_json) and compared the same way.
 *
 * Projection, differential against the full parse: the input is parsed again with a
 * projection derived from its bytes (paths walked down the full parse's tree, or keys
 * cut from the text between quotes when it failed; some run past scalars and arrays,
 * some miss). When both parses succeed, the projected tree must be exactly the full one
 * cut down by the paths, computed here independently (proj_same). The projected parse
 * may refuse nothing the full parse accepts; when the full parse refuses for a syntax or
 * depth reason (anything but UTF-8, surrogates, real overflow: what a dropped value is
 * not checked for), the projected one refuses with the same message. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const brook_jnode *x, const json_t *j)
{
	if (!x || !j)
		abort();
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (x->type != BROOK_J_OBJECT || x->u.o.n < json_object_size(j))
			abort();
		for (size_t i = 0; i < x->u.o.n; i++) {
			const json_t *v = json_object_getn(j, x->u.o.keys[i], x->u.o.klen[i]);
			if (!v || x->u.o.keys[i][x->u.o.klen[i]] != '\0')
				abort();
			same(brook_jnode_get(x, x->u.o.keys[i], x->u.o.klen[i]), v);
		}
		break;
	case JSON_ARRAY:
		if (x->type != BROOK_J_ARRAY || x->u.a.n != json_array_size(j))
			abort();
		for (size_t i = 0; i < x->u.a.n; i++)
			same(x->u.a.items[i], json_array_get(j, i));
		break;
	case JSON_STRING:
		if (x->type != BROOK_J_STRING || x->u.s.n != json_string_length(j) ||
		    memcmp(x->u.s.p, json_string_value(j), x->u.s.n + 1) != 0)
			abort();
		break;
	case JSON_INTEGER:
		if (x->type != BROOK_J_INT || x->u.i != json_integer_value(j))
			abort();
		break;
	case JSON_REAL:
		if (x->type != BROOK_J_REAL ||
		    memcmp(&x->u.d, &(double){json_real_value(j)}, sizeof(double)) != 0)
			abort();
		break;
	case JSON_TRUE:
		if (x->type != BROOK_J_TRUE)
			abort();
		break;
	case JSON_FALSE:
		if (x->type != BROOK_J_FALSE)
			abort();
		break;
	case JSON_NULL:
		if (x->type != BROOK_J_NULL)
			abort();
		break;
	}
}

/* ---- projection ---------------------------------------------------------------------- */

#define MAXP 8  /* paths */
#define MAXK 6  /* keys per path */
#define MAXC 16 /* candidate keys cut from the text */

typedef struct fpath {
	const char *k[MAXK];
	size_t kl[MAXK], n;
} fpath;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* pr is f projected by the paths ps[i] from key index at[i] on (live[i]: still on it). */
static bool proj_same(const brook_jnode *f, const brook_jnode *pr, const fpath *ps,
                      const size_t *at, const bool *live, size_t np)
{
	for (size_t i = 0; i < np; i++)
		if (live[i] && at[i] == ps[i].n)
			return brook_jnode_equal(f, pr); /* a path's end: the whole value */
	if (f->type != BROOK_J_OBJECT)
		return brook_jnode_equal(f, pr); /* a scalar, an array or the root: whole */
	if (!pr || pr->type != BROOK_J_OBJECT)
		return false;
	size_t j = 0;
	for (size_t m = 0; m < f->u.o.n; m++) {
		size_t nat[MAXP];
		bool nlive[MAXP], kept = false;
		for (size_t i = 0; i < np; i++) {
			nat[i] = at[i] + 1;
			nlive[i] = live[i] && ps[i].kl[at[i]] == f->u.o.klen[m] &&
			           memcmp(ps[i].k[at[i]], f->u.o.keys[m], f->u.o.klen[m]) == 0;
			kept |= nlive[i];
		}
		if (!kept)
			continue;
		if (j >= pr->u.o.n || pr->u.o.klen[j] != f->u.o.klen[m] ||
		    memcmp(pr->u.o.keys[j], f->u.o.keys[m], f->u.o.klen[m] + 1) != 0 ||
		    !proj_same(f->u.o.vals[m], pr->u.o.vals[j], ps, nat, nlive, np))
			return false;
		j++;
	}
	return j == pr->u.o.n;
}

/* Paths from the bytes: down the full tree when there is one, else from cut keys. */
static size_t make_paths(const uint8_t *data, size_t size, const brook_jnode *full, fpath *ps)
{
	const char *cand[MAXC];
	size_t cl[MAXC], nc = 0;
	uint64_t seed = 1469598103934665603u;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211u;
	seed |= 1;
	for (size_t i = 0; i < size && nc < MAXC; i++) {
		if (data[i] != '"')
			continue;
		const uint8_t *q = memchr(data + i + 1, '"', size - i - 1);
		if (!q)
			break;
		cand[nc] = (const char *)data + i + 1;
		cl[nc++] = (size_t)(q - data) - i - 1;
		i = (size_t)(q - data); /* the closing quote */
	}
	if (nc == 0) {
		cand[0] = "a";
		cl[0] = 1;
		nc = 1;
	}
	size_t np = rnd(&seed) % (MAXP + 1);
	for (size_t i = 0; i < np; i++) {
		fpath *p = &ps[i];
		const brook_jnode *n = full;
		size_t want = rnd(&seed) % (MAXK + 1);
		if (rnd(&seed) % 16 == 0)
			want = 0; /* the whole document */
		else if (want == 0)
			want = 1;
		p->n = 0;
		while (p->n < want) {
			uint64_t r = rnd(&seed);
			if (n && n->type == BROOK_J_OBJECT && n->u.o.n && r % 8) {
				size_t m = (r >> 8) % n->u.o.n;
				p->k[p->n] = n->u.o.keys[m];
				p->kl[p->n++] = n->u.o.klen[m];
				n = n->u.o.vals[m];
			} else {
				size_t c = (r >> 8) % nc;
				p->k[p->n] = cand[c];
				p->kl[p->n++] = cl[c];
				n = NULL;
			}
		}
	}
	return np;
}

/* What a dropped value is not checked for. */
static bool content_error(const char *e)
{
	return strstr(e, "invalid UTF-8") || strstr(e, "unpaired surrogate") ||
	       strstr(e, "real number overflow");
}

static void check_projection(const uint8_t *data, size_t size, const brook_jnode *full,
                             const char *full_err, brook_arena *a)
{
	fpath ps[MAXP];
	size_t at[MAXP] = {0};
	bool live[MAXP];
	char err[256];
	size_t np = make_paths(data, size, full, ps);
	brook_jproj *pj = brook_jproj_new();
	for (size_t i = 0; i < np; i++) {
		brook_jproj_add(pj, ps[i].k, ps[i].kl, ps[i].n);
		live[i] = true;
	}
	brook_jdoc_parser *p = brook_jdoc_parser_new();
	err[0] = '\0';
	const brook_jnode *x =
	    brook_jdoc_parser_parse_proj(p, (const char *)data, size, pj, a, err, sizeof err);
	if (full && !x) {
		fprintf(stderr, "the projected parse refuses what the full one accepts: %s\n", err);
		abort();
	}
	if (full && !proj_same(full, x, ps, at, live, np)) {
		fprintf(stderr, "the projected tree is not the full one projected\n");
		abort();
	}
	if (!full && !x && !strstr(err, " at byte "))
		abort();
	if (!full && !content_error(full_err) && (x || strcmp(err, full_err) != 0)) {
		fprintf(stderr, "full parse: %s; projected: %s\n", full_err, x ? "ok" : err);
		abort();
	}
	brook_jdoc_parser_free(p);
	brook_jproj_free(pj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	brook_arena a = BROOK_ARENA_INIT;
	char err[256];
	json_error_t jerr;

	if (size > (1u << 20))
		return 0;
	err[0] = '\0';
	const brook_jnode *x = brook_jdoc_parse((const char *)data, size, &a, err, sizeof err);
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!x && !strstr(err, " at byte "))
		abort(); /* an error always says where */
	check_projection(data, size, x, err, &a);
	if (x && j) {
		same(x, j);
		same(brook_jdoc_from_json(j, &a), j);
	} else if (x && !j) {
		if (!strstr(jerr.text, "too big") && !strstr(jerr.text, "NUL byte in object key"))
			abort();
	} else if (!x && j) {
		if (!strstr(err, "nesting deeper than") && strncmp(err, "NUL byte", 8) != 0) {
			fprintf(stderr, "jdoc refuses what jansson accepts: %s\n", err);
			abort();
		}
	}
	json_decref(j);
	brook_arena_release(&a);
	return 0;
}
