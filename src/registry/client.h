/*
 * client.h — a C client of the Confluent Schema Registry REST API, and the Avro
 * serializer/deserializer pair built on it (Confluent wire format).
 *
 * Purpose. The CDC connector and the stream processor turn JSON datums (avro/datum.h)
 * into Kafka record values and back. Writing needs the schema's global id (registered
 * under a subject); reading needs the writer's schema by id. Both are cached, so after
 * the first record of a schema no HTTP request is made. It speaks the plain REST API,
 * so it works against brook's registry and Confluent's alike:
 *   register      POST /subjects/{subject}/versions {"schema": text}      → {"id": N}
 *   schema by id  GET  /schemas/ids/{id}                                  → {"schema": text}
 *   latest        GET  /subjects/{subject}/versions/latest → {"id","version","schema"}
 *
 * Caches (both grow only; a process sees few schemas, and an id never changes meaning):
 *   - id → parsed schema (avro_schema, owned by the client, valid until
 *     sr_client_free): filled by sr_schema_by_id, sr_latest and sr_register;
 *   - (subject, schema text) → id: filled by sr_register. The text is the schema's
 *     normalized JSON form (avro_schema_to_json) when registering a parsed schema — NOT
 *     the Parsing Canonical Form, which drops defaults and logical types that the
 *     registry must keep. Text passed as is to sr_register is cached as given.
 *   Failures are never cached: the next call asks again.
 *
 * Threads. Every function may be called from several threads at once. The caches are
 * guarded by one mutex held only for lookups and inserts; HTTP requests go through one
 * keep-alive connection guarded by another mutex (requests are rare once the caches are
 * warm). Two threads missing the cache for the same key at once both ask the registry;
 * the registry answers both with the same id and the second insert is dropped.
 *
 * Errors. A registry answer other than 2xx becomes BROOK_ERR with sr_error filled with
 * the HTTP status, Confluent's error_code (e.g. 409, 40401, 42201; 0 when the body was
 * not Confluent's error JSON) and a message "registry: <message> (HTTP 409, error code
 * 409)" — for an incompatible schema the registry's message carries the reasons.
 * Transport failures have status 0, error_code 0 and `unreachable` set (callers retry
 * those; every other failure says something about the request). sr_error may be NULL
 * everywhere.
 */
#ifndef BROOK_REGISTRY_CLIENT_H
#define BROOK_REGISTRY_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/schema.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/httpc.h"
#include "core/jdoc.h"

typedef struct sr_client sr_client;

typedef struct sr_error {
	bool unreachable; /* no answer came (transport failure): worth retrying */
	long http_status; /* 0 when no answer arrived */
	int error_code;	  /* Confluent's error_code, 0 when none */
	char message[1024];
} sr_error;

/* base_url: "http://127.0.0.1:8081" (a trailing '/' is fine). opts may be NULL. */
sr_client *sr_client_new(const char *base_url, const brook_httpc_opts *opts);
void sr_client_free(sr_client *c); /* NULL is fine */

/* HTTP requests made so far (for tests and metrics). */
uint64_t sr_client_requests(const sr_client *c);

/* Register schema text under subject (idempotent at the registry) → its global id. */
int sr_register(sr_client *c, const char *subject, const char *schema_text, int32_t *id,
		sr_error *e);
/* The same for a parsed schema (registered as its normalized JSON form). */
int sr_register_schema(sr_client *c, const char *subject, const avro_schema *s, int32_t *id,
		       sr_error *e);
/* The schema with this id; *out belongs to the client (valid until sr_client_free). */
int sr_schema_by_id(sr_client *c, int32_t id, const avro_schema **out, sr_error *e);
/* The subject's latest version (never cached: it changes). *schema belongs to the
 * client; version may be NULL. */
int sr_latest(sr_client *c, const char *subject, int32_t *id, int *version,
	      const avro_schema **schema, sr_error *e);

/* Serialize: register-or-cached id of (subject, schema), then append magic byte 0, the
 * big-endian id and the Avro binary of value to out (out is left as it was on error). */
int sr_serialize(sr_client *c, const char *subject, const avro_schema *schema,
		 const json_t *value, brook_buf *out, sr_error *e);
/* Serialize with a known id (the hot path when the caller keeps the id). */
int sr_serialize_id(int32_t id, const avro_schema *schema, const json_t *value, brook_buf *out,
		    sr_error *e);
/* Deserialize a framed message: fetch the writer schema by id (cached) and decode, or
 * resolve it to `reader` when not NULL. On success *out is yours (json_decref); *id,
 * when not NULL, gets the writer schema's id. */
int sr_deserialize(sr_client *c, const uint8_t *bytes, size_t len, const avro_schema *reader,
		   json_t **out, int32_t *id, sr_error *e);
/* The same into jdoc nodes in a (avro/datum.h avro_decode_jdoc: nodes and strings in the
 * arena, nothing pointing into bytes or the schemas): the stream processor's hot path,
 * with no jansson and no malloc per value. On success *out is the root; on error NULL,
 * with the same sr_error as sr_deserialize (framing, an unknown id with the registry's
 * status, `unreachable` when the registry did not answer, decoding). */
int sr_deserialize_jdoc(sr_client *c, const uint8_t *bytes, size_t len, const avro_schema *reader,
			brook_arena *a, const brook_jnode **out, int32_t *id, sr_error *e);

#endif
