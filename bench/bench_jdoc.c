/*
 * bench_jdoc.c — how fast core/jdoc parses randomuser payloads, against jansson.
 *
 * Usage: bench_jdoc [SECONDS]   (default 3 per figure)
 *
 * The documents are 5,000 users from the offline randomuser generator (seeded), each
 * one compact JSON object of ~1.1 KB as brook stages it. Three figures, one thread:
 *   1. the baseline: jansson json_loadb (the general-purpose library) per user;
 *   2. brook_jdoc_parser_parse: the full parse into an arena, reset per 5,000;
 *   3. brook_jdoc_parser_parse_proj with the built-in `users` job's projection (the
 *      paths its input shape names: what the stream does per record).
 * Each prints µs per document, MB/s, and its ratio to the baseline.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/jdoc.h"
#include "core/timeutil.h"
#include "source/randomuser.h"
#include "stream/job.h"

#include "common.h"

#define USERS 5000

typedef struct doc {
	char *text;
	size_t len;
} doc;

static size_t make_docs(doc *d)
{
	randomuser_query q;
	brook_buf body = BROOK_BUF_INIT;
	char n[16], err[64];
	snprintf(n, sizeof n, "%d", USERS);
	randomuser_query_init(&q);
	if (randomuser_query_set(&q, "results", n, USERS, err, sizeof err) ||
	    randomuser_query_set(&q, "seed", "bench-jdoc", USERS, err, sizeof err)) {
		die("query: %s", err);
	}
	randomuser_query_finish(&q);
	randomuser_generate(&q, &body);
	json_error_t je;
	json_t *root = json_loadb(body.data, body.len, 0, &je);
	json_t *results = json_object_get(root, "results");
	size_t total = 0;
	for (size_t i = 0; i < USERS; i++) {
		d[i].text = json_dumps(json_array_get(results, i), JSON_COMPACT);
		d[i].len = strlen(d[i].text);
		total += d[i].len;
	}
	json_decref(root);
	brook_buf_release(&body);
	return total;
}

/* The built-in users job (config/brook.yaml), whose payload projection the stream uses. */
static stream_jobs users_job(void)
{
	char err[1024];
	stream_jobs jobs = {0};
	brook_cfg_node *root = brook_cfg_parse_yaml("built-in", brook_default_config_yaml,
						    strlen(brook_default_config_yaml), err,
						    sizeof err);
	const brook_cfg_node *tree =
	    root ? brook_cfg_map_get(brook_cfg_map_get(root, "stream"), "jobs") : NULL;
	if (!tree || stream_jobs_load(tree, "bench", &jobs, err, sizeof err) != BROOK_OK ||
	    stream_jobs_select(&jobs, "users", err, sizeof err) != BROOK_OK ||
	    !jobs.v[0].proj) {
		die("the built-in users job: %s", root ? err : "no configuration");
	}
	brook_cfg_node_free(root);
	return jobs;
}

enum { JANSSON, FULL, PROJECTED };

/* Parses every document in rounds until `seconds` pass; µs per document. */
static double run(int how, const doc *d, const brook_jproj *pj, double seconds)
{
	brook_jdoc_parser *p = brook_jdoc_parser_new();
	brook_arena a = BROOK_ARENA_INIT;
	char err[128];
	uint64_t docs = 0;
	int64_t t0 = brook_mono_ns(), deadline = t0 + (int64_t)(seconds * 1e9), t;
	do {
		for (size_t i = 0; i < USERS; i++) {
			int ok;
			if (how == JANSSON) {
				json_error_t je;
				json_t *j = json_loadb(d[i].text, d[i].len, 0, &je);
				ok = j != NULL;
				json_decref(j);
			} else {
				ok = brook_jdoc_parser_parse_proj(p, d[i].text, d[i].len,
								  how == FULL ? NULL : pj, &a, err,
								  sizeof err) != NULL;
			}
			if (!ok)
				die("document %zu refused", i);
		}
		brook_arena_reset(&a);
		docs += USERS;
		t = brook_mono_ns();
	} while (t < deadline);
	brook_arena_release(&a);
	brook_jdoc_parser_free(p);
	return (double)(t - t0) / 1e3 / (double)docs;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: bench_jdoc [SECONDS]\n"
		       "Parses 5,000 randomuser payloads with jansson (baseline), the jdoc full\n"
		       "parse and the stream's projected parse; SECONDS per figure (default 3).\n");
		return 0;
	}
	double seconds = argc > 1 ? atof(argv[1]) : 3.0;
	if (seconds <= 0)
		seconds = 3.0;
	static doc d[USERS];
	size_t bytes = make_docs(d);
	double avg = (double)bytes / USERS;
	stream_jobs jobs = users_job();
	const brook_jproj *pj = jobs.v[0].proj;
	printf("documents: %d randomuser users, %.0f bytes each on average\n", USERS, avg);
	double base = run(JANSSON, d, pj, seconds);
	printf("baseline  jansson json_loadb     %6.2f us/doc  %7.1f MB/s\n", base, avg / base);
	static const char *const names[] = {NULL, "jdoc full parse", "jdoc projected (users job)"};
	for (int how = FULL; how <= PROJECTED; how++) {
		double us = run(how, d, pj, seconds);
		printf("%-32s  %6.2f us/doc  %7.1f MB/s  %5.1fx jansson\n", names[how], us,
		       avg / us, base / us);
	}
	stream_jobs_free(&jobs);
	for (size_t i = 0; i < USERS; i++)
		free(d[i].text);
	return 0;
}
