#!/usr/bin/env python3
"""
test_avro_oracle.py — brook's Avro schema compatibility checker against python3-avro.

For a matrix of (reader, writer) schema pairs, the verdict of brook's avro_can_read()
(through the tests/avro/avro_check driver) must equal python3-avro's
avro.compatibility.ReaderWriterCompatibilityChecker. Also: every schema's Parsing
Canonical Form equals python3-avro's (except where python3-avro is known to deviate from
the specification), and brook's fingerprint equals CRC-64-AVRO of that form computed here
from the specification's algorithm. Passes with a message when python3-avro is absent.

Known, deliberate difference (not in the matrix, covered by tests/unit/test_avro_compat.c):
python3-avro matches named types by full name, brook like Avro Java (Confluent) by
unqualified name.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avrotest  # noqa: E402

try:
    import avro.schema
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
except ImportError:
    print("SKIP: python3-avro (avro.compatibility) is not installed")
    sys.exit(0)

DRIVER = avrotest.driver("avro_check")
rec = avrotest.rec
fld = avrotest.fld


def enum(name, symbols, **extra):
    d = {"type": "enum", "name": name, "symbols": symbols}
    d.update(extra)
    return d


def fixed(name, size):
    return {"type": "fixed", "name": name, "size": size}


V1 = rec("User", fld("id", "long"), fld("name", "string"))
LINKED = rec("Node", fld("value", "int"), fld("next", ["null", "Node"], default=None))
LINKED_LONG = rec("Node", fld("value", "long"), fld("next", ["null", "Node"], default=None))
LINKED_STR = rec("Node", fld("value", "string"), fld("next", ["null", "Node"], default=None))
TREE = rec("Tree", fld("v", "int"),
           fld("kids", {"type": "array", "items": "Tree"}, default=[]))
TREE2 = rec("Tree", fld("v", "int"), fld("kids", {"type": "array", "items": "Tree"}),
            fld("label", "string", default=""))

# (description, reader, writer)
CASES = [
    ("identical record", V1, V1),
    ("reader adds field with default", rec("User", fld("id", "long"), fld("name", "string"),
                                           fld("age", "int", default=0)), V1),
    ("reader adds field without default", rec("User", fld("id", "long"), fld("name", "string"),
                                              fld("age", "int")), V1),
    ("reader drops a field", rec("User", fld("id", "long")), V1),
    ("reader adds nullable field default null",
     rec("User", fld("id", "long"), fld("name", "string"),
         fld("email", ["null", "string"], default=None)), V1),
    ("field renamed with alias", rec("User", fld("id", "long"),
                                     fld("full", "string", aliases=["name"])), V1),
    ("field renamed without alias", rec("User", fld("id", "long"), fld("full", "string")), V1),
    ("int read as long", rec("R", fld("a", "long")), rec("R", fld("a", "int"))),
    ("long read as int", rec("R", fld("a", "int")), rec("R", fld("a", "long"))),
    ("int read as float", "float", "int"),
    ("long read as double", "double", "long"),
    ("float read as double", "double", "float"),
    ("double read as float", "float", "double"),
    ("string read as bytes", "bytes", "string"),
    ("bytes read as string", "string", "bytes"),
    ("boolean read as int", "int", "boolean"),
    ("null read as null", "null", "null"),
    ("enum same", enum("E", ["A", "B"]), enum("E", ["A", "B"])),
    ("enum reader has more symbols", enum("E", ["A", "B", "C"]), enum("E", ["A", "B"])),
    ("enum writer has more symbols", enum("E", ["A", "B"]), enum("E", ["A", "B", "C"])),
    ("enum writer has more symbols, reader default",
     enum("E", ["A", "B", "U"], default="U"), enum("E", ["A", "B", "C"])),
    ("enum name differs", enum("F", ["A"]), enum("E", ["A"])),
    ("enum renamed with alias", enum("F", ["A"], aliases=["E"]), enum("E", ["A"])),
    ("writer union, reader single type", "string", ["null", "string"]),
    ("writer single type, reader union", ["null", "string"], "string"),
    ("union grows", ["null", "string", "int"], ["null", "string"]),
    ("union shrinks", ["null", "string"], ["null", "string", "int"]),
    ("union branch promoted", ["null", "long"], ["null", "int"]),
    ("writer union all promotable", "double", ["int", "long", "float"]),
    ("reader union promotes writer", ["null", "double"], "int"),
    ("array items promoted", {"type": "array", "items": "long"},
     {"type": "array", "items": "int"}),
    ("array items narrowed", {"type": "array", "items": "int"},
     {"type": "array", "items": "long"}),
    ("map values same", {"type": "map", "values": "string"},
     {"type": "map", "values": "string"}),
    ("map values mismatch", {"type": "map", "values": "string"},
     {"type": "map", "values": "int"}),
    ("array vs map", {"type": "array", "items": "string"},
     {"type": "map", "values": "string"}),
    ("fixed same", fixed("F", 16), fixed("F", 16)),
    ("fixed size differs", fixed("F", 16), fixed("F", 8)),
    ("fixed name differs", fixed("G", 16), fixed("F", 16)),
    ("record renamed with alias", rec("Person", fld("id", "long"), fld("name", "string"),
                                      aliases=["User"]), V1),
    ("record renamed without alias", rec("Person", fld("id", "long"),
                                         fld("name", "string")), V1),
    ("recursive identical", LINKED, LINKED),
    ("recursive promoted", LINKED_LONG, LINKED),
    ("recursive incompatible", LINKED_STR, LINKED),
    ("recursive narrowed", LINKED, LINKED_LONG),
    ("recursive tree adds defaulted field", TREE2, TREE),
    ("recursive tree drops default", TREE, TREE2),
    ("nested record field type change",
     rec("O", fld("in", rec("I", fld("x", "int")))),
     rec("O", fld("in", rec("I", fld("x", "string"))))),
    ("nested record field added with default",
     rec("O", fld("in", rec("I", fld("x", "int"), fld("y", "int", default=1)))),
     rec("O", fld("in", rec("I", fld("x", "int"))))),
    ("record vs string", V1, "string"),
    ("namespaced records same", rec("a.b.User", fld("id", "long")),
     rec("a.b.User", fld("id", "long"))),
    ("union of records, writer adds branch",
     [rec("A", fld("x", "int")), rec("B", fld("y", "int"))],
     [rec("A", fld("x", "int")), rec("B", fld("y", "int")), rec("C", fld("z", "int"))]),
    ("enum in union with default",
     ["null", enum("E", ["A", "B", "U"], default="U")], ["null", enum("E", ["A", "Z"])]),
    ("namespace inherited by nested types and references",
     rec("U", fld("a", enum("E", ["A", "B"])), fld("b", "E"), namespace="com.x"),
     rec("U", fld("a", enum("E", ["A"])), fld("b", "com.x.E"), namespace="com.x")),
    ("namespace inherited, writer enum grows",
     rec("U", fld("a", enum("E", ["A"])), fld("b", "E"), namespace="com.x"),
     rec("U", fld("a", enum("E", ["A", "B"])), fld("b", "E"), namespace="com.x")),
    ("record read through a union of records by name",
     ["null", rec("A", fld("x", "long")), rec("B", fld("x", "string"))],
     rec("B", fld("x", "bytes"))),
    ("reader field alias and promotion",
     rec("R", fld("total", "double", aliases=["sum"])), rec("R", fld("sum", "int"))),
    ("reader field with default of a record type",
     rec("R", fld("p", rec("P", fld("x", "int")), default={"x": 1})), rec("R")),
    ("logical types ignored", {"type": "long", "logicalType": "timestamp-millis"},
     {"type": "int", "logicalType": "date"}),
]


def crc64_avro(data):
    empty = 0xc15d213aa4d7a795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp & 0xffffffffffffffff)
    fp = empty
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xff]
    return fp


def run(*args):
    out = subprocess.run([DRIVER, *args], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"avro_check {args} exited {out.returncode}: {out.stderr}")
    return out.stdout


def python_pcf(schema_text):
    return avro.schema.parse(schema_text).canonical_form


def main():
    if not os.path.exists(DRIVER):
        print(f"FAIL: {DRIVER} not built (cmake --build BUILD --target avro_check)")
        return 1
    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}

        def path_of(schema):
            text = json.dumps(schema)
            if text not in paths:
                p = os.path.join(tmp, f"s{len(paths)}.avsc")
                with open(p, "w") as f:
                    f.write(text)
                paths[text] = p
            return paths[text]

        for desc, reader, writer in CASES:
            rp, wp = path_of(reader), path_of(writer)
            checker = ReaderWriterCompatibilityChecker()
            res = checker.get_compatibility(avro.schema.parse(json.dumps(reader)),
                                            avro.schema.parse(json.dumps(writer)))
            want = res.compatibility is SchemaCompatibilityType.compatible
            out = run("compat", rp, wp)
            first = out.splitlines()[0] if out else ""
            if first not in ("compatible", "incompatible"):
                failures.append(f"{desc}: brook said {out.strip()!r}")
                continue
            got = first == "compatible"
            checked += 1
            if got != want:
                failures.append(f"{desc}: brook {first}, python3-avro "
                                f"{res.compatibility.value} {sorted(res.messages)}; "
                                f"brook reasons: {out.strip()}")
            elif not got and len(out.splitlines()) < 2:
                failures.append(f"{desc}: incompatible without a reason")

        # Canonical forms and fingerprints of every schema in the matrix.
        for text, p in paths.items():
            pcf = run("canonical", p).strip()
            want = python_pcf(text)
            # python3-avro 1.11 keeps {"type":"bytes"} for annotated primitives; the
            # specification says a primitive's canonical form is its name.
            if pcf != want and '"logicalType"' not in text:
                failures.append(f"canonical form of {text}: brook {pcf}, python3-avro {want}")
            fp = run("fingerprint", p).strip()
            if int(fp, 16) != crc64_avro(pcf.encode()):
                failures.append(f"fingerprint of {pcf}: brook {fp}")
            # The normalized JSON parses back (in python3-avro too) to the same form.
            js = run("json", p).strip()
            if python_pcf(js) != python_pcf(text):
                failures.append(f"to_json of {text} changed the schema: {js}")

    for f in failures:
        print("FAIL:", f)
    print(f"{checked} pairs compared with python3-avro, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
