"""`brook cron next`: output lines, exit codes and --help, plus a differential check of
the DST rules against a brute-force reading of Python's zoneinfo."""
import datetime
import os
import subprocess
import unittest
from zoneinfo import ZoneInfo

BROOK = os.environ.get("BROOK_BIN", "build/brook")


def brook(*args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROOK_")}
    return subprocess.run([BROOK, *args], capture_output=True, text=True, env=env, timeout=60)


def lines(*args):
    p = brook("cron", "next", *args)
    if p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr}")
    return p.stdout.splitlines()


def brute_force(minutes, hours, start, zone, n):
    """Fire times of "M H * * *" after `start` by the documented rules, scanning every
    UTC minute with zoneinfo: a wall time fires at its first occurrence; a wall time in
    a gap fires shifted forward by the gap (fold=0); every-hour expressions fire in
    real time."""
    tz = ZoneInfo(zone)
    every_hour = hours == set(range(24))
    out, t = [], start + datetime.timedelta(minutes=1)
    seen = set()
    while len(out) < n:
        wall = t.astimezone(tz)
        if wall.minute in minutes and wall.hour in hours:
            key = wall.replace(tzinfo=None)
            if (every_hour or (key not in seen and wall.fold == 0)) and \
                    wall.isoformat() not in out:
                out.append(wall.isoformat())
            seen.add(key)
        elif not every_hour:
            # the gap: wall times skipped this minute fire now, shifted (fold=0 mapping)
            prev = (t - datetime.timedelta(minutes=1)).astimezone(tz)
            jump = (wall.replace(tzinfo=None) - prev.replace(tzinfo=None))
            if jump > datetime.timedelta(minutes=1):
                naive = prev.replace(tzinfo=None) + datetime.timedelta(minutes=1)
                while naive < wall.replace(tzinfo=None):
                    if naive.minute in minutes and naive.hour in hours:
                        u = naive.replace(tzinfo=tz, fold=0).astimezone(datetime.timezone.utc)
                        if u.astimezone(tz).isoformat() not in out:
                            out.append(u.astimezone(tz).isoformat())
                    naive += datetime.timedelta(minutes=1)
                out.sort()
        t += datetime.timedelta(minutes=1)
    return out[:n]


class TestCronNext(unittest.TestCase):
    def test_utc_default_count(self):
        out = lines("*/15 * * * *", "--from", "2024-03-05T10:00:00Z")
        self.assertEqual(out, ["2024-03-05T10:15:00Z", "2024-03-05T10:30:00Z",
                               "2024-03-05T10:45:00Z", "2024-03-05T11:00:00Z",
                               "2024-03-05T11:15:00Z"])

    def test_count_and_offset_from(self):
        out = lines("0 0 * * *", "--from", "2024-03-05T23:30:00+01:00", "-n", "2")
        self.assertEqual(out, ["2024-03-06T00:00:00Z", "2024-03-07T00:00:00Z"])

    def test_tz_spring_forward(self):
        out = lines("0 2 * * *", "--from", "2024-03-09T12:00:00Z", "--tz",
                    "America/New_York", "-n", "2")
        self.assertEqual(out, ["2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"])

    def test_tz_fall_back_hourly(self):
        out = lines("0 * * * *", "--from", "2024-10-26T23:30:00Z", "--tz", "Europe/Berlin",
                    "--count", "3")
        self.assertEqual(out, ["2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00",
                               "2024-10-27T03:00:00+01:00"])

    def test_default_from_is_now(self):
        out = lines("@yearly", "-n", "1")
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertIn(out, ([f"{now.year + 1}-01-01T00:00:00Z"],
                            [f"{now.year + 2}-01-01T00:00:00Z"]))

    def test_differential_zoneinfo(self):
        cases = [("30 2 * * *", "2024-03-08T00:00:00+00:00", "America/New_York"),
                 ("0,30 1,2 * * *", "2024-11-02T12:00:00+00:00", "America/New_York"),
                 ("15 * * * *", "2024-03-30T20:00:00+00:00", "Europe/Berlin"),
                 ("15,45 2,3 * * *", "2024-03-09T12:00:00+00:00", "America/New_York"),
                 ("0,30 0,1,2,3 * * *", "2024-10-26T20:00:00+00:00", "Europe/Berlin"),
                 ("45 2 * * *", "2024-10-25T00:00:00+00:00", "Europe/Berlin"),
                 ("0 2 * * *", "2024-10-04T00:00:00+00:00", "Australia/Sydney"),
                 ("0 * * * *", "2024-04-06T12:00:00+00:00", "Australia/Sydney")]
        for expr, start, zone in cases:
            m, h = expr.split()[:2]
            minutes = {int(x) for x in m.split(",")}
            hours = set(range(24)) if h == "*" else {int(x) for x in h.split(",")}
            want = brute_force(minutes, hours, datetime.datetime.fromisoformat(start), zone, 6)
            self.assertEqual(len(want), 6)
            got = lines(expr, "--from", start, "--tz", zone, "-n", "6")
            self.assertEqual(got, want, f"{expr} from {start} in {zone}")

    def test_offsets_match_zoneinfo(self):
        # brook reads TZif files itself: its offsets must agree with zoneinfo's, both in
        # the explicit transitions and in years generated from the footer rule.
        zones = ("Europe/Berlin", "America/New_York", "Europe/Dublin", "Australia/Sydney",
                 "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham",
                 "Africa/Casablanca", "Asia/Kathmandu", "America/St_Johns")
        for zone in zones:
            tz = ZoneInfo(zone)
            for start in ("2024-01-01T00:00:00Z", "2041-01-01T00:00:00Z"):
                out = lines("0 */6 * * *", "--from", start, "--tz", zone, "-n", "1500")
                self.assertEqual(len(out), 1500)
                for line in out:
                    t = datetime.datetime.fromisoformat(line)
                    self.assertEqual(line, t.astimezone(tz).isoformat(), zone)
                    self.assertIn(t.astimezone(tz).hour, (0, 1, 6, 7, 12, 13, 18, 19), line)

    def test_bad_expression_exit_2(self):
        p = brook("cron", "next", "61 * * * *")
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn("minute field: 61 is out of range 0-59 in '61 * * * *'", p.stderr)

    def test_bad_options_exit_2(self):
        for args in (["0 * * * *", "--tz", "Mars/Olympus_Mons"],
                     ["0 * * * *", "--from", "yesterday"],
                     ["0 * * * *", "-n", "0"],
                     ["0 * * * *", "-n", "x"]):
            p = brook("cron", "next", *args)
            self.assertEqual(p.returncode, 2, args)
            self.assertEqual(p.stdout, "")
            self.assertTrue(p.stderr.strip(), args)
        p = brook("cron", "later", "0 * * * *")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown subcommand 'later'", p.stderr)
        self.assertEqual(brook("cron", "next").returncode, 2)

    def test_impossible_exit_1(self):
        p = brook("cron", "next", "0 0 30 2 *", "--from", "2024-01-01T00:00:00Z")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn("never fires within 8 years", p.stderr)

    def test_once_and_none_print_nothing(self):
        for expr in ("@once", "none"):
            p = brook("cron", "next", expr)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(p.stdout, "")
            self.assertIn("no recurring fire time", p.stderr)

    def test_help(self):
        p = brook("cron", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: brook cron next EXPR", p.stdout)
        for opt in ("--from", "--tz", "-n"):
            self.assertIn(opt, p.stdout)
        p = brook("--help")
        self.assertRegex(p.stdout, r"\n  cron +\S")


if __name__ == "__main__":
    unittest.main(verbosity=2)
