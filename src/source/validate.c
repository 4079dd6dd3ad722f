/*
 * validate.c — what a randomuser.me API 1.4 user must look like, and parsing of
 * whole responses.
 *
 * A user (one element of `results`) must have, with these types:
 *
 *   gender                      "male" | "female"
 *   name.{title,first,last}     strings
 *   location.street.number      integer;   location.street.name  string
 *   location.{city,state,country} strings; location.postcode     string or integer
 *   location.coordinates.{latitude,longitude}  strings holding numbers within
 *                               [-90,90] / [-180,180]
 *   location.timezone.offset    "[+-]H:MM" or "[+-]HH:MM" (e.g. "+5:30", "0:00")
 *   location.timezone.description string
 *   email                       string with one '@' not at either end
 *   login.uuid                  a UUID (8-4-4-4-12 hex)
 *   login.{username,password,salt} strings
 *   login.md5/sha1/sha256       lower-case hex of 32/40/64 digits, each equal to the
 *                               digest of password + salt (concatenated)
 *   dob, registered             {date: ISO-8601 string, age: integer >= 0}
 *   phone, cell                 strings
 *   id.name                     string;    id.value              string or null
 *   picture.{large,medium,thumbnail}  http(s) URLs
 *   nat                         two upper-case letters
 *
 * Other keys are allowed (the API may grow). Checks run in the order above and stop
 * at the first defect, whose path and problem become the reason.
 *
 * Response bodies are checked for size and nesting depth with one linear scan
 * before jansson parses them, so hostile input cannot make the parser recurse deep
 * or allocate without bound.
 */
#include "source/validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/uuid.h"

/* A failed check: write "path: message" and return BROOK_ERR. */
static int fail(char *reason, size_t len, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *reason, size_t len, const char *path, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(reason, len, "%s: %s", path, msg);
	return BROOK_ERR;
}

/* Look up a dotted path ("location.street.number") below obj. NULL when absent or
 * when an intermediate is not an object. */
static json_t *get_path(const json_t *obj, const char *path)
{
	char key[64];
	const char *p = path;

	while (obj) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key || !json_is_object(obj))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		if (!dot)
			return (json_t *)obj;
		p = dot + 1;
	}
	return NULL;
}

/* Fetch a field of the given jansson type; on failure fill reason. */
static json_t *want(const json_t *user, const char *path, json_type type, char *reason,
		    size_t len)
{
	json_t *v = get_path(user, path);
	static const char *names[] = {
		[JSON_OBJECT] = "object", [JSON_ARRAY] = "array",   [JSON_STRING] = "string",
		[JSON_INTEGER] = "integer", [JSON_REAL] = "number", [JSON_TRUE] = "boolean",
		[JSON_FALSE] = "boolean",  [JSON_NULL] = "null",
	};

	if (!v) {
		fail(reason, len, path, "missing");
		return NULL;
	}
	if (json_typeof(v) != type) {
		fail(reason, len, path, "expected %s", names[type]);
		return NULL;
	}
	return v;
}

static const char *want_str(const json_t *user, const char *path, char *reason, size_t len)
{
	json_t *v = want(user, path, JSON_STRING, reason, len);
	return v ? json_string_value(v) : NULL;
}

static int is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "+5:30", "-3:00", "0:00", "+10:00" */
static int is_tz_offset(const char *s)
{
	size_t i = 0, h = 0;

	if (s[i] == '+' || s[i] == '-')
		i++;
	while (isdigit((unsigned char)s[i]) && h < 3)
		i++, h++;
	if (h < 1 || h > 2 || s[i] != ':')
		return 0;
	i++;
	if (!isdigit((unsigned char)s[i]) || !isdigit((unsigned char)s[i + 1]) || s[i + 2])
		return 0;
	return (s[i] - '0') < 6;
}

static int check_coordinate(const json_t *user, const char *path, double limit, char *reason,
			    size_t len)
{
	const char *s = want_str(user, path, reason, len);
	char *end;
	double v;

	if (!s)
		return BROOK_ERR;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
		return fail(reason, len, path, "not a number");
	if (v < -limit || v > limit)
		return fail(reason, len, path, "%s is out of range [-%g, %g]", s, limit, limit);
	return BROOK_OK;
}

static int check_date_age(const json_t *user, const char *obj, char *reason, size_t len)
{
	char path[32];
	const char *date;
	json_t *age;
	int64_t ms;

	snprintf(path, sizeof path, "%s.date", obj);
	if (!(date = want_str(user, path, reason, len)))
		return BROOK_ERR;
	if (brook_time_parse_iso8601(date, &ms) != BROOK_OK)
		return fail(reason, len, path, "not an ISO-8601 timestamp");
	snprintf(path, sizeof path, "%s.age", obj);
	if (!(age = want(user, path, JSON_INTEGER, reason, len)))
		return BROOK_ERR;
	if (json_integer_value(age) < 0)
		return fail(reason, len, path, "negative");
	return BROOK_OK;
}

static int check_url(const json_t *user, const char *path, char *reason, size_t len)
{
	const char *s = want_str(user, path, reason, len);

	if (!s)
		return BROOK_ERR;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return fail(reason, len, path, "not an http(s) URL");
	return BROOK_OK;
}

/* Hex digest of password + salt with md. */
static void digest_hex(const EVP_MD *md, const char *a, const char *b, char *hex)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t la = strlen(a), lb = strlen(b);
	char *cat = brook_malloc(la + lb + 1);

	memcpy(cat, a, la);
	memcpy(cat + la, b, lb);
	EVP_Digest(cat, la + lb, out, &n, md, NULL);
	free(cat);
	for (unsigned int i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", out[i]);
	hex[2 * n] = '\0';
}

static int check_login(const json_t *user, char *reason, size_t len)
{
	static const struct {
		const char *path;
		size_t hexlen;
		const EVP_MD *(*md)(void);
		const char *name;
	} hashes[] = {
		{"login.md5", 32, EVP_md5, "md5"},
		{"login.sha1", 40, EVP_sha1, "sha1"},
		{"login.sha256", 64, EVP_sha256, "sha256"},
	};
	const char *uuid, *password, *salt;
	brook_uuid u;

	if (!(uuid = want_str(user, "login.uuid", reason, len)))
		return BROOK_ERR;
	if (brook_uuid_parse(uuid, strlen(uuid), &u) != BROOK_OK)
		return fail(reason, len, "login.uuid", "not a UUID");
	if (!want_str(user, "login.username", reason, len) ||
	    !(password = want_str(user, "login.password", reason, len)) ||
	    !(salt = want_str(user, "login.salt", reason, len)))
		return BROOK_ERR;
	for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		const char *h = want_str(user, hashes[i].path, reason, len);
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		if (!h)
			return BROOK_ERR;
		if (!is_lower_hex(h, hashes[i].hexlen))
			return fail(reason, len, hashes[i].path,
				    "expected %zu lower-case hex digits", hashes[i].hexlen);
		digest_hex(hashes[i].md(), password, salt, hex);
		if (strcmp(hex, h) != 0)
			return fail(reason, len, hashes[i].path,
				    "does not match %s(password + salt)", hashes[i].name);
	}
	return BROOK_OK;
}

int source_validate_user(const json_t *user, char *reason, size_t len)
{
	static const char *const strings1[] = {
		"name.title", "name.first", "name.last", "location.street.name",
		"location.city", "location.state", "location.country", NULL,
	};
	static const char *const strings2[] = {"phone", "cell", "id.name", NULL};
	const char *s;
	json_t *v;

	if (!json_is_object(user))
		return fail(reason, len, "user", "expected object");
	if (!(s = want_str(user, "gender", reason, len)))
		return BROOK_ERR;
	if (strcmp(s, "male") != 0 && strcmp(s, "female") != 0)
		return fail(reason, len, "gender", "expected \"male\" or \"female\"");
	for (size_t i = 0; strings1[i]; i++) {
		if (!want_str(user, strings1[i], reason, len))
			return BROOK_ERR;
		if (i == 2 && !want(user, "location.street.number", JSON_INTEGER, reason, len))
			return BROOK_ERR;
	}
	v = get_path(user, "location.postcode");
	if (!v)
		return fail(reason, len, "location.postcode", "missing");
	if (!json_is_string(v) && !json_is_integer(v))
		return fail(reason, len, "location.postcode", "expected string or integer");
	if (check_coordinate(user, "location.coordinates.latitude", 90, reason, len) ||
	    check_coordinate(user, "location.coordinates.longitude", 180, reason, len))
		return BROOK_ERR;
	if (!(s = want_str(user, "location.timezone.offset", reason, len)))
		return BROOK_ERR;
	if (!is_tz_offset(s))
		return fail(reason, len, "location.timezone.offset", "not an offset like +5:30");
	if (!want_str(user, "location.timezone.description", reason, len))
		return BROOK_ERR;
	if (!(s = want_str(user, "email", reason, len)))
		return BROOK_ERR;
	const char *at = strchr(s, '@');
	if (!at || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return fail(reason, len, "email", "not an e-mail address");
	if (check_login(user, reason, len) || check_date_age(user, "dob", reason, len) ||
	    check_date_age(user, "registered", reason, len))
		return BROOK_ERR;
	for (size_t i = 0; strings2[i]; i++)
		if (!want_str(user, strings2[i], reason, len))
			return BROOK_ERR;
	v = get_path(user, "id.value");
	if (!v)
		return fail(reason, len, "id.value", "missing");
	if (!json_is_string(v) && !json_is_null(v))
		return fail(reason, len, "id.value", "expected string or null");
	if (check_url(user, "picture.large", reason, len) ||
	    check_url(user, "picture.medium", reason, len) ||
	    check_url(user, "picture.thumbnail", reason, len))
		return BROOK_ERR;
	if (!(s = want_str(user, "nat", reason, len)))
		return BROOK_ERR;
	if (strlen(s) != 2 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]))
		return fail(reason, len, "nat", "expected two upper-case letters");
	return BROOK_OK;
}

/* Deepest nesting of [ and { outside strings; stops counting past limit. */
static int json_depth_exceeds(const char *s, size_t n, int limit)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > limit)
				return 1;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

static void add_reason(source_response *resp, size_t index, const char *reason)
{
	char line[320];

	resp->nrejected++;
	if (resp->nreasons >= SOURCE_MAX_REASONS)
		return;
	snprintf(line, sizeof line, "results[%zu]: %s", index, reason);
	resp->reasons[resp->nreasons++] = brook_strdup(line);
}

int source_parse_response(const char *body, size_t len, source_response *resp, char *err,
			  size_t errlen)
{
	json_error_t jerr;
	json_t *root, *results, *info, *v;
	char reason[256];
	int rc = BROOK_ERR;

	memset(resp, 0, sizeof *resp);
	if (len == 0) {
		snprintf(err, errlen, "empty response body");
		return BROOK_ERR;
	}
	if (len > SOURCE_MAX_RESPONSE_BYTES) {
		snprintf(err, errlen, "response body of %zu bytes exceeds %u bytes", len,
			 SOURCE_MAX_RESPONSE_BYTES);
		return BROOK_ERR;
	}
	if (json_depth_exceeds(body, len, SOURCE_MAX_JSON_DEPTH)) {
		snprintf(err, errlen, "response JSON nests deeper than %d levels",
			 SOURCE_MAX_JSON_DEPTH);
		return BROOK_ERR;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "response is not JSON: %s at line %d column %d", jerr.text,
			 jerr.line, jerr.column);
		return BROOK_ERR;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "response is not a JSON object");
		goto out;
	}
	v = json_object_get(root, "error");
	if (v) {
		resp->api_error = 1;
		snprintf(err, errlen, "%s",
			 json_is_string(v) ? json_string_value(v) : "error without a message");
		goto out;
	}
	results = json_object_get(root, "results");
	info = json_object_get(root, "info");
	if (!json_is_array(results)) {
		snprintf(err, errlen, "response has no \"results\" array");
		goto out;
	}
	if (!json_is_object(info)) {
		snprintf(err, errlen, "response has no \"info\" object");
		goto out;
	}
	v = json_object_get(info, "seed");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "info.seed: %s", v ? "expected string" : "missing");
		goto out;
	}
	resp->seed = brook_strdup(json_string_value(v));
	v = json_object_get(info, "results");
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "info.results: %s", v ? "expected integer" : "missing");
		goto out;
	}
	resp->results = json_integer_value(v);
	v = json_object_get(info, "page");
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "info.page: %s", v ? "expected integer" : "missing");
		goto out;
	}
	resp->page = json_integer_value(v);
	v = json_object_get(info, "version");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "info.version: %s", v ? "expected string" : "missing");
		goto out;
	}
	resp->version = brook_strdup(json_string_value(v));

	size_t n = json_array_size(results), i;
	json_t *user;
	resp->records = brook_calloc(n ? n : 1, sizeof *resp->records);
	json_array_foreach(results, i, user) {
		if (source_validate_user(user, reason, sizeof reason) != BROOK_OK) {
			add_reason(resp, i, reason);
			continue;
		}
		char *line = json_dumps(user, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!line) {
			add_reason(resp, i, "cannot be serialised (invalid UTF-8?)");
			continue;
		}
		resp->records[resp->nrecords++] = line;
	}
	rc = BROOK_OK;
out:
	json_decref(root);
	return rc;
}

void source_response_release(source_response *resp)
{
	for (size_t i = 0; i < resp->nrecords; i++)
		free(resp->records[i]);
	free(resp->records);
	for (size_t i = 0; i < resp->nreasons; i++)
		free(resp->reasons[i]);
	free(resp->seed);
	free(resp->version);
	memset(resp, 0, sizeof *resp);
}
