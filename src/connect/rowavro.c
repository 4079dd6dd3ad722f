/*
 * rowavro.c — PostgreSQL changes as Debezium-style Avro schemas and Avro binary, written
 * straight from pgoutput tuples. Design notes in rowavro.h.
 */
#include "connect/rowavro.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/binary.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/timeutil.h"

#define ROWAVRO_MAX_NUMBER 64 /* longest integer/float text accepted */
#define ROWAVRO_MAX_YEAR   294000 /* keeps microseconds since 1970 inside int64 */

struct rowavro {
	char *prefix, *connector, *db;
	rowavro_envelope envelope;
	rowavro_table **tables; /* one per relation id; linear, with a last-hit shortcut */
	size_t n, cap;
	size_t last;
};

int rowavro_envelope_parse(const char *s, rowavro_envelope *out)
{
	if (strcmp(s, "full") == 0)
		*out = ROWAVRO_ENVELOPE_FULL;
	else if (strcmp(s, "row") == 0)
		*out = ROWAVRO_ENVELOPE_ROW;
	else
		return BROOK_ERR;
	return BROOK_OK;
}

rowavro *rowavro_new(const rowavro_opts *o)
{
	rowavro *ra = brook_calloc(1, sizeof *ra);
	ra->prefix = brook_strdup(o->prefix ? o->prefix : "");
	ra->connector = brook_strdup(o->connector ? o->connector : "postgresql");
	ra->db = brook_strdup(o->db ? o->db : "");
	ra->envelope = o->envelope;
	return ra;
}

static void table_free(rowavro_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	if (t->rel) {
		for (uint16_t i = 0; i < t->rel->ncols; i++)
			free((char *)t->rel->cols[i].name);
		free(t->rel->cols);
		free((char *)t->rel->nspname);
		free((char *)t->rel->relname);
		free(t->rel);
	}
	free(t->key_json);
	avro_schema_free(t->key_schema);
	free(t->value_json);
	avro_schema_free(t->value_schema);
	free(t->source_head);
	free(t);
}

void rowavro_free(rowavro *ra)
{
	if (!ra)
		return;
	for (size_t i = 0; i < ra->n; i++)
		table_free(ra->tables[i]);
	free(ra->tables);
	free(ra->prefix);
	free(ra->connector);
	free(ra->db);
	free(ra);
}

/* ---- names and types ---- */

/* An Avro name from any text: [A-Za-z_][A-Za-z0-9_]*. Yours (free). */
static char *adjust_name(const char *s, size_t n)
{
	char *out = brook_malloc(n + 2);
	size_t k = 0;
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		out[k++] = '_';
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_';
		out[k++] = ok ? c : '_';
	}
	out[k] = '\0';
	return out;
}

/* Append an adjusted dotted namespace ("a.b-c" → "a.b_c") to b, components kept. */
static void put_namespace(brook_buf *b, const char *s)
{
	const char *p = s;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n) {
			char *c = adjust_name(p, n);
			if (b->len)
				brook_buf_putc(b, '.');
			brook_buf_puts(b, c);
			free(c);
		}
		p += n + (dot ? 1 : 0);
	}
}

static rowavro_kind kind_of(uint32_t oid, bool *unknown)
{
	*unknown = false;
	switch (oid) {
	case ROWAVRO_OID_BOOL:
		return ROWAVRO_BOOLEAN;
	case ROWAVRO_OID_INT2:
	case ROWAVRO_OID_INT4:
		return ROWAVRO_INT;
	case ROWAVRO_OID_INT8:
	case ROWAVRO_OID_OID:
		return ROWAVRO_LONG;
	case ROWAVRO_OID_FLOAT4:
		return ROWAVRO_FLOAT;
	case ROWAVRO_OID_FLOAT8:
		return ROWAVRO_DOUBLE;
	case ROWAVRO_OID_BYTEA:
		return ROWAVRO_BYTES;
	case ROWAVRO_OID_DATE:
		return ROWAVRO_DATE;
	case ROWAVRO_OID_TIMESTAMP:
		return ROWAVRO_TIMESTAMP;
	case ROWAVRO_OID_TIMESTAMPTZ:
		return ROWAVRO_TIMESTAMPTZ;
	case ROWAVRO_OID_UUID:
		return ROWAVRO_UUID;
	case ROWAVRO_OID_NUMERIC:
	case ROWAVRO_OID_TEXT:
	case ROWAVRO_OID_VARCHAR:
	case ROWAVRO_OID_BPCHAR:
	case ROWAVRO_OID_NAME:
	case ROWAVRO_OID_CHAR:
	case ROWAVRO_OID_JSON:
	case ROWAVRO_OID_JSONB:
		return ROWAVRO_STRING;
	default:
		*unknown = true;
		return ROWAVRO_STRING;
	}
}

static json_t *type_json(rowavro_kind k)
{
	switch (k) {
	case ROWAVRO_BOOLEAN:
		return json_string("boolean");
	case ROWAVRO_INT:
		return json_string("int");
	case ROWAVRO_LONG:
		return json_string("long");
	case ROWAVRO_FLOAT:
		return json_string("float");
	case ROWAVRO_DOUBLE:
		return json_string("double");
	case ROWAVRO_BYTES:
		return json_string("bytes");
	case ROWAVRO_DATE:
		return json_pack("{s:s, s:s}", "type", "int", "logicalType", "date");
	case ROWAVRO_TIMESTAMP:
	case ROWAVRO_TIMESTAMPTZ:
		return json_pack("{s:s, s:s}", "type", "long", "logicalType", "timestamp-micros");
	case ROWAVRO_UUID:
		return json_pack("{s:s, s:s}", "type", "string", "logicalType", "uuid");
	case ROWAVRO_STRING:
	default:
		return json_string("string");
	}
}

/* A field: plain type, or ["null", T] with default null. */
static json_t *field_json(const char *name, json_t *type, bool nullable)
{
	if (!nullable)
		return json_pack("{s:s, s:o}", "name", name, "type", type);
	return json_pack("{s:s, s:[s,o], s:n}", "name", name, "type", "null", type, "default");
}

/* A record schema of the columns selected by `want` (all, or key only). */
static json_t *record_json(const rowavro_table *t, const char *ns, const char *name,
			   bool key_only, bool full_ident)
{
	json_t *fields = json_array();
	for (size_t i = 0; i < t->ncols; i++) {
		const rowavro_column *c = &t->cols[i];
		if (key_only && !c->key)
			continue;
		bool nullable = full_ident || !c->key;
		json_array_append_new(fields, field_json(c->name, type_json(c->kind), nullable));
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "type", "record", "name", name, "namespace", ns,
			 "fields", fields);
}

static json_t *source_json(void)
{
	return json_pack("{s:s, s:s, s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},"
			 "{s:s,s:s},{s:s,s:s},{s:s,s:s}]}",
			 "type", "record", "name", ROWAVRO_SOURCE_NAME, "fields",
			 "name", "connector", "type", "string",
			 "name", "db", "type", "string",
			 "name", "schema", "type", "string",
			 "name", "table", "type", "string",
			 "name", "lsn", "type", "long",
			 "name", "txId", "type", "long",
			 "name", "ts_ms", "type", "long",
			 "name", "snapshot", "type", "string");
}

static pgo_relation *relation_copy(const pgo_relation *rel)
{
	pgo_relation *r = brook_calloc(1, sizeof *r);
	*r = *rel;
	r->nspname = brook_strdup(rel->nspname);
	r->relname = brook_strdup(rel->relname);
	r->cols = NULL;
	if (rel->ncols) {
		r->cols = brook_calloc(rel->ncols, sizeof *r->cols);
		for (uint16_t i = 0; i < rel->ncols; i++) {
			r->cols[i] = rel->cols[i];
			r->cols[i].name = brook_strdup(rel->cols[i].name);
		}
	}
	return r;
}

static bool relation_same(const pgo_relation *a, const pgo_relation *b)
{
	if (a->id != b->id || a->replident != b->replident || a->ncols != b->ncols ||
	    strcmp(a->nspname, b->nspname) != 0 || strcmp(a->relname, b->relname) != 0)
		return false;
	for (uint16_t i = 0; i < a->ncols; i++)
		if (a->cols[i].flags != b->cols[i].flags ||
		    a->cols[i].type_oid != b->cols[i].type_oid ||
		    strcmp(a->cols[i].name, b->cols[i].name) != 0)
			return false;
	return true;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/* The constant part of the source block (connector, db, schema, table), encoded once. */
static void source_head(const rowavro *ra, rowavro_table *t)
{
	const char *schema = t->rel->nspname[0] ? t->rel->nspname : "pg_catalog";
	const char *s[] = {ra->connector, ra->db, schema, t->rel->relname};
	brook_buf b = BROOK_BUF_INIT;
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		size_t n = strlen(s[i]);
		if (!brook_utf8_valid(s[i], n)) {
			brook_buf_release(&b);
			return;
		}
		avro_put_bytes(&b, s[i], n);
	}
	t->source_head_len = b.len;
	t->source_head = (uint8_t *)brook_buf_detach(&b, NULL);
}

static rowavro_table *table_build(const rowavro *ra, const pgo_relation *rel, char *err,
				  size_t errlen)
{
	rowavro_table *t = brook_calloc(1, sizeof *t);
	t->key_id = ROWAVRO_NO_ID;
	t->value_id = ROWAVRO_NO_ID;
	t->rel = relation_copy(rel);
	t->ncols = rel->ncols;
	t->cols = t->ncols ? brook_calloc(t->ncols, sizeof *t->cols) : NULL;
	for (size_t i = 0; i < t->ncols; i++) {
		rowavro_column *c = &t->cols[i];
		c->pg_name = t->rel->cols[i].name;
		c->name = adjust_name(c->pg_name, strlen(c->pg_name));
		c->type_oid = rel->cols[i].type_oid;
		c->kind = kind_of(c->type_oid, &c->unknown);
		c->key = (rel->cols[i].flags & PGO_COLUMN_KEY) != 0;
		c->nullable = !c->key || rel->replident == 'f';
		t->nkey += c->key;
		t->nunknown += c->unknown;
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->cols[j].name, c->name) == 0) {
				snprintf(err, errlen, "table %s.%s: columns \"%s\" and \"%s\" both "
					 "become the Avro field name %s", rel->nspname,
					 rel->relname, t->cols[j].pg_name, c->pg_name, c->name);
				table_free(t);
				return NULL;
			}
	}
	bool full_ident = rel->replident == 'f';
	brook_buf ns = BROOK_BUF_INIT;
	put_namespace(&ns, ra->prefix);
	const char *schema = rel->nspname[0] ? rel->nspname : "pg_catalog";
	char *sn = adjust_name(schema, strlen(schema));
	char *tn = adjust_name(rel->relname, strlen(rel->relname));
	brook_buf_printf(&ns, "%s%s.%s", ns.len ? "." : "", sn, tn);
	free(sn);
	free(tn);

	json_t *row = record_json(t, ns.data, "Value", false, full_ident);
	if (ra->envelope == ROWAVRO_ENVELOPE_FULL) {
		brook_buf vname = BROOK_BUF_INIT;
		brook_buf_printf(&vname, "%s.Value", ns.data);
		json_t *env = json_pack(
			"{s:s, s:s, s:s, s:[{s:s, s:[s,o], s:n}, {s:s, s:[s,s], s:n},"
			" {s:s, s:o}, {s:s, s:s}, {s:s, s:s}]}",
			"type", "record", "name", "Envelope", "namespace", ns.data, "fields",
			"name", "before", "type", "null", row, "default",
			"name", "after", "type", "null", vname.data, "default",
			"name", "source", "type", source_json(),
			"name", "op", "type", "string",
			"name", "ts_ms", "type", "long");
		t->value_json = dump(env);
		brook_buf_release(&vname);
	} else {
		t->value_json = dump(row);
	}
	if (t->nkey)
		t->key_json = dump(record_json(t, ns.data, "Key", true, full_ident));
	brook_buf_release(&ns);

	char perr[512];
	t->value_schema = avro_schema_parse(t->value_json, strlen(t->value_json), perr,
					    sizeof perr);
	if (t->value_schema && t->key_json)
		t->key_schema = avro_schema_parse(t->key_json, strlen(t->key_json), perr,
						  sizeof perr);
	if (!t->value_schema || (t->key_json && !t->key_schema)) {
		snprintf(err, errlen, "table %s.%s: schema does not build: %s", rel->nspname,
			 rel->relname, perr);
		table_free(t);
		return NULL;
	}
	if (ra->envelope == ROWAVRO_ENVELOPE_FULL) {
		const avro_schema *before = avro_schema_field(t->value_schema, 0)->type;
		t->row_schema = avro_schema_branch(before, 1);
	} else {
		t->row_schema = t->value_schema;
	}
	source_head(ra, t);
	return t;
}

rowavro_table *rowavro_table_for(rowavro *ra, const pgo_relation *rel, char *err,
				 size_t errlen)
{
	size_t at = ra->n;
	if (ra->last < ra->n && ra->tables[ra->last]->rel->id == rel->id) {
		at = ra->last;
	} else {
		for (size_t i = 0; i < ra->n; i++)
			if (ra->tables[i]->rel->id == rel->id) {
				at = i;
				break;
			}
	}
	if (at < ra->n && relation_same(ra->tables[at]->rel, rel)) {
		ra->last = at;
		return ra->tables[at];
	}
	rowavro_table *t = table_build(ra, rel, err, errlen);
	if (!t)
		return NULL;
	if (at < ra->n) {
		table_free(ra->tables[at]);
	} else {
		if (ra->n == ra->cap) {
			ra->cap = ra->cap ? ra->cap * 2 : 8;
			ra->tables = brook_realloc(ra->tables, ra->cap * sizeof *ra->tables);
		}
		ra->n++;
	}
	ra->tables[at] = t;
	ra->last = at;
	return t;
}

/* ---- values: text → Avro binary ---- */

/* bytea text (hex "\x.." or escape output) as Avro bytes: the length, then the bytes.
 * The escape form is read twice (validate and count, then write), so nothing is copied
 * twice. */
static int parse_bytea(const char *s, size_t n, brook_buf *out, char *err, size_t errlen)
{
	if (n >= 2 && s[0] == '\\' && s[1] == 'x') {
		if ((n - 2) % 2) {
			snprintf(err, errlen, "bytea hex text has an odd number of digits");
			return BROOK_ERR;
		}
		size_t start = out->len;
		avro_put_long(out, (int64_t)((n - 2) / 2));
		for (size_t i = 2; i < n; i += 2) {
			int hi = brook_hexval((unsigned char)s[i]);
			int lo = brook_hexval((unsigned char)s[i + 1]);
			if (hi < 0 || lo < 0) {
				brook_buf_truncate(out, start);
				snprintf(err, errlen, "bytea hex text has a non-hex digit at %zu",
					 i);
				return BROOK_ERR;
			}
			brook_buf_putc(out, (char)(hi << 4 | lo));
		}
		return BROOK_OK;
	}
	/* bytea_output = escape: pass 0 validates and counts, pass 1 writes */
	size_t count = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			avro_put_long(out, (int64_t)count);
		for (size_t i = 0; i < n; i++) {
			uint8_t byte;
			if (s[i] != '\\') {
				byte = (uint8_t)s[i];
			} else if (i + 1 < n && s[i + 1] == '\\') {
				byte = '\\';
				i++;
			} else if (i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
				   s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
				   s[i + 3] <= '7') {
				byte = (uint8_t)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
						 (s[i + 3] - '0'));
				i += 3;
			} else {
				snprintf(err, errlen, "bytea escape text has a bad escape at %zu",
					 i);
				return BROOK_ERR; /* only in pass 0: nothing written yet */
			}
			if (pass == 0)
				count++;
			else
				brook_buf_putc(out, (char)byte);
		}
	}
	return BROOK_OK;
}

/* Unsigned decimal digits at *p (at least min, at most max); -1 when fewer than min. */
static int64_t digits(const char **p, const char *end, int min, int max)
{
	int64_t v = 0;
	int k = 0;
	while (*p < end && k < max && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	return k < min ? -1 : v;
}

static bool take(const char **p, const char *end, char c)
{
	if (*p < end && **p == c) {
		(*p)++;
		return true;
	}
	return false;
}

/* "YYYY-MM-DD" → days, with the year as written (BC handled by the caller). */
static bool parse_ymd(const char **p, const char *end, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t yy = digits(p, end, 4, 7);
	if (yy < 0 || !take(p, end, '-'))
		return false;
	int64_t mm = digits(p, end, 2, 2);
	if (mm < 1 || mm > 12 || !take(p, end, '-'))
		return false;
	int64_t dd = digits(p, end, 2, 2);
	if (dd < 1 || dd > 31)
		return false;
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if ((unsigned)dd > mdays[mm - 1])
		return false;
	*y = yy;
	*m = (unsigned)mm;
	*d = (unsigned)dd;
	return true;
}

/* " BC" at the end: the year becomes astronomical (1 BC is year 0). */
static bool parse_era(const char **p, const char *end, int64_t *y)
{
	if (end - *p == 3 && memcmp(*p, " BC", 3) == 0) {
		*y = 1 - *y;
		*p = end;
	}
	return *p == end;
}

/* Days since 1970-01-01 (an Avro int, logicalType date). */
static int parse_date(const char *s, size_t n, int64_t *out, char *err, size_t errlen)
{
	const char *p = s, *end = s + n;
	int64_t y;
	unsigned m, d;
	if (!parse_ymd(&p, end, &y, &m, &d) || !parse_era(&p, end, &y) ||
	    y > ROWAVRO_MAX_YEAR || y < -ROWAVRO_MAX_YEAR) {
		snprintf(err, errlen, "not a date: \"%.*s\"", (int)(n > 40 ? 40 : n), s);
		return BROOK_ERR;
	}
	int64_t days = brook_days_from_civil(y, m, d);
	if (days < INT32_MIN || days > INT32_MAX) {
		snprintf(err, errlen, "date out of range: \"%.*s\"", (int)n, s);
		return BROOK_ERR;
	}
	*out = days;
	return BROOK_OK;
}

/* Microseconds since 1970-01-01 UTC (an Avro long, logicalType timestamp-micros). */
static int parse_timestamp(const char *s, size_t n, bool tz, int64_t *out, char *err,
			   size_t errlen)
{
	const char *p = s, *end = s + n;
	int64_t y, hh, mi, ss, frac = 0, off = 0;
	unsigned m, d;
	if (!parse_ymd(&p, end, &y, &m, &d) || !take(&p, end, ' '))
		goto bad;
	hh = digits(&p, end, 2, 2);
	if (hh < 0 || hh > 24 || !take(&p, end, ':'))
		goto bad;
	mi = digits(&p, end, 2, 2);
	if (mi < 0 || mi > 59 || !take(&p, end, ':'))
		goto bad;
	ss = digits(&p, end, 2, 2);
	if (ss < 0 || ss > 60)
		goto bad;
	if (take(&p, end, '.')) {
		const char *f = p;
		frac = digits(&p, end, 1, 6);
		if (frac < 0)
			goto bad;
		for (ptrdiff_t k = p - f; k < 6; k++)
			frac *= 10;
	}
	if (p < end && (*p == '+' || *p == '-')) {
		if (!tz)
			goto bad;
		int sign = *p == '-' ? -1 : 1;
		p++;
		int64_t oh = digits(&p, end, 2, 2), om = 0, os = 0;
		if (oh < 0 || oh > 15)
			goto bad;
		if (take(&p, end, ':')) {
			om = digits(&p, end, 2, 2);
			if (om < 0 || om > 59)
				goto bad;
			if (take(&p, end, ':')) {
				os = digits(&p, end, 2, 2);
				if (os < 0 || os > 59)
					goto bad;
			}
		}
		off = sign * (oh * 3600 + om * 60 + os);
	}
	if (!parse_era(&p, end, &y) || y > ROWAVRO_MAX_YEAR || y < -ROWAVRO_MAX_YEAR)
		goto bad;
	int64_t secs = brook_days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss - off;
	*out = secs * 1000000 + frac;
	return BROOK_OK;
bad:
	snprintf(err, errlen, "not a %s: \"%.*s\"", tz ? "timestamptz" : "timestamp",
		 (int)(n > 60 ? 60 : n), s);
	return BROOK_ERR;
}

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : brook_hexval((unsigned char)s[i]) < 0)
			return false;
	}
	return true;
}

int rowavro_parse_text(rowavro_kind kind, const char *text, size_t len, brook_buf *out,
		       char *err, size_t errlen)
{
	char num[ROWAVRO_MAX_NUMBER + 1];
	char *end;
	int64_t v64;
	switch (kind) {
	case ROWAVRO_BOOLEAN:
		if ((len == 1 && text[0] == 't') || (len == 4 && memcmp(text, "true", 4) == 0))
			avro_put_boolean(out, 1);
		else if ((len == 1 && text[0] == 'f') ||
			 (len == 5 && memcmp(text, "false", 5) == 0))
			avro_put_boolean(out, 0);
		else
			break;
		return BROOK_OK;
	case ROWAVRO_INT:
	case ROWAVRO_LONG: {
		if (len == 0 || len > ROWAVRO_MAX_NUMBER)
			break;
		memcpy(num, text, len);
		num[len] = '\0';
		errno = 0;
		long long v = strtoll(num, &end, 10);
		if (errno || *end || end == num)
			break;
		if (kind == ROWAVRO_INT && (v < INT32_MIN || v > INT32_MAX))
			break;
		avro_put_long(out, v);
		return BROOK_OK;
	}
	case ROWAVRO_FLOAT:
	case ROWAVRO_DOUBLE: {
		if (len == 0 || len > ROWAVRO_MAX_NUMBER)
			break;
		memcpy(num, text, len);
		num[len] = '\0';
		errno = 0;
		double v = strtod(num, &end);
		if (*end || end == num)
			break;
		if (!isfinite(v)) {
			snprintf(err, errlen, "float value %s cannot be sent (Avro JSON datums "
				 "hold only finite numbers)", num);
			return BROOK_ERR;
		}
		if (kind == ROWAVRO_DOUBLE) {
			avro_put_double(out, v);
			return BROOK_OK;
		}
		float f = (float)v;
		if (!isfinite(f)) {
			snprintf(err, errlen, "float value %s is out of the range of a float",
				 num);
			return BROOK_ERR;
		}
		avro_put_float(out, f);
		return BROOK_OK;
	}
	case ROWAVRO_BYTES:
		return parse_bytea(text, len, out, err, errlen);
	case ROWAVRO_DATE:
		if (parse_date(text, len, &v64, err, errlen) != BROOK_OK)
			return BROOK_ERR;
		avro_put_long(out, v64);
		return BROOK_OK;
	case ROWAVRO_TIMESTAMP:
	case ROWAVRO_TIMESTAMPTZ:
		if (parse_timestamp(text, len, kind == ROWAVRO_TIMESTAMPTZ, &v64, err, errlen) !=
		    BROOK_OK)
			return BROOK_ERR;
		avro_put_long(out, v64);
		return BROOK_OK;
	case ROWAVRO_UUID:
		if (!is_uuid(text, len))
			break;
		avro_put_bytes(out, text, len);
		return BROOK_OK;
	case ROWAVRO_STRING:
		if (!brook_utf8_valid(text, len)) {
			snprintf(err, errlen, "text is not valid UTF-8");
			return BROOK_ERR;
		}
		avro_put_bytes(out, text, len);
		return BROOK_OK;
	}
	snprintf(err, errlen, "cannot parse \"%.*s\"", (int)(len > 60 ? 60 : len), text);
	return BROOK_ERR;
}

/* One column's value: a nullable column is its union branch (0 null, 1 the value) first.
 * On error the caller truncates out. */
static int put_column(const rowavro_table *t, size_t i, const pgo_value *v, brook_buf *out,
		      char *err, size_t errlen)
{
	const rowavro_column *c = &t->cols[i];
	char perr[256];
	switch (v->kind) {
	case PGO_VALUE_NULL:
		if (!c->nullable) {
			snprintf(err, errlen, "key column %s is null", c->pg_name);
			return BROOK_ERR;
		}
		avro_put_long(out, 0);
		return BROOK_OK;
	case PGO_VALUE_UNCHANGED:
		if (!c->nullable) {
			snprintf(err, errlen, "key column %s is an unchanged TOAST value",
				 c->pg_name);
			return BROOK_ERR;
		}
		if (c->kind == ROWAVRO_STRING || c->kind == ROWAVRO_BYTES) {
			avro_put_long(out, 1);
			avro_put_bytes(out, ROWAVRO_UNAVAILABLE, sizeof ROWAVRO_UNAVAILABLE - 1);
		} else {
			avro_put_long(out, 0);
		}
		return BROOK_OK;
	case PGO_VALUE_TEXT:
		if (c->nullable)
			avro_put_long(out, 1);
		if (rowavro_parse_text(c->kind, (const char *)v->data, v->len, out, perr,
				       sizeof perr) != BROOK_OK) {
			snprintf(err, errlen, "column %s (type oid %u): %s", c->pg_name,
				 c->type_oid, perr);
			return BROOK_ERR;
		}
		return BROOK_OK;
	default:
		snprintf(err, errlen, "column %s: binary values are not supported (text "
			 "output expected)", c->pg_name);
		return BROOK_ERR;
	}
}

/* The Key record (key_only) or the Value record of one tuple. On error the caller
 * truncates out. */
static int put_tuple(const rowavro_table *t, const pgo_tuple *tup, bool key_only,
		     brook_buf *out, char *err, size_t errlen)
{
	if (tup->ncols != t->ncols) {
		snprintf(err, errlen, "tuple of %u columns for table %s.%s of %zu",
			 (unsigned)tup->ncols, t->rel->nspname, t->rel->relname, t->ncols);
		return BROOK_ERR;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (key_only && !t->cols[i].key)
			continue;
		if (put_column(t, i, &tup->cols[i], out, err, errlen) != BROOK_OK)
			return BROOK_ERR;
	}
	return BROOK_OK;
}

/* ["null", Value]: branch 0 without a tuple, else branch 1 and the record. */
static int put_optional_row(const rowavro_table *t, const pgo_tuple *tup, brook_buf *out,
			    char *err, size_t errlen)
{
	if (!tup) {
		avro_put_long(out, 0);
		return BROOK_OK;
	}
	avro_put_long(out, 1);
	return put_tuple(t, tup, false, out, err, errlen);
}

int rowavro_encode_key(const rowavro_table *t, const pg_cdc_change *ch, brook_buf *out,
		       bool *has, char *err, size_t errlen)
{
	*has = false;
	const pgo_tuple *tup = ch->after ? ch->after : ch->before;
	if (t->nkey == 0 || !tup)
		return BROOK_OK;
	size_t start = out->len;
	if (put_tuple(t, tup, true, out, err, errlen) != BROOK_OK) {
		brook_buf_truncate(out, start);
		return BROOK_ERR;
	}
	*has = true;
	return BROOK_OK;
}

int rowavro_encode_value(const rowavro *ra, const rowavro_table *t, const pg_cdc_change *ch,
			 const rowavro_source *src, brook_buf *out, bool *has, char *err,
			 size_t errlen)
{
	*has = false;
	size_t start = out->len;
	if (ra->envelope == ROWAVRO_ENVELOPE_ROW) {
		if (!ch->after)
			return BROOK_OK; /* delete or truncate: the caller's tombstone */
		if (put_tuple(t, ch->after, false, out, err, errlen) != BROOK_OK)
			goto fail;
		*has = true;
		return BROOK_OK;
	}
	if (put_optional_row(t, ch->before, out, err, errlen) != BROOK_OK ||
	    put_optional_row(t, ch->after, out, err, errlen) != BROOK_OK)
		goto fail;
	const char *snapshot = src->snapshot ? src->snapshot : ch->op == 'r' ? "true" : "false";
	size_t snaplen = strlen(snapshot);
	size_t oplen = ch->op ? 1 : 0; /* op as a C string of one character */
	if (!t->source_head || !brook_utf8_valid(snapshot, snaplen) ||
	    !brook_utf8_valid(&ch->op, oplen)) {
		snprintf(err, errlen, "table %s.%s: names are not valid UTF-8",
			 t->rel->nspname[0] ? t->rel->nspname : "pg_catalog", t->rel->relname);
		goto fail;
	}
	brook_buf_append(out, t->source_head, t->source_head_len);
	avro_put_long(out, (int64_t)src->lsn);
	avro_put_long(out, src->txid);
	avro_put_long(out, src->commit_ms);
	avro_put_bytes(out, snapshot, snaplen);
	avro_put_bytes(out, &ch->op, oplen);
	avro_put_long(out, src->now_ms ? src->now_ms : brook_now_ms());
	*has = true;
	return BROOK_OK;
fail:
	brook_buf_truncate(out, start);
	return BROOK_ERR;
}
