/*
 * datum.c — Avro binary encoder, decoder and resolving decoder (see datum.h).
 *
 * One context (avro_dctx) serves the three walks: the output buffer when encoding, the
 * bounded input cursor when decoding, the path of the value being worked on (for error
 * messages), the depth, the value budget and the first error. Every walker returns
 * BROOK_ERR / NULL after recording the first error with avro_dfail(); callers just
 * propagate. Union trials while encoding save and restore the error state.
 */
#include "avro/datum.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/varint.h"

typedef struct avro_dctx {
	/* decoding: [start, end) the input, p the cursor (all NULL for empty input) */
	const uint8_t *start, *p, *end;
	size_t budget; /* values the decoder may still produce */
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

static json_t *avro_bytes_to_cp(const uint8_t *p, size_t n)
{
	char *s = brook_malloc(2 * n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			s[k++] = (char)p[i];
		} else {
			s[k++] = (char)(0xc0 | p[i] >> 6);
			s[k++] = (char)(0x80 | (p[i] & 0x3f));
		}
	}
	json_t *v = json_stringn(s, k);
	free(s);
	return v;
}

/* ---- encoding ---- */

static void avro_put_long(brook_buf *b, int64_t v)
{
	uint8_t tmp[BROOK_VARINT_MAX];
	brook_buf_append(b, tmp, brook_varint_put_i64(tmp, v));
}

static void avro_put_le(brook_buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];
	for (size_t i = 0; i < n; i++, v >>= 8)
		tmp[i] = (uint8_t)v;
	brook_buf_append(b, tmp, n);
}

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
		uint64_t u;
		memcpy(&u, &d, 8);
		avro_put_le(c->out, u, 8);
		return BROOK_OK;
	}
	float f = (float)d;
	if (!isfinite(f)) {
		avro_dfail(c, "%g is out of the range of a float", d);
		return BROOK_ERR;
	}
	uint32_t u;
	memcpy(&u, &f, 4);
	avro_put_le(c->out, u, 4);
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
		brook_buf_putc(c->out, json_is_true(v) ? 1 : 0);
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
		avro_put_long(c->out, (int64_t)json_string_length(v));
		brook_buf_append(c->out, json_string_value(v), json_string_length(v));
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

static json_t *avro_get_string(avro_dctx *c, const char *what)
{
	size_t n;
	const uint8_t *p = avro_get_run(c, &n, what);
	if (!p)
		return NULL;
	json_t *v = json_stringn((const char *)p, n);
	if (!v) {
		c->p = p;
		avro_dfail(c, "invalid UTF-8 in %s", what);
	}
	return v;
}

/* A map key: a string without NUL characters (most of jansson's object API takes keys
 * as C strings, so a key with U+0000 could not be looked up or compared). */
static json_t *avro_get_key(avro_dctx *c)
{
	const uint8_t *at = c->p;
	json_t *k = avro_get_string(c, "a map key");
	if (k && strlen(json_string_value(k)) != json_string_length(k)) {
		c->p = at;
		avro_dfail(c, "map key contains a NUL character");
		json_decref(k);
		return NULL;
	}
	return k;
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

static json_t *avro_get_float(avro_dctx *c, bool dbl)
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
	return json_real(d);
}

static json_t *avro_dec(avro_dctx *c, const avro_schema *s);

static json_t *avro_res(avro_dctx *c, const avro_schema *w, const avro_schema *r);

/* One element of an array or map: decoded with its writer schema w, resolved to the
 * reader schema r unless r is NULL (plain decoding). */
static json_t *dec_elem(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	return r ? avro_res(c, w, r) : avro_dec(c, w);
}

/* An array's blocks; items w (writer) and r (reader, or NULL). */
static json_t *dec_array(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	json_t *a = json_array();
	int64_t count;
	uint64_t idx = 0;
	while (avro_get_block(c, &count) && count) {
		for (int64_t k = 0; k < count; k++) {
			size_t old = avro_path_index(c, idx++);
			json_t *v = dec_elem(c, w, r);
			if (!v)
				break;
			avro_path_pop(c, old);
			json_array_append_new(a, v);
		}
		if (c->failed)
			break;
	}
	if (c->failed) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* A map's blocks; values w (writer) and r (reader, or NULL). */
static json_t *dec_map(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	json_t *m = json_object();
	int64_t count;
	while (avro_get_block(c, &count) && count) {
		for (int64_t k = 0; k < count; k++) {
			json_t *key = avro_get_key(c);
			if (!key)
				break;
			size_t old = avro_path_push(c, json_string_value(key),
						    json_string_length(key));
			json_t *v = dec_elem(c, w, r);
			if (!v) {
				json_decref(key);
				break;
			}
			avro_path_pop(c, old);
			json_object_setn_new(m, json_string_value(key), json_string_length(key),
					     v);
			json_decref(key);
		}
		if (c->failed)
			break;
	}
	if (c->failed) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *avro_dec_inner(avro_dctx *c, const avro_schema *s)
{
	switch (avro_schema_type(s)) {
	case AVRO_NULL:
		return json_null();
	case AVRO_BOOLEAN: {
		const uint8_t *p = avro_get_fixed(c, 1, "a boolean");
		if (!p)
			return NULL;
		if (*p > 1) {
			c->p = p;
			avro_dfail(c, "boolean byte is %u, not 0 or 1", *p);
			return NULL;
		}
		return json_boolean(*p);
	}
	case AVRO_INT: {
		int32_t v;
		return avro_get_int(c, &v, "an int") ? json_integer(v) : NULL;
	}
	case AVRO_LONG: {
		int64_t v;
		return avro_get_long(c, &v, "a long") ? json_integer(v) : NULL;
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
		return p ? avro_bytes_to_cp(p, n) : NULL;
	}
	case AVRO_FIXED: {
		const uint8_t *p =
		    avro_get_fixed(c, (size_t)avro_schema_fixed_size(s), "a fixed value");
		return p ? avro_bytes_to_cp(p, (size_t)avro_schema_fixed_size(s)) : NULL;
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
		return json_string(avro_schema_symbol(s, (size_t)i));
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
		json_t *o = json_object();
		size_t nf = avro_schema_field_count(s);
		for (size_t i = 0; i < nf; i++) {
			const avro_field *f = avro_schema_field(s, i);
			size_t old = avro_path_push(c, f->name, strlen(f->name));
			json_t *v = avro_dec(c, f->type);
			if (!v) {
				json_decref(o);
				return NULL;
			}
			avro_path_pop(c, old);
			json_object_set_new(o, f->name, v);
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

static json_t *avro_dec(avro_dctx *c, const avro_schema *s)
{
	if (!avro_spend(c) || !avro_enter(c))
		return NULL;
	json_t *v = avro_dec_inner(c, s);
	c->depth--;
	return v;
}

static void avro_dctx_init(avro_dctx *c, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->start = buf;
	c->p = buf;
	c->end = len ? buf + len : buf;
	c->budget = len + AVRO_DATUM_MAX_EMPTY_VALUES;
	c->err = err;
	c->errlen = errlen;
}

static int avro_dec_finish(avro_dctx *c, json_t *v, json_t **out)
{
	if (v && c->p != c->end)
		avro_dfail(c, "%zu trailing bytes after the datum", avro_left(c));
	if (c->failed) {
		json_decref(v);
		*out = NULL;
		return BROOK_ERR;
	}
	*out = v;
	return BROOK_OK;
}

int avro_decode(const avro_schema *s, const uint8_t *buf, size_t len, json_t **out, char *err,
                size_t errlen)
{
	avro_dctx c;
	avro_dctx_init(&c, buf, len, err, errlen);
	return avro_dec_finish(&c, avro_dec(&c, s), out);
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
 * reader type (unions take their first branch, as the spec says) and decoded back. */
static json_t *avro_default_value(avro_dctx *c, const avro_field *f)
{
	brook_buf b = BROOK_BUF_INIT;
	char msg[256] = "";
	avro_dctx e;
	memset(&e, 0, sizeof e);
	e.out = &b;
	e.defmode = true;
	e.err = msg;
	e.errlen = sizeof msg;
	json_t *v = NULL;
	if (avro_enc(&e, f->type, f->def) == BROOK_OK) {
		avro_dctx d;
		avro_dctx_init(&d, (const uint8_t *)b.data, b.len, msg, sizeof msg);
		d.start = NULL; /* no byte offsets in these messages */
		avro_dec_finish(&d, avro_dec(&d, f->type), &v);
	}
	brook_buf_release(&b);
	if (!v)
		avro_dfail(c, "default of reader field '%s' is unusable: %s", f->name, msg);
	return v;
}

static json_t *avro_res_record(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	size_t nw = avro_schema_field_count(w), nr = avro_schema_field_count(r);
	long *w2r = brook_malloc((nw ? nw : 1) * sizeof *w2r);
	json_t **vals = brook_calloc(nr ? nr : 1, sizeof *vals);
	json_t *o = NULL;
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
	for (size_t i = 0; i < nw; i++) {
		const avro_field *wf = avro_schema_field(w, i);
		size_t old = avro_path_push(c, wf->name, strlen(wf->name));
		json_t *v;
		if (w2r[i] >= 0) {
			v = avro_res(c, wf->type, avro_schema_field(r, (size_t)w2r[i])->type);
			vals[w2r[i]] = v;
		} else {
			/* skipped: the reader has no such field */
			if (!(v = avro_dec(c, wf->type)))
				goto out;
			json_decref(v);
		}
		if (!v)
			goto out;
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
			goto out;
		}
		if (!(vals[i] = avro_default_value(c, rf)))
			goto out;
	}
	o = json_object();
	for (size_t i = 0; i < nr; i++) {
		json_object_set_new(o, avro_schema_field(r, i)->name, vals[i]);
		vals[i] = NULL;
	}
out:
	for (size_t i = 0; i < nr; i++)
		json_decref(vals[i]);
	free(vals);
	free(w2r);
	return o;
}

static json_t *avro_res_promote(avro_dctx *c, avro_type wt, avro_type rt)
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
			return json_integer(v);
		if (rt == AVRO_FLOAT)
			return json_real((double)(float)v);
		return json_real((double)v);
	}
	if (wt == AVRO_FLOAT)
		return avro_get_float(c, false);
	size_t n;
	const uint8_t *p = avro_get_run(c, &n, wt == AVRO_STRING ? "a string" : "bytes");
	if (!p)
		return NULL;
	if (rt == AVRO_BYTES)
		return avro_bytes_to_cp(p, n);
	json_t *v = json_stringn((const char *)p, n);
	if (!v) {
		c->p = p;
		avro_dfail(c, "bytes read as a string are not valid UTF-8");
	}
	return v;
}

static json_t *avro_res_inner(avro_dctx *c, const avro_schema *w, const avro_schema *r)
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
		if (avro_schema_symbol_index(r, sym) >= 0)
			return json_string(sym);
		if (avro_schema_enum_default(r))
			return json_string(avro_schema_enum_default(r));
		avro_dfail(c, "symbol '%s' is not in the reader's enum %s, which has no default",
		           sym, avro_schema_fullname(r));
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

static json_t *avro_res(avro_dctx *c, const avro_schema *w, const avro_schema *r)
{
	if (!avro_spend(c) || !avro_enter(c))
		return NULL;
	json_t *v = avro_res_inner(c, w, r);
	c->depth--;
	return v;
}

int avro_decode_resolving(const avro_schema *writer, const avro_schema *reader, const uint8_t *buf,
                          size_t len, json_t **out, char *err, size_t errlen)
{
	avro_dctx c;
	avro_dctx_init(&c, buf, len, err, errlen);
	return avro_dec_finish(&c, avro_res(&c, writer, reader), out);
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
