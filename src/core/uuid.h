/*
 * uuid.h — RFC 4122 / RFC 9562 UUIDs: random (v4) and name-based SHA-1 (v5).
 *
 * v4 draws from getrandom(2). v5 hashes namespace || name with SHA-1 (OpenSSL
 * libcrypto), so the same name always gives the same id — the pipeline derives row
 * ids this way, making replays upserts. Text form is lower-case 8-4-4-4-12.
 */
#ifndef BROOK_CORE_UUID_H
#define BROOK_CORE_UUID_H

#include <stddef.h>
#include <stdint.h>

typedef struct brook_uuid {
	uint8_t b[16];
} brook_uuid;

#define BROOK_UUID_STRLEN 36

extern const brook_uuid brook_uuid_ns_dns;  /* 6ba7b810-9dad-11d1-80b4-00c04fd430c8 */
extern const brook_uuid brook_uuid_ns_url;  /* 6ba7b811-... */
extern const brook_uuid brook_uuid_ns_oid;  /* 6ba7b812-... */
extern const brook_uuid brook_uuid_ns_x500; /* 6ba7b814-... */

void brook_uuid_v4(brook_uuid *out);
void brook_uuid_v5(brook_uuid *out, const brook_uuid *ns, const void *name, size_t n);
/* Writes 36 characters plus NUL into out. */
void brook_uuid_format(const brook_uuid *u, char out[BROOK_UUID_STRLEN + 1]);
/* Accepts the 36-character form, either case. BROOK_OK or BROOK_ERR. */
int brook_uuid_parse(const char *s, size_t n, brook_uuid *out);
int brook_uuid_version(const brook_uuid *u);

#endif
