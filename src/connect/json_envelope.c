/*
 * json_envelope.c — PostgreSQL changes as JSON records: the key (key columns), and the
 * value as Debezium's envelope or the bare row (see connect_int.h).
 *
 * Values arrive as the type's text output (pgoutput proto 1). Booleans, integers and
 * finite floats become JSON booleans and numbers; numeric stays a string (exact
 * decimals), as do dates, times, uuids, json and everything unknown.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connect/connect_int.h"
#include "core/mem.h"

#define UNAVAILABLE "__debezium_unavailable_value"

enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_CHAR = 18,
	OID_NAME = 19,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_TEXT = 25,
	OID_OID = 26,
	OID_JSON = 114,
	OID_XML = 142,
	OID_CIDR = 650,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_MONEY = 790,
	OID_MACADDR = 829,
	OID_INET = 869,
	OID_BPCHAR = 1042,
	OID_VARCHAR = 1043,
	OID_DATE = 1082,
	OID_TIME = 1083,
	OID_TIMESTAMP = 1114,
	OID_TIMESTAMPTZ = 1184,
	OID_INTERVAL = 1186,
	OID_TIMETZ = 1266,
	OID_BIT = 1560,
	OID_VARBIT = 1562,
	OID_NUMERIC = 1700,
	OID_UUID = 2950,
	OID_JSONB = 3802,
};

bool connect_json_type_known(uint32_t oid)
{
	switch (oid) {
	case OID_BOOL: case OID_BYTEA: case OID_CHAR: case OID_NAME: case OID_INT8:
	case OID_INT2: case OID_INT4: case OID_TEXT: case OID_OID: case OID_JSON:
	case OID_XML: case OID_CIDR: case OID_FLOAT4: case OID_FLOAT8: case OID_MONEY:
	case OID_MACADDR: case OID_INET: case OID_BPCHAR: case OID_VARCHAR: case OID_DATE:
	case OID_TIME: case OID_TIMESTAMP: case OID_TIMESTAMPTZ: case OID_INTERVAL:
	case OID_TIMETZ: case OID_BIT: case OID_VARBIT: case OID_NUMERIC: case OID_UUID:
	case OID_JSONB:
		return true;
	default:
		return false;
	}
}

json_t *connect_json_value(uint32_t oid, const uint8_t *data, size_t len)
{
	char small[64];

	if (oid == OID_BOOL && len == 1)
		return json_boolean(data[0] == 't');
	if ((oid == OID_INT2 || oid == OID_INT4 || oid == OID_INT8 || oid == OID_OID ||
	     oid == OID_FLOAT4 || oid == OID_FLOAT8) && len > 0 && len < sizeof small) {
		memcpy(small, data, len);
		small[len] = '\0';
		char *end;
		errno = 0;
		if (oid == OID_FLOAT4 || oid == OID_FLOAT8) {
			double d = strtod(small, &end);
			if (*end == '\0' && errno == 0 && isfinite(d))
				return json_real(d);
		} else {
			long long v = strtoll(small, &end, 10);
			if (*end == '\0' && errno == 0)
				return json_integer(v);
		}
	}
	json_t *str = json_stringn(len ? (const char *)data : "", len);
	if (str)
		return str;
	/* Not UTF-8 (a SQL_ASCII database, say): the bytes above 0x7f become '?'. */
	char *copy = brook_malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		copy[i] = data[i] < 0x80 && data[i] ? (char)data[i] : '?';
	str = json_stringn(copy, len);
	free(copy);
	return str;
}

json_t *connect_json_row(const pgo_relation *rel, const pgo_tuple *t, const pgo_tuple *fallback)
{
	json_t *row = json_object();
	for (uint16_t i = 0; i < rel->ncols && i < t->ncols; i++) {
		const pgo_value *v = &t->cols[i];
		const pgo_column *col = &rel->cols[i];
		json_t *jv;
		if (v->kind == PGO_VALUE_UNCHANGED && fallback && i < fallback->ncols &&
		    fallback->cols[i].kind != PGO_VALUE_UNCHANGED)
			v = &fallback->cols[i];
		if (v->kind == PGO_VALUE_TEXT || v->kind == PGO_VALUE_BINARY)
			jv = connect_json_value(col->type_oid, v->data, v->len);
		else if (v->kind == PGO_VALUE_UNCHANGED)
			jv = json_string(UNAVAILABLE);
		else
			jv = json_null();
		json_object_set_new_nocheck(row, col->name, jv);
	}
	return row;
}

json_t *connect_json_key(const pg_cdc_change *ch)
{
	const pgo_relation *rel = ch->rel;
	/* A delete has only the old row; an update's key is the new row's. */
	const pgo_tuple *t = ch->after ? ch->after : ch->before;
	if (!t)
		return NULL;
	json_t *key = json_object();
	for (uint16_t i = 0; i < rel->ncols && i < t->ncols; i++) {
		const pgo_column *col = &rel->cols[i];
		if (!(col->flags & PGO_COLUMN_KEY))
			continue;
		const pgo_value *v = &t->cols[i];
		if (v->kind == PGO_VALUE_UNCHANGED && ch->before && i < ch->before->ncols)
			v = &ch->before->cols[i];
		json_t *jv = v->kind == PGO_VALUE_TEXT
				     ? connect_json_value(col->type_oid, v->data, v->len)
				     : json_null();
		json_object_set_new_nocheck(key, col->name, jv);
	}
	if (json_object_size(key) == 0) {
		json_decref(key);
		return NULL;
	}
	return key;
}

json_t *connect_json_value_record(const pg_cdc_change *ch, const connect_source_info *src,
				  int64_t now_ms)
{
	const pgo_tuple *old = ch->before_kind == 'O' ? ch->before : NULL;

	if (src->row_envelope) {
		if (!ch->after)
			return NULL; /* delete: tombstone */
		return connect_json_row(ch->rel, ch->after, old);
	}
	json_t *before = json_null(), *after = json_null();
	/* An update's key-only old row says nothing about the row: Debezium sends null. */
	if (ch->before && (ch->op == 'd' || ch->before_kind == 'O')) {
		json_decref(before);
		before = connect_json_row(ch->rel, ch->before, NULL);
	}
	if (ch->after) {
		json_decref(after);
		after = connect_json_row(ch->rel, ch->after, old);
	}
	json_t *source = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "version",
				   BROOK_VERSION, "connector", "postgresql", "name", src->name,
				   "ts_ms", (json_int_t)src->commit_ms, "snapshot",
				   ch->op == 'r' ? "true" : "false", "schema",
				   ch->rel->nspname[0] ? ch->rel->nspname : "pg_catalog", "table",
				   ch->rel->relname);
	if (ch->op == 'r')
		json_object_set_new(source, "txId", json_null());
	else
		json_object_set_new(source, "txId", json_integer(src->xid));
	json_object_set_new(source, "lsn", src->lsn ? json_integer((json_int_t)src->lsn)
						    : json_null());
	char op[2] = {ch->op, '\0'};
	return json_pack("{s:o, s:o, s:o, s:s, s:I}", "before", before, "after", after, "source",
			 source, "op", op, "ts_ms", (json_int_t)now_ms);
}
