"""SASL/PLAIN authentication and Prometheus metrics of the broker, driven by kcat."""
import os
import re
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402

SASL = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN"]


class TestSasl(unittest.TestCase):
    def test_plain_users(self):
        with kafkatest.BrokerUnderTest(sets=["broker.metrics_listen=",
                                             "broker.sasl_users=alice:s3cret,bob:pw"]) as b:
            good = SASL + ["-X", "sasl.username=alice", "-X", "sasl.password=s3cret"]
            kafkatest.kcat(b.bootstrap, "-P", "-t", "secure", *good, input_bytes=b"a\nb\n")
            out = kafkatest.kcat(b.bootstrap, "-C", "-t", "secure", "-e", "-q", "-o",
                                 "beginning", *good).stdout
            self.assertEqual(out, b"a\nb\n")
            bad = SASL + ["-X", "sasl.username=alice", "-X", "sasl.password=nope"]
            p = kafkatest.kcat(b.bootstrap, "-L", "-m", "3", *bad, check=False, timeout=60)
            self.assertNotEqual(p.returncode, 0, "a wrong password was accepted")
            # Without SASL the broker refuses everything but the handshake.
            p = kafkatest.kcat(b.bootstrap, "-L", "-m", "3", check=False, timeout=60)
            self.assertNotEqual(p.returncode, 0, "an unauthenticated client got metadata")
            self.assertIn("authentication failed for 'alice'", b.log_tail(200))


class TestMetrics(unittest.TestCase):
    def test_metrics_after_traffic(self):
        with kafkatest.BrokerUnderTest(sets=["broker.metrics_listen=127.0.0.1:0"]) as b:
            m = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", b.ready_line)
            self.assertIsNotNone(m, b.ready_line)
            kafkatest.kcat(b.bootstrap, "-P", "-t", "metered", "-K", ":",
                           input_bytes=b"".join(b"k%d:v%d\n" % (i, i) for i in range(300)))
            kafkatest.kcat(b.bootstrap, "-C", "-t", "metered", "-e", "-q", "-o", "beginning")
            kafkatest.kcat(b.bootstrap, "-G", "metered-group", "-e", "-q", "-X",
                           "auto.offset.reset=earliest", "-X", "enable.auto.commit=false",
                           "metered", check=False, timeout=120)
            text = urllib.request.urlopen(m.group(1), timeout=10).read().decode()
            self.assertIn("# TYPE brook_broker_request_seconds histogram", text)
            self.assertRegex(text, r'brook_broker_messages_in_total\{topic="metered"\} 300\n')
            self.assertRegex(text, r'brook_broker_bytes_out_total\{topic="metered"\} [1-9]')
            # kcat -C read all 300 from the beginning; the group consumer read them again
            self.assertRegex(text, r'brook_broker_messages_out_total\{topic="metered"\} 600\n')
            self.assertRegex(text, r'brook_broker_requests_total\{api="Produce"\} [1-9]')
            self.assertRegex(text, r'brook_broker_partition_end_offset\{topic="metered",'
                                   r'partition="0"\} 300\n')
            self.assertRegex(text, r'brook_broker_group_state\{group="metered-group",'
                                   r'state="(Empty|Stable|PreparingRebalance)"\} 1\n')


if __name__ == "__main__":
    unittest.main(verbosity=2)
