/*
 * datum.c — Avro binary encoder, decoder and resolving decoder (see datum.h).
 *
 * One context (avro_dctx) serves the three walks: the output buffer when encoding, the
 * bounded input cursor when decoding, the path of the value being worked on (for error
 * messages), the depth, the value budget and the first error. Every walker returns
 * BROOK_ERR / NULL after recording the first error with avro_dfail(); callers just
 * propagate. Union trials while encoding save and restore the error state.
 *
 * Decoding builds jdoc nodes in the caller's arena (the json_t API converts them
 * afterwards). Records know their member count from the schema; arrays and maps do not
 * until the last block, so their member vectors grow by doubling in the arena (the
 * abandoned copies cost at most as much as the final vector). A reader default is
 * encoded with the reader type into the decode's scratch buffer and decoded back, so it
 * takes the decoded form (1 as a double default becomes 1.0) with no second converter.
 */
#include "avro/datum.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "avro/binary.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/varint.h"

typedef struct avro_dctx {
	/* decoding: [start, end) the input, p the cursor (all NULL for empty input) */
	const uint8_t *start, *p, *end;
	size_t budget;     /* values the decoder may still produce */
	brook_arena *a;    /* where decoded nodes go */
	brook_buf scratch; /* reader defaults encoded before decoding (resolving only) */
	/* encoding */
	brook_buf *out;
	bool defmode; /* encoding a default: unions take their first branch */
	/* both */
	int depth;
	char path[256];
	size_t plen;
	char *err;
	size_t errlen;
	bool failed;
} avro_dctx;

static void avro_dfail(avro_dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void avro_dfail(avro_dctx *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!c->err || !c->errlen)
		return;
	if (c->start)
		snprintf(c->err, c->errlen, "%s at %s (byte %zu)", msg, c->plen ? c->path : "/",
		         (size_t)(c->p - c->start));
	else
		snprintf(c->err, c->errlen, "%s at %s", msg, c->plen ? c->path : "/");
}

/* Append "/seg" to the path (truncated when too long); returns the length to restore. */
static size_t avro_path_push(avro_dctx *c, const char *seg, size_t n)
{
	size_t old = c->plen;
	size_t room = sizeof c->path - 1 - c->plen;
	if (room == 0)
		return old;
	c->path[c->plen++] = '/';
	room--;
	if (n > room)
		n = room;
	memcpy(c->path + c->plen, seg, n);
	c->plen += n;
	c->path[c->plen] = '\0';
	return old;
}

static size_t avro_path_index(avro_dctx *c, uint64_t i)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%llu", (unsigned long long)i);
	return avro_path_push(c, num, (size_t)n);
}

static void avro_path_pop(avro_dctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static bool avro_enter(avro_dctx *c)
{
	if (c->depth >= AVRO_DATUM_MAX_DEPTH) {
		avro_dfail(c, "value nested deeper than %d levels", AVRO_DATUM_MAX_DEPTH);
		return false;
	}
	c->depth++;
	return true;
}

/* ---- bytes <-> code points U+0000..U+00FF ---- */

/* Bytes of a JSON string holding code points 0-255 (valid UTF-8 from jansson), into a new
 * buffer of at most n bytes. Returns false when a code point is above U+00FF. */
static bool avro_cp_to_bytes(const char *s, size_t n, uint8_t **out, size_t *outn)
{
	uint8_t *b = brook_malloc(n ? n : 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];
		if (ch < 0x80) {
			b[k++] = ch;
		} else if ((ch == 0xc2 || ch == 0xc3) && i + 1 < n &&
		           ((uint8_t)s[i + 1] & 0xc0) == 0x80) {
			b[k++] = (uint8_t)((ch & 0x1f) << 6 | ((uint8_t)s[i + 1] & 0x3f));
			i++;
		} else {
			free(b);
			return false;
		}
	}
	*out = b;
	*outn = k;
	return true;
}

/* ---- encoding ---- */

static const char *avro_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "?";
}

static int avro_enc(avro_dctx *c, const avro_schema *s, const json_t *v);

static int avro_enc_mismatch(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	avro_type t = avro_schema_type(s);
	if (avro_type_is_named(t))
		avro_dfail(c, "expected a value of %s %s, got %s", avro_type_name(t),
		           avro_schema_fullname(s), avro_json_kind(v));
	else
		avro_dfail(c, "expected a value of type %s, got %s", avro_type_name(t),
		           avro_json_kind(v));
	return BROOK_ERR;
}

static int avro_enc_number(avro_dctx *c, const avro_schema *s, const json_t *v, bool dbl)
{
	double d;
	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return avro_enc_mismatch(c, s, v);
	if (dbl) {
		avro_put_double(c->out, d);
		return BROOK_OK;
	}
	float f = (float)d;
	if (!isfinite(f)) {
		avro_dfail(c, "%g is out of the range of a float", d);
		return BROOK_ERR;
	}
	avro_put_float(c->out, f);
	return BROOK_OK;
}

/* bytes (size < 0) or fixed (size >= 0) */
static int avro_enc_bytes(avro_dctx *c, const avro_schema *s, const json_t *v, int64_t size)
{
	if (!json_is_string(v))
		return avro_enc_mismatch(c, s, v);
	uint8_t *b;
	size_t n;
	if (!avro_cp_to_bytes(json_string_value(v), json_string_length(v), &b, &n)) {
		avro_dfail(c,
		           "%s value has a character above U+00FF (bytes are written as "
		           "code points 0-255)",
		           avro_type_name(avro_schema_type(s)));
		return BROOK_ERR;
	}
	if (size >= 0 && (uint64_t)size != n) {
		avro_dfail(c, "fixed %s needs %lld bytes, got %zu", avro_schema_fullname(s),
		           (long long)size, n);
		free(b);
		return BROOK_ERR;
	}
	if (size < 0)
		avro_put_long(c->out, (int64_t)n);
	brook_buf_append(c->out, b, n);
	free(b);
	return BROOK_OK;
}

static int avro_enc_record(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	if (!json_is_object(v))
		return avro_enc_mismatch(c, s, v);
	for (void *it = json_object_iter((json_t *)v); it;
	     it = json_object_iter_next((json_t *)v, it)) {
		const char *k = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		if (strlen(k) != klen || avro_schema_field_index(s, k) < 0) {
			avro_dfail(c, "record %s has no field '%s'", avro_schema_fullname(s), k);
			return BROOK_ERR;
		}
	}
	size_t nf = avro_schema_field_count(s);
	for (size_t i = 0; i < nf; i++) {
		const avro_field *f = avro_schema_field(s, i);
		size_t old = avro_path_push(c, f->name, strlen(f->name));
		const json_t *fv = json_object_get(v, f->name);
		int rc;
		if (fv) {
			rc = avro_enc(c, f->type, fv);
		} else if (f->def) {
			bool saved = c->defmode;
			c->defmode = true;
			rc = avro_enc(c, f->type, f->def);
			c->defmode = saved;
		} else {
			avro_dfail(c, "missing field '%s' (it has no default)", f->name);
			rc = BROOK_ERR;
		}
		if (rc < 0)
			return rc;
		avro_path_pop(c, old);
	}
	return BROOK_OK;
}

/* Preference order of branch types for a JSON value (see datum.h). */
static size_t avro_union_prefs(const json_t *v, avro_type *t)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
		t[0] = AVRO_NULL;
		return 1;
	case JSON_TRUE:
	case JSON_FALSE:
		t[0] = AVRO_BOOLEAN;
		return 1;
	case JSON_INTEGER:
		t[0] = AVRO_INT;
		t[1] = AVRO_LONG;
		t[2] = AVRO_DOUBLE;
		t[3] = AVRO_FLOAT;
		return 4;
	case JSON_REAL:
		t[0] = AVRO_DOUBLE;
		t[1] = AVRO_FLOAT;
		return 2;
	case JSON_STRING:
		t[0] = AVRO_STRING;
		t[1] = AVRO_ENUM;
		t[2] = AVRO_BYTES;
		t[3] = AVRO_FIXED;
		return 4;
	case JSON_OBJECT:
		t[0] = AVRO_RECORD;
		t[1] = AVRO_MAP;
		return 2;
	case JSON_ARRAY:
		t[0] = AVRO_ARRAY;
		return 1;
	}
	return 0;
}

static int avro_enc_union(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	size_t nb = avro_schema_branch_count(s);
	if (c->defmode) {
		avro_put_long(c->out, 0);
		return avro_enc(c, avro_schema_branch(s, 0), v);
	}
	avro_type prefs[4];
	size_t np = avro_union_prefs(v, prefs);
	char first[256] = "", tmp[256];
	char *saved_err = c->err;
	size_t saved_errlen = c->errlen, mark = c->out->len, plen = c->plen;
	for (size_t k = 0; k < np; k++) {
		for (size_t i = 0; i < nb; i++) {
			const avro_schema *b = avro_schema_branch(s, i);
			if (avro_schema_type(b) != prefs[k])
				continue;
			c->err = tmp;
			c->errlen = sizeof tmp;
			c->failed = false;
			tmp[0] = '\0';
			avro_put_long(c->out, (int64_t)i);
			int rc = avro_enc(c, b, v);
			c->err = saved_err;
			c->errlen = saved_errlen;
			avro_path_pop(c, plen);
			if (rc == BROOK_OK)
				return BROOK_OK;
			if (!first[0])
				memcpy(first, tmp, sizeof first);
			brook_buf_truncate(c->out, mark);
		}
	}
	c->failed = false;
	if (first[0]) {
		/* report the first branch's own message (it already carries the path) */
		c->failed = true;
		if (c->err && c->errlen)
			snprintf(c->err, c->errlen, "%s", first);
	} else {
		avro_dfail(c, "%s matches no branch of the union", avro_json_kind(v));
	}
	return BROOK_ERR;
}

static int avro_enc_array(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	if (!json_is_array(v))
		return avro_enc_mismatch(c, s, v);
	size_t n = json_array_size(v);
	if (n) {
		avro_put_long(c->out, (int64_t)n);
		for (size_t i = 0; i < n; i++) {
			size_t old = avro_path_index(c, i);
			if (avro_enc(c, avro_schema_items(s), json_array_get(v, i)) < 0)
				return BROOK_ERR;
			avro_path_pop(c, old);
		}
	}
	avro_put_long(c->out, 0);
	return BROOK_OK;
}

static int avro_enc_map(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	if (!json_is_object(v))
		return avro_enc_mismatch(c, s, v);
	size_t n = json_object_size(v);
	if (n) {
		avro_put_long(c->out, (int64_t)n);
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			const char *k = json_object_iter_key(it);
			size_t klen = json_object_iter_key_len(it);
			if (strlen(k) != klen) {
				avro_dfail(c, "map key contains a NUL character");
				return BROOK_ERR;
			}
			avro_put_long(c->out, (int64_t)klen);
			brook_buf_append(c->out, k, klen);
			size_t old = avro_path_push(c, k, klen);
			if (avro_enc(c, avro_schema_values(s), json_object_iter_value(it)) < 0)
				return BROOK_ERR;
			avro_path_pop(c, old);
		}
	}
	avro_put_long(c->out, 0);
	return BROOK_OK;
}

static int avro_enc_inner(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	switch (avro_schema_type(s)) {
	case AVRO_NULL:
		if (!json_is_null(v))
			return avro_enc_mismatch(c, s, v);
		return BROOK_OK;
	case AVRO_BOOLEAN:
		if (!json_is_boolean(v))
			return avro_enc_mismatch(c, s, v);
		avro_put_boolean(c->out, json_is_true(v));
		return BROOK_OK;
	case AVRO_INT:
	case AVRO_LONG:
		if (!json_is_integer(v))
			return avro_enc_mismatch(c, s, v);
		if (avro_schema_type(s) == AVRO_INT &&
		    (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)) {
			avro_dfail(c, "%lld is out of the range of an int",
			           (long long)json_integer_value(v));
			return BROOK_ERR;
		}
		avro_put_long(c->out, json_integer_value(v));
		return BROOK_OK;
	case AVRO_FLOAT:
		return avro_enc_number(c, s, v, false);
	case AVRO_DOUBLE:
		return avro_enc_number(c, s, v, true);
	case AVRO_STRING:
		if (!json_is_string(v))
			return avro_enc_mismatch(c, s, v);
		avro_put_bytes(c->out, json_string_value(v), json_string_length(v));
		return BROOK_OK;
	case AVRO_BYTES:
		return avro_enc_bytes(c, s, v, -1);
	case AVRO_FIXED:
		return avro_enc_bytes(c, s, v, avro_schema_fixed_size(s));
	case AVRO_ENUM: {
		if (!json_is_string(v))
			return avro_enc_mismatch(c, s, v);
		const char *sym = json_string_value(v);
		long i =
		    strlen(sym) == json_string_length(v) ? avro_schema_symbol_index(s, sym) : -1;
		if (i < 0) {
			avro_dfail(c, "'%s' is not a symbol of enum %s", sym,
			           avro_schema_fullname(s));
			return BROOK_ERR;
		}
		avro_put_long(c->out, i);
		return BROOK_OK;
	}
	case AVRO_RECORD:
		return avro_enc_record(c, s, v);
	case AVRO_ARRAY:
		return avro_enc_array(c, s, v);
	case AVRO_MAP:
		return avro_enc_map(c, s, v);
	case AVRO_UNION:
		return avro_enc_union(c, s, v);
	}
	avro_dfail(c, "unknown schema type");
	return BROOK_ERR;
}

static int avro_enc(avro_dctx *c, const avro_schema *s, const json_t *v)
{
	if (!avro_enter(c))
		return BROOK_ERR;
	int rc = avro_enc_inner(c, s, v);
	c->depth--;
	return rc;
}

int avro_encode(const avro_schema *s, const json_t *v, brook_buf *out, char *err, size_t errlen)
{
	avro_dctx c;
	memset(&c, 0, sizeof c);
	c.out = out;
	c.err = err;
	c.errlen = errlen;
	size_t mark = out->len;
	if (avro_enc(&c, s, v) < 0) {
		brook_buf_truncate(out, mark);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

/* ---- decoding ---- */

/* The scalars without a payload are shared, read-only nodes (jdoc nodes are immutable). */
static const brook_jnode avro_jnull = {.type = BROOK_J_NULL};
static const brook_jnode avro_jtrue = {.type = BROOK_J_TRUE};
static const brook_jnode avro_jfalse = {.type = BROOK_J_FALSE};

static brook_jnode *avro_node(avro_dctx *c, brook_jtype t)
{
	brook_jnode *n = brook_arena_alloc(c->a, sizeof *n);
	n->type = t;
	return n;
}

static const brook_jnode *avro_jint(avro_dctx *c, int64_t v)
{
	brook_jnode *n = avro_node(c, BROOK_J_INT);
	n->u.i = v;
	return n;
}

static const brook_jnode *avro_jreal(avro_dctx *c, double d)
{
	brook_jnode *n = avro_node(c, BROOK_J_REAL);
	n->u.d = d;
	return n;
}

/* A string node holding a NUL-terminated copy of p[0..n) (already valid UTF-8). */
static const brook_jnode *avro_jstr(avro_dctx *c, const char *p, size_t n)
{
	brook_jnode *s = avro_node(c, BROOK_J_STRING);
	s->u.s.p = brook_arena_strndup(c->a, p, n);
	s->u.s.n = n;
	return s;
}

/* Bytes as a string of code points U+0000..U+00FF (bytes 0x80-0xff take two UTF-8
 * bytes each). */
static const brook_jnode *avro_jbytes(avro_dctx *c, const uint8_t *p, size_t n)
{
	size_t k = n;
	for (size_t i = 0; i < n; i++)
		k += p[i] >> 7;
	char *s = brook_arena_alloc(c->a, k + 1);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			s[k++] = (char)p[i];
		} else {
			s[k++] = (char)(0xc0 | p[i] >> 6);
			s[k++] = (char)(0x80 | (p[i] & 0x3f));
		}
	}
	s[k] = '\0';
	brook_jnode *v = avro_node(c, BROOK_J_STRING);
	v->u.s.p = s;
	v->u.s.n = k;
	return v;
}

static size_t avro_left(const avro_dctx *c)
{
	return (size_t)(c->end - c->p);
}

static bool avro_get_long(avro_dctx *c, int64_t *v, const char *what)
{
	int r = brook_varint_get_i64(c->p, avro_left(c), v);
	if (r == 0) {
		avro_dfail(c, "input ends inside %s", what);
		return false;
	}
	if (r < 0) {
		avro_dfail(c, "malformed varint for %s", what);
		return false;
	}
	c->p += r;
	return true;
}

static bool avro_get_int(avro_dctx *c, int32_t *v, const char *what)
{
	int r = brook_varint_get_i32(c->p, avro_left(c), v);
	if (r == 0) {
		avro_dfail(c, "input ends inside %s", what);
		return false;
	}
	if (r < 0) {
		avro_dfail(c, "malformed varint for %s (out of the range of an int)", what);
		return false;
	}
	c->p += r;
	return true;
}

/* A length-prefixed byte run (bytes, string, map key): a view into the input. */
static const uint8_t *avro_get_run(avro_dctx *c, size_t *n, const char *what)
{
	int64_t len;
	if (!avro_get_long(c, &len, what))
		return NULL;
	if (len < 0) {
		avro_dfail(c, "negative length %lld for %s", (long long)len, what);
		return NULL;
	}
	if ((uint64_t)len > avro_left(c)) {
		avro_dfail(c, "length %lld of %s exceeds the %zu bytes left", (long long)len, what,
		           avro_left(c));
		return NULL;
	}
	static const uint8_t empty[1];
	const uint8_t *p = len ? c->p : empty; /* non-NULL even at the end of no input */
	c->p += len;
	*n = (size_t)len;
	return p;
}

static const uint8_t *avro_get_fixed(avro_dctx *c, size_t n, const char *what)
{
	if (n > avro_left(c)) {
		avro_dfail(c, "input ends inside %s (%zu bytes needed, %zu left)", what, n,
		           avro_left(c));
		return NULL;
	}
	static const uint8_t empty[1];
	if (!n)
		return empty; /* fixed(0): non-NULL even for an empty input */
	const uint8_t *p = c->p;
	c->p += n;
	return p;
}

/* A length-prefixed UTF-8 run (a string, a map key, bytes read as a string), reported at
 * its start when it is not valid UTF-8: with the message bad, or "invalid UTF-8 in what". */
static const uint8_t *avro_get_utf8(avro_dctx *c, size_t *n, const char *what, const char *bad)
{
	const uint8_t *p = avro_get_run(c, n, what);
	if (p && !brook_utf8_valid(p, *n)) {
		c->p = p;
		if (bad)
			avro_dfail(c, "%s", bad);
		else
			avro_dfail(c, "invalid UTF-8 in %s", what);
		return NULL;
	}
	return p;
}

static const brook_jnode *avro_get_string(avro_dctx *c, const char *what)
{
	size_t n;
	const uint8_t *p = avro_get_utf8(c, &n, what, NULL);
	return p ? avro_jstr(c, (const char *)p, n) : NULL;
}

/* A map key: a string without NUL characters (jdoc keys are C strings too, and most of
 * jansson's object API takes keys as C strings). A view into the input. */
static const uint8_t *avro_get_key(avro_dctx *c, size_t *n)
{
	const uint8_t *at = c->p;
	const uint8_t *p = avro_get_utf8(c, n, "a map key", NULL);
	if (p && memchr(p, 0, *n)) {
		c->p = at;
		avro_dfail(c, "map key contains a NUL character");
		return NULL;
	}
	return p;
}

/* Read an array/map block header: *count items follow (0 ends the value). */
static bool avro_get_block(avro_dctx *c, int64_t *count)
{
	if (!avro_get_long(c, count, "a block count"))
		return false;
	if (*count < 0) {
		if (*count == INT64_MIN) {
			avro_dfail(c, "invalid block count");
			return false;
		}
		*count = -*count;
		int64_t size;
		if (!avro_get_long(c, &size, "a block size"))
			return false;
		if (size < 0 || (uint64_t)size > avro_left(c)) {
			avro_dfail(c, "block size %lld does not fit the %zu bytes left",
			           (long long)size, avro_left(c));
			return false;
		}
	}
	if ((uint64_t)*count > c->budget) {
		avro_dfail(c, "block count %lld is more than the input can hold",
		           (long long)*count);
		return false;
	}
	return true;
}

static bool avro_spend(avro_dctx *c)
{
	if (c->budget == 0) {
		avro_dfail(c, "too many values for the input size");
		return false;
	}
	c->budget--;
	return true;
}

static const brook_jnode *avro_get_float(avro_dctx *c, bool dbl)
{
	const uint8_t *p = avro_get_fixed(c, dbl ? 8 : 4, dbl ? "a double" : "a float");
	if (!p)
		return NULL;
	uint64_t u = 0;
	for (size_t i = dbl ? 8 : 4; i-- > 0;)
		u = u << 8 | p[i];
	double d;
	if (dbl) {
		memcpy(&d, &u, 8);
	} else {
		uint32_t u32 = (uint32_t)u;
		float f;
		memcpy(&f, &u32, 4);
		d = f;
	}
	if (!isfinite(d)) {
		c->p = p;
		avro_dfail(c, "%s is not finite (NaN and infinities have no JSON form)",
		           dbl ? "double" : "float");
		return NULL;
	}
	return avro_jreal(c, d);
}

static const brook_jnode *avro_dec(avro_dctx *c, const avro_schema *s);

static const brook_jnode *avro_res(avro_dctx *c, const avro_schema *w, const avro_schema *r);

/* One element of an array or map: decoded with its writer schema w, resolved to the
 * reader schema r unless r is NULL (plain decoding). */
static const brook_jnode *dec_elem(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	return r ? avro_res(c, w, r) : avro_dec(c, w);
}

/* Room for one more element in an arena vector of n elements of `size` bytes: the
 * capacity doubles (the first one is the first block's count, at most 64), so the
 * copies left behind in the arena cost at most as much as the final vector. */
static void *avro_vec_room(avro_dctx *c, void *v, size_t n, size_t *cap, int64_t count, size_t size)
{
	if (n < *cap)
		return v;
	size_t nc = *cap ? *cap * 2 : (count < 64 ? (size_t)count : 64);
	void *nv = brook_arena_alloc(c->a, nc * size);
	if (n)
		memcpy(nv, v, n * size);
	*cap = nc;
	return nv;
}

/* An array's blocks; items w (writer) and r (reader, or NULL). */
static const brook_jnode *dec_array(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	const brook_jnode **items = NULL;
	size_t n = 0, cap = 0;
	int64_t count;
	while (avro_get_block(c, &count) && count) {
		for (int64_t k = 0; k < count; k++) {
			size_t old = avro_path_index(c, n);
			const brook_jnode *v = dec_elem(c, w, r);
			if (!v)
				break;
			avro_path_pop(c, old);
			items = avro_vec_room(c, items, n, &cap, count, sizeof *items);
			items[n++] = v;
		}
		if (c->failed)
			break;
	}
	if (c->failed)
		return NULL;
	brook_jnode *a = avro_node(c, BROOK_J_ARRAY);
	a->u.a.n = n;
	a->u.a.items = n ? items : NULL;
	return a;
}

/* A map's blocks; values w (writer) and r (reader, or NULL). Members keep the input
 * order, a repeated key included (lookups take the last one). */
static const brook_jnode *dec_map(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	const char **keys = NULL;
	size_t *klen = NULL;
	const brook_jnode **vals = NULL;
	size_t n = 0, cap = 0;
	int64_t count;
	while (avro_get_block(c, &count) && count) {
		for (int64_t k = 0; k < count; k++) {
			size_t kn;
			const uint8_t *key = avro_get_key(c, &kn);
			if (!key)
				break;
			size_t old = avro_path_push(c, (const char *)key, kn);
			const brook_jnode *v = dec_elem(c, w, r);
			if (!v)
				break;
			avro_path_pop(c, old);
			size_t kc = cap, lc = cap;
			keys = avro_vec_room(c, keys, n, &kc, count, sizeof *keys);
			klen = avro_vec_room(c, klen, n, &lc, count, sizeof *klen);
			vals = avro_vec_room(c, vals, n, &cap, count, sizeof *vals);
			keys[n] = brook_arena_strndup(c->a, (const char *)key, kn);
			klen[n] = kn;
			vals[n++] = v;
		}
		if (c->failed)
			break;
	}
	if (c->failed)
		return NULL;
	brook_jnode *m = avro_node(c, BROOK_J_OBJECT);
	m->u.o.n = n;
	m->u.o.keys = n ? keys : NULL;
	m->u.o.klen = n ? klen : NULL;
	m->u.o.vals = n ? vals : NULL;
	return m;
}

/* An object node for a record's nf fields, keyed by the field names (copied); the
 * caller fills vals. */
static brook_jnode *avro_record_node(avro_dctx *c, const avro_schema *s, size_t nf)
{
	brook_jnode *o = avro_node(c, BROOK_J_OBJECT);
	o->u.o.n = nf;
	o->u.o.keys = NULL;
	o->u.o.klen = NULL;
	o->u.o.vals = NULL;
	if (!nf)
		return o;
	o->u.o.keys = brook_arena_alloc(c->a, nf * sizeof *o->u.o.keys);
	o->u.o.klen = brook_arena_alloc(c->a, nf * sizeof *o->u.o.klen);
	o->u.o.vals = brook_arena_calloc(c->a, nf * sizeof *o->u.o.vals);
	for (size_t i = 0; i < nf; i++) {
		const char *name = avro_schema_field(s, i)->name;
		o->u.o.klen[i] = strlen(name);
		o->u.o.keys[i] = brook_arena_strndup(c->a, name, o->u.o.klen[i]);
	}
	return o;
}

static const brook_jnode *avro_dec_inner(avro_dctx *c, const avro_schema *s)
{
	switch (avro_schema_type(s)) {
	case AVRO_NULL:
		return &avro_jnull;
	case AVRO_BOOLEAN: {
		const uint8_t *p = avro_get_fixed(c, 1, "a boolean");
		if (!p)
			return NULL;
		if (*p > 1) {
			c->p = p;
			avro_dfail(c, "boolean byte is %u, not 0 or 1", *p);
			return NULL;
		}
		return *p ? &avro_jtrue : &avro_jfalse;
	}
	case AVRO_INT: {
		int32_t v;
		return avro_get_int(c, &v, "an int") ? avro_jint(c, v) : NULL;
	}
	case AVRO_LONG: {
		int64_t v;
		return avro_get_long(c, &v, "a long") ? avro_jint(c, v) : NULL;
	}
	case AVRO_FLOAT:
		return avro_get_float(c, false);
	case AVRO_DOUBLE:
		return avro_get_float(c, true);
	case AVRO_STRING:
		return avro_get_string(c, "a string");
	case AVRO_BYTES: {
		size_t n;
		const uint8_t *p = avro_get_run(c, &n, "bytes");
		return p ? avro_jbytes(c, p, n) : NULL;
	}
	case AVRO_FIXED: {
		const uint8_t *p =
		    avro_get_fixed(c, (size_t)avro_schema_fixed_size(s), "a fixed value");
		return p ? avro_jbytes(c, p, (size_t)avro_schema_fixed_size(s)) : NULL;
	}
	case AVRO_ENUM: {
		int32_t i;
		if (!avro_get_int(c, &i, "an enum index"))
			return NULL;
		if (i < 0 || (size_t)i >= avro_schema_symbol_count(s)) {
			avro_dfail(c, "enum index %d out of range for %s (%zu symbols)", (int)i,
			           avro_schema_fullname(s), avro_schema_symbol_count(s));
			return NULL;
		}
		const char *sym = avro_schema_symbol(s, (size_t)i);
		return avro_jstr(c, sym, strlen(sym));
	}
	case AVRO_UNION: {
		int64_t i;
		if (!avro_get_long(c, &i, "a union branch index"))
			return NULL;
		if (i < 0 || (uint64_t)i >= avro_schema_branch_count(s)) {
			avro_dfail(c, "union branch %lld out of range (%zu branches)", (long long)i,
			           avro_schema_branch_count(s));
			return NULL;
		}
		return avro_dec(c, avro_schema_branch(s, (size_t)i));
	}
	case AVRO_RECORD: {
		size_t nf = avro_schema_field_count(s);
		brook_jnode *o = avro_record_node(c, s, nf);
		for (size_t i = 0; i < nf; i++) {
			const avro_field *f = avro_schema_field(s, i);
			size_t old = avro_path_push(c, o->u.o.keys[i], o->u.o.klen[i]);
			if (!(o->u.o.vals[i] = avro_dec(c, f->type)))
				return NULL;
			avro_path_pop(c, old);
		}
		return o;
	}
	case AVRO_ARRAY:
		return dec_array(c, avro_schema_items(s), NULL);
	case AVRO_MAP:
		return dec_map(c, avro_schema_values(s), NULL);
	}
	avro_dfail(c, "unknown schema type");
	return NULL;
}

static const brook_jnode *avro_dec(avro_dctx *c, const avro_schema *s)
{
	if (!avro_spend(c) || !avro_enter(c))
		return NULL;
	const brook_jnode *v = avro_dec_inner(c, s);
	c->depth--;
	return v;
}

static void avro_dctx_init(avro_dctx *c, const uint8_t *buf, size_t len, brook_arena *a, char *err,
                           size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->start = buf;
	c->p = buf;
	c->end = len ? buf + len : buf;
	c->budget = len + AVRO_DATUM_MAX_EMPTY_VALUES;
	c->a = a;
	c->err = err;
	c->errlen = errlen;
}

static int avro_dec_finish(avro_dctx *c, const brook_jnode *v, const brook_jnode **out)
{
	if (v && c->p != c->end)
		avro_dfail(c, "%zu trailing bytes after the datum", avro_left(c));
	*out = c->failed ? NULL : v;
	return c->failed ? BROOK_ERR : BROOK_OK;
}

/* ---- resolving decoder ---- */

/* Named types match by unqualified name or by the writer's full name among the reader's
 * aliases (as compat.c). */
static bool avro_names_match(const avro_schema *w, const avro_schema *r)
{
	if (!strcmp(avro_schema_shortname(w), avro_schema_shortname(r)))
		return true;
	for (size_t i = 0; i < avro_schema_alias_count(r); i++)
		if (!strcmp(avro_schema_alias(r, i), avro_schema_fullname(w)))
			return true;
	return false;
}

static bool avro_promotes(avro_type w, avro_type r)
{
	switch (w) {
	case AVRO_INT:
		return r == AVRO_LONG || r == AVRO_FLOAT || r == AVRO_DOUBLE;
	case AVRO_LONG:
		return r == AVRO_FLOAT || r == AVRO_DOUBLE;
	case AVRO_FLOAT:
		return r == AVRO_DOUBLE;
	case AVRO_STRING:
		return r == AVRO_BYTES;
	case AVRO_BYTES:
		return r == AVRO_STRING;
	default:
		return false;
	}
}

/* The reader union branch for a non-union writer: same type (and name) first, then the
 * first promotion target. NULL when none. */
static const avro_schema *avro_pick_branch(const avro_schema *w, const avro_schema *r)
{
	avro_type wt = avro_schema_type(w);
	size_t nb = avro_schema_branch_count(r);
	for (size_t i = 0; i < nb; i++) {
		const avro_schema *b = avro_schema_branch(r, i);
		if (avro_schema_type(b) == wt &&
		    (!avro_type_is_named(wt) || avro_names_match(w, b)))
			return b;
	}
	for (size_t i = 0; i < nb; i++) {
		const avro_schema *b = avro_schema_branch(r, i);
		if (avro_promotes(wt, avro_schema_type(b)))
			return b;
	}
	return NULL;
}

/* The reader's default for a field the writer lacks, in decoded form: encoded with the
 * reader type (unions take their first branch, as the spec says) into the decode's
 * scratch buffer and decoded back into the arena. */
static const brook_jnode *avro_default_value(avro_dctx *c, const avro_field *f)
{
	char msg[256] = "";
	avro_dctx e;
	memset(&e, 0, sizeof e);
	brook_buf_reset(&c->scratch);
	e.out = &c->scratch;
	e.defmode = true;
	e.err = msg;
	e.errlen = sizeof msg;
	const brook_jnode *v = NULL;
	if (avro_enc(&e, f->type, f->def) == BROOK_OK) {
		avro_dctx d;
		avro_dctx_init(&d, (const uint8_t *)c->scratch.data, c->scratch.len, c->a, msg,
		               sizeof msg);
		d.start = NULL; /* no byte offsets in these messages */
		avro_dec_finish(&d, avro_dec(&d, f->type), &v);
	}
	if (!v)
		avro_dfail(c, "default of reader field '%s' is unusable: %s", f->name, msg);
	return v;
}

#define AVRO_W2R_STACK 64 /* writer fields mapped without touching the arena */

static const brook_jnode *avro_res_record(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	size_t nw = avro_schema_field_count(w), nr = avro_schema_field_count(r);
	long w2r_stack[AVRO_W2R_STACK];
	long *w2r = nw <= AVRO_W2R_STACK ? w2r_stack : brook_arena_alloc(c->a, nw * sizeof *w2r);
	for (size_t i = 0; i < nw; i++)
		w2r[i] = -1;
	for (size_t i = 0; i < nr; i++) {
		const avro_field *rf = avro_schema_field(r, i);
		long wi = avro_schema_field_index(w, rf->name);
		for (size_t k = 0; wi < 0 && k < rf->naliases; k++)
			wi = avro_schema_field_index(w, rf->aliases[k]);
		if (wi >= 0 && w2r[wi] < 0)
			w2r[wi] = (long)i;
	}
	brook_jnode *o = avro_record_node(c, r, nr);
	const brook_jnode **vals = o->u.o.vals;
	for (size_t i = 0; i < nw; i++) {
		const avro_field *wf = avro_schema_field(w, i);
		size_t old = avro_path_push(c, wf->name, strlen(wf->name));
		const brook_jnode *v;
		if (w2r[i] >= 0)
			v = vals[w2r[i]] =
			    avro_res(c, wf->type, avro_schema_field(r, (size_t)w2r[i])->type);
		else
			v = avro_dec(c, wf->type); /* the reader has no such field: dropped */
		if (!v)
			return NULL;
		avro_path_pop(c, old);
	}
	for (size_t i = 0; i < nr; i++) {
		const avro_field *rf = avro_schema_field(r, i);
		if (vals[i])
			continue;
		if (!rf->def) {
			avro_dfail(c,
			           "reader field '%s' is missing from the writer's %s and has "
			           "no default",
			           rf->name, avro_schema_fullname(w));
			return NULL;
		}
		if (!(vals[i] = avro_default_value(c, rf)))
			return NULL;
	}
	return o;
}

static const brook_jnode *avro_res_promote(avro_dctx *c, avro_type wt, avro_type rt)
{
	if (wt == AVRO_INT || wt == AVRO_LONG) {
		int64_t v;
		if (wt == AVRO_INT) {
			int32_t i;
			if (!avro_get_int(c, &i, "an int"))
				return NULL;
			v = i;
		} else if (!avro_get_long(c, &v, "a long")) {
			return NULL;
		}
		if (rt == AVRO_LONG)
			return avro_jint(c, v);
		if (rt == AVRO_FLOAT)
			return avro_jreal(c, (double)(float)v);
		return avro_jreal(c, (double)v);
	}
	if (wt == AVRO_FLOAT)
		return avro_get_float(c, false);
	size_t n;
	if (rt == AVRO_BYTES) {
		const uint8_t *p = avro_get_run(c, &n, "a string");
		return p ? avro_jbytes(c, p, n) : NULL;
	}
	const uint8_t *p =
	    avro_get_utf8(c, &n, "bytes", "bytes read as a string are not valid UTF-8");
	return p ? avro_jstr(c, (const char *)p, n) : NULL;
}

static const brook_jnode *avro_res_inner(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	avro_type wt = avro_schema_type(w), rt = avro_schema_type(r);
	if (wt == AVRO_UNION) {
		int64_t i;
		if (!avro_get_long(c, &i, "a union branch index"))
			return NULL;
		if (i < 0 || (uint64_t)i >= avro_schema_branch_count(w)) {
			avro_dfail(c, "union branch %lld out of range (%zu branches)", (long long)i,
			           avro_schema_branch_count(w));
			return NULL;
		}
		return avro_res(c, avro_schema_branch(w, (size_t)i), r);
	}
	if (rt == AVRO_UNION) {
		const avro_schema *b = avro_pick_branch(w, r);
		if (!b) {
			avro_dfail(c, "the reader union has no branch for the writer's %s",
			           avro_type_is_named(wt) ? avro_schema_fullname(w)
			                                  : avro_type_name(wt));
			return NULL;
		}
		return avro_res(c, w, b);
	}
	if (wt != rt) {
		if (avro_promotes(wt, rt))
			return avro_res_promote(c, wt, rt);
		avro_dfail(c, "the writer's %s cannot be read as %s", avro_type_name(wt),
		           avro_type_name(rt));
		return NULL;
	}
	if (avro_type_is_named(wt) && !avro_names_match(w, r)) {
		avro_dfail(c, "the writer's %s %s does not match the reader's %s",
		           avro_type_name(wt), avro_schema_fullname(w), avro_schema_fullname(r));
		return NULL;
	}
	switch (wt) {
	case AVRO_RECORD:
		return avro_res_record(c, w, r);
	case AVRO_FIXED:
		if (avro_schema_fixed_size(w) != avro_schema_fixed_size(r)) {
			avro_dfail(c, "fixed %s has size %lld in the writer, %lld in the reader",
			           avro_schema_fullname(r), (long long)avro_schema_fixed_size(w),
			           (long long)avro_schema_fixed_size(r));
			return NULL;
		}
		return avro_dec_inner(c, w);
	case AVRO_ENUM: {
		int32_t i;
		if (!avro_get_int(c, &i, "an enum index"))
			return NULL;
		if (i < 0 || (size_t)i >= avro_schema_symbol_count(w)) {
			avro_dfail(c, "enum index %d out of range for %s (%zu symbols)", (int)i,
			           avro_schema_fullname(w), avro_schema_symbol_count(w));
			return NULL;
		}
		const char *sym = avro_schema_symbol(w, (size_t)i);
		if (avro_schema_symbol_index(r, sym) < 0)
			sym = avro_schema_enum_default(r);
		if (sym)
			return avro_jstr(c, sym, strlen(sym));
		avro_dfail(c, "symbol '%s' is not in the reader's enum %s, which has no default",
		           avro_schema_symbol(w, (size_t)i), avro_schema_fullname(r));
		return NULL;
	}
	case AVRO_ARRAY:
		return dec_array(c, avro_schema_items(w), avro_schema_items(r));
	case AVRO_MAP:
		return dec_map(c, avro_schema_values(w), avro_schema_values(r));
	default:
		return avro_dec_inner(c, w); /* same primitive type */
	}
}

static const brook_jnode *avro_res(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	if (!avro_spend(c) || !avro_enter(c))
		return NULL;
	const brook_jnode *v = avro_res_inner(c, w, r);
	c->depth--;
	return v;
}

int avro_decode_jdoc(const avro_schema *writer, const avro_schema *reader, const uint8_t *buf,
                     size_t len, brook_arena *a, const brook_jnode **out, char *err, size_t errlen)
{
	avro_dctx c;
	avro_dctx_init(&c, buf, len, a, err, errlen);
	const brook_jnode *v = reader ? avro_res(&c, writer, reader) : avro_dec(&c, writer);
	int rc = avro_dec_finish(&c, v, out);
	brook_buf_release(&c.scratch);
	return rc;
}

/* The json_t API: decode into a temporary arena, then convert. */
static int avro_decode_json(const avro_schema *writer, const avro_schema *reader,
                            const uint8_t *buf, size_t len, json_t **out, char *err, size_t errlen)
{
	brook_arena a = BROOK_ARENA_INIT;
	const brook_jnode *n;
	*out = NULL;
	int rc = avro_decode_jdoc(writer, reader, buf, len, &a, &n, err, errlen);
	if (rc == BROOK_OK)
		*out = brook_jdoc_to_json(n); /* never NULL: decoded reals are finite */
	brook_arena_release(&a);
	return rc;
}

int avro_decode(const avro_schema *s, const uint8_t *buf, size_t len, json_t **out, char *err,
                size_t errlen)
{
	return avro_decode_json(s, NULL, buf, len, out, err, errlen);
}

int avro_decode_resolving(const avro_schema *writer, const avro_schema *reader, const uint8_t *buf,
                          size_t len, json_t **out, char *err, size_t errlen)
{
	return avro_decode_json(writer, reader, buf, len, out, err, errlen);
}

/* ---- Confluent wire format ---- */

void avro_confluent_frame(uint32_t id, const uint8_t *avro, size_t n, brook_buf *out)
{
	brook_buf_putc(out, AVRO_CONFLUENT_MAGIC);
	brook_buf_put_be32(out, id);
	if (n)
		brook_buf_append(out, avro, n);
}

int avro_confluent_unframe(const uint8_t *buf, size_t len, uint32_t *id, const uint8_t **payload,
                           size_t *n, char *err, size_t errlen)
{
	if (len < AVRO_CONFLUENT_HEADER) {
		snprintf(err, errlen,
		         "message of %zu bytes is shorter than the 5-byte Confluent "
		         "header",
		         len);
		return BROOK_ERR;
	}
	if (buf[0] != AVRO_CONFLUENT_MAGIC) {
		snprintf(err, errlen, "unknown magic byte %u (Confluent framing starts with 0)",
		         buf[0]);
		return BROOK_ERR;
	}
	*id = (uint32_t)brook_be_get(buf + 1, 4);
	*payload = buf + AVRO_CONFLUENT_HEADER;
	*n = len - AVRO_CONFLUENT_HEADER;
	return BROOK_OK;
}
