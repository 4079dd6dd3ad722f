"""The brook binary's command line: subcommand table, help, configuration layering."""
import os
import subprocess
import tempfile
import unittest

BROOK = os.environ.get("BROOK_BIN", "build/brook")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def brook(*args, env=None, check=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("BROOK_") or k == "BROOK_BIN"}
    if env:
        e.update(env)
    p = subprocess.run([BROOK, *args], capture_output=True, text=True, env=e, timeout=60)
    if check is not None and p.returncode != check:
        raise AssertionError(f"brook {' '.join(args)} exited {p.returncode}, want {check}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def show(*args, env=None):
    """`brook config show` as {key: (value text, origin)}."""
    out = brook("config", "show", *args, env=env, check=0).stdout
    res = {}
    for line in out.splitlines():
        key, rest = line.split(": ", 1)
        value, origin = rest.rsplit("  # ", 1)
        res[key] = (value, origin)
    return res


class TestCommands(unittest.TestCase):
    def test_help_lists_every_command(self):
        p = brook("--help", check=0)
        for cmd in ("randomuser", "fetch", "config", "version"):
            self.assertRegex(p.stdout, rf"\n  {cmd} +\S")
            sub = brook(cmd, "--help", check=0)
            self.assertIn(f"usage: brook {cmd}", sub.stdout)
            self.assertIn("--config FILE", sub.stdout)
            self.assertIn("--set KEY=VALUE", sub.stdout)

    def test_no_command_and_unknown_command(self):
        self.assertEqual(brook().returncode, 2)
        p = brook("frobnicate", check=2)
        self.assertIn("unknown command 'frobnicate'", p.stderr)

    def test_unknown_option_is_a_usage_error(self):
        p = brook("version", "--bogus", check=2)
        self.assertIn("unknown option", p.stderr)
        self.assertIn("brook version --help", p.stderr)
        p = brook("config", "show", "--set", check=2)
        self.assertIn("needs a value", p.stderr)

    def test_version(self):
        p = brook("version", check=0)
        self.assertRegex(p.stdout, r"^brook \d+\.\d+\.\d+\n")
        self.assertIn("libcurl", p.stdout)
        self.assertEqual(brook("--version", check=0).stdout, p.stdout)


class TestConfig(unittest.TestCase):
    def write(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_defaults_and_origins(self):
        cfg = show()
        self.assertEqual(cfg["kafka.bootstrap"], ('"127.0.0.1:9092"', "default"))
        self.assertRegex(cfg["source.url"][1], r"^built-in:\d+$")
        self.assertEqual(cfg["postgres.dsn"], ("null", "default"))

    def test_precedence_file_env_set(self):
        path = self.write("source:\n  retries: 2\n  timeout: 3s\nkafka.bootstrap: f:1\n")
        cfg = show("--config", path)
        self.assertEqual(cfg["source.retries"], ("2", f"{path}:2"))
        self.assertEqual(cfg["kafka.bootstrap"], ('"f:1"', f"{path}:4"))
        cfg = show("--config", path, env={"BROOK_SOURCE_RETRIES": "3",
                                          "BROOK_KAFKA_BOOTSTRAP": "e:1"})
        self.assertEqual(cfg["source.retries"], ("3", "env BROOK_SOURCE_RETRIES"))
        self.assertEqual(cfg["source.timeout"], ('"3s"', f"{path}:3"))
        # --set wins over the environment whatever the order on the command line
        cfg = show("--set", "source.retries=4", "--config", path,
                   env={"BROOK_SOURCE_RETRIES": "3"})
        self.assertEqual(cfg["source.retries"], ("4", "--set"))
        # options that are sugar for a key
        cfg = show("--log-level", "debug")
        self.assertEqual(cfg["log.level"], ('"debug"', "--log-level"))

    def test_errors_name_file_line_and_key(self):
        path = self.write("source:\n  url: http://x/\n  retires: 2\n")
        p = brook("config", "show", "--config", path, check=2)
        self.assertIn(f"{path}:3: unknown key 'source.retires' (did you mean "
                      "'source.retries'?)", p.stderr)
        path = self.write("source.timeout: later\n")
        p = brook("config", "show", "--config", path, check=2)
        self.assertIn(f"{path}:1: key 'source.timeout': expected a duration", p.stderr)
        p = brook("config", "show", env={"BROOK_LOG_FORMAT": "xml"}, check=2)
        self.assertIn("env BROOK_LOG_FORMAT: key 'log.format': 'xml' is not one of text|json",
                      p.stderr)
        p = brook("config", "show", "--set", "nope=1", check=2)
        self.assertIn("--set: unknown key 'nope'", p.stderr)
        p = brook("config", "show", "--config", "/nonexistent.yaml", check=2)
        self.assertIn("/nonexistent.yaml: cannot open", p.stderr)

    def test_show_output_reloads(self):
        path = self.write("source: {retries: 7}\ncassandra.contact_points: [a:1, b:2]\n")
        dump = brook("config", "show", "--config", path, check=0).stdout
        again = self.write(dump)
        self.assertEqual({k: v[0] for k, v in show("--config", again).items()},
                         {k: v[0] for k, v in show("--config", path).items()})

    def test_config_md_is_current(self):
        keys = brook("config", "keys", "--markdown", check=0).stdout
        with open(os.path.join(ROOT, "docs", "CONFIG.md")) as f:
            doc = f.read()
        self.assertIn(keys, doc, "docs/CONFIG.md is stale: regenerate it with "
                      "scripts/gen-config-doc.sh")


if __name__ == "__main__":
    unittest.main(verbosity=2)
