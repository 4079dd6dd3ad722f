/*
 * avro_datum.c — a driver on brook's Avro binary codec (src/avro/datum.h) for
 * tests/integration/test_avro_datum.py, which runs it beside python3-avro.
 *
 *   avro_datum encode SCHEMA_FILE JSON_FILE     the Avro binary encoding, as hex
 *   avro_datum decode SCHEMA_FILE HEX           the datum as compact JSON
 *   avro_datum resolve WRITER_FILE READER_FILE HEX
 *                                               decoded with schema resolution, JSON
 * Exit status: 0 done, 1 the codec refused (message "error: ..." on stdout), 2 usage,
 * unreadable file or invalid schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/datum.h"
#include "avro/schema.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "avro_datum: cannot open %s\n", path);
		exit(2);
	}
	brook_buf b = BROOK_BUF_INIT;
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		brook_buf_append(&b, chunk, got);
	fclose(f);
	brook_buf_reserve(&b, 1);
	return brook_buf_detach(&b, len);
}

static avro_schema *load_schema(const char *path)
{
	size_t len;
	char *text = read_file(path, &len);
	char err[512];
	avro_schema *s = avro_schema_parse(text, len, err, sizeof err);
	free(text);
	if (!s) {
		fprintf(stderr, "avro_datum: %s: invalid schema: %s\n", path, err);
		exit(2);
	}
	return s;
}

static uint8_t *unhex(const char *hex, size_t *n)
{
	size_t len = strlen(hex);
	if (len % 2) {
		fprintf(stderr, "avro_datum: odd number of hex digits\n");
		exit(2);
	}
	uint8_t *b = brook_malloc(len / 2 + 1);
	for (size_t i = 0; i < len / 2; i++) {
		int hi = brook_hexval((unsigned char)hex[2 * i]);
		int lo = brook_hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "avro_datum: bad hex digit\n");
			exit(2);
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return b;
}

static int print_result(int rc, json_t *v, const char *err)
{
	if (rc != 0) {
		printf("error: %s\n", err);
		return 1;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	printf("%s\n", s);
	free(s);
	json_decref(v);
	return 0;
}

int main(int argc, char **argv)
{
	char err[512] = "";
	if (argc == 4 && !strcmp(argv[1], "encode")) {
		avro_schema *s = load_schema(argv[2]);
		size_t len;
		char *text = read_file(argv[3], &len);
		json_error_t jerr;
		json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		free(text);
		if (!v) {
			fprintf(stderr, "avro_datum: %s: %s\n", argv[3], jerr.text);
			avro_schema_free(s);
			return 2;
		}
		brook_buf out = BROOK_BUF_INIT;
		int rc = avro_encode(s, v, &out, err, sizeof err);
		if (rc == 0) {
			for (size_t i = 0; i < out.len; i++)
				printf("%02x", (uint8_t)out.data[i]);
			printf("\n");
		} else {
			printf("error: %s\n", err);
		}
		brook_buf_release(&out);
		json_decref(v);
		avro_schema_free(s);
		return rc ? 1 : 0;
	}
	if (argc == 4 && !strcmp(argv[1], "decode")) {
		avro_schema *s = load_schema(argv[2]);
		size_t n;
		uint8_t *b = unhex(argv[3], &n);
		json_t *v = NULL;
		int rc = avro_decode(s, b, n, &v, err, sizeof err);
		free(b);
		avro_schema_free(s);
		return print_result(rc, v, err);
	}
	if (argc == 5 && !strcmp(argv[1], "resolve")) {
		avro_schema *w = load_schema(argv[2]);
		avro_schema *r = load_schema(argv[3]);
		size_t n;
		uint8_t *b = unhex(argv[4], &n);
		json_t *v = NULL;
		int rc = avro_decode_resolving(w, r, b, n, &v, err, sizeof err);
		free(b);
		avro_schema_free(w);
		avro_schema_free(r);
		return print_result(rc, v, err);
	}
	fprintf(stderr, "usage: avro_datum encode SCHEMA JSON | decode SCHEMA HEX | "
	                "resolve WRITER READER HEX\n");
	return 2;
}
