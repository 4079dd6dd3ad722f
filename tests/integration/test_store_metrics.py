"""The store's Prometheus endpoint (store.metrics_listen, here 127.0.0.1:0; the log names
the URL): text exposition format, brook_store_* series, read and write counters that move
by at least the number of queries the DataStax Python driver ran.
"""
import os
import re
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

brooktest.quiet_driver_logs()
T = brooktest.DRIVER_TIMEOUT
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)( -?\d+)?$')


def scrape(url):
    with urllib.request.urlopen(url, timeout=T) as r:
        status, ctype, text = r.status, r.headers.get("Content-Type", ""), r.read().decode()
    return status, ctype, text


def samples(text):
    """{(name, labels): value} of every sample line; fails on a malformed line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        v = m.group(3)
        out[(m.group(1), m.group(2) or "")] = float(v.replace("+Inf", "inf")
                                                     .replace("-Inf", "-inf"))
    return out


class Metrics(unittest.TestCase):
    def test_counters_move(self):
        with brooktest.StoreUnderTest() as store:
            url = store.metrics_url()
            status, ctype, text = scrape(url)
            self.assertEqual(status, 200)
            self.assertTrue(ctype.startswith("text/plain"), ctype)
            before = samples(text)
            own = [k for k in before if k[0].startswith("brook_store_")]
            self.assertTrue(own, "no brook_store_ series:\n" + text[:2000])
            for line in text.splitlines():
                if line.startswith("# TYPE "):
                    self.assertRegex(line, r"^# TYPE \S+ (counter|gauge|histogram|summary|"
                                           r"untyped)$")

            c, s = store.connect()
            try:
                s.execute("CREATE KEYSPACE m WITH replication = "
                          "{'class': 'SimpleStrategy', 'replication_factor': 1}", timeout=T)
                s.execute("CREATE TABLE m.t (k int PRIMARY KEY, v text)", timeout=T)
                ins = s.prepare("INSERT INTO m.t (k, v) VALUES (?, ?)")
                sel = s.prepare("SELECT v FROM m.t WHERE k = ?")
                for k in range(25):
                    s.execute(ins, (k, "v%d" % k), timeout=T)
                for k in range(25):
                    self.assertEqual(s.execute(sel, (k,), timeout=T).one().v, "v%d" % k)
            finally:
                c.shutdown()

            _, _, text2 = scrape(url)
            after = samples(text2)

            def moved(word):
                out = {}
                for key, v in after.items():
                    name = key[0]
                    if not name.startswith("brook_store_") or word not in name:
                        continue
                    if name.endswith(("_bucket", "_sum")):
                        continue
                    out[key] = v - before.get(key, 0.0)
                return out

            writes, reads = moved("writ"), moved("read")  # write, written
            names = sorted({k[0] for k in after if not k[0].endswith(("_bucket", "_sum"))})
            self.assertTrue(writes, "no brook_store_*writ* series among %s" % names)
            self.assertTrue(reads, "no brook_store_*read* series among %s" % names)
            self.assertGreaterEqual(max(writes.values()), 25, writes)
            self.assertGreaterEqual(max(reads.values()), 25, reads)
            for key, delta in list(writes.items()) + list(reads.items()):
                if key[0].endswith("_total"):
                    self.assertGreaterEqual(delta, 0, "counter %s went down" % (key,))

            # Anything but GET /metrics is not served as metrics.
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(url.replace("/metrics", "/nosuch"), timeout=T)
            self.assertEqual(cm.exception.code, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
