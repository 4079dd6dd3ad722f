"""kafkatest.py — shared helpers for the broker tests driven by real Kafka clients.

  BrokerUnderTest   the brook broker as a child process on 127.0.0.1: start on an
                    ephemeral port, SIGTERM (must exit 0), SIGKILL, restart on the same
                    port and data directory (brooktest.ServerUnderTest, shared with the
                    store tests).
  MockCluster       librdkafka's in-process mock cluster kept alive in a child process
                    (`kafka_scenarios --mock serve`), so kcat and kafka-python can be run
                    against the same oracle the differential test uses.
  run_scenario      the tests/clients/kafka_scenarios program (librdkafka), parsed JSON
                    lines; target is a bootstrap "HOST:PORT" or the string "mock".
  kcat_*            kcat (-L -J, -P -K: -H, -C -e -J, -G, -Q).

Contract assumed of the broker (issue 3): `brook broker --listen 127.0.0.1:PORT --data DIR
[--set k=v]...` prints a line containing "ready" and "127.0.0.1:PORT" (the bound port,
also when PORT is 0) once it accepts connections; SIGTERM finishes in-flight requests,
flushes and exits 0.

Standard library only. Environment: BROOK_BIN (the brook binary), BROOK_BUILD_DIR (where
kafka_scenarios was built), BROOK_TEST_VERBOSE=1 echoes child output to stderr.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brooktest  # noqa: E402
from brooktest import START_TIMEOUT, VERBOSE  # noqa: E402

BUILD_DIR = os.environ.get("BROOK_BUILD_DIR", os.path.join(os.getcwd(), "build"))
SCENARIOS = os.path.join(BUILD_DIR, "kafka_scenarios")
KCAT = shutil.which("kcat") or shutil.which("kafkacat") or "kcat"
AGAINST_MOCK = os.environ.get("BROOK_TEST_AGAINST_MOCK") == "1"


class BrokerUnderTest(brooktest.ServerUnderTest):
    """brook broker on 127.0.0.1 (brooktest.ServerUnderTest: start, stop, kill, restart,
    log_tail, cleanup, context manager), with its metrics on an ephemeral port."""

    def __init__(self, sets=None, data_dir=None, extra_args=None):
        super().__init__("broker", sets=sets, data_dir=data_dir, extra_args=extra_args,
                         metrics_key="broker.metrics_listen")

    @property
    def bootstrap(self):
        return self.address


class MockCluster:
    """librdkafka's mock cluster in a child process (kafka_scenarios --mock serve)."""

    def __init__(self, topic=None, partitions=6):
        """topic: a name or a list of names to create with `partitions` partitions."""
        self.topic = ",".join(topic) if isinstance(topic, (list, tuple)) else topic
        self.partitions = partitions
        self.proc = None
        self.bootstrap = None

    def start(self):
        cmd = [SCENARIOS, "--mock", "serve", "--partitions", str(self.partitions)]
        if self.topic:
            cmd += ["--topic", self.topic]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = brooktest.LineCollector(self.proc, "mock")
        try:
            _, line = self.out.q.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise AssertionError("mock cluster did not start:\n" + self.out.tail())
        self.bootstrap = json.loads(line)["bootstrap"]
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def cluster_under_test(mock_topics=None, **kw):
    """The cluster a broker test drives: brook (BrokerUnderTest), or, with
    BROOK_TEST_AGAINST_MOCK=1, librdkafka's mock cluster, to validate a test itself
    against the oracle (tests that need kill/restart or admin APIs skip there)."""
    if AGAINST_MOCK:
        return MockCluster(topic=mock_topics)
    return BrokerUnderTest(**kw)


# ---------- kafka_scenarios ----------

def scenario_command(target, name, *args):
    """target: "mock" or a bootstrap "HOST:PORT"."""
    where = ["--mock"] if target == "mock" else ["--bootstrap", target]
    return [SCENARIOS] + where + [name] + [str(a) for a in args]


def parse_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def run_scenario(target, name, *args, timeout=900, check=True):
    """Run one scenario to completion; returns its JSON lines (a list of dicts). With
    check, a non-zero exit raises AssertionError carrying the failed checks and stderr."""
    proc = subprocess.run(scenario_command(target, name, *args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    lines = parse_lines(proc.stdout.decode())
    if VERBOSE:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
    if check and proc.returncode != 0:
        failed = [x for x in lines if x.get("ok") is False]
        raise AssertionError("kafka_scenarios %s against %s exited %d; failed checks %s\n%s"
                             % (name, target, proc.returncode, failed,
                                proc.stderr.decode("utf-8", "replace")[-4000:]))
    return lines


def observable(lines):
    """What the differential test compares: scenario output without the fields that
    depend on scheduling ("nondeterministic") and without offsets-for-times query lines
    (librdkafka 2.0.2's mock answers every timestamp query with -1: no oracle)."""
    out = []
    for x in lines:
        if x.get("scenario") == "offsets-for-times":
            continue
        x = dict(x)
        x.pop("nondeterministic", None)
        out.append(x)
    return out


class Scenario:
    """A scenario running in the background; its output goes to temporary files, so it
    can never block on a full pipe however long it runs."""

    def __init__(self, cmd):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err)

    def poll(self):
        return self.proc.poll()

    def stderr_text(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def stdout_text(self):
        self.out.seek(0)
        return self.out.read().decode("utf-8", "replace")


def start_scenario(target, name, *args):
    """Start a scenario in the background (e.g. produce-acked). Stop it with
    stop_scenario()."""
    return Scenario(scenario_command(target, name, *args))


def stop_scenario(sc, timeout=300):
    """SIGTERM, then collect (returncode, parsed stdout lines, stderr text)."""
    if sc.proc.poll() is None:
        sc.proc.send_signal(signal.SIGTERM)
    sc.proc.wait(timeout=timeout)
    out, err = sc.stdout_text(), sc.stderr_text()
    sc.out.close()
    sc.err.close()
    return sc.proc.returncode, parse_lines(out), err


# ---------- kcat ----------

def kcat(bootstrap, *args, input_bytes=None, timeout=300, check=True):
    cmd = [KCAT, "-b", bootstrap, "-X", "api.version.request=true"] + [str(a) for a in args]
    proc = subprocess.run(cmd, input=input_bytes, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("%s exited %d:\n%s" % (" ".join(cmd), proc.returncode,
                                                    proc.stderr.decode()[-4000:]))
    return proc


def kcat_metadata(bootstrap, topic=None):
    """kcat -L -J: {"brokers": [...], "topics": [{"topic", "partitions": [...]}, ...]}."""
    args = ["-L", "-J"] + (["-t", topic] if topic else [])
    return json.loads(kcat(bootstrap, *args).stdout.decode())


def kcat_produce(bootstrap, topic, data, key_delim=":", headers=(), partition=None,
                 extra=()):
    """kcat -P: data is bytes, one message per line, "key<delim>value" with -K. headers
    are (name, value) pairs put on every message (-H name=value)."""
    args = ["-P", "-t", topic, "-K", key_delim]
    for name, value in headers:
        args += ["-H", "%s=%s" % (name, value)]
    if partition is not None:
        args += ["-p", partition]
    return kcat(bootstrap, *(args + list(extra)), input_bytes=data)


def kcat_consume(bootstrap, topic, offset="beginning", partition=None, extra=()):
    """kcat -C -e -J: every message up to the end, as dicts (topic, partition, offset,
    tstype, ts, broker, headers [name, value, ...], key, payload)."""
    args = ["-C", "-t", topic, "-o", offset, "-e", "-J", "-q"]
    if partition is not None:
        args += ["-p", partition]
    out = kcat(bootstrap, *(args + list(extra))).stdout.decode()
    return parse_lines(out)


def kcat_group(bootstrap, group, topics, extra=(), timeout=300):
    """kcat -G GROUP TOPIC... -e -J: balanced-consumer mode until every assigned
    partition reached its end; returns the messages."""
    args = ["-G", group] + list(topics) + ["-e", "-J", "-q",
                                           "-X", "auto.offset.reset=earliest"]
    out = kcat(bootstrap, *(args + list(extra)), timeout=timeout).stdout.decode()
    return parse_lines(out)


def kcat_offsets_for_times(bootstrap, topic, partition, ts):
    """kcat -Q -t topic:partition:ts -J: the offset whose timestamp >= ts (or -1)."""
    out = kcat(bootstrap, "-Q", "-t", "%s:%d:%d" % (topic, partition, ts), "-J").stdout
    return json.loads(out.decode())
