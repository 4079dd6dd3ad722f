/*
 * codec.h — Kafka messages as data: schema tables plus one interpreter.
 *
 * Every request and response is described once, by a kafka_schema: an ordered list of
 * fields, each with its wire type, the versions it is present in, the versions it may
 * be null in, its tag (flexible versions only) and where it lives in the C struct. The
 * same table drives kafka_decode (wire -> struct) and kafka_encode (struct -> wire), so
 * the broker decodes requests and encodes responses while tests and tools do the
 * opposite, and the two can never disagree.
 *
 * C representation of a field of type:
 *   BOOL bool, INT8 int8_t, INT16 int16_t, UINT16 uint16_t, INT32 int32_t, INT64 int64_t,
 *   FLOAT64 double, UUID kafka_uuid, STRING kafka_str, BYTES and RECORDS kafka_bytes,
 *   STRUCT the sub-struct embedded by value,
 *   ARRAY two members: `T *items` at offset and `int32_t n_items` at count_offset
 *   (n -1: null array). Elements are sub-structs (sub != NULL) or, for arrays of
 *   primitives (sub == NULL), plain C values of elem_type (int32_t, int64_t, kafka_str).
 *
 * Versions: a field is present in [min_ver, max_ver] (max_ver -1: no upper bound).
 * Decoding gives absent fields their default: `def` for integers and bools, null for
 * strings and bytes, an empty array (NULL, 0), defaults recursively for structs.
 * Encoding writes present fields only. Build messages to encode from kafka_defaults():
 * a zeroed struct is not the default where Kafka's default is not 0 (e.g. a tagged
 * int64 defaulting to -1 would be written).
 *
 * Nullability: decoding a null in a version where the field is not nullable fails, as
 * Kafka does. Encoding a null where it is not allowed writes an empty value instead.
 *
 * Flexible versions (KIP-482): compact strings/bytes/arrays and a tagged-field section
 * at the end of every struct. Decoding skips unknown tags and decodes known ones
 * (fields with tag >= 0, present in that version); encoding writes a known tagged field
 * only when its value differs from the default, in table order (tables list tagged
 * fields by increasing tag).
 *
 * Memory: decoded strings, bytes and records point into the input buffer, which must
 * outlive the decoded struct; arrays are allocated from the caller's arena. Array
 * counts are checked against the bytes left before allocating (each element needs at
 * least its minimal wire size), so a lying length cannot make us allocate more than a
 * small multiple of the request size.
 *
 * Errors: kafka_decode returns BROOK_ERR with rd->err naming the field path and the
 * byte offset, e.g. "Topics[2].Partitions[0].Records: length 99999 at byte 57 exceeds
 * the 12 bytes left". Trailing bytes after the message are not an error here (the
 * caller may check kafka_rd_left()).
 *
 * Zero-copy records: encoding a RECORDS value with ptr == NULL and len > 0 writes only
 * its length prefix; when a kafka_splices collector is given, the position right after
 * that prefix is recorded, in encoding order, so the server can splice len bytes from a
 * segment file there (sendfile) instead of copying them into the buffer.
 */
#ifndef BROOK_KAFKA_CODEC_H
#define BROOK_KAFKA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "kafka/proto.h"

typedef enum {
	KAFKA_T_BOOL,
	KAFKA_T_INT8,
	KAFKA_T_INT16,
	KAFKA_T_UINT16,
	KAFKA_T_INT32,
	KAFKA_T_INT64,
	KAFKA_T_FLOAT64,
	KAFKA_T_UUID,
	KAFKA_T_STRING,
	KAFKA_T_BYTES,
	KAFKA_T_RECORDS,
	KAFKA_T_ARRAY,
	KAFKA_T_STRUCT,
} kafka_type;

struct kafka_schema;

typedef struct kafka_field {
	const char *name; /* Kafka's field name, for error paths */
	kafka_type type;
	int16_t min_ver, max_ver; /* present in [min, max]; max -1 = no upper bound */
	int16_t nullable_min;     /* nullable from this version on; -1 never */
	int32_t tag;              /* >= 0: a tagged field (flexible versions only); -1 regular */
	size_t offset;            /* offsetof the member */
	size_t count_offset;      /* ARRAY: offsetof the int32_t count member */
	const struct kafka_schema *sub; /* ARRAY/STRUCT element schema; NULL: array of elem_type */
	kafka_type elem_type;           /* ARRAY of primitives (e.g. []int32, []string) */
	int64_t def;                    /* integer/bool value when absent in a version */
} kafka_field;

typedef struct kafka_schema {
	const char *name;
	size_t size; /* sizeof the C struct */
	const kafka_field *fields;
	size_t nfields;
} kafka_schema;

/* Positions in an encoded buffer where records data is to be spliced (see above). */
typedef struct kafka_splices {
	size_t *pos; /* heap (brook_realloc); free(pos) when done */
	size_t n, cap;
} kafka_splices;

/* Decode into out (s->size bytes; fully overwritten). BROOK_OK or BROOK_ERR (rd->err). */
int kafka_decode(const kafka_schema *s, int16_t ver, bool flexible, kafka_rd *rd, void *out,
		 brook_arena *arena);
/* Fill a struct with the defaults of a version (what decoding gives absent fields). */
void kafka_defaults(const kafka_schema *s, int16_t ver, void *out);
void kafka_encode(const kafka_schema *s, int16_t ver, bool flexible, const void *in,
		  brook_buf *out);
void kafka_encode_spliced(const kafka_schema *s, int16_t ver, bool flexible, const void *in,
			  brook_buf *out, kafka_splices *splices);
/* Present in version ver? */
bool kafka_field_present(const kafka_field *f, int16_t ver);

/*
 * Table macros. T is the C struct type, m the member, nm Kafka's name, [mn, mx] the
 * versions (mx -1: open), nul the first nullable version (-1: never), d the default.
 */
#define KF(T, m, nm, ty, mn, mx, nul, tg, d)                                                  \
	{(nm), (ty), (mn), (mx), (nul), (tg), offsetof(T, m), 0, NULL, KAFKA_T_BOOL, (d)}
#define KF_BOOL(T, m, nm, mn, mx, d) KF(T, m, nm, KAFKA_T_BOOL, mn, mx, -1, -1, d)
#define KF_I8(T, m, nm, mn, mx, d) KF(T, m, nm, KAFKA_T_INT8, mn, mx, -1, -1, d)
#define KF_I16(T, m, nm, mn, mx, d) KF(T, m, nm, KAFKA_T_INT16, mn, mx, -1, -1, d)
#define KF_U16(T, m, nm, mn, mx, d) KF(T, m, nm, KAFKA_T_UINT16, mn, mx, -1, -1, d)
#define KF_I32(T, m, nm, mn, mx, d) KF(T, m, nm, KAFKA_T_INT32, mn, mx, -1, -1, d)
#define KF_I64(T, m, nm, mn, mx, d) KF(T, m, nm, KAFKA_T_INT64, mn, mx, -1, -1, d)
#define KF_F64(T, m, nm, mn, mx) KF(T, m, nm, KAFKA_T_FLOAT64, mn, mx, -1, -1, 0)
#define KF_UUID(T, m, nm, mn, mx) KF(T, m, nm, KAFKA_T_UUID, mn, mx, -1, -1, 0)
#define KF_STR(T, m, nm, mn, mx, nul) KF(T, m, nm, KAFKA_T_STRING, mn, mx, nul, -1, 0)
#define KF_BYTES(T, m, nm, mn, mx, nul) KF(T, m, nm, KAFKA_T_BYTES, mn, mx, nul, -1, 0)
#define KF_RECORDS(T, m, nm, mn, mx, nul) KF(T, m, nm, KAFKA_T_RECORDS, mn, mx, nul, -1, 0)
/* Array of structs described by schema sub. */
#define KF_ARR(T, m, cnt, nm, sub, mn, mx, nul)                                               \
	{(nm), KAFKA_T_ARRAY, (mn), (mx), (nul), -1, offsetof(T, m), offsetof(T, cnt), (sub),   \
	 KAFKA_T_BOOL, 0}
/* Array of primitives: et is KAFKA_T_INT32, KAFKA_T_INT64, KAFKA_T_STRING, ... */
#define KF_PARR(T, m, cnt, nm, et, mn, mx, nul)                                               \
	{(nm), KAFKA_T_ARRAY, (mn), (mx), (nul), -1, offsetof(T, m), offsetof(T, cnt), NULL, (et), 0}
#define KF_STRUCT(T, m, nm, sub, mn, mx)                                                      \
	{(nm), KAFKA_T_STRUCT, (mn), (mx), -1, -1, offsetof(T, m), 0, (sub), KAFKA_T_BOOL, 0}
/* Tagged variants (flexible versions only). */
#define KF_TAG(T, m, nm, ty, mn, mx, nul, tg, d) KF(T, m, nm, ty, mn, mx, nul, tg, d)
#define KF_TAG_ARR(T, m, cnt, nm, sub, mn, mx, tg)                                            \
	{(nm), KAFKA_T_ARRAY, (mn), (mx), -1, (tg), offsetof(T, m), offsetof(T, cnt), (sub),    \
	 KAFKA_T_BOOL, 0}
#define KF_TAG_STRUCT(T, m, nm, sub, mn, mx, tg)                                              \
	{(nm), KAFKA_T_STRUCT, (mn), (mx), -1, (tg), offsetof(T, m), 0, (sub), KAFKA_T_BOOL, 0}

#define KAFKA_NELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* Define a schema from a field array named <name>_fields. */
#define KAFKA_SCHEMA(name, T, kname)                                                          \
	const kafka_schema name = {(kname), sizeof(T), name##_fields, KAFKA_NELEMS(name##_fields)}

#endif
