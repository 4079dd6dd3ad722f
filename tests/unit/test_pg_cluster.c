/* Unit tests for pg/cluster: listen parsing, the DSN of an existing cluster directory,
 * and the refusal of a directory too long for a unix socket (no server is started;
 * tests/integration/test_postgres.py runs the real thing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/fileio.h"
#include "pg/cluster.h"

static void test_parse_listen(void **state)
{
	(void)state;
	char err[256];
	char *host = NULL;
	int port = 0;
	assert_int_equal(pg_parse_listen("127.0.0.1:5433", &host, &port, err, sizeof err),
			 BROOK_OK);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 5433);
	free(host);
	assert_int_equal(pg_parse_listen("[::1]:6000", &host, &port, err, sizeof err), BROOK_OK);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 6000);
	free(host);

	static const char *const bad[] = {"127.0.0.1", ":5433", "127.0.0.1:0", "h:65536",
					  "h:12x", "h:", "h:-1", NULL};
	for (const char *const *b = bad; *b; b++) {
		host = NULL;
		assert_int_equal(pg_parse_listen(*b, &host, &port, err, sizeof err), BROOK_ERR);
		assert_null(host);
		assert_true(strlen(err) > 0);
	}
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(brook_file_write_atomic(path, text, strlen(text)), BROOK_OK);
}

static void test_read_dsn(void **state)
{
	(void)state;
	char dir[] = "/tmp/brook-pg-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[512];

	/* No cluster yet. */
	assert_null(pg_cluster_read_dsn(dir, "127.0.0.1", 5433, err, sizeof err));
	assert_non_null(strstr(err, "no PostgreSQL cluster"));

	char pgdata[512];
	snprintf(pgdata, sizeof pgdata, "%s/pgdata", dir);
	assert_int_equal(brook_mkdirs(pgdata, 0700), BROOK_OK);
	write_file(dir, "pgdata/PG_VERSION", "15\n");
	/* Initialised but the password is missing. */
	assert_null(pg_cluster_read_dsn(dir, "127.0.0.1", 5433, err, sizeof err));
	assert_non_null(strstr(err, "password"));

	write_file(dir, "password", "abc123\n");
	char *dsn = pg_cluster_read_dsn(dir, "0.0.0.0", 5433, err, sizeof err);
	assert_non_null(dsn);
	assert_string_equal(dsn, "host=127.0.0.1 port=5433 user=brook password=abc123 dbname=brook");
	free(dsn);

	/* The address of the last start wins over the configured one. */
	write_file(dir, "listen", "127.0.0.2:6001\n");
	dsn = pg_cluster_read_dsn(dir, "127.0.0.1", 5433, err, sizeof err);
	assert_non_null(dsn);
	assert_string_equal(dsn, "host=127.0.0.2 port=6001 user=brook password=abc123 dbname=brook");
	free(dsn);

	/* A password that would break the DSN is refused. */
	write_file(dir, "password", "has space\n");
	assert_null(pg_cluster_read_dsn(dir, "127.0.0.1", 5433, err, sizeof err));
	assert_non_null(strstr(err, "malformed"));

	assert_int_equal(brook_remove_tree(dir), BROOK_OK);
}

static void test_long_dir_refused(void **state)
{
	(void)state;
	char base[] = "/tmp/brook-pg-XXXXXX";
	assert_non_null(mkdtemp(base));
	char dir[512];
	snprintf(dir, sizeof dir, "%s/%0100d", base, 0);
	char err[512];
	assert_null(pg_cluster_open(dir, "127.0.0.1", 5433, err, sizeof err));
	assert_non_null(strstr(err, "too long"));
	char pgdata[600];
	snprintf(pgdata, sizeof pgdata, "%s/pgdata", dir);
	struct stat st;
	assert_int_not_equal(stat(pgdata, &st), 0);
	assert_int_equal(brook_remove_tree(base), BROOK_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_read_dsn),
		cmocka_unit_test(test_long_dir_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
