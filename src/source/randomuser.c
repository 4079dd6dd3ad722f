/*
 * randomuser.c — the seeded randomuser.me 1.4 generator and its query parser.
 *
 * Design
 *
 *   Tables. randomuser_data.c holds every list as one comma-separated literal. On first
 *   use (pthread_once, ru_init) they are split into ru_item arrays that point into the
 *   literals (no copies), and each item's lower-case ASCII form (for e-mail addresses)
 *   is written once into a static pool. Nothing is allocated on the heap, and nothing
 *   in the tables needs JSON escaping (checked in ru_init), so the hot path copies
 *   bytes only.
 *
 *   Randomness. User k of a response is generated from its own xoshiro256** stream,
 *   seeded by splitmix64 from FNV-1a(seed) and offset = (page - 1) * results + k. Each
 *   user draws its values in one fixed order whatever inc/exc say, so hiding a field
 *   never changes another. Gender and nat filters do change the draws.
 *
 *   Emission. Users are written straight into the output buffer: before each user the
 *   buffer reserves RU_USER_MAX bytes (an upper bound, since every table item is
 *   shorter than RU_ITEM_MAX, also checked in ru_init) and a cursor writes without
 *   further checks. No printf, no jansson on this path. Pretty JSON re-indents the
 *   compact form; CSV is written from the same ru_user record.
 *
 *   Hashes. login.md5/sha1/sha256 use EVP digests fetched once and one EVP_MD_CTX per
 *   response.
 */
#include "source/randomuser.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/text.h"
#include "source/randomuser_data.h"

#define RU_ITEM_MAX 120     /* bytes of one table item */
#define RU_USER_MAX 4096    /* bytes of one emitted user, any format */
#define RU_MAX_ITEMS 8192
#define RU_ASCII_POOL 65536
#define RU_PARAM_MAX 4096   /* bytes of one decoded query key or value */

const char *const randomuser_nat_codes[RANDOMUSER_NNATS] = {
	"AU", "BR", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "IE",
	"IN", "IR", "MX", "NL", "NO", "NZ", "RS", "TR", "UA", "US",
};

/* ---------------------------------------------------------------- tables */

typedef struct ru_item {
	const char *s;  /* UTF-8 text (not NUL-terminated) */
	const char *a;  /* lower-case ASCII letters/digits, for e-mail */
	const char *s2; /* cities: the state */
	uint16_t n, an, n2;
} ru_item;

typedef struct ru_list {
	ru_item *v;
	uint32_t n;
} ru_list;

typedef struct ru_nat {
	const randomuser_nat_def *def;
	ru_list male, female, last, streets, cities;
	uint16_t country_len;
} ru_nat;

static ru_item ru_items[RU_MAX_ITEMS];
static size_t ru_nitems;
static char ru_ascii[RU_ASCII_POOL];
static size_t ru_nascii;
static ru_nat ru_nats[RANDOMUSER_NNATS];
static ru_list ru_passwords, ru_adjectives, ru_nouns;
static EVP_MD *ru_md5, *ru_sha1, *ru_sha256;
static pthread_once_t ru_once = PTHREAD_ONCE_INIT;

/* ASCII letters for U+00C0..U+017F (accents stripped), for e-mail addresses. */
static const char ru_fold_tab[] =
	"AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTsaaaaaaaceeeeiiiidnoooooxouuuuyty"
	"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlL"
	"lLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

static void ru_ascii_putc(char c)
{
	assert(ru_nascii < RU_ASCII_POOL);
	ru_ascii[ru_nascii++] = c;
}

/* Fold UTF-8 Latin text to lower-case ASCII letters and digits (others dropped). */
static void ru_fold(ru_item *it, const char *s, size_t n)
{
	size_t start = ru_nascii;

	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			if (isalnum(c))
				ru_ascii_putc((char)tolower(c));
			i++;
			continue;
		}
		unsigned cp = 0;
		size_t len = 1;
		if ((c & 0xE0) == 0xC0 && i + 1 < n) {
			cp = ((c & 0x1Fu) << 6) | ((unsigned char)s[i + 1] & 0x3Fu);
			len = 2;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
		}
		if (cp == 0xDF || cp == 0xC6 || cp == 0xE6) {
			ru_ascii_putc(cp == 0xDF ? 's' : 'a');
			ru_ascii_putc(cp == 0xDF ? 's' : 'e');
		} else if (cp >= 0xC0 && cp < 0x180) {
			ru_ascii_putc((char)tolower((unsigned char)ru_fold_tab[cp - 0xC0]));
		}
		i += len;
	}
	it->a = ru_ascii + start;
	it->an = (uint16_t)(ru_nascii - start);
}

static void ru_check_text(const char *s, size_t n)
{
	assert(n > 0 && n < RU_ITEM_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		assert(c >= 0x20 && c != '"' && c != '\\');
		(void)c;
	}
	(void)s;
}

/* Split "a,b=x,c/d" into items. '=' gives the ASCII form, '/' (cities) the state. */
static void ru_split(ru_list *l, const char *src, int cities)
{
	l->v = ru_items + ru_nitems;
	l->n = 0;
	const char *p = src;
	while (*p) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		assert(ru_nitems < RU_MAX_ITEMS);
		ru_item *it = &ru_items[ru_nitems++];
		memset(it, 0, sizeof(*it));
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *sl = cities ? memchr(p, '/', (size_t)(end - p)) : NULL;
		const char *text_end = eq ? eq : (sl ? sl : end);
		it->s = p;
		it->n = (uint16_t)(text_end - p);
		ru_check_text(it->s, it->n);
		if (sl) {
			it->s2 = sl + 1;
			it->n2 = (uint16_t)(end - sl - 1);
			ru_check_text(it->s2, it->n2);
		}
		if (eq) {
			it->a = eq + 1;
			it->an = (uint16_t)(end - eq - 1);
		} else {
			ru_fold(it, it->s, it->n);
		}
		l->n++;
		p = *end ? end + 1 : end;
	}
	assert(l->n > 0);
}

static void ru_init(void)
{
	for (int i = 0; i < RANDOMUSER_NNATS; i++) {
		const randomuser_nat_def *d = &randomuser_nat_defs[i];
		ru_nat *n = &ru_nats[i];
		assert(strcmp(d->code, randomuser_nat_codes[i]) == 0);
		n->def = d;
		n->country_len = (uint16_t)strlen(d->country);
		ru_split(&n->male, d->male, 0);
		ru_split(&n->female, d->female, 0);
		ru_split(&n->last, d->last, 0);
		ru_split(&n->streets, d->streets, 0);
		ru_split(&n->cities, d->cities, 1);
	}
	ru_split(&ru_passwords, randomuser_passwords, 0);
	ru_split(&ru_adjectives, randomuser_username_adjectives, 0);
	ru_split(&ru_nouns, randomuser_username_nouns, 0);
	ru_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	ru_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	ru_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	assert(ru_md5 && ru_sha1 && ru_sha256);
}

/* ---------------------------------------------------------------- PRNG */

typedef struct ru_rng {
	uint64_t s[4];
} ru_rng;

static inline uint64_t ru_splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64_t ru_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t ru_next(ru_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = ru_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ru_rotl(s[3], 45);
	return result;
}

/* Uniform-enough integer in [0, n), n < 2^32. */
static inline uint32_t ru_below(ru_rng *r, uint32_t n)
{
	return (uint32_t)(((ru_next(r) >> 32) * (uint64_t)n) >> 32);
}

static void ru_rng_seed(ru_rng *r, uint64_t seed_hash, uint64_t offset)
{
	uint64_t x = offset;
	uint64_t k = seed_hash ^ ru_splitmix(&x);
	for (int i = 0; i < 4; i++)
		r->s[i] = ru_splitmix(&k);
}

static uint64_t ru_hash_seed(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* ---------------------------------------------------------------- dates */

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
static void ru_civil(int64_t days, int *y, int *m, int *d)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t dd = doy - (153 * mp + 2) / 5 + 1;
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

static int64_t ru_floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Whole years from ms to RANDOMUSER_REF_MS. */
static int ru_age(int64_t ms)
{
	int y, m, d, ry, rm, rd;
	int64_t day = ru_floor_div(ms, 86400000), rday = ru_floor_div(RANDOMUSER_REF_MS, 86400000);
	ru_civil(day, &y, &m, &d);
	ru_civil(rday, &ry, &rm, &rd);
	int64_t tod = ms - day * 86400000, rtod = RANDOMUSER_REF_MS - rday * 86400000;
	int age = ry - y;
	if (rm < m || (rm == m && (rd < d || (rd == d && rtod < tod))))
		age--;
	return age;
}

static char *ru_put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes), years 1000..9999. */
static char *ru_put_iso(char *p, int64_t ms)
{
	int y, m, d;
	int64_t day = ru_floor_div(ms, 86400000);
	int64_t rem = ms - day * 86400000;
	ru_civil(day, &y, &m, &d);
	p = ru_put_digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = ru_put_digits(p, (unsigned)m, 2);
	*p++ = '-';
	p = ru_put_digits(p, (unsigned)d, 2);
	*p++ = 'T';
	p = ru_put_digits(p, (unsigned)(rem / 3600000), 2);
	*p++ = ':';
	p = ru_put_digits(p, (unsigned)(rem / 60000 % 60), 2);
	*p++ = ':';
	p = ru_put_digits(p, (unsigned)(rem / 1000 % 60), 2);
	*p++ = '.';
	p = ru_put_digits(p, (unsigned)(rem % 1000), 3);
	*p++ = 'Z';
	return p;
}

static char *ru_put_u(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* ---------------------------------------------------------------- one user */

typedef struct ru_user {
	int female;
	const ru_nat *nat;
	const char *title;
	const ru_item *first, *last, *street, *city, *password, *adj, *noun;
	unsigned street_no, uname_no, pic, tz;
	int lat, lon; /* 1e-4 degrees */
	int64_t dob_ms, reg_ms;
	char postcode[16], phone[32], cell[32], idval[32], salt[9];
	uint8_t uuid[16];
	char md5[33], sha1[41], sha256[65];
} ru_user;

static void ru_pattern(ru_rng *r, const char *pat, char *out, size_t cap)
{
	size_t i = 0;
	for (; *pat && i + 1 < cap; pat++, i++) {
		switch (*pat) {
		case '#': out[i] = (char)('0' + ru_below(r, 10)); break;
		case '%': out[i] = (char)('1' + ru_below(r, 9)); break;
		case 'A': out[i] = (char)('A' + ru_below(r, 26)); break;
		default: out[i] = *pat; break;
		}
	}
	out[i] = '\0';
}

static void ru_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void ru_digest(EVP_MD_CTX *ctx, const EVP_MD *md, const char *a, size_t an,
		      const char *b, size_t bn, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;
	EVP_DigestInit_ex2(ctx, md, NULL);
	EVP_DigestUpdate(ctx, a, an);
	EVP_DigestUpdate(ctx, b, bn);
	EVP_DigestFinal_ex(ctx, d, &dn);
	ru_hex(d, dn, hex);
}

static const int64_t ru_year_ms = INT64_C(31556952000); /* mean Gregorian year */
static const int64_t ru_2002_ms = INT64_C(1009843200000); /* 2002-01-01 */

static void ru_user_make(ru_user *u, const randomuser_query *q, const uint8_t *nat_idx,
			 int nnat, uint64_t seed_hash, uint64_t offset, EVP_MD_CTX *ctx)
{
	static const char salt_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	ru_rng r;
	ru_rng_seed(&r, seed_hash, offset);

	u->female = q->gender == RANDOMUSER_ANY ? (int)ru_below(&r, 2)
						 : q->gender == RANDOMUSER_FEMALE;
	u->nat = &ru_nats[nat_idx[ru_below(&r, (uint32_t)nnat)]];
	const ru_nat *n = u->nat;
	unsigned t = ru_below(&r, 3);
	if (n->def->french_titles)
		u->title = !u->female ? "Monsieur" : t == 0 ? "Mademoiselle" : "Madame";
	else
		u->title = !u->female ? "Mr" : t == 0 ? "Miss" : t == 1 ? "Ms" : "Mrs";
	const ru_list *firsts = u->female ? &n->female : &n->male;
	u->first = &firsts->v[ru_below(&r, firsts->n)];
	u->last = &n->last.v[ru_below(&r, n->last.n)];
	u->street_no = 1 + ru_below(&r, 9999);
	u->street = &n->streets.v[ru_below(&r, n->streets.n)];
	u->city = &n->cities.v[ru_below(&r, n->cities.n)];
	ru_pattern(&r, n->def->postcode, u->postcode, sizeof(u->postcode));
	u->lat = (int)ru_below(&r, 1800001) - 900000;
	u->lon = (int)ru_below(&r, 3600001) - 1800000;
	u->tz = ru_below(&r, RANDOMUSER_NTIMEZONES);
	for (int i = 0; i < 16; i += 8) {
		uint64_t v = ru_next(&r);
		memcpy(u->uuid + i, &v, 8);
	}
	u->uuid[6] = (uint8_t)((u->uuid[6] & 0x0F) | 0x40);
	u->uuid[8] = (uint8_t)((u->uuid[8] & 0x3F) | 0x80);
	u->adj = &ru_adjectives.v[ru_below(&r, ru_adjectives.n)];
	u->noun = &ru_nouns.v[ru_below(&r, ru_nouns.n)];
	u->uname_no = 100 + ru_below(&r, 900);
	u->password = &ru_passwords.v[ru_below(&r, ru_passwords.n)];
	for (int i = 0; i < 8; i++)
		u->salt[i] = salt_chars[ru_below(&r, sizeof(salt_chars) - 1)];
	u->salt[8] = '\0';
	/* born 20..77 years before the reference instant */
	u->dob_ms = RANDOMUSER_REF_MS - 20 * ru_year_ms -
		    (int64_t)(ru_next(&r) % (uint64_t)(57 * ru_year_ms));
	int64_t reg_lo = u->dob_ms + 18 * ru_year_ms;
	if (reg_lo < ru_2002_ms)
		reg_lo = ru_2002_ms;
	u->reg_ms = reg_lo + (int64_t)(ru_next(&r) % (uint64_t)(RANDOMUSER_REF_MS - reg_lo));
	ru_pattern(&r, n->def->phone, u->phone, sizeof(u->phone));
	ru_pattern(&r, n->def->cell, u->cell, sizeof(u->cell));
	if (n->def->id_fmt)
		ru_pattern(&r, n->def->id_fmt, u->idval, sizeof(u->idval));
	else
		u->idval[0] = '\0';
	u->pic = ru_below(&r, 100);

	if (q->fields & RANDOMUSER_F_LOGIN) {
		size_t pn = u->password->n;
		ru_digest(ctx, ru_md5, u->password->s, pn, u->salt, 8, u->md5);
		ru_digest(ctx, ru_sha1, u->password->s, pn, u->salt, 8, u->sha1);
		ru_digest(ctx, ru_sha256, u->password->s, pn, u->salt, 8, u->sha256);
	}
}

/* ---------------------------------------------------------------- JSON */

#define W_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)
#define W_MEM(p, s, n) (memcpy((p), (s), (n)), (p) += (n))
#define W_STR(p, s) W_MEM(p, s, strlen(s))

static char *ru_put_coord(char *p, int v)
{
	*p++ = '"';
	if (v < 0) {
		*p++ = '-';
		v = -v;
	}
	p = ru_put_u(p, (uint64_t)(v / 10000));
	*p++ = '.';
	p = ru_put_digits(p, (unsigned)(v % 10000), 4);
	*p++ = '"';
	return p;
}

static char *ru_put_uuid(char *p, const uint8_t *b)
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hx[b[i] >> 4];
		*p++ = hx[b[i] & 15];
	}
	return p;
}

static char *ru_put_username(char *p, const ru_user *u)
{
	W_MEM(p, u->adj->s, u->adj->n);
	W_MEM(p, u->noun->s, u->noun->n);
	return ru_put_u(p, u->uname_no);
}

static char *ru_put_email(char *p, const ru_user *u)
{
	W_MEM(p, u->first->a, u->first->an);
	*p++ = '.';
	W_MEM(p, u->last->a, u->last->an);
	W_LIT(p, "@example.com");
	return p;
}

static char *ru_put_picture_url(char *p, const ru_user *u, const char *size)
{
	W_LIT(p, "https://randomuser.me/api/portraits/");
	W_STR(p, size);
	if (u->female)
		W_LIT(p, "women/");
	else
		W_LIT(p, "men/");
	p = ru_put_u(p, u->pic);
	W_LIT(p, ".jpg");
	return p;
}

static char *ru_json_user(char *p, const ru_user *u, uint32_t f)
{
	const ru_nat *n = u->nat;
	int first = 1;
#define SEP() do { if (!first) *p++ = ','; first = 0; } while (0)

	*p++ = '{';
	if (f & RANDOMUSER_F_GENDER) {
		SEP();
		if (u->female)
			W_LIT(p, "\"gender\":\"female\"");
		else
			W_LIT(p, "\"gender\":\"male\"");
	}
	if (f & RANDOMUSER_F_NAME) {
		SEP();
		W_LIT(p, "\"name\":{\"title\":\"");
		W_STR(p, u->title);
		W_LIT(p, "\",\"first\":\"");
		W_MEM(p, u->first->s, u->first->n);
		W_LIT(p, "\",\"last\":\"");
		W_MEM(p, u->last->s, u->last->n);
		W_LIT(p, "\"}");
	}
	if (f & RANDOMUSER_F_LOCATION) {
		SEP();
		W_LIT(p, "\"location\":{\"street\":{\"number\":");
		p = ru_put_u(p, u->street_no);
		W_LIT(p, ",\"name\":\"");
		W_MEM(p, u->street->s, u->street->n);
		W_LIT(p, "\"},\"city\":\"");
		W_MEM(p, u->city->s, u->city->n);
		W_LIT(p, "\",\"state\":\"");
		W_MEM(p, u->city->s2, u->city->n2);
		W_LIT(p, "\",\"country\":\"");
		W_MEM(p, n->def->country, n->country_len);
		W_LIT(p, "\",\"postcode\":");
		if (n->def->postcode_str) {
			*p++ = '"';
			W_STR(p, u->postcode);
			*p++ = '"';
		} else {
			W_STR(p, u->postcode);
		}
		W_LIT(p, ",\"coordinates\":{\"latitude\":");
		p = ru_put_coord(p, u->lat);
		W_LIT(p, ",\"longitude\":");
		p = ru_put_coord(p, u->lon);
		W_LIT(p, "},\"timezone\":{\"offset\":\"");
		W_STR(p, randomuser_timezones[u->tz][0]);
		W_LIT(p, "\",\"description\":\"");
		W_STR(p, randomuser_timezones[u->tz][1]);
		W_LIT(p, "\"}}");
	}
	if (f & RANDOMUSER_F_EMAIL) {
		SEP();
		W_LIT(p, "\"email\":\"");
		p = ru_put_email(p, u);
		*p++ = '"';
	}
	if (f & RANDOMUSER_F_LOGIN) {
		SEP();
		W_LIT(p, "\"login\":{\"uuid\":\"");
		p = ru_put_uuid(p, u->uuid);
		W_LIT(p, "\",\"username\":\"");
		p = ru_put_username(p, u);
		W_LIT(p, "\",\"password\":\"");
		W_MEM(p, u->password->s, u->password->n);
		W_LIT(p, "\",\"salt\":\"");
		W_MEM(p, u->salt, 8);
		W_LIT(p, "\",\"md5\":\"");
		W_MEM(p, u->md5, 32);
		W_LIT(p, "\",\"sha1\":\"");
		W_MEM(p, u->sha1, 40);
		W_LIT(p, "\",\"sha256\":\"");
		W_MEM(p, u->sha256, 64);
		W_LIT(p, "\"}");
	}
	if (f & RANDOMUSER_F_DOB) {
		SEP();
		W_LIT(p, "\"dob\":{\"date\":\"");
		p = ru_put_iso(p, u->dob_ms);
		W_LIT(p, "\",\"age\":");
		p = ru_put_u(p, (uint64_t)ru_age(u->dob_ms));
		*p++ = '}';
	}
	if (f & RANDOMUSER_F_REGISTERED) {
		SEP();
		W_LIT(p, "\"registered\":{\"date\":\"");
		p = ru_put_iso(p, u->reg_ms);
		W_LIT(p, "\",\"age\":");
		p = ru_put_u(p, (uint64_t)ru_age(u->reg_ms));
		*p++ = '}';
	}
	if (f & RANDOMUSER_F_PHONE) {
		SEP();
		W_LIT(p, "\"phone\":\"");
		W_STR(p, u->phone);
		*p++ = '"';
	}
	if (f & RANDOMUSER_F_CELL) {
		SEP();
		W_LIT(p, "\"cell\":\"");
		W_STR(p, u->cell);
		*p++ = '"';
	}
	if (f & RANDOMUSER_F_ID) {
		SEP();
		if (n->def->id_name) {
			W_LIT(p, "\"id\":{\"name\":\"");
			W_STR(p, n->def->id_name);
			W_LIT(p, "\",\"value\":\"");
			W_STR(p, u->idval);
			W_LIT(p, "\"}");
		} else {
			W_LIT(p, "\"id\":{\"name\":\"\",\"value\":null}");
		}
	}
	if (f & RANDOMUSER_F_PICTURE) {
		SEP();
		W_LIT(p, "\"picture\":{\"large\":\"");
		p = ru_put_picture_url(p, u, "");
		W_LIT(p, "\",\"medium\":\"");
		p = ru_put_picture_url(p, u, "med/");
		W_LIT(p, "\",\"thumbnail\":\"");
		p = ru_put_picture_url(p, u, "thumb/");
		W_LIT(p, "\"}");
	}
	if (f & RANDOMUSER_F_NAT) {
		SEP();
		W_LIT(p, "\"nat\":\"");
		W_MEM(p, n->def->code, 2);
		*p++ = '"';
	}
	*p++ = '}';
#undef SEP
	return p;
}

/* ---------------------------------------------------------------- CSV */

static const struct {
	uint32_t field;
	const char *cols;
} ru_csv_cols[] = {
	{RANDOMUSER_F_GENDER, "gender"},
	{RANDOMUSER_F_NAME, "name.title,name.first,name.last"},
	{RANDOMUSER_F_LOCATION,
	 "location.street.number,location.street.name,location.city,location.state,"
	 "location.country,location.postcode,location.coordinates.latitude,"
	 "location.coordinates.longitude,location.timezone.offset,"
	 "location.timezone.description"},
	{RANDOMUSER_F_EMAIL, "email"},
	{RANDOMUSER_F_LOGIN,
	 "login.uuid,login.username,login.password,login.salt,login.md5,login.sha1,"
	 "login.sha256"},
	{RANDOMUSER_F_DOB, "dob.date,dob.age"},
	{RANDOMUSER_F_REGISTERED, "registered.date,registered.age"},
	{RANDOMUSER_F_PHONE, "phone"},
	{RANDOMUSER_F_CELL, "cell"},
	{RANDOMUSER_F_ID, "id.name,id.value"},
	{RANDOMUSER_F_PICTURE, "picture.large,picture.medium,picture.thumbnail"},
	{RANDOMUSER_F_NAT, "nat"},
};

/* A CSV cell; quoted when it holds a comma or a quote (table text holds no quote). */
static char *ru_csv_cell(char *p, const char *s, size_t n)
{
	if (memchr(s, ',', n)) {
		*p++ = '"';
		W_MEM(p, s, n);
		*p++ = '"';
	} else {
		W_MEM(p, s, n);
	}
	return p;
}

static char *ru_csv_user(char *p, const ru_user *u, uint32_t f)
{
	const ru_nat *n = u->nat;
	char *row = p;
	char tmp[64];
	char *t;
#define CSEP() do { if (p != row) *p++ = ','; } while (0)
#define CELL(s, len) do { CSEP(); p = ru_csv_cell(p, (s), (len)); } while (0)
#define CELLS(s) CELL((s), strlen(s))

	if (f & RANDOMUSER_F_GENDER)
		CELLS(u->female ? "female" : "male");
	if (f & RANDOMUSER_F_NAME) {
		CELLS(u->title);
		CELL(u->first->s, u->first->n);
		CELL(u->last->s, u->last->n);
	}
	if (f & RANDOMUSER_F_LOCATION) {
		t = ru_put_u(tmp, u->street_no);
		CELL(tmp, (size_t)(t - tmp));
		CELL(u->street->s, u->street->n);
		CELL(u->city->s, u->city->n);
		CELL(u->city->s2, u->city->n2);
		CELLS(n->def->country);
		CELLS(u->postcode);
		t = ru_put_coord(tmp, u->lat);
		CELL(tmp + 1, (size_t)(t - tmp - 2));
		t = ru_put_coord(tmp, u->lon);
		CELL(tmp + 1, (size_t)(t - tmp - 2));
		CELLS(randomuser_timezones[u->tz][0]);
		CELLS(randomuser_timezones[u->tz][1]);
	}
	if (f & RANDOMUSER_F_EMAIL) {
		CSEP();
		p = ru_put_email(p, u);
	}
	if (f & RANDOMUSER_F_LOGIN) {
		CSEP();
		p = ru_put_uuid(p, u->uuid);
		CSEP();
		p = ru_put_username(p, u);
		CELL(u->password->s, u->password->n);
		CELL(u->salt, 8);
		CELL(u->md5, 32);
		CELL(u->sha1, 40);
		CELL(u->sha256, 64);
	}
	if (f & RANDOMUSER_F_DOB) {
		CSEP();
		p = ru_put_iso(p, u->dob_ms);
		CSEP();
		p = ru_put_u(p, (uint64_t)ru_age(u->dob_ms));
	}
	if (f & RANDOMUSER_F_REGISTERED) {
		CSEP();
		p = ru_put_iso(p, u->reg_ms);
		CSEP();
		p = ru_put_u(p, (uint64_t)ru_age(u->reg_ms));
	}
	if (f & RANDOMUSER_F_PHONE)
		CELLS(u->phone);
	if (f & RANDOMUSER_F_CELL)
		CELLS(u->cell);
	if (f & RANDOMUSER_F_ID) {
		CELLS(n->def->id_name ? n->def->id_name : "");
		CELLS(u->idval);
	}
	if (f & RANDOMUSER_F_PICTURE) {
		CSEP();
		p = ru_put_picture_url(p, u, "");
		CSEP();
		p = ru_put_picture_url(p, u, "med/");
		CSEP();
		p = ru_put_picture_url(p, u, "thumb/");
	}
	if (f & RANDOMUSER_F_NAT)
		CELL(n->def->code, 2);
	*p++ = '\n';
#undef CELLS
#undef CELL
#undef CSEP
	return p;
}

/* ---------------------------------------------------------------- pretty JSON */

static void ru_indent(brook_buf *out, int depth)
{
	brook_buf_putc(out, '\n');
	for (int i = 0; i < depth; i++)
		brook_buf_append(out, "  ", 2);
}

/* Re-indent compact JSON (as this file writes it) with two spaces per level. */
static void ru_prettify(const char *s, size_t n, brook_buf *out)
{
	int depth = 0, in_str = 0;
	brook_buf_reserve(out, n + n / 2);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			brook_buf_putc(out, c);
			if (c == '\\' && i + 1 < n)
				brook_buf_putc(out, s[++i]);
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			brook_buf_putc(out, c);
			break;
		case '{':
		case '[':
			brook_buf_putc(out, c);
			if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
				brook_buf_putc(out, s[++i]);
				break;
			}
			ru_indent(out, ++depth);
			break;
		case '}':
		case ']':
			ru_indent(out, --depth);
			brook_buf_putc(out, c);
			break;
		case ',':
			brook_buf_putc(out, c);
			ru_indent(out, depth);
			break;
		case ':':
			brook_buf_append(out, ": ", 2);
			break;
		default:
			brook_buf_putc(out, c);
			break;
		}
	}
}

/* ---------------------------------------------------------------- generate */

static void ru_json_body(const randomuser_query *q, brook_buf *out, const uint8_t *nat_idx,
			 int nnat, uint64_t seed_hash, EVP_MD_CTX *ctx)
{
	brook_buf_puts(out, "{\"results\":[");
	for (int64_t k = 0; k < q->results; k++) {
		ru_user u;
		ru_user_make(&u, q, nat_idx, nnat, seed_hash,
			     (uint64_t)((q->page - 1) * q->results + k), ctx);
		brook_buf_reserve(out, RU_USER_MAX);
		char *start = out->data + out->len, *p = start;
		if (k)
			*p++ = ',';
		p = ru_json_user(p, &u, q->fields);
		assert((size_t)(p - start) < RU_USER_MAX);
		out->len += (size_t)(p - start);
		out->data[out->len] = '\0';
	}
	brook_buf_putc(out, ']');
	if (!q->noinfo) {
		brook_buf_puts(out, ",\"info\":{\"seed\":\"");
		brook_buf_put_json_escaped(out, q->seed, strlen(q->seed));
		brook_buf_puts(out, "\",\"results\":");
		brook_buf_put_i64(out, q->results);
		brook_buf_puts(out, ",\"page\":");
		brook_buf_put_i64(out, q->page);
		brook_buf_puts(out, ",\"version\":\"" RANDOMUSER_VERSION "\"}");
	}
	brook_buf_putc(out, '}');
}

void randomuser_generate(const randomuser_query *q, brook_buf *out)
{
	pthread_once(&ru_once, ru_init);
	uint8_t nat_idx[RANDOMUSER_NNATS];
	int nnat = 0;
	for (int i = 0; i < RANDOMUSER_NNATS; i++)
		if (q->nats & (1u << i))
			nat_idx[nnat++] = (uint8_t)i;
	if (nnat == 0)
		for (int i = 0; i < RANDOMUSER_NNATS; i++)
			nat_idx[nnat++] = (uint8_t)i;
	uint64_t seed_hash = ru_hash_seed(q->seed);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert(ctx);

	if (q->format == RANDOMUSER_CSV) {
		int first = 1;
		for (size_t i = 0; i < sizeof(ru_csv_cols) / sizeof(ru_csv_cols[0]); i++) {
			if (!(q->fields & ru_csv_cols[i].field))
				continue;
			if (!first)
				brook_buf_putc(out, ',');
			brook_buf_puts(out, ru_csv_cols[i].cols);
			first = 0;
		}
		brook_buf_putc(out, '\n');
		for (int64_t k = 0; k < q->results; k++) {
			ru_user u;
			ru_user_make(&u, q, nat_idx, nnat, seed_hash,
				     (uint64_t)((q->page - 1) * q->results + k), ctx);
			brook_buf_reserve(out, RU_USER_MAX);
			char *start = out->data + out->len;
			char *p = ru_csv_user(start, &u, q->fields);
			out->len += (size_t)(p - start);
			out->data[out->len] = '\0';
		}
	} else if (q->format == RANDOMUSER_PRETTY) {
		brook_buf tmp = BROOK_BUF_INIT;
		ru_json_body(q, &tmp, nat_idx, nnat, seed_hash, ctx);
		ru_prettify(tmp.data, tmp.len, out);
		brook_buf_release(&tmp);
	} else {
		ru_json_body(q, out, nat_idx, nnat, seed_hash, ctx);
	}
	EVP_MD_CTX_free(ctx);
}

const char *randomuser_content_type(const randomuser_query *q)
{
	return q->format == RANDOMUSER_CSV ? "text/csv; charset=utf-8"
					   : "application/json; charset=utf-8";
}

void randomuser_error_body(brook_buf *out, const char *msg)
{
	brook_buf_puts(out, "{\"error\":\"");
	brook_buf_put_json_escaped(out, msg, strlen(msg));
	brook_buf_puts(out, "\"}");
}

/* ---------------------------------------------------------------- query */

int randomuser_nat_index(const char *code, size_t n)
{
	if (n != 2)
		return -1;
	char c0 = (char)toupper((unsigned char)code[0]), c1 = (char)toupper((unsigned char)code[1]);
	for (int i = 0; i < RANDOMUSER_NNATS; i++)
		if (randomuser_nat_codes[i][0] == c0 && randomuser_nat_codes[i][1] == c1)
			return i;
	return -1;
}

static const char *const ru_field_names[] = {
	"gender", "name", "location", "email", "login", "dob",
	"registered", "phone", "cell", "id", "picture", "nat",
};

static uint32_t ru_field_bit(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(ru_field_names) / sizeof(ru_field_names[0]); i++)
		if (strlen(ru_field_names[i]) == n && strncasecmp(ru_field_names[i], s, n) == 0)
			return 1u << i;
	return 0;
}

void randomuser_query_init(randomuser_query *q)
{
	memset(q, 0, sizeof(*q));
	q->results = 1;
	q->page = 1;
	q->nats = (1u << RANDOMUSER_NNATS) - 1;
	q->fields = RANDOMUSER_F_ALL;
	q->format = RANDOMUSER_JSON;
	uint8_t rnd[8];
	size_t got = 0;
	while (got < sizeof(rnd)) {
		ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (r > 0)
			got += (size_t)r;
	}
	ru_hex(rnd, sizeof(rnd), q->seed);
}

/* A decimal integer of digits only; huge values saturate at INT64_MAX / 10. */
static int ru_parse_uint(const char *v, int64_t *out)
{
	if (!v || !*v)
		return BROOK_ERR;
	int64_t x = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return BROOK_ERR;
		if (x < INT64_C(1000000000000))
			x = x * 10 + (*p - '0');
	}
	*out = x;
	return BROOK_OK;
}

/* The bits named by a comma list: nationalities (nats) or fields. */
static uint32_t ru_list_bits(const char *v, int nats)
{
	uint32_t bits = 0;
	while (v && *v) {
		const char *end = strchr(v, ',');
		size_t n = end ? (size_t)(end - v) : strlen(v);
		while (n && v[0] == ' ') {
			v++;
			n--;
		}
		while (n && v[n - 1] == ' ')
			n--;
		if (nats) {
			int i = randomuser_nat_index(v, n);
			if (i >= 0)
				bits |= 1u << i;
		} else {
			bits |= ru_field_bit(v, n);
		}
		v = end ? end + 1 : NULL;
	}
	return bits;
}

int randomuser_query_set(randomuser_query *q, const char *key, const char *value,
			 int64_t max_results, char *err, size_t errlen)
{
	if (max_results < 1)
		max_results = RANDOMUSER_MAX_RESULTS;
	if (strcmp(key, "results") == 0) {
		int64_t v;
		if (ru_parse_uint(value, &v) != BROOK_OK || v < 1) {
			snprintf(err, errlen,
				 "results must be a whole number from 1 to %lld; got '%.40s'",
				 (long long)max_results, value ? value : "");
			return BROOK_ERR;
		}
		q->results = v > max_results ? max_results : v;
	} else if (strcmp(key, "page") == 0) {
		int64_t v;
		if (ru_parse_uint(value, &v) != BROOK_OK || v < 1 || v > RANDOMUSER_MAX_PAGE) {
			snprintf(err, errlen,
				 "page must be a whole number from 1 to %d; got '%.40s'",
				 RANDOMUSER_MAX_PAGE, value ? value : "");
			return BROOK_ERR;
		}
		q->page = v;
	} else if (strcmp(key, "seed") == 0) {
		size_t n = value ? strlen(value) : 0;
		if (n > RANDOMUSER_SEED_MAX) {
			snprintf(err, errlen, "seed is longer than %d bytes; use a shorter seed",
				 RANDOMUSER_SEED_MAX);
			return BROOK_ERR;
		}
		if (n)
			memcpy(q->seed, value, n + 1);
	} else if (strcmp(key, "gender") == 0) {
		if (value && strcasecmp(value, "male") == 0)
			q->gender = RANDOMUSER_MALE;
		else if (value && strcasecmp(value, "female") == 0)
			q->gender = RANDOMUSER_FEMALE;
		else
			q->gender = RANDOMUSER_ANY;
	} else if (strcmp(key, "nat") == 0) {
		uint32_t bits = ru_list_bits(value, 1);
		q->nats = bits ? bits : (1u << RANDOMUSER_NNATS) - 1;
	} else if (strcmp(key, "inc") == 0) {
		q->inc = ru_list_bits(value, 0);
		q->inc_given = 1;
	} else if (strcmp(key, "exc") == 0) {
		q->exc = ru_list_bits(value, 0);
	} else if (strcmp(key, "format") == 0 || strcmp(key, "fmt") == 0) {
		if (value && strcasecmp(value, "json") == 0)
			q->format = RANDOMUSER_JSON;
		else if (value && (strcasecmp(value, "pretty") == 0 ||
				   strcasecmp(value, "prettyjson") == 0))
			q->format = RANDOMUSER_PRETTY;
		else if (value && strcasecmp(value, "csv") == 0)
			q->format = RANDOMUSER_CSV;
		else {
			snprintf(err, errlen,
				 "format '%.40s' is not supported; use json, pretty or csv",
				 value ? value : "");
			return BROOK_ERR;
		}
	} else if (strcmp(key, "noinfo") == 0) {
		q->noinfo = 1;
	}
	return BROOK_OK;
}

void randomuser_query_finish(randomuser_query *q)
{
	uint32_t f = q->inc_given ? q->inc : RANDOMUSER_F_ALL;
	q->fields = f & ~q->exc;
}

int randomuser_query_parse(randomuser_query *q, const char *qs, size_t n, int64_t max_results,
			   char *err, size_t errlen)
{
	char *key = NULL, *val = NULL;
	int rc = BROOK_OK;
	size_t i = 0;
	if (n && qs[0] == '?')
		i = 1;
	while (i < n && rc == BROOK_OK) {
		const char *amp = memchr(qs + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - qs) : n;
		const char *pair = qs + i;
		size_t plen = end - i;
		i = end + 1;
		if (plen == 0)
			continue;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		if (!key) {
			key = brook_malloc(RU_PARAM_MAX + 1);
			val = brook_malloc(RU_PARAM_MAX + 1);
		}
		size_t vlen = eq ? plen - klen - 1 : 0;
		if (klen > RU_PARAM_MAX || vlen > RU_PARAM_MAX) {
			snprintf(err, errlen, "a query parameter is longer than %d bytes",
				 RU_PARAM_MAX);
			rc = BROOK_ERR;
			break;
		}
		brook_pct_decode(pair, klen, key, true);
		brook_pct_decode(eq ? eq + 1 : "", vlen, val, true);
		rc = randomuser_query_set(q, key, eq ? val : NULL, max_results, err, errlen);
	}
	free(key);
	free(val);
	if (rc == BROOK_OK)
		randomuser_query_finish(q);
	return rc;
}
