"""The broker tests' own harness, checked against librdkafka's mock cluster (no brook
broker needed): kafka_scenarios (tests/clients/kafka_scenarios.c) must pass every
scenario against the oracle and print deterministic output (the differential test
compares brook with the mock line by line, so two mock runs must agree), and the crash
test's producer must report exactly the acknowledged messages through broker outages.
"""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402

from kafkatest import observable  # noqa: E402


class Harness(unittest.TestCase):
    def test_produce_consume_is_deterministic_and_codec_independent(self):
        a = kafkatest.run_scenario("mock", "produce-consume", "--count", 3000)
        b = kafkatest.run_scenario("mock", "produce-consume", "--count", 3000,
                                   "--compression", "zstd")
        self.assertEqual(len(a), 7)
        self.assertEqual(sum(x["count"] for x in a[:-1]), 3000)
        self.assertTrue(all(x["contiguous"] for x in a[:-1]))
        self.assertEqual(a[:-1], b[:-1])
        self.assertEqual(b[-1]["compression"], "zstd")
        c = kafkatest.run_scenario("mock", "produce-consume", "--count", 3001)
        self.assertNotEqual(a[:-1], c[:-1], "the hash must see the messages")

    def test_idempotent(self):
        out = kafkatest.run_scenario("mock", "idempotent", "--count", 6000)
        self.assertEqual([x["count"] for x in out[:-1]], [1000] * 6)
        self.assertEqual(out[-1]["duplicates"], 0)

    def test_group(self):
        a = kafkatest.run_scenario("mock", "group", "--count", 600, "--count2", 50)
        s = a[-1]
        self.assertEqual((s["unique"], s["duplicates"], s["missing"]), (1200, 0, 0))
        self.assertEqual((s["resumed_old"], s["resumed_new"]), (0, 50))
        self.assertEqual(len(s["nondeterministic"]), 3)

    def test_offsets_for_times_and_watermarks(self):
        out = kafkatest.run_scenario("mock", "offsets-for-times", "--count", 20,
                                     "--partitions", 2)
        wm = [x for x in out if x["scenario"] == "watermarks"]
        self.assertEqual([(x["low"], x["high"]) for x in wm], [(0, 20), (0, 20)])
        self.assertIn({"scenario": "timestamps", "checked": 40, "wrong": 0}, out)
        self.assertEqual(observable(out), observable(out))
        self.assertFalse([x for x in observable(out) if x["scenario"] == "offsets-for-times"])

    def test_produce_acked_through_outages(self):
        out = kafkatest.run_scenario("mock", "produce-acked", "--count", 5000, "--rate",
                                     5000, "--verify", "--mock-flaps", 3)
        acked, summary = out[:-1], out[-1]
        self.assertEqual(len(acked), 5000)
        self.assertEqual(summary["found"], 5000)
        self.assertEqual((summary["duplicates"], summary["moved"]), (0, 0))
        self.assertEqual(len({(x["partition"], x["offset"]) for x in acked}), 5000)

    def test_produce_acked_stops_on_sigterm(self):
        proc = kafkatest.start_scenario("mock", "produce-acked", "--rate", 500)
        time.sleep(1.0)
        rc, acked, err = kafkatest.stop_scenario(proc)
        self.assertEqual(rc, 0, err)
        self.assertGreater(len(acked), 0)
        self.assertEqual(sorted(int(x["value"][2:]) for x in acked), list(range(len(acked))))

    def test_usage_errors(self):
        for args in (["no-such-scenario"], ["produce-consume", "--count", "x"]):
            proc = subprocess.run(kafkatest.scenario_command("mock", *args),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(proc.returncode, 2, args)
            self.assertEqual(proc.stdout, b"")

    def test_mock_serves_kcat(self):
        with kafkatest.MockCluster(topic="harness-kcat", partitions=2) as m:
            kafkatest.kcat_produce(m.bootstrap, "harness-kcat", b"a:1\nb:2\n",
                                   headers=[("h", "x")])
            got = kafkatest.kcat_consume(m.bootstrap, "harness-kcat")
        self.assertEqual(sorted((x["key"], x["payload"], x["headers"]) for x in got),
                         [("a", "1", ["h", "x"]), ("b", "2", ["h", "x"])])


if __name__ == "__main__":
    unittest.main(verbosity=2)
