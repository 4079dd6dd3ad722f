"""Bad input to the store, as raw frames (struct-packed, so the bytes are exactly what the
test says): protocol versions it does not speak, frames over store.max_frame_bytes,
lying and truncated lengths, unknown opcodes, response opcodes sent as requests, requests
before STARTUP, broken STARTUP options, malformed bodies, bad EXECUTEs, corrupt lz4,
garbage. Each gets Cassandra's ERROR (code, stream id) or loses that one connection; the
server keeps serving every other connection, and after each test a NEW DataStax Python
driver connection still works and the data written at the start is intact.

Cassandra's behaviour where brook's contract (docs, store facts) differs is noted at the
test: the oversized frame (Cassandra 3.11: 0x2200 "Request is too big", connection kept)
is checked as brook's contract states it, a protocol error.
"""
import ctypes
import ctypes.util
import os
import random
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

brooktest.quiet_driver_logs()
T = brooktest.DRIVER_TIMEOUT
MAX_FRAME = 65536
ROWS = 300

(ERROR, STARTUP, READY, AUTHENTICATE, OPTIONS, SUPPORTED, QUERY, RESULT, PREPARE, EXECUTE,
 REGISTER, EVENT, BATCH, AUTH_CHALLENGE, AUTH_RESPONSE, AUTH_SUCCESS) = (
    0x00, 0x01, 0x02, 0x03, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
    0x0F, 0x10)
PROTOCOL_ERROR, INVALID, UNPREPARED = 0x000A, 0x2200, 0x2500
ONE = 0x0001


def version_error(n):
    return ("Invalid or unsupported protocol version (%d); supported versions are "
            "(3/v3, 4/v4)" % n)


# ---------- notations of the spec (section 3) ----------

def frame(opcode, body=b"", stream=0, version=0x04, flags=0, length=None):
    return struct.pack(">BBhBi", version, flags, stream, opcode,
                       len(body) if length is None else length) + body


def short_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">H", len(b)) + b


def long_string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">i", len(b)) + b


def string_map(d):
    return struct.pack(">H", len(d)) + b"".join(short_string(k) + short_string(v)
                                                 for k, v in d.items())


def value(b):
    return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b


def query(cql, values=None, flags=0):
    body = long_string(cql) + struct.pack(">H", ONE)
    if values is not None:
        flags |= 0x01
        return body + struct.pack(">BH", flags, len(values)) + b"".join(value(v) for v in values)
    return body + struct.pack(">B", flags)


def execute(query_id, values):
    return (struct.pack(">H", len(query_id)) + query_id + struct.pack(">HBH", ONE, 0x01,
                                                                       len(values))
            + b"".join(value(v) for v in values))


STARTUP_BODY = string_map({"CQL_VERSION": "3.0.0"})


def parse_error(body):
    (code,) = struct.unpack_from(">i", body, 0)
    (n,) = struct.unpack_from(">H", body, 4)
    return code, body[6:6 + n].decode("utf-8", "replace"), body[6 + n:]


# ---------- lz4 (the system liblz4, as the server uses it) ----------

_lz4 = ctypes.CDLL(ctypes.util.find_library("lz4") or "liblz4.so.1")


def lz4_body(raw):
    """Cassandra's lz4 frame body: [int] uncompressed length, then one lz4 block."""
    cap = _lz4.LZ4_compressBound(len(raw))
    dst = ctypes.create_string_buffer(cap)
    n = _lz4.LZ4_compress_default(raw, dst, len(raw), cap)
    assert n > 0
    return struct.pack(">i", len(raw)) + dst.raw[:n]


def lz4_unbody(body):
    (size,) = struct.unpack_from(">i", body, 0)
    dst = ctypes.create_string_buffer(max(size, 1))
    n = _lz4.LZ4_decompress_safe(body[4:], dst, len(body) - 4, size)
    assert n == size, (n, size)
    return dst.raw[:size]


class Frame:
    def __init__(self, version, flags, stream, opcode, body):
        self.version, self.flags, self.stream, self.opcode, self.body = (
            version, flags, stream, opcode, body)

    def __repr__(self):
        return "Frame(version=%#x flags=%#x stream=%d opcode=%#x body=%r)" % (
            self.version, self.flags, self.stream, self.opcode, self.body[:200])


class Wire:
    """One raw connection. recv() returns a Frame, or None when the server closed."""

    def __init__(self, port, timeout=T):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        try:
            self.s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close first; what it answered is still readable

    def _fill(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                return False
            if not chunk:
                return False
            self.buf += chunk
        return True

    def recv(self):
        if not self._fill(9):
            return None
        version, flags, stream, opcode, n = struct.unpack_from(">BBhBi", self.buf, 0)
        if not self._fill(9 + n):
            return None
        body = self.buf[9:9 + n]
        self.buf = self.buf[9 + n:]
        return Frame(version, flags, stream, opcode, body)

    def call(self, opcode, body=b"", stream=0, **kw):
        self.send(frame(opcode, body, stream, **kw))
        return self.recv()

    def closed_by_server(self, timeout=T):
        """True when the server closes within timeout (any answer before is dropped)."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = brooktest.StoreUnderTest(sets=["store.max_frame_bytes=%d" % MAX_FRAME])
        cls.store.start()
        cls.port = cls.store.port
        try:
            c, s = cls.store.connect()
            try:
                s.execute("CREATE KEYSPACE bad WITH replication = "
                          "{'class': 'SimpleStrategy', 'replication_factor': 1}", timeout=T)
                s.execute("CREATE TABLE bad.intact (k int PRIMARY KEY, v text)", timeout=T)
                ins = s.prepare("INSERT INTO bad.intact (k, v) VALUES (?, ?)")
                for k in range(ROWS):
                    s.execute(ins, (k, "value-%d" % k), timeout=T)
            finally:
                c.shutdown()
        except BaseException:
            cls.store.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.store.stop()
        finally:
            cls.store.cleanup()

    def tearDown(self):
        self.store.assert_alive()
        self.assert_intact()

    def assert_intact(self):
        """A new driver connection works and sees every row written in setUpClass."""
        c, s = self.store.connect()
        try:
            rows = {r.k: r.v for r in s.execute("SELECT k, v FROM bad.intact", timeout=T)}
            self.assertEqual(rows, {k: "value-%d" % k for k in range(ROWS)})
            self.assertEqual(c.protocol_version, 4)
        finally:
            c.shutdown()

    def ready_wire(self):
        w = Wire(self.port)
        f = w.call(STARTUP, STARTUP_BODY, stream=0)
        self.assertIsNotNone(f, "closed on STARTUP")
        self.assertEqual((f.version, f.opcode), (0x84, READY), f)
        return w

    def assertError(self, f, code, stream, contains=None):
        self.assertIsNotNone(f, "connection closed without an ERROR")
        self.assertEqual((f.version, f.opcode, f.stream), (0x84, ERROR, stream), f)
        got, msg, _ = parse_error(f.body)
        self.assertEqual(got, code, "error %#x %r" % (got, msg))
        if contains is not None:
            self.assertIn(contains, msg)
        return msg

    def prepare(self, w, cql, stream=1):
        f = w.call(PREPARE, long_string(cql), stream=stream)
        self.assertEqual((f.opcode, f.stream), (RESULT, stream), f)
        (kind,) = struct.unpack_from(">i", f.body, 0)
        self.assertEqual(kind, 0x0004)
        (n,) = struct.unpack_from(">H", f.body, 4)
        return f.body[6:6 + n]

    # ---------- version negotiation ----------

    def test_unsupported_versions(self):
        # 5, 6: newer than v4; 0x41, 0x42: DSE_V1/V2, which the Python driver tries first;
        # 0x43: a v3 with a stray bit; 0x7f; 0x47: 'G' of "GET / HTTP/1.1".
        for v in (5, 6, 0x41, 0x42, 0x43, 0x7F):
            for opcode, body in ((STARTUP, STARTUP_BODY), (OPTIONS, b"")):
                with self.subTest(version=v, opcode=opcode):
                    w = Wire(self.port)
                    try:
                        f = w.call(opcode, body, stream=0x1234, version=v)
                        msg = self.assertError(f, PROTOCOL_ERROR, 0x1234)
                        self.assertEqual(msg, version_error(v))
                    finally:
                        w.close()
        w = Wire(self.port)
        try:
            w.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            f = w.recv()
            self.assertIsNotNone(f)
            self.assertEqual((f.version, f.opcode), (0x84, ERROR), f)
            code, msg, _ = parse_error(f.body)
            self.assertEqual((code, msg), (PROTOCOL_ERROR, version_error(ord("G"))))
        finally:
            w.close()

    def test_v1_v2_clients_get_the_error_in_their_own_framing(self):
        """v1 and v2 headers are 8 bytes with a one-byte stream id; Cassandra answers
        them in that framing (version byte 0x81/0x82) so that old drivers can read the
        error (CASSANDRA-11464)."""
        for v in (1, 2):
            with self.subTest(version=v):
                w = Wire(self.port)
                try:
                    # v1/v2 header: version, flags, stream (1 byte), opcode, length.
                    w.send(struct.pack(">BBbBi", v, 0, 0x12, STARTUP, len(STARTUP_BODY))
                           + STARTUP_BODY)
                    self.assertTrue(w._fill(8), "closed without an answer")
                    version, flags, stream, opcode, n = struct.unpack_from(">BBbBi", w.buf, 0)
                    self.assertEqual((version, opcode), (0x80 | v, ERROR), w.buf[:40])
                    self.assertTrue(w._fill(8 + n), "answer truncated")
                    code, msg, _ = parse_error(w.buf[8:8 + n])
                    self.assertEqual((code, msg), (PROTOCOL_ERROR, version_error(v)))
                finally:
                    w.close()

    def test_version_change_on_a_connection(self):
        w = self.ready_wire()
        try:
            f = w.call(QUERY, query("SELECT k FROM bad.intact WHERE k = 1"), stream=3,
                       version=0x05)
            self.assertError(f, PROTOCOL_ERROR, 3)
        finally:
            w.close()

    # ---------- sizes and lengths ----------

    def test_frame_over_max_frame_bytes(self):
        """Cassandra 3.11 answers 0x2200 "Request is too big: length N exceeds maximum
        allowed length M." and discards the body; brook's contract is a protocol error
        (then close). Either way the server keeps serving the other connections."""
        other = self.ready_wire()
        try:
            w = self.ready_wire()
            try:
                big = query("SELECT k FROM bad.intact WHERE k = 1 /* %s */" % ("x" * MAX_FRAME))
                self.assertGreater(len(big) + 9, MAX_FRAME)
                w.send(frame(QUERY, big, stream=77))
                self.assertError(w.recv(), PROTOCOL_ERROR, 77)
            finally:
                w.close()
            f = other.call(QUERY, query("SELECT v FROM bad.intact WHERE k = 5"), stream=9)
            self.assertEqual((f.opcode, f.stream), (RESULT, 9), f)
            self.assertIn(b"value-5", f.body)
        finally:
            other.close()
        # A request just under the limit is served.
        w = self.ready_wire()
        try:
            ok = query("SELECT v FROM bad.intact WHERE k = 6 /* %s */" % ("y" * (MAX_FRAME // 2)))
            f = w.call(QUERY, ok, stream=8)
            self.assertEqual((f.opcode, f.stream), (RESULT, 8), f)
            self.assertIn(b"value-6", f.body)
        finally:
            w.close()

    def test_huge_and_negative_lengths(self):
        for length in (0x7FFFFFFF, -1, -0x80000000, MAX_FRAME * 16):
            with self.subTest(length=length):
                w = self.ready_wire()
                try:
                    w.send(frame(QUERY, b"", stream=5, length=length) + b"\x00" * 64)
                    # No answer is required before the body would be complete; the
                    # server must neither die nor allocate the claimed size.
                    time.sleep(0.2)
                    self.store.assert_alive()
                finally:
                    w.close()
                self.assertLess(self.rss_bytes(), 512 << 20)

    def rss_bytes(self):
        with open("/proc/%d/status" % self.store.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def test_truncated_frames(self):
        cases = [
            frame(STARTUP, STARTUP_BODY)[:5],                    # half a header
            frame(STARTUP, STARTUP_BODY)[:12],                   # header, part of the body
            frame(QUERY, b"", stream=1, length=100) + b"x" * 10,  # body shorter than said
        ]
        for data in cases:
            with self.subTest(data=data):
                w = Wire(self.port)
                w.send(data)
                w.close()  # and go away mid-frame
        self.store.assert_alive()

    def test_frame_in_pieces(self):
        """A STARTUP, then a QUERY, sent one byte at a time, is still one request each."""
        w = Wire(self.port)
        try:
            for data, want in ((frame(STARTUP, STARTUP_BODY, stream=1), READY),
                               (frame(QUERY, query("SELECT v FROM bad.intact WHERE k = 7"),
                                      stream=2), RESULT)):
                for i in range(len(data)):
                    w.send(data[i:i + 1])
                f = w.recv()
                self.assertIsNotNone(f)
                self.assertEqual(f.opcode, want, f)
            self.assertIn(b"value-7", f.body)
        finally:
            w.close()

    def test_bodies_that_lie_about_their_contents(self):
        """The frame length is right but what is inside is not: Cassandra's CBUtil
        readers fail with a protocol error ("Not enough bytes to read ...")."""
        cases = [
            ("long string longer than the body",
             struct.pack(">i", 1000) + b"SELECT" + struct.pack(">HB", ONE, 0)),
            ("no consistency/flags", long_string("SELECT k FROM bad.intact")),
            ("flags but no consistency", long_string("SELECT k FROM bad.intact")[:-1]),
            ("values announced, none present",
             long_string("SELECT k FROM bad.intact WHERE k = ?") + struct.pack(">HBH", ONE,
                                                                                1, 5)),
            ("value longer than the body",
             long_string("SELECT k FROM bad.intact WHERE k = ?") + struct.pack(">HBHi", ONE,
                                                                                1, 1, 400)),
            ("negative string length", struct.pack(">i", -5) + struct.pack(">HB", ONE, 0)),
            ("page size flag, no page size",
             long_string("SELECT k FROM bad.intact") + struct.pack(">HB", ONE, 0x04)),
            ("invalid UTF-8", long_string(b"SELECT \xff\xfe FROM x") + struct.pack(">HB", ONE, 0)),
            ("empty body", b""),
        ]
        w = self.ready_wire()
        try:
            for i, (what, body) in enumerate(cases):
                with self.subTest(what):
                    f = w.call(QUERY, body, stream=100 + i)
                    if f is None:  # the server may close; continue on a new connection
                        w.close()
                        w = self.ready_wire()
                        self.fail("%s: connection closed without an ERROR" % what)
                    self.assertError(f, PROTOCOL_ERROR, 100 + i)
        finally:
            w.close()
        # STARTUP, PREPARE, EXECUTE, REGISTER, BATCH, OPTIONS with broken bodies.
        for opcode, body in ((PREPARE, struct.pack(">i", 99) + b"SELECT"),
                             (EXECUTE, struct.pack(">H", 40) + b"\x01\x02"),
                             (REGISTER, struct.pack(">H", 3) + struct.pack(">H", 50) + b"x"),
                             (BATCH, b"\x00\x00\x05"),
                             (AUTH_RESPONSE, b"\x00\x00\x00\x09ab")):
            with self.subTest(opcode=opcode):
                w = self.ready_wire()
                try:
                    f = w.call(opcode, body, stream=11)
                    self.assertError(f, PROTOCOL_ERROR, 11)
                finally:
                    w.close()

    # ---------- opcodes ----------

    def test_unknown_opcodes(self):
        for op in (0x04, 0x11, 0x20, 0x7F, 0xFF):
            for started in (False, True):
                with self.subTest(opcode=op, after_startup=started):
                    w = self.ready_wire() if started else Wire(self.port)
                    try:
                        f = w.call(op, b"", stream=21)
                        self.assertError(f, PROTOCOL_ERROR, 21)
                    finally:
                        w.close()

    def test_response_opcodes_as_requests(self):
        for op in (ERROR, READY, AUTHENTICATE, SUPPORTED, RESULT, EVENT, AUTH_CHALLENGE,
                   AUTH_SUCCESS):
            with self.subTest(opcode=op):
                w = self.ready_wire()
                try:
                    body = struct.pack(">i", 1) if op == RESULT else b""
                    f = w.call(op, body, stream=31)
                    self.assertError(f, PROTOCOL_ERROR, 31)
                finally:
                    w.close()
        # A request frame marked as a response (direction bit set).
        w = Wire(self.port)
        try:
            f = w.call(STARTUP, STARTUP_BODY, stream=32, version=0x84)
            self.assertError(f, PROTOCOL_ERROR, 32)
        finally:
            w.close()

    # ---------- the connection's state machine ----------

    def test_requests_before_startup(self):
        for op, body in ((QUERY, query("SELECT k FROM bad.intact")),
                         (PREPARE, long_string("SELECT k FROM bad.intact")),
                         (EXECUTE, execute(b"\x00" * 16, [])),
                         (BATCH, struct.pack(">BH", 0, 0) + struct.pack(">HB", ONE, 0)),
                         (REGISTER, struct.pack(">H", 1) + short_string("SCHEMA_CHANGE")),
                         (AUTH_RESPONSE, value(b"\x00cassandra\x00cassandra"))):
            with self.subTest(opcode=op):
                w = Wire(self.port)
                try:
                    f = w.call(op, body, stream=41)
                    self.assertError(f, PROTOCOL_ERROR, 41)
                finally:
                    w.close()
        # OPTIONS is allowed before STARTUP.
        w = Wire(self.port)
        try:
            f = w.call(OPTIONS, b"", stream=42)
            self.assertEqual((f.version, f.opcode, f.stream), (0x84, SUPPORTED, 42), f)
            n = struct.unpack_from(">H", f.body, 0)[0]
            off, got = 2, {}
            for _ in range(n):
                (kl,) = struct.unpack_from(">H", f.body, off)
                key = f.body[off + 2:off + 2 + kl].decode()
                off += 2 + kl
                (cnt,) = struct.unpack_from(">H", f.body, off)
                off += 2
                vals = []
                for _ in range(cnt):
                    (vl,) = struct.unpack_from(">H", f.body, off)
                    vals.append(f.body[off + 2:off + 2 + vl].decode())
                    off += 2 + vl
                got[key] = vals
            self.assertEqual(got.get("CQL_VERSION"), ["3.4.4"], got)
            self.assertIn("lz4", got.get("COMPRESSION", []), got)
            f = w.call(STARTUP, STARTUP_BODY, stream=43)
            self.assertEqual((f.opcode, f.stream), (READY, 43), f)
        finally:
            w.close()

    def test_bad_startups(self):
        for opts in ({}, {"COMPRESSION": "lz4"}, {"CQL_VERSION": "3.0.0", "COMPRESSION": "nosuch"},
                     {"CQL_VERSION": "2.0.0"}, {"CQL_VERSION": "garbage"}):
            with self.subTest(options=opts):
                w = Wire(self.port)
                try:
                    f = w.call(STARTUP, string_map(opts), stream=51)
                    self.assertError(f, PROTOCOL_ERROR, 51)
                finally:
                    w.close()
        w = self.ready_wire()
        try:
            f = w.call(STARTUP, STARTUP_BODY, stream=52)  # twice
            self.assertError(f, PROTOCOL_ERROR, 52)
        finally:
            w.close()

    # ---------- EXECUTE ----------

    def test_bad_executes(self):
        w = self.ready_wire()
        try:
            unknown = bytes(range(16))
            f = w.call(EXECUTE, execute(unknown, [struct.pack(">i", 1)]), stream=61)
            self.assertError(f, UNPREPARED, 61)
            _, _, extra = parse_error(f.body)
            self.assertEqual(extra, struct.pack(">H", 16) + unknown)

            qid = self.prepare(w, "SELECT v FROM bad.intact WHERE k = ?", stream=62)
            f = w.call(EXECUTE, execute(qid, [struct.pack(">i", 8)]), stream=63)
            self.assertEqual((f.opcode, f.stream), (RESULT, 63), f)
            self.assertIn(b"value-8", f.body)
            # A double (8 bytes) bound to the int marker.
            f = w.call(EXECUTE, execute(qid, [struct.pack(">d", 8.0)]), stream=64)
            self.assertError(f, INVALID, 64)
            # Too few and too many values.
            f = w.call(EXECUTE, execute(qid, []), stream=65)
            self.assertError(f, INVALID, 65)
            f = w.call(EXECUTE, execute(qid, [struct.pack(">i", 1)] * 2), stream=66)
            self.assertError(f, INVALID, 66)
            # The same through QUERY with values.
            f = w.call(QUERY, query("SELECT v FROM bad.intact WHERE k = ?",
                                    [struct.pack(">h", 1)]), stream=67)
            self.assertError(f, INVALID, 67)
            qid2 = self.prepare(w, "INSERT INTO bad.intact (k, v) VALUES (?, ?)", stream=68)
            f = w.call(EXECUTE, execute(qid2, [struct.pack(">i", 1), b"\xff\xfe"]), stream=69)
            self.assertError(f, INVALID, 69)  # invalid UTF-8 for text
            f = w.call(EXECUTE, execute(qid2, [None, b"x"]), stream=70)
            self.assertError(f, INVALID, 70)  # null partition key
            # The connection is still fine after all that.
            f = w.call(EXECUTE, execute(qid, [struct.pack(">i", 9)]), stream=71)
            self.assertEqual((f.opcode, f.stream), (RESULT, 71), f)
            self.assertIn(b"value-9", f.body)
        finally:
            w.close()

    def test_query_flags_the_driver_does_not_use(self):
        """Named values (0x40) and skip metadata (0x02) on QUERY, as the spec defines."""
        w = self.ready_wire()
        try:
            for i, (cql, name) in enumerate((("SELECT v FROM bad.intact WHERE k = :key", "key"),
                                             ("SELECT v FROM bad.intact WHERE k = ?", "k"))):
                body = (long_string(cql) + struct.pack(">HBH", ONE, 0x01 | 0x40, 1)
                        + short_string(name) + value(struct.pack(">i", 11 + i)))
                f = w.call(QUERY, body, stream=81 + i)
                self.assertEqual((f.opcode, f.stream), (RESULT, 81 + i), f)
                self.assertIn(b"value-%d" % (11 + i), f.body)
            f = w.call(QUERY, query("SELECT v FROM bad.intact WHERE k = 13", flags=0x02),
                       stream=83)
            self.assertEqual((f.opcode, f.stream), (RESULT, 83), f)
            kind, flags, ncols = struct.unpack_from(">iii", f.body, 0)
            self.assertEqual((kind, ncols), (0x0002, 1))
            self.assertTrue(flags & 0x0004, "no NO_METADATA flag: %#x" % flags)
            self.assertEqual(f.body[12:], struct.pack(">i", 1) + value(b"value-13"))
        finally:
            w.close()

    def test_forged_paging_states(self):
        """A paging state is opaque to the client; forged or cut ones get an ERROR that is
        not a server error (Cassandra: 0x000A "Invalid value for the paging state") or,
        where they happen to decode, an ordinary page; never a crash."""
        w = self.ready_wire()
        try:
            def page(state, stream):
                body = long_string("SELECT k FROM bad.intact") + struct.pack(">HB", ONE,
                                                                             0x04 | 0x08)
                body += struct.pack(">i", 10) + value(state)
                return w.call(QUERY, body, stream=stream)
            first = w.call(QUERY, long_string("SELECT k FROM bad.intact")
                           + struct.pack(">HBi", ONE, 0x04, 10), stream=90)
            self.assertEqual(first.opcode, RESULT, first)
            kind, flags, ncols = struct.unpack_from(">iii", first.body, 0)
            self.assertTrue(flags & 0x0002, "no HAS_MORE_PAGES with 300 rows and pages of 10")
            (n,) = struct.unpack_from(">i", first.body, 12)
            state = first.body[16:16 + n]
            f = page(state, 91)
            self.assertEqual(f.opcode, RESULT, f)  # the genuine state works
            rng = random.Random(7)
            forged = [state[:len(state) // 2], state[:1], state + b"\x00" * 7, b"",
                      bytes(rng.randrange(256) for _ in range(len(state))),
                      b"\xff" * 64, b"\x7f\xff\xff\xff" * 4]
            for i, bad in enumerate(forged):
                with self.subTest(state=bad):
                    f = page(bad, 100 + i)
                    self.assertIsNotNone(f, "connection closed")
                    self.assertEqual(f.stream, 100 + i)
                    self.assertIn(f.opcode, (RESULT, ERROR), f)
                    if f.opcode == ERROR:
                        self.assertNotEqual(parse_error(f.body)[0], 0x0000, f)
        finally:
            w.close()

    # ---------- streams, compression, garbage ----------

    def test_pipelined_requests_are_matched_by_stream(self):
        w = self.ready_wire()
        try:
            data = b"".join(frame(QUERY, query("SELECT v FROM bad.intact WHERE k = %d" % k),
                                  stream=1000 + k) for k in range(100))
            data += b"".join(frame(OPTIONS, b"", stream=2000 + i) for i in range(50))
            w.send(data)
            seen = set()
            for _ in range(150):
                f = w.recv()
                self.assertIsNotNone(f)
                self.assertNotIn(f.stream, seen)
                seen.add(f.stream)
                if f.stream >= 2000:
                    self.assertEqual(f.opcode, SUPPORTED, f)
                else:
                    self.assertEqual(f.opcode, RESULT, f)
                    self.assertIn(b"value-%d" % (f.stream - 1000), f.body)
            self.assertEqual(seen, set(range(1000, 1100)) | set(range(2000, 2050)))
        finally:
            w.close()

    def test_lz4(self):
        w = Wire(self.port)
        try:
            f = w.call(STARTUP, string_map({"CQL_VERSION": "3.0.0", "COMPRESSION": "lz4"}))
            self.assertEqual(f.opcode, READY, f)
            body = query("SELECT k, v FROM bad.intact")
            f = w.call(QUERY, lz4_body(body), stream=3, flags=0x01)
            self.assertEqual((f.opcode, f.stream), (RESULT, 3), f)
            raw = lz4_unbody(f.body) if f.flags & 0x01 else f.body
            self.assertEqual(struct.unpack_from(">i", raw, 0)[0], 0x0002)  # Rows
            for k in range(ROWS):
                self.assertIn(b"value-%d" % k, raw)
            # An uncompressed frame body on a compressed connection is allowed too.
            f = w.call(QUERY, query("SELECT v FROM bad.intact WHERE k = 3"), stream=4)
            self.assertEqual((f.opcode, f.stream), (RESULT, 4), f)
            # Corrupt compressed bodies: an error or a closed connection, never a crash.
            for i, bad in enumerate((struct.pack(">i", 1 << 30) + b"\x10abc",
                                     struct.pack(">i", 100) + b"\xff" * 40,
                                     b"\x00\x00")):
                f = w.call(QUERY, bad, stream=10 + i, flags=0x01)
                if f is None:
                    break
                self.assertEqual((f.opcode, f.stream), (ERROR, 10 + i), f)
        finally:
            w.close()

    def test_garbage(self):
        rng = random.Random(20240229)
        for i in range(8):
            data = bytes(rng.randrange(256) for _ in range(rng.choice((3, 9, 200, 5000))))
            for started in (False, True):
                w = self.ready_wire() if started else Wire(self.port)
                try:
                    w.send(data)
                    # Whatever the server answers, it must end or keep the connection
                    # without dying; give it a moment to choke if it would.
                    w.closed_by_server(timeout=0.3)
                finally:
                    w.close()
        self.store.assert_alive()
        # Frames with a valid v4 header and random opcode/body.
        for i in range(30):
            op = rng.choice((STARTUP, OPTIONS, QUERY, PREPARE, EXECUTE, REGISTER, BATCH,
                             AUTH_RESPONSE))
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
            w = self.ready_wire()
            try:
                f = w.call(op, body, stream=7)
                if f is not None:
                    self.assertEqual(f.stream, 7, f)
            finally:
                w.close()

    def test_many_connections(self):
        conns = [Wire(self.port) for _ in range(100)]
        try:
            for i, w in enumerate(conns):
                w.send(frame(STARTUP, STARTUP_BODY, stream=i))
            for i, w in enumerate(conns):
                f = w.recv()
                self.assertEqual((f.opcode, f.stream), (READY, i), f)
        finally:
            for w in conns:
                w.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
