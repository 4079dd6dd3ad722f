"""Committed consumer offsets and stored data survive broker restarts — a clean SIGTERM
and a SIGKILL — with kcat's librdkafka group consumer resuming where it committed."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402


def produce(b, first, n):
    kafkatest.kcat(b.bootstrap, "-P", "-t", "resume", "-K", ":",
                   input_bytes=b"".join(b"k%d:v%d\n" % (i, i) for i in range(first, first + n)))


def group_consume(b):
    """One group session: consume to the end, commit on close; the values read."""
    out = kafkatest.kcat(b.bootstrap, "-G", "resumers", "-e", "-q", "-f", "%s\n",
                         "-X", "auto.offset.reset=earliest", "-X", "enable.auto.commit=true",
                         "-X", "auto.commit.interval.ms=100", "resume", timeout=120).stdout
    return out.decode().split()


class TestRestart(unittest.TestCase):
    def test_offsets_and_data_survive_restarts(self):
        with kafkatest.BrokerUnderTest() as b:
            produce(b, 0, 1000)
            self.assertEqual(group_consume(b), ["v%d" % i for i in range(1000)])

            b.restart()  # SIGTERM, start again on the same port and data
            produce(b, 1000, 500)
            self.assertEqual(group_consume(b), ["v%d" % i for i in range(1000, 1500)])

            b.restart(hard=True)  # SIGKILL: commits were acknowledged only once durable
            produce(b, 1500, 250)
            self.assertEqual(group_consume(b), ["v%d" % i for i in range(1500, 1750)])

            everything = kafkatest.kcat(b.bootstrap, "-C", "-t", "resume", "-e", "-q",
                                        "-o", "beginning", "-f", "%o %s\n").stdout.decode()
            self.assertEqual(everything.splitlines(),
                             ["%d v%d" % (i, i) for i in range(1750)])
            self.assertIn("consumer group records from __consumer_offsets", b.log_tail(200))


if __name__ == "__main__":
    unittest.main(verbosity=2)
