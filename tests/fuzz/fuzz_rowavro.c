/* Fuzz target: PostgreSQL text values written as Avro binary (src/connect/rowavro.h).
 * The first byte picks the column kind (low 6 bits, modulo the kinds), whether the column
 * is a key column (bit 7) and the envelope (bit 6: full, else row); the rest is the text
 * as pgoutput delivers it. The text goes through rowavro_parse_text and, as a one-column
 * table's row, through rowavro_encode_value and rowavro_encode_key. Checked: both agree
 * on whether the text parses; an error leaves the buffer as it was; whatever encodes
 * decodes with the schema (avro/datum.h) and the generic encoder writes the decoded
 * datum back as the very same bytes. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro/datum.h"
#include "connect/rowavro.h"
#include "core/err.h"

static const uint32_t kind_oid[] = {
	[ROWAVRO_BOOLEAN] = ROWAVRO_OID_BOOL,
	[ROWAVRO_INT] = ROWAVRO_OID_INT4,
	[ROWAVRO_LONG] = ROWAVRO_OID_INT8,
	[ROWAVRO_FLOAT] = ROWAVRO_OID_FLOAT4,
	[ROWAVRO_DOUBLE] = ROWAVRO_OID_FLOAT8,
	[ROWAVRO_STRING] = ROWAVRO_OID_TEXT,
	[ROWAVRO_BYTES] = ROWAVRO_OID_BYTEA,
	[ROWAVRO_DATE] = ROWAVRO_OID_DATE,
	[ROWAVRO_TIMESTAMP] = ROWAVRO_OID_TIMESTAMP,
	[ROWAVRO_TIMESTAMPTZ] = ROWAVRO_OID_TIMESTAMPTZ,
	[ROWAVRO_UUID] = ROWAVRO_OID_UUID,
};

/* b[from..] decodes with s and encodes back to the same bytes. */
static void check(const avro_schema *s, const brook_buf *b, size_t from)
{
	char err[256];
	json_t *v = NULL;
	const uint8_t *p = (const uint8_t *)b->data + from;
	size_t n = b->len - from;
	if (avro_decode(s, p, n, &v, err, sizeof err) != BROOK_OK)
		abort();
	brook_buf again = BROOK_BUF_INIT;
	if (avro_encode(s, v, &again, err, sizeof err) != BROOK_OK || again.len != n ||
	    (n && memcmp(again.data, p, n) != 0))
		abort();
	brook_buf_release(&again);
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	rowavro_kind kind = (rowavro_kind)((data[0] & 0x3f) % (ROWAVRO_UUID + 1));
	bool key = data[0] & 0x80;
	bool full = data[0] & 0x40;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	char err[256];

	/* the plain value */
	brook_buf b = BROOK_BUF_INIT;
	brook_buf_putc(&b, 'x');
	int rc = rowavro_parse_text(kind, text, len, &b, err, sizeof err);
	if (rc != BROOK_OK && b.len != 1)
		abort();

	/* one column of that kind */
	pgo_column col = {key ? PGO_COLUMN_KEY : 0, "c", kind_oid[kind], -1};
	pgo_relation rel = {1, "s", "t", 'd', 1, &col};
	rowavro_opts o = {.prefix = "fz", .db = "db",
			  .envelope = full ? ROWAVRO_ENVELOPE_FULL : ROWAVRO_ENVELOPE_ROW};
	rowavro *ra = rowavro_new(&o);
	const rowavro_table *t = rowavro_table_for(ra, &rel, err, sizeof err);
	if (!t)
		abort();
	if (rc == BROOK_OK) {
		const avro_schema *ft = avro_schema_field(t->row_schema, 0)->type;
		check(key ? ft : avro_schema_branch(ft, 1), &b, 1);
	}
	pgo_value v = {PGO_VALUE_TEXT, (uint32_t)len, data + 1};
	pgo_tuple tup = {1, &v};
	pg_cdc_change ch = {'u', &rel, 'O', &tup, &tup, 7};
	rowavro_source src = {.lsn = 7, .txid = 8, .commit_ms = 9, .now_ms = 10};
	brook_buf vb = BROOK_BUF_INIT, kb = BROOK_BUF_INIT;
	brook_buf_putc(&vb, 'x');
	brook_buf_putc(&kb, 'x');
	bool has_val = false, has_key = false;
	int vrc = rowavro_encode_value(ra, t, &ch, &src, &vb, &has_val, err, sizeof err);
	int krc = rowavro_encode_key(t, &ch, &kb, &has_key, err, sizeof err);
	if ((vrc == BROOK_OK) != (rc == BROOK_OK) || (vrc == BROOK_OK) != has_val)
		abort();
	if (vrc == BROOK_OK)
		check(t->value_schema, &vb, 1);
	else if (vb.len != 1)
		abort();
	if (key) {
		if ((krc == BROOK_OK) != (rc == BROOK_OK) || (krc == BROOK_OK) != has_key)
			abort();
		if (krc == BROOK_OK)
			check(t->key_schema, &kb, 1);
		else if (kb.len != 1)
			abort();
	} else if (krc != BROOK_OK || has_key || kb.len != 1) {
		abort();
	}
	brook_buf_release(&b);
	brook_buf_release(&vb);
	brook_buf_release(&kb);
	rowavro_free(ra);
	return 0;
}
