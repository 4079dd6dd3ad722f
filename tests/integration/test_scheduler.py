"""brook scheduler end to end: real PostgreSQL (brook postgres), a real brook randomuser,
the scheduler driven through its REST API, the results read back with psql.

- triggering user_automation with {"max_records": N} stages exactly N users, in
  batches recorded in staging.batches; every payload is a valid user;
- re-running the task of a finished run (a "clear", done in SQL) stages nothing twice;
- catchup creates one run per missed daily interval since start_date, with Airflow's
  data intervals and run ids, and the tasks run in dependency order;
- an API that fails twice: the task is retried with exponential backoff (the task log
  tells the delays) and the third try succeeds;
- trigger rules: a failing task marks all_success children upstream_failed and runs a
  one_failed handler; the run fails;
- SIGKILL of the scheduler while a run stages users, then a restart: the interrupted
  try counts as failed, the next try resumes, the run succeeds, and no batch and no
  user is staged twice;
- execution_timeout kills a shell task; pausing stops scheduled runs, unpausing
  catches up; a backfill runs its runs one at a time under max_active_runs = 1;
- PostgreSQL restarting under the scheduler: it reconnects and runs go on;
- a second scheduler on the same database refuses to start; without PostgreSQL and
  postgres.dsn the scheduler starts the private cluster itself and stops it on SIGTERM;
- a bad DAG file (a cycle) makes the scheduler refuse to start, naming DAG and line;
- psql shows the run history.
"""
import datetime
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402

BROOK = brooktest.BROOK
WAIT = 120


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FlakyProxy:
    """Answers 500 to the first `failures` requests for the first page, then forwards to
    the real API (the operator may fetch the next page while the first one fails)."""

    def __init__(self, upstream, failures):
        self.upstream = upstream
        self.failures = failures
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if query.get("page") == ["1"]:
                    outer.requests += 1
                if query.get("page") == ["1"] and outer.requests <= outer.failures:
                    body = b'{"error":"injected failure"}'
                    self.send_response(500)
                else:
                    with urllib.request.urlopen(outer.upstream + self.path, timeout=30) as r:
                        body = r.read()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def day_start(days_ago):
    now = datetime.datetime.now(datetime.timezone.utc)
    d = datetime.datetime(now.year, now.month, now.day, tzinfo=datetime.timezone.utc)
    return d - datetime.timedelta(days=days_ago)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class SchedulerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="brook-sched-")
        os.chmod(cls.tmp, 0o755)  # PostgreSQL runs as user postgres when we are root
        cls.pg = brooktest.ServerUnderTest("postgres", data_dir=cls.tmp)
        cls.ru = brooktest.ServerUnderTest("randomuser", data_dir=False)
        cls.sched = None
        cls.flaky = None
        try:
            cls.pg.start(free_port())
            cls.ru.start()
            cls.api = "http://%s/api/" % cls.ru.address
            cls.flaky = FlakyProxy("http://%s" % cls.ru.address, 2)
            cls.catchup_start = day_start(3)
            cls.config = os.path.join(cls.tmp, "dags.yaml")
            with open(cls.config, "w") as f:
                f.write(cls.dags_yaml())
            cls.sched = brooktest.ServerUnderTest(
                "scheduler", data_dir=cls.tmp, extra_args=["--config", cls.config],
                sets=["source.retries=0", "scheduler.tick=200ms"])
            cls.sched.start()
            cls.url = "http://%s/api/v1" % cls.sched.address
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def dags_yaml(cls):
        return """
source:
  url: %(api)s
scheduler:
  dags:
    user_automation:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        stream_data_from_api:
          operator: randomuser_to_postgres
          retries: 2
          retry_delay: 1s
          params: {batch_size: 100, max_records: 300, max_duration: 0}
    catchup_daily:
      schedule: "@daily"
      start_date: %(start)s
      catchup: true
      max_active_runs: 2
      is_paused_upon_creation: false
      tasks:
        extract: {operator: empty}
        load: {operator: empty, upstream: [extract]}
    flaky_api:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        fetch:
          operator: randomuser_to_postgres
          retries: 3
          retry_delay: 1s
          retry_exponential_backoff: true
          max_retry_delay: 10s
          params: {url: "http://127.0.0.1:%(flaky)d/api/", batch_size: 50,
                   max_records: 100, max_duration: 0}
    rules:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        boom: {operator: shell, params: {command: "echo about to fail; exit 3"}}
        after_boom: {operator: empty, upstream: [boom]}
        on_failure: {operator: empty, upstream: [boom], trigger_rule: one_failed}
        always: {operator: empty, upstream: [boom], trigger_rule: all_done}
    timeout:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        sleepy:
          operator: shell
          execution_timeout: 1s
          params: {command: "echo sleeping; sleep 30"}
    paused_catchup:
      schedule: "@daily"
      start_date: %(start)s
      catchup: true
      tasks:
        t: {operator: empty}
    one_at_a_time:
      schedule: "@daily"
      start_date: 2024-01-01
      max_active_runs: 1
      is_paused_upon_creation: true
      tasks:
        t: {operator: shell, params: {command: "sleep 0.3"}}
    noop:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        nothing: {operator: empty}
    slow:
      schedule: none
      is_paused_upon_creation: false
      tasks:
        stream:
          operator: randomuser_to_postgres
          retries: 2
          retry_delay: 1s
          params: {batch_size: 20, max_records: 2000, max_duration: 0, rate: 25}
""" % {"api": cls.api, "start": iso(cls.catchup_start), "flaky": cls.flaky.port}

    @classmethod
    def tearDownClass(cls):
        for srv in (cls.sched, cls.ru, cls.pg):
            if srv is not None and srv.proc is not None:
                try:
                    srv.stop()
                except AssertionError as e:
                    print(e, file=sys.stderr)
        if cls.flaky:
            cls.flaky.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def psql(self, sql):
        p = subprocess.run([BROOK, "psql", "--data", self.tmp, "-At", "-c", sql],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.decode().strip()

    def trigger(self, dag, conf=None):
        st, run = self.call("POST", "/dags/%s/dagRuns" % dag, {"conf": conf or {}})
        self.assertEqual(st, 200, run)
        self.assertIn(run["state"], ("queued", "running"))
        return run["dag_run_id"]

    def wait_run(self, dag, run_id, states=("success", "failed")):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            st, run = self.call("GET", "/dags/%s/dagRuns/%s" % (dag, urllib.request.quote(
                run_id, safe="")))
            self.assertEqual(st, 200, run)
            if run["state"] in states:
                return run
            self.sched.assert_alive()
            time.sleep(0.2)
        self.fail("run %s of %s did not finish:\n%s" % (run_id, dag, self.sched.log_tail()))

    def tis(self, dag, run_id):
        st, body = self.call("GET", "/dags/%s/dagRuns/%s/taskInstances" % (
            dag, urllib.request.quote(run_id, safe="")))
        self.assertEqual(st, 200, body)
        return {t["task_id"]: t for t in body["task_instances"]}

    def task_log(self, dag, run_id, task, try_number):
        url = "%s/dags/%s/dagRuns/%s/taskInstances/%s/logs/%d" % (
            self.url, dag, urllib.request.quote(run_id, safe=""), task, try_number)
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read().decode()

    def staged(self, staging_run_id):
        return self.psql("SELECT count(*), count(DISTINCT payload->'login'->>'uuid'), "
                         "(SELECT coalesce(sum(rows), 0) FROM staging.batches WHERE "
                         "run_id = '%s') FROM staging.raw_users WHERE run_id = '%s'"
                         % (staging_run_id, staging_run_id)).split("|")

    # ------------------------------------------------------------------ tests

    def test_trigger_stages_requested_users_once(self):
        run_id = self.trigger("user_automation", {"max_records": 1200, "batch_size": 200})
        run = self.wait_run("user_automation", run_id)
        self.assertEqual(run["state"], "success", self.sched.log_tail())
        self.assertEqual(run["conf"], {"max_records": 1200, "batch_size": 200})
        key = "user_automation/%s/stream_data_from_api" % run_id
        self.assertEqual(self.staged(key), ["1200", "1200", "1200"])
        self.assertEqual(self.psql("SELECT count(*) FROM staging.batches WHERE run_id = '%s'"
                                   % key), "6")
        # Every payload is a whole user.
        self.assertEqual(self.psql(
            "SELECT count(*) FROM staging.raw_users WHERE run_id = '%s' AND "
            "payload::jsonb ? 'name' AND payload::jsonb ? 'location' AND "
            "payload::jsonb->'login' ? 'username'"
            % key), "1200")
        st, x = self.call("GET", "/dags/user_automation/dagRuns/%s/taskInstances/"
                          "stream_data_from_api/xcomEntries" % urllib.request.quote(
                              run_id, safe=""))
        self.assertEqual(st, 200, x)
        value = x["xcom_entries"][0]["value"]
        self.assertEqual(value["total_rows"], 1200)

        # Clear the task (Airflow's "clear", here from the CLI) so the scheduler runs it
        # again: every batch is already staged, nothing is added.
        st, dry = self.call("POST", "/dags/user_automation/clearTaskInstances",
                            {"dag_run_id": run_id})  # dry_run by default, as Airflow
        self.assertEqual(st, 200, dry)
        self.assertEqual([t["task_id"] for t in dry["task_instances"]],
                         ["stream_data_from_api"])
        self.assertEqual(self.tis("user_automation", run_id)["stream_data_from_api"]
                         ["state"], "success")
        p = subprocess.run([BROOK, "dags", "clear", "user_automation", run_id, "--url",
                            "http://" + self.sched.address], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertIn("cleared 1 task instance", p.stdout.decode())
        run = self.wait_run("user_automation", run_id)
        self.assertEqual(run["state"], "success")
        self.assertEqual(self.tis("user_automation", run_id)["stream_data_from_api"]
                         ["try_number"], 2)
        self.assertEqual(self.staged(key), ["1200", "1200", "1200"])

    def test_bad_conf_is_refused(self):
        st, body = self.call("POST", "/dags/user_automation/dagRuns",
                             {"conf": {"max_records": "many"}})
        self.assertEqual(st, 400, body)
        self.assertIn("max_records", json.dumps(body))
        st, body = self.call("POST", "/dags/no_such_dag/dagRuns", {"conf": {}})
        self.assertEqual(st, 404, body)

    def test_catchup_creates_missed_intervals(self):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            st, body = self.call("GET", "/dags/catchup_daily/dagRuns?limit=100")
            self.assertEqual(st, 200, body)
            runs = body["dag_runs"]
            if len(runs) >= 3 and all(r["state"] == "success" for r in runs):
                break
            time.sleep(0.3)
        starts = sorted(r["data_interval_start"] for r in runs)
        want = [iso(self.catchup_start + datetime.timedelta(days=i)) for i in range(3)]
        self.assertEqual(starts, want)
        for r in runs:
            self.assertEqual(r["run_type"], "scheduled")
            self.assertEqual(r["state"], "success")
            self.assertEqual(r["dag_run_id"], "scheduled__" + r["logical_date"])
            start = datetime.datetime.fromisoformat(r["data_interval_start"])
            end = datetime.datetime.fromisoformat(r["data_interval_end"])
            self.assertEqual(end - start, datetime.timedelta(days=1))
            ti = self.tis("catchup_daily", r["dag_run_id"])
            self.assertLessEqual(ti["extract"]["end_date"], ti["load"]["start_date"])

    def test_retries_with_backoff_against_a_failing_api(self):
        run_id = self.trigger("flaky_api")
        run = self.wait_run("flaky_api", run_id)
        self.assertEqual(run["state"], "success", self.sched.log_tail())
        ti = self.tis("flaky_api", run_id)["fetch"]
        self.assertEqual(ti["try_number"], 3, "".join(
            self.task_log("flaky_api", run_id, "fetch", n) for n in
            range(1, ti["try_number"] + 1)))
        self.assertIn("retrying in 1000 ms", self.task_log("flaky_api", run_id, "fetch", 1))
        self.assertIn("retrying in 2000 ms", self.task_log("flaky_api", run_id, "fetch", 2))
        self.assertIn("succeeded", self.task_log("flaky_api", run_id, "fetch", 3))
        key = "flaky_api/%s/fetch" % run_id
        self.assertEqual(self.staged(key), ["100", "100", "100"])
        with urllib.request.urlopen("http://%s/metrics" % self.sched.address,
                                    timeout=30) as r:
            metrics = r.read().decode()
        self.assertIn('brook_scheduler_task_tries_total{dag_id="flaky_api",task_id="fetch",'
                      'outcome="up_for_retry"} 2', metrics)
        self.assertIn('brook_scheduler_task_tries_total{dag_id="flaky_api",task_id="fetch",'
                      'outcome="success"} 1', metrics)
        self.assertIn('brook_scheduler_dag_runs_finished_total{dag_id="flaky_api",'
                      'state="success"} 1', metrics)

    def test_trigger_rules(self):
        run_id = self.trigger("rules")
        run = self.wait_run("rules", run_id)
        self.assertEqual(run["state"], "failed")
        states = {k: v["state"] for k, v in self.tis("rules", run_id).items()}
        self.assertEqual(states, {"boom": "failed", "after_boom": "upstream_failed",
                                  "on_failure": "success", "always": "success"})
        log = self.task_log("rules", run_id, "boom", 1)
        self.assertIn("about to fail", log)
        self.assertIn("status 3", log)

    def test_sigkill_mid_run_then_restart(self):
        run_id = self.trigger("slow")
        key = "slow/%s/stream" % run_id
        deadline = time.monotonic() + WAIT
        while int(self.staged(key)[0]) < 200:
            self.assertLess(time.monotonic(), deadline, self.sched.log_tail())
            time.sleep(0.1)
        self.sched.kill()
        before = int(self.staged(key)[0])
        self.assertLess(before, 2000)
        self.sched.start()
        run = self.wait_run("slow", run_id)
        self.assertEqual(run["state"], "success", self.sched.log_tail())
        ti = self.tis("slow", run_id)["stream"]
        self.assertEqual(ti["try_number"], 2)
        self.assertIn("scheduler stopped while try 1 ran", self.task_log("slow", run_id,
                                                                         "stream", 1))
        total, distinct, batches = self.staged(key)
        self.assertEqual((total, distinct, batches), ("2000", "2000", "2000"))
        self.assertEqual(self.psql("SELECT count(*) FROM staging.batches WHERE run_id = "
                                   "'%s'" % key), "100")
        # psql shows the history of that run.
        hist = self.psql("SELECT dag_id, state, run_type FROM scheduler.dag_run WHERE "
                         "run_id = '%s'" % run_id)
        self.assertEqual(hist, "slow|success|manual")

    def test_execution_timeout(self):
        run_id = self.trigger("timeout")
        run = self.wait_run("timeout", run_id)
        self.assertEqual(run["state"], "failed")
        ti = self.tis("timeout", run_id)["sleepy"]
        self.assertEqual(ti["state"], "failed")
        self.assertLess(ti["duration"], 20)
        log = self.task_log("timeout", run_id, "sleepy", 1)
        self.assertIn("sleeping", log)
        self.assertIn("timed out", log)

    def test_pause_and_unpause(self):
        # Paused at creation: no scheduled runs, however many passes the loop makes.
        st, h = self.call("GET", "/health")
        beat = h["scheduler"]["latest_scheduler_heartbeat"]
        deadline = time.monotonic() + WAIT
        while self.call("GET", "/health")[1]["scheduler"]["latest_scheduler_heartbeat"] \
                == beat:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        st, body = self.call("GET", "/dags/paused_catchup/dagRuns")
        self.assertEqual((st, body["total_entries"]), (200, 0))
        st, dag = self.call("PATCH", "/dags/paused_catchup", {"is_paused": False})
        self.assertEqual((st, dag["is_paused"]), (200, False))
        while self.call("GET", "/dags/paused_catchup/dagRuns")[1]["total_entries"] < 3:
            self.assertLess(time.monotonic(), deadline, self.sched.log_tail())
            time.sleep(0.1)
        st, dag = self.call("PATCH", "/dags/paused_catchup", {"is_paused": True})
        self.assertEqual((st, dag["is_paused"]), (200, True))

    def test_backfill_respects_max_active_runs(self):
        # A backfill runs even though the DAG is paused (as Airflow's backfill does),
        # one run at a time.
        st, body = self.call("POST", "/dags/one_at_a_time/backfill",
                             {"from": "2024-02-01", "to": "2024-02-03"})
        self.assertEqual(st, 200, body)
        ids = [r["dag_run_id"] for r in body["dag_runs"]]
        self.assertEqual(ids, ["backfill__2024-02-0%d T00:00:00+00:00".replace(" ", "") % d
                               for d in (1, 2, 3)])
        runs = [self.wait_run("one_at_a_time", i) for i in ids]
        self.assertTrue(all(r["state"] == "success" for r in runs))
        spans = sorted((r["start_date"], r["end_date"]) for r in runs)
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            self.assertLessEqual(e1, s2, spans)
        # Again: every interval has its run; nothing new.
        st, body = self.call("POST", "/dags/one_at_a_time/backfill",
                             {"from": "2024-02-01", "to": "2024-02-03"})
        self.assertEqual((st, body["total_entries"]), (200, 0))

    def test_postgres_restart_under_the_scheduler(self):
        run_id = self.trigger("noop")
        self.assertEqual(self.wait_run("noop", run_id)["state"], "success")
        self.pg.stop()
        self.pg.start()
        # The API's pooled connections and the loop's reconnect; runs go on.
        run_id = self.trigger("noop")
        self.assertEqual(self.wait_run("noop", run_id)["state"], "success",
                         self.sched.log_tail())
        self.assertIn("reconnected to PostgreSQL", self.sched.log_tail(200))
        self.sched.assert_alive()

    def test_one_scheduler_per_database(self):
        p = subprocess.run([BROOK, "scheduler", "--data", self.tmp, "--listen",
                            "127.0.0.1:0", "--config", self.config], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("another scheduler is running", err)
        self.sched.assert_alive()

    def test_starts_and_stops_its_own_cluster(self):
        """No PostgreSQL running and no postgres.dsn: the scheduler initialises and
        starts the private cluster under its data dir, and stops it on SIGTERM; after a
        SIGKILL, the next scheduler takes the orphaned cluster over."""
        data = tempfile.mkdtemp(prefix="brook-sched-own-", dir=self.tmp)
        os.chmod(data, 0o755)
        cfg = os.path.join(data, "dags.yaml")
        with open(cfg, "w") as f:
            f.write("scheduler:\n  dags:\n    hello:\n      schedule: none\n"
                    "      is_paused_upon_creation: false\n      tasks:\n"
                    "        say: {operator: shell, params: {command: echo hello}}\n")
        own = brooktest.ServerUnderTest("scheduler", data_dir=data, extra_args=[
            "--config", cfg], sets=["postgres.listen=127.0.0.1:0", "scheduler.tick=200ms"])
        own.start()
        try:
            pidfile = os.path.join(data, "postgres", "pgdata", "postmaster.pid")
            self.assertTrue(os.path.exists(pidfile), own.log_tail())
            url = "http://%s/api/v1" % own.address
            req = urllib.request.Request(url + "/dags/hello/dagRuns", method="POST",
                                         data=b'{"conf": {}}',
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                run_id = json.loads(r.read())["dag_run_id"]
            deadline = time.monotonic() + WAIT
            while True:
                with urllib.request.urlopen("%s/dags/hello/dagRuns/%s" % (
                        url, urllib.request.quote(run_id, safe="")), timeout=30) as r:
                    state = json.loads(r.read())["state"]
                if state in ("success", "failed"):
                    break
                self.assertLess(time.monotonic(), deadline, own.log_tail())
                time.sleep(0.2)
            self.assertEqual(state, "success", own.log_tail())
            # SIGKILL leaves the postmaster running; the next scheduler takes it over.
            own.kill()
            self.assertTrue(os.path.exists(pidfile))
            own.start()
            self.assertIn("taking it over", own.log_tail(), own.log_tail())
        finally:
            own.stop()
        self.assertFalse(os.path.exists(pidfile), "the scheduler left PostgreSQL running")

    def test_cycle_refuses_to_start(self):
        bad = os.path.join(self.tmp, "cycle.yaml")
        with open(bad, "w") as f:
            f.write("scheduler:\n  dags:\n    loop:\n      tasks:\n"
                    "        a: {operator: empty, upstream: [c]}\n"
                    "        b: {operator: empty, upstream: [a]}\n"
                    "        c: {operator: empty, upstream: [b]}\n")
        p = subprocess.run([BROOK, "scheduler", "--data", self.tmp, "--listen",
                            "127.0.0.1:0", "--config", bad], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("cycle.yaml:", err)
        self.assertIn("loop", err)
        self.assertIn("cycle", err)
        self.assertNotIn("ready", err)


if __name__ == "__main__":
    unittest.main()
