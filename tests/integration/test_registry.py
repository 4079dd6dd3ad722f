"""brook registry over HTTP with its state in brook's broker: register, read, lookup and
check compatibility the way Confluent clients do (urllib, Confluent's content type);
a restart (SIGTERM and SIGKILL) keeps everything; two registry processes on one broker
agree on every id, also when they register at the same time."""
import json
import os
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
import kafkatest  # noqa: E402

try:  # Debian python3-confluent-kafka (+ python3-requests): Confluent's own client
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.error import SchemaRegistryError
except ImportError:
    SchemaRegistryClient = None

CT = "application/vnd.schemaregistry.v1+json"


def user_schema(*extra):
    fields = [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}]
    fields += list(extra)
    return json.dumps({"type": "record", "name": "User", "namespace": "brook",
                       "fields": fields})


class Registry(brooktest.ServerUnderTest):
    def __init__(self, bootstrap, name="registry"):
        super().__init__("registry", extra_args=["--bootstrap", bootstrap], name=name)

    def call(self, method, path, body=None, ctype=CT):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://%s%s" % (self.address, path), data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", ctype)
        req.add_header("Accept", CT)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null"), r.headers["Content-Type"]
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), e.headers["Content-Type"]

    def ok(self, method, path, body=None):
        status, answer, ctype = self.call(method, path, body)
        if status != 200:
            raise AssertionError("%s %s: %d %s" % (method, path, status, answer))
        assert ctype == CT, ctype
        return answer

    def eventually(self, method, path, want, timeout=20):
        """Another registry's write shows here once this one's reader applied it."""
        deadline = time.monotonic() + timeout
        while True:
            status, answer, _ = self.call(method, path)
            if status == 200 and want(answer):
                return answer
            if time.monotonic() > deadline:
                raise AssertionError("%s %s on %s: still %d %s" % (method, path, self.name,
                                                                   status, answer))
            time.sleep(0.05)

    def register(self, subject, schema):
        return self.ok("POST", "/subjects/%s/versions" % subject, {"schema": schema})["id"]


class TestRegistry(unittest.TestCase):
    def test_endpoints_restart_and_two_registries(self):
        with kafkatest.BrokerUnderTest() as b, Registry(b.bootstrap) as r:
            self.assertEqual(r.ok("GET", "/"), {})
            self.assertEqual(r.ok("GET", "/schemas/types"), ["AVRO"])
            v1 = user_schema()
            v2 = user_schema({"name": "email", "type": ["null", "string"], "default": None})
            bad = user_schema({"name": "age", "type": "int"})
            self.assertEqual(r.register("users-value", v1), 1)
            self.assertEqual(r.register("users-value", v1), 1)  # idempotent
            self.assertEqual(r.register("mirror-value", v1), 1)  # one id per schema
            self.assertEqual(r.register("users-value", v2), 2)
            self.assertEqual(r.ok("GET", "/subjects"), ["mirror-value", "users-value"])
            self.assertEqual(r.ok("GET", "/subjects/users-value/versions"), [1, 2])
            latest = r.ok("GET", "/subjects/users-value/versions/latest")
            self.assertEqual((latest["subject"], latest["version"], latest["id"]),
                             ("users-value", 2, 2))
            self.assertEqual(json.loads(latest["schema"])["fields"][2]["name"], "email")
            self.assertEqual(r.ok("GET", "/schemas/ids/1/subjects"),
                             ["mirror-value", "users-value"])
            self.assertEqual(r.ok("POST", "/subjects/users-value", {"schema": v2})["version"], 2)
            self.assertEqual(r.ok("POST", "/compatibility/subjects/users-value/versions/latest",
                                  {"schema": v2}), {"is_compatible": True})
            verdict = r.ok("POST", "/compatibility/subjects/users-value/versions/latest"
                           "?verbose=true", {"schema": bad})
            self.assertFalse(verdict["is_compatible"])
            self.assertIn("READER_FIELD_MISSING_DEFAULT_VALUE", " ".join(verdict["messages"]))
            status, answer, _ = r.call("POST", "/subjects/users-value/versions",
                                       {"schema": bad})
            self.assertEqual((status, answer["error_code"]), (409, 409))
            status, answer, _ = r.call("POST", "/subjects/users-value/versions",
                                       {"schema": "{\"type\": \"recrod\"}"})
            self.assertEqual((status, answer["error_code"]), (422, 42201))
            status, answer, _ = r.call("GET", "/config/users-value")
            self.assertEqual((status, answer["error_code"]), (404, 40408))
            self.assertEqual(r.ok("GET", "/config/users-value?defaultToGlobal=true"),
                             {"compatibilityLevel": "BACKWARD"})
            self.assertEqual(r.ok("PUT", "/config/mirror-value", {"compatibility": "FULL"}),
                             {"compatibility": "FULL"})
            self.assertEqual(r.ok("DELETE", "/subjects/mirror-value"), [1])
            self.assertEqual(r.ok("GET", "/subjects"), ["users-value"])
            self.assertEqual(r.call("GET", "/subjects/nobody/versions")[1]["error_code"],
                             40401)

            # Restarts keep everything: state lives in the broker's _schemas topic.
            for hard in (False, True):
                r.restart(hard=hard)
                self.assertEqual(r.ok("GET", "/subjects"), ["users-value"])
                self.assertEqual(r.ok("GET", "/subjects?deleted=true"),
                                 ["mirror-value", "users-value"])
                self.assertEqual(r.ok("GET", "/config/mirror-value"),
                                 {"compatibilityLevel": "FULL"})
                self.assertEqual(r.ok("GET", "/schemas/ids/2")["schema"],
                                 latest["schema"])
                self.assertEqual(r.register("users-value", v2), 2)

            # A second registry on the same broker agrees, and they share writes.
            with Registry(b.bootstrap, name="registry2") as r2:
                self.assertEqual(r2.ok("GET", "/subjects/users-value/versions/2"),
                                 r.ok("GET", "/subjects/users-value/versions/2"))
                self.assertEqual(r2.register("users-value", v1), 1)
                self.assertEqual(r2.register("other-value", "\"string\""), 3)
                r.eventually("GET", "/subjects/other-value/versions/1", lambda a: a["id"] == 3)

                # Both registering different schemas at once: every id is unique,
                # and both registries give the same answers afterwards.
                results = {}

                def burst(reg, tag):
                    ids = []
                    for i in range(15):
                        schema = json.dumps({"type": "fixed", "name": "F%s%d" % (tag, i),
                                             "size": 4})
                        ids.append(reg.register("burst-%s-%d" % (tag, i), schema))
                    results[tag] = ids

                threads = [threading.Thread(target=burst, args=(r, "a")),
                           threading.Thread(target=burst, args=(r2, "b"))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                every = results["a"] + results["b"]
                self.assertEqual(len(set(every)), len(every), every)
                for reg in (r, r2):
                    for tag in "ab":
                        for i, want in enumerate(results[tag]):
                            reg.eventually("GET", "/subjects/burst-%s-%d/versions/1" % (tag, i),
                                           lambda a, w=want: a["id"] == w)
                self.assertEqual(r.ok("GET", "/subjects"), r2.ok("GET", "/subjects"))

    @unittest.skipUnless(SchemaRegistryClient, "python3-confluent-kafka is not installed")
    def test_confluent_client(self):
        """Confluent's Python SchemaRegistryClient, unchanged, against brook registry."""
        with kafkatest.BrokerUnderTest() as b, Registry(b.bootstrap) as r:
            with SchemaRegistryClient({"url": "http://" + r.address}) as c:
                v1 = user_schema()
                v2 = user_schema({"name": "email", "type": ["null", "string"], "default": None})
                bad = user_schema({"name": "age", "type": "int"})
                self.assertEqual(c.register_schema("users-value", Schema(v1, "AVRO")), 1)
                self.assertEqual(c.register_schema("users-value", Schema(v2, "AVRO")), 2)
                self.assertEqual(c.get_subjects(), ["users-value"])
                self.assertEqual(c.get_versions("users-value"), [1, 2])
                latest = c.get_latest_version("users-value")
                self.assertEqual((latest.schema_id, latest.version), (2, 2))
                self.assertEqual(c.get_version("users-value", 1).schema_id, 1)
                self.assertEqual(c.lookup_schema("users-value", Schema(v1, "AVRO")).version, 1)
                self.assertEqual(json.loads(c.get_schema(1).schema_str), json.loads(v1))
                self.assertTrue(c.test_compatibility("users-value", Schema(v2, "AVRO")))
                self.assertFalse(c.test_compatibility("users-value", Schema(bad, "AVRO")))
                with self.assertRaises(SchemaRegistryError) as e:
                    c.register_schema("users-value", Schema(bad, "AVRO"))
                self.assertEqual(e.exception.http_status_code, 409)
                with self.assertRaises(SchemaRegistryError) as e:
                    c.get_version("users-value", 9)
                self.assertEqual(e.exception.error_code, 40402)
                c.set_compatibility("users-value", "FULL")
                self.assertEqual(c.get_compatibility("users-value"), "FULL")
                self.assertEqual(c.get_compatibility(), "BACKWARD")
                self.assertEqual(c.delete_version("users-value", 1), 1)
                self.assertEqual(c.delete_subject("users-value", permanent=True), [2])
                with self.assertRaises(SchemaRegistryError) as e:
                    c.get_versions("users-value")
                self.assertEqual(e.exception.error_code, 40401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
