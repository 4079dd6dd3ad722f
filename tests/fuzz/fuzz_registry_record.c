/*
 * fuzz_registry_record.c — the Schema Registry state machine (registry/store.h) on
 * arbitrary `_schemas` records.
 *
 * The input is a sequence of records, one per line: "KEY\tVALUE", or "KEY" alone for a
 * tombstone. Each is applied to a fresh store in order (malformed ones are ignored);
 * then every query runs on the result and writes are planned and their records applied
 * back, so a record that left the state inconsistent shows as a crash, a leak or an
 * ASan report. Invariant checked: an accepted SCHEMA record's (subject, version) reads
 * back, and every id listed for a subject resolves to a schema.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(reg_store *st)
{
	char err[1024];
	json_t *subjects = reg_store_subjects(st, true);
	size_t i;
	json_t *sv;
	json_array_foreach(subjects, i, sv) {
		const char *s = json_string_value(sv);
		json_t *out = NULL, *versions = NULL;
		if (reg_store_versions(st, s, true, &versions, err, sizeof err) == 0) {
			size_t j;
			json_t *vv;
			json_array_foreach(versions, j, vv) {
				int v = (int)json_integer_value(vv);
				int64_t id = reg_store_version_id(st, s, v);
				assert(id >= 0);
				assert(reg_store_schema_by_id(st, id, &out, err, sizeof err) == 0);
				json_decref(out);
				out = NULL;
			}
			json_decref(versions);
		}
		if (reg_store_version(st, s, "latest", false, &out, err, sizeof err) == 0) {
			const char *text = json_string_value(json_object_get(out, "schema"));
			json_t *o2 = NULL;
			assert(text);
			assert(reg_store_lookup(st, s, text, false, &o2, err, sizeof err) == 0);
			json_decref(o2);
			o2 = NULL;
			if (reg_store_check(st, s, "latest", text, true, &o2, err, sizeof err) == 0)
				json_decref(o2);
			json_decref(out);
			out = NULL;
		}
		if (reg_store_config(st, s, true, &out, err, sizeof err) == 0)
			json_decref(out);
		out = NULL;

		reg_plan p = {NULL, 0};
		int64_t id;
		int version;
		if (reg_store_plan_register(st, s, "\"string\"", &p, &id, &version, err,
					    sizeof err) == 0) {
			for (size_t k = 0; k < p.n; k++) {
				const reg_record *r = &p.recs[k];
				reg_store_apply(st, r->key, strlen(r->key), r->value,
						r->value ? strlen(r->value) : 0);
			}
		}
		reg_plan_release(&p);
		for (int perm = 0; perm < 2; perm++) {
			out = NULL;
			if (reg_store_plan_delete_subject(st, s, perm, &p, &out, err,
							  sizeof err) == 0) {
				for (size_t k = 0; k < p.n; k++) {
					const reg_record *r = &p.recs[k];
					bool ok = reg_store_apply(st, r->key, strlen(r->key),
								  r->value,
								  r->value ? strlen(r->value) : 0);
					assert(ok);
				}
				json_decref(out);
			}
			reg_plan_release(&p);
		}
	}
	json_decref(subjects);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reg_store *st = reg_store_new();
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *tab = memchr(p, '\t', (size_t)(line_end - p));
		const char *kend = tab ? tab : line_end;
		reg_store_apply(st, p, (size_t)(kend - p), tab ? tab + 1 : NULL,
				tab ? (size_t)(line_end - tab - 1) : 0);
		p = nl ? nl + 1 : end;
	}
	exercise(st);
	reg_store_free(st);
	return 0;
}
