"""brook connect's postgres-incrementing connector (polling like Kafka Connect's JDBC
source), against brook's private PostgreSQL (brook psql for SQL) and brook's broker
(kafka-python reads the topics).

Rows inserted before and after creating the connector arrive once each, in order, keyed
by the incrementing column; the offsets land in the compacted connect-offsets topic in
Kafka Connect's shape; SIGTERM and restart of brook connect → nothing lost and nothing
sent again (the last batch's offset was acknowledged); timestamp+incrementing mode sends
an updated row again when its timestamp moves; bad configs → 400; PostgreSQL or the
broker unreachable → retries, then the task FAILED with a trace; a SIGKILL of the
broker mid-stream loses nothing.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_connect import ConnectStackTest, Topic, free_port  # noqa: E402

OFFSETS = "connect-offsets"


class TestConnectIncrementing(ConnectStackTest):
    PREFIX = "brook-connect-incr-"

    def config(self, table, **extra):
        cfg = {"connector.class": "postgres-incrementing", "connection.url": self.dsn,
               "table.include.list": table, "mode": "incrementing",
               "incrementing.column.name": "id", "poll.interval.ms": "200",
               "topic.prefix": "incr", "value.format": "json"}
        cfg.update(extra)
        return cfg

    def offsets(self, connector):
        """{table: value} of the last offset record of each table of connector."""
        t = Topic(self.broker.bootstrap, OFFSETS)
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                t.poll()
            out = {}
            for key, value in t.records:
                self.assertIsInstance(key, list)
                if key[0] == connector:
                    self.assertEqual(key[1]["protocol"], "1")
                    out[key[1]["table"]] = value
            return out
        finally:
            t.close()

    def wait_offset(self, connector, table, pred, timeout=30):
        t = Topic(self.broker.bootstrap, OFFSETS)
        try:
            t.wait(lambda r: any(k[0] == connector and k[1]["table"] == table and pred(v)
                                 for k, v in r), timeout=timeout, what="offset of " + table)
        finally:
            t.close()

    def test_1_bad_config(self):
        c = self.connect
        base = self.config("public.nothing")
        bad = [
            {k: v for k, v in base.items() if k != "incrementing.column.name"},
            dict(base, mode="bulk"),
            dict(base, mode="timestamp+incrementing"),  # no timestamp.column.name
            dict(base, **{"value.format": "avro"}),
            dict(base, **{"value.format": "xml"}),
            dict(base, **{"table.include.list": ""}),
            dict(base, **{"table.include.list": "a.b.c"}),
            dict(base, **{"poll.interval.ms": "soon"}),
            dict(base, **{"batch.max.rows": "0"}),
            {k: v for k, v in base.items() if k != "connection.url"},
        ]
        for i, cfg in enumerate(bad):
            st, answer = c.call("POST", "/connectors", {"name": "bad%d" % i, "config": cfg})
            self.assertEqual(st, 400, (cfg, answer))
            self.assertEqual(answer["error_code"], 400)
            self.assertTrue(answer["message"])
        st, answer = c.call("POST", "/connectors", {"name": "bad0", "config": bad[0]})
        self.assertIn("incrementing.column.name", answer["message"])
        self.assertEqual(c.call("GET", "/connectors"), (200, []))

    def test_2_incrementing_restart_resumes(self):
        c = self.connect
        self.sql("CREATE TABLE items (id serial PRIMARY KEY, name text, qty int, ok boolean)")
        self.sql("INSERT INTO items (name, qty, ok) VALUES ('a', 1, true), ('b', NULL, false), "
                 "('c', 3, true)")
        cfg = self.config("public.items", **{"batch.max.rows": "2"})
        st, body = c.call("POST", "/connectors", {"name": "inc1", "config": cfg})
        self.assertEqual(st, 201, body)
        topic = Topic(self.broker.bootstrap, "incr.public.items")
        try:
            topic.wait(lambda r: len(r) >= 3, what="the rows inserted before")
            self.assertEqual([k for k, _ in topic.records], [{"id": 1}, {"id": 2}, {"id": 3}])
            self.assertEqual(topic.records[0][1],
                             {"id": 1, "name": "a", "qty": 1, "ok": True})
            self.assertEqual(topic.records[1][1],
                             {"id": 2, "name": "b", "qty": None, "ok": False})
            st = c.wait_state("inc1", "RUNNING")
            self.assertEqual(st["connector"]["state"], "RUNNING")

            self.sql("INSERT INTO items (name) SELECT 'n' || i FROM generate_series(4, 8) i")
            topic.wait(lambda r: len(r) >= 8, what="the rows inserted after")
            self.wait_offset("inc1", "public.items", lambda v: v == {"incrementing": 8})

            # SIGTERM: the last batch's offset was acknowledged, nothing comes again.
            c.restart()
            self.assertEqual(c.call("GET", "/connectors"), (200, ["inc1"]))
            self.sql("INSERT INTO items (name) VALUES ('i'), ('j')")
            topic.wait(lambda r: len(r) >= 10, what="the rows inserted after the restart")
            c.wait_state("inc1", "RUNNING")
            time.sleep(1)  # a few more polls: nothing else may arrive
            topic.poll()
            self.assertEqual([k["id"] for k, _ in topic.records], list(range(1, 11)))
            self.assertEqual(topic.records[9][1]["name"], "j")

            # SIGKILL while rows are inserted: every row arrives at least once.
            self.sql("INSERT INTO items (name) SELECT 'k' FROM generate_series(11, 400)")
            topic.wait(lambda r: len(r) >= 20, what="the big insert")
            c.kill()
            c.start(c.port)
            topic.wait(lambda r: set(range(1, 401)) <= {k["id"] for k, _ in r},
                       timeout=90, what="every row around the kill")
            ids = [k["id"] for k, _ in topic.records]
            self.assertEqual(sorted(set(ids)), list(range(1, 401)))
            # At most the batch in flight came again, and in order after it.
            self.assertLessEqual(len(ids) - 400, 2 * 2)

            # SIGKILL of the broker while rows are polled: none is lost.
            self.sql("INSERT INTO items (name) SELECT 'b' FROM generate_series(401, 600)")
            topic.wait(lambda r: max(k["id"] for k, _ in r) > 410, what="the second insert")
            self.broker.kill()
            self.broker.start(self.broker.port)
            topic.wait(lambda r: set(range(1, 601)) <= {k["id"] for k, _ in r},
                       timeout=120, what="every row around the broker kill")
            self.assertEqual(sorted({k["id"] for k, _ in topic.records}),
                             list(range(1, 601)))
        finally:
            topic.close()
        self.wait_offset("inc1", "public.items", lambda v: v == {"incrementing": 600})
        self.assertEqual(c.call("DELETE", "/connectors/inc1")[0], 204)

    def test_3_timestamp_incrementing_sends_updates(self):
        c = self.connect
        self.sql("CREATE TABLE ev (id serial PRIMARY KEY, v text, "
                 "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        self.sql("INSERT INTO ev (v) VALUES ('one'), ('two')")
        cfg = self.config("ev", mode="timestamp+incrementing", topic="ev-topic", **{
            "timestamp.column.name": "updated_at", "timestamp.delay.interval.ms": "100"})
        self.assertEqual(c.call("POST", "/connectors", {"name": "ts1", "config": cfg})[0], 201)
        topic = Topic(self.broker.bootstrap, "ev-topic")
        try:
            topic.wait(lambda r: len(r) >= 2, what="the first rows")
            self.assertEqual([(k["id"], v["v"]) for k, v in topic.records],
                             [(1, "one"), (2, "two")])
            self.sql("UPDATE ev SET v = 'uno', updated_at = clock_timestamp() WHERE id = 1")
            self.sql("INSERT INTO ev (v) VALUES ('three')")
            topic.wait(lambda r: len(r) >= 4, what="the update and the insert")
            self.assertEqual([(k["id"], v["v"]) for k, v in topic.records[2:]],
                             [(1, "uno"), (3, "three")])
            c.wait_state("ts1", "RUNNING")
            time.sleep(1)
            topic.poll()
            self.assertEqual(len(topic.records), 4, topic.records)
        finally:
            topic.close()
        # The offset: Kafka Connect's timestamp (ms) + timestamp_nanos + incrementing.
        want_us = int(self.sql("SELECT (extract(epoch FROM updated_at) * 1000000)::int8 "
                               "FROM ev WHERE id = 3"))
        self.wait_offset("ts1", "public.ev", lambda v: v.get("incrementing") == 3)
        off = self.offsets("ts1")["public.ev"]
        self.assertEqual(set(off), {"timestamp", "timestamp_nanos", "incrementing"})
        self.assertEqual(off["timestamp"], want_us // 1000)
        self.assertEqual(off["timestamp_nanos"], (want_us % 1000000) * 1000)
        self.assertEqual(c.call("DELETE", "/connectors/ts1")[0], 204)

    def test_4_unreachable_postgres_fails_with_trace(self):
        c = self.connect
        cfg = self.config("public.items", **{
            "connection.url": "host=127.0.0.1 port=%d dbname=x user=x connect_timeout=2"
                              % free_port(),
            "errors.retry.max": "2", "errors.retry.backoff.max.ms": "200"})
        st, body = c.call("PUT", "/connectors/incdown/config", cfg)
        self.assertEqual(st, 201, body)
        status = c.wait_state("incdown", "FAILED", timeout=90)
        self.assertIn("PostgreSQL", status["tasks"][0]["trace"])
        self.assertEqual(c.call("GET", "/connectors")[0], 200)
        self.assertEqual(c.call("DELETE", "/connectors/incdown")[0], 204)

    def test_5_unreachable_broker_fails_with_trace(self):
        c = self.connect
        cfg = self.config("public.items", **{
            "kafka.bootstrap": "127.0.0.1:%d" % free_port(),
            "kafka.connect.timeout.ms": "500", "errors.retry.max": "2",
            "errors.retry.backoff.max.ms": "200"})
        self.assertEqual(c.call("PUT", "/connectors/kdown/config", cfg)[0], 201)
        status = c.wait_state("kdown", "FAILED", timeout=90)
        self.assertIn("broker unreachable", status["tasks"][0]["trace"])
        self.assertEqual(c.call("DELETE", "/connectors/kdown")[0], 204)


if __name__ == "__main__":
    unittest.main()
