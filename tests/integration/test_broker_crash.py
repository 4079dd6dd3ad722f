"""Crash test (issue 3 acceptance): produce with acks=all (idempotent librdkafka
producer, tests/clients/kafka_scenarios produce-acked) while brook is SIGKILLed at random
moments 10 times and restarted on the same port and data directory; then every
acknowledged message must be present exactly once, at the offset it was acknowledged
with (so in order per partition), and no message may appear twice.

The RNG seed is printed; BROOK_CRASH_SEED=N reproduces a run. BROOK_CRASH_KILLS sets the
number of kills (default 10).
"""
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402

KILLS = int(os.environ.get("BROOK_CRASH_KILLS", "10"))
TOPIC = "crash-test"


class Crash(unittest.TestCase):
    def test_acked_messages_survive_sigkill(self):
        seed = int(os.environ.get("BROOK_CRASH_SEED", str(random.randrange(1 << 30))))
        print("crash test seed %d (BROOK_CRASH_SEED=%d reproduces)" % (seed, seed),
              file=sys.stderr)
        rng = random.Random(seed)
        broker = kafkatest.BrokerUnderTest()
        broker.start()
        try:
            prod = kafkatest.start_scenario(broker.bootstrap, "produce-acked", "--topic",
                                            TOPIC, "--partitions", 3, "--rate", 3000,
                                            "--timeout", 60)
            time.sleep(1.0)
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.3, 1.5))
                if prod.poll() is not None:
                    self.fail("producer died:\n" + prod.stderr_text()[-4000:])
                broker.kill()
                broker.start()  # same port, same data directory
            time.sleep(1.0)
            rc, acked, err = kafkatest.stop_scenario(prod)
            self.assertEqual(rc, 0, "producer failed:\n" + err[-4000:])
            self.assertGreater(len(acked), 0, "nothing was acknowledged")

            stored = kafkatest.run_scenario(broker.bootstrap, "consume-all", "--topic", TOPIC)
            broker.stop()
        finally:
            broker.cleanup()

        where = {}
        for m in stored:
            self.assertNotIn(m["value"], where, "%s stored twice" % m["value"])
            where[m["value"]] = (m["partition"], m["offset"])
        for a in acked:
            self.assertIn(a["value"], where, "acknowledged %s lost" % a["value"])
            self.assertEqual(where[a["value"]], (a["partition"], a["offset"]),
                             "acknowledged %s moved" % a["value"])
        # Order per partition: offsets follow the producer's sequence numbers.
        per = {}
        for m in stored:
            per.setdefault(m["partition"], []).append((m["offset"], int(m["value"][2:])))
        for p, seq in per.items():
            seq.sort()
            idx = [i for _, i in seq]
            self.assertEqual(idx, sorted(idx), "partition %d out of order" % p)
            self.assertEqual([o for o, _ in seq], list(range(seq[0][0], seq[0][0] + len(seq))),
                             "partition %d has offset gaps" % p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
