/*
 * pg_fixture.h — a private PostgreSQL cluster for a unit test group: pg_fixture_start()
 * initialises and starts one in a fresh temporary directory on a free loopback port
 * (src/pg/cluster.h), pg_fixture_stop() stops it and removes the directory. Header-only:
 * each tests/unit/test_*.c is its own executable.
 */
#ifndef BROOK_TESTS_PG_FIXTURE_H
#define BROOK_TESTS_PG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/fileio.h"
#include "pg/cluster.h"

static char pg_fixture_dir[64];
static pg_cluster *g_cluster; /* the running cluster, for the tests */

/* name: a short tag for the directory ("/tmp/brook-NAME-XXXXXX"). 0, or -1 with a
 * message on stderr. */
static int pg_fixture_start(const char *name)
{
	char err[1024];
	snprintf(pg_fixture_dir, sizeof pg_fixture_dir, "/tmp/brook-%s-XXXXXX", name);
	if (!mkdtemp(pg_fixture_dir))
		return -1;
	g_cluster = pg_cluster_open(pg_fixture_dir, "127.0.0.1", 0, err, sizeof err);
	if (!g_cluster) {
		fprintf(stderr, "cannot start PostgreSQL: %s\n", err);
		return -1;
	}
	return 0;
}

static int pg_fixture_stop(void)
{
	char err[512];
	int rc = 0;
	if (g_cluster) {
		if (pg_cluster_stop(g_cluster, err, sizeof err) != BROOK_OK) {
			fprintf(stderr, "stop: %s\n", err);
			rc = -1;
		}
		pg_cluster_close(g_cluster);
		g_cluster = NULL;
	}
	if (pg_fixture_dir[0] && brook_remove_tree(pg_fixture_dir) != BROOK_OK)
		rc = -1;
	return rc;
}

#endif
