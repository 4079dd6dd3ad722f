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
 * One validator, two extractors. The checks read a user_fields struct: for each
 * path above, whether it is present, its JSON type and its string or integer value
 * (a path whose intermediate is not an object is absent, as with a lookup).
 * source_validate_user() fills the struct from a jansson tree; source_parse_response()
 * fills it while yajl streams through the body, so no tree is built per user.
 *
 * The streaming parse (SAX). Response bodies are checked for size and nesting depth
 * with one linear scan first, so the parser never goes deeper than
 * SOURCE_MAX_JSON_DEPTH. yajl then parses the whole body once (comments, trailing
 * garbage, partial and multiple values off: strict RFC 8259), and the callbacks keep a
 * stack of frames, one per open object or array, each with its role:
 *
 *   F_TOP      the body's object; its keys `results`, `info` and `error` matter
 *   F_RESULTS  the top-level `results` array: each element is a user
 *   F_USER     an object inside a user on one of the paths above (node of the path
 *              tree); the user's own object has node 0
 *   F_INFO     the top-level `info` object (seed, results, page, version)
 *   F_OTHER    anything else: parsed and checked, otherwise ignored
 *
 * A key sets where the next value goes (the frame's target); the value's callback
 * stores it (type, decoded string or integer). When a user's object closes, the
 * validator runs on its struct and a valid user's record is its own bytes (the
 * offsets come from yajl_get_bytes_consumed) with the whitespace outside strings
 * removed. The body is accepted exactly when jansson (JSON_REJECT_DUPLICATES) would
 * accept it; what yajl lets through and jansson does not is checked here:
 *   - duplicate keys, decoded, in every object: a per-object list of the keys seen so
 *     far in an arena that grows and shrinks with the stack (a jansson object serves
 *     as the set once an object has more than SAX_LINEAR_KEYS keys);
 *   - strings: UTF-8 without overlong forms, surrogates or code points past U+10FFFF,
 *     no \u0000, surrogate escapes only in pairs (checked on the raw literal, found
 *     between the previous token's end and this one's);
 *   - integers beyond int64 and reals beyond double;
 *   - \v and \f, which yajl takes for whitespace, and NUL bytes (jansson 2.14
 *     ignores one after a number or a literal: a bug, not copied).
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
#include <yajl/yajl_parse.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/uuid.h"

/* The fields the validator reads, in the order it reads most of them. */
enum user_field_id {
	UF_GENDER, UF_NAME_TITLE, UF_NAME_FIRST, UF_NAME_LAST, UF_STREET_NUMBER,
	UF_STREET_NAME, UF_CITY, UF_STATE, UF_COUNTRY, UF_POSTCODE, UF_LATITUDE,
	UF_LONGITUDE, UF_TZ_OFFSET, UF_TZ_DESCRIPTION, UF_EMAIL, UF_UUID, UF_USERNAME,
	UF_PASSWORD, UF_SALT, UF_MD5, UF_SHA1, UF_SHA256, UF_DOB_DATE, UF_DOB_AGE,
	UF_REGISTERED_DATE, UF_REGISTERED_AGE, UF_PHONE, UF_CELL, UF_ID_NAME, UF_ID_VALUE,
	UF_PICTURE_LARGE, UF_PICTURE_MEDIUM, UF_PICTURE_THUMBNAIL, UF_NAT, UF_COUNT
};

static const char *const uf_path[UF_COUNT] = {
	[UF_GENDER] = "gender",
	[UF_NAME_TITLE] = "name.title",
	[UF_NAME_FIRST] = "name.first",
	[UF_NAME_LAST] = "name.last",
	[UF_STREET_NUMBER] = "location.street.number",
	[UF_STREET_NAME] = "location.street.name",
	[UF_CITY] = "location.city",
	[UF_STATE] = "location.state",
	[UF_COUNTRY] = "location.country",
	[UF_POSTCODE] = "location.postcode",
	[UF_LATITUDE] = "location.coordinates.latitude",
	[UF_LONGITUDE] = "location.coordinates.longitude",
	[UF_TZ_OFFSET] = "location.timezone.offset",
	[UF_TZ_DESCRIPTION] = "location.timezone.description",
	[UF_EMAIL] = "email",
	[UF_UUID] = "login.uuid",
	[UF_USERNAME] = "login.username",
	[UF_PASSWORD] = "login.password",
	[UF_SALT] = "login.salt",
	[UF_MD5] = "login.md5",
	[UF_SHA1] = "login.sha1",
	[UF_SHA256] = "login.sha256",
	[UF_DOB_DATE] = "dob.date",
	[UF_DOB_AGE] = "dob.age",
	[UF_REGISTERED_DATE] = "registered.date",
	[UF_REGISTERED_AGE] = "registered.age",
	[UF_PHONE] = "phone",
	[UF_CELL] = "cell",
	[UF_ID_NAME] = "id.name",
	[UF_ID_VALUE] = "id.value",
	[UF_PICTURE_LARGE] = "picture.large",
	[UF_PICTURE_MEDIUM] = "picture.medium",
	[UF_PICTURE_THUMBNAIL] = "picture.thumbnail",
	[UF_NAT] = "nat",
};

#define UF_ABSENT (-1)

typedef struct user_field {
	int type;      /* json_type of the value, UF_ABSENT when the path is not there */
	const char *s; /* JSON_STRING: the decoded text, NUL-terminated (no NUL inside) */
	json_int_t i;  /* JSON_INTEGER: the value */
} user_field;

typedef struct user_fields {
	int is_object; /* the user itself is an object (else nothing else is set) */
	user_field f[UF_COUNT];
} user_fields;

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

/* The field id of the given type; on failure fill reason. */
static const user_field *want(const user_fields *u, int id, json_type type, char *reason,
			      size_t len)
{
	static const char *names[] = {
		[JSON_OBJECT] = "object", [JSON_ARRAY] = "array",   [JSON_STRING] = "string",
		[JSON_INTEGER] = "integer", [JSON_REAL] = "number", [JSON_TRUE] = "boolean",
		[JSON_FALSE] = "boolean",  [JSON_NULL] = "null",
	};
	const user_field *v = &u->f[id];

	if (v->type == UF_ABSENT) {
		fail(reason, len, uf_path[id], "missing");
		return NULL;
	}
	if (v->type != (int)type) {
		fail(reason, len, uf_path[id], "expected %s", names[type]);
		return NULL;
	}
	return v;
}

static const char *want_str(const user_fields *u, int id, char *reason, size_t len)
{
	const user_field *v = want(u, id, JSON_STRING, reason, len);
	return v ? v->s : NULL;
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

static int check_coordinate(const user_fields *u, int id, double limit, char *reason,
			    size_t len)
{
	const char *s = want_str(u, id, reason, len);
	char *end;
	double v;

	if (!s)
		return BROOK_ERR;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
		return fail(reason, len, uf_path[id], "not a number");
	if (v < -limit || v > limit)
		return fail(reason, len, uf_path[id], "%s is out of range [-%g, %g]", s, limit,
			    limit);
	return BROOK_OK;
}

static int check_date_age(const user_fields *u, int date_id, int age_id, char *reason,
			  size_t len)
{
	const user_field *age;
	const char *date;
	int64_t ms;

	if (!(date = want_str(u, date_id, reason, len)))
		return BROOK_ERR;
	if (brook_time_parse_iso8601(date, &ms) != BROOK_OK)
		return fail(reason, len, uf_path[date_id], "not an ISO-8601 timestamp");
	if (!(age = want(u, age_id, JSON_INTEGER, reason, len)))
		return BROOK_ERR;
	if (age->i < 0)
		return fail(reason, len, uf_path[age_id], "negative");
	return BROOK_OK;
}

static int check_url(const user_fields *u, int id, char *reason, size_t len)
{
	const char *s = want_str(u, id, reason, len);

	if (!s)
		return BROOK_ERR;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return fail(reason, len, uf_path[id], "not an http(s) URL");
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

static int check_login(const user_fields *u, char *reason, size_t len)
{
	static const struct {
		int id;
		size_t hexlen;
		EVP_MD **md;
		const char *name;
	} hashes[] = {
		{UF_MD5, 32, &md_md5, "md5"},
		{UF_SHA1, 40, &md_sha1, "sha1"},
		{UF_SHA256, 64, &md_sha256, "sha256"},
	};
	const char *uuid, *password, *salt;
	EVP_MD_CTX *ctx;
	brook_uuid id;

	if (!(uuid = want_str(u, UF_UUID, reason, len)))
		return BROOK_ERR;
	if (brook_uuid_parse(uuid, strlen(uuid), &id) != BROOK_OK)
		return fail(reason, len, uf_path[UF_UUID], "not a UUID");
	if (!want_str(u, UF_USERNAME, reason, len) ||
	    !(password = want_str(u, UF_PASSWORD, reason, len)) ||
	    !(salt = want_str(u, UF_SALT, reason, len)))
		return BROOK_ERR;
	pthread_once(&md_once, md_init);
	ctx = md_ctx();
	for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		const char *h = want_str(u, hashes[i].id, reason, len);
		if (!h)
			return BROOK_ERR;
		if (!is_lower_hex(h, hashes[i].hexlen))
			return fail(reason, len, uf_path[hashes[i].id],
				    "expected %zu lower-case hex digits", hashes[i].hexlen);
		if (!digest_matches(ctx, *hashes[i].md, password, salt, h))
			return fail(reason, len, uf_path[hashes[i].id],
				    "does not match %s(password + salt)", hashes[i].name);
	}
	return BROOK_OK;
}

/* The validator proper: BROOK_OK, or BROOK_ERR with the first defect in reason. */
static int validate_fields(const user_fields *u, char *reason, size_t len)
{
	static const int strings1[] = {
		UF_NAME_TITLE, UF_NAME_FIRST, UF_NAME_LAST, UF_STREET_NAME,
		UF_CITY,       UF_STATE,      UF_COUNTRY,
	};
	static const int strings2[] = {UF_PHONE, UF_CELL, UF_ID_NAME};
	const user_field *v;
	const char *s;

	if (!u->is_object)
		return fail(reason, len, "user", "expected object");
	if (!(s = want_str(u, UF_GENDER, reason, len)))
		return BROOK_ERR;
	if (strcmp(s, "male") != 0 && strcmp(s, "female") != 0)
		return fail(reason, len, "gender", "expected \"male\" or \"female\"");
	for (size_t i = 0; i < sizeof strings1 / sizeof strings1[0]; i++) {
		if (!want_str(u, strings1[i], reason, len))
			return BROOK_ERR;
		if (i == 2 && !want(u, UF_STREET_NUMBER, JSON_INTEGER, reason, len))
			return BROOK_ERR;
	}
	v = &u->f[UF_POSTCODE];
	if (v->type == UF_ABSENT)
		return fail(reason, len, "location.postcode", "missing");
	if (v->type != JSON_STRING && v->type != JSON_INTEGER)
		return fail(reason, len, "location.postcode", "expected string or integer");
	if (check_coordinate(u, UF_LATITUDE, 90, reason, len) ||
	    check_coordinate(u, UF_LONGITUDE, 180, reason, len))
		return BROOK_ERR;
	if (!(s = want_str(u, UF_TZ_OFFSET, reason, len)))
		return BROOK_ERR;
	if (!is_tz_offset(s))
		return fail(reason, len, "location.timezone.offset", "not an offset like +5:30");
	if (!want_str(u, UF_TZ_DESCRIPTION, reason, len))
		return BROOK_ERR;
	if (!(s = want_str(u, UF_EMAIL, reason, len)))
		return BROOK_ERR;
	const char *at = strchr(s, '@');
	if (!at || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return fail(reason, len, "email", "not an e-mail address");
	if (check_login(u, reason, len) ||
	    check_date_age(u, UF_DOB_DATE, UF_DOB_AGE, reason, len) ||
	    check_date_age(u, UF_REGISTERED_DATE, UF_REGISTERED_AGE, reason, len))
		return BROOK_ERR;
	for (size_t i = 0; i < sizeof strings2 / sizeof strings2[0]; i++)
		if (!want_str(u, strings2[i], reason, len))
			return BROOK_ERR;
	v = &u->f[UF_ID_VALUE];
	if (v->type == UF_ABSENT)
		return fail(reason, len, "id.value", "missing");
	if (v->type != JSON_STRING && v->type != JSON_NULL)
		return fail(reason, len, "id.value", "expected string or null");
	if (check_url(u, UF_PICTURE_LARGE, reason, len) ||
	    check_url(u, UF_PICTURE_MEDIUM, reason, len) ||
	    check_url(u, UF_PICTURE_THUMBNAIL, reason, len))
		return BROOK_ERR;
	if (!(s = want_str(u, UF_NAT, reason, len)))
		return BROOK_ERR;
	if (strlen(s) != 2 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]))
		return fail(reason, len, "nat", "expected two upper-case letters");
	return BROOK_OK;
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

/* The tree extractor. */
static void fields_from_tree(const json_t *user, user_fields *u)
{
	u->is_object = json_is_object(user);
	for (int k = 0; k < UF_COUNT; k++) {
		json_t *v = u->is_object ? get_path(user, uf_path[k]) : NULL;
		u->f[k].type = v ? (int)json_typeof(v) : UF_ABSENT;
		u->f[k].s = json_is_string(v) ? json_string_value(v) : NULL;
		u->f[k].i = json_is_integer(v) ? json_integer_value(v) : 0;
	}
}

int source_validate_user(const json_t *user, char *reason, size_t len)
{
	user_fields u;

	fields_from_tree(user, &u);
	return validate_fields(&u, reason, len);
}

/*
 * The tree of the paths the validator reads, for the streaming extractor: node 0 is
 * the user's object, interior nodes are objects on the way, leaves are fields. Built
 * once from uf_path.
 */
#define PN_MAX 64
#define PN_CHILDREN 16

typedef struct path_node {
	const char *key; /* points into uf_path */
	size_t klen;
	int field;       /* leaf: its field id; -1 for an object on the way */
	int nchild;
	unsigned char child[PN_CHILDREN];
} path_node;

static path_node pnodes[PN_MAX];
static int npnodes;
static pthread_once_t pn_once = PTHREAD_ONCE_INIT;

/* The child of node named key (n bytes), or -1. */
static int pn_child(int node, const void *key, size_t n)
{
	const path_node *p = &pnodes[node];

	for (int k = 0; k < p->nchild; k++) {
		const path_node *c = &pnodes[p->child[k]];
		if (c->klen == n && memcmp(c->key, key, n) == 0)
			return p->child[k];
	}
	return -1;
}

static void pn_init(void)
{
	pnodes[0].field = -1;
	npnodes = 1;
	for (int f = 0; f < UF_COUNT; f++) {
		const char *p = uf_path[f];
		int node = 0;
		for (;;) {
			const char *dot = strchr(p, '.');
			size_t n = dot ? (size_t)(dot - p) : strlen(p);
			int c = pn_child(node, p, n);
			if (c < 0) {
				if (npnodes == PN_MAX || pnodes[node].nchild == PN_CHILDREN)
					abort(); /* the tables above outgrew PN_MAX/PN_CHILDREN */
				c = npnodes++;
				pnodes[c].key = p;
				pnodes[c].klen = n;
				pnodes[c].field = dot ? -1 : f;
				pnodes[node].child[pnodes[node].nchild++] = (unsigned char)c;
			}
			if (!dot)
				break;
			node = c;
			p = dot + 1;
		}
	}
}

/* Offset of the quote that closes the string whose text starts at i (just past its
 * opening quote), or n: memchr to each quote; an odd run of backslashes before it
 * escapes it. */
static size_t string_close(const char *s, size_t i, size_t n)
{
	size_t from = i;

	for (;;) {
		const char *q = memchr(s + i, '"', n - i);
		size_t k, bs = 0;
		if (!q)
			return n;
		k = (size_t)(q - s);
		while (k - bs > from && s[k - bs - 1] == '\\')
			bs++;
		if (bs % 2 == 0)
			return k;
		i = k + 1;
	}
}

/* Deepest nesting of [ and { outside strings; stops counting past limit. */
static int json_depth_exceeds(const char *s, size_t n, int limit)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			i = string_close(s, i + 1, n);
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

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* "response is not JSON: what at line L column C" for byte offset off of the body. */
static int not_json(const char *s, size_t n, size_t off, const char *what, char *err,
		    size_t errlen)
{
	size_t line = 1, col = 1;

	if (off > n)
		off = n;
	for (size_t k = 0; k < off; k++) {
		if (s[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(err, errlen, "response is not JSON: %s at line %zu column %zu", what, line,
		 col);
	return BROOK_ERR;
}

/* The record of the valid value [start, end) of s: its bytes without the whitespace
 * outside strings. The value is valid JSON, so that whitespace only separates
 * tokens, and dropping it keeps the meaning. */
static char *compact_span(const char *s, size_t start, size_t end)
{
	char *out = brook_malloc(end - start + 1);
	size_t o = 0;

	for (size_t k = start; k < end; k++) {
		char c = s[k];
		if (is_ws(c))
			continue;
		if (c != '"') {
			out[o++] = c;
			continue;
		}
		/* a string, quotes included, in one copy */
		size_t close = string_close(s, k + 1, end);
		if (close == end)
			abort(); /* the value was parsed as valid JSON: its strings close */
		memcpy(out + o, s + k, close + 1 - k);
		o += close + 1 - k;
		k = close;
	}
	out[o] = '\0';
	return out;
}

/* Length of the UTF-8 sequence at p (n bytes left) if jansson accepts it, else 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t v;

	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[k] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (len == 3 && v < 0x800) ||
	    (len == 4 && v < 0x10000))
		return 0;
	return len;
}

static unsigned hex4(const unsigned char *p)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		unsigned char c = p[k];
		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* The defect of a string literal's raw text p[0, n) (between its quotes) that yajl
 * lets through and jansson does not; *off is its offset. NULL when there is none.
 * yajl has checked the escape syntax (\u with four hex digits) and control bytes. */
static const char *raw_string_defect(const unsigned char *p, size_t n, size_t *off)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	size_t i = 0;

	while (i < n) {
		unsigned char c;
		if (n - i >= 8) {
			/* eight bytes at once: none >= 0x80, < 0x20 or a backslash */
			uint64_t w, bs;
			memcpy(&w, p + i, 8);
			bs = w ^ (ones * '\\');
			if (!((w | ((w - ones * 0x20) & ~w) | ((bs - ones) & ~bs)) & high)) {
				i += 8;
				continue;
			}
		}
		c = p[i];
		if (c >= 0x20 && c < 0x80 && c != '\\') {
			i++;
			continue;
		}
		*off = i;
		if (c < 0x20)
			return "control character in a string";
		if (c >= 0x80) {
			size_t len = utf8_seq(p + i, n - i);
			if (!len)
				return "invalid UTF-8 in a string";
			i += len;
			continue;
		}
		if (i + 1 >= n)
			return "invalid escape";
		if (p[i + 1] != 'u') {
			i += 2;
			continue;
		}
		if (i + 6 > n)
			return "invalid escape";
		unsigned v = hex4(p + i + 2);
		if (v == 0)
			return "\\u0000 is not allowed";
		if (v >= 0xDC00 && v <= 0xDFFF)
			return "invalid Unicode escape (lone low surrogate)";
		if (v >= 0xD800 && v <= 0xDBFF) {
			if (i + 12 > n || p[i + 6] != '\\' || p[i + 7] != 'u')
				return "invalid Unicode escape (lone high surrogate)";
			unsigned w = hex4(p + i + 8);
			if (w < 0xDC00 || w > 0xDFFF)
				return "invalid Unicode escape (bad surrogate pair)";
			i += 12;
			continue;
		}
		i += 6;
	}
	return NULL;
}

/*
 * The streaming extractor's state.
 */
#define SAX_MAX_DEPTH (SOURCE_MAX_JSON_DEPTH + 1)
#define SAX_LINEAR_KEYS 16 /* keys compared one by one; past that, a jansson set */

enum { F_OTHER, F_TOP, F_RESULTS, F_USER, F_INFO };
/* where a value goes */
enum { T_NONE, T_TOP, T_RESULTS, T_INFO, T_ERROR, T_USER, T_NODE, T_FIELD, T_INFO_FIELD };
enum { INFO_SEED, INFO_RESULTS, INFO_PAGE, INFO_VERSION, INFO_COUNT };

typedef struct sax_frame {
	int map;        /* an object (else an array) */
	int role;       /* F_* */
	int node;       /* F_USER: the path node of this object */
	int tkind;      /* object: where the value of the current key goes (T_*) */
	int targ;       /* ... its node, field or info member */
	size_t keys_off; /* object: length of the key arena when it opened */
	size_t nkeys;
	json_t *keyset; /* object with more than SAX_LINEAR_KEYS keys: all its keys */
} sax_frame;

typedef struct info_value {
	int type; /* json_type or UF_ABSENT */
	char *s;  /* malloc'd */
	json_int_t i;
} info_value;

typedef struct sax {
	yajl_handle h;
	const char *s;          /* the body */
	size_t n;
	size_t prev_end;        /* offset just past the previous token with a callback */
	size_t top_end;         /* offset just past the body's object, once closed */
	int finishing;          /* inside yajl_complete_parse: offsets are not the body's */
	sax_frame st[SAX_MAX_DEPTH];
	int depth;
	brook_buf keys;         /* per object: {u32 len, u32 hash, bytes}, stack order */
	brook_buf num;          /* a real number's text, NUL-terminated for strtod */
	/* the current user */
	size_t user_start;
	size_t index;           /* of the current element of `results` */
	user_fields user;
	size_t soff[UF_COUNT];  /* string fields: offset of the text in ustr */
	brook_buf ustr;
	/* top level */
	int results_array, info_object;
	info_value info[INFO_COUNT];
	info_value error;
	source_response *resp;
	size_t cap;             /* capacity of resp->records */
	/* a defect found by a callback */
	const char *what;
	size_t what_off;
} sax;

/* Stop the parse: what is wrong at offset off of the body. */
static int sax_fail(sax *c, size_t off, const char *what)
{
	c->what = what;
	c->what_off = off;
	return 0;
}

static size_t sax_end(const sax *c)
{
	return yajl_get_bytes_consumed(c->h);
}

/* Where the value now starting goes. */
static void sax_target(const sax *c, int *kind, int *arg)
{
	const sax_frame *f;

	*arg = 0;
	if (c->depth == 0) {
		*kind = T_TOP;
		return;
	}
	f = &c->st[c->depth - 1];
	if (f->map) {
		*kind = f->tkind;
		*arg = f->targ;
	} else {
		*kind = f->role == F_RESULTS ? T_USER : T_NONE;
	}
}

static int sax_push(sax *c, int map, int role, int node)
{
	sax_frame *f;

	if (c->depth == SAX_MAX_DEPTH)
		return sax_fail(c, sax_end(c), "nesting too deep");
	f = &c->st[c->depth++];
	f->map = map;
	f->role = role;
	f->node = node;
	f->tkind = T_NONE;
	f->targ = 0;
	f->keys_off = c->keys.len;
	f->nkeys = 0;
	f->keyset = NULL;
	return 1;
}

static void sax_pop(sax *c)
{
	sax_frame *f = &c->st[--c->depth];

	json_decref(f->keyset);
	if (f->map)
		brook_buf_truncate(&c->keys, f->keys_off);
}

/* The raw literal of the string token that ends at the current offset: its first
 * quote is the first one after the previous token (only whitespace, ':' and ','
 * lie between). Checks what yajl does not; *start is the opening quote's offset. */
static int sax_check_string(sax *c, size_t *start)
{
	size_t end = sax_end(c), bad, q = c->prev_end;
	const char *what;

	while (q < end && c->s[q] != '"') /* a few bytes at most */
		q++;
	if (q + 2 > end)
		abort(); /* yajl reported a string token where there is none */
	*start = q;
	what = raw_string_defect((const unsigned char *)c->s + q + 1, end - 1 - (q + 1), &bad);
	if (what)
		return sax_fail(c, *start + 1 + bad, what);
	return 1;
}

static uint32_t key_hash(const unsigned char *k, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* Whether object f already has key k; records it if not. */
static int key_seen(sax *c, sax_frame *f, const unsigned char *k, size_t n)
{
	uint32_t hdr[2] = {(uint32_t)n, key_hash(k, n)};
	size_t off = f->keys_off;

	if (f->keyset) {
		if (json_object_getn(f->keyset, (const char *)k, n))
			return 1;
		json_object_setn_new_nocheck(f->keyset, (const char *)k, n, json_null());
		return 0;
	}
	while (off < c->keys.len) {
		uint32_t e[2];
		memcpy(e, c->keys.data + off, sizeof e);
		if (e[0] == hdr[0] && e[1] == hdr[1] &&
		    memcmp(c->keys.data + off + sizeof e, k, n) == 0)
			return 1;
		off += sizeof e + e[0];
	}
	if (f->nkeys < SAX_LINEAR_KEYS) {
		brook_buf_append(&c->keys, hdr, sizeof hdr);
		brook_buf_append(&c->keys, k, n);
		f->nkeys++;
		return 0;
	}
	/* a big object: move its keys into a set */
	f->keyset = json_object();
	for (off = f->keys_off; off < c->keys.len;) {
		uint32_t e[2];
		memcpy(e, c->keys.data + off, sizeof e);
		json_object_setn_new_nocheck(f->keyset, c->keys.data + off + sizeof e, e[0],
					     json_null());
		off += sizeof e + e[0];
	}
	brook_buf_truncate(&c->keys, f->keys_off);
	json_object_setn_new_nocheck(f->keyset, (const char *)k, n, json_null());
	return 0;
}

static void info_set(info_value *v, int type, const char *s, size_t n, json_int_t i)
{
	v->type = type;
	v->i = i;
	free(v->s);
	v->s = NULL;
	if (type == JSON_STRING) {
		v->s = brook_malloc(n + 1);
		memcpy(v->s, s, n);
		v->s[n] = '\0';
	}
}

static void user_reject(sax *c, const char *reason)
{
	add_reason(c->resp, c->index++, reason);
}

/* A scalar value: string (s, n decoded), integer i, or another type. */
static int sax_scalar(sax *c, int type, const char *s, size_t n, json_int_t i)
{
	int kind, arg;

	sax_target(c, &kind, &arg);
	switch (kind) {
	case T_FIELD: {
		user_field *f = &c->user.f[arg];
		f->type = type;
		f->i = i;
		if (type == JSON_STRING) {
			c->soff[arg] = c->ustr.len;
			brook_buf_append(&c->ustr, s, n);
			brook_buf_putc(&c->ustr, '\0');
		}
		break;
	}
	case T_INFO_FIELD:
		info_set(&c->info[arg], type, s, n, i);
		break;
	case T_ERROR:
		info_set(&c->error, type, s, n, i);
		break;
	case T_USER:
		user_reject(c, "user: expected object");
		break;
	default:
		break;
	}
	c->prev_end = sax_end(c);
	return 1;
}

static int sax_null(void *ctx)
{
	return sax_scalar(ctx, JSON_NULL, NULL, 0, 0);
}

static int sax_boolean(void *ctx, int v)
{
	return sax_scalar(ctx, v ? JSON_TRUE : JSON_FALSE, NULL, 0, 0);
}

/* Numbers as jansson reads them: an integer (no '.', 'e', 'E') must fit int64, a
 * real must not overflow a double. */
static int sax_number(void *ctx, const char *s, size_t n)
{
	sax *c = ctx;
	size_t start;

	if (c->finishing)
		return 0;
	start = sax_end(c) - n;
	if (!memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n)) {
		char tmp[32];
		long long v;
		/* no leading zeros in JSON: 32 characters never fit in 64 bits */
		if (n >= sizeof tmp)
			return sax_fail(c, start, s[0] == '-' ? "too big negative integer"
							      : "too big integer");
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		errno = 0;
		v = strtoll(tmp, NULL, 10);
		if (errno == ERANGE)
			return sax_fail(c, start, v < 0 ? "too big negative integer"
						    : "too big integer");
		return sax_scalar(c, JSON_INTEGER, NULL, 0, v);
	}
	brook_buf_reset(&c->num);
	brook_buf_append(&c->num, s, n);
	brook_buf_putc(&c->num, '\0');
	errno = 0;
	double d = strtod(c->num.data, NULL);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		return sax_fail(c, start, "real number overflow");
	return sax_scalar(c, JSON_REAL, NULL, 0, 0);
}

static int sax_string(void *ctx, const unsigned char *s, size_t n)
{
	sax *c = ctx;
	size_t start;

	if (c->finishing || !sax_check_string(c, &start))
		return 0;
	return sax_scalar(c, JSON_STRING, (const char *)s, n, 0);
}

static int sax_map_key(void *ctx, const unsigned char *k, size_t n)
{
	sax *c = ctx;
	sax_frame *f = &c->st[c->depth - 1];
	size_t start;

	if (c->finishing || !sax_check_string(c, &start))
		return 0;
	if (key_seen(c, f, k, n))
		return sax_fail(c, start, "duplicate object key");
	f->tkind = T_NONE;
	f->targ = 0;
	switch (f->role) {
	case F_TOP:
		if (n == 7 && memcmp(k, "results", 7) == 0)
			f->tkind = T_RESULTS;
		else if (n == 4 && memcmp(k, "info", 4) == 0)
			f->tkind = T_INFO;
		else if (n == 5 && memcmp(k, "error", 5) == 0)
			f->tkind = T_ERROR;
		break;
	case F_INFO: {
		static const char *const names[INFO_COUNT] = {"seed", "results", "page",
							      "version"};
		for (int i = 0; i < INFO_COUNT; i++)
			if (strlen(names[i]) == n && memcmp(k, names[i], n) == 0) {
				f->tkind = T_INFO_FIELD;
				f->targ = i;
			}
		break;
	}
	case F_USER: {
		int child = pn_child(f->node, k, n);
		if (child >= 0) {
			f->tkind = pnodes[child].field >= 0 ? T_FIELD : T_NODE;
			f->targ = pnodes[child].field >= 0 ? pnodes[child].field : child;
		}
		break;
	}
	default:
		break;
	}
	c->prev_end = sax_end(c);
	return 1;
}

static int sax_start_map(void *ctx)
{
	sax *c = ctx;
	int kind, arg, role = F_OTHER, node = 0;

	if (c->finishing)
		return 0;
	sax_target(c, &kind, &arg);
	switch (kind) {
	case T_TOP:
		role = F_TOP;
		break;
	case T_USER:
		c->user_start = sax_end(c) - 1;
		c->user.is_object = 1;
		for (int k = 0; k < UF_COUNT; k++)
			c->user.f[k].type = UF_ABSENT;
		brook_buf_reset(&c->ustr);
		role = F_USER;
		break;
	case T_NODE:
		role = F_USER;
		node = arg;
		break;
	case T_FIELD:
		c->user.f[arg].type = JSON_OBJECT;
		break;
	case T_INFO:
		c->info_object = 1;
		role = F_INFO;
		break;
	case T_INFO_FIELD:
		info_set(&c->info[arg], JSON_OBJECT, NULL, 0, 0);
		break;
	case T_ERROR:
		info_set(&c->error, JSON_OBJECT, NULL, 0, 0);
		break;
	default:
		break;
	}
	c->prev_end = sax_end(c);
	return sax_push(c, 1, role, node);
}

/* The end of a user's object: validate it, keep its record or the reason. */
static void sax_user_done(sax *c)
{
	source_response *resp = c->resp;
	char reason[256];

	for (int k = 0; k < UF_COUNT; k++)
		c->user.f[k].s = c->user.f[k].type == JSON_STRING ? c->ustr.data + c->soff[k]
								  : NULL;
	if (validate_fields(&c->user, reason, sizeof reason) != BROOK_OK) {
		user_reject(c, reason);
		return;
	}
	if (resp->nrecords == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		resp->records = brook_realloc(resp->records, c->cap * sizeof *resp->records);
	}
	resp->records[resp->nrecords++] = compact_span(c->s, c->user_start, sax_end(c));
	c->index++;
}

static int sax_end_map(void *ctx)
{
	sax *c = ctx;
	const sax_frame *f = &c->st[c->depth - 1];

	if (c->finishing)
		return 0;
	if (f->role == F_USER && f->node == 0)
		sax_user_done(c);
	sax_pop(c);
	c->prev_end = sax_end(c);
	if (c->depth == 0)
		c->top_end = c->prev_end;
	return 1;
}

static int sax_start_array(void *ctx)
{
	sax *c = ctx;
	int kind, arg, role = F_OTHER;

	if (c->finishing)
		return 0;
	sax_target(c, &kind, &arg);
	switch (kind) {
	case T_RESULTS:
		c->results_array = 1;
		role = F_RESULTS;
		break;
	case T_USER:
		user_reject(c, "user: expected object");
		break;
	case T_FIELD:
		c->user.f[arg].type = JSON_ARRAY;
		break;
	case T_INFO_FIELD:
		info_set(&c->info[arg], JSON_ARRAY, NULL, 0, 0);
		break;
	case T_ERROR:
		info_set(&c->error, JSON_ARRAY, NULL, 0, 0);
		break;
	default:
		break;
	}
	c->prev_end = sax_end(c);
	return sax_push(c, 0, role, 0);
}

static int sax_end_array(void *ctx)
{
	sax *c = ctx;

	if (c->finishing)
		return 0;
	sax_pop(c);
	c->prev_end = sax_end(c);
	return 1;
}

static const yajl_callbacks sax_callbacks = {
	.yajl_null = sax_null,
	.yajl_boolean = sax_boolean,
	.yajl_number = sax_number,
	.yajl_string = sax_string,
	.yajl_start_map = sax_start_map,
	.yajl_map_key = sax_map_key,
	.yajl_end_map = sax_end_map,
	.yajl_start_array = sax_start_array,
	.yajl_end_array = sax_end_array,
};

static void *ya_malloc(void *ctx, size_t n)
{
	(void)ctx;
	return brook_malloc(n);
}

static void *ya_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return brook_realloc(p, n);
}

static void ya_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

/* Parse the body with yajl; BROOK_ERR with "not JSON: ..." in err. */
static int sax_parse(sax *c, char *err, size_t errlen)
{
	yajl_alloc_funcs af = {ya_malloc, ya_realloc, ya_free, NULL};
	const char *bad = NULL;
	yajl_status st;
	int rc = BROOK_OK;

	/* yajl takes \f and \v for whitespace; jansson 2.14 swallows a NUL byte after a
	 * number or literal (a bug not copied here); in strings all three are raw control
	 * bytes. None can be in a JSON text. */
	static const char refused[3] = {'\f', '\v', '\0'};
	for (size_t k = 0; k < sizeof refused; k++) {
		const char *q = memchr(c->s, refused[k], bad ? (size_t)(bad - c->s) : c->n);
		if (q)
			bad = q;
	}
	if (bad)
		return not_json(c->s, c->n, (size_t)(bad - c->s),
				*bad ? "invalid whitespace" : "NUL byte", err, errlen);
	c->h = yajl_alloc(&sax_callbacks, &af, c);
	yajl_config(c->h, yajl_dont_validate_strings, 1); /* raw_string_defect() does */
	st = yajl_parse(c->h, (const unsigned char *)c->s, c->n);
	if (st == yajl_status_ok) {
		c->finishing = 1;
		st = yajl_complete_parse(c->h);
		if (st == yajl_status_client_canceled && !c->what)
			c->what = "premature end of input", c->what_off = c->n;
	}
	if (st == yajl_status_ok) {
		/* yajl leaves an unterminated string after the object unreported */
		size_t k = c->top_end;
		while (k < c->n && is_ws(c->s[k]))
			k++;
		if (k < c->n || c->top_end == 0) {
			st = yajl_status_error;
			c->what = "end of file expected";
			c->what_off = k;
		}
	}
	if (st != yajl_status_ok) {
		if (c->what) {
			rc = not_json(c->s, c->n, c->what_off, c->what, err, errlen);
		} else {
			unsigned char *msg = yajl_get_error(c->h, 0, NULL, 0);
			size_t off = c->finishing ? c->n : yajl_get_bytes_consumed(c->h);
			char *nl = strchr((char *)msg, '\n');
			if (nl)
				*nl = '\0';
			rc = not_json(c->s, c->n, off > 0 ? off - 1 : 0, (const char *)msg, err,
				      errlen);
			yajl_free_error(c->h, msg);
		}
	}
	while (c->depth > 0)
		sax_pop(c);
	yajl_free(c->h);
	return rc;
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

/* The checks after a clean parse, in the order of the API's documentation. */
static int check_top(sax *c, source_response *resp, char *err, size_t errlen)
{
	static const struct {
		int member, type;
		const char *name;
	} members[] = {
		{INFO_SEED, JSON_STRING, "seed"},
		{INFO_RESULTS, JSON_INTEGER, "results"},
		{INFO_PAGE, JSON_INTEGER, "page"},
		{INFO_VERSION, JSON_STRING, "version"},
	};

	if (c->error.type != UF_ABSENT) {
		resp->api_error = 1;
		snprintf(err, errlen, "%s",
			 c->error.type == JSON_STRING ? c->error.s : "error without a message");
		return BROOK_ERR;
	}
	if (!c->results_array) {
		snprintf(err, errlen, "response has no \"results\" array");
		return BROOK_ERR;
	}
	if (!c->info_object) {
		snprintf(err, errlen, "response has no \"info\" object");
		return BROOK_ERR;
	}
	for (size_t k = 0; k < sizeof members / sizeof members[0]; k++) {
		const info_value *v = &c->info[members[k].member];
		if (v->type != members[k].type) {
			snprintf(err, errlen, "info.%s: %s%s", members[k].name,
				 v->type == UF_ABSENT ? "missing" : "expected ",
				 v->type == UF_ABSENT ? ""
				 : members[k].type == JSON_STRING ? "string" : "integer");
			return BROOK_ERR;
		}
	}
	resp->seed = brook_strdup(c->info[INFO_SEED].s);
	resp->results = c->info[INFO_RESULTS].i;
	resp->page = c->info[INFO_PAGE].i;
	resp->version = brook_strdup(c->info[INFO_VERSION].s);
	return BROOK_OK;
}

int source_parse_response(const char *body, size_t len, source_response *resp, char *err,
			  size_t errlen)
{
	sax *c;
	size_t i = 0;
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
	while (i < len && is_ws(body[i]))
		i++;
	if (i >= len || body[i] != '{')
		return not_an_object(body, len, err, errlen);
	pthread_once(&pn_once, pn_init);
	c = brook_calloc(1, sizeof *c);
	c->s = body;
	c->n = len;
	c->resp = resp;
	c->error.type = UF_ABSENT;
	for (int k = 0; k < INFO_COUNT; k++)
		c->info[k].type = UF_ABSENT;
	brook_buf_init(&c->keys, 256);
	brook_buf_init(&c->num, 64);
	brook_buf_init(&c->ustr, 2048);
	rc = sax_parse(c, err, errlen);
	if (rc == BROOK_OK)
		rc = check_top(c, resp, err, errlen);
	for (int k = 0; k < INFO_COUNT; k++)
		free(c->info[k].s);
	free(c->error.s);
	brook_buf_release(&c->keys);
	brook_buf_release(&c->num);
	brook_buf_release(&c->ustr);
	free(c);
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
