/*
 * client_fmt.c — presenting CQL results the way `brook cql` prints them (client.h,
 * "output formatting"): a cqlsh-style aligned table, one JSON object per row (jansson),
 * and splitting a script into statements.
 *
 * The table follows cqlsh: a blank line, the header left-aligned, a separator of dashes
 * joined by "-+-", cells right-aligned, a blank line, "(N rows)". Cells are rendered with
 * cql_value_to_text (cqlsh's forms). Widths count UTF-8 code points, not bytes.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "cql/client_impl.h"

/* ---- table ---------------------------------------------------------------------------- */

static size_t utf8_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			w++;
	return w;
}

void cql_table_init(cql_table *t, const cql_res *first_page)
{
	memset(t, 0, sizeof *t);
	t->columns = cql_res_column_count(first_page);
	t->names = brook_calloc((size_t)(t->columns > 0 ? t->columns : 1), sizeof *t->names);
	t->widths = brook_calloc((size_t)(t->columns > 0 ? t->columns : 1), sizeof *t->widths);
	for (int32_t c = 0; c < t->columns; c++) {
		const char *name = cql_res_column_name(first_page, c);
		t->names[c] = brook_strdup(name);
		t->widths[c] = utf8_width(name, strlen(name));
	}
}

void cql_table_add(cql_table *t, const cql_res *page)
{
	int32_t rows = cql_res_row_count(page);
	if (cql_res_column_count(page) != t->columns)
		return; /* a page of another statement: nothing sensible to align */
	for (int32_t r = 0; r < rows; r++) {
		if ((size_t)(t->rows + 1) * (size_t)t->columns > t->offsets_cap) {
			size_t cap = t->offsets_cap ? t->offsets_cap * 2 : 256;
			while (cap < (size_t)(t->rows + 1) * (size_t)t->columns)
				cap *= 2;
			t->offsets = brook_realloc(t->offsets, cap * sizeof *t->offsets);
			t->offsets_cap = cap;
		}
		for (int32_t c = 0; c < t->columns; c++) {
			size_t start = t->cells.len;
			t->offsets[(size_t)t->rows * (size_t)t->columns + (size_t)c] = start;
			cql_res_cell_text(page, r, c, &t->cells, 0);
			size_t w = utf8_width(t->cells.data + start, t->cells.len - start);
			if (w > t->widths[c])
				t->widths[c] = w;
			brook_buf_putc(&t->cells, '\0');
		}
		t->rows++;
	}
}

static void pad(brook_buf *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		brook_buf_putc(out, ' ');
}

void cql_table_render(const cql_table *t, brook_buf *out)
{
	brook_buf line = BROOK_BUF_INIT;
	brook_buf_putc(out, '\n');
	/* header: names left-aligned, trailing blanks dropped */
	brook_buf_putc(&line, ' ');
	for (int32_t c = 0; c < t->columns; c++) {
		if (c)
			brook_buf_puts(&line, " | ");
		brook_buf_puts(&line, t->names[c]);
		pad(&line, t->widths[c] - utf8_width(t->names[c], strlen(t->names[c])));
	}
	while (line.len && line.data[line.len - 1] == ' ')
		brook_buf_truncate(&line, line.len - 1);
	brook_buf_append(out, line.data, line.len);
	brook_buf_putc(out, '\n');
	brook_buf_release(&line);
	brook_buf_putc(out, '-');
	for (int32_t c = 0; c < t->columns; c++) {
		if (c)
			brook_buf_puts(out, "-+-");
		for (size_t i = 0; i < t->widths[c]; i++)
			brook_buf_putc(out, '-');
	}
	brook_buf_puts(out, "-\n");
	for (int64_t r = 0; r < t->rows; r++) {
		brook_buf_putc(out, ' ');
		for (int32_t c = 0; c < t->columns; c++) {
			const char *s = t->cells.data + t->offsets[(size_t)r * (size_t)t->columns +
								   (size_t)c];
			if (c)
				brook_buf_puts(out, " | ");
			pad(out, t->widths[c] - utf8_width(s, strlen(s)));
			brook_buf_puts(out, s);
		}
		brook_buf_putc(out, '\n');
	}
	brook_buf_printf(out, "\n(%lld rows)\n", (long long)t->rows);
}

void cql_table_release(cql_table *t)
{
	for (int32_t c = 0; c < t->columns; c++)
		free(t->names[c]);
	free(t->names);
	free(t->widths);
	free(t->offsets);
	brook_buf_release(&t->cells);
	memset(t, 0, sizeof *t);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static json_t *text_json(const cql_type *t, const uint8_t *p, int32_t len)
{
	brook_buf b = BROOK_BUF_INIT;
	cql_value_to_text(&b, t, p, len, 0);
	json_t *j = json_stringn(b.data ? b.data : "", b.len);
	if (!j) { /* not UTF-8: show the bytes */
		brook_buf_reset(&b);
		cql_value_to_text(&b, cql_type_native(CQL_TYPE_BLOB), p, len, 0);
		j = json_stringn(b.data, b.len);
	}
	brook_buf_release(&b);
	return j;
}

static int64_t sign_extend(const uint8_t *p, size_t n)
{
	uint64_t u = 0;
	for (size_t i = 0; i < n; i++)
		u = u << 8 | p[i];
	if (n < 8 && (p[0] & 0x80))
		u |= ~(uint64_t)0 << (n * 8);
	return (int64_t)u;
}

static json_t *value_json(const cql_type *t, const uint8_t *p, int32_t len);

/* Elements of a serialized collection/tuple/UDT: [int] count (collections) then
 * [bytes]; NULL when malformed. */
static json_t *composite_json(const cql_type *t, const uint8_t *p, int32_t len)
{
	cql_rd rd;
	cql_rd_init(&rd, p, (size_t)len);
	json_t *out;
	if (t->id == CQL_TYPE_LIST || t->id == CQL_TYPE_SET) {
		int32_t n = cql_rd_int(&rd);
		if (rd.failed || n < 0 || (size_t)n > cql_rd_left(&rd) / 4)
			return NULL;
		out = json_array();
		for (int32_t i = 0; i < n && !rd.failed; i++) {
			cql_bytes e = cql_rd_bytes(&rd);
			if (!rd.failed)
				json_array_append_new(out, value_json(t->sub[0], e.ptr, e.len));
		}
	} else if (t->id == CQL_TYPE_MAP) {
		int32_t n = cql_rd_int(&rd);
		if (rd.failed || n < 0 || (size_t)n > cql_rd_left(&rd) / 8)
			return NULL;
		out = json_object();
		for (int32_t i = 0; i < n && !rd.failed; i++) {
			cql_bytes k = cql_rd_bytes(&rd), v = cql_rd_bytes(&rd);
			if (rd.failed)
				break;
			brook_buf kt = BROOK_BUF_INIT;
			cql_value_to_text(&kt, t->sub[0], k.ptr, k.len, 0);
			json_object_setn_new(out, kt.data, kt.len,
					     value_json(t->sub[1], v.ptr, v.len));
			brook_buf_release(&kt);
		}
	} else if (t->id == CQL_TYPE_TUPLE) {
		out = json_array();
		for (uint16_t i = 0; i < t->n && cql_rd_left(&rd) && !rd.failed; i++) {
			cql_bytes e = cql_rd_bytes(&rd);
			if (!rd.failed)
				json_array_append_new(out, value_json(t->sub[i], e.ptr, e.len));
		}
	} else { /* UDT */
		out = json_object();
		for (uint16_t i = 0; i < t->n && cql_rd_left(&rd) && !rd.failed; i++) {
			cql_bytes e = cql_rd_bytes(&rd);
			if (!rd.failed)
				json_object_setn_new(out, t->field_names[i].ptr,
						     t->field_names[i].len,
						     value_json(t->sub[i], e.ptr, e.len));
		}
	}
	if (rd.failed || cql_rd_left(&rd)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static json_t *value_json(const cql_type *t, const uint8_t *p, int32_t len)
{
	if (len < 0)
		return json_null();
	switch (t->id) {
	case CQL_TYPE_VARCHAR:
	case CQL_TYPE_ASCII:
	case CQL_TYPE_BLOB:
	case CQL_TYPE_CUSTOM:
		return text_json(t, p, len);
	default:
		break;
	}
	if (len == 0) /* the "empty value" of a non-string type */
		return json_null();
	switch (t->id) {
	case CQL_TYPE_BOOLEAN:
		if (len == 1)
			return json_boolean(p[0] != 0);
		break;
	case CQL_TYPE_TINYINT:
	case CQL_TYPE_SMALLINT:
	case CQL_TYPE_INT:
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
	case CQL_TYPE_VARINT: {
		size_t want = t->id == CQL_TYPE_TINYINT    ? 1
			      : t->id == CQL_TYPE_SMALLINT ? 2
			      : t->id == CQL_TYPE_INT      ? 4
			      : t->id == CQL_TYPE_VARINT   ? (size_t)len
							   : 8;
		if ((size_t)len == want && want <= 8)
			return json_integer(sign_extend(p, want));
		break;
	}
	case CQL_TYPE_FLOAT:
	case CQL_TYPE_DOUBLE: {
		double d;
		if (t->id == CQL_TYPE_FLOAT && len == 4) {
			uint32_t u = (uint32_t)sign_extend(p, 4);
			float f;
			memcpy(&f, &u, 4);
			d = f;
		} else if (t->id == CQL_TYPE_DOUBLE && len == 8) {
			uint64_t u = (uint64_t)sign_extend(p, 8);
			memcpy(&d, &u, 8);
		} else {
			break;
		}
		if (isfinite(d))
			return json_real(d);
		break; /* NaN, Infinity: JSON has no numbers for them */
	}
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
	case CQL_TYPE_MAP:
	case CQL_TYPE_TUPLE:
	case CQL_TYPE_UDT: {
		json_t *j = composite_json(t, p, len);
		if (j)
			return j;
		break;
	}
	default:
		break;
	}
	return text_json(t, p, len);
}

void cql_res_row_json(const cql_res *r, int32_t row, brook_buf *out)
{
	json_t *o = json_object();
	int32_t n = cql_res_column_count(r);
	for (int32_t c = 0; c < n; c++) {
		const cql_type *t = cql_res_column_type(r, c);
		cql_bytes b = cql_res_cell(r, row, c);
		json_object_set_new(o, cql_res_column_name(r, c),
				    t ? value_json(t, b.ptr, b.len)
				      : text_json(cql_type_native(CQL_TYPE_BLOB), b.ptr, b.len));
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		brook_buf_puts(out, s);
	free(s);
	json_decref(o);
}

/* ---- splitting scripts ------------------------------------------------------------------ */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Emits the statement collected in b (trimmed); empty ones are skipped. */
static int emit(brook_buf *b, int line, cql_split_fn fn, void *arg)
{
	size_t a = 0, e = b->len;
	while (a < e && blank(b->data[a]))
		a++;
	while (e > a && blank(b->data[e - 1]))
		e--;
	int rc = 0;
	if (e > a) {
		char save = b->data[e];
		b->data[e] = '\0';
		rc = fn(arg, b->data + a, e - a, line);
		b->data[e] = save;
	}
	brook_buf_reset(b);
	return rc;
}

int cql_split_statements(const char *text, size_t len, cql_split_fn fn, void *arg, char *err,
			 size_t errlen)
{
	brook_buf b = BROOK_BUF_INIT;
	int line = 1, start_line = 0, rc = BROOK_OK;
	size_t i = 0;
	while (i < len) {
		char c = text[i];
		char d = i + 1 < len ? text[i + 1] : '\0';
		if ((c == '-' && d == '-') || (c == '/' && d == '/')) {
			while (i < len && text[i] != '\n')
				i++;
			continue; /* the newline itself is kept below */
		}
		if (c == '/' && d == '*') {
			int at = line;
			i += 2;
			while (i + 1 < len && !(text[i] == '*' && text[i + 1] == '/')) {
				if (text[i] == '\n')
					line++;
				i++;
			}
			if (i + 1 >= len) {
				snprintf(err, errlen, "line %d: unterminated /* comment", at);
				rc = BROOK_ERR;
				goto out;
			}
			i += 2;
			brook_buf_putc(&b, ' ');
			continue;
		}
		if (!blank(c) && c != ';' && start_line == 0)
			start_line = line;
		if (c == ';') {
			int r = emit(&b, start_line, fn, arg);
			start_line = 0;
			i++;
			if (r) {
				rc = r;
				goto out;
			}
			continue;
		}
		if (c == '\'' || c == '"' || (c == '$' && d == '$')) {
			/* a string, quoted identifier or $$ string: copied whole */
			int at = line;
			size_t q = i;
			i += c == '$' ? 2 : 1;
			for (;;) {
				if (i >= len) {
					snprintf(err, errlen, "line %d: unterminated %s", at,
						 c == '"' ? "quoted identifier" : "string");
					rc = BROOK_ERR;
					goto out;
				}
				if (c == '$') {
					if (text[i] == '$' && i + 1 < len && text[i + 1] == '$') {
						i += 2;
						break;
					}
				} else if (text[i] == c) {
					if (i + 1 < len && text[i + 1] == c) {
						i += 2; /* doubled quote */
						continue;
					}
					i++;
					break;
				}
				if (text[i] == '\n')
					line++;
				i++;
			}
			brook_buf_append(&b, text + q, i - q);
			continue;
		}
		if (c == '\n')
			line++;
		brook_buf_putc(&b, c);
		i++;
	}
	rc = emit(&b, start_line, fn, arg);
out:
	brook_buf_release(&b);
	return rc;
}
