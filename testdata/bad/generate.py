#!/usr/bin/env python3
"""Writes the bad-input corpus in this directory (see README.md).

Deterministic: run it again and nothing changes. Needs `wasm-tools` (the
PyPI package scripts/test.sh installs) for the files written as WAT.
"""
import pathlib
import random
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HEADER = b"\0asm\x0d\x00\x01\x00"


def leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def section(ident, payload):
    return bytes([ident]) + leb(len(payload)) + payload


def wat(text):
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "in.wat"
        out = pathlib.Path(tmp) / "out.wasm"
        src.write_text(text)
        subprocess.run(["wasm-tools", "parse", str(src), "-o", str(out)], check=True)
        return out.read_bytes()


def write(name, data):
    assert len(data) < 200_000, name
    (HERE / name).write_bytes(data)


write("empty.wasm", b"")
write("random.wasm", bytes(random.Random(1).randrange(256) for _ in range(512)))
root = wat((ROOT / "testdata/roots/meet.wat").read_text())
write("truncated.wasm", root[: len(root) // 2])
write("core-module.wasm", wat('(module (func (export "f")))'))
write("not-wasm.wasm", b"#!/bin/sh\necho this is not wasm\n")
# A custom section that says it is 4 GiB long.
write("oversized-section.wasm", HEADER + b"\x00\xff\xff\xff\xff\x0f\x04name")
# An import section that says it holds 2^32 - 1 entries.
write("huge-count.wasm", HEADER + section(0x0A, b"\xff\xff\xff\xff\x0f"))

# 500 nested components; the innermost imports type 5, which does not exist.
inner = HEADER + section(0x0A, b"\x01\x00\x01a\x05\x05")
for _ in range(500):
    inner = HEADER + section(0x04, inner)
write("deep-nesting.wasm", inner)


def importing(reference, name="dep"):
    return wat(
        f'(component (import "{name}" (external-id "{reference}") (instance)))'
    )


write("traversal-dep.wasm", importing("unlocked-dep=<../..:etc@*>"))
write("control-chars.wasm", importing("unlocked-dep=<test:add\\1b[2J\\07@*>"))
write("huge-version.wasm", importing("unlocked-dep=<test:add@{>=99999999999999999999.0.0}>"))
# Metadata that would name a file outside the registry, and a version with
# numbers past u64.


def metadata(name, version):
    encoded = leb(len(name)) + name
    names = b"\x00" + leb(len(encoded)) + encoded
    return (
        HEADER
        + section(0x00, leb(14) + b"component-name" + names)
        + section(0x00, leb(7) + b"version" + version)
    )


write("traversal-name.wasm", metadata(b"../../../etc/passwd", b"1.0.0"))
write("huge-metadata-version.wasm", metadata(b"test:big", b"1.0.99999999999999999999"))
