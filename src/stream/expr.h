/*
 * expr.h — the mapping expression language of `brook stream`.
 *
 * A job's YAML maps each input record (a JSON document) to the columns of a CQL table
 * with one expression per column, plus an optional boolean `where`:
 *
 *     id: uuid5('url', login.uuid)
 *     address: concat(location.street.number, ' ', location.street.name)
 *     where: email is not null and lower(gender) in ('female', 'male')
 *
 * Lifecycle: expr_compile() parses and type-checks the text once, at load time (input
 * paths are resolved through the caller's resolver, so a typo is a start-up error); the
 * compiled expr is immutable and may be evaluated by any number of threads at once with
 * expr_eval() (a jansson record) or expr_eval_node() (a brook_jnode document), once per
 * record, against that record and a caller-owned arena the caller resets between
 * records. expr_free() releases it.
 *
 * Types: every expression has a static type (expr_result_type), EXPR_ANY when it depends
 * on untyped input, and a static nullability (expr_nullable). Values never have type
 * EXPR_ANY; a null value has type EXPR_NULL. Null follows SQL: operators and most
 * functions give null for a null operand; `and`/`or` use three-valued logic.
 *
 * Errors: compile errors read "column N: what" (N the 1-based byte offset of the
 * offending token); the caller prefixes the file, line and column name. Evaluation errors
 * are per record ("login.uuid: expected string, got number", "division by zero") and
 * the caller dead-letters the record with that reason.
 *
 * Ownership: strings in an expr_value point into the input record, the arena or the
 * compiled expr (literals); they are not NUL-terminated; use them before the record is
 * freed, the arena reset or the expr freed.
 */
#ifndef BROOK_STREAM_EXPR_H
#define BROOK_STREAM_EXPR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/jdoc.h"

#define EXPR_MAX_TEXT   65536 /* bytes of expression text */
#define EXPR_MAX_DEPTH  64    /* nesting: parentheses, calls, case, unary operators */
#define EXPR_MAX_ARGS   256   /* function arguments, `in` list items, `when` branches */
#define EXPR_MAX_HEIGHT 1024  /* operators chained in one tree (a + b + c ...) */

typedef enum expr_type {
	EXPR_NULL,
	EXPR_BOOL,
	EXPR_INT, /* int64 */
	EXPR_DOUBLE,
	EXPR_STRING,
	EXPR_TIMESTAMP, /* ms since the epoch, UTC */
	EXPR_UUID,
	EXPR_ANY, /* only known at run time (an untyped input field); never a value's type */
} expr_type;

/* "null", "boolean", "int", "double", "string", "timestamp", "uuid", "any". */
const char *expr_type_name(expr_type t);

typedef struct expr_value {
	expr_type type; /* never EXPR_ANY; EXPR_NULL for null */
	union {
		bool b;
		int64_t i;
		double d;
		struct {
			const char *p; /* not NUL-terminated; may be NULL when n == 0 */
			size_t n;
		} s;
		uint8_t uuid[16];
		int64_t ts_ms;
	} u;
} expr_value;

/*
 * Resolves an input path ("location.street.number", the segments joined with '.', a
 * back-quoted segment given without its quotes) at compile time: BROOK_OK with its type
 * and whether it may be null or missing, or BROOK_ERR with a message in err (unknown
 * path, with a "did you mean" if the resolver has one).
 */
typedef int (*expr_resolve_fn)(void *arg, const char *path, expr_type *type, bool *nullable,
                               char *err, size_t errlen);

typedef struct expr expr;

/* Parse and type-check text (NUL-terminated). On success a new expr, yours to free
 * with expr_free(); on error NULL and a message in err. */
expr *expr_compile(const char *text, expr_resolve_fn resolve, void *arg, char *err, size_t errlen);
expr_type expr_result_type(const expr *e); /* static type; EXPR_ANY possible */
bool expr_nullable(const expr *e);         /* may it evaluate to null? */
/* Evaluate against one record. BROOK_OK with *out set, or BROOK_ERR with the reason in
 * err. Results may live in a (the caller resets it per record). */
int expr_eval(const expr *e, const json_t *record, brook_arena *a, expr_value *out, char *err,
              size_t errlen);
/* The same against a parsed document (core/jdoc.h): the evaluator itself. expr_eval()
 * converts its record into nodes in a first (per call: a caller evaluating several
 * expressions over one record should convert once and use this). A NULL record is one
 * with every path missing. */
int expr_eval_node(const expr *e, const brook_jnode *record, brook_arena *a, expr_value *out,
                   char *err, size_t errlen);
void expr_free(expr *e);

/*
 * Appends v's text form: strings as they are, ints in decimal, doubles in the shortest
 * form that reads back exactly ("Infinity", "-Infinity", "NaN" for the non-finite),
 * booleans true/false, timestamps "2024-03-05T10:00:00.000Z", uuids lower-case
 * 8-4-4-4-12. Null appends nothing and returns false; otherwise true.
 */
bool expr_value_to_text(const expr_value *v, brook_buf *out);

#endif
