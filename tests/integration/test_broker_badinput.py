"""Bad input to the broker: lying lengths, oversized and truncated requests, unknown APIs
and versions, corrupt batches, invalid topic names. Each gets Kafka's error code or closes
that one connection; the broker keeps serving everyone else and stored data stays intact.

Requests are written by hand here (struct), so the bytes are exactly what the test says;
kcat, a client nobody here wrote, checks the stored data before and after.
"""
import os
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkatest  # noqa: E402

# CRC-32C (Castagnoli), bitwise: slow but only for a few small batches.
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(v):
    v = (v << 1) ^ (v >> 63)  # zigzag
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def record_batch(values, corrupt_crc=False):
    recs = b""
    for i, val in enumerate(values):
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + varint(len(val)) + val + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, 1000, 1000, -1, -1, -1,
                            len(values)) + recs
    crc = crc32c(after_crc) ^ (1 if corrupt_crc else 0)
    tail = struct.pack(">ibI", 0, 2, crc) + after_crc  # leader epoch, magic, crc
    return struct.pack(">qi", 0, len(tail)) + tail


def kstr(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def request(api_key, version, body, corr=7):
    msg = struct.pack(">hhi", api_key, version, corr) + kstr("badinput") + body
    return struct.pack(">i", len(msg)) + msg


def produce_v3(topic, partition, records):
    return (kstr(None) + struct.pack(">hi", 1, 10000) + struct.pack(">i", 1) + kstr(topic) +
            struct.pack(">i", 1) + struct.pack(">ii", partition, len(records)) + records)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)

    def send(self, data):
        self.s.sendall(data)

    def recv_response(self):
        """The response body after the correlation id, or None when the broker closed."""
        hdr = self._recv(4)
        if hdr is None:
            return None
        (n,) = struct.unpack(">i", hdr)
        body = self._recv(n)
        return body[4:] if body is not None else None

    def closed_by_broker(self):
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.s.recv(n - len(buf))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def close(self):
        self.s.close()


def produce_error(resp):
    """Error code of the single partition in a Produce v3 response."""
    # topics[1]: name, partitions[1]: index i32, error i16, base_offset i64, ...
    (ntopics,) = struct.unpack_from(">i", resp, 0)
    (nlen,) = struct.unpack_from(">h", resp, 4)
    off = 6 + nlen
    (nparts, index, err, base) = struct.unpack_from(">iihq", resp, off)
    return err, base


class TestBadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = kafkatest.BrokerUnderTest(
            sets=["broker.metrics_listen=127.0.0.1:0", "broker.max_request_bytes=1MiB"])
        cls.broker.start()
        cls.port = cls.broker.port
        cls.data = [b"value-%d" % i for i in range(500)]
        kafkatest.kcat(cls.broker.bootstrap, "-P", "-t", "intact",
                       input_bytes=b"\n".join(cls.data) + b"\n")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.broker.stop()
        finally:
            cls.broker.cleanup()

    def assert_still_serving(self):
        c = Conn(self.port)
        c.send(request(18, 0, b""))
        resp = c.recv_response()
        c.close()
        self.assertIsNotNone(resp, "the broker stopped answering ApiVersions")
        self.assertEqual(struct.unpack_from(">h", resp, 0)[0], 0)

    def assert_closed(self, payload):
        c = Conn(self.port)
        c.send(payload)
        self.assertTrue(c.closed_by_broker(), "the broker kept a connection that sent %r"
                        % payload[:16])
        c.close()
        self.assert_still_serving()

    def test_lying_length_prefix(self):
        self.assert_closed(struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 16)

    def test_negative_length(self):
        self.assert_closed(struct.pack(">i", -5))

    def test_request_over_maximum(self):
        self.assert_closed(struct.pack(">i", 2 * 1024 * 1024) + b"\x00" * 1024)

    def test_truncated_body(self):
        full = request(0, 3, produce_v3("intact", 0, record_batch([b"x"])))
        body = full[4:]
        cut = body[:len(body) // 2]
        self.assert_closed(struct.pack(">i", len(cut)) + cut)

    def test_truncated_header(self):
        self.assert_closed(struct.pack(">i", 3) + b"\x00\x12\x00")

    def test_unknown_api_key(self):
        self.assert_closed(request(9999, 0, b""))

    def test_unsupported_version_of_produce(self):
        self.assert_closed(request(0, 99, b""))

    def test_api_versions_unsupported_version_answers_v0(self):
        c = Conn(self.port)
        c.send(request(18, 99, b"\x00\x01\x02"))
        resp = c.recv_response()
        c.close()
        self.assertIsNotNone(resp)
        err, n = struct.unpack_from(">hi", resp, 0)
        self.assertEqual(err, 35, "UNSUPPORTED_VERSION")
        keys = {struct.unpack_from(">hhh", resp, 6 + 6 * i)[0] for i in range(n)}
        self.assertTrue({0, 1, 3, 18}.issubset(keys))

    def test_bad_crc_is_corrupt_message(self):
        c = Conn(self.port)
        c.send(request(0, 3, produce_v3("intact", 0, record_batch([b"bad"], corrupt_crc=True))))
        resp = c.recv_response()
        self.assertIsNotNone(resp)
        err, _ = produce_error(resp)
        self.assertEqual(err, 2, "CORRUPT_MESSAGE")
        # The same connection still works: a good batch is accepted.
        c.send(request(0, 3, produce_v3("scratch", 0, record_batch([b"good"]))))
        err, base = produce_error(c.recv_response())
        c.close()
        self.assertEqual(err, 0)
        self.assertEqual(base, 0)

    def test_garbage_records(self):
        c = Conn(self.port)
        garbage = struct.pack(">qiib", 0, 58, 0, 2) + b"\xff" * 57  # magic 2, nonsense after
        c.send(request(0, 3, produce_v3("intact", 0, garbage)))
        err, _ = produce_error(c.recv_response())
        c.close()
        self.assertEqual(err, 2, "CORRUPT_MESSAGE")

    def test_old_message_format(self):
        c = Conn(self.port)
        old = bytearray(record_batch([b"x"]))
        old[16] = 1  # magic 1 (message format v1) inside a Produce v3
        c.send(request(0, 3, produce_v3("intact", 0, bytes(old))))
        err, _ = produce_error(c.recv_response())
        c.close()
        self.assertEqual(err, 87, "INVALID_RECORD, as Kafka answers Produce v3+")

    def test_invalid_topic_name(self):
        c = Conn(self.port)
        c.send(request(0, 3, produce_v3("no/slashes", 0, record_batch([b"x"]))))
        err, _ = produce_error(c.recv_response())
        self.assertEqual(err, 17, "INVALID_TOPIC_EXCEPTION")
        # Metadata v1 for an invalid name: the topic's error code is 17.
        c.send(request(3, 1, struct.pack(">i", 1) + kstr("a" * 300)))
        resp = c.recv_response()
        c.close()
        self.assertIsNotNone(resp)
        self.assertIn(struct.pack(">h", 17) + kstr("a" * 300), resp)

    def test_unknown_partition(self):
        c = Conn(self.port)
        c.send(request(0, 3, produce_v3("intact", 42, record_batch([b"x"]))))
        err, _ = produce_error(c.recv_response())
        c.close()
        self.assertEqual(err, 3, "UNKNOWN_TOPIC_OR_PARTITION")

    def test_zz_data_intact_after_everything(self):
        # Runs last (alphabetical order): nothing above may have touched "intact".
        for payload in (struct.pack(">i", 0x7FFFFFFF), request(9999, 0, b"")):
            c = Conn(self.port)
            c.send(payload)
            c.closed_by_broker()
            c.close()
        out = kafkatest.kcat(self.broker.bootstrap, "-C", "-t", "intact", "-e", "-q",
                             "-o", "beginning", "-f", "%s\n").stdout
        self.assertEqual(out.split(b"\n")[:-1], self.data)


if __name__ == "__main__":
    unittest.main(verbosity=2)
