"""brook connect: Kafka Connect's REST API and the postgres-cdc connector, against brook's
private PostgreSQL (psql for SQL) and brook's broker (kafka-python reads the topics).

A table with rows → POST a postgres-cdc connector (value.format=json) → the snapshot rows
arrive (op r), then inserts, updates and deletes (c/u/d) in commit order, keyed by the
primary key; status RUNNING; pause → PAUSED (changes wait), resume → they arrive; SIGTERM
and restart of brook connect → the connector is back and nothing is lost; SIGKILL while
changes stream → every committed change arrives at least once and the slot's
confirmed_flush_lsn advanced; bad configs → 400, unknown connectors → 404; PostgreSQL
unreachable → retries, then the task FAILED with a trace while REST still answers.

value.format=avro (test_6): brook registry on the same broker; keys and values are
Confluent-framed (magic byte 0, schema id), the writer schema fetched by id from the
registry (GET /schemas/ids/{id}) and the payload decoded with python3-avro gives the same
op and row values as the JSON case; a value rowavro cannot encode (float8 NaN) does not
stop the task: it goes to the dead-letter topic with Kafka Connect's error headers.
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

import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
import kafkatest  # noqa: E402

from kafka import KafkaConsumer, TopicPartition  # noqa: E402

BROOK = brooktest.BROOK
PSQL = shutil.which("psql") or "/usr/bin/psql"
TIMEOUT = 60


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, check=True, timeout=TIMEOUT):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout,
                       env=dict(os.environ, PGCONNECT_TIMEOUT="20"))
    if check and p.returncode != 0:
        raise AssertionError("%r exited %d:\n%s%s" % (args, p.returncode, p.stdout.decode(),
                                                     p.stderr.decode()))
    return p


def json_decode(raw):
    return json.loads(raw) if raw else None


class AvroDecoder:
    """Confluent-framed Avro → Python values: the writer schema by id from the registry
    (GET /schemas/ids/{id}), decoded with python3-avro. Remembers the ids it saw."""

    def __init__(self, registry_url):
        self.url = registry_url.rstrip("/")
        self.schemas = {}

    def schema(self, sid):
        if sid not in self.schemas:
            with urllib.request.urlopen("%s/schemas/ids/%d" % (self.url, sid),
                                        timeout=30) as r:
                self.schemas[sid] = avro.schema.parse(json.loads(r.read())["schema"])
        return self.schemas[sid]

    def __call__(self, raw):
        if raw is None:
            return None
        assert len(raw) >= 5 and raw[0] == 0, "not Confluent framing: %r" % raw[:8]
        sid = int.from_bytes(raw[1:5], "big")
        reader = avro.io.DatumReader(self.schema(sid))
        return reader.read(avro.io.BinaryDecoder(io.BytesIO(raw[5:])))


class Topic:
    """Every record of a topic, read from the beginning by an assigned consumer."""

    def __init__(self, bootstrap, name, decode=json_decode):
        self.name = name
        self.decode = decode
        self.records = []  # (key dict or None, value dict or None)
        self.messages = []  # the raw consumer records, in the same order
        self.c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                               auto_offset_reset="earliest", request_timeout_ms=65000)
        self.assigned = False

    def _assign(self):
        parts = self.c.partitions_for_topic(self.name)
        if not parts:
            self.c.topics()  # refresh metadata
            return False
        tps = [TopicPartition(self.name, p) for p in sorted(parts)]
        self.c.assign(tps)
        self.c.seek_to_beginning(*tps)
        self.assigned = True
        return True

    def poll(self):
        if not self.assigned and not self._assign():
            return
        for recs in self.c.poll(timeout_ms=300).values():
            for m in recs:
                self.records.append((self.decode(m.key), self.decode(m.value)))
                self.messages.append(m)

    def wait(self, pred, timeout=60, what="records"):
        deadline = time.monotonic() + timeout
        while not pred(self.records):
            if time.monotonic() > deadline:
                raise AssertionError("%s: no %s within %d s; have %d: %s" % (
                    self.name, what, timeout, len(self.records), self.records[-5:]))
            self.poll()
            time.sleep(0.05)

    def close(self):
        self.c.close()


class Connect(brooktest.ServerUnderTest):
    def __init__(self, bootstrap, data_dir=None):
        super().__init__("connect", sets=["kafka.bootstrap=" + bootstrap], data_dir=data_dir)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://%s%s" % (self.address, path), data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None

    def status(self, name):
        st, body = self.call("GET", "/connectors/%s/status" % name)
        assert st == 200, (st, body)
        return body

    def wait_state(self, name, state, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            body = self.status(name)
            if body["tasks"] and body["tasks"][0]["state"] == state:
                return body
            if time.monotonic() > deadline:
                raise AssertionError("%s: task never %s: %s\n%s" % (name, state, body,
                                                                     self.log_tail()))
            time.sleep(0.1)


class ConnectStackTest(unittest.TestCase):
    """A brook postgres, a brook broker and a brook connect for a test class (also used by
    test_connect_incr.py); sql() runs a statement with psql on the cluster."""
    PREFIX = "brook-connect-pg-"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.PREFIX)
        os.chmod(cls.tmp, 0o755)  # PostgreSQL may run as user postgres
        cls.pg = brooktest.ServerUnderTest("postgres", data_dir=cls.tmp)
        cls.broker = kafkatest.BrokerUnderTest()
        cls.connect = None
        try:
            cls.pg.start(free_port())
            cls.dsn = run([BROOK, "postgres", "--data", cls.tmp,
                           "--print-dsn"]).stdout.decode().strip()
            cls.broker.start()
            cls.connect = Connect(cls.broker.bootstrap)
            cls.connect.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for srv in (cls.connect, cls.broker, cls.pg):
            if srv is None:
                continue
            try:
                if srv.proc is not None:
                    srv.stop()
            except AssertionError as e:
                sys.stderr.write(str(e))
            srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def sql(self, statement):
        p = run([PSQL, "-X", "-v", "ON_ERROR_STOP=1", "-tA", "-d", self.dsn, "-c", statement])
        return p.stdout.decode().strip()


class TestConnect(ConnectStackTest):
    def connector_config(self, prefix, slot, **extra):
        cfg = {"connector.class": "postgres-cdc", "connection.url": self.dsn,
               "table.include.list": "public.users", "topic.prefix": prefix,
               "slot.name": slot, "publication.name": slot + "_pub", "value.format": "json"}
        cfg.update(extra)
        return cfg

    def test_1_rest_basics_and_bad_input(self):
        c = self.connect
        st, body = c.call("GET", "/")
        self.assertEqual(st, 200)
        self.assertIn("version", body)
        st, body = c.call("GET", "/connector-plugins")
        self.assertEqual(st, 200)
        self.assertEqual({p["class"] for p in body}, {"postgres-cdc", "postgres-incrementing"})
        self.assertTrue(all(p["type"] == "source" for p in body))
        for path in ("/connectors/nope", "/connectors/nope/status", "/connectors/nope/config"):
            st, body = c.call("GET", path)
            self.assertEqual(st, 404, path)
            self.assertEqual(body["error_code"], 404)
            self.assertIn("nope", body["message"])
        for method, path in (("PUT", "/connectors/nope/pause"), ("PUT", "/connectors/nope/resume"),
                             ("POST", "/connectors/nope/restart"),
                             ("DELETE", "/connectors/nope")):
            self.assertEqual(c.call(method, path)[0], 404, path)
        bad = [
            {"name": "b1", "config": {"connector.class": "no-such-thing"}},
            {"name": "b2", "config": {"connector.class": "postgres-cdc"}},
            {"name": "b3", "config": self.connector_config("b", "b3", **{
                "snapshot.mode": "sometimes"})},
            {"name": "b4", "config": self.connector_config("b", "b4", envelope="diff")},
            {"name": "b5", "config": self.connector_config("b", "b5", **{
                "errors.retry.max": "many"})},
            {"name": "b/6", "config": self.connector_config("b", "b6")},
            {"name": "b9", "config": self.connector_config("b", "b9", **{
                "value.format": "xml"})},
            {"name": "b10", "config": self.connector_config("b", "b10", **{
                "value.format": "avro", "registry.url": "localhost:8081"})},
            {"config": self.connector_config("b", "b7")},
            {"name": "b8"},
        ]
        for body in bad:
            st, answer = c.call("POST", "/connectors", body)
            self.assertEqual(st, 400, (body, answer))
            self.assertEqual(answer["error_code"], 400)
            self.assertTrue(answer["message"])
        st, answer = c.call("POST", "/connectors", None)
        self.assertEqual(st, 400)
        self.assertEqual(c.call("GET", "/connectors"), (200, []))

    def test_2_snapshot_stream_pause_restart_and_kill(self):
        c = self.connect
        self.sql("CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, score float8, "
                 "active boolean)")
        self.sql("INSERT INTO users VALUES (1, 'ada', 1.5, true), (2, 'grace', NULL, false), "
                 "(3, 'linus', 3, true)")
        cfg = self.connector_config("t1", "brook_t1")
        st, body = c.call("POST", "/connectors", {"name": "pg1", "config": cfg})
        self.assertEqual(st, 201, body)
        self.assertEqual(body["name"], "pg1")
        self.assertEqual(body["type"], "source")
        self.assertEqual(body["config"]["connection.url"], self.dsn)
        st, body = c.call("POST", "/connectors", {"name": "pg1", "config": cfg})
        self.assertEqual(st, 409, body)
        self.assertEqual(c.call("GET", "/connectors"), (200, ["pg1"]))

        topic = Topic(self.broker.bootstrap, "t1.public.users")
        try:
            topic.wait(lambda r: len(r) >= 3, what="snapshot rows")
            snap = topic.records[:3]
            self.assertEqual(sorted(k["id"] for k, _ in snap), [1, 2, 3])
            for key, value in snap:
                self.assertEqual(value["op"], "r")
                self.assertIsNone(value["before"])
                self.assertEqual(value["after"]["id"], key["id"])
                self.assertEqual(value["source"]["snapshot"], "true")
                self.assertEqual(value["source"]["table"], "users")
                self.assertEqual(value["source"]["schema"], "public")
            ada = [v for k, v in snap if k["id"] == 1][0]["after"]
            self.assertEqual(ada, {"id": 1, "name": "ada", "score": 1.5, "active": True})
            grace = [v for k, v in snap if k["id"] == 2][0]["after"]
            self.assertEqual(grace, {"id": 2, "name": "grace", "score": None,
                                     "active": False})
            c.wait_state("pg1", "RUNNING")
            self.assertEqual(c.status("pg1")["connector"]["state"], "RUNNING")
            with urllib.request.urlopen("http://%s/metrics" % c.address, timeout=30) as r:
                metrics = r.read().decode()
            self.assertIn('brook_connect_task_state{connector="pg1",state="RUNNING"} 1',
                          metrics)
            self.assertIn('brook_connect_slot_lag_bytes{connector="pg1"}', metrics)
            self.assertIn('brook_connect_dead_letters_total{connector="pg1"} 0', metrics)

            # Live changes in commit order.
            self.sql("INSERT INTO users VALUES (4, 'edsger', 4, true)")
            self.sql("UPDATE users SET name = 'ada l.' WHERE id = 1")
            self.sql("DELETE FROM users WHERE id = 2")
            topic.wait(lambda r: len(r) >= 6, what="live changes")
            live = topic.records[3:6]
            self.assertEqual([(k["id"], v["op"]) for k, v in live],
                             [(4, "c"), (1, "u"), (2, "d")])
            self.assertEqual(live[0][1]["after"]["name"], "edsger")
            self.assertEqual(live[1][1]["after"]["name"], "ada l.")
            self.assertIsNone(live[2][1]["after"])
            self.assertEqual(live[2][1]["before"]["id"], 2)
            for _, v in live:
                self.assertEqual(v["source"]["snapshot"], "false")
                self.assertIsInstance(v["source"]["lsn"], int)
                self.assertIsInstance(v["source"]["txId"], int)

            # Pause: changes wait in the slot; resume: they arrive.
            self.assertEqual(c.call("PUT", "/connectors/pg1/pause")[0], 202)
            c.wait_state("pg1", "PAUSED")
            self.sql("INSERT INTO users VALUES (5, 'barbara', 5, true)")
            time.sleep(1.5)
            topic.poll()
            self.assertEqual(len(topic.records), 6, topic.records[6:])
            self.assertEqual(c.call("PUT", "/connectors/pg1/resume")[0], 202)
            topic.wait(lambda r: len(r) >= 7, what="the change made while paused")
            self.assertEqual(topic.records[6][0], {"id": 5})
            c.wait_state("pg1", "RUNNING")

            # Restart of the connector (REST) and of brook connect (SIGTERM).
            self.assertEqual(c.call("POST", "/connectors/pg1/restart")[0], 204)
            c.wait_state("pg1", "RUNNING")
            c.restart()
            self.assertEqual(c.call("GET", "/connectors"), (200, ["pg1"]))
            self.assertEqual(c.call("GET", "/connectors/pg1/config")[1], dict(cfg, name="pg1"))
            self.sql("INSERT INTO users VALUES (6, 'donald', 6, true)")
            topic.wait(lambda r: any(k == {"id": 6} for k, _ in r), what="id 6")
            c.wait_state("pg1", "RUNNING")
            ids = [k["id"] for k, v in topic.records if v and v["op"] in ("c", "r")]
            for want in (1, 2, 3, 4, 5, 6):
                self.assertIn(want, ids)

            # SIGKILL while changes stream: every committed change arrives at least once
            # and the slot's confirmed_flush_lsn moved.
            lsn_query = ("SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots "
                         "WHERE slot_name = 'brook_t1'")
            lsn_before = int(self.sql(lsn_query))
            writer = subprocess.Popen(
                [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-c",
                 "DO $$ BEGIN FOR i IN 100..399 LOOP "
                 "INSERT INTO users VALUES (i, 'u' || i, i, true); COMMIT; "
                 "PERFORM pg_sleep(0.01); END LOOP; END $$"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            topic.wait(lambda r: any(k and k["id"] >= 150 for k, _ in r), what="stream")
            c.kill()
            out, err = writer.communicate(timeout=120)
            self.assertEqual(writer.returncode, 0, err.decode())
            c.start(c.port)
            topic.wait(lambda r: set(range(100, 400)) <= {k["id"] for k, _ in r if k},
                       timeout=90, what="every change committed around the kill")
            c.wait_state("pg1", "RUNNING")
            deadline = time.monotonic() + 30
            while int(self.sql(lsn_query)) <= lsn_before:
                self.assertLess(time.monotonic(), deadline, "confirmed_flush_lsn stuck")
                time.sleep(0.2)
        finally:
            topic.close()

        self.assertEqual(c.call("DELETE", "/connectors/pg1")[0], 204)
        self.assertEqual(c.call("GET", "/connectors/pg1")[0], 404)
        self.assertEqual(c.call("GET", "/connectors"), (200, []))

    def test_3_unreachable_postgres_fails_with_trace(self):
        c = self.connect
        cfg = self.connector_config("t3", "brook_t3", **{
            "connection.url": "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2"
                              % free_port(),
            "errors.retry.max": "2", "errors.retry.backoff.max.ms": "200"})
        st, body = c.call("PUT", "/connectors/down/config", cfg)
        self.assertEqual(st, 201, body)
        status = c.wait_state("down", "FAILED", timeout=90)
        self.assertIn("trace", status["tasks"][0])
        self.assertTrue(status["tasks"][0]["trace"])
        # REST still answers; an update restarts it; delete removes it.
        st, body = c.call("PUT", "/connectors/down/config", dict(cfg, **{"errors.retry.max": "3"}))
        self.assertEqual(st, 200, body)
        self.assertEqual(c.call("DELETE", "/connectors/down")[0], 204)
        self.assertEqual(c.call("GET", "/connectors/down/status")[0], 404)

    def test_3b_a_change_the_broker_refuses_every_time_fails_the_task(self):
        # The topic takes batches of at most 200 bytes: every session fails on the same
        # change without acknowledging anything. That is no progress, so the task ends
        # FAILED with the broker's reason after errors.retry.max sessions instead of
        # retrying forever.
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
        try:
            admin.create_topics([NewTopic("t3b.public.tiny", 1, 1,
                                          topic_configs={"max.message.bytes": "200"})])
        finally:
            admin.close()
        self.sql("CREATE TABLE tiny (id int PRIMARY KEY, v text)")
        c = self.connect
        cfg = self.connector_config("t3b", "brook_t3b", **{
            "table.include.list": "public.tiny", "errors.retry.max": "3",
            "errors.retry.backoff.max.ms": "200"})
        st, body = c.call("PUT", "/connectors/tiny/config", cfg)
        self.assertEqual(st, 201, body)
        c.wait_state("tiny", "RUNNING")
        c.wait_for_log(r"connector tiny: streaming from slot", timeout=30)
        self.sql("INSERT INTO tiny VALUES (1, repeat('y', 1000))")
        status = c.wait_state("tiny", "FAILED", timeout=90)
        self.assertIn("too large", status["tasks"][0]["trace"].lower())
        self.assertEqual(c.call("DELETE", "/connectors/tiny")[0], 204)

    def test_4_slot_dropped_behind_its_back_is_recreated_and_resnapshotted(self):
        c = self.connect
        self.sql("CREATE TABLE gone (id int PRIMARY KEY, v text)")
        self.sql("INSERT INTO gone VALUES (1, 'a'), (2, 'b')")
        cfg = self.connector_config("t4", "brook_t4", **{
            "table.include.list": "public.gone", "topic": "gone-topic", "envelope": "row"})
        self.assertEqual(c.call("POST", "/connectors", {"name": "g", "config": cfg})[0], 201)
        topic = Topic(self.broker.bootstrap, "gone-topic")
        try:
            topic.wait(lambda r: len(r) >= 2, what="snapshot rows")
            self.assertEqual(sorted(v["id"] for _, v in topic.records), [1, 2])
            c.wait_state("g", "RUNNING")
            # Kill the walsender and drop the slot (retrying while it is active again).
            deadline = time.monotonic() + 30
            while True:
                p = run([PSQL, "-X", "-tA", "-d", self.dsn, "-c",
                         "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                         "WHERE slot_name = 'brook_t4' AND active_pid IS NOT NULL; "
                         "SELECT pg_drop_replication_slot('brook_t4')"], check=False)
                if p.returncode == 0:
                    break
                self.assertLess(time.monotonic(), deadline, p.stderr.decode())
                time.sleep(0.05)
            c.wait_for_log(r"brook_t4 .*dropped behind", timeout=60)
            # Recreated and read again (snapshot.mode initial), then streaming goes on.
            topic.wait(lambda r: len(r) >= 4, what="the second snapshot")
            self.sql("DELETE FROM gone WHERE id = 1")
            topic.wait(lambda r: r[-1] == ({"id": 1}, None), what="the tombstone")
            c.wait_state("g", "RUNNING")
        finally:
            topic.close()
        self.assertEqual(c.call("DELETE", "/connectors/g")[0], 204)

    def test_5_broker_killed_mid_stream_loses_nothing(self):
        c = self.connect
        self.sql("CREATE TABLE bk (id int PRIMARY KEY)")
        cfg = self.connector_config("t5", "brook_t5", **{
            "table.include.list": "public.bk", "kafka.message.timeout.ms": "5000",
            "errors.retry.backoff.max.ms": "500"})
        self.assertEqual(c.call("POST", "/connectors", {"name": "bk", "config": cfg})[0], 201)
        c.wait_state("bk", "RUNNING")
        topic = Topic(self.broker.bootstrap, "t5.public.bk")
        try:
            writer = subprocess.Popen(
                [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-c",
                 "DO $$ BEGIN FOR i IN 1..300 LOOP INSERT INTO bk VALUES (i); COMMIT; "
                 "PERFORM pg_sleep(0.01); END LOOP; END $$"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            topic.wait(lambda r: len(r) >= 20, what="the first changes")
            self.broker.kill()
            time.sleep(1.5)
            self.broker.start(self.broker.port)
            out, err = writer.communicate(timeout=120)
            self.assertEqual(writer.returncode, 0, err.decode())
            topic.close()
            topic = Topic(self.broker.bootstrap, "t5.public.bk")
            topic.wait(lambda r: set(range(1, 301)) <= {k["id"] for k, _ in r},
                       timeout=120, what="every change committed around the broker's kill")
            c.assert_alive()
        finally:
            topic.close()
        self.assertEqual(c.call("DELETE", "/connectors/bk")[0], 204)

    def test_6_avro_values_through_the_registry(self):
        c = self.connect
        reg = brooktest.ServerUnderTest("registry", data_dir=False,
                                        extra_args=["--bootstrap", self.broker.bootstrap])
        reg.start(free_port())
        url = "http://" + reg.address
        topic = dlq = None
        try:
            self.sql("CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, "
                     "score float8, active boolean, born date)")
            self.sql("INSERT INTO people VALUES (1, 'ada', 1.5, true, '1815-12-10'), "
                     "(2, 'grace', NULL, false, NULL)")
            cfg = self.connector_config("t6", "brook_t6", **{
                "table.include.list": "public.people", "value.format": "avro",
                "registry.url": url, "errors.deadletterqueue.topic.name": "t6.dlq"})
            st, body = c.call("POST", "/connectors", {"name": "av", "config": cfg})
            self.assertEqual(st, 201, body)
            dec = AvroDecoder(url)
            topic = Topic(self.broker.bootstrap, "t6.public.people", decode=dec)
            topic.wait(lambda r: len(r) >= 2, what="avro snapshot rows")
            for m in topic.messages[:2]:
                self.assertEqual(m.key[0], 0)
                self.assertEqual(m.value[0], 0)
            snap = {k["id"]: v for k, v in topic.records[:2]}
            self.assertEqual(set(snap), {1, 2})
            for v in snap.values():
                self.assertEqual(v["op"], "r")
                self.assertIsNone(v["before"])
                self.assertEqual(v["source"]["snapshot"], "true")
                self.assertEqual(v["source"]["table"], "people")
                self.assertEqual(v["source"]["schema"], "public")
            import datetime
            self.assertEqual(snap[1]["after"], {"id": 1, "name": "ada", "score": 1.5,
                                                "active": True,
                                                "born": datetime.date(1815, 12, 10)})
            self.assertEqual(snap[2]["after"], {"id": 2, "name": "grace", "score": None,
                                                "active": False, "born": None})
            c.wait_state("av", "RUNNING")

            # Live changes; a NaN float8 cannot be an Avro datum: dead-lettered, and the
            # changes after it still arrive.
            self.sql("INSERT INTO people VALUES (3, 'edsger', 4, true, NULL)")
            self.sql("UPDATE people SET name = 'ada l.' WHERE id = 1")
            self.sql("INSERT INTO people VALUES (9, 'nan', 'NaN', true, NULL)")
            self.sql("DELETE FROM people WHERE id = 2")
            topic.wait(lambda r: len(r) >= 5, what="avro live changes")
            live = topic.records[2:5]
            self.assertEqual([(k["id"], v["op"]) for k, v in live],
                             [(3, "c"), (1, "u"), (2, "d")])
            self.assertEqual(live[0][1]["after"]["name"], "edsger")
            self.assertEqual(live[1][1]["after"]["name"], "ada l.")
            self.assertIsNone(live[2][1]["after"])
            self.assertEqual(live[2][1]["before"]["id"], 2)
            for _, v in live:
                self.assertEqual(v["source"]["snapshot"], "false")
                self.assertIsInstance(v["source"]["lsn"], int)
                self.assertIsInstance(v["source"]["txId"], int)
            dlq = Topic(self.broker.bootstrap, "t6.dlq")
            dlq.wait(lambda r: len(r) >= 1, what="the dead letter")
            key, value = dlq.records[0]
            self.assertEqual(key, {"id": 9})
            self.assertEqual(value["op"], "c")
            self.assertEqual(value["after"]["name"], "nan")
            headers = dict(dlq.messages[0].headers)
            self.assertEqual(headers["__connect.errors.topic"], b"t6.public.people")
            self.assertIn(b"score", headers["__connect.errors.exception.message"])
            c.wait_for_log(r"public\.people at LSN [0-9A-F]+/[0-9A-F]+ .*dead-letter",
                           timeout=10)

            # A change larger than any Kafka record (the producer's message.max.bytes)
            # can never be written: dead-lettered with its key and the reason but no
            # value (the envelope is as large), and the change after it, in the same
            # transaction, still arrives.
            self.sql("BEGIN; INSERT INTO people VALUES (10, repeat('x', 1100000), 1, true, "
                     "NULL); INSERT INTO people VALUES (11, 'after', 1, true, NULL); COMMIT")
            topic.wait(lambda r: len(r) >= 6, what="the change after the large one")
            self.assertEqual([k["id"] for k, _ in topic.records[5:]], [11])
            dlq.wait(lambda r: len(r) >= 2, what="the large change's dead letter")
            self.assertEqual(dlq.records[1], ({"id": 10}, None))
            headers = dict(dlq.messages[1].headers)
            self.assertEqual(headers["__connect.errors.stage"], b"KAFKA_PRODUCE")
            self.assertIn(b"message.max.bytes", headers["__connect.errors.exception.message"])
            self.assertEqual(headers["__connect.errors.topic"], b"t6.public.people")

            # Subjects <topic>-key and <topic>-value, and the ids the records carry.
            with urllib.request.urlopen(url + "/subjects", timeout=30) as r:
                subjects = json.loads(r.read())
            self.assertIn("t6.public.people-key", subjects)
            self.assertIn("t6.public.people-value", subjects)
            with urllib.request.urlopen(url + "/subjects/t6.public.people-value/versions/"
                                        "latest", timeout=30) as r:
                latest = json.loads(r.read())
            self.assertEqual(int.from_bytes(topic.messages[0].value[1:5], "big"),
                             latest["id"])
            c.wait_state("av", "RUNNING")

            # Row envelope: the bare row, deletes as tombstones.
            cfg_row = self.connector_config("t6r", "brook_t6r", **{
                "table.include.list": "public.people", "value.format": "avro",
                "registry.url": url, "envelope": "row", "snapshot.mode": "never"})
            st, body = c.call("POST", "/connectors", {"name": "avrow", "config": cfg_row})
            self.assertEqual(st, 201, body)
            c.wait_state("avrow", "RUNNING")
            rows = Topic(self.broker.bootstrap, "t6r.public.people", decode=dec)
            try:
                # The slot may still be in the making: write until a change arrives.
                deadline = time.monotonic() + 60
                n = 100
                while not rows.records:
                    self.assertLess(time.monotonic(), deadline, "no row-envelope record")
                    self.sql("INSERT INTO people VALUES (%d, 'r', 1, false, NULL)" % n)
                    n += 1
                    rows.wait(lambda r: True, timeout=1)
                    for _ in range(10):
                        rows.poll()
                self.sql("DELETE FROM people WHERE id = 100")
                rows.wait(lambda r: r[-1] == ({"id": 100}, None), what="the tombstone")
                self.assertEqual(rows.records[0][1]["name"], "r")
            finally:
                rows.close()
        finally:
            for t in (topic, dlq):
                if t is not None:
                    t.close()
            for name in ("av", "avrow"):
                c.call("DELETE", "/connectors/" + name)
            reg.stop()
            reg.cleanup()


if __name__ == "__main__":
    unittest.main()
