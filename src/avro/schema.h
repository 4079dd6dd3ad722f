/*
 * schema.h — Apache Avro 1.11 schemas: parse, walk, Parsing Canonical Form, CRC-64-AVRO
 * fingerprint and a normalized JSON form, for brook's Schema Registry.
 *
 * Purpose. The registry stores Avro schemas submitted as JSON text. avro_schema_parse()
 * checks a schema against the specification (names, namespaces, references, defaults,
 * unions, fixed sizes, logical types) and builds an immutable tree that the
 * compatibility checker (compat.h), the serializer and the registry walk with the
 * accessors below. Its error messages are meant for people: they become Confluent
 * 42201 "Invalid schema" answers.
 *
 * Shape. Every node of the tree is an avro_schema; all nodes of one parse live in one
 * pool owned by the root returned by avro_schema_parse(), freed with avro_schema_free()
 * on that root only. A reference to a named type by name ("com.x.User") is not a node of
 * its own: it is a pointer to the named node, so a recursive record points back to one
 * of its ancestors and the tree is a graph. Walkers that recurse must therefore stop at
 * named types they have already seen (the canonical form and the JSON form print a named
 * type in full once, then by full name, as the specification says).
 *
 * Invariants after a successful parse:
 *   - named types (record, enum, fixed) have a valid full name, unique in the schema;
 *     aliases are stored as full names (resolved against the type's namespace);
 *   - record field names and enum symbols are valid names, unique within their type;
 *   - a union has at least one branch, no nested union, and at most one branch of each
 *     unnamed type and of each full name;
 *   - every field default (json_t, owned by the tree) is valid for the field's type, and
 *     for a union-typed field it is valid for the FIRST branch (Avro 1.11);
 *   - an enum default, when present, is one of the symbols; a fixed size is in
 *     [0, AVRO_MAX_FIXED_SIZE];
 *   - a logicalType attribute is kept as written (avro_schema_logical_raw); the
 *     logical type is in force (avro_schema_logical_type) only when it is known and valid
 *     for the underlying type (decimal: precision >= 1, 0 <= scale <= precision, and for
 *     fixed a precision that fits the size); otherwise it is ignored as the spec says.
 * Bounds: input at most AVRO_MAX_SCHEMA_BYTES, nesting at most AVRO_MAX_DEPTH levels,
 * unions of at most AVRO_MAX_UNION_BRANCHES. Lookups of fields and symbols by name are
 * hashed, so parsing and checking stay near-linear in the size of the text.
 *
 * The tree is immutable after parsing and may be read from several threads at once.
 */
#ifndef BROOK_AVRO_SCHEMA_H
#define BROOK_AVRO_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AVRO_MAX_SCHEMA_BYTES   (4u << 20) /* largest schema text accepted */
#define AVRO_MAX_DEPTH          64         /* deepest nesting of JSON in a schema */
#define AVRO_MAX_FIXED_SIZE     (1 << 30)
#define AVRO_MAX_UNION_BRANCHES 1024 /* keeps union-against-union checks cheap */

typedef enum avro_type {
	AVRO_NULL,
	AVRO_BOOLEAN,
	AVRO_INT,
	AVRO_LONG,
	AVRO_FLOAT,
	AVRO_DOUBLE,
	AVRO_BYTES,
	AVRO_STRING,
	AVRO_RECORD,
	AVRO_ENUM,
	AVRO_ARRAY,
	AVRO_MAP,
	AVRO_UNION,
	AVRO_FIXED,
} avro_type;

typedef enum avro_order {
	AVRO_ORDER_ASCENDING,
	AVRO_ORDER_DESCENDING,
	AVRO_ORDER_IGNORE,
} avro_order;

typedef struct avro_schema avro_schema;

/* A record field; all pointers are owned by the schema tree. */
typedef struct avro_field {
	const char *name;
	const avro_schema *type;
	const json_t *def; /* the default value, NULL when the field has none */
	const char *doc;   /* NULL when absent */
	const char *const *aliases;
	size_t naliases;
	avro_order order;
	bool order_given; /* "order" was written in the schema */
} avro_field;

/*
 * Parse `len` bytes of JSON schema text. On success returns the root (yours; free with
 * avro_schema_free). On failure returns NULL and writes a message to err.
 */
avro_schema *avro_schema_parse(const char *json, size_t len, char *err, size_t errlen);
/* Free a tree returned by avro_schema_parse (NULL is fine). Never call on inner nodes. */
void avro_schema_free(avro_schema *root);

/* ---- walking (nodes belong to the tree; valid until avro_schema_free) ---- */
avro_type avro_schema_type(const avro_schema *s);
const char *avro_type_name(avro_type t); /* "int", "record", "union", ... */
bool avro_type_is_named(avro_type t);    /* record, enum, fixed */
/* Named types: full name ("com.x.User"), short name ("User"), namespace (NULL if none). */
const char *avro_schema_fullname(const avro_schema *s);
const char *avro_schema_shortname(const avro_schema *s);
const char *avro_schema_namespace(const avro_schema *s);
const char *avro_schema_doc(const avro_schema *s);
size_t avro_schema_alias_count(const avro_schema *s);
const char *avro_schema_alias(const avro_schema *s, size_t i); /* full names */
/* Records. */
size_t avro_schema_field_count(const avro_schema *s);
const avro_field *avro_schema_field(const avro_schema *s, size_t i);
/* Index of the field named `name`, or -1. */
long avro_schema_field_index(const avro_schema *s, const char *name);
/* Enums. */
size_t avro_schema_symbol_count(const avro_schema *s);
const char *avro_schema_symbol(const avro_schema *s, size_t i);
long avro_schema_symbol_index(const avro_schema *s, const char *symbol);
const char *avro_schema_enum_default(const avro_schema *s); /* NULL when none */
/* Arrays (items) and maps (values). */
const avro_schema *avro_schema_items(const avro_schema *s);
const avro_schema *avro_schema_values(const avro_schema *s);
/* Unions. */
size_t avro_schema_branch_count(const avro_schema *s);
const avro_schema *avro_schema_branch(const avro_schema *s, size_t i);
/* Fixed. */
int64_t avro_schema_fixed_size(const avro_schema *s);
/* Logical type in force ("decimal", "uuid", "date", "time-millis", "time-micros",
 * "timestamp-millis", "timestamp-micros", "local-timestamp-millis",
 * "local-timestamp-micros", "duration"), or NULL when none or ignored. */
const char *avro_schema_logical_type(const avro_schema *s);
const char *avro_schema_logical_raw(const avro_schema *s); /* as written, or NULL */
int avro_schema_decimal_precision(const avro_schema *s);
int avro_schema_decimal_scale(const avro_schema *s);

/* ---- forms ---- */
/* Parsing Canonical Form (spec "Parsing Canonical Form for Schemas"). Yours; free(). */
char *avro_schema_canonical(const avro_schema *s);
/* CRC-64-AVRO of the canonical form (the spec's 64-bit Rabin fingerprint). */
uint64_t avro_schema_fingerprint64(const avro_schema *s);
uint64_t avro_crc64(const void *data, size_t n);
/* Normalized full JSON (compact): full names, namespaces folded into names, and doc,
 * aliases, defaults, order, logicalType and other custom attributes kept. Parses back
 * to a schema with the same canonical form. Yours; free(). */
char *avro_schema_to_json(const avro_schema *s);

/* Is `v` a valid default (JSON) value for schema s? (union: for its first branch) */
bool avro_schema_default_valid(const avro_schema *s, const json_t *v);

#endif
