/*
 * jdoc.h — a read-only JSON document (DOM) in an arena: parse once, look up, drop all
 * at once with the arena.
 *
 * Why: the stream processor parses (or Avro-decodes, avro/datum.h avro_decode_jdoc) one
 * small document per record, reads a dozen paths and throws it away. jansson pays a
 * malloc per node and hashes every key; a jdoc is a tree of brook_jnode allocated with
 * bump allocation from a caller-owned brook_arena (reset per micro-batch), objects are
 * plain arrays searched linearly.
 *
 * Invariants: nodes are immutable after parsing; strings (values and keys) are UTF-8,
 * NUL-terminated, and carry their length (a string may contain "\u0000", so use the
 * length); an object's members keep their document order and may repeat a key (the
 * last one wins on lookup, as in jansson); nesting is at most BROOK_JDOC_MAX_DEPTH.
 *
 * Accepted text: strict RFC 8259 (no comments, no trailing garbage, only space, tab, LF
 * and CR as whitespace), any value at the top level. Compared with jansson json_loadb:
 *   - integers outside int64 become BROOK_J_REAL (jansson rejects them);
 *   - "\u0000" in a string is accepted (jansson rejects it without JSON_ALLOW_NUL);
 *   - a scalar at the top level is accepted (jansson needs JSON_DECODE_ANY);
 *   - nesting deeper than 128 is rejected (jansson allows 2048).
 * Everything else (UTF-8 without overlong forms or surrogates, surrogate escapes only
 * in pairs, reals beyond double rejected, duplicate keys) is as jansson does it.
 *
 * Projection (brook_jproj, brook_jdoc_parser_parse_proj): a parse may keep only the
 * object members a caller will read. A projection is a set of kept paths, each a list
 * of object keys from the root. With a projection:
 *   - an object member whose key is on a kept path is kept, and its value is projected
 *     by the rest of the path; the member at the END of a kept path keeps its whole
 *     value, whatever its type (a longer path through it changes nothing);
 *   - a kept path that meets an array or a scalar before its end keeps that value whole;
 *   - a root that is not an object is kept whole; an empty projection keeps the root
 *     object with no members;
 *   - every other member of an object on a kept path is dropped: its syntax and
 *     nesting depth are still checked (escapes' syntax, control characters, number
 *     syntax), but it makes no node, copies nothing, and its key and strings are NOT
 *     checked for UTF-8 or unpaired surrogate escapes, nor its reals for overflow. A
 *     caller that needs the whole text valid checks it itself (the stream's Avro
 *     payload string is checked by the Avro decoder); a key with an unpaired surrogate
 *     escape is looked up in that escape's three-byte form, so it is on no kept path
 *     of valid UTF-8;
 *   - repeated keys: each occurrence on a kept path is kept (lookup takes the last);
 *   - kept nodes are exactly those the full parse makes (same types, strings, member
 *     order among the kept members); kept keys and strings are checked as in a full
 *     parse. So a text the full parse accepts gives the same values on every kept path,
 *     and a text the full parse refuses for its syntax or depth is refused the same way
 *     (same message, same offset); one it refuses for the content of a dropped string
 *     or real may be accepted.
 * Errors come in the text's order (within one string, a syntax or UTF-8 error before an
 * unpaired surrogate escape).
 * A NULL projection is the full parse (brook_jdoc_parser_parse).
 *
 * Errors: NULL with a message in err and the byte offset where the parse stopped, e.g.
 * "trailing garbage at byte 12", "expected ':' at byte 5", "premature EOF at byte 9",
 * "invalid UTF-8 in a string at byte 30" (the offending byte).
 *
 * Threads: a brook_jdoc_parser is single-threaded; the nodes may be read by any thread.
 */
#ifndef BROOK_CORE_JDOC_H
#define BROOK_CORE_JDOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#define BROOK_JDOC_MAX_DEPTH 128

typedef enum brook_jtype {
	BROOK_J_NULL,
	BROOK_J_FALSE,
	BROOK_J_TRUE,
	BROOK_J_INT,
	BROOK_J_REAL,
	BROOK_J_STRING,
	BROOK_J_ARRAY,
	BROOK_J_OBJECT,
} brook_jtype;

typedef struct brook_jnode brook_jnode;
struct brook_jnode {
	brook_jtype type;
	union {
		int64_t i; /* BROOK_J_INT */
		double d;  /* BROOK_J_REAL */
		struct {
			const char *p; /* UTF-8, NUL-terminated too */
			size_t n;
		} s;
		struct {
			size_t n;
			const char **keys; /* NUL-terminated too */
			size_t *klen;
			const brook_jnode **vals;
		} o;
		struct {
			size_t n;
			const brook_jnode **items;
		} a;
	} u;
};

/* A reusable parser: its scratch stack lives across parses, so a hot loop allocates
 * only from the arena. */
typedef struct brook_jdoc_parser brook_jdoc_parser;

brook_jdoc_parser *brook_jdoc_parser_new(void);
void brook_jdoc_parser_free(brook_jdoc_parser *p);
/* Parses len bytes (one JSON value, nothing after it but whitespace) into nodes in a.
 * The root, or NULL with a message in err. text need not outlive the nodes. */
const brook_jnode *brook_jdoc_parser_parse(brook_jdoc_parser *p, const char *text, size_t len,
                                           brook_arena *a, char *err, size_t errlen);

/* A projection: which object members a parse keeps (see the top of this file). Build it
 * once (it is read-only while parses use it, from any number of threads), free it with
 * brook_jproj_free after the last parse that uses it. */
typedef struct brook_jproj brook_jproj;

brook_jproj *brook_jproj_new(void);
/* Keeps the member reached from the root object by keys[0..n), with its whole value.
 * klen[i] is the byte length of keys[i] (keys may hold U+0000); klen NULL: the keys are
 * NUL-terminated. The keys are copied. n == 0 keeps the whole document. */
void brook_jproj_add(brook_jproj *p, const char *const *keys, const size_t *klen, size_t n);
void brook_jproj_free(brook_jproj *p);

/* brook_jdoc_parser_parse keeping only what proj keeps; proj NULL keeps everything. */
const brook_jnode *brook_jdoc_parser_parse_proj(brook_jdoc_parser *p, const char *text,
                                                size_t len, const brook_jproj *proj,
                                                brook_arena *a, char *err, size_t errlen);

/* The same with a parser of its own (for cold paths). */
const brook_jnode *brook_jdoc_parse(const char *text, size_t len, brook_arena *a, char *err,
                                    size_t errlen);

/* Converts a jansson value into nodes in a; strings and keys point into j, so j must
 * outlive the nodes. NULL for NULL. */
const brook_jnode *brook_jdoc_from_json(const json_t *j, brook_arena *a);

/* Converts nodes into a new jansson value (yours; json_decref), copying every string, so
 * the arena may go at once. Objects with a repeated key keep the last member's value at
 * the key's first position (as json_object_setn does); strings and keys may hold U+0000.
 * NULL for NULL, and for a BROOK_J_REAL that is not finite (jansson has no such value;
 * neither the parser nor the Avro decoder makes one). */
json_t *brook_jdoc_to_json(const brook_jnode *n);

/* Object member lookup; the last member with that key. NULL when obj is not an object
 * or has no such key. */
const brook_jnode *brook_jnode_get(const brook_jnode *obj, const char *key, size_t klen);

/* Structural equality: the same types (an int is not a real), values (reals bit for
 * bit), strings and keys byte for byte with their terminators, and member order. Either
 * NULL: false. */
bool brook_jnode_equal(const brook_jnode *x, const brook_jnode *y);

/* "null", "boolean", "number", "string", "array", "object" (as in error messages). */
const char *brook_jtype_kind(brook_jtype t);

#endif
