"""The whole pipeline under `brook up`, end to end (CTest label e2e).

One `brook up` on a temporary data dir and ephemeral ports runs every part: brook's
PostgreSQL, the randomuser API, broker, store, registry, scheduler, connector and stream
processor. Then, with real clients only (brook dags / brook psql as a user would, the
DataStax Python driver, kafka-python):

  1. a user_automation run with {"max_records": 5000} flows from the randomuser server
     to spark_streams.created_users; every stored row equals the reference
     transformation applied to the staged payload; staged count == stored count;
  2. poison records inserted into staging land in users_created.dlq with their reasons
     while the good ones around them are stored;
  3. chaos: while a run streams, each child is SIGKILLed in turn; the supervisor
     restarts it; at the end every staged user is stored exactly once.

The test's configuration keeps the reference DAG but without its daily schedule, so
the only runs are the ones the test triggers (unpausing a @daily DAG would also start
the latest day's 60-second run).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
import uptest  # noqa: E402
from brooktest import BROOK  # noqa: E402

from kafka import KafkaConsumer, TopicPartition  # noqa: E402

DAG = "user_automation"
N_CHAOS = 100000
DLQ = "users_created.dlq"
CONFIG = """\
scheduler:
  dags:
    user_automation:
      description: the reference DAG, triggered by the test only
      schedule: none
      start_date: 2023-09-03T10:00:00Z
      catchup: false
      max_active_runs: 1
      default_args: {retries: 5, retry_delay: 1s}
      tasks:
        stream_data_from_api:
          operator: randomuser_to_postgres
          params: {batch_size: 100, max_duration: 120s}
"""


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        brooktest.quiet_driver_logs()
        fd, cls.config = tempfile.mkstemp(suffix=".yaml", prefix="brook-e2e-")
        with os.fdopen(fd, "w") as f:
            f.write(CONFIG)
        cls.up = uptest.Up(extra_args=["--config", cls.config],
                           sets=["stream.session_timeout=6s"])
        cls.cluster = None
        try:
            t0 = time.monotonic()
            cls.up.start()
            sys.stderr.write("brook up ready in %.1f s\n" % (time.monotonic() - t0))
            from cassandra.cluster import Cluster
            cls.cluster = Cluster(["127.0.0.1"], port=cls.up.ports["store"],
                                  connect_timeout=30, control_connection_timeout=30)
            cls.session = cls.cluster.connect()
            cls.session.default_timeout = 30
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.cluster:
            cls.cluster.shutdown()
        try:
            if cls.up.proc is not None:
                cls.up.stop()
        finally:
            cls.up.cleanup()
            os.unlink(cls.config)

    # ---- clients -----------------------------------------------------------------------

    def brook(self, cmd, *args, timeout=120):
        """brook CMD --data DIR --set <the pipeline's ports>... ARGS."""
        p = subprocess.run([BROOK, cmd] + self.up.client_args() + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("brook %s: exit %d\n%s\n%s\n%s" % (
                " ".join((cmd,) + args), p.returncode, p.stdout, p.stderr, self.up.tail()))
        return p.stdout

    def dags(self, *args):
        return self.brook("dags", *args, "--url",
                          "http://127.0.0.1:%d" % self.up.ports["scheduler"])

    def psql(self, sql):
        return self.brook("psql", "-At", "-c", sql)

    def staged_users(self, run_like):
        out = self.psql("SELECT payload::text FROM staging.raw_users WHERE run_id LIKE '%s'"
                        % run_like)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def stored(self):
        for _ in range(50):
            try:
                rows = self.session.execute("SELECT * FROM spark_streams.created_users")
                return {r.id: r._asdict() for r in rows}
            except Exception:  # the table may not exist yet; the store may restart
                time.sleep(0.5)
        raise AssertionError("cannot read spark_streams.created_users:\n" + self.up.tail())

    def trigger(self, run_id, max_records):
        self.dags("trigger", DAG, "--run-id", run_id, "--conf",
                  json.dumps({"max_records": max_records}))

    def wait_run(self, run_id, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                runs = json.loads(self.dags("runs", DAG, "--json"))
            except AssertionError:
                time.sleep(1)  # the scheduler may be restarting
                continue
            for r in runs.get("dag_runs", []):
                if r["dag_run_id"] == run_id and r["state"] in ("success", "failed"):
                    self.assertEqual(r["state"], "success", self.up.tail())
                    return
            time.sleep(0.5)
        raise AssertionError("run %s did not finish in %d s\n%s" % (run_id, timeout,
                                                                    self.up.tail()))

    def wait_stored(self, users, timeout=180):
        """Every user's row, stored and equal to the transformation."""
        want = {}
        for u in users:
            row = brooktest.expected_row(u)
            want[row["id"]] = row
        deadline = time.monotonic() + timeout
        while True:
            have = self.stored()
            missing = [k for k in want if k not in have]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise AssertionError("%d of %d rows not stored after %d s\n%s" % (
                    len(missing), len(want), timeout, self.up.tail()))
            time.sleep(1)
        for k, w in want.items():
            self.assertEqual(have[k], w)
        return have

    # ---- tests -------------------------------------------------------------------------

    def test_1_a_run_of_5000_users_flows_to_the_store(self):
        self.dags("unpause", DAG)
        self.trigger("e2e_5000", 5000)
        self.wait_run("e2e_5000")
        users = self.staged_users(DAG + "/e2e_5000/%")
        self.assertEqual(len(users), 5000)
        self.wait_stored(users)
        self.assertEqual(len(self.stored()), 5000)  # staged == stored, nothing else

    def test_2_poison_records_go_to_the_dead_letter_topic(self):
        good = self.staged_users(DAG + "/e2e_5000/%")[:2]
        fresh = []
        for i, u in enumerate(good):
            u = json.loads(json.dumps(u))
            u["login"]["uuid"] = str(uuid.UUID(int=0xe2e0 + i))
            fresh.append(u)
        poison = ['{"foo": 1}', '"just a string"',
                  json.dumps(dict(good[0], name={"first": 7, "last": "x"}))]
        values = ", ".join("('poison/run/t', 0, now(), 'test', '%s')" % p.replace("'", "''")
                           for p in [json.dumps(fresh[0])] + poison + [json.dumps(fresh[1])])
        self.psql("INSERT INTO staging.raw_users (run_id, batch_no, fetched_at, source_url, "
                  "payload) VALUES " + values)
        self.wait_stored(fresh)
        c = KafkaConsumer(bootstrap_servers="127.0.0.1:%d" % self.up.ports["broker"],
                          auto_offset_reset="earliest", enable_auto_commit=False)
        try:
            deadline = time.monotonic() + 60
            while not c.partitions_for_topic(DLQ) and time.monotonic() < deadline:
                c.topics()
                time.sleep(0.3)
            tps = [TopicPartition(DLQ, p) for p in c.partitions_for_topic(DLQ) or []]
            self.assertTrue(tps, "no %s topic\n%s" % (DLQ, self.up.tail()))
            c.assign(tps)
            c.seek_to_beginning(*tps)
            got = []
            while len(got) < 3 and time.monotonic() < deadline:
                for recs in c.poll(timeout_ms=300).values():
                    got.extend(recs)
        finally:
            c.close()
        reasons = sorted(dict(m.headers)["__connect.errors.exception.message"].decode()
                         for m in got)
        self.assertEqual(len(reasons), 3, reasons)
        text = "\n".join(reasons)
        self.assertIn("login.uuid", text)            # {"foo": 1}: no uuid
        self.assertIn("not an object", text)         # a string is not a user record
        self.assertIn("name.first", text)            # a number where a string belongs
        for m in got:
            h = dict(m.headers)
            self.assertEqual(h["__connect.errors.topic"], b"users_created")
            self.assertEqual(h["__connect.errors.stage"], b"MAP")

    def test_3_chaos_every_child_killed_in_turn(self):
        # Upstream parts first, while users are being staged; downstream ones while
        # the connector and the stream processor work through the backlog.
        self.trigger("e2e_chaos", N_CHAOS)
        order = ["randomuser", "postgres", "scheduler", "connect", "broker", "registry",
                 "store", "stream"]
        for part in order:
            pid = self.up.wait_child(part)
            since = len(self.up.lines())
            os.kill(pid, 9)
            self.up.wait_line(r"up: %s: ready again" % part, timeout=120, since=since,
                              what="%s ready again" % part)
            time.sleep(1)
        self.wait_run("e2e_chaos", timeout=600)
        users = self.staged_users(DAG + "/e2e_chaos/%")
        self.assertEqual(len(users), N_CHAOS)
        ids = {u["login"]["uuid"] for u in users}
        self.assertEqual(len(ids), N_CHAOS)  # staging itself holds no duplicate
        self.wait_stored(users, timeout=300)
        total = self.psql("SELECT count(*) FROM staging.raw_users").strip()
        # Every staged record is stored once, except the 3 poison records.
        self.assertEqual(len(self.stored()), int(total) - 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
