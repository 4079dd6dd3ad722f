/*
 * validate.h — strict checks of randomuser.me API 1.4 answers.
 *
 * source_validate_user() checks one element of `results`: every field the API
 * documents is present with its type and format (see validate.c for the list),
 * and login.md5/sha1/sha256 are the real digests of password + salt — the real
 * service computes them, so a mismatch means corruption on the way.
 *
 * source_parse_response() takes a whole response body, bounded (size and nesting
 * depth are checked before parsing), streams through it with yajl (no JSON tree is
 * built; it accepts exactly the bodies jansson would), and splits it into valid
 * records — each the user's own JSON text with the whitespace outside strings
 * removed (one JSON object per line of `brook fetch`; escapes and number spellings
 * are kept as the server wrote them) — and rejected ones with reasons. A body that
 * is not a response at all (not JSON — duplicate keys included —, no `results` array
 * or `info` object, or the API's {"error": "..."} answer) is an error.
 */
#ifndef BROOK_SOURCE_VALIDATE_H
#define BROOK_SOURCE_VALIDATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SOURCE_MAX_RESPONSE_BYTES (256u * 1024 * 1024)
#define SOURCE_MAX_JSON_DEPTH 32
#define SOURCE_MAX_REASONS 8 /* rejection reasons kept as samples */

/* BROOK_OK, or BROOK_ERR with "field.path: what is wrong" in reason. */
int source_validate_user(const json_t *user, char *reason, size_t len);

typedef struct source_response {
	char **records;      /* valid users as compact JSON (malloc'd), in response order */
	size_t nrecords;
	size_t nrejected;    /* invalid users */
	char *reasons[SOURCE_MAX_REASONS]; /* "results[3]: login.uuid: missing", first few */
	size_t nreasons;
	char *seed;          /* info.seed */
	int64_t page;        /* info.page */
	int64_t results;     /* info.results */
	char *version;       /* info.version */
	int api_error;       /* set on BROOK_ERR when the body was the API's error answer */
} source_response;

/* Parse and validate a response body. BROOK_OK: resp is filled (release it with
 * source_response_release, also after BROOK_ERR). BROOK_ERR: not a valid response,
 * with the reason (or the API's error message, api_error = 1) in err. */
int source_parse_response(const char *body, size_t len, source_response *resp, char *err,
			  size_t errlen);
void source_response_release(source_response *resp);

#endif
