/*
 * fuzz_avro_schema.c — the Avro schema parser and everything built on a parsed schema.
 *
 * The input is schema text. When it parses: the canonical form, fingerprint and
 * normalized JSON form are computed; the JSON form must parse again to a schema with
 * the same canonical form (and the same JSON form), and every schema must be able to
 * read itself. Nothing may crash, leak, read out of bounds or loop forever.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro/compat.h"
#include "avro/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	avro_schema *s = avro_schema_parse((const char *)data, size, err, sizeof err);
	if (!s)
		return 0;
	char *pcf = avro_schema_canonical(s);
	(void)avro_schema_fingerprint64(s);
	char *js = avro_schema_to_json(s);
	avro_schema *t = avro_schema_parse(js, strlen(js), err, sizeof err);
	if (!t)
		abort(); /* the JSON form must parse */
	char *pcf2 = avro_schema_canonical(t);
	char *js2 = avro_schema_to_json(t);
	if (strcmp(pcf, pcf2) || strcmp(js, js2))
		abort(); /* and be stable */
	avro_compat_report rep = AVRO_COMPAT_REPORT_INIT;
	if (!avro_can_read(s, s, &rep) || !avro_can_read(s, t, NULL) || rep.n)
		abort();
	avro_compat_report_release(&rep);
	free(pcf);
	free(pcf2);
	free(js);
	free(js2);
	avro_schema_free(s);
	avro_schema_free(t);
	return 0;
}
