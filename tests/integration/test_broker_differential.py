"""Differential test: the same librdkafka scenarios (tests/clients/kafka_scenarios.c)
against librdkafka's mock cluster (the oracle) and against brook must print the same
observable results.

Compared: every JSON line each scenario prints (partitions, offsets, counts, FNV-1a
hashes of the (key, value, headers) sequences, error names), except:
  - the "nondeterministic" field of the group summary (rebalances and per-member
    counts depend on scheduling, not on the broker's correctness);
  - offsets-for-times query lines: the librdkafka 2.0.2 mock answers every timestamp
    query with -1, so there is no oracle. The scenario checks brook's answers itself
    against Kafka's rule (earliest offset whose timestamp >= the query, -1 past the
    end) and exits non-zero otherwise; watermarks and the stored CreateTime of every
    message are still compared;
  - admin: the mock has no admin APIs; brook's answers are compared with what Apache
    Kafka answers (fixed list below).
Also, both runs must exit 0: each scenario asserts its own invariants (exactly once,
contiguous offsets, per-partition order, resume from committed offsets).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402


observable = kafkatest.observable


class Differential(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # BROOK_TEST_AGAINST_MOCK=1: a second mock stands in for brook (validates the test).
        # The mock has no CreateTopics: there, the topics exist from the start and the
        # scenarios get --no-create.
        cls.broker = kafkatest.cluster_under_test(mock_topics=[
            "diff-pc-none", "diff-pc-gzip", "diff-pc-snappy", "diff-pc-lz4", "diff-pc-zstd",
            "diff-pc-1k", "diff-idem", "diff-group", "diff-oft"])
        cls.broker.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.broker.stop()
        finally:
            if hasattr(cls.broker, "cleanup"):
                cls.broker.cleanup()

    def both(self, name, *args):
        mock = kafkatest.run_scenario("mock", name, *args)
        extra = ("--no-create",) if kafkatest.AGAINST_MOCK else ()
        brook = kafkatest.run_scenario(self.broker.bootstrap, name, *(args + extra))
        self.assertTrue(mock, "the oracle printed nothing")
        self.assertEqual(observable(brook), observable(mock))
        return brook

    def test_produce_consume_codecs(self):
        hashes = None
        for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
            with self.subTest(codec=codec):
                out = self.both("produce-consume", "--topic", "diff-pc-" + codec,
                                "--compression", codec, "--count", 20000)
                summary = out[-1]
                self.assertEqual(summary["consumed"], 20000)
                self.assertEqual(summary["duplicates"], 0)
                # The codec must not change what comes back.
                h = [(x["partition"], x["count"], x["hash"]) for x in out[:-1]]
                if hashes is None:
                    hashes = h
                self.assertEqual(h, hashes)

    def test_produce_consume_1k_values(self):
        self.both("produce-consume", "--topic", "diff-pc-1k", "--value-size", 1000,
                  "--count", 5000, "--compression", "lz4")

    def test_idempotent(self):
        out = self.both("idempotent", "--topic", "diff-idem", "--count", 50000)
        self.assertEqual(out[-1]["duplicates"], 0)
        self.assertEqual(out[-1]["missing"], 0)

    def test_group(self):
        out = self.both("group", "--topic", "diff-group", "--group", "diff-g",
                        "--count", 3000, "--count2", 500)
        s = out[-1]
        self.assertEqual((s["duplicates"], s["missing"], s["resumed_old"], s["resumed_new"]),
                         (0, 0, 0, 500))

    def test_offsets_for_times(self):
        if kafkatest.AGAINST_MOCK:
            self.skipTest("the stand-in mock answers timestamp queries with -1")
        out = self.both("offsets-for-times", "--topic", "diff-oft", "--count", 50)
        wm = [x for x in out if x["scenario"] == "watermarks"]
        self.assertEqual([(x["low"], x["high"]) for x in wm], [(0, 50)] * 6)

    def test_admin(self):
        if kafkatest.AGAINST_MOCK:
            self.skipTest("the librdkafka 2.0.2 mock has no admin APIs")
        mock = kafkatest.run_scenario("mock", "admin")
        self.assertIn("unsupported", mock[0], "the mock gained admin APIs: compare with it")
        out = kafkatest.run_scenario(self.broker.bootstrap, "admin", "--topic", "diff-admin")
        got = [(x["op"], x.get("error"), x.get("partitions")) for x in out]
        self.assertEqual(got, [
            ("create", "NO_ERROR", None),
            ("create_again", "TOPIC_ALREADY_EXISTS", None),
            ("create_invalid", "TOPIC_EXCEPTION", None),
            ("metadata", None, 3),
            ("create_partitions", "NO_ERROR", None),
            ("metadata", None, 5),
            ("describe_configs", "NO_ERROR", None),
            ("delete", "NO_ERROR", None),
            ("delete_again", "UNKNOWN_TOPIC_OR_PART", None),
        ])


if __name__ == "__main__":
    unittest.main(verbosity=2)
