"""brook up: the whole pipeline as supervised child processes.

Every part on free 127.0.0.1 ports (uptest.port_sets), a fresh data directory per test.
Checked: all parts start in order and their endpoints answer (HTTP GET for the REST
parts, TCP connect for broker, store, postgres); the ready line and the endpoint table;
a SIGKILLed child (registry, then broker) is restarted with a new pid, logged, and
answers again; an external broker (kafka.bootstrap elsewhere) is not started; a subset
of parts via up.parts; a bad configuration key or part name exits 2; a part that cannot
start ends the run with exit 1 after stopping the others; SIGTERM stops the children in
reverse order and exits 0; a SIGKILLed supervisor takes its children along (PDEATHSIG).
`brook stream` is included only when this binary has it.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
import uptest  # noqa: E402

BROOK = uptest.BROOK


def stop_order(lines):
    """The parts in the order up logged 'stopping PART'."""
    out = []
    for line in lines:
        m = re.search(r" up: stopping (\w+) \(pid \d+\)", line)
        if m:
            out.append(m.group(1))
    return out


class UpTest(unittest.TestCase):
    def up(self, **kw):
        u = uptest.Up(**kw)
        self.addCleanup(u.cleanup)
        return u

    def test_full_pipeline_restarts_and_stops_in_reverse(self):
        u = self.up().start()
        # The ready line names one 127.0.0.1:PORT (the scheduler's UI).
        self.assertRegex(u.ready_line, r"ready in [0-9.]+ s — pipeline running")
        m = re.findall(r"127\.0\.0\.1:(\d+)", u.ready_line)
        self.assertEqual([int(p) for p in m], [u.ports["scheduler"]], u.ready_line)
        # The endpoint table, one line per part.
        u.wait_line(r"^  connect\s+http://127\.0\.0\.1:%d/connectors" % u.ports["connect"],
                    10, "the endpoint table")
        for part in u.parts:
            u.wait_answers(part, 30)
        kids = u.child_pids()
        self.assertEqual(sorted(kids), sorted(u.parts), u.tail())
        # Every brook part is named "brook" (top, ps -o comm, pgrep), not "exe" after
        # /proc/self/exe; its threads carry their own names (top -H, perf).
        threads = {}
        for part, pid in kids.items():
            if part == "postgres":
                continue
            with open("/proc/%d/comm" % pid) as f:
                self.assertEqual(f.read().strip(), "brook", part)
            threads[part] = set()
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    threads[part].add(f.read().strip())
        for part, name in (("store", "store-flush"), ("store", "store-compact"),
                           ("store", "store-sync"), ("stream", "stream-job"),
                           ("broker", "broker-flush"), ("connect", "connector"),
                           ("scheduler", "sched-worker")):
            self.assertIn(name, threads[part], part)
        # Logs per part under DATA/logs.
        for part in u.parts:
            with open(os.path.join(u.data_dir, "logs", part + ".log")) as f:
                self.assertRegex(f.read(), r"\bready\b")

        # A SIGKILLed child is restarted (new pid), logged, and answers again.
        for part in ("registry", "broker"):
            old = u.child_pids()[part]
            mark = len(u.lines())
            os.kill(old, 9)
            u.wait_line(r" up: %s exited \(killed by SIGKILL\) after [0-9.]+ s; restarting "
                        r"in [0-9.]+ s" % part, 30, since=mark)
            new = u.wait_child(part, not_pid=old)
            self.assertNotEqual(new, old)
            u.wait_line(r" up: %s: ready again" % part, 60, since=mark)
            u.wait_answers(part, 30)
        # The others were left alone.
        now = u.child_pids()
        for part in u.parts:
            if part not in ("registry", "broker"):
                self.assertEqual(now[part], kids[part], part)

        u.stop()  # exit 0, every child gone
        order = stop_order(u.lines())
        self.assertEqual(order, list(reversed(u.parts)), u.tail())
        for part in u.parts:
            self.assertRegex(u.output(), r" up: %s stopped in [0-9.]+ s \(exit 0\)" % part)

    def test_external_broker_is_not_started(self):
        broker = brooktest.ServerUnderTest("broker", metrics_key="broker.metrics_listen")
        self.addCleanup(broker.cleanup)
        broker.start()
        ext = "127.0.0.1:%d" % broker.port
        u = self.up(parts=["randomuser", "broker", "registry"])
        # kafka.bootstrap points at the separate broker; broker.listen stays elsewhere.
        u.sets.append("kafka.bootstrap=" + ext)
        u.start()
        self.assertIn("broker: external (kafka.bootstrap=%s), not started" % ext, u.output())
        self.assertEqual(sorted(u.child_pids()), ["randomuser", "registry"], u.tail())
        self.assertFalse(uptest.tcp_answers(u.ports["broker"], 1))
        u.wait_answers("registry", 30)  # the registry works over the external broker
        u.stop()
        self.assertEqual(stop_order(u.lines()), ["registry", "randomuser"])
        self.assertTrue(broker.running())
        broker.stop()

    def test_parts_subset(self):
        u = self.up(parts=["randomuser", "store"]).start()
        self.assertEqual(sorted(u.child_pids()), ["randomuser", "store"])
        u.wait_answers("randomuser")
        u.wait_answers("store")
        self.assertFalse(uptest.tcp_answers(u.ports["broker"], 1))
        # The ready line names the first part's endpoint when the scheduler is dropped.
        self.assertIn("127.0.0.1:%d" % u.ports["randomuser"], u.ready_line)
        self.assertNotIn("postgres", u.child_pids())
        u.stop()
        self.assertEqual(stop_order(u.lines()), ["store", "randomuser"])

    def test_ctrl_c_to_the_process_group_stops_in_order(self):
        # A terminal's Ctrl-C signals the whole foreground process group; the children
        # are in groups of their own, so only up gets it and stops them in order.
        u = self.up(parts=["randomuser", "broker", "store"], new_session=True).start()
        u.stop(sig=signal.SIGINT, group=True)
        self.assertIn("SIGINT received; stopping the pipeline", u.output())
        self.assertEqual(stop_order(u.lines()), ["store", "broker", "randomuser"])
        self.assertNotIn("while stopping", u.output())

    def test_restart_backoff_doubles(self):
        u = self.up(parts=["randomuser"], sets=["up.restart_backoff_max=1s"]).start()
        delays = []
        for _ in range(3):
            old = u.child_pids()["randomuser"]
            mark = len(u.lines())
            os.kill(old, signal.SIGKILL)
            line = u.wait_line(r"randomuser exited \(killed by SIGKILL\)", 30, since=mark)
            delays.append(re.search(r"restarting in ([0-9.]+) s", line).group(1))
            u.wait_child("randomuser", not_pid=old)
            u.wait_line(r"randomuser: ready again", 30, since=mark)
            u.wait_answers("randomuser")
        self.assertEqual(delays, ["0.5", "1.0", "1.0"])  # capped by up.restart_backoff_max
        u.stop()

    def test_stop_timeout_and_second_signal(self):
        u = self.up(parts=["randomuser", "broker"], sets=["up.stop_timeout=1s"]).start()
        kids = u.child_pids()
        # A child that ignores SIGTERM (here: stopped) gets SIGKILL after up.stop_timeout.
        os.kill(kids["broker"], signal.SIGSTOP)
        u.stop()
        self.assertRegex(u.output(), r"broker did not stop in 1\.0 s; sending SIGKILL")
        self.assertRegex(u.output(), r"broker stopped in [0-9.]+ s \(killed by SIGKILL\)")
        self.assertRegex(u.output(), r"randomuser stopped in [0-9.]+ s \(exit 0\)")

        # A second signal while stopping kills everything at once: exit 1.
        u2 = self.up(parts=["randomuser", "broker"]).start()
        kids = u2.child_pids()
        os.kill(kids["broker"], signal.SIGSTOP)
        mark = len(u2.lines())
        u2.proc.send_signal(signal.SIGTERM)
        u2.wait_line(r"stopping broker", 10, since=mark)
        u2.stop(expect_rc=1)
        self.assertIn("second signal: killing every part (SIGKILL)", u2.output())

    def test_bad_config_exits_2(self):
        p = subprocess.run([BROOK, "up", "--set", "up.partz=broker"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"unknown key 'up.partz' (did you mean 'up.parts'?)", p.stderr)
        p = subprocess.run([BROOK, "up", "--set", "up.parts=broker,stor"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"unknown part 'stor' (did you mean 'store'?)", p.stderr)
        p = subprocess.run([BROOK, "up", "--help"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0)
        for word in (b"up.parts", b"up.ready_timeout", b"up.stop_timeout",
                     b"up.restart_backoff_max", b"up.status_interval", b"external"):
            self.assertIn(word, p.stdout)

    def test_part_that_cannot_start_ends_the_run(self):
        # The store's port is taken: the store exits before ready, so up shows its last
        # lines, stops what it started (randomuser, broker) and exits 1.
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        self.addCleanup(blocker.close)
        u = self.up(parts=["randomuser", "broker", "store", "registry"],
                    ports={"store": blocker.getsockname()[1]})
        rc = u.run_to_exit()
        self.assertEqual(rc, 1, u.tail())
        out = u.output()
        self.assertRegex(out, r" up: store exited \(exit 1\) after [0-9.]+ s before it was "
                              r"ready")
        self.assertIn("last lines of %s/logs/store.log" % u.data_dir, out)
        self.assertEqual(stop_order(u.lines()), ["broker", "randomuser"])
        self.assertNotIn("starting registry", out)

    def test_ready_timeout_ends_the_run(self):
        u = self.up(parts=["randomuser", "broker"], sets=["up.ready_timeout=1"])  # 1 ms
        rc = u.run_to_exit()
        self.assertEqual(rc, 1, u.tail())
        self.assertIn("randomuser printed no ready line in 0.0 s; killing it", u.output())
        self.assertNotIn("starting broker", u.output())

    def test_sigkill_of_supervisor_takes_children_along(self):
        u = self.up(parts=["postgres", "randomuser", "broker"]).start()
        kids = u.child_pids()
        self.assertEqual(sorted(kids), ["broker", "postgres", "randomuser"])
        # A SIGKILLed `brook postgres` leaves its postmaster behind; the restarted one
        # takes the cluster over again.
        mark = len(u.lines())
        os.kill(kids["postgres"], signal.SIGKILL)
        u.wait_line(r" up: postgres: ready again", 60, since=mark)
        u.wait_answers("postgres")
        kids = u.child_pids()
        u.kill()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(uptest.pid_alive(p) for p in kids.values()):
            time.sleep(0.1)
        left = {k: p for k, p in kids.items() if uptest.pid_alive(p)}
        self.assertEqual(left, {}, "children outlived the supervisor")
        # brook postgres stopped its postmaster on the way out.
        pidfile = os.path.join(u.data_dir, "postgres", "pgdata", "postmaster.pid")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(pidfile):
            time.sleep(0.1)
        self.assertFalse(os.path.exists(pidfile), "the postmaster is still running")


if __name__ == "__main__":
    unittest.main(verbosity=2)
