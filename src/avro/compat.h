/*
 * compat.h — can a reader schema read what a writer schema wrote? (Avro schema
 * resolution, for the Schema Registry's compatibility levels.)
 *
 * Purpose. avro_can_read(reader, writer) applies the Avro 1.11 specification's
 * schema-resolution rules and answers whether every datum written with `writer` can be
 * decoded with `reader`. The registry's levels are built on it: BACKWARD = new schema
 * reads the old, FORWARD = old reads the new, FULL = both, *_TRANSITIVE = against every
 * earlier version. It is the same check as Avro Java's SchemaCompatibility (which
 * Confluent uses) and python3-avro's ReaderWriterCompatibilityChecker (the oracle in
 * tests/integration/test_avro_oracle.py):
 *   - same primitive type; promotions int->long/float/double, long->float/double,
 *     float->double, string<->bytes;
 *   - named types match by unqualified name, or by the writer's full name listed among
 *     the reader's aliases (Java's rule; python3-avro compares full names instead);
 *   - record: each reader field is found in the writer by name or by one of the reader
 *     field's aliases and its type read recursively; a reader field missing from the
 *     writer needs a default; writer fields unknown to the reader are skipped;
 *   - enum: a writer symbol the reader lacks needs the reader enum's default;
 *   - fixed: name and size; array items and map values recursively;
 *   - writer union: every writer branch must be readable by the reader (union or not);
 *     reader union against a non-union writer: some reader branch reads the writer.
 * Recursive schemas terminate: a (reader node, writer node) pair being checked is
 * assumed compatible when met again inside its own check (memoized per call).
 *
 * Reasons. When `out` is given, each incompatibility found is appended as an issue with
 * a kind (Avro's SchemaIncompatibilityType), a JSON-pointer-like path into the reader
 * schema ("/fields/2/type", "/items", "/symbols", "/name", "/size", union branch index)
 * and a message for people. An incompatible verdict always has at least one issue.
 */
#ifndef BROOK_AVRO_COMPAT_H
#define BROOK_AVRO_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "avro/schema.h"

typedef enum avro_incompat {
	AVRO_INCOMPAT_NAME_MISMATCH,
	AVRO_INCOMPAT_FIXED_SIZE_MISMATCH,
	AVRO_INCOMPAT_MISSING_ENUM_SYMBOLS,
	AVRO_INCOMPAT_READER_FIELD_MISSING_DEFAULT_VALUE,
	AVRO_INCOMPAT_TYPE_MISMATCH,
	AVRO_INCOMPAT_MISSING_UNION_BRANCH,
} avro_incompat;

typedef struct avro_compat_issue {
	avro_incompat kind;
	char *path;    /* "/fields/1/type" ("/" for the root) */
	char *message; /* "reader field 'age' has no default and is missing from the writer" */
	char *info;    /* Avro's short detail: the field name, "expected: 16, found: 8", ... */
} avro_compat_issue;

/* A list of issues; zero it (AVRO_COMPAT_REPORT_INIT) before use, release after. */
typedef struct avro_compat_report {
	avro_compat_issue *issues;
	size_t n, cap;
} avro_compat_report;

#define AVRO_COMPAT_REPORT_INIT                                                                    \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* True when reader can read everything writer writes. `out` may be NULL; issues are
 * appended to it (it is not cleared first). */
bool avro_can_read(const avro_schema *reader, const avro_schema *writer, avro_compat_report *out);
void avro_compat_report_release(avro_compat_report *r);
/* "READER_FIELD_MISSING_DEFAULT_VALUE", ... (Avro/Confluent errorType names) */
const char *avro_incompat_name(avro_incompat k);

#endif
