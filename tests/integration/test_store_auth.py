"""store.auth=password: Cassandra's PasswordAuthenticator over SASL PLAIN, with the one
superuser cassandra/cassandra. The DataStax Python driver with the right credentials
connects and works; wrong credentials get ERROR 0x0100 (AuthenticationFailed); no
credentials fail clearly; and on the wire (raw frames) STARTUP is answered AUTHENTICATE
naming org.apache.cassandra.auth.PasswordAuthenticator, nothing but AUTH_RESPONSE is
served before AUTH_SUCCESS, and a bad token is refused without closing the door on a
good one.
"""
import os
import socket
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

from cassandra import AuthenticationFailed  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import NoHostAvailable  # noqa: E402

brooktest.quiet_driver_logs()
T = brooktest.DRIVER_TIMEOUT

STARTUP, AUTHENTICATE, QUERY, AUTH_RESPONSE, AUTH_SUCCESS, ERROR, READY, RESULT = (
    0x01, 0x03, 0x07, 0x0F, 0x10, 0x00, 0x02, 0x08)


def frame(opcode, body, stream=1):
    return struct.pack(">BBhBi", 0x04, 0, stream, opcode, len(body)) + body


def string_map(d):
    out = struct.pack(">H", len(d))
    for k, v in d.items():
        out += struct.pack(">H", len(k)) + k.encode() + struct.pack(">H", len(v)) + v.encode()
    return out


def query_body(cql):
    b = cql.encode()
    return struct.pack(">i", len(b)) + b + struct.pack(">HB", 0x0001, 0)


def bytes_value(b):
    return struct.pack(">i", len(b)) + b


class Wire:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=T)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise AssertionError("server closed the connection")
            buf += chunk
        return buf

    def call(self, opcode, body, stream=1):
        self.s.sendall(frame(opcode, body, stream))
        version, flags, got_stream, op, n = struct.unpack(">BBhBi", self.recv_exact(9))
        body = self.recv_exact(n)
        assert version == 0x84, hex(version)
        assert got_stream == stream, (got_stream, stream)
        return op, body

    def close(self):
        self.s.close()


def error_of(body):
    code, n = struct.unpack_from(">iH", body, 0)
    return code, body[6:6 + n].decode()


class Auth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = brooktest.StoreUnderTest(sets=["store.auth=password"])
        cls.store.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.store.stop()
        finally:
            cls.store.cleanup()

    def tearDown(self):
        self.store.assert_alive()

    def connect_fails(self, **kw):
        c = self.store.cluster(**kw)
        try:
            with self.assertRaises(NoHostAvailable) as cm:
                c.connect()
        finally:
            c.shutdown()
        errors = list(cm.exception.errors.values())
        self.assertTrue(errors, cm.exception)
        return errors

    def test_right_credentials(self):
        c, s = self.store.connect(auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
        try:
            self.assertEqual(c.protocol_version, 4)
            s.execute("CREATE KEYSPACE IF NOT EXISTS authks WITH replication = "
                      "{'class': 'SimpleStrategy', 'replication_factor': 1}", timeout=T)
            s.execute("CREATE TABLE IF NOT EXISTS authks.t (k int PRIMARY KEY, v text)",
                      timeout=T)
            ins = s.prepare("INSERT INTO authks.t (k, v) VALUES (?, ?)")
            for k in range(10):
                s.execute(ins, (k, "v%d" % k), timeout=T)
            rows = s.execute("SELECT k, v FROM authks.t", timeout=T)
            self.assertEqual(sorted(tuple(r) for r in rows), [(k, "v%d" % k) for k in range(10)])
            self.assertIn("authks", c.metadata.keyspaces)
        finally:
            c.shutdown()

    def test_wrong_credentials(self):
        for user, password in (("cassandra", "wrong"), ("nobody", "cassandra"),
                               ("cassandra", ""), ("", "")):
            with self.subTest(user=user, password=password):
                errors = self.connect_fails(
                    auth_provider=PlainTextAuthProvider(user, password))
                for e in errors:
                    self.assertIsInstance(e, AuthenticationFailed)
                    self.assertIn("code=0100", str(e))

    def test_no_credentials(self):
        errors = self.connect_fails()
        for e in errors:
            self.assertIsInstance(e, AuthenticationFailed)
            self.assertIn("requires authentication", str(e))

    def test_on_the_wire(self):
        w = Wire(self.store.port)
        try:
            op, body = w.call(STARTUP, string_map({"CQL_VERSION": "3.0.0"}))
            self.assertEqual(op, AUTHENTICATE)
            (n,) = struct.unpack_from(">H", body, 0)
            self.assertEqual(body[2:2 + n].decode(),
                             "org.apache.cassandra.auth.PasswordAuthenticator")
            # Not authenticated: no query is executed.
            op, body = w.call(QUERY, query_body("SELECT key FROM system.local"), stream=2)
            self.assertEqual(op, ERROR)
            self.assertEqual(error_of(body)[0], 0x000A, error_of(body))
        finally:
            w.close()

        w = Wire(self.store.port)
        try:
            op, _ = w.call(STARTUP, string_map({"CQL_VERSION": "3.0.0"}))
            self.assertEqual(op, AUTHENTICATE)
            op, body = w.call(AUTH_RESPONSE, bytes_value(b"\x00cassandra\x00nope"), stream=3)
            self.assertEqual(op, ERROR)
            code, msg = error_of(body)
            self.assertEqual(code, 0x0100, msg)
            self.assertIn("Provided username cassandra and/or password are incorrect", msg)
        finally:
            w.close()

        w = Wire(self.store.port)
        try:
            op, _ = w.call(STARTUP, string_map({"CQL_VERSION": "3.0.0"}))
            self.assertEqual(op, AUTHENTICATE)
            op, body = w.call(AUTH_RESPONSE, bytes_value(b"\x00cassandra\x00cassandra"), stream=4)
            self.assertEqual(op, AUTH_SUCCESS, body)
            op, body = w.call(QUERY, query_body("SELECT key FROM system.local"), stream=5)
            self.assertEqual(op, RESULT, body)
        finally:
            w.close()

        # Malformed PLAIN tokens are authentication errors, not crashes.
        for token in (b"", b"cassandra", b"\x00\x00", b"\x00cassandra", b"\xff" * 300):
            with self.subTest(token=token):
                w = Wire(self.store.port)
                try:
                    op, _ = w.call(STARTUP, string_map({"CQL_VERSION": "3.0.0"}))
                    self.assertEqual(op, AUTHENTICATE)
                    op, body = w.call(AUTH_RESPONSE, bytes_value(token), stream=6)
                    self.assertEqual(op, ERROR)
                    self.assertEqual(error_of(body)[0], 0x0100, error_of(body))
                finally:
                    w.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
