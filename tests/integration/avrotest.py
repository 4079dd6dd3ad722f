"""Shared by the Avro oracle tests: where brook's Avro driver programs are, and small
builders for schemas written as Python dicts."""
import os

BUILD = os.environ.get("BROOK_BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")


def driver(name):
    """The path of tests/avro/<name>.c built as a program."""
    return os.path.join(BUILD, name)


def rec(name, *fields, **extra):
    d = {"type": "record", "name": name, "fields": list(fields)}
    d.update(extra)
    return d


def fld(name, typ, **extra):
    d = {"name": name, "type": typ}
    d.update(extra)
    return d
