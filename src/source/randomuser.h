/*
 * randomuser.h — an offline, seeded generator compatible with the randomuser.me API 1.4.
 *
 * The generator turns a query (the API's parameters) into the exact response body the
 * real service would give, in JSON (compact or pretty) or CSV. Everything is derived
 * from the seed, so the same query always gives byte-identical output:
 *
 *   user k (0-based) of page p with `results` r is generated from a PRNG stream keyed
 *   by (hash(seed), (p - 1) * r + k). So results=5 is a prefix of results=10 on page 1,
 *   and pages never overlap. gender/nat filters change the users, inc/exc only hide
 *   fields. Ages (dob.age, registered.age) are counted against a fixed reference
 *   instant, RANDOMUSER_REF_MS (2025-01-01T00:00:00.000Z), never against the clock.
 *
 * Parameters (randomuser_query_set; unknown keys are ignored like the real API does):
 *
 *   results  1..max_results (default 1). Above max_results: capped to max_results.
 *            Empty, non-numeric, 0 or negative: error (HTTP 400).
 *   page     1..RANDOMUSER_MAX_PAGE (default 1). Otherwise: error.
 *   seed     any text up to RANDOMUSER_SEED_MAX bytes (longer: error). Absent: a random
 *            seed of 16 lower-case hex characters, reported in info.seed.
 *   gender   "male" or "female" (case-insensitive); anything else means both. Unlike the
 *            real service, gender is honoured even when a seed is given.
 *   nat      comma list of AU BR CA CH DE DK ES FI FR GB IE IN IR MX NL NO NZ RS TR UA
 *            US, case-insensitive; unknown codes are ignored; when none is valid, all.
 *   inc/exc  comma lists of top-level fields (gender name location email login
 *            registered dob phone cell id picture nat); unknown names are ignored. The
 *            output holds inc (all when absent) minus exc.
 *   format   (alias fmt) json (default), pretty, prettyjson, csv. Others: error.
 *   noinfo   present (any value): the "info" object is left out.
 *
 * Errors are answered like the real service's failures: a JSON object
 * {"error":"<message>"} (HTTP 400 from the server, 404 for unknown paths).
 *
 * Output shape (JSON):
 *   {"results":[{"gender":..,"name":{"title","first","last"},"location":{"street":
 *   {"number":int,"name"},"city","state","country","postcode":int-or-string,
 *   "coordinates":{"latitude":"str","longitude":"str"},"timezone":{"offset",
 *   "description"}},"email","login":{"uuid","username","password","salt","md5","sha1",
 *   "sha256"},"dob":{"date","age"},"registered":{"date","age"},"phone","cell",
 *   "id":{"name","value":str-or-null},"picture":{"large","medium","thumbnail"},"nat"}],
 *   "info":{"seed":"..","results":N,"page":P,"version":"1.4"}}
 *
 * Postcodes are JSON numbers except for CA, GB, IE and NL (strings). id.value is null
 * (with id.name "") for IR, NZ, TR and UA. login.md5/sha1/sha256 are the hex digests of
 * password followed by salt.
 *
 * Thread-safety: all functions are reentrant; the built-in tables are prepared once
 * (pthread_once) on first use.
 */
#ifndef BROOK_SOURCE_RANDOMUSER_H
#define BROOK_SOURCE_RANDOMUSER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define RANDOMUSER_VERSION "1.4"
#define RANDOMUSER_NNATS 21
#define RANDOMUSER_SEED_MAX 64
#define RANDOMUSER_MAX_RESULTS 5000
#define RANDOMUSER_MAX_PAGE 100000
#define RANDOMUSER_REF_MS INT64_C(1735689600000) /* 2025-01-01T00:00:00.000Z */

enum randomuser_field {
	RANDOMUSER_F_GENDER = 1u << 0,
	RANDOMUSER_F_NAME = 1u << 1,
	RANDOMUSER_F_LOCATION = 1u << 2,
	RANDOMUSER_F_EMAIL = 1u << 3,
	RANDOMUSER_F_LOGIN = 1u << 4,
	RANDOMUSER_F_DOB = 1u << 5,
	RANDOMUSER_F_REGISTERED = 1u << 6,
	RANDOMUSER_F_PHONE = 1u << 7,
	RANDOMUSER_F_CELL = 1u << 8,
	RANDOMUSER_F_ID = 1u << 9,
	RANDOMUSER_F_PICTURE = 1u << 10,
	RANDOMUSER_F_NAT = 1u << 11,
	RANDOMUSER_F_ALL = (1u << 12) - 1,
};

enum randomuser_gender { RANDOMUSER_ANY = 0, RANDOMUSER_MALE, RANDOMUSER_FEMALE };
enum randomuser_format { RANDOMUSER_JSON = 0, RANDOMUSER_PRETTY, RANDOMUSER_CSV };

typedef struct randomuser_query {
	char seed[RANDOMUSER_SEED_MAX + 1];
	int64_t results;
	int64_t page;
	int gender;      /* enum randomuser_gender */
	uint32_t nats;   /* bit i: randomuser_nat_codes[i]; never 0 */
	uint32_t fields; /* enum randomuser_field bits; may be 0 (users print as {}) */
	int format;      /* enum randomuser_format */
	int noinfo;
	/* parse state: inc/exc are combined when the query is complete */
	uint32_t inc, exc;
	int inc_given;
} randomuser_query;

/* The nationality codes, in the order of randomuser_query.nats bits. */
extern const char *const randomuser_nat_codes[RANDOMUSER_NNATS];
/* Index of a code (case-insensitive, n bytes), or -1. */
int randomuser_nat_index(const char *code, size_t n);

/* Defaults: results 1, page 1, all nats and fields, JSON, and a fresh random seed. */
void randomuser_query_init(randomuser_query *q);
/* Apply one parameter (value already percent-decoded; NULL for a key without "=").
 * BROOK_OK, or BROOK_ERR with the message for the {"error":...} answer in err. */
int randomuser_query_set(randomuser_query *q, const char *key, const char *value,
			 int64_t max_results, char *err, size_t errlen);
/* Parse a raw query string ("results=10&seed=abc&noinfo"), percent- and '+'-decoding
 * it, applying randomuser_query_set() to each pair, then randomuser_query_finish().
 * Bounded: at most 4096 bytes per key or value (longer: error). */
int randomuser_query_parse(randomuser_query *q, const char *qs, size_t n, int64_t max_results,
			   char *err, size_t errlen);
/* Combine inc/exc into fields. Call once after the last randomuser_query_set(). */
void randomuser_query_finish(randomuser_query *q);

/* Append the full response body for q to out. */
void randomuser_generate(const randomuser_query *q, brook_buf *out);
/* "application/json; charset=utf-8" or "text/csv; charset=utf-8". */
const char *randomuser_content_type(const randomuser_query *q);
/* Append {"error":"msg"} (msg escaped). */
void randomuser_error_body(brook_buf *out, const char *msg);

#endif
