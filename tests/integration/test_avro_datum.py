#!/usr/bin/env python3
"""
test_avro_datum.py — brook's Avro binary codec (src/avro/datum.c, through the
tests/avro/avro_datum driver) against python3-avro.

For a table of schemas and values:
  - brook's encoding equals python3-avro's (DatumWriter + BinaryEncoder) byte for byte,
    python3-avro decodes it to the value, and brook decodes python3-avro's bytes to it;
  - resolution: bytes written with a writer schema and read with a reader schema give
    the same value in brook's resolving decoder and python3-avro's DatumReader(writer,
    reader), and both refuse the same unreadable cases.
Values use brook's JSON mapping (bytes/fixed as code points 0-255), converted to Python
bytes for python3-avro. Passes with a message when python3-avro is absent.
"""
import io
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avrotest  # noqa: E402

try:
    import avro.io
    import avro.schema
except ImportError:
    print("SKIP: python3-avro (avro.io) is not installed")
    sys.exit(0)

DRIVER = avrotest.driver("avro_datum")
rec = avrotest.rec
fld = avrotest.fld


ENUM = {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "DIAMONDS"]}
MD5 = {"type": "fixed", "name": "MD5", "size": 4}
LIST = rec("LongList", fld("value", "long"), fld("next", ["null", "LongList"]))
ALL = rec("All",
          fld("n", "null"), fld("b", "boolean"), fld("i", "int"), fld("l", "long"),
          fld("f", "float"), fld("d", "double"), fld("s", "string"), fld("y", "bytes"),
          fld("e", ENUM), fld("x", MD5), fld("a", {"type": "array", "items": "int"}),
          fld("m", {"type": "map", "values": "string"}),
          fld("u", ["null", "long", "string"]))

# (schema, [values])
CASES = [
    ("null", [None]),
    ("boolean", [True, False]),
    ("int", [0, 1, -1, 63, 64, -65, 2**31 - 1, -2**31]),
    ("long", [0, 1, -1, 64, 2**63 - 1, -2**63, 123456789012]),
    ("float", [0.0, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45]),
    ("double", [0.0, 0.1, -1e300, 5e-324]),
    ("string", ["", "foo", "héllo wörld ✓ 𝄞", "a\u0000b"]),
    ("bytes", ["", "\u0000\u00ff\u0080abc"]),
    (ENUM, ["SPADES", "DIAMONDS"]),
    (MD5, ["\u0001\u0002\u00fe\u00ff"]),
    ({"type": "array", "items": "long"}, [[], [1, -2, 300]]),
    ({"type": "map", "values": "int"}, [{}, {"a": 1, "bé": -7}]),
    ({"type": "array", "items": {"type": "map", "values": ["null", "double"]}},
     [[{"x": None, "y": 2.5}, {}]]),
    (["null", "string"], [None, "x"]),
    (["null", "long", "string", "boolean"], [None, 5, "five", False]),
    (["null", ENUM, {"type": "array", "items": "string"}], ["HEARTS", ["p", "q"], None]),
    (LIST, [{"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}]),
    (rec("Tree", fld("v", "int"), fld("kids", {"type": "array", "items": "Tree"})),
     [{"v": 1, "kids": [{"v": 2, "kids": []}, {"v": 3, "kids": [{"v": 4, "kids": []}]}]}]),
    (ALL, [{"n": None, "b": True, "i": -5, "l": 1 << 40, "f": 0.5, "d": 2.75, "s": "str",
            "y": "\u00ff\u0000", "e": "HEARTS", "x": "abcd", "a": [1, 2, 3],
            "m": {"k": "v"}, "u": 7}]),
    (rec("Outer", fld("inner", rec("Inner", fld("id", "long"), fld("tag", ["null", "string"]))),
         fld("again", "Inner")),
     [{"inner": {"id": 1, "tag": "t"}, "again": {"id": 2, "tag": None}}]),
    (rec("com.x.Ns", fld("e", {"type": "enum", "name": "E", "symbols": ["A", "B"]}),
         fld("e2", "com.x.E")), [{"e": "B", "e2": "A"}]),
    ({"type": "record", "name": "Dec", "fields": [
        fld("amount", {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2})]},
     None),  # logical types are not part of this table (python3-avro converts them)
]

V1 = rec("User", fld("id", "long"), fld("name", "string"))
# (writer, reader, value written with writer[, brook's result]) — python3-avro's
# DatumReader is the truth, except where a 4th item gives the specification's answer:
# python3-avro 1.11 refuses string<->bytes promotion, promotions inside arrays and maps,
# a writer union against a non-union reader, enum defaults and field aliases.
RESOLVE = [
    ("int", "long", 7), ("int", "float", -3), ("int", "double", 1 << 20),
    ("long", "double", 1 << 40), ("long", "float", 5), ("float", "double", 1.5),
    ("string", "bytes", "é", "Ã©"), ("bytes", "string", "abc", "abc"),
    ("int", "string", 1),  # unreadable
    (V1, rec("User", fld("id", "long"), fld("name", "string"),
             fld("email", ["null", "string"], default=None),
             fld("age", "int", default=18), fld("score", "double", default=1.0),
             fld("tags", {"type": "array", "items": "string"}, default=["a"])),
     {"id": 1, "name": "n"}),
    (V1, rec("User", fld("name", "string")), {"id": 1, "name": "n"}),
    (V1, rec("User", fld("id", "long"), fld("name", "string"), fld("x", "int")),
     {"id": 1, "name": "n"}),  # unreadable: no default
    (V1, rec("User", fld("id", "double"), fld("name", "bytes")), {"id": 3, "name": "é"},
     {"id": 3.0, "name": "Ã©"}),
    ({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]},
     {"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "A"}, "C", "A"),
    ({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]},
     {"type": "enum", "name": "E", "symbols": ["B", "C"]}, "B"),
    ({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]},
     {"type": "enum", "name": "E", "symbols": ["B", "C"]}, "A"),  # unreadable
    ("int", ["null", "long"], 9), ("string", ["null", "int", "string"], "s"),
    (["null", "int"], "long", 4, 4), (["null", "int"], ["null", "double", "string"], 4),
    (["null", "int"], ["null", "double"], None),
    (["null", "string"], "string", None),  # unreadable branch
    ({"type": "array", "items": "int"}, {"type": "array", "items": "long"}, [1, 2], [1, 2]),
    ({"type": "map", "values": "float"}, {"type": "map", "values": "double"}, {"a": 1.5},
     {"a": 1.5}),
    (rec("Node", fld("v", "int"), fld("next", ["null", "Node"])),
     rec("Node", fld("v", "long"), fld("next", ["null", "Node"]),
         fld("w", "string", default="d")),
     {"v": 1, "next": {"v": 2, "next": None}}),
    (rec("A", fld("f", "int")), rec("B", fld("f", "int")), {"f": 1}),  # name mismatch
    ({"type": "fixed", "name": "F", "size": 2}, {"type": "fixed", "name": "F", "size": 2},
     "\u0001\u0002"),
    (rec("R", fld("old", "int")), rec("R", fld("new", "int", aliases=["old"])), {"old": 5},
     {"new": 5}),
]


def to_py(schema, v):
    """brook's JSON mapping -> python3-avro datum (bytes/fixed as bytes)."""
    t = schema.type
    if t in ("bytes", "fixed"):
        return v.encode("latin-1")
    if t == "record":
        return {f.name: to_py(f.type, v[f.name]) for f in schema.fields}
    if t == "array":
        return [to_py(schema.items, x) for x in v]
    if t == "map":
        return {k: to_py(schema.values, x) for k, x in v.items()}
    if t == "union":
        for b in schema.schemas:
            try:
                d = to_py(b, v)
            except Exception:
                continue
            if avro.io.validate(b, d):
                return d
        raise ValueError(f"no branch for {v!r}")
    if t in ("float", "double") and isinstance(v, int):
        return float(v)
    return v


def from_py(v):
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, dict):
        return {k: from_py(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_py(x) for x in v]
    return v


def py_encode(schema, datum):
    bio = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(bio))
    return bio.getvalue()


def py_decode(writer, reader, data):
    bio = io.BytesIO(data)
    v = avro.io.DatumReader(writer, reader).read(avro.io.BinaryDecoder(bio))
    if bio.tell() != len(data):
        raise ValueError("trailing bytes")
    return from_py(v)


def run(*args):
    p = subprocess.run([DRIVER, *args], capture_output=True, text=True, timeout=30)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"avro_datum {args}: exit {p.returncode}: {p.stderr}")
    out = p.stdout.strip()
    return (p.returncode == 0, out)


def main():
    if not os.path.exists(DRIVER):
        print(f"FAIL: driver {DRIVER} not built")
        return 1
    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        n = 0

        def write(obj):
            nonlocal n
            n += 1
            p = os.path.join(tmp, f"f{n}.json")
            with open(p, "w") as f:
                json.dump(obj, f)
            return p

        for schema_json, values in CASES:
            if values is None:
                continue
            sp = write(schema_json)
            schema = avro.schema.parse(json.dumps(schema_json))
            for v in values:
                checked += 1
                desc = f"{json.dumps(schema_json)[:60]} value {v!r}"[:160]
                want = py_encode(schema, to_py(schema, v)).hex()
                ok, got = run("encode", sp, write(v))
                if not ok or got != want:
                    failures.append(f"{desc}: brook encodes {got}, python3-avro {want}")
                    continue
                back = py_decode(schema, schema, bytes.fromhex(got))
                if back != v:
                    failures.append(f"{desc}: python3-avro decodes brook's bytes to {back!r}")
                ok, out = run("decode", sp, want)
                if not ok or json.loads(out) != v:
                    failures.append(f"{desc}: brook decodes python3-avro's bytes to {out}")

        for w_json, r_json, v, *spec in RESOLVE:
            checked += 1
            desc = f"{json.dumps(w_json)[:50]} -> {json.dumps(r_json)[:50]} value {v!r}"
            w = avro.schema.parse(json.dumps(w_json))
            r = avro.schema.parse(json.dumps(r_json))
            data = py_encode(w, to_py(w, v))
            try:
                want = py_decode(w, r, data)
                want_ok = True
            except Exception as e:  # python3-avro refuses: so must brook
                want, want_ok = repr(e), False
            ok, out = run("resolve", write(w_json), write(r_json), data.hex())
            if spec:
                if not ok or json.loads(out) != spec[0]:
                    failures.append(f"{desc}: brook {out}, the specification {spec[0]!r}")
                if want_ok:
                    print(f"note: python3-avro now resolves {desc} to {want!r}")
            elif ok != want_ok or (ok and json.loads(out) != want):
                failures.append(f"{desc}: brook {out}, python3-avro {want}")

    for f in failures:
        print("FAIL:", f)
    print(f"{checked} datums compared with python3-avro, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
