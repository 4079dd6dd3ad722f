/*
 * store.h — the Schema Registry's state machine: Confluent `_schemas` records in,
 * subjects, versions, schema ids and compatibility configs out.
 *
 * Purpose. Every registry process replays the record log (log.h) through
 * reg_store_apply() and answers REST queries from the resulting state. Writes never
 * change the state directly: the reg_store_plan_* functions build the record(s) a write
 * needs from the current state; the caller appends them to the log, waits until they
 * were applied, and answers from the state. So every process on one log holds the same
 * state after the same offset.
 *
 * Records (Confluent's JSON, keys and values):
 *   SCHEMA          key {"keytype":"SCHEMA","subject":S,"version":V,"magic":1}
 *                   value {"subject":S,"version":V,"id":I,"schema":TEXT,"deleted":B}
 *                   ("schemaType" absent or "AVRO"; "references" absent or empty);
 *                   tombstone: version V of S is permanently deleted.
 *   CONFIG          key {"keytype":"CONFIG","subject":S|null,"magic":0}
 *                   value {"compatibilityLevel":L}; tombstone: config removed.
 *   DELETE_SUBJECT  key {"keytype":"DELETE_SUBJECT","subject":S,"magic":0}
 *                   value {"subject":S,"version":V}: versions <= V soft-deleted.
 *   CLEAR_SUBJECT   value {"subject":S}: soft-deleted versions of S permanently removed.
 *   NOOP and unknown key types: ignored.
 *
 * Invariants (the acceptance rules; a record that would break one is ignored, which is
 * how concurrent writers on one log are settled: the first record in log order wins):
 *   - ids and schemas are a bijection: an id names one schema (compared by its
 *     normalized JSON form, avro_schema_to_json), and a schema has one id, shared by
 *     every subject that registers it; a SCHEMA record binding a known id to another
 *     schema, or a known schema to another id, is ignored;
 *   - a (subject, version) names one id for its whole life until permanently deleted;
 *     a record giving it another id is ignored (re-writing the same id toggles the
 *     soft-delete flag);
 *   - schemas stay known by id after their versions are deleted: ids are never reused;
 *   - only valid Avro schemas are accepted.
 *
 * States of a version: live -> soft-deleted (SCHEMA deleted:true or DELETE_SUBJECT) ->
 * gone (tombstone or CLEAR_SUBJECT). A subject exists while it has versions; it is
 * "soft-deleted" when all of them are.
 *
 * Errors. Query and plan functions return 0 or a Confluent error code (40401 subject
 * not found, 40402 version, 40403 schema, 40404-40408, 409 incompatible, 42201 invalid
 * schema, 42202 invalid version, 42203 invalid compatibility level) with the message in
 * err; HTTP status = code / 100 (409 stays 409).
 *
 * Threads: a rwlock; apply takes it for writing, everything else for reading.
 */
#ifndef BROOK_REGISTRY_STORE_H
#define BROOK_REGISTRY_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reg_store reg_store;

enum {
	REG_ERR_SUBJECT_NOT_FOUND = 40401,
	REG_ERR_VERSION_NOT_FOUND = 40402,
	REG_ERR_SCHEMA_NOT_FOUND = 40403,
	REG_ERR_SUBJECT_SOFT_DELETED = 40404,
	REG_ERR_SUBJECT_NOT_SOFT_DELETED = 40405,
	REG_ERR_VERSION_SOFT_DELETED = 40406,
	REG_ERR_VERSION_NOT_SOFT_DELETED = 40407,
	REG_ERR_SUBJECT_CONFIG_NOT_FOUND = 40408,
	REG_ERR_INCOMPATIBLE = 409,
	REG_ERR_INVALID_SCHEMA = 42201,
	REG_ERR_INVALID_VERSION = 42202,
	REG_ERR_INVALID_COMPAT = 42203,
	REG_ERR_STORE = 50001,
};

/* One record to append: value NULL is a tombstone. */
typedef struct reg_record {
	char *key;
	char *value;
} reg_record;

/* The records a write needs, in order; release with reg_plan_release. */
typedef struct reg_plan {
	reg_record *recs;
	size_t n;
} reg_plan;

void reg_plan_release(reg_plan *p);

reg_store *reg_store_new(void);
void reg_store_free(reg_store *st);

/* Apply one record (value NULL: tombstone). True when accepted, false when ignored
 * (malformed or breaking an invariant). */
bool reg_store_apply(reg_store *st, const char *key, size_t klen, const char *value,
		     size_t vlen);
/* The same with log.h's reg_apply_fn signature (arg is the store). */
void reg_store_apply_cb(void *arg, int64_t offset, const char *key, size_t klen,
			const char *value, size_t vlen);

/* Compatibility levels, as Confluent names them ("BACKWARD_TRANSITIVE", ...). */
typedef enum reg_compat {
	REG_COMPAT_NONE,
	REG_COMPAT_BACKWARD,
	REG_COMPAT_BACKWARD_TRANSITIVE,
	REG_COMPAT_FORWARD,
	REG_COMPAT_FORWARD_TRANSITIVE,
	REG_COMPAT_FULL,
	REG_COMPAT_FULL_TRANSITIVE,
} reg_compat;
#define REG_COMPAT_DEFAULT REG_COMPAT_BACKWARD
const char *reg_compat_name(reg_compat c);
/* Case-insensitive; BROOK_OK or BROOK_ERR. */
int reg_compat_parse(const char *s, reg_compat *out);
/* "latest", "-1" -> 0; 1..2^31-1 -> that; else -1. */
int reg_version_parse(const char *s);

/* ---- queries: *out is a new JSON value, yours (json_decref) ---- */
/* ["s1","s2"] sorted; deleted: include soft-deleted subjects. */
json_t *reg_store_subjects(reg_store *st, bool deleted);
/* [1,2,3] */
int reg_store_versions(reg_store *st, const char *subject, bool deleted, json_t **out,
		       char *err, size_t errlen);
/* {"subject","version","id","schema"}; version text as in the URL. */
int reg_store_version(reg_store *st, const char *subject, const char *version, bool deleted,
		      json_t **out, char *err, size_t errlen);
/* {"schema": TEXT} */
int reg_store_schema_by_id(reg_store *st, int64_t id, json_t **out, char *err, size_t errlen);
/* ["s"] and [{"subject","version"}] using schema id (live versions unless deleted). */
int reg_store_id_subjects(reg_store *st, int64_t id, bool deleted, json_t **out, char *err,
			  size_t errlen);
int reg_store_id_versions(reg_store *st, int64_t id, bool deleted, json_t **out, char *err,
			  size_t errlen);
/* Is schema_text registered under subject? {"subject","version","id","schema"} */
int reg_store_lookup(reg_store *st, const char *subject, const char *schema_text, bool deleted,
		     json_t **out, char *err, size_t errlen);
/* POST /compatibility: {"is_compatible":B} (+ "messages" when verbose). */
int reg_store_check(reg_store *st, const char *subject, const char *version,
		    const char *schema_text, bool verbose, json_t **out, char *err, size_t errlen);
/* {"compatibilityLevel":L}; subject NULL: global. A subject without its own config:
 * 40408 unless default_to_global. */
int reg_store_config(reg_store *st, const char *subject, bool default_to_global, json_t **out,
		     char *err, size_t errlen);
/* The id of live-or-deleted (subject, version), or -1. */
int64_t reg_store_version_id(reg_store *st, const char *subject, int version);
int64_t reg_store_max_id(reg_store *st);

/* ---- plans: the records a write needs ---- */
/* Register: *id >= 0 and an empty plan when already registered (live) under subject;
 * otherwise one SCHEMA record for (subject, *version) with id *id. */
int reg_store_plan_register(reg_store *st, const char *subject, const char *schema_text,
			    reg_plan *plan, int64_t *id, int *version, char *err, size_t errlen);
/* PUT /config[/subject]: level text checked (42203). */
int reg_store_plan_config(reg_store *st, const char *subject, const char *level,
			  reg_plan *plan, char *err, size_t errlen);
/* DELETE /config[/subject]: *out = the level before ({"compatibilityLevel"}). */
int reg_store_plan_config_delete(reg_store *st, const char *subject, reg_plan *plan,
				 json_t **out, char *err, size_t errlen);
/* DELETE /subjects/{s}: *out = [versions deleted]. */
int reg_store_plan_delete_subject(reg_store *st, const char *subject, bool permanent,
				  reg_plan *plan, json_t **out, char *err, size_t errlen);
/* DELETE /subjects/{s}/versions/{v}: *out = the version number. */
int reg_store_plan_delete_version(reg_store *st, const char *subject, const char *version,
				  bool permanent, reg_plan *plan, json_t **out, char *err,
				  size_t errlen);

#endif
