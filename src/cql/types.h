/*
 * types.h — CQL data types: the type tree, its [option] encoding, CQL type names, and
 * serialized values (spec sections 4.2.5.2 and 6).
 *
 * A cql_type is a tree: native types are leaves; list/set have one child, map two (key,
 * value), tuple n, UDT n (with field names, keyspace and name); custom carries a Java
 * class name. Trees built by the parsers live in the caller's arena; cql_type_native()
 * returns static leaves that need no arena. Nesting is limited to CQL_TYPE_MAX_DEPTH so
 * no input can recurse deeply.
 *
 * Names: cql_type_parse() reads what CREATE TABLE accepts ("text", "VARCHAR",
 * "list<int>", "map<text, bigint>", "frozen<set<uuid>>", "tuple<int, text>", a quoted
 * custom class name); cql_type_print() writes Cassandra's canonical names as
 * system_schema shows them ("text" for varchar, "frozen<...>" when frozen). UDT names
 * are the catalog's business: the parser rejects unknown names.
 *
 * Values: cql_value_validate() checks a serialized value against a type the way
 * Cassandra does (exact widths for fixed types — an empty value is accepted for the
 * non-string native types, as the spec's "empty value" rule says; ascii < 0x80; text is
 * valid UTF-8; timeuuid is version 1; time within a day; collections as [int] count then
 * [bytes] elements, every element valid, no null elements, nothing left over).
 * cql_value_to_text() writes the human form cqlsh prints (timestamps "2024-03-05
 * 10:00:00.000000+0000", uuids lower-case, blobs 0x.., True/False, [1, 2], {'a': 1});
 * with CQL_TEXT_LITERAL strings are quoted as CQL literals ('it''s') at the top level too
 * (inside collections they always are). cql_value_from_text() is the inverse (the
 * literal forms the DataStax Python driver interpolates: unquoted or quoted text,
 * integers, floats with NaN/Infinity, True/False, uuids, 0x blobs, integer or ISO-8601
 * timestamps, 'YYYY-MM-DD' dates, 'HH:MM:SS[.fffffffff]' times, inet addresses, and
 * collections [1, 2], {'a', 'b'}, {'k': 1}, tuples (1, null)). Collection literals are
 * serialized in the order written: sorting sets and map keys and dropping duplicates is
 * the store's business. UDT literals are not parsed.
 */
#ifndef BROOK_CQL_TYPES_H
#define BROOK_CQL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "cql/proto.h"

typedef enum cql_type_id {
	CQL_TYPE_CUSTOM = 0x0000,
	CQL_TYPE_ASCII = 0x0001,
	CQL_TYPE_BIGINT = 0x0002,
	CQL_TYPE_BLOB = 0x0003,
	CQL_TYPE_BOOLEAN = 0x0004,
	CQL_TYPE_COUNTER = 0x0005,
	CQL_TYPE_DECIMAL = 0x0006,
	CQL_TYPE_DOUBLE = 0x0007,
	CQL_TYPE_FLOAT = 0x0008,
	CQL_TYPE_INT = 0x0009,
	CQL_TYPE_TIMESTAMP = 0x000B,
	CQL_TYPE_UUID = 0x000C,
	CQL_TYPE_VARCHAR = 0x000D,
	CQL_TYPE_VARINT = 0x000E,
	CQL_TYPE_TIMEUUID = 0x000F,
	CQL_TYPE_INET = 0x0010,
	CQL_TYPE_DATE = 0x0011,
	CQL_TYPE_TIME = 0x0012,
	CQL_TYPE_SMALLINT = 0x0013,
	CQL_TYPE_TINYINT = 0x0014,
	CQL_TYPE_LIST = 0x0020,
	CQL_TYPE_MAP = 0x0021,
	CQL_TYPE_SET = 0x0022,
	CQL_TYPE_UDT = 0x0030,
	CQL_TYPE_TUPLE = 0x0031,
} cql_type_id;

#define CQL_TYPE_MAX_DEPTH 16

typedef struct cql_type cql_type;
struct cql_type {
	uint16_t id;          /* cql_type_id */
	bool frozen;          /* frozen<...> in a type name (not on the wire) */
	uint16_t n;           /* children: list/set 1, map 2, tuple/UDT fields */
	const cql_type **sub; /* children */
	cql_str *field_names; /* UDT field names (n of them) */
	cql_str custom;       /* custom class name; UDT keyspace */
	cql_str udt_name;     /* UDT name */
};

/* A static leaf for a native id (ascii..tinyint); NULL for others. */
const cql_type *cql_type_native(uint16_t id);
/* True for native (leaf, non-custom) ids. */
bool cql_type_is_native(uint16_t id);
/* list<elem>, set<elem>, map<k, v> built in the arena. */
const cql_type *cql_type_collection(brook_arena *a, uint16_t id, const cql_type *k,
				    const cql_type *v);
/* Structural equality (frozen ignored: the wire does not carry it). */
bool cql_type_equal(const cql_type *x, const cql_type *y);

/* [option] on the wire. cql_type_read returns NULL (and fails rd) on bad input. */
const cql_type *cql_type_read(cql_rd *rd, brook_arena *a);
void cql_type_write(brook_buf *b, const cql_type *t);

/* Parses a CQL type name (surrounding blanks allowed). NULL on error with a message
 * in err. */
const cql_type *cql_type_parse(const char *s, size_t n, brook_arena *a, char *err, size_t errlen);
/* Appends the canonical name. */
void cql_type_print(brook_buf *b, const cql_type *t);

/* BROOK_OK when p[0..n) is a valid serialized value of type t; BROOK_ERR with a message
 * ("Expected 4 or 0 byte int (8)") otherwise. Null is the caller's business. */
int cql_value_validate(const cql_type *t, const uint8_t *p, size_t n, char *err, size_t errlen);

enum {
	CQL_TEXT_LITERAL = 0x01, /* quote top-level strings as CQL literals */
};
/* Appends the text form of a value; len < 0 is null ("null"). The value should have
 * been validated; malformed input prints as a 0x.. blob rather than failing. */
void cql_value_to_text(brook_buf *b, const cql_type *t, const uint8_t *p, int32_t len,
		       unsigned flags);
/* Serializes the literal s[0..n) of type t into out. BROOK_OK, or BROOK_ERR with a
 * message (out unchanged). Quotes around strings, dates, times, timestamps, inets are
 * optional at the top level; inside collections, strings must be quoted. */
int cql_value_from_text(const cql_type *t, const char *s, size_t n, brook_buf *out, char *err,
			size_t errlen);

/* Days since the epoch <-> the date type's unsigned encoding (epoch at 2^31). */
static inline uint32_t cql_date_from_days(int64_t days)
{
	return (uint32_t)(days + ((int64_t)1 << 31));
}
static inline int64_t cql_date_to_days(uint32_t v)
{
	return (int64_t)v - ((int64_t)1 << 31);
}

#endif
