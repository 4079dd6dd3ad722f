"""Durability (store acceptance): writer threads insert through the DataStax Python
driver with prepared statements and record every write the server ACKNOWLEDGED, while
the store is SIGKILLed at random moments 10 times and restarted on the same port and data
directory (small memtables, so flushes and compactions happen in between; the second
half of the kills runs with store.commitlog_sync=periodic, which also promises to survive
a SIGKILL). Every restart must come up (no corruption stops recovery), and afterwards every
acknowledged write must be readable with the value it was acknowledged with; per writer, a
"latest" row overwritten with increasing sequence numbers must hold the last acknowledged
number or a later attempted one (last write wins survives recovery). A clean SIGTERM and
one more restart at the end must change nothing.

The RNG seed is printed; BROOK_CRASH_SEED=N reproduces the kill schedule.
BROOK_CRASH_KILLS sets the number of kills (default 10).
"""
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

from cassandra.policies import ConstantReconnectionPolicy  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

brooktest.quiet_driver_logs()
T = brooktest.DRIVER_TIMEOUT
KILLS = int(os.environ.get("BROOK_CRASH_KILLS", "10"))
WRITERS = 4
LATEST = -1  # the seq of each writer's overwritten row


def payload(w, seq):
    return "w%d-s%d-" % (w, seq) + "x" * (seq % 97)


class Writer(threading.Thread):
    def __init__(self, session, insert, w, stop):
        super().__init__(daemon=True)
        self.session, self.insert, self.w, self.stop = session, insert, w, stop
        self.acked = {}         # seq -> value
        self.latest_acked = -1  # highest seq acknowledged on the LATEST row
        self.latest_tried = []  # every seq attempted on the LATEST row
        self.failures = 0
        self.error = None

    def run(self):
        seq = 0
        try:
            while not self.stop.is_set():
                seq += 1
                v = payload(self.w, seq)
                try:
                    self.session.execute(self.insert, (self.w, seq, v), timeout=5)
                except Exception:  # unacknowledged: may or may not be stored
                    self.failures += 1
                    time.sleep(0.05)
                    continue
                self.acked[seq] = v
                if seq % 10 == 0:
                    self.latest_tried.append(seq)
                    try:
                        self.session.execute(self.insert, (self.w, LATEST, str(seq)), timeout=5)
                    except Exception:
                        self.failures += 1
                        time.sleep(0.05)
                        continue
                    self.latest_acked = seq
        except BaseException as e:  # a bug in the test itself
            self.error = e


class Crash(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        seed = int(os.environ.get("BROOK_CRASH_SEED", str(random.randrange(1 << 30))))
        print("crash test seed %d (BROOK_CRASH_SEED=%d reproduces)" % (seed, seed),
              file=sys.stderr)
        rng = random.Random(seed)
        # Small memtables: flushes and compactions run while the store is killed, so
        # recovery meets sstables of every age, not only a commit log.
        sets = ["store.memtable_bytes=64KiB", "store.compaction_threshold=4"]
        store = brooktest.StoreUnderTest(sets=sets)
        store.start()
        cluster = None
        try:
            cluster, s = store.connect(
                reconnection_policy=ConstantReconnectionPolicy(0.2, max_attempts=None))
            s.execute("CREATE KEYSPACE crash WITH replication = "
                      "{'class': 'SimpleStrategy', 'replication_factor': 1}", timeout=T)
            s.execute("CREATE TABLE crash.w (w int, seq int, v text, PRIMARY KEY (w, seq))",
                      timeout=T)
            insert = s.prepare("INSERT INTO crash.w (w, seq, v) VALUES (?, ?, ?)")
            stop = threading.Event()
            writers = [Writer(s, insert, w, stop) for w in range(WRITERS)]
            for t in writers:
                t.start()

            def acked():
                return sum(len(t.acked) for t in writers)

            for kill in range(KILLS):
                # Kill only while writes are flowing: wait for new acknowledgements.
                base = acked()
                deadline = time.monotonic() + 3 * T
                while acked() < base + 20:
                    self.assertLess(time.monotonic(), deadline,
                                    "no writes acknowledged after restart %d:\n%s"
                                    % (kill, store.log_tail()))
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 1.2))
                store.kill()
                time.sleep(rng.uniform(0.0, 0.3))
                # The second half runs with commitlog_sync=periodic, whose acknowledgement
                # still promises to survive a crash of brook (not of the machine).
                store.sets = sets + (["store.commitlog_sync=periodic"]
                                     if kill >= KILLS // 2 else [])
                store.start()  # same port, same data directory: recovery must succeed
            base = acked()
            deadline = time.monotonic() + 3 * T
            while acked() < base + 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            for t in writers:
                t.join(timeout=2 * T)
                self.assertFalse(t.is_alive(), "writer %d hangs" % t.w)
                self.assertIsNone(t.error, "writer %d: %r" % (t.w, t.error))
            cluster.shutdown()
            cluster = None
            print("acknowledged %d writes, %d failed attempts over %d kills"
                  % (acked(), sum(t.failures for t in writers), KILLS), file=sys.stderr)
            self.assertGreater(acked(), 0)

            self.verify(store, writers)
            store.stop()   # SIGTERM: exit 0
            store.start()  # and recover from a clean shutdown too
            self.verify(store, writers)
            store.stop()
        finally:
            if cluster is not None:
                cluster.shutdown()
            store.cleanup()

    def verify(self, store, writers):
        c, s = store.connect()
        try:
            sel = SimpleStatement("SELECT seq, v FROM crash.w WHERE w = %s", fetch_size=2000)
            for t in writers:
                stored = {r.seq: r.v for r in s.execute(sel, (t.w,), timeout=T)}
                lost = [q for q in t.acked if q not in stored]
                self.assertEqual(lost[:20], [], "writer %d: %d acknowledged writes lost"
                                 % (t.w, len(lost)))
                wrong = [(q, stored[q]) for q, v in t.acked.items() if stored[q] != v]
                self.assertEqual(wrong[:5], [], "writer %d: wrong values" % t.w)
                for q, v in stored.items():
                    if q != LATEST:
                        self.assertEqual(v, payload(t.w, q), "writer %d seq %d corrupt"
                                         % (t.w, q))
                if t.latest_acked >= 0:
                    self.assertIn(LATEST, stored, "writer %d: latest row lost" % t.w)
                    got = int(stored[LATEST])
                    self.assertIn(got, t.latest_tried, "writer %d: latest %d never written"
                                  % (t.w, got))
                    self.assertGreaterEqual(got, t.latest_acked,
                                            "writer %d: latest row went back" % t.w)
        finally:
            c.shutdown()


if __name__ == "__main__":
    unittest.main(verbosity=2)
