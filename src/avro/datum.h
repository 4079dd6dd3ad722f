/*
 * datum.h — Avro binary data: encoder, decoder, resolving decoder (writer schema →
 * reader schema) and the Confluent wire format, for the serializer that the connector
 * and the stream processor use.
 *
 * Values. A datum is a jansson json_t, so the connector can build it from PostgreSQL
 * rows without a third value type; the stream processor's hot path decodes into jdoc
 * nodes instead (core/jdoc.h: the same JSON model, allocated from an arena — see
 * avro_decode_jdoc). The mapping, both ways:
 *   null      JSON null              boolean  JSON true/false
 *   int       JSON integer in [-2^31, 2^31)        long  JSON integer
 *   float     JSON real (integers accepted when encoding); always a real when decoded
 *   double    likewise
 *   string    JSON string (UTF-8; embedded NULs allowed)
 *   bytes     JSON string whose code points U+0000..U+00FF are the bytes (Avro's JSON
 *   fixed     encoding convention: byte 0xff is "\u00ff"); fixed needs exactly `size`
 *   enum      the symbol, a JSON string
 *   array     JSON array            map  JSON object (keys are the map keys)
 *   record    JSON object keyed by field name. Encoding: a missing field takes the
 *             field's default when it has one, else it is an error naming the field
 *             path; a key that is not a field is an error. Decoding gives the fields in
 *             schema order.
 *   union     the PLAIN value, without a {"type": value} wrapper, both ways.
 * Non-finite floats (NaN, ±Inf) cannot be JSON values: decoding them is an error.
 * Logical types travel as their underlying type (a decimal is its bytes, a
 * timestamp-millis its long); converting them is the caller's business.
 *
 * Union branch matching (encoding). The value's JSON kind picks an ordered list of
 * branch types; for each type in that order, the branches of that type are tried in
 * branch order and the first one that encodes the value without error wins:
 *   null    → null
 *   boolean → boolean
 *   integer → int (when it fits), long, double, float
 *   real    → double, float
 *   string  → string, enum (the symbol must exist), bytes, fixed (length must match)
 *   object  → record (fields must match), map
 *   array   → array
 * A union that has, say, both int and long branches therefore writes small integers as
 * int; decoding it back gives the same JSON value. When no branch accepts the value the
 * error is the first failing branch's, or "matches no branch".
 *
 * Bounds (decoding untrusted bytes). Every length and count is checked against the
 * bytes left before anything is read or allocated; negative array/map block counts must
 * carry a byte size within the bytes left; the total number of values one decode may
 * produce is at most len + AVRO_DATUM_MAX_EMPTY_VALUES (so zero-byte items such as nulls
 * cannot blow up memory); nesting is at most AVRO_DATUM_MAX_DEPTH; strings and map keys
 * must be valid UTF-8 (no surrogates, no overlong forms); booleans are the bytes 0 or 1;
 * union and enum indexes must be in range; trailing bytes after the datum are an error.
 * Duplicate map keys decode to one key (the last value wins), as in Avro Java. Map keys
 * must not contain U+0000 either way (jansson's object API mostly takes C-string keys).
 *
 * Resolution (avro_decode_resolving) follows the specification's "Schema Resolution":
 *   - a writer union reads its branch index and resolves that branch against the
 *     reader; a reader union against a non-union writer uses the first reader branch of
 *     the same type (and, for named types, the same name), else the first branch the
 *     writer's type can be promoted to;
 *   - promotions int→long/float/double, long→float/double, float→double, string↔bytes
 *     (bytes read as a string must be valid UTF-8);
 *   - named types match by unqualified name or by the writer's full name among the
 *     reader's aliases (as compat.h); fixed sizes must be equal;
 *   - records: writer fields are matched to reader fields by name or by the reader
 *     field's aliases; writer fields the reader lacks are decoded and dropped; reader
 *     fields the writer lacks take the reader field's default (normalized to the decoded
 *     form: a double default 1 becomes 1.0); the result has the reader's field order;
 *   - enums by symbol: a symbol the reader lacks becomes the reader enum's default, or
 *     is an error.
 * A datum that cannot be read with the reader schema is BROOK_ERR with the reason and
 * the path (record fields, array indexes and map keys: "/address/city", "/tags/3").
 * No plan is precomputed; each call walks both schemas.
 *
 * Decoding into jdoc nodes (avro_decode_jdoc) is THE decoder: avro_decode and
 * avro_decode_resolving decode into a temporary arena and convert the nodes with
 * brook_jdoc_to_json, so both forms obey every rule above. The nodes:
 *   - nodes and strings live in the caller's arena (nothing points into the input or the
 *     schemas; drop them all with brook_arena_reset/release); null, true and false are
 *     shared static nodes;
 *   - string nodes (strings, enum symbols, bytes and fixed as code points U+0000..U+00FF
 *     in UTF-8) are NUL-terminated copies that carry their length (a string may hold
 *     U+0000), as jdoc requires;
 *   - a record is an object with one member per (reader) field, in the (reader) schema's
 *     field order; a reader field the writer lacks holds the reader's default, decoded
 *     into the arena like any value;
 *   - a map is an object whose members keep the input order; a key the input repeats
 *     stays repeated (brook_jnode_get and brook_jdoc_to_json take the last one, which is
 *     the "last value wins" above);
 *   - int and long are BROOK_J_INT, float and double BROOK_J_REAL.
 * Apart from the arena's own chunks, the decoder calls malloc only when a resolving
 * decode fills a reader default (one scratch buffer per call, for encoding the default);
 * everything else is bump allocation in the arena.
 * On error the arena may hold the nodes of a partial value (reset it as usual).
 *
 * All functions are reentrant; schemas are only read. Nothing is kept between calls.
 */
#ifndef BROOK_AVRO_DATUM_H
#define BROOK_AVRO_DATUM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/schema.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/jdoc.h"

#define AVRO_DATUM_MAX_DEPTH        128       /* deepest value nesting, both ways */
#define AVRO_DATUM_MAX_EMPTY_VALUES (1 << 16) /* extra values beyond one per input byte */
#define AVRO_CONFLUENT_MAGIC        0
#define AVRO_CONFLUENT_HEADER       5 /* magic byte + 4-byte big-endian schema id */

/* Append the Avro binary encoding of v (see the value mapping above) to out. On error
 * returns BROOK_ERR with a message naming the path; out is restored to its length on
 * entry. */
int avro_encode(const avro_schema *s, const json_t *v, brook_buf *out, char *err, size_t errlen);

/* Decode exactly len bytes as one datum of schema s. On success *out is a new reference
 * (yours; json_decref). On error *out is NULL and err says what and at which byte. buf
 * may be NULL when len is 0. */
int avro_decode(const avro_schema *s, const uint8_t *buf, size_t len, json_t **out, char *err,
                size_t errlen);

/* Decode len bytes written with `writer` as a datum of `reader` (schema resolution). */
int avro_decode_resolving(const avro_schema *writer, const avro_schema *reader, const uint8_t *buf,
                          size_t len, json_t **out, char *err, size_t errlen);

/* Decode len bytes written with `writer` into nodes in a: resolved to `reader`, or plainly
 * with the writer schema when reader is NULL. On success *out is the root (in a, see the
 * node rules above); on error *out is NULL and err says what, where (path) and at which
 * byte. buf may be NULL when len is 0. */
int avro_decode_jdoc(const avro_schema *writer, const avro_schema *reader, const uint8_t *buf,
                     size_t len, brook_arena *a, const brook_jnode **out, char *err, size_t errlen);

/* Confluent wire format: append magic byte 0, the 4-byte big-endian schema id, then the
 * n payload bytes (avro may be NULL when n is 0). */
void avro_confluent_frame(uint32_t id, const uint8_t *avro, size_t n, brook_buf *out);
/* Split a framed message; *payload points into buf. BROOK_ERR when shorter than the
 * header or the magic byte is not 0. */
int avro_confluent_unframe(const uint8_t *buf, size_t len, uint32_t *id, const uint8_t **payload,
                           size_t *n, char *err, size_t errlen);

#endif
