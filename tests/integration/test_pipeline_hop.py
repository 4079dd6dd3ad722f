"""The whole hop: the scheduler stages users → the CDC connector → topic users_created,
decoded with python3-avro through brook's Schema Registry.

brook postgres, brook randomuser, brook broker, brook registry and brook scheduler run on
127.0.0.1; the scheduler's only DAG is user_automation (schedule none, unpaused) with
params max_records 500, batch_size 100, max_duration 0. brook connect runs on the same
data dir and creates, by itself, the pipeline's built-in `users` connector
(connect.connectors in config/brook.yaml): postgres-cdc on staging.raw_users → topic
users_created with value.format=avro and envelope=row (each record value is the staged
row itself, as the stream processor reads it), keyed by the row's id, connection.url
taken from the private cluster. The DAG is triggered through the scheduler's REST API; once
the run succeeded, users_created is read until 500 records arrived: each is Confluent
framed (magic byte 0), decodes with the writer schema fetched by id from the registry,
and its payload is a JSON user whose login.uuid set equals what psql finds staged.
"""
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
import kafkatest  # noqa: E402

import avro.io  # noqa: E402
import avro.schema  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402

BROOK = brooktest.BROOK
TIMEOUT = 60
USERS = 500


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class PipelineHopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="brook-hop-")
        os.chmod(cls.tmp, 0o755)  # PostgreSQL runs as user postgres when we are root
        cls.pg = brooktest.ServerUnderTest("postgres", data_dir=cls.tmp)
        cls.ru = brooktest.ServerUnderTest("randomuser", data_dir=False)
        cls.broker = kafkatest.BrokerUnderTest()
        cls.registry = cls.sched = cls.connect = None
        try:
            cls.pg.start(free_port())
            cls.dsn = subprocess.run(
                [BROOK, "postgres", "--data", cls.tmp, "--print-dsn"], check=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=TIMEOUT).stdout.decode().strip()
            cls.ru.start()
            cls.broker.start()
            cls.registry = brooktest.ServerUnderTest(
                "registry", data_dir=False, extra_args=["--bootstrap", cls.broker.bootstrap])
            cls.registry.start(free_port())
            cls.registry_url = "http://" + cls.registry.address
            config = os.path.join(cls.tmp, "dags.yaml")
            with open(config, "w") as f:
                f.write("""
source:
  url: http://%s/api/
scheduler:
  dags:
    user_automation:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        stream_data_from_api:
          operator: randomuser_to_postgres
          params: {max_records: %d, batch_size: 100, max_duration: 0}
""" % (cls.ru.address, USERS))
            # The scheduler creates staging.raw_users (its migrations) before it is ready.
            cls.sched = brooktest.ServerUnderTest(
                "scheduler", data_dir=cls.tmp, extra_args=["--config", config],
                sets=["scheduler.tick=200ms"])
            cls.sched.start()
            cls.connect = brooktest.ServerUnderTest(
                "connect", data_dir=cls.tmp,
                sets=["kafka.bootstrap=" + cls.broker.bootstrap,
                      "registry.url=" + cls.registry_url])
            cls.connect.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for srv in (cls.connect, cls.sched, cls.registry, cls.broker, cls.ru, cls.pg):
            if srv is None:
                continue
            try:
                if srv.proc is not None:
                    srv.stop()
            except AssertionError as e:
                sys.stderr.write(str(e))
            srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def psql(self, sql):
        p = subprocess.run([BROOK, "psql", "--data", self.tmp, "-At", "-c", sql],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode().strip()

    def decode(self, raw, schemas):
        self.assertGreaterEqual(len(raw), 5)
        self.assertEqual(raw[0], 0, "magic byte")
        sid = int.from_bytes(raw[1:5], "big")
        if sid not in schemas:
            st, body = http("GET", "%s/schemas/ids/%d" % (self.registry_url, sid))
            self.assertEqual(st, 200, body)
            schemas[sid] = avro.schema.parse(body["schema"])
        reader = avro.io.DatumReader(schemas[sid])
        return reader.read(avro.io.BinaryDecoder(io.BytesIO(raw[5:])))

    def test_scheduler_to_users_created_in_avro(self):
        connect_url = "http://%s" % self.connect.address
        # The built-in connector, created at start with the private cluster's DSN.
        st, config = http("GET", connect_url + "/connectors/users/config")
        self.assertEqual(st, 200, "%s\n%s" % (config, self.connect.log_tail()))
        self.assertEqual(config["topic"], "users_created")
        self.assertEqual(config["table.include.list"], "staging.raw_users")
        self.assertEqual(config["value.format"], "avro")
        self.assertIn("port=%d" % self.pg.port, config["connection.url"])
        deadline = time.monotonic() + TIMEOUT
        while True:  # RUNNING once the slot exists: later inserts are streamed
            st, body = http("GET", connect_url + "/connectors/users/status")
            if st == 200 and body["tasks"] and body["tasks"][0]["state"] == "RUNNING":
                break
            self.assertLess(time.monotonic(), deadline, "%s\n%s" % (
                body, self.connect.log_tail()))
            time.sleep(0.1)

        sched = "http://%s/api/v1" % self.sched.address
        st, run = http("POST", sched + "/dags/user_automation/dagRuns", {"conf": {}})
        self.assertEqual(st, 200, run)
        run_id = run["dag_run_id"]
        deadline = time.monotonic() + TIMEOUT
        while run["state"] not in ("success", "failed"):
            self.assertLess(time.monotonic(), deadline, self.sched.log_tail())
            time.sleep(0.2)
            st, run = http("GET", sched + "/dags/user_automation/dagRuns/" +
                           urllib.request.quote(run_id, safe=""))
            self.assertEqual(st, 200, run)
        self.assertEqual(run["state"], "success", self.sched.log_tail())
        staged = set(self.psql("SELECT payload->'login'->>'uuid' FROM staging.raw_users")
                     .split())
        self.assertEqual(len(staged), USERS)

        consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                 enable_auto_commit=False, auto_offset_reset="earliest")
        schemas, uuids, records = {}, set(), 0
        try:
            deadline = time.monotonic() + 60
            assigned = False
            while records < USERS:
                self.assertLess(time.monotonic(), deadline, "%d of %d records\n%s" % (
                    records, USERS, self.connect.log_tail()))
                if not assigned:
                    parts = consumer.partitions_for_topic("users_created")
                    if not parts:
                        consumer.topics()
                        time.sleep(0.2)
                        continue
                    tps = [TopicPartition("users_created", p) for p in sorted(parts)]
                    consumer.assign(tps)
                    consumer.seek_to_beginning(*tps)
                    assigned = True
                for msgs in consumer.poll(timeout_ms=500).values():
                    for m in msgs:
                        key = self.decode(m.key, schemas)
                        row = self.decode(m.value, schemas)
                        self.assertEqual(key, {"id": row["id"]})
                        self.assertEqual(row["run_id"], "user_automation/%s/"
                                         "stream_data_from_api" % run_id)
                        user = json.loads(row["payload"])
                        uuids.add(user["login"]["uuid"])
                        records += 1
        finally:
            consumer.close()
        self.assertEqual(records, USERS)
        self.assertEqual(uuids, staged)
        st, subjects = http("GET", self.registry_url + "/subjects")
        self.assertEqual(st, 200)
        self.assertIn("users_created-value", subjects)
        self.assertIn("users_created-key", subjects)


if __name__ == "__main__":
    unittest.main()
