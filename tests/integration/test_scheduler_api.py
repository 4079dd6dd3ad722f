"""brook scheduler: the Airflow-shaped REST API, the HTML grid and `brook dags`.

One PostgreSQL (`brook postgres` on a free port) and one scheduler serve the whole
module: initdb is slow. The scheduler reads a small YAML file of DAGs built from the
`empty` and `shell` operators:

  demo        start (empty) -> say (shell: echo ...), unpaused, never scheduled
  failing     boom (shell: exit 3), no retries
  paused_dag  one empty task, paused, with HTML in its description (escaping)
  toggle      one empty task, used by the pause/unpause tests
  daily       @daily from 2024-01-01, paused (backfill runs run all the same)
  nightly     the same, unpaused: `brook dags backfill --wait` follows the runs

Every route is checked for its shape and its errors (Airflow's problem body:
detail/status/title/type), the HTML pages for content and escaping, and the CLI for
its tables, --json, exit codes and messages.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

BROOK = brooktest.BROOK
TIMEOUT = 60

DAGS_YAML = """
scheduler:
  dags:
    demo:
      description: a demo
      schedule: none
      is_paused_upon_creation: false
      tasks:
        start:
          operator: empty
        say:
          operator: shell
          params:
            command: "echo 'hello <world> & co'"
          upstream: [start]
    failing:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        boom:
          operator: shell
          params:
            command: "echo going-down; exit 3"
    paused_dag:
      description: "<script>alert(1)</script> & more"
      schedule: none
      tasks:
        only:
          operator: empty
    toggle:
      schedule: none
      tasks:
        only:
          operator: empty
    daily:
      schedule: "@daily"
      start_date: 2024-01-01
      catchup: false
      tasks:
        only:
          operator: empty
    nightly:
      schedule: "@daily"
      start_date: 2024-01-01
      catchup: false
      is_paused_upon_creation: false
      tasks:
        only:
          operator: empty
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    @property
    def text(self):
        return self.body.decode()


class SchedulerApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="brook-sched-api-")
        # When the tests run as root PostgreSQL runs as user postgres, which must be
        # able to reach DATA/postgres.
        os.chmod(cls.tmp, 0o755)
        cls.pg = brooktest.ServerUnderTest("postgres", data_dir=os.path.join(cls.tmp, "pg"))
        os.makedirs(cls.pg.data_dir)
        os.chmod(cls.pg.data_dir, 0o755)
        cls.sched = None
        try:
            cls.pg.start(free_port())
            p = subprocess.run([BROOK, "postgres", "--data", cls.pg.data_dir, "--print-dsn"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=TIMEOUT, check=True)
            cls.dsn = p.stdout.decode().strip()
            cls.cfg = os.path.join(cls.tmp, "dags.yaml")
            with open(cls.cfg, "w") as f:
                f.write(DAGS_YAML)
            cls.sched = brooktest.ServerUnderTest(
                "scheduler", data_dir=os.path.join(cls.tmp, "sched"),
                sets=["postgres.dsn=" + cls.dsn, "scheduler.tick=100ms"],
                extra_args=["--config", cls.cfg])
            os.makedirs(cls.sched.data_dir)
            cls.sched.start()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.base = "http://%s" % cls.sched.address

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.sched is not None and cls.sched.running():
                cls.sched.stop()
        finally:
            try:
                if cls.pg.running():
                    cls.pg.stop()
            finally:
                if cls.sched is not None:
                    cls.sched.cleanup()
                cls.pg.cleanup()
                shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def call(self, method, path, body=None, raw=None, headers=None):
        data = raw if raw is not None else (None if body is None else
                                            json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def ok(self, method, path, body=None, **kw):
        r = self.call(method, path, body, **kw)
        self.assertEqual(r.status, 200, "%s %s: %s\n%s" % (method, path, r.body,
                                                           self.sched.log_tail()))
        return r.json()

    def assert_problem(self, r, status, detail_re=None):
        self.assertEqual(r.status, status, r.body)
        p = r.json()
        self.assertEqual(p["status"], status)
        self.assertEqual(p["type"], "about:blank")
        self.assertIsInstance(p["title"], str)
        self.assertTrue(p["title"])
        self.assertIsInstance(p["detail"], str)
        if detail_re:
            self.assertRegex(p["detail"], detail_re)
        return p

    def brook(self, *args, check=None):
        p = subprocess.run([BROOK] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out, err = p.stdout.decode(), p.stderr.decode()
        if check is not None and p.returncode != check:
            raise AssertionError("brook %s exited %d (want %d):\n%s%s\n%s" % (
                " ".join(args), p.returncode, check, out, err, self.sched.log_tail()))
        return p.returncode, out, err

    def dags(self, *args, check=None):
        return self.brook("dags", *args, "--url", self.base, check=check)

    def wait_run(self, dag, run_id, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            run = self.ok("GET", "/api/v1/dags/%s/dagRuns/%s" % (dag, quote(run_id, safe="")))
            if run["state"] in ("success", "failed"):
                return run
            if time.monotonic() > deadline:
                raise AssertionError("run %s of %s still %s after %d s:\n%s" % (
                    run_id, dag, run["state"], timeout, self.sched.log_tail()))
            time.sleep(0.2)

    def trigger(self, dag, run_id, conf=None):
        body = {"dag_run_id": run_id}
        if conf is not None:
            body["conf"] = conf
        return self.ok("POST", "/api/v1/dags/%s/dagRuns" % dag, body)

    # ---- REST ----

    def test_health(self):
        h = self.ok("GET", "/api/v1/health")
        self.assertEqual(h["metadatabase"]["status"], "healthy")
        self.assertEqual(h["scheduler"]["status"], "healthy")
        self.assertRegex(h["scheduler"]["latest_scheduler_heartbeat"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")

    def test_list_dags(self):
        d = self.ok("GET", "/api/v1/dags")
        ids = [x["dag_id"] for x in d["dags"]]
        self.assertEqual(sorted(ids), sorted(["demo", "failing", "paused_dag", "toggle",
                                              "daily", "nightly"]))
        self.assertEqual(d["total_entries"], 6)
        byid = {x["dag_id"]: x for x in d["dags"]}
        self.assertIs(byid["demo"]["is_paused"], False)
        self.assertIs(byid["paused_dag"]["is_paused"], True)
        page = self.ok("GET", "/api/v1/dags?limit=2&offset=1")
        self.assertEqual(len(page["dags"]), 2)
        self.assertEqual(page["total_entries"], 6)
        self.assertEqual([x["dag_id"] for x in page["dags"]], ids[1:3])
        self.assertEqual(self.ok("GET", "/api/v1/dags?offset=99")["dags"], [])
        for q in ("limit=0", "limit=1001", "limit=x", "offset=-1"):
            self.assert_problem(self.call("GET", "/api/v1/dags?" + q), 400, "limit|offset")

    def test_get_dag(self):
        d = self.ok("GET", "/api/v1/dags/demo")
        self.assertEqual(d["dag_id"], "demo")
        self.assertIs(d["is_paused"], False)
        self.assertEqual(d["description"], "a demo")
        self.assert_problem(self.call("GET", "/api/v1/dags/nope"), 404, "nope")

    def test_patch_dag(self):
        d = self.ok("PATCH", "/api/v1/dags/toggle?update_mask=is_paused", {"is_paused": True})
        self.assertEqual(d["dag_id"], "toggle")
        self.assertIs(d["is_paused"], True)
        self.assertIs(self.ok("GET", "/api/v1/dags/toggle")["is_paused"], True)
        d = self.ok("PATCH", "/api/v1/dags/toggle", {"is_paused": False})
        self.assertIs(d["is_paused"], False)
        self.assert_problem(self.call("PATCH", "/api/v1/dags/toggle", {"is_paused": "yes"}),
                            400, "is_paused")
        self.assert_problem(self.call("PATCH", "/api/v1/dags/toggle", {}), 400, "is_paused")
        self.assert_problem(self.call("PATCH", "/api/v1/dags/toggle", raw=b"{not json"), 400,
                            "JSON")
        self.assert_problem(self.call("PATCH", "/api/v1/dags/toggle", raw=b"[true]"), 400,
                            "object")
        self.assert_problem(self.call("PATCH", "/api/v1/dags/toggle?update_mask=tags",
                                      {"is_paused": True}), 400, "update_mask")
        self.assert_problem(self.call("PATCH", "/api/v1/dags/toggle",
                                      {"is_paused": True, "is_pasued": False}), 400,
                            "is_pasued")
        self.assert_problem(self.call("PATCH", "/api/v1/dags/nope", {"is_paused": True}), 404)
        self.assertIs(self.ok("GET", "/api/v1/dags/toggle")["is_paused"], False)

    def test_trigger_run_and_task_instances(self):
        run = self.trigger("demo", "api_run_1", {"anything": 1})
        self.assertEqual(run["dag_id"], "demo")
        self.assertEqual(run["dag_run_id"], "api_run_1")
        self.assertIn(run["state"], ("queued", "running", "success"))
        self.assertEqual(run["conf"], {"anything": 1})
        self.assertIn("logical_date", run)
        done = self.wait_run("demo", "api_run_1")
        self.assertEqual(done["state"], "success", self.sched.log_tail())

        tis = self.ok("GET", "/api/v1/dags/demo/dagRuns/api_run_1/taskInstances")
        self.assertEqual([t["task_id"] for t in tis["task_instances"]], ["start", "say"])
        self.assertEqual(tis["total_entries"], 2)
        for t in tis["task_instances"]:
            self.assertEqual(t["state"], "success")
            self.assertEqual(t["dag_run_id"], "api_run_1")
        ti = self.ok("GET", "/api/v1/dags/demo/dagRuns/api_run_1/taskInstances/say")
        self.assertEqual(ti["task_id"], "say")
        self.assertEqual(ti["operator"], "shell")
        self.assertGreaterEqual(ti["try_number"], 1)

        log = self.call("GET", "/api/v1/dags/demo/dagRuns/api_run_1/taskInstances/say/logs/1")
        self.assertEqual(log.status, 200, log.body)
        self.assertTrue(log.headers["Content-Type"].startswith("text/plain"))
        self.assertIn("hello <world> & co", log.text)
        lj = self.call("GET", "/api/v1/dags/demo/dagRuns/api_run_1/taskInstances/say/logs/1",
                       headers={"Accept": "application/json"})
        self.assertEqual(lj.status, 200)
        body = lj.json()
        self.assertIn("hello <world> & co", body["content"])
        self.assertIsNone(body["continuation_token"])

        x = self.ok("GET", "/api/v1/dags/demo/dagRuns/api_run_1/taskInstances/say/xcomEntries")
        self.assertIn("hello <world> & co", json.dumps(x["xcom_entries"]))

        runs = self.ok("GET", "/api/v1/dags/demo/dagRuns")
        self.assertIn("api_run_1", [r["dag_run_id"] for r in runs["dag_runs"]])
        self.assertGreaterEqual(runs["total_entries"], 1)
        self.assertEqual(len(self.ok("GET", "/api/v1/dags/demo/dagRuns?limit=1")["dag_runs"]),
                         1)

        # errors around runs
        self.assert_problem(self.call("POST", "/api/v1/dags/demo/dagRuns",
                                      {"dag_run_id": "api_run_1"}), 409)
        self.assert_problem(self.call("GET", "/api/v1/dags/demo/dagRuns/no_such_run"), 404)
        self.assert_problem(self.call("GET", "/api/v1/dags/demo/dagRuns/api_run_1/"
                                             "taskInstances/no_such_task"), 404)
        self.assert_problem(self.call("GET", "/api/v1/dags/demo/dagRuns/api_run_1/"
                                             "taskInstances/say/logs/0"), 400, "try")
        self.assert_problem(self.call("GET", "/api/v1/dags/demo/dagRuns/api_run_1/"
                                             "taskInstances/say/logs/x"), 400, "try")
        self.assert_problem(self.call("GET", "/api/v1/dags/nope/dagRuns"), 404)
        self.assert_problem(self.call("GET", "/api/v1/dags/demo/dagRuns?order_by=state"), 400,
                            "order_by")

    def test_trigger_errors(self):
        p = "/api/v1/dags/demo/dagRuns"
        self.assert_problem(self.call("POST", p, {"conf": [1, 2]}), 400, "conf")
        self.assert_problem(self.call("POST", p, {"conf": "x"}), 400, "conf")
        self.assert_problem(self.call("POST", p, raw=b'{"conf": '), 400, "JSON")
        self.assert_problem(self.call("POST", p, {"logical_date": "yesterday"}), 400,
                            "logical_date")
        self.assert_problem(self.call("POST", p, {"dag_run_id": 7}), 400, "dag_run_id")
        self.assert_problem(self.call("POST", p, {"dag_run_id": ""}), 400, "dag_run_id")
        self.assert_problem(self.call("POST", p, {"confx": {}}), 400, "confx")
        self.assert_problem(self.call("POST", "/api/v1/dags/nope/dagRuns", {"conf": {}}), 404)
        # bodies are bounded (1 MiB): answered before any parsing
        try:
            r = self.call("POST", p, raw=b"x" * (2 * 1024 * 1024))
            self.assertEqual(r.status, 413)
        except (ConnectionError, urllib.error.URLError):
            pass  # the server may close the connection before the upload ends
        self.sched.assert_alive()

    def test_trigger_with_logical_date(self):
        run = self.ok("POST", "/api/v1/dags/demo/dagRuns",
                      {"dag_run_id": "dated", "logical_date": "2023-05-06T07:08:09Z"})
        self.assertTrue(run["logical_date"].startswith("2023-05-06T07:08:09"), run)
        self.assert_problem(self.call("POST", "/api/v1/dags/demo/dagRuns",
                                      {"logical_date": "2023-05-06T07:08:09Z"}), 409)
        self.wait_run("demo", "dated")

    def test_failed_run(self):
        self.trigger("failing", "boom_1")
        run = self.wait_run("failing", "boom_1")
        self.assertEqual(run["state"], "failed")
        ti = self.ok("GET", "/api/v1/dags/failing/dagRuns/boom_1/taskInstances/boom")
        self.assertEqual(ti["state"], "failed")
        log = self.call("GET", "/api/v1/dags/failing/dagRuns/boom_1/taskInstances/boom/logs/1")
        self.assertIn("going-down", log.text)

    def test_backfill(self):
        b = self.ok("POST", "/api/v1/dags/daily/backfill",
                    {"from": "2024-01-01", "to": "2024-01-03T00:00:00Z"})
        self.assertEqual(b["total_entries"], 3)
        ids = sorted(r["dag_run_id"] for r in b["dag_runs"])
        self.assertEqual(len(ids), 3)
        for r in b["dag_runs"]:
            self.assertEqual(r["run_type"], "backfill")
            # backfill runs run even while the DAG is paused (as in Airflow)
            self.assertIn(r["state"], ("queued", "running", "success"))
        again = self.ok("POST", "/api/v1/dags/daily/backfill",
                        {"from": "2024-01-01", "to": "2024-01-03"})
        self.assertEqual(again["total_entries"], 0)
        self.assertEqual(again["dag_runs"], [])
        runs = self.ok("GET", "/api/v1/dags/daily/dagRuns")
        self.assertTrue(set(ids) <= {r["dag_run_id"] for r in runs["dag_runs"]})
        self.assert_problem(self.call("POST", "/api/v1/dags/daily/backfill",
                                      {"from": "2024-01-03", "to": "2024-01-01"}), 400, "from")
        self.assert_problem(self.call("POST", "/api/v1/dags/daily/backfill",
                                      {"from": "2024-01-03"}), 400, "to")
        self.assert_problem(self.call("POST", "/api/v1/dags/daily/backfill",
                                      {"from": "soon", "to": "2024-01-01"}), 400, "from")
        self.assert_problem(self.call("POST", "/api/v1/dags/daily/backfill",
                                      {"from": "2024-01-01", "to": "2024-01-02", "conf": 3}),
                            400, "conf")
        self.assert_problem(self.call("POST", "/api/v1/dags/nope/backfill",
                                      {"from": "2024-01-01", "to": "2024-01-02"}), 404)

    def test_unknown_endpoints_and_methods(self):
        self.assert_problem(self.call("GET", "/api/v1/nothing"), 404)
        self.assert_problem(self.call("GET", "/api/v1/dags/demo/nothing"), 404)
        r = self.call("DELETE", "/api/v1/dags/demo")
        self.assert_problem(r, 405)
        self.assertIn("PATCH", r.headers["Allow"])
        self.assert_problem(self.call("PUT", "/api/v1/dags"), 405)
        self.assert_problem(self.call("POST", "/api/v1/dags/demo"), 405)

    # ---- HTML ----

    def test_home_page(self):
        for path in ("/", "/home"):
            r = self.call("GET", path)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
            self.assertIn('http-equiv="refresh"', r.text)
            for dag in ("demo", "failing", "paused_dag", "toggle", "daily", "nightly"):
                self.assertIn('href="/dags/%s/grid"' % dag, r.text)

    def test_grid_page_escapes(self):
        r = self.call("GET", "/dags/paused_dag/grid")
        self.assertEqual(r.status, 200)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more", r.text)
        self.assertNotIn("<script>", r.text)
        r = self.call("GET", "/dags/nope/grid")
        self.assertEqual(r.status, 404)
        self.assertIn("nope", r.text)

    def test_grid_page_links_logs(self):
        self.trigger("demo", "grid_run")
        self.wait_run("demo", "grid_run")
        r = self.call("GET", "/dags/demo/grid")
        self.assertEqual(r.status, 200)
        self.assertIn("/api/v1/dags/demo/dagRuns/grid_run/taskInstances/say/logs/1", r.text)
        self.assertIn(">say<", r.text)
        self.assertIn(">start<", r.text)

    def test_odd_run_id_escaped_everywhere(self):
        odd = "esc<b>&\"x'/y +z"
        self.trigger("demo", odd)
        self.assertEqual(self.wait_run("demo", odd)["state"], "success")
        enc = quote(odd, safe="")
        ti = self.ok("GET", "/api/v1/dags/demo/dagRuns/%s/taskInstances/say" % enc)
        self.assertEqual(ti["dag_run_id"], odd)
        r = self.call("GET", "/dags/demo/grid")
        self.assertEqual(r.status, 200)
        self.assertIn("esc&lt;b&gt;&amp;&quot;x&#39;/y +z", r.text)
        self.assertNotIn("esc<b>", r.text)
        self.assertIn("/api/v1/dags/demo/dagRuns/%s/taskInstances/say/logs/1" % enc, r.text)
        self.assertNotIn("esc<b>", self.call("GET", "/home").text)
        _, out, _ = self.dags("tasks", "demo", odd, check=0)
        self.assertRegex(out, r"(?m)^say\s+success")
        _, out, _ = self.dags("log", "demo", odd, "say", check=0)
        self.assertIn("hello <world> & co", out)

    # ---- CLI ----

    def test_cli_list(self):
        _, out, _ = self.dags("list", check=0)
        self.assertRegex(out, r"(?m)^DAG_ID")
        self.assertRegex(out, r"(?m)^demo\s+\S+\s+no\b")
        self.assertRegex(out, r"(?m)^paused_dag\s+\S+\s+yes\b")
        _, out, _ = self.dags("list", "--json", check=0)
        self.assertEqual(json.loads(out)["total_entries"], 6)

    def test_cli_trigger_wait_runs_tasks_log(self):
        rc, out, err = self.dags("trigger", "demo", "--run-id", "cli_run", "--conf", '{"a": 1}',
                                 "--wait", check=0)
        self.assertIn("triggered run cli_run of demo", out)
        self.assertRegex(out, r"(?m)^cli_run\s+say\s+success")
        self.assertIn("run cli_run of demo: success", out)
        _, out, _ = self.dags("runs", "demo", check=0)
        self.assertRegex(out, r"(?m)^cli_run\s+success\s+manual")
        _, out, _ = self.dags("runs", "demo", "--limit", "1", "--json", check=0)
        self.assertEqual(len(json.loads(out)["dag_runs"]), 1)
        _, out, _ = self.dags("tasks", "demo", "cli_run", check=0)
        self.assertRegex(out, r"(?m)^start\s+success\s+1")
        self.assertRegex(out, r"(?m)^say\s+success\s+1")
        _, out, _ = self.dags("log", "demo", "cli_run", "say", check=0)
        self.assertIn("hello <world> & co", out)
        _, out, _ = self.dags("log", "demo", "cli_run", "say", "--try", "1", "--json", check=0)
        self.assertIn("hello <world> & co", json.loads(out)["content"])
        rc, _, err = self.dags("trigger", "demo", "--run-id", "cli_run", check=1)
        self.assertIn("409", err)

    def test_cli_trigger_failed_exit_1(self):
        rc, out, _ = self.dags("trigger", "failing", "--run-id", "cli_boom", "--wait", check=1)
        self.assertIn("run cli_boom of failing: failed", out)
        self.assertRegex(out, r"(?m)^cli_boom\s+boom\s+failed")

    def test_cli_trigger_paused_warns(self):
        rc, out, err = self.dags("trigger", "paused_dag", "--run-id", "stays_queued", check=0)
        self.assertIn("paused", err)
        self.assertIn("brook dags unpause paused_dag", err)
        run = self.ok("GET", "/api/v1/dags/paused_dag/dagRuns/stays_queued")
        self.assertEqual(run["state"], "queued")

    def test_cli_pause_unpause(self):
        _, out, _ = self.dags("pause", "toggle", check=0)
        self.assertIn("toggle paused", out)
        self.assertIs(self.ok("GET", "/api/v1/dags/toggle")["is_paused"], True)
        _, out, _ = self.dags("unpause", "toggle", "--json", check=0)
        self.assertIs(json.loads(out)["is_paused"], False)
        self.assertIs(self.ok("GET", "/api/v1/dags/toggle")["is_paused"], False)

    def test_cli_errors(self):
        _, _, err = self.dags("pause", "nope", check=1)
        self.assertIn("nope", err)
        self.assertIn("404", err)
        _, _, err = self.dags("trigger", "demo", "--conf", "[1]", check=2)
        self.assertIn("--conf", err)
        self.dags("frobnicate", check=2)
        self.dags("tasks", "demo", check=2)
        _, _, err = self.dags("backfill", "daily", "--from", "nope", "--to", "2024-01-01",
                              check=2)
        self.assertIn("--from", err)
        port = free_port()
        rc, _, err = self.brook("dags", "list", "--url", "http://127.0.0.1:%d" % port, check=1)
        self.assertIn("is `brook scheduler` running at http://127.0.0.1:%d" % port, err)
        # without --url the address comes from scheduler.listen
        rc, _, err = self.brook("dags", "list", "--set",
                                "scheduler.listen=127.0.0.1:%d" % port, check=1)
        self.assertIn("http://127.0.0.1:%d" % port, err)
        _, out, _ = self.brook("dags", "list", "--set",
                               "scheduler.listen=" + self.sched.address, check=0)
        self.assertIn("demo", out)

    def test_cli_backfill(self):
        _, out, _ = self.dags("backfill", "daily", "--from", "2024-02-01", "--to",
                              "2024-02-02", check=0)
        self.assertIn("created 2 runs", out)
        _, out, _ = self.dags("backfill", "nightly", "--from", "2024-03-01", "--to",
                              "2024-03-02", "--wait", check=0)
        self.assertIn("created 2 runs", out)
        self.assertEqual(len(re.findall(r"(?m)^run \S+ of nightly: success$", out)), 2, out)
        _, out, _ = self.dags("backfill", "nightly", "--from", "2024-03-01", "--to",
                              "2024-03-02", "--json", check=0)
        self.assertEqual(json.loads(out)["total_entries"], 0)

    def test_cli_test_task(self):
        rc, out, err = self.brook("dags", "test", "demo", "say", "--config", self.cfg,
                                  "--data", os.path.join(self.tmp, "test-data"),
                                  "--set", "postgres.dsn=" + self.dsn, check=0)
        self.assertIn("succeeded", out)
        self.assertIn("hello <world> & co", out)
        rc, out, err = self.brook("dags", "test", "failing", "boom", "--config", self.cfg,
                                  "--data", os.path.join(self.tmp, "test-data"),
                                  "--set", "postgres.dsn=" + self.dsn, check=1)
        self.assertIn("exited with status 3", err)
        rc, out, err = self.brook("dags", "test", "demo", "nope", "--config", self.cfg,
                                  "--data", os.path.join(self.tmp, "test-data"),
                                  "--set", "postgres.dsn=" + self.dsn, check=1)
        self.assertIn("nope", err)

    def test_help(self):
        _, out, _ = self.brook("scheduler", "--help", check=0)
        self.assertIn("scheduler.dags", out)
        _, out, _ = self.brook("dags", "--help", check=0)
        for sub in ("list", "trigger", "runs", "tasks", "log", "backfill", "pause", "unpause",
                    "test"):
            self.assertRegex(out, r"\b%s\b" % sub)


if __name__ == "__main__":
    unittest.main()
