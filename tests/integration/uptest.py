"""uptest.py — `brook up` (the whole pipeline under one supervisor) as a test fixture.

  free_ports(n)       n distinct free TCP ports on 127.0.0.1 (held until all are picked)
  port_sets(...)      the --set KEY=VALUE list moving every part to free ports: listeners
                      and the endpoint keys pointing at them (source.url, kafka.bootstrap,
                      cassandra.contact_points, registry.url), metrics listeners too;
                      returns (sets, ports) with ports a dict part -> port
  Up                  `brook up --data DIR --set ...`: start and wait for the ready line,
                      the endpoints, the children's pids (via /proc), SIGTERM (exit 0
                      expected), SIGKILL, the output for failure messages, and
                      client_args() for running `brook dags|cql|psql ...` against it

Usage:

    with uptest.Up(parts=["postgres", "broker"]) as up:
        up.start()
        socket.create_connection(("127.0.0.1", up.ports["broker"]))
        pid = up.child_pids()["broker"]
        ...
        up.stop()   # asserts exit 0 and that every child is gone

Environment: BROOK_BIN (the brook binary), BROOK_TEST_VERBOSE=1 (echo up's output),
BROOK_START_TIMEOUT (seconds to wait for ready, default 120 here: initdb included).
Standard library only.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

BROOK = brooktest.BROOK
START_TIMEOUT = float(os.environ.get("BROOK_START_TIMEOUT", "120"))
PARTS = ["postgres", "randomuser", "broker", "store", "registry", "scheduler", "connect",
         "stream"]
# The supervisor's line once every part is ready ("... up: ready in 3.4 s — ...").
UP_READY_RE = re.compile(r" up: ready in [0-9.]+ s")


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_sets(ports=None):
    """(sets, ports): --set values putting every listener on a free 127.0.0.1 port and
    every endpoint key on those listeners. ports may fix some (dict name -> port); names
    are the parts plus broker_metrics, store_metrics."""
    names = PARTS + ["broker_metrics", "store_metrics"]
    p = dict(ports or {})
    fresh = free_ports(len(names))
    for i, name in enumerate(names):
        p.setdefault(name, fresh[i])
    a = lambda name: "127.0.0.1:%d" % p[name]  # noqa: E731
    sets = [
        "randomuser.listen=" + a("randomuser"),
        "source.url=http://%s/api/" % a("randomuser"),
        "broker.listen=" + a("broker"),
        "kafka.bootstrap=" + a("broker"),
        "broker.metrics_listen=" + a("broker_metrics"),
        "store.listen=" + a("store"),
        "cassandra.contact_points=" + a("store"),
        "store.metrics_listen=" + a("store_metrics"),
        "postgres.listen=" + a("postgres"),
        "scheduler.listen=" + a("scheduler"),
        "registry.listen=" + a("registry"),
        "registry.url=http://" + a("registry"),
        "connect.listen=" + a("connect"),
        "stream.metrics_listen=" + a("stream"),
    ]
    return sets, p


def proc_children(pid):
    """{child pid: argv} of the processes whose parent is pid (from /proc)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid != pid:
                continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
            out[int(d)] = argv
        except (OSError, ValueError):
            continue
    return out


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def tcp_answers(port, timeout=5):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class Up:
    """`brook up` under test. parts: the up.parts list (None: every part); sets:
    extra ["key=value"]; ports: fixed ports (see port_sets); data_dir: None for a fresh
    temporary directory removed by cleanup()."""

    def __init__(self, parts=None, sets=None, ports=None, data_dir=None, extra_args=None,
                 new_session=False):
        self.new_session = new_session  # own session and process group (for killpg)
        self.parts = list(parts) if parts is not None else list(PARTS)
        self.port_sets, self.ports = port_sets(ports)
        self.sets = list(sets or [])
        self.extra_args = list(extra_args or [])
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="brook-up-")
        if self._own_dir:
            # PostgreSQL runs as user postgres when brook is root: it must enter DIR.
            os.chmod(self.data_dir, 0o755)
        self.proc = None
        self.out = None
        self.ready_line = None
        self.rc = None

    def command(self):
        cmd = [BROOK, "up", "--data", self.data_dir]
        for kv in self.port_sets + ["up.parts=" + ",".join(self.parts)] + self.sets:
            cmd += ["--set", kv]
        return cmd + self.extra_args

    def client_args(self):
        """Arguments pointing a client command (brook dags, brook cql, brook psql, ...)
        at this pipeline: --data DIR and every --set of the ports."""
        args = ["--data", self.data_dir]
        for kv in self.port_sets:
            args += ["--set", kv]
        return args

    # -- life -------------------------------------------------------------------------
    def start(self, timeout=None):
        """Start and wait for the supervisor's ready line; fails with the output when up
        exits or stays silent."""
        assert self.proc is None
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=self.new_session)
        self.out = brooktest.LineCollector(self.proc, "up")
        self.ready_line = self.wait_line(UP_READY_RE, timeout or START_TIMEOUT,
                                         what="the ready line")
        return self

    def run_to_exit(self, timeout=60):
        """Run up expecting it to end by itself (a start that fails); its exit code, with
        the output collected."""
        assert self.proc is None
        proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.proc, self.out = proc, brooktest.LineCollector(proc, "up")
        rc = proc.wait(timeout=timeout)
        self.out.join()
        self.proc = None
        return rc

    def wait_line(self, pattern, timeout=30, what=None, since=0):
        """The first output line (at index >= since in self.lines()) matching pattern (a
        regex or compiled regex); fails with the output after timeout or if up exits."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines()[since:]:
                if rx.search(line):
                    return line
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the collector drain
                for line in self.lines()[since:]:
                    if rx.search(line):
                        return line
                raise AssertionError("brook up exited %s before %s:\n%s"
                                     % (self.proc.returncode, what or rx.pattern,
                                        self.tail()))
            if time.monotonic() > deadline:
                raise AssertionError("no %s within %.0f s:\n%s"
                                     % (what or rx.pattern, timeout, self.tail()))
            time.sleep(0.1)

    def lines(self):
        return list(self.out.log) if self.out else []

    def output(self):
        return "\n".join(self.lines())

    def tail(self, n=60):
        return self.out.tail(n) if self.out else ""

    @property
    def pid(self):
        return self.proc.pid

    def child_pids(self):
        """{part: pid} of the supervisor's live children (cmdline 'brook PART ...')."""
        out = {}
        for pid, argv in proc_children(self.proc.pid).items():
            if len(argv) >= 2 and argv[1] in PARTS and pid_alive(pid):
                out[argv[1]] = pid
        return out

    def wait_child(self, part, not_pid=None, timeout=60):
        """The pid of part's child once it runs (and differs from not_pid)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.child_pids().get(part)
            if pid and pid != not_pid:
                return pid
            time.sleep(0.1)
        raise AssertionError("no new %s child within %.0f s:\n%s" % (part, timeout,
                                                                      self.tail()))

    def stop(self, timeout=90, expect_rc=0, sig=signal.SIGTERM, group=False):
        """sig (SIGTERM; group: to up's whole process group, like a Ctrl-C in a
        terminal, which needs new_session); up must exit expect_rc within timeout and
        leave no child behind.
        Returns the exit code."""
        if self.proc is None:
            return self.rc
        kids = list(self.child_pids().values())
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("brook up ignored SIGTERM for %d s:\n%s"
                                 % (timeout, self.tail()))
        self.out.join()
        self.proc_done = self.proc
        self.proc = None
        left = [p for p in kids if pid_alive(p)]
        if left:
            raise AssertionError("children still alive after up exited: %r\n%s"
                                 % (left, self.tail()))
        if expect_rc is not None and self.rc != expect_rc:
            raise AssertionError("brook up exited %d after signal %d (want %d):\n%s"
                                 % (self.rc, sig, expect_rc, self.tail()))
        return self.rc

    def kill(self):
        """SIGKILL the supervisor (its children get SIGTERM through PDEATHSIG)."""
        if self.proc is None:
            return
        self.proc.kill()
        self.rc = self.proc.wait()
        self.out.join()
        self.proc = None

    def cleanup(self):
        if self.proc is not None:
            kids = list(self.child_pids().values())
            self.kill()
            deadline = time.monotonic() + 20
            while any(pid_alive(p) for p in kids) and time.monotonic() < deadline:
                time.sleep(0.1)
            for p in kids:
                if pid_alive(p):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
        if self._own_dir and self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # -- endpoints --------------------------------------------------------------------
    def url(self, part):
        p = self.ports[part]
        return {
            "randomuser": "http://127.0.0.1:%d/api/?results=1" % p,
            "registry": "http://127.0.0.1:%d/subjects" % p,
            "scheduler": "http://127.0.0.1:%d/api/v1/dags" % p,
            "connect": "http://127.0.0.1:%d/connectors" % p,
            "stream": "http://127.0.0.1:%d/metrics" % p,
        }.get(part)

    def answers(self, part, timeout=5):
        """Whether part's endpoint answers: an HTTP GET with status 200 for the REST
        parts, a TCP connect for broker, store and postgres."""
        u = self.url(part)
        if u is None:
            return tcp_answers(self.ports[part], timeout)
        try:
            status, _ = http_get(u, timeout)
            return status == 200
        except OSError:
            return False

    def wait_answers(self, part, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers(part):
                return
            time.sleep(0.2)
        raise AssertionError("%s does not answer on port %d within %.0f s:\n%s"
                             % (part, self.ports[part], timeout, self.tail()))
