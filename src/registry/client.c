/*
 * client.c — Schema Registry REST client with id and schema caches, and the Confluent
 * wire-format serializer/deserializer. Design notes in client.h.
 */
#include "registry/client.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/datum.h"
#include "core/err.h"
#include "core/mem.h"

#define SR_CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
#define SR_MAX_SUBJECT  4096

/* ---- a small chained hash keyed by bytes ---- */

typedef struct sr_entry {
	struct sr_entry *next;
	uint64_t hash;
	size_t klen;
	char *key;
	int32_t id;	     /* the (subject, text) → id table */
	avro_schema *schema; /* the id → schema table (owned) */
} sr_entry;

typedef struct sr_map {
	sr_entry **slots;
	size_t nslots, n;
} sr_map;

static uint64_t sr_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static sr_entry *sr_map_get(const sr_map *m, const void *key, size_t klen)
{
	if (m->nslots == 0)
		return NULL;
	uint64_t h = sr_hash(key, klen);
	for (sr_entry *e = m->slots[h % m->nslots]; e; e = e->next)
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

static void sr_map_grow(sr_map *m)
{
	size_t nn = m->nslots ? m->nslots * 2 : 64;
	sr_entry **ns = brook_calloc(nn, sizeof *ns);
	for (size_t i = 0; i < m->nslots; i++) {
		sr_entry *e = m->slots[i];
		while (e) {
			sr_entry *next = e->next;
			e->next = ns[e->hash % nn];
			ns[e->hash % nn] = e;
			e = next;
		}
	}
	free(m->slots);
	m->slots = ns;
	m->nslots = nn;
}

/* Insert a new entry (the caller checked that the key is absent). */
static sr_entry *sr_map_add(sr_map *m, const void *key, size_t klen)
{
	if (m->n + 1 > m->nslots * 3 / 4)
		sr_map_grow(m);
	sr_entry *e = brook_calloc(1, sizeof *e);
	e->hash = sr_hash(key, klen);
	e->klen = klen;
	e->key = brook_malloc(klen + 1);
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->next = m->slots[e->hash % m->nslots];
	m->slots[e->hash % m->nslots] = e;
	m->n++;
	return e;
}

static void sr_map_release(sr_map *m)
{
	for (size_t i = 0; i < m->nslots; i++) {
		sr_entry *e = m->slots[i];
		while (e) {
			sr_entry *next = e->next;
			avro_schema_free(e->schema);
			free(e->key);
			free(e);
			e = next;
		}
	}
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* ---- the client ---- */

struct sr_client {
	char *base; /* without a trailing '/' */
	brook_httpc *http;
	pthread_mutex_t http_mu; /* guards http (one keep-alive connection) */
	pthread_mutex_t cache_mu; /* guards ids and schemas */
	sr_map ids;		  /* subject '\0' text → id */
	sr_map schemas;		  /* 4-byte id → schema */
	atomic_uint_least64_t requests;
};

static void sr_fail(sr_error *e, long status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void sr_fail(sr_error *e, long status, int code, const char *fmt, ...)
{
	if (!e)
		return;
	e->unreachable = false;
	e->http_status = status;
	e->error_code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

sr_client *sr_client_new(const char *base_url, const brook_httpc_opts *opts)
{
	sr_client *c = brook_calloc(1, sizeof *c);
	size_t n = strlen(base_url);
	while (n > 0 && base_url[n - 1] == '/')
		n--;
	c->base = brook_strndup(base_url, n);
	c->http = brook_httpc_new(opts);
	pthread_mutex_init(&c->http_mu, NULL);
	pthread_mutex_init(&c->cache_mu, NULL);
	atomic_init(&c->requests, 0);
	return c;
}

void sr_client_free(sr_client *c)
{
	if (!c)
		return;
	brook_httpc_free(c->http);
	pthread_mutex_destroy(&c->http_mu);
	pthread_mutex_destroy(&c->cache_mu);
	sr_map_release(&c->ids);
	sr_map_release(&c->schemas);
	free(c->base);
	free(c);
}

uint64_t sr_client_requests(const sr_client *c)
{
	return atomic_load(&((sr_client *)c)->requests);
}

/* Percent-encode a subject for a URL path segment (RFC 3986 unreserved kept). */
static void sr_put_segment(brook_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char ch = *p;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			brook_buf_putc(b, (char)ch);
		} else {
			brook_buf_putc(b, '%');
			brook_buf_putc(b, hex[ch >> 4]);
			brook_buf_putc(b, hex[ch & 15]);
		}
	}
}

/*
 * One request. On a 2xx answer *out is the parsed JSON body (yours). Anything else is
 * BROOK_ERR with e filled from Confluent's error body when there is one.
 */
static int sr_call(sr_client *c, const char *method, const char *url, const char *body,
		   json_t **out, sr_error *e)
{
	brook_httpc_result res;
	memset(&res, 0, sizeof res);
	pthread_mutex_lock(&c->http_mu);
	atomic_fetch_add(&c->requests, 1);
	int rc = brook_httpc_request(c->http, method, url, body ? SR_CONTENT_TYPE : NULL, body,
				     body ? strlen(body) : 0, &res);
	pthread_mutex_unlock(&c->http_mu);
	if (rc != BROOK_OK) {
		sr_fail(e, 0, 0, "registry %s unreachable: %s", c->base, res.error);
		if (e)
			e->unreachable = true;
		brook_httpc_result_release(&res);
		return BROOK_ERR;
	}
	json_error_t jerr;
	json_t *j = res.body.len ? json_loadb(res.body.data, res.body.len, 0, &jerr) : NULL;
	if (res.status >= 200 && res.status < 300) {
		brook_httpc_result_release(&res);
		if (!j || !json_is_object(j)) {
			json_decref(j);
			sr_fail(e, 200, 0, "registry answered %s %s with a body that is not a "
				"JSON object", method, url);
			return BROOK_ERR;
		}
		*out = j;
		return BROOK_OK;
	}
	json_t *code = json_object_get(j, "error_code");
	json_t *msg = json_object_get(j, "message");
	if (json_is_integer(code) && json_is_string(msg)) {
		sr_fail(e, res.status, (int)json_integer_value(code),
			"registry: %s (HTTP %ld, error code %d)", json_string_value(msg),
			res.status, (int)json_integer_value(code));
	} else {
		int shown = res.body.len > 200 ? 200 : (int)res.body.len;
		sr_fail(e, res.status, 0, "registry answered %s %s with HTTP %ld: %.*s", method,
			url, res.status, shown, res.body.data ? res.body.data : "");
	}
	json_decref(j);
	brook_httpc_result_release(&res);
	return BROOK_ERR;
}

/* Parse the schema text of an answer; non-Avro schema types are refused. */
static avro_schema *sr_parse_answer(const json_t *j, int32_t id, sr_error *e)
{
	const char *type = json_string_value(json_object_get(j, "schemaType"));
	if (type && strcmp(type, "AVRO") != 0) {
		sr_fail(e, 200, 0, "schema %d is of type %s; only AVRO is supported", (int)id,
			type);
		return NULL;
	}
	json_t *text = json_object_get(j, "schema");
	if (!json_is_string(text)) {
		sr_fail(e, 200, 0, "registry answer for schema %d has no \"schema\" text", (int)id);
		return NULL;
	}
	char perr[512];
	avro_schema *s = avro_schema_parse(json_string_value(text), json_string_length(text), perr,
					   sizeof perr);
	if (!s)
		sr_fail(e, 200, 42201, "schema %d from the registry does not parse: %s", (int)id,
			perr);
	return s;
}

/* Put a parsed schema in the id cache (takes s); returns the cached one. */
static const avro_schema *sr_cache_schema(sr_client *c, int32_t id, avro_schema *s)
{
	uint8_t key[4];
	brook_be_put(key, (uint32_t)id, 4);
	pthread_mutex_lock(&c->cache_mu);
	sr_entry *en = sr_map_get(&c->schemas, key, 4);
	if (en) {
		avro_schema_free(s); /* another thread was first */
	} else {
		en = sr_map_add(&c->schemas, key, 4);
		en->schema = s;
	}
	const avro_schema *got = en->schema;
	pthread_mutex_unlock(&c->cache_mu);
	return got;
}

static const avro_schema *sr_cached_schema(sr_client *c, int32_t id)
{
	uint8_t key[4];
	brook_be_put(key, (uint32_t)id, 4);
	pthread_mutex_lock(&c->cache_mu);
	sr_entry *en = sr_map_get(&c->schemas, key, 4);
	const avro_schema *s = en ? en->schema : NULL;
	pthread_mutex_unlock(&c->cache_mu);
	return s;
}

static bool sr_subject_ok(const char *subject, sr_error *e)
{
	size_t n = strlen(subject);
	if (n == 0 || n > SR_MAX_SUBJECT) {
		sr_fail(e, 0, 0, "subject name must be 1 to %d bytes", SR_MAX_SUBJECT);
		return false;
	}
	return true;
}

int sr_register(sr_client *c, const char *subject, const char *schema_text, int32_t *id,
		sr_error *e)
{
	if (!sr_subject_ok(subject, e))
		return BROOK_ERR;
	size_t slen = strlen(subject), tlen = strlen(schema_text);
	char *key = brook_malloc(slen + 1 + tlen);
	memcpy(key, subject, slen + 1);
	memcpy(key + slen + 1, schema_text, tlen);
	size_t klen = slen + 1 + tlen;

	pthread_mutex_lock(&c->cache_mu);
	sr_entry *en = sr_map_get(&c->ids, key, klen);
	if (en)
		*id = en->id;
	pthread_mutex_unlock(&c->cache_mu);
	if (en) {
		free(key);
		return BROOK_OK;
	}

	brook_buf url = BROOK_BUF_INIT;
	brook_buf_printf(&url, "%s/subjects/", c->base);
	sr_put_segment(&url, subject);
	brook_buf_puts(&url, "/versions");
	json_t *req = json_pack("{s:s%}", "schema", schema_text, tlen);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	json_t *ans = NULL;
	int rc = BROOK_ERR;
	if (!body) {
		sr_fail(e, 0, 0, "schema text for subject %s is not valid UTF-8", subject);
		goto out;
	}
	if (sr_call(c, "POST", url.data, body, &ans, e) != BROOK_OK)
		goto out;
	json_t *jid = json_object_get(ans, "id");
	if (!json_is_integer(jid) || json_integer_value(jid) < 0 ||
	    json_integer_value(jid) > INT32_MAX) {
		sr_fail(e, 200, 0, "registry answer to registering under %s has no valid id",
			subject);
		goto out;
	}
	*id = (int32_t)json_integer_value(jid);
	pthread_mutex_lock(&c->cache_mu);
	if (!sr_map_get(&c->ids, key, klen))
		sr_map_add(&c->ids, key, klen)->id = *id;
	pthread_mutex_unlock(&c->cache_mu);
	/* Reading back what we wrote needs no request either. */
	if (!sr_cached_schema(c, *id)) {
		avro_schema *s = avro_schema_parse(schema_text, tlen, NULL, 0);
		if (s)
			sr_cache_schema(c, *id, s);
	}
	rc = BROOK_OK;
out:
	json_decref(ans);
	free(body);
	free(key);
	brook_buf_release(&url);
	return rc;
}

int sr_register_schema(sr_client *c, const char *subject, const avro_schema *s, int32_t *id,
		       sr_error *e)
{
	char *text = avro_schema_to_json(s);
	int rc = sr_register(c, subject, text, id, e);
	free(text);
	return rc;
}

int sr_schema_by_id(sr_client *c, int32_t id, const avro_schema **out, sr_error *e)
{
	const avro_schema *s = sr_cached_schema(c, id);
	if (s) {
		*out = s;
		return BROOK_OK;
	}
	if (id < 0) {
		sr_fail(e, 0, 0, "schema id %d is negative", (int)id);
		return BROOK_ERR;
	}
	char url[1024];
	snprintf(url, sizeof url, "%s/schemas/ids/%d", c->base, (int)id);
	json_t *ans = NULL;
	if (sr_call(c, "GET", url, NULL, &ans, e) != BROOK_OK)
		return BROOK_ERR;
	avro_schema *parsed = sr_parse_answer(ans, id, e);
	json_decref(ans);
	if (!parsed)
		return BROOK_ERR;
	*out = sr_cache_schema(c, id, parsed);
	return BROOK_OK;
}

int sr_latest(sr_client *c, const char *subject, int32_t *id, int *version,
	      const avro_schema **schema, sr_error *e)
{
	if (!sr_subject_ok(subject, e))
		return BROOK_ERR;
	brook_buf url = BROOK_BUF_INIT;
	brook_buf_printf(&url, "%s/subjects/", c->base);
	sr_put_segment(&url, subject);
	brook_buf_puts(&url, "/versions/latest");
	json_t *ans = NULL;
	int rc = sr_call(c, "GET", url.data, NULL, &ans, e);
	brook_buf_release(&url);
	if (rc != BROOK_OK)
		return BROOK_ERR;
	json_t *jid = json_object_get(ans, "id"), *jv = json_object_get(ans, "version");
	if (!json_is_integer(jid) || !json_is_integer(jv) || json_integer_value(jid) < 0 ||
	    json_integer_value(jid) > INT32_MAX) {
		sr_fail(e, 200, 0, "registry answer for the latest %s has no valid id/version",
			subject);
		json_decref(ans);
		return BROOK_ERR;
	}
	int32_t got = (int32_t)json_integer_value(jid);
	const avro_schema *s = sr_cached_schema(c, got);
	if (!s) {
		avro_schema *parsed = sr_parse_answer(ans, got, e);
		if (!parsed) {
			json_decref(ans);
			return BROOK_ERR;
		}
		s = sr_cache_schema(c, got, parsed);
	}
	*id = got;
	if (version)
		*version = (int)json_integer_value(jv);
	*schema = s;
	json_decref(ans);
	return BROOK_OK;
}

int sr_serialize_id(int32_t id, const avro_schema *schema, const json_t *value, brook_buf *out,
		    sr_error *e)
{
	size_t start = out->len;
	char err[512];
	avro_confluent_frame((uint32_t)id, NULL, 0, out);
	if (avro_encode(schema, value, out, err, sizeof err) != BROOK_OK) {
		brook_buf_truncate(out, start);
		sr_fail(e, 0, 0, "value does not match schema %d: %s", (int)id, err);
		return BROOK_ERR;
	}
	return BROOK_OK;
}

int sr_serialize(sr_client *c, const char *subject, const avro_schema *schema,
		 const json_t *value, brook_buf *out, sr_error *e)
{
	int32_t id;
	if (sr_register_schema(c, subject, schema, &id, e) != BROOK_OK)
		return BROOK_ERR;
	return sr_serialize_id(id, schema, value, out, e);
}

int sr_deserialize_jdoc(sr_client *c, const uint8_t *bytes, size_t len, const avro_schema *reader,
			brook_arena *a, const brook_jnode **out, int32_t *id, sr_error *e)
{
	char err[512];
	uint32_t wid;
	const avro_schema *writer;
	const uint8_t *payload;
	size_t n;
	*out = NULL;
	if (avro_confluent_unframe(bytes, len, &wid, &payload, &n, err, sizeof err) != BROOK_OK) {
		sr_fail(e, 0, 0, "not a Confluent Avro message: %s", err);
		return BROOK_ERR;
	}
	if (wid > INT32_MAX) {
		sr_fail(e, 0, 0, "schema id %u in the message is out of range", wid);
		return BROOK_ERR;
	}
	if (sr_schema_by_id(c, (int32_t)wid, &writer, e) != BROOK_OK)
		return BROOK_ERR;
	if (avro_decode_jdoc(writer, reader, payload, n, a, out, err, sizeof err) != BROOK_OK) {
		sr_fail(e, 0, 0, "cannot decode a message written with schema %u: %s", wid, err);
		return BROOK_ERR;
	}
	if (id)
		*id = (int32_t)wid;
	return BROOK_OK;
}

int sr_deserialize(sr_client *c, const uint8_t *bytes, size_t len, const avro_schema *reader,
		   json_t **out, int32_t *id, sr_error *e)
{
	brook_arena a = BROOK_ARENA_INIT;
	const brook_jnode *n;
	int rc = sr_deserialize_jdoc(c, bytes, len, reader, &a, &n, id, e);
	*out = rc == BROOK_OK ? brook_jdoc_to_json(n) : NULL; /* decoded reals are finite */
	brook_arena_release(&a);
	return rc;
}
