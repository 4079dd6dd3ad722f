/*
 * avro_check.c — a driver on brook's Avro schema code for tests/integration/
 * test_avro_oracle.py, which runs it beside python3-avro.
 *
 *   avro_check compat READER_FILE WRITER_FILE   prints "compatible" or "incompatible" and
 *                                               one line per issue: KIND<TAB>PATH<TAB>message
 *   avro_check canonical FILE                   the Parsing Canonical Form
 *   avro_check fingerprint FILE                 CRC-64-AVRO as 16 hex digits
 *   avro_check json FILE                        the normalized JSON form
 * A schema that does not parse prints "invalid: <message>". Exit status: 0 done (any
 * verdict), 2 usage or unreadable file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/compat.h"
#include "avro/schema.h"
#include "core/mem.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "avro_check: cannot open %s\n", path);
		exit(2);
	}
	size_t cap = 4096, n = 0;
	char *buf = brook_malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = brook_realloc(buf, cap);
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

static avro_schema *load(const char *path)
{
	size_t len;
	char err[512];
	char *text = read_file(path, &len);
	avro_schema *s = avro_schema_parse(text, len, err, sizeof err);
	free(text);
	if (!s)
		printf("invalid: %s\n", err);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "compat")) {
		avro_schema *r = load(argv[2]), *w = r ? load(argv[3]) : NULL;
		if (!r || !w) {
			avro_schema_free(r);
			return 0;
		}
		avro_compat_report rep = AVRO_COMPAT_REPORT_INIT;
		bool ok = avro_can_read(r, w, &rep);
		printf("%s\n", ok ? "compatible" : "incompatible");
		for (size_t i = 0; i < rep.n; i++)
			printf("%s\t%s\t%s\n", avro_incompat_name(rep.issues[i].kind),
			       rep.issues[i].path, rep.issues[i].message);
		avro_compat_report_release(&rep);
		avro_schema_free(r);
		avro_schema_free(w);
		return 0;
	}
	if (argc == 3) {
		avro_schema *s = load(argv[2]);
		if (!s)
			return 0;
		char *out = NULL;
		if (!strcmp(argv[1], "canonical"))
			out = avro_schema_canonical(s);
		else if (!strcmp(argv[1], "json"))
			out = avro_schema_to_json(s);
		else if (!strcmp(argv[1], "fingerprint"))
			printf("%016" PRIx64 "\n", avro_schema_fingerprint64(s));
		else {
			avro_schema_free(s);
			goto usage;
		}
		if (out)
			printf("%s\n", out);
		free(out);
		avro_schema_free(s);
		return 0;
	}
usage:
	fprintf(stderr,
	        "usage: avro_check compat READER WRITER | canonical|fingerprint|json FILE\n");
	return 2;
}
