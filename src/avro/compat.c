/*
 * compat.c — Avro reader/writer compatibility (see compat.h for the rules).
 *
 * One check walks the reader and writer graphs in step. A hash table of (reader node,
 * writer node) pairs memoizes each pair's state: IN_PROGRESS while its check runs (met
 * again, it counts as compatible: that is how recursive types terminate), then OK or
 * BAD. A pair already found BAD answers false without repeating its issues. Trying
 * reader-union branches is speculative: issues from branches that fail are dropped, and
 * one MISSING_UNION_BRANCH issue is reported if none fits.
 */
#include "avro/compat.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

#define AVRO_COMPAT_MAX_DEPTH 2000 /* nested pairs on the stack at once */

enum { PAIR_IN_PROGRESS = 1, PAIR_OK, PAIR_BAD };

typedef struct avro_pair {
	const avro_schema *r, *w;
	int state;     /* 0: empty slot */
	bool reported; /* BAD and its issues were reported */
} avro_pair;

typedef struct avro_cctx {
	avro_pair *tab;
	size_t cap, used;
	brook_buf path;
	avro_compat_report *out;
	int depth;
} avro_cctx;

static const char *const avro_incompat_names[] = {
    [AVRO_INCOMPAT_NAME_MISMATCH] = "NAME_MISMATCH",
    [AVRO_INCOMPAT_FIXED_SIZE_MISMATCH] = "FIXED_SIZE_MISMATCH",
    [AVRO_INCOMPAT_MISSING_ENUM_SYMBOLS] = "MISSING_ENUM_SYMBOLS",
    [AVRO_INCOMPAT_READER_FIELD_MISSING_DEFAULT_VALUE] = "READER_FIELD_MISSING_DEFAULT_VALUE",
    [AVRO_INCOMPAT_TYPE_MISMATCH] = "TYPE_MISMATCH",
    [AVRO_INCOMPAT_MISSING_UNION_BRANCH] = "MISSING_UNION_BRANCH",
};

const char *avro_incompat_name(avro_incompat k)
{
	return avro_incompat_names[k];
}

void avro_compat_report_release(avro_compat_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->issues[i].path);
		free(r->issues[i].message);
		free(r->issues[i].info);
	}
	free(r->issues);
	r->issues = NULL;
	r->n = r->cap = 0;
}

/* ---- memo table (open addressing, linear probing) ------------------------------------ */

static size_t avro_pair_hash(const avro_schema *r, const avro_schema *w)
{
	uint64_t h = (uint64_t)(uintptr_t)r * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)(uintptr_t)w + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
	h ^= h >> 29;
	return (size_t)h;
}

static avro_pair *avro_pair_slot(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	size_t i = avro_pair_hash(r, w) & (c->cap - 1);
	while (c->tab[i].state && !(c->tab[i].r == r && c->tab[i].w == w))
		i = (i + 1) & (c->cap - 1);
	return &c->tab[i];
}

static avro_pair *avro_pair_get(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	if ((c->used + 1) * 2 > c->cap) {
		avro_pair *old = c->tab;
		size_t ocap = c->cap;
		c->cap = ocap ? ocap * 2 : 64;
		c->tab = brook_calloc(c->cap, sizeof *c->tab);
		for (size_t i = 0; i < ocap; i++)
			if (old[i].state)
				*avro_pair_slot(c, old[i].r, old[i].w) = old[i];
		free(old);
	}
	avro_pair *p = avro_pair_slot(c, r, w);
	if (!p->state) {
		p->r = r;
		p->w = w;
		c->used++;
	}
	return p;
}

/* ---- issues ---------------------------------------------------------------------------- */

static void avro_issue(avro_cctx *c, avro_incompat kind, const char *suffix, char *info,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void avro_issue(avro_cctx *c, avro_incompat kind, const char *suffix, char *info,
                       const char *fmt, ...)
{
	avro_compat_report *r = c->out;
	if (!r) {
		free(info);
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->issues = brook_realloc(r->issues, r->cap * sizeof *r->issues);
	}
	avro_compat_issue *i = &r->issues[r->n++];
	brook_buf p = BROOK_BUF_INIT;
	brook_buf_append(&p, c->path.data ? c->path.data : "", c->path.len);
	if (suffix)
		brook_buf_puts(&p, suffix);
	if (!p.len)
		brook_buf_putc(&p, '/');
	i->path = brook_buf_detach(&p, NULL);
	brook_buf m = BROOK_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	brook_buf_vprintf(&m, fmt, ap);
	va_end(ap);
	i->message = brook_buf_detach(&m, NULL);
	i->kind = kind;
	i->info = info;
}

static const char *avro_desc(const avro_schema *s)
{
	return avro_type_is_named(avro_schema_type(s)) ? avro_schema_fullname(s)
	                                               : avro_type_name(avro_schema_type(s));
}

static char *avro_upper(const char *s)
{
	char *u = brook_strdup(s);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

static void avro_type_mismatch(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	char *ru = avro_upper(avro_type_name(avro_schema_type(r)));
	char *wu = avro_upper(avro_type_name(avro_schema_type(w)));
	brook_buf info = BROOK_BUF_INIT;
	brook_buf_printf(&info, "reader type: %s not compatible with writer type: %s", ru, wu);
	avro_issue(c, AVRO_INCOMPAT_TYPE_MISMATCH, NULL, brook_buf_detach(&info, NULL),
	           "reader type %s cannot read writer type %s", avro_desc(r), avro_desc(w));
	free(ru);
	free(wu);
}

/* ---- the check ------------------------------------------------------------------------- */

static bool avro_check(avro_cctx *c, const avro_schema *r, const avro_schema *w);

/* Check a child pair with `seg` appended to the path. */
static bool avro_check_at(avro_cctx *c, const avro_schema *r, const avro_schema *w, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
static bool avro_check_at(avro_cctx *c, const avro_schema *r, const avro_schema *w, const char *fmt,
                          ...)
{
	size_t len = c->path.len;
	va_list ap;
	va_start(ap, fmt);
	brook_buf_vprintf(&c->path, fmt, ap);
	va_end(ap);
	bool ok = avro_check(c, r, w);
	brook_buf_truncate(&c->path, len);
	return ok;
}

static bool avro_names_match(const avro_schema *r, const avro_schema *w)
{
	if (!strcmp(avro_schema_shortname(r), avro_schema_shortname(w)))
		return true;
	for (size_t i = 0; i < avro_schema_alias_count(r); i++)
		if (!strcmp(avro_schema_alias(r, i), avro_schema_fullname(w)))
			return true;
	return false;
}

static bool avro_check_name(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	if (avro_names_match(r, w))
		return true;
	brook_buf info = BROOK_BUF_INIT;
	brook_buf_printf(&info, "expected: %s", avro_schema_fullname(w));
	avro_issue(c, AVRO_INCOMPAT_NAME_MISMATCH, "/name", brook_buf_detach(&info, NULL),
	           "reader %s '%s' does not match the writer's name '%s' (nor by alias)",
	           avro_type_name(avro_schema_type(r)), avro_schema_fullname(r),
	           avro_schema_fullname(w));
	return false;
}

static const avro_field *avro_writer_field(const avro_schema *w, const avro_field *rf)
{
	long i = avro_schema_field_index(w, rf->name);
	for (size_t k = 0; i < 0 && k < rf->naliases; k++)
		i = avro_schema_field_index(w, rf->aliases[k]);
	return i < 0 ? NULL : avro_schema_field(w, (size_t)i);
}

static bool avro_check_record(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	bool ok = avro_check_name(c, r, w);
	if (!ok && !c->out)
		return false; /* speculative: the verdict is known */
	for (size_t i = 0; i < avro_schema_field_count(r); i++) {
		const avro_field *rf = avro_schema_field(r, i);
		const avro_field *wf = avro_writer_field(w, rf);
		if (wf) {
			ok &= avro_check_at(c, rf->type, wf->type, "/fields/%zu/type", i);
			continue;
		}
		if (rf->def)
			continue;
		size_t len = c->path.len;
		brook_buf_printf(&c->path, "/fields/%zu", i);
		avro_issue(c, AVRO_INCOMPAT_READER_FIELD_MISSING_DEFAULT_VALUE, NULL,
		           brook_strdup(rf->name),
		           "reader field '%s' has no default and is missing from the writer",
		           rf->name);
		brook_buf_truncate(&c->path, len);
		ok = false;
	}
	return ok;
}

static bool avro_check_enum(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	bool ok = avro_check_name(c, r, w);
	if (!ok && !c->out)
		return false; /* speculative: the verdict is known */
	if (avro_schema_enum_default(r))
		return ok;
	brook_buf missing = BROOK_BUF_INIT;
	for (size_t i = 0; i < avro_schema_symbol_count(w); i++) {
		const char *sym = avro_schema_symbol(w, i);
		if (avro_schema_symbol_index(r, sym) < 0)
			brook_buf_printf(&missing, "%s%s", missing.len ? ", " : "", sym);
	}
	if (!missing.len)
		return ok;
	brook_buf info = BROOK_BUF_INIT;
	brook_buf_printf(&info, "[%s]", missing.data);
	avro_issue(c, AVRO_INCOMPAT_MISSING_ENUM_SYMBOLS, "/symbols", brook_buf_detach(&info, NULL),
	           "reader enum '%s' lacks writer symbols [%s] and has no default",
	           avro_schema_fullname(r), missing.data);
	brook_buf_release(&missing);
	return false;
}

static bool avro_check_fixed(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	bool ok = avro_check_name(c, r, w);
	if (!ok && !c->out)
		return false; /* speculative: the verdict is known */
	if (avro_schema_fixed_size(r) == avro_schema_fixed_size(w))
		return ok;
	brook_buf info = BROOK_BUF_INIT;
	brook_buf_printf(&info, "expected: %lld, found: %lld", (long long)avro_schema_fixed_size(w),
	                 (long long)avro_schema_fixed_size(r));
	avro_issue(c, AVRO_INCOMPAT_FIXED_SIZE_MISMATCH, "/size", brook_buf_detach(&info, NULL),
	           "reader fixed '%s' has size %lld but the writer's has size %lld",
	           avro_schema_fullname(r), (long long)avro_schema_fixed_size(r),
	           (long long)avro_schema_fixed_size(w));
	return false;
}

/* Writer type w (not a union) read by a reader of another type: promotions and unions. */
static bool avro_check_other(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	avro_type rt = avro_schema_type(r), wt = avro_schema_type(w);
	switch (rt) {
	case AVRO_LONG:
		if (wt == AVRO_INT)
			return true;
		break;
	case AVRO_FLOAT:
		if (wt == AVRO_INT || wt == AVRO_LONG)
			return true;
		break;
	case AVRO_DOUBLE:
		if (wt == AVRO_INT || wt == AVRO_LONG || wt == AVRO_FLOAT)
			return true;
		break;
	case AVRO_BYTES:
		if (wt == AVRO_STRING)
			return true;
		break;
	case AVRO_STRING:
		if (wt == AVRO_BYTES)
			return true;
		break;
	case AVRO_UNION: {
		/* Speculative: keep no issues from branches that do not fit. */
		avro_compat_report *out = c->out;
		c->out = NULL;
		bool found = false;
		for (size_t i = 0; i < avro_schema_branch_count(r) && !found; i++)
			found = avro_check(c, avro_schema_branch(r, i), w);
		c->out = out;
		if (found)
			return true;
		char *wu = avro_upper(avro_type_name(wt));
		brook_buf info = BROOK_BUF_INIT;
		brook_buf_printf(&info, "reader union lacking writer type: %s", wu);
		free(wu);
		avro_issue(c, AVRO_INCOMPAT_MISSING_UNION_BRANCH, NULL,
		           brook_buf_detach(&info, NULL),
		           "no branch of the reader union can read writer type %s", avro_desc(w));
		return false;
	}
	default:
		break;
	}
	avro_type_mismatch(c, r, w);
	return false;
}

static bool avro_calc(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	avro_type rt = avro_schema_type(r), wt = avro_schema_type(w);
	if (wt == AVRO_UNION) {
		/* Every branch the writer may have chosen must be readable. */
		bool ok = true;
		for (size_t i = 0; i < avro_schema_branch_count(w); i++)
			ok &= avro_check(c, r, avro_schema_branch(w, i));
		return ok;
	}
	if (rt != wt)
		return avro_check_other(c, r, w);
	switch (rt) {
	case AVRO_ARRAY:
		return avro_check_at(c, avro_schema_items(r), avro_schema_items(w), "/items");
	case AVRO_MAP:
		return avro_check_at(c, avro_schema_values(r), avro_schema_values(w), "/values");
	case AVRO_RECORD:
		return avro_check_record(c, r, w);
	case AVRO_ENUM:
		return avro_check_enum(c, r, w);
	case AVRO_FIXED:
		return avro_check_fixed(c, r, w);
	default:
		return true; /* same primitive */
	}
}

static bool avro_check(avro_cctx *c, const avro_schema *r, const avro_schema *w)
{
	avro_pair *p = avro_pair_get(c, r, w);
	if (p->state == PAIR_IN_PROGRESS || p->state == PAIR_OK)
		return true;
	/* A pair found bad is checked once more only to report its issues, when the first
	 * check was speculative (inside a reader-union trial) and reported none. */
	if (p->state == PAIR_BAD && (p->reported || !c->out))
		return false;
	if (c->depth >= AVRO_COMPAT_MAX_DEPTH) {
		avro_issue(c, AVRO_INCOMPAT_TYPE_MISMATCH, NULL, brook_strdup("too deep"),
		           "schemas nested too deeply to compare (more than %d levels)",
		           AVRO_COMPAT_MAX_DEPTH);
		return false;
	}
	p->state = PAIR_IN_PROGRESS;
	c->depth++;
	bool ok = avro_calc(c, r, w);
	c->depth--;
	/* The table may have grown: find the slot again. */
	p = avro_pair_get(c, r, w);
	p->state = ok ? PAIR_OK : PAIR_BAD;
	p->reported = c->out != NULL;
	return ok;
}

bool avro_can_read(const avro_schema *reader, const avro_schema *writer, avro_compat_report *out)
{
	avro_cctx c = {.out = out};
	brook_buf_init(&c.path, 64);
	bool ok = avro_check(&c, reader, writer);
	free(c.tab);
	brook_buf_release(&c.path);
	return ok;
}
