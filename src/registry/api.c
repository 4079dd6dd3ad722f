/*
 * api.c — Confluent Schema Registry REST routes (design in api.h).
 */
#include "registry/api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/mem.h"

#define COMP         "registry"
#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

const brook_cfg_key registry_config_keys[] = {
	{"registry.listen", BROOK_CFG_STR, "127.0.0.1:8081", "Schema Registry REST API", NULL},
	{"registry.topic", BROOK_CFG_STR, "_schemas", "topic holding the registry's records",
	 NULL},
	{NULL, 0, NULL, NULL, NULL},
};

struct reg_api {
	reg_store *st;
	reg_log *log;
	brook_httpd *httpd;
	pthread_mutex_t write_mu;
};

/* ---- answers ---- */

static void reply_json(brook_http_response *resp, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	resp->status = status;
	resp->content_type = CONTENT_TYPE;
	brook_buf_puts(&resp->body, s);
	free(s);
	json_decref(j);
}

static void reply_error(brook_http_response *resp, int code, const char *msg)
{
	int status = code >= 1000 ? code / 100 : code;
	reply_json(resp, status, json_pack("{s:i, s:s}", "error_code", code, "message", msg));
}

static bool query_true(const brook_http_request *req, const char *key)
{
	const char *v = brook_http_query(req, key);
	return v && strcasecmp(v, "true") == 0;
}

static const char *const accepted_types[] = {
	"application/vnd.schemaregistry.v1+json",
	"application/vnd.schemaregistry+json",
	"application/json",
	"application/octet-stream",
};

/* Parse the JSON object body of a POST/PUT; NULL after answering 415/400. */
static json_t *request_body(const brook_http_request *req, brook_http_response *resp)
{
	const char *ct = brook_http_header(req, "Content-Type");
	if (ct && *ct) {
		size_t n = strcspn(ct, ";");
		while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
			n--;
		bool ok = false;
		for (size_t i = 0; i < sizeof accepted_types / sizeof accepted_types[0]; i++) {
			const char *t = accepted_types[i];
			if (strlen(t) == n && strncasecmp(ct, t, n) == 0)
				ok = true;
		}
		if (!ok) {
			reply_error(resp, 415, "HTTP 415 Unsupported Media Type");
			return NULL;
		}
	}
	size_t len;
	const char *body = brook_http_body(req, &len);
	json_error_t je;
	json_t *j = body ? json_loadb(body, len, 0, &je) : NULL;
	if (!json_is_object(j)) {
		char msg[256];
		snprintf(msg, sizeof msg, "Unprocessable request body: %s",
			 j ? "not a JSON object" : (len ? je.text : "empty"));
		json_decref(j);
		reply_error(resp, 400, msg);
		return NULL;
	}
	return j;
}

/* The "schema" of a request body, checked; NULL after answering. */
static const char *body_schema(json_t *body, brook_http_response *resp)
{
	json_t *type = json_object_get(body, "schemaType");
	json_t *refs = json_object_get(body, "references");
	const char *schema = json_string_value(json_object_get(body, "schema"));
	if (type && !json_is_null(type) &&
	    (!json_is_string(type) || strcmp(json_string_value(type), "AVRO") != 0)) {
		reply_error(resp, 42201, "Invalid schema: unsupported schemaType (brook "
			    "registers AVRO schemas)");
		return NULL;
	}
	if (refs && !json_is_null(refs) && (!json_is_array(refs) || json_array_size(refs))) {
		reply_error(resp, 42201, "Invalid schema: schema references are not supported");
		return NULL;
	}
	if (!schema) {
		reply_error(resp, 42201, "Invalid schema: the request has no \"schema\" string");
		return NULL;
	}
	return schema;
}

/* Append a plan's records and wait for the last to be applied. 0 or 5000x. */
static int run_plan(reg_api *a, const reg_plan *p, char *err, size_t errlen)
{
	int64_t off = -1;
	for (size_t i = 0; i < p->n; i++) {
		const reg_record *r = &p->recs[i];
		char lerr[256] = "";
		if (a->log->ops->append(a->log, r->key, strlen(r->key), r->value,
					r->value ? strlen(r->value) : 0, &off, lerr,
					sizeof lerr) != BROOK_OK) {
			snprintf(err, errlen, "Error while storing the record: %s", lerr);
			return REG_ERR_STORE;
		}
	}
	if (off >= 0 && a->log->ops->wait_applied(a->log, off, REG_API_WAIT_MS) != BROOK_OK) {
		snprintf(err, errlen, "Timed out waiting for the record to be applied");
		return 50002;
	}
	return 0;
}

/* The end of every write handler, which took a->write_mu and planned (rc, plan, out):
 * append the plan's records and wait until they are applied, release the lock, then
 * answer out (200) or the error. */
static void finish_write(reg_api *a, brook_http_response *resp, int rc, reg_plan *plan,
			 json_t *out, char *err, size_t errlen)
{
	if (rc == 0)
		rc = run_plan(a, plan, err, errlen);
	pthread_mutex_unlock(&a->write_mu);
	reg_plan_release(plan);
	if (rc) {
		json_decref(out);
		reply_error(resp, rc, err);
	} else {
		reply_json(resp, 200, out);
	}
}

/* ---- handlers ---- */

static void h_root(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	reply_json(resp, 200, json_object());
}

static void h_types(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	reply_json(resp, 200, json_pack("[s]", "AVRO"));
}

static void h_subjects(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	reply_json(resp, 200, reg_store_subjects(a->st, query_true(req, "deleted")));
}

/* Answer a query result: rc 0 -> 200 with out, else the error. */
static void answer(brook_http_response *resp, int rc, json_t *out, const char *err)
{
	if (rc)
		reply_error(resp, rc, err);
	else
		reply_json(resp, 200, out);
}

static void h_versions(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int rc = reg_store_versions(a->st, brook_http_param(req, "subject"),
				    query_true(req, "deleted"), &out, err, sizeof err);
	answer(resp, rc, out, err);
}

static void h_version(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int rc = reg_store_version(a->st, brook_http_param(req, "subject"),
				   brook_http_param(req, "version"), query_true(req, "deleted"),
				   &out, err, sizeof err);
	answer(resp, rc, out, err);
}

static void h_version_schema(const brook_http_request *req, brook_http_response *resp,
			     void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int rc = reg_store_version(a->st, brook_http_param(req, "subject"),
				   brook_http_param(req, "version"), query_true(req, "deleted"),
				   &out, err, sizeof err);
	if (rc) {
		reply_error(resp, rc, err);
		return;
	}
	resp->content_type = CONTENT_TYPE;
	brook_buf_puts(&resp->body, json_string_value(json_object_get(out, "schema")));
	json_decref(out);
}

/* brook has no schema references: an existing version is referenced by nothing. */
static void h_referenced_by(const brook_http_request *req, brook_http_response *resp,
			    void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int rc = reg_store_version(a->st, brook_http_param(req, "subject"),
				   brook_http_param(req, "version"), query_true(req, "deleted"),
				   &out, err, sizeof err);
	json_decref(out);
	answer(resp, rc, rc ? NULL : json_array(), err);
}

static int parse_id(const brook_http_request *req, int64_t *id)
{
	const char *s = brook_http_param(req, "id");
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0 || v > INT32_MAX)
		return BROOK_ERR;
	*id = v;
	return BROOK_OK;
}

static void h_id(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int64_t id;
	if (parse_id(req, &id) != BROOK_OK) {
		reply_error(resp, 40403, "Schema not found");
		return;
	}
	int rc = reg_store_schema_by_id(a->st, id, &out, err, sizeof err);
	if (rc == 0 && query_true(req, "fetchMaxId"))
		json_object_set_new(out, "maxId", json_integer(reg_store_max_id(a->st)));
	answer(resp, rc, out, err);
}

static void h_id_schema(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int64_t id;
	if (parse_id(req, &id) != BROOK_OK) {
		reply_error(resp, 40403, "Schema not found");
		return;
	}
	int rc = reg_store_schema_by_id(a->st, id, &out, err, sizeof err);
	if (rc) {
		reply_error(resp, rc, err);
		return;
	}
	resp->content_type = CONTENT_TYPE;
	brook_buf_puts(&resp->body, json_string_value(json_object_get(out, "schema")));
	json_decref(out);
}

static void id_uses(const brook_http_request *req, brook_http_response *resp, reg_api *a,
		    bool versions)
{
	json_t *out = NULL;
	char err[512];
	int64_t id;
	if (parse_id(req, &id) != BROOK_OK) {
		reply_error(resp, 40403, "Schema not found");
		return;
	}
	bool del = query_true(req, "deleted");
	int rc = versions ? reg_store_id_versions(a->st, id, del, &out, err, sizeof err)
			  : reg_store_id_subjects(a->st, id, del, &out, err, sizeof err);
	answer(resp, rc, out, err);
}

static void h_id_subjects(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	id_uses(req, resp, arg, false);
}

static void h_id_versions(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	id_uses(req, resp, arg, true);
}

static void h_register(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	const char *subject = brook_http_param(req, "subject");
	json_t *body = request_body(req, resp);
	if (!body)
		return;
	const char *schema = body_schema(body, resp);
	if (!schema) {
		json_decref(body);
		return;
	}
	char err[4096];
	int rc = 0;
	int64_t id = -1;
	pthread_mutex_lock(&a->write_mu);
	for (int tries = 0; tries < REG_API_WRITE_TRIES; tries++) {
		reg_plan plan = {NULL, 0};
		int version;
		rc = reg_store_plan_register(a->st, subject, schema, &plan, &id, &version, err,
					     sizeof err);
		if (rc == 0 && plan.n > 0) {
			rc = run_plan(a, &plan, err, sizeof err);
			/* Accepted when the version is ours; otherwise another registry won
			 * the race for the id or the version: plan again. */
			if (rc == 0 && reg_store_version_id(a->st, subject, version) != id) {
				brook_info(COMP, "registering under '%s': id %lld or version %d "
					   "was taken by another registry first; trying again",
					   subject, (long long)id, version);
				rc = REG_ERR_STORE;
				snprintf(err, sizeof err, "Register operation conflicted with "
					 "another registry %d times", tries + 1);
				reg_plan_release(&plan);
				continue;
			}
		}
		reg_plan_release(&plan);
		break;
	}
	pthread_mutex_unlock(&a->write_mu);
	json_decref(body);
	if (rc)
		reply_error(resp, rc, err);
	else
		reply_json(resp, 200, json_pack("{s:I}", "id", (json_int_t)id));
}

static void h_lookup(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *body = request_body(req, resp);
	if (!body)
		return;
	const char *schema = body_schema(body, resp);
	if (schema) {
		json_t *out = NULL;
		char err[1024];
		int rc = reg_store_lookup(a->st, brook_http_param(req, "subject"), schema,
					  query_true(req, "deleted"), &out, err, sizeof err);
		answer(resp, rc, out, err);
	}
	json_decref(body);
}

static void h_compat(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *body = request_body(req, resp);
	if (!body)
		return;
	const char *schema = body_schema(body, resp);
	if (schema) {
		json_t *out = NULL;
		char err[1024];
		const char *version = brook_http_param(req, "version");
		int rc = reg_store_check(a->st, brook_http_param(req, "subject"),
					 version ? version : "latest", schema,
					 query_true(req, "verbose"), &out, err, sizeof err);
		answer(resp, rc, out, err);
	}
	json_decref(body);
}

static void h_config_get(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *out = NULL;
	char err[512];
	int rc = reg_store_config(a->st, brook_http_param(req, "subject"),
				  query_true(req, "defaultToGlobal"), &out, err, sizeof err);
	answer(resp, rc, out, err);
}

static void h_config_put(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	reg_api *a = arg;
	json_t *body = request_body(req, resp);
	if (!body)
		return;
	const char *level = json_string_value(json_object_get(body, "compatibility"));
	if (!level)
		level = json_string_value(json_object_get(body, "compatibilityLevel"));
	reg_plan plan = {NULL, 0};
	char err[512];
	pthread_mutex_lock(&a->write_mu);
	int rc = reg_store_plan_config(a->st, brook_http_param(req, "subject"), level, &plan,
				       err, sizeof err);
	if (rc == 0)
		rc = run_plan(a, &plan, err, sizeof err);
	pthread_mutex_unlock(&a->write_mu);
	reg_plan_release(&plan);
	if (rc == 0) {
		reg_compat c;
		reg_compat_parse(level, &c);
		reply_json(resp, 200, json_pack("{s:s}", "compatibility", reg_compat_name(c)));
	} else {
		reply_error(resp, rc, err);
	}
	json_decref(body);
}

static void h_config_delete(const brook_http_request *req, brook_http_response *resp,
			    void *arg)
{
	reg_api *a = arg;
	reg_plan plan = {NULL, 0};
	json_t *out = NULL;
	char err[512];
	pthread_mutex_lock(&a->write_mu);
	int rc = reg_store_plan_config_delete(a->st, brook_http_param(req, "subject"), &plan,
					      &out, err, sizeof err);
	finish_write(a, resp, rc, &plan, out, err, sizeof err);
}

static void h_delete_subject(const brook_http_request *req, brook_http_response *resp,
			     void *arg)
{
	reg_api *a = arg;
	reg_plan plan = {NULL, 0};
	json_t *out = NULL;
	char err[512];
	pthread_mutex_lock(&a->write_mu);
	int rc = reg_store_plan_delete_subject(a->st, brook_http_param(req, "subject"),
					       query_true(req, "permanent"), &plan, &out, err,
					       sizeof err);
	finish_write(a, resp, rc, &plan, out, err, sizeof err);
}

static void h_delete_version(const brook_http_request *req, brook_http_response *resp,
			     void *arg)
{
	reg_api *a = arg;
	reg_plan plan = {NULL, 0};
	json_t *out = NULL;
	char err[512];
	pthread_mutex_lock(&a->write_mu);
	int rc = reg_store_plan_delete_version(a->st, brook_http_param(req, "subject"),
					       brook_http_param(req, "version"),
					       query_true(req, "permanent"), &plan, &out, err,
					       sizeof err);
	finish_write(a, resp, rc, &plan, out, err, sizeof err);
}

reg_api *reg_api_open(reg_store *st, reg_log *log, const char *host, int port, char *err,
		      size_t errlen)
{
	reg_api *a = brook_calloc(1, sizeof *a);
	a->st = st;
	a->log = log;
	pthread_mutex_init(&a->write_mu, NULL);
	const brook_http_route routes[] = {
		{"GET", "/", h_root, a},
		{"GET", "/schemas/types", h_types, a},
		{"GET", "/schemas/ids/{id}", h_id, a},
		{"GET", "/schemas/ids/{id}/schema", h_id_schema, a},
		{"GET", "/schemas/ids/{id}/subjects", h_id_subjects, a},
		{"GET", "/schemas/ids/{id}/versions", h_id_versions, a},
		{"GET", "/subjects", h_subjects, a},
		{"POST", "/subjects/{subject}", h_lookup, a},
		{"DELETE", "/subjects/{subject}", h_delete_subject, a},
		{"GET", "/subjects/{subject}/versions", h_versions, a},
		{"POST", "/subjects/{subject}/versions", h_register, a},
		{"GET", "/subjects/{subject}/versions/{version}", h_version, a},
		{"DELETE", "/subjects/{subject}/versions/{version}", h_delete_version, a},
		{"GET", "/subjects/{subject}/versions/{version}/schema", h_version_schema, a},
		{"GET", "/subjects/{subject}/versions/{version}/referencedby", h_referenced_by, a},
		{"POST", "/compatibility/subjects/{subject}/versions/{version}", h_compat, a},
		{"POST", "/compatibility/subjects/{subject}/versions", h_compat, a},
		{"GET", "/config", h_config_get, a},
		{"PUT", "/config", h_config_put, a},
		{"DELETE", "/config", h_config_delete, a},
		{"GET", "/config/{subject}", h_config_get, a},
		{"PUT", "/config/{subject}", h_config_put, a},
		{"DELETE", "/config/{subject}", h_config_delete, a},
	};
	brook_httpd_opts o = {.host = host, .port = port, .threads = 4,
			      .max_body_bytes = 8u << 20, .component = COMP};
	a->httpd = brook_httpd_open(&o, routes, sizeof routes / sizeof routes[0], err, errlen);
	if (!a->httpd) {
		pthread_mutex_destroy(&a->write_mu);
		free(a);
		return NULL;
	}
	return a;
}

int reg_api_port(const reg_api *a)
{
	return brook_httpd_port(a->httpd);
}

void reg_api_close(reg_api *a)
{
	if (!a)
		return;
	brook_httpd_close(a->httpd);
	pthread_mutex_destroy(&a->write_mu);
	free(a);
}
