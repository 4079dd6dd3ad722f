"""brook postgres: the private PostgreSQL cluster, checked with the real psql.

One cluster is initialised for the whole class (initdb is the slow part) on a free
port picked here (PostgreSQL cannot listen on port 0). psql with the DSN printed by
`brook postgres --print-dsn` creates, fills and reads a table; the server runs with
wal_level=logical; the password file is private; a wrong password is refused over
TCP and over the unix socket (no trust/peer authentication); SIGTERM exits 0 and
takes the postmaster with it; a restart on the same directory keeps the data and the
password; `brook psql` runs psql with the DSN; a too-long data path fails clearly.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

BROOK = brooktest.BROOK
TIMEOUT = 60


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, env=None, check=True):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT, env=env)
    if check and p.returncode != 0:
        raise AssertionError("%r exited %d:\n%s%s" % (args, p.returncode,
                                                     p.stdout.decode(), p.stderr.decode()))
    return p


def process_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie nobody has reaped yet counts as gone
        with open("/proc/%d/status" % pid) as f:
            return any(line.startswith("State:") and "Z" in line for line in f)
    except OSError:
        return True


class PostgresTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="brook-pg-")
        # When the tests run as root PostgreSQL runs as user postgres, which must be
        # able to reach DATA/postgres.
        os.chmod(cls.tmp, 0o755)
        cls.port = free_port()
        cls.srv = brooktest.ServerUnderTest("postgres", data_dir=cls.tmp)
        cls.cluster_dir = os.path.join(cls.tmp, "postgres")
        try:
            cls.srv.start(cls.port)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.srv.proc is not None:
                cls.srv.stop()
        finally:
            pid = cls.postmaster_pid()
            if pid:  # never leave a server behind, whatever failed
                try:
                    os.kill(pid, signal.SIGQUIT)
                except ProcessLookupError:
                    pass
            cls.srv.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def postmaster_pid(cls):
        try:
            with open(os.path.join(cls.cluster_dir, "pgdata", "postmaster.pid")) as f:
                pid = int(f.readline().strip())
        except (OSError, ValueError):
            return None
        return None if process_gone(pid) else pid

    def dsn(self):
        out = run([BROOK, "postgres", "--data", self.tmp, "--print-dsn"]).stdout.decode()
        dsn = out.strip()
        self.assertRegex(dsn, r"^host=127\.0\.0\.1 port=%d user=brook password=\S+ "
                              r"dbname=brook$" % self.port)
        return dsn

    def psql(self, dsn, sql, check=True):
        p = run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-tA", "-d", dsn, "-c", sql],
                env=dict(os.environ, PGPASSWORD="", PGCONNECT_TIMEOUT="20"), check=check)
        return p.stdout.decode().strip() if check else p

    def test_1_ready_line_names_the_address(self):
        self.assertIn("ready", self.srv.ready_line)
        self.assertIn("127.0.0.1:%d" % self.port, self.srv.ready_line)

    def test_2_table_roundtrip_through_psql(self):
        dsn = self.dsn()
        self.psql(dsn, "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL)")
        self.psql(dsn, "INSERT INTO users VALUES (1, 'ada'), (2, 'grace')")
        self.assertEqual(self.psql(dsn, "SELECT id || ':' || name FROM users ORDER BY id"),
                         "1:ada\n2:grace")
        self.assertEqual(self.psql(dsn, "SELECT current_user || '@' || current_database()"),
                         "brook@brook")

    def test_3_logical_wal_for_cdc(self):
        dsn = self.dsn()
        self.assertEqual(self.psql(dsn, "SHOW wal_level"), "logical")
        self.assertGreaterEqual(int(self.psql(dsn, "SHOW max_replication_slots")), 4)
        self.assertGreaterEqual(int(self.psql(dsn, "SHOW max_wal_senders")), 4)
        # A logical slot can really be created (and is dropped again).
        self.psql(dsn, "SELECT pg_create_logical_replication_slot('brook_test', "
                       "'test_decoding')")
        self.psql(dsn, "SELECT pg_drop_replication_slot('brook_test')")

    def test_4_password_file_is_private(self):
        st = os.stat(os.path.join(self.cluster_dir, "password"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        with open(os.path.join(self.cluster_dir, "password")) as f:
            password = f.read().strip()
        self.assertGreaterEqual(len(password), 24)
        self.assertIn("password=%s " % password, self.dsn())

    def test_5_wrong_password_is_refused(self):
        dsn = self.dsn()
        bad = re.sub(r"password=\S+", "password=not-the-password", dsn)
        p = self.psql(bad, "SELECT 1", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("password authentication failed", p.stderr.decode())
        # The unix socket asks for the password too (no trust, no peer).
        sock = "host=%s port=%d user=brook dbname=brook password=nope" % (
            self.cluster_dir, self.port)
        p = self.psql(sock, "SELECT 1", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("password authentication failed", p.stderr.decode())
        # ... and a right one works there.
        good = re.sub(r"host=\S+", "host=" + self.cluster_dir, dsn)
        self.assertEqual(self.psql(good, "SELECT 7"), "7")

    def test_6_brook_psql(self):
        p = run([BROOK, "psql", "--data", self.tmp, "-c", "select 1"])
        self.assertRegex(p.stdout.decode(), r"(?m)^\s*1\s*$")
        p = run([BROOK, "psql", "--data", self.tmp, "--", "-tA", "-c",
                 "select count(*) from pg_database where datname = 'brook'"])
        self.assertEqual(p.stdout.decode().strip(), "1")
        # The password is not on psql's command line: it came in PGPASSWORD.
        p = run([BROOK, "psql", "--data", self.tmp, "-tA", "-c",
                 "select query from pg_stat_activity where pid = pg_backend_pid()"])
        self.assertNotIn("password", p.stdout.decode())

    def test_7_sigterm_stops_postgres_and_restart_keeps_data(self):
        dsn = self.dsn()
        self.psql(dsn, "CREATE TABLE kept (v text)")
        self.psql(dsn, "INSERT INTO kept VALUES ('survives')")
        with open(os.path.join(self.cluster_dir, "password")) as f:
            password = f.read()
        pid = self.postmaster_pid()
        self.assertIsNotNone(pid, "no running postmaster before SIGTERM")
        self.srv.stop()  # asserts exit code 0
        self.assertTrue(process_gone(pid), "postmaster %d still running after SIGTERM" % pid)
        p = self.psql(dsn, "SELECT 1", check=False)
        self.assertNotEqual(p.returncode, 0)

        self.srv.start(self.port)
        self.assertNotIn("initialising", self.srv.out.tail(200))
        with open(os.path.join(self.cluster_dir, "password")) as f:
            self.assertEqual(f.read(), password)
        self.assertEqual(self.dsn(), dsn)
        self.assertEqual(self.psql(dsn, "SELECT v FROM kept"), "survives")

    def test_8_print_dsn_without_cluster_fails(self):
        empty = tempfile.mkdtemp(prefix="brook-pg-empty-")
        try:
            p = run([BROOK, "postgres", "--data", empty, "--print-dsn"], check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("no PostgreSQL cluster", p.stderr.decode())
        finally:
            shutil.rmtree(empty, ignore_errors=True)

    def test_9_too_long_data_dir_fails_clearly(self):
        base = tempfile.mkdtemp(prefix="brook-pg-long-")
        try:
            deep = os.path.join(base, "d" * 100)
            p = run([BROOK, "postgres", "--data", deep, "--listen",
                     "127.0.0.1:%d" % free_port()], check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("too long", p.stderr.decode())
            self.assertFalse(os.path.exists(os.path.join(deep, "postgres", "pgdata")))
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def test_9_port_zero_is_refused(self):
        p = run([BROOK, "postgres", "--data", self.tmp, "--listen", "127.0.0.1:0"],
                check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("fixed port", p.stderr.decode())

    def test_z_postmaster_death_exits_1(self):
        """Runs last: a postmaster that dies under brook postgres makes it exit 1."""
        self.srv.assert_alive()
        pid = self.postmaster_pid()
        self.assertIsNotNone(pid)
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown
        rc = self.srv.proc.wait(timeout=TIMEOUT)
        self.srv.out.join()
        self.srv.proc = None
        self.assertEqual(rc, 1, self.srv.log_tail())
        self.assertIn("exited", self.srv.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
