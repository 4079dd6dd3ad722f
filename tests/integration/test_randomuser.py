#!/usr/bin/python3
"""Integration test for `brook randomuser`: the real binary on 127.0.0.1, port 0,
driven with urllib. Checks the response shape and types per nationality, determinism,
hashes, filters, formats, the documented error answers, /healthz, /metrics, and that
SIGTERM stops the server with exit status 0."""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import unittest
import urllib.error
import urllib.request

BROOK = os.environ.get("BROOK_BIN", "brook")
NATS = "AU BR CA CH DE DK ES FI FR GB IE IN IR MX NL NO NZ RS TR UA US".split()
STRING_POSTCODE = {"CA", "GB", "IE", "NL"}
NULL_ID = {"IR", "NZ", "TR", "UA"}
PHONE = {
    "AU": (r"^0\d-\d{4}-\d{4}$", r"^04\d\d-\d{3}-\d{3}$"),
    "BR": (r"^\(\d\d\) \d{4}-\d{4}$", r"^\(\d\d\) 9\d{4}-\d{4}$"),
    "CA": (r"^\d{3}-\d{3}-\d{4}$", r"^\d{3}-\d{3}-\d{4}$"),
    "CH": (r"^0\d\d \d{3} \d\d \d\d$", r"^07\d \d{3} \d\d \d\d$"),
    "DE": (r"^0\d{3}-\d{7}$", r"^017\d-\d{7}$"),
    "DK": (r"^\d{8}$", r"^\d{8}$"),
    "ES": (r"^9\d\d-\d{3}-\d{3}$", r"^6\d\d-\d{3}-\d{3}$"),
    "FI": (r"^0\d-\d{3}-\d{3}$", r"^04\d-\d{3}-\d\d-\d\d$"),
    "FR": (r"^0\d(-\d\d){4}$", r"^06(-\d\d){4}$"),
    "GB": (r"^0\d{4} \d{6}$", r"^07\d{3} \d{6}$"),
    "IE": (r"^0\d\d-\d{3}-\d{4}$", r"^08\d-\d{3}-\d{4}$"),
    "IN": (r"^\d{10}$", r"^9\d{9}$"),
    "IR": (r"^0\d\d-\d{4}-\d{4}$", r"^09\d\d-\d{3}-\d{4}$"),
    "MX": (r"^\(6\d\d\) \d{3} \d{4}$", r"^\(6\d\d\) \d{3} \d{4}$"),
    "NL": (r"^\(0\d{3}\) \d{6}$", r"^\(06\) \d{8}$"),
    "NO": (r"^\d{8}$", r"^4\d{7}$"),
    "NZ": (r"^\(\d{3}\)-\d{3}-\d{4}$", r"^\(02\d\)-\d{3}-\d{4}$"),
    "RS": (r"^0\d\d-\d{4}-\d{3}$", r"^06\d-\d{4}-\d{3}$"),
    "TR": (r"^\(\d{3}\)-\d{3}-\d{4}$", r"^\(5\d\d\)-\d{3}-\d{4}$"),
    "UA": (r"^\(0\d\d\) \d{3}-\d\d-\d\d$", r"^\(09\d\) \d{3}-\d\d-\d\d$"),
    "US": (r"^\(\d{3}\) \d{3}-\d{4}$", r"^\(\d{3}\) \d{3}-\d{4}$"),
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
COORD = re.compile(r"^-?\d{1,3}\.\d{4}$")
OFFSET = re.compile(r"^([+-]\d{1,2}:\d\d|0:00)$")


class Server:
    def __init__(self):
        self.proc = subprocess.Popen([BROOK, "randomuser", "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = []
        port = None
        for line in self.proc.stderr:
            self.lines.append(line)
            m = re.search(r"ready.*http://127\.0\.0\.1:(\d+)/api/", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            raise RuntimeError("server did not report ready: %r" % self.lines)
        self.base = "http://127.0.0.1:%d" % port
        # keep draining stderr so the server never blocks on a full pipe
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def get(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def json(self, path):
        status, ctype, body = self.get(path)
        if status != 200:
            raise AssertionError("%s -> %d %r" % (path, status, body[:200]))
        return json.loads(body)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.drain.join(timeout=5)
        self.proc.stderr.close()
        return rc


class RandomuserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        if cls.srv.proc.poll() is None:
            cls.srv.stop()

    def check_user(self, u, nat):
        self.assertEqual(list(u.keys()),
                         ["gender", "name", "location", "email", "login", "dob",
                          "registered", "phone", "cell", "id", "picture", "nat"])
        self.assertEqual(u["nat"], nat)
        self.assertIn(u["gender"], ("male", "female"))
        self.assertEqual(list(u["name"].keys()), ["title", "first", "last"])
        loc = u["location"]
        self.assertEqual(list(loc.keys()), ["street", "city", "state", "country", "postcode",
                                            "coordinates", "timezone"])
        self.assertIsInstance(loc["street"]["number"], int)
        self.assertIsInstance(loc["street"]["name"], str)
        if nat in STRING_POSTCODE:
            self.assertIsInstance(loc["postcode"], str)
        else:
            self.assertIsInstance(loc["postcode"], int)
        self.assertRegex(loc["coordinates"]["latitude"], COORD)
        self.assertRegex(loc["coordinates"]["longitude"], COORD)
        self.assertLessEqual(abs(float(loc["coordinates"]["latitude"])), 90)
        self.assertRegex(loc["timezone"]["offset"], OFFSET)
        self.assertTrue(loc["timezone"]["description"])
        self.assertRegex(u["email"], r"^[a-z0-9]+\.[a-z0-9]+@example\.com$")
        lg = u["login"]
        self.assertRegex(lg["uuid"], UUID4)
        self.assertRegex(lg["username"], r"^[a-z]+\d{3}$")
        self.assertEqual(len(lg["salt"]), 8)
        ps = (lg["password"] + lg["salt"]).encode()
        self.assertEqual(lg["md5"], hashlib.md5(ps).hexdigest())
        self.assertEqual(lg["sha1"], hashlib.sha1(ps).hexdigest())
        self.assertEqual(lg["sha256"], hashlib.sha256(ps).hexdigest())
        for k in ("dob", "registered"):
            self.assertRegex(u[k]["date"], ISO)
            self.assertIsInstance(u[k]["age"], int)
        self.assertLessEqual(u["dob"]["date"], u["registered"]["date"])
        self.assertRegex(u["phone"], PHONE[nat][0])
        self.assertRegex(u["cell"], PHONE[nat][1])
        if nat in NULL_ID:
            self.assertEqual(u["id"], {"name": "", "value": None})
        else:
            self.assertTrue(u["id"]["name"])
            self.assertIsInstance(u["id"]["value"], str)
        kind = "women" if u["gender"] == "female" else "men"
        self.assertRegex(u["picture"]["large"],
                         r"^https://randomuser\.me/api/portraits/%s/\d+\.jpg$" % kind)
        self.assertRegex(u["picture"]["medium"],
                         r"^https://randomuser\.me/api/portraits/med/%s/\d+\.jpg$" % kind)
        self.assertRegex(u["picture"]["thumbnail"],
                         r"^https://randomuser\.me/api/portraits/thumb/%s/\d+\.jpg$" % kind)

    def test_every_nat(self):
        for nat in NATS:
            d = self.srv.json("/api/?results=30&seed=it%s&nat=%s" % (nat, nat.lower()))
            self.assertEqual(len(d["results"]), 30)
            for u in d["results"]:
                self.check_user(u, nat)

    def test_paths_and_info(self):
        for path in ("/api/", "/api", "/api/1.4/"):
            d = self.srv.json(path + "?seed=paths&results=2&page=3")
            self.assertEqual(d["info"], {"seed": "paths", "results": 2, "page": 3,
                                         "version": "1.4"})
        d = self.srv.json("/api/")
        self.assertEqual(len(d["results"]), 1)
        self.assertRegex(d["info"]["seed"], r"^[0-9a-f]{16}$")
        self.assertEqual(d["info"]["page"], 1)
        d = self.srv.json("/api/?results=2&noinfo=1")
        self.assertNotIn("info", d)
        d = self.srv.json("/api/?results=2&noinfo")  # bare, as the real API documents it
        self.assertNotIn("info", d)
        self.assertEqual(len(d["results"]), 2)

    def test_determinism(self):
        q = "/api/?seed=det&results=100&page=2"
        a = self.srv.get(q)[2]
        self.assertEqual(a, self.srv.get(q)[2])
        self.assertNotEqual(a, self.srv.get("/api/?seed=det2&results=100&page=2")[2])
        self.assertNotEqual(a, self.srv.get("/api/?seed=det&results=100&page=3")[2])
        emails_p2 = {u["login"]["uuid"] for u in json.loads(a)["results"]}
        p3 = self.srv.json("/api/?seed=det&results=100&page=3")["results"]
        self.assertFalse(emails_p2 & {u["login"]["uuid"] for u in p3})

    def test_5000(self):
        d = self.srv.json("/api/?results=5000&seed=big")
        self.assertEqual(len(d["results"]), 5000)
        self.assertEqual(d["info"]["results"], 5000)
        self.assertEqual(len({u["login"]["uuid"] for u in d["results"]}), 5000)
        # above the cap: capped, like the real service
        d = self.srv.json("/api/?results=5001&seed=big&inc=nat")
        self.assertEqual(len(d["results"]), 5000)

    def test_filters(self):
        d = self.srv.json("/api/?results=200&seed=g&gender=male&nat=Gb,fr,zz")
        self.assertEqual({u["gender"] for u in d["results"]}, {"male"})
        self.assertEqual({u["nat"] for u in d["results"]}, {"GB", "FR"})
        d = self.srv.json("/api/?results=500&seed=g&nat=zz")
        self.assertEqual({u["nat"] for u in d["results"]}, set(NATS))

    def test_inc_exc(self):
        d = self.srv.json("/api/?results=3&seed=ie&inc=gender,name,nat")
        for u in d["results"]:
            self.assertEqual(list(u.keys()), ["gender", "name", "nat"])
        full = self.srv.json("/api/?results=3&seed=ie")["results"]
        self.assertEqual([u["name"] for u in d["results"]], [u["name"] for u in full])
        d = self.srv.json("/api/?results=3&seed=ie&exc=login,id,picture")
        for u in d["results"]:
            self.assertNotIn("login", u)
            self.assertEqual(len(u), 9)

    def test_formats(self):
        a = self.srv.json("/api/?results=3&seed=fmt")
        st, ctype, body = self.srv.get("/api/?results=3&seed=fmt&format=pretty")
        self.assertEqual(st, 200)
        self.assertIn(b"\n  ", body)
        self.assertEqual(json.loads(body), a)
        st, ctype, body = self.srv.get("/api/?results=3&seed=fmt&format=csv")
        self.assertEqual(st, 200)
        self.assertTrue(ctype.startswith("text/csv"))
        lines = body.decode().strip().split("\n")
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith("gender,name.title,name.first"))

    def test_errors(self):
        for q, want in (("results=abc", 400), ("results=0", 400), ("results=-2", 400),
                        ("page=-1", 400), ("page=0", 400), ("page=abc", 400),
                        ("format=xml", 400), ("seed=" + "s" * 65, 400)):
            st, ctype, body = self.srv.get("/api/?" + q)
            self.assertEqual(st, want, q)
            self.assertIn("application/json", ctype)
            self.assertIn("error", json.loads(body), q)
        st, _, body = self.srv.get("/nope")
        self.assertEqual(st, 404)
        self.assertIn("error", json.loads(body))
        st, _, body = self.srv.get("/api/2.0/")
        self.assertEqual(st, 404)
        # still serving after bad requests
        self.assertEqual(len(self.srv.json("/api/?results=2")["results"]), 2)

    def test_healthz_metrics(self):
        st, _, body = self.srv.get("/healthz")
        self.assertEqual((st, body.strip()), (200, b"ok"))
        self.srv.json("/api/?results=7")
        self.srv.get("/api/?results=x")
        st, ctype, body = self.srv.get("/metrics")
        self.assertEqual(st, 200)
        text = body.decode()
        m = re.search(r'^brook_randomuser_requests_total\{status="200"\} (\d+)', text, re.M)
        self.assertTrue(m and int(m.group(1)) >= 1)
        m = re.search(r'^brook_randomuser_requests_total\{status="400"\} (\d+)', text, re.M)
        self.assertTrue(m and int(m.group(1)) >= 1)
        m = re.search(r"^brook_randomuser_users_total (\d+)", text, re.M)
        self.assertTrue(m and int(m.group(1)) >= 7)
        self.assertIn("brook_randomuser_request_duration_seconds_bucket", text)

    def test_zz_sigterm(self):
        # runs last (alphabetical): a separate server so the shared one stays up
        s = Server()
        self.assertEqual(len(s.json("/api/?results=1")["results"]), 1)
        self.assertEqual(s.stop(), 0)
        self.assertTrue(any("stopped" in line for line in s.lines))


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if r.wasSuccessful() else 1)
