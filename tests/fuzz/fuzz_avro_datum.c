/*
 * fuzz_avro_datum.c — the Avro binary decoder, encoder and resolving decoder.
 *
 * The first input byte picks one of a few fixed writer schemas (a record with every
 * type, a union-heavy array, a recursive list/tree); the rest is decoded with it. When
 * decoding succeeds the value is re-encoded, the bytes decoded again to an equal value,
 * and re-encoding that value must give the same bytes: encoding is a fixed point after
 * one decode. (The raw input itself may legally differ from the re-encoding: negative
 * block counts, several blocks and over-long varints decode to the same value.) The
 * unions in these schemas are unambiguous under the encoder's matching rule, so no value
 * may change branch. Every input is also decoded against a second, evolved reader
 * schema with the resolving decoder, which must not crash, leak or loop.
 *
 * Differential check of the two decoder forms: both the plain and the resolving decode
 * also run into jdoc nodes (avro_decode_jdoc, one arena kept across inputs and reset
 * each time); they must succeed or fail exactly when the json_t API does, with the same
 * message, and the nodes converted with brook_jdoc_to_json must equal its value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro/datum.h"
#include "avro/schema.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/jdoc.h"

static brook_arena arena = BROOK_ARENA_INIT;

/* The jdoc decoder agrees with the json_t API's result (rc, value v or message err). */
static void same_as_jdoc(const avro_schema *w, const avro_schema *r, const uint8_t *p, size_t n,
                         int rc, const json_t *v, const char *err)
{
	char jerr[256];
	const brook_jnode *node = NULL;
	brook_arena_reset(&arena);
	int jrc = avro_decode_jdoc(w, r, p, n, &arena, &node, jerr, sizeof jerr);
	if (jrc != rc)
		abort(); /* one form decodes what the other refuses */
	if (rc != 0) {
		if (node || strcmp(err, jerr))
			abort(); /* a failure leaves no root and says the same */
		return;
	}
	json_t *conv = brook_jdoc_to_json(node);
	if (!conv || !json_equal(conv, v))
		abort(); /* the nodes are the same value */
	json_decref(conv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENUM_E "{\"type\":\"enum\",\"name\":\"Suit\",\"symbols\":[\"S\",\"H\",\"D\",\"C\"]}"

static const char *const writers[] = {
    /* 0: every type */
    "{\"type\":\"record\",\"name\":\"All\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"null\"},{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"y\",\"type\":\"bytes\"},"
    "{\"name\":\"e\",\"type\":" ENUM_E "},"
    "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"F4\",\"size\":4}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"long\",\"string\"]},"
    "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
    "{\"name\":\"k\",\"type\":\"Suit\"}]}}]}",
    /* 1: unions everywhere */
    "{\"type\":\"array\",\"items\":[\"null\",\"boolean\",\"int\",\"double\",\"bytes\","
    "{\"type\":\"map\",\"values\":[\"null\",\"long\",{\"type\":\"array\",\"items\":"
    "[\"string\",\"null\"]}]},"
    "{\"type\":\"array\",\"items\":[\"null\"," ENUM_E ",{\"type\":\"record\",\"name\":\"P\","
    "\"fields\":[{\"name\":\"q\",\"type\":[\"null\",\"float\",\"string\"]}]}]}]}",
    /* 2: recursive */
    "{\"type\":\"record\",\"name\":\"Tree\",\"fields\":[{\"name\":\"v\",\"type\":\"long\"},"
    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"Tree\"}},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Tree\"]}]}",
};

static const char *const readers[] = {
    /* 0: fields dropped, promoted, renamed by alias, added with defaults */
    "{\"type\":\"record\",\"name\":\"All\",\"fields\":["
    "{\"name\":\"ii\",\"aliases\":[\"i\"],\"type\":\"double\"},"
    "{\"name\":\"l\",\"type\":\"float\"},{\"name\":\"f\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"bytes\"},{\"name\":\"y\",\"type\":\"string\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"Suit\",\"symbols\":[\"S\",\"H\","
    "\"X\"],\"default\":\"X\"}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"long\"]}},"
    "{\"name\":\"u\",\"type\":[\"string\",\"double\",\"null\"]},"
    "{\"name\":\"z\",\"type\":{\"type\":\"map\",\"values\":\"int\"},\"default\":{\"a\":1}},"
    "{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
    "{\"name\":\"k\",\"type\":\"Suit\"},{\"name\":\"w\",\"type\":[\"null\",\"int\"],"
    "\"default\":null}]}}]}",
    /* 1: a reader that takes some branches only */
    "{\"type\":\"array\",\"items\":[\"null\",\"long\",\"double\",\"string\","
    "{\"type\":\"map\",\"values\":[\"null\",\"double\",{\"type\":\"array\",\"items\":"
    "\"string\"}]}]}",
    /* 2: recursive, with a promoted field and an added one */
    "{\"type\":\"record\",\"name\":\"Tree\",\"fields\":[{\"name\":\"v\",\"type\":\"double\"},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Tree\"]},"
    "{\"name\":\"kids\",\"type\":{\"type\":\"array\",\"items\":\"Tree\"}},"
    "{\"name\":\"tag\",\"type\":\"string\",\"default\":\"t\"}]}",
};

#define NSCHEMAS (sizeof writers / sizeof writers[0])

static avro_schema *wparsed[NSCHEMAS], *rparsed[NSCHEMAS];

static avro_schema *get(avro_schema **slot, const char *text)
{
	if (!*slot) {
		char err[256];
		*slot = avro_schema_parse(text, strlen(text), err, sizeof err);
		if (!*slot)
			abort(); /* a fixed schema of this target does not parse */
	}
	return *slot;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t k = data[0] % NSCHEMAS;
	avro_schema *w = get(&wparsed[k], writers[k]);
	avro_schema *r = get(&rparsed[k], readers[k]);
	const uint8_t *p = size > 1 ? data + 1 : NULL;
	size_t n = size - 1;
	char err[256];

	json_t *v = NULL;
	int rc = avro_decode(w, p, n, &v, err, sizeof err);
	same_as_jdoc(w, NULL, p, n, rc, v, err);
	if (rc == 0) {
		brook_buf b1 = BROOK_BUF_INIT, b2 = BROOK_BUF_INIT;
		if (avro_encode(w, v, &b1, err, sizeof err) != 0)
			abort(); /* a decoded value must encode */
		json_t *v2 = NULL;
		if (avro_decode(w, (const uint8_t *)b1.data, b1.len, &v2, err, sizeof err) != 0)
			abort(); /* and its encoding decode */
		if (!json_equal(v, v2))
			abort(); /* to the same value */
		if (avro_encode(w, v2, &b2, err, sizeof err) != 0 || b1.len != b2.len ||
		    (b1.len && memcmp(b1.data, b2.data, b1.len)))
			abort(); /* with the same bytes */
		json_decref(v2);
		brook_buf_release(&b1);
		brook_buf_release(&b2);
		json_decref(v);
	}

	json_t *rv = NULL;
	rc = avro_decode_resolving(w, r, p, n, &rv, err, sizeof err);
	same_as_jdoc(w, r, p, n, rc, rv, err);
	json_decref(rv);
	return 0;
}
