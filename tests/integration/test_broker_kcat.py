"""kcat against brook's broker (issue 3 acceptance):
  -L       metadata: one broker, the topics with their partitions;
  -P/-C    100,000 keyed messages with headers produced (-K: -H), read back with -C -e -J
           byte-identical, each exactly once, offsets contiguous from 0 per partition and
           in production order within a partition;
  -G       balanced-consumer (group) mode reads everything once; after it committed,
           the same group reads nothing old;
  -Q       offsets for times, for messages with known CreateTimes (written by the
           kafka_scenarios offsets-for-times scenario).

BROOK_TEST_AGAINST_MOCK=1 runs it against librdkafka's mock cluster instead (to validate
the test); -Q is skipped there: the 2.0.2 mock answers timestamp queries with -1.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402

N = int(os.environ.get("BROOK_KCAT_MESSAGES", "100000"))
# Messages are produced in 4 kcat runs, each with its own header set.
HEADER_SETS = [[], [("h1", "a")], [("trace", "t-1"), ("h1", "")], [("k", "v:w=x")]]


def value_of(i):
    # Printable ASCII including the key delimiter, quotes and a backslash; some empty.
    if i % 97 == 0:
        return b""
    return b'v%d:"quoted" \\ back%s' % (i, b"x" * (i % 50))


def key_of(i):
    return b"key-%06d" % i


class Kcat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = kafkatest.cluster_under_test()
        cls.cluster.start()
        cls.b = cls.cluster.bootstrap
        cls.topic = "kcat-bulk"
        cls.produced = []  # (key, value, headers) in production order
        per = N // len(HEADER_SETS)
        for run, hdrs in enumerate(HEADER_SETS):
            lo, hi = run * per, (run + 1) * per if run < len(HEADER_SETS) - 1 else N
            data = b"".join(key_of(i) + b":" + value_of(i) + b"\n" for i in range(lo, hi))
            kafkatest.kcat_produce(cls.b, cls.topic, data, headers=hdrs,
                                   extra=["-X", "acks=all"])
            cls.produced += [(key_of(i).decode(), value_of(i).decode(), hdrs)
                             for i in range(lo, hi)]
        cls.consumed = kafkatest.kcat_consume(cls.b, cls.topic)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.cluster.stop()
        finally:
            if hasattr(cls.cluster, "cleanup"):
                cls.cluster.cleanup()

    def test_metadata(self):
        md = kafkatest.kcat_metadata(self.b)
        self.assertEqual(len(md["brokers"]), 1)
        self.assertEqual(md["brokers"][0]["name"], self.b)  # advertised = listener
        topics = {t["topic"]: t for t in md["topics"]}
        self.assertIn(self.topic, topics)
        parts = topics[self.topic]["partitions"]
        self.assertGreaterEqual(len(parts), 1)
        self.assertEqual(sorted(p["partition"] for p in parts), list(range(len(parts))))
        for p in parts:
            self.assertEqual(p["leader"], md["brokers"][0]["id"])

    def test_consume_back_identical(self):
        self.assertEqual(len(self.consumed), N)
        want = {k: (i, v, h) for i, (k, v, h) in enumerate(self.produced)}
        seen = set()
        last_index = {}
        next_offset = {}
        for m in self.consumed:
            self.assertEqual(m["topic"], self.topic)
            k = m["key"]
            self.assertIn(k, want)
            self.assertNotIn(k, seen, "message %s consumed twice" % k)
            seen.add(k)
            i, v, hdrs = want[k]
            self.assertEqual(m["payload"], v, "payload of %s" % k)
            flat = [x for nv in hdrs for x in nv]
            self.assertEqual(m.get("headers", []), flat, "headers of %s" % k)
            p = m["partition"]
            self.assertEqual(m["offset"], next_offset.get(p, 0), "offset gap in %d" % p)
            next_offset[p] = m["offset"] + 1
            self.assertGreater(i, last_index.get(p, -1), "order within partition %d" % p)
            last_index[p] = i
            self.assertEqual(m["tstype"], "create")
        self.assertEqual(seen, set(want))

    def test_group_mode(self):
        group = "kcat-g"
        got = kafkatest.kcat_group(self.b, group, [self.topic],
                                   extra=["-X", "enable.auto.commit=true"])
        keys = [m["key"] for m in got]
        self.assertEqual(len(keys), N)
        self.assertEqual(set(keys), {k for k, _, _ in self.produced})
        # The group committed on close: a second run starts at the end.
        again = kafkatest.kcat_group(self.b, group, [self.topic])
        self.assertEqual(again, [])

    def test_offsets_for_times(self):
        if kafkatest.AGAINST_MOCK:
            self.skipTest("librdkafka 2.0.2 mock answers timestamp queries with -1")
        topic = "kcat-oft"
        kafkatest.run_scenario(self.b, "offsets-for-times", "--topic", topic,
                               "--partitions", 2, "--count", 20)
        base, step = 1700000000000, 1000  # as in kafka_scenarios.c (OFT_BASE/OFT_STEP)
        for p in range(2):
            for ts, want in [(0, 0), (base + p, 0), (base + 5 * step + p, 5),
                             (base + 5 * step + p + 1, 6), (base + 100 * step, -1)]:
                res = kafkatest.kcat_offsets_for_times(self.b, topic, p, ts)
                self.assertEqual(res[topic][str(p)]["offset"], want,
                                 "partition %d, time %d" % (p, ts))


if __name__ == "__main__":
    unittest.main(verbosity=2)
