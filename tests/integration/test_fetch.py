"""test_fetch.py — `brook fetch` against a scripted fake API and the real `brook randomuser`.

The fake API is a Python http.server on 127.0.0.1 (ephemeral port) that answers each
request with the next step of a per-test script (the last step repeats), and records
the request paths, so tests can assert on what brook asked and how often it retried.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BROOK = os.environ.get("BROOK_BIN", "brook")


def make_user(i, password=None, salt=None):
    """A valid randomuser.me 1.4 user; hashes are the real digests of password+salt."""
    password = password or "secret%d" % i
    salt = salt or "s%07d" % i
    ps = (password + salt).encode()
    return {
        "gender": "female" if i % 2 else "male",
        "name": {"title": "Ms", "first": "First%d" % i, "last": "Last"},
        "location": {
            "street": {"number": 100 + i, "name": "Pine Street"},
            "city": "Bergen", "state": "Vestland", "country": "Norway",
            "postcode": 5000 + i if i % 2 else "50%02d" % i,
            "coordinates": {"latitude": "60.39", "longitude": "-5.32"},
            "timezone": {"offset": "-3:30", "description": "Newfoundland"},
        },
        "email": "user%d@example.com" % i,
        "login": {
            "uuid": "7c9e6679-7425-40de-944b-e07fc1f9%04d" % i,
            "username": "user%d" % i, "password": password, "salt": salt,
            "md5": hashlib.md5(ps).hexdigest(),
            "sha1": hashlib.sha1(ps).hexdigest(),
            "sha256": hashlib.sha256(ps).hexdigest(),
        },
        "dob": {"date": "1990-05-17T08:15:00.000Z", "age": 36},
        "registered": {"date": "2015-01-02T03:04:05.678Z", "age": 11},
        "phone": "55-12-34", "cell": "99-88-77",
        "id": {"name": "FN", "value": None if i % 3 == 0 else "170590 12345"},
        "picture": {
            "large": "https://randomuser.me/api/portraits/women/%d.jpg" % i,
            "medium": "https://randomuser.me/api/portraits/med/women/%d.jpg" % i,
            "thumbnail": "https://randomuser.me/api/portraits/thumb/women/%d.jpg" % i,
        },
        "nat": "NO",
    }


def body_of(users, seed="testseed", page=1):
    return json.dumps({"results": users,
                       "info": {"seed": seed, "results": len(users), "page": page,
                                "version": "1.4"}}).encode()


def ok(n=3):
    return {"status": 200, "body": body_of([make_user(i) for i in range(1, n + 1)])}


class FakeAPI:
    """Scripted server: each request consumes one step {status, body, headers, sleep}."""

    def __init__(self, script):
        self.script = list(script)
        self.paths = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with api.lock:
                    api.paths.append(self.path)
                    step = api.script[0] if len(api.script) == 1 else api.script.pop(0)
                if step.get("sleep"):
                    time.sleep(step["sleep"])
                body = step.get("body", b"")
                try:
                    self.send_response(step["status"])
                    self.send_header("Content-Type", step.get("ctype", "application/json"))
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in step.get("headers", {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/api/" % self.port

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_fetch(url, *args, retries=None, timeout="1s"):
    cmd = [BROOK, "fetch", "--url", url, "--set", "source.backoff_initial=50ms",
           "--set", "source.backoff_max=200ms", "--set", "source.timeout=" + timeout]
    if retries is not None:
        cmd += ["--set", "source.retries=%d" % retries]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class FetchAgainstFakeAPI(unittest.TestCase):
    def start(self, *script):
        api = FakeAPI(script)
        self.addCleanup(api.close)
        return api

    def assert_users(self, stdout, ids):
        lines = stdout.splitlines()
        self.assertEqual(len(lines), len(ids), stdout)
        for line, i in zip(lines, ids):
            rec = json.loads(line)
            self.assertEqual(rec["login"]["username"], "user%d" % i)
            self.assertEqual(rec, make_user(i))  # nothing lost or changed
            # Compact, original key order: byte-identical to Python's compact form.
            self.assertEqual(line, json.dumps(make_user(i), separators=(",", ":")))

    def test_ok_and_query(self):
        api = self.start(ok(3))
        r = run_fetch(api.url, "--results", "3", "--seed", "a b", "--page", "4",
                      "--nat", "us,gb")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_users(r.stdout, [1, 2, 3])
        self.assertEqual(len(api.paths), 1)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(api.paths[0]).query)
        self.assertEqual(q, {"results": ["3"], "seed": ["a b"], "page": ["4"],
                             "nat": ["us,gb"]})
        self.assertIn("fetched 3 users (0 rejected)", r.stderr)

    def test_500_twice_then_ok(self):
        err = {"status": 500, "body": b'{"error":"database on fire"}'}
        api = self.start(err, err, ok(2))
        r = run_fetch(api.url, "--results", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_users(r.stdout, [1, 2])
        self.assertEqual(len(api.paths), 3)
        self.assertIn("retry 1/5", r.stderr)
        self.assertIn("retry 2/5", r.stderr)
        self.assertIn("HTTP 500", r.stderr)

    def test_429_retry_after(self):
        api = self.start({"status": 429, "body": b'{"error":"slow down"}',
                          "headers": {"Retry-After": "1"}}, ok(1))
        r = run_fetch(api.url, "--results", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_users(r.stdout, [1])
        self.assertEqual(len(api.paths), 2)
        self.assertIn("HTTP 429", r.stderr)
        self.assertIn("in 1000 ms", r.stderr)  # the server's Retry-After, not the backoff

    def test_garbage_then_ok(self):
        api = self.start({"status": 200, "body": b"<html>proxy error</html>",
                          "ctype": "text/html"}, ok(2))
        r = run_fetch(api.url, "--results", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_users(r.stdout, [1, 2])
        self.assertEqual(len(api.paths), 2)
        self.assertIn("invalid body", r.stderr)

    def test_garbage_forever_gives_up(self):
        api = self.start({"status": 200, "body": b"not json"})
        r = run_fetch(api.url, "--results", "2", retries=10)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(api.paths), 4)  # 1 + SOURCE_GARBAGE_RETRIES
        self.assertIn("not JSON", r.stderr)

    def test_slow_then_ok(self):
        api = self.start(dict(ok(2), sleep=3), ok(2))
        r = run_fetch(api.url, "--results", "2", timeout="1s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_users(r.stdout, [1, 2])
        self.assertEqual(len(api.paths), 2)
        self.assertIn("timed out", r.stderr)

    def test_always_500_gives_up(self):
        api = self.start({"status": 503, "body": b'{"error":"maintenance"}'})
        r = run_fetch(api.url, "--results", "2", retries=2)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(api.paths), 3)
        self.assertIn("giving up after 3 attempts", r.stderr)
        self.assertIn("HTTP 503", r.stderr)
        self.assertIn("maintenance", r.stderr)

    def test_invalid_record_rejected(self):
        users = [make_user(1), make_user(2), make_user(3)]
        users[1]["login"]["md5"] = "0" * 32
        api = self.start({"status": 200, "body": body_of(users)})
        r = run_fetch(api.url, "--results", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_users(r.stdout, [1, 3])
        self.assertIn("fetched 2 users (1 rejected)", r.stderr)
        self.assertIn("results[1]: login.md5: does not match md5(password + salt)", r.stderr)

    def test_400_not_retried(self):
        api = self.start({"status": 400,
                          "body": b'{"error":"You may only request up to 5000 results"}'})
        r = run_fetch(api.url, "--results", "5000")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(api.paths), 1)
        self.assertIn("You may only request up to 5000 results", r.stderr)
        self.assertIn("HTTP 400", r.stderr)

    def test_usage_errors(self):
        r = run_fetch("http://127.0.0.1:1/api/", "--results", "0")
        self.assertEqual(r.returncode, 2)
        r = run_fetch("ftp://example/", "--results", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an http(s) URL", r.stderr)


def start_randomuser(testcase):
    """Start `brook randomuser` on an ephemeral port; returns its base URL."""
    p = subprocess.Popen([BROOK, "randomuser", "--listen", "127.0.0.1:0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        p.stderr.close()
    testcase.addCleanup(stop)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if "not implemented" in line:
            testcase.skipTest("brook randomuser is not implemented in this build")
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if "ready" in line and m:
            # Keep draining stderr so the server never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return "http://127.0.0.1:%s" % m.group(1)
    testcase.fail("brook randomuser exited without a ready line: %s" % "".join(seen))


class FetchAgainstBrookRandomuser(unittest.TestCase):
    def test_seeded_fetch_is_valid_and_repeatable(self):
        base = start_randomuser(self)
        url = base + "/api/"
        r1 = run_fetch(url, "--results", "50", "--seed", "brook-it", timeout="30s")
        self.assertEqual(r1.returncode, 0, r1.stderr)
        lines = r1.stdout.splitlines()
        self.assertEqual(len(lines), 50)
        uuids = {json.loads(l)["login"]["uuid"] for l in lines}
        self.assertEqual(len(uuids), 50)
        self.assertIn("(0 rejected)", r1.stderr)
        r2 = run_fetch(url, "--results", "50", "--seed", "brook-it", timeout="30s")
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(r1.stdout, r2.stdout)
        r3 = run_fetch(url, "--results", "50", "--seed", "other", timeout="30s")
        self.assertEqual(r3.returncode, 0, r3.stderr)
        self.assertNotEqual(r1.stdout, r3.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
