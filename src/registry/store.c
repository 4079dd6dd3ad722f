/*
 * store.c — the Schema Registry state machine (design in store.h).
 *
 * State is kept in plain arrays (schemas by id in arrival order, subjects sorted by
 * name, versions sorted by number): a registry holds thousands of schemas, not
 * millions, and every query is a short scan under the read lock.
 */
#include "registry/store.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "avro/compat.h"
#include "avro/schema.h"
#include "core/err.h"
#include "core/mem.h"

#define REG_MAX_SUBJECT 1024 /* longest subject name accepted */

typedef struct reg_schema {
	int64_t id;
	char *text; /* as recorded */
	char *norm; /* avro_schema_to_json: the identity of a schema */
	uint64_t hash; /* avro_crc64 of norm: compared before norm */
	avro_schema *parsed;
} reg_schema;

typedef struct reg_version {
	int version;
	int64_t id;
	bool deleted;
} reg_version;

typedef struct reg_subject {
	char *name;
	reg_version *v; /* sorted by version */
	size_t n, cap;
	bool has_compat;
	reg_compat compat;
} reg_subject;

struct reg_store {
	pthread_rwlock_t lock;
	reg_schema *schemas;
	size_t ns, caps;
	reg_subject *subs; /* sorted by name */
	size_t nsub, capsub;
	bool has_global;
	reg_compat global;
	int64_t max_id;
};

static const char *const compat_names[] = {
	"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
	"FULL", "FULL_TRANSITIVE",
};

const char *reg_compat_name(reg_compat c)
{
	return compat_names[c];
}

int reg_compat_parse(const char *s, reg_compat *out)
{
	for (size_t i = 0; i < sizeof compat_names / sizeof compat_names[0]; i++) {
		if (s && strcasecmp(s, compat_names[i]) == 0) {
			*out = (reg_compat)i;
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

int reg_version_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	if (strcmp(s, "latest") == 0 || strcmp(s, "-1") == 0)
		return 0;
	long long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s > 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > INT_MAX)
		return -1;
	return (int)v;
}

void reg_plan_release(reg_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->recs[i].key);
		free(p->recs[i].value);
	}
	free(p->recs);
	p->recs = NULL;
	p->n = 0;
}

/* Takes ownership of key and value (json_t, decref'd); value NULL: tombstone. */
static void plan_add(reg_plan *p, json_t *key, json_t *value)
{
	p->recs = brook_realloc(p->recs, (p->n + 1) * sizeof *p->recs);
	p->recs[p->n].key = json_dumps(key, JSON_COMPACT | JSON_PRESERVE_ORDER);
	p->recs[p->n].value = value ? json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	p->n++;
	json_decref(key);
	json_decref(value);
}

reg_store *reg_store_new(void)
{
	reg_store *st = brook_calloc(1, sizeof *st);
	pthread_rwlock_init(&st->lock, NULL);
	return st;
}

void reg_store_free(reg_store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->ns; i++) {
		free(st->schemas[i].text);
		free(st->schemas[i].norm);
		avro_schema_free(st->schemas[i].parsed);
	}
	free(st->schemas);
	for (size_t i = 0; i < st->nsub; i++) {
		free(st->subs[i].name);
		free(st->subs[i].v);
	}
	free(st->subs);
	pthread_rwlock_destroy(&st->lock);
	free(st);
}

/* ---- lookups (caller holds the lock) ---- */

static reg_schema *schema_by_id(reg_store *st, int64_t id)
{
	for (size_t i = 0; i < st->ns; i++)
		if (st->schemas[i].id == id)
			return &st->schemas[i];
	return NULL;
}

static reg_schema *schema_by_norm(reg_store *st, const char *norm)
{
	uint64_t h = avro_crc64(norm, strlen(norm));
	for (size_t i = 0; i < st->ns; i++)
		if (st->schemas[i].hash == h && strcmp(st->schemas[i].norm, norm) == 0)
			return &st->schemas[i];
	return NULL;
}

/* Index of subject or where it would go (*found false). */
static size_t subject_pos(reg_store *st, const char *name, bool *found)
{
	size_t lo = 0, hi = st->nsub;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->subs[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static reg_subject *subject_get(reg_store *st, const char *name)
{
	bool found;
	size_t i = subject_pos(st, name, &found);
	return found ? &st->subs[i] : NULL;
}

static reg_subject *subject_get_or_add(reg_store *st, const char *name)
{
	bool found;
	size_t i = subject_pos(st, name, &found);
	if (found)
		return &st->subs[i];
	if (st->nsub == st->capsub) {
		st->capsub = st->capsub ? st->capsub * 2 : 8;
		st->subs = brook_realloc(st->subs, st->capsub * sizeof *st->subs);
	}
	memmove(&st->subs[i + 1], &st->subs[i], (st->nsub - i) * sizeof *st->subs);
	st->nsub++;
	memset(&st->subs[i], 0, sizeof st->subs[i]);
	st->subs[i].name = brook_strdup(name);
	return &st->subs[i];
}

/* Remove the subject when it has neither versions nor a config. */
static void subject_gc(reg_store *st, reg_subject *s)
{
	if (s->n > 0 || s->has_compat)
		return;
	size_t i = (size_t)(s - st->subs);
	free(s->name);
	free(s->v);
	memmove(&st->subs[i], &st->subs[i + 1], (st->nsub - i - 1) * sizeof *st->subs);
	st->nsub--;
}

static reg_version *version_get(reg_subject *s, int version)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].version == version)
			return &s->v[i];
	return NULL;
}

static bool subject_has_live(const reg_subject *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].deleted)
			return true;
	return false;
}

/* Subject visible to a query: has live versions, or any when deleted. */
static reg_subject *subject_visible(reg_store *st, const char *name, bool deleted)
{
	reg_subject *s = subject_get(st, name);
	if (!s || s->n == 0 || (!deleted && !subject_has_live(s)))
		return NULL;
	return s;
}

/* The newest version visible (live unless deleted), or NULL. */
static reg_version *version_latest(reg_subject *s, bool deleted)
{
	for (size_t i = s->n; i > 0; i--)
		if (deleted || !s->v[i - 1].deleted)
			return &s->v[i - 1];
	return NULL;
}

/* ---- apply ---- */

static bool json_int_in(const json_t *j, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_is_integer(j))
		return false;
	json_int_t v = json_integer_value(j);
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool subject_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= REG_MAX_SUBJECT;
}

static bool apply_schema(reg_store *st, const char *subject, int version, json_t *val)
{
	reg_subject *s = subject_get(st, subject);
	if (!val) { /* permanent delete */
		if (!s)
			return true;
		reg_version *v = version_get(s, version);
		if (v) {
			size_t i = (size_t)(v - s->v);
			memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
			s->n--;
		}
		subject_gc(st, s);
		return true;
	}
	int64_t id, vv;
	const char *vs = json_string_value(json_object_get(val, "subject"));
	const char *text = json_string_value(json_object_get(val, "schema"));
	json_t *type = json_object_get(val, "schemaType");
	json_t *refs = json_object_get(val, "references");
	json_t *del = json_object_get(val, "deleted");
	if (!vs || strcmp(vs, subject) != 0 || !text ||
	    !json_int_in(json_object_get(val, "version"), version, version, &vv) ||
	    !json_int_in(json_object_get(val, "id"), 0, INT32_MAX, &id))
		return false;
	if (type && !json_is_null(type) &&
	    (!json_is_string(type) || strcmp(json_string_value(type), "AVRO") != 0))
		return false;
	if (refs && !json_is_null(refs) && (!json_is_array(refs) || json_array_size(refs) > 0))
		return false;
	if (del && !json_is_boolean(del))
		return false;
	bool deleted = json_is_true(del);

	reg_schema *sch = schema_by_id(st, id);
	avro_schema *parsed = NULL;
	char *norm = NULL;
	if (!sch) {
		char perr[256];
		parsed = avro_schema_parse(text, strlen(text), perr, sizeof perr);
		if (!parsed)
			return false;
		norm = avro_schema_to_json(parsed);
		if (schema_by_norm(st, norm)) { /* that schema already has another id */
			free(norm);
			avro_schema_free(parsed);
			return false;
		}
	} else if (strcmp(sch->text, text) != 0) {
		/* The same id with other text: accepted only when it is the same schema. */
		char perr[256];
		avro_schema *p = avro_schema_parse(text, strlen(text), perr, sizeof perr);
		if (!p)
			return false;
		char *n = avro_schema_to_json(p);
		bool same = strcmp(n, sch->norm) == 0;
		free(n);
		avro_schema_free(p);
		if (!same)
			return false;
	}
	reg_version *v = s ? version_get(s, version) : NULL;
	if (v && v->id != id) {
		free(norm);
		avro_schema_free(parsed);
		return false;
	}
	if (!sch) {
		if (st->ns == st->caps) {
			st->caps = st->caps ? st->caps * 2 : 16;
			st->schemas = brook_realloc(st->schemas, st->caps * sizeof *st->schemas);
		}
		reg_schema *n = &st->schemas[st->ns++];
		n->id = id;
		n->text = brook_strdup(text);
		n->norm = norm;
		n->hash = avro_crc64(norm, strlen(norm));
		n->parsed = parsed;
		if (id > st->max_id)
			st->max_id = id;
	}
	if (v) {
		v->deleted = deleted;
		return true;
	}
	s = subject_get_or_add(st, subject);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->v = brook_realloc(s->v, s->cap * sizeof *s->v);
	}
	size_t i = s->n;
	while (i > 0 && s->v[i - 1].version > version)
		i--;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
	s->v[i] = (reg_version){version, id, deleted};
	s->n++;
	return true;
}

static bool apply_config(reg_store *st, const char *subject, json_t *val)
{
	reg_compat c = REG_COMPAT_DEFAULT;
	if (val && reg_compat_parse(json_string_value(json_object_get(val, "compatibilityLevel")),
				    &c) != BROOK_OK)
		return false;
	if (!subject) {
		st->has_global = val != NULL;
		st->global = c;
		return true;
	}
	if (!val) {
		reg_subject *s = subject_get(st, subject);
		if (s) {
			s->has_compat = false;
			subject_gc(st, s);
		}
		return true;
	}
	reg_subject *s = subject_get_or_add(st, subject);
	s->has_compat = true;
	s->compat = c;
	return true;
}

bool reg_store_apply(reg_store *st, const char *key, size_t klen, const char *value,
		     size_t vlen)
{
	json_error_t je;
	json_t *k = json_loadb(key, klen, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(k)) {
		json_decref(k);
		return false;
	}
	json_t *val = NULL;
	if (value) {
		val = json_loadb(value, vlen, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(val)) {
			json_decref(k);
			json_decref(val);
			return false;
		}
	}
	const char *type = json_string_value(json_object_get(k, "keytype"));
	json_t *jsub = json_object_get(k, "subject");
	const char *subject = json_string_value(jsub);
	bool ok = false;
	if (subject && !subject_name_ok(subject))
		goto done;
	pthread_rwlock_wrlock(&st->lock);
	if (!type) {
		ok = false;
	} else if (strcmp(type, "SCHEMA") == 0) {
		int64_t version;
		if (subject && json_int_in(json_object_get(k, "version"), 1, INT_MAX, &version))
			ok = apply_schema(st, subject, (int)version, val);
	} else if (strcmp(type, "CONFIG") == 0) {
		if (subject || !jsub || json_is_null(jsub))
			ok = apply_config(st, subject, val);
	} else if (strcmp(type, "DELETE_SUBJECT") == 0) {
		int64_t upto;
		reg_subject *s = subject ? subject_get(st, subject) : NULL;
		if (!val) {
			ok = true;
		} else if (subject &&
			   json_int_in(json_object_get(val, "version"), 0, INT_MAX, &upto)) {
			for (size_t i = 0; s && i < s->n; i++)
				if (s->v[i].version <= upto)
					s->v[i].deleted = true;
			ok = true;
		}
	} else if (strcmp(type, "CLEAR_SUBJECT") == 0) {
		reg_subject *s = subject ? subject_get(st, subject) : NULL;
		if (s && val) {
			size_t j = 0;
			for (size_t i = 0; i < s->n; i++)
				if (!s->v[i].deleted)
					s->v[j++] = s->v[i];
			s->n = j;
			subject_gc(st, s);
		}
		ok = subject != NULL;
	} else {
		ok = true; /* NOOP and key types brook does not use */
	}
	pthread_rwlock_unlock(&st->lock);
done:
	json_decref(k);
	json_decref(val);
	return ok;
}

void reg_store_apply_cb(void *arg, int64_t offset, const char *key, size_t klen,
			const char *value, size_t vlen)
{
	(void)offset;
	reg_store_apply(arg, key, klen, value, vlen);
}

/* ---- queries ---- */

json_t *reg_store_subjects(reg_store *st, bool deleted)
{
	json_t *a = json_array();
	pthread_rwlock_rdlock(&st->lock);
	for (size_t i = 0; i < st->nsub; i++)
		if (st->subs[i].n > 0 && (deleted || subject_has_live(&st->subs[i])))
			json_array_append_new(a, json_string(st->subs[i].name));
	pthread_rwlock_unlock(&st->lock);
	return a;
}

static int err_subject(const char *subject, char *err, size_t errlen)
{
	snprintf(err, errlen, "Subject '%s' not found.", subject);
	return REG_ERR_SUBJECT_NOT_FOUND;
}

static int err_version_invalid(const char *version, char *err, size_t errlen)
{
	snprintf(err, errlen, "The specified version '%s' is not a valid version id. Allowed "
		 "values are between [1, 2^31-1] and the string \"latest\"", version);
	return REG_ERR_INVALID_VERSION;
}

int reg_store_versions(reg_store *st, const char *subject, bool deleted, json_t **out,
		       char *err, size_t errlen)
{
	int rc = 0;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_visible(st, subject, deleted);
	if (!s) {
		rc = err_subject(subject, err, errlen);
	} else {
		*out = json_array();
		for (size_t i = 0; i < s->n; i++)
			if (deleted || !s->v[i].deleted)
				json_array_append_new(*out, json_integer(s->v[i].version));
	}
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

static json_t *version_json(reg_store *st, const reg_subject *s, const reg_version *v)
{
	reg_schema *sch = schema_by_id(st, v->id);
	return json_pack("{s:s, s:i, s:I, s:s}", "subject", s->name, "version", v->version, "id",
			 (json_int_t)v->id, "schema", sch ? sch->text : "");
}

/* Find (subject, version text) for a query; caller holds the lock. */
static int find_version(reg_store *st, const char *subject, const char *version, bool deleted,
			reg_subject **sp, reg_version **vp, char *err, size_t errlen)
{
	int vn = reg_version_parse(version);
	if (vn < 0)
		return err_version_invalid(version, err, errlen);
	reg_subject *s = subject_visible(st, subject, deleted);
	if (!s)
		return err_subject(subject, err, errlen);
	reg_version *v = vn == 0 ? version_latest(s, deleted) : version_get(s, vn);
	if (!v || (v->deleted && !deleted)) {
		snprintf(err, errlen, "Version %s not found.", version);
		return REG_ERR_VERSION_NOT_FOUND;
	}
	*sp = s;
	*vp = v;
	return 0;
}

int reg_store_version(reg_store *st, const char *subject, const char *version, bool deleted,
		      json_t **out, char *err, size_t errlen)
{
	reg_subject *s;
	reg_version *v;
	pthread_rwlock_rdlock(&st->lock);
	int rc = find_version(st, subject, version, deleted, &s, &v, err, errlen);
	if (rc == 0)
		*out = version_json(st, s, v);
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

static int err_schema_id(int64_t id, char *err, size_t errlen)
{
	snprintf(err, errlen, "Schema %lld not found", (long long)id);
	return REG_ERR_SCHEMA_NOT_FOUND;
}

int reg_store_schema_by_id(reg_store *st, int64_t id, json_t **out, char *err, size_t errlen)
{
	int rc = 0;
	pthread_rwlock_rdlock(&st->lock);
	reg_schema *sch = schema_by_id(st, id);
	if (sch)
		*out = json_pack("{s:s}", "schema", sch->text);
	else
		rc = err_schema_id(id, err, errlen);
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

static int id_uses(reg_store *st, int64_t id, bool deleted, bool versions, json_t **out,
		   char *err, size_t errlen)
{
	int rc = 0;
	pthread_rwlock_rdlock(&st->lock);
	if (!schema_by_id(st, id)) {
		rc = err_schema_id(id, err, errlen);
		goto out;
	}
	*out = json_array();
	for (size_t i = 0; i < st->nsub; i++) {
		reg_subject *s = &st->subs[i];
		bool listed = false;
		for (size_t j = 0; j < s->n; j++) {
			if (s->v[j].id != id || (s->v[j].deleted && !deleted))
				continue;
			if (versions) {
				json_array_append_new(*out, json_pack("{s:s, s:i}", "subject",
								      s->name, "version",
								      s->v[j].version));
			} else if (!listed) {
				json_array_append_new(*out, json_string(s->name));
				listed = true;
			}
		}
	}
out:
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

int reg_store_id_subjects(reg_store *st, int64_t id, bool deleted, json_t **out, char *err,
			  size_t errlen)
{
	return id_uses(st, id, deleted, false, out, err, errlen);
}

int reg_store_id_versions(reg_store *st, int64_t id, bool deleted, json_t **out, char *err,
			  size_t errlen)
{
	return id_uses(st, id, deleted, true, out, err, errlen);
}

/* Parse a submitted schema; *norm yours. */
static int parse_submitted(const char *text, avro_schema **parsed, char **norm, char *err,
			   size_t errlen)
{
	char perr[512];
	*parsed = avro_schema_parse(text, strlen(text), perr, sizeof perr);
	if (!*parsed) {
		snprintf(err, errlen, "Invalid schema: %s", perr);
		return REG_ERR_INVALID_SCHEMA;
	}
	*norm = avro_schema_to_json(*parsed);
	return 0;
}

int reg_store_lookup(reg_store *st, const char *subject, const char *schema_text, bool deleted,
		     json_t **out, char *err, size_t errlen)
{
	avro_schema *p;
	char *norm;
	int rc = parse_submitted(schema_text, &p, &norm, err, errlen);
	if (rc)
		return rc;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_visible(st, subject, deleted);
	reg_schema *sch = schema_by_norm(st, norm);
	if (!s) {
		rc = err_subject(subject, err, errlen);
	} else {
		rc = REG_ERR_SCHEMA_NOT_FOUND;
		snprintf(err, errlen, "Schema not found");
		for (size_t i = s->n; sch && i > 0; i--) {
			reg_version *v = &s->v[i - 1];
			if (v->id == sch->id && (deleted || !v->deleted)) {
				*out = version_json(st, s, v);
				rc = 0;
				break;
			}
		}
	}
	pthread_rwlock_unlock(&st->lock);
	free(norm);
	avro_schema_free(p);
	return rc;
}

static reg_compat subject_level(reg_store *st, const reg_subject *s)
{
	if (s && s->has_compat)
		return s->compat;
	return st->has_global ? st->global : REG_COMPAT_DEFAULT;
}

/* Append reasons why `reader` cannot read `writer` to msgs. */
static void add_issues(json_t *msgs, const avro_compat_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		char *m = NULL;
		const avro_compat_issue *is = &r->issues[i];
		if (asprintf(&m, "{errorType:'%s', description:'%s', path:'%s', "
			     "additionalInfo:'%s'}", avro_incompat_name(is->kind),
			     is->message ? is->message : "", is->path ? is->path : "/",
			     is->info ? is->info : "") < 0)
			abort();
		json_array_append_new(msgs, json_string(m));
		free(m);
	}
}

/* Check `p` against existing version `v` per level; reasons into msgs (may be NULL). */
static bool check_one(reg_store *st, reg_compat level, const avro_schema *p,
		      const reg_version *v, json_t *msgs)
{
	reg_schema *old = schema_by_id(st, v->id);
	bool back = level == REG_COMPAT_BACKWARD || level == REG_COMPAT_BACKWARD_TRANSITIVE ||
		    level == REG_COMPAT_FULL || level == REG_COMPAT_FULL_TRANSITIVE;
	bool fwd = level == REG_COMPAT_FORWARD || level == REG_COMPAT_FORWARD_TRANSITIVE ||
		   level == REG_COMPAT_FULL || level == REG_COMPAT_FULL_TRANSITIVE;
	bool ok = true;
	avro_compat_report r = AVRO_COMPAT_REPORT_INIT;
	if (!old)
		return true;
	if (back && !avro_can_read(p, old->parsed, msgs ? &r : NULL))
		ok = false;
	if (fwd && !avro_can_read(old->parsed, p, msgs ? &r : NULL))
		ok = false;
	if (!ok && msgs) {
		add_issues(msgs, &r);
		char *m = NULL;
		if (asprintf(&m, "{oldSchemaVersion: %d}", v->version) >= 0) {
			json_array_append_new(msgs, json_string(m));
			free(m);
		}
		m = NULL;
		if (asprintf(&m, "{oldSchema: '%s'}", old->text) >= 0) {
			json_array_append_new(msgs, json_string(m));
			free(m);
		}
		m = NULL;
		if (asprintf(&m, "{compatibility: '%s'}", reg_compat_name(level)) >= 0) {
			json_array_append_new(msgs, json_string(m));
			free(m);
		}
	}
	avro_compat_report_release(&r);
	return ok;
}

/* Check p against the live versions of s per its level (caller holds the lock). */
static bool check_level(reg_store *st, const reg_subject *s, const avro_schema *p,
			json_t *msgs)
{
	reg_compat level = subject_level(st, s);
	if (level == REG_COMPAT_NONE || !s)
		return true;
	bool transitive = level == REG_COMPAT_BACKWARD_TRANSITIVE ||
			  level == REG_COMPAT_FORWARD_TRANSITIVE ||
			  level == REG_COMPAT_FULL_TRANSITIVE;
	bool ok = true;
	for (size_t i = s->n; i > 0; i--) {
		const reg_version *v = &s->v[i - 1];
		if (v->deleted)
			continue;
		if (!check_one(st, level, p, v, msgs))
			ok = false;
		if (!transitive || (!ok && !msgs))
			break;
	}
	return ok;
}

int reg_store_check(reg_store *st, const char *subject, const char *version,
		    const char *schema_text, bool verbose, json_t **out, char *err, size_t errlen)
{
	int vn = reg_version_parse(version);
	if (vn < 0)
		return err_version_invalid(version, err, errlen);
	avro_schema *p;
	char *norm;
	int rc = parse_submitted(schema_text, &p, &norm, err, errlen);
	if (rc)
		return rc;
	json_t *msgs = json_array();
	bool ok = true;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_visible(st, subject, false);
	if (vn == 0) {
		ok = check_level(st, s, p, msgs);
	} else {
		reg_version *v;
		rc = find_version(st, subject, version, false, &s, &v, err, errlen);
		if (rc == 0) {
			reg_compat level = subject_level(st, s);
			ok = level == REG_COMPAT_NONE || check_one(st, level, p, v, msgs);
		}
	}
	pthread_rwlock_unlock(&st->lock);
	if (rc == 0) {
		*out = json_pack("{s:b}", "is_compatible", ok);
		if (verbose)
			json_object_set(*out, "messages", msgs);
	}
	json_decref(msgs);
	free(norm);
	avro_schema_free(p);
	return rc;
}

int reg_store_config(reg_store *st, const char *subject, bool default_to_global, json_t **out,
		     char *err, size_t errlen)
{
	int rc = 0;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject ? subject_get(st, subject) : NULL;
	if (subject && !(s && s->has_compat) && !default_to_global) {
		snprintf(err, errlen, "Subject '%s' does not have subject-level compatibility "
			 "configured", subject);
		rc = REG_ERR_SUBJECT_CONFIG_NOT_FOUND;
	} else {
		*out = json_pack("{s:s}", "compatibilityLevel",
				 reg_compat_name(subject_level(st, s)));
	}
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

int64_t reg_store_version_id(reg_store *st, const char *subject, int version)
{
	int64_t id = -1;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_get(st, subject);
	reg_version *v = s ? version_get(s, version) : NULL;
	if (v)
		id = v->id;
	pthread_rwlock_unlock(&st->lock);
	return id;
}

int64_t reg_store_max_id(reg_store *st)
{
	pthread_rwlock_rdlock(&st->lock);
	int64_t id = st->max_id;
	pthread_rwlock_unlock(&st->lock);
	return id;
}

/* ---- plans ---- */

static json_t *schema_key(const char *subject, int version)
{
	return json_pack("{s:s, s:s, s:i, s:i}", "keytype", "SCHEMA", "subject", subject,
			 "version", version, "magic", 1);
}

static json_t *subject_key(const char *type, const char *subject)
{
	return json_pack("{s:s, s:o, s:i}", "keytype", type, "subject",
			 subject ? json_string(subject) : json_null(), "magic", 0);
}

int reg_store_plan_register(reg_store *st, const char *subject, const char *schema_text,
			    reg_plan *plan, int64_t *id, int *version, char *err, size_t errlen)
{
	avro_schema *p;
	char *norm;
	if (!subject_name_ok(subject)) {
		snprintf(err, errlen, "Invalid subject name");
		return REG_ERR_INVALID_SCHEMA;
	}
	int rc = parse_submitted(schema_text, &p, &norm, err, errlen);
	if (rc)
		return rc;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_get(st, subject);
	reg_schema *sch = schema_by_norm(st, norm);
	*id = -1;
	for (size_t i = 0; sch && s && i < s->n; i++) {
		if (!s->v[i].deleted && s->v[i].id == sch->id) {
			*id = sch->id;
			*version = s->v[i].version;
			goto out;
		}
	}
	json_t *msgs = json_array();
	if (!check_level(st, s, p, msgs)) {
		char *m = json_dumps(msgs, JSON_COMPACT);
		snprintf(err, errlen, "Schema being registered is incompatible with an earlier "
			 "schema for subject \"%s\", details: %s", subject, m);
		free(m);
		json_decref(msgs);
		rc = REG_ERR_INCOMPATIBLE;
		goto out;
	}
	json_decref(msgs);
	int64_t nid = sch ? sch->id : st->max_id + 1;
	int nv = s && s->n > 0 ? s->v[s->n - 1].version + 1 : 1;
	/* The record carries the schema as first registered (same id, same text). */
	json_t *val = json_pack("{s:s, s:i, s:I, s:s, s:b}", "subject", subject, "version", nv,
				"id", (json_int_t)nid, "schema", sch ? sch->text : norm,
				"deleted", 0);
	plan_add(plan, schema_key(subject, nv), val);
	*version = nv;
	*id = nid;
out:
	pthread_rwlock_unlock(&st->lock);
	free(norm);
	avro_schema_free(p);
	return rc;
}

int reg_store_plan_config(reg_store *st, const char *subject, const char *level,
			  reg_plan *plan, char *err, size_t errlen)
{
	reg_compat c;
	(void)st;
	if (reg_compat_parse(level, &c) != BROOK_OK) {
		snprintf(err, errlen, "Invalid compatibility level. Valid values are none, "
			 "backward, forward, full, backward_transitive, forward_transitive, and "
			 "full_transitive");
		return REG_ERR_INVALID_COMPAT;
	}
	if (subject && !subject_name_ok(subject)) {
		snprintf(err, errlen, "Invalid subject name");
		return REG_ERR_SUBJECT_NOT_FOUND;
	}
	plan_add(plan, subject_key("CONFIG", subject),
		 json_pack("{s:s}", "compatibilityLevel", reg_compat_name(c)));
	return 0;
}

int reg_store_plan_config_delete(reg_store *st, const char *subject, reg_plan *plan,
				 json_t **out, char *err, size_t errlen)
{
	int rc = reg_store_config(st, subject, false, out, err, errlen);
	if (rc)
		return rc;
	plan_add(plan, subject_key("CONFIG", subject), NULL);
	return 0;
}

int reg_store_plan_delete_subject(reg_store *st, const char *subject, bool permanent,
				  reg_plan *plan, json_t **out, char *err, size_t errlen)
{
	int rc = 0;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_visible(st, subject, true);
	if (!s) {
		rc = err_subject(subject, err, errlen);
		goto out;
	}
	bool live = subject_has_live(s);
	if (!permanent && !live) {
		snprintf(err, errlen, "Subject '%s' was soft deleted.Set permanent=true to delete "
			 "permanently", subject);
		rc = REG_ERR_SUBJECT_SOFT_DELETED;
		goto out;
	}
	if (permanent && live) {
		snprintf(err, errlen, "Subject '%s' was not deleted first before being deleted "
			 "permanently", subject);
		rc = REG_ERR_SUBJECT_NOT_SOFT_DELETED;
		goto out;
	}
	*out = json_array();
	for (size_t i = 0; i < s->n; i++) {
		if (permanent || !s->v[i].deleted)
			json_array_append_new(*out, json_integer(s->v[i].version));
		if (permanent)
			plan_add(plan, schema_key(subject, s->v[i].version), NULL);
	}
	if (!permanent)
		plan_add(plan, subject_key("DELETE_SUBJECT", subject),
			 json_pack("{s:s, s:i}", "subject", subject, "version",
				   s->v[s->n - 1].version));
out:
	pthread_rwlock_unlock(&st->lock);
	return rc;
}

int reg_store_plan_delete_version(reg_store *st, const char *subject, const char *version,
				  bool permanent, reg_plan *plan, json_t **out, char *err,
				  size_t errlen)
{
	int vn = reg_version_parse(version);
	if (vn < 0)
		return err_version_invalid(version, err, errlen);
	int rc = 0;
	pthread_rwlock_rdlock(&st->lock);
	reg_subject *s = subject_visible(st, subject, true);
	if (!s) {
		rc = err_subject(subject, err, errlen);
		goto out;
	}
	reg_version *v = vn == 0 ? version_latest(s, permanent) : version_get(s, vn);
	if (!v) {
		snprintf(err, errlen, "Version %s not found.", version);
		rc = REG_ERR_VERSION_NOT_FOUND;
		goto out;
	}
	if (!permanent && v->deleted) {
		snprintf(err, errlen, "Subject '%s' Version %d was soft deleted.Set "
			 "permanent=true to delete permanently", subject, v->version);
		rc = REG_ERR_VERSION_SOFT_DELETED;
		goto out;
	}
	if (permanent && !v->deleted) {
		snprintf(err, errlen, "Subject '%s' Version %d was not deleted first before being "
			 "permanently deleted", subject, v->version);
		rc = REG_ERR_VERSION_NOT_SOFT_DELETED;
		goto out;
	}
	*out = json_integer(v->version);
	if (permanent) {
		plan_add(plan, schema_key(subject, v->version), NULL);
	} else {
		reg_schema *sch = schema_by_id(st, v->id);
		plan_add(plan, schema_key(subject, v->version),
			 json_pack("{s:s, s:i, s:I, s:s, s:b}", "subject", subject, "version",
				   v->version, "id", (json_int_t)v->id, "schema",
				   sch ? sch->text : "", "deleted", 1));
	}
out:
	pthread_rwlock_unlock(&st->lock);
	return rc;
}
