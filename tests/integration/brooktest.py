"""brooktest.py — a brook server under test, as a child process on 127.0.0.1.

  ServerUnderTest   `$BROOK_BIN <command> --listen 127.0.0.1:PORT --data DIR [--set k=v]...`:
                    start on an ephemeral port and wait for its "ready" line, SIGTERM (must
                    exit 0), SIGKILL, restart on the same port and data directory; the
                    child's stdout/stderr are drained all the time and their tail goes into
                    every failure message.
  StoreUnderTest    `brook store`, plus its metrics URL and a DataStax Python driver
                    Cluster pointed at it (cassandra is imported only when asked for).
  LineCollector     drains a child's two pipes into a queue and a bounded log.
  expected_row(u)   the created_users row the pipeline must store for randomuser record u.

Contract assumed of every brook server: it prints a line containing "ready" and
"127.0.0.1:PORT" (the bound port, also when PORT is 0) once it accepts connections; a
metrics listener, when there is one, is named in the log as "http://127.0.0.1:PORT/metrics";
SIGTERM finishes in-flight requests, flushes and exits 0.

Standard library only (plus the driver for StoreUnderTest.cluster). Environment:
BROOK_BIN (the brook binary), BROOK_TEST_VERBOSE=1 echoes child output to stderr,
BROOK_START_TIMEOUT (seconds to wait for "ready", default 60).
"""
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

BROOK = os.environ.get("BROOK_BIN", "brook")
VERBOSE = os.environ.get("BROOK_TEST_VERBOSE") == "1"
START_TIMEOUT = float(os.environ.get("BROOK_START_TIMEOUT", "60"))
# The listener: the first 127.0.0.1:PORT of the ready line that is not a URL.
READY_RE = re.compile(r"(?<!//)127\.0\.0\.1:(\d+)")
METRICS_RE = re.compile(r"(http://127\.0\.0\.1:(\d+)/metrics)")


class LineCollector:
    """Drains a child's stdout and stderr (so it never blocks on a full pipe) into one
    queue of (stream, line) and a bounded log kept for failure messages."""

    def __init__(self, proc, name):
        self.q = queue.Queue()
        self.log = []
        self.name = name
        self.threads = []
        for stream, label in ((proc.stdout, "out"), (proc.stderr, "err")):
            if stream is None:
                continue
            t = threading.Thread(target=self._drain, args=(stream, label), daemon=True)
            t.start()
            self.threads.append(t)

    def _drain(self, stream, label):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            if len(self.log) > 2000:
                del self.log[:1000]
            if VERBOSE:
                sys.stderr.write("[%s %s] %s\n" % (self.name, label, line))
            self.q.put((label, line))
        stream.close()

    def tail(self, n=40):
        return "\n".join(self.log[-n:])

    def join(self):
        for t in self.threads:
            t.join(timeout=10)


class ServerUnderTest:
    """One brook server command on 127.0.0.1. Use as a context manager or call
    start()/stop(); cleanup() kills what still runs and removes a data directory it made.

    command:      the brook subcommand ("broker", "store", ...)
    sets:         ["key=value", ...] passed as --set key=value
    data_dir:     None: a fresh temporary directory, removed by cleanup(); False: the
                  command takes no --data (brook randomuser)
    metrics_key:  a config key ("store.metrics_listen"): unless sets names it, the server
                  gets key=127.0.0.1:0 (tests run in parallel: never a fixed port)
    """

    def __init__(self, command, sets=None, data_dir=None, extra_args=None, metrics_key=None,
                 name=None):
        self.command_name = command
        self.name = name or command
        self.sets = list(sets or [])
        self.extra_args = list(extra_args or [])
        self.metrics_key = metrics_key
        self._own_dir = data_dir is None
        self.data_dir = None if data_dir is False else (
            data_dir or tempfile.mkdtemp(prefix="brook-%s-" % command))
        self.port = 0
        self.proc = None
        self.out = None
        self.ready_line = None
        self.starts = 0

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def command(self, port):
        cmd = [BROOK, self.command_name, "--listen", "127.0.0.1:%d" % port]
        if self.data_dir is not None:
            cmd += ["--data", self.data_dir]
        if self.metrics_key and not any(kv.startswith(self.metrics_key + "=")
                                        for kv in self.sets):
            cmd += ["--set", self.metrics_key + "=127.0.0.1:0"]
        for kv in self.sets:
            cmd += ["--set", kv]
        return cmd + self.extra_args

    def start(self, port=None):
        """Start (port None: the last port, or an ephemeral one the first time) and wait
        for the ready line; a server that exits or stays silent fails with its output."""
        assert self.proc is None, "%s already running" % self.name
        port = self.port if port is None else port
        self.proc = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = LineCollector(self.proc, self.name)
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise AssertionError("%s printed no 'ready' line within %.0f s:\n%s"
                                     % (self.name, START_TIMEOUT, self.log_tail()))
            try:
                _, line = self.out.q.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    rc = self.proc.returncode
                    self.out.join()
                    self.proc = None
                    raise AssertionError("%s exited %s before ready:\n%s"
                                         % (self.name, rc, self.log_tail()))
                continue
            if "ready" in line:
                # The bare address; a server whose line has only URLs: the first one.
                m = READY_RE.search(line) or re.search(r"127\.0\.0\.1:(\d+)", line)
                if not m:
                    self.kill()
                    raise AssertionError("ready line names no 127.0.0.1:PORT: %r" % line)
                bound = int(m.group(1))
                if port:
                    assert bound == port, "asked for port %d, %s says %d" % (
                        port, self.name, bound)
                self.port = bound
                self.ready_line = line
                return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60, expect_rc=0):
        """SIGTERM; the server must exit with expect_rc within timeout seconds."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.out.join()
            self.proc = None
            raise AssertionError("%s ignored SIGTERM for %d s:\n%s"
                                 % (self.name, timeout, self.log_tail()))
        self.out.join()
        self.proc = None
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError("%s exited %d after SIGTERM (want %d):\n%s"
                                 % (self.name, rc, expect_rc, self.log_tail()))
        return rc

    def kill(self):
        """SIGKILL: no chance to flush; what was acknowledged must survive."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait()
        self.out.join()
        self.proc = None

    def restart(self, hard=False):
        """Stop (SIGTERM, or SIGKILL when hard) and start on the same port and data."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start(self.port)

    def assert_alive(self):
        """Fails with the server's output if it has exited."""
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise AssertionError("%s is not running (exit %s):\n%s"
                                 % (self.name, rc, self.log_tail()))

    def wait_for_log(self, pattern, timeout=30):
        """The first match of the regex pattern in the output of the current run (lines
        already printed included), or an AssertionError after timeout seconds."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self.out.log):
                m = rx.search(line)
                if m:
                    return m
            if time.monotonic() > deadline:
                raise AssertionError("no log line matches %r within %d s:\n%s"
                                     % (pattern, timeout, self.log_tail()))
            time.sleep(0.1)

    def metrics_url(self, timeout=10):
        """http://127.0.0.1:PORT/metrics as the server's log names it."""
        m = METRICS_RE.search(self.ready_line or "")
        if m is None:
            m = self.wait_for_log(METRICS_RE.pattern, timeout)
        return m.group(1)

    def log_tail(self, n=40):
        return self.out.tail(n) if self.out else ""

    def cleanup(self):
        if self.proc is not None:
            self.kill()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        try:
            if self.proc is not None and exc[0] is None:
                self.stop()
        finally:
            self.cleanup()
        return False


# ---------- the CQL store ----------

# Bounded waits for the driver: a hung server fails a test instead of hanging CI.
DRIVER_TIMEOUT = float(os.environ.get("BROOK_DRIVER_TIMEOUT", "20"))


class StoreUnderTest(ServerUnderTest):
    """`brook store` on 127.0.0.1 with its metrics listener on an ephemeral port."""

    def __init__(self, sets=None, data_dir=None, extra_args=None):
        super().__init__("store", sets=sets, data_dir=data_dir, extra_args=extra_args,
                         metrics_key="store.metrics_listen")

    def cluster(self, **kw):
        """A DataStax Python driver Cluster for this store: the driver's defaults
        (protocol negotiation, schema and token metadata, token-aware routing) with
        bounded timeouts. The caller calls shutdown()."""
        from cassandra.cluster import Cluster
        args = dict(contact_points=["127.0.0.1"], port=self.port,
                    connect_timeout=DRIVER_TIMEOUT, control_connection_timeout=DRIVER_TIMEOUT,
                    max_schema_agreement_wait=DRIVER_TIMEOUT)
        args.update(kw)
        return Cluster(**args)

    def connect(self, keyspace=None, **kw):
        """(cluster, session) with session.default_timeout bounded."""
        c = self.cluster(**kw)
        try:
            s = c.connect(keyspace)
        except BaseException:
            c.shutdown()
            raise
        s.default_timeout = DRIVER_TIMEOUT
        return c, s


def quiet_driver_logs():
    """The driver logs warnings (protocol downgrades, reconnections) that are expected
    here; show them only with BROOK_TEST_VERBOSE=1."""
    import logging
    logging.getLogger("cassandra").setLevel(logging.DEBUG if VERBOSE else logging.CRITICAL)
    if VERBOSE:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)


def expected_row(u):
    """The row the pipeline stores for a randomuser record u: the reference pipeline's
    transformation (docs/STREAM.md), in Python."""
    loc = u["location"]
    return {
        "id": uuid.uuid5(uuid.NAMESPACE_URL, u["login"]["uuid"]),
        "first_name": u["name"]["first"], "last_name": u["name"]["last"],
        "gender": u["gender"],
        "address": "%s %s, %s, %s, %s" % (loc["street"]["number"], loc["street"]["name"],
                                          loc["city"], loc["state"], loc["country"]),
        "post_code": str(loc["postcode"]), "email": u["email"],
        "username": u["login"]["username"], "dob": u["dob"]["date"],
        "registered_date": u["registered"]["date"], "phone": u["phone"],
        "picture": u["picture"]["medium"],
    }
