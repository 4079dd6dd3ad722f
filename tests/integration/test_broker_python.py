"""kafka-python 2.0.2 (/usr/bin/python3, `import kafka`) against brook's broker:
producer (acks=all, keys, headers), KafkaConsumer with a group_id that commits, closes,
and a new consumer in the same group that resumes after the committed offsets; admin
client topic creation.

kafka-python guesses the broker version from ApiVersions; BROOK_KAFKA_PYTHON_API_VERSION
(e.g. "2.5.0") pins it if the guess misbehaves (default: auto-detect, which picks (2, 3,
0) against librdkafka's mock). BROOK_TEST_AGAINST_MOCK=1 runs against the mock (admin is
skipped there: the 2.0.2 mock has no admin APIs).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402

import kafka  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa
from kafka.admin import NewTopic  # noqa: E402

_v = os.environ.get("BROOK_KAFKA_PYTHON_API_VERSION")
API_VERSION = tuple(int(x) for x in _v.split(".")) if _v else None
TIMEOUT_MS = 60000


def client_args(bootstrap):
    args = {"bootstrap_servers": bootstrap, "request_timeout_ms": TIMEOUT_MS + 5000}
    if API_VERSION:
        args["api_version"] = API_VERSION
    return args


def consume(bootstrap, topic, group, want, **kw):
    """Consume with a group until `want` messages or 20 s without any; commit; close."""
    c = KafkaConsumer(topic, group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=20000,
                      session_timeout_ms=10000, heartbeat_interval_ms=1000,
                      max_poll_interval_ms=TIMEOUT_MS, **client_args(bootstrap), **kw)
    got = []
    try:
        for m in c:
            got.append(m)
            if len(got) >= want:
                break
        c.commit()
        committed = {p: c.committed(TopicPartition(topic, p))
                     for p in c.partitions_for_topic(topic)}
    finally:
        c.close()
    return got, committed


class KafkaPython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = kafkatest.cluster_under_test()
        cls.cluster.start()
        cls.b = cls.cluster.bootstrap

    @classmethod
    def tearDownClass(cls):
        try:
            cls.cluster.stop()
        finally:
            if hasattr(cls.cluster, "cleanup"):
                cls.cluster.cleanup()

    def produce(self, topic, lo, hi):
        p = KafkaProducer(acks="all", linger_ms=5, **client_args(self.b))
        metas = []
        try:
            for i in range(lo, hi):
                metas.append(p.send(topic, key=b"k%d" % i, value=b"value %d" % i,
                                    headers=[("n", str(i).encode()), ("src", b"py")]))
            p.flush(timeout=TIMEOUT_MS / 1000)
            return [f.get(timeout=TIMEOUT_MS / 1000) for f in metas]
        finally:
            p.close()

    def test_produce_group_commit_resume(self):
        topic, group = "py-topic", "py-group"
        metas = self.produce(topic, 0, 1000)
        offsets = {}
        for md in metas:
            offsets.setdefault(md.partition, []).append(md.offset)
        for p, offs in offsets.items():
            self.assertEqual(offs, list(range(len(offs))), "offsets of partition %d" % p)

        got, committed = consume(self.b, topic, group, 1000)
        self.assertEqual(sorted(m.key for m in got), sorted(b"k%d" % i for i in range(1000)))
        for m in got:
            i = int(m.key[1:])
            self.assertEqual(m.value, b"value %d" % i)
            self.assertEqual(m.headers, [("n", str(i).encode()), ("src", b"py")])
        for p, offs in offsets.items():
            self.assertEqual(committed[p], len(offs), "committed offset of partition %d" % p)

        # A new consumer in the same group resumes after the committed offsets.
        self.produce(topic, 1000, 1100)
        got2, _ = consume(self.b, topic, group, 100)
        self.assertEqual(sorted(m.key for m in got2),
                         sorted(b"k%d" % i for i in range(1000, 1100)))

    def test_admin_create_topic(self):
        if kafkatest.AGAINST_MOCK:
            self.skipTest("the librdkafka 2.0.2 mock has no admin APIs")
        admin = KafkaAdminClient(**client_args(self.b))
        try:
            admin.create_topics([NewTopic("py-admin", num_partitions=4, replication_factor=1)],
                                timeout_ms=TIMEOUT_MS)
            self.assertIn("py-admin", admin.list_topics())
            with self.assertRaises(kafka.errors.TopicAlreadyExistsError):
                admin.create_topics([NewTopic("py-admin", 4, 1)], timeout_ms=TIMEOUT_MS)
        finally:
            admin.close()
        c = KafkaConsumer(**client_args(self.b))
        try:
            self.assertEqual(c.partitions_for_topic("py-admin"), {0, 1, 2, 3})
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
