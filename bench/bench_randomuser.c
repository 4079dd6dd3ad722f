/*
 * bench_randomuser.c — how fast brook serves randomuser users, against a baseline.
 *
 * Usage: bench_randomuser [SECONDS [CLIENT_THREADS]]   (defaults 5 and 2)
 *
 * Three figures:
 *   1. generation only: randomuser_generate(results=5000) in a loop, one thread;
 *   2. the randomuser API in-process on 127.0.0.1:0, fetched by CLIENT_THREADS keep-alive
 *      clients (brook_httpc), results=5000, a distinct seed per request;
 *   3. the baseline: a second brook_httpd serving a static body of the same size as one
 *      results=5000 response (the cost of serving a file that size), same clients.
 * The ratio 2/3 says how close generating is to just serving bytes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/httpc.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "source/randomuser.h"
#include "source/randomuser_server.h"

#define BENCH_RESULTS 5000

static brook_buf static_body = BROOK_BUF_INIT;

static void static_handler(const brook_http_request *req, brook_http_response *resp, void *arg)
{
	(void)req;
	(void)arg;
	resp->content_type = "application/json; charset=utf-8";
	brook_buf_append(&resp->body, static_body.data, static_body.len);
}

typedef struct client {
	pthread_t tid;
	int id;
	int port;
	int64_t deadline_ms;
	uint64_t requests, bytes, failures;
} client;

static void *client_main(void *arg)
{
	client *c = arg;
	brook_httpc_opts o = {.timeout_ms = 60000, .max_body_bytes = 64u << 20};
	brook_httpc *h = brook_httpc_new(&o);
	char url[256];

	for (uint64_t i = 0; brook_mono_ms() < c->deadline_ms; i++) {
		brook_httpc_result res;
		memset(&res, 0, sizeof(res));
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/?results=%d&seed=b%d-%llu",
			 c->port, BENCH_RESULTS, c->id, (unsigned long long)i);
		if (brook_httpc_get(h, url, &res) == BROOK_OK && res.status == 200) {
			c->requests++;
			c->bytes += res.body.len;
		} else {
			c->failures++;
		}
		brook_httpc_result_release(&res);
	}
	brook_httpc_free(h);
	return NULL;
}

typedef struct figures {
	double users_s, mb_s, req_s;
	uint64_t failures;
} figures;

static figures run_clients(int port, int nthreads, double seconds)
{
	client *cs = calloc((size_t)nthreads, sizeof(*cs));
	int64_t t0 = brook_mono_ms();
	figures f = {0};
	uint64_t req = 0, bytes = 0;

	for (int i = 0; i < nthreads; i++) {
		cs[i].id = i;
		cs[i].port = port;
		cs[i].deadline_ms = t0 + (int64_t)(seconds * 1000);
		pthread_create(&cs[i].tid, NULL, client_main, &cs[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(cs[i].tid, NULL);
		req += cs[i].requests;
		bytes += cs[i].bytes;
		f.failures += cs[i].failures;
	}
	double el = (double)(brook_mono_ms() - t0) / 1000.0;
	f.req_s = (double)req / el;
	f.users_s = f.req_s * BENCH_RESULTS;
	f.mb_s = (double)bytes / el / 1e6;
	free(cs);
	return f;
}

/* 1234567 -> "1,234,567" */
static const char *thousands(double v, char *out)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%.0f", v);
	size_t n = strlen(tmp), o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
	return out;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	int nthreads = argc > 2 ? atoi(argv[2]) : 2;
	char err[256], a[32], b[32];

	if (seconds <= 0 || nthreads < 1) {
		fprintf(stderr, "usage: bench_randomuser [SECONDS [CLIENT_THREADS]]\n");
		return 2;
	}
	brook_log_set_level(BROOK_LOG_WARN);

	/* 1. generation only */
	randomuser_query q;
	randomuser_query_init(&q);
	q.results = BENCH_RESULTS;
	brook_buf out = BROOK_BUF_INIT;
	uint64_t gen_users = 0;
	int64_t t0 = brook_mono_ns(), deadline = t0 + (int64_t)(seconds * 5e8);
	for (int i = 0; brook_mono_ns() < deadline; i++) {
		snprintf(q.seed, sizeof(q.seed), "gen%d", i);
		brook_buf_reset(&out);
		randomuser_generate(&q, &out);
		gen_users += BENCH_RESULTS;
	}
	double gen_el = (double)(brook_mono_ns() - t0) / 1e9;
	brook_buf_release(&out);

	/* the static baseline body: one real results=5000 response */
	snprintf(q.seed, sizeof(q.seed), "static");
	randomuser_generate(&q, &static_body);

	randomuser_server_opts so = {.host = "127.0.0.1", .port = 0, .threads = 0};
	randomuser_server *rs = randomuser_server_open(&so, err, sizeof(err));
	if (!rs) {
		fprintf(stderr, "bench: cannot start the randomuser API: %s\n", err);
		return 1;
	}
	brook_http_route route = {"GET", "/*", static_handler, NULL};
	brook_httpd_opts ho = {.host = "127.0.0.1", .port = 0, .component = "static"};
	brook_httpd *st = brook_httpd_open(&ho, &route, 1, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "bench: cannot start the static server: %s\n", err);
		randomuser_server_close(rs);
		return 1;
	}

	figures fr = run_clients(randomuser_server_port(rs), nthreads, seconds);
	figures fs = run_clients(brook_httpd_port(st), nthreads, seconds);

	printf("generation only (1 thread): %s users/s (%.1f MB/s of JSON)\n",
	       thousands((double)gen_users / gen_el, a),
	       (double)gen_users / gen_el * ((double)static_body.len / BENCH_RESULTS) / 1e6);
	printf("randomuser results=%d: %s users/s (%.1f MB/s, %.1f req/s)  "
	       "static same-size file: %s users-equiv/s (%.1f MB/s)  ratio %.2f\n",
	       BENCH_RESULTS, thousands(fr.users_s, a), fr.mb_s, fr.req_s,
	       thousands(fs.users_s, b), fs.mb_s, fs.users_s > 0 ? fr.users_s / fs.users_s : 0);
	if (fr.failures || fs.failures)
		printf("failed requests: randomuser %llu, static %llu\n",
		       (unsigned long long)fr.failures, (unsigned long long)fs.failures);

	brook_httpd_close(st);
	randomuser_server_close(rs);
	brook_buf_release(&static_body);
	return fr.failures || fs.failures ? 1 : 0;
}
