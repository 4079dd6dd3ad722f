/*
 * uuid.c — RFC 9562 version 4 (random) and version 5 (SHA-1 name-based) UUIDs.
 *
 * Layout: 16 bytes in network order. The version lives in the high nibble of byte 6,
 * the variant (binary 10) in the two high bits of byte 8.
 *
 * v4: 16 bytes from getrandom(2) (blocking only until the kernel pool is initialised
 * at boot; EINTR and short reads are retried), then version and variant are set.
 * v5: SHA-1 over namespace bytes || name (OpenSSL EVP), the first 16 bytes of the
 * digest, then version 5 and the variant. The SHA-1 implementation is fetched once per
 * process (OpenSSL 3 looks it up again on every EVP_sha1() init otherwise: a third of a
 * v5's time) and kept until exit. If getrandom or SHA-1 fail the process
 * aborts: both mean the system is broken, and a wrong id would silently corrupt data.
 */
#include "core/uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "core/err.h"
#include "core/text.h"

const brook_uuid brook_uuid_ns_dns = {{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4,
                                       0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};
const brook_uuid brook_uuid_ns_url = {{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4,
                                       0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};
const brook_uuid brook_uuid_ns_oid = {{0x6b, 0xa7, 0xb8, 0x12, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4,
                                       0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};
const brook_uuid brook_uuid_ns_x500 = {{0x6b, 0xa7, 0xb8, 0x14, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4,
                                        0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}};

static void uuid_set_version(brook_uuid *u, unsigned version)
{
	u->b[6] = (uint8_t)((u->b[6] & 0x0f) | (version << 4));
	u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80);
}

void brook_uuid_v4(brook_uuid *out)
{
	size_t got = 0;

	while (got < sizeof(out->b)) {
		ssize_t r = getrandom(out->b + got, sizeof(out->b) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "brook: getrandom failed (%s); cannot make ids, aborting\n",
			        strerror(errno));
			abort();
		}
		got += (size_t)r;
	}
	uuid_set_version(out, 4);
}

static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void sha1_fetch(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void brook_uuid_v5(brook_uuid *out, const brook_uuid *ns, const void *name, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	pthread_once(&sha1_once, sha1_fetch);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !sha1_md || EVP_DigestInit_ex(ctx, sha1_md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, ns->b, sizeof(ns->b)) != 1 ||
	    EVP_DigestUpdate(ctx, name, n) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen < sizeof(out->b)) {
		fprintf(stderr, "brook: SHA-1 is unavailable in libcrypto; aborting\n");
		abort();
	}
	EVP_MD_CTX_free(ctx);
	memcpy(out->b, md, sizeof(out->b));
	uuid_set_version(out, 5);
}

void brook_uuid_format(const brook_uuid *u, char out[BROOK_UUID_STRLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u->b[i] >> 4];
		out[o++] = hex[u->b[i] & 0xf];
	}
	out[o] = '\0';
}

int brook_uuid_parse(const char *s, size_t n, brook_uuid *out)
{
	brook_uuid u;
	size_t i, o = 0;

	if (n != BROOK_UUID_STRLEN)
		return BROOK_ERR;
	for (i = 0; i < BROOK_UUID_STRLEN;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return BROOK_ERR;
			i++;
			continue;
		}
		hi = brook_hexval((unsigned char)s[i]);
		lo = brook_hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return BROOK_ERR;
		u.b[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*out = u;
	return BROOK_OK;
}

int brook_uuid_version(const brook_uuid *u)
{
	return u->b[6] >> 4;
}
