/*
 * cmd_cql.c — `brook cql`: run CQL statements against brook's store or any Cassandra /
 * ScyllaDB node, through brook's own client (cql/client.h), and print the rows.
 *
 *   brook cql [--host HOST:PORT[,...]] [-u USER -p PASS] [-k KEYSPACE]
 *             (-e "STATEMENT[; ...]" | -f FILE) [--json]
 *
 * Statements are separated by ';' (quotes, $$ strings and comments respected) and run
 * one after the other on one connection, so `USE` carries over. A statement's rows are
 * fetched page by page to the end and printed as a cqlsh-style table, or with --json as
 * one JSON object per row (one per line). Other results print nothing.
 *
 * Exit codes: 0 every statement succeeded; 2 usage error, connection failure, or a
 * statement failed (the message goes to stderr and the remaining statements are not
 * run).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "cql/client.h"

static const brook_cli_opt cql_opts[] = {
	{"host", 0, "HOST:PORT[,...]", "cassandra.contact_points", NULL},
	{"username", 'u', "USER", NULL, "user name (PasswordAuthenticator)"},
	{"password", 'p', "PASSWORD", NULL, "password"},
	{"keyspace", 'k', "KEYSPACE", NULL, "keyspace to USE first"},
	{"execute", 'e', "STATEMENTS", NULL, "run these statements (separated by ';')"},
	{"file", 'f', "FILE", NULL, "run the statements in FILE ('-' reads stdin)"},
	{"json", 0, NULL, NULL, "print rows as JSON objects, one per line"},
	{"consistency", 0, "LEVEL", NULL,
	 "ONE, LOCAL_ONE (default), QUORUM, LOCAL_QUORUM, ALL, ..."},
	{"page-size", 0, "ROWS", NULL, "rows per page when fetching results (default 5000)"},
	{"timeout", 0, "DURATION", NULL, "per-statement timeout, e.g. 30s (default 12s)"},
	{"compression", 0, NULL, NULL, "use lz4 frame compression when the server offers it"},
	{NULL, 0, NULL, NULL, NULL},
};

static const brook_cli_spec spec = {
	.name = "cql",
	.usage = "[--host HOST:PORT] [-u USER -p PASSWORD] [-k KEYSPACE] (-e STATEMENTS | -f "
		 "FILE) [--json]",
	.summary = "Run CQL statements against brook's store or a Cassandra/ScyllaDB node over "
		   "the native protocol v4 and print the rows: as an aligned table like cqlsh, "
		   "or as one JSON object per row with --json. Statements are separated by ';' "
		   "and run in order on one connection; the first failure is printed on "
		   "stderr and ends the run with exit code 2.",
	.opts = cql_opts,
	.min_args = 0,
	.max_args = 0,
};

struct run {
	cql_client *c;
	bool json;
	const char *source; /* "FILE" for messages, NULL for -e */
	int32_t page_size;
	int64_t timeout_ms;
	bool has_consistency;
	uint16_t consistency;
	brook_buf out;
};

static int write_out(brook_buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len) {
		fprintf(stderr, "brook cql: cannot write to stdout: %s\n", strerror(errno));
		return BROOK_ERR;
	}
	brook_buf_reset(b);
	return BROOK_OK;
}

/* Runs one statement, printing its rows. */
static int run_statement(void *arg, const char *text, size_t len, int line)
{
	struct run *r = arg;
	(void)len;
	cql_stmt *st = cql_stmt_new(text);
	if (r->page_size)
		cql_stmt_set_page_size(st, r->page_size);
	if (r->timeout_ms)
		cql_stmt_set_timeout_ms(st, r->timeout_ms);
	if (r->has_consistency)
		cql_stmt_set_consistency(st, r->consistency);
	cql_client_error err;
	cql_res *res = NULL;
	int rc = cql_client_execute(r->c, st, &res, &err);
	cql_table table;
	bool table_open = false;
	while (rc == BROOK_OK && cql_res_kind(res) == CQL_RESULT_ROWS) {
		if (r->json) {
			for (int32_t i = 0; i < cql_res_row_count(res); i++) {
				cql_res_row_json(res, i, &r->out);
				brook_buf_putc(&r->out, '\n');
			}
			if (write_out(&r->out) != BROOK_OK) {
				cql_res_free(res);
				cql_stmt_free(st);
				return 2;
			}
		} else {
			if (!table_open)
				cql_table_init(&table, res);
			table_open = true;
			cql_table_add(&table, res);
		}
		cql_res *next = NULL;
		rc = cql_client_next_page(r->c, st, res, &next, &err);
		cql_res_free(res);
		res = next;
		if (!res)
			break;
	}
	cql_res_free(res);
	cql_stmt_free(st);
	if (table_open) {
		if (rc == BROOK_OK) {
			cql_table_render(&table, &r->out);
			brook_buf_putc(&r->out, '\n');
		}
		cql_table_release(&table);
		if (write_out(&r->out) != BROOK_OK)
			return 2;
	}
	if (rc != BROOK_OK) {
		fflush(stdout);
		if (r->source)
			fprintf(stderr, "brook cql: %s:%d: %s\n", r->source, line, err.msg);
		else
			fprintf(stderr, "brook cql: %s\n", err.msg);
		return 2;
	}
	return 0;
}

static int parse_consistency(const char *s, uint16_t *out)
{
	for (uint16_t cl = 0; cl <= CQL_CONSISTENCY_LOCAL_ONE; cl++) {
		const char *name = cql_consistency_name(cl);
		if (name && !strcasecmp(name, s)) {
			*out = cl;
			return BROOK_OK;
		}
	}
	return BROOK_ERR;
}

__attribute__((format(printf, 2, 3))) static int usage(brook_cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "brook cql: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'brook cql --help'.\n");
	va_end(ap);
	brook_cli_release(cli);
	return 2;
}

int cmd_cql(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc != BROOK_CLI_RUN)
		return brook_cli_exit_code(rc);

	struct run run = {.json = brook_cli_opt_value(&cli, "json") != NULL};
	const char *exec = brook_cli_opt_value(&cli, "execute");
	const char *file = brook_cli_opt_value(&cli, "file");
	const char *user = brook_cli_opt_value(&cli, "username");
	const char *pass = brook_cli_opt_value(&cli, "password");
	const char *v;
	if (!exec == !file)
		return usage(&cli, "%s", "give exactly one of -e STATEMENTS or -f FILE");
	if (!user != !pass)
		return usage(&cli, "%s", "give both -u USER and -p PASSWORD, or neither");
	if ((v = brook_cli_opt_value(&cli, "consistency")) &&
	    parse_consistency(v, &run.consistency) != BROOK_OK)
		return usage(&cli, "unknown consistency level '%s'", v);
	run.has_consistency = v != NULL;
	if ((v = brook_cli_opt_value(&cli, "page-size"))) {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < 1 || n > 1000000000)
			return usage(&cli, "--page-size must be a positive number, not '%s'", v);
		run.page_size = (int32_t)n;
	}
	if ((v = brook_cli_opt_value(&cli, "timeout")) &&
	    (brook_duration_parse(v, &run.timeout_ms) != BROOK_OK || run.timeout_ms <= 0))
		return usage(&cli, "--timeout must be a duration such as 30s, not '%s'", v);

	/* the statements */
	char *text = NULL;
	size_t text_len = 0;
	if (file) {
		brook_buf b = BROOK_BUF_INIT;
		if (!strcmp(file, "-")) {
			char chunk[65536];
			size_t n;
			while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
				brook_buf_append(&b, chunk, n);
			if (ferror(stdin)) {
				brook_buf_release(&b);
				fprintf(stderr, "brook cql: cannot read stdin: %s\n",
					strerror(errno));
				brook_cli_release(&cli);
				return 2;
			}
		} else if (brook_file_read(file, 64u * 1024 * 1024, &b) != BROOK_OK) {
			brook_buf_release(&b);
			fprintf(stderr, "brook cql: cannot read %s: %s\n", file, strerror(errno));
			brook_cli_release(&cli);
			return 2;
		}
		text = brook_buf_detach(&b, &text_len);
		run.source = !strcmp(file, "-") ? "<stdin>" : file;
	} else {
		text = brook_strdup(exec);
		text_len = strlen(text);
	}

	cql_client_opts o;
	cql_client_opts_default(&o);
	const char *const *cps;
	o.n_contact_points = brook_config_list(cli.cfg, "cassandra.contact_points", &cps);
	o.contact_points = cps;
	o.username = user;
	o.password = pass;
	o.keyspace = brook_cli_opt_value(&cli, "keyspace");
	o.compression = brook_cli_opt_value(&cli, "compression") != NULL;
	if (run.timeout_ms)
		o.request_timeout_ms = run.timeout_ms;
	o.max_in_flight = 16;
	cql_client_error err;
	run.c = cql_client_new(&o, &err);
	int status = 0;
	if (!run.c) {
		fprintf(stderr, "brook cql: %s\n", err.msg);
		status = 2;
	} else {
		char serr[256];
		int r = cql_split_statements(text, text_len, run_statement, &run, serr,
					     sizeof serr);
		if (r == BROOK_ERR) {
			fprintf(stderr, "brook cql: %s%s%s\n", run.source ? run.source : "",
				run.source ? ":" : "", serr);
			status = 2;
		} else if (r != 0) {
			status = r;
		}
	}
	if (fflush(stdout) != 0 && status == 0) {
		fprintf(stderr, "brook cql: cannot write to stdout: %s\n", strerror(errno));
		status = 2;
	}
	cql_client_free(run.c);
	brook_buf_release(&run.out);
	free(text);
	brook_cli_release(&cli);
	return status;
}
