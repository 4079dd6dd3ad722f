#!/usr/bin/python3
"""bench_pipeline — the whole pipeline under `brook up`, end to end, beside the reference
tutorial's own approach measured in the same run.

  ready       time from `brook up` to its ready line: first start (initdb included)
              and a restart on the same data dir
  sustained   N users staged into staging.raw_users as fast as SESSIONS concurrent
              sessions can, the scheduler's way (bench/stage_feed: pg_stage_batch, one
              transaction of TXN users, default 1,000, per batch, binary COPY; default 4
              sessions: each waits for its commits' WAL flush, and with 2 the staging
              itself, not the pipeline, was the limit); time from the start of staging
              until the last row is acknowledged by the store (the stream job's
              records_out): staging insert → connector → broker → registry-framed Avro →
              stream job → CQL store
  one txn     the same with --one-txn-records users in ONE transaction: logical decoding
              sends a transaction only once it commits, so nothing flows during the COPY
  stream      the stream job alone over the whole topic, every record staged above (a
              new consumer group), beside the baseline
  baseline    the reference tutorial's approach: a Python consumer (kafka-python, from a
              JSON copy of the same users, as the tutorial keeps JSON in Kafka) inserting
              row by row with the DataStax driver into the same broker and store
  latency     5,000 users/s staged in batches of 500 every 100 ms for DURATION seconds;
              p50/p99 of the stream job's end-to-end histogram (fetched_at, the staging
              time → store ack; linear within buckets)
  memory      `brook up` and its children except PostgreSQL, at idle and the peak under
              load (sampled every 0.2 s): PSS summed (shared library pages divided among
              the processes sharing them: the tree's real footprint) and RSS summed

Usage: bench_pipeline.py [--records N] [--one-txn-records N] [--txn TXN] [--sessions K]
                         [--baseline-records N] [--duration S]
  --records N          users of the sustained phase (default 500,000: at ~60,000 users/s
                       that is ~8 s, so the first batches' ramp-up through the eight
                       processes and the final drain are a small part of the time)
  --one-txn-records N  users of the one-transaction phase (default 200,000)
Environment: BROOK_BIN (default build/brook; bench/stage_feed is built beside it).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("BROOK_BIN", os.path.join(HERE, "..", "build", "brook"))
import uptest  # noqa: E402

BROOK = uptest.BROOK
COLS = ("id", "first_name", "last_name", "gender", "address", "post_code", "email",
        "username", "dob", "registered_date", "phone", "picture")


def sample_user(up):
    url = "http://127.0.0.1:%d/api/?results=1&seed=bench" % up.ports["randomuser"]
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["results"][0]


STAGE_FEED = os.path.join(os.path.dirname(os.path.abspath(BROOK)), "stage_feed")


class Feed:
    """bench/stage_feed (built beside brook): stages users first..first+n-1 with the
    scheduler's own pg_stage_batch (a transaction per batch of txn users, binary COPY)
    over `sessions` connections, at `rate` users/s if given. The payloads are built
    before start() is called, so the clock covers staging only."""

    def __init__(self, up, template_path, first, n, txn, sessions=1, rate=0):
        dsn = subprocess.run([BROOK, "postgres", "--print-dsn"] + up.client_args(),
                             check=True, capture_output=True, text=True).stdout.strip()
        self.p = subprocess.Popen(
            [STAGE_FEED, "--pg", dsn, "--template", template_path, "--first", str(first),
             "--count", str(n), "--txn", str(txn), "--sessions", str(sessions),
             "--rate", str(rate)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line.startswith("prepared"), "stage_feed: %r" % line

    def start(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()

    def wait(self):
        """Seconds the staging took (stage_feed's own clock)."""
        out = self.p.stdout.read()
        assert self.p.wait() == 0, "stage_feed failed: %r" % out
        return float(out.split(" in ")[1].split()[0])


def metrics(port):
    """The stream job's /metrics text at 127.0.0.1:port ("" when it does not answer)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                    timeout=5) as r:
            return r.read().decode()
    except OSError:
        return ""


def metric_sum(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def histogram(text, name):
    """[(le, cumulative count)] of a histogram (summed over label sets)."""
    buckets = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            le = line[line.index('le="') + 4:]
            le = le[:le.index('"')]
            v = float(line.rsplit(" ", 1)[1])
            key = float("inf") if le == "+Inf" else float(le)
            buckets[key] = buckets.get(key, 0) + v
    return sorted(buckets.items())


def quantile(before, after, q):
    b = dict(before)
    d = [(le, c - b.get(le, 0)) for le, c in after]
    total = d[-1][1] if d else 0
    if not total:
        return float("nan")
    want = q * total
    prev_le, prev_c = 0.0, 0.0
    for le, c in d:
        if c >= want:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (want - prev_c) / max(c - prev_c, 1e-9)
        prev_le, prev_c = le, c
    return prev_le


def rss_parts(up, field="Rss"):
    """{part: MB} of up ("up") and its children except the PostgreSQL part: field Rss
    (resident, shared library pages counted in every process) or Pss (proportional:
    pages shared by n processes count 1/n in each, so the sum is the tree's memory)."""
    pids = {"up": up.pid}
    pids.update((part, pid) for part, pid in up.child_pids().items() if part != "postgres")
    out = {}
    for part, pid in pids.items():
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        out[part] = int(line.split()[1]) / 1024.0
        except OSError:
            pass
    return out


def rss_mb(up, field="Rss"):
    return sum(rss_parts(up, field).values())


class RssSampler(threading.Thread):
    """The peak of the sum, and each part's own peak."""

    def __init__(self, up):
        super().__init__(daemon=True)
        self.up, self.peak, self.peak_pss, self.parts, self.stop_flag = up, 0.0, 0.0, {}, False

    def run(self):
        while not self.stop_flag:
            parts = rss_parts(self.up)
            self.peak = max(self.peak, sum(parts.values()))
            self.peak_pss = max(self.peak_pss, rss_mb(self.up, "Pss"))
            for k, v in parts.items():
                self.parts[k] = max(self.parts.get(k, 0.0), v)
            time.sleep(0.2)


def cpu_seconds(up):
    """{part: CPU seconds} of each of up's children with its whole process tree (the
    postgres part includes PostgreSQL's postmaster, backends and their exited children,
    the COPY sessions' backends among them): utime + stime + the reaped children's
    cutime + cstime, from /proc."""
    hz = os.sysconf("SC_CLK_TCK")
    stats, kids = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                f_ = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(d)] = sum(int(x) for x in f_[11:15]) / hz
        kids.setdefault(int(f_[1]), []).append(int(d))

    def tree(pid):
        return stats.get(pid, 0.0) + sum(tree(k) for k in kids.get(pid, []))
    out = {part: tree(pid) for part, pid in up.child_pids().items()}
    # pg_ctl detaches the postmaster: found through its pid file.
    for pidfile in glob.glob(os.path.join(up.data_dir, "**", "postmaster.pid"),
                             recursive=True):
        try:
            with open(pidfile) as f:
                out["postgres"] = out.get("postgres", 0.0) + tree(int(f.readline()))
        except (OSError, ValueError):
            pass
    return out


def wait_out(port, target, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metric_sum(metrics(port), "brook_stream_records_out_total") >= target:
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit("bench: the stream job did not store %d rows in %d s" % (target, timeout))


def baseline(up, template, n):
    """The tutorial's consumer: kafka-python + json + DataStax driver, row by row."""
    from cassandra.cluster import Cluster
    from kafka import KafkaConsumer, KafkaProducer
    bootstrap = "127.0.0.1:%d" % up.ports["broker"]
    prod = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for i in range(n):
        template["login"]["uuid"] = str(uuid.UUID(int=10**9 + i))
        prod.send("users_json", json.dumps(template).encode())
    prod.flush()
    prod.close()
    cluster = Cluster(["127.0.0.1"], port=up.ports["store"], protocol_version=4)
    session = cluster.connect()
    session.execute("CREATE TABLE IF NOT EXISTS spark_streams.created_users_py (id uuid "
                    "PRIMARY KEY, first_name text, last_name text, gender text, address text,"
                    " post_code text, email text, username text, dob text, "
                    "registered_date text, phone text, picture text)")
    insert = session.prepare("INSERT INTO spark_streams.created_users_py (%s) VALUES (%s)" % (
        ", ".join(COLS), ", ".join("?" * len(COLS))))
    cons = KafkaConsumer("users_json", bootstrap_servers=bootstrap, group_id="bench-py",
                         auto_offset_reset="earliest", enable_auto_commit=True)
    done = 0
    t0 = time.monotonic()
    while done < n:
        for recs in cons.poll(timeout_ms=500).values():
            for m in recs:
                u = json.loads(m.value)
                loc = u["location"]
                session.execute(insert, (
                    uuid.uuid5(uuid.NAMESPACE_URL, u["login"]["uuid"]), u["name"]["first"],
                    u["name"]["last"], u["gender"],
                    "%s %s, %s, %s, %s" % (loc["street"]["number"], loc["street"]["name"],
                                           loc["city"], loc["state"], loc["country"]),
                    str(loc["postcode"]), u["email"], u["login"]["username"],
                    u["dob"]["date"], u["registered"]["date"], u["phone"],
                    u["picture"]["medium"]))
                done += 1
    elapsed = time.monotonic() - t0
    cons.close()
    cluster.shutdown()
    return n / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=500000)
    ap.add_argument("--one-txn-records", type=int, default=200000)
    ap.add_argument("--txn", type=int, default=1000)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--baseline-records", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=20)
    args = ap.parse_args()
    N = args.records

    # ---- ready time ------------------------------------------------------------------
    up = uptest.Up(sets=["log.level=warn"])
    t0 = time.monotonic()
    up.start()
    ready_first = time.monotonic() - t0
    data = up.data_dir
    up.stop()
    up = uptest.Up(data_dir=data, ports=up.ports)
    t0 = time.monotonic()
    up.start()
    ready_again = time.monotonic() - t0
    print("ready: first start (initdb) %.2f s, restart %.2f s" % (ready_first, ready_again))

    try:
        time.sleep(3)
        idle = rss_mb(up)
        idle_pss = rss_mb(up, "Pss")
        user = sample_user(up)
        template = os.path.join(data, "template.json")
        with open(template, "w") as f:
            json.dump(user, f)
        sampler = RssSampler(up)
        sampler.start()

        # ---- sustained, staging → store ---------------------------------------------
        e2e_rate = staging_to_store(up, template, 1, N, args.txn, args.sessions, 0,
                                    "sustained")

        # ---- latency at 5,000 users/s ------------------------------------------------
        before = histogram(metrics(up.ports["stream"]), "brook_stream_end_to_end_seconds")
        out0 = metric_sum(metrics(up.ports["stream"]), "brook_stream_records_out_total")
        first = N + 1
        slices = args.duration * 10
        feed = Feed(up, template, first, 500 * slices, 500, rate=5000)
        feed.start()
        rate = 500 * slices / feed.wait()
        wait_out(up.ports["stream"], out0 + 500 * slices, 120)
        after = histogram(metrics(up.ports["stream"]), "brook_stream_end_to_end_seconds")
        p50, p99 = quantile(before, after, 0.5), quantile(before, after, 0.99)
        sampler.stop_flag = True
        sampler.join()
        print("latency at %.0f users/s for %d s: p50 %.0f ms, p99 %.0f ms" % (
            rate, args.duration, p50 * 1000, p99 * 1000))
        print("memory (up + children, PostgreSQL excluded): PSS idle %.0f MB, peak under "
              "load %.0f MB; RSS summed idle %.0f MB, peak %.0f MB (per part: %s)" % (
                  idle_pss, sampler.peak_pss, idle, sampler.peak, ", ".join(
                      "%s %.0f" % kv for kv in sorted(sampler.parts.items()))))

        # ---- one transaction --------------------------------------------------------------
        done = N + 500 * slices
        n1 = args.one_txn_records
        staging_to_store(up, template, done + 1, n1, n1, 1, done, "one transaction")

        # ---- the stream job alone, and the baseline ------------------------------------
        total = done + n1
        sets = []
        for kv in up.port_sets:
            sets += ["--set", kv]
        # A second stream process, in its own group, over the whole topic.
        port = uptest.free_ports(1)[0]
        p = subprocess.Popen([BROOK, "stream", "--data", data, "--config",
                              write_group_config(data), "--log-level", "warn"] + sets +
                             ["--set", "stream.metrics_listen=127.0.0.1:%d" % port])
        t0 = time.monotonic()
        wait_out(port, total, 600)
        stream_rate = total / (time.monotonic() - t0)
        p.terminate()
        p.wait()
        py_rate = baseline(up, user, args.baseline_records)
        print("stream job alone: %d records in a new group = %.0f records/s" % (
            total, stream_rate))
        print("baseline (kafka-python + DataStax driver, row by row): %.0f records/s" %
              py_rate)
        print("ratio: stream/baseline %.1fx, end-to-end/baseline %.1fx" % (
            stream_rate / py_rate, e2e_rate / py_rate))
    finally:
        up.stop()
        up.cleanup()
        shutil.rmtree(data, ignore_errors=True)  # the restarted up does not own it


def staging_to_store(up, template, first, n, txn, sessions, out_before, what):
    """Stages users first..first+n-1 in transactions of txn over `sessions` concurrent
    sessions; the users/s from the start of staging until the stream job has written
    out_before + n rows."""
    feed = Feed(up, template, first, n, txn, sessions)
    cpu0 = cpu_seconds(up)
    t0 = time.monotonic()
    feed.start()
    feed.wait()
    t_staged = time.monotonic()
    t_done = wait_out(up.ports["stream"], out_before + n, 600)
    cpu1 = cpu_seconds(up)
    rate = n / (t_done - t0)
    print("%s: %d users (transactions of %d, %d session(s)) staging -> store in %.2f s = "
          "%.0f users/s (staging took %.2f s)" % (what, n, txn, sessions, t_done - t0, rate,
                                               t_staged - t0))
    used = {p: cpu1[p] - cpu0.get(p, 0.0) for p in cpu1}
    total = sum(used.values())
    print("  CPU per user: %s; total %.1f us (%.0f %% of %d cores busy)" % (
        ", ".join("%s %.1f us" % (p, 1e6 * c / n) for p, c in
                  sorted(used.items(), key=lambda kv: -kv[1]) if c >= 0.01),
        1e6 * total / n, 100 * total / (t_done - t0) / os.cpu_count(), os.cpu_count()))
    return rate


def write_group_config(data):
    """The built-in `users` job (config/brook.yaml's stream section) in another consumer
    group, so it reads the whole topic again, writing to the same table (upserts)."""
    with open(os.path.join(HERE, "..", "config", "brook.yaml")) as f:
        text = f.read()
    section = text[text.index("\nstream:\n") + 1:]
    marker = "        topics: [users_created]\n"
    assert marker in section, "config/brook.yaml: the users job's topics line moved"
    section = section.replace(marker, marker + "        group: bench-stream\n")
    path = os.path.join(data, "bench-stream.yaml")
    with open(path, "w") as f:
        f.write(section)
    return path


if __name__ == "__main__":
    main()
