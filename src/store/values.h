/*
 * values.h — CQL terms (literals, bind markers, functions, casts) to serialized values of
 * a column's type, with Cassandra's coercion rules and its Invalid (0x2200) messages.
 *
 * Literal kinds and the column types they may be assigned to (Cassandra 3.11's rules):
 *   STRING   ascii, text/varchar, timestamp, date, time, inet
 *   INTEGER  tinyint, smallint, int, bigint, counter, varint, float, double, decimal,
 *            timestamp (ms), date (raw unsigned days, epoch at 2^31), time (ns)
 *   FLOAT    float, double, decimal (NaN / Infinity: float and double only)
 *   BOOLEAN  boolean       UUID  uuid, timeuuid (version 1 only)       HEX  blob
 *   NULL     anything (the value is null; a tombstone is the caller's business)
 * A uuid column does not take a quoted uuid, and a blob column no string (as Cassandra).
 * Range errors answer "Unable to make int from '3000000000'" (Cassandra's
 * MarshalException text); kind errors "Invalid STRING constant (abc) for "x" of type
 * int".
 *
 * Collections: list/set/map literals are converted element by element (elements may be
 * bind markers; a null element is an error). Sets are sorted by the element type's order
 * and de-duplicated; maps sorted by key, a repeated key keeps its last value. `{}` is the
 * empty set or map. An empty collection is serialized as count 0: treating it as null
 * (non-frozen collections) is the caller's business. Tuples take up to their arity of
 * elements; null elements are allowed there.
 *
 * Functions: now() and currenttimeuuid() (a version 1 timeuuid at now_ms), uuid() (v4),
 * totimestamp(now()) / currenttimestamp() (now_ms), currentdate(), currenttime(),
 * todate(now()), tounixtimestamp(now()). Casts `(type) term` check that the cast type
 * is the column's type and convert the term as that type.
 *
 * Bind markers: the bound [value] (EXECUTE / QUERY values) is checked with
 * cql_value_validate (a double bound to an int column: "Expected 4 or 0 byte int (8)").
 * Bound sets and maps are re-sorted and de-duplicated like literals. A null bound value
 * is a null; a not-set value is reported as STORE_VALUE_UNSET so the caller can leave the
 * column alone.
 *
 * Ownership: out->ptr points into the arena, or (zero-copy) into the bound value's bytes
 * for natives and lists; it lives as long as both do.
 */
#ifndef BROOK_STORE_VALUES_H
#define BROOK_STORE_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "cql/proto.h"
#include "cql/types.h"
#include "store/cql_ast.h"

typedef enum store_value_kind {
	STORE_VALUE_SET,   /* ptr[0..len) is the serialized value */
	STORE_VALUE_NULL,  /* null literal or null bound value */
	STORE_VALUE_UNSET, /* a bind marker bound to "not set" */
} store_value_kind;

typedef struct store_value {
	store_value_kind kind;
	const uint8_t *ptr; /* never NULL when kind is SET (may point at a static empty) */
	size_t len;
} store_value;

/* Converts `term` to a value of `type` for the column named `col` (used in messages).
 * binds[0..n_binds) are the request's bound values (len -1 null, -2 not set); a marker's
 * bind_index selects one. now_ms is the statement's clock for now() and friends.
 * BROOK_OK with *out set, or BROOK_ERR with Cassandra's message in err (answer 0x2200). */
int store_value_from_term(const cql_type *type, const char *col, const cql_term *term,
			  const cql_bytes *binds, size_t n_binds, int64_t now_ms, brook_arena *a,
			  store_value *out, char *err, size_t errlen);

/* Cassandra's ordering of two serialized values of a native type (signed integers,
 * floats numerically, date unsigned, timeuuid by time, text/blob/inet bytewise). <0, 0,
 * >0. Collections and tuples compare bytewise. */
int store_value_cmp(const cql_type *type, const uint8_t *x, size_t xn, const uint8_t *y,
		    size_t yn);

/* A version 1 (time-based) uuid for the instant now_ms, with a random node and clock
 * sequence chosen once per process; successive calls in the same millisecond count up
 * the 100 ns ticks so ids stay unique. Thread-safe. */
void store_uuid_v1(int64_t now_ms, uint8_t out[16]);
/* The ms timestamp of a version 1 uuid. */
int64_t store_uuid_v1_ms(const uint8_t u[16]);

#endif
