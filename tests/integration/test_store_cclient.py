"""brook's own C CQL client (src/cql/client*.c) against the real `brook store`.

  - tests/cqlclient/cql_scenarios (a C program on the client library) runs its scenarios
    against a store started here: the pipeline's created_users table with 32 requests in
    flight and unlogged batches of 100, paging over 20,000 rows, compound keys with
    clustering ranges, TTL, transparent re-preparation after DROP/CREATE and a forged id,
    error codes, every scalar type; with and without lz4, with and without
    PasswordAuthenticator. Every check it prints must hold.
  - The DataStax Python driver (a client nobody here wrote) reads back what the C client
    wrote, as an independent oracle.
  - `brook cql`: --help, -e and -f, the cqlsh-style table, --json, -k, paging, errors on
    stderr with exit code 2, authentication.

Environment: BROOK_BIN (the brook binary), BROOK_BUILD_DIR (where cql_scenarios is).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

BROOK = os.environ.get("BROOK_BIN", "brook")
BUILD = os.environ.get("BROOK_BUILD_DIR", os.path.dirname(os.path.abspath(BROOK)))
SCENARIOS = os.path.join(BUILD, "cql_scenarios")
RUN_TIMEOUT = 300

brooktest.quiet_driver_logs()


def run(args, stdin=None, timeout=RUN_TIMEOUT):
    p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


class ScenarioMixin:
    def scenarios(self, store, *args, user=None, password=None):
        cmd = [SCENARIOS, "--host", store.address]
        if user:
            cmd += ["-u", user, "-p", password]
        cmd += list(args)
        rc, out, err = run(cmd)
        checks = []
        summary = None
        for line in out.splitlines():
            obj = json.loads(line)
            if "summary" in obj:
                summary = obj["summary"]
            else:
                checks.append(obj)
        failed = [c for c in checks if not c["ok"]]
        msg = "%s\nfailed checks:\n%s\nstderr:\n%s\nstore log:\n%s" % (
            " ".join(cmd), "\n".join(json.dumps(c) for c in failed), err[-3000:],
            store.log_tail())
        self.assertEqual(failed, [], msg)
        self.assertEqual(rc, 0, msg)
        self.assertIsNotNone(summary, msg)
        self.assertEqual(summary["failed"], 0, msg)
        return checks


class CClientScenarios(ScenarioMixin, unittest.TestCase):
    """No authentication; each scenario makes its own keyspace."""

    @classmethod
    def setUpClass(cls):
        cls.store = brooktest.StoreUnderTest()
        cls.store.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.store.stop()
        finally:
            cls.store.cleanup()

    def tearDown(self):
        self.store.assert_alive()

    def test_scenarios(self):
        checks = self.scenarios(self.store, "paging", "compound", "ttl", "unprepared",
                                "errors", "types")
        names = {(c["scenario"], c["check"]) for c in checks}
        # the scenarios really ran (a program that checks nothing passes nothing)
        for want in [("paging", "next_page over 20,000 rows"), ("paging", "foreach_row"),
                     ("unprepared", "execute after DROP + CREATE"),
                     ("unprepared", "execute with a forged id"),
                     ("unprepared", "32 in flight with a forged id"),
                     ("ttl", "TTL 1 expired"), ("types", "insert every type")]:
            self.assertIn(want, names)
        self.assertGreater(len(checks), 40)

    def test_users_then_python_driver_reads_them(self):
        checks = self.scenarios(self.store, "users")
        self.assertIn(("users", "fields read back equal"),
                      {(c["scenario"], c["check"]) for c in checks})
        cluster, session = self.store.connect()
        try:
            rows = list(session.execute("SELECT * FROM spark_streams.created_users",
                                        timeout=brooktest.DRIVER_TIMEOUT))
            self.assertEqual(len(rows), 4000)
            by_index = {}
            for r in rows:
                b = r.id.bytes
                self.assertEqual(b[:10], bytes.fromhex("9b2c6a104e214c7d8a00"))
                by_index[int.from_bytes(b[12:], "big")] = r
            self.assertEqual(sorted(by_index), list(range(4000)))
            # what cql_scenarios' user_field() wrote, written independently here
            for i in (0, 1, 5, 1999, 2000, 3999):
                r = by_index[i]
                self.assertEqual(r.first_name, "Fïrst%d" % i)
                self.assertEqual(r.last_name, "O'Brien-%d" % i)
                self.assertEqual(r.gender, "female" if i % 2 else "male")
                self.assertEqual(r.address, "%d Rue de l'Église, Zürich, Switzerland" % i)
                self.assertEqual(r.email, "user%d@example.com" % i)
                self.assertEqual(r.registered_date,
                                 None if i % 5 == 0 else "2015-01-02T03:04:05.678Z")
        finally:
            cluster.shutdown()

    # Regression: every key of a 30,000-row table written twice must still count 30,000
    # rows (a scan once returned a key twice across the memtable/sstable boundary).
    def test_overwrite_every_key(self):
        self.scenarios(self.store, "overwrite")

    def test_lz4(self):
        checks = self.scenarios(self.store, "--compression", "compound", "unprepared", "types")
        self.assertIn({"scenario": "connect", "check": "compression as asked", "ok": True,
                       "detail": "lz4 on"}, checks)

    def test_scenario_program_usage(self):
        rc, _, err = run([SCENARIOS, "--host", self.store.address, "no-such-scenario"])
        self.assertEqual(rc, 2)
        rc, _, err = run([SCENARIOS, "--host", "127.0.0.1:1", "users"])
        self.assertEqual(rc, 2)
        self.assertIn("cannot connect to 127.0.0.1:1", err)


class CClientAuth(ScenarioMixin, unittest.TestCase):
    """store.auth=password: the one superuser cassandra/cassandra."""

    @classmethod
    def setUpClass(cls):
        cls.store = brooktest.StoreUnderTest(sets=["store.auth=password"])
        cls.store.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.store.stop()
        finally:
            cls.store.cleanup()

    def test_scenarios_with_password(self):
        checks = self.scenarios(self.store, "badauth", "compound", user="cassandra",
                                password="cassandra")
        self.assertIn(("badauth", "wrong password refused"),
                      {(c["scenario"], c["check"]) for c in checks})

    def test_brook_cql_auth(self):
        rc, out, err = run([BROOK, "cql", "--host", self.store.address, "-u", "cassandra",
                            "-p", "cassandra", "--json", "-e",
                            "SELECT cluster_name FROM system.local"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 1)
        self.assertIn("cluster_name", json.loads(out))
        rc, out, err = run([BROOK, "cql", "--host", self.store.address, "-u", "cassandra",
                            "-p", "nope", "-e", "SELECT * FROM system.local"])
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("Bad_credentials (0x0100)", err)
        rc, out, err = run([BROOK, "cql", "--host", self.store.address, "-e",
                            "SELECT * FROM system.local"])
        self.assertEqual(rc, 2)
        self.assertIn("requires authentication", err)


class CClientRestart(unittest.TestCase):
    """The store restarts under a connected client: it reconnects (with backoff), the
    new server does not know the prepared id and the statement is re-prepared lazily, and
    the row written before the restart is still there."""

    def setUp(self):
        self.store = brooktest.StoreUnderTest()
        self.store.start()

    def tearDown(self):
        try:
            self.store.stop()
        finally:
            self.store.cleanup()

    def test_restart_under_a_client(self):
        p = subprocess.Popen([SCENARIOS, "--host", self.store.address, "restart"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        checks = []
        try:
            for raw in p.stdout:
                obj = json.loads(raw)
                if "wait" in obj:
                    break
                checks.append(obj)
            else:
                self.fail("cql_scenarios never asked for the restart: %s" % checks)
            self.store.restart()
            p.stdin.write(b"restarted\n")
            p.stdin.flush()
            out, err = p.communicate(timeout=RUN_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        for line in out.decode().splitlines():
            obj = json.loads(line)
            if "summary" not in obj:
                checks.append(obj)
        failed = [c for c in checks if not c["ok"]]
        self.assertEqual(failed, [], "%s\n%s" % (err.decode()[-2000:], self.store.log_tail()))
        self.assertEqual(p.returncode, 0)
        names = [c["check"] for c in checks]
        for want in ("insert after the restart", "reconnected", "re-prepared on the new server",
                     "both rows (the first survived)"):
            self.assertIn(want, names)


class BrookCql(unittest.TestCase):
    """`brook cql` against the store."""

    @classmethod
    def setUpClass(cls):
        cls.store = brooktest.StoreUnderTest()
        cls.store.start()
        rc, out, err = cls.cql_static(
            "CREATE KEYSPACE cli WITH replication = {'class': 'SimpleStrategy', "
            "'replication_factor': 1};"
            "CREATE TABLE cli.t (p int, c int, name text, score double, tags list<text>, "
            "PRIMARY KEY (p, c));"
            "INSERT INTO cli.t (p, c, name, score, tags) VALUES (1, 1, 'Zoë', 1.5, ['a', 'b']);"
            "INSERT INTO cli.t (p, c, name) VALUES (1, 22, 'x');")
        if rc != 0:
            cls.store.stop()
            cls.store.cleanup()
            raise AssertionError("setup failed: %s %s" % (out, err))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.store.stop()
        finally:
            cls.store.cleanup()

    @classmethod
    def cql_static(cls, statements, *opts):
        return run([BROOK, "cql", "--host", cls.store.address] + list(opts) +
                   ["-e", statements])

    def cql(self, statements, *opts):
        return self.cql_static(statements, *opts)

    def test_help(self):
        rc, out, err = run([BROOK, "cql", "--help"])
        self.assertEqual(rc, 0, err)
        self.assertIn("usage: brook cql", out)
        for opt in ("--host", "--username", "--password", "--keyspace", "--execute", "--file",
                    "--json", "cassandra.contact_points"):
            self.assertIn(opt, out)
        rc, out, _ = run([BROOK, "--help"])
        self.assertIn("cql", out)

    def test_table(self):
        rc, out, err = self.cql("SELECT c, name, score, tags FROM cli.t WHERE p = 1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out,
                         "\n"
                         " c  | name | score | tags\n"
                         "----+------+-------+------------\n"
                         "  1 |  Zoë |   1.5 | ['a', 'b']\n"
                         " 22 |    x |  null |       null\n"
                         "\n"
                         "(2 rows)\n"
                         "\n")

    def test_json(self):
        rc, out, err = self.cql("SELECT c, name, score, tags FROM t WHERE p = 1", "--json",
                                "-k", "cli")
        self.assertEqual(rc, 0, err)
        self.assertEqual([json.loads(line) for line in out.splitlines()],
                         [{"c": 1, "name": "Zoë", "score": 1.5, "tags": ["a", "b"]},
                          {"c": 22, "name": "x", "score": None, "tags": None}])
        # column order is the query's
        self.assertTrue(out.startswith('{"c":1,"name":'))

    def test_file_paging_and_use(self):
        script = ("-- a comment; with a semicolon\n"
                  "USE cli;\n"
                  "CREATE TABLE IF NOT EXISTS many (k int, i int, PRIMARY KEY (k, i));\n")
        script += "".join("INSERT INTO many (k, i) VALUES (7, %d);\n" % i for i in range(50))
        script += "SELECT i FROM many WHERE k = 7 /* all of them */;\n"
        with tempfile.NamedTemporaryFile("w", suffix=".cql", delete=False) as f:
            f.write(script)
        try:
            rc, out, err = run([BROOK, "cql", "--host", self.store.address, "--page-size", "7",
                                "-f", f.name])
        finally:
            os.unlink(f.name)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[1], " i")
        self.assertEqual(lines[2], "----")
        self.assertEqual(lines[3:53], [" %2d" % i for i in range(50)])
        self.assertIn("(50 rows)", out)
        # stdin
        rc, out, err = run([BROOK, "cql", "--host", self.store.address, "--json", "-f", "-"],
                           stdin=b"SELECT COUNT(*) FROM cli.many WHERE k = 7;")
        self.assertEqual(rc, 0, err)
        self.assertEqual(list(json.loads(out).values()), [50])

    def test_errors_exit_2(self):
        rc, out, err = self.cql("SELECT * FROM cli.nope")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("brook cql: Invalid (0x2200): ", err)
        rc, out, err = self.cql("INSERT INTO cli.t (p, c, name) VALUES ('one', 1, 'x')")
        self.assertEqual(rc, 2)
        self.assertIn("Invalid (0x2200)", err)
        # -f: the failing statement's line; the statements after it do not run
        with tempfile.NamedTemporaryFile("w", suffix=".cql", delete=False) as f:
            f.write("SELECT * FROM cli.t WHERE p = 1;\n\nSELEKT 1;\n"
                    "INSERT INTO cli.t (p, c, name) VALUES (9, 9, 'never');\n")
        try:
            rc, out, err = run([BROOK, "cql", "--host", self.store.address, "-f", f.name])
        finally:
            os.unlink(f.name)
        self.assertEqual(rc, 2)
        self.assertIn("(2 rows)", out)
        self.assertIn("%s:3: Syntax_error (0x2000)" % f.name, err)
        rc, out, _ = self.cql("SELECT * FROM cli.t WHERE p = 9", "--json")
        self.assertEqual((rc, out), (0, ""))
        # an unterminated string is refused before anything runs
        rc, out, err = self.cql("INSERT INTO cli.t (p, c, name) VALUES (9, 9, 'open);")
        self.assertEqual(rc, 2)
        self.assertIn("unterminated string", err)
        # nothing listening
        rc, out, err = run([BROOK, "cql", "--host", "127.0.0.1:1", "-e", "SELECT 1"])
        self.assertEqual(rc, 2)
        self.assertIn("cannot connect to 127.0.0.1:1", err)
        # usage
        rc, _, err = run([BROOK, "cql", "--host", self.store.address])
        self.assertEqual(rc, 2)
        self.assertIn("exactly one of -e", err)
        rc, _, err = run([BROOK, "cql", "--consistency", "MOST", "-e", "SELECT 1"])
        self.assertEqual(rc, 2)

    def test_uuid_and_consistency(self):
        u = uuid.uuid4()
        rc, out, err = self.cql(
            "CREATE TABLE IF NOT EXISTS cli.u (id uuid PRIMARY KEY, n bigint);"
            "INSERT INTO cli.u (id, n) VALUES (%s, 9007199254740993);"
            "SELECT id, n FROM cli.u WHERE id = %s" % (u, u), "--json", "--consistency",
            "QUORUM")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"id": str(u), "n": 9007199254740993})


if __name__ == "__main__":
    unittest.main(verbosity=2)
