"""brook stream: the built-in `users` job against a real brook broker, registry and store.

Records go in as the connector writes them (Confluent-framed Avro rows of
staging.raw_users, the API record as JSON text in `payload`), produced here with
python3-avro and kafka-python; rows come out through the DataStax Python driver and
must equal the reference transformation computed here in Python. Also: poison records
become dead letters with Kafka Connect's error headers while the rest flows; the store
going away and coming back loses nothing; SIGKILL of the processor mid-stream loses
nothing and duplicates nothing; two processes in one group split the partitions and one
takes over the other's when it is killed; configuration mistakes are errors naming the
line.
"""
import datetime
import io
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
import kafkatest  # noqa: E402
from brooktest import BROOK  # noqa: E402

import avro.io  # noqa: E402
import avro.schema  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

TOPIC = "users_created"
DLQ = "users_created.dlq"

# The connector's row schema for staging.raw_users (envelope row).
ROW_SCHEMA = {
    "type": "record", "name": "Value", "namespace": "brook.staging.raw_users",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "run_id", "type": "string"},
        {"name": "batch_no", "type": "int"},
        {"name": "fetched_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "source_url", "type": "string"},
        {"name": "payload", "type": "string"},
    ],
}


def user(i):
    """A randomuser-shaped record; postcodes alternate between numbers and strings, as
    the real API gives them."""
    return {
        "gender": "female" if i % 2 else "male",
        "name": {"title": "Ms", "first": "First%d" % i, "last": "Läst%d" % i},
        "location": {
            "street": {"number": 100 + i, "name": "Ringstraße"},
            "city": "Düsseldorf", "state": "NRW", "country": "Germany",
            "postcode": 40000 + i if i % 3 else "SW1A %dAA" % i,
        },
        "email": "user%d@example.com" % i,
        "login": {"uuid": str(uuid.UUID(int=i + 1)), "username": "user%d" % i},
        "dob": {"date": "1990-01-%02dT10:00:00.000Z" % (i % 28 + 1), "age": 30},
        "registered": {"date": "2020-02-02T02:02:02.000Z", "age": 4},
        "phone": "0401-%07d" % i,
        "picture": {"medium": "https://randomuser.me/api/portraits/med/men/%d.jpg" % (i % 99)},
        "nat": "DE",
    }


class Registry(brooktest.ServerUnderTest):
    def __init__(self, bootstrap):
        super().__init__("registry", sets=["kafka.bootstrap=" + bootstrap], data_dir=False)

    @property
    def url(self):
        return "http://" + self.address

    def register(self, subject, schema):
        body = json.dumps({"schema": json.dumps(schema)}).encode()
        req = urllib.request.Request("%s/subjects/%s/versions" % (self.url, subject),
                                     data=body, method="POST")
        req.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["id"]


class Stream(brooktest.ServerUnderTest):
    """`brook stream` (no --listen: its ready line names the metrics address)."""

    def __init__(self, sets, data_dir, extra_args=None, name="stream"):
        super().__init__("stream", sets=sets, data_dir=data_dir, extra_args=extra_args,
                         name=name)

    def command(self, port):
        cmd = [BROOK, "stream", "--data", self.data_dir,
               "--set", "stream.metrics_listen=127.0.0.1:%d" % port]
        for kv in self.sets:
            cmd += ["--set", kv]
        return cmd + self.extra_args

    def metric(self, name):
        with urllib.request.urlopen("http://%s/metrics" % self.address, timeout=10) as r:
            total = 0.0
            for line in r.read().decode().splitlines():
                if line.startswith(name + "{") or line.startswith(name + " "):
                    total += float(line.rsplit(" ", 1)[1])
            return total


class StreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        brooktest.quiet_driver_logs()
        cls.tmp = tempfile.mkdtemp(prefix="brook-stream-")
        cls.broker = kafkatest.BrokerUnderTest()
        cls.store = brooktest.StoreUnderTest()
        cls.registry = None
        cls.cluster = None
        try:
            cls.broker.start()
            cls.registry = Registry(cls.broker.bootstrap)
            cls.registry.start()
            cls.store.start()
            admin = KafkaAdminClient(bootstrap_servers=cls.broker.bootstrap)
            admin.create_topics([NewTopic(TOPIC, 4, 1)])
            admin.close()
            cls.schema_id = cls.registry.register(TOPIC + "-value", ROW_SCHEMA)
            cls.writer = avro.io.DatumWriter(avro.schema.parse(json.dumps(ROW_SCHEMA)))
            cls.producer = KafkaProducer(bootstrap_servers=cls.broker.bootstrap, acks="all")
            cls.cluster, cls.session = cls.store.connect()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.next_id = 0

    @classmethod
    def tearDownClass(cls):
        if cls.cluster:
            cls.cluster.shutdown()
        for srv in (cls.store, cls.registry, cls.broker):
            if srv is not None:
                srv.cleanup()

    def sets(self, **extra):
        s = ["kafka.bootstrap=" + self.broker.bootstrap,
             "registry.url=" + self.registry.url,
             "cassandra.contact_points=" + self.store.address,
             "stream.session_timeout=6s"]
        return s + ["%s=%s" % kv for kv in extra.items()]

    def stream(self, name="stream", **extra):
        s = Stream(self.sets(**extra), self.tmp, name=name)
        self.addCleanup(s.cleanup)
        return s

    # ---- producing and checking --------------------------------------------------------

    def frame(self, row):
        buf = io.BytesIO()
        self.writer.write(row, avro.io.BinaryEncoder(buf))
        return b"\0" + struct.pack(">I", self.schema_id) + buf.getvalue()

    def produce_users(self, n, payload=None):
        """n new users (or the given raw payload texts) as the connector would write
        them; returns the users."""
        users = []
        items = payload if payload is not None else range(n)
        for item in items:
            StreamTest.next_id += 1
            i = StreamTest.next_id
            if payload is None:
                u = user(i)
                users.append(u)
                text = json.dumps(u)
            else:
                text = item
            row = {"id": i, "run_id": "test/run/task", "batch_no": i // 100,
                   "fetched_at": datetime.datetime.now(datetime.timezone.utc), "source_url": "http://x/api/",
                   "payload": text}
            self.producer.send(TOPIC, key=struct.pack(">q", i), value=self.frame(row),
                               partition=i % 4)
        self.producer.flush()
        return users

    def rows(self):
        try:
            res = self.session.execute("SELECT * FROM spark_streams.created_users")
        except Exception:
            return {}
        return {r.id: r._asdict() for r in res}

    def wait_rows(self, users, timeout=90):
        want = {brooktest.expected_row(u)["id"]: brooktest.expected_row(u) for u in users}
        deadline = time.monotonic() + timeout
        while True:
            have = self.rows()
            missing = [k for k in want if k not in have]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise AssertionError("%d of %d rows missing after %d s" %
                                     (len(missing), len(want), timeout))
            time.sleep(0.3)
        for k, w in want.items():
            self.assertEqual(have[k], w)
        return have

    def dead_letters(self, n, timeout=60):
        c = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, auto_offset_reset="earliest",
                          enable_auto_commit=False)
        try:
            deadline = time.monotonic() + timeout
            while not c.partitions_for_topic(DLQ):
                if time.monotonic() > deadline:
                    raise AssertionError("no topic %s" % DLQ)
                c.topics()
                time.sleep(0.2)
            tps = [TopicPartition(DLQ, p) for p in c.partitions_for_topic(DLQ)]
            c.assign(tps)
            c.seek_to_beginning(*tps)
            got = []
            while len(got) < n and time.monotonic() < deadline:
                for recs in c.poll(timeout_ms=300).values():
                    got.extend(recs)
            self.assertGreaterEqual(len(got), n, "dead letters: %r" % got)
            return got
        finally:
            c.close()

    # ---- tests -------------------------------------------------------------------------

    def test_1_reference_transformation_poison_and_restarts(self):
        s = self.stream()
        s.start()
        users = self.produce_users(400)
        self.wait_rows(users)
        self.assertEqual(s.metric("brook_stream_records_out_total"), 400)

        # Poison: not JSON, a record missing its uuid, a name that is a number, a record
        # that is not Confluent Avro at all. The good ones around them still flow.
        before = self.produce_users(5)
        self.produce_users(0, payload=["{not json", json.dumps({"name": {"first": "x"}}),
                                       json.dumps(dict(user(9999), name={"first": 7,
                                                                         "last": "x"}))])
        self.producer.send(TOPIC, key=b"garbage", value=b"\x07garbage", partition=0)
        self.producer.flush()
        after = self.produce_users(5)
        self.wait_rows(before + after)
        dls = self.dead_letters(4)
        reasons = {}
        for m in dls:
            h = {k: v.decode() for k, v in m.headers}
            self.assertEqual(h["__connect.errors.topic"], TOPIC)
            self.assertIn("__connect.errors.partition", h)
            self.assertIn("__connect.errors.offset", h)
            reasons[h["__connect.errors.exception.message"]] = h["__connect.errors.stage"]
        text = "\n".join("%s: %s" % (v, k) for k, v in reasons.items())
        self.assertIn("not JSON", text)
        self.assertIn("login.uuid", text)
        self.assertIn("name.first", text)
        self.assertIn("not a Confluent Avro message", text)
        self.assertEqual(s.metric("brook_stream_records_dead_lettered_total"), 4)

        # The store goes away while records arrive, then comes back: nothing is lost.
        self.store.stop()
        during = self.produce_users(200)
        time.sleep(1.5)
        self.store.start()
        self.cluster.shutdown()
        StreamTest.cluster, StreamTest.session = self.store.connect()
        self.wait_rows(during)

        # SIGKILL mid-stream, then a restart: every row once.
        more = self.produce_users(3000)
        time.sleep(0.2)
        s.kill()
        s.start()
        self.wait_rows(more)
        s.stop()
        total = users + before + after + during + more
        self.assertEqual(len(self.rows()), len(total))

    def test_2_scale_out(self):
        a = self.stream(name="stream-a")
        b = self.stream(name="stream-b")
        a.start()
        b.start()
        # Both members own partitions (4 partitions, roundrobin).
        for s in (a, b):
            s.wait_for_log(r"assigned [1-9]", timeout=60)
        users = self.produce_users(2000)
        time.sleep(0.3)
        a.kill()  # b takes a's partitions after the session times out
        more = self.produce_users(500)
        self.wait_rows(users + more, timeout=120)
        b.stop()

    def test_3_config_errors_name_the_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("stream:\n  jobs:\n    users:\n      source: {topics: [t]}\n"
                    "      input: {name: {first: string}}\n"
                    "      map:\n        id: uuid5('url', name.frist)\n"
                    "      sink: {keyspace: ks, table: t}\n")
        self.addCleanup(os.unlink, f.name)
        p = subprocess.run([BROOK, "stream", "--check", "--config", f.name],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("%s:7:" % f.name, p.stderr)
        self.assertIn("did you mean 'name.first'", p.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as g:
            g.write("stream:\n  jobs:\n    users:\n      source: {topics: [t]}\n"
                    "      map:\n        id: uper(gender)\n"
                    "      sink: {keyspace: ks, table: t}\n")
        self.addCleanup(os.unlink, g.name)
        p = subprocess.run([BROOK, "stream", "--check", "--config", g.name],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("%s:6:" % g.name, p.stderr)
        self.assertIn("did you mean 'upper'", p.stderr)
        p = subprocess.run([BROOK, "stream", "--check"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("CREATE TABLE IF NOT EXISTS spark_streams.created_users (id uuid, "
                      "first_name text", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
