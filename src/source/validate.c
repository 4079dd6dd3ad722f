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
 * before jansson parses anything, so hostile input cannot make the parser recurse
 * deep or allocate without bound. jansson then never sees the whole body: the
 * response scanner (below) hands it one value at a time — each user, `info`, other
 * top-level members — and keeps a valid user's compact source text as its record.
 */
#include "source/validate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
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

/*
 * Digests. EVP_md5() and friends make OpenSSL 3 fetch the implementation on every
 * EVP_Digest call, so the three are fetched once (pthread_once) and each thread
 * reuses one EVP_MD_CTX (a pthread key; the context is freed when the thread exits).
 */
static EVP_MD *md_md5, *md_sha1, *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_ctx_key;

static void md_ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void md_init(void)
{
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!md_md5 || !md_sha1 || !md_sha256 || pthread_key_create(&md_ctx_key, md_ctx_free))
		abort();
}

static EVP_MD_CTX *md_ctx(void)
{
	EVP_MD_CTX *ctx = pthread_getspecific(md_ctx_key);

	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (!ctx || pthread_setspecific(md_ctx_key, ctx))
			abort();
	}
	return ctx;
}

/* Whether hex (lower case, 2 * digest size digits) is md(password + salt). */
static int digest_matches(EVP_MD_CTX *ctx, const EVP_MD *md, const char *password,
			  const char *salt, const char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_DigestInit_ex2(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, password, strlen(password)) ||
	    !EVP_DigestUpdate(ctx, salt, strlen(salt)) || !EVP_DigestFinal_ex(ctx, out, &n))
		abort();
	for (unsigned int i = 0; i < n; i++)
		if (hex[2 * i] != digits[out[i] >> 4] || hex[2 * i + 1] != digits[out[i] & 15])
			return 0;
	return 1;
}

static int check_login(const json_t *user, char *reason, size_t len)
{
	static const struct {
		const char *path;
		size_t hexlen;
		EVP_MD **md;
		const char *name;
	} hashes[] = {
		{"login.md5", 32, &md_md5, "md5"},
		{"login.sha1", 40, &md_sha1, "sha1"},
		{"login.sha256", 64, &md_sha256, "sha256"},
	};
	const char *uuid, *password, *salt;
	EVP_MD_CTX *ctx;
	brook_uuid u;

	if (!(uuid = want_str(user, "login.uuid", reason, len)))
		return BROOK_ERR;
	if (brook_uuid_parse(uuid, strlen(uuid), &u) != BROOK_OK)
		return fail(reason, len, "login.uuid", "not a UUID");
	if (!want_str(user, "login.username", reason, len) ||
	    !(password = want_str(user, "login.password", reason, len)) ||
	    !(salt = want_str(user, "login.salt", reason, len)))
		return BROOK_ERR;
	pthread_once(&md_once, md_init);
	ctx = md_ctx();
	for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		const char *h = want_str(user, hashes[i].path, reason, len);
		if (!h)
			return BROOK_ERR;
		if (!is_lower_hex(h, hashes[i].hexlen))
			return fail(reason, len, hashes[i].path,
				    "expected %zu lower-case hex digits", hashes[i].hexlen);
		if (!digest_matches(ctx, *hashes[i].md, password, salt, h))
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

/*
 * The response scanner.
 *
 * One pass over the body finds the top-level members; each member's value is cut
 * out as a span (strings skipped with their escapes, brackets counted) and given,
 * as written, to jansson alone. Elements of `results` are parsed, validated and freed
 * one by one; a valid element's record is its own text with the whitespace outside
 * strings dropped (once jansson has accepted it: "1 01" must stay an error), so no
 * big tree is ever built nor re-serialised. The scanner itself checks the grammar between spans
 * (braces, keys, ':' and ',', nothing after the object) and duplicate top-level
 * keys (decoded, in a jansson object used as a set); jansson checks each span is
 * exactly one valid value, duplicate keys inside included. So the body is accepted
 * exactly when it is one valid JSON object without duplicate keys, as before.
 * Depth is bounded by json_depth_exceeds() before the scan starts.
 */
typedef struct resp_scan {
	const char *s;
	size_t n, i;
	int ws;               /* the last span scanned holds whitespace outside strings */
	json_t *keys;         /* top-level keys seen */
	json_t *info, *error, *results_other; /* values kept for the checks after the scan */
	int results_array;    /* `results` was an array (its elements are in resp) */
	size_t cap;           /* capacity of resp->records */
	char *err;
	size_t errlen;
} resp_scan;

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(resp_scan *sc)
{
	while (sc->i < sc->n && is_ws(sc->s[sc->i]))
		sc->i++;
}

/* "response is not JSON: what at line L column C" for byte offset off of the body. */
static int not_json(resp_scan *sc, size_t off, const char *what)
{
	size_t line = 1, col = 1;

	if (off > sc->n)
		off = sc->n;
	for (size_t k = 0; k < off; k++) {
		if (sc->s[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(sc->err, sc->errlen, "response is not JSON: %s at line %zu column %zu", what,
		 line, col);
	return BROOK_ERR;
}

/* Past the string literal starting at sc->i (a '"'): memchr to each quote, an odd
 * run of backslashes before it escapes it. */
static int skip_string(resp_scan *sc)
{
	const char *s = sc->s, *q;
	size_t i = sc->i + 1;

	while (i < sc->n && (q = memchr(s + i, '"', sc->n - i))) {
		size_t k = (size_t)(q - s), bs = 0;
		while (k - bs > sc->i + 1 && s[k - bs - 1] == '\\')
			bs++;
		i = k + 1;
		if (bs % 2 == 0) {
			sc->i = i;
			return BROOK_OK;
		}
	}
	return not_json(sc, sc->n, "premature end of input");
}

/* Find the end of the value starting at sc->i (no whitespace before it); sc->i ends
 * just past it and sc->ws says whether it holds whitespace outside strings. Only the
 * span is found here; jansson judges its content. */
static int scan_value(resp_scan *sc)
{
	const char *s = sc->s;
	size_t n = sc->n, start = sc->i;
	int depth = 0;

	sc->ws = 0;
	if (sc->i >= n)
		return not_json(sc, n, "premature end of input");
	if (s[sc->i] == '"')
		return skip_string(sc);
	if (s[sc->i] != '{' && s[sc->i] != '[') {
		while (sc->i < n && !is_ws(s[sc->i]) && s[sc->i] != ',' && s[sc->i] != ']' &&
		       s[sc->i] != '}')
			sc->i++;
		if (sc->i == start)
			return not_json(sc, start, "expected a value");
		return BROOK_OK;
	}
	for (;;) {
		char c;
		if (sc->i >= n)
			return not_json(sc, n, "premature end of input");
		c = s[sc->i];
		if (c == '"') {
			if (skip_string(sc) != BROOK_OK)
				return BROOK_ERR;
			continue;
		}
		sc->i++;
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return BROOK_OK;
		else if (is_ws(c))
			sc->ws = 1;
	}
}

/* jansson's verdict on the span [start, sc->i) of the body, as written. */
static json_t *load_span(resp_scan *sc, size_t start)
{
	json_error_t jerr;
	json_t *v = json_loadb(sc->s + start, sc->i - start,
			       JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);

	if (!v)
		not_json(sc, start + (size_t)(jerr.position > 0 ? jerr.position - 1 : 0),
			 jerr.text);
	return v;
}

/* The record of the valid value [start, sc->i): its bytes without the whitespace
 * outside strings. The value is valid JSON, so that whitespace only separates
 * tokens, and dropping it keeps the meaning. */
static char *compact_span(const resp_scan *sc, size_t start)
{
	const char *s = sc->s;
	char *out = brook_malloc(sc->i - start + 1);
	size_t o = 0;

	if (!sc->ws) {
		memcpy(out, s + start, sc->i - start);
		out[sc->i - start] = '\0';
		return out;
	}
	for (size_t k = start; k < sc->i; k++) {
		char c = s[k];
		if (is_ws(c))
			continue;
		out[o++] = c;
		if (c != '"')
			continue;
		for (k++; s[k] != '"'; k++) {
			out[o++] = s[k];
			if (s[k] == '\\')
				out[o++] = s[++k];
		}
		out[o++] = '"';
	}
	out[o] = '\0';
	return out;
}

/* The elements of `results`; sc->i is at its '['. */
static int scan_results(resp_scan *sc, source_response *resp)
{
	char reason[256];
	size_t index = 0;

	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->n && sc->s[sc->i] == ']') {
		sc->i++;
		return BROOK_OK;
	}
	for (;;) {
		size_t start = sc->i;
		json_t *user;

		if (scan_value(sc) != BROOK_OK || !(user = load_span(sc, start)))
			return BROOK_ERR;
		if (source_validate_user(user, reason, sizeof reason) == BROOK_OK) {
			char *line = compact_span(sc, start);
			if (resp->nrecords == sc->cap) {
				sc->cap = sc->cap ? 2 * sc->cap : 64;
				resp->records = brook_realloc(resp->records,
							      sc->cap * sizeof *resp->records);
			}
			resp->records[resp->nrecords++] = line;
		} else {
			add_reason(resp, index, reason);
		}
		json_decref(user);
		index++;
		skip_ws(sc);
		if (sc->i < sc->n && sc->s[sc->i] == ',') {
			sc->i++;
			skip_ws(sc);
			continue;
		}
		if (sc->i < sc->n && sc->s[sc->i] == ']') {
			sc->i++;
			return BROOK_OK;
		}
		return not_json(sc, sc->i, sc->i < sc->n ? "expected ',' or ']'"
						      : "premature end of input");
	}
}

/* The top-level object; sc->i is at its '{'. */
static int scan_top(resp_scan *sc, source_response *resp)
{
	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->n && sc->s[sc->i] == '}') {
		sc->i++;
		goto end;
	}
	for (;;) {
		size_t start = sc->i;
		json_t *key, *v;
		const char *name;
		int which;

		if (sc->i >= sc->n || sc->s[sc->i] != '"')
			return not_json(sc, sc->i, sc->i < sc->n ? "string or '}' expected"
							      : "premature end of input");
		if (scan_value(sc) != BROOK_OK || !(key = load_span(sc, start)))
			return BROOK_ERR;
		name = json_string_value(key);
		if (json_object_get(sc->keys, name)) {
			json_decref(key);
			return not_json(sc, start, "duplicate object key");
		}
		json_object_set_new(sc->keys, name, json_true());
		which = strcmp(name, "results") == 0 ? 1 : strcmp(name, "info") == 0 ? 2
			: strcmp(name, "error") == 0 ? 3 : 0;
		json_decref(key);
		skip_ws(sc);
		if (sc->i >= sc->n || sc->s[sc->i] != ':')
			return not_json(sc, sc->i, sc->i < sc->n ? "':' expected"
							      : "premature end of input");
		sc->i++;
		skip_ws(sc);
		if (which == 1 && sc->i < sc->n && sc->s[sc->i] == '[') {
			sc->results_array = 1;
			if (scan_results(sc, resp) != BROOK_OK)
				return BROOK_ERR;
		} else {
			start = sc->i;
			if (scan_value(sc) != BROOK_OK || !(v = load_span(sc, start)))
				return BROOK_ERR;
			if (which == 1)
				sc->results_other = v;
			else if (which == 2)
				sc->info = v;
			else if (which == 3)
				sc->error = v;
			else
				json_decref(v);
		}
		skip_ws(sc);
		if (sc->i < sc->n && sc->s[sc->i] == ',') {
			sc->i++;
			skip_ws(sc);
			continue;
		}
		if (sc->i < sc->n && sc->s[sc->i] == '}') {
			sc->i++;
			break;
		}
		return not_json(sc, sc->i, sc->i < sc->n ? "',' or '}' expected"
						      : "premature end of input");
	}
end:
	skip_ws(sc);
	if (sc->i < sc->n)
		return not_json(sc, sc->i, "end of file expected");
	return BROOK_OK;
}

/* A body that does not start with '{': jansson says what it is, as before. */
static int not_an_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!root)
		snprintf(err, errlen, "response is not JSON: %s at line %d column %d", jerr.text,
			 jerr.line, jerr.column);
	else
		snprintf(err, errlen, "response is not a JSON object");
	json_decref(root);
	return BROOK_ERR;
}

/* The checks after a clean scan, in the order of the API's documentation. */
static int check_top(resp_scan *sc, source_response *resp, char *err, size_t errlen)
{
	json_t *info = sc->info, *v;

	if (sc->error) {
		resp->api_error = 1;
		snprintf(err, errlen, "%s",
			 json_is_string(sc->error) ? json_string_value(sc->error)
						   : "error without a message");
		return BROOK_ERR;
	}
	if (!sc->results_array) {
		snprintf(err, errlen, "response has no \"results\" array");
		return BROOK_ERR;
	}
	if (!json_is_object(info)) {
		snprintf(err, errlen, "response has no \"info\" object");
		return BROOK_ERR;
	}
	v = json_object_get(info, "seed");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "info.seed: %s", v ? "expected string" : "missing");
		return BROOK_ERR;
	}
	resp->seed = brook_strdup(json_string_value(v));
	v = json_object_get(info, "results");
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "info.results: %s", v ? "expected integer" : "missing");
		return BROOK_ERR;
	}
	resp->results = json_integer_value(v);
	v = json_object_get(info, "page");
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "info.page: %s", v ? "expected integer" : "missing");
		return BROOK_ERR;
	}
	resp->page = json_integer_value(v);
	v = json_object_get(info, "version");
	if (!json_is_string(v)) {
		snprintf(err, errlen, "info.version: %s", v ? "expected string" : "missing");
		return BROOK_ERR;
	}
	resp->version = brook_strdup(json_string_value(v));
	return BROOK_OK;
}

int source_parse_response(const char *body, size_t len, source_response *resp, char *err,
			  size_t errlen)
{
	resp_scan sc = {.s = body, .n = len, .err = err, .errlen = errlen};
	int rc;

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
	skip_ws(&sc);
	if (sc.i >= len || body[sc.i] != '{')
		return not_an_object(body, len, err, errlen);
	sc.keys = json_object();
	rc = scan_top(&sc, resp);
	if (rc == BROOK_OK)
		rc = check_top(&sc, resp, err, errlen);
	json_decref(sc.keys);
	json_decref(sc.info);
	json_decref(sc.error);
	json_decref(sc.results_other);
	if (rc != BROOK_OK) {
		int api_error = resp->api_error;
		source_response_release(resp);
		resp->api_error = api_error;
		return BROOK_ERR;
	}
	if (!resp->records)
		resp->records = brook_calloc(1, sizeof *resp->records);
	return BROOK_OK;
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
